//! End-to-end: plans that used to be accepted but wrong, read forever, or parsed for minutes;
//! and `farm frame`, which must never destroy a file it cannot replace (issue 7, cases 6, 13,
//! 14, 18 and 20). Real `farm` processes, real ffmpeg for the renders.

mod common;
use common::*;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

/// Run farm with a resource limit: `RLIMIT_AS` (`ulimit -v`), so that a read without bound
/// fails here instead of eating the machine's memory, or `RLIMIT_FSIZE` (`ulimit -f`, with
/// SIGXFSZ ignored), so that writing past it fails with EFBIG.
fn run_with_rlimit(
    s: &Scratch,
    args: &[&str],
    resource: libc::__rlimit_resource_t,
    bytes: u64,
) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let mut cmd = s.command(args, &[]);
    // SAFETY: setrlimit and signal are async-signal-safe; nothing else runs between fork and
    // exec. An ignored signal stays ignored across exec.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(resource, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("farm {args:?} did not finish within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert_no_leftovers(&s.tag);
    out
}

const ONE: &str = "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    duration: 1\n";

#[test]
fn check_of_a_fifo_says_so_at_once_instead_of_waiting_for_a_writer() {
    let s = Scratch::new("fifo");
    mkfifo(&s.path().join("plan.yaml"));
    let o = s.run(&["check", "plan.yaml"], &[], LIMIT);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "plan.yaml: cannot read the plan: it is a FIFO (named pipe), not a regular file"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn check_of_dev_zero_is_refused_without_reading_it() {
    let s = Scratch::new("devzero");
    let o = run_with_rlimit(&s, &["check", "/dev/zero"], libc::RLIMIT_AS, 1 << 30);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("it is a character device, not a regular file"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_plan_over_16_mb_is_refused_with_its_size() {
    let s = Scratch::new("big");
    let p = s.write("plan.yaml", ONE);
    // Valid YAML all the way: a comment pads the file past the cap.
    let f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
    use std::io::Write;
    let mut w = std::io::BufWriter::new(f);
    let line = format!("# {}\n", "x".repeat(1021));
    for _ in 0..(16 * 1024 + 1) {
        w.write_all(line.as_bytes()).unwrap();
    }
    drop(w);
    let size = std::fs::metadata(&p).unwrap().len();
    let o = s.run(&["check", "plan.yaml"], &[], LIMIT);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("it is {size} bytes")) && stderr(&o).contains("at most 16 MB"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_preset_under_scenes_that_is_a_fifo_is_refused_as_one() {
    let s = Scratch::new("presetfifo");
    s.write(
        "plan.yaml",
        "output: v.mp4\nsegments:\n  - id: a\n    scene: mine\n    duration: 1\n",
    );
    std::fs::create_dir(s.path().join("scenes")).unwrap();
    mkfifo(&s.path().join("scenes/mine.yaml"));
    let o = s.run(&["check", "plan.yaml"], &[], LIMIT);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("plan.yaml:4:12: segments[0].scene: cannot read ")
            && err.contains("scenes/mine.yaml: it is a FIFO (named pipe)"),
        "{err}"
    );
}

#[test]
fn a_hundred_thousand_nested_brackets_are_refused_with_the_nesting_message() {
    let s = Scratch::new("nest");
    let n = 100_000;
    s.write(
        "plan.yaml",
        &format!(
            "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    duration: 1\n    params: {{x: {}1{}}}\n",
            "[".repeat(n),
            "]".repeat(n)
        ),
    );
    s.write(
        "maps.yaml",
        &format!("{}1{}\n", "{a: ".repeat(n), "}".repeat(n)),
    );
    // Only the outcome is asserted; LIMIT is a generous guard against a hang, not a timing.
    let o = s.run(&["check", "plan.yaml"], &[], LIMIT);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("plan.yaml:6:77: nesting deeper than 64 levels"),
        "{}",
        stderr(&o)
    );
    let o = s.run(&["check", "maps.yaml"], &[], LIMIT);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("maps.yaml:1:257: nesting deeper than 64 levels"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_plan_saved_with_a_byte_order_mark_checks_ok() {
    let s = Scratch::new("bom");
    s.write("plan.yaml", &format!("\u{feff}{ONE}"));
    let o = s.run(&["check", "plan.yaml"], &[], LIMIT);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("plan OK: 1 segments"), "{}", stdout(&o));
}

#[test]
fn a_duplicate_key_is_reported_at_the_second_one() {
    let s = Scratch::new("dupkey");
    s.write("plan.yaml", &format!("{ONE}    duration: 2\n"));
    let o = s.run(&["check", "plan.yaml"], &[], LIMIT);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "plan.yaml:6:5: segments[0].duration: duplicate key 'duration' (first given at line 5, column 5)"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn overlapping_ranges_stop_a_run_before_any_worker() {
    let s = Scratch::new("overlap");
    s.write(
        "plan.yaml",
        "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    start: 0\n    end: 2\n  - id: b\n    scene: plasma\n    start: 1\n    end: 3\n",
    );
    let mut args = vec!["run", "plan.yaml"];
    args.extend_from_slice(TINY);
    let o = s.run(&args, &[], LIMIT);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "plan.yaml:9:12: segments[1].start: 1.0 s overlaps segment 'a' (0.0-2.0 s, line 3)"
        ),
        "{}",
        stderr(&o)
    );
    assert!(
        !work_dir(&s.path().join("plan.yaml")).exists(),
        "nothing started"
    );
    assert!(!s.path().join("v.mp4").exists());
}

#[test]
fn a_range_ends_at_its_second_of_the_final_video_after_rounded_durations() {
    // At 12 fps each 0.1 s duration is one frame (0.083 s); `end: 1` still ends the video at
    // 1.0 s: 12 frames, not the 11 that adding the clips' own lengths gave.
    let s = Scratch::new("anchor");
    s.write(
        "plan.yaml",
        "output: v.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 0.1}\n  - {id: b, scene: plasma, duration: 0.1}\n  - {id: c, scene: plasma, duration: 0.1}\n  - {id: d, scene: plasma, start: 0.3, end: 1}\n",
    );
    let mut args = vec!["run", "plan.yaml"];
    args.extend_from_slice(TINY);
    let o = s.run(&args, &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(count_frames(&s.path().join("v.mp4")).0, 12);
}

fn frame_args(out: &str) -> Vec<&str> {
    let mut a = vec!["frame", "plan.yaml", "a", "-o", out];
    a.extend_from_slice(TINY);
    a
}

/// The names in a folder, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn frame_to_a_jpg_is_refused_and_the_existing_file_is_untouched() {
    let s = Scratch::new("framejpg");
    s.write("plan.yaml", ONE);
    s.write("photo.jpg", "my holiday photo");
    let before = names(s.path());
    let o = s.run(&frame_args("photo.jpg"), &[], LIMIT);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("PNG only"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(s.path().join("photo.jpg")).unwrap(),
        "my holiday photo"
    );
    assert_eq!(names(s.path()), before, "nothing else was written");
}

#[test]
fn frame_replaces_an_existing_png_whole_with_no_temporary_left() {
    let s = Scratch::new("framepng");
    s.write("plan.yaml", ONE);
    s.write("shots/f.png", "an older frame");
    let o = s.run(&frame_args("shots/f.png"), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let png = std::fs::read(s.path().join("shots/f.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a complete PNG");
    assert_eq!(names(&s.path().join("shots")), vec!["f.png"]);
    // Permissions as for any new file (the umask's), not a temporary file's private 0600.
    use std::os::unix::fs::PermissionsExt;
    let umask = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .map(|v| u32::from_str_radix(v.trim(), 8).unwrap())
        .unwrap();
    let mode = std::fs::metadata(s.path().join("shots/f.png"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o666 & !umask);
    // A frame that fails (no such clip) leaves the file as it was.
    let o = s.run(
        &["frame", "plan.yaml", "nosuch", "-o", "shots/f.png"],
        &[],
        LIMIT,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(std::fs::read(s.path().join("shots/f.png")).unwrap(), png);
}

#[test]
fn frame_that_fails_to_write_leaves_the_existing_png_as_it_was() {
    // Files may grow to 4 KB only: the PNG (about 36 KB) cannot be written.
    let s = Scratch::new("framefail");
    s.write("plan.yaml", ONE);
    s.write("f.png", "an older frame");
    let o = run_with_rlimit(&s, &frame_args("f.png"), libc::RLIMIT_FSIZE, 4096);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot write f.png"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(s.path().join("f.png")).unwrap(),
        "an older frame"
    );
    assert_eq!(
        names(s.path()),
        vec!["f.png", "plan.yaml"],
        "no temporary left"
    );
}
