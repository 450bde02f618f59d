//! The soundtrack of a run: decoded and analysed once, before any clip is placed or rendered
//! (beat-cut segments end on its beats, reactive clips get its rows), through the feature
//! cache beside the work dirs ([`Layout::feature_cache`]), which outlives every run's cleanup:
//! a second run does not decode the audio again.

use crate::audio::{Features, cache};
use crate::coordinator::layout::Layout;
use crate::coordinator::types::{RunError, Tools};
use crate::plan::Plan;
use crate::report::Reporter;

/// Whether the cache may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheUse {
    /// Read it, and store fresh features in it (`farm run`, `farm render`, `farm frame`).
    ReadWrite,
    /// Read it only (`farm check` and `farm status` create nothing).
    ReadOnly,
}

/// The features of the plan's soundtrack at `fps` for the whole track (None without audio),
/// from the cache when it has them. The log line says whether the audio was decoded. A
/// missing, empty or undecodable file, or `from` past its end, is a setup error (exit 2)
/// naming the file and quoting ffmpeg.
pub fn features(
    plan: &Plan,
    fps: u32,
    tools: &Tools,
    layout: &Layout,
    cache_use: CacheUse,
    rep: &mut dyn Reporter,
) -> Result<Option<Features>, RunError> {
    let Some(audio) = &plan.audio else {
        return Ok(None);
    };
    let dir = layout.feature_cache();
    let got = match cache_use {
        CacheUse::ReadWrite => {
            cache::features_for(&tools.ffmpeg, audio, plan.audio_from, fps, None, &dir)
        }
        CacheUse::ReadOnly => {
            cache::features_read_only(&tools.ffmpeg, audio, plan.audio_from, fps, None, &dir)
        }
    };
    let (f, hit) = got.map_err(|e| {
        if crate::procs::interrupts().any() {
            RunError::Interrupted
        } else {
            RunError::Setup(format!("audio: {e}"))
        }
    })?;
    if cache_use == CacheUse::ReadWrite || hit.hit {
        rep.line(&format!("farm: {}", hit.log_line()));
    }
    Ok(Some(f))
}
