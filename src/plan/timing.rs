//! Beat-synced cuts: segments that end on a beat, runs of segments cut every few beats, and the
//! exact frame range of every clip.
//!
//! Two plan forms place boundaries on beats (the README's "Beat-synced cuts"):
//! - a segment with `until: beat` and `beats: N` ends on the N-th beat after its first frame;
//! - the plan-level `cut: {on: beats, every: N}` cuts each run of consecutive `cut: auto`
//!   segments every N beats, cycling through the run's segments: the run `a, b` gives the clips
//!   `a-1, b-1, a-2, b-2, ...` (each segment's clips numbered from 1 in order). A run lasts
//!   until the next segment, which must then have `start:` and `end:`, or, when it ends the
//!   plan, until the audio ends.
//!
//! The rules, all in [`frame_ranges`] (a pure function of the plan, the frame rate and the
//! beats, so the ranges are the same on every run):
//! - a beat is at the frame nearest its time, `round(t * fps)`; beats that fall on the same
//!   frame count as one beat (a frame holds one cut, so no clip ever gets 0 frames);
//! - "after its start" means on a later frame: a beat on a clip's first frame does not count,
//!   so back-to-back `beats: 4` segments take beats 1-4, 5-8, ...;
//! - a run's cuts are the beats strictly inside it; the last clip ends where the run ends, and
//!   a run with fewer than `every` beats is one clip;
//! - a plan without audio uses the synthetic features' beat, [`SYNTHETIC_BPM`] (a beat every
//!   0.5 s from 0); a track that ends before a segment's beats is an error naming the segment
//!   and how many beats the track has (the tempo is not extrapolated).
//!
//! Durations and `start`/`end` ranges keep their frames ([`Plan::frame_counts`] gives the same
//! counts for a plan without beat cuts).
//!
//! Crossfades (`transition: {in: crossfade}`) are checked here too, as they depend on where
//! clips fall: not on the first segment and not longer than their segment at load
//! (`check_crossfades`), not longer than their clip in frames ([`frame_ranges`]).

use super::context::{Ctx, RawSegment};
pub use super::types::Cut;
use super::types::{
    MAX_ID_LEN, MAX_SEGMENT_SECONDS, MAX_SEGMENTS, Plan, PlanError, Segment, Timing,
};
use crate::features::SYNTHETIC_BPM;
use serde::Deserialize;
use std::fmt::Write as _;

/// Most beats a segment may last (`beats:`) or a cut may span (`every:`).
pub const MAX_BEATS: u64 = 100_000;

/// Longest suffix a cut clip adds to its segment's id: `-` and the digits of [`MAX_SEGMENTS`].
const PART_SUFFIX_MAX: usize = 6;

/// `cut:` as written in the plan.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping such as {on: beats, every: 4}"
)]
pub(super) struct RawCut {
    #[serde(default)]
    on: Option<String>,
    every: u64,
}

/// Validate the plan-level `cut:`.
pub(super) fn check_cut(cx: &Ctx, raw: Option<&RawCut>) -> Result<Option<Cut>, PlanError> {
    let Some(r) = raw else { return Ok(None) };
    if let Some(on) = &r.on
        && on != "beats"
    {
        return Err(cx.at_value(
            "cut.on",
            format!("'{on}': cuts fall on beats; the only choice is `on: beats`"),
        ));
    }
    if r.every == 0 {
        return Err(cx.at_value("cut.every", "must be at least 1 beat"));
    }
    if r.every > MAX_BEATS {
        return Err(cx.at_value(
            "cut.every",
            format!("{} beats; at most {MAX_BEATS}", r.every),
        ));
    }
    Ok(Some(Cut {
        every: r.every as u32,
    }))
}

/// The timing a segment asks for, checked on its own.
fn segment_timing(
    cx: &Ctx,
    i: usize,
    rs: &RawSegment,
    plan_cut: bool,
) -> Result<Timing, PlanError> {
    let key = |k: &str| format!("segments[{i}].{k}");
    let given = [
        ("duration", rs.duration.is_some()),
        ("start", rs.start.is_some()),
        ("end", rs.end.is_some()),
        ("until", rs.until.is_some()),
        ("beats", rs.beats.is_some()),
    ];
    if let Some(c) = &rs.cut {
        if c != "auto" {
            return Err(cx.at_value(
                &key("cut"),
                format!("'{c}': the only value is `auto` (cut by the plan's `cut:`)"),
            ));
        }
        if !plan_cut {
            return Err(cx.at_value(
                &key("cut"),
                "`cut: auto` needs the plan-level `cut: {on: beats, every: N}`, which says how often to cut",
            ));
        }
        if let Some((k, _)) = given.iter().find(|(_, g)| *g) {
            return Err(cx.at_key(
                &key(k),
                format!(
                    "a `cut: auto` segment gets its length from the plan's `cut:` and from what follows its run; remove `{k}`"
                ),
            ));
        }
        let most = MAX_ID_LEN - PART_SUFFIX_MAX;
        if rs.id.len() > most {
            return Err(cx.at_value(
                &key("id"),
                format!(
                    "id is {} bytes long; a `cut: auto` segment's id may have at most {most} (its clips are named <id>-1, <id>-2, ...)",
                    rs.id.len()
                ),
            ));
        }
        return Ok(Timing::Cut);
    }
    if rs.until.is_none() && rs.beats.is_none() {
        return check_timing(cx, i, rs.duration, rs.start, rs.end);
    }
    let own = if rs.until.is_some() { "until" } else { "beats" };
    if let Some((k, _)) = given[..3].iter().find(|(_, g)| *g) {
        return Err(cx.at_key(
            &key(own),
            format!(
                "give either `until: beat` with `beats: N`, or a duration, or start and end; not both (this segment also has `{k}`)"
            ),
        ));
    }
    match &rs.until {
        None => {
            return Err(cx.at_key(
                &key("beats"),
                "`beats: N` goes with `until: beat` (the segment lasts until its N-th beat)",
            ));
        }
        Some(u) if u != "beat" => {
            return Err(cx.at_value(
                &key("until"),
                format!("'{u}': the only value is `beat` (with `beats: N`)"),
            ));
        }
        Some(_) => {}
    }
    let Some(n) = rs.beats else {
        return Err(cx.at_key(
            &key("until"),
            "`until: beat` needs `beats: N`: how many beats the segment lasts",
        ));
    };
    if n == 0 {
        return Err(cx.at_value(&key("beats"), "must be at least 1"));
    }
    if n > MAX_BEATS {
        return Err(cx.at_value(&key("beats"), format!("{n} beats; at most {MAX_BEATS}")));
    }
    Ok(Timing::Beats(n as u32))
}

/// Where the segments read so far end, as far as the plan alone can tell.
#[derive(Default)]
enum State {
    /// At a known time: the end of the last of `placed`.
    #[default]
    Known,
    /// After segment `.0`, timed in beats (and maybe durations after it): the time depends on
    /// the beats.
    AfterBeats(usize),
    /// In a run of `cut: auto` segments that began with segment `first`, at `start` seconds
    /// when that is known.
    Run { first: usize, start: Option<f64> },
}

/// The layout checks made while a plan loads, segment by segment.
#[derive(Default)]
pub(super) struct Layout {
    /// Segments whose place in seconds is known, for the continuity checks.
    placed: Vec<Placed>,
    /// Every segment's id so far.
    ids: Vec<String>,
    state: State,
}

impl Layout {
    /// Check segment `i`'s timing and where it goes after the segments before it.
    pub(super) fn place(
        &mut self,
        cx: &Ctx,
        i: usize,
        rs: &RawSegment,
        plan_cut: bool,
    ) -> Result<Timing, PlanError> {
        let timing = segment_timing(cx, i, rs, plan_cut)?;
        let key = |k: &str| format!("segments[{i}].{k}");
        let named = |j: usize| {
            let line = cx
                .spans
                .value(&format!("segments[{j}].id"))
                .map_or(String::new(), |p| format!(", line {}", p.line));
            format!("'{}'{line}", self.ids[j])
        };
        let cursor = self.placed.last().map_or(0.0, |p| p.end);
        let next = match (timing, &self.state) {
            (Timing::Cut, State::Known) => Some(State::Run {
                first: i,
                start: Some(cursor),
            }),
            (Timing::Cut, State::AfterBeats(_)) => Some(State::Run {
                first: i,
                start: None,
            }),
            (Timing::Cut, State::Run { .. }) => None,
            (Timing::Duration(_) | Timing::Beats(_), &State::Run { first, .. }) => {
                let k = if matches!(timing, Timing::Beats(_)) {
                    "until"
                } else {
                    "duration"
                };
                return Err(cx.at_key(
                    &key(k),
                    format!(
                        "follows the run of `cut: auto` segments that begins at {}: a run lasts until the next segment starts, so this segment needs start: and end: (or put the run last: it then lasts until the audio ends)",
                        named(first)
                    ),
                ));
            }
            (Timing::Beats(_), State::Known) => Some(State::AfterBeats(i)),
            (Timing::Beats(_) | Timing::Duration(_), State::AfterBeats(_)) => None,
            (Timing::Duration(_), State::Known) => {
                let end = check_continuity(cx, i, timing, &self.placed)?;
                self.placed.push(Placed {
                    id: rs.id.clone(),
                    start: cursor,
                    end,
                });
                None
            }
            (Timing::Range { start, end }, State::Known) => {
                check_continuity(cx, i, timing, &self.placed)?;
                self.placed.push(Placed {
                    id: rs.id.clone(),
                    start,
                    end,
                });
                None
            }
            (Timing::Range { .. }, &State::AfterBeats(j)) => {
                return Err(cx.at_value(
                    &key("start"),
                    format!(
                        "where this segment starts depends on the beats: it follows {}, which ends on a beat; give it a duration or `until: beat`, or put a run of `cut: auto` segments before it (the run ends where it starts)",
                        named(j)
                    ),
                ));
            }
            (Timing::Range { start, end }, &State::Run { first, start: from }) => {
                if let Some(from) = from
                    && start <= from + TIMING_TOLERANCE
                {
                    return Err(cx.at_value(
                        &key("start"),
                        format!(
                            "{} s leaves no time for the run of `cut: auto` segments before it, which begins at {} s ({}): start must be later",
                            secs(start),
                            secs(from),
                            named(first)
                        ),
                    ));
                }
                match from {
                    Some(from) => self.placed.push(Placed {
                        id: self.ids[first].clone(),
                        start: from,
                        end: start,
                    }),
                    None => self.placed.clear(),
                }
                self.placed.push(Placed {
                    id: rs.id.clone(),
                    start,
                    end,
                });
                Some(State::Known)
            }
        };
        if let Some(s) = next {
            self.state = s;
        }
        self.ids.push(rs.id.clone());
        Ok(timing)
    }
}

/// The checks once every segment is read: a plan-level `cut:` that cuts nothing, a last run
/// with no audio to end at, and clip ids of cut segments that another segment already has.
pub(super) fn finish(
    cx: &Ctx,
    lay: &Layout,
    segments: &[Segment],
    plan_cut: bool,
    has_audio: bool,
) -> Result<(), PlanError> {
    let cut: Vec<&Segment> = segments
        .iter()
        .filter(|s| s.timing == Timing::Cut)
        .collect();
    if plan_cut && cut.is_empty() {
        return Err(cx.at_key(
            "cut",
            "no segment has `cut: auto`, so nothing would be cut: mark the segments to cut with `cut: auto`, or remove `cut:`",
        ));
    }
    if let State::Run { first, .. } = lay.state
        && !has_audio
    {
        return Err(cx.at_value(
            &format!("segments[{first}].cut"),
            "this run of `cut: auto` segments ends the plan, so it lasts until the audio ends, but the plan has no audio: end the run with a segment that has start: and end:",
        ));
    }
    for c in &cut {
        let prefix = format!("{}-", c.id);
        if let Some(o) = segments.iter().find(|o| {
            o.id.strip_prefix(&prefix).is_some_and(|n| {
                !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && !n.starts_with('0')
            })
        }) {
            let line = cx
                .spans
                .value(&format!("segments[{}].id", c.index))
                .map_or(0, |p| p.line);
            return Err(cx.at_value(
                &format!("segments[{}].id", o.index),
                format!(
                    "'{}' is also the name of a clip of the `cut: auto` segment '{}' (line {line}), whose clips are {}-1, {}-2, ...; rename one",
                    o.id, c.id, c.id, c.id
                ),
            ));
        }
    }
    Ok(())
}

/// The key a segment's crossfade error points at: its `params.transition.<k>` (`k`: `in`, or
/// for its length `in_seconds` when given, else `seconds`). The position falls back to the
/// nearest key the plan writes (the segment, for a crossfade that comes from a preset).
fn crossfade_key(s: &Segment, length: bool) -> String {
    let k = match (&s.scene.config, length) {
        (_, false) => "in",
        (crate::render::scenes::SceneConfig::Layers(l), true)
            if l.transition.is_some_and(|t| t.in_seconds.is_some()) =>
        {
            "in_seconds"
        }
        _ => "seconds",
    };
    format!("segments[{}].params.transition.{k}", s.index)
}

/// Crossfades (`transition: {in: crossfade}`) once every segment is read: not on the first
/// segment (there is no clip before it), and not longer than the segment when its length is
/// known in seconds (beat-timed clips are checked by [`frame_ranges`], in frames).
pub(super) fn check_crossfades(cx: &Ctx, segments: &[Segment]) -> Result<(), PlanError> {
    for s in segments {
        let Some(x) = s.scene.crossfade_in() else {
            continue;
        };
        if s.index == 0 {
            return Err(cx.at_value(
                &crossfade_key(s, false),
                format!(
                    "'{}' is the first segment: a crossfade mixes the clip before into this one, and there is none; use `in: fade` (from black), or give it a segment to come from",
                    s.id
                ),
            ));
        }
        let len = match s.timing {
            Timing::Duration(_) | Timing::Range { .. } => s.timing.seconds(),
            Timing::Beats(_) | Timing::Cut => continue,
        };
        if x > len + TIMING_TOLERANCE {
            return Err(cx.at_value(
                &crossfade_key(s, true),
                format!(
                    "the crossfade lasts {} s, longer than '{}' ({} s): at most {}, or lengthen the segment",
                    secs(x),
                    s.id,
                    secs(len),
                    secs(len)
                ),
            ));
        }
    }
    Ok(())
}

/// Where a plan's beats come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeatSource {
    /// The beats the analysis found in the plan's audio.
    Track,
    /// No audio: the synthetic features' beat, [`SYNTHETIC_BPM`].
    Synthetic,
}

/// The beats cuts fall on, in seconds of video time.
#[derive(Debug, Clone, PartialEq)]
pub struct Beats {
    source: BeatSource,
    /// Track beats, finite, >= 0, ascending (empty for synthetic beats).
    times: Vec<f64>,
    /// Where the track ends, in seconds (None: synthetic beats never end).
    end: Option<f64>,
    /// The track's tempo, when known.
    tempo: Option<f64>,
}

impl Beats {
    /// The synthetic beat of a plan without audio: one every `60 / SYNTHETIC_BPM` seconds
    /// (0.5 s), from 0, without end.
    pub fn synthetic() -> Beats {
        Beats {
            source: BeatSource::Synthetic,
            times: Vec::new(),
            end: None,
            tempo: Some(SYNTHETIC_BPM),
        }
    }

    /// A track's beats at `times` (seconds of video time; negative and non-finite times are
    /// dropped, the rest sorted) and its length in seconds.
    pub fn track(times: &[f64], duration: f64) -> Beats {
        let mut t: Vec<f64> = times
            .iter()
            .copied()
            .filter(|t| t.is_finite() && *t >= 0.0)
            .collect();
        t.sort_by(f64::total_cmp);
        Beats {
            source: BeatSource::Track,
            times: t,
            end: Some(if duration.is_finite() {
                duration.max(0.0)
            } else {
                0.0
            }),
            tempo: None,
        }
    }

    /// The beats, length and tempo of an analysed track.
    pub fn from_features(f: &crate::audio::Features) -> Beats {
        Beats {
            tempo: Some(f.tempo),
            ..Beats::track(&f.beats, f.duration)
        }
    }

    /// The track's beats when there are features, else the synthetic beat.
    pub fn of(features: Option<&crate::audio::Features>) -> Beats {
        features.map_or_else(Beats::synthetic, Beats::from_features)
    }

    /// Where the beats come from.
    pub fn source(&self) -> BeatSource {
        self.source
    }

    /// One line for `farm check`: where the beats come from, how many, the tempo.
    pub fn describe(&self) -> String {
        match self.source {
            BeatSource::Synthetic => format!(
                "beats: synthetic, {SYNTHETIC_BPM} BPM (the plan has no audio): one every {} s",
                secs(60.0 / SYNTHETIC_BPM)
            ),
            BeatSource::Track => {
                let tempo = match self.tempo {
                    Some(t) if t > 0.0 => format!(", {t:.1} BPM"),
                    Some(_) => ", no steady tempo".to_string(),
                    None => String::new(),
                };
                let last = self
                    .times
                    .last()
                    .map_or(String::new(), |t| format!(", the last at {} s", secs(*t)));
                format!(
                    "beats: {} from the audio{tempo}{last}; the audio lasts {} s",
                    self.times.len(),
                    secs(self.end.unwrap_or(0.0))
                )
            }
        }
    }

    /// The distinct beat frames at `fps` after frame `after`, ascending.
    fn frames_after(&self, fps: u32, after: u64) -> BeatFrames<'_> {
        let f = fps as f64;
        let k = match self.source {
            BeatSource::Track => self.times.partition_point(|t| beat_frame(*t, f) <= after),
            BeatSource::Synthetic => {
                let period = 60.0 / SYNTHETIC_BPM;
                ((after as f64 / f / period).floor() as usize).saturating_sub(1)
            }
        };
        BeatFrames {
            beats: self,
            fps: f,
            k,
            last: after,
        }
    }

    /// How many beats there are after frame `after` (track beats only).
    fn count_after(&self, fps: u32, after: u64) -> usize {
        match self.source {
            BeatSource::Track => self.frames_after(fps, after).count(),
            BeatSource::Synthetic => usize::MAX,
        }
    }

    /// The frame where the audio ends (None: synthetic beats).
    fn end_frame(&self, fps: u32) -> Option<u64> {
        self.end.map(|e| beat_frame(e, fps as f64))
    }
}

/// "1 beat", "3 beats".
fn n_beats(n: usize) -> String {
    if n == 1 {
        "1 beat".into()
    } else {
        format!("{n} beats")
    }
}

/// The frame nearest time `t`.
fn beat_frame(t: f64, fps: f64) -> u64 {
    (t * fps).round().max(0.0) as u64
}

/// Distinct beat frames after a frame (see [`Beats::frames_after`]).
struct BeatFrames<'a> {
    beats: &'a Beats,
    fps: f64,
    /// The next beat to look at.
    k: usize,
    /// The last frame given (or the frame to start after).
    last: u64,
}

impl Iterator for BeatFrames<'_> {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        loop {
            let t = match self.beats.source {
                BeatSource::Track => *self.beats.times.get(self.k)?,
                BeatSource::Synthetic => self.k as f64 * 60.0 / SYNTHETIC_BPM,
            };
            self.k += 1;
            let f = beat_frame(t, self.fps);
            if f > self.last {
                self.last = f;
                return Some(f);
            }
        }
    }
}

/// What placed a clip's frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeKind {
    /// `duration:` or `start:`/`end:` seconds.
    Seconds,
    /// `until: beat`: it ends on a beat.
    UntilBeat,
    /// One clip of a `cut: auto` run.
    Cut,
}

/// One clip's frames in the final video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipRange {
    /// The clip's id: the segment's, or `<id>-<part>` for a clip of a `cut: auto` segment.
    pub id: String,
    /// The segment it renders (index into [`Plan::segments`]).
    pub segment: usize,
    /// For a clip of a `cut: auto` segment, its number among that segment's clips (from 1).
    pub part: Option<u32>,
    /// Its first frame in the final video.
    pub start_frame: u64,
    /// Its number of frames (at least 1).
    pub frames: u64,
    /// What placed it.
    pub kind: RangeKind,
}

impl ClipRange {
    /// The frame after its last one.
    pub fn end_frame(&self) -> u64 {
        self.start_frame + self.frames
    }

    /// Whether beats placed it (`until: beat` or a cut run).
    pub fn is_beat_cut(&self) -> bool {
        self.kind != RangeKind::Seconds
    }
}

impl Plan {
    /// Whether any segment is timed in beats (`until: beat` or `cut: auto`): its frames then
    /// come from [`frame_ranges`], not [`Plan::frame_counts`].
    pub fn has_beat_cuts(&self) -> bool {
        self.segments
            .iter()
            .any(|s| matches!(s.timing, Timing::Beats(_) | Timing::Cut))
    }

    /// An error at `key`'s value in the plan file (the file alone when the key is not there).
    pub(crate) fn error_at(&self, key: String, message: String) -> PlanError {
        PlanError {
            file: self.path.clone(),
            pos: self.spans.value(&key),
            key,
            message,
        }
    }
}

/// The error [`Plan::frame_counts`] gives for a plan with beat cuts.
pub(super) fn no_beat_cuts(plan: &Plan) -> Result<(), PlanError> {
    match plan
        .segments
        .iter()
        .find(|s| matches!(s.timing, Timing::Beats(_) | Timing::Cut))
    {
        None => Ok(()),
        Some(s) => {
            let k = if s.timing == Timing::Cut {
                "cut"
            } else {
                "until"
            };
            Err(plan.error_at(
                format!("segments[{}].{k}", s.index),
                format!(
                    "'{}' is cut on beats: its frames need the beats of the audio (or the synthetic beat of a plan without audio), and frame counts alone do not have them",
                    s.id
                ),
            ))
        }
    }
}

/// Every clip's exact frames at `fps` (at least 1), laid end to end from frame 0, with the
/// beat cuts placed on `beats` (see the module doc for the rules). A pure function: the same
/// plan, rate and beats always give the same ranges. For a plan without beat cuts, the clips
/// are its segments with [`Plan::frame_counts`]'s frames. Errors: a clip that gets no frame,
/// a track with too few beats, a clip longer than a day, more than [`MAX_SEGMENTS`] clips, and
/// the synthetic beat for a plan that has audio.
pub fn frame_ranges(plan: &Plan, fps: u32, beats: &Beats) -> Result<Vec<ClipRange>, PlanError> {
    let fps = fps.max(1);
    let f = fps as f64;
    if plan.has_beat_cuts() && plan.audio.is_some() && beats.source == BeatSource::Synthetic {
        return Err(plan.error_at(
            "audio".into(),
            "the plan's beat cuts fall on the beats of its audio, which have not been analysed (the synthetic beat is for plans without audio)".into(),
        ));
    }
    let max_frames = (MAX_SEGMENT_SECONDS * f) as u64;
    let too_long = |key: String, what: &str, n: u64| {
        plan.error_at(
            key,
            format!(
                "{what} lasts {} s at {fps} fps, longer than the {MAX_SEGMENT_SECONDS} s a clip may last",
                secs(n as f64 / f)
            ),
        )
    };
    let at = |frame: u64| format!("{} s (frame {frame})", secs(frame as f64 / f));
    let segs = &plan.segments;
    let mut out: Vec<ClipRange> = Vec::with_capacity(segs.len());
    let mut laid = 0u64;
    let mut i = 0;
    while i < segs.len() {
        let s = &segs[i];
        let seg_key = |k: &str| format!("segments[{}].{k}", s.index);
        match s.timing {
            Timing::Duration(_) | Timing::Range { .. } => {
                let n = match s.timing {
                    Timing::Range { end, .. } => beat_frame(end, f).saturating_sub(laid),
                    _ => s.timing.frames(fps),
                };
                if n == 0 {
                    let k = if matches!(s.timing, Timing::Range { .. }) {
                        "end"
                    } else {
                        "duration"
                    };
                    let message = if s.timing.frames(fps) == 0 {
                        format!(
                            "{} s is shorter than one frame at {fps} fps",
                            s.timing.seconds()
                        )
                    } else {
                        format!(
                            "gets no frame at {fps} fps: the segments before it, each rounded to whole frames, already fill the video to {}; lengthen this range or shorten them",
                            at(laid)
                        )
                    };
                    return Err(plan.error_at(seg_key(k), message));
                }
                out.push(ClipRange {
                    id: s.id.clone(),
                    segment: i,
                    part: None,
                    start_frame: laid,
                    frames: n,
                    kind: RangeKind::Seconds,
                });
                laid += n;
                i += 1;
            }
            Timing::Beats(k) => {
                let Some(end) = beats.frames_after(fps, laid).nth(k.max(1) as usize - 1) else {
                    let have = beats.count_after(fps, laid);
                    let last = beats
                        .times
                        .last()
                        .map_or(String::new(), |t| format!(", the last at {} s", secs(*t)));
                    return Err(plan.error_at(
                        seg_key("beats"),
                        format!(
                            "'{}' needs {} after it starts at {}, but the audio has only {} after that ({} in all{last}); lower beats, or give the segment a duration",
                            s.id,
                            n_beats(k as usize),
                            at(laid),
                            n_beats(have),
                            n_beats(beats.times.len())
                        ),
                    ));
                };
                let n = end - laid;
                if n > max_frames {
                    return Err(too_long(seg_key("beats"), &format!("'{}'", s.id), n));
                }
                out.push(ClipRange {
                    id: s.id.clone(),
                    segment: i,
                    part: None,
                    start_frame: laid,
                    frames: n,
                    kind: RangeKind::UntilBeat,
                });
                laid = end;
                i += 1;
            }
            Timing::Cut => {
                let r = (i..segs.len())
                    .find(|&j| segs[j].timing != Timing::Cut)
                    .unwrap_or(segs.len());
                let run_key = seg_key("cut");
                let (run_end, until) = match segs.get(r).map(|n| (n, n.timing)) {
                    Some((n, Timing::Range { start, .. })) => {
                        (beat_frame(start, f), format!("where '{}' starts", n.id))
                    }
                    Some((n, _)) => {
                        return Err(plan.error_at(
                            run_key,
                            format!(
                                "the run of `cut: auto` segments from here ends where '{}' starts, so '{}' needs start: and end:",
                                n.id, n.id
                            ),
                        ));
                    }
                    None => match beats.end_frame(fps) {
                        Some(e) => (e, "where the audio ends".to_string()),
                        None => {
                            return Err(plan.error_at(
                                run_key,
                                "this run of `cut: auto` segments ends the plan, so it lasts until the audio ends, but the plan has no audio".into(),
                            ));
                        }
                    },
                };
                if run_end <= laid {
                    return Err(plan.error_at(
                        run_key,
                        format!(
                            "the run of `cut: auto` segments from here starts at {} and must end {until}, at {}: it gets no frame",
                            at(laid),
                            at(run_end)
                        ),
                    ));
                }
                let Some(cut) = plan.cut else {
                    return Err(plan.error_at(
                        run_key,
                        "`cut: auto` needs the plan-level `cut: {on: beats, every: N}`".into(),
                    ));
                };
                let every = cut.every.max(1) as usize;
                let mut bounds = vec![laid];
                bounds.extend(
                    beats
                        .frames_after(fps, laid)
                        .take_while(|&b| b < run_end)
                        .skip(every - 1)
                        .step_by(every),
                );
                bounds.push(run_end);
                let run = r - i;
                let mut parts = vec![0u32; run];
                for (c, w) in bounds.windows(2).enumerate() {
                    let j = c % run;
                    parts[j] += 1;
                    let seg = &segs[i + j];
                    let id = format!("{}-{}", seg.id, parts[j]);
                    if out.len() >= MAX_SEGMENTS {
                        return Err(plan.error_at(
                            run_key,
                            format!(
                                "cutting every {every} beats makes more than {MAX_SEGMENTS} clips; cut less often"
                            ),
                        ));
                    }
                    let n = w[1] - w[0];
                    if n > max_frames {
                        return Err(too_long(run_key, &format!("clip '{id}'"), n));
                    }
                    out.push(ClipRange {
                        id,
                        segment: i + j,
                        part: Some(parts[j]),
                        start_frame: w[0],
                        frames: n,
                        kind: RangeKind::Cut,
                    });
                }
                laid = run_end;
                i = r;
            }
        }
    }
    for (c, r) in out.iter().enumerate() {
        let s = &segs[r.segment];
        let Some(x) = s.scene.crossfade_in() else {
            continue;
        };
        let n = (x * f).round().max(0.0) as u64;
        if c > 0 && n > r.frames {
            return Err(plan.error_at(
                crossfade_key(s, true),
                format!(
                    "the crossfade lasts {n} frames at {fps} fps ({} s), longer than clip '{}' ({} frames, {} s); shorten it, or lengthen the segment",
                    secs(x),
                    r.id,
                    r.frames,
                    secs(r.frames as f64 / f)
                ),
            ));
        }
    }
    Ok(out)
}

/// The clips as a table for `farm check` and `farm run --dry-run`: where the beats come from
/// (when any clip is beat-cut), then one line per clip: id, start time, start frame, frames,
/// end time, `beat-cut` for the clips that beats placed, and `crossfade S s (N frames) from
/// 'a'` for a clip that starts with a crossfade from the clip before.
pub fn format_ranges(plan: &Plan, ranges: &[ClipRange], fps: u32, beats: &Beats) -> String {
    let f = fps.max(1) as f64;
    let mut s = String::new();
    if ranges.iter().any(ClipRange::is_beat_cut) {
        let _ = writeln!(s, "{}", beats.describe());
    }
    let w = ranges.iter().map(|r| r.id.len()).max().unwrap_or(2).max(2);
    let _ = writeln!(
        s,
        "  {:<w$}  {:<12}  {:>9}  {:>8}  {:>10}  {:>10}",
        "id", "scene", "start", "frame", "frames", "end"
    );
    for (c, r) in ranges.iter().enumerate() {
        let seg = plan.segments.get(r.segment);
        let scene = seg.map_or("", |g| g.scene_name.as_str());
        let xfade = match (seg.and_then(|g| g.scene.crossfade_in()), c.checked_sub(1)) {
            (Some(x), Some(b)) => format!(
                "  crossfade {} s ({} frames) from '{}'",
                secs(x),
                ((x * f).round() as u64).min(r.frames),
                ranges[b].id
            ),
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "  {:<w$}  {:<12}  {:>9}  {:>8}  {:>10}  {:>10}{}{xfade}",
            r.id,
            scene,
            format!("{:.3} s", r.start_frame as f64 / f),
            r.start_frame,
            r.frames,
            format!("{:.3} s", r.end_frame() as f64 / f),
            if r.is_beat_cut() { "  beat-cut" } else { "" }
        );
    }
    s
}

fn check_timing(
    cx: &Ctx,
    i: usize,
    duration: Option<f64>,
    start: Option<f64>,
    end: Option<f64>,
) -> Result<Timing, PlanError> {
    let key = |k: &str| format!("segments[{i}].{k}");
    let finite_nonneg = |k: &str, v: f64| -> Result<f64, PlanError> {
        if !v.is_finite() {
            return Err(cx.at_value(
                &key(k),
                format!("must be a finite number of seconds (got {v})"),
            ));
        }
        if v < 0.0 {
            return Err(cx.at_value(&key(k), format!("cannot be negative (got {v})")));
        }
        if v > MAX_SEGMENT_SECONDS * 1000.0 {
            return Err(cx.at_value(&key(k), format!("{v} s is absurdly large")));
        }
        Ok(v)
    };
    let timing = match (duration, start, end) {
        (Some(d), None, None) => {
            let d = finite_nonneg("duration", d)?;
            if d == 0.0 {
                return Err(cx.at_value(&key("duration"), "must be greater than 0"));
            }
            Timing::Duration(d)
        }
        (None, Some(s), Some(e)) => {
            let s = finite_nonneg("start", s)?;
            let e = finite_nonneg("end", e)?;
            if e <= s {
                let what = if e == s { "is empty" } else { "goes backwards" };
                return Err(cx.at_value(
                    &key("start"),
                    format!(
                        "the range {}-{} s {what}: end must be after start",
                        secs(s),
                        secs(e)
                    ),
                ));
            }
            Timing::Range { start: s, end: e }
        }
        (Some(_), _, _) => {
            return Err(cx.at_key(
                &key("duration"),
                "give either duration or start/end, not both",
            ));
        }
        (None, Some(_), None) => return Err(cx.at_key(&key("start"), "start needs an end")),
        (None, None, Some(_)) => return Err(cx.at_key(&key("end"), "end needs a start")),
        (None, None, None) => {
            return Err(cx.at_value(
                &format!("segments[{i}]"),
                "needs a duration (seconds), start and end, or until: beat with beats: N",
            ));
        }
    };
    if timing.seconds() > MAX_SEGMENT_SECONDS {
        let k = if duration.is_some() {
            "duration"
        } else {
            "end"
        };
        return Err(cx.at_value(
            &key(k),
            format!(
                "{} s is longer than the {MAX_SEGMENT_SECONDS} s a clip may last",
                timing.seconds()
            ),
        ));
    }
    Ok(timing)
}

/// How far a `start:` may be from the point where the segments before it end, in seconds:
/// 1 ms, less than half a frame at the highest frame rate (240 fps: 2.08 ms), so a plan that
/// passes is laid out the same way at every frame rate.
pub const TIMING_TOLERANCE: f64 = 0.001;

/// Seconds for messages: at most 3 decimals, at least one (`4.0`, `2.25`, `0.333`).
pub(super) fn secs(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0');
    if s.ends_with('.') {
        format!("{s}0")
    } else {
        s.to_string()
    }
}

/// Where each earlier segment plays, in seconds of the final video.
struct Placed {
    id: String,
    start: f64,
    end: f64,
}

/// Segments play one after another: a `duration` segment starts where the previous one ends;
/// a `start`/`end` range must start there too (within [`TIMING_TOLERANCE`]). An earlier start
/// overlaps a segment before it; a later one leaves a gap. Returns where this segment ends.
fn check_continuity(
    cx: &Ctx,
    i: usize,
    timing: Timing,
    placed: &[Placed],
) -> Result<f64, PlanError> {
    let cursor = placed.last().map_or(0.0, |p| p.end);
    let start = match timing {
        Timing::Duration(_) | Timing::Beats(_) | Timing::Cut => {
            return Ok(cursor + timing.seconds());
        }
        Timing::Range { start, end } if (start - cursor).abs() <= TIMING_TOLERANCE => {
            return Ok(end);
        }
        Timing::Range { start, .. } => start,
    };
    let key = format!("segments[{i}].start");
    let line_of = |j: usize| {
        cx.spans
            .value(&format!("segments[{j}].id"))
            .map_or(String::new(), |p| format!(", line {}", p.line))
    };
    if start < cursor {
        // The earlier segment that `start` falls in (they tile [0, cursor) without gaps).
        let j = placed
            .iter()
            .position(|p| p.end > start + TIMING_TOLERANCE)
            .unwrap_or(placed.len() - 1);
        let o = &placed[j];
        let last = &placed[placed.len() - 1];
        return Err(cx.at_value(
            &key,
            format!(
                "{} s overlaps segment '{}' ({}-{} s{}): segments play one after another, so this one starts at {} s, where '{}' ends",
                secs(start),
                o.id,
                secs(o.start),
                secs(o.end),
                line_of(j),
                secs(cursor),
                last.id
            ),
        ));
    }
    let after = match placed.last() {
        Some(p) => format!("after '{}', which ends at {} s", p.id, secs(cursor)),
        None => "at the start of the video".to_string(),
    };
    Err(cx.at_value(
        &key,
        format!(
            "leaves a gap of {} s {after}: add a segment for {}-{} s, or move start to {}",
            secs(start - cursor),
            secs(cursor),
            secs(start),
            secs(cursor)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Parse plan text in a fresh folder that also holds an (empty) `a.wav`, for plans with
    /// `audio: a.wav` (loading never decodes it).
    fn parse(src: &str) -> Result<Plan, PlanError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.wav"), b"").unwrap();
        Plan::parse(src, &dir.path().join("plan.yaml"))
    }

    fn plan(src: &str) -> Plan {
        parse(src).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The error, as `(line, column, key)`, and its message.
    fn refused(src: &str) -> ((usize, usize, String), String) {
        let e = parse(src).expect_err("the plan should be refused");
        let p = e.pos.unwrap_or_else(|| panic!("no position in {e}"));
        ((p.line, p.column, e.key.clone()), e.message)
    }

    fn loc(line: usize, column: usize, key: &str) -> (usize, usize, String) {
        (line, column, key.to_string())
    }

    /// `(id, start_frame, frames)` of every clip.
    fn table(p: &Plan, fps: u32, b: &Beats) -> Vec<(String, u64, u64)> {
        frame_ranges(p, fps, b)
            .unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .map(|r| (r.id, r.start_frame, r.frames))
            .collect()
    }

    fn rows(list: &[(&str, u64, u64)]) -> Vec<(String, u64, u64)> {
        list.iter()
            .map(|(i, s, n)| (i.to_string(), *s, *n))
            .collect()
    }

    const UNTIL: &str = "output: v.mp4\naudio: a.wav\nsegments:\n  - id: a\n    scene: plasma\n    duration: 0.5\n  - id: b\n    scene: plasma\n    until: beat\n    beats: 2\n  - id: c\n    scene: plasma\n    until: beat\n    beats: 1\n  - id: d\n    scene: plasma\n    duration: 1\n";

    /// Beats at 115.4 BPM: 0.52, 1.04, ... 3.12 s; the track lasts 4 s.
    fn track() -> Beats {
        Beats::track(&[0.52, 1.04, 1.56, 2.08, 2.6, 3.12], 4.0)
    }

    #[test]
    fn until_beat_ends_on_the_nth_beat_after_the_start_at_24_25_and_30_fps() {
        let p = plan(UNTIL);
        assert!(p.has_beat_cuts());
        assert_eq!(p.segments[1].timing, Timing::Beats(2));
        // 24 fps: beat frames 12, 25, 37, 50, 62, 75. `a` ends on frame 12, a beat: that beat
        // is on b's first frame and does not count, so b takes beats 25 and 37.
        assert_eq!(
            table(&p, 24, &track()),
            rows(&[("a", 0, 12), ("b", 12, 25), ("c", 37, 13), ("d", 50, 24)])
        );
        // 25 fps: beat frames 13, 26, 39, 52, 65, 78; 0.5 s rounds to 13 frames.
        assert_eq!(
            table(&p, 25, &track()),
            rows(&[("a", 0, 13), ("b", 13, 26), ("c", 39, 13), ("d", 52, 25)])
        );
        // 30 fps: beat frames 16, 31, 47, 62, 78, 94.
        assert_eq!(
            table(&p, 30, &track()),
            rows(&[("a", 0, 15), ("b", 15, 16), ("c", 31, 16), ("d", 47, 30)])
        );
        let r = frame_ranges(&p, 24, &track()).unwrap();
        let kinds: Vec<RangeKind> = r.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [
                RangeKind::Seconds,
                RangeKind::UntilBeat,
                RangeKind::UntilBeat,
                RangeKind::Seconds
            ]
        );
        // The clips tile the video.
        for w in r.windows(2) {
            assert_eq!(w[0].end_frame(), w[1].start_frame);
        }
    }

    const RUN: &str = "output: v.mp4\ncut: {on: beats, every: 2}\nsegments:\n  - id: a\n    scene: plasma\n    cut: auto\n  - id: b\n    scene: quote\n    text: hi\n    cut: auto\n  - id: c\n    scene: plasma\n    start: 5\n    end: 6\n";

    #[test]
    fn a_cut_run_is_cut_every_n_beats_cycling_through_its_segments() {
        let p = plan(RUN);
        assert_eq!(p.cut, Some(Cut { every: 2 }));
        // No audio: the synthetic beat, every 12 frames at 24 fps; the run lasts until c starts
        // (5 s = frame 120) and is cut on every second beat: 24, 48, 72, 96.
        let r = frame_ranges(&p, 24, &Beats::synthetic()).unwrap();
        assert_eq!(
            r.iter()
                .map(|r| (r.id.as_str(), r.start_frame, r.frames))
                .collect::<Vec<_>>(),
            [
                ("a-1", 0, 24),
                ("b-1", 24, 24),
                ("a-2", 48, 24),
                ("b-2", 72, 24),
                ("a-3", 96, 24),
                ("c", 120, 24)
            ]
        );
        assert_eq!(
            r.iter().map(|r| (r.segment, r.part)).collect::<Vec<_>>(),
            [
                (0, Some(1)),
                (1, Some(1)),
                (0, Some(2)),
                (1, Some(2)),
                (0, Some(3)),
                (2, None)
            ]
        );
        assert!(
            r[..5]
                .iter()
                .all(|r| r.kind == RangeKind::Cut && r.is_beat_cut())
        );
        assert!(!r[5].is_beat_cut());
    }

    #[test]
    fn every_four_beats_on_a_track_up_to_the_end_of_the_audio() {
        // The issue's example: after a 1 s intro, a run of three scenes cut every 4 beats until
        // the audio ends. Beats every 0.4 s (150 BPM) from 0.2 s; the track lasts 9.5 s.
        let p = plan(
            "output: v.mp4\naudio: a.wav\ncut: {on: beats, every: 4}\nsegments:\n  - {id: intro, scene: plasma, duration: 1}\n  - {id: x, scene: plasma, cut: auto}\n  - {id: y, scene: plasma, cut: auto}\n  - {id: z, scene: plasma, cut: auto}\n",
        );
        let times: Vec<f64> = (0..24).map(|k| 0.2 + 0.4 * k as f64).collect();
        let b = Beats::track(&times, 9.5);
        // 25 fps: beats on frames 5, 15, 25, 35, ..., 235. After frame 25 (the intro's end,
        // itself a beat), every 4th beat: 65, 105, 145, 185, 225; the audio ends on frame
        // round(237.5) = 238, and the last clip ends there.
        assert_eq!(
            table(&p, 25, &b),
            rows(&[
                ("intro", 0, 25),
                ("x-1", 25, 40),
                ("y-1", 65, 40),
                ("z-1", 105, 40),
                ("x-2", 145, 40),
                ("y-2", 185, 40),
                ("z-2", 225, 13)
            ])
        );
    }

    #[test]
    fn bad_beat_timings_are_refused_at_load_with_line_and_column() {
        let cases: &[(&str, (usize, usize, &str), &str)] = &[
            (
                "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    until: beat\n    beats: 0\n",
                (6, 12, "segments[0].beats"),
                "at least 1",
            ),
            (
                "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    until: beat\n    beats: 100001\n",
                (6, 12, "segments[0].beats"),
                "at most 100000",
            ),
            (
                "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    until: bar\n    beats: 4\n",
                (5, 12, "segments[0].until"),
                "'bar': the only value is `beat`",
            ),
            (
                "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    until: beat\n",
                (5, 5, "segments[0].until"),
                "needs `beats: N`",
            ),
            (
                "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    beats: 4\n",
                (5, 5, "segments[0].beats"),
                "goes with `until: beat`",
            ),
            (
                "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    duration: 2\n    until: beat\n    beats: 4\n",
                (6, 5, "segments[0].until"),
                "not both (this segment also has `duration`)",
            ),
            (
                "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    start: 0\n    end: 2\n    beats: 4\n",
                (7, 5, "segments[0].beats"),
                "also has `start`",
            ),
            (
                "output: v.mp4\nsegments:\n  - {id: a, scene: plasma, cut: auto}\n",
                (3, 33, "segments[0].cut"),
                "needs the plan-level `cut: {on: beats, every: N}`",
            ),
            (
                "output: v.mp4\ncut: {every: 2}\nsegments:\n  - {id: a, scene: plasma, cut: sometimes}\n  - {id: b, scene: plasma, start: 0, end: 2}\n",
                (4, 33, "segments[0].cut"),
                "the only value is `auto`",
            ),
            (
                "output: v.mp4\ncut: {every: 2}\nsegments:\n  - {id: a, scene: plasma, cut: auto, duration: 2}\n",
                (4, 39, "segments[0].duration"),
                "remove `duration`",
            ),
            (
                "output: v.mp4\ncut: {on: beats, every: 0}\nsegments:\n  - {id: a, scene: plasma, cut: auto}\n",
                (2, 25, "cut.every"),
                "at least 1 beat",
            ),
            (
                "output: v.mp4\ncut: {on: bars, every: 4}\nsegments:\n  - {id: a, scene: plasma, cut: auto}\n",
                (2, 11, "cut.on"),
                "the only choice is `on: beats`",
            ),
            (
                "output: v.mp4\ncut: {every: 4}\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n",
                (2, 1, "cut"),
                "no segment has `cut: auto`",
            ),
            (
                "output: v.mp4\ncut: {every: 4}\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n  - {id: b, scene: plasma, cut: auto}\n",
                (5, 33, "segments[1].cut"),
                "lasts until the audio ends, but the plan has no audio",
            ),
            (
                "output: v.mp4\ncut: {every: 4}\nsegments:\n  - {id: a, scene: plasma, cut: auto}\n  - {id: b, scene: plasma, duration: 1}\n",
                (5, 28, "segments[1].duration"),
                "begins at 'a', line 4: a run lasts until the next segment starts, so this segment needs start: and end:",
            ),
            (
                "output: v.mp4\ncut: {every: 4}\nsegments:\n  - {id: a, scene: plasma, cut: auto}\n  - {id: b, scene: plasma, until: beat, beats: 2}\n",
                (5, 28, "segments[1].until"),
                "needs start: and end:",
            ),
            (
                "output: v.mp4\nsegments:\n  - {id: a, scene: plasma, until: beat, beats: 4}\n  - {id: b, scene: plasma, duration: 1}\n  - {id: c, scene: plasma, start: 2, end: 3}\n",
                (5, 35, "segments[2].start"),
                "depends on the beats: it follows 'a', line 3",
            ),
            (
                "output: v.mp4\ncut: {every: 2}\nsegments:\n  - {id: a, scene: plasma, duration: 2}\n  - {id: b, scene: plasma, cut: auto}\n  - {id: c, scene: plasma, start: 1, end: 4}\n",
                (6, 35, "segments[2].start"),
                "1.0 s leaves no time for the run of `cut: auto` segments before it, which begins at 2.0 s ('b', line 5)",
            ),
            (
                "output: v.mp4\ncut: {every: 2}\nsegments:\n  - {id: a, scene: plasma, cut: auto}\n  - {id: a-1, scene: plasma, start: 3, end: 4}\n",
                (5, 10, "segments[1].id"),
                "'a-1' is also the name of a clip of the `cut: auto` segment 'a' (line 4)",
            ),
        ];
        for (src, (line, col, key), says) in cases {
            let (got, message) = refused(src);
            assert_eq!(got, loc(*line, *col, key), "{message}\n{src}");
            assert!(message.contains(says), "{message:?} should say {says:?}");
        }
        // Serde's own errors keep their position.
        let (got, message) = refused(
            "output: v.mp4\ncut: {every: 2, often: 3}\nsegments:\n  - {id: a, scene: plasma, cut: auto}\n",
        );
        assert_eq!(got.0, 2, "{message}");
        let (got, message) =
            refused("output: v.mp4\ncut: 4\nsegments:\n  - {id: a, scene: plasma, cut: auto}\n");
        assert_eq!(got.0, 2, "{message}");
        assert!(
            message.contains("a mapping such as {on: beats, every: 4}"),
            "{message}"
        );
        let (got, _) = refused(
            "output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    until: beat\n    beats: -1\n",
        );
        assert_eq!(got.0, 6);
        // A cut segment's clips are named <id>-<n>, which must stay a valid id.
        let long = "x".repeat(MAX_ID_LEN - PART_SUFFIX_MAX + 1);
        let (got, message) = refused(&format!(
            "output: v.mp4\ncut: {{every: 2}}\nsegments:\n  - id: {long}\n    scene: plasma\n    cut: auto\n  - {{id: b, scene: plasma, start: 0, end: 1}}\n"
        ));
        assert_eq!(got, loc(4, 9, "segments[0].id"), "{message}");
        // And the error prints as file:line:column: key: message.
        let e = parse("output: v.mp4\nsegments:\n  - id: a\n    scene: plasma\n    until: beat\n    beats: 0\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("plan.yaml:6:12: segments[0].beats: must be at least 1"),
            "{e}"
        );
    }

    #[test]
    fn a_track_with_too_few_beats_is_an_error_naming_the_segment_and_the_beats_it_has() {
        let p = plan(UNTIL);
        let short = Beats::track(&[0.52, 1.04], 1.5);
        // At 24 fps, a ends on frame 12; b needs 2 beats after that and the track has 1.
        let e = frame_ranges(&p, 24, &short).unwrap_err();
        assert_eq!(e.key, "segments[1].beats", "{e}");
        assert_eq!(e.pos.map(|p| (p.line, p.column)), Some((10, 12)), "{e}");
        assert!(
            e.message.contains(
                "'b' needs 2 beats after it starts at 0.5 s (frame 12), but the audio has only 1 beat after that (2 beats in all, the last at 1.04 s)"
            ),
            "{e}"
        );
        // A track where no pulse was found has no beats at all.
        let e = frame_ranges(&p, 24, &Beats::track(&[], 3.0)).unwrap_err();
        assert!(e.message.contains("only 0 beats"), "{e}");
    }

    #[test]
    fn two_beats_in_one_frame_count_as_one_and_no_clip_is_empty() {
        // 0.50 and 0.51 s are both frame 12 at 24 fps; 1.0 and 1.01 both frame 24.
        let b = Beats::track(&[0.5, 0.51, 1.0, 1.01, 1.5], 2.0);
        let p = plan(
            "output: v.mp4\naudio: a.wav\nsegments:\n  - {id: a, scene: plasma, until: beat, beats: 2}\n  - {id: b, scene: plasma, until: beat, beats: 1}\n",
        );
        assert_eq!(table(&p, 24, &b), rows(&[("a", 0, 24), ("b", 24, 12)]));
        // Cut on every beat: one clip per distinct beat frame, none empty.
        let p = plan(
            "output: v.mp4\naudio: a.wav\ncut: {every: 1}\nsegments:\n  - {id: a, scene: plasma, cut: auto}\n",
        );
        assert_eq!(
            table(&p, 24, &b),
            rows(&[
                ("a-1", 0, 12),
                ("a-2", 12, 12),
                ("a-3", 24, 12),
                ("a-4", 36, 12)
            ])
        );
        // At 1 fps two synthetic beats (0.5 s apart) share every frame: 8 beats are 8 frames.
        let p =
            plan("output: v.mp4\nsegments:\n  - {id: a, scene: plasma, until: beat, beats: 8}\n");
        assert_eq!(table(&p, 1, &Beats::synthetic()), rows(&[("a", 0, 8)]));
        for fps in [1, 2, 7, 24, 240] {
            let r = frame_ranges(&p, fps, &Beats::synthetic()).unwrap();
            assert!(r.iter().all(|r| r.frames > 0), "{fps} fps: {r:?}");
        }
    }

    #[test]
    fn a_plan_without_audio_cuts_on_the_synthetic_120_bpm_beat() {
        let p = plan(
            "output: v.mp4\nsegments:\n  - {id: a, scene: plasma, until: beat, beats: 8}\n  - {id: b, scene: plasma, duration: 0.3}\n  - {id: c, scene: plasma, until: beat, beats: 1}\n",
        );
        let syn = Beats::synthetic();
        assert_eq!(syn.source(), BeatSource::Synthetic);
        // 8 beats at 120 BPM: 4 s. Then 0.3 s; c ends on the next beat, at 4.5 s.
        assert_eq!(
            table(&p, 24, &syn),
            rows(&[("a", 0, 96), ("b", 96, 7), ("c", 103, 5)])
        );
        assert_eq!(
            table(&p, 25, &syn),
            rows(&[("a", 0, 100), ("b", 100, 8), ("c", 108, 5)])
        );
        assert_eq!(
            table(&p, 30, &syn),
            rows(&[("a", 0, 120), ("b", 120, 9), ("c", 129, 6)])
        );
        let text = format_ranges(&p, &frame_ranges(&p, 24, &syn).unwrap(), 24, &syn);
        assert!(
            text.starts_with("beats: synthetic, 120 BPM (the plan has no audio)"),
            "{text}"
        );
        // Beats::of without features is the synthetic beat.
        assert_eq!(Beats::of(None), syn);
    }

    #[test]
    fn ranges_are_a_pure_function_of_plan_fps_and_beats() {
        let p = plan(RUN);
        let a = frame_ranges(&p, 24, &Beats::synthetic()).unwrap();
        let b = frame_ranges(&plan(RUN), 24, &Beats::synthetic()).unwrap();
        assert_eq!(a, b);
        // Beats given in any order, or with junk, are the same beats.
        let p = plan(UNTIL);
        let messy = Beats::track(
            &[
                3.12,
                f64::NAN,
                1.04,
                0.52,
                -1.0,
                2.6,
                1.56,
                f64::INFINITY,
                2.08,
            ],
            4.0,
        );
        assert_eq!(messy, track());
        assert_eq!(
            frame_ranges(&p, 30, &messy).unwrap(),
            frame_ranges(&p, 30, &track()).unwrap()
        );
    }

    #[test]
    fn frame_counts_refuse_beat_cuts_and_agree_with_frame_ranges_without_them() {
        let e = plan(UNTIL).frame_counts(24).unwrap_err();
        assert_eq!(e.key, "segments[1].until", "{e}");
        assert_eq!(e.pos.map(|p| (p.line, p.column)), Some((9, 12)), "{e}");
        assert!(e.message.contains("need the beats of the audio"), "{e}");
        let e = plan(RUN).frame_counts(24).unwrap_err();
        assert_eq!(e.key, "segments[0].cut", "{e}");
        let plain = [
            "output: v.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 2}\n  - {id: b, scene: plasma, start: 2, end: 3.5}\n",
            "output: v.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 0.1}\n  - {id: b, scene: plasma, duration: 0.1}\n  - {id: c, scene: plasma, duration: 0.1}\n  - {id: d, scene: plasma, start: 0.3, end: 1}\n",
            "output: v.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 0.01}\n",
            "output: v.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 0.06}\n  - {id: b, scene: plasma, start: 0.06, end: 0.07}\n",
        ];
        for src in plain {
            let p = plan(src);
            assert!(!p.has_beat_cuts());
            for fps in [1, 12, 24, 25, 30, 240] {
                let counts = p.frame_counts(fps);
                let ranges = frame_ranges(&p, fps, &Beats::synthetic());
                match (counts, ranges) {
                    (Ok(c), Ok(r)) => {
                        assert_eq!(c, r.iter().map(|r| r.frames).collect::<Vec<_>>());
                        let ids: Vec<&str> = r.iter().map(|r| r.id.as_str()).collect();
                        let seg: Vec<&str> = p.segments.iter().map(|s| s.id.as_str()).collect();
                        assert_eq!(ids, seg);
                        assert!(r.iter().all(|r| !r.is_beat_cut()));
                    }
                    (Err(a), Err(b)) => assert_eq!(a, b, "{fps} fps"),
                    (c, r) => panic!("{fps} fps: {c:?} vs {r:?}"),
                }
            }
        }
    }

    #[test]
    fn runs_that_get_no_frame_or_too_many_clips_are_errors() {
        // The run between 1.0 and 1.01 s exists in seconds but rounds to no frame at 24 fps.
        let p = plan(
            "output: v.mp4\ncut: {every: 1}\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n  - {id: b, scene: plasma, cut: auto}\n  - {id: c, scene: plasma, start: 1.01, end: 2}\n",
        );
        let e = frame_ranges(&p, 24, &Beats::synthetic()).unwrap_err();
        assert_eq!(e.key, "segments[1].cut", "{e}");
        assert!(
            e.message
                .contains("starts at 1.0 s (frame 24) and must end where 'c' starts, at 1.0 s (frame 24): it gets no frame"),
            "{e}"
        );
        assert!(frame_ranges(&p, 240, &Beats::synthetic()).is_ok());
        // The audio ends before the run starts.
        let p = plan(
            "output: v.mp4\naudio: a.wav\ncut: {every: 1}\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n  - {id: b, scene: plasma, cut: auto}\n",
        );
        let e = frame_ranges(&p, 24, &Beats::track(&[0.25], 0.5)).unwrap_err();
        assert!(e.message.contains("where the audio ends"), "{e}");
        // Every beat for 6000 s: 12,000 clips, more than a plan may have.
        let p = plan(
            "output: v.mp4\ncut: {every: 1}\nsegments:\n  - {id: a, scene: plasma, cut: auto}\n  - {id: b, scene: plasma, start: 6000, end: 6001}\n",
        );
        match frame_ranges(&p, 24, &Beats::synthetic()) {
            Err(e) => assert!(e.message.contains("more than 10000 clips"), "{e}"),
            Ok(r) => panic!("{} clips accepted", r.len()),
        }
        // A plan with audio is never cut on the synthetic beat.
        let e = frame_ranges(&plan(UNTIL), 24, &Beats::synthetic()).unwrap_err();
        assert_eq!(e.key, "audio", "{e}");
    }

    #[test]
    fn the_table_marks_beat_cuts_and_says_where_the_beats_come_from() {
        let p = plan(UNTIL);
        let b = Beats {
            tempo: Some(115.4),
            ..track()
        };
        let r = frame_ranges(&p, 24, &b).unwrap();
        let text = format_ranges(&p, &r, 24, &b);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "beats: 6 from the audio, 115.4 BPM, the last at 3.12 s; the audio lasts 4.0 s"
        );
        assert!(
            lines[1].contains("id") && lines[1].contains("frames"),
            "{text}"
        );
        assert_eq!(lines.len(), 6, "{text}");
        let b_line = lines[3];
        assert!(
            b_line.starts_with("  b ") && b_line.contains("0.500 s") && b_line.contains("1.542 s"),
            "{b_line}"
        );
        assert!(
            b_line.contains(" 12 ") && b_line.contains(" 25 "),
            "{b_line}"
        );
        assert!(b_line.ends_with("beat-cut"), "{b_line}");
        assert!(!lines[2].ends_with("beat-cut") && !lines[5].ends_with("beat-cut"));
        // Without beat cuts there is no beats line.
        let p = plan("output: v.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n");
        let r = frame_ranges(&p, 24, &Beats::synthetic()).unwrap();
        let text = format_ranges(&p, &r, 24, &Beats::synthetic());
        assert!(text.starts_with("  id"), "{text}");
        let _ = Path::new("");
    }

    #[test]
    fn the_readme_example_parses_and_cuts_as_it_says() {
        let readme = include_str!("../../README.md");
        let from = readme
            .find("- **Beat-synced cuts.**")
            .expect("the README section");
        let block = &readme[from..];
        let start = block.find("```yaml\n").unwrap() + "```yaml\n".len();
        let end = block[start..].find("```").unwrap() + start;
        let yaml: String = block[start..end]
            .lines()
            .map(|l| l.strip_prefix("  ").unwrap_or(l))
            .map(|l| l.replace("assets/track.wav", "a.wav"))
            .collect::<Vec<_>>()
            .join("\n");
        let p = plan(&format!("output: v.mp4\n{yaml}\n"));
        // Beats every 0.5 s from 0.25 s, a 40 s track, 24 fps: intro 48 frames; drop ends on
        // the 8th beat after frame 48 (beats on frames 54, 66, ...): frame 138 (5.75 s); the
        // run is cut every 4 beats (frames 186, 234, ...) until outro starts at frame 720.
        let times: Vec<f64> = (0..80).map(|k| 0.25 + 0.5 * k as f64).collect();
        let r = frame_ranges(&p, 24, &Beats::track(&times, 40.0)).unwrap();
        let ids: Vec<&str> = r.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(&ids[..5], ["intro", "drop", "a-1", "b-1", "a-2"]);
        assert_eq!((r[1].start_frame, r[1].frames), (48, 90));
        assert_eq!((r[2].start_frame, r[2].frames), (138, 48));
        let last_cut = &r[r.len() - 2];
        assert_eq!(last_cut.end_frame(), 720);
        assert_eq!(r[r.len() - 1].id, "outro");
    }
}
