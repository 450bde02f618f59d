//! Tone shaders: `vignette`, `reverse_vignette`, `contrast`, `gamma`, `levels`, `brightness`.
//!
//! - `vignette(strength 0.25, floor 0.15)`: multiply by `clamp(1 - strength * r, floor, 1)`, `r` the
//!   distance from the centre with the frame spanning `[-1, 1]` on both axes; the map is built once
//!   (stored as `u8` in 1/255 steps for the top half; the bottom half mirrors it). The digest's
//!   default strength is 0.22; farm keeps the seed reference's 0.25.
//! - `reverse_vignette(strength 0.5)`: the opposite, darker in the middle:
//!   `1 - strength * max(0, 1 - r)`.
//! - `contrast(factor 1.3)`: `(v - 128) * factor + 128`; `brightness(factor 1.5)`: `v * factor`;
//!   `gamma(gamma 1.5)`: `255 * (v / 255)^(1 / gamma)` (above 1 brightens the darks);
//!   `levels(black 0, white 255, midtone 1)`: `255 * ((v - black) / (white - black))^(1 / midtone)`.
//!   All four are one 256-entry lookup table, clamped.

use super::{Ctx, Def, Lut, Pass, get_f, num, p};
use crate::render::Params;
use crate::render::canvas::div255;
use crate::render::params::{ParamSpec, get_num};

/// Parameters of `vignette` (`s` is the digest's alias of `strength`).
pub const VIGNETTE_PARAMS: &[ParamSpec] = &[
    p(
        "strength",
        num(0.0, 1.0),
        "0.25",
        "darkening per unit of distance from the centre",
    ),
    p(
        "s",
        num(0.0, 1.0),
        "(alias of strength)",
        "alias of strength, as in the digest's scene tables",
    ),
    p(
        "floor",
        num(0.0, 1.0),
        "0.15",
        "minimum brightness multiplier",
    ),
];

const REVERSE_VIGNETTE_PARAMS: &[ParamSpec] = &[p(
    "strength",
    num(0.0, 1.0),
    "0.5",
    "darkening at the centre (none at distance 1 and beyond)",
)];

const CONTRAST_PARAMS: &[ParamSpec] = &[p(
    "factor",
    num(0.0, 4.0),
    "1.3",
    "contrast around mid-grey 128",
)];

const BRIGHTNESS_PARAMS: &[ParamSpec] = &[p(
    "factor",
    num(0.0, 8.0),
    "1.5",
    "multiplier of every channel",
)];

const GAMMA_PARAMS: &[ParamSpec] = &[
    p(
        "gamma",
        num(0.1, 10.0),
        "1.5",
        "out = (in)^(1/gamma); above 1 brightens dark tones",
    ),
    p("g", num(0.1, 10.0), "(alias of gamma)", "alias of gamma"),
];

const LEVELS_PARAMS: &[ParamSpec] = &[
    p("black", num(0.0, 254.0), "0", "input level that becomes 0"),
    p(
        "white",
        num(1.0, 255.0),
        "255",
        "input level that becomes 255 (above black)",
    ),
    p(
        "midtone",
        num(0.1, 10.0),
        "1",
        "gamma of the stretched range; above 1 brightens",
    ),
];

fn check_levels(params: &Params) -> Result<(), (&'static str, String)> {
    let black = get_num(params, "black", 0.0);
    let white = get_num(params, "white", 255.0);
    if white <= black {
        return Err((
            "white",
            format!("white ({white}) must be greater than black ({black})"),
        ));
    }
    Ok(())
}

/// The tone shaders.
pub const DEFS: &[Def] = &[
    Def {
        name: "vignette",
        params: VIGNETTE_PARAMS,
        help: "darken towards the corners (cached map)",
        build: |p, w, h| {
            let s = get_f(p, "strength", get_num(p, "s", 0.25), 0.0, 1.0);
            let floor = get_f(p, "floor", 0.15, 0.0, 1.0);
            Box::new(Vignette::new(w, h, |r| (1.0 - r * s).clamp(floor, 1.0)))
        },
        check: None,
    },
    Def {
        name: "reverse_vignette",
        params: REVERSE_VIGNETTE_PARAMS,
        help: "darken the centre, keep the edges",
        build: |p, w, h| {
            let s = get_f(p, "strength", 0.5, 0.0, 1.0);
            Box::new(Vignette::new(w, h, |r| {
                (1.0 - s * (1.0 - r).max(0.0)).clamp(0.0, 1.0)
            }))
        },
        check: None,
    },
    Def {
        name: "contrast",
        params: CONTRAST_PARAMS,
        help: "stretch around mid-grey",
        build: |p, _, _| {
            let f = get_f(p, "factor", 1.3, 0.0, 4.0);
            Box::new(Lut::mono(|v| {
                ((f64::from(v) - 128.0) * f + 128.0)
                    .round()
                    .clamp(0.0, 255.0) as u8
            }))
        },
        check: None,
    },
    Def {
        name: "gamma",
        params: GAMMA_PARAMS,
        help: "gamma curve",
        build: |p, _, _| {
            let g = get_f(p, "gamma", get_num(p, "g", 1.5), 0.1, 10.0);
            Box::new(Lut::mono(|v| {
                (255.0 * (f64::from(v) / 255.0).powf(1.0 / g))
                    .round()
                    .clamp(0.0, 255.0) as u8
            }))
        },
        check: None,
    },
    Def {
        name: "levels",
        params: LEVELS_PARAMS,
        help: "black point, white point and midtone gamma",
        build: |p, _, _| {
            let black = get_f(p, "black", 0.0, 0.0, 254.0);
            let white = get_f(p, "white", 255.0, 1.0, 255.0).max(black + 1.0);
            let mid = get_f(p, "midtone", 1.0, 0.1, 10.0);
            Box::new(Lut::mono(|v| {
                let x = ((f64::from(v) - black) / (white - black)).clamp(0.0, 1.0);
                (255.0 * x.powf(1.0 / mid)).round().clamp(0.0, 255.0) as u8
            }))
        },
        check: Some(check_levels),
    },
    Def {
        name: "brightness",
        params: BRIGHTNESS_PARAMS,
        help: "multiply every channel",
        build: |p, _, _| {
            let f = get_f(p, "factor", 1.5, 0.0, 8.0);
            Box::new(Lut::mono(|v| {
                (f64::from(v) * f).round().clamp(0.0, 255.0) as u8
            }))
        },
        check: None,
    },
];

/// Cached radial multipliers (vignette and reverse vignette).
#[derive(Debug, Clone)]
pub struct Vignette {
    /// Top `ceil(h / 2)` rows of `w * 3` multipliers in 1/255 steps.
    map: Vec<u8>,
    half: usize,
}

impl Vignette {
    /// The map of `f(r)` in `[0, 1]`, `r` the distance from the centre (frame spans `[-1, 1]`).
    pub fn new(w: usize, h: usize, f: impl Fn(f64) -> f64) -> Vignette {
        let half = h.div_ceil(2);
        let lin = |i: usize, n: usize| {
            if n <= 1 {
                0.0
            } else {
                (2.0 * i as f64 - (n - 1) as f64) / (n - 1) as f64
            }
        };
        let mut map = Vec::with_capacity(half * w * 3);
        for y in 0..half {
            let yy = lin(y, h);
            for x in 0..w {
                let xx = lin(x, w);
                let v = f((xx * xx + yy * yy).sqrt()).clamp(0.0, 1.0);
                let m = (v * 255.0).round() as u8;
                map.extend_from_slice(&[m, m, m]);
            }
        }
        Vignette { map, half }
    }
}

impl Pass for Vignette {
    #[inline(never)]
    fn apply(&mut self, out: &mut [u8], cx: &mut Ctx<'_>) {
        let (w, h) = (cx.w, cx.h);
        let stride = w * 3;
        for (y, line) in out.chunks_exact_mut(stride).take(h).enumerate() {
            let my = if y < self.half { y } else { h - 1 - y };
            let m = &self.map[my * stride..(my + 1) * stride];
            for (o, &k) in line.iter_mut().zip(m) {
                *o = div255(u16::from(*o) * u16::from(k)) as u8;
            }
        }
    }
}
