//! Value fields (the digest's section 4): per-cell values in `[0, 1]` from cell coordinates and
//! time, computed per cell (`rows * cols`), never per pixel.
//!
//! Coordinates are frame units (the frame's height spans -1..1; see `Grid::xn`), optionally moved
//! by a UV transform first, so a field looks the same on every grid; `scale` multiplies the
//! spatial frequencies and `speed` the time. Audio features are not wired into the renderer yet:
//! where the digest's formulas read a feature, a constant 0.3 (the digest's default) is used.
//!
//! Two fields carry state from frame to frame and are stepped once per frame, in order:
//! `reaction_diffusion` (Gray-Scott) and `life` (cellular automata). They live on the grid's
//! lattice and ignore UV transforms.

use crate::render::fastmath::{fbm, fcos, fsin, hash01, hash2, value_noise};
use crate::render::rng::Rng;
use std::f32::consts::{PI, TAU};

/// Names of the value fields.
pub const FIELD_NAMES: &[&str] = &[
    "plasma",
    "sinefield",
    "smooth_noise",
    "rings",
    "spiral",
    "tunnel",
    "vortex",
    "interference",
    "aurora",
    "ripple",
    "diamond",
    "noise",
    "fbm",
    "domain_warp",
    "voronoi",
    "reaction_diffusion",
    "life",
    "sdf",
    "static",
    "gradient",
];

/// SDF shapes of the `sdf` field.
pub const SDF_SHAPES: &[&str] = &[
    "circle", "box", "ring", "star", "heart", "triangle", "cross",
];
/// Voronoi output modes.
pub const VORONOI_MODES: &[&str] = &["distance", "edge", "cell"];
/// SDF rendering modes.
pub const SDF_MODES: &[&str] = &["glow", "fill"];
/// Cellular automaton rules of the `life` field: (name, birth, survive) as bit sets of counts.
pub const LIFE_RULES: &[&str] = &["life", "coral", "maze", "anneal", "day_night"];
/// Gray-Scott presets of `reaction_diffusion`: (name, feed, kill).
pub const RD_PRESETS: &[(&str, f32, f32)] = &[
    ("spots", 0.055, 0.062),
    ("worms", 0.046, 0.063),
    ("coral", 0.037, 0.060),
    ("mitosis", 0.028, 0.062),
    ("labyrinth", 0.029, 0.057),
    ("holes", 0.039, 0.058),
    ("chaos", 0.026, 0.051),
];
/// Names of the Gray-Scott presets.
pub const RD_PRESET_NAMES: &[&str] = &[
    "spots",
    "worms",
    "coral",
    "mitosis",
    "labyrinth",
    "holes",
    "chaos",
];

fn rule_bits(name: &str) -> (u16, u16) {
    let bits = |s: &[u16]| s.iter().fold(0u16, |a, &n| a | (1 << n));
    match name {
        "coral" => (bits(&[3]), bits(&[4, 5, 6, 7, 8])),
        "maze" => (bits(&[3]), bits(&[1, 2, 3, 4, 5])),
        "anneal" => (bits(&[4, 6, 7, 8]), bits(&[3, 5, 6, 7, 8])),
        "day_night" => (bits(&[3, 6, 7, 8]), bits(&[3, 4, 6, 7, 8])),
        _ => (bits(&[3]), bits(&[2, 3])),
    }
}

/// Per-cell coordinates a field reads (frame units).
#[derive(Debug, Clone, Copy)]
pub struct Coords<'a> {
    /// x per cell.
    pub x: &'a [f32],
    /// y per cell.
    pub y: &'a [f32],
    /// Distance from the centre per cell.
    pub r: &'a [f32],
    /// Angle per cell (radians).
    pub a: &'a [f32],
    /// Grid rows.
    pub rows: usize,
    /// Grid columns.
    pub cols: usize,
    /// Frame width / height.
    pub aspect: f32,
}

/// A configured value field.
#[derive(Debug, Clone)]
pub struct Field {
    /// Which field (an entry of [`FIELD_NAMES`]).
    pub name: &'static str,
    /// Spatial frequency multiplier.
    pub scale: f32,
    /// Count (rings, spiral arms, tunnel sectors, voronoi points, ...); 0 = the field's default.
    pub count: f32,
    /// Octaves of noise fields.
    pub octaves: u32,
    /// Strength (domain warp, vortex twist, ripple damping ...).
    pub strength: f32,
    /// Variant: voronoi mode, sdf shape, life rule, reaction-diffusion preset.
    pub variant: String,
    /// Secondary variant: sdf mode (`glow`/`fill`).
    pub mode: String,
    /// Simulation steps per frame (reaction-diffusion) or generations per second (life).
    pub steps: f32,
    /// Seed of hashed lattices and initial states.
    pub seed: u32,
    state: State,
}

#[derive(Debug, Clone, Default)]
enum State {
    #[default]
    None,
    Rd {
        a: Vec<f32>,
        b: Vec<f32>,
        na: Vec<f32>,
        nb: Vec<f32>,
    },
    Life {
        cells: Vec<u8>,
        next: Vec<u8>,
        shown: Vec<f32>,
        acc: f32,
    },
}

impl Field {
    /// A field called `name` (must be in [`FIELD_NAMES`]; unknown names fall back to `plasma`).
    pub fn new(name: &str, seed: u32) -> Field {
        let name = FIELD_NAMES
            .iter()
            .copied()
            .find(|n| *n == name)
            .unwrap_or("plasma");
        Field {
            name,
            scale: 1.0,
            count: 0.0,
            octaves: 5,
            strength: 1.0,
            variant: String::new(),
            mode: String::new(),
            steps: 0.0,
            seed,
            state: State::None,
        }
    }

    /// Whether the field carries state between frames (must be stepped in frame order).
    pub fn is_stateful(&self) -> bool {
        matches!(self.name, "reaction_diffusion" | "life")
    }

    /// Forgets the simulation state (the next [`Field::eval`] starts from the initial state).
    pub fn reset(&mut self) {
        self.state = State::None;
    }

    fn cnt(&self, default: f32) -> f32 {
        if self.count > 0.0 {
            self.count
        } else {
            default
        }
    }

    /// Writes the field at field time `t` (seconds, already scaled by speed) for frame `frame`
    /// (`dt` seconds per frame) into `out` (`rows * cols`, values in `[0, 1]`).
    pub fn eval(&mut self, c: &Coords, t: f32, frame: u32, dt: f32, out: &mut [f32]) {
        let n = c.rows * c.cols;
        let out = &mut out[..n];
        let s = self.scale;
        let per = |out: &mut [f32], f: &dyn Fn(f32, f32, f32, f32) -> f32| {
            for (i, o) in out.iter_mut().enumerate() {
                *o = f(c.x[i], c.y[i], c.r[i], c.a[i]).clamp(0.0, 1.0);
            }
        };
        match self.name {
            "plasma" => per(out, &|x, y, r, _| {
                let v = 0.5 * fsin(3.0 * s * x + 0.7 * t)
                    + 0.4 * fsin(4.0 * s * y - 0.5 * t)
                    + 0.3 * fsin(2.1 * s * x + 2.4 * s * y + 0.3 * t)
                    + 0.3 * fsin(6.0 * s * r - 0.8 * t);
                v * 0.33 + 0.5
            }),
            "sinefield" => per(out, &|x, y, r, _| {
                let a = fsin(4.0 * s * x + t) * fsin(4.0 * s * y - 0.7 * t);
                let b = fsin(3.0 * s * (x + y) + 1.3 * t);
                let d = fsin(8.0 * s * r - 2.0 * t);
                0.5 + (0.45 * a + 0.3 * b + 0.3 * d) * 0.6 * (0.6 + 0.6 * 0.3) / 0.78
            }),
            "smooth_noise" => per(out, &|x, y, _, _| {
                let mut v = 0.0;
                let mut f = 1.5 * s;
                for i in 0..4 {
                    let amp = 0.5 / (i as f32 + 1.0);
                    v += amp
                        * fsin(x * f + t * 0.4 * (i as f32 + 1.0))
                        * fcos(0.7 * y * f - 0.3 * t);
                    f *= 2.0;
                }
                0.5 + v * 0.9
            }),
            "rings" => {
                let k = self.cnt(6.0) * s;
                per(out, &|_, _, r, a| {
                    let wob = 0.15 * fsin(3.0 * a + 4.0 * 0.3 * t);
                    let v = 0.5 + 0.5 * fcos(TAU * (r * k - 0.5 * t) + wob);
                    v * v * (1.0 - 0.25 * r)
                })
            }
            "spiral" => {
                let arms = self.cnt(3.0).round();
                let tight = 2.5 * s;
                per(out, &|_, _, r, a| {
                    let v = 0.5 + 0.5 * fcos(arms * a - tight * TAU * (r + 0.05).ln() + 1.6 * t);
                    v * (1.0 - 0.35 * r).max(0.2)
                })
            }
            "tunnel" => {
                let k = self.cnt(6.0).round();
                per(out, &|_, _, r, a| {
                    let d = 1.0 / (r + 0.1);
                    let v = 0.5
                        + 0.25 * fsin(2.0 * s * d - 2.0 * t)
                        + 0.25 * fsin(k * a + 1.5 * d - 2.0 * t);
                    v * (r * 3.0).min(1.0)
                })
            }
            "vortex" => {
                let twist = 3.0 * self.strength;
                per(out, &|_, _, r, a| {
                    let a2 = a + r * twist * (2.0 + fsin(0.5 * t));
                    0.5 + 0.5
                        * fsin(4.0 * a2 + 3.0 * s * r - 2.0 * t)
                        * (0.6 + 0.4 * (1.0 - r).max(0.0))
                })
            }
            "interference" => {
                let k = 6.0 * s;
                let waves = self.cnt(5.0).max(1.0) as usize;
                let dirs: Vec<(f32, f32, f32)> = (0..waves)
                    .map(|i| {
                        let th = i as f32 * PI / waves as f32 + 0.05 * t;
                        (fcos(th) * k, fsin(th) * k, (1.0 + 0.3 * i as f32) * t)
                    })
                    .collect();
                let norm = 1.4 / waves as f32;
                per(out, &|x, y, _, _| {
                    let mut v = 0.0;
                    for &(kx, ky, w) in &dirs {
                        v += fsin(kx * x + ky * y - w);
                    }
                    0.5 + 0.5 * v * norm
                })
            }
            "aurora" => per(out, &|x, y, _, _| {
                let mut v = 0.0f32;
                for i in 0..3 {
                    let fi = i as f32;
                    let yc = -0.45
                        + 0.32 * fi
                        + 0.18 * fsin(1.5 * s * x + 0.4 * t + fi * 2.1)
                        + 0.06 * fsin(5.0 * s * x - t + fi);
                    let d = (y - yc) * 5.0;
                    let band = (-d * d).exp();
                    v += band * (0.55 + 0.45 * fsin(9.0 * s * x + 1.3 * t + fi * 1.7));
                }
                v * 0.9 + 0.08 * (0.5 + 0.5 * fsin(2.0 * x - 0.3 * t))
            }),
            "ripple" => {
                let damp = 1.5 * self.strength;
                let freq = 14.0 * s;
                let drops: Vec<(f32, f32)> = (0..self.cnt(3.0).max(1.0) as i32)
                    .map(|i| {
                        let fi = i as f32;
                        (
                            0.8 * c.aspect * fsin(0.21 * t + fi * 2.3) * 0.6,
                            0.6 * fcos(0.17 * t + fi * 1.7),
                        )
                    })
                    .collect();
                let norm = 1.0 / drops.len() as f32;
                per(out, &|x, y, _, _| {
                    let mut v = 0.0;
                    for &(px, py) in &drops {
                        let d = ((x - px) * (x - px) + (y - py) * (y - py)).sqrt();
                        v += fsin(d * freq - 4.0 * t) * (-d * damp).exp();
                    }
                    0.5 + 0.8 * v * norm
                })
            }
            "diamond" => per(out, &|x, y, _, _| {
                (fsin(5.0 * s * x + 0.5 * t).abs() * fsin(6.0 * s * y - 0.3 * t).abs()).sqrt()
            }),
            "noise" => {
                let seed = self.seed;
                per(out, &|x, y, _, _| {
                    value_noise(3.0 * s * x + 0.2 * t, 3.0 * s * y - 0.1 * t, seed)
                })
            }
            "fbm" => {
                let (seed, oct) = (self.seed, self.octaves);
                per(out, &|x, y, _, _| {
                    let v = fbm(
                        2.0 * s * x + 0.15 * t,
                        2.0 * s * 0.85 * y - 0.1 * t,
                        oct,
                        seed,
                    );
                    ((v - 0.5) * 1.8 + 0.5) * (0.6 + 0.6 * 0.3) / 0.78
                })
            }
            "domain_warp" => {
                let (seed, st) = (self.seed, self.strength * 1.6);
                per(out, &|x, y, _, _| {
                    let (px, py) = (1.6 * s * x, 1.6 * s * y);
                    let qx = fbm(px + 0.1 * t, py, 3, seed ^ 0x51);
                    let qy = fbm(px + 5.2, py + 1.3 - 0.12 * t, 3, seed ^ 0xA7);
                    let v = fbm(
                        px + st * (qx - 0.5) * 4.0,
                        py + st * (qy - 0.5) * 4.0,
                        4,
                        seed,
                    );
                    (v - 0.5) * 2.0 + 0.5
                })
            }
            "voronoi" => self.voronoi(c, t, out),
            "reaction_diffusion" => self.reaction_diffusion(c, out),
            "life" => self.life(c, frame, dt, out),
            "sdf" => self.sdf(c, t, out),
            "static" => {
                let seed = self.seed ^ hash2(frame as i32, 7, 0x5747_4943);
                let density = self.strength.clamp(0.0, 1.0);
                for (i, o) in out.iter_mut().enumerate() {
                    let h = hash01(i as i32, 0, seed);
                    *o = if h < density {
                        h / density.max(1e-6)
                    } else {
                        0.0
                    };
                }
            }
            "gradient" => per(out, &|x, y, _, _| {
                let th = 0.15 * t;
                let u = x * fcos(th) + y * fsin(th);
                0.55 + 0.35 * fsin(1.2 * s * u + 0.3 * t)
            }),
            _ => out.fill(0.5),
        }
    }

    fn voronoi(&self, c: &Coords, t: f32, out: &mut [f32]) {
        let n = self.cnt(12.0).clamp(2.0, 64.0) as usize;
        let mut rng = Rng::new(u64::from(self.seed) ^ 0x766F_726F);
        let pts: Vec<(f32, f32)> = (0..n)
            .map(|_| {
                let bx = rng.range_f32(-c.aspect, c.aspect);
                let by = rng.range_f32(-1.0, 1.0);
                let ph = rng.range_f32(0.0, TAU);
                let sp = rng.range_f32(0.2, 0.6);
                (
                    bx + 0.3 * fsin(sp * t + ph),
                    by + 0.3 * fcos(0.8 * sp * t + 1.3 * ph),
                )
            })
            .collect();
        let s = self.scale;
        let mode = self.variant.as_str();
        for (i, o) in out.iter_mut().enumerate() {
            let (x, y) = (c.x[i] * s, c.y[i] * s);
            let (mut d1, mut d2, mut id) = (f32::MAX, f32::MAX, 0usize);
            for (k, &(px, py)) in pts.iter().enumerate() {
                let d = (x - px) * (x - px) + (y - py) * (y - py);
                if d < d1 {
                    d2 = d1;
                    d1 = d;
                    id = k;
                } else if d < d2 {
                    d2 = d;
                }
            }
            let (d1, d2) = (d1.sqrt(), d2.sqrt());
            *o = match mode {
                "edge" => 1.0 - ((d2 - d1) / 0.12).clamp(0.0, 1.0),
                "cell" => 0.25 + 0.75 * hash01(id as i32, 3, self.seed),
                _ => (1.0 - d1 * 1.6).clamp(0.0, 1.0),
            };
        }
    }

    fn reaction_diffusion(&mut self, c: &Coords, out: &mut [f32]) {
        let (rows, cols) = (c.rows, c.cols);
        let n = rows * cols;
        if n == 0 {
            return;
        }
        if !matches!(self.state, State::Rd { .. }) {
            let mut a = vec![1.0f32; n];
            let mut b = vec![0.0f32; n];
            let mut rng = Rng::new(u64::from(self.seed) ^ 0x7264);
            let spots = (n / 80).clamp(4, 200);
            for _ in 0..spots {
                let r0 = rng.below(rows as u32) as usize;
                let c0 = rng.below(cols as u32) as usize;
                for dr in 0..4 {
                    for dc in 0..4 {
                        let i = ((r0 + dr) % rows) * cols + (c0 + dc) % cols;
                        a[i] = 0.5;
                        b[i] = 1.0;
                    }
                }
            }
            self.state = State::Rd {
                na: a.clone(),
                nb: b.clone(),
                a,
                b,
            };
        }
        let (feed, kill) = RD_PRESETS
            .iter()
            .find(|p| p.0 == self.variant)
            .map_or((0.055, 0.062), |p| (p.1, p.2));
        let steps = if self.steps > 0.0 {
            self.steps as usize
        } else {
            8
        };
        let State::Rd { a, b, na, nb } = &mut self.state else {
            return;
        };
        for _ in 0..steps {
            for r in 0..rows {
                let up = ((r + rows - 1) % rows) * cols;
                let dn = ((r + 1) % rows) * cols;
                let me = r * cols;
                for col in 0..cols {
                    let l = (col + cols - 1) % cols;
                    let rr = (col + 1) % cols;
                    let i = me + col;
                    let lap = |v: &[f32]| {
                        0.2 * (v[up + col] + v[dn + col] + v[me + l] + v[me + rr])
                            + 0.05 * (v[up + l] + v[up + rr] + v[dn + l] + v[dn + rr])
                            - v[i]
                    };
                    let (av, bv) = (a[i], b[i]);
                    let abb = av * bv * bv;
                    na[i] = (av + (lap(a) - abb + feed * (1.0 - av))).clamp(0.0, 1.0);
                    nb[i] = (bv + (0.5 * lap(b) + abb - (kill + feed) * bv)).clamp(0.0, 1.0);
                }
            }
            std::mem::swap(a, na);
            std::mem::swap(b, nb);
        }
        for (o, &bv) in out.iter_mut().zip(b.iter()) {
            *o = (bv * 2.5).clamp(0.0, 1.0);
        }
    }

    fn life(&mut self, c: &Coords, frame: u32, dt: f32, out: &mut [f32]) {
        let (rows, cols) = (c.rows, c.cols);
        let n = rows * cols;
        if n == 0 {
            return;
        }
        if !matches!(self.state, State::Life { .. }) {
            let mut rng = Rng::new(u64::from(self.seed) ^ 0x6C69_6665);
            let cells: Vec<u8> = (0..n).map(|_| u8::from(rng.next_f32() < 0.3)).collect();
            self.state = State::Life {
                next: cells.clone(),
                shown: cells.iter().map(|&v| f32::from(v)).collect(),
                cells,
                acc: 0.0,
            };
        }
        let (birth, survive) = rule_bits(&self.variant);
        let rate = if self.steps > 0.0 { self.steps } else { 10.0 };
        let seed = self.seed;
        let State::Life {
            cells,
            next,
            shown,
            acc,
        } = &mut self.state
        else {
            return;
        };
        *acc += rate * dt;
        let mut gens = 0;
        while *acc >= 1.0 && gens < 8 {
            *acc -= 1.0;
            gens += 1;
            for r in 0..rows {
                let up = ((r + rows - 1) % rows) * cols;
                let dn = ((r + 1) % rows) * cols;
                let me = r * cols;
                for col in 0..cols {
                    let l = (col + cols - 1) % cols;
                    let rr = (col + 1) % cols;
                    let k = cells[up + l]
                        + cells[up + col]
                        + cells[up + rr]
                        + cells[me + l]
                        + cells[me + rr]
                        + cells[dn + l]
                        + cells[dn + col]
                        + cells[dn + rr];
                    let alive = cells[me + col] == 1;
                    let bit = 1u16 << k;
                    next[me + col] = u8::from(if alive {
                        survive & bit != 0
                    } else {
                        birth & bit != 0
                    });
                }
            }
            std::mem::swap(cells, next);
        }
        // Keep it alive: a sprinkle of random births every second (the digest's births on beats).
        let fps = (1.0 / dt.max(1e-6)).round().max(1.0) as u32;
        if frame % fps == fps - 1 {
            let live = cells.iter().filter(|&&v| v == 1).count();
            let p = if live * 20 < n { 0.08 } else { 0.02 };
            for (i, v) in cells.iter_mut().enumerate() {
                if hash01(i as i32, frame as i32, seed) < p {
                    *v = 1;
                }
            }
        }
        for ((o, sh), &v) in out.iter_mut().zip(shown.iter_mut()).zip(cells.iter()) {
            *sh = if v == 1 { 1.0 } else { *sh * 0.92 };
            *o = *sh;
        }
    }

    fn sdf(&self, c: &Coords, t: f32, out: &mut [f32]) {
        let s = self.scale.max(1e-3);
        let th = 0.25 * t;
        let (ct, st) = (fcos(th), fsin(th));
        let shape = if self.variant.is_empty() {
            "ring"
        } else {
            self.variant.as_str()
        };
        let glow = self.mode != "fill";
        let breathe = 1.0 + 0.08 * fsin(1.3 * t);
        let k = self.strength.max(0.05) * 6.0;
        for (i, o) in out.iter_mut().enumerate() {
            let (x0, y0) = (c.x[i] * s / breathe, c.y[i] * s / breathe);
            let x = x0 * ct - y0 * st;
            let y = x0 * st + y0 * ct;
            let d = match shape {
                "circle" => (x * x + y * y).sqrt() - 0.5,
                "box" => {
                    let qx = x.abs() - 0.5;
                    let qy = y.abs() - 0.32;
                    let ox = qx.max(0.0);
                    let oy = qy.max(0.0);
                    (ox * ox + oy * oy).sqrt() + qx.max(qy).min(0.0) - 0.05
                }
                "star" => {
                    let r = (x * x + y * y).sqrt();
                    let a = y.atan2(x);
                    r - 0.45 * (1.0 + 0.35 * fcos(5.0 * a))
                }
                "heart" => {
                    let (hx, hy) = (x * 1.2, -y * 1.2 + 0.25);
                    let q = hx * hx + hy * hy - 0.25;
                    (q * q * q - hx * hx * hy * hy * hy).cbrt() * 1.5
                }
                "triangle" => {
                    let k3 = 3f32.sqrt();
                    let mut px = x.abs() - 0.5;
                    let mut py = -y + 0.5 / k3;
                    if px + k3 * py > 0.0 {
                        let nx = (px - k3 * py) / 2.0;
                        let ny = (-k3 * px - py) / 2.0;
                        px = nx;
                        py = ny;
                    }
                    px -= px.clamp(-1.0, 0.0);
                    -(px * px + py * py).sqrt() * py.signum()
                }
                "cross" => {
                    let (ax, ay) = (x.abs(), y.abs());
                    let a = (ax - 0.55).max(ay - 0.12);
                    let b = (ax - 0.12).max(ay - 0.55);
                    a.min(b)
                }
                _ => ((x * x + y * y).sqrt() - 0.55).abs() - 0.08,
            };
            *o = if glow {
                (-d.abs() * k).exp()
            } else {
                (1.0 - d / 0.04).clamp(0.0, 1.0) * 0.9
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::grid::Grid;

    #[test]
    fn every_field_stays_in_range_and_varies() {
        let g = Grid::new(10.0, 1.0, 200, 120);
        let c = Coords {
            x: &g.xn,
            y: &g.yn,
            r: &g.rn,
            a: &g.an,
            rows: g.rows,
            cols: g.cols,
            aspect: g.aspect,
        };
        let mut out = vec![0.0; g.cells()];
        for name in FIELD_NAMES {
            let mut f = Field::new(name, 7);
            for frame in 0..30 {
                f.eval(&c, frame as f32 / 24.0, frame, 1.0 / 24.0, &mut out);
                assert!(out.iter().all(|v| (0.0..=1.0).contains(v)), "{name}");
            }
            let (lo, hi) = out
                .iter()
                .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
            assert!(hi - lo > 0.05, "{name}: flat field {lo}..{hi}");
        }
    }
}
