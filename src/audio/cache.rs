//! Features on disk, so that a track is decoded and analysed once.
//!
//! A cache entry is keyed by the audio's content (the blake3 digest of the file, read
//! streaming), the fps, the `from` offset, the frame count, the analysis rate and
//! [`FEATURE_VERSION`]; its file name is a digest of that key, so changing any of them (or
//! the file's bytes) is a miss. The file is `FARMFEAT`, the format version (u32 LE), the
//! blake3 checksum of the payload (32 bytes), then the payload: the key and the [`Features`]
//! in postcard (exact f32 bits, so a hit gives exactly what a fresh analysis would). It is
//! written to a temporary file in the same folder and renamed into place, so a reader never
//! sees half a file; a file that is damaged (short, bad checksum, wrong key, inconsistent
//! table) is ignored, recomputed and rewritten. Entries are never deleted here.
//!
//! Use [`features_for`]:
//! ```no_run
//! # use std::path::Path;
//! let (features, hit) = farm::audio::cache::features_for(
//!     Path::new("ffmpeg"), Path::new("song.mp3"), 30.0, 24, Some(7200), Path::new(".farm/cache"),
//! )?;
//! eprintln!("{}", hit.log_line());
//! let row = features.row(0);
//! # Ok::<(), String>(())
//! ```

use super::{ANALYSIS_RATE, FEATURE_VERSION, Features};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The first bytes of a cache file.
pub const MAGIC: &[u8; 8] = b"FARMFEAT";

/// What a cache entry is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Key {
    /// [`FEATURE_VERSION`].
    pub version: u32,
    /// blake3 digest of the audio file, hex.
    pub digest: String,
    /// Video frames per second.
    pub fps: u32,
    /// The `from` offset in seconds.
    pub from: f64,
    /// Frames asked for (None: the track's length).
    pub frames: Option<u64>,
    /// The analysis sample rate.
    pub rate: u32,
}

impl Key {
    /// The cache file's name for this key: `features-<digest of the key>.bin`.
    pub fn file_name(&self) -> String {
        let bytes = postcard::to_stdvec(self).expect("a key always serialises");
        let h = blake3::hash(&bytes).to_hex();
        format!("features-{}.bin", &h[..32])
    }
}

/// How [`features_for`] got its features: whether the cache had them, and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheHit {
    /// The features came from the cache; the audio was not decoded.
    pub hit: bool,
    /// The cache file.
    pub path: PathBuf,
    /// The audio file.
    pub audio: PathBuf,
    /// Why an existing cache file was not used (damaged), if there was one.
    pub ignored: Option<String>,
    /// Why the fresh features could not be stored (the run goes on without the cache).
    pub write_error: Option<String>,
}

impl CacheHit {
    /// One line for the log, saying whether the audio was decoded.
    pub fn log_line(&self) -> String {
        if self.hit {
            return format!(
                "audio: features of {} from the cache {} (not decoded again)",
                self.audio.display(),
                self.path.display()
            );
        }
        let mut s = format!("audio: decoded and analysed {}", self.audio.display());
        if let Some(why) = &self.ignored {
            s.push_str(&format!("; ignored a damaged cache file ({why})"));
        }
        match &self.write_error {
            None => s.push_str(&format!("; cached in {}", self.path.display())),
            Some(e) => s.push_str(&format!("; not cached: {e}")),
        }
        s
    }
}

/// The blake3 digest of a file, read in blocks (never the whole file in memory).
pub fn digest_file(path: &Path) -> std::io::Result<blake3::Hash> {
    let mut h = blake3::Hasher::new();
    h.update_reader(std::fs::File::open(path)?)?;
    Ok(h.finalize())
}

/// Features of `audio` from `from` seconds on, for `frames` video frames at `fps` (None: the
/// track's length), from the cache in `cache_dir` when it has them, else decoded with
/// `ffmpeg`, analysed and stored there. An error (a missing, empty or undecodable file, `from`
/// past its end) names the file and quotes ffmpeg; a cache that cannot be written is not an
/// error (see [`CacheHit::write_error`]).
pub fn features_for(
    ffmpeg: &Path,
    audio: &Path,
    from: f64,
    fps: u32,
    frames: Option<usize>,
    cache_dir: &Path,
) -> Result<(Features, CacheHit), String> {
    cached(ffmpeg, audio, from, fps, frames, cache_dir, true)
}

/// [`features_for`] that never writes: fresh features are not stored (for commands that
/// create nothing, such as `farm check`).
pub fn features_read_only(
    ffmpeg: &Path,
    audio: &Path,
    from: f64,
    fps: u32,
    frames: Option<usize>,
    cache_dir: &Path,
) -> Result<(Features, CacheHit), String> {
    cached(ffmpeg, audio, from, fps, frames, cache_dir, false)
}

fn cached(
    ffmpeg: &Path,
    audio: &Path,
    from: f64,
    fps: u32,
    frames: Option<usize>,
    cache_dir: &Path,
    write: bool,
) -> Result<(Features, CacheHit), String> {
    if !from.is_finite() || from < 0.0 {
        return Err(format!(
            "audio {}: `from` must be a number of seconds >= 0 (got {from})",
            audio.display()
        ));
    }
    let digest = match digest_file(audio) {
        Ok(d) => d,
        // ffmpeg says it best (and the same way as without a cache).
        Err(e) => {
            return Err(super::decode(ffmpeg, audio, from)
                .err()
                .unwrap_or_else(|| format!("audio {}: {e}", audio.display())));
        }
    };
    let key = Key {
        version: FEATURE_VERSION,
        digest: digest.to_hex().to_string(),
        fps: fps.max(1),
        from,
        frames: frames.map(|f| f as u64),
        rate: ANALYSIS_RATE,
    };
    let path = cache_dir.join(key.file_name());
    let mut outcome = CacheHit {
        hit: false,
        path: path.clone(),
        audio: audio.to_path_buf(),
        ignored: None,
        write_error: None,
    };
    match load(&path, &key) {
        Ok(Some(f)) => {
            outcome.hit = true;
            return Ok((f, outcome));
        }
        Ok(None) => {}
        Err(why) => outcome.ignored = Some(why),
    }
    let f = super::decode_and_analyse(ffmpeg, audio, from, fps, frames)?;
    if !write {
        outcome.write_error = Some("not written by this command".into());
    } else if let Err(e) = store(&path, &key, &f) {
        outcome.write_error = Some(e);
    }
    Ok((f, outcome))
}

/// The features in cache file `path` if it holds `key`'s: `Ok(None)` when there is no such
/// file, `Err(why)` when there is one but it is damaged or holds something else.
pub fn load(path: &Path, key: &Key) -> Result<Option<Features>, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read it: {e}")),
    };
    let head = MAGIC.len() + 4 + 32;
    if bytes.len() < head || &bytes[..MAGIC.len()] != MAGIC {
        return Err("not a farm feature file".into());
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != FEATURE_VERSION {
        return Err(format!("format version {version}, not {FEATURE_VERSION}"));
    }
    let payload = &bytes[head..];
    if blake3::hash(payload).as_bytes()[..] != bytes[12..44] {
        return Err("checksum mismatch".into());
    }
    let (stored_key, features): (Key, Features) =
        postcard::from_bytes(payload).map_err(|e| format!("cannot parse it: {e}"))?;
    if stored_key != *key {
        return Err("it is for another key".into());
    }
    if !features.is_consistent() {
        return Err("inconsistent feature table".into());
    }
    Ok(Some(features))
}

/// Write `features` for `key` to `path` atomically (a temporary file in the same folder,
/// renamed into place); the folder is created if needed.
pub fn store(path: &Path, key: &Key, features: &Features) -> Result<(), String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    std::fs::create_dir_all(dir).map_err(fail)?;
    let payload = postcard::to_stdvec(&(key, features))
        .map_err(|e| format!("cannot serialise the features: {e}"))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".features-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(fail)?;
    tmp.write_all(MAGIC).map_err(fail)?;
    tmp.write_all(&FEATURE_VERSION.to_le_bytes())
        .map_err(fail)?;
    tmp.write_all(blake3::hash(&payload).as_bytes())
        .map_err(fail)?;
    tmp.write_all(&payload).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
