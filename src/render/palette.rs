//! Character palettes (from section 2 of the Python reference pipeline's docs), dark to bright,
//! index 0 always space, and the particle character sets.
//!
//! Every palette of the Python reference pipeline is offered: characters DejaVu Sans Mono lacks
//! (runic, halfwidth katakana, braille, the dingbats, Misc Symbols, Arabic) are drawn by the
//! embedded GNU Unifont fallback (see `font`). The unit tests check that each non-space character
//! rasterizes to a non-empty bitmap at several sizes.

use crate::render::params::vocab;
use serde::{Deserialize, Serialize};

vocab! {
    /// Character palettes, dark to bright, index 0 always space (`params.palette`), in the order
    /// they are listed to users.
    pub enum PaletteName {
        Default = "default",
        Dense = "dense",
        Minimal = "minimal",
        Binary = "binary",
        Gradient = "gradient",
        Blocks = "blocks",
        Shade = "shade",
        BlocksExt = "blocks_ext",
        Math = "math",
        Box = "box",
        Circuit = "circuit",
        Rune = "rune",
        Alchemic = "alchemic",
        Zodiac = "zodiac",
        Arrows = "arrows",
        Music = "music",
        Kata = "kata",
        Greek = "greek",
        Cyrillic = "cyrillic",
        Arabic = "arabic",
        Dots = "dots",
        Stars = "stars",
        Braille = "braille",
        Halffill = "halffill",
        Hatch = "hatch",
        Rabbit = "rabbit",
        Ocean = "ocean",
        Organic = "organic",
        Machine = "machine",
    }
}

impl PaletteName {
    /// The characters, space first.
    pub fn chars(self) -> &'static str {
        match self {
            PaletteName::Default => " .`'-:;!><=+*^~?/|(){}[]#&$@%",
            PaletteName::Dense => " .:;+=xX$#@█",
            PaletteName::Minimal => " .:-=+#@",
            PaletteName::Binary => " █",
            PaletteName::Gradient => " ░▒▓█",
            PaletteName::Blocks => " ░▒▓█▄▀▐▌",
            PaletteName::Shade => " ░▒▓█▇▆▅▄▃▂▁",
            PaletteName::BlocksExt => " ▖▗▘▙▚▛▜▝▞▟░▒▓█",
            PaletteName::Math => " ·∘∙•°±∓×÷≈≠≡≤≥∞∫∑∏√∇∂∆Ω",
            PaletteName::Box => " ─│┌┐└┘├┤┬┴┼═║╔╗╚╝╠╣╦╩╬",
            PaletteName::Circuit => " .·─│┌┐└┘┼○●□■∆∇≡",
            PaletteName::Rune => " .ᚠᚢᚦᚱᚷᛁᛇᛒᛖᛚᛞᛟ",
            PaletteName::Alchemic => " ☉☽♀♂♃♄♅♆♇♈♉♊♋",
            PaletteName::Zodiac => " ♈♉♊♋♌♍♎♏♐♑♒♓",
            PaletteName::Arrows => " ←↑→↓↔↕↖↗↘↙↩↪↻➡",
            PaletteName::Music => " ♪♫♬♩♭♮♯○●",
            PaletteName::Kata => " ·ｦｧｨｩｪｫｬｭｮｯｰｱｲｳｴｵｶｷ",
            PaletteName::Greek => " αβγδεζηθικλμνξπρστφψω",
            PaletteName::Cyrillic => " абвгдежзиклмнопрстуфхцчш",
            PaletteName::Arabic => " ابتثجحخدذرزسشصضط",
            PaletteName::Dots => " ⋅∘∙●◉◎◆✦★",
            PaletteName::Stars => " ·✧✦✩✨★✶✳✸",
            PaletteName::Braille => " ⠁⠂⠃⠄⠅⠆⠇⠈⠉⠊⠋⠌⠍⠎⠏⠐⠑⠒⠓⠔⠕⠖⠗⠘⠙⠚⠛⠜⠝⠞⠟⠿",
            PaletteName::Halffill => " ◔◑◕◐◒◓◖◗◙",
            PaletteName::Hatch => " ▣▤▥▦▧▨▩",
            PaletteName::Rabbit => " .·~=≈∞⚡☿✦★⊕◊◆▲▼●■",
            PaletteName::Ocean => " ~≈≈≈∼⌇≈≋≌≈",
            PaletteName::Organic => " .°∘•◦◉❂✿❁❃",
            PaletteName::Machine => " _─│┌┐┼≡■█▓▒░",
        }
    }
}

vocab! {
    /// Particle character sets (`chars` of particles and rain).
    pub enum ParticleSet {
        Energy = "energy",
        Spark = "spark",
        Leaf = "leaf",
        Snow = "snow",
        Rain = "rain",
        Bubble = "bubble",
        Data = "data",
        Hex = "hex",
        Binary = "binary",
        Rune = "rune",
        Zodiac = "zodiac",
        Dot = "dot",
        Dash = "dash",
        Explosion = "explosion",
        Trails = "trails",
        Boids = "boids",
        Arrows = "arrows",
        Flow = "flow",
        Fire = "fire",
    }
}

impl ParticleSet {
    /// The characters (no space).
    pub fn chars(self) -> &'static str {
        match self {
            ParticleSet::Energy => "*+#@⚡✦★█▓",
            ParticleSet::Spark => "·•●★✶*+",
            ParticleSet::Leaf => "❀❁❂❃✿☘•",
            ParticleSet::Snow => "❄❅❆·•*○",
            ParticleSet::Rain => "|│┃║/\\",
            ParticleSet::Bubble => "○◎◉●∘∙°",
            ParticleSet::Data => "01{}[]<>|/\\",
            ParticleSet::Hex => "0123456789ABCDEF",
            ParticleSet::Binary => "01",
            ParticleSet::Rune => "ᚠᚢᚦᚱᚷᛁᛇᛒᛖᛚᛞᛟ✦★",
            ParticleSet::Zodiac => "♈♉♊♋♌♍♎♏♐♑♒♓",
            ParticleSet::Dot => "·•●",
            ParticleSet::Dash => "-=~─═",
            ParticleSet::Explosion => "★✶✳✸✦✨*+",
            ParticleSet::Trails => "·∘◦°⋅.,'`",
            ParticleSet::Boids => "·•●◦∘⬤",
            ParticleSet::Arrows => "▸▹►▻→⟶",
            ParticleSet::Flow => "·•∘◦°⋅",
            ParticleSet::Fire => "░▒▓█",
        }
    }
}

/// A palette or a particle set (the `chars` of particles and rain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CharSet {
    /// A palette (its space is skipped).
    Palette(PaletteName),
    /// A particle set.
    Particles(ParticleSet),
}

impl CharSet {
    /// The palette or (if no palette has that name) the particle set called `name`.
    pub fn parse(name: &str) -> Option<CharSet> {
        palette(name)
            .map(CharSet::Palette)
            .or_else(|| particle_set(name).map(CharSet::Particles))
    }

    /// The characters.
    pub fn chars(self) -> &'static str {
        match self {
            CharSet::Palette(p) => p.chars(),
            CharSet::Particles(p) => p.chars(),
        }
    }

    /// The name a plan writes.
    pub fn name(self) -> &'static str {
        match self {
            CharSet::Palette(p) => p.name(),
            CharSet::Particles(p) => p.name(),
        }
    }
}

/// The palette called `name`, if any.
pub fn palette(name: &str) -> Option<PaletteName> {
    name.parse().ok()
}

/// The particle character set called `name`, if any.
pub fn particle_set(name: &str) -> Option<ParticleSet> {
    name.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::font::{Atlas, BLANK};
    use strum::IntoEnumIterator;

    #[test]
    fn names_are_the_documented_vocabulary() {
        assert_eq!(
            PaletteName::NAMES,
            [
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
            ]
        );
        assert_eq!(
            ParticleSet::NAMES,
            [
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
            ]
        );
        for p in PaletteName::iter() {
            assert_eq!(palette(p.name()), Some(p));
            assert!(p.chars().starts_with(' '), "{p} starts with space");
            assert!(p.chars().chars().count() >= 2, "{p}");
        }
        for p in ParticleSet::iter() {
            assert_eq!(particle_set(p.name()), Some(p));
            assert!(!p.chars().contains(' '), "{p}");
        }
    }

    #[test]
    fn every_palette_char_has_ink() {
        let mut missing = Vec::new();
        let all = PaletteName::iter()
            .map(|p| (p.name(), p.chars()))
            .chain(ParticleSet::iter().map(|p| (p.name(), p.chars())));
        let all: Vec<_> = all.collect();
        for size in [8.0, 16.0, 24.0, 40.0] {
            let mut atlas = Atlas::new(size);
            for (name, chars) in &all {
                for c in chars.chars().filter(|&c| c != ' ') {
                    let id = atlas.id(c);
                    if id == BLANK || atlas.glyph(id).ink() == 0 {
                        missing.push(format!("{name} U+{:04X} '{c}' at {size}px", c as u32));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "no ink: {missing:?}");
    }
}
