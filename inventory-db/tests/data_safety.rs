//! Data safety (PRODUCT §9): every defect of the data-safety issue pinned by a regression
//! test, the same bodies on SQLite and PostgreSQL. Sections are numbered as the issue
//! numbers its defects.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use inventory_core::{name_key, LocationType, Role, MAX_PATH_SEGMENTS};
use inventory_db::backup::Progress;
use inventory_db::csv_io::ImportOptions;
use inventory_db::{
    backend_tests, Backend, ConflictKind, CurrencyTotal, Database, DbError, ErrorKind, ItemFilter,
    ItemsOnDelete, LocationChanges, LocationFilter, NewItem, NewLocation, PageRequest, PoolOptions,
    TxMode,
};
use LocationType::{Container, House, Room, Shelf};

fn quiet() -> Progress<'static> {
    &|_, _| {}
}

fn new(name: &str, t: LocationType, parent: Option<i64>) -> NewLocation {
    NewLocation {
        name: name.into(),
        description: None,
        location_type: t,
        parent_id: parent,
    }
}

async fn add(db: &Database, name: &str, t: LocationType, parent: Option<i64>) -> i64 {
    db.create_location(&new(name, t, parent)).await.unwrap().id
}

/// Everything in the database, as a backup: what "nothing was written" compares.
async fn backup_bytes(db: &Database) -> Vec<u8> {
    let mut out = Vec::new();
    db.write_backup(&mut out, quiet()).await.unwrap();
    out
}

async fn restore_bytes(
    db: &Database,
    bytes: &[u8],
) -> Result<inventory_db::backup::BackupSummary, DbError> {
    let mut input = std::io::Cursor::new(bytes);
    db.restore_backup(&mut input, quiet()).await
}

/// Deletes every location (with its items), category and user: an empty database, as
/// far as any import or restore can tell.
async fn empty_out(db: &Database) {
    let roots = LocationFilter {
        roots_only: true,
        ..LocationFilter::default()
    };
    for root in db
        .list_locations(&roots, &PageRequest::first(10_000))
        .await
        .unwrap()
        .items
    {
        db.delete_location_with(root.id, ItemsOnDelete::Delete)
            .await
            .unwrap();
    }
    for category in db.list_categories().await.unwrap() {
        db.delete_category_by_id(category.category.id)
            .await
            .unwrap();
    }
    for user in db.list_users().await.unwrap() {
        db.delete_user_by_id(user.id).await.unwrap();
    }
    assert!(db.stats().await.unwrap().tables.iter().all(|t| t.rows == 0));
}

/// Asserts that `result` is the duplicate-name conflict with exactly `message`.
fn assert_duplicate<T: std::fmt::Debug>(result: Result<T, DbError>, message: &str) {
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert_eq!(
        err.conflict_kind(),
        Some(ConflictKind::DuplicateName),
        "{err}"
    );
    assert_eq!(err.to_string(), message);
}

static PROBES: AtomicUsize = AtomicUsize::new(0);

/// Whether `SELECT count(*) FROM <from>` is `expected`, asked with raw SQL that fails
/// otherwise (a CHECK on a scratch table), so that tables of other programs can be
/// inspected through the test hook alone.
async fn count_is(db: &Database, from: &str, expected: i64) -> bool {
    let n = PROBES.fetch_add(1, Ordering::Relaxed);
    db.execute_raw_for_tests(&format!(
        "CREATE TEMP TABLE probe_{n} (n BIGINT CHECK (n = {expected})); \
         INSERT INTO probe_{n} SELECT count(*) FROM {from}; DROP TABLE probe_{n};"
    ))
    .await
    .is_ok()
}

/// A backup holding `nodes` locations in one chain: `h` (HOUSE, id 1), `r` (ROOM, id 2),
/// then containers `b`, each under the one before (ids 3..=nodes), with the real header
/// of `db`'s program (taken from a backup of it while it is empty). Every level has the
/// shortest name there is, so full paths stay as small as they can.
async fn chain_backup(db: &Database, nodes: i64) -> Vec<u8> {
    let empty = String::from_utf8(backup_bytes(db).await).unwrap();
    // Locations are the first table, so the first row count is theirs.
    let header =
        empty
            .lines()
            .next()
            .unwrap()
            .replacen("\"rows\":0", &format!("\"rows\":{nodes}"), 1);
    let at = "2026-01-01T00:00:00.000001Z";
    let mut body = format!("{header}\n");
    for id in 1..=nodes {
        let (name, kind, parent) = match id {
            1 => ("h", "HOUSE", "null".to_string()),
            2 => ("r", "ROOM", "1".to_string()),
            _ => ("b", "CONTAINER", (id - 1).to_string()),
        };
        body.push_str(&format!(
            "[{id},\"{name}\",null,\"{kind}\",{parent},\"{at}\",\"{at}\"]\n"
        ));
    }
    body.push_str(&format!(
        "{{\"total_rows\":{nodes},\"fnv1a64\":\"{:016x}\"}}\n",
        fnv1a64(body.as_bytes())
    ));
    body.into_bytes()
}

/// Loads a chain of `nodes` locations (see [`chain_backup`]) the way bulk data arrives:
/// by a restore.
async fn plant_chain(db: &Database, nodes: i64) {
    let bytes = chain_backup(db, nodes).await;
    let summary = restore_bytes(db, &bytes).await.unwrap();
    assert_eq!(summary.total_rows, nodes as u64);
}

/// After rows inserted with explicit ids: PostgreSQL's identity sequence moves past them
/// (SQLite's AUTOINCREMENT does so by itself).
async fn move_location_sequence(db: &Database, to: i64) {
    if db.backend() == Backend::Postgres {
        db.execute_raw_for_tests(&format!(
            "SELECT setval(pg_get_serial_sequence('locations', 'id'), {to})"
        ))
        .await
        .unwrap();
    }
}

/// Runs `f` on a thread with a small stack: code that recursed once per tree level would
/// overflow it on a deep tree (and abort the test), iterative code does not notice.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(128 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

const PASSWORD: &str = "correct horse battery";

// 2. Sibling names compare by inventory-core's name key (trim, NFC, full case folding).

/// `first` exists under a house and at the root; `second`, the same name by key, is
/// refused in both places with the exact duplicate message, and nothing is written.
async fn assert_second_spelling_refused(db: &Database, first: &str, second: &str) {
    assert_eq!(name_key(first), name_key(second), "the test's own premise");
    assert_ne!(first, second);
    let house = add(db, "My House", House, None).await;
    add(db, first, Room, Some(house)).await;
    add(db, first, House, None).await;
    let before = backup_bytes(db).await;
    assert_duplicate(
        db.create_location(&new(second, Room, Some(house))).await,
        &format!("a location named \"{second}\" already exists under location {house}"),
    );
    assert_duplicate(
        db.create_location(&new(second, House, None)).await,
        &format!("a location named \"{second}\" already exists at the root"),
    );
    assert_eq!(
        backup_bytes(db).await,
        before,
        "a refused create wrote something"
    );
}

backend_tests! {
    async fn kelvin_sign_kiosk_is_refused_beside_kiosk_under_a_parent_and_at_the_root(db: &Database) {
        assert_second_spelling_refused(db, "Kiosk", "\u{212A}iosk").await;
    }

    async fn decomposed_cafe_is_refused_beside_precomposed_cafe(db: &Database) {
        assert_second_spelling_refused(db, "Caf\u{e9}", "Cafe\u{301}").await;
    }

    async fn greek_capitals_are_refused_beside_their_small_letters(db: &Database) {
        assert_second_spelling_refused(db, "ΟΔΟΣ", "οδοσ").await;
    }

    async fn sharp_s_is_refused_beside_double_s(db: &Database) {
        assert_second_spelling_refused(db, "Straße", "STRASSE").await;
    }

    async fn category_names_clash_by_name_key(db: &Database) {
        for (first, second) in [
            ("Kiosk", "\u{212A}iosk"),
            ("Caf\u{e9}", "Cafe\u{301}"),
            ("ΟΔΟΣ", "οδοσ"),
            ("Straße", "STRASSE"),
        ] {
            db.create_category(first, None).await.unwrap();
            let before = backup_bytes(db).await;
            assert_duplicate(
                db.create_category(second, None).await,
                &format!("a category named \"{second}\" already exists"),
            );
            assert_eq!(backup_bytes(db).await, before, "{second:?} wrote something");
        }
        assert_eq!(db.list_categories().await.unwrap().len(), 4);
    }

    async fn renames_into_a_name_key_clash_are_refused(db: &Database) {
        let house = add(db, "My House", House, None).await;
        add(db, "Straße", Room, Some(house)).await;
        let garage = add(db, "Garage", Room, Some(house)).await;
        add(db, "Kiosk", House, None).await;
        let cabin = add(db, "Cabin", House, None).await;
        db.create_category("Caf\u{e9}", None).await.unwrap();
        let tools = db.create_category("Tools", None).await.unwrap();
        let before = backup_bytes(db).await;
        let rename = |name: &str| LocationChanges { name: Some(name.into()), ..LocationChanges::default() };
        assert_duplicate(
            db.update_location(garage, &rename("STRASSE")).await,
            &format!("a location named \"STRASSE\" already exists under location {house}"),
        );
        assert_duplicate(
            db.update_location(cabin, &rename("\u{212A}IOSK")).await,
            "a location named \"\u{212A}IOSK\" already exists at the root",
        );
        assert_duplicate(
            db.update_category(tools.id, Some("CAFE\u{301}"), None).await,
            "a category named \"CAFE\u{301}\" already exists",
        );
        assert_eq!(backup_bytes(db).await, before, "a refused rename wrote something");
        // Another spelling of its own name is a rename, not a clash.
        let renamed = db.update_location(garage, &rename("GARAGE")).await.unwrap();
        assert_eq!(renamed.full_path, "My House / GARAGE");
    }

    async fn moves_into_a_name_key_clash_are_refused(db: &Database) {
        let house = add(db, "My House", House, None).await;
        let cabin = add(db, "Cabin", House, None).await;
        add(db, "Kiosk", Room, Some(house)).await;
        let kelvin = add(db, "\u{212A}iosk", Room, Some(cabin)).await;
        let hall = add(db, "Hall", Room, Some(house)).await;
        let attic = add(db, "Attic", Room, Some(cabin)).await;
        add(db, "Straße", Container, Some(hall)).await;
        let box_ = add(db, "STRASSE", Container, Some(attic)).await;
        let before = backup_bytes(db).await;
        assert_duplicate(
            db.move_location(kelvin, Some(house)).await,
            &format!("a location named \"\u{212A}iosk\" already exists under location {house}"),
        );
        assert_duplicate(
            db.move_location(box_, Some(hall)).await,
            &format!("a location named \"STRASSE\" already exists under location {hall}"),
        );
        assert_eq!(backup_bytes(db).await, before, "a refused move wrote something");
    }

    async fn path_resolution_compares_by_name_key(db: &Database) {
        let house = add(db, "My House", House, None).await;
        let kiosk = add(db, "\u{212A}iosk", Room, Some(house)).await;
        let street = add(db, "Straße", House, None).await;
        let cafe = add(db, "Caf\u{e9}", House, None).await;
        let greek = add(db, "ΟΔΟΣ", House, None).await;
        assert_eq!(db.resolve_path("my house / kiosk").await.unwrap(), kiosk);
        assert_eq!(db.resolve_path("MY HOUSE / KIOSK").await.unwrap(), kiosk);
        assert_eq!(db.resolve_location("My House / \u{212A}IOSK").await.unwrap(), kiosk);
        assert_eq!(db.resolve_path("STRASSE").await.unwrap(), street);
        assert_eq!(db.resolve_path("Cafe\u{301}").await.unwrap(), cafe);
        assert_eq!(db.resolve_path("οδοσ").await.unwrap(), greek);
        let err = db.resolve_path("My House / Kiosks").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    }

    async fn tricky_unicode_names_back_up_restore_and_round_trip_byte_identically(db: &Database) {
        // Distinct names by key, each spelled as awkwardly as the validators allow.
        let names = [
            "\u{212A}iosk", "Cafe\u{301}", "ΟΔΟΣ", "Straße", "ǅemal", "İstanbul", "ﬁle", "ΐ",
            "👩\u{200D}👩\u{200D}👧 Family", "שלום", "a\u{200B}b", "\u{2126}hm", "ᾼ", "\"quoted\" \\ back",
            "日本語の部屋", "e\u{301}\u{301}",
        ];
        let mut keys: Vec<String> = names.iter().map(|n| name_key(n)).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), names.len(), "the test's names must differ by key");
        let house = add(db, "Haus \u{212A}", House, None).await;
        let mut parent = add(db, "Zimmer ß", Room, Some(house)).await;
        for name in names {
            add(db, name, House, None).await;
            add(db, name, Room, Some(house)).await;
            parent = add(db, name, Container, Some(parent)).await;
            db.create_category(name, Some(name)).await.unwrap();
            db.create_item(&NewItem {
                notes: Some(format!("{name}\n{name}")),
                category: Some(name.into()),
                serial_number: Some(name.into()),
                ..NewItem::new(name, parent)
            })
            .await
            .unwrap();
        }
        for user in ["\u{212A}elvin", "Ärger1", "straße", "ǅemal", "İstanbul", "ΐ", "日本"] {
            db.create_user(user, PASSWORD, Role::Member).await.unwrap();
        }
        assert!(db.integrity(false).await.unwrap().is_clean());
        let first = backup_bytes(db).await;

        // Change everything, then restore: the database is as it was, to the byte.
        empty_out(db).await;
        add(db, "Elsewhere", House, None).await;
        let summary = restore_bytes(db, &first).await.unwrap();
        assert_eq!(summary.tables[0].rows, 2 + 3 * names.len() as i64);
        assert_eq!(backup_bytes(db).await, first, "backup → restore → backup differs");
        assert!(db.integrity(false).await.unwrap().is_clean());
        // The names still clash as they did before the round trip.
        assert_duplicate(
            db.create_location(&new("KIOSK", House, None)).await,
            "a location named \"KIOSK\" already exists at the root",
        );
    }

    async fn colliding_names_of_the_previous_schema_keep_a_placeholder_key_and_are_reported(db: &Database) {
        // Back to the schema before name keys, where the old code let these in: its
        // indexes compared lower(name), which tells Straße from STRASSE and Café from Café.
        assert_eq!(
            db.rollback(4).await.unwrap(),
            ["20261202000006", "20261202000005", "20261202000004", "20261201000003"]
        );
        db.execute_raw_for_tests(
            "INSERT INTO locations (id, name, location_type, parent_id) VALUES \
             (1, 'Straße', 'HOUSE', NULL), (2, 'STRASSE', 'HOUSE', NULL), \
             (3, 'Caf\u{e9}', 'ROOM', 1), (4, 'Cafe\u{301}', 'ROOM', 1); \
             INSERT INTO categories (name) VALUES ('Straße'), ('STRASSE'); \
             INSERT INTO users (username, password_hash, role) VALUES \
             ('Straße', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo', 'admin'), \
             ('STRASSE', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo', 'member');",
        )
        .await
        .unwrap();
        move_location_sequence(db, 4).await;
        assert_eq!(
            db.migrate().await.unwrap(),
            ["20261201000003", "20261202000004", "20261202000005", "20261202000006"]
        );
        db.ensure_schema_current().await.unwrap();

        // Nothing is lost.
        let rows = db.location_rows().await.unwrap();
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["Straße", "STRASSE", "Caf\u{e9}", "Cafe\u{301}"]);
        assert_eq!(db.list_categories().await.unwrap().len(), 2);
        assert_eq!(db.list_users().await.unwrap().len(), 2);

        // The first of each clash (by id) has its key; the second a placeholder, reported.
        let outcome = db.integrity(false).await.unwrap();
        assert!(!outcome.is_clean());
        let keys = outcome.engine.iter().find(|c| c.name == "name_keys").unwrap();
        assert!(!keys.ok);
        assert_eq!(
            keys.problems,
            [
                "location #2 \"STRASSE\" has a stale name key",
                "location #4 \"Cafe\u{301}\" has a stale name key",
                "category #2 \"STRASSE\" has a stale name key",
                "user #2 \"STRASSE\" has a stale name key",
            ]
        );
        assert_eq!(outcome.report.duplicate_names.len(), 2, "{:?}", outcome.report);
        // The keyed one is what the name resolves to; the new rules hold from now on.
        assert_eq!(db.resolve_path("strasse").await.unwrap(), 1);
        assert_duplicate(
            db.create_location(&new("STRASSE", House, None)).await,
            "a location named \"STRASSE\" already exists at the root",
        );
        // Renaming the second of a pair gives it a real key.
        db.update_location(2, &LocationChanges { name: Some("Strasse 2".into()), ..LocationChanges::default() })
            .await
            .unwrap();
        let outcome = db.integrity(false).await.unwrap();
        let keys = outcome.engine.iter().find(|c| c.name == "name_keys").unwrap();
        assert_eq!(keys.problems.len(), 3, "{:?}", keys.problems);
    }
}

// 3. User creation races and removal by name key.

backend_tests! {
    async fn stale_keys_that_are_the_lower_case_of_their_names_are_reported(db: &Database) {
        // The integrity read gets a stored key only where it is not the name with its ASCII
        // letters lower-cased; these keys are exactly that and still wrong.
        db.execute_raw_for_tests(
            "INSERT INTO locations (id, name, name_key, location_type, parent_id) VALUES \
             (1, ' Attic ', ' attic ', 'HOUSE', NULL), (2, '\u{c4}RMEL', '\u{c4}rmel', 'HOUSE', NULL), \
             (3, 'K\u{fc}che', 'k\u{fc}che', 'HOUSE', NULL), (4, 'Kitchen', 'kitchen', 'HOUSE', NULL), \
             (5, 'Hall', 'HALL', 'ROOM', 4);",
        )
        .await
        .unwrap();
        let outcome = db.integrity(false).await.unwrap();
        let keys = outcome.engine.iter().find(|c| c.name == "name_keys").unwrap();
        assert_eq!(
            keys.problems,
            [
                "location #1 \" Attic \" has a stale name key",
                "location #2 \"\u{c4}RMEL\" has a stale name key",
                "location #5 \"Hall\" has a stale name key",
            ]
        );
        assert_eq!(outcome.report.rows, 5);
        assert!(outcome.report.type_violations.is_empty());
    }

    async fn concurrent_creations_of_one_user_name_key_let_exactly_one_succeed(db: &Database) {
        for round in 0..3 {
            let tasks = ["Ärger1", "ärger1"].map(|name| {
                let db = db.clone();
                tokio::spawn(async move { db.create_user(name, PASSWORD, Role::Member).await })
            });
            let (mut created, mut duplicates) = (Vec::new(), 0);
            for task in tasks {
                match task.await.unwrap() {
                    Ok(user) => created.push(user.username),
                    Err(e) if e.conflict_kind() == Some(ConflictKind::DuplicateName) => {
                        assert!(e.to_string().ends_with("rger1\" already exists"), "{e}");
                        duplicates += 1;
                    }
                    Err(e) => panic!("round {round}: a losing creation must be a duplicate, got: {e}"),
                }
            }
            assert_eq!((created.len(), duplicates), (1, 1), "round {round}: {created:?}");
            let users = db.list_users().await.unwrap();
            assert_eq!(users.len(), 1, "round {round}");
            assert_eq!(users[0].username, created[0]);
            db.delete_user("ÄRGER1").await.unwrap();
        }
    }

    async fn user_removal_takes_exactly_the_user_the_name_key_names(db: &Database) {
        for name in ["Ärger1", "Ärger10", "Ärger2", "Bob"] {
            db.create_user(name, PASSWORD, Role::Member).await.unwrap();
        }
        let removed = db.delete_user("ÄRGER1").await.unwrap();
        assert_eq!(removed.username, "Ärger1");
        let mut left: Vec<String> = db.list_users().await.unwrap().into_iter().map(|u| u.username).collect();
        left.sort();
        assert_eq!(left, ["Bob", "Ärger10", "Ärger2"]);
        let before = backup_bytes(db).await;
        let err = db.delete_user("ärger1").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_eq!(err.to_string(), "no user \"ärger1\"");
        assert_eq!(backup_bytes(db).await, before);
    }
}

// 8. Reset and drop touch only our own tables.

/// A table of another program in the same database/schema, with one row.
async fn plant_foreign_table(db: &Database) {
    db.execute_raw_for_tests(
        "CREATE TABLE other_app_orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL, qty INTEGER NOT NULL); \
         INSERT INTO other_app_orders (id, item, qty) VALUES (1, 'Widget', 7);",
    )
    .await
    .unwrap();
}

const FOREIGN_ROW: &str = "other_app_orders WHERE id = 1 AND item = 'Widget' AND qty = 7";

backend_tests! {
    async fn reset_keeps_tables_of_other_programs_and_their_rows(db: &Database) {
        plant_foreign_table(db).await;
        let house = add(db, "My House", House, None).await;
        db.create_item(&NewItem::new("Drill", house)).await.unwrap();
        db.reset().await.unwrap();
        assert!(count_is(db, FOREIGN_ROW, 1).await, "reset lost another program's row");
        assert!(count_is(db, "other_app_orders", 1).await);
        let stats = db.stats().await.unwrap();
        assert_eq!(stats.tables.len(), 5, "{:?}", stats.tables);
        assert!(stats.tables.iter().all(|t| t.rows == 0), "{:?}", stats.tables);
        db.ensure_schema_current().await.unwrap();
    }

    async fn drop_keeps_tables_of_other_programs_and_their_rows(db: &Database) {
        plant_foreign_table(db).await;
        add(db, "My House", House, None).await;
        db.drop_all().await.unwrap();
        assert!(count_is(db, FOREIGN_ROW, 1).await, "drop lost another program's row");
        assert!(db.table_names().await.unwrap().is_empty());
        assert!(db.migration_history().await.unwrap().iter().all(|m| !m.applied));
        assert!(!count_is(db, "locations", 0).await, "locations is still there");
    }

    async fn drop_of_a_schema_without_its_history_leaves_nothing_that_stops_a_migrate(db: &Database) {
        // Tables whose migration history is gone (a copy made by hand, say): no down
        // migration runs, and drop removes the tables and what belongs to them.
        db.execute_raw_for_tests("DROP TABLE __diesel_schema_migrations").await.unwrap();
        db.drop_all().await.unwrap();
        assert!(db.table_names().await.unwrap().is_empty());
        if db.backend() == inventory_db::Backend::Postgres {
            let left = db
                .query_text_for_tests(
                    "SELECT proname::text AS v FROM pg_proc \
                     WHERE pronamespace = current_schema()::regnamespace",
                )
                .await
                .unwrap();
            assert!(left.is_empty(), "functions left behind: {left:?}");
        }
        db.migrate().await.unwrap();
        db.ensure_schema_current().await.unwrap();
        let house = add(db, "My House", House, None).await;
        db.create_category("Tools", None).await.unwrap();
        db.create_item(&NewItem { category: Some("Tools".into()), ..NewItem::new("Drill", house) }).await.unwrap();
        assert_eq!(db.list_categories().await.unwrap()[0].items, 1, "the count triggers work");
    }
}

// 9. Import paths: bounded depth.

/// A CSV with one item whose location has `segments` parts: `H / R / C3 / … / Cn`.
fn csv_with_depth(segments: usize) -> String {
    let mut parts = vec!["H".to_string(), "R".to_string()];
    parts.extend((3..=segments).map(|i| format!("C{i}")));
    format!("name,location\nDeep Thing,{}\n", parts.join(" / "))
}

backend_tests! {
    async fn import_refuses_a_path_deeper_than_the_limit_and_names_line_and_limit(db: &Database) {
        add(db, "My House", House, None).await;
        let before = backup_bytes(db).await;
        let csv = csv_with_depth(MAX_PATH_SEGMENTS + 1);
        let err = db
            .import_items_csv(&mut csv.as_bytes(), ImportOptions { create_locations: true }, quiet())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
        assert_eq!(
            err.to_string(),
            format!("line 2: location: path has {} parts; at most {MAX_PATH_SEGMENTS} are allowed", MAX_PATH_SEGMENTS + 1)
        );
        assert_eq!(backup_bytes(db).await, before, "a refused import wrote something");
    }

    async fn import_of_a_path_at_the_limit_creates_every_level(db: &Database) {
        let started = Instant::now();
        let csv = csv_with_depth(MAX_PATH_SEGMENTS);
        let summary = db
            .import_items_csv(&mut csv.as_bytes(), ImportOptions { create_locations: true }, quiet())
            .await
            .unwrap();
        assert_eq!(summary.items, 1);
        assert_eq!(summary.locations_created, MAX_PATH_SEGMENTS as u64);
        let items = db.list_items(&ItemFilter::default(), &PageRequest::default()).await.unwrap();
        assert_eq!(items.items[0].location_path.split(" / ").count(), MAX_PATH_SEGMENTS);
        assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
    }
}

// 10. Deep trees: linear outline, no recursion when written or dropped.

/// Counts brackets and braces outside JSON strings; `None` if they ever close more than
/// they opened or end unbalanced.
fn balanced_json(bytes: &[u8]) -> Option<(usize, usize)> {
    let (mut objects, mut depth, mut max_depth) = (0usize, 0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                objects += usize::from(b == b'{');
                depth += 1;
                max_depth = max_depth.max(depth);
            }
            b'}' | b']' => depth = depth.checked_sub(1)?,
            _ => {}
        }
    }
    (depth == 0 && !in_string).then_some((objects, max_depth))
}

backend_tests! {
    async fn a_50000_deep_chain_outlines_each_location_once(db: &Database) {
        plant_chain(db, 50_000).await;
        // Linear work: seconds. A walk that scanned the table once per level (PostgreSQL
        // planning on the statistics of the empty table) took minutes.
        let started = Instant::now();
        let outline = db.location_outline(None, None).await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
        let nodes = outline.nodes();
        assert_eq!(nodes.len(), 50_000);
        assert!(nodes.iter().enumerate().all(|(i, n)| n.depth == i && n.id == i as i64 + 1));
        let (mut visited, mut deepest) = (0usize, 0usize);
        outline.for_each_with_path(|_, path| {
            visited += 1;
            deepest = path.len();
        });
        assert_eq!(visited, 50_000);
        // "h / r / b / … / b": one letter and one separator per level.
        assert_eq!(deepest, 1 + 4 * 49_999);
        // The deepest node's own tree: one node whose full path has every level.
        let bottom = db.location_tree(Some(50_000), None).await.unwrap();
        assert_eq!(bottom.len(), 1);
        assert_eq!(bottom[0].count(), 1);
        assert_eq!(bottom[0].location.full_path.len(), 1 + 4 * 49_999);
    }

    async fn a_deep_tree_is_written_as_json_without_recursion(db: &Database) {
        plant_chain(db, 2_000).await;
        let outline = db.location_outline(None, None).await.unwrap();
        let json = on_small_stack(move || {
            let mut out = Vec::new();
            outline.write_json(true, &mut out).unwrap();
            out
        });
        assert!(json.starts_with(b"[{\"id\":1,\"name\":\"h\","), "{}", String::from_utf8_lossy(&json[..80]));
        assert!(json.ends_with(format!("{}]", "]}".repeat(2_000)).as_bytes()));
        // One object per location, nested one level per location (plus each `children`).
        assert_eq!(balanced_json(&json), Some((2_000, 1 + 2 * 2_000)));
        let text = String::from_utf8(json).unwrap();
        assert_eq!(text.matches("\"children\":[").count(), 2_000);
        assert_eq!(text.matches("\"location_type\":\"CONTAINER\"").count(), 1_998);
    }

    async fn a_deep_nested_tree_is_built_and_dropped_without_recursion(db: &Database) {
        plant_chain(db, 5_000).await;
        let outline = db.location_outline(None, None).await.unwrap();
        let count = on_small_stack(move || {
            let trees = outline.into_trees();
            let count = trees[0].count();
            drop(trees);
            count
        });
        assert_eq!(count, 5_000);
        let trees = db.location_tree(None, None).await.unwrap();
        assert_eq!(on_small_stack(move || trees.iter().map(|t| t.count()).sum::<usize>()), 5_000);
    }
}

// 11. Item values past 64 bits.

backend_tests! {
    async fn item_totals_past_64_bits_are_exact(db: &Database) {
        let house = add(db, "My House", House, None).await;
        let room = add(db, "Vault", Room, Some(house)).await;
        for name in ["Gold", "Platinum"] {
            db.create_item(&NewItem {
                quantity: 1_000_000_000,
                purchase_price_cents: Some(1_000_000_000_000),
                currency: Some("EUR".into()),
                ..NewItem::new(name, room)
            })
            .await
            .unwrap();
        }
        let expected = vec![CurrencyTotal {
            currency: "EUR".into(),
            cents: 2_000_000_000_000_000_000_000,
            amount: "20000000000000000000.00".into(),
        }];
        for (location, recursive) in [(room, false), (house, true)] {
            let summary = db.item_summary(location, recursive).await.unwrap();
            assert_eq!(summary.items, 2);
            assert_eq!(summary.total_quantity, 2_000_000_000);
            assert_eq!(summary.value, expected, "{location} recursive={recursive}");
        }
    }
}

// 12. Recursive lists over big subtrees.

backend_tests! {
    async fn recursive_item_list_over_50000_locations_works(db: &Database) {
        db.execute_raw_for_tests(
            "INSERT INTO locations (id, name, name_key, location_type, parent_id) VALUES (1, 'My House', 'my house', 'HOUSE', NULL); \
             WITH RECURSIVE n (i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 49999) \
             INSERT INTO locations (id, name, name_key, location_type, parent_id) \
             SELECT i, 'Room ' || i, 'room ' || i, 'ROOM', 1 FROM n; \
             INSERT INTO locations (id, name, name_key, location_type, parent_id) VALUES (50000, 'Box', 'box', 'CONTAINER', 49999);",
        )
        .await
        .unwrap();
        move_location_sequence(db, 50_000).await;
        let bottom = db.create_item(&NewItem::new("Drill", 50_000)).await.unwrap();
        let top = db.create_item(&NewItem::new("Hammer", 1)).await.unwrap();
        let filter = ItemFilter { location_id: Some(1), recursive: true, ..ItemFilter::default() };
        let page = db.list_items(&filter, &PageRequest::default()).await.unwrap();
        let ids: Vec<i64> = page.items.iter().map(|i| i.id).collect();
        assert_eq!(ids, [bottom.id, top.id]);
        assert_eq!(page.items[0].location_path, "My House / Room 49999 / Box");
        let summary = db.item_summary(1, true).await.unwrap();
        assert_eq!((summary.items, summary.total_quantity), (2, 2));
        let direct = ItemFilter { recursive: false, ..filter };
        assert_eq!(db.list_items(&direct, &PageRequest::default()).await.unwrap().items.len(), 1);
    }
}

// 13. CSV cells a spreadsheet would run as formulas.

/// Text starting with every character a spreadsheet treats specially, in every text column.
async fn seed_formula_like(db: &Database) {
    let house = add(db, "=House", House, None).await;
    let room = add(db, "+Room", Room, Some(house)).await;
    let quoted = add(db, "'Attic", Room, Some(house)).await;
    let boxed = add(db, "-Box", Container, Some(room)).await;
    let shelf = add(db, "@Shelf", Shelf, Some(boxed)).await;
    for category in ["@Cat", "'Tools", "-Misc", "=Calc", "+Plus"] {
        db.create_category(category, None).await.unwrap();
    }
    let items = [
        (
            "=SUM(A1:A2)",
            boxed,
            "@Cat",
            "=HYPERLINK(\"http://x\")",
            "+desc",
            "-123",
        ),
        ("+1", shelf, "'Tools", "-notes", "@desc", "=serial"),
        ("-2", quoted, "-Misc", "@notes", "'desc", "+serial"),
        ("@cmd", room, "=Calc", "'notes", "=desc", "@serial"),
        ("'apostrophe", house, "+Plus", "+notes", "-desc", "'serial"),
    ];
    for (name, location, category, notes, description, serial) in items {
        db.create_item(&NewItem {
            category: Some(category.into()),
            notes: Some(notes.into()),
            description: Some(description.into()),
            serial_number: Some(serial.into()),
            ..NewItem::new(name, location)
        })
        .await
        .unwrap();
    }
}

async fn export_csv(db: &Database) -> Vec<u8> {
    let mut out = Vec::new();
    db.export_items_csv(&mut out, quiet()).await.unwrap();
    out
}

/// Each item's name, location path, category, description, serial and notes, sorted.
async fn item_texts(db: &Database) -> Vec<[Option<String>; 6]> {
    let page = db
        .list_items(&ItemFilter::default(), &PageRequest::default())
        .await
        .unwrap();
    let mut texts: Vec<[Option<String>; 6]> = page
        .items
        .into_iter()
        .map(|i| {
            [
                Some(i.name),
                Some(i.location_path),
                i.category,
                i.description,
                i.serial_number,
                i.notes,
            ]
        })
        .collect();
    texts.sort();
    texts
}

backend_tests! {
    async fn csv_export_escapes_cells_a_spreadsheet_would_run(db: &Database) {
        seed_formula_like(db).await;
        let csv = export_csv(db).await;
        let mut reader = csv::Reader::from_reader(&csv[..]);
        let mut cells = 0;
        for record in reader.records() {
            for cell in record.unwrap().iter() {
                assert!(!cell.starts_with(['=', '+', '-', '@']), "unescaped cell {cell:?}");
                cells += 1;
            }
        }
        assert_eq!(cells, 5 * 12);
        let text = String::from_utf8(csv).unwrap();
        for cell in [
            "'=SUM(A1:A2)", "'=House / +Room / -Box", "'@Cat", "\"'=HYPERLINK(\"\"http://x\"\")\"",
            "'+desc", "'-123", "''Tools", "''apostrophe", "'=House / 'Attic", "''serial",
        ] {
            assert!(text.contains(cell), "no cell {cell:?} in:\n{text}");
        }
    }

    async fn csv_export_import_export_of_formula_like_text_is_byte_identical(db: &Database) {
        seed_formula_like(db).await;
        let first = export_csv(db).await;
        let texts = item_texts(db).await;
        empty_out(db).await;
        let summary = db
            .import_items_csv(&mut &first[..], ImportOptions { create_locations: true }, quiet())
            .await
            .unwrap();
        assert_eq!((summary.items, summary.locations_created, summary.categories_created), (5, 5, 5));
        assert_eq!(item_texts(db).await, texts, "the text came back changed");
        assert_eq!(export_csv(db).await, first, "export → import → export differs");
    }
}

// 14. Restore checks every value as the live code does, naming the line.

/// My House (line 2), Kitchen (line 3), the category Tools (line 4) and a Drill with every
/// dated and priced field (line 5).
async fn seed_small(db: &Database) -> Vec<u8> {
    let house = add(db, "My House", House, None).await;
    let kitchen = add(db, "Kitchen", Room, Some(house)).await;
    db.create_category("Tools", None).await.unwrap();
    db.create_item(&NewItem {
        category: Some("Tools".into()),
        purchase_date: NaiveDate::from_ymd_opt(2024, 2, 29),
        warranty_expires: NaiveDate::from_ymd_opt(2027, 2, 28),
        purchase_price_cents: Some(8_990),
        currency: Some("EUR".into()),
        ..NewItem::new("Drill", kitchen)
    })
    .await
    .unwrap();
    backup_bytes(db).await
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// `good` with line `number` (1-based) edited by `edit`, and a matching trailer, so that
/// only the edit (not the checksum) can be what a restore refuses.
fn edited(good: &[u8], number: usize, edit: impl FnOnce(&mut Vec<serde_json::Value>)) -> Vec<u8> {
    let text = String::from_utf8(good.to_vec()).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let trailer: serde_json::Value = serde_json::from_str(&lines.pop().unwrap()).unwrap();
    let mut row: Vec<serde_json::Value> = serde_json::from_str(&lines[number - 1]).unwrap();
    edit(&mut row);
    lines[number - 1] = serde_json::to_string(&row).unwrap();
    let mut body = lines.join("\n");
    body.push('\n');
    body.push_str(&format!(
        "{{\"total_rows\":{},\"fnv1a64\":\"{:016x}\"}}\n",
        trailer["total_rows"],
        fnv1a64(body.as_bytes())
    ));
    body.into_bytes()
}

/// Restoring `bad` is refused as invalid input whose message is exactly `message`, and the
/// database is unchanged.
async fn assert_restore_refused(db: &Database, bad: &[u8], message: &str) {
    let before = backup_bytes(db).await;
    let err = restore_bytes(db, bad).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert_eq!(err.to_string(), message);
    assert_eq!(
        backup_bytes(db).await,
        before,
        "database changed by a refused restore"
    );
}

/// Columns of an items row: 0 id, 1 name, 7 purchase_date, 9 currency, 10 warranty_expires.
const ITEM_LINE: usize = 5;

backend_tests! {
    async fn restore_refuses_a_lower_case_currency(db: &Database) {
        let good = seed_small(db).await;
        let bad = edited(&good, ITEM_LINE, |row| row[9] = "eur".into());
        assert_restore_refused(db, &bad,
            "backup line 5 (items id 1): currency not stored as the program writes it (e.g. surrounding spaces, or a lower-case currency)").await;
    }

    async fn restore_refuses_a_warranty_ending_before_the_purchase(db: &Database) {
        let good = seed_small(db).await;
        let bad = edited(&good, ITEM_LINE, |row| row[10] = "2023-12-31".into());
        assert_restore_refused(db, &bad,
            "backup line 5 (items id 1): warranty expires (2023-12-31) before the purchase date (2024-02-29)").await;
    }

    async fn restore_refuses_a_lower_case_location_type(db: &Database) {
        let good = seed_small(db).await;
        let bad = edited(&good, 3, |row| row[3] = "room".into());
        assert_restore_refused(db, &bad,
            "backup line 3 (locations id 2): location_type \"room\" must be written ROOM").await;
    }

    async fn restore_refuses_a_timestamp_past_the_year_9999_in_utc(db: &Database) {
        let good = seed_small(db).await;
        let bad = edited(&good, 3, |row| row[5] = "9999-12-31T23:59:59-01:00".into());
        assert_restore_refused(db, &bad,
            "backup line 3: created_at \"9999-12-31T23:59:59-01:00\" is outside the years 1 to 9999 in UTC").await;
    }

    async fn restore_refuses_ids_outside_1_to_2_pow_53(db: &Database) {
        let good = seed_small(db).await;
        for id in [0, -7, (1i64 << 53) + 1] {
            let bad = edited(&good, ITEM_LINE, |row| row[0] = id.into());
            assert_restore_refused(db, &bad,
                &format!("backup line 5 (items id {id}): id is outside 1 to 9007199254740991")).await;
            let bad = edited(&good, 3, |row| row[0] = id.into());
            assert_restore_refused(db, &bad,
                &format!("backup line 3 (locations id {id}): id is outside 1 to 9007199254740991")).await;
        }
    }

    async fn restore_refuses_names_with_surrounding_spaces(db: &Database) {
        let good = seed_small(db).await;
        let bad = edited(&good, 3, |row| row[1] = " Kitchen ".into());
        assert_restore_refused(db, &bad,
            "backup line 3 (locations id 2): name \" Kitchen \" is not stored as the program writes it").await;
        let bad = edited(&good, ITEM_LINE, |row| row[1] = "Drill ".into());
        assert_restore_refused(db, &bad,
            "backup line 5 (items id 1): name not stored as the program writes it (e.g. surrounding spaces, or a lower-case currency)").await;
        let bad = edited(&good, 4, |row| row[1] = " Tools".into());
        assert_restore_refused(db, &bad,
            "backup line 4 (categories id 1): name \" Tools\" is not stored as the program writes it").await;
    }
}

// 16. A write behind a held lock gives up as busy.

#[test]
fn busy_is_of_kind_unavailable() {
    let err = DbError::Busy {
        what: "another writer holds the lock".into(),
        waited: Duration::from_secs(1),
    };
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(
        err.to_string(),
        "the database is busy: another writer holds the lock (gave up after 1 s); try again"
    );
}

backend_tests! {
    async fn a_tree_write_behind_a_held_tree_lock_gives_up_as_busy(db: &Database) {
        let impatient = Database::connect_with(
            db.url(),
            PoolOptions { lock_timeout: Duration::from_millis(300), ..PoolOptions::default() },
        )
        .await
        .unwrap();
        let (held_tx, held_rx) = tokio::sync::oneshot::channel::<()>();
        let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
        let holder = db.clone();
        let holding = tokio::spawn(async move {
            holder
                .transaction(TxMode::TreeWrite, async move |_c| {
                    let _ = held_tx.send(());
                    // Let go after a while in any case: a writer that waited forever fails the
                    // test on its time bound instead of hanging it.
                    let _ = tokio::time::timeout(Duration::from_secs(20), release_rx).await;
                    Ok(())
                })
                .await
        });
        held_rx.await.unwrap();
        let started = Instant::now();
        let err = impatient.create_location(&new("X", House, None)).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5), "waited {:?}", started.elapsed());
        assert!(matches!(err, DbError::Busy { .. }), "{err}");
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert!(err.to_string().starts_with("the database is busy: "), "{err}");
        assert!(err.to_string().contains("(gave up after 300 ms)"), "{err}");
        release_tx.send(()).unwrap();
        holding.await.unwrap().unwrap();
        assert!(db.location_rows().await.unwrap().is_empty(), "the refused write wrote");
        impatient.create_location(&new("X", House, None)).await.unwrap();
    }
}
