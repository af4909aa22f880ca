//! The web UI in-process: `app(state)` driven with `tower::ServiceExt::oneshot` like a
//! browser (cookies, forms, CSRF tokens), every test on a fresh SQLite file and a fresh
//! PostgreSQL database (`api_tests!`, shared with the API's tests).

#![allow(clippy::unwrap_used, dead_code)]

#[macro_use]
#[path = "../api/common.rs"]
mod common;
mod browser;

mod auth;
mod matrix;
mod pages;
mod security;
mod writes;
