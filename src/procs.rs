//! Processes and signals: the one module that installs signal handlers, knows the process group
//! of every child the coordinator has running, and waits for children with limits that stopped
//! time does not eat.
//!
//! - Signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT are counted (`signal-hook`, installed once).
//!   The state is an [`Interrupts`] ([`interrupts`]: none, once, twice). The first asks the run
//!   to stop (every wait below polls it and stops its child);
//!   on the second a thread of its own kills every registered child group at once and, if the
//!   run has not exited within [`SECOND_SIGNAL_GRACE`], exits with status 130.
//! - Children: each child is started by [`isolate`] as the leader of its own process group (so
//!   that one `kill(-pgid)` reaches it and whatever it started) with a parent-death signal
//!   (`PR_SET_PDEATHSIG`: a SIGKILLed coordinator takes them along), and is registered as a
//!   [`Group`] while it runs.
//! - Time: an [`ActiveClock`] counts only the time during which this process was running; a gap
//!   between two ticks longer than [`MAX_TICK_GAP`] (the process was stopped with SIGSTOP or
//!   Ctrl-Z, or the machine did not schedule it at all) is not counted, so that stopping a run
//!   never makes its children look stalled.

use std::collections::BTreeSet;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

pub use rustix::process::Signal;

/// The signals that stop a run.
pub const STOP_SIGNALS: [i32; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// After a second signal, how long the run gets to exit by itself (it was told, and its
/// children are dead) before the signal thread exits with status 130.
pub const SECOND_SIGNAL_GRACE: Duration = Duration::from_secs(1);

/// How often waits poll their child (after the first [`FINE_POLL_FOR`]).
pub const POLL: Duration = Duration::from_millis(10);
/// Waits poll every millisecond for this long first: most children waited for here (a worker
/// told to stop, the concat once its list is written) end within tens of milliseconds, and a
/// 10 ms poll added 5 ms on average to each of those waits in the run's tail.
pub const FINE_POLL_FOR: Duration = Duration::from_millis(50);

/// The pause before the next poll of a wait that has lasted `waited`.
pub fn poll_after(waited: Duration) -> Duration {
    if waited < FINE_POLL_FOR {
        Duration::from_millis(1)
    } else {
        POLL
    }
}

/// A gap between two ticks of an [`ActiveClock`] longer than this is time this process did not
/// run (a stop, a suspend); it is not counted. Every loop that ticks a clock ticks far more often.
pub const MAX_TICK_GAP: Duration = Duration::from_secs(2);

static SIGNALS: AtomicU32 = AtomicU32::new(0);
static LAST_SIGNAL: AtomicI32 = AtomicI32::new(0);
static INSTALL: Once = Once::new();
static GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// Count SIGINT, SIGTERM, SIGHUP and SIGQUIT instead of dying on them (once per process; later
/// calls do nothing). If the handlers cannot be installed the signals keep their default action.
pub fn install_signal_handlers() {
    INSTALL.call_once(|| {
        for sig in STOP_SIGNALS {
            // Counted in the handler itself, so that the run sees a signal at once, however busy
            // the machine is. SAFETY: the action only touches atomics (async-signal-safe).
            let counted = unsafe {
                signal_hook::low_level::register(sig, move || {
                    LAST_SIGNAL.store(sig, Ordering::SeqCst);
                    SIGNALS.fetch_add(1, Ordering::SeqCst);
                })
            };
            if counted.is_err() {
                return;
            }
        }
        // What must not run in a handler (locks, threads) runs on a thread of its own.
        let mut sigs = match signal_hook::iterator::Signals::new(STOP_SIGNALS) {
            Ok(s) => s,
            Err(_) => return,
        };
        let _ = std::thread::Builder::new()
            .name("farm-signals".into())
            .spawn(move || {
                let mut killing = false;
                for _ in sigs.forever() {
                    if interrupts() == Interrupts::Twice && !killing {
                        killing = true;
                        second_signal();
                    }
                }
            });
    });
}

/// The second stop signal: kill every child group at once, then give the run a moment to
/// record what it can before exiting with status 130.
fn second_signal() {
    kill_all_groups(Signal::KILL);
    std::thread::spawn(|| {
        std::thread::sleep(SECOND_SIGNAL_GRACE);
        kill_all_groups(Signal::KILL);
        std::process::exit(130);
    });
}

/// How far a run has been interrupted: no stop signal yet, one (stop gracefully: children are
/// stopped, what has finished is kept), or two or more (stop now: nothing waits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Interrupts {
    /// No stop signal has arrived.
    None,
    /// One stop signal: stop gracefully.
    Once,
    /// A second one: stop now.
    Twice,
}

impl Interrupts {
    /// From the number of stop signals that arrived.
    pub fn from_count(n: u32) -> Interrupts {
        match n {
            0 => Interrupts::None,
            1 => Interrupts::Once,
            _ => Interrupts::Twice,
        }
    }

    /// Whether any stop signal arrived.
    pub fn any(self) -> bool {
        self != Interrupts::None
    }
}

/// How far the run has been interrupted (the stop signals that arrived so far).
pub fn interrupts() -> Interrupts {
    Interrupts::from_count(SIGNALS.load(Ordering::SeqCst))
}

/// The last stop signal that arrived, if any.
pub fn last_signal() -> Option<i32> {
    Some(LAST_SIGNAL.load(Ordering::SeqCst)).filter(|&s| s != 0)
}

/// The [`rustix`] pid of a raw process id (`None` for 0 or one out of range: nothing to signal).
fn pid_of(raw: u32) -> Option<rustix::process::Pid> {
    i32::try_from(raw)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
}

/// Sends `sig` to the process group led by `pgid` (best effort: the group may be gone).
pub fn signal_group_id(pgid: u32, sig: Signal) {
    if let Some(p) = pid_of(pgid) {
        let _ = rustix::process::kill_process_group(p, sig);
    }
}

/// Sends `sig` to process `pid` (best effort: it may be gone).
pub fn signal_process(pid: u32, sig: Signal) {
    if let Some(p) = pid_of(pid) {
        let _ = rustix::process::kill_process(p, sig);
    }
}

/// Whether process `pid` exists (it may belong to another user: a refused signal still means
/// it is there).
pub fn process_exists(pid: u32) -> bool {
    match pid_of(pid) {
        Some(p) => match rustix::process::test_kill_process(p) {
            Ok(()) => true,
            Err(e) => e == rustix::io::Errno::PERM,
        },
        None => false,
    }
}

fn kill_all_groups(sig: Signal) {
    let groups: Vec<i32> = GROUPS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .copied()
        .collect();
    for g in groups {
        signal_group_id(g as u32, sig);
    }
}

/// A child's process group, registered while it lives so that a second signal can kill it.
/// Dropping it unregisters the group (it does not signal it).
#[derive(Debug)]
pub struct Group {
    pgid: i32,
}

impl Group {
    /// Register the group led by `child` (started with [`isolate`] or `process_group(0)`).
    pub fn of(child: &Child) -> Group {
        let pgid = child.id() as i32;
        GROUPS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(pgid);
        Group { pgid }
    }

    /// Signal the whole group.
    pub fn signal(&self, sig: Signal) {
        signal_group_id(self.pgid as u32, sig);
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        GROUPS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.pgid);
    }
}

/// Start `cmd` as the leader of a new process group that dies with this process: the child
/// gets SIGKILL when the thread that spawned it ends (`PR_SET_PDEATHSIG`), so a coordinator
/// killed with SIGKILL leaves no child running. Spawn from a thread that outlives the child
/// (the thread that waits for it).
pub fn isolate(cmd: &mut Command) -> &mut Command {
    let parent = rustix::process::getpid();
    cmd.process_group(0);
    // SAFETY: pre_exec runs between fork and exec; rustix's prctl, getppid, getpid and kill are
    // raw system calls (async-signal-safe) and nothing is allocated.
    unsafe {
        cmd.pre_exec(move || {
            rustix::process::set_parent_process_death_signal(Some(Signal::KILL))?;
            // The parent may have died before prctl: then nobody would ever send the signal.
            if rustix::process::getppid() != Some(parent) {
                let _ = rustix::process::kill_process(rustix::process::getpid(), Signal::KILL);
            }
            Ok(())
        });
    }
    cmd
}

/// Time this process spent running, ticked by a polling loop: gaps between ticks longer than
/// [`MAX_TICK_GAP`] (the process was stopped) are left out.
#[derive(Debug, Clone)]
pub struct ActiveClock {
    last: Instant,
    active: Duration,
}

impl Default for ActiveClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ActiveClock {
    /// Start at zero now.
    pub fn new() -> ActiveClock {
        ActiveClock {
            last: Instant::now(),
            active: Duration::ZERO,
        }
    }

    /// Tick: the active time so far, and the gap left out by this tick (zero when none).
    pub fn tick(&mut self) -> (Duration, Duration) {
        let now = Instant::now();
        let gap = now.saturating_duration_since(self.last);
        self.last = now;
        if gap > MAX_TICK_GAP {
            (self.active, gap)
        } else {
            self.active += gap;
            (self.active, Duration::ZERO)
        }
    }
}

/// Why a wait ended without the child's exit status.
#[derive(Debug)]
pub enum Stopped {
    /// A stop signal arrived; the child's group was killed.
    Interrupted,
    /// The child ran longer than its limit (active time); its group was killed.
    TimedOut(Duration),
    /// The child made no progress for this long (active time); its group was killed.
    Stalled(Duration),
    /// Waiting failed.
    Io(std::io::Error),
}

/// What a wait watches besides the child: an overall limit, and optionally a progress mark
/// (any value that changes while the child works) with the longest time it may stay the same.
pub struct Limits<'a> {
    /// Longest active time the child may run.
    pub total: Duration,
    /// A progress mark and the longest active time it may stay unchanged.
    pub progress: Option<(&'a dyn Fn() -> u128, Duration)>,
}

thread_local! {
    /// The interrupt at which a wait on this thread kills its child (the first, unless
    /// [`outlast_first_signal`] was called on this thread).
    static STOP_AT: std::cell::Cell<Interrupts> = const { std::cell::Cell::new(Interrupts::Once) };
}

/// Let children waited for on this thread (ffprobe checking a clip that has already finished)
/// run on through the first stop signal: an interrupt waits for their verdict so that a
/// finished clip is not lost; a second signal still kills them at once.
pub fn outlast_first_signal() {
    STOP_AT.with(|s| s.set(Interrupts::Twice));
}

/// Kill a child's group and reap the child.
pub fn kill_and_reap(child: &mut Child) {
    signal_group_id(child.id(), Signal::KILL);
    let _ = child.kill();
    let _ = child.wait();
}

/// Wait for a child started with [`isolate`], polling: on a stop signal, past `limits`, or
/// when its progress mark stays the same too long, its group is killed and it is reaped.
pub fn wait(child: &mut Child, limits: &Limits) -> Result<ExitStatus, Stopped> {
    let started = Instant::now();
    let mut clock = ActiveClock::new();
    let mut mark = limits.progress.map(|(f, _)| f());
    let mut since_progress = Duration::ZERO;
    loop {
        match child.try_wait() {
            Ok(Some(st)) => return Ok(st),
            Ok(None) => {}
            Err(e) => {
                kill_and_reap(child);
                return Err(Stopped::Io(e));
            }
        }
        if interrupts() >= STOP_AT.with(|s| s.get()) {
            kill_and_reap(child);
            return Err(Stopped::Interrupted);
        }
        let before = clock.active;
        let (active, _) = clock.tick();
        if active > limits.total {
            kill_and_reap(child);
            return Err(Stopped::TimedOut(limits.total));
        }
        if let Some((f, stall)) = limits.progress {
            let now = f();
            if Some(now) != mark {
                mark = Some(now);
                since_progress = Duration::ZERO;
            } else {
                since_progress += active - before;
                if since_progress > stall {
                    kill_and_reap(child);
                    return Err(Stopped::Stalled(stall));
                }
            }
        }
        std::thread::sleep(poll_after(started.elapsed()));
    }
}

/// Run `cmd` (made an [`isolate`]d group, registered while it runs) to completion within
/// `total` active seconds, collecting its stdout and stderr; stdin is /dev/null.
pub fn output(cmd: &mut Command, total: Duration) -> Result<Output, Stopped> {
    let mut child = isolate(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(Stopped::Io)?;
    let _group = Group::of(&child);
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let status = wait(
        &mut child,
        &Limits {
            total,
            progress: None,
        },
    );
    // The group is dead or done: the pipes close and the readers end.
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    Ok(Output {
        status: status?,
        stdout,
        stderr,
    })
}

/// Whether `pid` is a live process that looks like farm (its command or executable is named
/// `farm...`). Unknown counts as live: callers use this to decide what they may delete.
pub fn is_live_farm(pid: u32) -> bool {
    if pid == 0 || pid > i32::MAX as u32 {
        return false;
    }
    if pid == std::process::id() {
        return true;
    }
    if !std::path::Path::new("/proc/self").exists() {
        return true; // no /proc: we cannot tell
    }
    let proc = std::path::PathBuf::from(format!("/proc/{pid}"));
    if !proc.exists() {
        return false;
    }
    let named_farm = |s: &str| s.rsplit('/').next().unwrap_or(s).starts_with("farm");
    let comm = std::fs::read_to_string(proc.join("comm")).unwrap_or_default();
    let argv0 = std::fs::read(proc.join("cmdline"))
        .map(|b| {
            String::from_utf8_lossy(b.split(|&c| c == 0).next().unwrap_or_default()).into_owned()
        })
        .unwrap_or_default();
    if comm.is_empty() && argv0.is_empty() {
        return proc.exists(); // unreadable: live unless it is gone meanwhile
    }
    named_farm(comm.trim()) || named_farm(&argv0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interrupts_count_once_then_twice() {
        assert_eq!(Interrupts::from_count(0), Interrupts::None);
        assert_eq!(Interrupts::from_count(1), Interrupts::Once);
        assert_eq!(Interrupts::from_count(7), Interrupts::Twice);
        assert!(Interrupts::None < Interrupts::Once && Interrupts::Once < Interrupts::Twice);
        assert!(!Interrupts::None.any() && Interrupts::Once.any());
    }

    #[test]
    fn the_clock_leaves_out_long_gaps() {
        let mut c = ActiveClock::new();
        c.last -= Duration::from_millis(50);
        let (a, gap) = c.tick();
        assert!(a >= Duration::from_millis(50) && gap.is_zero());
        c.last -= MAX_TICK_GAP * 3;
        let (b, gap) = c.tick();
        assert_eq!(b, a, "a stop is not counted");
        assert!(gap >= MAX_TICK_GAP * 3);
    }

    #[test]
    fn a_child_over_its_limit_is_killed_with_its_group() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 30 & sleep 30"]);
        let t = Instant::now();
        match output(&mut cmd, Duration::from_millis(300)) {
            Err(Stopped::TimedOut(d)) => assert_eq!(d, Duration::from_millis(300)),
            other => panic!("{other:?}"),
        }
        // The pipes closed, so the background sleep (same group) died too.
        assert!(t.elapsed() < Duration::from_secs(20));
    }

    #[test]
    fn output_collects_stdout_and_status() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo hi; echo err >&2; exit 3"]);
        let o = output(&mut cmd, Duration::from_secs(60)).unwrap();
        assert_eq!(o.status.code(), Some(3));
        assert_eq!(o.stdout, b"hi\n");
        assert_eq!(o.stderr, b"err\n");
    }

    #[test]
    fn a_child_without_progress_is_stalled() {
        let mut child = isolate(Command::new("sleep").arg("30")).spawn().unwrap();
        let mark = || 7u128;
        let r = wait(
            &mut child,
            &Limits {
                total: Duration::from_secs(60),
                progress: Some((&mark, Duration::from_millis(200))),
            },
        );
        assert!(matches!(r, Err(Stopped::Stalled(_))), "{r:?}");
    }

    #[test]
    fn only_farm_processes_count_as_live_farm() {
        assert!(is_live_farm(std::process::id()));
        let mut c = Command::new("sleep").arg("30").spawn().unwrap();
        assert!(!is_live_farm(c.id()), "sleep is not farm");
        let _ = c.kill();
        let _ = c.wait();
        assert!(!is_live_farm(0));
    }
}
