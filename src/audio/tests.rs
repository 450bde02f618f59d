//! Unit tests of the analysis on PCM made here (no ffmpeg; `tests/audio.rs` goes through it).

use super::*;

const SR: u32 = ANALYSIS_RATE;

/// A click track: 15 ms decaying 1.5 kHz bursts every 60/bpm s from `first` s on.
fn clicks(bpm: f64, first: f64, secs: f64, rate: u32) -> (Vec<f32>, Vec<f64>) {
    let period = 60.0 / bpm;
    let n = (secs * rate as f64) as usize;
    let mut times = Vec::new();
    let mut t = first;
    while t < secs - 0.05 {
        times.push(t);
        t += period;
    }
    let mut pcm = vec![0f32; n];
    for &c in &times {
        let start = (c * rate as f64).round() as usize;
        for i in 0..(0.015 * rate as f64) as usize {
            if start + i < n {
                let dt = i as f64 / rate as f64;
                pcm[start + i] = (0.8
                    * (2.0 * std::f64::consts::PI * 1500.0 * dt).sin()
                    * (-200.0 * dt).exp()) as f32;
            }
        }
    }
    (pcm, times)
}

fn tone(freq: f64, secs: f64, rate: u32, amp: f64) -> Vec<f32> {
    (0..(secs * rate as f64) as usize)
        .map(|i| (amp * (2.0 * std::f64::consts::PI * freq * i as f64 / rate as f64).sin()) as f32)
        .collect()
}

fn all_in_unit(f: &Features) {
    assert!(f.is_consistent(), "inconsistent table");
    for (i, v) in f.rows.iter().enumerate() {
        assert!(
            v.is_finite() && (0.0..=1.0).contains(v),
            "{} of frame {} = {v}",
            Feature::NAMES[i % Feature::COUNT],
            i / Feature::COUNT
        );
    }
    assert!(f.tempo.is_finite() && f.confidence.is_finite());
}

#[test]
fn click_tracks_give_every_beat_within_one_frame_nothing_else_and_the_tempo() {
    for bpm in [90.0, 120.0, 128.0, 174.0] {
        let (pcm, times) = clicks(bpm, 0.3, 12.0, SR);
        let f = analyse(&pcm, SR, 24, None, 0.0);
        all_in_unit(&f);
        assert!((f.tempo - bpm).abs() < 1.0, "{bpm}: tempo {}", f.tempo);
        assert!(f.confidence > 0.8, "{bpm}: confidence {}", f.confidence);
        assert_eq!(f.beats.len(), times.len(), "{bpm}: beats {:?}", f.beats);
        for (b, c) in f.beats.iter().zip(&times) {
            assert!((b - c).abs() < 1.0 / 24.0, "{bpm}: beat {b} for click {c}");
        }
        // Per frame: 1 exactly on the click's frame (or a neighbour), nowhere else.
        let beat = f.column(Feature::Beat);
        let marked: Vec<usize> = (0..f.frames).filter(|&i| beat[i] == 1.0).collect();
        assert_eq!(marked.len(), times.len(), "{bpm}");
        for (m, c) in marked.iter().zip(&times) {
            assert!(
                (*m as f64 - c * 24.0).abs() <= 1.0,
                "{bpm}: frame {m} for {c}"
            );
        }
    }
}

#[test]
fn bdecay_is_one_on_a_beat_and_decays_over_half_a_second() {
    let mut table = vec![0f32; 40 * Feature::COUNT];
    beats::mark_frames(&mut table, 40, 24, &[0.5, 1.0 + 1e-9]);
    let at = |i: usize, c: Feature| table[i * Feature::COUNT + c.index()];
    assert_eq!(at(12, Feature::Beat), 1.0);
    assert_eq!(at(24, Feature::Beat), 1.0);
    assert_eq!(at(11, Feature::BDecay), 0.0);
    assert_eq!(at(12, Feature::BDecay), 1.0);
    assert!((at(13, Feature::BDecay) - (-2.5f32 / 12.0).exp()).abs() < 1e-6);
    assert!(at(23, Feature::BDecay) > 0.0 && at(23, Feature::BDecay) < at(13, Feature::BDecay));
    assert_eq!(
        at(36, Feature::BDecay),
        0.0,
        "12 frames after the last beat"
    );
}

#[test]
fn each_tone_lands_in_its_band() {
    // One second of each tone in turn; each band column peaks during its own tone.
    let tones = [50.0, 150.0, 400.0, 1000.0, 4000.0, 10000.0];
    let mut pcm = Vec::new();
    for &t in &tones {
        pcm.extend(tone(t, 1.0, SR, 0.5));
    }
    let f = analyse(&pcm, SR, 24, None, 0.0);
    all_in_unit(&f);
    let bands = [
        Feature::Sub,
        Feature::Bass,
        Feature::LoMid,
        Feature::Mid,
        Feature::HiMid,
        Feature::Hi,
    ];
    let ratios = [
        Feature::SubR,
        Feature::BassR,
        Feature::LoMidR,
        Feature::MidR,
        Feature::HiMidR,
        Feature::HiR,
    ];
    for (k, &t) in tones.iter().enumerate() {
        // The middle of the tone's second (away from the EMA's transitions).
        for frame in k * 24 + 10..k * 24 + 20 {
            let row = f.row(frame);
            let best = |cols: &[Feature]| {
                cols.iter()
                    .copied()
                    .max_by(|a, b| row[a.index()].total_cmp(&row[b.index()]))
                    .unwrap()
            };
            assert_eq!(best(&bands), bands[k], "{t} Hz at frame {frame}: {row:?}");
            assert_eq!(best(&ratios), ratios[k], "{t} Hz at frame {frame}: {row:?}");
        }
    }
    // And in raw terms: a held tone puts nearly all of its energy in its band.
    for (k, &t) in tones.iter().enumerate() {
        let raw = spectral::raw_features(&tone(t, 1.0, SR, 0.5), SR, 24, 24);
        let r = raw[12];
        let share = r[Feature::SubR.index() + k];
        assert!(share > 0.6, "{t} Hz: share {share} of {:?}", &r[7..13]);
    }
    // The centroid follows the pitch.
    let cent: Vec<f32> = (0..6).map(|k| f.get(k * 24 + 20, Feature::Cent)).collect();
    assert!(cent.windows(2).all(|w| w[0] < w[1]), "{cent:?}");
}

#[test]
fn silence_is_all_zero_and_has_no_beats() {
    for frames in [None, Some(100)] {
        let f = analyse(&vec![0.0; SR as usize * 3], SR, 24, frames, 0.0);
        all_in_unit(&f);
        assert!(f.rows.iter().all(|&v| v == 0.0));
        assert_eq!((f.tempo, f.beats.len()), (0.0, 0));
    }
    let f = analyse(&[], SR, 24, Some(10), 0.0);
    all_in_unit(&f);
    assert_eq!(f.frames, 10);
}

#[test]
fn a_held_tone_and_noise_have_no_pulse_and_finite_features() {
    let t = analyse(&tone(440.0, 5.0, SR, 0.5), SR, 24, None, 0.0);
    all_in_unit(&t);
    assert!(t.beats.is_empty(), "{:?}", t.beats);
    // Noise from a fixed LCG: no pulse either.
    let mut s = 12345u32;
    let noise: Vec<f32> = (0..SR as usize * 8)
        .map(|_| {
            s = s.wrapping_mul(1664525).wrapping_add(1013904223);
            (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        })
        .collect();
    let n = analyse(&noise, SR, 24, None, 0.0);
    all_in_unit(&n);
    assert!(n.beats.is_empty(), "confidence {}", n.confidence);
    assert!(n.confidence < beats::MIN_CONFIDENCE);
}

#[test]
fn a_track_shorter_than_the_video_is_silence_after_its_end() {
    let (pcm, _) = clicks(120.0, 0.3, 2.0, SR);
    let f = analyse(&pcm, SR, 24, Some(24 * 6), 0.0);
    all_in_unit(&f);
    assert_eq!(f.frames, 144);
    // A second after the end the EMAs have died away and nothing is marked.
    for frame in 24 * 3..144 {
        for c in [
            Feature::Rms,
            Feature::Bass,
            Feature::Flux,
            Feature::Beat,
            Feature::BDecay,
        ] {
            assert!(f.get(frame, c) < 0.01, "{} at {frame}", c.name());
        }
    }
    assert!(f.beats.iter().all(|&b| b < 2.0));
    // Past the table: the silent row.
    assert_eq!(f.row(10_000), &SILENT_ROW[..]);
}

#[test]
fn any_rate_and_fps_and_broken_samples_stay_finite() {
    for rate in [8000, 22050, 96000] {
        for fps in [1, 12, 24, 60, 240] {
            let (mut pcm, _) = clicks(128.0, 0.2, 3.0, rate);
            pcm.iter_mut()
                .zip(tone(60.0, 3.0, rate, 0.3))
                .for_each(|(a, b)| *a += b);
            pcm[100] = f32::NAN;
            pcm[200] = f32::INFINITY;
            let f = analyse(&pcm, rate, fps, None, 0.0);
            all_in_unit(&f);
            assert_eq!(f.frames, 3 * fps as usize, "rate {rate} fps {fps}");
        }
    }
}

#[test]
fn columns_have_fixed_names_and_order() {
    assert_eq!(Feature::COUNT, 19);
    for (i, c) in Feature::all().enumerate() {
        assert_eq!(c.index(), i);
        assert_eq!(c.name().parse::<Feature>(), Ok(c));
    }
    assert_eq!("nope".parse::<Feature>().ok(), None);
    let f = analyse(&tone(200.0, 1.0, SR, 0.5), SR, 10, None, 0.0);
    assert_eq!(f.names[0], "rms");
    assert_eq!(f.names[18], "bdecay");
    assert_eq!(
        f.rows_for(8, 5).len(),
        2 * Feature::COUNT,
        "clipped to the table"
    );
    assert_eq!(f.row(3)[Feature::Bass.index()], f.get(3, Feature::Bass));
}

#[test]
fn json_has_every_column_in_order() {
    let (pcm, _) = clicks(120.0, 0.3, 3.0, SR);
    let f = analyse(&pcm, SR, 24, None, 0.0);
    let text = show::json(&f);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["fps"], 24);
    assert_eq!(v["beats"].as_array().unwrap().len(), f.beats.len());
    let feats = v["features"].as_object().unwrap();
    assert_eq!(feats.len(), Feature::COUNT);
    assert_eq!(feats["rms"].as_array().unwrap().len(), f.frames);
    let back: Vec<f32> = feats["bass"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(back, f.column(Feature::Bass), "exact values");
    let s = show::summary(&f, std::path::Path::new("x.wav"));
    assert!(
        s.contains("tempo: 120.0 BPM") && s.contains("bdecay"),
        "{s}"
    );
}

#[test]
fn sparklines() {
    assert_eq!(show::sparkline(&[0.0, 0.5, 1.0], 3, false), "▁▅█");
    assert_eq!(show::sparkline(&[0.0, 1.0, 0.0, 0.0], 2, true), "█▁");
    assert_eq!(show::sparkline(&[], 5, false), "");
}

mod cache_files {
    use super::super::cache::*;
    use super::*;

    fn key() -> Key {
        Key {
            version: FEATURE_VERSION,
            digest: "ab".repeat(32),
            fps: 24,
            from: 1.5,
            frames: Some(48),
            rate: SR,
        }
    }

    fn features() -> Features {
        let (pcm, _) = clicks(120.0, 0.3, 2.0, SR);
        analyse(&pcm, SR, 24, Some(48), 1.5)
    }

    #[test]
    fn a_stored_file_loads_back_exactly() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/dir").join(key().file_name());
        assert_eq!(load(&p, &key()), Ok(None));
        let f = features();
        store(&p, &key(), &f).unwrap();
        assert_eq!(load(&p, &key()), Ok(Some(f)));
        // No temporary file is left beside it.
        assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn every_key_field_changes_the_name() {
        let k = key();
        let names = [
            Key {
                fps: 25,
                ..k.clone()
            },
            Key {
                from: 1.5000001,
                ..k.clone()
            },
            Key {
                frames: None,
                ..k.clone()
            },
            Key {
                version: FEATURE_VERSION + 1,
                ..k.clone()
            },
            Key {
                digest: "cd".repeat(32),
                ..k.clone()
            },
        ]
        .map(|x| x.file_name());
        for n in &names {
            assert_ne!(*n, k.file_name());
        }
    }

    #[test]
    fn damaged_files_are_refused_with_a_reason() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.bin");
        store(&p, &key(), &features()).unwrap();
        let good = std::fs::read(&p).unwrap();
        let mut flipped = good.clone();
        let last = flipped.len() - 3;
        flipped[last] ^= 0x40;
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (good[..good.len() / 2].to_vec(), "checksum"),
            (flipped, "checksum"),
            (b"hello".to_vec(), "not a farm feature file"),
            (Vec::new(), "not a farm feature file"),
        ];
        for (bytes, why) in cases {
            std::fs::write(&p, &bytes).unwrap();
            let e = load(&p, &key()).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
        std::fs::write(&p, &good).unwrap();
        let other = Key { fps: 30, ..key() };
        assert!(load(&p, &other).unwrap_err().contains("another key"));
    }
}

#[test]
fn a_1khz_tone_lands_in_its_spectrum_bin() {
    let f = analyse(&tone(1000.0, 1.0, SR, 0.5), SR, 24, None, 0.0);
    assert!(f.is_consistent());
    let k = (0..SPECTRUM_BINS)
        .find(|&k| {
            let (lo, hi) = spectral::spectrum_bin_edges(k);
            (lo..hi).contains(&1000.0)
        })
        .unwrap();
    for frame in [6, 12, 20] {
        let row = &f.spectrum[frame * SPECTRUM_BINS..(frame + 1) * SPECTRUM_BINS];
        let best = (0..SPECTRUM_BINS)
            .max_by(|&a, &b| row[a].total_cmp(&row[b]))
            .unwrap();
        assert_eq!(best, k, "frame {frame}: {row:?}");
        assert!(row[k] > 0.95, "{row:?}");
        // Far from the tone, nothing.
        assert!(
            row[..k.saturating_sub(4)].iter().all(|&v| v < 0.2),
            "{row:?}"
        );
        assert!(row[k + 5..].iter().all(|&v| v < 0.2), "{row:?}");
    }
}

#[test]
fn the_waveform_of_a_sine_is_a_triggered_sine() {
    let freq = 110.0;
    let f = analyse(&tone(freq, 1.0, SR, 0.25), SR, 24, None, 0.0);
    let hop = (SR / 24) as f64;
    for frame in [5, 11] {
        let w = &f.wave[frame * WAVE_POINTS..(frame + 1) * WAVE_POINTS];
        for (j, &v) in w.iter().enumerate() {
            let t = j as f64 * hop / WAVE_POINTS as f64 / SR as f64;
            let want = (std::f64::consts::TAU * freq * t).sin() as f32;
            assert!(
                (v - want).abs() < 0.05,
                "frame {frame} point {j}: {v} vs {want}"
            );
        }
    }
    // Peak-normalised: the quarter-amplitude tone reaches 1.
    let peak = f.wave.iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!((peak - 1.0).abs() < 1e-3, "{peak}");
}

#[test]
fn silence_gives_a_flat_spectrum_and_wave() {
    let f = analyse(&vec![0.0; SR as usize], SR, 24, Some(30), 0.0);
    assert!(f.is_consistent());
    assert!(f.spectrum.iter().all(|&v| v == 0.0));
    assert!(f.wave.iter().all(|&v| v == 0.0));
}

#[test]
fn clip_rows_are_the_tracks_rows_with_history() {
    let f = analyse(&tone(300.0, 2.0, SR, 0.5), SR, 24, None, 0.0);
    assert_eq!(f.frames, 48);
    let c = f.clip_rows(20, 10, 8);
    assert_eq!(c.source, crate::features::Source::Track);
    assert_eq!((c.start, c.lead, c.rows), (20, 8, 18));
    for i in -8..10i64 {
        let g = (20 + i) as usize;
        let r = c.row(i);
        assert_eq!(r.values, f.row(g));
        assert_eq!(
            r.spectrum,
            &f.spectrum[g * SPECTRUM_BINS..(g + 1) * SPECTRUM_BINS]
        );
        assert_eq!(r.wave, &f.wave[g * WAVE_POINTS..(g + 1) * WAVE_POINTS]);
    }
    // History stops at frame 0 of the video; rows past the track are silent.
    let early = f.clip_rows(3, 5, 10);
    assert_eq!(early.lead, 3);
    assert_eq!(early.row(-3).values, f.row(0));
    let late = f.clip_rows(44, 10, 2);
    assert_eq!(late.rows, 6, "frames 42..48");
    assert_eq!(late.row(3).values, f.row(47));
    assert_eq!(late.row(4), crate::features::SILENT_ROW);
    assert_eq!(f.clip_rows(100, 5, 4).row(0), crate::features::SILENT_ROW);
}
