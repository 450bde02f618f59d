//! What audio bindings cost the renderer: ms/frame of a preset without bindings (`react:
//! false`), with its default bindings, and with 10 bindings, on one thread, no encoding.
//!
//! `scripts/bench-bind.sh [PRESET] [FRAMES]` runs it (release build). Reported, not asserted.

use farm::features::ClipFeatures;
use farm::plan::Plan;
use farm::render::{FrameSpec, Renderer, SceneSpec, ShaderLevel};
use std::path::Path;
use std::time::Instant;

const TEN: &str = "params:\n      hue: {from: cent, range: [0, 0.2], smooth: 0.9}\n      speed: {from: rms, range: [0.8, 1.2], smooth: 0.5}\n      gamma: {from: rms, range: [0.7, 0.9]}\n      layers:\n        - {field: plasma, scale: {from: bass, range: [0.6, 1.2], smooth: 0.5}, opacity: {from: rms, range: [0.6, 1]}, threshold: {from: flux, range: [0.02, 0.1]}}\n        - {field: rings, grid: lg, count: {from: bass, range: [3, 8]}, opacity: {from: bdecay, range: [0.3, 0.9]}, contrast: {from: mid, range: [0.8, 1.4]}}\n    shaders:\n      - bloom: {thr: {from: rms, range: [150, 100], smooth: 0.5}}\n      - vignette\n";

/// [`TEN`] with each binding replaced by a number.
const TEN_PLAIN: &str = "params:\n      hue: 0.1\n      speed: 1\n      gamma: 0.8\n      layers:\n        - {field: plasma, scale: 0.9, opacity: 0.8, threshold: 0.05}\n        - {field: rings, grid: lg, count: 5, opacity: 0.6, contrast: 1.1}\n    shaders:\n      - bloom: {thr: 125}\n      - vignette\n";

fn spec(scene: &str, extra: &str) -> SceneSpec {
    let src = format!(
        "output: v.mp4\nsegments:\n  - id: a\n    scene: {scene}\n    duration: 10\n{extra}"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Plan::parse(&src, &root.join("bench-plan.yaml"))
        .unwrap_or_else(|e| panic!("{e}"))
        .segments[0]
        .scene
        .clone()
}

fn ms_per_frame(spec: &SceneSpec, frames: u32) -> f64 {
    let f = FrameSpec {
        width: 1280,
        height: 720,
        fps: 24,
        grid_scale: 1.0,
        shader_level: ShaderLevel::Full,
        particles_max: 1200,
    };
    let spec = SceneSpec {
        frames,
        ..spec.clone()
    };
    let feats = ClipFeatures::synthetic(24, 0, u64::from(frames), 0);
    let mut r = Renderer::with_features(&f, &spec, 7, feats).unwrap();
    let mut out = vec![0u8; r.frame_len()];
    r.render_frame(0, &mut out);
    let t0 = Instant::now();
    for i in 1..frames {
        r.render_frame(i, &mut out);
    }
    t0.elapsed().as_secs_f64() * 1000.0 / f64::from(frames - 1)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let preset = args.next().unwrap_or_else(|| "rings".to_string());
    let frames: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(120);
    let plain = spec(&preset, "    react: false\n");
    let defaults = spec(&preset, "");
    let ten = spec("layers", &format!("    {TEN}"));
    let ten_plain = spec("layers", &format!("    {TEN_PLAIN}"));
    println!("scene {preset}, 1280x720, {frames} frames, one thread");
    for (what, s) in [
        ("no bindings (react: false)", &plain),
        ("default bindings", &defaults),
        ("layers scene, plain numbers", &ten_plain),
        ("layers scene, 10 bindings", &ten),
    ] {
        let n = s.bindings().len();
        println!(
            "{what:32} {n:2} bound  {:8.3} ms/frame",
            ms_per_frame(s, frames)
        );
    }
}
