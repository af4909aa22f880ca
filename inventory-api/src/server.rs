//! Starting and stopping: open the database (and migrate it, or refuse an out-of-date
//! schema), listen, serve until SIGTERM/SIGINT, let in-flight requests finish within the
//! grace period, close the database (on SQLite that checkpoints the WAL).

use std::future::IntoFuture;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use inventory_db::{redact_url, Backend, Database, DatabaseUrl, DbError, PoolOptions};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use crate::{app, AppState, Config};

/// Bad usage or configuration.
pub const EXIT_USAGE: u8 = 2;
/// The database is unreachable or unusable (schema not current, migration failed).
pub const EXIT_UNAVAILABLE: u8 = 3;

/// Why the server did not start (or stopped on an error).
#[derive(Debug)]
pub struct Fatal {
    /// The process exit code.
    pub code: u8,
    /// One line naming the problem (never a password).
    pub message: String,
}

impl Fatal {
    fn usage(message: impl Into<String>) -> Self {
        Fatal {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }

    fn unavailable(message: impl Into<String>) -> Self {
        Fatal {
            code: EXIT_UNAVAILABLE,
            message: message.into(),
        }
    }
}

fn db_message(e: &DbError) -> String {
    // inventory-db redacts passwords in the messages it builds; once more does no harm.
    redact_url(&e.to_string())
}

/// Logs to stderr: `RUST_LOG` when set, else `info` (one line per request).
pub fn init_logging() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.is_empty())
        .map_or_else(|| EnvFilter::new("info"), EnvFilter::new);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// Opens the database: with `--migrate` a missing SQLite file is created and the schema
/// brought up to date; without, a missing file or an out-of-date schema is refused.
async fn open(config: &Config, url: &DatabaseUrl) -> Result<Database, Fatal> {
    let unavailable = |e: DbError| Fatal::unavailable(db_message(&e));
    if !config.migrate {
        if let Some(path) = url.sqlite_path().filter(|p| !p.exists()) {
            return Err(Fatal::unavailable(format!(
                "the database file {} does not exist: start with --migrate to create it, \
                 or run `inventory db init`",
                path.display()
            )));
        }
    }
    let db = if config.migrate {
        Database::connect_or_create(url, PoolOptions::default()).await
    } else {
        Database::connect(url).await
    }
    .map_err(unavailable)?;
    if config.migrate {
        let applied = db.migrate().await.map_err(unavailable)?;
        tracing::info!(applied = applied.len(), "migrations applied");
    } else {
        db.ensure_schema_current().await.map_err(|e| match e {
            DbError::SchemaNotCurrent { pending } => Fatal::unavailable(format!(
                "the database schema is not current ({pending} migration(s) pending): \
                 start with --migrate, or run `inventory db migrate`"
            )),
            other => unavailable(other),
        })?;
    }
    Ok(db)
}

/// Runs the server until a shutdown signal; `Ok` after a clean shutdown.
pub async fn run(config: Config) -> Result<(), Fatal> {
    let url = config
        .database()
        .map_err(|e| Fatal::usage(db_message(&e)))?;
    tracing::info!(database = %url, "opening the database");
    let db = open(&config, &url).await?;
    let listener = TcpListener::bind(config.bind)
        .await
        .map_err(|e| Fatal::usage(format!("cannot listen on {}: {e}", config.bind)))?;
    let local = listener
        .local_addr()
        .map_err(|e| Fatal::usage(format!("cannot listen on {}: {e}", config.bind)))?;
    // The first failed login of an unknown user would otherwise also pay for making the
    // dummy hash that such logins are checked against: a timing difference, once.
    let _ = db.authenticate_password("", "").await;

    let signal = ShutdownSignal::install()
        .map_err(|e| Fatal::usage(format!("cannot listen for signals: {e}")))?;
    let router = app(AppState::new(db.clone(), config.settings()));
    tracing::info!("listening on http://{local}");
    serve(listener, router, signal, config.grace()).await?;
    close(db).await;
    tracing::info!("stopped");
    Ok(())
}

/// After the server stopped: on SQLite the write-ahead log goes into the database file, so
/// that a plain copy of the file taken afterwards is complete.
async fn close(db: Database) {
    match db.checkpoint().await {
        Ok(()) if db.backend() == Backend::Sqlite => {
            tracing::info!("SQLite WAL checkpointed; the database file is complete");
        }
        Ok(()) => {}
        Err(e) => tracing::warn!(
            error = %db_message(&e),
            "could not checkpoint the SQLite WAL; copy the database with `inventory db backup`, not cp"
        ),
    }
    drop(db);
}

/// Serves until a signal, then stops accepting and waits up to `grace` for open requests.
async fn serve(
    listener: TcpListener,
    router: Router,
    signal: ShutdownSignal,
    grace: Duration,
) -> Result<(), Fatal> {
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        signal.recv().await;
        tracing::info!(
            grace_secs = grace.as_secs(),
            "shutting down: no new connections, waiting for requests in flight"
        );
        let _ = stopping_tx.send(());
    })
    .into_future();
    let grace_over = async {
        match stopping_rx.await {
            Ok(()) => tokio::time::sleep(grace).await,
            // The server ended without a signal: the other branch has finished.
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        served = server => served.map_err(|e| Fatal::usage(format!("server error: {e}"))),
        () = grace_over => {
            tracing::warn!("grace period over: closing the connections still open");
            Ok(())
        }
    }
}

/// SIGTERM and SIGINT, listened for from creation on (so that a signal arriving between
/// "listening" and the first poll of the server is not lost).
struct ShutdownSignal {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(ShutdownSignal {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(ShutdownSignal {})
    }

    async fn recv(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.interrupt.recv() => {}
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
