//! Properties of name and description validation and of `LocationType` parsing.
#![allow(clippy::unwrap_used)]

use inventory_core::{
    name_key, validate_description, validate_location_name, validate_name, LocationType,
    ValidationError, DESCRIPTION_MAX_CHARS, NAME_MAX_CHARS,
};
use proptest::prelude::*;

/// Names near the interesting edges: arbitrary Unicode, padded text around the length limit,
/// and text salted with whitespace, control characters and slashes.
fn raw_name() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ \t\n]{0,3}[a-zA-Zé ]{0,300}[ \t\n]{0,3}",
        prop::collection::vec(
            prop::sample::select(vec![
                'a', 'Z', ' ', '\t', '\n', '\r', '\0', '\u{7f}', '\u{85}', '/', 'ß', '\u{3000}'
            ]),
            0..260,
        )
        .prop_map(|chars| chars.into_iter().collect()),
        (250usize..260).prop_map(|n| "n".repeat(n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn accepted_names_are_trimmed_bounded_and_clean(raw in raw_name()) {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        let clean = !trimmed.chars().any(char::is_control);
        match validate_name("name", &raw) {
            Ok(name) => {
                prop_assert_eq!(name.as_str(), trimmed);
                prop_assert!((1..=NAME_MAX_CHARS).contains(&name.chars().count()));
                prop_assert!(!name.chars().any(char::is_control));
                prop_assert_eq!(name.trim(), name.as_str());
            }
            Err(err) => {
                prop_assert_eq!(err.field(), "name");
                match err {
                    ValidationError::Empty { .. } => prop_assert!(trimmed.is_empty()),
                    ValidationError::ControlCharacter { .. } => prop_assert!(!clean),
                    ValidationError::TooLong { max, actual, .. } => {
                        prop_assert_eq!(max, NAME_MAX_CHARS);
                        prop_assert_eq!(actual, chars);
                        prop_assert!(actual > max);
                    }
                    ValidationError::PathSeparator { .. } => prop_assert!(false, "validate_name never checks '/'"),
                    ValidationError::Invalid { .. } => prop_assert!(false, "validate_name has no other reason to refuse"),
                }
            }
        }
        // Accepted exactly when all three conditions hold.
        let acceptable = !trimmed.is_empty() && chars <= NAME_MAX_CHARS && clean;
        prop_assert_eq!(validate_name("name", &raw).is_ok(), acceptable);
    }

    #[test]
    fn accepted_location_names_have_no_slash(raw in raw_name()) {
        match validate_location_name(&raw) {
            Ok(name) => {
                prop_assert!(!name.contains('/'));
                prop_assert_eq!(Ok(name), validate_name("name", &raw));
            }
            Err(ValidationError::PathSeparator { .. }) => {
                prop_assert!(validate_name("name", &raw).is_ok() && raw.contains('/'));
            }
            Err(err) => prop_assert_eq!(Err(err), validate_name("name", &raw)),
        }
    }

    #[test]
    fn accepted_descriptions_are_trimmed_bounded_and_clean(raw in raw_name(), extra in 0usize..3) {
        let raw = raw.repeat(extra * 40 + 1);
        match validate_description("description", Some(&raw)) {
            Ok(None) => prop_assert!(raw.trim().is_empty()),
            Ok(Some(text)) => {
                prop_assert_eq!(text.as_str(), raw.trim());
                prop_assert!(text.chars().count() <= DESCRIPTION_MAX_CHARS);
                prop_assert!(!text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')));
            }
            Err(err) => prop_assert_eq!(err.field(), "description"),
        }
    }

    #[test]
    fn name_key_ignores_ascii_case_and_surrounding_space(raw in "[ ]{0,2}[a-zA-Z0-9 ]{0,40}[ ]{0,2}") {
        prop_assert_eq!(name_key(&raw.to_uppercase()), name_key(&raw));
        prop_assert_eq!(name_key(&raw), raw.trim().to_lowercase());
    }

    #[test]
    fn location_type_parse_display_round_trip_for_any_casing(
        t in prop::sample::select(LocationType::ALL.to_vec()),
        upper in prop::collection::vec(any::<bool>(), 9),
        pad in "[ \t]{0,2}",
    ) {
        let cased: String = t
            .as_str()
            .chars()
            .zip(upper.iter().cycle())
            .map(|(c, &up)| if up { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
            .collect();
        let input = format!("{pad}{cased}{pad}");
        prop_assert_eq!(input.parse::<LocationType>(), Ok(t));
        prop_assert_eq!(t.to_string().parse::<LocationType>(), Ok(t));
        prop_assert_eq!(t.to_string(), t.as_str().to_owned());
        let json = serde_json::to_string(&cased).unwrap();
        prop_assert_eq!(serde_json::from_str::<LocationType>(&json).unwrap(), t);
        prop_assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{}\"", t.as_str()));
    }

    #[test]
    fn text_that_is_no_type_name_does_not_parse(raw in any::<String>()) {
        let known = LocationType::ALL.iter().any(|t| t.as_str().eq_ignore_ascii_case(raw.trim()));
        match raw.parse::<LocationType>() {
            Ok(t) => prop_assert!(known && t.as_str().eq_ignore_ascii_case(raw.trim())),
            Err(err) => {
                prop_assert!(!known);
                prop_assert_eq!(err.input, raw);
            }
        }
    }
}
