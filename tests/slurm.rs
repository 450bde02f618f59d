//! End-to-end through a real Slurm: a single-node cluster started by `scripts/slurm-up.sh`
//! (`.ci/run` starts it and sets `FARM_SLURM=1` and `SLURM_CONF`); skipped otherwise. A plan
//! renders as a job array and a join, frame-exact to a local run; a failed task's clip is
//! re-run alone through Slurm; a task killed mid-render is reported failed by `farm status`.

mod common;

use common::*;
use std::time::Duration;

/// Three segments, one of them cut into two chunks (four tasks).
const PLAN: &str = "output: out/v.mp4\nseed: 3\nchunk: 1\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n  - {id: b, scene: quote, duration: 1, text: slurm}\n  - {id: c, scene: particles, duration: 2}\n";

fn slurm_ready() -> bool {
    if std::env::var("FARM_SLURM").as_deref() != Ok("1") {
        eprintln!("skipped: no Slurm (run scripts/slurm-up.sh and set FARM_SLURM=1)");
        return false;
    }
    true
}

fn slurm_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "slurm",
        "plan.yaml",
        "--crf",
        "0",
        "--cpus",
        "1",
        "--poll",
        "0.5",
    ];
    a.extend_from_slice(TINY);
    a.extend_from_slice(extra);
    a
}

/// The job ids `farm slurm --submit` printed (render arrays, then the join).
fn job_ids(err: &str) -> Vec<String> {
    let line = err
        .lines()
        .find(|l| l.starts_with("farm: submitted render array(s) "))
        .unwrap_or_else(|| panic!("no submission line in:\n{err}"));
    let rest = line.trim_start_matches("farm: submitted render array(s) ");
    let (arrays, rest) = rest.split_once(" and join ").unwrap();
    let join = rest.split(';').next().unwrap();
    let mut ids: Vec<String> = arrays.split(", ").map(str::to_string).collect();
    ids.push(join.to_string());
    ids
}

fn scancel(ids: &[String]) {
    let _ = std::process::Command::new("scancel").args(ids).status();
}

/// Run farm in `cwd` with `env`, killed after `limit` (a hang fails the test).
fn run_at(
    s: &Scratch,
    cwd: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
    limit: Duration,
) -> std::process::Output {
    let mut child = s
        .command(args, env)
        .current_dir(cwd)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t.elapsed() > limit {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!("farm {args:?} did not finish in {limit:?}:\n{}", stderr(&o));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().unwrap()
}

const SLURM_LIMIT: Duration = Duration::from_secs(300);

#[test]
fn a_plan_renders_through_slurm_and_a_failed_clip_is_re_run_alone() {
    if !slurm_ready() {
        return;
    }
    let local = Scratch::new("slurm-local");
    local.write("plan.yaml", PLAN);
    let mut args = vec!["run", "plan.yaml", "--crf", "0"];
    args.extend_from_slice(TINY);
    let o = local.run(&args, &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let want = framemd5(&local.path().join("out/v.mp4"));

    // A folder with a space and an apostrophe, on the way to every task.
    let s = Scratch::new("slurm-run");
    let plan = s.write("it's a project/plan.yaml", PLAN);
    let dir = plan.parent().unwrap().to_path_buf();
    // b fails in its task (FARM_FAULT reaches the tasks: sbatch exports the environment).
    let o = run_at(
        &s,
        &dir,
        &slurm_args(&["--submit", "--wait"]),
        &[("FARM_FAULT", "b:exit")],
        SLURM_LIMIT,
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("4 clip(s) of 4 in 1 array(s)"), "{err}");
    assert!(err.contains("clip 'b' failed"), "{err}");
    assert!(
        !err.contains("clip 'a' failed") && !err.contains("clip 'c#1' failed"),
        "{err}"
    );
    assert!(
        err.contains("--submit --wait --only b"),
        "the re-run command: {err}"
    );
    assert!(!dir.join("out/v.mp4").exists(), "nothing joined");
    // Status, as from any node: b failed, the others done.
    let mut st = vec!["status", "plan.yaml", "--crf", "0"];
    st.extend_from_slice(TINY);
    let o = run_at(&s, &dir, &st, &[], LIMIT);
    let table = stdout(&o);
    let row = |id: &str| {
        table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("no row {id}:\n{table}"))
            .to_string()
    };
    assert!(row("b").contains(" failed "), "{table}");
    assert!(
        row("a").contains(" done ") && row("c#2").contains(" done "),
        "{table}"
    );

    // Only b again, through Slurm: one task, a new join; the output is the local run's.
    let o = run_at(
        &s,
        &dir,
        &slurm_args(&["--only", "b", "--submit", "--wait"]),
        &[],
        SLURM_LIMIT,
    );
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("1 clip(s) of 4 in 1 array(s)"), "{err}");
    assert_eq!(
        framemd5(&dir.join("out/v.mp4")),
        want,
        "frame-exact to a local run"
    );
    assert!(err.contains("Done: "), "{err}");
}

/// A task killed in the middle of its clip never writes its end: `farm status` (which reads
/// the records and asks `squeue`, no accounting) says failed, not running.
#[test]
fn a_task_killed_mid_render_is_reported_failed() {
    if !slurm_ready() {
        return;
    }
    let s = Scratch::new("slurm-kill");
    s.write("plan.yaml", PLAN);
    // a hangs (no progress), so that it is caught mid-render.
    let o = run_at(
        &s,
        s.path(),
        &slurm_args(&["--only", "a", "--submit"]),
        &[("FARM_FAULT", "a:hang")],
        SLURM_LIMIT,
    );
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let jobs = job_ids(&err);
    let work = work_dir(&s.path().join("plan.yaml"));
    let started = wait_until(Duration::from_secs(120), || {
        let t = state_text(&work);
        t.contains("state: running") && t.contains("slurm: ")
    });
    if !started {
        scancel(&jobs);
        panic!("task a never recorded running: {}", state_text(&work));
    }
    let Some(pid) = find_process(&s.tag, " render ") else {
        scancel(&jobs);
        panic!("no farm render process of the task");
    };
    kill(pid, libc::SIGKILL);
    let mut st = vec!["status", "plan.yaml", "--crf", "0"];
    st.extend_from_slice(TINY);
    let mut table = String::new();
    let failed = wait_until(Duration::from_secs(60), || {
        table = stdout(&run_at(&s, s.path(), &st, &[], LIMIT));
        table.contains("no longer queued or running")
    });
    scancel(&jobs);
    assert!(failed, "{table}");
    let row = table
        .lines()
        .find(|l| l.split_whitespace().next() == Some("a"))
        .unwrap();
    assert!(row.contains(" failed "), "{table}");
    assert!(
        state_text(&work).contains("state: running"),
        "the record was never finished"
    );
}
