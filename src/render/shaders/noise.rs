//! Noise shaders: `grain`, `static`.
//!
//! - `grain(amt 8, hold 1, mode mono)`: uniform integer noise in `[-amt, amt]`, one value per 2x2
//!   pixel block shared by the three channels (the reference pipeline's half-resolution grain),
//!   added with saturation. `hold N` keeps one noise pattern for N frames (frames `k N .. k N + N -
//!   1` share it); `mode bright` scales the noise by the pixel's brightest channel / 255, so black
//!   background stays clean (the encoder then only pays for grain on the glyphs). The reference
//!   pipeline's docs give 10; farm keeps its optimisation guide's 8. The noise of each random
//!   byte is computed in 16-bit lanes and the add is one signed saturating add per byte, both
//!   compiled for AVX2 / SSE4.1 at run time (same bytes; see the chain's module doc).
//! - `static(density 0.05, color false, hold 1)`: that share of the pixels set to random grey (or
//!   random colour) values, TV-snow style.

use super::pass::{Banded, Ctx, Def, HOLD, Pass, run_banded};
use crate::render::params::{Dflt, Kind, ParamSpec, int, num, p, vocab};
use crate::render::rng::Rng;
use crate::render::shaders::name::Shader;

vocab! {
    /// Grain modes.
    pub enum GrainMode {
        /// Grey grain everywhere.
        Mono = "mono",
        /// Grain on bright pixels only.
        Bright = "bright",
    }
}

/// `grain.amt`.
const GRAIN_AMT: ParamSpec = p(
    "amt",
    int(0.0, 64.0),
    Dflt::Num(8.0),
    "noise amplitude: each 2x2 block moves by up to +-amt",
);

/// `grain.mode`.
const GRAIN_MODE: ParamSpec = p(
    "mode",
    Kind::Choice(GrainMode::NAMES),
    Dflt::Word("mono"),
    "mono: everywhere; bright: scaled by pixel brightness (black stays black)",
);

/// Parameters of `grain`.
pub const GRAIN_PARAMS: &[ParamSpec] = &[GRAIN_AMT, HOLD, GRAIN_MODE];

/// `static.density`.
const STATIC_DENSITY: ParamSpec = p(
    "density",
    num(0.0, 1.0),
    Dflt::Num(0.05),
    "share of pixels replaced by noise",
);

/// `static.color`.
const STATIC_COLOR: ParamSpec = p(
    "color",
    Kind::Bool,
    Dflt::Bool(false),
    "random colours instead of greys",
);

const STATIC_PARAMS: &[ParamSpec] = &[STATIC_DENSITY, STATIC_COLOR, HOLD];

/// The noise shaders.
pub const DEFS: &[Def] = &[
    Def {
        shader: Shader::Grain,
        params: GRAIN_PARAMS,
        help: "half-resolution film grain",
        build: |p, w, _| {
            Box::new(Grain::new(
                GRAIN_AMT.whole(p) as u8,
                HOLD.whole(p) as u32,
                GRAIN_MODE.choice::<GrainMode>(p) == GrainMode::Bright,
                w,
            ))
        },
        check: None,
    },
    Def {
        shader: Shader::Static,
        params: STATIC_PARAMS,
        help: "random pixels (TV snow)",
        build: |p, _, _| {
            Box::new(Static {
                density: STATIC_DENSITY.clamped(p),
                color: STATIC_COLOR.bool(p),
                hold: HOLD.whole(p) as u32,
            })
        },
        check: None,
    },
];

/// Half-resolution film grain.
#[derive(Debug, Clone)]
struct Grain {
    amt: u8,
    hold: u32,
    bright: bool,
    /// Noise per 2x2 block of one pair of rows.
    half: Vec<i8>,
    /// The random bytes of `half`, whole `u64`s (a multiple of 8 bytes).
    bytes: Vec<u8>,
    /// `half` for every byte of a row (two pixels of three channels per block), as the
    /// bytes of `i8`s.
    wide: Vec<u8>,
    /// Signed noise per pixel of one row (bright mode).
    signed: Vec<i16>,
    /// This frame's noise stream, drawn row by row from the top (set by `begin`).
    rng: Option<Rng>,
}

impl Grain {
    fn new(amt: u8, hold: u32, bright: bool, w: usize) -> Grain {
        let hw = w.div_ceil(2);
        Grain {
            amt,
            hold,
            bright,
            half: vec![0; hw],
            bytes: vec![0; hw.div_ceil(8) * 8],
            wide: vec![0; hw * 6],
            signed: vec![0; hw * 2],
            rng: None,
        }
    }
}

impl Pass for Grain {
    fn set(&mut self, param: usize, v: f64) -> bool {
        // The indexes of GRAIN_PARAMS, the values as the builder takes them.
        match param {
            0 => self.amt = GRAIN_AMT.whole_of(v) as u8,
            1 => self.hold = HOLD.whole_of(v) as u32,
            _ => return false,
        }
        true
    }

    fn apply(&mut self, out: &mut [u8], cx: &mut Ctx<'_>) {
        run_banded(self, out, cx);
    }

    fn banded(&mut self) -> Option<&mut dyn Banded> {
        Some(self)
    }
}

impl Banded for Grain {
    fn begin(&mut self, _frame: &[u8], cx: &mut Ctx<'_>) {
        let hw = cx.w.div_ceil(2);
        if self.half.len() != hw {
            *self = Grain::new(self.amt, self.hold, self.bright, cx.w);
        }
        self.rng = Some(cx.rng(self.hold));
    }

    #[inline(never)]
    fn band(&mut self, out: &mut [u8], y0: usize, cx: &mut Ctx<'_>) {
        let (w, h) = (cx.w, cx.h);
        if self.amt == 0 || w == 0 {
            return;
        }
        let Some(rng) = &mut self.rng else {
            return;
        };
        let stride = w * 3;
        let rows = out.len() / stride;
        // Bands start on even rows: every 2x2 block lies in one band.
        for hy in y0 / 2..(y0 + rows).div_ceil(2) {
            // One noise value per 2x2 block: 8 values per 64 random bits (the bytes of each
            // `u64` in little-endian order), mapped to `[-amt, amt]` by the table's formula
            // in vector arithmetic instead of a lookup per byte.
            for (b, r) in self
                .bytes
                .chunks_exact_mut(8)
                .zip(std::iter::repeat_with(|| rng.next_u64()))
            {
                b.copy_from_slice(&r.to_le_bytes());
            }
            noise_row(&mut self.half, &self.bytes, self.amt);
            let lines = hy * 2 - y0..(hy * 2 + 2).min(h) - y0;
            if self.bright {
                for (d, &n) in self.signed.chunks_exact_mut(2).zip(&self.half) {
                    d[0] = i16::from(n);
                    d[1] = i16::from(n);
                }
                for y in lines {
                    let line = &mut out[y * stride..(y + 1) * stride];
                    for (px, &n) in line.chunks_exact_mut(3).zip(&self.signed) {
                        let m = i32::from(px[0].max(px[1]).max(px[2]));
                        let d = i32::from(n) * (m + 1) / 256;
                        if d != 0 {
                            for v in px.iter_mut() {
                                *v = (i32::from(*v) + d).clamp(0, 255) as u8;
                            }
                        }
                    }
                }
                continue;
            }
            // Expand to two pixels of three channels each.
            for (d, &n) in self.wide.chunks_exact_mut(6).zip(&self.half) {
                d.copy_from_slice(&[n as u8; 6]);
            }
            for y in lines {
                grain_row(&mut out[y * stride..(y + 1) * stride], &self.wide);
            }
        }
    }
}

/// This frame's noise of each random byte: `((byte * (2 amt + 1)) >> 8) - amt`, computed in
/// 16-bit lanes (it was a 256-entry table looked up per byte). Compiled for AVX2 / SSE4.1
/// besides the SSE2 baseline and picked at run time (same bytes).
#[multiversion::multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn noise_row(half: &mut [i8], bytes: &[u8], amt: u8) {
    let span = 2 * u16::from(amt) + 1;
    let amt = i16::from(amt);
    for (n, &b) in half.iter_mut().zip(bytes) {
        // byte * span <= 255 * 129 fits 16 bits; |n| <= amt <= 64.
        *n = (((u16::from(b) * span) >> 8) as i16 - amt) as i8;
    }
}

/// `clamp(o + n, 0, 255)` for every byte of `line` and its noise in `wide` (the bytes of
/// `i8`s), as a signed saturating add on `o - 128` (one vector add per 16 or 32 bytes; it was
/// an unsigned add and subtract of two tables). Compiled for AVX2 / SSE4.1 besides the SSE2
/// baseline and picked at run time (same bytes).
#[multiversion::multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn grain_row(line: &mut [u8], wide: &[u8]) {
    for (o, &n) in line.iter_mut().zip(wide) {
        *o = ((*o ^ 0x80) as i8).saturating_add(n as i8) as u8 ^ 0x80;
    }
}

/// TV snow.
#[derive(Debug, Clone)]
struct Static {
    density: f64,
    color: bool,
    hold: u32,
}

impl Pass for Static {
    fn set(&mut self, param: usize, v: f64) -> bool {
        // The indexes of STATIC_PARAMS, the values as the builder takes them.
        match param {
            0 => self.density = STATIC_DENSITY.clamp(v),
            2 => self.hold = HOLD.whole_of(v) as u32,
            _ => return false,
        }
        true
    }

    #[inline(never)]
    fn apply(&mut self, frame: &mut [u8], cx: &mut Ctx<'_>) {
        let n = cx.w * cx.h;
        let count = (self.density * n as f64).round() as usize;
        if count == 0 || n == 0 {
            return;
        }
        let mut rng = cx.rng(self.hold);
        let n32 = u32::try_from(n).unwrap_or(u32::MAX);
        for _ in 0..count {
            let r = rng.next_u64();
            let i = (((r >> 32) * u64::from(n32)) >> 32) as usize * 3;
            let px = &mut frame[i..i + 3];
            if self.color {
                px.copy_from_slice(&[r as u8, (r >> 8) as u8, (r >> 16) as u8]);
            } else {
                px.fill(r as u8);
            }
        }
    }
}
