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

use super::{
    Ctx, MAX_ID_LEN, MAX_SEGMENT_SECONDS, MAX_SEGMENTS, Placed, Plan, PlanError, RawSegment,
    Segment, TIMING_TOLERANCE, Timing, check_continuity, check_timing, secs,
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

/// The plan-level `cut: {on: beats, every: N}`: each run of `cut: auto` segments is cut every
/// `every` beats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    /// Beats per clip (at least 1).
    pub every: u32,
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
            BeatSource::Track => self
                .times
                .partition_point(|t| beat_frame(*t, f) <= after),
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

    fn error_at(&self, key: String, message: String) -> PlanError {
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
                let Some(end) = beats.frames_after(fps, laid).nth(k as usize - 1) else {
                    let have = beats.count_after(fps, laid);
                    let last = beats
                        .times
                        .last()
                        .map_or(String::new(), |t| format!(", the last at {} s", secs(*t)));
                    return Err(plan.error_at(
                        seg_key("beats"),
                        format!(
                            "'{}' needs {k} beats after it starts at {}, but the audio has only {have} beats after that ({} beats in all{last}); lower beats, or give the segment a duration",
                            s.id,
                            at(laid),
                            beats.times.len()
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
    Ok(out)
}

/// The clips as a table for `farm check` and `farm run --dry-run`: where the beats come from
/// (when any clip is beat-cut), then one line per clip: id, start time, start frame, frames,
/// end time, and `beat-cut` for the clips that beats placed.
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
    for r in ranges {
        let scene = plan
            .segments
            .get(r.segment)
            .map_or("", |g| g.scene_name.as_str());
        let _ = writeln!(
            s,
            "  {:<w$}  {:<12}  {:>9}  {:>8}  {:>10}  {:>10}{}",
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
