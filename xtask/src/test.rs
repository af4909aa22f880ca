//! `cargo xtask test`: the whole suite against SQLite and PostgreSQL.

use std::process::Command;

use anyhow::bail;

use crate::pg;

pub(crate) fn run(extra: &[String]) -> anyhow::Result<()> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let server = pg::find_or_start()?;
    let mut cmd = Command::new(crate::cargo());
    cmd.current_dir(crate::project_root())
        .args(["test", "--workspace"])
        .args(extra);
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
            cmd.env("INVENTORY_TEST_PG", &s.url)
                .env("INVENTORY_REQUIRE_PG", "1");
        }
        None if ci => bail!(
            "no PostgreSQL server and no PostgreSQL binaries on this machine: \
             with CI=true the PostgreSQL half of the tests may not be skipped"
        ),
        None => eprintln!(
            "\n!!!!!!!!!!\n!!! xtask: NO PostgreSQL found (no INVENTORY_TEST_PG, nothing on \
             127.0.0.1:5432, no initdb): the PostgreSQL half of every test is SKIPPED\n!!!!!!!!!!\n"
        ),
    }
    let status = cmd.status()?;
    drop(server);
    if !status.success() {
        bail!("tests failed");
    }
    Ok(())
}
