//! Unit tests of the visualizer scenes (`spectrum`, `scope`) and the `glitch_hit` preset use.

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
