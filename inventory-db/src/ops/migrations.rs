//! Embedded migrations for both backends: apply, roll back, history, whether the schema is
//! current, and what a rollback would drop. Run on a dedicated connection through
//! `AsyncMigrationHarness` (which needs tokio's multi-thread runtime).
//!
//! Some migrations need values only the program can compute: after applying one of
//! [`REKEY_AFTER`], `migrate` fills the name keys of existing rows with inventory-core's
//! `name_key`.

use diesel::backend::Backend as DieselBackend;
use diesel::migration::MigrationSource;
use diesel_async::AsyncMigrationHarness;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use serde::Serialize;

use crate::config::Backend;
use crate::conn::{Conn, TxMode};
use crate::error::DbError;
use crate::models::category::Category;
use crate::models::location::LocationRecord;
use crate::models::user::UserRecord;
use crate::pool::Database;

/// PostgreSQL migrations from `migrations/postgres`.
pub const POSTGRES: EmbeddedMigrations = embed_migrations!("../migrations/postgres");
/// SQLite migrations from `migrations/sqlite`.
pub const SQLITE: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");

/// Migrations after which the name keys of existing rows must be computed.
pub const REKEY_AFTER: &[&str] = &["20261201000003"];

/// What reverting a migration deletes, for saying so before a rollback: whole tables, or
/// columns of a table that hold data the program cannot compute again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RollbackLoss {
    /// The table and all its rows.
    Table(&'static str),
    /// These columns of the table (their values in every row).
    Columns(&'static str, &'static [&'static str]),
}

/// What each migration's rollback deletes (name keys are not listed: the program computes
/// them again from the names).
pub const MIGRATION_LOSSES: &[(&str, &[RollbackLoss])] = &[
    ("20261124000001", &[RollbackLoss::Table("locations")]),
    (
        "20261124000002",
        &[
            RollbackLoss::Table("api_tokens"),
            RollbackLoss::Table("users"),
            RollbackLoss::Table("items"),
            RollbackLoss::Table("categories"),
        ],
    ),
    (
        "20261201000003",
        &[RollbackLoss::Columns(
            "api_tokens",
            &["scope", "expires_at"],
        )],
    ),
];

/// One migration and whether it is applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MigrationStatus {
    /// Version (the directory name's date prefix and name).
    pub version: String,
    /// Applied to this database.
    pub applied: bool,
}

fn migration_error(e: impl std::fmt::Display) -> DbError {
    DbError::Migration {
        message: crate::config::redact_url(&e.to_string()),
    }
}

fn versions_of<B: DieselBackend>(source: &EmbeddedMigrations) -> Result<Vec<String>, DbError>
where
    EmbeddedMigrations: MigrationSource<B>,
{
    let migrations = MigrationSource::<B>::migrations(source).map_err(migration_error)?;
    Ok(migrations
        .iter()
        .map(|m| m.name().version().to_string())
        .collect())
}

/// The migration versions this program knows for a backend, oldest first.
pub fn known_versions(backend: Backend) -> Result<Vec<String>, DbError> {
    match backend {
        Backend::Postgres => versions_of::<diesel::pg::Pg>(&POSTGRES),
        Backend::Sqlite => versions_of::<diesel::sqlite::Sqlite>(&SQLITE),
    }
}

/// What to do with a migration harness.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// Apply every pending migration.
    Up,
    /// Revert at most this many applied migrations.
    Down(usize),
}

/// Runs `step` through a harness (`source` gives the backend's embedded migrations, which
/// each harness call consumes); returns the versions applied or reverted.
fn run_step<H, B>(
    harness: &mut H,
    source: fn() -> EmbeddedMigrations,
    step: Step,
) -> Result<Vec<String>, DbError>
where
    H: MigrationHarness<B>,
    B: DieselBackend,
    EmbeddedMigrations: MigrationSource<B>,
{
    let names = |v: Vec<diesel::migration::MigrationVersion<'_>>| {
        v.iter().map(ToString::to_string).collect()
    };
    match step {
        Step::Up => harness
            .run_pending_migrations(source())
            .map(names)
            .map_err(migration_error),
        Step::Down(steps) => {
            let mut reverted = Vec::new();
            for _ in 0..steps {
                if harness
                    .applied_migrations()
                    .map_err(migration_error)?
                    .is_empty()
                {
                    break;
                }
                reverted.push(
                    harness
                        .revert_last_migration(source())
                        .map_err(migration_error)?
                        .to_string(),
                );
            }
            Ok(reverted)
        }
    }
}

impl Database {
    async fn harness(&self, step: Step) -> Result<Vec<String>, DbError> {
        match self.backend() {
            Backend::Postgres => {
                let mut h = AsyncMigrationHarness::new(self.establish_pg().await?);
                tokio::task::block_in_place(|| run_step(&mut h, || POSTGRES, step))
            }
            Backend::Sqlite => {
                let mut h = AsyncMigrationHarness::new(self.establish_sqlite().await?);
                tokio::task::block_in_place(|| run_step(&mut h, || SQLITE, step))
            }
        }
    }

    /// Applies every pending migration; returns the versions applied. When one of them
    /// needs program-computed values ([`REKEY_AFTER`]), fills them in.
    pub async fn migrate(&self) -> Result<Vec<String>, DbError> {
        let applied = self.harness(Step::Up).await?;
        if applied.iter().any(|v| REKEY_AFTER.contains(&v.as_str())) {
            self.rekey().await?;
        }
        Ok(applied)
    }

    /// Computes the name key of every location, category and user whose stored key is not
    /// its name's; a row whose key a sibling (or another category or user) already has
    /// keeps its placeholder, and `db integrity` reports it (rename one of the two).
    pub async fn rekey(&self) -> Result<u64, DbError> {
        self.transaction(TxMode::TreeWrite, async |c| rekey(c).await)
            .await
    }

    /// Reverts the last `steps` applied migrations; returns the versions reverted.
    pub async fn rollback(&self, steps: usize) -> Result<Vec<String>, DbError> {
        self.harness(Step::Down(steps)).await
    }

    /// Reverts every applied migration (drops every table the migrations created).
    pub async fn rollback_all(&self) -> Result<Vec<String>, DbError> {
        self.rollback(usize::MAX).await
    }

    /// What reverting the last `steps` applied migrations would delete, newest first.
    pub async fn rollback_losses(&self, steps: usize) -> Result<Vec<RollbackLoss>, DbError> {
        let mut applied = self.applied_versions().await?;
        applied.sort();
        Ok(applied
            .iter()
            .rev()
            .take(steps)
            .flat_map(|v| {
                MIGRATION_LOSSES
                    .iter()
                    .find(|(version, _)| version == v)
                    .map_or(&[][..], |(_, losses)| *losses)
            })
            .copied()
            .collect())
    }

    /// The versions recorded as applied, read on a pooled connection (a read: a database
    /// without the migrations table has none, and gets no table from being asked).
    async fn applied_versions(&self) -> Result<Vec<String>, DbError> {
        let rows = self
            .read(async |c| {
                let query = diesel::sql_query(format!(
                    "SELECT version AS v FROM {}",
                    crate::ops::admin::MIGRATIONS_TABLE
                ));
                Ok(crate::conn::db_run!(c, |c| {
                    diesel_async::RunQueryDsl::load::<crate::models::OneText>(query, c).await
                })?)
            })
            .await;
        match rows {
            Ok(rows) => Ok(rows.into_iter().filter_map(|r| r.v).collect()),
            Err(DbError::SchemaNotCurrent { .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Every known migration, oldest first, with whether it is applied.
    pub async fn migration_history(&self) -> Result<Vec<MigrationStatus>, DbError> {
        let applied = self.applied_versions().await?;
        let known = known_versions(self.backend())?;
        if let Some(unknown) = applied.iter().find(|v| !known.contains(v)) {
            return Err(DbError::SchemaTooNew {
                version: unknown.clone(),
            });
        }
        Ok(known
            .into_iter()
            .map(|version| MigrationStatus {
                applied: applied.contains(&version),
                version,
            })
            .collect())
    }

    /// Ok when every migration is applied; `SchemaNotCurrent`/`SchemaTooNew` otherwise.
    pub async fn ensure_schema_current(&self) -> Result<(), DbError> {
        let pending = self
            .migration_history()
            .await?
            .iter()
            .filter(|m| !m.applied)
            .count();
        if pending > 0 {
            return Err(DbError::SchemaNotCurrent { pending });
        }
        Ok(())
    }
}

/// The name-key changes one table needs: `(id, scope, name, stored key)` rows in, `(id,
/// new key)` out, where the new key is the name's key unless another row of the same scope
/// (siblings; or the whole table) keeps or gets it first (by id), in which case it is the
/// placeholder `\u{1}<id>`, which no name can have.
fn plan_keys(rows: &[(i64, i64, String, String)]) -> Vec<(i64, String)> {
    use std::collections::HashSet;
    let wanted: Vec<String> = rows
        .iter()
        .map(|(_, _, name, _)| inventory_core::name_key(name))
        .collect();
    let mut taken: HashSet<(i64, &str)> = rows
        .iter()
        .zip(&wanted)
        .filter(|((_, _, _, key), want)| key == *want)
        .map(|((_, scope, _, key), _)| (*scope, key.as_str()))
        .collect();
    let mut changes = Vec::new();
    for ((id, scope, _, key), want) in rows.iter().zip(&wanted) {
        if key == want {
            continue;
        }
        if taken.insert((*scope, want.as_str())) {
            changes.push((*id, want.clone()));
        } else {
            let placeholder = format!("\u{1}{id}");
            if *key != placeholder {
                changes.push((*id, placeholder));
            }
        }
    }
    changes
}

/// Sets `column` of the rows `(id, key)` of `table`, in batches of one JSON bind each.
async fn set_keys(
    conn: &mut Conn,
    table: &str,
    column: &str,
    keys: &[(i64, String)],
) -> Result<(), DbError> {
    use diesel_async::RunQueryDsl;
    let sql = match conn.backend() {
        Backend::Postgres => format!(
            "UPDATE {table} SET {column} = r ->> 1 FROM jsonb_array_elements($1::jsonb) AS rows (r) \
             WHERE {table}.id = (r ->> 0)::bigint"
        ),
        Backend::Sqlite => format!(
            "UPDATE {table} SET {column} = value ->> 1 FROM json_each($1) WHERE {table}.id = value ->> 0"
        ),
    };
    for chunk in keys.chunks(10_000) {
        let json = serde_json::to_string(chunk)
            .map_err(|e| DbError::internal("cannot encode name keys", Some(Box::new(e) as _)))?;
        let query = diesel::sql_query(&sql).bind::<diesel::sql_types::Text, _>(json);
        crate::conn::db_run!(conn, |c| query.execute(c).await)?;
    }
    Ok(())
}

/// Applies a key plan: first every changed row to its placeholder (so that no row takes a
/// key another changed row still holds), then the new keys.
async fn apply_keys(
    conn: &mut Conn,
    table: &str,
    column: &str,
    changes: Vec<(i64, String)>,
) -> Result<u64, DbError> {
    if changes.is_empty() {
        return Ok(0);
    }
    let placeholders: Vec<(i64, String)> = changes
        .iter()
        .map(|(id, _)| (*id, format!("\u{1}{id}")))
        .collect();
    set_keys(conn, table, column, &placeholders).await?;
    let real: Vec<(i64, String)> = changes
        .into_iter()
        .filter(|(_, k)| !k.starts_with('\u{1}'))
        .collect();
    set_keys(conn, table, column, &real).await?;
    Ok(real.len() as u64)
}

/// [`Database::rekey`] on a connection inside a tree-write transaction; returns rows fixed.
async fn rekey(conn: &mut Conn) -> Result<u64, DbError> {
    let locations: Vec<(i64, i64, String, String)> = LocationRecord::tree_columns(conn)
        .await?
        .into_iter()
        .map(|(id, parent, _, name, key)| (id, parent.unwrap_or(0), name, key))
        .collect();
    let mut fixed = apply_keys(conn, "locations", "name_key", plan_keys(&locations)).await?;
    let categories: Vec<(i64, i64, String, String)> = Category::keys(conn)
        .await?
        .into_iter()
        .map(|(id, name, key)| (id, 0, name, key))
        .collect();
    fixed += apply_keys(conn, "categories", "name_key", plan_keys(&categories)).await?;
    let users: Vec<(i64, i64, String, String)> = UserRecord::keys(conn)
        .await?
        .into_iter()
        .map(|(id, name, key)| (id, 0, name, key))
        .collect();
    fixed += apply_keys(conn, "users", "username_key", plan_keys(&users)).await?;
    Ok(fixed)
}
