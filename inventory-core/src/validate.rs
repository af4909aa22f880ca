//! Validation of user-supplied text (names, descriptions) and the case-insensitive name key.

use caseless::Caseless;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// The longest name accepted, in characters (Unicode scalar values) after trimming.
pub const NAME_MAX_CHARS: usize = 255;

/// The longest description accepted, in characters after trimming.
pub const DESCRIPTION_MAX_CHARS: usize = 10_000;

/// Why a piece of text was refused; every variant names the field so that errors can point at it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ValidationError {
    /// Nothing left after trimming.
    #[error("{field} must not be empty")]
    Empty {
        /// The field's name as shown to users, e.g. `name`.
        field: String,
    },
    /// More characters than allowed.
    #[error("{field} is {actual} characters long; at most {max} are allowed")]
    TooLong {
        /// The field's name as shown to users.
        field: String,
        /// The limit, in characters.
        max: usize,
        /// The length after trimming, in characters.
        actual: usize,
    },
    /// A control character (line break, tab, NUL, ...) where none may be.
    #[error("{field} must not contain control characters")]
    ControlCharacter {
        /// The field's name as shown to users.
        field: String,
    },
    /// A `/` in a location name, which would make its full path ambiguous.
    #[error("{field} must not contain \"/\" (it separates the parts of a location path)")]
    PathSeparator {
        /// The field's name as shown to users.
        field: String,
    },
    /// A value of the wrong form or out of range, with the reason.
    #[error("{field} {reason}")]
    Invalid {
        /// The field's name as shown to users.
        field: String,
        /// What is wrong, phrased to follow the field name (`must not be negative`).
        reason: String,
    },
}

impl ValidationError {
    /// A value of the wrong form; `reason` follows the field name in the message.
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        ValidationError::Invalid {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    /// The name of the offending field.
    pub fn field(&self) -> &str {
        match self {
            ValidationError::Empty { field }
            | ValidationError::TooLong { field, .. }
            | ValidationError::ControlCharacter { field }
            | ValidationError::PathSeparator { field }
            | ValidationError::Invalid { field, .. } => field,
        }
    }
}

/// Trims; 1..=255 chars (chars, not bytes); no control chars (incl. `\n`, `\t`). Returns the trimmed name. `field` names the field in errors (`"name"`).
pub fn validate_name(field: &str, raw: &str) -> Result<String, ValidationError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(ValidationError::Empty {
            field: field.to_owned(),
        });
    }
    if name.chars().any(char::is_control) {
        return Err(ValidationError::ControlCharacter {
            field: field.to_owned(),
        });
    }
    let actual = name.chars().count();
    if actual > NAME_MAX_CHARS {
        return Err(ValidationError::TooLong {
            field: field.to_owned(),
            max: NAME_MAX_CHARS,
            actual,
        });
    }
    Ok(name.to_owned())
}

/// `validate_name("name", raw)` plus: a location name may not contain `/`, because full paths are joined with `" / "`.
pub fn validate_location_name(raw: &str) -> Result<String, ValidationError> {
    let name = validate_name("name", raw)?;
    if name.contains('/') {
        return Err(ValidationError::PathSeparator {
            field: "name".to_owned(),
        });
    }
    Ok(name)
}

/// Trims; empty/whitespace-only → `Ok(None)`; at most [`DESCRIPTION_MAX_CHARS`] chars; control chars other than `\n`, `\r`, `\t` refused.
pub fn validate_description(
    field: &str,
    raw: Option<&str>,
) -> Result<Option<String>, ValidationError> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ValidationError::ControlCharacter {
            field: field.to_owned(),
        });
    }
    let actual = text.chars().count();
    if actual > DESCRIPTION_MAX_CHARS {
        return Err(ValidationError::TooLong {
            field: field.to_owned(),
            max: DESCRIPTION_MAX_CHARS,
            actual,
        });
    }
    Ok(Some(text.to_owned()))
}

/// The key under which names compare: sibling location names, category names and usernames
/// are "the same name" exactly when their keys are equal, and the database stores this key
/// under a unique index.
///
/// The key is the name trimmed, put in canonical decomposition (NFD), fully case-folded
/// (Unicode `CaseFolding.txt`, statuses C and F, without the Turkic T mappings) and
/// recomposed (NFC). So `Kiosk` written with a Kelvin sign, `Café` precomposed or decomposed,
/// `ΟΔΟΣ`/`οδοσ`/`οδος` and `Straße`/`STRASSE` each share one key. An ASCII name's key is
/// simply its trimmed ASCII lower-case.
///
/// The Unicode tables come from the `caseless` and `unicode-normalization` crates, pinned to
/// exact versions: the stored keys depend on them, so a version bump must come with a
/// migration that recomputes the keys.
pub fn name_key(name: &str) -> String {
    let trimmed = name.trim();
    if trimmed.is_ascii() {
        return trimmed.to_ascii_lowercase();
    }
    // NFD first: folding U+0345 (combining ypogegrammeni) and characters holding it only
    // commutes with normalisation on decomposed text (Unicode 3.13, canonical caseless match).
    folded(trimmed)
}

/// Whether `key` is [`name_key`] of `name`, without building the key when the name is
/// ASCII (a check of every stored key reads a million of them).
pub fn is_name_key_of(key: &str, name: &str) -> bool {
    let trimmed = name.trim();
    if trimmed.is_ascii() {
        return trimmed.len() == key.len()
            && trimmed
                .bytes()
                .zip(key.bytes())
                .all(|(n, k)| n.to_ascii_lowercase() == k);
    }
    folded(trimmed) == key
}

/// Whether [`name_key`] of `name` is `name` with only its ASCII letters lower-cased (what
/// SQL's ASCII-only `lower` gives), without building either when the name is ASCII.
pub fn has_ascii_lower_case_key(name: &str) -> bool {
    if name.is_ascii() {
        // The key is then the trimmed name, lower-cased.
        return name.trim().len() == name.len();
    }
    is_name_key_of(&name.to_ascii_lowercase(), name)
}

/// The general rule behind [`name_key`], for text already trimmed.
fn folded(trimmed: &str) -> String {
    trimmed.nfd().default_case_fold().nfc().collect()
}

/// A [`name_key`] for hashing and comparing without allocating in the common (ASCII) case:
/// ASCII names are folded on the fly; others get their [`name_key`] once. A non-ASCII key
/// never holds an ASCII capital (case folding removes them and NFC composes only into
/// non-ASCII characters), so comparing ASCII-case-insensitively is exact for both forms.
#[derive(Debug)]
pub(crate) struct FoldedKey<'a>(std::borrow::Cow<'a, str>);

impl<'a> FoldedKey<'a> {
    pub(crate) fn new(name: &'a str) -> Self {
        let trimmed = name.trim();
        if trimmed.is_ascii() {
            FoldedKey(std::borrow::Cow::Borrowed(trimmed))
        } else {
            FoldedKey(std::borrow::Cow::Owned(name_key(trimmed)))
        }
    }

    /// The key as [`name_key`] would return it.
    pub(crate) fn to_key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl PartialEq for FoldedKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl Eq for FoldedKey<'_> {}

impl std::hash::Hash for FoldedKey<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let mut buf = [0u8; 64];
        for chunk in self.0.as_bytes().chunks(buf.len()) {
            let folded = &mut buf[..chunk.len()];
            folded.copy_from_slice(chunk);
            folded.make_ascii_lowercase();
            state.write(folded);
        }
        state.write_u8(0xff);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn name_is_trimmed() {
        assert_eq!(validate_name("name", "  Kitchen \t").unwrap(), "Kitchen");
    }

    #[test]
    fn empty_name_is_refused() {
        assert_eq!(
            validate_name("name", ""),
            Err(ValidationError::Empty {
                field: "name".into()
            })
        );
    }

    #[test]
    fn whitespace_only_name_is_refused_as_empty() {
        let err = validate_name("name", " \t\n ").unwrap_err();
        assert!(matches!(err, ValidationError::Empty { .. }));
        assert_eq!(err.to_string(), "name must not be empty");
    }

    #[test]
    fn name_of_255_chars_is_accepted() {
        let raw = "x".repeat(255);
        assert_eq!(validate_name("name", &raw).unwrap(), raw);
    }

    #[test]
    fn name_of_256_chars_is_refused() {
        let err = validate_name("name", &"x".repeat(256)).unwrap_err();
        assert_eq!(
            err,
            ValidationError::TooLong {
                field: "name".into(),
                max: 255,
                actual: 256
            }
        );
        assert_eq!(
            err.to_string(),
            "name is 256 characters long; at most 255 are allowed"
        );
    }

    #[test]
    fn name_length_counts_chars_not_bytes() {
        let raw = "é".repeat(255); // 510 bytes
        assert!(validate_name("name", &raw).is_ok());
        assert!(validate_name("name", &"é".repeat(256)).is_err());
    }

    #[test]
    fn surrounding_whitespace_does_not_count_towards_length() {
        let raw = format!("  {}  ", "x".repeat(255));
        assert_eq!(validate_name("name", &raw).unwrap().len(), 255);
    }

    #[test]
    fn name_with_inner_newline_is_refused() {
        assert_eq!(
            validate_name("name", "Top\nShelf"),
            Err(ValidationError::ControlCharacter {
                field: "name".into()
            })
        );
    }

    #[test]
    fn name_with_tab_or_nul_is_refused() {
        assert!(validate_name("name", "a\tb").is_err());
        assert!(validate_name("name", "a\0").is_err());
    }

    #[test]
    fn error_names_the_given_field() {
        let err = validate_name("category", "").unwrap_err();
        assert_eq!(err.field(), "category");
        assert_eq!(err.to_string(), "category must not be empty");
    }

    #[test]
    fn location_name_with_slash_is_refused() {
        let err = validate_location_name("In/Out tray").unwrap_err();
        assert_eq!(
            err,
            ValidationError::PathSeparator {
                field: "name".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "name must not contain \"/\" (it separates the parts of a location path)"
        );
    }

    #[test]
    fn location_name_is_validated_as_a_name() {
        assert_eq!(validate_location_name(" Attic ").unwrap(), "Attic");
        assert!(matches!(
            validate_location_name(""),
            Err(ValidationError::Empty { .. })
        ));
    }

    #[test]
    fn missing_description_is_none() {
        assert_eq!(validate_description("description", None), Ok(None));
    }

    #[test]
    fn blank_description_is_none() {
        assert_eq!(
            validate_description("description", Some(" \n\t ")),
            Ok(None)
        );
    }

    #[test]
    fn description_is_trimmed_and_keeps_line_breaks_and_tabs() {
        assert_eq!(
            validate_description("description", Some("  line 1\r\n\tline 2 \n")),
            Ok(Some("line 1\r\n\tline 2".into()))
        );
    }

    #[test]
    fn description_with_other_control_characters_is_refused() {
        assert_eq!(
            validate_description("description", Some("bell\u{7}")),
            Err(ValidationError::ControlCharacter {
                field: "description".into()
            })
        );
    }

    #[test]
    fn description_of_10000_chars_is_accepted() {
        let raw = "d".repeat(DESCRIPTION_MAX_CHARS);
        assert_eq!(
            validate_description("description", Some(&raw)),
            Ok(Some(raw))
        );
    }

    #[test]
    fn description_of_10001_chars_is_refused() {
        let raw = "d".repeat(DESCRIPTION_MAX_CHARS + 1);
        assert_eq!(
            validate_description("notes", Some(&raw)),
            Err(ValidationError::TooLong {
                field: "notes".into(),
                max: DESCRIPTION_MAX_CHARS,
                actual: DESCRIPTION_MAX_CHARS + 1
            })
        );
    }

    #[test]
    fn ascii_name_key_is_trimmed_lower_case() {
        assert_eq!(name_key("  Living ROOM "), "living room");
        assert_eq!(name_key("Shelf 2\t"), "shelf 2");
    }

    #[test]
    fn name_key_is_nfc() {
        assert_eq!(name_key("ÄRMEL"), "\u{e4}rmel");
        assert_eq!(name_key("A\u{308}RMEL"), "\u{e4}rmel");
    }

    #[test]
    fn kelvin_sign_folds_to_k() {
        assert_eq!(name_key("\u{212A}iosk"), name_key("Kiosk"));
        assert_eq!(name_key("\u{212A}iosk"), "kiosk");
    }

    #[test]
    fn precomposed_and_decomposed_accents_share_a_key() {
        assert_eq!(name_key("Caf\u{e9}"), name_key("Cafe\u{301}"));
        assert_eq!(name_key("CAFE\u{301}"), "caf\u{e9}");
    }

    #[test]
    fn greek_final_sigma_folds_like_sigma() {
        assert_eq!(name_key("ΟΔΟΣ"), name_key("οδοσ"));
        assert_eq!(name_key("οδοσ"), name_key("οδος"));
    }

    #[test]
    fn sharp_s_folds_to_ss() {
        assert_eq!(name_key("Straße"), name_key("STRASSE"));
        assert_eq!(name_key("STRA\u{1E9E}E"), "strasse");
    }

    #[test]
    fn dz_digraph_title_upper_and_lower_share_a_key() {
        assert_eq!(name_key("ǅ"), name_key("ǆ"));
        assert_eq!(name_key("Ǆ"), name_key("ǆ"));
    }

    #[test]
    fn ligatures_and_dotted_capital_i_fold_fully() {
        assert_eq!(name_key("\u{FB03}x"), "ffix");
        assert_eq!(name_key("\u{130}"), "i\u{307}");
    }

    #[test]
    fn dotless_i_keeps_its_own_key() {
        // Full case folding leaves U+0131 alone (only the Turkic mappings, excluded here, would
        // touch it), although its upper case is a plain I.
        assert_ne!(name_key("\u{131}"), name_key("I"));
        assert_eq!(name_key("I"), name_key("i"));
    }

    #[test]
    fn ypogegrammeni_folds_after_canonical_reordering() {
        // ᾳ + acute is α, acute, iota-subscript in canonical order: the same key however written.
        assert_eq!(
            name_key("\u{1FB3}\u{301}"),
            name_key("\u{3B1}\u{301}\u{345}")
        );
        assert_eq!(name_key("\u{1FB3}\u{301}"), name_key("\u{1FB4}"));
        assert_eq!(name_key("\u{1FB4}"), "\u{3AC}\u{3B9}");
    }

    #[test]
    fn key_tables_are_the_pinned_unicode_versions() {
        // Stored keys depend on these tables: a change here needs a migration that
        // recomputes every stored name key (see `name_key`).
        assert_eq!(caseless::UNICODE_VERSION, (16, 0, 0));
        assert_eq!(unicode_normalization::UNICODE_VERSION, (18, 0, 0));
    }

    #[test]
    fn non_ascii_name_key_is_trimmed() {
        assert_eq!(name_key("\u{3000} Café\u{a0}"), "café");
    }

    #[test]
    fn folded_key_agrees_with_name_key() {
        use std::collections::hash_map::RandomState;
        use std::hash::BuildHasher;
        let names = [
            "kitchen",
            " Kitchen ",
            "KITCHEN",
            "\u{212A}itchen",
            "ÄRMEL",
            "ärmel",
            "A\u{308}rmel",
            "straße",
            "STRASSE",
            "strasse",
            "ǅ",
            "Ǆ",
            "ΟΔΟΣ",
            "οδος",
            "Café",
            "cafe\u{301}",
            "\u{131}",
            "i",
            "",
        ];
        let hasher = RandomState::new();
        for a in names {
            assert_eq!(FoldedKey::new(a).to_key(), name_key(a), "{a:?}");
            for b in names {
                let (ka, kb) = (FoldedKey::new(a), FoldedKey::new(b));
                assert_eq!(ka == kb, name_key(a) == name_key(b), "{a:?} vs {b:?}");
                if ka == kb {
                    assert_eq!(hasher.hash_one(&ka), hasher.hash_one(&kb));
                }
            }
        }
    }

    /// Short names over a few letters with many case and normalisation variants, so that
    /// random pairs often share a key.
    fn colliding_name() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let letters = vec![
            'K', 'k', '\u{212A}', 's', 'S', 'ß', 'ẞ', 'e', 'E', 'é', 'É', '\u{301}', 'σ', 'Σ', 'ς',
            ' ',
        ];
        prop::collection::vec(prop::sample::select(letters), 0..5)
            .prop_map(|chars| chars.into_iter().collect())
    }

    proptest::proptest! {
        #[test]
        fn ascii_fast_path_equals_the_general_rule(raw in "[ -~\t]{0,40}") {
            proptest::prop_assert_eq!(name_key(&raw), folded(raw.trim()));
        }

        #[test]
        fn folded_key_compares_and_hashes_like_name_key(a in colliding_name(), b in colliding_name()) {
            use std::hash::BuildHasher;
            let hasher = std::collections::hash_map::RandomState::new();
            let (ka, kb) = (FoldedKey::new(&a), FoldedKey::new(&b));
            proptest::prop_assert_eq!(ka.to_key(), name_key(&a));
            proptest::prop_assert_eq!(ka == kb, name_key(&a) == name_key(&b));
            if ka == kb {
                proptest::prop_assert_eq!(hasher.hash_one(&ka), hasher.hash_one(&kb));
            }
        }
    }

    #[test]
    fn validation_error_round_trips_through_json() {
        let err = ValidationError::TooLong {
            field: "name".into(),
            max: 255,
            actual: 300,
        };
        let json = serde_json::to_string(&err).unwrap();
        assert_eq!(serde_json::from_str::<ValidationError>(&json).unwrap(), err);
    }
}
