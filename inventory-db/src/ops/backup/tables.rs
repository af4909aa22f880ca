//! The tables a backup holds, in dependency order, over the tables' own row structs.
//!
//! Adding a table: implement [`BackupRow`] for its row struct here (its backup columns and
//! their JSON form, and its database columns for the bulk insert), add a field to
//! [`Snapshot`] and one line to [`Snapshot::tables`] and [`Snapshot::tables_mut`] (after the
//! tables it references), and its sequence to `sql/*/reset_sequences.sql`.

use std::future::Future;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::conn::{db_run, Conn};
use crate::error::DbError;
use crate::models::api_token::ApiTokenRecord;
use crate::models::category::Category;
use crate::models::item::ItemRecord;
use crate::models::location::LocationRecord;
use crate::models::user::UserRecord;
use crate::schema::{api_tokens, categories, items, locations, users};

/// A table as the backup format names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TableSpec {
    /// Table name.
    pub name: &'static str,
    /// Columns of a backup line, in the order of the values on each row line.
    pub columns: &'static [&'static str],
    /// Older column lists a reader still accepts (each a prefix of `columns`; the
    /// columns missing from an old backup take their defaults).
    pub legacy_columns: &'static [&'static [&'static str]],
    /// Every column of the database table and its type, for the bulk insert.
    pub db_columns: &'static [(&'static str, ColumnType)],
}

/// The type of a database column, as the bulk insert converts it from JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ColumnType {
    /// 64-bit integer.
    BigInt,
    /// Text.
    Text,
    /// Timestamp (UTC, microseconds).
    Timestamp,
    /// Date.
    Date,
}

/// A row type of the backup: one JSON array per line, values in [`TableSpec::columns`] order.
pub(crate) trait BackupRow: Sized + Send + Sync {
    /// The table.
    const SPEC: TableSpec;
    /// The primary key (rows are written in its order).
    fn key(&self) -> i64;
    /// Appends the row's backup line (a JSON array, no newline).
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error>;
    /// Parses one backup line written with `columns` columns (the current or a legacy list).
    fn decode(columns: usize, line: &str) -> Result<Self, String>;
    /// Appends the row's database values (a JSON array in [`TableSpec::db_columns`] order).
    fn db_values(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error>;
    /// Every row of the table, by primary key.
    fn read_all(conn: &mut Conn) -> impl Future<Output = Result<Vec<Self>, DbError>> + Send;
}

/// Timestamps in one normalized form: RFC 3339, UTC, microseconds, `Z`.
pub(crate) fn format_timestamp(t: NaiveDateTime) -> String {
    t.and_utc().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Parses any RFC 3339 timestamp, converted to UTC and cut to microseconds (what both
/// backends store exactly). The year must stay within 1..=9999 in UTC, the range that the
/// backup format, both engines and every reader agree on.
pub(crate) fn parse_timestamp(column: &str, s: &str) -> Result<NaiveDateTime, String> {
    let t = DateTime::parse_from_rfc3339(s)
        .map_err(|e| format!("{column} \"{s}\" is not an RFC 3339 timestamp: {e}"))?
        .with_timezone(&Utc)
        .naive_utc();
    if !(1..=9999).contains(&t.year()) {
        return Err(format!(
            "{column} \"{s}\" is outside the years 1 to 9999 in UTC"
        ));
    }
    Ok(t.with_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t))
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

/// A timestamp as the bulk insert hands it to the engine: the text diesel stores on
/// SQLite (`%F %T%.f`), which PostgreSQL reads as a timestamp too.
fn db_timestamp(t: NaiveDateTime) -> String {
    t.format("%F %T%.f").to_string()
}

fn db_opt_timestamp(t: Option<NaiveDateTime>) -> Option<String> {
    t.map(db_timestamp)
}

fn db_opt_date(d: Option<NaiveDate>) -> Option<String> {
    d.map(format_date)
}

type LocationLine = (
    i64,
    String,
    Option<String>,
    String,
    Option<i64>,
    String,
    String,
);

impl BackupRow for LocationRecord {
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
        legacy_columns: &[],
        db_columns: &[
            ("id", ColumnType::BigInt),
            ("name", ColumnType::Text),
            ("description", ColumnType::Text),
            ("location_type", ColumnType::Text),
            ("parent_id", ColumnType::BigInt),
            ("created_at", ColumnType::Timestamp),
            ("updated_at", ColumnType::Timestamp),
            ("name_key", ColumnType::Text),
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

    fn decode(_columns: usize, line: &str) -> Result<Self, String> {
        let (id, name, description, location_type, parent_id, created, updated): LocationLine =
            serde_json::from_str(line).map_err(|e| format!("bad locations row: {e}"))?;
        Ok(LocationRecord {
            id,
            name_key: inventory_core::name_key(&name),
            name,
            description,
            location_type,
            parent_id,
            created_at: parse_timestamp("created_at", &created)?,
            updated_at: parse_timestamp("updated_at", &updated)?,
        })
    }

    fn db_values(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        serde_json::to_writer(
            out,
            &(
                self.id,
                &self.name,
                &self.description,
                &self.location_type,
                self.parent_id,
                db_timestamp(self.created_at),
                db_timestamp(self.updated_at),
                &self.name_key,
            ),
        )
    }

    async fn read_all(conn: &mut Conn) -> Result<Vec<Self>, DbError> {
        Ok(db_run!(conn, |c| {
            let query = locations::table
                .select(Self::as_select())
                .order(locations::id);
            query.load(c).await
        })?)
    }
}

type CategoryLine = (i64, String, Option<String>, String, String);

impl BackupRow for Category {
    const SPEC: TableSpec = TableSpec {
        name: "categories",
        columns: &["id", "name", "description", "created_at", "updated_at"],
        legacy_columns: &[],
        db_columns: &[
            ("id", ColumnType::BigInt),
            ("name", ColumnType::Text),
            ("description", ColumnType::Text),
            ("created_at", ColumnType::Timestamp),
            ("updated_at", ColumnType::Timestamp),
            ("name_key", ColumnType::Text),
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
                format_timestamp(self.created_at),
                format_timestamp(self.updated_at),
            ),
        )
    }

    fn decode(_columns: usize, line: &str) -> Result<Self, String> {
        let (id, name, description, created, updated): CategoryLine =
            serde_json::from_str(line).map_err(|e| format!("bad categories row: {e}"))?;
        Ok(Category {
            id,
            name_key: inventory_core::name_key(&name),
            name,
            description,
            created_at: parse_timestamp("created_at", &created)?,
            updated_at: parse_timestamp("updated_at", &updated)?,
        })
    }

    fn db_values(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        serde_json::to_writer(
            out,
            &(
                self.id,
                &self.name,
                &self.description,
                db_timestamp(self.created_at),
                db_timestamp(self.updated_at),
                &self.name_key,
            ),
        )
    }

    async fn read_all(conn: &mut Conn) -> Result<Vec<Self>, DbError> {
        Ok(db_run!(conn, |c| {
            let query = categories::table
                .select(Self::as_select())
                .order(categories::id);
            query.load(c).await
        })?)
    }
}

type ItemLine = (
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

impl BackupRow for ItemRecord {
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
        legacy_columns: &[],
        db_columns: &[
            ("id", ColumnType::BigInt),
            ("name", ColumnType::Text),
            ("description", ColumnType::Text),
            ("quantity", ColumnType::BigInt),
            ("location_id", ColumnType::BigInt),
            ("category_id", ColumnType::BigInt),
            ("serial_number", ColumnType::Text),
            ("purchase_date", ColumnType::Date),
            ("purchase_price_cents", ColumnType::BigInt),
            ("currency", ColumnType::Text),
            ("warranty_expires", ColumnType::Date),
            ("notes", ColumnType::Text),
            ("created_at", ColumnType::Timestamp),
            ("updated_at", ColumnType::Timestamp),
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

    fn decode(_columns: usize, line: &str) -> Result<Self, String> {
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
        ): ItemLine = serde_json::from_str(line).map_err(|e| format!("bad items row: {e}"))?;
        Ok(ItemRecord {
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

    fn db_values(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
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
                db_opt_date(self.purchase_date),
                self.purchase_price_cents,
                &self.currency,
                db_opt_date(self.warranty_expires),
                &self.notes,
                db_timestamp(self.created_at),
                db_timestamp(self.updated_at),
            ),
        )
    }

    async fn read_all(conn: &mut Conn) -> Result<Vec<Self>, DbError> {
        Ok(db_run!(conn, |c| {
            let query = items::table.select(Self::as_select()).order(items::id);
            query.load(c).await
        })?)
    }
}

type UserLine = (i64, String, String, String, String, String);

impl BackupRow for UserRecord {
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
        legacy_columns: &[],
        db_columns: &[
            ("id", ColumnType::BigInt),
            ("username", ColumnType::Text),
            ("password_hash", ColumnType::Text),
            ("role", ColumnType::Text),
            ("created_at", ColumnType::Timestamp),
            ("updated_at", ColumnType::Timestamp),
            ("username_key", ColumnType::Text),
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

    fn decode(_columns: usize, line: &str) -> Result<Self, String> {
        let (id, username, password_hash, role, created, updated): UserLine =
            serde_json::from_str(line).map_err(|e| format!("bad users row: {e}"))?;
        Ok(UserRecord {
            id,
            username_key: inventory_core::name_key(&username),
            username,
            password_hash,
            role,
            created_at: parse_timestamp("created_at", &created)?,
            updated_at: parse_timestamp("updated_at", &updated)?,
        })
    }

    fn db_values(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        serde_json::to_writer(
            out,
            &(
                self.id,
                &self.username,
                &self.password_hash,
                &self.role,
                db_timestamp(self.created_at),
                db_timestamp(self.updated_at),
                &self.username_key,
            ),
        )
    }

    async fn read_all(conn: &mut Conn) -> Result<Vec<Self>, DbError> {
        Ok(db_run!(conn, |c| {
            let query = users::table.select(Self::as_select()).order(users::id);
            query.load(c).await
        })?)
    }
}

/// The api_tokens columns of backups written before tokens had a scope and an expiry.
const TOKEN_COLUMNS_V1: &[&str] = &[
    "id",
    "user_id",
    "label",
    "token_hash",
    "prefix",
    "created_at",
    "last_used_at",
    "revoked_at",
];

type TokenLineV1 = (
    i64,
    i64,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

type TokenLine = (
    i64,
    i64,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
);

impl BackupRow for ApiTokenRecord {
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
            "scope",
            "expires_at",
        ],
        legacy_columns: &[TOKEN_COLUMNS_V1],
        db_columns: &[
            ("id", ColumnType::BigInt),
            ("user_id", ColumnType::BigInt),
            ("label", ColumnType::Text),
            ("token_hash", ColumnType::Text),
            ("prefix", ColumnType::Text),
            ("created_at", ColumnType::Timestamp),
            ("last_used_at", ColumnType::Timestamp),
            ("revoked_at", ColumnType::Timestamp),
            ("scope", ColumnType::Text),
            ("expires_at", ColumnType::Timestamp),
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
                self.last_used_at.map(format_timestamp),
                self.revoked_at.map(format_timestamp),
                &self.scope,
                self.expires_at.map(format_timestamp),
            ),
        )
    }

    fn decode(columns: usize, line: &str) -> Result<Self, String> {
        let bad = |e: serde_json::Error| format!("bad api_tokens row: {e}");
        let (id, user_id, label, token_hash, prefix, created, last_used, revoked, scope, expires) =
            if columns == TOKEN_COLUMNS_V1.len() {
                let (id, user_id, label, hash, prefix, created, last_used, revoked): TokenLineV1 =
                    serde_json::from_str(line).map_err(bad)?;
                let scope = inventory_core::Scope::Write.as_str().to_string();
                (
                    id, user_id, label, hash, prefix, created, last_used, revoked, scope, None,
                )
            } else {
                let line: TokenLine = serde_json::from_str(line).map_err(bad)?;
                line
            };
        Ok(ApiTokenRecord {
            id,
            user_id,
            label,
            token_hash,
            prefix,
            created_at: parse_timestamp("created_at", &created)?,
            last_used_at: parse_opt_timestamp("last_used_at", last_used)?,
            revoked_at: parse_opt_timestamp("revoked_at", revoked)?,
            scope,
            expires_at: parse_opt_timestamp("expires_at", expires)?,
        })
    }

    fn db_values(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        serde_json::to_writer(
            out,
            &(
                self.id,
                self.user_id,
                &self.label,
                &self.token_hash,
                &self.prefix,
                db_timestamp(self.created_at),
                db_opt_timestamp(self.last_used_at),
                db_opt_timestamp(self.revoked_at),
                &self.scope,
                db_opt_timestamp(self.expires_at),
            ),
        )
    }

    async fn read_all(conn: &mut Conn) -> Result<Vec<Self>, DbError> {
        Ok(db_run!(conn, |c| {
            let query = api_tokens::table
                .select(Self::as_select())
                .order(api_tokens::id);
            query.load(c).await
        })?)
    }
}

/// One table's rows, whatever their type: what the format and the loader work with.
pub(crate) trait TableRows: Send + Sync {
    /// The table.
    fn spec(&self) -> &'static TableSpec;
    /// How many rows.
    fn len(&self) -> usize;
    /// The primary keys, in stored order.
    fn keys(&self) -> Vec<i64>;
    /// Every row's backup line, in stored order, each passed to `f`.
    fn for_each_line(&self, f: &mut dyn FnMut(&[u8]) -> std::io::Result<()>)
        -> std::io::Result<()>;
    /// Parses one backup line (written with `columns` columns) and appends the row.
    fn push_line(&mut self, columns: usize, line: &str) -> Result<(), String>;
    /// The rows `range` as one JSON array of database value arrays, for the bulk insert.
    fn db_batch(&self, range: std::ops::Range<usize>) -> Result<String, serde_json::Error>;
}

impl<R: BackupRow> TableRows for Vec<R> {
    fn spec(&self) -> &'static TableSpec {
        &R::SPEC
    }

    fn len(&self) -> usize {
        Vec::len(self)
    }

    fn keys(&self) -> Vec<i64> {
        self.iter().map(BackupRow::key).collect()
    }

    fn for_each_line(
        &self,
        f: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let mut buf = Vec::with_capacity(256);
        for row in self {
            buf.clear();
            row.encode(&mut buf)?;
            f(&buf)?;
        }
        Ok(())
    }

    fn push_line(&mut self, columns: usize, line: &str) -> Result<(), String> {
        self.push(R::decode(columns, line)?);
        Ok(())
    }

    fn db_batch(&self, range: std::ops::Range<usize>) -> Result<String, serde_json::Error> {
        let mut out = Vec::with_capacity(range.len() * 128 + 2);
        out.push(b'[');
        for (i, row) in self[range].iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            row.db_values(&mut out)?;
        }
        out.push(b']');
        Ok(String::from_utf8(out).unwrap_or_default())
    }
}

/// Every row of every table, each table ordered by primary key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Snapshot {
    /// `locations` rows.
    pub locations: Vec<LocationRecord>,
    /// `categories` rows.
    pub categories: Vec<Category>,
    /// `items` rows.
    pub items: Vec<ItemRecord>,
    /// `users` rows.
    pub users: Vec<UserRecord>,
    /// `api_tokens` rows.
    pub api_tokens: Vec<ApiTokenRecord>,
}

impl Snapshot {
    /// Every table, parents before children: backups write them in this order, restores
    /// insert in this order and delete in the reverse order.
    pub(crate) fn tables(&self) -> [&dyn TableRows; 5] {
        [
            &self.locations,
            &self.categories,
            &self.items,
            &self.users,
            &self.api_tokens,
        ]
    }

    /// [`Snapshot::tables`], to fill.
    pub(crate) fn tables_mut(&mut self) -> [&mut dyn TableRows; 5] {
        [
            &mut self.locations,
            &mut self.categories,
            &mut self.items,
            &mut self.users,
            &mut self.api_tokens,
        ]
    }

    /// Every table's spec, in backup order.
    pub(crate) fn specs() -> [&'static TableSpec; 5] {
        Snapshot::default().tables().map(|t| t.spec())
    }

    /// Rows per table, in backup order.
    pub(crate) fn counts(&self) -> Vec<(&'static str, u64)> {
        self.tables()
            .iter()
            .map(|t| (t.spec().name, t.len() as u64))
            .collect()
    }

    /// Every row of every table, from one consistent snapshot (run it in a
    /// [`crate::TxMode::Snapshot`] transaction).
    pub(crate) async fn read(conn: &mut Conn) -> Result<Snapshot, DbError> {
        Ok(Snapshot {
            locations: LocationRecord::read_all(conn).await?,
            categories: Category::read_all(conn).await?,
            items: ItemRecord::read_all(conn).await?,
            users: UserRecord::read_all(conn).await?,
            api_tokens: ApiTokenRecord::read_all(conn).await?,
        })
    }
}
