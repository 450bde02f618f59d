//! `quote`: centred, wrapped text on the `lg` grid over a dim animated background field.
//!
//! Layout happens once, at construction: the text is split at explicit newlines, each paragraph is
//! wrapped with the seed's `layout_text_portrait` rule (words never split) at 25 characters per line
//! in portrait frames and 50 otherwise (or `chars_per_line`), capped by the grid's column count.
//! Lines are centred horizontally in pixels and the block vertically in rows; lines that do not fit
//! the grid's rows are dropped from the end. Each frame draws the background (a plasma field on the
//! `md` grid, dimmed), darkens a box behind the text for readability and draws the text rows. With
//! `reveal > 0` the text types itself out over that many seconds. See
//! [`crate::render::params::QUOTE_PARAMS`].

use crate::render::canvas::{Mode, blit_cells, blit_text, scale_rect};
use crate::render::color::hsv2rgb;
use crate::render::font::Fonts;
use crate::render::font::GlyphId;
use crate::render::grid::{Grid, grid_px};
use crate::render::palette::palette;
use crate::render::params::{get_bool, get_num, get_text};
use crate::render::scenes::{FieldLayer, FieldStyle};
use crate::render::{FrameSpec, Params, StageTimings};
use std::sync::Arc;
use std::time::Instant;

/// Wrap width for portrait frames (height > width).
pub const PORTRAIT_CHARS: usize = 25;
/// Wrap width for landscape and square frames.
pub const LANDSCAPE_CHARS: usize = 50;

/// The seed's `layout_text_portrait`: greedy word wrap on whitespace.
///
/// A word is appended to the current line while `len(line + " ") + len(word) + 1 <= max` (so lines
/// hold at most `max - 1` characters); otherwise the line is closed and the word starts a new one.
/// Words are never split: a word longer than the width gets a line of its own. Unlike the seed,
/// no empty line is emitted when the very first word is too long. Lengths count `char`s.
pub fn layout_text_portrait(text: &str, max_chars_per_line: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut current_len = 0usize; // chars in `current`, including its trailing space
    for word in text.split_whitespace() {
        let wl = word.chars().count();
        if current_len + wl + 1 > max_chars_per_line {
            let line = current.trim();
            if !line.is_empty() {
                lines.push(line.to_string());
            }
            current.clear();
            current_len = 0;
        }
        current.push_str(word);
        current.push(' ');
        current_len += wl + 1;
    }
    let line = current.trim();
    if !line.is_empty() {
        lines.push(line.to_string());
    }
    lines
}

/// Wraps `text` paragraph by paragraph (explicit `\n` always breaks; an empty paragraph gives an
/// empty line) with [`layout_text_portrait`].
pub fn layout_text(text: &str, max_chars_per_line: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let wrapped = layout_text_portrait(para, max_chars_per_line);
        if wrapped.is_empty() {
            lines.push(String::new());
        } else {
            lines.extend(wrapped);
        }
    }
    // Trim blank lines at both ends (e.g. a trailing newline).
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let first = lines
        .iter()
        .position(|l| !l.is_empty())
        .unwrap_or(lines.len());
    lines.drain(..first);
    lines
}

/// The quote scene.
#[derive(Debug, Clone)]
pub struct Quote {
    background: Option<FieldLayer>,
    text_grid: Grid,
    /// Glyphs of each laid-out line, with the pixel position of its first cell.
    lines: Vec<(i64, i64, Vec<GlyphId>)>,
    text_box: Option<(i64, i64, i64, i64)>,
    total_chars: usize,
    colour: [u8; 3],
    reveal: f64,
    pat: Vec<u8>,
}

impl Quote {
    /// Lays out `text` and builds the grids from validated `params`.
    pub fn new(frame: &FrameSpec, params: &Params, text: &str, fonts: Arc<Fonts>) -> Quote {
        let (w, h) = (frame.width as usize, frame.height as usize);
        let hue = get_num(params, "hue", 0.1) as f32;
        let sat = get_num(params, "saturation", 0.35) as f32;
        let reveal = get_num(params, "reveal", 0.0);
        let background = get_bool(params, "background", true).then(|| {
            let pal = palette(get_text(params, "palette", "dense")).map_or(" .:-=+#@", |p| p.chars);
            let grid = Grid::with_fonts(
                grid_px("md").unwrap_or(16.0),
                frame.grid_scale,
                w,
                h,
                fonts.clone(),
            );
            FieldLayer::new(
                grid,
                pal,
                FieldStyle {
                    fx: 0.05,
                    fy: 0.08,
                    t_scale: 1.0,
                    t_offset: 3.0,
                    speed: 0.6,
                    hue_base: hue + 0.5,
                    hue_rate: 0.02,
                    hue_v: 0.2,
                    sat: 0.65,
                    val_gain: 0.75,
                    val_floor: 0.25,
                    threshold: 0.0,
                    colour_gain: 1.0,
                },
            )
        });
        let mut text_grid =
            Grid::with_fonts(grid_px("lg").unwrap_or(20.0), frame.grid_scale, w, h, fonts);
        let default_cpl = if h > w {
            PORTRAIT_CHARS
        } else {
            LANDSCAPE_CHARS
        };
        let cpl = get_num(params, "chars_per_line", default_cpl as f64).max(1.0) as usize;
        let cpl = cpl.min(text_grid.cols.max(1));
        let mut laid = layout_text(text, cpl);
        laid.truncate(text_grid.rows);
        let (cw, ch) = (text_grid.cw as i64, text_grid.ch as i64);
        let top_row = (text_grid.rows - laid.len()) / 2;
        let mut lines = Vec::with_capacity(laid.len());
        let mut bbox: Option<(i64, i64, i64, i64)> = None;
        let mut total_chars = 0;
        for (i, line) in laid.iter().enumerate() {
            let ids = text_grid.atlas.text_ids(line);
            let n = ids.len() as i64;
            let x = (w as i64 - n * cw) / 2;
            let y = (text_grid.oy + (top_row + i) * text_grid.ch) as i64;
            total_chars += ids.len();
            if n > 0 {
                let b = (x - cw, y - ch / 2, x + (n + 1) * cw, y + ch + ch / 2);
                bbox = Some(match bbox {
                    None => b,
                    Some(o) => (o.0.min(b.0), o.1.min(b.1), o.2.max(b.2), o.3.max(b.3)),
                });
            }
            lines.push((x, y, ids));
        }
        Quote {
            background,
            text_grid,
            lines,
            text_box: bbox,
            total_chars,
            colour: hsv2rgb(hue, sat, 1.0),
            reveal,
            pat: Vec::new(),
        }
    }

    /// Number of characters laid out (after wrapping and dropping lines that do not fit).
    pub fn laid_out_chars(&self) -> usize {
        self.total_chars
    }

    /// Renders scene time `t` into `out` (overwritten completely), adding stage times to `tm`.
    pub fn render(&mut self, t: f64, out: &mut [u8], width: usize, tm: &mut StageTimings) {
        let height = out.len() / (width * 3).max(1);
        let t0 = Instant::now();
        if let Some(bg) = &mut self.background {
            bg.update(t);
        }
        let t1 = Instant::now();
        out.fill(0);
        if let Some(bg) = &self.background {
            blit_cells(
                out,
                width,
                &bg.grid,
                &bg.glyphs,
                &bg.colours,
                Mode::Max,
                &mut self.pat,
            );
            if let Some(b) = self.text_box {
                scale_rect(out, width, height, b, 80);
            }
        }
        let mut budget = if self.reveal > 0.0 {
            ((t / self.reveal).clamp(0.0, 1.0) * self.total_chars as f64) as usize
        } else {
            self.total_chars
        };
        for (x, y, ids) in &self.lines {
            let n = ids.len().min(budget);
            budget -= n;
            blit_text(
                out,
                width,
                height,
                *x,
                *y,
                &self.text_grid.atlas,
                &ids[..n],
                self.colour,
                &mut self.pat,
            );
        }
        let t2 = Instant::now();
        tm.fields_ns += (t1 - t0).as_nanos() as u64;
        tm.blit_ns += (t2 - t1).as_nanos() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portrait_wrap_follows_the_seed_rule() {
        let text = "The quick brown fox jumps over the lazy dog while the \
                    extraordinarily patient observer takes careful notes";
        let lines = layout_text_portrait(text, 25);
        assert!(lines.len() > 3);
        for l in &lines {
            assert!(l.chars().count() <= 25, "{l:?}");
            assert!(!l.starts_with(' ') && !l.ends_with(' '));
        }
        // Words are never split: joining the lines gives back the words.
        let words: Vec<&str> = text.split_whitespace().collect();
        let rejoined = lines.join(" ");
        assert_eq!(rejoined.split_whitespace().collect::<Vec<_>>(), words);
        // Greedy: the next line's first word would not have fit.
        for pair in lines.windows(2) {
            let next = pair[1].split(' ').next().unwrap();
            assert!(pair[0].chars().count() + 1 + next.chars().count() + 1 > 25);
        }
        // Python: "a b" with max 4 -> ["a", "b"] ("a " + "b" + 1 = 4 is not > 4 ... gives "a b").
        assert_eq!(layout_text_portrait("a b", 4), vec!["a b"]);
        assert_eq!(layout_text_portrait("a b", 3), vec!["a", "b"]);
        // A word longer than the width stands alone and is not split; no empty first line.
        assert_eq!(
            layout_text_portrait("incomprehensibilities are long", 10),
            vec!["incomprehensibilities", "are long"]
        );
        assert!(layout_text_portrait("   ", 10).is_empty());
    }

    #[test]
    fn explicit_newlines_break_lines() {
        assert_eq!(
            layout_text("one two\nthree\n\nfour\n", 50),
            vec!["one two", "three", "", "four"]
        );
    }
}
