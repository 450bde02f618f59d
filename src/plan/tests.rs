use super::*;
use crate::render::Scene;
use crate::render::palette::PaletteName;
use crate::render::scenes::SceneConfig;

fn parse(src: &str) -> Result<Plan, PlanError> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("plan.yaml");
    Plan::parse(src, &p)
}

fn err(src: &str) -> PlanError {
    parse(src).expect_err("the plan should be refused")
}

fn at(e: &PlanError) -> (usize, usize) {
    let p = e.pos.unwrap_or_else(|| panic!("no position in {e}"));
    (p.line, p.column)
}

const GOOD: &str = "output: out/v.mp4\nseed: 7\nsegments:\n  - id: a\n    scene: plasma\n    duration: 2\n  - id: b\n    scene: quote\n    start: 2\n    end: 3.5\n    text: hi\n";

#[test]
fn a_good_plan_parses() {
    let p = parse(GOOD).unwrap();
    assert_eq!(p.seed, 7);
    assert_eq!(p.segments.len(), 2);
    assert_eq!(
        p.segments[1].timing,
        Timing::Range {
            start: 2.0,
            end: 3.5
        }
    );
    assert!(p.output.is_absolute() && p.output.ends_with("out/v.mp4"));
    assert_eq!(p.frame_counts(12).unwrap(), vec![24, 18]);
    assert_eq!(p.total_seconds(), 3.5);
}

#[test]
fn frame_counts_are_exact_integers_without_drift() {
    // Back-to-back ranges tile exactly: 1000 segments of 0.1 s at 30 fps = 3000 frames.
    assert_eq!(
        (0..1000)
            .map(|i| Timing::Range {
                start: i as f64 * 0.1,
                end: (i + 1) as f64 * 0.1
            }
            .frames(30))
            .sum::<u64>(),
        3000
    );
    assert_eq!(Timing::Duration(0.1).frames(30), 3);
    assert_eq!(Timing::Duration(4.0).frames(24), 96);
    assert_eq!(Timing::Duration(1.0 / 3.0).frames(12), 4);
}

#[test]
fn unknown_keys_are_errors_with_position() {
    let e = err(
        "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    duration: 1\n    colour: red\n",
    );
    assert_eq!(at(&e), (6, 5), "{e}");
    assert!(e.message.contains("unknown field `colour`"), "{e}");
    let e = err("output: v.mp4\nqualty: draft\nsegments: []\n");
    assert_eq!(at(&e).0, 2, "{e}");
}

#[test]
fn type_errors_have_position() {
    let e = err("output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    duration: soon\n");
    assert_eq!(at(&e).0, 5, "{e}");
    let e =
        err("output: v.mp4\nquality: ultra\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n");
    assert_eq!(at(&e).0, 2, "{e}");
    assert!(e.message.contains("draft"), "the choices are listed: {e}");
}

#[test]
fn semantic_errors_point_at_the_value() {
    let e = err("output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    duration: -2\n");
    assert_eq!(
        (at(&e), e.key.as_str()),
        ((5, 15), "segments[0].duration"),
        "{e}"
    );
    let e = err("output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    duration: .nan\n");
    assert_eq!(at(&e), (5, 15), "{e}");
    let e = err(
        "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    duration: 1\n  - id: a\n    scene: plasma\n    duration: 1\n",
    );
    assert_eq!((at(&e), e.key.as_str()), ((6, 9), "segments[1].id"), "{e}");
    assert!(
        e.message.contains("duplicate") && e.message.contains("line 3"),
        "{e}"
    );
    let e = err("output: v.mp4\nsegments:\n  - id: a\n    scene: nosuch\n    duration: 1\n");
    assert_eq!(at(&e), (4, 12), "{e}");
    assert!(e.message.contains("plasma"), "lists the scenes: {e}");
    let e = err("output: v.mp4\nsegments:\n  - id: a/b\n    scene: plasma\n    duration: 1\n");
    assert_eq!(at(&e), (3, 9), "{e}");
    let e =
        err("output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    start: 3\n    end: 2\n");
    assert_eq!(
        (at(&e), e.key.as_str()),
        ((5, 12), "segments[0].start"),
        "{e}"
    );
    assert!(e.message.contains("3.0-2.0 s goes backwards"), "{e}");
    let e = err(
        "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    duration: 1\n    start: 0\n",
    );
    assert_eq!(at(&e).0, 5, "{e}");
    let e = err("output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n");
    assert_eq!(at(&e).0, 3, "{e}");
    let e = err("output: v.avi\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n");
    assert_eq!(at(&e), (1, 9), "{e}");
    let e = err(
        "output: v.mp4\naudio: nothere.wav\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n",
    );
    assert_eq!(at(&e), (2, 8), "{e}");
    assert!(e.message.contains("nothere.wav"), "{e}");
    let e = err("output: v.mp4\nsegments: []\n");
    assert_eq!(at(&e).0, 2, "{e}");
    for bad in ["-1", ".nan", ".inf", "0.5"] {
        let e = err(&format!(
            "output: v.mp4\nchunk: {bad}\nsegments:\n  - {{id: a, scene: plasma, duration: 1}}\n"
        ));
        assert_eq!((at(&e), e.key.as_str()), ((2, 8), "chunk"), "{e}");
        assert!(e.message.contains("0 turns chunking off"), "{e}");
    }
    let e = err("output: v.mp4\nsegments:\n  - {id: 'a#1', scene: plasma, duration: 1}\n");
    assert!(e.message.contains("chunks"), "{e}");
    let e = err("output: v.mp4\nchunk: ten\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n");
    assert_eq!(at(&e).0, 2, "{e}");
}

#[test]
fn a_clip_shorter_than_a_frame_is_an_error_at_its_duration() {
    let p = parse("output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    duration: 0.01\n")
        .unwrap();
    let e = p.frame_counts(12).unwrap_err();
    assert_eq!(at(&e), (5, 15), "{e}");
}

#[test]
fn output_inside_the_work_dir_is_refused() {
    let e = err("output: .farm/plan/v.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n");
    assert!(e.message.contains("farm's work folder"), "{e}");
}

#[test]
fn ids_with_spaces_and_apostrophes_are_fine() {
    assert!(check_id("it's a clip").is_ok());
    for bad in ["", "a/b", "..", ".hidden", "-x", "a,b", "tab\there", " pad"] {
        assert!(check_id(bad).is_err(), "{bad:?} should be refused");
    }
}

#[test]
fn errors_display_as_file_line_column_key_message() {
    let e = err("output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    duration: 0\n");
    let s = e.to_string();
    assert!(s.contains("plan.yaml:5:15: segments[0].duration: "), "{s}");
}

#[test]
fn params_and_shaders_become_specs() {
    let p = parse("output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    duration: 1\n    params: {hue: 0.5, palette: dense}\n    shaders: [vignette, {bloom: {thr: 120}}]\n").unwrap();
    let s = &p.segments[0].scene;
    let SceneConfig::Plasma(c) = &s.config else {
        panic!("{s:?}")
    };
    assert_eq!(c.hue, 0.5);
    assert_eq!(c.palette, PaletteName::Dense);
    assert_eq!(s.shaders[0].name, crate::render::shaders::Shader::Vignette);
    assert_eq!(s.shaders[1].params.get("thr"), Some(&Param::Num(120.0)));
    let e = err(
        "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    duration: 1\n    shaders: [[1]]\n",
    );
    assert_eq!(at(&e).0, 6, "{e}");
}

#[test]
fn unknown_shader_names_are_refused_where_written_with_the_choices() {
    for list in ["[vignette, blooom]", "[vignette, {blooom: {thr: 1}}]"] {
        let e = err(&format!(
            "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    duration: 1\n    shaders: {list}\n"
        ));
        assert_eq!(at(&e).0, 6, "{e}");
        assert!(e.key.ends_with("shaders[1]"), "{e}");
        assert!(e.message.contains("unknown shader \"blooom\""), "{e}");
        // The choices come from the enum: every name, the last one included.
        for n in crate::render::shaders::Shader::NAMES {
            assert!(e.message.contains(n), "{n} missing from {e}");
        }
    }
}

#[test]
fn presets_resolve_and_segment_params_win() {
    let p = parse("output: v.mp4\nsegments:\n  - id: a\n    scene: aurora\n    duration: 1\n    params: {hue: 0.9}\n").unwrap();
    let s = &p.segments[0].scene;
    assert_eq!(s.scene, Scene::Plasma);
    let SceneConfig::Plasma(c) = &s.config else {
        panic!("{s:?}")
    };
    assert_eq!(c.hue, 0.9);
    assert_eq!(
        c.palette2,
        PaletteName::Gradient,
        "the preset's own params stay"
    );
    assert!(!s.shaders.is_empty(), "the preset's shaders apply");
}

#[test]
fn a_local_preset_file_is_found_beside_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scenes")).unwrap();
    std::fs::write(
        dir.path().join("scenes/mine.yaml"),
        "scene: plasma\nparams: {hue: 0.3}\n",
    )
    .unwrap();
    let p = Plan::parse(
        "output: v.mp4\nsegments:\n  - {id: a, scene: mine, duration: 1}\n",
        &dir.path().join("p.yaml"),
    )
    .unwrap();
    assert!(
        matches!(&p.segments[0].scene.config, SceneConfig::Plasma(c) if c.hue == 0.3),
        "{:?}",
        p.segments[0].scene
    );
    std::fs::write(
        dir.path().join("scenes/broken.yaml"),
        "scene: plasma\nbogus: 1\n",
    )
    .unwrap();
    let e = Plan::parse(
        "output: v.mp4\nsegments:\n  - {id: a, scene: broken, duration: 1}\n",
        &dir.path().join("p.yaml"),
    )
    .unwrap_err();
    assert!(
        e.file.ends_with("scenes/broken.yaml") && at(&e).0 == 2,
        "{e}"
    );
}

#[test]
fn garbage_never_panics() {
    for src in [
        "",
        "- 1\n- 2",
        "output: [",
        "segments: {a: 1}",
        "\u{0}",
        "output: v.mp4\nsegments:\n  - 5\n",
        "output: 3\nsegments:\n  - {id: 1, scene: plasma, duration: 1e400}\n",
    ] {
        let _ = parse(src);
    }
}

/// A plan of segments given as (id, timing) with timing `duration: 4` or `start: 3, end: 5`,
/// one key per line so that positions are easy to tell: segment k's `id` is on line 3 + 4k,
/// its first timing key on line 5 + 4k, its `end` (if any) on 6 + 4k.
fn timeline(segs: &[(&str, &str)]) -> String {
    let mut s = "output: v.mp4\nsegments:\n".to_string();
    for (id, t) in segs {
        s.push_str(&format!("  - id: {id}\n    scene: plasma\n"));
        let kvs: Vec<&str> = t.split(", ").collect();
        for kv in &kvs {
            s.push_str(&format!("    {kv}\n"));
        }
        if kvs.len() == 1 {
            s.push_str("    # (four lines per segment)\n");
        }
    }
    s
}

#[test]
fn a_range_that_overlaps_an_earlier_segment_is_refused_at_its_start_naming_it() {
    // a 0-2, b 2-5 (duration), c starts at 3: inside b.
    let src = timeline(&[
        ("a", "start: 0, end: 2"),
        ("b", "duration: 3"),
        ("c", "start: 3, end: 6"),
    ]);
    let e = err(&src);
    assert_eq!(
        (at(&e), e.key.as_str()),
        ((13, 12), "segments[2].start"),
        "{e}"
    );
    assert!(
        e.message
            .contains("overlaps segment 'b' (2.0-5.0 s, line 7)"),
        "{e}"
    );
    assert!(e.message.contains("starts at 5.0 s, where 'b' ends"), "{e}");
    // Starting inside the first segment names the first one.
    let e = err(&timeline(&[
        ("a", "start: 0, end: 2"),
        ("b", "duration: 3"),
        ("c", "start: 1, end: 6"),
    ]));
    assert!(
        e.message
            .contains("overlaps segment 'a' (0.0-2.0 s, line 3)"),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("plan.yaml:13:12: segments[2].start: "),
        "{e}"
    );
}

#[test]
fn a_range_that_leaves_a_gap_is_refused_with_the_missing_seconds() {
    let e = err(&timeline(&[
        ("a", "duration: 4"),
        ("b", "start: 5, end: 6"),
    ]));
    assert_eq!(
        (at(&e), e.key.as_str()),
        ((9, 12), "segments[1].start"),
        "{e}"
    );
    assert!(
        e.message.contains(
            "leaves a gap of 1.0 s after 'a', which ends at 4.0 s: add a segment for 4.0-5.0 s, or move start to 4.0"
        ),
        "{e}"
    );
    // The video starts at 0: a first range that starts later leaves a gap too.
    let e = err(&timeline(&[("a", "start: 2, end: 3")]));
    assert_eq!(at(&e), (5, 12), "{e}");
    assert!(
        e.message
            .contains("gap of 2.0 s at the start of the video: add a segment for 0.0-2.0 s, or move start to 0.0"),
        "{e}"
    );
}

#[test]
fn an_empty_or_backwards_range_is_refused_at_its_start() {
    let e = err(&timeline(&[
        ("a", "duration: 2"),
        ("b", "start: 2, end: 2"),
    ]));
    assert_eq!(
        (at(&e), e.key.as_str()),
        ((9, 12), "segments[1].start"),
        "{e}"
    );
    assert!(e.message.contains("2.0-2.0 s is empty"), "{e}");
    let e = err(&timeline(&[
        ("a", "duration: 2"),
        ("b", "start: 2, end: 1.5"),
    ]));
    assert_eq!(at(&e), (9, 12), "{e}");
    assert!(e.message.contains("goes backwards"), "{e}");
}

#[test]
fn durations_and_ranges_mix_when_each_range_starts_where_the_last_segment_ends() {
    // A duration starts where the previous segment ends; a start may differ from that point
    // by at most 1 ms (0.333 after a third of a second).
    let p = parse(&timeline(&[
        ("a", "duration: 0.3333333"),
        ("b", "start: 0.333, end: 1"),
        ("c", "duration: 1"),
        ("d", "start: 2.0004, end: 3"),
    ]))
    .unwrap();
    assert_eq!(p.frame_counts(12).unwrap(), vec![4, 8, 12, 12]);
    assert_eq!(p.frame_counts(240).unwrap().iter().sum::<u64>(), 720);
    // 1.3 ms off is refused, in either direction.
    let e = err(&timeline(&[
        ("a", "duration: 0.3333333"),
        ("b", "start: 0.332, end: 1"),
    ]));
    assert!(e.message.contains("overlaps segment 'a'"), "{e}");
    let e = err(&timeline(&[
        ("a", "duration: 1"),
        ("b", "start: 1.0013, end: 2"),
    ]));
    assert!(e.message.contains("gap of 0.001 s"), "{e}");
}

#[test]
fn a_range_ends_at_its_frame_of_the_final_video_whatever_the_durations_before_it_rounded_to() {
    // Three 0.1 s durations at 12 fps round to 1 frame each (0.25 s in all); the range then
    // runs to frame 12, so the video is 1.0 s long as `end: 1` says (not 11 frames).
    let p = parse(&timeline(&[
        ("a", "duration: 0.1"),
        ("b", "duration: 0.1"),
        ("c", "duration: 0.1"),
        ("d", "start: 0.3, end: 1"),
    ]))
    .unwrap();
    assert_eq!(p.frame_counts(12).unwrap(), vec![1, 1, 1, 9]);
    // A range the rounding has already swallowed is an error at its end, saying why: on its
    // own 0.15-0.25 s is one frame at 12 fps, but the durations before it fill frames 0-2.
    let p = parse(&timeline(&[
        ("a", "duration: 0.05"),
        ("b", "duration: 0.05"),
        ("c", "duration: 0.05"),
        ("d", "start: 0.15, end: 0.25"),
    ]))
    .unwrap();
    let e = p.frame_counts(12).unwrap_err();
    assert_eq!(
        (at(&e), e.key.as_str()),
        ((18, 10), "segments[3].end"),
        "{e}"
    );
    assert!(e.message.contains("gets no frame at 12 fps"), "{e}");
}

#[test]
fn a_byte_order_mark_before_the_first_key_is_accepted_and_positions_stay_right() {
    let p = parse(&format!("\u{feff}{GOOD}")).unwrap();
    assert_eq!(p.segments.len(), 2);
    let e = err("\u{feff}output: v.avi\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n");
    assert_eq!((at(&e), e.key.as_str()), ((1, 9), "output"), "{e}");
    // In a preset too.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scenes")).unwrap();
    std::fs::write(
        dir.path().join("scenes/mine.yaml"),
        "\u{feff}scene: plasma\nparams: {hue: 0.3}\n",
    )
    .unwrap();
    let p = Plan::parse(
        "output: v.mp4\nsegments:\n  - {id: a, scene: mine, duration: 1}\n",
        &dir.path().join("p.yaml"),
    )
    .unwrap();
    assert!(
        matches!(&p.segments[0].scene.config, SceneConfig::Plasma(c) if c.hue == 0.3),
        "{:?}",
        p.segments[0].scene.config
    );
}

#[test]
fn a_duplicate_key_is_reported_at_the_second_one() {
    let e = err(
        "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    duration: 1\n    duration: 2\n",
    );
    assert_eq!(
        (at(&e), e.key.as_str()),
        ((6, 5), "segments[0].duration"),
        "{e}"
    );
    assert!(
        e.message
            .contains("duplicate key 'duration' (first given at line 5, column 5)"),
        "{e}"
    );
    let e =
        err("output: v.mp4\noutput: w.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n");
    assert_eq!((at(&e), e.key.as_str()), ((2, 1), "output"), "{e}");
    let e = err(
        "output: v.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 1, params: {hue: 0.1, hue: 0.2}}\n",
    );
    assert_eq!(
        (at(&e), e.key.as_str()),
        ((3, 60), "segments[0].params.hue"),
        "{e}"
    );
    assert!(e.message.contains("line 3, column 50"), "{e}");
    // The same key in two segments is no duplicate.
    assert!(parse("output: v.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n  - {id: b, scene: plasma, duration: 1}\n").is_ok());
}

#[test]
fn nesting_deeper_than_the_limit_is_refused_where_it_starts() {
    let n = 100_000;
    for (src, pos) in [
        (format!("{}{}", "[".repeat(n), "]".repeat(n)), (1, 65)),
        (format!("{}1{}", "{a: ".repeat(n), "}".repeat(n)), (1, 257)),
        // Inside a plan that is otherwise fine, and never closed.
        (
            format!(
                "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    duration: 1\n    params: {{x: {}\n",
                "[".repeat(n)
            ),
            (6, 77),
        ),
        // Block nesting by indentation counts too.
        (
            (0..100)
                .map(|d| format!("{}a:\n", " ".repeat(d)))
                .collect::<String>(),
            (65, 65),
        ),
    ] {
        let e = err(&src);
        assert!(
            e.message
                .contains(&format!("nesting deeper than {} levels", spans::MAX_DEPTH)),
            "{e}"
        );
        assert_eq!(at(&e), pos, "{e}");
    }
    // Deep but within the limit is fine for the parser (the plan's own checks then apply).
    let deep = format!(
        "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    duration: 1\n    params: {{x: {}1{}}}\n",
        "[".repeat(40),
        "]".repeat(40)
    );
    let e = err(&deep);
    assert!(!e.message.contains("nesting"), "{e}");
    // Brackets inside text are text.
    let text = format!(
        "output: v.mp4\nsegments:\n  - id: a\n    scene: quote\n    duration: 1\n    text: |\n      {}\n",
        "[".repeat(200)
    );
    assert!(parse(&text).is_ok());
}

#[test]
fn a_plan_that_is_not_a_regular_file_or_too_big_is_refused_saying_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let e = Plan::load(dir.path()).unwrap_err();
    assert!(
        e.message.contains("it is a folder, not a regular file"),
        "{e}"
    );
    let e = Plan::load(Path::new("/dev/null")).unwrap_err();
    assert!(
        e.message
            .contains("it is a character device, not a regular file"),
        "{e}"
    );
    let big = dir.path().join("big.yaml");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(MAX_PLAN_BYTES + 1).unwrap();
    let e = Plan::load(&big).unwrap_err();
    assert!(
        e.message.contains("it is 16777217 bytes") && e.message.contains("at most 16 MB"),
        "{e}"
    );
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, b"output: v.mp4\nsegments: \xff\n").unwrap();
    let e = Plan::load(&bad).unwrap_err();
    assert_eq!(at(&e), (2, 11), "{e}");
    assert!(e.message.contains("not UTF-8"), "{e}");
}

#[test]
fn audio_may_start_inside_the_track() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("song.wav"), b"RIFF").unwrap();
    let p = dir.path().join("plan.yaml");
    let src = "output: v.mp4\naudio: {path: song.wav, from: 2.5}\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n";
    let plan = Plan::parse(src, &p).unwrap();
    assert!(plan.audio.as_ref().unwrap().ends_with("song.wav"));
    assert_eq!(plan.audio_from, 2.5);
    let plain =
        "output: v.mp4\naudio: song.wav\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n";
    assert_eq!(Plan::parse(plain, &p).unwrap().audio_from, 0.0);
    let neg = "output: v.mp4\naudio:\n  path: song.wav\n  from: -1\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n";
    let e = Plan::parse(neg, &p).unwrap_err();
    assert_eq!(at(&e), (4, 9), "{e}");
    assert!(e.to_string().contains(">= 0"), "{e}");
    let missing = "output: v.mp4\naudio: {path: gone.wav, from: 1}\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n";
    let e = Plan::parse(missing, &p).unwrap_err();
    assert_eq!(e.key, "audio.path", "{e}");
}

/// A two-segment plan whose second segment (`b`, a `fire` scene) has `transition` `tr`.
fn xfade_plan(b_timing: &str, tr: &str) -> String {
    format!(
        "output: v.mp4\nsegments:\n  - id: a\n    scene: rings\n    duration: 2\n  - id: b\n    scene: fire\n    {b_timing}\n    params:\n      transition: {tr}\n"
    )
}

#[test]
fn a_crossfade_parses_into_the_scene_and_the_table_shows_it() {
    let p = parse(&xfade_plan("duration: 1", "{in: crossfade, seconds: 0.5}")).unwrap();
    assert_eq!(p.segments[1].scene.crossfade_in(), Some(0.5));
    assert_eq!(p.segments[0].scene.crossfade_in(), None);
    // in_seconds beats seconds; the whole clip may crossfade.
    let p = parse(&xfade_plan(
        "duration: 1",
        "{in: crossfade, seconds: 3, in_seconds: 1}",
    ))
    .unwrap();
    assert_eq!(p.segments[1].scene.crossfade_in(), Some(1.0));
    let r = timing::frame_ranges(&p, 12, &timing::Beats::synthetic()).unwrap();
    let table = timing::format_ranges(&p, &r, 12, &timing::Beats::synthetic());
    let b = table
        .lines()
        .find(|l| l.trim_start().starts_with("b "))
        .unwrap();
    assert!(
        b.ends_with("crossfade 1.0 s (12 frames) from 'a'"),
        "{table}"
    );
    let a = table
        .lines()
        .find(|l| l.trim_start().starts_with("a "))
        .unwrap();
    assert!(!a.contains("crossfade"), "{table}");
}

#[test]
fn crossfade_errors_name_line_and_column_and_say_what_to_write() {
    // On the first segment: there is no clip before it.
    let e = err(
        "output: v.mp4\nsegments:\n  - id: a\n    scene: fire\n    duration: 2\n    params:\n      transition: {in: crossfade}\n  - id: b\n    scene: rings\n    duration: 1\n",
    );
    assert_eq!(e.key, "segments[0].params.transition.in");
    assert_eq!(at(&e), (7, 24), "{e}");
    assert!(e.message.contains("first segment"), "{e}");
    // Longer than the segment: at `seconds`, or at `in_seconds` when that is what sets it.
    let e = err(&xfade_plan("duration: 1", "{in: crossfade, seconds: 1.5}"));
    assert_eq!(e.key, "segments[1].params.transition.seconds");
    assert_eq!(at(&e), (10, 44), "{e}");
    assert!(e.message.contains("1.5 s, longer than 'b' (1.0 s)"), "{e}");
    let e = err(&xfade_plan(
        "start: 2\n    end: 2.25",
        "{in: crossfade, in_seconds: 0.3}",
    ));
    assert_eq!(e.key, "segments[1].params.transition.in_seconds");
    assert_eq!(at(&e), (11, 47), "{e}");
    // The default length (0.5 s) counts too.
    let e = err(&xfade_plan("duration: 0.25", "{in: crossfade}"));
    assert_eq!(e.key, "segments[1].params.transition.seconds");
    assert!(e.message.contains("0.5 s"), "{e}");
    // `out: crossfade`: said what to write instead.
    let e = err(&xfade_plan("duration: 1", "{out: crossfade}"));
    assert_eq!(e.key, "segments[1].params.transition.out");
    assert_eq!(at(&e), (10, 25), "{e}");
    assert!(
        e.message.contains("in-transition only")
            && e.message
                .contains("transition: {in: crossfade, seconds: S}")
            && e.message.contains("segment that follows"),
        "{e}"
    );
    // Its length cannot follow the music: it decides which frames of the clip before exist.
    let e = err(&xfade_plan(
        "duration: 1",
        "{in: crossfade, seconds: {from: rms, range: [0.1, 0.5]}}",
    ));
    assert!(
        e.key.starts_with("segments[1].params.transition.seconds"),
        "{e}"
    );
    assert!(e.message.contains("cannot be bound"), "{e}");
}

#[test]
fn a_crossfade_longer_than_a_beat_timed_clip_is_refused_in_frames() {
    // `until: beat` with 1 beat at the synthetic 120 BPM: 0.5 s, 6 frames at 12 fps.
    let p = parse(&xfade_plan(
        "until: beat\n    beats: 1",
        "{in: crossfade, seconds: 0.75}",
    ))
    .unwrap();
    let e = timing::frame_ranges(&p, 12, &timing::Beats::synthetic()).unwrap_err();
    assert_eq!(e.key, "segments[1].params.transition.seconds");
    assert!(e.pos.is_some(), "{e}");
    assert!(
        e.message
            .contains("9 frames at 12 fps (0.75 s), longer than clip 'b' (6 frames, 0.5 s)"),
        "{e}"
    );
    let p = parse(&xfade_plan(
        "until: beat\n    beats: 1",
        "{in: crossfade, seconds: 0.5}",
    ))
    .unwrap();
    assert!(timing::frame_ranges(&p, 12, &timing::Beats::synthetic()).is_ok());
}
