//! The vocabulary of built-in scene names ([`Scene`]) and each scene's parameter table.

use crate::render::params::{ParamSpec, vocab};
use crate::render::scenes::{layers, plasma, quote, scope, spectrum};

vocab! {
    /// The built-in scenes.
    pub enum Scene {
        /// Two plasma layers.
        Plasma = "plasma",
        /// Text over a plasma background.
        Quote = "quote",
        /// The composed scene (its own default layers unless `layers:` is given).
        Layers = "layers",
        /// `layers`: rings and spirals.
        Rings = "rings",
        /// `layers`: a tunnel with feedback.
        Tunnel = "tunnel",
        /// `layers`: fractal noise and domain warp.
        Fbm = "fbm",
        /// `layers`: matrix rain.
        MatrixRain = "matrix-rain",
        /// `layers`: fire with embers.
        Fire = "fire",
        /// `layers`: a starfield over an aurora.
        Starfield = "starfield",
        /// `layers`: explosions and a flock.
        Particles = "particles",
        /// `layers`: scrolling text rows.
        Ticker = "ticker",
        /// `layers`: a game of life.
        Life = "life",
        /// `layers`: voronoi cells.
        Voronoi = "voronoi",
        /// The audio's log-frequency spectrum as bars (bars, mirrored or radial).
        Spectrum = "spectrum",
        /// The audio's waveform as an oscilloscope trace.
        Scope = "scope",
        /// `layers`: a strange attractor (clifford, de_jong or bedhead) over a dim haze.
        Attractor = "attractor",
    }
}

impl Scene {
    /// The parameter table of the scene.
    pub fn params(self) -> &'static [ParamSpec] {
        match self {
            Scene::Plasma => plasma::param::TABLE,
            Scene::Quote => quote::param::TABLE,
            Scene::Spectrum => spectrum::param::TABLE,
            Scene::Scope => scope::param::TABLE,
            _ => layers::spec::param::TABLE,
        }
    }

    /// Whether the scene draws the audio itself (its frames depend on the clip's features).
    pub fn draws_audio(self) -> bool {
        matches!(self, Scene::Spectrum | Scene::Scope)
    }

    /// Whether the scene draws the segment's `text` and cannot do without it.
    pub fn needs_text(self) -> bool {
        matches!(self, Scene::Quote | Scene::Ticker)
    }
}
