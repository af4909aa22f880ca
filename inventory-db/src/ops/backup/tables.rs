//! The tables a backup holds, in dependency order, over the tables' own row structs.
//!
//! Adding a table: implement [`BackupRow`] for its row struct here (its backup columns and
//! their JSON form, and its database columns for the bulk insert), add a field to
//! [`Snapshot`] and one line to [`Snapshot::tables`] and [`Snapshot::tables_mut`] (after the
//! tables it references), and its sequence to `sql/*/reset_sequences.sql`.

use std::future::Future;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use diesel::prelude::*;

use crate::conn::{db_load, Conn};
use crate::error::DbError;
use crate::models::api_token::ApiTokenRecord;
use crate::models::category::Category;
use crate::models::item::ItemRecord;
use crate::models::location::LocationRecord;
use crate::models::user::UserRecord;
use crate::schema::{api_tokens, categories, items, locations, users};

/// A table as the backup format and the bulk insert see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TableSpec {
    /// Table name.
    pub name: &'static str,
    /// Every column of the database table, in the order of [`BackupRow::cells`].
    pub columns: &'static [Column],
    /// Older backup column lists a reader still accepts (each a prefix of the backed-up
    /// columns; the columns missing from an old backup take their defaults).
    pub legacy_columns: &'static [&'static [&'static str]],
}

impl TableSpec {
    /// The columns a backup line holds, in order (derived columns such as name keys are
    /// left out: a restore computes them).
    pub(crate) fn backup_columns(&self) -> Vec<&'static str> {
        self.columns
            .iter()
            .filter(|c| c.backed_up)
            .map(|c| c.name)
            .collect()
    }
}

/// One column of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Column {
    /// Its name.
    pub name: &'static str,
    /// Its type.
    pub kind: ColumnType,
    /// Whether backups hold it (false for values derived from other columns).
    pub backed_up: bool,
}

/// A column that backups hold.
const fn col(name: &'static str, kind: ColumnType) -> Column {
    Column {
        name,
        kind,
        backed_up: true,
    }
}

/// A column derived from others (written by the bulk insert, not held by backups).
const fn derived(name: &'static str, kind: ColumnType) -> Column {
    Column {
        name,
        kind,
        backed_up: false,
    }
}

/// One value of a row, typed as its column.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Cell<'a> {
    /// A 64-bit integer, or NULL.
    Int(Option<i64>),
    /// Text, or NULL.
    Text(Option<&'a str>),
    /// A timestamp, or NULL.
    Time(Option<NaiveDateTime>),
    /// A date, or NULL.
    Date(Option<NaiveDate>),
}

/// Which form a row is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// A backup line: backed-up columns, timestamps in RFC 3339.
    Backup,
    /// Bulk-insert values: every column, timestamps as the engines store them.
    Database,
}

/// Appends a row's cells as one JSON array.
fn write_cells(
    spec: &TableSpec,
    cells: &[Cell<'_>],
    form: Form,
    out: &mut Vec<u8>,
) -> Result<(), serde_json::Error> {
    out.push(b'[');
    let mut first = true;
    for (column, cell) in spec.columns.iter().zip(cells) {
        if form == Form::Backup && !column.backed_up {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        match cell {
            Cell::Int(v) => serde_json::to_writer(&mut *out, v)?,
            Cell::Text(v) => serde_json::to_writer(&mut *out, v)?,
            Cell::Time(v) => {
                let text = v.map(|t| match form {
                    Form::Backup => format_timestamp(t),
                    Form::Database => db_timestamp(t),
                });
                serde_json::to_writer(&mut *out, &text)?
            }
            Cell::Date(v) => serde_json::to_writer(&mut *out, &v.map(format_date))?,
        }
    }
    out.push(b']');
    Ok(())
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
    /// Every value of the row, in [`TableSpec::columns`] order.
    fn cells(&self) -> Vec<Cell<'_>>;
    /// Parses one backup line written with `columns` columns (the current or a legacy list).
    fn decode(columns: usize, line: &str) -> Result<Self, String>;
    /// Appends the row's backup line (a JSON array, no newline).
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        write_cells(&Self::SPEC, &self.cells(), Form::Backup, out)
    }
    /// Appends the row's database values (a JSON array in [`TableSpec::columns`] order).
    fn db_values(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        write_cells(&Self::SPEC, &self.cells(), Form::Database, out)
    }
    /// At most `limit` rows of the table with a primary key above `after`, by primary key.
    fn read_page(
        conn: &mut Conn,
        after: i64,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Self>, DbError>> + Send;
}

/// Timestamps in one normalized form: RFC 3339, UTC, microseconds, `Z`
/// (`%Y-%m-%dT%H:%M:%S%.6fZ`).
pub(crate) fn format_timestamp(t: NaiveDateTime) -> String {
    let mut text = String::with_capacity(27);
    if push_date_time(&mut text, t, 'T') {
        text.push('.');
        push_digits(&mut text, t.nanosecond() / 1_000, 6);
        text.push('Z');
        return text;
    }
    t.and_utc().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Appends `YYYY-MM-DD`, `separator`, `HH:MM:SS` of `t`; false (nothing appended) for a
/// time chrono writes otherwise: a year outside 0..=9999 or a leap second. Formatting by
/// hand: chrono's format strings were a fifth of a backup's time.
fn push_date_time(text: &mut String, t: NaiveDateTime, separator: char) -> bool {
    let Ok(year) = u32::try_from(t.year()) else {
        return false;
    };
    if year > 9999 || t.nanosecond() >= 1_000_000_000 {
        return false;
    }
    push_digits(text, year, 4);
    for (lead, value) in [
        ('-', t.month()),
        ('-', t.day()),
        (separator, t.hour()),
        (':', t.minute()),
        (':', t.second()),
    ] {
        text.push(lead);
        push_digits(text, value, 2);
    }
    true
}

/// Appends the last `digits` digits of `value` (at most 10), zero-padded.
fn push_digits(text: &mut String, value: u32, digits: usize) {
    let mut buf = [b'0'; 10];
    let mut v = value;
    for k in (0..digits).rev() {
        buf[k] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    text.extend(buf[..digits].iter().map(|&b| char::from(b)));
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
/// SQLite (`%F %T%.f`: no fraction when it is zero, else 3, 6 or 9 digits), which
/// PostgreSQL reads as a timestamp too.
fn db_timestamp(t: NaiveDateTime) -> String {
    let mut text = String::with_capacity(26);
    if !push_date_time(&mut text, t, ' ') {
        return t.format("%F %T%.f").to_string();
    }
    let (fraction, digits) = match t.nanosecond() {
        0 => return text,
        n if n % 1_000_000 == 0 => (n / 1_000_000, 3),
        n if n % 1_000 == 0 => (n / 1_000, 6),
        n => (n, 9),
    };
    text.push('.');
    push_digits(&mut text, fraction, digits);
    text
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
            col("id", ColumnType::BigInt),
            col("name", ColumnType::Text),
            col("description", ColumnType::Text),
            col("location_type", ColumnType::Text),
            col("parent_id", ColumnType::BigInt),
            col("created_at", ColumnType::Timestamp),
            col("updated_at", ColumnType::Timestamp),
            derived("name_key", ColumnType::Text),
        ],
        legacy_columns: &[],
    };

    fn key(&self) -> i64 {
        self.id
    }

    fn cells(&self) -> Vec<Cell<'_>> {
        vec![
            Cell::Int(Some(self.id)),
            Cell::Text(Some(&self.name)),
            Cell::Text(self.description.as_deref()),
            Cell::Text(Some(&self.location_type)),
            Cell::Int(self.parent_id),
            Cell::Time(Some(self.created_at)),
            Cell::Time(Some(self.updated_at)),
            Cell::Text(Some(&self.name_key)),
        ]
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

    async fn read_page(conn: &mut Conn, after: i64, limit: i64) -> Result<Vec<Self>, DbError> {
        // The query inside the macro: `as_select` is typed for each engine.
        Ok(db_load!(
            conn,
            locations::table
                .select(Self::as_select())
                .filter(locations::id.gt(after))
                .order(locations::id)
                .limit(limit)
        )?)
    }
}

type CategoryLine = (i64, String, Option<String>, String, String);

impl BackupRow for Category {
    const SPEC: TableSpec = TableSpec {
        name: "categories",
        columns: &[
            col("id", ColumnType::BigInt),
            col("name", ColumnType::Text),
            col("description", ColumnType::Text),
            col("created_at", ColumnType::Timestamp),
            col("updated_at", ColumnType::Timestamp),
            derived("name_key", ColumnType::Text),
        ],
        legacy_columns: &[],
    };

    fn key(&self) -> i64 {
        self.id
    }

    fn cells(&self) -> Vec<Cell<'_>> {
        vec![
            Cell::Int(Some(self.id)),
            Cell::Text(Some(&self.name)),
            Cell::Text(self.description.as_deref()),
            Cell::Time(Some(self.created_at)),
            Cell::Time(Some(self.updated_at)),
            Cell::Text(Some(&self.name_key)),
        ]
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

    async fn read_page(conn: &mut Conn, after: i64, limit: i64) -> Result<Vec<Self>, DbError> {
        // The query inside the macro: `as_select` is typed for each engine.
        Ok(db_load!(
            conn,
            categories::table
                .select(Self::as_select())
                .filter(categories::id.gt(after))
                .order(categories::id)
                .limit(limit)
        )?)
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
            col("id", ColumnType::BigInt),
            col("name", ColumnType::Text),
            col("description", ColumnType::Text),
            col("quantity", ColumnType::BigInt),
            col("location_id", ColumnType::BigInt),
            col("category_id", ColumnType::BigInt),
            col("serial_number", ColumnType::Text),
            col("purchase_date", ColumnType::Date),
            col("purchase_price_cents", ColumnType::BigInt),
            col("currency", ColumnType::Text),
            col("warranty_expires", ColumnType::Date),
            col("notes", ColumnType::Text),
            col("created_at", ColumnType::Timestamp),
            col("updated_at", ColumnType::Timestamp),
        ],
        legacy_columns: &[],
    };

    fn key(&self) -> i64 {
        self.id
    }

    fn cells(&self) -> Vec<Cell<'_>> {
        vec![
            Cell::Int(Some(self.id)),
            Cell::Text(Some(&self.name)),
            Cell::Text(self.description.as_deref()),
            Cell::Int(Some(self.quantity)),
            Cell::Int(Some(self.location_id)),
            Cell::Int(self.category_id),
            Cell::Text(self.serial_number.as_deref()),
            Cell::Date(self.purchase_date),
            Cell::Int(self.purchase_price_cents),
            Cell::Text(self.currency.as_deref()),
            Cell::Date(self.warranty_expires),
            Cell::Text(self.notes.as_deref()),
            Cell::Time(Some(self.created_at)),
            Cell::Time(Some(self.updated_at)),
        ]
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

    async fn read_page(conn: &mut Conn, after: i64, limit: i64) -> Result<Vec<Self>, DbError> {
        // The query inside the macro: `as_select` is typed for each engine.
        Ok(db_load!(
            conn,
            items::table
                .select(Self::as_select())
                .filter(items::id.gt(after))
                .order(items::id)
                .limit(limit)
        )?)
    }
}

type UserLine = (i64, String, String, String, String, String);

impl BackupRow for UserRecord {
    const SPEC: TableSpec = TableSpec {
        name: "users",
        columns: &[
            col("id", ColumnType::BigInt),
            col("username", ColumnType::Text),
            col("password_hash", ColumnType::Text),
            col("role", ColumnType::Text),
            col("created_at", ColumnType::Timestamp),
            col("updated_at", ColumnType::Timestamp),
            derived("username_key", ColumnType::Text),
        ],
        legacy_columns: &[],
    };

    fn key(&self) -> i64 {
        self.id
    }

    fn cells(&self) -> Vec<Cell<'_>> {
        vec![
            Cell::Int(Some(self.id)),
            Cell::Text(Some(&self.username)),
            Cell::Text(Some(&self.password_hash)),
            Cell::Text(Some(&self.role)),
            Cell::Time(Some(self.created_at)),
            Cell::Time(Some(self.updated_at)),
            Cell::Text(Some(&self.username_key)),
        ]
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

    async fn read_page(conn: &mut Conn, after: i64, limit: i64) -> Result<Vec<Self>, DbError> {
        // The query inside the macro: `as_select` is typed for each engine.
        Ok(db_load!(
            conn,
            users::table
                .select(Self::as_select())
                .filter(users::id.gt(after))
                .order(users::id)
                .limit(limit)
        )?)
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
            col("id", ColumnType::BigInt),
            col("user_id", ColumnType::BigInt),
            col("label", ColumnType::Text),
            col("token_hash", ColumnType::Text),
            col("prefix", ColumnType::Text),
            col("created_at", ColumnType::Timestamp),
            col("last_used_at", ColumnType::Timestamp),
            col("revoked_at", ColumnType::Timestamp),
            col("scope", ColumnType::Text),
            col("expires_at", ColumnType::Timestamp),
        ],
        legacy_columns: &[TOKEN_COLUMNS_V1],
    };

    fn key(&self) -> i64 {
        self.id
    }

    fn cells(&self) -> Vec<Cell<'_>> {
        vec![
            Cell::Int(Some(self.id)),
            Cell::Int(Some(self.user_id)),
            Cell::Text(self.label.as_deref()),
            Cell::Text(Some(&self.token_hash)),
            Cell::Text(Some(&self.prefix)),
            Cell::Time(Some(self.created_at)),
            Cell::Time(self.last_used_at),
            Cell::Time(self.revoked_at),
            Cell::Text(Some(&self.scope)),
            Cell::Time(self.expires_at),
        ]
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

    async fn read_page(conn: &mut Conn, after: i64, limit: i64) -> Result<Vec<Self>, DbError> {
        // The query inside the macro: `as_select` is typed for each engine.
        Ok(db_load!(
            conn,
            api_tokens::table
                .select(Self::as_select())
                .filter(api_tokens::id.gt(after))
                .order(api_tokens::id)
                .limit(limit)
        )?)
    }
}

/// One table's rows, whatever their type: what the format and the loader work with.
pub(crate) trait TableRows: Send + Sync {
    /// The table.
    fn spec(&self) -> &'static TableSpec;
    /// How many rows.
    fn len(&self) -> usize;
    /// The primary key of the last row.
    fn last_key(&self) -> Option<i64>;
    /// Parses one backup line (written with `columns` columns) and appends the row.
    fn push_line(&mut self, columns: usize, line: &str) -> Result<(), String>;
    /// The rows `range` as one JSON array of database value arrays, for the bulk insert.
    fn db_batch(&self, range: std::ops::Range<usize>) -> Result<String, serde_json::Error>;
    /// Removes every row.
    fn clear(&mut self);
}

impl<R: BackupRow> TableRows for Vec<R> {
    fn spec(&self) -> &'static TableSpec {
        &R::SPEC
    }

    fn len(&self) -> usize {
        Vec::len(self)
    }

    fn last_key(&self) -> Option<i64> {
        self.last().map(BackupRow::key)
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

    fn clear(&mut self) {
        Vec::clear(self);
    }
}

/// Rows of every table, each table ordered by primary key: what a restore holds at a time
/// (one batch to insert, or the one row being checked).
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
}

/// Rows per page when a table is read whole (for a backup).
const READ_PAGE: i64 = 20_000;

/// Every row of a table, by primary key, handed to `f` a page at a time.
async fn each_page<R: BackupRow>(
    conn: &mut Conn,
    mut f: impl FnMut(Vec<R>) -> Result<(), DbError> + Send,
) -> Result<(), DbError> {
    let mut after = i64::MIN;
    loop {
        let page = R::read_page(conn, after, READ_PAGE).await?;
        let done = (page.len() as i64) < READ_PAGE;
        if let Some(last) = page.last() {
            after = last.key();
        }
        f(page)?;
        if done {
            return Ok(());
        }
    }
}

/// Every backup line of a table, by primary key, written through `line` as the rows are
/// read a page at a time (memory: one page, whatever the table's size).
async fn write_table<R: BackupRow>(
    conn: &mut Conn,
    line: &mut (dyn FnMut(&[u8]) -> std::io::Result<()> + Send),
) -> Result<(), DbError> {
    let mut buf = Vec::with_capacity(256);
    each_page::<R>(conn, |page| {
        for row in &page {
            buf.clear();
            row.encode(&mut buf).map_err(|e| {
                DbError::internal("cannot encode a backup row", Some(Box::new(e) as _))
            })?;
            line(&buf).map_err(|e| DbError::io("cannot write the backup", e))?;
        }
        Ok(())
    })
    .await
}

/// Every row of every table, as backup lines in backup order, written through `line`
/// while being read (run it in a [`crate::TxMode::Snapshot`] transaction, after counting
/// the rows in the same one).
pub(crate) async fn write_all_tables(
    conn: &mut Conn,
    line: &mut (dyn FnMut(&[u8]) -> std::io::Result<()> + Send),
) -> Result<(), DbError> {
    write_table::<LocationRecord>(conn, line).await?;
    write_table::<Category>(conn, line).await?;
    write_table::<ItemRecord>(conn, line).await?;
    write_table::<UserRecord>(conn, line).await?;
    write_table::<ApiTokenRecord>(conn, line).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The hand-written forms are chrono's, for every time chrono can hold (the years
        /// it writes otherwise and leap seconds go to chrono itself).
        #[test]
        fn timestamps_are_written_as_chrono_writes_them(
            days in -1_000_000i64..4_000_000,
            second in 0u32..86_400,
            nanos in prop_oneof![Just(0u32), 0u32..1_000, (0u32..1_000).prop_map(|n| n * 1_000_000),
                                 (0u32..1_000_000).prop_map(|n| n * 1_000), 0u32..2_000_000_000],
        ) {
            let date = NaiveDate::from_num_days_from_ce_opt(days as i32).unwrap_or(NaiveDate::MIN);
            let Some(time) = chrono::NaiveTime::from_num_seconds_from_midnight_opt(second, nanos) else {
                return Ok(());
            };
            let t = date.and_time(time);
            prop_assert_eq!(format_timestamp(t), t.and_utc().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
            prop_assert_eq!(db_timestamp(t), t.format("%F %T%.f").to_string());
        }
    }
}
