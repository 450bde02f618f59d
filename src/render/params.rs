//! Parameter vocabulary of scenes and shaders, validation, and typed reads with defaults.
//!
//! Each scene and shader declares its parameters as a table of [`ParamSpec`]s; [`validate_params`]
//! checks a [`Params`] map against a table (unknown names, wrong types, out-of-range values) and the
//! scenes read values back with the typed getters, falling back to the documented defaults.

use crate::render::grid::GRID_KEYS;
use crate::render::palette::{PALETTE_NAMES, PARTICLE_SET_NAMES, palette, particle_set};
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
    /// One grid key.
    Grid,
    /// One of a fixed set of words.
    Choice(&'static [&'static str]),
    /// Any text.
    Text,
    /// A palette name or a particle character set name.
    Chars,
    /// A nested mapping with its own parameters.
    Map(&'static [ParamSpec]),
    /// A list of nested mappings (a single mapping is accepted as a list of one).
    MapList(&'static [ParamSpec]),
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
        Kind::Grid => format!("a grid key, one of: {}", GRID_KEYS.join(", ")),
        Kind::Choice(c) => format!("one of: {}", c.join(", ")),
        Kind::Text => "text".to_string(),
        Kind::Chars => format!(
            "a palette ({}) or a particle set ({})",
            PALETTE_NAMES.join(", "),
            PARTICLE_SET_NAMES.join(", ")
        ),
        Kind::Map(specs) => format!(
            "a mapping with keys from: {}",
            specs.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
        ),
        Kind::MapList(specs) => format!(
            "a list of mappings with keys from: {}",
            specs.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
        ),
        Kind::Custom(c) => c.expect.to_string(),
    }
}

/// Checks one value against its spec; `key` locates it (`params.layers[1].field`).
fn check(kind: Kind, value: &Param, key: &str, owner: &str) -> Result<(), SpecError> {
    let bad = || {
        Err(SpecError {
            key: key.to_string(),
            message: format!(
                "{owner} parameter {}: expected {}, got {}",
                key.rsplit('.').next().unwrap_or(key),
                range_words(kind),
                describe(value)
            ),
        })
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
        (Kind::Chars, Param::Text(s)) if palette(s).is_some() || particle_set(s).is_some() => {
            Ok(())
        }
        (Kind::Grid, Param::Text(s)) if GRID_KEYS.contains(&s.as_str()) => Ok(()),
        (Kind::Choice(c), Param::Text(s)) if c.contains(&s.as_str()) => Ok(()),
        (Kind::Text, Param::Text(_)) => Ok(()),
        (Kind::GridPair, Param::List(items)) if items.len() == 2 => {
            for item in items {
                match item {
                    Param::Text(k) if GRID_KEYS.contains(&k.as_str()) => {}
                    _ => return bad(),
                }
            }
            Ok(())
        }
        (Kind::Map(specs), Param::Map(m)) => validate_params(m, specs, key, owner),
        (Kind::MapList(specs), Param::Map(m)) => validate_params(m, specs, key, owner),
        (Kind::MapList(specs), Param::List(items)) => {
            for (i, item) in items.iter().enumerate() {
                let k = format!("{key}[{i}]");
                match item {
                    Param::Map(m) => validate_params(m, specs, &k, owner)?,
                    other => {
                        return Err(SpecError {
                            key: k,
                            message: format!(
                                "{owner}: expected a mapping with keys from: {}; got {}",
                                specs.iter().map(|s| s.name).collect::<Vec<_>>().join(", "),
                                describe(other)
                            ),
                        });
                    }
                }
            }
            Ok(())
        }
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
        check(spec.kind, value, &key, owner)?;
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

/// Reads a nested mapping, if present.
pub fn get_map<'a>(params: &'a Params, name: &str) -> Option<&'a Params> {
    match params.get(name) {
        Some(Param::Map(m)) => Some(m),
        _ => None,
    }
}

/// Reads a list of nested mappings (a single mapping counts as a list of one); empty if absent.
pub fn get_maps<'a>(params: &'a Params, name: &str) -> Vec<&'a Params> {
    match params.get(name) {
        Some(Param::Map(m)) => vec![m],
        Some(Param::List(items)) => items
            .iter()
            .filter_map(|p| match p {
                Param::Map(m) => Some(m),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
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

// ---- The composed `layers` scene and the scenes built on it ----

use crate::render::blend::BLEND_MODES;
use crate::render::color::{COLOR_MODES, HARMONY_NAMES, HUE_FIELDS, RGB_PALETTE_NAMES, TINT_NAMES};
use crate::render::fields::{
    FIELD_NAMES, LIFE_RULES, RD_PRESET_NAMES, SDF_MODES, SDF_SHAPES, VORONOI_MODES,
};
use crate::render::mask::MASK_SHAPES;
use crate::render::particles::PARTICLE_SYSTEMS;
use crate::render::post::{FEEDBACK_PRESET_NAMES, FEEDBACK_TRANSFORMS, TRANSITIONS};
use crate::render::text::TEXT_MODES;

const fn p(name: &'static str, kind: Kind, default: &'static str, help: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        kind,
        default,
        help,
    }
}

/// Parameters of a layer's `color:` mapping.
pub const COLOR_PARAMS: &[ParamSpec] = &[
    p(
        "mode",
        Kind::Choice(COLOR_MODES),
        "hsv",
        "hsv, oklch (perceptual) or palette (a discrete RGB palette)",
    ),
    p("hue", num(0.0, 1.0), "0", "base hue (turns)"),
    p(
        "hue_field",
        Kind::Choice(HUE_FIELDS),
        "value",
        "where hue varies: value, angle, distance, gradients, plasma, time (drift only), fixed",
    ),
    p(
        "hue_spread",
        num(-4.0, 4.0),
        "0.2",
        "how much the hue field moves the hue",
    ),
    p("hue_rate", num(-2.0, 2.0), "0.02", "hue drift per second"),
    p(
        "saturation",
        num(0.0, 1.0),
        "0.8",
        "saturation (oklch: chroma = 0.3 x saturation)",
    ),
    p(
        "brightness",
        num(0.0, 1.0),
        "1",
        "brightness of the highest value",
    ),
    p(
        "floor",
        num(0.0, 1.0),
        "0.05",
        "brightness of the lowest value",
    ),
    p(
        "harmony",
        Kind::Choice(HARMONY_NAMES),
        "none",
        "hue harmony: value bands take the harmony's hues",
    ),
    p(
        "palette",
        Kind::Choice(RGB_PALETTE_NAMES),
        "neon",
        "RGB palette of mode palette",
    ),
    p(
        "tint",
        Kind::Choice(TINT_NAMES),
        "neutral",
        "rgb multipliers",
    ),
];

/// Parameters of a layer's `uv:` mapping (UV transforms applied to the coordinates).
pub const UV_PARAMS: &[ParamSpec] = &[
    p("rotate", num(-10.0, 10.0), "0", "rotation (radians)"),
    p(
        "spin",
        num(-10.0, 10.0),
        "0",
        "rotation per second (radians)",
    ),
    p("zoom", num_pos(100.0), "1", "scale: >1 zooms in"),
    p(
        "zoom_rate",
        num(-2.0, 2.0),
        "0",
        "zoom change per second (exponential)",
    ),
    p("skew", num(-4.0, 4.0), "0", "horizontal skew by y"),
    p(
        "tile",
        num(0.0, 32.0),
        "0",
        "repeat the pattern in tiles of this many per frame height (0 = off)",
    ),
    p(
        "mirror",
        Kind::Bool,
        "false",
        "mirror left-right (kaleidoscope-like symmetry)",
    ),
    p(
        "polar",
        Kind::Bool,
        "false",
        "use (angle, radius) as (x, y)",
    ),
    p("twist", num(-20.0, 20.0), "0", "rotate by twist x distance"),
    p("fisheye", num(0.1, 4.0), "1", "radial power: r^k"),
    p("wave", num(0.0, 2.0), "0", "wavy displacement amplitude"),
    p(
        "drift_x",
        num(-10.0, 10.0),
        "0",
        "horizontal scroll per second",
    ),
    p(
        "drift_y",
        num(-10.0, 10.0),
        "0",
        "vertical scroll per second",
    ),
];

/// The parameters of one mask shape, shared by a mask and the shapes it combines.
macro_rules! mask_shape_params {
    ($($extra:expr),* $(,)?) => {
        &[
            p("shape", Kind::Choice(MASK_SHAPES), "circle", "mask shape"),
            p(
                "x",
                num(-4.0, 4.0),
                "0",
                "centre x (frame units: height spans -1..1)",
            ),
            p("y", num(-1.0, 1.0), "0", "centre y"),
            p(
                "radius",
                num(0.0, 4.0),
                "0.6",
                "radius (circle, ring, radial)",
            ),
            p(
                "width",
                num(0.0, 8.0),
                "1",
                "width (rect; ring thickness x4)",
            ),
            p("height", num(0.0, 2.0), "0.6", "height (rect)"),
            p("feather", num(0.0, 2.0), "0.15", "soft edge"),
            p(
                "threshold",
                num(0.0, 1.0),
                "0.5",
                "field masks: value threshold",
            ),
            p(
                "field",
                Kind::Choice(FIELD_NAMES),
                "noise",
                "field masks: the value field",
            ),
            p(
                "seconds",
                num_pos(3600.0),
                "2",
                "iris, wipe, dissolve: seconds to open fully",
            ),
            p("invert", Kind::Bool, "false", "invert the mask"),
            $($extra),*
        ]
    };
}

const MASK_LEAF: &[ParamSpec] = mask_shape_params!();

/// Parameters of a layer's `mask:` mapping.
pub const MASK_PARAMS: &[ParamSpec] = mask_shape_params!(
    p(
        "union",
        Kind::MapList(MASK_LEAF),
        "-",
        "masks combined with max",
    ),
    p(
        "intersect",
        Kind::MapList(MASK_LEAF),
        "-",
        "masks combined with min",
    ),
    p("subtract", Kind::MapList(MASK_LEAF), "-", "masks cut out"),
);

/// Parameters of one entry of `layers:`.
pub const LAYER_PARAMS: &[ParamSpec] = &[
    p("grid", Kind::Grid, "md", "grid key"),
    p("field", Kind::Choice(FIELD_NAMES), "plasma", "value field"),
    p(
        "palette",
        Kind::Palette,
        "dense",
        "characters, dark to bright",
    ),
    p("color", Kind::Map(COLOR_PARAMS), "hsv", "colour strategy"),
    p(
        "blend",
        Kind::Choice(BLEND_MODES),
        "screen (normal for the first layer)",
        "blend mode onto the layers below",
    ),
    p("linear", Kind::Bool, "false", "blend in linear light"),
    p("opacity", num(0.0, 1.0), "1", "blend opacity"),
    p("speed", num(0.0, 20.0), "1", "time multiplier"),
    p("offset", num(-3600.0, 3600.0), "0", "time offset (seconds)"),
    p("scale", num_pos(50.0), "1", "spatial frequency multiplier"),
    p(
        "count",
        num(0.0, 200.0),
        "field default",
        "rings, arms, sectors, waves, voronoi points ...",
    ),
    p("octaves", int(1.0, 8.0), "5", "noise octaves"),
    p(
        "strength",
        num(0.0, 10.0),
        "1",
        "warp strength, twist, glow falloff, static density ...",
    ),
    p("shape", Kind::Choice(SDF_SHAPES), "ring", "sdf: the shape"),
    p("sdf", Kind::Choice(SDF_MODES), "glow", "sdf: glow or fill"),
    p(
        "mode",
        Kind::Choice(VORONOI_MODES),
        "distance",
        "voronoi: distance, edge or cell",
    ),
    p(
        "rule",
        Kind::Choice(LIFE_RULES),
        "life",
        "life: the automaton rule",
    ),
    p(
        "preset",
        Kind::Choice(RD_PRESET_NAMES),
        "spots",
        "reaction_diffusion: feed/kill preset",
    ),
    p(
        "steps",
        num(0.0, 64.0),
        "8 (rd) / 10 (life)",
        "rd: steps per frame; life: generations per second",
    ),
    p(
        "threshold",
        num(0.0, 1.0),
        "0.03",
        "cells at or below this value are blank",
    ),
    p(
        "gamma",
        num_pos(8.0),
        "1",
        "value curve before picking characters (v^gamma)",
    ),
    p("contrast", num_pos(8.0), "1", "stretch values around 0.5"),
    p(
        "uv",
        Kind::Map(UV_PARAMS),
        "-",
        "UV transform of the coordinates",
    ),
    p(
        "mask",
        Kind::Map(MASK_PARAMS),
        "-",
        "mask multiplying the values",
    ),
    p(
        "texture",
        Kind::Bool,
        "false",
        "fixed hashed characters; the field drives colour only (the seed's pre-baked texture)",
    ),
    p(
        "start",
        num(0.0, 3600.0),
        "0",
        "seconds when the layer fades in",
    ),
    p(
        "end",
        num(0.0, 3600.0),
        "never",
        "seconds when the layer has faded out",
    ),
    p(
        "fade",
        num(0.0, 3600.0),
        "0.5",
        "fade length at start and end (crossfades within a clip)",
    ),
];

/// Parameters of one entry of `particles:`.
pub const PARTICLE_PARAMS: &[ParamSpec] = &[
    p(
        "system",
        Kind::Choice(PARTICLE_SYSTEMS),
        "embers",
        "particle system",
    ),
    p("grid", Kind::Grid, "sm", "grid key"),
    p(
        "chars",
        Kind::Chars,
        "system default",
        "a particle set or palette",
    ),
    p(
        "count",
        int(0.0, 5000.0),
        "system default",
        "particles kept alive, per burst, or spawned per frame (embers)",
    ),
    p("speed", num(0.0, 10.0), "1", "speed multiplier"),
    p(
        "every",
        num_pos(60.0),
        "1.5",
        "explosion: seconds between bursts",
    ),
    p("hue", num(0.0, 1.0), "0.08", "base hue"),
    p("hue_spread", num(0.0, 1.0), "0.1", "hue variation"),
    p("saturation", num(0.0, 1.0), "0.8", "saturation"),
    p("blend", Kind::Choice(BLEND_MODES), "screen", "blend mode"),
    p("opacity", num(0.0, 1.0), "1", "opacity"),
];

/// Parameters of `rain:`.
pub const RAIN_PARAMS: &[ParamSpec] = &[
    p("grid", Kind::Grid, "sm", "grid key"),
    p("chars", Kind::Chars, "kata", "characters"),
    p("hue", num(0.0, 1.0), "0.33", "tail hue"),
    p("speed", num(0.0, 10.0), "1", "fall speed multiplier"),
    p(
        "density",
        num(0.0, 1.0),
        "0.7",
        "fraction of columns that rain",
    ),
    p("blend", Kind::Choice(BLEND_MODES), "screen", "blend mode"),
    p("opacity", num(0.0, 1.0), "1", "opacity"),
];

/// Parameters of `fire:`.
pub const FIRE_PARAMS: &[ParamSpec] = &[
    p("grid", Kind::Grid, "sm", "grid key"),
    p(
        "palette",
        Kind::Palette,
        "gradient",
        "characters by intensity",
    ),
    p(
        "hue",
        num(0.0, 1.0),
        "0.02 (ice: 0.55)",
        "base hue; +0.12 at full intensity",
    ),
    p("ice", Kind::Bool, "false", "blue flames"),
    p("speed", num(0.0, 10.0), "1", "rise speed"),
    p(
        "height",
        num(0.0, 1.0),
        "0.6",
        "flame height (fraction of the frame)",
    ),
    p("blend", Kind::Choice(BLEND_MODES), "screen", "blend mode"),
    p("opacity", num(0.0, 1.0), "1", "opacity"),
];

/// Parameters of one entry of `text:`.
pub const TEXT_PARAMS: &[ParamSpec] = &[
    p(
        "mode",
        Kind::Choice(TEXT_MODES),
        "center",
        "ticker, typewriter or center",
    ),
    p("content", Kind::Text, "the segment's text", "the text"),
    p("grid", Kind::Grid, "lg", "grid key (font size)"),
    p("hue", num(0.0, 1.0), "0.12", "hue"),
    p("saturation", num(0.0, 1.0), "0.3", "saturation"),
    p("brightness", num(0.0, 1.0), "1", "brightness"),
    p("speed", num(0.0, 200.0), "8", "ticker: cells per second"),
    p("rows", int(1.0, 200.0), "3", "ticker: number of rows"),
    p(
        "row",
        num(0.0, 1.0),
        "0.5",
        "vertical position of the text (0 top, 1 bottom)",
    ),
    p(
        "reveal",
        num(0.0, 3600.0),
        "60% of the clip, else 3",
        "typewriter: seconds to type everything",
    ),
    p(
        "chars_per_line",
        int(0.0, 200.0),
        "25 portrait / 50 landscape",
        "wrap width",
    ),
    p(
        "backdrop",
        Kind::Bool,
        "true",
        "darken a box behind the text",
    ),
    p("opacity", num(0.0, 1.0), "1", "opacity"),
];

/// Parameters of `feedback:`.
pub const FEEDBACK_PARAMS: &[ParamSpec] = &[
    p(
        "preset",
        Kind::Choice(FEEDBACK_PRESET_NAMES),
        "zoom_tunnel",
        "starting values; the keys below override",
    ),
    p(
        "decay",
        num(0.0, 1.0),
        "preset",
        "buffer multiplier per frame",
    ),
    p(
        "blend",
        Kind::Choice(BLEND_MODES),
        "preset",
        "how the buffer is blended under the frame",
    ),
    p("opacity", num(0.0, 1.0), "preset", "blend opacity"),
    p(
        "transform",
        Kind::Choice(FEEDBACK_TRANSFORMS),
        "preset",
        "how the buffer moves each frame",
    ),
    p("amount", num(0.0, 0.45), "preset", "transform amount"),
    p(
        "hue_shift",
        num(-1.0, 1.0),
        "preset",
        "hue rotation per frame (turns)",
    ),
];

/// Parameters of `transition:`.
pub const TRANSITION_PARAMS: &[ParamSpec] = &[
    p(
        "in",
        Kind::Choice(TRANSITIONS),
        "none",
        "how the clip appears",
    ),
    p(
        "out",
        Kind::Choice(TRANSITIONS),
        "none",
        "how the clip disappears (needs the clip length)",
    ),
    p("seconds", num(0.0, 60.0), "0.5", "length of both"),
    p(
        "in_seconds",
        num(0.0, 60.0),
        "seconds",
        "length of the in-transition",
    ),
    p(
        "out_seconds",
        num(0.0, 60.0),
        "seconds",
        "length of the out-transition",
    ),
];

/// Parameters of the `layers` scene (and of every scene built on it).
pub const LAYERS_PARAMS: &[ParamSpec] = &[
    p(
        "layers",
        Kind::MapList(LAYER_PARAMS),
        "the scene's",
        "value-field layers, bottom first",
    ),
    p(
        "particles",
        Kind::MapList(PARTICLE_PARAMS),
        "-",
        "particle systems",
    ),
    p("rain", Kind::Map(RAIN_PARAMS), "-", "matrix rain"),
    p("fire", Kind::Map(FIRE_PARAMS), "-", "fire"),
    p("text", Kind::MapList(TEXT_PARAMS), "-", "text layers"),
    p(
        "feedback",
        Kind::Map(FEEDBACK_PARAMS),
        "-",
        "feedback buffer",
    ),
    p(
        "transition",
        Kind::Map(TRANSITION_PARAMS),
        "-",
        "in/out transitions",
    ),
    p("gamma", num_pos(4.0), "0.75", "tonemap exponent"),
    p("tonemap", Kind::Bool, "true", "percentile tonemap"),
    p(
        "tint",
        Kind::Choice(TINT_NAMES),
        "neutral",
        "rgb multipliers of the whole frame",
    ),
    p("hue", num(0.0, 1.0), "scene's", "shifts every layer's hue"),
    p(
        "speed",
        num_pos(20.0),
        "1",
        "multiplies every layer's speed",
    ),
    p(
        "palette",
        Kind::Palette,
        "scene's",
        "replaces the first layer's palette",
    ),
];
