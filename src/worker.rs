//! The executor: a worker process renders one clip at a time (renderer + its own ffmpeg
//! encoder) and speaks only events. It never draws progress and never decides what to render.
//!
//! Started by the coordinator as `farm worker --connect NAME`; it connects to the coordinator's
//! one-shot server, hands over a job sender and an event receiver, then serves jobs until told
//! to shut down or until the coordinator goes away (a failed send or receive), in which case it
//! stops its encoder and exits: a worker never outlives its coordinator's interest.

use crate::events::{Brightness, ClipJob, ClipTimings, Handshake, ToWorker, WorkerEvent};
use crate::media::{self, Encoder, QueuedEncoder};
use crate::render::Renderer;
use ipc_channel::ipc::{self, IpcSender};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Minimum time between two progress events of a clip.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Test hook: `FARM_FAULT=<clip id>:<kind>` makes that clip fail on purpose, so that the
/// end-to-end tests can exercise real failures of real processes. Kinds: `panic` (the worker
/// panics), `exit` (the worker exits with status 3), `kill-encoder` (the worker's ffmpeg is
/// SIGKILLed mid-clip), `abort` (SIGABRT), `hang` (stop sending progress), `slow` (40 ms more
/// per frame from frame N on, so that a test can act mid-clip), `unbuildable` (the scene cannot
/// be built: a failure retrying cannot fix). A kind may end in `@N` to strike at frame N
/// (default: half-way; `slow` from frame 0).
pub const FAULT_ENV: &str = "FARM_FAULT";

/// Test hook: `FARM_FAULT_CONNECT=exit` makes a worker exit (status 3) before it connects, to
/// prove that the coordinator does not wait forever in `accept()`.
pub const FAULT_CONNECT_ENV: &str = "FARM_FAULT_CONNECT";

/// The clip log that a panic should be appended to.
static CURRENT_LOG: Mutex<Option<PathBuf>> = Mutex::new(None);
/// The running encoder's pid (0: none), so that a panic stops it before it buries the panic
/// message under its closing statistics.
static ENCODER_PID: AtomicU32 = AtomicU32::new(0);

/// Entry point of `farm worker --connect NAME`; returns the process exit code.
pub fn main(server: &str) -> i32 {
    install_panic_hook();
    if std::env::var(FAULT_CONNECT_ENV).is_ok_and(|v| v == "exit") {
        std::process::exit(3);
    }
    let boot = match IpcSender::<Handshake>::connect(server.to_string()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("farm worker: cannot connect to the coordinator ({server}): {e}");
            return 2;
        }
    };
    let (jobs_tx, jobs_rx) = match ipc::channel::<ToWorker>() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("farm worker: cannot create a channel: {e}");
            return 2;
        }
    };
    let (events_tx, events_rx) = match ipc::channel::<WorkerEvent>() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("farm worker: cannot create a channel: {e}");
            return 2;
        }
    };
    if boot
        .send(Handshake::Hello {
            pid: std::process::id(),
            jobs: jobs_tx,
            events: events_rx,
        })
        .is_err()
    {
        eprintln!("farm worker: the coordinator went away during the handshake");
        return 2;
    }
    drop(boot);
    loop {
        match jobs_rx.recv() {
            Ok(ToWorker::Render(job)) => {
                if run_clip(&job, &events_tx).is_err() {
                    // The coordinator is gone: nothing left to do.
                    return 1;
                }
            }
            Ok(ToWorker::Shutdown) => return 0,
            Err(_) => return 1,
        }
    }
}

fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let pid = ENCODER_PID.swap(0, Ordering::SeqCst);
        if pid != 0 {
            crate::procs::signal_process(pid, crate::procs::Signal::KILL);
        }
        if let Some(log) = CURRENT_LOG.lock().ok().and_then(|g| g.clone()) {
            use std::io::Write;
            if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(&log) {
                let _ = writeln!(f, "farm worker {}: panic: {info}", std::process::id());
            }
        }
        default(info);
    }));
}

/// The coordinator stopped listening.
struct Gone;

#[derive(Clone, Copy)]
enum Fault {
    Panic,
    Exit,
    KillEncoder,
    Abort,
    Hang,
    Slow,
    Unbuildable,
}

fn fault_for(id: &str, frames: u64) -> Option<(Fault, u64)> {
    let spec = std::env::var(FAULT_ENV).ok()?;
    spec.split(';').find_map(|one| {
        let (fid, kind) = one.rsplit_once(':')?;
        if fid != id {
            return None;
        }
        let (kind, at) = match kind.split_once('@') {
            Some((k, n)) => (k, n.parse().ok()?),
            None if kind == "slow" => (kind, 0),
            None => (kind, frames / 2),
        };
        let f = match kind {
            "panic" => Fault::Panic,
            "exit" => Fault::Exit,
            "kill-encoder" => Fault::KillEncoder,
            "abort" => Fault::Abort,
            "hang" => Fault::Hang,
            "slow" => Fault::Slow,
            "unbuildable" => Fault::Unbuildable,
            _ => return None,
        };
        Some((f, at))
    })
}

/// Strike with an injected fault (see [`FAULT_ENV`]).
fn inject(f: Fault, frame: u64, encoder_pid: u32) {
    match f {
        Fault::Panic => panic!("injected fault ({FAULT_ENV}) at frame {frame}"),
        Fault::Exit => std::process::exit(3),
        Fault::Abort => std::process::abort(),
        // SAFETY: kill(2) on our own child's pid; no memory is touched.
        Fault::KillEncoder => crate::procs::signal_process(encoder_pid, crate::procs::Signal::KILL),
        Fault::Hang => std::thread::sleep(Duration::from_secs(3600)),
        Fault::Slow | Fault::Unbuildable => {}
    }
}

fn append_log(log: &Path, msg: &str) {
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(log)
    {
        let _ = writeln!(f, "farm worker {}: {msg}", std::process::id());
    }
}

/// How a clip talks back: events to the coordinator, failures also into the clip's log.
struct Reply<'a> {
    job: &'a ClipJob,
    events: &'a IpcSender<WorkerEvent>,
}

impl Reply<'_> {
    fn send(&self, ev: WorkerEvent) -> Result<(), Gone> {
        self.events.send(ev).map_err(|_| Gone)
    }

    fn fail(&self, error: String, retryable: bool) -> Result<(), Gone> {
        append_log(
            &self.job.log,
            &format!("clip '{}' failed: {error}", self.job.spec.id),
        );
        self.send(WorkerEvent::Failed {
            id: self.job.spec.id.clone(),
            error,
            retryable,
        })
    }
}

/// Resource use of this process (`RUSAGE_SELF`) or of its reaped children (`RUSAGE_CHILDREN`):
/// (CPU ms, user + system; peak RSS KiB).
fn usage(who: libc::c_int) -> (f64, u64) {
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we own.
    unsafe { libc::getrusage(who, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 * 1000.0 + tv.tv_usec as f64 / 1000.0;
    (t(ru.ru_utime) + t(ru.ru_stime), ru.ru_maxrss.max(0) as u64)
}

fn run_clip(job: &ClipJob, events: &IpcSender<WorkerEvent>) -> Result<(), Gone> {
    let reply = Reply { job, events };
    let t0 = Instant::now();
    *CURRENT_LOG.lock().unwrap_or_else(|e| e.into_inner()) = Some(job.log.clone());
    let tmp = job.partial.clone();
    // The encoder first: ffmpeg's own start-up (loading its libraries, tens of milliseconds)
    // then overlaps building the renderer (the glyph atlas, the scene's caches).
    let enc = match Encoder::spawn(&job.ffmpeg, &job.spec.encoder, &tmp, &job.log) {
        Ok(e) => e,
        Err(e) => {
            // A missing or unrunnable program does not get better by retrying.
            let lasting = matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
            ) || e.raw_os_error() == Some(libc::ENOEXEC);
            return reply.fail(format!("ffmpeg could not start: {e}"), !lasting);
        }
    };
    ENCODER_PID.store(enc.pid(), Ordering::SeqCst);
    let t_init = Instant::now();
    let built = match fault_for(&job.spec.id, job.spec.frames) {
        Some((Fault::Unbuildable, _)) => {
            Err(format!("injected fault ({FAULT_ENV}): unbuildable scene"))
        }
        _ => job.spec.renderer(),
    };
    let mut renderer = match built {
        Ok(r) => r,
        Err(e) => {
            enc.kill();
            ENCODER_PID.store(0, Ordering::SeqCst);
            let _ = std::fs::remove_file(&tmp);
            let _ = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&job.log)
                .and_then(|mut f| {
                    use std::io::Write;
                    writeln!(f, "farm worker: cannot build the scene: {e}")
                });
            return reply.fail(format!("cannot build the scene: {e}"), false);
        }
    };
    let init_ms = ms(t_init.elapsed());
    let result = encode_frames(job, &mut renderer, enc, &tmp, events, t0, init_ms);
    ENCODER_PID.store(0, Ordering::SeqCst);
    *CURRENT_LOG.lock().unwrap_or_else(|e| e.into_inner()) = None;
    result
}

/// Frames queued between the renderer and the encoder's writer thread.
const QUEUE_DEPTH: usize = 3;

/// Render every frame into the encoder, finish the file and move it into place.
fn encode_frames(
    job: &ClipJob,
    renderer: &mut Renderer,
    enc: Encoder,
    tmp: &Path,
    events: &IpcSender<WorkerEvent>,
    t0: Instant,
    init_ms: f64,
) -> Result<(), Gone> {
    let reply = Reply { job, events };
    let (cpu0, _) = usage(libc::RUSAGE_SELF);
    let (children0, _) = usage(libc::RUSAGE_CHILDREN);
    reply.send(WorkerEvent::Started {
        id: job.spec.id.clone(),
    })?;
    let fault = fault_for(&job.spec.id, job.spec.frames);
    let (mut render_ms, mut write_ms) = (0.0, 0.0);
    let mut last_progress = Instant::now();
    // A crossfade from a stateful scene simulates the clip before first, and a chunk of a
    // stateful scene replays the frames before its first: say "0 frames" while they do, so
    // that the stall timeout counts time without events, not a long catch-up.
    let t = Instant::now();
    let mut gone = false;
    let first = u32::try_from(job.spec.first).unwrap_or(u32::MAX);
    let mut rgb = vec![0u8; renderer.frame_len()];
    let mut tick = |_, _| {
        if !gone && last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            gone = reply
                .send(WorkerEvent::Progress {
                    id: job.spec.id.clone(),
                    frames: 0,
                })
                .is_err();
        }
        !gone
    };
    renderer.catch_up(&mut tick);
    renderer.replay_to(first, &mut rgb, &mut tick);
    render_ms += ms(t.elapsed());
    if gone {
        enc.kill();
        let _ = std::fs::remove_file(tmp);
        return Err(Gone);
    }
    let mut brightness = Vec::with_capacity(3);
    let queue = QueuedEncoder::new(enc, QUEUE_DEPTH);
    let mut stopped_at = None;
    let enc_settings = &job.spec.encoder;
    let (w, h) = (enc_settings.width as usize, enc_settings.height as usize);
    let matrix = enc_settings.matrix();
    for i in 0..job.spec.frames {
        match fault {
            Some((Fault::Slow, from)) if i >= from => std::thread::sleep(Duration::from_millis(40)),
            Some((f, at)) if i == at => inject(f, i, queue.pid()),
            _ => {}
        }
        let tw = Instant::now();
        let Some(mut buf) = queue.buffer() else {
            stopped_at = Some(i);
            break;
        };
        let t = Instant::now();
        write_ms += ms(t - tw);
        // The encoder reads yuv420p: converted here (fused with the renderer's last pass),
        // not by ffmpeg's swscale.
        let mut yuv = crate::render::yuv::Yuv420p::new(&mut buf, w, h, matrix);
        renderer.render_frame_yuv(first.saturating_add(i as u32), &mut rgb, &mut yuv);
        render_ms += ms(t.elapsed());
        if i == 0 || i == job.spec.frames / 2 || i + 1 == job.spec.frames {
            brightness.push(Brightness::of(i, &rgb));
        }
        if !queue.submit(buf) {
            stopped_at = Some(i);
            break;
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            let progress = WorkerEvent::Progress {
                id: job.spec.id.clone(),
                frames: i + 1,
            };
            if reply.send(progress).is_err() {
                let (enc, _) = queue.close();
                enc.kill();
                let _ = std::fs::remove_file(tmp);
                return Err(Gone);
            }
        }
    }
    let td = Instant::now();
    let (enc, written) = queue.close();
    if let Err(e) = written {
        let status = enc.wait_dead();
        let _ = std::fs::remove_file(tmp);
        if let Some(why) = status.and_then(|s| media::never_started(&s, &job.log)) {
            return reply.fail(format!("ffmpeg could not start: {why}"), false);
        }
        let st = status
            .map(|s| media::describe_status(&s))
            .unwrap_or_else(|| "unknown status".into());
        let at = stopped_at
            .map(|i| format!(" near frame {i} of {}", job.spec.frames))
            .unwrap_or_default();
        return reply.fail(
            format!("ffmpeg stopped reading{at} ({e}); ffmpeg {st}"),
            true,
        );
    }
    reply.send(WorkerEvent::Progress {
        id: job.spec.id.clone(),
        frames: job.spec.frames,
    })?;
    let status = enc.finish();
    let drain_ms = ms(td.elapsed());
    match status {
        Ok(st) if st.success() => {}
        Ok(st) => {
            let _ = std::fs::remove_file(tmp);
            if let Some(why) = media::never_started(&st, &job.log) {
                return reply.fail(format!("ffmpeg could not start: {why}"), false);
            }
            return reply.fail(
                format!(
                    "ffmpeg {} after all {} frames were written{}",
                    media::describe_status(&st),
                    job.spec.frames,
                    cause(&job.log)
                ),
                true,
            );
        }
        Err(e) => {
            let _ = std::fs::remove_file(tmp);
            return reply.fail(format!("cannot wait for ffmpeg: {e}"), true);
        }
    }
    // ffmpeg 5.1 exits 0 after `Error writing trailer ...: No space left on device`: a clean
    // exit is not enough, its log must show no write error either.
    if let Some(e) = media::write_error(&job.log) {
        let _ = std::fs::remove_file(tmp);
        return reply.fail(
            format!(
                "ffmpeg could not write the clip: {e} (ffmpeg exited 0, but the file is incomplete)"
            ),
            true,
        );
    }
    // The digest is taken now, while the file is hot in the page cache, on the worker's time:
    // the coordinator records it and checks it before it ever reuses the clip.
    let (bytes, digest) = match crate::manifest::file_stamp(tmp) {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(tmp);
            return reply.fail(format!("cannot hash the finished clip: {e}"), true);
        }
    };
    if let Err(e) = std::fs::rename(tmp, &job.output) {
        return reply.fail(
            format!("cannot move {} into place: {e}", tmp.display()),
            true,
        );
    }
    *CURRENT_LOG.lock().unwrap_or_else(|e| e.into_inner()) = None;
    let (cpu1, rss) = usage(libc::RUSAGE_SELF);
    let (children1, _) = usage(libc::RUSAGE_CHILDREN);
    let timings = ClipTimings {
        init_ms,
        render_ms,
        write_ms,
        drain_ms,
        total_ms: ms(t0.elapsed()),
        worker_cpu_ms: cpu1 - cpu0,
        encoder_cpu_ms: children1 - children0,
        worker_max_rss_kb: rss,
    };
    reply.send(WorkerEvent::Finished {
        id: job.spec.id.clone(),
        frames: job.spec.frames,
        timings,
        brightness,
        bytes,
        digest,
    })
}

/// `: <ffmpeg's own words>` when its log says what went wrong (a write error first), else
/// nothing.
fn cause(log: &Path) -> String {
    media::write_error(log)
        .or_else(|| media::first_error(log))
        .map(|e| format!(": {e}"))
        .unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
