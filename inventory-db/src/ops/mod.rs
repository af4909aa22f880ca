//! Operations: what callers do with a database. Each area's file holds its operations as
//! async functions over a [`crate::Conn`] (so that several compose in one transaction) and
//! the `impl Database` methods that run one each in the transaction it needs.

pub mod admin;
pub mod backup;
pub mod csv_io;
pub mod items;
pub mod locations;
pub mod migrations;
pub mod reports;
pub mod search;
pub mod users;
pub mod verify;
pub mod versions;
