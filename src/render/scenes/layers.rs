//! `layers`: the composed scene. Value-field layers (grid, field, palette, colour, UV transform,
//! mask, blend, opacity, time window) drawn bottom first, then rain, fire, particle systems and
//! text, then the percentile tonemap, the feedback buffer and the transitions. The named built-in
//! scenes (`rings`, `tunnel`, `fbm`, `matrix-rain`, `fire`, `starfield`, `particles`, `ticker`,
//! `life`, `voronoi`) are `layers` with a built-in configuration that the segment's params
//! override key by key (see [`builtin_config`]).
//!
//! Frame pipeline: clear -> layers -> rain -> fire -> particles -> text -> tonemap(gamma) ->
//! feedback -> transition; the renderer then runs the shader chain.
//!
//! State: particles, the feedback buffer, reaction-diffusion and life carry state from frame to
//! frame. Such a scene is simulated in frame order from frame 0: asked for frame `i` after frame
//! `j != i - 1`, the renderer resets and renders (without shaders) frames `0..i` first, so frame `i`
//! is the same bytes whatever was rendered before.

use crate::render::blend::{Lut, blend_frame, blit_cells_lut};
use crate::render::canvas::{Mode, blit_cells};
use crate::render::color::{ColorStyle, HARMONIES, RGB_PALETTES, tint};
use crate::render::effects::{CellEffect, Fire, Rain};
use crate::render::fields::{Coords, Field};
use crate::render::font::{BLANK, Fonts, GlyphId};
use crate::render::grid::{Grid, grid_px};
use crate::render::mask::Mask;
use crate::render::palette::{palette, particle_set};
use crate::render::params::{get_bool, get_map, get_maps, get_num, get_text};
use crate::render::particles::Particles;
use crate::render::post::{FEEDBACK_PRESETS, Feedback, Tonemap, transition};
use crate::render::rng::combine;
use crate::render::text::{TextLayer, TextStyle};
use crate::render::{FrameSpec, Param, Params, StageTimings};
use std::sync::Arc;
use std::time::Instant;

/// Built-in scenes that are `layers` configurations.
pub const COMPOSED_SCENES: &[&str] = &[
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
];

/// The built-in configuration of scene `name` as YAML (the segment's params override its keys).
pub fn builtin_yaml(name: &str) -> &'static str {
    match name {
        "rings" => {
            "layers:
  - {grid: sm, field: plasma, palette: dense, scale: 0.7, speed: 0.5, color: {hue: 0.62, saturation: 0.7, brightness: 0.45, floor: 0.1}}
  - {grid: md, field: rings, palette: circuit, count: 5, speed: 0.8, color: {mode: oklch, hue: 0.55, hue_field: distance, hue_spread: 0.6, saturation: 0.8}, blend: screen}
  - {grid: xl, field: spiral, palette: stars, count: 4, opacity: 0.55, threshold: 0.55, color: {hue: 0.9, saturation: 0.5}}
gamma: 0.8"
        }
        "tunnel" => {
            "layers:
  - {grid: sm, field: tunnel, palette: blocks_ext, count: 8, speed: 1.2, color: {hue: 0.75, hue_field: distance, hue_spread: 0.5, saturation: 0.85}}
  - {grid: lg, field: vortex, palette: math, opacity: 0.6, threshold: 0.45, color: {hue: 0.5, saturation: 0.6}}
feedback: {preset: zoom_tunnel}
gamma: 0.8"
        }
        "fbm" => {
            "layers:
  - {grid: sm, field: fbm, palette: dense, scale: 1.2, color: {mode: oklch, hue: 0.45, hue_field: value, hue_spread: 0.5, saturation: 0.7, floor: 0.1}}
  - {grid: lg, field: domain_warp, palette: organic, opacity: 0.6, threshold: 0.4, color: {hue: 0.1, saturation: 0.6}}
gamma: 0.8"
        }
        "matrix-rain" => {
            "layers:
  - {grid: sm, field: noise, palette: binary, texture: true, scale: 2.0, speed: 0.3, color: {hue: 0.33, hue_field: fixed, saturation: 0.9, brightness: 0.22, floor: 0.08}}
rain: {grid: sm, chars: kata, hue: 0.33, density: 0.75}
gamma: 0.8
tint: matrix"
        }
        "fire" => {
            "layers:
  - {grid: md, field: fbm, palette: minimal, scale: 0.8, speed: 0.4, color: {hue: 0.02, hue_field: fixed, saturation: 0.9, brightness: 0.35, floor: 0.12}}
fire: {grid: sm, palette: gradient, height: 0.65}
particles: [{system: embers, grid: sm, chars: spark, hue: 0.06}]
feedback: {preset: heat_haze}
gamma: 0.8"
        }
        "starfield" => {
            "layers:
  - {grid: md, field: aurora, palette: braille, scale: 0.8, speed: 0.3, color: {mode: oklch, hue: 0.7, hue_field: gradient_h, hue_spread: 0.3, saturation: 0.6, brightness: 0.5, floor: 0.12}}
particles: [{system: starfield, grid: sm, chars: stars, count: 500, hue: 0.6, hue_spread: 0.3, saturation: 0.3}]
gamma: 0.85"
        }
        "particles" => {
            "layers:
  - {grid: md, field: interference, palette: dots, speed: 0.5, color: {hue: 0.8, hue_field: angle, hue_spread: 0.4, saturation: 0.7, brightness: 0.45, floor: 0.1}}
particles:
  - {system: explosion, grid: sm, chars: explosion, every: 1.0, hue: 0.08, hue_spread: 0.6}
  - {system: boids, grid: md, chars: boids, hue: 0.5, count: 160}
feedback: {preset: rainbow_trails}
gamma: 0.8"
        }
        "ticker" => {
            "layers:
  - {grid: sm, field: sinefield, palette: box, speed: 0.6, color: {hue: 0.58, hue_field: gradient_h, hue_spread: 0.3, saturation: 0.6, brightness: 0.5, floor: 0.1}}
text: [{mode: ticker, grid: lg, rows: 5, speed: 10, hue: 0.12, saturation: 0.35, backdrop: true}]
gamma: 0.85"
        }
        "life" => {
            "layers:
  - {grid: sm, field: plasma, palette: minimal, scale: 0.5, speed: 0.4, color: {hue: 0.35, saturation: 0.6, brightness: 0.35, floor: 0.12}}
  - {grid: md, field: life, rule: coral, palette: blocks, color: {hue: 0.3, hue_field: distance, hue_spread: 0.4, saturation: 0.8}}
gamma: 0.8"
        }
        "voronoi" => {
            "layers:
  - {grid: sm, field: voronoi, mode: cell, palette: hatch, count: 16, color: {mode: palette, palette: vaporwave, brightness: 0.7, floor: 0.2}}
  - {grid: md, field: voronoi, mode: edge, palette: box, count: 16, color: {hue: 0.9, saturation: 0.3}, blend: screen}
gamma: 0.8"
        }
        _ => {
            "layers:
  - {grid: sm, field: plasma, palette: dense, color: {hue: 0.6, saturation: 0.7, floor: 0.1}}
  - {grid: lg, field: rings, palette: circuit, opacity: 0.7, color: {hue: 0.1}}
gamma: 0.75"
        }
    }
}

/// A YAML value as a [`Param`] (nulls and non-string keys are dropped).
pub fn yaml_to_param(v: &serde_yaml_ng::Value) -> Option<Param> {
    use serde_yaml_ng::Value;
    Some(match v {
        Value::Bool(b) => Param::Bool(*b),
        Value::Number(n) => Param::Num(n.as_f64()?),
        Value::String(s) => Param::Text(s.clone()),
        Value::Sequence(xs) => Param::List(xs.iter().filter_map(yaml_to_param).collect()),
        Value::Mapping(m) => {
            let mut out = Params::new();
            for (k, v) in m {
                out.insert(k.as_str()?.to_string(), yaml_to_param(v)?);
            }
            Param::Map(out)
        }
        _ => return None,
    })
}

/// The params of scene `name` with `user` params laid over its built-in configuration (a user
/// key replaces the built-in key of the same name).
pub fn builtin_config(name: &str, user: &Params) -> Params {
    let mut base = match serde_yaml_ng::from_str::<serde_yaml_ng::Value>(builtin_yaml(name))
        .ok()
        .as_ref()
        .and_then(yaml_to_param)
    {
        Some(Param::Map(m)) if name != "layers" || !user.contains_key("layers") => m,
        _ => Params::new(),
    };
    for (k, v) in user {
        base.insert(k.clone(), v.clone());
    }
    base
}

#[derive(Debug, Clone)]
struct Uv {
    rotate: f32,
    spin: f32,
    zoom: f32,
    zoom_rate: f32,
    skew: f32,
    tile: f32,
    mirror: bool,
    polar: bool,
    twist: f32,
    fisheye: f32,
    wave: f32,
    drift: (f32, f32),
}

impl Uv {
    fn new(p: &Params) -> Uv {
        let g = |k: &str, d: f64| get_num(p, k, d) as f32;
        Uv {
            rotate: g("rotate", 0.0),
            spin: g("spin", 0.0),
            zoom: g("zoom", 1.0).max(1e-3),
            zoom_rate: g("zoom_rate", 0.0),
            skew: g("skew", 0.0),
            tile: g("tile", 0.0),
            mirror: get_bool(p, "mirror", false),
            polar: get_bool(p, "polar", false),
            twist: g("twist", 0.0),
            fisheye: g("fisheye", 1.0),
            wave: g("wave", 0.0),
            drift: (g("drift_x", 0.0), g("drift_y", 0.0)),
        }
    }

    fn animated(&self) -> bool {
        self.spin != 0.0 || self.zoom_rate != 0.0 || self.wave != 0.0 || self.drift != (0.0, 0.0)
    }

    #[allow(clippy::too_many_arguments)]
    fn apply(
        &self,
        g: &Grid,
        t: f32,
        xs: &mut [f32],
        ys: &mut [f32],
        rs: &mut [f32],
        as_: &mut [f32],
    ) {
        let th = self.rotate + self.spin * t;
        let (s, c) = th.sin_cos();
        let z = self.zoom * (self.zoom_rate * t).exp();
        let asp = g.aspect;
        for i in 0..g.cells() {
            let (mut x, mut y) = (g.xn[i] + self.drift.0 * t, g.yn[i] + self.drift.1 * t);
            let (x1, y1) = (x * c - y * s, x * s + y * c);
            x = x1 / z;
            y = y1 / z;
            x += self.skew * y;
            if self.twist != 0.0 {
                let r = (x * x + y * y).sqrt();
                let (ts, tc) = (self.twist * r).sin_cos();
                let (x2, y2) = (x * tc - y * ts, x * ts + y * tc);
                x = x2;
                y = y2;
            }
            if self.fisheye != 1.0 {
                let r = (x * x + y * y).sqrt().max(1e-6);
                let k = r.powf(self.fisheye - 1.0);
                x *= k;
                y *= k;
            }
            if self.wave != 0.0 {
                let (x0, y0) = (x, y);
                x += self.wave * 0.2 * (3.0 * y0 + t).sin();
                y += self.wave * 0.2 * (3.0 * x0 + 0.7 * t).sin();
            }
            if self.mirror {
                x = x.abs();
            }
            if self.tile > 0.0 {
                let per = 2.0 / self.tile;
                x = ((x / per).rem_euclid(1.0) - 0.5) * 2.0;
                y = ((y / per).rem_euclid(1.0) - 0.5) * 2.0;
            }
            if self.polar {
                let (r, a) = ((x * x + y * y).sqrt(), y.atan2(x));
                x = a / std::f32::consts::PI * asp;
                y = r * 2.0 - 1.0;
            }
            xs[i] = x;
            ys[i] = y;
            rs[i] = (x * x + y * y).sqrt();
            as_[i] = y.atan2(x);
        }
    }
}

/// How a drawn set of cells is composited.
#[derive(Debug, Clone)]
struct Comp {
    mode: String,
    linear: bool,
    opacity: f32,
    lut: Lut,
}

impl Comp {
    fn new(mode: &str, opacity: f32, linear: bool) -> Comp {
        Comp {
            mode: mode.to_string(),
            linear,
            opacity: opacity.clamp(0.0, 1.0),
            lut: Lut::new(mode, opacity, linear),
        }
    }
}

#[derive(Debug, Clone)]
struct FieldLayer {
    grid: Grid,
    field: Field,
    palette: Vec<GlyphId>,
    texture: Option<Vec<GlyphId>>,
    color: ColorStyle,
    comp: Comp,
    speed: f32,
    offset: f32,
    threshold: f32,
    gamma: f32,
    contrast: f32,
    uv: Option<Uv>,
    uv_done: bool,
    mask: Option<Mask>,
    window: (f32, f32, f32),
    vals: Vec<f32>,
    mvals: Vec<f32>,
    cx: Vec<f32>,
    cy: Vec<f32>,
    cr: Vec<f32>,
    ca: Vec<f32>,
    glyphs: Vec<GlyphId>,
    colours: Vec<[u8; 3]>,
}

#[derive(Debug, Clone)]
struct Cells {
    grid: Grid,
    comp: Comp,
    glyphs: Vec<GlyphId>,
    colours: Vec<[u8; 3]>,
}

impl Cells {
    fn new(grid: Grid, comp: Comp) -> Cells {
        let n = grid.cells();
        Cells {
            grid,
            comp,
            glyphs: vec![BLANK; n],
            colours: vec![[0; 3]; n],
        }
    }
}

/// The composed scene.
#[derive(Debug, Clone)]
pub struct Layers {
    width: usize,
    height: usize,
    fps: u32,
    frames: u32,
    layers: Vec<FieldLayer>,
    rain: Option<(Rain, Cells)>,
    fire: Option<(Fire, Cells)>,
    particles: Vec<(Particles, Cells)>,
    texts: Vec<TextLayer>,
    tonemap: Option<Tonemap>,
    feedback: Option<Feedback>,
    trans_in: (String, f32),
    trans_out: (String, f32),
    scratch: Vec<u8>,
    pat: Vec<u8>,
    next_frame: u32,
    stateful: bool,
}

fn chars_ids(grid: &mut Grid, name: &str, default: &str) -> Vec<GlyphId> {
    let chars = palette(name)
        .or_else(|| particle_set(name))
        .map_or(default, |p| p.chars);
    chars
        .chars()
        .filter(|&c| c != ' ')
        .map(|c| grid.atlas.id(c))
        .filter(|&g| g != BLANK)
        .collect()
}

impl Layers {
    /// Builds scene `name` (one of [`COMPOSED_SCENES`]) from validated `user` params.
    pub fn new(
        frame: &FrameSpec,
        name: &str,
        user: &Params,
        text: Option<&str>,
        fonts: Arc<Fonts>,
        frames: u32,
        seed: u64,
    ) -> Layers {
        let params = builtin_config(name, user);
        let (w, h) = (frame.width as usize, frame.height as usize);
        let grid = |key: &str| {
            Grid::with_fonts(
                grid_px(key).unwrap_or(16.0),
                frame.grid_scale,
                w,
                h,
                fonts.clone(),
            )
        };
        let hue_shift = get_num(&params, "hue", 0.0) as f32;
        let gspeed = get_num(&params, "speed", 1.0) as f32;
        let sub_seed = |k: u64| combine(seed, k);
        let mut layers = Vec::new();
        let maps = get_maps(&params, "layers");
        for (i, lp) in maps.iter().enumerate() {
            let mut g = grid(get_text(lp, "grid", "md"));
            let pal_name = if i == 0 {
                get_text(&params, "palette", get_text(lp, "palette", "dense"))
            } else {
                get_text(lp, "palette", "dense")
            };
            let pal = palette(pal_name).map_or(" .:-=+#@", |p| p.chars);
            let mut ids = g.atlas.ids(pal);
            if ids.is_empty() {
                ids.push(BLANK);
            }
            ids[0] = BLANK;
            let s = sub_seed(100 + i as u64);
            let mut field = Field::new(get_text(lp, "field", "plasma"), s as u32);
            field.scale = get_num(lp, "scale", 1.0) as f32;
            field.count = get_num(lp, "count", 0.0) as f32;
            field.octaves = get_num(lp, "octaves", 5.0) as u32;
            field.strength = get_num(lp, "strength", 1.0) as f32;
            field.steps = get_num(lp, "steps", 0.0) as f32;
            field.variant = match field.name {
                "voronoi" => get_text(lp, "mode", "distance"),
                "sdf" => get_text(lp, "shape", "ring"),
                "life" => get_text(lp, "rule", "life"),
                "reaction_diffusion" => get_text(lp, "preset", "spots"),
                _ => "",
            }
            .to_string();
            field.mode = get_text(lp, "sdf", "glow").to_string();
            let texture = get_bool(lp, "texture", false).then(|| {
                let lit: Vec<GlyphId> = ids.iter().copied().filter(|&g| g != BLANK).collect();
                (0..g.cells())
                    .map(|c| {
                        if lit.is_empty() {
                            BLANK
                        } else {
                            lit[(crate::render::fastmath::hash2(c as i32, 5, s as u32) as usize)
                                % lit.len()]
                        }
                    })
                    .collect()
            });
            let cp = get_map(lp, "color").cloned().unwrap_or_default();
            let color = ColorStyle {
                mode: match get_text(&cp, "mode", "hsv") {
                    "oklch" => "oklch",
                    "palette" => "palette",
                    _ => "hsv",
                },
                hue: (get_num(&cp, "hue", 0.0) as f32 + hue_shift).rem_euclid(1.0),
                hue_field: crate::render::color::HUE_FIELDS
                    .iter()
                    .copied()
                    .find(|f| *f == get_text(&cp, "hue_field", "value"))
                    .unwrap_or("value"),
                hue_spread: get_num(&cp, "hue_spread", 0.2) as f32,
                hue_rate: get_num(&cp, "hue_rate", 0.02) as f32,
                saturation: get_num(&cp, "saturation", 0.8) as f32,
                brightness: get_num(&cp, "brightness", 1.0) as f32,
                floor: get_num(&cp, "floor", 0.05) as f32,
                harmony: HARMONIES
                    .iter()
                    .find(|h| h.0 == get_text(&cp, "harmony", "none"))
                    .map_or(&[0.0][..], |h| h.1),
                rgb: RGB_PALETTES
                    .iter()
                    .find(|p| p.0 == get_text(&cp, "palette", "neon"))
                    .map_or(RGB_PALETTES[0].1, |p| p.1),
                tint: tint(get_text(&cp, "tint", "neutral")),
            };
            let mode = get_text(lp, "blend", if i == 0 { "normal" } else { "screen" });
            let comp = Comp::new(
                mode,
                get_num(lp, "opacity", 1.0) as f32,
                get_bool(lp, "linear", false),
            );
            let n = g.cells();
            let start = get_num(lp, "start", 0.0) as f32;
            let end = get_num(lp, "end", 0.0) as f32;
            let fade = get_num(lp, "fade", 0.5) as f32;
            layers.push(FieldLayer {
                field,
                palette: ids,
                texture,
                color,
                comp,
                speed: get_num(lp, "speed", 1.0) as f32 * gspeed,
                offset: get_num(lp, "offset", 0.0) as f32,
                threshold: get_num(lp, "threshold", 0.03) as f32,
                gamma: get_num(lp, "gamma", 1.0) as f32,
                contrast: get_num(lp, "contrast", 1.0) as f32,
                uv: get_map(lp, "uv").map(Uv::new),
                uv_done: false,
                mask: get_map(lp, "mask").map(|m| Mask::new(m, s as u32 ^ 0x55)),
                window: (start, end, fade),
                vals: vec![0.0; n],
                mvals: vec![0.0; n],
                cx: vec![0.0; n],
                cy: vec![0.0; n],
                cr: vec![0.0; n],
                ca: vec![0.0; n],
                glyphs: vec![BLANK; n],
                colours: vec![[0; 3]; n],
                grid: g,
            });
        }
        let comp_of = |m: &Params| {
            Comp::new(
                get_text(m, "blend", "screen"),
                get_num(m, "opacity", 1.0) as f32,
                false,
            )
        };
        let rain = get_map(&params, "rain").map(|m| {
            let mut g = grid(get_text(m, "grid", "sm"));
            let glyphs = chars_ids(&mut g, get_text(m, "chars", "kata"), "01");
            (
                Rain {
                    glyphs,
                    hue: (get_num(m, "hue", 0.33) as f32 + hue_shift).rem_euclid(1.0),
                    speed: get_num(m, "speed", 1.0) as f32 * gspeed,
                    density: get_num(m, "density", 0.7) as f32,
                    seed: sub_seed(7) as u32,
                },
                Cells::new(g, comp_of(m)),
            )
        });
        let fire = get_map(&params, "fire").map(|m| {
            let mut g = grid(get_text(m, "grid", "sm"));
            let pal =
                palette(get_text(m, "palette", "gradient")).map_or(" ░▒▓█", |p| p.chars);
            let mut glyphs = g.atlas.ids(pal);
            glyphs[0] = BLANK;
            let ice = get_bool(m, "ice", false);
            (
                Fire {
                    glyphs,
                    hue: (get_num(m, "hue", if ice { 0.55 } else { 0.02 }) as f32 + hue_shift)
                        .rem_euclid(1.0),
                    speed: get_num(m, "speed", 1.0) as f32 * gspeed,
                    height: get_num(m, "height", 0.6) as f32,
                    seed: sub_seed(8) as u32,
                },
                Cells::new(g, comp_of(m)),
            )
        });
        let cap = frame.particles_max.max(1) as usize;
        let particles = get_maps(&params, "particles")
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                let mut g = grid(get_text(m, "grid", "sm"));
                let system = get_text(m, "system", "embers");
                let default_set = match system {
                    "explosion" => "explosion",
                    "starfield" => "stars",
                    "boids" => "boids",
                    "flow" => "flow",
                    "orbit" => "dot",
                    "dissolve" => "trails",
                    _ => "spark",
                };
                let glyphs = chars_ids(&mut g, get_text(m, "chars", default_set), "·•●");
                let mut ps = Particles::new(system, glyphs, cap, sub_seed(200 + i as u64));
                ps.count = get_num(m, "count", 0.0) as usize;
                ps.speed = get_num(m, "speed", 1.0) as f32 * gspeed;
                ps.every = get_num(m, "every", 1.5) as f32;
                ps.hue = (get_num(m, "hue", 0.08) as f32 + hue_shift).rem_euclid(1.0);
                ps.hue_spread = get_num(m, "hue_spread", 0.1) as f32;
                ps.saturation = get_num(m, "saturation", 0.8) as f32;
                (ps, Cells::new(g, comp_of(m)))
            })
            .collect::<Vec<_>>();
        let clip_secs = if frames > 0 {
            frames as f32 / frame.fps.max(1) as f32
        } else {
            0.0
        };
        let texts = get_maps(&params, "text")
            .into_iter()
            .filter_map(|m| {
                let content = match m.get("content") {
                    Some(Param::Text(s)) => s.as_str(),
                    _ => text?,
                };
                let g = grid(get_text(m, "grid", "lg"));
                let default_reveal = if clip_secs > 0.0 {
                    0.6 * clip_secs
                } else {
                    3.0
                };
                let st = TextStyle {
                    mode: get_text(m, "mode", "center").to_string(),
                    hsv: [
                        get_num(m, "hue", 0.12) as f32,
                        get_num(m, "saturation", 0.3) as f32,
                        get_num(m, "brightness", 1.0) as f32,
                    ],
                    speed: get_num(m, "speed", 8.0) as f32,
                    reveal: get_num(m, "reveal", f64::from(default_reveal)) as f32,
                    rows: get_num(m, "rows", 3.0) as usize,
                    row: get_num(m, "row", 0.5) as f32,
                    chars_per_line: get_num(m, "chars_per_line", 0.0) as usize,
                    backdrop: get_bool(m, "backdrop", true),
                    opacity: get_num(m, "opacity", 1.0) as f32,
                };
                Some(TextLayer::new(g, content, &st, w, h))
            })
            .collect();
        let tonemap = get_bool(&params, "tonemap", true).then(|| {
            Tonemap::new(
                get_num(&params, "gamma", 0.75) as f32,
                tint(get_text(&params, "tint", "neutral")),
            )
        });
        let feedback = get_map(&params, "feedback").map(|m| {
            let pre = FEEDBACK_PRESETS
                .iter()
                .find(|p| p.0 == get_text(m, "preset", "zoom_tunnel"))
                .unwrap_or(&FEEDBACK_PRESETS[0]);
            Feedback::new(
                w,
                h,
                get_num(m, "decay", f64::from(pre.1)) as f32,
                get_text(m, "blend", pre.2),
                get_num(m, "opacity", f64::from(pre.3)) as f32,
                get_text(m, "transform", pre.4),
                get_num(m, "amount", f64::from(pre.5)) as f32,
                get_num(m, "hue_shift", f64::from(pre.6)) as f32,
            )
        });
        let (trans_in, trans_out) = match get_map(&params, "transition") {
            Some(m) => {
                let secs = get_num(m, "seconds", 0.5);
                (
                    (
                        get_text(m, "in", "none").to_string(),
                        get_num(m, "in_seconds", secs) as f32,
                    ),
                    (
                        get_text(m, "out", "none").to_string(),
                        get_num(m, "out_seconds", secs) as f32,
                    ),
                )
            }
            None => (("none".into(), 0.0), ("none".into(), 0.0)),
        };
        let stateful = !particles.is_empty()
            || feedback.is_some()
            || layers
                .iter()
                .any(|l| l.field.is_stateful() || l.mask.as_ref().is_some_and(|m| m.is_stateful()));
        let needs_scratch = layers.iter().any(|l| !l.comp.lut.fusable)
            || rain.as_ref().is_some_and(|r| !r.1.comp.lut.fusable)
            || fire.as_ref().is_some_and(|r| !r.1.comp.lut.fusable)
            || particles.iter().any(|p| !p.1.comp.lut.fusable);
        Layers {
            width: w,
            height: h,
            fps: frame.fps.max(1),
            frames,
            layers,
            rain,
            fire,
            particles,
            texts,
            tonemap,
            feedback,
            trans_in,
            trans_out,
            scratch: if needs_scratch {
                vec![0; w * h * 3]
            } else {
                Vec::new()
            },
            pat: Vec::new(),
            next_frame: 0,
            stateful,
        }
    }

    fn reset(&mut self) {
        for l in &mut self.layers {
            l.field.reset();
            if let Some(m) = &mut l.mask {
                m.reset();
            }
        }
        for (p, _) in &mut self.particles {
            p.reset();
        }
        if let Some(f) = &mut self.feedback {
            f.reset();
        }
        self.next_frame = 0;
    }

    /// Renders frame `index` into `out`, first simulating the frames before it when the scene
    /// carries state and `index` does not follow the last frame rendered.
    pub fn render(&mut self, index: u32, out: &mut [u8], tm: &mut StageTimings) {
        if self.stateful && index != self.next_frame {
            if index < self.next_frame {
                self.reset();
            }
            while self.next_frame < index {
                let i = self.next_frame;
                self.render_one(i, out, tm);
            }
        }
        self.render_one(index, out, tm);
    }

    #[allow(clippy::too_many_arguments)]
    fn composite(
        out: &mut [u8],
        scratch: &mut [u8],
        pat: &mut Vec<u8>,
        width: usize,
        grid: &Grid,
        glyphs: &[GlyphId],
        colours: &mut [[u8; 3]],
        comp: &Comp,
        black: &mut bool,
    ) {
        let scale = |colours: &mut [[u8; 3]]| {
            if comp.opacity < 1.0 {
                let k = (comp.opacity * 256.0) as u16;
                for c in colours.iter_mut() {
                    *c = c.map(|v| ((u16::from(v) * k) >> 8) as u8);
                }
            }
        };
        if *black && comp.lut.draws_on_black {
            scale(colours);
            blit_cells(out, width, grid, glyphs, colours, Mode::Max, pat);
        } else if comp.mode == "screen" && !comp.linear {
            scale(colours);
            blit_cells(out, width, grid, glyphs, colours, Mode::Screen, pat);
        } else if comp.lut.fusable {
            blit_cells_lut(out, width, grid, glyphs, colours, &comp.lut);
        } else {
            scratch.fill(0);
            blit_cells(scratch, width, grid, glyphs, colours, Mode::Max, pat);
            blend_frame(out, scratch, &comp.lut);
        }
        *black = false;
    }

    fn render_one(&mut self, index: u32, out: &mut [u8], tm: &mut StageTimings) {
        let t = index as f32 / self.fps as f32;
        let dt = 1.0 / self.fps as f32;
        let width = self.width;
        out.fill(0);
        let mut black = true;
        for l in &mut self.layers {
            let t0 = Instant::now();
            let (start, end, fade) = l.window;
            let mut gain = 1.0f32;
            if start > 0.0 {
                gain = gain.min(
                    ((t - start) / fade.max(1e-3) + if fade <= 0.0 { 1.0 } else { 0.0 })
                        .clamp(0.0, 1.0),
                );
                if t < start {
                    gain = 0.0;
                }
            }
            if end > 0.0 {
                gain = gain.min(((end - t) / fade.max(1e-3)).clamp(0.0, 1.0));
            }
            let tl = t * l.speed + l.offset;
            let g = &l.grid;
            let n = g.cells();
            if let Some(uv) = &l.uv
                && (uv.animated() || !l.uv_done)
            {
                uv.apply(g, tl, &mut l.cx, &mut l.cy, &mut l.cr, &mut l.ca);
                l.uv_done = true;
            }
            let coords = if l.uv.is_some() {
                Coords {
                    x: &l.cx,
                    y: &l.cy,
                    r: &l.cr,
                    a: &l.ca,
                    rows: g.rows,
                    cols: g.cols,
                    aspect: g.aspect,
                }
            } else {
                Coords {
                    x: &g.xn,
                    y: &g.yn,
                    r: &g.rn,
                    a: &g.an,
                    rows: g.rows,
                    cols: g.cols,
                    aspect: g.aspect,
                }
            };
            // Stateful fields step every frame, even while the layer is faded out.
            l.field.eval(&coords, tl, index, dt * l.speed, &mut l.vals);
            if gain <= 0.0 || n == 0 {
                tm.fields_ns += t0.elapsed().as_nanos() as u64;
                continue;
            }
            if let Some(m) = &mut l.mask {
                m.eval(&coords, t, index, dt, &mut l.mvals);
                for (v, &m) in l.vals.iter_mut().zip(&l.mvals) {
                    *v *= m;
                }
            }
            let hue0 = l.color.hue_at(f64::from(t));
            let np = l.palette.len();
            let top = np as f32;
            for i in 0..n {
                let mut v = l.vals[i];
                if l.contrast != 1.0 {
                    v = ((v - 0.5) * l.contrast + 0.5).clamp(0.0, 1.0);
                }
                if l.gamma != 1.0 {
                    v = v.powf(l.gamma);
                }
                let id = if v <= l.threshold {
                    BLANK
                } else if let Some(tex) = &l.texture {
                    tex[i]
                } else {
                    l.palette[((v * top) as usize).min(np - 1)]
                };
                l.glyphs[i] = id;
                l.colours[i] = if id == BLANK {
                    [0; 3]
                } else {
                    l.color.colour(
                        v,
                        coords.x[i],
                        coords.y[i],
                        coords.r[i],
                        coords.a[i],
                        hue0,
                        tl,
                        gain,
                    )
                };
            }
            let t1 = Instant::now();
            Self::composite(
                out,
                &mut self.scratch,
                &mut self.pat,
                width,
                &l.grid,
                &l.glyphs,
                &mut l.colours,
                &l.comp,
                &mut black,
            );
            let t2 = Instant::now();
            tm.fields_ns += (t1 - t0).as_nanos() as u64;
            if black {
                tm.blit_ns += (t2 - t1).as_nanos() as u64;
            } else {
                tm.blend_ns += (t2 - t1).as_nanos() as u64;
            }
        }
        let t0 = Instant::now();
        let effects = [
            self.rain.as_mut().map(|(e, c)| (&*e as &dyn CellEffect, c)),
            self.fire.as_mut().map(|(e, c)| (&*e as &dyn CellEffect, c)),
        ];
        for (effect, c) in effects.into_iter().flatten() {
            effect.draw_cells(
                t,
                c.grid.rows,
                c.grid.cols,
                &mut c.glyphs,
                &mut c.colours,
                1.0,
            );
            Self::composite(
                out,
                &mut self.scratch,
                &mut self.pat,
                width,
                &c.grid,
                &c.glyphs,
                &mut c.colours,
                &c.comp,
                &mut black,
            );
        }
        for (ps, c) in &mut self.particles {
            let asp = c.grid.cw as f32 / c.grid.ch.max(1) as f32;
            ps.step(index, self.fps, c.grid.rows, c.grid.cols, asp);
            ps.draw(c.grid.rows, c.grid.cols, &mut c.glyphs, &mut c.colours, 1.0);
            Self::composite(
                out,
                &mut self.scratch,
                &mut self.pat,
                width,
                &c.grid,
                &c.glyphs,
                &mut c.colours,
                &c.comp,
                &mut black,
            );
        }
        for tx in &mut self.texts {
            tx.draw(t, out, width, self.height);
        }
        let t1 = Instant::now();
        if let Some(tmap) = &mut self.tonemap {
            tmap.apply(out, width);
        }
        if let Some(fb) = &mut self.feedback {
            fb.apply(out, width);
        }
        if self.trans_in.0 != "none" && self.trans_in.1 > 0.0 {
            transition(out, width, &self.trans_in.0, t / self.trans_in.1);
        }
        if self.trans_out.0 != "none" && self.trans_out.1 > 0.0 && self.frames > 0 {
            let left =
                (self.frames.saturating_sub(1).saturating_sub(index)) as f32 / self.fps as f32;
            transition(out, width, &self.trans_out.0, left / self.trans_out.1);
        }
        let t2 = Instant::now();
        tm.blit_ns += (t1 - t0).as_nanos() as u64;
        tm.blend_ns += (t2 - t1).as_nanos() as u64;
        self.next_frame = index + 1;
    }
}
