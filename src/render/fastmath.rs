//! Small deterministic maths for per-cell fields: a polynomial sine, integer hashing and value
//! noise. Plain `f32` multiply-adds in a fixed order (Rust never contracts them into FMAs), so the
//! same inputs give the same bits on every run and in every worker.

use std::f32::consts::PI;

const INV_PI: f32 = 1.0 / PI;

/// `sin(x)` to about 4e-6 for `|x|` up to a few thousand: reduce to `[-pi/2, pi/2]` by the nearest
/// multiple of pi, then a degree-9 Taylor polynomial.
#[inline(always)]
pub fn fsin(x: f32) -> f32 {
    let k = (x * INV_PI + 0.5).floor();
    let r = x - k * PI;
    let r2 = r * r;
    let s = r
        * (1.0
            + r2 * (-1.0 / 6.0
                + r2 * (1.0 / 120.0 + r2 * (-1.0 / 5040.0 + r2 * (1.0 / 362_880.0)))));
    if (k as i32) & 1 == 1 { -s } else { s }
}

/// `cos(x)` as `fsin(x + pi/2)`.
#[inline(always)]
pub fn fcos(x: f32) -> f32 {
    fsin(x + PI / 2.0)
}

/// A well-mixed 32-bit hash of two integers and a seed.
#[inline(always)]
pub fn hash2(x: i32, y: i32, seed: u32) -> u32 {
    let mut h = (x as u32).wrapping_mul(0x8DA6_B343) ^ (y as u32).wrapping_mul(0xD816_3841) ^ seed;
    h ^= h >> 15;
    h = h.wrapping_mul(0x2C1B_3C6D);
    h ^= h >> 12;
    h = h.wrapping_mul(0x297A_2D39);
    h ^ (h >> 15)
}

/// `hash2` mapped to `[0, 1)`.
#[inline(always)]
pub fn hash01(x: i32, y: i32, seed: u32) -> f32 {
    (hash2(x, y, seed) >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
}

/// Value noise in `[0, 1]`: a hashed lattice, quintic fade, bilinear blend.
#[inline]
pub fn value_noise(x: f32, y: f32, seed: u32) -> f32 {
    let (fx, fy) = (x.floor(), y.floor());
    let (ix, iy) = (fx as i32, fy as i32);
    let (tx, ty) = (x - fx, y - fy);
    let q = |t: f32| t * t * t * (t * (t * 6.0 - 15.0) + 10.0);
    let (u, v) = (q(tx), q(ty));
    let a = hash01(ix, iy, seed);
    let b = hash01(ix + 1, iy, seed);
    let c = hash01(ix, iy + 1, seed);
    let d = hash01(ix + 1, iy + 1, seed);
    let top = a + (b - a) * u;
    let bot = c + (d - c) * u;
    top + (bot - top) * v
}

/// Fractal Brownian motion: `octaves` of value noise, lacunarity 2, gain 0.5, per-octave offsets,
/// normalized to `[0, 1]`.
#[inline]
pub fn fbm(x: f32, y: f32, octaves: u32, seed: u32) -> f32 {
    let (mut sum, mut amp, mut norm, mut f) = (0.0f32, 1.0f32, 0.0f32, 1.0f32);
    for o in 0..octaves.max(1) {
        let off = o as f32 * 17.31;
        sum += amp * value_noise(x * f + off, y * f - off, seed.wrapping_add(o * 101));
        norm += amp;
        amp *= 0.5;
        f *= 2.0;
    }
    sum / norm
}

/// Smoothstep from `e0` to `e1`.
#[inline(always)]
pub fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fsin_is_close_to_sin() {
        let mut x = -200.0f32;
        while x < 200.0 {
            assert!((fsin(x) - x.sin()).abs() < 2e-5, "{x}");
            assert!((fcos(x) - x.cos()).abs() < 2e-5, "{x}");
            x += 0.0137;
        }
    }

    #[test]
    fn noise_is_in_range_and_continuous() {
        for i in 0..1000 {
            let x = i as f32 * 0.031;
            let v = value_noise(x, x * 0.7, 3);
            assert!((0.0..=1.0).contains(&v));
            assert!((value_noise(x + 1e-3, x * 0.7, 3) - v).abs() < 0.01);
            let f = fbm(x, -x, 5, 9);
            assert!((0.0..=1.0).contains(&f));
        }
    }
}
