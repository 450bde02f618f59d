//! Parameter vocabulary of scenes and shaders, validation, and typed reads with defaults.
//!
//! Each scene and shader declares its parameters as a table of [`ParamSpec`]s; [`validate_params`]
//! checks a [`Params`] map against a table (unknown names, wrong types, out-of-range values) and the
//! scenes read values back with the typed getters, falling back to the documented defaults.

use crate::render::grid::GRID_KEYS;
use crate::render::palette::{PALETTE_NAMES, palette};
use crate::render::{Param, Params, SpecError};

/// The type and accepted values of one parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A number in `min..=max` (or `min < x` when `min_exclusive`); `integer` requires a whole number.
    Num {
        /// Lower bound.
        min: f64,
        /// Upper bound (inclusive).
        max: f64,
        /// Whether the lower bound itself is rejected.
        min_exclusive: bool,
        /// Whether only whole numbers are accepted.
        integer: bool,
    },
    /// `true` or `false`.
    Bool,
    /// A palette name (see `palette_names`).
    Palette,
    /// A list of exactly two grid keys (`xs sm md lg xl xxl`).
    GridPair,
    /// One of a fixed set of names.
    Choice(&'static [&'static str]),
    /// A value checked by a function of its owner (lists, colours, "a name or a list").
    Custom(&'static CustomKind),
}

/// A parameter type checked by a function, for values the other [`Kind`]s cannot describe.
pub struct CustomKind {
    /// What is accepted, in words (for error messages).
    pub expect: &'static str,
    /// True if the value is acceptable.
    pub check: fn(&Param) -> bool,
}

impl std::fmt::Debug for CustomKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CustomKind({:?})", self.expect)
    }
}

impl PartialEq for CustomKind {
    fn eq(&self, other: &Self) -> bool {
        self.expect == other.expect
    }
}

/// One parameter a scene or shader accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamSpec {
    /// Parameter name as written in the plan.
    pub name: &'static str,
    /// Type and range.
    pub kind: Kind,
    /// The default, in words (for docs and `farm check`).
    pub default: &'static str,
    /// What it does.
    pub help: &'static str,
}

const fn num(min: f64, max: f64) -> Kind {
    Kind::Num {
        min,
        max,
        min_exclusive: false,
        integer: false,
    }
}

const fn num_pos(max: f64) -> Kind {
    Kind::Num {
        min: 0.0,
        max,
        min_exclusive: true,
        integer: false,
    }
}

const fn int(min: f64, max: f64) -> Kind {
    Kind::Num {
        min,
        max,
        min_exclusive: false,
        integer: true,
    }
}

/// Parameters of the `plasma` scene.
pub const PLASMA_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "palette",
        kind: Kind::Palette,
        default: "default",
        help: "characters of the first (finer) layer",
    },
    ParamSpec {
        name: "palette2",
        kind: Kind::Palette,
        default: "dense",
        help: "characters of the second (coarser) layer",
    },
    ParamSpec {
        name: "hue",
        kind: num(0.0, 1.0),
        default: "0",
        help: "hue offset added to both layers",
    },
    ParamSpec {
        name: "saturation",
        kind: num(0.0, 1.0),
        default: "0.75",
        help: "saturation of the first layer (the second uses 0.8x)",
    },
    ParamSpec {
        name: "speed",
        kind: num_pos(20.0),
        default: "1",
        help: "animation speed multiplier",
    },
    ParamSpec {
        name: "grids",
        kind: Kind::GridPair,
        default: "[md, xl]",
        help: "grid keys of the two layers",
    },
    ParamSpec {
        name: "opacity",
        kind: num(0.0, 1.0),
        default: "0.8",
        help: "opacity of the second layer's screen blend",
    },
];

/// Parameters of the `quote` scene.
pub const QUOTE_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "hue",
        kind: num(0.0, 1.0),
        default: "0.1",
        help: "text hue; the background uses the complementary hue",
    },
    ParamSpec {
        name: "saturation",
        kind: num(0.0, 1.0),
        default: "0.35",
        help: "text saturation",
    },
    ParamSpec {
        name: "background",
        kind: Kind::Bool,
        default: "true",
        help: "draw the dim animated background field",
    },
    ParamSpec {
        name: "palette",
        kind: Kind::Palette,
        default: "dense",
        help: "characters of the background field",
    },
    ParamSpec {
        name: "chars_per_line",
        kind: int(5.0, 200.0),
        default: "25 in portrait, 50 otherwise",
        help: "wrap width in characters (also capped by the grid's columns)",
    },
    ParamSpec {
        name: "reveal",
        kind: num(0.0, 3600.0),
        default: "0",
        help: "typewriter: seconds until the whole text shows (0 = all at once)",
    },
];

fn describe(p: &Param) -> String {
    match p {
        Param::Num(n) => format!("the number {n}"),
        Param::Bool(b) => format!("the boolean {b}"),
        Param::Text(s) => format!("the text {s:?}"),
        Param::List(l) => format!("a list of {} items", l.len()),
        Param::Map(m) => format!("a mapping of {} keys", m.len()),
    }
}

fn range_words(kind: Kind) -> String {
    match kind {
        Kind::Num {
            min,
            max,
            min_exclusive,
            integer,
        } => {
            let what = if integer {
                "a whole number"
            } else {
                "a number"
            };
            if min_exclusive {
                format!("{what} greater than {min} and at most {max}")
            } else {
                format!("{what} from {min} to {max}")
            }
        }
        Kind::Bool => "true or false".to_string(),
        Kind::Palette => format!("a palette name, one of: {}", PALETTE_NAMES.join(", ")),
        Kind::GridPair => format!(
            "a list of two grid keys, each one of: {}",
            GRID_KEYS.join(", ")
        ),
        Kind::Choice(names) => format!("one of: {}", names.join(", ")),
        Kind::Custom(c) => c.expect.to_string(),
    }
}

/// Checks one value against its spec; `Err` holds the message.
fn check(kind: Kind, value: &Param) -> Result<(), String> {
    let bad = || {
        Err(format!(
            "expected {}, got {}",
            range_words(kind),
            describe(value)
        ))
    };
    match (kind, value) {
        (
            Kind::Num {
                min,
                max,
                min_exclusive,
                integer,
            },
            Param::Num(n),
        ) => {
            let low_ok = if min_exclusive { *n > min } else { *n >= min };
            if !n.is_finite() || !low_ok || *n > max || (integer && n.fract() != 0.0) {
                return bad();
            }
            Ok(())
        }
        (Kind::Bool, Param::Bool(_)) => Ok(()),
        (Kind::Palette, Param::Text(s)) if palette(s).is_some() => Ok(()),
        (Kind::GridPair, Param::List(items)) if items.len() == 2 => {
            for item in items {
                match item {
                    Param::Text(k) if GRID_KEYS.contains(&k.as_str()) => {}
                    _ => return bad(),
                }
            }
            Ok(())
        }
        (Kind::Choice(names), Param::Text(s)) if names.contains(&s.as_str()) => Ok(()),
        (Kind::Custom(c), v) if (c.check)(v) => Ok(()),
        _ => bad(),
    }
}

/// Validates `params` against `specs`. `prefix` is prepended to keys (`"params"`, `"shaders[1]"`)
/// and `owner` names the scene or shader in messages.
pub fn validate_params(
    params: &Params,
    specs: &[ParamSpec],
    prefix: &str,
    owner: &str,
) -> Result<(), SpecError> {
    for (name, value) in params {
        let key = format!("{prefix}.{name}");
        let Some(spec) = specs.iter().find(|s| s.name == name) else {
            let valid: Vec<&str> = specs.iter().map(|s| s.name).collect();
            return Err(SpecError {
                key,
                message: format!(
                    "unknown parameter {name:?} for {owner}; valid parameters: {}",
                    if valid.is_empty() {
                        "(none)".to_string()
                    } else {
                        valid.join(", ")
                    }
                ),
            });
        };
        check(spec.kind, value).map_err(|message| SpecError {
            key,
            message: format!("{owner} parameter {name}: {message}"),
        })?;
    }
    Ok(())
}

/// Reads a number parameter, or `default` if absent or not a number.
pub fn get_num(params: &Params, name: &str, default: f64) -> f64 {
    match params.get(name) {
        Some(Param::Num(n)) if n.is_finite() => *n,
        _ => default,
    }
}

/// Reads a boolean parameter, or `default`.
pub fn get_bool(params: &Params, name: &str, default: bool) -> bool {
    match params.get(name) {
        Some(Param::Bool(b)) => *b,
        _ => default,
    }
}

/// Reads a text parameter, or `default`.
pub fn get_text<'a>(params: &'a Params, name: &str, default: &'a str) -> &'a str {
    match params.get(name) {
        Some(Param::Text(s)) => s,
        _ => default,
    }
}

/// Reads a list of text items, or `default`.
pub fn get_text_list(params: &Params, name: &str, default: &[&str]) -> Vec<String> {
    match params.get(name) {
        Some(Param::List(items)) => items
            .iter()
            .filter_map(|p| match p {
                Param::Text(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => default.iter().map(|s| s.to_string()).collect(),
    }
}
