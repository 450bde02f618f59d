//! Glow shaders: `bloom`, `edge_glow`, `soft_focus`, `radial_blur`.
//!
//! - `bloom(thr 130, gain 0.5)`: take every 4th pixel of every 4th row, zero channels `<= thr`,
//!   blur three times with a 3x3 box (edges clamped; done as separable 1x3 + 3x1 passes), then add
//!   `floor(gain * blur)` of the 4x4 block each pixel belongs to, saturating. The whole-frame
//!   part and the add are compiled for AVX2 / SSE4.1 at run time (same `f32` operations in the
//!   same order, so the same bytes; measurements in the chain's module doc).
//! - `edge_glow(hue 0.5, strength 1)`: luma gradient `|l(x+1) - l(x-1)| + |l(y+1) - l(y-1)|`
//!   times `strength`, coloured with `hue` (full saturation), added to the frame.
//! - `soft_focus(strength 0.3, radius 3)`: mix `strength` of a blurred copy into the frame; the
//!   blur is a `(2 radius + 1)`-wide separable box on a half-resolution copy (2x2 means), shown
//!   at full resolution.
//! - `radial_blur(strength 0.03, samples 6)`: zoom blur towards the centre: the mean of `samples`
//!   copies scaled by `1 - strength * k / (samples - 1)`, `k = 0..samples`.

use super::pass::{Banded, Ctx, Def, Pass, luma, run_banded};
use crate::render::color::hsv2rgb;
use crate::render::params::{Dflt, ParamSpec, int, num, p};
use crate::render::shaders::name::Shader;

/// `bloom.thr`.
const BLOOM_THR: ParamSpec = p(
    "thr",
    num(0.0, 255.0),
    Dflt::Num(130.0),
    "channel values above this glow",
);

/// `bloom.gain`.
const BLOOM_GAIN: ParamSpec = p(
    "gain",
    num(0.0, 4.0),
    Dflt::Num(0.5),
    "how much of the blurred glow is added back",
);

/// Parameters of `bloom`.
pub const BLOOM_PARAMS: &[ParamSpec] = &[BLOOM_THR, BLOOM_GAIN];

/// `edge_glow.hue`.
const EDGE_GLOW_HUE: ParamSpec = p("hue", num(0.0, 1.0), Dflt::Num(0.5), "colour of the glow");

/// `edge_glow.strength`.
const EDGE_GLOW_STRENGTH: ParamSpec = p(
    "strength",
    num(0.0, 8.0),
    Dflt::Num(1.0),
    "gain of the edge magnitude",
);

const EDGE_GLOW_PARAMS: &[ParamSpec] = &[EDGE_GLOW_HUE, EDGE_GLOW_STRENGTH];

/// `soft_focus.strength`.
const SOFT_FOCUS_STRENGTH: ParamSpec = p(
    "strength",
    num(0.0, 1.0),
    Dflt::Num(0.3),
    "share of the blurred copy",
);

/// `soft_focus.radius`.
const SOFT_FOCUS_RADIUS: ParamSpec = p(
    "radius",
    int(1.0, 64.0),
    Dflt::Num(3.0),
    "blur radius in half-resolution pixels",
);

const SOFT_FOCUS_PARAMS: &[ParamSpec] = &[SOFT_FOCUS_STRENGTH, SOFT_FOCUS_RADIUS];

/// `radial_blur.strength`.
const RADIAL_BLUR_STRENGTH: ParamSpec = p(
    "strength",
    num(0.0, 0.5),
    Dflt::Num(0.03),
    "zoom of the farthest copy (0.03 = 3% towards the centre)",
);

/// `radial_blur.samples`.
const RADIAL_BLUR_SAMPLES: ParamSpec =
    p("samples", int(2.0, 16.0), Dflt::Num(6.0), "copies averaged");

const RADIAL_BLUR_PARAMS: &[ParamSpec] = &[RADIAL_BLUR_STRENGTH, RADIAL_BLUR_SAMPLES];

/// The glow shaders.
pub const DEFS: &[Def] = &[
    Def {
        shader: Shader::Bloom,
        params: BLOOM_PARAMS,
        help: "glow around bright pixels (4x downsample)",
        build: |p, w, h| {
            Box::new(Bloom::new(
                BLOOM_THR.clamped(p),
                BLOOM_GAIN.clamped(p),
                w,
                h,
            ))
        },
        check: None,
    },
    Def {
        shader: Shader::EdgeGlow,
        params: EDGE_GLOW_PARAMS,
        help: "coloured glow on luma edges",
        build: |p, _, _| {
            Box::new(EdgeGlow {
                color: hsv2rgb(EDGE_GLOW_HUE.clamped(p) as f32, 1.0, 1.0),
                gain: (EDGE_GLOW_STRENGTH.clamped(p) * 256.0).round() as u32,
            })
        },
        check: None,
    },
    Def {
        shader: Shader::SoftFocus,
        params: SOFT_FOCUS_PARAMS,
        help: "mix in a blurred copy",
        build: |p, _, _| {
            Box::new(SoftFocus {
                mix: (SOFT_FOCUS_STRENGTH.clamped(p) * 256.0).round() as i32,
                radius: SOFT_FOCUS_RADIUS.whole(p) as usize,
                small: Vec::new(),
                tmp: Vec::new(),
                sums: Vec::new(),
            })
        },
        check: None,
    },
    Def {
        shader: Shader::RadialBlur,
        params: RADIAL_BLUR_PARAMS,
        help: "zoom blur towards the centre",
        build: |p, _, _| {
            Box::new(RadialBlur {
                strength: RADIAL_BLUR_STRENGTH.clamped(p),
                samples: RADIAL_BLUR_SAMPLES.whole(p) as usize,
                acc: Vec::new(),
                cols: Vec::new(),
            })
        },
        check: None,
    },
];

/// Bloom on a 4x downsample.
#[derive(Debug, Clone)]
struct Bloom {
    thr: u8,
    gain: f32,
    sw: usize,
    sh: usize,
    small: Vec<f32>,
    tmp: Vec<f32>,
    add: Vec<u8>,
    row: Vec<u8>,
    /// Per small row: whether it adds anything (set by `begin`; all false when nothing passed
    /// the threshold).
    live: Vec<bool>,
    /// The small row that `row` holds expanded, if any.
    row_of: Option<usize>,
}

impl Bloom {
    fn new(thr: f64, gain: f64, w: usize, h: usize) -> Bloom {
        let (sw, sh) = (w.div_ceil(4), h.div_ceil(4));
        Bloom {
            thr: thr.clamp(0.0, 255.0) as u8,
            gain: gain.max(0.0) as f32,
            sw,
            sh,
            small: vec![0.0; sw * sh * 3],
            tmp: vec![0.0; sw * sh * 3],
            add: vec![0; sw * sh * 3],
            row: vec![0; w * 3],
            live: vec![false; sh],
            row_of: None,
        }
    }
}

impl Pass for Bloom {
    fn set(&mut self, param: usize, v: f64) -> bool {
        // The indexes of BLOOM_PARAMS; the values as `Bloom::new` takes them.
        match param {
            0 => self.thr = BLOOM_THR.clamp(v).clamp(0.0, 255.0) as u8,
            1 => self.gain = BLOOM_GAIN.clamp(v).max(0.0) as f32,
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

impl Banded for Bloom {
    fn reads_frame(&self) -> bool {
        true
    }

    /// Downsample, threshold and blur: everything but the add, which the bands do.
    #[inline(never)]
    fn begin(&mut self, out: &[u8], cx: &mut Ctx<'_>) {
        self.live.fill(false);
        self.row_of = None;
        if self.sw == 0 || self.sh == 0 {
            return;
        }
        bloom_prepare(
            out,
            cx.w,
            self.thr,
            self.gain,
            (self.sw, self.sh),
            &mut self.small,
            &mut self.tmp,
            &mut self.add,
            &mut self.live,
        );
    }

    /// Upsample (each small pixel covers a 4x4 block) and add, saturating.
    #[inline(never)]
    fn band(&mut self, band: &mut [u8], y0: usize, cx: &mut Ctx<'_>) {
        let stride = cx.w * 3;
        let rw = self.sw * 3;
        for (i, line) in band.chunks_exact_mut(stride).enumerate() {
            let sy = (y0 + i) / 4;
            if !self.live.get(sy).copied().unwrap_or(false) {
                continue;
            }
            if self.row_of != Some(sy) {
                expand_row(&mut self.row, &self.add[sy * rw..(sy + 1) * rw]);
                self.row_of = Some(sy);
            }
            add_row(line, &self.row);
        }
    }
}

/// Each small rgb pixel of `src` repeated for the 4 pixels of its block into `row`: two
/// stores (8 + 4 bytes) per block, built in registers, instead of four 3-byte copies (the
/// copies were 9% of the plasma frame, about 0.3 ms at 1080p).
#[inline(always)]
fn expand_row(row: &mut [u8], src: &[u8]) {
    let mut blocks = row.chunks_exact_mut(12);
    let mut small = src.chunks_exact(3);
    for (dst, s) in (&mut blocks).zip(&mut small) {
        // p = r | g << 8 | b << 16: bytes 0..8 are r g b r g b r g, bytes 8..12 b r g b.
        let p = u64::from(s[0]) | u64::from(s[1]) << 8 | u64::from(s[2]) << 16;
        let lo = p | p << 24 | p << 48;
        let hi = ((p << 8) | (p >> 16)) as u32;
        dst[..8].copy_from_slice(&lo.to_le_bytes());
        dst[8..].copy_from_slice(&hi.to_le_bytes());
    }
    // A last partial block (width not a multiple of 4).
    let tail = blocks.into_remainder();
    if let Some(s) = small.next() {
        for px in tail.chunks_exact_mut(3) {
            px.copy_from_slice(s);
        }
    }
}

/// `o = o + a` saturating, for every byte of `line` and its glow in `row`. Compiled for AVX2 /
/// SSE4.1 besides the SSE2 baseline and picked at run time (same bytes).
#[multiversion::multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn add_row(line: &mut [u8], row: &[u8]) {
    for (o, &a) in line.iter_mut().zip(row) {
        *o = o.saturating_add(a);
    }
}

/// Bloom's whole-frame part: downsample + threshold `out` (`w` pixels wide) into `small`
/// (`sw x sh` rgb `f32`s), blur it three times, scale by `gain` into `add` and mark the `live`
/// small rows (left all false when nothing passed the threshold). Compiled for AVX2 / SSE4.1
/// besides the SSE2 baseline and picked at run time: the same `f32` operations in the same
/// order (Rust never contracts them into FMAs), so the same bytes.
#[allow(clippy::too_many_arguments)]
#[multiversion::multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn bloom_prepare(
    out: &[u8],
    w: usize,
    thr: u8,
    gain: f32,
    (sw, sh): (usize, usize),
    small: &mut [f32],
    tmp: &mut [f32],
    add: &mut [u8],
    live: &mut [bool],
) {
    let stride = w * 3;
    // Downsample + threshold, branch-free.
    let mut any = false;
    let keep = |v: u8, any: &mut bool| {
        *any |= v > thr;
        if v > thr { f32::from(v) } else { 0.0 }
    };
    for sy in 0..sh {
        let src = &out[sy * 4 * stride..sy * 4 * stride + stride];
        let dst = &mut small[sy * sw * 3..(sy + 1) * sw * 3];
        for (d, s) in dst.chunks_exact_mut(3).zip(src.chunks_exact(12)) {
            d[0] = keep(s[0], &mut any);
            d[1] = keep(s[1], &mut any);
            d[2] = keep(s[2], &mut any);
        }
        // A last partial 4-pixel block (width not a multiple of 4).
        if !w.is_multiple_of(4) {
            let x = (sw - 1) * 4;
            for k in 0..3 {
                dst[(sw - 1) * 3 + k] = keep(src[x * 3 + k], &mut any);
            }
        }
    }
    if !any {
        return;
    }
    // Three 3x3 box blurs, each as a horizontal then a vertical 3-tap mean, edges clamped.
    let third = 1.0f32 / 3.0;
    let rw = sw * 3;
    for _ in 0..3 {
        for (src, dst) in small.chunks_exact(rw).zip(tmp.chunks_exact_mut(rw)) {
            blur_row(src, dst, third);
        }
        for sy in 0..sh {
            let up = sy.saturating_sub(1) * rw;
            let mid = sy * rw;
            let down = (sy + 1).min(sh - 1) * rw;
            let dst = &mut small[mid..mid + rw];
            let (a, b, c) = (
                &tmp[up..up + rw],
                &tmp[mid..mid + rw],
                &tmp[down..down + rw],
            );
            for (((d, &a), &b), &c) in dst.iter_mut().zip(a).zip(b).zip(c) {
                *d = (a + b + c) * third;
            }
        }
    }
    for (a, &s) in add.iter_mut().zip(&*small) {
        *a = (s * gain).clamp(0.0, 255.0) as u8;
    }
    for (live, add) in live.iter_mut().zip(add.chunks_exact(rw)) {
        *live = add.iter().any(|&v| v != 0);
    }
}

/// Horizontal 3-tap mean of one row of rgb `f32` pixels, edges clamped.
#[inline(always)]
fn blur_row(src: &[f32], dst: &mut [f32], third: f32) {
    let n = src.len();
    if n <= 3 {
        dst.copy_from_slice(src);
        return;
    }
    for k in 0..3 {
        dst[k] = (src[k] + src[k] + src[k + 3]) * third;
        dst[n - 3 + k] = (src[n - 6 + k] + src[n - 3 + k] + src[n - 3 + k]) * third;
    }
    let l = &src[..n - 6];
    let m = &src[3..n - 3];
    let r = &src[6..];
    for (((d, &a), &b), &c) in dst[3..n - 3].iter_mut().zip(l).zip(m).zip(r) {
        *d = (a + b + c) * third;
    }
}

/// Luma-gradient glow.
#[derive(Debug, Clone)]
struct EdgeGlow {
    color: [u8; 3],
    /// Edge gain in 1/256 steps.
    gain: u32,
}

impl Pass for EdgeGlow {
    fn set(&mut self, param: usize, v: f64) -> bool {
        // The indexes of EDGE_GLOW_PARAMS, the values as the builder takes them.
        match param {
            0 => self.color = hsv2rgb(EDGE_GLOW_HUE.clamp(v) as f32, 1.0, 1.0),
            1 => self.gain = (EDGE_GLOW_STRENGTH.clamp(v) * 256.0).round() as u32,
            _ => return false,
        }
        true
    }

    #[inline(never)]
    fn apply(&mut self, frame: &mut [u8], cx: &mut Ctx<'_>) {
        let (w, h) = (cx.w, cx.h);
        if w < 3 || h < 3 || self.gain == 0 {
            return;
        }
        let stride = w * 3;
        // Luma plane in the scratch buffer.
        cx.scratch.resize(w * h, 0);
        let l = &mut cx.scratch[..w * h];
        for (d, px) in l.iter_mut().zip(frame.chunks_exact(3)) {
            *d = luma(px[0], px[1], px[2]);
        }
        let l = &cx.scratch[..w * h];
        // The colour added for each edge strength.
        let mut add = [[0u8; 3]; 256];
        for (e, a) in add.iter_mut().enumerate() {
            *a = self
                .color
                .map(|c| ((u32::from(c) * e as u32 + 127) / 255) as u8);
        }
        for y in 1..h - 1 {
            let up = &l[(y - 1) * w..y * w];
            let mid = &l[y * w..(y + 1) * w];
            let dn = &l[(y + 1) * w..(y + 2) * w];
            let line = &mut frame[y * stride..(y + 1) * stride];
            for x in 1..w - 1 {
                let gx = mid[x + 1].abs_diff(mid[x - 1]);
                let gy = dn[x].abs_diff(up[x]);
                let e = (((u32::from(gx) + u32::from(gy)) * self.gain) >> 8).min(255);
                if e == 0 {
                    continue;
                }
                let a = add[e as usize];
                let px = &mut line[x * 3..x * 3 + 3];
                for k in 0..3 {
                    px[k] = px[k].saturating_add(a[k]);
                }
            }
        }
    }
}

/// Half-resolution box blur mixed back in.
#[derive(Debug, Clone)]
struct SoftFocus {
    /// Share of the blur in 1/256 steps.
    mix: i32,
    radius: usize,
    small: Vec<u16>,
    tmp: Vec<u16>,
    sums: Vec<u32>,
}

impl Pass for SoftFocus {
    fn set(&mut self, param: usize, v: f64) -> bool {
        // The indexes of SOFT_FOCUS_PARAMS, the values as the builder takes them.
        match param {
            0 => self.mix = (SOFT_FOCUS_STRENGTH.clamp(v) * 256.0).round() as i32,
            1 => self.radius = SOFT_FOCUS_RADIUS.whole_of(v) as usize,
            _ => return false,
        }
        true
    }

    #[inline(never)]
    fn apply(&mut self, frame: &mut [u8], cx: &mut Ctx<'_>) {
        if self.mix == 0 {
            return;
        }
        let (w, h) = (cx.w, cx.h);
        let stride = w * 3;
        let (sw, sh) = (w.div_ceil(2), h.div_ceil(2));
        let rw = sw * 3;
        self.small.resize(sw * sh * 3, 0);
        self.tmp.resize(sw * sh * 3, 0);
        // 2x2 means (edge rows/columns repeat).
        for sy in 0..sh {
            let y0 = (2 * sy).min(h - 1);
            let y1 = (2 * sy + 1).min(h - 1);
            let (a, b) = (
                &frame[y0 * stride..][..stride],
                &frame[y1 * stride..][..stride],
            );
            let dst = &mut self.small[sy * rw..(sy + 1) * rw];
            for (sx, d) in dst.chunks_exact_mut(3).enumerate() {
                let x0 = 2 * sx * 3;
                let x1 = (2 * sx + 1).min(w - 1) * 3;
                for k in 0..3 {
                    let s = u16::from(a[x0 + k])
                        + u16::from(a[x1 + k])
                        + u16::from(b[x0 + k])
                        + u16::from(b[x1 + k]);
                    d[k] = (s + 2) / 4;
                }
            }
        }
        let r = self.radius;
        let n = (2 * r + 1) as u32;
        // Divisions by n as a multiply by a 32-bit reciprocal (exact enough for 16-bit sums).
        let inv = (1u64 << 32) / u64::from(n);
        let div = |s: u32| ((u64::from(s) * inv + (1 << 31)) >> 32) as u16;
        // Horizontal box (clamped edges) into tmp, three channels at once.
        let last = sw - 1;
        for (src, dst) in self
            .small
            .chunks_exact(rw)
            .zip(self.tmp.chunks_exact_mut(rw))
        {
            let at = |i: usize| {
                let o = i.min(last) * 3;
                [src[o], src[o + 1], src[o + 2]].map(u32::from)
            };
            let mut s = [
                u32::from(src[0]) * r as u32,
                u32::from(src[1]) * r as u32,
                u32::from(src[2]) * r as u32,
            ];
            for i in 0..=r {
                let a = at(i);
                for k in 0..3 {
                    s[k] += a[k];
                }
            }
            for (x, d) in dst.chunks_exact_mut(3).enumerate() {
                for k in 0..3 {
                    d[k] = div(s[k]);
                }
                let a = at(x + r + 1);
                let b = at(x.saturating_sub(r));
                for k in 0..3 {
                    s[k] = s[k] + a[k] - b[k];
                }
            }
        }
        // Vertical box (clamped edges) back into small, with running column sums.
        self.sums.clear();
        self.sums.resize(rw, 0);
        let row = |i: isize| (i.clamp(0, sh as isize - 1) as usize) * rw;
        for i in -(r as isize)..=r as isize {
            let o = row(i);
            for (s, &v) in self.sums.iter_mut().zip(&self.tmp[o..o + rw]) {
                *s += u32::from(v);
            }
        }
        for sy in 0..sh {
            let dst = &mut self.small[sy * rw..(sy + 1) * rw];
            for (d, &s) in dst.iter_mut().zip(&self.sums) {
                *d = div(s);
            }
            let add = row(sy as isize + r as isize + 1);
            let sub = row(sy as isize - r as isize);
            for ((s, &a), &b) in self
                .sums
                .iter_mut()
                .zip(&self.tmp[add..add + rw])
                .zip(&self.tmp[sub..sub + rw])
            {
                *s = *s + u32::from(a) - u32::from(b);
            }
        }
        // Mix at full resolution.
        let m = self.mix;
        for (y, line) in frame.chunks_exact_mut(stride).enumerate() {
            let srow = &self.small[(y / 2) * rw..(y / 2 + 1) * rw];
            for (pair, s) in line.chunks_mut(6).zip(srow.chunks_exact(3)) {
                for px in pair.chunks_exact_mut(3) {
                    for k in 0..3 {
                        let v = i32::from(px[k]);
                        px[k] = (v + (((i32::from(s[k]) - v) * m + 128) >> 8)) as u8;
                    }
                }
            }
        }
    }
}

/// Zoom blur: the mean of copies scaled towards the centre.
#[derive(Debug, Clone)]
struct RadialBlur {
    strength: f64,
    samples: usize,
    acc: Vec<u16>,
    /// Per sample, the source byte offset of each column.
    cols: Vec<u32>,
}

impl Pass for RadialBlur {
    fn set(&mut self, param: usize, v: f64) -> bool {
        // The indexes of RADIAL_BLUR_PARAMS, the values as the builder takes them; the column
        // offsets follow both, so they are worked out again.
        match param {
            0 => self.strength = RADIAL_BLUR_STRENGTH.clamp(v),
            1 => self.samples = RADIAL_BLUR_SAMPLES.whole_of(v) as usize,
            _ => return false,
        }
        self.cols.clear();
        true
    }

    #[inline(never)]
    fn apply(&mut self, frame: &mut [u8], cx: &mut Ctx<'_>) {
        if self.strength <= 0.0 {
            return;
        }
        let (w, h) = (cx.w, cx.h);
        let stride = w * 3;
        let n = self.samples;
        let (mx, my) = ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0);
        let scales: Vec<f64> = (0..n)
            .map(|k| 1.0 - self.strength * k as f64 / (n - 1) as f64)
            .collect();
        // Source byte offset of every column for every sample: mx (1 - s) + x s, rounded.
        if self.cols.len() != n * w {
            self.cols.clear();
            for &s in &scales {
                self.cols.extend((0..w).map(|x| {
                    let sx = (mx * (1.0 - s) + x as f64 * s)
                        .round()
                        .clamp(0.0, (w - 1) as f64);
                    (sx as u32) * 3
                }));
            }
        }
        self.acc.resize(stride, 0);
        let inv = (65536 + n as u32 / 2) / n as u32;
        let src = cx.copy_of(frame);
        for (y, line) in frame.chunks_exact_mut(stride).enumerate() {
            self.acc.fill(0);
            for (k, &s) in scales.iter().enumerate() {
                let sy = (my + (y as f64 - my) * s)
                    .round()
                    .clamp(0.0, (h - 1) as f64) as usize;
                let srow = &src[sy * stride..(sy + 1) * stride];
                let cols = &self.cols[k * w..(k + 1) * w];
                for (a, &c) in self.acc.chunks_exact_mut(3).zip(cols) {
                    let px = &srow[c as usize..c as usize + 3];
                    a[0] += u16::from(px[0]);
                    a[1] += u16::from(px[1]);
                    a[2] += u16::from(px[2]);
                }
            }
            for (o, &a) in line.iter_mut().zip(&self.acc) {
                *o = ((u32::from(a) * inv + 32768) >> 16).min(255) as u8;
            }
        }
    }
}
