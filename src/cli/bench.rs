//! The hidden `farm bench-render`: renderer ms/frame on one thread, no encoding, as JSON.

use super::args::BenchArgs;
use crate::render::{FrameSpec, Params, Renderer, SceneSpec, ShaderLevel, ShaderSpec};
use serde::Serialize;

pub(super) fn cmd_bench(b: &BenchArgs) -> i32 {
    let frame = FrameSpec {
        width: b.size.0,
        height: b.size.1,
        fps: 24,
        grid_scale: b.grid_scale,
        shader_level: ShaderLevel::Full,
        particles_max: 1200,
    };
    let shaders: Result<Vec<ShaderSpec>, String> = b
        .shaders
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|n| {
            Ok(ShaderSpec {
                name: crate::render::shaders::parse(n)?,
                params: Params::new(),
            })
        })
        .collect();
    let shaders = match shaders {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: --shaders: {e}");
            return 2;
        }
    };
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
    let (w, h) = (b.size.0 as usize, b.size.1 as usize);
    let mut buf = vec![0u8; w * h * 3];
    let matrix = crate::render::yuv::Matrix::for_height(b.size.1);
    let mut yuv = vec![
        0u8;
        if b.yuv {
            crate::render::yuv::yuv420p_len(w, h)
        } else {
            0
        }
    ];
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
        if b.yuv {
            let mut out = crate::render::yuv::Yuv420p::new(&mut yuv, w, h, matrix);
            r.render_frame_yuv(i, &mut buf, &mut out);
        } else {
            r.render_frame(i, &mut buf);
        }
        render_ns += tf.elapsed().as_nanos();
        if let Some(f) = raw.as_mut() {
            use std::io::Write;
            let frame = if b.yuv { &yuv[..] } else { &buf[..] };
            f.write_all(frame).expect("cannot write raw frames");
        }
    }
    let wall = t.elapsed().as_secs_f64();
    let after = r.timings();
    let n = b.frames.max(1) as f64;
    let per = |a: u64, b: u64| (a - b) as f64 / 1e6 / n;
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let report = BenchReport {
        scene: &b.scene,
        width: b.size.0,
        height: b.size.1,
        frames: b.frames,
        pix_fmt: if b.yuv { "yuv420p" } else { "rgb24" },
        init_ms: round(init_ms, 1),
        ms_per_frame: round(render_ns as f64 / 1e6 / n, 3),
        fields_ms: round(per(after.fields_ns, before.fields_ns), 3),
        blit_ms: round(per(after.blit_ns, before.blit_ns), 3),
        blend_ms: round(per(after.blend_ns, before.blend_ns), 3),
        shaders_ms: round(per(after.shaders_ns, before.shaders_ns), 3),
        wall_s: round(wall, 3),
        max_rss_mb: round(ru.ru_maxrss as f64 / 1024.0, 1),
    };
    println!("{}", report.json());
    0
}

/// What `farm bench-render` prints: one JSON object, keys in this order (scripts read
/// `"ms_per_frame":N`).
#[derive(Serialize)]
struct BenchReport<'a> {
    scene: &'a str,
    width: u32,
    height: u32,
    frames: u32,
    /// What the frames were delivered as: `rgb24` (the renderer alone) or `yuv420p`.
    pix_fmt: &'static str,
    init_ms: f64,
    ms_per_frame: f64,
    fields_ms: f64,
    blit_ms: f64,
    blend_ms: f64,
    shaders_ms: f64,
    wall_s: f64,
    max_rss_mb: f64,
}

impl BenchReport<'_> {
    /// The report as one line of JSON (serde_json: names are escaped, numbers are numbers).
    fn json(&self) -> String {
        serde_json::to_string(self).expect("a report of finite numbers")
    }
}

/// `x` to `places` decimals (the precision the figures are printed with).
fn round(x: f64, places: i32) -> f64 {
    let k = 10f64.powi(places);
    (x * k).round() / k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_is_json_with_its_keys_in_order() {
        let r = BenchReport {
            scene: "a \"quoted\" name",
            width: 1280,
            height: 720,
            frames: 48,
            pix_fmt: "rgb24",
            init_ms: round(7.04, 1),
            ms_per_frame: round(12.34567, 3),
            fields_ms: 1.0,
            blit_ms: 2.0,
            blend_ms: 3.0,
            shaders_ms: 4.0,
            wall_s: 0.5,
            max_rss_mb: 80.25,
        };
        let text = r.json();
        assert!(
            text.starts_with(r#"{"scene":"a \"quoted\" name","width":1280,"height":720,"frames":48,"pix_fmt":"rgb24","init_ms":7.0,"ms_per_frame":12.346,"#),
            "{text}"
        );
        let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(v["max_rss_mb"], 80.25);
    }
}
