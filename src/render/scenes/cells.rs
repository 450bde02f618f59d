//! What the visualizer scenes (`spectrum`, `scope`) draw into: one grid's cells, a glyph and a
//! colour each, cleared per frame and blitted through the normal glyph path ([`blit_cells`]),
//! plus the faint backdrop they share so that a quiet frame is never flat black (the reference
//! pipeline's brightness rules).

use crate::render::canvas::{Mode, blit_cells};
use crate::render::color::hsv2rgb;
use crate::render::font::{BLANK, GlyphId};
use crate::render::grid::Grid;

/// One grid's cells for a frame.
#[derive(Debug, Clone)]
pub struct Cells {
    /// The grid.
    pub grid: Grid,
    /// Glyph per cell, row-major.
    pub glyphs: Vec<GlyphId>,
    /// Colour per cell, row-major.
    pub colours: Vec<[u8; 3]>,
    /// Glyph ids of the palette, dark to bright (index 0 is blank).
    pub ramp: Vec<GlyphId>,
    pat: Vec<u8>,
}

impl Cells {
    /// Cells of `grid`, drawing with the characters of `palette` (dark to bright).
    pub fn new(mut grid: Grid, palette: &str) -> Cells {
        let ramp = grid.atlas.ids(palette);
        let n = grid.cells();
        Cells {
            grid,
            glyphs: vec![BLANK; n],
            colours: vec![[0; 3]; n],
            ramp,
            pat: Vec::new(),
        }
    }

    /// Blanks every cell.
    pub fn clear(&mut self) {
        self.glyphs.fill(BLANK);
        self.colours.fill([0; 3]);
    }

    /// The glyph for level `v` in [0, 1] (0 blank, 1 the brightest character).
    pub fn level(&self, v: f32) -> GlyphId {
        let n = self.ramp.len();
        if n == 0 || v.is_nan() || v <= 0.0 {
            return BLANK;
        }
        let i = ((v.min(1.0) * (n - 1) as f32).ceil() as usize).clamp(1, n - 1);
        self.ramp[i]
    }

    /// Sets cell `(row, col)` if it is inside the grid.
    pub fn set(&mut self, row: usize, col: usize, glyph: GlyphId, colour: [u8; 3]) {
        if row < self.grid.rows && col < self.grid.cols {
            let i = row * self.grid.cols + col;
            self.glyphs[i] = glyph;
            self.colours[i] = colour;
        }
    }

    /// Sets cell `(row, col)` unless it already holds something at least as bright (by the
    /// colour's largest channel).
    pub fn set_max(&mut self, row: usize, col: usize, glyph: GlyphId, colour: [u8; 3]) {
        if row < self.grid.rows && col < self.grid.cols {
            let i = row * self.grid.cols + col;
            let old = self.colours[i].iter().copied().max().unwrap_or(0);
            if self.glyphs[i] == BLANK || colour.iter().copied().max().unwrap_or(0) > old {
                self.glyphs[i] = glyph;
                self.colours[i] = colour;
            }
        }
    }

    /// The faint backdrop: a dotted lattice every `every` cells in `hue` at value `v`.
    pub fn backdrop(&mut self, glyph: GlyphId, hue: f32, v: f32, every: usize) {
        if v <= 0.0 {
            return;
        }
        let colour = hsv2rgb(hue, 0.5, v.min(1.0));
        let every = every.max(1);
        for r in (0..self.grid.rows).step_by(every) {
            for c in (0..self.grid.cols).step_by(every) {
                self.set(r, c, glyph, colour);
            }
        }
    }

    /// The shaded wash: every cell still blank gets the palette's first character in `hue`, at
    /// value `v * (0.3 + 0.7 * glow(grid, cell))` (`glow` in [0, 1]: where the wash is
    /// brightest). Drawn last, under nothing: a quiet frame keeps a lit screen.
    pub fn wash(&mut self, hue: f32, v: f32, glow: impl Fn(&Grid, usize) -> f32) {
        let Some(&glyph) = self.ramp.get(2).or(self.ramp.get(1)) else {
            return;
        };
        if v <= 0.0 {
            return;
        }
        let grid = &self.grid;
        for (i, (g, c)) in self.glyphs.iter_mut().zip(&mut self.colours).enumerate() {
            if *g == BLANK {
                let k = glow(grid, i).clamp(0.0, 1.0);
                *g = glyph;
                *c = hsv2rgb(hue, 0.6, (v * (0.3 + 0.7 * k)).min(1.0));
            }
        }
    }

    /// Clears `out` and draws the cells into it.
    pub fn draw(&mut self, out: &mut [u8], width: usize) {
        out.fill(0);
        blit_cells(
            out,
            width,
            &self.grid,
            &self.glyphs,
            &self.colours,
            Mode::Max,
            &mut self.pat,
        );
    }
}

/// Linear interpolation of `v` (a table of samples over [0, 1]) at `x` in [0, 1].
pub fn sample(v: &[f32], x: f32) -> f32 {
    match v.len() {
        0 => 0.0,
        1 => v[0],
        n => {
            let p = (x.clamp(0.0, 1.0) * (n - 1) as f32).min((n - 1) as f32);
            let i = (p.floor() as usize).min(n - 2);
            let f = p - i as f32;
            v[i] * (1.0 - f) + v[i + 1] * f
        }
    }
}
