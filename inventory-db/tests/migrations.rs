//! Migrations: up → down → up on both backends leaves an identical schema.
#![allow(clippy::unwrap_used)]

use inventory_db::testing::{postgres_with, sqlite_with, TestDb};
use inventory_db::{Database, DbError, ErrorKind};

async fn up_down_up(db: &Database) {
    let err = db.ensure_schema_current().await.unwrap_err();
    assert!(
        matches!(err, DbError::SchemaNotCurrent { pending } if pending >= 1),
        "{err}"
    );
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    let err = db.location_rows().await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Unavailable,
        "an unmigrated database is unusable: {err}"
    );

    let applied = db.migrate().await.unwrap();
    assert!(!applied.is_empty());
    db.ensure_schema_current().await.unwrap();
    assert!(
        db.migrate().await.unwrap().is_empty(),
        "a second migrate applies nothing"
    );
    let history = db.migration_history().await.unwrap();
    assert!(history.iter().all(|m| m.applied));
    let first = db.schema_dump().await.unwrap();
    assert!(first.contains("locations"), "{first}");

    let reverted = db.rollback_all().await.unwrap();
    assert_eq!(reverted.len(), applied.len());
    assert!(db.table_names().await.unwrap().is_empty());
    assert!(db
        .migration_history()
        .await
        .unwrap()
        .iter()
        .all(|m| !m.applied));

    db.migrate().await.unwrap();
    assert_eq!(
        db.schema_dump().await.unwrap(),
        first,
        "up → down → up changed the schema"
    );

    let reverted = db.rollback(1).await.unwrap();
    assert_eq!(reverted.len(), 1);
    db.migrate().await.unwrap();
    assert_eq!(db.schema_dump().await.unwrap(), first);

    db.reset().await.unwrap();
    db.ensure_schema_current().await.unwrap();
    db.drop_all().await.unwrap();
    assert!(db.table_names().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_down_up_on_sqlite() {
    let t: TestDb = sqlite_with(false).await;
    up_down_up(&t.db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_down_up_on_postgres() {
    let t = postgres_with(false).await;
    up_down_up(&t.db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_unknown_to_the_program_is_reported() {
    let t = sqlite_with(true).await;
    t.db.execute_raw_for_tests(
        "INSERT INTO __diesel_schema_migrations (version) VALUES ('29990101000000')",
    )
    .await
    .unwrap();
    let err = t.db.ensure_schema_current().await.unwrap_err();
    assert!(matches!(err, DbError::SchemaTooNew { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_database_migrates_and_keeps_data() {
    use inventory_core::LocationType;
    let db = Database::connect(&inventory_db::DatabaseUrl::SqliteMemory)
        .await
        .unwrap();
    db.migrate().await.unwrap();
    db.ensure_schema_current().await.unwrap();
    assert!(db.round_trip().await.is_ok());
    let house = db
        .create_location(&inventory_db::NewLocation {
            name: "My House".into(),
            description: None,
            location_type: LocationType::House,
            parent_id: None,
        })
        .await
        .unwrap();
    let item = db
        .create_item(&inventory_db::NewItem::new("Drill", house.id))
        .await
        .unwrap();
    // Writes and reads from many tasks go through the one connection the pool keeps: every
    // one of them sees the same database, and the data outlives each of them.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                db.create_category(&format!("Category {i}"), None)
                    .await
                    .unwrap();
                db.resolve_path("My House").await.unwrap()
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), house.id);
    }
    // A second migrate applies nothing and drops nothing.
    assert!(db.migrate().await.unwrap().is_empty());
    assert_eq!(db.get_item(item.id).await.unwrap().name, "Drill");
    assert_eq!(db.list_categories().await.unwrap().len(), 8);
    assert_eq!(db.location_rows().await.unwrap().len(), 1);
    // A clone of the handle shares the database.
    let clone = db.clone();
    drop(db);
    assert_eq!(
        clone
            .get_location(house.id)
            .await
            .unwrap()
            .location
            .full_path,
        "My House"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_data_survives_rolling_back_and_reapplying_the_newest_migration() {
    let t = sqlite_with(true).await;
    keeps_data_across_the_newest_migration(&t.db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_data_survives_rolling_back_and_reapplying_the_newest_migration() {
    let t = postgres_with(true).await;
    keeps_data_across_the_newest_migration(&t.db).await;
}

/// Locations live in the first migration's table: reverting and reapplying the newest
/// migration (which does not own that table) leaves them as they were, and migrating an
/// already current database changes no row.
async fn keeps_data_across_the_newest_migration(db: &Database) {
    use inventory_core::LocationType;
    let house = db
        .create_location(&inventory_db::NewLocation {
            name: "Café".into(),
            description: Some("précis".into()),
            location_type: LocationType::House,
            parent_id: None,
        })
        .await
        .unwrap();
    let rows = db.location_rows().await.unwrap();
    assert!(db.migrate().await.unwrap().is_empty());
    let losses = db.rollback_losses(1).await.unwrap();
    assert!(
        !losses.iter().any(|l| matches!(
            l,
            inventory_db::migrations::RollbackLoss::Table("locations")
        )),
        "the newest migration owns locations: {losses:?}"
    );
    assert_eq!(db.rollback(1).await.unwrap().len(), 1);
    assert_eq!(db.migrate().await.unwrap().len(), 1);
    db.ensure_schema_current().await.unwrap();
    assert_eq!(db.location_rows().await.unwrap(), rows);
    let again = db.get_location(house.id).await.unwrap().location;
    assert_eq!(again, house);
    // Name keys still work after the round trip: the same name is refused.
    let err = db
        .create_location(&inventory_db::NewLocation {
            name: "CAFE\u{301}".into(),
            description: None,
            location_type: LocationType::House,
            parent_id: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::DuplicateName { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_database_fails_fast_as_unavailable() {
    let url = inventory_db::DatabaseUrl::parse("postgres://postgres:secret@127.0.0.1:1/x").unwrap();
    let started = std::time::Instant::now();
    let err = Database::connect(&url).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(!err.to_string().contains("secret"), "{err}");
    assert!(started.elapsed().as_secs() < 10);
}
