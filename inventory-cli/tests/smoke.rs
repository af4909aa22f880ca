//! Connection handling that does not depend on a backend: bad URLs, unreachable servers,
//! the environment variables, usage errors.

#[macro_use]
#[allow(dead_code, unused_macros)]
mod common;

use std::time::{Duration, Instant};

use common::*;

#[test]
fn bad_url_is_usage_error() {
    let out = bare()
        .args(["--database-url", "mysql://root@localhost/x", "db", "check"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("error: invalid database URL"),
        "{}",
        text(&out.stderr)
    );
    let out = bare()
        .args(["--database-url", "postgres://", "location", "list"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn unreachable_database_fails_fast_with_exit_3_and_no_password() {
    let started = Instant::now();
    let out = bare()
        .args([
            "--database-url",
            "postgres://postgres:hunter2@127.0.0.1:1/x",
            "location",
            "list",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(started.elapsed() < Duration::from_secs(8));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: cannot connect to postgres://postgres:***@127.0.0.1:1/x"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn database_url_variable_is_honoured() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("env.db").display());
    let out = bare()
        .env("DATABASE_URL", &url)
        .args(["db", "init"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = bare()
        .env("DATABASE_URL", &url)
        .args(["db", "check"])
        .output()
        .expect("run");
    assert!(
        text(&out.stdout).contains("env.db"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn default_database_is_data_inventory_db() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = bare()
        .current_dir(dir.path())
        .args(["db", "init"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(dir.path().join("data/inventory.db").is_file());
}

#[test]
fn unknown_command_and_missing_argument_exit_2() {
    assert_eq!(
        bare()
            .arg("frobnicate")
            .output()
            .expect("run")
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        bare()
            .args(["location", "add"])
            .output()
            .expect("run")
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        bare()
            .args(["--format", "xml", "db", "check"])
            .output()
            .expect("run")
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn help_does_not_show_the_database_url_value() {
    let out = bare()
        .env("DATABASE_URL", "postgres://u:topsecret@h/db")
        .arg("--help")
        .output()
        .expect("run");
    assert!(!text(&out.stdout).contains("topsecret"));
}

#[test]
fn verbose_logs_sql_but_never_the_password_on_postgres() {
    let env = Env::postgres(true);
    let url = env.url().replacen("postgres@", "postgres:s3cretpw@", 1);
    let out = bare()
        .args(["-vv", "--database-url", &url, "location", "list"])
        .output()
        .expect("run");
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("s3cretpw"), "password in the log");
    assert!(!text(&out.stdout).contains("s3cretpw"));
    if out.status.success() {
        assert!(stderr.contains("SELECT"), "no SQL logged: {stderr}");
    }
    let sqlite = Env::sqlite(true);
    let out = bare()
        .args(["-v", "--database-url", sqlite.url(), "location", "list"])
        .output()
        .expect("run");
    assert!(text(&out.stderr).contains("sql"), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains('\u{1b}'),
        "colour codes when piped"
    );
}
