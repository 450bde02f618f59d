//! Glitch shaders: `glitch_bands`, `block_glitch`, `pixel_sort`, `data_bend`.
//!
//! Random choices come from the frame's RNG (renderer seed, shader position, frame index / hold).
//!
//! - `glitch_bands(bands 6, height 16, shift 30, hold 1)`: `bands` horizontal bands, each of a
//!   random height `1..=height` rows at a random row, rotated sideways (wrapping) by a random
//!   `-shift..=shift` pixels. (The reference pipeline drives these from the audio: 3 + 10
//!   beat-decay bands, height up to 4 + 12 sub-bass, shift +-30 beat-decay; farm has no audio
//!   features yet, so they are fixed parameters.)
//! - `block_glitch(n 8, max 40, hold 1)`: `n` rectangles of random size up to `max x max` pixels,
//!   each replaced by the frame content a random offset (up to `max` pixels) away.
//! - `pixel_sort(threshold 100, direction h, every 3, reverse false)`: on every `every`-th row
//!   (or column with `direction v`), each run of consecutive pixels whose luma is above
//!   `threshold` is sorted by luma (ascending; descending with `reverse`). No randomness.
//! - `data_bend(offset 1000, chunk 500, count 8, hold 1)`: `count` random byte ranges of `chunk`
//!   bytes are overwritten with the bytes `offset` further on in the frame (wrapping). Offsets
//!   that are not multiples of 3 rotate the channels, the datamosh look.

use super::pass::{Axis, Ctx, Def, HOLD, Pass, luma};
use crate::render::params::{Dflt, Kind, ParamSpec, int, num, p};
use crate::render::shaders::name::Shader;

/// `bands.bands`.
const BANDS_BANDS: ParamSpec = p("bands", int(0.0, 256.0), Dflt::Num(6.0), "number of bands");

/// `bands.height`.
const BANDS_HEIGHT: ParamSpec = p(
    "height",
    int(1.0, 1024.0),
    Dflt::Num(16.0),
    "largest band height in rows",
);

/// `bands.shift`.
const BANDS_SHIFT: ParamSpec = p(
    "shift",
    int(0.0, 4096.0),
    Dflt::Num(30.0),
    "largest sideways shift in pixels",
);

const BANDS_PARAMS: &[ParamSpec] = &[BANDS_BANDS, BANDS_HEIGHT, BANDS_SHIFT, HOLD];

/// `block.n`.
const BLOCK_N: ParamSpec = p("n", int(0.0, 512.0), Dflt::Num(8.0), "number of blocks");

/// `block.max`.
const BLOCK_MAX: ParamSpec = p(
    "max",
    int(2.0, 1024.0),
    Dflt::Num(40.0),
    "largest block side and displacement in pixels",
);

const BLOCK_PARAMS: &[ParamSpec] = &[BLOCK_N, BLOCK_MAX, HOLD];

/// `sort.threshold`.
const SORT_THRESHOLD: ParamSpec = p(
    "threshold",
    num(0.0, 255.0),
    Dflt::Num(100.0),
    "pixels brighter than this (luma) are sorted",
);

/// `sort.direction`.
const SORT_DIRECTION: ParamSpec = p(
    "direction",
    Kind::Choice(Axis::NAMES),
    Dflt::Word("h"),
    "h: sort along rows; v: along columns",
);

/// `sort.every`.
const SORT_EVERY: ParamSpec = p(
    "every",
    int(1.0, 64.0),
    Dflt::Num(3.0),
    "sort every n-th row (or column)",
);

/// `sort.reverse`.
const SORT_REVERSE: ParamSpec = p("reverse", Kind::Bool, Dflt::Bool(false), "brightest first");

const SORT_PARAMS: &[ParamSpec] = &[SORT_THRESHOLD, SORT_DIRECTION, SORT_EVERY, SORT_REVERSE];

/// `bend.offset`.
const BEND_OFFSET: ParamSpec = p(
    "offset",
    int(-1_000_000.0, 1_000_000.0),
    Dflt::Num(1000.0),
    "how far (in bytes) the copied data comes from",
);

/// `bend.chunk`.
const BEND_CHUNK: ParamSpec = p(
    "chunk",
    int(1.0, 1_000_000.0),
    Dflt::Num(500.0),
    "bytes per chunk",
);

/// `bend.count`.
const BEND_COUNT: ParamSpec = p("count", int(0.0, 256.0), Dflt::Num(8.0), "chunks per frame");

const BEND_PARAMS: &[ParamSpec] = &[BEND_OFFSET, BEND_CHUNK, BEND_COUNT, HOLD];

/// The glitch shaders.
pub const DEFS: &[Def] = &[
    Def {
        shader: Shader::GlitchBands,
        params: BANDS_PARAMS,
        help: "random horizontal bands shifted sideways",
        build: |p, _, _| {
            Box::new(Bands {
                bands: BANDS_BANDS.whole(p) as u32,
                height: BANDS_HEIGHT.whole(p) as u32,
                shift: BANDS_SHIFT.whole(p) as i32,
                hold: HOLD.whole(p) as u32,
            })
        },
        check: None,
    },
    Def {
        shader: Shader::BlockGlitch,
        params: BLOCK_PARAMS,
        help: "random rectangles displaced",
        build: |p, _, _| {
            Box::new(Blocks {
                n: BLOCK_N.whole(p) as u32,
                max: BLOCK_MAX.whole(p) as u32,
                hold: HOLD.whole(p) as u32,
            })
        },
        check: None,
    },
    Def {
        shader: Shader::PixelSort,
        params: SORT_PARAMS,
        help: "sort bright runs of pixels by luma",
        build: |p, _, _| {
            Box::new(Sort {
                thr: SORT_THRESHOLD.clamped(p).floor() as u8,
                vertical: SORT_DIRECTION.choice::<Axis>(p) == Axis::V,
                every: SORT_EVERY.whole(p) as usize,
                reverse: SORT_REVERSE.bool(p),
                line: Vec::new(),
            })
        },
        check: None,
    },
    Def {
        shader: Shader::DataBend,
        params: BEND_PARAMS,
        help: "byte ranges overwritten from elsewhere in the frame",
        build: |p, _, _| {
            Box::new(Bend {
                offset: BEND_OFFSET.whole(p),
                chunk: BEND_CHUNK.whole(p) as usize,
                count: BEND_COUNT.whole(p) as u32,
                hold: HOLD.whole(p) as u32,
            })
        },
        check: None,
    },
];

#[derive(Debug, Clone)]
struct Bands {
    bands: u32,
    height: u32,
    shift: i32,
    hold: u32,
}

impl Pass for Bands {
    fn set(&mut self, param: usize, v: f64) -> bool {
        // The indexes of BANDS_PARAMS, the values as the builder takes them.
        match param {
            0 => self.bands = BANDS_BANDS.whole_of(v) as u32,
            1 => self.height = BANDS_HEIGHT.whole_of(v) as u32,
            2 => self.shift = BANDS_SHIFT.whole_of(v) as i32,
            3 => self.hold = HOLD.whole_of(v) as u32,
            _ => return false,
        }
        true
    }

    #[inline(never)]
    fn apply(&mut self, frame: &mut [u8], cx: &mut Ctx<'_>) {
        let (w, h) = (cx.w, cx.h);
        let stride = w * 3;
        let mut rng = cx.rng(self.hold);
        for _ in 0..self.bands {
            let y0 = rng.below(h as u32) as usize;
            let bh = 1 + rng.below(self.height) as usize;
            let s = rng.range_i32(-self.shift, self.shift);
            let d = (i64::from(s).rem_euclid(w as i64)) as usize * 3;
            if d == 0 {
                continue;
            }
            for line in frame[y0 * stride..(y0 + bh).min(h) * stride].chunks_exact_mut(stride) {
                line.rotate_right(d);
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Blocks {
    n: u32,
    max: u32,
    hold: u32,
}

impl Pass for Blocks {
    fn set(&mut self, param: usize, v: f64) -> bool {
        // The indexes of BLOCK_PARAMS, the values as the builder takes them.
        match param {
            0 => self.n = BLOCK_N.whole_of(v) as u32,
            1 => self.max = BLOCK_MAX.whole_of(v) as u32,
            2 => self.hold = HOLD.whole_of(v) as u32,
            _ => return false,
        }
        true
    }

    #[inline(never)]
    fn apply(&mut self, frame: &mut [u8], cx: &mut Ctx<'_>) {
        if self.n == 0 {
            return;
        }
        let (w, h) = (cx.w, cx.h);
        let stride = w * 3;
        let mut rng = cx.rng(self.hold);
        let src = cx.copy_of(frame);
        let m = self.max as i32;
        for _ in 0..self.n {
            let bw = (rng.range_i32(2, m) as usize).min(w);
            let bh = (rng.range_i32(2, m) as usize).min(h);
            let x = rng.below((w - bw + 1) as u32) as usize;
            let y = rng.below((h - bh + 1) as u32) as usize;
            let sx =
                (x as i64 + i64::from(rng.range_i32(-m, m))).clamp(0, (w - bw) as i64) as usize;
            let sy =
                (y as i64 + i64::from(rng.range_i32(-m, m))).clamp(0, (h - bh) as i64) as usize;
            for r in 0..bh {
                let d = (y + r) * stride + x * 3;
                let s = (sy + r) * stride + sx * 3;
                frame[d..d + bw * 3].copy_from_slice(&src[s..s + bw * 3]);
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Sort {
    thr: u8,
    vertical: bool,
    every: usize,
    reverse: bool,
    /// One row or column as packed `luma << 24 | r << 16 | g << 8 | b`.
    line: Vec<u32>,
}

impl Sort {
    /// Sorts the bright runs of `self.line`.
    fn sort_runs(&mut self) {
        let thr = u32::from(self.thr);
        let mut i = 0;
        let n = self.line.len();
        while i < n {
            if self.line[i] >> 24 <= thr {
                i += 1;
                continue;
            }
            let start = i;
            while i < n && self.line[i] >> 24 > thr {
                i += 1;
            }
            let run = &mut self.line[start..i];
            run.sort_unstable();
            if self.reverse {
                run.reverse();
            }
        }
    }
}

#[inline]
fn pack(px: &[u8]) -> u32 {
    u32::from(luma(px[0], px[1], px[2])) << 24
        | u32::from(px[0]) << 16
        | u32::from(px[1]) << 8
        | u32::from(px[2])
}

#[inline]
fn unpack(v: u32, px: &mut [u8]) {
    px[0] = (v >> 16) as u8;
    px[1] = (v >> 8) as u8;
    px[2] = v as u8;
}

impl Pass for Sort {
    fn set(&mut self, param: usize, v: f64) -> bool {
        // The indexes of SORT_PARAMS, the values as the builder takes them.
        match param {
            0 => self.thr = SORT_THRESHOLD.clamp(v).floor() as u8,
            2 => self.every = SORT_EVERY.whole_of(v) as usize,
            _ => return false,
        }
        true
    }

    #[inline(never)]
    fn apply(&mut self, frame: &mut [u8], cx: &mut Ctx<'_>) {
        let (w, h) = (cx.w, cx.h);
        let stride = w * 3;
        if !self.vertical {
            for line in frame.chunks_exact_mut(stride).step_by(self.every) {
                self.line.clear();
                self.line.extend(line.chunks_exact(3).map(pack));
                self.sort_runs();
                for (px, &v) in line.chunks_exact_mut(3).zip(&self.line) {
                    unpack(v, px);
                }
            }
        } else {
            for x in (0..w).step_by(self.every) {
                self.line.clear();
                self.line
                    .extend((0..h).map(|y| pack(&frame[y * stride + x * 3..][..3])));
                self.sort_runs();
                for (y, &v) in self.line.iter().enumerate() {
                    unpack(v, &mut frame[y * stride + x * 3..][..3]);
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Bend {
    offset: i64,
    chunk: usize,
    count: u32,
    hold: u32,
}

impl Pass for Bend {
    fn set(&mut self, param: usize, v: f64) -> bool {
        // The indexes of BEND_PARAMS, the values as the builder takes them.
        match param {
            0 => self.offset = BEND_OFFSET.whole_of(v),
            1 => self.chunk = BEND_CHUNK.whole_of(v) as usize,
            2 => self.count = BEND_COUNT.whole_of(v) as u32,
            3 => self.hold = HOLD.whole_of(v) as u32,
            _ => return false,
        }
        true
    }

    #[inline(never)]
    fn apply(&mut self, frame: &mut [u8], cx: &mut Ctx<'_>) {
        let len = frame.len();
        if self.count == 0 || len == 0 {
            return;
        }
        let mut rng = cx.rng(self.hold);
        let src = cx.copy_of(frame);
        let chunk = self.chunk.min(len);
        for _ in 0..self.count {
            let start = (((rng.next_u64() >> 32) * (len - chunk + 1) as u64) >> 32) as usize;
            let from = (start as i64 + self.offset).rem_euclid(len as i64) as usize;
            // Copy with wrap-around at the end of the frame.
            let first = chunk.min(len - from);
            frame[start..start + first].copy_from_slice(&src[from..from + first]);
            let rest = chunk - first;
            frame[start + first..start + chunk].copy_from_slice(&src[..rest]);
        }
    }
}
