//! Frame-level stages of a composed scene, after the layers and before the shader chain:
//! percentile tonemap, the feedback buffer, transitions.
//!
//! - Tonemap (section 5 of the Python reference pipeline's docs): `lo` = 1st and `hi` = 99.5th
//!   percentile of the channel values of every 4th pixel of every 4th row (if `hi - lo < 10`, `hi =
//!   lo + 10`); each byte maps to `2 + 251 * clip((v - lo) / (hi - lo))^gamma`, rounded, through
//!   one 256-entry table per channel (a tint is folded into the table). Without a tint the
//!   frame is mapped 8 bytes at a time through a 65536-entry two-byte table made with the
//!   tables (128 KB, once per frame): four reads and one store per 8 bytes instead of eight
//!   byte stores, which bound the loop. Measured (user CPU of `presets -- NAME`, 720p + 1080p,
//!   min of 3, A/B in the same minutes): stained-glass 0.66 -> 0.56 s, cosmos 0.78 -> 0.70 s.
//! - Feedback: the first frame is stored and returned unchanged; after that the buffer is
//!   multiplied by `decay`, moved by the transform (nearest-neighbour maps cached at build),
//!   hue-rotated, and blended under the new frame (`out = blend(frame, buffer)`), and `out` becomes
//!   the buffer. Rotation angles are `amount * 10` radians per frame (as the reference pipeline's
//!   code does, whatever its comment says).
//!
//!   Speed (1080p, one core, figures from the loaded 2-core machine, before and after in the
//!   same session): the first version walked the frame five times (tonemap, move + decay into
//!   `tmp`, hue matrix, blend, copy into the buffer) with a bounds check on every table read.
//!   Now one walk per output row: the moved buffer row is gathered raw into a row scratch (or
//!   read in place when the columns do not move), decay and the hue matrix are three reads of
//!   packed tables ([`hue_tables`]: one `u64` add sums three channels, exactly), the tonemap's
//!   tables (`pre`, [`Feedback::apply_after`]) are applied to the frame's byte in the same walk,
//!   the blend reads the fixed-size table with a `u16` index (no bounds check), and `tmp`
//!   becomes the buffer by a swap. Measured (`perf stat -e task-clock` of `cargo bench --bench
//!   presets -- NAME`, CPU time, robust to the machine's other load): mandala 4.2-4.6 s -> 3.5 s,
//!   and the bench's blend+post column (wall) swarm 48-50 -> 37-45 ms, attractor-dust 28-29 ->
//!   15-16 ms, inferno 32-39 -> 20-23 ms. Walking a rotation in 128-pixel strips (to keep the
//!   ~100 source rows an output row reads in cache) measured slower (mandala 5.3-5.4 s), so
//!   rows stay whole.
//!
//!   Then (issue 10, same measure: user CPU of `presets -- NAME`, 720p + 1080p, min of 3, A/B
//!   in the same minutes on the loaded machine): a rotation's 8 MB per-pixel map became runs of
//!   consecutive source pixels ([`map_runs`], ~20 pixels each at 1080p) copied as slices, the
//!   zoom's column map the same runs read in place; the frame's tonemap (and, without a hue
//!   matrix, the decay) is folded into the blend table once per frame (`mix`: one table read
//!   per byte instead of three, one table when the three channel tables agree); each blended
//!   row goes back into the frame while in cache instead of a 6 MB copy at the end. mandala
//!   1.74 -> 1.38 s, neon-tunnel 1.07 -> 0.78 s, swarm 1.34 -> 1.19 s. Blending a rotation
//!   run by run in place (no row gather) measured slower (mandala 1.71 s): the runs are short.
//!   The hue unpack's clamp compiled to two branches per channel; as one read of an 8 KB table
//!   ([`unpack_hue`]), and with the rotation's runs copied in 16-byte blocks ([`copy_run`])
//!   instead of a `memcpy` call each: mandala 1.39 -> 1.14 s, swarm 1.19 -> 0.74 s (the bench's
//!   1080p blend+post column, wall, loaded: mandala 26.3 -> 13.9 ms, swarm 69.7 -> 22.4 ms).
//!   Byte for byte the frames of before: the test
//!   `fused_feedback_matches_the_pass_by_pass_reference` keeps the old passes as the reference,
//!   and the goldens are unchanged.
//! - Transitions: fade, wipe (left to right), iris (a growing circle) and dissolve (16-pixel
//!   blocks in hashed order) for the clip's first and last seconds. `crossfade` (an
//!   in-transition only) is not drawn here: it mixes the clip before into this one, cell by
//!   cell, after both shader chains (the renderer does it, with [`crate::render::crossfade`]).

use crate::render::blend::{BlendLut, BlendMode};
use crate::render::fastmath::hash2;
use crate::render::params::{ParamSpec, Params, Setter, vocab};
use serde::{Deserialize, Serialize};

/// Percentile tonemap with gamma and tint.
#[derive(Debug, Clone)]
pub struct Tonemap {
    gamma: f32,
    tint: [f32; 3],
    hist: Vec<u32>,
    luts: [[u8; 256]; 3],
    /// Without a tint: `luts[0]` for two bytes at once, `(hi << 8) | lo` -> `lut[lo] | lut[hi] << 8`.
    pairs: Vec<u16>,
    /// Whether `pairs` was made by the last [`Tonemap::prepare`].
    pairs_ready: bool,
}

impl Tonemap {
    /// A tonemap with exponent `gamma` and rgb multipliers `tint`.
    pub fn new(gamma: f32, tint: [f32; 3]) -> Tonemap {
        Tonemap {
            gamma: gamma.clamp(0.05, 5.0),
            tint,
            hist: vec![0; 256],
            luts: [[0; 256]; 3],
            pairs: Vec::new(),
            pairs_ready: false,
        }
    }

    /// Changes the exponent and the tint (bound values): the same as a new tonemap.
    pub fn set(&mut self, gamma: f32, tint: [f32; 3]) {
        self.gamma = gamma.clamp(0.05, 5.0);
        self.tint = tint;
    }

    /// Tonemaps `out` (rgb24, `width` pixels per row) in place: [`Tonemap::prepare`], then
    /// [`Tonemap::map`].
    pub fn apply(&mut self, out: &mut [u8], width: usize) {
        if self.prepare(out, width) {
            self.map(out);
        }
    }

    /// Works out the per-channel tables of frame `out` (rgb24, `width` pixels per row) from its
    /// percentiles; false if the frame is empty (nothing to map). A feedback buffer applies
    /// the tables in its own walk over the frame ([`Feedback::apply_after`]).
    pub fn prepare(&mut self, out: &[u8], width: usize) -> bool {
        let stride = width * 3;
        if stride == 0 {
            return false;
        }
        let rows = out.len() / stride;
        self.hist.fill(0);
        let mut n = 0u32;
        for y in (0..rows).step_by(4) {
            let row = &out[y * stride..(y + 1) * stride];
            for px in row.chunks_exact(3).step_by(4) {
                self.hist[usize::from(px[0])] += 1;
                self.hist[usize::from(px[1])] += 1;
                self.hist[usize::from(px[2])] += 1;
                n += 3;
            }
        }
        if n == 0 {
            return false;
        }
        let pct = |p: f64| -> f32 {
            let target = (f64::from(n) * p).floor() as u32;
            let mut acc = 0u32;
            for (v, &c) in self.hist.iter().enumerate() {
                acc += c;
                if acc > target {
                    return v as f32;
                }
            }
            255.0
        };
        let lo = pct(0.01);
        let mut hi = pct(0.995);
        if hi - lo < 10.0 {
            hi = lo + 10.0;
        }
        for (k, lut) in self.luts.iter_mut().enumerate() {
            for (v, o) in lut.iter_mut().enumerate() {
                let x = ((v as f32 - lo) / (hi - lo)).clamp(0.0, 1.0);
                let y = if x > 0.0 { x.powf(self.gamma) } else { 0.0 };
                *o = ((2.0 + 251.0 * y) * self.tint[k] + 0.5).clamp(0.0, 255.0) as u8;
            }
        }
        self.pairs_ready = self.tint == [1.0; 3];
        if self.pairs_ready {
            let l = &self.luts[0];
            self.pairs.resize(65536, 0);
            for (hi, row) in self.pairs.chunks_exact_mut(256).enumerate() {
                let h = u16::from(l[hi]) << 8;
                for (p, &lo) in row.iter_mut().zip(l) {
                    *p = h | u16::from(lo);
                }
            }
        }
        true
    }

    /// The per-channel tables of the last [`Tonemap::prepare`].
    pub fn luts(&self) -> &[[u8; 256]; 3] {
        &self.luts
    }

    /// Maps `out` through the tables of the last [`Tonemap::prepare`].
    ///
    /// Without a tint, eight bytes at a time through the two-byte table `pairs` (four reads
    /// and one 8-byte store instead of eight reads and eight byte stores; see the module doc).
    pub fn map(&self, out: &mut [u8]) {
        let pairs = <&[u16; 65536]>::try_from(self.pairs.as_slice());
        if let (true, true, Ok(pairs)) = (self.tint == [1.0; 3], self.pairs_ready, pairs) {
            let l = &self.luts[0];
            let mut chunks = out.chunks_exact_mut(8);
            for c in &mut chunks {
                let w = u64::from_le_bytes((&*c).try_into().expect("8 bytes"));
                let r = (0..4).fold(0u64, |r, k| {
                    r | u64::from(pairs[((w >> (16 * k)) & 0xFFFF) as usize]) << (16 * k)
                });
                c.copy_from_slice(&r.to_le_bytes());
            }
            for v in chunks.into_remainder() {
                *v = l[usize::from(*v)];
            }
        } else {
            let [l0, l1, l2] = &self.luts;
            for px in out.chunks_exact_mut(3) {
                px[0] = l0[usize::from(px[0])];
                px[1] = l1[usize::from(px[1])];
                px[2] = l2[usize::from(px[2])];
            }
        }
    }
}

vocab! {
    /// Feedback presets: starting values of the feedback keys (see [`FeedbackPreset::values`]).
    pub enum FeedbackPreset {
        ZoomTunnel = "zoom_tunnel",
        RainbowTrails = "rainbow_trails",
        GhostEcho = "ghost_echo",
        Mandala = "mandala",
        ColorEvolution = "color_evolution",
        HeatHaze = "heat_haze",
    }
}

/// The values of a feedback preset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeedbackValues {
    /// Buffer multiplier per frame.
    pub decay: f32,
    /// How the buffer is blended under the frame.
    pub blend: BlendMode,
    /// Blend opacity.
    pub opacity: f32,
    /// How the buffer moves each frame.
    pub transform: FeedbackTransform,
    /// Transform amount.
    pub amount: f32,
    /// Hue rotation per frame (turns).
    pub hue_shift: f32,
}

impl FeedbackPreset {
    /// The preset's values.
    pub fn values(self) -> FeedbackValues {
        use BlendMode as B;
        use FeedbackTransform as T;
        let v = |decay, blend, opacity, transform, amount, hue_shift| FeedbackValues {
            decay,
            blend,
            opacity,
            transform,
            amount,
            hue_shift,
        };
        match self {
            FeedbackPreset::ZoomTunnel => v(0.8, B::Screen, 0.4, T::Zoom, 0.015, 0.0),
            FeedbackPreset::RainbowTrails => v(0.7, B::Screen, 0.3, T::Zoom, 0.01, 0.02),
            FeedbackPreset::GhostEcho => v(0.9, B::Add, 0.15, T::ShiftUp, 0.01, 0.0),
            FeedbackPreset::Mandala => v(0.75, B::Screen, 0.35, T::RotateCw, 0.005, 0.01),
            FeedbackPreset::ColorEvolution => v(0.8, B::Difference, 0.4, T::None, 0.0, 0.03),
            FeedbackPreset::HeatHaze => v(0.5, B::Add, 0.2, T::ShiftUp, 0.02, 0.0),
        }
    }
}

vocab! {
    /// How the feedback buffer moves each frame.
    pub enum FeedbackTransform {
        None = "none",
        Zoom = "zoom",
        Shrink = "shrink",
        RotateCw = "rotate_cw",
        RotateCcw = "rotate_ccw",
        ShiftUp = "shift_up",
        ShiftDown = "shift_down",
        MirrorH = "mirror_h",
    }
}

vocab! {
    /// Transition styles of a clip's first and last seconds.
    pub enum Transition {
        None = "none",
        Fade = "fade",
        Wipe = "wipe",
        Iris = "iris",
        Dissolve = "dissolve",
        /// In-transition only: the clip before it, continued, dissolves into this one character
        /// by character (see [`crate::render::crossfade`]).
        Crossfade = "crossfade",
    }
}

/// The parameters of `feedback:` and `transition:`.
pub mod param {
    use super::{FeedbackPreset, FeedbackTransform, Transition};
    use crate::render::blend::BlendMode;
    use crate::render::params::{Dflt, Kind, ParamSpec, num, p};

    /// `feedback.preset`.
    pub const PRESET: ParamSpec = p(
        "preset",
        Kind::Choice(FeedbackPreset::NAMES),
        Dflt::Word("zoom_tunnel"),
        "starting values; the keys below override",
    );
    /// `feedback.decay`.
    pub const DECAY: ParamSpec = p(
        "decay",
        num(0.0, 1.0),
        Dflt::Words("preset"),
        "buffer multiplier per frame",
    );
    /// `feedback.blend`.
    pub const BLEND: ParamSpec = p(
        "blend",
        Kind::Choice(BlendMode::NAMES),
        Dflt::Words("preset"),
        "how the buffer is blended under the frame",
    );
    /// `feedback.opacity`.
    pub const OPACITY: ParamSpec = p(
        "opacity",
        num(0.0, 1.0),
        Dflt::Words("preset"),
        "blend opacity",
    );
    /// `feedback.transform`.
    pub const TRANSFORM: ParamSpec = p(
        "transform",
        Kind::Choice(FeedbackTransform::NAMES),
        Dflt::Words("preset"),
        "how the buffer moves each frame",
    );
    /// `feedback.amount`.
    pub const AMOUNT: ParamSpec = p(
        "amount",
        num(0.0, 0.45),
        Dflt::Words("preset"),
        "transform amount",
    );
    /// `feedback.hue_shift`.
    pub const HUE_SHIFT: ParamSpec = p(
        "hue_shift",
        num(-1.0, 1.0),
        Dflt::Words("preset"),
        "hue rotation per frame (turns)",
    );

    /// Every parameter of `feedback:`.
    pub const FEEDBACK: &[ParamSpec] =
        &[PRESET, DECAY, BLEND, OPACITY, TRANSFORM, AMOUNT, HUE_SHIFT];

    /// `transition.in`.
    pub const IN: ParamSpec = p(
        "in",
        Kind::Choice(Transition::NAMES),
        Dflt::Word("none"),
        "how the clip appears (crossfade: from the clip before, character by character)",
    );
    /// `transition.out`.
    pub const OUT: ParamSpec = p(
        "out",
        Kind::Choice(Transition::NAMES),
        Dflt::Word("none"),
        "how the clip disappears (needs the clip length; not crossfade: the next clip takes in: crossfade)",
    );
    /// `transition.seconds`.
    pub const SECONDS: ParamSpec = p("seconds", num(0.0, 60.0), Dflt::Num(0.5), "length of both");
    /// `transition.in_seconds`.
    pub const IN_SECONDS: ParamSpec = p(
        "in_seconds",
        num(0.0, 60.0),
        Dflt::Words("seconds"),
        "length of the in-transition",
    );
    /// `transition.out_seconds`.
    pub const OUT_SECONDS: ParamSpec = p(
        "out_seconds",
        num(0.0, 60.0),
        Dflt::Words("seconds"),
        "length of the out-transition",
    );

    /// Every parameter of `transition:`.
    pub const TRANSITION: &[ParamSpec] = &[IN, OUT, SECONDS, IN_SECONDS, OUT_SECONDS];
}

/// The feedback buffer as the plan gives it: a preset and the keys that override it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FeedbackSpec {
    /// Starting values.
    pub preset: FeedbackPreset,
    /// Buffer multiplier per frame.
    pub decay: Option<f64>,
    /// Blend of the buffer under the frame.
    pub blend: Option<BlendMode>,
    /// Blend opacity.
    pub opacity: Option<f64>,
    /// How the buffer moves.
    pub transform: Option<FeedbackTransform>,
    /// Transform amount.
    pub amount: Option<f64>,
    /// Hue rotation per frame.
    pub hue_shift: Option<f64>,
}

impl FeedbackSpec {
    /// The setters of its numeric parameters (bound values; see [`Setter`]). Only `amount`
    /// changes the pixel maps.
    pub const SETTERS: &[(ParamSpec, Setter<FeedbackSpec>)] = {
        use param::*;
        &[
            (DECAY, |s, v| s.decay = Some(v)),
            (OPACITY, |s, v| s.opacity = Some(v)),
            (AMOUNT, |s, v| s.amount = Some(v)),
            (HUE_SHIFT, |s, v| s.hue_shift = Some(v)),
        ]
    };

    /// Reads validated `feedback:` params (see [`param::FEEDBACK`]).
    pub fn parse(p: &Params) -> FeedbackSpec {
        use param::*;
        FeedbackSpec {
            preset: PRESET.choice(p),
            decay: DECAY.opt_num(p),
            blend: BLEND.opt_choice(p),
            opacity: OPACITY.opt_num(p),
            transform: TRANSFORM.opt_choice(p),
            amount: AMOUNT.opt_num(p),
            hue_shift: HUE_SHIFT.opt_num(p),
        }
    }

    /// The preset with the overrides applied.
    pub fn values(&self) -> FeedbackValues {
        let pre = self.preset.values();
        FeedbackValues {
            decay: self.decay.unwrap_or(f64::from(pre.decay)) as f32,
            blend: self.blend.unwrap_or(pre.blend),
            opacity: self.opacity.unwrap_or(f64::from(pre.opacity)) as f32,
            transform: self.transform.unwrap_or(pre.transform),
            amount: self.amount.unwrap_or(f64::from(pre.amount)) as f32,
            hue_shift: self.hue_shift.unwrap_or(f64::from(pre.hue_shift)) as f32,
        }
    }
}

/// The in and out transitions as the plan gives them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TransitionSpec {
    /// How the clip appears.
    pub r#in: Transition,
    /// How the clip disappears.
    pub out: Transition,
    /// Length of both.
    pub seconds: f64,
    /// Length of the in-transition (`None`: `seconds`).
    pub in_seconds: Option<f64>,
    /// Length of the out-transition (`None`: `seconds`).
    pub out_seconds: Option<f64>,
}

impl TransitionSpec {
    /// The setters of its numeric parameters (bound values; see [`Setter`]).
    pub const SETTERS: &[(ParamSpec, Setter<TransitionSpec>)] = {
        use param::*;
        &[
            (SECONDS, |s, v| s.seconds = v),
            (IN_SECONDS, |s, v| s.in_seconds = Some(v)),
            (OUT_SECONDS, |s, v| s.out_seconds = Some(v)),
        ]
    };

    /// Reads validated `transition:` params (see [`param::TRANSITION`]).
    pub fn parse(p: &Params) -> TransitionSpec {
        use param::*;
        TransitionSpec {
            r#in: IN.choice(p),
            out: OUT.choice(p),
            seconds: SECONDS.num(p),
            in_seconds: IN_SECONDS.opt_num(p),
            out_seconds: OUT_SECONDS.opt_num(p),
        }
    }

    /// The length of a crossfade from the clip before, in seconds, if the in-transition is one.
    pub fn crossfade_in(&self) -> Option<f64> {
        (self.r#in == Transition::Crossfade).then(|| self.in_seconds.unwrap_or(self.seconds))
    }

    /// (style, seconds) of the in- and the out-transition.
    pub fn styles(&self) -> ((Transition, f32), (Transition, f32)) {
        (
            (self.r#in, self.in_seconds.unwrap_or(self.seconds) as f32),
            (self.out, self.out_seconds.unwrap_or(self.seconds) as f32),
        )
    }
}

const NONE: u32 = u32::MAX;

/// The feedback buffer of one clip.
#[derive(Debug, Clone)]
pub struct Feedback {
    /// The settings the buffer was last given.
    values: FeedbackValues,
    width: usize,
    height: usize,
    decay: u16,
    lut: BlendLut,
    hue: Option<[[i32; 3]; 3]>,
    /// The rotations' pixel map as runs: row `y`'s are `runs[row_runs[y]..row_runs[y + 1]]`.
    /// Empty for separable transforms.
    runs: Vec<Run>,
    row_runs: Vec<u32>,
    /// Separable maps: source row per output row and source column per output column.
    rows: Vec<u32>,
    /// Source column per output column, as runs of one row ([`map_runs`]).
    col_runs: Vec<Run>,
    buf: Vec<u8>,
    tmp: Vec<u8>,
    /// One row of black.
    zeros: Vec<u8>,
    /// One row of the rotated buffer (scratch, with 16 bytes of slack for [`copy_run`]).
    row: Vec<u8>,
    /// The blend table with this frame's tonemap and the decay folded in, one per channel
    /// (scratch, 3 x 65536).
    mix: Vec<u8>,
    has: bool,
}

/// A stretch of an output row whose pixels are consecutive buffer pixels (or all black).
#[derive(Debug, Clone, Copy)]
struct Run {
    /// First output column.
    x: u32,
    /// Buffer pixel index of the first, or `NONE` (black).
    src: u32,
    /// Pixels.
    len: u32,
}

/// A per-pixel map (`w` pixels per row) as runs of consecutive sources: (runs, row_runs), row
/// `y`'s runs being `runs[row_runs[y]..row_runs[y + 1]]`. A small rotation moves whole
/// stretches of ~20 pixels together, so the walk copies stretches instead of reading a 4-byte
/// index per pixel (the map is 8 MB at 1080p).
fn map_runs(map: &[u32], w: usize) -> (Vec<Run>, Vec<u32>) {
    let mut runs = Vec::new();
    let mut row_runs = vec![0u32];
    if w == 0 {
        return (runs, Vec::new());
    }
    for row in map.chunks_exact(w) {
        let mut x = 0;
        while x < w {
            let src = row[x];
            let mut len = 1;
            while x + len < w {
                let next = row[x + len];
                let follows = if src == NONE {
                    next == NONE
                } else {
                    next != NONE && next == src + len as u32
                };
                if !follows {
                    break;
                }
                len += 1;
            }
            runs.push(Run {
                x: x as u32,
                src,
                len: len as u32,
            });
            x += len;
        }
        row_runs.push(runs.len() as u32);
    }
    if runs.is_empty() {
        row_runs.clear();
    }
    (runs, row_runs)
}

/// The pixel maps of `transform` by `amount` for a `w x h` frame: (map, rows, cols).
fn feedback_maps(
    w: usize,
    h: usize,
    transform: FeedbackTransform,
    amount: f32,
) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let mut rows: Vec<u32> = (0..h as u32).collect();
    let mut cols: Vec<u32> = (0..w as u32).collect();
    let mut map = Vec::new();
    let amt = amount.clamp(0.0, 0.45);
    use FeedbackTransform as T;
    match transform {
        T::Zoom => {
            let (cx, cy) = (amt * w as f32, amt * h as f32);
            let (sx, sy) = (1.0 - 2.0 * amt, 1.0 - 2.0 * amt);
            for (x, c) in cols.iter_mut().enumerate() {
                *c = ((cx + x as f32 * sx) as u32).min(w as u32 - 1);
            }
            for (y, r) in rows.iter_mut().enumerate() {
                *r = ((cy + y as f32 * sy) as u32).min(h as u32 - 1);
            }
        }
        T::Shrink => {
            let (bx, by) = (amt * w as f32, amt * h as f32);
            let (sx, sy) = (1.0 / (1.0 - 2.0 * amt), 1.0 / (1.0 - 2.0 * amt));
            for (x, c) in cols.iter_mut().enumerate() {
                let s = (x as f32 - bx) * sx;
                *c = if s < 0.0 || s >= w as f32 {
                    NONE
                } else {
                    s as u32
                };
            }
            for (y, r) in rows.iter_mut().enumerate() {
                let s = (y as f32 - by) * sy;
                *r = if s < 0.0 || s >= h as f32 {
                    NONE
                } else {
                    s as u32
                };
            }
        }
        T::ShiftUp | T::ShiftDown => {
            let d = ((amt * h as f32).round() as i64).max(1);
            let d = if transform == T::ShiftUp { d } else { -d };
            for (y, r) in rows.iter_mut().enumerate() {
                let s = y as i64 + d;
                *r = if s < 0 || s >= h as i64 {
                    NONE
                } else {
                    s as u32
                };
            }
        }
        T::MirrorH => {
            for (x, c) in cols.iter_mut().enumerate() {
                *c = (w - 1 - x) as u32;
            }
        }
        T::RotateCw | T::RotateCcw => {
            let ang = amt * 10.0 * if transform == T::RotateCw { 1.0 } else { -1.0 };
            let (s, c) = ang.sin_cos();
            let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
            map.reserve(w * h);
            for y in 0..h {
                for x in 0..w {
                    let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
                    let sx = c * dx + s * dy + cx;
                    let sy = -s * dx + c * dy + cy;
                    map.push(
                        if sx < 0.0 || sy < 0.0 || sx >= w as f32 || sy >= h as f32 {
                            NONE
                        } else {
                            sy as u32 * w as u32 + sx as u32
                        },
                    );
                }
            }
        }
        T::None => {}
    }
    (map, rows, cols)
}

/// The hue rotation of `hue_shift` turns (none for 0): rotation about the grey axis (the CSS
/// hue-rotate matrix), in 1/256 steps.
fn hue_matrix(hue_shift: f32) -> Option<[[i32; 3]; 3]> {
    (hue_shift != 0.0).then(|| {
        let th = hue_shift * std::f32::consts::TAU;
        let (s, c) = th.sin_cos();
        let m = [
            [
                0.213 + c * 0.787 - s * 0.213,
                0.715 - c * 0.715 - s * 0.715,
                0.072 - c * 0.072 + s * 0.928,
            ],
            [
                0.213 - c * 0.213 + s * 0.143,
                0.715 + c * 0.285 + s * 0.140,
                0.072 - c * 0.072 - s * 0.283,
            ],
            [
                0.213 - c * 0.213 - s * 0.787,
                0.715 - c * 0.715 + s * 0.715,
                0.072 + c * 0.928 + s * 0.072,
            ],
        ];
        m.map(|r| r.map(|v| (v * 256.0).round() as i32))
    })
}

/// The decay factor in 1/256 steps.
fn decay_factor(decay: f32) -> u16 {
    (decay.clamp(0.0, 1.0) * 256.0).round() as u16
}

impl Feedback {
    /// A feedback buffer for `width x height` frames with settings `v`.
    pub fn new(width: usize, height: usize, v: &FeedbackValues) -> Feedback {
        let (w, h) = (width, height);
        let (map, rows, cols) = feedback_maps(w, h, v.transform, v.amount);
        let (runs, row_runs) = map_runs(&map, w);
        let (col_runs, _) = map_runs(&cols, w);
        Feedback {
            values: *v,
            width,
            height,
            decay: decay_factor(v.decay),
            lut: BlendLut::new(v.blend, v.opacity, false),
            hue: hue_matrix(v.hue_shift),
            runs,
            row_runs,
            rows,
            col_runs,
            buf: vec![0; w * h * 3],
            tmp: vec![0; w * h * 3],
            zeros: vec![0; w * 3],
            row: vec![0; w * 3 + 16],
            mix: vec![0; 3 * 65536],
            has: false,
        }
    }

    /// Takes new settings (bound values), keeping the buffer: only what a changed value
    /// invalidates is recomputed (the pixel maps when the transform or its amount changed, the
    /// blend table when the blend or opacity did). The same as a new buffer with `v` holding
    /// this one's frames.
    pub fn tune(&mut self, v: &FeedbackValues) {
        let old = self.values;
        if v.transform != old.transform || v.amount.to_bits() != old.amount.to_bits() {
            let (map, cols);
            (map, self.rows, cols) = feedback_maps(self.width, self.height, v.transform, v.amount);
            (self.runs, self.row_runs) = map_runs(&map, self.width);
            (self.col_runs, _) = map_runs(&cols, self.width);
        }
        if v.blend != old.blend {
            self.lut = BlendLut::new(v.blend, v.opacity, false);
        } else if v.opacity.to_bits() != old.opacity.to_bits() {
            self.lut.set_opacity(v.opacity);
            self.lut.ready();
        }
        if v.hue_shift.to_bits() != old.hue_shift.to_bits() {
            self.hue = hue_matrix(v.hue_shift);
        }
        self.decay = decay_factor(v.decay);
        self.values = *v;
    }

    /// Forgets the buffer (the next frame is stored unchanged).
    pub fn reset(&mut self) {
        self.has = false;
    }

    /// Applies the feedback to frame `out` (rgb24, `width` pixels per row).
    pub fn apply(&mut self, out: &mut [u8], width: usize) {
        self.apply_after(out, width, None);
    }

    /// [`Feedback::apply`] to `out` mapped first through the per-channel tables `pre` (a
    /// tonemap's, [`Tonemap::luts`]): the same bytes as mapping the frame and then applying
    /// the feedback, in one walk over the frame instead of two.
    pub fn apply_after(&mut self, out: &mut [u8], width: usize, pre: Option<&[[u8; 256]; 3]>) {
        let premap = |out: &mut [u8]| {
            if let Some([p0, p1, p2]) = pre {
                for px in out.chunks_exact_mut(3) {
                    px[0] = p0[usize::from(px[0])];
                    px[1] = p1[usize::from(px[1])];
                    px[2] = p2[usize::from(px[2])];
                }
            }
        };
        if out.len() != self.buf.len() || width != self.width {
            premap(out);
            return;
        }
        if !self.has {
            premap(out);
            self.buf.copy_from_slice(out);
            self.has = true;
            return;
        }
        let stride = self.width * 3;
        let k = self.decay;
        let dec: [u8; 256] = std::array::from_fn(|v| ((v as u16 * k) >> 8) as u8);
        let hue = self.hue.as_ref().map(|m| hue_tables(m, &dec));
        let ident: [[u8; 256]; 3] = [std::array::from_fn(|v| v as u8); 3];
        let pre = pre.unwrap_or(&ident);
        // The blend table with the frame's tonemap folded into its rows and (without a hue
        // matrix) the decay into its columns: one read per byte instead of three.
        let table = self.lut.table();
        let shared = pre[0] == pre[1] && pre[1] == pre[2];
        let post = if hue.is_some() { &ident[0] } else { &dec };
        for (c, mix) in self.mix.chunks_exact_mut(65536).enumerate() {
            if c > 0 && shared {
                break;
            }
            for (mrow, &a) in mix.chunks_exact_mut(256).zip(&pre[c]) {
                let trow = &table[usize::from(a) << 8..][..256];
                for (m, &b) in mrow.iter_mut().zip(post) {
                    *m = trow[usize::from(b)];
                }
            }
        }
        let Feedback {
            buf,
            tmp,
            zeros,
            row,
            runs,
            row_runs,
            rows,
            col_runs,
            mix,
            ..
        } = self;
        let mix_of = |c: usize| -> &[u8; 65536] {
            let c = if shared { 0 } else { c };
            mix[c * 65536..(c + 1) * 65536]
                .try_into()
                .expect("three 65536-entry tables")
        };
        let (m0, m1, m2) = (mix_of(0), mix_of(1), mix_of(2));
        // Blends the moved buffer's pixels `s` (raw) under the frame's `o` into `n`.
        let hue = hue.as_ref();
        let blend = |n: &mut [u8], o: &[u8], s: &[u8]| {
            let at =
                |m: &[u8; 65536], a: u8, b: u8| m[usize::from((u16::from(a) << 8) | u16::from(b))];
            let pixels = n
                .chunks_exact_mut(3)
                .zip(o.chunks_exact(3))
                .zip(s.chunks_exact(3));
            if let Some([h0, h1, h2]) = hue {
                for ((n, o), s) in pixels {
                    let v = h0[usize::from(s[0])]
                        .wrapping_add(h1[usize::from(s[1])])
                        .wrapping_add(h2[usize::from(s[2])]);
                    n[0] = at(m0, o[0], unpack_hue(v, 0));
                    n[1] = at(m1, o[1], unpack_hue(v, 1));
                    n[2] = at(m2, o[2], unpack_hue(v, 2));
                }
            } else {
                for ((n, o), s) in pixels {
                    n[0] = at(m0, o[0], s[0]);
                    n[1] = at(m1, o[1], s[1]);
                    n[2] = at(m2, o[2], s[2]);
                }
            }
        };
        // The runs `rs` of a row, their sources being pixels of `src`.
        let blend_runs = |n: &mut [u8], o: &[u8], src: &[u8], rs: &[Run], zeros: &[u8]| {
            for r in rs {
                let (x, len) = (r.x as usize * 3, r.len as usize * 3);
                let s = if r.src == NONE {
                    &zeros[..len]
                } else {
                    &src[r.src as usize * 3..][..len]
                };
                blend(&mut n[x..x + len], &o[x..x + len], s);
            }
        };
        let cols_identity = col_runs.len() == 1 && col_runs[0].src == 0;
        for y in 0..self.height {
            let orow = &mut out[y * stride..(y + 1) * stride];
            let nrow = &mut tmp[y * stride..(y + 1) * stride];
            // The buffer's pixels that land on row `y`: a rotation's runs (~20 pixels at 1080p)
            // gathered into a row first (blending run by run measured slower), a separable
            // move's read in place, run by run (black where none lands).
            if !row_runs.is_empty() {
                let (r0, r1) = (row_runs[y] as usize, row_runs[y + 1] as usize);
                for r in &runs[r0..r1] {
                    let (x, len) = (r.x as usize * 3, r.len as usize * 3);
                    if r.src == NONE {
                        row[x..x + len].fill(0);
                    } else {
                        copy_run(row, x, buf, r.src as usize * 3, len);
                    }
                }
                blend(nrow, orow, &row[..stride]);
            } else if rows[y] == NONE {
                blend(nrow, orow, zeros);
            } else {
                let sy = rows[y] as usize;
                let srow = &buf[sy * stride..(sy + 1) * stride];
                if cols_identity {
                    blend(nrow, orow, srow);
                } else {
                    blend_runs(nrow, orow, srow, col_runs, zeros);
                }
            }
            // Back into the frame while the row is in cache.
            orow.copy_from_slice(nrow);
        }
        std::mem::swap(buf, tmp);
    }
}

/// Copies `src[s..s + len]` to `row[x..x + len]` in 16-byte blocks, the last block running up
/// to 15 bytes past the run where both sides have room (the next run, drawn after, overwrites
/// it; `row` has 16 bytes of slack past the frame's row): a run is ~60 bytes, where a call to
/// `memcpy` per run cost more than the copy.
#[inline(always)]
fn copy_run(row: &mut [u8], x: usize, src: &[u8], s: usize, len: usize) {
    let mut i = 0;
    while i < len {
        if x + i + 16 <= row.len() && s + i + 16 <= src.len() {
            row[x + i..x + i + 16].copy_from_slice(&src[s + i..s + i + 16]);
            i += 16;
        } else {
            row[x + i..x + len].copy_from_slice(&src[s + i..s + len]);
            break;
        }
    }
}

/// Offset of every field of a packed hue sum (see [`hue_tables`]), a multiple of 256.
const HUE_BIAS: i64 = 1 << 19;

/// Decay and hue matrix `m` folded into three tables, one per input channel: entry `v` of
/// table `c` packs `m[j][c] * dec[v]` for the three output channels `j` into 21-bit fields of a
/// `u64` (`HUE_BIAS` added once, in table 0). The wrapping sum of the three entries of a pixel
/// holds `bias + sum_c m[j][c] * dec[s_c]` exactly in field `j` (each sum lies within
/// `+-3.5 * 256 * 255 < 2^18`, so the biased one fits 20 bits): one add per channel instead of
/// three multiplies and two adds.
fn hue_tables(m: &[[i32; 3]; 3], dec: &[u8; 256]) -> [[u64; 256]; 3] {
    std::array::from_fn(|c| {
        std::array::from_fn(|v| {
            let d = i64::from(dec[v]);
            (0..3).fold(0u64, |e, j| {
                let f = i64::from(m[j][c]) * d + if c == 0 { HUE_BIAS } else { 0 };
                e.wrapping_add((f as u64).wrapping_shl(21 * j as u32))
            })
        })
    })
}

/// `HUE_CLAMP[i] = (i - HUE_BIAS / 256).clamp(0, 255)`: the clamp of [`unpack_hue`] as one
/// read of an 8 KB table (the compiled clamp was two branches per channel).
static HUE_CLAMP: [u8; 1 << 13] = {
    let mut t = [0u8; 1 << 13];
    let mut i = 0;
    while i < t.len() {
        let v = i as i64 - (HUE_BIAS >> 8);
        t[i] = if v < 0 {
            0
        } else if v > 255 {
            255
        } else {
            v as u8
        };
        i += 1;
    }
    t
};

/// Output channel `j` of a packed hue sum: `(sum >> 8).clamp(0, 255)` (the field's top 13
/// bits less `HUE_BIAS / 256`, exactly, as `HUE_BIAS` is a multiple of 256).
#[inline(always)]
fn unpack_hue(v: u64, j: u32) -> u8 {
    HUE_CLAMP[((v >> (21 * j + 8)) & 0x1FFF) as usize]
}

/// Shows `p` in `[0, 1]` of frame `out` in `style` (1 = all of it; the rest goes black).
pub fn transition(out: &mut [u8], width: usize, style: Transition, p: f32) {
    if p >= 1.0 || width == 0 {
        return;
    }
    let p = p.max(0.0);
    let stride = width * 3;
    let height = out.len() / stride;
    match style {
        Transition::Fade => {
            let k = (p * p * 256.0) as u16;
            for v in out.iter_mut() {
                *v = ((u16::from(*v) * k) >> 8) as u8;
            }
        }
        Transition::Wipe => {
            let edge = (p * width as f32) as usize;
            for row in out.chunks_exact_mut(stride) {
                row[edge * 3..].fill(0);
            }
        }
        Transition::Iris => {
            let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.0);
            let r = p * (cx * cx + cy * cy).sqrt();
            for (y, row) in out.chunks_exact_mut(stride).enumerate() {
                let dy = y as f32 + 0.5 - cy;
                let span2 = r * r - dy * dy;
                if span2 <= 0.0 {
                    row.fill(0);
                    continue;
                }
                let s = span2.sqrt();
                let x0 = ((cx - s).max(0.0) as usize).min(width);
                let x1 = ((cx + s).max(0.0) as usize).min(width);
                row[..x0 * 3].fill(0);
                row[x1 * 3..].fill(0);
            }
        }
        Transition::Dissolve => {
            let thr = (p * 65536.0) as u32;
            for (y, row) in out.chunks_exact_mut(stride).enumerate() {
                let by = (y / 16) as i32;
                for (bx, block) in row.chunks_mut(16 * 3).enumerate() {
                    if hash2(bx as i32, by, 0xD155) & 0xFFFF >= thr {
                        block.fill(0);
                    }
                }
            }
        }
        // Drawn by the renderer across two scenes, not on one frame.
        Transition::None | Transition::Crossfade => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tonemap_stretches_and_lifts_black() {
        let (w, h) = (64, 32);
        let mut f: Vec<u8> = (0..w * h * 3).map(|i| (i % 100) as u8).collect();
        Tonemap::new(1.0, [1.0; 3]).apply(&mut f, w);
        assert_eq!(*f.iter().min().unwrap(), 2);
        assert!(*f.iter().max().unwrap() >= 250);
    }

    #[test]
    fn feedback_first_frame_is_unchanged_then_trails() {
        let (w, h) = (40, 30);
        use strum::IntoEnumIterator;
        for name in FeedbackPreset::iter() {
            let mut fb = Feedback::new(w, h, &name.values());
            let mut a = vec![0u8; w * h * 3];
            a[(15 * w + 20) * 3..(15 * w + 21) * 3].copy_from_slice(&[200, 100, 50]);
            let orig = a.clone();
            fb.apply(&mut a, w);
            assert_eq!(a, orig, "{name}");
            let mut b = vec![0u8; w * h * 3];
            fb.apply(&mut b, w);
            assert!(b.iter().any(|&v| v > 0), "{name}: no trail");
        }
    }

    /// The feedback as first written (one pass per step: move + decay, hue matrix, blend), kept
    /// as the reference the fused walk must match byte for byte.
    fn reference_step(fb: &Feedback, buf: &[u8], out: &mut [u8]) {
        let (w, k) = (fb.width, fb.decay);
        let stride = w * 3;
        let mut tmp = vec![0u8; buf.len()];
        let dec = |s: u8| ((u16::from(s) * k) >> 8) as u8;
        let (map, rows, cols) = feedback_maps(w, fb.height, fb.values.transform, fb.values.amount);
        if !map.is_empty() {
            for (i, &src) in map.iter().enumerate() {
                if src != NONE {
                    for j in 0..3 {
                        tmp[i * 3 + j] = dec(buf[src as usize * 3 + j]);
                    }
                }
            }
        } else {
            for (y, &sy) in rows.iter().enumerate() {
                for (x, &sx) in cols.iter().enumerate() {
                    if sy != NONE && sx != NONE {
                        for j in 0..3 {
                            tmp[y * stride + x * 3 + j] =
                                dec(buf[sy as usize * stride + sx as usize * 3 + j]);
                        }
                    }
                }
            }
        }
        if let Some(m) = fb.hue {
            for px in tmp.chunks_exact_mut(3) {
                let (r, g, b) = (i32::from(px[0]), i32::from(px[1]), i32::from(px[2]));
                for (j, row) in m.iter().enumerate() {
                    px[j] = ((row[0] * r + row[1] * g + row[2] * b) >> 8).clamp(0, 255) as u8;
                }
            }
        }
        for (o, &b) in out.iter_mut().zip(&tmp) {
            *o = fb.lut.get(*o, b);
        }
    }

    #[test]
    fn fused_feedback_matches_the_pass_by_pass_reference() {
        use strum::IntoEnumIterator;
        let (w, h) = (37, 23);
        let frame = |seed: u32| -> Vec<u8> {
            (0..w * h * 3)
                .map(|i| (hash2(i as i32, seed as i32, 7) >> 3) as u8)
                .collect()
        };
        let mut values: Vec<FeedbackValues> = FeedbackPreset::iter().map(|p| p.values()).collect();
        for t in FeedbackTransform::iter() {
            values.push(FeedbackValues {
                decay: 0.93,
                blend: BlendMode::Overlay,
                opacity: 0.7,
                transform: t,
                amount: 0.07,
                hue_shift: -0.37,
            });
        }
        for v in values {
            for tint in [[1.0; 3], [1.1, 0.9, 0.6]] {
                let mut fb = Feedback::new(w, h, &v);
                let mut tm = Tonemap::new(0.8, tint);
                let mut buf = Vec::new();
                for f in 0..4 {
                    let mut want = frame(f);
                    tm.apply(&mut want, w);
                    if f > 0 {
                        reference_step(&fb, &buf, &mut want);
                    }
                    let mut got = frame(f);
                    assert!(tm.prepare(&got, w));
                    fb.apply_after(&mut got, w, Some(tm.luts()));
                    assert_eq!(got, want, "{v:?} tint {tint:?} frame {f}");
                    buf = got;
                }
            }
        }
    }

    #[test]
    fn transitions_hide_part_of_the_frame() {
        use strum::IntoEnumIterator;
        for style in Transition::iter() {
            let mut f = vec![200u8; 64 * 48 * 3];
            transition(&mut f, 64, style, 0.5);
            let lit = f.iter().filter(|&&v| v == 200).count();
            if matches!(style, Transition::None | Transition::Crossfade) {
                assert_eq!(lit, f.len());
            } else {
                assert!(lit < f.len(), "{style}");
            }
            let mut g = vec![200u8; 64 * 48 * 3];
            transition(&mut g, 64, style, 1.0);
            assert!(g.iter().all(|&v| v == 200));
        }
    }

    #[test]
    fn vocabularies_and_tables() {
        assert_eq!(
            FeedbackPreset::NAMES,
            [
                "zoom_tunnel",
                "rainbow_trails",
                "ghost_echo",
                "mandala",
                "color_evolution",
                "heat_haze",
            ]
        );
        assert_eq!(
            FeedbackTransform::NAMES,
            [
                "none",
                "zoom",
                "shrink",
                "rotate_cw",
                "rotate_ccw",
                "shift_up",
                "shift_down",
                "mirror_h",
            ]
        );
        assert_eq!(
            Transition::NAMES,
            ["none", "fade", "wipe", "iris", "dissolve", "crossfade"]
        );
        for t in [param::FEEDBACK, param::TRANSITION] {
            let problems = crate::render::params::table_problems("post", t);
            assert!(problems.is_empty(), "{problems:?}");
        }
    }
}
