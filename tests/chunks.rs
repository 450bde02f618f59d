//! End-to-end: long clips cut into chunks (`chunk:`, issue 11) by real workers and real
//! ffmpeg. A chunked render decodes to exactly the frames of an unchunked one (lossless
//! encode), each chunk starts on a keyframe, `--only SEGMENT` re-renders all of its chunks, and a
//! chunk whose worker dies is the only one rendered again.

mod common;

use common::*;
use std::path::Path;

/// A stateful scene (particles), a crossfade into fire (the crossfade's frames fall in the
/// first chunk), and a feedback preset (mandala); at 12 fps with `chunk: 1` they make 3 + 2 + 2
/// chunks.
fn plan(chunk: &str) -> String {
    format!(
        "output: out/v.mp4\nseed: 5\nchunk: {chunk}\nsegments:\n  - id: a\n    scene: particles\n    duration: 2.5\n  - id: b\n    scene: fire\n    duration: 1.5\n    params:\n      transition: {{in: crossfade, seconds: 0.5}}\n  - id: c\n    scene: mandala\n    duration: 2\n"
    )
}

/// The clip ids a run's output says it rendered (`farm: done ID: ...`).
fn rendered(o: &std::process::Output) -> Vec<String> {
    let all = format!("{}{}", stdout(o), stderr(o));
    let mut ids: Vec<String> = all
        .lines()
        .filter_map(|l| l.strip_prefix("farm: done "))
        .filter_map(|l| l.split_once(':').map(|(id, _)| id.to_string()))
        .collect();
    ids.sort();
    ids
}

fn lossless(s: &Scratch, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["run", "plan.yaml", "--crf", "0"];
    args.extend_from_slice(TINY);
    args.extend_from_slice(extra);
    s.run(&args, &[], LIMIT)
}

/// Frame numbers of the keyframes of `video`.
fn keyframes(video: &Path) -> Vec<u64> {
    let o = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v", "-show_frames"])
        .args(["-show_entries", "frame=key_frame", "-of", "default=nw=1"])
        .arg(video)
        .output()
        .unwrap();
    // One `key_frame=K` line per frame (side data, such as x264's SEI, comes in sections).
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("key_frame="))
        .enumerate()
        .filter(|(_, k)| k.trim() == "1")
        .map(|(i, _)| i as u64)
        .collect()
}

#[test]
fn a_chunked_render_decodes_to_the_frames_of_an_unchunked_one() {
    let whole = Scratch::new("chunks-whole");
    whole.write("plan.yaml", &plan("0"));
    let o = lossless(&whole, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(rendered(&o), ["a", "b", "c"]);

    let cut = Scratch::new("chunks-cut");
    cut.write("plan.yaml", &plan("1"));
    let o = lossless(&cut, &["--workers", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        rendered(&o),
        ["a#1", "a#2", "a#3", "b#1", "b#2", "c#1", "c#2"]
    );
    let (a, b) = (whole.path().join("out/v.mp4"), cut.path().join("out/v.mp4"));
    assert_eq!(count_frames(&b).0, 72);
    assert!(
        framemd5(&a) == framemd5(&b),
        "a chunked render must decode to the unchunked render's frames"
    );
    // Every chunk starts with a keyframe: 30 frames of a in 3 chunks (10 each), 18 of b in 2,
    // 24 of c in 2.
    let keys = keyframes(&b);
    for start in [0, 10, 20, 30, 39, 48, 60] {
        assert!(
            keys.contains(&start),
            "chunk at frame {start}: keyframes {keys:?}"
        );
    }
    let dec = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&b)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    assert!(
        dec.status.success() && dec.stderr.is_empty(),
        "the joined file decodes without errors: {}",
        String::from_utf8_lossy(&dec.stderr)
    );
}

#[test]
fn only_a_segment_rerenders_all_of_its_chunks_and_nothing_else() {
    let s = Scratch::new("chunks-only");
    s.write("plan.yaml", &plan("1"));
    let o = lossless(&s, &["--keep"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let first = framemd5(&s.path().join("out/v.mp4"));
    let o = lossless(&s, &["--keep", "--only", "a"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(rendered(&o), ["a#1", "a#2", "a#3"]);
    let o = lossless(&s, &["--keep", "--only", "c#2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(rendered(&o), ["c#2"]);
    assert!(framemd5(&s.path().join("out/v.mp4")) == first);
}

#[test]
fn a_chunk_whose_worker_dies_is_the_only_one_rendered_again() {
    let s = Scratch::new("chunks-kill");
    s.write("plan.yaml", &plan("1"));
    let mut args = vec!["run", "plan.yaml", "--crf", "0", "--retries", "0"];
    args.extend_from_slice(TINY);
    let o = s.run(&args, &[("FARM_FAULT", "a#2:exit@3")], LIMIT);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("a#2"), "names the chunk: {err}");
    let o = s.run(&args, &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(rendered(&o), ["a#2"]);

    let whole = Scratch::new("chunks-kill-whole");
    whole.write("plan.yaml", &plan("0"));
    let o = lossless(&whole, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(framemd5(&whole.path().join("out/v.mp4")) == framemd5(&s.path().join("out/v.mp4")));
}
