//! Runbook operations: statistics, vacuum, integrity, health, schema introspection.

use std::collections::BTreeMap;
use std::time::Instant;

use diesel::sql_types::{Bool, Text};
use diesel::QueryableByName;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use inventory_core::{
    analyze, best_effort_paths, has_ascii_lower_case_key, is_name_key_of, name_key,
    IntegrityReport, LocationId, LocationRow,
};
use serde::Serialize;

use crate::config::Backend;
use crate::conn::{db_run, Conn, Dialect, TxMode};
use crate::error::DbError;
use crate::models::category::Category;
use crate::models::location::{
    checked_columns_page, each_row, CheckedColumns, Halves, LocationRecord,
};
use crate::models::user::UserRecord;
use crate::models::{Count, OneText};
use crate::ops::backup::table_names as data_tables;
use crate::pool::Database;

/// The table of the migration machinery (which migrations are applied).
pub const MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

/// SQLite's full-text index, derived from items and locations (its shadow tables go with it).
pub const SEARCH_TABLE: &str = "search_fts";

/// Rows in one table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableCount {
    /// Table name.
    pub table: String,
    /// Number of rows.
    pub rows: i64,
}

/// `db stats`: what is stored and how big it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Engine.
    pub backend: Backend,
    /// Where (password redacted).
    pub url: String,
    /// Engine version.
    pub server_version: String,
    /// Rows per table (migration bookkeeping excluded).
    pub tables: Vec<TableCount>,
    /// Size of the database in bytes.
    pub size_bytes: i64,
    /// SQLite page size.
    pub page_size: Option<i64>,
    /// SQLite page count.
    pub page_count: Option<i64>,
    /// SQLite pages on the free list (reclaimed by vacuum).
    pub freelist_count: Option<i64>,
}

/// One engine-level check (PRAGMA quick_check and the like).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EngineCheck {
    /// Which check.
    pub name: String,
    /// True when it found nothing.
    pub ok: bool,
    /// What it found.
    pub problems: Vec<String>,
}

/// `db integrity`: the core analysis of the location tree plus the engine's own checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IntegrityOutcome {
    /// Tree findings.
    pub report: IntegrityReport,
    /// Best-effort full paths of every location named in a finding.
    pub paths: BTreeMap<LocationId, String>,
    /// Engine checks.
    pub engine: Vec<EngineCheck>,
}

impl IntegrityOutcome {
    /// True when neither the tree analysis nor an engine check found anything.
    pub fn is_clean(&self) -> bool {
        self.report.is_clean() && self.engine.iter().all(|c| c.ok)
    }

    /// Number of findings in all.
    pub fn finding_count(&self) -> usize {
        self.report.finding_count() + self.engine.iter().map(|c| c.problems.len()).sum::<usize>()
    }
}

/// One line of a health report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HealthCheck {
    /// What was checked.
    pub name: String,
    /// Passed.
    pub ok: bool,
    /// Measurement or reason.
    pub detail: String,
}

/// `db health`: connection, schema, a table round trip, integrity summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HealthReport {
    /// Every check that ran, in order.
    pub checks: Vec<HealthCheck>,
}

impl HealthReport {
    /// True when every check passed.
    pub fn healthy(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

/// A column as the database describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, QueryableByName)]
pub struct ColumnInfo {
    /// Table name.
    #[diesel(sql_type = Text)]
    pub table_name: String,
    /// Column name.
    #[diesel(sql_type = Text)]
    pub column_name: String,
    /// Declared type as the engine reports it (lower-case).
    #[diesel(sql_type = Text)]
    pub data_type: String,
    /// Nullable.
    #[diesel(sql_type = Bool)]
    pub nullable: bool,
    /// Part of the primary key.
    #[diesel(sql_type = Bool)]
    pub primary_key: bool,
}

/// A foreign key as the database describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, QueryableByName)]
pub struct ForeignKeyInfo {
    /// Referencing table.
    #[diesel(sql_type = Text)]
    pub table_name: String,
    /// Referencing column.
    #[diesel(sql_type = Text)]
    pub column_name: String,
    /// Referenced table.
    #[diesel(sql_type = Text)]
    pub foreign_table: String,
    /// `CASCADE`, `SET NULL`, `RESTRICT`, `NO ACTION`.
    #[diesel(sql_type = Text)]
    pub on_delete: String,
    /// Whether some index starts with the referencing column.
    #[diesel(sql_type = Bool)]
    pub indexed: bool,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// Rows in each of Home Inventory's tables that exist (in backup order).
pub(crate) async fn row_counts(conn: &mut Conn) -> Result<Vec<TableCount>, DbError> {
    let present = present_tables(conn).await?;
    let mut counts = Vec::with_capacity(present.len());
    for table in data_tables() {
        if !present.iter().any(|p| p == table) {
            continue;
        }
        let query = diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"));
        let c: Count = db_run!(conn, |c| query.get_result(c).await)?;
        counts.push(TableCount {
            table: table.to_string(),
            rows: c.n,
        });
    }
    Ok(counts)
}

/// The kept location totals: derived from the items, not part of a backup.
const TOTALS_TABLE: &str = "location_totals";

const PRESENT_TABLES: Dialect = Dialect {
    postgres: "SELECT table_name::text AS name FROM information_schema.tables \
               WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
    sqlite: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1",
};

/// Every table in the database's schema (ours and anything else's).
async fn present_tables(conn: &mut Conn) -> Result<Vec<String>, DbError> {
    let query = diesel::sql_query(PRESENT_TABLES.sql(conn));
    let rows: Vec<Name> = db_run!(conn, |c| query.load(c).await)?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

/// Every location as a core row, read a page at a time in one snapshot (on PostgreSQL in
/// two halves at once: see [`each_row`] and [`Halves`]), with the rows whose stored name key is not the
/// key of their name (left by an interrupted upgrade, or written by another program: they
/// escape the uniqueness check). The keys are compared as each page comes and not kept.
async fn tree_rows_and_stale_keys(
    db: &Database,
) -> Result<(Vec<LocationRow>, Vec<String>), DbError> {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    each_row(
        db,
        Halves::PostgresOnly,
        checked_columns_page,
        core_rows,
        |(page, stale)| {
            rows.extend(page);
            problems.extend(stale);
            Ok(())
        },
    )
    .await?;
    let (categories, users) = db
        .read(async |c| Ok((Category::keys(c).await?, UserRecord::keys(c).await?)))
        .await?;
    for (id, name, key) in categories {
        if !is_name_key_of(&key, &name) {
            problems.push(format!("category #{id} \"{name}\" has a stale name key"));
        }
    }
    for (id, name, key) in users {
        if !is_name_key_of(&key, &name) {
            problems.push(format!("user #{id} \"{name}\" has a stale name key"));
        }
    }
    Ok((rows, problems))
}

/// One page of the integrity check's columns as core rows, with a line for each stale
/// name key.
fn core_rows(page: Vec<CheckedColumns>) -> Result<(Vec<LocationRow>, Vec<String>), DbError> {
    let mut rows = Vec::with_capacity(page.len());
    let mut stale = Vec::new();
    for (id, parent_id, position, odd_type, name, key) in page {
        let fresh = match &key {
            Some(key) => is_name_key_of(key, &name),
            // The stored key is the name with its ASCII letters lower-cased.
            None => has_ascii_lower_case_key(&name),
        };
        if !fresh {
            stale.push(format!("location #{id} \"{name}\" has a stale name key"));
        }
        rows.push(LocationRow {
            id,
            parent_id,
            location_type: LocationRecord::checked_type(id, position, odd_type.as_deref())?,
            name,
        });
    }
    Ok((rows, stale))
}

/// Runs the futures concurrently; their results in order, or the first error.
async fn join_all<T>(
    futures: impl Iterator<Item = impl std::future::Future<Output = Result<T, DbError>>>,
) -> Result<Vec<T>, DbError> {
    let mut running: Vec<std::pin::Pin<Box<_>>> = futures.map(Box::pin).collect();
    let mut out: Vec<Option<Result<T, DbError>>> = (0..running.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in running.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// The line `PRAGMA foreign_key_check` gives for a location whose parent is missing: the
/// tree analysis finds those rows (orphans) from the read it makes anyway, so the engine
/// check leaves the locations table out and these lines stand in for it.
fn orphan_fk_line(id: LocationId) -> String {
    format!("table locations row {id} refers to a missing row of locations")
}

const SERVER_VERSION: Dialect = Dialect {
    postgres: "SELECT current_setting('server_version') AS v",
    sqlite: "SELECT sqlite_version() AS v",
};

const VACUUM: Dialect = Dialect {
    postgres: "VACUUM ANALYZE",
    sqlite: "VACUUM; ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);",
};

const COLUMNS: Dialect = Dialect {
    postgres: include_str!("../sql/postgres/columns.sql"),
    sqlite: include_str!("../sql/sqlite/columns.sql"),
};

const FOREIGN_KEYS: Dialect = Dialect {
    postgres: include_str!("../sql/postgres/foreign_keys.sql"),
    sqlite: include_str!("../sql/sqlite/foreign_keys.sql"),
};

const SCHEMA_DUMP: Dialect = Dialect {
    postgres: include_str!("../sql/postgres/schema_dump.sql"),
    sqlite: include_str!("../sql/sqlite/schema_dump.sql"),
};

/// Drops the functions the PostgreSQL migrations create (after their tables).
const PG_FUNCTIONS_DROP: &str = "DROP FUNCTION IF EXISTS items_count_updated(); \
     DROP FUNCTION IF EXISTS items_count_deleted(); \
     DROP FUNCTION IF EXISTS items_count_inserted(); \
     DROP FUNCTION IF EXISTS add_category_item_counts(jsonb);";

/// The check that every category's kept `item_count` is the number of items it holds (the
/// triggers keep it; a write around them would not).
const CATEGORY_COUNTS_CHECK: (&str, &str) = (
    "category_counts",
    "SELECT 'category ' || c.name || ' (#' || c.id || ') counts ' || c.item_count || \
     ' item(s) but holds ' || coalesce(n.n, 0) AS v \
     FROM categories c LEFT JOIN ( \
         SELECT category_id, count(*) AS n FROM items \
         WHERE category_id IS NOT NULL GROUP BY category_id \
     ) AS n ON n.category_id = c.id \
     WHERE c.item_count <> coalesce(n.n, 0) ORDER BY c.id",
);

/// The check that every location's kept subtree totals (`location_totals`) are its own
/// items' amounts plus its children's kept totals, per currency: with the tree free of
/// cycles (the tree analysis checks that), this holds everywhere exactly when every kept
/// row is the sum over its subtree. One pass over the items and one over the kept rows.
const LOCATION_TOTALS_CHECK: (&str, &str) = (
    "location_totals",
    "WITH own AS ( \
         SELECT location_id, coalesce(currency, '') AS currency, count(*) AS items, \
                sum(quantity) AS quantity, \
                coalesce(sum((purchase_price_cents >> 20) * quantity), 0) AS hi, \
                coalesce(sum((purchase_price_cents & 1048575) * quantity), 0) AS lo \
         FROM items GROUP BY location_id, coalesce(currency, '') \
     ), below AS ( \
         SELECT l.parent_id AS location_id, t.currency, t.items, t.quantity, \
                t.value_hi AS hi, t.value_lo AS lo \
         FROM location_totals t JOIN locations l ON l.id = t.location_id \
         WHERE l.parent_id IS NOT NULL \
     ), expected AS ( \
         SELECT location_id, currency, sum(items) AS items, sum(quantity) AS quantity, \
                sum(hi) AS hi, sum(lo) AS lo \
         FROM (SELECT * FROM own UNION ALL SELECT * FROM below) AS parts \
         GROUP BY location_id, currency \
     ) \
     SELECT 'location #' || coalesce(t.location_id, e.location_id) || ' (' || \
            coalesce(nullif(coalesce(t.currency, e.currency), ''), 'no price') || \
            ') keeps ' || coalesce(t.items, 0) || ' item(s) of quantity ' || \
            coalesce(t.quantity, 0) || ' but holds ' || coalesce(e.items, 0) || \
            ' of quantity ' || coalesce(e.quantity, 0) || ' in its subtree' || \
            CASE WHEN coalesce(t.value_hi, 0) <> coalesce(e.hi, 0) \
                   OR coalesce(t.value_lo, 0) <> coalesce(e.lo, 0) \
                 THEN ', and the value differs' ELSE '' END AS v \
     FROM expected e FULL JOIN location_totals t \
         ON t.location_id = e.location_id AND t.currency = e.currency \
     WHERE t.location_id IS NULL OR e.location_id IS NULL OR t.items <> e.items \
        OR t.quantity <> e.quantity OR t.value_hi <> e.hi OR t.value_lo <> e.lo \
     ORDER BY coalesce(t.location_id, e.location_id), coalesce(t.currency, e.currency)",
);

/// The single-column foreign keys of a SQLite file, of every table but the one bound as
/// `$1` (`db integrity` leaves out `locations`, whose parent keys the tree analysis
/// checks), read to make the foreign-key check's statement.
const FOREIGN_KEYS_SQL: &str = "SELECT m.name AS child, f.\"from\" AS child_column, \
     f.\"table\" AS parent, f.\"to\" AS parent_column, \
     instr(upper(m.sql), 'WITHOUT ROWID') > 0 AS without_rowid \
     FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
     WHERE m.type = 'table' AND m.name <> $1 ORDER BY m.name, f.id";

/// The foreign-key check's statement for the SQLite file of `conn`, every table but
/// `except` (`""` for none): see [`foreign_key_check_sql`].
pub(crate) async fn sqlite_foreign_key_check(
    conn: &mut Conn,
    except: &str,
) -> Result<String, DbError> {
    let query = diesel::sql_query(FOREIGN_KEYS_SQL).bind::<Text, _>(except.to_string());
    let keys: Vec<ForeignKeyColumns> = db_run!(conn, |c| query.load(c).await)?;
    Ok(foreign_key_check_sql(&keys))
}

/// The tables of a SQLite file that are B-trees of their own (the schema table included;
/// a virtual table's rows live in its shadow tables, which are listed), by name:
/// `quick_check` runs on `locations` and on all the others at once, on two connections of
/// their own, so that the cores share the work (at 10^6 rows `quick_check('locations')`
/// took 0.8 s, the others together 0.9 s, the whole file's check 3.9 s). Each table's
/// check covers its indexes too; what the check of the whole file adds (pages used twice
/// or never, the search index's contents against its rows) is `integrity_check`'s, with
/// `--full`.
const BTREE_TABLES_SQL: &str = "SELECT name AS v FROM sqlite_master \
     WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' \
     UNION ALL SELECT 'sqlite_schema' ORDER BY v";

/// `quick_check` of each of `tables` in one statement (the lines of each table's check, in
/// order). The table names are the file's own, quoted as SQL string literals.
fn quick_check_sql(tables: &[String]) -> String {
    let parts: Vec<String> = tables
        .iter()
        .map(|t| {
            format!(
                "SELECT quick_check AS v FROM pragma_quick_check('{}') WHERE quick_check <> 'ok'",
                t.replace('\'', "''")
            )
        })
        .collect();
    parts.join(" UNION ALL ")
}

/// One foreign key as [`FOREIGN_KEYS_SQL`] reads it.
#[derive(diesel::QueryableByName)]
struct ForeignKeyColumns {
    #[diesel(sql_type = diesel::sql_types::Text)]
    child: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    child_column: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    parent: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    parent_column: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    without_rowid: bool,
}

/// The statement of SQLite's foreign-key check, with the lines `PRAGMA foreign_key_check`
/// gives (`table T row N refers to a missing row of P`; `?` for a table without rowids):
/// one anti-join per key, which SQLite answers by walking the child column's index in key
/// order, so the parent's rows are probed in order. `pragma_foreign_key_check` probes them
/// in the child's row order instead: 3.8 s against 1.7 s at 10^6 items.
fn foreign_key_check_sql(keys: &[ForeignKeyColumns]) -> String {
    let quote = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
    let text = |name: &str| format!("'{}'", name.replace('\'', "''"));
    let parts: Vec<String> = keys
        .iter()
        .map(|k| {
            let row = if k.without_rowid { "'?'" } else { "c.rowid" };
            let column = quote(&k.child_column);
            let parent_column = k.parent_column.as_deref().map_or("rowid".into(), quote);
            format!(
                "SELECT 'table ' || {} || ' row ' || {row} || ' refers to a missing row of ' || {} AS v \
                 FROM {} c WHERE c.{column} IS NOT NULL AND NOT EXISTS \
                 (SELECT 1 FROM {} p WHERE p.{parent_column} = c.{column})",
                text(&k.child),
                text(&k.parent),
                quote(&k.child),
                quote(&k.parent),
            )
        })
        .collect();
    if parts.is_empty() {
        return "SELECT NULL AS v WHERE 0".into();
    }
    parts.join(" UNION ALL ")
}

/// The engine's own checks: on SQLite `integrity_check` when `full` (`quick_check` of
/// each table otherwise, and the foreign-key check, both made from the file's schema by
/// `Database::engine_checks`); PostgreSQL invalid indexes and unvalidated constraints; on
/// both, the kept category counts and, when `full`, the kept location totals (every row
/// recomputed from the items and the children's rows: seconds at 10^6 rows, as
/// `integrity_check` is).
fn engine_check_queries(backend: Backend, full: bool) -> Vec<(&'static str, &'static str)> {
    let mut checks = engine_only_check_queries(backend, full);
    checks.push(CATEGORY_COUNTS_CHECK);
    if full {
        checks.push(LOCATION_TOTALS_CHECK);
    }
    checks
}

/// The checks of the engine itself, by backend (see [`engine_check_queries`]).
fn engine_only_check_queries(backend: Backend, full: bool) -> Vec<(&'static str, &'static str)> {
    match backend {
        // Without `full`, `quick_check` runs table by table (see `Database::engine_checks`).
        Backend::Sqlite if full => vec![(
            "integrity_check",
            "SELECT integrity_check AS v FROM pragma_integrity_check \
             WHERE integrity_check <> 'ok'",
        )],
        Backend::Sqlite => Vec::new(),
        Backend::Postgres => vec![
            (
                "invalid_indexes",
                "SELECT 'index ' || indexrelid::regclass::text || ' is invalid' AS v \
                 FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid \
                 WHERE NOT i.indisvalid AND c.relnamespace = current_schema()::regnamespace",
            ),
            (
                "unvalidated_constraints",
                "SELECT 'constraint ' || conname || ' is not validated' AS v FROM pg_constraint \
                 WHERE NOT convalidated AND connamespace = current_schema()::regnamespace",
            ),
        ],
    }
}

/// Insert, read back, update and delete a scratch root location; run it in a write
/// transaction (it leaves nothing behind).
async fn round_trip(conn: &mut Conn) -> Result<(), DbError> {
    let name = format!("__round_trip_{}", std::process::id());
    let key = name_key(&name);
    let at = crate::models::now();
    let record = LocationRecord::insert(
        conn,
        &name,
        &key,
        None,
        inventory_core::LocationType::House,
        None,
        at,
    )
    .await?;
    let read = LocationRecord::get(conn, record.id, crate::error::Entity::Location).await?;
    if read.name != name {
        return Err(DbError::internal(
            "round trip read back a different name",
            None,
        ));
    }
    LocationRecord::update_attributes(
        conn,
        record.id,
        &name,
        &key,
        Some("round trip"),
        inventory_core::LocationType::House,
        at,
    )
    .await?;
    if LocationRecord::delete(conn, record.id).await? != 1 {
        return Err(DbError::internal(
            "round trip could not delete its row",
            None,
        ));
    }
    Ok(())
}

impl Database {
    /// Names of the tables of Home Inventory that exist (migration bookkeeping and SQLite's
    /// full-text index, which is derived from the other tables, excluded), sorted. Tables
    /// of other programs in the same schema are not ours and not listed.
    pub async fn table_names(&self) -> Result<Vec<String>, DbError> {
        let present = self.read(async |c| present_tables(c).await).await?;
        let mut ours: Vec<String> = data_tables()
            .iter()
            .filter(|t| present.iter().any(|p| p == *t))
            .map(|t| t.to_string())
            .collect();
        ours.sort();
        Ok(ours)
    }

    /// Rows per table, size and (SQLite) page figures.
    pub async fn stats(&self) -> Result<Stats, DbError> {
        let backend = self.backend();
        let url = self.url().to_string();
        self.transaction(TxMode::Snapshot, async |conn| {
            let mut tables = row_counts(conn).await?;
            tables.sort_by(|a, b| a.table.cmp(&b.table));
            let query = diesel::sql_query(SERVER_VERSION.sql(conn));
            let version: OneText = db_run!(conn, |c| query.get_result(c).await)?;
            let mut stats = Stats {
                backend,
                url,
                server_version: version.v.unwrap_or_default(),
                tables,
                size_bytes: 0,
                page_size: None,
                page_count: None,
                freelist_count: None,
            };
            match backend {
                Backend::Postgres => {
                    let query = diesel::sql_query(
                        "SELECT pg_database_size(current_database())::bigint AS n",
                    );
                    let size: Count = db_run!(conn, |c| query.get_result(c).await)?;
                    stats.size_bytes = size.n;
                }
                Backend::Sqlite => {
                    let mut pragma = async |name: &str| -> Result<i64, DbError> {
                        let query =
                            diesel::sql_query(format!("SELECT {name} AS n FROM pragma_{name}"));
                        let c: Count = db_run!(&mut *conn, |c| query.get_result(c).await)?;
                        Ok(c.n)
                    };
                    let page_size = pragma("page_size").await?;
                    let page_count = pragma("page_count").await?;
                    stats.freelist_count = Some(pragma("freelist_count").await?);
                    stats.size_bytes = page_size * page_count;
                    stats.page_size = Some(page_size);
                    stats.page_count = Some(page_count);
                }
            }
            Ok(stats)
        })
        .await
    }

    /// Reclaims space and refreshes the planner's statistics (VACUUM + ANALYZE).
    pub async fn vacuum(&self) -> Result<(), DbError> {
        self.read(async |c| {
            let sql = VACUUM.sql(c);
            db_run!(c, |c| c.batch_execute(sql).await)?;
            Ok(())
        })
        .await
    }

    /// Moves everything in SQLite's write-ahead log into the database file (so that a copy
    /// of the file alone is complete); nothing to do on PostgreSQL.
    pub async fn checkpoint(&self) -> Result<(), DbError> {
        if self.backend() != Backend::Sqlite {
            return Ok(());
        }
        self.read(async |c| {
            db_run!(c, |c| c
                .batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")
                .await)?;
            Ok(())
        })
        .await
    }

    /// Tree analysis (orphans, cycles, type rules, duplicate names) from one read of the
    /// table, plus the name-key check and the engine's own checks, which run beside the
    /// read on another connection.
    pub async fn integrity(&self, full: bool) -> Result<IntegrityOutcome, DbError> {
        let (read, engine) = tokio::join!(tree_rows_and_stale_keys(self), self.engine_checks(full));
        let (rows, stale) = read?;
        let mut engine = engine?;
        let report = analyze(&rows, &self.rules);
        if self.backend() == Backend::Sqlite {
            if let Some(fk) = engine.iter_mut().find(|c| c.name == "foreign_key_check") {
                let mut orphans: Vec<LocationId> = report.orphans.iter().map(|o| o.id).collect();
                orphans.sort_unstable();
                let lines: Vec<String> = orphans.into_iter().map(orphan_fk_line).collect();
                fk.problems.splice(0..0, lines);
                fk.ok = fk.problems.is_empty();
            }
        }
        let mut named: Vec<LocationId> = Vec::new();
        named.extend(report.duplicate_ids.iter().copied());
        named.extend(report.orphans.iter().map(|o| o.id));
        named.extend(report.cycles.iter().flat_map(|c| c.members.iter().copied()));
        named.extend(report.unreachable.iter().copied());
        named.extend(report.type_violations.iter().map(|t| t.id));
        named.extend(
            report
                .duplicate_names
                .iter()
                .flat_map(|d| d.ids.iter().copied()),
        );
        let paths = if named.is_empty() {
            BTreeMap::new()
        } else {
            let all = best_effort_paths(&rows);
            named
                .into_iter()
                .filter_map(|id| all.get(&id).map(|p| (id, p.clone())))
                .collect()
        };
        engine.push(EngineCheck {
            name: "name_keys".into(),
            ok: stale.is_empty(),
            problems: stale,
        });
        Ok(IntegrityOutcome {
            report,
            paths,
            engine,
        })
    }

    /// The engine's checks, each on its own connection and all at once (on SQLite each
    /// walks the whole file, on a core of its own where there is one).
    async fn engine_checks(&self, full: bool) -> Result<Vec<EngineCheck>, DbError> {
        let mut checks: Vec<(&str, String)> = engine_check_queries(self.backend(), full)
            .into_iter()
            .map(|(name, sql)| (name, sql.to_string()))
            .collect();
        if self.backend() == Backend::Sqlite {
            // Every table but locations, whose parent keys the tree analysis checks (see
            // `orphan_fk_line`).
            // Both statements are made from the schema, read in one go.
            let (fk, tables) = self
                .read(async |c| {
                    let fk = sqlite_foreign_key_check(c, "locations").await?;
                    let query = diesel::sql_query(BTREE_TABLES_SQL);
                    let tables: Vec<OneText> = db_run!(c, |c| query.load(c).await)?;
                    Ok((fk, tables))
                })
                .await?;
            checks.insert(0, ("foreign_key_check", fk));
            if !full {
                let (first, rest): (Vec<String>, Vec<String>) = tables
                    .into_iter()
                    .filter_map(|t| t.v)
                    .partition(|t| t == "locations");
                for group in [first, rest].iter().filter(|g| !g.is_empty()) {
                    checks.push(("quick_check", quick_check_sql(group)));
                }
            }
        }
        let done = join_all(checks.iter().map(|(name, sql)| async move {
            let rows: Vec<OneText> = if self.backend() == Backend::Sqlite {
                // On a connection of its own: a pooled connection that last read the search
                // index before another connection rewrote it keeps FTS5 state from then, and
                // quick_check's FTS5 check reads that state and reports a "malformed
                // inverted index" that is not there (queries refresh the state; the check
                // does not).
                let mut conn = self.establish_sqlite().await?;
                match diesel::sql_query(sql.as_str()).load(&mut conn).await {
                    // A check that meets a damaged page it cannot step over stops there
                    // (integrity_check does, where quick_check reports the page): that is
                    // its finding, not a failure of `db integrity`.
                    Err(diesel::result::Error::DatabaseError(_, info))
                        if info.message().contains("malformed") =>
                    {
                        vec![OneText {
                            v: Some(format!("the check stopped: {}", info.message())),
                        }]
                    }
                    other => other?,
                }
            } else {
                self.read(async |c| {
                    let query = diesel::sql_query(sql.as_str());
                    Ok(db_run!(&mut *c, |c| query.load(c).await)?)
                })
                .await?
            };
            let problems: Vec<String> = rows.into_iter().filter_map(|r| r.v).collect();
            Ok(EngineCheck {
                name: (*name).to_string(),
                ok: problems.is_empty(),
                problems,
            })
        }))
        .await?;
        // The checks of one name (`quick_check` table by table) are reported as one.
        let mut merged: Vec<EngineCheck> = Vec::new();
        for check in done {
            match merged.iter_mut().find(|m| m.name == check.name) {
                Some(m) => {
                    m.problems.extend(check.problems);
                    m.ok = m.problems.is_empty();
                }
                None => merged.push(check),
            }
        }
        Ok(merged)
    }

    /// Writes, reads back, changes and deletes a scratch location in one transaction;
    /// leaves nothing behind.
    pub async fn round_trip(&self) -> Result<(), DbError> {
        self.transaction(TxMode::TreeWrite, async |c| round_trip(c).await)
            .await
    }

    /// Connection, schema, table round trip and integrity summary, each timed.
    pub async fn health(&self) -> HealthReport {
        let mut checks = Vec::new();
        let mut run = |name: &str, started: Instant, result: Result<String, DbError>| {
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            checks.push(match result {
                Ok(detail) => HealthCheck {
                    name: name.into(),
                    ok: true,
                    detail: format!("{detail} ({ms:.1} ms)"),
                },
                Err(e) => HealthCheck {
                    name: name.into(),
                    ok: false,
                    detail: e.to_string(),
                },
            });
        };
        let t = Instant::now();
        let connected = self.check().await;
        let reachable = connected.is_ok();
        run(
            "connection",
            t,
            connected.map(|_| format!("{} reachable", self.url())),
        );
        if !reachable {
            return HealthReport { checks };
        }
        let t = Instant::now();
        let schema = self.ensure_schema_current().await;
        let current = schema.is_ok();
        run("migrations", t, schema.map(|_| "schema is current".into()));
        if !current {
            return HealthReport { checks };
        }
        let t = Instant::now();
        run(
            "table round trip",
            t,
            self.round_trip()
                .await
                .map(|_| "insert, select, update, delete".into()),
        );
        let t = Instant::now();
        let integrity = self.integrity(false).await.and_then(|o| {
            if o.is_clean() {
                Ok(format!("{} locations, no findings", o.report.rows))
            } else {
                Err(DbError::internal(
                    format!(
                        "{} finding(s); run `inventory db integrity`",
                        o.finding_count()
                    ),
                    None,
                ))
            }
        });
        run("integrity", t, integrity);
        HealthReport { checks }
    }

    /// Every column of every table (migration bookkeeping included), for schema checks.
    pub async fn describe_columns(&self) -> Result<Vec<ColumnInfo>, DbError> {
        self.read(async |c| {
            let query = diesel::sql_query(COLUMNS.sql(c));
            Ok(db_run!(c, |c| query.load(c).await)?)
        })
        .await
    }

    /// Every foreign key, its ON DELETE action and whether it is indexed.
    pub async fn describe_foreign_keys(&self) -> Result<Vec<ForeignKeyInfo>, DbError> {
        self.read(async |c| {
            let query = diesel::sql_query(FOREIGN_KEYS.sql(c));
            Ok(db_run!(c, |c| query.load(c).await)?)
        })
        .await
    }

    /// A canonical text dump of the schema (tables, columns, indexes, constraints,
    /// triggers), for comparing databases: equal dumps mean equal schemas.
    pub async fn schema_dump(&self) -> Result<String, DbError> {
        let rows: Vec<OneText> = self
            .read(async |c| {
                let query = diesel::sql_query(SCHEMA_DUMP.sql(c));
                Ok(db_run!(c, |c| query.load(c).await)?)
            })
            .await?;
        let mut lines: Vec<String> = rows.into_iter().filter_map(|r| r.v).collect();
        lines.sort();
        Ok(lines.join("\n"))
    }

    /// Drops Home Inventory's tables — data, SQLite's search index and the migration
    /// history — and nothing else: what `db drop` does. Tables of other programs in the
    /// same schema are left alone.
    pub async fn drop_all(&self) -> Result<(), DbError> {
        match self.rollback_all().await {
            Ok(_) | Err(DbError::SchemaNotCurrent { .. }) => {}
            Err(e) => return Err(e),
        }
        // Whatever the down migrations left (a database migrated by hand, a damaged one).
        // The kept location totals refer to locations: they go first.
        let mut tables: Vec<&str> = vec![TOTALS_TABLE];
        tables.extend(data_tables().iter().rev().copied());
        if self.backend() == Backend::Sqlite {
            tables.push(SEARCH_TABLE);
        }
        tables.push(MIGRATIONS_TABLE);
        let backend = self.backend();
        self.read(async |c| {
            let mut sql = String::new();
            if backend == Backend::Sqlite {
                // Dropping a parent table deletes its rows first; with foreign keys on, the
                // order of the drops would matter.
                sql.push_str("PRAGMA foreign_keys = OFF;");
            }
            for table in &tables {
                sql.push_str(&format!("DROP TABLE IF EXISTS {table};"));
            }
            if backend == Backend::Sqlite {
                sql.push_str("PRAGMA foreign_keys = ON;");
            } else {
                // The category count triggers' functions outlive the tables.
                sql.push_str(PG_FUNCTIONS_DROP);
            }
            db_run!(c, |c| c.batch_execute(&sql).await)?;
            Ok(())
        })
        .await
    }

    /// Drops everything and migrates afresh: an empty, current database.
    pub async fn reset(&self) -> Result<Vec<String>, DbError> {
        self.drop_all().await?;
        self.migrate().await
    }
}
