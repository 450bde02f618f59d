//! Audio analysis: what a visualizer reacts to, computed once per track, before any render.
//!
//! A soundtrack is decoded by ffmpeg ([`crate::media::decode_audio_mono`]) to mono f32 PCM at
//! [`ANALYSIS_RATE`], then turned into one row of [`Features`] per video frame (the digest's
//! section 8: rms, six bands and their ratios, spectral centroid, flatness, flux, centroid
//! change, `beat` and `bdecay`), each column smoothed and min-max normalised to [0, 1] over the
//! whole track, plus the track's tempo and beat times. Nothing here knows about plans, workers
//! or the renderer; the coordinator asks [`cache::features_for`] and hands rows to clips.
//!
//! The folder:
//! - `mod.rs` (this file): [`Features`] (the per-frame table, its column order [`Col`] and its
//!   format version), [`analyse`] (PCM -> features) and [`decode`].
//! - [`spectral`]: the per-frame STFT features (one window per video frame), EMA smoothing and
//!   min-max normalisation.
//! - [`beats`]: onset strength (log-mel spectral flux), tempo (autocorrelation x spectral
//!   comb with a tempo prior) and beat tracking by dynamic programming (Ellis 2007).
//! - [`cache`]: features on disk keyed by the audio's blake3 digest, fps, `from`, frame count
//!   and [`FEATURE_VERSION`]; atomic, checksummed, a damaged file is ignored and rewritten.
//! - [`show`]: `farm audio`'s text summary and JSON.
//!
//! Every value is finite for any input (silence, a constant tone, a track shorter than the
//! video, any channel layout or sample rate): no division is made by a quantity that can be
//! zero without a guard, and non-finite samples are read as silence.

pub mod beats;
pub mod cache;
pub mod show;
pub mod spectral;

use serde::{Deserialize, Serialize};
use std::path::Path;

/// The sample rate every track is analysed at (ffmpeg resamples to it), as the digest does.
pub const ANALYSIS_RATE: u32 = 22050;

/// The version of the feature format: bumped whenever a feature's definition, the column order
/// or the serialised layout changes, so that cached features of an older farm are recomputed.
pub const FEATURE_VERSION: u32 = 1;

/// One column of [`Features`], in their fixed order (the discriminant is the column index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Col {
    /// Loudness: root mean square of the samples in the frame's window.
    Rms,
    /// Energy in 20-80 Hz (sub bass).
    Sub,
    /// Energy in 80-250 Hz (bass).
    Bass,
    /// Energy in 250-500 Hz (low mids).
    LoMid,
    /// Energy in 500-2000 Hz (mids).
    Mid,
    /// Energy in 2-6 kHz (high mids).
    HiMid,
    /// Energy at 6 kHz and above (highs).
    Hi,
    /// The sub band's share of the six bands.
    SubR,
    /// The bass band's share.
    BassR,
    /// The low-mid band's share.
    LoMidR,
    /// The mid band's share.
    MidR,
    /// The high-mid band's share.
    HiMidR,
    /// The high band's share.
    HiR,
    /// Spectral centroid (brightness).
    Cent,
    /// Spectral flatness (noise-like 1, tone-like 0).
    Flat,
    /// Spectral flux (how much the spectrum grew since the previous frame).
    Flux,
    /// Change of the centroid since the previous frame.
    CentD,
    /// 1 on the frame nearest each beat, else 0.
    Beat,
    /// 1 on a beat, decaying to 0 over half a second.
    BDecay,
}

impl Col {
    /// Every column, in order.
    pub const ALL: [Col; 19] = [
        Col::Rms,
        Col::Sub,
        Col::Bass,
        Col::LoMid,
        Col::Mid,
        Col::HiMid,
        Col::Hi,
        Col::SubR,
        Col::BassR,
        Col::LoMidR,
        Col::MidR,
        Col::HiMidR,
        Col::HiR,
        Col::Cent,
        Col::Flat,
        Col::Flux,
        Col::CentD,
        Col::Beat,
        Col::BDecay,
    ];

    /// The number of columns.
    pub const COUNT: usize = Col::ALL.len();

    /// The column's name, as plans and `farm audio --json` spell it (the digest's names).
    pub fn name(self) -> &'static str {
        match self {
            Col::Rms => "rms",
            Col::Sub => "sub",
            Col::Bass => "bass",
            Col::LoMid => "lomid",
            Col::Mid => "mid",
            Col::HiMid => "himid",
            Col::Hi => "hi",
            Col::SubR => "sub_r",
            Col::BassR => "bass_r",
            Col::LoMidR => "lomid_r",
            Col::MidR => "mid_r",
            Col::HiMidR => "himid_r",
            Col::HiR => "hi_r",
            Col::Cent => "cent",
            Col::Flat => "flat",
            Col::Flux => "flux",
            Col::CentD => "cent_d",
            Col::Beat => "beat",
            Col::BDecay => "bdecay",
        }
    }

    /// The column called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Col> {
        Col::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The column's index in a row.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A row of silence: what [`Features::row`] gives for a frame past the table's end.
pub const SILENT_ROW: [f32; Col::COUNT] = [0.0; Col::COUNT];

/// Per-frame audio features of a video, plus the track's tempo and beats.
///
/// `rows` is row-major: frame `i`'s values are `rows[i * COUNT .. (i + 1) * COUNT]`, in the
/// order of [`Col::ALL`] (also spelled out in `names`). Every value is in [0, 1]. Times are
/// video time: 0 is the `from` point of the track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Features {
    /// [`FEATURE_VERSION`] of the farm that computed them.
    pub version: u32,
    /// Video frames per second the rows are for.
    pub fps: u32,
    /// Number of rows (video frames).
    pub frames: usize,
    /// Column names, in row order ([`Col::name`] of [`Col::ALL`]).
    pub names: Vec<String>,
    /// The values, `frames` rows of `names.len()` columns.
    pub rows: Vec<f32>,
    /// Tempo in beats per minute (0 when no pulse was found: confidence under
    /// [`beats::MIN_CONFIDENCE`]).
    pub tempo: f64,
    /// How sure the tempo is, in [0, 1]: how strongly the onset envelope repeats at the beat
    /// period (0: no pulse at all, 1: a metronome).
    pub confidence: f64,
    /// Beat times in seconds of video time, ascending.
    pub beats: Vec<f64>,
    /// Seconds of audio analysed (from `from` to the track's end).
    pub duration: f64,
    /// Where in the track the analysis started, in seconds.
    pub from: f64,
}

impl Features {
    /// Frame `frame`'s values in [`Col::ALL`] order; past the last frame, [`SILENT_ROW`].
    pub fn row(&self, frame: usize) -> &[f32] {
        if frame < self.frames {
            &self.rows[frame * Col::COUNT..(frame + 1) * Col::COUNT]
        } else {
            &SILENT_ROW
        }
    }

    /// One value: column `col` of frame `frame` (0 past the end).
    pub fn get(&self, frame: usize, col: Col) -> f32 {
        self.row(frame)[col.index()]
    }

    /// A whole column, one value per frame.
    pub fn column(&self, col: Col) -> Vec<f32> {
        (0..self.frames).map(|f| self.get(f, col)).collect()
    }

    /// Rows `start..start + len` (clipped to the table), e.g. one clip's share.
    pub fn rows_for(&self, start: usize, len: usize) -> &[f32] {
        let a = start.min(self.frames) * Col::COUNT;
        let b = start.saturating_add(len).min(self.frames) * Col::COUNT;
        &self.rows[a..b]
    }

    /// Whether this table is well formed: the version, the names and the size agree and every
    /// value is finite and in [0, 1] (a cache file that says otherwise is damaged).
    pub fn is_consistent(&self) -> bool {
        self.version == FEATURE_VERSION
            && self
                .names
                .iter()
                .map(String::as_str)
                .eq(Col::ALL.map(Col::name))
            && self.rows.len() == self.frames * Col::COUNT
            && self.rows.iter().all(|v| (0.0..=1.0).contains(v))
            && self.tempo.is_finite()
            && (0.0..=1.0).contains(&self.confidence)
            && self.beats.iter().all(|b| b.is_finite())
    }
}

/// Analyse decoded mono PCM at `rate` Hz: features for `frames` video frames at `fps` (None:
/// as many frames as the track lasts). Frames after the track's end are silence. `from` is
/// only recorded (the samples already start there).
pub fn analyse(pcm: &[f32], rate: u32, fps: u32, frames: Option<usize>, from: f64) -> Features {
    let fps = fps.max(1);
    let rate = rate.max(1);
    // Non-finite samples (a broken decoder) are silence; nothing downstream sees a NaN.
    let clean: Vec<f32>;
    let pcm = if pcm.iter().all(|x| x.is_finite()) {
        pcm
    } else {
        clean = pcm
            .iter()
            .map(|&x| if x.is_finite() { x } else { 0.0 })
            .collect();
        &clean
    };
    let duration = pcm.len() as f64 / rate as f64;
    let track_frames = (duration * fps as f64).ceil() as usize;
    let frames = frames.unwrap_or(track_frames);
    let tempo = beats::track(pcm, rate);
    let mut table = spectral::frame_features(pcm, rate, fps, frames, track_frames);
    beats::mark_frames(&mut table, frames, fps, &tempo.beats);
    Features {
        version: FEATURE_VERSION,
        fps,
        frames,
        names: Col::ALL.iter().map(|c| c.name().to_string()).collect(),
        rows: table,
        tempo: tempo.bpm,
        confidence: tempo.confidence,
        beats: tempo.beats,
        duration,
        from,
    }
}

/// Decode `path` from `from` seconds on at [`ANALYSIS_RATE`] and analyse it (no cache).
pub fn decode_and_analyse(
    ffmpeg: &Path,
    path: &Path,
    from: f64,
    fps: u32,
    frames: Option<usize>,
) -> Result<Features, String> {
    let pcm = decode(ffmpeg, path, from)?;
    Ok(analyse(&pcm, ANALYSIS_RATE, fps, frames, from))
}

/// Decode `path` to mono PCM at [`ANALYSIS_RATE`], from `from` seconds on.
pub fn decode(ffmpeg: &Path, path: &Path, from: f64) -> Result<Vec<f32>, String> {
    crate::media::decode_audio_mono(ffmpeg, path, from, ANALYSIS_RATE).map_err(String::from)
}

/// `x > limit`, and false when either is NaN: the guard before every division here.
pub(crate) fn above(x: f64, limit: f64) -> bool {
    x > limit
}

#[cfg(test)]
mod tests;
