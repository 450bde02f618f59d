//! `farm check`: validate a plan without rendering (clips, tools, audio, glyphs, disk).

use super::args::SettingsArgs;
use super::common::{load, settings_for, warn_memory};
use crate::clip;
use crate::coordinator::soundtrack::CacheUse;
use crate::coordinator::{self, Tools};
use crate::hw::Hardware;
use crate::plan::timing::{self, Beats};
use crate::render;
use std::path::Path;

pub(super) fn cmd_check(plan_path: &Path, a: &SettingsArgs) -> i32 {
    let plan = match load(plan_path) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let hw = Hardware::detect();
    let mut bad = false;
    let tools = Tools::from_hw(&hw);
    if let Err(e) = &tools {
        eprintln!("error: {e}");
        bad = true;
    }
    let settings = match settings_for(&hw, Some(&plan), a) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    // The checks `farm run` makes before any worker starts (they create nothing), then the
    // soundtrack (read from the feature cache, or analysed without writing it).
    let mut track = None;
    if let Ok(t) = &tools {
        match coordinator::preflight_checks(&plan, t, &coordinator::Layout::of(&plan)) {
            Err(e) => {
                eprintln!("error: {e}");
                bad = true;
            }
            Ok(()) => match super::common::soundtrack(&plan, &settings, &hw, CacheUse::ReadOnly) {
                Ok(f) => track = f,
                Err(_) => bad = true,
            },
        }
        if let Some(audio) = &plan.audio
            && let Ok(d) = crate::media::probe_audio(&t.ffprobe, audio)
        {
            println!("audio: {} ({d:.2} s)", audio.display());
        }
    }
    if bad && plan.audio.is_some() && plan.has_beat_cuts() {
        eprintln!("plan NOT OK: `farm run` would refuse it (see the errors above)");
        return 2;
    }
    let fps = settings.frame.fps;
    let clips = match coordinator::clips_of(&plan, &settings, track.as_ref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let frames: Vec<u64> = clips.iter().map(|c| c.frames).collect();
    println!("{}", settings.summary());
    match clip::ranges(&plan, fps, track.as_ref()) {
        Ok(r) => print!(
            "{}",
            timing::format_ranges(&plan, &r, fps, &Beats::of(track.as_ref()))
        ),
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    }
    // Which clips react to the audio (or to the synthetic beat without it), and to what.
    for c in &clips {
        let b = c.spec.scene.bindings();
        if !b.is_empty() {
            let src = if plan.audio.is_some() {
                "the soundtrack"
            } else {
                "synthetic 120 BPM features (no audio)"
            };
            let list: Vec<String> = b.iter().map(|x| x.to_string()).collect();
            println!("  reactive {:<20} ({src}): {}", c.id, list.join(", "));
        }
    }
    // Crossfades: what the clip borrows from the clip before, and what its first frame costs.
    for c in &clips {
        let Some(x) = &c.spec.crossfade else {
            continue;
        };
        let catch_up = c
            .spec
            .renderer()
            .ok()
            .and_then(|r| r.crossfade())
            .map_or(0, |(_, k)| k);
        let cost = if catch_up > 0 {
            format!(
                "; '{}' carries state (particles, feedback or an automaton), so the worker of '{}' first simulates its {catch_up} frames",
                x.from, c.id
            )
        } else {
            String::new()
        };
        println!(
            "  crossfade {:<19} from '{}' over {} frames: '{}' continues from its frame {}, cell by cell into '{}'{cost}",
            c.id, x.from, x.frames, x.from, x.offset, c.id
        );
    }
    // Glyph coverage: every character any clip draws, against the font chain.
    let mut missing: std::collections::BTreeMap<char, std::collections::BTreeSet<String>> =
        Default::default();
    for seg in &plan.segments {
        match render::missing_glyphs(&seg.scene) {
            Ok(list) => {
                for (c, users) in list {
                    missing
                        .entry(c)
                        .or_default()
                        .extend(users.into_iter().map(|u| format!("{u} ({})", seg.id)));
                }
            }
            Err(e) => {
                eprintln!("error: segment '{}': {e}", seg.id);
                bad = true;
            }
        }
    }
    if missing.is_empty() {
        println!("glyphs: every character has a glyph in the font chain");
    } else {
        println!(
            "glyphs: {} characters have no glyph in any font (they draw as blanks):",
            missing.len()
        );
        for (c, users) in &missing {
            println!(
                "  U+{:04X} {c:?}  used by: {}",
                *c as u32,
                users.iter().cloned().collect::<Vec<_>>().join(", ")
            );
        }
    }
    if bad {
        eprintln!("plan NOT OK: `farm run` would refuse it (see the errors above)");
        return 2;
    }
    let total: u64 = frames.iter().sum();
    warn_memory(&hw, &settings, a);
    let clips = crate::disk::video_bytes(
        settings.frame.width,
        settings.frame.height,
        total,
        settings.crf,
        settings.preset.name(),
    );
    let audio = plan
        .audio
        .as_ref()
        .map(|_| crate::disk::audio_bytes(total as f64 / settings.frame.fps as f64))
        .unwrap_or(0);
    let (lines, warnings) = crate::disk::report(
        clips,
        clips + audio,
        &coordinator::Layout::of(&plan).work,
        plan.output.parent().unwrap_or(Path::new("/")),
    );
    for l in lines {
        println!("{l}");
    }
    for w in warnings {
        eprintln!("farm: warning: {w}");
    }
    println!(
        "plan OK: {} segments, {total} frames -> {}",
        plan.segments.len(),
        plan.output.display()
    );
    0
}
