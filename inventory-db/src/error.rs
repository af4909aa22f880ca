//! The one error type of inventory-db: what went wrong in domain terms, not driver terms.
//!
//! Every variant says which class it belongs to ([`DbError::kind`]); the binaries map those
//! classes to exit codes (CLI) or HTTP statuses (API) in one place each. Driver and I/O
//! errors keep their cause as `source`.

use std::fmt;
use std::time::Duration;

use inventory_core::{LocationId, MoveError, RuleViolation, TreeError, ValidationError};

/// A boxed error kept as the cause of a [`DbError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Broad classes of [`DbError`], for callers that map errors to exit codes or HTTP statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller sent something invalid (bad name, bad URL, bad cursor, bad file).
    Invalid,
    /// The thing referred to does not exist.
    NotFound,
    /// The request conflicts with the data: a cycle, a type rule, a duplicate name, items
    /// inside, a stale write, a target that is not empty.
    Conflict,
    /// The database cannot be reached, is busy, or is not usable (schema missing or out of date).
    Unavailable,
    /// Reading or writing a file failed.
    Io,
    /// A fault that is not the caller's.
    Internal,
}

/// Which kind of conflict a [`DbError`] of kind [`ErrorKind::Conflict`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConflictKind {
    /// A move would put a location inside itself.
    Cycle,
    /// A location type rule would be broken.
    TypeRule,
    /// A sibling, category or user already has this name.
    DuplicateName,
    /// A location to delete still holds items (and nobody said what happens to them).
    ItemsInside,
    /// The record changed since the caller read it.
    Stale,
    /// A copy target already holds data.
    NotEmpty,
}

/// The kind of record an error speaks of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entity {
    /// A location.
    Location,
    /// The parent named for a new location.
    ParentLocation,
    /// The location something is moved to.
    TargetLocation,
    /// An item.
    Item,
    /// A category.
    Category,
    /// A user.
    User,
    /// An API token.
    Token,
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Entity::Location => "location",
            Entity::ParentLocation => "parent location",
            Entity::TargetLocation => "target location",
            Entity::Item => "item",
            Entity::Category => "category",
            Entity::User => "user",
            Entity::Token => "token",
        })
    }
}

/// How a missing record was referred to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Key {
    /// By primary key.
    Id(i64),
    /// By name (category, user).
    Name(String),
    /// By full path (location).
    Path(String),
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Id(id) => write!(f, "with id {id}"),
            Key::Name(name) => write!(f, "\"{name}\""),
            Key::Path(path) => write!(f, "at path \"{path}\""),
        }
    }
}

/// Which kind of input file a [`DbError::InvalidFile`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A CSV import file.
    Csv,
    /// A backup file.
    Backup,
}

/// Why an output file was not written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverwriteRefusal {
    /// The file exists and the caller did not ask to replace it.
    Exists,
    /// The file is the database in use (or its `-wal`/`-shm` file).
    LiveDatabase,
}

/// Errors of inventory-db operations.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database URL could not be understood.
    #[error("invalid database URL: {0}")]
    BadUrl(String),
    /// The database could not be reached.
    #[error("cannot connect to {url}: {reason}")]
    Unavailable {
        /// The URL, password redacted.
        url: String,
        /// What went wrong (never contains the password).
        reason: String,
        /// The driver's error, when there is one (its message is redacted in `reason`).
        #[source]
        source: Option<BoxError>,
    },
    /// Another writer holds a lock for longer than this handle waits.
    #[error("the database is busy: {what} (gave up after {}); try again", show_duration(*.waited))]
    Busy {
        /// What was waited for.
        what: String,
        /// How long it waited.
        waited: Duration,
    },
    /// The schema is missing or behind the code's migrations.
    #[error("the database schema is not current ({pending} migration(s) pending); run `inventory db migrate`")]
    SchemaNotCurrent {
        /// How many migrations have not been applied.
        pending: usize,
    },
    /// The schema is newer than this program knows.
    #[error("the database has migration {version}, which this version of Home Inventory does not know; upgrade the program")]
    SchemaTooNew {
        /// The unknown migration version.
        version: String,
    },
    /// A field failed validation; the error names the field.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// A parameter of a request (cursor, limit, search text, reference) is not acceptable.
    #[error("{field}: {reason}")]
    BadParameter {
        /// The parameter's name as callers know it.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A location path or reference that cannot be resolved as written.
    #[error(transparent)]
    Path(TreeError),
    /// A location reference that names two different locations.
    #[error("\"{reference}\" is ambiguous: it is the id of location #{id} (\"{id_path}\") and the path of another location; write #{id} for the first or /{reference} for the second")]
    AmbiguousReference {
        /// The reference as given.
        reference: String,
        /// The location whose id it is.
        id: LocationId,
        /// That location's full path.
        id_path: String,
    },
    /// An input file (CSV, backup) is malformed or holds invalid data.
    #[error("{}", show_file_problem(*.file, *.line, .reason))]
    InvalidFile {
        /// Which kind of file.
        file: FileKind,
        /// The 1-based line of the problem, when it has one.
        line: Option<u64>,
        /// What is wrong.
        reason: String,
    },
    /// An output file was not written because that would replace something.
    #[error("{}", show_overwrite(*.refusal, .path))]
    WouldOverwrite {
        /// The file.
        path: std::path::PathBuf,
        /// Why it was refused.
        refusal: OverwriteRefusal,
    },
    /// A referenced record does not exist.
    #[error("no {entity} {key}")]
    NotFound {
        /// The kind of record.
        entity: Entity,
        /// How it was referred to.
        key: Key,
    },
    /// A sibling location, a category or a user already has this name (by name key).
    #[error("a {entity} named \"{name}\" already exists{place}")]
    DuplicateName {
        /// Location, category or user.
        entity: Entity,
        /// The name that clashed.
        name: String,
        /// For locations: " at the root" or " under location N"; empty otherwise.
        place: String,
    },
    /// A move was refused (cycle or type rule).
    #[error(transparent)]
    Move(#[from] MoveError),
    /// A type rule would be broken by a create or update.
    #[error("location type rule: {violation}")]
    TypeRule {
        /// The location concerned, if it exists already.
        id: Option<LocationId>,
        /// Which rule and why.
        violation: RuleViolation,
    },
    /// A location to delete holds items, and the caller did not say what happens to them.
    #[error("location {location} holds {items} item(s) in it or below it; say what happens to them (items: move-to-parent or delete)")]
    ItemsInside {
        /// The location that was to be deleted.
        location: LocationId,
        /// How many items are in its subtree.
        items: u64,
    },
    /// Items were to move to the parent of a root, which has none.
    #[error("location {location} is a root: its {items} item(s) have no parent to move to")]
    NoParentForItems {
        /// The root location.
        location: LocationId,
        /// How many items are in its subtree.
        items: u64,
    },
    /// The record changed since the caller read it (optimistic concurrency).
    #[error("{entity} {id} changed since it was read; read it again")]
    Stale {
        /// The kind of record.
        entity: Entity,
        /// Its id.
        id: i64,
    },
    /// A copy target already holds rows.
    #[error("the target database is not empty: table {table} has {rows} row(s)")]
    NotEmpty {
        /// A table with rows.
        table: String,
        /// How many.
        rows: i64,
    },
    /// Reading or writing a file failed.
    #[error("{action}: {source}")]
    Io {
        /// What was being done, e.g. `cannot write backup x.jsonl`.
        action: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A migration failed.
    #[error("migration failed: {message}")]
    Migration {
        /// What failed (redacted).
        message: String,
    },
    /// The engine refused a statement for a reason that is not the caller's.
    #[error("database error: {0}")]
    Query(#[source] diesel::result::Error),
    /// Something this program relies on failed (randomness, hashing, a worker thread) or
    /// the data breaks an invariant the program keeps.
    #[error("{what}")]
    Internal {
        /// What failed.
        what: String,
        /// The cause, when there is one.
        #[source]
        source: Option<BoxError>,
    },
}

fn show_duration(d: Duration) -> String {
    if d.as_millis() % 1000 == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

fn show_file_problem(file: FileKind, line: Option<u64>, reason: &str) -> String {
    match (file, line) {
        (FileKind::Csv, Some(line)) => format!("line {line}: {reason}"),
        // "backup line 28 (items id 1): …" names the row after the line.
        (FileKind::Backup, Some(line)) if reason.starts_with('(') => {
            format!("backup line {line} {reason}")
        }
        (FileKind::Backup, Some(line)) => format!("backup line {line}: {reason}"),
        (_, None) => reason.to_string(),
    }
}

fn show_overwrite(refusal: OverwriteRefusal, path: &std::path::Path) -> String {
    match refusal {
        OverwriteRefusal::Exists => format!(
            "{} already exists; pass --force to replace it",
            path.display()
        ),
        OverwriteRefusal::LiveDatabase => format!(
            "{} is the database in use (or one of its files); write somewhere else",
            path.display()
        ),
    }
}

impl DbError {
    /// The broad class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            DbError::BadUrl(_)
            | DbError::Validation(_)
            | DbError::BadParameter { .. }
            | DbError::AmbiguousReference { .. }
            | DbError::InvalidFile { .. }
            | DbError::WouldOverwrite { .. } => ErrorKind::Invalid,
            DbError::Path(e) => match e {
                TreeError::PathNotFound { .. } => ErrorKind::NotFound,
                _ => ErrorKind::Invalid,
            },
            DbError::NotFound { .. } => ErrorKind::NotFound,
            DbError::DuplicateName { .. }
            | DbError::Move(_)
            | DbError::TypeRule { .. }
            | DbError::ItemsInside { .. }
            | DbError::NoParentForItems { .. }
            | DbError::Stale { .. }
            | DbError::NotEmpty { .. } => ErrorKind::Conflict,
            DbError::Unavailable { .. }
            | DbError::Busy { .. }
            | DbError::SchemaNotCurrent { .. }
            | DbError::SchemaTooNew { .. } => ErrorKind::Unavailable,
            DbError::Io { .. } => ErrorKind::Io,
            DbError::Migration { .. } | DbError::Query(_) | DbError::Internal { .. } => {
                ErrorKind::Internal
            }
        }
    }

    /// Which conflict this is, for errors of kind [`ErrorKind::Conflict`].
    pub fn conflict_kind(&self) -> Option<ConflictKind> {
        Some(match self {
            DbError::Move(MoveError::CycleDetected { .. }) => ConflictKind::Cycle,
            DbError::Move(MoveError::TypeRule { .. }) | DbError::TypeRule { .. } => {
                ConflictKind::TypeRule
            }
            DbError::DuplicateName { .. } => ConflictKind::DuplicateName,
            DbError::ItemsInside { .. } | DbError::NoParentForItems { .. } => {
                ConflictKind::ItemsInside
            }
            DbError::Stale { .. } => ConflictKind::Stale,
            DbError::NotEmpty { .. } => ConflictKind::NotEmpty,
            _ => return None,
        })
    }

    /// The input field this error is about, when it is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            DbError::Validation(e) => Some(e.field()),
            DbError::BadParameter { field, .. } => Some(field),
            _ => None,
        }
    }

    /// A location that does not exist.
    pub fn location_not_found(id: LocationId) -> Self {
        DbError::NotFound {
            entity: Entity::Location,
            key: Key::Id(id),
        }
    }

    /// A record of `entity` with this id does not exist.
    pub fn not_found(entity: Entity, id: i64) -> Self {
        DbError::NotFound {
            entity,
            key: Key::Id(id),
        }
    }

    /// A sibling location already has this name.
    pub(crate) fn duplicate_location(name: &str, parent: Option<LocationId>) -> Self {
        DbError::DuplicateName {
            entity: Entity::Location,
            name: name.to_string(),
            place: match parent {
                Some(p) => format!(" under location {p}"),
                None => " at the root".to_string(),
            },
        }
    }

    /// A category or user already has this name.
    pub(crate) fn duplicate(entity: Entity, name: &str) -> Self {
        DbError::DuplicateName {
            entity,
            name: name.to_string(),
            place: String::new(),
        }
    }

    /// A bad line (or a whole-file problem, `line` = None) of a CSV or backup file.
    pub(crate) fn file(file: FileKind, line: Option<u64>, reason: impl Into<String>) -> Self {
        DbError::InvalidFile {
            file,
            line,
            reason: reason.into(),
        }
    }

    /// A failed file operation.
    pub(crate) fn io(action: impl Into<String>, source: std::io::Error) -> Self {
        DbError::Io {
            action: action.into(),
            source,
        }
    }

    /// A failure of something the program relies on.
    pub(crate) fn internal(what: impl Into<String>, source: impl Into<Option<BoxError>>) -> Self {
        DbError::Internal {
            what: what.into(),
            source: source.into(),
        }
    }

    /// Data in the database that breaks an invariant (a row the program could not have written).
    pub(crate) fn corrupt(what: impl Into<String>) -> Self {
        DbError::Internal {
            what: what.into(),
            source: None,
        }
    }

    /// `clash()` when this error is the engine's unique-index violation (a concurrent
    /// writer took the name first); this error otherwise.
    pub(crate) fn unique_means(self, clash: impl FnOnce() -> DbError) -> DbError {
        if self.is_unique_violation() {
            clash()
        } else {
            self
        }
    }

    /// `refusal()` when this error is the engine's foreign-key violation; this error otherwise.
    pub(crate) fn foreign_key_means(self, refusal: impl FnOnce() -> DbError) -> DbError {
        if self.is_foreign_key_violation() {
            refusal()
        } else {
            self
        }
    }

    /// Whether this error is the engine's unique-index violation.
    pub(crate) fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }

    /// Whether this error is the engine's foreign-key violation. SQLite reports one met
    /// inside a cascade (a `RESTRICT` key below the deleted row) with a code diesel does
    /// not map, but always with the same message.
    pub(crate) fn is_foreign_key_violation(&self) -> bool {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match self {
            DbError::Query(E::DatabaseError(K::ForeignKeyViolation, _)) => true,
            DbError::Query(E::DatabaseError(_, info)) => {
                info.message() == "FOREIGN KEY constraint failed"
            }
            _ => false,
        }
    }
}

impl From<TreeError> for DbError {
    fn from(e: TreeError) -> Self {
        match e {
            TreeError::PathNotFound { path } => DbError::NotFound {
                entity: Entity::Location,
                key: Key::Path(path),
            },
            other => DbError::Path(other),
        }
    }
}

/// How long write locks are waited for when nothing else is configured (both backends).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

impl From<diesel::result::Error> for DbError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match &e {
            // A connection that went away mid-use: PostgreSQL's socket closed, or its
            // background task ended (diesel-async reports both as "unable to send").
            E::DatabaseError(K::ClosedConnection | K::UnableToSendCommand, info) => {
                DbError::Unavailable {
                    url: "the database".into(),
                    reason: crate::config::redact_url(info.message()),
                    source: Some(Box::new(e)),
                }
            }
            E::DatabaseError(K::SerializationFailure, _) => DbError::Busy {
                what: "a concurrent transaction changed the same rows".into(),
                waited: Duration::ZERO,
            },
            E::DatabaseError(_, info) if is_busy(info.message()) => DbError::Busy {
                what: "another writer holds the lock".into(),
                waited: DEFAULT_LOCK_TIMEOUT,
            },
            E::DatabaseError(_, info) if is_missing_table(info.message()) => {
                DbError::SchemaNotCurrent { pending: 0 }
            }
            _ => DbError::Query(e),
        }
    }
}

/// SQLite's SQLITE_BUSY/SQLITE_LOCKED, PostgreSQL's lock_timeout and its deadlock
/// detector (a transaction it ends so that others can go on: worth retrying).
fn is_busy(message: &str) -> bool {
    message.starts_with("database is locked")
        || message.starts_with("database table is locked")
        || message.contains("due to lock timeout")
        || message.starts_with("deadlock detected")
}

fn is_missing_table(message: &str) -> bool {
    message.starts_with("no such table")
        || (message.starts_with("relation ") && message.ends_with("does not exist"))
}

impl From<diesel_async::pooled_connection::bb8::RunError> for DbError {
    fn from(e: diesel_async::pooled_connection::bb8::RunError) -> Self {
        DbError::Unavailable {
            url: "the database".into(),
            reason: crate::config::redact_url(&e.to_string()),
            source: Some(Box::new(e)),
        }
    }
}
