//! The plasma field layer of the `plasma` and `quote` scenes: a grid whose cells show the Python
//! reference pipeline's plasma value field (`vf_plasma`) as palette characters and HSV colours.
//! (The `layers` scene has its own, more general layer: see `layers::FieldLayer`.)

use crate::render::color::{hsv2rgb, scale_rgb};
use crate::render::font::{BLANK, GlyphId};
use crate::render::grid::Grid;
use std::f64::consts::TAU;

/// Reduces a phase to `[0, 2pi)` in `f64` before handing it to `f32` trigonometry, so that long
/// clips (large `t`) keep full precision.
#[inline]
fn phase(x: f64) -> f32 {
    x.rem_euclid(TAU) as f32
}

/// How a [`PlasmaLayer`] animates and colours its plasma value field.
///
/// The value field is the Python reference pipeline's `vf_plasma` at field time `t * t_scale +
/// t_offset`: `0.5 sin(fx c + .7 s t) + 0.4 sin(fy r - .5 s t) + 0.3 sin(.7 fx c + .6 fy r + .3 s
/// t) + 0.3 sin(9 dist_n - .8 s t)`, mapped by `clip(v * 0.33 + 0.55, 0, 1)` (`s` = `speed`). Cell
/// colour is `hsv(hue_base + hue_rate t + hue_v v, sat, min(val_floor + v val_gain, 1)) *
/// colour_gain`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldStyle {
    /// Column frequency.
    pub fx: f32,
    /// Row frequency.
    pub fy: f32,
    /// Field time multiplier.
    pub t_scale: f64,
    /// Field time offset (seconds).
    pub t_offset: f64,
    /// Speed multiplier inside the sines.
    pub speed: f64,
    /// Hue offset.
    pub hue_base: f32,
    /// Hue drift per second of scene time.
    pub hue_rate: f32,
    /// Hue change per unit of value.
    pub hue_v: f32,
    /// Saturation.
    pub sat: f32,
    /// Brightness per unit of value (added to `val_floor`, clamped to 1).
    pub val_gain: f32,
    /// Brightness of a cell with value 0 (a floor that keeps dim fields visible).
    pub val_floor: f32,
    /// Cells with a value at or below this draw nothing.
    pub threshold: f32,
    /// Final colour multiplier (layer opacity), in `[0, 1]`.
    pub colour_gain: f32,
}

/// A grid whose cells show a plasma value field as palette characters and HSV colours.
///
/// All trigonometry that does not depend on time is cached at construction; per frame the field
/// costs `3 * cols + rows` sines plus a few multiply-adds per cell, thanks to
/// `sin(a + b) = sin a cos b + cos a sin b`.
#[derive(Debug, Clone)]
pub struct PlasmaLayer {
    /// The grid (and its glyph atlas).
    pub grid: Grid,
    /// Style of the field.
    pub style: FieldStyle,
    palette: Vec<GlyphId>,
    sin_q: Vec<f32>,
    cos_q: Vec<f32>,
    sin_d: Vec<f32>,
    cos_d: Vec<f32>,
    col_a: Vec<f32>,
    sin_p: Vec<f32>,
    cos_p: Vec<f32>,
    row_b: Vec<f32>,
    /// Glyph of each cell after [`PlasmaLayer::update`] (row-major).
    pub glyphs: Vec<GlyphId>,
    /// Colour of each cell after [`PlasmaLayer::update`] (row-major).
    pub colours: Vec<[u8; 3]>,
}

impl PlasmaLayer {
    /// A layer on `grid` using the characters of `palette` (space first), rasterized now.
    pub fn new(mut grid: Grid, palette: &str, style: FieldStyle) -> PlasmaLayer {
        let mut ids = grid.atlas.ids(palette);
        if ids.is_empty() {
            ids.push(BLANK);
        }
        ids[0] = BLANK;
        let q: Vec<f32> = grid.rr.iter().map(|&r| r * style.fy * 0.6).collect();
        let d: Vec<f32> = grid.dist_n.iter().map(|&d| d * 9.0).collect();
        let (cols, rows, cells) = (grid.cols, grid.rows, grid.cells());
        PlasmaLayer {
            style,
            palette: ids,
            sin_q: q.iter().map(|x| x.sin()).collect(),
            cos_q: q.iter().map(|x| x.cos()).collect(),
            sin_d: d.iter().map(|x| x.sin()).collect(),
            cos_d: d.iter().map(|x| x.cos()).collect(),
            col_a: vec![0.0; cols],
            sin_p: vec![0.0; cols],
            cos_p: vec![0.0; cols],
            row_b: vec![0.0; rows],
            glyphs: vec![BLANK; cells],
            colours: vec![[0; 3]; cells],
            grid,
        }
    }

    /// Computes every cell's glyph and colour for scene time `t` (a pure function of `t`).
    pub fn update(&mut self, t: f64) {
        let s = self.style;
        let tf = t * s.t_scale + s.t_offset;
        let sp = s.speed;
        let ph_a = phase(tf * 0.7 * sp);
        let ph_b = phase(-tf * 0.5 * sp);
        let ph_p = phase(tf * 0.3 * sp);
        let ph_t = phase(tf * 0.8 * sp);
        let (sin_t, cos_t) = ph_t.sin_cos();
        for (i, &c) in self.grid.cc.iter().enumerate() {
            self.col_a[i] = 0.5 * (c * s.fx + ph_a).sin();
            let (sp_, cp_) = (c * s.fx * 0.7 + ph_p).sin_cos();
            self.sin_p[i] = 0.3 * sp_;
            self.cos_p[i] = 0.3 * cp_;
        }
        for (b, &r) in self.row_b.iter_mut().zip(&self.grid.rr) {
            *b = 0.4 * (r * s.fy + ph_b).sin();
        }
        let hue0 = s.hue_base + phase_frac(t * f64::from(s.hue_rate));
        let n = self.palette.len();
        let top = (n - 1) as f32;
        let cols = self.grid.cols;
        if cols == 0 {
            return;
        }
        for (row, ((glyphs, colours), (sd, cd))) in self
            .glyphs
            .chunks_exact_mut(cols)
            .zip(self.colours.chunks_exact_mut(cols))
            .zip(
                self.sin_d
                    .chunks_exact(cols)
                    .zip(self.cos_d.chunks_exact(cols)),
            )
            .enumerate()
        {
            let (b, sq, cq) = (self.row_b[row], self.sin_q[row], self.cos_q[row]);
            for i in 0..cols {
                let mut v = self.col_a[i]
                    + b
                    + (self.sin_p[i] * cq + self.cos_p[i] * sq)
                    + 0.3 * (sd[i] * cos_t - cd[i] * sin_t);
                v = (v * 0.33 + 0.55).clamp(0.0, 1.0);
                let idx = ((v * top) as usize).min(n - 1);
                let id = if v > s.threshold {
                    self.palette[idx]
                } else {
                    BLANK
                };
                glyphs[i] = id;
                colours[i] = if id == BLANK {
                    [0; 3]
                } else {
                    let rgb = hsv2rgb(
                        hue0 + s.hue_v * v,
                        s.sat,
                        (s.val_floor + v * s.val_gain).min(1.0),
                    );
                    if s.colour_gain < 1.0 {
                        scale_rgb(rgb, s.colour_gain)
                    } else {
                        rgb
                    }
                };
            }
        }
    }
}

/// Fractional part of `x` as `f32` (hue drift stays precise for long clips).
#[inline]
fn phase_frac(x: f64) -> f32 {
    x.rem_euclid(1.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style() -> FieldStyle {
        FieldStyle {
            fx: 0.06,
            fy: 0.09,
            t_scale: 1.0,
            t_offset: 0.0,
            speed: 1.0,
            hue_base: 0.0,
            hue_rate: 0.05,
            hue_v: 0.35,
            sat: 0.75,
            val_gain: 1.1,
            val_floor: 0.0,
            threshold: 0.12,
            colour_gain: 1.0,
        }
    }

    #[test]
    fn field_matches_direct_formula() {
        let grid = Grid::new(16.0, 1.0, 320, 180);
        let mut layer = PlasmaLayer::new(grid, " .:-=+#@", style());
        let t = 2.5f64;
        layer.update(t);
        let g = &layer.grid;
        let n = 8usize;
        for r in 0..g.rows {
            for c in 0..g.cols {
                let (cc, rr) = (c as f64, r as f64);
                let dn = f64::from(g.dist_n[r * g.cols + c]);
                let mut v = (cc * 0.06 + t * 0.7).sin() * 0.5;
                v += (rr * 0.09 - t * 0.5).sin() * 0.4;
                v += (cc * 0.06 * 0.7 + rr * 0.09 * 0.6 + t * 0.3).sin() * 0.3;
                v += (dn * 9.0 - t * 0.8).sin() * 0.3;
                let v = (v * 0.33 + 0.55).clamp(0.0, 1.0);
                let want = if v > 0.12 {
                    layer.palette[((v * 7.0) as usize).min(n - 1)]
                } else {
                    BLANK
                };
                let got = layer.glyphs[r * g.cols + c];
                // Allow off-by-one at palette boundaries (f32 vs f64 rounding).
                let ok = got == want
                    || layer
                        .palette
                        .iter()
                        .position(|&p| p == got)
                        .map(|i| i as i64)
                        .zip(
                            layer
                                .palette
                                .iter()
                                .position(|&p| p == want)
                                .map(|i| i as i64),
                        )
                        .is_some_and(|(a, b)| (a - b).abs() <= 1);
                assert!(ok, "cell {r},{c}");
            }
        }
    }
}
