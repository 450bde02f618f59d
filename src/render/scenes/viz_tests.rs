//! Unit tests of the visualizer scenes (`spectrum`, `scope`), the `glitch_hit` preset use, and
//! the attractor and trail scenes and presets (`attractor`, `attractor-dust`, `flow-trails`).

use crate::features::ClipFeatures;
use crate::render::frame::{FrameSpec, ShaderLevel};
use crate::render::params::{Param, Params};
use crate::render::renderer::Renderer;
use crate::render::scenes::spectrum::{PEAK_HISTORY, peaks};
use crate::render::spec::SceneSpec;

fn frame(w: u32, h: u32) -> FrameSpec {
    FrameSpec {
        width: w,
        height: h,
        fps: 24,
        grid_scale: 1.0,
        shader_level: ShaderLevel::Full,
        particles_max: 500,
    }
}

fn spec(scene: &str, kv: &[(&str, Param)]) -> SceneSpec {
    let p: Params = kv.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    SceneSpec::parse(scene, &p, None, Vec::new()).unwrap()
}

fn cases() -> Vec<SceneSpec> {
    let w = |s: &str| Param::Text(s.into());
    vec![
        spec("spectrum", &[]),
        spec("spectrum", &[("mode", w("mirrored"))]),
        spec(
            "spectrum",
            &[("mode", w("radial")), ("fall", Param::Num(0.0))],
        ),
        spec("scope", &[]),
        spec("scope", &[("style", w("line"))]),
        spec("scope", &[("style", w("filled"))]),
        spec("scope", &[("persistence", Param::Num(0.7))]),
    ]
}

fn render(s: &SceneSpec, f: &FrameSpec, feats: ClipFeatures, idx: &[u32]) -> Vec<Vec<u8>> {
    let mut r = Renderer::with_features(f, s, 5, feats).unwrap();
    let mut out = vec![0u8; r.frame_len()];
    idx.iter()
        .map(|&i| {
            r.render_frame(i, &mut out);
            out.clone()
        })
        .collect()
}

#[test]
fn every_visualizer_renders_at_odd_sizes_and_is_deterministic() {
    for s in cases() {
        assert!(s.is_reactive(), "{:?}", s.scene);
        for (w, h) in [(2, 2), (3, 5), (17, 9), (161, 91), (90, 161)] {
            let f = frame(w, h);
            let feats = ClipFeatures::synthetic(24, 0, 30, 0);
            let a = render(&s, &f, feats.clone(), &[0, 7, 29, 3]);
            let b = render(&s, &f, feats, &[0, 7, 29, 3]);
            assert_eq!(a, b, "{:?} {w}x{h}: same inputs, same bytes", s.config);
            assert!(a.iter().all(|x| x.len() == (w * h * 3) as usize));
        }
        // At a real size it draws something and moves with the features.
        let f = frame(320, 180);
        let out = render(&s, &f, ClipFeatures::synthetic(24, 0, 30, 0), &[0, 13]);
        let mean = |v: &[u8]| v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64;
        assert!(
            mean(&out[0]) > 8.0,
            "{:?}: mean {}",
            s.config,
            mean(&out[0])
        );
        assert_ne!(out[0], out[1], "{:?} does not move", s.config);
    }
}

#[test]
fn silence_still_draws_the_backdrop() {
    for s in cases() {
        let out = render(&s, &frame(160, 90), ClipFeatures::none(24, 0), &[0]);
        assert!(out[0].iter().any(|&v| v > 0), "{:?} is black", s.config);
    }
}

#[test]
fn peaks_fall_back_and_never_depend_on_the_chunking() {
    let whole = ClipFeatures::synthetic(24, 0, 200, 0);
    let lead = PEAK_HISTORY;
    let chunk = ClipFeatures::synthetic(24, 100, 50, lead);
    for i in 0..50i64 {
        assert_eq!(
            peaks(&chunk, i, 0.02),
            peaks(&whole, 100 + i, 0.02),
            "frame {i}"
        );
    }
    // A peak is at least its bar and falls at most `fall` per frame.
    for g in 1..200i64 {
        let (p, q) = (peaks(&whole, g, 0.02), peaks(&whole, g - 1, 0.02));
        for b in 0..crate::features::SPECTRUM_BINS {
            assert!(p[b] >= whole.row(g).spectrum[b]);
            assert!(p[b] >= q[b] - 0.02 - 1e-6);
        }
    }
    // Whole frames too: frame 100 + i of one clip is frame i of a clip starting there.
    for s in cases() {
        let f = frame(160, 90);
        let a = render(&s, &f, whole.clone(), &[100, 120, 149]);
        let b = render(&s, &f, chunk.clone(), &[0, 20, 49]);
        assert_eq!(a, b, "{:?}", s.config);
    }
}

#[test]
fn bad_params_name_the_choices() {
    let e = SceneSpec::parse(
        "spectrum",
        &[("mode".to_string(), Param::Text("pie".into()))].into(),
        None,
        Vec::new(),
    )
    .unwrap_err();
    assert_eq!(e.key, "params.mode");
    assert!(e.message.contains("radial"), "{}", e.message);
    let e = SceneSpec::parse(
        "scope",
        &[("persistence".to_string(), Param::Num(2.0))].into(),
        None,
        Vec::new(),
    )
    .unwrap_err();
    assert_eq!(e.key, "params.persistence");
}

/// The attractor scene and the attractor and trail presets (with the profile's particle cap).
fn fx_cases() -> Vec<(String, SceneSpec)> {
    let mut v: Vec<(String, SceneSpec)> = crate::render::golden::presets()
        .into_iter()
        .filter(|(n, _)| n == "attractor-dust" || n == "flow-trails")
        .collect();
    v.push(("scene:attractor".into(), spec("attractor", &[])));
    assert_eq!(v.len(), 3);
    v
}

#[test]
fn attractor_and_trail_frames_never_depend_on_the_frames_rendered_before() {
    let f = frame(192, 108);
    // A clip starting at video frame 100, with the history its bindings read.
    let feats = ClipFeatures::synthetic(24, 100, 60, crate::render::bind::LEAD);
    for (name, s) in fx_cases() {
        assert!(s.is_reactive(), "{name}");
        let in_order = render(&s, &f, feats.clone(), &(0..=40).collect::<Vec<_>>());
        let direct = render(&s, &f, feats.clone(), &[40, 12, 40]);
        assert_eq!(
            in_order[40], direct[0],
            "{name}: frame 40 in order vs directly"
        );
        assert_eq!(in_order[12], direct[1], "{name}: going back to 12");
        assert_eq!(in_order[40], direct[2], "{name}: forward again");
        assert_ne!(in_order[39], in_order[40], "{name} does not move");
    }
}

#[test]
fn attractor_and_trail_scenes_react_to_the_music() {
    let f = frame(192, 108);
    for (name, s) in fx_cases() {
        let quiet = render(&s, &f, ClipFeatures::none(24, 0), &[20]);
        let music = render(&s, &f, ClipFeatures::synthetic(24, 0, 30, 0), &[20]);
        assert_ne!(
            quiet, music,
            "{name}: the same frame in silence and with music"
        );
        let mean = |v: &[u8]| v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64;
        assert!(
            mean(&quiet[0]) > 8.0,
            "{name}: dark in silence: {}",
            mean(&quiet[0])
        );
    }
}

#[test]
fn attractor_and_trail_params_are_checked_with_their_keys() {
    let layers = |kv: &[(&str, Param)]| {
        let mut l: Params = kv.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        l.entry("field".into())
            .or_insert(Param::Text("attractor".into()));
        Param::List(vec![Param::Map(l)])
    };
    let err = |p: Params| SceneSpec::parse("layers", &p, None, Vec::new()).unwrap_err();
    let e = err([(
        "layers".to_string(),
        layers(&[("attractor", Param::Text("lorenz".into()))]),
    )]
    .into());
    assert_eq!(e.key, "params.layers[0].attractor");
    assert!(
        e.message.contains("de_jong") && e.message.contains("bedhead"),
        "{}",
        e.message
    );
    let e = err([("layers".to_string(), layers(&[("jolt", Param::Num(2.0))]))].into());
    assert_eq!(e.key, "params.layers[0].jolt");
    let ps = |kv: &[(&str, Param)]| {
        let m: Params = kv.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        let mut p = Params::new();
        p.insert("layers".into(), layers(&[]));
        p.insert("particles".into(), Param::List(vec![Param::Map(m)]));
        p
    };
    let flow = ("system", Param::Text("flow".into()));
    let e = err(ps(&[flow.clone(), ("trail", Param::Num(33.0))]));
    assert_eq!(e.key, "params.particles[0].trail");
    let e = err(ps(&[flow.clone(), ("trail", Param::Num(2.5))]));
    assert_eq!(e.key, "params.particles[0].trail");
    let e = err(ps(&[flow.clone(), ("fade", Param::Num(1.5))]));
    assert_eq!(e.key, "params.particles[0].fade");
    let e = err(ps(&[
        flow.clone(),
        ("trail_chars", Param::Text("sparkles".into())),
    ]));
    assert_eq!(e.key, "params.particles[0].trail_chars");
    let e = err(ps(&[flow.clone(), ("follow", Param::Num(1.0))]));
    assert_eq!(e.key, "params.particles[0].follow");
    assert!(e.message.contains("no layer 1"), "{}", e.message);
    let e = err(ps(&[
        ("system", Param::Text("boids".into())),
        ("follow", Param::Num(0.0)),
    ]));
    assert_eq!(e.key, "params.particles[0].follow");
    assert!(e.message.contains("only the flow system"), "{}", e.message);
    // Bound, they validate.
    let bound = Param::Map(
        [
            ("from".to_string(), Param::Text("bass".into())),
            (
                "range".to_string(),
                Param::List(vec![Param::Num(0.0), Param::Num(12.0)]),
            ),
        ]
        .into(),
    );
    let p = ps(&[flow, ("follow", Param::Num(0.0)), ("trail", bound)]);
    assert!(SceneSpec::parse("layers", &p, None, Vec::new()).is_ok());
}
