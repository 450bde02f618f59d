//! The manifest writer of a run: clip records changed as the run goes, written at most once a
//! second (and at every end), atomically.

use crate::coordinator::layout::Layout;
use crate::coordinator::types::Clip;
use crate::manifest::{ClipRecord, ClipState, Manifest};
use crate::report::Reporter;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What to change in a clip's manifest record along with its state.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Nothing else.
    None,
    /// One more attempt.
    Attempt,
    /// Why it failed (or was interrupted).
    Error(String),
    /// Done: its error cleared, its time, size and digest recorded.
    Done {
        /// Seconds.
        secs: f64,
        /// BLAKE3 of the file.
        digest: String,
        /// Size.
        bytes: u64,
    },
}

/// The manifest of a run, written at most once a second (and at every end), atomically.
/// Being late is safe: a clip is recorded `done` only after its file is in place, and a `done`
/// clip is always re-checked before it is reused.
pub struct ManifestWriter {
    manifest: Manifest,
    path: PathBuf,
    tmp: PathBuf,
    dirty: bool,
    last: Option<Instant>,
    warned: bool,
}

impl ManifestWriter {
    /// Write to the work dir's manifest ([`Layout::manifest`], through
    /// [`Layout::manifest_tmp`]), starting from `manifest`.
    pub fn new(manifest: Manifest, layout: &Layout) -> ManifestWriter {
        ManifestWriter {
            manifest,
            path: layout.manifest(),
            tmp: layout.manifest_tmp(std::process::id()),
            dirty: true,
            last: None,
            warned: false,
        }
    }

    /// Set a clip's state and make `change` to its record.
    pub fn set(&mut self, clip: &Clip, state: ClipState, change: Change) {
        let r = self.manifest.set(&clip.id, &clip.hash, clip.frames, state);
        match change {
            Change::None => {}
            Change::Attempt => r.attempts += 1,
            Change::Error(e) => r.error = Some(e),
            Change::Done {
                secs,
                digest,
                bytes,
            } => {
                r.error = None;
                r.seconds = Some(secs);
                r.digest = Some(digest);
                r.bytes = Some(bytes);
            }
        }
        self.dirty = true;
    }

    /// The record of a clip.
    pub fn get(&self, id: &str) -> Option<&ClipRecord> {
        self.manifest.clips.get(id)
    }

    /// Write if something changed and (`force` or a second has passed). A failure is reported
    /// once (the old manifest stays, which only makes the next run re-check more).
    pub fn flush(&mut self, force: bool, rep: &mut dyn Reporter) {
        if !self.dirty
            || (!force
                && self
                    .last
                    .is_some_and(|t| t.elapsed() < Duration::from_secs(1)))
        {
            return;
        }
        match self.manifest.save_via(&self.path, &self.tmp) {
            Ok(()) => {
                self.dirty = false;
                self.last = Some(Instant::now());
            }
            Err(e) => {
                if !self.warned {
                    rep.line(&format!(
                        "farm: warning: {e}; the next run will re-check these clips"
                    ));
                    self.warned = true;
                }
            }
        }
    }
}
