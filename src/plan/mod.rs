//! The plan: a YAML file of segments, parsed, validated and resolved into typed clips.
//!
//! Every error names the file, line and column, the key and what is wrong. Type errors and
//! unknown keys come from serde (with serde_yaml_ng's position); the checks that serde cannot
//! express (duplicate ids, timings, scenes, params) look their position up in [`spans::Spans`].

mod context;
pub mod spans;
pub mod timing;
mod types;

use context::{Ctx, RawSegment};
pub use timing::TIMING_TOLERANCE;
use timing::secs;
pub use types::{
    CHUNK_SEP, DEFAULT_CHUNK_SECS, MAX_ID_LEN, MAX_SEGMENT_SECONDS, MAX_SEGMENTS, MIN_CHUNK_SECS,
    Plan, PlanError, Segment, Timing,
};

use crate::choices::{Aspect, Quality, X264Preset};
use crate::render::{self, Param, Params, SceneSpec, ShaderSpec};
use serde::Deserialize;
use serde_yaml_ng::Value;
use spans::{MAX_DEPTH, Pos, ScanError, Spans};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Output containers the join can write with H.264 stream copy.
pub const OUTPUT_EXTENSIONS: &[&str] = &["mp4", "mov", "mkv", "m4v"];

/// Scene presets shipped with farm (the repository's `scenes/` folder), by name.
const BUILTIN_PRESETS: &[(&str, &str)] = &[
    ("aurora", include_str!("../../scenes/aurora.yaml")),
    ("circuit", include_str!("../../scenes/circuit.yaml")),
    ("coral", include_str!("../../scenes/coral.yaml")),
    ("cosmos", include_str!("../../scenes/cosmos.yaml")),
    ("ember", include_str!("../../scenes/ember.yaml")),
    ("inferno", include_str!("../../scenes/inferno.yaml")),
    ("mandala", include_str!("../../scenes/mandala.yaml")),
    ("matrix", include_str!("../../scenes/matrix.yaml")),
    ("neon-tunnel", include_str!("../../scenes/neon-tunnel.yaml")),
    ("news-ticker", include_str!("../../scenes/news-ticker.yaml")),
    ("runes", include_str!("../../scenes/runes.yaml")),
    (
        "stained-glass",
        include_str!("../../scenes/stained-glass.yaml"),
    ),
    ("swarm", include_str!("../../scenes/swarm.yaml")),
    ("title-card", include_str!("../../scenes/title-card.yaml")),
    ("typewriter", include_str!("../../scenes/typewriter.yaml")),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    output: String,
    #[serde(default)]
    quality: Option<Quality>,
    #[serde(default)]
    aspect: Option<Aspect>,
    #[serde(default)]
    resolution: Option<String>,
    #[serde(default)]
    preset: Option<String>,
    #[serde(default)]
    crf: Option<f64>,
    #[serde(default)]
    fps: Option<i64>,
    #[serde(default)]
    seed: Option<u64>,
    #[serde(default)]
    audio: Option<RawAudio>,
    #[serde(default)]
    fonts: Option<Vec<String>>,
    #[serde(default)]
    cut: Option<timing::RawCut>,
    #[serde(default)]
    chunk: Option<f64>,
    segments: Vec<RawSegment>,
}

/// `audio:` as a path, or as `{path, from}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawAudio {
    Path(String),
    Full(RawAudioFull),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudioFull {
    path: String,
    #[serde(default)]
    from: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPreset {
    scene: String,
    #[serde(default)]
    params: Option<serde_yaml_ng::Mapping>,
    #[serde(default)]
    shaders: Option<Vec<Value>>,
    #[serde(default)]
    text: Option<String>,
}

/// x264 presets accepted by `preset:` and `--preset` ([`X264Preset::NAMES`]).
pub const X264_PRESETS: &[&str] = X264Preset::NAMES;

/// Turn a serde_yaml_ng error into a PlanError with its position and path.
fn yaml_error(file: &Path, e: serde_yaml_ng::Error) -> PlanError {
    let pos = e.location().map(|l| Pos {
        line: l.line(),
        column: l.column(),
    });
    let mut msg = e.to_string();
    // serde_yaml_ng appends " at line L column C"; we print the position up front instead.
    if let Some(i) = msg.find(" at line ") {
        msg.truncate(i);
    }
    // It prefixes the path ("segments[0]: unknown field ..."); keep it as the key.
    let (key, message) = match msg.split_once(": ") {
        Some((k, m)) if !k.contains(' ') => (k.to_string(), m.to_string()),
        _ => (String::new(), msg),
    };
    PlanError {
        file: file.to_path_buf(),
        pos,
        key,
        message,
    }
}

/// Largest plan or preset file farm reads, in bytes (16 MiB; a plan of 10,000 segments is
/// about 1 MB).
pub const MAX_PLAN_BYTES: u64 = 16 * 1024 * 1024;

/// What a file system object is, for messages ("a FIFO (named pipe)").
fn file_kind(ft: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_dir() {
        "a folder"
    } else if ft.is_fifo() {
        "a FIFO (named pipe)"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else {
        "an unknown kind of file"
    }
}

/// Read a plan or preset: only a regular file (opened without blocking, then checked with
/// fstat on the open file, so a FIFO or a device is never read), at most [`MAX_PLAN_BYTES`],
/// UTF-8. The error has a position for a byte that is not UTF-8.
fn read_yaml_file(path: &Path) -> Result<String, (Option<Pos>, String)> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let refuse = |kind: &str| format!("it is {kind}, not a regular file");
    let file = std::fs::OpenOptions::new()
        .read(true)
        // Opening a FIFO for reading would wait for a writer; O_NONBLOCK returns at once (it
        // changes nothing for a regular file). A terminal does not become ours.
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| match std::fs::metadata(path) {
            Ok(m) if !m.is_file() => (None, refuse(file_kind(m.file_type()))),
            _ => (None, e.to_string()),
        })?;
    let meta = file.metadata().map_err(|e| (None, e.to_string()))?;
    if !meta.is_file() {
        return Err((None, refuse(file_kind(meta.file_type()))));
    }
    if meta.len() > MAX_PLAN_BYTES {
        return Err((
            None,
            format!(
                "it is {} bytes ({:.1} MB); a plan or preset may be at most 16 MB ({MAX_PLAN_BYTES} bytes)",
                meta.len(),
                meta.len() as f64 / (1024.0 * 1024.0)
            ),
        ));
    }
    // A file may grow while it is read, or report no size (/proc): read one byte past the cap.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_PLAN_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| (None, e.to_string()))?;
    if bytes.len() as u64 > MAX_PLAN_BYTES {
        return Err((
            None,
            format!(
                "it holds more than 16 MB ({MAX_PLAN_BYTES} bytes); that is the most farm reads"
            ),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
        let start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&good[start..]).chars().count() + 1;
        (
            Some(Pos { line, column }),
            "not UTF-8 text (a plan is UTF-8)".to_string(),
        )
    })
}

/// Parse a plan or preset document: a UTF-8 byte order mark is dropped (positions stay those an
/// editor shows), then [`Spans::scan`] indexes it and enforces the nesting limit and unique
/// keys before serde_yaml_ng deserializes it.
fn parse_yaml<T: serde::de::DeserializeOwned>(
    file: &Path,
    src: &str,
) -> Result<(T, Spans), PlanError> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let at = |pos: Pos, key: String, message: String| PlanError {
        file: file.to_path_buf(),
        pos: Some(pos),
        key,
        message,
    };
    let spans = match Spans::scan(src) {
        Ok(s) => s,
        Err(ScanError::TooDeep(pos)) => {
            return Err(at(
                pos,
                String::new(),
                format!(
                    "nesting deeper than {MAX_DEPTH} levels of mappings and lists (is a bracket never closed?)"
                ),
            ));
        }
        Err(ScanError::DuplicateKey {
            path,
            key,
            at: pos,
            first,
        }) => {
            return Err(at(
                pos,
                path,
                format!(
                    "duplicate key '{key}' (first given at line {}, column {})",
                    first.line, first.column
                ),
            ));
        }
        // serde_yaml_ng runs the same parser and reports the syntax error with its message.
        Err(ScanError::Syntax) => Spans::default(),
    };
    let raw = serde_yaml_ng::from_str(src).map_err(|e| yaml_error(file, e))?;
    Ok((raw, spans))
}

impl Plan {
    /// Read and validate a plan file.
    pub fn load(path: &Path) -> Result<Plan, PlanError> {
        let abs = absolute(path);
        let src = read_yaml_file(&abs).map_err(|(pos, m)| PlanError {
            file: path.to_path_buf(),
            pos,
            key: String::new(),
            message: format!("cannot read the plan: {m}"),
        })?;
        Plan::parse(&src, path)
    }

    /// Parse and validate plan text; `path` is where it came from (relative paths in the plan
    /// are relative to its folder).
    pub fn parse(src: &str, path: &Path) -> Result<Plan, PlanError> {
        let shown = path.to_path_buf();
        let (raw, spans): (RawPlan, Spans) = parse_yaml(&shown, src)?;
        let cx = Ctx {
            file: &shown,
            spans: &spans,
        };
        let abs = absolute(path);
        let dir = abs
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));

        let output = check_output(&cx, &dir, &raw.output)?;
        let resolution = match &raw.resolution {
            Some(r) => Some(
                crate::choices::parse_resolution(r).map_err(|m| cx.at_value("resolution", m))?,
            ),
            None => None,
        };
        let preset = match &raw.preset {
            Some(p) => Some(X264Preset::parse(p).map_err(|m| cx.at_value("preset", m))?),
            None => None,
        };
        if let Some(c) = raw.crf
            && !(0.0..=51.0).contains(&c)
        {
            return Err(cx.at_value("crf", format!("must be between 0 and 51 (got {c})")));
        }
        let chunk = match raw.chunk {
            None => DEFAULT_CHUNK_SECS,
            Some(c) if c == 0.0 || (c.is_finite() && c >= MIN_CHUNK_SECS) => c,
            Some(c) => {
                return Err(cx.at_value(
                    "chunk",
                    format!(
                        "must be a number of seconds, at least {MIN_CHUNK_SECS} (0 turns chunking off; got {c})"
                    ),
                ));
            }
        };
        let fps = match raw.fps {
            Some(f) if !(1..=240).contains(&f) => {
                return Err(cx.at_value("fps", format!("must be between 1 and 240 (got {f})")));
            }
            Some(f) => Some(f as u32),
            None => None,
        };
        let (audio_path, audio_key, audio_from) = match &raw.audio {
            Some(RawAudio::Path(a)) => (Some(a.as_str()), "audio", 0.0),
            Some(RawAudio::Full(f)) => {
                let from = f.from.unwrap_or(0.0);
                if !from.is_finite() || from < 0.0 {
                    return Err(cx.at_value(
                        "audio.from",
                        format!("must be a number of seconds >= 0 (got {from})"),
                    ));
                }
                (Some(f.path.as_str()), "audio.path", from)
            }
            None => (None, "audio", 0.0),
        };
        let audio = match audio_path {
            Some(a) => {
                let p = dir.join(a);
                if let Some(why) = not_a_regular_file(&p) {
                    return Err(cx.at_value(audio_key, input_problem("audio", &p, &why)));
                }
                Some(p)
            }
            None => None,
        };
        let mut fonts = Vec::new();
        for (i, f) in raw.fonts.iter().flatten().enumerate() {
            let p = dir.join(f);
            if let Some(why) = not_a_regular_file(&p) {
                return Err(cx.at_value(&format!("fonts[{i}]"), input_problem("font", &p, &why)));
            }
            fonts.push(p);
        }
        if raw.segments.is_empty() {
            return Err(cx.at_value("segments", "a plan needs at least one segment"));
        }
        if raw.segments.len() > MAX_SEGMENTS {
            return Err(cx.at_key(
                "segments",
                format!("{} segments; at most {MAX_SEGMENTS}", raw.segments.len()),
            ));
        }

        let mut first_seen: HashMap<String, usize> = HashMap::new();
        let cut = timing::check_cut(&cx, raw.cut.as_ref())?;
        let mut lay = timing::Layout::default();
        let mut segments = Vec::with_capacity(raw.segments.len());
        for (i, rs) in raw.segments.into_iter().enumerate() {
            let key = |k: &str| format!("segments[{i}].{k}");
            check_id(&rs.id).map_err(|m| cx.at_value(&key("id"), m))?;
            if let Some(&j) = first_seen.get(&rs.id) {
                let line = spans
                    .value(&format!("segments[{j}].id"))
                    .map(|p| p.line)
                    .unwrap_or(0);
                return Err(cx.at_value(
                    &key("id"),
                    format!("duplicate id '{}' (first used on line {line})", rs.id),
                ));
            }
            first_seen.insert(rs.id.clone(), i);
            let timing = lay.place(&cx, i, &rs, cut.is_some())?;
            let mut scene = resolve_scene(&cx, &dir, i, &rs)?;
            scene.fonts = fonts.clone();
            segments.push(Segment {
                index: i,
                id: rs.id,
                scene_name: rs.scene,
                timing,
                scene,
            });
        }
        timing::finish(&cx, &lay, &segments, cut.is_some(), audio.is_some())?;
        timing::check_crossfades(&cx, &segments)?;
        // The output must not be any file the plan reads (compared as the file system sees
        // them: canonical paths, and device + inode for hard links).
        let mut inputs: Vec<(String, PathBuf)> = vec![("the plan file".into(), abs.clone())];
        inputs.extend(audio.iter().map(|a| ("the plan's audio".into(), a.clone())));
        inputs.extend(
            fonts
                .iter()
                .map(|f| ("a font of the plan".into(), f.clone())),
        );
        inputs.extend(
            preset_files(&dir)
                .into_iter()
                .map(|p| ("a scene preset".into(), p)),
        );
        if let Some((what, p)) = inputs.iter().find(|(_, p)| same_file(&output, p)) {
            return Err(cx.at_value(
                "output",
                format!(
                    "'{}' is the same file as {what} ({}); farm would overwrite it",
                    raw.output,
                    p.display()
                ),
            ));
        }
        Ok(Plan {
            path: abs,
            output,
            quality: raw.quality,
            aspect: raw.aspect,
            resolution,
            preset,
            crf: raw.crf.map(|c| c as f32),
            fps,
            seed: raw.seed.unwrap_or(0),
            audio,
            audio_from,
            fonts,
            cut,
            chunk,
            segments,
            spans,
        })
    }

    /// Frame count of every segment at `fps`, laid end to end: a `duration` segment gets
    /// `round(duration * fps)` frames; a `start`/`end` range ends at frame `round(end * fps)` of
    /// the final video, so it takes the frames from where the segments before it end up to
    /// there (ranges never drift, and a range absorbs the rounding of the durations before it).
    /// An error for a segment that gets no frame.
    /// A plan with beat cuts ([`Plan::has_beat_cuts`]) needs the track's beats: this is then
    /// an error that says so, and [`timing::frame_ranges`] gives the clips.
    pub fn frame_counts(&self, fps: u32) -> Result<Vec<u64>, PlanError> {
        timing::no_beat_cuts(self)?;
        let f = fps as f64;
        let mut laid = 0u64;
        let mut counts = Vec::with_capacity(self.segments.len());
        for s in &self.segments {
            let n = match s.timing {
                Timing::Range { end, .. } => ((end * f).round() as u64).saturating_sub(laid),
                _ => s.timing.frames(fps),
            };
            if n == 0 {
                let k = match s.timing {
                    Timing::Range { .. } => "end",
                    _ => "duration",
                };
                let key = format!("segments[{}].{k}", s.index);
                let message = if s.timing.frames(fps) == 0 {
                    format!(
                        "{} s is shorter than one frame at {fps} fps",
                        s.timing.seconds()
                    )
                } else {
                    format!(
                        "gets no frame at {fps} fps: the segments before it, each rounded to whole frames, already fill the video to {} s (frame {laid}); lengthen this range or shorten them",
                        secs(laid as f64 / f)
                    )
                };
                return Err(PlanError {
                    file: self.path.clone(),
                    pos: self.spans.value(&key),
                    key,
                    message,
                });
            }
            laid += n;
            counts.push(n);
        }
        Ok(counts)
    }

    /// Length of the whole plan in seconds.
    pub fn total_seconds(&self) -> f64 {
        self.segments.iter().map(|s| s.timing.seconds()).sum()
    }

    /// The work dir: a child of `.farm/` beside the plan (see [`work_dir_for`]).
    pub fn work_dir(&self) -> PathBuf {
        work_dir_for(&self.path)
    }

    /// The segment with this id.
    pub fn segment(&self, id: &str) -> Option<&Segment> {
        self.segments.iter().find(|s| s.id == id)
    }
}

/// The folder beside a plan that holds the work dirs of the plans in that folder.
pub const FARM_DIR: &str = ".farm";
/// The file that marks a folder as a farm work dir: farm removes only folders that have it.
pub const WORK_MARKER: &str = ".farm-workdir";
/// Most bytes of a work dir's name taken from the plan's file name.
pub const WORK_STEM_MAX: usize = 40;
/// Hex digits of the hash in a work dir's name.
const WORK_HASH_HEX: usize = 12;

/// The work dir of the plan file at `plan` (absolute): `.farm/<stem>-<hash>` in the plan's
/// folder, always a fresh direct child of `.farm/`, whatever the plan's file name is. `<stem>`
/// is the file stem with everything but ASCII letters, digits, `-` and `_` replaced by `_`
/// (at most [`WORK_STEM_MAX`] bytes, `plan` when nothing is left); `<hash>` is a BLAKE3 hash of
/// the whole file name, so that `plan.yaml` and `plan.yml`, or two names that sanitise alike,
/// never share a work dir. Only the file name counts, not the folder: moving or renaming the
/// project folder keeps its work dir (and its finished clips), and one folder can never hold
/// two plans with the same file name.
pub fn work_dir_for(plan: &Path) -> PathBuf {
    let dir = plan.parent().unwrap_or(Path::new("/"));
    let name = plan.file_name().unwrap_or_default();
    dir.join(FARM_DIR).join(work_dir_name(name))
}

/// The name of the work dir of a plan whose file is called `file_name` (see [`work_dir_for`]).
pub fn work_dir_name(file_name: &std::ffi::OsStr) -> String {
    use std::os::unix::ffi::OsStrExt;
    let stem = Path::new(file_name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut safe = String::new();
    for c in stem.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            c
        } else {
            '_'
        };
        if !(c == '_' && safe.ends_with('_')) {
            safe.push(c);
        }
    }
    let mut safe: String = safe
        .trim_matches(|c| c == '_' || c == '-')
        .chars()
        .take(WORK_STEM_MAX)
        .collect();
    while safe.ends_with(['_', '-']) {
        safe.pop();
    }
    if safe.is_empty() {
        safe.push_str("plan");
    }
    let hash = blake3::hash(file_name.as_bytes()).to_hex();
    format!("{safe}-{}", &hash[..WORK_HASH_HEX])
}

/// Whether `name` is a work dir name as [`work_dir_name`] makes them (`<stem>-<hex>`, safe
/// characters only); cleanup refuses to remove a folder with any other name.
pub fn is_work_dir_name(name: &str) -> bool {
    let Some((stem, hash)) = name.rsplit_once('-') else {
        return false;
    };
    !stem.is_empty()
        && stem.len() <= WORK_STEM_MAX
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !stem.starts_with(['-', '_'])
        && hash.len() == WORK_HASH_HEX
        && hash.chars().all(|c| c.is_ascii_hexdigit())
}

/// Make a path absolute without touching the file system (no symlink resolution).
pub fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Longest file name most Linux file systems take (ext4, xfs, btrfs, tmpfs); the output's
/// own file system is asked first (statvfs).
const NAME_MAX: usize = 255;
/// Longest path the kernel takes in one system call.
const PATH_MAX: usize = 4096;
/// Virtual file systems no video can be written to.
const VIRTUAL_ROOTS: &[&str] = &["/proc", "/sys", "/dev"];

fn check_output(cx: &Ctx, dir: &Path, out: &str) -> Result<PathBuf, PlanError> {
    if out.trim().is_empty() {
        return Err(cx.at_value("output", "is empty"));
    }
    if out.contains('\0') {
        return Err(cx.at_value("output", "contains a NUL byte, which no file name can hold"));
    }
    let p = absolute(&dir.join(out));
    let ext = p
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext {
        Some(e) if OUTPUT_EXTENSIONS.contains(&e.as_str()) => {}
        _ => {
            return Err(cx.at_value(
                "output",
                format!(
                    "'{out}': the output must end in one of .{} (H.264)",
                    OUTPUT_EXTENSIONS.join(", .")
                ),
            ));
        }
    }
    let bad = |m: String| cx.at_value("output", format!("'{out}': {m}"));
    let (Some(name), Some(parent)) = (p.file_name(), p.parent()) else {
        return Err(bad("is not a file name".into()));
    };
    // Where the file system will really put it: symlinks and `..` resolved.
    let folder_problem = |m: String| {
        bad(format!(
            "cannot create the output folder {}: {m}",
            parent.display()
        ))
    };
    let real_parent = real_path(parent).map_err(folder_problem)?;
    if real_parent.exists() && !real_parent.is_dir() {
        return Err(folder_problem(format!(
            "{} is a file, not a folder",
            real_parent.display()
        )));
    }
    let real = real_parent.join(name);
    let name_max = name_max(&real);
    if let Some(c) = real
        .components()
        .map(|c| c.as_os_str())
        .find(|c| c.len() > name_max)
    {
        return Err(bad(format!(
            "the name '{}' is {} bytes long; the file system allows at most {name_max}",
            c.to_string_lossy(),
            c.len()
        )));
    }
    if real.as_os_str().len() >= PATH_MAX {
        return Err(bad(format!(
            "the path is {} bytes long; at most {} fit in a system call",
            real.as_os_str().len(),
            PATH_MAX - 1
        )));
    }
    if let Some(root) = VIRTUAL_ROOTS.iter().find(|r| real.starts_with(r)) {
        return Err(bad(format!(
            "{} is under {root}, a virtual file system: no video can be written there",
            real.display()
        )));
    }
    if real.is_dir() {
        return Err(bad(format!("{} is a folder", real.display())));
    }
    // Farm's own folders are removed after a run: the one beside this plan (wherever a
    // symlink takes it), and any farm work dir (another plan's), by its marker.
    let farm = dir.join(FARM_DIR);
    let farm_real = real_path(&farm).ok();
    if real.starts_with(&farm) || farm_real.is_some_and(|f| real.starts_with(f)) {
        return Err(bad(format!(
            "{} is inside farm's work folder {}, which farm empties and removes after a run; choose an output outside {FARM_DIR}/",
            real.display(),
            farm.display()
        )));
    }
    if let Some(w) = real
        .ancestors()
        .skip(1)
        .find(|a| std::fs::symlink_metadata(a.join(WORK_MARKER)).is_ok())
    {
        return Err(bad(format!(
            "{} is inside the farm work dir {}, which is removed after its plan's run",
            real.display(),
            w.display()
        )));
    }
    Ok(p)
}

/// The longest file name the file system that will hold `p` takes.
fn name_max(p: &Path) -> usize {
    p.ancestors()
        .find_map(|a| rustix::fs::statvfs(a).ok())
        .map(|s| s.f_namemax as usize)
        .filter(|&n| n > 0)
        .unwrap_or(NAME_MAX)
}

/// `p` (absolute) as the file system resolves it, for a path that may not exist yet: its
/// deepest existing ancestor canonicalized (symlinks and `..` resolved), then the rest, which
/// does not exist yet and will be created as real folders, with `.` and `..` applied to the
/// path built so far. An error when an existing ancestor is not a folder.
pub fn real_path(p: &Path) -> Result<PathBuf, String> {
    for a in p.ancestors() {
        let Ok(mut real) = std::fs::canonicalize(a) else {
            continue;
        };
        let rest = p.strip_prefix(a).unwrap_or(Path::new(""));
        if rest.as_os_str().is_empty() {
            return Ok(real);
        }
        if !real.is_dir() {
            return Err(format!("{} is a file, not a folder", a.display()));
        }
        for c in rest.components() {
            match c {
                std::path::Component::Normal(n) => real.push(n),
                std::path::Component::ParentDir => {
                    real.pop();
                }
                _ => {}
            }
        }
        return Ok(real);
    }
    Ok(p.to_path_buf())
}

/// Whether the output `out` would replace the input file `input`: the same canonical path
/// (the output's own name as is, or followed when it is a symlink), or the same device and
/// inode (a hard link).
fn same_file(out: &Path, input: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(input_real) = std::fs::canonicalize(input) else {
        return false;
    };
    let out_real = out
        .parent()
        .and_then(|d| real_path(d).ok())
        .zip(out.file_name())
        .map(|(d, n)| d.join(n));
    if out_real.as_deref() == Some(input_real.as_path())
        || std::fs::canonicalize(out).is_ok_and(|o| o == input_real)
    {
        return true;
    }
    match (std::fs::metadata(out), std::fs::metadata(input)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// The preset files in the plan's `scenes/` folder (inputs the output must not replace).
fn preset_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir.join("scenes"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default()
}

/// Why `p` cannot be read as an input file, in words ("not found", "is a folder", "is a FIFO
/// (named pipe), not a regular file"), or None for a regular file (symlinks followed).
pub fn not_a_regular_file(p: &Path) -> Option<String> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::metadata(p) {
        Ok(m) if m.is_file() => None,
        Ok(m) => {
            let t = m.file_type();
            Some(
                if t.is_dir() {
                    "is a folder, not a file"
                } else if t.is_fifo() {
                    "is a FIFO (named pipe), not a regular file"
                } else if t.is_socket() {
                    "is a socket, not a regular file"
                } else if t.is_block_device() || t.is_char_device() {
                    "is a device, not a regular file"
                } else {
                    "is not a regular file"
                }
                .to_string(),
            )
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Some(if std::fs::symlink_metadata(p).is_ok() {
                "not found (a symlink to a missing file)".to_string()
            } else {
                "not found".to_string()
            })
        }
        Err(e) => Some(format!("cannot be read: {e}")),
    }
}

/// The message for an input file (`what`: audio, font) that is not a readable regular file.
fn input_problem(what: &str, p: &Path, why: &str) -> String {
    if why.starts_with("not found") {
        format!("{what} file {why}: {}", p.display())
    } else {
        format!("{what} file {} {why}", p.display())
    }
}

/// Ids name files, logs and `--only` lists: no path separators, no commas, no control
/// characters, not `.`/`..`, no leading `.` or `-`, no `#` (chunk ids, `intro#2`), at most
/// [`MAX_ID_LEN`] bytes. Spaces and apostrophes are fine.
pub fn check_id(id: &str) -> Result<(), String> {
    if id.trim().is_empty() {
        return Err("an id cannot be empty".into());
    }
    if id.len() > MAX_ID_LEN {
        return Err(format!(
            "id is {} bytes long; at most {MAX_ID_LEN}",
            id.len()
        ));
    }
    if id.contains(CHUNK_SEP) {
        return Err(format!(
            "id '{}' contains '#', which farm keeps for the chunks of a long clip (`intro#2`)",
            id.escape_debug()
        ));
    }
    if let Some(c) = id.chars().find(|c| {
        matches!(
            c,
            '/' | '\\' | ',' | ':' | '*' | '?' | '"' | '<' | '>' | '|'
        ) || c.is_control()
    }) {
        return Err(format!(
            "id '{}' contains {:?}, which is not safe in a file name or an --only list",
            id.escape_debug(),
            c
        ));
    }
    if id.starts_with('.') || id.starts_with('-') {
        return Err(format!("id '{id}' cannot start with '.' or '-'"));
    }
    if id != id.trim() {
        return Err(format!("id '{id}' has leading or trailing spaces"));
    }
    Ok(())
}

fn to_param(v: &Value) -> Result<Param, String> {
    Ok(match v {
        Value::Bool(b) => Param::Bool(*b),
        Value::Number(n) => Param::Num(n.as_f64().ok_or("not a number")?),
        Value::String(s) => Param::Text(s.clone()),
        Value::Sequence(xs) => Param::List(xs.iter().map(to_param).collect::<Result<_, _>>()?),
        Value::Null => return Err("has no value".into()),
        Value::Mapping(m) => {
            let mut out = Params::new();
            for (k, v) in m {
                let k = k.as_str().ok_or("parameter names are strings")?;
                out.insert(k.to_string(), to_param(v).map_err(|e| format!("{k}: {e}"))?);
            }
            Param::Map(out)
        }
        Value::Tagged(t) => return to_param(&t.value),
    })
}

fn to_params(
    m: &serde_yaml_ng::Mapping,
    err: &dyn Fn(&str, String) -> PlanError,
) -> Result<Params, PlanError> {
    let mut out = Params::new();
    for (k, v) in m {
        let name = match k {
            Value::String(s) => s.clone(),
            other => {
                return Err(err(
                    "",
                    format!("parameter names are strings, not {other:?}"),
                ));
            }
        };
        let p = to_param(v).map_err(|m| err(&name, m))?;
        out.insert(name, p);
    }
    Ok(out)
}

fn to_shaders(
    list: &[Value],
    err: &dyn Fn(&str, String) -> PlanError,
) -> Result<Vec<ShaderSpec>, PlanError> {
    let mut out = Vec::new();
    for (j, v) in list.iter().enumerate() {
        let at = format!("[{j}]");
        let spec = match v {
            Value::String(name) => ShaderSpec {
                name: render::shaders::parse(name).map_err(|m| err(&at, m))?,
                params: Params::new(),
            },
            Value::Mapping(m) if m.len() == 1 => {
                let (k, pv) = m.iter().next().expect("one entry");
                let name = k
                    .as_str()
                    .ok_or_else(|| err(&at, "a shader name is a string".into()))?
                    .to_string();
                let params = match pv {
                    Value::Null => Params::new(),
                    Value::Mapping(pm) => to_params(pm, &|pk, m| err(&format!("{at}.{pk}"), m))?,
                    _ => {
                        return Err(err(
                            &at,
                            format!(
                                "the parameters of '{name}' must be a mapping, e.g. {{{name}: {{...}}}}"
                            ),
                        ));
                    }
                };
                let name = render::shaders::parse(&name).map_err(|m| err(&at, m))?;
                ShaderSpec { name, params }
            }
            _ => {
                return Err(err(
                    &at,
                    "a shader is a name (bloom) or a one-key mapping ({bloom: {thr: 120}})".into(),
                ));
            }
        };
        out.push(spec);
    }
    Ok(out)
}

/// What a segment or a preset asks for, before the renderer reads it ([`SceneSpec::parse`]).
struct SceneRequest {
    scene: String,
    params: Params,
    text: Option<String>,
    shaders: Vec<ShaderSpec>,
}

fn resolve_scene(cx: &Ctx, dir: &Path, i: usize, rs: &RawSegment) -> Result<SceneSpec, PlanError> {
    let seg_key = format!("segments[{i}]");
    let name = rs.scene.trim();
    let mut spec = if render::builtin_scenes().contains(&name) {
        SceneRequest {
            scene: name.to_string(),
            params: Params::new(),
            text: None,
            shaders: Vec::new(),
        }
    } else {
        load_preset(cx, dir, i, name)?
    };
    let perr = |k: &str, m: String| {
        let key = if k.is_empty() {
            format!("{seg_key}.params")
        } else {
            format!("{seg_key}.params.{k}")
        };
        cx.at_value(&key, m)
    };
    let react = rs.react != Some(false);
    if !react {
        render::spec::strip_request(&spec.scene, &mut spec.params, &mut spec.shaders);
    }
    if let Some(m) = &rs.params {
        for (k, v) in to_params(m, &perr)? {
            spec.params.insert(k, v);
        }
    }
    if let Some(list) = &rs.shaders {
        spec.shaders = to_shaders(list, &|k, m| {
            cx.at_value(&format!("{seg_key}.shaders{k}"), m)
        })?;
    }
    if rs.text.is_some() {
        spec.text = rs.text.clone();
    }
    SceneSpec::parse(&spec.scene, &spec.params, spec.text, spec.shaders)
        .map(|s| if react { s } else { s.without_defaults() })
        .map_err(|e| {
            let key = format!("{seg_key}.{}", e.key);
            cx.at_value(&key, e.message)
        })
}

fn load_preset(cx: &Ctx, dir: &Path, i: usize, name: &str) -> Result<SceneRequest, PlanError> {
    let key = format!("segments[{i}].scene");
    let safe = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let local = dir.join("scenes").join(format!("{name}.yaml"));
    // Anything by that name counts (a FIFO or a folder is refused as such, not skipped).
    let (file, src) = if safe && std::fs::symlink_metadata(&local).is_ok() {
        let src = read_yaml_file(&local)
            .map_err(|(_, m)| cx.at_value(&key, format!("cannot read {}: {m}", local.display())))?;
        (local, src)
    } else if let Some((_, src)) = BUILTIN_PRESETS.iter().find(|(n, _)| *n == name) {
        (
            PathBuf::from(format!("<built-in scenes/{name}.yaml>")),
            src.to_string(),
        )
    } else {
        return Err(cx.at_value(
            &key,
            format!("unknown scene '{name}'; {}", scene_choices(dir)),
        ));
    };
    let (raw, spans): (RawPreset, Spans) = parse_yaml(&file, &src)?;
    let pcx = Ctx {
        file: &file,
        spans: &spans,
    };
    if !render::builtin_scenes().contains(&raw.scene.as_str()) {
        return Err(pcx.at_value(
            "scene",
            format!(
                "a preset builds on a built-in scene: one of {}",
                render::builtin_scenes().join(", ")
            ),
        ));
    }
    let params = match &raw.params {
        Some(m) => to_params(m, &|k, m| pcx.at_value(&format!("params.{k}"), m))?,
        None => Params::new(),
    };
    let shaders = match &raw.shaders {
        Some(l) => to_shaders(l, &|k, m| pcx.at_value(&format!("shaders{k}"), m))?,
        None => Vec::new(),
    };
    Ok(SceneRequest {
        scene: raw.scene,
        params,
        text: raw.text,
        shaders,
    })
}

/// The scenes a plan in `dir` can use, for error messages and `farm check`.
pub fn scene_choices(dir: &Path) -> String {
    let mut presets: Vec<String> = BUILTIN_PRESETS.iter().map(|(n, _)| n.to_string()).collect();
    if let Ok(rd) = std::fs::read_dir(dir.join("scenes")) {
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "yaml")
                && let Some(s) = p.file_stem().and_then(|s| s.to_str())
            {
                presets.push(s.to_string());
            }
        }
    }
    presets.sort();
    presets.dedup();
    format!(
        "built-in scenes: {}; presets: {}",
        render::builtin_scenes().join(", "),
        presets.join(", ")
    )
}

#[cfg(test)]
mod tests;
