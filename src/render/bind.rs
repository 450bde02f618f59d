//! Reactive parameters: a numeric parameter of a scene, a layer, a primitive or a shader may be
//! a [`Binding`] to an audio feature instead of a number, e.g. `speed: {from: bass, range: [3,
//! 12]}` (`docs/reactive.md` is the user reference).
//!
//! A binding is written where the number would be, as a mapping with the keys `from` (a
//! [`Feature`]), `range` (the values at feature 0 and 1, each within the parameter's own range),
//! optional `curve` ([`Curve`]), `smooth` (0..1) and `on` ([`Trigger`]). [`check_binding`]
//! validates it against the parameter's [`Kind`] (the error's key names the offending binding
//! key); [`find`] lists every binding of a validated params map; [`Binding::at`] evaluates one
//! at a frame; [`resolve`] writes the evaluated numbers into a params map.
//!
//! Evaluation depends only on the global frame: smoothing and trigger decay run over a window
//! of [`WINDOW`] frames ending at the frame, started fresh at the window's first frame (or at the
//! video's first frame), so every clip and chunk that renders global frame `g` gets the same
//! value, provided its features carry `min(start, LEAD)` rows of history ([`LEAD`]).

use crate::features::{Feature, Row};
use crate::render::frame::FrameCx;
use crate::render::params::{Kind, Param, ParamSpec, Params, SpecError, range_words};
use crate::vocab::vocab;
use serde::{Deserialize, Serialize};

/// Frames of history a smoothed binding reads (the window ends at the frame itself).
pub const WINDOW: u32 = 64;
/// Rows of history a clip's features must carry before its first frame (`min(start, LEAD)`), so
/// that a smoothed binding gives every chunk the same values.
pub const LEAD: u32 = WINDOW - 1;

vocab! {
    /// How a feature value in [0, 1] maps onto the binding's range.
    pub enum Curve {
        /// Straight: `v`.
        Linear = "linear",
        /// Smoothstep: slow at both ends, `v * v * (3 - 2 v)`.
        Ease = "ease",
        /// Exponential: quiet values stay low, peaks stand out, `(e^(3v) - 1) / (e^3 - 1)`.
        Exp = "exp",
    }
}

vocab! {
    /// What makes a binding a trigger (`on:`).
    pub enum Trigger {
        /// The frames of a beat (the `beat` feature is set).
        Beat = "beat",
    }
}

/// The keys a binding mapping may have, in the order messages list them.
pub const KEYS: &[&str] = &["from", "range", "curve", "smooth", "on"];

/// A parameter bound to an audio feature.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Binding {
    /// The feature read (for a trigger, the strength of a hit; `beat` by default).
    pub from: Feature,
    /// The parameter's value at feature 0 and at feature 1.
    pub range: [f64; 2],
    /// How the feature maps onto the range.
    pub curve: Curve,
    /// Smoothing: `y = (1 - smooth) x + smooth y_prev` (0: none); for a trigger, the decay per
    /// frame of a hit (`y = max(x, smooth y_prev)`; 0: the hit lasts its beat frame only).
    pub smooth: f64,
    /// A trigger: the value is `range[1]` (scaled by `from`) on a beat, `range[0]` otherwise.
    pub on: Option<Trigger>,
    /// Whether the parameter takes whole numbers (the value is rounded).
    pub integer: bool,
}

impl Binding {
    /// The feature level (0..1, before the curve) of this binding at `cx`.
    pub fn level(&self, cx: &FrameCx) -> f64 {
        let f = cx.features;
        let index = i64::from(cx.index);
        let x = |row: Row| -> f64 {
            match self.on {
                None => f64::from(row.get(self.from)),
                Some(Trigger::Beat) => {
                    if row.get(Feature::Beat) > 0.5 {
                        f64::from(row.get(self.from))
                    } else {
                        0.0
                    }
                }
            }
        };
        if self.smooth <= 0.0 {
            return x(f.row(index)).clamp(0.0, 1.0);
        }
        // The window: at most WINDOW frames ending at this one, never before the video's start.
        let back = (WINDOW as i64 - 1).min(f.start as i64 + index);
        let s = self.smooth.clamp(0.0, 1.0);
        let mut y = x(f.row(index - back));
        for k in (0..back).rev() {
            let v = x(f.row(index - k));
            y = match self.on {
                None => (1.0 - s) * v + s * y,
                Some(_) => v.max(s * y),
            };
        }
        y.clamp(0.0, 1.0)
    }

    /// The parameter's value at `cx`: the level through the curve onto the range (rounded for
    /// a whole-number parameter).
    pub fn at(&self, cx: &FrameCx) -> f64 {
        self.map(self.level(cx))
    }

    /// The parameter's value for feature level `v` (0..1).
    pub fn map(&self, v: f64) -> f64 {
        let v = v.clamp(0.0, 1.0);
        let c = match self.curve {
            Curve::Linear => v,
            Curve::Ease => v * v * (3.0 - 2.0 * v),
            Curve::Exp => ((3.0 * v).exp() - 1.0) / (3.0f64.exp() - 1.0),
        };
        let out = self.range[0] + (self.range[1] - self.range[0]) * c;
        if self.integer { out.round() } else { out }
    }
}

/// Why a parameter refuses a binding, if it does: `owner` is the table's owner as
/// [`crate::render::params::validate_params`] names it (`"scene plasma"`, `"shader bloom"`) and
/// `key` the parameter's key (`"params.feedback.decay"`).
///
/// The list (also in `docs/reactive.md`): every parameter of the `plasma` and `quote` scenes
/// (they bake their values into their layers when the clip starts), of `feedback` (its pixel
/// maps are built once, at the frame's size) and of `text` layers (laid out once).
pub fn refused(owner: &str, key: &str) -> Option<&'static str> {
    let in_block = |b: &str| {
        let k = key.strip_prefix("params.").unwrap_or(key);
        k == b || k.starts_with(&format!("{b}.")) || k.starts_with(&format!("{b}["))
    };
    if owner == "scene plasma" || owner == "scene quote" {
        Some(
            "the plasma and quote scenes bake their parameters when the clip starts; bind a shader's parameters, or use a scene built on layers",
        )
    } else if in_block("feedback") {
        Some("feedback builds its pixel maps once, when the clip starts")
    } else if in_block("text") {
        Some("text layers are laid out once, when the clip starts")
    } else {
        None
    }
}

/// Checks a binding written for a numeric parameter of kind `kind` at `key`; `owner` names the
/// scene or shader. The error's key names the binding key at fault (`<key>.from`).
pub fn check_binding(m: &Params, kind: Kind, key: &str, owner: &str) -> Result<(), SpecError> {
    parse_binding(m, kind, key, owner).map(|_| ())
}

/// Reads a binding (see [`check_binding`]).
pub fn parse_binding(m: &Params, kind: Kind, key: &str, owner: &str) -> Result<Binding, SpecError> {
    let Kind::Num {
        min,
        max,
        min_exclusive,
        integer,
    } = kind
    else {
        return Err(SpecError::new(
            key,
            "only numeric parameters take a binding",
        ));
    };
    let name = key.rsplit('.').next().unwrap_or(key);
    if let Some(why) = refused(owner, key) {
        return Err(SpecError::new(
            key,
            format!("{owner} parameter {name} cannot be bound to a feature: {why}"),
        ));
    }
    let at = |k: &str| format!("{key}.{k}");
    for k in m.keys() {
        if !KEYS.contains(&k.as_str()) {
            return Err(SpecError::new(
                at(k),
                format!(
                    "unknown key {k:?} in the binding of {name}; a binding has the keys: {}",
                    KEYS.join(", ")
                ),
            ));
        }
    }
    let word = |k: &str| -> Result<Option<&str>, SpecError> {
        match m.get(k) {
            None => Ok(None),
            Some(Param::Text(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(SpecError::new(at(k), format!("`{k}` is a word"))),
        }
    };
    let on = match word("on")? {
        None => None,
        Some(w) => Some(w.parse::<Trigger>().map_err(|_| {
            SpecError::new(
                at("on"),
                format!(
                    "unknown trigger {w:?}; triggers: {}",
                    Trigger::NAMES.join(", ")
                ),
            )
        })?),
    };
    let from = match word("from")? {
        Some(w) => w.parse::<Feature>().map_err(|_| {
            SpecError::new(
                at("from"),
                format!(
                    "unknown feature {w:?}; features: {}",
                    Feature::NAMES.join(", ")
                ),
            )
        })?,
        None if on.is_some() => Feature::Beat,
        None => {
            return Err(SpecError::new(
                key,
                format!(
                    "the binding of {name} needs `from:` (a feature: {})",
                    Feature::NAMES.join(", ")
                ),
            ));
        }
    };
    let curve = match word("curve")? {
        None => Curve::Linear,
        Some(w) => w.parse::<Curve>().map_err(|_| {
            SpecError::new(
                at("curve"),
                format!("unknown curve {w:?}; curves: {}", Curve::NAMES.join(", ")),
            )
        })?,
    };
    let smooth = match m.get("smooth") {
        None => 0.0,
        Some(Param::Num(s)) if s.is_finite() && (0.0..=1.0).contains(s) => *s,
        Some(_) => {
            return Err(SpecError::new(
                at("smooth"),
                "`smooth` is a number from 0 (none) to 1",
            ));
        }
    };
    let own = || {
        let mut w = range_words(kind);
        if integer {
            w.push_str("; bound values are rounded");
        }
        w
    };
    let range = match m.get("range") {
        Some(Param::List(items)) if items.len() == 2 => {
            let mut r = [0.0; 2];
            for (i, item) in items.iter().enumerate() {
                let ok = match item {
                    Param::Num(n) => {
                        n.is_finite()
                            && (if min_exclusive { *n > min } else { *n >= min })
                            && *n <= max
                    }
                    _ => false,
                };
                if !ok {
                    return Err(SpecError::new(
                        at("range"),
                        format!(
                            "range of {owner} parameter {name}: each end must be {}",
                            own()
                        ),
                    ));
                }
                if let Param::Num(n) = item {
                    r[i] = *n;
                }
            }
            r
        }
        Some(_) => {
            return Err(SpecError::new(
                at("range"),
                format!(
                    "`range` is a list of two numbers [at 0, at 1], each {}",
                    own()
                ),
            ));
        }
        None => {
            return Err(SpecError::new(
                key,
                format!(
                    "the binding of {name} needs `range: [low, high]` (each {})",
                    own()
                ),
            ));
        }
    };
    Ok(Binding {
        from,
        range,
        curve,
        smooth,
        on,
        integer,
    })
}

/// One step of a path into a params map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// An item of a list.
    Index(usize),
}

/// A bound parameter of a params map: where it is and how it is bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bound {
    /// The parameter as messages name it (`layers[0].speed`).
    pub name: String,
    /// Where it is in the params map.
    pub path: Vec<Seg>,
    /// The binding.
    pub binding: Binding,
}

/// Every binding of `params` (validated against `specs`), in key order.
pub fn find(params: &Params, specs: &[ParamSpec]) -> Vec<Bound> {
    let mut out = Vec::new();
    walk(params, specs, "", &mut Vec::new(), &mut out);
    out
}

fn walk(
    params: &Params,
    specs: &[ParamSpec],
    prefix: &str,
    path: &mut Vec<Seg>,
    out: &mut Vec<Bound>,
) {
    for (name, value) in params {
        let Some(spec) = specs.iter().find(|s| s.name == name) else {
            continue;
        };
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        path.push(Seg::Key(name.clone()));
        match (spec.kind, value) {
            (Kind::Num { .. }, Param::Map(m)) => {
                if let Ok(binding) = parse_binding(m, spec.kind, &key, "") {
                    out.push(Bound {
                        name: key.clone(),
                        path: path.clone(),
                        binding,
                    });
                }
            }
            (Kind::Map(t) | Kind::MapList(t), Param::Map(m)) => walk(m, t, &key, path, out),
            (Kind::MapList(t), Param::List(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Param::Map(m) = item {
                        path.push(Seg::Index(i));
                        walk(m, t, &format!("{key}[{i}]"), path, out);
                        path.pop();
                    }
                }
            }
            _ => {}
        }
        path.pop();
    }
}

/// Writes `value` at `path` of `params` (a path from [`find`]).
pub fn set(params: &mut Params, path: &[Seg], value: f64) {
    let Some((Seg::Key(first), rest)) = path.split_first() else {
        return;
    };
    let Some(mut p) = params.get_mut(first) else {
        return;
    };
    for seg in rest {
        p = match (seg, p) {
            (Seg::Key(k), Param::Map(m)) => match m.get_mut(k) {
                Some(v) => v,
                None => return,
            },
            (Seg::Index(i), Param::List(items)) => match items.get_mut(*i) {
                Some(v) => v,
                None => return,
            },
            _ => return,
        };
    }
    *p = Param::Num(value);
}

/// Removes every binding of `params` (validated or not against `specs`): the parameter then
/// takes its default. Used for `react: false` on a preset's bindings.
pub fn strip(params: &mut Params, specs: &[ParamSpec]) {
    for b in find(params, specs) {
        remove(params, &b.path);
    }
}

/// `react: false` on a preset: removes the bindings of a preset's `params` and `shaders` (the
/// preset's default bindings) before the segment's own values are laid over them. Unknown
/// scenes and shaders are left for validation to report.
pub fn strip_request(
    scene: &str,
    params: &mut Params,
    shaders: &mut [crate::render::shaders::ShaderSpec],
) {
    if let Ok(kind) = scene.parse::<crate::render::scenes::Scene>() {
        strip(params, kind.params());
    }
    for sh in shaders {
        if let Some(table) = crate::render::shaders::params_of(&sh.name) {
            strip(&mut sh.params, table);
        }
    }
}

fn remove(params: &mut Params, path: &[Seg]) {
    match path {
        [Seg::Key(k)] => {
            params.remove(k);
        }
        [Seg::Key(k), Seg::Index(i), rest @ ..] => {
            if let Some(Param::List(items)) = params.get_mut(k)
                && let Some(Param::Map(m)) = items.get_mut(*i)
            {
                remove(m, rest);
            }
        }
        [Seg::Key(k), rest @ ..] => {
            if let Some(Param::Map(m)) = params.get_mut(k) {
                remove(m, rest);
            }
        }
        _ => {}
    }
}

/// A params map with every binding of `bounds` evaluated (values in `values`, same order).
pub fn resolve(params: &Params, bounds: &[Bound], values: &[f64]) -> Params {
    let mut p = params.clone();
    for (b, v) in bounds.iter().zip(values) {
        set(&mut p, &b.path, *v);
    }
    p
}

#[cfg(test)]
mod tests;
