//! Strange attractors (the Python reference pipeline's docs, section 4: `strange_attractor`):
//! Clifford, De Jong and Bedhead maps, iterated from a seeded point cloud, binned into a
//! lattice of cells and log1p-normalised into values in `[0, 1]`.
//!
//! The reference iterates 50 000 points 500 times per frame; farm iterates
//! [`Attractor::points`] points (default [`DEFAULT_POINTS`]) [`TRANSIENT`] times to reach the
//! attractor, then [`Attractor::iterations`] more times (default [`DEFAULT_ITERATIONS`]),
//! binning every one of those later positions: 128k samples by default, about 2 ms per frame on
//! one core (`docs/visualizers.md` has the measurement). The map's four parameters drift slowly
//! with time around the kind's base values ([`AttractorKind::base`]): each by `spread` times its
//! own amplitude on a sine of its own period (47 to 97 seconds) from a fixed phase (so two
//! layers of one kind draw one figure; the seed only draws the starting cloud); `jolt` (0..1,
//! bind it to a beat) kicks them along a fixed direction and zooms out a little. A drifted map
//! may fall into a periodic window (a few dots instead of a figure); a frame whose figure lights
//! under 2% of its area is drawn again with the drift and jolt halved (up to three times).
//!
//! Determinism: a frame is computed from scratch from (seed, time, parameters): the starting
//! cloud is drawn from the seed every frame, so a frame never depends on the frames before it.
//! The framing (centre and size) comes from that frame's own samples (their 0.2% and 99.8%
//! quantiles per axis), so the figure fills the frame whatever its parameters.

use crate::render::params::vocab;
use crate::render::rng::Rng;
use std::f32::consts::{FRAC_PI_2, PI, TAU};

vocab! {
    /// The maps of the strange attractor.
    pub enum AttractorKind {
        /// `x' = sin(a y) + c cos(a x)`, `y' = sin(b x) + d cos(b y)`.
        Clifford = "clifford",
        /// `x' = sin(a y) - cos(b x)`, `y' = sin(c x) - cos(d y)`.
        DeJong = "de_jong",
        /// `x' = sin(x y / b) y + cos(a x - y)`, `y' = x + sin(y) / b`.
        Bedhead = "bedhead",
    }
}

/// Iterations from the seeded cloud to the attractor, not binned.
pub const TRANSIENT: usize = 16;
/// Points iterated per frame when `count` is 0.
pub const DEFAULT_POINTS: usize = 2000;
/// Binned iterations per point when `steps` is 0.
pub const DEFAULT_ITERATIONS: usize = 64;
/// At most this many samples (points x iterations) per frame.
pub const MAX_SAMPLES: usize = 4_000_000;

/// Periods of the four parameters' drift, seconds.
const PERIODS: [f32; 4] = [47.0, 61.0, 79.0, 97.0];

impl AttractorKind {
    /// The map's parameters `[a, b, c, d]` before any drift (Bedhead uses `a` and `b`).
    pub fn base(self) -> [f32; 4] {
        match self {
            AttractorKind::Clifford => [1.7, 1.7, 0.6, 1.2],
            AttractorKind::DeJong => [1.4, -2.3, 2.4, -2.1],
            AttractorKind::Bedhead => [-0.81, -0.92, 0.0, 0.0],
        }
    }

    /// The phases of the four parameters' drift at time 0 (fixed per kind, so that two layers
    /// of the same kind draw the same figure; shift a layer's time with `offset` for another).
    fn phase(self) -> [f32; 4] {
        match self {
            AttractorKind::Clifford => [0.3, 2.1, 4.0, 5.2],
            AttractorKind::DeJong => [1.1, 3.3, 0.4, 4.6],
            AttractorKind::Bedhead => [2.5, 0.9, 0.0, 0.0],
        }
    }

    /// Whether the figure is drawn with its axes swapped in a frame of `aspect` (width over
    /// height): Clifford's is taller than wide, so it lies on its side in a landscape frame.
    fn transposed(self, aspect: f32) -> bool {
        self == AttractorKind::Clifford && aspect > 1.0
    }

    /// How far each parameter drifts at `spread` 1.
    fn drift(self) -> [f32; 4] {
        match self {
            AttractorKind::Clifford => [0.08, 0.07, 0.09, 0.08],
            AttractorKind::DeJong => [0.1, 0.12, 0.12, 0.1],
            AttractorKind::Bedhead => [0.08, 0.05, 0.0, 0.0],
        }
    }

    /// The direction a jolt of 1 moves the parameters.
    fn kick(self) -> [f32; 4] {
        match self {
            AttractorKind::Clifford => [0.12, -0.1, 0.12, -0.1],
            AttractorKind::DeJong => [0.15, 0.18, -0.15, 0.12],
            AttractorKind::Bedhead => [0.1, 0.06, 0.0, 0.0],
        }
    }

    /// One iteration of the map with parameters `p`.
    #[inline(always)]
    pub fn step(self, p: &[f32; 4], x: f32, y: f32) -> (f32, f32) {
        match self {
            AttractorKind::Clifford => clifford(p, x, y),
            AttractorKind::DeJong => de_jong(p, x, y),
            AttractorKind::Bedhead => bedhead(p, x, y),
        }
    }
}

#[inline(always)]
fn clifford(p: &[f32; 4], x: f32, y: f32) -> (f32, f32) {
    let [a, b, c, d] = *p;
    (sin(a * y) + c * cos(a * x), sin(b * x) + d * cos(b * y))
}

#[inline(always)]
fn de_jong(p: &[f32; 4], x: f32, y: f32) -> (f32, f32) {
    let [a, b, c, d] = *p;
    (sin(a * y) - cos(b * x), sin(c * x) - cos(d * y))
}

#[inline(always)]
fn bedhead(p: &[f32; 4], x: f32, y: f32) -> (f32, f32) {
    let [a, b, _, _] = *p;
    let ib = 1.0 / b;
    (sin(x * y * ib) * y + cos(a * x - y), x + sin(y) * ib)
}

/// `sin(x)` to about 4e-6 for `|x|` up to 10^6, without branches or `floor` (which is a
/// library call without SSE4.1), so that eight points iterated side by side vectorise: `x / pi`
/// rounded to the nearest integer `k` by the `1.5 * 2^23` trick, a degree-9 polynomial of
/// `x - k pi`, the sign flipped for odd `k`. Plain multiply-adds in a fixed order: the same bits
/// on every run.
#[inline(always)]
fn sin(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0;
    let q = x * (1.0 / PI) + MAGIC;
    let k = q - MAGIC;
    let odd = q.to_bits() << 31;
    let r = x - k * PI;
    let r2 = r * r;
    let s = r
        * (1.0
            + r2 * (-1.0 / 6.0
                + r2 * (1.0 / 120.0 + r2 * (-1.0 / 5040.0 + r2 * (1.0 / 362_880.0)))));
    f32::from_bits(s.to_bits() ^ odd)
}

/// `cos(x)` as `sin(x + pi/2)`.
#[inline(always)]
fn cos(x: f32) -> f32 {
    sin(x + FRAC_PI_2)
}

/// Points iterated side by side (independent chains the compiler can vectorise).
const LANES: usize = 8;

/// Iterates `chunks * LANES` points from the seeded cloud: [`TRANSIENT`] steps, then `iters`
/// steps each written to `xs`, `ys` (lane-major per step).
#[inline(always)]
fn iterate(
    f: impl Fn(f32, f32) -> (f32, f32),
    rng: &mut Rng,
    chunks: usize,
    iters: usize,
    xs: &mut [f32],
    ys: &mut [f32],
) {
    for ch in 0..chunks {
        let mut x = [0f32; LANES];
        let mut y = [0f32; LANES];
        for l in 0..LANES {
            x[l] = rng.range_f32(-1.0, 1.0);
            y[l] = rng.range_f32(-1.0, 1.0);
        }
        for _ in 0..TRANSIENT {
            for l in 0..LANES {
                (x[l], y[l]) = f(x[l], y[l]);
            }
        }
        let base = ch * iters * LANES;
        for j in 0..iters {
            for l in 0..LANES {
                (x[l], y[l]) = f(x[l], y[l]);
            }
            let o = base + j * LANES;
            xs[o..o + LANES].copy_from_slice(&x);
            ys[o..o + LANES].copy_from_slice(&y);
        }
    }
}

/// A strange attractor rendered as a density: configured, plus its per-frame scratch buffers
/// (no state carried from frame to frame).
#[derive(Debug, Clone)]
pub struct Attractor {
    /// The map.
    pub kind: AttractorKind,
    /// Points iterated per frame.
    pub points: usize,
    /// Binned iterations per point.
    pub iterations: usize,
    /// How far the parameters drift (1: the kind's own amplitudes; 0: fixed).
    pub spread: f32,
    /// A kick of the parameters along a fixed direction (0..1).
    pub jolt: f32,
    /// Spatial scale: the figure is drawn `1 / scale` times its fitted size.
    pub scale: f32,
    seed: u64,
    phase: [f32; 4],
    xs: Vec<f32>,
    ys: Vec<f32>,
    counts: Vec<u32>,
    lit: Vec<u32>,
}

impl Attractor {
    /// An attractor of `kind` with the default counts, seeded with `seed`.
    pub fn new(kind: AttractorKind, seed: u64) -> Attractor {
        let phase = kind.phase();
        Attractor {
            kind,
            points: DEFAULT_POINTS,
            iterations: DEFAULT_ITERATIONS,
            spread: 1.0,
            jolt: 0.0,
            scale: 1.0,
            seed,
            phase,
            xs: Vec::new(),
            ys: Vec::new(),
            counts: Vec::new(),
            lit: Vec::new(),
        }
    }

    /// The map's parameters at time `t` (seconds), with drift and jolt.
    pub fn params_at(&self, t: f32) -> [f32; 4] {
        self.params_scaled(t, 1.0)
    }

    /// [`Attractor::params_at`] with the drift and jolt scaled by `k`.
    fn params_scaled(&self, t: f32, k: f32) -> [f32; 4] {
        let base = self.kind.base();
        let drift = self.kind.drift();
        let kick = self.kind.kick();
        let mut p = [0f32; 4];
        for i in 0..4 {
            let w = TAU / PERIODS[i];
            p[i] = base[i]
                + k * (self.spread * drift[i] * sin(w * t + self.phase[i]) + self.jolt * kick[i]);
        }
        if self.kind == AttractorKind::Bedhead && p[1].abs() < 0.2 {
            // b divides: keep it away from 0.
            p[1] = 0.2f32.copysign(p[1]);
        }
        p
    }

    /// Iterates the cloud at time `t` and writes its density on a `rows x cols` lattice
    /// covering `[-aspect, aspect] x [-1, 1]` (frame units, row-major, y down) into `out`,
    /// log1p-normalised: `ln(1 + n) / ln(1 + n99.5)` (at most 1; `n99.5` the 99.5th percentile of
    /// the lit cells' counts), 0 where no sample fell.
    pub fn density(&mut self, t: f32, rows: usize, cols: usize, aspect: f32, out: &mut [f32]) {
        let n = rows * cols;
        let out = &mut out[..n];
        out.fill(0.0);
        if n == 0 {
            return;
        }
        // A drifted map can fall into a periodic window (a few dots instead of a figure):
        // then the drift and jolt are halved, up to three times, and the frame drawn again.
        let moved = self.spread != 0.0 || self.jolt != 0.0;
        let area = n as f32 / (self.scale * self.scale).max(1.0);
        let mut k = 1.0f32;
        let mut lit = self.bin(self.params_scaled(t, k), rows, cols, aspect);
        for _ in 0..3 {
            if !moved || lit as f32 * 50.0 >= area {
                break;
            }
            k *= 0.5;
            lit = self.bin(self.params_scaled(t, k), rows, cols, aspect);
        }
        // Normalise by the 99.5th percentile of the lit cells' counts rather than the maximum:
        // a few hot cells (cusps, fixed points) would otherwise leave the rest dim.
        self.lit.clear();
        self.lit
            .extend(self.counts.iter().copied().filter(|&c| c > 0));
        if self.lit.is_empty() {
            return;
        }
        let q = (self.lit.len() - 1) * 995 / 1000;
        let top = *self.lit.select_nth_unstable(q).1;
        let norm = 1.0 / (top.max(1) as f32).ln_1p();
        for (o, &c) in out.iter_mut().zip(&self.counts) {
            if c > 0 {
                *o = ((c as f32).ln_1p() * norm).min(1.0);
            }
        }
    }
}

impl Attractor {
    /// Iterates the cloud with parameters `p` and counts its samples per lattice cell into
    /// `self.counts` (framed by their quantiles); returns the number of lit cells.
    fn bin(&mut self, p: [f32; 4], rows: usize, cols: usize, aspect: f32) -> usize {
        let n = rows * cols;
        self.counts.clear();
        self.counts.resize(n, 0);
        let chunks = self.points.max(1).div_ceil(LANES);
        let iters = self.iterations.clamp(1, MAX_SAMPLES / (chunks * LANES));
        let kind = self.kind;
        let total = chunks * LANES * iters;
        self.xs.resize(total, 0.0);
        self.ys.resize(total, 0.0);
        let mut rng = Rng::new(self.seed);
        let (xs, ys) = if kind.transposed(aspect) {
            (&mut self.ys, &mut self.xs)
        } else {
            (&mut self.xs, &mut self.ys)
        };
        match kind {
            AttractorKind::Clifford => {
                iterate(|x, y| clifford(&p, x, y), &mut rng, chunks, iters, xs, ys)
            }
            AttractorKind::DeJong => {
                iterate(|x, y| de_jong(&p, x, y), &mut rng, chunks, iters, xs, ys)
            }
            AttractorKind::Bedhead => {
                iterate(|x, y| bedhead(&p, x, y), &mut rng, chunks, iters, xs, ys)
            }
        }
        let Some((x0, x1)) = quantiles(&self.xs, &mut self.lit) else {
            return 0;
        };
        let Some((y0, y1)) = quantiles(&self.ys, &mut self.lit) else {
            return 0;
        };
        let (cx, cy) = ((x0 + x1) * 0.5, (y0 + y1) * 0.5);
        let (hx, hy) = (((x1 - x0) * 0.5).max(1e-6), ((y1 - y0) * 0.5).max(1e-6));
        // Fit into 92% of the frame, the same scale on both axes.
        let zoom = 1.0 + 0.08 * self.jolt;
        let k = 0.92 * (aspect / hx).min(1.0 / hy) / (self.scale.max(1e-3) * zoom);
        // Lattice cell of frame point (u, v): col = (u + aspect) * cols / (2 aspect).
        let sx = k * cols as f32 / (2.0 * aspect.max(1e-6));
        let sy = k * rows as f32 / 2.0;
        let ox = cols as f32 * 0.5 - cx * sx;
        let oy = rows as f32 * 0.5 - cy * sy;
        let (fc, fr) = (cols as f32, rows as f32);
        for (&x, &y) in self.xs.iter().zip(&self.ys) {
            let c = x * sx + ox;
            let r = y * sy + oy;
            // NaN compares false: a diverged sample is dropped.
            if c >= 0.0 && r >= 0.0 && c < fc && r < fr {
                self.counts[r as usize * cols + c as usize] += 1;
            }
        }
        self.counts.iter().filter(|&&c| c > 0).count()
    }
}

/// The 0.2% and 99.8% quantiles of `v` (finite values only; every seventh value, which is
/// plenty for framing) from a 1024-bin histogram over its range; `None` if no value is finite.
/// `hist` is scratch.
fn quantiles(v: &[f32], hist: &mut Vec<u32>) -> Option<(f32, f32)> {
    const STRIDE: usize = 7;
    let (mut lo, mut hi, mut n) = (f32::MAX, f32::MIN, 0usize);
    for &x in v.iter().step_by(STRIDE) {
        if x.is_finite() {
            lo = lo.min(x);
            hi = hi.max(x);
            n += 1;
        }
    }
    if n == 0 {
        return None;
    }
    if hi - lo < 1e-9 {
        return Some((lo - 0.5, hi + 0.5));
    }
    const BINS: usize = 1024;
    hist.clear();
    hist.resize(BINS, 0);
    let s = BINS as f32 / (hi - lo);
    for &x in v.iter().step_by(STRIDE) {
        if x.is_finite() {
            hist[(((x - lo) * s) as usize).min(BINS - 1)] += 1;
        }
    }
    let cut = n / 500;
    let (mut acc, mut a) = (0usize, 0usize);
    for (i, &h) in hist.iter().enumerate() {
        acc += h as usize;
        if acc > cut {
            a = i;
            break;
        }
    }
    let (mut acc, mut b) = (0usize, BINS - 1);
    for (i, &h) in hist.iter().enumerate().rev() {
        acc += h as usize;
        if acc > cut {
            b = i;
            break;
        }
    }
    let w = (hi - lo) / BINS as f32;
    Some((lo + a as f32 * w, lo + (b + 1) as f32 * w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(v: &[f32]) -> f32 {
        v.iter().filter(|&&x| x > 0.0).count() as f32 / v.len() as f32
    }

    #[test]
    fn every_kind_fills_part_of_the_frame_at_any_time() {
        use strum::IntoEnumIterator;
        let (rows, cols) = (45, 128);
        let mut out = vec![0.0; rows * cols];
        for kind in AttractorKind::iter() {
            let mut a = Attractor::new(kind, 11);
            a.points = 500;
            a.iterations = 100;
            for s in 0..40 {
                let t = s as f32 * 7.3;
                a.density(t, rows, cols, 16.0 / 9.0, &mut out);
                let f = lit(&out);
                assert!(
                    (0.04..0.9).contains(&f),
                    "{kind} at {t} s: {:.3} of the cells lit",
                    f
                );
                assert!(out.iter().all(|v| (0.0..=1.0).contains(v)));
                assert!(out.contains(&1.0));
            }
        }
    }

    #[test]
    fn a_frame_depends_only_on_its_inputs() {
        let mut a = Attractor::new(AttractorKind::DeJong, 3);
        let mut b = Attractor::new(AttractorKind::DeJong, 3);
        let (mut x, mut y) = (vec![0.0; 40 * 60], vec![0.0; 40 * 60]);
        a.density(1.0, 40, 60, 1.5, &mut x);
        a.density(9.0, 40, 60, 1.5, &mut x);
        b.density(9.0, 40, 60, 1.5, &mut y);
        assert_eq!(x, y);
        b.jolt = 1.0;
        b.density(9.0, 40, 60, 1.5, &mut y);
        assert_ne!(x, y, "a jolt changes the figure");
    }

    #[test]
    fn the_kinds_draw_different_figures_with_structure() {
        use strum::IntoEnumIterator;
        let (rows, cols) = (45, 80);
        let figs: Vec<Vec<f32>> = AttractorKind::iter()
            .map(|k| {
                let mut out = vec![0.0; rows * cols];
                Attractor::new(k, 2).density(3.0, rows, cols, 16.0 / 9.0, &mut out);
                out
            })
            .collect();
        for (i, f) in figs.iter().enumerate() {
            // Not flat: dark cells, dim cells and saturated cells.
            let lit: Vec<f32> = f.iter().copied().filter(|&v| v > 0.0).collect();
            assert!(lit.len() < f.len(), "kind {i} covers everything");
            let mean = lit.iter().sum::<f32>() / lit.len() as f32;
            let var = lit.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / lit.len() as f32;
            assert!(
                var.sqrt() > 0.08,
                "kind {i}: flat density (sd {})",
                var.sqrt()
            );
            for (j, g) in figs.iter().enumerate().skip(i + 1) {
                let overlap = f
                    .iter()
                    .zip(g)
                    .filter(|(a, b)| (**a > 0.0) == (**b > 0.0))
                    .count();
                assert!(
                    (overlap as f32) < 0.9 * f.len() as f32,
                    "kinds {i} and {j} light the same cells"
                );
            }
        }
    }

    #[test]
    fn parameters_drift_slowly_and_a_collapse_is_avoided() {
        let a = Attractor::new(AttractorKind::Clifford, 1);
        let (p0, p1) = (a.params_at(10.0), a.params_at(10.0 + 1.0 / 24.0));
        assert!(p0.iter().zip(&p1).all(|(x, y)| (x - y).abs() < 1e-3));
        // Spread 10 throws the map far from its base values: some frames would collapse to a
        // few dots; halving the drift keeps a figure.
        let mut a = Attractor::new(AttractorKind::Clifford, 1);
        a.spread = 10.0;
        a.points = 400;
        let mut out = vec![0.0; 40 * 72];
        for s in 0..30 {
            a.density(s as f32 * 3.1, 40, 72, 16.0 / 9.0, &mut out);
            let lit = out.iter().filter(|&&v| v > 0.0).count();
            assert!(lit * 50 >= out.len() / 2, "{s}: {lit} cells lit");
        }
    }

    #[test]
    fn vocabulary() {
        assert_eq!(AttractorKind::NAMES, ["clifford", "de_jong", "bedhead"]);
    }
}
