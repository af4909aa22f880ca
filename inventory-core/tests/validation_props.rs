//! Properties of name and description validation and of `LocationType` parsing.
#![allow(clippy::unwrap_used)]

use inventory_core::{
    has_ascii_lower_case_key, is_name_key_of, name_key, validate_description,
    validate_location_name, validate_name, LocationType, ValidationError, DESCRIPTION_MAX_CHARS,
    NAME_MAX_CHARS,
};
use proptest::prelude::*;
use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::UnicodeNormalization;

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

/// Characters where case mapping, folding and normalisation interact: Kelvin and Ångström
/// signs, sharp s, final sigma, title-case digraphs, dotted and dotless i, ligatures,
/// combining marks, the iota subscript, Cherokee (which folds to upper case), spaces.
const TRICKY: &[char] = &[
    'K', 'k', '\u{212A}', 'A', 'a', '\u{212B}', 'Å', 'å', '\u{2126}', 'Ω', 'ω', 'ß', 'ẞ', 's', 'S',
    'Σ', 'σ', 'ς', 'Ǆ', 'ǅ', 'ǆ', 'İ', 'ı', 'i', 'I', 'e', 'é', 'É', '\u{301}', '\u{308}',
    '\u{323}', '\u{307}', 'ﬃ', 'ﬅ', '\u{345}', 'ᾳ', 'ᾼ', 'ᾴ', 'ΐ', 'ŉ', 'ǰ', 'Ꭰ', 'ꭰ', 'Ⱥ', 'ⱥ',
    'µ', 'Μ', ' ', '\u{3000}', '\u{a0}', '1', '/',
];

/// Arbitrary strings, and strings made of [`TRICKY`] characters.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(prop::sample::select(TRICKY), 0..12)
            .prop_map(|chars| chars.into_iter().collect()),
        (
            any::<String>(),
            prop::collection::vec(prop::sample::select(TRICKY), 0..6)
        )
            .prop_map(|(s, chars)| chars.into_iter().chain(s.chars()).collect()),
    ]
}

/// Whether the standard library knows a case mapping of `c` that the fold table behind
/// [`name_key`] does not: the table is pinned to an older Unicode version
/// (`caseless::UNICODE_VERSION`) than `char::to_uppercase` may use, so characters whose
/// case pairs are newer (e.g. U+A7D2/U+A7D3, paired in Unicode 17) are still compared exactly.
fn case_pair_newer_than_fold_table(c: char) -> bool {
    let unfolded = |d: char| caseless::default_case_fold_str(&d.to_string()) == d.to_string();
    let mut mapped = c.to_uppercase().chain(c.to_lowercase());
    unfolded(c) && mapped.any(|d| d != c && unfolded(d))
}

/// Where upper-casing cannot agree with caseless matching, by Unicode's own definitions:
/// - `ı` (U+0131) upper-cases to `I`, whose fold is `i`; full case folding keeps `ı` apart
///   (only the Turkic mappings, which a default key cannot use, would join them).
/// - The iota subscript (U+0345, also inside `ᾳ` and its kin) becomes a letter `Ι` when
///   upper-cased, while canonical ordering moves it behind any combining mark that follows
///   it; so `ᾳ\u{301}` and `ΑΙ\u{301}` are different names (as they look different).
fn upper_case_breaks_caseless_match(s: &str) -> bool {
    let decomposed: Vec<char> = s
        .chars()
        .flat_map(|c| c.to_string().nfd().collect::<Vec<_>>())
        .collect();
    s.contains('\u{131}')
        || decomposed
            .windows(2)
            .any(|w| w[0] == '\u{345}' && (1..240).contains(&canonical_combining_class(w[1])))
        || s.chars().any(case_pair_newer_than_fold_table)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn name_key_is_idempotent(s in any_text()) {
        let key = name_key(&s);
        prop_assert_eq!(name_key(&key), key);
    }

    #[test]
    fn is_name_key_of_agrees_with_name_key(s in any_text(), other in any_text()) {
        let key = name_key(&s);
        prop_assert!(is_name_key_of(&key, &s));
        prop_assert_eq!(is_name_key_of(&name_key(&other), &s), name_key(&other) == key);
        prop_assert_eq!(is_name_key_of(&s, &s), s == key);
        prop_assert_eq!(has_ascii_lower_case_key(&s), key == s.to_ascii_lowercase());
        let padded = format!(" {s}");
        prop_assert_eq!(has_ascii_lower_case_key(&padded), name_key(&padded) == padded.to_ascii_lowercase());
    }

    #[test]
    fn name_key_ignores_upper_casing(s in any_text()) {
        prop_assume!(!upper_case_breaks_caseless_match(&s));
        prop_assert_eq!(name_key(&s.to_uppercase()), name_key(&s));
    }

    #[test]
    fn name_key_ignores_lower_casing(s in any_text()) {
        prop_assume!(!s.chars().any(case_pair_newer_than_fold_table));
        prop_assert_eq!(name_key(&s.to_lowercase()), name_key(&s));
    }

    #[test]
    fn name_key_ignores_normalisation(s in any_text()) {
        let nfc: String = s.nfc().collect();
        let nfd: String = s.nfd().collect();
        prop_assert_eq!(name_key(&nfc), name_key(&nfd));
        prop_assert_eq!(name_key(&nfc), name_key(&s));
    }

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
