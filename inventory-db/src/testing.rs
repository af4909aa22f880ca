//! Test harness: a fresh, migrated database per test on either backend, removed on drop.
//!
//! SQLite: a file in a temporary directory. PostgreSQL: a new database on the server named
//! by `INVENTORY_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/postgres`), dropped
//! when the [`TestDb`] is dropped; databases left by crashed runs are swept on first use.
//! When no server answers, the PostgreSQL half is skipped with a loud message, unless
//! `CI=true` or `INVENTORY_REQUIRE_PG=1`, where that is a failure.

use std::sync::atomic::{AtomicUsize, Ordering};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use crate::config::DatabaseUrl;
use crate::pool::{db_run, Database};
use crate::DbError;

/// Default administrative URL for test databases.
pub const DEFAULT_TEST_PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const PREFIX: &str = "inv_test_";

static COUNTER: AtomicUsize = AtomicUsize::new(0);
static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDb {
    /// The handle to test with.
    pub db: Database,
    /// The URL of this database (for spawning binaries against it).
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    File(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs inside the test's runtime: do the async work on a thread of its own.
            let dropped = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(drop_database(&admin_url, &name))
                    .map_err(|e| std::io::Error::other(e.to_string()))
            })
            .join();
            if let Ok(Err(e)) = dropped {
                eprintln!("warning: could not drop test database: {e}");
            }
        }
    }
}

/// The PostgreSQL server for tests, if one answers (see the module docs).
pub fn pg_admin_url() -> String {
    std::env::var("INVENTORY_TEST_PG")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_TEST_PG.to_string())
}

fn require_pg() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
        || std::env::var("INVENTORY_REQUIRE_PG").is_ok_and(|v| v == "1")
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

async fn drop_database(admin_url: &str, name: &str) -> Result<(), DbError> {
    let mut conn = AsyncPgConnection::establish(admin_url)
        .await
        .map_err(|e| DbError::Query(e.to_string()))?;
    conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await?;
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct Datname {
    #[diesel(sql_type = diesel::sql_types::Text)]
    datname: String,
}

/// Drops test databases whose creating process is gone.
async fn sweep(admin: &mut AsyncPgConnection, admin_url: &str) {
    let rows: Vec<Datname> = diesel::sql_query(
        "SELECT datname::text AS datname FROM pg_database WHERE datname LIKE 'inv\\_test\\_%'",
    )
    .load(admin)
    .await
    .unwrap_or_default();
    for row in rows {
        let pid = row.datname[PREFIX.len()..]
            .split('_')
            .next()
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = drop_database(admin_url, &row.datname).await;
            }
        }
    }
}

/// A fresh SQLite file database, migrated.
pub async fn sqlite() -> TestDb {
    sqlite_with(true).await
}

/// A fresh SQLite file database, migrated or left empty.
pub async fn sqlite_with(migrate: bool) -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir for a test database");
    let path = dir.path().join("inventory.db");
    let url = format!("sqlite://{}", path.display());
    let db = Database::connect(&DatabaseUrl::SqliteFile(path))
        .await
        .expect("open test SQLite database");
    if migrate {
        db.migrate().await.expect("migrate test SQLite database");
    }
    TestDb {
        db,
        url,
        cleanup: Cleanup::File(dir),
    }
}

/// A fresh PostgreSQL database, migrated; `None` when no server answers (and that is allowed).
pub async fn postgres() -> Option<TestDb> {
    postgres_with(true).await
}

/// A fresh PostgreSQL database, migrated or left empty.
pub async fn postgres_with(migrate: bool) -> Option<TestDb> {
    let admin_url = pg_admin_url();
    let mut admin = match AsyncPgConnection::establish(&admin_url).await {
        Ok(c) => c,
        Err(e) => {
            let shown = crate::redact_url(&admin_url);
            if require_pg() {
                panic!("PostgreSQL at {shown} is required (CI) but unreachable: {e}");
            }
            eprintln!(
                "\n!!! SKIPPING the PostgreSQL half of this test: {shown} unreachable ({e})\n"
            );
            return None;
        }
    };
    SWEPT.get_or_init(|| sweep(&mut admin, &admin_url)).await;
    let name = format!(
        "{PREFIX}{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    );
    admin
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create test PostgreSQL database");
    let url = with_database(&admin_url, &name);
    let cleanup = Cleanup::Postgres {
        admin_url: admin_url.clone(),
        name,
    };
    let db = Database::connect(&DatabaseUrl::parse(&url).expect("test URL"))
        .await
        .expect("connect to test PostgreSQL database");
    let test_db = TestDb { db, url, cleanup };
    if migrate {
        test_db
            .db
            .migrate()
            .await
            .expect("migrate test PostgreSQL database");
    }
    Some(test_db)
}

impl Database {
    /// Runs raw SQL (tests use it to plant damage the library itself refuses to write).
    pub async fn execute_raw_for_tests(&self, sql: &str) -> Result<(), DbError> {
        db_run!(self, |conn| Ok(conn.batch_execute(sql).await?))
    }
}

/// Runs the same async test body against SQLite and PostgreSQL: for each
/// `async fn name(db: &Database) { ... }` it makes a module `name` with tests `sqlite` and `postgres`.
#[macro_export]
macro_rules! backend_tests {
    ($(
        $(#[$meta:meta])*
        async fn $name:ident($db:ident: &Database) $body:block
    )*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn body($db: &$crate::Database) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let t = $crate::testing::sqlite().await;
                    body(&t.db).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(t) = $crate::testing::postgres().await {
                        body(&t.db).await;
                    }
                }
            }
        )*
    };
}
