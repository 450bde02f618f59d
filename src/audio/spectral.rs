//! Per-frame spectral features: one Hann window per video frame, centred on the frame's time,
//! two frames long (at least [`MIN_WINDOW`] samples, so that the sub band has bins at any fps),
//! through `realfft`. Then EMA smoothing and min-max normalisation over the whole track.
//!
//! Raw definitions (the digest's section 8), with `m` the magnitude spectrum and `f` the bin
//! frequencies:
//! - rms = sqrt(mean(x^2)) of the window's samples;
//! - band = sqrt(mean(m^2)) over the band's bins; ratio = band / sum of the six bands;
//! - cent = sum(f m) / sum(m); flat = geometric / arithmetic mean of m^2;
//! - flux = sum(max(0, m - m_prev)); cent_d = |cent - cent_prev|.
//!
//! A quantity divided by something that can be zero (silence) is 0 instead.

use super::{Col, above};

/// The six bands in Hz, `[low, high)`, in column order (sub, bass, lomid, mid, himid, hi).
pub const BANDS: [(f64, f64); 6] = [
    (20.0, 80.0),
    (80.0, 250.0),
    (250.0, 500.0),
    (500.0, 2000.0),
    (2000.0, 6000.0),
    (6000.0, f64::INFINITY),
];

/// EMA weight of the new value for slow features (ratios, cent, flat, cent_d).
pub const EMA_SLOW: f32 = 0.12;
/// EMA weight of the new value for fast features (rms, bands, flux).
pub const EMA_FAST: f32 = 0.3;
/// The shortest analysis window in samples (46 ms at 22050 Hz: 21.5 Hz bins).
pub const MIN_WINDOW: usize = 1024;

/// Columns computed here (every column but `beat` and `bdecay`).
pub const SPECTRAL_COLS: usize = 17;

/// Below this mean power (about -140 dB full scale) a window counts as silence.
const SILENT_POWER: f64 = 1e-14;

/// The window length for a rate and fps: two frames, at least [`MIN_WINDOW`], even.
pub fn window_len(rate: u32, fps: u32) -> usize {
    let hop = (rate / fps.max(1)) as usize;
    ((2 * hop).max(MIN_WINDOW) + 1) & !1
}

/// Whether a column is smoothed with the slow EMA.
fn is_slow(c: usize) -> bool {
    (Col::SubR.index()..=Col::HiR.index()).contains(&c)
        || c == Col::Cent.index()
        || c == Col::Flat.index()
        || c == Col::CentD.index()
}

/// Raw (unsmoothed, unnormalised) features of `n` frames, [`SPECTRAL_COLS`] per row.
pub fn raw_features(pcm: &[f32], rate: u32, fps: u32, n: usize) -> Vec<[f64; SPECTRAL_COLS]> {
    let win = window_len(rate, fps);
    let half = (win / 2) as i64;
    let mut planner = realfft::RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(win);
    let mut input = fft.make_input_vec();
    let mut spec = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    let bins = spec.len();
    // Periodic Hann window; magnitudes scaled so that a full-scale sine peaks near 1.
    let hann: Vec<f32> = (0..win)
        .map(|i| {
            let s = (std::f64::consts::PI * i as f64 / win as f64).sin();
            (s * s) as f32
        })
        .collect();
    let gain = 2.0 / hann.iter().map(|&w| w as f64).sum::<f64>();
    let freq: Vec<f64> = (0..bins)
        .map(|k| k as f64 * rate as f64 / win as f64)
        .collect();
    let band_bins: Vec<std::ops::Range<usize>> = BANDS
        .iter()
        .map(|&(lo, hi)| band_range(lo, hi, rate, win, bins))
        .collect();
    let mut mag = vec![0f64; bins];
    let mut prev = vec![0f64; bins];
    let mut prev_cent = None;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let centre = (i as f64 * rate as f64 / fps as f64).round() as i64;
        let start = centre - half;
        let mut sq = 0f64;
        for (j, slot) in input.iter_mut().enumerate() {
            let at = start + j as i64;
            let x = if at >= 0 && (at as usize) < pcm.len() {
                pcm[at as usize]
            } else {
                0.0
            };
            sq += x as f64 * x as f64;
            *slot = x * hann[j];
        }
        fft.process_with_scratch(&mut input, &mut spec, &mut scratch)
            .expect("buffer sizes come from the plan");
        for (m, c) in mag.iter_mut().zip(&spec) {
            *m = c.norm() as f64 * gain;
        }
        let mut row = [0f64; SPECTRAL_COLS];
        row[Col::Rms.index()] = (sq / win as f64).sqrt();
        let mut band_sum = 0.0;
        for (b, r) in band_bins.iter().enumerate() {
            let e = if r.is_empty() {
                0.0
            } else {
                (mag[r.clone()].iter().map(|m| m * m).sum::<f64>() / r.len() as f64).sqrt()
            };
            row[Col::Sub.index() + b] = e;
            band_sum += e;
        }
        if band_sum > 0.0 {
            for b in 0..6 {
                row[Col::SubR.index() + b] = row[Col::Sub.index() + b] / band_sum;
            }
        }
        let total: f64 = mag.iter().sum();
        let power: Vec<f64> = mag[1..].iter().map(|m| m * m).collect();
        let mean_power = power.iter().sum::<f64>() / power.len().max(1) as f64;
        let silent = !above(mean_power, SILENT_POWER) || !above(total, 0.0);
        let cent = if silent {
            0.0
        } else {
            mag.iter().zip(&freq).map(|(m, f)| m * f).sum::<f64>() / total
        };
        row[Col::Cent.index()] = cent;
        row[Col::Flat.index()] = if silent {
            0.0
        } else {
            let floor = SILENT_POWER * 1e-6;
            let log_mean = power.iter().map(|p| (p + floor).ln()).sum::<f64>() / power.len() as f64;
            (log_mean.exp() / (mean_power + floor)).clamp(0.0, 1.0)
        };
        row[Col::Flux.index()] = mag.iter().zip(&prev).map(|(m, p)| (m - p).max(0.0)).sum();
        row[Col::CentD.index()] = prev_cent.map(|p: f64| (cent - p).abs()).unwrap_or(0.0);
        prev_cent = Some(cent);
        std::mem::swap(&mut mag, &mut prev);
        out.push(row);
    }
    out
}

/// The bins of `[lo, hi)` Hz; a band narrower than a bin gets the bin nearest its centre.
fn band_range(lo: f64, hi: f64, rate: u32, win: usize, bins: usize) -> std::ops::Range<usize> {
    let to_bin = |f: f64| f * win as f64 / rate as f64;
    let a = (to_bin(lo).ceil() as usize).min(bins);
    let b = if hi.is_finite() {
        (to_bin(hi).ceil() as usize).min(bins)
    } else {
        bins
    };
    if a < b {
        a..b
    } else if lo < rate as f64 / 2.0 {
        let centre = if hi.is_finite() { (lo * hi).sqrt() } else { lo };
        let k = (to_bin(centre).round() as usize).min(bins - 1);
        k..k + 1
    } else {
        0..0
    }
}

/// Smooth every column with its EMA (the first value starts the average).
pub fn smooth(rows: &mut [[f64; SPECTRAL_COLS]]) {
    for c in 0..SPECTRAL_COLS {
        let a = if is_slow(c) { EMA_SLOW } else { EMA_FAST } as f64;
        let mut s = None;
        for r in rows.iter_mut() {
            let v = match s {
                None => r[c],
                Some(p) => a * r[c] + (1.0 - a) * p,
            };
            s = Some(v);
            r[c] = v;
        }
    }
}

/// Min-max normalise every column with the range of the first `track` rows (the track itself),
/// clamped to [0, 1]; a column that never changes is 0.
pub fn normalise(rows: &[[f64; SPECTRAL_COLS]], track: usize) -> Vec<[f32; SPECTRAL_COLS]> {
    let track = track.min(rows.len());
    let mut lo = [f64::INFINITY; SPECTRAL_COLS];
    let mut hi = [f64::NEG_INFINITY; SPECTRAL_COLS];
    for r in &rows[..track] {
        for c in 0..SPECTRAL_COLS {
            lo[c] = lo[c].min(r[c]);
            hi[c] = hi[c].max(r[c]);
        }
    }
    rows.iter()
        .map(|r| {
            let mut o = [0f32; SPECTRAL_COLS];
            for c in 0..SPECTRAL_COLS {
                let range = hi[c] - lo[c];
                let scale = hi[c].abs().max(lo[c].abs());
                if range > scale * 1e-9 && range.is_finite() {
                    o[c] = ((r[c] - lo[c]) / range).clamp(0.0, 1.0) as f32;
                }
            }
            o
        })
        .collect()
}

/// The table for `frames` video frames, [`Col::COUNT`] values per row, `beat` and `bdecay`
/// left 0: raw features over max(frames, track_frames) frames (so that the track's own range
/// is known even when the video is shorter), smoothed, normalised over the track's frames.
pub fn frame_features(
    pcm: &[f32],
    rate: u32,
    fps: u32,
    frames: usize,
    track_frames: usize,
) -> Vec<f32> {
    let mut raw = raw_features(pcm, rate, fps, frames.max(track_frames));
    smooth(&mut raw);
    let norm = normalise(&raw, track_frames);
    let mut out = vec![0f32; frames * Col::COUNT];
    for (dst, src) in out.chunks_exact_mut(Col::COUNT).zip(&norm) {
        dst[..SPECTRAL_COLS].copy_from_slice(src);
    }
    out
}
