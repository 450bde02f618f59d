//! Commands -> library calls. Nothing else knows about argv.
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

use crate::coordinator::{self, RunOptions, Tools};
use crate::hw::Hardware;
use crate::media::shell_quote;
use crate::plan::Plan;
use crate::profile::{self, Aspect, Overrides, Quality, RenderSettings};
use crate::render::{self, FrameSpec, Params, Renderer, SceneSpec, ShaderLevel, ShaderSpec};
use clap::{Args, Parser, Subcommand};
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

fn cmd_audio(a: &AudioArgs) -> i32 {
    let Some(ffmpeg) = crate::hw::find_tool("ffmpeg", "FARM_FFMPEG") else {
        eprintln!(
            "error: ffmpeg not found on PATH (or in $FARM_FFMPEG); install it, e.g. `apt-get install -y ffmpeg`"
        );
        return 2;
    };
    let frames = a.frames.map(|f| f as usize);
    let result = match &a.cache {
        Some(dir) => crate::audio::cache::features_for(
            &ffmpeg, &a.file, a.from, a.fps, frames, dir,
        )
        .map(|(f, hit)| {
            eprintln!("{}", hit.log_line());
            f
        }),
        None => crate::audio::decode_and_analyse(&ffmpeg, &a.file, a.from, a.fps, frames),
    };
    match result {
        Ok(f) if a.json => {
            println!("{}", crate::audio::show::json(&f));
            0
        }
        Ok(f) => {
            print!("{}", crate::audio::show::summary(&f, &a.file));
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// Flags that choose the render settings; they override the plan's keys.
#[derive(Args, Debug, Clone, Default)]
struct SettingsArgs {
    /// Quality profile [default: the plan's, else auto].
    #[arg(long, value_enum)]
    quality: Option<Quality>,
    /// Aspect preset (landscape keeps the profile's size).
    #[arg(long, value_enum)]
    aspect: Option<Aspect>,
    /// Worker processes at once [default: from CPUs and memory].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    workers: Option<u32>,
    /// Frame size WIDTHxHEIGHT; beats --aspect.
    #[arg(long, value_parser = profile::parse_resolution)]
    resolution: Option<(u32, u32)>,
    /// x264 preset (ultrafast .. veryslow) [default: the profile's].
    #[arg(long)]
    preset: Option<String>,
    /// x264 CRF [default: the profile's].
    #[arg(long)]
    crf: Option<f32>,
    /// Frames per second [default: the profile's].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=240))]
    fps: Option<u32>,
}

impl SettingsArgs {
    /// The flags as they would be typed again.
    fn as_args(&self) -> Vec<String> {
        let mut a = Vec::new();
        if let Some(q) = self.quality {
            a.extend(["--quality".into(), format!("{q:?}").to_lowercase()]);
        }
        if let Some(x) = self.aspect {
            a.extend(["--aspect".into(), format!("{x:?}").to_lowercase()]);
        }
        if let Some(w) = self.workers {
            a.extend(["--workers".into(), w.to_string()]);
        }
        if let Some((w, h)) = self.resolution {
            a.extend(["--resolution".into(), format!("{w}x{h}")]);
        }
        if let Some(p) = &self.preset {
            a.extend(["--preset".into(), p.clone()]);
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
        Cmd::Run(a) => cmd_run(a),
        Cmd::Check { plan, settings } => cmd_check(&plan, &settings),
        Cmd::Render {
            plan,
            id,
            wait_lock,
            policy,
            settings,
        } => cmd_render(&plan, &id, wait_lock, &policy, &settings),
        Cmd::Status { plan, settings } => cmd_status(&plan, &settings),
        Cmd::Clean { plan } => cmd_clean(&plan),
        Cmd::Hw { plan, settings } => cmd_hw(plan.as_deref(), &settings),
        Cmd::Frame {
            plan,
            id,
            at,
            output,
            settings,
        } => cmd_frame(&plan, &id, at, &output, &settings),
        Cmd::Audio(a) => cmd_audio(&a),
        Cmd::BenchRender(b) => cmd_bench(&b),
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
        quality: a.quality.or(plan.and_then(|p| p.quality)),
        aspect: a.aspect.or(plan.and_then(|p| p.aspect)),
        resolution: a.resolution.or(plan.and_then(|p| p.resolution)),
        workers: a.workers.map(|w| w as usize),
        preset: a.preset.clone().or(plan.and_then(|p| p.preset.clone())),
        crf: a.crf.or(plan.and_then(|p| p.crf)),
        fps: a.fps.or(plan.and_then(|p| p.fps)),
    }
}

fn settings_for(
    hw: &Hardware,
    plan: Option<&Plan>,
    a: &SettingsArgs,
) -> Result<RenderSettings, String> {
    if let Some(p) = &a.preset
        && !crate::plan::X264_PRESETS.contains(&p.as_str())
    {
        return Err(format!(
            "--preset {p}: unknown x264 preset; one of {}",
            crate::plan::X264_PRESETS.join(", ")
        ));
    }
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
    let mut words = vec![
        "farm".to_string(),
        verb.to_string(),
        plan.display().to_string(),
    ];
    words.extend(a.as_args());
    words
        .iter()
        .map(|w| shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}

fn cmd_run(a: RunArgs) -> i32 {
    let (plan, hw, tools, settings) = match prepare(&a.plan, &a.settings) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let mut rep = crate::report::auto();
    // One start-up line: hardware and the chosen render settings.
    rep.line(&format!("{}; {}", hw.summary(), settings.summary()));
    let opts = RunOptions {
        only: a.only.clone(),
        keep: a.keep,
        rerun: rerun_command("run", &a.plan, &a.settings),
        policy: a.policy.policy(),
        wait_lock: a.wait_lock,
    };
    let t0 = std::time::Instant::now();
    match coordinator::run(&plan, &settings, &tools, &opts, rep.as_mut()) {
        Ok(s) => {
            let fps = settings.frame.fps;
            rep.line(&format!(
                "Done: {} ({} frames, {:.2} s at {fps} fps; {} clips rendered, {} reused) in {:.1} s (join {:.2} s{}){}",
                plan.output.display(),
                s.frames,
                s.frames as f64 / fps as f64,
                s.rendered,
                s.reused,
                t0.elapsed().as_secs_f64(),
                s.join_secs,
                s.startup_ms.map(|(w, r)| format!("; worker start {w:.0} ms, renderer set-up {r:.0} ms (medians)")).unwrap_or_default(),
                if s.cleaned { "" } else { "; intermediates kept" }
            ));
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

fn cmd_render(
    plan_path: &Path,
    id: &str,
    wait_lock: bool,
    policy: &PolicyArgs,
    a: &SettingsArgs,
) -> i32 {
    let (plan, hw, tools, settings) = match prepare(plan_path, a) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let mut rep = crate::report::Plain::new();
    use crate::report::Reporter;
    rep.line(&format!("{}; {}", hw.summary(), settings.summary()));
    let log = coordinator::Layout::of(&plan).log(id);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tail = crate::report::follow_log(log.clone(), stop.clone());
    let opts = RunOptions {
        rerun: rerun_command("render", plan_path, a),
        policy: policy.policy(),
        wait_lock,
        ..Default::default()
    };
    let result = coordinator::render_one(&plan, &settings, &tools, id, &opts, &mut rep);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = tail.join();
    match result {
        Ok(s) => {
            rep.line(&format!(
                "Done: clip '{id}' ({} frames) is in place; `farm run` will reuse it. Log: {}",
                s.frames,
                log.display()
            ));
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

fn cmd_status(plan_path: &Path, a: &SettingsArgs) -> i32 {
    let plan = match load(plan_path) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let hw = Hardware::detect();
    let settings = match settings_for(&hw, Some(&plan), a) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let mut rep = crate::report::Plain::new();
    let rows = match coordinator::status(&plan, &settings, &mut rep) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return e.exit_code();
        }
    };
    // A run holding the work dir's lock is alive: its clips are running, not interrupted.
    let running = coordinator::lock::WorkLock::holder(&coordinator::Layout::of(&plan));
    println!("{}", settings.summary());
    if let Some(h) = &running {
        println!(
            "a run is in progress ({}); the table shows its clips so far",
            h.describe()
        );
    }
    let pid = running
        .as_ref()
        .and_then(|h| h.pid)
        .map(|p| format!("pid {p}"))
        .unwrap_or_else(|| "pid ?".into());
    println!(
        "{:<20} {:<12} {:>8} {:>9} {:>7} {:>8}  {:<34} log",
        "clip", "state", "frames", "time", "fps", "attempts", "next run"
    );
    let mut render = Vec::new();
    for r in &rows {
        let in_flight = r
            .record
            .as_ref()
            .is_some_and(|x| x.state == crate::manifest::ClipState::Running);
        let state = match (&r.record, &r.decision) {
            (_, coordinator::Decision::Stale) => "stale".to_string(),
            _ if in_flight && running.is_some() => format!("running ({pid})"),
            // Recorded running, but no run holds the lock: that run died.
            _ if in_flight => "interrupted".to_string(),
            (Some(rec), _) => rec.state.name().to_string(),
            (None, _) => "missing".to_string(),
        };
        let next = if in_flight && running.is_some() {
            format!("(being rendered by {pid})")
        } else {
            r.decision.word()
        };
        let secs = r.record.as_ref().and_then(|x| x.seconds);
        let time = secs
            .map(|s| format!("{s:.1} s"))
            .unwrap_or_else(|| "-".into());
        let fps = secs
            .filter(|&s| s > 0.0)
            .map(|s| format!("{:.1}", r.clip.frames as f64 / s))
            .unwrap_or_else(|| "-".into());
        let attempts = r
            .record
            .as_ref()
            .map(|x| x.attempts.to_string())
            .unwrap_or_else(|| "0".into());
        let log = r
            .log
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<20} {:<12} {:>8} {:>9} {:>7} {:>8}  {:<34} {log}",
            r.clip.id, state, r.clip.frames, time, fps, attempts, next
        );
        if let Some(err) = r
            .record
            .as_ref()
            .and_then(|x| x.error.as_ref())
            .filter(|_| r.decision != coordinator::Decision::Reuse)
        {
            println!("{:<20} last error: {err}", "");
        }
        if r.decision != coordinator::Decision::Reuse {
            render.push(r.clip.id.as_str());
        }
    }
    let reuse = rows.len() - render.len();
    if render.is_empty() {
        println!(
            "next `farm run`: every clip is done; it would only join them into {}",
            plan.output.display()
        );
    } else {
        println!(
            "next `farm run`: render {} clip(s) ({}), reuse {reuse}, then join into {}",
            render.len(),
            render.join(", "),
            plan.output.display()
        );
    }
    0
}

fn cmd_check(plan_path: &Path, a: &SettingsArgs) -> i32 {
    let plan = match load(plan_path) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let hw = Hardware::detect();
    let mut bad = false;
    let tools = Tools::from_hw(&hw);
    if let Err(e) = &tools {
        eprintln!("error: {e}");
        bad = true;
    }
    let settings = match settings_for(&hw, Some(&plan), a) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let frames = match plan.frame_counts(settings.frame.fps) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if let Err(e) = coordinator::clips_of(&plan, &settings) {
        eprintln!("error: {e}");
        bad = true;
    }
    // The checks `farm run` makes before any worker starts (they create nothing).
    if let Ok(t) = &tools {
        if let Err(e) = coordinator::preflight_checks(&plan, t, &coordinator::Layout::of(&plan)) {
            eprintln!("error: {e}");
            bad = true;
        }
        if let Some(audio) = &plan.audio
            && let Ok(d) = crate::media::probe_audio(&t.ffprobe, audio)
        {
            println!("audio: {} ({d:.2} s)", audio.display());
        }
    }
    println!("{}", settings.summary());
    for (s, n) in plan.segments.iter().zip(&frames) {
        println!(
            "  {:<20} {:<12} {:>7} frames  {:.2} s",
            s.id,
            s.scene_name,
            n,
            *n as f64 / settings.frame.fps as f64
        );
    }
    // Glyph coverage: every character any clip draws, against the font chain.
    let mut missing: std::collections::BTreeMap<char, std::collections::BTreeSet<String>> =
        Default::default();
    for seg in &plan.segments {
        match render::missing_glyphs(&seg.scene) {
            Ok(list) => {
                for (c, users) in list {
                    missing
                        .entry(c)
                        .or_default()
                        .extend(users.into_iter().map(|u| format!("{u} ({})", seg.id)));
                }
            }
            Err(e) => {
                eprintln!("error: segment '{}': {e}", seg.id);
                bad = true;
            }
        }
    }
    if missing.is_empty() {
        println!("glyphs: every character has a glyph in the font chain");
    } else {
        println!(
            "glyphs: {} characters have no glyph in any font (they draw as blanks):",
            missing.len()
        );
        for (c, users) in &missing {
            println!(
                "  U+{:04X} {c:?}  used by: {}",
                *c as u32,
                users.iter().cloned().collect::<Vec<_>>().join(", ")
            );
        }
    }
    if bad {
        eprintln!("plan NOT OK: `farm run` would refuse it (see the errors above)");
        return 2;
    }
    let total: u64 = frames.iter().sum();
    warn_memory(&hw, &settings, a);
    let clips = crate::disk::video_bytes(
        settings.frame.width,
        settings.frame.height,
        total,
        settings.crf,
        &settings.preset,
    );
    let audio = plan
        .audio
        .as_ref()
        .map(|_| crate::disk::audio_bytes(total as f64 / settings.frame.fps as f64))
        .unwrap_or(0);
    let (lines, warnings) = crate::disk::report(
        clips,
        clips + audio,
        &coordinator::Layout::of(&plan).work,
        plan.output.parent().unwrap_or(Path::new("/")),
    );
    for l in lines {
        println!("{l}");
    }
    for w in warnings {
        eprintln!("farm: warning: {w}");
    }
    println!(
        "plan OK: {} segments, {total} frames -> {}",
        plan.segments.len(),
        plan.output.display()
    );
    0
}

fn cmd_clean(plan_path: &Path) -> i32 {
    use coordinator::layout::Removal;
    match coordinator::clean(plan_path) {
        Ok((layout, Removal::Nothing)) => {
            println!("nothing to clean: {} does not exist", layout.work.display());
            0
        }
        Ok((
            layout,
            Removal::Removed {
                files,
                bytes,
                farm_dir_too,
            },
        )) => {
            println!(
                "removed {} ({files} files, {:.1} MB){}",
                layout.work.display(),
                bytes as f64 / 1e6,
                if farm_dir_too {
                    format!(" and the empty {}", layout.farm_dir().display())
                } else {
                    String::new()
                }
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

fn cmd_hw(plan_path: Option<&Path>, a: &SettingsArgs) -> i32 {
    let plan = match plan_path.map(load).transpose() {
        Ok(p) => p,
        Err(c) => return c,
    };
    let hw = Hardware::detect();
    match settings_for(&hw, plan.as_ref(), a) {
        Ok(s) => {
            warn_memory(&hw, &s, a);
            println!("{}", hw.summary());
            println!("{}", s.summary());
            println!(
                "worker footprint estimate: {:.0} MB (renderer + x264 {})",
                profile::worker_footprint_mb(s.frame.width, s.frame.height, &s.preset),
                s.preset
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn cmd_frame(plan_path: &Path, id: &str, at: f64, out: &Path, a: &SettingsArgs) -> i32 {
    // Refuse a name the PNG cannot go to before anything is rendered or touched.
    if !out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"))
    {
        eprintln!(
            "error: -o {}: farm frame writes PNG only; give a file name ending in .png",
            out.display()
        );
        return 2;
    }
    if out.is_dir() {
        eprintln!("error: -o {}: is a folder", out.display());
        return 2;
    }
    let plan = match load(plan_path) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let Some(seg) = plan.segment(id) else {
        let ids: Vec<&str> = plan.segments.iter().map(|s| s.id.as_str()).collect();
        eprintln!(
            "error: the plan has no clip '{id}'; its clips are: {}",
            ids.join(", ")
        );
        return 2;
    };
    let hw = Hardware::detect();
    let s = match settings_for(&hw, Some(&plan), a) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    // The same spec `farm run` hashes and sends to the clip's worker.
    let spec = match crate::clip::specs(&plan, &s) {
        Ok(mut v) => v.swap_remove(seg.index),
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let clip_frames = spec.frames;
    let index = ((at.max(0.0) * s.frame.fps as f64).round() as u64).min(clip_frames - 1) as u32;
    let mut r = match spec.renderer() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let mut buf = vec![0u8; s.frame.width as usize * s.frame.height as usize * 3];
    for i in 0..=index {
        r.render_frame(i, &mut buf);
    }
    let mean = buf.iter().map(|&b| b as u64).sum::<u64>() as f64 / buf.len() as f64;
    let max = buf.iter().copied().max().unwrap_or(0);
    if let Err(e) = write_png(out, &buf, s.frame.width, s.frame.height) {
        eprintln!("error: cannot write {}: {e}", out.display());
        return 1;
    }
    println!(
        "{}: clip '{id}' frame {index} ({at:.2} s), mean brightness {mean:.1}, max {max}",
        out.display()
    );
    0
}

/// Write an RGB PNG to a temporary file beside `out` (tempfile: a fresh name, removed on any
/// error), then rename it over `out`: an existing file is replaced only by a complete PNG.
fn write_png(out: &Path, rgb: &[u8], width: u32, height: u32) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.partial-"))
        .suffix(".png")
        // Like any new file (the umask applies), not tempfile's private 0600.
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(|e| e.to_string())?;
    let mut w = std::io::BufWriter::new(tmp.as_file());
    image::write_buffer_with_format(
        &mut w,
        rgb,
        width,
        height,
        image::ExtendedColorType::Rgb8,
        image::ImageFormat::Png,
    )
    .map_err(|e| e.to_string())?;
    w.flush().map_err(|e| e.to_string())?;
    drop(w);
    tmp.as_file().sync_all().map_err(|e| e.to_string())?;
    tmp.persist(out).map_err(|e| e.error.to_string())?;
    Ok(())
}

fn cmd_bench(b: &BenchArgs) -> i32 {
    let frame = FrameSpec {
        width: b.size.0,
        height: b.size.1,
        fps: 24,
        grid_scale: b.grid_scale,
        shader_level: ShaderLevel::Full,
        particles_max: 1200,
    };
    let shaders = b
        .shaders
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|n| ShaderSpec {
            name: n.to_string(),
            params: Params::new(),
        })
        .collect();
    let scene = match SceneSpec::parse(&b.scene, &Params::new(), b.text.clone(), shaders) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let t0 = std::time::Instant::now();
    let mut r = match Renderer::new(&frame, &scene, 42) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let init_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let mut buf = vec![0u8; b.size.0 as usize * b.size.1 as usize * 3];
    let mut raw = b.raw_out.as_ref().map(|p| {
        std::io::BufWriter::new(std::fs::File::create(p).expect("cannot create raw output"))
    });
    for i in 0..3 {
        r.render_frame(i, &mut buf);
    }
    let before = r.timings();
    let t = std::time::Instant::now();
    let mut render_ns = 0u128;
    for i in 0..b.frames {
        let tf = std::time::Instant::now();
        r.render_frame(i, &mut buf);
        render_ns += tf.elapsed().as_nanos();
        if let Some(w) = raw.as_mut() {
            use std::io::Write;
            w.write_all(&buf).expect("cannot write raw frames");
        }
    }
    let wall = t.elapsed().as_secs_f64();
    let after = r.timings();
    let n = b.frames.max(1) as f64;
    let per = |a: u64, b: u64| (a - b) as f64 / 1e6 / n;
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    println!(
        "{{\"scene\":\"{}\",\"width\":{},\"height\":{},\"frames\":{},\"init_ms\":{:.1},\"ms_per_frame\":{:.3},\"fields_ms\":{:.3},\"blit_ms\":{:.3},\"blend_ms\":{:.3},\"shaders_ms\":{:.3},\"wall_s\":{:.3},\"max_rss_mb\":{:.1}}}",
        b.scene,
        b.size.0,
        b.size.1,
        b.frames,
        init_ms,
        render_ns as f64 / 1e6 / n,
        per(after.fields_ns, before.fields_ns),
        per(after.blit_ns, before.blit_ns),
        per(after.blend_ns, before.blend_ns),
        per(after.shaders_ns, before.shaders_ns),
        wall,
        ru.ru_maxrss as f64 / 1024.0
    );
    0
}
