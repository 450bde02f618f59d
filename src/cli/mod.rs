//! Commands -> library calls. Nothing else knows about argv, and no other module uses clap.
//!
//! Map (one command, or one job, per file):
//! - `mod.rs` (this file): the clap types ([`Cli`] and its subcommands and flags), [`main`]
//!   (the dispatch), and what the commands share: loading the plan, the render settings from
//!   the flags, the re-run command line;
//! - [`run`]: `farm run` and `farm render`;
//! - [`status`]: `farm status` (the clip table);
//! - [`check`]: `farm check` (the plan report: clips, glyphs, disk);
//! - [`frame`]: `farm frame` (one frame to a PNG);
//! - [`audio`]: `farm audio` (tempo, beats, features of a track);
//! - [`clean`]: `farm clean`; [`hw`]: `farm hw`;
//! - [`bench`]: the hidden `farm bench-render` (ms/frame as one JSON object).
//!
//! Output never panics: in this module `println!` and `eprintln!` are the macros below, which
//! ignore write errors (a reader that went away, `farm run p.yaml 2>&1 | head -2`), where std's
//! would panic and end the run with status 101 in the middle of a render.

/// `println!` that ignores write errors (see the module doc).
macro_rules! println {
    ($($t:tt)*) => { $crate::report::to_stdout(&format!($($t)*)) };
}

/// `eprintln!` that ignores write errors (see the module doc).
macro_rules! eprintln {
    ($($t:tt)*) => { $crate::report::to_stderr(&format!($($t)*)) };
}

use crate::choices::{Aspect, Quality, X264Preset};
use crate::coordinator::{self, Tools};
use crate::hw::Hardware;
use crate::media::{shell_quote, shell_quote_os};
use crate::plan::Plan;
use crate::profile::{self, Overrides, RenderSettings};
use clap::{Args, Parser, Subcommand};

mod audio;
mod bench;
mod check;
mod clean;
mod frame;
mod hw;
mod run;
mod status;
use std::path::{Path, PathBuf};

/// farm: render ASCII-art video from a YAML plan of segments, one isolated worker process per
/// clip, joined with ffmpeg.
#[derive(Parser, Debug)]
#[command(name = "farm", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Render every clip of a plan, join them into the output, verify it and clean up.
    Run(RunArgs),
    /// Render one clip in the foreground with its log streamed (no join).
    Render {
        /// The plan file.
        plan: PathBuf,
        /// The clip id.
        id: String,
        /// Wait for another farm process working on this plan's work dir, instead of failing.
        #[arg(long)]
        wait_lock: bool,
        #[command(flatten)]
        policy: PolicyArgs,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Each clip's state (done, failed, missing, stale), frames, time, attempts, log, and what
    /// the next `farm run` would do.
    Status {
        /// The plan file.
        plan: PathBuf,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Validate a plan (syntax, scenes, params, shaders, ffmpeg, audio) without rendering.
    Check {
        /// The plan file.
        plan: PathBuf,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Remove the plan's work dir (its clips, logs and manifest), if farm made it; the plan
    /// file need not parse.
    Clean {
        /// The plan file.
        plan: PathBuf,
    },
    /// Show the detected hardware and the render settings it leads to.
    Hw {
        /// Optionally a plan, whose length and keys feed the choice.
        plan: Option<PathBuf>,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Render one frame of a clip to a PNG and print its mean brightness (a test frame).
    Frame {
        /// The plan file.
        plan: PathBuf,
        /// The clip id.
        id: String,
        /// Time within the clip, in seconds.
        #[arg(long, default_value_t = 0.0)]
        at: f64,
        /// Where to write the PNG (a name ending in .png; an existing file is replaced only
        /// by a complete frame).
        #[arg(short, long, default_value = "frame.png")]
        output: PathBuf,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// What a visualizer reacts to in an audio file: tempo, beats and per-frame features.
    Audio(AudioArgs),
    /// Internal: a worker process (started by `farm run`).
    #[command(hide = true)]
    Worker {
        /// The coordinator's IPC server name.
        #[arg(long)]
        connect: String,
    },
    /// Internal: renderer benchmark (ms/frame on one thread, no encoding).
    #[command(hide = true)]
    BenchRender(BenchArgs),
}

/// `farm audio FILE`: any file ffmpeg reads.
#[derive(Args, Debug)]
struct AudioArgs {
    /// The audio (or video) file.
    file: PathBuf,
    /// Video frames per second the features are for.
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=240))]
    fps: u32,
    /// Start this many seconds into the track.
    #[arg(long, default_value_t = 0.0, value_parser = parse_offset)]
    from: f64,
    /// Frames of video [default: as long as the track]; frames past its end are silence.
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=10_000_000))]
    frames: Option<u64>,
    /// Print one JSON object {tempo, confidence, beats, fps, features: {rms: [...], ...}}.
    #[arg(long)]
    json: bool,
    /// Keep the features in this folder and reuse them (keyed by the file's content).
    #[arg(long)]
    cache: Option<PathBuf>,
}

fn parse_offset(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("'{s}' is not a number of seconds >= 0")),
    }
}

/// Flags that choose the render settings; they override the plan's keys.
#[derive(Args, Debug, Clone, Default)]
struct SettingsArgs {
    /// Quality profile [default: the plan's, else auto].
    #[arg(long, value_enum)]
    quality: Option<QualityArg>,
    /// Aspect preset (landscape keeps the profile's size).
    #[arg(long, value_enum)]
    aspect: Option<AspectArg>,
    /// Worker processes at once [default: from CPUs and memory].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    workers: Option<u32>,
    /// Frame size WIDTHxHEIGHT; beats --aspect.
    #[arg(long, value_parser = profile::parse_resolution)]
    resolution: Option<(u32, u32)>,
    /// x264 preset (ultrafast .. veryslow) [default: the profile's].
    #[arg(long, value_parser = parse_preset)]
    preset: Option<X264Preset>,
    /// x264 CRF [default: the profile's].
    #[arg(long)]
    crf: Option<f32>,
    /// Frames per second [default: the profile's].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=240))]
    fps: Option<u32>,
}

/// `--quality`: clap's view of [`Quality`] (the help text of each value is clap's).
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
enum QualityArg {
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
enum AspectArg {
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
fn parse_preset(s: &str) -> Result<X264Preset, String> {
    X264Preset::parse(s)
}

impl SettingsArgs {
    /// The flags as they would be typed again.
    fn as_args(&self) -> Vec<String> {
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
        a
    }
}

#[derive(Args, Debug)]
struct RunArgs {
    /// The plan file.
    plan: PathBuf,
    /// Re-render only these clips (comma-separated ids); finished clips are reused; then join.
    #[arg(long, value_delimiter = ',')]
    only: Option<Vec<String>>,
    /// Keep intermediates (clips, logs, concat list); KEEP_INTERMEDIATES=1 does the same.
    #[arg(long)]
    keep: bool,
    /// Wait for another farm process working on this plan's work dir, instead of failing.
    #[arg(long)]
    wait_lock: bool,
    /// Print the clips (frame ranges, beat cuts, what would be rendered or reused) and stop:
    /// nothing is rendered, nothing is created.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    policy: PolicyArgs,
    #[command(flatten)]
    settings: SettingsArgs,
}

/// Retries and timeouts.
#[derive(Args, Debug, Clone)]
struct PolicyArgs {
    /// Retries of a failed clip, each in a fresh worker process, with backoff.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=100))]
    retries: u32,
    /// Seconds without progress after which a clip is killed and counted as failed.
    #[arg(long, default_value_t = 120.0, value_parser = parse_seconds)]
    stall_timeout: f64,
}

impl PolicyArgs {
    fn policy(&self) -> coordinator::Policy {
        coordinator::Policy {
            retries: self.retries,
            stall_timeout: std::time::Duration::from_secs_f64(self.stall_timeout),
            ..Default::default()
        }
    }
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!(
            "'{s}' is not a number of seconds between 0 and 86400"
        )),
    }
}

#[derive(Args, Debug)]
struct BenchArgs {
    /// Scene.
    #[arg(long, default_value = "plasma")]
    scene: String,
    /// Frame size.
    #[arg(long, default_value = "1920x1080", value_parser = profile::parse_resolution)]
    size: (u32, u32),
    /// Frames to time (after 3 warm-up frames).
    #[arg(long, default_value_t = 48)]
    frames: u32,
    /// Shader chain, comma-separated.
    #[arg(long, default_value = "bloom,vignette,grain")]
    shaders: String,
    /// Grid scale.
    #[arg(long, default_value_t = 1.0)]
    grid_scale: f32,
    /// Text for the quote scene.
    #[arg(long)]
    text: Option<String>,
    /// Also write the frames as raw rgb24 to this file (for the encoder-only comparison).
    #[arg(long)]
    raw_out: Option<PathBuf>,
}

/// Parse argv and run; returns the exit status.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Worker { connect } => crate::worker::main(&connect),
        Cmd::Run(a) => run::cmd_run(a),
        Cmd::Check { plan, settings } => check::cmd_check(&plan, &settings),
        Cmd::Render {
            plan,
            id,
            wait_lock,
            policy,
            settings,
        } => run::cmd_render(&plan, &id, wait_lock, &policy, &settings),
        Cmd::Status { plan, settings } => status::cmd_status(&plan, &settings),
        Cmd::Clean { plan } => clean::cmd_clean(&plan),
        Cmd::Hw { plan, settings } => hw::cmd_hw(plan.as_deref(), &settings),
        Cmd::Frame {
            plan,
            id,
            at,
            output,
            settings,
        } => frame::cmd_frame(&plan, &id, at, &output, &settings),
        Cmd::Audio(a) => audio::cmd_audio(&a),
        Cmd::BenchRender(b) => bench::cmd_bench(&b),
    }
}

fn load(plan: &Path) -> Result<Plan, i32> {
    Plan::load(plan).map_err(|e| {
        eprintln!("error: {e}");
        2
    })
}

fn overrides(plan: Option<&Plan>, a: &SettingsArgs) -> Overrides {
    Overrides {
        quality: a
            .quality
            .map(Quality::from)
            .or(plan.and_then(|p| p.quality)),
        aspect: a.aspect.map(Aspect::from).or(plan.and_then(|p| p.aspect)),
        resolution: a.resolution.or(plan.and_then(|p| p.resolution)),
        workers: a.workers.map(|w| w as usize),
        preset: a.preset.or(plan.and_then(|p| p.preset)),
        crf: a.crf.or(plan.and_then(|p| p.crf)),
        fps: a.fps.or(plan.and_then(|p| p.fps)),
    }
}

fn settings_for(
    hw: &Hardware,
    plan: Option<&Plan>,
    a: &SettingsArgs,
) -> Result<RenderSettings, String> {
    if let Some(c) = a.crf
        && !(0.0..=51.0).contains(&c)
    {
        return Err(format!("--crf {c}: must be between 0 and 51"));
    }
    let secs = plan.map(Plan::total_seconds).unwrap_or(60.0);
    let ov = overrides(plan, a);
    Ok(profile::resolve(hw, secs, &ov, |prof| {
        plan.and_then(|p| crate::calibrate::seconds_per_frame(p, prof, hw))
    }))
}

/// Plan, hardware, tools and settings, or the exit status of what went wrong (all before any
/// worker starts).
fn prepare(
    plan_path: &Path,
    a: &SettingsArgs,
) -> Result<(Plan, Hardware, Tools, RenderSettings), i32> {
    let plan = load(plan_path)?;
    let hw = Hardware::detect();
    let fail = |e: String| {
        eprintln!("error: {e}");
        2
    };
    let tools = Tools::from_hw(&hw).map_err(fail)?;
    let settings = settings_for(&hw, Some(&plan), a).map_err(fail)?;
    plan.frame_counts(settings.frame.fps)
        .map_err(|e| fail(e.to_string()))?;
    warn_memory(&hw, &settings, a);
    Ok((plan, hw, tools, settings))
}

/// `--workers N` above what memory allows is obeyed, with a warning that gives the numbers.
fn warn_memory(hw: &Hardware, s: &RenderSettings, a: &SettingsArgs) {
    if let Some(w) = profile::memory_warning(hw, s, a.workers.map(|w| w as usize)) {
        eprintln!("farm: warning: {w}");
    }
}

fn rerun_command(verb: &str, plan: &Path, a: &SettingsArgs) -> String {
    // The plan's path as bytes: one that is not UTF-8 is printed so that a shell reads it back.
    let mut words = vec![
        shell_quote("farm"),
        shell_quote(verb),
        shell_quote_os(plan.as_os_str()),
    ];
    words.extend(a.as_args().iter().map(|w| shell_quote(w)));
    words.join(" ")
}

/// The plan's soundtrack features for a command that is not a run (`farm check`, `status`,
/// `frame`): through the feature cache (`cache_use` says whether it may be written); an error
/// is printed and gives exit status 2.
fn soundtrack(
    plan: &Plan,
    s: &RenderSettings,
    hw: &Hardware,
    cache_use: crate::coordinator::soundtrack::CacheUse,
) -> Result<Option<crate::audio::Features>, i32> {
    if plan.audio.is_none() {
        return Ok(None);
    }
    let tools = crate::coordinator::Tools::from_hw(hw).map_err(|e| {
        eprintln!("error: {e}");
        2
    })?;
    let layout = crate::coordinator::Layout::of(plan);
    let mut rep = crate::report::Plain::new();
    crate::coordinator::soundtrack::features(plan, s.frame.fps, &tools, &layout, cache_use, &mut rep)
        .map_err(|e| {
            eprintln!("error: {e}");
            e.exit_code()
        })
}
