//! [`Shader`]: the closed list of shader names, a leaf that the shader groups and the plan
//! import (the definitions live with their group; `mod.rs` maps each name to its definition).

use crate::vocab::vocab;

vocab! {
    #![serde(words)]
    /// Every shader, by the name a plan writes, in documentation order (group by group). Serde
    /// reads and writes the name, so a clip's hash is the same as when names were strings.
    pub enum Shader {
        Vignette = "vignette",
        ReverseVignette = "reverse_vignette",
        Contrast = "contrast",
        Gamma = "gamma",
        Levels = "levels",
        Brightness = "brightness",
        Invert = "invert",
        Posterize = "posterize",
        Threshold = "threshold",
        Solarize = "solarize",
        HueRotate = "hue_rotate",
        Saturation = "saturation",
        ColorGrade = "color_grade",
        ColorWobble = "color_wobble",
        ColorRamp = "color_ramp",
        Chromatic = "chromatic",
        ChannelShift = "channel_shift",
        ChannelSwap = "channel_swap",
        RgbSplitRadial = "rgb_split_radial",
        Crt = "crt",
        Pixelate = "pixelate",
        WaveDistort = "wave_distort",
        Kaleidoscope = "kaleidoscope",
        MirrorH = "mirror_h",
        MirrorV = "mirror_v",
        MirrorQuad = "mirror_quad",
        MirrorDiag = "mirror_diag",
        Bloom = "bloom",
        EdgeGlow = "edge_glow",
        SoftFocus = "soft_focus",
        RadialBlur = "radial_blur",
        Grain = "grain",
        Static = "static",
        Scanlines = "scanlines",
        Halftone = "halftone",
        GlitchBands = "glitch_bands",
        BlockGlitch = "block_glitch",
        PixelSort = "pixel_sort",
        DataBend = "data_bend",
        GlitchHit = "glitch_hit",
    }
}
