//! Writes frames as PNG files to `$FARM_DUMP_DIR` (default `/tmp/farm-render-dump`) for
//! eyeballing, and prints each file's mean brightness:
//! - `samples`: frame 48 of plasma and quote at 1280x720 and 720x1280;
//! - `scenes`: frame 48 of every built-in scene at 640x360;
//! - `presets`: frame 48 of every preset in `scenes/` at 640x360.
//!
//! `cargo run --release --example dump_frames [-- samples scenes presets]` (default: all).

#[path = "../benches/common/mod.rs"]
mod common;

use common::{frame, mean};
use farm::render::{Renderer, SceneSpec, builtin_scenes};

/// Render frames 0..=48 in order and write the last one to `path`.
fn dump(spec: &SceneSpec, w: u32, h: u32, path: &str) {
    let mut r = Renderer::new(&frame(w, h), spec, 1).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = vec![0u8; r.frame_len()];
    for i in 0..=48 {
        r.render_frame(i, &mut out);
    }
    image::save_buffer(path, &out, w, h, image::ColorType::Rgb8).unwrap();
    println!("{path}: mean {:.1}", mean(&out));
}

fn main() {
    let dir = std::env::var("FARM_DUMP_DIR").unwrap_or_else(|_| "/tmp/farm-render-dump".into());
    std::fs::create_dir_all(&dir).unwrap();
    let mut chosen = common::words();
    if chosen.is_empty() {
        chosen = vec!["samples".into(), "scenes".into(), "presets".into()];
    }
    for what in &chosen {
        match what.as_str() {
            "samples" => {
                for (w, h) in [(1280, 720), (720, 1280)] {
                    for (name, spec) in [common::plasma(), common::quote()] {
                        dump(&spec, w, h, &format!("{dir}/{name}_{w}x{h}.png"));
                    }
                }
            }
            "scenes" => {
                for name in builtin_scenes() {
                    dump(
                        &common::builtin(name),
                        640,
                        360,
                        &format!("{dir}/scene_{name}.png"),
                    );
                }
            }
            "presets" => {
                for (name, spec) in common::presets() {
                    dump(&spec, 640, 360, &format!("{dir}/preset_{name}.png"));
                }
            }
            other => {
                eprintln!("unknown dump '{other}': samples, scenes or presets");
                std::process::exit(2);
            }
        }
    }
}
