//! The four kinds of location ([`LocationType`]) and their text form, shared by the database, the CLI and the API.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What kind of place a location is; the type rules ([`crate::TypeRules`]) say which kinds may nest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LocationType {
    /// A building; the root of a home.
    House,
    /// A room inside a house.
    Room,
    /// Anything that holds things: a box, a drawer, a cupboard.
    Container,
    /// A shelf in a room or inside a container.
    Shelf,
}

impl LocationType {
    /// Every location type, in declaration order (also the order of [`Ord`]).
    pub const ALL: [LocationType; 4] = [
        LocationType::House,
        LocationType::Room,
        LocationType::Container,
        LocationType::Shelf,
    ];

    /// The upper-case name stored in the database and shown to users: `HOUSE`, `ROOM`, `CONTAINER`, `SHELF`.
    pub fn as_str(self) -> &'static str {
        match self {
            LocationType::House => "HOUSE",
            LocationType::Room => "ROOM",
            LocationType::Container => "CONTAINER",
            LocationType::Shelf => "SHELF",
        }
    }

    /// Position in [`LocationType::ALL`]; used for the rule table.
    pub(crate) fn index(self) -> usize {
        match self {
            LocationType::House => 0,
            LocationType::Room => 1,
            LocationType::Container => 2,
            LocationType::Shelf => 3,
        }
    }
}

impl fmt::Display for LocationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text did not name a location type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown location type \"{input}\" (expected one of HOUSE, ROOM, CONTAINER, SHELF)")]
pub struct ParseLocationTypeError {
    /// The text as it was given, untrimmed.
    pub input: String,
}

impl FromStr for LocationType {
    type Err = ParseLocationTypeError;

    /// Case-insensitive, surrounding whitespace ignored: `" room "` parses as [`LocationType::Room`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        LocationType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(trimmed))
            .ok_or_else(|| ParseLocationTypeError {
                input: s.to_owned(),
            })
    }
}

impl Serialize for LocationType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for LocationType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl serde::de::Visitor<'_> for Visitor {
            type Value = LocationType;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a location type: HOUSE, ROOM, CONTAINER or SHELF")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<LocationType, E> {
                v.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn display_is_upper_case() {
        let shown: Vec<String> = LocationType::ALL.iter().map(|t| t.to_string()).collect();
        assert_eq!(shown, ["HOUSE", "ROOM", "CONTAINER", "SHELF"]);
    }

    #[test]
    fn parse_ignores_case_and_surrounding_whitespace() {
        assert_eq!(" room\t".parse::<LocationType>(), Ok(LocationType::Room));
        assert_eq!(
            "Container".parse::<LocationType>(),
            Ok(LocationType::Container)
        );
        assert_eq!("shELF".parse::<LocationType>(), Ok(LocationType::Shelf));
    }

    #[test]
    fn parse_of_unknown_type_names_the_input_and_the_choices() {
        let err = "garage".parse::<LocationType>().unwrap_err();
        assert_eq!(err.input, "garage");
        assert_eq!(
            err.to_string(),
            "unknown location type \"garage\" (expected one of HOUSE, ROOM, CONTAINER, SHELF)"
        );
    }

    #[test]
    fn parse_of_empty_text_is_refused() {
        assert!("".parse::<LocationType>().is_err());
        assert!("  ".parse::<LocationType>().is_err());
    }

    #[test]
    fn serializes_as_upper_case_string() {
        assert_eq!(
            serde_json::to_string(&LocationType::Shelf).unwrap(),
            "\"SHELF\""
        );
    }

    #[test]
    fn deserializes_any_casing() {
        let t: LocationType = serde_json::from_str("\"house\"").unwrap();
        assert_eq!(t, LocationType::House);
        assert!(serde_json::from_str::<LocationType>("\"hut\"").is_err());
    }
}
