//! The work dir's lock: one farm process at a time works on a plan's work dir, except that
//! `farm render` processes of different clips (the tasks of a Slurm array) share it.
//!
//! - `farm run`, `farm join` and `farm clean` take [`Layout::lock`] exclusively: nothing else
//!   works on the work dir meanwhile.
//! - `farm render` takes it shared, then its clip's lock ([`Layout::clip_lock`]) exclusively:
//!   tasks of different clips render side by side, two of the same clip never do, and no run,
//!   join or clean starts while any renders. A shared holder writes nothing into the work dir's
//!   lock file (several hold it at once); a clip lock names its holder, host included.
//! - On NFS, Linux emulates `flock(2)` with POSIX byte-range locks, which the NFS lock manager
//!   (NLM on v3, built in on v4) makes hold across nodes: the same rule holds cluster-wide. (A
//!   share mounted with `nolock` keeps locks on each node only; the README says so.)
//!
//! An exclusive `flock(2)` on [`Layout::lock`] (std's `File::try_lock`), held for the whole run
//! and released by the kernel when the holder exits, however it exits: a SIGKILLed run leaves no
//! stale lock. The file is opened close-on-exec, so no worker, ffmpeg or ffprobe inherits it.
//! After locking, the holder writes who it is (pid, start time, command line) into the file, so
//! that a second run can say who is in the way; it empties the file when it lets go.
//!
//! A finished run's cleanup may remove the work dir, lock file included, while another run
//! waits on the old file: after locking, [`WorkLock::acquire`] checks that the path still names
//! the file it locked, and starts over if not.

use super::layout::Layout;
use crate::media::shell_quote;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Whether [`WorkLock::acquire`] waits for a lock another process holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Fail at once with [`LockError::Held`].
    No,
    /// Wait until the holder lets go (a stop signal ends the wait: [`LockError::Interrupted`]).
    Yes,
}

/// How long a lock may be held by a process that has not yet said who it is (it is writing its
/// details, or `farm status` is peeking) before [`Wait::No`] gives up anyway.
pub const UNNAMED_HOLDER_GRACE: Duration = Duration::from_secs(2);

/// How often a waiting [`WorkLock::acquire`] tries again.
const RETRY: Duration = Duration::from_millis(50);

/// Who holds a lock, as written in the lock file by the holder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holder {
    /// Its process id.
    pub pid: Option<u32>,
    /// Its host (a Slurm node, for a clip lock).
    pub host: Option<String>,
    /// When it took the lock, in seconds since the Unix epoch.
    pub started: Option<u64>,
    /// Its command line, shell-quoted.
    pub command: Option<String>,
}

impl Holder {
    /// This process, now.
    fn me() -> Holder {
        Holder {
            pid: Some(std::process::id()),
            host: Some(crate::manifest::hostname()),
            started: Some(crate::manifest::now()),
            command: Some(
                std::env::args_os()
                    .map(|a| shell_quote(&a.to_string_lossy()))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        }
    }

    fn to_text(&self) -> String {
        let mut s = String::new();
        if let Some(p) = self.pid {
            s.push_str(&format!("pid: {p}\n"));
        }
        if let Some(h) = &self.host {
            s.push_str(&format!("host: {}\n", h.replace('\n', " ")));
        }
        if let Some(t) = self.started {
            s.push_str(&format!("started: {t}\n"));
        }
        if let Some(c) = &self.command {
            // One line: a newline in an argument is shown escaped.
            s.push_str(&format!("command: {}\n", c.replace('\n', "\\n")));
        }
        s
    }

    /// Read the fields a holder wrote; unknown or damaged lines are ignored.
    pub fn parse(text: &str) -> Holder {
        let mut h = Holder::default();
        for line in text.lines() {
            match line.split_once(": ") {
                Some(("pid", v)) => h.pid = v.trim().parse().ok(),
                Some(("host", v)) => h.host = Some(v.trim().to_string()),
                Some(("started", v)) => h.started = v.trim().parse().ok(),
                Some(("command", v)) => h.command = Some(v.to_string()),
                _ => {}
            }
        }
        h
    }

    fn read(path: &Path) -> Holder {
        std::fs::read_to_string(path)
            .map(|t| Holder::parse(&t))
            .unwrap_or_default()
    }

    /// "pid 4242, started 2026-05-01 12:00:03 (75 s ago), command: farm run plan.yaml".
    pub fn describe(&self) -> String {
        let mut parts = vec![match (self.pid, &self.host) {
            (Some(p), Some(h)) if *h != crate::manifest::hostname() => format!("pid {p} on {h}"),
            (Some(p), _) => format!("pid {p}"),
            (None, _) => "`farm render` processes of single clips (Slurm tasks?), or a process that has not written its details yet".to_string(),
        }];
        if let Some(t) = self.started {
            let ago = crate::manifest::now().saturating_sub(t);
            parts.push(format!("started {} ({ago} s ago)", local_time(t)));
        }
        if let Some(c) = &self.command {
            parts.push(format!("command: {c}"));
        }
        parts.join(", ")
    }
}

/// A Unix time as local `YYYY-MM-DD HH:MM:SS` (libc's localtime_r and strftime).
fn local_time(t: u64) -> String {
    let secs = t.min(i64::MAX as u64) as libc::time_t;
    // SAFETY: localtime_r and strftime write only into the buffers we pass, within their sizes.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&secs, &mut tm).is_null() {
            return format!("{t} (Unix time)");
        }
        let mut buf = [0u8; 64];
        let n = libc::strftime(
            buf.as_mut_ptr().cast(),
            buf.len(),
            c"%Y-%m-%d %H:%M:%S".as_ptr(),
            &tm,
        );
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

/// Why the lock was not taken.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds it ([`Wait::No`]).
    Held {
        /// The lock file.
        lock: PathBuf,
        /// The clip, for a clip's lock.
        clip: Option<String>,
        /// Who holds it, as far as its file says.
        holder: Holder,
    },
    /// A stop signal arrived while waiting ([`Wait::Yes`]).
    Interrupted,
    /// The work dir or the lock file cannot be created, opened or locked.
    Io(String),
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Held {
                lock,
                clip: None,
                holder,
            } => write!(
                f,
                "another farm process is working on this plan's work dir ({}): {}; wait for it to finish (`--wait-lock` waits for it), or stop it",
                lock.parent().unwrap_or(lock).display(),
                holder.describe()
            ),
            LockError::Held {
                clip: Some(id),
                holder,
                ..
            } => write!(
                f,
                "clip '{id}' is being rendered by another farm process: {}; wait for it to finish (`--wait-lock` waits for it), or stop it",
                holder.describe()
            ),
            LockError::Interrupted => {
                write!(f, "interrupted while waiting for the work dir's lock")
            }
            LockError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LockError {}

/// How a lock is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Alone; the holder writes its details into the file.
    Exclusive,
    /// With other shared holders; nobody writes.
    Shared,
}

/// A lock on a plan's work dir (or on one clip of it), held until dropped (or the process
/// exits).
#[derive(Debug)]
pub struct WorkLock {
    file: File,
    path: PathBuf,
    mode: Mode,
}

fn alive(pid: u32) -> bool {
    crate::procs::process_exists(pid)
}

impl WorkLock {
    /// Lock the work dir of `layout` exclusively, creating the work dir and the lock file if
    /// needed (before anything else in it is touched), then write this process's details into
    /// the lock file.
    pub fn acquire(layout: &Layout, wait: Wait) -> Result<WorkLock, LockError> {
        take(layout.lock(), &layout.work, None, Mode::Exclusive, wait)
    }

    /// Lock the work dir shared (`farm render` of single clips: see the module doc).
    pub fn acquire_shared(layout: &Layout, wait: Wait) -> Result<WorkLock, LockError> {
        take(layout.lock(), &layout.work, None, Mode::Shared, wait)
    }

    /// Lock clip `id` exclusively (with the work dir held shared), writing this process's
    /// details (host included) into its lock file.
    pub fn acquire_clip(layout: &Layout, id: &str, wait: Wait) -> Result<WorkLock, LockError> {
        take(
            layout.clip_lock(id),
            &layout.locks_dir(),
            Some(id),
            Mode::Exclusive,
            wait,
        )
    }

    /// Who holds the lock of `layout`'s work dir, if anyone does; the lock is not taken (a
    /// shared lock is tried and let go at once, which is how a held lock is told from a file
    /// left by a holder that died).
    pub fn holder(layout: &Layout) -> Option<Holder> {
        holder_at(&layout.lock())
    }

    /// Who holds clip `id`'s lock (a `farm render` of it), if anyone does; see
    /// [`WorkLock::holder`].
    pub fn clip_holder(layout: &Layout, id: &str) -> Option<Holder> {
        holder_at(&layout.clip_lock(id))
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write_holder(&mut self) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        self.file.write_all(Holder::me().to_text().as_bytes())?;
        self.file.flush()
    }
}

/// Who holds the lock file `path` exclusively, if anyone does (a shared lock is tried and let
/// go at once).
fn holder_at(path: &Path) -> Option<Holder> {
    let file = File::open(path).ok()?;
    match file.try_lock_shared() {
        Ok(()) => None,
        Err(TryLockError::WouldBlock) => Some(Holder::read(path)),
        Err(TryLockError::Error(_)) => None,
    }
}

/// Take the lock file `path` in folder `dir` (created first) in `mode`; `clip` names the clip
/// of a clip lock (for the error).
fn take(
    path: PathBuf,
    dir: &Path,
    clip: Option<&str>,
    mode: Mode,
    wait: Wait,
) -> Result<WorkLock, LockError> {
    let t0 = Instant::now();
    loop {
        std::fs::create_dir_all(dir).map_err(|e| {
            LockError::Io(format!("cannot create the folder {}: {e}", dir.display()))
        })?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| LockError::Io(format!("cannot open {}: {e}", path.display())))?;
        loop {
            let tried = match mode {
                Mode::Exclusive => file.try_lock(),
                Mode::Shared => file.try_lock_shared(),
            };
            match tried {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if wait == Wait::Yes => {
                    if crate::procs::interrupts().any() {
                        return Err(LockError::Interrupted);
                    }
                }
                Err(TryLockError::WouldBlock) => {
                    let holder = Holder::read(&path);
                    // A holder that says who it is and is alive (or on another host, where we
                    // cannot look) is in the way for real; one that has not written yet (or a
                    // stale name) gets a moment.
                    let here = holder
                        .host
                        .as_ref()
                        .is_none_or(|h| *h == crate::manifest::hostname());
                    if holder.pid.is_some_and(|p| !here || alive(p))
                        || t0.elapsed() > UNNAMED_HOLDER_GRACE
                    {
                        return Err(LockError::Held {
                            lock: path,
                            clip: clip.map(str::to_string),
                            holder,
                        });
                    }
                }
                Err(TryLockError::Error(e)) => {
                    return Err(LockError::Io(format!(
                        "cannot lock {}: {e}",
                        path.display()
                    )));
                }
            }
            std::thread::sleep(RETRY);
        }
        if !still_named(&file, &path) {
            continue; // removed (a finished run's cleanup) or replaced: lock what is there now
        }
        let mut lock = WorkLock { file, path, mode };
        if mode == Mode::Exclusive {
            lock.write_holder()
                .map_err(|e| LockError::Io(format!("cannot write {}: {e}", lock.path.display())))?;
        }
        return Ok(lock);
    }
}

impl Drop for WorkLock {
    fn drop(&mut self) {
        // Empty the file while still holding the lock: nobody reads a departed holder's name.
        if self.mode == Mode::Exclusive {
            let _ = self.file.set_len(0);
        }
        let _ = self.file.unlock();
    }
}

/// Does `path` still name the file `file` has open?
fn still_named(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_lock_file(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap_or_default()
    }

    fn layout(d: &Path) -> Layout {
        Layout {
            work: d.join(".farm").join("p"),
        }
    }

    #[test]
    fn a_second_lock_is_refused_with_the_holders_details_and_freed_on_drop() {
        let d = tempfile::tempdir().unwrap();
        let l = layout(d.path());
        let held = WorkLock::acquire(&l, Wait::No).unwrap();
        assert!(l.work.is_dir(), "the work dir is created first");
        let text = read_lock_file(held.path());
        assert!(
            text.contains(&format!("pid: {}\n", std::process::id())),
            "{text}"
        );
        match WorkLock::acquire(&l, Wait::No) {
            Err(LockError::Held { holder, .. }) => {
                assert_eq!(holder.pid, Some(std::process::id()));
                assert!(holder.command.is_some() && holder.started.is_some());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(WorkLock::holder(&l).unwrap().pid, Some(std::process::id()));
        drop(held);
        assert_eq!(WorkLock::holder(&l), None);
        assert_eq!(
            read_lock_file(&l.lock()),
            "",
            "a released lock names nobody"
        );
        let again = WorkLock::acquire(&l, Wait::No).unwrap();
        drop(again);
    }

    #[test]
    fn a_lock_file_removed_while_held_is_not_shared() {
        let d = tempfile::tempdir().unwrap();
        let l = layout(d.path());
        let first = WorkLock::acquire(&l, Wait::No).unwrap();
        // A waiter opens the file, then the holder's cleanup removes the whole work dir.
        let waiter = {
            let l = l.clone();
            std::thread::spawn(move || WorkLock::acquire(&l, Wait::Yes))
        };
        std::thread::sleep(Duration::from_millis(200));
        std::fs::remove_dir_all(&l.work).unwrap();
        drop(first);
        let second = waiter.join().unwrap().unwrap();
        assert!(
            still_named(&second.file, &l.lock()),
            "it locked the file that is there now"
        );
        match WorkLock::acquire(&l, Wait::No) {
            Err(LockError::Held { .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    /// `farm render` tasks of different clips share the work dir; two of one clip do not, and a
    /// run waits for all of them (and they for it).
    #[test]
    fn renders_of_different_clips_share_the_work_dir_and_exclude_a_run() {
        let d = tempfile::tempdir().unwrap();
        let l = layout(d.path());
        let s1 = WorkLock::acquire_shared(&l, Wait::No).unwrap();
        let s2 = WorkLock::acquire_shared(&l, Wait::No).unwrap();
        let a = WorkLock::acquire_clip(&l, "a", Wait::No).unwrap();
        let _b = WorkLock::acquire_clip(&l, "b#2", Wait::No).unwrap();
        match WorkLock::acquire_clip(&l, "a", Wait::No) {
            Err(e @ LockError::Held { .. }) => {
                let msg = e.to_string();
                assert!(
                    msg.starts_with("clip 'a' is being rendered by another farm process: pid "),
                    "{msg}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            read_lock_file(&l.lock()),
            "",
            "shared holders write nothing"
        );
        match WorkLock::acquire(&l, Wait::No) {
            Err(e @ LockError::Held { .. }) => {
                assert!(e.to_string().contains("Slurm tasks?"), "{e}")
            }
            other => panic!("{other:?}"),
        }
        drop((s1, s2, a));
        let run = WorkLock::acquire(&l, Wait::No).unwrap();
        assert!(matches!(
            WorkLock::acquire_shared(&l, Wait::No),
            Err(LockError::Held { clip: None, .. })
        ));
        drop(run);
    }

    #[test]
    fn holder_text_round_trips_and_describes() {
        let h = Holder {
            pid: Some(12),
            host: Some(crate::manifest::hostname()),
            started: Some(1_700_000_000),
            command: Some("farm run 'my plan.yaml'".into()),
        };
        assert_eq!(Holder::parse(&h.to_text()), h);
        let d = h.describe();
        assert!(
            d.starts_with("pid 12, started ") && d.ends_with("command: farm run 'my plan.yaml'"),
            "{d}"
        );
        assert_eq!(Holder::parse("garbage\npid: x\n"), Holder::default());
    }
}
