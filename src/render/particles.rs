//! Particle systems (section 4 of the Python reference pipeline's docs), simulated per frame in
//! frame order on a grid's cell lattice (positions in cells), with a seeded generator: explosion,
//! embers, starfield, dissolve, orbit, flow and boids. The number alive is capped by the profile's
//! `particles_max`; when a spawn would exceed it, the oldest particles go first (the newest are
//! kept).
//!
//! Units: positions in cells, velocities in cells per frame at 24 fps (scaled by `24 / fps`, so a
//! clip moves the same in seconds at any frame rate). Audio features are constants (0.3); bursts
//! come every `every` seconds instead of on beats.

use crate::render::blend::CompSpec;
use crate::render::color::hsv2rgb;
use crate::render::fastmath::{fbm, fcos, fsin};
use crate::render::font::{BLANK, GlyphId};
use crate::render::grid::GridKey;
use crate::render::palette::{CharSet, PaletteName, ParticleSet};
use crate::render::params::{ParamSpec, Params, Setter, vocab};
use crate::render::rng::Rng;
use serde::{Deserialize, Serialize};

vocab! {
    /// Particle systems.
    pub enum ParticleSystem {
        /// Bursts every `every` seconds.
        Explosion = "explosion",
        /// Sparks rising from the bottom.
        Embers = "embers",
        /// Stars flying out of the centre.
        Starfield = "starfield",
        /// Particles fading where they stand.
        Dissolve = "dissolve",
        /// Particles circling the centre.
        Orbit = "orbit",
        /// Particles following a curl-noise flow.
        Flow = "flow",
        /// A flock.
        Boids = "boids",
    }
}

impl ParticleSystem {
    /// The characters a system draws when `chars` is not given.
    pub fn default_chars(self) -> CharSet {
        match self {
            ParticleSystem::Explosion => CharSet::Particles(ParticleSet::Explosion),
            ParticleSystem::Starfield => CharSet::Palette(PaletteName::Stars),
            ParticleSystem::Boids => CharSet::Particles(ParticleSet::Boids),
            ParticleSystem::Flow => CharSet::Particles(ParticleSet::Flow),
            ParticleSystem::Orbit => CharSet::Particles(ParticleSet::Dot),
            ParticleSystem::Dissolve => CharSet::Particles(ParticleSet::Trails),
            ParticleSystem::Embers => CharSet::Particles(ParticleSet::Spark),
        }
    }
}

/// The parameters of one entry of `particles:`.
pub mod param {
    use super::ParticleSystem;
    use crate::render::grid::GridKey;
    use crate::render::palette::{PaletteName, ParticleSet};
    use crate::render::params::{Dflt, Kind, ParamSpec, int, num, num_pos, p};

    /// `system`.
    pub const SYSTEM: ParamSpec = p(
        "system",
        Kind::Choice(ParticleSystem::NAMES),
        Dflt::Word("embers"),
        "particle system",
    );
    /// `grid`.
    pub const GRID: ParamSpec = p(
        "grid",
        Kind::Named("a grid key", GridKey::NAMES),
        Dflt::Word("sm"),
        "grid key",
    );
    /// `chars`.
    pub const CHARS: ParamSpec = p(
        "chars",
        Kind::Either(
            "a palette",
            PaletteName::NAMES,
            "a particle set",
            ParticleSet::NAMES,
        ),
        Dflt::Words("system default"),
        "a particle set or palette",
    );
    /// `count`.
    pub const COUNT: ParamSpec = p(
        "count",
        int(0.0, 5000.0),
        Dflt::Auto(0.0, "system default"),
        "particles kept alive, per burst, or spawned per frame (embers)",
    );
    /// `speed`.
    pub const SPEED: ParamSpec = p("speed", num(0.0, 10.0), Dflt::Num(1.0), "speed multiplier");
    /// `every`.
    pub const EVERY: ParamSpec = p(
        "every",
        num_pos(60.0),
        Dflt::Num(1.5),
        "explosion: seconds between bursts",
    );
    /// `hue`.
    pub const HUE: ParamSpec = p("hue", num(0.0, 1.0), Dflt::Num(0.08), "base hue");
    /// `hue_spread`.
    pub const HUE_SPREAD: ParamSpec =
        p("hue_spread", num(0.0, 1.0), Dflt::Num(0.1), "hue variation");
    /// `saturation`.
    pub const SATURATION: ParamSpec = p("saturation", num(0.0, 1.0), Dflt::Num(0.8), "saturation");

    /// `burst`.
    pub const BURST: ParamSpec = p(
        "burst",
        num(0.0, 1.0),
        Dflt::Num(0.0),
        "explosion: an extra burst on each frame where this rises above 0.5 (bind it: {on: beat, range: [0, 1]})",
    );

    /// Every parameter of one `particles:` entry.
    pub const TABLE: &[ParamSpec] = &[
        SYSTEM,
        GRID,
        CHARS,
        COUNT,
        SPEED,
        EVERY,
        HUE,
        HUE_SPREAD,
        SATURATION,
        BURST,
        crate::render::blend::param::BLEND,
        crate::render::blend::param::OPACITY,
    ];
}

/// A particle system as the plan gives it, with every default filled in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ParticleSpec {
    /// The system.
    pub system: ParticleSystem,
    /// Grid key.
    pub grid: GridKey,
    /// Characters (`None`: the system's).
    pub chars: Option<CharSet>,
    /// Particles kept alive, per burst or per frame (0: the system's default).
    pub count: f64,
    /// Speed multiplier.
    pub speed: f64,
    /// Explosion: seconds between bursts.
    pub every: f64,
    /// Base hue.
    pub hue: f64,
    /// Hue variation.
    pub hue_spread: f64,
    /// Saturation.
    pub saturation: f64,
    /// Explosion: a burst fires on each frame where this rises above 0.5.
    #[serde(default)]
    pub burst: f64,
    /// How the particles are composited.
    pub comp: CompSpec,
}

impl ParticleSpec {
    /// The setters of its numeric parameters (bound values; see [`Setter`]).
    pub const SETTERS: &[(ParamSpec, Setter<ParticleSpec>)] = {
        use param::*;
        &[
            (COUNT, |s, v| s.count = v),
            (SPEED, |s, v| s.speed = v),
            (EVERY, |s, v| s.every = v),
            (HUE, |s, v| s.hue = v),
            (HUE_SPREAD, |s, v| s.hue_spread = v),
            (SATURATION, |s, v| s.saturation = v),
            (BURST, |s, v| s.burst = v),
            (crate::render::blend::param::OPACITY, |s, v| {
                s.comp.opacity = v
            }),
        ]
    };

    /// Reads validated `particles:` entry params (see [`param::TABLE`]).
    pub fn parse(p: &Params) -> ParticleSpec {
        use param::*;
        ParticleSpec {
            system: SYSTEM.choice(p),
            grid: GRID.choice(p),
            chars: CHARS.text(p).and_then(CharSet::parse),
            count: COUNT.num(p),
            speed: SPEED.num(p),
            every: EVERY.num(p),
            hue: HUE.num(p),
            hue_spread: HUE_SPREAD.num(p),
            saturation: SATURATION.num(p),
            burst: BURST.num(p),
            comp: CompSpec::parse(p),
        }
    }

    /// The characters drawn.
    pub fn chars(&self) -> CharSet {
        self.chars.unwrap_or(self.system.default_chars())
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct P {
    x: f32,
    y: f32,
    z: f32,
    vx: f32,
    vy: f32,
    life: f32,
    ch: u16,
    hue: f32,
}

/// One particle system.
#[derive(Debug, Clone)]
pub struct Particles {
    /// The system.
    pub system: ParticleSystem,
    /// Particles to keep alive (starfield, dissolve, orbit, flow, boids) or per burst (explosion).
    pub count: usize,
    /// Speed multiplier.
    pub speed: f32,
    /// Seconds between explosion bursts.
    pub every: f32,
    /// Base hue and hue spread.
    pub hue: f32,
    /// Hue variation between particles.
    pub hue_spread: f32,
    /// Saturation.
    pub saturation: f32,
    /// Explosion: a burst fires when this rises above 0.5 (a bound trigger).
    pub burst: f32,
    burst_was: bool,
    cap: usize,
    rng: Rng,
    ps: Vec<P>,
    glyphs: Vec<GlyphId>,
    seed: u64,
    /// Brightest particle so far per cell, reused by [`Particles::draw`] every frame.
    best: Vec<f32>,
}

impl Particles {
    /// A system drawing with `glyphs` (a particle set), capped at `cap` particles.
    pub fn new(system: ParticleSystem, glyphs: Vec<GlyphId>, cap: usize, seed: u64) -> Particles {
        let glyphs: Vec<GlyphId> = glyphs.into_iter().filter(|&g| g != BLANK).collect();
        Particles {
            system,
            count: 0,
            speed: 1.0,
            every: 1.5,
            hue: 0.08,
            hue_spread: 0.1,
            saturation: 0.8,
            burst: 0.0,
            burst_was: false,
            cap: cap.max(1),
            rng: Rng::new(seed),
            ps: Vec::new(),
            glyphs,
            seed,
            best: Vec::new(),
        }
    }

    /// Back to the initial state (no particles, generator rewound).
    pub fn reset(&mut self) {
        self.ps.clear();
        self.rng = Rng::new(self.seed);
        self.burst_was = false;
    }

    /// Particles alive.
    pub fn len(&self) -> usize {
        self.ps.len()
    }

    /// Whether no particle is alive.
    pub fn is_empty(&self) -> bool {
        self.ps.is_empty()
    }

    fn n(&self, default: usize) -> usize {
        if self.count > 0 { self.count } else { default }
    }

    fn glyph(&mut self) -> u16 {
        self.rng.below(self.glyphs.len().max(1) as u32) as u16
    }

    fn spawn(&mut self, p: P) {
        self.ps.push(p);
    }

    fn enforce_cap(&mut self) {
        if self.ps.len() > self.cap {
            let extra = self.ps.len() - self.cap;
            self.ps.drain(..extra);
        }
    }

    /// Advances one frame (`frame` at `fps`) on a `rows x cols` lattice with cell aspect
    /// `cw / ch`.
    pub fn step(&mut self, frame: u32, fps: u32, rows: usize, cols: usize, asp: f32) {
        if rows == 0 || cols == 0 {
            return;
        }
        let (rf, cf) = (rows as f32, cols as f32);
        let k = 24.0 / fps.max(1) as f32 * self.speed;
        let t = frame as f32 / fps.max(1) as f32;
        let xs = 1.0 / asp.max(0.1); // horizontal cells per vertical cell of the same length
        use ParticleSystem as S;
        match self.system {
            S::Explosion => {
                let period = (self.every * fps as f32).max(1.0) as u32;
                let hit = self.burst > 0.5 && !self.burst_was;
                self.burst_was = self.burst > 0.5;
                if frame.is_multiple_of(period) || hit {
                    let (cx, cy) = (
                        self.rng.range_f32(0.25, 0.75) * cf,
                        self.rng.range_f32(0.3, 0.7) * rf,
                    );
                    let hue = self.hue + self.rng.range_f32(-0.5, 0.5) * self.hue_spread;
                    for _ in 0..self.n(80 + (150.0 * 0.3) as usize) {
                        let a = self.rng.range_f32(0.0, std::f32::consts::TAU);
                        let sp = self.rng.range_f32(0.15, 1.1) * (0.5 + 2.0 * 0.3);
                        let ch = self.glyph();
                        self.spawn(P {
                            x: cx,
                            y: cy,
                            vx: fcos(a) * sp * xs,
                            vy: fsin(a) * sp,
                            life: 1.0,
                            ch,
                            hue,
                            ..P::default()
                        });
                    }
                }
                for p in &mut self.ps {
                    p.x += p.vx * k;
                    p.y += p.vy * k;
                    p.vx *= 0.97;
                    p.vy = p.vy * 0.97 + 0.012 * k;
                    p.life -= 0.015 * k;
                }
            }
            S::Embers => {
                let rate = self.n((cols / 6).max(3));
                for _ in 0..rate {
                    let x = self.rng.range_f32(0.0, cf);
                    let vy = -self.rng.range_f32(0.15, 0.6);
                    let vx = self.rng.range_f32(-0.3, 0.3);
                    let hue = self.hue + self.rng.range_f32(-0.5, 0.5) * self.hue_spread;
                    let ch = self.glyph();
                    self.spawn(P {
                        x,
                        y: rf - 0.5,
                        vx,
                        vy,
                        life: 1.0,
                        ch,
                        hue,
                        ..P::default()
                    });
                }
                for p in &mut self.ps {
                    p.vx += self.rng.range_f32(-0.06, 0.06);
                    p.x += p.vx * k;
                    p.y += p.vy * k;
                    p.life -= 0.01 * k;
                }
            }
            S::Starfield => {
                let n = self.n(400);
                while self.ps.len() < n {
                    let p = self.new_star(true);
                    self.spawn(p);
                }
                for i in 0..self.ps.len() {
                    self.ps[i].z -= 0.008 * k;
                    let p = self.ps[i];
                    let (sx, sy) = (
                        cf / 2.0 + p.vx / p.z * cf * 0.25,
                        rf / 2.0 + p.vy / p.z * rf * 0.25,
                    );
                    if p.z <= 0.02 || sx < 0.0 || sy < 0.0 || sx >= cf || sy >= rf {
                        self.ps[i] = self.new_star(false);
                    } else {
                        self.ps[i].x = sx;
                        self.ps[i].y = sy;
                        self.ps[i].life = (1.0 - p.z).clamp(0.05, 1.0);
                    }
                }
            }
            S::Dissolve => {
                let n = self.n(600);
                while self.ps.len() < n {
                    let (x, y) = (self.rng.range_f32(0.0, cf), self.rng.range_f32(0.0, rf));
                    let ch = self.glyph();
                    let hue = self.hue + self.rng.range_f32(-0.5, 0.5) * self.hue_spread;
                    let life = self.rng.range_f32(0.3, 1.0);
                    self.spawn(P {
                        x,
                        y,
                        vx: 0.0,
                        vy: -0.05,
                        life,
                        ch,
                        hue,
                        ..P::default()
                    });
                }
                for p in &mut self.ps {
                    p.y += p.vy * k;
                    p.x += 0.05 * fsin(p.y * 0.7 + t) * k;
                    p.life -= 0.002 * (1.0 + 0.05 * t) * k;
                }
            }
            S::Orbit => {
                let n = self.n(300);
                while self.ps.len() < n {
                    let r = self.rng.range_f32(0.08, 0.48) * rf;
                    let a = self.rng.range_f32(0.0, std::f32::consts::TAU);
                    let ch = self.glyph();
                    let hue = self.hue + self.rng.range_f32(-0.5, 0.5) * self.hue_spread;
                    self.spawn(P {
                        z: r,
                        vx: a,
                        life: 1.0,
                        ch,
                        hue,
                        ..P::default()
                    });
                }
                for p in &mut self.ps {
                    p.vx += 0.05 * k / (0.3 + p.z / rf * 3.0);
                    p.x = cf / 2.0 + fcos(p.vx) * p.z * xs;
                    p.y = rf / 2.0 + fsin(p.vx) * p.z;
                    p.life = 0.5 + 0.5 * (1.0 - p.z / (0.5 * rf));
                }
            }
            S::Flow => {
                let n = self.n(700);
                while self.ps.len() < n {
                    let (x, y) = (self.rng.range_f32(0.0, cf), self.rng.range_f32(0.0, rf));
                    let ch = self.glyph();
                    let hue = self.hue + self.rng.range_f32(-0.5, 0.5) * self.hue_spread;
                    let life = self.rng.range_f32(0.4, 1.0);
                    self.spawn(P {
                        x,
                        y,
                        life,
                        ch,
                        hue,
                        ..P::default()
                    });
                }
                let seed = (self.seed & 0xFFFF) as u32;
                for p in &mut self.ps {
                    let (u, v) = (p.x / cf * 3.0, p.y / rf * 2.0);
                    let e = 0.05;
                    let f0 = fbm(u + 0.05 * t, v, 3, seed);
                    let dx = fbm(u + e + 0.05 * t, v, 3, seed) - f0;
                    let dy = fbm(u + 0.05 * t, v + e, 3, seed) - f0;
                    // Curl of the noise: divergence-free swirls.
                    p.vx = 0.9 * p.vx + 10.0 * 0.1 * dy / e * xs;
                    p.vy = 0.9 * p.vy - 10.0 * 0.1 * dx / e;
                    p.x = (p.x + p.vx * k).rem_euclid(cf);
                    p.y = (p.y + p.vy * k).rem_euclid(rf);
                    p.life -= 0.003 * k;
                }
            }
            S::Boids => self.boids(k, rf, cf, xs),
        }
        if !matches!(self.system, S::Orbit | S::Starfield | S::Boids) {
            self.ps.retain(|p| {
                p.life > 0.0 && p.x >= -2.0 && p.y >= -2.0 && p.x < cf + 2.0 && p.y < rf + 2.0
            });
        }
        self.enforce_cap();
    }

    fn new_star(&mut self, anywhere: bool) -> P {
        let ch = self.glyph();
        let hue = self.hue + self.rng.range_f32(-0.5, 0.5) * self.hue_spread;
        P {
            vx: self.rng.range_f32(-1.0, 1.0) * 2.0,
            vy: self.rng.range_f32(-1.0, 1.0) * 2.0,
            z: if anywhere {
                self.rng.range_f32(0.05, 1.0)
            } else {
                1.0
            },
            life: 0.05,
            x: -10.0,
            y: -10.0,
            ch,
            hue,
        }
    }

    fn boids(&mut self, k: f32, rf: f32, cf: f32, xs: f32) {
        let n = self.n(220);
        while self.ps.len() < n {
            let (x, y) = (self.rng.range_f32(0.0, cf), self.rng.range_f32(0.0, rf));
            let a = self.rng.range_f32(0.0, std::f32::consts::TAU);
            let ch = self.glyph();
            let hue = self.hue + self.rng.range_f32(-0.5, 0.5) * self.hue_spread;
            self.spawn(P {
                x,
                y,
                vx: fcos(a) * 0.4 * xs,
                vy: fsin(a) * 0.4,
                life: 1.0,
                ch,
                hue,
                ..P::default()
            });
        }
        // Spatial hash with 6-cell buckets.
        let bs = 6.0f32;
        let (bw, bh) = (
            (cf / bs).ceil().max(1.0) as usize,
            (rf / bs).ceil().max(1.0) as usize,
        );
        let mut heads = vec![u32::MAX; bw * bh];
        let mut next = vec![u32::MAX; self.ps.len()];
        let bucket = |p: &P| {
            let bx = ((p.x / bs) as usize).min(bw - 1);
            let by = ((p.y / bs) as usize).min(bh - 1);
            (bx, by)
        };
        for (i, p) in self.ps.iter().enumerate() {
            let (bx, by) = bucket(p);
            next[i] = heads[by * bw + bx];
            heads[by * bw + bx] = i as u32;
        }
        let old = self.ps.clone();
        for (i, p) in self.ps.iter_mut().enumerate() {
            let (bx, by) = bucket(&old[i]);
            let (mut sx, mut sy, mut ax, mut ay, mut cx, mut cy, mut cnt) =
                (0.0f32, 0.0f32, 0.0f32, 0.0f32, 0.0f32, 0.0f32, 0.0f32);
            for oy in [-1i32, 0, 1] {
                for ox in [-1i32, 0, 1] {
                    let (nx, ny) = (bx as i32 + ox, by as i32 + oy);
                    if nx < 0 || ny < 0 || nx >= bw as i32 || ny >= bh as i32 {
                        continue;
                    }
                    let mut j = heads[ny as usize * bw + nx as usize];
                    while j != u32::MAX {
                        if j as usize != i {
                            let q = &old[j as usize];
                            let (dx, dy) = (q.x - old[i].x, q.y - old[i].y);
                            let d2 = dx * dx + dy * dy;
                            if d2 < 36.0 {
                                cnt += 1.0;
                                ax += q.vx;
                                ay += q.vy;
                                cx += dx;
                                cy += dy;
                                if d2 < 4.0 {
                                    sx -= dx / (d2 + 0.1);
                                    sy -= dy / (d2 + 0.1);
                                }
                            }
                        }
                        j = next[j as usize];
                    }
                }
            }
            if cnt > 0.0 {
                p.vx += (ax / cnt - p.vx) * 0.1 + cx / cnt * 0.01 + sx * 0.05;
                p.vy += (ay / cnt - p.vy) * 0.1 + cy / cnt * 0.01 + sy * 0.05;
            }
            let sp = (p.vx * p.vx + p.vy * p.vy).sqrt().max(1e-4);
            let (lo, hi) = (0.25, 0.7);
            let c = sp.clamp(lo, hi) / sp;
            p.vx *= c;
            p.vy *= c;
            p.x = (p.x + p.vx * k).rem_euclid(cf);
            p.y = (p.y + p.vy * k).rem_euclid(rf);
        }
    }

    /// Writes the particles into a grid's cells (`glyphs`, `colours`, row-major, cleared first);
    /// where particles share a cell the brightest wins.
    pub fn draw(
        &mut self,
        rows: usize,
        cols: usize,
        glyphs: &mut [GlyphId],
        colours: &mut [[u8; 3]],
        gain: f32,
    ) {
        glyphs.fill(BLANK);
        colours.fill([0; 3]);
        let best = &mut self.best;
        best.clear();
        best.resize(rows * cols, 0.0);
        if self.glyphs.is_empty() {
            return;
        }
        let ng = self.glyphs.len();
        for p in &self.ps {
            if p.x < 0.0 || p.y < 0.0 {
                continue;
            }
            let (c, r) = (p.x as usize, p.y as usize);
            if c >= cols || r >= rows {
                continue;
            }
            let i = r * cols + c;
            let b = p.life.clamp(0.0, 1.0);
            if b <= best[i] {
                continue;
            }
            best[i] = b;
            let g = match self.system {
                // Bright particles get the later (denser) characters of the set.
                ParticleSystem::Starfield | ParticleSystem::Explosion => {
                    self.glyphs[((b * ng as f32) as usize).min(ng - 1)]
                }
                _ => self.glyphs[usize::from(p.ch) % ng],
            };
            glyphs[i] = g;
            colours[i] = hsv2rgb(
                p.hue,
                self.saturation * (0.5 + 0.5 * b),
                (0.25 + 0.75 * b) * gain,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systems_run_deterministically_and_respect_the_cap() {
        use strum::IntoEnumIterator;
        for sys in ParticleSystem::iter() {
            let mut a = Particles::new(sys, vec![1, 2, 3], 150, 9);
            let mut b = Particles::new(sys, vec![1, 2, 3], 150, 9);
            let (mut ga, mut ca) = (vec![0; 40 * 80], vec![[0u8; 3]; 40 * 80]);
            let (mut gb, mut cb) = (ga.clone(), ca.clone());
            for f in 0..60 {
                a.step(f, 24, 40, 80, 0.5);
                b.step(f, 24, 40, 80, 0.5);
                assert!(a.len() <= 150, "{sys}: {}", a.len());
            }
            a.draw(40, 80, &mut ga, &mut ca, 1.0);
            b.draw(40, 80, &mut gb, &mut cb, 1.0);
            assert_eq!((ga.clone(), ca), (gb, cb), "{sys}");
            assert!(ga.iter().any(|&g| g != BLANK), "{sys}: nothing drawn");
        }
    }

    #[test]
    fn vocabulary_and_table() {
        assert_eq!(
            ParticleSystem::NAMES,
            [
                "explosion",
                "embers",
                "starfield",
                "dissolve",
                "orbit",
                "flow",
                "boids"
            ]
        );
        let problems = crate::render::params::table_problems("particles", param::TABLE);
        assert!(problems.is_empty(), "{problems:?}");
    }
}
