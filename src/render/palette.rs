//! Character palettes (from the digest, section 2), dark to bright, index 0 always space, and the
//! particle character sets.
//!
//! Every palette of the digest is offered: characters DejaVu Sans Mono lacks (runic, halfwidth
//! katakana, braille, the dingbats, Misc Symbols, Arabic) are drawn by the embedded GNU Unifont
//! fallback (see `font`). The unit tests check that each non-space character rasterizes to a
//! non-empty bitmap at several sizes.

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
        name: "rune",
        chars: " .ᚠᚢᚦᚱᚷᛁᛇᛒᛖᛚᛞᛟ",
    },
    Palette {
        name: "alchemic",
        chars: " ☉☽♀♂♃♄♅♆♇♈♉♊♋",
    },
    Palette {
        name: "zodiac",
        chars: " ♈♉♊♋♌♍♎♏♐♑♒♓",
    },
    Palette {
        name: "arrows",
        chars: " ←↑→↓↔↕↖↗↘↙↩↪↻➡",
    },
    Palette {
        name: "music",
        chars: " ♪♫♬♩♭♮♯○●",
    },
    Palette {
        name: "kata",
        chars: " ·ｦｧｨｩｪｫｬｭｮｯｰｱｲｳｴｵｶｷ",
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
        name: "arabic",
        chars: " ابتثجحخدذرزسشصضط",
    },
    Palette {
        name: "dots",
        chars: " ⋅∘∙●◉◎◆✦★",
    },
    Palette {
        name: "stars",
        chars: " ·✧✦✩✨★✶✳✸",
    },
    Palette {
        name: "braille",
        chars: " ⠁⠂⠃⠄⠅⠆⠇⠈⠉⠊⠋⠌⠍⠎⠏⠐⠑⠒⠓⠔⠕⠖⠗⠘⠙⠚⠛⠜⠝⠞⠟⠿",
    },
    Palette {
        name: "halffill",
        chars: " ◔◑◕◐◒◓◖◗◙",
    },
    Palette {
        name: "hatch",
        chars: " ▣▤▥▦▧▨▩",
    },
    Palette {
        name: "rabbit",
        chars: " .·~=≈∞⚡☿✦★⊕◊◆▲▼●■",
    },
    Palette {
        name: "ocean",
        chars: " ~≈≈≈∼⌇≈≋≌≈",
    },
    Palette {
        name: "organic",
        chars: " .°∘•◦◉❂✿❁❃",
    },
    Palette {
        name: "machine",
        chars: " _─│┌┐┼≡■█▓▒░",
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
    "rune",
    "alchemic",
    "zodiac",
    "arrows",
    "music",
    "kata",
    "greek",
    "cyrillic",
    "arabic",
    "dots",
    "stars",
    "braille",
    "halffill",
    "hatch",
    "rabbit",
    "ocean",
    "organic",
    "machine",
];

/// Particle character sets (the digest's particle palettes), by name; no space.
pub const PARTICLE_SETS: &[Palette] = &[
    Palette {
        name: "energy",
        chars: "*+#@⚡✦★█▓",
    },
    Palette {
        name: "spark",
        chars: "·•●★✶*+",
    },
    Palette {
        name: "leaf",
        chars: "❀❁❂❃✿☘•",
    },
    Palette {
        name: "snow",
        chars: "❄❅❆·•*○",
    },
    Palette {
        name: "rain",
        chars: "|│┃║/\\",
    },
    Palette {
        name: "bubble",
        chars: "○◎◉●∘∙°",
    },
    Palette {
        name: "data",
        chars: "01{}[]<>|/\\",
    },
    Palette {
        name: "hex",
        chars: "0123456789ABCDEF",
    },
    Palette {
        name: "binary",
        chars: "01",
    },
    Palette {
        name: "rune",
        chars: "ᚠᚢᚦᚱᚷᛁᛇᛒᛖᛚᛞᛟ✦★",
    },
    Palette {
        name: "zodiac",
        chars: "♈♉♊♋♌♍♎♏♐♑♒♓",
    },
    Palette {
        name: "dot",
        chars: "·•●",
    },
    Palette {
        name: "dash",
        chars: "-=~─═",
    },
    Palette {
        name: "explosion",
        chars: "★✶✳✸✦✨*+",
    },
    Palette {
        name: "trails",
        chars: "·∘◦°⋅.,'`",
    },
    Palette {
        name: "boids",
        chars: "·•●◦∘⬤",
    },
    Palette {
        name: "arrows",
        chars: "▸▹►▻→⟶",
    },
    Palette {
        name: "flow",
        chars: "·•∘◦°⋅",
    },
    Palette {
        name: "fire",
        chars: "░▒▓█",
    },
];

/// Names of the particle character sets.
pub const PARTICLE_SET_NAMES: &[&str] = &[
    "energy",
    "spark",
    "leaf",
    "snow",
    "rain",
    "bubble",
    "data",
    "hex",
    "binary",
    "rune",
    "zodiac",
    "dot",
    "dash",
    "explosion",
    "trails",
    "boids",
    "arrows",
    "flow",
    "fire",
];

/// The palette called `name`, if any.
pub fn palette(name: &str) -> Option<&'static Palette> {
    PALETTES.iter().find(|p| p.name == name)
}

/// The particle character set called `name`, if any.
pub fn particle_set(name: &str) -> Option<&'static Palette> {
    PARTICLE_SETS.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::font::{Atlas, BLANK};

    #[test]
    fn names_match_palettes() {
        let names: Vec<&str> = PALETTES.iter().map(|p| p.name).collect();
        assert_eq!(names, PALETTE_NAMES);
        let names: Vec<&str> = PARTICLE_SETS.iter().map(|p| p.name).collect();
        assert_eq!(names, PARTICLE_SET_NAMES);
        for p in PALETTES {
            assert!(p.chars.starts_with(' '), "{} starts with space", p.name);
            assert!(p.chars.chars().count() >= 2, "{}", p.name);
        }
        for p in PARTICLE_SETS {
            assert!(!p.chars.contains(' '), "{}", p.name);
        }
    }

    #[test]
    fn every_palette_char_has_ink() {
        let mut missing = Vec::new();
        for size in [8.0, 16.0, 24.0, 40.0] {
            let mut atlas = Atlas::new(size);
            for p in PALETTES.iter().chain(PARTICLE_SETS) {
                for c in p.chars.chars().filter(|&c| c != ' ') {
                    let id = atlas.id(c);
                    if id == BLANK || atlas.glyph(id).ink() == 0 {
                        missing.push(format!("{} U+{:04X} '{c}' at {size}px", p.name, c as u32));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "no ink: {missing:?}");
    }
}
