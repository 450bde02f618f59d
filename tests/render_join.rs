//! End-to-end, no scheduler needed: the pieces a Slurm array is made of. `farm render --index`
//! of different clips side by side in one work dir (each writes only its own record), a
//! `farm join` that refuses while a clip is missing and then joins what they left, the same
//! bytes as `farm run`; a second render of a clip being rendered, and a run meanwhile, are
//! refused by the locks.

mod common;

use common::*;
use std::time::Duration;

const PLAN: &str = "output: out/v.mp4\nseed: 4\nchunk: 1\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n  - {id: b, scene: particles, duration: 2}\n  - {id: c, scene: quote, duration: 1, text: join}\n";

fn with_tiny(mut a: Vec<&str>) -> Vec<&str> {
    a.extend_from_slice(TINY);
    a.extend_from_slice(&["--crf", "0", "--x264-threads", "1"]);
    a
}

#[test]
fn renders_of_single_clips_side_by_side_then_a_join_make_the_run_s_video() {
    let whole = Scratch::new("rj-whole");
    whole.write("plan.yaml", PLAN);
    let o = whole.run(&with_tiny(vec!["run", "plan.yaml"]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let want = framemd5(&whole.path().join("out/v.mp4"));

    let s = Scratch::new("rj-parts");
    s.write("plan.yaml", PLAN);
    // Clips: a, b#1, b#2, c. All but c at once, each its own process.
    let idx: Vec<String> = (0..3).map(|i| i.to_string()).collect();
    let running: Vec<Running> = idx
        .iter()
        .map(|i| s.spawn(&with_tiny(vec!["render", "plan.yaml", "--index", i]), &[]))
        .collect();
    for r in running {
        let (code, err) = r.wait(LIMIT);
        assert_eq!(code, Some(0), "{err}");
    }
    let work = work_dir(&s.path().join("plan.yaml"));
    let recs = records(&work);
    let ids: Vec<&str> = recs.clips.keys().map(String::as_str).collect();
    assert_eq!(ids, ["a", "b#1", "b#2"], "each wrote its own record");
    // The join refuses while c is missing, and says how to render it.
    let o = s.run(&with_tiny(vec!["join", "plan.yaml"]), &[], LIMIT);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("clip 'c' failed: not done (render (missing))"),
        "{err}"
    );
    assert!(err.contains("--only c"), "{err}");
    assert!(!s.path().join("out/v.mp4").exists());
    // Out-of-range index: named, with the range.
    let o = s.run(
        &with_tiny(vec!["render", "plan.yaml", "--index", "4"]),
        &[],
        LIMIT,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no clip with index 4: the plan has 4 clips (indices 0 to 3)"),
        "{}",
        stderr(&o)
    );
    // A digest that does not match the plan's clips (the plan changed since the job was written).
    let o = s.run(
        &with_tiny(vec![
            "render",
            "plan.yaml",
            "--index",
            "3",
            "--plan-digest",
            "0000000000000000",
        ]),
        &[],
        LIMIT,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not those this job was submitted for"),
        "{}",
        stderr(&o)
    );
    let o = s.run(&with_tiny(vec!["render", "plan.yaml", "c"]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = s.run(&with_tiny(vec!["join", "plan.yaml"]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(framemd5(&s.path().join("out/v.mp4")), want);
    assert!(!work.exists(), "the join cleaned up");
}

#[test]
fn a_clip_being_rendered_cannot_be_rendered_twice_nor_a_run_start() {
    let s = Scratch::new("rj-locks");
    s.write("plan.yaml", PLAN);
    // Its processes carry their own tag: the other commands' leftover checks must not see them.
    let slow_tag = format!("{}-slow", s.tag);
    let slow = s.spawn(
        &with_tiny(vec!["render", "plan.yaml", "a"]),
        &[("FARM_FAULT", "a:hang"), ("FARM_TEST_TAG", &slow_tag)],
    );
    let work = work_dir(&s.path().join("plan.yaml"));
    assert!(
        wait_until(Duration::from_secs(30), || state_text(&work)
            .contains("state: running")),
        "{}",
        slow.stderr()
    );
    let o = s.run(&with_tiny(vec!["render", "plan.yaml", "a"]), &[], LIMIT);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("clip 'a' is being rendered by another farm process: pid"),
        "{err}"
    );
    let o = s.run(&with_tiny(vec!["run", "plan.yaml"]), &[], LIMIT);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("another farm process is working on this plan's work dir"),
        "{err}"
    );
    // Another clip renders meanwhile.
    let o = s.run(&with_tiny(vec!["render", "plan.yaml", "c"]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    // farm status says who renders a.
    let o = s.run(&with_tiny(vec!["status", "plan.yaml"]), &[], LIMIT);
    let table = stdout(&o);
    let row = table.lines().find(|l| l.starts_with("a ")).unwrap();
    assert!(
        row.contains("running") && row.contains("being rendered by pid"),
        "{table}"
    );
    slow.signal(libc::SIGTERM);
    let (code, _) = slow.wait(LIMIT);
    assert_eq!(code, Some(130));
    assert_no_leftovers(&slow_tag);
}
