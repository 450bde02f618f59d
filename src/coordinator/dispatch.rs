//! The dispatch loop: hand clips to workers, merge their events as they come, retry failures
//! with backoff in fresh workers, kill stalled clips, stop cleanly on an interrupt, and keep the
//! manifest true at every step.

use super::pool::{self, Msg, Worker};
use super::{Clip, FailedClip, Layout, ManifestWriter, Policy, Tools, encoder_settings};
use crate::events::{ClipJob, ToWorker, WorkerEvent};
use crate::manifest::ClipState;
use crate::media::{self, EncoderSettings};
use crate::plan::Plan;
use crate::profile::RenderSettings;
use crate::render::SceneSpec;
use crate::render::rng::clip_seed;
use crate::report::{Report, Reporter};
use crossbeam_channel::{Receiver, Sender};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A sampled frame darker than this (mean of rgb bytes) draws a warning (the seed's rule).
pub const DARK_MEAN: f32 = 5.0;
/// Lines of a failed clip's log shown to the user.
pub const TAIL_LINES: usize = 12;
/// ffprobe processes at once when checking finished clips.
pub const PROBE_JOBS: usize = 4;

/// Everything the loop reads.
pub struct Context<'a> {
    /// The plan.
    pub plan: &'a Plan,
    /// Render settings.
    pub settings: &'a RenderSettings,
    /// ffmpeg and ffprobe.
    pub tools: &'a Tools,
    /// Where files go.
    pub layout: &'a Layout,
    /// Every clip of the plan, by plan index.
    pub clips: &'a [Clip],
    /// Retries, backoff, stall timeout.
    pub policy: &'a Policy,
}

/// What the loop leaves behind.
pub struct Outcome {
    /// Clips that failed for good, in the order they failed.
    pub failed: Vec<FailedClip>,
    /// ffprobe checks of the clips that finished, by id (a clip that failed its check was
    /// settled as a failure instead, so these are the ones that passed).
    pub checks: HashMap<String, Result<(), String>>,
    /// The run was interrupted.
    pub interrupted: bool,
    /// Worker start-up (spawn + handshake) and renderer set-up times, milliseconds.
    pub startup_ms: Vec<(f64, f64)>,
}

/// Checks finished clips with ffprobe on a few threads, while other clips still render; each
/// verdict comes back to the loop, which records the clip done only when it passed.
struct ProbePool {
    jobs: Option<Sender<(String, PathBuf, u64)>>,
    results: Receiver<(String, Result<(), String>)>,
    threads: Vec<std::thread::JoinHandle<()>>,
    pending: usize,
}

impl ProbePool {
    fn new(ffprobe: &Path, enc: &EncoderSettings, n: usize) -> ProbePool {
        let (jtx, jrx) = crossbeam_channel::unbounded::<(String, PathBuf, u64)>();
        let (rtx, rrx) = crossbeam_channel::unbounded();
        let threads = (0..n)
            .map(|_| {
                let (jrx, rtx, ffprobe, enc) =
                    (jrx.clone(), rtx.clone(), ffprobe.to_path_buf(), enc.clone());
                std::thread::spawn(move || {
                    // A finished clip's check outlasts the first interrupt (which waits for it).
                    crate::procs::outlast_first_signal();
                    for (id, path, frames) in jrx {
                        let r = media::probe_video(&ffprobe, &path, false)
                            .and_then(|i| media::check_clip(&i, &enc, frames))
                            .map_err(String::from);
                        if rtx.send((id, r)).is_err() {
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
    fn submit(&mut self, id: String, path: PathBuf, frames: u64) -> bool {
        let sent = self
            .jobs
            .as_ref()
            .is_some_and(|tx| tx.send((id, path, frames)).is_ok());
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

/// Backoff before retry `attempt` (1-based): 0.5 s, 1 s, 2 s, ... capped at 8 s.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    (base * 2u32.saturating_pow(attempt.saturating_sub(1).min(16))).min(Duration::from_secs(8))
}

/// The loop's state: workers, the queue, retries in waiting, and what has been settled.
struct Loop<'c, 'm> {
    cx: &'c Context<'c>,
    manifest: &'m mut ManifestWriter,
    enc: EncoderSettings,
    tx: Sender<Msg>,
    workers: Vec<Option<Worker>>,
    queue: VecDeque<usize>,
    /// Retries waiting for their backoff to end: (when, plan index).
    delayed: Vec<(Instant, usize)>,
    /// Attempts this run, by plan index.
    attempts: HashMap<usize, u32>,
    failed: Vec<FailedClip>,
    probes: ProbePool,
    by_id: HashMap<&'c str, usize>,
    next_wid: u64,
    inflight: usize,
    startup_ms: Vec<(f64, f64)>,
    /// Clips whose worker finished them, waiting for their ffprobe verdict, by id.
    checking: HashMap<String, Checking>,
    /// Clips that passed their check.
    checks: HashMap<String, Result<(), String>>,
}

/// A finished clip waiting for its check: what the manifest will record when it passes.
struct Checking {
    secs: f64,
    frames: u64,
    bytes: u64,
    digest: String,
}

/// Run the loop over the clips in `todo` (plan indices, in order).
pub fn dispatch(
    cx: &Context,
    todo: Vec<usize>,
    manifest: &mut ManifestWriter,
    rep: &mut dyn Reporter,
) -> Outcome {
    crate::procs::install_signal_handlers();
    let enc = encoder_settings(cx.settings);
    let n_workers = cx.settings.workers.min(todo.len()).max(1);
    let (tx, rx): (Sender<Msg>, Receiver<Msg>) = crossbeam_channel::unbounded();
    let mut lp = Loop {
        cx,
        manifest,
        probes: ProbePool::new(&cx.tools.ffprobe, &enc, PROBE_JOBS),
        enc,
        tx,
        workers: (0..n_workers).map(|_| None).collect(),
        queue: todo.into(),
        delayed: Vec::new(),
        attempts: HashMap::new(),
        failed: Vec::new(),
        by_id: cx.clips.iter().map(|c| (c.id.as_str(), c.index)).collect(),
        next_wid: 0,
        inflight: 0,
        startup_ms: Vec::new(),
        checking: HashMap::new(),
        checks: HashMap::new(),
    };
    // Stalls are measured against time this process ran: a stop (SIGSTOP, Ctrl-Z) shows up
    // as a gap between two turns of the loop far longer than its tick, and is forgiven.
    let mut clock = crate::procs::ActiveClock::new();
    let verdicts = lp.probes.results.clone();
    loop {
        if crate::procs::signals() > 0 {
            lp.interrupt(&verdicts, rep);
            return lp.outcome(true);
        }
        let (_, gap) = clock.tick();
        if !gap.is_zero() {
            lp.forgive(gap);
        }
        lp.release_retries();
        lp.assign_idle(rep);
        lp.manifest.flush(false, rep);
        if lp.inflight == 0
            && lp.queue.is_empty()
            && lp.delayed.is_empty()
            && lp.checking.is_empty()
        {
            break;
        }
        lp.kill_stalled(rep);
        crossbeam_channel::select! {
            recv(rx) -> m => match m {
                Ok(Msg::Event(wid, ev)) => lp.on_event(wid, ev, rep),
                Ok(Msg::Gone(wid)) => lp.on_gone(wid, rep),
                Err(_) => unreachable!("the loop holds a sender"),
            },
            recv(verdicts) -> v => {
                if let Ok((id, verdict)) = v {
                    lp.probes.received();
                    lp.on_verdict(id, verdict, rep);
                }
            },
            default(Duration::from_millis(100)) => {}
        }
    }
    for w in lp.workers.iter_mut().filter_map(Option::take) {
        pool::stop_worker(w);
    }
    lp.manifest.flush(true, rep);
    lp.outcome(false)
}

impl Loop<'_, '_> {
    fn outcome(self, interrupted: bool) -> Outcome {
        self.probes.finish();
        Outcome {
            failed: self.failed,
            checks: self.checks,
            interrupted,
            startup_ms: self.startup_ms,
        }
    }

    /// Stop every worker; clips in flight are recorded interrupted and their partial files go.
    /// Clips already finished and being checked get their verdict first (a quick ffprobe),
    /// unless a second signal comes.
    fn interrupt(
        &mut self,
        verdicts: &Receiver<(String, Result<(), String>)>,
        rep: &mut dyn Reporter,
    ) {
        for id in pool::shutdown_all(&mut self.workers) {
            let c = &self.cx.clips[self.by_id[id.as_str()]];
            let _ = std::fs::remove_file(self.cx.layout.partial(&c.id));
            self.manifest.set(c, ClipState::Interrupted, |r| {
                r.error = Some("interrupted".into())
            });
        }
        while !self.checking.is_empty() && crate::procs::signals() < 2 {
            if let Ok((id, verdict)) = verdicts.recv_timeout(Duration::from_millis(50)) {
                self.probes.received();
                self.on_verdict(id, verdict, rep);
            }
        }
        // Finished but not checked (a second signal came): not done either.
        for id in std::mem::take(&mut self.checking).into_keys() {
            let c = &self.cx.clips[self.by_id[id.as_str()]];
            self.manifest.set(c, ClipState::Interrupted, |r| {
                r.error = Some("interrupted before its file was checked".into())
            });
        }
        self.manifest.flush(true, rep);
    }

    /// Retries whose backoff is over go to the front of the queue.
    fn release_retries(&mut self) {
        let now = Instant::now();
        let queue = &mut self.queue;
        self.delayed.retain(|&(at, idx)| {
            if at <= now {
                queue.push_front(idx);
            }
            at > now
        });
    }

    /// Hand queued clips to idle slots (starting workers as needed).
    fn assign_idle(&mut self, rep: &mut dyn Reporter) {
        for slot in 0..self.workers.len() {
            if self.queue.is_empty() {
                break;
            }
            if self.workers[slot]
                .as_ref()
                .is_some_and(|w| w.busy.is_some())
            {
                continue;
            }
            let idx = self.queue.pop_front().expect("not empty");
            let job = self.job(idx);
            *self.attempts.entry(idx).or_default() += 1;
            self.manifest
                .set(&self.cx.clips[idx], ClipState::Running, |r| r.attempts += 1);
            match assign(
                &mut self.workers[slot],
                job,
                &mut self.next_wid,
                self.cx.layout,
                &self.tx,
            ) {
                Ok(()) => self.inflight += 1,
                Err(e) => self.settle_failure(idx, e, true, rep),
            }
        }
    }

    fn job(&self, idx: usize) -> ClipJob {
        let (cx, clip) = (self.cx, &self.cx.clips[idx]);
        ClipJob {
            id: clip.id.clone(),
            index: idx,
            frames: clip.frames,
            seed: clip_seed(cx.plan.seed, idx as u32),
            frame: cx.settings.frame.clone(),
            scene: SceneSpec {
                frames: clip.frames.min(u32::MAX as u64) as u32,
                ..cx.plan.segments[idx].scene.clone()
            },
            encoder: self.enc.clone(),
            ffmpeg: cx.tools.ffmpeg.clone(),
            output: cx.layout.clip(&clip.id),
            partial: cx.layout.partial(&clip.id),
            log: cx.layout.log(&clip.id),
        }
    }

    /// The coordinator did not run for `gap` (it was stopped): that time counts for no clip's
    /// stall timeout.
    fn forgive(&mut self, gap: Duration) {
        let now = Instant::now();
        for b in self
            .workers
            .iter_mut()
            .flatten()
            .filter_map(|w| w.busy.as_mut())
        {
            b.last_activity = (b.last_activity + gap).min(now);
        }
    }

    /// Kill clips with no event for longer than the stall timeout.
    fn kill_stalled(&mut self, rep: &mut dyn Reporter) {
        let limit = self.cx.policy.stall_timeout;
        for slot in 0..self.workers.len() {
            let stalled = self.workers[slot]
                .as_ref()
                .and_then(|w| w.busy.as_ref())
                .is_some_and(|b| b.last_activity.elapsed() > limit);
            if stalled {
                let mut w = self.workers[slot].take().expect("checked");
                let b = w.busy.take().expect("checked");
                pool::kill_worker(w);
                let why = format!(
                    "no progress for {} s (stalled); the worker and its ffmpeg were killed",
                    limit.as_secs_f64()
                );
                self.lost(&b.id, why, rep);
            }
        }
    }

    /// A clip in flight is lost with its worker: remove its partial file, settle it.
    fn lost(&mut self, id: &str, why: String, rep: &mut dyn Reporter) {
        self.inflight -= 1;
        let _ = std::fs::remove_file(self.cx.layout.partial(id));
        // The log says it too, after whatever ffmpeg wrote as its input vanished.
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .append(true)
            .open(self.cx.layout.log(id))
        {
            let _ = writeln!(f, "farm coordinator: {why}");
        }
        self.settle_failure(self.by_id[id], why, true, rep);
    }

    fn on_event(&mut self, wid: u64, ev: WorkerEvent, rep: &mut dyn Reporter) {
        let Some(slot) = slot_of(&self.workers, wid) else {
            return;
        };
        let w = self.workers[slot].as_mut().expect("found");
        let Some(busy) = w.busy.as_mut().filter(|b| b.id == ev.id()) else {
            return; // a late event of a clip already settled
        };
        busy.last_activity = Instant::now();
        match ev {
            WorkerEvent::Started { id } => rep.report(&Report::Started { id }),
            WorkerEvent::Progress { id, frames } => rep.report(&Report::Progress { id, frames }),
            WorkerEvent::Finished {
                id,
                frames,
                timings,
                brightness,
                bytes,
                digest,
            } => {
                if self.startup_ms.len() < 1000 {
                    self.startup_ms
                        .push((w.start_time.as_secs_f64() * 1000.0, timings.init_ms));
                }
                let secs = w
                    .busy
                    .take()
                    .map(|b| b.started.elapsed().as_secs_f64())
                    .unwrap_or(0.0);
                self.inflight -= 1;
                let clip = &self.cx.clips[self.by_id[id.as_str()]];
                // Not done yet: done means its file passed ffprobe (frames, size, rate, codec).
                // Probed now, while the others render: at join time only the last clip's probe
                // is left on the critical path. The verdict comes back to the loop.
                let queued = self
                    .probes
                    .submit(id.clone(), self.cx.layout.clip(&id), clip.frames);
                self.checking.insert(
                    id.clone(),
                    Checking {
                        secs,
                        frames,
                        bytes,
                        digest,
                    },
                );
                // The seed's brightness spot check, on the rendered frames themselves.
                if let Some(dark) = brightness.iter().find(|b| b.mean < DARK_MEAN) {
                    rep.line(&format!(
                        "farm: warning: clip '{id}' looks dark: mean brightness {:.1} (max {}) at frame {}; aim for a mean over {DARK_MEAN} in quiet parts and 15 in active ones",
                        dark.mean, dark.max, dark.frame
                    ));
                }
                if !queued {
                    let why = "cannot check it: the probe threads are gone".to_string();
                    self.on_verdict(id, Err(why), rep);
                }
            }
            WorkerEvent::Failed {
                id,
                error,
                retryable,
            } => {
                w.busy = None;
                self.inflight -= 1;
                // A fresh process for whatever comes next: no state carries over a failure.
                if let Some(w) = self.workers[slot].take() {
                    pool::stop_worker(w);
                }
                self.settle_failure(self.by_id[id.as_str()], error, retryable, rep);
            }
        }
    }

    /// The ffprobe verdict on a finished clip: done (with its size and digest), or failed (its
    /// file removed, retried like any failure).
    fn on_verdict(&mut self, id: String, verdict: Result<(), String>, rep: &mut dyn Reporter) {
        let Some(c) = self.checking.remove(&id) else {
            return;
        };
        let idx = self.by_id[id.as_str()];
        let clip = &self.cx.clips[idx];
        match verdict {
            Ok(()) => {
                self.manifest.set(clip, ClipState::Done, |r| {
                    r.error = None;
                    r.seconds = Some(c.secs);
                    r.digest = Some(c.digest);
                    r.bytes = Some(c.bytes);
                });
                self.checks.insert(id.clone(), Ok(()));
                rep.report(&Report::Finished {
                    id,
                    frames: c.frames,
                    secs: c.secs,
                });
            }
            Err(e) => {
                let _ = std::fs::remove_file(self.cx.layout.clip(&id));
                let why = format!("ffmpeg finished, but the clip does not check out: {e}");
                use std::io::Write;
                if let Ok(mut f) = std::fs::OpenOptions::new()
                    .append(true)
                    .open(self.cx.layout.log(&id))
                {
                    let _ = writeln!(f, "farm coordinator: {why}");
                }
                self.settle_failure(idx, why, true, rep);
            }
        }
    }

    /// A worker's channel closed: reap it; if it had a clip, the clip failed with its status.
    fn on_gone(&mut self, wid: u64, rep: &mut dyn Reporter) {
        let Some(slot) = slot_of(&self.workers, wid) else {
            return;
        };
        let mut w = self.workers[slot].take().expect("found");
        let status = pool::reap(&mut w.child, pool::GRACE);
        if let Some(b) = w.busy.take() {
            let how = status
                .map(|s| media::describe_status(&s))
                .unwrap_or_else(|| "unknown status".into());
            self.lost(
                &b.id,
                format!("the worker process died ({how}) while rendering it"),
                rep,
            );
        }
    }

    /// A clip failed: retry it after a backoff if the policy allows, else record the failure.
    fn settle_failure(
        &mut self,
        idx: usize,
        error: String,
        retryable: bool,
        rep: &mut dyn Reporter,
    ) {
        let (cx, clip) = (self.cx, &self.cx.clips[idx]);
        let n = self.attempts.get(&idx).copied().unwrap_or(1);
        if retryable && n <= cx.policy.retries {
            let wait = backoff(cx.policy.backoff, n);
            self.manifest
                .set(clip, ClipState::Pending, |r| r.error = Some(error.clone()));
            rep.report(&Report::Retry {
                id: clip.id.clone(),
                attempt: n + 1,
                of: cx.policy.retries + 1,
                secs: wait.as_secs_f64(),
                error,
            });
            self.delayed.push((Instant::now() + wait, idx));
            return;
        }
        let log = cx.layout.log(&clip.id);
        let error = if retryable && n > 1 {
            format!("{error} (after {n} attempts)")
        } else {
            error
        };
        self.manifest
            .set(clip, ClipState::Failed, |r| r.error = Some(error.clone()));
        rep.report(&Report::Failed {
            id: clip.id.clone(),
            error: error.clone(),
        });
        self.failed.push(FailedClip {
            id: clip.id.clone(),
            error,
            tail: media::log_tail(&log, TAIL_LINES),
            log,
        });
    }
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
                pool::spawn_worker(*next_wid, layout, tx)
                    .map_err(|e| format!("cannot start a worker: {e}"))?,
            );
        }
        let w = entry.as_mut().expect("just filled");
        match w.jobs.send(msg.clone()) {
            Ok(()) => {
                let now = Instant::now();
                w.busy = Some(pool::Busy {
                    id,
                    started: now,
                    last_activity: now,
                });
                return Ok(());
            }
            Err(e) => {
                // The worker died between jobs; replace it (its Gone message will find no one).
                last_err = format!("cannot send the job to a worker: {e}");
                if let Some(w) = entry.take() {
                    pool::stop_worker(w);
                }
            }
        }
    }
    Err(last_err)
}

fn slot_of(workers: &[Option<Worker>], wid: u64) -> Option<usize> {
    workers
        .iter()
        .position(|w| w.as_ref().is_some_and(|w| w.wid == wid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let b = Duration::from_millis(500);
        assert_eq!(backoff(b, 1), Duration::from_millis(500));
        assert_eq!(backoff(b, 2), Duration::from_secs(1));
        assert_eq!(backoff(b, 3), Duration::from_secs(2));
        assert_eq!(backoff(b, 30), Duration::from_secs(8));
    }
}
