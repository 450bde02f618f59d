//! The plan's own types, shared by the parser (`plan/mod.rs`) and [`super::timing`]: a leaf
//! module that imports nothing from `plan` but [`super::spans`], so that no module of `plan`
//! imports another that imports it back. Everything here is re-exported by `plan`.

use super::spans::{Pos, Spans};
use crate::choices::{Aspect, Quality, X264Preset};
use crate::render::SceneSpec;
use std::fmt;
use std::path::PathBuf;

/// Most segments a plan may have (one worker process and one file each).
pub const MAX_SEGMENTS: usize = 10_000;

/// Longest clip, in seconds (a day).
pub const MAX_SEGMENT_SECONDS: f64 = 86_400.0;

/// Longest id, in bytes (it names files).
pub const MAX_ID_LEN: usize = 100;

/// The default `chunk:`, in seconds. Fixed, not derived from the worker count, so that a re-run
/// with another `--workers` (or on another machine of a Slurm array) reuses the chunks already
/// rendered. 30 s keeps a chunk's fixed cost (a worker's renderer and encoder start, about
/// 0.1 s) under 1% of its render, and a stateful scene's replay short, while a long segment
/// (a 4-minute track is 8 chunks) still gives every worker of a typical machine work.
pub const DEFAULT_CHUNK_SECS: f64 = 30.0;

/// The shortest `chunk:` (but 0, off): a chunk costs a worker's renderer and encoder start, and
/// a stateful scene replays the frames before each chunk, so shorter ones only lose time.
pub const MIN_CHUNK_SECS: f64 = 1.0;

/// The separator of a chunk's id (`intro#2`): refused in the plan's ids, so that a chunk id
/// never names a segment or a clip of a beat-cut run.
pub const CHUNK_SEP: char = '#';

/// A plan error: where, which key, what.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanError {
    /// The file the error is in (the plan, or a scene preset it uses).
    pub file: PathBuf,
    /// Line and column, when known.
    pub pos: Option<Pos>,
    /// The key (`segments[1].duration`), empty for the whole document.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(p) = self.pos {
            write!(f, ":{}:{}", p.line, p.column)?;
        }
        if self.key.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.key, self.message)
        }
    }
}

impl std::error::Error for PlanError {}

/// When a segment plays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Timing {
    /// `duration: seconds`.
    Duration(f64),
    /// `start:` and `end:` in seconds of the final video.
    Range {
        /// Start, seconds.
        start: f64,
        /// End, seconds.
        end: f64,
    },
    /// `until: beat` with `beats: N`: the segment ends on the N-th beat after its start (see
    /// [`timing`]).
    Beats(u32),
    /// `cut: auto`: one of a run of segments cut every few beats by the plan's `cut:` (see
    /// [`timing`]).
    Cut,
}

impl Timing {
    /// Exact frame count at `fps` of this timing on its own. Durations round to the nearest
    /// frame; a start/end range counts the frames between the rounded ends. In a plan, use
    /// [`Plan::frame_counts`], which lays the segments end to end. Beat timings are only
    /// estimated here ([`Timing::seconds`]); [`super::timing::frame_ranges`] gives their frames.
    pub fn frames(self, fps: u32) -> u64 {
        let f = fps as f64;
        match self {
            Timing::Range { start, end } => {
                ((end * f).round() - (start * f).round()).max(0.0) as u64
            }
            _ => (self.seconds() * f).round().max(0.0) as u64,
        }
    }

    /// Length in seconds. For `until: beat`, an estimate at the synthetic 120 BPM; a `cut:
    /// auto` segment counts 0 (its run's length depends on what follows it).
    pub fn seconds(self) -> f64 {
        match self {
            Timing::Duration(d) => d,
            Timing::Range { start, end } => end - start,
            Timing::Beats(n) => n as f64 * 60.0 / crate::features::SYNTHETIC_BPM,
            Timing::Cut => 0.0,
        }
    }
}

/// One segment of the plan: one clip.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Position in the plan (0-based); seeds the clip's RNG with the plan seed.
    pub index: usize,
    /// Unique id; names the clip file, its log and its progress bar.
    pub id: String,
    /// The scene as the plan names it (a built-in or a preset).
    pub scene_name: String,
    /// When it plays.
    pub timing: Timing,
    /// What the renderer draws (presets resolved).
    pub scene: SceneSpec,
}

/// A parsed, validated plan.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The plan file (absolute).
    pub path: PathBuf,
    /// Final video (absolute).
    pub output: PathBuf,
    /// `quality:`, if given.
    pub quality: Option<Quality>,
    /// `aspect:`, if given.
    pub aspect: Option<Aspect>,
    /// `resolution:`, if given.
    pub resolution: Option<(u32, u32)>,
    /// `preset:` (x264), if given.
    pub preset: Option<X264Preset>,
    /// `crf:`, if given.
    pub crf: Option<f32>,
    /// `fps:`, if given (beats the profile's).
    pub fps: Option<u32>,
    /// `seed:` (default 0).
    pub seed: u64,
    /// Soundtrack (absolute), if given (`audio: song.mp3` or `audio: {path: song.mp3, from: 30}`).
    pub audio: Option<PathBuf>,
    /// Where in the soundtrack the video starts, in seconds (`audio.from`; 0 by default).
    pub audio_from: f64,
    /// Extra font files (absolute), tried before the embedded fonts.
    pub fonts: Vec<PathBuf>,
    /// `cut: {on: beats, every: N}`, if given: how `cut: auto` segments are cut.
    pub cut: Option<Cut>,
    /// `chunk:` in seconds ([`DEFAULT_CHUNK_SECS`] when not given; 0: off): a clip longer than
    /// this is rendered as several chunks of consecutive frames (`clip::chunks`).
    pub chunk: f64,
    /// The segments, in order.
    pub segments: Vec<Segment>,
    pub(super) spans: Spans,
}

/// The plan-level `cut: {on: beats, every: N}`: each run of `cut: auto` segments is cut every
/// `every` beats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    /// Beats per clip (at least 1).
    pub every: u32,
}
