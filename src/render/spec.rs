//! What a segment asks the renderer to draw: [`SceneSpec`], typed, built once from the plan's
//! words by [`SceneSpec::parse`] (the only place where a scene's strings are read), then sent to
//! the worker as it is.

use crate::features::Feature;
use crate::render::bind::Bound;
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
    /// The audio bindings of the scene and its shaders (empty: not reactive).
    #[serde(default)]
    pub react: React,
}

/// The audio bindings of a [`SceneSpec`]: the plan's own (kept with the params they live in,
/// which the renderer re-reads when a bound value changes) and the scene's default bindings in
/// effect (see `layers::builtin::default_bindings`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct React {
    /// The scene's params as the plan gives them (bindings included); empty when nothing is
    /// bound (neither by the plan nor by a default binding).
    pub params: Params,
    /// The bound parameters of `params`.
    pub binds: Vec<Bound>,
    /// The bound shader parameters: (position in the scene's shader list, binding).
    pub shaders: Vec<(usize, Bound)>,
    /// The scene's default bindings in effect: indexes into its `default_bindings`.
    pub defaults: Vec<usize>,
}

/// One bound parameter, for `farm check` ("reactive: bloom.thr <- rms").
#[derive(Debug, Clone, PartialEq)]
pub struct BindingInfo {
    /// The parameter: `layers[0].speed` for a scene's, `bloom.thr` for a shader's.
    pub param: String,
    /// The feature it follows.
    pub from: Feature,
    /// Whether it is one of the scene's default bindings.
    pub default: bool,
}

impl std::fmt::Display for BindingInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} <- {}", self.param, self.from)?;
        if self.default {
            f.write_str(" (default)")?;
        }
        Ok(())
    }
}

/// A crossfade's length cannot follow the music: it decides which frames of the clip before
/// the worker renders. Every other transition parameter may be bound.
fn check_crossfade_length(params: &Params) -> Result<(), SpecError> {
    use crate::render::post::Transition;
    let Some(Param::Map(t)) = params.get("transition") else {
        return Ok(());
    };
    if !matches!(t.get("in"), Some(Param::Text(w)) if w.parse() == Ok(Transition::Crossfade)) {
        return Ok(());
    }
    for k in ["seconds", "in_seconds"] {
        if matches!(t.get(k), Some(Param::Map(_))) {
            return Err(SpecError::new(
                format!("params.transition.{k}"),
                format!(
                    "transition parameter {k} cannot be bound to a feature with `in: crossfade`: a crossfade's length decides which frames of the clip before are rendered; give a number of seconds"
                ),
            ));
        }
    }
    Ok(())
}

impl SceneSpec {
    /// Whether frames of this scene depend on the clip's audio features (a parameter bound to a
    /// feature, or a scene that draws the audio). A clip that is not reactive gets no feature
    /// rows, so that a changed soundtrack does not make it stale.
    ///
    /// True for the audio scenes (`spectrum`, `scope`), and when any parameter of the scene or
    /// of its shaders is bound to a feature (the plan's own bindings or the scene's defaults).
    pub fn is_reactive(&self) -> bool {
        self.scene.draws_audio()
            || !(self.react.binds.is_empty()
                && self.react.shaders.is_empty()
                && self.react.defaults.is_empty())
    }

    /// The length in seconds of the crossfade from the clip before (`params.transition: {in:
    /// crossfade, seconds: S}`), if the scene has one.
    pub fn crossfade_in(&self) -> Option<f64> {
        self.config.crossfade_in()
    }

    /// Which parameters are bound to which features: the scene's params (`layers[0].speed`),
    /// then its default bindings, then shader params (`bloom.thr`).
    pub fn bindings(&self) -> Vec<BindingInfo> {
        let mut out: Vec<BindingInfo> = self
            .react
            .binds
            .iter()
            .map(|b| BindingInfo {
                param: b.name.clone(),
                from: b.binding.from,
                default: false,
            })
            .collect();
        let defaults = crate::render::scenes::layers::builtin::default_bindings(self.scene);
        for &i in &self.react.defaults {
            if let Some(d) = defaults.get(i) {
                out.push(BindingInfo {
                    param: d.name.to_string(),
                    from: d.binding.from,
                    default: true,
                });
            }
        }
        for (pos, b) in &self.react.shaders {
            let name = self.shaders.get(*pos).map_or("shader", |s| s.name.name());
            out.push(BindingInfo {
                param: format!("{name}.{}", b.name),
                from: b.binding.from,
                default: false,
            });
        }
        out
    }

    /// The same scene with its default bindings off (`react: false`): every parameter the plan
    /// does not bind itself is a plain number again.
    pub fn without_defaults(mut self) -> SceneSpec {
        self.react.defaults.clear();
        self
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
        check_crossfade_length(params)?;
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
        if let SceneConfig::Layers(l) = &config {
            check_follow(l)?;
        }
        let mut react = React::default();
        for (i, sh) in shaders.iter().enumerate() {
            validate_shader(i, sh)?;
            let table = crate::render::shaders::params_of(sh.name);
            for b in crate::render::bind::find(&sh.params, table) {
                react.shaders.push((i, b));
            }
        }
        react.binds = crate::render::bind::find(params, kind.params());
        react.defaults = crate::render::scenes::layers::builtin::default_bindings(kind)
            .iter()
            .enumerate()
            .filter(|(_, d)| !params.contains_key(d.top))
            .map(|(i, _)| i)
            .collect();
        // The renderer re-reads the scene's configuration from these params whenever a bound
        // value changes, so it needs them for default bindings too (else a plan's `layers:`
        // would fall back to the built-in layers at the first change).
        if !react.binds.is_empty() || !react.defaults.is_empty() {
            react.params = params.clone();
        }
        Ok(SceneSpec {
            scene: kind,
            config,
            text,
            shaders,
            fonts: Vec::new(),
            frames: 0,
            react,
        })
    }
}

/// Checks that every particle system's `follow` names a layer of the scene, and only on `flow`.
fn check_follow(l: &crate::render::scenes::layers::LayersSpec) -> Result<(), SpecError> {
    use crate::render::particles::ParticleSystem;
    for (i, p) in l.particles.iter().enumerate() {
        let Some(j) = p.follow else { continue };
        let key = format!("params.particles[{i}].follow");
        if p.system != ParticleSystem::Flow {
            return Err(SpecError::new(
                key,
                format!(
                    "only the flow system follows a layer (this one is {})",
                    p.system
                ),
            ));
        }
        let n = l.layers.len();
        if j >= n {
            let have = match n {
                0 => "no layers".to_string(),
                1 => "one layer, 0".to_string(),
                n => format!("{n} layers, 0 to {}", n - 1),
            };
            return Err(SpecError::new(
                key,
                format!("there is no layer {j}: the scene has {have}"),
            ));
        }
    }
    Ok(())
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
        crate::render::bind::strip(params, kind.params());
    }
    for sh in shaders {
        crate::render::bind::strip(&mut sh.params, crate::render::shaders::params_of(sh.name));
    }
}
