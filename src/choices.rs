//! The closed vocabularies of a run's settings, [`Quality`], [`Aspect`] and [`X264Preset`],
//! and the `WIDTHxHEIGHT` syntax ([`parse_resolution`]). A leaf: the plan parses them, the
//! profiles choose by them, the encoder writes the preset's word, the cli maps its flags onto
//! them. Serde reads and writes their words (`draft`, `portrait`, `veryfast`), so a clip's
//! hash, which serialises its encoder settings as text, reads `preset: veryfast` as it did when
//! the preset was a string.

use crate::vocab::vocab;

vocab! {
    #![serde(words)]
    /// The `quality` of a plan or `--quality`.
    pub enum Quality {
        /// 960x540@12, fast to look at.
        Draft = "draft",
        /// 1280x720@15.
        Preview = "preview",
        /// 1920x1080@24.
        Production = "production",
        /// 3840x2160@30.
        Max = "max",
        /// Chosen from the hardware and the estimated render time.
        Auto = "auto",
    }
}

vocab! {
    #![serde(words)]
    /// The `aspect` of a plan or `--aspect`.
    pub enum Aspect {
        /// 1920x1080 (the profile's own size).
        Landscape = "landscape",
        /// 1080x1920.
        Portrait = "portrait",
        /// 1080x1080.
        Square = "square",
    }
}

impl Aspect {
    /// The reference guide's aspect presets; landscape keeps the profile's size.
    pub fn preset_size(self) -> (u32, u32) {
        match self {
            Aspect::Landscape => (1920, 1080),
            Aspect::Portrait => (1080, 1920),
            Aspect::Square => (1080, 1080),
        }
    }
}

vocab! {
    #![serde(words)]
    /// An x264 preset (`preset:` of a plan, `--preset`), fastest first.
    pub enum X264Preset {
        Ultrafast = "ultrafast",
        Superfast = "superfast",
        Veryfast = "veryfast",
        Faster = "faster",
        Fast = "fast",
        Medium = "medium",
        Slow = "slow",
        Slower = "slower",
        Veryslow = "veryslow",
        Placebo = "placebo",
    }
}

impl X264Preset {
    /// Parse a preset's word; the error lists every preset (for `preset:` and `--preset`).
    pub fn parse(word: &str) -> Result<X264Preset, String> {
        word.parse().map_err(|_| {
            format!(
                "unknown x264 preset '{word}'; one of {}",
                X264Preset::NAMES.join(", ")
            )
        })
    }
}

/// Parse `WxH` (e.g. `1280x720`). Both sides even, 16..=8192.
pub fn parse_resolution(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .trim()
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("resolution '{s}' is not WIDTHxHEIGHT (e.g. 1280x720)"))?;
    let parse = |v: &str| {
        v.trim()
            .parse::<u32>()
            .map_err(|_| format!("resolution '{s}' is not WIDTHxHEIGHT (e.g. 1280x720)"))
    };
    let (w, h) = (parse(w)?, parse(h)?);
    for (name, v) in [("width", w), ("height", h)] {
        if !(16..=8192).contains(&v) {
            return Err(format!("resolution '{s}': {name} {v} is outside 16..=8192"));
        }
        if v % 2 != 0 {
            return Err(format!(
                "resolution '{s}': {name} {v} is odd (yuv420p needs even sizes)"
            ));
        }
    }
    Ok((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_their_words_in_serde_and_text() {
        assert_eq!(X264Preset::parse("veryfast"), Ok(X264Preset::Veryfast));
        assert_eq!(X264Preset::Veryfast.to_string(), "veryfast");
        assert_eq!(
            X264Preset::parse("quick").unwrap_err(),
            "unknown x264 preset 'quick'; one of ultrafast, superfast, veryfast, faster, fast, medium, slow, slower, veryslow, placebo"
        );
        // The clip hash serialises encoder settings as YAML: the word, as when it was a string.
        assert_eq!(
            serde_yaml_ng::to_string(&X264Preset::Medium)
                .unwrap()
                .trim(),
            "medium"
        );
        assert_eq!(
            serde_yaml_ng::from_str::<Quality>("production").unwrap(),
            Quality::Production
        );
        let e = serde_yaml_ng::from_str::<Aspect>("wide")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown variant `wide`, expected one of `landscape`, `portrait`, `square`"),
            "{e}"
        );
    }

    #[test]
    fn resolution_parsing() {
        assert_eq!(parse_resolution("1280x720"), Ok((1280, 720)));
        assert!(parse_resolution("1280").is_err());
        assert!(parse_resolution("100000x100000").is_err());
        assert!(parse_resolution("161x90").is_err());
        assert!(parse_resolution("axb").is_err());
    }
}
