//! Character palettes (from the digest, section 2), dark to bright, index 0 always space.
//!
//! Only palettes whose every character DejaVu Sans Mono (the embedded font) can draw are offered;
//! the unit tests check that each non-space character rasterizes to a non-empty bitmap.
//! Left out because the font lacks their characters: `rune` (Runic), `kata` (halfwidth Katakana),
//! `braille`, `alchemic`/`zodiac`/`music` (Misc Symbols), `stars` and `dots` (Dingbats), `arabic`.
//! Adjusted: `arrows` drops `➡` (a Dingbat), and the others are as in the digest.

/// A named palette: characters ordered from dark (space) to bright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    /// Name used in plans (`params.palette`).
    pub name: &'static str,
    /// The characters, space first.
    pub chars: &'static str,
}

/// Every palette, in the order they are listed to users.
pub const PALETTES: &[Palette] = &[
    Palette {
        name: "default",
        chars: " .`'-:;!><=+*^~?/|(){}[]#&$@%",
    },
    Palette {
        name: "dense",
        chars: " .:;+=xX$#@█",
    },
    Palette {
        name: "minimal",
        chars: " .:-=+#@",
    },
    Palette {
        name: "binary",
        chars: " █",
    },
    Palette {
        name: "gradient",
        chars: " ░▒▓█",
    },
    Palette {
        name: "blocks",
        chars: " ░▒▓█▄▀▐▌",
    },
    Palette {
        name: "shade",
        chars: " ░▒▓█▇▆▅▄▃▂▁",
    },
    Palette {
        name: "blocks_ext",
        chars: " ▖▗▘▙▚▛▜▝▞▟░▒▓█",
    },
    Palette {
        name: "math",
        chars: " ·∘∙•°±∓×÷≈≠≡≤≥∞∫∑∏√∇∂∆Ω",
    },
    Palette {
        name: "box",
        chars: " ─│┌┐└┘├┤┬┴┼═║╔╗╚╝╠╣╦╩╬",
    },
    Palette {
        name: "circuit",
        chars: " .·─│┌┐└┘┼○●□■∆∇≡",
    },
    Palette {
        name: "arrows",
        chars: " ←↑→↓↔↕↖↗↘↙↩↪↻",
    },
    Palette {
        name: "greek",
        chars: " αβγδεζηθικλμνξπρστφψω",
    },
    Palette {
        name: "cyrillic",
        chars: " абвгдежзиклмнопрстуфхцчш",
    },
    Palette {
        name: "halffill",
        chars: " ◔◑◕◐◒◓◖◗◙",
    },
    Palette {
        name: "hatch",
        chars: " ▣▤▥▦▧▨▩",
    },
];

/// Names of every palette, in [`PALETTES`] order.
pub const PALETTE_NAMES: &[&str] = &[
    "default",
    "dense",
    "minimal",
    "binary",
    "gradient",
    "blocks",
    "shade",
    "blocks_ext",
    "math",
    "box",
    "circuit",
    "arrows",
    "greek",
    "cyrillic",
    "halffill",
    "hatch",
];

/// The palette called `name`, if any.
pub fn palette(name: &str) -> Option<&'static Palette> {
    PALETTES.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::font::{Atlas, BLANK, font_has};

    #[test]
    fn names_match_palettes() {
        let names: Vec<&str> = PALETTES.iter().map(|p| p.name).collect();
        assert_eq!(names, PALETTE_NAMES);
        for p in PALETTES {
            assert!(p.chars.starts_with(' '), "{} starts with space", p.name);
            assert!(p.chars.chars().count() >= 2, "{}", p.name);
        }
    }

    #[test]
    fn every_palette_char_has_ink() {
        let mut missing = Vec::new();
        for size in [8.0, 16.0, 24.0] {
            let mut atlas = Atlas::new(size);
            for p in PALETTES {
                for c in p.chars.chars().skip(1) {
                    let id = atlas.id(c);
                    if !font_has(c) || id == BLANK || atlas.glyph(id).ink() == 0 {
                        missing.push(format!("{} U+{:04X} '{c}' at {size}px", p.name, c as u32));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "no ink: {missing:?}");
    }
}
