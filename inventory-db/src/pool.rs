//! The connection pool: one enum over the two bb8 pools, and the macro that runs code on either.

use std::time::Duration;

use diesel::sqlite::SqliteConnection;
use diesel::ConnectionError;
use diesel_async::pooled_connection::bb8::Pool as Bb8Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use inventory_core::TypeRules;

use crate::config::{Backend, DatabaseUrl};
use crate::error::DbError;

/// The async SQLite connection type.
pub type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

/// Settings applied to every pooled SQLite connection (PRODUCT §2).
pub(crate) const SQLITE_PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
     PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;";

/// Pool sizing and timeouts.
#[derive(Clone, Debug)]
pub struct PoolOptions {
    /// Most connections open at once.
    pub max_size: u32,
    /// How long to wait for a connection before giving up.
    pub connection_timeout: Duration,
    /// Close connections idle for this long.
    pub idle_timeout: Option<Duration>,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_size: 8,
            connection_timeout: Duration::from_secs(10),
            idle_timeout: Some(Duration::from_secs(300)),
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
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("url", &self.url).finish()
    }
}

/// Runs `$body` with `$conn` bound to a pooled connection of the right backend and
/// `store` bound to that backend's query module (`crate::store::pg` or `crate::store::sqlite`).
macro_rules! db_run {
    ($db:expr, |$conn:ident| $body:expr) => {
        match &$db.pool {
            $crate::pool::Pool::Postgres(pool) => {
                #[allow(unused_imports)]
                use $crate::store::pg as store;
                let mut guard = pool.get().await?;
                let $conn: &mut diesel_async::AsyncPgConnection = &mut guard;
                $body
            }
            $crate::pool::Pool::Sqlite(pool) => {
                #[allow(unused_imports)]
                use $crate::store::sqlite as store;
                let mut guard = pool.get().await?;
                let $conn: &mut $crate::pool::SqliteConn = &mut guard;
                $body
            }
        }
    };
}
pub(crate) use db_run;

impl Database {
    /// Connects with default pool options; fails fast (exit-code class `Unavailable`) when
    /// the database cannot be reached. Does not create or migrate anything.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, DbError> {
        Self::connect_with(url, PoolOptions::default()).await
    }

    /// Connects with the given pool options.
    pub async fn connect_with(url: &DatabaseUrl, options: PoolOptions) -> Result<Self, DbError> {
        let mut target = url.connection_string();
        let pool = match url {
            DatabaseUrl::Postgres(raw) => {
                let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(raw.clone());
                Pool::Postgres(builder(&options).build_unchecked(manager))
            }
            DatabaseUrl::SqliteFile(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| DbError::Unavailable {
                        url: url.to_string(),
                        reason: format!("cannot create directory {}: {e}", dir.display()),
                    })?;
                }
                Pool::Sqlite(sqlite_pool(target.clone(), builder(&options)))
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
                Pool::Sqlite(sqlite_pool(target.clone(), b))
            }
        };
        let db = Database {
            pool,
            url: url.clone(),
            target,
            rules: TypeRules::default(),
        };
        // The pool reports a refused connection only when its timeout runs out; one direct
        // connection first makes an unreachable or misconfigured database fail fast.
        let probe = tokio::time::timeout(options.connection_timeout, async {
            match db.backend() {
                Backend::Postgres => db.establish_pg().await.map(drop),
                Backend::Sqlite => db.establish_sqlite().await.map(drop),
            }
        })
        .await;
        match probe {
            Ok(result) => result?,
            Err(_) => {
                return Err(DbError::Unavailable {
                    url: url.to_string(),
                    reason: format!("no answer within {:?}", options.connection_timeout),
                })
            }
        }
        db.check().await?;
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

    /// Checks the connection with a trivial query.
    pub async fn check(&self) -> Result<(), DbError> {
        let result: Result<(), DbError> = async {
            db_run!(self, |conn| {
                conn.batch_execute("SELECT 1").await?;
                Ok(())
            })
        }
        .await;
        result.map_err(|e| match e {
            DbError::Unavailable { reason, .. } => DbError::Unavailable {
                url: self.url.to_string(),
                reason,
            },
            DbError::Query(reason) => DbError::Unavailable {
                url: self.url.to_string(),
                reason,
            },
            other => other,
        })
    }

    /// Opens one connection outside the pool (migrations need an owned connection).
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
        conn.batch_execute(SQLITE_PRAGMAS).await?;
        Ok(conn)
    }

    fn unavailable(&self, e: ConnectionError) -> DbError {
        DbError::Unavailable {
            url: self.url.to_string(),
            reason: crate::config::redact_url(&e.to_string()),
        }
    }
}

static MEMORY_DB_COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn builder<M: bb8::ManageConnection>(options: &PoolOptions) -> bb8::Builder<M> {
    bb8::Pool::builder()
        .max_size(options.max_size.max(1))
        .connection_timeout(options.connection_timeout)
        .idle_timeout(options.idle_timeout)
        .retry_connection(false)
}

fn sqlite_pool(
    target: String,
    builder: bb8::Builder<AsyncDieselConnectionManager<SqliteConn>>,
) -> Bb8Pool<SqliteConn> {
    let mut config = ManagerConfig::<SqliteConn>::default();
    config.custom_setup = Box::new(|url: &str| {
        let url = url.to_string();
        Box::pin(async move {
            let mut conn = SqliteConn::establish(&url).await?;
            conn.batch_execute(SQLITE_PRAGMAS)
                .await
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        })
    });
    let manager = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(target, config);
    builder.build_unchecked(manager)
}
