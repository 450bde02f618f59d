//! Masks (section 5 of the Python reference pipeline's docs): per-cell weights in `[0, 1]` at a
//! layer's grid resolution that multiply the layer's values. Shapes (circle, rect, ring, gradients,
//! radial), procedural (a value field above a threshold), animated (iris, wipe, dissolve over
//! `seconds`), with `invert` and the boolean operations union (max), intersect (min) and subtract
//! (`a * (1 - b)`).

use crate::render::fastmath::{hash01, smoothstep};
use crate::render::fields::{Coords, Field, FieldKind};
use crate::render::params::{ParamSpec, Params, Setter, vocab};
use serde::{Deserialize, Serialize};

vocab! {
    /// Mask shapes.
    pub enum MaskShape {
        /// A disc of `radius` around (`x`, `y`).
        Circle = "circle",
        /// A `width x height` rectangle.
        Rect = "rect",
        /// A ring of `radius`, `width / 4` thick.
        Ring = "ring",
        /// Dark left, bright right.
        GradientH = "gradient_h",
        /// Dark top, bright bottom.
        GradientV = "gradient_v",
        /// Bright at the centre, dark at `radius`.
        Radial = "radial",
        /// A value field above `threshold`.
        Field = "field",
        /// A circle opening over `seconds`.
        Iris = "iris",
        /// Left to right over `seconds`.
        Wipe = "wipe",
        /// Cells appearing in hashed order over `seconds`.
        Dissolve = "dissolve",
    }
}

/// The parameters of a layer's `mask:` mapping.
pub mod param {
    use super::MaskShape;
    use crate::render::fields::FieldKind;
    use crate::render::params::{Dflt, Kind, ParamSpec, num, num_pos, p};

    /// `shape`.
    pub const SHAPE: ParamSpec = p(
        "shape",
        Kind::Choice(MaskShape::NAMES),
        Dflt::Word("circle"),
        "mask shape",
    );
    /// `x`.
    pub const X: ParamSpec = p(
        "x",
        num(-4.0, 4.0),
        Dflt::Num(0.0),
        "centre x (frame units: height spans -1..1)",
    );
    /// `y`.
    pub const Y: ParamSpec = p("y", num(-1.0, 1.0), Dflt::Num(0.0), "centre y");
    /// `radius`.
    pub const RADIUS: ParamSpec = p(
        "radius",
        num(0.0, 4.0),
        Dflt::Num(0.6),
        "radius (circle, ring, radial)",
    );
    /// `width`.
    pub const WIDTH: ParamSpec = p(
        "width",
        num(0.0, 8.0),
        Dflt::Num(1.0),
        "width (rect; ring thickness x4)",
    );
    /// `height`.
    pub const HEIGHT: ParamSpec = p("height", num(0.0, 2.0), Dflt::Num(0.6), "height (rect)");
    /// `feather`.
    pub const FEATHER: ParamSpec = p("feather", num(0.0, 2.0), Dflt::Num(0.15), "soft edge");
    /// `threshold`.
    pub const THRESHOLD: ParamSpec = p(
        "threshold",
        num(0.0, 1.0),
        Dflt::Num(0.5),
        "field masks: value threshold",
    );
    /// `field`.
    pub const FIELD: ParamSpec = p(
        "field",
        Kind::Choice(FieldKind::NAMES),
        Dflt::Word("noise"),
        "field masks: the value field",
    );
    /// `seconds`.
    pub const SECONDS: ParamSpec = p(
        "seconds",
        num_pos(3600.0),
        Dflt::Num(2.0),
        "iris, wipe, dissolve: seconds to open fully",
    );
    /// `invert`.
    pub const INVERT: ParamSpec = p("invert", Kind::Bool, Dflt::Bool(false), "invert the mask");
    /// `union`.
    pub const UNION: ParamSpec = p(
        "union",
        Kind::MapList(LEAF),
        Dflt::Words("-"),
        "masks combined with max",
    );
    /// `intersect`.
    pub const INTERSECT: ParamSpec = p(
        "intersect",
        Kind::MapList(LEAF),
        Dflt::Words("-"),
        "masks combined with min",
    );
    /// `subtract`.
    pub const SUBTRACT: ParamSpec = p(
        "subtract",
        Kind::MapList(LEAF),
        Dflt::Words("-"),
        "masks cut out",
    );

    /// The parameters of one mask shape (the shapes a mask combines).
    pub const LEAF: &[ParamSpec] = &[
        SHAPE, X, Y, RADIUS, WIDTH, HEIGHT, FEATHER, THRESHOLD, FIELD, SECONDS, INVERT,
    ];

    /// Every parameter of `mask:`.
    pub const TABLE: &[ParamSpec] = &[
        SHAPE, X, Y, RADIUS, WIDTH, HEIGHT, FEATHER, THRESHOLD, FIELD, SECONDS, INVERT, UNION,
        INTERSECT, SUBTRACT,
    ];
}

/// A mask as the plan gives it, with every default filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaskSpec {
    /// Shape.
    pub shape: MaskShape,
    /// Centre x.
    pub x: f64,
    /// Centre y.
    pub y: f64,
    /// Radius.
    pub radius: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
    /// Soft edge.
    pub feather: f64,
    /// Field masks: value threshold.
    pub threshold: f64,
    /// Field masks: the field (`None` when not given: a `field` mask then masks nothing).
    pub field: Option<FieldKind>,
    /// Seconds to open fully.
    pub seconds: f64,
    /// Invert.
    pub invert: bool,
    /// Masks combined with max.
    pub union: Vec<MaskSpec>,
    /// Masks combined with min.
    pub intersect: Vec<MaskSpec>,
    /// Masks cut out.
    pub subtract: Vec<MaskSpec>,
}

impl MaskSpec {
    /// The setters of its numeric parameters (bound values; see [`Setter`]).
    pub const SETTERS: &[(ParamSpec, Setter<MaskSpec>)] = {
        use param::*;
        &[
            (X, |s, v| s.x = v),
            (Y, |s, v| s.y = v),
            (RADIUS, |s, v| s.radius = v),
            (WIDTH, |s, v| s.width = v),
            (HEIGHT, |s, v| s.height = v),
            (FEATHER, |s, v| s.feather = v),
            (THRESHOLD, |s, v| s.threshold = v),
            (SECONDS, |s, v| s.seconds = v),
        ]
    };

    /// Reads validated `mask:` params (see [`param::TABLE`]).
    pub fn parse(p: &Params) -> MaskSpec {
        use param::*;
        let sub = |k: &crate::render::params::ParamSpec| {
            k.maps(p).into_iter().map(MaskSpec::parse).collect()
        };
        MaskSpec {
            shape: SHAPE.choice(p),
            x: X.num(p),
            y: Y.num(p),
            radius: RADIUS.num(p),
            width: WIDTH.num(p),
            height: HEIGHT.num(p),
            feather: FEATHER.num(p),
            threshold: THRESHOLD.num(p),
            field: FIELD.given(p).then(|| FIELD.choice(p)),
            seconds: SECONDS.num(p),
            invert: INVERT.bool(p),
            union: sub(&UNION),
            intersect: sub(&INTERSECT),
            subtract: sub(&SUBTRACT),
        }
    }
}

/// One mask shape with its settings.
#[derive(Debug, Clone)]
pub struct Mask {
    shape: MaskShape,
    x: f32,
    y: f32,
    radius: f32,
    w: f32,
    h: f32,
    feather: f32,
    threshold: f32,
    seconds: f32,
    invert: bool,
    field: Option<Box<Field>>,
    union: Vec<Mask>,
    intersect: Vec<Mask>,
    subtract: Vec<Mask>,
    scratch: Vec<f32>,
}

impl Mask {
    /// The mask of `spec`; `seed` seeds its field (and its parts' fields).
    pub fn new(spec: &MaskSpec, seed: u32) -> Mask {
        let sub = |v: &[MaskSpec]| v.iter().map(|m| Mask::new(m, seed)).collect();
        Mask {
            shape: spec.shape,
            x: spec.x as f32,
            y: spec.y as f32,
            radius: spec.radius as f32,
            w: spec.width as f32,
            h: spec.height as f32,
            feather: spec.feather.max(1e-3) as f32,
            threshold: spec.threshold as f32,
            seconds: spec.seconds.max(1e-3) as f32,
            invert: spec.invert,
            field: spec.field.map(|k| Box::new(Field::new(k, seed ^ 0x6D61))),
            union: sub(&spec.union),
            intersect: sub(&spec.intersect),
            subtract: sub(&spec.subtract),
            scratch: Vec::new(),
        }
    }

    /// Takes new numbers (bound values) from `spec` (the spec it was built from, its numbers
    /// changed), for this mask and the masks it combines, keeping a field mask's state. The same
    /// as a new mask of `spec` in that state.
    pub fn tune(&mut self, spec: &MaskSpec) {
        self.x = spec.x as f32;
        self.y = spec.y as f32;
        self.radius = spec.radius as f32;
        self.w = spec.width as f32;
        self.h = spec.height as f32;
        self.feather = spec.feather.max(1e-3) as f32;
        self.threshold = spec.threshold as f32;
        self.seconds = spec.seconds.max(1e-3) as f32;
        for (list, specs) in [
            (&mut self.union, &spec.union),
            (&mut self.intersect, &spec.intersect),
            (&mut self.subtract, &spec.subtract),
        ] {
            for (m, s) in list.iter_mut().zip(specs) {
                m.tune(s);
            }
        }
    }

    /// Forgets field state (see `Field::reset`).
    pub fn reset(&mut self) {
        if let Some(f) = &mut self.field {
            f.reset();
        }
    }

    /// Whether the mask (or a part) carries field state.
    pub fn is_stateful(&self) -> bool {
        self.field.as_ref().is_some_and(|f| f.is_stateful())
    }

    /// Writes the mask at time `t` into `out` (one weight per cell).
    pub fn eval(&mut self, c: &Coords, t: f32, frame: u32, dt: f32, out: &mut [f32]) {
        let n = c.rows * c.cols;
        let out = &mut out[..n];
        let f = self.feather;
        let prog = (t / self.seconds).clamp(0.0, 1.0);
        match self.shape {
            MaskShape::Field => {
                if let Some(fd) = &mut self.field {
                    fd.eval(c, t, frame, dt, out);
                    for v in out.iter_mut() {
                        *v = smoothstep(self.threshold - f, self.threshold + f, *v);
                    }
                } else {
                    // A field mask without a field masks everything out (and never reads the
                    // last frame's values: a frame depends on its index only).
                    out.fill(0.0);
                }
            }
            shape => {
                for (i, o) in out.iter_mut().enumerate() {
                    let (x, y) = (c.x[i] - self.x, c.y[i] - self.y);
                    let d = (x * x + y * y).sqrt();
                    *o = match shape {
                        MaskShape::Rect => {
                            let dx = x.abs() - self.w / 2.0;
                            let dy = y.abs() - self.h / 2.0;
                            1.0 - smoothstep(-f, f, dx.max(dy))
                        }
                        MaskShape::Ring => {
                            1.0 - smoothstep(
                                self.w * 0.25 - f,
                                self.w * 0.25 + f,
                                (d - self.radius).abs(),
                            )
                        }
                        MaskShape::GradientH => (c.x[i] / c.aspect * 0.5 + 0.5).clamp(0.0, 1.0),
                        MaskShape::GradientV => (c.y[i] * 0.5 + 0.5).clamp(0.0, 1.0),
                        MaskShape::Radial => (1.0 - d / self.radius.max(1e-3)).clamp(0.0, 1.0),
                        MaskShape::Iris => {
                            let r = prog * (c.aspect * c.aspect + 1.0).sqrt();
                            1.0 - smoothstep(r - f, r + f, d)
                        }
                        MaskShape::Wipe => {
                            let edge = -c.aspect + prog * 2.0 * c.aspect;
                            1.0 - smoothstep(edge - f, edge + f, c.x[i])
                        }
                        MaskShape::Dissolve => {
                            if hash01(i as i32, 11, 0x6469) < prog {
                                1.0
                            } else {
                                0.0
                            }
                        }
                        MaskShape::Circle | MaskShape::Field => {
                            1.0 - smoothstep(self.radius - f, self.radius + f, d)
                        }
                    };
                }
            }
        }
        if self.invert {
            for v in out.iter_mut() {
                *v = 1.0 - *v;
            }
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.resize(n, 0.0);
        for m in &mut self.union {
            m.eval(c, t, frame, dt, &mut scratch);
            for (o, &s) in out.iter_mut().zip(&scratch) {
                *o = o.max(s);
            }
        }
        for m in &mut self.intersect {
            m.eval(c, t, frame, dt, &mut scratch);
            for (o, &s) in out.iter_mut().zip(&scratch) {
                *o = o.min(s);
            }
        }
        for m in &mut self.subtract {
            m.eval(c, t, frame, dt, &mut scratch);
            for (o, &s) in out.iter_mut().zip(&scratch) {
                *o *= 1.0 - s;
            }
        }
        self.scratch = scratch;
    }
}
