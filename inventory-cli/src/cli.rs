//! The command line grammar (clap derive): global options and every subcommand.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use inventory_core::{LocationType, Role, Scope};

/// Home Inventory: what you own and where it is.
#[derive(Debug, Parser)]
#[command(name = "inventory", version, about, propagate_version = true)]
pub struct Cli {
    /// Database URL: postgres://…, sqlite://PATH, sqlite::memory: or a file path.
    /// Without it: DATABASE_URL, else POSTGRES_HOST & co., else ./data/inventory.db.
    // DATABASE_URL is read by `DatabaseUrl::from_env`, not by clap: there an empty variable
    // counts as unset, as everywhere else in the project.
    #[arg(long, global = true)]
    pub database_url: Option<String>,

    /// Output format; json is stable, for scripts.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Diagnostics and SQL on stderr (-v debug, -vv trace); RUST_LOG also works.
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// How many seconds a write waits for another writer's lock before giving up (exit 3).
    #[arg(long, global = true, env = "INVENTORY_LOCK_TIMEOUT", value_name = "SECS", default_value_t = 10.0, value_parser = lock_timeout)]
    pub lock_timeout: f64,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `--lock-timeout`: a number of seconds, more than 0 and at most a day.
fn lock_timeout(raw: &str) -> Result<f64, String> {
    match raw.trim().parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs <= 86_400.0 => Ok(secs),
        _ => Err(format!(
            "\"{raw}\" is not a number of seconds between 0 and 86400"
        )),
    }
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
    /// Migrates if needed and fills in a sample home with a few items (idempotent), then
    /// prints its tree.
    Demo,
    /// Items: the things you own, each in a location.
    #[command(subcommand)]
    Item(ItemCommand),
    /// Categories of items.
    #[command(subcommand)]
    Category(CategoryCommand),
    /// "Where is my drill?": searches items and locations, shows each hit's full path.
    Find {
        /// Words to look for (every word must match, as a prefix).
        #[arg(required = true, num_args = 1.., value_name = "TEXT")]
        text: Vec<String>,
        /// At most this many hits.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Users of the API.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Writes every item as CSV (`-` for stdout).
    Export {
        /// The CSV file to write (created readable by you only).
        file: PathBuf,
        /// Replace FILE if it exists (never the database in use).
        #[arg(long)]
        force: bool,
    },
    /// Reads items from CSV (`-` for stdin), all or nothing.
    Import {
        /// The CSV file to read.
        file: PathBuf,
        /// Create the locations the file names that do not exist.
        #[arg(long)]
        create_locations: bool,
    },
}

/// `inventory db …`
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Creates the tables of a new database (applies every migration).
    Init,
    /// Applies pending migrations.
    Migrate,
    /// Reverts applied migrations, newest first (their tables and data are dropped).
    Rollback {
        /// How many migrations to revert.
        #[arg(long, default_value_t = 1)]
        steps: usize,
        /// Drop what the rollback drops without asking.
        #[arg(long)]
        yes: bool,
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
        /// Also run the slow full checks (SQLite `PRAGMA integrity_check` of the whole file,
        /// pages and search index included, in place of `quick_check`; every location's
        /// kept subtree totals recomputed from the items).
        #[arg(long)]
        full: bool,
    },
    /// Reclaims space and refreshes statistics.
    Vacuum,
    /// Writes a portable backup (compressed when FILE ends in .gz or .zst).
    Backup {
        /// The backup file to write (created readable by you only).
        file: PathBuf,
        /// Replace FILE if it exists (never the database in use).
        #[arg(long)]
        force: bool,
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
        /// What happens to the items in the subtree; without it, a subtree that holds
        /// items is not deleted.
        #[arg(long, value_enum, value_name = "WHAT")]
        items: Option<ItemsMode>,
    },
}

/// `location rm --items`: what happens to the items inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ItemsMode {
    /// Move them to the deleted location's parent.
    MoveToParent,
    /// Delete them too.
    Delete,
}

/// `--price`: an amount like 12.34, in cents.
fn price(raw: &str) -> Result<i64, String> {
    inventory_core::parse_price(raw).map_err(|e| e.to_string())
}

/// `--currency`: a 3-letter code, upper-cased.
fn currency(raw: &str) -> Result<String, String> {
    inventory_core::validate_currency(raw).map_err(|e| e.to_string())
}

/// `--quantity`: a whole number from 0.
fn quantity(raw: &str) -> Result<i64, String> {
    let n: i64 = raw
        .trim()
        .parse()
        .map_err(|_| format!("quantity: \"{raw}\" is not a whole number"))?;
    inventory_core::validate_quantity(n).map_err(|e| e.to_string())
}

/// `--purchased`: YYYY-MM-DD.
fn purchased(raw: &str) -> Result<NaiveDate, String> {
    inventory_core::parse_date("purchased", raw).map_err(|e| e.to_string())
}

/// `--warranty`: YYYY-MM-DD.
fn warranty(raw: &str) -> Result<NaiveDate, String> {
    inventory_core::parse_date("warranty", raw).map_err(|e| e.to_string())
}

/// `user add --role`.
fn role(raw: &str) -> Result<Role, String> {
    raw.parse::<Role>().map_err(|e| e.to_string())
}

/// `token create --scope`.
fn scope(raw: &str) -> Result<Scope, String> {
    raw.parse::<Scope>().map_err(|e| e.to_string())
}

/// `inventory item …`. ID is an item's number (see `item list`).
#[derive(Debug, Subcommand)]
pub enum ItemCommand {
    /// Creates an item in a location.
    Add {
        /// Its name (1–255 characters).
        name: String,
        /// Where it is (id or full path).
        #[arg(long, value_name = "REF")]
        location: String,
        /// How many (0 or more; 1 when left out).
        #[arg(long, value_parser = quantity, allow_negative_numbers = true)]
        quantity: Option<i64>,
        /// An existing category (see `inventory category add`).
        #[arg(long, value_name = "NAME")]
        category: Option<String>,
        /// Free text.
        #[arg(long)]
        description: Option<String>,
        /// Free notes (searched by `find`).
        #[arg(long)]
        notes: Option<String>,
        /// Serial number.
        #[arg(long)]
        serial: Option<String>,
        /// Price paid for one, like 12.34 (needs --currency).
        #[arg(long, value_parser = price, requires = "currency", allow_negative_numbers = true)]
        price: Option<i64>,
        /// Currency of the price, like EUR (needs --price).
        #[arg(long, value_parser = currency, requires = "price")]
        currency: Option<String>,
        /// Purchase date, YYYY-MM-DD.
        #[arg(long, value_parser = purchased, value_name = "DATE")]
        purchased: Option<NaiveDate>,
        /// Warranty end, YYYY-MM-DD.
        #[arg(long, value_parser = warranty, value_name = "DATE")]
        warranty: Option<NaiveDate>,
    },
    /// Lists items (every page), with totals.
    List {
        /// Only items in this location (id or full path).
        #[arg(long, value_name = "REF")]
        location: Option<String>,
        /// With --location: also the items anywhere below it.
        #[arg(long, requires = "location")]
        recursive: bool,
        /// Only items of this category.
        #[arg(long, value_name = "NAME")]
        category: Option<String>,
    },
    /// Shows one item.
    Show {
        /// The item's id.
        id: i64,
    },
    /// Changes an item's fields.
    Update {
        /// The item's id.
        id: i64,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// New quantity.
        #[arg(long, value_parser = quantity, allow_negative_numbers = true)]
        quantity: Option<i64>,
        /// New category (must exist).
        #[arg(long, value_name = "NAME", conflicts_with = "no_category")]
        category: Option<String>,
        /// Remove the category.
        #[arg(long)]
        no_category: bool,
        /// New description.
        #[arg(long, conflicts_with = "clear_description")]
        description: Option<String>,
        /// Remove the description.
        #[arg(long)]
        clear_description: bool,
        /// New notes.
        #[arg(long, conflicts_with = "clear_notes")]
        notes: Option<String>,
        /// Remove the notes.
        #[arg(long)]
        clear_notes: bool,
        /// New serial number.
        #[arg(long, conflicts_with = "clear_serial")]
        serial: Option<String>,
        /// Remove the serial number.
        #[arg(long)]
        clear_serial: bool,
        /// New price of one (needs --currency).
        #[arg(long, value_parser = price, requires = "currency", conflicts_with = "clear_price", allow_negative_numbers = true)]
        price: Option<i64>,
        /// Currency of the new price (needs --price).
        #[arg(long, value_parser = currency, requires = "price")]
        currency: Option<String>,
        /// Remove price and currency.
        #[arg(long)]
        clear_price: bool,
        /// New purchase date, YYYY-MM-DD.
        #[arg(long, value_parser = purchased, value_name = "DATE", conflicts_with = "clear_purchased")]
        purchased: Option<NaiveDate>,
        /// Remove the purchase date.
        #[arg(long)]
        clear_purchased: bool,
        /// New warranty end, YYYY-MM-DD.
        #[arg(long, value_parser = warranty, value_name = "DATE", conflicts_with = "clear_warranty")]
        warranty: Option<NaiveDate>,
        /// Remove the warranty end.
        #[arg(long)]
        clear_warranty: bool,
    },
    /// Moves an item to another location.
    Move {
        /// The item's id.
        id: i64,
        /// The new location (id or full path).
        #[arg(long, value_name = "REF")]
        to: String,
    },
    /// Deletes an item.
    Rm {
        /// The item's id.
        id: i64,
        /// Delete without asking.
        #[arg(long)]
        yes: bool,
    },
}

/// `inventory category …`
#[derive(Debug, Subcommand)]
pub enum CategoryCommand {
    /// Creates a category (names are unique, ignoring case).
    Add {
        /// Its name.
        name: String,
        /// Free text.
        #[arg(long)]
        description: Option<String>,
    },
    /// Lists categories with their item counts.
    List,
    /// Deletes a category; its items stay, without a category.
    Rm {
        /// Its name.
        name: String,
        /// Delete without asking.
        #[arg(long)]
        yes: bool,
    },
}

/// `inventory user …`. Passwords come from a prompt, or the first line of stdin when it is
/// not a terminal; never from the command line.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Creates a user; asks for the password.
    Add {
        /// User name (letters, digits, `.`, `_`, `-`).
        name: String,
        /// admin, member or viewer.
        #[arg(long, value_parser = role)]
        role: Role,
    },
    /// Lists users.
    List,
    /// Sets a user's password; asks for it.
    Passwd {
        /// User name.
        name: String,
    },
    /// Deletes a user and their tokens.
    Rm {
        /// User name.
        name: String,
        /// Delete without asking.
        #[arg(long)]
        yes: bool,
    },
}

/// `inventory token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Creates an API token and prints its secret, once.
    Create {
        /// The user it authenticates.
        #[arg(long, value_name = "NAME")]
        user: String,
        /// What it is for.
        #[arg(long)]
        label: Option<String>,
        /// `read` (it may only read, whatever the user's role) or `write` (what the role
        /// allows).
        #[arg(long, value_parser = scope, default_value = "write")]
        scope: Scope,
        /// Days until it stops working (1–3650); without it, it works until revoked.
        #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires: Option<u32>,
    },
    /// Lists tokens (never their secrets).
    List {
        /// Only this user's tokens.
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
    },
    /// Revokes a token; it authenticates nobody afterwards.
    Revoke {
        /// The token's id (see `token list`).
        id: i64,
    },
}
