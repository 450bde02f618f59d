//! End-to-end: the audio visualizer scenes (`spectrum`, `scope`, `attractor`) and presets (with
//! the trail presets), rendered by real workers behind a soundtrack made with ffmpeg's own
//! sources and by `farm frame`, bright in quiet passages too, and the library path that hands a
//! renderer the rows of a real analysed track.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

/// A 4 s soundtrack: a 110 Hz sine mixed with a 1.5 kHz click every half second (120 BPM).
fn soundtrack(out: &Path) {
    let graph = "sine=f=110:d=4:sample_rate=22050[a];\
                 aevalsrc='0.8*exp(-60*mod(t\\,0.5))*sin(2*PI*1500*t)':d=4:s=22050[b];\
                 [a][b]amix=inputs=2:normalize=0";
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-filter_complex", graph])
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn mean(f: &[u8]) -> f64 {
    f.iter().map(|&v| f64::from(v)).sum::<f64>() / f.len().max(1) as f64
}

/// The four visualizer presets (bars, radial, scope, mirrored), copied under `scenes/` of `s`.
const PRESETS: [&str; 4] = ["spectrum-city", "bass-rings", "oscilloscope", "beat-glitch"];

/// Every visualizer preset `farm frame` checks: the audio ones and the attractor / trail ones.
const ALL_PRESETS: [&str; 6] = [
    "spectrum-city",
    "bass-rings",
    "oscilloscope",
    "beat-glitch",
    "attractor-dust",
    "flow-trails",
];

fn copy_presets(s: &Scratch) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes");
    std::fs::create_dir_all(s.path().join("scenes")).unwrap();
    for p in ALL_PRESETS {
        std::fs::copy(
            root.join(format!("{p}.yaml")),
            s.path().join(format!("scenes/{p}.yaml")),
        )
        .unwrap();
    }
}

/// The brightness every frame of a visualizer preset keeps, quiet passages included (farm warns
/// below 5).
const BRIGHT: f64 = 8.0;

#[test]
fn visualizer_presets_render_bright_behind_a_soundtrack_with_real_workers() {
    // The presets cover the spectrum's three modes and the scope; the soundtrack's quiet start
    // (a sine between clicks) is where a visualizer is darkest.
    let s = Scratch::new("viz-run");
    soundtrack(&s.path().join("track.wav"));
    copy_presets(&s);
    let mut plan = String::from("output: v.mp4\naudio: track.wav\nsegments:\n");
    for p in PRESETS {
        plan += &format!("  - {{id: {p}, scene: {p}, duration: 1}}\n");
    }
    s.write("plan.yaml", &plan);
    let mut args = vec!["run", "plan.yaml", "--workers", "2"];
    args.extend_from_slice(TINY);
    let o = s.run(&args, &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_no_leftovers(&s.tag);
    let out = s.path().join("v.mp4");
    let (n, _) = count_frames(&out);
    assert_eq!(n, 48, "4 s at draft's 12 fps");
    let frames = frames_rgb(&out, 160, 96);
    assert_eq!(frames.len(), 48);
    for (i, f) in frames.iter().enumerate() {
        let m = mean(f);
        assert!(
            m > BRIGHT,
            "frame {i} ({}) is too dark: mean {m:.1}",
            PRESETS[i / 12]
        );
    }
    // Each segment moves: its frames are not all the same.
    for (k, name) in PRESETS.iter().enumerate() {
        let range = k * 12..(k + 1) * 12;
        let first = &frames[range.start];
        assert!(
            frames[range].iter().any(|f| f != first),
            "segment {name} does not move"
        );
    }
}

#[test]
fn every_visualizer_preset_renders_a_bright_frame_with_farm_frame() {
    let s = Scratch::new("viz-frame");
    copy_presets(&s);
    let mut plan = String::from("output: v.mp4\nsegments:\n");
    for p in ALL_PRESETS {
        plan += &format!("  - {{id: {p}, scene: {p}, duration: 2}}\n");
    }
    s.write("plan.yaml", &plan);
    for p in ALL_PRESETS {
        let png = format!("{p}.png");
        let mut args = vec!["frame", "plan.yaml", p, "--at", "0.75", "-o", &png];
        args.extend_from_slice(TINY);
        let o = s.run(&args, &[], LIMIT);
        assert!(o.status.success(), "{p}: {}", stderr(&o));
        let img = s.path().join(&png);
        let raw = Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(&img)
            .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
            .output()
            .unwrap();
        assert!(raw.status.success());
        let m = mean(&raw.stdout);
        assert!(m > BRIGHT, "{p}: mean {m:.1}");
    }
    // The presets resolve in a plan check like any other scene (farm has no `farm scenes`
    // command: presets are the files in `scenes/`, listed in README.md and docs/scenes.md).
    let o = s.run(&["check", "plan.yaml"], &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn attractor_and_trail_presets_render_behind_a_soundtrack_with_real_workers() {
    let s = Scratch::new("viz-fx");
    soundtrack(&s.path().join("track.wav"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes");
    std::fs::create_dir_all(s.path().join("scenes")).unwrap();
    for p in ["attractor-dust", "flow-trails"] {
        std::fs::copy(
            root.join(format!("{p}.yaml")),
            s.path().join(format!("scenes/{p}.yaml")),
        )
        .unwrap();
    }
    s.write(
        "plan.yaml",
        "output: v.mp4\naudio: track.wav\nsegments:\n  \
         - {id: clifford, scene: attractor, duration: 1}\n  \
         - {id: bedhead, scene: attractor, duration: 1, params: {layers: [{field: attractor, attractor: bedhead, grid: sm, palette: dense}]}}\n  \
         - {id: dust, scene: attractor-dust, duration: 1}\n  \
         - {id: flow, scene: flow-trails, duration: 1}\n",
    );
    let run = |workers: &str| {
        let mut args = vec!["run", "plan.yaml", "--workers", workers];
        args.extend_from_slice(TINY);
        let o = s.run(&args, &[], LIMIT);
        assert!(o.status.success(), "{}", stderr(&o));
        frames_rgb(&s.path().join("v.mp4"), 160, 96)
    };
    let frames = run("2");
    assert_eq!(frames.len(), 48, "4 s at draft's 12 fps");
    for (i, f) in frames.iter().enumerate() {
        let m = mean(f);
        assert!(m > 5.0, "frame {i} is too dark: mean {m:.1}");
    }
    for (k, name) in ["clifford", "bedhead", "dust", "flow"].iter().enumerate() {
        let seg = &frames[k * 12..(k + 1) * 12];
        assert!(
            seg.iter().any(|f| f != &seg[0]),
            "segment {name} does not move"
        );
    }
    // The two attractor kinds draw different figures.
    assert_ne!(frames[6], frames[18]);
    // One worker renders the same video (stateful trails caught up in order either way).
    std::fs::remove_file(s.path().join("v.mp4")).unwrap();
    assert_eq!(run("1"), frames, "1 worker vs 2 workers");
    assert_no_leftovers(&s.tag);
}

/// The bars of a real analysed tone stand where the tone is: a renderer given the clip rows of
/// a 1 kHz tone lights the columns of its bin and leaves the far columns dark.
#[test]
fn a_renderer_given_a_real_tones_rows_draws_its_bar_where_the_tone_is() {
    use farm::render::{FrameSpec, Renderer, SceneSpec, ShaderLevel};
    let s = Scratch::new("viz-lib");
    let wav = s.path().join("tone.wav");
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=1000:d=2"])
        .arg(&wav)
        .output()
        .unwrap();
    assert!(o.status.success());
    let f = farm::audio::decode_and_analyse(&which("ffmpeg"), &wav, 0.0, 24, None).unwrap();
    let spec = SceneSpec::parse(
        "spectrum",
        &[(
            "background".to_string(),
            farm::render::params::Param::Num(0.0),
        )]
        .into(),
        None,
        Vec::new(),
    )
    .unwrap();
    assert!(spec.is_reactive());
    let frame = FrameSpec {
        width: 640,
        height: 360,
        fps: 24,
        grid_scale: 1.0,
        shader_level: ShaderLevel::Full,
        particles_max: 1000,
    };
    let mut r = Renderer::with_features(&frame, &spec, 1, f.clip_rows(12, 12, 48)).unwrap();
    let mut out = vec![0u8; r.frame_len()];
    r.render_frame(6, &mut out);
    // Brightness per tenth of the width: the tone's bin (1 kHz of 40 Hz..11 kHz, log) is at
    // about 57% of the width.
    let col_mean = |x0: usize, x1: usize| {
        let mut sum = 0u64;
        for y in 0..360 {
            for x in x0..x1 {
                sum += out[(y * 640 + x) * 3..(y * 640 + x) * 3 + 3]
                    .iter()
                    .map(|&v| u64::from(v))
                    .sum::<u64>();
            }
        }
        sum as f64 / ((x1 - x0) * 360 * 3) as f64
    };
    let x = (1000f64 / 40.0).ln() / (11000f64 / 40.0).ln();
    let at = (x * 640.0) as usize;
    let tone = col_mean(at - 16, at + 16);
    let far_low = col_mean(0, 96);
    let far_high = col_mean(544, 640);
    assert!(
        tone > 20.0 && tone > 4.0 * far_low.max(far_high).max(1.0),
        "tone columns {tone:.1}, low {far_low:.1}, high {far_high:.1}"
    );
}
