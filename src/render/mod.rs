//! The renderer: turns (frame geometry, scene spec, seed, frame index) into one rgb24 frame.
//!
//! `render` knows nothing of processes, plans or terminals, and parses no YAML. Its inputs are
//! plain data: a [`FrameSpec`] from the quality profile and a [`SceneSpec`], which the plan
//! builds once per segment with [`SceneSpec::parse`] (scene name, params and shader names are
//! read there, and only there, into enums and typed structs) and the worker receives over IPC.
//! Its output is a `width * height * 3` byte buffer.
//!
//! INTERFACE (used by plan, worker, coordinator and cli):
//! - [`SceneSpec::parse`]: reads and checks what a segment asks for; errors name the key.
//! - [`Renderer::new`] / [`Renderer::render_frame`]: one renderer per clip.
//! - [`missing_glyphs`]: characters no font has, for `farm check`.
//! - [`Scene::NAMES`], [`shader_names`], [`palette_names`]: the vocabularies, for messages.
//!
//! Map (one job each; arrows never point back up):
//! - the frame and the result: [`frame`] ([`FrameSpec`], [`ShaderLevel`], [`StageTimings`]),
//!   [`spec`] ([`SceneSpec`]), [`renderer`] ([`Renderer`]), [`coverage`] (font coverage);
//! - parameters: [`params`] (the leaf every primitive builds on: [`Param`], [`ParamSpec`],
//!   validation, typed reads, each configuration's setters, the `vocab!` enums); [`bind`]
//!   (audio bindings: where they are, their values per frame; [`renderer`] compiles them into
//!   typed setters of the built scene and shaders when it is built);
//! - the scenes: [`scenes`] (`plasma`, `quote`, `layers` and the scenes built on it);
//! - the primitives a scene is made of, each with its parameter table next to its code:
//!   [`fields`] (value fields), [`attractor`] (strange attractors, binned: the `attractor`
//!   field), [`mask`], [`color`] (HSV/OKLCH, colour strategies, tints), [`blend`] (blend modes
//!   and their tables), [`particles`] (with trails), [`effects`] (rain, fire),
//!   [`text`] (text layout and text layers), [`post`] (tonemap, feedback, transitions);
//! - across clips: [`crossfade`] (the character-level crossfade from the clip before, on
//!   finished frames; the renderer renders both and mixes them);
//! - drawing: [`font`] (embedded fonts, glyph atlases), [`grid`] (character grids),
//!   [`palette`] (character palettes), [`canvas`] (glyph blits);
//! - maths: [`rng`] (seeds, PRNG), [`fastmath`] (sine tables, hashes, noise);
//! - [`shaders`]: post-processing on the finished frame;
//! - [`yuv`]: the finished frame as yuv420p for the encoder (BT.709 / BT.601, limited range).
//!
//! `docs/renderer.md`, `docs/scenes.md` and `docs/shaders.md` are the user references. Where the
//! code cites "the Python reference pipeline" (its optimisation guide or its docs), see
//! `docs/reference-pipeline.md`.
//!
//! Determinism: the output of [`Renderer::render_frame`] depends only on the frame spec, scene
//! spec, seed and frame index (and, for a crossfade, the same of the clip before), never on
//! which frames were rendered before, on threads or on hash order.

#![warn(missing_docs)]

pub mod attractor;
pub mod bind;
pub mod blend;
pub mod canvas;
pub mod color;
pub mod coverage;
pub mod crossfade;
pub mod effects;
pub mod fastmath;
pub mod fields;
pub mod font;
pub mod frame;
pub mod grid;
pub mod mask;
pub mod palette;
pub mod params;
pub mod particles;
pub mod post;
pub mod renderer;
pub mod rng;
pub mod scenes;
pub mod shaders;
pub mod spec;
pub mod text;
pub mod yuv;

pub use coverage::missing_glyphs;
pub use frame::{FrameCx, FrameSpec, ShaderLevel, StageTimings};
pub use params::{Param, ParamSpec, Params, SpecError};
pub use renderer::Renderer;
pub use scenes::Scene;
pub use shaders::ShaderSpec;
pub use spec::SceneSpec;

/// Names of the built-in scenes.
pub fn builtin_scenes() -> &'static [&'static str] {
    Scene::NAMES
}

/// Names of the shaders a scene's chain may use.
pub fn shader_names() -> &'static [&'static str] {
    shaders::names()
}

/// Names of the character palettes (`params.palette`).
pub fn palette_names() -> &'static [&'static str] {
    palette::PaletteName::NAMES
}

#[cfg(test)]
mod golden;
#[cfg(test)]
mod tests;
