//! The flags of the commands (clap `Args` types) and their value parsers. A leaf of `cli`: the
//! commands read these types, nothing here runs anything.

use crate::choices::{Aspect, Quality, X264Preset};
use crate::coordinator;
use crate::profile;
use clap::Args;
use std::path::PathBuf;

/// `farm audio FILE`: any file ffmpeg reads.
#[derive(Args, Debug)]
pub(super) struct AudioArgs {
    /// The audio (or video) file.
    pub(super) file: PathBuf,
    /// Video frames per second the features are for.
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=240))]
    pub(super) fps: u32,
    /// Start this many seconds into the track.
    #[arg(long, default_value_t = 0.0, value_parser = parse_offset)]
    pub(super) from: f64,
    /// Frames of video [default: as long as the track]; frames past its end are silence.
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=10_000_000))]
    pub(super) frames: Option<u64>,
    /// Print one JSON object {tempo, confidence, beats, fps, features: {rms: [...], ...}}.
    #[arg(long)]
    pub(super) json: bool,
    /// Keep the features in this folder and reuse them (keyed by the file's content).
    #[arg(long)]
    pub(super) cache: Option<PathBuf>,
}

pub(super) fn parse_offset(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("'{s}' is not a number of seconds >= 0")),
    }
}

/// Flags that choose the render settings; they override the plan's keys.
#[derive(Args, Debug, Clone, Default)]
pub(super) struct SettingsArgs {
    /// Quality profile [default: the plan's, else auto].
    #[arg(long, value_enum)]
    pub(super) quality: Option<QualityArg>,
    /// Aspect preset (landscape keeps the profile's size).
    #[arg(long, value_enum)]
    pub(super) aspect: Option<AspectArg>,
    /// Worker processes at once [default: from CPUs and memory].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub(super) workers: Option<u32>,
    /// Frame size WIDTHxHEIGHT; beats --aspect.
    #[arg(long, value_parser = profile::parse_resolution)]
    pub(super) resolution: Option<(u32, u32)>,
    /// x264 preset (ultrafast .. veryslow) [default: the profile's].
    #[arg(long, value_parser = parse_preset)]
    pub(super) preset: Option<X264Preset>,
    /// x264 CRF [default: the profile's].
    #[arg(long)]
    pub(super) crf: Option<f32>,
    /// Frames per second [default: the profile's].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=240))]
    pub(super) fps: Option<u32>,
    /// x264 threads per worker [default: from the cores and the workers]; a clip encoded with
    /// any thread count is reused.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub(super) x264_threads: Option<u32>,
}

/// `--quality`: clap's view of [`Quality`] (the help text of each value is clap's).
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub(super) enum QualityArg {
    /// 960x540@12, fast to look at.
    Draft,
    /// 1280x720@15.
    Preview,
    /// 1920x1080@24.
    Production,
    /// 3840x2160@30.
    Max,
    /// Chosen from the hardware and the estimated render time.
    Auto,
}

impl From<QualityArg> for Quality {
    fn from(q: QualityArg) -> Quality {
        match q {
            QualityArg::Draft => Quality::Draft,
            QualityArg::Preview => Quality::Preview,
            QualityArg::Production => Quality::Production,
            QualityArg::Max => Quality::Max,
            QualityArg::Auto => Quality::Auto,
        }
    }
}

/// `--aspect`: clap's view of [`Aspect`].
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub(super) enum AspectArg {
    /// 1920x1080 (the profile's own size).
    Landscape,
    /// 1080x1920.
    Portrait,
    /// 1080x1080.
    Square,
}

impl From<AspectArg> for Aspect {
    fn from(a: AspectArg) -> Aspect {
        match a {
            AspectArg::Landscape => Aspect::Landscape,
            AspectArg::Portrait => Aspect::Portrait,
            AspectArg::Square => Aspect::Square,
        }
    }
}

/// `--preset WORD`, parsed once here; the error lists every preset.
pub(super) fn parse_preset(s: &str) -> Result<X264Preset, String> {
    X264Preset::parse(s)
}

impl SettingsArgs {
    /// The flags as they would be typed again.
    pub(super) fn as_args(&self) -> Vec<String> {
        let mut a = Vec::new();
        if let Some(q) = self.quality {
            a.extend(["--quality".into(), Quality::from(q).to_string()]);
        }
        if let Some(x) = self.aspect {
            a.extend(["--aspect".into(), Aspect::from(x).to_string()]);
        }
        if let Some(w) = self.workers {
            a.extend(["--workers".into(), w.to_string()]);
        }
        if let Some((w, h)) = self.resolution {
            a.extend(["--resolution".into(), format!("{w}x{h}")]);
        }
        if let Some(p) = self.preset {
            a.extend(["--preset".into(), p.to_string()]);
        }
        if let Some(c) = self.crf {
            a.extend(["--crf".into(), c.to_string()]);
        }
        if let Some(f) = self.fps {
            a.extend(["--fps".into(), f.to_string()]);
        }
        if let Some(t) = self.x264_threads {
            a.extend(["--x264-threads".into(), t.to_string()]);
        }
        a
    }
}

#[derive(Args, Debug)]
pub(super) struct RunArgs {
    /// The plan file.
    pub(super) plan: PathBuf,
    /// Re-render only these clips (comma-separated ids); finished clips are reused; then join.
    #[arg(long, value_delimiter = ',')]
    pub(super) only: Option<Vec<String>>,
    /// Keep intermediates (clips, logs, concat list); KEEP_INTERMEDIATES=1 does the same.
    #[arg(long)]
    pub(super) keep: bool,
    /// Wait for another farm process working on this plan's work dir, instead of failing.
    #[arg(long)]
    pub(super) wait_lock: bool,
    /// Print the clips (frame ranges, beat cuts, what would be rendered or reused) and stop:
    /// nothing is rendered, nothing is created.
    #[arg(long)]
    pub(super) dry_run: bool,
    #[command(flatten)]
    pub(super) policy: PolicyArgs,
    #[command(flatten)]
    pub(super) settings: SettingsArgs,
}

/// `farm render`.
#[derive(Args, Debug)]
pub(super) struct RenderArgs {
    /// The plan file.
    pub(super) plan: PathBuf,
    /// The clip id (a segment cut into chunks: all of its chunks, or one: `intro#2`).
    #[arg(required_unless_present = "index", conflicts_with = "index")]
    pub(super) id: Option<String>,
    /// The clip by its index in the plan's clips, chunks counted from 0 (as `farm status`
    /// lists them; a Slurm array task's).
    #[arg(long)]
    pub(super) index: Option<usize>,
    /// Wait for another farm process working on this plan's work dir, instead of failing.
    #[arg(long)]
    pub(super) wait_lock: bool,
    /// Refuse to render unless the plan's clips have this digest (a Slurm job's script
    /// carries the one of the plan it was written for).
    #[arg(long, hide = true)]
    pub(super) plan_digest: Option<String>,
    #[command(flatten)]
    pub(super) policy: PolicyArgs,
    #[command(flatten)]
    pub(super) settings: SettingsArgs,
}

/// `farm join`.
#[derive(Args, Debug)]
pub(super) struct JoinArgs {
    /// The plan file.
    pub(super) plan: PathBuf,
    /// Keep intermediates (clips, logs, concat list); KEEP_INTERMEDIATES=1 does the same.
    #[arg(long)]
    pub(super) keep: bool,
    /// Wait for another farm process working on this plan's work dir, instead of failing.
    #[arg(long)]
    pub(super) wait_lock: bool,
    /// Refuse to join unless the plan's clips have this digest (see `farm render`).
    #[arg(long, hide = true)]
    pub(super) plan_digest: Option<String>,
    /// The command that re-renders clips, for the message when some are not done [default:
    /// `farm run PLAN --only ...`].
    #[arg(long, hide = true)]
    pub(super) rerun: Option<String>,
    #[command(flatten)]
    pub(super) settings: SettingsArgs,
}

/// `farm slurm`.
#[derive(Args, Debug)]
pub(super) struct SlurmArgs {
    /// The plan file (in a folder every node sees: the work dir is beside it).
    pub(super) plan: PathBuf,
    /// Only these clips (comma-separated ids; a segment names all of its chunks): a new
    /// array of just them, and a new join.
    #[arg(long, value_delimiter = ',')]
    pub(super) only: Option<Vec<String>>,
    /// The partition (`--partition`).
    #[arg(long)]
    pub(super) partition: Option<String>,
    /// At most this many tasks at once (`--array=...%K`).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub(super) max_parallel: Option<u32>,
    /// Time limit of each task and of the join (`--time`, e.g. 2:00:00).
    #[arg(long)]
    pub(super) time: Option<String>,
    /// Memory of each task and of the join (`--mem`, e.g. 4G).
    #[arg(long)]
    pub(super) mem: Option<String>,
    /// CPUs of each task (`--cpus-per-task`); also its x264 threads.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub(super) cpus: u32,
    /// Submit the arrays and the join (`sbatch`), instead of only writing them.
    #[arg(long)]
    pub(super) submit: bool,
    /// After submitting, wait for the result, printing progress; exit with it.
    #[arg(long, requires = "submit")]
    pub(super) wait: bool,
    /// Seconds between looks at the queue and the work dir while waiting.
    #[arg(long, default_value_t = 2.0, value_parser = parse_seconds)]
    pub(super) poll: f64,
    #[command(flatten)]
    pub(super) settings: SettingsArgs,
}

/// Retries and timeouts.
#[derive(Args, Debug, Clone)]
pub(super) struct PolicyArgs {
    /// Retries of a failed clip, each in a fresh worker process, with backoff.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub(super) retries: u32,
    /// Seconds without progress after which a clip is killed and counted as failed.
    #[arg(long, default_value_t = 120.0, value_parser = parse_seconds)]
    pub(super) stall_timeout: f64,
}

impl PolicyArgs {
    pub(super) fn policy(&self) -> coordinator::Policy {
        coordinator::Policy {
            retries: self.retries,
            stall_timeout: std::time::Duration::from_secs_f64(self.stall_timeout),
            ..Default::default()
        }
    }
}

pub(super) fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!(
            "'{s}' is not a number of seconds between 0 and 86400"
        )),
    }
}

#[derive(Args, Debug)]
pub(super) struct BenchArgs {
    /// Scene.
    #[arg(long, default_value = "plasma")]
    pub(super) scene: String,
    /// Frame size.
    #[arg(long, default_value = "1920x1080", value_parser = profile::parse_resolution)]
    pub(super) size: (u32, u32),
    /// Frames to time (after 3 warm-up frames).
    #[arg(long, default_value_t = 48)]
    pub(super) frames: u32,
    /// Shader chain, comma-separated.
    #[arg(long, default_value = "bloom,vignette,grain")]
    pub(super) shaders: String,
    /// Grid scale.
    #[arg(long, default_value_t = 1.0)]
    pub(super) grid_scale: f32,
    /// Text for the quote scene.
    #[arg(long)]
    pub(super) text: Option<String>,
    /// Also write the frames raw to this file (rgb24, or yuv420p with --yuv), for the
    /// encoder-only comparison.
    #[arg(long)]
    pub(super) raw_out: Option<PathBuf>,
    /// Render as a worker does: each frame also converted to yuv420p, fused with the shader
    /// chain's last walk (the time includes the conversion).
    #[arg(long)]
    pub(super) yuv: bool,
}
