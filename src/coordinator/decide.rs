//! Which clips a run renders: [`decide`] compares each clip's hash and record with the plan's,
//! [`verify_files`] checks the files of clips recorded done; [`status`] is the same decision
//! for `farm status`.

use crate::coordinator::layout::Layout;
use crate::coordinator::types::{Clip, RunError, clips_of};
use crate::manifest::{self, ClipRecord, ClipState, Manifest};
use crate::plan::Plan;
use crate::profile::RenderSettings;
use crate::report::Reporter;
use std::collections::HashSet;
use std::path::PathBuf;

/// Why a clip will be rendered, or that it will be reused.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Done, unchanged, and its file checks out.
    Reuse,
    /// Named with `--only` (or `farm render`).
    Forced,
    /// Never rendered (or its record is gone).
    Missing,
    /// The plan or settings changed since it was rendered.
    Stale,
    /// It failed last time.
    Failed,
    /// An earlier run stopped while rendering it.
    Interrupted,
    /// Recorded done, but its file does not check out (the reason).
    Unverified(String),
}

impl Decision {
    /// A short word for tables and lines.
    pub fn word(&self) -> String {
        match self {
            Decision::Reuse => "reuse".into(),
            Decision::Forced => "render (asked for)".into(),
            Decision::Missing => "render (missing)".into(),
            Decision::Stale => "render (stale: inputs changed)".into(),
            Decision::Failed => "render (failed last time)".into(),
            Decision::Interrupted => "render (interrupted)".into(),
            Decision::Unverified(why) => format!("render (file does not check out: {why})"),
        }
    }
}

/// Decide for each clip. `verify` checks the files of clips recorded done and unchanged
/// (ffprobe for a run; a cheaper look for `farm status`).
pub fn decide(
    clips: &[Clip],
    manifest: &Manifest,
    forced: &HashSet<&str>,
    verify: impl Fn(&[&Clip]) -> Vec<Result<(), String>>,
) -> Vec<Decision> {
    let mut out: Vec<Decision> = clips
        .iter()
        .map(|c| {
            if forced.contains(c.id.as_str()) {
                return Decision::Forced;
            }
            match manifest.clips.get(&c.id) {
                None => Decision::Missing,
                Some(r) if r.hash != c.hash => Decision::Stale,
                Some(r) => match r.state {
                    ClipState::Done => Decision::Reuse,
                    ClipState::Failed => Decision::Failed,
                    ClipState::Running | ClipState::Interrupted => Decision::Interrupted,
                    ClipState::Pending => Decision::Missing,
                },
            }
        })
        .collect();
    let candidates: Vec<&Clip> = clips
        .iter()
        .zip(&out)
        .filter(|(_, d)| **d == Decision::Reuse)
        .map(|(c, _)| c)
        .collect();
    let mut results = verify(&candidates).into_iter();
    for d in out.iter_mut().filter(|d| **d == Decision::Reuse) {
        if let Some(Err(why)) = results.next() {
            *d = Decision::Unverified(why);
        }
    }
    out
}

/// Check the files of clips recorded done against their records ([`manifest::verify_file`]):
/// size, and with `hash_contents` the digest too (a few files at a time).
pub fn verify_files(
    layout: &Layout,
    m: &Manifest,
    cands: &[&Clip],
    hash_contents: bool,
) -> Vec<Result<(), String>> {
    let mut out = vec![Ok(()); cands.len()];
    for (chunk_in, chunk_out) in cands.chunks(4).zip(out.chunks_mut(4)) {
        std::thread::scope(|scope| {
            for (c, slot) in chunk_in.iter().zip(chunk_out.iter_mut()) {
                scope.spawn(move || {
                    *slot = match m.clips.get(&c.id) {
                        Some(r) => manifest::verify_file(&layout.clip(&c.id), r, hash_contents),
                        None => Err("no record".to_string()),
                    }
                });
            }
        });
    }
    out
}

/// Load the manifest (every clip's record); a damaged record is set aside (with a warning) and
/// only its clip is rendered again.
pub fn load_manifest(layout: &Layout, rep: &mut dyn Reporter) -> Result<Manifest, RunError> {
    let loaded = Manifest::load(&layout.state_dir()).map_err(RunError::Setup)?;
    for (path, e) in &loaded.damaged {
        let aside = Manifest::quarantine(path)
            .map(|p| format!(" (kept as {})", p.display()))
            .unwrap_or_default();
        rep.line(&format!(
            "farm: warning: {e}{aside}; its clip will be rendered again"
        ));
    }
    Ok(loaded.manifest)
}

/// One row of `farm status`.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusRow {
    /// The clip.
    pub clip: Clip,
    /// Its record, if any.
    pub record: Option<ClipRecord>,
    /// What the next `farm run` would do with it.
    pub decision: Decision,
    /// Its log, if it exists.
    pub log: Option<PathBuf>,
}

/// What the manifest and the files say about each clip, and what the next run would do.
/// Files are checked for presence and their recorded size only (a run also checks their digest).
pub fn status(
    plan: &Plan,
    settings: &RenderSettings,
    track: Option<&crate::audio::Features>,
    rep: &mut dyn Reporter,
) -> Result<Vec<StatusRow>, RunError> {
    let clips = clips_of(plan, settings, track)?;
    let layout = Layout::of(plan);
    let loaded = Manifest::load(&layout.state_dir()).map_err(RunError::Setup)?;
    for (_, e) in &loaded.damaged {
        rep.line(&format!(
            "farm: warning: {e}; the next run will set it aside and render its clip again"
        ));
    }
    let m = loaded.manifest;
    let decisions = decide(&clips, &m, &HashSet::new(), |cands| {
        verify_files(&layout, &m, cands, false)
    });
    Ok(clips
        .into_iter()
        .zip(decisions)
        .map(|(c, decision)| {
            let log = Some(layout.log(&c.id)).filter(|p| p.exists());
            StatusRow {
                record: m.clips.get(&c.id).cloned(),
                clip: c,
                decision,
                log,
            }
        })
        .collect())
}
