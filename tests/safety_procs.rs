//! Issue 7, the process cases, with real farm processes, real workers and real ffmpeg/ffprobe:
//! the work dir's lock (3), interrupts that always work (8), no stage hanging forever (9),
//! closed output pipes (10), a coordinator killed during the join (11) and the binary replaced
//! during a run (12). After every test no process started by it may be left (the harness checks).

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn args<'a>(plan: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["run", plan];
    a.extend_from_slice(TINY);
    a.extend_from_slice(extra);
    a
}

/// Three clips: 12 + 36 + 12 frames at 12 fps.
const PLAN: &str = "output: out.mp4\nseed: 9\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n  - {id: b, scene: plasma, duration: 3}\n  - {id: c, scene: quote, duration: 1, text: hello}\n";
const TOTAL: u64 = 60;

fn plan_path(s: &Scratch) -> PathBuf {
    s.path().join("plan.yaml")
}

fn lock_file(s: &Scratch) -> PathBuf {
    farm::coordinator::Layout {
        work: work_dir(&plan_path(s)),
    }
    .lock()
}

fn manifest(s: &Scratch) -> String {
    common::state_text(&work_dir(&plan_path(s)))
}

/// The pid a run wrote into the lock file, once it has.
fn lock_holder(s: &Scratch) -> Option<u32> {
    let text = std::fs::read_to_string(lock_file(s)).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("pid: "))
        .and_then(|p| p.parse().ok())
}

/// Run farm beside a run of the same scratch folder that is still going (so the harness's
/// leftover check, which would count that run's processes, is not applied).
fn run_aside(s: &Scratch, a: &[&str]) -> std::process::Output {
    s.command(a, &[])
        .env("FARM_TEST_TAG", format!("{}-aside", s.tag))
        .output()
        .unwrap()
}

/// The frames of the plan rendered once, alone, in a scratch folder of its own.
fn reference_frames(name: &str) -> Vec<String> {
    let s = Scratch::new(name);
    s.write("plan.yaml", PLAN);
    let o = s.run(&args("plan.yaml", &[]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    framemd5(&s.path().join("out.mp4"))
}

// ---------------------------------------------------------------------------------------------
// 3. The work dir's lock.

#[test]
fn two_runs_of_one_plan_at_once_one_renders_the_other_is_refused_naming_it() {
    let s = Scratch::new("lock2");
    s.write("plan.yaml", PLAN);
    let slow = [("FARM_FAULT", "b:slow")];
    // Each run has a tag of its own: waiting for one must not count the other's processes.
    let (t1, t2) = (format!("{}-1", s.tag), format!("{}-2", s.tag));
    let r1 = s.spawn(&args("plan.yaml", &[]), &[slow[0], ("FARM_TEST_TAG", &t1)]);
    let r2 = s.spawn(&args("plan.yaml", &[]), &[slow[0], ("FARM_TEST_TAG", &t2)]);
    let pids = [r1.child.id(), r2.child.id()];
    let (c1, e1) = r1.wait(LIMIT);
    let (c2, e2) = r2.wait(LIMIT);
    assert_no_leftovers(&t1);
    assert_no_leftovers(&t2);
    let (winner, loser_err) = match (c1, c2) {
        (Some(0), Some(2)) => (pids[0], e2),
        (Some(2), Some(0)) => (pids[1], e1),
        other => {
            panic!("exactly one run must render: {other:?}\n--- run 1:\n{e1}\n--- run 2:\n{e2}")
        }
    };
    assert!(
        loser_err.contains("another farm process is working on this plan's work dir")
            && loser_err.contains(&format!("pid {winner}"))
            && loser_err.contains("command: ")
            && loser_err.contains("--wait-lock"),
        "{loser_err}"
    );
    assert!(
        !loser_err.contains("farm: start"),
        "the refused run rendered nothing: {loser_err}"
    );
    let out = s.path().join("out.mp4");
    assert_eq!(count_frames(&out).0, TOTAL);
    assert_eq!(
        framemd5(&out),
        reference_frames("lock2ref"),
        "the video is a single run's"
    );
}

#[test]
fn wait_lock_waits_for_the_holder_and_status_shows_it_running() {
    let s = Scratch::new("waitlock");
    s.write("plan.yaml", PLAN);
    let r1 = s.spawn(
        &args("plan.yaml", &["--workers", "1"]),
        &[("FARM_FAULT", "b:slow")],
    );
    let holder = r1.child.id();
    assert!(
        wait_until(Duration::from_secs(60), || find_process(
            &s.tag,
            "b.mp4.partial"
        )
        .is_some()),
        "{}",
        r1.stderr()
    );
    assert_eq!(
        lock_holder(&s),
        Some(holder),
        "the holder names itself in the lock file"
    );
    // The manifest says b is running (it is written at most once a second).
    assert!(wait_until(Duration::from_secs(10), || manifest(&s)
        .contains("state: running")));

    // farm status reads without the lock and says who is rendering.
    let st = run_aside(
        &s,
        &[
            "status",
            "plan.yaml",
            "--quality",
            "draft",
            "--resolution",
            "160x96",
        ],
    );
    assert_eq!(st.status.code(), Some(0), "{}", stderr(&st));
    let table = stdout(&st);
    assert!(
        table.contains(&format!("a run is in progress (pid {holder}"))
            && table.contains(&format!("running (pid {holder})"))
            && !table.contains("interrupted"),
        "{table}"
    );

    // farm render of the same plan is refused at once, naming the holder.
    let o = run_aside(
        &s,
        &[
            "render",
            "plan.yaml",
            "a",
            "--quality",
            "draft",
            "--resolution",
            "160x96",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("pid {holder}")),
        "{}",
        stderr(&o)
    );

    // --wait-lock waits, then runs.
    let t2 = format!("{}-2", s.tag);
    let r2 = s.spawn(
        &args("plan.yaml", &["--wait-lock"]),
        &[("FARM_TEST_TAG", &t2)],
    );
    assert!(
        wait_until(Duration::from_secs(30), || r2.stderr().contains(&format!(
            "waiting for the work dir's lock, held by pid {holder}"
        ))),
        "{}",
        r2.stderr()
    );
    let (c1, e1) = r1.wait(LIMIT);
    assert_eq!(c1, Some(0), "{e1}");
    let (c2, e2) = r2.wait(LIMIT);
    assert_no_leftovers(&t2);
    assert_eq!(c2, Some(0), "{e2}");
    assert!(e2.contains("Done: "), "{e2}");
    assert_eq!(count_frames(&s.path().join("out.mp4")).0, TOTAL);
}

#[test]
fn a_killed_run_frees_the_lock_its_workers_never_held_it_and_status_says_interrupted() {
    let s = Scratch::new("lockkill");
    s.write("plan.yaml", PLAN);
    let r1 = s.spawn(
        &args("plan.yaml", &["--workers", "1", "--keep"]),
        &[("FARM_FAULT", "b:hang@2")],
    );
    assert!(
        wait_until(Duration::from_secs(60), || find_process(
            &s.tag,
            "b.mp4.partial"
        )
        .is_some()),
        "{}",
        r1.stderr()
    );
    // The manifest is written at most once a second: wait until it records b running.
    let state = work_dir(&plan_path(&s)).join("state");
    assert!(
        wait_until(Duration::from_secs(30), || {
            farm::manifest::Manifest::load(&state)
                .ok()
                .and_then(|l| l.manifest.clips.get("b").map(|r| r.state))
                == Some(farm::manifest::ClipState::Running)
        }),
        "the manifest records b running: {}",
        r1.stderr()
    );
    let lock = std::fs::canonicalize(lock_file(&s)).expect("the run made its lock file");
    // No child inherits the lock's descriptor (close-on-exec): killing the coordinator frees it.
    let worker = find_process(&s.tag, "worker --connect").expect("a worker runs");
    let encoder = find_process(&s.tag, "b.mp4.partial").unwrap();
    for pid in [worker, encoder] {
        for fd in std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .flatten()
        {
            let target = std::fs::read_link(fd.path()).unwrap_or_default();
            assert_ne!(target, lock, "process {pid} holds the lock file open");
        }
    }
    r1.signal(libc::SIGKILL);
    let (code, _) = r1.wait(LIMIT); // the hung worker dies with its coordinator
    assert_eq!(code, None);

    let st = s.run(
        &[
            "status",
            "plan.yaml",
            "--quality",
            "draft",
            "--resolution",
            "160x96",
        ],
        &[],
        LIMIT,
    );
    let table = stdout(&st);
    let row = table
        .lines()
        .find(|l| l.starts_with("b "))
        .unwrap_or_default();
    assert!(
        row.contains("interrupted") && !table.contains("running") && !table.contains("in progress"),
        "a dead run's clip is not running: {table}"
    );

    let o = s.run(&args("plan.yaml", &[]), &[], LIMIT);
    assert!(
        o.status.success(),
        "the lock was free at once: {}",
        stderr(&o)
    );
    assert_eq!(count_frames(&s.path().join("out.mp4")).0, TOTAL);
}

// ---------------------------------------------------------------------------------------------
// 8. Interrupts always work.

/// An ffprobe that never answers.
fn hanging_ffprobe(s: &Scratch) -> PathBuf {
    s.script("bin/ffprobe-hangs", "exec sleep 3600")
}

/// The plan with a Matroska output: clips are MP4s whose index farm reads in-process, but the
/// joined .mkv is verified by ffprobe, so a hanging ffprobe hangs the run there.
fn mkv_plan() -> String {
    PLAN.replace("output: out.mp4", "output: out.mkv")
}

#[test]
fn every_stop_signal_stops_a_run_stuck_in_ffprobe_and_sigkill_orphans_nothing() {
    let s = Scratch::new("probeint");
    s.write("plan.yaml", &mkv_plan());
    let o = s.run(&args("plan.yaml", &["--keep"]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let probe = hanging_ffprobe(&s);
    let env = [("FARM_FFPROBE", probe.to_str().unwrap())];
    // The kept clips are reused (their digests match) and joined; the output's ffprobe
    // verification is where each run hangs.
    for sig in [
        libc::SIGINT,
        libc::SIGTERM,
        libc::SIGHUP,
        libc::SIGQUIT,
        libc::SIGKILL,
    ] {
        let r = s.spawn(&args("plan.yaml", &[]), &env);
        assert!(
            wait_until(Duration::from_secs(60), || find_process(
                &s.tag,
                "sleep 3600"
            )
            .is_some()),
            "ffprobe never started: {}",
            r.stderr()
        );
        r.signal(sig);
        // wait() also checks that the hanging ffprobe went with the run.
        let (code, err) = r.wait(Duration::from_secs(30));
        if sig == libc::SIGKILL {
            assert_eq!(code, None, "{err}");
        } else {
            assert_eq!(code, Some(130), "signal {sig}: {err}");
            assert!(err.contains("interrupted"), "signal {sig}: {err}");
        }
    }
}

#[test]
fn sighup_and_sigquit_record_clips_interrupted_and_exit_130() {
    for (name, sig) in [("hup", libc::SIGHUP), ("quit", libc::SIGQUIT)] {
        let s = Scratch::new(name);
        s.write("plan.yaml", PLAN);
        let r = s.spawn(
            &args("plan.yaml", &["--workers", "1"]),
            &[("FARM_FAULT", "b:slow")],
        );
        assert!(
            wait_until(Duration::from_secs(60), || find_process(
                &s.tag,
                "b.mp4.partial"
            )
            .is_some()),
            "{}",
            r.stderr()
        );
        r.signal(sig);
        let (code, err) = r.wait(LIMIT);
        assert_eq!(code, Some(130), "{name}: {err}");
        let m = manifest(&s);
        assert!(m.contains("state: interrupted"), "{name}: {m}");
    }
}

// ---------------------------------------------------------------------------------------------
// 9. No stage hangs forever.

#[test]
fn a_hanging_ffprobe_is_killed_with_a_message_naming_the_probe_stage() {
    let s = Scratch::new("probehang");
    s.write("plan.yaml", &mkv_plan());
    let probe = hanging_ffprobe(&s);
    let o = s.run(
        &args("plan.yaml", &[]),
        &[("FARM_FFPROBE", probe.to_str().unwrap())],
        LIMIT,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("probe stage: ffprobe did not finish reading") && err.contains("was killed"),
        "{err}"
    );
    assert!(!s.path().join("out.mkv").exists());
}

/// An ffmpeg that behaves, except that its concat join writes `$last` (the output) when
/// `touch` is set, and then hangs.
fn hanging_join_ffmpeg(s: &Scratch, touch: bool) -> PathBuf {
    let ffmpeg = which("ffmpeg");
    s.script(
        "bin/ffmpeg-join-hangs",
        &format!(
            "case \"$*\" in\n  *' -f concat '*)\n    for a; do last=$a; done\n    {}\n    exec sleep 3600 ;;\nesac\nexec '{}' \"$@\"",
            if touch { "echo partial > \"$last\"" } else { ":" },
            ffmpeg.display()
        ),
    )
}

#[test]
fn a_stalled_join_is_killed_and_reported_naming_the_stage() {
    let s = Scratch::new("joinstall");
    s.write("plan.yaml", PLAN);
    let ffmpeg = hanging_join_ffmpeg(&s, false);
    let o = s.run(
        &args("plan.yaml", &["--stall-timeout", "5"]),
        &[("FARM_FFMPEG", ffmpeg.to_str().unwrap())],
        LIMIT,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("join stage: ffmpeg (concat) wrote nothing for 5 s (stalled) and was killed"),
        "{err}"
    );
    assert!(!s.path().join("out.mp4").exists());
}

#[test]
fn a_stopped_run_does_not_count_the_stopped_time_as_a_stall() {
    let s = Scratch::new("sigstop");
    s.write(
        "plan.yaml",
        "output: out.mp4\nsegments:\n  - {id: long, scene: plasma, duration: 10}\n",
    );
    let r = s.spawn(
        &args("plan.yaml", &["--stall-timeout", "5", "--retries", "0"]),
        &[("FARM_FAULT", "long:slow")],
    );
    let me = r.child.id() as i32;
    assert!(
        wait_until(Duration::from_secs(60), || find_process(
            &s.tag,
            "long.mp4.partial"
        )
        .is_some()),
        "{}",
        r.stderr()
    );
    std::thread::sleep(Duration::from_millis(300));
    // Stop the whole run (workers and encoders first, so that no event is on its way), for
    // twice the stall timeout; then the coordinator wakes first and the others a moment later.
    let others: Vec<i32> = tagged_processes(&s.tag)
        .into_iter()
        .map(|(p, _)| p)
        .filter(|&p| p != me)
        .collect();
    for &p in &others {
        kill(p, libc::SIGSTOP);
    }
    kill(me, libc::SIGSTOP);
    std::thread::sleep(Duration::from_secs(9));
    kill(me, libc::SIGCONT);
    std::thread::sleep(Duration::from_millis(500));
    for &p in &others {
        kill(p, libc::SIGCONT);
    }
    let (code, err) = r.wait(LIMIT);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("stalled") && !err.contains("FAILED"), "{err}");
    assert_eq!(count_frames(&s.path().join("out.mp4")).0, 120);
}

// ---------------------------------------------------------------------------------------------
// 10. A closed stdout/stderr.

#[test]
fn a_reader_that_goes_away_does_not_stop_the_render() {
    use std::io::BufRead;
    let s = Scratch::new("epipe");
    s.write("plan.yaml", PLAN);
    // `farm run plan.yaml 2>&1 | head -2`
    let (reader, writer) = std::io::pipe().unwrap();
    let mut cmd = s.command(&args("plan.yaml", &[]), &[]);
    cmd.stdout(writer.try_clone().unwrap()).stderr(writer);
    let mut child = cmd.spawn().unwrap();
    drop(cmd); // our copies of the pipe's write end
    let mut lines = std::io::BufReader::new(reader).lines();
    let first: Vec<String> = lines.by_ref().take(2).map(Result::unwrap).collect();
    assert_eq!(first.len(), 2);
    drop(lines); // head exits
    let ok = wait_until(LIMIT, || child.try_wait().unwrap().is_some());
    if !ok {
        let _ = child.kill();
    }
    let st = child.wait().unwrap();
    assert_no_leftovers(&s.tag);
    assert_eq!(st.code(), Some(0), "the render went on: {st:?}");
    assert_eq!(count_frames(&s.path().join("out.mp4")).0, TOTAL);

    // `farm status plan.yaml | head -0`: a table nobody reads is not a crash either.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = s.command(&["status", "plan.yaml"], &[]);
    cmd.stdout(writer).stderr(std::process::Stdio::null());
    let st = cmd.status().unwrap();
    assert_eq!(st.code(), Some(0), "{st:?}");
}

// ---------------------------------------------------------------------------------------------
// 11. SIGKILL of the coordinator during the join.

fn partials(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".partial"))
        .collect();
    v.sort();
    v
}

#[test]
fn sigkill_during_the_join_leaves_no_ffmpeg_and_the_next_run_removes_its_partial() {
    let s = Scratch::new("joinkill");
    s.write("plan.yaml", PLAN);
    let ffmpeg = hanging_join_ffmpeg(&s, true);
    let r = s.spawn(
        &args("plan.yaml", &[]),
        &[("FARM_FFMPEG", ffmpeg.to_str().unwrap())],
    );
    let pid = r.child.id();
    let partial = farm::coordinator::join::partial_output(Path::new("out.mp4"), pid)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        wait_until(Duration::from_secs(90), || find_process(
            &s.tag,
            "sleep 3600"
        )
        .is_some()
            && s.path().join(&partial).exists()),
        "the join never started: {}",
        r.stderr()
    );
    r.signal(libc::SIGKILL);
    // wait() checks that the join's process went with its coordinator.
    let (code, _) = r.wait(LIMIT);
    assert_eq!(code, None);
    assert_eq!(partials(s.path()), vec![partial.clone()]);
    // Look-alikes that are not this output's temporary files stay.
    let prefix = partial
        .split_once(&format!("-{pid}."))
        .unwrap()
        .0
        .to_string();
    let looks_alike = [
        format!("{prefix}-x1.partial.mp4"),
        format!("{prefix}-1.partial.mkv"),
        ".farm-000000000000-1.partial.mp4".to_string(),
        "out.mp4.partial-1.mp4".to_string(),
    ];
    for keep in &looks_alike {
        s.write(keep, "not ours");
    }

    let o = s.run(&args("plan.yaml", &[]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("removed {}", s.path().join(&partial).display()))
            && err.contains(&format!("farm process {pid}, which is gone")),
        "{err}"
    );
    assert_eq!(partials(s.path()), {
        let mut v = looks_alike.to_vec();
        v.sort();
        v
    });
    assert_eq!(count_frames(&s.path().join("out.mp4")).0, TOTAL);
}

// ---------------------------------------------------------------------------------------------
// 12. The binary replaced during a run.

#[test]
fn workers_started_after_the_binary_was_replaced_still_run() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new("rebuild");
    s.write("plan.yaml", PLAN);
    let bin = s.path().join("bin").join("farm");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::copy(farm(), &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let r = s.spawn_program(
        &bin,
        &args("plan.yaml", &["--workers", "1"]),
        &[("FARM_FAULT", "b:slow")],
    );
    let mut encoder = None;
    assert!(
        wait_until(Duration::from_secs(60), || {
            encoder = find_process(&s.tag, "b.mp4.partial");
            encoder.is_some()
        }),
        "{}",
        r.stderr()
    );
    assert!(
        work_dir(&plan_path(&s)).join("clips/a.mp4").is_file(),
        "a is done"
    );
    // A rebuild: the file is removed and another one written in its place.
    std::fs::remove_file(&bin).unwrap();
    std::fs::write(&bin, "#!/bin/sh\necho 'not farm' >&2\nexit 7\n").unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    // The worker dies; its retry needs a fresh worker process.
    kill(parent_of(encoder.unwrap()).unwrap(), libc::SIGKILL);
    let (code, err) = r.wait(LIMIT);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("farm: retry b (attempt 2 of 3"), "{err}");
    assert!(!err.contains("deleted"), "{err}");
    assert_eq!(count_frames(&s.path().join("out.mp4")).0, TOTAL);
}
