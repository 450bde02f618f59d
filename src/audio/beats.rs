//! Onsets, tempo and beats.
//!
//! 1. **Onset strength**: a centred STFT (Hann, [`ONSET_WINDOW_S`] long, a quarter of that per
//!    hop: 1024 / 256 samples at 22050 Hz, 86 frames a second) -> power -> [`MEL_BANDS`]
//!    triangular mel bands -> dB, floored [`TOP_DB`] below the track's peak (log compression)
//!    -> the mean over bands of the positive change since the previous frame (spectral flux).
//! 2. **Tempo**: every candidate from [`MIN_BPM`] to [`MAX_BPM`] (0.05 BPM apart) is scored by
//!    the onset envelope's normalised autocorrelation at 1..4 beat periods (which alone
//!    cannot tell a tempo from its half) times its Fourier magnitude at 1..4 times the beat
//!    frequency (which alone cannot tell a tempo from its double), times a log-normal tempo
//!    prior around [`PRIOR_BPM`] (one octave wide, as librosa's). The confidence is the mean
//!    autocorrelation at the winning period: how strongly the onsets repeat at that period;
//!    under [`MIN_CONFIDENCE`] there is no pulse (tempo 0, no beats).
//! 3. **Beats**: dynamic programming (Ellis 2007, "Beat tracking by dynamic programming"; the
//!    algorithm of librosa's `beat_track`): each frame's score is its onset strength (smoothed
//!    by a narrow Gaussian) plus the best score of a previous beat half to two periods back,
//!    less `TIGHTNESS * ln(gap / period)^2`; the best chain is read back from the best score in
//!    the final two periods. Weak beats at either end (silence, fades) are trimmed, each beat is refined to a
//!    fraction of a frame, and the reported tempo is the least-squares fit of the beat times.

use super::spectral::above;
use crate::features::Feature;

/// Onset analysis window in seconds (1024 samples at 22050 Hz).
pub const ONSET_WINDOW_S: f64 = 0.0464;
/// Mel bands of the onset spectrum.
pub const MEL_BANDS: usize = 64;
/// Dynamic range of the log-compressed spectrum, in dB below the track's loudest bin.
pub const TOP_DB: f64 = 80.0;
/// Slowest tempo considered.
pub const MIN_BPM: f64 = 30.0;
/// Fastest tempo considered.
pub const MAX_BPM: f64 = 300.0;
/// Centre of the tempo prior.
pub const PRIOR_BPM: f64 = 120.0;
/// Width of the tempo prior, in octaves (one standard deviation).
pub const PRIOR_OCTAVES: f64 = 1.0;
/// Below this confidence there is no pulse: no tempo and no beats (white or pink noise scores
/// about 0.05, a held tone 0, the real recordings of the benchmark 0.33 to 0.58).
pub const MIN_CONFIDENCE: f64 = 0.15;
/// How strongly the tracker holds to the tempo (librosa's default).
pub const TIGHTNESS: f64 = 100.0;

/// A track's onset strength envelope.
#[derive(Debug, Clone)]
pub struct Onsets {
    /// One value per onset frame (>= 0); frame `j` is centred at `j / rate` seconds.
    pub env: Vec<f64>,
    /// Onset frames per second.
    pub rate: f64,
}

/// Tempo and beats of a track.
#[derive(Debug, Clone, PartialEq)]
pub struct Tempo {
    /// Beats per minute (0 without a pulse).
    pub bpm: f64,
    /// In [0, 1]: how strongly the onsets repeat at the beat period.
    pub confidence: f64,
    /// Beat times in seconds from the start of the samples, ascending.
    pub beats: Vec<f64>,
}

/// Onsets, tempo and beats of mono PCM at `rate` Hz.
pub fn track(pcm: &[f32], rate: u32) -> Tempo {
    let on = onset_strength(pcm, rate);
    let (bpm, confidence) = estimate_tempo(&on);
    if bpm <= 0.0 || confidence < MIN_CONFIDENCE {
        // Noise, a held tone, silence: no pulse, so no beats (rather than random ones).
        return Tempo {
            bpm: 0.0,
            confidence,
            beats: Vec::new(),
        };
    }
    let beats = track_beats(&on, bpm);
    let bpm = fitted_tempo(&beats, bpm).unwrap_or(bpm);
    Tempo {
        bpm,
        confidence,
        beats,
    }
}

/// The onset strength envelope of mono PCM at `rate` Hz.
pub fn onset_strength(pcm: &[f32], rate: u32) -> Onsets {
    let rate_f = rate.max(1) as f64;
    let win = ((rate_f * ONSET_WINDOW_S).round() as usize)
        .max(16)
        .next_power_of_two();
    let hop = win / 4;
    let n = pcm.len().div_ceil(hop) + 1;
    let mut planner = realfft::RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(win);
    let mut input = fft.make_input_vec();
    let mut spec = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    let hann: Vec<f32> = (0..win)
        .map(|i| {
            let s = (std::f64::consts::PI * i as f64 / win as f64).sin();
            (s * s) as f32
        })
        .collect();
    let mel = MelBank::new(rate_f, win, MEL_BANDS);
    let mut db = vec![0f32; n * MEL_BANDS];
    let mut power = vec![0f32; spec.len()];
    let half = (win / 2) as i64;
    for j in 0..n {
        let start = (j * hop) as i64 - half;
        if start >= 0 && start as usize + win <= pcm.len() {
            let src = &pcm[start as usize..start as usize + win];
            for ((slot, &x), &w) in input.iter_mut().zip(src).zip(&hann) {
                *slot = x * w;
            }
        } else {
            for (i, slot) in input.iter_mut().enumerate() {
                let at = start + i as i64;
                *slot = if at >= 0 && (at as usize) < pcm.len() {
                    pcm[at as usize] * hann[i]
                } else {
                    0.0
                };
            }
        }
        fft.process_with_scratch(&mut input, &mut spec, &mut scratch)
            .expect("buffer sizes come from the plan");
        for (p, c) in power.iter_mut().zip(&spec) {
            *p = c.norm_sqr();
        }
        let row = &mut db[j * MEL_BANDS..(j + 1) * MEL_BANDS];
        mel.apply(&power, row);
        for v in row.iter_mut() {
            *v = 10.0 * v.max(1e-10).log10();
        }
    }
    let peak = db.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let floor = peak - TOP_DB as f32;
    for v in db.iter_mut() {
        *v = v.max(floor);
    }
    let mut env = vec![0f64; n];
    for j in 1..n {
        let (prev, cur) = db[(j - 1) * MEL_BANDS..(j + 1) * MEL_BANDS].split_at(MEL_BANDS);
        let rise: f32 = cur.iter().zip(prev).map(|(c, p)| (c - p).max(0.0)).sum();
        env[j] = rise as f64 / MEL_BANDS as f64;
    }
    Onsets {
        env,
        rate: rate_f / hop as f64,
    }
}

/// Triangular mel filters (HTK mel scale) over an FFT's power bins.
struct MelBank {
    /// Per band: the first bin and the weights from there on.
    bands: Vec<(usize, Vec<f32>)>,
}

impl MelBank {
    fn new(rate: f64, win: usize, count: usize) -> MelBank {
        let mel = |f: f64| 2595.0 * (1.0 + f / 700.0).log10();
        let hz = |m: f64| 700.0 * (10f64.powf(m / 2595.0) - 1.0);
        let bins = win / 2 + 1;
        let bin_hz = rate / win as f64;
        let (lo, hi) = (mel(30.0), mel((rate / 2.0).min(11025.0)));
        let edges: Vec<f64> = (0..count + 2)
            .map(|i| hz(lo + (hi - lo) * i as f64 / (count + 1) as f64))
            .collect();
        let bands = (0..count)
            .map(|b| {
                let (l, c, r) = (edges[b], edges[b + 1], edges[b + 2]);
                let first = ((l / bin_hz).floor() as usize).min(bins - 1);
                let last = ((r / bin_hz).ceil() as usize).min(bins - 1);
                let mut w: Vec<f32> = (first..=last)
                    .map(|k| {
                        let f = k as f64 * bin_hz;
                        let v = if f <= c {
                            (f - l) / (c - l)
                        } else {
                            (r - f) / (r - c)
                        };
                        v.max(0.0) as f32
                    })
                    .collect();
                if w.iter().all(|&v| v == 0.0) {
                    // A band narrower than a bin: its nearest bin.
                    let k = ((c / bin_hz).round() as usize).clamp(first, last);
                    w[k - first] = 1.0;
                }
                (first, w)
            })
            .collect();
        MelBank { bands }
    }

    fn apply(&self, power: &[f32], out: &mut [f32]) {
        for (o, (first, w)) in out.iter_mut().zip(&self.bands) {
            *o = power[*first..*first + w.len()]
                .iter()
                .zip(w)
                .map(|(p, w)| p * w)
                .sum();
        }
    }
}

/// Smooth with the binomial kernel [1 4 6 4 1] / 16 (edges repeat).
fn smooth5(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let at = |i: i64| x[i.clamp(0, n as i64 - 1) as usize];
    (0..n as i64)
        .map(|i| (at(i - 2) + 4.0 * at(i - 1) + 6.0 * at(i) + 4.0 * at(i + 1) + at(i + 2)) / 16.0)
        .collect()
}

/// Linear interpolation of `v` at fractional index `x` (0 outside).
fn lerp_at(v: &[f64], x: f64) -> f64 {
    if x.is_nan() || x < 0.0 || x > (v.len() - 1) as f64 {
        return 0.0;
    }
    let i = x.floor() as usize;
    let t = x - i as f64;
    if i + 1 < v.len() {
        v[i] * (1.0 - t) + v[i + 1] * t
    } else {
        v[i]
    }
}

/// The tempo (BPM) and its confidence; (0, 0) when the envelope has no pulse.
pub fn estimate_tempo(on: &Onsets) -> (f64, f64) {
    let n = on.env.len();
    if n < 8 {
        return (0.0, 0.0);
    }
    let s = smooth5(&on.env);
    let mean = s.iter().sum::<f64>() / n as f64;
    let x: Vec<f64> = s.iter().map(|v| v - mean).collect();
    let energy: f64 = x.iter().map(|v| v * v).sum();
    if !above(energy, 1e-12 * n as f64) {
        return (0.0, 0.0);
    }
    // One zero-padded FFT gives both the spectrum (fine frequency steps) and the
    // autocorrelation (inverse FFT of the power spectrum; the padding stops wrap-around).
    let m = (4 * n).next_power_of_two().max(1 << 16);
    let mut planner = realfft::RealFftPlanner::<f64>::new();
    let fwd = planner.plan_fft_forward(m);
    let inv = planner.plan_fft_inverse(m);
    let mut buf = fwd.make_input_vec();
    buf[..n].copy_from_slice(&x);
    let mut spec = fwd.make_output_vec();
    fwd.process(&mut buf, &mut spec)
        .expect("sizes from the plan");
    let mag: Vec<f64> = spec.iter().map(|c| c.norm()).collect();
    let mut pow: Vec<realfft::num_complex::Complex<f64>> = spec
        .iter()
        .map(|c| realfft::num_complex::Complex::new(c.norm_sqr(), 0.0))
        .collect();
    let mut acf = inv.make_output_vec();
    inv.process(&mut pow, &mut acf)
        .expect("sizes from the plan");
    // Unbiased (divide by the overlap), normalised to 1 at lag 0; lags up to half the track.
    let max_lag = n / 2;
    let r0 = acf[0] / n as f64;
    let r: Vec<f64> = (0..=max_lag)
        .map(|l| acf[l] / (n - l) as f64 / r0)
        .collect();
    let hz_per_bin = on.rate / m as f64;
    let band_max = {
        let lo = (0.4 / hz_per_bin) as usize;
        let hi = ((on.rate / 2.0 / hz_per_bin) as usize).min(mag.len() - 1);
        mag[lo..=hi].iter().copied().fold(0.0, f64::max)
    };
    if !above(band_max, 0.0) {
        return (0.0, 0.0);
    }
    let periodicity = |bpm: f64| -> f64 {
        let lag = 60.0 * on.rate / bpm;
        let (mut sum, mut count) = (0.0, 0);
        for k in 1..=4 {
            let l = lag * k as f64;
            if l > max_lag as f64 {
                break;
            }
            sum += lerp_at(&r, l).max(0.0);
            count += 1;
        }
        if count == 0 { 0.0 } else { sum / count as f64 }
    };
    let spectral = |bpm: f64| -> f64 {
        let f = bpm / 60.0;
        let (mut sum, mut count) = (0.0, 0);
        for k in 1..=4 {
            let fk = f * k as f64;
            if fk >= on.rate / 2.0 {
                break;
            }
            sum += lerp_at(&mag, fk / hz_per_bin) / band_max;
            count += 1;
        }
        if count == 0 { 0.0 } else { sum / count as f64 }
    };
    let prior = |bpm: f64| (-0.5 * ((bpm / PRIOR_BPM).log2() / PRIOR_OCTAVES).powi(2)).exp();
    let mut best = (0.0, 0.0);
    let steps = ((MAX_BPM - MIN_BPM) / 0.05).round() as usize;
    for i in 0..=steps {
        let bpm = MIN_BPM + i as f64 * 0.05;
        // A period longer than half the track cannot be checked: skip it.
        if 60.0 * on.rate / bpm > max_lag as f64 {
            continue;
        }
        let score = prior(bpm) * periodicity(bpm) * spectral(bpm);
        if score > best.1 {
            best = (bpm, score);
        }
    }
    if best.1 <= 0.0 {
        return (0.0, 0.0);
    }
    let confidence = periodicity(best.0).clamp(0.0, 1.0);
    (best.0, confidence)
}

/// Beat times (seconds) along the onset envelope at about `bpm`, by dynamic programming.
pub fn track_beats(on: &Onsets, bpm: f64) -> Vec<f64> {
    let n = on.env.len();
    if n < 3 || !above(bpm, 0.0) {
        return Vec::new();
    }
    let period = 60.0 * on.rate / bpm;
    let mean = on.env.iter().sum::<f64>() / n as f64;
    let std = (on.env.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    if !above(std, 0.0) {
        return Vec::new();
    }
    // Local score: onsets (in standard deviations) under a Gaussian of width period / 32.
    let reach = period.round().max(1.0) as i64;
    let kernel: Vec<f64> = (-reach..=reach)
        .map(|t| (-0.5 * (t as f64 * 32.0 / period).powi(2)).exp())
        .collect();
    let local: Vec<f64> = (0..n as i64)
        .map(|i| {
            kernel
                .iter()
                .enumerate()
                .map(|(k, w)| {
                    let j = i + k as i64 - reach;
                    if j >= 0 && (j as usize) < n {
                        w * on.env[j as usize] / std
                    } else {
                        0.0
                    }
                })
                .sum()
        })
        .collect();
    let local_max = local.iter().copied().fold(0.0, f64::max);
    if !above(local_max, 0.0) {
        return Vec::new();
    }
    // The previous beat lies from two periods to half a period back.
    let far = (2.0 * period).round().max(1.0) as i64;
    let near = (period / 2.0).round().max(1.0) as i64;
    let penalty: Vec<f64> = (near..=far)
        .map(|gap| -TIGHTNESS * (gap as f64 / period).ln().powi(2))
        .collect();
    let mut cum = vec![0f64; n];
    let mut back = vec![-1i64; n];
    let mut started = false;
    for i in 0..n {
        let mut best = f64::NEG_INFINITY;
        let mut from = -1i64;
        for (g, gap) in (near..=far).enumerate() {
            let j = i as i64 - gap;
            // Before the track's start a chain may begin with no score behind it.
            let v = if j >= 0 {
                cum[j as usize] + penalty[g]
            } else {
                penalty[g]
            };
            if v > best {
                best = v;
                from = j;
            }
        }
        cum[i] = local[i] + best;
        if !started && local[i] < 0.01 * local_max {
            back[i] = -1;
        } else {
            started = true;
            back[i] = from.max(-1);
        }
    }
    // The last beat: the best cumulative score in the final two periods (the first of equal
    // ones). librosa takes the last local maximum above half their median instead, which
    // skips a final beat less than a period before the end.
    let tail = n.saturating_sub(far as usize);
    let mut last = tail;
    for i in tail..n {
        if cum[i] > cum[last] {
            last = i;
        }
    }
    let mut beats = vec![last];
    while let Some(&b) = beats.last() {
        let p = back[b];
        if p < 0 {
            break;
        }
        beats.push(p as usize);
    }
    beats.reverse();
    let beats = trim(&local, beats);
    beats
        .into_iter()
        .map(|b| (b as f64 + refine(&local, b)) / on.rate)
        .collect()
}

/// Drop weak beats at both ends: a beat whose smoothed local score (its own plus half its
/// neighbours') is under half the RMS of them all, or whose own score is under a tenth of it.
fn trim(local: &[f64], beats: Vec<usize>) -> Vec<usize> {
    if beats.is_empty() {
        return beats;
    }
    let at = |k: i64| {
        if k >= 0 && (k as usize) < beats.len() {
            local[beats[k as usize]]
        } else {
            0.0
        }
    };
    let smooth: Vec<f64> = (0..beats.len() as i64)
        .map(|k| 0.5 * at(k - 1) + at(k) + 0.5 * at(k + 1))
        .collect();
    let rms = (smooth.iter().map(|v| v * v).sum::<f64>() / smooth.len() as f64).sqrt();
    let own_rms =
        (beats.iter().map(|&b| local[b].powi(2)).sum::<f64>() / beats.len() as f64).sqrt();
    let ok = |k: usize| smooth[k] > 0.5 * rms && local[beats[k]] > 0.1 * own_rms;
    let Some(first) = (0..beats.len()).find(|&k| ok(k)) else {
        return Vec::new();
    };
    let last = (0..beats.len()).rev().find(|&k| ok(k)).unwrap_or(first);
    beats[first..=last].to_vec()
}

/// Where the peak near frame `b` lies, as a fraction of a frame in [-0.5, 0.5] (parabola).
fn refine(local: &[f64], b: usize) -> f64 {
    if b == 0 || b + 1 >= local.len() {
        return 0.0;
    }
    let (l, c, r) = (local[b - 1], local[b], local[b + 1]);
    let den = l - 2.0 * c + r;
    if c >= l && c >= r && den < 0.0 {
        (0.5 * (l - r) / den).clamp(-0.5, 0.5)
    } else {
        0.0
    }
}

/// The tempo of a beat sequence (least squares over beat numbers), if it agrees with the
/// estimate within 4 %; beats skipped by the tracker count by their gap.
pub fn fitted_tempo(beats: &[f64], estimate: f64) -> Option<f64> {
    if beats.len() < 4 || !above(estimate, 0.0) {
        return None;
    }
    let period = 60.0 / estimate;
    let mut idx = vec![0f64];
    for w in beats.windows(2) {
        let step = ((w[1] - w[0]) / period).round().max(1.0);
        idx.push(idx.last().unwrap() + step);
    }
    let n = beats.len() as f64;
    let mx = idx.iter().sum::<f64>() / n;
    let my = beats.iter().sum::<f64>() / n;
    let sxx: f64 = idx.iter().map(|x| (x - mx).powi(2)).sum();
    let sxy: f64 = idx
        .iter()
        .zip(beats)
        .map(|(x, y)| (x - mx) * (y - my))
        .sum();
    if !above(sxx, 0.0) {
        return None;
    }
    let slope = sxy / sxx;
    let bpm = 60.0 / slope;
    (bpm.is_finite() && (bpm / estimate - 1.0).abs() < 0.04).then_some(bpm)
}

/// Fill the `beat` and `bdecay` columns of a table of `frames` rows at `fps` from beat times:
/// `beat` is 1 on the frame nearest each beat; `bdecay` is exp(-2.5 d / (fps / 2)) for the
/// d < fps / 2 frames after the latest beat, else 0 (the reference pipeline's definition).
pub fn mark_frames(table: &mut [f32], frames: usize, fps: u32, beats: &[f64]) {
    let fps = fps.max(1);
    let cols = Feature::COUNT;
    for &t in beats {
        let f = (t * fps as f64).round();
        if f >= 0.0 && (f as usize) < frames {
            table[f as usize * cols + Feature::Beat.index()] = 1.0;
        }
    }
    let half = (fps / 2).max(1) as f64;
    let mut last: Option<usize> = None;
    for i in 0..frames {
        if table[i * cols + Feature::Beat.index()] > 0.5 {
            last = Some(i);
        }
        table[i * cols + Feature::BDecay.index()] = match last {
            Some(b) if ((i - b) as f64) < fps as f64 / 2.0 => {
                (-2.5 * (i - b) as f64 / half).exp() as f32
            }
            _ => 0.0,
        };
    }
}
