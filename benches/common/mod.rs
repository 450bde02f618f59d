//! What the benchmarks (`benches/`) and the frame dumps (`examples/`) share: frame specs, the
//! scenes they time, and the presets of `scenes/*.yaml` resolved by the plan as a segment is.
//! Only the library's public API.

#![allow(dead_code)] // each target uses its own part

use farm::render::{FrameSpec, Params, SceneSpec, ShaderLevel, ShaderSpec};
use std::path::PathBuf;

/// The repository (where `scenes/` is).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A `w` x `h` frame at 24 fps, grid scale 1, full shaders, 1200 particles.
pub fn frame(w: u32, h: u32) -> FrameSpec {
    FrameSpec {
        width: w,
        height: h,
        fps: 24,
        grid_scale: 1.0,
        shader_level: ShaderLevel::Full,
        particles_max: 1200,
    }
}

/// A shader with its default parameters.
pub fn shader(name: &str) -> ShaderSpec {
    ShaderSpec {
        name: name.parse().expect("a shader name"),
        params: Params::new(),
    }
}

/// The reference guide's chain: bloom, vignette, grain.
pub fn seed_chain() -> Vec<ShaderSpec> {
    vec![shader("bloom"), shader("vignette"), shader("grain")]
}

/// A built-in scene with `text` and `shaders`.
pub fn scene_with(name: &str, text: Option<&str>, shaders: Vec<ShaderSpec>) -> SceneSpec {
    SceneSpec::parse(name, &Params::new(), text.map(str::to_string), shaders)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The quote scene's text in the benchmarks.
pub const QUOTE: &str =
    "The best way to predict the future is to invent it. Everything else is commentary.";

/// `plasma` with the reference guide's chain.
pub fn plasma() -> (String, SceneSpec) {
    ("plasma".into(), scene_with("plasma", None, seed_chain()))
}

/// `quote` with the reference guide's chain.
pub fn quote() -> (String, SceneSpec) {
    (
        "quote".into(),
        scene_with("quote", Some(QUOTE), seed_chain()),
    )
}

/// A built-in scene as the scene dump and the preset table draw it: a line of text, bloom and
/// vignette, a 96-frame clip.
pub fn builtin(name: &str) -> SceneSpec {
    let mut s = scene_with(
        name,
        Some("Every frame is a field of characters; every character a choice."),
        vec![shader("bloom"), shader("vignette")],
    );
    s.frames = 96;
    s
}

/// Every preset in `scenes/*.yaml` as (name, spec), resolved by the plan exactly as a segment
/// `{scene: NAME, text: QUOTE}` of a plan beside `scenes/` is.
pub fn presets() -> Vec<(String, SceneSpec)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenes"))
        .expect("the scenes/ folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let name = f.file_stem().unwrap().to_string_lossy().to_string();
            let src = format!(
                "output: v.mp4\nsegments:\n  - {{id: a, scene: {name}, duration: 2, text: {QUOTE:?}}}\n"
            );
            let plan = farm::plan::Plan::parse(&src, &root().join("bench-plan.yaml"))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, plan.segments[0].scene.clone())
        })
        .collect()
}

/// Mean byte value of a frame.
pub fn mean(buf: &[u8]) -> f64 {
    buf.iter().map(|&v| f64::from(v)).sum::<f64>() / buf.len() as f64
}

/// The words given on the command line that are not flags (`cargo bench` adds `--bench`).
pub fn words() -> Vec<String> {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect()
}
