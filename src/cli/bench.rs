//! The hidden `farm bench-render`: renderer ms/frame on one thread, no encoding, as JSON.

use super::BenchArgs;
use crate::render::{FrameSpec, Params, Renderer, SceneSpec, ShaderLevel, ShaderSpec};

pub(super) fn cmd_bench(b: &BenchArgs) -> i32 {
    let frame = FrameSpec {
        width: b.size.0,
        height: b.size.1,
        fps: 24,
        grid_scale: b.grid_scale,
        shader_level: ShaderLevel::Full,
        particles_max: 1200,
    };
    let shaders = b
        .shaders
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|n| ShaderSpec {
            name: n.to_string(),
            params: Params::new(),
        })
        .collect();
    let scene = match SceneSpec::parse(&b.scene, &Params::new(), b.text.clone(), shaders) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let t0 = std::time::Instant::now();
    let mut r = match Renderer::new(&frame, &scene, 42) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let init_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let mut buf = vec![0u8; b.size.0 as usize * b.size.1 as usize * 3];
    let mut raw = b.raw_out.as_ref().map(|p| {
        std::io::BufWriter::new(std::fs::File::create(p).expect("cannot create raw output"))
    });
    for i in 0..3 {
        r.render_frame(i, &mut buf);
    }
    let before = r.timings();
    let t = std::time::Instant::now();
    let mut render_ns = 0u128;
    for i in 0..b.frames {
        let tf = std::time::Instant::now();
        r.render_frame(i, &mut buf);
        render_ns += tf.elapsed().as_nanos();
        if let Some(w) = raw.as_mut() {
            use std::io::Write;
            w.write_all(&buf).expect("cannot write raw frames");
        }
    }
    let wall = t.elapsed().as_secs_f64();
    let after = r.timings();
    let n = b.frames.max(1) as f64;
    let per = |a: u64, b: u64| (a - b) as f64 / 1e6 / n;
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    println!(
        "{{\"scene\":\"{}\",\"width\":{},\"height\":{},\"frames\":{},\"init_ms\":{:.1},\"ms_per_frame\":{:.3},\"fields_ms\":{:.3},\"blit_ms\":{:.3},\"blend_ms\":{:.3},\"shaders_ms\":{:.3},\"wall_s\":{:.3},\"max_rss_mb\":{:.1}}}",
        b.scene,
        b.size.0,
        b.size.1,
        b.frames,
        init_ms,
        render_ns as f64 / 1e6 / n,
        per(after.fields_ns, before.fields_ns),
        per(after.blit_ns, before.blit_ns),
        per(after.blend_ns, before.blend_ns),
        per(after.shaders_ns, before.shaders_ns),
        wall,
        ru.ru_maxrss as f64 / 1024.0
    );
    0
}
