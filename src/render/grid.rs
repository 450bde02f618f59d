//! Character grids: cell geometry, centring and cached per-cell coordinates (the Python reference
//! pipeline's `GridLayer`).
//!
//! A grid is laid over the frame with `cols = W / cw` and `rows = H / ch` whole cells, centred by
//! the offsets `ox`, `oy`. Every cell therefore lies fully inside the frame; a frame smaller than
//! one cell gives a grid with 0 columns or rows, which simply draws nothing.

use crate::render::font::{Atlas, Fonts, TEXT_CHARS};
use crate::render::params::vocab;
use std::sync::Arc;

vocab! {
    /// Grid keys: the nominal font size of a grid, smallest first (see [`GridKey::px`]).
    pub enum GridKey {
        /// 8 px.
        Xs = "xs",
        /// 10 px.
        Sm = "sm",
        /// 16 px.
        Md = "md",
        /// 20 px.
        Lg = "lg",
        /// 24 px.
        Xl = "xl",
        /// 40 px.
        Xxl = "xxl",
    }
}

impl GridKey {
    /// Nominal font size in pixels (before the profile's `grid_scale`).
    pub fn px(self) -> f32 {
        match self {
            GridKey::Xs => 8.0,
            GridKey::Sm => 10.0,
            GridKey::Md => 16.0,
            GridKey::Lg => 20.0,
            GridKey::Xl => 24.0,
            GridKey::Xxl => 40.0,
        }
    }
}

/// A grid of character cells over a `width x height` frame, with its glyph atlas and cached
/// coordinate arrays.
#[derive(Debug, Clone)]
pub struct Grid {
    /// Glyph bitmaps at this grid's font size; also defines `cw` and `ch`.
    pub atlas: Atlas,
    /// Cell width in pixels.
    pub cw: usize,
    /// Cell height in pixels.
    pub ch: usize,
    /// Number of whole columns that fit the frame (may be 0).
    pub cols: usize,
    /// Number of whole rows that fit the frame (may be 0).
    pub rows: usize,
    /// Left offset of column 0, centring the grid.
    pub ox: usize,
    /// Top offset of row 0, centring the grid.
    pub oy: usize,
    /// Row index of each row as `f32` (`rows` entries).
    pub rr: Vec<f32>,
    /// Column index of each column as `f32` (`cols` entries).
    pub cc: Vec<f32>,
    /// Per cell (row-major, `rows * cols`): distance from the centre in column units, rows scaled
    /// by the cell aspect `cw / ch` so that circles look round.
    pub dist: Vec<f32>,
    /// Per cell: angle from the centre, `atan2(dy, dx)`, in radians.
    pub angle: Vec<f32>,
    /// Per cell: `dist` divided by its maximum, in `[0, 1]`.
    pub dist_n: Vec<f32>,
    /// Per cell: x of the cell centre in frame units (the frame's height spans -1..1, its width
    /// -W/H..W/H), so that fields look the same on every grid and aspect.
    pub xn: Vec<f32>,
    /// Per cell: y of the cell centre in frame units (-1 at the top, 1 at the bottom).
    pub yn: Vec<f32>,
    /// Per cell: `sqrt(xn^2 + yn^2)`.
    pub rn: Vec<f32>,
    /// Per cell: `atan2(yn, xn)` in radians.
    pub an: Vec<f32>,
    /// Frame width over height.
    pub aspect: f32,
}

impl Grid {
    /// A grid whose font is `px * grid_scale` pixels per em over a `width x height` frame, with the
    /// embedded font chain; its atlas is preloaded with the common text characters (layers add
    /// their palettes).
    pub fn new(px: f32, grid_scale: f32, width: usize, height: usize) -> Grid {
        Grid::with_fonts(px, grid_scale, width, height, Fonts::embedded())
    }

    /// Like [`Grid::new`] with an explicit font chain.
    pub fn with_fonts(
        px: f32,
        grid_scale: f32,
        width: usize,
        height: usize,
        fonts: Arc<Fonts>,
    ) -> Grid {
        let scale = if grid_scale.is_finite() && grid_scale > 0.0 {
            grid_scale
        } else {
            1.0
        };
        let mut atlas = Atlas::with_fonts((px * scale).round(), fonts);
        atlas.ids(TEXT_CHARS);
        let (cw, ch) = (atlas.cw, atlas.ch);
        let cols = width / cw;
        let rows = height / ch;
        let ox = (width - cols * cw) / 2;
        let oy = (height - rows * ch) / 2;
        let rr: Vec<f32> = (0..rows).map(|r| r as f32).collect();
        let cc: Vec<f32> = (0..cols).map(|c| c as f32).collect();
        let (cx, cy) = (cols as f32 / 2.0, rows as f32 / 2.0);
        let asp = cw as f32 / ch as f32;
        let n = rows * cols;
        let mut dist = Vec::with_capacity(n);
        let mut angle = Vec::with_capacity(n);
        for &r in &rr {
            let dy = (r - cy) * asp;
            for &c in &cc {
                let dx = c - cx;
                dist.push((dx * dx + dy * dy).sqrt());
                angle.push(dy.atan2(dx));
            }
        }
        let max = dist.iter().copied().fold(0.0f32, f32::max).max(1e-6);
        let dist_n = dist.iter().map(|d| d / max).collect();
        let half_h = (height.max(1) as f32) / 2.0;
        let half_w = (width as f32) / 2.0;
        let mut xn = Vec::with_capacity(n);
        let mut yn = Vec::with_capacity(n);
        let mut rn = Vec::with_capacity(n);
        let mut an = Vec::with_capacity(n);
        for r in 0..rows {
            let y = ((oy + r * ch) as f32 + ch as f32 / 2.0 - half_h) / half_h;
            for c in 0..cols {
                let x = ((ox + c * cw) as f32 + cw as f32 / 2.0 - half_w) / half_h;
                xn.push(x);
                yn.push(y);
                rn.push((x * x + y * y).sqrt());
                an.push(y.atan2(x));
            }
        }
        Grid {
            atlas,
            cw,
            ch,
            cols,
            rows,
            ox,
            oy,
            rr,
            cc,
            dist,
            angle,
            dist_n,
            xn,
            yn,
            rn,
            an,
            aspect: width as f32 / height.max(1) as f32,
        }
    }

    /// Number of cells (`rows * cols`).
    pub fn cells(&self) -> usize {
        self.rows * self.cols
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_is_centred_and_inside() {
        let g = Grid::new(16.0, 1.0, 1920, 1080);
        assert_eq!((g.cw, g.ch), (10, 19));
        assert_eq!((g.cols, g.rows), (192, 56));
        assert!(g.ox + g.cols * g.cw <= 1920 && g.oy + g.rows * g.ch <= 1080);
        assert_eq!(g.dist.len(), g.cells());
        assert!(g.dist_n.iter().all(|d| (0.0..=1.0).contains(d)));
    }

    #[test]
    fn tiny_frames_give_empty_grids() {
        let g = Grid::new(40.0, 2.0, 16, 16);
        assert_eq!(g.cells(), 0);
        assert!(g.dist.is_empty());
    }
}
