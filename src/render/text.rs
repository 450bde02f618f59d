//! Text layers: `ticker` (rows of scrolling text), `typewriter` (wrapped, centred text typed out
//! with a blinking `▌` cursor, newest characters brighter) and `center` (the same, all at once).
//!
//! Every row of text is drawn with one call over its glyph ids (the seed's whole-string fast
//! path); wrapping follows the seed's `layout_text_portrait` (25 characters per line in portrait
//! frames, 50 otherwise, capped by the grid's columns), and wide characters take two cells. An
//! optional backdrop darkens a box behind the text for readability.

use crate::render::blend::{Lut, blit_row};
use crate::render::canvas::scale_rect;
use crate::render::color::hsv2rgb;
use crate::render::font::GlyphId;
use crate::render::grid::Grid;
use crate::render::scenes::quote::{LANDSCAPE_CHARS, PORTRAIT_CHARS, layout_text};

/// Text modes.
pub const TEXT_MODES: &[&str] = &["ticker", "typewriter", "center"];

/// A text layer.
#[derive(Debug, Clone)]
pub struct TextLayer {
    /// The grid whose font and cells the text uses.
    pub grid: Grid,
    mode: &'static str,
    /// Laid-out lines: pixel x, pixel y, ids.
    lines: Vec<(i64, i64, Vec<GlyphId>)>,
    /// Ticker: ids of the repeated content and the row of each ticker line.
    ticker: Vec<GlyphId>,
    ticker_rows: Vec<usize>,
    cursor: GlyphId,
    total: usize,
    colour: [u8; 3],
    speed: f32,
    reveal: f32,
    backdrop: Option<(i64, i64, i64, i64)>,
    lut: Option<Lut>,
    scratch: Vec<GlyphId>,
    cols_buf: Vec<[u8; 3]>,
}

/// Settings of a text layer.
#[derive(Debug, Clone)]
pub struct TextStyle {
    /// `ticker`, `typewriter` or `center`.
    pub mode: String,
    /// Hue, saturation and brightness of the text.
    pub hsv: [f32; 3],
    /// Ticker speed (cells per second) / unused otherwise.
    pub speed: f32,
    /// Typewriter: seconds until the whole text shows.
    pub reveal: f32,
    /// Ticker rows.
    pub rows: usize,
    /// Vertical position of the block's centre, 0 (top) .. 1 (bottom).
    pub row: f32,
    /// Wrap width (0 = 25 portrait / 50 landscape).
    pub chars_per_line: usize,
    /// Darken a box behind the text.
    pub backdrop: bool,
    /// Opacity (below 1, the text is blended with `lighten`).
    pub opacity: f32,
}

impl TextLayer {
    /// Lays out `text` on `grid` for a `width x height` frame.
    pub fn new(
        mut grid: Grid,
        text: &str,
        st: &TextStyle,
        width: usize,
        height: usize,
    ) -> TextLayer {
        let mode = TEXT_MODES
            .iter()
            .copied()
            .find(|m| *m == st.mode)
            .unwrap_or("center");
        let (cw, ch) = (grid.cw as i64, grid.ch as i64);
        let mut lines = Vec::new();
        let mut ticker = Vec::new();
        let mut ticker_rows = Vec::new();
        let mut total = 0;
        let mut bbox: Option<(i64, i64, i64, i64)> = None;
        if grid.rows > 0 && grid.cols > 0 {
            if mode == "ticker" {
                let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
                ticker = grid.atlas.text_ids(&format!("{flat}   ·   "));
                let n = st.rows.clamp(1, grid.rows);
                let centre = (st.row.clamp(0.0, 1.0) * (grid.rows - 1) as f32).round() as i64;
                let spacing = if n == 1 {
                    0
                } else {
                    ((grid.rows as i64) / n as i64).max(1)
                };
                let first = (centre - spacing * (n as i64 - 1) / 2).clamp(0, grid.rows as i64 - 1);
                for i in 0..n {
                    let r = (first + spacing * i as i64).clamp(0, grid.rows as i64 - 1) as usize;
                    ticker_rows.push(r);
                    let y = (grid.oy + r * grid.ch) as i64;
                    let b = (0, y - ch / 4, width as i64, y + ch + ch / 4);
                    bbox = Some(bbox.map_or(b, |o| (0, o.1.min(b.1), width as i64, o.3.max(b.3))));
                }
            } else {
                let default_cpl = if height > width {
                    PORTRAIT_CHARS
                } else {
                    LANDSCAPE_CHARS
                };
                let cpl = if st.chars_per_line > 0 {
                    st.chars_per_line
                } else {
                    default_cpl
                };
                let cpl = cpl.min(grid.cols.max(1));
                let mut laid = layout_text(text, cpl);
                laid.truncate(grid.rows);
                let centre = st.row.clamp(0.0, 1.0) * grid.rows as f32;
                let top = ((centre - laid.len() as f32 / 2.0).round().max(0.0) as usize)
                    .min(grid.rows - laid.len());
                for (i, line) in laid.iter().enumerate() {
                    let ids = grid.atlas.text_ids(line);
                    let n = ids.len() as i64;
                    let x = (width as i64 - n * cw) / 2;
                    let y = (grid.oy + (top + i) * grid.ch) as i64;
                    total += ids.len();
                    if n > 0 {
                        let b = (x - cw, y - ch / 2, x + (n + 1) * cw, y + ch + ch / 2);
                        bbox = Some(bbox.map_or(b, |o| {
                            (o.0.min(b.0), o.1.min(b.1), o.2.max(b.2), o.3.max(b.3))
                        }));
                    }
                    lines.push((x, y, ids));
                }
            }
        }
        let cursor = grid.atlas.id('▌');
        TextLayer {
            mode,
            lines,
            ticker,
            ticker_rows,
            cursor,
            total,
            colour: hsv2rgb(st.hsv[0], st.hsv[1], st.hsv[2]),
            speed: st.speed,
            reveal: st.reveal,
            backdrop: if st.backdrop { bbox } else { None },
            lut: (st.opacity < 1.0).then(|| Lut::new("lighten", st.opacity, false)),
            scratch: Vec::new(),
            cols_buf: Vec::new(),
            grid,
        }
    }

    /// Draws the text at time `t` onto `out`.
    pub fn draw(&mut self, t: f32, out: &mut [u8], width: usize, height: usize) {
        if let Some(b) = self.backdrop {
            scale_rect(out, width, height, b, 90);
        }
        let g = &self.grid;
        let (cw, ch) = (g.cw, g.ch);
        if self.mode == "ticker" {
            let n = self.ticker.len();
            if n == 0 {
                return;
            }
            for (i, &r) in self.ticker_rows.iter().enumerate() {
                let dir = if i % 2 == 0 { 1.0 } else { -1.0 };
                let sp = self.speed * (1.0 + 0.35 * i as f32);
                let off_px = (f64::from(t) * f64::from(sp) * cw as f64 * dir
                    + (i * 977) as f64 * cw as f64)
                    .rem_euclid((n * cw) as f64);
                let start = (off_px / cw as f64) as usize;
                let shift = (off_px - (start * cw) as f64) as i64;
                self.scratch.clear();
                for k in 0..g.cols + 2 {
                    self.scratch.push(self.ticker[(start + k) % n]);
                }
                let shade = 1.0 - 0.15 * i as f32;
                let c = self.colour.map(|v| (f32::from(v) * shade) as u8);
                let y = (g.oy + r * ch) as i64;
                blit_row(
                    out,
                    width,
                    height,
                    g.ox as i64 - shift,
                    y,
                    &g.atlas,
                    &self.scratch,
                    &[c],
                    self.lut.as_ref(),
                );
            }
            return;
        }
        let typing = self.mode == "typewriter" && self.reveal > 0.0;
        let shown = if typing {
            ((t / self.reveal).clamp(0.0, 1.0) * self.total as f32) as usize
        } else {
            self.total
        };
        let mut budget = shown;
        let mut cursor_at: Option<(i64, i64)> = None;
        let mut seen = 0usize;
        for (x, y, ids) in &self.lines {
            let n = ids.len().min(budget);
            budget -= n;
            self.cols_buf.clear();
            for k in 0..n {
                // The newest six characters are brighter (towards white).
                let age = shown.saturating_sub(seen + k + 1);
                let c = if typing && age < 6 {
                    let w = (6 - age) as f32 / 6.0 * 0.7;
                    self.colour
                        .map(|v| (f32::from(v) + (255.0 - f32::from(v)) * w) as u8)
                } else {
                    self.colour
                };
                self.cols_buf.push(c);
            }
            seen += ids.len();
            blit_row(
                out,
                width,
                height,
                *x,
                *y,
                &g.atlas,
                &ids[..n],
                &self.cols_buf,
                self.lut.as_ref(),
            );
            if n > 0 || cursor_at.is_none() {
                cursor_at = Some((*x + n as i64 * cw as i64, *y));
            }
            if budget == 0 && n < ids.len() {
                break;
            }
        }
        if self.mode == "typewriter"
            && (t * 3.0).fract() < 0.5
            && let Some((x, y)) = cursor_at
        {
            {
                blit_row(
                    out,
                    width,
                    height,
                    x,
                    y,
                    &g.atlas,
                    &[self.cursor],
                    &[self.colour],
                    self.lut.as_ref(),
                );
            }
        }
    }
}
