use super::*;
use crate::features::{ClipFeatures, Feature, Source};
use crate::render::frame::FrameCx;
use crate::render::params::SpecError;
use crate::render::params::{int, num};

fn map(pairs: &[(&str, Param)]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn text(s: &str) -> Param {
    Param::Text(s.into())
}

fn range(a: f64, b: f64) -> Param {
    Param::List(vec![Param::Num(a), Param::Num(b)])
}

fn err(m: &Params, kind: Kind) -> SpecError {
    check_binding(m, kind, "params.layers[0].speed", "scene rings").unwrap_err()
}

/// Features whose `feature` column is `values[g]` at global frame g (others 0), for a clip
/// starting at `start` with `lead` rows of history.
fn clip(feature: Feature, values: &[f32], start: u64, frames: u64, lead: u32) -> ClipFeatures {
    let lead = lead.min(start as u32);
    let first = start - lead as u64;
    let rows = frames + lead as u64;
    let mut v = vec![0.0; rows as usize * Feature::COUNT];
    for r in 0..rows {
        let g = (first + r) as usize;
        v[r as usize * Feature::COUNT + feature.index()] = values.get(g).copied().unwrap_or(0.0);
    }
    ClipFeatures {
        skip: 0,
        source: Source::Track,
        fps: 24,
        start,
        lead,
        rows: rows as u32,
        values: v,
        spectrum: Vec::new(),
        wave: Vec::new(),
    }
}

fn cx(f: &ClipFeatures, index: u32) -> FrameCx<'_> {
    FrameCx {
        index,
        t: index as f64 / 24.0,
        global: f.start + index as u64,
        features: f,
    }
}

fn binding(m: &Params, kind: Kind) -> Binding {
    parse_binding(m, kind, "params.x", "scene rings").unwrap()
}

#[test]
fn parses_a_full_binding() {
    let m = map(&[
        ("from", text("bass")),
        ("range", range(3.0, 12.0)),
        ("curve", text("ease")),
        ("smooth", Param::Num(0.2)),
    ]);
    let b = binding(&m, num(0.0, 20.0));
    assert_eq!(b.from, Feature::Bass);
    assert_eq!(b.range, [3.0, 12.0]);
    assert_eq!(b.curve, Curve::Ease);
    assert_eq!(b.smooth, 0.2);
    assert_eq!(b.on, None);
    // A trigger without `from` reads the beat.
    let t = binding(
        &map(&[("on", text("beat")), ("range", range(0.0, 1.0))]),
        num(0.0, 1.0),
    );
    assert_eq!((t.from, t.on), (Feature::Beat, Some(Trigger::Beat)));
}

#[test]
fn errors_name_the_key_and_the_choices() {
    let k = num(0.0, 20.0);
    let e = err(
        &map(&[("from", text("bas")), ("range", range(1.0, 2.0))]),
        k,
    );
    assert_eq!(e.key, "params.layers[0].speed.from");
    assert!(
        e.message.contains("unknown feature \"bas\""),
        "{}",
        e.message
    );
    assert!(e.message.contains("rms, sub, bass"), "{}", e.message);
    let e = err(
        &map(&[("from", text("bass")), ("range", range(1.0, 30.0))]),
        k,
    );
    assert_eq!(e.key, "params.layers[0].speed.range");
    assert!(e.message.contains("from 0 to 20"), "{}", e.message);
    let e = err(
        &map(&[
            ("from", text("bass")),
            ("range", range(1.0, 2.0)),
            ("smooth", Param::Num(1.5)),
        ]),
        k,
    );
    assert_eq!(e.key, "params.layers[0].speed.smooth");
    let e = err(
        &map(&[
            ("from", text("bass")),
            ("range", range(1.0, 2.0)),
            ("gain", Param::Num(1.0)),
        ]),
        k,
    );
    assert_eq!(e.key, "params.layers[0].speed.gain");
    assert!(
        e.message.contains("from, range, curve, smooth, on"),
        "{}",
        e.message
    );
    let e = err(
        &map(&[
            ("from", text("bass")),
            ("range", range(1.0, 2.0)),
            ("curve", text("cubic")),
        ]),
        k,
    );
    assert_eq!(e.key, "params.layers[0].speed.curve");
    assert!(e.message.contains("linear, ease, exp"), "{}", e.message);
    let e = err(
        &map(&[
            ("from", text("bass")),
            ("range", range(1.0, 2.0)),
            ("on", text("bar")),
        ]),
        k,
    );
    assert_eq!(e.key, "params.layers[0].speed.on");
    let e = err(&map(&[("from", text("bass"))]), k);
    assert_eq!(e.key, "params.layers[0].speed");
    assert!(e.message.contains("needs `range"), "{}", e.message);
    let e = err(&map(&[("range", range(1.0, 2.0))]), k);
    assert!(e.message.contains("needs `from:`"), "{}", e.message);
    // Integer parameters say that bound values round.
    let e = err(
        &map(&[("from", text("bass")), ("range", range(1.0, 99.0))]),
        int(0.0, 12.0),
    );
    assert!(e.message.contains("rounded"), "{}", e.message);
    // Every numeric parameter takes a binding (none is fixed when a clip starts).
    let ok = map(&[("from", text("bass")), ("range", range(0.0, 1.0))]);
    check_binding(&ok, num(0.0, 1.0), "params.hue", "scene plasma").unwrap();
    check_binding(&ok, num(0.0, 1.0), "params.feedback.decay", "scene tunnel").unwrap();
    check_binding(&ok, num(0.0, 1.0), "params.text[0].hue", "scene ticker").unwrap();
}

#[test]
fn curves_and_integers() {
    let m = map(&[("from", text("rms")), ("range", range(2.0, 4.0))]);
    let mut b = binding(&m, num(0.0, 20.0));
    assert_eq!((b.map(0.0), b.map(0.5), b.map(1.0)), (2.0, 3.0, 4.0));
    b.curve = Curve::Ease;
    assert_eq!(b.map(0.5), 3.0);
    assert!(b.map(0.25) < 2.5);
    b.curve = Curve::Exp;
    assert!((b.map(1.0) - 4.0).abs() < 1e-12 && b.map(0.0) == 2.0 && b.map(0.5) < 2.6);
    let i = binding(&m, int(0.0, 20.0));
    assert_eq!(i.map(0.3), 3.0);
    assert_eq!(i.map(0.2), 2.0);
}

#[test]
fn smoothing_and_triggers() {
    // A step from 0 to 1 at frame 10.
    let vals: Vec<f32> = (0..100).map(|g| if g >= 10 { 1.0 } else { 0.0 }).collect();
    let f = clip(Feature::Bass, &vals, 0, 100, 0);
    let m = map(&[
        ("from", text("bass")),
        ("range", range(0.0, 1.0)),
        ("smooth", Param::Num(0.5)),
    ]);
    let b = binding(&m, num(0.0, 1.0));
    assert_eq!(b.at(&cx(&f, 9)), 0.0);
    assert_eq!(b.at(&cx(&f, 10)), 0.5);
    assert_eq!(b.at(&cx(&f, 11)), 0.75);
    // Beats at 0, 12, 24 ...: range[1] on a beat, range[0] otherwise; `smooth` decays a hit.
    let beats: Vec<f32> = (0..100)
        .map(|g| if g % 12 == 0 { 1.0 } else { 0.0 })
        .collect();
    let f = clip(Feature::Beat, &beats, 0, 100, 0);
    let m = map(&[("on", text("beat")), ("range", range(2.0, 6.0))]);
    let t = binding(&m, num(0.0, 10.0));
    assert_eq!((t.at(&cx(&f, 12)), t.at(&cx(&f, 13))), (6.0, 2.0));
    let m = map(&[
        ("on", text("beat")),
        ("range", range(0.0, 1.0)),
        ("smooth", Param::Num(0.5)),
    ]);
    let t = binding(&m, num(0.0, 1.0));
    assert_eq!(
        (t.at(&cx(&f, 24)), t.at(&cx(&f, 25)), t.at(&cx(&f, 26))),
        (1.0, 0.5, 0.25)
    );
}

#[test]
fn smoothed_values_do_not_depend_on_where_a_chunk_starts() {
    let vals: Vec<f32> = (0..400).map(|g| ((g * 37 % 101) as f32) / 100.0).collect();
    let m = map(&[
        ("from", text("flux")),
        ("range", range(0.0, 10.0)),
        ("smooth", Param::Num(0.8)),
    ]);
    let b = binding(&m, num(0.0, 10.0));
    let whole = clip(Feature::Flux, &vals, 0, 400, LEAD);
    for g in [5u64, 40, 63, 64, 100, 333] {
        let part = clip(Feature::Flux, &vals, g - 10.min(g), 20, LEAD);
        let a = b.at(&cx(&whole, g as u32));
        let c = b.at(&cx(&part, (g - part.start) as u32));
        assert_eq!(a, c, "global frame {g}");
        // A chunk starting exactly at g.
        let at = clip(Feature::Flux, &vals, g, 5, LEAD);
        assert_eq!(a, b.at(&cx(&at, 0)), "chunk at {g}");
    }
}

#[test]
fn find_strip_and_path_of() {
    let bound = Param::Map(map(&[("from", text("bass")), ("range", range(0.2, 0.9))]));
    let layer = Param::Map(map(&[("field", text("rings")), ("opacity", bound.clone())]));
    let mut p = map(&[("layers", Param::List(vec![layer])), ("hue", bound)]);
    let table = crate::render::scenes::Scene::Layers.params();
    crate::render::params::validate_params(&p, table, "params", "scene layers").unwrap();
    let found = find(&p, table);
    let names: Vec<&str> = found.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["hue", "layers[0].opacity"]);
    for b in &found {
        assert_eq!(path_of(&b.name), b.path, "{}", b.name);
    }
    assert_eq!(
        path_of("layers[1].mask.union[2].radius"),
        [
            Seg::Key("layers".into()),
            Seg::Index(1),
            Seg::Key("mask".into()),
            Seg::Key("union".into()),
            Seg::Index(2),
            Seg::Key("radius".into()),
        ]
    );
    strip(&mut p, table);
    assert!(find(&p, table).is_empty());
    assert!(!p.contains_key("hue"));
}

fn shader(name: &str, params: Params) -> crate::render::shaders::ShaderSpec {
    crate::render::shaders::ShaderSpec {
        name: name.parse().expect("a shader name"),
        params,
    }
}

#[test]
fn scene_spec_lists_its_bindings() {
    use crate::render::spec::SceneSpec;
    let bound = |from: &str| Param::Map(map(&[("from", text(from)), ("range", range(0.5, 2.0))]));
    let layer = Param::Map(map(&[("field", text("rings")), ("speed", bound("flux"))]));
    let params = map(&[("layers", Param::List(vec![layer]))]);
    let bloom = shader(
        "bloom",
        map(&[(
            "thr",
            Param::Map(map(&[
                ("from", text("rms")),
                ("range", range(150.0, 100.0)),
            ])),
        )]),
    );
    let s = SceneSpec::parse("layers", &params, None, vec![bloom]).unwrap();
    assert!(s.is_reactive());
    let words: Vec<String> = s.bindings().iter().map(|b| b.to_string()).collect();
    // `layers` is given, so the scene's default layer binding is off; its hue drift stays.
    assert_eq!(
        words,
        [
            "layers[0].speed <- flux",
            "hue <- cent (default)",
            "bloom.thr <- rms"
        ]
    );
    let plain = SceneSpec::parse("plasma", &Params::new(), None, Vec::new()).unwrap();
    assert!(!plain.is_reactive() && plain.bindings().is_empty());
    let rings = SceneSpec::parse("rings", &Params::new(), None, Vec::new()).unwrap();
    assert!(rings.is_reactive());
    assert!(!rings.clone().without_defaults().is_reactive());
    // A plan's own value replaces a default binding.
    let hue = map(&[("hue", Param::Num(0.3))]);
    let r = SceneSpec::parse("rings", &hue, None, Vec::new()).unwrap();
    assert!(r.bindings().iter().all(|b| b.param != "hue"));
}

#[test]
fn default_bindings_stay_in_their_parameters_ranges() {
    use crate::render::scenes::Scene;
    for name in Scene::NAMES {
        let scene: Scene = name.parse().unwrap();
        for d in crate::render::scenes::layers::builtin::default_bindings(scene) {
            let mut spec = crate::render::scenes::layers::builtin::config(scene);
            // Every default binding compiles into the built-in configuration (no missing
            // layer) and writes there.
            let slot = crate::render::scenes::layers::tune::compile(&spec, &path_of(d.name))
                .unwrap_or_else(|| panic!("{name}: {} leads nowhere", d.name));
            let before = format!("{spec:?}");
            assert!(slot.write(&mut spec, d.binding.range[1] + 0.0123));
            assert_ne!(
                before,
                format!("{spec:?}"),
                "{name}: {} writes nothing",
                d.name
            );
            assert!(d.binding.range.iter().all(|v| (0.0..=20.0).contains(v)));
        }
    }
}

#[test]
fn bound_frames_follow_the_features_and_shaders_take_them() {
    use crate::render::frame::{FrameSpec, ShaderLevel};
    use crate::render::renderer::Renderer;
    use crate::render::spec::SceneSpec;
    let f = FrameSpec {
        width: 96,
        height: 64,
        fps: 24,
        grid_scale: 1.0,
        shader_level: ShaderLevel::Full,
        particles_max: 200,
    };
    let frame = |spec: &SceneSpec, feats: ClipFeatures, i: u32| {
        let mut r = Renderer::with_features(&f, spec, 3, feats).unwrap();
        let mut out = vec![0u8; r.frame_len()];
        r.render_frame(i, &mut out);
        out
    };
    let quiet = clip(Feature::Rms, &[0.0; 48], 0, 48, 0);
    let loud = clip(Feature::Rms, &[1.0; 48], 0, 48, 0);
    let opacity = Param::Map(map(&[("from", text("rms")), ("range", range(0.0, 1.0))]));
    let layer = Param::Map(map(&[("field", text("rings")), ("opacity", opacity)]));
    let params = map(&[
        ("layers", Param::List(vec![layer])),
        ("hue", Param::Num(0.2)),
    ]);
    let s = SceneSpec::parse("layers", &params, None, Vec::new()).unwrap();
    assert_ne!(frame(&s, quiet.clone(), 5), frame(&s, loud.clone(), 5));
    // At silence the binding gives range[0] = 0: the same frame as opacity 0.
    let zero = Param::Map(map(&[
        ("field", text("rings")),
        ("opacity", Param::Num(0.0)),
    ]));
    let p0 = map(&[
        ("layers", Param::List(vec![zero])),
        ("hue", Param::Num(0.2)),
    ]);
    let s0 = SceneSpec::parse("layers", &p0, None, Vec::new()).unwrap();
    assert_eq!(frame(&s, quiet.clone(), 5), frame(&s0, quiet.clone(), 5));
    // A bound shader parameter: loud lowers the bloom threshold.
    let bloom = |thr: Param| vec![shader("bloom", map(&[("thr", thr)]))];
    let thr = Param::Map(map(&[("from", text("rms")), ("range", range(250.0, 20.0))]));
    let sb = SceneSpec::parse("plasma", &Params::new(), None, bloom(thr)).unwrap();
    let s250 = SceneSpec::parse("plasma", &Params::new(), None, bloom(Param::Num(250.0))).unwrap();
    let s20 = SceneSpec::parse("plasma", &Params::new(), None, bloom(Param::Num(20.0))).unwrap();
    assert_eq!(frame(&sb, quiet.clone(), 3), frame(&s250, quiet, 3));
    assert_eq!(frame(&sb, loud.clone(), 3), frame(&s20, loud, 3));
}
