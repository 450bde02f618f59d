//! `farm slurm`: the plan's clips as a Slurm job array and a join job (written, then with
//! `--submit` submitted, with `--wait` followed to the end).

use super::args::SlurmArgs;
use super::common::prepare;
use crate::choices::Quality;
use crate::coordinator::{self, Layout, RunError, soundtrack::CacheUse};
use crate::media::{shell_quote, shell_quote_os};
use crate::report::Reporter;
use crate::slurm::{self, Outcome, script};

pub(super) fn cmd_slurm(a: &SlurmArgs) -> i32 {
    match slurm_inner(a) {
        Ok(code) => code,
        Err((msg, code)) => {
            if !msg.is_empty() {
                eprintln!("error: {msg}"); // (empty: `prepare` has said it)
            }
            code
        }
    }
}

type Failure = (String, i32);

fn setup(e: impl std::fmt::Display) -> Failure {
    (e.to_string(), 2)
}

fn slurm_inner(a: &SlurmArgs) -> Result<i32, Failure> {
    let (plan, hw, tools, settings) =
        prepare(&a.plan, &a.settings).map_err(|c| (String::new(), c))?;
    let mut rep = crate::report::Plain::new();
    // Every task, on whatever node, must render the same clips: `auto` picks by hardware.
    let quality = a
        .settings
        .quality
        .map(Quality::from)
        .or(plan.quality)
        .filter(|q| *q != Quality::Auto)
        .ok_or_else(|| {
            setup(format!(
                "farm slurm needs a fixed quality, since the tasks run on other machines (auto would pick \"{}\" on this one): give --quality draft|preview|production|max, or `quality:` in the plan",
                settings.profile.name
            ))
        })?;
    let layout = Layout::of(&plan);
    crate::procs::install_signal_handlers();
    coordinator::preflight_checks(&plan, &tools, &layout)
        .map_err(|e| (e.to_string(), e.exit_code()))?;
    rep.line(&format!("{}; {}", hw.summary(), settings.summary()));
    // Inputs every task shares are computed here, once: the soundtrack's features go to the
    // cache beside the work dir, where every task reads them.
    let track = coordinator::soundtrack::features(
        &plan,
        settings.frame.fps,
        &tools,
        &layout,
        CacheUse::ReadWrite,
        &mut rep,
    )
    .map_err(|e| (e.to_string(), e.exit_code()))?;
    let clips = coordinator::clips_of(&plan, &settings, track.as_ref())
        .map_err(|e: RunError| (e.to_string(), e.exit_code()))?;
    let indices: Vec<usize> = match &a.only {
        // What a run would render: clips done already (by a local run, an earlier array) are
        // not rendered again.
        None => {
            let rows = coordinator::status(&plan, &settings, track.as_ref(), &mut rep)
                .map_err(|e| (e.to_string(), e.exit_code()))?;
            let reused = rows
                .iter()
                .filter(|r| r.decision == coordinator::Decision::Reuse)
                .count();
            if reused > 0 {
                rep.line(&format!(
                    "farm: {reused} clip(s) are done already and will be reused by the join"
                ));
            }
            rows.iter()
                .filter(|r| r.decision != coordinator::Decision::Reuse)
                .map(|r| r.clip.index)
                .collect()
        }
        Some(ids) => {
            let named =
                coordinator::check_ids(&clips, ids).map_err(|e| (e.to_string(), e.exit_code()))?;
            clips
                .iter()
                .filter(|c| named.contains(&c.id))
                .map(|c| c.index)
                .collect()
        }
    };
    // The work dir, made now (not by many tasks at once), while no run holds it.
    layout.create_root().map_err(setup)?;
    {
        let _shared =
            coordinator::lock::WorkLock::acquire_shared(&layout, coordinator::lock::Wait::No)
                .map_err(setup)?;
        layout.init(&plan.path).map_err(setup)?;
    }
    // The flags every task and the join get: the quality, and what was given.
    let mut args = vec!["--quality".to_string(), quality.to_string()];
    let mut given = a.settings.as_args();
    if let Some(at) = given.iter().position(|w| w == "--quality") {
        given.drain(at..at + 2);
    }
    for flag in ["--workers", "--x264-threads"] {
        if let Some(at) = given.iter().position(|w| w == flag) {
            given.drain(at..at + 2); // each task is one worker with its CPUs as threads
        }
    }
    args.extend(given);
    let mut rerun = vec![
        "farm".to_string(),
        "slurm".into(),
        shell_quote_os(plan.path.as_os_str()),
    ];
    rerun.extend(args.iter().map(|w| shell_quote(w)));
    for (flag, v) in [
        ("--partition", a.partition.clone()),
        ("--max-parallel", a.max_parallel.map(|v| v.to_string())),
        ("--time", a.time.clone()),
        ("--mem", a.mem.clone()),
    ] {
        if let Some(v) = v {
            rerun.extend([flag.to_string(), shell_quote(&v)]);
        }
    }
    if a.cpus != 2 {
        rerun.extend(["--cpus".to_string(), a.cpus.to_string()]);
    }
    rerun.extend(["--submit".to_string(), "--wait".into()]);
    let rerun = rerun.join(" ");
    let farm = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| setup(format!("cannot tell where this farm executable is: {e}")))?;
    let dir = layout.slurm_dir();
    let stem = plan
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let spec = script::Spec {
        name: script::job_name(&stem),
        farm,
        plan: plan.path.clone(),
        chdir: plan
            .path
            .parent()
            .unwrap_or(std::path::Path::new("/"))
            .to_path_buf(),
        dir: dir.clone(),
        args,
        digest: coordinator::plan_digest(&clips),
        indices,
        max_parallel: a.max_parallel,
        max_array_size: slurm::queue::max_array_size().unwrap_or(script::DEFAULT_MAX_ARRAY_SIZE),
        partition: a.partition.clone(),
        time: a.time.clone(),
        mem: a.mem.clone(),
        cpus: a.cpus,
        rerun: rerun.clone(),
    };
    let scripts = script::generate(&spec).map_err(setup)?;
    slurm::write(&dir, &scripts).map_err(setup)?;
    let tasks: usize = scripts.arrays.iter().map(|x| x.indices.len()).sum();
    let submit_sh = dir.join("submit.sh");
    rep.line(&format!(
        "farm: {} clip(s) of {} in {} array(s) and a join: {}",
        tasks,
        clips.len(),
        scripts.arrays.len(),
        dir.display()
    ));
    if !a.submit {
        println!(
            "submit with:\n  bash {}\nor: {}",
            shell_quote_os(submit_sh.as_os_str()),
            if a.only.is_some() {
                format!(
                    "{rerun} --only {}",
                    shell_quote(&a.only.clone().unwrap_or_default().join(","))
                )
            } else {
                rerun.clone()
            }
        );
        return Ok(0);
    }
    let submitted = slurm::submit(&dir, &scripts).map_err(|e| (e, 1))?;
    let jobs: Vec<&str> = submitted.arrays.iter().map(|(j, _)| j.as_str()).collect();
    rep.line(&format!(
        "farm: submitted render array(s) {} and join {}; Slurm's logs: {}",
        jobs.join(", "),
        submitted.join,
        dir.join("logs").display()
    ));
    if !a.wait {
        println!(
            "follow with: farm status {}   (stop with: scancel {} {})",
            shell_quote_os(a.plan.as_os_str()),
            jobs.join(" "),
            submitted.join
        );
        return Ok(0);
    }
    let ids: Vec<String> = clips.iter().map(|c| c.id.clone()).collect();
    let watch = slurm::Watch {
        layout: &layout,
        dir: &dir,
        ids: &ids,
        submitted: &submitted,
        poll: std::time::Duration::from_secs_f64(a.poll),
    };
    match slurm::wait(&watch, &mut rep) {
        Outcome::Joined => {
            rep.line(&format!(
                "Done: {} ({} frames, {} clips)",
                plan.output.display(),
                clips.iter().map(|c| c.frames).sum::<u64>(),
                clips.len()
            ));
            Ok(0)
        }
        Outcome::Failed(failed) => {
            let ids: Vec<&str> = failed.iter().map(|f| f.id.as_str()).collect();
            let e = RunError::Failed {
                rerun: format!("{rerun} --only {}", shell_quote(&ids.join(","))),
                clips: failed,
            };
            Err((e.to_string(), 1))
        }
        Outcome::JoinFailed(why) => Err((why, 1)),
        Outcome::Interrupted => Err((
            format!(
                "stopped waiting; the jobs go on (`farm status {}` follows them, `scancel {} {}` stops them)",
                shell_quote_os(a.plan.as_os_str()),
                jobs.join(" "),
                submitted.join
            ),
            130,
        )),
    }
}
