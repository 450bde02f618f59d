//! Bound parameters in frames, family by family: every numeric parameter of every scene, layer,
//! primitive and shader compiles into the renderer; a bound frame is the frame of the same scene
//! with the bound value written in as a number; values depend on the global frame only; bad
//! bindings are refused where they are written.

use crate::features::{ClipFeatures, Feature, Source};
use crate::plan::Plan;
use crate::render::frame::{FrameSpec, ShaderLevel};
use crate::render::params::{Kind, Param, ParamSpec, Params, setter_problems};
use crate::render::renderer::Renderer;
use crate::render::scenes::Scene;
use crate::render::spec::SceneSpec;

fn frame() -> FrameSpec {
    FrameSpec {
        width: 320,
        height: 180,
        fps: 24,
        grid_scale: 1.0,
        shader_level: ShaderLevel::Full,
        particles_max: 300,
    }
}

/// The scene of a one-segment plan `{scene: SCENE, params: PARAMS, shaders: SHADERS}` (flow
/// YAML), with a text.
fn plan_spec(scene: &str, params: &str, shaders: &str) -> SceneSpec {
    let src = plan_src(scene, params, shaders);
    let dir = tempfile::tempdir().unwrap();
    let plan = Plan::parse(&src, &dir.path().join("plan.yaml")).unwrap_or_else(|e| panic!("{e}"));
    SceneSpec {
        frames: 48,
        ..plan.segments[0].scene.clone()
    }
}

fn plan_src(scene: &str, params: &str, shaders: &str) -> String {
    format!(
        "output: v.mp4\nsegments:\n  - id: a\n    scene: {scene}\n    duration: 2\n    text: \"Music in, motion out: every number follows the sound\"\n    params: {params}\n    shaders: {shaders}\n"
    )
}

/// `rms` at global frame `g` of the test track: quiet (0) for ten frames, loud (1) for ten.
fn square(g: u64) -> f32 {
    if (g / 10) % 2 == 1 { 1.0 } else { 0.0 }
}

/// A clip of the test track starting at global frame `start`, `frames` long, with the history
/// a clip carries.
fn track(start: u64, frames: u64, level: impl Fn(u64) -> f32) -> ClipFeatures {
    let lead = crate::render::bind::LEAD.min(start as u32);
    let first = start - u64::from(lead);
    let rows = frames + u64::from(lead);
    let mut values = vec![0.0; rows as usize * Feature::COUNT];
    for r in 0..rows {
        values[r as usize * Feature::COUNT + Feature::Rms.index()] = level(first + r);
    }
    ClipFeatures {
        skip: 0,
        source: Source::Track,
        fps: 24,
        start,
        lead,
        rows: rows as u32,
        values,
        spectrum: Vec::new(),
        wave: Vec::new(),
    }
}

/// Frames `at` of `spec` over `features`, rendered in order by one renderer.
fn render(spec: &SceneSpec, features: ClipFeatures, at: &[u32]) -> Vec<Vec<u8>> {
    let mut r = Renderer::with_features(&frame(), spec, 5, features).unwrap();
    let mut out = vec![0u8; r.frame_len()];
    let last = at.iter().copied().max().unwrap_or(0);
    let mut got = Vec::new();
    for i in 0..=last {
        r.render_frame(i, &mut out);
        if at.contains(&i) {
            got.push(out.clone());
        }
    }
    got
}

/// A case of a bindable family: `PARAMS` and `SHADERS` with `X` where the number goes.
struct Case {
    what: &'static str,
    scene: &'static str,
    params: &'static str,
    shaders: &'static str,
    /// The value at silence and at full loudness.
    range: [f64; 2],
    /// Whether the scene carries state from frame to frame (compared on constant tracks).
    stateful: bool,
}

/// One case per family that used to refuse a binding: a plasma scene parameter, a quote scene
/// parameter, feedback, a text layer (a colour and a layout parameter).
const CASES: &[Case] = &[
    Case {
        what: "plasma hue",
        scene: "plasma",
        params: "{hue: X}",
        shaders: "[]",
        range: [0.0, 0.5],
        stateful: false,
    },
    Case {
        what: "plasma speed",
        scene: "plasma",
        params: "{speed: X, opacity: 0.6}",
        shaders: "[]",
        range: [0.5, 3.0],
        stateful: false,
    },
    Case {
        what: "quote saturation",
        scene: "quote",
        params: "{saturation: X}",
        shaders: "[]",
        range: [0.0, 1.0],
        stateful: false,
    },
    Case {
        what: "quote chars_per_line (layout)",
        scene: "quote",
        params: "{chars_per_line: X}",
        shaders: "[]",
        range: [8.0, 40.0],
        stateful: false,
    },
    Case {
        what: "feedback decay",
        scene: "tunnel",
        params: "{feedback: {preset: zoom_tunnel, decay: X}}",
        shaders: "[]",
        range: [0.2, 0.95],
        stateful: true,
    },
    Case {
        what: "feedback amount (pixel maps)",
        scene: "layers",
        params: "{layers: [{field: rings, speed: 0.3}], feedback: {preset: mandala, amount: X}}",
        shaders: "[]",
        range: [0.0, 0.08],
        stateful: true,
    },
    Case {
        what: "text hue",
        scene: "layers",
        params: "{layers: [{field: plasma, opacity: 0.5}], text: [{mode: center, hue: X, saturation: 1}]}",
        shaders: "[]",
        range: [0.0, 0.6],
        stateful: false,
    },
    Case {
        what: "text rows (layout)",
        scene: "ticker",
        params: "{text: [{mode: ticker, rows: X}]}",
        shaders: "[]",
        range: [1.0, 4.0],
        stateful: false,
    },
    Case {
        what: "text opacity",
        scene: "layers",
        params: "{layers: [{field: rings}], text: [{mode: center, opacity: X}]}",
        shaders: "[]",
        range: [0.2, 1.0],
        stateful: false,
    },
    Case {
        what: "bloom threshold",
        scene: "plasma",
        params: "{}",
        shaders: "[{bloom: {thr: X}}]",
        range: [250.0, 20.0],
        stateful: false,
    },
];

impl Case {
    fn bound(&self) -> SceneSpec {
        let b = format!(
            "{{from: rms, range: [{:?}, {:?}]}}",
            self.range[0], self.range[1]
        );
        plan_spec(
            self.scene,
            &self.params.replace('X', &b),
            &self.shaders.replace('X', &b),
        )
    }

    fn plain(&self, v: f64) -> SceneSpec {
        let v = format!("{v:?}");
        plan_spec(
            self.scene,
            &self.params.replace('X', &v),
            &self.shaders.replace('X', &v),
        )
        .without_defaults()
    }

    /// The bound scene without the scene's default bindings (so that only this binding moves).
    fn bound_alone(&self) -> SceneSpec {
        self.bound().without_defaults()
    }
}

#[test]
fn a_bound_value_validates_and_the_frame_is_the_frame_with_the_value_written_in() {
    for c in CASES {
        let bound = c.bound_alone();
        assert!(
            bound.bindings().iter().any(|b| !b.default),
            "{}: not bound: {:?}",
            c.what,
            bound.bindings()
        );
        let (quiet, loud) = (c.plain(c.range[0]), c.plain(c.range[1]));
        if c.stateful {
            // State carries over frames: constant tracks, frame 6 of each.
            let at = [6];
            let bq = render(&bound, track(0, 12, |_| 0.0), &at);
            let bl = render(&bound, track(0, 12, |_| 1.0), &at);
            let pq = render(&quiet, track(0, 12, |_| 0.0), &at);
            let pl = render(&loud, track(0, 12, |_| 0.0), &at);
            assert_eq!(bq, pq, "{}: quiet", c.what);
            assert_eq!(bl, pl, "{}: loud", c.what);
            assert_ne!(bq, bl, "{}: quiet and loud frames are alike", c.what);
        } else {
            // Frame 5 is quiet, 15 loud, 25 quiet again (the value goes back).
            let at = [5, 15, 25];
            let b = render(&bound, track(0, 30, square), &at);
            let pq = render(&quiet, track(0, 30, square), &[5, 25]);
            let pl = render(&loud, track(0, 30, square), &[15]);
            assert_eq!(b[0], pq[0], "{}: quiet frame", c.what);
            assert_eq!(b[1], pl[0], "{}: loud frame", c.what);
            assert_eq!(b[2], pq[1], "{}: quiet again", c.what);
            assert_ne!(b[0], b[1], "{}: quiet and loud frames are alike", c.what);
        }
    }
}

#[test]
fn bound_frames_do_not_depend_on_where_the_clip_starts() {
    // Two clips of the same scene at global frames 40 and 80 of a track that repeats every 20
    // frames: each local frame sees the same feature history, so the frames are the same bytes
    // (a smoothed binding reads its whole window in both).
    for c in CASES {
        let b = format!(
            "{{from: rms, range: [{:?}, {:?}], smooth: 0.6}}",
            c.range[0], c.range[1]
        );
        let spec = plan_spec(
            c.scene,
            &c.params.replace('X', &b),
            &c.shaders.replace('X', &b),
        );
        let at = [0, 7, 13, 19];
        let a = render(&spec, track(40, 20, square), &at);
        let z = render(&spec, track(80, 20, square), &at);
        assert_eq!(a, z, "{}", c.what);
    }
    // A still scene (no time in it but the binding): global frame g is the same bytes whichever
    // clip renders it.
    for (scene, params) in [
        ("quote", "{background: false, hue: X}"),
        (
            "layers",
            "{layers: [], text: [{mode: center, hue: X, saturation: 1}]}",
        ),
    ] {
        let b = "{from: rms, range: [0, 0.7], smooth: 0.5}";
        let spec = plan_spec(scene, &params.replace('X', b), "[]").without_defaults();
        let level = |g: u64| ((g * 7 % 13) as f32) / 12.0;
        let whole = render(&spec, track(0, 120, level), &[100, 110]);
        let part = render(&spec, track(90, 30, level), &[10, 20]);
        assert_eq!(whole, part, "{scene}");
    }
}

#[test]
fn bad_bindings_of_the_new_families_are_refused_at_their_key_and_position() {
    for (scene, params, key, line) in [
        (
            "plasma",
            "{hue: {from: bas, range: [0, 1]}}",
            "segments[0].params.hue.from",
            "unknown feature",
        ),
        (
            "quote",
            "{reveal: {from: rms, range: [0, 9999]}}",
            "segments[0].params.reveal.range",
            "each end must be",
        ),
        (
            "tunnel",
            "{feedback: {decay: {from: rms, range: [0, 1], smooth: 3}}}",
            "segments[0].params.feedback.decay.smooth",
            "`smooth`",
        ),
        (
            "ticker",
            "{text: [{mode: ticker, rows: {from: rms, range: [1, 4], gain: 2}}]}",
            "segments[0].params.text[0].rows.gain",
            "unknown key \"gain\"",
        ),
    ] {
        let src = plan_src(scene, params, "[]");
        let dir = tempfile::tempdir().unwrap();
        let e = Plan::parse(&src, &dir.path().join("plan.yaml")).unwrap_err();
        let s = e.to_string();
        assert_eq!(e.key, key, "{s}");
        let pos = e.pos.unwrap_or_else(|| panic!("no position: {s}"));
        assert_eq!(pos.line, 7, "{s}");
        assert!(pos.column > 13, "{s}");
        assert!(
            s.contains(&format!("plan.yaml:7:{}: {key}: ", pos.column)),
            "{s}"
        );
        assert!(s.contains(line), "{s}");
    }
}

#[test]
fn setters_read_numbers_as_the_parse_functions_do() {
    use crate::render::color::ColorSpec;
    use crate::render::effects::{FireSpec, RainSpec, param as fx};
    use crate::render::mask::MaskSpec;
    use crate::render::particles::ParticleSpec;
    use crate::render::post::{FeedbackSpec, TransitionSpec, param as post};
    use crate::render::scenes::layers::spec::{LayerSpec, LayersSpec, param as lp};
    use crate::render::scenes::layers::uv::UvSpec;
    use crate::render::scenes::{plasma, quote, scope, spectrum};
    use crate::render::text::TextSpec;
    let mut p = Vec::new();
    p.extend(setter_problems(
        "color",
        crate::render::color::param::TABLE,
        ColorSpec::SETTERS,
        ColorSpec::parse,
    ));
    p.extend(setter_problems(
        "uv",
        crate::render::scenes::layers::uv::param::TABLE,
        UvSpec::SETTERS,
        UvSpec::parse,
    ));
    p.extend(setter_problems(
        "mask",
        crate::render::mask::param::TABLE,
        MaskSpec::SETTERS,
        MaskSpec::parse,
    ));
    p.extend(setter_problems(
        "rain",
        fx::RAIN,
        RainSpec::SETTERS,
        RainSpec::parse,
    ));
    p.extend(setter_problems(
        "fire",
        fx::FIRE,
        FireSpec::SETTERS,
        FireSpec::parse,
    ));
    p.extend(setter_problems(
        "particles",
        crate::render::particles::param::TABLE,
        ParticleSpec::SETTERS,
        ParticleSpec::parse,
    ));
    p.extend(setter_problems(
        "text",
        crate::render::text::param::TABLE,
        TextSpec::SETTERS,
        TextSpec::parse,
    ));
    p.extend(setter_problems(
        "feedback",
        post::FEEDBACK,
        FeedbackSpec::SETTERS,
        FeedbackSpec::parse,
    ));
    p.extend(setter_problems(
        "transition",
        post::TRANSITION,
        TransitionSpec::SETTERS,
        TransitionSpec::parse,
    ));
    p.extend(setter_problems(
        "layer",
        lp::LAYER,
        LayerSpec::SETTERS,
        LayerSpec::parse,
    ));
    p.extend(setter_problems(
        "layers",
        lp::TABLE,
        LayersSpec::SETTERS,
        |q| LayersSpec::parse(q, LayersSpec::empty()),
    ));
    p.extend(setter_problems(
        "plasma",
        plasma::param::TABLE,
        plasma::PlasmaSpec::SETTERS,
        plasma::PlasmaSpec::parse,
    ));
    p.extend(setter_problems(
        "quote",
        quote::param::TABLE,
        quote::QuoteSpec::SETTERS,
        quote::QuoteSpec::parse,
    ));
    p.extend(setter_problems(
        "spectrum",
        spectrum::param::TABLE,
        spectrum::SpectrumSpec::SETTERS,
        spectrum::SpectrumSpec::parse,
    ));
    p.extend(setter_problems(
        "scope",
        scope::param::TABLE,
        scope::ScopeSpec::SETTERS,
        scope::ScopeSpec::parse,
    ));
    assert!(p.is_empty(), "{}", p.join("\n"));
}

/// The two ends of a binding within `spec`'s range (at silence, at full loudness).
fn ends(spec: &ParamSpec) -> [f64; 2] {
    let Kind::Num {
        min,
        max,
        min_exclusive,
        integer,
    } = spec.kind
    else {
        unreachable!()
    };
    let lo = if min_exclusive {
        min + (max - min) * 0.1
    } else {
        min
    };
    let hi = min + (max - min) * 0.5;
    if integer {
        [lo.ceil(), hi.round()]
    } else {
        [lo, hi]
    }
}

/// A binding of `rms` onto [`ends`].
fn binding_for(spec: &ParamSpec) -> Param {
    let [lo, hi] = ends(spec);
    Param::Map(
        [
            ("from".to_string(), Param::Text("rms".into())),
            (
                "range".to_string(),
                Param::List(vec![Param::Num(lo), Param::Num(hi)]),
            ),
        ]
        .into(),
    )
}

/// Every params map that gives exactly one numeric parameter of `table` the value `value`,
/// nested maps and lists included (each nested table reached once, with [`needs`] giving the
/// keys a nested map needs), named by the parameter's path.
fn one_each(
    table: &[ParamSpec],
    fill: &Params,
    value: &dyn Fn(&ParamSpec) -> Param,
) -> Vec<(String, Params)> {
    let mut out = Vec::new();
    for spec in table {
        // `follow` is a layer index a flow system reads, not a quantity; the setter exists but
        // only a flow system accepts it (checked at load), so it is left out here.
        if spec.name == "follow" {
            continue;
        }
        match spec.kind {
            Kind::Num { .. } => {
                let mut p = fill.clone();
                p.insert(spec.name.to_string(), value(spec));
                out.push((spec.name.to_string(), p));
            }
            Kind::Map(t) | Kind::MapList(t) => {
                for (name, inner) in one_each(t, &needs(spec.name), value) {
                    let mut p = fill.clone();
                    let v = match spec.kind {
                        Kind::MapList(_) => Param::List(vec![Param::Map(inner)]),
                        _ => Param::Map(inner),
                    };
                    p.insert(spec.name.to_string(), v);
                    out.push((format!("{}.{name}", spec.name), p));
                }
            }
            _ => {}
        }
    }
    out
}

/// What a nested map needs besides the bound key: a mask a field shape (so that a field mask's
/// numbers are reached), a text layer its content.
fn needs(key: &str) -> Params {
    match key {
        "mask" => [
            ("shape".to_string(), Param::Text("field".into())),
            ("field".to_string(), Param::Text("noise".into())),
        ]
        .into(),
        "text" => [("content".to_string(), Param::Text("hello there".into()))].into(),
        _ => Params::new(),
    }
}

#[test]
fn every_numeric_parameter_of_every_scene_binds_and_draws_as_its_value() {
    // Every numeric parameter of every scene table (the scenes built on `layers` share its
    // table), bound to rms over a track that is quiet, loud, then quiet again, draws the frames
    // of the scene with the binding's value written in as a number (a stateful part, particles
    // or feedback, on a constant loud track).
    let f = FrameSpec {
        width: 120,
        height: 72,
        ..frame()
    };
    let text = Some("hi there, music".to_string());
    let spec = |name: &str, p: &Params| {
        SceneSpec {
            frames: 30,
            ..SceneSpec::parse(name, p, text.clone(), Vec::new())
                .unwrap_or_else(|e| panic!("{name}: {e}"))
        }
        .without_defaults()
    };
    let draw = |s: &SceneSpec, feats: ClipFeatures, at: &[u32]| {
        let mut r = Renderer::with_features(&f, s, 1, feats).unwrap();
        let mut out = vec![0u8; r.frame_len()];
        let mut got = Vec::new();
        for i in 0..=*at.iter().max().unwrap() {
            r.render_frame(i, &mut out);
            if at.contains(&i) {
                got.push(out.clone());
            }
        }
        got
    };
    let mut count = 0;
    for name in Scene::NAMES {
        let scene: Scene = name.parse().unwrap();
        if scene != Scene::Layers && scene.params() == Scene::Layers.params() {
            continue;
        }
        let table = scene.params();
        let bound = one_each(table, &Params::new(), &binding_for);
        let lo = one_each(table, &Params::new(), &|p| Param::Num(ends(p)[0]));
        let hi = one_each(table, &Params::new(), &|p| Param::Num(ends(p)[1]));
        for (((what, b), (_, l)), (_, h)) in bound.iter().zip(&lo).zip(&hi) {
            let (sb, sl, sh) = (spec(name, b), spec(name, l), spec(name, h));
            assert!(
                sb.bindings().iter().any(
                    |x| x.param == *what || x.param.ends_with(what.rsplit('.').next().unwrap())
                ),
                "{name} {what}: {:?}",
                sb.bindings()
            );
            let stateful = what.starts_with("particles") || what.starts_with("feedback");
            if stateful {
                let at = [3];
                let got = draw(&sb, track(0, 4, |_| 1.0), &at);
                assert_eq!(got, draw(&sh, track(0, 4, |_| 1.0), &at), "{name} {what}");
            } else {
                let got = draw(&sb, track(0, 26, square), &[5, 15, 25]);
                let want_lo = draw(&sl, track(0, 26, square), &[5, 25]);
                let want_hi = draw(&sh, track(0, 26, square), &[15]);
                assert_eq!(got[0], want_lo[0], "{name} {what}: quiet");
                assert_eq!(got[1], want_hi[0], "{name} {what}: loud");
                assert_eq!(got[2], want_lo[1], "{name} {what}: quiet again");
            }
            count += 1;
        }
    }
    assert!(count > 100, "{count} parameters");
    eprintln!("{count} scene parameters bound");
    // Every numeric parameter of every shader is bindable.
    for shader in crate::render::shaders::Shader::NAMES {
        let sh: crate::render::shaders::Shader = shader.parse().unwrap();
        for p in crate::render::shaders::params_of(sh) {
            if !matches!(p.kind, Kind::Num { .. }) {
                continue;
            }
            let params: Params = [(p.name.to_string(), binding_for(p))].into();
            let shaders = vec![crate::render::shaders::ShaderSpec { name: sh, params }];
            let s = SceneSpec::parse("plasma", &Params::new(), None, shaders)
                .unwrap_or_else(|e| panic!("{shader}.{}: {e}", p.name));
            assert!(s.is_reactive(), "{shader}.{}", p.name);
        }
    }
}

#[test]
fn a_shader_that_takes_a_value_is_the_shader_built_with_it() {
    // For every numeric parameter of every shader: the shader built with a value, and the
    // shader built with another, run once, then given that value (its own `set`, or built
    // again), draw the same bytes.
    use crate::render::shaders::{Shader, ShaderChain, ShaderSpec, params_of};
    let (w, h) = (40usize, 30usize);
    let src: Vec<u8> = (0..w * h * 3)
        .map(|i| ((i * 37 + i / 7 * 11) % 256) as u8)
        .collect();
    let row = crate::features::SILENT_ROW;
    for name in Shader::NAMES {
        let sh: Shader = name.parse().unwrap();
        for spec in params_of(sh) {
            let Kind::Num {
                min, max, integer, ..
            } = spec.kind
            else {
                continue;
            };
            let pick = |k: f64| {
                let v = min + (max - min) * k;
                if integer { v.round() } else { v }
            };
            for (from, to) in [(0.2, 0.7), (0.9, 0.35)] {
                let with = |v: f64| ShaderSpec {
                    name: sh,
                    params: [(spec.name.to_string(), Param::Num(v))].into(),
                };
                let mut direct = ShaderChain::new(&[with(pick(to))], ShaderLevel::Full, w, h, 3);
                let mut tuned = ShaderChain::new(&[with(pick(from))], ShaderLevel::Full, w, h, 3);
                // A frame first, so that caches made from the first value exist.
                let mut warm = src.clone();
                tuned.apply_with(&mut warm, w, h, 3, 0.25, row);
                let slot = tuned.bind(0, spec.name).expect("a slot");
                tuned.set(&slot, pick(to));
                let (mut a, mut b) = (src.clone(), src.clone());
                direct.apply_with(&mut a, w, h, 4, 0.3, row);
                tuned.apply_with(&mut b, w, h, 4, 0.3, row);
                assert_eq!(a, b, "{name}.{} from {from} to {to}", spec.name);
            }
        }
    }
}

#[test]
fn presets_with_default_bindings_draw_as_their_values_written_in() {
    // A preset's default bindings (the scene's hue drift, the bloom on rms) give the frames of
    // the preset with those values as numbers: at frame 0 for every preset, and at later frames
    // for presets without state.
    use crate::render::scenes::SceneConfig;
    use crate::render::scenes::layers::builtin::default_bindings;
    let f = FrameSpec {
        width: 160,
        height: 90,
        ..frame()
    };
    for (name, spec) in crate::render::golden::presets() {
        let spec = SceneSpec { frames: 48, ..spec };
        // A preset that binds its own params (attractor-dust) is covered by the test above.
        if !spec.react.binds.is_empty() {
            continue;
        }
        let stateless = ["circuit", "typewriter", "stained-glass"].contains(&name.as_str());
        let at: &[u32] = if stateless { &[0, 24, 47] } else { &[0] };
        let mut r = Renderer::new(&f, &spec, 7).unwrap();
        let mut out = vec![0u8; r.frame_len()];
        for &i in at {
            r.render_frame(i, &mut out);
            let cx = r.frame_cx(i);
            let mut plain = spec.clone();
            let defaults = default_bindings(spec.scene);
            for &d in &spec.react.defaults {
                let d = defaults[d];
                let v = d.binding.at(&cx);
                match (&mut plain.config, d.name) {
                    (SceneConfig::Layers(l), "hue") => l.hue = v,
                    _ => panic!(
                        "{name}: a default binding {} this test does not write",
                        d.name
                    ),
                }
            }
            for (pos, b) in &spec.react.shaders {
                let v = b.binding.at(&cx);
                plain.shaders[*pos]
                    .params
                    .insert(b.name.clone(), Param::Num(v));
            }
            assert!(spec.react.binds.is_empty(), "{name}");
            plain.react = Default::default();
            let mut p = Renderer::with_features(&f, &plain, 7, r.features().clone()).unwrap();
            let mut want = vec![0u8; p.frame_len()];
            p.render_frame(i, &mut want);
            assert!(out == want, "{name}: frame {i}");
        }
    }
}
