//! The configuration of the `layers` scene: [`LayersSpec`] (the whole scene) and [`LayerSpec`]
//! (one value-field layer), their parameter tables ([`param`]) and how they are read from
//! validated params.

use crate::render::blend::BlendMode;
use crate::render::color::{ColorSpec, Tint};
use crate::render::effects::{FireSpec, RainSpec};
use crate::render::fields::FieldSpec;
use crate::render::grid::GridKey;
use crate::render::mask::MaskSpec;
use crate::render::palette::PaletteName;
use crate::render::params::{ParamSpec, Params, Setter};
use crate::render::particles::ParticleSpec;
use crate::render::post::{FeedbackSpec, TransitionSpec};
use crate::render::scenes::layers::uv::UvSpec;
use crate::render::text::TextSpec;
use serde::{Deserialize, Serialize};

/// The parameters of the `layers` scene and of one of its layers.
pub mod param {
    use crate::render::blend::BlendMode;
    use crate::render::color::Tint;
    use crate::render::fields::param as field;
    use crate::render::grid::GridKey;
    use crate::render::palette::PaletteName;
    use crate::render::params::{Dflt, Kind, ParamSpec, num, num_pos, p};

    /// `layers[].grid`.
    pub const GRID: ParamSpec = p(
        "grid",
        Kind::Named("a grid key", GridKey::NAMES),
        Dflt::Word("md"),
        "grid key",
    );
    /// `layers[].palette`.
    pub const PALETTE: ParamSpec = p(
        "palette",
        Kind::Named("a palette name", PaletteName::NAMES),
        Dflt::Word("dense"),
        "characters, dark to bright",
    );
    /// `layers[].color`.
    pub const COLOR: ParamSpec = p(
        "color",
        Kind::Map(crate::render::color::param::TABLE),
        Dflt::Words("hsv"),
        "colour strategy",
    );
    /// `layers[].blend`.
    pub const BLEND: ParamSpec = p(
        "blend",
        Kind::Choice(BlendMode::NAMES),
        Dflt::Words("screen (normal for the first layer)"),
        "blend mode onto the layers below",
    );
    /// `layers[].linear`.
    pub const LINEAR: ParamSpec = p(
        "linear",
        Kind::Bool,
        Dflt::Bool(false),
        "blend in linear light",
    );
    /// `layers[].opacity`.
    pub const OPACITY: ParamSpec = p("opacity", num(0.0, 1.0), Dflt::Num(1.0), "blend opacity");
    /// `layers[].speed`.
    pub const SPEED: ParamSpec = p("speed", num(0.0, 20.0), Dflt::Num(1.0), "time multiplier");
    /// `layers[].offset`.
    pub const OFFSET: ParamSpec = p(
        "offset",
        num(-3600.0, 3600.0),
        Dflt::Num(0.0),
        "time offset (seconds)",
    );
    /// `layers[].threshold`.
    pub const THRESHOLD: ParamSpec = p(
        "threshold",
        num(0.0, 1.0),
        Dflt::Num(0.03),
        "cells at or below this value are blank",
    );
    /// `layers[].gamma`.
    pub const GAMMA: ParamSpec = p(
        "gamma",
        num_pos(8.0),
        Dflt::Num(1.0),
        "value curve before picking characters (v^gamma)",
    );
    /// `layers[].contrast`.
    pub const CONTRAST: ParamSpec = p(
        "contrast",
        num_pos(8.0),
        Dflt::Num(1.0),
        "stretch values around 0.5",
    );
    /// `layers[].uv`.
    pub const UV: ParamSpec = p(
        "uv",
        Kind::Map(crate::render::scenes::layers::uv::param::TABLE),
        Dflt::Words("-"),
        "UV transform of the coordinates",
    );
    /// `layers[].mask`.
    pub const MASK: ParamSpec = p(
        "mask",
        Kind::Map(crate::render::mask::param::TABLE),
        Dflt::Words("-"),
        "mask multiplying the values",
    );
    /// `layers[].texture`.
    pub const TEXTURE: ParamSpec = p(
        "texture",
        Kind::Bool,
        Dflt::Bool(false),
        "fixed hashed characters; the field drives colour only (a pre-baked texture)",
    );
    /// `layers[].start`.
    pub const START: ParamSpec = p(
        "start",
        num(0.0, 3600.0),
        Dflt::Num(0.0),
        "seconds when the layer fades in",
    );
    /// `layers[].end`.
    pub const END: ParamSpec = p(
        "end",
        num(0.0, 3600.0),
        Dflt::Auto(0.0, "never"),
        "seconds when the layer has faded out",
    );
    /// `layers[].fade`.
    pub const FADE: ParamSpec = p(
        "fade",
        num(0.0, 3600.0),
        Dflt::Num(0.5),
        "fade length at start and end (crossfades within a clip)",
    );

    /// Every parameter of one entry of `layers:`.
    pub const LAYER: &[ParamSpec] = &[
        GRID,
        field::FIELD,
        PALETTE,
        COLOR,
        BLEND,
        LINEAR,
        OPACITY,
        SPEED,
        OFFSET,
        field::SCALE,
        field::COUNT,
        field::OCTAVES,
        field::STRENGTH,
        field::SHAPE,
        field::SDF,
        field::MODE,
        field::RULE,
        field::PRESET,
        field::STEPS,
        field::ATTRACTOR,
        field::JOLT,
        THRESHOLD,
        GAMMA,
        CONTRAST,
        UV,
        MASK,
        TEXTURE,
        START,
        END,
        FADE,
    ];

    /// `layers`.
    pub const LAYERS: ParamSpec = p(
        "layers",
        Kind::MapList(LAYER),
        Dflt::Words("the scene's"),
        "value-field layers, bottom first",
    );
    /// `particles`.
    pub const PARTICLES: ParamSpec = p(
        "particles",
        Kind::MapList(crate::render::particles::param::TABLE),
        Dflt::Words("-"),
        "particle systems",
    );
    /// `rain`.
    pub const RAIN: ParamSpec = p(
        "rain",
        Kind::Map(crate::render::effects::param::RAIN),
        Dflt::Words("-"),
        "matrix rain",
    );
    /// `fire`.
    pub const FIRE: ParamSpec = p(
        "fire",
        Kind::Map(crate::render::effects::param::FIRE),
        Dflt::Words("-"),
        "fire",
    );
    /// `text`.
    pub const TEXT: ParamSpec = p(
        "text",
        Kind::MapList(crate::render::text::param::TABLE),
        Dflt::Words("-"),
        "text layers",
    );
    /// `feedback`.
    pub const FEEDBACK: ParamSpec = p(
        "feedback",
        Kind::Map(crate::render::post::param::FEEDBACK),
        Dflt::Words("-"),
        "feedback buffer",
    );
    /// `transition`.
    pub const TRANSITION: ParamSpec = p(
        "transition",
        Kind::Map(crate::render::post::param::TRANSITION),
        Dflt::Words("-"),
        "in/out transitions",
    );
    /// `gamma` of the scene.
    pub const SCENE_GAMMA: ParamSpec =
        p("gamma", num_pos(4.0), Dflt::Num(0.75), "tonemap exponent");
    /// `tonemap`.
    pub const TONEMAP: ParamSpec = p(
        "tonemap",
        Kind::Bool,
        Dflt::Bool(true),
        "percentile tonemap",
    );
    /// `tint` of the scene.
    pub const TINT: ParamSpec = p(
        "tint",
        Kind::Choice(Tint::NAMES),
        Dflt::Word("neutral"),
        "rgb multipliers of the whole frame",
    );
    /// `hue` of the scene.
    pub const HUE: ParamSpec = p(
        "hue",
        num(0.0, 1.0),
        Dflt::Num(0.0),
        "shifts every layer's hue",
    );
    /// `speed` of the scene.
    pub const SCENE_SPEED: ParamSpec = p(
        "speed",
        num_pos(20.0),
        Dflt::Num(1.0),
        "multiplies every layer's speed",
    );
    /// `palette` of the scene.
    pub const SCENE_PALETTE: ParamSpec = p(
        "palette",
        Kind::Named("a palette name", PaletteName::NAMES),
        Dflt::Words("the first layer's"),
        "replaces the first layer's palette",
    );

    /// Every parameter of the `layers` scene (and of every scene built on it).
    pub const TABLE: &[ParamSpec] = &[
        LAYERS,
        PARTICLES,
        RAIN,
        FIRE,
        TEXT,
        FEEDBACK,
        TRANSITION,
        SCENE_GAMMA,
        TONEMAP,
        TINT,
        HUE,
        SCENE_SPEED,
        SCENE_PALETTE,
    ];
}

/// One value-field layer as the plan gives it, with every default filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerSpec {
    /// Grid key.
    pub grid: GridKey,
    /// The value field and its settings.
    pub field: FieldSpec,
    /// Characters, dark to bright.
    pub palette: PaletteName,
    /// Colour strategy.
    pub color: ColorSpec,
    /// Blend mode (`None`: normal for the first layer, screen for the others).
    pub blend: Option<BlendMode>,
    /// Blend in linear light.
    pub linear: bool,
    /// Blend opacity.
    pub opacity: f64,
    /// Time multiplier.
    pub speed: f64,
    /// Time offset.
    pub offset: f64,
    /// Cells at or below this value are blank.
    pub threshold: f64,
    /// Value curve.
    pub gamma: f64,
    /// Value contrast.
    pub contrast: f64,
    /// UV transform.
    pub uv: Option<UvSpec>,
    /// Mask.
    pub mask: Option<MaskSpec>,
    /// Fixed hashed characters.
    pub texture: bool,
    /// Fade-in time.
    pub start: f64,
    /// Faded-out time (0: never).
    pub end: f64,
    /// Fade length.
    pub fade: f64,
}

impl LayerSpec {
    /// The setters of its own numeric parameters and its field's (bound values; see
    /// [`Setter`]); `color`, `uv` and `mask` have their own.
    pub const SETTERS: &[(ParamSpec, Setter<LayerSpec>)] = {
        use crate::render::fields::param as field;
        use param::*;
        &[
            (OPACITY, |s, v| s.opacity = v),
            (SPEED, |s, v| s.speed = v),
            (OFFSET, |s, v| s.offset = v),
            (field::SCALE, |s, v| s.field.scale = v),
            (field::COUNT, |s, v| s.field.count = v),
            (field::OCTAVES, |s, v| s.field.octaves = v),
            (field::STRENGTH, |s, v| s.field.strength = v),
            (field::STEPS, |s, v| s.field.steps = v),
            (field::JOLT, |s, v| s.field.jolt = v),
            (THRESHOLD, |s, v| s.threshold = v),
            (GAMMA, |s, v| s.gamma = v),
            (CONTRAST, |s, v| s.contrast = v),
            (START, |s, v| s.start = v),
            (END, |s, v| s.end = v),
            (FADE, |s, v| s.fade = v),
        ]
    };

    /// Reads validated params of one `layers:` entry (see [`param::LAYER`]).
    pub fn parse(p: &Params) -> LayerSpec {
        use param::*;
        LayerSpec {
            grid: GRID.choice(p),
            field: FieldSpec::parse(p),
            palette: PALETTE.choice(p),
            color: COLOR.map(p).map(ColorSpec::parse).unwrap_or_default(),
            blend: BLEND.opt_choice(p),
            linear: LINEAR.bool(p),
            opacity: OPACITY.num(p),
            speed: SPEED.num(p),
            offset: OFFSET.num(p),
            threshold: THRESHOLD.num(p),
            gamma: GAMMA.num(p),
            contrast: CONTRAST.num(p),
            uv: UV.map(p).map(UvSpec::parse),
            mask: MASK.map(p).map(MaskSpec::parse),
            texture: TEXTURE.bool(p),
            start: START.num(p),
            end: END.num(p),
            fade: FADE.num(p),
        }
    }
}

impl Default for LayerSpec {
    /// Every parameter at its default.
    fn default() -> Self {
        LayerSpec::parse(&Params::new())
    }
}

/// The `layers` scene as the plan gives it, with every default filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayersSpec {
    /// Value-field layers, bottom first.
    pub layers: Vec<LayerSpec>,
    /// Particle systems.
    pub particles: Vec<ParticleSpec>,
    /// Matrix rain.
    pub rain: Option<RainSpec>,
    /// Fire.
    pub fire: Option<FireSpec>,
    /// Text layers.
    pub text: Vec<TextSpec>,
    /// Feedback buffer.
    pub feedback: Option<FeedbackSpec>,
    /// In/out transitions.
    pub transition: Option<TransitionSpec>,
    /// Tonemap exponent.
    pub gamma: f64,
    /// Percentile tonemap.
    pub tonemap: bool,
    /// Rgb multipliers of the whole frame.
    pub tint: Tint,
    /// Shifts every layer's hue.
    pub hue: f64,
    /// Multiplies every layer's speed.
    pub speed: f64,
    /// Replaces the first layer's palette.
    pub palette: Option<PaletteName>,
}

impl LayersSpec {
    /// The setters of the scene's own numeric parameters (bound values; see [`Setter`]); a
    /// layer, a particle system, rain, fire, text, feedback and transitions have their own.
    pub const SETTERS: &[(ParamSpec, Setter<LayersSpec>)] = {
        use param::*;
        &[
            (SCENE_GAMMA, |s, v| s.gamma = v),
            (HUE, |s, v| s.hue = v),
            (SCENE_SPEED, |s, v| s.speed = v),
        ]
    };

    /// Every key at its default, no layer.
    pub fn empty() -> LayersSpec {
        LayersSpec {
            layers: Vec::new(),
            particles: Vec::new(),
            rain: None,
            fire: None,
            text: Vec::new(),
            feedback: None,
            transition: None,
            gamma: param::SCENE_GAMMA.num(&Params::new()),
            tonemap: param::TONEMAP.bool(&Params::new()),
            tint: param::TINT.choice(&Params::new()),
            hue: param::HUE.num(&Params::new()),
            speed: param::SCENE_SPEED.num(&Params::new()),
            palette: None,
        }
    }

    /// Reads validated params (see [`param::TABLE`]) over `base` (a built-in configuration): a
    /// key given replaces the base's value of that key as a whole (`rain: {hue: 0.5}` replaces
    /// the base's rain, whose other settings then take their defaults).
    pub fn parse(p: &Params, base: LayersSpec) -> LayersSpec {
        use param::*;
        let mut s = base;
        if LAYERS.given(p) {
            s.layers = LAYERS.maps(p).into_iter().map(LayerSpec::parse).collect();
        }
        if PARTICLES.given(p) {
            s.particles = PARTICLES
                .maps(p)
                .into_iter()
                .map(ParticleSpec::parse)
                .collect();
        }
        if RAIN.given(p) {
            s.rain = RAIN.map(p).map(RainSpec::parse);
        }
        if FIRE.given(p) {
            s.fire = FIRE.map(p).map(FireSpec::parse);
        }
        if TEXT.given(p) {
            s.text = TEXT.maps(p).into_iter().map(TextSpec::parse).collect();
        }
        if FEEDBACK.given(p) {
            s.feedback = FEEDBACK.map(p).map(FeedbackSpec::parse);
        }
        if TRANSITION.given(p) {
            s.transition = TRANSITION.map(p).map(TransitionSpec::parse);
        }
        if SCENE_GAMMA.given(p) {
            s.gamma = SCENE_GAMMA.num(p);
        }
        if TONEMAP.given(p) {
            s.tonemap = TONEMAP.bool(p);
        }
        if TINT.given(p) {
            s.tint = TINT.choice(p);
        }
        if HUE.given(p) {
            s.hue = HUE.num(p);
        }
        if SCENE_SPEED.given(p) {
            s.speed = SCENE_SPEED.num(p);
        }
        if SCENE_PALETTE.given(p) {
            s.palette = SCENE_PALETTE.opt_choice(p);
        }
        s
    }
}
