//! Channel shaders: `chromatic`, `channel_shift`, `channel_swap`, `rgb_split_radial`.
//!
//! - `chromatic(amt 3)`: red moves `amt` pixels right, blue `amt` pixels left (edges clamped).
//! - `channel_shift(r [2, 2], g [0, 0], b [-2, -2])`: each channel moves by its `[dx, dy]`.
//! - `channel_swap(order bgr)`: output channels are the named input channels (the reference
//!   pipeline's `(2,1,0)`).
//! - `rgb_split_radial(strength 5)`: red sampled further from the centre and blue closer, by up
//!   to `strength` pixels at the corners (two cached remaps).

use super::pass::{Ctx, Def, Pass};
use crate::render::params::{CustomKind, Dflt, Kind, ParamSpec, int, is_num_list, p, vocab};
use crate::render::shaders::name::Shader;

static OFFSET_KIND: CustomKind = CustomKind {
    expect: || "a list of two whole numbers [dx, dy], each -512 to 512".to_string(),
    check: |v| is_num_list(v, 2, -512.0, 512.0, true),
};

/// `chromatic.amt`.
const CHROMATIC_AMT: ParamSpec = p(
    "amt",
    int(0.0, 256.0),
    Dflt::Num(3.0),
    "pixels red moves right and blue moves left",
);

const CHROMATIC_PARAMS: &[ParamSpec] = &[CHROMATIC_AMT];

/// `channel_shift.r`.
const CHANNEL_SHIFT_R: ParamSpec = p(
    "r",
    Kind::Custom(&OFFSET_KIND),
    Dflt::Nums(&[2.0, 2.0]),
    "red offset [dx, dy] in pixels",
);

/// `channel_shift.g`.
const CHANNEL_SHIFT_G: ParamSpec = p(
    "g",
    Kind::Custom(&OFFSET_KIND),
    Dflt::Nums(&[0.0, 0.0]),
    "green offset [dx, dy]",
);

/// `channel_shift.b`.
const CHANNEL_SHIFT_B: ParamSpec = p(
    "b",
    Kind::Custom(&OFFSET_KIND),
    Dflt::Nums(&[-2.0, -2.0]),
    "blue offset [dx, dy]",
);

const CHANNEL_SHIFT_PARAMS: &[ParamSpec] = &[CHANNEL_SHIFT_R, CHANNEL_SHIFT_G, CHANNEL_SHIFT_B];

/// `channel_swap.order`.
const CHANNEL_SWAP_ORDER: ParamSpec = p(
    "order",
    Kind::Choice(ChannelOrder::NAMES),
    Dflt::Word("bgr"),
    "which input channel feeds output red, green and blue",
);

const CHANNEL_SWAP_PARAMS: &[ParamSpec] = &[CHANNEL_SWAP_ORDER];

/// `rgb_split_radial.strength`.
const RGB_SPLIT_RADIAL_STRENGTH: ParamSpec = p(
    "strength",
    crate::render::params::num(0.0, 200.0),
    Dflt::Num(5.0),
    "split in pixels at the corners (grows with distance from the centre)",
);

const RGB_SPLIT_RADIAL_PARAMS: &[ParamSpec] = &[RGB_SPLIT_RADIAL_STRENGTH];

fn offset(p: &crate::render::params::Params, spec: &ParamSpec) -> [i32; 2] {
    let n = spec.nums_or_default(p, 2);
    [0, 1].map(|k| {
        n.get(k)
            .copied()
            .unwrap_or(0.0)
            .round()
            .clamp(-512.0, 512.0) as i32
    })
}

vocab! {
    /// Channel orders of `channel_swap`: which input channel feeds output red, green and blue.
    pub enum ChannelOrder {
        Rgb = "rgb",
        Rbg = "rbg",
        Grb = "grb",
        Gbr = "gbr",
        Brg = "brg",
        Bgr = "bgr",
    }
}

impl ChannelOrder {
    /// The input channel of each output channel.
    pub fn indices(self) -> [usize; 3] {
        let idx = |c: u8| match c {
            b'r' => 0,
            b'g' => 1,
            _ => 2,
        };
        let b = self.name().as_bytes();
        [idx(b[0]), idx(b[1]), idx(b[2])]
    }
}

/// The channel shaders.
pub const DEFS: &[Def] = &[
    Def {
        shader: Shader::Chromatic,
        params: CHROMATIC_PARAMS,
        help: "red right, blue left",
        build: |p, _, _| {
            let a = CHROMATIC_AMT.whole(p) as i32;
            Box::new(Shift {
                d: [[a, 0], [0, 0], [-a, 0]],
            })
        },
        check: None,
    },
    Def {
        shader: Shader::ChannelShift,
        params: CHANNEL_SHIFT_PARAMS,
        help: "move each channel by its own offset",
        build: |p, _, _| {
            Box::new(Shift {
                d: [
                    offset(p, &CHANNEL_SHIFT_R),
                    offset(p, &CHANNEL_SHIFT_G),
                    offset(p, &CHANNEL_SHIFT_B),
                ],
            })
        },
        check: None,
    },
    Def {
        shader: Shader::ChannelSwap,
        params: CHANNEL_SWAP_PARAMS,
        help: "permute the channels",
        build: |p, _, _| {
            let order = CHANNEL_SWAP_ORDER.choice::<ChannelOrder>(p).indices();
            Box::new(Swap { order })
        },
        check: None,
    },
    Def {
        shader: Shader::RgbSplitRadial,
        params: RGB_SPLIT_RADIAL_PARAMS,
        help: "red outwards, blue inwards, growing from the centre",
        build: |p, w, h| Box::new(RadialSplit::new(w, h, RGB_SPLIT_RADIAL_STRENGTH.clamped(p))),
        check: None,
    },
];

/// Per-channel translation with clamped edges.
#[derive(Debug, Clone)]
struct Shift {
    /// `[dx, dy]` per channel: output `(x, y)` takes input `(x - dx, y - dy)`.
    d: [[i32; 2]; 3],
}

impl Pass for Shift {
    #[inline(never)]
    fn apply(&mut self, frame: &mut [u8], cx: &mut Ctx<'_>) {
        if self.d.iter().all(|d| *d == [0, 0]) {
            return;
        }
        let (w, h) = (cx.w, cx.h);
        let stride = w * 3;
        let src = cx.copy_of(frame);
        for (c, &[dx, dy]) in self.d.iter().enumerate() {
            if dx == 0 && dy == 0 {
                continue;
            }
            for (y, line) in frame.chunks_exact_mut(stride).enumerate() {
                let sy = (y as i64 - i64::from(dy)).clamp(0, h as i64 - 1) as usize;
                let srow = &src[sy * stride..(sy + 1) * stride];
                shift_row(line, srow, w, c, dx);
            }
        }
    }
}

/// Channel `c` of `line` from `srow` moved right by `dx` pixels (edges clamped).
#[inline]
fn shift_row(line: &mut [u8], srow: &[u8], w: usize, c: usize, dx: i32) {
    let d = dx.unsigned_abs() as usize;
    if d >= w {
        let v = if dx > 0 {
            srow[c]
        } else {
            srow[(w - 1) * 3 + c]
        };
        for px in line.chunks_exact_mut(3) {
            px[c] = v;
        }
        return;
    }
    if dx >= 0 {
        let (head, tail) = line.split_at_mut(d * 3);
        let v = srow[c];
        for px in head.chunks_exact_mut(3) {
            px[c] = v;
        }
        for (o, s) in tail.chunks_exact_mut(3).zip(srow.chunks_exact(3)) {
            o[c] = s[c];
        }
    } else {
        let (body, tail) = line.split_at_mut((w - d) * 3);
        for (o, s) in body.chunks_exact_mut(3).zip(srow[d * 3..].chunks_exact(3)) {
            o[c] = s[c];
        }
        let v = srow[(w - 1) * 3 + c];
        for px in tail.chunks_exact_mut(3) {
            px[c] = v;
        }
    }
}

/// Channel permutation.
#[derive(Debug, Clone)]
struct Swap {
    order: [usize; 3],
}

impl Pass for Swap {
    #[inline(never)]
    fn apply(&mut self, frame: &mut [u8], _cx: &mut Ctx<'_>) {
        let [a, b, c] = self.order;
        if self.order == [0, 1, 2] {
            return;
        }
        for px in frame.chunks_exact_mut(3) {
            if px == [0, 0, 0] {
                continue;
            }
            let s = [px[0], px[1], px[2]];
            px[0] = s[a];
            px[1] = s[b];
            px[2] = s[c];
        }
    }
}

/// Red and blue sampled along the ray from the centre, outwards and inwards.
#[derive(Debug, Clone)]
struct RadialSplit {
    /// Byte offsets of the red and blue source pixels.
    r: Vec<u32>,
    b: Vec<u32>,
}

impl RadialSplit {
    fn new(w: usize, h: usize, strength: f64) -> RadialSplit {
        let (cx, cy) = ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0);
        let corner = (cx * cx + cy * cy).sqrt().max(1.0);
        let k = strength / corner;
        let at = |x: usize, y: usize, s: f64| {
            let sx = (cx + (x as f64 - cx) * s)
                .round()
                .clamp(0.0, (w - 1) as f64) as usize;
            let sy = (cy + (y as f64 - cy) * s)
                .round()
                .clamp(0.0, (h - 1) as f64) as usize;
            ((sy * w + sx) * 3) as u32
        };
        let mut r = Vec::with_capacity(w * h);
        let mut b = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                // Sampling closer to the centre pushes the channel outwards.
                r.push(at(x, y, 1.0 - k));
                b.push(at(x, y, 1.0 + k));
            }
        }
        RadialSplit { r, b }
    }
}

impl Pass for RadialSplit {
    #[inline(never)]
    fn apply(&mut self, frame: &mut [u8], cx: &mut Ctx<'_>) {
        let src = cx.copy_of(frame);
        for ((px, &r), &b) in frame.chunks_exact_mut(3).zip(&self.r).zip(&self.b) {
            px[0] = src[r as usize];
            px[2] = src[b as usize + 2];
        }
    }
}
