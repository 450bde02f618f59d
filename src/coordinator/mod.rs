//! The coordinator: decides which clips to render (the manifest and the plan say what is
//! missing, failed or stale), runs them on worker processes ([`dispatch`]), and joins them
//! when every clip succeeded ([`join`]).
//!
//! - [`pool`]: worker processes: spawn + handshake, signals, reaping.
//! - [`dispatch`]: the event loop: assignment, retries with backoff, stall timeouts, interrupts.
//! - [`join`]: clip checks, concat + audio, verification, cleanup.
//! - [`lock`]: the work dir's lock (one farm process per work dir at a time).

pub mod dispatch;
pub mod join;
pub mod layout;
pub mod lock;
pub mod pool;

use crate::manifest::{self, ClipRecord, ClipState, Manifest};
use crate::media::{self, EncoderSettings};
use crate::plan::{Plan, PlanError};
use crate::profile::RenderSettings;
use crate::render::{FrameSpec, SceneSpec};
use crate::report::{Report, Reporter};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use dispatch::TAIL_LINES;
pub use layout::Layout;

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

/// Take the work dir's lock for a run or a render: at once, or (`wait`) after saying who
/// holds it and waiting for them.
fn take_lock(
    layout: &Layout,
    wait: bool,
    rep: &mut dyn Reporter,
) -> Result<lock::WorkLock, RunError> {
    let err = |e: lock::LockError| match e {
        lock::LockError::Interrupted => RunError::Interrupted,
        e => RunError::Setup(e.to_string()),
    };
    match lock::WorkLock::acquire(layout, lock::Wait::No) {
        Err(lock::LockError::Held { holder, .. }) if wait => {
            rep.line(&format!(
                "farm: waiting for the work dir's lock, held by {}",
                holder.describe()
            ));
            lock::WorkLock::acquire(layout, lock::Wait::Yes).map_err(err)
        }
        r => r.map_err(err),
    }
}

/// The encoder settings of a run.
pub fn encoder_settings(s: &RenderSettings) -> EncoderSettings {
    EncoderSettings {
        width: s.frame.width,
        height: s.frame.height,
        fps: s.frame.fps,
        preset: s.preset,
        crf: s.crf,
    }
}

/// One clip of the plan, with what determines it.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    /// Plan index.
    pub index: usize,
    /// Id.
    pub id: String,
    /// Frames.
    pub frames: u64,
    /// Hash of everything that determines its frames and file.
    pub hash: String,
}

#[derive(Serialize)]
struct HashInput<'a> {
    scene: &'a SceneSpec,
    frame: &'a FrameSpec,
    encoder: &'a EncoderSettings,
    seed: u64,
    fonts: &'a [String],
}

/// The clips of a plan at these settings, with their hashes.
pub fn clips_of(plan: &Plan, settings: &RenderSettings) -> Result<Vec<Clip>, RunError> {
    let frames = plan
        .frame_counts(settings.frame.fps)
        .map_err(RunError::Plan)?;
    let enc = encoder_settings(settings);
    // Fonts count by content, not by path: moving the project does not make clips stale.
    let fonts: Vec<String> = plan
        .fonts
        .iter()
        .map(|f| manifest::file_digest(f))
        .collect::<Result<_, _>>()
        .map_err(RunError::Setup)?;
    Ok(plan
        .segments
        .iter()
        .zip(frames)
        .map(|(seg, n)| {
            let scene = SceneSpec {
                frames: n.min(u32::MAX as u64) as u32,
                fonts: Vec::new(),
                ..seg.scene.clone()
            };
            let seed = crate::render::rng::clip_seed(plan.seed, seg.index as u32);
            let hash = manifest::clip_hash(&HashInput {
                scene: &scene,
                frame: &settings.frame,
                encoder: &enc,
                seed,
                fonts: &fonts,
            });
            Clip {
                index: seg.index,
                id: seg.id.clone(),
                frames: n,
                hash,
            }
        })
        .collect())
}

/// The manifest of a run, written at most once a second (and at every end), atomically.
/// Being late is safe: a clip is recorded `done` only after its file is in place, and a `done`
/// clip is always re-checked before it is reused.
pub struct ManifestWriter {
    manifest: Manifest,
    path: PathBuf,
    dirty: bool,
    last: Option<Instant>,
    warned: bool,
}

impl ManifestWriter {
    /// Write to `path`, starting from `manifest`.
    pub fn new(manifest: Manifest, path: PathBuf) -> ManifestWriter {
        ManifestWriter {
            manifest,
            path,
            dirty: true,
            last: None,
            warned: false,
        }
    }

    /// Set a clip's state and let `f` adjust its record.
    pub fn set(&mut self, clip: &Clip, state: ClipState, f: impl FnOnce(&mut ClipRecord)) {
        f(self.manifest.set(&clip.id, &clip.hash, clip.frames, state));
        self.dirty = true;
    }

    /// The record of a clip.
    pub fn get(&self, id: &str) -> Option<&ClipRecord> {
        self.manifest.clips.get(id)
    }

    /// Write if something changed and (`force` or a second has passed). A failure is reported
    /// once (the old manifest stays, which only makes the next run re-check more).
    pub fn flush(&mut self, force: bool, rep: &mut dyn Reporter) {
        if !self.dirty
            || (!force
                && self
                    .last
                    .is_some_and(|t| t.elapsed() < Duration::from_secs(1)))
        {
            return;
        }
        match self.manifest.save(&self.path) {
            Ok(()) => {
                self.dirty = false;
                self.last = Some(Instant::now());
            }
            Err(e) => {
                if !self.warned {
                    rep.line(&format!(
                        "farm: warning: {e}; the next run will re-check these clips"
                    ));
                    self.warned = true;
                }
            }
        }
    }
}

fn medians(xs: &[(f64, f64)]) -> Option<(f64, f64)> {
    let med = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (!xs.is_empty()).then(|| {
        (
            med(xs.iter().map(|x| x.0).collect()),
            med(xs.iter().map(|x| x.1).collect()),
        )
    })
}

/// Why a clip will be rendered, or that it will be reused.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Done, unchanged, and its file checks out.
    Reuse,
    /// Named with `--only` (or `farm render`).
    Forced,
    /// Never rendered (or its record is gone).
    Missing,
    /// The plan or settings changed since it was rendered.
    Stale,
    /// It failed last time.
    Failed,
    /// An earlier run stopped while rendering it.
    Interrupted,
    /// Recorded done, but its file does not check out (the reason).
    Unverified(String),
}

impl Decision {
    /// A short word for tables and lines.
    pub fn word(&self) -> String {
        match self {
            Decision::Reuse => "reuse".into(),
            Decision::Forced => "render (asked for)".into(),
            Decision::Missing => "render (missing)".into(),
            Decision::Stale => "render (stale: inputs changed)".into(),
            Decision::Failed => "render (failed last time)".into(),
            Decision::Interrupted => "render (interrupted)".into(),
            Decision::Unverified(why) => format!("render (file does not check out: {why})"),
        }
    }
}

/// Decide for each clip. `verify` checks the files of clips recorded done and unchanged
/// (ffprobe for a run; a cheaper look for `farm status`).
fn decide(
    clips: &[Clip],
    manifest: &Manifest,
    forced: &HashSet<&str>,
    verify: impl Fn(&[&Clip]) -> Vec<Result<(), String>>,
) -> Vec<Decision> {
    let mut out: Vec<Decision> = clips
        .iter()
        .map(|c| {
            if forced.contains(c.id.as_str()) {
                return Decision::Forced;
            }
            match manifest.clips.get(&c.id) {
                None => Decision::Missing,
                Some(r) if r.hash != c.hash => Decision::Stale,
                Some(r) => match r.state {
                    ClipState::Done => Decision::Reuse,
                    ClipState::Failed => Decision::Failed,
                    ClipState::Running | ClipState::Interrupted => Decision::Interrupted,
                    ClipState::Pending => Decision::Missing,
                },
            }
        })
        .collect();
    let candidates: Vec<&Clip> = clips
        .iter()
        .zip(&out)
        .filter(|(_, d)| **d == Decision::Reuse)
        .map(|(c, _)| c)
        .collect();
    let mut results = verify(&candidates).into_iter();
    for d in out.iter_mut().filter(|d| **d == Decision::Reuse) {
        if let Some(Err(why)) = results.next() {
            *d = Decision::Unverified(why);
        }
    }
    out
}

/// Check the files of clips recorded done against their records ([`manifest::verify_file`]):
/// size, and with `hash_contents` the digest too (a few files at a time).
fn verify_files(
    layout: &Layout,
    m: &Manifest,
    cands: &[&Clip],
    hash_contents: bool,
) -> Vec<Result<(), String>> {
    let mut out = vec![Ok(()); cands.len()];
    for (chunk_in, chunk_out) in cands.chunks(4).zip(out.chunks_mut(4)) {
        std::thread::scope(|scope| {
            for (c, slot) in chunk_in.iter().zip(chunk_out.iter_mut()) {
                scope.spawn(move || {
                    *slot = match m.clips.get(&c.id) {
                        Some(r) => manifest::verify_file(&layout.clip(&c.id), r, hash_contents),
                        None => Err("no record".to_string()),
                    }
                });
            }
        });
    }
    out
}

/// Load the manifest; a damaged one is set aside (with a warning) and a fresh one begins.
fn load_manifest(layout: &Layout, rep: &mut dyn Reporter) -> Manifest {
    let path = layout.manifest();
    match Manifest::load(&path) {
        Ok(Some(m)) => m,
        Ok(None) => Manifest::default(),
        Err(e) => {
            let aside = Manifest::quarantine(&path)
                .map(|p| format!(" (kept as {})", p.display()))
                .unwrap_or_default();
            rep.line(&format!("farm: warning: {e}{aside}; starting a fresh manifest: every clip will be rendered again"));
            Manifest::default()
        }
    }
}

/// Everything that can be checked before a worker starts, creating nothing (`farm check`
/// runs exactly these checks; `farm run` runs them, then [`prepare`]).
pub fn preflight_checks(plan: &Plan, tools: &Tools, layout: &Layout) -> Result<(), RunError> {
    // User fonts must load here, not in a worker.
    if let Some(seg) = plan.segments.first().filter(|_| !plan.fonts.is_empty()) {
        crate::render::missing_glyphs(&seg.scene)
            .map_err(|e| RunError::Setup(format!("fonts: {e}")))?;
    }
    if let Some(a) = &plan.audio {
        media::probe_audio(&tools.ffprobe, a).map_err(|e| match crate::procs::signals() {
            0 => RunError::Setup(format!("audio: {e}")),
            _ => RunError::Interrupted,
        })?;
    }
    layout.check_creatable().map_err(RunError::Setup)?;
    let out_dir = plan.output.parent().unwrap_or(Path::new("/"));
    layout::writable(out_dir).map_err(|e| RunError::Setup(format!("the output folder: {e}")))?;
    Ok(())
}

/// Mark the work dir as farm's, create its folders and the output's folder. Called with the
/// work dir's lock held ([`lock_work_dir`]).
fn prepare(plan: &Plan, layout: &Layout) -> Result<(), RunError> {
    layout.init(&plan.path).map_err(RunError::Setup)?;
    let out_dir = plan.output.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(out_dir).map_err(|e| {
        RunError::Setup(format!(
            "cannot create the output folder {}: {e}",
            out_dir.display()
        ))
    })?;
    let probe = out_dir.join(format!(".farm-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| {
        RunError::Setup(format!(
            "the output folder {} is not writable: {e}",
            out_dir.display()
        ))
    })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Everything that can be checked before a worker starts; then the work dir is created (a
/// fresh child of `.farm/`, or one farm made), its lock taken (before anything inside it is
/// touched), and it is prepared. The lock is held until the returned guard drops.
fn preflight(
    plan: &Plan,
    tools: &Tools,
    layout: &Layout,
    wait_lock: bool,
    rep: &mut dyn Reporter,
) -> Result<lock::WorkLock, RunError> {
    preflight_checks(plan, tools, layout)?;
    let lock = lock_work_dir(layout, wait_lock, rep)?;
    prepare(plan, layout)?;
    Ok(lock)
}

/// Create the work dir's root (refusing a symlinked or foreign one) and take its lock.
fn lock_work_dir(
    layout: &Layout,
    wait: bool,
    rep: &mut dyn Reporter,
) -> Result<lock::WorkLock, RunError> {
    layout.create_root().map_err(RunError::Setup)?;
    take_lock(layout, wait, rep)
}

/// `farm clean plan.yaml`: remove the plan's work dir, if farm made it (its marker), and
/// `.farm/` when that leaves it empty. The plan file need not parse.
pub fn clean(plan_path: &Path) -> Result<(Layout, layout::Removal), RunError> {
    let layout = Layout::for_plan_file(plan_path);
    if std::fs::symlink_metadata(&layout.work).is_err() {
        return Ok((layout, layout::Removal::Nothing));
    }
    // Only a work dir farm made gets a lock file; then no run may lose it mid-way.
    layout.check_ours().map_err(RunError::Setup)?;
    let _lock = match lock::WorkLock::acquire(&layout, lock::Wait::No) {
        Ok(l) => l,
        Err(lock::LockError::Held { holder, .. }) => {
            return Err(RunError::Setup(format!(
                "a run is in progress in {} ({}); not removed",
                layout.work.display(),
                holder.describe()
            )));
        }
        Err(e) => return Err(RunError::Setup(e.to_string())),
    };
    let removal = layout.remove().map_err(RunError::Setup)?;
    Ok((layout, removal))
}

fn check_ids<'a>(plan: &Plan, ids: &'a [String]) -> Result<HashSet<&'a str>, RunError> {
    let known: HashSet<&str> = plan.segments.iter().map(|s| s.id.as_str()).collect();
    let unknown: Vec<&str> = ids
        .iter()
        .map(String::as_str)
        .filter(|i| !known.contains(i))
        .collect();
    if !unknown.is_empty() {
        let all: Vec<&str> = plan.segments.iter().map(|s| s.id.as_str()).collect();
        return Err(RunError::Setup(format!(
            "no clip named {} in the plan; its clips are: {}",
            unknown.join(", "),
            all.join(", ")
        )));
    }
    Ok(ids.iter().map(String::as_str).collect())
}

/// Render what is missing, failed or stale (plus `--only` clips), then join, verify and clean up.
pub fn run(
    plan: &Plan,
    settings: &RenderSettings,
    tools: &Tools,
    opts: &RunOptions,
    rep: &mut dyn Reporter,
) -> Result<RunSummary, RunError> {
    let clips = clips_of(plan, settings)?;
    let forced = match &opts.only {
        Some(ids) => check_ids(plan, ids)?,
        None => HashSet::new(),
    };
    let layout = Layout::of(plan);
    crate::procs::install_signal_handlers();
    pool::open_self_exe().map_err(RunError::Setup)?;
    let _lock = preflight(plan, tools, &layout, opts.wait_lock, rep)?;
    for (p, pid) in join::remove_stale_partials(&plan.output) {
        rep.line(&format!(
            "farm: removed {}, left by the join of farm process {pid}, which is gone",
            p.display()
        ));
    }
    let Rendered {
        failed: todo,
        reused,
        checks,
        mut manifest,
        startup_ms,
    } = render_clips(
        plan,
        settings,
        tools,
        &layout,
        &clips,
        &forced,
        false,
        &opts.policy,
        rep,
    )?;
    if let Some(failed) = todo {
        let ids: Vec<&str> = failed.iter().map(|f| f.id.as_str()).collect();
        let rerun = format!(
            "{} --only {}",
            opts.rerun,
            media::shell_quote(&ids.join(","))
        );
        rep.finish();
        return Err(RunError::Failed {
            clips: failed,
            rerun,
        });
    }
    rep.report(&Report::Joining { clips: clips.len() });
    let t_join = Instant::now();
    let joined = join::join(
        plan,
        &clips,
        tools,
        &layout,
        &encoder_settings(settings),
        checks,
        &opts.rerun,
        opts.policy.stall_timeout,
        &mut manifest,
    );
    rep.finish();
    if let Err(e) = joined {
        manifest.flush(true, rep);
        return Err(e);
    }
    let keep = opts.keep || std::env::var("KEEP_INTERMEDIATES").is_ok_and(|v| v == "1");
    let cleaned = !keep
        && match join::cleanup(&plan.output, &layout) {
            Ok(()) => true,
            Err(e) => {
                rep.line(&format!("farm: warning: intermediates kept: {e}"));
                false
            }
        };
    Ok(RunSummary {
        output: Some(plan.output.clone()),
        frames: clips.iter().map(|c| c.frames).sum(),
        rendered: clips.len() - reused,
        reused,
        cleaned,
        join_secs: t_join.elapsed().as_secs_f64(),
        startup_ms: medians(&startup_ms),
    })
}

/// `farm render plan ID`: render one clip (always), record it, do not join.
pub fn render_one(
    plan: &Plan,
    settings: &RenderSettings,
    tools: &Tools,
    id: &str,
    opts: &RunOptions,
    rep: &mut dyn Reporter,
) -> Result<RunSummary, RunError> {
    let clips = clips_of(plan, settings)?;
    let ids = [id.to_string()];
    let forced = check_ids(plan, &ids)?;
    let layout = Layout::of(plan);
    crate::procs::install_signal_handlers();
    pool::open_self_exe().map_err(RunError::Setup)?;
    let _lock = preflight(plan, tools, &layout, opts.wait_lock, rep)?;
    let only: Vec<Clip> = clips.iter().filter(|c| c.id == id).cloned().collect();
    // Decide only for this clip; the others are left as they are.
    let Rendered { failed, checks, .. } = render_clips(
        plan,
        settings,
        tools,
        &layout,
        &clips,
        &forced,
        true,
        &opts.policy,
        rep,
    )?;
    rep.finish();
    if let Some(failed) = failed {
        return Err(RunError::Failed {
            clips: failed,
            rerun: format!("{} {}", opts.rerun, media::shell_quote(id)),
        });
    }
    if let Some(Err(e)) = checks.get(id) {
        return Err(RunError::Join(format!(
            "clip '{id}' finished but does not check out: {e}"
        )));
    }
    Ok(RunSummary {
        output: None,
        frames: only.iter().map(|c| c.frames).sum(),
        rendered: 1,
        reused: 0,
        cleaned: false,
        join_secs: 0.0,
        startup_ms: None,
    })
}

/// What rendering left: failures (None when every clip rendered), reuse count, ffprobe checks
/// of finished clips, the manifest, and start-up times (worker spawn + handshake, renderer set-up).
struct Rendered {
    failed: Option<Vec<FailedClip>>,
    reused: usize,
    checks: HashMap<String, Result<(), String>>,
    manifest: ManifestWriter,
    startup_ms: Vec<(f64, f64)>,
}

/// Decide, then render what must be rendered. For `farm run` every clip not reused is rendered;
/// with `only_forced` (`farm render`) only the forced clips, and the others are left alone.
#[allow(clippy::too_many_arguments)]
fn render_clips(
    plan: &Plan,
    settings: &RenderSettings,
    tools: &Tools,
    layout: &Layout,
    clips: &[Clip],
    forced: &HashSet<&str>,
    only_forced: bool,
    policy: &Policy,
    rep: &mut dyn Reporter,
) -> Result<Rendered, RunError> {
    let mut m = load_manifest(layout, rep);
    // Records of clips the plan no longer has are dropped.
    let ids: HashSet<&str> = clips.iter().map(|c| c.id.as_str()).collect();
    m.clips.retain(|id, _| ids.contains(id.as_str()));
    // A done clip passed ffprobe when it was rendered; it is reused only while its file is
    // byte for byte that file (size and BLAKE3 as recorded).
    let decisions = decide(clips, &m, forced, |cands| {
        verify_files(layout, &m, cands, true)
    });
    if crate::procs::signals() > 0 {
        return Err(RunError::Interrupted); // the probes were stopped: their verdicts mean nothing
    }
    let mut manifest = ManifestWriter::new(m, layout.manifest());
    let mut todo = Vec::new();
    let mut checks = HashMap::new();
    let mut reused = 0;
    for (c, d) in clips.iter().zip(&decisions) {
        if only_forced && *d != Decision::Forced {
            continue; // farm render: leave the other clips alone
        }
        if *d == Decision::Reuse {
            rep.report(&Report::Reused {
                id: c.id.clone(),
                frames: c.frames,
            });
            checks.insert(c.id.clone(), Ok(()));
            reused += 1;
            continue;
        }
        if !matches!(d, Decision::Forced | Decision::Missing) {
            rep.line(&format!("farm: {}: {}", c.id, d.word()));
        }
        // A clip being rendered has no file until it is done: an old one must not pass for it.
        let old = layout.clip(&c.id);
        match std::fs::remove_file(&old) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(RunError::Setup(format!(
                    "cannot remove the old clip {}: {e}",
                    old.display()
                )));
            }
        }
        manifest.set(c, ClipState::Pending, |_| {});
        todo.push(c.index);
    }
    manifest.flush(true, rep);
    if todo.is_empty() {
        return Ok(Rendered {
            failed: None,
            reused,
            checks,
            manifest,
            startup_ms: Vec::new(),
        });
    }
    let list: Vec<(String, u64)> = todo
        .iter()
        .map(|&i| (clips[i].id.clone(), clips[i].frames))
        .collect();
    rep.report(&Report::Begin {
        clips: list,
        workers: settings.workers.min(todo.len()).max(1),
    });
    let cx = dispatch::Context {
        plan,
        settings,
        tools,
        layout,
        clips,
        policy,
    };
    let out = dispatch::dispatch(&cx, todo, &mut manifest, rep);
    if out.interrupted {
        rep.finish();
        return Err(RunError::Interrupted);
    }
    checks.extend(out.checks);
    let failed = if out.failed.is_empty() {
        None
    } else {
        let mut f = out.failed;
        // In plan order, whatever order they failed in.
        let order: HashMap<&str, usize> = clips.iter().map(|c| (c.id.as_str(), c.index)).collect();
        f.sort_by_key(|x| order.get(x.id.as_str()).copied().unwrap_or(usize::MAX));
        Some(f)
    };
    Ok(Rendered {
        failed,
        reused,
        checks,
        manifest,
        startup_ms: out.startup_ms,
    })
}

/// One row of `farm status`.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusRow {
    /// The clip.
    pub clip: Clip,
    /// Its record, if any.
    pub record: Option<ClipRecord>,
    /// What the next `farm run` would do with it.
    pub decision: Decision,
    /// Its log, if it exists.
    pub log: Option<PathBuf>,
}

/// What the manifest and the files say about each clip, and what the next run would do.
/// Files are checked for presence and their recorded size only (a run also checks their digest).
pub fn status(
    plan: &Plan,
    settings: &RenderSettings,
    rep: &mut dyn Reporter,
) -> Result<Vec<StatusRow>, RunError> {
    let clips = clips_of(plan, settings)?;
    let layout = Layout::of(plan);
    let m = if layout.manifest().exists() {
        match Manifest::load(&layout.manifest()) {
            Ok(m) => m.unwrap_or_default(),
            Err(e) => {
                rep.line(&format!(
                    "farm: warning: {e}; the next run will set it aside and render every clip"
                ));
                Manifest::default()
            }
        }
    } else {
        Manifest::default()
    };
    let decisions = decide(&clips, &m, &HashSet::new(), |cands| {
        verify_files(&layout, &m, cands, false)
    });
    Ok(clips
        .into_iter()
        .zip(decisions)
        .map(|(c, decision)| {
            let log = Some(layout.log(&c.id)).filter(|p| p.exists());
            StatusRow {
                record: m.clips.get(&c.id).cloned(),
                clip: c,
                decision,
                log,
            }
        })
        .collect())
}
