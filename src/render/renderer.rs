//! The renderer of one clip: [`Renderer`] builds a scene and its shader chain once, then renders
//! frames by index.

use crate::features::ClipFeatures;
use crate::render::font::Fonts;
use crate::render::frame::{FrameCx, FrameSpec, StageTimings};
use crate::render::scenes::SceneConfig;
use crate::render::scenes::layers::Layers;
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
    scene: Built,
    chain: ShaderChain,
    timings: StageTimings,
    features: ClipFeatures,
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
            scene: s,
            chain: ShaderChain::new(&scene.shaders, frame.shader_level, w, h, seed),
            timings: StageTimings::default(),
            features,
        })
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
        let t = f64::from(index) / f64::from(self.fps);
        let tm = &mut self.timings;
        match &mut self.scene {
            Built::Plasma(p) => p.render(t, out, self.width, tm),
            Built::Quote(q) => q.render(t, out, self.width, tm),
            Built::Layers(l) => l.render(index, out, tm),
            Built::Spectrum(s) => {
                let cx = FrameCx {
                    index,
                    t,
                    global: self.features.start + u64::from(index),
                    features: &self.features,
                };
                s.render(&cx, out, self.width, tm)
            }
            Built::Scope(s) => {
                let cx = FrameCx {
                    index,
                    t,
                    global: self.features.start + u64::from(index),
                    features: &self.features,
                };
                s.render(&cx, out, self.width, tm)
            }
        }
        let t0 = Instant::now();
        let row = self.features.row(i64::from(index));
        self.chain
            .apply_with(out, self.width, self.height, index, t as f32, row);
        tm.shaders_ns += t0.elapsed().as_nanos() as u64;
        tm.frames += 1;
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
