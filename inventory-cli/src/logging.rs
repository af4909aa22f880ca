//! Diagnostics on stderr through tracing: `-v` (or `RUST_LOG`) turns them on, including
//! every SQL statement the database layer runs.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the stderr subscriber. `RUST_LOG` wins when set; otherwise `-v` gives debug
/// output of this program, inventory-db and the SQL log, `-vv` trace, none only warnings.
pub fn init(verbose: u8) {
    let from_env = std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty());
    let filter = match (&from_env, verbose) {
        (Some(spec), _) => EnvFilter::new(spec),
        (None, 0) => EnvFilter::new("warn"),
        (None, 1) => EnvFilter::new("warn,inventory=debug,inventory_db=debug,sql=debug"),
        (None, _) => EnvFilter::new("debug,sql=trace"),
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
