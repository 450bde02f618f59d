//! What every shader is made of: the per-frame context ([`Ctx`]), the [`Pass`] trait, a shader's
//! definition ([`Def`]: name, parameter table, builder), the passes several shaders share
//! ([`ChannelLut`], [`Remap`]) and the readers the builders use.

use crate::render::params::{Dflt, ParamSpec, Params, int, p, vocab};
use crate::render::rng::Rng;

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
    /// This frame's audio features (silence when the clip does not react to audio).
    pub features: crate::features::Row<'a>,
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

    /// Takes `value` for the numeric parameter at index `param` of the shader's table (a bound
    /// value), when the shader can without being built again; false when it cannot (the chain
    /// then builds it again). Afterwards the shader is what building it with that value gives.
    fn set(&mut self, param: usize, value: f64) -> bool {
        let _ = (param, value);
        false
    }

    /// The pass as a [`Banded`] one, when it works row by row (then the chain runs it band by
    /// band together with its neighbours, and its [`Pass::apply`] must equal
    /// [`run_banded`]).
    fn banded(&mut self) -> Option<&mut dyn Banded> {
        None
    }
}

/// Rows per band of the fused walk (see the chain's module doc for the measurement). A
/// multiple of 4, so that a band starts on a bloom block, a grain block and a chroma row.
pub const BAND_ROWS: usize = 16;

/// A pass whose output row `y` depends only on input row `y` and on what it saw in
/// [`Banded::begin`]: the chain runs a run of such passes over one band of rows at a time, so
/// that the band stays in cache from the first pass to the last (and to the yuv conversion).
pub trait Banded {
    /// Called once per frame before the first band. `frame` is the whole frame as the passes
    /// before this one left it only if [`Banded::reads_frame`] is true; otherwise its contents
    /// are not this pass's input and must not be read.
    fn begin(&mut self, frame: &[u8], cx: &mut Ctx<'_>) {
        let _ = (frame, cx);
    }

    /// Processes rows `y0 .. y0 + band.len() / (3 * cx.w)` in place. Bands come top to
    /// bottom, each starting at a multiple of [`BAND_ROWS`], all of them `BAND_ROWS` high
    /// except the last.
    fn band(&mut self, band: &mut [u8], y0: usize, cx: &mut Ctx<'_>);

    /// True when [`Banded::begin`] reads the whole frame (bloom's downsample): the pass then
    /// starts a new run of bands, after the passes before it finished the whole frame.
    fn reads_frame(&self) -> bool {
        false
    }
}

/// Where the chain hands the finished frame, band by band: `sink(rows, y0)` (the yuv
/// conversion). See [`crate::render::shaders::ShaderChain::apply_into`].
pub type Sink<'a> = &'a mut dyn FnMut(&[u8], usize);

/// A banded pass over a whole frame: `begin`, then the bands in order. What the chain's fused
/// walk computes for a run of one pass, and what a banded pass's [`Pass::apply`] does.
pub fn run_banded(pass: &mut dyn Banded, frame: &mut [u8], cx: &mut Ctx<'_>) {
    pass.begin(frame, cx);
    let stride = cx.w * 3;
    if stride == 0 {
        return;
    }
    for (i, band) in frame.chunks_mut(BAND_ROWS * stride).enumerate() {
        pass.band(band, i * BAND_ROWS, cx);
    }
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
    /// Which shader this is (its word is the name a plan writes).
    pub shader: crate::render::shaders::name::Shader,
    /// Parameters.
    pub params: &'static [ParamSpec],
    /// What it does (one line, for docs).
    pub help: &'static str,
    /// Builder.
    pub build: Build,
    /// Optional cross-parameter check.
    pub check: Option<Check>,
}

impl Def {
    /// The name a plan writes.
    pub fn name(&self) -> &'static str {
        self.shader.name()
    }
}

/// The `hold` parameter of the random shaders.
pub(crate) const HOLD: ParamSpec = p(
    "hold",
    int(1.0, 240.0),
    Dflt::Num(1.0),
    "keep the random pattern for this many frames (cheaper to encode)",
);

vocab! {
    /// An axis of a shader that works along rows or columns.
    pub enum Axis {
        /// Along rows.
        H = "h",
        /// Along columns.
        V = "v",
    }
}

/// Luma of an rgb pixel, 0..=255 (`(77 r + 150 g + 29 b) >> 8`, white stays 255).
#[inline(always)]
pub(crate) fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b)) >> 8) as u8
}

/// A pass that maps every byte through a lookup table (one per channel).
#[derive(Debug, Clone)]
pub struct ChannelLut {
    lut: Box<[[u8; 256]; 3]>,
    same: bool,
}

impl ChannelLut {
    /// The same table for all three channels.
    pub fn mono(f: impl Fn(u8) -> u8) -> ChannelLut {
        let mut t = [0u8; 256];
        for (i, v) in t.iter_mut().enumerate() {
            *v = f(i as u8);
        }
        ChannelLut {
            lut: Box::new([t, t, t]),
            same: true,
        }
    }

    /// One table per channel: `f(channel, value)`.
    pub fn rgb(f: impl Fn(usize, u8) -> u8) -> ChannelLut {
        let mut l = Box::new([[0u8; 256]; 3]);
        for (c, t) in l.iter_mut().enumerate() {
            for (i, v) in t.iter_mut().enumerate() {
                *v = f(c, i as u8);
            }
        }
        let same = l[0] == l[1] && l[1] == l[2];
        ChannelLut { lut: l, same }
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

impl Pass for ChannelLut {
    fn apply(&mut self, frame: &mut [u8], _cx: &mut Ctx<'_>) {
        self.run(frame);
    }

    fn banded(&mut self) -> Option<&mut dyn Banded> {
        Some(self)
    }
}

impl Banded for ChannelLut {
    fn band(&mut self, band: &mut [u8], _y0: usize, _cx: &mut Ctx<'_>) {
        self.run(band);
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
