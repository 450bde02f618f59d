//! Blend modes (the Python reference pipeline's `blend_canvas`, 20 modes) as 256 x 256 lookup
//! tables, and blits that composite glyphs through them.
//!
//! A [`BlendLut`] holds `round(255 * clip(a (1 - o) + MODE(a, b) o))` for every byte pair `(a, b)`
//! (`a` the canvas, `b` the layer), computed once per (mode, opacity, colour space) at scene build;
//! `linear` evaluates the mode on linear-light values (the reference pipeline's
//! `blend_canvas_linear`) at no extra cost per frame. Modes with `MODE(a, 0) = a` (add, subtract,
//! screen, difference, exclusion, lighten, colordodge) leave black layer pixels' canvas untouched,
//! so they are fused into the glyph blit: only inked glyph pixels are touched ([`blit_cells_lut`]).
//! The other modes change the canvas where the layer is black too (normal, multiply, overlay, ...),
//! so the layer is drawn onto a black scratch canvas and blended over the whole frame
//! ([`blend_frame`]).
//!
//! Hot loops read the table through [`BlendLut::table`], a `&[u8; 65536]` indexed with a `u16`
//! (`(a << 8) | b`): no bounds check per byte. It made the feedback walk of `post` measurably
//! faster (see its module doc); in the fused glyph blit it is the same change, byte for byte the
//! same frames, not measured on its own (the machine's load hid a difference that small).

use crate::render::canvas::div255;
use crate::render::color::{linear_to_srgb, srgb_to_linear};
use crate::render::font::{Atlas, BLANK, Glyph, GlyphId};
use crate::render::grid::Grid;
use crate::render::params::{Params, vocab};
use serde::{Deserialize, Serialize};

vocab! {
    /// Blend modes: how a layer `b` combines with the canvas `a` below it (see [`mode_fn`]).
    pub enum BlendMode {
        Normal = "normal",
        Add = "add",
        Subtract = "subtract",
        Multiply = "multiply",
        Screen = "screen",
        Overlay = "overlay",
        Softlight = "softlight",
        Hardlight = "hardlight",
        Difference = "difference",
        Exclusion = "exclusion",
        Colordodge = "colordodge",
        Colorburn = "colorburn",
        Linearlight = "linearlight",
        Vividlight = "vividlight",
        PinLight = "pin_light",
        HardMix = "hard_mix",
        Lighten = "lighten",
        Darken = "darken",
        GrainExtract = "grain_extract",
        GrainMerge = "grain_merge",
    }
}

/// The compositing parameters shared by particles, rain and fire.
pub mod param {
    use super::BlendMode;
    use crate::render::params::{Dflt, Kind, ParamSpec, num, p};

    /// `blend` (screen by default).
    pub const BLEND: ParamSpec = p(
        "blend",
        Kind::Choice(BlendMode::NAMES),
        Dflt::Word("screen"),
        "blend mode",
    );
    /// `opacity`.
    pub const OPACITY: ParamSpec = p("opacity", num(0.0, 1.0), Dflt::Num(1.0), "opacity");
}

/// How a set of cells is composited onto the frame, as the plan gives it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CompSpec {
    /// Blend mode.
    pub blend: BlendMode,
    /// Opacity.
    pub opacity: f64,
}

impl CompSpec {
    /// Reads `blend` and `opacity` from validated params ([`param::BLEND`], [`param::OPACITY`]).
    pub fn parse(p: &Params) -> CompSpec {
        CompSpec {
            blend: param::BLEND.choice(p),
            opacity: param::OPACITY.num(p),
        }
    }
}

const EPS: f32 = 1e-3;

/// The blend function `MODE(a, b)` on values in `[0, 1]` (unclipped).
pub fn mode_fn(mode: BlendMode, a: f32, b: f32) -> f32 {
    use BlendMode as M;
    let dodge = |a: f32, b: f32| a / (1.0 - b + EPS);
    let burn = |a: f32, b: f32| 1.0 - (1.0 - a) / (b + EPS);
    match mode {
        M::Add => a + b,
        M::Subtract => a - b,
        M::Multiply => a * b,
        M::Screen => 1.0 - (1.0 - a) * (1.0 - b),
        M::Overlay => {
            if a < 0.5 {
                2.0 * a * b
            } else {
                1.0 - 2.0 * (1.0 - a) * (1.0 - b)
            }
        }
        M::Softlight => (1.0 - 2.0 * b) * a * a + 2.0 * b * a,
        M::Hardlight => {
            if b < 0.5 {
                2.0 * a * b
            } else {
                1.0 - 2.0 * (1.0 - a) * (1.0 - b)
            }
        }
        M::Difference => (a - b).abs(),
        M::Exclusion => a + b - 2.0 * a * b,
        M::Colordodge => dodge(a, b),
        M::Colorburn => burn(a, b),
        M::Linearlight => a + 2.0 * b - 1.0,
        M::Vividlight => {
            if b < 0.5 {
                burn(a, 2.0 * b)
            } else {
                dodge(a, 2.0 * (b - 0.5))
            }
        }
        M::PinLight => {
            if b < 0.5 {
                a.min(2.0 * b)
            } else {
                a.max(2.0 * (b - 0.5))
            }
        }
        M::HardMix => {
            if a + b >= 1.0 {
                1.0
            } else {
                0.0
            }
        }
        M::Lighten => a.max(b),
        M::Darken => a.min(b),
        M::GrainExtract => a - b + 0.5,
        M::GrainMerge => a + b - 0.5,
        M::Normal => b,
    }
}

/// A blend mode at an opacity, tabulated for every byte pair.
///
/// A table made by [`BlendLut::new`] is ready at once. One whose opacity follows a bound value
/// ([`BlendLut::set_opacity`]) works out its two flags at once (512 pairs) and tabulates the rest
/// only when [`BlendLut::ready`] is called, from the mode's values kept after the first table
/// (one multiply-add per pair): composites that never read the table (a screen blit, a first
/// layer on black) never pay for it.
#[derive(Clone)]
pub struct BlendLut {
    table: Box<[u8]>,
    /// Whether black layer pixels leave the canvas unchanged (the blit can be fused).
    pub fusable: bool,
    /// Whether onto a black canvas the result is `round(b * opacity)` (a plain draw).
    pub draws_on_black: bool,
    mode: BlendMode,
    linear: bool,
    /// The opacity, clamped to `[0, 1]`.
    opacity: f32,
    /// Whether `table` holds the current opacity's values.
    tabulated: bool,
    /// `clip(MODE(a, b))` per pair (in the mode's colour space), kept once a table is redone.
    base: Option<Box<[f32]>>,
}

impl std::fmt::Debug for BlendLut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlendLut {{ fusable: {} }}", self.fusable)
    }
}

/// The canvas value `a` in the colour space of the mode (`linear`: linear light).
#[inline(always)]
fn space(v: usize, linear: bool) -> f32 {
    if linear {
        srgb_to_linear(v as u8)
    } else {
        v as f32 / 255.0
    }
}

/// `clip(MODE(a, b))` in the mode's colour space.
#[inline(always)]
fn mode_value(mode: BlendMode, a: usize, b: usize, linear: bool) -> f32 {
    mode_fn(mode, space(a, linear), space(b, linear)).clamp(0.0, 1.0)
}

/// The table's entry for canvas `a` given the mode's value `m` at opacity `o`.
#[inline(always)]
fn entry(a: usize, m: f32, o: f32, linear: bool) -> u8 {
    let fa = space(a, linear);
    if linear {
        linear_to_srgb(fa * (1.0 - o) + m * o)
    } else {
        ((fa * (1.0 - o) + m * o) * 255.0 + 0.5).clamp(0.0, 255.0) as u8
    }
}

impl BlendLut {
    /// Tabulates `mode` at `opacity` (clamped to `[0, 1]`), in sRGB or linear light.
    pub fn new(mode: BlendMode, opacity: f32, linear: bool) -> BlendLut {
        let mut lut = BlendLut::lazy(mode, opacity, linear);
        lut.ready();
        lut
    }

    /// [`BlendLut::new`] with its flags worked out and its table left for [`BlendLut::ready`].
    pub fn lazy(mode: BlendMode, opacity: f32, linear: bool) -> BlendLut {
        let mut lut = BlendLut {
            table: Box::new([]),
            fusable: false,
            draws_on_black: false,
            mode,
            linear,
            opacity: opacity.clamp(0.0, 1.0),
            tabulated: false,
            base: None,
        };
        lut.flags();
        lut
    }

    /// The opacity, clamped to `[0, 1]`.
    pub fn opacity(&self) -> f32 {
        self.opacity
    }

    /// Changes the opacity (clamped to `[0, 1]`): the flags at once, the table at the next
    /// [`BlendLut::ready`]. The same as a new table at that opacity.
    pub fn set_opacity(&mut self, opacity: f32) {
        let o = opacity.clamp(0.0, 1.0);
        if o.to_bits() == self.opacity.to_bits() {
            return;
        }
        self.opacity = o;
        self.tabulated = false;
        self.flags();
    }

    /// Works out [`BlendLut::fusable`] and [`BlendLut::draws_on_black`] at the opacity.
    fn flags(&mut self) {
        let (mode, linear, o) = (self.mode, self.linear, self.opacity);
        let at = |a: usize, b: usize| entry(a, mode_value(mode, a, b, linear), o, linear);
        self.fusable = (0..256).all(|a| usize::from(at(a, 0)) == a);
        self.draws_on_black = (0..256).all(|b| {
            let want = (b as f32 * o + 0.5) as i32;
            (i32::from(at(0, b)) - want).abs() <= 1
        });
    }

    /// Tabulates every pair at the current opacity, if that is not done yet.
    pub fn ready(&mut self) {
        if self.tabulated {
            return;
        }
        let (mode, linear, o) = (self.mode, self.linear, self.opacity);
        if self.table.is_empty() {
            // The first table: computed directly (most tables are made once).
            let mut table = vec![0u8; 65536].into_boxed_slice();
            for a in 0..256usize {
                for b in 0..256usize {
                    table[(a << 8) | b] = entry(a, mode_value(mode, a, b, linear), o, linear);
                }
            }
            self.table = table;
        } else {
            // The opacity changed: keep the mode's values and redo the mix.
            let base = self.base.get_or_insert_with(|| {
                let mut m = vec![0f32; 65536].into_boxed_slice();
                for a in 0..256usize {
                    for b in 0..256usize {
                        m[(a << 8) | b] = mode_value(mode, a, b, linear);
                    }
                }
                m
            });
            for (a, (row, ms)) in self
                .table
                .chunks_exact_mut(256)
                .zip(base.chunks_exact(256))
                .enumerate()
            {
                for (t, &m) in row.iter_mut().zip(ms) {
                    *t = entry(a, m, o, linear);
                }
            }
        }
        self.tabulated = true;
    }

    /// `blend(a, b)`. The table must be ready (see [`BlendLut::ready`]).
    #[inline(always)]
    pub fn get(&self, a: u8, b: u8) -> u8 {
        debug_assert!(self.tabulated, "a blend table read before it was ready");
        self.table[(usize::from(a) << 8) | usize::from(b)]
    }

    /// The whole table, `(a << 8) | b` -> value: indexing a fixed-size array with a `u16`
    /// index needs no bounds check in hot loops (see [`crate::render::post::Feedback`]).
    pub fn table(&self) -> &[u8; 65536] {
        debug_assert!(self.tabulated, "a blend table read before it was ready");
        (&*self.table)
            .try_into()
            .expect("a ready blend table has 65536 entries")
    }
}

/// Blends a whole layer canvas over `out`: `out = lut(out, layer)` per byte.
pub fn blend_frame(out: &mut [u8], layer: &[u8], lut: &BlendLut) {
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
    lut: &BlendLut,
) {
    let rw = g.w * 3;
    let mut start = (y + g.y0) * stride + (x + g.x0) * 3;
    let table = lut.table();
    for cov in g.cov3.chunks_exact(rw) {
        let row = &mut out[start..start + rw];
        for (px, cv) in row.chunks_exact_mut(3).zip(cov.chunks_exact(3)) {
            let a = u16::from(cv[0]);
            if a == 0 {
                continue;
            }
            for k in 0..3 {
                let b = div255(a * u16::from(c[k]));
                // A u16 index into the fixed-size table: no bounds check.
                px[k] = table[usize::from((u16::from(px[k]) << 8) | b)];
            }
        }
        start += stride;
    }
}

/// Draws every non-blank cell of `grid` through a fusable `lut` (see [`BlendLut::fusable`]).
pub fn blit_cells_lut(
    out: &mut [u8],
    width: usize,
    grid: &Grid,
    glyphs: &[GlyphId],
    colours: &[[u8; 3]],
    lut: &BlendLut,
) {
    let stride = width * 3;
    crate::render::canvas::for_each_lit_cell(grid, glyphs, colours, |x, y, g, colour| {
        blit_glyph_lut(out, stride, x, y, g, colour, lut);
    });
}

/// Draws a text row (one id per cell, see `Atlas::text_ids`) with one colour per id, through
/// `lut` (fusable), or with `max` when `lut` is `None`. Glyphs not wholly inside the frame are
/// skipped. One call per row: the reference pipeline's whole-string text fast path.
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
    lut: Option<&BlendLut>,
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
        let s = BlendLut::new(BlendMode::Screen, 1.0, false);
        assert!(s.fusable && s.draws_on_black);
        assert_eq!(s.get(200, 200), 243);
        let n = BlendLut::new(BlendMode::Normal, 0.5, false);
        assert!(!n.fusable);
        assert_eq!(n.get(200, 100), 150);
        let m = BlendLut::new(BlendMode::Multiply, 1.0, false);
        assert_eq!(m.get(255, 77), 77);
        assert!(!m.fusable);
        use strum::IntoEnumIterator;
        for mode in BlendMode::iter() {
            let l = BlendLut::new(mode, 0.0, false);
            assert!(
                (0..=255u8).all(|a| l.get(a, 255 - a) == a),
                "{mode} at opacity 0"
            );
            let _ = BlendLut::new(mode, 0.7, true);
        }
        for mode in [
            "add",
            "subtract",
            "screen",
            "difference",
            "exclusion",
            "lighten",
        ] {
            let mode: BlendMode = mode.parse().unwrap();
            assert!(BlendLut::new(mode, 0.6, false).fusable, "{mode}");
        }
        assert_eq!(
            BlendMode::NAMES,
            [
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
            ]
        );
    }
}
