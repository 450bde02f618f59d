//! Renderer-level tests: determinism, brightness, validation, and an ignored benchmark.

use super::*;
use std::time::Instant;

fn frame(w: u32, h: u32) -> FrameSpec {
    FrameSpec {
        width: w,
        height: h,
        fps: 24,
        grid_scale: 1.0,
        shader_level: ShaderLevel::Full,
        particles_max: 1200,
    }
}

fn shader(name: &str) -> ShaderSpec {
    ShaderSpec {
        name: name.to_string(),
        params: Params::new(),
    }
}

/// What a segment asks for, before it is parsed (as the plan gives it to [`SceneSpec::parse`]).
#[derive(Debug, Clone)]
struct Ask {
    scene: String,
    params: Params,
    text: Option<String>,
    shaders: Vec<ShaderSpec>,
}

impl Ask {
    fn spec(&self) -> SceneSpec {
        validate(self).unwrap_or_else(|e| panic!("{e}"))
    }
}

fn validate(a: &Ask) -> Result<SceneSpec, SpecError> {
    SceneSpec::parse(&a.scene, &a.params, a.text.clone(), a.shaders.clone())
}

fn plasma() -> Ask {
    Ask {
        scene: "plasma".to_string(),
        params: Params::new(),
        text: None,
        shaders: vec![shader("bloom"), shader("vignette"), shader("grain")],
    }
}

fn quote() -> Ask {
    Ask {
        scene: "quote".to_string(),
        params: Params::new(),
        text: Some(
            "The best way to predict the future is to invent it. Everything else is commentary."
                .to_string(),
        ),
        shaders: vec![shader("bloom"), shader("vignette"), shader("grain")],
    }
}

fn render(f: &FrameSpec, s: &Ask, seed: u64, index: u32) -> Vec<u8> {
    let mut r = Renderer::new(f, &s.spec(), seed).expect("valid spec");
    let mut out = vec![0u8; r.frame_len()];
    r.render_frame(index, &mut out);
    out
}

fn mean(buf: &[u8]) -> f64 {
    buf.iter().map(|&v| f64::from(v)).sum::<f64>() / buf.len() as f64
}

#[test]
fn frames_are_deterministic_and_order_independent() {
    for spec in [plasma(), quote()] {
        let f = frame(160, 90);
        let a = render(&f, &spec, 77, 5);
        let b = render(&f, &spec, 77, 5);
        assert_eq!(a, b, "{}: two fresh renderers", spec.scene);
        let mut r = Renderer::new(&f, &spec.spec(), 77).unwrap();
        let mut out = vec![0xAAu8; r.frame_len()];
        let mut frames = Vec::new();
        for i in 0..6 {
            r.render_frame(i, &mut out);
            frames.push(out.clone());
        }
        assert_eq!(frames[5], a, "{}: in-order frame 5", spec.scene);
        assert_ne!(frames[4], frames[5]);
        // A different seed changes the grain.
        assert_ne!(render(&f, &spec, 78, 5), a);
        let t = r.timings();
        assert_eq!(t.frames, 6);
        assert!(t.total_ns() > 0);
    }
}

#[test]
fn frames_are_bright_and_not_uniform() {
    for (w, h) in [(320, 180), (180, 320)] {
        for spec in [plasma(), quote()] {
            for index in [0, 24, 240] {
                let out = render(&frame(w, h), &spec, 1, index);
                let m = mean(&out);
                assert!(m > 8.0, "{} {w}x{h} frame {index}: mean {m:.1}", spec.scene);
                let first = &out[..3];
                assert!(
                    out.chunks_exact(3).any(|p| p != first),
                    "{} {w}x{h}: uniform",
                    spec.scene
                );
            }
        }
    }
}

#[test]
fn quote_draws_text() {
    // Without a background, a quote still draws its text; and background alone is dimmer than both.
    let mut spec = quote();
    spec.shaders.clear();
    spec.params
        .insert("background".to_string(), Param::Bool(false));
    let out = render(&frame(320, 180), &spec, 1, 0);
    assert!(out.iter().any(|&v| v > 200));
    // Typewriter: frame 0 of a 5-second reveal has nothing, frame 240 everything.
    spec.params.insert("reveal".to_string(), Param::Num(5.0));
    assert!(
        render(&frame(320, 180), &spec, 1, 0)
            .iter()
            .all(|&v| v == 0)
    );
    assert_eq!(render(&frame(320, 180), &spec, 1, 240), out);
}

#[test]
fn tiny_and_odd_frames_do_not_panic() {
    for (w, h) in [(16, 16), (2, 2), (18, 1000), (1000, 18), (162, 94)] {
        for mut spec in [plasma(), quote()] {
            let mut f = frame(w, h);
            f.grid_scale = 2.0;
            spec.params
                .insert("chars_per_line".to_string(), Param::Num(5.0));
            if spec.scene == "plasma" {
                spec.params.clear();
            }
            let out = render(&f, &spec, 3, 7);
            assert_eq!(out.len(), (w * h * 3) as usize);
        }
    }
}

#[test]
fn shader_levels_filter_the_chain() {
    let f = frame(160, 90);
    let mut minimal = f.clone();
    minimal.shader_level = ShaderLevel::Minimal;
    let mut vig_only = plasma();
    vig_only.shaders = vec![shader("vignette")];
    assert_eq!(
        render(&minimal, &plasma(), 1, 3),
        render(&f, &vig_only, 1, 3)
    );
    let mut standard = f.clone();
    standard.shader_level = ShaderLevel::Standard;
    let mut no_grain = plasma();
    no_grain.shaders.pop();
    assert_eq!(
        render(&standard, &plasma(), 1, 3),
        render(&f, &no_grain, 1, 3)
    );
}

fn key_of(spec: &Ask) -> String {
    validate(spec).expect_err("should be invalid").key
}

#[test]
fn validation_reports_the_right_key() {
    assert!(validate(&plasma()).is_ok());
    assert!(validate(&quote()).is_ok());

    let mut s = plasma();
    s.scene = "plasm".to_string();
    let e = validate(&s).unwrap_err();
    assert_eq!(e.key, "scene");
    assert!(
        e.message.contains("plasma") && e.message.contains("quote"),
        "{}",
        e.message
    );

    let mut s = plasma();
    s.params.insert("colour".to_string(), Param::Num(1.0));
    let e = validate(&s).unwrap_err();
    assert_eq!(e.key, "params.colour");
    assert!(e.message.contains("palette2"), "{}", e.message);

    let mut s = plasma();
    s.params.insert("palette".to_string(), Param::Num(1.0));
    assert_eq!(key_of(&s), "params.palette");
    s.params
        .insert("palette".to_string(), Param::Text("nope".to_string()));
    let e = validate(&s).unwrap_err();
    assert_eq!(e.key, "params.palette");
    assert!(e.message.contains("blocks"), "{}", e.message);

    let mut s = plasma();
    s.params
        .insert("hue".to_string(), Param::Text("red".to_string()));
    assert_eq!(key_of(&s), "params.hue");
    s.params.insert("hue".to_string(), Param::Num(1.5));
    assert_eq!(key_of(&s), "params.hue");
    s.params.insert("hue".to_string(), Param::Num(0.5));
    s.params.insert("speed".to_string(), Param::Num(0.0));
    assert_eq!(key_of(&s), "params.speed");
    s.params.insert("speed".to_string(), Param::Num(2.0));
    s.params.insert(
        "grids".to_string(),
        Param::List(vec![Param::Text("md".into()), Param::Text("huge".into())]),
    );
    assert_eq!(key_of(&s), "params.grids");
    s.params.insert(
        "grids".to_string(),
        Param::List(vec![Param::Text("sm".into()), Param::Text("lg".into())]),
    );
    assert!(validate(&s).is_ok());

    let mut s = plasma();
    s.shaders.push(shader("blur"));
    let e = validate(&s).unwrap_err();
    assert_eq!(e.key, "shaders[3]");
    assert!(e.message.contains("vignette"), "{}", e.message);

    let mut s = plasma();
    s.shaders[0]
        .params
        .insert("thr".to_string(), Param::Num(300.0));
    assert_eq!(key_of(&s), "shaders[0].thr");
    s.shaders[0]
        .params
        .insert("thr".to_string(), Param::Num(120.0));
    s.shaders[2]
        .params
        .insert("amount".to_string(), Param::Num(3.0));
    assert_eq!(key_of(&s), "shaders[2].amount");
    s.shaders[2].params.clear();
    s.shaders[2]
        .params
        .insert("amt".to_string(), Param::Num(2.5));
    assert_eq!(key_of(&s), "shaders[2].amt");

    let mut s = quote();
    s.text = None;
    assert_eq!(key_of(&s), "text");
    s.text = Some("  \n ".to_string());
    assert_eq!(key_of(&s), "text");
    let mut s = quote();
    s.params.insert("background".to_string(), Param::Num(1.0));
    assert_eq!(key_of(&s), "params.background");
    s.params
        .insert("background".to_string(), Param::Bool(false));
    s.params
        .insert("chars_per_line".to_string(), Param::Num(2.0));
    assert_eq!(key_of(&s), "params.chars_per_line");

    // Renderer::new checks the shader chain of a spec built by hand.
    let mut s = plasma().spec();
    s.shaders.push(shader("nope"));
    let err = Renderer::new(&frame(160, 90), &s, 0).unwrap_err();
    assert!(err.starts_with("shaders[3]:"), "{err}");
}

/// `cargo test --release -- --ignored --nocapture bench_` prints ms/frame per stage.
#[test]
#[ignore]
fn bench_plasma_full_chain() {
    for (w, h) in [(1280, 720), (1920, 1080), (3840, 2160)] {
        for spec in [plasma(), quote()] {
            let f = frame(w, h);
            let t0 = Instant::now();
            let mut r = Renderer::new(&f, &spec.spec(), 1).unwrap();
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
                "{} {w}x{h}: {wall:.2} ms/frame (init {:.1} ms) fields {:.2} blit {:.2} blend {:.2} shaders {:.2}",
                spec.scene,
                init.as_secs_f64() * 1000.0,
                ms(t.fields_ns, warm.fields_ns),
                ms(t.blit_ns, warm.blit_ns),
                ms(t.blend_ns, warm.blend_ns),
                ms(t.shaders_ns, warm.shaders_ns),
            );
        }
    }
}

/// `cargo test --release -- --ignored --nocapture bench_` prints each shader's own ms/frame.
#[test]
#[ignore]
fn bench_each_shader() {
    for (w, h) in [(1280, 720), (1920, 1080)] {
        for name in ["bloom", "vignette", "grain"] {
            let mut spec = plasma();
            spec.shaders = vec![shader(name)];
            let mut r = Renderer::new(&frame(w, h), &spec.spec(), 1).unwrap();
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

/// Writes sample frames as PNG files to `$FARM_DUMP_DIR` (default `/tmp/farm-render-dump`) for
/// eyeballing: `cargo test --release -- --ignored dump_sample_frames`.
#[test]
#[ignore]
fn dump_sample_frames() {
    let dir = std::env::var("FARM_DUMP_DIR").unwrap_or_else(|_| "/tmp/farm-render-dump".into());
    std::fs::create_dir_all(&dir).unwrap();
    for (w, h) in [(1280, 720), (720, 1280)] {
        for spec in [plasma(), quote()] {
            let out = render(&frame(w, h), &spec, 1, 48);
            let path = format!("{dir}/{}_{w}x{h}.png", spec.scene);
            image::save_buffer(&path, &out, w, h, image::ColorType::Rgb8).unwrap();
            println!("{path}: mean {:.1}", mean(&out));
        }
    }
}

fn scene(name: &str) -> SceneSpec {
    let mut s = Ask {
        scene: name.to_string(),
        params: Params::new(),
        text: Some("Every frame is a field of characters; every character a choice.".to_string()),
        shaders: vec![shader("bloom"), shader("vignette")],
    }
    .spec();
    s.frames = 96;
    s
}

/// Writes a frame of every built-in scene as PNG to `$FARM_DUMP_DIR` (default
/// `/tmp/farm-render-dump`): `cargo test --release -- --ignored dump_builtin_scenes`.
#[test]
#[ignore]
fn dump_builtin_scenes() {
    let dir = std::env::var("FARM_DUMP_DIR").unwrap_or_else(|_| "/tmp/farm-render-dump".into());
    std::fs::create_dir_all(&dir).unwrap();
    let (w, h) = (640, 360);
    for name in builtin_scenes() {
        let spec = scene(name);
        let mut r = Renderer::new(&frame(w, h), &spec, 1).unwrap();
        let mut out = vec![0u8; r.frame_len()];
        for i in 0..=48 {
            r.render_frame(i, &mut out);
        }
        let path = format!("{dir}/scene_{name}.png");
        image::save_buffer(&path, &out, w, h, image::ColorType::Rgb8).unwrap();
        println!("{path}: mean {:.1}", mean(&out));
    }
}

/// Writes frame 48 of every preset as PNG to `$FARM_DUMP_DIR` (default `/tmp/farm-render-dump`):
/// `cargo test --release -- --ignored dump_presets`.
#[test]
#[ignore]
fn dump_presets() {
    let dir = std::env::var("FARM_DUMP_DIR").unwrap_or_else(|_| "/tmp/farm-render-dump".into());
    std::fs::create_dir_all(&dir).unwrap();
    let (w, h) = (640, 360);
    for (name, spec) in super::golden::presets() {
        let mut r = Renderer::new(&frame(w, h), &spec, 1).unwrap();
        let mut out = vec![0u8; r.frame_len()];
        for i in 0..=48 {
            r.render_frame(i, &mut out);
        }
        let path = format!("{dir}/preset_{name}.png");
        image::save_buffer(&path, &out, w, h, image::ColorType::Rgb8).unwrap();
        println!("{path}: mean {:.1}", mean(&out));
    }
}

/// ms/frame of every preset and built-in scene at 1280x720 and 1920x1080 on this thread, with the
/// per-stage breakdown: `bash scripts/bench-presets.sh` (or `cargo test --release --lib --
/// --ignored --nocapture --test-threads=1 bench_presets`).
#[test]
#[ignore]
fn bench_presets() {
    let mut specs = super::golden::presets();
    for name in builtin_scenes() {
        specs.push((format!("scene:{name}"), scene(name)));
    }
    println!("| preset | size | ms/frame | fields | blit | blend+post | shaders | init ms |");
    println!("|---|---|---|---|---|---|---|---|");
    for (name, mut spec) in specs {
        spec.frames = 0;
        for (w, h) in [(1280, 720), (1920, 1080)] {
            let f = frame(w, h);
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

/// `scripts/module-cycles.py` finds no module under `render` that imports another which imports
/// it back (there was one: mask -> params -> text -> scenes::quote -> params).
#[test]
fn render_has_no_import_cycles() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = match std::process::Command::new("python3")
        .arg(root.join("scripts/module-cycles.py"))
        .args(["--under", "render"])
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            eprintln!("skipped: python3 is not available ({e})");
            return;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("no import cycles"), "{text}");
}
