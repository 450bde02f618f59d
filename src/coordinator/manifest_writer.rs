//! The manifest writer of a run: clip records changed as the run goes, written at most once a
//! second (and at every end), atomically, each in its own file: a run writes only the records
//! it changed, so that `farm render` tasks of other clips (Slurm tasks) are never overwritten.

use crate::coordinator::layout::Layout;
use crate::coordinator::types::Clip;
use crate::manifest::{self, ClipRecord, ClipState, Manifest, Writer};
use crate::report::Reporter;
use std::collections::BTreeSet;
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
    layout: Layout,
    me: Writer,
    dirty: BTreeSet<String>,
    last: Option<Instant>,
    warned: bool,
}

impl ManifestWriter {
    /// Write into the work dir's records ([`Layout::record`]), starting from `manifest`; no
    /// record is written until it is changed.
    pub fn new(manifest: Manifest, layout: &Layout) -> ManifestWriter {
        ManifestWriter {
            manifest,
            layout: layout.clone(),
            me: Writer::me(),
            dirty: BTreeSet::new(),
            last: None,
            warned: false,
        }
    }

    /// Set a clip's state and make `change` to its record.
    pub fn set(&mut self, clip: &Clip, state: ClipState, change: Change) {
        let r = self.manifest.set(&clip.id, &clip.hash, clip.frames, state);
        r.host = Some(self.me.host.clone());
        r.pid = Some(self.me.pid);
        r.slurm.clone_from(&self.me.slurm);
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
        self.dirty.insert(clip.id.clone());
    }

    /// The record of a clip.
    pub fn get(&self, id: &str) -> Option<&ClipRecord> {
        self.manifest.clips.get(id)
    }

    /// Write the changed records if (`force` or a second has passed). A failure is reported
    /// once (the old record stays, which only makes the next run re-check more); its record is
    /// tried again at the next flush.
    pub fn flush(&mut self, force: bool, rep: &mut dyn Reporter) {
        if self.dirty.is_empty()
            || (!force
                && self
                    .last
                    .is_some_and(|t| t.elapsed() < Duration::from_secs(1)))
        {
            return;
        }
        let dir = self.layout.state_dir();
        let mut failed = BTreeSet::new();
        for id in std::mem::take(&mut self.dirty) {
            let Some(r) = self.manifest.clips.get(&id) else {
                continue;
            };
            if let Err(e) = manifest::save_record(&dir, &id, r, &self.layout.record_tmp(&id)) {
                if !self.warned {
                    rep.line(&format!(
                        "farm: warning: {e}; the next run will re-check these clips"
                    ));
                    self.warned = true;
                }
                failed.insert(id);
            }
        }
        self.dirty = failed;
        self.last = Some(Instant::now());
    }
}
