//! Audio analysis: what a visualizer reacts to, computed once per track, before any render.
//!
//! A soundtrack is decoded by ffmpeg ([`crate::media::decode_audio_mono`]) to mono f32 PCM at
//! [`ANALYSIS_RATE`], then turned into one row of [`Features`] per video frame (the reference pipeline's
//! section 8: rms, six bands and their ratios, spectral centroid, flatness, flux, centroid
//! change, `beat` and `bdecay`), each column smoothed and min-max normalised to [0, 1] over the
//! whole track, plus the track's tempo and beat times. Nothing here knows about plans, workers
//! or the renderer; the coordinator asks [`cache::features_for`] and hands rows to clips.
//!
//! The folder:
//! - `mod.rs` (this file): [`Features`] (the per-frame table, its column order [`Feature`] and its
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

/// The sample rate every track is analysed at (ffmpeg resamples to it), as the reference pipeline does.
pub const ANALYSIS_RATE: u32 = 22050;

/// The version of the feature format: bumped whenever a feature's definition, the column order
/// or the serialised layout changes, so that cached features of an older farm are recomputed.
pub const FEATURE_VERSION: u32 = 3;

/// One column of [`Features`]: the renderer's feature vocabulary (the discriminant is the
/// column index).
pub use crate::features::Feature;

/// Log-frequency spectrum bins per frame ([`Features::spectrum`]).
pub use crate::features::SPECTRUM_BINS;
/// Waveform points per frame ([`Features::wave`]).
pub use crate::features::WAVE_POINTS;

/// A row of silence: what [`Features::row`] gives for a frame past the table's end.
pub const SILENT_ROW: [f32; Feature::COUNT] = [0.0; Feature::COUNT];

/// Per-frame audio features of a video, plus the track's tempo and beats.
///
/// `rows` is row-major: frame `i`'s values are `rows[i * COUNT .. (i + 1) * COUNT]`, in the
/// order of [`Feature::all`] (also spelled out in `names`). Every value is in [0, 1]. Times are
/// video time: 0 is the `from` point of the track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Features {
    /// [`FEATURE_VERSION`] of the farm that computed them.
    pub version: u32,
    /// Video frames per second the rows are for.
    pub fps: u32,
    /// Number of rows (video frames).
    pub frames: usize,
    /// Column names, in row order ([`Feature::name`] of [`Feature::all`]).
    pub names: Vec<String>,
    /// The values, `frames` rows of `names.len()` columns.
    pub rows: Vec<f32>,
    /// The log-frequency spectrum, `frames` rows of [`SPECTRUM_BINS`] values in [0, 1] (see
    /// [`spectral`]).
    pub spectrum: Vec<f32>,
    /// The waveform, `frames` rows of [`WAVE_POINTS`] values in [-1, 1] (see [`spectral`]).
    pub wave: Vec<f32>,
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
    /// Frame `frame`'s values in [`Feature::all`] order; past the last frame, [`SILENT_ROW`].
    pub fn row(&self, frame: usize) -> &[f32] {
        if frame < self.frames {
            &self.rows[frame * Feature::COUNT..(frame + 1) * Feature::COUNT]
        } else {
            &SILENT_ROW
        }
    }

    /// One value: column `col` of frame `frame` (0 past the end).
    pub fn get(&self, frame: usize, col: Feature) -> f32 {
        self.row(frame)[col.index()]
    }

    /// A whole column, one value per frame.
    pub fn column(&self, col: Feature) -> Vec<f32> {
        (0..self.frames).map(|f| self.get(f, col)).collect()
    }

    /// Rows `start..start + len` (clipped to the table), e.g. one clip's share.
    pub fn rows_for(&self, start: usize, len: usize) -> &[f32] {
        let a = start.min(self.frames) * Feature::COUNT;
        let b = start.saturating_add(len).min(self.frames) * Feature::COUNT;
        &self.rows[a..b]
    }

    /// One clip's rows as the renderer reads them: video frames `start - lead .. start +
    /// frames` ([`crate::features::Source::Track`]). History never reaches before frame 0 of
    /// the video (`lead` is cut to `start`); rows past the track's end are silent.
    pub fn clip_rows(&self, start: u64, frames: u64, lead: u32) -> crate::features::ClipFeatures {
        let lead = lead.min(start.min(u64::from(u32::MAX)) as u32);
        let first = start - u64::from(lead);
        let wanted = (frames + u64::from(lead)).min(u64::from(u32::MAX)) as usize;
        // Only rows the track has are stored: the rest read as silence.
        let a = first.min(self.frames as u64) as usize;
        let b = a.saturating_add(wanted).min(self.frames);
        let take = |v: &[f32], n: usize| v.get(a * n..b * n).unwrap_or_default().to_vec();
        let (values, spectrum, wave) = (
            take(&self.rows, Feature::COUNT),
            take(&self.spectrum, SPECTRUM_BINS),
            take(&self.wave, WAVE_POINTS),
        );
        crate::features::ClipFeatures {
            skip: 0,
            source: crate::features::Source::Track,
            fps: self.fps.max(1),
            start,
            lead,
            rows: (b - a) as u32,
            values,
            spectrum,
            wave,
        }
    }

    /// Whether this table is well formed: the version, the names and the size agree and every
    /// value is finite and in [0, 1] (a cache file that says otherwise is damaged).
    pub fn is_consistent(&self) -> bool {
        self.version == FEATURE_VERSION
            && self
                .names
                .iter()
                .map(String::as_str)
                .eq(Feature::all().map(Feature::name))
            && self.rows.len() == self.frames * Feature::COUNT
            && self.rows.iter().all(|v| (0.0..=1.0).contains(v))
            && self.spectrum.len() == self.frames * SPECTRUM_BINS
            && self.spectrum.iter().all(|v| (0.0..=1.0).contains(v))
            && self.wave.len() == self.frames * WAVE_POINTS
            && self.wave.iter().all(|v| (-1.0..=1.0).contains(v))
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
    beats::mark_frames(&mut table.values, frames, fps, &tempo.beats);
    Features {
        version: FEATURE_VERSION,
        fps,
        frames,
        names: Feature::all().map(|c| c.name().to_string()).collect(),
        rows: table.values,
        spectrum: table.spectrum,
        wave: table.wave,
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

#[cfg(test)]
mod tests;
