//! End-to-end: `farm run` with real worker processes, real ffmpeg and ffprobe.

mod common;
use common::*;

fn args<'a>(plan: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["run", plan];
    a.extend_from_slice(TINY);
    a.extend_from_slice(extra);
    a
}

const THREE: &str = "output: out/video.mp4\nseed: 3\nsegments:\n  - id: one\n    scene: plasma\n    duration: 1\n  - id: two\n    scene: quote\n    duration: 1.5\n    text: Cinema is the standard.\n  - id: three\n    scene: plasma\n    start: 2.5\n    end: 3.25\n    shaders: [bloom, vignette, grain]\n";

#[test]
fn output_has_every_frame_and_the_right_duration() {
    let s = Scratch::new("frames");
    s.write("plan.yaml", THREE);
    let o = s.run(&args("plan.yaml", &[]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = s.path().join("out/video.mp4");
    // 12 fps: 12 + 18 + 9 frames.
    let (frames, dur) = count_frames(&out);
    assert_eq!(frames, 39);
    assert!((dur - 39.0 / 12.0).abs() < 1e-3, "duration {dur}");
    // Intermediates are cleaned once the output is verified.
    assert!(!s.path().join(".farm").exists(), "work dir left behind");
    let err = stderr(&o);
    assert!(
        err.contains("Hardware: ") && err.contains("Render: 160x96 @12fps"),
        "start-up lines: {err}"
    );
    assert!(
        err.contains("farm: start one") && err.contains("farm: done three"),
        "plain progress lines without a terminal: {err}"
    );
}

#[test]
fn one_failing_clip_does_not_sink_the_others_and_only_completes_the_video() {
    let s = Scratch::new("fail");
    s.write("plan.yaml", THREE);
    let o = s.run(
        &args("plan.yaml", &[]),
        &[("FARM_FAULT", "two:panic@3")],
        LIMIT,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    let work = work_dir(&s.path().join("plan.yaml"));
    assert!(
        work.join("clips/one.mp4").is_file() && work.join("clips/three.mp4").is_file(),
        "the other clips finished: {err}"
    );
    assert!(!work.join("clips/two.mp4").exists() && !work.join("clips/two.mp4.partial").exists());
    assert!(
        !s.path().join("out/video.mp4").exists(),
        "no join after a failure"
    );
    let log = work.join("logs/two.log");
    assert!(
        err.contains(&log.display().to_string()),
        "names the log: {err}"
    );
    assert!(
        err.contains("panic") && err.contains("injected fault"),
        "shows the log's last lines / reason: {err}"
    );
    assert!(
        err.contains("farm run plan.yaml --quality draft --resolution 160x96 --only two"),
        "the exact re-run command: {err}"
    );
    // The log's first line is the exact ffmpeg command.
    let first = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(
        first.contains("ffmpeg")
            && first.contains("-pix_fmt yuv420p")
            && first.contains("two.mp4.partial"),
        "{first}"
    );

    let o = s.run(&args("plan.yaml", &["--only", "two"]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("reuse one") && err.contains("reuse three") && err.contains("farm: start two"),
        "{err}"
    );
    assert_eq!(count_frames(&s.path().join("out/video.mp4")).0, 39);
}

#[test]
fn crashes_of_every_kind_are_reported_in_words() {
    let s = Scratch::new("crash");
    s.write("plan.yaml", "output: v.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n  - {id: b, scene: plasma, duration: 1}\n  - {id: c, scene: plasma, duration: 1}\n  - {id: d, scene: plasma, duration: 1}\n");
    let o = s.run(
        &args("plan.yaml", &[]),
        &[("FARM_FAULT", "a:exit;b:abort;c:kill-encoder")],
        LIMIT,
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("clip 'a' failed: the worker process died (exit status 3)"),
        "{err}"
    );
    assert!(
        err.contains("clip 'b' failed: the worker process died (killed by signal 6 (SIGABRT))"),
        "{err}"
    );
    assert!(
        // Small frames may all be in the pipe before ffmpeg dies: either way, ffmpeg and its signal.
        err.contains("clip 'c' failed: ffmpeg ") && err.contains("killed by signal 9 (SIGKILL"),
        "{err}"
    );
    assert!(!err.contains("clip 'd' failed"), "{err}");
    assert!(
        work_dir(&s.path().join("plan.yaml"))
            .join("clips/d.mp4")
            .is_file()
    );
    assert!(err.contains("--only a,b,c"), "{err}");
}

#[test]
fn spaces_and_apostrophes_in_ids_and_paths() {
    let s = Scratch::new("quotes");
    s.write(
        "it's a dir/my plan.yaml",
        "output: \"out put/it's done.mp4\"\nsegments:\n  - id: \"it's one\"\n    scene: plasma\n    duration: 1\n  - id: two words\n    scene: plasma\n    duration: 0.5\n",
    );
    let o = s.run(&args("it's a dir/my plan.yaml", &[]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        count_frames(&s.path().join("it's a dir/out put/it's done.mp4")).0,
        18
    );
}

fn audio_case(name: &str, audio_secs: f64) {
    let s = Scratch::new(name);
    make_audio(&s.path().join("track.wav"), audio_secs);
    s.write("plan.yaml", "output: v.mp4\naudio: track.wav\nsegments:\n  - {id: a, scene: plasma, duration: 1.5}\n  - {id: b, scene: plasma, duration: 1.5}\n");
    let o = s.run(&args("plan.yaml", &[]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = s.path().join("v.mp4");
    let (frames, vdur) = count_frames(&out);
    assert_eq!(frames, 36, "the video is never cut by the audio");
    assert!((vdur - 3.0).abs() < 1e-3, "video duration {vdur}");
    let adur = audio_duration(&out).expect("an audio stream");
    assert!(
        (adur - 3.0).abs() <= 1.0 / 12.0 + 0.03,
        "audio {adur} s must match the video's 3 s within a frame"
    );
}

#[test]
fn audio_shorter_than_the_video_is_padded() {
    audio_case("audio-short", 1.0);
}

#[test]
fn audio_longer_than_the_video_is_cut() {
    audio_case("audio-long", 7.0);
}

#[test]
fn plan_errors_name_line_and_column_and_start_nothing() {
    let s = Scratch::new("planerr");
    s.write("plan.yaml", "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    duration: 1\n  - id: b\n    scene: plasma\n    duration: -1\n");
    let o = s.run(&["run", "plan.yaml"], &[], LIMIT);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("plan.yaml:8:15: segments[1].duration: cannot be negative"),
        "{err}"
    );
    assert!(!s.path().join(".farm").exists(), "no work dir, no worker");
    assert!(!err.contains("farm: start"), "{err}");

    s.write("plan.yaml", "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    duration: 1\n    colour: red\n");
    let o = s.run(&["run", "plan.yaml"], &[], LIMIT);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("plan.yaml:6:5: segments[0]: unknown field `colour`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_missing_ffmpeg_is_reported_before_any_worker() {
    let s = Scratch::new("noffmpeg");
    s.write(
        "plan.yaml",
        "output: v.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n",
    );
    let o = s.run(
        &args("plan.yaml", &[]),
        &[("FARM_FFMPEG", "/nonexistent/ffmpeg")],
        LIMIT,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("ffmpeg not found"), "{}", stderr(&o));
    assert!(!s.path().join(".farm").exists());
}

#[test]
fn a_worker_that_dies_before_connecting_does_not_hang_the_run() {
    let s = Scratch::new("noconnect");
    s.write("plan.yaml", "output: v.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n  - {id: b, scene: plasma, duration: 1}\n");
    let o = s.run(
        &args("plan.yaml", &[]),
        &[("FARM_FAULT_CONNECT", "exit")],
        LIMIT,
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("exited before connecting"), "{err}");
}

#[test]
fn worker_count_does_not_change_a_single_frame() {
    let s = Scratch::new("determinism");
    s.write("plan.yaml", THREE);
    let o = s.run(&args("plan.yaml", &["--workers", "1"]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let one = framemd5(&s.path().join("out/video.mp4"));
    let o = s.run(&args("plan.yaml", &["--workers", "2"]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let two = framemd5(&s.path().join("out/video.mp4"));
    assert_eq!(one.len(), 39);
    assert_eq!(one, two);
}

#[test]
fn keep_and_keep_intermediates_keep_the_work_dir() {
    let s = Scratch::new("keep");
    s.write(
        "plan.yaml",
        "output: v.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 0.5}\n",
    );
    let o = s.run(&args("plan.yaml", &["--keep"]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        work_dir(&s.path().join("plan.yaml"))
            .join("clips/a.mp4")
            .is_file()
    );
    let layout = farm::coordinator::Layout::for_plan_file(&s.path().join("plan.yaml"));
    assert!(layout.concat_list().is_file());
    assert!(layout.join_log().is_file());
    std::fs::remove_dir_all(s.path().join(".farm")).unwrap();
    let o = s.run(
        &args("plan.yaml", &[]),
        &[("KEEP_INTERMEDIATES", "1")],
        LIMIT,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        work_dir(&s.path().join("plan.yaml"))
            .join("logs/a.log")
            .is_file()
    );
}

#[test]
fn only_with_an_unknown_id_is_refused() {
    let s = Scratch::new("onlybad");
    s.write(
        "plan.yaml",
        "output: v.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 0.5}\n",
    );
    let o = s.run(&args("plan.yaml", &["--only", "zzz"]), &[], LIMIT);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("zzz") && stderr(&o).contains("its clips are: a"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn check_lists_characters_no_font_has_and_bad_fonts_stop_a_run_early() {
    let s = Scratch::new("glyphs");
    s.write("plan.yaml", "output: v.mp4\nsegments:\n  - {id: a, scene: quote, duration: 1, text: \"hi \\U0001F600 \\u16A0\"}\n");
    let o = s.run(&["check", "plan.yaml"], &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("U+1F600") && out.contains("text (a)"), "{out}");
    assert!(
        !out.contains("U+16A0"),
        "runic comes from the fallback font: {out}"
    );
    s.write("fonts/broken.ttf", "this is not a font");
    s.write("plan.yaml", "output: v.mp4\nfonts: [fonts/broken.ttf]\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n");
    let o = s.run(&args("plan.yaml", &[]), &[], LIMIT);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("broken.ttf"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("farm: start"), "{}", stderr(&o));
}

#[test]
fn a_dark_clip_draws_a_warning_and_a_bright_one_does_not() {
    let s = Scratch::new("dark");
    s.write("plan.yaml", "output: v.mp4\nsegments:\n  - {id: dim, scene: quote, duration: 1, text: hi, params: {background: false}}\n  - {id: lit, scene: plasma, duration: 1}\n");
    let o = s.run(&args("plan.yaml", &[]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("warning: clip 'dim' looks dark: mean brightness"),
        "{err}"
    );
    assert!(!err.contains("clip 'lit' looks dark"), "{err}");
}

/// The mean rgb24 colour of the first frame of `p` (`w x h`).
fn first_frame_mean(p: &std::path::Path, w: usize, h: usize) -> [f64; 3] {
    let frames = frames_rgb(p, w, h);
    let n = (w * h) as f64;
    let mut m = [0f64; 3];
    for px in frames[0].chunks_exact(3) {
        for k in 0..3 {
            m[k] += f64::from(px[k]) / n;
        }
    }
    m
}

#[test]
fn a_solid_colour_comes_back_from_the_video_with_the_colour_tags() {
    // brightness 0, invert, tint: every pixel is (51, 204, 102).
    let s = Scratch::new("colour");
    s.write(
        "plan.yaml",
        "output: c.mp4\nseed: 3\nsegments:\n  - id: a\n    scene: plasma\n    duration: 0.5\n    shaders: [{brightness: {factor: 0}}, invert, {color_grade: {tint: [0.2, 0.8, 0.4]}}]\n",
    );
    // HD gets BT.709, SD gets SMPTE 170M (BT.601); both limited range.
    for (size, matrix, w, h) in [
        ("1280x720", "bt709", 1280, 720),
        ("320x240", "smpte170m", 320, 240),
    ] {
        let o = s.run(
            &["run", "plan.yaml", "--resolution", size, "--fps", "8"],
            &[],
            LIMIT,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let out = s.path().join("c.mp4");
        let p = std::process::Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
            .args(["stream=pix_fmt,color_space,color_primaries,color_transfer,color_range"])
            .args(["-of", "default=noprint_wrappers=1"])
            .arg(&out)
            .output()
            .unwrap();
        let tags = String::from_utf8_lossy(&p.stdout).to_string();
        for want in [
            "pix_fmt=yuv420p".to_string(),
            format!("color_space={matrix}"),
            format!("color_primaries={matrix}"),
            format!("color_transfer={matrix}"),
            "color_range=tv".to_string(),
        ] {
            assert!(tags.contains(&want), "{size}: {want} missing from {tags}");
        }
        let m = first_frame_mean(&out, w, h);
        for (got, want) in m.iter().zip([51.0, 204.0, 102.0]) {
            assert!(
                (got - want).abs() <= 3.0,
                "{size}: colour {m:?}, want (51, 204, 102)"
            );
        }
    }
}
