//! Pattern shaders: `scanlines`, `halftone`.
//!
//! - `scanlines(intensity 0.08, spacing 3)`: every `spacing`-th row (rows 0, spacing, ...) is
//!   multiplied by `1 - intensity`. Static from frame to frame, so nearly free for the encoder.
//! - `halftone(dot_size 6, color true)`: each `dot_size` square becomes a round dot on black whose
//!   area follows the square's mean luma (a full-brightness dot covers the square); the dot has
//!   the square's mean colour (or white scaled by luma with `color: false`). The in-cell distance
//!   pattern is built once.

use super::pass::{Ctx, Def, Pass, luma};
use crate::render::params::{Dflt, Kind, ParamSpec, int, num, p};
use crate::render::shaders::name::Shader;

/// `scanlines.intensity`.
const SCANLINES_INTENSITY: ParamSpec = p(
    "intensity",
    num(0.0, 1.0),
    Dflt::Num(0.08),
    "darkening of each scanline",
);

/// `scanlines.spacing`.
const SCANLINES_SPACING: ParamSpec = p(
    "spacing",
    int(1.0, 64.0),
    Dflt::Num(3.0),
    "rows from one scanline to the next",
);

const SCANLINES_PARAMS: &[ParamSpec] = &[SCANLINES_INTENSITY, SCANLINES_SPACING];

/// `halftone.dot_size`.
const HALFTONE_DOT_SIZE: ParamSpec = p(
    "dot_size",
    int(2.0, 64.0),
    Dflt::Num(6.0),
    "cell size in pixels",
);

/// `halftone.color`.
const HALFTONE_COLOR: ParamSpec = p(
    "color",
    Kind::Bool,
    Dflt::Bool(true),
    "dots take the cell's mean colour (false: grey)",
);

const HALFTONE_PARAMS: &[ParamSpec] = &[HALFTONE_DOT_SIZE, HALFTONE_COLOR];

/// The pattern shaders.
pub const DEFS: &[Def] = &[
    Def {
        shader: Shader::Scanlines,
        params: SCANLINES_PARAMS,
        help: "darken every n-th row",
        build: |p, _, _| {
            let k = 1.0 - SCANLINES_INTENSITY.clamped(p);
            Box::new(Scanlines {
                mul: (k * 256.0).round() as u16,
                spacing: SCANLINES_SPACING.whole(p) as usize,
            })
        },
        check: None,
    },
    Def {
        shader: Shader::Halftone,
        params: HALFTONE_PARAMS,
        help: "round dots sized by brightness",
        build: |p, _, _| {
            let s = HALFTONE_DOT_SIZE.whole(p) as usize;
            Box::new(Halftone::new(s, HALFTONE_COLOR.bool(p)))
        },
        check: None,
    },
];

#[derive(Debug, Clone)]
struct Scanlines {
    /// Multiplier in 1/256 steps.
    mul: u16,
    spacing: usize,
}

impl Pass for Scanlines {
    fn set(&mut self, param: usize, v: f64) -> bool {
        // The indexes of SCANLINES_PARAMS, the values as the builder takes them.
        match param {
            0 => self.mul = ((1.0 - SCANLINES_INTENSITY.clamp(v)) * 256.0).round() as u16,
            1 => self.spacing = SCANLINES_SPACING.whole_of(v) as usize,
            _ => return false,
        }
        true
    }

    #[inline(never)]
    fn apply(&mut self, frame: &mut [u8], cx: &mut Ctx<'_>) {
        if self.mul >= 256 {
            return;
        }
        let stride = cx.w * 3;
        for line in frame.chunks_exact_mut(stride).step_by(self.spacing) {
            for v in line.iter_mut() {
                *v = ((u16::from(*v) * self.mul) >> 8) as u8;
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Halftone {
    size: usize,
    color: bool,
    /// Per in-cell pixel: the luma (0..=255) from which it is lit; `size * size` entries.
    pattern: Vec<u16>,
    sums: Vec<u32>,
}

impl Halftone {
    fn new(size: usize, color: bool) -> Halftone {
        let c = (size as f64 - 1.0) / 2.0;
        // A dot of luma L has area L / 255 of the cell: radius^2 = (L / 255) * size^2 / pi.
        // Pixel at distance d is lit when d^2 <= that, i.e. L >= 255 * pi * d^2 / size^2.
        let s2 = (size * size) as f64;
        let pattern = (0..size * size)
            .map(|i| {
                let (x, y) = ((i % size) as f64 - c, (i / size) as f64 - c);
                let need = 255.0 * std::f64::consts::PI * (x * x + y * y) / s2;
                need.round().clamp(1.0, 256.0) as u16
            })
            .collect();
        Halftone {
            size,
            color,
            pattern,
            sums: Vec::new(),
        }
    }
}

impl Pass for Halftone {
    #[inline(never)]
    fn apply(&mut self, frame: &mut [u8], cx: &mut Ctx<'_>) {
        let (w, h, s) = (cx.w, cx.h, self.size);
        let stride = w * 3;
        let nb = w.div_ceil(s);
        self.sums.resize(nb * 3, 0);
        for y0 in (0..h).step_by(s) {
            let rows = s.min(h - y0);
            let band = &mut frame[y0 * stride..(y0 + rows) * stride];
            self.sums.fill(0);
            for line in band.chunks_exact(stride) {
                for (seg, sum) in line.chunks(s * 3).zip(self.sums.chunks_exact_mut(3)) {
                    for px in seg.chunks_exact(3) {
                        sum[0] += u32::from(px[0]);
                        sum[1] += u32::from(px[1]);
                        sum[2] += u32::from(px[2]);
                    }
                }
            }
            // Mean colour and luma per cell, packed into the first sum slot.
            for (i, sum) in self.sums.chunks_exact_mut(3).enumerate() {
                let n = (s.min(w - i * s) * rows) as u32;
                let m = [0, 1, 2].map(|k| ((sum[k] + n / 2) / n) as u8);
                let l = luma(m[0], m[1], m[2]);
                let c = if self.color { m } else { [l; 3] };
                sum[0] = u32::from_le_bytes([c[0], c[1], c[2], l]);
            }
            for (ry, line) in band.chunks_exact_mut(stride).enumerate() {
                let prow = &self.pattern[ry * s..(ry + 1) * s];
                for (seg, sum) in line.chunks_mut(s * 3).zip(self.sums.chunks_exact(3)) {
                    let [r, g, b, l] = sum[0].to_le_bytes();
                    let l = u16::from(l);
                    for (px, &need) in seg.chunks_exact_mut(3).zip(prow) {
                        if l >= need {
                            px.copy_from_slice(&[r, g, b]);
                        } else {
                            px.fill(0);
                        }
                    }
                }
            }
        }
    }
}
