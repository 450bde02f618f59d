//! `farm status`: each clip's state, frames, time, attempts, log, and what the next run would do.

use super::args::SettingsArgs;
use super::common::{load, settings_for};
use crate::coordinator;
use crate::hw::Hardware;
use std::path::Path;

pub(super) fn cmd_status(plan_path: &Path, a: &SettingsArgs) -> i32 {
    let plan = match load(plan_path) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let hw = Hardware::detect();
    let settings = match settings_for(&hw, Some(&plan), a) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let track = match super::common::soundtrack(
        &plan,
        &settings,
        &hw,
        coordinator::soundtrack::CacheUse::ReadOnly,
    ) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let mut rep = crate::report::Plain::new();
    let rows = match coordinator::status(&plan, &settings, track.as_ref(), &mut rep) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return e.exit_code();
        }
    };
    // A run holding the work dir's lock is alive: its clips are running, not interrupted.
    let running = coordinator::lock::WorkLock::holder(&coordinator::Layout::of(&plan));
    println!("{}", settings.summary());
    if let Some(h) = &running {
        println!(
            "a run is in progress ({}); the table shows its clips so far",
            h.describe()
        );
    }
    let pid = running
        .as_ref()
        .and_then(|h| h.pid)
        .map(|p| format!("pid {p}"))
        .unwrap_or_else(|| "pid ?".into());
    println!(
        "{:<20} {:<12} {:>8} {:>9} {:>7} {:>8}  {:<34} log",
        "clip", "state", "frames", "time", "fps", "attempts", "next run"
    );
    let layout = coordinator::Layout::of(&plan);
    // Asked once, and only when a record names a Slurm task: no squeue on a laptop.
    let mut queue: Option<Result<crate::slurm::queue::Queue, String>> = None;
    let mut render = Vec::new();
    for r in &rows {
        let in_flight = r
            .record
            .as_ref()
            .filter(|x| x.state == crate::manifest::ClipState::Running);
        // Who is rendering a clip recorded running: the run holding the work dir, a Slurm
        // task still in the queue, or a `farm render` holding the clip's lock. None of them:
        // it died without a word.
        let (live, note) = match in_flight {
            None => (None, None),
            Some(_) if running.is_some() => (Some(pid.clone()), None),
            Some(rec) => match &rec.slurm {
                Some(task) => {
                    let q = queue.get_or_insert_with(crate::slurm::queue::Queue::read);
                    match q {
                        Ok(q) => match crate::slurm::queue::gone(task, q) {
                            None => (
                                Some(format!(
                                    "Slurm task {task}{}",
                                    rec.host
                                        .as_ref()
                                        .map(|h| format!(" on {h}"))
                                        .unwrap_or_default()
                                )),
                                None,
                            ),
                            Some(why) => (None, Some(why)),
                        },
                        Err(e) => (
                            Some(format!("Slurm task {task}?")),
                            Some(format!("cannot tell whether it still runs: {e}")),
                        ),
                    }
                }
                None => match coordinator::lock::WorkLock::clip_holder(&layout, &r.clip.id) {
                    Some(h) => (Some(h.describe()), None),
                    None => (None, None),
                },
            },
        };
        let state = match (&r.record, &r.decision) {
            (_, coordinator::Decision::Stale) => "stale".to_string(),
            _ if live.is_some() && running.is_some() => format!("running ({pid})"),
            _ if live.is_some() => "running".to_string(),
            // Recorded running by a Slurm task that is gone: it failed.
            _ if in_flight.is_some() && note.is_some() => "failed".to_string(),
            // Recorded running, but nothing holds it: that run died.
            _ if in_flight.is_some() => "interrupted".to_string(),
            (Some(rec), _) => rec.state.name().to_string(),
            (None, _) => "missing".to_string(),
        };
        let next = match &live {
            Some(who) => format!("(being rendered by {who})"),
            None => r.decision.word(),
        };
        let secs = r.record.as_ref().and_then(|x| x.seconds);
        let time = secs
            .map(|s| format!("{s:.1} s"))
            .unwrap_or_else(|| "-".into());
        let fps = secs
            .filter(|&s| s > 0.0)
            .map(|s| format!("{:.1}", r.clip.frames as f64 / s))
            .unwrap_or_else(|| "-".into());
        let attempts = r
            .record
            .as_ref()
            .map(|x| x.attempts.to_string())
            .unwrap_or_else(|| "0".into());
        let log = r
            .log
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<20} {:<12} {:>8} {:>9} {:>7} {:>8}  {:<34} {log}",
            r.clip.id, state, r.clip.frames, time, fps, attempts, next
        );
        if let Some(n) = &note {
            println!("{:<20} {n}", "");
        }
        if let Some(err) = r
            .record
            .as_ref()
            .and_then(|x| x.error.as_ref())
            .filter(|_| r.decision != coordinator::Decision::Reuse)
        {
            println!("{:<20} last error: {err}", "");
        }
        if r.decision != coordinator::Decision::Reuse && live.is_none() {
            render.push(r.clip.id.as_str());
        }
    }
    let reuse = rows.len() - render.len();
    if render.is_empty() {
        println!(
            "next `farm run`: every clip is done; it would only join them into {}",
            plan.output.display()
        );
    } else {
        println!(
            "next `farm run`: render {} clip(s) ({}), reuse {reuse}, then join into {}",
            render.len(),
            render.join(", "),
            plan.output.display()
        );
    }
    0
}
