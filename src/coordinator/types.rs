//! The coordinator's shared types: what a run is given (tools, policy, options), what it
//! returns (summary, errors, failed clips), and the clips of a plan with their hashes. A leaf of
//! the coordinator: every other file of the folder may use it, it uses none of them.

use crate::clip::{self, ClipSpec};
use crate::plan::{Plan, PlanError};
use crate::profile::RenderSettings;
use std::path::PathBuf;
use std::time::Duration;

/// ffmpeg and ffprobe, found before anything starts.
#[derive(Debug, Clone)]
pub struct Tools {
    /// ffmpeg.
    pub ffmpeg: PathBuf,
    /// ffprobe.
    pub ffprobe: PathBuf,
}

impl Tools {
    /// From the hardware probe; an error that says how to install them.
    pub fn from_hw(hw: &crate::hw::Hardware) -> Result<Tools, String> {
        match (&hw.ffmpeg, &hw.ffprobe) {
            (Some(f), Some(p)) => Ok(Tools {
                ffmpeg: f.clone(),
                ffprobe: p.clone(),
            }),
            (f, _) => Err(format!(
                "{} not found on PATH (or in $FARM_FFMPEG / $FARM_FFPROBE); install it, e.g. `apt-get install -y ffmpeg`",
                if f.is_none() { "ffmpeg" } else { "ffprobe" }
            )),
        }
    }
}

/// Retry and timeout policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Retries of a failed clip (each in a fresh worker process).
    pub retries: u32,
    /// Backoff before the first retry; doubles each time, capped at 8 s.
    pub backoff: Duration,
    /// A clip with no progress for this long is killed and counted as failed.
    pub stall_timeout: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            retries: 2,
            backoff: Duration::from_millis(500),
            stall_timeout: Duration::from_secs(120),
        }
    }
}

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Re-render these clips even if they are done (others are reused when they check out).
    pub only: Option<Vec<String>>,
    /// Keep intermediates (also `KEEP_INTERMEDIATES=1`).
    pub keep: bool,
    /// The command that re-runs this plan with the same settings, without `--only`
    /// (e.g. `farm run plan.yaml --quality draft`), for failure messages.
    pub rerun: String,
    /// Retries and timeouts.
    pub policy: Policy,
    /// Wait for another process holding the work dir's lock, instead of failing (exit 2) at once.
    pub wait_lock: bool,
    /// `farm join`: render nothing; join when every clip is done, else fail naming the others.
    pub join_only: bool,
    /// The digest of the plan's clips ([`plan_digest`]) the caller expects (a Slurm job's
    /// script carries the one of the plan it was written for): a run of a changed plan stops.
    pub plan_digest: Option<String>,
}

/// Which clip `farm render` renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// By id (a segment cut into chunks names all of its chunks).
    Id(String),
    /// By its index in the plan's clips, chunks counted (a Slurm array task's).
    Index(usize),
}

/// BLAKE3 (hex, 16 digits) of the plan's clips: their ids and hashes, in order. Two plans, or
/// one plan at two settings, with the same digest render the same clips.
pub fn plan_digest(clips: &[Clip]) -> String {
    let mut h = blake3::Hasher::new();
    for c in clips {
        h.update(c.id.as_bytes());
        h.update(b"\0");
        h.update(c.hash.as_bytes());
        h.update(b"\n");
    }
    h.finalize().to_hex()[..16].to_string()
}

/// A clip that failed.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedClip {
    /// Clip id.
    pub id: String,
    /// Why.
    pub error: String,
    /// Its log.
    pub log: PathBuf,
    /// The last lines of its log.
    pub tail: Vec<String>,
}

/// Why a run did not produce its video.
#[derive(Debug)]
pub enum RunError {
    /// The plan is wrong (exit 2).
    Plan(PlanError),
    /// Something is missing or unusable before any worker starts (exit 2).
    Setup(String),
    /// Clips failed; nothing was joined (exit 1).
    Failed {
        /// The failed clips.
        clips: Vec<FailedClip>,
        /// The command that re-renders them.
        rerun: String,
    },
    /// Rendering went fine but joining or verifying did not (exit 1).
    Join(String),
    /// Interrupted by a signal (exit 130).
    Interrupted,
}

impl RunError {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Plan(_) | RunError::Setup(_) => 2,
            RunError::Failed { .. } | RunError::Join(_) => 1,
            RunError::Interrupted => 130,
        }
    }
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Plan(e) => write!(f, "{e}"),
            RunError::Setup(e) | RunError::Join(e) => write!(f, "{e}"),
            RunError::Interrupted => write!(
                f,
                "interrupted: finished clips are kept; run the same command again to go on"
            ),
            RunError::Failed { clips, rerun } => {
                writeln!(
                    f,
                    "{} of the clips failed; the video was not joined.",
                    clips.len()
                )?;
                for c in clips {
                    writeln!(f, "\nclip '{}' failed: {}", c.id, c.error)?;
                    writeln!(f, "  log: {}", c.log.display())?;
                    for l in &c.tail {
                        writeln!(f, "  | {l}")?;
                    }
                }
                write!(f, "\nre-render the failed clips with:\n  {rerun}")
            }
        }
    }
}

/// What a successful run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// The video (None for `farm render`, which does not join).
    pub output: Option<PathBuf>,
    /// Its frames.
    pub frames: u64,
    /// Clips rendered this run.
    pub rendered: usize,
    /// Clips reused from an earlier run.
    pub reused: usize,
    /// Whether intermediates were removed.
    pub cleaned: bool,
    /// Seconds spent checking, joining and verifying (0 for `farm render`).
    pub join_secs: f64,
    /// Medians of worker start-up (spawn + handshake) and renderer set-up, milliseconds.
    pub startup_ms: Option<(f64, f64)>,
}

/// One clip of the plan: its spec and the hash of it the manifest records.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    /// Plan index.
    pub index: usize,
    /// Id.
    pub id: String,
    /// Frames.
    pub frames: u64,
    /// Hash of everything that determines its frames and file ([`ClipSpec::content_hash`]).
    pub hash: String,
    /// What the worker renders (its job is this spec plus paths).
    pub spec: ClipSpec,
}

/// The clips of a plan at these settings, each with its spec (built once, by
/// [`clip::specs`]) and that spec's hash.
/// `track`: the soundtrack's features ([`crate::coordinator::soundtrack::features`]; None
/// without audio).
pub fn clips_of(
    plan: &Plan,
    settings: &RenderSettings,
    track: Option<&crate::audio::Features>,
) -> Result<Vec<Clip>, RunError> {
    let specs = clip::specs(plan, settings, track).map_err(RunError::Plan)?;
    let fonts = clip::font_digests(&plan.fonts).map_err(RunError::Setup)?;
    Ok(specs
        .into_iter()
        .map(|spec| Clip {
            index: spec.index,
            id: spec.id.clone(),
            frames: spec.frames,
            hash: spec.content_hash(&fonts),
            spec,
        })
        .collect())
}
