//! `inventory db …`: schema, checks, maintenance, backup, restore and copy.

use std::path::Path;

use inventory_db::admin::IntegrityOutcome;
use inventory_db::backup::BackupSummary;
use inventory_db::migrations::RollbackLoss;
use inventory_db::{Database, DatabaseUrl, DbError, Overwrite};
use serde_json::json;

use super::{confirm_losing, Ctx};
use crate::cli::DbCommand;
use crate::error::{exit_code, CliError, CmdResult, EXIT_OK, EXIT_PROBLEMS, EXIT_UNAVAILABLE};
use crate::output;
use crate::progress::Progress;

/// Runs one `db` subcommand.
pub async fn run(ctx: &Ctx, cmd: DbCommand) -> CmdResult {
    match cmd {
        DbCommand::Init => init(ctx).await,
        DbCommand::Migrate => migrate(ctx).await,
        DbCommand::Rollback { steps, yes } => rollback(ctx, steps, yes).await,
        DbCommand::History => history(ctx).await,
        DbCommand::Reset(c) => reset(ctx, c.yes).await,
        DbCommand::Drop(c) => drop_all(ctx, c.yes).await,
        DbCommand::Check => check(ctx).await,
        DbCommand::Health => health(ctx).await,
        DbCommand::Stats => stats(ctx).await,
        DbCommand::Integrity { full } => integrity(ctx, full).await,
        DbCommand::Vacuum => vacuum(ctx).await,
        DbCommand::Backup { file, force } => backup(ctx, &file, force).await,
        DbCommand::Restore { file, yes } => restore(ctx, &file, yes).await,
        DbCommand::Copy { to } => copy(ctx, &to).await,
    }
}

fn print_versions(ctx: &Ctx, key: &str, verb: &str, versions: &[String], none: &str) -> CmdResult {
    if ctx.json() {
        output::json(&json!({ "url": ctx.url.to_string(), key: versions }))?;
    } else if versions.is_empty() {
        println!("{none}");
    } else {
        for v in versions {
            println!("{verb} migration {v}");
        }
    }
    Ok(EXIT_OK)
}

/// Row counts of Home Inventory's tables (none when the schema is not there).
async fn row_counts(db: &Database) -> Result<Vec<(String, i64)>, CliError> {
    match db.stats().await {
        Ok(stats) => Ok(stats
            .tables
            .into_iter()
            .map(|t| (t.table, t.rows))
            .collect()),
        // A database without our tables loses no rows.
        Err(DbError::SchemaNotCurrent { .. }) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// What dropping every table of ours would delete: one line per table, with its row count.
async fn losses(db: &Database) -> Result<Vec<String>, CliError> {
    Ok(row_counts(db)
        .await?
        .into_iter()
        .map(|(table, rows)| format!("table {table} with {rows} row(s)"))
        .collect())
}

/// What a rollback of `steps` migrations would delete: tables with their row counts, and
/// columns with the rows whose values go.
async fn rollback_losses(db: &Database, steps: usize) -> Result<Vec<String>, CliError> {
    let counts = row_counts(db).await?;
    let rows = |table: &str| {
        counts
            .iter()
            .find(|(t, _)| t == table)
            .map_or(0, |(_, n)| *n)
    };
    Ok(db
        .rollback_losses(steps)
        .await?
        .into_iter()
        .map(|loss| match loss {
            RollbackLoss::Table(table) => format!("table {table} with {} row(s)", rows(table)),
            RollbackLoss::Columns(table, columns) => format!(
                "column(s) {} of table {table}, in {} row(s)",
                columns.join(", "),
                rows(table)
            ),
        })
        .collect())
}

async fn init(ctx: &Ctx) -> CmdResult {
    let db = ctx.open_or_create().await?;
    let applied = db.migrate().await?;
    let none = format!("{} is already initialized; the schema is current", ctx.url);
    print_versions(ctx, "applied", "Applied", &applied, &none)?;
    if !ctx.json() && !applied.is_empty() {
        println!("Initialized {}", ctx.url);
    }
    Ok(EXIT_OK)
}

async fn migrate(ctx: &Ctx) -> CmdResult {
    let db = ctx.open_or_create().await?;
    let applied = db.migrate().await?;
    print_versions(
        ctx,
        "applied",
        "Applied",
        &applied,
        "The schema is up to date; nothing to apply",
    )
}

/// Reverting migrations drops their tables: it asks first, like `reset` and `drop`.
async fn rollback(ctx: &Ctx, steps: usize, yes: bool) -> CmdResult {
    let db = ctx.open_current().await?;
    let lost = rollback_losses(&db, steps).await?;
    confirm_losing(
        yes,
        &format!("revert {steps} migration(s) of {}", ctx.url),
        &lost,
    )?;
    let reverted = db.rollback(steps).await?;
    print_versions(
        ctx,
        "reverted",
        "Reverted",
        &reverted,
        "No applied migration to revert",
    )
}

async fn history(ctx: &Ctx) -> CmdResult {
    let db = ctx.open().await?;
    let history = db.migration_history().await?;
    if ctx.json() {
        output::json(&history)?;
    } else {
        let rows: Vec<Vec<String>> = history
            .iter()
            .map(|m| {
                let status = if m.applied { "applied" } else { "pending" };
                vec![m.version.clone(), status.to_string()]
            })
            .collect();
        output::table(&["VERSION", "STATUS"], &rows)?;
    }
    Ok(EXIT_OK)
}

async fn reset(ctx: &Ctx, yes: bool) -> CmdResult {
    let db = ctx.open().await?;
    let lost = losses(&db).await?;
    confirm_losing(
        yes,
        &format!("delete ALL data in {} and recreate the schema", ctx.url),
        &lost,
    )?;
    let applied = db.reset().await?;
    if ctx.json() {
        output::json(&json!({ "url": ctx.url.to_string(), "reset": true, "applied": applied }))?;
    } else {
        println!(
            "Reset {}: all data dropped, {} migration(s) applied",
            ctx.url,
            applied.len()
        );
    }
    Ok(EXIT_OK)
}

async fn drop_all(ctx: &Ctx, yes: bool) -> CmdResult {
    let db = ctx.open().await?;
    let lost = losses(&db).await?;
    confirm_losing(yes, &format!("drop every table of {}", ctx.url), &lost)?;
    db.drop_all().await?;
    if ctx.json() {
        output::json(&json!({ "url": ctx.url.to_string(), "dropped": true }))?;
    } else {
        println!("Dropped every table of {}", ctx.url);
    }
    Ok(EXIT_OK)
}

async fn check(ctx: &Ctx) -> CmdResult {
    let db = ctx.open().await?;
    db.check().await?;
    if ctx.json() {
        output::json(&json!({ "url": ctx.url.to_string(), "backend": db.backend(), "ok": true }))?;
    } else {
        println!("Connected to {} ({})", ctx.url, db.backend());
    }
    Ok(EXIT_OK)
}

/// Prints every check; exit 3 when the database is unreachable or its schema is not current
/// (with the reason, e.g. "run `inventory db migrate`"), 1 when another check failed.
async fn health(ctx: &Ctx) -> CmdResult {
    let db = ctx.open().await?;
    let report = db.health().await;
    if ctx.json() {
        output::json(&json!({ "healthy": report.healthy(), "checks": report.checks }))?;
    } else {
        for c in &report.checks {
            let mark = if c.ok { "✅" } else { "❌" };
            println!("{mark} {}: {}", c.name, c.detail);
        }
    }
    let unusable = report
        .checks
        .iter()
        .any(|c| !c.ok && (c.name == "connection" || c.name == "migrations"));
    if unusable {
        if let Err(e) = db.ensure_schema_current().await {
            return Err(e.into());
        }
        return Ok(EXIT_UNAVAILABLE);
    }
    Ok(if report.healthy() {
        EXIT_OK
    } else {
        EXIT_PROBLEMS
    })
}

async fn stats(ctx: &Ctx) -> CmdResult {
    let db = ctx.open_current().await?;
    let stats = db.stats().await?;
    if ctx.json() {
        output::json(&stats)?;
        return Ok(EXIT_OK);
    }
    println!(
        "Database:  {} ({} {})",
        stats.url, stats.backend, stats.server_version
    );
    println!("Size:      {} bytes", stats.size_bytes);
    if let (Some(size), Some(count)) = (stats.page_size, stats.page_count) {
        println!("Pages:     {count} × {size} bytes");
    }
    if let Some(free) = stats.freelist_count {
        println!("Free pages: {free}");
    }
    println!();
    let rows: Vec<Vec<String>> = stats
        .tables
        .iter()
        .map(|t| vec![t.table.clone(), t.rows.to_string()])
        .collect();
    output::table(&["TABLE", "ROWS"], &rows)?;
    Ok(EXIT_OK)
}

/// Lists every finding with ids and paths; exit 1 when anything is found.
async fn integrity(ctx: &Ctx, full: bool) -> CmdResult {
    let db = ctx.open_current().await?;
    let outcome = db.integrity(full).await?;
    if ctx.json() {
        output::json(&json!({
            "clean": outcome.is_clean(),
            "findings": outcome.finding_count(),
            "report": outcome.report,
            "paths": outcome.paths,
            "engine": outcome.engine,
        }))?;
    } else {
        for line in integrity_lines(&outcome) {
            println!("{line}");
        }
    }
    Ok(if outcome.is_clean() {
        EXIT_OK
    } else {
        EXIT_PROBLEMS
    })
}

/// The human-readable integrity report: one line per finding, then a summary.
fn integrity_lines(o: &IntegrityOutcome) -> Vec<String> {
    let path = |id: &i64| match o.paths.get(id) {
        Some(p) => format!("#{id} \"{p}\""),
        None => format!("#{id}"),
    };
    let r = &o.report;
    let mut lines = Vec::new();
    for id in &r.duplicate_ids {
        lines.push(format!(
            "❌ duplicate id: {} occurs on more than one row",
            path(id)
        ));
    }
    for orphan in &r.orphans {
        lines.push(format!(
            "❌ orphan: {} has parent #{}, which does not exist",
            path(&orphan.id),
            orphan.missing_parent_id
        ));
    }
    for cycle in &r.cycles {
        let members: Vec<String> = cycle.members.iter().map(path).collect();
        lines.push(format!("❌ cycle: {}", members.join(" → ")));
    }
    for id in &r.unreachable {
        lines.push(format!("❌ unreachable: {} hangs under a cycle", path(id)));
    }
    for t in &r.type_violations {
        lines.push(format!("❌ type rule: {}: {}", path(&t.id), t.violation));
    }
    for d in &r.duplicate_names {
        let ids: Vec<String> = d.ids.iter().map(path).collect();
        let place = match d.parent_id {
            Some(p) => format!("under #{p}"),
            None => "at the root".to_string(),
        };
        lines.push(format!(
            "❌ duplicate name \"{}\" {place}: {}",
            d.name_key,
            ids.join(", ")
        ));
    }
    for check in &o.engine {
        for problem in &check.problems {
            lines.push(format!("❌ {}: {problem}", check.name));
        }
    }
    let engine: Vec<&str> = o.engine.iter().map(|c| c.name.as_str()).collect();
    if o.is_clean() {
        lines.push(format!(
            "✅ {} location(s) checked, no findings (engine checks: {})",
            r.rows,
            engine.join(", ")
        ));
    } else {
        lines.push(format!(
            "{} finding(s) in {} location(s)",
            o.finding_count(),
            r.rows
        ));
    }
    lines
}

async fn vacuum(ctx: &Ctx) -> CmdResult {
    let db = ctx.open_current().await?;
    let before = db.stats().await?.size_bytes;
    db.vacuum().await?;
    let after = db.stats().await?.size_bytes;
    if ctx.json() {
        output::json(
            &json!({ "url": ctx.url.to_string(), "size_before": before, "size_after": after }),
        )?;
    } else {
        println!("Vacuumed {}: {before} → {after} bytes", ctx.url);
    }
    Ok(EXIT_OK)
}

fn print_summary(ctx: &Ctx, verb: &str, what: &str, s: &BackupSummary) -> CmdResult {
    if ctx.json() {
        output::json(s)?;
    } else {
        println!(
            "{verb} {what}: {} row(s) (schema {}, backup format {})",
            s.total_rows, s.schema_version, s.format_version
        );
        for t in &s.tables {
            println!("  {}: {}", t.table, t.rows);
        }
    }
    Ok(EXIT_OK)
}

async fn backup(ctx: &Ctx, file: &Path, force: bool) -> CmdResult {
    let db = ctx.open_current().await?;
    let bar = Progress::new("backup");
    let overwrite = if force {
        Overwrite::Replace
    } else {
        Overwrite::Refuse
    };
    let result = db
        .backup_to_file(file, overwrite, &|d, t| bar.update(d, t))
        .await;
    bar.finish();
    print_summary(
        ctx,
        "Backed up",
        &format!("{} to {}", ctx.url, file.display()),
        &result?,
    )
}

/// Restore migrates the schema itself, so it works on a new, empty database too.
async fn restore(ctx: &Ctx, file: &Path, yes: bool) -> CmdResult {
    if !file.is_file() {
        return Err(CliError::usage(format!(
            "no backup file {}",
            file.display()
        )));
    }
    let db = ctx.open_or_create().await?;
    let lost = losses(&db).await?;
    confirm_losing(
        yes,
        &format!("replace ALL data in {} with {}", ctx.url, file.display()),
        &lost,
    )?;
    let bar = Progress::new("restore");
    let result = db.restore_from_file(file, &|d, t| bar.update(d, t)).await;
    bar.finish();
    print_summary(
        ctx,
        "Restored",
        &format!("{} into {}", file.display(), ctx.url),
        &result?,
    )
}

async fn copy(ctx: &Ctx, to: &str) -> CmdResult {
    let target_url = DatabaseUrl::parse(to)?;
    if target_url == ctx.url {
        return Err(CliError::usage("the target is the source database"));
    }
    let source = ctx.open_current().await?;
    let target = Database::connect_or_create(&target_url, ctx.options())
        .await
        .map_err(|e| with_target(e, &target_url))?;
    let bar = Progress::new("copy");
    let result = source.copy_to(&target, &|d, t| bar.update(d, t)).await;
    bar.finish();
    print_summary(
        ctx,
        "Copied",
        &format!("{} to {}", ctx.url, target_url),
        &result?,
    )
}

/// Names the target in a connection error (the source is named by default).
fn with_target(e: DbError, url: &DatabaseUrl) -> CliError {
    CliError {
        code: exit_code(&e),
        message: format!("target {url}: {}", inventory_db::redact_url(&e.to_string())),
    }
}
