//! Glitch shaders: `glitch_bands`, `block_glitch`, `pixel_sort`, `data_bend`.
//!
//! Random choices come from the frame's RNG (renderer seed, shader position, frame index / hold).
//!
//! - `glitch_bands(bands 6, height 16, shift 30, hold 1)`: `bands` horizontal bands, each of a
//!   random height `1..=height` rows at a random row, rotated sideways (wrapping) by a random
//!   `-shift..=shift` pixels. (The digest drives these from the audio: 3 + 10 beat-decay bands,
//!   height up to 4 + 12 sub-bass, shift +-30 beat-decay; farm has no audio features yet, so
//!   they are fixed parameters.)
//! - `block_glitch(n 8, max 40, hold 1)`: `n` rectangles of random size up to `max x max` pixels,
//!   each replaced by the frame content a random offset (up to `max` pixels) away.
//! - `pixel_sort(threshold 100, direction h, every 3, reverse false)`: on every `every`-th row
//!   (or column with `direction v`), each run of consecutive pixels whose luma is above
//!   `threshold` is sorted by luma (ascending; descending with `reverse`). No randomness.
//! - `data_bend(offset 1000, chunk 500, count 8, hold 1)`: `count` random byte ranges of `chunk`
//!   bytes are overwritten with the bytes `offset` further on in the frame (wrapping). Offsets
//!   that are not multiples of 3 rotate the channels, the datamosh look.

use super::{Ctx, Def, HOLD, Pass, get_int, int, luma, num, p};
use crate::render::params::{Kind, ParamSpec, get_bool, get_text};

const BANDS_PARAMS: &[ParamSpec] = &[
    p("bands", int(0.0, 256.0), "6", "number of bands"),
    p(
        "height",
        int(1.0, 1024.0),
        "16",
        "largest band height in rows",
    ),
    p(
        "shift",
        int(0.0, 4096.0),
        "30",
        "largest sideways shift in pixels",
    ),
    HOLD,
];

const BLOCK_PARAMS: &[ParamSpec] = &[
    p("n", int(0.0, 512.0), "8", "number of blocks"),
    p(
        "max",
        int(2.0, 1024.0),
        "40",
        "largest block side and displacement in pixels",
    ),
    HOLD,
];

const SORT_PARAMS: &[ParamSpec] = &[
    p(
        "threshold",
        num(0.0, 255.0),
        "100",
        "pixels brighter than this (luma) are sorted",
    ),
    p(
        "direction",
        Kind::Choice(&["h", "v"]),
        "h",
        "h: sort along rows; v: along columns",
    ),
    p(
        "every",
        int(1.0, 64.0),
        "3",
        "sort every n-th row (or column)",
    ),
    p("reverse", Kind::Bool, "false", "brightest first"),
];

const BEND_PARAMS: &[ParamSpec] = &[
    p(
        "offset",
        int(-1_000_000.0, 1_000_000.0),
        "1000",
        "how far (in bytes) the copied data comes from",
    ),
    p("chunk", int(1.0, 1_000_000.0), "500", "bytes per chunk"),
    p("count", int(0.0, 256.0), "8", "chunks per frame"),
    HOLD,
];

/// The glitch shaders.
pub const DEFS: &[Def] = &[
    Def {
        name: "glitch_bands",
        params: BANDS_PARAMS,
        help: "random horizontal bands shifted sideways",
        build: |p, _, _| {
            Box::new(Bands {
                bands: get_int(p, "bands", 6, 0, 256) as u32,
                height: get_int(p, "height", 16, 1, 1024) as u32,
                shift: get_int(p, "shift", 30, 0, 4096) as i32,
                hold: get_int(p, "hold", 1, 1, 240) as u32,
            })
        },
        check: None,
    },
    Def {
        name: "block_glitch",
        params: BLOCK_PARAMS,
        help: "random rectangles displaced",
        build: |p, _, _| {
            Box::new(Blocks {
                n: get_int(p, "n", 8, 0, 512) as u32,
                max: get_int(p, "max", 40, 2, 1024) as u32,
                hold: get_int(p, "hold", 1, 1, 240) as u32,
            })
        },
        check: None,
    },
    Def {
        name: "pixel_sort",
        params: SORT_PARAMS,
        help: "sort bright runs of pixels by luma",
        build: |p, _, _| {
            Box::new(Sort {
                thr: super::get_f(p, "threshold", 100.0, 0.0, 255.0).floor() as u8,
                vertical: get_text(p, "direction", "h") == "v",
                every: get_int(p, "every", 3, 1, 64) as usize,
                reverse: get_bool(p, "reverse", false),
                line: Vec::new(),
            })
        },
        check: None,
    },
    Def {
        name: "data_bend",
        params: BEND_PARAMS,
        help: "byte ranges overwritten from elsewhere in the frame",
        build: |p, _, _| {
            Box::new(Bend {
                offset: get_int(p, "offset", 1000, -1_000_000, 1_000_000),
                chunk: get_int(p, "chunk", 500, 1, 1_000_000) as usize,
                count: get_int(p, "count", 8, 0, 256) as u32,
                hold: get_int(p, "hold", 1, 1, 240) as u32,
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
