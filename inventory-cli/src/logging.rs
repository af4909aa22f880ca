//! Diagnostics on stderr through tracing: `-v` (or `RUST_LOG`) turns them on, including
//! every SQL statement the database layer runs.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the stderr subscriber. `RUST_LOG` wins when set; otherwise `-v` gives debug
/// output of this program, inventory-db and the SQL log, `-vv` trace, none only warnings.
/// The PostgreSQL driver's own debug log (which prints raw bind values) stays off unless
/// `RUST_LOG` names it: bind values of secrets are shown as `<redacted>` only in ours.
pub fn init(verbose: u8) {
    let from_env = std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty());
    let spec = match (&from_env, verbose) {
        (Some(spec), _) => spec.clone(),
        (None, 0) => "warn".to_string(),
        (None, 1) => "warn,inventory=debug,inventory_db=debug,sql=debug".to_string(),
        (None, _) => "debug,sql=trace".to_string(),
    };
    let filter = if spec.contains("tokio_postgres") {
        EnvFilter::new(spec)
    } else {
        EnvFilter::new(format!("{spec},tokio_postgres=warn"))
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
    if from_env.is_some() || verbose > 0 {
        // Applies to every connection opened from now on, on both backends.
        inventory_db::logging::install_sql_logging();
    }
}
