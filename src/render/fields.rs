//! Value fields (section 4 of the Python reference pipeline's docs): per-cell values in `[0, 1]`
//! from cell coordinates and time, computed per cell (`rows * cols`), never per pixel.
//!
//! Coordinates are frame units (the frame's height spans -1..1; see `Grid::xn`), optionally moved
//! by a UV transform first, so a field looks the same on every grid; `scale` multiplies the
//! spatial frequencies and `speed` the time. Audio features are not wired into the renderer yet:
//! where the reference pipeline's formulas read a feature, a constant 0.3 (its default) is used.
//!
//! Two fields carry state from frame to frame and are stepped once per frame, in order:
//! `reaction_diffusion` (Gray-Scott) and `life` (cellular automata). They live on the grid's
//! lattice and ignore UV transforms.
//!
//! `attractor` (a strange attractor, [`crate::render::attractor`]) carries no state: each frame
//! iterates a seeded cloud afresh, bins it on a lattice of the grid's size over the frame and
//! reads that lattice at each cell's coordinates (so UV transforms move, tile or mirror it).

use crate::render::attractor::{Attractor, AttractorKind};
use crate::render::fastmath::{fbm, fcos, fsin, hash01, hash2, value_noise};
use crate::render::params::{Params, vocab};
use crate::render::rng::Rng;
use serde::{Deserialize, Serialize};
use std::f32::consts::{PI, TAU};

vocab! {
    /// Value fields.
    pub enum FieldKind {
        Plasma = "plasma",
        Sinefield = "sinefield",
        SmoothNoise = "smooth_noise",
        Rings = "rings",
        Spiral = "spiral",
        Tunnel = "tunnel",
        Vortex = "vortex",
        Interference = "interference",
        Aurora = "aurora",
        Ripple = "ripple",
        Diamond = "diamond",
        Noise = "noise",
        Fbm = "fbm",
        DomainWarp = "domain_warp",
        Voronoi = "voronoi",
        ReactionDiffusion = "reaction_diffusion",
        Life = "life",
        Sdf = "sdf",
        Static = "static",
        Gradient = "gradient",
        Attractor = "attractor",
    }
}

vocab! {
    /// Shapes of the `sdf` field.
    pub enum SdfShape {
        Circle = "circle",
        Box = "box",
        Ring = "ring",
        Star = "star",
        Heart = "heart",
        Triangle = "triangle",
        Cross = "cross",
    }
}

vocab! {
    /// Output modes of the `voronoi` field.
    pub enum VoronoiMode {
        /// Distance to the nearest point.
        Distance = "distance",
        /// Bright edges between cells.
        Edge = "edge",
        /// A flat hashed value per cell.
        Cell = "cell",
    }
}

vocab! {
    /// Rendering modes of the `sdf` field.
    pub enum SdfMode {
        /// A glow around the outline.
        Glow = "glow",
        /// The filled shape.
        Fill = "fill",
    }
}

vocab! {
    /// Cellular automaton rules of the `life` field.
    pub enum LifeRule {
        /// B3/S23.
        Life = "life",
        /// B3/S45678.
        Coral = "coral",
        /// B3/S12345.
        Maze = "maze",
        /// B4678/S35678.
        Anneal = "anneal",
        /// B3678/S34678.
        DayNight = "day_night",
    }
}

impl LifeRule {
    /// (birth, survive) as bit sets of neighbour counts.
    pub fn bits(self) -> (u16, u16) {
        let bits = |s: &[u16]| s.iter().fold(0u16, |a, &n| a | (1 << n));
        match self {
            LifeRule::Coral => (bits(&[3]), bits(&[4, 5, 6, 7, 8])),
            LifeRule::Maze => (bits(&[3]), bits(&[1, 2, 3, 4, 5])),
            LifeRule::Anneal => (bits(&[4, 6, 7, 8]), bits(&[3, 5, 6, 7, 8])),
            LifeRule::DayNight => (bits(&[3, 6, 7, 8]), bits(&[3, 4, 6, 7, 8])),
            LifeRule::Life => (bits(&[3]), bits(&[2, 3])),
        }
    }
}

vocab! {
    /// Gray-Scott presets of `reaction_diffusion`.
    pub enum RdPreset {
        Spots = "spots",
        Worms = "worms",
        Coral = "coral",
        Mitosis = "mitosis",
        Labyrinth = "labyrinth",
        Holes = "holes",
        Chaos = "chaos",
    }
}

impl RdPreset {
    /// (feed, kill).
    pub fn feed_kill(self) -> (f32, f32) {
        match self {
            RdPreset::Spots => (0.055, 0.062),
            RdPreset::Worms => (0.046, 0.063),
            RdPreset::Coral => (0.037, 0.060),
            RdPreset::Mitosis => (0.028, 0.062),
            RdPreset::Labyrinth => (0.029, 0.057),
            RdPreset::Holes => (0.039, 0.058),
            RdPreset::Chaos => (0.026, 0.051),
        }
    }
}

/// The field parameters of a layer (the layer's table lists them among its own).
pub mod param {
    use super::{FieldKind, LifeRule, RdPreset, SdfMode, SdfShape, VoronoiMode};
    use crate::render::attractor::AttractorKind;
    use crate::render::params::{Dflt, Kind, ParamSpec, int, num, num_pos, p};

    /// `field`.
    pub const FIELD: ParamSpec = p(
        "field",
        Kind::Choice(FieldKind::NAMES),
        Dflt::Word("plasma"),
        "value field",
    );
    /// `scale`.
    pub const SCALE: ParamSpec = p(
        "scale",
        num_pos(50.0),
        Dflt::Num(1.0),
        "spatial frequency multiplier",
    );
    /// `count`.
    pub const COUNT: ParamSpec = p(
        "count",
        num(0.0, 200.0),
        Dflt::Auto(0.0, "field default"),
        "rings, arms, sectors, waves, voronoi points ...",
    );
    /// `octaves`.
    pub const OCTAVES: ParamSpec = p("octaves", int(1.0, 8.0), Dflt::Num(5.0), "noise octaves");
    /// `strength`.
    pub const STRENGTH: ParamSpec = p(
        "strength",
        num(0.0, 10.0),
        Dflt::Num(1.0),
        "warp strength, twist, glow falloff, static density ...",
    );
    /// `shape`.
    pub const SHAPE: ParamSpec = p(
        "shape",
        Kind::Choice(SdfShape::NAMES),
        Dflt::Word("ring"),
        "sdf: the shape",
    );
    /// `sdf`.
    pub const SDF: ParamSpec = p(
        "sdf",
        Kind::Choice(SdfMode::NAMES),
        Dflt::Word("glow"),
        "sdf: glow or fill",
    );
    /// `mode`.
    pub const MODE: ParamSpec = p(
        "mode",
        Kind::Choice(VoronoiMode::NAMES),
        Dflt::Word("distance"),
        "voronoi: distance, edge or cell",
    );
    /// `rule`.
    pub const RULE: ParamSpec = p(
        "rule",
        Kind::Choice(LifeRule::NAMES),
        Dflt::Word("life"),
        "life: the automaton rule",
    );
    /// `preset`.
    pub const PRESET: ParamSpec = p(
        "preset",
        Kind::Choice(RdPreset::NAMES),
        Dflt::Word("spots"),
        "reaction_diffusion: feed/kill preset",
    );
    /// `steps`.
    pub const STEPS: ParamSpec = p(
        "steps",
        num(0.0, 64.0),
        Dflt::Auto(0.0, "8 (rd) / 10 (life) / 64 (attractor)"),
        "rd: steps per frame; life: generations per second; attractor: binned iterations per point",
    );
    /// `attractor`.
    pub const ATTRACTOR: ParamSpec = p(
        "attractor",
        Kind::Choice(AttractorKind::NAMES),
        Dflt::Word("clifford"),
        "attractor: the map",
    );
    /// `jolt`.
    pub const JOLT: ParamSpec = p(
        "jolt",
        num(0.0, 1.0),
        Dflt::Num(0.0),
        "attractor: a kick of its parameters (bind it: {on: beat, range: [0, 1], smooth: 0.8})",
    );
}

/// A layer's field as the plan gives it, with every default filled in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FieldSpec {
    /// Which field.
    pub kind: FieldKind,
    /// Spatial frequency multiplier.
    pub scale: f64,
    /// Count (0 = the field's default).
    pub count: f64,
    /// Noise octaves.
    pub octaves: f64,
    /// Strength.
    pub strength: f64,
    /// `sdf` shape.
    pub shape: SdfShape,
    /// `sdf` mode.
    pub sdf: SdfMode,
    /// `voronoi` mode.
    pub mode: VoronoiMode,
    /// `life` rule.
    pub rule: LifeRule,
    /// `reaction_diffusion` preset.
    pub preset: RdPreset,
    /// Steps per frame / generations per second / attractor iterations (0 = the field's
    /// default).
    pub steps: f64,
    /// `attractor` map.
    pub attractor: AttractorKind,
    /// `attractor` jolt.
    pub jolt: f64,
}

impl FieldSpec {
    /// Reads the field keys of validated layer params.
    pub fn parse(p: &Params) -> FieldSpec {
        use param::*;
        FieldSpec {
            kind: FIELD.choice(p),
            scale: SCALE.num(p),
            count: COUNT.num(p),
            octaves: OCTAVES.num(p),
            strength: STRENGTH.num(p),
            shape: SHAPE.choice(p),
            sdf: SDF.choice(p),
            mode: MODE.choice(p),
            rule: RULE.choice(p),
            preset: PRESET.choice(p),
            steps: STEPS.num(p),
            attractor: ATTRACTOR.choice(p),
            jolt: JOLT.num(p),
        }
    }

    /// The configured field, seeded with `seed`.
    pub fn build(&self, seed: u32) -> Field {
        let mut f = Field::new(self.kind, seed);
        self.apply(&mut f);
        f
    }

    /// Writes the settings into `f` (a field of the same kind), keeping its state: for a
    /// bound parameter that changes from frame to frame.
    pub fn apply(&self, f: &mut Field) {
        f.scale = self.scale as f32;
        f.count = self.count as f32;
        f.octaves = self.octaves as u32;
        f.strength = self.strength as f32;
        f.steps = self.steps as f32;
        f.shape = self.shape;
        f.sdf = self.sdf;
        f.mode = self.mode;
        f.rule = self.rule;
        f.preset = self.preset;
        f.attractor = self.attractor;
        f.jolt = self.jolt as f32;
    }
}

impl Default for FieldSpec {
    /// Every parameter at its default.
    fn default() -> Self {
        FieldSpec::parse(&Params::new())
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
    /// Which field.
    pub kind: FieldKind,
    /// Spatial frequency multiplier.
    pub scale: f32,
    /// Count (rings, spiral arms, tunnel sectors, voronoi points, ...); 0 = the field's default.
    pub count: f32,
    /// Octaves of noise fields.
    pub octaves: u32,
    /// Strength (domain warp, vortex twist, ripple damping ...).
    pub strength: f32,
    /// `voronoi` output mode.
    pub mode: VoronoiMode,
    /// `sdf` shape.
    pub shape: SdfShape,
    /// `sdf` rendering mode.
    pub sdf: SdfMode,
    /// `life` rule.
    pub rule: LifeRule,
    /// `reaction_diffusion` preset.
    pub preset: RdPreset,
    /// Simulation steps per frame (reaction-diffusion), generations per second (life) or binned
    /// iterations per point (attractor).
    pub steps: f32,
    /// `attractor` map.
    pub attractor: AttractorKind,
    /// `attractor` kick (0..1).
    pub jolt: f32,
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
    /// Scratch of the attractor (nothing carried between frames).
    Attractor {
        attractor: Box<Attractor>,
        lattice: Vec<f32>,
    },
}

impl Field {
    /// A field of `kind` with every setting at its default.
    pub fn new(kind: FieldKind, seed: u32) -> Field {
        Field {
            kind,
            scale: 1.0,
            count: 0.0,
            octaves: 5,
            strength: 1.0,
            mode: VoronoiMode::Distance,
            shape: SdfShape::Ring,
            sdf: SdfMode::Glow,
            rule: LifeRule::Life,
            preset: RdPreset::Spots,
            steps: 0.0,
            attractor: AttractorKind::Clifford,
            jolt: 0.0,
            seed,
            state: State::None,
        }
    }

    /// Whether the field carries state between frames (must be stepped in frame order).
    pub fn is_stateful(&self) -> bool {
        matches!(self.kind, FieldKind::ReactionDiffusion | FieldKind::Life)
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
        use FieldKind as K;
        match self.kind {
            K::Plasma => per(out, &|x, y, r, _| {
                let v = 0.5 * fsin(3.0 * s * x + 0.7 * t)
                    + 0.4 * fsin(4.0 * s * y - 0.5 * t)
                    + 0.3 * fsin(2.1 * s * x + 2.4 * s * y + 0.3 * t)
                    + 0.3 * fsin(6.0 * s * r - 0.8 * t);
                v * 0.33 + 0.5
            }),
            K::Sinefield => per(out, &|x, y, r, _| {
                let a = fsin(4.0 * s * x + t) * fsin(4.0 * s * y - 0.7 * t);
                let b = fsin(3.0 * s * (x + y) + 1.3 * t);
                let d = fsin(8.0 * s * r - 2.0 * t);
                0.5 + (0.45 * a + 0.3 * b + 0.3 * d) * 0.6 * (0.6 + 0.6 * 0.3) / 0.78
            }),
            K::SmoothNoise => per(out, &|x, y, _, _| {
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
            K::Rings => {
                let k = self.cnt(6.0) * s;
                per(out, &|_, _, r, a| {
                    let wob = 0.15 * fsin(3.0 * a + 4.0 * 0.3 * t);
                    let v = 0.5 + 0.5 * fcos(TAU * (r * k - 0.5 * t) + wob);
                    v * v * (1.0 - 0.25 * r)
                })
            }
            K::Spiral => {
                let arms = self.cnt(3.0).round();
                let tight = 2.5 * s;
                per(out, &|_, _, r, a| {
                    let v = 0.5 + 0.5 * fcos(arms * a - tight * TAU * (r + 0.05).ln() + 1.6 * t);
                    v * (1.0 - 0.35 * r).max(0.2)
                })
            }
            K::Tunnel => {
                let k = self.cnt(6.0).round();
                per(out, &|_, _, r, a| {
                    let d = 1.0 / (r + 0.1);
                    let v = 0.5
                        + 0.25 * fsin(2.0 * s * d - 2.0 * t)
                        + 0.25 * fsin(k * a + 1.5 * d - 2.0 * t);
                    v * (r * 3.0).min(1.0)
                })
            }
            K::Vortex => {
                let twist = 3.0 * self.strength;
                per(out, &|_, _, r, a| {
                    let a2 = a + r * twist * (2.0 + fsin(0.5 * t));
                    0.5 + 0.5
                        * fsin(4.0 * a2 + 3.0 * s * r - 2.0 * t)
                        * (0.6 + 0.4 * (1.0 - r).max(0.0))
                })
            }
            K::Interference => {
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
            K::Aurora => per(out, &|x, y, _, _| {
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
            K::Ripple => {
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
            K::Diamond => per(out, &|x, y, _, _| {
                (fsin(5.0 * s * x + 0.5 * t).abs() * fsin(6.0 * s * y - 0.3 * t).abs()).sqrt()
            }),
            K::Noise => {
                let seed = self.seed;
                per(out, &|x, y, _, _| {
                    value_noise(3.0 * s * x + 0.2 * t, 3.0 * s * y - 0.1 * t, seed)
                })
            }
            K::Fbm => {
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
            K::DomainWarp => {
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
            K::Voronoi => self.voronoi(c, t, out),
            K::ReactionDiffusion => self.reaction_diffusion(c, out),
            K::Life => self.life(c, frame, dt, out),
            K::Sdf => self.sdf(c, t, out),
            K::Attractor => self.attractor(c, t, out),
            K::Static => {
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
            K::Gradient => per(out, &|x, y, _, _| {
                let th = 0.15 * t;
                let u = x * fcos(th) + y * fsin(th);
                0.55 + 0.35 * fsin(1.2 * s * u + 0.3 * t)
            }),
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
        let mode = self.mode;
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
                VoronoiMode::Edge => 1.0 - ((d2 - d1) / 0.12).clamp(0.0, 1.0),
                VoronoiMode::Cell => 0.25 + 0.75 * hash01(id as i32, 3, self.seed),
                VoronoiMode::Distance => (1.0 - d1 * 1.6).clamp(0.0, 1.0),
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
        let (feed, kill) = self.preset.feed_kill();
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
        let (birth, survive) = self.rule.bits();
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
        // Keep it alive: a sprinkle of random births every second (the reference pipeline's births
        // on beats).
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

    /// The attractor's density (see [`crate::render::attractor`]) binned on a lattice of the
    /// grid's size over the frame, read at each cell's (possibly UV-moved) coordinates.
    /// `strength` is the drift of its parameters, `scale` shrinks it, `count` is thousands of
    /// points and `steps` the binned iterations per point.
    fn attractor(&mut self, c: &Coords, t: f32, out: &mut [f32]) {
        let (rows, cols) = (c.rows, c.cols);
        let n = rows * cols;
        let kind = self.attractor;
        if !matches!(&self.state, State::Attractor { attractor, .. } if attractor.kind == kind) {
            self.state = State::Attractor {
                attractor: Box::new(Attractor::new(kind, u64::from(self.seed))),
                lattice: Vec::new(),
            };
        }
        let State::Attractor {
            attractor: a,
            lattice,
        } = &mut self.state
        else {
            return;
        };
        a.points = if self.count > 0.0 {
            (self.count * 1000.0).round().max(1.0) as usize
        } else {
            crate::render::attractor::DEFAULT_POINTS
        };
        a.iterations = if self.steps > 0.0 {
            self.steps.round().max(1.0) as usize
        } else {
            crate::render::attractor::DEFAULT_ITERATIONS
        };
        a.spread = self.strength;
        a.jolt = self.jolt.clamp(0.0, 1.0);
        a.scale = self.scale;
        lattice.resize(n, 0.0);
        let aspect = c.aspect.max(1e-3);
        a.density(t, rows, cols, aspect, lattice);
        let (fc, fr) = (cols as f32, rows as f32);
        let (sx, sy) = (fc / (2.0 * aspect), fr / 2.0);
        for (i, o) in out.iter_mut().enumerate() {
            let col = (c.x[i] + aspect) * sx;
            let row = (c.y[i] + 1.0) * sy;
            *o = if col >= 0.0 && row >= 0.0 && col < fc && row < fr {
                lattice[row as usize * cols + col as usize]
            } else {
                0.0
            };
        }
    }

    fn sdf(&self, c: &Coords, t: f32, out: &mut [f32]) {
        let s = self.scale.max(1e-3);
        let th = 0.25 * t;
        let (ct, st) = (fcos(th), fsin(th));
        let shape = self.shape;
        let glow = self.sdf != SdfMode::Fill;
        let breathe = 1.0 + 0.08 * fsin(1.3 * t);
        let k = self.strength.max(0.05) * 6.0;
        for (i, o) in out.iter_mut().enumerate() {
            let (x0, y0) = (c.x[i] * s / breathe, c.y[i] * s / breathe);
            let x = x0 * ct - y0 * st;
            let y = x0 * st + y0 * ct;
            let d = match shape {
                SdfShape::Circle => (x * x + y * y).sqrt() - 0.5,
                SdfShape::Box => {
                    let qx = x.abs() - 0.5;
                    let qy = y.abs() - 0.32;
                    let ox = qx.max(0.0);
                    let oy = qy.max(0.0);
                    (ox * ox + oy * oy).sqrt() + qx.max(qy).min(0.0) - 0.05
                }
                SdfShape::Star => {
                    let r = (x * x + y * y).sqrt();
                    let a = y.atan2(x);
                    r - 0.45 * (1.0 + 0.35 * fcos(5.0 * a))
                }
                SdfShape::Heart => {
                    let (hx, hy) = (x * 1.2, -y * 1.2 + 0.25);
                    let q = hx * hx + hy * hy - 0.25;
                    (q * q * q - hx * hx * hy * hy * hy).cbrt() * 1.5
                }
                SdfShape::Triangle => {
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
                SdfShape::Cross => {
                    let (ax, ay) = (x.abs(), y.abs());
                    let a = (ax - 0.55).max(ay - 0.12);
                    let b = (ax - 0.12).max(ay - 0.55);
                    a.min(b)
                }
                SdfShape::Ring => ((x * x + y * y).sqrt() - 0.55).abs() - 0.08,
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
        use strum::IntoEnumIterator;
        for name in FieldKind::iter() {
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
