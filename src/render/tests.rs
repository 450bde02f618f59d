//! Renderer-level tests: determinism, brightness, validation, and an ignored benchmark.

use super::*;

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
        name: name.parse().expect("a shader name"),
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

    // An unknown shader name is refused by the plan (plan::tests), never reaches a spec.
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

    // Renderer::new checks the shader chain of a spec built by hand (an unknown name cannot
    // be built: the plan parses names into `Shader`).
    let mut s = plasma().spec();
    let mut bad = shader("levels");
    bad.params.insert("black".into(), Param::Num(200.0));
    bad.params.insert("white".into(), Param::Num(100.0));
    s.shaders.push(bad);
    let err = Renderer::new(&frame(160, 90), &s, 0).unwrap_err();
    assert!(err.starts_with("shaders[3].white:"), "{err}");
}

/// A segment that replaces a built-in scene's `layers:` keeps its own layers while a default
/// binding (here the hue drift) is still in effect: the renderer re-reads the configuration
/// from the segment's params, not from the built-in configuration alone.
#[test]
fn own_layers_survive_a_remaining_default_binding() {
    let ask = |scale: f64| {
        let mut layer = Params::new();
        layer.insert("field".into(), Param::Text("plasma".into()));
        layer.insert("scale".into(), Param::Num(scale));
        let mut params = Params::new();
        params.insert("layers".into(), Param::List(vec![Param::Map(layer)]));
        Ask {
            scene: "layers".to_string(),
            params,
            text: None,
            shaders: Vec::new(),
        }
    };
    let (a, b) = (ask(0.5), ask(3.0));
    assert!(a.spec().is_reactive(), "the hue drift stays bound");
    let f = frame(160, 90);
    assert_ne!(
        render(&f, &a, 1, 3),
        render(&f, &b, 1, 3),
        "the layer's own scale is drawn"
    );
}

/// The worker's path (the yuv conversion fused into the chain) gives the frame
/// `render_frame` gives and its plain conversion, at sizes that do and do not fill the bands.
#[test]
fn the_fused_conversion_equals_render_then_convert() {
    use crate::render::yuv::{Matrix, Yuv420p, rgb_to_yuv420p, yuv420p_len};
    for ask in [plasma(), quote()] {
        for (w, h) in [(160, 96), (161, 97), (64, 720)] {
            let f = frame(w, h);
            let (wu, hu) = (w as usize, h as usize);
            let mut a = Renderer::new(&f, &ask.spec(), 3).expect("renderer");
            let mut b = Renderer::new(&f, &ask.spec(), 3).expect("renderer");
            for index in [0, 1, 7] {
                let mut rgb = vec![0; a.frame_len()];
                a.render_frame(index, &mut rgb);
                let mut want = vec![0; yuv420p_len(wu, hu)];
                rgb_to_yuv420p(&rgb, wu, hu, Matrix::for_height(h), &mut want);
                let mut rgb2 = vec![0; b.frame_len()];
                let mut got = vec![0; yuv420p_len(wu, hu)];
                let mut yuv = Yuv420p::new(&mut got, wu, hu, Matrix::for_height(h));
                b.render_frame_yuv(index, &mut rgb2, &mut yuv);
                assert!(rgb2 == rgb, "{} {w}x{h} frame {index}: rgb", ask.scene);
                assert!(got == want, "{} {w}x{h} frame {index}: yuv", ask.scene);
            }
        }
    }
}
