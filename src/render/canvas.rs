//! Pixel compositing on rgb24 buffers: glyph blits, text rows and rectangle darkening.
//!
//! All arithmetic is integer. A glyph pixel of coverage `a` (0..=255) in colour `c` contributes
//! `b = a * c / 255` per channel. Two compositing modes exist:
//! - [`Mode::Max`]: `out = max(out, b)`, the reference pipeline's blit (layers drawn this way never
//!   darken).
//! - [`Mode::Screen`]: `out = out + b * (255 - out) / 255`, the screen blend `1 - (1-a)(1-b)` fused
//!   into the blit. Cells of one grid never overlap, so blitting an upper layer in screen mode onto
//!   the finished lower layer equals rendering it onto black and screen-blending the two canvases
//!   (opacity is folded into the layer's colours by the caller); pixels the layer leaves black are
//!   untouched, exactly as with the full-frame blend, but only lit glyph pixels cost anything.
//!
//! Glyph bitmaps are pre-trimmed and pre-expanded to three bytes per pixel (see `font`), so each
//! glyph row is one loop over three equal-length `u8` slices that the compiler vectorises.
//!
//! [`blit_cells`] blits rows padded with zero coverage to a multiple of 16 bytes
//! ([`Glyph::cov3p`]), in whole fixed-size vectors with no scalar tail (zero coverage leaves the
//! padded bytes as they were in both modes, so the bytes are the same; a glyph whose padded
//! rows would run past the buffer takes the exact rows), compiled for AVX2 / SSE4.1 besides
//! the SSE2 baseline with `multiversion` and picked at run time. Measured on the plasma scene
//! (2-core EPYC, 1080p, one core, `farm bench-render`, old and new binaries alternating, min
//! of 3, quiet machine): max blit (with the frame clear) 0.78 -> 0.47 ms, screen blit 0.65 ->
//! 0.39 ms. The
//! cells come from an iterator (`lit_cells`), not a closure given to [`for_each_lit_cell`]: a
//! closure is not compiled with its caller's target features (blit 1.6 -> 5.5 ms), while the
//! iterator inlines into the AVX2 code (callgrind, 720p: the same instructions as the loop
//! written out, 21.5 -> 20.9 M for 3 frames' max blits), and the
//! max blit is two steps over 16-bit lanes (as one, LLVM left it one byte at a time).

use crate::render::font::{Atlas, BLANK, Glyph, GlyphId, PAD};
use crate::render::grid::Grid;

/// How a glyph is composited onto the canvas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `max(canvas, glyph)`.
    Max,
    /// Screen blend of the glyph over the canvas.
    Screen,
}

/// `x / 255` rounded down, exact for `x <= 255 * 255` (checked exhaustively in the tests).
#[inline(always)]
pub fn div255(x: u16) -> u16 {
    (x + 1 + (x >> 8)) >> 8
}

/// Fills `pat` with `colour` repeated for `n` pixels and returns that prefix.
#[inline(always)]
fn pattern(pat: &mut Vec<u8>, colour: [u8; 3], n: usize) -> &[u8] {
    if pat.len() < n * 3 {
        pat.resize(n * 3, 0);
    }
    for px in pat[..n * 3].chunks_exact_mut(3) {
        px.copy_from_slice(&colour);
    }
    &pat[..n * 3]
}

/// Composites glyph `g` (whose cell's top-left corner is at pixel `(x, y)`) onto `out`.
///
/// The caller guarantees the cell lies inside the frame; `stride` is `width * 3`; `pat` holds
/// the colour repeated for at least [`Glyph::padded_row`] bytes.
#[inline(always)]
fn blit_glyph<const SCREEN: bool>(
    out: &mut [u8],
    stride: usize,
    x: usize,
    y: usize,
    g: &Glyph,
    pat: &[u8],
) {
    if g.is_blank() {
        return;
    }
    let start = (y + g.y0) * stride + (x + g.x0) * 3;
    let pw = g.padded_row();
    if start + (g.h - 1) * stride + pw <= out.len() {
        // Whole 16-byte vectors over the padded rows: the padding has zero coverage, so
        // `max(o, 0)` and `o + 0 * (255 - o) / 255` leave those bytes (the next cell's or the
        // next row's) as they were, and no scalar tail runs.
        blit_rows::<SCREEN, PAD>(out, stride, start, &g.cov3p, pw, &pat[..pw]);
    } else {
        // The last glyph of the frame: exact rows, no byte past the end.
        let rw = g.w * 3;
        blit_rows::<SCREEN, 1>(out, stride, start, &g.cov3, rw, &pat[..rw]);
    }
}

/// The rows of one glyph (`rw` bytes of coverage each, a multiple of `V`) composited onto
/// `out` from byte `start` on, one row every `stride` bytes, in steps of `V` bytes.
#[inline(always)]
fn blit_rows<const SCREEN: bool, const V: usize>(
    out: &mut [u8],
    stride: usize,
    mut start: usize,
    cov3: &[u8],
    rw: usize,
    pat: &[u8],
) {
    for cov in cov3.chunks_exact(rw) {
        let row = &mut out[start..start + rw];
        for ((o, a), p) in row
            .chunks_exact_mut(V)
            .zip(cov.chunks_exact(V))
            .zip(pat.chunks_exact(V))
        {
            // Fixed-size arrays: without them the max blit stayed one byte at a time.
            let (Ok(o), Ok(a), Ok(p)) = (
                <&mut [u8; V]>::try_from(o),
                <&[u8; V]>::try_from(a),
                <&[u8; V]>::try_from(p),
            ) else {
                continue;
            };
            // In two steps over 16-bit lanes: written as one, the max blit stayed scalar.
            let mut b = [0u16; V];
            for ((b, &a), &p) in b.iter_mut().zip(a).zip(p) {
                *b = div255(u16::from(a) * u16::from(p));
            }
            for (o, &b) in o.iter_mut().zip(&b) {
                let base = u16::from(*o);
                *o = if SCREEN {
                    base + div255(b * (255 - base))
                } else {
                    base.max(b)
                } as u8;
            }
        }
        start += stride;
    }
}

/// Draws every non-blank cell of `grid`: `glyphs[i]` in `colours[i]`, cells row-major.
///
/// `out` is a `width * height * 3` rgb24 buffer the grid was built for. `pat` is scratch space
/// reused between calls. Slices shorter than the grid draw only the cells they cover.
pub fn blit_cells(
    out: &mut [u8],
    width: usize,
    grid: &Grid,
    glyphs: &[GlyphId],
    colours: &[[u8; 3]],
    mode: Mode,
    pat: &mut Vec<u8>,
) {
    match mode {
        Mode::Max => blit_cells_max(out, width, grid, glyphs, colours, pat),
        Mode::Screen => blit_cells_screen(out, width, grid, glyphs, colours, pat),
    }
}

/// [`blit_cells`] in [`Mode::Max`], compiled for AVX2 / SSE4.1 besides the SSE2 baseline and
/// picked at run time (the same integer arithmetic, so the same bytes).
#[multiversion::multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn blit_cells_max(
    out: &mut [u8],
    width: usize,
    grid: &Grid,
    glyphs: &[GlyphId],
    colours: &[[u8; 3]],
    pat: &mut Vec<u8>,
) {
    blit_cells_impl::<false>(out, width, grid, glyphs, colours, pat);
}

/// [`blit_cells`] in [`Mode::Screen`], compiled like [`blit_cells_max`].
#[multiversion::multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn blit_cells_screen(
    out: &mut [u8],
    width: usize,
    grid: &Grid,
    glyphs: &[GlyphId],
    colours: &[[u8; 3]],
    pat: &mut Vec<u8>,
) {
    blit_cells_impl::<true>(out, width, grid, glyphs, colours, pat);
}

/// Calls `f(x, y, glyph, colour)` for every cell of `grid` that draws something (not blank,
/// not black), with the pixel position of the cell's top-left corner.
pub fn for_each_lit_cell(
    grid: &Grid,
    glyphs: &[GlyphId],
    colours: &[[u8; 3]],
    mut f: impl FnMut(usize, usize, &Glyph, [u8; 3]),
) {
    for (x, y, g, colour) in lit_cells(grid, glyphs, colours) {
        f(x, y, g, colour);
    }
}

/// Every cell of `grid` that draws something (not blank, not black): the pixel position of its
/// top-left corner, its glyph and its colour, row-major. An iterator rather than a callback so
/// that a caller compiled for AVX2 (`multiversion`) keeps the loop body in its own code.
#[inline(always)]
fn lit_cells<'a>(
    grid: &'a Grid,
    glyphs: &'a [GlyphId],
    colours: &'a [[u8; 3]],
) -> impl Iterator<Item = (usize, usize, &'a Glyph, [u8; 3])> + 'a {
    let table = grid.atlas.glyphs();
    let cols = grid.cols.max(1);
    glyphs
        .chunks_exact(cols)
        .zip(colours.chunks_exact(cols))
        .take(if grid.cols == 0 { 0 } else { grid.rows })
        .enumerate()
        .flat_map(move |(row, (ids, cs))| {
            let y = grid.oy + row * grid.ch;
            ids.iter()
                .zip(cs)
                .enumerate()
                .filter_map(move |(col, (&id, &colour))| {
                    if id == BLANK || colour == [0, 0, 0] {
                        return None;
                    }
                    table
                        .get(usize::from(id))
                        .map(|g| (grid.ox + col * grid.cw, y, g, colour))
                })
        })
}

#[inline(always)]
fn blit_cells_impl<const SCREEN: bool>(
    out: &mut [u8],
    width: usize,
    grid: &Grid,
    glyphs: &[GlyphId],
    colours: &[[u8; 3]],
    pat: &mut Vec<u8>,
) {
    // Through [`lit_cells`], not a closure given to [`for_each_lit_cell`]: a closure's body
    // is not compiled with the caller's target features (it stayed SSE2 and was not inlined:
    // blit 1.6 -> 5.5 ms).
    let stride = width * 3;
    for (x, y, g, colour) in lit_cells(grid, glyphs, colours) {
        let p = pattern(pat, colour, g.padded_row().div_ceil(3));
        blit_glyph::<SCREEN>(out, stride, x, y, g, p);
    }
}

/// Draws a row of text whose first cell's top-left corner is at pixel `(x, y)`, one cell per
/// id (`atlas.cw` apart; a wide glyph spans its cell and the blank placeholder after it, see
/// `Atlas::text_ids`), in `colour`, with [`Mode::Max`]. Glyphs not wholly inside the
/// `width x height` frame are skipped.
#[allow(clippy::too_many_arguments)]
pub fn blit_text(
    out: &mut [u8],
    width: usize,
    height: usize,
    x: i64,
    y: i64,
    atlas: &Atlas,
    glyphs: &[GlyphId],
    colour: [u8; 3],
    pat: &mut Vec<u8>,
) {
    let (cw, ch) = (atlas.cw as i64, atlas.ch as i64);
    if y < 0 || y + ch > height as i64 {
        return;
    }
    let stride = width * 3;
    for (i, &id) in glyphs.iter().enumerate() {
        let cx = x + i as i64 * cw;
        if id == BLANK || cx < 0 {
            continue;
        }
        let g = atlas.glyph(id);
        if cx + (g.x0 + g.w) as i64 > width as i64 {
            continue;
        }
        let p = pattern(pat, colour, g.padded_row().div_ceil(3));
        blit_glyph::<false>(out, stride, cx as usize, y as usize, g, p);
    }
}

/// Multiplies the pixels of the rectangle `[x0, x1) x [y0, y1)` (clipped to the frame) by
/// `k / 256`.
pub fn scale_rect(
    out: &mut [u8],
    width: usize,
    height: usize,
    (x0, y0, x1, y1): (i64, i64, i64, i64),
    k: u16,
) {
    let x0 = x0.clamp(0, width as i64) as usize;
    let x1 = x1.clamp(0, width as i64) as usize;
    let y0 = y0.clamp(0, height as i64) as usize;
    let y1 = y1.clamp(0, height as i64) as usize;
    if x1 <= x0 || y1 <= y0 {
        return;
    }
    let k = k.min(256);
    let stride = width * 3;
    for y in y0..y1 {
        for o in &mut out[y * stride + x0 * 3..y * stride + x1 * 3] {
            *o = ((u16::from(*o) * k) >> 8) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn div255_is_exact() {
        for x in 0..=(255u32 * 255) {
            assert_eq!(u32::from(div255(x as u16)), x / 255, "x = {x}");
        }
    }

    #[test]
    fn max_and_screen_blits() {
        let mut grid = Grid::new(16.0, 1.0, 40, 40);
        let id = grid.atlas.id('█');
        let n = grid.cells();
        let (w, h) = (40, 40);
        let mut out = vec![0u8; w * h * 3];
        let mut pat = Vec::new();
        blit_cells(
            &mut out,
            w,
            &grid,
            &vec![id; n],
            &vec![[200, 100, 0]; n],
            Mode::Max,
            &mut pat,
        );
        let lit = out
            .chunks_exact(3)
            .filter(|p| p[0] == 200 && p[1] == 100)
            .count();
        assert!(lit > 100);
        // Screen-blending a layer over itself brightens lit pixels, never darkens any.
        let before = out.clone();
        blit_cells(
            &mut out,
            w,
            &grid,
            &vec![id; n],
            &vec![[200, 100, 0]; n],
            Mode::Screen,
            &mut pat,
        );
        assert!(out.iter().zip(&before).all(|(a, b)| a >= b));
        let p = out
            .chunks_exact(3)
            .find(|p| p[0] > 200)
            .expect("brightened pixel");
        // 200 + 200 * 55 / 255 = 243; 100 + 100 * 155 / 255 = 160.
        assert_eq!(p, [243, 160, 0]);
        // Blank cells and black colours draw nothing.
        let mut empty = vec![0u8; w * h * 3];
        blit_cells(
            &mut empty,
            w,
            &grid,
            &vec![BLANK; n],
            &vec![[255; 3]; n],
            Mode::Max,
            &mut pat,
        );
        blit_cells(
            &mut empty,
            w,
            &grid,
            &vec![id; n],
            &vec![[0; 3]; n],
            Mode::Max,
            &mut pat,
        );
        assert!(empty.iter().all(|&v| v == 0));
    }

    #[test]
    fn text_is_clipped_to_the_frame() {
        let mut atlas = Atlas::new(20.0);
        let ids = atlas.ids("HELLO WORLD");
        let (w, h) = (50, 30);
        let mut out = vec![0u8; w * h * 3];
        let mut pat = Vec::new();
        blit_text(
            &mut out,
            w,
            h,
            -5,
            2,
            &atlas,
            &ids,
            [255, 255, 255],
            &mut pat,
        );
        blit_text(
            &mut out,
            w,
            h,
            0,
            100,
            &atlas,
            &ids,
            [255, 255, 255],
            &mut pat,
        );
        assert!(out.iter().any(|&v| v > 0));
        scale_rect(&mut out, w, h, (-10, -10, 100, 100), 0);
        assert!(out.iter().all(|&v| v == 0));
    }
}
