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
    assert_eq!(at(&e), (6, 10), "{e}");
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
    assert!(e.message.contains("work dir"), "{e}");
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
    assert_eq!(s.shaders[0].name, "vignette");
    assert_eq!(s.shaders[1].params.get("thr"), Some(&Param::Num(120.0)));
    let e = err(
        "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    duration: 1\n    shaders: [[1]]\n",
    );
    assert_eq!(at(&e).0, 6, "{e}");
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
