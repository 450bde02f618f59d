//! Never lose a user's files (issue 7, the path cases): work-dir naming and cleanup, outputs
//! inside farm's folders or equal to an input, odd project folders, the clip namespace, long
//! output names, `farm check` agreeing with `farm run`, and `farm clean`. End-to-end tests use
//! the real binary, real ffmpeg and real workers.

mod common;
use common::*;
use farm::coordinator::Layout;
use farm::coordinator::layout::Removal;
use proptest::prelude::*;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

fn run_args<'a>(plan: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["run", plan];
    a.extend_from_slice(TINY);
    a.extend_from_slice(extra);
    a
}

const ONE_CLIP: &str = "segments:\n  - {id: a, scene: plasma, duration: 0.5}\n";

fn plan_with_output(output: &str) -> String {
    format!("output: {output}\n{ONE_CLIP}")
}

// ---------------------------------------------------------------------------------------------
// Case 1: the work dir is always a fresh child of .farm/, and cleanup touches nothing else.

/// File names of plans: the dangerous dots, spaces, unicode, very long, and arbitrary bytes.
fn plan_file_name() -> impl Strategy<Value = Vec<u8>> {
    let stem = prop_oneof![
        Just(b".".to_vec()),
        Just(b"..".to_vec()),
        Just(b"...".to_vec()),
        Just(b"".to_vec()),
        Just(b" ".to_vec()),
        Just(b"my plan".to_vec()),
        Just("ünïcødé 🎬 plan".as_bytes().to_vec()),
        Just(b"-rf".to_vec()),
        Just(b"_".to_vec()),
        Just(vec![b'a'; 250]),
        Just("é".repeat(120).into_bytes()),
        proptest::collection::vec(
            any::<u8>().prop_filter("no / or NUL", |b| *b != b'/' && *b != 0),
            1..200
        ),
    ];
    let ext = prop_oneof![Just(&b".yaml"[..]), Just(&b".yml"[..]), Just(&b""[..])];
    (stem, ext).prop_map(|(mut s, e)| {
        s.extend_from_slice(e);
        s.truncate(255);
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_plan_name_gets_a_fresh_child_of_farm_and_cleanup_touches_nothing_else(
        name in plan_file_name()
    ) {
        prop_assume!(name != b"." && name != b".." && !name.is_empty());
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        let plan = dir.join(OsString::from_vec(name.clone()));
        prop_assume!(std::fs::write(&plan, plan_with_output("v.mp4")).is_ok());
        // Things a user owns, and another plan's kept work dir.
        std::fs::write(dir.join("keep.txt"), "mine").unwrap();
        std::fs::create_dir_all(dir.join("assets/deep")).unwrap();
        std::fs::write(dir.join("assets/deep/a.txt"), "mine too").unwrap();
        std::fs::write(dir.join("v.mp4"), vec![7u8; 2000]).unwrap();
        let other = Layout::for_plan_file(&dir.join("other.yaml"));
        other.create_root().unwrap();
        other.init(&dir.join("other.yaml")).unwrap();
        std::fs::write(other.clip("x"), "other's clip").unwrap();

        let layout = Layout::for_plan_file(&plan);
        let farm = dir.join(".farm");
        prop_assert_eq!(layout.work.parent(), Some(farm.as_path()));
        let wname = layout.work.file_name().unwrap().to_str().unwrap().to_string();
        prop_assert!(wname != "." && wname != ".." && !wname.is_empty(), "{}", wname);
        prop_assert!(farm::plan::is_work_dir_name(&wname), "{}", wname);
        prop_assert!(wname.len() <= 60, "{}", wname);
        prop_assert_ne!(&layout.work, &other.work);
        prop_assert_eq!(&layout.work, &common::work_dir(&plan));

        let before = snapshot(dir, std::slice::from_ref(&layout.work));
        prop_assert!(layout.create_root().unwrap());
        layout.init(&plan).unwrap();
        std::fs::write(layout.clip("a"), "clip").unwrap();
        std::fs::write(layout.join_log(), "log").unwrap();
        farm::coordinator::join::cleanup(&dir.join("v.mp4"), &layout).unwrap();
        prop_assert!(!layout.work.exists());
        prop_assert_eq!(snapshot(dir, &[]), before);
        // With the other plan's work dir gone too, .farm/ goes once it is empty.
        other.remove().unwrap();
        prop_assert!(!farm.exists());
        prop_assert!(plan.is_file());
    }
}

#[test]
fn names_that_sanitise_alike_get_different_work_dirs() {
    let dir = Path::new("/project");
    let names = [
        "plan.yaml",
        "plan.yml",
        "plan",
        "plan .yaml",
        "pl an.yaml",
        "pl_an.yaml",
        "...yaml",
        "..yaml",
        ".yaml",
    ];
    let dirs: std::collections::HashSet<PathBuf> = names
        .iter()
        .map(|n| farm::plan::work_dir_for(&dir.join(n)))
        .collect();
    assert_eq!(dirs.len(), names.len(), "{dirs:?}");
    for d in &dirs {
        assert_eq!(
            d.parent(),
            Some(Path::new("/project/.farm")),
            "{}",
            d.display()
        );
    }
    // The folder does not count: a moved project keeps its work dir's name.
    assert_eq!(
        farm::plan::work_dir_for(Path::new("/a/plan.yaml")).file_name(),
        farm::plan::work_dir_for(Path::new("/b/c/plan.yaml")).file_name()
    );
}

#[test]
fn plans_named_with_dots_leave_every_other_file_alone() {
    let s = Scratch::new("dots");
    s.write("keep.txt", "mine");
    s.write("assets/deep/a.txt", "mine too");
    s.write("other.yaml", &plan_with_output("other.mp4"));
    // Another plan's kept clips must survive the dotted plans' cleanups.
    let o = s.run(&run_args("other.yaml", &["--keep"]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let other_work = work_dir(&s.path().join("other.yaml"));
    assert!(other_work.is_dir());
    s.write("...yaml", &plan_with_output("three-dots.mp4"));
    s.write("..yaml", &plan_with_output("two-dots.mp4"));
    let before = snapshot(s.path(), &[]);
    for (plan, out) in [("...yaml", "three-dots.mp4"), ("..yaml", "two-dots.mp4")] {
        let o = s.run(&run_args(plan, &[]), &[], LIMIT);
        assert!(o.status.success(), "{plan}: {}", stderr(&o));
        let (frames, _) = count_frames(&s.path().join(out));
        assert_eq!(frames, 6, "{plan}");
        assert!(!work_dir(&s.path().join(plan)).exists(), "{plan}: cleaned");
    }
    let mut after = snapshot(s.path(), &[]);
    for out in ["three-dots.mp4", "two-dots.mp4"] {
        assert!(after.remove(&s.path().join(out)).is_some());
    }
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "every other file is still there"
    );
    assert_eq!(before, after, "and unchanged");
}

#[test]
fn a_work_dir_that_farm_did_not_make_is_neither_used_nor_removed() {
    let s = Scratch::new("foreign");
    s.write("plan.yaml", &plan_with_output("v.mp4"));
    let work = work_dir(&s.path().join("plan.yaml"));
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("notes.txt"), "the user's").unwrap();
    let o = s.run(&run_args("plan.yaml", &[]), &[], LIMIT);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("farm did not make it"),
        "{}",
        stderr(&o)
    );
    let o = s.run(&["clean", "plan.yaml"], &[], LIMIT);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a farm work dir"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(work.join("notes.txt")).unwrap(),
        "the user's"
    );
}

#[test]
fn farm_clean_removes_the_work_dir_and_says_what_it_removed() {
    let s = Scratch::new("clean");
    s.write("plan.yaml", &plan_with_output("v.mp4"));
    s.write("keep.txt", "mine");
    let o = s.run(&run_args("plan.yaml", &["--keep"]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let work = work_dir(&s.path().join("plan.yaml"));
    assert!(work.is_dir());
    let o = s.run(&["clean", "plan.yaml"], &[], LIMIT);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(&format!("removed {}", work.display())) && out.contains("files"),
        "{out}"
    );
    assert!(out.contains("and the empty"), "{out}");
    assert!(!work.exists() && !s.path().join(".farm").exists());
    assert!(s.path().join("v.mp4").is_file() && s.path().join("keep.txt").is_file());
    assert!(s.path().join("plan.yaml").is_file());
    let o = s.run(&["clean", "plan.yaml"], &[], LIMIT);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("nothing to clean"), "{}", stdout(&o));
    // The library says the same.
    assert_eq!(
        farm::coordinator::clean(&s.path().join("plan.yaml"))
            .unwrap()
            .1,
        Removal::Nothing
    );
}

// ---------------------------------------------------------------------------------------------
// Case 2: outputs inside farm's folders, by real path.

#[test]
fn outputs_inside_farm_folders_are_refused_by_check_and_run_alike() {
    let s = Scratch::new("inside");
    let plan = s.path().join("p.yaml");
    // A folder symlinked into the work dir (by the library's rule of the day).
    let work = work_dir(&plan);
    std::fs::create_dir_all(&work).unwrap();
    std::os::unix::fs::symlink(&work, s.path().join("link")).unwrap();
    std::os::unix::fs::symlink(s.path().join(".farm"), s.path().join("farmlink")).unwrap();
    let cases = [
        "sub/../.farm/p/o.mp4",
        ".farm/x/../p/o.mp4",
        "link/o.mp4",
        "farmlink/o.mp4",
        "./.farm/o.mp4",
    ];
    for out in cases {
        s.write("p.yaml", &plan_with_output(out));
        for verb in ["check", "run"] {
            let mut a = vec![verb, "p.yaml"];
            a.extend_from_slice(TINY);
            let o = s.run(&a, &[], LIMIT);
            assert_eq!(o.status.code(), Some(2), "{verb} {out}: {}", stderr(&o));
            assert!(
                stderr(&o).contains("p.yaml:1:9: output:")
                    && stderr(&o).contains("inside farm's work folder"),
                "{verb} {out}: {}",
                stderr(&o)
            );
            assert!(!stdout(&o).contains("plan OK"), "{verb} {out}");
        }
    }
    assert_eq!(
        std::fs::read_dir(&work).unwrap().count(),
        0,
        "nothing was written into the work dir"
    );
}

// ---------------------------------------------------------------------------------------------
// Case 5: an output that is one of the inputs.

#[test]
fn an_output_that_is_an_input_is_refused_and_the_input_is_untouched() {
    let s = Scratch::new("input");
    make_audio(&s.path().join("track.mp4"), 1.0);
    std::fs::hard_link(s.path().join("track.mp4"), s.path().join("hardlink.mp4")).unwrap();
    std::os::unix::fs::symlink(".", s.path().join("alias")).unwrap();
    s.write("font.mkv", "not really a font");
    s.write("scenes/glow.yaml", "scene: plasma\n");
    std::fs::hard_link(s.path().join("scenes/glow.yaml"), s.path().join("glow.mov")).unwrap();
    let track = std::fs::read(s.path().join("track.mp4")).unwrap();
    let cases = [
        (
            "plan.yaml",
            "output: track.mp4\naudio: track.mp4\n",
            "the plan's audio",
        ),
        (
            "plan.yaml",
            "output: alias/track.mp4\naudio: track.mp4\n",
            "the plan's audio",
        ),
        (
            "plan.yaml",
            "output: hardlink.mp4\naudio: track.mp4\n",
            "the plan's audio",
        ),
        (
            "plan.yaml",
            "output: font.mkv\nfonts: [font.mkv]\n",
            "a font of the plan",
        ),
        ("plan.yaml", "output: glow.mov\n", "a scene preset"),
        ("p.mp4", "output: p.mp4\n", "the plan file"),
        ("p.mp4", "output: alias/p.mp4\n", "the plan file"),
    ];
    for (plan, head, what) in cases {
        let text = format!("{head}{ONE_CLIP}");
        s.write(plan, &text);
        for verb in ["check", "run"] {
            let mut a = vec![verb, plan];
            a.extend_from_slice(TINY);
            let o = s.run(&a, &[], LIMIT);
            assert_eq!(o.status.code(), Some(2), "{verb} {head}: {}", stderr(&o));
            let e = stderr(&o);
            assert!(
                e.contains(&format!("{plan}:1:9: output:"))
                    && e.contains(&format!("is the same file as {what}")),
                "{verb} {head}: {e}"
            );
        }
        assert_eq!(std::fs::read_to_string(s.path().join(plan)).unwrap(), text);
    }
    assert_eq!(std::fs::read(s.path().join("track.mp4")).unwrap(), track);
    assert!(!s.path().join(".farm").exists());
}

// ---------------------------------------------------------------------------------------------
// Case 15: a newline, or bytes that are not UTF-8, in the project folder's path.

#[test]
fn project_folders_with_a_newline_or_a_name_that_is_not_utf8_render() {
    let s = Scratch::new("oddpath");
    for name in [&b"new\nline 'folder'"[..], &b"caf\xe9 \xff"[..]] {
        let dir = s.path().join(OsString::from_vec(name.to_vec()));
        std::fs::create_dir(&dir).unwrap();
        make_audio(&dir.join("track.wav"), 1.0);
        std::fs::write(
            dir.join("plan.yaml"),
            "output: out/v.mp4\naudio: track.wav\nsegments:\n  - {id: a, scene: plasma, duration: 0.5}\n  - {id: b, scene: quote, duration: 0.5, text: hi}\n",
        )
        .unwrap();
        let mut a = vec!["run", "plan.yaml"];
        a.extend_from_slice(TINY);
        let o = run_in(&s, &dir, &a, LIMIT);
        assert!(o.status.success(), "{:?}: {}", dir, stderr(&o));
        let out = dir.join("out/v.mp4");
        assert_eq!(count_frames(&out).0, 12, "{dir:?}");
        assert!(audio_duration(&out).is_some(), "{dir:?}: audio muxed");
        // The work dir is gone; only the audio feature cache stays in `.farm/` (by design).
        assert!(
            !work_dir(&dir.join("plan.yaml")).exists(),
            "{dir:?}: cleaned up"
        );
        let left: Vec<_> = std::fs::read_dir(dir.join(".farm"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![OsString::from("cache")], "{dir:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Case 16: the run's own files are outside the clip namespace.

#[test]
fn a_segment_named_join_keeps_its_own_log() {
    let s = Scratch::new("joinid");
    s.write(
        "plan.yaml",
        "output: v.mp4\nsegments:\n  - {id: join, scene: plasma, duration: 0.5}\n  - {id: worker-1, scene: plasma, duration: 0.5}\n  - {id: concat, scene: plasma, duration: 0.5}\n",
    );
    let o = s.run(&run_args("plan.yaml", &["--keep"]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut a = vec!["status", "plan.yaml"];
    a.extend_from_slice(TINY);
    let o = s.run(&a, &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    for id in ["join", "worker-1", "concat"] {
        let row = table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("no row for {id}: {table}"));
        let log = PathBuf::from(row.split_whitespace().last().unwrap());
        let text = std::fs::read_to_string(&log).unwrap();
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.contains("-f rawvideo") && !first.contains("-f concat"),
            "the log of clip {id} ({}) is its encoder's, not the join's: {first}",
            log.display()
        );
    }
    let layout = Layout::for_plan_file(&s.path().join("plan.yaml"));
    let join = std::fs::read_to_string(layout.join_log()).unwrap();
    assert!(join.lines().next().unwrap().contains("-f concat"), "{join}");
}

// ---------------------------------------------------------------------------------------------
// Case 17: output names near the file-system limit.

#[test]
fn a_long_output_name_renders_and_one_over_the_limit_is_refused_before_anything() {
    let s = Scratch::new("longname");
    // 255 bytes: the limit itself; the join's temporary name must still fit.
    let name = format!("{}.mp4", "n".repeat(251));
    s.write("plan.yaml", &plan_with_output(&name));
    let o = s.run(&run_args("plan.yaml", &[]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(count_frames(&s.path().join(&name)).0, 6);
    // 256 bytes: refused by check and run, with the numbers, before anything is created.
    let name = format!("{}.mp4", "n".repeat(252));
    s.write("plan.yaml", &plan_with_output(&name));
    for verb in ["check", "run"] {
        let mut a = vec![verb, "plan.yaml"];
        a.extend_from_slice(TINY);
        let o = s.run(&a, &[], LIMIT);
        assert_eq!(o.status.code(), Some(2), "{verb}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("plan.yaml:1:9: output:")
                && stderr(&o).contains("is 256 bytes long; the file system allows at most 255"),
            "{verb}: {}",
            stderr(&o)
        );
        assert!(!s.path().join(".farm").exists());
    }
    // A folder name over the limit too.
    s.write(
        "plan.yaml",
        &plan_with_output(&format!("{}/v.mp4", "d".repeat(300))),
    );
    let o = s.run(&["check", "plan.yaml"], &[], LIMIT);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is 300 bytes long"), "{}", stderr(&o));
}

// ---------------------------------------------------------------------------------------------
// Case 18 (part): `farm check` agrees with `farm run` and creates nothing.

#[test]
fn check_refuses_what_run_refuses_and_says_plan_ok_only_when_it_is() {
    let s = Scratch::new("checkrun");
    s.write("a.wav", "this is not audio");
    let cases = [
        (plan_with_output("p.yaml/x.mp4"), "is a file, not a folder"),
        (
            plan_with_output("/proc/self/x.mp4"),
            "a virtual file system",
        ),
        (plan_with_output("/sys/x.mp4"), "a virtual file system"),
        (plan_with_output("\"v\\0.mp4\""), "contains a NUL byte"),
        (
            format!("output: v.mp4\naudio: a.wav\n{ONE_CLIP}"),
            "audio: ffprobe cannot read",
        ),
    ];
    for (plan, want) in &cases {
        s.write("p.yaml", plan);
        for verb in ["check", "run"] {
            let mut a = vec![verb, "p.yaml"];
            a.extend_from_slice(TINY);
            let o = s.run(&a, &[], LIMIT);
            assert_eq!(o.status.code(), Some(2), "{verb} {plan}: {}", stderr(&o));
            assert!(stderr(&o).contains(want), "{verb} {plan}: {}", stderr(&o));
            assert!(
                !stdout(&o).contains("plan OK"),
                "{verb} {plan}: {}",
                stdout(&o)
            );
        }
    }
    assert!(!s.path().join(".farm").exists());
    // A good plan: "plan OK", exit 0, and nothing created (no output folder, no work dir).
    s.write("p.yaml", &plan_with_output("out/new/v.mp4"));
    let before = snapshot(s.path(), &[]);
    let o = s.run(&["check", "p.yaml"], &[], LIMIT);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("plan OK"), "{}", stdout(&o));
    assert!(!s.path().join("out").exists() && !s.path().join(".farm").exists());
    assert_eq!(snapshot(s.path(), &[]), before);
}

// ---------------------------------------------------------------------------------------------
// Case 20 (part a): inputs that exist but are not files say what they are.

#[test]
fn audio_and_fonts_that_are_not_regular_files_say_what_they_are() {
    let s = Scratch::new("kinds");
    std::fs::create_dir(s.path().join("music")).unwrap();
    let fifo = std::ffi::CString::new(
        s.path()
            .join("pipe.wav")
            .into_os_string()
            .into_encoded_bytes(),
    )
    .unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let cases = [
        (
            "audio: music",
            "plan.yaml:2:8: audio: audio file",
            "music is a folder",
        ),
        (
            "audio: pipe.wav",
            "plan.yaml:2:8: audio: audio file",
            "pipe.wav is a FIFO (named pipe), not a regular file",
        ),
        ("audio: none.wav", "audio file not found", "none.wav"),
        ("fonts: [music]", "fonts[0]: font file", "music is a folder"),
        (
            "fonts: [pipe.wav]",
            "fonts[0]: font file",
            "pipe.wav is a FIFO (named pipe), not a regular file",
        ),
    ];
    for (line, want1, want2) in cases {
        s.write("plan.yaml", &format!("output: v.mp4\n{line}\n{ONE_CLIP}"));
        for verb in ["check", "run"] {
            let o = s.run(&[verb, "plan.yaml"], &[], LIMIT);
            assert_eq!(o.status.code(), Some(2), "{verb} {line}: {}", stderr(&o));
            assert!(
                stderr(&o).contains(want1) && stderr(&o).contains(want2),
                "{verb} {line}: {}",
                stderr(&o)
            );
        }
    }
}
