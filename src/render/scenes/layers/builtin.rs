//! The built-in configurations of the scenes built on `layers` (`rings`, `tunnel`, `fbm`,
//! `matrix-rain`, `fire`, `starfield`, `particles`, `ticker`, `life`, `voronoi`, `attractor`)
//! and the default
//! layers of `layers` itself, as Rust values. A segment's params replace their keys (see
//! [`LayersSpec::parse`]); `docs/scenes.md` describes each scene.

use crate::features::Feature;
use crate::render::blend::BlendMode;
use crate::render::color::{ColorMode, ColorSpec, HueField, RgbPalette, Tint};
use crate::render::effects::{FireSpec, RainSpec};
use crate::render::fields::{FieldKind, FieldSpec, LifeRule, VoronoiMode};
use crate::render::grid::GridKey;
use crate::render::palette::{CharSet, PaletteName, ParticleSet};
use crate::render::params::Params;
use crate::render::params::{Binding, Curve, Trigger};
use crate::render::particles::{ParticleSpec, ParticleSystem};
use crate::render::post::{FeedbackPreset, FeedbackSpec};
use crate::render::scenes::kind::Scene;
use crate::render::scenes::layers::spec::{LayerSpec, LayersSpec};
use crate::render::text::{TextMode, TextSpec};

use FieldKind as F;
use GridKey as G;
use PaletteName as P;

/// A layer with every other setting at its default.
fn layer(grid: GridKey, field: FieldKind, palette: PaletteName) -> LayerSpec {
    LayerSpec {
        grid,
        field: FieldSpec {
            kind: field,
            ..FieldSpec::default()
        },
        palette,
        ..LayerSpec::default()
    }
}

/// A colour strategy of `hue` and `saturation`, every other setting at its default.
fn color(hue: f64, saturation: f64) -> ColorSpec {
    ColorSpec {
        hue,
        saturation,
        ..ColorSpec::default()
    }
}

fn particles(system: ParticleSystem, grid: GridKey, chars: CharSet, hue: f64) -> ParticleSpec {
    ParticleSpec {
        system,
        grid,
        chars: Some(chars),
        hue,
        ..ParticleSpec::parse(&Params::new())
    }
}

fn feedback(preset: FeedbackPreset) -> Option<FeedbackSpec> {
    let mut f = FeedbackSpec::parse(&Params::new());
    f.preset = preset;
    Some(f)
}

/// The configuration of `scene` before the segment's params (for `plasma`, `quote`, `spectrum` and `scope`, which
/// are not built on `layers`: no layer).
pub fn config(scene: Scene) -> LayersSpec {
    let base = LayersSpec {
        gamma: 0.8,
        ..LayersSpec::empty()
    };
    match scene {
        Scene::Plasma | Scene::Quote | Scene::Spectrum | Scene::Scope => LayersSpec::empty(),
        Scene::Layers => LayersSpec {
            layers: vec![
                LayerSpec {
                    color: ColorSpec {
                        floor: 0.1,
                        ..color(0.6, 0.7)
                    },
                    ..layer(G::Sm, F::Plasma, P::Dense)
                },
                LayerSpec {
                    opacity: 0.7,
                    color: ColorSpec {
                        hue: 0.1,
                        ..ColorSpec::default()
                    },
                    ..layer(G::Lg, F::Rings, P::Circuit)
                },
            ],
            gamma: 0.75,
            ..LayersSpec::empty()
        },
        Scene::Rings => {
            let mut l0 = layer(G::Sm, F::Plasma, P::Dense);
            l0.field.scale = 0.7;
            l0.speed = 0.5;
            l0.color = ColorSpec {
                brightness: 0.45,
                floor: 0.1,
                ..color(0.62, 0.7)
            };
            let mut l1 = layer(G::Md, F::Rings, P::Circuit);
            l1.field.count = 5.0;
            l1.speed = 0.8;
            l1.color = ColorSpec {
                mode: ColorMode::Oklch,
                hue_field: HueField::Distance,
                hue_spread: 0.6,
                ..color(0.55, 0.8)
            };
            l1.blend = Some(BlendMode::Screen);
            let mut l2 = layer(G::Xl, F::Spiral, P::Stars);
            l2.field.count = 4.0;
            l2.opacity = 0.55;
            l2.threshold = 0.55;
            l2.color = color(0.9, 0.5);
            LayersSpec {
                layers: vec![l0, l1, l2],
                ..base
            }
        }
        Scene::Tunnel => {
            let mut l0 = layer(G::Sm, F::Tunnel, P::BlocksExt);
            l0.field.count = 8.0;
            l0.speed = 1.2;
            l0.color = ColorSpec {
                hue_field: HueField::Distance,
                hue_spread: 0.5,
                ..color(0.75, 0.85)
            };
            let mut l1 = layer(G::Lg, F::Vortex, P::Math);
            l1.opacity = 0.6;
            l1.threshold = 0.45;
            l1.color = color(0.5, 0.6);
            LayersSpec {
                layers: vec![l0, l1],
                feedback: feedback(FeedbackPreset::ZoomTunnel),
                ..base
            }
        }
        Scene::Fbm => {
            let mut l0 = layer(G::Sm, F::Fbm, P::Dense);
            l0.field.scale = 1.2;
            l0.color = ColorSpec {
                mode: ColorMode::Oklch,
                hue_field: HueField::Value,
                hue_spread: 0.5,
                floor: 0.1,
                ..color(0.45, 0.7)
            };
            let mut l1 = layer(G::Lg, F::DomainWarp, P::Organic);
            l1.opacity = 0.6;
            l1.threshold = 0.4;
            l1.color = color(0.1, 0.6);
            LayersSpec {
                layers: vec![l0, l1],
                ..base
            }
        }
        Scene::MatrixRain => {
            let mut l0 = layer(G::Sm, F::Noise, P::Binary);
            l0.texture = true;
            l0.field.scale = 2.0;
            l0.speed = 0.3;
            l0.color = ColorSpec {
                hue_field: HueField::Fixed,
                brightness: 0.22,
                floor: 0.08,
                ..color(0.33, 0.9)
            };
            let rain = RainSpec {
                grid: G::Sm,
                chars: CharSet::Palette(P::Kata),
                hue: 0.33,
                density: 0.75,
                ..RainSpec::parse(&Params::new())
            };
            LayersSpec {
                layers: vec![l0],
                rain: Some(rain),
                tint: Tint::Matrix,
                ..base
            }
        }
        Scene::Fire => {
            let mut l0 = layer(G::Md, F::Fbm, P::Minimal);
            l0.field.scale = 0.8;
            l0.speed = 0.4;
            l0.color = ColorSpec {
                hue_field: HueField::Fixed,
                brightness: 0.35,
                floor: 0.12,
                ..color(0.02, 0.9)
            };
            let fire = FireSpec {
                grid: G::Sm,
                palette: P::Gradient,
                height: 0.65,
                ..FireSpec::parse(&Params::new())
            };
            LayersSpec {
                layers: vec![l0],
                fire: Some(fire),
                particles: vec![particles(
                    ParticleSystem::Embers,
                    G::Sm,
                    CharSet::Particles(ParticleSet::Spark),
                    0.06,
                )],
                feedback: feedback(FeedbackPreset::HeatHaze),
                ..base
            }
        }
        Scene::Starfield => {
            let mut l0 = layer(G::Md, F::Aurora, P::Braille);
            l0.field.scale = 0.8;
            l0.speed = 0.3;
            l0.color = ColorSpec {
                mode: ColorMode::Oklch,
                hue_field: HueField::GradientH,
                hue_spread: 0.3,
                brightness: 0.5,
                floor: 0.12,
                ..color(0.7, 0.6)
            };
            let stars = ParticleSpec {
                count: 500.0,
                hue_spread: 0.3,
                saturation: 0.3,
                ..particles(
                    ParticleSystem::Starfield,
                    G::Sm,
                    CharSet::Palette(P::Stars),
                    0.6,
                )
            };
            LayersSpec {
                layers: vec![l0],
                particles: vec![stars],
                gamma: 0.85,
                ..base
            }
        }
        Scene::Particles => {
            let mut l0 = layer(G::Md, F::Interference, P::Dots);
            l0.speed = 0.5;
            l0.color = ColorSpec {
                hue_field: HueField::Angle,
                hue_spread: 0.4,
                brightness: 0.45,
                floor: 0.1,
                ..color(0.8, 0.7)
            };
            let explosion = ParticleSpec {
                every: 1.0,
                hue_spread: 0.6,
                ..particles(
                    ParticleSystem::Explosion,
                    G::Sm,
                    CharSet::Particles(ParticleSet::Explosion),
                    0.08,
                )
            };
            let boids = ParticleSpec {
                count: 160.0,
                ..particles(
                    ParticleSystem::Boids,
                    G::Md,
                    CharSet::Particles(ParticleSet::Boids),
                    0.5,
                )
            };
            LayersSpec {
                layers: vec![l0],
                particles: vec![explosion, boids],
                feedback: feedback(FeedbackPreset::RainbowTrails),
                ..base
            }
        }
        Scene::Ticker => {
            let mut l0 = layer(G::Sm, F::Sinefield, P::Box);
            l0.speed = 0.6;
            l0.color = ColorSpec {
                hue_field: HueField::GradientH,
                hue_spread: 0.3,
                brightness: 0.5,
                floor: 0.1,
                ..color(0.58, 0.6)
            };
            let text = TextSpec {
                mode: TextMode::Ticker,
                grid: G::Lg,
                rows: 5.0,
                speed: 10.0,
                hue: 0.12,
                saturation: 0.35,
                backdrop: true,
                ..TextSpec::parse(&Params::new())
            };
            LayersSpec {
                layers: vec![l0],
                text: vec![text],
                gamma: 0.85,
                ..base
            }
        }
        Scene::Life => {
            let mut l0 = layer(G::Sm, F::Plasma, P::Minimal);
            l0.field.scale = 0.5;
            l0.speed = 0.4;
            l0.color = ColorSpec {
                brightness: 0.35,
                floor: 0.12,
                ..color(0.35, 0.6)
            };
            let mut l1 = layer(G::Md, F::Life, P::Blocks);
            l1.field.rule = LifeRule::Coral;
            l1.color = ColorSpec {
                hue_field: HueField::Distance,
                hue_spread: 0.4,
                ..color(0.3, 0.8)
            };
            LayersSpec {
                layers: vec![l0, l1],
                ..base
            }
        }
        Scene::Voronoi => {
            let mut l0 = layer(G::Sm, F::Voronoi, P::Hatch);
            l0.field.mode = VoronoiMode::Cell;
            l0.field.count = 16.0;
            l0.color = ColorSpec {
                mode: ColorMode::Palette,
                palette: RgbPalette::Vaporwave,
                brightness: 0.7,
                floor: 0.2,
                ..ColorSpec::default()
            };
            let mut l1 = layer(G::Md, F::Voronoi, P::Box);
            l1.field.mode = VoronoiMode::Edge;
            l1.field.count = 16.0;
            l1.color = color(0.9, 0.3);
            l1.blend = Some(BlendMode::Screen);
            LayersSpec {
                layers: vec![l0, l1],
                ..base
            }
        }
        Scene::Attractor => {
            // A soft halo of the same figure on a coarser grid, under the crisp one.
            let mut l0 = layer(G::Lg, F::Attractor, P::Braille);
            l0.field.count = 1.0;
            l0.field.steps = 48.0;
            l0.threshold = 0.0;
            l0.color = ColorSpec {
                hue_field: HueField::Value,
                hue_spread: 0.1,
                brightness: 0.45,
                floor: 0.12,
                ..color(0.68, 0.55)
            };
            let mut l1 = layer(G::Sm, F::Attractor, P::Dense);
            l1.threshold = 0.0;
            l1.gamma = 1.6;
            l1.color = ColorSpec {
                mode: ColorMode::Oklch,
                hue_field: HueField::Value,
                hue_spread: 0.25,
                brightness: 1.0,
                floor: 0.3,
                ..color(0.5, 0.85)
            };
            l1.blend = Some(BlendMode::Screen);
            LayersSpec {
                layers: vec![l0, l1],
                ..base
            }
        }
    }
}

/// A default binding of a built-in scene: a parameter of its built-in configuration that
/// follows an audio feature unless the segment gives the top-level key it lives under (`top`)
/// or sets `react: false`.
#[derive(Debug, Clone, Copy)]
pub struct DefaultBinding {
    /// The top-level param whose value, given by the plan, replaces this binding.
    pub top: &'static str,
    /// The parameter as `farm check` names it (`layers[1].opacity`), which is also where the
    /// renderer writes it (`render::bind::path_of`, compiled by `layers::tune::compile`).
    pub name: &'static str,
    /// The binding.
    pub binding: Binding,
}

/// A continuous binding of `from` onto `lo..hi`, smoothed by `smooth`.
const fn follow(from: Feature, lo: f64, hi: f64, smooth: f64) -> Binding {
    Binding {
        from,
        range: [lo, hi],
        curve: Curve::Linear,
        smooth,
        on: None,
        integer: false,
    }
}

/// Every layer's hue drifting with the spectral centroid (slowly).
const HUE_DRIFT: DefaultBinding = DefaultBinding {
    top: "hue",
    name: "hue",
    binding: follow(Feature::Cent, 0.0, 0.12, 0.9),
};

/// The attractor's drift following the spectral centroid (slowly).
const ATTRACTOR_SPREAD: Binding = follow(Feature::Cent, 0.5, 2.0, 0.9);

/// The attractor's kick on every beat, decaying by 0.8 per frame.
const ATTRACTOR_JOLT: Binding = Binding {
    on: Some(Trigger::Beat),
    ..follow(Feature::Beat, 0.0, 1.0, 0.8)
};

/// The default bindings of `scene` (none for `plasma` and `quote`, whose parameters are fixed
/// when a clip starts, nor for the audio scenes `spectrum` and `scope`, which draw the audio
/// itself). `docs/reactive.md` lists them.
pub fn default_bindings(scene: Scene) -> Vec<DefaultBinding> {
    use Feature as A;
    match scene {
        Scene::Plasma | Scene::Quote | Scene::Spectrum | Scene::Scope => vec![],
        Scene::Layers => vec![
            DefaultBinding {
                top: "layers",
                name: "layers[1].opacity",
                binding: follow(A::Bass, 0.4, 1.0, 0.5),
            },
            HUE_DRIFT,
        ],
        Scene::Rings => vec![
            DefaultBinding {
                top: "layers",
                name: "layers[1].scale",
                binding: follow(A::Bass, 0.8, 1.6, 0.5),
            },
            DefaultBinding {
                top: "layers",
                name: "layers[2].opacity",
                binding: follow(A::BDecay, 0.3, 0.85, 0.0),
            },
            HUE_DRIFT,
        ],
        Scene::Tunnel => vec![
            DefaultBinding {
                top: "layers",
                name: "layers[1].opacity",
                binding: follow(A::Flux, 0.35, 0.9, 0.3),
            },
            HUE_DRIFT,
        ],
        Scene::Fbm => vec![
            DefaultBinding {
                top: "layers",
                name: "layers[1].strength",
                binding: follow(A::Bass, 0.6, 1.8, 0.6),
            },
            HUE_DRIFT,
        ],
        Scene::MatrixRain => vec![DefaultBinding {
            top: "rain",
            name: "rain.density",
            binding: follow(A::Rms, 0.5, 0.95, 0.5),
        }],
        Scene::Fire => vec![DefaultBinding {
            top: "fire",
            name: "fire.height",
            binding: follow(A::Rms, 0.45, 0.85, 0.5),
        }],
        Scene::Starfield => vec![DefaultBinding {
            top: "particles",
            name: "particles[0].speed",
            binding: follow(A::Flux, 0.6, 2.0, 0.6),
        }],
        Scene::Particles => vec![
            DefaultBinding {
                top: "particles",
                name: "particles[0].burst",
                binding: Binding {
                    on: Some(Trigger::Beat),
                    ..follow(A::Beat, 0.0, 1.0, 0.0)
                },
            },
            HUE_DRIFT,
        ],
        Scene::Ticker => vec![HUE_DRIFT],
        Scene::Life => vec![DefaultBinding {
            top: "layers",
            name: "layers[0].opacity",
            binding: follow(A::Rms, 0.5, 1.0, 0.5),
        }],
        Scene::Voronoi => vec![
            DefaultBinding {
                top: "layers",
                name: "layers[1].opacity",
                binding: follow(A::BDecay, 0.4, 1.0, 0.0),
            },
            HUE_DRIFT,
        ],
        Scene::Attractor => vec![
            // The halo (layer 0) follows the crisp figure (layer 1): both get the same drift
            // and jolt, so they draw one figure.
            DefaultBinding {
                top: "layers",
                name: "layers[0].strength",
                binding: ATTRACTOR_SPREAD,
            },
            DefaultBinding {
                top: "layers",
                name: "layers[1].strength",
                binding: ATTRACTOR_SPREAD,
            },
            DefaultBinding {
                top: "layers",
                name: "layers[1].color.brightness",
                binding: follow(A::Rms, 0.6, 1.0, 0.5),
            },
            DefaultBinding {
                top: "layers",
                name: "layers[0].jolt",
                binding: ATTRACTOR_JOLT,
            },
            DefaultBinding {
                top: "layers",
                name: "layers[1].jolt",
                binding: ATTRACTOR_JOLT,
            },
            HUE_DRIFT,
        ],
    }
}
