//! The dispatcher: decides which clips to render, runs up to W worker processes, merges their
//! events as they complete, and joins the clips when every one succeeded.
//!
//! Workers are this same executable run as `farm worker --connect NAME`, each in its own process
//! group (its ffmpeg inherits it), so that an interrupt can stop a worker and its encoder
//! together. Each worker's events are forwarded by one thread into a single crossbeam channel;
//! a worker whose channel closes without a `Finished`/`Failed` for its clip has crashed, and the
//! clip fails with the worker's exit status or signal. The others go on.

use crate::events::{ClipJob, Handshake, ToWorker, WorkerEvent};
use crate::media::{self, EncoderSettings, Join};
use crate::plan::{Plan, PlanError};
use crate::profile::RenderSettings;
use crate::render::SceneSpec;
use crate::render::rng::clip_seed;
use crate::report::{Report, Reporter};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use ipc_channel::ipc::{IpcOneShotServer, IpcSender};
use std::collections::{HashMap, HashSet, VecDeque};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// How long a worker may take to connect after it was spawned.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long stopped workers get to exit before they are killed.
const GRACE: Duration = Duration::from_secs(3);
/// ffprobe processes at once when checking clips.
const PROBE_JOBS: usize = 8;
/// Lines of a failed clip's log shown to the user.
pub const TAIL_LINES: usize = 12;

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

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Re-render only these clips (others are reused when their files are good).
    pub only: Option<Vec<String>>,
    /// Keep intermediates (also `KEEP_INTERMEDIATES=1`).
    pub keep: bool,
    /// The command that re-runs this plan with the same settings, without `--only`
    /// (e.g. `farm run plan.yaml --quality draft`), for failure messages.
    pub rerun: String,
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
            RunError::Setup(e) => write!(f, "{e}"),
            RunError::Join(e) => write!(f, "{e}"),
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
    /// The video.
    pub output: PathBuf,
    /// Its frames.
    pub frames: u64,
    /// Clips rendered this run.
    pub rendered: usize,
    /// Clips reused from an earlier run.
    pub reused: usize,
    /// Whether intermediates were removed.
    pub cleaned: bool,
}

/// Where a plan's intermediates live.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The work dir.
    pub work: PathBuf,
}

impl Layout {
    /// The layout of a plan.
    pub fn of(plan: &Plan) -> Layout {
        Layout {
            work: plan.work_dir(),
        }
    }
    /// A clip's file.
    pub fn clip(&self, id: &str) -> PathBuf {
        self.work.join("clips").join(format!("{id}.mp4"))
    }
    /// A clip's log.
    pub fn log(&self, id: &str) -> PathBuf {
        self.work.join("logs").join(format!("{id}.log"))
    }
    /// A worker process's own stderr.
    pub fn worker_log(&self, wid: u64) -> PathBuf {
        self.work.join("logs").join(format!("worker-{wid}.stderr"))
    }
}

/// The encoder settings of a run.
pub fn encoder_settings(s: &RenderSettings) -> EncoderSettings {
    EncoderSettings {
        width: s.frame.width,
        height: s.frame.height,
        fps: s.frame.fps,
        preset: s.preset.clone(),
        crf: s.crf,
    }
}

// ---------------------------------------------------------------------------------------------
// Signals: the first SIGINT/SIGTERM stops the run gracefully, a second one kills at once.

static SIGNALS: AtomicU32 = AtomicU32::new(0);

extern "C" fn on_signal(_: libc::c_int) {
    SIGNALS.fetch_add(1, Ordering::SeqCst);
}

fn install_signal_handlers() {
    // SAFETY: the handler only touches an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
}

fn signals() -> u32 {
    SIGNALS.load(Ordering::SeqCst)
}

// ---------------------------------------------------------------------------------------------
// Workers

/// A message from a worker's forwarding thread, tagged with the worker's unique id (not its
/// slot: a slot's next worker must never receive its predecessor's last words).
enum Msg {
    Event(u64, WorkerEvent),
    Gone(u64),
}

struct Worker {
    wid: u64,
    child: Child,
    jobs: IpcSender<ToWorker>,
    busy: Option<Busy>,
}

struct Busy {
    id: String,
    started: Instant,
}

fn signal_group(child: &Child, sig: libc::c_int) {
    // Each worker leads its own process group (its ffmpeg is in it too).
    // SAFETY: kill(2) with a negative pid signals that process group; no memory is touched.
    unsafe {
        libc::kill(-(child.id() as libc::pid_t), sig);
    }
}

/// Wait for a child up to `limit`, then SIGKILL its group and reap it.
fn reap(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let t = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(st)) => return Some(st),
            Ok(None) if t.elapsed() < limit => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                signal_group(child, libc::SIGKILL);
                return child.wait().ok();
            }
        }
    }
}

fn spawn_worker(wid: u64, layout: &Layout, tx: &Sender<Msg>) -> Result<Worker, String> {
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find the farm executable: {e}"))?;
    let (server, name) = IpcOneShotServer::<Handshake>::new()
        .map_err(|e| format!("cannot create an IPC server: {e}"))?;
    let stderr = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(layout.worker_log(wid))
        .map_err(|e| format!("cannot write {}: {e}", layout.worker_log(wid).display()))?;
    let mut child = Command::new(&exe)
        .arg("worker")
        .arg("--connect")
        .arg(&name)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(stderr))
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start a worker ({}): {e}", exe.display()))?;

    // accept() has no timeout: run it on a thread, and if the worker dies (or dawdles) before
    // connecting, connect ourselves with Abort so that the thread ends.
    let (acc_tx, acc_rx) = crossbeam_channel::bounded(1);
    let acceptor = std::thread::spawn(move || {
        let _ = acc_tx.send(server.accept().map(|(_, hello)| hello));
    });
    let t0 = Instant::now();
    let outcome = loop {
        match acc_rx.recv_timeout(Duration::from_millis(10)) {
            Ok(r) => break r.map_err(|e| format!("worker handshake failed: {e:?}")),
            Err(RecvTimeoutError::Disconnected) => {
                break Err("worker handshake thread ended".to_string());
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        let dead = match child.try_wait() {
            Ok(Some(st)) => Some(format!(
                "the worker exited before connecting ({})",
                media::describe_status(&st)
            )),
            _ if t0.elapsed() > HANDSHAKE_TIMEOUT => Some(format!(
                "the worker did not connect within {} s",
                HANDSHAKE_TIMEOUT.as_secs()
            )),
            _ => None,
        };
        if let Some(why) = dead {
            if let Ok(s) = IpcSender::<Handshake>::connect(name.clone()) {
                let _ = s.send(Handshake::Abort);
            }
            let _ = acc_rx.recv_timeout(Duration::from_secs(5));
            reap(&mut child, Duration::ZERO);
            let _ = acceptor.join();
            return Err(format!("{why}; see {}", layout.worker_log(wid).display()));
        }
    };
    let _ = acceptor.join();
    match outcome {
        Ok(Handshake::Hello { jobs, events, .. }) => {
            let tx = tx.clone();
            std::thread::spawn(move || {
                while let Ok(ev) = events.recv() {
                    if tx.send(Msg::Event(wid, ev)).is_err() {
                        return;
                    }
                }
                let _ = tx.send(Msg::Gone(wid));
            });
            Ok(Worker {
                wid,
                child,
                jobs,
                busy: None,
            })
        }
        Ok(Handshake::Abort) => {
            reap(&mut child, Duration::ZERO);
            Err("worker handshake aborted".to_string())
        }
        Err(e) => {
            reap(&mut child, Duration::ZERO);
            Err(e)
        }
    }
}

fn stop_worker(mut w: Worker) {
    let _ = w.jobs.send(ToWorker::Shutdown);
    reap(&mut w.child, GRACE);
}

// ---------------------------------------------------------------------------------------------
// The run

/// Render what needs rendering, then join, verify and clean up.
pub fn run(
    plan: &Plan,
    settings: &RenderSettings,
    tools: &Tools,
    opts: &RunOptions,
    rep: &mut dyn Reporter,
) -> Result<RunSummary, RunError> {
    let frames = plan
        .frame_counts(settings.frame.fps)
        .map_err(RunError::Plan)?;
    let layout = Layout::of(plan);
    let enc = encoder_settings(settings);
    preflight(plan, tools, &layout)?;

    // Which clips to render.
    let only: Option<HashSet<&str>> = match &opts.only {
        Some(ids) => {
            let known: HashSet<&str> = plan.segments.iter().map(|s| s.id.as_str()).collect();
            let unknown: Vec<&str> = ids
                .iter()
                .map(String::as_str)
                .filter(|i| !known.contains(i))
                .collect();
            if !unknown.is_empty() {
                let all: Vec<&str> = plan.segments.iter().map(|s| s.id.as_str()).collect();
                return Err(RunError::Setup(format!(
                    "--only names clips the plan does not have: {}; its clips are: {}",
                    unknown.join(", "),
                    all.join(", ")
                )));
            }
            Some(ids.iter().map(String::as_str).collect())
        }
        None => None,
    };
    // Clips outside --only are reused when their files check out (probed several at a time).
    let optional: Vec<usize> = match &only {
        Some(o) => plan
            .segments
            .iter()
            .filter(|s| !o.contains(s.id.as_str()))
            .map(|s| s.index)
            .collect(),
        None => Vec::new(),
    };
    let probes: Vec<(PathBuf, u64)> = optional
        .iter()
        .map(|&i| (layout.clip(&plan.segments[i].id), frames[i]))
        .collect();
    let mut reusable: HashMap<usize, Result<(), String>> = optional
        .into_iter()
        .zip(media::check_clips(
            &tools.ffprobe,
            &probes,
            &enc,
            PROBE_JOBS,
        ))
        .collect();
    let mut todo = VecDeque::new();
    let mut checked: HashSet<&str> = HashSet::new();
    for (seg, &n) in plan.segments.iter().zip(&frames) {
        match reusable.remove(&seg.index) {
            Some(Ok(())) => {
                rep.report(&Report::Reused {
                    id: seg.id.clone(),
                    frames: n,
                });
                checked.insert(seg.id.as_str());
                continue;
            }
            Some(Err(why)) => rep.line(&format!(
                "farm: {} is not in --only but must be rendered: {}",
                seg.id,
                first_line(&why)
            )),
            None => {}
        }
        // A clip being rendered has no file until it is done: an old one must not pass for it.
        remove_if_exists(&layout.clip(&seg.id)).map_err(RunError::Setup)?;
        todo.push_back(seg.index);
    }
    let reused = checked.len();

    let rendered = todo.len();
    let mut checks: HashMap<String, ClipCheck> = HashMap::new();
    if !todo.is_empty() {
        let clips: Vec<(String, u64)> = todo
            .iter()
            .map(|&i| (plan.segments[i].id.clone(), frames[i]))
            .collect();
        let workers = settings.workers.min(todo.len()).max(1);
        rep.report(&Report::Begin { clips, workers });
        let Dispatched {
            mut failed,
            checks: done,
        } = dispatch(plan, settings, tools, &layout, &frames, todo, workers, rep)?;
        checks = done;
        if !failed.is_empty() {
            // In plan order, whatever order they failed in.
            let order: HashMap<&str, usize> = plan
                .segments
                .iter()
                .map(|s| (s.id.as_str(), s.index))
                .collect();
            failed.sort_by_key(|f| order.get(f.id.as_str()).copied().unwrap_or(usize::MAX));
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
    }

    // Join.
    let total: u64 = frames.iter().sum();
    rep.report(&Report::Joining {
        clips: plan.segments.len(),
    });
    let clip_paths: Vec<PathBuf> = plan.segments.iter().map(|s| layout.clip(&s.id)).collect();
    // Every clip is checked before the join: reused ones were probed above, rendered ones as
    // they finished (while the others rendered); anything else is probed now.
    let rest: Vec<(PathBuf, u64)> = plan
        .segments
        .iter()
        .zip(&frames)
        .filter(|(s, _)| !checks.contains_key(&s.id) && !checked.contains(s.id.as_str()))
        .map(|(s, &n)| (layout.clip(&s.id), n))
        .collect();
    let mut rest = media::check_clips(&tools.ffprobe, &rest, &enc, PROBE_JOBS).into_iter();
    let checks: Vec<Result<(), String>> = plan
        .segments
        .iter()
        .map(|s| match checks.remove(&s.id) {
            Some(h) => h
                .join()
                .unwrap_or_else(|_| Err("the probe thread panicked".to_string())),
            None if checked.contains(s.id.as_str()) => Ok(()),
            None => rest.next().expect("one result per clip not yet checked"),
        })
        .collect();
    let bad: Vec<(&str, String)> = plan
        .segments
        .iter()
        .zip(checks)
        .filter_map(|(seg, r)| {
            r.err().map(|e| {
                (
                    seg.id.as_str(),
                    format!(
                        "  clip '{}' ({}): {e}",
                        seg.id,
                        layout.clip(&seg.id).display()
                    ),
                )
            })
        })
        .collect();
    if !bad.is_empty() {
        rep.finish();
        let lines: Vec<&str> = bad.iter().map(|(_, l)| l.as_str()).collect();
        let ids: Vec<&str> = bad.iter().map(|(id, _)| *id).collect();
        return Err(RunError::Join(format!(
            "{} clips cannot be joined (the concat demuxer would corrupt the video):\n{}\nre-render them with: {} --only {}",
            bad.len(),
            lines.join("\n"),
            opts.rerun,
            media::shell_quote(&ids.join(","))
        )));
    }
    let out = &plan.output;
    let out_dir = out.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(out_dir).map_err(|e| {
        RunError::Join(format!(
            "cannot create the output folder {}: {e}",
            out_dir.display()
        ))
    })?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = out
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_else(|| "mp4".into());
    let tmp = out_dir.join(format!(".{name}.partial-{}.{ext}", std::process::id()));
    let joined = media::join(&Join {
        ffmpeg: &tools.ffmpeg,
        clips: &clip_paths,
        list: &layout.work.join("concat.txt"),
        audio: plan.audio.as_deref(),
        frames: total,
        fps: settings.frame.fps,
        out: &tmp,
        log: &layout.work.join("logs").join("join.log"),
    })
    .and_then(|()| verify_output(&tools.ffprobe, &tmp, &enc, total, plan.audio.is_some()))
    .and_then(|()| {
        std::fs::rename(&tmp, out)
            .map_err(|e| format!("cannot move the video into place at {}: {e}", out.display()))
    });
    if let Err(e) = joined {
        let _ = std::fs::remove_file(&tmp);
        rep.finish();
        return Err(RunError::Join(e));
    }
    rep.finish();

    // Cleanup, only once the output is there, non-trivial and readable (the seed's rule).
    let keep = opts.keep || std::env::var("KEEP_INTERMEDIATES").is_ok_and(|v| v == "1");
    // `joined` included an ffprobe of the file now at `out` (verify_output, before the rename).
    let good = std::fs::metadata(out).is_ok_and(|m| m.len() > 1000);
    let cleaned = !keep && good && remove_work_dir(&layout.work);
    Ok(RunSummary {
        output: out.clone(),
        frames: total,
        rendered,
        reused,
        cleaned,
    })
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

fn remove_if_exists(p: &Path) -> Result<(), String> {
    match std::fs::remove_file(p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot remove the old clip {}: {e}", p.display())),
    }
}

fn remove_work_dir(work: &Path) -> bool {
    let ok = std::fs::remove_dir_all(work).is_ok();
    // `.farm/` itself goes too when no other plan uses it.
    if let Some(parent) = work.parent() {
        let _ = std::fs::remove_dir(parent);
    }
    ok
}

/// Everything that can be checked before a worker starts.
fn preflight(plan: &Plan, tools: &Tools, layout: &Layout) -> Result<(), RunError> {
    if let Some(a) = &plan.audio {
        media::probe_audio(&tools.ffprobe, a)
            .map_err(|e| RunError::Setup(format!("audio: {e}")))?;
    }
    for sub in ["clips", "logs"] {
        let d = layout.work.join(sub);
        std::fs::create_dir_all(&d).map_err(|e| {
            RunError::Setup(format!("cannot create the work dir {}: {e}", d.display()))
        })?;
    }
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

fn verify_output(
    ffprobe: &Path,
    p: &Path,
    enc: &EncoderSettings,
    frames: u64,
    audio: bool,
) -> Result<(), String> {
    let info = media::probe_video(ffprobe, p, false)?;
    if info.frames != frames {
        return Err(format!(
            "the joined video has {} frames, expected {frames}",
            info.frames
        ));
    }
    if (info.width, info.height) != (enc.width, enc.height) {
        return Err(format!(
            "the joined video is {}x{}, expected {}x{}",
            info.width, info.height, enc.width, enc.height
        ));
    }
    if audio && !info.has_audio {
        return Err("the joined video has no audio stream".to_string());
    }
    Ok(())
}

/// Give `job` to the worker in `entry`, starting a fresh one if the slot is empty. A worker
/// that cannot take the job (it died between jobs) is replaced once.
fn assign(
    entry: &mut Option<Worker>,
    job: ClipJob,
    next_wid: &mut u64,
    layout: &Layout,
    tx: &Sender<Msg>,
) -> Result<(), String> {
    let id = job.id.clone();
    let msg = ToWorker::Render(Box::new(job));
    let mut last_err = String::new();
    for _ in 0..2 {
        if entry.is_none() {
            *next_wid += 1;
            *entry = Some(
                spawn_worker(*next_wid, layout, tx)
                    .map_err(|e| format!("cannot start a worker: {e}"))?,
            );
        }
        let w = entry.as_mut().expect("just filled");
        match w.jobs.send(msg.clone()) {
            Ok(()) => {
                w.busy = Some(Busy {
                    id,
                    started: Instant::now(),
                });
                return Ok(());
            }
            Err(e) => {
                // The worker died between jobs; replace it (its Gone message will find no one).
                last_err = format!("cannot send the job to a worker: {e}");
                if let Some(w) = entry.take() {
                    stop_worker(w);
                }
            }
        }
    }
    Err(last_err)
}

/// A clip's ffprobe check, running on its own thread.
type ClipCheck = std::thread::JoinHandle<Result<(), String>>;

/// What the workers left: the clips that failed, and the checks of those that finished.
struct Dispatched {
    failed: Vec<FailedClip>,
    checks: HashMap<String, ClipCheck>,
}

#[allow(clippy::too_many_arguments)]
fn dispatch(
    plan: &Plan,
    settings: &RenderSettings,
    tools: &Tools,
    layout: &Layout,
    frames: &[u64],
    mut queue: VecDeque<usize>,
    n_workers: usize,
    rep: &mut dyn Reporter,
) -> Result<Dispatched, RunError> {
    install_signal_handlers();
    let enc = encoder_settings(settings);
    let (tx, rx): (Sender<Msg>, Receiver<Msg>) = crossbeam_channel::unbounded();
    let mut workers: Vec<Option<Worker>> = (0..n_workers).map(|_| None).collect();
    let mut failed: Vec<FailedClip> = Vec::new();
    let mut checks: HashMap<String, ClipCheck> = HashMap::new();
    let mut inflight = 0usize;
    let mut next_wid = 0u64;
    let by_id: HashMap<&str, usize> = plan
        .segments
        .iter()
        .map(|s| (s.id.as_str(), s.index))
        .collect();
    let fail = |failed: &mut Vec<FailedClip>, rep: &mut dyn Reporter, id: &str, error: String| {
        let log = layout.log(id);
        rep.report(&Report::Failed {
            id: id.to_string(),
            error: error.clone(),
        });
        failed.push(FailedClip {
            id: id.to_string(),
            error,
            tail: media::log_tail(&log, TAIL_LINES),
            log,
        });
    };

    loop {
        if signals() > 0 {
            shutdown_all(&mut workers, layout);
            rep.finish();
            return Err(RunError::Interrupted);
        }
        // Hand out work to idle slots.
        for entry in workers.iter_mut() {
            if queue.is_empty() {
                break;
            }
            if entry.as_ref().is_some_and(|w| w.busy.is_some()) {
                continue;
            }
            let idx = queue.pop_front().expect("not empty");
            let seg = &plan.segments[idx];
            let job = ClipJob {
                id: seg.id.clone(),
                index: seg.index,
                frames: frames[idx],
                seed: clip_seed(plan.seed, seg.index as u32),
                frame: settings.frame.clone(),
                scene: SceneSpec {
                    frames: frames[idx].min(u32::MAX as u64) as u32,
                    ..seg.scene.clone()
                },
                encoder: enc.clone(),
                ffmpeg: tools.ffmpeg.clone(),
                output: layout.clip(&seg.id),
                log: layout.log(&seg.id),
            };
            match assign(entry, job, &mut next_wid, layout, &tx) {
                Ok(()) => inflight += 1,
                Err(e) => fail(&mut failed, rep, &seg.id, e),
            }
        }
        if inflight == 0 && queue.is_empty() {
            break;
        }
        let msg = match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => unreachable!("we hold a sender"),
        };
        match msg {
            Msg::Event(wid, ev) => {
                let Some(slot) = slot_of(&workers, wid) else {
                    continue;
                };
                let Some(w) = workers[slot].as_mut() else {
                    continue;
                };
                let current = w.busy.as_ref().map(|b| b.id.clone());
                if current.as_deref() != Some(ev.id()) || !by_id.contains_key(ev.id()) {
                    continue; // a late event of a clip already settled
                }
                match ev {
                    WorkerEvent::Started { id } => rep.report(&Report::Started { id }),
                    WorkerEvent::Progress { id, frames } => {
                        rep.report(&Report::Progress { id, frames })
                    }
                    WorkerEvent::Finished {
                        id,
                        frames: written,
                        ..
                    } => {
                        let secs = w
                            .busy
                            .take()
                            .map(|b| b.started.elapsed().as_secs_f64())
                            .unwrap_or(0.0);
                        inflight -= 1;
                        // Probe the clip now, while the others render: at join time only the
                        // last clip's probe is left on the critical path.
                        let (ffprobe, path, enc) =
                            (tools.ffprobe.clone(), layout.clip(&id), enc.clone());
                        let expected = by_id
                            .get(id.as_str())
                            .map(|&i| frames[i])
                            .unwrap_or(written);
                        checks.insert(
                            id.clone(),
                            std::thread::spawn(move || {
                                media::probe_video(&ffprobe, &path, false)
                                    .and_then(|i| media::check_clip(&i, &enc, expected))
                            }),
                        );
                        rep.report(&Report::Finished {
                            id,
                            frames: written,
                            secs,
                        });
                    }
                    WorkerEvent::Failed { id, error, .. } => {
                        w.busy = None;
                        inflight -= 1;
                        // A fresh process for whatever comes next: no state carries over a failure.
                        if let Some(w) = workers[slot].take() {
                            stop_worker(w);
                        }
                        fail(&mut failed, rep, &id, error);
                    }
                }
            }
            Msg::Gone(wid) => {
                let Some(slot) = slot_of(&workers, wid) else {
                    continue;
                };
                let Some(mut w) = workers[slot].take() else {
                    continue;
                };
                let status = reap(&mut w.child, GRACE);
                // Whatever is left of its group (an encoder whose worker was killed) goes too.
                signal_group(&w.child, libc::SIGKILL);
                if let Some(b) = w.busy.take() {
                    inflight -= 1;
                    let how = status
                        .map(|s| media::describe_status(&s))
                        .unwrap_or_else(|| "unknown status".into());
                    let _ = std::fs::remove_file(partial(&layout.clip(&b.id)));
                    fail(
                        &mut failed,
                        rep,
                        &b.id,
                        format!("the worker process died ({how}) while rendering it"),
                    );
                }
            }
        }
    }
    for w in workers.iter_mut().filter_map(Option::take) {
        stop_worker(w);
    }
    Ok(Dispatched { failed, checks })
}

fn slot_of(workers: &[Option<Worker>], wid: u64) -> Option<usize> {
    workers
        .iter()
        .position(|w| w.as_ref().is_some_and(|w| w.wid == wid))
}

fn partial(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".partial");
    PathBuf::from(s)
}

/// Stop every worker and its encoder: SIGTERM to each process group, a grace period, then
/// SIGKILL (at once on a second signal). Partial clip files are removed.
fn shutdown_all(workers: &mut [Option<Worker>], layout: &Layout) {
    let mut live: Vec<Worker> = workers.iter_mut().filter_map(Option::take).collect();
    for w in &live {
        signal_group(&w.child, libc::SIGTERM);
    }
    let t = Instant::now();
    for w in &mut live {
        loop {
            if matches!(w.child.try_wait(), Ok(Some(_))) {
                break;
            }
            if t.elapsed() > GRACE || signals() > 1 {
                signal_group(&w.child, libc::SIGKILL);
                let _ = w.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // The worker is gone; make sure nothing of its group (its ffmpeg) lingers.
        signal_group(&w.child, libc::SIGKILL);
        if let Some(b) = &w.busy {
            let _ = std::fs::remove_file(partial(&layout.clip(&b.id)));
        }
    }
}
