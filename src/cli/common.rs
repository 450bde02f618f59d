//! What the commands share: loading the plan, the render settings from the flags and the
//! plan, the memory warning, the re-run command line.

use super::args::SettingsArgs;
use crate::choices::{Aspect, Quality};
use crate::coordinator::Tools;
use crate::hw::Hardware;
use crate::media::{shell_quote, shell_quote_os};
use crate::plan::Plan;
use crate::profile::{self, Overrides, RenderSettings};
use std::path::Path;

pub(super) fn load(plan: &Path) -> Result<Plan, i32> {
    Plan::load(plan).map_err(|e| {
        eprintln!("error: {e}");
        2
    })
}

pub(super) fn overrides(plan: Option<&Plan>, a: &SettingsArgs) -> Overrides {
    Overrides {
        quality: a
            .quality
            .map(Quality::from)
            .or(plan.and_then(|p| p.quality)),
        aspect: a.aspect.map(Aspect::from).or(plan.and_then(|p| p.aspect)),
        resolution: a.resolution.or(plan.and_then(|p| p.resolution)),
        workers: a.workers.map(|w| w as usize),
        preset: a.preset.or(plan.and_then(|p| p.preset)),
        crf: a.crf.or(plan.and_then(|p| p.crf)),
        fps: a.fps.or(plan.and_then(|p| p.fps)),
    }
}

pub(super) fn settings_for(
    hw: &Hardware,
    plan: Option<&Plan>,
    a: &SettingsArgs,
) -> Result<RenderSettings, String> {
    if let Some(c) = a.crf
        && !(0.0..=51.0).contains(&c)
    {
        return Err(format!("--crf {c}: must be between 0 and 51"));
    }
    let secs = plan.map(Plan::total_seconds).unwrap_or(60.0);
    let ov = overrides(plan, a);
    let mut s = profile::resolve(hw, secs, &ov, |prof| {
        plan.and_then(|p| crate::calibrate::seconds_per_frame(p, prof, hw))
    });
    if let Some(p) = plan {
        s.fit_threads(hw, p.segments.len());
    }
    if let Some(t) = a.x264_threads {
        s.x264_threads = t;
        s.threads_reason = "--x264-threads".into();
    }
    Ok(s)
}

/// Plan, hardware, tools and settings, or the exit status of what went wrong (all before any
/// worker starts).
pub(super) fn prepare(
    plan_path: &Path,
    a: &SettingsArgs,
) -> Result<(Plan, Hardware, Tools, RenderSettings), i32> {
    let plan = load(plan_path)?;
    let hw = Hardware::detect();
    let fail = |e: String| {
        eprintln!("error: {e}");
        2
    };
    let tools = Tools::from_hw(&hw).map_err(fail)?;
    let settings = settings_for(&hw, Some(&plan), a).map_err(fail)?;
    // Frame counts now, when they do not wait for the soundtrack's beats (a beat-cut plan is
    // placed by the run, after the analysis, with the same errors).
    if !plan.has_beat_cuts() {
        plan.frame_counts(settings.frame.fps)
            .map_err(|e| fail(e.to_string()))?;
    }
    warn_memory(&hw, &settings, a);
    Ok((plan, hw, tools, settings))
}

/// `--workers N` above what memory allows is obeyed, with a warning that gives the numbers.
pub(super) fn warn_memory(hw: &Hardware, s: &RenderSettings, a: &SettingsArgs) {
    if let Some(w) = profile::memory_warning(hw, s, a.workers.map(|w| w as usize)) {
        eprintln!("farm: warning: {w}");
    }
}

pub(super) fn rerun_command(verb: &str, plan: &Path, a: &SettingsArgs) -> String {
    // The plan's path as bytes: one that is not UTF-8 is printed so that a shell reads it back.
    let mut words = vec![
        shell_quote("farm"),
        shell_quote(verb),
        shell_quote_os(plan.as_os_str()),
    ];
    words.extend(a.as_args().iter().map(|w| shell_quote(w)));
    words.join(" ")
}

/// The plan's soundtrack features for a command that is not a run (`farm check`, `status`,
/// `frame`, `run --dry-run`): through the feature cache (`cache_use` says whether it may be
/// written); an error is printed and gives its exit status (2).
pub(super) fn soundtrack(
    plan: &Plan,
    s: &RenderSettings,
    hw: &Hardware,
    cache_use: crate::coordinator::soundtrack::CacheUse,
) -> Result<Option<crate::audio::Features>, i32> {
    if plan.audio.is_none() {
        return Ok(None);
    }
    let tools = Tools::from_hw(hw).map_err(|e| {
        eprintln!("error: {e}");
        2
    })?;
    let layout = crate::coordinator::Layout::of(plan);
    let mut rep = crate::report::Plain::new();
    crate::coordinator::soundtrack::features(
        plan,
        s.frame.fps,
        &tools,
        &layout,
        cache_use,
        &mut rep,
    )
    .map_err(|e| {
        eprintln!("error: {e}");
        e.exit_code()
    })
}
