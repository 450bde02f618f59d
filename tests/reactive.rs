//! End-to-end: parameters bound to audio features (issue 9, item 5), with the real binary,
//! real workers and real ffmpeg.

mod common;
use common::*;

fn plan(react: &str) -> String {
    format!(
        "output: out/video.mp4\nseed: 2\nsegments:\n  - id: a\n    scene: rings\n    duration: 1\n{react}    shaders:\n      - bloom: {{thr: {{from: rms, range: [200, 60], smooth: 0.3}}}}\n  - id: b\n    scene: voronoi\n    duration: 1\n{react}"
    )
}

fn run(s: &Scratch, plan: &str) -> Vec<String> {
    s.write("plan.yaml", plan);
    let mut a = vec!["run", "plan.yaml", "--workers", "2"];
    a.extend_from_slice(TINY);
    let o = s.run(&a, &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_no_leftovers(&s.tag);
    framemd5(&s.path().join("out/video.mp4"))
}

#[test]
fn a_bound_plan_renders_and_react_false_turns_default_bindings_off() {
    let s = Scratch::new("react-on");
    let on = run(&s, &plan(""));
    let t = Scratch::new("react-off");
    let off = run(&t, &plan("    react: false\n"));
    assert_eq!(on.len(), off.len());
    assert_eq!(on.len(), 24, "12 fps, two clips of a second");
    // The second clip has only default bindings: with react: false it is another video.
    assert_ne!(on[12..], off[12..], "default bindings change the frames");
    // `farm check` says which clips react, and to what.
    s.write("plan.yaml", &plan(""));
    let o = s.run(&["check", "plan.yaml"], &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
}

const STILL: &str = "output: out.mp4\nsegments:\n  - id: a\n    scene: layers\n    duration: 2\n    params:\n      hue: 0\n      tonemap: false\n      layers:\n        - {field: rings, speed: 0, opacity: OPACITY, color: {hue_rate: 0}}\n";

fn frame_png(s: &Scratch, at: &str, out: &str) -> Vec<u8> {
    let mut a = vec!["frame", "plan.yaml", "a", "--at", at, "-o", out];
    a.extend_from_slice(TINY);
    let o = s.run(&a, &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::read(s.path().join(out)).unwrap()
}

#[test]
fn farm_frame_of_a_bound_scene_follows_the_feature() {
    // A still scene (speed 0): only the binding can change a frame. Without audio the features
    // are the synthetic 120 BPM ones: a beat (bdecay 1) at 0 s, bdecay 0 half a beat later.
    let s = Scratch::new("react-frame");
    s.write("plan.yaml", &STILL.replace("OPACITY", "1"));
    assert_eq!(
        frame_png(&s, "0", "p0.png"),
        frame_png(&s, "0.25", "p1.png"),
        "the still scene does not move by itself"
    );
    s.write(
        "plan.yaml",
        &STILL.replace("OPACITY", "{from: bdecay, range: [0.2, 1]}"),
    );
    assert_ne!(
        frame_png(&s, "0", "b0.png"),
        frame_png(&s, "0.25", "b1.png"),
        "the bound opacity follows bdecay"
    );
}

#[test]
fn a_bad_binding_exits_2_naming_file_line_and_column() {
    let s = Scratch::new("react-bad");
    s.write(
        "plan.yaml",
        "output: out.mp4\nsegments:\n  - id: a\n    scene: rings\n    duration: 1\n    params:\n      hue: {from: bas, range: [0, 0.5]}\n",
    );
    let mut a = vec!["run", "plan.yaml"];
    a.extend_from_slice(TINY);
    let o = s.run(&a, &[], LIMIT);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("plan.yaml:7:"), "{err}");
    assert!(err.contains("unknown feature \"bas\""), "{err}");
    assert!(err.contains("rms, sub, bass"), "{err}");
    assert!(!s.path().join("out.mp4").exists());
    // Out of the parameter's own range.
    s.write(
        "plan.yaml",
        "output: out.mp4\nsegments:\n  - id: a\n    scene: rings\n    duration: 1\n    params:\n      hue: {from: bass, range: [0, 3]}\n",
    );
    let o = s.run(&a, &[], LIMIT);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("plan.yaml:7:"), "{}", stderr(&o));
}
