//! Masks (the digest's section 5): per-cell weights in `[0, 1]` at a layer's grid resolution that
//! multiply the layer's values. Shapes (circle, rect, ring, gradients, radial), procedural (a value
//! field above a threshold), animated (iris, wipe, dissolve over `seconds`), with `invert` and the
//! boolean operations union (max), intersect (min) and subtract (`a * (1 - b)`).

use crate::render::Params;
use crate::render::fastmath::{hash01, smoothstep};
use crate::render::fields::{Coords, Field};
use crate::render::params::{get_bool, get_maps, get_num, get_text};

/// Mask shapes.
pub const MASK_SHAPES: &[&str] = &[
    "circle",
    "rect",
    "ring",
    "gradient_h",
    "gradient_v",
    "radial",
    "field",
    "iris",
    "wipe",
    "dissolve",
];

/// One mask shape with its settings.
#[derive(Debug, Clone)]
pub struct Mask {
    shape: String,
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
    /// A mask from validated params.
    pub fn new(p: &Params, seed: u32) -> Mask {
        let sub = |k: &str| {
            get_maps(p, k)
                .into_iter()
                .map(|m| Mask::new(m, seed))
                .collect()
        };
        Mask {
            shape: get_text(p, "shape", "circle").to_string(),
            x: get_num(p, "x", 0.0) as f32,
            y: get_num(p, "y", 0.0) as f32,
            radius: get_num(p, "radius", 0.6) as f32,
            w: get_num(p, "width", 1.0) as f32,
            h: get_num(p, "height", 0.6) as f32,
            feather: get_num(p, "feather", 0.15).max(1e-3) as f32,
            threshold: get_num(p, "threshold", 0.5) as f32,
            seconds: get_num(p, "seconds", 2.0).max(1e-3) as f32,
            invert: get_bool(p, "invert", false),
            field: p
                .get("field")
                .map(|_| Box::new(Field::new(get_text(p, "field", "noise"), seed ^ 0x6D61))),
            union: sub("union"),
            intersect: sub("intersect"),
            subtract: sub("subtract"),
            scratch: Vec::new(),
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
        match self.shape.as_str() {
            "field" => {
                if let Some(fd) = &mut self.field {
                    fd.eval(c, t, frame, dt, out);
                    for v in out.iter_mut() {
                        *v = smoothstep(self.threshold - f, self.threshold + f, *v);
                    }
                }
            }
            shape => {
                for (i, o) in out.iter_mut().enumerate() {
                    let (x, y) = (c.x[i] - self.x, c.y[i] - self.y);
                    let d = (x * x + y * y).sqrt();
                    *o = match shape {
                        "rect" => {
                            let dx = x.abs() - self.w / 2.0;
                            let dy = y.abs() - self.h / 2.0;
                            1.0 - smoothstep(-f, f, dx.max(dy))
                        }
                        "ring" => {
                            1.0 - smoothstep(
                                self.w * 0.25 - f,
                                self.w * 0.25 + f,
                                (d - self.radius).abs(),
                            )
                        }
                        "gradient_h" => (c.x[i] / c.aspect * 0.5 + 0.5).clamp(0.0, 1.0),
                        "gradient_v" => (c.y[i] * 0.5 + 0.5).clamp(0.0, 1.0),
                        "radial" => (1.0 - d / self.radius.max(1e-3)).clamp(0.0, 1.0),
                        "iris" => {
                            let r = prog * (c.aspect * c.aspect + 1.0).sqrt();
                            1.0 - smoothstep(r - f, r + f, d)
                        }
                        "wipe" => {
                            let edge = -c.aspect + prog * 2.0 * c.aspect;
                            1.0 - smoothstep(edge - f, edge + f, c.x[i])
                        }
                        "dissolve" => {
                            if hash01(i as i32, 11, 0x6469) < prog {
                                1.0
                            } else {
                                0.0
                            }
                        }
                        _ => 1.0 - smoothstep(self.radius - f, self.radius + f, d),
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
