//! Property tests over the plan parser: no input makes it panic, and every refusal names a
//! position in the file when it has one.

use farm::plan::Plan;
use farm::plan::timing::{Beats, frame_ranges};
use proptest::prelude::*;
use std::path::Path;

fn parse(src: &str) {
    let dir = tempfile::tempdir().unwrap();
    match Plan::parse(src, &dir.path().join("plan.yaml")) {
        Ok(p) => {
            // A plan that parses can be asked for its frames at any rate without panicking.
            for fps in [1, 12, 24, 240] {
                let _ = p.frame_counts(fps);
                for beats in [
                    Beats::synthetic(),
                    Beats::track(&[0.5, 0.51, 1.0, 9.0], 10.0),
                ] {
                    let _ = frame_ranges(&p, fps, &beats);
                }
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// Values that exercise types, edges and YAML quirks.
fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_string()),
        Just("-1".to_string()),
        Just(".nan".to_string()),
        Just(".inf".to_string()),
        Just("1e400".to_string()),
        Just("~".to_string()),
        Just("''".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("true".to_string()),
        Just("plasma".to_string()),
        Just("quote".to_string()),
        Just("aurora".to_string()),
        Just("beat".to_string()),
        Just("auto".to_string()),
        Just("{every: 2}".to_string()),
        Just("\"it's\"".to_string()),
        Just("*anchor".to_string()),
        Just("&a 1".to_string()),
        Just("!!binary aGk=".to_string()),
        (-1e6f64..1e6).prop_map(|f| f.to_string()),
        any::<i64>().prop_map(|i| i.to_string()),
        "[a-z0-9 ./'_-]{0,12}".prop_map(|s| format!("{s:?}")),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("id"),
        Just("scene"),
        Just("duration"),
        Just("start"),
        Just("end"),
        Just("params"),
        Just("shaders"),
        Just("text"),
        Just("palette"),
        Just("hue"),
        Just("grids"),
        Just("bloom"),
        Just("thr"),
        Just("bogus"),
        Just("until"),
        Just("beats"),
        Just("cut"),
    ]
    .prop_map(str::to_string)
}

fn segment() -> impl Strategy<Value = String> {
    prop::collection::vec((key(), scalar()), 0..7).prop_map(|kv| {
        let body: Vec<String> = kv.into_iter().map(|(k, v)| format!("{k}: {v}")).collect();
        format!("  - {{{}}}\n", body.join(", "))
    })
}

fn plan() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(
            (
                prop_oneof![
                    Just("output"),
                    Just("quality"),
                    Just("aspect"),
                    Just("resolution"),
                    Just("seed"),
                    Just("fps"),
                    Just("crf"),
                    Just("preset"),
                    Just("audio"),
                    Just("fonts"),
                    Just("cut"),
                    Just("nope")
                ],
                scalar(),
            ),
            0..6,
        ),
        prop::collection::vec(segment(), 0..5),
        any::<bool>(),
    )
        .prop_map(|(top, segs, with_output)| {
            let mut s = String::new();
            if with_output {
                s.push_str("output: v.mp4\n");
            }
            for (k, v) in top {
                s.push_str(&format!("{k}: {v}\n"));
            }
            s.push_str("segments:\n");
            for seg in segs {
                s.push_str(&seg);
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,300}") {
        parse(&src);
    }

    #[test]
    fn arbitrary_bytes_as_lossy_text_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        parse(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn plan_shaped_documents_never_panic(src in plan()) {
        parse(&src);
    }

    #[test]
    fn a_valid_plan_with_a_mutation_never_panics(cut in 0usize..400, insert in "\\PC{0,4}") {
        let good = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("segments.example.yaml")).unwrap();
        let cut = cut.min(good.len());
        let cut = (0..=cut).rev().find(|&i| good.is_char_boundary(i)).unwrap_or(0);
        parse(&format!("{}{insert}{}", &good[..cut], &good[cut..]));
    }
}
