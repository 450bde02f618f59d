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
}

/// The encoder settings of a run.
pub fn encoder_settings(s: &RenderSettings) -> EncoderSettings {
    EncoderSettings {
        width: s.frame.width,
        height: s.frame.height,
        fps: s.frame.fps,
        preset: s.preset,
        crf: s.crf,
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
    /// (`track`; None: the plan has no audio).
    pub fn build(
        plan: &Plan,
        settings: &RenderSettings,
        index: usize,
        range: &ClipRange,
        track: Option<&Features>,
    ) -> ClipSpec {
        let seg = &plan.segments[range.segment];
        let fps = settings.frame.fps;
        let (start, frames) = (range.start_frame, range.frames);
        let scene = SceneSpec {
            frames: frames.min(u32::MAX as u64) as u32,
            ..seg.scene.clone()
        };
        ClipSpec {
            id: range.id.clone(),
            index,
            segment: range.segment,
            frames,
            start,
            seed: crate::render::rng::clip_seed(plan.seed, index as u32),
            frame: settings.frame.clone(),
            features: clip_features(track, &scene, fps, start, frames),
            scene,
            encoder: encoder_settings(settings),
        }
    }

    /// The clip's renderer (what the worker and `farm frame` draw with).
    pub fn renderer(&self) -> Result<Renderer, String> {
        Renderer::with_features(&self.frame, &self.scene, self.seed, self.features.clone())
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
    pub fn content_hash(&self, fonts: &BTreeMap<PathBuf, String>) -> String {
        let mut v = serde_json::to_value(self).expect("a spec serialises");
        let obj = v.as_object_mut().expect("a spec is a struct");
        for k in ["id", "index", "segment", "start"] {
            obj.remove(k);
        }
        let digests: Vec<serde_json::Value> = self
            .scene
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
        // Rows are many: hashed apart, as their compact bytes.
        let mut features = self.features.clone();
        if !features.is_reactive() {
            features.start = 0;
        }
        let rows = postcard::to_stdvec(&features).expect("features serialise");
        obj.insert(
            "features".into(),
            serde_json::Value::String(blake3::hash(&rows).to_hex().to_string()),
        );
        crate::manifest::clip_hash(&v)
    }
}

/// The specs of every clip of `plan` at `settings`, in order (each clip starts where the one
/// before it ends; beat-cut segments end on the soundtrack's beats, or on the synthetic 120 BPM
/// beat without audio), with the soundtrack's features `track` (None: no audio).
pub fn specs(
    plan: &Plan,
    settings: &RenderSettings,
    track: Option<&Features>,
) -> Result<Vec<ClipSpec>, PlanError> {
    let ranges = ranges(plan, settings.frame.fps, track)?;
    Ok(ranges
        .iter()
        .enumerate()
        .map(|(i, r)| ClipSpec::build(plan, settings, i, r, track))
        .collect())
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
}
