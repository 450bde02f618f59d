//! Colour helpers: HSV to RGB as the reference does it (hue wraps, six sectors, truncation to u8).

/// HSV (each in `[0, 1]`; hue wraps, saturation and value are clamped) to 8-bit RGB.
///
/// Matches the reference's vectorised `hsv2rgb`: `c = v * s`, `x = c * (1 - |(6h mod 2) - 1|)`,
/// `m = v - c`, channels `(sector + m) * 255` truncated.
#[inline]
pub fn hsv2rgb(h: f32, s: f32, v: f32) -> [u8; 3] {
    let h = h - h.floor();
    let s = s.clamp(0.0, 1.0);
    let v = v.clamp(0.0, 1.0);
    let c = v * s;
    let h6 = h * 6.0;
    let sector = h6 as u32; // 0..=5 (6 only if h rounds up to 1.0; treated as 5 below)
    let x = c * (1.0 - ((h6 - (sector & !1) as f32) - 1.0).abs().min(1.0));
    let m = v - c;
    let (r, g, b) = match sector {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let q = |f: f32| ((f + m) * 255.0).clamp(0.0, 255.0) as u8;
    [q(r), q(g), q(b)]
}

/// Scales an rgb colour by `k` in `[0, 1]` (truncating).
#[inline]
pub fn scale_rgb(c: [u8; 3], k: f32) -> [u8; 3] {
    let k = k.clamp(0.0, 1.0);
    [
        (f32::from(c[0]) * k) as u8,
        (f32::from(c[1]) * k) as u8,
        (f32::from(c[2]) * k) as u8,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primaries_and_wrap() {
        assert_eq!(hsv2rgb(0.0, 1.0, 1.0), [255, 0, 0]);
        assert_eq!(hsv2rgb(1.0 / 3.0, 1.0, 1.0), [0, 255, 0]);
        assert_eq!(hsv2rgb(2.0 / 3.0, 1.0, 1.0), [0, 0, 255]);
        assert_eq!(hsv2rgb(1.0, 1.0, 1.0), [255, 0, 0]);
        assert_eq!(hsv2rgb(-0.5, 0.0, 1.0), [255, 255, 255]);
        assert_eq!(hsv2rgb(0.3, 0.7, 0.0), [0, 0, 0]);
        assert_eq!(scale_rgb([200, 100, 0], 0.5), [100, 50, 0]);
    }
}
