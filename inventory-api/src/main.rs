//! `inventory-api`: the HTTP server of Home Inventory (axum over inventory-db).
//!
//! The server is not part of this release; the crate is a member of the workspace so that
//! its place in the architecture (a thin binary over inventory-db) is fixed from the start.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "inventory-api: the HTTP server is not part of this release yet; \
         use the `inventory` command (see README.md)"
    );
    ExitCode::from(2)
}
