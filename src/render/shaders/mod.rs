//! Post-processing shaders on the finished rgb24 frame (the digest's shader chain, section 6).
//!
//! One file per group: [`tone`] (vignette, contrast, gamma, levels, brightness), [`color`]
//! (invert, posterize, threshold, solarize, hue rotation, saturation, grades and ramps),
//! [`channel`] (chromatic aberration and channel shifts), [`geometry`] (crt, pixelate, waves,
//! mirrors, kaleidoscope), [`glow`] (bloom, edge glow, soft focus, radial blur), [`noise`] (grain,
//! static), [`pattern`] (scanlines, halftone), [`glitch`] (bands, blocks, pixel sort, data bend).
//! `docs/shaders.md` is the user reference, with the measured cost of each shader to the encoder.
//!
//! A [`ShaderChain`] is built once per renderer: it validates nothing (the plan did), keeps the
//! shaders the profile's [`ShaderLevel`] allows, and builds each shader's caches (vignette maps,
//! CRT / kaleidoscope / radial remaps, halftone pattern, lookup tables). [`ShaderChain::apply`]
//! then runs the shaders in order on each frame, in place. Shaders that need a copy of the frame
//! share one scratch buffer owned by the chain; nothing is allocated per frame after the first.
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

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::render::params::{Kind, ParamSpec, validate_params};
use crate::render::rng::{Rng, combine};
use crate::render::{Param, Params, ShaderLevel, ShaderSpec, SpecError};

pub mod channel;
pub mod color;
pub mod geometry;
pub mod glitch;
pub mod glow;
pub mod noise;
pub mod pattern;
pub mod tone;

#[cfg(test)]
mod tests;

/// Shaders dropped at [`ShaderLevel::Standard`]: with their defaults they make x264 at least 1.15x
/// slower on the same frames (measured with `scripts/shader-cost.sh`, table in `docs/shaders.md`):
/// per-frame noise (`grain` 1.37x, `static` 2.1x), whole rows moving every frame (`wave_distort`
/// 1.6x, `glitch_bands` 1.3x) and global gains changing every frame (`color_wobble` 1.2x).
pub const ENCODER_EXPENSIVE: &[&str] = &[
    "grain",
    "static",
    "wave_distort",
    "glitch_bands",
    "color_wobble",
];

/// Shaders that draw random numbers (each takes a `hold` parameter).
pub const RANDOM: &[&str] = &[
    "grain",
    "static",
    "glitch_bands",
    "block_glitch",
    "data_bend",
];

/// Salt mixed into the renderer seed for shader randomness.
const SHADER_SALT: u64 = 0x5368_6164_6572_0001;

/// Everything a shader may use besides the frame.
pub struct Ctx<'a> {
    /// Frame width in pixels.
    pub w: usize,
    /// Frame height in pixels.
    pub h: usize,
    /// Frame index within the clip.
    pub index: u32,
    /// Scene time in seconds.
    pub t: f32,
    /// This shader's seed: (renderer seed, position in the chain).
    pub seed: u64,
    /// A scratch buffer shared by the chain (frame copies); contents are undefined on entry.
    pub scratch: &'a mut Vec<u8>,
}

impl Ctx<'_> {
    /// The RNG for this frame, or for the group of `hold` frames it belongs to.
    pub fn rng(&self, hold: u32) -> Rng {
        Rng::for_stream(self.seed, u64::from(self.index / hold.max(1)))
    }

    /// Copies `frame` into the scratch buffer and returns the copy.
    pub fn copy_of(&mut self, frame: &[u8]) -> &[u8] {
        self.scratch.resize(frame.len(), 0);
        self.scratch.copy_from_slice(frame);
        &self.scratch[..]
    }
}

/// One configured shader with its caches.
pub trait Pass: PassClone + std::fmt::Debug + Send {
    /// Processes `frame` (`cx.w * cx.h * 3` bytes, rgb24) in place.
    fn apply(&mut self, frame: &mut [u8], cx: &mut Ctx<'_>);
}

/// Cloning boxed passes (the renderer is `Clone`).
pub trait PassClone {
    /// A boxed copy.
    fn clone_box(&self) -> Box<dyn Pass>;
}

impl<T: 'static + Pass + Clone> PassClone for T {
    fn clone_box(&self) -> Box<dyn Pass> {
        Box::new(self.clone())
    }
}

/// Builds a shader for a `w x h` frame from validated params.
pub type Build = fn(&Params, usize, usize) -> Box<dyn Pass>;

/// A cross-parameter check run after the table checks: `Err((param, message))`.
pub type Check = fn(&Params) -> Result<(), (&'static str, String)>;

/// One shader of the vocabulary.
pub struct Def {
    /// Name as written in the plan.
    pub name: &'static str,
    /// Parameters.
    pub params: &'static [ParamSpec],
    /// What it does (one line, for docs).
    pub help: &'static str,
    /// Builder.
    pub build: Build,
    /// Optional cross-parameter check.
    pub check: Option<Check>,
}

/// Every shader, in documentation order (group by group).
static DEFS: LazyLock<Vec<&'static Def>> = LazyLock::new(|| {
    let groups: [&'static [Def]; 8] = [
        tone::DEFS,
        color::DEFS,
        channel::DEFS,
        geometry::DEFS,
        glow::DEFS,
        noise::DEFS,
        pattern::DEFS,
        glitch::DEFS,
    ];
    groups.iter().flat_map(|g| g.iter()).collect()
});

static NAMES: LazyLock<Vec<&'static str>> = LazyLock::new(|| DEFS.iter().map(|d| d.name).collect());

static BY_NAME: LazyLock<HashMap<&'static str, &'static Def>> =
    LazyLock::new(|| DEFS.iter().map(|d| (d.name, *d)).collect());

/// Names of every shader, in documentation order.
pub fn names() -> &'static [&'static str] {
    &NAMES
}

/// The definition of shader `name`.
pub fn def(name: &str) -> Option<&'static Def> {
    BY_NAME.get(name).copied()
}

/// The parameter table of shader `name`.
pub fn params_of(name: &str) -> Option<&'static [ParamSpec]> {
    def(name).map(|d| d.params)
}

/// Checks shader `i` of a scene: known name, params by the table, cross-parameter rules.
/// Keys: `shaders[i]` for the name, `shaders[i].param` for a parameter.
pub fn validate_shader(i: usize, spec: &ShaderSpec) -> Result<(), SpecError> {
    let key = format!("shaders[{i}]");
    let Some(d) = def(&spec.name) else {
        return Err(SpecError {
            key,
            message: format!(
                "unknown shader {:?}; shaders: {}",
                spec.name,
                names().join(", ")
            ),
        });
    };
    validate_params(&spec.params, d.params, &key, &format!("shader {}", d.name))?;
    if let Some(check) = d.check {
        check(&spec.params).map_err(|(p, m)| SpecError {
            key: format!("{key}.{p}"),
            message: format!("shader {} parameter {p}: {m}", d.name),
        })?;
    }
    Ok(())
}

/// Whether a shader called `name` runs at `level`.
pub fn allowed(name: &str, level: ShaderLevel) -> bool {
    match level {
        ShaderLevel::Minimal => name == "vignette",
        ShaderLevel::Standard => !ENCODER_EXPENSIVE.contains(&name),
        ShaderLevel::Full => true,
    }
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
    /// Builds the chain for `specs` (already validated; unknown names are skipped), keeping only
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
            .filter(|(_, s)| allowed(&s.name, level) && def(&s.name).is_some())
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

    fn build(&mut self) {
        let (w, h) = (self.width, self.height);
        self.passes = self
            .specs
            .iter()
            .filter_map(|(pos, s)| {
                let d = def(&s.name)?;
                let seed = combine(self.seed ^ SHADER_SALT, *pos as u64);
                Some((seed, (d.build)(&s.params, w, h)))
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
        if self.passes.is_empty() || width == 0 || height == 0 {
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
        for (seed, pass) in &mut self.passes {
            let mut cx = Ctx {
                w: width,
                h: height,
                index,
                t,
                seed: *seed,
                scratch: &mut self.scratch,
            };
            pass.apply(frame, &mut cx);
        }
    }
}

// ---- Parameter table helpers shared by the group files ----

/// A number parameter in `min..=max`.
pub(crate) const fn num(min: f64, max: f64) -> Kind {
    Kind::Num {
        min,
        max,
        min_exclusive: false,
        integer: false,
    }
}

/// A whole-number parameter in `min..=max`.
pub(crate) const fn int(min: f64, max: f64) -> Kind {
    Kind::Num {
        min,
        max,
        min_exclusive: false,
        integer: true,
    }
}

/// A parameter spec.
pub(crate) const fn p(
    name: &'static str,
    kind: Kind,
    default: &'static str,
    help: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        kind,
        default,
        help,
    }
}

/// The `hold` parameter of the random shaders.
pub(crate) const HOLD: ParamSpec = p(
    "hold",
    int(1.0, 240.0),
    "1",
    "keep the random pattern for this many frames (cheaper to encode)",
);

/// Reads a whole number parameter clamped to `lo..=hi`.
pub(crate) fn get_int(params: &Params, name: &str, default: i64, lo: i64, hi: i64) -> i64 {
    let v = crate::render::params::get_num(params, name, default as f64);
    (v.round() as i64).clamp(lo, hi)
}

/// Reads a number parameter clamped to `lo..=hi`.
pub(crate) fn get_f(params: &Params, name: &str, default: f64, lo: f64, hi: f64) -> f64 {
    crate::render::params::get_num(params, name, default).clamp(lo, hi)
}

/// Reads a list of numbers, or `None`.
pub(crate) fn get_nums(params: &Params, name: &str) -> Option<Vec<f64>> {
    params.get(name).and_then(nums_of)
}

/// The numbers of a list of numbers, or `None`.
pub(crate) fn nums_of(p: &Param) -> Option<Vec<f64>> {
    match p {
        Param::List(items) => items
            .iter()
            .map(|p| match p {
                Param::Num(n) if n.is_finite() => Some(*n),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// True if `p` is a list of `len` numbers in `lo..=hi` (whole numbers if `integer`).
pub(crate) fn is_num_list(p: &Param, len: usize, lo: f64, hi: f64, integer: bool) -> bool {
    match p {
        Param::List(items) => {
            items.len() == len
                && items.iter().all(|i| match i {
                    Param::Num(n) => {
                        n.is_finite() && *n >= lo && *n <= hi && (!integer || n.fract() == 0.0)
                    }
                    _ => false,
                })
        }
        _ => false,
    }
}

/// Luma of an rgb pixel, 0..=255 (`(77 r + 150 g + 29 b) >> 8`, white stays 255).
#[inline(always)]
pub(crate) fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b)) >> 8) as u8
}

/// A pass that maps every byte through a lookup table (one per channel).
#[derive(Debug, Clone)]
pub struct Lut {
    lut: Box<[[u8; 256]; 3]>,
    same: bool,
}

impl Lut {
    /// The same table for all three channels.
    pub fn mono(f: impl Fn(u8) -> u8) -> Lut {
        let mut t = [0u8; 256];
        for (i, v) in t.iter_mut().enumerate() {
            *v = f(i as u8);
        }
        Lut {
            lut: Box::new([t, t, t]),
            same: true,
        }
    }

    /// One table per channel: `f(channel, value)`.
    pub fn rgb(f: impl Fn(usize, u8) -> u8) -> Lut {
        let mut l = Box::new([[0u8; 256]; 3]);
        for (c, t) in l.iter_mut().enumerate() {
            for (i, v) in t.iter_mut().enumerate() {
                *v = f(c, i as u8);
            }
        }
        let same = l[0] == l[1] && l[1] == l[2];
        Lut { lut: l, same }
    }

    /// Maps `frame` through the tables.
    #[inline(never)]
    pub fn run(&self, frame: &mut [u8]) {
        if self.same {
            let t = &self.lut[0];
            for b in frame.iter_mut() {
                *b = t[usize::from(*b)];
            }
        } else {
            let [r, g, b] = &*self.lut;
            for px in frame.chunks_exact_mut(3) {
                px[0] = r[usize::from(px[0])];
                px[1] = g[usize::from(px[1])];
                px[2] = b[usize::from(px[2])];
            }
        }
    }
}

impl Pass for Lut {
    fn apply(&mut self, frame: &mut [u8], _cx: &mut Ctx<'_>) {
        self.run(frame);
    }
}

/// A pass that takes every output pixel from a cached source pixel (or black).
#[derive(Debug, Clone)]
pub struct Remap {
    /// Byte offset of each output pixel's source pixel, or `u32::MAX` for black.
    map: Vec<u32>,
}

impl Remap {
    /// Builds the map from `f(x, y) -> Some((sx, sy))` (source pixel, clamped into the frame)
    /// or `None` (black).
    pub fn new(w: usize, h: usize, f: impl Fn(usize, usize) -> Option<(usize, usize)>) -> Remap {
        let mut map = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                map.push(match f(x, y) {
                    Some((sx, sy)) => ((sy.min(h - 1) * w + sx.min(w - 1)) * 3) as u32,
                    None => u32::MAX,
                });
            }
        }
        Remap { map }
    }
}

impl Pass for Remap {
    #[inline(never)]
    fn apply(&mut self, frame: &mut [u8], cx: &mut Ctx<'_>) {
        let src = cx.copy_of(frame);
        for (px, &m) in frame.chunks_exact_mut(3).zip(&self.map) {
            if m == u32::MAX {
                px.fill(0);
            } else {
                let o = m as usize;
                px.copy_from_slice(&src[o..o + 3]);
            }
        }
    }
}
