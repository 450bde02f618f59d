//! What the renderer needs to know about the frame and the quality profile ([`FrameSpec`],
//! [`ShaderLevel`]), and what it reports back ([`StageTimings`]). A leaf: plain data.

use serde::{Deserialize, Serialize};

/// How much post-processing a quality profile allows ("minimal / standard / full", as in the Python
/// reference pipeline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShaderLevel {
    /// Only the cheapest shaders run (see `shaders` for which).
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

/// Cumulative time spent per stage by one renderer, in nanoseconds.
///
/// `fields`: value fields, characters and colours (per cell). `blit`: clearing the frame and
/// drawing the base layer's glyphs (and text rows). `blend`: drawing upper layers' glyphs fused
/// with their screen blend (see `canvas`). `shaders`: the shader chain. `crossfade`: a
/// crossfade's frames of the clip before (its whole render, catch-up included) and the mix.
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
    /// Audio bindings: evaluating bound values and writing those that changed into the scene
    /// and the shaders, with what they change recomputed (0 for a clip without bindings).
    pub bind_ns: u64,
    /// A crossfade: the clip before's frames (catch-up included) and the cell mix.
    #[serde(default)]
    pub crossfade_ns: u64,
}

impl StageTimings {
    /// Total nanoseconds over all stages.
    pub fn total_ns(&self) -> u64 {
        self.fields_ns
            + self.blit_ns
            + self.blend_ns
            + self.shaders_ns
            + self.bind_ns
            + self.crossfade_ns
    }
}

/// What one frame is rendered at: its index in the clip, its time, and the clip's audio
/// features (see [`crate::features`]). Built by the renderer for every frame and handed to the
/// scene and the shaders, which read features only through it.
#[derive(Debug, Clone, Copy)]
pub struct FrameCx<'a> {
    /// Frame index within the clip.
    pub index: u32,
    /// Clip time in seconds (`index / fps`).
    pub t: f64,
    /// The frame's index in the whole video (the clip's start + `index`).
    pub global: u64,
    /// The clip's features (rows for its frames, with history before them).
    pub features: &'a crate::features::ClipFeatures,
}

impl FrameCx<'_> {
    /// Video time in seconds (`global / fps`).
    pub fn t_global(&self) -> f64 {
        self.global as f64 / self.features.fps.max(1) as f64
    }

    /// This frame's features.
    pub fn row(&self) -> crate::features::Row<'_> {
        self.features.row(self.index as i64)
    }

    /// One feature of this frame.
    pub fn get(&self, f: crate::features::Feature) -> f32 {
        self.row().get(f)
    }
}
