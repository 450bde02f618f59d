//! `glitch_hit`: a glitch that fires on an audio feature (the reference pipeline's glitch effect: row
//! rolls, block corruption, scan bars), reading the frame's features from [`Ctx::features`].
//!
//! - `glitch_hit(on beat, threshold 0.5, intensity 0.8, rolls 6, blocks 6, bars 3)`: when the
//!   feature `on` is at least `threshold` on a frame, the hit's strength is `s = intensity *
//!   value`; otherwise the frame is untouched. A hit draws `round(rolls * s)` bands of rows
//!   rolled sideways (wrapping) by up to `s * width / 6` pixels, `round(blocks * s)` rectangles
//!   copied from elsewhere with their channels rotated (block corruption) and `round(bars * s)`
//!   bright scan bars with dark lines between them. With `on: beat` a hit lasts the frame of the
//!   beat; `on: bdecay` with a threshold makes it last while the beat's decay is above it.
//!
//! Random choices come from the frame's RNG (renderer seed, shader position, frame index), so
//! a frame's hit never depends on which frames were rendered before.

use super::pass::{Ctx, Def, Pass};
use crate::features::Feature;
use crate::render::params::{Dflt, Kind, ParamSpec, int, num, p};
use crate::render::shaders::name::Shader;

/// `on`.
const ON: ParamSpec = p(
    "on",
    Kind::Choice(Feature::NAMES),
    Dflt::Word("beat"),
    "the audio feature that fires the hit",
);
/// `threshold`.
const THRESHOLD: ParamSpec = p(
    "threshold",
    num(0.0, 1.0),
    Dflt::Num(0.5),
    "the hit fires while the feature is at least this",
);
/// `intensity`.
const INTENSITY: ParamSpec = p(
    "intensity",
    num(0.0, 1.0),
    Dflt::Num(0.8),
    "strength of a hit at full feature value",
);
/// `rolls`.
const ROLLS: ParamSpec = p(
    "rolls",
    int(0.0, 64.0),
    Dflt::Num(6.0),
    "bands of rows rolled sideways at full strength",
);
/// `blocks`.
const BLOCKS: ParamSpec = p(
    "blocks",
    int(0.0, 64.0),
    Dflt::Num(6.0),
    "corrupted blocks at full strength",
);
/// `bars`.
const BARS: ParamSpec = p(
    "bars",
    int(0.0, 32.0),
    Dflt::Num(3.0),
    "scan bars at full strength",
);

const PARAMS: &[ParamSpec] = &[ON, THRESHOLD, INTENSITY, ROLLS, BLOCKS, BARS];

/// The feature-fired shaders.
pub const DEFS: &[Def] = &[Def {
    shader: Shader::GlitchHit,
    params: PARAMS,
    help: "row rolls, block corruption and scan bars when a feature fires (default: on beats)",
    build: |p, _, _| {
        Box::new(Hit {
            on: ON.choice(p),
            threshold: THRESHOLD.num(p) as f32,
            intensity: INTENSITY.num(p) as f32,
            rolls: ROLLS.whole(p) as u32,
            blocks: BLOCKS.whole(p) as u32,
            bars: BARS.whole(p) as u32,
        })
    },
    check: None,
}];

/// A configured `glitch_hit`.
#[derive(Debug, Clone)]
pub struct Hit {
    on: Feature,
    threshold: f32,
    intensity: f32,
    rolls: u32,
    blocks: u32,
    bars: u32,
}

impl Hit {
    /// The hit's strength on a frame whose feature `on` is `v` (0: no hit).
    pub fn strength(&self, v: f32) -> f32 {
        if v.is_finite() && v >= self.threshold && v > 0.0 {
            (self.intensity * v).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

impl Pass for Hit {
    fn set(&mut self, param: usize, v: f64) -> bool {
        // The indexes of PARAMS, the values as the builder takes them.
        match param {
            1 => self.threshold = v as f32,
            2 => self.intensity = v as f32,
            3 => self.rolls = ROLLS.whole_of(v) as u32,
            4 => self.blocks = BLOCKS.whole_of(v) as u32,
            5 => self.bars = BARS.whole_of(v) as u32,
            _ => return false,
        }
        true
    }

    #[inline(never)]
    fn apply(&mut self, frame: &mut [u8], cx: &mut Ctx<'_>) {
        let s = self.strength(cx.features.get(self.on));
        let (w, h) = (cx.w, cx.h);
        if s <= 0.0 || w == 0 || h == 0 {
            return;
        }
        let stride = w * 3;
        let mut rng = cx.rng(1);
        let count = |n: u32| (n as f32 * s).round() as u32;
        // Row rolls.
        let max_shift = ((w as f32 * s / 6.0) as i32).max(1);
        let band_h = (h as u32 / 12).max(1);
        for _ in 0..count(self.rolls) {
            let y0 = rng.below(h as u32) as usize;
            let bh = 1 + rng.below(band_h) as usize;
            let d = i64::from(rng.range_i32(-max_shift, max_shift)).rem_euclid(w as i64) as usize;
            for line in frame[y0 * stride..(y0 + bh).min(h) * stride].chunks_exact_mut(stride) {
                line.rotate_right(d * 3);
            }
        }
        // Block corruption: a rectangle copied from elsewhere, channels rotated.
        let n_blocks = count(self.blocks);
        if n_blocks > 0 {
            let src = cx.copy_of(frame);
            let bw_max = (w as u32 / 5).max(1);
            let bh_max = (h as u32 / 8).max(1);
            for _ in 0..n_blocks {
                let bw = 1 + rng.below(bw_max) as usize;
                let bh = 1 + rng.below(bh_max) as usize;
                let x0 = rng.below(w as u32) as usize;
                let y0 = rng.below(h as u32) as usize;
                let sx = rng.below(w as u32) as usize;
                let sy = rng.below(h as u32) as usize;
                let rot = 1 + rng.below(2) as usize;
                for y in y0..(y0 + bh).min(h) {
                    let yy = (sy + y - y0) % h;
                    for x in x0..(x0 + bw).min(w) {
                        let xx = (sx + x - x0) % w;
                        let from = yy * stride + xx * 3;
                        let to = y * stride + x * 3;
                        for c in 0..3 {
                            frame[to + c] = src[from + (c + rot) % 3];
                        }
                    }
                }
            }
        }
        // Scan bars: bright rows with dark lines between them.
        let lift = (90.0 * s) as u16;
        for _ in 0..count(self.bars) {
            let y0 = rng.below(h as u32) as usize;
            let bh = 2 + rng.below((h as u32 / 24).max(1)) as usize;
            for (i, y) in (y0..(y0 + bh).min(h)).enumerate() {
                let line = &mut frame[y * stride..(y + 1) * stride];
                if i % 2 == 0 {
                    for b in line {
                        *b = (u16::from(*b) + lift).min(255) as u8;
                    }
                } else {
                    for b in line {
                        *b /= 2;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::features::{ClipFeatures, Feature};
    use crate::render::frame::ShaderLevel;
    use crate::render::params::{Param, Params};
    use crate::render::shaders::{ShaderChain, ShaderSpec, validate_shader};

    fn chain(params: Params, w: usize, h: usize) -> ShaderChain {
        let spec = ShaderSpec {
            name: crate::render::shaders::name::Shader::GlitchHit,
            params,
        };
        validate_shader(0, &spec).unwrap();
        ShaderChain::new(&[spec], ShaderLevel::Full, w, h, 7)
    }

    fn gradient(w: usize, h: usize) -> Vec<u8> {
        (0..w * h * 3).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn fires_on_beats_only_and_deterministically() {
        let (w, h) = (64, 48);
        let feats = ClipFeatures::synthetic(24, 0, 24, 0);
        let mut c = chain(Params::new(), w, h);
        let mut changed = Vec::new();
        for f in 0..24u32 {
            let mut a = gradient(w, h);
            c.apply_with(&mut a, w, h, f, 0.0, feats.row(f as i64));
            let mut b = gradient(w, h);
            c.apply_with(&mut b, w, h, f, 0.0, feats.row(f as i64));
            assert_eq!(a, b, "same frame, same bytes");
            if a != gradient(w, h) {
                changed.push(f);
            }
        }
        let beats: Vec<u32> = (0..24)
            .filter(|&f| feats.get(f as i64, Feature::Beat) > 0.5)
            .collect();
        assert_eq!(changed, beats);
    }

    #[test]
    fn another_feature_and_odd_sizes() {
        let mut p = Params::new();
        p.insert("on".into(), Param::Text("bdecay".into()));
        p.insert("threshold".into(), Param::Num(0.1));
        let feats = ClipFeatures::synthetic(24, 0, 4, 0);
        for (w, h) in [(1, 1), (2, 2), (3, 5), (17, 9)] {
            let mut c = chain(p.clone(), w, h);
            let mut a = gradient(w, h);
            c.apply_with(&mut a, w, h, 0, 0.0, feats.row(0));
            assert_eq!(a.len(), w * h * 3);
        }
        let bad = ShaderSpec {
            name: crate::render::shaders::name::Shader::GlitchHit,
            params: [("on".to_string(), Param::Text("loudness".into()))].into(),
        };
        let e = validate_shader(0, &bad).unwrap_err();
        assert!(e.message.contains("bdecay"), "{}", e.message);
    }
}
