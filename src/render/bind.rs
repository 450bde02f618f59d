//! Reactive parameters: a numeric parameter of a scene, a layer, a primitive or a shader may be
//! a [`Binding`] to an audio feature instead of a number, e.g. `speed: {from: bass, range: [3,
//! 12]}` (`docs/reactive.md` is the user reference).
//!
//! A binding is written where the number would be, as a mapping with the keys `from` (a
//! [`Feature`]), `range` (the values at feature 0 and 1, each within the parameter's own range),
//! optional `curve` ([`Curve`]), `smooth` (0..1) and `on` ([`Trigger`]). [`check_binding`]
//! validates it against the parameter's [`Kind`] (the error's key names the offending binding
//! key); [`find`] lists every binding of a validated params map (with its path, which the
//! renderer compiles into a typed setter when it is built: `render::renderer`); [`path_of`] is
//! the path of a parameter written by name (the default bindings); [`Binding::at`] evaluates one
//! at a frame.
//!
//! Evaluation depends only on the global frame: smoothing and trigger decay run over a window
//! of [`WINDOW`] frames ending at the frame, started fresh at the window's first frame (or at the
//! video's first frame), so every clip and chunk that renders global frame `g` gets the same
//! value, provided its features carry `min(start, LEAD)` rows of history ([`LEAD`]).

use crate::render::params::{Kind, Param, ParamSpec, Params};
use serde::{Deserialize, Serialize};

pub use crate::render::params::{
    Binding, Curve, KEYS, LEAD, Setter, Trigger, WINDOW, check_binding, parse_binding,
};

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

/// The path of a parameter named as messages name it (`layers[1].opacity`, `rain.density`):
/// the inverse of [`Bound::name`], for the default bindings, which are written by name.
pub fn path_of(name: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in name.split('.') {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            out.push(Seg::Key(rest[..i].to_string()));
            rest = &rest[i..];
            while let Some(r) = rest.strip_prefix('[') {
                let Some(j) = r.find(']') else { break };
                if let Ok(n) = r[..j].parse() {
                    out.push(Seg::Index(n));
                }
                rest = &r[j + 1..];
            }
        } else {
            out.push(Seg::Key(rest.to_string()));
        }
    }
    out
}

/// Removes every binding of `params` (validated or not against `specs`): the parameter then
/// takes its default. Used for `react: false` on a preset's bindings.
pub fn strip(params: &mut Params, specs: &[ParamSpec]) {
    for b in find(params, specs) {
        remove(params, &b.path);
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

#[cfg(test)]
mod families;
#[cfg(test)]
mod tests;
