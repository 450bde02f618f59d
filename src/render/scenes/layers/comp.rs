//! Compositing a grid of cells onto the frame: [`Comp`] (a blend mode at an opacity, with its
//! lookup table) and [`composite`], which picks the cheapest exact way to draw: a plain blit onto
//! black, the fused screen blit, a blit through a fusable table, or a scratch canvas blended over
//! the whole frame.

use crate::render::blend::{BlendLut, BlendMode, blend_frame, blit_cells_lut};
use crate::render::canvas::{Mode, blit_cells};
use crate::render::font::GlyphId;
use crate::render::grid::Grid;

/// How a drawn set of cells is composited.
#[derive(Debug, Clone)]
pub struct Comp {
    /// Blend mode.
    pub mode: BlendMode,
    /// Whether the mode works in linear light.
    pub linear: bool,
    /// Opacity in `[0, 1]`.
    pub opacity: f32,
    /// The mode's table at this opacity.
    pub lut: BlendLut,
}

impl Comp {
    /// `mode` at `opacity` (clamped), in linear light or not. The table is made when a
    /// composite first needs it.
    pub fn new(mode: BlendMode, opacity: f32, linear: bool) -> Comp {
        Comp {
            mode,
            linear,
            opacity: opacity.clamp(0.0, 1.0),
            lut: BlendLut::lazy(mode, opacity, linear),
        }
    }

    /// Changes the opacity (a bound value): the same as a new `Comp` at that opacity.
    pub fn set_opacity(&mut self, opacity: f32) {
        self.opacity = opacity.clamp(0.0, 1.0);
        self.lut.set_opacity(opacity);
    }
}

/// Composites one grid's cells (`glyphs`, `colours`) onto `out` by `comp`. `black` says whether
/// `out` is still all black (a plain draw then suffices); it is false afterwards. `scratch` is a
/// frame-sized buffer for the modes that cannot be fused into the blit, `pat` the blits' scratch.
#[allow(clippy::too_many_arguments)]
pub fn composite(
    out: &mut [u8],
    scratch: &mut [u8],
    pat: &mut Vec<u8>,
    width: usize,
    grid: &Grid,
    glyphs: &[GlyphId],
    colours: &mut [[u8; 3]],
    comp: &mut Comp,
    black: &mut bool,
) {
    let scale = |colours: &mut [[u8; 3]]| {
        if comp.opacity < 1.0 {
            let k = (comp.opacity * 256.0) as u16;
            for c in colours.iter_mut() {
                *c = c.map(|v| ((u16::from(v) * k) >> 8) as u8);
            }
        }
    };
    if *black && comp.lut.draws_on_black {
        scale(colours);
        blit_cells(out, width, grid, glyphs, colours, Mode::Max, pat);
    } else if comp.mode == BlendMode::Screen && !comp.linear {
        scale(colours);
        blit_cells(out, width, grid, glyphs, colours, Mode::Screen, pat);
    } else if comp.lut.fusable {
        comp.lut.ready();
        blit_cells_lut(out, width, grid, glyphs, colours, &comp.lut);
    } else {
        comp.lut.ready();
        scratch.fill(0);
        blit_cells(scratch, width, grid, glyphs, colours, Mode::Max, pat);
        blend_frame(out, scratch, &comp.lut);
    }
    *black = false;
}
