//! The one error type of inventory-db: what went wrong in domain terms, not driver terms.

use inventory_core::{LocationId, MoveError, RuleViolation, TreeError, ValidationError};

/// Broad classes of [`DbError`], for callers that map errors to exit codes or HTTP statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller sent something invalid (bad name, bad URL, bad cursor).
    Invalid,
    /// The thing referred to does not exist.
    NotFound,
    /// The request conflicts with the data: a cycle, a type rule, a duplicate name.
    Conflict,
    /// The database cannot be reached or is not usable (schema missing or out of date).
    Unavailable,
    /// A fault that is not the caller's.
    Internal,
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
        /// What the driver said (never contains the password).
        reason: String,
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
    /// A field failed validation.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// Other invalid input, described.
    #[error("{0}")]
    Invalid(String),
    /// A referenced record does not exist.
    #[error("no {what} {key}")]
    NotFound {
        /// The kind of record ("location", "location at path").
        what: &'static str,
        /// How it was referred to.
        key: String,
    },
    /// A sibling already has this name (case-insensitively).
    #[error("a location named \"{name}\" already exists {place}")]
    DuplicateName {
        /// The name that clashed.
        name: String,
        /// "at the root" or "under location N".
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
    /// Another conflict, described.
    #[error("{0}")]
    Conflict(String),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A database error that is not the caller's fault.
    #[error("database error: {0}")]
    Query(String),
}

impl DbError {
    /// The broad class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            DbError::BadUrl(_) | DbError::Validation(_) | DbError::Invalid(_) => ErrorKind::Invalid,
            DbError::NotFound { .. } => ErrorKind::NotFound,
            DbError::DuplicateName { .. }
            | DbError::Move(_)
            | DbError::TypeRule { .. }
            | DbError::Conflict(_) => ErrorKind::Conflict,
            DbError::Unavailable { .. }
            | DbError::SchemaNotCurrent { .. }
            | DbError::SchemaTooNew { .. } => ErrorKind::Unavailable,
            DbError::Migration(_) | DbError::Query(_) => ErrorKind::Internal,
        }
    }

    /// A location that does not exist.
    pub fn location_not_found(id: LocationId) -> Self {
        DbError::NotFound {
            what: "location with id",
            key: id.to_string(),
        }
    }

    pub(crate) fn duplicate(name: &str, parent: Option<LocationId>) -> Self {
        DbError::DuplicateName {
            name: name.to_string(),
            place: match parent {
                Some(p) => format!("under location {p}"),
                None => "at the root".to_string(),
            },
        }
    }
}

impl From<TreeError> for DbError {
    fn from(e: TreeError) -> Self {
        match e {
            TreeError::PathNotFound { path } => DbError::NotFound {
                what: "location at path",
                key: format!("\"{path}\""),
            },
            TreeError::EmptyPath { .. } => DbError::Invalid(e.to_string()),
            other => DbError::Conflict(other.to_string()),
        }
    }
}

impl From<diesel::result::Error> for DbError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match &e {
            E::NotFound => DbError::NotFound {
                what: "record",
                key: String::new(),
            },
            E::DatabaseError(K::UniqueViolation, info) => {
                DbError::Conflict(format!("duplicate value: {}", info.message()))
            }
            E::DatabaseError(K::ForeignKeyViolation, info) => DbError::Conflict(format!(
                "a referenced record does not exist or is still referenced: {}",
                info.message()
            )),
            E::DatabaseError(K::CheckViolation, info) => {
                DbError::Invalid(format!("value refused by the database: {}", info.message()))
            }
            E::DatabaseError(K::ClosedConnection, info) => DbError::Unavailable {
                url: "the database".into(),
                reason: info.message().to_string(),
            },
            E::DatabaseError(_, info) if is_missing_table(info.message()) => {
                DbError::SchemaNotCurrent { pending: 0 }
            }
            _ => DbError::Query(e.to_string()),
        }
    }
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
        }
    }
}
