//! Embedded migrations for both backends: apply, roll back, history, and whether the
//! schema is current. Run on a dedicated connection through `AsyncMigrationHarness`,
//! which needs tokio's multi-thread runtime.

use diesel::migration::MigrationSource;
use diesel_async::AsyncMigrationHarness;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use serde::Serialize;

use crate::error::DbError;
use crate::pool::Database;

/// PostgreSQL migrations from `migrations/postgres`.
pub const POSTGRES: EmbeddedMigrations = embed_migrations!("../migrations/postgres");
/// SQLite migrations from `migrations/sqlite`.
pub const SQLITE: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");

/// One migration and whether it is applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MigrationStatus {
    /// Version (the directory name's date prefix and name).
    pub version: String,
    /// Applied to this database.
    pub applied: bool,
}

/// Runs `$body` with `$h` bound to a migration harness on a fresh connection and
/// `$source` to a function giving that backend's embedded migrations, then closes the connection.
macro_rules! with_harness {
    ($db:expr, |$h:ident, $source:ident| $body:expr) => {{
        match $db.backend() {
            crate::config::Backend::Postgres => {
                let conn = $db.establish_pg().await?;
                let mut $h = AsyncMigrationHarness::new(conn);
                let $source: fn() -> EmbeddedMigrations = || POSTGRES;
                tokio::task::block_in_place(|| $body)
            }
            crate::config::Backend::Sqlite => {
                let conn = $db.establish_sqlite().await?;
                let mut $h = AsyncMigrationHarness::new(conn);
                let $source: fn() -> EmbeddedMigrations = || SQLITE;
                tokio::task::block_in_place(|| $body)
            }
        }
    }};
}

fn migration_error(e: impl std::fmt::Display) -> DbError {
    DbError::Migration(crate::config::redact_url(&e.to_string()))
}

fn versions<B: diesel::backend::Backend>(
    source: &EmbeddedMigrations,
) -> Result<Vec<String>, DbError>
where
    EmbeddedMigrations: MigrationSource<B>,
{
    let migrations = MigrationSource::<B>::migrations(source).map_err(migration_error)?;
    Ok(migrations
        .iter()
        .map(|m| m.name().version().to_string())
        .collect())
}

impl Database {
    /// Applies every pending migration; returns the versions applied.
    pub async fn migrate(&self) -> Result<Vec<String>, DbError> {
        with_harness!(self, |h, source| {
            h.run_pending_migrations(source())
                .map(|v| v.iter().map(ToString::to_string).collect())
                .map_err(migration_error)
        })
    }

    /// Reverts the last `steps` applied migrations; returns the versions reverted.
    pub async fn rollback(&self, steps: usize) -> Result<Vec<String>, DbError> {
        with_harness!(self, |h, source| {
            let mut reverted = Vec::new();
            for _ in 0..steps {
                if h.applied_migrations().map_err(migration_error)?.is_empty() {
                    break;
                }
                reverted.push(
                    h.revert_last_migration(source())
                        .map_err(migration_error)?
                        .to_string(),
                );
            }
            Ok(reverted)
        })
    }

    /// Reverts every applied migration (drops every table the migrations created).
    pub async fn rollback_all(&self) -> Result<Vec<String>, DbError> {
        self.rollback(usize::MAX).await
    }

    /// Every known migration, oldest first, with whether it is applied.
    pub async fn migration_history(&self) -> Result<Vec<MigrationStatus>, DbError> {
        let (known, applied) = with_harness!(self, |h, source| {
            let applied: Vec<String> = h
                .applied_migrations()
                .map_err(migration_error)?
                .iter()
                .map(ToString::to_string)
                .collect();
            let known = match self.backend() {
                crate::config::Backend::Postgres => versions::<diesel::pg::Pg>(&source())?,
                crate::config::Backend::Sqlite => versions::<diesel::sqlite::Sqlite>(&source())?,
            };
            Ok::<_, DbError>((known, applied))
        })?;
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
