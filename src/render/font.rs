//! The embedded font and per-size glyph atlases.
//!
//! One [`Atlas`] per grid cell size holds a coverage bitmap (`u8`, 0..=255) for every character a
//! scene may draw. Following the seed: cell height = ascent + descent, cell width = advance of `M`;
//! glyphs are drawn with their baseline at the (rounded-up) ascent, clipped to the cell. Characters are
//! rasterized when the scene is built (every palette and text character), and any character met later
//! is rasterized on first use and cached. Characters the font lacks, and space, map to glyph 0, the
//! blank glyph, which draws nothing.
//!
//! Bitmaps are stored trimmed to the glyph's inked box and with each coverage byte repeated three
//! times (once per rgb channel), so a blit row is one straight `u8` slice loop the compiler vectorises.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use std::collections::BTreeMap;

/// DejaVu Sans Mono, embedded (licence in `assets/fonts/LICENSE-DejaVu.txt`).
pub static FONT_BYTES: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/DejaVuSansMono.ttf"
));

/// Smallest font size (pixels per em) an atlas is built at.
pub const MIN_PX: f32 = 4.0;

/// The parsed embedded font (parsing only reads table offsets; cheap).
pub fn font() -> FontRef<'static> {
    FontRef::try_from_slice(FONT_BYTES).expect("embedded DejaVu Sans Mono parses")
}

/// Whether the embedded font has a glyph for `c` (space counts as present).
pub fn font_has(c: char) -> bool {
    c == ' ' || font().glyph_id(c).0 != 0
}

/// Characters pre-rasterized in every atlas besides the palettes (the seed's overlay-text set).
pub const TEXT_CHARS: &str =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.,-:;!?/|";

/// Index of a glyph in an [`Atlas`]; 0 is the blank glyph.
pub type GlyphId = u16;

/// The blank glyph: space, and characters the font lacks.
pub const BLANK: GlyphId = 0;

/// One rasterized character: coverage trimmed to its inked box.
#[derive(Debug, Clone, Default)]
pub struct Glyph {
    /// Left edge of the inked box inside the cell, in pixels.
    pub x0: usize,
    /// Top edge of the inked box inside the cell, in pixels.
    pub y0: usize,
    /// Width of the inked box in pixels (0 for a blank glyph).
    pub w: usize,
    /// Height of the inked box in pixels (0 for a blank glyph).
    pub h: usize,
    /// `h` rows of `w * 3` coverage bytes, each pixel's coverage repeated for r, g and b.
    pub cov3: Vec<u8>,
}

impl Glyph {
    /// True if the glyph draws nothing.
    pub fn is_blank(&self) -> bool {
        self.w == 0 || self.h == 0
    }

    /// Sum of the coverage of all pixels (a measure of how much ink the glyph has).
    pub fn ink(&self) -> u64 {
        self.cov3.iter().map(|&c| u64::from(c)).sum::<u64>() / 3
    }
}

/// Coverage bitmaps of characters at one font size, with the cell geometry they imply.
#[derive(Debug, Clone)]
pub struct Atlas {
    font: FontRef<'static>,
    scale: PxScale,
    baseline: f32,
    /// Cell width in pixels (advance of `M`, at least 1).
    pub cw: usize,
    /// Cell height in pixels (ascent + descent, at least 1).
    pub ch: usize,
    glyphs: Vec<Glyph>,
    index: BTreeMap<char, GlyphId>,
}

impl Atlas {
    /// An atlas for a font size of `px` pixels per em (clamped to at least [`MIN_PX`]), holding only
    /// the blank glyph until characters are added.
    pub fn new(px: f32) -> Atlas {
        let font = font();
        let px = if px.is_finite() {
            px.max(MIN_PX)
        } else {
            MIN_PX
        };
        let upem = font.units_per_em().unwrap_or(2048.0);
        let scale = PxScale::from(px * font.height_unscaled() / upem);
        let scaled = font.as_scaled(scale);
        let ascent = scaled.ascent().ceil();
        let descent = (-scaled.descent()).ceil();
        let cw = scaled.h_advance(font.glyph_id('M')).round().max(1.0) as usize;
        let ch = (ascent + descent).max(1.0) as usize;
        let mut index = BTreeMap::new();
        index.insert(' ', BLANK);
        Atlas {
            font,
            scale,
            baseline: ascent,
            cw,
            ch,
            glyphs: vec![Glyph::default()],
            index,
        }
    }

    /// The glyph id of `c`, rasterizing it on first use. Space and characters the font lacks (or
    /// that have no ink at this size) give [`BLANK`].
    pub fn id(&mut self, c: char) -> GlyphId {
        if let Some(&id) = self.index.get(&c) {
            return id;
        }
        let glyph = self.rasterize(c);
        let id = if glyph.is_blank() || self.glyphs.len() >= usize::from(u16::MAX) {
            BLANK
        } else {
            self.glyphs.push(glyph);
            (self.glyphs.len() - 1) as GlyphId
        };
        self.index.insert(c, id);
        id
    }

    /// Rasterizes every character of every palette and of [`TEXT_CHARS`] (about 240 glyphs,
    /// about 1 ms at 24 px), as the seed does at start.
    pub fn preload(&mut self) {
        for p in crate::render::palette::PALETTES {
            for c in p.chars.chars() {
                self.id(c);
            }
        }
        for c in TEXT_CHARS.chars() {
            self.id(c);
        }
    }

    /// Ids of every character of `s`, in order (rasterizing as needed).
    pub fn ids(&mut self, s: &str) -> Vec<GlyphId> {
        s.chars().map(|c| self.id(c)).collect()
    }

    /// The glyph with id `id` (the blank glyph for unknown ids).
    #[inline]
    pub fn glyph(&self, id: GlyphId) -> &Glyph {
        self.glyphs.get(usize::from(id)).unwrap_or(&self.glyphs[0])
    }

    /// All glyphs, indexed by id.
    #[inline]
    pub fn glyphs(&self) -> &[Glyph] {
        &self.glyphs
    }

    /// Number of distinct characters looked up so far (including space and blanks).
    pub fn chars_known(&self) -> usize {
        self.index.len()
    }

    fn rasterize(&self, c: char) -> Glyph {
        let gid = self.font.glyph_id(c);
        if c.is_whitespace() || gid.0 == 0 {
            return Glyph::default();
        }
        let glyph = gid.with_scale_and_position(self.scale, point(0.0, self.baseline));
        let Some(outlined) = self.font.outline_glyph(glyph) else {
            return Glyph::default();
        };
        let (cw, ch) = (self.cw, self.ch);
        let mut cov = vec![0u8; cw * ch];
        let b = outlined.px_bounds();
        let (bx, by) = (b.min.x as i64, b.min.y as i64);
        outlined.draw(|x, y, v| {
            let px = bx + i64::from(x);
            let py = by + i64::from(y);
            if px >= 0 && py >= 0 && (px as usize) < cw && (py as usize) < ch {
                let a = (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
                let cell = &mut cov[py as usize * cw + px as usize];
                *cell = (*cell).max(a);
            }
        });
        trim(&cov, cw, ch)
    }
}

/// Trims a `cw x ch` coverage bitmap to its inked box and expands it to three bytes per pixel.
fn trim(cov: &[u8], cw: usize, ch: usize) -> Glyph {
    let (mut x0, mut y0, mut x1, mut y1) = (cw, ch, 0, 0);
    for y in 0..ch {
        for x in 0..cw {
            if cov[y * cw + x] != 0 {
                x0 = x0.min(x);
                x1 = x1.max(x + 1);
                y0 = y0.min(y);
                y1 = y1.max(y + 1);
            }
        }
    }
    if x1 <= x0 || y1 <= y0 {
        return Glyph::default();
    }
    let (w, h) = (x1 - x0, y1 - y0);
    let mut cov3 = Vec::with_capacity(w * h * 3);
    for y in y0..y1 {
        for &a in &cov[y * cw + x0..y * cw + x1] {
            cov3.extend_from_slice(&[a, a, a]);
        }
    }
    Glyph { x0, y0, w, h, cov3 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_geometry_matches_dejavu_metrics() {
        let a = Atlas::new(16.0);
        // DejaVu Sans Mono: advance 0.602 em, ascent 0.928 em, descent 0.236 em.
        assert_eq!(a.cw, 10);
        assert_eq!(a.ch, 15 + 4);
        let tiny = Atlas::new(0.5);
        assert!(tiny.cw >= 1 && tiny.ch >= 1);
    }

    #[test]
    fn glyphs_are_cached_and_missing_ones_are_blank() {
        let mut a = Atlas::new(20.0);
        let m = a.id('M');
        assert_ne!(m, BLANK);
        assert_eq!(a.id('M'), m);
        assert!(!a.glyph(m).is_blank());
        assert!(a.glyph(m).x0 + a.glyph(m).w <= a.cw);
        assert!(a.glyph(m).y0 + a.glyph(m).h <= a.ch);
        assert_eq!(a.id(' '), BLANK);
        // Braille is not in DejaVu Sans Mono.
        assert!(!font_has('\u{2801}'));
        assert_eq!(a.id('\u{2801}'), BLANK);
        // A full block has more ink than a dot.
        let full = a.id('█');
        let dot = a.id('.');
        assert!(a.glyph(full).ink() > 4 * a.glyph(dot).ink());
    }
}
