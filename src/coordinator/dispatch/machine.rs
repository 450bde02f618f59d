//! The dispatcher's logic as a pure state machine: each clip's run is a [`Run`] carrying its
//! state's data; [`Machine::handle`] takes an [`Event`] and the time it is handled at and returns
//! the [`Action`]s the loop carries out (spawn a worker, send it a job, kill it, remove a
//! partial file, record in the manifest, report). No I/O here: no processes, files or clocks
//! (time is the `now` passed in), so the tests below drive it with scripted events.
//!
//! ```text
//!              assign                spawned / job sent         Finished
//!   Queued ──────────────▶ Starting ───────────────▶ Running ───────────▶ Checking ──▶ Done
//!     ▲                       │                         │  stall, crash,      │ verdict ok
//!     │ backoff over          │ spawn/send failed       │  Failed event       │
//!     │                       ▼                         ▼                     ▼ verdict bad
//!   RetryWaiting ◀──────────────── (retryable, attempts left) ◀───────────────┘
//!                                  otherwise ──▶ Failed
//!   interrupt: Starting/Running ──▶ Interrupted; Checking waits for its verdict (once) or
//!   ──▶ Interrupted (twice); Queued/RetryWaiting stay as they are (pending in the manifest).
//! ```

use crate::coordinator::manifest_writer::Change;
use crate::coordinator::types::Policy;
use crate::events::WorkerEvent;
use crate::manifest::ClipState;
use crate::procs::Interrupts;
use crate::report::Report;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

/// A sampled frame darker than this (mean of rgb bytes) draws a warning (the brightness rule
/// of the Python reference pipeline's optimisation guide, see `docs/reference-pipeline.md`).
pub const DARK_MEAN: f32 = 5.0;

/// Backoff before retry `attempt` (1-based): 0.5 s, 1 s, 2 s, ... capped at 8 s.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    (base * 2u32.saturating_pow(attempt.saturating_sub(1).min(16))).min(Duration::from_secs(8))
}

/// A worker's unique id for this run (never reused, unlike a slot).
pub type WorkerId = u64;

/// Where one clip's run stands, with what that state needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Run {
    /// Waiting for a worker; `attempts` made so far this run.
    Queued {
        /// Attempts made so far.
        attempts: u32,
    },
    /// Handed to a worker that is being started (spawn + handshake), or whose job is being
    /// sent again after the first send failed.
    Starting {
        /// The worker.
        worker: WorkerId,
        /// This attempt (1-based).
        attempt: u32,
        /// Sends tried for this attempt (a worker that cannot take the job is replaced once).
        sends: u32,
    },
    /// A worker has the job.
    Running {
        /// The worker.
        worker: WorkerId,
        /// This attempt (1-based).
        attempt: u32,
        /// Sends tried for this attempt.
        sends: u32,
        /// Frames done so far.
        progress: u64,
        /// When the job was sent.
        started: Instant,
        /// When the worker last showed progress (for the stall timeout).
        last_activity: Instant,
    },
    /// Failed; retried when the backoff is over.
    RetryWaiting {
        /// When it goes back to the queue.
        until: Instant,
        /// Attempts made so far.
        attempts: u32,
    },
    /// The worker finished the file; waiting for its check (its MP4 index, `mp4index::check_clip`).
    Checking {
        /// This attempt.
        attempt: u32,
        /// Wall time of the render, seconds.
        secs: f64,
        /// Frames written.
        frames: u64,
        /// Size of the file.
        bytes: u64,
        /// BLAKE3 of the file.
        digest: String,
    },
    /// Rendered and checked.
    Done,
    /// Failed for good.
    Failed {
        /// Why.
        error: String,
    },
    /// Stopped by an interrupt.
    Interrupted,
}

impl Run {
    /// A worker is busy with it (starting or running).
    pub fn in_flight(&self) -> bool {
        matches!(self, Run::Starting { .. } | Run::Running { .. })
    }

    fn worker(&self) -> Option<WorkerId> {
        match self {
            Run::Starting { worker, .. } | Run::Running { worker, .. } => Some(*worker),
            _ => None,
        }
    }
}

/// What happens to the loop.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Time passes: retries whose backoff is over are queued, stalled clips are killed, idle
    /// capacity gets queued clips.
    Tick,
    /// The loop did not run for this long (it was stopped: SIGSTOP, Ctrl-Z): that time counts
    /// for no clip's stall timeout.
    Gap(Duration),
    /// Worker `worker` has connected (`startup`: spawn + handshake).
    Spawned {
        /// The worker.
        worker: WorkerId,
        /// How long spawn + handshake took.
        startup: Duration,
    },
    /// Worker `worker` could not be started (it died before it connected, or did not connect).
    SpawnFailed {
        /// The worker.
        worker: WorkerId,
        /// Why, in words.
        error: String,
    },
    /// The job could not be sent to `worker` (it died between jobs).
    SendFailed {
        /// The worker.
        worker: WorkerId,
        /// Why, in words.
        error: String,
    },
    /// An event from a worker.
    Worker(WorkerId, WorkerEvent),
    /// A worker's channel closed and it was reaped (`status`: how it ended, in words).
    Gone {
        /// The worker.
        worker: WorkerId,
        /// Its exit status, described.
        status: String,
    },
    /// The check verdict on a finished clip (by plan index).
    Verdict {
        /// Plan index.
        clip: usize,
        /// Ok, or why its file does not check out.
        result: Result<(), String>,
    },
    /// A stop signal has arrived (once: stop gracefully; twice: stop now).
    Signal(Interrupts),
}

/// Something the loop carries out. Clips are named by plan index.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Start worker `worker` (spawn + handshake); the loop answers with [`Event::Spawned`] or
    /// [`Event::SpawnFailed`].
    SpawnWorker {
        /// The new worker's id.
        worker: WorkerId,
    },
    /// Send clip `clip`'s job to `worker`; the loop answers [`Event::SendFailed`] if it cannot.
    SendJob {
        /// The worker.
        worker: WorkerId,
        /// Plan index.
        clip: usize,
    },
    /// Ask `worker` to exit and reap it (a fresh process for whatever comes next).
    StopWorker {
        /// The worker.
        worker: WorkerId,
    },
    /// Kill `worker` and its encoder now, and reap it.
    KillWorker {
        /// The worker.
        worker: WorkerId,
    },
    /// Interrupt: SIGTERM every worker's group, a grace period (cut short by a second signal),
    /// SIGKILL, reap.
    ShutdownAll,
    /// Remove the clip's partial file.
    RemovePartial {
        /// Plan index.
        clip: usize,
    },
    /// Remove the clip's file (it failed its check).
    RemoveClip {
        /// Plan index.
        clip: usize,
    },
    /// Append a line to the clip's log.
    AppendLog {
        /// Plan index.
        clip: usize,
        /// The line.
        line: String,
    },
    /// Check the finished clip's file (its MP4 index); the loop answers with [`Event::Verdict`].
    Probe {
        /// Plan index.
        clip: usize,
        /// Frames it must have.
        frames: u64,
    },
    /// Set the clip's manifest record.
    Record {
        /// Plan index.
        clip: usize,
        /// Its new state.
        state: ClipState,
        /// What else changes.
        change: Change,
    },
    /// Tell the user.
    Report(Report),
    /// A line for the user (a warning).
    Line(String),
}

/// What the machine knows of a clip besides its run.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipInfo {
    /// Clip id.
    pub id: String,
    /// Frames.
    pub frames: u64,
}

/// Every clip's run, the queue and the workers: the dispatcher's whole state.
#[derive(Debug, Clone)]
pub struct Machine {
    policy: Policy,
    workers: usize,
    clips: Vec<ClipInfo>,
    /// Runs by plan index (None: not to be rendered this run).
    runs: Vec<Option<Run>>,
    queue: VecDeque<usize>,
    /// Connected workers without a clip.
    idle: BTreeSet<WorkerId>,
    /// Spawn + handshake time of each live worker.
    startup: HashMap<WorkerId, Duration>,
    next_worker: WorkerId,
    interrupts: Interrupts,
    startup_ms: Vec<(f64, f64)>,
}

impl Machine {
    /// A machine for `clips` (every clip of the plan, by plan index) that renders those in
    /// `todo` (plan indices, in order) on at most `workers` workers at once.
    pub fn new(policy: Policy, clips: Vec<ClipInfo>, todo: &[usize], workers: usize) -> Machine {
        let mut runs: Vec<Option<Run>> = vec![None; clips.len()];
        for &i in todo {
            runs[i] = Some(Run::Queued { attempts: 0 });
        }
        Machine {
            policy,
            workers: workers.max(1),
            clips,
            runs,
            queue: todo.iter().copied().collect(),
            idle: BTreeSet::new(),
            startup: HashMap::new(),
            next_worker: 0,
            interrupts: Interrupts::None,
            startup_ms: Vec::new(),
        }
    }

    /// Clip `i`'s run (None when it is not rendered this run).
    pub fn run(&self, i: usize) -> Option<&Run> {
        self.runs.get(i).and_then(Option::as_ref)
    }

    /// Clips a worker is busy with, derived from their states.
    pub fn inflight(&self) -> usize {
        self.runs.iter().flatten().filter(|r| r.in_flight()).count()
    }

    /// Whether the loop is over: nothing in flight or being checked, and (unless interrupted)
    /// nothing queued or waiting for a retry.
    pub fn finished(&self) -> bool {
        self.runs.iter().flatten().all(|r| match r {
            Run::Starting { .. } | Run::Running { .. } | Run::Checking { .. } => false,
            Run::Queued { .. } | Run::RetryWaiting { .. } => self.interrupts != Interrupts::None,
            Run::Done | Run::Failed { .. } | Run::Interrupted => true,
        })
    }

    /// Whether a stop signal was handled.
    pub fn interrupted(&self) -> bool {
        self.interrupts != Interrupts::None
    }

    /// Clips done (by plan index).
    pub fn done(&self) -> Vec<usize> {
        self.indices(|r| matches!(r, Run::Done))
    }

    /// Clips failed for good, with why (by plan index).
    pub fn failed(&self) -> Vec<(usize, String)> {
        self.runs
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match r {
                Some(Run::Failed { error }) => Some((i, error.clone())),
                _ => None,
            })
            .collect()
    }

    /// Live workers with no clip (the loop stops them at the end).
    pub fn idle_workers(&self) -> Vec<WorkerId> {
        self.idle.iter().copied().collect()
    }

    /// Worker start-up (spawn + handshake) and renderer set-up times of finished clips, ms.
    pub fn startup_ms(&self) -> &[(f64, f64)] {
        &self.startup_ms
    }

    fn indices(&self, f: impl Fn(&Run) -> bool) -> Vec<usize> {
        self.runs
            .iter()
            .enumerate()
            .filter(|(_, r)| r.as_ref().is_some_and(&f))
            .map(|(i, _)| i)
            .collect()
    }

    fn clip_of_worker(&self, w: WorkerId) -> Option<usize> {
        self.runs
            .iter()
            .position(|r| r.as_ref().and_then(Run::worker) == Some(w))
    }

    fn set(&mut self, i: usize, run: Run) {
        self.runs[i] = Some(run);
    }

    /// Handle `ev` at time `now`: the actions to carry out, in order.
    pub fn handle(&mut self, ev: Event, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        match ev {
            Event::Tick => {
                if self.interrupts == Interrupts::None {
                    self.release_retries(now);
                    self.kill_stalled(now, &mut out);
                    self.assign(now, &mut out);
                }
            }
            Event::Gap(gap) => self.forgive(gap, now),
            Event::Spawned { worker, startup } => self.spawned(worker, startup, now, &mut out),
            Event::SpawnFailed { worker, error } => {
                if let Some(i) = self.starting_on(worker) {
                    self.settle_failure(
                        i,
                        format!("cannot start a worker: {error}"),
                        true,
                        now,
                        &mut out,
                    );
                }
            }
            Event::SendFailed { worker, error } => self.send_failed(worker, error, now, &mut out),
            Event::Worker(worker, ev) => self.on_worker(worker, ev, now, &mut out),
            Event::Gone { worker, status } => {
                self.idle.remove(&worker);
                self.startup.remove(&worker);
                if let Some(i) = self.clip_of_worker(worker) {
                    let why = format!("the worker process died ({status}) while rendering it");
                    self.lost(i, why, now, &mut out);
                }
            }
            Event::Verdict { clip, result } => self.verdict(clip, result, now, &mut out),
            Event::Signal(s) => self.signal(s, &mut out),
        }
        out
    }

    /// Retries whose backoff is over go to the front of the queue.
    fn release_retries(&mut self, now: Instant) {
        for i in 0..self.runs.len() {
            if let Some(Run::RetryWaiting { until, attempts }) = self.runs[i]
                && until <= now
            {
                self.set(i, Run::Queued { attempts });
                self.queue.push_front(i);
            }
        }
    }

    /// Hand queued clips to idle workers, or to new ones while there is room.
    fn assign(&mut self, now: Instant, out: &mut Vec<Action>) {
        while self.inflight() < self.workers {
            let Some(i) = self.queue.pop_front() else {
                return;
            };
            let Some(Run::Queued { attempts }) = self.runs[i] else {
                continue;
            };
            let attempt = attempts + 1;
            out.push(Action::Record {
                clip: i,
                state: ClipState::Running,
                change: Change::Attempt,
            });
            match self.idle.pop_first() {
                Some(worker) => self.send(i, worker, attempt, 1, now, out),
                None => self.spawn(i, attempt, 1, out),
            }
        }
    }

    fn spawn(&mut self, i: usize, attempt: u32, sends: u32, out: &mut Vec<Action>) {
        self.next_worker += 1;
        let worker = self.next_worker;
        self.set(
            i,
            Run::Starting {
                worker,
                attempt,
                sends,
            },
        );
        out.push(Action::SpawnWorker { worker });
    }

    fn send(
        &mut self,
        i: usize,
        worker: WorkerId,
        attempt: u32,
        sends: u32,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        self.set(
            i,
            Run::Running {
                worker,
                attempt,
                sends,
                progress: 0,
                started: now,
                last_activity: now,
            },
        );
        out.push(Action::SendJob { worker, clip: i });
    }

    fn starting_on(&self, worker: WorkerId) -> Option<usize> {
        self.clip_of_worker(worker)
            .filter(|&i| matches!(self.runs[i], Some(Run::Starting { .. })))
    }

    fn spawned(
        &mut self,
        worker: WorkerId,
        startup: Duration,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        self.startup.insert(worker, startup);
        match self.starting_on(worker) {
            Some(i) => {
                let Some(Run::Starting { attempt, sends, .. }) = self.runs[i] else {
                    unreachable!("starting_on checked it")
                };
                self.send(i, worker, attempt, sends, now, out);
            }
            None => {
                self.idle.insert(worker);
            }
        }
    }

    /// The job did not reach its worker (it died between jobs): replace the worker once.
    fn send_failed(
        &mut self,
        worker: WorkerId,
        error: String,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        self.idle.remove(&worker);
        self.startup.remove(&worker);
        let Some(i) = self.clip_of_worker(worker) else {
            return;
        };
        out.push(Action::StopWorker { worker });
        let (attempt, sends) = match self.runs[i] {
            Some(Run::Running { attempt, sends, .. } | Run::Starting { attempt, sends, .. }) => {
                (attempt, sends)
            }
            _ => return,
        };
        if sends < 2 {
            self.spawn(i, attempt, sends + 1, out);
        } else {
            let why = format!("cannot send the job to a worker: {error}");
            self.settle_failure(i, why, true, now, out);
        }
    }

    /// The loop was stopped for `gap`: no clip's stall clock counts it.
    fn forgive(&mut self, gap: Duration, now: Instant) {
        for r in self.runs.iter_mut().flatten() {
            if let Run::Running { last_activity, .. } = r {
                *last_activity = (*last_activity + gap).min(now);
            }
        }
    }

    /// Kill clips with no event for longer than the stall timeout.
    fn kill_stalled(&mut self, now: Instant, out: &mut Vec<Action>) {
        let limit = self.policy.stall_timeout;
        for i in 0..self.runs.len() {
            if let Some(Run::Running {
                worker,
                last_activity,
                ..
            }) = self.runs[i]
                && now.saturating_duration_since(last_activity) > limit
            {
                out.push(Action::KillWorker { worker });
                self.startup.remove(&worker);
                let why = format!(
                    "no progress for {} s (stalled); the worker and its ffmpeg were killed",
                    limit.as_secs_f64()
                );
                self.lost(i, why, now, out);
            }
        }
    }

    /// A clip in flight is lost with its worker: its partial file goes, its log says why, it
    /// is settled as a failure.
    fn lost(&mut self, i: usize, why: String, now: Instant, out: &mut Vec<Action>) {
        out.push(Action::RemovePartial { clip: i });
        out.push(Action::AppendLog {
            clip: i,
            line: format!("farm coordinator: {why}"),
        });
        self.settle_failure(i, why, true, now, out);
    }

    fn on_worker(
        &mut self,
        worker: WorkerId,
        ev: WorkerEvent,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let Some(i) = self
            .clip_of_worker(worker)
            .filter(|&i| self.clips[i].id == ev.id())
        else {
            return; // a late event of a clip already settled
        };
        let Some(Run::Running {
            attempt,
            started,
            progress,
            last_activity,
            ..
        }) = self.runs[i].as_mut()
        else {
            return;
        };
        *last_activity = now;
        match ev {
            WorkerEvent::Started { id } => out.push(Action::Report(Report::Started { id })),
            WorkerEvent::Progress { id, frames } => {
                *progress = frames;
                out.push(Action::Report(Report::Progress { id, frames }));
            }
            WorkerEvent::Finished {
                id,
                frames,
                timings,
                brightness,
                bytes,
                digest,
            } => {
                let (attempt, secs) = (
                    *attempt,
                    now.saturating_duration_since(*started).as_secs_f64(),
                );
                if self.startup_ms.len() < 1000 {
                    let start = self.startup.get(&worker).copied().unwrap_or_default();
                    self.startup_ms
                        .push((start.as_secs_f64() * 1000.0, timings.init_ms));
                }
                self.idle.insert(worker);
                // Not done yet: done means its file passed its check (frames, size, rate, codec).
                // Probed now, while the others render: at join time only the last clip's probe
                // is left on the critical path.
                self.set(
                    i,
                    Run::Checking {
                        attempt,
                        secs,
                        frames,
                        bytes,
                        digest,
                    },
                );
                out.push(Action::Probe {
                    clip: i,
                    frames: self.clips[i].frames,
                });
                // The brightness spot check, on the rendered frames themselves.
                if let Some(dark) = brightness.iter().find(|b| b.mean < DARK_MEAN) {
                    out.push(Action::Line(format!(
                        "farm: warning: clip '{id}' looks dark: mean brightness {:.1} (max {}) at frame {}; aim for a mean over {DARK_MEAN} in quiet parts and 15 in active ones",
                        dark.mean, dark.max, dark.frame
                    )));
                }
            }
            WorkerEvent::Failed {
                error, retryable, ..
            } => {
                // A fresh process for whatever comes next: no state carries over a failure.
                out.push(Action::StopWorker { worker });
                self.startup.remove(&worker);
                self.settle_failure(i, error, retryable, now, out);
            }
        }
    }

    /// The check verdict on a finished clip: done, or failed (its file removed, retried like
    /// any failure).
    fn verdict(
        &mut self,
        i: usize,
        result: Result<(), String>,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let Some(Run::Checking {
            secs,
            frames,
            bytes,
            digest,
            ..
        }) = self.runs.get(i).cloned().flatten()
        else {
            return;
        };
        match result {
            Ok(()) => {
                self.set(i, Run::Done);
                out.push(Action::Record {
                    clip: i,
                    state: ClipState::Done,
                    change: Change::Done {
                        secs,
                        digest,
                        bytes,
                    },
                });
                out.push(Action::Report(Report::Finished {
                    id: self.clips[i].id.clone(),
                    frames,
                    secs,
                }));
            }
            Err(e) => {
                let why = format!("ffmpeg finished, but the clip does not check out: {e}");
                out.push(Action::RemoveClip { clip: i });
                out.push(Action::AppendLog {
                    clip: i,
                    line: format!("farm coordinator: {why}"),
                });
                // After an interrupt too: it is then left pending for the next run.
                self.settle_failure(i, why, true, now, out);
            }
        }
    }

    /// A clip failed: retried after a backoff if the policy allows, else failed for good.
    fn settle_failure(
        &mut self,
        i: usize,
        error: String,
        retryable: bool,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let n = match self.runs[i] {
            Some(
                Run::Starting { attempt, .. }
                | Run::Running { attempt, .. }
                | Run::Checking { attempt, .. },
            ) => attempt,
            _ => 1,
        };
        let id = self.clips[i].id.clone();
        if retryable && n <= self.policy.retries {
            let wait = backoff(self.policy.backoff, n);
            out.push(Action::Record {
                clip: i,
                state: ClipState::Pending,
                change: Change::Error(error.clone()),
            });
            out.push(Action::Report(Report::Retry {
                id,
                attempt: n + 1,
                of: self.policy.retries + 1,
                secs: wait.as_secs_f64(),
                error,
            }));
            self.set(
                i,
                Run::RetryWaiting {
                    until: now + wait,
                    attempts: n,
                },
            );
            return;
        }
        let error = if retryable && n > 1 {
            format!("{error} (after {n} attempts)")
        } else {
            error
        };
        out.push(Action::Record {
            clip: i,
            state: ClipState::Failed,
            change: Change::Error(error.clone()),
        });
        out.push(Action::Report(Report::Failed {
            id,
            error: error.clone(),
        }));
        self.set(i, Run::Failed { error });
    }

    fn interrupt_clip(&mut self, i: usize, why: String, out: &mut Vec<Action>) {
        out.push(Action::Record {
            clip: i,
            state: ClipState::Interrupted,
            change: Change::Error(why),
        });
        self.set(i, Run::Interrupted);
    }

    /// Once: every worker is stopped, clips in flight are interrupted (their partial files go),
    /// clips being checked still get their verdict. Twice: those are interrupted too.
    fn signal(&mut self, s: Interrupts, out: &mut Vec<Action>) {
        if s == Interrupts::None || s <= self.interrupts {
            return;
        }
        if self.interrupts == Interrupts::None {
            out.push(Action::ShutdownAll);
            self.idle.clear();
            self.startup.clear();
            for i in 0..self.runs.len() {
                if self.runs[i].as_ref().is_some_and(Run::in_flight) {
                    out.push(Action::RemovePartial { clip: i });
                    self.interrupt_clip(i, "interrupted".into(), out);
                }
            }
        }
        self.interrupts = s;
        if s == Interrupts::Twice {
            // Finished but not checked: not done either.
            for i in 0..self.runs.len() {
                if matches!(self.runs[i], Some(Run::Checking { .. })) {
                    self.interrupt_clip(i, "interrupted before its file was checked".into(), out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Brightness, ClipTimings};

    const SEC: Duration = Duration::from_secs(1);

    fn policy() -> Policy {
        Policy {
            retries: 2,
            backoff: Duration::from_millis(500),
            stall_timeout: Duration::from_secs(120),
        }
    }

    fn clips(n: usize) -> Vec<ClipInfo> {
        (0..n)
            .map(|i| ClipInfo {
                id: format!("c{i}"),
                frames: 10,
            })
            .collect()
    }

    /// A machine, the time it started, and helpers to feed it.
    struct Script {
        m: Machine,
        t0: Instant,
    }

    impl Script {
        fn new(n: usize, todo: &[usize], workers: usize) -> Script {
            Script {
                m: Machine::new(policy(), clips(n), todo, workers),
                t0: Instant::now(),
            }
        }
        fn at(&mut self, secs: f64, ev: Event) -> Vec<Action> {
            let now = self.t0 + Duration::from_secs_f64(secs);
            self.m.handle(ev, now)
        }
        fn run(&self, i: usize) -> Run {
            self.m.run(i).cloned().expect("a run")
        }
        /// Tick at `secs`, then answer every spawn with success: the workers' ids.
        fn start(&mut self, secs: f64) -> Vec<WorkerId> {
            let acts = self.at(secs, Event::Tick);
            let spawned: Vec<WorkerId> = acts
                .iter()
                .filter_map(|a| match a {
                    Action::SpawnWorker { worker } => Some(*worker),
                    _ => None,
                })
                .collect();
            for &w in &spawned {
                let a = self.at(
                    secs,
                    Event::Spawned {
                        worker: w,
                        startup: SEC,
                    },
                );
                assert!(
                    matches!(a[..], [Action::SendJob { worker, .. }] if worker == w),
                    "{a:?}"
                );
            }
            spawned
        }
        fn finish(&mut self, secs: f64, w: WorkerId, clip: usize) -> Vec<Action> {
            self.at(
                secs,
                Event::Worker(
                    w,
                    WorkerEvent::Finished {
                        id: format!("c{clip}"),
                        frames: 10,
                        timings: ClipTimings::default(),
                        brightness: vec![Brightness {
                            frame: 0,
                            mean: 50.0,
                            max: 200,
                        }],
                        bytes: 1234,
                        digest: "d".into(),
                    },
                ),
            )
        }
    }

    fn has(acts: &[Action], f: impl Fn(&Action) -> bool) -> bool {
        acts.iter().any(f)
    }

    fn states(acts: &[Action], clip: usize) -> Vec<ClipState> {
        acts.iter()
            .filter_map(|a| match a {
                Action::Record { clip: c, state, .. } if *c == clip => Some(*state),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let b = Duration::from_millis(500);
        assert_eq!(backoff(b, 1), Duration::from_millis(500));
        assert_eq!(backoff(b, 2), Duration::from_secs(1));
        assert_eq!(backoff(b, 3), Duration::from_secs(2));
        assert_eq!(backoff(b, 30), Duration::from_secs(8));
    }

    #[test]
    fn a_clip_runs_through_checking_to_done() {
        let mut s = Script::new(1, &[0], 1);
        let acts = s.at(0.0, Event::Tick);
        assert_eq!(states(&acts, 0), [ClipState::Running]);
        assert_eq!(acts.last(), Some(&Action::SpawnWorker { worker: 1 }));
        assert!(matches!(
            s.run(0),
            Run::Starting {
                worker: 1,
                attempt: 1,
                ..
            }
        ));
        assert_eq!(s.m.inflight(), 1);
        s.at(
            0.5,
            Event::Spawned {
                worker: 1,
                startup: SEC,
            },
        );
        assert!(matches!(s.run(0), Run::Running { worker: 1, .. }));
        s.at(
            1.0,
            Event::Worker(
                1,
                WorkerEvent::Progress {
                    id: "c0".into(),
                    frames: 4,
                },
            ),
        );
        assert!(matches!(s.run(0), Run::Running { progress: 4, .. }));
        let acts = s.finish(3.0, 1, 0);
        assert_eq!(
            acts[0],
            Action::Probe {
                clip: 0,
                frames: 10
            }
        );
        assert!(matches!(s.run(0), Run::Checking { secs, .. } if (secs - 2.5).abs() < 1e-9));
        assert_eq!(s.m.inflight(), 0, "inflight comes from the states");
        assert!(!s.m.finished(), "its verdict is still to come");
        let acts = s.at(
            3.1,
            Event::Verdict {
                clip: 0,
                result: Ok(()),
            },
        );
        assert_eq!(states(&acts, 0), [ClipState::Done]);
        assert!(has(&acts, |a| matches!(
            a,
            Action::Report(Report::Finished { .. })
        )));
        assert!(s.m.finished());
        assert_eq!(s.m.done(), [0]);
        assert_eq!(
            s.m.idle_workers(),
            [1],
            "kept for the next clip, stopped at the end"
        );
        assert_eq!(s.m.startup_ms(), [(1000.0, 0.0)]);
    }

    #[test]
    fn an_idle_worker_takes_the_next_clip_and_capacity_is_respected() {
        let mut s = Script::new(3, &[0, 1, 2], 2);
        assert_eq!(s.start(0.0), [1, 2]);
        assert!(matches!(s.run(2), Run::Queued { attempts: 0 }));
        s.finish(1.0, 1, 0);
        let acts = s.at(1.0, Event::Tick);
        assert!(
            has(&acts, |a| *a == Action::SendJob { worker: 1, clip: 2 }),
            "{acts:?}"
        );
        assert!(!has(&acts, |a| matches!(a, Action::SpawnWorker { .. })));
    }

    #[test]
    fn a_failed_clip_is_retried_after_its_backoff_in_a_fresh_worker() {
        let mut s = Script::new(1, &[0], 1);
        s.start(0.0);
        let acts = s.at(
            2.0,
            Event::Worker(
                1,
                WorkerEvent::Failed {
                    id: "c0".into(),
                    error: "boom".into(),
                    retryable: true,
                },
            ),
        );
        assert_eq!(acts[0], Action::StopWorker { worker: 1 });
        assert_eq!(states(&acts, 0), [ClipState::Pending]);
        assert!(has(
            &acts,
            |a| matches!(a, Action::Report(Report::Retry { attempt: 2, of: 3, secs, .. }) if *secs == 0.5)
        ));
        assert!(matches!(s.run(0), Run::RetryWaiting { attempts: 1, .. }));
        // Not before the backoff is over.
        assert!(s.at(2.4, Event::Tick).is_empty());
        let acts = s.at(2.5, Event::Tick);
        assert_eq!(
            acts.last(),
            Some(&Action::SpawnWorker { worker: 2 }),
            "a fresh worker"
        );
        s.at(
            2.5,
            Event::Spawned {
                worker: 2,
                startup: SEC,
            },
        );
        // The second failure waits twice as long.
        let acts = s.at(
            3.0,
            Event::Worker(
                2,
                WorkerEvent::Failed {
                    id: "c0".into(),
                    error: "boom".into(),
                    retryable: true,
                },
            ),
        );
        assert!(has(
            &acts,
            |a| matches!(a, Action::Report(Report::Retry { attempt: 3, secs, .. }) if *secs == 1.0)
        ));
        assert!(s.at(3.9, Event::Tick).is_empty());
        assert!(!s.at(4.0, Event::Tick).is_empty());
    }

    #[test]
    fn retries_exhausted_fail_the_clip_for_good() {
        let mut s = Script::new(1, &[0], 1);
        let mut t = 0.0;
        for attempt in 1..=3 {
            let w = s.start(t);
            assert_eq!(w.len(), 1);
            let acts = s.at(
                t,
                Event::Worker(
                    w[0],
                    WorkerEvent::Failed {
                        id: "c0".into(),
                        error: "boom".into(),
                        retryable: true,
                    },
                ),
            );
            if attempt < 3 {
                assert!(matches!(s.run(0), Run::RetryWaiting { .. }));
            } else {
                assert_eq!(states(&acts, 0), [ClipState::Failed]);
            }
            t += 10.0;
        }
        assert_eq!(
            s.run(0),
            Run::Failed {
                error: "boom (after 3 attempts)".into()
            }
        );
        assert!(s.m.finished());
        assert_eq!(s.m.failed(), [(0, "boom (after 3 attempts)".to_string())]);
    }

    #[test]
    fn a_non_retryable_failure_is_final_and_only_the_todo_clips_are_touched() {
        // `--only c1` (or `farm render c1`): c0 and c2 are not this run's.
        let mut s = Script::new(3, &[1], 4);
        let acts = s.at(0.0, Event::Tick);
        assert_eq!(
            acts,
            [
                Action::Record {
                    clip: 1,
                    state: ClipState::Running,
                    change: Change::Attempt
                },
                Action::SpawnWorker { worker: 1 },
            ]
        );
        assert_eq!((s.m.run(0), s.m.run(2)), (None, None));
        s.at(
            0.0,
            Event::Spawned {
                worker: 1,
                startup: SEC,
            },
        );
        let acts = s.at(
            1.0,
            Event::Worker(
                1,
                WorkerEvent::Failed {
                    id: "c1".into(),
                    error: "cannot build the scene".into(),
                    retryable: false,
                },
            ),
        );
        assert_eq!(states(&acts, 1), [ClipState::Failed]);
        assert_eq!(
            s.run(1),
            Run::Failed {
                error: "cannot build the scene".into()
            }
        );
        assert!(s.m.finished());
    }

    #[test]
    fn a_stalled_clip_is_killed_and_retried() {
        let mut s = Script::new(1, &[0], 1);
        s.start(0.0);
        s.at(
            10.0,
            Event::Worker(
                1,
                WorkerEvent::Progress {
                    id: "c0".into(),
                    frames: 1,
                },
            ),
        );
        assert!(
            s.at(130.0, Event::Tick).is_empty(),
            "120 s since the last progress, not more"
        );
        let acts = s.at(130.5, Event::Tick);
        assert_eq!(acts[0], Action::KillWorker { worker: 1 });
        assert_eq!(acts[1], Action::RemovePartial { clip: 0 });
        assert!(
            matches!(&acts[2], Action::AppendLog { clip: 0, line } if line.contains("stalled"))
        );
        assert!(matches!(s.run(0), Run::RetryWaiting { .. }));
        // Its worker's last words after the kill change nothing.
        assert!(
            s.at(
                130.6,
                Event::Gone {
                    worker: 1,
                    status: "killed by signal 9".into()
                }
            )
            .is_empty()
        );
    }

    #[test]
    fn a_stop_of_the_coordinator_is_forgiven() {
        let mut s = Script::new(1, &[0], 1);
        s.start(0.0);
        // SIGSTOP at 100 s, SIGCONT at 400 s: the loop sees a gap of 300 s.
        s.at(400.0, Event::Gap(Duration::from_secs(300)));
        assert!(
            s.at(400.0, Event::Tick).is_empty(),
            "the stop does not count"
        );
        assert!(s.at(420.0, Event::Tick).is_empty());
        assert!(
            !s.at(420.5, Event::Tick).is_empty(),
            "120 s of running time without progress"
        );
    }

    #[test]
    fn a_worker_that_dies_before_it_connects_fails_the_attempt() {
        let mut s = Script::new(1, &[0], 1);
        s.at(0.0, Event::Tick);
        let acts = s.at(
            0.2,
            Event::SpawnFailed {
                worker: 1,
                error: "the worker exited before connecting (exit status 3)".into(),
            },
        );
        assert!(has(
            &acts,
            |a| matches!(a, Action::Report(Report::Retry { error, .. })
            if error == "cannot start a worker: the worker exited before connecting (exit status 3)")
        ));
        assert!(matches!(s.run(0), Run::RetryWaiting { attempts: 1, .. }));
        assert_eq!(s.m.inflight(), 0);
    }

    #[test]
    fn a_worker_that_dies_after_it_connected_loses_its_clip() {
        let mut s = Script::new(1, &[0], 1);
        s.start(0.0);
        let acts = s.at(
            1.0,
            Event::Gone {
                worker: 1,
                status: "killed by signal 9".into(),
            },
        );
        assert_eq!(acts[0], Action::RemovePartial { clip: 0 });
        assert!(has(
            &acts,
            |a| matches!(a, Action::Report(Report::Retry { error, .. })
            if error == "the worker process died (killed by signal 9) while rendering it")
        ));
        // An idle worker that dies is forgotten; the next clip gets a fresh one.
        let mut s = Script::new(2, &[0, 1], 1);
        s.start(0.0);
        s.finish(1.0, 1, 0);
        s.at(
            1.0,
            Event::Gone {
                worker: 1,
                status: "exit status 0".into(),
            },
        );
        s.at(
            1.0,
            Event::Verdict {
                clip: 0,
                result: Ok(()),
            },
        );
        assert!(s.m.idle_workers().is_empty());
    }

    #[test]
    fn a_worker_that_cannot_take_the_job_is_replaced_once() {
        let mut s = Script::new(2, &[0, 1], 1);
        s.start(0.0);
        s.finish(1.0, 1, 0);
        let acts = s.at(1.0, Event::Tick);
        assert!(has(&acts, |a| *a == Action::SendJob { worker: 1, clip: 1 }));
        let acts = s.at(
            1.0,
            Event::SendFailed {
                worker: 1,
                error: "broken pipe".into(),
            },
        );
        assert_eq!(
            acts,
            [
                Action::StopWorker { worker: 1 },
                Action::SpawnWorker { worker: 2 }
            ]
        );
        s.at(
            1.0,
            Event::Spawned {
                worker: 2,
                startup: SEC,
            },
        );
        let acts = s.at(
            1.0,
            Event::SendFailed {
                worker: 2,
                error: "broken pipe".into(),
            },
        );
        assert!(has(
            &acts,
            |a| matches!(a, Action::Report(Report::Retry { error, .. })
            if error == "cannot send the job to a worker: broken pipe")
        ));
    }

    #[test]
    fn a_clip_that_fails_its_check_is_removed_and_retried() {
        let mut s = Script::new(1, &[0], 1);
        s.start(0.0);
        s.finish(1.0, 1, 0);
        let acts = s.at(
            1.2,
            Event::Verdict {
                clip: 0,
                result: Err("9 frames, expected 10".into()),
            },
        );
        assert_eq!(acts[0], Action::RemoveClip { clip: 0 });
        assert!(
            matches!(&acts[1], Action::AppendLog { line, .. } if line.contains("does not check out: 9 frames"))
        );
        assert_eq!(states(&acts, 0), [ClipState::Pending]);
        assert!(matches!(s.run(0), Run::RetryWaiting { attempts: 1, .. }));
    }

    #[test]
    fn an_interrupt_stops_clips_in_flight_and_waits_for_finished_ones() {
        let mut s = Script::new(4, &[0, 1, 2, 3], 2);
        s.start(0.0);
        s.finish(1.0, 1, 0);
        s.at(1.0, Event::Tick); // c2 goes to worker 1; c3 stays queued
        let acts = s.at(2.0, Event::Signal(Interrupts::Once));
        assert_eq!(acts[0], Action::ShutdownAll);
        for c in [1, 2] {
            assert!(has(&acts, |a| *a == Action::RemovePartial { clip: c }));
            assert_eq!(states(&acts, c), [ClipState::Interrupted]);
            assert_eq!(s.run(c), Run::Interrupted);
        }
        assert!(
            matches!(s.run(0), Run::Checking { .. }),
            "still gets its verdict"
        );
        assert!(matches!(s.run(3), Run::Queued { .. }), "left pending");
        assert!(!s.m.finished());
        assert!(s.at(3.0, Event::Tick).is_empty(), "nothing new starts");
        assert!(
            s.at(3.0, Event::Signal(Interrupts::Once)).is_empty(),
            "handled once"
        );
        let acts = s.at(
            3.0,
            Event::Verdict {
                clip: 0,
                result: Ok(()),
            },
        );
        assert_eq!(states(&acts, 0), [ClipState::Done]);
        assert!(s.m.finished() && s.m.interrupted());
    }

    #[test]
    fn a_second_interrupt_waits_for_nothing() {
        let mut s = Script::new(2, &[0, 1], 2);
        s.start(0.0);
        s.finish(1.0, 1, 0);
        s.at(2.0, Event::Signal(Interrupts::Once));
        assert!(!s.m.finished());
        let acts = s.at(2.1, Event::Signal(Interrupts::Twice));
        assert_eq!(
            acts,
            [Action::Record {
                clip: 0,
                state: ClipState::Interrupted,
                change: Change::Error("interrupted before its file was checked".into()),
            }]
        );
        assert!(s.m.finished());
        // Both at once (a signal during a long turn): the same end.
        let mut s = Script::new(2, &[0, 1], 2);
        s.start(0.0);
        s.finish(1.0, 1, 0);
        let acts = s.at(2.0, Event::Signal(Interrupts::Twice));
        assert_eq!(acts[0], Action::ShutdownAll);
        assert_eq!(states(&acts, 1), [ClipState::Interrupted]);
        assert_eq!(states(&acts, 0), [ClipState::Interrupted]);
        assert!(s.m.finished());
        // A late verdict changes nothing.
        assert!(
            s.at(
                2.2,
                Event::Verdict {
                    clip: 0,
                    result: Ok(())
                }
            )
            .is_empty()
        );
    }

    #[test]
    fn late_events_of_a_settled_clip_are_ignored() {
        let mut s = Script::new(1, &[0], 1);
        s.start(0.0);
        assert!(
            s.at(
                0.1,
                Event::Worker(
                    1,
                    WorkerEvent::Progress {
                        id: "other".into(),
                        frames: 1
                    }
                )
            )
            .is_empty()
        );
        assert!(
            s.at(
                0.1,
                Event::Worker(9, WorkerEvent::Started { id: "c0".into() })
            )
            .is_empty()
        );
        assert!(
            s.at(
                0.1,
                Event::Verdict {
                    clip: 0,
                    result: Ok(())
                }
            )
            .is_empty()
        );
    }
}
