//! Where a plan's intermediates live. [`Layout`] is the one owner of every path in a work dir;
//! no other module builds one.
//!
//! ```text
//! <plan folder>/.farm/<stem>-<hash>/     the work dir (plan::work_dir_for)
//!   .farm-workdir                        marker: farm made this folder (checked before removal)
//!   lock                                 the work-dir lock: exclusive for `farm run` and `farm
//!                                        join`, shared by each `farm render` of one clip
//!   state/<id>.yaml                      one clip's state and hash (the manifest; written via
//!                                        state/.<id>.yaml.tmp-HOST-PID)
//!   locks/<id>.lock                      held by the `farm render` (a Slurm task) of that clip
//!   clips/<id>.mp4, clips/<id>.mp4.partial
//!   logs/<id>.log                        one per clip: the ffmpeg command, then its stderr
//!   run/join.log, run/concat.txt, run/worker-N.stderr   the run's own files
//! ```
//!
//! The clip namespace (`clips/`, `logs/`) holds nothing but clips and their logs, so that no
//! segment id (`join`, `worker-1`, `manifest`) can collide with a file of the run itself.

use crate::plan::{self, FARM_DIR, Plan, WORK_MARKER};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The first line of the marker file; a folder is a farm work dir only when its marker starts
/// with this line.
pub const MARKER_LINE: &str = "This folder is a farm work dir: farm made it, and removes it after a successful run or with `farm clean`.";

/// Where a plan's intermediates live.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The work dir.
    pub work: PathBuf,
}

/// What [`Layout::remove`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Removal {
    /// There was no work dir.
    Nothing,
    /// The work dir was removed.
    Removed {
        /// Files it held.
        files: u64,
        /// Their bytes.
        bytes: u64,
        /// `.farm/` was removed too (it was left empty).
        farm_dir_too: bool,
    },
}

impl Layout {
    /// The layout of a plan.
    pub fn of(plan: &Plan) -> Layout {
        Layout {
            work: plan.work_dir(),
        }
    }

    /// The layout of the plan file at `plan` (the file need not parse, or exist).
    pub fn for_plan_file(plan: &Path) -> Layout {
        Layout {
            work: plan::work_dir_for(&plan::absolute(plan)),
        }
    }

    /// The audio feature cache, beside the work dirs in `.farm/`: shared by the plans of the
    /// folder and kept after every run's cleanup (`farm clean` leaves it too).
    pub fn feature_cache(&self) -> PathBuf {
        self.farm_dir().join("cache")
    }

    /// The folder of `farm slurm`'s job scripts, Slurm's logs and the join's result, beside
    /// the work dir (`<work dir>.slurm`): the join's cleanup of the work dir leaves it (the
    /// join job's own log is open in it), `farm clean` removes it.
    pub fn slurm_dir(&self) -> PathBuf {
        let mut name = self.work.file_name().unwrap_or_default().to_owned();
        name.push(".slurm");
        self.farm_dir().join(name)
    }

    /// Remove [`Layout::slurm_dir`] if it is farm's (a real folder holding `submit.sh`); true
    /// when it was removed.
    pub fn remove_slurm_dir(&self) -> Result<bool, String> {
        let dir = self.slurm_dir();
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.is_dir() && dir.join("submit.sh").is_file() => {
                std::fs::remove_dir_all(&dir)
                    .map_err(|e| format!("cannot remove {}: {e}", dir.display()))?;
                let _ = std::fs::remove_dir(self.farm_dir());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// The `.farm/` folder that holds the work dir.
    pub fn farm_dir(&self) -> PathBuf {
        self.work
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(FARM_DIR))
    }
    /// The folder of clip files.
    pub fn clips_dir(&self) -> PathBuf {
        self.work.join("clips")
    }
    /// The folder of clip logs.
    pub fn logs_dir(&self) -> PathBuf {
        self.work.join("logs")
    }
    /// The folder of the run's own files (join log, concat list, worker stderr).
    pub fn run_dir(&self) -> PathBuf {
        self.work.join("run")
    }
    /// A clip's file.
    pub fn clip(&self, id: &str) -> PathBuf {
        self.clips_dir().join(format!("{id}.mp4"))
    }
    /// The name a clip is written under until its encoder has finished it.
    pub fn partial(&self, id: &str) -> PathBuf {
        self.clips_dir().join(format!("{id}.mp4.partial"))
    }
    /// A clip's log.
    pub fn log(&self, id: &str) -> PathBuf {
        self.logs_dir().join(format!("{id}.log"))
    }
    /// A worker process's own stderr.
    pub fn worker_log(&self, wid: u64) -> PathBuf {
        self.run_dir().join(format!("worker-{wid}.stderr"))
    }
    /// The concat list of the join.
    pub fn concat_list(&self) -> PathBuf {
        self.run_dir().join("concat.txt")
    }
    /// A clip as the concat list names it: relative to the list's folder, so that the list
    /// never holds the project's path (which may contain a newline or bytes that are not UTF-8).
    pub fn concat_entry(&self, id: &str) -> PathBuf {
        Path::new("..").join("clips").join(format!("{id}.mp4"))
    }
    /// The join's log (ffmpeg's command line, then its stderr).
    pub fn join_log(&self) -> PathBuf {
        self.run_dir().join("join.log")
    }
    /// The manifest: a folder of one record per clip ([`crate::manifest`]).
    pub fn state_dir(&self) -> PathBuf {
        self.work.join("state")
    }
    /// A clip's record.
    pub fn record(&self, id: &str) -> PathBuf {
        self.state_dir().join(crate::manifest::record_file_name(id))
    }
    /// The temporary file this process writes a clip's record to before renaming it over
    /// [`Layout::record`].
    pub fn record_tmp(&self, id: &str) -> PathBuf {
        crate::manifest::tmp_name(&self.state_dir(), id)
    }
    /// The folder of per-clip locks (a `farm render` of a clip holds its clip's).
    pub fn locks_dir(&self) -> PathBuf {
        self.work.join("locks")
    }
    /// A clip's lock file.
    pub fn clip_lock(&self, id: &str) -> PathBuf {
        self.locks_dir().join(format!("{id}.lock"))
    }
    /// The marker that says farm made this work dir.
    pub fn marker(&self) -> PathBuf {
        self.work.join(WORK_MARKER)
    }
    /// The work-dir lock file.
    pub fn lock(&self) -> PathBuf {
        self.work.join("lock")
    }

    /// Create `.farm/` and the work dir itself (nothing inside it yet: the lock comes first);
    /// true when the work dir was made now. Refused: a `.farm` or work dir that is a symlink or
    /// not a folder, and an existing work dir that farm did not make (no marker) and that is
    /// not empty.
    pub fn create_root(&self) -> Result<bool, String> {
        let farm = self.farm_dir();
        match std::fs::symlink_metadata(&farm) {
            Ok(m) => real_dir(&farm, &m)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match std::fs::create_dir(&farm) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(format!("cannot create {}: {e}", farm.display())),
                }
            }
            Err(e) => return Err(format!("cannot read {}: {e}", farm.display())),
        }
        match std::fs::create_dir(&self.work) {
            Ok(()) => return Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(format!(
                    "cannot create the work dir {}: {e}",
                    self.work.display()
                ));
            }
        }
        self.usable()?;
        Ok(false)
    }

    /// Mark the work dir as farm's (when it is not yet) and create its folders. Call after
    /// [`Layout::create_root`] and after taking the lock. `plan` is named in the marker.
    pub fn init(&self, plan: &Path) -> Result<(), String> {
        if self.check_marker().is_err() {
            // Written aside and renamed: Slurm tasks may init the same work dir at once, and
            // none may read a half-written marker.
            let text = format!("{MARKER_LINE}\nplan: {}\n", plan.display());
            // (The temporary file is in `.farm/`, not in the work dir, which holds nothing but
            // the lock until the marker is in: see `usable`.)
            let tmp = self.farm_dir().join(format!(
                ".marker.tmp-{}-{}",
                crate::manifest::hostname(),
                std::process::id()
            ));
            std::fs::write(&tmp, text)
                .and_then(|()| std::fs::rename(&tmp, self.marker()))
                .map_err(|e| {
                    let _ = std::fs::remove_file(&tmp);
                    format!("cannot write {}: {e}", self.marker().display())
                })?;
        }
        for d in [
            self.clips_dir(),
            self.logs_dir(),
            self.run_dir(),
            self.state_dir(),
            self.locks_dir(),
        ] {
            std::fs::create_dir_all(&d)
                .map_err(|e| format!("cannot create the work dir {}: {e}", d.display()))?;
        }
        Ok(())
    }

    /// Whether `run` could create and use the work dir, without creating anything (for
    /// `farm check`).
    pub fn check_creatable(&self) -> Result<(), String> {
        let farm = self.farm_dir();
        match std::fs::symlink_metadata(&farm) {
            Ok(m) => real_dir(&farm, &m)?,
            Err(_) => return writable(&farm),
        }
        if std::fs::symlink_metadata(&self.work).is_ok() {
            self.usable()?;
            writable(&self.work)
        } else {
            writable(&self.work)
        }
    }

    /// An existing work dir is usable when it is a real folder that farm made (its marker),
    /// or an empty folder.
    fn usable(&self) -> Result<(), String> {
        let m = std::fs::symlink_metadata(&self.work)
            .map_err(|e| format!("cannot read {}: {e}", self.work.display()))?;
        real_dir(&self.work, &m)?;
        if self.check_marker().is_ok() {
            return Ok(());
        }
        // Empty, or holding only the lock file: another farm process has just made it and
        // is taking the lock before it writes the marker (the lock then decides who runs).
        let fresh = std::fs::read_dir(&self.work)
            .map(|rd| {
                rd.flatten()
                    .all(|e| e.path() == self.lock() && e.file_type().is_ok_and(|t| t.is_file()))
            })
            .unwrap_or(false);
        if fresh {
            Ok(())
        } else {
            Err(format!(
                "{} exists but farm did not make it (it has no {WORK_MARKER} marker); farm will neither use nor remove it: move it away",
                self.work.display()
            ))
        }
    }

    fn check_marker(&self) -> Result<(), String> {
        let m = self.marker();
        let no = |why: &str| {
            format!(
                "{} is not a farm work dir ({why}); farm removes only folders it made",
                self.work.display()
            )
        };
        match std::fs::symlink_metadata(&m) {
            Ok(md) if md.file_type().is_file() => {}
            Ok(_) => return Err(no(&format!("{WORK_MARKER} is not a regular file"))),
            Err(_) => return Err(no(&format!("it has no {WORK_MARKER} marker"))),
        }
        let mut head = Vec::new();
        std::fs::File::open(&m)
            .and_then(|f| f.take(4096).read_to_end(&mut head))
            .map_err(|e| no(&format!("cannot read {WORK_MARKER}: {e}")))?;
        let text = String::from_utf8_lossy(&head);
        if text.lines().next() == Some(MARKER_LINE) {
            Ok(())
        } else {
            Err(no(&format!("{WORK_MARKER} was not written by farm")))
        }
    }

    /// Check that the work dir may be removed: a direct child of a real `.farm` folder, with a
    /// work dir's name, a real folder (no symlink followed), holding farm's marker.
    pub fn check_ours(&self) -> Result<(), String> {
        let name = self.work.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !plan::is_work_dir_name(name) {
            return Err(format!(
                "{} is not named like a farm work dir; not removed",
                self.work.display()
            ));
        }
        let farm = self.farm_dir();
        if farm.file_name().is_none_or(|n| n != FARM_DIR) {
            return Err(format!(
                "{} is not inside a {FARM_DIR} folder; not removed",
                self.work.display()
            ));
        }
        for d in [&farm, &self.work] {
            let m = std::fs::symlink_metadata(d)
                .map_err(|e| format!("cannot read {}: {e}", d.display()))?;
            real_dir(d, &m)?;
        }
        self.check_marker()
    }

    /// Remove the work dir, once [`Layout::check_ours`] agrees, and `.farm/` when it is left
    /// empty. Symlinks inside are removed, never followed.
    pub fn remove(&self) -> Result<Removal, String> {
        if std::fs::symlink_metadata(&self.work).is_err() {
            return Ok(Removal::Nothing);
        }
        self.check_ours()?;
        let (mut files, mut bytes) = (0, 0);
        for e in walkdir::WalkDir::new(&self.work)
            .follow_links(false)
            .into_iter()
            .flatten()
        {
            if !e.file_type().is_dir() {
                files += 1;
                bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
        // std's remove_dir_all does not follow symlinks (it unlinks them, and walks with
        // openat/unlinkat below the root).
        std::fs::remove_dir_all(&self.work)
            .map_err(|e| format!("cannot remove {}: {e}", self.work.display()))?;
        let farm_dir_too = std::fs::remove_dir(self.farm_dir()).is_ok();
        Ok(Removal::Removed {
            files,
            bytes,
            farm_dir_too,
        })
    }
}

/// `p` (with metadata `m`, not followed) must be a real folder.
fn real_dir(p: &Path, m: &std::fs::Metadata) -> Result<(), String> {
    if m.file_type().is_symlink() {
        Err(format!(
            "{} is a symlink; farm keeps its work dirs in real folders and follows no symlink there",
            p.display()
        ))
    } else if !m.is_dir() {
        Err(format!("{} is not a folder", p.display()))
    } else {
        Ok(())
    }
}

/// Whether a folder could be created at `p` (or written in, when it exists), without creating
/// anything: its deepest existing ancestor must be a folder this process may write in.
pub fn writable(p: &Path) -> Result<(), String> {
    let Some(a) = p.ancestors().find(|a| std::fs::symlink_metadata(a).is_ok()) else {
        return Err(format!("no folder of {} exists", p.display()));
    };
    if !a.is_dir() {
        return Err(format!("{} is not a folder", a.display()));
    }
    rustix::fs::access(
        a,
        rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK,
    )
    .map_err(|e| {
        let what = if a == p {
            String::new()
        } else {
            format!(" (to create {})", p.display())
        };
        format!(
            "the folder {} is not writable{what}: {}",
            a.display(),
            std::io::Error::from(e)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_files_are_outside_the_clip_namespace() {
        let l = Layout {
            work: PathBuf::from("/p/.farm/plan-0123456789ab"),
        };
        let run_files = [
            l.join_log(),
            l.concat_list(),
            l.worker_log(1),
            l.record_tmp("a"),
        ];
        for id in [
            "join",
            "concat",
            "worker-1",
            "worker-1.stderr",
            "manifest",
            ".a.yaml.tmp-localhost-1",
            "lock",
            "state",
        ] {
            for f in [
                l.clip(id),
                l.partial(id),
                l.log(id),
                l.record(id),
                l.clip_lock(id),
            ] {
                assert!(!run_files.contains(&f), "{id}: {}", f.display());
                assert!(f != l.state_dir() && f != l.marker() && f != l.lock());
            }
        }
        assert_eq!(
            l.concat_list().parent().unwrap().join(l.concat_entry("a")),
            l.run_dir().join("../clips/a.mp4")
        );
    }

    #[test]
    fn remove_refuses_a_folder_without_the_marker_and_keeps_everything() {
        let d = tempfile::tempdir().unwrap();
        let l = Layout::for_plan_file(&d.path().join("p.yaml"));
        std::fs::create_dir_all(&l.work).unwrap();
        std::fs::write(l.work.join("mine.txt"), "user data").unwrap();
        let e = l.remove().unwrap_err();
        assert!(e.contains("not a farm work dir"), "{e}");
        assert!(l.work.join("mine.txt").is_file());
        assert!(
            l.create_root()
                .unwrap_err()
                .contains("farm did not make it")
        );
        // A marker with other text is not farm's either.
        std::fs::write(l.marker(), "something else\n").unwrap();
        assert!(l.remove().unwrap_err().contains("not written by farm"));
        assert!(l.work.join("mine.txt").is_file());
    }

    #[test]
    fn a_marked_work_dir_is_removed_and_farm_dir_only_when_empty() {
        let d = tempfile::tempdir().unwrap();
        let a = Layout::for_plan_file(&d.path().join("a.yaml"));
        let b = Layout::for_plan_file(&d.path().join("b.yaml"));
        for l in [&a, &b] {
            assert!(l.create_root().unwrap());
            l.init(&d.path().join("x.yaml")).unwrap();
            std::fs::write(l.clip("c"), "clip").unwrap();
        }
        assert!(!a.create_root().unwrap(), "exists now");
        assert_eq!(
            a.remove().unwrap(),
            Removal::Removed {
                files: 2,
                bytes: 4 + std::fs::metadata(b.marker()).unwrap().len(),
                farm_dir_too: false
            }
        );
        assert!(b.clip("c").is_file(), "the other plan's work dir stays");
        assert_eq!(a.remove().unwrap(), Removal::Nothing);
        assert!(matches!(
            b.remove().unwrap(),
            Removal::Removed {
                farm_dir_too: true,
                ..
            }
        ));
        assert!(!d.path().join(FARM_DIR).exists());
    }

    #[test]
    fn symlinked_work_dirs_are_neither_used_nor_followed() {
        let d = tempfile::tempdir().unwrap();
        let elsewhere = d.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        std::fs::write(elsewhere.join("keep.txt"), "x").unwrap();
        let l = Layout::for_plan_file(&d.path().join("p.yaml"));
        std::fs::create_dir(l.farm_dir()).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &l.work).unwrap();
        // Even with a valid marker behind the link.
        std::fs::write(elsewhere.join(WORK_MARKER), format!("{MARKER_LINE}\n")).unwrap();
        assert!(l.remove().unwrap_err().contains("symlink"));
        assert!(l.create_root().unwrap_err().contains("symlink"));
        assert!(elsewhere.join("keep.txt").is_file());
    }
}
