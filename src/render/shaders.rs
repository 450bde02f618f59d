//! Post-processing shaders on the finished rgb24 frame: `bloom`, `vignette`, `grain`.
//!
//! The chain runs in the order of the scene's `shaders:` list, filtered by the profile's
//! [`ShaderLevel`]:
//! - `Minimal` keeps only `vignette` (one multiply per byte, from a cached map);
//! - `Standard` keeps `bloom` and `vignette` and drops `grain`: grain is cheap to render but noise
//!   that changes every frame defeats x264's inter-frame prediction (the baseline measured ASCII
//!   frames without grain encoding 1.7x faster), so it is reserved for `Full`;
//! - `Full` runs every shader asked for.
//!
//! Everything is integer or deterministic `f32` arithmetic with no dependence on earlier frames:
//! grain's noise for frame `i` comes from an RNG seeded with (renderer seed, `i`).
//!
//! - `bloom(thr 130, gain 0.5)`: take every 4th pixel of every 4th row, zero channels `<= thr`,
//!   blur three times with a 3x3 box (edges clamped; done as separable 1x3 + 3x1 passes), then add
//!   `floor(gain * blur)` of the 4x4 block each pixel belongs to, saturating.
//! - `vignette(strength 0.25, floor 0.15)`: multiply by `clamp(1 - strength * sqrt(X^2 + Y^2),
//!   floor, 1)` with `X, Y` spanning `[-1, 1]` over the frame; the map is built once per renderer
//!   (stored as `u8` in 1/255 steps for the top half; the bottom half mirrors it).
//! - `grain(amt 8)`: uniform integer noise in `[-amt, amt]`, one value per 2x2 pixel block shared by
//!   the three channels, added with saturation.

use crate::render::canvas::div255;
use crate::render::params::get_num;
use crate::render::rng::Rng;
use crate::render::{ShaderLevel, ShaderSpec};

/// Names of the shaders, in the order they are documented.
pub const SHADER_NAMES: &[&str] = &["bloom", "vignette", "grain"];

/// Salt mixed into the renderer seed for grain noise.
const GRAIN_SALT: u64 = 0x6752_6169_6E00_0001;

/// Whether a shader called `name` runs at `level`.
pub fn allowed(name: &str, level: ShaderLevel) -> bool {
    match level {
        ShaderLevel::Minimal => name == "vignette",
        ShaderLevel::Standard => name == "vignette" || name == "bloom",
        ShaderLevel::Full => true,
    }
}

/// One configured shader with its caches and scratch buffers.
#[derive(Debug, Clone)]
enum Shader {
    Bloom(Bloom),
    Vignette(Vignette),
    Grain(Grain),
}

/// A chain of shaders for one frame size.
#[derive(Debug, Clone)]
pub struct ShaderChain {
    shaders: Vec<Shader>,
    width: usize,
    height: usize,
}

impl ShaderChain {
    /// Builds the chain for `specs` (already validated; unknown names are skipped), keeping only the
    /// shaders `level` allows.
    pub fn new(
        specs: &[ShaderSpec],
        level: ShaderLevel,
        width: usize,
        height: usize,
        seed: u64,
    ) -> ShaderChain {
        let shaders = specs
            .iter()
            .filter(|s| allowed(&s.name, level))
            .filter_map(|s| {
                let p = &s.params;
                match s.name.as_str() {
                    "bloom" => Some(Shader::Bloom(Bloom::new(
                        get_num(p, "thr", 130.0),
                        get_num(p, "gain", 0.5),
                        width,
                        height,
                    ))),
                    "vignette" => {
                        let strength = get_num(p, "strength", get_num(p, "s", 0.25));
                        let floor = get_num(p, "floor", 0.15);
                        Some(Shader::Vignette(Vignette::new(
                            strength, floor, width, height,
                        )))
                    }
                    "grain" => Some(Shader::Grain(Grain::new(
                        get_num(p, "amt", 8.0),
                        seed,
                        width,
                        height,
                    ))),
                    _ => None,
                }
            })
            .collect();
        ShaderChain {
            shaders,
            width,
            height,
        }
    }

    /// Number of shaders that will run.
    pub fn len(&self) -> usize {
        self.shaders.len()
    }

    /// True if no shader runs.
    pub fn is_empty(&self) -> bool {
        self.shaders.is_empty()
    }

    /// Applies the chain to frame `index` in place.
    pub fn apply(&mut self, out: &mut [u8], index: u32) {
        let (w, h) = (self.width, self.height);
        for s in &mut self.shaders {
            match s {
                Shader::Bloom(b) => b.apply(out, w, h),
                Shader::Vignette(v) => v.apply(out, w, h),
                Shader::Grain(g) => g.apply(out, w, h, index),
            }
        }
    }
}

/// Bloom on a 4x downsample.
#[derive(Debug, Clone)]
struct Bloom {
    thr: u8,
    gain: f32,
    sw: usize,
    sh: usize,
    small: Vec<f32>,
    tmp: Vec<f32>,
    add: Vec<u8>,
    row: Vec<u8>,
}

impl Bloom {
    fn new(thr: f64, gain: f64, w: usize, h: usize) -> Bloom {
        let (sw, sh) = (w.div_ceil(4), h.div_ceil(4));
        Bloom {
            thr: thr.clamp(0.0, 255.0) as u8,
            gain: gain.max(0.0) as f32,
            sw,
            sh,
            small: vec![0.0; sw * sh * 3],
            tmp: vec![0.0; sw * sh * 3],
            add: vec![0; sw * sh * 3],
            row: vec![0; w * 3],
        }
    }

    #[inline(never)]
    fn apply(&mut self, out: &mut [u8], w: usize, h: usize) {
        let (sw, sh) = (self.sw, self.sh);
        if sw == 0 || sh == 0 {
            return;
        }
        let stride = w * 3;
        // Downsample + threshold.
        let mut any = false;
        for sy in 0..sh {
            let src = &out[sy * 4 * stride..sy * 4 * stride + stride];
            let dst = &mut self.small[sy * sw * 3..(sy + 1) * sw * 3];
            for (d, s) in dst.chunks_exact_mut(3).zip(src.chunks_exact(12)) {
                for k in 0..3 {
                    let v = s[k];
                    d[k] = if v > self.thr {
                        any = true;
                        f32::from(v)
                    } else {
                        0.0
                    };
                }
            }
            // A last partial 4-pixel block (width not a multiple of 4).
            if !w.is_multiple_of(4) {
                let x = (sw - 1) * 4;
                for k in 0..3 {
                    let v = src[x * 3 + k];
                    dst[(sw - 1) * 3 + k] = if v > self.thr {
                        any = true;
                        f32::from(v)
                    } else {
                        0.0
                    };
                }
            }
        }
        if !any {
            return;
        }
        // Three 3x3 box blurs, each as a horizontal then a vertical 3-tap mean, edges clamped.
        let third = 1.0f32 / 3.0;
        let rw = sw * 3;
        for _ in 0..3 {
            for (src, dst) in self
                .small
                .chunks_exact(rw)
                .zip(self.tmp.chunks_exact_mut(rw))
            {
                blur_row(src, dst, third);
            }
            for sy in 0..sh {
                let up = sy.saturating_sub(1) * rw;
                let mid = sy * rw;
                let down = (sy + 1).min(sh - 1) * rw;
                let dst = &mut self.small[mid..mid + rw];
                let (a, b, c) = (
                    &self.tmp[up..up + rw],
                    &self.tmp[mid..mid + rw],
                    &self.tmp[down..down + rw],
                );
                for (((d, &a), &b), &c) in dst.iter_mut().zip(a).zip(b).zip(c) {
                    *d = (a + b + c) * third;
                }
            }
        }
        for (a, &s) in self.add.iter_mut().zip(&self.small) {
            *a = (s * self.gain).clamp(0.0, 255.0) as u8;
        }
        // Upsample (each small pixel covers a 4x4 block) and add, saturating.
        for sy in 0..sh {
            let src = &self.add[sy * sw * 3..(sy + 1) * sw * 3];
            if src.iter().all(|&v| v == 0) {
                continue;
            }
            for (dst, s) in self.row.chunks_mut(12).zip(src.chunks_exact(3)) {
                for px in dst.chunks_exact_mut(3) {
                    px.copy_from_slice(s);
                }
            }
            for y in sy * 4..(sy * 4 + 4).min(h) {
                let line = &mut out[y * stride..(y + 1) * stride];
                for (o, &a) in line.iter_mut().zip(&self.row) {
                    *o = o.saturating_add(a);
                }
            }
        }
    }
}

/// Horizontal 3-tap mean of one row of rgb `f32` pixels, edges clamped.
#[inline]
fn blur_row(src: &[f32], dst: &mut [f32], third: f32) {
    let n = src.len();
    if n <= 3 {
        dst.copy_from_slice(src);
        return;
    }
    for k in 0..3 {
        dst[k] = (src[k] + src[k] + src[k + 3]) * third;
        dst[n - 3 + k] = (src[n - 6 + k] + src[n - 3 + k] + src[n - 3 + k]) * third;
    }
    let (l, rest) = src.split_at(n - 6);
    let m = &src[3..n - 3];
    let r = &src[6..];
    for (((d, &a), &b), &c) in dst[3..n - 3].iter_mut().zip(l).zip(m).zip(r) {
        *d = (a + b + c) * third;
    }
    let _ = rest;
}

/// Cached vignette multipliers.
#[derive(Debug, Clone)]
struct Vignette {
    /// Top `ceil(h / 2)` rows of `w * 3` multipliers in 1/255 steps.
    map: Vec<u8>,
    half: usize,
}

impl Vignette {
    fn new(strength: f64, floor: f64, w: usize, h: usize) -> Vignette {
        let half = h.div_ceil(2);
        let lin = |i: usize, n: usize| {
            if n <= 1 {
                0.0
            } else {
                (2.0 * i as f64 - (n - 1) as f64) / (n - 1) as f64
            }
        };
        let floor = floor.clamp(0.0, 1.0);
        let mut map = Vec::with_capacity(half * w * 3);
        for y in 0..half {
            let yy = lin(y, h);
            for x in 0..w {
                let xx = lin(x, w);
                let v = (1.0 - (xx * xx + yy * yy).sqrt() * strength).clamp(floor, 1.0);
                let m = (v * 255.0).round() as u8;
                map.extend_from_slice(&[m, m, m]);
            }
        }
        Vignette { map, half }
    }

    #[inline(never)]
    fn apply(&self, out: &mut [u8], w: usize, h: usize) {
        let stride = w * 3;
        if stride == 0 {
            return;
        }
        for (y, line) in out.chunks_exact_mut(stride).take(h).enumerate() {
            let my = if y < self.half { y } else { h - 1 - y };
            let m = &self.map[my * stride..(my + 1) * stride];
            for (o, &k) in line.iter_mut().zip(m) {
                *o = div255(u16::from(*o) * u16::from(k)) as u8;
            }
        }
    }
}

/// Half-resolution film grain.
#[derive(Debug, Clone)]
struct Grain {
    amt: u8,
    seed: u64,
    half_pos: Vec<u8>,
    half_neg: Vec<u8>,
    pos: Vec<u8>,
    neg: Vec<u8>,
}

impl Grain {
    fn new(amt: f64, seed: u64, w: usize, _h: usize) -> Grain {
        Grain {
            amt: amt.round().clamp(0.0, 127.0) as u8,
            seed,
            half_pos: vec![0; w.div_ceil(2)],
            half_neg: vec![0; w.div_ceil(2)],
            pos: vec![0; w.div_ceil(2) * 6],
            neg: vec![0; w.div_ceil(2) * 6],
        }
    }

    #[inline(never)]
    fn apply(&mut self, out: &mut [u8], w: usize, h: usize, index: u32) {
        if self.amt == 0 || w == 0 {
            return;
        }
        let mut rng = Rng::for_stream(self.seed ^ GRAIN_SALT, u64::from(index));
        let span = 2 * u32::from(self.amt) + 1;
        let amt = i32::from(self.amt);
        let stride = w * 3;
        for hy in 0..h.div_ceil(2) {
            // One noise value per 2x2 block: 8 values per 64 random bits.
            for (ps, ns) in self.half_pos.chunks_mut(8).zip(self.half_neg.chunks_mut(8)) {
                let bits = rng.next_u64().to_le_bytes();
                for ((p, m), &byte) in ps.iter_mut().zip(ns.iter_mut()).zip(&bits) {
                    let n = ((u32::from(byte) * span) >> 8) as i32 - amt;
                    *p = n.max(0) as u8;
                    *m = (-n).max(0) as u8;
                }
            }
            // Expand to two pixels of three channels each.
            for ((dp, dn), (&p, &m)) in self
                .pos
                .chunks_exact_mut(6)
                .zip(self.neg.chunks_exact_mut(6))
                .zip(self.half_pos.iter().zip(&self.half_neg))
            {
                dp.copy_from_slice(&[p; 6]);
                dn.copy_from_slice(&[m; 6]);
            }
            for y in hy * 2..(hy * 2 + 2).min(h) {
                let line = &mut out[y * stride..(y + 1) * stride];
                for ((o, &p), &m) in line.iter_mut().zip(&self.pos).zip(&self.neg) {
                    *o = o.saturating_add(p).saturating_sub(m);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Params;

    fn spec(name: &str) -> ShaderSpec {
        ShaderSpec {
            name: name.to_string(),
            params: Params::new(),
        }
    }

    fn px(buf: &[u8], w: usize, x: usize, y: usize) -> u8 {
        buf[(y * w + x) * 3]
    }

    #[test]
    fn vignette_darkens_corners_not_centre() {
        let (w, h) = (160, 90);
        let mut chain = ShaderChain::new(&[spec("vignette")], ShaderLevel::Minimal, w, h, 1);
        let mut buf = vec![200u8; w * h * 3];
        chain.apply(&mut buf, 0);
        let centre = px(&buf, w, w / 2, h / 2);
        assert!(centre >= 197, "centre {centre}");
        for (x, y) in [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)] {
            let c = px(&buf, w, x, y);
            // 1 - 0.25 * sqrt(2) = 0.646
            assert!((128..=130).contains(&c), "corner {c}");
        }
        // Symmetric top/bottom.
        assert_eq!(px(&buf, w, 10, 3), px(&buf, w, 10, h - 4));
    }

    #[test]
    fn bloom_brightens_near_bright_pixels() {
        let (w, h) = (64, 64);
        let mut chain = ShaderChain::new(&[spec("bloom")], ShaderLevel::Standard, w, h, 1);
        let mut buf = vec![10u8; w * h * 3];
        for y in 28..36 {
            for x in 28..36 {
                buf[(y * w + x) * 3..(y * w + x) * 3 + 3].fill(255);
            }
        }
        let before = buf.clone();
        chain.apply(&mut buf, 0);
        assert!(buf.iter().zip(&before).all(|(a, b)| a >= b));
        assert!(px(&buf, w, 26, 32) > px(&before, w, 26, 32));
        assert!(px(&buf, w, 37, 30) > px(&before, w, 37, 30));
        assert_eq!(px(&buf, w, 2, 2), 10, "far pixels untouched");
        // Nothing above the threshold: no change at all.
        let mut dark = vec![100u8; w * h * 3];
        chain.apply(&mut dark, 0);
        assert!(dark.iter().all(|&v| v == 100));
    }

    #[test]
    fn grain_depends_on_index_only() {
        let (w, h) = (50, 30);
        let mut a = ShaderChain::new(&[spec("grain")], ShaderLevel::Full, w, h, 9);
        let mut b = ShaderChain::new(&[spec("grain")], ShaderLevel::Full, w, h, 9);
        let run = |c: &mut ShaderChain, i| {
            let mut buf = vec![128u8; w * h * 3];
            c.apply(&mut buf, i);
            buf
        };
        let f3 = run(&mut a, 3);
        let f4 = run(&mut a, 4);
        assert_ne!(f3, f4);
        assert_eq!(run(&mut b, 3), f3);
        assert!(f3.iter().all(|&v| (120..=136).contains(&v)));
        assert!(f3.iter().any(|&v| v != 128));
        // 2x2 blocks share one value across channels.
        assert_eq!(f3[0], f3[1]);
        assert_eq!(f3[0], f3[3]);
        assert_eq!(f3[0], f3[w * 3]);
        // Grain is dropped below Full.
        let std_chain = ShaderChain::new(&[spec("grain")], ShaderLevel::Standard, w, h, 9);
        assert!(std_chain.is_empty());
    }
}
