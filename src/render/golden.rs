//! Golden and property tests over every preset in `scenes/*.yaml` (resolved by the plan, as a
//! segment using it is) and every built-in scene.
//!
//! Goldens: frames 0, 24 and 47 of a 48-frame clip at 160x90 (seed 7, full shader level), rendered
//! in order, hashed with 64-bit FNV-1a and compared with `tests/golden/render.txt`. Regenerate
//! after an intended change with `FARM_BLESS=1 cargo test --lib golden` (then review and commit the
//! file). Frames depend on float maths, so goldens are exact on one platform and build; another CPU
//! or libm may differ.

use super::*;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const TEXT: &str =
    "The best way to predict the future is to invent it. Everything else is commentary.";

fn shader(name: &str) -> ShaderSpec {
    ShaderSpec {
        name: name.parse().expect("a shader name"),
        params: Params::new(),
    }
}

/// Every preset in `scenes/*.yaml` as (name, spec), resolved by the plan exactly as a segment
/// `{scene: NAME, text: TEXT}` of a plan beside `scenes/` is.
pub fn presets() -> Vec<(String, SceneSpec)> {
    presets_with("")
}

/// [`presets`] with `extra` added to each segment (`, react: false`).
fn presets_with(extra: &str) -> Vec<(String, SceneSpec)> {
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenes"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    for f in files {
        let name = f.file_stem().unwrap().to_string_lossy().to_string();
        let src = format!(
            "output: v.mp4\nsegments:\n  - {{id: a, scene: {name}, duration: 2, text: {TEXT:?}{extra}}}\n"
        );
        let plan = crate::plan::Plan::parse(&src, &root().join("golden-plan.yaml"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push((name, plan.segments[0].scene.clone()));
    }
    out
}

/// Every preset and built-in scene, with the clip length set.
fn all_specs(frames: u32) -> Vec<(String, SceneSpec)> {
    all_specs_with(frames, true)
}

/// [`all_specs`], with every default binding off unless `react` (`react: false`).
fn all_specs_with(frames: u32, react: bool) -> Vec<(String, SceneSpec)> {
    let mut v = presets_with(if react { "" } else { ", react: false" });
    for name in Scene::NAMES {
        let spec = SceneSpec::parse(
            name,
            &Params::new(),
            Some(TEXT.to_string()),
            vec![shader("bloom"), shader("vignette")],
        )
        .unwrap();
        let spec = if react { spec } else { spec.without_defaults() };
        v.push((format!("scene:{name}"), spec));
    }
    for (_, s) in &mut v {
        s.frames = frames;
    }
    v
}

fn frame_spec(w: u32, h: u32) -> FrameSpec {
    FrameSpec {
        width: w,
        height: h,
        fps: 24,
        grid_scale: 1.0,
        shader_level: ShaderLevel::Full,
        particles_max: 1200,
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[test]
fn at_least_twelve_presets_and_all_valid() {
    let p = presets();
    assert!(p.len() >= 12, "{} presets", p.len());
    for (name, spec) in &p {
        let missing = missing_glyphs(spec).unwrap();
        assert!(missing.is_empty(), "{name}: no glyph for {missing:?}");
    }
}

/// Frames 0, 24 and 47 of every case, hashed, one line per case.
fn golden_text(specs: Vec<(String, SceneSpec)>) -> String {
    let frames = [0u32, 24, 47];
    let mut lines = Vec::new();
    for (name, spec) in specs {
        let f = frame_spec(160, 90);
        let mut r = Renderer::new(&f, &spec, 7).unwrap();
        let mut out = vec![0u8; r.frame_len()];
        let mut hashes = Vec::new();
        for i in 0..=47 {
            r.render_frame(i, &mut out);
            if frames.contains(&i) {
                hashes.push(format!("{:016x}", fnv1a(&out)));
            }
        }
        lines.push(format!("{name} {}", hashes.join(" ")));
    }
    lines.join("\n") + "\n"
}

/// Compares `text` with `tests/golden/<file>` (or writes it with `FARM_BLESS=1`).
fn check_golden(text: &str, file: &str) {
    let path = root().join("tests/golden").join(file);
    if std::env::var_os("FARM_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!("tests/golden/{file} missing: run FARM_BLESS=1 cargo test --lib golden")
    });
    let diff: Vec<String> = text
        .lines()
        .zip(want.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("got  {a}\nwant {b}"))
        .collect();
    assert!(
        diff.is_empty() && text.lines().count() == want.lines().count(),
        "golden frames changed (FARM_BLESS=1 cargo test --lib golden regenerates):\n{}",
        diff.join("\n")
    );
}

#[test]
fn golden() {
    check_golden(&golden_text(all_specs(48)), "render.txt");
}

/// With `react: false` every case renders as before bindings existed: `render-static.txt` holds
/// the hashes of the renderer without bindings (the plain-number path is unchanged).
#[test]
fn golden_without_bindings() {
    check_golden(&golden_text(all_specs_with(48, false)), "render-static.txt");
}

#[test]
fn presets_are_bright_at_start_middle_and_end() {
    // 4 seconds at 24 fps; frames 0, 48 and 95 after tonemap and shaders.
    for (name, spec) in all_specs(96) {
        for (w, h) in [(320, 180), (180, 320)] {
            let f = frame_spec(w, h);
            let mut r = Renderer::new(&f, &spec, 3).unwrap();
            let mut out = vec![0u8; r.frame_len()];
            for i in 0..96 {
                r.render_frame(i, &mut out);
                if [0, 48, 95].contains(&i) {
                    let m = out.iter().map(|&v| f64::from(v)).sum::<f64>() / out.len() as f64;
                    assert!(m > 8.0, "{name} {w}x{h} frame {i}: mean {m:.1}");
                    let first = &out[..3];
                    assert!(out.chunks_exact(3).any(|p| p != first), "{name}: flat");
                }
            }
        }
    }
}

#[test]
fn random_params_never_panic() {
    use crate::render::rng::Rng;
    let mut rng = Rng::new(2024);
    let pick = |rng: &mut Rng, xs: &[&str]| xs[rng.below(xs.len() as u32) as usize].to_string();
    for case in 0..40 {
        let mut layer = Params::new();
        layer.insert(
            "field".into(),
            Param::Text(pick(&mut rng, crate::render::fields::FieldKind::NAMES)),
        );
        layer.insert(
            "blend".into(),
            Param::Text(pick(&mut rng, crate::render::blend::BlendMode::NAMES)),
        );
        layer.insert(
            "palette".into(),
            Param::Text(pick(&mut rng, crate::render::palette::PaletteName::NAMES)),
        );
        layer.insert(
            "grid".into(),
            Param::Text(pick(&mut rng, crate::render::grid::GridKey::NAMES)),
        );
        layer.insert("opacity".into(), Param::Num(f64::from(rng.next_f32())));
        layer.insert(
            "scale".into(),
            Param::Num(f64::from(rng.range_f32(0.1, 5.0))),
        );
        let mut uv = Params::new();
        uv.insert(
            "twist".into(),
            Param::Num(f64::from(rng.range_f32(-5.0, 5.0))),
        );
        uv.insert(
            "tile".into(),
            Param::Num(f64::from(rng.range_f32(0.0, 4.0))),
        );
        uv.insert("polar".into(), Param::Bool(rng.below(2) == 1));
        layer.insert("uv".into(), Param::Map(uv));
        let mut mask = Params::new();
        mask.insert(
            "shape".into(),
            Param::Text(pick(&mut rng, crate::render::mask::MaskShape::NAMES)),
        );
        layer.insert("mask".into(), Param::Map(mask));
        let mut ps = Params::new();
        ps.insert(
            "system".into(),
            Param::Text(pick(
                &mut rng,
                crate::render::particles::ParticleSystem::NAMES,
            )),
        );
        let mut fb = Params::new();
        fb.insert(
            "preset".into(),
            Param::Text(pick(&mut rng, crate::render::post::FeedbackPreset::NAMES)),
        );
        let mut tr = Params::new();
        tr.insert(
            "in".into(),
            Param::Text(pick(&mut rng, crate::render::post::Transition::NAMES)),
        );
        // `out: crossfade` is refused (a crossfade is an in-transition only).
        let outs: Vec<&str> = crate::render::post::Transition::NAMES
            .iter()
            .copied()
            .filter(|&n| n != "crossfade")
            .collect();
        tr.insert("out".into(), Param::Text(pick(&mut rng, &outs)));
        let mut params = Params::new();
        params.insert(
            "layers".into(),
            Param::List(vec![Param::Map(layer.clone()), Param::Map(layer)]),
        );
        params.insert("particles".into(), Param::Map(ps));
        params.insert("feedback".into(), Param::Map(fb));
        params.insert("transition".into(), Param::Map(tr));
        params.insert(
            "gamma".into(),
            Param::Num(f64::from(rng.range_f32(0.2, 2.0))),
        );
        let mut spec =
            SceneSpec::parse("layers", &params, Some("héllo 漢字 ｱｲ".into()), Vec::new())
                .unwrap_or_else(|e| panic!("case {case}: {e}"));
        spec.frames = 12;
        let (w, h) = [(64, 36), (17, 400), (300, 20), (2, 2)][case % 4];
        let mut r = Renderer::new(&frame_spec(w, h), &spec, case as u64).unwrap();
        let mut out = vec![0u8; r.frame_len()];
        for i in [0u32, 3, 11, 2] {
            r.render_frame(i, &mut out);
        }
    }
}

#[test]
fn stateful_scenes_are_order_independent() {
    for name in ["particles", "tunnel", "life"] {
        let mut spec = all_specs(48)
            .into_iter()
            .find(|s| s.0 == format!("scene:{name}"))
            .unwrap()
            .1;
        spec.shaders.clear();
        let f = frame_spec(120, 68);
        let mut a = Renderer::new(&f, &spec, 5).unwrap();
        let mut out = vec![0u8; a.frame_len()];
        for i in 0..10 {
            a.render_frame(i, &mut out);
        }
        let mut b = Renderer::new(&f, &spec, 5).unwrap();
        let mut direct = vec![0u8; b.frame_len()];
        b.render_frame(9, &mut direct);
        assert_eq!(out, direct, "{name}: frame 9 in order vs directly");
        b.render_frame(3, &mut direct);
        a.render_frame(3, &mut out);
        assert_eq!(out, direct, "{name}: going back");
    }
}

/// What a chunk (issue 11) relies on: a fresh renderer that starts at frame `first` (a
/// stateful scene replayed by `replay_to`, as the worker does) draws exactly the frames of one
/// renderer that drew every frame from 0, for every preset and built-in scene, with their
/// shaders, default bindings and (synthetic) audio features.
#[test]
fn every_scene_renders_the_same_from_a_chunk_start() {
    let (frames, first) = (14u32, 9u32);
    let last = frames - 2; // the chunk's frames: first..last
    let f = frame_spec(96, 54);
    for (name, spec) in all_specs(frames) {
        let features = || crate::features::ClipFeatures::synthetic(24, 30, u64::from(frames), 48);
        let mut whole = Renderer::with_features(&f, &spec, 11, features()).unwrap();
        // The chunk gets only the rows a chunk carries (`clip::chunks`).
        let full = features();
        let lead = i64::from(full.lead);
        let rows = full.window(-lead, i64::from(last));
        let mut chunk = Renderer::with_features(&f, &spec, 11, rows).unwrap();
        let mut a = vec![0u8; whole.frame_len()];
        let mut b = vec![0u8; chunk.frame_len()];
        for i in 0..first {
            whole.render_frame(i, &mut a);
        }
        let mut ticks = 0;
        chunk.replay_to(first, &mut b, &mut |_, _| {
            ticks += 1;
            true
        });
        assert_eq!(
            ticks,
            if chunk.is_stateful() { first } else { 0 },
            "{name}: ticks"
        );
        for i in first..last {
            whole.render_frame(i, &mut a);
            chunk.render_frame(i, &mut b);
            assert!(
                a == b,
                "{name}: frame {i} of a chunk starting at {first} differs"
            );
        }
    }
}

#[test]
fn validation_names_nested_keys() {
    let key = |params: &Params, text: Option<&str>| {
        SceneSpec::parse("layers", params, text.map(str::to_string), Vec::new())
            .expect_err("should be invalid")
    };
    let mut params = Params::new();
    let mut l0 = Params::new();
    l0.insert("field".into(), Param::Text("plasma".into()));
    let mut l1 = Params::new();
    l1.insert("field".into(), Param::Text("plasmaa".into()));
    params.insert(
        "layers".into(),
        Param::List(vec![Param::Map(l0), Param::Map(l1.clone())]),
    );
    let e = key(&params, Some(TEXT));
    assert_eq!(e.key, "params.layers[1].field");
    assert!(e.message.contains("voronoi"), "{}", e.message);
    let mut color = Params::new();
    color.insert("mode".into(), Param::Text("cmyk".into()));
    l1.insert("field".into(), Param::Text("fbm".into()));
    l1.insert("color".into(), Param::Map(color));
    params.insert("layers".into(), Param::List(vec![Param::Map(l1)]));
    assert_eq!(key(&params, Some(TEXT)).key, "params.layers[0].color.mode");
    params.clear();
    let mut t = Params::new();
    t.insert("mode".into(), Param::Text("ticker".into()));
    params.insert("text".into(), Param::List(vec![Param::Map(t)]));
    assert_eq!(key(&params, None).key, "params.text[0].content");
}

#[test]
fn missing_glyphs_lists_uncovered_characters() {
    let mut spec = SceneSpec::parse(
        "quote",
        &Params::new(),
        Some("ok \u{E001}".into()),
        Vec::new(),
    )
    .unwrap();
    let m = missing_glyphs(&spec).unwrap();
    assert_eq!(m, vec![('\u{E001}', vec!["text".to_string()])]);
    spec.fonts = vec![PathBuf::from("/nonexistent/font.ttf")];
    assert!(missing_glyphs(&spec).unwrap_err().contains("font.ttf"));
}
