//! `inventory verify`: the runbook's six foundation checks, each a real operation against
//! the database. Whatever a check creates it removes again, whether it passes or not.

use std::time::Instant;

use anyhow::{bail, ensure, Context};
use inventory_core::LocationType;
use inventory_db::{
    Database, ErrorKind, LocationChanges, LocationFilter, NewLocation, PageRequest,
};
use serde::Serialize;

use super::Ctx;
use crate::error::{CmdResult, EXIT_OK, EXIT_PROBLEMS, EXIT_UNAVAILABLE};
use crate::output;

/// The checks, in the runbook's order.
const NAMES: [&str; 6] = [
    "Database Connection",
    "Session Creation",
    "Table Operations",
    "Database Configuration",
    "Base Functionality",
    "Async Operations",
];

/// Concurrent writers and readers in "Async Operations".
const WRITERS: usize = 16;
const READERS: usize = 16;

/// The outcome of one check.
#[derive(Debug, Serialize)]
struct Outcome {
    name: &'static str,
    ok: bool,
    detail: String,
}

/// Runs the checks, printing each as it finishes; exit 0 only when all six pass.
pub async fn run(ctx: &Ctx) -> CmdResult {
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut report = |name: &'static str, result: anyhow::Result<String>| {
        let outcome = match result {
            Ok(detail) => Outcome {
                name,
                ok: true,
                detail,
            },
            Err(e) => Outcome {
                name,
                ok: false,
                detail: inventory_db::redact_url(&format!("{e:#}")),
            },
        };
        if !ctx.json() {
            if outcome.ok {
                println!("✅ {name}");
                tracing::info!("{name}: {}", outcome.detail);
            } else {
                println!("❌ {name}: {}", outcome.detail);
            }
        }
        outcomes.push(outcome);
    };

    let started = Instant::now();
    let db = match ctx.open().await {
        Ok(db) => db,
        Err(e) => {
            report(NAMES[0], Err(anyhow::anyhow!(e.message)));
            for name in &NAMES[1..] {
                report(name, Err(anyhow::anyhow!("skipped: no connection")));
            }
            finish(ctx, &outcomes)?;
            return Ok(EXIT_UNAVAILABLE);
        }
    };
    // Checks below use the tables; an old schema is a usage problem, not a failed check.
    db.ensure_schema_current().await?;
    report(
        NAMES[0],
        Ok(format!(
            "{} ({}) answered in {:.1} ms",
            ctx.url,
            db.backend(),
            ms(started)
        )),
    );
    report(NAMES[1], session(&db).await);
    report(NAMES[2], tables(&db).await);
    report(NAMES[3], configuration(&db).await);
    report(NAMES[4], with_cleanup(&db, base_functionality).await);
    report(NAMES[5], with_cleanup(&db, concurrency).await);
    finish(ctx, &outcomes)?;
    Ok(if outcomes.iter().all(|o| o.ok) {
        EXIT_OK
    } else {
        EXIT_PROBLEMS
    })
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// Prints the summary (or the JSON document).
fn finish(ctx: &Ctx, outcomes: &[Outcome]) -> Result<(), crate::error::CliError> {
    let passed = outcomes.iter().filter(|o| o.ok).count();
    if ctx.json() {
        return output::json(&serde_json::json!({
            "checks": outcomes,
            "passed": passed,
            "total": NAMES.len(),
        }));
    }
    println!();
    println!("Results: {passed}/{} tests passed", NAMES.len());
    if passed == NAMES.len() {
        println!("🎉 Database foundation is working correctly!");
    }
    Ok(())
}

/// A pooled connection runs a transaction.
async fn session(db: &Database) -> anyhow::Result<String> {
    Ok(db.verify_session().await?)
}

/// The locations table is there with its columns, and a row survives insert, select,
/// update and delete (in one transaction, removed again).
async fn tables(db: &Database) -> anyhow::Result<String> {
    let tables = db.table_names().await?;
    ensure!(
        tables.iter().any(|t| t == "locations"),
        "table locations is missing"
    );
    let columns = db.describe_columns().await?;
    for wanted in [
        "id",
        "name",
        "description",
        "location_type",
        "parent_id",
        "created_at",
        "updated_at",
    ] {
        ensure!(
            columns
                .iter()
                .any(|c| c.table_name == "locations" && c.column_name == wanted),
            "column locations.{wanted} is missing"
        );
    }
    db.round_trip().await.context("round trip on locations")?;
    Ok(format!("tables: {}; round trip ok", tables.join(", ")))
}

/// The settings the program relies on (SQLite pragmas, PostgreSQL version and encodings).
async fn configuration(db: &Database) -> anyhow::Result<String> {
    let settings = db.verify_settings().await?;
    let wrong: Vec<String> = settings
        .iter()
        .filter(|s| !s.ok)
        .map(|s| format!("{} is {}, expected {}", s.name, s.value, s.expected))
        .collect();
    ensure!(wrong.is_empty(), "{}", wrong.join("; "));
    let shown: Vec<String> = settings
        .iter()
        .map(|s| format!("{}={}", s.name, s.value))
        .collect();
    Ok(shown.join(", "))
}

/// Runs `check` with a slot for the scratch root it creates, then deletes that root (and
/// so everything under it) if it is still there, whatever the check's outcome.
async fn with_cleanup<F>(db: &Database, check: F) -> anyhow::Result<String>
where
    F: AsyncFnOnce(&Database, &mut Option<i64>) -> anyhow::Result<String>,
{
    let mut root = None;
    let result = check(db, &mut root).await;
    if let Some(id) = root {
        if let Err(e) = db.delete_location(id).await {
            if e.kind() != ErrorKind::NotFound {
                let cleanup = anyhow::anyhow!("could not remove scratch location #{id}: {e}");
                return Err(match result {
                    Ok(_) => cleanup,
                    Err(first) => first.context(cleanup.to_string()),
                });
            }
        }
    }
    result
}

/// A name no real location has.
fn scratch_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("__inventory_verify_{}_{nanos}", std::process::id())
}

fn new(name: &str, location_type: LocationType, parent_id: Option<i64>) -> NewLocation {
    NewLocation {
        name: name.to_string(),
        description: None,
        location_type,
        parent_id,
    }
}

/// The location API end to end: create a small tree, resolve a path, update, move,
/// refuse a duplicate name, a cycle and a type-rule break, delete the subtree.
async fn base_functionality(db: &Database, root: &mut Option<i64>) -> anyhow::Result<String> {
    let tag = scratch_name();
    let house = db
        .create_location(&new(&tag, LocationType::House, None))
        .await?;
    *root = Some(house.id);
    let room = db
        .create_location(&new("Room", LocationType::Room, Some(house.id)))
        .await?;
    let shelf = db
        .create_location(&new("Shelf", LocationType::Shelf, Some(room.id)))
        .await?;
    let boxed = db
        .create_location(&new("Box", LocationType::Container, Some(shelf.id)))
        .await?;
    let path = format!("{tag} / Room / Shelf / Box");
    ensure!(
        boxed.full_path == path,
        "full path is \"{}\", expected \"{path}\"",
        boxed.full_path
    );
    ensure!(
        db.resolve_location(&path).await? == boxed.id,
        "path did not resolve to #{}",
        boxed.id
    );

    let detail = db.get_location(boxed.id).await?;
    ensure!(
        detail.ancestors.len() == 3,
        "{} ancestors, expected 3",
        detail.ancestors.len()
    );
    let changes = LocationChanges {
        description: Some(Some("checked by inventory verify".into())),
        ..LocationChanges::default()
    };
    let updated = db.update_location(boxed.id, &changes).await?;
    ensure!(
        updated.description.is_some(),
        "the description was not saved"
    );

    let refused = |what: &str, r: Result<_, inventory_db::DbError>| match r {
        Err(e) if e.kind() == ErrorKind::Conflict => Ok(()),
        Err(e) => bail!("{what}: unexpected error {e}"),
        Ok(_) => bail!("{what} was not refused"),
    };
    refused(
        "duplicate sibling name",
        db.create_location(&new("ROOM", LocationType::Room, Some(house.id)))
            .await,
    )?;
    refused(
        "move into own descendant",
        db.move_location(room.id, Some(boxed.id)).await,
    )?;
    refused("room at the root", db.move_location(room.id, None).await)?;

    let moved = db.move_location(boxed.id, Some(room.id)).await?;
    ensure!(
        moved.full_path == format!("{tag} / Room / Box"),
        "move gave \"{}\"",
        moved.full_path
    );

    let deleted = db.delete_location(house.id).await?;
    ensure!(
        deleted.locations_deleted == 4,
        "delete removed {} locations, expected 4",
        deleted.locations_deleted
    );
    *root = None;
    match db.get_location(room.id).await {
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        _ => bail!("a child survived its parent's deletion"),
    }
    Ok(
        "create, resolve, update, move, cascade delete; duplicate, cycle and type rule refused"
            .into(),
    )
}

/// Many operations at once through the pool: concurrent inserts under one parent,
/// read-backs, and concurrent sessions; every one must succeed and all rows be there.
async fn concurrency(db: &Database, root: &mut Option<i64>) -> anyhow::Result<String> {
    let started = Instant::now();
    let house = db
        .create_location(&new(&scratch_name(), LocationType::House, None))
        .await?;
    *root = Some(house.id);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..WRITERS {
        let db = db.clone();
        let parent = house.id;
        tasks.spawn(async move {
            let room = db
                .create_location(&new(&format!("Room {i}"), LocationType::Room, Some(parent)))
                .await?;
            let read = db.get_location(room.id).await?;
            ensure!(
                read.location.parent_id == Some(parent),
                "room {i} lost its parent"
            );
            Ok(())
        });
    }
    for _ in 0..READERS {
        let db = db.clone();
        tasks.spawn(async move {
            db.check().await?;
            db.verify_session().await?;
            Ok(())
        });
    }
    // Wait for every task, failed or not, so that nothing is still writing at cleanup.
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        let result = joined.map_err(anyhow::Error::from).and_then(|r| r);
        if let Err(e) = result {
            first_error.get_or_insert(e);
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    let filter = LocationFilter {
        parent_id: Some(house.id),
        ..LocationFilter::default()
    };
    let children = db
        .list_locations(&filter, &PageRequest::first(1000))
        .await?;
    ensure!(
        children.items.len() == WRITERS,
        "{} of {WRITERS} concurrent inserts are there",
        children.items.len()
    );
    db.delete_location(house.id).await?;
    *root = None;
    Ok(format!(
        "{} concurrent operations through the pool in {:.1} ms",
        WRITERS + READERS,
        ms(started)
    ))
}
