//! `farm run` (every clip, then the join), `farm render` (one clip in the foreground) and
//! `farm join` (the join alone, of clips rendered by `farm render`s or a Slurm array).

use super::args::{JoinArgs, RenderArgs, RunArgs};
use super::common::{prepare, rerun_command};
use crate::coordinator::{self, RunOptions, Target};

pub(super) fn cmd_run(a: RunArgs) -> i32 {
    let (plan, hw, tools, settings) = match prepare(&a.plan, &a.settings) {
        Ok(p) => p,
        Err(c) => return c,
    };
    if a.dry_run {
        return dry_run(&plan, &hw, &settings);
    }
    crate::timing::mark("plan and settings");
    let mut rep = crate::report::auto();
    // One start-up line: hardware and the chosen render settings.
    rep.line(&format!("{}; {}", hw.summary(), settings.summary()));
    let opts = RunOptions {
        only: a.only.clone(),
        keep: a.keep,
        rerun: rerun_command("run", &a.plan, &a.settings),
        policy: a.policy.policy(),
        wait_lock: a.wait_lock,
        ..Default::default()
    };
    let t0 = std::time::Instant::now();
    match coordinator::run(&plan, &settings, &tools, &opts, rep.as_mut()) {
        Ok(s) => {
            let fps = settings.frame.fps;
            rep.line(&format!(
                "Done: {} ({} frames, {:.2} s at {fps} fps; {} clips rendered, {} reused) in {:.1} s (join {:.2} s{}){}",
                plan.output.display(),
                s.frames,
                s.frames as f64 / fps as f64,
                s.rendered,
                s.reused,
                t0.elapsed().as_secs_f64(),
                s.join_secs,
                s.startup_ms.map(|(w, r)| format!("; worker start {w:.0} ms, renderer set-up {r:.0} ms (medians)")).unwrap_or_default(),
                if s.cleaned { "" } else { "; intermediates kept" }
            ));
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

pub(super) fn cmd_render(a: &RenderArgs) -> i32 {
    let (plan, hw, tools, settings) = match prepare(&a.plan, &a.settings) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let mut rep = crate::report::Plain::new();
    use crate::report::Reporter;
    rep.line(&format!("{}; {}", hw.summary(), settings.summary()));
    let (target, what) = match (&a.id, a.index) {
        (_, Some(i)) => (Target::Index(i), format!("--index {i}")),
        (Some(id), None) => (Target::Id(id.clone()), crate::media::shell_quote(id)),
        (None, None) => unreachable!("clap requires an id or --index"),
    };
    // The clip's log, streamed while it renders (a clip named by id that is not cut into
    // chunks; the others' logs are in the work dir's logs/).
    let log =
        a.id.as_ref()
            .map(|id| coordinator::Layout::of(&plan).log(id));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tail = log
        .clone()
        .map(|l| crate::report::follow_log(l, stop.clone()));
    let mut rerun = rerun_command("render", &a.plan, &a.settings);
    rerun.push(' ');
    rerun.push_str(&what);
    let opts = RunOptions {
        rerun,
        policy: a.policy.policy(),
        wait_lock: a.wait_lock,
        plan_digest: a.plan_digest.clone(),
        ..Default::default()
    };
    let result = coordinator::render_one(&plan, &settings, &tools, &target, &opts, &mut rep);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    if let Some(t) = tail {
        let _ = t.join();
    }
    match result {
        Ok(s) => {
            rep.line(&format!(
                "Done: {} ({} clips, {} frames) in place; `farm run` or `farm join` will reuse it.{}",
                what,
                s.rendered,
                s.frames,
                log.map(|l| format!(" Log: {}", l.display()))
                    .unwrap_or_default()
            ));
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

pub(super) fn cmd_join(a: &JoinArgs) -> i32 {
    let (plan, hw, tools, settings) = match prepare(&a.plan, &a.settings) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let mut rep = crate::report::auto();
    rep.line(&format!("{}; {}", hw.summary(), settings.summary()));
    let opts = RunOptions {
        keep: a.keep,
        rerun: a
            .rerun
            .clone()
            .unwrap_or_else(|| rerun_command("run", &a.plan, &a.settings)),
        wait_lock: a.wait_lock,
        join_only: true,
        plan_digest: a.plan_digest.clone(),
        ..Default::default()
    };
    let t0 = std::time::Instant::now();
    match coordinator::run(&plan, &settings, &tools, &opts, rep.as_mut()) {
        Ok(s) => {
            rep.line(&format!(
                "Done: {} ({} frames, {} clips joined) in {:.1} s{}",
                plan.output.display(),
                s.frames,
                s.reused,
                t0.elapsed().as_secs_f64(),
                if s.cleaned {
                    ""
                } else {
                    "; intermediates kept"
                }
            ));
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// `farm run --dry-run`: the clips as the run would place them (the same table as `farm
/// check`) and what it would do with each; renders, writes and creates nothing.
fn dry_run(
    plan: &crate::plan::Plan,
    hw: &crate::hw::Hardware,
    settings: &crate::profile::RenderSettings,
) -> i32 {
    use crate::coordinator::soundtrack::CacheUse;
    let track = match super::common::soundtrack(plan, settings, hw, CacheUse::ReadOnly) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let fps = settings.frame.fps;
    let ranges = match crate::clip::ranges(plan, fps, track.as_ref()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    println!("{}", settings.summary());
    let beats = crate::plan::timing::Beats::of(track.as_ref());
    print!(
        "{}",
        crate::plan::timing::format_ranges(plan, &ranges, fps, &beats)
    );
    let mut rep = crate::report::Plain::new();
    match coordinator::status(plan, settings, track.as_ref(), &mut rep) {
        Ok(rows) => {
            for r in rows {
                println!("  {:<24} {}", r.clip.id, r.decision.word());
            }
            println!("dry run: nothing rendered");
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}
