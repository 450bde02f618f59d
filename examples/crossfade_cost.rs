//! What a crossfade (`transition: {in: crossfade}`) costs the worker of the clip that has it, and
//! PNGs across one to look at.
//!
//! - `cost` (default): at 1280x720, 24 fps, one core, a 1 s crossfade into `fire` from `rings`
//!   (no state), `particles` and `tunnel` (state: particles, feedback) of 2 s and 8 s: the first
//!   frame (the catch-up of a stateful scene before), the mean of the other crossfade frames,
//!   the mean of the frames after it, `fire` alone, and the cell mix alone.
//! - `frames`: `rings` (2 s) into `fire` over 1 s at 1280x720: the clip before's last frame and
//!   the crossfade at 0%, 30%, 60% and 100%, as PNGs in `$FARM_DUMP_DIR` (default
//!   `/tmp/farm-render-dump`), with B alone at 30% for comparison.
//!
//! `cargo run --release --example crossfade_cost [-- cost frames]`.

#[path = "../benches/common/mod.rs"]
mod common;

use common::{builtin, frame, mean};
use farm::features::ClipFeatures;
use farm::render::crossfade::{CellTiling, Mixer};
use farm::render::{FrameSpec, Renderer, SceneSpec};
use std::time::Instant;

const FPS: u32 = 24;

/// The renderer of clip A (`a` for `a_frames`) with rows on past its end, as a crossfade has.
fn renderer_a(f: &FrameSpec, a: &str, a_frames: u32, n: u32) -> Renderer {
    let mut spec = builtin(a);
    spec.frames = a_frames;
    let rows = ClipFeatures::synthetic(FPS, 0, u64::from(a_frames + n), 0);
    Renderer::with_features(f, &spec, 11, rows).unwrap()
}

/// Clip B (`fire`, 2 s) starting at `start`.
fn spec_b() -> SceneSpec {
    let mut b = builtin("fire");
    b.frames = 2 * FPS;
    b
}

fn renderer_b(f: &FrameSpec, start: u32) -> Renderer {
    let b = spec_b();
    let rows = ClipFeatures::synthetic(FPS, u64::from(start), u64::from(b.frames), 0);
    Renderer::with_features(f, &b, 12, rows).unwrap()
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn cost() {
    let f = frame(1280, 720);
    let n = FPS; // a 1 s crossfade
    let mut buf = vec![0u8; 1280 * 720 * 3];
    println!("1280x720 @{FPS} fps, a 1 s ({n} frames) crossfade into fire; ms per frame");
    println!(
        "{:<10} {:>5} {:>9} {:>13} {:>12} {:>11} {:>10}",
        "from", "secs", "stateful", "first frame", "crossfade", "after", "B alone"
    );
    for a in ["rings", "particles", "tunnel"] {
        for secs in [2u32, 8] {
            let a_frames = secs * FPS;
            let ra = renderer_a(&f, a, a_frames, n);
            let stateful = ra.is_stateful();
            let mut rb = renderer_b(&f, a_frames)
                .crossfade_from(ra, a_frames, n, 12)
                .unwrap();
            let t = Instant::now();
            rb.render_frame(0, &mut buf);
            let first = ms(t);
            let t = Instant::now();
            for i in 1..n {
                rb.render_frame(i, &mut buf);
            }
            let during = ms(t) / f64::from(n - 1);
            let t = Instant::now();
            for i in n..2 * n {
                rb.render_frame(i, &mut buf);
            }
            let after = ms(t) / f64::from(n);
            let mut alone = renderer_b(&f, a_frames);
            let t = Instant::now();
            for i in 0..n {
                alone.render_frame(i, &mut buf);
            }
            let b_alone = ms(t) / f64::from(n);
            println!(
                "{a:<10} {secs:>5} {:>9} {first:>13.1} {during:>12.1} {after:>11.1} {b_alone:>10.1}",
                if stateful { "yes" } else { "no" }
            );
        }
    }
    // The mix alone, on two real frames.
    let mut ra = renderer_a(&f, "rings", 48, n);
    let mut a = vec![0u8; buf.len()];
    ra.render_frame(48, &mut a);
    let mut rb = renderer_b(&f, 48);
    rb.render_frame(0, &mut buf);
    let tiling = CellTiling::of(&farm::render::grid::Grid::new(16.0, 1.0, 1280, 720));
    // The fastest of 50 (the machine may be shared), and a plain copy of a frame beside it.
    let (mut best, mut copy) = (f64::MAX, f64::MAX);
    let mut out = buf.clone();
    let mut mixer = Mixer::new();
    for k in 0..50 {
        let t = Instant::now();
        out.copy_from_slice(&buf);
        copy = copy.min(ms(t));
        let t = Instant::now();
        mixer.mix(&a, &mut out, 1280, tiling, 12, (k + 1) as f32 / 52.0);
        best = best.min(ms(t));
    }
    println!("cell mix alone: {best:.2} ms per frame (fastest of 50; a frame copy: {copy:.2} ms)");
}

fn frames() {
    let dir = std::env::var("FARM_DUMP_DIR").unwrap_or_else(|_| "/tmp/farm-render-dump".into());
    std::fs::create_dir_all(&dir).unwrap();
    let f = frame(1280, 720);
    let (a_frames, n) = (2 * FPS, FPS);
    let save = |name: &str, px: &[u8]| {
        let path = format!("{dir}/crossfade_{name}.png");
        image::save_buffer(&path, px, 1280, 720, image::ColorType::Rgb8).unwrap();
        println!("{path}: mean {:.1}", mean(px));
    };
    let mut buf = vec![0u8; 1280 * 720 * 3];
    let mut ra = renderer_a(&f, "rings", a_frames, n);
    ra.render_frame(a_frames - 1, &mut buf);
    save("a_last", &buf);
    let mut rb = renderer_b(&f, a_frames)
        .crossfade_from(renderer_a(&f, "rings", a_frames, n), a_frames, n, 12)
        .unwrap();
    for (pct, k) in [(0, 0), (30, 7), (60, 14), (100, 24)] {
        rb.render_frame(k, &mut buf);
        save(&format!("{pct:03}"), &buf);
    }
    let mut alone = renderer_b(&f, a_frames);
    alone.render_frame(7, &mut buf);
    save("b_alone_030", &buf);
}

fn main() {
    let mut chosen = common::words();
    if chosen.is_empty() {
        chosen = vec!["cost".into()];
    }
    for what in &chosen {
        match what.as_str() {
            "cost" => cost(),
            "frames" => frames(),
            other => {
                eprintln!("unknown part '{other}': cost or frames");
                std::process::exit(2);
            }
        }
    }
}
