//! Geometry shaders: `crt`, `pixelate`, `wave_distort`, `kaleidoscope`, `mirror_h`, `mirror_v`,
//! `mirror_quad`, `mirror_diag`.
//!
//! - `crt(strength 0.05)`: barrel distortion; with `(u, v)` spanning `[-1, 1]`, output `(u, v)`
//!   samples `(u, v) * (1 + strength * (u^2 + v^2))`, black outside the frame. The remap is built
//!   once per renderer.
//! - `pixelate(block 4)`: each `block x block` square becomes its mean colour.
//! - `wave_distort(freq 0.02, amp 8, axis h, speed 3)`: axis `h` shifts row `y` sideways by
//!   `round(amp * sin(y * freq + speed * t))` pixels; axis `v` shifts columns up and down. Edges
//!   are clamped.
//! - `kaleidoscope(folds 6)`: polar fold around the centre into `folds` mirrored wedges (cached
//!   remap; sources outside the frame are clamped to its edge).
//! - `mirror_h`: the left half mirrored onto the right; `mirror_v`: the top half onto the bottom;
//!   `mirror_quad`: the top-left quarter onto all four; `mirror_diag`: the part above the
//!   diagonal from top-left to bottom-right reflected onto the part below (in frame-relative
//!   coordinates, cached remap).

use super::pass::{Axis, Ctx, Def, Pass, Remap};
use crate::render::params::{Dflt, Kind, ParamSpec, int, num, p};
use crate::render::shaders::name::Shader;

/// `crt.strength`.
const CRT_STRENGTH: ParamSpec = p(
    "strength",
    num(0.0, 1.0),
    Dflt::Num(0.05),
    "barrel curvature",
);

const CRT_PARAMS: &[ParamSpec] = &[CRT_STRENGTH];

/// `pixelate.block`.
const PIXELATE_BLOCK: ParamSpec = p(
    "block",
    int(1.0, 256.0),
    Dflt::Num(4.0),
    "block size in pixels",
);

const PIXELATE_PARAMS: &[ParamSpec] = &[PIXELATE_BLOCK];

/// `wave.freq`.
const WAVE_FREQ: ParamSpec = p(
    "freq",
    num(0.0, 1.0),
    Dflt::Num(0.02),
    "radians per pixel along the axis",
);

/// `wave.amp`.
const WAVE_AMP: ParamSpec = p(
    "amp",
    num(0.0, 512.0),
    Dflt::Num(8.0),
    "largest shift in pixels",
);

/// `wave.axis`.
const WAVE_AXIS: ParamSpec = p(
    "axis",
    Kind::Choice(Axis::NAMES),
    Dflt::Word("h"),
    "h: rows shift sideways; v: columns shift up and down",
);

/// `wave.speed`.
const WAVE_SPEED: ParamSpec = p(
    "speed",
    num(-100.0, 100.0),
    Dflt::Num(3.0),
    "phase speed in radians per second",
);

const WAVE_PARAMS: &[ParamSpec] = &[WAVE_FREQ, WAVE_AMP, WAVE_AXIS, WAVE_SPEED];

/// `kaleidoscope.folds`.
const KALEIDOSCOPE_FOLDS: ParamSpec =
    p("folds", int(2.0, 64.0), Dflt::Num(6.0), "number of wedges");

const KALEIDOSCOPE_PARAMS: &[ParamSpec] = &[KALEIDOSCOPE_FOLDS];

const NO_PARAMS: &[ParamSpec] = &[];

/// The geometry shaders.
pub const DEFS: &[Def] = &[
    Def {
        shader: Shader::Crt,
        params: CRT_PARAMS,
        help: "barrel distortion (cached remap)",
        build: |p, w, h| {
            let k = CRT_STRENGTH.clamped(p);
            let (cx, cy) = ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0);
            Box::new(Remap::new(w, h, |x, y| {
                let u = if cx > 0.0 { (x as f64 - cx) / cx } else { 0.0 };
                let v = if cy > 0.0 { (y as f64 - cy) / cy } else { 0.0 };
                let f = 1.0 + k * (u * u + v * v);
                let sx = (cx + u * f * cx).round();
                let sy = (cy + v * f * cy).round();
                (sx >= 0.0 && sy >= 0.0 && sx <= (w - 1) as f64 && sy <= (h - 1) as f64)
                    .then_some((sx as usize, sy as usize))
            }))
        },
        check: None,
    },
    Def {
        shader: Shader::Pixelate,
        params: PIXELATE_PARAMS,
        help: "mean colour per block",
        build: |p, w, _| {
            let b = PIXELATE_BLOCK.whole(p) as usize;
            Box::new(Pixelate {
                block: b,
                sums: vec![0; w.div_ceil(b) * 3],
            })
        },
        check: None,
    },
    Def {
        shader: Shader::WaveDistort,
        params: WAVE_PARAMS,
        help: "sine-wave row (or column) shifts",
        build: |p, _, _| {
            Box::new(Wave {
                freq: WAVE_FREQ.clamped(p) as f32,
                amp: WAVE_AMP.clamped(p) as f32,
                vertical: WAVE_AXIS.choice::<Axis>(p) == Axis::V,
                speed: WAVE_SPEED.clamped(p) as f32,
                offs: Vec::new(),
            })
        },
        check: None,
    },
    Def {
        shader: Shader::Kaleidoscope,
        params: KALEIDOSCOPE_PARAMS,
        help: "mirrored wedges around the centre (cached remap)",
        build: |p, w, h| {
            let folds = KALEIDOSCOPE_FOLDS.whole(p) as f64;
            let sector = std::f64::consts::TAU / folds;
            let (cx, cy) = ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0);
            Box::new(Remap::new(w, h, |x, y| {
                let (dx, dy) = (x as f64 - cx, y as f64 - cy);
                let r = (dx * dx + dy * dy).sqrt();
                let mut a = dy.atan2(dx).rem_euclid(sector);
                if a > sector / 2.0 {
                    a = sector - a;
                }
                let sx = (cx + r * a.cos()).round().clamp(0.0, (w - 1) as f64);
                let sy = (cy + r * a.sin()).round().clamp(0.0, (h - 1) as f64);
                Some((sx as usize, sy as usize))
            }))
        },
        check: None,
    },
    Def {
        shader: Shader::MirrorH,
        params: NO_PARAMS,
        help: "left half mirrored onto the right",
        build: |_, _, _| Box::new(Mirror { h: true, v: false }),
        check: None,
    },
    Def {
        shader: Shader::MirrorV,
        params: NO_PARAMS,
        help: "top half mirrored onto the bottom",
        build: |_, _, _| Box::new(Mirror { h: false, v: true }),
        check: None,
    },
    Def {
        shader: Shader::MirrorQuad,
        params: NO_PARAMS,
        help: "top-left quarter mirrored onto all four",
        build: |_, _, _| Box::new(Mirror { h: true, v: true }),
        check: None,
    },
    Def {
        shader: Shader::MirrorDiag,
        params: NO_PARAMS,
        help: "upper-right triangle reflected onto the lower-left (cached remap)",
        build: |_, w, h| {
            let (fw, fh) = ((w.max(2) - 1) as f64, (h.max(2) - 1) as f64);
            Box::new(Remap::new(w, h, |x, y| {
                let (u, v) = (x as f64 / fw, y as f64 / fh);
                if v <= u {
                    Some((x, y))
                } else {
                    Some(((v * fw).round() as usize, (u * fh).round() as usize))
                }
            }))
        },
        check: None,
    },
];

/// Block means.
#[derive(Debug, Clone)]
struct Pixelate {
    block: usize,
    sums: Vec<u32>,
}

impl Pass for Pixelate {
    #[inline(never)]
    fn apply(&mut self, frame: &mut [u8], cx: &mut Ctx<'_>) {
        let b = self.block;
        if b <= 1 {
            return;
        }
        let (w, h) = (cx.w, cx.h);
        let stride = w * 3;
        let nb = w.div_ceil(b);
        self.sums.resize(nb * 3, 0);
        for y0 in (0..h).step_by(b) {
            let rows = b.min(h - y0);
            let band = &mut frame[y0 * stride..(y0 + rows) * stride];
            self.sums.fill(0);
            for line in band.chunks_exact(stride) {
                for (seg, s) in line.chunks(b * 3).zip(self.sums.chunks_exact_mut(3)) {
                    for px in seg.chunks_exact(3) {
                        s[0] += u32::from(px[0]);
                        s[1] += u32::from(px[1]);
                        s[2] += u32::from(px[2]);
                    }
                }
            }
            let mut means = [0u8; 3];
            for (i, s) in self.sums.chunks_exact_mut(3).enumerate() {
                let n = (b.min(w - i * b) * rows) as u32;
                for k in 0..3 {
                    means[k] = ((s[k] + n / 2) / n) as u8;
                }
                // Pack the mean into the sum slot (read back below).
                s[0] = u32::from_le_bytes([means[0], means[1], means[2], 0]);
            }
            for line in band.chunks_exact_mut(stride) {
                for (seg, s) in line.chunks_mut(b * 3).zip(self.sums.chunks_exact(3)) {
                    let m = s[0].to_le_bytes();
                    for px in seg.chunks_exact_mut(3) {
                        px.copy_from_slice(&m[..3]);
                    }
                }
            }
        }
    }
}

/// Sine-wave shifts of rows or columns.
#[derive(Debug, Clone)]
struct Wave {
    freq: f32,
    amp: f32,
    vertical: bool,
    speed: f32,
    offs: Vec<i32>,
}

impl Pass for Wave {
    fn set(&mut self, param: usize, v: f64) -> bool {
        // The indexes of WAVE_PARAMS, the values as the builder takes them.
        match param {
            0 => self.freq = WAVE_FREQ.clamp(v) as f32,
            1 => self.amp = WAVE_AMP.clamp(v) as f32,
            3 => self.speed = WAVE_SPEED.clamp(v) as f32,
            _ => return false,
        }
        true
    }

    #[inline(never)]
    fn apply(&mut self, frame: &mut [u8], cx: &mut Ctx<'_>) {
        let (w, h) = (cx.w, cx.h);
        let stride = w * 3;
        let n = if self.vertical { w } else { h };
        let phase = self.speed * cx.t;
        self.offs.clear();
        self.offs.extend(
            (0..n).map(|i| (self.amp * (i as f32 * self.freq + phase).sin()).round() as i32),
        );
        if self.offs.iter().all(|&o| o == 0) {
            return;
        }
        if !self.vertical {
            // Rows move sideways: one row of scratch at a time.
            cx.scratch.resize(stride, 0);
            for (line, &s) in frame.chunks_exact_mut(stride).zip(&self.offs) {
                if s == 0 {
                    continue;
                }
                let src = &mut cx.scratch[..stride];
                src.copy_from_slice(line);
                let d = (s.unsigned_abs() as usize).min(w);
                if s > 0 {
                    line[d * 3..].copy_from_slice(&src[..(w - d) * 3]);
                    let edge = [src[0], src[1], src[2]];
                    for px in line[..d * 3].chunks_exact_mut(3) {
                        px.copy_from_slice(&edge);
                    }
                } else {
                    line[..(w - d) * 3].copy_from_slice(&src[d * 3..]);
                    let e = (w - 1) * 3;
                    let edge = [src[e], src[e + 1], src[e + 2]];
                    for px in line[(w - d) * 3..].chunks_exact_mut(3) {
                        px.copy_from_slice(&edge);
                    }
                }
            }
        } else {
            let src = cx.copy_of(frame);
            for (y, line) in frame.chunks_exact_mut(stride).enumerate() {
                for (x, (px, &s)) in line.chunks_exact_mut(3).zip(&self.offs).enumerate() {
                    if s != 0 {
                        let sy = (y as i64 - i64::from(s)).clamp(0, h as i64 - 1) as usize;
                        let o = sy * stride + x * 3;
                        px.copy_from_slice(&src[o..o + 3]);
                    }
                }
            }
        }
    }
}

/// In-place mirrors.
#[derive(Debug, Clone)]
struct Mirror {
    h: bool,
    v: bool,
}

impl Pass for Mirror {
    #[inline(never)]
    fn apply(&mut self, frame: &mut [u8], cx: &mut Ctx<'_>) {
        let (w, h) = (cx.w, cx.h);
        let stride = w * 3;
        if self.h {
            let half = w / 2;
            for line in frame.chunks_exact_mut(stride) {
                let (left, right) = line.split_at_mut((w - half) * 3);
                for (d, s) in right
                    .chunks_exact_mut(3)
                    .zip(left[..half * 3].chunks_exact(3).rev())
                {
                    d.copy_from_slice(s);
                }
            }
        }
        if self.v {
            let half = h / 2;
            let (top, bottom) = frame.split_at_mut((h - half) * stride);
            for (d, s) in bottom
                .chunks_exact_mut(stride)
                .zip(top[..half * stride].chunks_exact(stride).rev())
            {
                d.copy_from_slice(s);
            }
        }
    }
}
