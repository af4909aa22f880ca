//! Items and categories: rows of `items` and `categories`, and the shapes handed out.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use inventory_core::{CategoryId, ItemId, LocationId};
use serde::Serialize;

use crate::schema::{categories, items};

/// An item as stored (internal row type).
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = items)]
pub(crate) struct ItemRecord {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub quantity: i64,
    pub location_id: i64,
    pub category_id: Option<i64>,
    pub serial_number: Option<String>,
    pub purchase_date: Option<NaiveDate>,
    pub purchase_price_cents: Option<i64>,
    pub currency: Option<String>,
    pub warranty_expires: Option<NaiveDate>,
    pub notes: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ItemRecord {
    pub(crate) fn into_item(self, location_path: String, category: Option<String>) -> Item {
        Item {
            id: self.id,
            name: self.name,
            description: self.description,
            quantity: self.quantity,
            location_id: self.location_id,
            location_path,
            category,
            serial_number: self.serial_number,
            purchase_date: self.purchase_date,
            purchase_price_cents: self.purchase_price_cents,
            currency: self.currency,
            warranty_expires: self.warranty_expires,
            notes: self.notes,
            created_at: super::utc(self.created_at),
            updated_at: super::utc(self.updated_at),
        }
    }
}

/// Insert row for `items`.
#[derive(Debug, Insertable)]
#[diesel(table_name = items, treat_none_as_default_value = false)]
pub(crate) struct ItemInsert {
    pub name: String,
    pub description: Option<String>,
    pub quantity: i64,
    pub location_id: i64,
    pub category_id: Option<i64>,
    pub serial_number: Option<String>,
    pub purchase_date: Option<NaiveDate>,
    pub purchase_price_cents: Option<i64>,
    pub currency: Option<String>,
    pub warranty_expires: Option<NaiveDate>,
    pub notes: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// An item with where it is: the JSON shape of PRODUCT §4.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Item {
    /// Primary key.
    pub id: ItemId,
    /// Name.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// How many (0 or more).
    pub quantity: i64,
    /// The location it is in.
    pub location_id: LocationId,
    /// That location's full path.
    pub location_path: String,
    /// Category name, if any.
    pub category: Option<String>,
    /// Serial number.
    pub serial_number: Option<String>,
    /// Purchase date.
    pub purchase_date: Option<NaiveDate>,
    /// Price paid for one, in cents of `currency`.
    pub purchase_price_cents: Option<i64>,
    /// ISO 4217 code of the price.
    pub currency: Option<String>,
    /// When the warranty ends.
    pub warranty_expires: Option<NaiveDate>,
    /// Free notes.
    pub notes: Option<String>,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

/// What to create. Text fields are trimmed and validated; empty optional text means none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewItem {
    /// Name.
    pub name: String,
    /// Where it is.
    pub location_id: LocationId,
    /// How many; 1 is the usual default.
    pub quantity: i64,
    /// Category name; it must exist.
    pub category: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// Serial number.
    pub serial_number: Option<String>,
    /// Purchase date.
    pub purchase_date: Option<NaiveDate>,
    /// Price of one in cents, with its currency (both or neither).
    pub purchase_price_cents: Option<i64>,
    /// Currency of the price.
    pub currency: Option<String>,
    /// Warranty end.
    pub warranty_expires: Option<NaiveDate>,
}

impl NewItem {
    /// An item with just a name and a place (quantity 1).
    pub fn new(name: impl Into<String>, location_id: LocationId) -> Self {
        NewItem {
            name: name.into(),
            location_id,
            quantity: 1,
            category: None,
            description: None,
            notes: None,
            serial_number: None,
            purchase_date: None,
            purchase_price_cents: None,
            currency: None,
            warranty_expires: None,
        }
    }
}

/// What to change; `None` leaves a field, `Some(None)` clears an optional one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemChanges {
    /// New name.
    pub name: Option<String>,
    /// New quantity.
    pub quantity: Option<i64>,
    /// New category (by name) or none.
    pub category: Option<Option<String>>,
    /// New description.
    pub description: Option<Option<String>>,
    /// New notes.
    pub notes: Option<Option<String>>,
    /// New serial number.
    pub serial_number: Option<Option<String>>,
    /// New purchase date.
    pub purchase_date: Option<Option<NaiveDate>>,
    /// New price and currency, or none.
    pub price: Option<Option<(i64, String)>>,
    /// New warranty end.
    pub warranty_expires: Option<Option<NaiveDate>>,
}

/// Which items to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemFilter {
    /// Only items in this location...
    pub location_id: Option<LocationId>,
    /// ...or anywhere below it too.
    pub recursive: bool,
    /// Only items of this category (by name).
    pub category: Option<String>,
}

/// Total value in one currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CurrencyTotal {
    /// ISO 4217 code.
    pub currency: String,
    /// Sum of price × quantity, in cents.
    pub cents: i64,
}

/// Counts and value of the items in a location (and below, when recursive).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ItemSummary {
    /// Item rows.
    pub items: i64,
    /// Sum of quantities.
    pub total_quantity: i64,
    /// Value (price × quantity) per currency; items without a price count for nothing.
    pub value: Vec<CurrencyTotal>,
}

/// What happens to the items inside a location that is deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ItemsOnDelete {
    /// Refuse the delete when the subtree holds items (nothing is lost silently).
    #[default]
    Refuse,
    /// Move them to the deleted location's parent.
    MoveToParent,
    /// Delete them too.
    Delete,
}

/// A category row.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Serialize)]
#[diesel(table_name = categories)]
pub struct Category {
    /// Primary key.
    pub id: CategoryId,
    /// Unique name (case-insensitively).
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// Created (UTC, naive).
    #[serde(serialize_with = "super::serialize_utc")]
    pub created_at: NaiveDateTime,
    /// Last changed (UTC, naive).
    #[serde(serialize_with = "super::serialize_utc")]
    pub updated_at: NaiveDateTime,
}

/// A search hit: PRODUCT §4.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SearchHit {
    /// `item` or `location`.
    pub kind: &'static str,
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Where it is: an item's location path, or a location's own full path.
    pub path: String,
    /// Relevance, higher is better.
    pub rank: f64,
}
