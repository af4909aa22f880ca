//! `cargo xtask test`: the whole suite against SQLite and PostgreSQL.

use std::process::Command;

use anyhow::bail;

use crate::pg;

pub(crate) fn run(extra: &[String]) -> anyhow::Result<()> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let server = pg::find_or_start()?;
    let mut cmd = Command::new(crate::cargo());
    cmd.current_dir(crate::project_root())
        .args(["test", "--workspace"]);
    // Arguments for cargo, then (after `--`) for the test binaries.
    let (cargo_args, test_args) = match extra.iter().position(|a| a == "--") {
        Some(i) => (&extra[..i], &extra[i + 1..]),
        None => (extra, &[][..]),
    };
    cmd.args(cargo_args).arg("--").args(test_args);
    // The tests wait on databases far more than they compute: run more of them at once
    // than there are cores, unless told otherwise.
    if std::env::var_os("RUST_TEST_THREADS").is_none() {
        cmd.env("RUST_TEST_THREADS", "8");
    }
    match &server {
        Some(s) => {
            eprintln!(
                "xtask: PostgreSQL tests use {} ({}{})",
                inventory_db::redact_url(&s.url),
                s.origin,
                if s.is_throwaway() {
                    ", removed afterwards"
                } else {
                    ""
                }
            );
            cmd.env("INVENTORY_TEST_PG", &s.url);
        }
        None if ci => bail!(
            "no PostgreSQL server and no PostgreSQL binaries on this machine: \
             with CI=true the PostgreSQL half of the tests may not be skipped"
        ),
        None => {
            eprintln!(
                "\n!!!!!!!!!!\n!!! xtask: NO PostgreSQL found (no INVENTORY_TEST_PG, nothing on \
                 127.0.0.1:5432, no initdb): the PostgreSQL half of every test is SKIPPED \
                 (counted as filtered out)\n!!!!!!!!!!\n"
            );
            cmd.args(["--skip", "postgres"]);
        }
    }
    let status = cmd.status()?;
    drop(server);
    if !status.success() {
        bail!("tests failed");
    }
    Ok(())
}
