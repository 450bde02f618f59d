//! A clip's audio features as the renderer sees them: the vocabulary of features a plan may
//! bind a parameter to ([`Feature`]), one clip's rows ([`ClipFeatures`]) and the synthetic
//! features of a plan without audio (the reference pipeline's synthetic mode: slow sines, a 120 BPM beat).
//!
//! A leaf: plain data, shared by `audio` (which computes the rows), the coordinator (which
//! puts a clip's rows in its job) and `render` (which reads them per frame). Nothing here
//! decodes or analyses anything.
//!
//! Rows are indexed by the clip's frame (0 = its first frame). A clip carries `lead` rows of
//! history before its first frame, so that a smoothed binding at global frame `g` is computed
//! from the same rows whichever clip or chunk renders `g`: results never depend on how a video
//! is cut.

use crate::vocab::vocab;
use serde::{Deserialize, Serialize};

vocab! {
    /// A per-frame audio feature, in [0, 1] (the reference pipeline's section 8, same names and order as
    /// `farm audio --json`). The discriminant is the column index in a row.
    pub enum Feature {
        /// Loudness (root mean square).
        Rms = "rms",
        /// Energy in 20-80 Hz.
        Sub = "sub",
        /// Energy in 80-250 Hz.
        Bass = "bass",
        /// Energy in 250-500 Hz.
        LoMid = "lomid",
        /// Energy in 500-2000 Hz.
        Mid = "mid",
        /// Energy in 2-6 kHz.
        HiMid = "himid",
        /// Energy at 6 kHz and above.
        Hi = "hi",
        /// The sub band's share of the six bands.
        SubR = "sub_r",
        /// The bass band's share.
        BassR = "bass_r",
        /// The low-mid band's share.
        LoMidR = "lomid_r",
        /// The mid band's share.
        MidR = "mid_r",
        /// The high-mid band's share.
        HiMidR = "himid_r",
        /// The high band's share.
        HiR = "hi_r",
        /// Spectral centroid (brightness).
        Cent = "cent",
        /// Spectral flatness (noise 1, tone 0).
        Flat = "flat",
        /// Spectral flux (onsets).
        Flux = "flux",
        /// Change of the centroid.
        CentD = "cent_d",
        /// 1 on the frame of a beat, else 0.
        Beat = "beat",
        /// 1 on a beat, decaying to 0 over half a second.
        BDecay = "bdecay",
    }
}

impl Feature {
    /// Number of features (columns of a row).
    pub const COUNT: usize = Feature::NAMES.len();

    /// The feature's column in a row.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Every feature, in column order.
    pub fn all() -> impl Iterator<Item = Feature> {
        <Feature as strum::IntoEnumIterator>::iter()
    }
}

/// Log-frequency spectrum bins per frame (for spectrum scenes), 0..1 each.
pub const SPECTRUM_BINS: usize = 32;
/// Waveform points per frame (for oscilloscope scenes), -1..1 each.
pub const WAVE_POINTS: usize = 64;

/// The tempo of the synthetic features (the reference pipeline's synthetic mode).
pub const SYNTHETIC_BPM: f64 = 120.0;

/// Where a clip's features come from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Source {
    /// The clip does not react to audio: every row reads as silence.
    None,
    /// No soundtrack: the reference pipeline's synthetic features, computed from global time.
    Synthetic,
    /// Rows analysed from the plan's soundtrack.
    Track,
}

/// One clip's audio features, frame by frame, with `lead` rows of history before its first
/// frame. Rows past the stored ones read as silence (a track shorter than the video).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipFeatures {
    /// Where the rows come from.
    pub source: Source,
    /// Video frames per second.
    pub fps: u32,
    /// The global video frame of the clip's frame 0.
    pub start: u64,
    /// Rows of history stored before the clip's frame 0 (at most `start`).
    pub lead: u32,
    /// Stored rows (`lead` + the clip's frames, or fewer where the track ends; fewer for a
    /// chunk, see [`ClipFeatures::window`]).
    pub rows: u32,
    /// Rows dropped before the stored ones: the first stored row is the clip's frame
    /// `skip - lead` (0 but for a chunk's [`ClipFeatures::window`]).
    pub skip: u32,
    /// [`Feature::COUNT`] values per row, row-major.
    pub values: Vec<f32>,
    /// [`SPECTRUM_BINS`] values per row, row-major (empty: no spectrum).
    pub spectrum: Vec<f32>,
    /// [`WAVE_POINTS`] values per row, row-major (empty: no waveform).
    pub wave: Vec<f32>,
}

const SILENT_VALUES: [f32; Feature::COUNT] = [0.0; Feature::COUNT];
const SILENT_SPECTRUM: [f32; SPECTRUM_BINS] = [0.0; SPECTRUM_BINS];
const SILENT_WAVE: [f32; WAVE_POINTS] = [0.0; WAVE_POINTS];

/// One frame's features.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row<'a> {
    /// [`Feature::COUNT`] values in column order.
    pub values: &'a [f32],
    /// [`SPECTRUM_BINS`] log-frequency bins, low to high.
    pub spectrum: &'a [f32],
    /// [`WAVE_POINTS`] waveform samples.
    pub wave: &'a [f32],
}

impl Row<'_> {
    /// One feature's value.
    pub fn get(&self, f: Feature) -> f32 {
        self.values[f.index()]
    }
}

/// A row of silence.
pub const SILENT_ROW: Row<'static> = Row {
    values: &SILENT_VALUES,
    spectrum: &SILENT_SPECTRUM,
    wave: &SILENT_WAVE,
};

impl ClipFeatures {
    /// A clip that does not react to audio: no rows, everything reads as silence.
    pub fn none(fps: u32, start: u64) -> ClipFeatures {
        ClipFeatures {
            source: Source::None,
            fps: fps.max(1),
            start,
            lead: 0,
            rows: 0,
            skip: 0,
            values: Vec::new(),
            spectrum: Vec::new(),
            wave: Vec::new(),
        }
    }

    /// The reference pipeline's synthetic features for global frames
    /// `start - lead .. start + frames`: slow
    /// sines for the bands and the spectral features, a beat at [`SYNTHETIC_BPM`] while the
    /// beat phase is under 0.05, `bdecay = 1 - 4 * phase` (at least 0). A function of global
    /// time only, so every clip and chunk agrees on every frame.
    pub fn synthetic(fps: u32, start: u64, frames: u64, lead: u32) -> ClipFeatures {
        let fps = fps.max(1);
        let lead = lead.min(start.min(u32::MAX as u64) as u32);
        let rows = (frames + lead as u64).min(u32::MAX as u64) as u32;
        let first = start - lead as u64;
        let mut values = Vec::with_capacity(rows as usize * Feature::COUNT);
        let mut spectrum = Vec::with_capacity(rows as usize * SPECTRUM_BINS);
        let mut wave = Vec::with_capacity(rows as usize * WAVE_POINTS);
        for g in first..first + rows as u64 {
            let t = g as f64 / fps as f64;
            let row = synthetic_row(t);
            values.extend_from_slice(&row);
            let beat = row[Feature::BDecay.index()] as f64;
            for b in 0..SPECTRUM_BINS {
                let x = b as f64 / SPECTRUM_BINS as f64;
                // A falling spectrum that breathes and kicks on the beat.
                let tilt = (1.0 - x).powf(1.5);
                let wob = 0.5 + 0.5 * (t * 1.3 + x * 9.0).sin();
                spectrum.push((tilt * (0.35 + 0.35 * wob + 0.3 * beat)).clamp(0.0, 1.0) as f32);
            }
            for i in 0..WAVE_POINTS {
                let x = i as f64 / WAVE_POINTS as f64;
                let tau = std::f64::consts::TAU;
                let v = 0.6 * (tau * (2.0 * x + t * 0.5)).sin() * (0.4 + 0.6 * beat)
                    + 0.25 * (tau * (7.0 * x + t * 1.7)).sin();
                wave.push(v.clamp(-1.0, 1.0) as f32);
            }
        }
        ClipFeatures {
            source: Source::Synthetic,
            fps,
            start,
            lead,
            rows,
            skip: 0,
            values,
            spectrum,
            wave,
        }
    }

    /// Only the rows of the clip's frames `from..to` (negative: history), the rest dropped: what
    /// a chunk that reads those frames carries, instead of every row of its whole clip (a long
    /// segment's rows are about 460 bytes a frame). Rows inside the window read as before.
    pub fn window(&self, from: i64, to: i64) -> ClipFeatures {
        let stored = |frame: i64| {
            (frame + i64::from(self.lead) - i64::from(self.skip)).clamp(0, i64::from(self.rows))
                as usize
        };
        let (lo, hi) = (stored(from), stored(to.max(from)));
        let cut = |v: &[f32], n: usize| -> Vec<f32> {
            v.get(lo * n..(hi * n).min(v.len())).unwrap_or(&[]).to_vec()
        };
        ClipFeatures {
            rows: (hi - lo) as u32,
            skip: self.skip + lo as u32,
            values: cut(&self.values, Feature::COUNT),
            spectrum: cut(&self.spectrum, SPECTRUM_BINS),
            wave: cut(&self.wave, WAVE_POINTS),
            ..*self
        }
    }

    /// Whether any row is stored (false for [`Source::None`]).
    pub fn is_reactive(&self) -> bool {
        self.source != Source::None
    }

    /// The features of the clip's frame `frame` (negative: history before the clip). Frames
    /// with no stored row (past the track's end, or before the history) read as silence.
    pub fn row(&self, frame: i64) -> Row<'_> {
        let i = frame + self.lead as i64 - self.skip as i64;
        if i < 0 || i >= self.rows as i64 {
            return SILENT_ROW;
        }
        let i = i as usize;
        Row {
            values: part(&self.values, i, Feature::COUNT, &SILENT_VALUES),
            spectrum: part(&self.spectrum, i, SPECTRUM_BINS, &SILENT_SPECTRUM),
            wave: part(&self.wave, i, WAVE_POINTS, &SILENT_WAVE),
        }
    }

    /// One feature of the clip's frame `frame` (see [`ClipFeatures::row`]).
    pub fn get(&self, frame: i64, f: Feature) -> f32 {
        self.row(frame).get(f)
    }
}

/// Row `i` of a row-major table of `n` columns, or `silent` when the table has no such row.
fn part<'a>(v: &'a [f32], i: usize, n: usize, silent: &'static [f32]) -> &'a [f32] {
    v.get(i * n..(i + 1) * n).unwrap_or(silent)
}

/// The synthetic features at time `t` (seconds of video time).
pub fn synthetic_row(t: f64) -> [f32; Feature::COUNT] {
    use Feature as F;
    let phase = (t * SYNTHETIC_BPM / 60.0).rem_euclid(1.0);
    let s = |freq: f64, off: f64| (0.5 + 0.5 * (t * freq + off).sin()) as f32;
    let mut r = [0.0f32; Feature::COUNT];
    let bdecay = (1.0 - 4.0 * phase).max(0.0) as f32;
    r[F::Rms.index()] = 0.45 + 0.35 * s(0.7, 0.0) * 0.6 + 0.25 * bdecay;
    r[F::Sub.index()] = 0.3 + 0.5 * bdecay + 0.2 * s(0.3, 1.0);
    r[F::Bass.index()] = 0.25 + 0.55 * bdecay + 0.2 * s(0.5, 2.0);
    r[F::LoMid.index()] = s(0.9, 0.5);
    r[F::Mid.index()] = s(1.1, 1.5);
    r[F::HiMid.index()] = s(1.7, 2.5);
    r[F::Hi.index()] = s(2.3, 3.5);
    let bands = [F::Sub, F::Bass, F::LoMid, F::Mid, F::HiMid, F::Hi];
    let ratios = [F::SubR, F::BassR, F::LoMidR, F::MidR, F::HiMidR, F::HiR];
    let total: f32 = bands.iter().map(|b| r[b.index()]).sum::<f32>().max(1e-6);
    for (b, q) in bands.iter().zip(ratios) {
        r[q.index()] = (r[b.index()] / total * 2.0).min(1.0);
    }
    r[F::Cent.index()] = s(0.23, 0.7);
    r[F::Flat.index()] = s(0.17, 1.9) * 0.5;
    r[F::Flux.index()] = (0.2 + 0.8 * bdecay).min(1.0);
    r[F::CentD.index()] = (0.5 * (t * 0.23 + 0.7).cos().abs() * 0.23) as f32;
    r[F::Beat.index()] = if phase < 0.05 { 1.0 } else { 0.0 };
    r[F::BDecay.index()] = bdecay;
    for v in &mut r {
        *v = v.clamp(0.0, 1.0);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_audio_columns() {
        assert_eq!(Feature::COUNT, 19);
        assert_eq!("bdecay".parse::<Feature>().unwrap(), Feature::BDecay);
        assert_eq!(Feature::BDecay.index(), 18);
    }

    #[test]
    fn synthetic_rows_depend_on_global_time_only() {
        let whole = ClipFeatures::synthetic(24, 0, 100, 0);
        let part = ClipFeatures::synthetic(24, 40, 60, 16);
        for f in -16..60i64 {
            assert_eq!(part.row(f), whole.row(40 + f), "frame {f}");
        }
        // 120 BPM at 24 fps: a beat every 12 frames.
        let beats: Vec<i64> = (0..100)
            .filter(|&f| whole.get(f, Feature::Beat) > 0.5)
            .collect();
        assert_eq!(beats, (0..9).map(|k| k * 12).collect::<Vec<_>>());
        assert!(whole.values.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn rows_past_the_end_are_silent() {
        let c = ClipFeatures::synthetic(24, 0, 10, 0);
        assert_eq!(c.row(10), SILENT_ROW);
        assert_eq!(c.row(-1), SILENT_ROW);
        assert_eq!(ClipFeatures::none(24, 0).row(3), SILENT_ROW);
    }
}
