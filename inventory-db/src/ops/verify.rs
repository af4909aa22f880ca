//! Engine-level checks behind `inventory verify`: a pooled session with a transaction, and
//! the connection settings each backend must run with (PRODUCT §2).

use diesel_async::RunQueryDsl;
use serde::Serialize;

use crate::config::Backend;
use crate::conn::{db_run, TxMode};
use crate::error::DbError;
use crate::models::OneText;
use crate::pool::Database;

/// One connection setting, what it is and what it should be.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Setting {
    /// The setting (`foreign_keys`, `server_encoding`, ...).
    pub name: String,
    /// Its value on a pooled connection.
    pub value: String,
    /// What Home Inventory needs, in words.
    pub expected: String,
    /// Whether the value meets the expectation.
    pub ok: bool,
}

/// A setting to read: its name, the query giving it as text `v`, the expectation in words,
/// and the test of the value.
type Probe = (&'static str, &'static str, &'static str, fn(&str) -> bool);

const SQLITE_PROBES: &[Probe] = &[
    (
        "foreign_keys",
        "SELECT CAST(foreign_keys AS TEXT) AS v FROM pragma_foreign_keys",
        "1 (on)",
        |v| v == "1",
    ),
    (
        "journal_mode",
        "SELECT CAST(journal_mode AS TEXT) AS v FROM pragma_journal_mode",
        "wal",
        |v| v.eq_ignore_ascii_case("wal"),
    ),
    (
        "busy_timeout",
        "SELECT CAST(timeout AS TEXT) AS v FROM pragma_busy_timeout",
        "at least 1000 ms",
        |v| v.parse::<i64>().is_ok_and(|ms| ms >= 1000),
    ),
];

const POSTGRES_PROBES: &[Probe] = &[
    (
        "server_version_num",
        "SELECT current_setting('server_version_num') AS v",
        "PostgreSQL 13 or newer",
        |v| v.parse::<i64>().is_ok_and(|n| n >= 130_000),
    ),
    (
        "server_encoding",
        "SELECT current_setting('server_encoding') AS v",
        "UTF8",
        |v| v.eq_ignore_ascii_case("UTF8"),
    ),
    (
        "client_encoding",
        "SELECT current_setting('client_encoding') AS v",
        "UTF8",
        |v| v.eq_ignore_ascii_case("UTF8"),
    ),
    (
        "standard_conforming_strings",
        "SELECT current_setting('standard_conforming_strings') AS v",
        "on",
        |v| v == "on",
    ),
];

impl Database {
    /// Takes a pooled connection and runs a read inside a transaction on it: a working
    /// session. Returns the engine's own description of the session (backend pid or
    /// SQLite version).
    pub async fn verify_session(&self) -> Result<String, DbError> {
        let sql = match self.backend() {
            Backend::Postgres => {
                "SELECT 'backend pid ' || pg_backend_pid()::text || ', isolation ' || \
                 current_setting('transaction_isolation') AS v"
            }
            Backend::Sqlite => "SELECT 'SQLite ' || sqlite_version() AS v",
        };
        let row: OneText = self
            .transaction(TxMode::Snapshot, async |c| {
                let query = diesel::sql_query(sql);
                Ok(db_run!(c, |c| query.get_result::<OneText>(c).await)?)
            })
            .await?;
        row.v
            .ok_or_else(|| DbError::internal("the session query returned no value", None))
    }

    /// The connection settings Home Inventory relies on, read from a pooled connection:
    /// SQLite `foreign_keys`, `journal_mode`, `busy_timeout`; PostgreSQL version and encodings.
    pub async fn verify_settings(&self) -> Result<Vec<Setting>, DbError> {
        let probes = match self.backend() {
            Backend::Postgres => POSTGRES_PROBES,
            Backend::Sqlite => SQLITE_PROBES,
        };
        self.read(async |conn| {
            let mut out = Vec::with_capacity(probes.len());
            for (name, sql, expected, test) in probes {
                let query = diesel::sql_query(*sql);
                let row: OneText = db_run!(&mut *conn, |c| query.get_result(c).await)?;
                let value = row.v.unwrap_or_default();
                out.push(Setting {
                    name: (*name).to_string(),
                    ok: test(&value),
                    value,
                    expected: (*expected).to_string(),
                });
            }
            Ok(out)
        })
        .await
    }
}
