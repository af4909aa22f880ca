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
//! names and hashes), and only then is the target migrated if needed and replaced in one
//! write transaction.

mod format;
mod tables;

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use inventory_core::{
    analyze, name_key, validate_category_name, validate_description, validate_item_name,
    validate_location_name, validate_price, validate_quantity, validate_serial, validate_username,
    LocationRow, LocationType, Role, TypeRules,
};
use serde::Serialize;

use crate::admin::TableCount;
use crate::config::Backend;
use crate::error::DbError;
use crate::pool::Database;
use tables::{LocationData, Snapshot, TABLES};

/// The `format` field of every backup header.
pub const FORMAT_NAME: &str = "home-inventory-backup";
/// The backup format version this program writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

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

/// Called with (rows done, rows total) as work progresses; the CLI drives a progress bar with it.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

/// Per-backend queries: `backup/queries.rs` compiled once for each, like `store`.
mod pg {
    pub(crate) type Conn = diesel_async::AsyncPgConnection;

    const RESET_SEQUENCES: &str = include_str!("sql/postgres/reset_sequences.sql");

    /// A read-only REPEATABLE READ transaction: every table from one snapshot.
    macro_rules! read_tx {
        ($conn:expr, |$c:ident| $body:expr) => {
            $conn
                .build_transaction()
                .read_only()
                .repeatable_read()
                .run(async |$c: &mut Conn| $body)
                .await
        };
    }

    /// A write transaction holding the tree write lock, so that a restore serialises with
    /// moves and with other restores.
    macro_rules! write_tx {
        ($conn:expr, |$c:ident| $body:expr) => {
            diesel_async::AsyncConnection::transaction($conn, async |$c: &mut Conn| {
                diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                    .bind::<diesel::sql_types::BigInt, _>(crate::store::TREE_WRITE_LOCK_KEY)
                    .execute($c)
                    .await?;
                $body
            })
            .await
        };
    }

    /// One multi-row INSERT.
    macro_rules! insert_batch {
        ($c:expr, $table:expr, $rows:expr) => {
            diesel::insert_into($table).values($rows).execute($c).await
        };
    }

    include!("backup/queries.rs");
}

mod sqlite {
    pub(crate) type Conn = crate::pool::SqliteConn;

    const RESET_SEQUENCES: &str = include_str!("sql/sqlite/reset_sequences.sql");

    /// A read transaction: in WAL mode, one snapshot of every table.
    macro_rules! read_tx {
        ($conn:expr, |$c:ident| $body:expr) => {
            diesel_async::AsyncConnection::transaction($conn, async |$c: &mut Conn| $body).await
        };
    }

    /// `BEGIN IMMEDIATE`: SQLite's write lock from the start.
    macro_rules! write_tx {
        ($conn:expr, |$c:ident| $body:expr) => {
            $conn
                .immediate_transaction(async |$c: &mut Conn| $body)
                .await
        };
    }

    /// One multi-row INSERT. diesel builds SQLite's multi-row INSERT only on its sync
    /// connection (diesel-async lacks that dispatch), so it runs there, inside the same
    /// transaction, with an owned copy of the rows.
    macro_rules! insert_batch {
        ($c:expr, $table:expr, $rows:expr) => {{
            let rows = $rows.to_vec();
            $c.spawn_blocking(move |sync| {
                diesel::RunQueryDsl::execute(diesel::insert_into($table).values(&rows), sync)
            })
            .await
        }};
    }

    include!("backup/queries.rs");
}

/// Runs `$body` with `$conn` a pooled connection and `backend` that backend's module.
macro_rules! backup_run {
    ($db:expr, |$conn:ident| $body:expr) => {
        match &$db.pool {
            crate::pool::Pool::Postgres(pool) => {
                use crate::backup::pg as backend;
                let mut guard = pool.get().await?;
                let $conn: &mut diesel_async::AsyncPgConnection = &mut guard;
                $body
            }
            crate::pool::Pool::Sqlite(pool) => {
                use crate::backup::sqlite as backend;
                let mut guard = pool.get().await?;
                let $conn: &mut crate::pool::SqliteConn = &mut guard;
                $body
            }
        }
    };
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

/// The migration versions this program knows for a backend, oldest first.
fn program_versions(backend: Backend) -> Result<Vec<String>, DbError> {
    use diesel::migration::MigrationSource;
    let error = |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    Ok(match backend {
        Backend::Postgres => {
            MigrationSource::<diesel::pg::Pg>::migrations(&crate::migrations::POSTGRES)
                .map_err(error)?
                .iter()
                .map(|m| m.name().version().to_string())
                .collect()
        }
        Backend::Sqlite => {
            MigrationSource::<diesel::sqlite::Sqlite>::migrations(&crate::migrations::SQLITE)
                .map_err(error)?
                .iter()
                .map(|m| m.name().version().to_string())
                .collect()
        }
    })
}

/// Refuses a backup whose schema this program does not know (newer, or unknown).
fn check_schema_version(backend: Backend, version: &str) -> Result<(), DbError> {
    let known = program_versions(backend)?;
    if known.iter().any(|k| k == version) {
        return Ok(());
    }
    match known.last() {
        Some(latest) if (version.len(), version) < (latest.len(), latest.as_str()) => {
            Err(DbError::Invalid(format!(
                "backup schema version {version} is not a migration this program knows"
            )))
        }
        latest => Err(DbError::Invalid(format!(
            "backup schema version {version} is newer than this program's latest migration ({}); upgrade Home Inventory",
            latest.map_or("none", String::as_str)
        ))),
    }
}

/// Checks what a backup means, beyond its syntax: primary-key order, valid values, a
/// location tree without orphans, cycles or duplicate sibling names, and (see
/// [`validate_others`]) the other tables' references and unique values. Type-rule findings
/// are allowed: a database may run with other rules than the default set.
fn validate(snapshot: &Snapshot) -> Result<(), DbError> {
    for (index, table) in TABLES.iter().enumerate() {
        let keys = snapshot.keys(index);
        if let Some(w) = keys.windows(2).find(|w| w[1] <= w[0]) {
            return Err(DbError::Invalid(format!(
                "backup table {}: id {} follows id {}; rows must be in increasing primary-key order",
                table.name, w[1], w[0]
            )));
        }
    }
    let mut rows = Vec::with_capacity(snapshot.locations.len());
    for loc in &snapshot.locations {
        let bad = |what: String| DbError::Invalid(format!("backup location {}: {what}", loc.id));
        let location_type: LocationType =
            loc.location_type.parse().map_err(|e| bad(format!("{e}")))?;
        validate_location_name(&loc.name).map_err(|e| bad(e.to_string()))?;
        validate_description("description", loc.description.as_deref())
            .map_err(|e| bad(e.to_string()))?;
        rows.push(LocationRow {
            id: loc.id,
            parent_id: loc.parent_id,
            location_type,
            name: loc.name.clone(),
        });
    }
    let report = analyze(&rows, &TypeRules::default());
    if let Some(id) = report.duplicate_ids.first() {
        return Err(DbError::Invalid(format!(
            "backup has location id {id} more than once"
        )));
    }
    if let Some(o) = report.orphans.first() {
        return Err(DbError::Invalid(format!(
            "backup location {} is an orphan: its parent {} is not in the backup",
            o.id, o.missing_parent_id
        )));
    }
    if let Some(c) = report.cycles.first() {
        let ids: Vec<String> = c.members.iter().map(i64::to_string).collect();
        return Err(DbError::Invalid(format!(
            "backup locations form a cycle of parents: {}",
            ids.join(" → ")
        )));
    }
    if let Some(d) = report.duplicate_names.first() {
        let ids: Vec<String> = d.ids.iter().map(i64::to_string).collect();
        return Err(DbError::Invalid(format!(
            "backup locations {} are siblings with the same name",
            ids.join(", ")
        )));
    }
    validate_others(snapshot)
}

/// The line number (1-based, the header being line 1) of row `row` of table `table`:
/// the file holds the tables in [`TABLES`] order, a table it leaves out having no rows.
fn line_of(snapshot: &Snapshot, table: &str, row: usize) -> usize {
    let before: u64 = snapshot
        .counts()
        .into_iter()
        .take_while(|(name, _)| *name != table)
        .map(|(_, n)| n)
        .sum();
    usize::try_from(before)
        .unwrap_or(usize::MAX)
        .saturating_add(row)
        .saturating_add(2)
}

/// Checks categories, items, users and API tokens: valid values, references to rows
/// present in the backup, and the uniqueness the schema demands.
fn validate_others(snapshot: &Snapshot) -> Result<(), DbError> {
    let bad = |table: &str, row: usize, id: i64, what: String| {
        DbError::Invalid(format!(
            "backup line {} ({table} id {id}): {what}",
            line_of(snapshot, table, row)
        ))
    };
    let locations: HashSet<i64> = snapshot.locations.iter().map(|l| l.id).collect();

    let mut categories: HashMap<String, i64> = HashMap::new();
    for (row, c) in snapshot.categories.iter().enumerate() {
        let bad = |what: String| bad("categories", row, c.id, what);
        validate_category_name(&c.name).map_err(|e| bad(e.to_string()))?;
        validate_description("description", c.description.as_deref())
            .map_err(|e| bad(e.to_string()))?;
        if let Some(other) = categories.insert(name_key(&c.name), c.id) {
            return Err(bad(format!(
                "category name \"{}\" is already used by category {other} (names are unique regardless of case)",
                c.name
            )));
        }
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
        validate_item_name(&item.name).map_err(|e| bad(e.to_string()))?;
        validate_quantity(item.quantity).map_err(|e| bad(e.to_string()))?;
        validate_price(item.purchase_price_cents, item.currency.as_deref())
            .map_err(|e| bad(e.to_string()))?;
        if item.currency.is_some() != item.purchase_price_cents.is_some() {
            // An empty currency string next to a price.
            return Err(bad(
                "price and currency must be both set or both empty".into()
            ));
        }
        validate_serial(item.serial_number.as_deref()).map_err(|e| bad(e.to_string()))?;
        validate_description("description", item.description.as_deref())
            .map_err(|e| bad(e.to_string()))?;
        validate_description("notes", item.notes.as_deref()).map_err(|e| bad(e.to_string()))?;
    }

    let mut usernames: HashMap<String, i64> = HashMap::new();
    for (row, user) in snapshot.users.iter().enumerate() {
        let bad = |what: String| bad("users", row, user.id, what);
        validate_username(&user.username).map_err(|e| bad(e.to_string()))?;
        if !Role::ALL.iter().any(|r| r.as_str() == user.role) {
            return Err(bad(format!(
                "role \"{}\" is not one of admin, member, viewer",
                user.role
            )));
        }
        if argon2::password_hash::PasswordHash::new(&user.password_hash).is_err() {
            return Err(bad("password_hash is not a PHC password hash string".into()));
        }
        if let Some(other) = usernames.insert(name_key(&user.username), user.id) {
            return Err(bad(format!(
                "username \"{}\" is already used by user {other} (user names are unique regardless of case)",
                user.username
            )));
        }
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
        validate_description("label", token.label.as_deref()).map_err(|e| bad(e.to_string()))?;
        if let Some(other) = hashes.insert(&token.token_hash, token.id) {
            return Err(bad(format!(
                "token_hash is already used by token {other} (token hashes are unique)"
            )));
        }
    }
    Ok(())
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
        return Err(DbError::Invalid(
            "backup locations do not form a tree (orphans or cycles)".into(),
        ));
    }
    let mut slots: Vec<Option<LocationData>> = rows.into_iter().map(Some).collect();
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
            Err(e) => return Err(DbError::Invalid(format!("cannot read the backup: {e}"))),
        }
    }
    let prefix = &magic[..n];
    let mut whole = std::io::Cursor::new(prefix).chain(input);
    let decoded = match Compression::from_magic(prefix) {
        Compression::None => format::decode(&mut whole)?,
        Compression::Gzip => format::decode(&mut flate2::read::MultiGzDecoder::new(whole))?,
        Compression::Zstd => {
            let mut decoder = zstd::stream::read::Decoder::new(whole)
                .map_err(|e| DbError::Invalid(format!("cannot start zstd decompression: {e}")))?;
            format::decode(&mut decoder)?
        }
    };
    check_schema_version(backend, &decoded.schema_version)?;
    validate(&decoded.snapshot)?;
    Ok(decoded)
}

static TEMP_COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A fresh temporary name next to `path` (same directory, so the final rename is atomic).
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "backup".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(
        ".{name}.{}-{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ))
}

/// Writes the backup file at `temp`, compressed as asked, and syncs it to disk.
fn write_file(
    temp: &Path,
    compression: Compression,
    snapshot: &Snapshot,
    schema_version: &str,
    progress: Progress<'_>,
) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(temp)?;
    let file = match compression {
        Compression::None => {
            let mut file = file;
            format::encode(snapshot, schema_version, &mut file, progress)?;
            file
        }
        Compression::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(file, flate2::Compression::default());
            format::encode(snapshot, schema_version, &mut enc, progress)?;
            enc.finish()?
        }
        Compression::Zstd => {
            let mut enc = zstd::stream::write::Encoder::new(file, zstd::DEFAULT_COMPRESSION_LEVEL)?;
            format::encode(snapshot, schema_version, &mut enc, progress)?;
            enc.finish()?
        }
    };
    file.sync_all()
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
        let snapshot = backup_run!(self, |conn| backend::read_snapshot(conn).await)?;
        Ok((version, snapshot))
    }

    /// Migrates this database when migrations are pending; refuses a newer schema.
    async fn prepare_for_load(&self) -> Result<(), DbError> {
        match self.ensure_schema_current().await {
            Err(DbError::SchemaNotCurrent { .. }) => self.migrate().await.map(|_| ()),
            other => other,
        }
    }

    /// Replaces every row with `snapshot` (already checked) in one write transaction.
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
        backup_run!(self, |conn| {
            backend::replace_all(conn, &ordered, require_empty, progress).await
        })?;
        Ok(summary)
    }

    /// Writes a plain (uncompressed) backup of every table to `out`.
    pub async fn write_backup(
        &self,
        out: &mut (dyn Write + Send),
        progress: Progress<'_>,
    ) -> Result<BackupSummary, DbError> {
        let (version, snapshot) = self.snapshot().await?;
        format::encode(&snapshot, &version, out, progress)
            .map_err(|e| DbError::Invalid(format!("cannot write the backup: {e}")))?;
        Ok(summary(&version, &snapshot))
    }

    /// Writes a backup to `path`, compressed by its extension (`.gz`, `.zst`). The file is
    /// written under a temporary name in the same directory and renamed when complete, so
    /// a failed backup never leaves a half file under the final name.
    pub async fn backup_to_file(
        &self,
        path: &Path,
        progress: Progress<'_>,
    ) -> Result<BackupSummary, DbError> {
        let (version, snapshot) = self.snapshot().await?;
        let temp = temp_path(path);
        let written = write_file(
            &temp,
            Compression::from_path(path),
            &snapshot,
            &version,
            progress,
        )
        .and_then(|()| std::fs::rename(&temp, path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(DbError::Invalid(format!(
                "cannot write backup {}: {e}",
                path.display()
            )));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the rename itself durable; not every platform can open a directory.
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(summary(&version, &snapshot))
    }

    /// Replaces all data with a backup read from `input` (plain, gzip or zstd, detected by
    /// magic bytes). The whole input is read and checked before the database is touched;
    /// then the schema is migrated if needed and every table replaced in one transaction.
    /// A bad input is `DbError::Invalid` naming the problem, and leaves the data unchanged.
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
            .map_err(|e| DbError::Invalid(format!("cannot open backup {}: {e}", path.display())))?;
        self.restore_backup(&mut file, progress).await
    }

    /// Copies every row into `target`, which may be of either backend. The target must
    /// hold no rows in any table (`DbError::Conflict` names one that does); it is migrated
    /// if needed, and loaded all-or-nothing like a restore.
    pub async fn copy_to(
        &self,
        target: &Database,
        progress: Progress<'_>,
    ) -> Result<BackupSummary, DbError> {
        if let Some(t) = target
            .stats()
            .await?
            .tables
            .into_iter()
            .find(|t| t.rows > 0)
        {
            return Err(DbError::Conflict(format!(
                "the target database is not empty: table {} has {} row(s)",
                t.table, t.rows
            )));
        }
        let (version, snapshot) = self.snapshot().await?;
        check_schema_version(target.backend(), &version)?;
        validate(&snapshot)?;
        target.load(&version, snapshot, true, progress).await
    }
}
