//! The command line grammar (clap derive): global options and every subcommand.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use inventory_core::LocationType;

/// Home Inventory: what you own and where it is.
#[derive(Debug, Parser)]
#[command(name = "inventory", version, about, propagate_version = true)]
pub struct Cli {
    /// Database URL: postgres://…, sqlite://PATH, sqlite::memory: or a file path.
    /// Without it: POSTGRES_HOST & co., else ./data/inventory.db.
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Output format; json is stable, for scripts.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Diagnostics and SQL on stderr (-v debug, -vv trace); RUST_LOG also works.
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text for people.
    Table,
    /// JSON for scripts.
    Json,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Database operations: schema, checks, maintenance, backup.
    #[command(subcommand)]
    Db(DbCommand),
    /// Locations: the tree of house, rooms, shelves and containers.
    #[command(subcommand)]
    Location(LocationCommand),
    /// Runs the six foundation checks of the runbook; leaves no data behind.
    Verify,
    /// Migrates if needed and fills in a sample home (idempotent), then prints its tree.
    Demo,
}

/// `inventory db …`
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Creates the tables of a new database (applies every migration).
    Init,
    /// Applies pending migrations.
    Migrate,
    /// Reverts applied migrations, newest first.
    Rollback {
        /// How many migrations to revert.
        #[arg(long, default_value_t = 1)]
        steps: usize,
    },
    /// Lists every migration and whether it is applied.
    History,
    /// Drops everything and recreates an empty, current schema.
    Reset(Confirm),
    /// Drops every table, data and migration history included.
    Drop(Confirm),
    /// Checks that the database answers.
    Check,
    /// Connection, migrations, a table round trip and an integrity summary.
    Health,
    /// Rows per table, size, page size and count.
    Stats,
    /// Checks the location tree and the engine; exit 1 when anything is found.
    Integrity {
        /// Also run the slow full engine check (SQLite `PRAGMA integrity_check`).
        #[arg(long)]
        full: bool,
    },
    /// Reclaims space and refreshes statistics.
    Vacuum,
    /// Writes a portable backup (compressed when FILE ends in .gz or .zst).
    Backup {
        /// The backup file to write.
        file: PathBuf,
    },
    /// Replaces all data with a backup, all-or-nothing.
    Restore {
        /// The backup file to read.
        file: PathBuf,
        /// Replace the data without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Copies everything into another (empty) database, e.g. SQLite to PostgreSQL.
    Copy {
        /// The target database URL.
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

/// The `--yes` of destructive commands.
#[derive(Debug, Args)]
pub struct Confirm {
    /// Do it without asking.
    #[arg(long)]
    pub yes: bool,
}

/// A location type as typed by users (case-insensitive).
fn location_type(raw: &str) -> Result<LocationType, String> {
    raw.parse::<LocationType>().map_err(|e| e.to_string())
}

/// `inventory location …`. REF is an id or a full path such as "My House / Kitchen".
#[derive(Debug, Subcommand)]
pub enum LocationCommand {
    /// Creates a location.
    Add {
        /// Its name (1–255 characters, unique among its siblings).
        name: String,
        /// HOUSE, ROOM, CONTAINER or SHELF.
        #[arg(long = "type", value_name = "TYPE", value_parser = location_type)]
        location_type: LocationType,
        /// Where it is (id or full path); a root when left out.
        #[arg(long, value_name = "REF")]
        parent: Option<String>,
        /// Free text.
        #[arg(long)]
        description: Option<String>,
    },
    /// Lists locations (all of them, or those matching the filters).
    List {
        /// Only this type.
        #[arg(long = "type", value_name = "TYPE", value_parser = location_type)]
        location_type: Option<LocationType>,
        /// Only locations without a parent.
        #[arg(long, conflicts_with = "parent")]
        roots: bool,
        /// Only the direct children of this location.
        #[arg(long, value_name = "REF")]
        parent: Option<String>,
    },
    /// Shows one location with its full path, ancestors and child count.
    Show {
        /// Id or full path.
        #[arg(value_name = "REF")]
        reference: String,
    },
    /// Prints the tree under a location, or every tree.
    Tree {
        /// Id or full path; every root when left out.
        #[arg(value_name = "REF")]
        reference: Option<String>,
        /// At most this many levels below the top.
        #[arg(long)]
        depth: Option<u32>,
    },
    /// Changes name, description or type.
    Update {
        /// Id or full path.
        #[arg(value_name = "REF")]
        reference: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// New description.
        #[arg(long, conflicts_with = "clear_description")]
        description: Option<String>,
        /// Remove the description.
        #[arg(long)]
        clear_description: bool,
        /// New type (checked against the parent and the children).
        #[arg(long = "type", value_name = "TYPE", value_parser = location_type)]
        location_type: Option<LocationType>,
    },
    /// Moves a location (and everything in it) under another, or to the root.
    Move {
        /// Id or full path of the location to move.
        #[arg(value_name = "REF")]
        reference: String,
        /// The new parent (id or full path).
        #[arg(
            long,
            value_name = "REF",
            required_unless_present = "root",
            conflicts_with = "root"
        )]
        to: Option<String>,
        /// Make it a root.
        #[arg(long)]
        root: bool,
    },
    /// Deletes a location and everything under it.
    Rm {
        /// Id or full path.
        #[arg(value_name = "REF")]
        reference: String,
        /// Delete without asking.
        #[arg(long)]
        yes: bool,
    },
}
