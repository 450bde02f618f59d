//! The manifest: the work dir's record of every clip's state, so that a second run does only
//! what is left and never trusts a clip blindly.
//!
//! - Written to a temporary file, flushed to disk, then renamed over the old one: a power cut
//!   leaves the old manifest or the new one, never half of one.
//! - A clip is recorded `done` only after its file is in place and passed ffprobe (frame count,
//!   size, rate, codec), with the file's size and BLAKE3 digest; a `done` clip is reused only if
//!   its hash still matches the plan (scene, params, duration, size, fps, encoder settings, seed,
//!   fonts, renderer version) AND its file still has that size and digest ([`verify_file`]).
//!   A record without a digest (an older farm's) is not reused.
//! - A manifest that cannot be read is never guessed at: the run says so, keeps the damaged file
//!   aside, and renders every clip again (a safe rebuild, never a wrong video).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Bump when the renderer's output for the same inputs changes: every clip becomes stale.
/// 2: the worker converts frames to yuv420p itself (BT.709 / BT.601, tagged), not swscale.
pub const RENDERER_REVISION: u32 = 2;

/// The manifest's last line starts with this, followed by the BLAKE3 (hex) of the lines before.
/// (A manifest of an older farm, checked with FNV-1a, reads as written by an older farm: it is
/// set aside and every clip is rendered again.)
const CHECKSUM_PREFIX: &str = "# checksum: ";

/// Format version of the manifest file.
pub const MANIFEST_VERSION: u32 = 1;

/// Where a clip stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClipState {
    /// Not rendered yet.
    Pending,
    /// A worker is rendering it (a manifest left in this state means the run died).
    Running,
    /// Rendered and in place.
    Done,
    /// Failed (after its retries).
    Failed,
    /// Stopped by an interrupt; its partial file was removed.
    Interrupted,
}

impl ClipState {
    /// Lower-case name, as in the file.
    pub fn name(self) -> &'static str {
        match self {
            ClipState::Pending => "pending",
            ClipState::Running => "running",
            ClipState::Done => "done",
            ClipState::Failed => "failed",
            ClipState::Interrupted => "interrupted",
        }
    }
}

/// One clip's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClipRecord {
    /// State.
    pub state: ClipState,
    /// Hash of everything that determines the clip's frames ([`clip_hash`]).
    pub hash: String,
    /// Frames the clip has (or will have).
    pub frames: u64,
    /// Attempts so far with this hash.
    pub attempts: u32,
    /// Why it failed, when it did.
    #[serde(default)]
    pub error: Option<String>,
    /// Wall time of the last successful render, seconds.
    #[serde(default)]
    pub seconds: Option<f64>,
    /// BLAKE3 of the clip's file (hex), recorded when it was rendered and checked. A `done`
    /// record without one (written by an older farm) is not trusted: the clip is rendered again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Size of the clip's file in bytes, recorded with [`ClipRecord::digest`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Unix time of the last change.
    pub updated: u64,
}

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`MANIFEST_VERSION`].
    pub version: u32,
    /// Records by clip id.
    pub clips: BTreeMap<String, ClipRecord>,
}

impl Default for Manifest {
    fn default() -> Self {
        Manifest {
            version: MANIFEST_VERSION,
            clips: BTreeMap::new(),
        }
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Manifest {
    /// Read a manifest: `Ok(None)` when there is none, `Err` (with the reason) when it exists
    /// but cannot be trusted (truncated, corrupt, another version).
    pub fn load(path: &Path) -> Result<Option<Manifest>, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        // The last line is a checksum of everything before it: a truncated or edited file fails.
        let body = text.strip_suffix('\n').unwrap_or(&text);
        let (body, sum) = body.rsplit_once('\n').unwrap_or(("", body));
        let want = sum.strip_prefix(CHECKSUM_PREFIX).ok_or_else(|| {
            format!(
                "{} is damaged: its checksum line is missing (truncated?)",
                path.display()
            )
        })?;
        // An older farm's FNV-1a checksum: 32 hex digits on a complete last line (a truncated
        // BLAKE3 line has no newline after its 32nd digit).
        if want.len() == 32 && text.ends_with('\n') {
            return Err(format!(
                "{} was written by an older farm (another checksum)",
                path.display()
            ));
        }
        if checksum(body) != want.trim() {
            return Err(format!(
                "{} is damaged: its checksum does not match its contents",
                path.display()
            ));
        }
        let m: Manifest = serde_yaml_ng::from_str(body)
            .map_err(|e| format!("{} is damaged: {e}", path.display()))?;
        if m.version != MANIFEST_VERSION {
            return Err(format!(
                "{} has version {}, this farm writes {MANIFEST_VERSION}",
                path.display(),
                m.version
            ));
        }
        Ok(Some(m))
    }

    /// Write atomically: a temporary file in the same folder, fsync, rename, fsync the folder.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let dir = path.parent().unwrap_or(Path::new("."));
        self.save_via(
            path,
            &dir.join(format!(".manifest.tmp-{}", std::process::id())),
        )
    }

    /// [`Manifest::save`] through the temporary file `tmp` (in the same folder as `path`; a
    /// run's comes from its work dir's layout).
    pub fn save_via(&self, path: &Path, tmp: &Path) -> Result<(), String> {
        let text = serde_yaml_ng::to_string(self)
            .map_err(|e| format!("cannot encode the manifest: {e}"))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(tmp)?;
            let body = format!(
                "# farm manifest: clip states; written atomically, do not edit by hand\n{}",
                text.trim_end_matches('\n')
            );
            let sum = checksum(&body);
            f.write_all(format!("{body}\n{CHECKSUM_PREFIX}{sum}\n").as_bytes())?;
            f.sync_all()?;
            std::fs::rename(tmp, path)?;
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(())
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(tmp);
            format!("cannot write the manifest {}: {e}", path.display())
        })
    }

    /// Set a clip's state (creating its record), stamping the time.
    pub fn set(&mut self, id: &str, hash: &str, frames: u64, state: ClipState) -> &mut ClipRecord {
        let r = self
            .clips
            .entry(id.to_string())
            .or_insert_with(|| ClipRecord {
                state,
                hash: hash.to_string(),
                frames,
                attempts: 0,
                error: None,
                seconds: None,
                digest: None,
                bytes: None,
                updated: 0,
            });
        if r.hash != hash {
            // Different inputs: a different clip as far as history goes.
            r.attempts = 0;
            r.error = None;
            r.seconds = None;
        }
        if state != ClipState::Done {
            // Only a done clip has a file to vouch for.
            r.digest = None;
            r.bytes = None;
        }
        r.hash = hash.to_string();
        r.frames = frames;
        r.state = state;
        r.updated = now();
        r
    }

    /// Move a damaged manifest aside (`manifest.yaml.damaged`) so that a fresh one can start.
    pub fn quarantine(path: &Path) -> Option<PathBuf> {
        let mut aside = path.as_os_str().to_owned();
        aside.push(".damaged");
        let aside = PathBuf::from(aside);
        std::fs::rename(path, &aside).ok().map(|_| aside)
    }
}

/// The manifest's checksum: BLAKE3 of its text, hex.
fn checksum(body: &str) -> String {
    blake3::hash(body.as_bytes()).to_hex().to_string()
}

/// Hash (BLAKE3, hex) of everything that determines a clip's frames and file: `inputs` is any
/// serializable description of them (the coordinator passes the clip's spec with what must not
/// matter taken out, see `clip::ClipSpec::content_hash`); the renderer revision and farm's
/// version are mixed in.
pub fn clip_hash<T: Serialize>(inputs: &T) -> String {
    let text = serde_json::to_string(inputs).unwrap_or_default();
    let mut h = blake3::Hasher::new();
    h.update(
        format!(
            "farm {} renderer {RENDERER_REVISION}\n",
            env!("CARGO_PKG_VERSION")
        )
        .as_bytes(),
    );
    h.update(text.as_bytes());
    h.finalize().to_hex().to_string()
}

/// BLAKE3 of a file's contents, hex (fonts feed clip hashes by content, not by name). Streamed:
/// the file is never held in memory whole.
pub fn file_digest(path: &Path) -> Result<String, String> {
    file_stamp(path).map(|(_, d)| d)
}

/// Size in bytes and BLAKE3 (hex) of a file, read once, streaming (64 KiB at a time).
pub fn file_stamp(path: &Path) -> Result<(u64, String), String> {
    let read = || -> std::io::Result<(u64, String)> {
        let mut f = std::fs::File::open(path)?;
        let mut h = blake3::Hasher::new();
        let n = std::io::copy(&mut f, &mut h)?;
        Ok((n, h.finalize().to_hex().to_string()))
    };
    read().map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Why a recorded clip's file cannot be trusted, or `Ok` when it has the recorded size and
/// (with `hash_contents`) the recorded digest. Without `hash_contents` only the size is looked
/// at (`farm status`: a cheap look; a run always hashes).
pub fn verify_file(path: &Path, rec: &ClipRecord, hash_contents: bool) -> Result<(), String> {
    let (Some(want_digest), Some(want_bytes)) = (&rec.digest, rec.bytes) else {
        return Err("no content digest recorded (rendered by an older farm)".to_string());
    };
    let size = match std::fs::metadata(path) {
        Ok(m) if m.is_file() => m.len(),
        Ok(_) => return Err("not a regular file".to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err("file missing".to_string());
        }
        Err(e) => return Err(format!("cannot read it: {e}")),
    };
    if size != want_bytes {
        return Err(format!(
            "file changed since it was rendered (size {size} bytes, recorded {want_bytes})"
        ));
    }
    if hash_contents {
        let (_, digest) = file_stamp(path)?;
        if &digest != want_digest {
            return Err("file changed since it was rendered (digest mismatch)".to_string());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_atomic_save() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("manifest.yaml");
        assert_eq!(Manifest::load(&p), Ok(None));
        let mut m = Manifest::default();
        m.set("it's a clip", "abc", 24, ClipState::Done).seconds = Some(1.5);
        m.set("b", "def", 12, ClipState::Failed).error = Some("boom".into());
        m.save(&p).unwrap();
        assert_eq!(Manifest::load(&p).unwrap(), Some(m));
        let leftovers: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");
    }

    #[test]
    fn truncated_or_foreign_manifests_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("manifest.yaml");
        let mut m = Manifest::default();
        for i in 0..20 {
            m.set(&format!("clip{i}"), "h", 10, ClipState::Done);
        }
        m.save(&p).unwrap();
        let full = std::fs::read(&p).unwrap();
        // Every truncation is refused, with a reason: never a manifest that was not written.
        for cut in 0..full.len() - 1 {
            std::fs::write(&p, &full[..cut]).unwrap();
            let e = Manifest::load(&p).expect_err(&format!("cut at {cut} must be refused"));
            assert!(e.contains("damaged") || e.contains("version"), "{e}");
        }
        // So is a flipped byte.
        let mut flipped = full.clone();
        flipped[full.len() / 2] ^= 1;
        std::fs::write(&p, &flipped).unwrap();
        assert!(Manifest::load(&p).is_err());
        Manifest {
            version: 99,
            clips: BTreeMap::new(),
        }
        .save(&p)
        .unwrap();
        assert!(Manifest::load(&p).unwrap_err().contains("version 99"));
        std::fs::write(&p, "\u{0}\u{1}garbage: [").unwrap();
        assert!(Manifest::load(&p).is_err());
        let aside = Manifest::quarantine(&p).unwrap();
        assert!(aside.ends_with("manifest.yaml.damaged") && !p.exists());
    }

    #[test]
    fn hashes_are_stable_and_sensitive() {
        let a = clip_hash(&("plasma", 1.0f64, 42u64));
        assert_eq!(a, clip_hash(&("plasma", 1.0f64, 42u64)));
        assert_ne!(a, clip_hash(&("plasma", 1.0f64, 43u64)));
        assert_ne!(a, clip_hash(&("plasma", 1.5f64, 42u64)));
        assert_eq!(a.len(), 64, "BLAKE3, hex");
    }

    /// A manifest written by a farm that checked it with FNV-1a (32 hex digits) is refused as an
    /// older farm's: the run sets it aside and renders every clip again.
    #[test]
    fn a_manifest_with_the_old_checksum_reads_as_an_older_farms() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("manifest.yaml");
        let body = "# farm manifest\nversion: 1\nclips: {}";
        let old = format!(
            "{body}\n{CHECKSUM_PREFIX}{}\n",
            "0123456789abcdef".repeat(2)
        );
        std::fs::write(&p, old).unwrap();
        let e = Manifest::load(&p).unwrap_err();
        assert!(e.contains("written by an older farm"), "{e}");
        let new = format!("{body}\n{CHECKSUM_PREFIX}{}\n", checksum(body));
        std::fs::write(&p, new).unwrap();
        assert!(Manifest::load(&p).unwrap().is_some());
    }

    #[test]
    fn a_new_hash_resets_the_history() {
        let mut m = Manifest::default();
        m.set("a", "h1", 10, ClipState::Failed).attempts = 3;
        assert_eq!(m.set("a", "h1", 10, ClipState::Running).attempts, 3);
        assert_eq!(m.set("a", "h2", 10, ClipState::Running).attempts, 0);
    }

    #[test]
    fn a_manifest_from_before_digests_still_loads_and_its_clips_are_not_trusted() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("manifest.yaml");
        // Written by the farm before digests: no `digest`, no `bytes`.
        let body = "# farm manifest: clip states; written atomically, do not edit by hand\nversion: 1\nclips:\n  a:\n    state: done\n    hash: abc\n    frames: 12\n    attempts: 1\n    error: null\n    seconds: 1.0\n    updated: 5";
        let sum = checksum(body);
        std::fs::write(&p, format!("{body}\n{CHECKSUM_PREFIX}{sum}\n")).unwrap();
        let m = Manifest::load(&p).unwrap().unwrap();
        let rec = &m.clips["a"];
        assert_eq!((rec.digest.as_deref(), rec.bytes), (None, None));
        let clip = d.path().join("a.mp4");
        std::fs::write(&clip, b"anything").unwrap();
        let e = verify_file(&clip, rec, true).unwrap_err();
        assert!(e.contains("no content digest recorded"), "{e}");
    }

    #[test]
    fn a_changed_file_is_caught_by_size_or_digest() {
        let d = tempfile::tempdir().unwrap();
        let clip = d.path().join("a.mp4");
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&clip, &data).unwrap();
        let (bytes, digest) = file_stamp(&clip).unwrap();
        assert_eq!(bytes, data.len() as u64);
        assert_eq!(digest, blake3::hash(&data).to_hex().to_string());
        let mut m = Manifest::default();
        let rec = m.set("a", "h", 12, ClipState::Done);
        rec.digest = Some(digest);
        rec.bytes = Some(bytes);
        let rec = rec.clone();
        assert_eq!(verify_file(&clip, &rec, true), Ok(()));
        // 300 bytes overwritten in the middle: same size, other digest.
        let mut bad = data.clone();
        bad[100_000..100_300].fill(0xAA);
        std::fs::write(&clip, &bad).unwrap();
        assert_eq!(
            verify_file(&clip, &rec, false),
            Ok(()),
            "status only looks at the size"
        );
        assert_eq!(
            verify_file(&clip, &rec, true).unwrap_err(),
            "file changed since it was rendered (digest mismatch)"
        );
        std::fs::write(&clip, &data[..1000]).unwrap();
        let e = verify_file(&clip, &rec, false).unwrap_err();
        assert!(e.contains("size 1000 bytes, recorded 200000"), "{e}");
        std::fs::remove_file(&clip).unwrap();
        assert_eq!(verify_file(&clip, &rec, true).unwrap_err(), "file missing");
        // A record that leaves `done` forgets its digest.
        assert_eq!(m.set("a", "h", 12, ClipState::Running).digest, None);
    }
}
