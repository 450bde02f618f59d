//! `spectrum`: the frame's log-frequency spectrum ([`crate::features::SPECTRUM_BINS`] bins,
//! 40 Hz .. 11 kHz) as bars of ASCII glyphs on a character grid, with peaks that fall back.
//!
//! Modes: `bars` (low frequencies left, bars rising from the bottom), `mirrored` (low
//! frequencies in the middle, bars growing up and down from the centre row) and `radial`
//! (bars radiating from a ring around the centre, mirrored left and right). Each column (or
//! angle) reads the bins interpolated, times `gain`. A bar's cells use the palette's
//! characters from dark (its foot) to bright (its top); its hue runs from `hue` over
//! `hue_span` across the frequencies.
//!
//! Peaks: the peak of a bin at frame `g` is `max over k in 0..PEAK_HISTORY of spectrum[g - k]
//! - fall * k` (at least the bar itself), computed from the clip's history rows, so a frame's
//! peaks never depend on which frames were rendered before or how the video was cut (the
//! coordinator hands every clip [`PEAK_HISTORY`] rows of history).

use crate::features::SPECTRUM_BINS;
use crate::render::color::hsv2rgb;
use crate::render::font::Fonts;
use crate::render::frame::{FrameCx, FrameSpec, StageTimings};
use crate::render::grid::{Grid, GridKey};
use crate::render::palette::PaletteName;
use crate::render::params::{ParamSpec, Params, Setter, vocab};
use crate::render::scenes::cells::{Cells, sample};
use serde::{Deserialize, Serialize};
use std::f32::consts::PI;
use std::sync::Arc;
use std::time::Instant;

/// Rows of history the peaks look back over (frames).
pub const PEAK_HISTORY: u32 = 48;

vocab! {
    /// How the `spectrum` scene lays out its bars.
    pub enum SpectrumMode {
        /// Bars rising from the bottom, low frequencies left.
        Bars = "bars",
        /// Low frequencies in the middle, bars growing up and down from the centre row.
        Mirrored = "mirrored",
        /// Bars radiating from a ring around the centre.
        Radial = "radial",
    }
}

/// The parameters of the `spectrum` scene.
pub mod param {
    use super::SpectrumMode;
    use crate::render::grid::GridKey;
    use crate::render::palette::PaletteName;
    use crate::render::params::{Dflt, Kind, ParamSpec, num, num_pos, p};

    /// `mode`.
    pub const MODE: ParamSpec = p(
        "mode",
        Kind::Choice(SpectrumMode::NAMES),
        Dflt::Word("bars"),
        "bars, mirrored or radial",
    );
    /// `palette`.
    pub const PALETTE: ParamSpec = p(
        "palette",
        Kind::Named("a palette name", PaletteName::NAMES),
        Dflt::Word("gradient"),
        "characters of the bars, foot to top",
    );
    /// `grid`.
    pub const GRID: ParamSpec = p(
        "grid",
        Kind::Named("a grid key", GridKey::NAMES),
        Dflt::Word("md"),
        "grid of the bars",
    );
    /// `hue`.
    pub const HUE: ParamSpec = p(
        "hue",
        num(0.0, 1.0),
        Dflt::Num(0.55),
        "hue of the lowest frequencies",
    );
    /// `hue_span`.
    pub const HUE_SPAN: ParamSpec = p(
        "hue_span",
        num(-1.0, 1.0),
        Dflt::Num(0.45),
        "hue added across the frequencies (low to high)",
    );
    /// `saturation`.
    pub const SATURATION: ParamSpec = p(
        "saturation",
        num(0.0, 1.0),
        Dflt::Num(0.8),
        "saturation of the bars",
    );
    /// `gain`.
    pub const GAIN: ParamSpec = p(
        "gain",
        num_pos(8.0),
        Dflt::Num(1.0),
        "bar height multiplier",
    );
    /// `fall`.
    pub const FALL: ParamSpec = p(
        "fall",
        num(0.0, 1.0),
        Dflt::Num(0.015),
        "how fast peaks fall back, in bar heights per frame (0: no peaks)",
    );
    /// `background`.
    pub const BACKGROUND: ParamSpec = p(
        "background",
        num(0.0, 0.5),
        Dflt::Num(0.3),
        "brightness of the dotted backdrop (0: none)",
    );

    /// `wash`.
    pub const WASH: ParamSpec = p(
        "wash",
        num(0.0, 0.5),
        Dflt::Num(0.0),
        "brightness of a shaded wash behind the bars, brightest at their feet (0: none)",
    );

    /// Every parameter of the `spectrum` scene.
    pub const TABLE: &[ParamSpec] = &[
        MODE, PALETTE, GRID, HUE, HUE_SPAN, SATURATION, GAIN, FALL, BACKGROUND, WASH,
    ];
}

/// The `spectrum` scene as the plan gives it, with every default filled in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpectrumSpec {
    /// Layout.
    pub mode: SpectrumMode,
    /// Characters of the bars.
    pub palette: PaletteName,
    /// Grid of the bars.
    pub grid: GridKey,
    /// Hue of the lowest frequencies.
    pub hue: f64,
    /// Hue added across the frequencies.
    pub hue_span: f64,
    /// Saturation.
    pub saturation: f64,
    /// Bar height multiplier.
    pub gain: f64,
    /// Peak fall per frame (0: no peaks).
    pub fall: f64,
    /// Backdrop brightness.
    pub background: f64,
    /// Wash brightness (0: none).
    #[serde(default)]
    pub wash: f64,
}

impl SpectrumSpec {
    /// The setters of its numeric parameters (bound values; see [`Setter`]).
    pub const SETTERS: &[(ParamSpec, Setter<SpectrumSpec>)] = {
        use param::*;
        &[
            (HUE, |s, v| s.hue = v),
            (HUE_SPAN, |s, v| s.hue_span = v),
            (SATURATION, |s, v| s.saturation = v),
            (GAIN, |s, v| s.gain = v),
            (FALL, |s, v| s.fall = v),
            (BACKGROUND, |s, v| s.background = v),
            (WASH, |s, v| s.wash = v),
        ]
    };

    /// Reads validated params (see [`param::TABLE`]).
    pub fn parse(p: &Params) -> SpectrumSpec {
        use param::*;
        SpectrumSpec {
            mode: MODE.choice(p),
            palette: PALETTE.choice(p),
            grid: GRID.choice(p),
            hue: HUE.num(p),
            hue_span: HUE_SPAN.num(p),
            saturation: SATURATION.num(p),
            gain: GAIN.num(p),
            fall: FALL.num(p),
            background: BACKGROUND.num(p),
            wash: WASH.num(p),
        }
    }
}

/// The peaks of every bin at clip frame `frame`: `max over k of spectrum[frame - k] - fall *
/// k` for `k` in `0..PEAK_HISTORY` (only as far back as a value can still win), at least 0.
/// Rows before the stored history read as silence.
pub fn peaks(
    features: &crate::features::ClipFeatures,
    frame: i64,
    fall: f32,
) -> [f32; SPECTRUM_BINS] {
    let mut out = [0f32; SPECTRUM_BINS];
    let reach = if fall > 0.0 {
        ((1.0 / fall).ceil() as u32).min(PEAK_HISTORY)
    } else {
        1
    };
    for k in 0..reach {
        let row = features.row(frame - i64::from(k));
        let drop = fall * k as f32;
        for (o, &v) in out.iter_mut().zip(row.spectrum) {
            *o = o.max(v - drop);
        }
    }
    out
}

/// The spectrum scene.
#[derive(Debug, Clone)]
pub struct Spectrum {
    spec: SpectrumSpec,
    cells: Cells,
    dot: crate::render::font::GlyphId,
    peak_glyph: crate::render::font::GlyphId,
}

impl Spectrum {
    /// The grid it draws on (the cells a crossfade into it works on).
    pub fn grid(&self) -> &crate::render::grid::Grid {
        &self.cells.grid
    }

    /// Builds the grid of `spec` for `frame`.
    pub fn new(frame: &FrameSpec, spec: &SpectrumSpec, fonts: Arc<Fonts>) -> Spectrum {
        let (w, h) = (frame.width as usize, frame.height as usize);
        let grid = Grid::with_fonts(spec.grid.px(), frame.grid_scale, w, h, fonts);
        let mut cells = Cells::new(grid, spec.palette.chars());
        let dot = cells.grid.atlas.id('.');
        let peak_glyph = cells.grid.atlas.id('=');
        Spectrum {
            spec: *spec,
            cells,
            dot,
            peak_glyph,
        }
    }

    /// The bar colour at frequency position `x` in [0, 1] and brightness `v`.
    fn colour(&self, x: f32, v: f32) -> [u8; 3] {
        let h = (self.spec.hue as f32 + self.spec.hue_span as f32 * x).rem_euclid(1.0);
        hsv2rgb(h, self.spec.saturation as f32, v.clamp(0.0, 1.0))
    }

    /// Takes a bound value (`set` from [`SpectrumSpec::SETTERS`]): the spec is read per frame, so
    /// the next frame draws with it.
    pub fn set(&mut self, set: Setter<SpectrumSpec>, v: f64) {
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
        let row = cx.row();
        let gain = self.spec.gain as f32;
        let bins: Vec<f32> = row.spectrum.iter().map(|v| (v * gain).min(1.0)).collect();
        let fall = self.spec.fall as f32;
        let pk: Option<Vec<f32>> = (fall > 0.0).then(|| {
            peaks(cx.features, i64::from(cx.index), fall)
                .iter()
                .map(|v| (v * gain).min(1.0))
                .collect()
        });
        self.cells.clear();
        let (rows, cols) = (self.cells.grid.rows, self.cells.grid.cols);
        self.cells.backdrop(
            self.dot,
            self.spec.hue as f32,
            self.spec.background as f32,
            2,
        );
        match self.spec.mode {
            SpectrumMode::Bars => {
                for c in 0..cols {
                    let x = (c as f32 + 0.5) / cols as f32;
                    let v = sample(&bins, x);
                    let p = pk.as_ref().map(|p| sample(p, x));
                    self.column(c, x, v, p, rows, false);
                }
            }
            SpectrumMode::Mirrored => {
                for c in 0..cols {
                    let x = ((c as f32 + 0.5) / cols as f32 * 2.0 - 1.0).abs();
                    let v = sample(&bins, x);
                    let p = pk.as_ref().map(|p| sample(p, x));
                    self.column(c, x, v, p, rows, true);
                }
            }
            SpectrumMode::Radial => self.radial(&bins, pk.as_deref()),
        }
        let wash = self.spec.wash as f32;
        if wash > 0.0 && rows > 0 && cols > 0 {
            let last = (rows - 1).max(1) as f32;
            let mode = self.spec.mode;
            self.cells.wash(self.spec.hue as f32, wash, |g, i| {
                let r = (i / cols) as f32 / last;
                match mode {
                    SpectrumMode::Bars => r,
                    SpectrumMode::Mirrored => 1.0 - (r * 2.0 - 1.0).abs(),
                    SpectrumMode::Radial => 1.0 - g.rn[i] / 1.5,
                }
            });
        }
        let t1 = Instant::now();
        self.cells.draw(out, width);
        let t2 = Instant::now();
        tm.fields_ns += (t1 - t0).as_nanos() as u64;
        tm.blit_ns += (t2 - t1).as_nanos() as u64;
    }

    /// One column of bars: height `v` of the rows (from the bottom, or both ways from the
    /// centre row when `mirror`), with its peak.
    fn column(&mut self, c: usize, x: f32, v: f32, peak: Option<f32>, rows: usize, mirror: bool) {
        if rows == 0 {
            return;
        }
        let span = if mirror {
            rows as f32 / 2.0
        } else {
            rows as f32
        };
        let height = v * span;
        let full = height.ceil() as usize;
        for k in 0..full.min(rows) {
            let fill = (height - k as f32).clamp(0.0, 1.0);
            let up = (k as f32 + 1.0) / span.max(1.0);
            let glyph = self.cells.level(0.35 + 0.65 * up.min(1.0) * fill.max(0.5));
            let colour = self.colour(x, 0.55 + 0.45 * up.min(1.0));
            for r in self.rows_at(k, rows, mirror) {
                self.cells.set(r, c, glyph, colour);
            }
        }
        if let Some(p) = peak {
            let k = (p * span).floor() as usize;
            if p > 0.02 && k < rows {
                let colour = self.colour(x, 1.0);
                let white = colour.map(|ch| ch.saturating_add((255 - ch) / 2));
                for r in self.rows_at(k, rows, mirror) {
                    self.cells.set(r, c, self.peak_glyph, white);
                }
            }
        }
    }

    /// The rows of step `k` of a bar (counted from its foot).
    fn rows_at(&self, k: usize, rows: usize, mirror: bool) -> Vec<usize> {
        if mirror {
            let mid = rows / 2;
            let mut v = Vec::with_capacity(2);
            if mid + k < rows {
                v.push(mid + k);
            }
            if k < mid {
                v.push(mid - 1 - k);
            }
            v
        } else if k < rows {
            vec![rows - 1 - k]
        } else {
            Vec::new()
        }
    }

    /// Bars radiating from a ring: each cell reads the bin of its angle (mirrored left and
    /// right, low frequencies at the top) and is lit if its radius is within the bar.
    fn radial(&mut self, bins: &[f32], peaks: Option<&[f32]>) {
        let g = &self.cells.grid;
        let (rows, cols) = (g.rows, g.cols);
        let r0 = 0.28f32;
        let len = 0.65f32;
        // Half a cell in frame units: a peak ring one cell thick.
        let cell = g.ch as f32 / (g.rows.max(1) as f32 * g.ch as f32 / 2.0).max(1.0);
        for r in 0..rows {
            for c in 0..cols {
                let i = r * cols + c;
                let (xn, yn) = (self.cells.grid.xn[i], self.cells.grid.yn[i]);
                let rad = self.cells.grid.rn[i];
                // Angle from the top, 0..1 on either side.
                let a = xn.atan2(-yn).abs() / PI;
                let v = sample(bins, a);
                let reach = r0 + len * v;
                if rad < r0 * 0.85 {
                    // The hub glows with the low frequencies.
                    let low = sample(bins, 0.0);
                    let glyph = self.cells.level(0.25 + 0.5 * low);
                    let colour = self.colour(0.0, 0.2 + 0.4 * low);
                    self.cells.set(r, c, glyph, colour);
                } else if rad >= r0 && rad <= reach {
                    let up = ((rad - r0) / len).clamp(0.0, 1.0);
                    let glyph = self.cells.level(0.35 + 0.65 * up.max(0.3));
                    let colour = self.colour(a, 0.55 + 0.45 * up);
                    self.cells.set(r, c, glyph, colour);
                } else if let Some(p) = peaks {
                    let pr = r0 + len * sample(p, a);
                    if sample(p, a) > 0.02 && (rad - pr).abs() < cell * 0.5 {
                        let colour = self.colour(a, 1.0);
                        let white = colour.map(|ch| ch.saturating_add((255 - ch) / 2));
                        self.cells.set(r, c, self.peak_glyph, white);
                    }
                }
                if (rad - r0 * 0.92).abs() < cell * 0.5 {
                    let colour = self.colour(0.0, 0.45);
                    self.cells.set_max(r, c, self.dot, colour);
                }
            }
        }
    }
}
