//! Blend modes (the digest's `blend_canvas`, 20 modes) as 256 x 256 lookup tables, and blits that
//! composite glyphs through them.
//!
//! A [`Lut`] holds `round(255 * clip(a (1 - o) + MODE(a, b) o))` for every byte pair `(a, b)`
//! (`a` the canvas, `b` the layer), computed once per (mode, opacity, colour space) at scene
//! build; `linear` evaluates the mode on linear-light values (the digest's `blend_canvas_linear`) at
//! no extra cost per frame. Modes with `MODE(a, 0) = a` (add, subtract, screen, difference,
//! exclusion, lighten, colordodge) leave black layer pixels' canvas untouched, so they are fused
//! into the glyph blit: only inked glyph pixels are touched ([`blit_cells_lut`]). The other modes
//! change the canvas where the layer is black too (normal, multiply, overlay, ...), so the layer is
//! drawn onto a black scratch canvas and blended over the whole frame ([`blend_frame`]).

use crate::render::canvas::div255;
use crate::render::color::{linear_to_srgb, srgb_to_linear};
use crate::render::font::{Atlas, BLANK, Glyph, GlyphId};
use crate::render::grid::Grid;

/// Names of the blend modes.
pub const BLEND_MODES: &[&str] = &[
    "normal",
    "add",
    "subtract",
    "multiply",
    "screen",
    "overlay",
    "softlight",
    "hardlight",
    "difference",
    "exclusion",
    "colordodge",
    "colorburn",
    "linearlight",
    "vividlight",
    "pin_light",
    "hard_mix",
    "lighten",
    "darken",
    "grain_extract",
    "grain_merge",
];

const EPS: f32 = 1e-3;

/// The blend function `MODE(a, b)` on values in `[0, 1]` (unclipped).
pub fn mode_fn(mode: &str, a: f32, b: f32) -> f32 {
    let dodge = |a: f32, b: f32| a / (1.0 - b + EPS);
    let burn = |a: f32, b: f32| 1.0 - (1.0 - a) / (b + EPS);
    match mode {
        "add" => a + b,
        "subtract" => a - b,
        "multiply" => a * b,
        "screen" => 1.0 - (1.0 - a) * (1.0 - b),
        "overlay" => {
            if a < 0.5 {
                2.0 * a * b
            } else {
                1.0 - 2.0 * (1.0 - a) * (1.0 - b)
            }
        }
        "softlight" => (1.0 - 2.0 * b) * a * a + 2.0 * b * a,
        "hardlight" => {
            if b < 0.5 {
                2.0 * a * b
            } else {
                1.0 - 2.0 * (1.0 - a) * (1.0 - b)
            }
        }
        "difference" => (a - b).abs(),
        "exclusion" => a + b - 2.0 * a * b,
        "colordodge" => dodge(a, b),
        "colorburn" => burn(a, b),
        "linearlight" => a + 2.0 * b - 1.0,
        "vividlight" => {
            if b < 0.5 {
                burn(a, 2.0 * b)
            } else {
                dodge(a, 2.0 * (b - 0.5))
            }
        }
        "pin_light" => {
            if b < 0.5 {
                a.min(2.0 * b)
            } else {
                a.max(2.0 * (b - 0.5))
            }
        }
        "hard_mix" => {
            if a + b >= 1.0 {
                1.0
            } else {
                0.0
            }
        }
        "lighten" => a.max(b),
        "darken" => a.min(b),
        "grain_extract" => a - b + 0.5,
        "grain_merge" => a + b - 0.5,
        _ => b,
    }
}

/// A blend mode at an opacity, tabulated for every byte pair.
#[derive(Clone)]
pub struct Lut {
    table: Box<[u8]>,
    /// Whether black layer pixels leave the canvas unchanged (the blit can be fused).
    pub fusable: bool,
    /// Whether onto a black canvas the result is `round(b * opacity)` (a plain draw).
    pub draws_on_black: bool,
}

impl std::fmt::Debug for Lut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Lut {{ fusable: {} }}", self.fusable)
    }
}

impl Lut {
    /// Tabulates `mode` at `opacity` (clamped to `[0, 1]`), in sRGB or linear light.
    pub fn new(mode: &str, opacity: f32, linear: bool) -> Lut {
        let o = opacity.clamp(0.0, 1.0);
        let mut table = vec![0u8; 65536].into_boxed_slice();
        for a in 0..256usize {
            for b in 0..256usize {
                let v = if linear {
                    let (la, lb) = (srgb_to_linear(a as u8), srgb_to_linear(b as u8));
                    let m = mode_fn(mode, la, lb).clamp(0.0, 1.0);
                    linear_to_srgb(la * (1.0 - o) + m * o)
                } else {
                    let (fa, fb) = (a as f32 / 255.0, b as f32 / 255.0);
                    let m = mode_fn(mode, fa, fb).clamp(0.0, 1.0);
                    ((fa * (1.0 - o) + m * o) * 255.0 + 0.5).clamp(0.0, 255.0) as u8
                };
                table[(a << 8) | b] = v;
            }
        }
        let fusable = (0..256).all(|a| usize::from(table[a << 8]) == a);
        let draws_on_black = (0..256).all(|b| {
            let want = (b as f32 * o + 0.5) as i32;
            (i32::from(table[b]) - want).abs() <= 1
        });
        Lut {
            table,
            fusable,
            draws_on_black,
        }
    }

    /// `blend(a, b)`.
    #[inline(always)]
    pub fn get(&self, a: u8, b: u8) -> u8 {
        self.table[(usize::from(a) << 8) | usize::from(b)]
    }
}

/// Blends a whole layer canvas over `out`: `out = lut(out, layer)` per byte.
pub fn blend_frame(out: &mut [u8], layer: &[u8], lut: &Lut) {
    for (o, &l) in out.iter_mut().zip(layer) {
        *o = lut.get(*o, l);
    }
}

#[inline(always)]
fn blit_glyph_lut(
    out: &mut [u8],
    stride: usize,
    x: usize,
    y: usize,
    g: &Glyph,
    c: [u8; 3],
    lut: &Lut,
) {
    let rw = g.w * 3;
    let mut start = (y + g.y0) * stride + (x + g.x0) * 3;
    for cov in g.cov3.chunks_exact(rw) {
        let row = &mut out[start..start + rw];
        for (px, cv) in row.chunks_exact_mut(3).zip(cov.chunks_exact(3)) {
            let a = u16::from(cv[0]);
            if a == 0 {
                continue;
            }
            for k in 0..3 {
                let b = div255(a * u16::from(c[k])) as u8;
                px[k] = lut.get(px[k], b);
            }
        }
        start += stride;
    }
}

/// Draws every non-blank cell of `grid` through a fusable `lut` (see [`Lut::fusable`]).
pub fn blit_cells_lut(
    out: &mut [u8],
    width: usize,
    grid: &Grid,
    glyphs: &[GlyphId],
    colours: &[[u8; 3]],
    lut: &Lut,
) {
    let stride = width * 3;
    crate::render::canvas::for_each_lit_cell(grid, glyphs, colours, |x, y, g, colour| {
        blit_glyph_lut(out, stride, x, y, g, colour, lut);
    });
}

/// Draws a text row (one id per cell, see `Atlas::text_ids`) with one colour per id, through
/// `lut` (fusable), or with `max` when `lut` is `None`. Glyphs not wholly inside the frame are
/// skipped. One call per row: the seed's whole-string text fast path.
#[allow(clippy::too_many_arguments)]
pub fn blit_row(
    out: &mut [u8],
    width: usize,
    height: usize,
    x: i64,
    y: i64,
    atlas: &Atlas,
    ids: &[GlyphId],
    colours: &[[u8; 3]],
    lut: Option<&Lut>,
) {
    let (cw, ch) = (atlas.cw as i64, atlas.ch as i64);
    if y < 0 || y + ch > height as i64 {
        return;
    }
    let stride = width * 3;
    for (i, &id) in ids.iter().enumerate() {
        let cx = x + i as i64 * cw;
        if id == BLANK || cx < 0 {
            continue;
        }
        let g = atlas.glyph(id);
        if cx + (g.x0 + g.w) as i64 > width as i64 {
            continue;
        }
        let c = colours
            .get(i)
            .or(colours.last())
            .copied()
            .unwrap_or([255; 3]);
        match lut {
            Some(l) => blit_glyph_lut(out, stride, cx as usize, y as usize, g, c, l),
            None => {
                let rw = g.w * 3;
                let mut start = (y as usize + g.y0) * stride + (cx as usize + g.x0) * 3;
                for cov in g.cov3.chunks_exact(rw) {
                    for (px, cv) in out[start..start + rw]
                        .chunks_exact_mut(3)
                        .zip(cov.chunks_exact(3))
                    {
                        let a = u16::from(cv[0]);
                        for k in 0..3 {
                            px[k] = px[k].max(div255(a * u16::from(c[k])) as u8);
                        }
                    }
                    start += stride;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luts_match_the_formulas() {
        let s = Lut::new("screen", 1.0, false);
        assert!(s.fusable && s.draws_on_black);
        assert_eq!(s.get(200, 200), 243);
        let n = Lut::new("normal", 0.5, false);
        assert!(!n.fusable);
        assert_eq!(n.get(200, 100), 150);
        let m = Lut::new("multiply", 1.0, false);
        assert_eq!(m.get(255, 77), 77);
        assert!(!m.fusable);
        for mode in BLEND_MODES {
            let l = Lut::new(mode, 0.0, false);
            assert!(
                (0..=255u8).all(|a| l.get(a, 255 - a) == a),
                "{mode} at opacity 0"
            );
            let _ = Lut::new(mode, 0.7, true);
        }
        for mode in [
            "add",
            "subtract",
            "screen",
            "difference",
            "exclusion",
            "lighten",
        ] {
            assert!(Lut::new(mode, 0.6, false).fusable, "{mode}");
        }
    }
}
