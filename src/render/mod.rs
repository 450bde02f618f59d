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

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
}

/// A problem with a scene spec, found before rendering.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecError {
    /// Where in the segment: `"scene"`, `"params.palette"`, `"shaders[1]"`, `"shaders[1].thr"`, `"text"`.
    pub key: String,
    /// What is wrong, in words a user can act on.
    pub message: String,
}
