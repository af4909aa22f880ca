//! Exit codes (PRODUCT §5) and the one error type of the binary.

use inventory_db::{DbError, ErrorKind};

/// Everything went well.
pub const EXIT_OK: u8 = 0;
/// A check ran and found problems (integrity findings, a failed health or verify check).
pub const EXIT_PROBLEMS: u8 = 1;
/// Bad usage or invalid input; nothing was written.
pub const EXIT_USAGE: u8 = 2;
/// The database is unreachable or unusable (schema missing or out of date, engine failure).
pub const EXIT_UNAVAILABLE: u8 = 3;
/// Not found, or a conflict (cycle, type rule, duplicate sibling name); nothing was written.
pub const EXIT_CONFLICT: u8 = 4;

/// A failure to report on stderr as `error: <message>` and exit with `code`.
#[derive(Debug)]
pub struct CliError {
    /// The process exit code.
    pub code: u8,
    /// One line naming the problem (never a password).
    pub message: String,
}

impl CliError {
    /// Bad usage or invalid input (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }
}

/// Exit code of a [`DbError`]. `Io` (a file that cannot be read or written) and `Internal`
/// (a failed migration, an unexpected engine error) map to 3: nothing could be done as
/// asked, and no check "found" anything.
pub fn exit_code(e: &DbError) -> u8 {
    match e.kind() {
        ErrorKind::Invalid => EXIT_USAGE,
        ErrorKind::NotFound | ErrorKind::Conflict => EXIT_CONFLICT,
        ErrorKind::Unavailable | ErrorKind::Io | ErrorKind::Internal => EXIT_UNAVAILABLE,
    }
}

impl From<DbError> for CliError {
    fn from(e: DbError) -> Self {
        CliError {
            code: exit_code(&e),
            // inventory-db redacts passwords in every message it builds.
            message: inventory_db::redact_url(&e.to_string()),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            // The reader went away (`inventory location list | head`): not a failure.
            return CliError {
                code: EXIT_OK,
                message: String::new(),
            };
        }
        CliError {
            code: EXIT_PROBLEMS,
            message: format!("cannot write output: {e}"),
        }
    }
}

impl From<serde_json::Error> for CliError {
    fn from(e: serde_json::Error) -> Self {
        if e.is_io() {
            // Writing JSON to stdout failed (a reader that went away included): an output
            // error, not an encoding one.
            return CliError::from(std::io::Error::from(e));
        }
        CliError {
            code: EXIT_PROBLEMS,
            message: format!("cannot encode JSON: {e}"),
        }
    }
}

/// Result of a command: the exit code to end with, or an error.
pub type CmdResult = Result<u8, CliError>;
