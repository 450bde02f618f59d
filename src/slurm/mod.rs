//! A plan as a Slurm job array: `farm slurm` writes (and submits) one array task per clip and a
//! join job that depends on every task by id; `--wait` follows the run from the shared work dir.
//!
//! # Map
//!
//! - [`script`]: the job scripts as text (array ranges, throttle, the split over
//!   `MaxArraySize`, dependencies, quoting); pure.
//! - [`queue`]: what `squeue` and `scontrol` say, and the verdict on a task from the queue and
//!   its clip's record (no `sacct`: accounting is optional on a cluster).
//! - this file: writing the scripts into their folder, submitting them (`submit.sh`, the same
//!   script a user runs by hand), and waiting for the result ([`wait`]).
//!
//! The tasks share the plan's work dir (same layout, records and clips as a local run: see
//! `coordinator::layout`); each writes only its own clip's files and record, under its clip's
//! lock. So `farm status` works from any node, and `farm run` finishes what a Slurm run left
//! (and `farm slurm` what a local run left).

pub mod queue;
pub mod script;

use crate::coordinator::{FailedClip, Layout, TAIL_LINES};
use crate::manifest::Manifest;
use crate::report::Reporter;
use queue::{Queue, Verdict, task_verdict};
use script::Scripts;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Write the scripts into `dir` (created, with `logs/`), each through a temporary file renamed
/// into place; `submit.sh` executable.
pub fn write(dir: &Path, s: &Scripts) -> Result<(), String> {
    let fail = |p: &Path, e: std::io::Error| format!("cannot write {}: {e}", p.display());
    std::fs::create_dir_all(dir.join("logs")).map_err(|e| fail(dir, e))?;
    let mut files: Vec<(&str, &str)> = s
        .arrays
        .iter()
        .map(|a| (a.file.as_str(), a.text.as_str()))
        .collect();
    // Arrays of an earlier, larger submission go: the folder shows this one's scripts only.
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let stale = name.starts_with("render-")
                && name.ends_with(".sbatch")
                && !files.iter().any(|(f, _)| *f == name);
            if stale {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    files.push(("join.sbatch", &s.join));
    files.push(("submit.sh", &s.submit));
    for (name, text) in files {
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let put = || -> std::io::Result<()> {
            std::fs::write(&tmp, text)?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))?;
            std::fs::rename(&tmp, &path)
        };
        put().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            fail(&path, e)
        })?;
    }
    Ok(())
}

/// The jobs a submission made.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    /// Each render array's job id and its clips' indices (task 0 first).
    pub arrays: Vec<(String, Vec<usize>)>,
    /// The join job's id.
    pub join: String,
}

impl Submitted {
    /// Every task: its Slurm id (`<job>_<task>`) and clip index.
    pub fn tasks(&self) -> Vec<(String, usize)> {
        self.arrays
            .iter()
            .flat_map(|(job, idx)| {
                idx.iter()
                    .enumerate()
                    .map(move |(t, &i)| (format!("{job}_{t}"), i))
            })
            .collect()
    }
}

/// Read `submit.sh`'s output (`array <job> <tasks>` lines, then `join <job>`).
pub fn parse_submitted(out: &str, s: &Scripts) -> Result<Submitted, String> {
    let mut arrays = Vec::new();
    let mut join = None;
    for l in out.lines() {
        let w: Vec<&str> = l.split_whitespace().collect();
        match w[..] {
            ["array", job, n] => {
                let a = s
                    .arrays
                    .get(arrays.len())
                    .ok_or("more arrays than scripts")?;
                if n.parse::<usize>().ok() != Some(a.indices.len()) {
                    return Err(format!(
                        "array {job}: {n} tasks, its script has {}",
                        a.indices.len()
                    ));
                }
                arrays.push((job.to_string(), a.indices.clone()));
            }
            ["join", job] => join = Some(job.to_string()),
            _ => {}
        }
    }
    match join {
        Some(join) if arrays.len() == s.arrays.len() => Ok(Submitted { arrays, join }),
        _ => Err(format!("submit.sh did not report every job:\n{out}")),
    }
}

/// Run `dir/submit.sh` (sbatch must be on the PATH) and read the jobs it submitted.
pub fn submit(dir: &Path, s: &Scripts) -> Result<Submitted, String> {
    let out = Command::new("bash")
        .arg(dir.join("submit.sh"))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run bash: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "submitting failed (what had been submitted was cancelled): {}{}",
            String::from_utf8_lossy(&out.stderr).trim(),
            if text.trim().is_empty() {
                String::new()
            } else {
                format!("\n{}", text.trim())
            }
        ));
    }
    parse_submitted(&text, s)
}

/// How a waited-for submission ended.
#[derive(Debug)]
pub enum Outcome {
    /// The join succeeded.
    Joined,
    /// Clips failed (the join was cancelled, or will be by Slurm).
    Failed(Vec<FailedClip>),
    /// Every clip was done but the join failed, or ended without a result: why.
    JoinFailed(String),
    /// A stop signal ended the wait (the jobs go on).
    Interrupted,
}

/// What [`wait`] follows.
pub struct Watch<'a> {
    /// The plan's work dir.
    pub layout: &'a Layout,
    /// Scripts and Slurm's logs.
    pub dir: &'a Path,
    /// Clip ids by index.
    pub ids: &'a [String],
    /// The submission.
    pub submitted: &'a Submitted,
    /// Seconds between looks.
    pub poll: Duration,
}

/// The Slurm log of task `task` (`<job>_<t>`).
pub fn task_log(dir: &Path, task: &str) -> PathBuf {
    dir.join("logs").join(format!("render-{task}.out"))
}

/// Follow a submission until its join ends, or a clip failed: the queue first, then the
/// clips' records (see [`task_verdict`]), every `poll`; a line when the counts change.
pub fn wait(w: &Watch, rep: &mut dyn Reporter) -> Outcome {
    let tasks = w.submitted.tasks();
    let mut last = String::new();
    let mut queue_warned = false;
    let t0 = Instant::now();
    loop {
        if crate::procs::interrupts().any() {
            return Outcome::Interrupted;
        }
        let queue = match Queue::read() {
            Ok(q) => q,
            Err(e) => {
                if !queue_warned {
                    rep.line(&format!("farm: warning: {e}; trying again"));
                    queue_warned = true;
                }
                std::thread::sleep(w.poll);
                continue;
            }
        };
        let join_log = w
            .dir
            .join("logs")
            .join(format!("join-{}.out", w.submitted.join));
        let tail = || {
            crate::media::log_tail(&join_log, TAIL_LINES)
                .iter()
                .map(|l| format!("\n  | {l}"))
                .collect::<String>()
        };
        // A join that ended says so in its result file (the join's cleanup may already have
        // removed the records: a finished join is the last word).
        let join_queued = queue.state(&w.submitted.join).is_some();
        if !join_queued {
            let rc = w.dir.join(format!("join-{}.rc", w.submitted.join));
            match std::fs::read_to_string(&rc).map(|t| t.trim().to_string()) {
                Ok(c) if c == "0" => return Outcome::Joined,
                Ok(c) => {
                    return Outcome::JoinFailed(format!(
                        "the join job {} failed (exit status {c}); its log: {}{}",
                        w.submitted.join,
                        join_log.display(),
                        tail()
                    ));
                }
                Err(_) => {}
            }
        }
        let records = Manifest::load(&w.layout.state_dir())
            .map(|l| l.manifest)
            .unwrap_or_default();
        let (mut done, mut running, mut queued) = (0, 0, 0);
        let mut failed = Vec::new();
        for (task, i) in &tasks {
            let id = &w.ids[*i];
            match task_verdict(task, &queue, records.clips.get(id)) {
                Verdict::Done => done += 1,
                Verdict::Running => running += 1,
                Verdict::Queued => queued += 1,
                Verdict::Failed(why) => {
                    let clip_log = w.layout.log(id);
                    let slurm_log = task_log(w.dir, task);
                    // The clip's own log when the task got that far, else Slurm's.
                    let log = if clip_log.exists() {
                        clip_log
                    } else {
                        slurm_log
                    };
                    failed.push(FailedClip {
                        id: id.clone(),
                        error: why,
                        tail: crate::media::log_tail(&log, TAIL_LINES),
                        log,
                    })
                }
            }
        }
        let line = format!(
            "slurm: {done}/{} clips done, {running} rendering, {queued} queued, {} failed",
            tasks.len(),
            failed.len()
        );
        if line != last {
            rep.line(&format!("{line} ({:.0} s)", t0.elapsed().as_secs_f64()));
            last = line;
        }
        if !failed.is_empty() && running + queued == 0 {
            // The join can never run; Slurm ends it (--kill-on-invalid-dep), and so do we.
            let _ = Command::new("scancel")
                .arg(&w.submitted.join)
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .status();
            return Outcome::Failed(failed);
        }
        // A failed task makes Slurm end the join at once (--kill-on-invalid-dep): then the
        // other tasks are waited for, and the failures reported together (above).
        if !join_queued && failed.is_empty() {
            return Outcome::JoinFailed(format!(
                "the join job {} left the queue without a result (cancelled, out of time, or its node failed){}; its log: {}{}",
                w.submitted.join,
                if running + queued > 0 {
                    format!(", while {} render task(s) go on", running + queued)
                } else {
                    String::new()
                },
                join_log.display(),
                tail()
            ));
        }
        std::thread::sleep(w.poll);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_submission_is_read_back_with_each_tasks_clip() {
        let mut spec_indices = vec![2, 5, 6];
        let s = Scripts {
            arrays: vec![
                script::ArrayScript {
                    file: "render-0.sbatch".into(),
                    text: String::new(),
                    indices: std::mem::take(&mut spec_indices),
                },
                script::ArrayScript {
                    file: "render-1.sbatch".into(),
                    text: String::new(),
                    indices: vec![9],
                },
            ],
            join: String::new(),
            submit: String::new(),
        };
        let sub = parse_submitted("array 10 3\narray 11 1\njoin 12\n", &s).unwrap();
        assert_eq!(sub.join, "12");
        assert_eq!(
            sub.tasks(),
            [
                ("10_0".to_string(), 2),
                ("10_1".to_string(), 5),
                ("10_2".to_string(), 6),
                ("11_0".to_string(), 9)
            ]
        );
        assert!(parse_submitted("array 10 3\n", &s).is_err());
        assert!(parse_submitted("array 10 2\narray 11 1\njoin 12\n", &s).is_err());
    }
}
