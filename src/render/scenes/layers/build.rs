//! Building the `layers` scene from its [`LayersSpec`]: grids and glyph atlases, fields, masks,
//! colour styles, blend tables, particle systems, text layout, tonemap, feedback maps and
//! transitions, each seeded from the renderer's seed.

use super::comp::Comp;
use super::uv::Uv;
use super::{Cells, FieldLayer, Layers};
use crate::render::blend::{BlendMode, CompSpec};
use crate::render::effects::{Fire, Rain};
use crate::render::fastmath::hash2;
use crate::render::font::{BLANK, Fonts, GlyphId};
use crate::render::frame::FrameSpec;
use crate::render::grid::{Grid, GridKey};
use crate::render::mask::Mask;
use crate::render::palette::CharSet;
use crate::render::particles::Particles;
use crate::render::post::{Feedback, Tonemap, Transition};
use crate::render::rng::combine;
use crate::render::scenes::layers::spec::LayersSpec;
use crate::render::text::TextLayer;
use std::sync::Arc;

/// The glyphs of a character set on `grid`, without space and glyphs no font has.
fn chars_ids(grid: &mut Grid, chars: CharSet) -> Vec<GlyphId> {
    chars
        .chars()
        .chars()
        .filter(|&c| c != ' ')
        .map(|c| grid.atlas.id(c))
        .filter(|&g| g != BLANK)
        .collect()
}

fn comp_of(c: &CompSpec) -> Comp {
    Comp::new(c.blend, c.opacity as f32, false)
}

impl Layers {
    /// Builds the scene of `spec` for `frame`. `text` is the segment's text (the default content
    /// of text layers), `frames` the clip's length (0 when unknown), `seed` the renderer's seed.
    pub fn new(
        frame: &FrameSpec,
        spec: &LayersSpec,
        text: Option<&str>,
        fonts: Arc<Fonts>,
        frames: u32,
        seed: u64,
    ) -> Layers {
        let (w, h) = (frame.width as usize, frame.height as usize);
        let grid = |key: GridKey| Grid::with_fonts(key.px(), frame.grid_scale, w, h, fonts.clone());
        let hue_shift = spec.hue as f32;
        let gspeed = spec.speed as f32;
        let sub_seed = |k: u64| combine(seed, k);
        let mut layers = Vec::new();
        for (i, lp) in spec.layers.iter().enumerate() {
            let mut g = grid(lp.grid);
            let pal = if i == 0 {
                spec.palette.unwrap_or(lp.palette)
            } else {
                lp.palette
            };
            let mut ids = g.atlas.ids(pal.chars());
            if ids.is_empty() {
                ids.push(BLANK);
            }
            ids[0] = BLANK;
            let s = sub_seed(100 + i as u64);
            let field = lp.field.build(s as u32);
            let texture = lp.texture.then(|| {
                let lit: Vec<GlyphId> = ids.iter().copied().filter(|&g| g != BLANK).collect();
                (0..g.cells())
                    .map(|c| {
                        if lit.is_empty() {
                            BLANK
                        } else {
                            lit[(hash2(c as i32, 5, s as u32) as usize) % lit.len()]
                        }
                    })
                    .collect()
            });
            let mode = lp.blend.unwrap_or(if i == 0 {
                BlendMode::Normal
            } else {
                BlendMode::Screen
            });
            let comp = Comp::new(mode, lp.opacity as f32, lp.linear);
            let n = g.cells();
            layers.push(FieldLayer {
                field,
                palette: ids,
                texture,
                color: lp.color.style(hue_shift),
                comp,
                speed: lp.speed as f32 * gspeed,
                offset: lp.offset as f32,
                threshold: lp.threshold as f32,
                gamma: lp.gamma as f32,
                contrast: lp.contrast as f32,
                uv: lp.uv.as_ref().map(Uv::new),
                uv_spec: lp.uv,
                uv_done: false,
                mask: lp.mask.as_ref().map(|m| Mask::new(m, s as u32 ^ 0x55)),
                window: (lp.start as f32, lp.end as f32, lp.fade as f32),
                vals: vec![0.0; n],
                mvals: vec![0.0; n],
                cx: vec![0.0; n],
                cy: vec![0.0; n],
                cr: vec![0.0; n],
                ca: vec![0.0; n],
                glyphs: vec![BLANK; n],
                colours: vec![[0; 3]; n],
                grid: g,
            });
        }
        let rain = spec.rain.as_ref().map(|r| {
            let mut g = grid(r.grid);
            let glyphs = chars_ids(&mut g, r.chars);
            (
                Rain {
                    glyphs,
                    hue: (r.hue as f32 + hue_shift).rem_euclid(1.0),
                    speed: r.speed as f32 * gspeed,
                    density: r.density as f32,
                    seed: sub_seed(7) as u32,
                },
                Cells::new(g, comp_of(&r.comp)),
            )
        });
        let fire = spec.fire.as_ref().map(|f| {
            let mut g = grid(f.grid);
            let mut glyphs = g.atlas.ids(f.palette.chars());
            glyphs[0] = BLANK;
            (
                Fire {
                    glyphs,
                    hue: (f.hue() as f32 + hue_shift).rem_euclid(1.0),
                    speed: f.speed as f32 * gspeed,
                    height: f.height as f32,
                    seed: sub_seed(8) as u32,
                },
                Cells::new(g, comp_of(&f.comp)),
            )
        });
        let cap = frame.particles_max.max(1) as usize;
        let particles = spec
            .particles
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let mut g = grid(m.grid);
                let glyphs = chars_ids(&mut g, m.chars());
                let trail_glyphs = chars_ids(&mut g, m.trail_chars());
                let mut ps = Particles::new(m.system, glyphs, cap, sub_seed(200 + i as u64));
                ps.set_trail_glyphs(trail_glyphs);
                m.write_into(&mut ps, gspeed, hue_shift);
                (ps, Cells::new(g, comp_of(&m.comp)))
            })
            .collect::<Vec<_>>();
        let clip_secs = if frames > 0 {
            frames as f32 / frame.fps.max(1) as f32
        } else {
            0.0
        };
        let texts = spec
            .text
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                let content = match &m.content {
                    Some(s) => s.as_str(),
                    None => text?,
                };
                let g = grid(m.grid);
                Some((i, TextLayer::new(g, content, &m.style(clip_secs), w, h)))
            })
            .collect();
        let tonemap = spec
            .tonemap
            .then(|| Tonemap::new(spec.gamma as f32, spec.tint.rgb()));
        let feedback = spec
            .feedback
            .as_ref()
            .map(|f| Feedback::new(w, h, &f.values()));
        let none = (Transition::None, 0.0);
        let (trans_in, trans_out) = spec.transition.map_or((none, none), |t| t.styles());
        let stateful = !particles.is_empty()
            || feedback.is_some()
            || layers
                .iter()
                .any(|l| l.field.is_stateful() || l.mask.as_ref().is_some_and(|m| m.is_stateful()));
        let needs_scratch = layers.iter().any(|l| !l.comp.lut.fusable)
            || rain.as_ref().is_some_and(|r| !r.1.comp.lut.fusable)
            || fire.as_ref().is_some_and(|r| !r.1.comp.lut.fusable)
            || particles.iter().any(|p| !p.1.comp.lut.fusable);
        Layers {
            width: w,
            height: h,
            fps: frame.fps.max(1),
            frames,
            layers,
            rain,
            fire,
            particles,
            texts,
            tonemap,
            feedback,
            trans_in,
            trans_out,
            scratch: if needs_scratch {
                vec![0; w * h * 3]
            } else {
                Vec::new()
            },
            pat: Vec::new(),
            next_frame: 0,
            stateful,
            dirty: super::Dirty::new(spec),
            spec: spec.clone(),
            clip_secs,
        }
    }
}
