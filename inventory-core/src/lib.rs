#![doc = include_str!("../README.md")]

pub mod generate;
mod graph;
pub mod integrity;
pub mod location_type;
pub mod rules;
pub mod tree;
pub mod validate;

/// The primary key of a location (the `locations.id` column).
pub type LocationId = i64;

pub use integrity::{
    analyze, best_effort_paths, Cycle, DuplicateName, IntegrityReport, Orphan, TypeViolation,
};
pub use location_type::{LocationType, ParseLocationTypeError};
pub use rules::{RuleViolation, TypeRules};
pub use tree::{Forest, LocationRow, MoveError, TreeError, PATH_SEPARATOR};
pub use validate::{
    name_key, validate_description, validate_location_name, validate_name, ValidationError,
    DESCRIPTION_MAX_CHARS, NAME_MAX_CHARS,
};
