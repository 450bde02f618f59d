//! Font coverage of a scene: which characters it may draw that no font of its chain has (for
//! `farm check`).

use crate::render::font::Fonts;
use crate::render::scenes::SceneConfig;
use crate::render::spec::SceneSpec;
use std::collections::BTreeMap;

/// The character sources of a scene: (palette, particle set or `text`, characters), for every
/// palette and particle set the scene draws (also inside nested layers, with the defaults it
/// falls back to) and its text.
pub fn sources(spec: &SceneSpec) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut add = |name: &str, chars: &str| {
        out.entry(name.to_string())
            .or_insert_with(|| chars.to_string());
    };
    let mut texts = Vec::new();
    match &spec.config {
        SceneConfig::Plasma(p) => {
            add(p.palette.name(), p.palette.chars());
            add(p.palette2.name(), p.palette2.chars());
        }
        SceneConfig::Quote(q) => {
            if q.background {
                add(q.palette.name(), q.palette.chars());
            }
        }
        SceneConfig::Spectrum(s) => add(s.palette.name(), s.palette.chars()),
        SceneConfig::Scope(s) => add(s.palette.name(), s.palette.chars()),
        SceneConfig::Layers(l) => {
            for (i, layer) in l.layers.iter().enumerate() {
                let pal = match (i, l.palette) {
                    (0, Some(p)) => p,
                    _ => layer.palette,
                };
                add(pal.name(), pal.chars());
            }
            if let Some(r) = &l.rain {
                add(r.chars.name(), r.chars.chars());
            }
            if let Some(f) = &l.fire {
                add(f.palette.name(), f.palette.chars());
            }
            for p in &l.particles {
                add(p.chars().name(), p.chars().chars());
                add(p.trail_chars().name(), p.trail_chars().chars());
            }
            for t in &l.text {
                if let Some(c) = &t.content {
                    texts.push(c.clone());
                }
            }
        }
    }
    texts.extend(spec.text.clone());
    if !texts.is_empty() {
        out.insert("text".to_string(), texts.concat());
    }
    out
}

/// Every character the scene may draw that no font of its chain has (user fonts, DejaVu Sans
/// Mono, GNU Unifont), with the palettes (or `text`) that use it, sorted by code point (see
/// [`sources`]). `Err` if a user font cannot be loaded.
pub fn missing_glyphs(spec: &SceneSpec) -> Result<Vec<(char, Vec<String>)>, String> {
    let fonts = Fonts::with_user_fonts(&spec.fonts)?;
    let mut missing: BTreeMap<char, Vec<String>> = BTreeMap::new();
    for (name, chars) in &sources(spec) {
        for c in chars.chars() {
            if !fonts.has(c) {
                let users = missing.entry(c).or_default();
                if !users.contains(name) {
                    users.push(name.clone());
                }
            }
        }
    }
    Ok(missing.into_iter().collect())
}
