//! Particle systems (section 4 of the Python reference pipeline's docs), simulated per frame in
//! frame order on a grid's cell lattice (positions in cells), with a seeded generator: explosion,
//! embers, starfield, dissolve, orbit, flow and boids. The number alive is capped by the profile's
//! `particles_max`: the systems that keep a count alive (starfield, dissolve, orbit, flow,
//! boids) keep at most that many; when a burst or a spawn (explosion, embers) would exceed it,
//! the oldest particles go first (the newest are kept).
//!
//! Units: positions in cells, velocities in cells per frame at 24 fps (scaled by `24 / fps`, so a
//! clip moves the same in seconds at any frame rate). Audio features are constants (0.3); bursts
//! come every `every` seconds instead of on beats (bind `burst` to react to beats).
//!
//! Trails (the reference's "trails": the last N positions fading by fade^age): with `trail: N`
//! (0..=[`TRAIL_MAX`]) every particle also draws where it was over its last N frames, the
//! position `a` frames old at `fade^a` of the particle's brightness, with the characters of
//! `trail_chars` (the `trails` set by default). Positions are kept in a ring of
//! [`TRAIL_MAX`] + 1 slots per particle once a trail is asked for; a particle that is born (or a
//! star that restarts) has no trail yet. The profile's `particles_max` caps the particles, not
//! their trail points: trail points are only drawn (one cell write each), never simulated, so
//! a system draws at most `(1 + trail) * particles_max` cells.
//!
//! Flow: by default `flow` particles follow the curl of a seeded fBM noise (swirls). With
//! `follow: i` they follow the scene's layer `i` instead, as the reference does: `v = 0.9 v +
//! 10 * grad(field)` per frame (then `x += v * speed`), the gradient of the layer's values
//! sampled where the particle is, rotated by `swirl * 90` degrees (0: uphill, towards the
//! bright parts; 1: along the field's contours).

use crate::render::blend::CompSpec;
use crate::render::color::hsv2rgb;
use crate::render::fastmath::{fbm, fcos, fsin};
use crate::render::font::{BLANK, GlyphId};
use crate::render::grid::GridKey;
use crate::render::palette::{CharSet, PaletteName, ParticleSet};
use crate::render::params::{ParamSpec, Params, Setter, vocab};
use crate::render::rng::Rng;
use serde::{Deserialize, Serialize};

/// The longest trail (`trail:`), in frames.
pub const TRAIL_MAX: usize = 32;
/// Positions kept per particle when trails are on: the current one and [`TRAIL_MAX`] before it.
const SLOTS: usize = TRAIL_MAX + 1;

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
    /// `trail`.
    pub const TRAIL: ParamSpec = p(
        "trail",
        int(0.0, super::TRAIL_MAX as f64),
        Dflt::Num(0.0),
        "positions of the last frames each particle also draws (0: none)",
    );
    /// `fade`.
    pub const FADE: ParamSpec = p(
        "fade",
        num(0.0, 1.0),
        Dflt::Num(0.8),
        "brightness of a trail point relative to the next newer one (fade^age)",
    );
    /// `trail_chars`.
    pub const TRAIL_CHARS: ParamSpec = p(
        "trail_chars",
        Kind::Either(
            "a palette",
            PaletteName::NAMES,
            "a particle set",
            ParticleSet::NAMES,
        ),
        Dflt::Word("trails"),
        "characters of the trails, newest to oldest (a particle set or palette)",
    );
    /// `follow`.
    pub const FOLLOW: ParamSpec = p(
        "follow",
        int(-1.0, 31.0),
        Dflt::Auto(-1.0, "none: curl noise"),
        "flow: the index of the layer whose field gradient the particles follow",
    );
    /// `swirl`.
    pub const SWIRL: ParamSpec = p(
        "swirl",
        num(0.0, 1.0),
        Dflt::Num(0.0),
        "flow with follow: 0 climbs the gradient, 1 runs along the contours",
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
        TRAIL,
        FADE,
        TRAIL_CHARS,
        FOLLOW,
        SWIRL,
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
    /// Trail length in frames (0: none).
    pub trail: f64,
    /// Trail fade per frame of age.
    pub fade: f64,
    /// Characters of the trails (`None`: the `trails` set).
    pub trail_chars: Option<CharSet>,
    /// Flow: the layer whose gradient the particles follow (`None`: curl noise).
    pub follow: Option<usize>,
    /// Flow with `follow`: 0 uphill, 1 along the contours.
    pub swirl: f64,
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
            (TRAIL, |s, v| s.trail = v),
            (FADE, |s, v| s.fade = v),
            (FOLLOW, |s, v| {
                s.follow = usize::try_from(v.round() as i64).ok()
            }),
            (SWIRL, |s, v| s.swirl = v),
            (crate::render::blend::param::OPACITY, |s, v| {
                s.comp.opacity = v
            }),
        ]
    };

    /// Writes this entry's numbers into a built system (when it is built and when a bound value
    /// changes): speed scaled by the scene's `gspeed`, hue shifted by the scene's hue.
    pub fn write_into(&self, ps: &mut Particles, gspeed: f32, hue_shift: f32) {
        ps.count = self.count as usize;
        ps.speed = self.speed as f32 * gspeed;
        ps.every = self.every as f32;
        ps.hue = (self.hue as f32 + hue_shift).rem_euclid(1.0);
        ps.hue_spread = self.hue_spread as f32;
        ps.saturation = self.saturation as f32;
        ps.burst = self.burst as f32;
        ps.trail = self.trail as usize;
        ps.fade = self.fade as f32;
        ps.follow = self.follow;
        ps.swirl = self.swirl as f32;
    }

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
            trail: TRAIL.num(p),
            fade: FADE.num(p),
            trail_chars: TRAIL_CHARS.text(p).and_then(CharSet::parse),
            follow: usize::try_from(FOLLOW.num(p).round() as i64).ok(),
            swirl: SWIRL.num(p),
            comp: CompSpec::parse(p),
        }
    }

    /// The characters drawn.
    pub fn chars(&self) -> CharSet {
        self.chars.unwrap_or(self.system.default_chars())
    }

    /// The characters of the trails.
    pub fn trail_chars(&self) -> CharSet {
        self.trail_chars
            .unwrap_or(CharSet::Particles(ParticleSet::Trails))
    }
}

/// A layer's values that `flow` particles follow (`follow:`): the field sampled (bilinearly)
/// where a particle is, the particle's grid and the layer's grid placed by their pixels.
#[derive(Debug, Clone, Copy)]
pub struct Guide<'a> {
    /// The layer's values, row-major, `rows * cols`.
    pub vals: &'a [f32],
    /// The layer grid's rows.
    pub rows: usize,
    /// The layer grid's columns.
    pub cols: usize,
    /// The layer grid's top-left pixel and cell size (x, y, width, height).
    pub cells: [f32; 4],
    /// The particle grid's top-left pixel and cell size (x, y, width, height).
    pub particle_cells: [f32; 4],
}

impl Guide<'_> {
    /// The layer's value at pixel `(px, py)` (bilinear between cell centres, clamped at the
    /// edges).
    fn at(&self, px: f32, py: f32) -> f32 {
        let (rows, cols) = (self.rows, self.cols);
        if rows == 0 || cols == 0 || self.vals.len() < rows * cols {
            return 0.0;
        }
        let [ox, oy, cw, ch] = self.cells;
        let fx = ((px - ox) / cw - 0.5).clamp(0.0, (cols - 1) as f32);
        let fy = ((py - oy) / ch - 0.5).clamp(0.0, (rows - 1) as f32);
        let (c0, r0) = (fx as usize, fy as usize);
        let (c1, r1) = ((c0 + 1).min(cols - 1), (r0 + 1).min(rows - 1));
        let (tx, ty) = (fx - c0 as f32, fy - r0 as f32);
        let v = |r: usize, c: usize| self.vals[r * cols + c];
        let top = v(r0, c0) + (v(r0, c1) - v(r0, c0)) * tx;
        let bot = v(r1, c0) + (v(r1, c1) - v(r1, c0)) * tx;
        top + (bot - top) * ty
    }

    /// The gradient of the layer's values at particle position `(x, y)` (particle cells), per
    /// particle cell height in both directions.
    pub fn grad(&self, x: f32, y: f32) -> (f32, f32) {
        let [ox, oy, cw, ch] = self.particle_cells;
        let (px, py) = (ox + x * cw, oy + y * ch);
        let h = ch;
        (
            (self.at(px + h, py) - self.at(px - h, py)) * 0.5,
            (self.at(px, py + h) - self.at(px, py - h)) * 0.5,
        )
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
    /// Positions recorded since birth (for trails).
    age: u16,
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
    /// Trail length in frames (0..=[`TRAIL_MAX`]).
    pub trail: usize,
    /// Trail fade per frame of age.
    pub fade: f32,
    /// Flow: the layer followed (the scene hands its values to [`Particles::step_with`]).
    pub follow: Option<usize>,
    /// Flow with a guide: 0 uphill, 1 along the contours.
    pub swirl: f32,
    trail_glyphs: Vec<GlyphId>,
    /// Past positions, [`SLOTS`] per particle, once trails are on.
    hist: Vec<(f32, f32)>,
    hist_on: bool,
    /// Positions recorded so far (the ring's write position is `hstep % SLOTS`).
    hstep: u32,
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
            trail: 0,
            fade: 0.8,
            follow: None,
            swirl: 0.0,
            trail_glyphs: Vec::new(),
            hist: Vec::new(),
            hist_on: false,
            hstep: 0,
            burst_was: false,
            cap: cap.max(1),
            rng: Rng::new(seed),
            ps: Vec::new(),
            glyphs,
            seed,
            best: Vec::new(),
        }
    }

    /// The characters trails draw, newest to oldest (blank glyphs dropped).
    pub fn set_trail_glyphs(&mut self, glyphs: Vec<GlyphId>) {
        self.trail_glyphs = glyphs.into_iter().filter(|&g| g != BLANK).collect();
    }

    /// Back to the initial state (no particles, generator rewound).
    pub fn reset(&mut self) {
        self.ps.clear();
        self.rng = Rng::new(self.seed);
        self.burst_was = false;
        self.hist.clear();
        self.hist_on = false;
        self.hstep = 0;
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

    /// How many a system that keeps its particles alive keeps: its count, at most the cap (more
    /// would only be born to be dropped as the oldest on the same frame).
    fn alive(&self, default: usize) -> usize {
        self.n(default).min(self.cap)
    }

    fn glyph(&mut self) -> u16 {
        self.rng.below(self.glyphs.len().max(1) as u32) as u16
    }

    fn spawn(&mut self, p: P) {
        self.ps.push(p);
        if self.hist_on {
            self.hist.extend([(0.0, 0.0); SLOTS]);
        }
    }

    fn enforce_cap(&mut self) {
        if self.ps.len() > self.cap {
            let extra = self.ps.len() - self.cap;
            self.ps.drain(..extra);
            if self.hist_on {
                self.hist.drain(..extra * SLOTS);
            }
        }
    }

    /// Keeps the particles for which `keep` holds, in order (with their trails).
    fn retain(&mut self, keep: impl Fn(&P) -> bool) {
        let t = if self.hist_on { SLOTS } else { 0 };
        let mut w = 0;
        for r in 0..self.ps.len() {
            if keep(&self.ps[r]) {
                if w != r {
                    self.ps[w] = self.ps[r];
                    self.hist.copy_within(r * t..(r + 1) * t, w * t);
                }
                w += 1;
            }
        }
        self.ps.truncate(w);
        self.hist.truncate(w * t);
    }

    /// Records every particle's position in its trail ring (from the first frame a trail is
    /// asked for on).
    fn record(&mut self) {
        if !self.hist_on {
            if self.trail == 0 {
                return;
            }
            self.hist_on = true;
            self.hist = vec![(0.0, 0.0); self.ps.len() * SLOTS];
            for p in &mut self.ps {
                p.age = 0;
            }
        }
        let slot = self.hstep as usize % SLOTS;
        for (i, p) in self.ps.iter_mut().enumerate() {
            self.hist[i * SLOTS + slot] = (p.x, p.y);
            p.age = p.age.saturating_add(1);
        }
        self.hstep = self.hstep.wrapping_add(1);
    }

    /// Advances one frame (`frame` at `fps`) on a `rows x cols` lattice with cell aspect
    /// `cw / ch`.
    pub fn step(&mut self, frame: u32, fps: u32, rows: usize, cols: usize, asp: f32) {
        self.step_with(frame, fps, rows, cols, asp, None);
    }

    /// [`Particles::step`] with the values of the layer `flow` particles follow (`None`: the
    /// curl noise).
    pub fn step_with(
        &mut self,
        frame: u32,
        fps: u32,
        rows: usize,
        cols: usize,
        asp: f32,
        guide: Option<&Guide>,
    ) {
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
                let n = self.alive(400);
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
                let n = self.alive(600);
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
                let n = self.alive(300);
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
                let n = self.alive(700);
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
                if let Some(g) = guide {
                    // The reference's flow: v = 0.9 v + 10 grad(field), rotated by `swirl`.
                    let th = self.swirl.clamp(0.0, 1.0) * std::f32::consts::FRAC_PI_2;
                    let (ct, st) = (fcos(th), fsin(th));
                    for p in &mut self.ps {
                        let (gx, gy) = g.grad(p.x, p.y);
                        let (dx, dy) = (gx * ct - gy * st, gx * st + gy * ct);
                        p.vx = 0.9 * p.vx + 10.0 * dx * xs;
                        p.vy = 0.9 * p.vy + 10.0 * dy;
                        p.x = (p.x + p.vx * k).rem_euclid(cf);
                        p.y = (p.y + p.vy * k).rem_euclid(rf);
                        p.life -= 0.003 * k;
                    }
                } else {
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
            }
            S::Boids => self.boids(k, rf, cf, xs),
        }
        if !matches!(self.system, S::Orbit | S::Starfield | S::Boids) {
            self.retain(|p| {
                p.life > 0.0 && p.x >= -2.0 && p.y >= -2.0 && p.x < cf + 2.0 && p.y < rf + 2.0
            });
        }
        self.enforce_cap();
        self.record();
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
            age: 0,
        }
    }

    fn boids(&mut self, k: f32, rf: f32, cf: f32, xs: f32) {
        let n = self.alive(220);
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
        self.draw_trails(rows, cols, glyphs, colours, gain);
    }

    /// The trails: for each particle, its position `a` frames ago (a = 1..=trail, as far as it
    /// has lived) at `fade^a` of its brightness, joined to the newer position by the cells
    /// between them (a particle faster than a cell per frame leaves a streak, not dots; a jump
    /// across a wrapped edge is not joined), where no brighter particle or trail point is.
    fn draw_trails(
        &mut self,
        rows: usize,
        cols: usize,
        glyphs: &mut [GlyphId],
        colours: &mut [[u8; 3]],
        gain: f32,
    ) {
        let n = self.trail.min(TRAIL_MAX);
        if n == 0 || !self.hist_on || self.trail_glyphs.is_empty() || self.hstep == 0 {
            return;
        }
        let best = &mut self.best;
        let ntg = self.trail_glyphs.len();
        let fade = self.fade.clamp(0.0, 1.0);
        let now = (self.hstep as usize - 1) % SLOTS;
        let (cf, rf) = (cols as f32, rows as f32);
        for (k, p) in self.ps.iter().enumerate() {
            let b0 = p.life.clamp(0.0, 1.0);
            let v0 = (0.25 + 0.75 * b0) * gain;
            let ring = &self.hist[k * SLOTS..(k + 1) * SLOTS];
            let mut f = 1.0f32;
            let mut newer = ring[now];
            for a in 1..=n.min(usize::from(p.age).saturating_sub(1)) {
                f *= fade;
                if v0 * f < 0.02 {
                    break;
                }
                let (x, y) = ring[(now + SLOTS - a) % SLOTS];
                let (dx, dy) = (newer.0 - x, newer.1 - y);
                newer = (x, y);
                let wrapped = dx.abs() > cf * 0.5 || dy.abs() > rf * 0.5;
                // The point itself and the cells on the way to the newer one (at most 8).
                let steps = if wrapped {
                    1
                } else {
                    (dx.abs().max(dy.abs()).ceil() as usize).clamp(1, 8)
                };
                let b = b0 * f;
                let glyph = self.trail_glyphs[((a - 1) * ntg / n).min(ntg - 1)];
                let colour = hsv2rgb(p.hue, self.saturation * (0.5 + 0.5 * b), v0 * f);
                for s in 0..steps {
                    let u = s as f32 / steps as f32;
                    let (px, py) = (x + dx * u, y + dy * u);
                    if px < 0.0 || py < 0.0 || px >= cf || py >= rf {
                        continue;
                    }
                    let i = py as usize * cols + px as usize;
                    if b <= best[i] {
                        continue;
                    }
                    best[i] = b;
                    glyphs[i] = glyph;
                    colours[i] = colour;
                }
            }
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

    /// One flow particle on a `rows x cols` lattice climbing a field that rises to the right.
    fn climber(trail: usize, fade: f32, steps: u32) -> (Vec<GlyphId>, Vec<[u8; 3]>, (f32, f32)) {
        let (rows, cols) = (20usize, 400usize);
        let vals: Vec<f32> = (0..rows * cols).map(|i| (i % cols) as f32 / 40.0).collect();
        let cell = [0.0, 0.0, 10.0, 10.0];
        let guide = Guide {
            vals: &vals,
            rows,
            cols,
            cells: cell,
            particle_cells: cell,
        };
        let mut ps = Particles::new(ParticleSystem::Flow, vec![1], 10, 3);
        ps.set_trail_glyphs(vec![7, 8, 9]);
        ps.count = 1;
        ps.trail = trail;
        ps.fade = fade;
        ps.follow = Some(0);
        for f in 0..steps {
            ps.step_with(f, 24, rows, cols, 1.0, Some(&guide));
            if f == 0 {
                // Start from a known place, clear of the right edge (it would wrap).
                ps.ps[0].x = 50.5;
                ps.ps[0].y = 10.5;
                ps.hist.fill((50.5, 10.5));
            }
        }
        let (mut g, mut c) = (vec![BLANK; rows * cols], vec![[0u8; 3]; rows * cols]);
        ps.draw(rows, cols, &mut g, &mut c, 1.0);
        let head = (ps.ps[0].x, ps.ps[0].y);
        (g, c, head)
    }

    #[test]
    fn a_trail_draws_behind_a_moving_particle_and_fades() {
        let cols = 400;
        let (g, c, (hx, hy)) = climber(8, 0.7, 12);
        let row = hy as usize;
        let head = row * cols + hx as usize;
        assert_eq!(g[head], 1, "the head is drawn with the particle's glyph");
        // Behind the head (to its left, it climbs rightwards): trail glyphs, dimmer further back.
        let bright = |i: usize| c[i].iter().copied().max().unwrap();
        let behind: Vec<usize> = (0..hx as usize)
            .rev()
            .map(|x| row * cols + x)
            .take_while(|&i| g[i] != BLANK)
            .collect();
        assert!(behind.len() >= 8, "a trail of {} cells", behind.len());
        assert!(behind.iter().all(|&i| (7..=9).contains(&g[i])));
        let b: Vec<u8> = behind.iter().map(|&i| bright(i)).collect();
        assert!(b.windows(2).all(|w| w[0] >= w[1]), "fading: {b:?}");
        assert!(
            b[0] < bright(head) && *b.last().unwrap() < b[0] / 2,
            "{b:?}"
        );
        // Nothing ahead of the head, nothing without a trail.
        assert!((hx as usize + 1..cols).all(|x| g[row * cols + x] == BLANK));
        let (g0, _, _) = climber(0, 0.7, 12);
        assert_eq!(g0.iter().filter(|&&x| x != BLANK).count(), 1);
    }

    #[test]
    fn trails_survive_deaths_and_the_cap_in_step() {
        // Explosions die and are capped: the trail rings move with their particles.
        let mut a = Particles::new(ParticleSystem::Explosion, vec![1, 2], 60, 4);
        a.set_trail_glyphs(vec![5]);
        a.trail = 6;
        let (mut g, mut c) = (vec![0; 30 * 60], vec![[0u8; 3]; 30 * 60]);
        for f in 0..200 {
            a.step(f, 24, 30, 60, 0.5);
            assert_eq!(a.hist.len(), a.len() * SLOTS);
            a.draw(30, 60, &mut g, &mut c, 1.0);
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
