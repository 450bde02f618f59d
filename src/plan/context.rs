//! The parse context: where a plan's values are ([`Ctx`], which turns a key into a
//! [`PlanError`] at its position) and a segment as written ([`RawSegment`]). A leaf module of
//! `plan` shared by the parser and [`super::timing`].

use super::spans::Spans;
use super::types::PlanError;
use serde::Deserialize;
use serde_yaml_ng::Value;
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSegment {
    pub(super) id: String,
    pub(super) scene: String,
    #[serde(default)]
    pub(super) duration: Option<f64>,
    #[serde(default)]
    pub(super) start: Option<f64>,
    #[serde(default)]
    pub(super) end: Option<f64>,
    #[serde(default)]
    pub(super) until: Option<String>,
    #[serde(default)]
    pub(super) beats: Option<u64>,
    #[serde(default)]
    pub(super) cut: Option<String>,
    #[serde(default)]
    pub(super) params: Option<serde_yaml_ng::Mapping>,
    #[serde(default)]
    pub(super) shaders: Option<Vec<Value>>,
    #[serde(default)]
    pub(super) text: Option<String>,
    /// `react: false`: the scene's and preset's default bindings off.
    #[serde(default)]
    pub(super) react: Option<bool>,
}

pub(super) struct Ctx<'a> {
    pub(super) file: &'a Path,
    pub(super) spans: &'a Spans,
}

impl Ctx<'_> {
    pub(super) fn at_value(&self, key: &str, message: impl Into<String>) -> PlanError {
        PlanError {
            file: self.file.to_path_buf(),
            pos: self.spans.value(key),
            key: key.to_string(),
            message: message.into(),
        }
    }
    pub(super) fn at_key(&self, key: &str, message: impl Into<String>) -> PlanError {
        PlanError {
            file: self.file.to_path_buf(),
            pos: self.spans.key(key),
            key: key.to_string(),
            message: message.into(),
        }
    }
}
