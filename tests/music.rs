//! End-to-end: a plan with a soundtrack. The coordinator decodes and analyses the audio once
//! (cached beside the work dir, kept after cleanup), hands each reactive clip its feature rows,
//! and only reactive clips go stale when the audio changes. Audio is made here with ffmpeg's
//! own sources; every run uses the real binary, real workers and real ffmpeg.

mod common;
use common::*;
use std::path::Path;
use std::process::Command;

/// A 120 BPM kick with a bass tone under it, `secs` long, at `path` (any container ffmpeg
/// writes, by extension). `pitch` changes the bass (a different track, same length).
fn track(path: &Path, secs: f64, pitch: f64) {
    let expr = format!(
        "0.8*sin(2*PI*(50+90*exp(-mod(t\\,0.5)*28))*mod(t\\,0.5))*exp(-mod(t\\,0.5)*8)+0.3*sin(2*PI*{pitch}*t)"
    );
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("aevalsrc={expr}:s=44100:d={secs}"))
        .args(["-ac", "2"])
        .arg(path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A plan with a reactive clip `beat` (a bound parameter) and a clip `still` that does not
/// react (`react: false`, no bindings).
fn plan(s: &Scratch, audio: &str) -> std::path::PathBuf {
    s.write(
        "p.yaml",
        &format!(
            "output: out/v.mp4\naudio: {audio}\nsegments:\n  - id: beat\n    scene: rings\n    duration: 1.5\n    params: {{hue: {{from: bass, range: [0.0, 0.6]}}}}\n  - id: still\n    scene: plasma\n    duration: 1\n    react: false\n"
        ),
    )
}

fn run(s: &Scratch, extra: &[&str]) -> (String, std::process::Output) {
    let mut args = vec!["run", "p.yaml"];
    args.extend_from_slice(TINY);
    args.extend_from_slice(extra);
    let o = s.run(&args, &[], LIMIT);
    (stderr(&o), o)
}

#[test]
fn features_are_cached_and_only_reactive_clips_follow_the_audio() {
    let s = Scratch::new("music-cache");
    track(&s.path().join("song.wav"), 3.0, 110.0);
    let p = plan(&s, "song.wav");
    let (e, o) = run(&s, &[]);
    assert_eq!(o.status.code(), Some(0), "{e}");
    assert!(
        e.contains("audio: decoded and analysed"),
        "first run analyses: {e}"
    );
    let video = s.path().join("out/v.mp4");
    let first = framemd5(&video);

    // The cache outlives the work dir's cleanup: the next run reads it and decodes nothing.
    assert!(!work_dir(&p).exists(), "cleaned up");
    let (e, o) = run(&s, &["--keep"]);
    assert_eq!(o.status.code(), Some(0), "{e}");
    assert!(e.contains("from the cache"), "{e}");
    assert!(!e.contains("audio: decoded and analysed"), "{e}");
    assert_eq!(framemd5(&video), first, "same audio, same frames");

    // A changed track (another bass, the kick a quarter beat later): the reactive clip
    // re-renders and looks different; the other is reused as it was.
    let expr = "0.8*sin(2*PI*60*mod(t+0.25\\,0.5))*exp(-mod(t+0.25\\,0.5)*8)+0.3*sin(2*PI*55*t)";
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("aevalsrc={expr}:s=44100:d=3"))
        .arg(s.path().join("song.wav"))
        .output()
        .unwrap();
    assert!(o.status.success());
    let (e, o) = run(&s, &[]);
    assert_eq!(o.status.code(), Some(0), "{e}");
    assert!(
        e.contains("audio: decoded and analysed"),
        "a changed file is analysed again: {e}"
    );
    assert!(e.contains("1 clips rendered, 1 reused"), "{e}");
    let second = framemd5(&video);
    assert_eq!(first.len(), second.len());
    let n_beat = 18; // 1.5 s at the draft profile's 12 fps
    assert_ne!(
        first[..n_beat],
        second[..n_beat],
        "the reactive clip follows the audio"
    );
    assert_eq!(
        first[n_beat..],
        second[n_beat..],
        "the other clip is reused as it was"
    );
}

#[test]
fn frames_do_not_depend_on_the_worker_count_and_lengths_agree() {
    let s = Scratch::new("music-workers");
    // Shorter than the video (2.5 s): the rest is silence, for the features and the mux.
    track(&s.path().join("song.ogg"), 2.0, 110.0);
    plan(&s, "song.ogg");
    let (e, o) = run(&s, &["--workers", "1"]);
    assert_eq!(o.status.code(), Some(0), "{e}");
    let video = s.path().join("out/v.mp4");
    let one = framemd5(&video);
    let (e, o) = run(&s, &["--workers", "2"]);
    assert_eq!(o.status.code(), Some(0), "{e}");
    assert_eq!(
        framemd5(&video),
        one,
        "byte-identical frames for 1 and 2 workers"
    );
    let (frames, video_secs) = count_frames(&video);
    assert_eq!(frames, 30, "2.5 s at the draft profile's 12 fps");
    let secs = audio_duration(&video).expect("the video has sound");
    assert!(
        (secs - video_secs).abs() <= 1.0 / 12.0 + 1e-3,
        "audio {secs} s, video {video_secs} s: within one frame"
    );
}

#[test]
fn a_longer_track_is_cut_to_the_video_and_from_starts_inside_it() {
    let s = Scratch::new("music-from");
    track(&s.path().join("song.wav"), 6.0, 110.0);
    s.write(
        "p.yaml",
        "output: out/v.mp4\naudio: {path: song.wav, from: 2.0}\nsegments:\n  - {id: a, scene: rings, duration: 1.5, params: {hue: {from: rms, range: [0.1, 0.5]}}}\n",
    );
    let (e, o) = run(&s, &[]);
    assert_eq!(o.status.code(), Some(0), "{e}");
    let video = s.path().join("out/v.mp4");
    let (frames, video_secs) = count_frames(&video);
    assert_eq!(frames, 18);
    let secs = audio_duration(&video).unwrap();
    assert!(
        (secs - video_secs).abs() <= 1.0 / 12.0 + 1e-3,
        "audio {secs} s, video {video_secs} s"
    );
    // The soundtrack starts 2 s in (the mux seeks there): there is sound from the first
    // frame on, and the 6 s track is cut to the video's 1.5 s.
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&video)
        .args([
            "-map", "0:a:0", "-ac", "1", "-ar", "8000", "-f", "s16le", "-",
        ])
        .output()
        .unwrap();
    let pcm: Vec<i16> = o
        .stdout
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    assert!(pcm.len() > 8000, "{} samples", pcm.len());
    let loud = pcm[..4000].iter().map(|&x| (x as i32).abs()).max().unwrap();
    assert!(loud > 3000, "sound from the first frame on ({loud})");
}

#[test]
fn bad_audio_is_refused_before_any_worker_starts() {
    let s = Scratch::new("music-bad");
    let seg = "segments:\n  - {id: a, scene: plasma, duration: 1}\n";
    // Empty, undecodable, and `from` past the end.
    std::fs::write(s.path().join("empty.mp3"), b"").unwrap();
    std::fs::write(s.path().join("noise.mp3"), [7u8; 4096]).unwrap();
    track(&s.path().join("short.wav"), 1.0, 110.0);
    for (audio, says) in [
        ("empty.mp3", "empty.mp3"),
        ("noise.mp3", "noise.mp3"),
        ("{path: short.wav, from: 5}", "past the end of the track"),
    ] {
        s.write(
            "p.yaml",
            &format!("output: out/v.mp4\naudio: {audio}\n{seg}"),
        );
        for cmd in ["run", "check"] {
            let mut args = vec![cmd, "p.yaml"];
            if cmd == "run" {
                args.extend_from_slice(TINY);
            }
            let o = s.run(&args, &[], LIMIT);
            let e = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{cmd} {audio}: {e}");
            assert!(e.contains(says), "{cmd} {audio}: names the file: {e}");
            assert!(
                !e.contains("farm: start"),
                "{cmd} {audio}: no worker started: {e}"
            );
        }
        assert!(!s.path().join("out/v.mp4").exists());
    }
}
