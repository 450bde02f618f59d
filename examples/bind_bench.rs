//! What audio bindings cost the renderer: ms/frame of a preset without bindings (`react:
//! false`), with its default bindings, and of a layers scene with the same 10 parameters as
//! plain numbers and bound, on one thread, no encoding. The last column is the time the
//! renderer itself spends on bindings (evaluating them and writing the values that changed,
//! with what they change recomputed: `StageTimings::bind_ns`), which a busy machine does not blur.
//!
//! `cargo run --release --example bind_bench -- [PRESET] [FRAMES]` (or `scripts/bench-bind.sh`)
//! runs it. Reported, not asserted.

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

fn frame_spec() -> FrameSpec {
    FrameSpec {
        width: 1280,
        height: 720,
        fps: 24,
        grid_scale: 1.0,
        shader_level: ShaderLevel::Full,
        particles_max: 1200,
    }
}

/// Rounds the frames are split into; the configurations take turns, round by round, so that a
/// busy machine slows them alike, and each reports its median round.
const ROUNDS: u32 = 6;

fn main() {
    let mut args = std::env::args().skip(1);
    let preset = args.next().unwrap_or_else(|| "rings".to_string());
    let frames: u32 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(240)
        .max(ROUNDS * 2);
    let per_round = frames / ROUNDS;
    let plain = spec(&preset, "    react: false\n");
    let defaults = spec(&preset, "");
    let ten = spec("layers", &format!("    {TEN}"));
    let ten_plain = spec("layers", &format!("    {TEN_PLAIN}"));
    let cases = [
        ("no bindings (react: false)", &plain),
        ("default bindings", &defaults),
        ("layers scene, plain numbers", &ten_plain),
        ("layers scene, 10 bindings", &ten),
    ];
    let f = frame_spec();
    let total = per_round * ROUNDS + 1;
    let mut renderers: Vec<Renderer> = cases
        .iter()
        .map(|(_, s)| {
            let s = SceneSpec {
                frames: total,
                ..(*s).clone()
            };
            let feats = ClipFeatures::synthetic(24, 0, u64::from(total), 0);
            Renderer::with_features(&f, &s, 7, feats).unwrap()
        })
        .collect();
    let mut out = vec![0u8; renderers[0].frame_len()];
    for r in &mut renderers {
        r.render_frame(0, &mut out);
    }
    let before: Vec<_> = renderers.iter().map(|r| r.timings()).collect();
    let mut rounds = vec![Vec::new(); cases.len()];
    for round in 0..ROUNDS {
        for (k, r) in renderers.iter_mut().enumerate() {
            let first = 1 + round * per_round;
            let t0 = Instant::now();
            for i in first..first + per_round {
                r.render_frame(i, &mut out);
            }
            rounds[k].push(t0.elapsed().as_secs_f64() * 1000.0 / f64::from(per_round));
        }
    }
    println!(
        "scene {preset}, 1280x720, {} frames in {ROUNDS} rounds, one thread; median round",
        per_round * ROUNDS
    );
    println!(
        "{:32} {:>5}  {:>9}  {:>14}",
        "", "bound", "ms/frame", "bindings ms/f"
    );
    let mut medians = Vec::new();
    for (k, (what, s)) in cases.iter().enumerate() {
        let mut v = rounds[k].clone();
        v.sort_by(f64::total_cmp);
        let median = v[v.len() / 2];
        medians.push(median);
        let t = renderers[k].timings();
        let bind_ms = (t.bind_ns - before[k].bind_ns) as f64 / 1e6 / f64::from(per_round * ROUNDS);
        println!(
            "{what:32} {:5}  {median:9.3}  {bind_ms:14.4}",
            s.bindings().len()
        );
    }
    let extra = medians[3] - medians[2];
    println!(
        "10 bindings over plain numbers: {extra:+.3} ms/frame ({:+.1}%)",
        extra / medians[2] * 100.0
    );
}
