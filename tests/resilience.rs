//! Fault injection with real processes: killed workers and encoders, failing clips, interrupts,
//! deleted clips, damaged manifests, the fd limit, stalls, bad inputs, a full disk. After every
//! test no process started by it may be left (the harness checks).

mod common;
use common::*;
use std::time::Duration;

fn args<'a>(plan: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["run", plan];
    a.extend_from_slice(TINY);
    a.extend_from_slice(extra);
    a
}

/// Three clips: 12 + 24 + 12 frames at 12 fps.
const PLAN: &str = "output: out.mp4\nseed: 9\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n  - {id: b, scene: plasma, duration: 2}\n  - {id: c, scene: quote, duration: 1, text: hello}\n";
const TOTAL: u64 = 48;

fn work(s: &Scratch) -> std::path::PathBuf {
    common::work_dir(&s.path().join("plan.yaml"))
}

fn manifest(s: &Scratch) -> String {
    common::state_text(&work(s))
}

/// Kill something belonging to clip `b` while it renders slowly; the run must retry it in a
/// fresh worker and complete the video.
fn kill_mid_clip(name: &str, victim: impl Fn(i32) -> i32) {
    let s = Scratch::new(name);
    s.write("plan.yaml", PLAN);
    // b is slow (40 ms a frame) on every attempt, so there is time to strike mid-clip.
    let run = s.spawn(&args("plan.yaml", &[]), &[("FARM_FAULT", "b:slow")]);
    let mut encoder = None;
    assert!(
        wait_until(Duration::from_secs(60), || {
            encoder = find_process(&s.tag, "b.mp4.partial");
            encoder.is_some()
        }),
        "clip b never started: {}",
        run.stderr()
    );
    std::thread::sleep(Duration::from_millis(200));
    kill(victim(encoder.unwrap()), libc::SIGKILL);
    let (code, err) = run.wait(LIMIT);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("farm: retry b (attempt 2 of 3"),
        "the clip was retried: {err}"
    );
    let (frames, dur) = count_frames(&s.path().join("out.mp4"));
    assert_eq!(frames, TOTAL);
    assert!((dur - TOTAL as f64 / 12.0).abs() < 1e-3);
}

#[test]
fn a_sigkilled_worker_is_retried_and_the_video_completes() {
    kill_mid_clip("killworker", |encoder| {
        parent_of(encoder).expect("the encoder has a parent worker")
    });
}

#[test]
fn a_killed_encoder_is_retried_and_the_video_completes() {
    kill_mid_clip("killffmpeg", |encoder| encoder);
}

#[test]
fn a_clip_that_always_fails_is_reported_after_its_retries_and_only_fixes_it() {
    let s = Scratch::new("alwaysfails");
    s.write("plan.yaml", PLAN);
    let o = s.run(
        &args("plan.yaml", &["--retries", "1"]),
        &[("FARM_FAULT", "b:exit")],
        LIMIT,
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("clip 'b' failed: the worker process died (exit status 3) while rendering it (after 2 attempts)"), "{err}");
    assert!(work(&s).join("clips/a.mp4").is_file() && work(&s).join("clips/c.mp4").is_file());
    assert!(!s.path().join("out.mp4").exists(), "no join");
    let m = manifest(&s);
    assert!(
        m.contains("state: failed") && m.contains("attempts: 2"),
        "{m}"
    );
    // farm status tells the same story.
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
    assert!(
        table.contains("render (failed last time)") && table.contains("reuse"),
        "{table}"
    );
    assert!(table.contains("render 1 clip(s) (b), reuse 2"), "{table}");
    // "Fixed" (the fault removed): --only b completes the video.
    let o = s.run(&args("plan.yaml", &["--only", "b"]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(count_frames(&s.path().join("out.mp4")).0, TOTAL);
}

#[test]
fn failures_that_retrying_cannot_fix_are_not_retried() {
    let s = Scratch::new("noretry");
    s.write("plan.yaml", PLAN);
    let o = s.run(
        &args("plan.yaml", &[]),
        &[("FARM_FAULT", "a:unbuildable")],
        LIMIT,
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("clip 'a' failed: cannot build the scene") && !err.contains("retry a"),
        "{err}"
    );
    assert!(manifest(&s).contains("attempts: 1"));
}

#[test]
fn interrupt_then_run_again_renders_only_what_is_left() {
    let s = Scratch::new("interrupt");
    s.write("plan.yaml", PLAN);
    let run = s.spawn(
        &args("plan.yaml", &["--workers", "2"]),
        &[("FARM_FAULT", "b:slow;c:slow")],
    );
    // a finishes quickly; then interrupt while b and c are still rendering.
    assert!(
        wait_until(Duration::from_secs(60), || work(&s)
            .join("clips/a.mp4")
            .is_file()),
        "{}",
        run.stderr()
    );
    assert!(wait_until(Duration::from_secs(30), || find_process(
        &s.tag,
        "c.mp4.partial"
    )
    .is_some()));
    run.signal(libc::SIGINT);
    let (code, err) = run.wait(LIMIT);
    assert_eq!(code, Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    let clips: Vec<String> = std::fs::read_dir(work(&s).join("clips"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        clips,
        vec!["a.mp4".to_string()],
        "finished clips stay, partial files go"
    );
    let m = manifest(&s);
    assert!(
        m.contains("state: done") && m.contains("state: interrupted"),
        "{m}"
    );

    let o = s.run(&args("plan.yaml", &[]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("reuse a") && !err.contains("farm: start a"),
        "only unfinished clips render: {err}"
    );
    assert!(
        err.contains("farm: start b") && err.contains("farm: start c"),
        "{err}"
    );
    assert_eq!(count_frames(&s.path().join("out.mp4")).0, TOTAL);
}

#[test]
fn a_second_interrupt_kills_at_once() {
    let s = Scratch::new("interrupt2");
    s.write("plan.yaml", PLAN);
    let run = s.spawn(
        &args("plan.yaml", &["--workers", "2"]),
        &[("FARM_FAULT", "a:hang@1;b:hang@1")],
    );
    assert!(wait_until(Duration::from_secs(60), || find_process(
        &s.tag,
        "b.mp4.partial"
    )
    .is_some()
        && find_process(&s.tag, "a.mp4.partial").is_some()));
    run.signal(libc::SIGINT);
    std::thread::sleep(Duration::from_millis(100));
    run.signal(libc::SIGINT);
    let (code, _) = run.wait(Duration::from_secs(10));
    assert_eq!(code, Some(130));
}

#[test]
fn a_deleted_clip_is_rendered_again_and_the_video_is_not_short() {
    let s = Scratch::new("deleted");
    s.write("plan.yaml", PLAN);
    let o = s.run(
        &args("plan.yaml", &["--retries", "0"]),
        &[("FARM_FAULT", "c:exit")],
        LIMIT,
    );
    assert_eq!(o.status.code(), Some(1));
    std::fs::remove_file(work(&s).join("clips/b.mp4")).unwrap();
    let o = s.run(&args("plan.yaml", &[]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("b: render (file does not check out"), "{err}");
    assert!(
        err.contains("reuse a") && err.contains("farm: start b"),
        "{err}"
    );
    assert_eq!(count_frames(&s.path().join("out.mp4")).0, TOTAL);
}

#[test]
fn a_truncated_record_means_a_safe_rebuild_of_its_clip() {
    let s = Scratch::new("truncated");
    s.write("plan.yaml", PLAN);
    let o = s.run(
        &args("plan.yaml", &["--retries", "0"]),
        &[("FARM_FAULT", "c:exit")],
        LIMIT,
    );
    assert_eq!(o.status.code(), Some(1));
    let mpath = work(&s).join("state").join("a.yaml");
    let full = std::fs::read(&mpath).unwrap();
    std::fs::write(&mpath, &full[..full.len() / 2]).unwrap();
    let o = s.run(&args("plan.yaml", &[]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("a.yaml is damaged") && err.contains("its clip will be rendered again"),
        "{err}"
    );
    // Only a is rendered again: b's record is whole, and c failed.
    assert!(!err.contains("farm: reuse a"), "{err}");
    assert!(err.contains("reuse b"), "{err}");
    assert_eq!(count_frames(&s.path().join("out.mp4")).0, TOTAL);
}

#[test]
fn editing_one_segment_re_renders_one_clip() {
    let s = Scratch::new("edit");
    s.write("plan.yaml", PLAN);
    let o = s.run(&args("plan.yaml", &["--keep"]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    s.write("plan.yaml", &PLAN.replace("text: hello", "text: goodbye"));
    let o = s.run(&args("plan.yaml", &["--keep"]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("reuse a") && err.contains("reuse b"), "{err}");
    assert!(
        err.contains("c: render (stale: inputs changed)") && err.contains("farm: start c"),
        "{err}"
    );
    // Different settings make every clip stale.
    let o = s.run(
        &[
            "run",
            "plan.yaml",
            "--quality",
            "draft",
            "--resolution",
            "160x96",
            "--crf",
            "30",
            "--keep",
        ],
        &[],
        LIMIT,
    );
    assert!(o.status.success());
    assert!(!stderr(&o).contains("farm: reuse"), "{}", stderr(&o));
}

#[test]
fn a_stalled_clip_is_killed_and_counted_as_failed() {
    let s = Scratch::new("stall");
    s.write("plan.yaml", PLAN);
    let o = s.run(
        &args("plan.yaml", &["--stall-timeout", "1.5", "--retries", "0"]),
        &[("FARM_FAULT", "b:hang@2")],
        LIMIT,
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("clip 'b' failed: no progress for 1.5 s (stalled)"),
        "{err}"
    );
    assert!(
        !err.contains("clip 'a' failed") && !err.contains("clip 'c' failed"),
        "{err}"
    );
}

#[test]
fn render_streams_one_clip_and_run_reuses_it() {
    let s = Scratch::new("render1");
    s.write("plan.yaml", PLAN);
    let o = s.run(
        &[
            "render",
            "plan.yaml",
            "b",
            "--quality",
            "draft",
            "--resolution",
            "160x96",
        ],
        &[],
        LIMIT,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("  | ") && err.contains("libx264"),
        "the log is streamed: {err}"
    );
    assert!(
        work(&s).join("clips/b.mp4").is_file() && !work(&s).join("clips/a.mp4").exists(),
        "only b"
    );
    let o = s.run(&args("plan.yaml", &[]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("reuse b"), "{}", stderr(&o));
    assert_eq!(count_frames(&s.path().join("out.mp4")).0, TOTAL);
}

#[test]
fn a_join_that_needs_more_files_than_the_fd_limit() {
    let s = Scratch::new("fdlimit");
    let mut plan = String::from("output: many.mp4\nsegments:\n");
    for i in 0..1100 {
        plan.push_str(&format!(
            "  - {{id: c{i:04}, scene: plasma, duration: 0.0834}}\n"
        ));
    }
    s.write("plan.yaml", &plan);
    let o = s.run_limited(
        &[
            "run",
            "plan.yaml",
            "--quality",
            "draft",
            "--resolution",
            "32x32",
            "--workers",
            "2",
        ],
        &[],
        Duration::from_secs(900),
        Some(256),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(count_frames(&s.path().join("many.mp4")).0, 1100);
}

#[test]
fn absurd_inputs_are_refused_before_anything_starts() {
    let s = Scratch::new("bounds");
    let cases: &[(&str, &str)] = &[
        (
            "output: v.mp4\nresolution: 100000x100000\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n",
            "plan.yaml:2:13: resolution",
        ),
        (
            "output: v.mp4\nfps: 0\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n",
            "plan.yaml:2:6: fps",
        ),
        (
            "output: v.mp4\nsegments:\n  - {id: a, scene: plasma, duration: .nan}\n",
            "segments[0].duration: must be a finite number",
        ),
        (
            "output: v.mp4\nsegments:\n  - {id: a, scene: plasma, duration: -1}\n",
            "segments[0].duration: cannot be negative",
        ),
        (
            "output: v.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n  - {id: a, scene: plasma, duration: 1}\n",
            "duplicate id 'a'",
        ),
        (
            "output: v.mp4\nsegments:\n  - {id: ../../etc, scene: plasma, duration: 1}\n",
            "not safe in a file name",
        ),
        (
            "output: .farm/plan/v.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n",
            "inside farm's work folder",
        ),
        (
            "output: \"v.mp4; rm -rf /\"\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n",
            "the output must end in one of",
        ),
    ];
    for (plan, want) in cases {
        s.write("plan.yaml", plan);
        let o = s.run(&["run", "plan.yaml"], &[], LIMIT);
        assert_eq!(o.status.code(), Some(2), "{plan}\n{}", stderr(&o));
        assert!(stderr(&o).contains(want), "want {want:?} in {}", stderr(&o));
        assert!(
            !s.path().join(".farm").exists(),
            "nothing started for {plan}"
        );
    }
    // Flags too.
    s.write(
        "plan.yaml",
        "output: v.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n",
    );
    for flags in [
        &["--resolution", "100000x100000"][..],
        &["--fps", "0"],
        &["--workers", "0"],
        &["--crf", "99"],
    ] {
        let mut a = vec!["run", "plan.yaml"];
        a.extend_from_slice(flags);
        let o = s.run(&a, &[], LIMIT);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {}", stderr(&o));
    }
    // Too many segments: refused with a clear message, in bounded time; a million of them
    // (42 MB) are over the 16 MB a plan may be and are refused before parsing.
    for (n, want) in [
        (20_000, "20000 segments; at most 10000"),
        (1_000_000, "a plan or preset may be at most 16 MB"),
    ] {
        let mut big = String::with_capacity(n * 42);
        big.push_str("output: v.mp4\nsegments:\n");
        for i in 0..n {
            big.push_str(&format!("- {{id: s{i}, scene: plasma, duration: 1}}\n"));
        }
        s.write("plan.yaml", &big);
        let o = s.run(&["run", "plan.yaml"], &[], Duration::from_secs(300));
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains(want), "{}", stderr(&o));
    }
}

#[test]
fn an_unwritable_output_folder_is_named_before_anything_starts() {
    let s = Scratch::new("unwritable");
    s.write("afile", "not a folder");
    s.write(
        "plan.yaml",
        "output: afile/v.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n",
    );
    let o = s.run(&args("plan.yaml", &[]), &[], LIMIT);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot create the output folder") && stderr(&o).contains("afile"),
        "{}",
        stderr(&o)
    );
    assert!(!work(&s).join("workers").exists());
}

/// A full disk (a small tmpfs): a clear error naming the path, nothing half-written left as if
/// done, and the manifest still right. Needs permission to mount; says so when it has none.
#[test]
fn a_full_disk_fails_clearly_and_leaves_nothing_as_if_done() {
    let s = Scratch::new("diskfull");
    let small = s.path().join("small");
    std::fs::create_dir(&small).unwrap();
    let st = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=400k", "tmpfs"])
        .arg(&small)
        .status();
    if !st.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.0)
                .status();
        }
    }
    let _guard = Unmount(small.clone());
    std::fs::write(small.join("plan.yaml"), "output: out.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 1, shaders: [grain]}\n  - {id: b, scene: plasma, duration: 8, shaders: [grain]}\n").unwrap();
    let o = s.run(
        &[
            "run",
            "small/plan.yaml",
            "--quality",
            "production",
            "--resolution",
            "640x360",
            "--retries",
            "0",
        ],
        &[],
        LIMIT,
    );
    let err = stderr(&o);
    assert_ne!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("No space left on device") || err.contains("ENOSPC") || err.contains("space"),
        "names the cause: {err}"
    );
    assert!(!small.join("out.mp4").exists());
    let clips = common::work_dir(&small.join("plan.yaml")).join("clips");
    for e in std::fs::read_dir(&clips).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(
            !name.ends_with(".partial"),
            "a partial file was left: {name}"
        );
    }
    // The manifest is readable, and whatever it records done really is complete.
    let m = common::records(&common::work_dir(&small.join("plan.yaml")));
    for (id, rec) in m.clips {
        if rec.state == farm::manifest::ClipState::Done {
            assert_eq!(
                count_frames(&clips.join(format!("{id}.mp4"))).0,
                rec.frames,
                "{id} is recorded done"
            );
        }
    }
}
