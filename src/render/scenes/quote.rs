//! `quote`: centred, wrapped text on the `lg` grid over a dim animated background field.
//!
//! Layout happens at construction (and again when a bound `chars_per_line` changes): the text is split at explicit newlines, each paragraph is
//! wrapped with the Python reference pipeline's `layout_text_portrait` rule (words never split) at
//! 25 characters per line in portrait frames and 50 otherwise (or `chars_per_line`), capped by the
//! grid's column count. Lines are centred horizontally in pixels and the block vertically in rows;
//! lines that do not fit the grid's rows are dropped from the end. Each frame draws the background
//! (a plasma field on the `md` grid, dimmed), darkens a box behind the text for readability and
//! draws the text rows. With `reveal > 0` the text types itself out over that many seconds. See
//! [`param::TABLE`].

use crate::render::canvas::{Mode, blit_cells, blit_text, scale_rect};
use crate::render::color::hsv2rgb;
use crate::render::font::Fonts;
use crate::render::font::GlyphId;
use crate::render::frame::{FrameSpec, StageTimings};
use crate::render::grid::{Grid, GridKey};
use crate::render::palette::PaletteName;
use crate::render::params::{ParamSpec, Params, Setter};
use crate::render::scenes::plasma_layer::{FieldStyle, PlasmaLayer};
use crate::render::text::{LANDSCAPE_CHARS, PORTRAIT_CHARS, layout_text};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;

/// The parameters of the `quote` scene.
pub mod param {
    use crate::render::palette::PaletteName;
    use crate::render::params::{Dflt, Kind, ParamSpec, int, num, p};

    /// `hue`.
    pub const HUE: ParamSpec = p(
        "hue",
        num(0.0, 1.0),
        Dflt::Num(0.1),
        "text hue; the background uses the complementary hue",
    );
    /// `saturation`.
    pub const SATURATION: ParamSpec = p(
        "saturation",
        num(0.0, 1.0),
        Dflt::Num(0.35),
        "text saturation",
    );
    /// `background`.
    pub const BACKGROUND: ParamSpec = p(
        "background",
        Kind::Bool,
        Dflt::Bool(true),
        "draw the dim animated background field",
    );
    /// `palette`.
    pub const PALETTE: ParamSpec = p(
        "palette",
        Kind::Named("a palette name", PaletteName::NAMES),
        Dflt::Word("dense"),
        "characters of the background field",
    );
    /// `chars_per_line`.
    pub const CHARS_PER_LINE: ParamSpec = p(
        "chars_per_line",
        int(5.0, 200.0),
        Dflt::Words("25 in portrait, 50 otherwise"),
        "wrap width in characters (also capped by the grid's columns)",
    );
    /// `reveal`.
    pub const REVEAL: ParamSpec = p(
        "reveal",
        num(0.0, 3600.0),
        Dflt::Num(0.0),
        "typewriter: seconds until the whole text shows (0 = all at once)",
    );

    /// Every parameter of the `quote` scene.
    pub const TABLE: &[ParamSpec] = &[HUE, SATURATION, BACKGROUND, PALETTE, CHARS_PER_LINE, REVEAL];
}

/// The `quote` scene as the plan gives it, with every default filled in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QuoteSpec {
    /// Text hue.
    pub hue: f64,
    /// Text saturation.
    pub saturation: f64,
    /// Draw the background field.
    pub background: bool,
    /// Characters of the background.
    pub palette: PaletteName,
    /// Wrap width (`None`: 25 in portrait, 50 otherwise).
    pub chars_per_line: Option<f64>,
    /// Seconds until the whole text shows (0: at once).
    pub reveal: f64,
}

impl QuoteSpec {
    /// The setters of its numeric parameters (bound values; see [`Setter`]). `chars_per_line`
    /// changes the layout.
    pub const SETTERS: &[(ParamSpec, Setter<QuoteSpec>)] = {
        use param::*;
        &[
            (HUE, |s, v| s.hue = v),
            (SATURATION, |s, v| s.saturation = v),
            (CHARS_PER_LINE, |s, v| s.chars_per_line = Some(v)),
            (REVEAL, |s, v| s.reveal = v),
        ]
    };

    /// Reads validated params (see [`param::TABLE`]).
    pub fn parse(p: &Params) -> QuoteSpec {
        use param::*;
        QuoteSpec {
            hue: HUE.num(p),
            saturation: SATURATION.num(p),
            background: BACKGROUND.bool(p),
            palette: PALETTE.choice(p),
            chars_per_line: CHARS_PER_LINE.opt_num(p),
            reveal: REVEAL.num(p),
        }
    }
}

/// The quote scene.
#[derive(Debug, Clone)]
pub struct Quote {
    spec: QuoteSpec,
    text: String,
    /// Frame size.
    width: usize,
    height: usize,
    background: Option<PlasmaLayer>,
    text_grid: Grid,
    /// Glyphs of each laid-out line, with the pixel position of its first cell.
    lines: Vec<(i64, i64, Vec<GlyphId>)>,
    text_box: Option<(i64, i64, i64, i64)>,
    total_chars: usize,
    colour: [u8; 3],
    reveal: f64,
    pat: Vec<u8>,
}

/// The style of the background field of `spec`.
fn background_style(spec: &QuoteSpec) -> FieldStyle {
    FieldStyle {
        fx: 0.05,
        fy: 0.08,
        t_scale: 1.0,
        t_offset: 3.0,
        speed: 0.6,
        hue_base: spec.hue as f32 + 0.5,
        hue_rate: 0.02,
        hue_v: 0.2,
        sat: 0.65,
        val_gain: 0.75,
        val_floor: 0.25,
        threshold: 0.0,
        colour_gain: 1.0,
    }
}

impl Quote {
    /// The grid of its text (the cells a crossfade into it works on).
    pub fn grid(&self) -> &Grid {
        &self.text_grid
    }

    /// Lays out `text` and builds the grids of `spec`.
    pub fn new(frame: &FrameSpec, spec: &QuoteSpec, text: &str, fonts: Arc<Fonts>) -> Quote {
        let (w, h) = (frame.width as usize, frame.height as usize);
        let background = spec.background.then(|| {
            let pal = spec.palette.chars();
            let grid = Grid::with_fonts(GridKey::Md.px(), frame.grid_scale, w, h, fonts.clone());
            PlasmaLayer::new(grid, pal, background_style(spec))
        });
        let text_grid = Grid::with_fonts(GridKey::Lg.px(), frame.grid_scale, w, h, fonts);
        let mut q = Quote {
            spec: *spec,
            text: text.to_string(),
            width: w,
            height: h,
            background,
            text_grid,
            lines: Vec::new(),
            text_box: None,
            total_chars: 0,
            colour: [0; 3],
            reveal: 0.0,
            pat: Vec::new(),
        };
        q.lay_out();
        q.colour_with();
        q
    }

    /// Takes a bound value (`set` from [`QuoteSpec::SETTERS`]): the text's colour and the
    /// background's hue follow, the reveal time too; the text is laid out again only when its
    /// wrap width changed. The same as a scene built with that value.
    pub fn set(&mut self, set: Setter<QuoteSpec>, v: f64) {
        let cpl = self.spec.chars_per_line;
        set(&mut self.spec, v);
        if self.spec.chars_per_line.map(f64::to_bits) != cpl.map(f64::to_bits) {
            self.lay_out();
        }
        self.colour_with();
    }

    /// The colours and reveal time of the spec.
    fn colour_with(&mut self) {
        let spec = &self.spec;
        self.colour = hsv2rgb(spec.hue as f32, spec.saturation as f32, 1.0);
        self.reveal = spec.reveal;
        if let Some(bg) = &mut self.background {
            bg.style = background_style(spec);
        }
    }

    /// Wraps and places the text by the spec's wrap width.
    fn lay_out(&mut self) {
        let (w, h) = (self.width, self.height);
        let text_grid = &mut self.text_grid;
        let default_cpl = if h > w {
            PORTRAIT_CHARS
        } else {
            LANDSCAPE_CHARS
        };
        let cpl = self
            .spec
            .chars_per_line
            .unwrap_or(default_cpl as f64)
            .max(1.0) as usize;
        let cpl = cpl.min(text_grid.cols.max(1));
        let mut laid = layout_text(&self.text, cpl);
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
        self.lines = lines;
        self.text_box = bbox;
        self.total_chars = total_chars;
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
