#![doc = include_str!("../README.md")]

pub mod generate;
mod graph;
pub mod integrity;
pub mod item;
pub mod location_type;
pub mod rules;
pub mod tree;
pub mod user;
pub mod validate;

/// The primary key of a location (the `locations.id` column).
pub type LocationId = i64;

pub use integrity::{
    analyze, best_effort_paths, Cycle, DuplicateName, IntegrityReport, Orphan, TypeViolation,
};
pub use item::{
    format_amount, format_price, parse_date, parse_price, validate_category_name,
    validate_currency, validate_dates, validate_item_name, validate_price, validate_price_cents,
    validate_quantity, validate_serial, CategoryId, ItemId,
};
pub use location_type::{LocationType, ParseLocationTypeError};
pub use rules::{RuleViolation, TypeRules};
pub use tree::{
    check_move, parse_location_ref, parse_path, path_keys, preorder_of, Forest, LocationRef,
    LocationRow, MoveError, MoveTarget, TreeError, MAX_PATH_SEGMENTS, PATH_SEPARATOR,
};
pub use user::{validate_password, validate_username, Permission, Role, Scope, UserId};
pub use validate::{
    has_ascii_lower_case_key, is_name_key_of, name_key, validate_description,
    validate_location_name, validate_name, ValidationError, DESCRIPTION_MAX_CHARS, NAME_MAX_CHARS,
};
