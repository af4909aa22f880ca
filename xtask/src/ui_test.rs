//! `cargo xtask ui-test`: the web UI in a real Chromium on SQLite and PostgreSQL.
//!
//! Builds `inventory` and `inventory-api`, installs `ui-tests/`'s locked npm packages
//! (`playwright-core` only, which downloads no browser) when they are missing, and runs
//! `ui-tests/ui.test.mjs` with Debian's `/usr/bin/chromium` against PostgreSQL found as
//! for `cargo xtask test`. Screenshots land in `target/ui-screenshots/`.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};

use crate::pg;

/// Where the browser is, unless `INVENTORY_CHROMIUM` says otherwise.
const CHROMIUM: &str = "/usr/bin/chromium";

pub(crate) fn run() -> anyhow::Result<()> {
    let root = crate::project_root();
    let chromium = std::env::var("INVENTORY_CHROMIUM").unwrap_or_else(|_| CHROMIUM.into());
    if !Path::new(&chromium).exists() {
        bail!(
            "no Chromium at {chromium}: install Debian's (apt-get install chromium) \
             or set INVENTORY_CHROMIUM"
        );
    }
    for tool in ["node", "npm", "psql"] {
        if Command::new(tool).arg("--version").output().is_err() {
            bail!("`{tool}` is missing: install it (apt-get install nodejs npm postgresql-client)");
        }
    }
    let Some(server) = pg::find_or_start()? else {
        bail!("the browser tests need PostgreSQL and none was found or could be started");
    };
    eprintln!(
        "xtask: browser tests use PostgreSQL at {} ({})",
        inventory_db::redact_url(&server.url),
        server.origin
    );

    let status = Command::new(crate::cargo())
        .current_dir(&root)
        .args(["build", "-p", "inventory-cli", "-p", "inventory-api"])
        .status()
        .context("cargo build")?;
    if !status.success() {
        bail!("building inventory and inventory-api failed");
    }

    let ui = root.join("ui-tests");
    if !ui.join("node_modules").join("playwright-core").exists() {
        let status = Command::new("npm")
            .current_dir(&ui)
            .args(["ci", "--no-audit", "--no-fund"])
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
            .status()
            .context("npm ci")?;
        if !status.success() {
            bail!("npm ci in ui-tests failed");
        }
    }

    let status = Command::new("node")
        .current_dir(&ui)
        .args(["--test", "--test-concurrency=1", "ui.test.mjs"])
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .env("INVENTORY_CHROMIUM", &chromium)
        .env("INVENTORY_UI_PG", &server.url)
        .status()
        .context("node")?;
    drop(server);
    if !status.success() {
        bail!("browser tests failed (screenshots in target/ui-screenshots/)");
    }
    eprintln!("xtask: browser tests passed; screenshots in target/ui-screenshots/");
    Ok(())
}
