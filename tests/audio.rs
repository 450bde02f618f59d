//! End-to-end: `farm audio` and the feature cache on audio made here with ffmpeg's own sources
//! (aevalsrc click tracks, sine, anullsrc, anoisesrc), decoded by the real ffmpeg.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Make an audio file with ffmpeg from a lavfi source graph (`-filter_complex` when it has
/// labels), plus output options.
fn make(out: &Path, graph: &str, opts: &[&str]) {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-v", "error", "-y"]);
    if graph.contains('[') {
        cmd.args(["-filter_complex", graph]);
    } else {
        cmd.args(["-f", "lavfi", "-i", graph]);
    }
    let o = cmd.args(opts).arg(out).output().unwrap();
    assert!(
        o.status.success(),
        "ffmpeg {graph}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A click track: 15 ms decaying 1.5 kHz bursts every 60/bpm s from 0.3 s on, `secs` long,
/// with `layout` channels at `rate` Hz; returns the click times.
fn click_track(out: &Path, bpm: f64, secs: f64, rate: u32, layout: &str) -> Vec<f64> {
    let p = 60.0 / bpm;
    let expr = format!(
        "if(gte(t\\,0.3)*lt(mod(t-0.3\\,{p})\\,0.015)\\,0.8*sin(2*PI*1500*t)*exp(-200*mod(t-0.3\\,{p}))\\,0)"
    );
    let chans = vec![expr; channels(layout)].join("|");
    make(
        out,
        &format!("aevalsrc={chans}:c={layout}:s={rate}:d={secs}"),
        &[],
    );
    let mut t = 0.3;
    let mut times = Vec::new();
    while t < secs - 0.05 {
        times.push(t);
        t += p;
    }
    times
}

fn channels(layout: &str) -> usize {
    match layout {
        "mono" => 1,
        "stereo" => 2,
        "5.1" => 6,
        other => panic!("layout {other}"),
    }
}

/// `farm audio FILE --json` + args: the parsed object (the run must succeed).
fn audio_json(s: &Scratch, file: &Path, extra: &[&str]) -> serde_json::Value {
    let f = file.to_str().unwrap();
    let mut args = vec!["audio", f, "--json"];
    args.extend_from_slice(extra);
    let o = s.run(&args, &[], LIMIT);
    assert!(o.status.success(), "farm {args:?}: {}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "one JSON object on one line");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Every feature array has `frames` values, all finite and in [0, 1].
fn assert_sane(j: &serde_json::Value) -> usize {
    let frames = j["frames"].as_u64().unwrap() as usize;
    let feats = j["features"].as_object().unwrap();
    assert_eq!(feats.len(), 19, "{:?}", feats.keys().collect::<Vec<_>>());
    for (name, col) in feats {
        let v = floats(col);
        assert_eq!(v.len(), frames, "{name}");
        for (i, x) in v.iter().enumerate() {
            assert!(
                x.is_finite() && (0.0..=1.0).contains(x),
                "{name}[{i}] = {x}"
            );
        }
    }
    assert!(j["tempo"].as_f64().unwrap().is_finite());
    let c = j["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&c), "confidence {c}");
    frames
}

#[test]
fn click_tracks_at_known_tempi_give_every_beat_within_a_frame_and_nothing_else() {
    let s = Scratch::new("audio-clicks");
    let cases = [
        (90.0, 44100, "mono"),
        (120.0, 48000, "stereo"),
        (128.0, 22050, "mono"),
        (174.0, 96000, "stereo"),
    ];
    for (bpm, rate, layout) in cases {
        let file = s.path().join(format!("click-{bpm}.wav"));
        let clicks = click_track(&file, bpm, 12.0, rate, layout);
        let j = audio_json(&s, &file, &["--fps", "24"]);
        assert_sane(&j);
        let tempo = j["tempo"].as_f64().unwrap();
        assert!((tempo - bpm).abs() < 1.0, "{bpm} BPM: tempo {tempo}");
        let beats = floats(&j["beats"]);
        assert_eq!(
            beats.len(),
            clicks.len(),
            "{bpm} BPM: beats {beats:?} for clicks {clicks:?}"
        );
        for (b, c) in beats.iter().zip(&clicks) {
            assert!(
                (b - c).abs() < 1.0 / 24.0,
                "{bpm} BPM: beat {b} s for click {c} s"
            );
        }
        let flags = floats(&j["features"]["beat"]);
        let on: Vec<usize> = (0..flags.len()).filter(|&i| flags[i] == 1.0).collect();
        assert_eq!(on.len(), clicks.len(), "{bpm} BPM: frames {on:?}");
        for (f, c) in on.iter().zip(&clicks) {
            assert!(
                (*f as f64 - c * 24.0).abs() <= 1.0,
                "{bpm} BPM: frame {f} for click at {c} s"
            );
        }
        let bdecay = floats(&j["features"]["bdecay"]);
        assert!(on.iter().all(|&f| bdecay[f] == 1.0));
    }
}

#[test]
fn tones_land_in_their_bands() {
    let s = Scratch::new("audio-bands");
    let tones = [50, 150, 400, 1000, 4000, 10000];
    let graph = tones
        .iter()
        .enumerate()
        .map(|(i, f)| format!("sine=f={f}:d=1:sample_rate=44100[t{i}];"))
        .collect::<String>()
        + &(0..6).map(|i| format!("[t{i}]")).collect::<String>()
        + "concat=n=6:v=0:a=1";
    let file = s.path().join("tones.flac");
    make(&file, &graph, &[]);
    let j = audio_json(&s, &file, &["--fps", "20"]);
    assert_sane(&j);
    let names = ["sub", "bass", "lomid", "mid", "himid", "hi"];
    let cols: Vec<Vec<f64>> = names.iter().map(|n| floats(&j["features"][*n])).collect();
    let ratios: Vec<Vec<f64>> = names
        .iter()
        .map(|n| floats(&j["features"][format!("{n}_r")]))
        .collect();
    for (k, hz) in tones.iter().enumerate() {
        for frame in k * 20 + 8..k * 20 + 16 {
            let best = |c: &[Vec<f64>]| {
                (0..6)
                    .max_by(|&a, &b| c[a][frame].total_cmp(&c[b][frame]))
                    .unwrap()
            };
            assert_eq!(names[best(&cols)], names[k], "{hz} Hz, frame {frame}");
            assert_eq!(
                names[best(&ratios)],
                names[k],
                "{hz} Hz ratio, frame {frame}"
            );
        }
    }
}

#[test]
fn silence_noise_a_held_tone_short_tracks_and_any_layout_or_rate_stay_finite() {
    let s = Scratch::new("audio-finite");
    let p = |n: &str| s.path().join(n);
    make(&p("silence.wav"), "anullsrc=r=48000:cl=stereo:d=4", &[]);
    make(&p("noise.wav"), "anoisesrc=d=4:c=pink:r=8000:a=0.5", &[]);
    make(&p("tone96k.wav"), "sine=f=440:d=4:sample_rate=96000", &[]);
    make(&p("tone8k.mp3"), "sine=f=220:d=4:sample_rate=8000", &[]);
    click_track(&p("surround.wav"), 120.0, 4.0, 48000, "5.1");
    click_track(&p("short.wav"), 120.0, 2.0, 44100, "mono");
    for (file, beats) in [
        ("silence.wav", Some(0)),
        ("noise.wav", Some(0)),
        ("tone96k.wav", Some(0)),
        ("tone8k.mp3", Some(0)),
        ("surround.wav", None),
    ] {
        let j = audio_json(&s, &p(file), &[]);
        assert_eq!(assert_sane(&j), 96, "{file}: 4 s at 24 fps");
        if let Some(n) = beats {
            assert_eq!(floats(&j["beats"]).len(), n, "{file}");
        }
    }
    let j = audio_json(&s, &p("silence.wav"), &[]);
    for (name, col) in j["features"].as_object().unwrap() {
        assert!(floats(col).iter().all(|&x| x == 0.0), "silence: {name}");
    }
    // 5.1 is mixed down, and its clicks are still every beat.
    let j = audio_json(&s, &p("surround.wav"), &[]);
    assert_eq!(floats(&j["beats"]).len(), 8);
    // A 2 s track under a 6 s video: the frames after its end are silence.
    let j = audio_json(&s, &p("short.wav"), &["--frames", "144"]);
    assert_eq!(assert_sane(&j), 144);
    for name in ["rms", "bass", "flux", "beat", "bdecay"] {
        let v = floats(&j["features"][name]);
        assert!(
            v[..48].iter().any(|&x| x > 0.5),
            "{name} reacts while the track plays"
        );
        assert!(
            v[72..].iter().all(|&x| x < 0.01),
            "{name} after the end: {:?}",
            &v[72..]
        );
    }
}

#[test]
fn from_starts_inside_the_track() {
    let s = Scratch::new("audio-from");
    let file = s.path().join("clicks.ogg");
    let clicks = click_track(&file, 120.0, 10.0, 44100, "stereo");
    let j = audio_json(&s, &file, &["--from", "2.1"]);
    assert_eq!(j["from"].as_f64(), Some(2.1));
    let beats = floats(&j["beats"]);
    let expect: Vec<f64> = clicks
        .iter()
        .map(|c| c - 2.1)
        .filter(|&c| c > 0.1)
        .collect();
    assert_eq!(beats.len(), expect.len(), "{beats:?} vs {expect:?}");
    for (b, e) in beats.iter().zip(&expect) {
        assert!((b - e).abs() < 1.0 / 24.0, "beat {b} for {e}");
    }
    assert_eq!(assert_sane(&j), ((10.0 - 2.1) * 24.0f64).ceil() as usize);
}

#[test]
fn the_human_summary_names_tempo_beats_and_every_feature() {
    let s = Scratch::new("audio-summary");
    let file = s.path().join("c.wav");
    click_track(&file, 128.0, 6.0, 44100, "mono");
    let o = s.run(&["audio", file.to_str().unwrap()], &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("tempo: 128.0 BPM, confidence"), "{out}");
    // Clicks at 0.3 s + k * 0.469 s: 13 of them in 6 s.
    assert!(out.contains("13 beats, first at 0.29 s"), "{out}");
    for name in ["rms", "sub", "hi_r", "cent_d", "bdecay"] {
        assert!(
            out.lines().any(|l| l.starts_with(&format!("{name} "))),
            "{name}: {out}"
        );
    }
}

fn cache_call(
    ffmpeg: &Path,
    audio: &Path,
    dir: &Path,
) -> Result<(farm::audio::Features, farm::audio::cache::CacheHit), String> {
    farm::audio::cache::features_for(ffmpeg, audio, 0.5, 24, Some(100), dir)
}

#[test]
fn the_cache_is_hit_without_decoding_and_missed_for_a_changed_or_damaged_file() {
    let s = Scratch::new("audio-cache");
    let audio = s.path().join("song.wav");
    let cache = s.path().join("cache");
    click_track(&audio, 120.0, 4.0, 44100, "mono");
    let ffmpeg = PathBuf::from("ffmpeg");
    let (first, hit) = cache_call(&ffmpeg, &audio, &cache).unwrap();
    assert!(
        !hit.hit && hit.ignored.is_none() && hit.write_error.is_none(),
        "{hit:?}"
    );
    assert!(
        hit.log_line().contains("decoded and analysed"),
        "{}",
        hit.log_line()
    );
    assert!(hit.path.is_file());
    // Second call: from the cache. An ffmpeg that does not exist proves nothing is decoded.
    let no_ffmpeg = s.path().join("no-such-ffmpeg");
    let (again, hit2) = cache_call(&no_ffmpeg, &audio, &cache).unwrap();
    assert!(hit2.hit, "{hit2:?}");
    assert!(hit2.log_line().contains("not decoded again"));
    assert_eq!(
        again, first,
        "a hit gives exactly the features of the analysis"
    );
    // A different offset, fps or frame count is another entry.
    let other = farm::audio::cache::features_for(&no_ffmpeg, &audio, 0.5, 25, Some(100), &cache);
    assert!(other.is_err(), "fps 25 is not cached, so it needs ffmpeg");
    // The file changes (same name, other content): a miss, and different features.
    make(&audio, "sine=f=300:d=4", &[]);
    assert!(cache_call(&no_ffmpeg, &audio, &cache).is_err());
    let (changed, hit3) = cache_call(&ffmpeg, &audio, &cache).unwrap();
    assert!(!hit3.hit);
    assert_ne!(changed.rows, first.rows);
    assert_ne!(hit3.path, hit.path);
    // A damaged cache file is ignored, recomputed and rewritten.
    let bytes = std::fs::read(&hit3.path).unwrap();
    std::fs::write(&hit3.path, &bytes[..bytes.len() - 10]).unwrap();
    let (redone, hit4) = cache_call(&ffmpeg, &audio, &cache).unwrap();
    assert!(!hit4.hit);
    assert!(
        hit4.ignored.as_deref().unwrap().contains("checksum"),
        "{hit4:?}"
    );
    assert!(hit4.log_line().contains("ignored a damaged cache file"));
    assert_eq!(redone, changed);
    assert!(
        cache_call(&no_ffmpeg, &audio, &cache).unwrap().1.hit,
        "rewritten"
    );
    // No temporary files are left in the cache folder.
    let names: Vec<String> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("features-") && n.ends_with(".bin")),
        "{names:?}"
    );
}

#[test]
fn farm_audio_reuses_its_cache_and_says_so() {
    let s = Scratch::new("audio-cache-cli");
    let audio = s.path().join("song.wav");
    click_track(&audio, 120.0, 3.0, 44100, "mono");
    let args = [
        "audio",
        audio.to_str().unwrap(),
        "--json",
        "--cache",
        "cache",
    ];
    let a = s.run(&args, &[], LIMIT);
    assert!(a.status.success(), "{}", stderr(&a));
    assert!(
        stderr(&a).contains("decoded and analysed"),
        "{}",
        stderr(&a)
    );
    let b = s.run(&args, &[], LIMIT);
    assert!(b.status.success(), "{}", stderr(&b));
    assert!(stderr(&b).contains("from the cache") && stderr(&b).contains("not decoded again"));
    assert_eq!(stdout(&a), stdout(&b));
}

#[test]
fn bad_audio_is_a_clear_error_naming_the_file_and_quoting_ffmpeg() {
    let s = Scratch::new("audio-bad");
    let p = |n: &str| s.path().join(n);
    std::fs::write(p("empty.mp3"), b"").unwrap();
    std::fs::write(p("text.wav"), b"this is not audio at all\n".repeat(50)).unwrap();
    make(&p("short.wav"), "sine=f=440:d=2", &[]);
    let video = p("silent.mp4");
    let o = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=d=1:s=64x64",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&video)
        .output()
        .unwrap();
    assert!(o.status.success());
    let cases: [(&str, &[&str], &str); 5] = [
        ("missing.mp3", &[], "No such file or directory"),
        ("empty.mp3", &[], "the file is empty (ffmpeg: "),
        ("text.wav", &[], "Invalid data"),
        ("silent.mp4", &[], "no audio stream"),
        (
            "short.wav",
            &["--from", "5"],
            "nothing to decode after `from` 5 s",
        ),
    ];
    for cache in [false, true] {
        for (file, extra, says) in cases {
            let path = p(file);
            let mut args = vec!["audio", path.to_str().unwrap()];
            args.extend_from_slice(extra);
            if cache {
                args.extend(["--cache", "cache"]);
            }
            let o = s.run(&args, &[], LIMIT);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{file}: {err}");
            assert!(
                err.contains(path.to_str().unwrap()),
                "{file} names the file: {err}"
            );
            assert!(err.contains(says), "{file}: {err}");
            assert!(!err.contains("panicked"), "{err}");
        }
    }
    let o = s.run(&["audio", "x.wav", "--from", "-1"], &[], LIMIT);
    assert_eq!(o.status.code(), Some(2));
}
