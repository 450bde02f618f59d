//! `scope`: an oscilloscope of the frame's waveform ([`crate::features::WAVE_POINTS`] samples
//! of the frame's stretch of signal, triggered on a rising zero crossing) on a character grid.
//!
//! Each column reads the waveform interpolated, times `gain`, around the centre row. `line`
//! draws the trace with slope characters (`_`, `-`, `/`, `\`, `|`) joining column to column;
//! `filled` fills from the centre row to the trace with the palette's characters. With
//! `persistence > 0` the traces of the previous `trail` frames are drawn under the current one,
//! each `persistence` times dimmer than the next, read from the clip's history rows (so a frame
//! never depends on which frames were rendered before). A faint centre axis and a dotted
//! backdrop keep a quiet frame from going black.

use crate::render::color::hsv2rgb;
use crate::render::font::{Fonts, GlyphId};
use crate::render::frame::{FrameCx, FrameSpec, StageTimings};
use crate::render::grid::{Grid, GridKey};
use crate::render::palette::PaletteName;
use crate::render::params::{ParamSpec, Params, Setter, vocab};
use crate::render::scenes::cells::{Cells, sample};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;

/// The most history frames a trail reads.
pub const MAX_TRAIL: u32 = 16;

vocab! {
    /// How the `scope` scene draws its trace.
    pub enum ScopeStyle {
        /// A line of slope characters.
        Line = "line",
        /// Filled from the centre row to the trace.
        Filled = "filled",
    }
}

/// The parameters of the `scope` scene.
pub mod param {
    use super::{MAX_TRAIL, ScopeStyle};
    use crate::render::grid::GridKey;
    use crate::render::palette::PaletteName;
    use crate::render::params::{Dflt, Kind, ParamSpec, int, num, num_pos, p};

    /// `style`.
    pub const STYLE: ParamSpec = p(
        "style",
        Kind::Choice(ScopeStyle::NAMES),
        Dflt::Word("filled"),
        "line or filled",
    );
    /// `palette`.
    pub const PALETTE: ParamSpec = p(
        "palette",
        Kind::Named("a palette name", PaletteName::NAMES),
        Dflt::Word("shade"),
        "characters of the filled style and the glow, centre to trace",
    );
    /// `grid`.
    pub const GRID: ParamSpec = p(
        "grid",
        Kind::Named("a grid key", GridKey::NAMES),
        Dflt::Word("md"),
        "grid of the trace",
    );
    /// `hue`.
    pub const HUE: ParamSpec = p("hue", num(0.0, 1.0), Dflt::Num(0.33), "hue of the trace");
    /// `saturation`.
    pub const SATURATION: ParamSpec = p(
        "saturation",
        num(0.0, 1.0),
        Dflt::Num(0.7),
        "saturation of the trace",
    );
    /// `gain`.
    pub const GAIN: ParamSpec = p(
        "gain",
        num_pos(8.0),
        Dflt::Num(0.9),
        "amplitude: 1 reaches the top and bottom rows",
    );
    /// `persistence`.
    pub const PERSISTENCE: ParamSpec = p(
        "persistence",
        num(0.0, 0.95),
        Dflt::Num(0.0),
        "brightness of each older trace relative to the next (0: no trail)",
    );
    /// `trail`.
    pub const TRAIL: ParamSpec = p(
        "trail",
        int(0.0, MAX_TRAIL as f64),
        Dflt::Num(6.0),
        "older traces drawn when persistence > 0",
    );
    /// `background`.
    pub const BACKGROUND: ParamSpec = p(
        "background",
        num(0.0, 0.5),
        Dflt::Num(0.3),
        "brightness of the axis and the dotted backdrop (0: none)",
    );

    /// `wash`.
    pub const WASH: ParamSpec = p(
        "wash",
        num(0.0, 0.5),
        Dflt::Num(0.0),
        "brightness of a shaded wash behind the trace, brightest along the axis (0: none)",
    );

    /// Every parameter of the `scope` scene.
    pub const TABLE: &[ParamSpec] = &[
        STYLE,
        PALETTE,
        GRID,
        HUE,
        SATURATION,
        GAIN,
        PERSISTENCE,
        TRAIL,
        BACKGROUND,
        WASH,
    ];
}

/// The `scope` scene as the plan gives it, with every default filled in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScopeSpec {
    /// Line or filled.
    pub style: ScopeStyle,
    /// Characters of the filled style.
    pub palette: PaletteName,
    /// Grid of the trace.
    pub grid: GridKey,
    /// Hue.
    pub hue: f64,
    /// Saturation.
    pub saturation: f64,
    /// Amplitude.
    pub gain: f64,
    /// Trail brightness ratio (0: none).
    pub persistence: f64,
    /// Older traces drawn.
    pub trail: f64,
    /// Axis and backdrop brightness.
    pub background: f64,
    /// Wash brightness (0: none).
    #[serde(default)]
    pub wash: f64,
}

impl ScopeSpec {
    /// The setters of its numeric parameters (bound values; see [`Setter`]).
    pub const SETTERS: &[(ParamSpec, Setter<ScopeSpec>)] = {
        use param::*;
        &[
            (HUE, |s, v| s.hue = v),
            (SATURATION, |s, v| s.saturation = v),
            (GAIN, |s, v| s.gain = v),
            (PERSISTENCE, |s, v| s.persistence = v),
            (TRAIL, |s, v| s.trail = v),
            (BACKGROUND, |s, v| s.background = v),
            (WASH, |s, v| s.wash = v),
        ]
    };

    /// Reads validated params (see [`param::TABLE`]).
    pub fn parse(p: &Params) -> ScopeSpec {
        use param::*;
        ScopeSpec {
            style: STYLE.choice(p),
            palette: PALETTE.choice(p),
            grid: GRID.choice(p),
            hue: HUE.num(p),
            saturation: SATURATION.num(p),
            gain: GAIN.num(p),
            persistence: PERSISTENCE.num(p),
            trail: TRAIL.num(p),
            background: BACKGROUND.num(p),
            wash: WASH.num(p),
        }
    }

    /// History rows the trail reads.
    pub fn history(&self) -> u32 {
        if self.persistence > 0.0 {
            (self.trail as u32).min(MAX_TRAIL)
        } else {
            0
        }
    }
}

/// The scope scene.
#[derive(Debug, Clone)]
pub struct Scope {
    spec: ScopeSpec,
    cells: Cells,
    /// `_ - / \ |` and `.` for the backdrop.
    marks: [GlyphId; 6],
    ys: Vec<f32>,
}

impl Scope {
    /// The grid it draws on (the cells a crossfade into it works on).
    pub fn grid(&self) -> &crate::render::grid::Grid {
        &self.cells.grid
    }

    /// Builds the grid of `spec` for `frame`.
    pub fn new(frame: &FrameSpec, spec: &ScopeSpec, fonts: Arc<Fonts>) -> Scope {
        let (w, h) = (frame.width as usize, frame.height as usize);
        let grid = Grid::with_fonts(spec.grid.px(), frame.grid_scale, w, h, fonts);
        let mut cells = Cells::new(grid, spec.palette.chars());
        let marks = ['_', '-', '/', '\\', '|', '.'].map(|c| cells.grid.atlas.id(c));
        Scope {
            spec: *spec,
            cells,
            marks,
            ys: Vec::new(),
        }
    }

    /// Takes a bound value (`set` from [`ScopeSpec::SETTERS`]): the spec is read per frame, so
    /// the next frame draws with it.
    pub fn set(&mut self, set: Setter<ScopeSpec>, v: f64) {
        set(&mut self.spec, v);
    }

    /// Renders the frame `cx` into `out` (overwritten completely).
    pub fn render(
        &mut self,
        cx: &FrameCx<'_>,
        out: &mut [u8],
        width: usize,
        tm: &mut StageTimings,
    ) {
        let t0 = Instant::now();
        self.cells.clear();
        let (rows, cols) = (self.cells.grid.rows, self.cells.grid.cols);
        let bg = self.spec.background as f32;
        let hue = self.spec.hue as f32;
        self.cells.backdrop(self.marks[5], hue, bg * 0.8, 3);
        if rows > 0 && bg > 0.0 {
            let axis = hsv2rgb(hue, 0.4, (bg * 1.6).min(1.0));
            for c in 0..cols {
                self.cells.set(rows / 2, c, self.marks[1], axis);
            }
        }
        let trail = self.spec.history();
        for k in (0..=trail).rev() {
            let dim = (self.spec.persistence as f32).powi(k as i32);
            if dim < 0.03 {
                continue;
            }
            let row = cx.features.row(i64::from(cx.index) - i64::from(k));
            self.trace(row.wave, dim, k == 0);
        }
        let wash = self.spec.wash as f32;
        if wash > 0.0 && rows > 0 {
            let last = (rows - 1).max(1) as f32;
            self.cells.wash(hue, wash, |_, i| {
                1.0 - ((i / cols) as f32 / last * 2.0 - 1.0).abs()
            });
        }
        let t1 = Instant::now();
        self.cells.draw(out, width);
        let t2 = Instant::now();
        tm.fields_ns += (t1 - t0).as_nanos() as u64;
        tm.blit_ns += (t2 - t1).as_nanos() as u64;
    }

    /// Draws one trace at brightness `dim` (1: the current frame's).
    fn trace(&mut self, wave: &[f32], dim: f32, current: bool) {
        let (rows, cols) = (self.cells.grid.rows, self.cells.grid.cols);
        if rows == 0 || cols == 0 {
            return;
        }
        let gain = self.spec.gain as f32;
        let half = (rows as f32 - 1.0) / 2.0;
        self.ys.clear();
        for c in 0..cols {
            let x = (c as f32 + 0.5) / cols as f32;
            let v = (sample(wave, x) * gain).clamp(-1.0, 1.0);
            // Row coordinate, 0 at the top.
            self.ys.push(half - v * half);
        }
        let sat = self.spec.saturation as f32;
        let hue = self.spec.hue as f32;
        let ys = std::mem::take(&mut self.ys);
        for c in 0..cols {
            let y = ys[c];
            let amp = ((y - half).abs() / half.max(0.5)).min(1.0);
            let colour = hsv2rgb(
                (hue + 0.08 * amp).rem_euclid(1.0),
                sat * (0.6 + 0.4 * amp),
                dim * (0.75 + 0.25 * amp),
            );
            match self.spec.style {
                ScopeStyle::Line => {
                    let prev = if c > 0 { ys[c - 1] } else { y };
                    let next = if c + 1 < cols { ys[c + 1] } else { y };
                    let slope = (next - prev) / 2.0;
                    let r = y.round().clamp(0.0, rows as f32 - 1.0) as usize;
                    let glyph = if slope.abs() < 0.35 {
                        if y - y.floor() > 0.5 {
                            self.marks[0]
                        } else {
                            self.marks[1]
                        }
                    } else if slope.abs() > 1.5 {
                        self.marks[4]
                    } else if slope < 0.0 {
                        self.marks[2]
                    } else {
                        self.marks[3]
                    };
                    // A faint glow between the centre row and the trace.
                    let mid = half.round() as usize;
                    let (g0, g1) = if r < mid { (r + 1, mid) } else { (mid, r) };
                    let glow = self.cells.level(0.3);
                    let gcol = hsv2rgb(hue, sat, dim * 0.55);
                    for rr in g0..g1.min(rows) {
                        self.put(rr, c, glow, gcol, false);
                    }
                    // Join to the previous column with vertical strokes.
                    let (a, b) = if prev < y { (prev, y) } else { (y, prev) };
                    let (a, b) = (a.round() as usize, b.round() as usize);
                    for rr in (a + 1).min(rows)..b.min(rows) {
                        self.put(rr, c, self.marks[4], colour, current);
                    }
                    self.put(r, c, glyph, colour, current);
                }
                ScopeStyle::Filled => {
                    let mid = half.round() as usize;
                    let r = y.round().clamp(0.0, rows as f32 - 1.0) as usize;
                    let (a, b) = if r < mid { (r, mid) } else { (mid, r) };
                    for rr in a..=b.min(rows - 1) {
                        let d = ((rr as f32 - half).abs() / half.max(0.5)).min(1.0);
                        let glyph = self.cells.level(0.25 + 0.75 * d);
                        let col = hsv2rgb(
                            (hue + 0.08 * d).rem_euclid(1.0),
                            sat,
                            dim * (0.45 + 0.55 * d),
                        );
                        self.put(rr, c, glyph, col, current);
                    }
                }
            }
        }
        self.ys = ys;
    }

    fn put(&mut self, r: usize, c: usize, glyph: GlyphId, colour: [u8; 3], current: bool) {
        if current {
            self.cells.set(r, c, glyph, colour);
        } else {
            self.cells.set_max(r, c, glyph, colour);
        }
    }
}
