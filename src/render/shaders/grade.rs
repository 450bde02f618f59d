//! Colour shaders: `invert`, `posterize`, `threshold`, `solarize`, `hue_rotate`, `saturation`,
//! `color_grade`, `color_wobble`, `color_ramp`.
//!
//! Per-byte ones are a 256-entry lookup table. `hue_rotate` and `saturation` are the standard
//! luminance-preserving 3x3 colour matrices (as in CSS/SVG filters, luma weights .213/.715/.072),
//! in 12-bit fixed point. `color_ramp` maps each pixel's luma (`(77 r + 150 g + 29 b) >> 8`)
//! through a gradient. `color_wobble` rebuilds its three tables every frame (768 bytes).

use super::pass::{ChannelLut, Ctx, Def, Pass, luma};
use crate::render::color::{RgbPalette, Tint};
use crate::render::params::{
    CustomKind, Dflt, Kind, Param, ParamSpec, Params, int, is_num_list, num, nums_of, p,
};
use crate::render::shaders::name::Shader;

static TINT_KIND: CustomKind = CustomKind {
    expect: || {
        format!(
            "a tint name ({}) or a list of three multipliers [r, g, b], each 0 to 4",
            Tint::NAMES.join(", ")
        )
    },
    check: |v| match v {
        Param::Text(s) => s.parse::<Tint>().is_ok(),
        other => is_num_list(other, 3, 0.0, 4.0, false),
    },
};

static COLORS_KIND: CustomKind = CustomKind {
    expect: || "a list of 2 to 16 colours, each a list [r, g, b] of numbers 0 to 255".to_string(),
    check: |v| match v {
        Param::List(items) => {
            (2..=16).contains(&items.len())
                && items.iter().all(|c| is_num_list(c, 3, 0.0, 255.0, false))
        }
        _ => false,
    },
};

const INVERT_PARAMS: &[ParamSpec] = &[];

/// `posterize.levels`.
const POSTERIZE_LEVELS: ParamSpec = p(
    "levels",
    int(2.0, 64.0),
    Dflt::Num(4.0),
    "values per channel",
);

const POSTERIZE_PARAMS: &[ParamSpec] = &[POSTERIZE_LEVELS];

/// `threshold.thr`.
const THRESHOLD_THR: ParamSpec = p(
    "thr",
    num(0.0, 255.0),
    Dflt::Num(128.0),
    "pixels whose luma is above become white, the rest black",
);

/// `threshold.threshold`.
const THRESHOLD_THRESHOLD: ParamSpec = p(
    "threshold",
    num(0.0, 255.0),
    Dflt::Words("(alias of thr)"),
    "alias of thr",
);

const THRESHOLD_PARAMS: &[ParamSpec] = &[THRESHOLD_THR, THRESHOLD_THRESHOLD];

/// `solarize.threshold`.
const SOLARIZE_THRESHOLD: ParamSpec = p(
    "threshold",
    num(0.0, 255.0),
    Dflt::Num(128.0),
    "channel values above are inverted",
);

/// `solarize.thr`.
const SOLARIZE_THR: ParamSpec = p(
    "thr",
    num(0.0, 255.0),
    Dflt::Words("(alias of threshold)"),
    "alias of threshold",
);

const SOLARIZE_PARAMS: &[ParamSpec] = &[SOLARIZE_THRESHOLD, SOLARIZE_THR];

/// `hue_rotate.amount`.
const HUE_ROTATE_AMOUNT: ParamSpec = p(
    "amount",
    num(-1.0, 1.0),
    Dflt::Num(0.1),
    "rotation in turns (0.5 = complementary hues)",
);

const HUE_ROTATE_PARAMS: &[ParamSpec] = &[HUE_ROTATE_AMOUNT];

/// `saturation.factor`.
const SATURATION_FACTOR: ParamSpec = p(
    "factor",
    num(0.0, 4.0),
    Dflt::Num(1.5),
    "0 = grey, 1 = unchanged, above 1 = more saturated",
);

const SATURATION_PARAMS: &[ParamSpec] = &[SATURATION_FACTOR];

/// `color_grade.tint`.
const COLOR_GRADE_TINT: ParamSpec = p(
    "tint",
    Kind::Custom(&TINT_KIND),
    Dflt::Word("warm"),
    "a tint name or [r, g, b] multipliers",
);

const COLOR_GRADE_PARAMS: &[ParamSpec] = &[COLOR_GRADE_TINT];

/// `color_wobble.amt`.
const COLOR_WOBBLE_AMT: ParamSpec = p(
    "amt",
    num(0.0, 1.0),
    Dflt::Num(0.3),
    "channel gain swing: x (1 + amt sin(speed t + k 2.09))",
);

/// `color_wobble.speed`.
const COLOR_WOBBLE_SPEED: ParamSpec = p(
    "speed",
    num(0.0, 50.0),
    Dflt::Num(5.0),
    "angular speed (radians per second)",
);

const COLOR_WOBBLE_PARAMS: &[ParamSpec] = &[COLOR_WOBBLE_AMT, COLOR_WOBBLE_SPEED];

/// `color_ramp.ramp`.
const COLOR_RAMP_RAMP: ParamSpec = p(
    "ramp",
    Kind::Choice(RgbPalette::NAMES),
    Dflt::Word("mono_green"),
    "a named gradient, dark to bright",
);

/// `color_ramp.colors`.
const COLOR_RAMP_COLORS: ParamSpec = p(
    "colors",
    Kind::Custom(&COLORS_KIND),
    Dflt::Words("(none)"),
    "explicit gradient stops [[r, g, b], ...], dark to bright; beats ramp",
);

const COLOR_RAMP_PARAMS: &[ParamSpec] = &[COLOR_RAMP_RAMP, COLOR_RAMP_COLORS];

/// The colour shaders.
pub const DEFS: &[Def] = &[
    Def {
        shader: Shader::Invert,
        params: INVERT_PARAMS,
        help: "255 - v",
        build: |_, _, _| Box::new(ChannelLut::mono(|v| 255 - v)),
        check: None,
    },
    Def {
        shader: Shader::Posterize,
        params: POSTERIZE_PARAMS,
        help: "quantise each channel to `levels` values",
        build: |p, _, _| {
            let n = POSTERIZE_LEVELS.whole(p) as f64 - 1.0;
            Box::new(ChannelLut::mono(|v| {
                let q = (f64::from(v) * n / 255.0).round();
                (q * 255.0 / n).round() as u8
            }))
        },
        check: None,
    },
    Def {
        shader: Shader::Threshold,
        params: THRESHOLD_PARAMS,
        help: "black and white by luma",
        build: |p, _, _| {
            let thr = THRESHOLD_THR.clamped_or(p, &THRESHOLD_THRESHOLD);
            Box::new(Threshold {
                thr: thr.floor() as u8,
            })
        },
        check: None,
    },
    Def {
        shader: Shader::Solarize,
        params: SOLARIZE_PARAMS,
        help: "invert channel values above the threshold",
        build: |p, _, _| {
            let thr = SOLARIZE_THRESHOLD.clamped_or(p, &SOLARIZE_THR);
            Box::new(ChannelLut::mono(|v| {
                if f64::from(v) > thr { 255 - v } else { v }
            }))
        },
        check: None,
    },
    Def {
        shader: Shader::HueRotate,
        params: HUE_ROTATE_PARAMS,
        help: "rotate hues (luminance-preserving matrix)",
        build: |p, _, _| {
            let th = HUE_ROTATE_AMOUNT.clamped(p) * std::f64::consts::TAU;
            let (b, a) = th.sin_cos();
            Box::new(Matrix::new([
                [
                    0.213 + a * 0.787 - b * 0.213,
                    0.715 - a * 0.715 - b * 0.715,
                    0.072 - a * 0.072 + b * 0.928,
                ],
                [
                    0.213 - a * 0.213 + b * 0.143,
                    0.715 + a * 0.285 + b * 0.140,
                    0.072 - a * 0.072 - b * 0.283,
                ],
                [
                    0.213 - a * 0.213 - b * 0.787,
                    0.715 - a * 0.715 + b * 0.715,
                    0.072 + a * 0.928 + b * 0.072,
                ],
            ]))
        },
        check: None,
    },
    Def {
        shader: Shader::Saturation,
        params: SATURATION_PARAMS,
        help: "scale saturation (luminance-preserving matrix)",
        build: |p, _, _| {
            let s = SATURATION_FACTOR.clamped(p);
            Box::new(Matrix::new([
                [0.213 + 0.787 * s, 0.715 - 0.715 * s, 0.072 - 0.072 * s],
                [0.213 - 0.213 * s, 0.715 + 0.285 * s, 0.072 - 0.072 * s],
                [0.213 - 0.213 * s, 0.715 - 0.715 * s, 0.072 + 0.928 * s],
            ]))
        },
        check: None,
    },
    Def {
        shader: Shader::ColorGrade,
        params: COLOR_GRADE_PARAMS,
        help: "multiply the channels by a tint",
        build: |p, _, _| {
            let m = tint(p);
            Box::new(ChannelLut::rgb(|c, v| {
                (f32::from(v) * m[c]).round().clamp(0.0, 255.0) as u8
            }))
        },
        check: None,
    },
    Def {
        shader: Shader::ColorWobble,
        params: COLOR_WOBBLE_PARAMS,
        help: "channel gains swinging with time, a third of a turn apart",
        build: |p, _, _| {
            Box::new(Wobble {
                amt: COLOR_WOBBLE_AMT.clamped(p) as f32,
                speed: COLOR_WOBBLE_SPEED.clamped(p) as f32,
            })
        },
        check: None,
    },
    Def {
        shader: Shader::ColorRamp,
        params: COLOR_RAMP_PARAMS,
        help: "luma mapped through a colour gradient",
        build: |p, _, _| {
            let stops: Vec<[u8; 3]> = match p.get(COLOR_RAMP_COLORS.name) {
                Some(Param::List(items)) => items
                    .iter()
                    .filter_map(|c| {
                        let n = nums_of(c)?;
                        (n.len() == 3)
                            .then(|| [0, 1, 2].map(|k| n[k].round().clamp(0.0, 255.0) as u8))
                    })
                    .collect(),
                _ => {
                    let ramp: RgbPalette = COLOR_RAMP_RAMP.choice(p);
                    {
                        let stops = ramp.colours();
                        // A ramp starts dark, so that a black background stays black: palettes
                        // whose first colour is bright (neon, cyberpunk, ...) get black in front.
                        let dark = stops.first().is_some_and(|c| c.iter().all(|&v| v <= 60));
                        let mut v = if dark { Vec::new() } else { vec![[0, 0, 0]] };
                        v.extend_from_slice(stops);
                        v
                    }
                }
            };
            Box::new(Ramp::new(&stops))
        },
        check: None,
    },
];

/// The RGB multipliers of `color_grade`'s `tint` (a name or a list).
fn tint(p: &Params) -> [f32; 3] {
    if let Some(n) = COLOR_GRADE_TINT.nums(p)
        && n.len() == 3
    {
        return [0, 1, 2].map(|k| n[k].clamp(0.0, 4.0) as f32);
    }
    COLOR_GRADE_TINT.choice::<Tint>(p).rgb()
}

/// Black and white by luma.
#[derive(Debug, Clone)]
struct Threshold {
    thr: u8,
}

impl Pass for Threshold {
    #[inline(never)]
    fn apply(&mut self, frame: &mut [u8], _cx: &mut Ctx<'_>) {
        for px in frame.chunks_exact_mut(3) {
            let v = if luma(px[0], px[1], px[2]) > self.thr {
                255
            } else {
                0
            };
            px.fill(v);
        }
    }
}

/// A 3x3 colour matrix in 12-bit fixed point.
#[derive(Debug, Clone)]
struct Matrix {
    m: [[i32; 3]; 3],
}

impl Matrix {
    fn new(m: [[f64; 3]; 3]) -> Matrix {
        Matrix {
            m: m.map(|row| row.map(|c| (c * 4096.0).round() as i32)),
        }
    }
}

impl Pass for Matrix {
    #[inline(never)]
    fn apply(&mut self, frame: &mut [u8], _cx: &mut Ctx<'_>) {
        let [m0, m1, m2] = self.m;
        let q = |v: i32| ((v + 2048) >> 12).clamp(0, 255) as u8;
        for px in frame.chunks_exact_mut(3) {
            if px == [0, 0, 0] {
                continue; // black stays black (most of an ASCII frame)
            }
            let (r, g, b) = (i32::from(px[0]), i32::from(px[1]), i32::from(px[2]));
            let o0 = q(m0[0] * r + m0[1] * g + m0[2] * b);
            let o1 = q(m1[0] * r + m1[1] * g + m1[2] * b);
            let o2 = q(m2[0] * r + m2[1] * g + m2[2] * b);
            px[0] = o0;
            px[1] = o1;
            px[2] = o2;
        }
    }
}

/// Time-varying channel gains.
#[derive(Debug, Clone)]
struct Wobble {
    amt: f32,
    speed: f32,
}

impl Pass for Wobble {
    fn set(&mut self, param: usize, v: f64) -> bool {
        // The indexes of COLOR_WOBBLE_PARAMS, the values as the builder takes them.
        match param {
            0 => self.amt = COLOR_WOBBLE_AMT.clamp(v) as f32,
            1 => self.speed = COLOR_WOBBLE_SPEED.clamp(v) as f32,
            _ => return false,
        }
        true
    }

    fn apply(&mut self, frame: &mut [u8], cx: &mut Ctx<'_>) {
        let g: [f32; 3] =
            [0, 1, 2].map(|k| 1.0 + self.amt * (self.speed * cx.t + k as f32 * 2.09).sin());
        ChannelLut::rgb(|c, v| (f32::from(v) * g[c]).round().clamp(0.0, 255.0) as u8).run(frame);
    }
}

/// Luma to colour through a gradient.
#[derive(Debug, Clone)]
struct Ramp {
    lut: Box<[[u8; 3]; 256]>,
}

impl Ramp {
    fn new(stops: &[[u8; 3]]) -> Ramp {
        let mut lut = Box::new([[0u8; 3]; 256]);
        let n = stops.len();
        for (i, out) in lut.iter_mut().enumerate() {
            *out = match n {
                0 => [i as u8; 3],
                1 => stops[0],
                _ => {
                    let pos = i as f32 / 255.0 * (n - 1) as f32;
                    let k = (pos.floor() as usize).min(n - 2);
                    let f = pos - k as f32;
                    [0, 1, 2].map(|c| {
                        let a = f32::from(stops[k][c]);
                        let b = f32::from(stops[k + 1][c]);
                        (a + (b - a) * f).round().clamp(0.0, 255.0) as u8
                    })
                }
            };
        }
        Ramp { lut }
    }
}

impl Pass for Ramp {
    #[inline(never)]
    fn apply(&mut self, frame: &mut [u8], _cx: &mut Ctx<'_>) {
        for px in frame.chunks_exact_mut(3) {
            let l = luma(px[0], px[1], px[2]);
            px.copy_from_slice(&self.lut[usize::from(l)]);
        }
    }
}
