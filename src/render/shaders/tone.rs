//! Tone shaders: `vignette`, `reverse_vignette`, `contrast`, `gamma`, `levels`, `brightness`.
//!
//! - `vignette(strength 0.25, floor 0.15)`: multiply by `clamp(1 - strength * r, floor, 1)`, `r`
//!   the distance from the centre with the frame spanning `[-1, 1]` on both axes; the map is built
//!   once (one `u8` per pixel in 1/255 steps for the top half; the bottom half mirrors it). The
//!   reference pipeline's docs give 0.22; farm keeps its optimisation guide's 0.25.
//! - `reverse_vignette(strength 0.5)`: the opposite, darker in the middle:
//!   `1 - strength * max(0, 1 - r)`.
//! - `contrast(factor 1.3)`: `(v - 128) * factor + 128`; `brightness(factor 1.5)`: `v * factor`;
//!   `gamma(gamma 1.5)`: `255 * (v / 255)^(1 / gamma)` (above 1 brightens the darks); `levels(black
//!   0, white 255, midtone 1)`: `255 * ((v - black) / (white - black))^(1 / midtone)`. All four are
//!   one 256-entry lookup table, clamped.

use super::pass::{Banded, ChannelLut, Ctx, Def, Pass, run_banded};
use crate::render::canvas::div255;
use crate::render::params::{Dflt, ParamSpec, Params, num, p};
use crate::render::shaders::name::Shader;

/// `vignette.strength`.
const VIGNETTE_STRENGTH: ParamSpec = p(
    "strength",
    num(0.0, 1.0),
    Dflt::Num(0.25),
    "darkening per unit of distance from the centre",
);

/// `vignette.s`.
const VIGNETTE_S: ParamSpec = p(
    "s",
    num(0.0, 1.0),
    Dflt::Words("(alias of strength)"),
    "alias of strength, as in the reference pipeline's scene tables",
);

/// `vignette.floor`.
const VIGNETTE_FLOOR: ParamSpec = p(
    "floor",
    num(0.0, 1.0),
    Dflt::Num(0.15),
    "minimum brightness multiplier",
);

/// Parameters of `vignette` (`s` is the reference pipeline's alias of `strength`).
pub const VIGNETTE_PARAMS: &[ParamSpec] = &[VIGNETTE_STRENGTH, VIGNETTE_S, VIGNETTE_FLOOR];

/// `reverse_vignette.strength`.
const REVERSE_VIGNETTE_STRENGTH: ParamSpec = p(
    "strength",
    num(0.0, 1.0),
    Dflt::Num(0.5),
    "darkening at the centre (none at distance 1 and beyond)",
);

const REVERSE_VIGNETTE_PARAMS: &[ParamSpec] = &[REVERSE_VIGNETTE_STRENGTH];

/// `contrast.factor`.
const CONTRAST_FACTOR: ParamSpec = p(
    "factor",
    num(0.0, 4.0),
    Dflt::Num(1.3),
    "contrast around mid-grey 128",
);

const CONTRAST_PARAMS: &[ParamSpec] = &[CONTRAST_FACTOR];

/// `brightness.factor`.
const BRIGHTNESS_FACTOR: ParamSpec = p(
    "factor",
    num(0.0, 8.0),
    Dflt::Num(1.5),
    "multiplier of every channel",
);

const BRIGHTNESS_PARAMS: &[ParamSpec] = &[BRIGHTNESS_FACTOR];

/// `gamma.gamma`.
const GAMMA_GAMMA: ParamSpec = p(
    "gamma",
    num(0.1, 10.0),
    Dflt::Num(1.5),
    "out = (in)^(1/gamma); above 1 brightens dark tones",
);

/// `gamma.g`.
const GAMMA_G: ParamSpec = p(
    "g",
    num(0.1, 10.0),
    Dflt::Words("(alias of gamma)"),
    "alias of gamma",
);

const GAMMA_PARAMS: &[ParamSpec] = &[GAMMA_GAMMA, GAMMA_G];

/// `levels.black`.
const LEVELS_BLACK: ParamSpec = p(
    "black",
    num(0.0, 254.0),
    Dflt::Num(0.0),
    "input level that becomes 0",
);

/// `levels.white`.
const LEVELS_WHITE: ParamSpec = p(
    "white",
    num(1.0, 255.0),
    Dflt::Num(255.0),
    "input level that becomes 255 (above black)",
);

/// `levels.midtone`.
const LEVELS_MIDTONE: ParamSpec = p(
    "midtone",
    num(0.1, 10.0),
    Dflt::Num(1.0),
    "gamma of the stretched range; above 1 brightens",
);

const LEVELS_PARAMS: &[ParamSpec] = &[LEVELS_BLACK, LEVELS_WHITE, LEVELS_MIDTONE];

fn check_levels(params: &Params) -> Result<(), (&'static str, String)> {
    let black = LEVELS_BLACK.num(params);
    let white = LEVELS_WHITE.num(params);
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
        shader: Shader::Vignette,
        params: VIGNETTE_PARAMS,
        help: "darken towards the corners (cached map)",
        build: |p, w, h| {
            let s = VIGNETTE_STRENGTH.clamped_or(p, &VIGNETTE_S);
            let floor = VIGNETTE_FLOOR.clamped(p);
            Box::new(Vignette::new(w, h, |r| (1.0 - r * s).clamp(floor, 1.0)))
        },
        check: None,
    },
    Def {
        shader: Shader::ReverseVignette,
        params: REVERSE_VIGNETTE_PARAMS,
        help: "darken the centre, keep the edges",
        build: |p, w, h| {
            let s = REVERSE_VIGNETTE_STRENGTH.clamped(p);
            Box::new(Vignette::new(w, h, |r| {
                (1.0 - s * (1.0 - r).max(0.0)).clamp(0.0, 1.0)
            }))
        },
        check: None,
    },
    Def {
        shader: Shader::Contrast,
        params: CONTRAST_PARAMS,
        help: "stretch around mid-grey",
        build: |p, _, _| {
            let f = CONTRAST_FACTOR.clamped(p);
            Box::new(ChannelLut::mono(|v| {
                ((f64::from(v) - 128.0) * f + 128.0)
                    .round()
                    .clamp(0.0, 255.0) as u8
            }))
        },
        check: None,
    },
    Def {
        shader: Shader::Gamma,
        params: GAMMA_PARAMS,
        help: "gamma curve",
        build: |p, _, _| {
            let g = GAMMA_GAMMA.clamped_or(p, &GAMMA_G);
            Box::new(ChannelLut::mono(|v| {
                (255.0 * (f64::from(v) / 255.0).powf(1.0 / g))
                    .round()
                    .clamp(0.0, 255.0) as u8
            }))
        },
        check: None,
    },
    Def {
        shader: Shader::Levels,
        params: LEVELS_PARAMS,
        help: "black point, white point and midtone gamma",
        build: |p, _, _| {
            let black = LEVELS_BLACK.clamped(p);
            let white = LEVELS_WHITE.clamped(p).max(black + 1.0);
            let mid = LEVELS_MIDTONE.clamped(p);
            Box::new(ChannelLut::mono(|v| {
                let x = ((f64::from(v) - black) / (white - black)).clamp(0.0, 1.0);
                (255.0 * x.powf(1.0 / mid)).round().clamp(0.0, 255.0) as u8
            }))
        },
        check: Some(check_levels),
    },
    Def {
        shader: Shader::Brightness,
        params: BRIGHTNESS_PARAMS,
        help: "multiply every channel",
        build: |p, _, _| {
            let f = BRIGHTNESS_FACTOR.clamped(p);
            Box::new(ChannelLut::mono(|v| {
                (f64::from(v) * f).round().clamp(0.0, 255.0) as u8
            }))
        },
        check: None,
    },
];

/// Cached radial multipliers (vignette and reverse vignette).
#[derive(Debug, Clone)]
pub struct Vignette {
    /// Top `ceil(h / 2)` rows of `w` multipliers in 1/255 steps, one per pixel (it was one
    /// per byte: a third of the memory the walk reads for it, see `scale_row`).
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
        let mut map = Vec::with_capacity(half * w);
        for y in 0..half {
            let yy = lin(y, h);
            for x in 0..w {
                let xx = lin(x, w);
                let v = f((xx * xx + yy * yy).sqrt()).clamp(0.0, 1.0);
                map.push((v * 255.0).round() as u8);
            }
        }
        Vignette { map, half }
    }
}

impl Pass for Vignette {
    fn apply(&mut self, out: &mut [u8], cx: &mut Ctx<'_>) {
        run_banded(self, out, cx);
    }

    fn banded(&mut self) -> Option<&mut dyn Banded> {
        Some(self)
    }
}

impl Banded for Vignette {
    #[inline(never)]
    fn band(&mut self, band: &mut [u8], y0: usize, cx: &mut Ctx<'_>) {
        let h = cx.h;
        let stride = cx.w * 3;
        for (i, line) in band.chunks_exact_mut(stride).enumerate() {
            let y = y0 + i;
            let my = if y < self.half { y } else { h - 1 - y };
            scale_row(line, &self.map[my * cx.w..(my + 1) * cx.w]);
        }
    }
}

/// `o = o * k / 255` (rounded down) for every byte of `line` and its pixel's multiplier in
/// `map`. Compiled for AVX2 / SSE4.1 besides the SSE2 baseline and picked at run time (the
/// same integer arithmetic, so the same bytes).
#[multiversion::multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn scale_row(line: &mut [u8], map: &[u8]) {
    for (px, &k) in line.chunks_exact_mut(3).zip(map) {
        for o in px {
            *o = div255(u16::from(*o) * u16::from(k)) as u8;
        }
    }
}
