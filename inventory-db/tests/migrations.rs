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
    let db = Database::connect(&inventory_db::DatabaseUrl::SqliteMemory)
        .await
        .unwrap();
    db.migrate().await.unwrap();
    db.ensure_schema_current().await.unwrap();
    assert!(db.round_trip().await.is_ok());
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
