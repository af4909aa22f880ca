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

/// What every command gets: where the database is, how long writes wait, how to print.
#[derive(Debug)]
pub struct Ctx {
    /// The database (its `Display` redacts the password).
    pub url: DatabaseUrl,
    /// Output format.
    pub format: Format,
    /// How long a write waits for another writer's lock.
    pub lock_timeout: Duration,
}

impl Ctx {
    /// True when the output is JSON.
    pub fn json(&self) -> bool {
        self.format == Format::Json
    }

    /// Connects (exit 3 when unreachable, or when a SQLite file does not exist); creates nothing.
    pub async fn open(&self) -> Result<Database, CliError> {
        Ok(Database::connect_with(&self.url, self.options()).await?)
    }

    /// Connects, creating a SQLite file (owner-only) that does not exist yet: for the
    /// commands that make a database (`db init`, `db migrate`, `demo`, `db restore`).
    pub async fn open_or_create(&self) -> Result<Database, CliError> {
        Ok(Database::connect_or_create(&self.url, self.options()).await?)
    }

    /// The CLI's pool options (fail fast).
    pub fn options(&self) -> PoolOptions {
        PoolOptions {
            connection_timeout: CONNECT_TIMEOUT,
            lock_timeout: self.lock_timeout,
            ..PoolOptions::default()
        }
    }

    /// Connects and refuses a schema that is missing or out of date (exit 3, "run
    /// `inventory db migrate`").
    pub async fn open_current(&self) -> Result<Database, CliError> {
        let db = self.open().await?;
        db.ensure_schema_current().await?;
        Ok(db)
    }
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
        lock_timeout: Duration::from_secs_f64(cli.lock_timeout),
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
        Command::Export { file, force } => csv::export(&ctx, &file, force).await,
        Command::Import {
            file,
            create_locations,
        } => csv::import(&ctx, &file, create_locations).await,
    }
}

/// Asks before a destructive action. With `--yes` it goes ahead; without, it refuses when
/// stdin is not a terminal (exit 2) and asks y/N on one.
pub fn confirm(yes: bool, action: &str) -> Result<(), CliError> {
    confirm_losing(yes, action, &[])
}

/// [`confirm`], first saying what will be lost (e.g. tables and their row counts), on
/// stderr, whether it then asks or refuses.
pub fn confirm_losing(yes: bool, action: &str, lost: &[String]) -> Result<(), CliError> {
    if yes {
        return Ok(());
    }
    if !lost.is_empty() {
        eprintln!("This will delete:");
        for line in lost {
            eprintln!("  {line}");
        }
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
