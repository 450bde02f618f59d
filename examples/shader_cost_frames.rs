//! Writes raw rgb24 plasma frames through a shader chain given as YAML, for
//! `scripts/shader-cost.sh` (variants with parameters, which `farm bench-render --shaders`
//! cannot express), and prints the chain's mean ms/frame as `COST {"ms_per_frame":..,
//! "shaders_ms":..}`:
//!
//! `cargo run --release --example shader_cost_frames -- '[{grain: {hold: 3}}]' f.raw 1280x720 48`
//!
//! The chain is read by the plan, as a segment's `shaders:` is (the same validation and
//! messages).

#[path = "../benches/common/mod.rs"]
mod common;

use farm::render::Renderer;
use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [chain, out, size, frames] = args.as_slice() else {
        eprintln!("usage: shader_cost_frames CHAIN_YAML OUT.raw WIDTHxHEIGHT FRAMES");
        std::process::exit(2);
    };
    let (w, h) = farm::profile::parse_resolution(size).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let frames: u32 = frames.parse().expect("FRAMES is a whole number");
    let src = format!(
        "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    duration: 2\n    shaders: {chain}\n"
    );
    let plan = farm::plan::Plan::parse(&src, &common::root().join("cost-plan.yaml"))
        .unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2)
        });
    let scene = common::scene_with("plasma", None, plan.segments[0].scene.shaders.clone());
    let mut r = Renderer::new(&common::frame(w, h), &scene, 42).unwrap();
    let mut buf = vec![0u8; r.frame_len()];
    let mut file = std::io::BufWriter::new(std::fs::File::create(out).unwrap());
    let before = r.timings();
    for i in 0..frames {
        r.render_frame(i, &mut buf);
        file.write_all(&buf).unwrap();
    }
    file.flush().unwrap();
    let after = r.timings();
    let n = f64::from(frames.max(1));
    println!(
        "COST {{\"ms_per_frame\":{:.3},\"shaders_ms\":{:.3}}}",
        (after.total_ns() - before.total_ns()) as f64 / 1e6 / n,
        (after.shaders_ns - before.shaders_ns) as f64 / 1e6 / n
    );
}
