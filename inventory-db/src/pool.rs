//! The database handle: one enum over the two bb8 pools, how they are opened, and the
//! settings every connection gets.

use std::path::Path;
use std::time::Duration;

use diesel::sqlite::SqliteConnection;
use diesel::ConnectionError;
use diesel_async::pooled_connection::bb8::Pool as Bb8Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use inventory_core::TypeRules;

use crate::config::{Backend, DatabaseUrl};
use crate::error::{DbError, DEFAULT_LOCK_TIMEOUT};

/// The async SQLite connection type.
pub type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

/// Pool sizing and timeouts.
#[derive(Clone, Debug)]
pub struct PoolOptions {
    /// Most connections open at once.
    pub max_size: u32,
    /// How long to wait for a connection before giving up.
    pub connection_timeout: Duration,
    /// Close connections idle for this long.
    pub idle_timeout: Option<Duration>,
    /// How long a write waits for a lock another writer holds before it gives up with
    /// [`DbError::Busy`] (PostgreSQL `lock_timeout`, SQLite `busy_timeout`).
    pub lock_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_size: 8,
            connection_timeout: Duration::from_secs(10),
            idle_timeout: Some(Duration::from_secs(300)),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }
}

#[derive(Clone)]
pub(crate) enum Pool {
    Postgres(Bb8Pool<AsyncPgConnection>),
    Sqlite(Bb8Pool<SqliteConn>),
}

/// A handle on one database: a pool of connections plus the type rules in force.
/// Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct Database {
    pub(crate) pool: Pool,
    pub(crate) url: DatabaseUrl,
    /// What the driver opens: the URL, or the shared-cache name of a memory database.
    target: String,
    pub(crate) rules: TypeRules,
    pub(crate) options: PoolOptions,
    /// SQLite's writers of this process take turns here, first come first served, before
    /// `BEGIN IMMEDIATE`: SQLite itself lets a waiting writer only poll with growing
    /// sleeps, so under many writers one of them could wait far longer than the others.
    pub(crate) writers: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("url", &self.url).finish()
    }
}

/// Whether opening a SQLite database may create its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Create {
    No,
    Yes,
}

impl Database {
    /// Connects to an existing database with default pool options; fails fast (class
    /// `Unavailable`) when it cannot be reached, and when a SQLite file does not exist.
    /// Creates and migrates nothing.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, DbError> {
        Self::connect_with(url, PoolOptions::default()).await
    }

    /// [`Database::connect`] with the given pool options.
    pub async fn connect_with(url: &DatabaseUrl, options: PoolOptions) -> Result<Self, DbError> {
        Self::open(url, options, Create::No).await
    }

    /// Like [`Database::connect`], but a SQLite file that does not exist is created (with
    /// its directory), readable and writable by its owner only. A PostgreSQL database must
    /// exist already.
    pub async fn connect_or_create(
        url: &DatabaseUrl,
        options: PoolOptions,
    ) -> Result<Self, DbError> {
        Self::open(url, options, Create::Yes).await
    }

    async fn open(
        url: &DatabaseUrl,
        options: PoolOptions,
        create: Create,
    ) -> Result<Self, DbError> {
        let mut target = url.connection_string();
        let busy_ms = options.lock_timeout.as_millis().max(1);
        let pool = match url {
            DatabaseUrl::Postgres(raw) => {
                let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
                    raw.clone(),
                    pg_manager_config(),
                );
                Pool::Postgres(builder(&options).build_unchecked(manager))
            }
            DatabaseUrl::SqliteFile(path) => {
                prepare_sqlite_file(url, path, create)?;
                Pool::Sqlite(sqlite_pool(target.clone(), busy_ms, builder(&options)))
            }
            DatabaseUrl::SqliteMemory => {
                // A named shared-cache memory database lives as long as one connection does:
                // the pool keeps exactly one, forever.
                target = format!(
                    "file:inventory-mem-{}-{}?mode=memory&cache=shared",
                    std::process::id(),
                    MEMORY_DB_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                );
                let b = builder(&options)
                    .max_size(1)
                    .min_idle(Some(1))
                    .idle_timeout(None)
                    .max_lifetime(None);
                Pool::Sqlite(sqlite_pool(target.clone(), busy_ms, b))
            }
        };
        let db = Database {
            pool,
            url: url.clone(),
            target,
            rules: TypeRules::default(),
            options,
            writers: Default::default(),
        };
        // The pool reports a refused connection only when its timeout runs out; one direct
        // connection first makes an unreachable or misconfigured database fail fast. It
        // then becomes the pool's first connection: a short command opens one, not two.
        let timeout = db.options.connection_timeout;
        let probe = tokio::time::timeout(timeout, async {
            match &db.pool {
                Pool::Postgres(pool) => {
                    let conn = db.establish_pg().await?;
                    // A full pool (a memory database's keeps its own) needs no more.
                    let _ = pool.add(conn);
                }
                Pool::Sqlite(pool) => {
                    let conn = db.establish_sqlite().await?;
                    let _ = pool.add(conn);
                }
            }
            Ok::<(), DbError>(())
        })
        .await;
        match probe {
            Ok(result) => result?,
            Err(_) => {
                return Err(DbError::Unavailable {
                    url: url.to_string(),
                    reason: format!("no answer within {timeout:?}"),
                    source: None,
                })
            }
        }
        if matches!(url, DatabaseUrl::SqliteMemory) {
            // The probe may have lost the race for the pool's one place to the pool's own
            // first connection; until that one is open the database would vanish with any
            // other connection (the migration harness's), so wait for it.
            drop(db.conn().await?);
        }
        Ok(db)
    }

    /// The URL this database was opened with (its `Display` redacts the password).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// The location type rules enforced by this handle.
    pub fn rules(&self) -> &TypeRules {
        &self.rules
    }

    /// Replaces the type rules (the default is PRODUCT §3's set).
    pub fn with_rules(mut self, rules: TypeRules) -> Self {
        self.rules = rules;
        self
    }

    /// The pool options this handle was opened with.
    pub fn options(&self) -> &PoolOptions {
        &self.options
    }

    /// Checks the connection with a trivial query.
    pub async fn check(&self) -> Result<(), DbError> {
        let result = self
            .read(async |c| {
                crate::conn::db_run!(c, |c| c.batch_execute("SELECT 1").await)?;
                Ok(())
            })
            .await;
        result.map_err(|e| match e {
            DbError::Unavailable { reason, source, .. } => DbError::Unavailable {
                url: self.url.to_string(),
                reason: self.url.redact(&reason),
                source,
            },
            DbError::Query(source) => DbError::Unavailable {
                url: self.url.to_string(),
                reason: self.url.redact(&source.to_string()),
                source: None,
            },
            other => other,
        })
    }

    /// Opens one PostgreSQL connection outside the pool (migrations need an owned one).
    pub(crate) async fn establish_pg(&self) -> Result<AsyncPgConnection, DbError> {
        AsyncPgConnection::establish(&self.target)
            .await
            .map_err(|e| self.unavailable(e))
    }

    /// Opens one SQLite connection outside the pool, with the pragmas set.
    pub(crate) async fn establish_sqlite(&self) -> Result<SqliteConn, DbError> {
        let mut conn = SqliteConn::establish(&self.target)
            .await
            .map_err(|e| self.unavailable(e))?;
        let busy_ms = self.options.lock_timeout.as_millis().max(1);
        conn.batch_execute(&sqlite_pragmas(busy_ms)).await?;
        Ok(conn)
    }

    fn unavailable(&self, e: ConnectionError) -> DbError {
        DbError::Unavailable {
            url: self.url.to_string(),
            reason: self.url.redact(&e.to_string()),
            source: None,
        }
    }
}

/// Refuses a missing SQLite file unless creating is allowed; creates it owner-only
/// (SQLite gives its `-wal` and `-shm` files the same permissions).
fn prepare_sqlite_file(url: &DatabaseUrl, path: &Path, create: Create) -> Result<(), DbError> {
    if path.exists() {
        return Ok(());
    }
    let unavailable = |reason: String| DbError::Unavailable {
        url: url.to_string(),
        reason,
        source: None,
    };
    if create == Create::No {
        return Err(unavailable(format!(
            "the database file {} does not exist (create it with `inventory db init`)",
            path.display()
        )));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| unavailable(format!("cannot create directory {}: {e}", dir.display())))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(unavailable(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}

/// Settings applied to every SQLite connection (PRODUCT §2).
fn sqlite_pragmas(busy_ms: u128) -> String {
    format!(
        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {busy_ms}; \
         PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
    )
}

static MEMORY_DB_COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn builder<M: bb8::ManageConnection>(options: &PoolOptions) -> bb8::Builder<M> {
    bb8::Pool::builder()
        .max_size(options.max_size.max(1))
        .connection_timeout(options.connection_timeout)
        .idle_timeout(options.idle_timeout)
        .retry_connection(false)
}

/// How the PostgreSQL pool checks a connection before handing it out: without a round
/// trip. A connection the server closed (a restart, `pg_terminate_backend`, a dropped
/// network) is known to the client as soon as its socket says so, and one left in a failed
/// transaction is known to diesel; either is discarded and replaced. A `SELECT 1` before
/// every use would cost each request one more round trip to find out the same.
fn pg_manager_config() -> ManagerConfig<AsyncPgConnection> {
    use diesel_async::pooled_connection::{PoolableConnection, RecyclingMethod};
    let mut config = ManagerConfig::<AsyncPgConnection>::default();
    config.recycling_method = RecyclingMethod::CustomFunction(Box::new(|conn| {
        let broken = conn.is_broken();
        Box::pin(async move {
            if broken {
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::ClosedConnection,
                    Box::new("the connection is closed".to_string()),
                ))
            } else {
                Ok(())
            }
        })
    }));
    config
}

fn sqlite_pool(
    target: String,
    busy_ms: u128,
    builder: bb8::Builder<AsyncDieselConnectionManager<SqliteConn>>,
) -> Bb8Pool<SqliteConn> {
    // A connection to a local file does not go stale: no `SELECT 1` before every use.
    let builder = builder.test_on_check_out(false);
    let mut config = ManagerConfig::<SqliteConn>::default();
    config.custom_setup = Box::new(move |url: &str| {
        let url = url.to_string();
        Box::pin(async move {
            let mut conn = SqliteConn::establish(&url).await?;
            conn.batch_execute(&sqlite_pragmas(busy_ms))
                .await
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        })
    });
    let manager = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(target, config);
    builder.build_unchecked(manager)
}
