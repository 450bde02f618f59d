//! Matrix rain and fire, written into a grid's cells. Both are pure functions of time (hashed per
//! column and per cycle), so they need no state and cost one pass over the cells they light.
//!
//! - Rain: each active column (a `density` fraction) has a head falling at its own speed
//!   (`speed * U(6, 30)` rows per second, the digest's `U(.3, 2)` per frame at 24 fps scaled),
//!   a trail of 8..40 cells, and restarts above the top after leaving the bottom; each cell shows a
//!   fixed hashed character that changes now and then. The head is white-ish, the tail fades green
//!   (or `hue`).
//! - Fire: flames are fBM noise rising at `speed`, shaped by a height profile that wobbles per
//!   column (`height` of the rows at most); characters from the palette by intensity (` ░▒▓█` by
//!   default), hue `hue + 0.12 v` (red to yellow), brightness = intensity.

use crate::render::color::hsv2rgb;
use crate::render::fastmath::{fbm, fsin, hash01, hash2};
use crate::render::font::{BLANK, GlyphId};

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
