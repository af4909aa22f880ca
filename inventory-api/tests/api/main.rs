//! The API in-process: `app(state)` driven with `tower::ServiceExt::oneshot`, every test
//! on a fresh SQLite file and a fresh PostgreSQL database (`api_tests!`).

#![allow(clippy::unwrap_used, dead_code)]

#[macro_use]
mod common;

mod authorization;
mod basics;
mod categories;
mod concurrency;
mod csv;
mod items;
mod locations;
mod reports;
mod spec;
mod tokens;
mod users;
