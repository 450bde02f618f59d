//! What a segment asks the renderer to draw: [`SceneSpec`], typed, built once from the plan's
//! words by [`SceneSpec::parse`] (the only place where a scene's strings are read), then sent to
//! the worker as it is.

use crate::render::params::{Param, ParamSpec, Params, SpecError};
use crate::render::scenes::{Scene, SceneConfig};
use crate::render::shaders::{ShaderSpec, validate_shader};
use serde::{Deserialize, Serialize};

/// What a segment asks the renderer to draw, parsed and checked.
///
/// Serialisable: it crosses the IPC boundary to the worker, and the coordinator hashes it for
/// the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneSpec {
    /// The built-in scene (a preset file has been resolved by the plan into this).
    pub scene: Scene,
    /// The scene's configuration: its params read, defaults and built-in configuration applied.
    pub config: SceneConfig,
    /// Optional text (the `quote` and `ticker` scenes require it).
    pub text: Option<String>,
    /// The shader chain, in order (each checked against its parameter table).
    pub shaders: Vec<ShaderSpec>,
    /// User font files (absolute paths, from the plan's `fonts:`), tried before the embedded
    /// fonts for every character.
    #[serde(default, with = "crate::path_bytes::vec")]
    pub fonts: Vec<std::path::PathBuf>,
    /// The clip's length in frames, for effects that depend on it (fade out, transitions).
    /// Set by the coordinator for each clip; 0 when unknown (validation, single test frames).
    #[serde(default)]
    pub frames: u32,
}

impl SceneSpec {
    /// Whether frames of this scene depend on the clip's audio features (a parameter bound to a
    /// feature, or a scene that draws the audio). A clip that is not reactive gets no feature
    /// rows, so that a changed soundtrack does not make it stale.
    ///
    /// Audio scenes (`spectrum`, `scope`) always are; parameter bindings land with issue 9.
    pub fn is_reactive(&self) -> bool {
        self.scene.draws_audio()
    }

    /// Reads and checks what a segment asks for: scene name, its params (names, types, ranges),
    /// the text the scene requires, shader names and their params. The error's `key` locates the
    /// problem (`"scene"`, `"params.palette"`, `"params.layers[1].field"`, `"shaders[1]"`,
    /// `"shaders[0].thr"`, `"text"`) and its message lists the valid choices.
    pub fn parse(
        scene: &str,
        params: &Params,
        text: Option<String>,
        shaders: Vec<ShaderSpec>,
    ) -> Result<SceneSpec, SpecError> {
        let Ok(kind) = scene.parse::<Scene>() else {
            return Err(SpecError::new(
                "scene",
                format!(
                    "unknown scene {scene:?}; built-in scenes: {}",
                    Scene::NAMES.join(", ")
                ),
            ));
        };
        let config = SceneConfig::parse(kind, params)?;
        let no_text = text.as_deref().is_none_or(|t| t.trim().is_empty());
        if kind.needs_text() && no_text {
            return Err(SpecError::new(
                "text",
                format!("the {kind} scene needs a non-empty `text`"),
            ));
        }
        if matches!(config, SceneConfig::Layers(_)) && no_text {
            let text_layers: &ParamSpec = &crate::render::scenes::layers::spec::param::TEXT;
            for (i, m) in text_layers.maps(params).iter().enumerate() {
                if !matches!(m.get("content"), Some(Param::Text(s)) if !s.trim().is_empty()) {
                    return Err(SpecError::new(
                        format!("params.text[{i}].content"),
                        "a text layer needs `content` or the segment's `text`",
                    ));
                }
            }
        }
        for (i, sh) in shaders.iter().enumerate() {
            validate_shader(i, sh)?;
        }
        Ok(SceneSpec {
            scene: kind,
            config,
            text,
            shaders,
            fonts: Vec::new(),
            frames: 0,
        })
    }
}
