//! Per-frame spectral features: one Hann window per video frame, centred on the frame's time,
//! two frames long (at least [`MIN_WINDOW`] samples, so that the sub band has bins at any fps),
//! zero-padded to a power of two ([`fft_len`]) and through `realfft`. Then EMA smoothing and
//! min-max normalisation over the whole track.
//!
//! Speed (5 minutes at 24 fps, `scripts/bench-audio.sh`): padding the 1836-sample window of
//! 24 fps to 2048 replaced rustfft's radix-17 butterflies (the largest single cost); the
//! flatness's geometric mean takes one `ln` per 16 bins (the log of their product) instead of
//! one per bin; magnitudes are `sqrt(re² + im²)` rather than `hypot`.
//!
//! Raw definitions (the reference pipeline's section 8), with `m` the magnitude spectrum and `f` the bin
//! frequencies:
//! - rms = sqrt(mean(x^2)) of the window's samples;
//! - band = sqrt(mean(m^2)) over the band's bins; ratio = band / sum of the six bands;
//! - cent = sum(f m) / sum(m); flat = geometric / arithmetic mean of m^2;
//! - flux = sum(max(0, m - m_prev)); cent_d = |cent - cent_prev|.
//!
//! A quantity divided by something that can be zero (silence) is 0 instead.
//!
//! For spectrum and oscilloscope scenes, each frame also gets [`SPECTRUM_BINS`] log-frequency
//! bins (rms magnitude of the STFT bins in each of [`SPECTRUM_BINS`] log-spaced bands from
//! [`SPECTRUM_LO`] to [`SPECTRUM_HI`] Hz, in dB, normalised over the track so that its loudest
//! bin is 1 and [`SPECTRUM_RANGE_DB`] below it is 0) and [`WAVE_POINTS`] samples of the
//! frame's own stretch of signal (one frame long, started at a rising zero crossing near the
//! frame's start when there is one, like an oscilloscope's trigger, so that a steady tone
//! stands still), peak-normalised over the track to -1..1.

use crate::features::{Feature, SPECTRUM_BINS, WAVE_POINTS};

/// The lowest frequency of the spectrum bins, Hz.
pub const SPECTRUM_LO: f64 = 40.0;
/// The highest frequency of the spectrum bins, Hz.
pub const SPECTRUM_HI: f64 = 11000.0;
/// The dynamic range of the spectrum bins: this many dB below the track's loudest bin is 0.
pub const SPECTRUM_RANGE_DB: f64 = 60.0;
/// Below this level (dB full scale) a track's spectrum counts as silence (all bins 0).
const SPECTRUM_SILENT_DB: f64 = -120.0;

/// The edges of spectrum bin `k` in Hz, `[lo, hi)`: log-spaced from [`SPECTRUM_LO`] to
/// [`SPECTRUM_HI`].
pub fn spectrum_bin_edges(k: usize) -> (f64, f64) {
    let r = (SPECTRUM_HI / SPECTRUM_LO).ln() / SPECTRUM_BINS as f64;
    (
        SPECTRUM_LO * (r * k as f64).exp(),
        SPECTRUM_LO * (r * (k + 1) as f64).exp(),
    )
}

/// Raw per-frame analysis: the [`SPECTRAL_COLS`] features, the spectrum in dB and the
/// waveform in sample units (see [`raw_analysis`]).
#[derive(Debug, Clone, Default)]
pub struct Raw {
    /// Unsmoothed, unnormalised features, one row per frame.
    pub rows: Vec<[f64; SPECTRAL_COLS]>,
    /// Spectrum bins in dB full scale, one row per frame.
    pub spectrum: Vec<[f32; SPECTRUM_BINS]>,
    /// Waveform points in sample units, one row per frame.
    pub wave: Vec<[f32; WAVE_POINTS]>,
}

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

/// The FFT length for a window of `win` samples: the next power of two (the window is
/// zero-padded; power-of-two transforms are several times faster than, say, 1836 = 4·27·17).
pub fn fft_len(win: usize) -> usize {
    win.next_power_of_two()
}

/// `ln` of the geometric mean of `power[i] + floor`, with one `ln` per 16 values: the product
/// of 16 values each in [`floor`, 1e6] stays far inside f64's range.
fn log_mean(power: &[f64], floor: f64) -> f64 {
    let mut sum = 0.0;
    for chunk in power.chunks(16) {
        sum += chunk.iter().map(|p| p + floor).product::<f64>().ln();
    }
    sum / power.len().max(1) as f64
}

/// Whether a column is smoothed with the slow EMA.
fn is_slow(c: usize) -> bool {
    (Feature::SubR.index()..=Feature::HiR.index()).contains(&c)
        || c == Feature::Cent.index()
        || c == Feature::Flat.index()
        || c == Feature::CentD.index()
}

/// Raw (unsmoothed, unnormalised) features of `n` frames, [`SPECTRAL_COLS`] per row.
pub fn raw_features(pcm: &[f32], rate: u32, fps: u32, n: usize) -> Vec<[f64; SPECTRAL_COLS]> {
    raw_analysis(pcm, rate, fps, n).rows
}

/// Raw features, spectrum (dB) and waveform of `n` frames.
pub fn raw_analysis(pcm: &[f32], rate: u32, fps: u32, n: usize) -> Raw {
    let win = window_len(rate, fps);
    let hop = (rate / fps.max(1)).max(1) as i64;
    let half = (win / 2) as i64;
    let nfft = fft_len(win);
    let mut planner = realfft::RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(nfft);
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
        .map(|k| k as f64 * rate as f64 / nfft as f64)
        .collect();
    let band_bins: Vec<std::ops::Range<usize>> = BANDS
        .iter()
        .map(|&(lo, hi)| band_range(lo, hi, rate, nfft, bins))
        .collect();
    let mut mag = vec![0f64; bins];
    let mut prev = vec![0f64; bins];
    let mut prev_cent = None;
    let mut out = Vec::with_capacity(n);
    let spec_bins: Vec<(std::ops::Range<usize>, f64)> = (0..SPECTRUM_BINS)
        .map(|k| {
            let (lo, hi) = spectrum_bin_edges(k);
            let to_bin = |f: f64| f * nfft as f64 / rate as f64;
            let a = (to_bin(lo).ceil() as usize).min(bins);
            let b = (to_bin(hi).ceil() as usize).min(bins);
            (a..b, to_bin((lo * hi).sqrt()))
        })
        .collect();
    let mut spectra = Vec::with_capacity(n);
    let mut waves = Vec::with_capacity(n);
    let mut power: Vec<f64> = Vec::with_capacity(bins);
    let sample = |at: i64| -> f32 {
        if at >= 0 && (at as usize) < pcm.len() {
            pcm[at as usize]
        } else {
            0.0
        }
    };
    for i in 0..n {
        let centre = (i as f64 * rate as f64 / fps as f64).round() as i64;
        let start = centre - half;
        let mut sq = 0f64;
        let (head, pad) = input.split_at_mut(win);
        pad.fill(0.0);
        if start >= 0 && start as usize + win <= pcm.len() {
            let src = &pcm[start as usize..start as usize + win];
            for ((slot, &x), &w) in head.iter_mut().zip(src).zip(&hann) {
                sq += x as f64 * x as f64;
                *slot = x * w;
            }
        } else {
            for (j, slot) in head.iter_mut().enumerate() {
                let x = sample(start + j as i64);
                sq += x as f64 * x as f64;
                *slot = x * hann[j];
            }
        }
        fft.process_with_scratch(&mut input, &mut spec, &mut scratch)
            .expect("buffer sizes come from the plan");
        for (m, c) in mag.iter_mut().zip(&spec) {
            *m = (c.re * c.re + c.im * c.im).sqrt() as f64 * gain;
        }
        let mut sp = [0f32; SPECTRUM_BINS];
        for (o, (r, centre)) in sp.iter_mut().zip(&spec_bins) {
            let e = if r.is_empty() {
                // A band narrower than an FFT bin: the magnitude interpolated at its centre.
                let k = (centre.floor() as usize).min(bins - 1);
                let k1 = (k + 1).min(bins - 1);
                let f = (centre - k as f64).clamp(0.0, 1.0);
                mag[k] * (1.0 - f) + mag[k1] * f
            } else {
                (mag[r.clone()].iter().map(|m| m * m).sum::<f64>() / r.len() as f64).sqrt()
            };
            *o = (20.0 * e.max(1e-12).log10()) as f32;
        }
        spectra.push(sp);
        // The oscilloscope's trigger: a rising zero crossing within a quarter frame of the
        // frame's start, else the start itself.
        let span_start = centre - hop / 2;
        let trigger = (span_start - hop / 4..span_start + hop / 4)
            .find(|&at| sample(at - 1) < 0.0 && sample(at) >= 0.0)
            .unwrap_or(span_start);
        let mut wv = [0f32; WAVE_POINTS];
        for (j, o) in wv.iter_mut().enumerate() {
            let pos = j as f64 * hop as f64 / WAVE_POINTS as f64;
            let k = pos.floor() as i64;
            let f = (pos - k as f64) as f32;
            *o = sample(trigger + k) * (1.0 - f) + sample(trigger + k + 1) * f;
        }
        waves.push(wv);
        let mut row = [0f64; SPECTRAL_COLS];
        row[Feature::Rms.index()] = (sq / win as f64).sqrt();
        let mut band_sum = 0.0;
        for (b, r) in band_bins.iter().enumerate() {
            let e = if r.is_empty() {
                0.0
            } else {
                (mag[r.clone()].iter().map(|m| m * m).sum::<f64>() / r.len() as f64).sqrt()
            };
            row[Feature::Sub.index() + b] = e;
            band_sum += e;
        }
        if band_sum > 0.0 {
            for b in 0..6 {
                row[Feature::SubR.index() + b] = row[Feature::Sub.index() + b] / band_sum;
            }
        }
        let total: f64 = mag.iter().sum();
        power.clear();
        power.extend(mag[1..].iter().map(|m| m * m));
        let mean_power = power.iter().sum::<f64>() / power.len().max(1) as f64;
        let silent = !above(mean_power, SILENT_POWER) || !above(total, 0.0);
        let cent = if silent {
            0.0
        } else {
            mag.iter().zip(&freq).map(|(m, f)| m * f).sum::<f64>() / total
        };
        row[Feature::Cent.index()] = cent;
        row[Feature::Flat.index()] = if silent {
            0.0
        } else {
            let floor = SILENT_POWER * 1e-6;
            (log_mean(&power, floor).exp() / (mean_power + floor)).clamp(0.0, 1.0)
        };
        row[Feature::Flux.index()] = mag.iter().zip(&prev).map(|(m, p)| (m - p).max(0.0)).sum();
        row[Feature::CentD.index()] = prev_cent.map(|p: f64| (cent - p).abs()).unwrap_or(0.0);
        prev_cent = Some(cent);
        std::mem::swap(&mut mag, &mut prev);
        out.push(row);
    }
    Raw {
        rows: out,
        spectrum: spectra,
        wave: waves,
    }
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

/// One video's normalised per-frame tables (see [`frame_features`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// [`Feature::COUNT`] values per row, `beat` and `bdecay` left 0.
    pub values: Vec<f32>,
    /// [`SPECTRUM_BINS`] values per row, 0..1.
    pub spectrum: Vec<f32>,
    /// [`WAVE_POINTS`] values per row, -1..1.
    pub wave: Vec<f32>,
}

/// The tables for `frames` video frames, `beat` and `bdecay` left 0: raw features over
/// max(frames, track_frames) frames (so that the track's own range is known even when the
/// video is shorter), smoothed, normalised over the track's frames; the spectrum and the
/// waveform normalised over the track's frames too.
pub fn frame_features(
    pcm: &[f32],
    rate: u32,
    fps: u32,
    frames: usize,
    track_frames: usize,
) -> Table {
    let mut raw = raw_analysis(pcm, rate, fps, frames.max(track_frames));
    smooth(&mut raw.rows);
    let norm = normalise(&raw.rows, track_frames);
    let mut values = vec![0f32; frames * Feature::COUNT];
    for (dst, src) in values.chunks_exact_mut(Feature::COUNT).zip(&norm) {
        dst[..SPECTRAL_COLS].copy_from_slice(src);
    }
    let track = track_frames.min(raw.spectrum.len());
    Table {
        values,
        spectrum: normalise_spectrum(&raw.spectrum[..frames], &raw.spectrum[..track]),
        wave: normalise_wave(&raw.wave[..frames], &raw.wave[..track]),
    }
}

/// Spectrum rows in dB to 0..1: the loudest bin of `track` is 1, [`SPECTRUM_RANGE_DB`] below
/// it 0 (clamped). A silent track gives 0 everywhere.
pub fn normalise_spectrum(
    rows: &[[f32; SPECTRUM_BINS]],
    track: &[[f32; SPECTRUM_BINS]],
) -> Vec<f32> {
    let hi = track
        .iter()
        .flatten()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max) as f64;
    let silent = !above(hi, SPECTRUM_SILENT_DB);
    let lo = hi - SPECTRUM_RANGE_DB;
    rows.iter()
        .flatten()
        .map(|&db| {
            if silent {
                0.0
            } else {
                ((db as f64 - lo) / SPECTRUM_RANGE_DB).clamp(0.0, 1.0) as f32
            }
        })
        .collect()
}

/// Waveform rows divided by the largest magnitude in `track` (a silent track stays 0).
pub fn normalise_wave(rows: &[[f32; WAVE_POINTS]], track: &[[f32; WAVE_POINTS]]) -> Vec<f32> {
    let peak = track.iter().flatten().fold(0f32, |m, &x| m.max(x.abs()));
    let k = if above(peak as f64, 1e-9) {
        1.0 / peak
    } else {
        0.0
    };
    rows.iter()
        .flatten()
        .map(|&x| (x * k).clamp(-1.0, 1.0))
        .collect()
}

/// `x > limit`, and false when either is NaN: the guard before every division in `audio`
/// (here and in [`super::beats`]).
pub(crate) fn above(x: f64, limit: f64) -> bool {
    x > limit
}
