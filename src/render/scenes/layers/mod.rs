//! `layers`: the composed scene. Value-field layers (grid, field, palette, colour, UV transform,
//! mask, blend, opacity, time window) drawn bottom first, then rain, fire, particle systems and
//! text, then the percentile tonemap, the feedback buffer and the transitions. The named built-in
//! scenes (`rings`, `tunnel`, `fbm`, `matrix-rain`, `fire`, `starfield`, `particles`, `ticker`,
//! `life`, `voronoi`) are `layers` with a built-in configuration that the segment's params
//! override key by key (see [`builtin`]).
//!
//! Frame pipeline: clear -> layers -> rain -> fire -> particles -> text -> tonemap(gamma) ->
//! feedback -> transition; the renderer then runs the shader chain. Flow particles with
//! `follow: i` read layer `i`'s values of the same frame (a [`Guide`]), computed just before.
//!
//! State: particles, the feedback buffer, reaction-diffusion and life carry state from frame to
//! frame. Such a scene is simulated in frame order from frame 0: asked for frame `i` after frame
//! `j != i - 1`, the renderer resets and renders (without shaders) frames `0..i` first, so
//! frame `i` is the same bytes whatever was rendered before.
//!
//! Files: [`spec`] (the configuration, [`LayersSpec`], and the parameter tables), [`builtin`]
//! (the built-in configurations), [`build`] (turning a spec into grids, fields and buffers),
//! [`tune`] (bound parameters: compiled once into [`tune::Slot`]s, written per frame, only the
//! parts they change recomputed), [`uv`] (UV transforms), [`comp`] (compositing a grid onto the
//! frame); this file holds the built scene and its frame loop.
//!
//! Key types: [`LayersSpec`] / [`LayerSpec`] (what the plan asks for, typed), [`Layers`] (the
//! built scene), [`comp::Comp`] (a blend mode at an opacity with its table), [`uv::Uv`].

pub mod build;
pub mod builtin;
pub mod comp;
pub mod spec;
pub mod tune;
pub mod uv;

pub use spec::{LayerSpec, LayersSpec};

use crate::render::color::ColorStyle;
use crate::render::effects::{CellEffect, Fire, Rain};
use crate::render::fields::{Coords, Field};
use crate::render::font::{BLANK, GlyphId};
use crate::render::frame::StageTimings;
use crate::render::grid::Grid;
use crate::render::mask::Mask;
use crate::render::particles::{Guide, Particles};
use crate::render::post::{Feedback, Tonemap, Transition, transition};
use crate::render::text::TextLayer;
use comp::{Comp, composite};
use std::time::Instant;
use uv::Uv;

/// One value-field layer, built: grid, field, colours and per-cell buffers.
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
    /// The transform `uv` was made from (a bound value that changes it makes it again).
    uv_spec: Option<uv::UvSpec>,
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

/// The cells of a grid that an effect (rain, fire, particles) writes each frame.
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

/// What writes a frame's bound values into the scene (see [`Layers::render_tuned`]).
pub type Tune<'a> = dyn FnMut(u32, &mut Layers) + 'a;

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
    /// Text layers, each with its index in the configuration's `text`.
    texts: Vec<(usize, TextLayer)>,
    tonemap: Option<Tonemap>,
    feedback: Option<Feedback>,
    trans_in: (Transition, f32),
    trans_out: (Transition, f32),
    scratch: Vec<u8>,
    pat: Vec<u8>,
    next_frame: u32,
    stateful: bool,
    /// The configuration, with the bound values of the last frame written in.
    spec: LayersSpec,
    /// The clip's length in seconds (0 when unknown), for text layers' default reveal.
    clip_secs: f32,
    /// The parts whose bound values changed since the last refresh.
    dirty: Dirty,
}

/// The parts of a built scene whose bound values changed since the last refresh.
#[derive(Debug, Clone, Default)]
struct Dirty {
    any: bool,
    /// The scene's `hue` or `speed` (or `gamma`): every part.
    all: bool,
    layers: Vec<bool>,
    particles: Vec<bool>,
    /// By index in the configuration's `text`.
    texts: Vec<bool>,
    rain: bool,
    fire: bool,
    feedback: bool,
    transition: bool,
}

impl Layers {
    /// Whether the scene carries state from frame to frame (particles, feedback, automata): a
    /// frame out of order is then simulated from frame 0 (see the module doc).
    pub fn is_stateful(&self) -> bool {
        self.stateful
    }

    /// The grid of its first value-field layer, else of its rain, fire or first particle
    /// system, else of its first text layer (the cells a crossfade into it works on); None for
    /// a scene that draws nothing.
    pub fn grid(&self) -> Option<&Grid> {
        self.layers
            .first()
            .map(|l| &l.grid)
            .or(self.rain.as_ref().map(|r| &r.1.grid))
            .or(self.fire.as_ref().map(|f| &f.1.grid))
            .or(self.particles.first().map(|p| &p.1.grid))
            .or(self.texts.first().map(|t| &t.1.grid))
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
        self.render_with(index, out, tm, None);
    }

    /// [`Layers::render`] for a scene with bound parameters: before each frame it renders
    /// (including the frames a stateful scene simulates first), `tune(frame, scene)` writes the
    /// bound values of that frame ([`Layers::set`]); the parts they change are then recomputed
    /// ([`Layers::refresh`]). The time that takes counts as `bind_ns`.
    pub fn render_tuned(
        &mut self,
        index: u32,
        out: &mut [u8],
        tm: &mut StageTimings,
        tune: &mut Tune<'_>,
    ) {
        self.render_with(index, out, tm, Some(tune));
    }

    fn render_with(
        &mut self,
        index: u32,
        out: &mut [u8],
        tm: &mut StageTimings,
        mut tune: Option<&mut Tune<'_>>,
    ) {
        let mut frame = |l: &mut Layers, i: u32, out: &mut [u8], tm: &mut StageTimings| {
            if let Some(tune) = tune.as_mut() {
                let t0 = Instant::now();
                tune(i, l);
                l.refresh();
                tm.bind_ns += t0.elapsed().as_nanos() as u64;
            }
            l.render_one(i, out, tm);
        };
        if self.stateful && index != self.next_frame {
            if index < self.next_frame {
                self.reset();
            }
            while self.next_frame < index {
                let i = self.next_frame;
                frame(self, i, out, tm);
            }
        }
        frame(self, index, out, tm);
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
            composite(
                out,
                &mut self.scratch,
                &mut self.pat,
                width,
                &l.grid,
                &l.glyphs,
                &mut l.colours,
                &mut l.comp,
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
            composite(
                out,
                &mut self.scratch,
                &mut self.pat,
                width,
                &c.grid,
                &c.glyphs,
                &mut c.colours,
                &mut c.comp,
                &mut black,
            );
        }
        for (ps, c) in &mut self.particles {
            let asp = c.grid.cw as f32 / c.grid.ch.max(1) as f32;
            let guide = ps.follow.and_then(|j| self.layers.get(j)).map(|l| {
                let cell = |g: &Grid| [g.ox as f32, g.oy as f32, g.cw as f32, g.ch as f32];
                Guide {
                    vals: &l.vals,
                    rows: l.grid.rows,
                    cols: l.grid.cols,
                    cells: cell(&l.grid),
                    particle_cells: cell(&c.grid),
                }
            });
            ps.step_with(
                index,
                self.fps,
                c.grid.rows,
                c.grid.cols,
                asp,
                guide.as_ref(),
            );
            ps.draw(c.grid.rows, c.grid.cols, &mut c.glyphs, &mut c.colours, 1.0);
            composite(
                out,
                &mut self.scratch,
                &mut self.pat,
                width,
                &c.grid,
                &c.glyphs,
                &mut c.colours,
                &mut c.comp,
                &mut black,
            );
        }
        for (_, tx) in &mut self.texts {
            tx.draw(t, out, width, self.height);
        }
        let t1 = Instant::now();
        match (&mut self.tonemap, &mut self.feedback) {
            // One walk over the frame for both (see `post`'s module doc).
            (Some(tmap), Some(fb)) => {
                let ready = tmap.prepare(out, width);
                fb.apply_after(out, width, ready.then(|| tmap.luts()));
            }
            (Some(tmap), None) => tmap.apply(out, width),
            (None, Some(fb)) => fb.apply(out, width),
            (None, None) => {}
        }
        if self.trans_in.0 != Transition::None && self.trans_in.1 > 0.0 {
            transition(out, width, self.trans_in.0, t / self.trans_in.1);
        }
        if self.trans_out.0 != Transition::None && self.trans_out.1 > 0.0 && self.frames > 0 {
            let left =
                (self.frames.saturating_sub(1).saturating_sub(index)) as f32 / self.fps as f32;
            transition(out, width, self.trans_out.0, left / self.trans_out.1);
        }
        let t2 = Instant::now();
        tm.blit_ns += (t1 - t0).as_nanos() as u64;
        tm.blend_ns += (t2 - t1).as_nanos() as u64;
        self.next_frame = index + 1;
    }
}
