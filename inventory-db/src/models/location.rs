//! Locations: the rows of `locations`, and the shapes the library hands out.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use inventory_core::{LocationId, LocationType};
use serde::Serialize;

use crate::error::DbError;
use crate::schema::locations;

/// A location as stored, without its path (internal row type).
#[derive(Clone, Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = locations)]
pub(crate) struct LocationRecord {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub location_type: String,
    pub parent_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl LocationRecord {
    pub(crate) fn kind(&self) -> Result<LocationType, DbError> {
        self.location_type.parse().map_err(|e| {
            DbError::Query(format!(
                "location {} has a bad type in the database: {e}",
                self.id
            ))
        })
    }

    pub(crate) fn into_location(self, full_path: String) -> Result<Location, DbError> {
        Ok(Location {
            location_type: self.kind()?,
            id: self.id,
            name: self.name,
            description: self.description,
            parent_id: self.parent_id,
            full_path,
            created_at: super::utc(self.created_at),
            updated_at: super::utc(self.updated_at),
        })
    }
}

/// Insert row for `locations`.
#[derive(Debug, Insertable)]
#[diesel(table_name = locations)]
pub(crate) struct LocationInsert<'a> {
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub location_type: &'a str,
    pub parent_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A location with its full path: the JSON shape of PRODUCT §3.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Primary key.
    pub id: LocationId,
    /// Name, unique among its siblings (case-insensitively).
    pub name: String,
    /// Optional free text.
    pub description: Option<String>,
    /// HOUSE, ROOM, CONTAINER or SHELF.
    pub location_type: LocationType,
    /// The parent, `None` for a root.
    pub parent_id: Option<LocationId>,
    /// Ancestor names and its own, joined by ` / `.
    pub full_path: String,
    /// When it was created (UTC).
    pub created_at: DateTime<Utc>,
    /// When it last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

/// An ancestor in a [`LocationDetail`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LocationSummary {
    /// Primary key.
    pub id: LocationId,
    /// Name.
    pub name: String,
    /// Type.
    pub location_type: LocationType,
}

/// A location with its ancestors (root first) and how many children it has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LocationDetail {
    /// The location itself.
    #[serde(flatten)]
    pub location: Location,
    /// From the root down to the parent.
    pub ancestors: Vec<LocationSummary>,
    /// Number of direct children.
    pub child_count: i64,
}

/// What to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewLocation {
    /// Name (trimmed and validated).
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// Type, checked against the parent's by the type rules.
    pub location_type: LocationType,
    /// Parent, or `None` for a root.
    pub parent_id: Option<LocationId>,
}

/// What to change; `None` leaves a field as it is. `description: Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocationChanges {
    /// New name.
    pub name: Option<String>,
    /// New description, or `Some(None)` to clear it.
    pub description: Option<Option<String>>,
    /// New type; re-checked against the parent and every child.
    pub location_type: Option<LocationType>,
}

impl LocationChanges {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.description.is_none() && self.location_type.is_none()
    }
}

/// Filters for listing locations; all given filters must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocationFilter {
    /// Only this type.
    pub location_type: Option<LocationType>,
    /// Only roots (no parent).
    pub roots_only: bool,
    /// Only direct children of this location.
    pub parent_id: Option<LocationId>,
    /// Only names containing this text (case-insensitive).
    pub name_contains: Option<String>,
}

/// A location and its children, for `tree`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TreeNode {
    /// The location.
    #[serde(flatten)]
    pub location: Location,
    /// Children, ordered by name.
    pub children: Vec<TreeNode>,
}

impl TreeNode {
    /// Number of nodes in this subtree, itself included.
    pub fn count(&self) -> usize {
        let mut n = 0;
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            n += 1;
            stack.extend(node.children.iter());
        }
        n
    }
}

/// What a delete removed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeleteOutcome {
    /// The location removed (with everything under it).
    pub id: LocationId,
    /// How many locations were removed in all, itself included.
    pub locations_deleted: u64,
    /// How many items were moved to the parent or deleted with it.
    pub items_affected: u64,
}
