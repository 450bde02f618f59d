//! End-to-end: a plan with a crossfade (`transition: {in: crossfade}`) rendered by real workers
//! and ffmpeg; the decoded video shows the clip before continuing into the next one.

mod common;

use common::*;
use std::path::Path;

/// `a` (rings, 1.25 s: it ends between two beats of the synthetic 120 BPM, which pulse the
/// rings) then `b` (fire, 2 s) crossfading from it over 1 s, at 12 fps (draft): 15 frames of a,
/// then 24 of b whose first 12 mix.
const PLAN: &str = "output: out/v.mp4\nseed: 5\nsegments:\n  - id: a\n    scene: rings\n    duration: 1.25\n  - id: b\n    scene: fire\n    duration: 2\n    params:\n      transition: {in: crossfade, seconds: 1}\n";

const W: usize = 160;
const H: usize = 96;

/// Every decoded frame of `video` (`W x H`).
fn frames_rgb_of(video: &Path) -> Vec<Vec<u8>> {
    frames_rgb(video, W, H)
}

/// How unlike two frames are: the mean absolute difference of their 8x8-pixel block means (the
/// look, not the exact glyphs; compression noise averages out).
fn distance(a: &[u8], b: &[u8]) -> f64 {
    let blocks = |f: &[u8]| {
        let mut v = Vec::new();
        for by in 0..H / 8 {
            for bx in 0..W / 8 {
                for k in 0..3 {
                    let mut s = 0u32;
                    for y in by * 8..by * 8 + 8 {
                        for x in bx * 8..bx * 8 + 8 {
                            s += u32::from(f[(y * W + x) * 3 + k]);
                        }
                    }
                    v.push(f64::from(s) / 64.0);
                }
            }
        }
        v
    };
    let (a, b) = (blocks(a), blocks(b));
    a.iter().zip(&b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len() as f64
}

#[test]
fn a_crossfade_continues_the_clip_before_and_does_not_depend_on_the_worker_count() {
    let s = Scratch::new("crossfade");
    s.write("plan.yaml", PLAN);
    let run = |workers: &str| {
        let mut args = vec!["run", "plan.yaml", "--workers", workers];
        args.extend_from_slice(TINY);
        let o = s.run(&args, &[], LIMIT);
        assert!(o.status.success(), "{}", stderr(&o));
        s.path().join("out/v.mp4")
    };
    let out = run("1");
    let (n, _) = count_frames(&out);
    assert_eq!(n, 15 + 24);
    let one = framemd5(&out);
    let f = frames_rgb_of(&out);
    assert_eq!(f.len(), 39);
    let (a_last, b0) = (&f[14], &f[15]);
    let near = distance(a_last, b0);
    // b's own frames, after the crossfade.
    let far: Vec<f64> = f[27..].iter().map(|x| distance(a_last, x)).collect();
    let least_far = far.iter().copied().fold(f64::MAX, f64::min);
    // a's own step from one frame to the next, for scale.
    let a_step = distance(&f[13], a_last);
    eprintln!(
        "distance from a's last frame: b's first {near:.2}, a's own step {a_step:.2}, b's own frames at least {least_far:.2}"
    );
    assert!(
        near * 2.0 < least_far && near < a_step * 1.5 + 1.0,
        "b's first frame is a continued: {near:.2} from a's last (a's own step {a_step:.2}), b's own frames at least {least_far:.2} ({far:?})"
    );
    // Half-way, the frame is neither.
    let mid = distance(a_last, &f[21]);
    assert!(
        near < mid && mid < least_far,
        "{near:.2} < {mid:.2} < {least_far:.2}"
    );

    let out = run("2");
    assert_eq!(framemd5(&out), one, "--workers 2 vs 1");

    // `farm check` shows the crossfade; `farm frame` draws the mixed frame.
    let mut args = vec!["check", "plan.yaml"];
    args.extend_from_slice(TINY);
    let o = s.run(&args, &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("crossfade 1.0 s (12 frames) from 'a'")
            && text.contains("'a' continues from its frame 15"),
        "{text}"
    );
    let mut args = vec!["frame", "plan.yaml", "b", "--at", "0.2", "-o", "b.png"];
    args.extend_from_slice(TINY);
    let o = s.run(&args, &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("clip 'b' frame 2"), "{}", stdout(&o));
    let png = image::open(s.path().join("b.png")).unwrap().to_rgb8();
    let d = distance(png.as_raw(), a_last);
    assert!(d < least_far, "the PNG at 0.2 s is mostly a: {d:.2}");
}

#[test]
fn crossfade_plan_errors_start_nothing() {
    let s = Scratch::new("crossfade-bad");
    s.write(
        "plan.yaml",
        &PLAN.replace("seconds: 1}", "seconds: 1}\n  - id: c\n    scene: fire\n    duration: 1\n    params: {transition: {out: crossfade}}"),
    );
    let mut args = vec!["run", "plan.yaml"];
    args.extend_from_slice(TINY);
    let o = s.run(&args, &[], LIMIT);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("plan.yaml:15:") && err.contains("segments[2].params.transition.out"),
        "{err}"
    );
    assert!(err.contains("in: crossfade"), "{err}");
    assert!(!s.path().join("out").exists());
}

/// The catch-up of a long stateful clip before (here about 5 s of particles at 720p on a
/// shared 2-core machine) keeps reporting, so a short stall timeout does not kill the clip.
#[test]
fn a_long_catch_up_is_not_a_stall() {
    let s = Scratch::new("crossfade-stall");
    s.write(
        "plan.yaml",
        "output: out/v.mp4\nsegments:\n  - id: a\n    scene: particles\n    duration: 20\n  - id: b\n    scene: fire\n    duration: 1\n    params:\n      transition: {in: crossfade, seconds: 0.5}\n",
    );
    let args = [
        "render",
        "plan.yaml",
        "b",
        "--quality",
        "draft",
        "--resolution",
        "1280x720",
        "--stall-timeout",
        "2",
        "--retries",
        "0",
    ];
    let o = s.run(&args, &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
}
