//! One clip's spec: everything that determines a clip's frames and its file, worked out once
//! per clip by [`ClipSpec::build`] from the plan, the render settings, the clip's index and its
//! global start frame.
//!
//! Every consumer reads the same value: the coordinator hashes it for the manifest
//! ([`ClipSpec::content_hash`]) and sends it to the worker inside its job
//! ([`crate::events::ClipJob`] = a `ClipSpec` + paths), the worker builds its renderer from it
//! ([`ClipSpec::renderer`]), and so does `farm frame`. So the hash is computed from the very job
//! the worker renders, and `farm frame` cannot disagree with `farm run`.
//!
//! A clip with a crossfade from the clip before (`transition: {in: crossfade}`) carries what it
//! borrows from that clip ([`Crossfade`]: its scene, frame geometry, seed, length and feature
//! rows), so that it stays one job for one worker, and its hash changes when the look of the clip
//! before changes, and only then.
//!
//! A leaf above `plan`, `profile`, `media` (its encoder settings), `features` and `render` (its
//! specs); nothing here spawns, reads or writes anything (but the font digests of
//! [`font_digests`]).

use crate::audio::Features;
use crate::features::ClipFeatures;
use crate::media::EncoderSettings;
use crate::plan::timing::{self, Beats, ClipRange};
use crate::plan::{Plan, PlanError};
use crate::profile::RenderSettings;
use crate::render::{FrameSpec, Renderer, SceneSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Rows of audio history a reactive clip carries before its first frame, in seconds of video
/// time: a smoothed binding at a clip's first frames reads the same rows as it would in the
/// middle of one long clip, so results do not depend on where the plan's clips begin.
pub const FEATURE_LEAD_SECS: u32 = 2;

/// Everything that determines one clip's frames and file. Built once per clip by
/// [`ClipSpec::build`]; plain serde data, sent to the worker as it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipSpec {
    /// The clip id (the segment id, or `<id>-<part>` for a clip of a beat-cut run): names its
    /// file, its log and its progress bar.
    pub id: String,
    /// The clip's index in the plan's clips (the segment's index, unless a beat-cut run made
    /// several clips of one segment).
    pub index: usize,
    /// The segment it renders (index into the plan's segments).
    pub segment: usize,
    /// Frames to render.
    pub frames: u64,
    /// The scene frame of the clip's frame 0: 0, or for a chunk (`<id>#<k>`, see [`chunks`])
    /// where it starts in the clip it was cut from; the scene keeps that clip's length, seed,
    /// features and crossfade, so a chunk's frames are that clip's frames `first..first+frames`.
    pub first: u64,
    /// The global video frame of the clip's frame 0 (the frames of the clips before it).
    pub start: u64,
    /// The clip's RNG seed (from the plan seed and the index: `render::rng::clip_seed`).
    pub seed: u64,
    /// Frame geometry and the profile's renderer knobs.
    pub frame: FrameSpec,
    /// What to draw, with `frames` set to the clip's length and the plan's fonts.
    pub scene: SceneSpec,
    /// How to encode.
    pub encoder: EncoderSettings,
    /// The clip's audio features (silence for a clip that does not react to audio).
    pub features: ClipFeatures,
    /// The crossfade from the clip before, if the scene starts with one.
    pub crossfade: Option<Crossfade>,
}

/// What a clip (B) with a crossfade borrows from the clip before it (A): B's first
/// [`Crossfade::frames`] frames mix A's scene, continued at A's frames `offset + k` (A's own
/// seed and features), into B's own (see `render::crossfade`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Crossfade {
    /// A's clip id (for messages; not hashed).
    pub from: String,
    /// Frames of B that mix: the crossfade's seconds at the frame rate, rounded (at least 1, at
    /// most B's frames).
    pub frames: u64,
    /// A's scene, as A renders it (its `frames` is A's length).
    pub scene: SceneSpec,
    /// A's frame geometry and renderer knobs.
    pub frame: FrameSpec,
    /// A's RNG seed.
    pub seed: u64,
    /// A's frame at B's frame 0: A's length (A continues where it ended).
    pub offset: u64,
    /// A's audio features: rows from A's first frame through the crossfade's last (the rows of
    /// the global frames A continues over), with A's history; none when A does not react.
    pub features: ClipFeatures,
}

impl Crossfade {
    /// What B (`frames` frames, its scene's crossfade `seconds` long at `fps`) borrows from
    /// `before`, A's spec; None for a crossfade that rounds to no frame.
    fn of(
        before: &ClipSpec,
        seconds: f64,
        frames: u64,
        fps: u32,
        track: Option<&Features>,
    ) -> Option<Crossfade> {
        let n = ((seconds * f64::from(fps)).round().max(0.0) as u64).min(frames);
        (n > 0).then(|| Crossfade {
            from: before.id.clone(),
            frames: n,
            scene: before.scene.clone(),
            frame: before.frame.clone(),
            seed: before.seed,
            offset: before.frames,
            features: clip_features(track, &before.scene, fps, before.start, before.frames + n),
        })
    }
}

/// The encoder settings of a run.
pub fn encoder_settings(s: &RenderSettings) -> EncoderSettings {
    EncoderSettings {
        width: s.frame.width,
        height: s.frame.height,
        fps: s.frame.fps,
        preset: s.preset,
        crf: s.crf,
        threads: s.x264_threads,
    }
}

/// A clip's audio features: the one place that decides them. A scene that does not react to
/// audio gets none (so that a changed soundtrack does not make it stale); a reactive one gets
/// its frames' rows of the soundtrack (`track`), or the synthetic features when the plan has no
/// audio, with [`FEATURE_LEAD_SECS`] of history.
fn clip_features(
    track: Option<&Features>,
    scene: &SceneSpec,
    fps: u32,
    start: u64,
    frames: u64,
) -> ClipFeatures {
    // Enough history for the smoothing window of a binding (`render::bind::LEAD`) and for
    // effects that look back (falling spectrum peaks), at any fps.
    let lead = (FEATURE_LEAD_SECS * fps).max(crate::render::bind::LEAD);
    match track {
        _ if !scene.is_reactive() => ClipFeatures::none(fps, start),
        Some(t) => t.clip_rows(start, frames, lead),
        None => ClipFeatures::synthetic(fps, start, frames, lead),
    }
}

impl ClipSpec {
    /// The spec of the clip `index` of `plan` at `settings`, placed by `range` (its segment,
    /// id, first frame and length; [`specs`] works them out), with the soundtrack's features
    /// (`track`; None: the plan has no audio); `before` is the spec of the clip before it (what
    /// a crossfade borrows).
    pub fn build(
        plan: &Plan,
        settings: &RenderSettings,
        index: usize,
        range: &ClipRange,
        before: Option<&ClipSpec>,
        track: Option<&Features>,
    ) -> ClipSpec {
        let seg = &plan.segments[range.segment];
        let fps = settings.frame.fps;
        let (start, frames) = (range.start_frame, range.frames);
        let scene = SceneSpec {
            frames: frames.min(u32::MAX as u64) as u32,
            ..seg.scene.clone()
        };
        let crossfade = before
            .zip(scene.crossfade_in())
            .and_then(|(b, secs)| Crossfade::of(b, secs, frames, fps, track));
        ClipSpec {
            id: range.id.clone(),
            index,
            segment: range.segment,
            frames,
            first: 0,
            start,
            seed: crate::render::rng::clip_seed(plan.seed, index as u32),
            frame: settings.frame.clone(),
            features: clip_features(track, &scene, fps, start, frames),
            scene,
            encoder: encoder_settings(settings),
            crossfade,
        }
    }

    /// The clip's renderer (what the worker and `farm frame` draw with); with a crossfade, it
    /// holds the clip before's renderer too.
    pub fn renderer(&self) -> Result<Renderer, String> {
        let r =
            Renderer::with_features(&self.frame, &self.scene, self.seed, self.features.clone())?;
        let Some(x) = &self.crossfade else {
            return Ok(r);
        };
        let from = Renderer::with_features(&x.frame, &x.scene, x.seed, x.features.clone())
            .map_err(|e| format!("the clip before, '{}', for the crossfade: {e}", x.from))?;
        let narrow = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        r.crossfade_from(from, narrow(x.offset), narrow(x.frames), self.seed)
    }

    /// Hash (BLAKE3, hex) of everything in the spec that changes the clip's frames or file: the
    /// serialised spec itself, minus what must not matter:
    ///
    /// - font paths: each font counts by its content (`fonts`: path -> digest, from
    ///   [`font_digests`]), so moving the project elsewhere does not make clips stale;
    /// - `id`: a renamed clip with the same content has the same hash (it is rendered again all
    ///   the same, because the manifest has no record under its new name);
    /// - `index`: it matters through the seed only, which is hashed;
    /// - `start`: it matters through the feature rows only (a reactive clip's rows are its
    ///   frames' rows, which are hashed); a clip without features does not depend on it.
    ///
    /// Paths of the work dir are not in the spec at all (they are in the job). Any field added
    /// to the spec is hashed unless it is left out here.
    ///
    /// A crossfade counts with what it borrows from the clip before (its scene, fonts by
    /// content, frame geometry, seed, length, feature rows, the crossfade's frames), not with that
    /// clip's id; a clip without one hashes as it did before crossfades existed.
    pub fn content_hash(&self, fonts: &BTreeMap<PathBuf, String>) -> String {
        let mut v = serde_json::to_value(self).expect("a spec serialises");
        let obj = v.as_object_mut().expect("a spec is a struct");
        for k in ["id", "index", "segment", "start"] {
            obj.remove(k);
        }
        // x264's thread count changes the encoded bytes, not what the clip is (its frames, its
        // quality settings): left out, so that a clip rendered on a 2-core Slurm node is reused
        // by a run on a 16-core desktop, and the other way round.
        if let Some(e) = obj.get_mut("encoder").and_then(|e| e.as_object_mut()) {
            e.remove("threads");
        }
        hash_scene_and_rows(obj, &self.scene, &self.features, fonts);
        match &self.crossfade {
            None => {
                obj.remove("crossfade");
            }
            Some(x) => {
                if let Some(o) = obj.get_mut("crossfade").and_then(|c| c.as_object_mut()) {
                    o.remove("from");
                    hash_scene_and_rows(o, &x.scene, &x.features, fonts);
                }
            }
        }
        crate::manifest::clip_hash(&v)
    }
}

/// In the serialised spec `obj` (of a clip or of what a crossfade borrows): font paths replaced
/// by their digests, and the feature rows by the digest of their compact bytes (rows are many),
/// with the start of rows that do not react zeroed (it changes no frame).
fn hash_scene_and_rows(
    obj: &mut serde_json::Map<String, serde_json::Value>,
    scene: &SceneSpec,
    features: &ClipFeatures,
    fonts: &BTreeMap<PathBuf, String>,
) {
    let digests: Vec<serde_json::Value> = scene
        .fonts
        .iter()
        .map(|p| {
            serde_json::Value::String(
                fonts
                    .get(p)
                    .cloned()
                    .unwrap_or_else(|| format!("unknown font {}", p.display())),
            )
        })
        .collect();
    if let Some(scene) = obj.get_mut("scene").and_then(|s| s.as_object_mut()) {
        scene.insert("fonts".into(), serde_json::Value::Array(digests));
    }
    let mut features = features.clone();
    if !features.is_reactive() {
        features.start = 0;
    }
    let rows = postcard::to_stdvec(&features).expect("features serialise");
    obj.insert(
        "features".into(),
        serde_json::Value::String(blake3::hash(&rows).to_hex().to_string()),
    );
}

/// The specs of every clip of `plan` at `settings`, in order (each clip starts where the one
/// before it ends; beat-cut segments end on the soundtrack's beats, or on the synthetic 120 BPM
/// beat without audio), with the soundtrack's features `track` (None: no audio).
pub fn specs(
    plan: &Plan,
    settings: &RenderSettings,
    track: Option<&Features>,
) -> Result<Vec<ClipSpec>, PlanError> {
    let whole = unchunked_specs(plan, settings, track)?;
    let chunk = chunk_frames(plan.chunk, settings.frame.fps);
    // Each chunk carries its clip's audio rows up to its end: a very long reactive segment in
    // many chunks would hold them many times over. Both limits are checked before any chunk
    // is copied: refused, not run out of memory.
    let bytes: u64 = whole.iter().map(|c| chunked_feature_bytes(c, chunk)).sum();
    if bytes > MAX_FEATURE_BYTES {
        return Err(plan.error_at(
            "chunk".into(),
            format!(
                "chunks of {} s would carry {:.1} GB of audio rows (each chunk holds its clip's rows up to its end); at most {:.1} GB: make `chunk:` longer, or 0 (off), or split the segment",
                plan.chunk,
                bytes as f64 / 1e9,
                MAX_FEATURE_BYTES as f64 / 1e9
            ),
        ));
    }
    let clips: usize = whole
        .iter()
        .map(|c| chunk_ranges(c.frames, chunk).count())
        .sum();
    if clips > crate::plan::MAX_SEGMENTS {
        return Err(plan.error_at(
            "chunk".into(),
            format!(
                "chunks of {} s make {clips} clips; at most {}: make `chunk:` longer (or 0, off)",
                plan.chunk,
                crate::plan::MAX_SEGMENTS
            ),
        ));
    }
    Ok(chunks(whole, chunk))
}

/// [`specs`] before long clips are cut into chunks (what `farm frame` draws from: a segment's
/// frames whatever its chunks).
pub fn unchunked_specs(
    plan: &Plan,
    settings: &RenderSettings,
    track: Option<&Features>,
) -> Result<Vec<ClipSpec>, PlanError> {
    let ranges = ranges(plan, settings.frame.fps, track)?;
    let mut out: Vec<ClipSpec> = Vec::with_capacity(ranges.len());
    for (i, r) in ranges.iter().enumerate() {
        let spec = ClipSpec::build(plan, settings, i, r, out.last(), track);
        out.push(spec);
    }
    Ok(out)
}

/// The most audio rows (bytes) the specs of a plan's clips may carry together.
pub const MAX_FEATURE_BYTES: u64 = 4 << 30;

/// The frame ranges `(first, frames)` [`chunks`] cuts a clip of `frames` into: the fewest of at
/// most `chunk` frames (0: one, the whole clip), of equal length give or take a frame.
fn chunk_ranges(frames: u64, chunk: u64) -> impl Iterator<Item = (u64, u64)> {
    let n = if chunk == 0 || frames <= chunk {
        1
    } else {
        frames.div_ceil(chunk)
    };
    let bound = move |j: u64| frames * j / n;
    (0..n).map(move |j| (bound(j), bound(j + 1) - bound(j)))
}

/// Bytes of audio rows the chunks of `spec` carry together (each its clip's rows up to its own
/// end, see [`chunks`]).
fn chunked_feature_bytes(spec: &ClipSpec, chunk: u64) -> u64 {
    let f = &spec.features;
    let all = 4 * (f.values.len() + f.spectrum.len() + f.wave.len()) as u64;
    if f.rows == 0 {
        return all;
    }
    let per_row = all / u64::from(f.rows);
    chunk_ranges(spec.frames, chunk)
        .map(|(first, frames)| {
            (u64::from(f.lead) + first + frames).min(u64::from(f.rows)) * per_row
        })
        .sum()
}

/// Frames of a chunk of `secs` seconds at `fps` (0: chunking is off).
pub fn chunk_frames(secs: f64, fps: u32) -> u64 {
    (secs * f64::from(fps)).round().max(0.0) as u64
}

/// The separator of a chunk's id: `<clip id>#<k>` (k from 1); a plan refuses it in an id, so a
/// chunk id never names a segment.
pub use crate::plan::CHUNK_SEP;

/// The clip id a chunk id was cut from (`intro#2` -> `intro`); the id itself otherwise.
pub fn unchunked_id(id: &str) -> &str {
    id.split_once(CHUNK_SEP).map_or(id, |(base, _)| base)
}

/// Cuts every clip of `specs` longer than `chunk` frames (0: none) into the fewest chunks of
/// at most `chunk` frames, of equal length give or take a frame, in order: `<id>#1`, `<id>#2`,
/// ... Each chunk is the clip's own spec (scene and its length, seed, features, crossfade) with
/// its frame range ([`ClipSpec::first`], [`ClipSpec::frames`], [`ClipSpec::start`]), so a
/// chunked render draws the same frames as an unchunked one; the seeds of the clips that follow
/// do not move (they were drawn from the unchunked clips' indices). `index` becomes the
/// position in the new list. A chunk past the end of the clip's crossfade carries none.
pub fn chunks(specs: Vec<ClipSpec>, chunk: u64) -> Vec<ClipSpec> {
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        let ranges: Vec<(u64, u64)> = chunk_ranges(spec.frames, chunk).collect();
        if ranges.len() == 1 {
            out.push(ClipSpec {
                index: out.len(),
                ..spec
            });
            continue;
        }
        // A chunk carries the audio rows of its clip up to its own last frame, not after: some
        // scenes read rows since the clip began (circuit, measured by the renderer's chunk
        // test; and a stateful scene replays them), so the rows before a chunk stay.
        let lead = i64::from(spec.features.lead);
        for (j, (first, frames)) in ranges.into_iter().enumerate() {
            let crossfade = spec.crossfade.clone().filter(|x| first < x.frames);
            let features = spec.features.window(-lead, (first + frames) as i64);
            out.push(ClipSpec {
                id: format!("{}{CHUNK_SEP}{}", spec.id, j + 1),
                index: out.len(),
                frames,
                first,
                start: spec.start + first,
                crossfade,
                features,
                ..spec.clone()
            });
        }
    }
    out
}

/// Where each clip of `plan` goes at `fps` (see [`timing::frame_ranges`]), on the beats of
/// `track` (or the synthetic ones without audio).
pub fn ranges(
    plan: &Plan,
    fps: u32,
    track: Option<&Features>,
) -> Result<Vec<ClipRange>, PlanError> {
    timing::frame_ranges(plan, fps, &Beats::of(track))
}

/// The content digest (BLAKE3) of each of `paths`, for [`ClipSpec::content_hash`].
pub fn font_digests(paths: &[PathBuf]) -> Result<BTreeMap<PathBuf, String>, String> {
    paths
        .iter()
        .map(|p| Ok((p.clone(), crate::manifest::file_digest(Path::new(p))?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::Source;

    fn plan_with(dir: &Path, body: &str) -> (Plan, RenderSettings) {
        let path = dir.join("plan.yaml");
        std::fs::write(&path, body).unwrap();
        let plan = Plan::load(&path).unwrap();
        let profile = crate::profile::fixed_profile(crate::profile::Quality::Draft);
        let settings = RenderSettings {
            frame: FrameSpec {
                width: 64,
                height: 48,
                fps: 12,
                grid_scale: 0.5,
                shader_level: crate::render::ShaderLevel::Standard,
                particles_max: 100,
            },
            preset: crate::choices::X264Preset::Ultrafast,
            crf: 30.0,
            workers: 1,
            workers_reason: "test".into(),
            x264_threads: 1,
            threads_reason: "test".into(),
            profile,
        };
        (plan, settings)
    }

    const PLAN: &str = "output: out.mp4\nseed: 7\nquality: draft\nsegments:\n  - id: a\n    scene: plasma\n    duration: 1\n  - id: b\n    scene: plasma\n    duration: 2\n    shaders: [vignette]\n";

    fn spec0(dir: &Path) -> (ClipSpec, BTreeMap<PathBuf, String>) {
        let (plan, s) = plan_with(dir, PLAN);
        let specs = specs(&plan, &s, None).unwrap();
        (specs[1].clone(), BTreeMap::new())
    }

    #[test]
    fn long_clips_are_cut_into_even_chunks_that_keep_their_clip_and_the_seeds_that_follow() {
        let dir = tempfile::tempdir().unwrap();
        let body = |chunk: &str| {
            format!(
                "output: out.mp4\nseed: 7\nchunk: {chunk}\nsegments:\n  - {{id: a, scene: particles, duration: 2.5}}\n  - {{id: b, scene: fire, duration: 1.5, params: {{transition: {{in: crossfade, seconds: 1}}}}}}\n  - {{id: c, scene: plasma, duration: 0.5}}\n"
            )
        };
        let (plan, s) = plan_with(dir.path(), &body("0"));
        let whole = specs(&plan, &s, None).unwrap();
        let (plan, s) = plan_with(dir.path(), &body("1"));
        let cut = specs(&plan, &s, None).unwrap();
        let ids: Vec<&str> = cut.iter().map(|c| c.id.as_str()).collect();
        // 12 fps: a (30 frames) in 3 chunks of 10, b (18) in 2 of 9, c (6) whole.
        assert_eq!(ids, ["a#1", "a#2", "a#3", "b#1", "b#2", "c"]);
        let lens: Vec<(u64, u64, u64)> = cut.iter().map(|c| (c.first, c.frames, c.start)).collect();
        assert_eq!(
            lens,
            [
                (0, 10, 0),
                (10, 10, 10),
                (20, 10, 20),
                (0, 9, 30),
                (9, 9, 39),
                (0, 6, 48)
            ]
        );
        assert!(cut.iter().enumerate().all(|(i, c)| c.index == i));
        for c in &cut {
            let w = whole.iter().find(|w| w.id == unchunked_id(&c.id)).unwrap();
            assert_eq!(c.seed, w.seed, "{}: the unchunked clip's seed", c.id);
            assert_eq!(
                c.scene, w.scene,
                "{}: the whole clip's scene and length",
                c.id
            );
            assert_eq!(c.features.start, w.features.start, "{}", c.id);
            for f in c.first as i64 - 24..(c.first + c.frames) as i64 {
                assert_eq!(c.features.row(f), w.features.row(f), "{}: row {f}", c.id);
            }
            assert_eq!(c.segment, w.segment);
        }
        // b's crossfade (12 frames) reaches into its second chunk (from frame 9), not further.
        assert!(cut[3].crossfade.is_some() && cut[4].crossfade.is_some());
        assert_eq!(cut[5].crossfade, None);
        let fonts = BTreeMap::new();
        let hashes: std::collections::HashSet<String> =
            cut.iter().map(|c| c.content_hash(&fonts)).collect();
        assert_eq!(hashes.len(), cut.len(), "every chunk has its own hash");
        assert_eq!(unchunked_id("a#2"), "a");
        assert_eq!(unchunked_id("a-2"), "a-2");
        assert_eq!(chunks(whole.clone(), 0), whole);
    }

    #[test]
    fn specs_start_where_the_clip_before_ends() {
        let d = tempfile::tempdir().unwrap();
        let (plan, s) = plan_with(d.path(), PLAN);
        let v = specs(&plan, &s, None).unwrap();
        assert_eq!(v[0].start, 0);
        assert_eq!(v[1].start, v[0].frames);
        assert_eq!(v[1].scene.frames as u64, v[1].frames);
        assert_eq!(v[1].seed, crate::render::rng::clip_seed(7, 1));
        assert_eq!(v[1].features.source, Source::None);
        assert_eq!(v[1].features.start, v[1].start);
    }

    /// Every field that changes frames changes the hash; nothing else does.
    #[test]
    fn the_hash_covers_what_changes_frames_and_nothing_else() {
        let d = tempfile::tempdir().unwrap();
        let (base, fonts) = spec0(d.path());
        let h = base.content_hash(&fonts);
        let changed = |f: &dyn Fn(&mut ClipSpec)| {
            let mut s = base.clone();
            f(&mut s);
            s.content_hash(&fonts)
        };
        type Edit = (&'static str, Box<dyn Fn(&mut ClipSpec)>);
        let edits: Vec<Edit> = vec![
            ("seed", Box::new(|s| s.seed += 1)),
            ("frames", Box::new(|s| s.frames += 1)),
            ("scene.frames", Box::new(|s| s.scene.frames += 1)),
            ("frame.width", Box::new(|s| s.frame.width += 2)),
            ("frame.height", Box::new(|s| s.frame.height += 2)),
            ("frame.fps", Box::new(|s| s.frame.fps += 1)),
            ("frame.grid_scale", Box::new(|s| s.frame.grid_scale *= 2.0)),
            (
                "frame.shader_level",
                Box::new(|s| {
                    use crate::render::ShaderLevel;
                    s.frame.shader_level = if s.frame.shader_level == ShaderLevel::Full {
                        ShaderLevel::Minimal
                    } else {
                        ShaderLevel::Full
                    }
                }),
            ),
            (
                "frame.particles_max",
                Box::new(|s| s.frame.particles_max += 1),
            ),
            ("scene.text", Box::new(|s| s.scene.text = Some("hi".into()))),
            (
                "scene params",
                Box::new(|s| {
                    let other = crate::render::SceneSpec::parse(
                        "plasma",
                        &[("hue".to_string(), crate::render::Param::Num(0.9))]
                            .into_iter()
                            .collect(),
                        None,
                        Vec::new(),
                    )
                    .unwrap();
                    s.scene.config = other.config;
                }),
            ),
            (
                "shader params",
                Box::new(|s| s.scene.shaders[0] = shader("vignette", 0.9)),
            ),
            ("shaders", Box::new(|s| s.scene.shaders.clear())),
            ("encoder.crf", Box::new(|s| s.encoder.crf += 1.0)),
            (
                "encoder.preset",
                Box::new(|s| s.encoder.preset = crate::choices::X264Preset::Slow),
            ),
            ("encoder.width", Box::new(|s| s.encoder.width += 2)),
            ("encoder.height", Box::new(|s| s.encoder.height += 2)),
            ("encoder.fps", Box::new(|s| s.encoder.fps += 1)),
            (
                "features rows",
                Box::new(|s| s.features = ClipFeatures::synthetic(24, 0, s.frames, 0)),
            ),
            (
                "one feature value",
                Box::new(|s| {
                    s.features = ClipFeatures::synthetic(24, 0, s.frames, 0);
                    s.features.values[3] += 0.5;
                }),
            ),
        ];
        let base_rows = changed(&|s| s.features = ClipFeatures::synthetic(24, 0, s.frames, 0));
        for (name, edit) in &edits {
            let got = changed(edit.as_ref());
            if *name == "one feature value" {
                assert_ne!(got, base_rows, "{name}");
            } else {
                assert_ne!(got, h, "{name} changes frames but not the hash");
            }
        }
        // What does not change frames.
        assert_eq!(changed(&|s| s.id = "renamed".into()), h, "id");
        assert_eq!(changed(&|s| s.index += 3), h, "index (the seed says it)");
        assert_eq!(
            changed(&|s| s.start += 100),
            h,
            "start, for a clip without features"
        );
        assert_eq!(
            changed(&|s| s.features.start += 100),
            h,
            "features start, without rows"
        );
    }

    fn shader(name: &str, amount: f64) -> crate::render::ShaderSpec {
        let params = [("strength".to_string(), crate::render::Param::Num(amount))]
            .into_iter()
            .collect();
        crate::render::ShaderSpec {
            name: name.parse().expect("a shader name"),
            params,
        }
    }

    /// Fonts count by their content: moved elsewhere with the same content, the hash stays;
    /// with other content, it changes.
    #[test]
    fn fonts_count_by_content_not_by_path() {
        let d = tempfile::tempdir().unwrap();
        let (mut base, _) = spec0(d.path());
        let (a, b, c) = (
            d.path().join("a.ttf"),
            d.path().join("moved/a.ttf"),
            d.path().join("c.ttf"),
        );
        std::fs::create_dir_all(b.parent().unwrap()).unwrap();
        std::fs::write(&a, b"font one").unwrap();
        std::fs::write(&b, b"font one").unwrap();
        std::fs::write(&c, b"font two").unwrap();
        let digests = font_digests(&[a.clone(), b.clone(), c.clone()]).unwrap();
        let with = |s: &mut ClipSpec, p: &Path| {
            s.scene.fonts = vec![p.to_path_buf()];
            s.content_hash(&digests)
        };
        let ha = with(&mut base, &a);
        assert_eq!(with(&mut base, &b), ha, "moved, same content");
        assert_ne!(with(&mut base, &c), ha, "other content");
        base.scene.fonts.clear();
        assert_ne!(base.content_hash(&digests), ha, "no font");
    }

    /// A reactive clip's rows are its frames' rows: the start moves them, so it changes the hash.
    #[test]
    fn a_reactive_clip_hashes_its_rows() {
        let d = tempfile::tempdir().unwrap();
        let (mut s, fonts) = spec0(d.path());
        s.features = ClipFeatures::synthetic(24, 0, s.frames, 0);
        let h = s.content_hash(&fonts);
        s.features = ClipFeatures::synthetic(24, 13, s.frames, 0);
        assert_ne!(s.content_hash(&fonts), h);
    }

    /// `a` (rings, 1 s) then `b` (fire, 2 s) crossfading from it over `secs` seconds; `a_extra`
    /// is added to a's mapping (e.g. its params).
    fn xfade_plan(a_extra: &str, secs: &str) -> String {
        format!(
            "output: out.mp4\nseed: 7\nsegments:\n  - id: a\n    scene: rings\n    duration: 1\n{a_extra}  - id: b\n    scene: fire\n    duration: 2\n    params:\n      transition: {{in: crossfade, seconds: {secs}}}\n"
        )
    }

    fn xfade_specs(dir: &Path, a_extra: &str, secs: &str) -> Vec<ClipSpec> {
        let (plan, s) = plan_with(dir, &xfade_plan(a_extra, secs));
        specs(&plan, &s, None).unwrap()
    }

    #[test]
    fn a_crossfade_borrows_the_clip_before_its_scene_seed_length_and_rows() {
        let d = tempfile::tempdir().unwrap();
        let v = xfade_specs(d.path(), "", "0.5");
        assert!(v[0].crossfade.is_none());
        let x = v[1].crossfade.as_ref().expect("b crossfades");
        assert_eq!(x.from, "a");
        assert_eq!(x.frames, 6, "0.5 s at 12 fps");
        assert_eq!(x.offset, v[0].frames);
        assert_eq!(x.scene, v[0].scene);
        assert_eq!(x.frame, v[0].frame);
        assert_eq!(x.seed, v[0].seed);
        assert_ne!(x.seed, v[1].seed);
        // a's rows run on over b's first frames: the same global frames' features as b's.
        assert!(x.features.is_reactive() && v[1].features.is_reactive());
        assert_eq!(x.features.start, v[0].start);
        for k in 0..x.frames as i64 {
            let g = x.offset as i64 + k;
            assert_eq!(x.features.row(g).values, v[1].features.row(k).values);
        }
        for k in -3..v[0].frames as i64 {
            assert_eq!(x.features.row(k).values, v[0].features.row(k).values);
        }
    }

    /// The crossfade is in the hash: every field that changes b's frames changes it, a's id
    /// does not; b's hash follows a's look (scene, shaders, length, seed) and only that.
    #[test]
    fn the_hash_covers_the_crossfade_and_follows_the_look_of_the_clip_before() {
        let d = tempfile::tempdir().unwrap();
        let base = xfade_specs(d.path(), "", "0.5")[1].clone();
        let fonts = BTreeMap::new();
        let h = base.content_hash(&fonts);
        let changed = |f: &dyn Fn(&mut Crossfade)| {
            let mut s = base.clone();
            f(s.crossfade.as_mut().unwrap());
            s.content_hash(&fonts)
        };
        type Edit = (&'static str, Box<dyn Fn(&mut Crossfade)>);
        let edits: Vec<Edit> = vec![
            ("frames", Box::new(|x| x.frames += 1)),
            ("offset", Box::new(|x| x.offset += 1)),
            ("seed", Box::new(|x| x.seed += 1)),
            ("scene.frames", Box::new(|x| x.scene.frames += 1)),
            ("scene.text", Box::new(|x| x.scene.text = Some("hi".into()))),
            (
                "scene.shaders",
                Box::new(|x| x.scene.shaders.push(shader("vignette", 0.5))),
            ),
            ("frame.grid_scale", Box::new(|x| x.frame.grid_scale *= 2.0)),
            (
                "features",
                Box::new(|x| x.features = ClipFeatures::synthetic(12, 5, 20, 0)),
            ),
            (
                "one feature value",
                Box::new(|x| x.features.values[7] += 0.25),
            ),
            (
                "scene fonts",
                Box::new(|x| x.scene.fonts = vec![PathBuf::from("/f.ttf")]),
            ),
        ];
        for (name, edit) in &edits {
            assert_ne!(
                changed(edit.as_ref()),
                h,
                "{name} changes frames but not the hash"
            );
        }
        assert_eq!(changed(&|x| x.from = "renamed".into()), h, "a's id");
        let mut none = base.clone();
        none.crossfade = None;
        assert_ne!(none.content_hash(&fonts), h, "with and without a crossfade");

        // Through the plan: b's hash changes with a's look, not with a's id...
        let b_hash = |a_extra: &str, secs: &str, id_a: &str| {
            let src = xfade_plan(a_extra, secs).replace("id: a", &format!("id: {id_a}"));
            let (plan, s) = plan_with(d.path(), &src);
            specs(&plan, &s, None).unwrap()[1].content_hash(&fonts)
        };
        let plain = b_hash("", "0.5", "a");
        assert_eq!(plain, h);
        assert_eq!(b_hash("", "0.5", "renamed"), plain, "a renamed");
        assert_ne!(
            b_hash("    params: {hue: 0.3}\n", "0.5", "a"),
            plain,
            "a's params"
        );
        assert_ne!(
            b_hash("    shaders: [bloom]\n", "0.5", "a"),
            plain,
            "a's shaders"
        );
        assert_ne!(b_hash("", "0.25", "a"), plain, "the crossfade's length");
        // ... and a clip without a crossfade does not follow the clip before at all.
        let c_hash = |a_extra: &str| {
            let src = format!(
                "{}  - id: c\n    scene: fire\n    duration: 1\n",
                xfade_plan(a_extra, "0.5")
            );
            let (plan, s) = plan_with(d.path(), &src);
            specs(&plan, &s, None).unwrap()[2].content_hash(&fonts)
        };
        assert_eq!(c_hash(""), c_hash("    params: {hue: 0.3}\n"));
    }

    /// What `farm frame` and the worker draw: b's frame 0 is a's scene continued, byte for
    /// byte; from the crossfade's end on it is b's own; in between, neither; and a frame does not
    /// depend on which were rendered before (a's scene here carries state: particles).
    #[test]
    fn the_renderer_mixes_the_clip_before_continued_into_the_first_frames() {
        let d = tempfile::tempdir().unwrap();
        let v = xfade_specs(d.path(), "", "0.5");
        let (a, b) = (&v[0], &v[1]);
        let x = b.crossfade.as_ref().unwrap();
        let mut rb = b.renderer().unwrap();
        assert_eq!(rb.crossfade(), Some((6, 0)), "rings carries no state");
        let mut alone = b.clone();
        alone.crossfade = None;
        let mut rb_alone = alone.renderer().unwrap();
        // a continued: a's scene and seed, with the rows of the frames it continues over.
        let a_continued = |x: &Crossfade| {
            Renderer::with_features(&x.frame, &x.scene, x.seed, x.features.clone()).unwrap()
        };
        assert_eq!((&x.scene, x.seed), (&a.scene, a.seed));
        let mut ra = a_continued(x);
        let n = rb.frame_len();
        let (mut fb, mut fa, mut fo) = (vec![0u8; n], vec![0u8; n], vec![0u8; n]);
        rb.render_frame(0, &mut fb);
        ra.render_frame(x.offset as u32, &mut fa);
        assert!(fb == fa, "frame 0: a continued");
        rb.render_frame(6, &mut fb);
        rb_alone.render_frame(6, &mut fo);
        assert!(fb == fo, "after the crossfade: b alone");
        rb.render_frame(3, &mut fb);
        rb_alone.render_frame(3, &mut fo);
        ra.render_frame(x.offset as u32 + 3, &mut fa);
        assert!(fb != fo && fb != fa, "half-way: a mix");

        // A stateful scene before: simulated from its frame 0, in any order.
        let src = "output: out.mp4\nseed: 7\nsegments:\n  - id: a\n    scene: particles\n    duration: 1\n  - id: b\n    scene: fire\n    duration: 1\n    params:\n      transition: {in: crossfade, seconds: 0.5}\n";
        let (plan, s) = plan_with(d.path(), src);
        let v = specs(&plan, &s, None).unwrap();
        let mut in_order = v[1].renderer().unwrap();
        assert_eq!(
            in_order.crossfade(),
            Some((6, 12)),
            "particles: 12 frames first"
        );
        for i in 0..4 {
            in_order.render_frame(i, &mut fb);
        }
        let mut direct = v[1].renderer().unwrap();
        direct.render_frame(3, &mut fo);
        assert!(fb == fo, "frame 3 in order vs directly");
        let mut ra = a_continued(v[1].crossfade.as_ref().unwrap());
        direct.render_frame(0, &mut fo);
        ra.render_frame(12, &mut fa);
        assert!(fo == fa, "frame 0 after going back: a continued");
        // The worker's explicit catch-up (with its ticks) gives the same bytes.
        let mut ticked = v[1].renderer().unwrap();
        let mut ticks = Vec::new();
        ticked.catch_up(&mut |done, total| {
            ticks.push((done, total));
            true
        });
        assert_eq!(ticks.len(), 12);
        assert_eq!(ticks.last(), Some(&(12, 12)));
        ticked.render_frame(0, &mut fb);
        assert!(fb == fo, "frame 0 after the catch-up");
        for i in 1..4 {
            ticked.render_frame(i, &mut fb);
        }
        direct.render_frame(3, &mut fo);
        assert!(fb == fo, "frame 3 after the catch-up");
        // Stopped half-way, the first frame simulates the rest.
        let mut half = v[1].renderer().unwrap();
        half.catch_up(&mut |done, _| done < 5);
        half.render_frame(0, &mut fb);
        direct.render_frame(0, &mut fo);
        assert!(fb == fo, "frame 0 after half a catch-up");
    }
}
