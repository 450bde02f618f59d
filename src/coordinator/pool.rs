//! Worker processes: start one (spawn + handshake), stop one, reap one, signal its group.
//!
//! A worker is this same executable run as `farm worker --connect NAME`, leading its own process
//! group (its ffmpeg inherits it), so that one signal reaches a worker and its encoder together.
//! Each worker's events are forwarded by one thread into the coordinator's single channel,
//! tagged with the worker's unique id; the thread's last message is `Gone` when the channel
//! closes (the worker exited, crashed or was killed).

use super::layout::Layout;
use crate::events::{Handshake, ToWorker, WorkerEvent};
use crate::media;
use crate::procs;
use crossbeam_channel::{RecvTimeoutError, Sender};
use ipc_channel::ipc::{IpcOneShotServer, IpcSender};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long a worker may take to connect after it was spawned.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long stopped workers get to exit before they are killed.
pub const GRACE: Duration = Duration::from_secs(3);

/// A message from a worker's forwarding thread, tagged with the worker's unique id (not its
/// slot: a slot's next worker must never receive its predecessor's last words).
pub enum Msg {
    /// An event from worker `wid`.
    Event(u64, WorkerEvent),
    /// Worker `wid`'s channel closed.
    Gone(u64),
}

/// A running worker process.
pub struct Worker {
    /// Unique id for this run.
    pub wid: u64,
    /// The process (leader of its own group).
    pub child: Child,
    /// Its group, registered so that a second signal kills it at once.
    pub group: procs::Group,
    /// Where its jobs go.
    pub jobs: IpcSender<ToWorker>,
    /// How long spawn + handshake took.
    pub start_time: Duration,
}

// ---------------------------------------------------------------------------------------------
// Signals live in [`crate::procs`]: the first SIGINT/SIGTERM/SIGHUP/SIGQUIT stops the run
// gracefully, a second one kills at once.

// ---------------------------------------------------------------------------------------------
// The executable: opened once at start, so that workers started after the binary was replaced
// or deleted (a rebuild during a run) still run the same program as the coordinator.

struct SelfExe {
    /// `/proc/self/exe`, opened (close-on-exec: no child inherits it).
    file: Option<std::fs::File>,
    /// What it pointed to when opened (for `argv[0]` and messages).
    path: PathBuf,
}

static SELF_EXE: OnceLock<Result<SelfExe, String>> = OnceLock::new();

/// Open this process's own executable, once. Call it at the start of a run, before anything can
/// replace the file; [`spawn_worker`] then starts workers from the open file
/// (`/proc/self/fd/N`: the kernel resolves that path in the child before exec closes the
/// close-on-exec descriptor), whatever happened to the path since.
pub fn open_self_exe() -> Result<(), String> {
    SELF_EXE
        .get_or_init(|| {
            let path = std::env::current_exe()
                .map_err(|e| format!("cannot find the farm executable: {e}"))?;
            let clean = PathBuf::from(
                path.to_string_lossy()
                    .trim_end_matches(" (deleted)")
                    .to_string(),
            );
            Ok(SelfExe {
                file: std::fs::File::open("/proc/self/exe").ok(),
                path: clean,
            })
        })
        .as_ref()
        .map(|_| ())
        .map_err(Clone::clone)
}

/// The program to exec for a worker, and the name to show as its `argv[0]`.
fn worker_program() -> Result<(PathBuf, PathBuf), String> {
    open_self_exe()?;
    let exe = SELF_EXE
        .get()
        .and_then(|r| r.as_ref().ok())
        .expect("opened above");
    Ok(match &exe.file {
        Some(f) => (
            PathBuf::from(format!("/proc/self/fd/{}", f.as_raw_fd())),
            exe.path.clone(),
        ),
        None => (exe.path.clone(), exe.path.clone()),
    })
}

/// Signal a worker's whole process group (the worker and its ffmpeg).
pub fn signal_group(child: &Child, sig: procs::Signal) {
    procs::signal_group_id(child.id(), sig);
}

/// Wait for a child up to `limit`, then SIGKILL its group and reap it. Afterwards nothing of
/// its group is left running (an encoder whose worker died goes too).
pub fn reap(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let t = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            // A worker told to stop exits within a millisecond or two: poll finely at first (a
            // 10 ms poll cost the run's tail 10 ms, measured with FARM_TIMING=1).
            Ok(None) if t.elapsed() < limit => std::thread::sleep(procs::poll_after(t.elapsed())),
            _ => {
                signal_group(child, procs::Signal::KILL);
                break child.wait().ok();
            }
        }
    };
    signal_group(child, procs::Signal::KILL);
    status
}

/// Start worker `wid` and complete its handshake. `accept()` has no timeout, so it runs on a
/// thread; if the worker dies (or dawdles) before connecting, the coordinator connects itself
/// with `Abort` so that the thread ends: a worker that never connects cannot hang the run.
pub fn spawn_worker(wid: u64, layout: &Layout, tx: &Sender<Msg>) -> Result<Worker, String> {
    let (program, exe) = worker_program()?;
    let (server, name) = IpcOneShotServer::<Handshake>::new()
        .map_err(|e| format!("cannot create an IPC server: {e}"))?;
    let log = layout.worker_log(wid);
    let stderr = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(|e| format!("cannot write {}: {e}", log.display()))?;
    let mut child = procs::isolate(&mut Command::new(&program))
        .arg0(&exe)
        .arg("worker")
        .arg("--connect")
        .arg(&name)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(stderr))
        .spawn()
        .map_err(|e| format!("cannot start a worker ({}): {e}", exe.display()))?;
    let group = procs::Group::of(&child);

    let (acc_tx, acc_rx) = crossbeam_channel::bounded(1);
    let acceptor = std::thread::spawn(move || {
        let _ = acc_tx.send(server.accept().map(|(_, hello)| hello));
    });
    let t0 = Instant::now();
    // The handshake's limit counts only time this process ran (a stopped run is not late).
    let mut clock = procs::ActiveClock::new();
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
            _ if clock.tick().0 > HANDSHAKE_TIMEOUT => Some(format!(
                "the worker did not connect within {} s",
                HANDSHAKE_TIMEOUT.as_secs()
            )),
            _ if procs::interrupts() != procs::Interrupts::None => {
                Some("interrupted while a worker was starting".to_string())
            }
            _ => None,
        };
        if let Some(why) = dead {
            if let Ok(s) = IpcSender::<Handshake>::connect(name.clone()) {
                let _ = s.send(Handshake::Abort);
            }
            let _ = acc_rx.recv_timeout(Duration::from_secs(5));
            reap(&mut child, Duration::ZERO);
            let _ = acceptor.join();
            return Err(format!("{why}; see {}", log.display()));
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
                group,
                child,
                jobs,
                start_time: t0.elapsed(),
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

/// Ask a worker to exit, and reap it (killing it after the grace period).
pub fn stop_worker(mut w: Worker) {
    let _ = w.jobs.send(ToWorker::Shutdown);
    reap(&mut w.child, GRACE);
}

/// Stop idle workers: every one is told to shut down first, then each is reaped (they exit
/// side by side, not one after another).
pub fn stop_workers(mut ws: Vec<Worker>) {
    for w in &ws {
        let _ = w.jobs.send(ToWorker::Shutdown);
    }
    let t = Instant::now();
    for w in &mut ws {
        reap(&mut w.child, GRACE.saturating_sub(t.elapsed()));
    }
}

/// Kill a worker and its encoder now, and reap it.
pub fn kill_worker(mut w: Worker) -> Option<ExitStatus> {
    signal_group(&w.child, procs::Signal::KILL);
    reap(&mut w.child, Duration::ZERO)
}

/// Stop every worker and its encoder: SIGTERM to each process group, a grace period, then
/// SIGKILL (at once on a second interrupt), and reap them.
pub fn shutdown_all(mut live: Vec<Worker>) {
    for w in &live {
        signal_group(&w.child, procs::Signal::TERM);
    }
    let t = Instant::now();
    for w in &mut live {
        loop {
            if matches!(w.child.try_wait(), Ok(Some(_))) {
                break;
            }
            if t.elapsed() > GRACE || procs::interrupts() == procs::Interrupts::Twice {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        reap(&mut w.child, Duration::ZERO);
    }
}
