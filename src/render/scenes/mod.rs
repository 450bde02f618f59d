//! The built-in scenes: what a segment's `scene:` names.
//!
//! A scene turns a frame index (scene time `index / fps`) into a frame, before the shader chain.
//!
//! Map:
//! - [`plasma`]: two plasma layers on grids of different sizes, screen-blended ([`plasma::Plasma`],
//!   configured by [`plasma::PlasmaSpec`]).
//! - [`quote`]: centred, wrapped text over a dim plasma background ([`quote::Quote`],
//!   [`quote::QuoteSpec`]).
//! - [`plasma_layer`]: the plasma field layer those two share ([`plasma_layer::PlasmaLayer`]).
//! - [`layers`]: the composed scene ([`layers::Layers`], [`layers::LayersSpec`]): value-field
//!   layers, particles, rain, fire, text, tonemap, feedback and transitions. Every other built-in
//!   scene (`rings`, `tunnel`, ..., `attractor`) is `layers` with a built-in configuration
//!   ([`layers::builtin`]).
//!
//! - [`spectrum`]: the audio's log-frequency spectrum as bars ([`spectrum::Spectrum`],
//!   [`spectrum::SpectrumSpec`]); [`scope`]: its waveform as an oscilloscope
//!   ([`scope::Scope`], [`scope::ScopeSpec`]); [`cells`]: the cells both draw into.
//! - [`kind`]: the vocabulary of scene names ([`Scene`]) and each scene's parameter table.
//!
//! Key types: [`Scene`] (the vocabulary of scene names) and [`SceneConfig`] (a scene's typed
//! configuration, parsed once from the plan's params by [`SceneConfig::parse`]).

pub mod cells;
pub mod kind;
pub mod layers;
pub mod plasma;
pub mod plasma_layer;
pub mod quote;
pub mod scope;
pub mod spectrum;
#[cfg(test)]
mod viz_tests;

pub use kind::Scene;

use crate::render::params::{Params, SpecError};
use crate::render::post::Transition;
use serde::{Deserialize, Serialize};

/// A scene's typed configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SceneConfig {
    /// The `plasma` scene.
    Plasma(plasma::PlasmaSpec),
    /// The `quote` scene.
    Quote(quote::QuoteSpec),
    /// The `spectrum` scene.
    Spectrum(spectrum::SpectrumSpec),
    /// The `scope` scene.
    Scope(scope::ScopeSpec),
    /// `layers` and the scenes built on it (the built-in configuration already applied).
    Layers(Box<layers::LayersSpec>),
}

impl SceneConfig {
    /// Validates `params` for `scene` (names, types, ranges, with the valid choices in the
    /// message; keys are `params.<name>`) and reads them into the scene's configuration. For a
    /// scene built on `layers`, the params replace its built-in configuration key by key.
    pub fn parse(scene: Scene, params: &Params) -> Result<SceneConfig, SpecError> {
        crate::render::params::validate_params(
            params,
            scene.params(),
            "params",
            &format!("scene {scene}"),
        )?;
        let config = match scene {
            Scene::Plasma => SceneConfig::Plasma(plasma::PlasmaSpec::parse(params)),
            Scene::Quote => SceneConfig::Quote(quote::QuoteSpec::parse(params)),
            Scene::Spectrum => SceneConfig::Spectrum(spectrum::SpectrumSpec::parse(params)),
            Scene::Scope => SceneConfig::Scope(scope::ScopeSpec::parse(params)),
            _ => SceneConfig::Layers(Box::new(layers::LayersSpec::parse(
                params,
                layers::builtin::config(scene),
            ))),
        };
        if let SceneConfig::Layers(l) = &config
            && l.transition.is_some_and(|t| t.out == Transition::Crossfade)
        {
            return Err(SpecError::new(
                "params.transition.out",
                "crossfade is an in-transition only: it mixes the clip before into the clip that has it, character by character; write `transition: {in: crossfade, seconds: S}` in the params of the segment that follows instead, and leave `out` out here",
            ));
        }
        Ok(config)
    }

    /// The length in seconds of the crossfade from the clip before (`transition: {in:
    /// crossfade}`), if the scene has one.
    pub fn crossfade_in(&self) -> Option<f64> {
        match self {
            SceneConfig::Layers(l) => l.transition.and_then(|t| t.crossfade_in()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scene_names_are_the_documented_vocabulary() {
        assert_eq!(
            Scene::NAMES,
            [
                "plasma",
                "quote",
                "layers",
                "rings",
                "tunnel",
                "fbm",
                "matrix-rain",
                "fire",
                "starfield",
                "particles",
                "ticker",
                "life",
                "voronoi",
                "spectrum",
                "scope",
                "attractor",
            ]
        );
        assert_eq!("matrix-rain".parse::<Scene>(), Ok(Scene::MatrixRain));
        for t in [
            plasma::param::TABLE,
            quote::param::TABLE,
            layers::spec::param::TABLE,
            spectrum::param::TABLE,
            scope::param::TABLE,
        ] {
            let problems = crate::render::params::table_problems("scene", t);
            assert!(problems.is_empty(), "{problems:?}");
        }
    }
}
