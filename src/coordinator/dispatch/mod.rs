//! Dispatch: hand clips to workers, merge their events as they come, retry failures with
//! backoff in fresh workers, kill stalled clips, stop cleanly on an interrupt, and keep the
//! manifest true at every step.
//!
//! - [`machine`]: the logic, a pure state machine (each clip's [`machine::Run`], events in,
//!   actions out; no I/O), unit-tested with scripted events.
//! - this module: the thin loop that owns what the machine must not touch: worker processes
//!   ([`super::pool`]), the event channel, the clip-check pool and the manifest writer. It feeds
//!   events in (worker messages, verdicts, ticks, signals) and carries the actions out.

pub mod machine;

use crate::coordinator::layout::Layout;
use crate::coordinator::manifest_writer::ManifestWriter;
use crate::coordinator::pool::{self, Msg, Worker};
use crate::coordinator::types::{Clip, FailedClip, Policy, Tools};
use crate::events::{ClipJob, ToWorker};
use crate::media::{self, EncoderSettings};
use crate::report::Reporter;
use crossbeam_channel::{Receiver, Sender};
use machine::{Action, ClipInfo, Event, Machine, Run, WorkerId};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use machine::{DARK_MEAN, backoff};

/// Lines of a failed clip's log shown to the user.
pub const TAIL_LINES: usize = 12;
/// Threads checking finished clips (each check reads the clip's MP4 index in-process,
/// [`crate::mp4index`]: under a millisecond, where an ffprobe took 110-160 ms).
pub const PROBE_JOBS: usize = 2;

/// Everything the loop reads.
pub struct Context<'a> {
    /// ffmpeg and ffprobe.
    pub tools: &'a Tools,
    /// Where files go.
    pub layout: &'a Layout,
    /// Every clip of the plan, by plan index (each with its spec).
    pub clips: &'a [Clip],
    /// Retries, backoff, stall timeout.
    pub policy: &'a Policy,
    /// Workers at most at once.
    pub workers: usize,
}

/// What the loop leaves behind.
pub struct Outcome {
    /// Clips that failed for good, in plan order.
    pub failed: Vec<FailedClip>,
    /// Checks of the clips that finished, by id (a clip that failed its check was
    /// settled as a failure instead, so these are the ones that passed).
    pub checks: HashMap<String, Result<(), String>>,
    /// The run was interrupted.
    pub interrupted: bool,
    /// Worker start-up (spawn + handshake) and renderer set-up times, milliseconds.
    pub startup_ms: Vec<(f64, f64)>,
}

/// Checks finished clips (their MP4 index, [`crate::mp4index::check_clip`]) on a few threads,
/// while other clips still render; each verdict comes back to the loop, which records the clip
/// done only when it passed.
struct ProbePool {
    jobs: Option<Sender<(usize, PathBuf, u64)>>,
    results: Receiver<(usize, Result<(), String>)>,
    threads: Vec<std::thread::JoinHandle<()>>,
    pending: usize,
}

impl ProbePool {
    fn new(enc: &EncoderSettings, n: usize) -> ProbePool {
        let (jtx, jrx) = crossbeam_channel::unbounded::<(usize, PathBuf, u64)>();
        let (rtx, rrx) = crossbeam_channel::unbounded();
        let threads = (0..n)
            .map(|_| {
                let (jrx, rtx, enc) = (jrx.clone(), rtx.clone(), enc.clone());
                std::thread::spawn(move || {
                    // A finished clip's check outlasts the first interrupt (which waits for it).
                    crate::procs::outlast_first_signal();
                    for (clip, path, frames) in jrx {
                        let r = crate::mp4index::check_clip(&path, &enc, frames);
                        if rtx.send((clip, r)).is_err() {
                            return;
                        }
                    }
                })
            })
            .collect();
        ProbePool {
            jobs: Some(jtx),
            results: rrx,
            threads,
            pending: 0,
        }
    }

    /// Queue a check; false when the probe threads are gone (then no verdict will come).
    fn submit(&mut self, clip: usize, path: PathBuf, frames: u64) -> bool {
        let sent = self
            .jobs
            .as_ref()
            .is_some_and(|tx| tx.send((clip, path, frames)).is_ok());
        self.pending += sent as usize;
        sent
    }

    /// A verdict has been taken off [`ProbePool::results`].
    fn received(&mut self) {
        self.pending = self.pending.saturating_sub(1);
    }

    /// Stop the threads (after the probes still running).
    fn finish(mut self) {
        drop(self.jobs.take());
        for _ in self.results.iter().take(self.pending) {}
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// What the loop owns: the processes and channels the machine's actions act on.
struct Loop<'c, 'm, 'r> {
    cx: &'c Context<'c>,
    manifest: &'m mut ManifestWriter,
    rep: &'r mut dyn Reporter,
    tx: Sender<Msg>,
    workers: HashMap<WorkerId, Worker>,
    probes: ProbePool,
}

/// Run the loop over the clips in `todo` (plan indices, in order). `on_started` is called
/// once, on this thread, when every worker given a first clip has started it (its renderer and
/// encoder are up), or at the latest when a clip finishes: `farm run` starts the concat's
/// ffmpeg there, so that it loads while the clips render, not beside the workers' own ffmpeg
/// start-ups (where it delayed the first clip).
pub fn dispatch(
    cx: &Context,
    todo: Vec<usize>,
    manifest: &mut ManifestWriter,
    rep: &mut dyn Reporter,
    mut on_started: Option<&mut dyn FnMut()>,
) -> Outcome {
    let enc = cx
        .clips
        .first()
        .map(|c| c.spec.encoder.clone())
        .expect("a plan has clips");
    let n_workers = cx.workers.min(todo.len()).max(1);
    let info = cx
        .clips
        .iter()
        .map(|c| ClipInfo {
            id: c.id.clone(),
            frames: c.frames,
        })
        .collect();
    let mut m = Machine::new(cx.policy.clone(), info, &todo, n_workers);
    let (tx, rx): (Sender<Msg>, Receiver<Msg>) = crossbeam_channel::unbounded();
    let mut lp = Loop {
        cx,
        manifest,
        rep,
        tx,
        workers: HashMap::new(),
        probes: ProbePool::new(&enc, PROBE_JOBS),
    };
    // Stalls are measured against time this process ran: a stop (SIGSTOP, Ctrl-Z) shows up
    // as a gap between two turns of the loop far longer than its tick, and is forgiven.
    let mut clock = crate::procs::ActiveClock::new();
    let verdicts = lp.probes.results.clone();
    let (mut fired, mut all_rendered, mut started) = (false, false, 0usize);
    loop {
        let signal = crate::procs::interrupts();
        if signal != crate::procs::Interrupts::None {
            lp.feed(&mut m, Event::Signal(signal));
        }
        let (_, gap) = clock.tick();
        if !gap.is_zero() {
            lp.feed(&mut m, Event::Gap(gap));
        }
        lp.feed(&mut m, Event::Tick);
        lp.manifest.flush(m.interrupted(), lp.rep);
        let files = !m.interrupted()
            && todo
                .iter()
                .all(|&i| matches!(m.run(i), Some(Run::Checking { .. } | Run::Done)));
        if files && !all_rendered {
            all_rendered = true;
            crate::timing::mark("every clip rendered");
        }
        let finished = |r: Option<&Run>| matches!(r, Some(Run::Checking { .. } | Run::Done));
        if !fired && (started >= n_workers || todo.iter().any(|&i| finished(m.run(i)))) {
            fired = true;
            if let Some(f) = on_started.take() {
                f();
            }
        }
        if m.finished() {
            break;
        }
        crossbeam_channel::select! {
            recv(rx) -> msg => match msg {
                Ok(Msg::Event(wid, ev)) => {
                    if let crate::events::WorkerEvent::Started { .. } = &ev {
                        started += 1;
                    }
                    if let crate::events::WorkerEvent::Finished { id, timings: t, .. } = &ev {
                        crate::timing::mark(&format!(
                            "clip {id} rendered: worker CPU {:.0} ms, encoder CPU {:.0} ms, worker max RSS {:.1} MB",
                            t.worker_cpu_ms,
                            t.encoder_cpu_ms,
                            t.worker_max_rss_kb as f64 / 1024.0
                        ));
                    }
                    lp.feed(&mut m, Event::Worker(wid, ev))
                }
                Ok(Msg::Gone(wid)) => {
                    // Reaped here, for its status; a worker the loop already let go is no news.
                    if let Some(mut w) = lp.workers.remove(&wid) {
                        let status = pool::reap(&mut w.child, pool::GRACE)
                            .map(|s| media::describe_status(&s))
                            .unwrap_or_else(|| "unknown status".into());
                        lp.feed(&mut m, Event::Gone { worker: wid, status });
                    }
                }
                Err(_) => unreachable!("the loop holds a sender"),
            },
            recv(verdicts) -> v => {
                if let Ok((clip, result)) = v {
                    lp.probes.received();
                    crate::timing::mark(&format!("clip {} checked", cx.clips[clip].id));
                    lp.feed(&mut m, Event::Verdict { clip, result });
                }
            },
            default(Duration::from_millis(if m.interrupted() { 50 } else { 100 })) => {}
        }
    }
    pool::stop_workers(lp.workers.drain().map(|(_, w)| w).collect());
    crate::timing::mark("workers stopped");
    lp.manifest.flush(true, lp.rep);
    let failed = m
        .failed()
        .into_iter()
        .map(|(i, error)| {
            let log = cx.layout.log(&cx.clips[i].id);
            FailedClip {
                id: cx.clips[i].id.clone(),
                error,
                tail: media::log_tail(&log, TAIL_LINES),
                log,
            }
        })
        .collect();
    let checks = m
        .done()
        .into_iter()
        .map(|i| (cx.clips[i].id.clone(), Ok(())))
        .collect();
    lp.probes.finish();
    Outcome {
        failed,
        checks,
        interrupted: m.interrupted(),
        startup_ms: m.startup_ms().to_vec(),
    }
}

impl Loop<'_, '_, '_> {
    /// Hand `ev` to the machine and carry out its actions, and those of the events the actions
    /// cause (a spawn's outcome, a failed send), in order.
    fn feed(&mut self, m: &mut Machine, ev: Event) {
        let mut events = VecDeque::from([ev]);
        while let Some(ev) = events.pop_front() {
            for a in m.handle(ev, Instant::now()) {
                events.extend(self.act(a));
            }
        }
    }

    /// Carry out one action; what it causes comes back as an event.
    fn act(&mut self, a: Action) -> Option<Event> {
        let (layout, clips) = (self.cx.layout, self.cx.clips);
        match a {
            Action::SpawnWorker { worker } => match pool::spawn_worker(worker, layout, &self.tx) {
                Ok(w) => {
                    crate::timing::mark(&format!("worker {worker} connected"));
                    let startup = w.start_time;
                    self.workers.insert(worker, w);
                    Some(Event::Spawned { worker, startup })
                }
                Err(error) => Some(Event::SpawnFailed { worker, error }),
            },
            Action::SendJob { worker, clip } => {
                let job = job(&clips[clip], layout, &self.cx.tools.ffmpeg);
                let sent = match self.workers.get(&worker) {
                    Some(w) => w
                        .jobs
                        .send(ToWorker::Render(Box::new(job)))
                        .map_err(|e| e.to_string()),
                    None => Err("the worker is gone".to_string()),
                };
                sent.err().map(|error| Event::SendFailed { worker, error })
            }
            Action::StopWorker { worker } => {
                // Its Gone message will find no one.
                if let Some(w) = self.workers.remove(&worker) {
                    pool::stop_worker(w);
                }
                None
            }
            Action::KillWorker { worker } => {
                if let Some(w) = self.workers.remove(&worker) {
                    pool::kill_worker(w);
                }
                None
            }
            Action::ShutdownAll => {
                pool::shutdown_all(self.workers.drain().map(|(_, w)| w).collect());
                None
            }
            Action::RemovePartial { clip } => {
                let _ = std::fs::remove_file(layout.partial(&clips[clip].id));
                None
            }
            Action::RemoveClip { clip } => {
                let _ = std::fs::remove_file(layout.clip(&clips[clip].id));
                None
            }
            Action::AppendLog { clip, line } => {
                use std::io::Write;
                if let Ok(mut f) = std::fs::OpenOptions::new()
                    .append(true)
                    .open(layout.log(&clips[clip].id))
                {
                    let _ = writeln!(f, "{line}");
                }
                None
            }
            Action::Probe { clip, frames } => {
                crate::timing::mark(&format!("clip {} finished", clips[clip].id));
                let path = layout.clip(&clips[clip].id);
                (!self.probes.submit(clip, path, frames)).then(|| Event::Verdict {
                    clip,
                    result: Err("cannot check it: the probe threads are gone".to_string()),
                })
            }
            Action::Record {
                clip,
                state,
                change,
            } => {
                self.manifest.set(&clips[clip], state, change);
                None
            }
            Action::Report(r) => {
                self.rep.report(&r);
                None
            }
            Action::Line(l) => {
                self.rep.line(&l);
                None
            }
        }
    }
}

/// A clip's job: its spec and where its files go.
fn job(clip: &Clip, layout: &Layout, ffmpeg: &Path) -> ClipJob {
    ClipJob {
        spec: clip.spec.clone(),
        ffmpeg: ffmpeg.to_path_buf(),
        output: layout.clip(&clip.id),
        partial: layout.partial(&clip.id),
        log: layout.log(&clip.id),
    }
}
