//! `cargo xtask verify`: on scratch databases of both backends, migrations up → down → up
//! with the schema dumps compared, the schema.rs check, and the runbook's verification
//! (`inventory verify`, `db health`, `db integrity`) run through the real binary.

use std::process::Command;

use anyhow::{bail, Context};
use inventory_db::testing::{self, TestDb};

use crate::{pg, schema};

pub(crate) async fn run() -> anyhow::Result<()> {
    let server = pg::find_or_start()?.context("cargo xtask verify needs PostgreSQL")?;
    // The harness reads INVENTORY_TEST_PG; nothing else in this process reads the environment concurrently.
    std::env::set_var("INVENTORY_TEST_PG", &server.url);

    build_cli()?;
    let mut failures = Vec::new();
    let sqlite = testing::sqlite_with(false).await;
    let postgres = testing::postgres_with(false).await;
    for (label, t) in [("sqlite", &sqlite), ("postgres", &postgres)] {
        if let Err(e) = verify_backend(t).await {
            failures.push(format!("{label}: {e:#}"));
            eprintln!("❌ {label}: {e:#}");
        }
    }
    match schema::render_both().await {
        Ok(rendered) if std::fs::read_to_string(schema::schema_path())? == rendered => {
            println!("✅ schema.rs matches the migrations on both backends");
        }
        Ok(_) => failures.push("schema.rs is out of date; run `cargo xtask schema`".into()),
        Err(e) => failures.push(format!("schema check: {e:#}")),
    }
    drop((sqlite, postgres));
    drop(server);
    if !failures.is_empty() {
        bail!("verification failed:\n{}", failures.join("\n"));
    }
    println!("verification passed on sqlite and postgres");
    Ok(())
}

async fn verify_backend(t: &TestDb) -> anyhow::Result<()> {
    let db = &t.db;
    let backend = db.backend();
    db.migrate().await.context("migrate up")?;
    let first = db.schema_dump().await?;
    db.rollback_all().await.context("migrate down")?;
    let leftover = db.table_names().await?;
    if !leftover.is_empty() {
        bail!("tables left after migrating down: {leftover:?}");
    }
    db.migrate().await.context("migrate up again")?;
    if db.schema_dump().await? != first {
        bail!("up → down → up changed the schema");
    }
    println!("✅ {backend}: migrations up → down → up, schema identical");
    for args in [
        &["verify"][..],
        &["db", "health"],
        &["db", "integrity", "--full"],
    ] {
        let out = Command::new(crate::project_root().join("target/debug/inventory"))
            .arg("--database-url")
            .arg(&t.url)
            .args(args)
            .output()
            .context("running the inventory binary")?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            bail!(
                "`inventory {}` failed ({}):\n{stdout}{}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        if args == ["verify"] && !stdout.contains("Results: 6/6 tests passed") {
            bail!("`inventory verify` did not pass all six checks:\n{stdout}");
        }
        println!("✅ {backend}: inventory {}", args.join(" "));
    }
    Ok(())
}

fn build_cli() -> anyhow::Result<()> {
    let status = Command::new(crate::cargo())
        .current_dir(crate::project_root())
        .args(["build", "--quiet", "-p", "inventory-cli"])
        .status()?;
    if !status.success() {
        bail!("building the inventory binary failed");
    }
    Ok(())
}
