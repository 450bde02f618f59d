//! The character-level crossfade (`transition: {in: crossfade, seconds: S}`): the Python
//! reference pipeline's "v1 char-level crossfade" (a colour lerp and a random character swap),
//! on finished frames.
//!
//! Over a clip's first `S` seconds, each frame mixes two finished frames (each after its own
//! shader chain): `a`, the clip before it continued (its scene, seed and features, at the frames
//! after its last one), and `b`, this clip's own. The mix works per character cell of this
//! clip's grid ([`CellTiling`]: its cell size and offsets, laid over the whole frame, so that the
//! part-cells at the edges count too). At eased progress `e` ([`ease`]):
//!
//! - a cell shows `b`'s glyph when its threshold ([`threshold`], hashed from the cell and the
//!   clip's seed, uniform in [0, 1)) is below `e`, else `a`'s glyph: a random character swap, the
//!   share of `b` cells growing with `e` and a cell never going back;
//! - the cell's colour moves from `a`'s to `b`'s (`c = ca + (cb - ca) * e`), where a frame's
//!   colour of a cell is that of its brightest pixel. The glyph shown is recoloured to `c`:
//!   each of its pixels `px` becomes `px + (lum(px) - floor) / (lum(peak) - floor) * (c -
//!   c_own)` (lum: r + g + b; `floor` the lum of the cell's darkest pixel, its background;
//!   `c_own` the colour of the cell in the frame the glyph comes from). A glyph drawn as
//!   `alpha * colour` on black thus becomes `alpha * c`: its shape is kept, only its colour
//!   moves; the background stays, and a flat cell (no ink) is not recoloured, so a dim
//!   backdrop never turns into a block of the other scene's colour.
//!
//! So a cell always shows one glyph, never two frames' pixels blended; at `e = 0` the output is
//! `a` byte for byte and at `e = 1` it is `b` byte for byte. Where the grids of the two scenes
//! differ, `a`'s frame is read inside this clip's cells (its pixels within each of them).
//!
//! Integer arithmetic only past [`ease`]: the same inputs give the same bytes in every worker.
//! A leaf of `render` beside [`crate::render::post`]; the renderer ([`crate::render::renderer`])
//! renders both frames and mixes them with a [`Mixer`] (its scratch buffers live with the clip).

use crate::render::fastmath::hash01;
use crate::render::grid::Grid;

/// The cells the mix works on: a grid's cell size and the offset of its cell (0, 0), laid over
/// the whole frame (cells left of and above that one, and part-cells at the edges, included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellTiling {
    /// Cell width in pixels (at least 1).
    pub cw: usize,
    /// Cell height in pixels (at least 1).
    pub ch: usize,
    /// Left edge of column 0.
    pub ox: usize,
    /// Top edge of row 0.
    pub oy: usize,
}

impl CellTiling {
    /// The cells of `grid`.
    pub fn of(grid: &Grid) -> CellTiling {
        CellTiling {
            cw: grid.cw.max(1),
            ch: grid.ch.max(1),
            ox: grid.ox,
            oy: grid.oy,
        }
    }

    /// The cell edges along one axis: `(start, end)` of each cell, the first a part-cell when
    /// the grid's offset `o` is not a whole number of cells, the last cut at the frame's edge `n`;
    /// with the index of the first cell (negative: left of or above the grid's cell 0).
    fn edges(o: usize, size: usize, n: usize) -> (i32, Vec<(usize, usize)>) {
        let size = size.max(1);
        let rem = o % size;
        let first = -((o / size) as i32) - i32::from(rem > 0);
        let first_end = if rem > 0 { rem } else { size };
        let mut v = vec![(0usize, first_end.min(n))];
        let mut x = first_end;
        while x < n {
            v.push((x, (x + size).min(n)));
            x += size;
        }
        (first, v)
    }

    /// The cells as `(col, row, [x0, x1, y0, y1])` (pixels `x0..x1`, `y0..y1`), row by row,
    /// covering a `width x height` frame exactly once; `col`/`row` count from the grid's cell
    /// (0, 0) and are negative left of and above it.
    #[cfg(test)]
    fn cells(self, width: usize, height: usize) -> Vec<(i32, i32, [usize; 4])> {
        let (c0, xs) = CellTiling::edges(self.ox, self.cw, width);
        let (r0, ys) = CellTiling::edges(self.oy, self.ch, height);
        let mut out = Vec::new();
        for (j, &(y0, y1)) in ys.iter().enumerate() {
            for (i, &(x0, x1)) in xs.iter().enumerate() {
                out.push((c0 + i as i32, r0 + j as i32, [x0, x1, y0, y1]));
            }
        }
        out
    }
}

/// Eased progress: smoothstep, `3p^2 - 2p^3` of `p` clamped to [0, 1] (0 at 0, 1 at 1).
pub fn ease(p: f32) -> f32 {
    let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
    p * p * (3.0 - 2.0 * p)
}

/// The threshold of the cell (`col`, `row`) under `seed`, uniform in [0, 1): the cell shows the
/// new clip's glyph once the eased progress is above it.
pub fn threshold(col: i32, row: i32, seed: u32) -> f32 {
    hash01(col, row, seed ^ 0x0C0F_FADE)
}

/// What one frame has in one cell: the colour of its brightest pixel (by `r + g + b`; of
/// equally bright ones, the largest as `0xRRGGBB`), that brightness, and the brightness of its
/// darkest pixel (the cell's floor, its background).
#[derive(Clone, Copy)]
struct Peak {
    /// `lum << 24 | 0xRRGGBB` of the brightest pixel.
    key: u64,
    /// The darkest pixel's brightness.
    floor: u32,
}

impl Peak {
    const START: Peak = Peak {
        key: 0,
        floor: u32::MAX,
    };

    /// Takes the pixels of `px` (rgb24) into the peak.
    #[inline]
    fn add(&mut self, px: &[u8]) {
        let (mut key, mut floor) = (self.key, self.floor);
        for p in px.chunks_exact(3) {
            let (r, g, b) = (u32::from(p[0]), u32::from(p[1]), u32::from(p[2]));
            let l = r + g + b;
            key = key.max(u64::from(l) << 24 | u64::from(r << 16 | g << 8 | b));
            floor = floor.min(l);
        }
        self.key = key;
        self.floor = floor;
    }

    fn lum(self) -> i32 {
        (self.key >> 24) as i32
    }

    fn colour(self) -> [i32; 3] {
        let c = self.key as u32;
        [
            (c >> 16 & 0xFF) as i32,
            (c >> 8 & 0xFF) as i32,
            (c & 0xFF) as i32,
        ]
    }
}

/// Fraction bits of the per-cell recolour factor.
const FRAC: u32 = 12;

/// How one pixel column of a band of cells is drawn: from which frame, and the recolour of its
/// cell (`k` per channel in 2^-FRAC per unit of brightness above `floor`).
#[derive(Debug, Clone, Copy, Default)]
struct Column {
    from_b: bool,
    k: [i32; 3],
    floor: i32,
}

/// The crossfade's mix with its scratch buffers (per cell of a band, per pixel column), kept
/// from frame to frame.
#[derive(Debug, Clone, Default)]
pub struct Mixer {
    columns: Vec<Column>,
}

impl Mixer {
    /// A mixer with empty buffers (they grow to the frame's size at the first mix).
    pub fn new() -> Mixer {
        Mixer::default()
    }

    /// Mixes `a` (the clip before, continued) into `b` (this clip's frame, rgb24, `width`
    /// pixels per row) in place, at progress `progress` (0: `a`, 1: `b`) over the cells of
    /// `tiling`, with the cell thresholds of `seed` (see the module doc).
    ///
    /// # Panics
    /// If `a` and `b` differ in length or are not whole rows of `width` pixels.
    pub fn mix(
        &mut self,
        a: &[u8],
        b: &mut [u8],
        width: usize,
        tiling: CellTiling,
        seed: u32,
        progress: f32,
    ) {
        assert_eq!(a.len(), b.len(), "crossfade: frames of different sizes");
        let stride = width * 3;
        if stride == 0 || b.is_empty() {
            return;
        }
        assert_eq!(b.len() % stride, 0, "crossfade: not whole rows");
        let height = b.len() / stride;
        let e = ease(progress);
        if e <= 0.0 {
            b.copy_from_slice(a);
            return;
        }
        if e >= 1.0 {
            return;
        }
        // Colour weight of b, 0..=256: exactly a's colour at e = 0 and b's at e = 1.
        let w = (e * 256.0).round() as i32;
        let (c0, xs) = CellTiling::edges(tiling.ox, tiling.cw, width);
        let (r0, ys) = CellTiling::edges(tiling.oy, tiling.ch, height);
        self.columns.resize(width, Column::default());
        let mut peaks = vec![(Peak::START, Peak::START); xs.len()];
        for (j, &(y0, y1)) in ys.iter().enumerate() {
            // The band's peaks, cell by cell, in both frames.
            peaks.fill((Peak::START, Peak::START));
            for y in y0..y1 {
                let (ra, rb) = (&a[y * stride..][..stride], &b[y * stride..][..stride]);
                for (p, &(x0, x1)) in peaks.iter_mut().zip(&xs) {
                    p.0.add(&ra[x0 * 3..x1 * 3]);
                    p.1.add(&rb[x0 * 3..x1 * 3]);
                }
            }
            // Each cell's choice and recolour, spread over its pixel columns.
            for (i, (&(pa, pb), &(x0, x1))) in peaks.iter().zip(&xs).enumerate() {
                let (ca, cb) = (pa.colour(), pb.colour());
                let c: [i32; 3] =
                    std::array::from_fn(|k| ca[k] + ((cb[k] - ca[k]) * w + 128).div_euclid(256));
                let from_b = threshold(c0 + i as i32, r0 + j as i32, seed) < e;
                let (own, colour) = if from_b { (pb, cb) } else { (pa, ca) };
                let floor = own.floor.min(own.key as u32 >> 24) as i32;
                let ink = own.lum() - floor;
                let k: [i32; 3] = std::array::from_fn(|i| {
                    if ink <= 0 {
                        0
                    } else {
                        ((c[i] - colour[i]) << FRAC) / ink
                    }
                });
                self.columns[x0..x1].fill(Column { from_b, k, floor });
            }
            // The band's rows, pixel by pixel.
            for y in y0..y1 {
                let (ra, rb) = (&a[y * stride..][..stride], &mut b[y * stride..][..stride]);
                for ((q, p), col) in ra
                    .chunks_exact(3)
                    .zip(rb.chunks_exact_mut(3))
                    .zip(&self.columns)
                {
                    let src: [u8; 3] = if col.from_b {
                        [p[0], p[1], p[2]]
                    } else {
                        [q[0], q[1], q[2]]
                    };
                    let l = i32::from(src[0]) + i32::from(src[1]) + i32::from(src[2]) - col.floor;
                    for i in 0..3 {
                        let v = i32::from(src[i]) + ((l * col.k[i]) >> FRAC);
                        p[i] = v.clamp(0, 255) as u8;
                    }
                }
            }
        }
    }
}

/// [`Mixer::mix`] with a mixer of its own (for a single frame).
pub fn mix(a: &[u8], b: &mut [u8], width: usize, tiling: CellTiling, seed: u32, progress: f32) {
    Mixer::new().mix(a, b, width, tiling, seed, progress);
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: usize = 40;
    const H: usize = 30;
    const T: CellTiling = CellTiling {
        cw: 6,
        ch: 7,
        ox: 2,
        oy: 1,
    };

    /// A frame of glyph-like blocks: each cell a bright square of one colour on black, the
    /// colour and the square's size varying by cell (`salt` changes them).
    fn frame(salt: u32) -> Vec<u8> {
        let mut f = vec![0u8; W * H * 3];
        for (col, row, [x0, x1, y0, y1]) in T.cells(W, H) {
            let h = crate::render::fastmath::hash2(col, row, salt);
            let colour = [(h & 0xFF) as u8, (h >> 8) as u8, (h >> 16) as u8];
            let inset = (h >> 24) as usize % 3;
            for y in y0 + inset.min(y1 - y0)..y1 {
                for x in x0 + inset.min(x1 - x0)..x1 {
                    let alpha = ((x + y) % 4 + 1) as u32;
                    for k in 0..3 {
                        f[(y * W + x) * 3 + k] = (u32::from(colour[k]) * alpha / 4) as u8;
                    }
                }
            }
        }
        f
    }

    fn mixed(p: f32, seed: u32) -> Vec<u8> {
        let a = frame(1);
        let mut b = frame(2);
        mix(&a, &mut b, W, T, seed, p);
        b
    }

    #[test]
    fn the_cells_cover_the_frame_once() {
        let mut seen = vec![0u8; W * H];
        let mut cells = 0;
        for (_, _, [x0, x1, y0, y1]) in T.cells(W, H) {
            assert!(x0 < x1 && y0 < y1);
            cells += 1;
            for y in y0..y1 {
                for x in x0..x1 {
                    seen[y * W + x] += 1;
                }
            }
        }
        assert!(seen.iter().all(|&n| n == 1));
        // 2 px part-column, 6 whole columns, 2 px part-column; 1 px part-row, 4 rows, 1 px.
        assert_eq!(cells, 8 * 6);
        let first = T.cells(W, H)[0];
        assert_eq!((first.0, first.1, first.2), (-1, -1, [0, 2, 0, 1]));
    }

    #[test]
    fn progress_0_is_the_clip_before_exactly_and_1_this_clip_exactly() {
        assert_eq!(mixed(0.0, 9), frame(1));
        assert_eq!(mixed(1.0, 9), frame(2));
        // Out of range clamps.
        assert_eq!(mixed(-1.0, 9), frame(1));
        assert_eq!(mixed(7.0, 9), frame(2));
    }

    /// Which cells show b's glyph: judged by the shape (lit pixels) of the cell.
    fn b_cells(out: &[u8]) -> Vec<bool> {
        let (a, b) = (frame(1), frame(2));
        let lit = |f: &[u8], x: usize, y: usize| f[(y * W + x) * 3..][..3] != [0, 0, 0];
        T.cells(W, H)
            .into_iter()
            .map(|(_, _, [x0, x1, y0, y1])| {
                let mut like_b = true;
                let mut like_a = true;
                for y in y0..y1 {
                    for x in x0..x1 {
                        like_b &= lit(out, x, y) == lit(&b, x, y);
                        like_a &= lit(out, x, y) == lit(&a, x, y);
                    }
                }
                like_b && !like_a
            })
            .collect()
    }

    #[test]
    fn the_share_of_new_cells_grows_with_progress_and_no_cell_goes_back() {
        let mut last = vec![false; T.cells(W, H).len()];
        let mut shares = Vec::new();
        for i in 0..=10 {
            let now = b_cells(&mixed(i as f32 / 10.0, 5));
            for (was, is) in last.iter().zip(&now) {
                assert!(!was || *is, "a cell went back to the old glyph at {i}");
            }
            shares.push(now.iter().filter(|&&x| x).count());
            last = now;
        }
        assert!(shares.windows(2).all(|w| w[0] <= w[1]), "{shares:?}");
        assert!(shares[5] > 0 && shares[5] < last.len(), "{shares:?}");
    }

    #[test]
    fn seeded_the_same_seed_gives_the_same_bytes_and_another_other_cells() {
        assert_eq!(mixed(0.5, 3), mixed(0.5, 3));
        assert_ne!(b_cells(&mixed(0.5, 3)), b_cells(&mixed(0.5, 4)));
    }

    #[test]
    fn a_cell_shows_one_glyph_recoloured_never_a_blend_of_two() {
        let (a, b) = (frame(1), frame(2));
        let out = mixed(0.5, 11);
        for (_, _, [x0, x1, y0, y1]) in T.cells(W, H) {
            let lit = |f: &[u8], x: usize, y: usize| f[(y * W + x) * 3..][..3] != [0, 0, 0];
            let mut from_a = true;
            let mut from_b = true;
            for y in y0..y1 {
                for x in x0..x1 {
                    // Dark pixels of the shown glyph stay dark: the shape is one frame's.
                    if !lit(&a, x, y) {
                        from_a &= !lit(&out, x, y);
                    }
                    if !lit(&b, x, y) {
                        from_b &= !lit(&out, x, y);
                    }
                }
            }
            assert!(from_a || from_b, "cell at {x0},{y0} mixes two shapes");
        }
    }

    #[test]
    fn the_colour_moves_from_the_old_to_the_new() {
        // One cell, a glyph on black (a 2x2 dot in a 4x4 cell): red, then a blue one.
        let t = CellTiling {
            cw: 4,
            ch: 4,
            ox: 0,
            oy: 0,
        };
        let dot = |c: [u8; 3]| {
            let mut f = vec![0u8; 4 * 4 * 3];
            for i in [5, 6, 9, 10] {
                f[i * 3..i * 3 + 3].copy_from_slice(&c);
            }
            f
        };
        let (a, b) = (dot([200, 0, 0]), dot([0, 0, 200]));
        let at = |p: f32| {
            let mut out = b.clone();
            mix(&a, &mut out, 4, t, 1, p);
            assert_eq!(out[..3], [0, 0, 0], "the background stays");
            [out[15], out[16], out[17]]
        };
        assert_eq!(at(0.0), [200, 0, 0]);
        assert_eq!(at(1.0), [0, 0, 200]);
        let mid = at(0.5);
        assert!(
            (90..=110).contains(&mid[0]) && (90..=110).contains(&mid[2]),
            "{mid:?}"
        );
        let mut last = 255;
        for i in 0..=20 {
            let c = at(i as f32 / 20.0);
            assert!(c[0] <= last, "red falls monotonically");
            last = c[0];
        }
    }

    #[test]
    fn a_flat_cell_keeps_its_own_colour() {
        // b's cell is a dim even backdrop: shown, it stays as it is, never a block of a's colour.
        let t = CellTiling {
            cw: 4,
            ch: 4,
            ox: 0,
            oy: 0,
        };
        let a: Vec<u8> = [250u8, 250, 0].repeat(16);
        let b: Vec<u8> = [20u8, 4, 4].repeat(16);
        let mut out = b.clone();
        mix(&a, &mut out, 4, t, 1, 0.9999);
        assert!(out == b || out == a, "{out:?}");
    }

    #[test]
    fn ease_is_0_at_0_and_1_at_1_and_monotone() {
        assert_eq!(ease(0.0), 0.0);
        assert_eq!(ease(1.0), 1.0);
        assert_eq!(ease(f32::NAN), 0.0);
        let v: Vec<f32> = (0..=100).map(|i| ease(i as f32 / 100.0)).collect();
        assert!(v.windows(2).all(|w| w[0] <= w[1]));
    }
}
