//! The renderer: turns (frame geometry, scene spec, seed, frame index) into one rgb24 frame.
//!
//! `render` knows nothing of processes, plans or terminals. Its inputs are plain data
//! ([`FrameSpec`], [`SceneSpec`]) that the plan module builds and the worker receives over IPC;
//! its output is a `width * height * 3` byte buffer.
//!
//! INTERFACE CONTRACT (used by plan, worker and coordinator; keep these signatures):
//! - [`validate`]: checks a scene spec (scene name, params, shaders, text) without rendering.
//! - [`Renderer::new`] / [`Renderer::render_frame`]: one renderer per clip.
//! - [`builtin_scenes`], [`shader_names`]: the vocabulary, for error messages and `farm check`.
//!
//! Module map (one job each): [`rng`] seeds and PRNG; [`font`] embedded font and glyph atlases;
//! [`grid`] character grids and cached coordinates; [`color`] HSV; [`palette`] character palettes;
//! [`canvas`] integer blits; [`scenes`] the built-in scenes; [`shaders`] post-processing;
//! [`params`] the parameter vocabulary and validation. `docs/renderer.md` is the user reference.
//!
//! Determinism: the output of [`Renderer::render_frame`] depends only on the frame spec, scene spec,
//! seed and frame index, never on which frames were rendered before, on threads or on hash order.

#![warn(missing_docs)]

pub mod blend;
pub mod canvas;
pub mod color;
pub mod effects;
pub mod fastmath;
pub mod fields;
pub mod font;
pub mod grid;
pub mod mask;
pub mod palette;
pub mod params;
pub mod particles;
pub mod post;
pub mod rng;
pub mod scenes;
pub mod shaders;
pub mod text;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;

/// A parameter value from the plan (`params:` of a segment, or a shader's parameters).
///
/// Externally tagged on purpose: it crosses the IPC boundary, whose format is not self-describing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Param {
    /// A number (YAML integers and floats both land here).
    Num(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Text(String),
    /// A list of values.
    List(Vec<Param>),
    /// Named values (a nested mapping, e.g. one layer of a composed scene).
    Map(Params),
}

/// Named parameters, sorted by name so that hashing and iteration are stable.
pub type Params = BTreeMap<String, Param>;

/// How much post-processing a quality profile allows (the seed's "minimal / standard / full").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShaderLevel {
    /// Only the cheapest shaders run (see the render module docs for which).
    Minimal,
    /// Everything but the encoder-expensive ones.
    Standard,
    /// Every shader the scene asks for.
    Full,
}

/// Frame geometry and the profile knobs the renderer needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameSpec {
    /// Frame width in pixels (even, >= 16).
    pub width: u32,
    /// Frame height in pixels (even, >= 16).
    pub height: u32,
    /// Frames per second (scene time of frame `i` is `i / fps`).
    pub fps: u32,
    /// Grid scale of the quality profile (0.5 draft .. 2.0 max): multiplies grid pixel sizes.
    pub grid_scale: f32,
    /// Which shaders the profile allows.
    pub shader_level: ShaderLevel,
    /// Particle cap of the profile (used by later particle scenes).
    pub particles_max: u32,
}

/// One shader of a segment's chain, e.g. `bloom` with `{thr: 120}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShaderSpec {
    /// Shader name as the digest names it (`bloom`, `vignette`, `grain`, ...).
    pub name: String,
    /// Its parameters.
    pub params: Params,
}

/// What a segment asks the renderer to draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneSpec {
    /// Built-in scene name (`plasma`, `quote`). Preset files are resolved by the plan into this.
    pub scene: String,
    /// Scene parameters.
    pub params: Params,
    /// Optional text (the `quote` scene requires it).
    pub text: Option<String>,
    /// The shader chain, in order.
    pub shaders: Vec<ShaderSpec>,
    /// User font files (absolute paths, from the plan's `fonts:`), tried before the embedded
    /// fonts for every character.
    #[serde(default, with = "crate::path_bytes::vec")]
    pub fonts: Vec<std::path::PathBuf>,
    /// The clip's length in frames, for effects that depend on it (fade out, transitions).
    /// Set by the coordinator for each clip; 0 when unknown (validation, single test frames).
    #[serde(default)]
    pub frames: u32,
}

/// A problem with a scene spec, found before rendering.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecError {
    /// Where in the segment: `"scene"`, `"params.palette"`, `"shaders[1]"`, `"shaders[1].thr"`, `"text"`.
    pub key: String,
    /// What is wrong, in words a user can act on.
    pub message: String,
}

impl std::fmt::Display for SpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

impl std::error::Error for SpecError {}

/// Names of the built-in scenes.
pub fn builtin_scenes() -> &'static [&'static str] {
    &[
        "plasma",
        "quote",
        "layers",
        "rings",
        "tunnel",
        "fbm",
        "matrix-rain",
        "fire",
        "starfield",
        "particles",
        "ticker",
        "life",
        "voronoi",
    ]
}

/// Names of the shaders a scene's chain may use.
pub fn shader_names() -> &'static [&'static str] {
    shaders::names()
}

/// Names of the character palettes (`params.palette`).
pub fn palette_names() -> &'static [&'static str] {
    palette::PALETTE_NAMES
}

/// The parameter table of scene `scene`, if it is a built-in scene.
pub fn scene_params(scene: &str) -> Option<&'static [params::ParamSpec]> {
    match scene {
        "plasma" => Some(params::PLASMA_PARAMS),
        "quote" => Some(params::QUOTE_PARAMS),
        s if scenes::layers::COMPOSED_SCENES.contains(&s) => Some(params::LAYERS_PARAMS),
        _ => None,
    }
}

/// The parameter table of shader `shader`, if it is a known shader.
pub fn shader_params(shader: &str) -> Option<&'static [params::ParamSpec]> {
    shaders::params_of(shader)
}

/// Checks a scene spec without rendering: scene name, its params (names, types, ranges), shader
/// names and their params, and the text the `quote` scene requires. The error's `key` locates the
/// problem (`"scene"`, `"params.palette"`, `"shaders[1]"`, `"shaders[0].thr"`, `"text"`) and its
/// message lists the valid choices.
pub fn validate(spec: &SceneSpec) -> Result<(), SpecError> {
    let Some(table) = scene_params(&spec.scene) else {
        return Err(SpecError {
            key: "scene".to_string(),
            message: format!(
                "unknown scene {:?}; built-in scenes: {}",
                spec.scene,
                builtin_scenes().join(", ")
            ),
        });
    };
    params::validate_params(
        &spec.params,
        table,
        "params",
        &format!("scene {}", spec.scene),
    )?;
    let no_text = spec.text.as_deref().is_none_or(|t| t.trim().is_empty());
    if (spec.scene == "quote" || spec.scene == "ticker") && no_text {
        return Err(SpecError {
            key: "text".to_string(),
            message: format!("the {} scene needs a non-empty `text`", spec.scene),
        });
    }
    if spec.scene != "plasma" && spec.scene != "quote" && no_text {
        for (i, m) in params::get_maps(&spec.params, "text").iter().enumerate() {
            if !matches!(m.get("content"), Some(Param::Text(s)) if !s.trim().is_empty()) {
                return Err(SpecError {
                    key: format!("params.text[{i}].content"),
                    message: "a text layer needs `content` or the segment's `text`".to_string(),
                });
            }
        }
    }
    for (i, sh) in spec.shaders.iter().enumerate() {
        shaders::validate_shader(i, sh)?;
    }
    Ok(())
}

/// Every character the scene may draw that no font of its chain has (user fonts, DejaVu Sans
/// Mono, GNU Unifont), with the palettes (or `text`) that use it, sorted by code point. The
/// palettes considered are those the scene's params name (also inside nested layers), the
/// built-in scene's own, and the particle sets it uses. `Err` if a user font cannot be loaded.
pub fn missing_glyphs(spec: &SceneSpec) -> Result<Vec<(char, Vec<String>)>, String> {
    let fonts = font::Fonts::with_user_fonts(&spec.fonts)?;
    let mut sources: BTreeMap<String, String> = BTreeMap::new();
    fn walk(p: &Params, out: &mut BTreeMap<String, String>) {
        for (k, v) in p {
            match v {
                Param::Text(s) if k.starts_with("palette") || k == "chars" => {
                    if let Some(pal) = palette::palette(s).or_else(|| palette::particle_set(s)) {
                        out.insert(pal.name.to_string(), pal.chars.to_string());
                    }
                }
                Param::Text(s) if k == "content" => {
                    out.insert("text".to_string(), s.clone());
                }
                Param::Map(m) => walk(m, out),
                Param::List(items) => {
                    for it in items {
                        if let Param::Map(m) = it {
                            walk(m, out);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let params = match spec.scene.as_str() {
        "plasma" | "quote" => spec.params.clone(),
        name => scenes::layers::builtin_config(name, &spec.params),
    };
    walk(&params, &mut sources);
    let defaults: &[&str] = match spec.scene.as_str() {
        "plasma" => &["default", "dense"],
        "quote" => &["dense"],
        _ => &[],
    };
    for d in defaults {
        if let Some(p) = palette::palette(d) {
            sources
                .entry(p.name.to_string())
                .or_insert(p.chars.to_string());
        }
    }
    if let Some(t) = &spec.text {
        let e = sources.entry("text".to_string()).or_default();
        e.push_str(t);
    }
    let mut missing: BTreeMap<char, Vec<String>> = BTreeMap::new();
    for (name, chars) in &sources {
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

/// Cumulative time spent per stage by one [`Renderer`], in nanoseconds.
///
/// `fields`: value fields, characters and colours (per cell). `blit`: clearing the frame and
/// drawing the base layer's glyphs (and text rows). `blend`: drawing upper layers' glyphs fused
/// with their screen blend (see `canvas`). `shaders`: the shader chain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageTimings {
    /// Frames rendered.
    pub frames: u64,
    /// Value fields, characters and colours.
    pub fields_ns: u64,
    /// Frame clear and base-layer glyph blits.
    pub blit_ns: u64,
    /// Upper-layer glyph blits fused with the screen blend.
    pub blend_ns: u64,
    /// The shader chain.
    pub shaders_ns: u64,
}

impl StageTimings {
    /// Total nanoseconds over all stages.
    pub fn total_ns(&self) -> u64 {
        self.fields_ns + self.blit_ns + self.blend_ns + self.shaders_ns
    }
}

#[derive(Debug, Clone)]
enum Scene {
    Plasma(Box<scenes::plasma::Plasma>),
    Quote(Box<scenes::quote::Quote>),
    Layers(Box<scenes::layers::Layers>),
}

/// Renders the frames of one clip. Build one per clip (construction rasterizes glyphs and caches
/// grids, so it costs a few milliseconds), then call [`Renderer::render_frame`] per frame.
#[derive(Debug, Clone)]
pub struct Renderer {
    width: usize,
    height: usize,
    fps: u32,
    scene: Scene,
    chain: shaders::ShaderChain,
    timings: StageTimings,
}

impl Renderer {
    /// Validates `scene` (see [`validate`]) and the frame geometry, then builds grids, glyph atlases
    /// and shader caches. `seed` drives every random choice (today: grain noise).
    pub fn new(frame: &FrameSpec, scene: &SceneSpec, seed: u64) -> Result<Renderer, String> {
        validate(scene).map_err(|e| e.to_string())?;
        if frame.width == 0 || frame.height == 0 {
            return Err(format!(
                "frame size {}x{} is empty",
                frame.width, frame.height
            ));
        }
        if frame.width > 16384 || frame.height > 16384 {
            return Err(format!(
                "frame size {}x{} is larger than 16384 pixels on a side",
                frame.width, frame.height
            ));
        }
        if frame.fps == 0 {
            return Err("fps must be at least 1".to_string());
        }
        let (w, h) = (frame.width as usize, frame.height as usize);
        let fonts = font::Fonts::with_user_fonts(&scene.fonts)?;
        let s = match scene.scene.as_str() {
            "plasma" => Scene::Plasma(Box::new(scenes::plasma::Plasma::new(
                frame,
                &scene.params,
                fonts,
            ))),
            "quote" => Scene::Quote(Box::new(scenes::quote::Quote::new(
                frame,
                &scene.params,
                scene.text.as_deref().unwrap_or(""),
                fonts,
            ))),
            name if scenes::layers::COMPOSED_SCENES.contains(&name) => {
                Scene::Layers(Box::new(scenes::layers::Layers::new(
                    frame,
                    name,
                    &scene.params,
                    scene.text.as_deref(),
                    fonts,
                    scene.frames,
                    seed,
                )))
            }
            other => return Err(format!("scene {other:?} has no renderer")),
        };
        Ok(Renderer {
            width: w,
            height: h,
            fps: frame.fps,
            scene: s,
            chain: shaders::ShaderChain::new(&scene.shaders, frame.shader_level, w, h, seed),
            timings: StageTimings::default(),
        })
    }

    /// Frame width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Frame height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Bytes of one frame (`width * height * 3`).
    pub fn frame_len(&self) -> usize {
        self.width * self.height * 3
    }

    /// Renders frame `index` (scene time `index / fps`) into `out` as rgb24, overwriting it
    /// completely. The result depends only on the renderer's inputs and `index`.
    ///
    /// # Panics
    /// If `out.len() != width * height * 3`.
    pub fn render_frame(&mut self, index: u32, out: &mut [u8]) {
        assert_eq!(
            out.len(),
            self.frame_len(),
            "render_frame: buffer of {} bytes for a {}x{} rgb24 frame",
            out.len(),
            self.width,
            self.height
        );
        let t = f64::from(index) / f64::from(self.fps);
        let tm = &mut self.timings;
        match &mut self.scene {
            Scene::Plasma(p) => p.render(t, out, self.width, tm),
            Scene::Quote(q) => q.render(t, out, self.width, tm),
            Scene::Layers(l) => l.render(index, out, tm),
        }
        let t0 = Instant::now();
        self.chain
            .apply(out, self.width, self.height, index, t as f32);
        tm.shaders_ns += t0.elapsed().as_nanos() as u64;
        tm.frames += 1;
    }

    /// Cumulative per-stage timings since the renderer was built.
    pub fn timings(&self) -> StageTimings {
        self.timings
    }
}

#[cfg(test)]
mod golden;
#[cfg(test)]
mod tests;
