//! Portable logical backup, restore and copy between databases of either backend.
//!
//! A backup is JSON Lines (optionally gzip- or zstd-compressed): a header naming the format,
//! its version, the schema version and each table's columns and row count; one line per
//! row, tables parents first, rows in primary-key order, timestamps as RFC 3339 UTC with
//! microseconds; a trailer with the total row count and an FNV-1a 64 checksum of every byte
//! before it. Nothing depends on when or where the backup was made, so equal data gives
//! byte-identical files on both backends.
//!
//! Restore and copy are all-or-nothing: the whole input is read and checked first (syntax,
//! counts, checksum, schema version, the location tree, references between tables, unique
//! names and hashes, and every value with the validators of the live write paths), and
//! only then is the target migrated if needed and replaced in one tree-write transaction.

mod format;
mod tables;

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::path::Path;

use inventory_core::{
    analyze, validate_description, validate_location_name, LocationRow, LocationType, Role,
    TypeRules,
};
use serde::Serialize;

use crate::config::Backend;
use crate::conn::{Conn, TxMode};
use crate::error::{DbError, FileKind};
use crate::files::{OutputFile, Overwrite};
use crate::models::item::NewItem;
use crate::ops::admin::TableCount;
use crate::pool::Database;
pub use crate::Progress;
use tables::{ColumnType, Snapshot, TableRows, TableSpec};

/// The `format` field of every backup header.
pub const FORMAT_NAME: &str = "home-inventory-backup";
/// The backup format version this program writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;
/// The largest id a backup may hold (2^53 − 1: exact in every JSON reader, and far from
/// the end of either engine's id sequences).
pub const MAX_ID: i64 = (1 << 53) - 1;

/// Rows per bulk INSERT statement (one JSON bind each).
pub(crate) const INSERT_BATCH: usize = 5_000;

/// Compression of a backup file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Plain JSON Lines.
    None,
    /// gzip (`.gz`).
    Gzip,
    /// Zstandard (`.zst`).
    Zstd,
}

impl Compression {
    /// The compression a file name asks for: `.gz` → gzip, `.zst` → zstd, else none.
    pub fn from_path(path: &Path) -> Compression {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("gz") => Compression::Gzip,
            Some("zst") => Compression::Zstd,
            _ => Compression::None,
        }
    }

    /// The compression the first bytes of a stream show (gzip `1f 8b`, zstd `28 b5 2f fd`).
    pub fn from_magic(prefix: &[u8]) -> Compression {
        if prefix.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if prefix.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// What a backup holds (or what a restore or copy loaded).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BackupSummary {
    /// The backup format version ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// The latest migration of the schema the data belongs to.
    pub schema_version: String,
    /// Rows per table, in backup order (parents first).
    pub tables: Vec<TableCount>,
    /// Rows in all tables.
    pub total_rows: u64,
}

/// Home Inventory's data tables, parents first (what a backup holds; what `db drop` drops).
pub fn table_names() -> [&'static str; 5] {
    Snapshot::specs().map(|s| s.name)
}

fn summary(schema_version: &str, snapshot: &Snapshot) -> BackupSummary {
    let counts = snapshot.counts();
    BackupSummary {
        format_version: FORMAT_VERSION,
        schema_version: schema_version.to_string(),
        total_rows: counts.iter().map(|(_, n)| n).sum(),
        tables: counts
            .into_iter()
            .map(|(table, rows)| TableCount {
                table: table.to_string(),
                rows: i64::try_from(rows).unwrap_or(i64::MAX),
            })
            .collect(),
    }
}

/// A problem with the backup's content, not tied to one line.
fn bad(reason: impl Into<String>) -> DbError {
    DbError::file(FileKind::Backup, None, reason)
}

/// Refuses a backup whose schema this program does not know (newer, or unknown).
fn check_schema_version(backend: Backend, version: &str) -> Result<(), DbError> {
    let known = crate::migrations::known_versions(backend)?;
    if known.iter().any(|k| k == version) {
        return Ok(());
    }
    match known.last() {
        Some(latest) if (version.len(), version) < (latest.len(), latest.as_str()) => Err(bad(
            format!("backup schema version {version} is not a migration this program knows"),
        )),
        latest => Err(bad(format!(
            "backup schema version {version} is newer than this program's latest migration ({}); upgrade Home Inventory",
            latest.map_or("none", String::as_str)
        ))),
    }
}

/// Checks what a backup means, beyond its syntax: ids in increasing order and in range,
/// a location tree without orphans, cycles or duplicate sibling names, and (see
/// [`validate_others`]) every value as the live write paths check it, references between
/// tables and unique names. Type-rule findings are allowed: a database may run with other
/// rules than the default set.
fn validate(snapshot: &Snapshot) -> Result<(), DbError> {
    for table in snapshot.tables() {
        let name = table.spec().name;
        let keys = table.keys();
        if let Some(row) = keys.iter().position(|id| !(1..=MAX_ID).contains(id)) {
            return Err(row_problem(
                snapshot,
                name,
                row,
                keys[row],
                format!("id is outside 1 to {MAX_ID}"),
            ));
        }
        if let Some(row) = keys.windows(2).position(|w| w[1] <= w[0]) {
            return Err(row_problem(
                snapshot,
                name,
                row + 1,
                keys[row + 1],
                format!(
                    "id follows id {}; rows must be in increasing primary-key order",
                    keys[row]
                ),
            ));
        }
    }
    let mut rows = Vec::with_capacity(snapshot.locations.len());
    for (row, loc) in snapshot.locations.iter().enumerate() {
        let bad = |what: String| row_problem(snapshot, "locations", row, loc.id, what);
        let location_type: LocationType =
            loc.location_type.parse().map_err(|e| bad(format!("{e}")))?;
        if location_type.as_str() != loc.location_type {
            return Err(bad(format!(
                "location_type \"{}\" must be written {}",
                loc.location_type,
                location_type.as_str()
            )));
        }
        canonical(
            "name",
            &loc.name,
            validate_location_name(&loc.name).map(Some),
        )
        .map_err(&bad)?;
        canonical_opt(
            "description",
            &loc.description,
            validate_description("description", loc.description.as_deref()),
        )
        .map_err(&bad)?;
        rows.push(LocationRow {
            id: loc.id,
            parent_id: loc.parent_id,
            location_type,
            name: loc.name.clone(),
        });
    }
    let report = analyze(&rows, &TypeRules::default());
    if let Some(id) = report.duplicate_ids.first() {
        return Err(bad(format!("backup has location id {id} more than once")));
    }
    if let Some(o) = report.orphans.first() {
        return Err(bad(format!(
            "backup location {} is an orphan: its parent {} is not in the backup",
            o.id, o.missing_parent_id
        )));
    }
    if let Some(c) = report.cycles.first() {
        let ids: Vec<String> = c.members.iter().map(i64::to_string).collect();
        return Err(bad(format!(
            "backup locations form a cycle of parents: {}",
            ids.join(" → ")
        )));
    }
    if let Some(d) = report.duplicate_names.first() {
        let ids: Vec<String> = d.ids.iter().map(i64::to_string).collect();
        return Err(bad(format!(
            "backup locations {} are siblings with the same name",
            ids.join(", ")
        )));
    }
    validate_others(snapshot)
}

/// A stored value must be what the validator makes of it (no surrounding spaces, no
/// other spelling): otherwise the live code would store something else, or refuse it.
fn canonical(
    field: &str,
    stored: &str,
    checked: Result<Option<String>, inventory_core::ValidationError>,
) -> Result<(), String> {
    match checked.map_err(|e| e.to_string())? {
        Some(v) if v == stored => Ok(()),
        _ => Err(format!(
            "{field} \"{stored}\" is not stored as the program writes it"
        )),
    }
}

/// [`canonical`] for an optional value.
fn canonical_opt(
    field: &str,
    stored: &Option<String>,
    checked: Result<Option<String>, inventory_core::ValidationError>,
) -> Result<(), String> {
    match (stored, checked.map_err(|e| e.to_string())?) {
        (None, None) => Ok(()),
        (Some(s), Some(v)) if *s == v => Ok(()),
        (Some(s), _) => Err(format!(
            "{field} \"{s}\" is not stored as the program writes it"
        )),
        (None, Some(_)) => Err(format!("{field} is not stored as the program writes it")),
    }
}

/// The line number (1-based, the header being line 1) of row `row` of table `table`:
/// the file holds the tables in backup order, a table it leaves out having no rows.
fn line_of(snapshot: &Snapshot, table: &str, row: usize) -> u64 {
    let before: u64 = snapshot
        .counts()
        .into_iter()
        .take_while(|(name, _)| *name != table)
        .map(|(_, n)| n)
        .sum();
    before.saturating_add(row as u64).saturating_add(2)
}

/// A problem with row `row` (0-based, in file order) of `table`, whose id is `id`: the
/// message names its line and the row (`backup line 28 (items id 1): …`).
fn row_problem(snapshot: &Snapshot, table: &str, row: usize, id: i64, what: String) -> DbError {
    DbError::file(
        FileKind::Backup,
        Some(line_of(snapshot, table, row)),
        format!("({table} id {id}): {what}"),
    )
}

/// Checks categories, items, users and API tokens: every value as the live write paths
/// check it, references to rows present in the backup, and the uniqueness the schema demands.
fn validate_others(snapshot: &Snapshot) -> Result<(), DbError> {
    let bad = |table: &str, row: usize, id: i64, what: String| {
        row_problem(snapshot, table, row, id, what)
    };
    let locations: HashSet<i64> = snapshot.locations.iter().map(|l| l.id).collect();

    let mut categories: HashMap<&str, i64> = HashMap::new();
    for (row, c) in snapshot.categories.iter().enumerate() {
        let bad = |what: String| bad("categories", row, c.id, what);
        if let Some(other) = categories.insert(&c.name_key, c.id) {
            return Err(bad(format!(
                "category name \"{}\" is already used by category {other} (names are unique regardless of case)",
                c.name
            )));
        }
        canonical(
            "name",
            &c.name,
            inventory_core::validate_category_name(&c.name).map(Some),
        )
        .map_err(bad)?;
        canonical_opt(
            "description",
            &c.description,
            validate_description("description", c.description.as_deref()),
        )
        .map_err(bad)?;
    }
    let category_ids: HashSet<i64> = snapshot.categories.iter().map(|c| c.id).collect();

    for (row, item) in snapshot.items.iter().enumerate() {
        let bad = |what: String| bad("items", row, item.id, what);
        if !locations.contains(&item.location_id) {
            return Err(bad(format!(
                "its location {} is not in the backup",
                item.location_id
            )));
        }
        if let Some(category) = item.category_id {
            if !category_ids.contains(&category) {
                return Err(bad(format!("its category {category} is not in the backup")));
            }
        }
        let stored = NewItem::from(item);
        let valid = stored.validated().map_err(|e| bad(e.to_string()))?;
        if valid != stored {
            return Err(bad(differences(&stored, &valid)));
        }
    }

    let mut usernames: HashMap<&str, i64> = HashMap::new();
    for (row, user) in snapshot.users.iter().enumerate() {
        let bad = |what: String| bad("users", row, user.id, what);

        if !Role::ALL.iter().any(|r| r.as_str() == user.role) {
            return Err(bad(format!(
                "role \"{}\" is not one of admin, member, viewer",
                user.role
            )));
        }
        if argon2::password_hash::PasswordHash::new(&user.password_hash).is_err() {
            return Err(bad("password_hash is not a PHC password hash string".into()));
        }
        if let Some(other) = usernames.insert(&user.username_key, user.id) {
            return Err(bad(format!(
                "username \"{}\" is already used by user {other} (user names are unique regardless of case)",
                user.username
            )));
        }
        canonical(
            "username",
            &user.username,
            inventory_core::validate_username(&user.username).map(Some),
        )
        .map_err(bad)?;
    }
    let user_ids: HashSet<i64> = snapshot.users.iter().map(|u| u.id).collect();

    let mut hashes: HashMap<&str, i64> = HashMap::new();
    for (row, token) in snapshot.api_tokens.iter().enumerate() {
        let bad = |what: String| bad("api_tokens", row, token.id, what);
        if !user_ids.contains(&token.user_id) {
            return Err(bad(format!(
                "its user {} is not in the backup",
                token.user_id
            )));
        }
        let hex = |s: &str| s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if token.token_hash.len() != 64 || !hex(&token.token_hash) {
            return Err(bad(
                "token_hash is not a SHA-256 hash (64 lower-case hex digits)".into(),
            ));
        }
        if token.prefix.is_empty() || token.prefix.chars().count() > 16 {
            return Err(bad("prefix must be 1 to 16 characters".into()));
        }
        if !["read", "write"].contains(&token.scope.as_str()) {
            return Err(bad(format!(
                "scope \"{}\" is not one of read, write",
                token.scope
            )));
        }
        canonical_opt(
            "label",
            &token.label,
            validate_description("label", token.label.as_deref()),
        )
        .map_err(bad)?;
        if let Some(other) = hashes.insert(&token.token_hash, token.id) {
            return Err(bad(format!(
                "token_hash is already used by token {other} (token hashes are unique)"
            )));
        }
    }
    Ok(())
}

/// Which fields of a stored item differ from the form the program writes.
fn differences(stored: &NewItem, valid: &NewItem) -> String {
    let mut fields = Vec::new();
    if stored.name != valid.name {
        fields.push("name");
    }
    if stored.description != valid.description {
        fields.push("description");
    }
    if stored.notes != valid.notes {
        fields.push("notes");
    }
    if stored.serial_number != valid.serial_number {
        fields.push("serial_number");
    }
    if stored.currency != valid.currency {
        fields.push("currency");
    }
    format!(
        "{} not stored as the program writes it (e.g. surrounding spaces, or a lower-case currency)",
        fields.join(", ")
    )
}

/// The snapshot with its locations reordered parents first (breadth-first from the roots,
/// siblings in id order), so that every insert finds its parent already there.
fn into_insert_order(mut snapshot: Snapshot) -> Result<Snapshot, DbError> {
    let rows = std::mem::take(&mut snapshot.locations);
    let mut children: HashMap<Option<i64>, Vec<usize>> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        children.entry(row.parent_id).or_default().push(i);
    }
    let mut order: Vec<usize> = children.remove(&None).unwrap_or_default();
    let mut next = 0;
    while next < order.len() {
        if let Some(kids) = children.remove(&Some(rows[order[next]].id)) {
            order.extend(kids);
        }
        next += 1;
    }
    if order.len() != rows.len() {
        return Err(bad(
            "backup locations do not form a tree (orphans or cycles)",
        ));
    }
    let mut slots: Vec<Option<_>> = rows.into_iter().map(Some).collect();
    snapshot.locations = order.into_iter().filter_map(|i| slots[i].take()).collect();
    Ok(snapshot)
}

/// Reads a whole backup (compression detected by magic bytes) and checks it completely.
fn read_and_check(input: &mut dyn Read, backend: Backend) -> Result<format::Decoded, DbError> {
    let mut magic = [0u8; 4];
    let mut n = 0;
    while n < magic.len() {
        match input.read(&mut magic[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(DbError::io("cannot read the backup", e)),
        }
    }
    let prefix = &magic[..n];
    let mut whole = std::io::Cursor::new(prefix).chain(input);
    let decoded = match Compression::from_magic(prefix) {
        Compression::None => format::decode(&mut whole)?,
        Compression::Gzip => format::decode(&mut flate2::read::MultiGzDecoder::new(whole))?,
        Compression::Zstd => {
            let mut decoder = zstd::stream::read::Decoder::new(whole)
                .map_err(|e| bad(format!("cannot start zstd decompression: {e}")))?;
            format::decode(&mut decoder)?
        }
    };
    check_schema_version(backend, &decoded.schema_version)?;
    validate(&decoded.snapshot)?;
    Ok(decoded)
}

/// The bulk INSERT of one table: every row of a batch travels as one JSON array bind and
/// the engine unpacks it (PostgreSQL `jsonb_array_elements`, SQLite `json_each`), so one
/// statement writes thousands of rows, under either engine's bind-parameter limit.
fn insert_sql(spec: &TableSpec, backend: Backend) -> String {
    let columns: Vec<&str> = spec.columns.iter().map(|c| c.name).collect();
    let values: Vec<String> = spec
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| match (backend, c.kind) {
            (Backend::Postgres, ColumnType::Text) => format!("r ->> {i}"),
            (Backend::Postgres, ColumnType::BigInt) => format!("(r ->> {i})::bigint"),
            (Backend::Postgres, ColumnType::Timestamp) => format!("(r ->> {i})::timestamp"),
            (Backend::Postgres, ColumnType::Date) => format!("(r ->> {i})::date"),
            (Backend::Sqlite, _) => format!("value ->> {i}"),
        })
        .collect();
    let source = match backend {
        Backend::Postgres => "jsonb_array_elements($1::jsonb) AS rows (r)",
        Backend::Sqlite => "json_each($1)",
    };
    format!(
        "INSERT INTO {} ({}) SELECT {} FROM {source}",
        spec.name,
        columns.join(", "),
        values.join(", ")
    )
}

/// Inserts every row of `snapshot` (checked, in insert order) with the bulk INSERT, table
/// by table, parents first. Run it in a write transaction.
pub(crate) async fn insert_all(
    conn: &mut Conn,
    snapshot: &Snapshot,
    progress: Progress<'_>,
) -> Result<(), DbError> {
    let total: u64 = snapshot.counts().iter().map(|(_, n)| n).sum();
    progress(0, total);
    let mut done = 0u64;
    for table in snapshot.tables() {
        let mut start = 0;
        while start < table.len() {
            let end = (start + INSERT_BATCH).min(table.len());
            insert_batch(conn, table, start..end).await?;
            done += (end - start) as u64;
            progress(done, total);
            start = end;
        }
    }
    Ok(())
}

/// Inserts the rows `range` of `table` with one bulk INSERT (at most [`INSERT_BATCH`] rows).
async fn insert_batch(
    conn: &mut Conn,
    table: &dyn TableRows,
    range: std::ops::Range<usize>,
) -> Result<(), DbError> {
    use diesel_async::RunQueryDsl;
    let sql = insert_sql(table.spec(), conn.backend());
    let batch = table
        .db_batch(range)
        .map_err(|e| DbError::internal("cannot encode rows to insert", Some(Box::new(e) as _)))?;
    let query = diesel::sql_query(&sql).bind::<diesel::sql_types::Text, _>(batch);
    crate::conn::db_run!(conn, |c| query.execute(c).await)?;
    Ok(())
}

/// Inserts `rows` (parents before children, ids kept) with the bulk INSERT, in batches of
/// [`INSERT_BATCH`]. Run it in a write transaction.
pub(crate) async fn insert_rows<R: tables::BackupRow>(
    conn: &mut Conn,
    rows: &Vec<R>,
) -> Result<(), DbError> {
    let mut start = 0;
    while start < rows.len() {
        let end = (start + INSERT_BATCH).min(rows.len());
        insert_batch(conn, rows, start..end).await?;
        start = end;
    }
    Ok(())
}

/// A table whose new rows can take ids from [`reserve_ids`].
#[derive(Clone, Copy, Debug)]
pub(crate) enum IdTable {
    Locations,
    Items,
}

impl IdTable {
    fn name(self) -> &'static str {
        match self {
            IdTable::Locations => "locations",
            IdTable::Items => "items",
        }
    }
}

#[derive(diesel::QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// `n` fresh ids of `table`, ascending, for new rows written with the bulk INSERT (which
/// takes ids as given). PostgreSQL draws them from the table's sequence, so concurrent
/// writers never get the same; SQLite continues after the largest id the table ever
/// handed out, as AUTOINCREMENT would — safe because its write transactions begin
/// `IMMEDIATE`, so no other writer runs until this one commits.
pub(crate) async fn reserve_ids(
    conn: &mut Conn,
    table: IdTable,
    n: usize,
) -> Result<Vec<i64>, DbError> {
    use diesel_async::RunQueryDsl;
    if n == 0 {
        return Ok(Vec::new());
    }
    let name = table.name();
    let count = i64::try_from(n).unwrap_or(i64::MAX);
    match conn.backend() {
        Backend::Postgres => {
            let sql = format!(
                "SELECT nextval(pg_get_serial_sequence('{name}', 'id')) AS id \
                 FROM generate_series(1, $1)"
            );
            let query = diesel::sql_query(sql).bind::<diesel::sql_types::BigInt, _>(count);
            let rows: Vec<IdRow> = crate::conn::db_run!(conn, |c| query.load(c).await)?;
            let mut ids: Vec<i64> = rows.into_iter().map(|r| r.id).collect();
            ids.sort_unstable();
            Ok(ids)
        }
        Backend::Sqlite => {
            let sql = format!(
                "SELECT MAX(COALESCE((SELECT MAX(id) FROM {name}), 0), \
                 COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{name}'), 0)) AS id"
            );
            let query = diesel::sql_query(sql);
            let last: IdRow = crate::conn::db_run!(conn, |c| query.get_result(c).await)?;
            Ok((1..=count).map(|k| last.id + k).collect())
        }
    }
}

/// Moves every table's id sequence past its largest id (after rows were inserted with
/// their ids).
pub(crate) async fn reset_sequences(conn: &mut Conn) -> Result<(), DbError> {
    use diesel_async::SimpleAsyncConnection;
    let reset = match conn.backend() {
        Backend::Postgres => include_str!("../../sql/postgres/reset_sequences.sql"),
        Backend::Sqlite => include_str!("../../sql/sqlite/reset_sequences.sql"),
    };
    crate::conn::db_run!(conn, |c| c.batch_execute(reset).await)?;
    Ok(())
}

/// In one write transaction: (optionally) checks that every table is empty, deletes every
/// row (children's tables first), inserts `ordered`, and moves every id sequence past the
/// largest restored id. Any error rolls all of it back.
async fn replace_all(
    conn: &mut Conn,
    ordered: &Snapshot,
    require_empty: bool,
    progress: Progress<'_>,
) -> Result<(), DbError> {
    use diesel_async::SimpleAsyncConnection;
    if require_empty {
        if let Some(t) = crate::ops::admin::row_counts(conn)
            .await?
            .into_iter()
            .find(|t| t.rows > 0)
        {
            return Err(DbError::NotEmpty {
                table: t.table,
                rows: t.rows,
            });
        }
    }
    // Children's tables first, so that no foreign key (items' RESTRICT on locations
    // included) ever sees a missing parent. On SQLite the search triggers drop the deleted
    // rows' entries and index the inserted ones.
    let mut delete = String::new();
    for spec in Snapshot::specs().iter().rev() {
        delete.push_str(&format!("DELETE FROM {};", spec.name));
    }
    crate::conn::db_run!(conn, |c| c.batch_execute(&delete).await)?;
    insert_all(conn, ordered, progress).await?;
    reset_sequences(conn).await
}

impl Database {
    /// The latest applied migration, requiring the schema to be current (the backup is
    /// read with this program's schema).
    async fn backup_schema_version(&self) -> Result<String, DbError> {
        let history = self.migration_history().await?;
        let pending = history.iter().filter(|m| !m.applied).count();
        match history.last() {
            Some(latest) if pending == 0 => Ok(latest.version.clone()),
            _ => Err(DbError::SchemaNotCurrent { pending }),
        }
    }

    /// Schema version and every row, from one consistent read.
    async fn snapshot(&self) -> Result<(String, Snapshot), DbError> {
        let version = self.backup_schema_version().await?;
        let snapshot = self
            .transaction(TxMode::Snapshot, async |c| Snapshot::read(c).await)
            .await?;
        Ok((version, snapshot))
    }

    /// Writes a plain backup to `out` from one consistent read, streaming: the rows are
    /// counted, then read a page at a time and written as they come, so memory stays the
    /// same whatever the size of the database.
    async fn stream_backup(
        &self,
        out: &mut (dyn Write + Send),
        progress: Progress<'_>,
    ) -> Result<BackupSummary, DbError> {
        let version = self.backup_schema_version().await?;
        let version_ref = &version;
        self.transaction(TxMode::Snapshot, async move |c| {
            let counts = crate::ops::admin::row_counts(c).await?;
            let tables: Vec<(&TableSpec, u64)> = Snapshot::specs()
                .into_iter()
                .map(|spec| {
                    let rows = counts
                        .iter()
                        .find(|t| t.table == spec.name)
                        .map_or(0, |t| u64::try_from(t.rows).unwrap_or(0));
                    (spec, rows)
                })
                .collect();
            let write_error = |e| DbError::io("cannot write the backup", e);
            let mut encoder =
                format::Encoder::start(out, version_ref, &tables, progress).map_err(write_error)?;
            tables::write_all_tables(c, &mut |line| encoder.line(line)).await?;
            encoder.finish().map_err(write_error)?;
            let total_rows = tables.iter().map(|(_, n)| n).sum();
            Ok(BackupSummary {
                format_version: FORMAT_VERSION,
                schema_version: version_ref.clone(),
                tables: tables
                    .iter()
                    .map(|(spec, rows)| TableCount {
                        table: spec.name.to_string(),
                        rows: i64::try_from(*rows).unwrap_or(i64::MAX),
                    })
                    .collect(),
                total_rows,
            })
        })
        .await
    }

    /// Migrates this database when migrations are pending; refuses a newer schema.
    async fn prepare_for_load(&self) -> Result<(), DbError> {
        match self.ensure_schema_current().await {
            Err(DbError::SchemaNotCurrent { .. }) => self.migrate().await.map(|_| ()),
            other => other,
        }
    }

    /// Replaces every row with `snapshot` (already checked) in one tree-write transaction.
    async fn load(
        &self,
        schema_version: &str,
        snapshot: Snapshot,
        require_empty: bool,
        progress: Progress<'_>,
    ) -> Result<BackupSummary, DbError> {
        let summary = summary(schema_version, &snapshot);
        let ordered = into_insert_order(snapshot)?;
        self.prepare_for_load().await?;
        self.transaction(TxMode::TreeWrite, async |c| {
            replace_all(c, &ordered, require_empty, progress).await
        })
        .await?;
        self.refresh_statistics().await;
        Ok(summary)
    }

    /// After a bulk load on PostgreSQL, brings the planner's statistics up to date: until
    /// then they describe the tables as they were (empty, for a new database), and with them
    /// a walk down a deep tree scans the whole table once per level, quadratic in the depth,
    /// until autovacuum analyzes the tables, if it runs at all. The data is committed by
    /// now, so a failure here is only logged.
    async fn refresh_statistics(&self) {
        use diesel_async::SimpleAsyncConnection;
        if self.backend() != Backend::Postgres {
            return;
        }
        let sql = format!("ANALYZE {}", table_names().join(", "));
        let analyzed = self
            .read(async |c| {
                crate::conn::db_run!(c, |c| c.batch_execute(&sql).await)?;
                Ok(())
            })
            .await;
        if let Err(e) = analyzed {
            tracing::warn!("could not refresh the planner's statistics after the load: {e}");
        }
    }

    /// Writes a plain (uncompressed) backup of every table to `out`.
    pub async fn write_backup(
        &self,
        out: &mut (dyn Write + Send),
        progress: Progress<'_>,
    ) -> Result<BackupSummary, DbError> {
        self.stream_backup(out, progress).await
    }

    /// Writes a backup to `path`, compressed by its extension (`.gz`, `.zst`): owner-only,
    /// under a temporary name in the same directory, moved into place when complete, so a
    /// failed backup never leaves a half file under the final name. An existing file is
    /// replaced only with [`Overwrite::Replace`]; the database in use never.
    pub async fn backup_to_file(
        &self,
        path: &Path,
        overwrite: Overwrite,
        progress: Progress<'_>,
    ) -> Result<BackupSummary, DbError> {
        let mut file = OutputFile::create(self, path, overwrite, "backup")?;
        let action = || format!("cannot write backup {}", path.display());
        let summary = match Compression::from_path(path) {
            Compression::None => self.stream_backup(&mut file, progress).await,
            Compression::Gzip => {
                let mut enc =
                    flate2::write::GzEncoder::new(&mut file, flate2::Compression::default());
                let summary = self.stream_backup(&mut enc, progress).await;
                match summary {
                    Ok(s) => enc
                        .finish()
                        .map(|_| s)
                        .map_err(|e| DbError::io(action(), e)),
                    Err(e) => Err(e),
                }
            }
            Compression::Zstd => {
                let mut enc =
                    zstd::stream::write::Encoder::new(&mut file, zstd::DEFAULT_COMPRESSION_LEVEL)
                        .map_err(|e| DbError::io(action(), e))?;
                let summary = self.stream_backup(&mut enc, progress).await;
                match summary {
                    Ok(s) => enc
                        .finish()
                        .map(|_| s)
                        .map_err(|e| DbError::io(action(), e)),
                    Err(e) => Err(e),
                }
            }
        };
        let summary = summary.map_err(|e| match e {
            DbError::Io { source, .. } => DbError::io(action(), source),
            other => other,
        })?;
        file.commit()?;
        Ok(summary)
    }

    /// Replaces all data with a backup read from `input` (plain, gzip or zstd, detected by
    /// magic bytes). The whole input is read and checked before the database is touched;
    /// then the schema is migrated if needed and every table replaced in one transaction.
    /// A bad input is `DbError::InvalidFile` naming the problem, and leaves the data unchanged.
    pub async fn restore_backup(
        &self,
        input: &mut (dyn Read + Send),
        progress: Progress<'_>,
    ) -> Result<BackupSummary, DbError> {
        let decoded = read_and_check(input, self.backend())?;
        self.load(&decoded.schema_version, decoded.snapshot, false, progress)
            .await
    }

    /// [`Database::restore_backup`] from a file; compression is detected from its first
    /// bytes, whatever its extension.
    pub async fn restore_from_file(
        &self,
        path: &Path,
        progress: Progress<'_>,
    ) -> Result<BackupSummary, DbError> {
        let mut file = std::fs::File::open(path)
            .map_err(|e| DbError::io(format!("cannot open backup {}", path.display()), e))?;
        self.restore_backup(&mut file, progress).await
    }

    /// Copies every row into `target`, which may be of either backend. The target must
    /// hold no rows in any table (`DbError::NotEmpty` names one that does); it is migrated
    /// if needed, and loaded all-or-nothing like a restore.
    pub async fn copy_to(
        &self,
        target: &Database,
        progress: Progress<'_>,
    ) -> Result<BackupSummary, DbError> {
        if target.ensure_schema_current().await.is_ok() {
            if let Some(t) = target
                .stats()
                .await?
                .tables
                .into_iter()
                .find(|t| t.rows > 0)
            {
                return Err(DbError::NotEmpty {
                    table: t.table,
                    rows: t.rows,
                });
            }
        }
        let (version, snapshot) = self.snapshot().await?;
        check_schema_version(target.backend(), &version)?;
        validate(&snapshot)?;
        target.load(&version, snapshot, true, progress).await
    }
}
