//! The wire format: every JSON body the API reads or writes. These types are the API's
//! boundary — the handlers convert inventory-db's results into them (`From`) and read
//! requests into them — so that the JSON shapes (PRODUCT §3/§4) and the OpenAPI schemas
//! come from one declaration, and a change in the library cannot change the wire silently.
//!
//! Request bodies refuse unknown fields. In `PATCH` bodies an absent field is left as it
//! is and `null` clears a nullable one ([`nullable`]); `null` for a field that cannot be
//! empty is refused ([`present`]). String fields declare the core's rules as JSON Schema
//! patterns (at least one character that is not a space, no control characters, no `/` in
//! a location name) so that generated clients and fuzzers send what the server accepts.

use chrono::{DateTime, NaiveDate, Utc};
use inventory_core::{LocationId, LocationType, Role, Scope};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

// Schema-only mirrors of the core's enums (the wire carries the core types themselves).

/// The kind of a location; the type rules say which may nest (HOUSE only at the root, ROOM
/// under a HOUSE, SHELF under a ROOM or CONTAINER, CONTAINER under a ROOM, SHELF or
/// CONTAINER).
#[derive(ToSchema)]
#[schema(as = LocationType)]
#[allow(dead_code, clippy::upper_case_acronyms)]
pub(crate) enum LocationTypeSchema {
    HOUSE,
    ROOM,
    CONTAINER,
    SHELF,
}

/// What a user may do: `admin` (everything), `member` (read and write the inventory),
/// `viewer` (read).
#[derive(ToSchema)]
#[schema(as = Role)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub(crate) enum RoleSchema {
    Admin,
    Member,
    Viewer,
}

/// What a token may do on top of its owner's role: `read` (GET only) or `write` (what the
/// role allows).
#[derive(ToSchema)]
#[schema(as = Scope)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub(crate) enum ScopeSchema {
    Read,
    Write,
}

/// What a request may do: role ∩ scope.
#[derive(ToSchema)]
#[schema(as = Permission)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub(crate) enum PermissionSchema {
    Read,
    Write,
    Admin,
}

/// A field of a `PATCH` body that may be cleared: absent → `None` (unchanged), `null` →
/// `Some(None)` (cleared), a value → `Some(Some(v))`. Use with `#[serde(default)]`.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A field of a `PATCH` body that may be left out but not cleared: absent → `None`, `null`
/// refused. Use with `#[serde(default)]`.
pub fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// A field that must be given but may be `null` (serde would take a missing `Option` for
/// `null`).
pub fn required_nullable<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d)
}

/// One page of a list, and the cursor that continues it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    /// The records of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page (opaque).
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> Page<T> {
    /// A whole list on one page.
    pub fn all(items: Vec<T>) -> Self {
        Page {
            items,
            next_cursor: None,
        }
    }

    /// A page of the library's, converted.
    pub fn from_db<U>(page: inventory_db::Page<U>) -> Self
    where
        T: From<U>,
    {
        Page {
            items: page.items.into_iter().map(T::from).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Locations

/// A location (PRODUCT §3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Location {
    /// Primary key.
    pub id: LocationId,
    /// Unique among its siblings, ignoring case.
    #[schema(example = "Kitchen")]
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// HOUSE, ROOM, CONTAINER or SHELF.
    #[schema(value_type = LocationTypeSchema)]
    pub location_type: LocationType,
    /// The parent; `null` for a root.
    pub parent_id: Option<LocationId>,
    /// The names from the root down to this one, joined by ` / `.
    #[schema(example = "My House / Kitchen")]
    pub full_path: String,
    /// When it was created (RFC 3339, UTC).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it last changed (RFC 3339, UTC).
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<inventory_db::Location> for Location {
    fn from(l: inventory_db::Location) -> Self {
        Location {
            id: l.id,
            name: l.name,
            description: l.description,
            location_type: l.location_type,
            parent_id: l.parent_id,
            full_path: l.full_path,
            created_at: l.created_at,
            updated_at: l.updated_at,
        }
    }
}

/// An ancestor of a location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Ancestor {
    /// Its id.
    pub id: LocationId,
    /// Its name.
    pub name: String,
    /// Its type.
    #[schema(value_type = LocationTypeSchema)]
    pub location_type: LocationType,
}

/// The value of some items in one currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct CurrencyValue {
    /// ISO 4217 code.
    #[schema(example = "EUR")]
    pub currency: String,
    /// Sum of price × quantity, in cents (exact).
    #[schema(value_type = i64)]
    pub cents: i128,
    /// The same as a decimal amount.
    #[schema(example = "1234.50")]
    pub amount: String,
}

/// How many items, how many things, and what they are worth.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Totals {
    /// Item records.
    pub count: i64,
    /// Sum of their quantities.
    pub quantity: i64,
    /// Value (price × quantity) per currency; items without a price count for nothing.
    pub value: Vec<CurrencyValue>,
}

impl From<inventory_db::ItemSummary> for Totals {
    fn from(s: inventory_db::ItemSummary) -> Self {
        Totals {
            count: s.items,
            quantity: s.total_quantity,
            value: s
                .value
                .into_iter()
                .map(|v| CurrencyValue {
                    currency: v.currency,
                    cents: v.cents,
                    amount: v.amount,
                })
                .collect(),
        }
    }
}

/// A location with where it is and what is in it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LocationDetail {
    /// The location.
    #[serde(flatten)]
    pub location: Location,
    /// From the root down to the parent.
    pub ancestors: Vec<Ancestor>,
    /// Number of direct children.
    pub children_count: i64,
    /// The items directly in this location.
    pub items_here: Totals,
    /// The items in this location and anywhere below it.
    pub items_below: Totals,
}

/// A location and its sub-locations, nested (`GET /api/v1/locations/{id}/tree`).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TreeNode {
    /// The location.
    #[serde(flatten)]
    pub location: Location,
    /// Its children, ordered by name; empty below the requested depth.
    #[schema(no_recursion)]
    pub children: Vec<TreeNode>,
}

/// A new location.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLocation {
    /// 1–255 characters, no `/`; unique among its siblings, ignoring case.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\x00-\x1f\x7f-\x9f/]*[^\x00-\x1f\x7f-\x9f/\s][^\x00-\x1f\x7f-\x9f/]*$",
        example = "Kitchen"
    )]
    pub name: String,
    /// Free text.
    #[serde(default)]
    #[schema(
        max_length = 10000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub description: Option<String>,
    /// Its type; the parent's type must allow it.
    #[schema(value_type = LocationTypeSchema)]
    pub location_type: LocationType,
    /// The parent; absent or `null` for a root.
    #[serde(default)]
    pub parent_id: Option<LocationId>,
}

/// Changes to a location: absent fields stay as they are.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationPatch {
    /// A new name.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, min_length = 1, max_length = 255, pattern = r"^[^\x00-\x1f\x7f-\x9f/]*[^\x00-\x1f\x7f-\x9f/\s][^\x00-\x1f\x7f-\x9f/]*$")]
    pub name: Option<String>,
    /// A new description; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 10000, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$")]
    pub description: Option<Option<String>>,
    /// A new type (checked against the parent and the children).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = LocationTypeSchema)]
    pub location_type: Option<LocationType>,
    /// A new parent (a move); `null` makes it a root.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub parent_id: Option<Option<LocationId>>,
}

/// Where to move a location.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveLocation {
    /// The new parent, or `null` to make it a root.
    #[serde(deserialize_with = "required_nullable")]
    #[schema(required = true)]
    pub parent_id: Option<LocationId>,
}

/// What a location delete removed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct LocationDeleted {
    /// The location removed, with everything under it.
    pub id: LocationId,
    /// Locations removed in all, itself included.
    pub locations_deleted: u64,
    /// Items moved to the parent or deleted with it.
    pub items_affected: u64,
}

impl From<inventory_db::DeleteOutcome> for LocationDeleted {
    fn from(d: inventory_db::DeleteOutcome) -> Self {
        LocationDeleted {
            id: d.id,
            locations_deleted: d.locations_deleted,
            items_affected: d.items_affected,
        }
    }
}

/// A page of a location's items, with the totals of all of them.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LocationItems {
    /// The items of this page.
    pub items: Vec<Item>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// Count, quantity and value of every item listed (all pages).
    pub totals: Totals,
}

// ---------------------------------------------------------------------------------------
// Items

/// An item (PRODUCT §4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Item {
    /// Primary key.
    pub id: i64,
    /// Its name.
    #[schema(example = "Drill")]
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// How many (0 or more).
    pub quantity: i64,
    /// Where it is.
    pub location_id: LocationId,
    /// That location's full path.
    #[schema(example = "My House / Garage / Toolbox")]
    pub location_path: String,
    /// Its category's name.
    pub category: Option<String>,
    /// Serial number.
    pub serial_number: Option<String>,
    /// When it was bought (`YYYY-MM-DD`).
    #[schema(value_type = Option<String>, format = Date)]
    pub purchase_date: Option<NaiveDate>,
    /// Price of one, in cents of `currency`.
    pub purchase_price_cents: Option<i64>,
    /// ISO 4217 code of the price.
    pub currency: Option<String>,
    /// When the warranty ends (`YYYY-MM-DD`).
    #[schema(value_type = Option<String>, format = Date)]
    pub warranty_expires: Option<NaiveDate>,
    /// Free notes.
    pub notes: Option<String>,
    /// When it was created (RFC 3339, UTC).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it last changed (RFC 3339, UTC).
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<inventory_db::Item> for Item {
    fn from(i: inventory_db::Item) -> Self {
        Item {
            id: i.id,
            name: i.name,
            description: i.description,
            quantity: i.quantity,
            location_id: i.location_id,
            location_path: i.location_path,
            category: i.category,
            serial_number: i.serial_number,
            purchase_date: i.purchase_date,
            purchase_price_cents: i.purchase_price_cents,
            currency: i.currency,
            warranty_expires: i.warranty_expires,
            notes: i.notes,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

/// A new item.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    /// 1–255 characters.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s][^\x00-\x1f\x7f-\x9f]*$",
        example = "Drill"
    )]
    pub name: String,
    /// Where it is.
    pub location_id: LocationId,
    /// How many; 1 when absent.
    #[serde(default = "one")]
    #[schema(minimum = 0, maximum = 1_000_000_000, default = 1)]
    pub quantity: i64,
    /// The name of an existing category.
    #[serde(default)]
    #[schema(
        max_length = 255,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub category: Option<String>,
    /// Free text.
    #[serde(default)]
    #[schema(
        max_length = 10000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub description: Option<String>,
    /// Free notes.
    #[serde(default)]
    #[schema(
        max_length = 10000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub notes: Option<String>,
    /// Serial number.
    #[serde(default)]
    #[schema(
        max_length = 255,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub serial_number: Option<String>,
    /// When it was bought.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub purchase_date: Option<NaiveDate>,
    /// Price of one in cents; needs `currency`.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub purchase_price_cents: Option<i64>,
    /// ISO 4217 code; needs `purchase_price_cents`.
    #[serde(default)]
    #[schema(pattern = r"^[A-Za-z]{3}$", example = "EUR")]
    pub currency: Option<String>,
    /// When the warranty ends (not before the purchase date).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub warranty_expires: Option<NaiveDate>,
}

fn one() -> i64 {
    1
}

impl From<NewItem> for inventory_db::NewItem {
    fn from(n: NewItem) -> Self {
        inventory_db::NewItem {
            name: n.name,
            location_id: n.location_id,
            quantity: n.quantity,
            category: n.category,
            description: n.description,
            notes: n.notes,
            serial_number: n.serial_number,
            purchase_date: n.purchase_date,
            purchase_price_cents: n.purchase_price_cents,
            currency: n.currency,
            warranty_expires: n.warranty_expires,
        }
    }
}

/// Changes to an item: absent fields stay as they are, `null` clears a field.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemPatch {
    /// A new name.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, min_length = 1, max_length = 255, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s][^\x00-\x1f\x7f-\x9f]*$")]
    pub name: Option<String>,
    /// A new quantity.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = i64, minimum = 0, maximum = 1_000_000_000)]
    pub quantity: Option<i64>,
    /// Another location (a move).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = i64)]
    pub location_id: Option<LocationId>,
    /// Another category (by name), or `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 255, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s][^\x00-\x1f\x7f-\x9f]*$")]
    pub category: Option<Option<String>>,
    /// A new description, or `null`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 10000, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$")]
    pub description: Option<Option<String>>,
    /// New notes, or `null`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 10000, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$")]
    pub notes: Option<Option<String>>,
    /// A new serial number, or `null`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 255, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s][^\x00-\x1f\x7f-\x9f]*$")]
    pub serial_number: Option<Option<String>>,
    /// A new purchase date, or `null`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date)]
    pub purchase_date: Option<Option<NaiveDate>>,
    /// A new price, or `null` (clearing the price clears the currency too, and the other
    /// way round).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub purchase_price_cents: Option<Option<i64>>,
    /// A new currency, or `null`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, pattern = r"^[A-Za-z]{3}$")]
    pub currency: Option<Option<String>>,
    /// A new warranty end, or `null`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date)]
    pub warranty_expires: Option<Option<NaiveDate>>,
}

/// Where to move an item.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveItem {
    /// The location it goes to.
    pub location_id: LocationId,
}

/// Several items to move to one location, all or none.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkMove {
    /// The items (1 to 10,000 ids).
    #[schema(min_items = 1, max_items = 10000)]
    pub ids: Vec<i64>,
    /// The location they go to.
    pub location_id: LocationId,
}

/// A search hit (PRODUCT §4).
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct SearchHit {
    /// `item` or `location`.
    #[schema(example = "item")]
    pub kind: String,
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Where it is: an item's location path, a location's own full path.
    pub path: String,
    /// Relevance; higher is better.
    pub rank: f64,
}

impl From<inventory_db::SearchHit> for SearchHit {
    fn from(h: inventory_db::SearchHit) -> Self {
        SearchHit {
            kind: h.kind.to_string(),
            id: h.id,
            name: h.name,
            path: h.path,
            rank: h.rank,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Categories

/// A category.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Category {
    /// Primary key.
    pub id: i64,
    /// Unique, ignoring case.
    #[schema(example = "Tools")]
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// When it was created (RFC 3339, UTC).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it last changed (RFC 3339, UTC).
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<inventory_db::Category> for Category {
    fn from(c: inventory_db::Category) -> Self {
        Category {
            id: c.id,
            name: c.name,
            description: c.description,
            created_at: c.created_at.and_utc(),
            updated_at: c.updated_at.and_utc(),
        }
    }
}

/// A category with how many items are in it (in lists).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CategoryWithCount {
    /// The category.
    #[serde(flatten)]
    pub category: Category,
    /// Items in it.
    pub item_count: i64,
}

impl From<inventory_db::CategoryWithCount> for CategoryWithCount {
    fn from(c: inventory_db::CategoryWithCount) -> Self {
        CategoryWithCount {
            category: c.category.into(),
            item_count: c.items,
        }
    }
}

/// A new category.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    /// 1–255 characters, unique ignoring case.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s][^\x00-\x1f\x7f-\x9f]*$",
        example = "Tools"
    )]
    pub name: String,
    /// Free text.
    #[serde(default)]
    #[schema(
        max_length = 10000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub description: Option<String>,
}

/// Changes to a category.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryPatch {
    /// A new name.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, min_length = 1, max_length = 255, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s][^\x00-\x1f\x7f-\x9f]*$")]
    pub name: Option<String>,
    /// A new description, or `null`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 10000, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$")]
    pub description: Option<Option<String>>,
}

// ---------------------------------------------------------------------------------------
// Users and tokens

/// A user (never a password or its hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct User {
    /// Primary key.
    pub id: i64,
    /// Unique, ignoring case.
    #[schema(example = "ann")]
    pub username: String,
    /// What the user may do.
    #[schema(value_type = RoleSchema)]
    pub role: Role,
    /// When it was created (RFC 3339, UTC).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it last changed (RFC 3339, UTC).
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<inventory_db::User> for User {
    fn from(u: inventory_db::User) -> Self {
        User {
            id: u.id,
            username: u.username,
            role: u.role,
            created_at: u.created_at.and_utc(),
            updated_at: u.updated_at.and_utc(),
        }
    }
}

/// A new user.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 1–64 letters, digits, `.`, `_`, `-`; unique ignoring case.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[\p{L}\p{N}._-]+$",
        example = "ann"
    )]
    pub username: String,
    /// 8–1024 characters.
    #[schema(min_length = 8, max_length = 1024, format = Password)]
    pub password: String,
    /// What the user may do.
    #[schema(value_type = RoleSchema)]
    pub role: Role,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Changes to a user.
#[derive(Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// A new role.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = RoleSchema)]
    pub role: Option<Role>,
    /// A new password (8–1024 characters).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, min_length = 8, max_length = 1024, format = Password)]
    pub password: Option<String>,
}

impl std::fmt::Debug for UserPatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserPatch")
            .field("role", &self.role)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// An API token as listed: never its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Token {
    /// Primary key.
    pub id: i64,
    /// Whose it is.
    pub user_id: i64,
    /// What it is for.
    pub label: Option<String>,
    /// Its first characters, to recognise it.
    #[schema(example = "hinv_3f9a1c")]
    pub prefix: String,
    /// What it may do on top of its owner's role.
    #[schema(value_type = ScopeSchema)]
    pub scope: Scope,
    /// When it was created (RFC 3339, UTC).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it stops working; `null`: never.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it last authenticated a request (updated at most once a minute).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked; a revoked token authenticates nobody.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<inventory_db::ApiToken> for Token {
    fn from(t: inventory_db::ApiToken) -> Self {
        Token {
            id: t.id,
            user_id: t.user_id,
            label: t.label,
            prefix: t.prefix,
            scope: t.scope,
            created_at: t.created_at.and_utc(),
            expires_at: t.expires_at.map(|at| at.and_utc()),
            last_used_at: t.last_used_at.map(|at| at.and_utc()),
            revoked_at: t.revoked_at.map(|at| at.and_utc()),
        }
    }
}

impl Token {
    /// The token's version: it changes only when the token is revoked (inventory-db's
    /// `ops::versions`).
    pub fn version(&self) -> DateTime<Utc> {
        self.revoked_at.unwrap_or(self.created_at)
    }
}

/// A token just created: the only time its secret is shown.
#[derive(Clone, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The token.
    #[serde(flatten)]
    pub token: Token,
    /// Send it as `Authorization: Bearer SECRET`. Shown this once; only its hash is kept.
    #[schema(example = "hinv_3f9a1c…")]
    pub secret: String,
}

impl std::fmt::Debug for CreatedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedToken")
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

/// A new API token.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What it is for.
    #[serde(default)]
    #[schema(
        max_length = 255,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$",
        example = "backup script"
    )]
    pub label: Option<String>,
    /// `read` or `write` (the default).
    #[serde(default)]
    #[schema(value_type = Option<ScopeSchema>)]
    pub scope: Option<Scope>,
    /// Days until it stops working (1–3650); absent or `null`: never.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650, example = 90)]
    pub expires_in_days: Option<u32>,
    /// Whose token it is (admins only; yourself when absent).
    #[serde(default)]
    pub user_id: Option<i64>,
}

// ---------------------------------------------------------------------------------------
// Reports

/// The rows of one table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct TableRows {
    /// Table name.
    #[schema(example = "items")]
    pub table: String,
    /// Number of rows.
    pub rows: i64,
}

/// The items of a house or a room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PlaceTotals {
    /// The location.
    pub id: LocationId,
    /// Its name.
    pub name: String,
    /// Its type.
    #[schema(value_type = LocationTypeSchema)]
    pub location_type: LocationType,
    /// Its parent: `null` for a house, the house for a room.
    pub parent_id: Option<LocationId>,
    /// Its full path.
    pub full_path: String,
    /// The items in it and anywhere below it.
    pub items: Totals,
}

impl From<inventory_db::PlaceTotals> for PlaceTotals {
    fn from(p: inventory_db::PlaceTotals) -> Self {
        PlaceTotals {
            id: p.id,
            name: p.name,
            location_type: p.location_type,
            parent_id: p.parent_id,
            full_path: p.full_path,
            items: p.totals.into(),
        }
    }
}

/// Rows per table and item totals.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Stats {
    /// Rows per table.
    pub tables: Vec<TableRows>,
    /// Every item.
    pub items: Totals,
    /// Per house (each root location), by name.
    pub houses: Vec<PlaceTotals>,
    /// Per room (each location directly under a house), by house and name.
    pub rooms: Vec<PlaceTotals>,
}

impl From<inventory_db::InventoryReport> for Stats {
    fn from(r: inventory_db::InventoryReport) -> Self {
        Stats {
            tables: r
                .tables
                .into_iter()
                .map(|t| TableRows {
                    table: t.table,
                    rows: t.rows,
                })
                .collect(),
            items: r.overall.into(),
            houses: r.houses.into_iter().map(PlaceTotals::from).collect(),
            rooms: r.rooms.into_iter().map(PlaceTotals::from).collect(),
        }
    }
}

/// One check the database engine ran on itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct EngineCheck {
    /// Which check (`quick_check`, `foreign_key_check`, `name_keys`, …).
    pub name: String,
    /// True when it found nothing.
    pub ok: bool,
    /// What it found.
    pub problems: Vec<String>,
}

/// The integrity check: the location tree's analysis plus the engine's own checks.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Integrity {
    /// True when nothing at all was found.
    pub clean: bool,
    /// Number of findings.
    pub findings: usize,
    /// The tree analysis: `rows`, `duplicate_ids`, `orphans`, `cycles`, `unreachable`,
    /// `type_violations`, `duplicate_names` (each finding with location ids).
    #[schema(value_type = Object)]
    pub report: inventory_core::IntegrityReport,
    /// Full paths (best effort) of the locations named in a finding, by id.
    #[schema(value_type = Object)]
    pub paths: std::collections::BTreeMap<LocationId, String>,
    /// The engine's checks.
    pub engine: Vec<EngineCheck>,
}

impl From<inventory_db::admin::IntegrityOutcome> for Integrity {
    fn from(o: inventory_db::admin::IntegrityOutcome) -> Self {
        Integrity {
            clean: o.is_clean(),
            findings: o.finding_count(),
            engine: o
                .engine
                .into_iter()
                .map(|c| EngineCheck {
                    name: c.name,
                    ok: c.ok,
                    problems: c.problems,
                })
                .collect(),
            report: o.report,
            paths: o.paths,
        }
    }
}

/// What an import created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ImportSummary {
    /// Items created.
    pub items: u64,
    /// Locations created (with `create_locations=true`).
    pub locations_created: u64,
    /// Categories created.
    pub categories_created: u64,
}

impl From<inventory_db::csv_io::ImportSummary> for ImportSummary {
    fn from(s: inventory_db::csv_io::ImportSummary) -> Self {
        ImportSummary {
            items: s.items,
            locations_created: s.locations_created,
            categories_created: s.categories_created,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_fields_tell_absent_null_and_value_apart() {
        let p: ItemPatch = serde_json::from_str(r#"{"notes": null, "name": "Saw"}"#).unwrap();
        assert_eq!(p.notes, Some(None));
        assert_eq!(p.name.as_deref(), Some("Saw"));
        assert_eq!(p.description, None);
        assert!(serde_json::from_str::<ItemPatch>(r#"{"name": null}"#).is_err());
        assert!(serde_json::from_str::<ItemPatch>(r#"{"colour": "red"}"#).is_err());
    }

    #[test]
    fn a_move_names_its_parent_or_null() {
        let m: MoveLocation = serde_json::from_str(r#"{"parent_id": null}"#).unwrap();
        assert_eq!(m.parent_id, None);
        let m: MoveLocation = serde_json::from_str(r#"{"parent_id": 7}"#).unwrap();
        assert_eq!(m.parent_id, Some(7));
        assert!(serde_json::from_str::<MoveLocation>("{}").is_err());
    }

    #[test]
    fn secrets_are_not_in_debug_output() {
        let user: NewUser = serde_json::from_str(
            r#"{"username":"ann","password":"hunter2hunter2","role":"admin"}"#,
        )
        .unwrap();
        assert!(!format!("{user:?}").contains("hunter2"));
        let patch: UserPatch = serde_json::from_str(r#"{"password":"hunter2hunter2"}"#).unwrap();
        assert!(!format!("{patch:?}").contains("hunter2"));
    }
}
