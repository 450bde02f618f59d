//! Parameters: the values a plan gives a scene or a shader, the tables that describe them, and
//! typed reads.
//!
//! This module is a leaf: it knows no scene, primitive or shader. Each primitive declares its own
//! parameters next to its code as [`ParamSpec`] constants (name, [`Kind`], [`Dflt`], help) and
//! lists them in a table; [`validate_params`] checks a [`Params`] map against a table (unknown
//! names, wrong types, out-of-range values, with the valid choices in the message), and the
//! owner then reads each value through its constant ([`ParamSpec::num`], [`ParamSpec::choice`],
//! ...), which falls back to the constant's default. So a parameter's name and default are
//! written once, in its constant.
//!
//! Closed vocabularies (blend modes, fields, palettes, ...) are enums declared with [`vocab!`]:
//! the words users write, the list of valid choices in error messages and the parsing all come
//! from the enum.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::str::FromStr;

/// A parameter value from the plan (`params:` of a segment, or a shader's parameters).
///
/// Externally tagged on purpose: it crosses the IPC boundary, whose format is not self-describing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Param {
    /// A number (YAML integers and floats both land here).
    Num(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Text(String),
    /// A list of values.
    List(Vec<Param>),
    /// Named values (a nested mapping, e.g. one layer of a composed scene).
    Map(Params),
}

/// Named parameters, sorted by name so that hashing and iteration are stable.
pub type Params = BTreeMap<String, Param>;

/// A problem with a scene spec, found before rendering.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecError {
    /// Where in the segment: `"scene"`, `"params.palette"`, `"shaders[1]"`, `"shaders[1].thr"`,
    /// `"text"`.
    pub key: String,
    /// What is wrong, in words a user can act on.
    pub message: String,
}

impl SpecError {
    /// An error at `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> SpecError {
        SpecError {
            key: key.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for SpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

impl std::error::Error for SpecError {}

pub(crate) use crate::vocab::vocab;

/// The type and accepted values of one parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A number in `min..=max` (or `min < x` when `min_exclusive`); `integer` requires a whole
    /// number.
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
    /// One of a fixed set of words (a vocabulary's `NAMES`).
    Choice(&'static [&'static str]),
    /// One of a fixed set of words that has a name of its own: `Named("a palette name", ...)`
    /// reads "a palette name, one of: ..." in messages.
    Named(&'static str, &'static [&'static str]),
    /// A list of exactly two words of a set: `Pair("grid keys", ...)`.
    Pair(&'static str, &'static [&'static str]),
    /// A word of one of two named sets: `Either("a palette", .., "a particle set", ..)`.
    Either(
        &'static str,
        &'static [&'static str],
        &'static str,
        &'static [&'static str],
    ),
    /// Any text.
    Text,
    /// A nested mapping with its own parameters.
    Map(&'static [ParamSpec]),
    /// A list of nested mappings (a single mapping is accepted as a list of one).
    MapList(&'static [ParamSpec]),
    /// A value checked by a function of its owner (lists, colours, "a name or a list").
    Custom(&'static CustomKind),
}

/// A parameter type checked by a function, for values the other [`Kind`]s cannot describe.
pub struct CustomKind {
    /// What is accepted, in words (for error messages and docs).
    pub expect: fn() -> String,
    /// True if the value is acceptable.
    pub check: fn(&Param) -> bool,
}

impl std::fmt::Debug for CustomKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CustomKind({:?})", (self.expect)())
    }
}

impl PartialEq for CustomKind {
    fn eq(&self, other: &Self) -> bool {
        (self.expect)() == (other.expect)()
    }
}

/// The default of a parameter: the value used when the plan leaves it out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dflt {
    /// A number.
    Num(f64),
    /// A number that stands for "work it out" (e.g. `0` = the field's own count), with the words
    /// that say what is meant.
    Auto(f64, &'static str),
    /// A boolean.
    Bool(bool),
    /// A word of the parameter's vocabulary (or a text).
    Word(&'static str),
    /// No fixed value: the owner works it out (or the parameter is optional), as described.
    Words(&'static str),
    /// A list of numbers.
    Nums(&'static [f64]),
}

impl std::fmt::Display for Dflt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dflt::Num(v) => write!(f, "{v}"),
            Dflt::Auto(_, w) | Dflt::Word(w) | Dflt::Words(w) => f.write_str(w),
            Dflt::Bool(b) => write!(f, "{b}"),
            Dflt::Nums(v) => {
                let items: Vec<String> = v.iter().map(|x| x.to_string()).collect();
                write!(f, "[{}]", items.join(", "))
            }
        }
    }
}

/// One parameter a scene, primitive or shader accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamSpec {
    /// Parameter name as written in the plan.
    pub name: &'static str,
    /// Type and range.
    pub kind: Kind,
    /// The default.
    pub default: Dflt,
    /// What it does.
    pub help: &'static str,
}

/// A parameter (for the tables).
pub const fn p(name: &'static str, kind: Kind, default: Dflt, help: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        kind,
        default,
        help,
    }
}

/// Writes the value of one numeric parameter into a typed configuration `S`, exactly as reading
/// the parameter given as that number would have (a bound parameter, once per changed value).
pub type Setter<S> = fn(&mut S, f64);

/// The setter of the numeric parameter called `name` in a table of (parameter, setter) pairs
/// that a configuration keeps next to its parse function.
pub fn setter_of<S>(setters: &[(ParamSpec, Setter<S>)], name: &str) -> Option<Setter<S>> {
    setters
        .iter()
        .find(|(p, _)| p.name == name)
        .map(|(_, f)| *f)
}

/// A number in `min..=max`.
pub const fn num(min: f64, max: f64) -> Kind {
    Kind::Num {
        min,
        max,
        min_exclusive: false,
        integer: false,
    }
}

/// A number in `0 < x <= max`.
pub const fn num_pos(max: f64) -> Kind {
    Kind::Num {
        min: 0.0,
        max,
        min_exclusive: true,
        integer: false,
    }
}

/// A whole number in `min..=max`.
pub const fn int(min: f64, max: f64) -> Kind {
    Kind::Num {
        min,
        max,
        min_exclusive: false,
        integer: true,
    }
}

impl ParamSpec {
    /// The value's number, or the default's.
    ///
    /// The default must be a number ([`Dflt::Num`] or [`Dflt::Auto`]); for a parameter without
    /// one, use [`ParamSpec::num_or`].
    pub fn num(&self, p: &Params) -> f64 {
        let d = match self.default {
            Dflt::Num(v) | Dflt::Auto(v, _) => v,
            _ => {
                debug_assert!(false, "parameter {} has no numeric default", self.name);
                0.0
            }
        };
        self.num_or(p, d)
    }

    /// The value's number, or `default` (for parameters whose default the owner works out).
    pub fn num_or(&self, p: &Params, default: f64) -> f64 {
        self.opt_num(p).unwrap_or(default)
    }

    /// The value's number, if it is given.
    pub fn opt_num(&self, p: &Params) -> Option<f64> {
        match p.get(self.name) {
            Some(Param::Num(n)) if n.is_finite() => Some(*n),
            _ => None,
        }
    }

    /// The value's number clamped to the parameter's range (or the default's).
    pub fn clamped(&self, p: &Params) -> f64 {
        self.clamp(self.num(p))
    }

    /// `v` clamped to the parameter's range: what [`ParamSpec::clamped`] reads when the value
    /// is `v` (for a bound value).
    pub fn clamp(&self, v: f64) -> f64 {
        match self.kind {
            Kind::Num { min, max, .. } => v.clamp(min, max),
            _ => v,
        }
    }

    /// The value's whole number (rounded) clamped to the parameter's range (or the default's).
    pub fn whole(&self, p: &Params) -> i64 {
        self.whole_of(self.num(p))
    }

    /// `v` rounded and clamped to the parameter's range: what [`ParamSpec::whole`] reads when
    /// the value is `v` (for a bound value).
    pub fn whole_of(&self, v: f64) -> i64 {
        let v = v.round() as i64;
        match self.kind {
            Kind::Num { min, max, .. } => v.clamp(min as i64, max as i64),
            _ => v,
        }
    }

    /// The value's number, else the `alias` parameter's (another name for the same setting),
    /// else the default, clamped to the parameter's range.
    pub fn clamped_or(&self, p: &Params, alias: &ParamSpec) -> f64 {
        let v = self
            .opt_num(p)
            .or_else(|| alias.opt_num(p))
            .unwrap_or_else(|| self.num(&Params::new()));
        match self.kind {
            Kind::Num { min, max, .. } => v.clamp(min, max),
            _ => v,
        }
    }

    /// The value's list of `n` numbers, or the default list ([`Dflt::Nums`]).
    pub fn nums_or_default(&self, p: &Params, n: usize) -> Vec<f64> {
        match (self.nums(p), self.default) {
            (Some(v), _) if v.len() == n => v,
            (_, Dflt::Nums(d)) => d.to_vec(),
            _ => Vec::new(),
        }
    }

    /// The value's boolean, or the default's.
    pub fn bool(&self, p: &Params) -> bool {
        match p.get(self.name) {
            Some(Param::Bool(b)) => *b,
            _ => matches!(self.default, Dflt::Bool(true)),
        }
    }

    /// The value's text, if it is a text.
    pub fn text<'a>(&self, p: &'a Params) -> Option<&'a str> {
        match p.get(self.name) {
            Some(Param::Text(s)) => Some(s),
            _ => None,
        }
    }

    /// The value's text, or the default word.
    pub fn word<'a>(&self, p: &'a Params) -> &'a str {
        match (p.get(self.name), self.default) {
            (Some(Param::Text(s)), _) => s,
            (_, Dflt::Word(w)) => w,
            _ => "",
        }
    }

    /// The value parsed as a word of vocabulary `T`, if it is given and one of its words.
    pub fn opt_choice<T: FromStr>(&self, p: &Params) -> Option<T> {
        self.text(p).and_then(|s| s.parse().ok())
    }

    /// The value as a word of vocabulary `T`, or the default word.
    ///
    /// # Panics
    /// If the default is not a word of `T` (a table bug, caught by the tables' unit tests).
    pub fn choice<T: FromStr>(&self, p: &Params) -> T {
        self.opt_choice(p).unwrap_or_else(|| match self.default {
            Dflt::Word(w) => w
                .parse()
                .unwrap_or_else(|_| panic!("default {w:?} of {} is not a choice", self.name)),
            _ => panic!("parameter {} has no default word", self.name),
        })
    }

    /// The nested mapping, if one is given.
    pub fn map<'a>(&self, p: &'a Params) -> Option<&'a Params> {
        match p.get(self.name) {
            Some(Param::Map(m)) => Some(m),
            _ => None,
        }
    }

    /// The list of nested mappings (a single mapping counts as a list of one); empty if absent.
    pub fn maps<'a>(&self, p: &'a Params) -> Vec<&'a Params> {
        match p.get(self.name) {
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

    /// The words of a list of texts (e.g. a grid pair), if given.
    pub fn words<'a>(&self, p: &'a Params) -> Option<Vec<&'a str>> {
        match p.get(self.name) {
            Some(Param::List(items)) => Some(
                items
                    .iter()
                    .filter_map(|p| match p {
                        Param::Text(s) => Some(s.as_str()),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The numbers of a list of numbers, if the value is one.
    pub fn nums(&self, p: &Params) -> Option<Vec<f64>> {
        p.get(self.name).and_then(nums_of)
    }

    /// Whether the plan gives this parameter.
    pub fn given(&self, p: &Params) -> bool {
        p.contains_key(self.name)
    }
}

/// The numbers of a list of numbers, or `None`.
pub fn nums_of(p: &Param) -> Option<Vec<f64>> {
    match p {
        Param::List(items) => items
            .iter()
            .map(|p| match p {
                Param::Num(n) if n.is_finite() => Some(*n),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// True if `p` is a list of `len` numbers in `lo..=hi` (whole numbers if `integer`).
pub fn is_num_list(p: &Param, len: usize, lo: f64, hi: f64, integer: bool) -> bool {
    match p {
        Param::List(items) => {
            items.len() == len
                && items.iter().all(|i| match i {
                    Param::Num(n) => {
                        n.is_finite() && *n >= lo && *n <= hi && (!integer || n.fract() == 0.0)
                    }
                    _ => false,
                })
        }
        _ => false,
    }
}

fn describe(p: &Param) -> String {
    match p {
        Param::Num(n) => format!("the number {n}"),
        Param::Bool(b) => format!("the boolean {b}"),
        Param::Text(s) => format!("the text {s:?}"),
        Param::List(l) => format!("a list of {} items", l.len()),
        Param::Map(m) => format!("a mapping of {} keys", m.len()),
    }
}

/// What a kind accepts, in words (for error messages and docs).
pub fn range_words(kind: Kind) -> String {
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
        Kind::Named(what, names) => format!("{what}, one of: {}", names.join(", ")),
        Kind::Pair(what, names) => {
            format!("a list of two {what}, each one of: {}", names.join(", "))
        }
        Kind::Choice(c) => format!("one of: {}", c.join(", ")),
        Kind::Text => "text".to_string(),
        Kind::Either(a, an, b, bn) => {
            format!("{a} ({}) or {b} ({})", an.join(", "), bn.join(", "))
        }
        Kind::Map(specs) => format!("a mapping with keys from: {}", names_of(specs)),
        Kind::MapList(specs) => format!("a list of mappings with keys from: {}", names_of(specs)),
        Kind::Custom(c) => (c.expect)(),
    }
}

fn names_of(specs: &[ParamSpec]) -> String {
    specs.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
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
        (Kind::Num { .. }, Param::Map(m)) => check_binding(m, kind, key, owner),
        (Kind::Bool, Param::Bool(_)) => Ok(()),
        (Kind::Choice(c) | Kind::Named(_, c), Param::Text(s)) if c.contains(&s.as_str()) => Ok(()),
        (Kind::Either(_, a, _, b), Param::Text(s))
            if a.contains(&s.as_str()) || b.contains(&s.as_str()) =>
        {
            Ok(())
        }
        (Kind::Text, Param::Text(_)) => Ok(()),
        (Kind::Pair(_, names), Param::List(items)) if items.len() == 2 => {
            for item in items {
                match item {
                    Param::Text(k) if names.contains(&k.as_str()) => {}
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
                                names_of(specs),
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

/// Checks a table itself: defaults of choices are words of their vocabulary, numeric defaults
/// are in range (for the tables' unit tests). Returns the problems found.
pub fn table_problems(owner: &str, specs: &[ParamSpec]) -> Vec<String> {
    let mut out = Vec::new();
    for s in specs {
        match (s.kind, s.default) {
            (Kind::Choice(names) | Kind::Named(_, names), Dflt::Word(w)) if !names.contains(&w) => {
                out.push(format!("{owner}.{}: default {w:?} is not a choice", s.name))
            }
            (Kind::Num { min, max, .. }, Dflt::Num(v)) if v < min || v > max => {
                out.push(format!("{owner}.{}: default {v} is out of range", s.name))
            }
            (Kind::Map(t) | Kind::MapList(t), _) => {
                out.extend(table_problems(&format!("{owner}.{}", s.name), t))
            }
            _ => {}
        }
        if s.help.is_empty() {
            out.push(format!("{owner}.{}: no help", s.name));
        }
    }
    out
}

// Bindings of numeric parameters to audio features (`render::bind` walks and resolves them;
// the type and its check live here so that validation stays in this leaf).

use crate::features::{Feature, Row};
use crate::render::frame::FrameCx;

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

/// Checks a configuration's setters against its parse function (for the tables' unit tests):
/// every numeric parameter of `table` has a setter, and for a few values `x` in its range,
/// reading the parameter given as `x` equals reading it bound (its default) and then setting
/// `x`. Returns the problems found.
#[cfg(test)]
pub fn setter_problems<S: PartialEq + std::fmt::Debug>(
    owner: &str,
    table: &[ParamSpec],
    setters: &[(ParamSpec, Setter<S>)],
    parse: impl Fn(&Params) -> S,
) -> Vec<String> {
    let mut out = Vec::new();
    for (p, _) in setters {
        if !table.iter().any(|t| t == p) {
            out.push(format!("{owner}.{}: a setter for no parameter", p.name));
        }
    }
    for spec in table {
        let Kind::Num {
            min,
            max,
            min_exclusive,
            integer,
        } = spec.kind
        else {
            continue;
        };
        let Some(set) = setter_of(setters, spec.name) else {
            out.push(format!("{owner}.{}: no setter", spec.name));
            continue;
        };
        let lo = if min_exclusive {
            min + (max - min) * 0.01
        } else {
            min
        };
        for x in [lo, min + (max - min) * 0.37, max] {
            let x = if integer { x.round() } else { x };
            let given: Params = [(spec.name.to_string(), Param::Num(x))].into();
            let binding: Params = [
                ("from".to_string(), Param::Text("rms".into())),
                (
                    "range".to_string(),
                    Param::List(vec![Param::Num(x), Param::Num(x)]),
                ),
            ]
            .into();
            let bound: Params = [(spec.name.to_string(), Param::Map(binding))].into();
            let mut got = parse(&bound);
            set(&mut got, x);
            let want = parse(&given);
            if got != want {
                out.push(format!(
                    "{owner}.{} = {x}: set gives {got:?}, parse gives {want:?}",
                    spec.name
                ));
            }
        }
    }
    out
}
