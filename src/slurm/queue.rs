//! What Slurm says, without accounting: `squeue` (the tasks queued or running now) and
//! `scontrol show config` (`MaxArraySize`). Many clusters have no accounting database, so
//! `sacct` is never used: a task that is not in `squeue` has ended, and how it ended is what
//! its clip's record says ([`task_verdict`]); a task that ended without writing one (killed by
//! a node failure, out of time or memory) is failed, not waited for.

use crate::manifest::{ClipRecord, ClipState};
use std::collections::HashMap;
use std::process::{Command, Stdio};

/// The tasks `squeue` lists now, by id (`<job>_<task>` for an array's, `<job>` otherwise), with
/// their state (`PENDING`, `RUNNING`, `COMPLETING`, ...).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Queue {
    tasks: HashMap<String, String>,
}

impl Queue {
    /// Ask `squeue` (every job, one line per array task).
    pub fn read() -> Result<Queue, String> {
        let out = Command::new("squeue")
            .args(["--noheader", "--array", "--format=%i %T"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run squeue: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "squeue failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Queue::parse(&String::from_utf8_lossy(&out.stdout)))
    }

    /// Read `squeue --noheader --array --format='%i %T'` output.
    pub fn parse(text: &str) -> Queue {
        let tasks = text
            .lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                Some((w.next()?.to_string(), w.next().unwrap_or("").to_string()))
            })
            .collect();
        Queue { tasks }
    }

    /// The state of task `id`, while it is queued or running.
    pub fn state(&self, id: &str) -> Option<&str> {
        self.tasks.get(id).map(String::as_str)
    }
}

/// The cluster's `MaxArraySize` (`scontrol show config`), if it can be asked.
pub fn max_array_size() -> Option<usize> {
    let out = Command::new("scontrol")
        .args(["show", "config"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    parse_max_array_size(&String::from_utf8_lossy(&out.stdout))
}

/// `MaxArraySize = 1001` in `scontrol show config` output.
pub fn parse_max_array_size(text: &str) -> Option<usize> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == "MaxArraySize")
            .then(|| v.trim().parse().ok())
            .flatten()
    })
}

/// Where one submitted task stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// In the queue, not started (or started, and its record not yet written).
    Queued,
    /// Rendering (its record says so, and it is in the queue).
    Running,
    /// Its clip is done.
    Done,
    /// It failed: its record's error, or why it is taken as failed.
    Failed(String),
}

/// Where Slurm task `task` stands, from the queue (read first) and its clip's record (read
/// after): a record written by that task says how it went; a task that left the queue without
/// writing an end is failed.
pub fn task_verdict(task: &str, queue: &Queue, record: Option<&ClipRecord>) -> Verdict {
    let queued = queue.state(task).is_some();
    let mine = record.filter(|r| r.slurm.as_deref() == Some(task));
    match (mine.map(|r| r.state), queued) {
        (Some(ClipState::Done), _) => Verdict::Done,
        (Some(ClipState::Failed), _) | (Some(ClipState::Interrupted), false) => Verdict::Failed(
            mine.and_then(|r| r.error.clone())
                .unwrap_or_else(|| "failed".into()),
        ),
        (Some(_), true) => Verdict::Running,
        (None, true) => Verdict::Queued,
        (Some(_), false) => Verdict::Failed(format!(
            "Slurm task {task} ended while rendering, without recording an end (killed, out of time or memory, or its node failed)"
        )),
        (None, false) => Verdict::Failed(format!(
            "Slurm task {task} ended without rendering (cancelled, or it could not start)"
        )),
    }
}

/// For `farm status`: why a clip recorded `running` by Slurm task `task` is not (its task is
/// no longer in the queue), or None when it is still there.
pub fn gone(task: &str, queue: &Queue) -> Option<String> {
    queue.state(task).is_none().then(|| {
        format!(
            "its Slurm task {task} is no longer queued or running and never recorded an end (killed, out of time or memory, or its node failed)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;

    #[test]
    fn squeue_and_scontrol_output_is_read() {
        let q = Queue::parse("41_0 RUNNING\n41_1 PENDING\n42 COMPLETING\n\n");
        assert_eq!(q.state("41_0"), Some("RUNNING"));
        assert_eq!(q.state("42"), Some("COMPLETING"));
        assert_eq!(q.state("41_2"), None);
        let cfg = "MaxArraySize            = 1001\nMaxJobCount             = 10000\n";
        assert_eq!(parse_max_array_size(cfg), Some(1001));
        assert_eq!(parse_max_array_size("nothing"), None);
    }

    #[test]
    fn a_task_is_judged_by_its_own_record_and_the_queue() {
        let mut m = Manifest::default();
        let q = Queue::parse("7_0 RUNNING\n7_1 PENDING\n");
        let rec = |m: &mut Manifest, st, task: &str| {
            let r = m.set("a", "h", 1, st);
            r.slurm = Some(task.into());
            r.error = (st == ClipState::Failed).then(|| "boom".into());
            r.clone()
        };
        let r = rec(&mut m, ClipState::Running, "7_0");
        assert_eq!(task_verdict("7_0", &q, Some(&r)), Verdict::Running);
        // The same record, its task gone: it died without a word.
        let v = task_verdict("7_5", &q, Some(&rec(&mut m, ClipState::Running, "7_5")));
        assert!(
            matches!(&v, Verdict::Failed(e) if e.contains("without recording an end")),
            "{v:?}"
        );
        assert!(gone("7_5", &q).is_some() && gone("7_0", &q).is_none());
        // An older record (another task's) does not speak for this one.
        let old = rec(&mut m, ClipState::Done, "3_0");
        assert_eq!(task_verdict("7_1", &q, Some(&old)), Verdict::Queued);
        let v = task_verdict("7_9", &q, Some(&old));
        assert!(
            matches!(&v, Verdict::Failed(e) if e.contains("without rendering")),
            "{v:?}"
        );
        let done = rec(&mut m, ClipState::Done, "7_0");
        assert_eq!(task_verdict("7_0", &q, Some(&done)), Verdict::Done);
        let failed = rec(&mut m, ClipState::Failed, "7_2");
        assert_eq!(
            task_verdict("7_2", &q, Some(&failed)),
            Verdict::Failed("boom".into())
        );
    }
}
