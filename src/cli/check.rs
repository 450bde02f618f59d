//! `farm check`: validate a plan without rendering (clips, tools, audio, glyphs, disk).

use super::args::SettingsArgs;
use super::common::{load, settings_for, warn_memory};
use crate::coordinator::{self, Tools};
use crate::hw::Hardware;
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
    let frames = match plan.frame_counts(settings.frame.fps) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if let Err(e) = coordinator::clips_of(&plan, &settings) {
        eprintln!("error: {e}");
        bad = true;
    }
    // The checks `farm run` makes before any worker starts (they create nothing).
    if let Ok(t) = &tools {
        if let Err(e) = coordinator::preflight_checks(&plan, t, &coordinator::Layout::of(&plan)) {
            eprintln!("error: {e}");
            bad = true;
        }
        if let Some(audio) = &plan.audio
            && let Ok(d) = crate::media::probe_audio(&t.ffprobe, audio)
        {
            println!("audio: {} ({d:.2} s)", audio.display());
        }
    }
    println!("{}", settings.summary());
    for (s, n) in plan.segments.iter().zip(&frames) {
        println!(
            "  {:<20} {:<12} {:>7} frames  {:.2} s",
            s.id,
            s.scene_name,
            n,
            *n as f64 / settings.frame.fps as f64
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
