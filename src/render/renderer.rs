//! The renderer of one clip: [`Renderer`] builds a scene and its shader chain once, then renders
//! frames by index. A clip with a crossfade from the clip before ([`Renderer::crossfade_from`])
//! also holds that clip's renderer and mixes its frames into its first ones
//! ([`crate::render::crossfade`]).
//!
//! A reactive scene's bindings are compiled when the renderer is built: each bound parameter
//! becomes a typed setter into the built scene (`Plasma::set`, `Layers::set` with a
//! `layers::tune::Slot`, ...) or the shader chain (`ShaderChain::set`). Per frame each binding is
//! evaluated at the frame (a function of the global frame, see `render::bind`), and only a value
//! that changed is written; the scene then recomputes only the parts those values change.

use crate::features::ClipFeatures;
use crate::render::bind::{self, Seg};
use crate::render::crossfade::{self, CellTiling};
use crate::render::font::Fonts;
use crate::render::frame::{FrameCx, FrameSpec, StageTimings};
use crate::render::params::{Binding, ParamSpec, Setter, setter_of};
use crate::render::scenes::SceneConfig;
use crate::render::scenes::layers::Layers;
use crate::render::scenes::layers::builtin::default_bindings;
use crate::render::scenes::layers::tune;
use crate::render::scenes::plasma::{Plasma, PlasmaSpec};
use crate::render::scenes::quote::{Quote, QuoteSpec};
use crate::render::scenes::scope::{Scope, ScopeSpec};
use crate::render::scenes::spectrum::{Spectrum, SpectrumSpec};
use crate::render::shaders::{ShaderChain, ShaderSlot, validate_shader};
use crate::render::spec::SceneSpec;
use std::time::Instant;

#[derive(Debug, Clone)]
enum Built {
    Plasma(Box<Plasma>),
    Quote(Box<Quote>),
    Layers(Box<Layers>),
    Spectrum(Box<Spectrum>),
    Scope(Box<Scope>),
}

/// Renders the frames of one clip. Build one per clip (construction rasterizes glyphs and caches
/// grids, so it costs a few milliseconds), then call [`Renderer::render_frame`] per frame.
#[derive(Debug, Clone)]
pub struct Renderer {
    width: usize,
    height: usize,
    fps: u32,
    grid_scale: f32,
    scene: Built,
    chain: ShaderChain,
    timings: StageTimings,
    features: ClipFeatures,
    live: Option<Box<Live>>,
    xfade: Option<Box<Xfade>>,
}

/// A crossfade from the clip before: its renderer, where its frames continue, and the cells.
#[derive(Debug, Clone)]
struct Xfade {
    /// The clip before's renderer (its scene, seed and features; no crossfade of its own).
    from: Renderer,
    /// Its frame index at this clip's frame 0 (its length).
    offset: u32,
    /// Frames of this clip that mix (frame `k` at progress `k / frames`).
    frames: u32,
    /// This clip's cells.
    tiling: CellTiling,
    /// Cell thresholds' seed (this clip's).
    seed: u32,
    /// The clip before's frame.
    buf: Vec<u8>,
    /// The mix and its scratch buffers.
    mixer: crossfade::Mixer,
    /// Whether [`Renderer::catch_up`] has run.
    caught_up: bool,
}

/// Where a bound value of the scene goes: a slot of the built scene, compiled once.
#[derive(Debug, Clone)]
enum SceneSlot {
    Plasma(Setter<PlasmaSpec>),
    Quote(Setter<QuoteSpec>),
    Layers(tune::Slot),
    Spectrum(Setter<SpectrumSpec>),
    Scope(Setter<ScopeSpec>),
}

/// The bindings of a reactive scene, compiled into typed setters when the renderer is built,
/// with the values they had at the last frame (a value that did not change is not written).
#[derive(Debug, Clone)]
struct Live {
    /// The scene's bindings (the plan's, then the scene's default bindings in effect).
    scene: Vec<(Binding, SceneSlot)>,
    scene_last: Vec<f64>,
    /// The shader chain's bindings.
    shaders: Vec<(Binding, ShaderSlot)>,
    shader_last: Vec<f64>,
}

/// The slot of a one-key path in a flat table of setters (the scenes not built on `layers`).
fn flat<S>(setters: &[(ParamSpec, Setter<S>)], path: &[Seg]) -> Option<Setter<S>> {
    match path {
        [Seg::Key(k)] => setter_of(setters, k),
        _ => None,
    }
}

impl Live {
    /// Compiles the bindings of `spec` for the built `scene` and `chain`; `None` when nothing
    /// is bound. An error names a binding that leads to no number of the scene.
    fn new(spec: &SceneSpec, scene: &Built, chain: &ShaderChain) -> Result<Option<Live>, String> {
        if spec.react.binds.is_empty()
            && spec.react.defaults.is_empty()
            && spec.react.shaders.is_empty()
        {
            return Ok(None);
        }
        let all = default_bindings(spec.scene);
        let defaults = spec
            .react
            .defaults
            .iter()
            .filter_map(|&i| all.get(i))
            .map(|d| (d.name.to_string(), bind::path_of(d.name), d.binding));
        let plan = spec
            .react
            .binds
            .iter()
            .map(|b| (b.name.clone(), b.path.clone(), b.binding));
        let mut binds = Vec::new();
        for (name, path, binding) in plan.chain(defaults) {
            let slot = match scene {
                Built::Plasma(_) => flat(PlasmaSpec::SETTERS, &path).map(SceneSlot::Plasma),
                Built::Quote(_) => flat(QuoteSpec::SETTERS, &path).map(SceneSlot::Quote),
                Built::Spectrum(_) => flat(SpectrumSpec::SETTERS, &path).map(SceneSlot::Spectrum),
                Built::Scope(_) => flat(ScopeSpec::SETTERS, &path).map(SceneSlot::Scope),
                Built::Layers(l) => tune::compile(l.spec(), &path).map(SceneSlot::Layers),
            };
            let slot =
                slot.ok_or_else(|| format!("bound parameter {name} has no place in the scene"))?;
            binds.push((binding, slot));
        }
        // A shader the profile's level drops has nothing to tune.
        let shaders: Vec<(Binding, ShaderSlot)> = spec
            .react
            .shaders
            .iter()
            .filter_map(|(pos, b)| chain.bind(*pos, &b.name).map(|slot| (b.binding, slot)))
            .collect();
        Ok(Some(Live {
            scene_last: vec![f64::NAN; binds.len()],
            scene: binds,
            shader_last: vec![f64::NAN; shaders.len()],
            shaders,
        }))
    }

    /// Writes the scene's bound values of frame `cx` that changed since the last call.
    fn tune_scene(&mut self, cx: &FrameCx, scene: &mut Built) {
        for ((b, slot), last) in self.scene.iter().zip(&mut self.scene_last) {
            let v = b.at(cx);
            if v.to_bits() == last.to_bits() {
                continue;
            }
            *last = v;
            match (slot, &mut *scene) {
                (SceneSlot::Plasma(f), Built::Plasma(p)) => p.set(*f, v),
                (SceneSlot::Quote(f), Built::Quote(q)) => q.set(*f, v),
                (SceneSlot::Spectrum(f), Built::Spectrum(sp)) => sp.set(*f, v),
                (SceneSlot::Scope(f), Built::Scope(sc)) => sc.set(*f, v),
                (SceneSlot::Layers(s), Built::Layers(l)) => l.set(s, v),
                _ => {}
            }
        }
    }

    /// [`Live::tune_scene`] for the layers scene (handed to it per frame it renders).
    fn tune_layers(&mut self, cx: &FrameCx, layers: &mut Layers) {
        for ((b, slot), last) in self.scene.iter().zip(&mut self.scene_last) {
            let v = b.at(cx);
            if v.to_bits() != last.to_bits()
                && let SceneSlot::Layers(s) = slot
            {
                *last = v;
                layers.set(s, v);
            }
        }
    }

    /// Writes the shaders' bound values of frame `cx` that changed since the last call.
    fn tune_shaders(&mut self, cx: &FrameCx, chain: &mut ShaderChain) {
        for ((b, slot), last) in self.shaders.iter().zip(&mut self.shader_last) {
            let v = b.at(cx);
            if v.to_bits() != last.to_bits() {
                *last = v;
                chain.set(slot, v);
            }
        }
    }
}

impl Renderer {
    /// Checks the frame geometry and the shader chain of `scene` (a [`SceneSpec`] is checked when
    /// it is parsed), then builds grids, glyph atlases and shader caches. `seed` drives every
    /// random choice (noise, particles, shader randomness).
    ///
    /// The clip's audio features are the synthetic ones of a clip starting at frame 0 (see
    /// [`Renderer::with_features`] for a clip of a plan with a soundtrack).
    pub fn new(frame: &FrameSpec, scene: &SceneSpec, seed: u64) -> Result<Renderer, String> {
        let features = ClipFeatures::synthetic(frame.fps, 0, u64::from(scene.frames), 0);
        Renderer::with_features(frame, scene, seed, features)
    }

    /// [`Renderer::new`] with the clip's audio features (rows for its frames).
    pub fn with_features(
        frame: &FrameSpec,
        scene: &SceneSpec,
        seed: u64,
        features: ClipFeatures,
    ) -> Result<Renderer, String> {
        for (i, sh) in scene.shaders.iter().enumerate() {
            validate_shader(i, sh).map_err(|e| e.to_string())?;
        }
        if frame.width == 0 || frame.height == 0 {
            return Err(format!(
                "frame size {}x{} is empty",
                frame.width, frame.height
            ));
        }
        if frame.width > 16384 || frame.height > 16384 {
            return Err(format!(
                "frame size {}x{} is larger than 16384 pixels on a side",
                frame.width, frame.height
            ));
        }
        if frame.fps == 0 {
            return Err("fps must be at least 1".to_string());
        }
        let (w, h) = (frame.width as usize, frame.height as usize);
        let fonts = Fonts::with_user_fonts(&scene.fonts)?;
        let s = match &scene.config {
            SceneConfig::Plasma(p) => Built::Plasma(Box::new(Plasma::new(frame, p, fonts))),
            SceneConfig::Quote(q) => Built::Quote(Box::new(Quote::new(
                frame,
                q,
                scene.text.as_deref().unwrap_or(""),
                fonts,
            ))),
            SceneConfig::Spectrum(sp) => Built::Spectrum(Box::new(Spectrum::new(frame, sp, fonts))),
            SceneConfig::Scope(sc) => Built::Scope(Box::new(Scope::new(frame, sc, fonts))),
            SceneConfig::Layers(l) => Built::Layers(Box::new(Layers::new(
                frame,
                l,
                scene.text.as_deref(),
                fonts,
                scene.frames,
                seed,
            ))),
        };
        let chain = ShaderChain::new(&scene.shaders, frame.shader_level, w, h, seed);
        let live = Live::new(scene, &s, &chain)?.map(Box::new);
        Ok(Renderer {
            width: w,
            height: h,
            fps: frame.fps,
            grid_scale: frame.grid_scale,
            scene: s,
            chain,
            timings: StageTimings::default(),
            features,
            live,
            xfade: None,
        })
    }

    /// This renderer (of clip B) with a crossfade from `from`, the renderer of the clip before
    /// (A): B's frames `0..frames` mix A's frames `offset + k` (`offset`: A's length, so that A
    /// continues where it ended) into B's own, cell by cell over B's grid, at progress
    /// `k / frames` (see [`crate::render::crossfade`]); `seed` (B's) places the cells' swaps. A
    /// stateful scene of A is simulated from its frame 0 the first time (its catch-up).
    ///
    /// An error when the two frame sizes differ. `frames` 0 is no crossfade at all.
    pub fn crossfade_from(
        mut self,
        from: Renderer,
        offset: u32,
        frames: u32,
        seed: u64,
    ) -> Result<Renderer, String> {
        if (from.width, from.height) != (self.width, self.height) {
            return Err(format!(
                "crossfade from a {}x{} clip into a {}x{} one",
                from.width, from.height, self.width, self.height
            ));
        }
        if frames == 0 {
            return Ok(self);
        }
        let tiling = self.cell_tiling();
        self.xfade = Some(Box::new(Xfade {
            buf: vec![0; from.frame_len()],
            mixer: crossfade::Mixer::new(),
            caught_up: false,
            from: Renderer {
                xfade: None,
                ..from
            },
            offset,
            frames,
            tiling,
            seed: (seed ^ (seed >> 32)) as u32,
        }));
        Ok(self)
    }

    /// Whether the scene carries state from frame to frame (a frame out of order is simulated
    /// from frame 0 first).
    pub fn is_stateful(&self) -> bool {
        matches!(&self.scene, Built::Layers(l) if l.is_stateful())
    }

    /// For a crossfade: (frames that mix, frames of the clip before simulated before its first
    /// frame: its length for a stateful scene, else 0).
    pub fn crossfade(&self) -> Option<(u32, u32)> {
        self.xfade.as_ref().map(|x| {
            let catch_up = if x.from.is_stateful() { x.offset } else { 0 };
            (x.frames, catch_up)
        })
    }

    /// The cells a crossfade into this scene works on: the grid of its first layer (the
    /// `md` grid of a scene without one, at the profile's grid scale).
    fn cell_tiling(&self) -> CellTiling {
        let grid = match &self.scene {
            Built::Plasma(p) => Some(p.grid()),
            Built::Quote(q) => Some(q.grid()),
            Built::Layers(l) => l.grid(),
            Built::Spectrum(sp) => Some(sp.grid()),
            Built::Scope(sc) => Some(sc.grid()),
        };
        match grid {
            Some(g) => CellTiling::of(g),
            None => CellTiling::of(&crate::render::grid::Grid::new(
                crate::render::grid::GridKey::Md.px(),
                self.grid_scale,
                self.width,
                self.height,
            )),
        }
    }

    /// Frame width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Frame height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Bytes of one frame (`width * height * 3`).
    pub fn frame_len(&self) -> usize {
        self.width * self.height * 3
    }

    /// Renders frame `index` (scene time `index / fps`) into `out` as rgb24, overwriting it
    /// completely. The result depends only on the renderer's inputs and `index`.
    ///
    /// # Panics
    /// If `out.len() != width * height * 3`.
    pub fn render_frame(&mut self, index: u32, out: &mut [u8]) {
        self.render(index, out, None);
    }

    /// [`Renderer::render_frame`] into `out`, and the same frame converted into `yuv`: the
    /// conversion runs band by band inside the shader chain's last walk over the frame (see
    /// [`crate::render::shaders`]), so the frame is not read again from memory. The bytes
    /// are those of `render_frame` followed by [`crate::render::yuv::rgb_to_yuv420p`].
    ///
    /// # Panics
    /// If `out.len() != width * height * 3` or `yuv` is not for this frame size.
    pub fn render_frame_yuv(
        &mut self,
        index: u32,
        out: &mut [u8],
        yuv: &mut crate::render::yuv::Yuv420p<'_>,
    ) {
        let mut sink = |rows: &[u8], y0: usize| yuv.rows(rows, y0);
        self.render(index, out, Some(&mut sink));
    }

    fn render(
        &mut self,
        index: u32,
        out: &mut [u8],
        mut sink: Option<crate::render::shaders::pass::Sink<'_>>,
    ) {
        assert_eq!(
            out.len(),
            self.frame_len(),
            "render_frame: buffer of {} bytes for a {}x{} rgb24 frame",
            out.len(),
            self.width,
            self.height
        );
        self.render_scene(index, out);
        let t = f64::from(index) / f64::from(self.fps);
        let tm = &mut self.timings;
        let (fps, features) = (self.fps, &self.features);
        let cx = move |index: u32| FrameCx {
            index,
            t: f64::from(index) / f64::from(fps),
            global: features.start + u64::from(index),
            features,
        };
        if let Some(live) = &mut self.live {
            let t0 = Instant::now();
            live.tune_shaders(&cx(index), &mut self.chain);
            tm.bind_ns += t0.elapsed().as_nanos() as u64;
        }
        let t0 = Instant::now();
        let row = self.features.row(i64::from(index));
        // A crossfade mixes after the chain: the conversion waits for it.
        let mixing = self.xfade.as_ref().is_some_and(|x| index < x.frames);
        let fused = if mixing { None } else { sink.take() };
        self.chain
            .apply_into(out, self.width, self.height, index, t as f32, row, fused);
        tm.shaders_ns += t0.elapsed().as_nanos() as u64;
        tm.frames += 1;
        if let Some(x) = &mut self.xfade
            && index < x.frames
        {
            let t0 = Instant::now();
            x.from
                .render_frame(x.offset.saturating_add(index), &mut x.buf);
            let p = index as f32 / x.frames as f32;
            x.mixer.mix(&x.buf, out, self.width, x.tiling, x.seed, p);
            self.timings.crossfade_ns += t0.elapsed().as_nanos() as u64;
        }
        if let Some(s) = sink {
            s(out, 0);
        }
    }

    /// The scene's frame `index` into `out`, before the shader chain (a stateful scene
    /// simulates the frames before it first when `index` does not follow the last one).
    fn render_scene(&mut self, index: u32, out: &mut [u8]) {
        let t = f64::from(index) / f64::from(self.fps);
        let tm = &mut self.timings;
        let (fps, features) = (self.fps, &self.features);
        let cx = move |index: u32| FrameCx {
            index,
            t: f64::from(index) / f64::from(fps),
            global: features.start + u64::from(index),
            features,
        };
        if let Some(live) = &mut self.live
            && !matches!(self.scene, Built::Layers(_))
        {
            let t0 = Instant::now();
            live.tune_scene(&cx(index), &mut self.scene);
            tm.bind_ns += t0.elapsed().as_nanos() as u64;
        }
        match (&mut self.scene, &mut self.live) {
            (Built::Plasma(p), _) => p.render(t, out, self.width, tm),
            (Built::Quote(q), _) => q.render(t, out, self.width, tm),
            (Built::Layers(l), None) => l.render(index, out, tm),
            (Built::Layers(l), Some(live)) => {
                l.render_tuned(index, out, tm, &mut |i, l| live.tune_layers(&cx(i), l))
            }
            (Built::Spectrum(sp), _) => sp.render(&cx(index), out, self.width, tm),
            (Built::Scope(sc), _) => sc.render(&cx(index), out, self.width, tm),
        }
    }

    /// For a crossfade from a scene that carries state: simulates the clip before up to where
    /// it continues (its scene's frames `0..offset`, without shaders, in order), calling
    /// `tick(done, total)` after each, so that a worker can report that it is alive instead of
    /// spending the whole catch-up inside its first frame; `tick` returning false stops it
    /// (the first frame then simulates the rest). Nothing to do otherwise (or when it was
    /// done). Frames are the same bytes with or without it.
    pub fn catch_up(&mut self, tick: &mut dyn FnMut(u32, u32) -> bool) {
        let Some(x) = &mut self.xfade else {
            return;
        };
        if !x.from.is_stateful() || x.caught_up {
            return;
        }
        let t0 = Instant::now();
        let mut all = true;
        for i in 0..x.offset {
            x.from.render_scene(i, &mut x.buf);
            if !tick(i + 1, x.offset) {
                all = false;
                break;
            }
        }
        x.caught_up = all;
        self.timings.crossfade_ns += t0.elapsed().as_nanos() as u64;
    }

    /// For a chunk that starts at scene frame `first` of a stateful scene: simulates its frames
    /// `0..first` in order (the scene only, no shader chain; `buf` is scratch of
    /// [`Renderer::frame_len`] bytes), calling `tick(done, total)` after each as
    /// [`Renderer::catch_up`] does; `tick` returning false stops it (the first frame then
    /// replays the rest). Nothing to do for a stateless scene. Frames are the same bytes with
    /// or without it: this only moves the replay out of the first frame, where progress can be
    /// reported.
    pub fn replay_to(
        &mut self,
        first: u32,
        buf: &mut [u8],
        tick: &mut dyn FnMut(u32, u32) -> bool,
    ) {
        if !self.is_stateful() {
            return;
        }
        // The scene's stages count their own time (in `timings`), as for any frame.
        for i in 0..first {
            self.render_scene(i, buf);
            if !tick(i + 1, first) {
                break;
            }
        }
    }

    /// What frame `index` is rendered at (its time and features).
    pub fn frame_cx(&self, index: u32) -> FrameCx<'_> {
        FrameCx {
            index,
            t: f64::from(index) / f64::from(self.fps),
            global: self.features.start + u64::from(index),
            features: &self.features,
        }
    }

    /// The clip's audio features.
    pub fn features(&self) -> &ClipFeatures {
        &self.features
    }

    /// Cumulative per-stage timings since the renderer was built.
    pub fn timings(&self) -> StageTimings {
        self.timings
    }
}
