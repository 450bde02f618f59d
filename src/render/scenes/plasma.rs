//! `plasma`: two plasma value-field layers on grids of different sizes, screen-blended.
//!
//! The same work as the Python reference (`ref_render.py`): layer 1 on the `md` grid (16 px) with
//! the `default` palette, layer 2 on the `xl` grid (24 px) with `dense`, its field running at
//! `1.3 t + 11` with higher frequencies and 0.8x speed, blended over layer 1 with a screen blend at
//! opacity 0.8. See [`crate::render::params::PLASMA_PARAMS`] for the parameters.

use crate::render::canvas::{Mode, blit_cells};
use crate::render::font::Fonts;
use crate::render::grid::{Grid, grid_px};
use crate::render::palette::palette;
use crate::render::params::{get_num, get_text, get_text_list};
use crate::render::scenes::{FieldLayer, FieldStyle};
use crate::render::{FrameSpec, Params, StageTimings};
use std::sync::Arc;
use std::time::Instant;

/// The plasma scene: two [`FieldLayer`]s.
#[derive(Debug, Clone)]
pub struct Plasma {
    base: FieldLayer,
    top: FieldLayer,
    pat: Vec<u8>,
}

impl Plasma {
    /// Builds the layers (grids, atlases, cached trigonometry) from validated `params`.
    pub fn new(frame: &FrameSpec, params: &Params, fonts: Arc<Fonts>) -> Plasma {
        let (w, h) = (frame.width as usize, frame.height as usize);
        let hue = get_num(params, "hue", 0.0) as f32;
        let sat = get_num(params, "saturation", 0.75) as f32;
        let speed = get_num(params, "speed", 1.0);
        let opacity = get_num(params, "opacity", 0.8) as f32;
        let pal1 = palette(get_text(params, "palette", "default")).map_or(" .:-=+#@", |p| p.chars);
        let pal2 = palette(get_text(params, "palette2", "dense")).map_or(" .:-=+#@", |p| p.chars);
        let keys = get_text_list(params, "grids", &["md", "xl"]);
        let px = |i: usize, d: f32| keys.get(i).and_then(|k| grid_px(k)).unwrap_or(d);
        let g1 = Grid::with_fonts(px(0, 16.0), frame.grid_scale, w, h, fonts.clone());
        let g2 = Grid::with_fonts(px(1, 24.0), frame.grid_scale, w, h, fonts);
        let base = FieldLayer::new(
            g1,
            pal1,
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
        );
        let top = FieldLayer::new(
            g2,
            pal2,
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
        );
        Plasma {
            base,
            top,
            pat: Vec::new(),
        }
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
