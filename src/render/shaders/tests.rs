//! Tests of the shader chain: every shader with defaults and random in-range params, determinism,
//! holds, levels, behaviour checks, validation keys; plus ignored benches and the raw-frame dump
//! used by `scripts/shader-cost.sh`.

use super::*;
use crate::render::params::{Kind, Param};
use crate::render::rng::Rng;

fn spec(name: &str) -> ShaderSpec {
    ShaderSpec {
        name: name.parse().expect("a shader name"),
        params: Params::new(),
    }
}

fn with(name: &str, params: &[(&str, Param)]) -> ShaderSpec {
    ShaderSpec {
        name: name.parse().expect("a shader name"),
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    }
}

/// A busy test picture: gradients, a bright square, black margins and some noise.
fn picture(w: usize, h: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut f = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) * 3;
            if x < w / 8 {
                continue;
            }
            f[i] = (x * 255 / w.max(1)) as u8;
            f[i + 1] = (y * 255 / h.max(1)) as u8;
            f[i + 2] = (rng.next_u32() >> 24) as u8;
            if (w / 3..w / 2).contains(&x) && (h / 3..h / 2).contains(&y) {
                f[i..i + 3].fill(250);
            }
        }
    }
    f
}

fn run(specs: &[ShaderSpec], w: usize, h: usize, seed: u64, index: u32) -> Vec<u8> {
    let mut chain = ShaderChain::new(specs, ShaderLevel::Full, w, h, seed);
    let mut f = picture(w, h, 5);
    chain.apply(&mut f, w, h, index, index as f32 / 24.0);
    f
}

fn px(buf: &[u8], w: usize, x: usize, y: usize) -> [u8; 3] {
    let i = (y * w + x) * 3;
    [buf[i], buf[i + 1], buf[i + 2]]
}

const ISSUE_NAMES: &[&str] = &[
    "bloom",
    "vignette",
    "grain",
    "scanlines",
    "crt",
    "chromatic",
    "pixelate",
    "posterize",
    "hue_rotate",
    "saturation",
    "contrast",
    "gamma",
    "levels",
    "color_grade",
    "invert",
    "solarize",
    "threshold",
    "edge_glow",
    "soft_focus",
    "radial_blur",
    "wave_distort",
    "mirror_h",
    "mirror_v",
    "mirror_quad",
    "kaleidoscope",
    "glitch_bands",
    "block_glitch",
    "pixel_sort",
    "static",
    "halftone",
    "mirror_diag",
    "channel_shift",
    "channel_swap",
    "rgb_split_radial",
    "color_wobble",
    "color_ramp",
    "brightness",
    "reverse_vignette",
    "data_bend",
];

#[test]
fn vocabulary_is_complete_and_documented() {
    let names = names();
    for n in ISSUE_NAMES {
        assert!(names.contains(n), "missing shader {n}");
    }
    let mut sorted = names.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "duplicate names");
    for d in DEFS.iter() {
        assert!(!d.help.is_empty());
        let problems = crate::render::params::table_problems(d.name(), d.params);
        assert!(problems.is_empty(), "{problems:?}");
        for p in d.params {
            assert!(
                !p.help.is_empty() && !p.default.to_string().is_empty(),
                "{}.{}",
                d.name(),
                p.name
            );
        }
    }
    for d in DEFS.iter() {
        assert_eq!(
            RANDOM.contains(&d.shader),
            d.params.iter().any(|p| p.name == "hold"),
            "{}: random shaders and only they take hold",
            d.name()
        );
    }
    // Every shader has exactly one definition, and the lookup by enum finds it.
    use strum::IntoEnumIterator;
    assert_eq!(DEFS.len(), Shader::iter().count());
    for sh in Shader::iter() {
        assert_eq!(DEFS.iter().filter(|d| d.shader == sh).count(), 1, "{sh}");
        assert_eq!(def(sh).shader, sh);
    }
}

#[test]
fn shader_vocabularies_are_the_documented_words() {
    use super::channel::ChannelOrder;
    use super::noise::GrainMode;
    use super::pass::Axis;
    assert_eq!(
        ChannelOrder::NAMES,
        ["rgb", "rbg", "grb", "gbr", "brg", "bgr"]
    );
    assert_eq!(ChannelOrder::Bgr.indices(), [2, 1, 0]);
    assert_eq!(ChannelOrder::Gbr.indices(), [1, 2, 0]);
    assert_eq!(Axis::NAMES, ["h", "v"]);
    assert_eq!(GrainMode::NAMES, ["mono", "bright"]);
}

#[test]
fn every_shader_runs_with_defaults() {
    for &name in names() {
        validate_shader(0, &spec(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        for (w, h) in [
            (64, 36),
            (320, 180),
            (1, 1),
            (2, 2),
            (3, 7),
            (17, 5),
            (5, 300),
        ] {
            let out = run(&[spec(name)], w, h, 1, 3);
            assert_eq!(out.len(), w * h * 3, "{name} {w}x{h}");
        }
    }
}

/// Candidate values for a [`Kind::Custom`] parameter (kept if the kind's check accepts them).
fn custom_candidates(rng: &mut Rng) -> Vec<Param> {
    let n = |rng: &mut Rng, lo: f64, hi: f64, int: bool| {
        let v = lo + (hi - lo) * rng.next_f64();
        Param::Num(if int { v.round() } else { v })
    };
    let mut out = Vec::new();
    for name in crate::render::color::Tint::NAMES {
        out.push(Param::Text(name.to_string()));
    }
    out.push(Param::List(vec![
        n(rng, -512.0, 512.0, true),
        n(rng, -512.0, 512.0, true),
    ]));
    out.push(Param::List(vec![
        n(rng, -3.0, 3.0, true),
        n(rng, -3.0, 3.0, true),
    ]));
    out.push(Param::List(
        (0..3).map(|_| n(rng, 0.0, 4.0, false)).collect(),
    ));
    let k = 2 + rng.below(15) as usize;
    out.push(Param::List(
        (0..k)
            .map(|_| Param::List((0..3).map(|_| n(rng, 0.0, 255.0, false)).collect()))
            .collect(),
    ));
    out
}

/// A random valid value of `kind` (endpoints are favoured).
fn random_value(kind: Kind, rng: &mut Rng) -> Param {
    match kind {
        Kind::Num {
            min, max, integer, ..
        } => {
            let v = match rng.below(4) {
                0 => min,
                1 => max,
                _ => min + (max - min) * rng.next_f64(),
            };
            let v = if integer { v.round() } else { v };
            Param::Num(if v <= min && !integer {
                min + (max - min) * 0.001
            } else {
                v
            })
        }
        Kind::Bool => Param::Bool(rng.below(2) == 1),
        Kind::Choice(names) => Param::Text(names[rng.below(names.len() as u32) as usize].into()),
        Kind::Custom(c) => {
            let ok: Vec<Param> = custom_candidates(rng)
                .into_iter()
                .filter(|v| (c.check)(v))
                .collect();
            assert!(!ok.is_empty(), "no candidate for {}", (c.expect)());
            ok[rng.below(ok.len() as u32) as usize].clone()
        }
        other => panic!("shader params do not use {other:?}"),
    }
}

#[test]
fn random_params_never_panic() {
    let mut rng = Rng::new(2024);
    let sizes = [(37, 23), (64, 36), (3, 2), (160, 90)];
    for round in 0..40 {
        for &name in names() {
            let d = def(name.parse().unwrap());
            let mut params = Params::new();
            for ps in d.params {
                if rng.below(3) > 0 {
                    params.insert(ps.name.to_string(), random_value(ps.kind, &mut rng));
                }
            }
            let s = ShaderSpec {
                name: d.shader,
                params,
            };
            if let Err(e) = validate_shader(0, &s) {
                // Only the cross-parameter rule of levels may reject random in-range values.
                assert_eq!(name, "levels", "{e}");
                continue;
            }
            let (w, h) = sizes[round % sizes.len()];
            let out = run(std::slice::from_ref(&s), w, h, round as u64, round as u32);
            assert_eq!(out.len(), w * h * 3, "{name} {:?}", s.params);
        }
    }
}

#[test]
fn whole_chain_is_deterministic_and_order_independent() {
    let all: Vec<ShaderSpec> = names().iter().map(|n| spec(n)).collect();
    let (w, h) = (96, 54);
    let a = run(&all, w, h, 11, 7);
    assert_eq!(a, run(&all, w, h, 11, 7));
    // One chain rendering frames out of order gives the same frame 7.
    let mut chain = ShaderChain::new(&all, ShaderLevel::Full, w, h, 11);
    for i in [3, 9, 7, 0] {
        let mut f = picture(w, h, 5);
        chain.apply(&mut f, w, h, i, i as f32 / 24.0);
        if i == 7 {
            assert_eq!(f, a);
        }
    }
    // A cloned chain too.
    let mut c2 = chain.clone();
    let mut f = picture(w, h, 5);
    c2.apply(&mut f, w, h, 7, 7.0 / 24.0);
    assert_eq!(f, a);
    assert_ne!(run(&all, w, h, 12, 7), a, "the seed matters");
}

#[test]
fn random_shaders_change_with_the_frame_and_hold() {
    let (w, h) = (96, 54);
    for name in RANDOM.iter().map(|s| s.name()) {
        let s = [spec(name)];
        let f0 = run(&s, w, h, 3, 0);
        assert_eq!(f0, run(&s, w, h, 3, 0), "{name}");
        assert_ne!(f0, run(&s, w, h, 3, 1), "{name}: frames 0 and 1 are equal");
        assert_ne!(f0, run(&s, w, h, 4, 0), "{name}: seeds 3 and 4 are equal");
        let held = [with(name, &[("hold", Param::Num(3.0))])];
        let g: Vec<Vec<u8>> = (0..7).map(|i| run(&held, w, h, 3, i)).collect();
        assert_eq!(g[0], g[1], "{name}");
        assert_eq!(g[0], g[2], "{name}");
        assert_ne!(g[2], g[3], "{name}");
        assert_eq!(g[3], g[5], "{name}");
        assert_ne!(g[5], g[6], "{name}");
    }
}

#[test]
fn shader_position_seeds_the_noise() {
    // The same random shader at another position of the chain draws other noise.
    let (w, h) = (64, 36);
    let a = run(&[spec("grain")], w, h, 1, 2);
    let b = run(&[spec("invert"), spec("invert"), spec("grain")], w, h, 1, 2);
    assert_ne!(a, b);
    assert_eq!(
        b,
        run(&[spec("invert"), spec("invert"), spec("grain")], w, h, 1, 2)
    );
}

#[test]
fn levels_filter_by_the_classification() {
    let all: Vec<ShaderSpec> = names().iter().map(|n| spec(n)).collect();
    let n = names().len();
    assert_eq!(ShaderChain::new(&all, ShaderLevel::Full, 8, 8, 0).len(), n);
    assert_eq!(
        ShaderChain::new(&all, ShaderLevel::Standard, 8, 8, 0).len(),
        n - ENCODER_EXPENSIVE.len()
    );
    assert_eq!(
        ShaderChain::new(&all, ShaderLevel::Minimal, 8, 8, 0).len(),
        1
    );
    assert!(allowed(Shader::Vignette, ShaderLevel::Minimal));
    assert!(!allowed(Shader::Bloom, ShaderLevel::Minimal));
    assert!(allowed(Shader::Bloom, ShaderLevel::Standard));
    assert!(!allowed(Shader::Grain, ShaderLevel::Standard));
}

#[test]
fn invert_twice_is_identity() {
    let (w, h) = (33, 17);
    let mut chain = ShaderChain::new(
        &[spec("invert"), spec("invert")],
        ShaderLevel::Full,
        w,
        h,
        0,
    );
    let orig = picture(w, h, 1);
    let mut f = orig.clone();
    chain.apply(&mut f, w, h, 0, 0.0);
    assert_eq!(f, orig);
    let once = run(&[spec("invert")], w, h, 0, 0);
    assert!(
        once.iter()
            .zip(picture(w, h, 5))
            .all(|(a, b)| *a == 255 - b)
    );
}

#[test]
fn mirrors_are_symmetric() {
    for (w, h) in [(64, 36), (33, 17)] {
        let m = run(&[spec("mirror_h")], w, h, 0, 0);
        let v = run(&[spec("mirror_v")], w, h, 0, 0);
        let q = run(&[spec("mirror_quad")], w, h, 0, 0);
        let orig = picture(w, h, 5);
        for y in 0..h {
            for x in 0..w {
                assert_eq!(px(&m, w, x, y), px(&m, w, w - 1 - x, y));
                assert_eq!(px(&v, w, x, y), px(&v, w, x, h - 1 - y));
                assert_eq!(px(&q, w, x, y), px(&q, w, w - 1 - x, y));
                assert_eq!(px(&q, w, x, y), px(&q, w, x, h - 1 - y));
                if x < w.div_ceil(2) {
                    assert_eq!(px(&m, w, x, y), px(&orig, w, x, y), "left half kept");
                }
                if y < h.div_ceil(2) {
                    assert_eq!(px(&v, w, x, y), px(&orig, w, x, y), "top half kept");
                }
            }
        }
    }
    // mirror_diag on a square frame: transpose-symmetric.
    let w = 40;
    let d = run(&[spec("mirror_diag")], w, w, 0, 0);
    for y in 0..w {
        for x in 0..w {
            assert_eq!(px(&d, w, x, y), px(&d, w, y, x));
        }
    }
}

#[test]
fn posterize_and_threshold_quantise() {
    let (w, h) = (64, 36);
    let p2 = run(
        &[with("posterize", &[("levels", Param::Num(2.0))])],
        w,
        h,
        0,
        0,
    );
    for c in 0..3 {
        let mut vals: Vec<u8> = p2.iter().skip(c).step_by(3).copied().collect();
        vals.sort_unstable();
        vals.dedup();
        assert!(vals.len() <= 2, "channel {c}: {vals:?}");
        assert!(vals.iter().all(|&v| v == 0 || v == 255));
    }
    let p4 = run(&[spec("posterize")], w, h, 0, 0);
    let mut vals = p4.clone();
    vals.sort_unstable();
    vals.dedup();
    assert!(vals.len() <= 4, "{vals:?}");
    let t = run(&[spec("threshold")], w, h, 0, 0);
    assert!(t.iter().all(|&v| v == 0 || v == 255));
    assert!(t.contains(&0) && t.contains(&255));
    // A pixel's channels agree (black or white).
    assert!(t.chunks_exact(3).all(|p| p[0] == p[1] && p[1] == p[2]));
}

#[test]
fn vignette_darkens_corners_not_centre() {
    let (w, h) = (160, 90);
    let mut chain = ShaderChain::new(&[spec("vignette")], ShaderLevel::Minimal, w, h, 1);
    let mut buf = vec![200u8; w * h * 3];
    chain.apply(&mut buf, w, h, 0, 0.0);
    let centre = px(&buf, w, w / 2, h / 2)[0];
    assert!(centre >= 197, "centre {centre}");
    for (x, y) in [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)] {
        let c = px(&buf, w, x, y)[0];
        // 1 - 0.25 * sqrt(2) = 0.646
        assert!((128..=130).contains(&c), "corner {c}");
    }
    assert_eq!(px(&buf, w, 10, 3), px(&buf, w, 10, h - 4));
    // The reverse vignette: centre darker than the corners.
    let mut chain = ShaderChain::new(&[spec("reverse_vignette")], ShaderLevel::Full, w, h, 1);
    let mut buf = vec![200u8; w * h * 3];
    chain.apply(&mut buf, w, h, 0, 0.0);
    assert!(px(&buf, w, w / 2, h / 2)[0] < 110);
    assert_eq!(px(&buf, w, 0, 0)[0], 200);
}

#[test]
fn bloom_brightens_near_bright_pixels() {
    let (w, h) = (64, 64);
    let mut chain = ShaderChain::new(&[spec("bloom")], ShaderLevel::Standard, w, h, 1);
    let mut buf = vec![10u8; w * h * 3];
    for y in 28..36 {
        for x in 28..36 {
            buf[(y * w + x) * 3..(y * w + x) * 3 + 3].fill(255);
        }
    }
    let before = buf.clone();
    chain.apply(&mut buf, w, h, 0, 0.0);
    assert!(buf.iter().zip(&before).all(|(a, b)| a >= b));
    assert!(px(&buf, w, 26, 32)[0] > px(&before, w, 26, 32)[0]);
    assert_eq!(px(&buf, w, 2, 2)[0], 10, "far pixels untouched");
    let mut dark = vec![100u8; w * h * 3];
    chain.apply(&mut dark, w, h, 0, 0.0);
    assert!(dark.iter().all(|&v| v == 100));
}

#[test]
fn grain_modes() {
    let (w, h) = (50, 30);
    let f = run(&[spec("grain")], w, h, 9, 3);
    let orig = picture(w, h, 5);
    assert!(f.iter().zip(&orig).all(|(a, b)| a.abs_diff(*b) <= 8));
    // Bright mode leaves black pixels black and moves bright ones.
    let b = run(
        &[with("grain", &[("mode", Param::Text("bright".into()))])],
        w,
        h,
        9,
        3,
    );
    for (i, (p, o)) in b.chunks_exact(3).zip(orig.chunks_exact(3)).enumerate() {
        if o == [0, 0, 0] {
            assert_eq!(p, [0, 0, 0], "pixel {i}");
        }
    }
    assert_ne!(b, orig);
    // Mono grain: 2x2 blocks share one value across channels (on a flat grey frame).
    let mut chain = ShaderChain::new(&[spec("grain")], ShaderLevel::Full, w, h, 9);
    let mut g = vec![128u8; w * h * 3];
    chain.apply(&mut g, w, h, 3, 0.0);
    assert_eq!(g[0], g[1]);
    assert_eq!(g[0], g[3]);
    assert_eq!(g[0], g[w * 3]);
    assert!(g.iter().any(|&v| v != 128));
}

#[test]
fn colour_shaders_do_what_they_say() {
    let (w, h) = (64, 36);
    let orig = picture(w, h, 5);
    // Saturation 0: grey.
    let s0 = run(
        &[with("saturation", &[("factor", Param::Num(0.0))])],
        w,
        h,
        0,
        0,
    );
    assert!(
        s0.chunks_exact(3)
            .all(|p| p[0].abs_diff(p[1]) <= 1 && p[1].abs_diff(p[2]) <= 1)
    );
    // Hue rotation by 0 and saturation 1 are (nearly) identities.
    for s in [
        with("hue_rotate", &[("amount", Param::Num(0.0))]),
        with("saturation", &[("factor", Param::Num(1.0))]),
    ] {
        let out = run(&[s], w, h, 0, 0);
        assert!(out.iter().zip(&orig).all(|(a, b)| a.abs_diff(*b) <= 1));
    }
    // Channel swap bgr swaps red and blue.
    let sw = run(&[spec("channel_swap")], w, h, 0, 0);
    for (a, b) in sw.chunks_exact(3).zip(orig.chunks_exact(3)) {
        assert_eq!([a[0], a[1], a[2]], [b[2], b[1], b[0]]);
    }
    // Grade by a tint list multiplies.
    let g = run(
        &[with(
            "color_grade",
            &[(
                "tint",
                Param::List(vec![Param::Num(0.0), Param::Num(1.0), Param::Num(0.5)]),
            )],
        )],
        w,
        h,
        0,
        0,
    );
    for (a, b) in g.chunks_exact(3).zip(orig.chunks_exact(3)) {
        assert_eq!(a[0], 0);
        assert_eq!(a[1], b[1]);
        assert_eq!(a[2], (f32::from(b[2]) * 0.5).round() as u8);
    }
    // Chromatic: red moves right.
    let c = run(
        &[with("chromatic", &[("amt", Param::Num(2.0))])],
        w,
        h,
        0,
        0,
    );
    assert_eq!(px(&c, w, 20, 5)[0], px(&orig, w, 18, 5)[0]);
    assert_eq!(px(&c, w, 20, 5)[2], px(&orig, w, 22, 5)[2]);
    assert_eq!(px(&c, w, 20, 5)[1], px(&orig, w, 20, 5)[1]);
    // Scanlines darken every third row only.
    let sl = run(&[spec("scanlines")], w, h, 0, 0);
    assert_eq!(&sl[w * 3..w * 6], &orig[w * 3..w * 6]);
    assert!(sl[..w * 3].iter().zip(&orig[..w * 3]).all(|(a, b)| a <= b));
    assert!(sl[..w * 3].iter().zip(&orig[..w * 3]).any(|(a, b)| a < b));
}

#[test]
fn size_change_rebuilds_caches() {
    let mut chain = ShaderChain::new(
        &names().iter().map(|n| spec(n)).collect::<Vec<_>>(),
        ShaderLevel::Full,
        64,
        36,
        1,
    );
    for (w, h) in [(64, 36), (100, 20), (7, 9)] {
        let mut f = picture(w, h, 1);
        chain.apply(&mut f, w, h, 1, 0.1);
    }
    // A short buffer is ignored, not a panic.
    let mut short = vec![0u8; 10];
    chain.apply(&mut short, 64, 36, 0, 0.0);
}

#[test]
fn validation_keys_and_messages() {
    let e = super::parse("blur").unwrap_err();
    assert!(
        e.contains("unknown shader \"blur\"")
            && e.contains("mirror_quad")
            && e.contains("pixel_sort"),
        "{e}"
    );
    let e = validate_shader(0, &with("posterize", &[("levels", Param::Num(1.0))])).unwrap_err();
    assert_eq!(e.key, "shaders[0].levels");
    let e = validate_shader(1, &with("crt", &[("strenght", Param::Num(0.1))])).unwrap_err();
    assert_eq!(e.key, "shaders[1].strenght");
    assert!(e.message.contains("strength"), "{}", e.message);
    let e = validate_shader(
        0,
        &with("color_grade", &[("tint", Param::Text("pink".into()))]),
    )
    .unwrap_err();
    assert_eq!(e.key, "shaders[0].tint");
    assert!(e.message.contains("sunset"), "{}", e.message);
    for ok in [
        with("color_grade", &[("tint", Param::Text("sepia".into()))]),
        with(
            "color_grade",
            &[(
                "tint",
                Param::List(vec![Param::Num(1.2), Param::Num(1.0), Param::Num(0.8)]),
            )],
        ),
        with("wave_distort", &[("axis", Param::Text("v".into()))]),
        with(
            "grain",
            &[
                ("hold", Param::Num(3.0)),
                ("mode", Param::Text("bright".into())),
            ],
        ),
        with(
            "static",
            &[("hold", Param::Num(2.0)), ("color", Param::Bool(true))],
        ),
        with("channel_swap", &[("order", Param::Text("gbr".into()))]),
        with("color_ramp", &[("ramp", Param::Text("neon".into()))]),
    ] {
        validate_shader(0, &ok).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
    }
    let e = validate_shader(
        0,
        &with("wave_distort", &[("axis", Param::Text("x".into()))]),
    )
    .unwrap_err();
    assert_eq!(e.key, "shaders[0].axis");
    assert!(e.message.contains("h, v"), "{}", e.message);
    let e = validate_shader(
        0,
        &with(
            "channel_shift",
            &[("r", Param::List(vec![Param::Num(1.5), Param::Num(0.0)]))],
        ),
    )
    .unwrap_err();
    assert_eq!(e.key, "shaders[0].r");
    let e = validate_shader(
        3,
        &with(
            "levels",
            &[("black", Param::Num(200.0)), ("white", Param::Num(100.0))],
        ),
    )
    .unwrap_err();
    assert_eq!(e.key, "shaders[3].white");
    let e = validate_shader(0, &with("grain", &[("hold", Param::Num(0.0))])).unwrap_err();
    assert_eq!(e.key, "shaders[0].hold");
}

#[test]
fn docs_mention_every_shader_and_param() {
    let doc = include_str!("../../../docs/shaders.md");
    for d in DEFS.iter() {
        assert!(
            doc.contains(&format!("`{}`", d.name())),
            "docs/shaders.md lacks {}",
            d.name()
        );
        for p in d.params {
            assert!(
                doc.contains(&format!("`{}`", p.name)),
                "docs/shaders.md lacks {}.{}",
                d.name(),
                p.name
            );
        }
    }
}

/// The fused walk (runs of banded passes band by band, then the yuv sink) gives the bytes of
/// every pass applied to the whole frame one after another, then a whole-frame conversion:
/// for chains of banded passes only, non-banded only, mixed, two passes that read the frame
/// (bloom twice), a non-banded pass last, and frame heights that are not a multiple of the band.
#[test]
fn the_fused_walk_equals_one_pass_after_another() {
    use crate::render::yuv::{Matrix, Yuv420p, rgb_to_yuv420p, yuv420p_len};
    let chains: &[&[&str]] = &[
        &["bloom", "vignette", "grain"],
        &["grain", "bloom", "contrast", "vignette", "bloom", "grain"],
        &["vignette", "kaleidoscope", "grain", "scanlines"],
        &["bloom", "pixel_sort"],
        &["kaleidoscope"],
        &[],
    ];
    for names in chains {
        let specs: Vec<ShaderSpec> = names.iter().map(|n| spec(n)).collect();
        for (w, h) in [(64, 36), (37, 51), (96, 17), (8, 1)] {
            for index in [0u32, 5] {
                let t = index as f32 / 24.0;
                // One pass after another, each over the whole frame.
                let mut chain = ShaderChain::new(&specs, ShaderLevel::Full, w, h, 9);
                let mut want = picture(w, h, 5);
                for (seed, pass) in &mut chain.passes {
                    let mut cx = Ctx {
                        w,
                        h,
                        index,
                        t,
                        seed: *seed,
                        scratch: &mut chain.scratch,
                        features: crate::features::SILENT_ROW,
                    };
                    pass.apply(&mut want, &mut cx);
                }
                let mut want_yuv = vec![0; yuv420p_len(w, h)];
                rgb_to_yuv420p(&want, w, h, Matrix::Bt709, &mut want_yuv);
                // The chain's fused walk with the conversion as its sink.
                let mut chain = ShaderChain::new(&specs, ShaderLevel::Full, w, h, 9);
                let mut got = picture(w, h, 5);
                let mut got_yuv = vec![0; yuv420p_len(w, h)];
                let mut yuv = Yuv420p::new(&mut got_yuv, w, h, Matrix::Bt709);
                let mut sink = |rows: &[u8], y0: usize| yuv.rows(rows, y0);
                chain.apply_into(
                    &mut got,
                    w,
                    h,
                    index,
                    t,
                    crate::features::SILENT_ROW,
                    Some(&mut sink),
                );
                assert!(got == want, "{names:?} {w}x{h} frame {index}: rgb differs");
                assert!(
                    got_yuv == want_yuv,
                    "{names:?} {w}x{h} frame {index}: yuv differs"
                );
            }
        }
    }
}
