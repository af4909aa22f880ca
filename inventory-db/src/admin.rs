//! Runbook operations: statistics, vacuum, integrity, health, schema introspection.

use std::collections::BTreeMap;
use std::time::Instant;

use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use diesel::QueryableByName;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use inventory_core::{analyze, best_effort_paths, IntegrityReport, LocationId};
use serde::Serialize;

use crate::config::Backend;
use crate::error::DbError;
use crate::pool::{db_run, Database};

/// Table names that belong to the migration machinery, not to Home Inventory's data.
pub const MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

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
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct OneText {
    #[diesel(sql_type = Nullable<Text>)]
    v: Option<String>,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

fn pick(backend: Backend, pg: &'static str, sqlite: &'static str) -> &'static str {
    match backend {
        Backend::Postgres => pg,
        Backend::Sqlite => sqlite,
    }
}

impl Database {
    /// Names of the tables of Home Inventory (migration bookkeeping and SQLite's full-text
    /// index, which is derived from the other tables, excluded), sorted.
    pub async fn table_names(&self) -> Result<Vec<String>, DbError> {
        let sql = pick(
            self.backend(),
            "SELECT table_name::text AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
             AND table_name <> '__diesel_schema_migrations' ORDER BY 1",
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name NOT LIKE 'search_fts%' AND name <> '__diesel_schema_migrations' ORDER BY 1",
        );
        let rows: Vec<Name> = db_run!(self, |conn| diesel::sql_query(sql).load(conn).await)?;
        Ok(rows.into_iter().map(|r| r.name).collect())
    }

    /// Rows per table, size and (SQLite) page figures.
    pub async fn stats(&self) -> Result<Stats, DbError> {
        let tables = self.table_names().await?;
        let backend = self.backend();
        db_run!(self, |conn| {
            let mut counts = Vec::with_capacity(tables.len());
            for table in tables {
                let sql = format!(
                    "SELECT count(*) AS n FROM \"{}\"",
                    table.replace('"', "\"\"")
                );
                let c: Count = diesel::sql_query(sql).get_result(conn).await?;
                counts.push(TableCount { table, rows: c.n });
            }
            let version: OneText = diesel::sql_query(pick(
                backend,
                "SELECT current_setting('server_version') AS v",
                "SELECT sqlite_version() AS v",
            ))
            .get_result(conn)
            .await?;
            let mut stats = Stats {
                backend,
                url: self.url().to_string(),
                server_version: version.v.unwrap_or_default(),
                tables: counts,
                size_bytes: 0,
                page_size: None,
                page_count: None,
                freelist_count: None,
            };
            match backend {
                Backend::Postgres => {
                    let size: Count = diesel::sql_query(
                        "SELECT pg_database_size(current_database())::bigint AS n",
                    )
                    .get_result(conn)
                    .await?;
                    stats.size_bytes = size.n;
                }
                Backend::Sqlite => {
                    let mut pragma = async |name: &str| -> Result<i64, DbError> {
                        let c: Count =
                            diesel::sql_query(format!("SELECT {name} AS n FROM pragma_{name}"))
                                .get_result(&mut *conn)
                                .await?;
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
    }

    /// Reclaims space and refreshes the planner's statistics (VACUUM + ANALYZE).
    pub async fn vacuum(&self) -> Result<(), DbError> {
        let sql = pick(
            self.backend(),
            "VACUUM ANALYZE",
            "VACUUM; ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);",
        );
        db_run!(self, |conn| conn.batch_execute(sql).await)?;
        Ok(())
    }

    /// Tree analysis (orphans, cycles, type rules, duplicate names) from one read of the
    /// table, plus the engine's checks: SQLite `foreign_key_check` and `quick_check`
    /// (`integrity_check` when `full`); PostgreSQL invalid indexes and unvalidated constraints.
    pub async fn integrity(&self, full: bool) -> Result<IntegrityOutcome, DbError> {
        let rows = self.location_rows().await?;
        let report = analyze(&rows, &self.rules);
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
        let engine = self.engine_checks(full).await?;
        Ok(IntegrityOutcome {
            report,
            paths,
            engine,
        })
    }

    async fn engine_checks(&self, full: bool) -> Result<Vec<EngineCheck>, DbError> {
        let checks: Vec<(&str, &str)> = match self.backend() {
            Backend::Sqlite => {
                let mut v = vec![
                    (
                        "foreign_key_check",
                        "SELECT 'table ' || \"table\" || ' row ' || coalesce(rowid, '?') || \
                         ' refers to a missing row of ' || parent AS v FROM pragma_foreign_key_check",
                    ),
                    (
                        "quick_check",
                        "SELECT quick_check AS v FROM pragma_quick_check WHERE quick_check <> 'ok'",
                    ),
                ];
                if full {
                    v.push((
                        "integrity_check",
                        "SELECT integrity_check AS v FROM pragma_integrity_check \
                         WHERE integrity_check <> 'ok'",
                    ));
                }
                v
            }
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
        };
        let mut out = Vec::with_capacity(checks.len());
        for (name, sql) in checks {
            let rows: Vec<OneText> = db_run!(self, |conn| diesel::sql_query(sql).load(conn).await)?;
            let problems: Vec<String> = rows.into_iter().filter_map(|r| r.v).collect();
            out.push(EngineCheck {
                name: name.to_string(),
                ok: problems.is_empty(),
                problems,
            });
        }
        Ok(out)
    }

    /// Writes, reads back, changes and deletes a scratch location in one transaction;
    /// leaves nothing behind.
    pub async fn round_trip(&self) -> Result<(), DbError> {
        db_run!(self, |conn| store::round_trip(conn).await)
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
                Err(DbError::Conflict(format!(
                    "{} finding(s); run `inventory db integrity`",
                    o.finding_count()
                )))
            }
        });
        run("integrity", t, integrity);
        HealthReport { checks }
    }

    /// Every column of every table (migration bookkeeping included), for schema checks.
    pub async fn describe_columns(&self) -> Result<Vec<ColumnInfo>, DbError> {
        let sql = pick(
            self.backend(),
            include_str!("sql/postgres/columns.sql"),
            include_str!("sql/sqlite/columns.sql"),
        );
        db_run!(self, |conn| Ok(diesel::sql_query(sql).load(conn).await?))
    }

    /// Every foreign key, its ON DELETE action and whether it is indexed.
    pub async fn describe_foreign_keys(&self) -> Result<Vec<ForeignKeyInfo>, DbError> {
        let sql = pick(
            self.backend(),
            include_str!("sql/postgres/foreign_keys.sql"),
            include_str!("sql/sqlite/foreign_keys.sql"),
        );
        db_run!(self, |conn| Ok(diesel::sql_query(sql).load(conn).await?))
    }

    /// A canonical text dump of the schema (tables, columns, indexes, constraints,
    /// triggers), for comparing databases: equal dumps mean equal schemas.
    pub async fn schema_dump(&self) -> Result<String, DbError> {
        let sql = pick(
            self.backend(),
            include_str!("sql/postgres/schema_dump.sql"),
            include_str!("sql/sqlite/schema_dump.sql"),
        );
        let rows: Vec<OneText> = db_run!(self, |conn| diesel::sql_query(sql).load(conn).await)?;
        let mut lines: Vec<String> = rows.into_iter().filter_map(|r| r.v).collect();
        lines.sort();
        Ok(lines.join("\n"))
    }

    /// Drops every table (data and migration history): what `db drop` does.
    pub async fn drop_all(&self) -> Result<(), DbError> {
        match self.rollback_all().await {
            Ok(_) | Err(DbError::SchemaNotCurrent { .. }) => {}
            Err(e) => return Err(e),
        }
        let mut tables = self.table_names().await?;
        tables.push(MIGRATIONS_TABLE.to_string());
        let backend = self.backend();
        if backend == Backend::Sqlite {
            tables.push("search_fts".to_string());
        }
        db_run!(self, |conn| {
            if backend == Backend::Sqlite {
                // Dropping a parent table deletes its rows first; with foreign keys on, the
                // order of the drops would matter.
                conn.batch_execute("PRAGMA foreign_keys = OFF").await?;
            }
            for table in &tables {
                let q = table.replace('"', "\"\"");
                let sql = match backend {
                    Backend::Postgres => format!("DROP TABLE IF EXISTS \"{q}\" CASCADE"),
                    Backend::Sqlite => format!("DROP TABLE IF EXISTS \"{q}\""),
                };
                conn.batch_execute(&sql).await?;
            }
            if backend == Backend::Sqlite {
                conn.batch_execute("PRAGMA foreign_keys = ON").await?;
            }
            Ok::<(), DbError>(())
        })
    }

    /// Drops everything and migrates afresh: an empty, current database.
    pub async fn reset(&self) -> Result<Vec<String>, DbError> {
        self.drop_all().await?;
        self.migrate().await
    }
}
