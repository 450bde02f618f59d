//! `plasma`: two plasma value-field layers on grids of different sizes, screen-blended.
//!
//! The same work as the Python reference pipeline's renderer (`ref_render.py`): layer 1 on the `md`
//! grid (16 px) with the `default` palette, layer 2 on the `xl` grid (24 px) with `dense`, its
//! field running at `1.3 t + 11` with higher frequencies and 0.8x speed, blended over layer 1 with
//! a screen blend at opacity 0.8. See [`param::TABLE`] for the parameters.

use crate::render::canvas::{Mode, blit_cells};
use crate::render::font::Fonts;
use crate::render::frame::{FrameSpec, StageTimings};
use crate::render::grid::{Grid, GridKey};
use crate::render::palette::PaletteName;
use crate::render::params::{ParamSpec, Params, Setter};
use crate::render::scenes::plasma_layer::{FieldStyle, PlasmaLayer};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;

/// The parameters of the `plasma` scene.
pub mod param {
    use crate::render::grid::GridKey;
    use crate::render::palette::PaletteName;
    use crate::render::params::{Dflt, Kind, ParamSpec, num, num_pos, p};

    /// `palette`.
    pub const PALETTE: ParamSpec = p(
        "palette",
        Kind::Named("a palette name", PaletteName::NAMES),
        Dflt::Word("default"),
        "characters of the first (finer) layer",
    );
    /// `palette2`.
    pub const PALETTE2: ParamSpec = p(
        "palette2",
        Kind::Named("a palette name", PaletteName::NAMES),
        Dflt::Word("dense"),
        "characters of the second (coarser) layer",
    );
    /// `hue`.
    pub const HUE: ParamSpec = p(
        "hue",
        num(0.0, 1.0),
        Dflt::Num(0.0),
        "hue offset added to both layers",
    );
    /// `saturation`.
    pub const SATURATION: ParamSpec = p(
        "saturation",
        num(0.0, 1.0),
        Dflt::Num(0.75),
        "saturation of the first layer (the second uses 0.8x)",
    );
    /// `speed`.
    pub const SPEED: ParamSpec = p(
        "speed",
        num_pos(20.0),
        Dflt::Num(1.0),
        "animation speed multiplier",
    );
    /// `grids`.
    pub const GRIDS: ParamSpec = p(
        "grids",
        Kind::Pair("grid keys", GridKey::NAMES),
        Dflt::Words("[md, xl]"),
        "grid keys of the two layers",
    );
    /// `opacity`.
    pub const OPACITY: ParamSpec = p(
        "opacity",
        num(0.0, 1.0),
        Dflt::Num(0.8),
        "opacity of the second layer's screen blend",
    );

    /// Every parameter of the `plasma` scene.
    pub const TABLE: &[ParamSpec] = &[PALETTE, PALETTE2, HUE, SATURATION, SPEED, GRIDS, OPACITY];
}

/// The `plasma` scene as the plan gives it, with every default filled in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlasmaSpec {
    /// Characters of the first layer.
    pub palette: PaletteName,
    /// Characters of the second layer.
    pub palette2: PaletteName,
    /// Hue offset.
    pub hue: f64,
    /// Saturation of the first layer.
    pub saturation: f64,
    /// Speed multiplier.
    pub speed: f64,
    /// Grid keys of the two layers.
    pub grids: [GridKey; 2],
    /// Opacity of the second layer.
    pub opacity: f64,
}

impl PlasmaSpec {
    /// The setters of its numeric parameters (bound values; see [`Setter`]).
    pub const SETTERS: &[(ParamSpec, Setter<PlasmaSpec>)] = {
        use param::*;
        &[
            (HUE, |s, v| s.hue = v),
            (SATURATION, |s, v| s.saturation = v),
            (SPEED, |s, v| s.speed = v),
            (OPACITY, |s, v| s.opacity = v),
        ]
    };

    /// Reads validated params (see [`param::TABLE`]).
    pub fn parse(p: &Params) -> PlasmaSpec {
        use param::*;
        let keys = GRIDS.words(p).unwrap_or_default();
        let key = |i: usize, d: GridKey| keys.get(i).and_then(|k| k.parse().ok()).unwrap_or(d);
        PlasmaSpec {
            palette: PALETTE.choice(p),
            palette2: PALETTE2.choice(p),
            hue: HUE.num(p),
            saturation: SATURATION.num(p),
            speed: SPEED.num(p),
            grids: [key(0, GridKey::Md), key(1, GridKey::Xl)],
            opacity: OPACITY.num(p),
        }
    }
}

/// The plasma scene: two [`PlasmaLayer`]s.
#[derive(Debug, Clone)]
pub struct Plasma {
    spec: PlasmaSpec,
    base: PlasmaLayer,
    top: PlasmaLayer,
    pat: Vec<u8>,
}

/// The field styles of the two layers of `spec`.
fn styles(spec: &PlasmaSpec) -> (FieldStyle, FieldStyle) {
    let hue = spec.hue as f32;
    let sat = spec.saturation as f32;
    let speed = spec.speed;
    let opacity = spec.opacity as f32;
    (
        FieldStyle {
            fx: 0.06,
            fy: 0.09,
            t_scale: 1.0,
            t_offset: 0.0,
            speed,
            hue_base: hue,
            hue_rate: 0.05,
            hue_v: 0.35,
            sat,
            val_gain: 1.1,
            val_floor: 0.08,
            threshold: 0.12,
            colour_gain: 1.0,
        },
        FieldStyle {
            fx: 0.09,
            fy: 0.13,
            t_scale: 1.3,
            t_offset: 11.0,
            speed: 0.8 * speed,
            hue_base: 0.55 + hue,
            hue_rate: 0.03,
            hue_v: -0.25,
            sat: sat * 0.8,
            val_gain: 0.8,
            val_floor: 0.0,
            threshold: 0.3,
            colour_gain: opacity.clamp(0.0, 1.0),
        },
    )
}

impl Plasma {
    /// The grid of its base layer (the cells a crossfade into it works on).
    pub fn grid(&self) -> &Grid {
        &self.base.grid
    }

    /// Builds the layers (grids, atlases, cached trigonometry) of `spec`.
    pub fn new(frame: &FrameSpec, spec: &PlasmaSpec, fonts: Arc<Fonts>) -> Plasma {
        let (w, h) = (frame.width as usize, frame.height as usize);
        let pal1 = spec.palette.chars();
        let pal2 = spec.palette2.chars();
        let [k1, k2] = spec.grids;
        let g1 = Grid::with_fonts(k1.px(), frame.grid_scale, w, h, fonts.clone());
        let g2 = Grid::with_fonts(k2.px(), frame.grid_scale, w, h, fonts);
        let (s1, s2) = styles(spec);
        Plasma {
            spec: *spec,
            base: PlasmaLayer::new(g1, pal1, s1),
            top: PlasmaLayer::new(g2, pal2, s2),
            pat: Vec::new(),
        }
    }

    /// Takes a bound value (`set` from [`PlasmaSpec::SETTERS`]): both layers' styles follow
    /// (their grids and cached trigonometry stay). The same as a scene built with that value.
    pub fn set(&mut self, set: Setter<PlasmaSpec>, v: f64) {
        set(&mut self.spec, v);
        (self.base.style, self.top.style) = styles(&self.spec);
    }

    /// Renders scene time `t` into `out` (overwritten completely), adding stage times to `tm`.
    pub fn render(&mut self, t: f64, out: &mut [u8], width: usize, tm: &mut StageTimings) {
        let t0 = Instant::now();
        self.base.update(t);
        self.top.update(t);
        let t1 = Instant::now();
        out.fill(0);
        blit_cells(
            out,
            width,
            &self.base.grid,
            &self.base.glyphs,
            &self.base.colours,
            Mode::Max,
            &mut self.pat,
        );
        let t2 = Instant::now();
        blit_cells(
            out,
            width,
            &self.top.grid,
            &self.top.glyphs,
            &self.top.colours,
            Mode::Screen,
            &mut self.pat,
        );
        let t3 = Instant::now();
        tm.fields_ns += (t1 - t0).as_nanos() as u64;
        tm.blit_ns += (t2 - t1).as_nanos() as u64;
        tm.blend_ns += (t3 - t2).as_nanos() as u64;
    }
}
