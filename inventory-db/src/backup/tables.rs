//! The tables a backup holds: one typed row struct per table and the registry in dependency order.
//!
//! Adding a table: a row struct here implementing [`BackupRow`], its entry in [`TABLES`]
//! (after the tables it references), a field in [`Snapshot`] with a line in each of its
//! `match`es, its read/delete/insert lines in `backup/queries.rs`, and its sequence in
//! `sql/*/reset_sequences.sql`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Timelike, Utc};
use diesel::prelude::*;

use crate::schema::{api_tokens, categories, items, locations, users};

/// A table as the backup format names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TableSpec {
    /// Table name.
    pub name: &'static str,
    /// Columns, in the order of the values on each row line.
    pub columns: &'static [&'static str],
}

/// Every table, parents before children: backups write them in this order, restores
/// insert in this order and delete in the reverse order.
pub(crate) const TABLES: &[TableSpec] = &[
    LocationData::SPEC,
    CategoryData::SPEC,
    ItemData::SPEC,
    UserData::SPEC,
    ApiTokenData::SPEC,
];

/// A row type of the backup: one JSON array per line, values in [`TableSpec::columns`] order.
pub(crate) trait BackupRow: Sized {
    /// The table.
    const SPEC: TableSpec;
    /// The primary key (rows are written in its order).
    fn key(&self) -> i64;
    /// Appends the row's JSON array (no newline).
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error>;
    /// Parses one row line.
    fn decode(line: &str) -> Result<Self, String>;
}

/// Timestamps in one normalized form: RFC 3339, UTC, microseconds, `Z`.
pub(crate) fn format_timestamp(t: NaiveDateTime) -> String {
    t.and_utc().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Parses any RFC 3339 timestamp, converted to UTC and cut to microseconds (what both
/// backends store exactly).
pub(crate) fn parse_timestamp(column: &str, s: &str) -> Result<NaiveDateTime, String> {
    let t = DateTime::parse_from_rfc3339(s)
        .map_err(|e| format!("{column} \"{s}\" is not an RFC 3339 timestamp: {e}"))?
        .with_timezone(&Utc)
        .naive_utc();
    Ok(t.with_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t))
}

/// Optional timestamps: `null` or [`format_timestamp`].
fn format_opt_timestamp(t: Option<NaiveDateTime>) -> Option<String> {
    t.map(format_timestamp)
}

/// [`parse_timestamp`] of an optional value.
fn parse_opt_timestamp(column: &str, s: Option<String>) -> Result<Option<NaiveDateTime>, String> {
    s.map(|s| parse_timestamp(column, &s)).transpose()
}

/// Dates in one normalized form: `YYYY-MM-DD`.
pub(crate) fn format_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Parses a `YYYY-MM-DD` date (only that form).
pub(crate) fn parse_date(column: &str, s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|d| format_date(*d) == s)
        .ok_or_else(|| format!("{column} \"{s}\" is not a date in the form YYYY-MM-DD"))
}

/// [`parse_date`] of an optional value.
fn parse_opt_date(column: &str, s: Option<String>) -> Result<Option<NaiveDate>, String> {
    s.map(|s| parse_date(column, &s)).transpose()
}

/// A full row of `locations`.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = locations, treat_none_as_default_value = false)]
pub(crate) struct LocationData {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub location_type: String,
    pub parent_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

type LocationTuple = (
    i64,
    String,
    Option<String>,
    String,
    Option<i64>,
    String,
    String,
);

impl BackupRow for LocationData {
    const SPEC: TableSpec = TableSpec {
        name: "locations",
        columns: &[
            "id",
            "name",
            "description",
            "location_type",
            "parent_id",
            "created_at",
            "updated_at",
        ],
    };

    fn key(&self) -> i64 {
        self.id
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        serde_json::to_writer(
            out,
            &(
                self.id,
                &self.name,
                &self.description,
                &self.location_type,
                self.parent_id,
                format_timestamp(self.created_at),
                format_timestamp(self.updated_at),
            ),
        )
    }

    fn decode(line: &str) -> Result<Self, String> {
        let (id, name, description, location_type, parent_id, created, updated): LocationTuple =
            serde_json::from_str(line).map_err(|e| format!("bad locations row: {e}"))?;
        Ok(LocationData {
            id,
            name,
            description,
            location_type,
            parent_id,
            created_at: parse_timestamp("created_at", &created)?,
            updated_at: parse_timestamp("updated_at", &updated)?,
        })
    }
}

/// A full row of `categories`.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = categories, treat_none_as_default_value = false)]
pub(crate) struct CategoryData {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

type CategoryTuple = (i64, String, Option<String>, String, String);

impl BackupRow for CategoryData {
    const SPEC: TableSpec = TableSpec {
        name: "categories",
        columns: &["id", "name", "description", "created_at", "updated_at"],
    };

    fn key(&self) -> i64 {
        self.id
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        serde_json::to_writer(
            out,
            &(
                self.id,
                &self.name,
                &self.description,
                format_timestamp(self.created_at),
                format_timestamp(self.updated_at),
            ),
        )
    }

    fn decode(line: &str) -> Result<Self, String> {
        let (id, name, description, created, updated): CategoryTuple =
            serde_json::from_str(line).map_err(|e| format!("bad categories row: {e}"))?;
        Ok(CategoryData {
            id,
            name,
            description,
            created_at: parse_timestamp("created_at", &created)?,
            updated_at: parse_timestamp("updated_at", &updated)?,
        })
    }
}

/// A full row of `items`.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = items, treat_none_as_default_value = false)]
pub(crate) struct ItemData {
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

type ItemTuple = (
    i64,
    String,
    Option<String>,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
);

impl BackupRow for ItemData {
    const SPEC: TableSpec = TableSpec {
        name: "items",
        columns: &[
            "id",
            "name",
            "description",
            "quantity",
            "location_id",
            "category_id",
            "serial_number",
            "purchase_date",
            "purchase_price_cents",
            "currency",
            "warranty_expires",
            "notes",
            "created_at",
            "updated_at",
        ],
    };

    fn key(&self) -> i64 {
        self.id
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        serde_json::to_writer(
            out,
            &(
                self.id,
                &self.name,
                &self.description,
                self.quantity,
                self.location_id,
                self.category_id,
                &self.serial_number,
                self.purchase_date.map(format_date),
                self.purchase_price_cents,
                &self.currency,
                self.warranty_expires.map(format_date),
                &self.notes,
                format_timestamp(self.created_at),
                format_timestamp(self.updated_at),
            ),
        )
    }

    fn decode(line: &str) -> Result<Self, String> {
        let (
            id,
            name,
            description,
            quantity,
            location_id,
            category_id,
            serial_number,
            purchase_date,
            purchase_price_cents,
            currency,
            warranty_expires,
            notes,
            created,
            updated,
        ): ItemTuple = serde_json::from_str(line).map_err(|e| format!("bad items row: {e}"))?;
        Ok(ItemData {
            id,
            name,
            description,
            quantity,
            location_id,
            category_id,
            serial_number,
            purchase_date: parse_opt_date("purchase_date", purchase_date)?,
            purchase_price_cents,
            currency,
            warranty_expires: parse_opt_date("warranty_expires", warranty_expires)?,
            notes,
            created_at: parse_timestamp("created_at", &created)?,
            updated_at: parse_timestamp("updated_at", &updated)?,
        })
    }
}

/// A full row of `users` (the password hash is an argon2 PHC string, copied as is).
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
pub(crate) struct UserData {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

type UserTuple = (i64, String, String, String, String, String);

impl BackupRow for UserData {
    const SPEC: TableSpec = TableSpec {
        name: "users",
        columns: &[
            "id",
            "username",
            "password_hash",
            "role",
            "created_at",
            "updated_at",
        ],
    };

    fn key(&self) -> i64 {
        self.id
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        serde_json::to_writer(
            out,
            &(
                self.id,
                &self.username,
                &self.password_hash,
                &self.role,
                format_timestamp(self.created_at),
                format_timestamp(self.updated_at),
            ),
        )
    }

    fn decode(line: &str) -> Result<Self, String> {
        let (id, username, password_hash, role, created, updated): UserTuple =
            serde_json::from_str(line).map_err(|e| format!("bad users row: {e}"))?;
        Ok(UserData {
            id,
            username,
            password_hash,
            role,
            created_at: parse_timestamp("created_at", &created)?,
            updated_at: parse_timestamp("updated_at", &updated)?,
        })
    }
}

/// A full row of `api_tokens` (only the token's SHA-256 is stored, never the token).
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_tokens, treat_none_as_default_value = false)]
pub(crate) struct ApiTokenData {
    pub id: i64,
    pub user_id: i64,
    pub label: Option<String>,
    pub token_hash: String,
    pub prefix: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

type ApiTokenTuple = (
    i64,
    i64,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

impl BackupRow for ApiTokenData {
    const SPEC: TableSpec = TableSpec {
        name: "api_tokens",
        columns: &[
            "id",
            "user_id",
            "label",
            "token_hash",
            "prefix",
            "created_at",
            "last_used_at",
            "revoked_at",
        ],
    };

    fn key(&self) -> i64 {
        self.id
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        serde_json::to_writer(
            out,
            &(
                self.id,
                self.user_id,
                &self.label,
                &self.token_hash,
                &self.prefix,
                format_timestamp(self.created_at),
                format_opt_timestamp(self.last_used_at),
                format_opt_timestamp(self.revoked_at),
            ),
        )
    }

    fn decode(line: &str) -> Result<Self, String> {
        let (id, user_id, label, token_hash, prefix, created, last_used, revoked): ApiTokenTuple =
            serde_json::from_str(line).map_err(|e| format!("bad api_tokens row: {e}"))?;
        Ok(ApiTokenData {
            id,
            user_id,
            label,
            token_hash,
            prefix,
            created_at: parse_timestamp("created_at", &created)?,
            last_used_at: parse_opt_timestamp("last_used_at", last_used)?,
            revoked_at: parse_opt_timestamp("revoked_at", revoked)?,
        })
    }
}

/// Every row of every table, each table ordered by primary key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Snapshot {
    /// `locations` rows.
    pub locations: Vec<LocationData>,
    /// `categories` rows.
    pub categories: Vec<CategoryData>,
    /// `items` rows.
    pub items: Vec<ItemData>,
    /// `users` rows.
    pub users: Vec<UserData>,
    /// `api_tokens` rows.
    pub api_tokens: Vec<ApiTokenData>,
}

impl Snapshot {
    /// Rows per table, in [`TABLES`] order.
    pub(crate) fn counts(&self) -> Vec<(&'static str, u64)> {
        TABLES
            .iter()
            .map(|t| {
                let n = match t.name {
                    "locations" => self.locations.len(),
                    "categories" => self.categories.len(),
                    "items" => self.items.len(),
                    "users" => self.users.len(),
                    "api_tokens" => self.api_tokens.len(),
                    _ => 0,
                };
                (t.name, n as u64)
            })
            .collect()
    }

    /// Every row's line of table `index` of [`TABLES`], in key order, each passed to `f`.
    pub(crate) fn for_each_line(
        &self,
        index: usize,
        mut f: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        fn each<R: BackupRow>(
            rows: &[R],
            f: &mut impl FnMut(&[u8]) -> std::io::Result<()>,
        ) -> std::io::Result<()> {
            let mut buf = Vec::with_capacity(256);
            for row in rows {
                buf.clear();
                row.encode(&mut buf)?;
                f(&buf)?;
            }
            Ok(())
        }
        match TABLES.get(index).map(|t| t.name) {
            Some("locations") => each(&self.locations, &mut f),
            Some("categories") => each(&self.categories, &mut f),
            Some("items") => each(&self.items, &mut f),
            Some("users") => each(&self.users, &mut f),
            Some("api_tokens") => each(&self.api_tokens, &mut f),
            _ => Ok(()),
        }
    }

    /// Parses one row line of table `index` of [`TABLES`] and appends it.
    pub(crate) fn push_line(&mut self, index: usize, line: &str) -> Result<(), String> {
        match TABLES.get(index).map(|t| t.name) {
            Some("locations") => self.locations.push(LocationData::decode(line)?),
            Some("categories") => self.categories.push(CategoryData::decode(line)?),
            Some("items") => self.items.push(ItemData::decode(line)?),
            Some("users") => self.users.push(UserData::decode(line)?),
            Some("api_tokens") => self.api_tokens.push(ApiTokenData::decode(line)?),
            _ => return Err("row of an unknown table".into()),
        }
        Ok(())
    }

    /// The primary keys of table `index`, in stored order (for the order check).
    pub(crate) fn keys(&self, index: usize) -> Vec<i64> {
        fn keys<R: BackupRow>(rows: &[R]) -> Vec<i64> {
            rows.iter().map(BackupRow::key).collect()
        }
        match TABLES.get(index).map(|t| t.name) {
            Some("locations") => keys(&self.locations),
            Some("categories") => keys(&self.categories),
            Some("items") => keys(&self.items),
            Some("users") => keys(&self.users),
            Some("api_tokens") => keys(&self.api_tokens),
            _ => Vec::new(),
        }
    }
}
