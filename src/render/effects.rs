//! Matrix rain and fire, written into a grid's cells. Both are pure functions of time (hashed per
//! column and per cycle), so they need no state and cost one pass over the cells they light.
//!
//! - Rain: each active column (a `density` fraction) has a head falling at its own speed (`speed *
//!   U(6, 30)` rows per second: the optimisation guide's `U(.3, 2)` per frame at 24 fps, scaled), a
//!   trail of 8..40 cells, and restarts above the top after leaving the bottom; each cell shows a
//!   fixed hashed character that changes now and then. The head is white-ish, the tail fades green
//!   (or `hue`).
//! - Fire: flames are fBM noise rising at `speed`, shaped by a height profile that wobbles per
//!   column (`height` of the rows at most); characters from the palette by intensity (` ░▒▓█` by
//!   default), hue `hue + 0.12 v` (red to yellow), brightness = intensity.

use crate::render::blend::CompSpec;
use crate::render::color::hsv2rgb;
use crate::render::fastmath::{fbm, fsin, hash01, hash2};
use crate::render::font::{BLANK, GlyphId};
use crate::render::grid::GridKey;
use crate::render::palette::{CharSet, PaletteName};
use crate::render::params::{ParamSpec, Params, Setter};
use serde::{Deserialize, Serialize};

/// The parameters of `rain:` and `fire:`.
pub mod param {
    use crate::render::blend::param::{BLEND, OPACITY};
    use crate::render::grid::GridKey;
    use crate::render::palette::{PaletteName, ParticleSet};
    use crate::render::params::{Dflt, Kind, ParamSpec, num, p};

    /// `grid` of rain and fire.
    pub const GRID: ParamSpec = p(
        "grid",
        Kind::Named("a grid key", GridKey::NAMES),
        Dflt::Word("sm"),
        "grid key",
    );
    /// `rain.chars`.
    pub const RAIN_CHARS: ParamSpec = p(
        "chars",
        Kind::Either(
            "a palette",
            PaletteName::NAMES,
            "a particle set",
            ParticleSet::NAMES,
        ),
        Dflt::Word("kata"),
        "characters",
    );
    /// `rain.hue`.
    pub const RAIN_HUE: ParamSpec = p("hue", num(0.0, 1.0), Dflt::Num(0.33), "tail hue");
    /// `rain.speed`.
    pub const RAIN_SPEED: ParamSpec = p(
        "speed",
        num(0.0, 10.0),
        Dflt::Num(1.0),
        "fall speed multiplier",
    );
    /// `rain.density`.
    pub const DENSITY: ParamSpec = p(
        "density",
        num(0.0, 1.0),
        Dflt::Num(0.7),
        "fraction of columns that rain",
    );

    /// Every parameter of `rain:`.
    pub const RAIN: &[ParamSpec] = &[
        GRID, RAIN_CHARS, RAIN_HUE, RAIN_SPEED, DENSITY, BLEND, OPACITY,
    ];

    /// `fire.palette`.
    pub const FIRE_PALETTE: ParamSpec = p(
        "palette",
        Kind::Named("a palette name", PaletteName::NAMES),
        Dflt::Word("gradient"),
        "characters by intensity",
    );
    /// `fire.hue`.
    pub const FIRE_HUE: ParamSpec = p(
        "hue",
        num(0.0, 1.0),
        Dflt::Words("0.02 (ice: 0.55)"),
        "base hue; +0.12 at full intensity",
    );
    /// `fire.ice`.
    pub const ICE: ParamSpec = p("ice", Kind::Bool, Dflt::Bool(false), "blue flames");
    /// `fire.speed`.
    pub const FIRE_SPEED: ParamSpec = p("speed", num(0.0, 10.0), Dflt::Num(1.0), "rise speed");
    /// `fire.height`.
    pub const HEIGHT: ParamSpec = p(
        "height",
        num(0.0, 1.0),
        Dflt::Num(0.6),
        "flame height (fraction of the frame)",
    );

    /// Every parameter of `fire:`.
    pub const FIRE: &[ParamSpec] = &[
        GRID,
        FIRE_PALETTE,
        FIRE_HUE,
        ICE,
        FIRE_SPEED,
        HEIGHT,
        BLEND,
        OPACITY,
    ];
}

/// Matrix rain as the plan gives it, with every default filled in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RainSpec {
    /// Grid key.
    pub grid: GridKey,
    /// Characters.
    pub chars: CharSet,
    /// Tail hue.
    pub hue: f64,
    /// Fall speed multiplier.
    pub speed: f64,
    /// Fraction of columns that rain.
    pub density: f64,
    /// Compositing.
    pub comp: CompSpec,
}

impl RainSpec {
    /// The setters of its numeric parameters (bound values; see [`Setter`]).
    pub const SETTERS: &[(ParamSpec, Setter<RainSpec>)] = {
        use param::*;
        &[
            (RAIN_HUE, |s, v| s.hue = v),
            (RAIN_SPEED, |s, v| s.speed = v),
            (DENSITY, |s, v| s.density = v),
            (crate::render::blend::param::OPACITY, |s, v| {
                s.comp.opacity = v
            }),
        ]
    };

    /// Reads validated `rain:` params (see [`param::RAIN`]).
    pub fn parse(p: &Params) -> RainSpec {
        use param::*;
        RainSpec {
            grid: GRID.choice(p),
            chars: CharSet::parse(RAIN_CHARS.word(p))
                .unwrap_or(CharSet::Palette(PaletteName::Kata)),
            hue: RAIN_HUE.num(p),
            speed: RAIN_SPEED.num(p),
            density: DENSITY.num(p),
            comp: CompSpec::parse(p),
        }
    }
}

/// Fire as the plan gives it, with every default filled in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FireSpec {
    /// Grid key.
    pub grid: GridKey,
    /// Characters by intensity.
    pub palette: PaletteName,
    /// Base hue (`None`: 0.02, or 0.55 for ice).
    pub hue: Option<f64>,
    /// Blue flames.
    pub ice: bool,
    /// Rise speed.
    pub speed: f64,
    /// Flame height.
    pub height: f64,
    /// Compositing.
    pub comp: CompSpec,
}

impl FireSpec {
    /// The setters of its numeric parameters (bound values; see [`Setter`]).
    pub const SETTERS: &[(ParamSpec, Setter<FireSpec>)] = {
        use param::*;
        &[
            (FIRE_HUE, |s, v| s.hue = Some(v)),
            (FIRE_SPEED, |s, v| s.speed = v),
            (HEIGHT, |s, v| s.height = v),
            (crate::render::blend::param::OPACITY, |s, v| {
                s.comp.opacity = v
            }),
        ]
    };

    /// Reads validated `fire:` params (see [`param::FIRE`]).
    pub fn parse(p: &Params) -> FireSpec {
        use param::*;
        FireSpec {
            grid: GRID.choice(p),
            palette: FIRE_PALETTE.choice(p),
            hue: FIRE_HUE.opt_num(p),
            ice: ICE.bool(p),
            speed: FIRE_SPEED.num(p),
            height: HEIGHT.num(p),
            comp: CompSpec::parse(p),
        }
    }

    /// The base hue.
    pub fn hue(&self) -> f64 {
        self.hue.unwrap_or(if self.ice { 0.55 } else { 0.02 })
    }
}

/// Settings of the rain.
#[derive(Debug, Clone)]
pub struct Rain {
    /// Characters (no space).
    pub glyphs: Vec<GlyphId>,
    /// Hue of the tail.
    pub hue: f32,
    /// Speed multiplier.
    pub speed: f32,
    /// Fraction of columns that rain.
    pub density: f32,
    /// Seed.
    pub seed: u32,
}

/// A whole-grid effect that writes glyphs and colours into a grid's cells each frame.
pub trait CellEffect {
    /// Writes the effect at time `t` into the cells (cleared first).
    fn draw_cells(
        &self,
        t: f32,
        rows: usize,
        cols: usize,
        glyphs: &mut [GlyphId],
        colours: &mut [[u8; 3]],
        gain: f32,
    );
}

impl CellEffect for Rain {
    fn draw_cells(
        &self,
        t: f32,
        rows: usize,
        cols: usize,
        glyphs: &mut [GlyphId],
        colours: &mut [[u8; 3]],
        gain: f32,
    ) {
        self.draw(t, rows, cols, glyphs, colours, gain)
    }
}

impl CellEffect for Fire {
    fn draw_cells(
        &self,
        t: f32,
        rows: usize,
        cols: usize,
        glyphs: &mut [GlyphId],
        colours: &mut [[u8; 3]],
        gain: f32,
    ) {
        self.draw(t, rows, cols, glyphs, colours, gain)
    }
}

impl Rain {
    /// Writes the rain at time `t` into the cells (cleared first).
    pub fn draw(
        &self,
        t: f32,
        rows: usize,
        cols: usize,
        glyphs: &mut [GlyphId],
        colours: &mut [[u8; 3]],
        gain: f32,
    ) {
        glyphs.fill(BLANK);
        colours.fill([0; 3]);
        let ng = self.glyphs.len();
        if ng == 0 || rows == 0 {
            return;
        }
        let rf = rows as f32;
        for col in 0..cols {
            let c = col as i32;
            for lane in 0..2 {
                let s = self.seed.wrapping_add(lane * 7919);
                if hash01(c, 1, s) >= self.density * if lane == 0 { 1.0 } else { 0.45 } {
                    continue;
                }
                let speed = self.speed * (6.0 + 24.0 * hash01(c, 2, s));
                let len = 8.0 + 32.0 * hash01(c, 3, s);
                let gap = rf * (0.2 + 0.8 * hash01(c, 4, s));
                let period = rf + len + gap;
                let pos = t * speed + hash01(c, 5, s) * period;
                let cycle = (pos / period).floor();
                let head = pos - cycle * period - gap * 0.5;
                let hi = head.floor() as i32;
                let l = len as i32;
                for i in 0..l {
                    let row = hi - i;
                    if row < 0 || row >= rows as i32 {
                        continue;
                    }
                    let idx = row as usize * cols + col;
                    let fade = 1.0 - i as f32 / len;
                    let flick = (t * 3.0 + hash01(c, row, s) * 10.0).floor() as i32;
                    let g =
                        self.glyphs[(hash2(c * 131 + row, flick + cycle as i32, s) as usize) % ng];
                    let rgb = if i == 0 {
                        hsv2rgb(self.hue, 0.25, gain)
                    } else {
                        hsv2rgb(self.hue, 0.9, (0.15 + 0.85 * fade * fade) * gain)
                    };
                    if glyphs[idx] == BLANK || colours[idx][1] < rgb[1] {
                        glyphs[idx] = g;
                        colours[idx] = rgb;
                    }
                }
            }
        }
    }
}

/// Settings of the fire.
#[derive(Debug, Clone)]
pub struct Fire {
    /// Palette glyphs, dark to bright (index 0 blank).
    pub glyphs: Vec<GlyphId>,
    /// Base hue (0.02 fire, 0.55 ice).
    pub hue: f32,
    /// Rise speed.
    pub speed: f32,
    /// Flame height as a fraction of the rows.
    pub height: f32,
    /// Seed.
    pub seed: u32,
}

impl Fire {
    /// Writes the fire at time `t` into the cells (cleared first).
    pub fn draw(
        &self,
        t: f32,
        rows: usize,
        cols: usize,
        glyphs: &mut [GlyphId],
        colours: &mut [[u8; 3]],
        gain: f32,
    ) {
        glyphs.fill(BLANK);
        colours.fill([0; 3]);
        let n = self.glyphs.len();
        if n < 2 || rows == 0 {
            return;
        }
        let top = (n - 1) as f32;
        let (rf, cf) = (rows as f32, cols as f32);
        for col in 0..cols {
            let x = col as f32 / cf;
            let h = self.height
                * (0.65 + 0.2 * fsin(x * 9.0 + 2.0 * t) + 0.15 * fsin(x * 23.0 - 3.1 * t + 1.3));
            let start = ((1.0 - h.clamp(0.0, 1.0) * 1.25) * rf).max(0.0) as usize;
            for row in start..rows {
                let u = (rf - row as f32) / rf; // 0 at the bottom
                let shape = (1.0 - u / h.max(1e-3)).clamp(0.0, 1.0);
                let nz = fbm(x * 8.0, u * 5.0 - t * self.speed * 1.6, 4, self.seed);
                let v = (shape * (0.35 + 1.1 * nz) - 0.12).clamp(0.0, 1.0);
                if v <= 0.02 {
                    continue;
                }
                let idx = row * cols + col;
                glyphs[idx] = self.glyphs[((v * top) as usize + 1).min(n - 1)];
                colours[idx] = hsv2rgb(
                    self.hue + 0.12 * v,
                    1.0 - 0.35 * v * v,
                    (0.3 + 0.7 * v) * gain,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_consistent() {
        for t in [param::RAIN, param::FIRE] {
            let problems = crate::render::params::table_problems("effects", t);
            assert!(problems.is_empty(), "{problems:?}");
        }
        assert_eq!(RainSpec::parse(&Params::new()).chars.name(), "kata");
        assert_eq!(FireSpec::parse(&Params::new()).hue(), 0.02);
    }
}
