//! `cargo xtask migrate [up|down|redo] --database-url URL [--steps N]`.

use anyhow::Context;
use inventory_db::{Database, DatabaseUrl};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// up: apply pending; down: revert --steps; redo: revert --steps then apply again.
    #[arg(value_enum, default_value = "up")]
    direction: Direction,
    /// Target database (else DATABASE_URL, POSTGRES_*, or ./data/inventory.db).
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// How many migrations `down`/`redo` revert.
    #[arg(long, default_value_t = 1)]
    steps: usize,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Direction {
    Up,
    Down,
    Redo,
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let url = match &args.database_url {
        Some(raw) => DatabaseUrl::parse(raw)?,
        None => DatabaseUrl::from_env()?,
    };
    let db = Database::connect(&url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    if matches!(args.direction, Direction::Down | Direction::Redo) {
        for v in db
            .rollback(args.steps)
            .await
            .context("reverting migrations")?
        {
            println!("reverted {v}");
        }
    }
    if matches!(args.direction, Direction::Up | Direction::Redo) {
        let applied = db.migrate().await.context("applying migrations")?;
        if applied.is_empty() {
            println!("{url}: schema is current, nothing to apply");
        }
        for v in applied {
            println!("applied {v}");
        }
    }
    Ok(())
}
