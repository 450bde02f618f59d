//! Post-processing shaders on the finished rgb24 frame (the Python reference pipeline's shader
//! chain, section 6 of its docs).
//!
//! One file per group: [`tone`] (vignette, contrast, gamma, levels, brightness), [`grade`]
//! (invert, posterize, threshold, solarize, hue rotation, saturation, grades and ramps),
//! [`channel`] (chromatic aberration and channel shifts), [`geometry`] (crt, pixelate, waves,
//! mirrors, kaleidoscope), [`glow`] (bloom, edge glow, soft focus, radial blur), [`noise`] (grain,
//! static), [`pattern`] (scanlines, halftone), [`glitch`] (bands, blocks, pixel sort, data bend),
//! [`hits`] (`glitch_hit`, fired by an audio feature).
//! `docs/shaders.md` is the user reference, with the measured cost of each shader to the encoder.
//!
//! A [`ShaderChain`] is built once per renderer: it validates nothing (the plan did), keeps the
//! shaders the profile's [`ShaderLevel`] allows, and builds each shader's caches (vignette maps,
//! CRT / kaleidoscope / radial remaps, halftone pattern, lookup tables). [`ShaderChain::apply`]
//! then runs the shaders in order on each frame, in place. Shaders that need a copy of the frame
//! share one scratch buffer owned by the chain; nothing is allocated per frame after the first.
//!
//! The fused walk. A shader whose output row depends only on its input row (vignette, grain,
//! every lookup-table shader, and bloom after its downsample) is [`Banded`]: the chain runs each
//! run of neighbouring banded shaders band by band ([`BAND_ROWS`] rows, 92 KB at 1080p, well
//! inside the 512 KB L2 here), all shaders of the run over one band before the next, and the
//! worker's yuv conversion ([`crate::render::yuv::Yuv420p`]) as the run's sink when it ends the
//! chain, so the frame is read from memory once for all of them instead of once each. A shader
//! that reads the whole frame (bloom's downsample, in [`Banded::begin`]) starts a new run; the
//! others (remaps, sorts, blurs) run over the whole frame as before. A test checks that the
//! walk gives the bytes of one shader after another. Measured (2-core EPYC, 1080p, one core,
//! bloom + vignette + grain, alternating old and new binaries): the band walk alone 4.59 ->
//! 4.48 ms (the frame fits the 32 MB L3, so the passes were compute-bound more than
//! memory-bound); grain as one signed saturating add of an `i8` table per byte, instead of an
//! unsigned add and subtract of two tables expanded separately, 3.8 -> 2.2 ms; the yuv
//! conversion fused as the sink and compiled for AVX2 at run time (see `yuv.rs`) about 11 -> 2
//! ms a frame.
//!
//! Run-time dispatch of every band kernel of the reference chain: bloom's whole-frame part
//! (`glow::bloom_prepare`: downsample, f32 blurs, scale), its add (`glow::add_row`), the
//! vignette multiply (`tone::scale_row`) and grain (`noise::noise_row`, `noise::grain_row`)
//! are compiled for AVX2 / SSE4.1 with `multiversion` besides the SSE2 baseline, the same
//! arithmetic so the same bytes. With it: the vignette map at one byte per pixel instead of
//! per channel (1 MB instead of 3 MB read per 1080p frame; the kernel was bound on that load),
//! bloom's 4x upsample built as two register stores per block instead of four 3-byte copies
//! (9% -> 4% of the plasma frame), grain's noise computed in 16-bit lanes instead of a table
//! lookup per byte. Measured (2-core EPYC, plasma + bloom + vignette + grain, 1080p,
//! `taskset -c 0 farm bench-render --frames 96`, old and new binaries alternating, min of 3,
//! quiet machine): shaders 2.63 -> 2.08 ms (2.61 -> 2.42 with the dispatch alone), whole frame
//! 4.32 -> 3.19 ms together with the glyph blits (see `canvas`); with `--yuv` 5.66 -> 4.52 ms.
//! perf shares after: bloom_prepare 22%, vignette 17%, glyph blits 22%, grain 11%.
//! Tried and dropped: grain's 6x expansion as 8 + 4-byte register stores per two blocks (perf
//! samples of the grain band 104 -> 160, slower than the `[n; 6]` copies).
//!
//! Determinism: a shader that needs randomness draws from an RNG seeded with (renderer seed,
//! the shader's position in the scene's list, frame index / `hold`), so a frame never depends on
//! which frames were rendered before, and dropping a shader (shader level) does not change the
//! noise of the others.
//!
//! Shader levels:
//! - `Minimal` keeps only `vignette` (one multiply per byte, from a cached map);
//! - `Standard` drops the [`ENCODER_EXPENSIVE`] shaders: those that measurably slow x264 down or
//!   inflate the stream because they change pixels differently every frame (see
//!   `docs/shaders.md` for the measurements);
//! - `Full` runs every shader asked for.
//!
//! Files: [`name`] holds the closed list of shader names ([`Shader`], a leaf); [`pass`] what
//! every shader is made of ([`Ctx`], [`Pass`], [`Def`]); this file every group's [`Def`]s,
//! [`validate_shader`] and the chain.
//! Key types: [`Shader`] (the closed list of names, parsed once by the plan), [`ShaderSpec`] (one
//! shader of a segment, as the plan gives it), [`ShaderChain`].

use std::sync::LazyLock;

use crate::render::frame::ShaderLevel;
use crate::render::params::{Params, SpecError, validate_params};
use crate::render::rng::combine;
use serde::{Deserialize, Serialize};

pub mod channel;
pub mod geometry;
pub mod glitch;
pub mod glow;
pub mod grade;
pub mod hits;
pub mod name;
pub mod noise;
pub mod pass;
pub mod pattern;
pub mod tone;

pub use name::Shader;
pub use pass::{BAND_ROWS, Banded, ChannelLut, Ctx, Def, Pass, Remap};

#[cfg(test)]
mod tests;

/// One shader of a segment's chain, e.g. `bloom` with `{thr: 120}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShaderSpec {
    /// Which shader (`bloom`, `vignette`, `grain`, ...).
    pub name: Shader,
    /// Its parameters, checked against the shader's table by [`validate_shader`].
    pub params: Params,
}

/// Shaders dropped at [`ShaderLevel::Standard`]: with their defaults they make x264 at least 1.15x
/// slower on the same frames (measured with `scripts/shader-cost.sh`, table in `docs/shaders.md`):
/// per-frame noise (`grain` 1.37x, `static` 2.1x), whole rows moving every frame (`wave_distort`
/// 1.6x, `glitch_bands` 1.3x) and global gains changing every frame (`color_wobble` 1.2x).
pub const ENCODER_EXPENSIVE: &[Shader] = &[
    Shader::Grain,
    Shader::Static,
    Shader::WaveDistort,
    Shader::GlitchBands,
    Shader::ColorWobble,
];

/// Shaders that draw random numbers (each takes a `hold` parameter).
pub const RANDOM: &[Shader] = &[
    Shader::Grain,
    Shader::Static,
    Shader::GlitchBands,
    Shader::BlockGlitch,
    Shader::DataBend,
];

/// Salt mixed into the renderer seed for shader randomness.
const SHADER_SALT: u64 = 0x5368_6164_6572_0001;

/// Every shader, in documentation order (group by group).
static DEFS: LazyLock<Vec<&'static Def>> = LazyLock::new(|| {
    let groups: [&'static [Def]; 9] = [
        tone::DEFS,
        grade::DEFS,
        channel::DEFS,
        geometry::DEFS,
        glow::DEFS,
        noise::DEFS,
        pattern::DEFS,
        glitch::DEFS,
        hits::DEFS,
    ];
    groups.iter().flat_map(|g| g.iter()).collect()
});

/// Each shader's definition, indexed by `Shader as usize` (the groups list them in the enum's
/// order; a test checks that every shader has exactly one definition).
static BY_SHADER: LazyLock<Vec<&'static Def>> = LazyLock::new(|| {
    let mut by: Vec<&'static Def> = DEFS.clone();
    by.sort_by_key(|d| d.shader as usize);
    by
});

/// Names of every shader, in documentation order.
pub fn names() -> &'static [&'static str] {
    Shader::NAMES
}

/// The definition of `shader`.
pub fn def(shader: Shader) -> &'static Def {
    BY_SHADER[shader as usize]
}

/// The shader a plan calls `name`, if there is one.
pub fn parse(name: &str) -> Result<Shader, String> {
    name.parse::<Shader>().map_err(|_| {
        format!(
            "unknown shader {name:?}; shaders: {}",
            Shader::NAMES.join(", ")
        )
    })
}

/// The parameter table of `shader`.
pub fn params_of(shader: Shader) -> &'static [crate::render::params::ParamSpec] {
    def(shader).params
}

/// Checks shader `i` of a scene: params by the table, cross-parameter rules (the name was parsed
/// by the plan). Keys: `shaders[i].param` for a parameter.
pub fn validate_shader(i: usize, spec: &ShaderSpec) -> Result<(), SpecError> {
    let key = format!("shaders[{i}]");
    let d = def(spec.name);
    validate_params(
        &spec.params,
        d.params,
        &key,
        &format!("shader {}", d.name()),
    )?;
    if let Some(check) = d.check {
        check(&spec.params).map_err(|(p, m)| SpecError {
            key: format!("{key}.{p}"),
            message: format!("shader {} parameter {p}: {m}", d.name()),
        })?;
    }
    Ok(())
}

/// Whether `shader` runs at `level`.
pub fn allowed(shader: Shader, level: ShaderLevel) -> bool {
    match level {
        ShaderLevel::Minimal => shader == Shader::Vignette,
        ShaderLevel::Standard => !ENCODER_EXPENSIVE.contains(&shader),
        ShaderLevel::Full => true,
    }
}

/// A bound shader parameter, compiled once by [`ShaderChain::bind`]: which pass, which
/// parameter of its table, and where its value is in the pass's params (by position, so that
/// writing it compares no names).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShaderSlot {
    k: usize,
    param: usize,
    at: usize,
}

/// A chain of shaders for one frame size.
#[derive(Debug)]
pub struct ShaderChain {
    /// (position in the scene's list, spec) of the shaders the level allows.
    specs: Vec<(usize, ShaderSpec)>,
    passes: Vec<(u64, Box<dyn Pass>)>,
    width: usize,
    height: usize,
    seed: u64,
    scratch: Vec<u8>,
}

impl Clone for ShaderChain {
    fn clone(&self) -> Self {
        ShaderChain {
            specs: self.specs.clone(),
            passes: self
                .passes
                .iter()
                .map(|(s, p)| (*s, p.clone_box()))
                .collect(),
            width: self.width,
            height: self.height,
            seed: self.seed,
            scratch: Vec::new(),
        }
    }
}

impl ShaderChain {
    /// Builds the chain for `specs` (already validated), keeping only
    /// the shaders `level` allows, with caches for a `width x height` frame.
    pub fn new(
        specs: &[ShaderSpec],
        level: ShaderLevel,
        width: usize,
        height: usize,
        seed: u64,
    ) -> ShaderChain {
        let specs: Vec<(usize, ShaderSpec)> = specs
            .iter()
            .enumerate()
            .filter(|(_, s)| allowed(s.name, level))
            .map(|(i, s)| (i, s.clone()))
            .collect();
        let mut chain = ShaderChain {
            specs,
            passes: Vec::new(),
            width,
            height,
            seed,
            scratch: Vec::new(),
        };
        chain.build();
        chain
    }

    /// Compiles the binding of parameter `name` of the shader at position `pos` of the scene's
    /// list into a [`ShaderSlot`], if the profile kept that shader and `name` is one of its
    /// given parameters.
    pub fn bind(&self, pos: usize, name: &str) -> Option<ShaderSlot> {
        let k = self.specs.iter().position(|(p, _)| *p == pos)?;
        let spec = &self.specs[k].1;
        let param = def(spec.name).params.iter().position(|p| p.name == name)?;
        let at = spec.params.keys().position(|key| key == name)?;
        Some(ShaderSlot { k, param, at })
    }

    /// Takes a bound value (compiled by [`ShaderChain::bind`]): the shader takes it as it is
    /// when it can ([`Pass::set`]), else it alone is built again with its params.
    pub fn set(&mut self, slot: &ShaderSlot, value: f64) {
        let (w, h) = (self.width, self.height);
        let Some((_, spec)) = self.specs.get_mut(slot.k) else {
            return;
        };
        if let Some(p) = spec.params.values_mut().nth(slot.at) {
            *p = crate::render::params::Param::Num(value);
        }
        let pass = &mut self.passes[slot.k].1;
        if !pass.set(slot.param, value) {
            *pass = (def(spec.name).build)(&spec.params, w, h);
        }
    }

    fn build(&mut self) {
        let (w, h) = (self.width, self.height);
        self.passes = self
            .specs
            .iter()
            .map(|(pos, s)| {
                let seed = combine(self.seed ^ SHADER_SALT, *pos as u64);
                (seed, (def(s.name).build)(&s.params, w, h))
            })
            .collect();
    }

    /// Number of shaders that will run.
    pub fn len(&self) -> usize {
        self.passes.len()
    }

    /// True if no shader runs.
    pub fn is_empty(&self) -> bool {
        self.passes.is_empty()
    }

    /// Applies the chain in place to frame `index` (scene time `t` seconds) of size
    /// `width x height`. Caches are rebuilt if the size differs from the last call's. A buffer
    /// shorter than `width * height * 3` is left untouched.
    pub fn apply(&mut self, frame: &mut [u8], width: usize, height: usize, index: u32, t: f32) {
        self.apply_with(frame, width, height, index, t, crate::features::SILENT_ROW);
    }

    /// [`ShaderChain::apply`] with this frame's audio features, for shaders that react to them.
    pub fn apply_with(
        &mut self,
        frame: &mut [u8],
        width: usize,
        height: usize,
        index: u32,
        t: f32,
        features: crate::features::Row<'_>,
    ) {
        self.apply_into(frame, width, height, index, t, features, None);
    }

    /// [`ShaderChain::apply_with`], then `sink(rows, y0)` for the finished frame, in bands top
    /// to bottom (each starting at a multiple of [`BAND_ROWS`]; the whole frame at once when
    /// the chain's last pass is not banded): the yuv conversion, fused with the last walk over
    /// the frame while its rows are still in cache. `sink` is not called when the frame is
    /// not `width x height` (nothing was applied).
    #[allow(clippy::too_many_arguments)]
    pub fn apply_into(
        &mut self,
        frame: &mut [u8],
        width: usize,
        height: usize,
        index: u32,
        t: f32,
        features: crate::features::Row<'_>,
        mut sink: Option<crate::render::shaders::pass::Sink<'_>>,
    ) {
        if width == 0 || height == 0 {
            return;
        }
        let Some(len) = width.checked_mul(height).and_then(|n| n.checked_mul(3)) else {
            return;
        };
        if frame.len() < len {
            return;
        }
        if (width, height) != (self.width, self.height) {
            self.width = width;
            self.height = height;
            self.build();
        }
        let frame = &mut frame[..len];
        macro_rules! cx {
            ($seed:expr) => {
                &mut Ctx {
                    w: width,
                    h: height,
                    index,
                    t,
                    seed: $seed,
                    scratch: &mut self.scratch,
                    features,
                }
            };
        }
        let stride = width * 3;
        let n = self.passes.len();
        let mut k = 0;
        while k < n {
            // A run of banded passes: the first may read the whole frame in `begin`, the
            // others only their rows.
            let mut run = 0;
            while k + run < n
                && self.passes[k + run]
                    .1
                    .banded()
                    .is_some_and(|b| run == 0 || !b.reads_frame())
            {
                run += 1;
            }
            if run == 0 {
                let (seed, pass) = &mut self.passes[k];
                pass.apply(frame, cx!(*seed));
                k += 1;
                continue;
            }
            let last = k + run == n;
            for (seed, pass) in &mut self.passes[k..k + run] {
                if let Some(b) = pass.banded() {
                    b.begin(frame, cx!(*seed));
                }
            }
            for (i, band) in frame.chunks_mut(BAND_ROWS * stride).enumerate() {
                for (seed, pass) in &mut self.passes[k..k + run] {
                    if let Some(b) = pass.banded() {
                        b.band(band, i * BAND_ROWS, cx!(*seed));
                    }
                }
                if last && let Some(s) = sink.as_mut() {
                    s(band, i * BAND_ROWS);
                }
            }
            if last {
                return;
            }
            k += run;
        }
        if let Some(s) = sink.as_mut() {
            s(frame, 0);
        }
    }
}
