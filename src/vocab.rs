//! [`vocab!`]: closed vocabularies as enums (a leaf, used by the renderer's parameter tables,
//! the audio features and the plan).

/// Declares a closed vocabulary: an enum whose variants are the words a plan may write.
///
/// Each variant is written once, with its word: `Screen = "screen"`. The enum gets `FromStr`,
/// `Display` and `Into<&'static str>` (from `strum`), serde, and the constant `NAMES` (every
/// word, in declaration order: the order error messages list them in).
///
/// Serde writes a variant by its Rust name (`Screen`), unless the body starts with
/// `#![serde(words)]`: then serde reads and writes the words (`screen`), e.g. for a value a plan
/// gives by its word or that is hashed as text.
macro_rules! vocab {
    (
        @emit [$words:meta]
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $word:literal ),+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            serde::Serialize,
            serde::Deserialize,
            strum::EnumString,
            strum::Display,
            strum::IntoStaticStr,
            strum::VariantNames,
            strum::EnumIter,
        )]
        $vis enum $name {
            $(
                #[doc = concat!("`", $word, "`")]
                $(#[$vmeta])*
                #[strum(serialize = $word)]
                #[cfg_attr($words, serde(rename = $word))]
                $variant,
            )+
        }

        impl $name {
            /// Every word of the vocabulary, in declaration order.
            pub const NAMES: &'static [&'static str] = <$name as strum::VariantNames>::VARIANTS;

            /// The word a plan writes for this value.
            pub fn name(self) -> &'static str {
                self.into()
            }
        }
    };
    (
        #![serde(words)]
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $word:literal ),+ $(,)?
        }
    ) => {
        vocab! { @emit [all()] $(#[$meta])* $vis enum $name { $( $(#[$vmeta])* $variant = $word ),+ } }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $word:literal ),+ $(,)?
        }
    ) => {
        vocab! { @emit [any()] $(#[$meta])* $vis enum $name { $( $(#[$vmeta])* $variant = $word ),+ } }
    };
}
pub(crate) use vocab;
