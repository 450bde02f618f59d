//! Colour: HSV as the Python reference pipeline does it (hue wraps, six sectors, truncation to u8),
//! OKLAB/OKLCH, the reference pipeline's discrete RGB palettes, hue harmonies and tints, and
//! [`ColorStyle`], the per-layer colour strategy that turns a cell's value (and position) into rgb.

use crate::render::fastmath::{fcos, fsin};
use crate::render::params::{ParamSpec, Params, Setter, vocab};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// HSV (each in `[0, 1]`; hue wraps, saturation and value are clamped) to 8-bit RGB.
///
/// Matches the Python reference pipeline's vectorised `hsv2rgb`: `c = v * s`, `x = c * (1 - |(6h
/// mod 2) - 1|)`, `m = v - c`, channels `(sector + m) * 255` truncated.
#[inline]
pub fn hsv2rgb(h: f32, s: f32, v: f32) -> [u8; 3] {
    let h = h - h.floor();
    let s = s.clamp(0.0, 1.0);
    let v = v.clamp(0.0, 1.0);
    let c = v * s;
    let h6 = h * 6.0;
    let sector = h6 as u32; // 0..=5 (6 only if h rounds up to 1.0; treated as 5 below)
    let x = c * (1.0 - ((h6 - (sector & !1) as f32) - 1.0).abs().min(1.0));
    let m = v - c;
    let (r, g, b) = match sector {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let q = |f: f32| ((f + m) * 255.0).clamp(0.0, 255.0) as u8;
    [q(r), q(g), q(b)]
}

/// Scales an rgb colour by `k` in `[0, 1]` (truncating).
#[inline]
pub fn scale_rgb(c: [u8; 3], k: f32) -> [u8; 3] {
    let k = k.clamp(0.0, 1.0);
    [
        (f32::from(c[0]) * k) as u8,
        (f32::from(c[1]) * k) as u8,
        (f32::from(c[2]) * k) as u8,
    ]
}

/// sRGB byte to linear light (exact formula: 0.04045, 12.92, 2.4), from a table.
#[inline]
pub fn srgb_to_linear(v: u8) -> f32 {
    static T: OnceLock<[f32; 256]> = OnceLock::new();
    T.get_or_init(|| {
        let mut t = [0.0f32; 256];
        for (i, o) in t.iter_mut().enumerate() {
            let c = i as f64 / 255.0;
            *o = if c <= 0.04045 {
                (c / 12.92) as f32
            } else {
                ((c + 0.055) / 1.055).powf(2.4) as f32
            };
        }
        t
    })[usize::from(v)]
}

/// Linear light in `[0, 1]` to an sRGB byte (rounded), from a 4096-entry table.
#[inline]
pub fn linear_to_srgb(l: f32) -> u8 {
    static T: OnceLock<Vec<u8>> = OnceLock::new();
    let t = T.get_or_init(|| {
        (0..4096)
            .map(|i| {
                let l = i as f64 / 4095.0;
                let c = if l <= 0.003_130_8 {
                    l * 12.92
                } else {
                    1.055 * l.powf(1.0 / 2.4) - 0.055
                };
                (c * 255.0 + 0.5).clamp(0.0, 255.0) as u8
            })
            .collect()
    });
    t[(l.clamp(0.0, 1.0) * 4095.0 + 0.5) as usize]
}

/// OKLAB (Ottosson) to sRGB bytes, clipping out-of-gamut channels.
#[inline]
pub fn oklab2rgb(l: f32, a: f32, b: f32) -> [u8; 3] {
    let l_ = l + 0.396_337_78 * a + 0.215_803_76 * b;
    let m_ = l - 0.105_561_346 * a - 0.063_854_17 * b;
    let s_ = l - 0.089_484_18 * a - 1.291_485_5 * b;
    let (l3, m3, s3) = (l_ * l_ * l_, m_ * m_ * m_, s_ * s_ * s_);
    let r = 4.076_741_7 * l3 - 3.307_711_6 * m3 + 0.230_969_94 * s3;
    let g = -1.268_438 * l3 + 2.609_757_4 * m3 - 0.341_319_38 * s3;
    let bl = -0.004_196_086_3 * l3 - 0.703_418_6 * m3 + 1.707_614_7 * s3;
    [linear_to_srgb(r), linear_to_srgb(g), linear_to_srgb(bl)]
}

/// sRGB bytes to OKLAB `(L, a, b)`.
pub fn rgb2oklab(c: [u8; 3]) -> (f32, f32, f32) {
    let (r, g, b) = (
        srgb_to_linear(c[0]),
        srgb_to_linear(c[1]),
        srgb_to_linear(c[2]),
    );
    let l = (0.412_221_46 * r + 0.536_332_55 * g + 0.051_445_995 * b).cbrt();
    let m = (0.211_903_5 * r + 0.680_699_5 * g + 0.107_396_96 * b).cbrt();
    let s = (0.088_302_46 * r + 0.281_718_85 * g + 0.629_978_7 * b).cbrt();
    (
        0.210_454_26 * l + 0.793_617_8 * m - 0.004_072_047 * s,
        1.977_998_5 * l - 2.428_592_2 * m + 0.450_593_7 * s,
        0.025_904_037 * l + 0.782_771_77 * m - 0.808_675_77 * s,
    )
}

/// OKLCH (hue in turns, wrapping) to sRGB bytes.
#[inline]
pub fn oklch2rgb(l: f32, c: f32, h: f32) -> [u8; 3] {
    let th = (h - h.floor()) * std::f32::consts::TAU;
    oklab2rgb(l, c * fcos(th), c * fsin(th))
}

/// Interpolates two colours in OKLAB.
pub fn lerp_oklab(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let (la, aa, ba) = rgb2oklab(a);
    let (lb, ab, bb) = rgb2oklab(b);
    oklab2rgb(la + (lb - la) * t, aa + (ab - aa) * t, ba + (bb - ba) * t)
}

vocab! {
    /// Discrete RGB palettes (the optimisation guide's, dark to bright where that applies), for
    /// colour mode `palette` and the `color_ramp` shader.
    pub enum RgbPalette {
        Neon = "neon",
        Cyberpunk = "cyberpunk",
        Vaporwave = "vaporwave",
        Pastel = "pastel",
        MonoGreen = "mono_green",
        MonoAmber = "mono_amber",
        Earth = "earth",
        Ice = "ice",
        Blood = "blood",
        Fire = "fire",
        Forest = "forest",
    }
}

impl RgbPalette {
    /// The colours.
    pub fn colours(self) -> &'static [[u8; 3]] {
        match self {
            RgbPalette::Neon => &[
                [255, 0, 102],
                [0, 255, 153],
                [102, 0, 255],
                [255, 255, 0],
                [0, 204, 255],
            ],
            RgbPalette::Cyberpunk => &[[255, 0, 60], [0, 255, 200], [180, 0, 255], [255, 200, 0]],
            RgbPalette::Vaporwave => &[
                [255, 113, 206],
                [1, 205, 254],
                [185, 103, 255],
                [5, 255, 161],
            ],
            RgbPalette::Pastel => &[
                [255, 179, 186],
                [255, 223, 186],
                [255, 255, 186],
                [186, 255, 201],
                [186, 225, 255],
            ],
            RgbPalette::MonoGreen => &[
                [0, 40, 0],
                [0, 100, 0],
                [0, 160, 0],
                [0, 210, 0],
                [0, 255, 0],
            ],
            RgbPalette::MonoAmber => &[
                [40, 20, 0],
                [100, 55, 0],
                [160, 100, 0],
                [210, 150, 0],
                [255, 191, 0],
            ],
            RgbPalette::Earth => &[
                [60, 40, 20],
                [110, 80, 40],
                [150, 120, 60],
                [100, 140, 70],
                [200, 180, 120],
            ],
            RgbPalette::Ice => &[
                [20, 40, 80],
                [40, 90, 150],
                [90, 160, 210],
                [170, 220, 245],
                [235, 250, 255],
            ],
            RgbPalette::Blood => &[
                [50, 0, 0],
                [110, 0, 0],
                [170, 20, 10],
                [220, 50, 30],
                [255, 110, 80],
            ],
            RgbPalette::Fire => &[
                [0, 0, 0],
                [128, 0, 0],
                [255, 64, 0],
                [255, 192, 0],
                [255, 255, 200],
            ],
            RgbPalette::Forest => &[
                [10, 40, 15],
                [25, 80, 30],
                [50, 120, 45],
                [100, 160, 70],
                [170, 210, 120],
            ],
        }
    }
}

vocab! {
    /// Tints: rgb multipliers of a layer, of a whole frame or of the `color_grade` shader.
    pub enum Tint {
        Neutral = "neutral",
        Warm = "warm",
        Cool = "cool",
        Matrix = "matrix",
        Amber = "amber",
        Sepia = "sepia",
        NeonPink = "neon_pink",
        Ice = "ice",
        Blood = "blood",
        Forest = "forest",
        Void = "void",
        Sunset = "sunset",
    }
}

impl Tint {
    /// The rgb multipliers.
    pub fn rgb(self) -> [f32; 3] {
        match self {
            Tint::Neutral => [1.0, 1.0, 1.0],
            Tint::Warm => [1.15, 1.0, 0.85],
            Tint::Cool => [0.85, 0.95, 1.15],
            Tint::Matrix => [0.7, 1.2, 0.7],
            Tint::Amber => [1.2, 0.9, 0.6],
            Tint::Sepia => [1.2, 1.05, 0.8],
            Tint::NeonPink => [1.3, 0.7, 1.1],
            Tint::Ice => [0.8, 1.0, 1.3],
            Tint::Blood => [1.4, 0.7, 0.7],
            Tint::Forest => [0.8, 1.15, 0.75],
            Tint::Void => [0.85, 0.85, 1.1],
            Tint::Sunset => [1.3, 0.85, 0.7],
        }
    }
}

vocab! {
    /// Hue harmonies: hue offsets (turns) added to the base hue, one per value band.
    pub enum Harmony {
        None = "none",
        Complementary = "complementary",
        Triadic = "triadic",
        Analogous = "analogous",
        Split = "split",
        Tetradic = "tetradic",
    }
}

impl Harmony {
    /// The hue offsets.
    pub fn offsets(self) -> &'static [f32] {
        match self {
            Harmony::None => &[0.0],
            Harmony::Complementary => &[0.0, 0.5],
            Harmony::Triadic => &[0.0, 0.333, 0.667],
            Harmony::Analogous => &[-0.16, -0.08, 0.0, 0.08, 0.16],
            Harmony::Split => &[0.0, 0.42, 0.58],
            Harmony::Tetradic => &[0.0, 0.25, 0.5, 0.75],
        }
    }
}

vocab! {
    /// Colour modes of a layer.
    pub enum ColorMode {
        /// Hue, saturation, value.
        Hsv = "hsv",
        /// Perceptual lightness, chroma, hue.
        Oklch = "oklch",
        /// A discrete RGB palette.
        Palette = "palette",
    }
}

vocab! {
    /// Hue fields: where a cell's hue comes from.
    pub enum HueField {
        /// No variation (the base hue, drifting with time only).
        Fixed = "fixed",
        /// The cell's value.
        Value = "value",
        /// The angle around the centre.
        Angle = "angle",
        /// The distance from the centre.
        Distance = "distance",
        /// Time only (the drift).
        Time = "time",
        /// Left to right.
        GradientH = "gradient_h",
        /// Top to bottom.
        GradientV = "gradient_v",
        /// A slow plasma.
        Plasma = "plasma",
    }
}

/// The parameters of a layer's `color:` mapping.
pub mod param {
    use super::{ColorMode, Harmony, HueField, RgbPalette, Tint};
    use crate::render::params::{Dflt, Kind, ParamSpec, num, p};

    /// `mode`.
    pub const MODE: ParamSpec = p(
        "mode",
        Kind::Choice(ColorMode::NAMES),
        Dflt::Word("hsv"),
        "hsv, oklch (perceptual) or palette (a discrete RGB palette)",
    );
    /// `hue`.
    pub const HUE: ParamSpec = p("hue", num(0.0, 1.0), Dflt::Num(0.0), "base hue (turns)");
    /// `hue_field`.
    pub const HUE_FIELD: ParamSpec = p(
        "hue_field",
        Kind::Choice(HueField::NAMES),
        Dflt::Word("value"),
        "where hue varies: value, angle, distance, gradients, plasma, time (drift only), fixed",
    );
    /// `hue_spread`.
    pub const HUE_SPREAD: ParamSpec = p(
        "hue_spread",
        num(-4.0, 4.0),
        Dflt::Num(0.2),
        "how much the hue field moves the hue",
    );
    /// `hue_rate`.
    pub const HUE_RATE: ParamSpec = p(
        "hue_rate",
        num(-2.0, 2.0),
        Dflt::Num(0.02),
        "hue drift per second",
    );
    /// `saturation`.
    pub const SATURATION: ParamSpec = p(
        "saturation",
        num(0.0, 1.0),
        Dflt::Num(0.8),
        "saturation (oklch: chroma = 0.3 x saturation)",
    );
    /// `brightness`.
    pub const BRIGHTNESS: ParamSpec = p(
        "brightness",
        num(0.0, 1.0),
        Dflt::Num(1.0),
        "brightness of the highest value",
    );
    /// `floor`.
    pub const FLOOR: ParamSpec = p(
        "floor",
        num(0.0, 1.0),
        Dflt::Num(0.05),
        "brightness of the lowest value",
    );
    /// `harmony`.
    pub const HARMONY: ParamSpec = p(
        "harmony",
        Kind::Choice(Harmony::NAMES),
        Dflt::Word("none"),
        "hue harmony: value bands take the harmony's hues",
    );
    /// `palette`.
    pub const PALETTE: ParamSpec = p(
        "palette",
        Kind::Choice(RgbPalette::NAMES),
        Dflt::Word("neon"),
        "RGB palette of mode palette",
    );
    /// `tint`.
    pub const TINT: ParamSpec = p(
        "tint",
        Kind::Choice(Tint::NAMES),
        Dflt::Word("neutral"),
        "rgb multipliers",
    );

    /// Every parameter of `color:`.
    pub const TABLE: &[ParamSpec] = &[
        MODE, HUE, HUE_FIELD, HUE_SPREAD, HUE_RATE, SATURATION, BRIGHTNESS, FLOOR, HARMONY,
        PALETTE, TINT,
    ];
}

/// A layer's colour strategy as the plan gives it (`color:`), with every default filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColorSpec {
    /// Colour mode.
    pub mode: ColorMode,
    /// Base hue (turns).
    pub hue: f64,
    /// Where the hue varies.
    pub hue_field: HueField,
    /// How much the hue field moves the hue.
    pub hue_spread: f64,
    /// Hue drift per second.
    pub hue_rate: f64,
    /// Saturation (oklch: chroma scale).
    pub saturation: f64,
    /// Brightness of value 1.
    pub brightness: f64,
    /// Brightness of value 0.
    pub floor: f64,
    /// Hue harmony.
    pub harmony: Harmony,
    /// RGB palette (mode `palette`).
    pub palette: RgbPalette,
    /// Rgb multipliers.
    pub tint: Tint,
}

impl ColorSpec {
    /// The setters of its numeric parameters (bound values; see [`Setter`]).
    pub const SETTERS: &[(ParamSpec, Setter<ColorSpec>)] = {
        use param::*;
        &[
            (HUE, |s, v| s.hue = v),
            (HUE_SPREAD, |s, v| s.hue_spread = v),
            (HUE_RATE, |s, v| s.hue_rate = v),
            (SATURATION, |s, v| s.saturation = v),
            (BRIGHTNESS, |s, v| s.brightness = v),
            (FLOOR, |s, v| s.floor = v),
        ]
    };

    /// Reads validated `color:` params (see [`param::TABLE`]).
    pub fn parse(p: &Params) -> ColorSpec {
        use param::*;
        ColorSpec {
            mode: MODE.choice(p),
            hue: HUE.num(p),
            hue_field: HUE_FIELD.choice(p),
            hue_spread: HUE_SPREAD.num(p),
            hue_rate: HUE_RATE.num(p),
            saturation: SATURATION.num(p),
            brightness: BRIGHTNESS.num(p),
            floor: FLOOR.num(p),
            harmony: HARMONY.choice(p),
            palette: PALETTE.choice(p),
            tint: TINT.choice(p),
        }
    }

    /// The style for rendering, its hue shifted by `hue_shift` (the scene's `hue`).
    pub fn style(&self, hue_shift: f32) -> ColorStyle {
        ColorStyle {
            mode: self.mode,
            hue: (self.hue as f32 + hue_shift).rem_euclid(1.0),
            hue_field: self.hue_field,
            hue_spread: self.hue_spread as f32,
            hue_rate: self.hue_rate as f32,
            saturation: self.saturation as f32,
            brightness: self.brightness as f32,
            floor: self.floor as f32,
            harmony: self.harmony.offsets(),
            rgb: self.palette.colours(),
            tint: self.tint.rgb(),
        }
    }
}

impl Default for ColorSpec {
    /// Every parameter at its default.
    fn default() -> Self {
        ColorSpec::parse(&Params::new())
    }
}

/// How a layer colours its cells (a [`ColorSpec`] ready for rendering).
#[derive(Debug, Clone)]
pub struct ColorStyle {
    /// Colour mode.
    pub mode: ColorMode,
    /// Base hue (turns).
    pub hue: f32,
    /// Where the hue varies.
    pub hue_field: HueField,
    /// How much the hue field moves the hue.
    pub hue_spread: f32,
    /// Hue drift per second.
    pub hue_rate: f32,
    /// Saturation (hsv) or chroma scale (oklch: chroma = 0.3 * saturation).
    pub saturation: f32,
    /// Brightness of value 1 (hsv value, or oklch lightness).
    pub brightness: f32,
    /// Brightness of value 0 (the optimisation guide's field floor).
    pub floor: f32,
    /// Hue offsets chosen by value band.
    pub harmony: &'static [f32],
    /// RGB palette (mode `palette`).
    pub rgb: &'static [[u8; 3]],
    /// Rgb multipliers.
    pub tint: [f32; 3],
}

impl ColorStyle {
    /// Per-frame hue offset (hue + drift), reduced to a turn.
    pub fn hue_at(&self, t: f64) -> f32 {
        (f64::from(self.hue) + t * f64::from(self.hue_rate)).rem_euclid(1.0) as f32
    }

    /// The colour of a cell of value `v` at `(x, y, r, a)` (frame units), given `hue0` from
    /// [`ColorStyle::hue_at`] and field time `t`; `gain` scales the result (opacity windows).
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub fn colour(
        &self,
        v: f32,
        x: f32,
        y: f32,
        r: f32,
        a: f32,
        hue0: f32,
        t: f32,
        gain: f32,
    ) -> [u8; 3] {
        let hf = match self.hue_field {
            HueField::Value => v,
            HueField::Angle => a * (1.0 / std::f32::consts::TAU) + 0.5,
            HueField::Distance => r,
            HueField::GradientH => x * 0.5 + 0.5,
            HueField::GradientV => y * 0.5 + 0.5,
            HueField::Plasma => {
                0.5 + 0.25 * fsin(2.0 * x + 0.5 * t) + 0.25 * fsin(2.5 * y - 0.4 * t)
            }
            HueField::Fixed | HueField::Time => 0.0,
        };
        let n = self.harmony.len();
        let hoff = if n > 1 {
            self.harmony[((v * n as f32) as usize).min(n - 1)]
        } else {
            0.0
        };
        let h = hue0 + hf * self.hue_spread + hoff;
        let bri = (self.floor + v * (self.brightness - self.floor)).clamp(0.0, 1.0) * gain;
        let rgb = match self.mode {
            ColorMode::Oklch => oklch2rgb(
                0.12 + bri * 0.78,
                0.3 * self.saturation * (0.4 + 0.6 * v),
                h,
            ),
            ColorMode::Palette => {
                let k = self.rgb.len();
                let i = (((v + hf * self.hue_spread).rem_euclid(1.0001)) * k as f32) as usize;
                scale_rgb(self.rgb[i.min(k - 1)], (0.25 + 0.75 * bri).min(gain))
            }
            ColorMode::Hsv => hsv2rgb(h, self.saturation, bri),
        };
        if self.tint == [1.0; 3] {
            rgb
        } else {
            [
                (f32::from(rgb[0]) * self.tint[0]).min(255.0) as u8,
                (f32::from(rgb[1]) * self.tint[1]).min(255.0) as u8,
                (f32::from(rgb[2]) * self.tint[2]).min(255.0) as u8,
            ]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primaries_and_wrap() {
        assert_eq!(hsv2rgb(0.0, 1.0, 1.0), [255, 0, 0]);
        assert_eq!(hsv2rgb(1.0 / 3.0, 1.0, 1.0), [0, 255, 0]);
        assert_eq!(hsv2rgb(2.0 / 3.0, 1.0, 1.0), [0, 0, 255]);
        assert_eq!(hsv2rgb(1.0, 1.0, 1.0), [255, 0, 0]);
        assert_eq!(hsv2rgb(-0.5, 0.0, 1.0), [255, 255, 255]);
        assert_eq!(hsv2rgb(0.3, 0.7, 0.0), [0, 0, 0]);
        assert_eq!(scale_rgb([200, 100, 0], 0.5), [100, 50, 0]);
    }

    #[test]
    fn oklab_round_trips() {
        for c in [
            [255u8, 0, 0],
            [0, 255, 0],
            [0, 0, 255],
            [200, 150, 30],
            [255, 255, 255],
            [3, 3, 3],
        ] {
            let (l, a, b) = rgb2oklab(c);
            let back = oklab2rgb(l, a, b);
            for k in 0..3 {
                assert!(
                    (i32::from(back[k]) - i32::from(c[k])).abs() <= 1,
                    "{c:?} -> {back:?}"
                );
            }
        }
        assert_eq!(lerp_oklab([0, 0, 0], [255, 255, 255], 0.0), [0, 0, 0]);
    }

    #[test]
    fn vocabularies_are_the_documented_words() {
        assert_eq!(
            RgbPalette::NAMES,
            [
                "neon",
                "cyberpunk",
                "vaporwave",
                "pastel",
                "mono_green",
                "mono_amber",
                "earth",
                "ice",
                "blood",
                "fire",
                "forest",
            ]
        );
        assert_eq!(
            Tint::NAMES,
            [
                "neutral",
                "warm",
                "cool",
                "matrix",
                "amber",
                "sepia",
                "neon_pink",
                "ice",
                "blood",
                "forest",
                "void",
                "sunset",
            ]
        );
        assert_eq!(
            Harmony::NAMES,
            [
                "none",
                "complementary",
                "triadic",
                "analogous",
                "split",
                "tetradic"
            ]
        );
        assert_eq!(ColorMode::NAMES, ["hsv", "oklch", "palette"]);
        assert_eq!(
            HueField::NAMES,
            [
                "fixed",
                "value",
                "angle",
                "distance",
                "time",
                "gradient_h",
                "gradient_v",
                "plasma"
            ]
        );
        assert!(
            crate::render::params::table_problems("color", param::TABLE).is_empty(),
            "{:?}",
            crate::render::params::table_problems("color", param::TABLE)
        );
        assert_eq!(ColorSpec::default().tint, Tint::Neutral);
    }
}
