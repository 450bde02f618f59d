//! The renderer of one clip: [`Renderer`] builds a scene and its shader chain once, then renders
//! frames by index. A clip with a crossfade from the clip before ([`Renderer::crossfade_from`])
//! also holds that clip's renderer and mixes its frames into its first ones
//! ([`crate::render::crossfade`]).

use crate::features::ClipFeatures;
use crate::render::bind::{self, Bound};
use crate::render::crossfade::{self, CellTiling};
use crate::render::font::Fonts;
use crate::render::frame::{FrameCx, FrameSpec, StageTimings};
use crate::render::scenes::SceneConfig;
use crate::render::scenes::layers::Layers;
use crate::render::scenes::layers::LayersSpec;
use crate::render::scenes::layers::builtin::{self, DefaultBinding, default_bindings};
use crate::render::scenes::plasma::Plasma;
use crate::render::scenes::quote::Quote;
use crate::render::scenes::scope::Scope;
use crate::render::scenes::spectrum::Spectrum;
use crate::render::shaders::{ShaderChain, validate_shader};
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

/// The bindings of a reactive scene and the values they had at the last frame.
#[derive(Debug, Clone)]
struct Live {
    scene: crate::render::scenes::Scene,
    params: crate::render::params::Params,
    binds: Vec<Bound>,
    defaults: Vec<DefaultBinding>,
    last: Vec<f64>,
    /// Per shader with bound params: its position, its params, its bindings, their last values.
    shaders: Vec<(usize, crate::render::params::Params, Vec<Bound>, Vec<f64>)>,
}

impl Live {
    fn new(spec: &SceneSpec) -> Option<Box<Live>> {
        if !spec.is_reactive() {
            return None;
        }
        let all = default_bindings(spec.scene);
        let defaults: Vec<DefaultBinding> = spec
            .react
            .defaults
            .iter()
            .filter_map(|&i| all.get(i).copied())
            .collect();
        let mut shaders: Vec<(usize, crate::render::params::Params, Vec<Bound>, Vec<f64>)> =
            Vec::new();
        for (pos, b) in &spec.react.shaders {
            match shaders.iter_mut().find(|s| s.0 == *pos) {
                Some(s) => s.2.push(b.clone()),
                None => shaders.push((
                    *pos,
                    spec.shaders[*pos].params.clone(),
                    vec![b.clone()],
                    Vec::new(),
                )),
            }
        }
        Some(Box::new(Live {
            scene: spec.scene,
            params: spec.react.params.clone(),
            binds: spec.react.binds.clone(),
            defaults,
            last: Vec::new(),
            shaders,
        }))
    }

    /// The scene's configuration at `cx`, if a bound value changed since the last call.
    fn scene_at(&mut self, cx: &FrameCx) -> Option<LayersSpec> {
        if self.binds.is_empty() && self.defaults.is_empty() {
            return None;
        }
        let values: Vec<f64> = self
            .binds
            .iter()
            .map(|b| b.binding.at(cx))
            .chain(self.defaults.iter().map(|d| d.binding.at(cx)))
            .collect();
        if values == self.last {
            return None;
        }
        let n = self.binds.len();
        let params = bind::resolve(&self.params, &self.binds, &values[..n]);
        let mut spec = LayersSpec::parse(&params, builtin::config(self.scene));
        for (d, v) in self.defaults.iter().zip(&values[n..]) {
            (d.set)(&mut spec, *v);
        }
        self.last = values;
        Some(spec)
    }

    /// Rebuilds the shaders whose bound values changed.
    fn tune_shaders(&mut self, cx: &FrameCx, chain: &mut ShaderChain) {
        for (pos, params, binds, last) in &mut self.shaders {
            let values: Vec<f64> = binds.iter().map(|b| b.binding.at(cx)).collect();
            if values != *last {
                chain.retune(*pos, &bind::resolve(params, binds, &values));
                *last = values;
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
        Ok(Renderer {
            width: w,
            height: h,
            fps: frame.fps,
            grid_scale: frame.grid_scale,
            scene: s,
            chain: ShaderChain::new(&scene.shaders, frame.shader_level, w, h, seed),
            timings: StageTimings::default(),
            features,
            live: Live::new(scene),
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
        let t0 = Instant::now();
        if let Some(live) = &mut self.live {
            live.tune_shaders(&cx(index), &mut self.chain);
        }
        let row = self.features.row(i64::from(index));
        self.chain
            .apply_with(out, self.width, self.height, index, t as f32, row);
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
        match (&mut self.scene, &mut self.live) {
            (Built::Plasma(p), _) => p.render(t, out, self.width, tm),
            (Built::Quote(q), _) => q.render(t, out, self.width, tm),
            (Built::Layers(l), None) => l.render(index, out, tm),
            (Built::Layers(l), Some(live)) => {
                l.render_tuned(index, out, tm, &mut |i| live.scene_at(&cx(i)))
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
