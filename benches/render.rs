//! Renderer benchmarks (printed, never asserted), one thread:
//! - `full_chain`: ms/frame per stage of plasma and quote with bloom, vignette, grain at 720p,
//!   1080p and 4K;
//! - `each_shader`: the renderer's own shader time with one shader in the chain;
//! - `every_shader`: each shader alone on a finished plasma frame (720p and 1080p).
//!
//! `cargo bench --bench render` runs them all; `cargo bench --bench render -- every_shader`
//! only the named ones.

mod common;

use common::{frame, plasma, quote, scene_with, shader};
use farm::render::shaders::{self, ShaderChain};
use farm::render::{Renderer, ShaderLevel};
use std::time::{Duration, Instant};

fn full_chain() {
    for (w, h) in [(1280, 720), (1920, 1080), (3840, 2160)] {
        for (name, spec) in [plasma(), quote()] {
            let f = frame(w, h);
            let t0 = Instant::now();
            let mut r = Renderer::new(&f, &spec, 1).unwrap();
            let init = t0.elapsed();
            let mut out = vec![0u8; r.frame_len()];
            // Warm up, then measure a fresh count.
            for i in 0..5 {
                r.render_frame(i, &mut out);
            }
            let warm = r.timings();
            let n: u32 = if w > 2000 { 30 } else { 120 };
            let t1 = Instant::now();
            for i in 5..5 + n {
                r.render_frame(i, &mut out);
            }
            let wall = t1.elapsed().as_secs_f64() * 1000.0 / f64::from(n);
            let t = r.timings();
            let ms = |a: u64, b: u64| (a - b) as f64 / 1e6 / f64::from(n);
            println!(
                "{name} {w}x{h}: {wall:.2} ms/frame (init {:.1} ms) fields {:.2} blit {:.2} blend {:.2} shaders {:.2}",
                init.as_secs_f64() * 1000.0,
                ms(t.fields_ns, warm.fields_ns),
                ms(t.blit_ns, warm.blit_ns),
                ms(t.blend_ns, warm.blend_ns),
                ms(t.shaders_ns, warm.shaders_ns),
            );
        }
    }
}

fn each_shader() {
    for (w, h) in [(1280, 720), (1920, 1080)] {
        for name in ["bloom", "vignette", "grain"] {
            let spec = scene_with("plasma", None, vec![shader(name)]);
            let mut r = Renderer::new(&frame(w, h), &spec, 1).unwrap();
            let mut out = vec![0u8; r.frame_len()];
            let n = 100;
            for i in 0..n {
                r.render_frame(i, &mut out);
            }
            let ms = r.timings().shaders_ns as f64 / 1e6 / f64::from(n);
            println!("{name} {w}x{h}: {ms:.2} ms/frame");
        }
    }
}

fn every_shader() {
    for (w, h) in [(1280usize, 720usize), (1920, 1080)] {
        let scene = scene_with("plasma", None, Vec::new());
        let mut r = Renderer::new(&frame(w as u32, h as u32), &scene, 1).unwrap();
        let mut base = vec![0u8; r.frame_len()];
        r.render_frame(30, &mut base);
        for &name in shaders::names() {
            let mut chain = ShaderChain::new(&[shader(name)], ShaderLevel::Full, w, h, 1);
            let mut f = base.clone();
            chain.apply(&mut f, w, h, 0, 0.0);
            let n = 30;
            let mut total = Duration::ZERO;
            for i in 0..n {
                f.copy_from_slice(&base);
                let t0 = Instant::now();
                chain.apply(&mut f, w, h, i, i as f32 / 24.0);
                total += t0.elapsed();
            }
            println!(
                "{name} {w}x{h}: {:.2} ms/frame",
                total.as_secs_f64() * 1000.0 / f64::from(n)
            );
        }
    }
}

fn main() {
    let benches: [(&str, fn()); 3] = [
        ("full_chain", full_chain),
        ("each_shader", each_shader),
        ("every_shader", every_shader),
    ];
    let chosen = common::words();
    for (name, run) in benches {
        if chosen.is_empty() || chosen.iter().any(|c| name.contains(c.as_str())) {
            println!("== {name}");
            run();
        }
    }
}
