//! The real `inventory-api` binary over a socket in harder conditions: the database lost
//! mid-run and back (PostgreSQL behind a proxy the test cuts, a read-only SQLite file), and
//! a scripted session whose every log line and answer is searched for secrets.

#![allow(clippy::unwrap_used)]

mod degraded;
mod harness;
mod secrets;
