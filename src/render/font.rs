//! The font chain and per-size glyph atlases.
//!
//! Fonts are tried in order for every character: the user's fonts (the plan's `fonts:`), then the
//! embedded DejaVu Sans Mono, then the embedded GNU Unifont (which covers the whole Basic
//! Multilingual Plane: braille, halfwidth katakana, runic, dingbats, Arabic, CJK ...). The first
//! font that has a glyph draws it.
//!
//! One [`Atlas`] per grid cell size holds a coverage bitmap (`u8`, 0..=255) for every character a
//! scene may draw. Following the Python reference pipeline's optimisation guide: the cell comes
//! from DejaVu Sans Mono's metrics (height = ascent + descent, width = advance of `M`), whatever
//! other fonts are in the chain, so grids are the same for every plan. DejaVu glyphs are drawn at
//! the atlas size with their baseline at the (rounded-up) ascent; glyphs from any other font are
//! scaled so that the font's ascent + descent fills the cell height, narrowed if their advance is
//! wider than the cell (two cells for wide characters in text), and centred horizontally.
//! Everything is clipped to the cell.
//!
//! Characters are rasterized when a layer is built (its palette, its text) and any character met
//! later is rasterized on first use and cached. Characters no font has, and space, map to glyph 0,
//! the blank glyph, which draws nothing.
//!
//! Wide characters (East Asian Wide and Fullwidth, see [`is_wide`]) take two cells in text rows:
//! [`Atlas::text_ids`] gives their glyph (two cells wide) followed by a blank placeholder. In grid
//! cells (palettes, particles) every glyph is fitted to one cell.
//!
//! Bitmaps are stored trimmed to the glyph's inked box and with each coverage byte repeated three
//! times (once per rgb channel), so a blit row is one straight `u8` slice loop the compiler
//! vectorises.

use ab_glyph::{Font, FontArc, FontRef, PxScale, ScaleFont, point};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// DejaVu Sans Mono, embedded (licence in `assets/fonts/LICENSE-DejaVu.txt`).
pub static FONT_BYTES: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/DejaVuSansMono.ttf"
));

/// GNU Unifont (Basic Multilingual Plane), embedded as the last fallback (licence: SIL OFL 1.1, in
/// `assets/fonts/LICENSE-Unifont.txt`).
pub static UNIFONT_BYTES: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/unifont.otf"
));

/// Smallest font size (pixels per em) an atlas is built at.
pub const MIN_PX: f32 = 4.0;

/// The parsed embedded DejaVu Sans Mono (parsing only reads table offsets; cheap).
pub fn font() -> FontRef<'static> {
    FontRef::try_from_slice(FONT_BYTES).expect("embedded DejaVu Sans Mono parses")
}

/// The parsed embedded GNU Unifont.
pub fn unifont() -> FontRef<'static> {
    FontRef::try_from_slice(UNIFONT_BYTES).expect("embedded GNU Unifont parses")
}

/// Whether the embedded DejaVu Sans Mono has a glyph for `c` (space counts as present).
pub fn font_has(c: char) -> bool {
    c == ' ' || font().glyph_id(c).0 != 0
}

/// East Asian Wide or Fullwidth (and emoji-presentation) characters, which take two cells in
/// text rows. A compact table of the ranges that matter for text and the reference pipeline's
/// palettes.
pub fn is_wide(c: char) -> bool {
    const WIDE: &[(u32, u32)] = &[
        (0x1100, 0x115F),
        (0x231A, 0x231B),
        (0x2329, 0x232A),
        (0x23E9, 0x23EC),
        (0x23F0, 0x23F0),
        (0x23F3, 0x23F3),
        (0x25FD, 0x25FE),
        (0x2614, 0x2615),
        (0x2648, 0x2653),
        (0x267F, 0x267F),
        (0x2693, 0x2693),
        (0x26A1, 0x26A1),
        (0x26AA, 0x26AB),
        (0x26BD, 0x26BE),
        (0x26C4, 0x26C5),
        (0x26CE, 0x26CE),
        (0x26D4, 0x26D4),
        (0x26EA, 0x26EA),
        (0x26F2, 0x26F3),
        (0x26F5, 0x26F5),
        (0x26FA, 0x26FA),
        (0x26FD, 0x26FD),
        (0x2705, 0x2705),
        (0x270A, 0x270B),
        (0x2728, 0x2728),
        (0x274C, 0x274C),
        (0x274E, 0x274E),
        (0x2753, 0x2755),
        (0x2757, 0x2757),
        (0x2795, 0x2797),
        (0x27B0, 0x27B0),
        (0x27BF, 0x27BF),
        (0x2B1B, 0x2B1C),
        (0x2B50, 0x2B50),
        (0x2B55, 0x2B55),
        (0x2E80, 0x303E),
        (0x3041, 0x33FF),
        (0x3400, 0x4DBF),
        (0x4E00, 0x9FFF),
        (0xA000, 0xA4CF),
        (0xA960, 0xA97F),
        (0xAC00, 0xD7A3),
        (0xF900, 0xFAFF),
        (0xFE10, 0xFE19),
        (0xFE30, 0xFE6F),
        (0xFF00, 0xFF60),
        (0xFFE0, 0xFFE6),
        (0x1F300, 0x1F64F),
        (0x1F900, 0x1F9FF),
        (0x20000, 0x3FFFD),
    ];
    let u = c as u32;
    if u < 0x1100 {
        return false;
    }
    WIDE.binary_search_by(|&(lo, hi)| {
        if hi < u {
            std::cmp::Ordering::Less
        } else if lo > u {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    })
    .is_ok()
}

/// The ordered list of fonts tried for each character.
#[derive(Debug, Clone)]
pub struct Fonts {
    /// User fonts first, then DejaVu Sans Mono, then Unifont.
    faces: Vec<FontArc>,
    /// Index of DejaVu Sans Mono in `faces` (the font the cell metrics come from).
    primary: usize,
}

impl Fonts {
    /// The embedded chain: DejaVu Sans Mono, then GNU Unifont (shared, built once per process).
    pub fn embedded() -> Arc<Fonts> {
        static CHAIN: OnceLock<Arc<Fonts>> = OnceLock::new();
        CHAIN
            .get_or_init(|| {
                Arc::new(Fonts {
                    faces: vec![FontArc::new(font()), FontArc::new(unifont())],
                    primary: 0,
                })
            })
            .clone()
    }

    /// The chain with `paths` (TTF/OTF files) tried first, in order. A file that cannot be read or
    /// parsed is an error naming it.
    pub fn with_user_fonts(paths: &[impl AsRef<Path>]) -> Result<Arc<Fonts>, String> {
        if paths.is_empty() {
            return Ok(Fonts::embedded());
        }
        let mut faces = Vec::with_capacity(paths.len() + 2);
        for p in paths {
            let p = p.as_ref();
            let bytes =
                std::fs::read(p).map_err(|e| format!("font {}: cannot read: {e}", p.display()))?;
            let face = FontArc::try_from_vec(bytes)
                .map_err(|e| format!("font {}: not a TrueType/OpenType font ({e})", p.display()))?;
            faces.push(face);
        }
        let primary = faces.len();
        faces.push(FontArc::new(font()));
        faces.push(FontArc::new(unifont()));
        Ok(Arc::new(Fonts { faces, primary }))
    }

    /// Index of the first font that has `c`, if any (space is always drawable: it draws nothing).
    pub fn face_for(&self, c: char) -> Option<usize> {
        self.faces.iter().position(|f| f.glyph_id(c).0 != 0)
    }

    /// Whether any font of the chain has `c` (whitespace counts as present).
    pub fn has(&self, c: char) -> bool {
        c.is_whitespace() || self.face_for(c).is_some()
    }
}

/// Characters pre-rasterized in every atlas besides the palettes (the reference pipeline's
/// overlay-text set).
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
    /// `cov3` with each row padded with zero coverage to [`Glyph::padded_row`] bytes (a
    /// multiple of [`PAD`]): the blit then works in whole vectors with no scalar tail, and
    /// zero coverage leaves the padded bytes as they were (see `canvas`).
    pub cov3p: Vec<u8>,
}

/// The multiple that [`Glyph::cov3p`] rows are padded to (one SSE vector of bytes).
pub const PAD: usize = 16;

impl Glyph {
    /// True if the glyph draws nothing.
    pub fn is_blank(&self) -> bool {
        self.w == 0 || self.h == 0
    }

    /// Bytes of one row of [`Glyph::cov3p`]: `w * 3` rounded up to a multiple of [`PAD`].
    pub fn padded_row(&self) -> usize {
        (self.w * 3).next_multiple_of(PAD)
    }

    /// Sum of the coverage of all pixels (a measure of how much ink the glyph has).
    pub fn ink(&self) -> u64 {
        self.cov3.iter().map(|&c| u64::from(c)).sum::<u64>() / 3
    }
}

/// Coverage bitmaps of characters at one font size, with the cell geometry they imply.
#[derive(Debug, Clone)]
pub struct Atlas {
    fonts: Arc<Fonts>,
    scale: PxScale,
    baseline: f32,
    /// Cell width in pixels (advance of `M`, at least 1).
    pub cw: usize,
    /// Cell height in pixels (ascent + descent, at least 1).
    pub ch: usize,
    glyphs: Vec<Glyph>,
    index: BTreeMap<char, GlyphId>,
    wide_index: BTreeMap<char, GlyphId>,
}

impl Atlas {
    /// An atlas for a font size of `px` pixels per em (clamped to at least [`MIN_PX`]) with the
    /// embedded font chain, holding only the blank glyph until characters are added.
    pub fn new(px: f32) -> Atlas {
        Atlas::with_fonts(px, Fonts::embedded())
    }

    /// Like [`Atlas::new`] with an explicit font chain.
    pub fn with_fonts(px: f32, fonts: Arc<Fonts>) -> Atlas {
        let font = font();
        let px = if px.is_finite() {
            px.clamp(MIN_PX, 2048.0)
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
            fonts,
            scale,
            baseline: ascent,
            cw,
            ch,
            glyphs: vec![Glyph::default()],
            index,
            wide_index: BTreeMap::new(),
        }
    }

    /// The font chain this atlas draws with.
    pub fn fonts(&self) -> &Arc<Fonts> {
        &self.fonts
    }

    fn push(&mut self, glyph: Glyph) -> GlyphId {
        if glyph.is_blank() || self.glyphs.len() >= usize::from(u16::MAX) {
            BLANK
        } else {
            self.glyphs.push(glyph);
            (self.glyphs.len() - 1) as GlyphId
        }
    }

    /// The glyph id of `c` fitted to one cell, rasterizing it on first use. Space and characters no
    /// font has (or that have no ink at this size) give [`BLANK`].
    pub fn id(&mut self, c: char) -> GlyphId {
        if let Some(&id) = self.index.get(&c) {
            return id;
        }
        let glyph = self.rasterize(c, 1);
        let id = self.push(glyph);
        self.index.insert(c, id);
        id
    }

    /// The glyph of `c` for a text row and the number of cells it takes (2 for wide characters).
    pub fn text_id(&mut self, c: char) -> (GlyphId, usize) {
        if !is_wide(c) {
            return (self.id(c), 1);
        }
        if let Some(&id) = self.wide_index.get(&c) {
            return (id, 2);
        }
        let glyph = self.rasterize(c, 2);
        let id = self.push(glyph);
        self.wide_index.insert(c, id);
        (id, 2)
    }

    /// Rasterizes every character of every palette and of [`TEXT_CHARS`], as the reference pipeline
    /// does at start.
    pub fn preload(&mut self) {
        use strum::IntoEnumIterator;
        for p in crate::render::palette::PaletteName::iter() {
            for c in p.chars().chars() {
                self.id(c);
            }
        }
        for c in TEXT_CHARS.chars() {
            self.id(c);
        }
    }

    /// Ids of every character of `s`, one cell each, in order (rasterizing as needed).
    pub fn ids(&mut self, s: &str) -> Vec<GlyphId> {
        s.chars().map(|c| self.id(c)).collect()
    }

    /// Cells of a text row showing `s`: one id per cell, a wide character's glyph followed by a
    /// [`BLANK`] placeholder for its second cell.
    pub fn text_ids(&mut self, s: &str) -> Vec<GlyphId> {
        let mut out = Vec::with_capacity(s.len());
        for c in s.chars() {
            let (id, cells) = self.text_id(c);
            out.push(id);
            if cells == 2 {
                out.push(BLANK);
            }
        }
        out
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
        self.index.len() + self.wide_index.len()
    }

    fn rasterize(&self, c: char, cells: usize) -> Glyph {
        if c.is_whitespace() {
            return Glyph::default();
        }
        let Some(fi) = self.fonts.face_for(c) else {
            return Glyph::default();
        };
        let face = &self.fonts.faces[fi];
        let gid = face.glyph_id(c);
        let box_w = self.cw * cells;
        let (scale, baseline, dx) = if fi == self.fonts.primary {
            let adv = face.as_scaled(self.scale).h_advance(gid);
            (
                self.scale,
                self.baseline,
                ((box_w as f32 - adv) / 2.0).max(0.0),
            )
        } else {
            // Fit the font's line height to the cell, then narrow to the box if needed.
            let y = self.ch as f32;
            let s = PxScale::from(y);
            let adv = face.as_scaled(s).h_advance(gid).max(1e-3);
            let x = if adv > box_w as f32 {
                y * box_w as f32 / adv
            } else {
                y
            };
            let s = PxScale { x, y };
            let scaled = face.as_scaled(s);
            let adv = scaled.h_advance(gid);
            (s, scaled.ascent(), ((box_w as f32 - adv) / 2.0).max(0.0))
        };
        let glyph = gid.with_scale_and_position(scale, point(dx.round(), baseline));
        let Some(outlined) = face.outline_glyph(glyph) else {
            return Glyph::default();
        };
        let ch = self.ch;
        let mut cov = vec![0u8; box_w * ch];
        let b = outlined.px_bounds();
        let (bx, by) = (b.min.x as i64, b.min.y as i64);
        outlined.draw(|x, y, v| {
            let px = bx + i64::from(x);
            let py = by + i64::from(y);
            if px >= 0 && py >= 0 && (px as usize) < box_w && (py as usize) < ch {
                let a = (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
                let cell = &mut cov[py as usize * box_w + px as usize];
                *cell = (*cell).max(a);
            }
        });
        trim(&cov, box_w, ch)
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
    let pw = (w * 3).next_multiple_of(PAD);
    let mut cov3p = vec![0; pw * h];
    for (d, s) in cov3p.chunks_exact_mut(pw).zip(cov3.chunks_exact(w * 3)) {
        d[..w * 3].copy_from_slice(s);
    }
    Glyph {
        x0,
        y0,
        w,
        h,
        cov3,
        cov3p,
    }
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
        // Braille is not in DejaVu Sans Mono, but Unifont draws it, inside the cell.
        assert!(!font_has('\u{2801}'));
        let b = a.id('\u{2801}');
        assert_ne!(b, BLANK);
        assert!(a.glyph(b).x0 + a.glyph(b).w <= a.cw);
        // A character no font has (a private-use code point) is blank.
        assert_eq!(a.id('\u{E000}'), BLANK);
        // A full block has more ink than a dot.
        let full = a.id('█');
        let dot = a.id('.');
        assert!(a.glyph(full).ink() > 4 * a.glyph(dot).ink());
    }

    #[test]
    fn wide_characters_take_two_cells_in_text() {
        assert!(is_wide('漢') && is_wide('✨') && is_wide('♈'));
        assert!(!is_wide('a') && !is_wide('ｱ') && !is_wide('█') && !is_wide('⠁'));
        let mut a = Atlas::new(16.0);
        let ids = a.text_ids("a漢b");
        assert_eq!(ids.len(), 4);
        assert_eq!(ids[2], BLANK);
        let g = a.glyph(ids[1]);
        assert!(
            g.x0 + g.w <= 2 * a.cw && g.w > a.cw,
            "wide glyph {} px in {}",
            g.w,
            a.cw
        );
        // In a grid cell the same character fits one cell.
        let one = a.id('漢');
        assert!(a.glyph(one).x0 + a.glyph(one).w <= a.cw);
    }

    #[test]
    fn user_fonts_come_first_and_bad_ones_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.ttf");
        std::fs::write(&bad, b"not a font").unwrap();
        let err = Fonts::with_user_fonts(&[&bad]).unwrap_err();
        assert!(err.contains("bad.ttf"), "{err}");
        let missing = dir.path().join("missing.otf");
        assert!(
            Fonts::with_user_fonts(&[&missing])
                .unwrap_err()
                .contains("missing.otf")
        );
        // Unifont as a "user" font draws 'A' instead of DejaVu.
        let uni = dir.path().join("u.otf");
        std::fs::write(&uni, UNIFONT_BYTES).unwrap();
        let chain = Fonts::with_user_fonts(&[&uni]).unwrap();
        assert_eq!(chain.face_for('A'), Some(0));
        let mut a = Atlas::with_fonts(16.0, chain);
        let mut d = Atlas::new(16.0);
        let (ga, gd) = (a.id('A'), d.id('A'));
        assert_ne!(a.glyph(ga).cov3, d.glyph(gd).cov3);
        assert!(Fonts::embedded().has('ᚠ') && Fonts::embedded().has('ｱ'));
    }
}
