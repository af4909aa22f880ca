//! Starting and stopping: open the database (and migrate it, or refuse an out-of-date
//! schema), listen, serve until SIGTERM/SIGINT, let in-flight requests finish within the
//! grace period, close the database (on SQLite that checkpoints the WAL).

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use inventory_db::{redact_url, Backend, Database, DatabaseUrl, DbError, PoolOptions};
use tokio::net::{TcpListener, TcpSocket};
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
    let listener = listen(config.bind)
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
    let limits = Limits {
        header_timeout: config.header_timeout(),
        max_connections: raise_open_files_limit(config.max_connections as usize),
        grace: config.grace(),
    };
    tracing::info!(
        header_read_timeout_secs = limits.header_timeout.as_secs(),
        max_connections = limits.max_connections,
        "connection limits"
    );
    serve(listener, router, signal, limits).await?;
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

/// How connections are served: the limits [`serve`] applies to every connection.
#[derive(Clone, Copy, Debug)]
struct Limits {
    /// How long a client may take to send a request's headers.
    header_timeout: Duration,
    /// Connections open at once.
    max_connections: usize,
    /// After the signal, how long requests in flight may take.
    grace: Duration,
}

/// Connections the kernel completes and queues for the accept loop (Linux caps it at
/// `net.core.somaxconn`): a burst of connections larger than this has handshakes dropped.
const LISTEN_BACKLOG: u32 = 4096;

/// The listening socket, with room for a burst of connections ([`LISTEN_BACKLOG`]; tokio's
/// `bind` asks for 1024).
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// File descriptors kept free of connections: the database pool, the SQLite files, logs.
const RESERVED_FDS: u64 = 64;

/// Raises the soft open-files limit to the hard one (each connection is a file
/// descriptor), and returns how many connections that leaves room for.
fn raise_open_files_limit(wanted: usize) -> usize {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        let before = limit.current;
        limit.current = limit.maximum;
        match setrlimit(Resource::Nofile, limit) {
            Ok(()) => tracing::debug!(?before, now = ?limit.current, "raised the open-files limit"),
            Err(e) => {
                tracing::warn!(error = %e, "could not raise the open-files limit");
                limit = getrlimit(Resource::Nofile);
            }
        }
    }
    let Some(files) = limit.current else {
        return wanted;
    };
    let room = usize::try_from(files.saturating_sub(RESERVED_FDS).max(1)).unwrap_or(usize::MAX);
    if room < wanted {
        tracing::warn!(
            max_connections = wanted,
            open_files_limit = files,
            "the open-files limit leaves room for {room} connections only"
        );
    }
    wanted.min(room)
}

/// Serves until a signal, then stops accepting and waits up to `grace` for open requests.
///
/// HTTP/1.1 connections through hyper directly (axum's `serve` sets no header-read
/// timeout): each connection has `header_timeout` to send a request's headers, and at most
/// `max_connections` are open at once; past that, the listener is not polled, so further
/// clients wait in the kernel's accept queue.
async fn serve(
    listener: TcpListener,
    router: Router,
    signal: ShutdownSignal,
    limits: Limits,
) -> Result<(), Fatal> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;
    use std::sync::Arc;
    use tower::Service;

    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let signal = signal.recv();
    tokio::pin!(signal);
    loop {
        let permit = tokio::select! {
            () = &mut signal => break,
            permit = slots.clone().acquire_owned() => permit,
        };
        let Ok(permit) = permit else { break };
        let (stream, remote) = tokio::select! {
            () = &mut signal => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(remote));
                let mut router = router.clone();
                async move { router.call(req.map(axum::body::Body::new)).await }
            });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!(
        grace_secs = limits.grace.as_secs(),
        "shutting down: no new connections, waiting for requests in flight"
    );
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.grace) => {
            tracing::warn!("grace period over: closing the connections still open");
        }
    }
    Ok(())
}

/// An accept that failed: a connection reset before it was accepted is nothing; anything
/// else (out of file descriptors) is logged and waited out, so as not to spin.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::warn!(error = %e, "accepting a connection failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
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
