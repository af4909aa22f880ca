//! `cargo xtask`: migrations, schema check, verification, tests and benchmarks.

mod bench;
mod crash;
mod fuzz_api;
mod http;
mod migrate;
mod pg;
mod schema;
mod soak;
mod test;
mod ui_test;
mod verify;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "Home Inventory developer tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Apply (up), revert (down) or re-apply (redo) migrations on a database.
    Migrate(migrate::Args),
    /// Regenerate inventory-db/src/schema.rs from freshly migrated databases, or --check it.
    Schema {
        /// Fail if the committed schema.rs differs instead of rewriting it.
        #[arg(long)]
        check: bool,
    },
    /// On scratch databases of both backends: migrations up → down → up, schema check,
    /// the runbook's verification and integrity checks.
    Verify,
    /// Run the whole test suite against SQLite and PostgreSQL (found or started).
    Test {
        /// Extra arguments for `cargo test`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run the web UI's tests in a real Chromium (Debian's /usr/bin/chromium) on SQLite
    /// and PostgreSQL; screenshots in target/ui-screenshots/.
    UiTest,
    /// Measure the benchmark scenarios; prints a table and writes target/bench/*.json.
    Bench(bench::Args),
    /// Kill restore, import, copy and a burst of API writes at random moments on both
    /// backends; the target must be as before or as after (the burst: every acknowledged
    /// write there, multi-row writes whole or absent), and clean.
    Crash(crash::Args),
    /// 32 HTTP clients reading, writing and contending for shared items and locations on each
    /// backend (two API processes on one PostgreSQL): no 5xx, every 409/412 a real conflict,
    /// none slower than 2 s, integrity clean.
    Soak(soak::Args),
    /// Schemathesis (pinned, from PyPI, in target/fuzz-api/venv) against the API's OpenAPI
    /// document on each backend: no 5xx, every response, status and content type as
    /// documented.
    FuzzApi(fuzz_api::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.task {
        Task::Test { args } => test::run(&args),
        Task::UiTest => ui_test::run(),
        task => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                match task {
                    Task::Migrate(args) => migrate::run(args).await,
                    Task::Schema { check } => schema::run(check).await,
                    Task::Verify => verify::run().await,
                    Task::Bench(args) => bench::run(args).await,
                    Task::Crash(args) => crash::run(args).await,
                    Task::Soak(args) => soak::run(args).await,
                    Task::FuzzApi(args) => fuzz_api::run(args).await,
                    Task::Test { .. } | Task::UiTest => unreachable!("handled above"),
                }
            })
        }
    }
}

/// The workspace root.
pub(crate) fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The cargo that runs us (`$CARGO`), or `cargo`.
pub(crate) fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}
