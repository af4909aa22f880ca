//! Test harness: a fresh, migrated database per test on either backend, removed on drop.
//!
//! SQLite: a file in a temporary directory, copied from a template migrated once per test
//! process. PostgreSQL: a new database on the server named by `INVENTORY_TEST_PG` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), cloned from a template database
//! migrated once per set of migrations (`CREATE DATABASE … TEMPLATE`), dropped when the
//! [`TestDb`] is dropped; databases left by crashed runs are swept on first use.
//!
//! A PostgreSQL test that cannot reach its server fails and says how to run it
//! (`cargo xtask test`, or `INVENTORY_TEST_PG`). Skipping the PostgreSQL half is only ever
//! explicit: every such test has `postgres` in its name, so `cargo test -- --skip postgres`
//! leaves them out, and the summary counts them as filtered out.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use crate::config::DatabaseUrl;
use crate::conn::db_run;
use crate::pool::{Database, PoolOptions};
use crate::DbError;

/// Default administrative URL for test databases.
pub const DEFAULT_TEST_PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const PREFIX: &str = "inv_test_";
const TEMPLATE_PREFIX: &str = "inv_tmpl_";
/// A hash of the migrations this crate was built with (see `build.rs`): a template
/// database is made once per set of migrations.
const MIGRATIONS_HASH: &str = env!("INVENTORY_MIGRATIONS_HASH");

static COUNTER: AtomicUsize = AtomicUsize::new(0);
static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
static PG_TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
static SQLITE_TEMPLATE: tokio::sync::OnceCell<(tempfile::TempDir, PathBuf)> =
    tokio::sync::OnceCell::const_new();

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

/// The PostgreSQL server for tests (see the module docs).
pub fn pg_admin_url() -> String {
    std::env::var("INVENTORY_TEST_PG")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_TEST_PG.to_string())
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
    let mut conn = admin_connection(admin_url).await?;
    conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await?;
    Ok(())
}

async fn admin_connection(admin_url: &str) -> Result<AsyncPgConnection, DbError> {
    AsyncPgConnection::establish(admin_url)
        .await
        .map_err(|e| DbError::Unavailable {
            url: crate::redact_url(admin_url),
            reason: crate::redact_url(&e.to_string()),
            source: None,
        })
}

#[derive(diesel::QueryableByName)]
struct Datname {
    #[diesel(sql_type = diesel::sql_types::Text)]
    datname: String,
}

/// Drops test databases whose creating process is gone, and templates of other migrations.
async fn sweep(admin: &mut AsyncPgConnection, admin_url: &str) {
    let rows: Vec<Datname> = diesel::sql_query(
        "SELECT datname::text AS datname FROM pg_database \
         WHERE datname LIKE 'inv\\_test\\_%' OR datname LIKE 'inv\\_tmpl\\_%'",
    )
    .load(admin)
    .await
    .unwrap_or_default();
    for row in rows {
        let gone = match row.datname.strip_prefix(PREFIX) {
            Some(rest) => rest
                .split('_')
                .next()
                .and_then(|p| p.parse::<u32>().ok())
                .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()),
            None => row.datname != template_name(),
        };
        if gone {
            let _ = drop_database(admin_url, &row.datname).await;
        }
    }
}

fn template_name() -> String {
    format!("{TEMPLATE_PREFIX}{MIGRATIONS_HASH}")
}

/// Options for test databases: quick to give up, as tests expect.
fn test_options() -> PoolOptions {
    PoolOptions {
        connection_timeout: std::time::Duration::from_secs(10),
        ..PoolOptions::default()
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
    if migrate {
        let (_, template) = SQLITE_TEMPLATE
            .get_or_init(|| async {
                let dir = tempfile::tempdir().expect("temp dir for the template database");
                let path = dir.path().join("template.db");
                let db = Database::connect_or_create(
                    &DatabaseUrl::SqliteFile(path.clone()),
                    test_options(),
                )
                .await
                .expect("create the template SQLite database");
                db.migrate()
                    .await
                    .expect("migrate the template SQLite database");
                db.checkpoint()
                    .await
                    .expect("checkpoint the template SQLite database");
                (dir, path)
            })
            .await;
        std::fs::copy(template, &path).expect("copy the template SQLite database");
    }
    let url = format!("sqlite://{}", path.display());
    let db = Database::connect_or_create(&DatabaseUrl::SqliteFile(path), test_options())
        .await
        .expect("open test SQLite database");
    TestDb {
        db,
        url,
        cleanup: Cleanup::File(dir),
    }
}

/// A fresh PostgreSQL database, migrated. Panics, saying how to run the test, when no
/// server answers.
pub async fn postgres() -> TestDb {
    postgres_with(true).await
}

/// The message of a PostgreSQL test that cannot reach its server.
fn unreachable_message(shown: &str, e: &DbError) -> String {
    format!(
        "PostgreSQL at {shown} is unreachable ({e}). Run the tests with `cargo xtask test`, which \
         finds a server or starts a throwaway one; or set INVENTORY_TEST_PG to a server's URL; \
         or leave the PostgreSQL half out explicitly with `cargo test -- --skip postgres`"
    )
}

/// A fresh PostgreSQL database, migrated (cloned from the template) or left empty.
pub async fn postgres_with(migrate: bool) -> TestDb {
    let admin_url = pg_admin_url();
    let shown = crate::redact_url(&admin_url);
    let mut admin = match admin_connection(&admin_url).await {
        Ok(c) => c,
        Err(e) => panic!("{}", unreachable_message(&shown, &e)),
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
    let create = if migrate {
        let template = PG_TEMPLATE
            .get_or_init(|| async { pg_template(&admin_url).await })
            .await;
        format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"")
    } else {
        format!("CREATE DATABASE \"{name}\"")
    };
    admin
        .batch_execute(&create)
        .await
        .expect("create test PostgreSQL database");
    let url = with_database(&admin_url, &name);
    let cleanup = Cleanup::Postgres {
        admin_url: admin_url.clone(),
        name,
    };
    let db = Database::connect_with(&DatabaseUrl::parse(&url).expect("test URL"), test_options())
        .await
        .expect("connect to test PostgreSQL database");
    TestDb { db, url, cleanup }
}

/// The template database for this set of migrations, made (under an advisory lock, so
/// that concurrent test processes make it once) when it does not exist yet.
async fn pg_template(admin_url: &str) -> String {
    let name = template_name();
    let mut admin = admin_connection(admin_url)
        .await
        .expect("connect to PostgreSQL for the template");
    admin
        .batch_execute("SELECT pg_advisory_lock(4242424242)")
        .await
        .expect("lock for the template database");
    let exists: Vec<Datname> = diesel::sql_query(format!(
        "SELECT datname::text AS datname FROM pg_database WHERE datname = '{name}'"
    ))
    .load(&mut admin)
    .await
    .expect("look for the template database");
    if exists.is_empty() {
        let building = format!("{name}_new");
        let _ = drop_database(admin_url, &building).await;
        admin
            .batch_execute(&format!("CREATE DATABASE \"{building}\""))
            .await
            .expect("create the template database");
        let url = with_database(admin_url, &building);
        {
            let db = Database::connect_with(
                &DatabaseUrl::parse(&url).expect("template URL"),
                test_options(),
            )
            .await
            .expect("connect to the template database");
            db.migrate().await.expect("migrate the template database");
        }
        // Only a complete template gets its name; closed pools may linger a moment.
        let rename = format!("ALTER DATABASE \"{building}\" RENAME TO \"{name}\"");
        let mut tries = 0;
        while let Err(e) = admin.batch_execute(&rename).await {
            tries += 1;
            if tries > 50 {
                panic!("cannot name the template database: {e}");
            }
            let _ = admin
                .batch_execute(&format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{building}'"
                ))
                .await;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    let _ = admin
        .batch_execute("SELECT pg_advisory_unlock(4242424242)")
        .await;
    name
}

impl Database {
    /// Runs raw SQL (tests use it to plant damage the library itself refuses to write).
    pub async fn execute_raw_for_tests(&self, sql: &str) -> Result<(), DbError> {
        self.read(async |c| Ok(db_run!(c, |c| c.batch_execute(sql).await)?))
            .await
    }

    /// Runs a raw query whose one text column is `v`, and returns its rows (tests use it
    /// to look at what the library keeps out of sight: the search index, the triggers).
    pub async fn query_text_for_tests(&self, sql: &str) -> Result<Vec<String>, DbError> {
        let query = diesel::sql_query(sql.to_string());
        let rows: Vec<crate::models::OneText> = self
            .read(async |c| Ok(crate::conn::db_load!(c, query)?))
            .await?;
        Ok(rows.into_iter().map(|r| r.v.unwrap_or_default()).collect())
    }
}

/// Runs the same async test body against SQLite and PostgreSQL: for each
/// `async fn name(db: &Database) { ... }` it makes a module `name` with tests `sqlite` and
/// `postgres` (`cargo test -- --skip postgres` leaves the second out, visibly).
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
                    let t = $crate::testing::postgres().await;
                    body(&t.db).await;
                }
            }
        )*
    };
}
