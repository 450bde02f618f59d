//! What `farm audio` prints: a short text summary, or one JSON object.

use super::{Feature, Features};
use serde::Serialize;
use serde::ser::SerializeMap;
use std::path::Path;

/// Marks of a sparkline, lowest to highest.
const MARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Width of the sparklines in the summary.
pub const SPARK_WIDTH: usize = 48;

/// The JSON form: `{tempo, confidence, beats, fps, frames, duration, from, version,
/// features: {rms: [...], ...}}`, columns in [`Feature::all`] order.
#[derive(Serialize)]
struct Json<'a> {
    tempo: f64,
    confidence: f64,
    beats: &'a [f64],
    fps: u32,
    frames: usize,
    duration: f64,
    from: f64,
    version: u32,
    features: Columns<'a>,
}

/// The columns as a JSON object of arrays, in column order.
struct Columns<'a>(&'a Features);

impl Serialize for Columns<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(Feature::COUNT))?;
        for c in Feature::all() {
            m.serialize_entry(c.name(), &self.0.column(c))?;
        }
        m.end()
    }
}

/// The features as one JSON object (one line).
pub fn json(f: &Features) -> String {
    serde_json::to_string(&Json {
        tempo: f.tempo,
        confidence: f.confidence,
        beats: &f.beats,
        fps: f.fps,
        frames: f.frames,
        duration: f.duration,
        from: f.from,
        version: f.version,
        features: Columns(f),
    })
    .expect("features are finite numbers")
}

/// A sparkline of `values` in `width` marks: each mark is the mean (or, with `peak`, the
/// maximum) of its share of the values, on the [0, 1] scale.
pub fn sparkline(values: &[f32], width: usize, peak: bool) -> String {
    if values.is_empty() || width == 0 {
        return String::new();
    }
    let width = width.min(values.len());
    (0..width)
        .map(|i| {
            let a = i * values.len() / width;
            let b = ((i + 1) * values.len() / width).max(a + 1);
            let part = &values[a..b];
            let v = if peak {
                part.iter().copied().fold(0.0, f32::max)
            } else {
                part.iter().sum::<f32>() / part.len() as f32
            };
            MARKS[((v.clamp(0.0, 1.0) * (MARKS.len() - 1) as f32).round()) as usize]
        })
        .collect()
}

/// The human summary: length, tempo, confidence, beats, then per feature min / mean / max and
/// a sparkline over time.
pub fn summary(f: &Features, audio: &Path) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "{}: {:.2} s of audio from {:.2} s on; {} frames at {} fps ({:.2} s of video)\n",
        audio.display(),
        f.duration,
        f.from,
        f.frames,
        f.fps,
        f.frames as f64 / f.fps.max(1) as f64
    ));
    let beats = match (f.beats.first(), f.beats.last()) {
        (Some(a), Some(b)) => format!(
            "{} beats, first at {a:.2} s, last at {b:.2} s",
            f.beats.len()
        ),
        _ => "no beats".to_string(),
    };
    if f.tempo > 0.0 {
        s.push_str(&format!(
            "tempo: {:.1} BPM, confidence {:.2}; {beats}\n",
            f.tempo, f.confidence
        ));
    } else {
        s.push_str(&format!(
            "tempo: no steady pulse (confidence {:.2}); {beats}\n",
            f.confidence
        ));
    }
    let secs = f.frames as f64 / f.fps.max(1) as f64 / SPARK_WIDTH.min(f.frames.max(1)) as f64;
    s.push_str(&format!(
        "{:<8} {:>5} {:>5} {:>5}  over time (one mark = {secs:.2} s)\n",
        "feature", "min", "mean", "max"
    ));
    for c in Feature::all() {
        let v = f.column(c);
        let (lo, hi) = v
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        let mean = if v.is_empty() {
            0.0
        } else {
            v.iter().sum::<f32>() / v.len() as f32
        };
        let (lo, hi) = if v.is_empty() { (0.0, 0.0) } else { (lo, hi) };
        let peak = matches!(c, Feature::Beat);
        s.push_str(&format!(
            "{:<8} {lo:>5.2} {mean:>5.2} {hi:>5.2}  {}\n",
            c.name(),
            sparkline(&v, SPARK_WIDTH, peak)
        ));
    }
    s
}
