//! Portable logical backup, restore and copy between databases of either backend.
//!
//! A backup is JSON Lines (optionally gzip- or zstd-compressed): a header naming the format,
//! its version, the schema version and each table's columns and row count; one line per
//! row, tables parents first, rows in primary-key order, timestamps as RFC 3339 UTC with
//! microseconds; a trailer with the total row count and an FNV-1a 64 checksum of every byte
//! before it. Nothing depends on when or where the backup was made, so equal data gives
//! byte-identical files on both backends.
//!
//! Restore and copy are all-or-nothing and stream: the whole input is read and checked
//! first (syntax, counts, checksum, schema version, the location tree, references between
//! tables, unique names and hashes, and every value with the validators of the live write
//! paths), keeping only ids and keys; only then is the target migrated if needed and
//! replaced in one tree-write transaction, while the input is read a second time. Memory
//! stays the same whatever the size of the backup, apart from about 40 bytes per location.

mod format;
mod tables;

use std::collections::HashMap;
use std::io::{Read, Seek, Write};
use std::path::Path;

use inventory_core::{validate_description, validate_location_name, LocationType, Role};
use serde::Serialize;

use crate::config::Backend;
use crate::conn::{Conn, TxMode};
use crate::error::{DbError, FileKind};
use crate::files::{OutputFile, Overwrite};
use crate::models::item::NewItem;
use crate::models::totals::LoadedRows;
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

/// The positions of `locations` and `items` in [`Snapshot::specs`].
const LOCATIONS: usize = 0;
const ITEMS: usize = 2;

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

fn summary(schema_version: &str, counts: &[(&'static str, u64)]) -> BackupSummary {
    BackupSummary {
        format_version: FORMAT_VERSION,
        schema_version: schema_version.to_string(),
        total_rows: counts.iter().map(|(_, n)| n).sum(),
        tables: counts
            .iter()
            .map(|(table, rows)| TableCount {
                table: (*table).to_string(),
                rows: i64::try_from(*rows).unwrap_or(i64::MAX),
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

/// What the first pass over a backup found: its schema, its row counts and the checksum
/// of its contents, which the second pass (the load) must see again.
struct Checked {
    schema_version: String,
    counts: Vec<(&'static str, u64)>,
    checksum: u64,
}

/// The first pass over a backup: checks what it means, beyond its syntax, one row at a time,
/// keeping only what the checks between rows need (ids, parents, hashes of sibling names,
/// and the names that must be unique in the small tables) — about 40 bytes per location,
/// nothing per item. It checks ids in increasing order and in range, a location tree
/// without orphans, cycles or duplicate sibling names, every value as the live write paths
/// check it, references between tables and unique names. Type-rule findings are allowed:
/// a database may run with other rules than the default set.
///
/// A problem of meaning is kept (the first one) and the reading goes on, so that a corrupt
/// file is reported as corrupt (by its checksum) rather than by what the corruption made
/// of a value.
#[derive(Default)]
struct Checker {
    /// The last id of each table, in [`Snapshot::specs`] order.
    last_ids: [Option<i64>; 5],
    /// Location ids in file (increasing) order, and each one's parent (0: a root).
    location_ids: Vec<i64>,
    parents: Vec<i64>,
    /// A 128-bit hash of (parent, name key) of each location, with its row.
    sibling_names: Vec<(u128, u32)>,
    category_ids: Vec<i64>,
    category_names: HashMap<String, i64>,
    user_ids: Vec<i64>,
    usernames: HashMap<String, i64>,
    token_hashes: HashMap<String, i64>,
    /// The row being checked (decoded into its table, then taken out).
    row: Snapshot,
    problem: Option<DbError>,
}

/// A 128-bit hash of a location's parent and name key: equal for siblings with the same
/// name, and for anything else equal with a chance far below that of a disk error.
fn sibling_hash(parent: i64, key: &str) -> u128 {
    use std::hash::{Hash, Hasher};
    let half = |salt: u8| {
        let mut h = std::hash::DefaultHasher::new();
        salt.hash(&mut h);
        parent.hash(&mut h);
        key.hash(&mut h);
        h.finish()
    };
    (u128::from(half(1)) << 64) | u128::from(half(2))
}

impl Checker {
    /// Checks one row line: a syntax error is returned at once; a problem of meaning is
    /// kept for [`Checker::finish`].
    fn row(&mut self, line: &format::RowLine) -> Result<(), DbError> {
        let invalid = |what: String| DbError::file(FileKind::Backup, Some(line.number), what);
        let table = &mut self.row.tables_mut()[line.table];
        table.push_line(line.columns, &line.text).map_err(invalid)?;
        let name = table.spec().name;
        let id = table.last_key().unwrap_or_default();
        if self.problem.is_none() {
            let checked = self.id(line.table, id).and_then(|()| match line.table {
                0 => self.location(),
                1 => self.category(),
                2 => self.item(),
                3 => self.user(),
                _ => self.token(),
            });
            if let Err(what) = checked {
                let what = format!("({name} id {id}): {what}");
                self.problem = Some(DbError::file(FileKind::Backup, Some(line.number), what));
            }
        }
        self.row.tables_mut()[line.table].clear();
        Ok(())
    }

    /// Ids in range and increasing within each table.
    fn id(&mut self, table: usize, id: i64) -> Result<(), String> {
        if !(1..=MAX_ID).contains(&id) {
            return Err(format!("id is outside 1 to {MAX_ID}"));
        }
        match self.last_ids[table].replace(id) {
            Some(last) if id <= last => Err(format!(
                "id follows id {last}; rows must be in increasing primary-key order"
            )),
            _ => Ok(()),
        }
    }

    fn location(&mut self) -> Result<(), String> {
        let Some(loc) = self.row.locations.last() else {
            return Ok(());
        };
        let location_type: LocationType = loc.location_type.parse().map_err(|e| format!("{e}"))?;
        if location_type.as_str() != loc.location_type {
            return Err(format!(
                "location_type \"{}\" must be written {}",
                loc.location_type,
                location_type.as_str()
            ));
        }
        canonical(
            "name",
            &loc.name,
            validate_location_name(&loc.name).map(Some),
        )?;
        canonical_opt(
            "description",
            &loc.description,
            validate_description("description", loc.description.as_deref()),
        )?;
        let parent = match loc.parent_id {
            None => 0,
            Some(p) if p < 1 => {
                return Err(format!(
                    "parent_id {p} is not a location id (a root's parent_id is null)"
                ))
            }
            Some(p) => p,
        };
        let row = u32::try_from(self.location_ids.len())
            .map_err(|_| "more locations than a backup may hold".to_string())?;
        self.location_ids.push(loc.id);
        self.parents.push(parent);
        self.sibling_names
            .push((sibling_hash(parent, &loc.name_key), row));
        Ok(())
    }

    fn category(&mut self) -> Result<(), String> {
        let Some(c) = self.row.categories.last() else {
            return Ok(());
        };
        if let Some(other) = self.category_names.insert(c.name_key.clone(), c.id) {
            return Err(format!(
                "category name \"{}\" is already used by category {other} (names are unique regardless of case)",
                c.name
            ));
        }
        canonical(
            "name",
            &c.name,
            inventory_core::validate_category_name(&c.name).map(Some),
        )?;
        canonical_opt(
            "description",
            &c.description,
            validate_description("description", c.description.as_deref()),
        )?;
        self.category_ids.push(c.id);
        Ok(())
    }

    fn item(&mut self) -> Result<(), String> {
        let Some(item) = self.row.items.last() else {
            return Ok(());
        };
        if self.location_ids.binary_search(&item.location_id).is_err() {
            return Err(format!(
                "its location {} is not in the backup",
                item.location_id
            ));
        }
        if let Some(category) = item.category_id {
            if self.category_ids.binary_search(&category).is_err() {
                return Err(format!("its category {category} is not in the backup"));
            }
        }
        let stored = NewItem::from(item);
        let valid = stored.validated().map_err(|e| e.to_string())?;
        if valid != stored {
            return Err(differences(&stored, &valid));
        }
        Ok(())
    }

    fn user(&mut self) -> Result<(), String> {
        let Some(user) = self.row.users.last() else {
            return Ok(());
        };
        if !Role::ALL.iter().any(|r| r.as_str() == user.role) {
            return Err(format!(
                "role \"{}\" is not one of admin, member, viewer",
                user.role
            ));
        }
        if argon2::password_hash::PasswordHash::new(&user.password_hash).is_err() {
            return Err("password_hash is not a PHC password hash string".into());
        }
        if let Some(other) = self.usernames.insert(user.username_key.clone(), user.id) {
            return Err(format!(
                "username \"{}\" is already used by user {other} (user names are unique regardless of case)",
                user.username
            ));
        }
        canonical(
            "username",
            &user.username,
            inventory_core::validate_username(&user.username).map(Some),
        )?;
        self.user_ids.push(user.id);
        Ok(())
    }

    fn token(&mut self) -> Result<(), String> {
        let Some(token) = self.row.api_tokens.last() else {
            return Ok(());
        };
        if self.user_ids.binary_search(&token.user_id).is_err() {
            return Err(format!("its user {} is not in the backup", token.user_id));
        }
        let hex = |s: &str| s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if token.token_hash.len() != 64 || !hex(&token.token_hash) {
            return Err("token_hash is not a SHA-256 hash (64 lower-case hex digits)".into());
        }
        if token.prefix.is_empty() || token.prefix.chars().count() > 16 {
            return Err("prefix must be 1 to 16 characters".into());
        }
        if !["read", "write"].contains(&token.scope.as_str()) {
            return Err(format!(
                "scope \"{}\" is not one of read, write",
                token.scope
            ));
        }
        canonical_opt(
            "label",
            &token.label,
            validate_description("label", token.label.as_deref()),
        )?;
        if let Some(other) = self.token_hashes.insert(token.token_hash.clone(), token.id) {
            return Err(format!(
                "token_hash is already used by token {other} (token hashes are unique)"
            ));
        }
        Ok(())
    }

    /// The first problem of meaning, the rows' own or the location tree's.
    fn finish(mut self) -> Result<(), DbError> {
        match self.problem.take() {
            Some(problem) => Err(problem),
            None => self.check_tree(),
        }
    }

    /// No orphans, no cycles of parents, no two siblings with the same name (ids are known
    /// to be unique and increasing by now).
    fn check_tree(&mut self) -> Result<(), DbError> {
        const ROOT: u32 = u32::MAX;
        let ids = &self.location_ids;
        let mut up = Vec::with_capacity(ids.len());
        for (&id, &parent) in ids.iter().zip(&self.parents) {
            if parent == 0 {
                up.push(ROOT);
                continue;
            }
            let Ok(row) = ids.binary_search(&parent) else {
                let what = format!("backup location {id} is an orphan: its parent {parent}");
                return Err(bad(format!("{what} is not in the backup")));
            };
            up.push(row as u32);
        }
        // Walk up from every location; a walk that meets itself is a cycle.
        const NEW: u8 = 0;
        const ON_PATH: u8 = 1;
        const SOUND: u8 = 2;
        let mut state = vec![NEW; ids.len()];
        let mut path = Vec::new();
        for start in 0..ids.len() {
            let mut at = start as u32;
            while at != ROOT && state[at as usize] == NEW {
                state[at as usize] = ON_PATH;
                path.push(at);
                at = up[at as usize];
            }
            if at != ROOT && state[at as usize] == ON_PATH {
                let from = path.iter().position(|&r| r == at).unwrap_or(0);
                let members: Vec<String> = path[from..]
                    .iter()
                    .map(|&r| ids[r as usize].to_string())
                    .collect();
                return Err(bad(format!(
                    "backup locations form a cycle of parents: {}",
                    members.join(" → ")
                )));
            }
            for r in path.drain(..) {
                state[r as usize] = SOUND;
            }
        }
        self.sibling_names.sort_unstable();
        for group in self.sibling_names.chunk_by(|a, b| a.0 == b.0) {
            if group.len() > 1 {
                let mut same: Vec<i64> = group.iter().map(|&(_, r)| ids[r as usize]).collect();
                same.sort_unstable();
                let same: Vec<String> = same.iter().map(i64::to_string).collect();
                return Err(bad(format!(
                    "backup locations {} are siblings with the same name",
                    same.join(", ")
                )));
            }
        }
        Ok(())
    }
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

/// The backup `input` holds, uncompressed (gzip or zstd are recognised by their magic
/// bytes).
fn uncompressed<'a>(
    input: &'a mut (dyn Read + Send),
) -> Result<Box<dyn Read + Send + 'a>, DbError> {
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
    let compression = Compression::from_magic(&magic[..n]);
    let whole = std::io::Cursor::new(magic).take(n as u64).chain(input);
    Ok(match compression {
        Compression::None => Box::new(whole),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(whole)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::new(whole)
                .map_err(|e| bad(format!("cannot start zstd decompression: {e}")))?,
        ),
    })
}

/// The first pass: reads the whole backup, one row at a time, and checks it completely
/// (syntax, counts, checksum, schema version, then meaning) without keeping the rows.
fn check_backup(input: &mut (dyn Read + Send), backend: Backend) -> Result<Checked, DbError> {
    let mut plain = uncompressed(input)?;
    let mut reader = format::Reader::open(&mut *plain)?;
    let mut checker = Checker::default();
    while let Some(line) = reader.next_row()? {
        checker.row(&line)?;
    }
    check_schema_version(backend, reader.schema_version())?;
    checker.finish()?;
    Ok(Checked {
        schema_version: reader.schema_version().to_string(),
        counts: reader.counts(),
        checksum: reader.checksum(),
    })
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

/// The second pass: inserts every row of a checked backup as `reader` reads it again, with
/// the bulk INSERT, a batch at a time (memory: one batch). Rows come in id order, so a
/// location may come before its parent (one moved under a newer location). The bulk
/// transaction checks the foreign keys once every row is in (SQLite runs it with them off;
/// PostgreSQL sets them aside and adds them again at the end), so such a location goes in
/// with its parent all the same — unless the keys stayed (a role that does not own the
/// tables): it then goes in as its own parent, which keeps the key and the sibling-name
/// index satisfied, and gets its parent once every location is in. Run it in a bulk
/// transaction; an error (the file changed since it was checked, say) rolls it all back.
/// Hands back what the kept totals need of the rows.
async fn insert_backup(
    conn: &mut Conn,
    reader: &mut format::Reader<'_>,
    checked: &Checked,
    progress: Progress<'_>,
) -> Result<LoadedRows, DbError> {
    let total: u64 = checked.counts.iter().map(|(_, n)| n).sum();
    progress(0, total);
    let mut batch = Snapshot::default();
    let mut loaded = LoadedRows::default();
    let keys_live = crate::set_aside::parent_key_is_live(conn).await?;
    let mut later_parents: Vec<(i64, i64)> = Vec::new();
    let mut table = 0;
    let mut done = 0u64;
    while let Some(line) = reader.next_row()? {
        if line.table != table {
            done += flush(conn, &mut batch, table).await?;
            table = line.table;
        }
        batch.tables_mut()[table]
            .push_line(line.columns, &line.text)
            .map_err(|e| DbError::file(FileKind::Backup, Some(line.number), e))?;
        // The row just read, as the totals need it (before a parent is held back).
        if let Some(loc) = batch.locations.last_mut().filter(|_| table == LOCATIONS) {
            loaded.location(loc.id, loc.parent_id);
            if let Some(parent) = loc.parent_id.filter(|&p| keys_live && p > loc.id) {
                later_parents.push((loc.id, parent));
                loc.parent_id = Some(loc.id);
            }
        }
        if let Some(i) = batch.items.last().filter(|_| table == ITEMS) {
            let currency = i.currency.as_deref();
            loaded.item(
                i.id,
                i.location_id,
                currency,
                i.quantity,
                i.purchase_price_cents,
            );
        }
        if batch.tables()[table].len() >= INSERT_BATCH {
            done += flush(conn, &mut batch, table).await?;
            progress(done, total);
        }
    }
    done += flush(conn, &mut batch, table).await?;
    if reader.checksum() != checked.checksum || done != total {
        return Err(bad(
            "the backup changed while it was being restored; nothing was restored",
        ));
    }
    for pairs in later_parents.chunks(INSERT_BATCH) {
        set_parents(conn, pairs).await?;
    }
    progress(total, total);
    Ok(loaded)
}

/// Sets the parent of each location of `pairs` (id, parent) with one UPDATE.
async fn set_parents(conn: &mut Conn, pairs: &[(i64, i64)]) -> Result<(), DbError> {
    use diesel_async::RunQueryDsl;
    let json = serde_json::to_string(pairs)
        .map_err(|e| DbError::internal("cannot encode parents", Some(Box::new(e) as _)))?;
    let sql = match conn.backend() {
        Backend::Postgres => {
            "UPDATE locations SET parent_id = (r ->> 1)::bigint \
             FROM jsonb_array_elements($1::jsonb) AS pairs (r) \
             WHERE locations.id = (r ->> 0)::bigint"
        }
        Backend::Sqlite => {
            "UPDATE locations SET parent_id = pairs.value ->> 1 \
             FROM json_each($1) AS pairs WHERE locations.id = pairs.value ->> 0"
        }
    };
    let query = diesel::sql_query(sql).bind::<diesel::sql_types::Text, _>(json);
    crate::conn::db_run!(conn, |c| query.execute(c).await)?;
    Ok(())
}

/// Inserts the rows held for `table` and empties the batch; returns how many rows.
async fn flush(conn: &mut Conn, batch: &mut Snapshot, table: usize) -> Result<u64, DbError> {
    let rows = &mut batch.tables_mut()[table];
    let n = rows.len();
    if n > 0 {
        insert_batch(conn, &**rows, 0..n).await?;
        rows.clear();
    }
    Ok(n as u64)
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

/// In one bulk transaction: (optionally) checks that every table is empty, deletes every
/// row (children's tables first), inserts the rows of the checked backup `reader` reads,
/// and moves every id sequence past the largest restored id; hands back what the kept
/// totals need of the rows. Any error rolls all of it back.
async fn replace_all(
    conn: &mut Conn,
    reader: &mut format::Reader<'_>,
    checked: &Checked,
    require_empty: bool,
    progress: Progress<'_>,
) -> Result<((), LoadedRows), DbError> {
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
    // included) ever sees a missing parent. On SQLite the bulk transaction rebuilds the
    // search index afterwards.
    let mut delete = String::new();
    for spec in Snapshot::specs().iter().rev() {
        delete.push_str(&format!("DELETE FROM {};", spec.name));
    }
    crate::conn::db_run!(conn, |c| c.batch_execute(&delete).await)?;
    let loaded = insert_backup(conn, reader, checked, progress).await?;
    reset_sequences(conn).await?;
    Ok(((), loaded))
}

/// A backup source that can be read twice: once to check it, once to load it.
pub trait BackupSource: Read + std::io::Seek + Send {}

impl<T: Read + std::io::Seek + Send> BackupSource for T {}

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

    /// Checks the backup `input` holds from its current position (first pass), then
    /// replaces every row with it in one tree-write transaction (second pass). Memory stays
    /// the same whatever the size of the backup, apart from about 40 bytes per location.
    async fn load(
        &self,
        input: &mut dyn BackupSource,
        require_empty: bool,
        progress: Progress<'_>,
    ) -> Result<BackupSummary, DbError> {
        let seek_error = |e| DbError::io("cannot read the backup", e);
        let start = input.stream_position().map_err(seek_error)?;
        let checked = check_backup(input, self.backend())?;
        self.prepare_for_load().await?;
        input
            .seek(std::io::SeekFrom::Start(start))
            .map_err(seek_error)?;
        let mut plain = uncompressed(input)?;
        let mut reader = format::Reader::open(&mut *plain)?;
        let (reader, checked_ref) = (&mut reader, &checked);
        self.bulk_transaction(async move |c| {
            replace_all(c, reader, checked_ref, require_empty, progress).await
        })
        .await?;
        self.refresh_statistics().await;
        Ok(summary(&checked.schema_version, &checked.counts))
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
    /// magic bytes), from its current position. The whole input is read and checked before
    /// the database is touched, keeping only ids and keys; then the schema is migrated if
    /// needed and every table replaced in one transaction while the input is read again.
    /// A bad input is `DbError::InvalidFile` naming the problem, and leaves the data unchanged.
    pub async fn restore_backup(
        &self,
        input: &mut dyn BackupSource,
        progress: Progress<'_>,
    ) -> Result<BackupSummary, DbError> {
        self.load(input, false, progress).await
    }

    /// [`Database::restore_backup`] from a file; compression is detected from its first
    /// bytes, whatever its extension.
    pub async fn restore_from_file(
        &self,
        path: &Path,
        progress: Progress<'_>,
    ) -> Result<BackupSummary, DbError> {
        let file = std::fs::File::open(path)
            .map_err(|e| DbError::io(format!("cannot open backup {}", path.display()), e))?;
        let mut file = std::io::BufReader::with_capacity(1 << 16, file);
        self.restore_backup(&mut file, progress).await
    }

    /// Copies every row into `target`, which may be of either backend. The target must
    /// hold no rows in any table (`DbError::NotEmpty` names one that does); it is migrated
    /// if needed, and loaded all-or-nothing like a restore. The rows pass through a plain
    /// backup in an anonymous temporary file (in the system's temporary directory), so
    /// memory stays the same whatever the size of the database.
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
        let spool_error = |e| DbError::io("cannot write the copy's temporary file", e);
        let mut spool = tempfile::tempfile().map_err(spool_error)?;
        {
            let mut out = std::io::BufWriter::with_capacity(1 << 16, &mut spool);
            self.stream_backup(&mut out, &|_, _| {}).await?;
            out.flush().map_err(spool_error)?;
        }
        spool
            .seek(std::io::SeekFrom::Start(0))
            .map_err(spool_error)?;
        let mut spool = std::io::BufReader::with_capacity(1 << 16, spool);
        target.load(&mut spool, true, progress).await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_table_positions_name_their_tables() {
        let names = super::table_names();
        assert_eq!(names[super::LOCATIONS], "locations");
        assert_eq!(names[super::ITEMS], "items");
    }
}
