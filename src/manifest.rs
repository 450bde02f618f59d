//! The manifest: the work dir's record of every clip's state, so that a second run does only
//! what is left and never trusts a clip blindly. It is a folder (`state/`) of one small file per
//! clip (`state/<id>.yaml`), not one file for the whole plan: each Slurm task, on whichever node,
//! writes only its own clip's record, and no writer ever rewrites another's.
//!
//! - A record is written to a temporary file (named by host and pid, so that two nodes never
//!   share one), flushed to disk, then renamed over the old one: a power cut leaves the old
//!   record or the new one, never half of one. Rename within a folder is atomic on NFS too.
//! - Its last line is a BLAKE3 checksum of the lines before, and it names its own clip: a
//!   truncated, edited or copied record is set aside, and only that clip is rendered again.
//! - A clip is recorded `done` only after its file is in place and passed its check (frame count,
//!   size, rate, codec), with the file's size and BLAKE3 digest; a `done` clip is reused only if
//!   its hash still matches the plan (scene, params, duration, size, fps, encoder settings, seed,
//!   fonts, renderer version) AND its file still has that size and digest ([`verify_file`]).
//!   A record without a digest (an older farm's) is not reused.
//! - A record says where its clip was last worked on (host, pid, Slurm task), so that `farm
//!   status` can tell a clip that is being rendered from one whose renderer died without a word.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Bump when the renderer's output for the same inputs changes: every clip becomes stale.
/// 2: the worker converts frames to yuv420p itself (BT.709 / BT.601, tagged), not swscale.
pub const RENDERER_REVISION: u32 = 2;

/// A record's last line starts with this, followed by the BLAKE3 (hex) of the lines before.
const CHECKSUM_PREFIX: &str = "# checksum: ";

/// Format version of a record file. 2: one file per clip (1 was one `manifest.yaml` for all;
/// a work dir of an older farm has no `state/`, so its clips are rendered again).
pub const MANIFEST_VERSION: u32 = 2;

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
    /// The host of the process that made the last change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Its process id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Its Slurm task (`<array job>_<task>`, or the job id of a job that is no array), when it
    /// ran in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slurm: Option<String>,
}

/// Who is writing: host, pid and Slurm task of this process ([`ClipRecord::host`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writer {
    /// Host name.
    pub host: String,
    /// Process id.
    pub pid: u32,
    /// Slurm task, from `SLURM_ARRAY_JOB_ID`/`SLURM_ARRAY_TASK_ID` (or `SLURM_JOB_ID`).
    pub slurm: Option<String>,
}

impl Writer {
    /// This process.
    pub fn me() -> Writer {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let slurm = match (var("SLURM_ARRAY_JOB_ID"), var("SLURM_ARRAY_TASK_ID")) {
            (Some(j), Some(t)) => Some(format!("{j}_{t}")),
            _ => var("SLURM_JOB_ID"),
        };
        Writer {
            host: hostname(),
            pid: std::process::id(),
            slurm,
        }
    }
}

/// This machine's host name (`gethostname(2)`), or `localhost` when it has none.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let n = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    match String::from_utf8_lossy(&buf[..n]).trim() {
        h if rc == 0 && !h.is_empty() => h.to_string(),
        _ => "localhost".to_string(),
    }
}

/// Every clip's record, by clip id (the records of `state/`, read together).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifest {
    /// Records by clip id.
    pub clips: BTreeMap<String, ClipRecord>,
}

/// One record file as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordFile {
    /// [`MANIFEST_VERSION`].
    version: u32,
    /// The clip it is the record of (its file's name must say the same).
    id: String,
    /// The record.
    clip: ClipRecord,
}

/// What [`Manifest::load`] read: the records it trusts, and the files it does not (with why).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    /// The records that read back whole.
    pub manifest: Manifest,
    /// Record files that are damaged, foreign or of another version, and why.
    pub damaged: Vec<(PathBuf, String)>,
}

/// The name of a clip's record file in `state/` (ids are safe file names: `plan::check_id`).
pub fn record_file_name(id: &str) -> String {
    format!("{id}.yaml")
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Manifest {
    /// Read every record in the folder `dir`: none when it does not exist; a record that
    /// cannot be trusted (truncated, corrupt, another version, naming another clip) is left
    /// out and listed in [`Loaded::damaged`]. `Err` only when the folder cannot be listed.
    pub fn load(dir: &Path) -> Result<Loaded, String> {
        let mut out = Loaded::default();
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
        };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            // Temporary files start with '.', set-aside ones end in `.damaged`.
            let Some(id) = name
                .strip_suffix(".yaml")
                .filter(|_| !name.starts_with('.'))
            else {
                continue;
            };
            match load_record(&path, id) {
                Ok(Some(r)) => {
                    out.manifest.clips.insert(id.to_string(), r);
                }
                Ok(None) => {}
                Err(e) => out.damaged.push((path, e)),
            }
        }
        Ok(out)
    }

    /// Write every record into `dir` (created if needed); see [`save_record`].
    pub fn save(&self, dir: &Path) -> Result<(), String> {
        for (id, r) in &self.clips {
            save_record(dir, id, r, &tmp_name(dir, id))?;
        }
        Ok(())
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
                host: None,
                pid: None,
                slurm: None,
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

    /// Move a damaged record aside (`<id>.yaml.damaged`) so that a fresh one can start.
    pub fn quarantine(path: &Path) -> Option<PathBuf> {
        let mut aside = path.as_os_str().to_owned();
        aside.push(".damaged");
        let aside = PathBuf::from(aside);
        std::fs::rename(path, &aside).ok().map(|_| aside)
    }
}

/// The temporary file a record is written to before it is renamed into place: hidden (it
/// starts with '.'), and named by host and pid, so that writers on two nodes never share one.
pub fn tmp_name(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!(
        ".{id}.yaml.tmp-{}-{}",
        hostname(),
        std::process::id()
    ))
}

/// Read one record file, which must name the clip `id`: `Ok(None)` when there is none, `Err`
/// (with the reason) when it exists but cannot be trusted.
pub fn load_record(path: &Path, id: &str) -> Result<Option<ClipRecord>, String> {
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
    if checksum(body) != want.trim() || !text.ends_with('\n') {
        return Err(format!(
            "{} is damaged: its checksum does not match its contents",
            path.display()
        ));
    }
    let f: RecordFile =
        serde_yaml_ng::from_str(body).map_err(|e| format!("{} is damaged: {e}", path.display()))?;
    if f.version != MANIFEST_VERSION {
        return Err(format!(
            "{} has version {}, this farm writes {MANIFEST_VERSION}",
            path.display(),
            f.version
        ));
    }
    if f.id != id {
        return Err(format!(
            "{} is the record of clip '{}', not of '{id}' (copied or renamed by hand?)",
            path.display(),
            f.id
        ));
    }
    Ok(Some(f.clip))
}

/// Write clip `id`'s record into `dir` (created if needed) atomically: through the temporary
/// file `tmp` (in `dir`, see [`tmp_name`]), fsync, rename, fsync the folder.
pub fn save_record(dir: &Path, id: &str, rec: &ClipRecord, tmp: &Path) -> Result<(), String> {
    let file = RecordFile {
        version: MANIFEST_VERSION,
        id: id.to_string(),
        clip: rec.clone(),
    };
    let text = serde_yaml_ng::to_string(&file)
        .map_err(|e| format!("cannot encode the record of '{id}': {e}"))?;
    let path = dir.join(record_file_name(id));
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let mut f = std::fs::File::create(tmp)?;
        let body = format!(
            "# farm: the state of one clip; written atomically, do not edit by hand\n{}",
            text.trim_end_matches('\n')
        );
        let sum = checksum(&body);
        f.write_all(format!("{body}\n{CHECKSUM_PREFIX}{sum}\n").as_bytes())?;
        f.sync_all()?;
        std::fs::rename(tmp, &path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        format!("cannot write the record {}: {e}", path.display())
    })
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
        let dir = d.path().join("state");
        assert_eq!(Manifest::load(&dir), Ok(Loaded::default()));
        let mut m = Manifest::default();
        m.set("it's a clip", "abc", 24, ClipState::Done).seconds = Some(1.5);
        let b = m.set("b#2", "def", 12, ClipState::Failed);
        b.error = Some("boom".into());
        b.slurm = Some("41_3".into());
        m.save(&dir).unwrap();
        let back = Manifest::load(&dir).unwrap();
        assert_eq!(back.manifest, m);
        assert!(back.damaged.is_empty());
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["b#2.yaml", "it's a clip.yaml"],
            "one file per clip, no temporary file left"
        );
    }

    /// Every truncation of a record, a flipped byte, another version, a record copied under
    /// another clip's name: that one record is refused (with why), the others still read.
    #[test]
    fn a_damaged_record_is_refused_alone() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().to_path_buf();
        let mut m = Manifest::default();
        for i in 0..5 {
            m.set(&format!("clip{i}"), "h", 10, ClipState::Done);
        }
        m.save(&dir).unwrap();
        let p = dir.join("clip2.yaml");
        let full = std::fs::read(&p).unwrap();
        let check = |why: &str| {
            let l = Manifest::load(&dir).unwrap();
            assert_eq!(l.manifest.clips.len(), 4, "{why}: the others still read");
            assert!(!l.manifest.clips.contains_key("clip2"), "{why}");
            assert_eq!(l.damaged.len(), 1, "{why}");
            assert_eq!(l.damaged[0].0, p);
            l.damaged[0].1.clone()
        };
        for cut in 0..full.len() - 1 {
            std::fs::write(&p, &full[..cut]).unwrap();
            let e = check(&format!("cut at {cut}"));
            assert!(e.contains("damaged"), "{e}");
        }
        let mut flipped = full.clone();
        flipped[full.len() / 2] ^= 1;
        std::fs::write(&p, &flipped).unwrap();
        check("flipped byte");
        std::fs::copy(dir.join("clip3.yaml"), &p).unwrap();
        assert!(check("copied").contains("the record of clip 'clip3', not of 'clip2'"));
        std::fs::write(&p, "\u{0}\u{1}garbage: [").unwrap();
        check("garbage");
        let aside = Manifest::quarantine(&p).unwrap();
        assert!(aside.ends_with("clip2.yaml.damaged") && !p.exists());
        let l = Manifest::load(&dir).unwrap();
        assert!(l.damaged.is_empty(), "a set-aside record is not read again");
    }

    #[test]
    fn a_record_of_another_version_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let body = "# farm\nversion: 1\nid: a\nclip:\n  state: done\n  hash: h\n  frames: 1\n  attempts: 0\n  updated: 0";
        let p = d.path().join("a.yaml");
        std::fs::write(&p, format!("{body}\n{CHECKSUM_PREFIX}{}\n", checksum(body))).unwrap();
        let e = load_record(&p, "a").unwrap_err();
        assert!(e.contains("has version 1, this farm writes 2"), "{e}");
    }

    /// Records are written by many processes at once (Slurm tasks on several nodes): each
    /// writes its own clip's file, and every record reads back whole whenever it is read.
    #[test]
    fn concurrent_writers_of_different_clips_never_damage_each_other() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().to_path_buf();
        std::thread::scope(|s| {
            for t in 0..4 {
                let dir = dir.clone();
                s.spawn(move || {
                    let id = format!("c{t}");
                    let mut m = Manifest::default();
                    for i in 0..50 {
                        m.set(&id, "h", i, ClipState::Running);
                        // One temporary file per writer: threads here stand for processes.
                        let tmp = dir.join(format!(".{id}.tmp-{t}"));
                        save_record(&dir, &id, &m.clips[&id], &tmp).unwrap();
                    }
                });
            }
            for _ in 0..50 {
                let l = Manifest::load(&dir).unwrap();
                assert!(l.damaged.is_empty(), "{:?}", l.damaged);
            }
        });
        let l = Manifest::load(&dir).unwrap();
        assert_eq!(l.manifest.clips.len(), 4);
        assert!(l.manifest.clips.values().all(|r| r.frames == 49));
    }

    #[test]
    fn hashes_are_stable_and_sensitive() {
        let a = clip_hash(&("plasma", 1.0f64, 42u64));
        assert_eq!(a, clip_hash(&("plasma", 1.0f64, 42u64)));
        assert_ne!(a, clip_hash(&("plasma", 1.0f64, 43u64)));
        assert_ne!(a, clip_hash(&("plasma", 1.5f64, 42u64)));
        assert_eq!(a.len(), 64, "BLAKE3, hex");
    }

    #[test]
    fn a_new_hash_resets_the_history() {
        let mut m = Manifest::default();
        m.set("a", "h1", 10, ClipState::Failed).attempts = 3;
        assert_eq!(m.set("a", "h1", 10, ClipState::Running).attempts, 3);
        assert_eq!(m.set("a", "h2", 10, ClipState::Running).attempts, 0);
    }

    #[test]
    fn a_record_without_a_digest_still_loads_and_its_clip_is_not_trusted() {
        let d = tempfile::tempdir().unwrap();
        // Written without `digest` and `bytes`.
        let body = "# farm\nversion: 2\nid: a\nclip:\n  state: done\n  hash: abc\n  frames: 12\n  attempts: 1\n  error: null\n  seconds: 1.0\n  updated: 5";
        let p = d.path().join("a.yaml");
        std::fs::write(&p, format!("{body}\n{CHECKSUM_PREFIX}{}\n", checksum(body))).unwrap();
        let m = Manifest::load(d.path()).unwrap().manifest;
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
