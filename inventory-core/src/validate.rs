//! Validation of user-supplied text (names, descriptions) and the case-insensitive name key.

use serde::{Deserialize, Serialize};

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

/// The case-insensitive key used for sibling-name uniqueness and path resolution: Unicode lower-case of the trimmed name.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// A [`name_key`] for hashing and comparing without allocating in the common (ASCII) case:
/// ASCII names are folded on the fly; others are lower-cased once. Because [`str::to_lowercase`]
/// never produces ASCII upper-case, comparing ASCII-case-insensitively is exact for both forms.
#[derive(Debug)]
pub(crate) struct FoldedKey<'a>(std::borrow::Cow<'a, str>);

impl<'a> FoldedKey<'a> {
    pub(crate) fn new(name: &'a str) -> Self {
        let trimmed = name.trim();
        if trimmed.is_ascii() {
            FoldedKey(std::borrow::Cow::Borrowed(trimmed))
        } else {
            FoldedKey(std::borrow::Cow::Owned(trimmed.to_lowercase()))
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
    fn name_key_is_trimmed_unicode_lower_case() {
        assert_eq!(name_key("  Living ROOM "), "living room");
        assert_eq!(name_key("ÄRMEL"), "ärmel");
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
            "straße",
            "ǅ",
            "ΟΔΟΣ",
            "οδος",
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
