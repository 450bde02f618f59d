//! ms/frame of every preset and built-in scene at 1280x720 and 1920x1080 on one thread, with the
//! per-stage breakdown (fields, glyph blit, blend + tonemap/feedback/transitions, shaders), as a
//! markdown table. Printed, never asserted: `cargo bench --bench presets` or
//! `bash scripts/bench-presets.sh`; `cargo bench --bench presets -- NAME ...` times only the
//! presets and scenes whose name contains one of the words.

mod common;

use farm::render::{Renderer, builtin_scenes};
use std::time::Instant;

fn main() {
    let mut specs = common::presets();
    for name in builtin_scenes() {
        specs.push((format!("scene:{name}"), common::builtin(name)));
    }
    let chosen = common::words();
    println!("| preset | size | ms/frame | fields | blit | blend+post | shaders | init ms |");
    println!("|---|---|---|---|---|---|---|---|");
    for (name, mut spec) in specs {
        if !chosen.is_empty() && !chosen.iter().any(|c| name.contains(c.as_str())) {
            continue;
        }
        spec.frames = 0;
        for (w, h) in [(1280, 720), (1920, 1080)] {
            let f = common::frame(w, h);
            let t0 = Instant::now();
            let mut r = Renderer::new(&f, &spec, 1).unwrap();
            let init = t0.elapsed().as_secs_f64() * 1000.0;
            let mut out = vec![0u8; r.frame_len()];
            for i in 0..10 {
                r.render_frame(i, &mut out);
            }
            let warm = r.timings();
            let n = 40u32;
            let t1 = Instant::now();
            for i in 10..10 + n {
                r.render_frame(i, &mut out);
            }
            let wall = t1.elapsed().as_secs_f64() * 1000.0 / f64::from(n);
            let t = r.timings();
            let ms = |a: u64, b: u64| (a - b) as f64 / 1e6 / f64::from(n);
            println!(
                "| {name} | {w}x{h} | {wall:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {init:.1} |",
                ms(t.fields_ns, warm.fields_ns),
                ms(t.blit_ns, warm.blit_ns),
                ms(t.blend_ns, warm.blend_ns),
                ms(t.shaders_ns, warm.shaders_ns),
            );
        }
    }
}
