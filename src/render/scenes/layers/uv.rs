//! UV transforms of a layer's coordinates (`uv:`): rotation, spin, zoom, skew, tiling, mirror,
//! polar coordinates, twist, fisheye, waves and drift, applied in that order to each cell's
//! frame coordinates before the field reads them.

use crate::render::grid::Grid;
use crate::render::params::{ParamSpec, Params, Setter};
use serde::{Deserialize, Serialize};

/// The parameters of `uv:`.
pub mod param {
    use crate::render::params::{Dflt, Kind, ParamSpec, num, num_pos, p};

    /// `rotate`.
    pub const ROTATE: ParamSpec = p(
        "rotate",
        num(-10.0, 10.0),
        Dflt::Num(0.0),
        "rotation (radians)",
    );
    /// `spin`.
    pub const SPIN: ParamSpec = p(
        "spin",
        num(-10.0, 10.0),
        Dflt::Num(0.0),
        "rotation per second (radians)",
    );
    /// `zoom`.
    pub const ZOOM: ParamSpec = p("zoom", num_pos(100.0), Dflt::Num(1.0), "scale: >1 zooms in");
    /// `zoom_rate`.
    pub const ZOOM_RATE: ParamSpec = p(
        "zoom_rate",
        num(-2.0, 2.0),
        Dflt::Num(0.0),
        "zoom change per second (exponential)",
    );
    /// `skew`.
    pub const SKEW: ParamSpec = p(
        "skew",
        num(-4.0, 4.0),
        Dflt::Num(0.0),
        "horizontal skew by y",
    );
    /// `tile`.
    pub const TILE: ParamSpec = p(
        "tile",
        num(0.0, 32.0),
        Dflt::Num(0.0),
        "repeat the pattern in tiles of this many per frame height (0 = off)",
    );
    /// `mirror`.
    pub const MIRROR: ParamSpec = p(
        "mirror",
        Kind::Bool,
        Dflt::Bool(false),
        "mirror left-right (kaleidoscope-like symmetry)",
    );
    /// `polar`.
    pub const POLAR: ParamSpec = p(
        "polar",
        Kind::Bool,
        Dflt::Bool(false),
        "use (angle, radius) as (x, y)",
    );
    /// `twist`.
    pub const TWIST: ParamSpec = p(
        "twist",
        num(-20.0, 20.0),
        Dflt::Num(0.0),
        "rotate by twist x distance",
    );
    /// `fisheye`.
    pub const FISHEYE: ParamSpec = p(
        "fisheye",
        num(0.1, 4.0),
        Dflt::Num(1.0),
        "radial power: r^k",
    );
    /// `wave`.
    pub const WAVE: ParamSpec = p(
        "wave",
        num(0.0, 2.0),
        Dflt::Num(0.0),
        "wavy displacement amplitude",
    );
    /// `drift_x`.
    pub const DRIFT_X: ParamSpec = p(
        "drift_x",
        num(-10.0, 10.0),
        Dflt::Num(0.0),
        "horizontal scroll per second",
    );
    /// `drift_y`.
    pub const DRIFT_Y: ParamSpec = p(
        "drift_y",
        num(-10.0, 10.0),
        Dflt::Num(0.0),
        "vertical scroll per second",
    );

    /// Every parameter of `uv:`.
    pub const TABLE: &[ParamSpec] = &[
        ROTATE, SPIN, ZOOM, ZOOM_RATE, SKEW, TILE, MIRROR, POLAR, TWIST, FISHEYE, WAVE, DRIFT_X,
        DRIFT_Y,
    ];
}

/// A UV transform as the plan gives it, with every default filled in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UvSpec {
    /// Rotation (radians).
    pub rotate: f64,
    /// Rotation per second.
    pub spin: f64,
    /// Scale.
    pub zoom: f64,
    /// Zoom change per second.
    pub zoom_rate: f64,
    /// Horizontal skew by y.
    pub skew: f64,
    /// Tiles per frame height (0: off).
    pub tile: f64,
    /// Mirror left-right.
    pub mirror: bool,
    /// Polar coordinates.
    pub polar: bool,
    /// Rotation by distance.
    pub twist: f64,
    /// Radial power.
    pub fisheye: f64,
    /// Wavy displacement.
    pub wave: f64,
    /// Horizontal scroll per second.
    pub drift_x: f64,
    /// Vertical scroll per second.
    pub drift_y: f64,
}

impl UvSpec {
    /// The setters of its numeric parameters (bound values; see [`Setter`]).
    pub const SETTERS: &[(ParamSpec, Setter<UvSpec>)] = {
        use param::*;
        &[
            (ROTATE, |s, v| s.rotate = v),
            (SPIN, |s, v| s.spin = v),
            (ZOOM, |s, v| s.zoom = v),
            (ZOOM_RATE, |s, v| s.zoom_rate = v),
            (SKEW, |s, v| s.skew = v),
            (TILE, |s, v| s.tile = v),
            (TWIST, |s, v| s.twist = v),
            (FISHEYE, |s, v| s.fisheye = v),
            (WAVE, |s, v| s.wave = v),
            (DRIFT_X, |s, v| s.drift_x = v),
            (DRIFT_Y, |s, v| s.drift_y = v),
        ]
    };

    /// Reads validated `uv:` params (see [`param::TABLE`]).
    pub fn parse(p: &Params) -> UvSpec {
        use param::*;
        UvSpec {
            rotate: ROTATE.num(p),
            spin: SPIN.num(p),
            zoom: ZOOM.num(p),
            zoom_rate: ZOOM_RATE.num(p),
            skew: SKEW.num(p),
            tile: TILE.num(p),
            mirror: MIRROR.bool(p),
            polar: POLAR.bool(p),
            twist: TWIST.num(p),
            fisheye: FISHEYE.num(p),
            wave: WAVE.num(p),
            drift_x: DRIFT_X.num(p),
            drift_y: DRIFT_Y.num(p),
        }
    }
}

/// A UV transform ready to apply.
#[derive(Debug, Clone)]
pub struct Uv {
    rotate: f32,
    spin: f32,
    zoom: f32,
    zoom_rate: f32,
    skew: f32,
    tile: f32,
    mirror: bool,
    polar: bool,
    twist: f32,
    fisheye: f32,
    wave: f32,
    drift: (f32, f32),
}

impl Uv {
    /// The transform of `s`.
    pub fn new(s: &UvSpec) -> Uv {
        Uv {
            rotate: s.rotate as f32,
            spin: s.spin as f32,
            zoom: (s.zoom as f32).max(1e-3),
            zoom_rate: s.zoom_rate as f32,
            skew: s.skew as f32,
            tile: s.tile as f32,
            mirror: s.mirror,
            polar: s.polar,
            twist: s.twist as f32,
            fisheye: s.fisheye as f32,
            wave: s.wave as f32,
            drift: (s.drift_x as f32, s.drift_y as f32),
        }
    }

    /// Whether the transform changes with time (else it is applied once).
    pub fn animated(&self) -> bool {
        self.spin != 0.0 || self.zoom_rate != 0.0 || self.wave != 0.0 || self.drift != (0.0, 0.0)
    }

    /// Writes the transformed coordinates of every cell of `g` at field time `t`.
    #[allow(clippy::too_many_arguments)]
    pub fn apply(
        &self,
        g: &Grid,
        t: f32,
        xs: &mut [f32],
        ys: &mut [f32],
        rs: &mut [f32],
        as_: &mut [f32],
    ) {
        let th = self.rotate + self.spin * t;
        let (s, c) = th.sin_cos();
        let z = self.zoom * (self.zoom_rate * t).exp();
        let asp = g.aspect;
        for i in 0..g.cells() {
            let (mut x, mut y) = (g.xn[i] + self.drift.0 * t, g.yn[i] + self.drift.1 * t);
            let (x1, y1) = (x * c - y * s, x * s + y * c);
            x = x1 / z;
            y = y1 / z;
            x += self.skew * y;
            if self.twist != 0.0 {
                let r = (x * x + y * y).sqrt();
                let (ts, tc) = (self.twist * r).sin_cos();
                let (x2, y2) = (x * tc - y * ts, x * ts + y * tc);
                x = x2;
                y = y2;
            }
            if self.fisheye != 1.0 {
                let r = (x * x + y * y).sqrt().max(1e-6);
                let k = r.powf(self.fisheye - 1.0);
                x *= k;
                y *= k;
            }
            if self.wave != 0.0 {
                let (x0, y0) = (x, y);
                x += self.wave * 0.2 * (3.0 * y0 + t).sin();
                y += self.wave * 0.2 * (3.0 * x0 + 0.7 * t).sin();
            }
            if self.mirror {
                x = x.abs();
            }
            if self.tile > 0.0 {
                let per = 2.0 / self.tile;
                x = ((x / per).rem_euclid(1.0) - 0.5) * 2.0;
                y = ((y / per).rem_euclid(1.0) - 0.5) * 2.0;
            }
            if self.polar {
                let (r, a) = ((x * x + y * y).sqrt(), y.atan2(x));
                x = a / std::f32::consts::PI * asp;
                y = r * 2.0 - 1.0;
            }
            xs[i] = x;
            ys[i] = y;
            rs[i] = (x * x + y * y).sqrt();
            as_[i] = y.atan2(x);
        }
    }
}
