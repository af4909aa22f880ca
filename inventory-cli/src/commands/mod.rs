//! Dispatch: resolves the database URL, opens the database as each command needs it, and
//! runs the command. Shared helpers: schema gate and confirmation of destructive commands.

mod csv;
mod db;
mod demo;
mod item;
mod location;
mod user;
mod verify;

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use inventory_db::{Database, DatabaseUrl, PoolOptions};

use crate::cli::{Cli, Command, Format};
use crate::error::{CliError, CmdResult};

/// How long to wait for a connection before calling the database unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What every command gets: where the database is and how to print.
#[derive(Debug)]
pub struct Ctx {
    /// The database (its `Display` redacts the password).
    pub url: DatabaseUrl,
    /// Output format.
    pub format: Format,
}

impl Ctx {
    /// True when the output is JSON.
    pub fn json(&self) -> bool {
        self.format == Format::Json
    }

    /// Connects (exit 3 when unreachable); creates nothing.
    pub async fn open(&self) -> Result<Database, CliError> {
        Ok(open_url(&self.url).await?)
    }

    /// Connects and refuses a schema that is missing or out of date (exit 3, "run
    /// `inventory db migrate`").
    pub async fn open_current(&self) -> Result<Database, CliError> {
        let db = self.open().await?;
        db.ensure_schema_current().await?;
        Ok(db)
    }
}

/// Connects to `url` with the CLI's pool options (fail fast).
pub async fn open_url(url: &DatabaseUrl) -> Result<Database, inventory_db::DbError> {
    let options = PoolOptions {
        connection_timeout: CONNECT_TIMEOUT,
        ..PoolOptions::default()
    };
    Database::connect_with(url, options).await
}

/// Runs the parsed command line; returns the exit code.
pub async fn run(cli: Cli) -> CmdResult {
    let url = match cli.database_url.as_deref() {
        Some(raw) => DatabaseUrl::parse(raw)?,
        None => DatabaseUrl::from_env()?,
    };
    tracing::debug!(%url, "database");
    let ctx = Ctx {
        url,
        format: cli.format,
    };
    match cli.command {
        Command::Db(cmd) => db::run(&ctx, cmd).await,
        Command::Location(cmd) => location::run(&ctx, cmd).await,
        Command::Verify => verify::run(&ctx).await,
        Command::Demo => demo::run(&ctx).await,
        Command::Item(cmd) => item::run(&ctx, cmd).await,
        Command::Category(cmd) => item::category(&ctx, cmd).await,
        Command::Find { text, limit } => item::find(&ctx, &text, limit).await,
        Command::User(cmd) => user::run(&ctx, cmd).await,
        Command::Token(cmd) => user::token(&ctx, cmd).await,
        Command::Export { file } => csv::export(&ctx, &file).await,
        Command::Import {
            file,
            create_locations,
        } => csv::import(&ctx, &file, create_locations).await,
    }
}

/// Asks before a destructive action. With `--yes` it goes ahead; without, it refuses when
/// stdin is not a terminal (exit 2) and asks y/N on one.
pub fn confirm(yes: bool, action: &str) -> Result<(), CliError> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::usage(format!(
            "refusing to {action} without confirmation; pass --yes"
        )));
    }
    eprint!("Really {action}? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(CliError::usage(format!("not confirmed; did not {action}"))),
    }
}
