//! Location behaviour, the same bodies on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

use inventory_core::{LocationType, MoveError, ValidationError};
use inventory_db::{
    backend_tests, Database, DbError, ErrorKind, LocationChanges, LocationFilter, NewLocation,
    PageRequest,
};
use LocationType::{Container, House, Room, Shelf};

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

/// Full paths of every location, sorted: a snapshot to prove that nothing changed.
async fn snapshot(db: &Database) -> Vec<(i64, Option<i64>, String, String)> {
    let page = db
        .list_locations(&LocationFilter::default(), &PageRequest::first(10_000))
        .await
        .unwrap();
    page.items
        .into_iter()
        .map(|l| (l.id, l.parent_id, l.full_path, l.location_type.to_string()))
        .collect()
}

backend_tests! {
    async fn create_returns_full_path_and_timestamps(db: &Database) {
        let house = add(db, "My House", House, None).await;
        let room = add(db, "Living Room", Room, Some(house)).await;
        let shelf = db.create_location(&NewLocation {
            description: Some("  Top shelf  ".into()),
            ..new("  Shelf 2 ", Shelf, Some(room))
        }).await.unwrap();
        assert_eq!(shelf.name, "Shelf 2");
        assert_eq!(shelf.description.as_deref(), Some("Top shelf"));
        assert_eq!(shelf.full_path, "My House / Living Room / Shelf 2");
        assert_eq!(shelf.created_at, shelf.updated_at);
        let json = serde_json::to_value(&shelf).unwrap();
        assert_eq!(json["location_type"], "SHELF");
        assert!(json["created_at"].as_str().unwrap().ends_with('Z'));
    }

    async fn get_shows_ancestors_root_first_and_child_count(db: &Database) {
        let house = add(db, "My House", House, None).await;
        let room = add(db, "Kitchen", Room, Some(house)).await;
        let cupboard = add(db, "Cupboard", Container, Some(room)).await;
        add(db, "Box", Container, Some(cupboard)).await;
        let detail = db.get_location(cupboard).await.unwrap();
        let names: Vec<_> = detail.ancestors.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["My House", "Kitchen"]);
        assert_eq!(detail.child_count, 1);
        assert_eq!(detail.location.full_path, "My House / Kitchen / Cupboard");
    }

    async fn missing_location_is_not_found(db: &Database) {
        let err = db.get_location(999).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        let err = db.create_location(&new("Room", Room, Some(999))).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    }

    async fn invalid_names_are_refused_and_nothing_is_written(db: &Database) {
        add(db, "My House", House, None).await;
        let before = snapshot(db).await;
        for bad in ["", "   ", &"x".repeat(256), "tab\there", "a/b"] {
            let err = db.create_location(&new(bad, House, None)).await.unwrap_err();
            assert!(matches!(err, DbError::Validation(_)), "{bad:?}: {err}");
            assert_eq!(err.kind(), ErrorKind::Invalid);
        }
        let err = db.create_location(&new(&"x".repeat(256), House, None)).await.unwrap_err();
        assert!(matches!(err, DbError::Validation(ValidationError::TooLong { .. })));
        assert!(db.create_location(&new(&"é".repeat(255), House, None)).await.is_ok());
        assert_eq!(snapshot(db).await.len(), before.len() + 1);
    }

    async fn type_rules_are_enforced_on_create(db: &Database) {
        let err = db.create_location(&new("Loose room", Room, None)).await.unwrap_err();
        assert!(matches!(err, DbError::TypeRule { .. }), "{err}");
        let house = add(db, "My House", House, None).await;
        for (t, ok) in [(House, false), (Room, true), (Shelf, false), (Container, false)] {
            let r = db.create_location(&new(&format!("{t}"), t, Some(house))).await;
            assert_eq!(r.is_ok(), ok, "{t} under HOUSE");
        }
        assert_eq!(snapshot(db).await.len(), 2);
    }

    async fn sibling_names_are_unique_case_insensitively(db: &Database) {
        let house = add(db, "My House", House, None).await;
        add(db, "Kitchen", Room, Some(house)).await;
        let err = db.create_location(&new("KITCHEN", Room, Some(house))).await.unwrap_err();
        assert!(matches!(err, DbError::DuplicateName { .. }), "{err}");
        assert_eq!(err.kind(), ErrorKind::Conflict);
        let err = db.create_location(&new("my house", House, None)).await.unwrap_err();
        assert!(matches!(err, DbError::DuplicateName { .. }), "roots are siblings: {err}");
        // Non-ASCII case folding too.
        add(db, "Büro", Room, Some(house)).await;
        let err = db.create_location(&new("BÜRO", Room, Some(house))).await.unwrap_err();
        assert!(matches!(err, DbError::DuplicateName { .. }), "{err}");
        // The same name under another parent is fine.
        let other = add(db, "Cabin", House, None).await;
        add(db, "Kitchen", Room, Some(other)).await;
    }

    async fn list_filters_and_paginates(db: &Database) {
        let house = add(db, "My House", House, None).await;
        for i in 0..7 {
            add(db, &format!("Room {i}"), Room, Some(house)).await;
        }
        add(db, "Cabin", House, None).await;
        let rooms = LocationFilter { location_type: Some(Room), ..Default::default() };
        let mut seen = Vec::new();
        let mut page = PageRequest::first(3);
        loop {
            let p = db.list_locations(&rooms, &page).await.unwrap();
            assert!(p.items.len() <= 3);
            seen.extend(p.items.iter().map(|l| l.name.clone()));
            match p.next_cursor {
                Some(c) => page.cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen.len(), 7);
        let roots = LocationFilter { roots_only: true, ..Default::default() };
        assert_eq!(db.list_locations(&roots, &PageRequest::default()).await.unwrap().items.len(), 2);
        let children = LocationFilter { parent_id: Some(house), ..Default::default() };
        assert_eq!(db.list_locations(&children, &PageRequest::default()).await.unwrap().items.len(), 7);
        let named = LocationFilter { name_contains: Some("room 3".into()), ..Default::default() };
        let hits = db.list_locations(&named, &PageRequest::default()).await.unwrap().items;
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].full_path, "My House / Room 3");
        // A name with a parent (or at the top level) is matched through the sibling-name
        // index, by name key: case-insensitive beyond ASCII, `%` and `_` literal.
        let strasse = add(db, "Straße 5", Room, Some(house)).await;
        add(db, "100% Cotton_Box", Room, Some(house)).await;
        let under = |parent: i64, text: &str| LocationFilter {
            parent_id: Some(parent),
            name_contains: Some(text.into()),
            ..Default::default()
        };
        let ids = |items: Vec<inventory_db::Location>| items.into_iter().map(|l| l.id).collect::<Vec<_>>();
        assert_eq!(ids(db.list_locations(&under(house, "STRASSE"), &PageRequest::default()).await.unwrap().items), vec![strasse]);
        assert_eq!(db.list_locations(&under(house, "0% c"), &PageRequest::default()).await.unwrap().items.len(), 1);
        assert_eq!(db.list_locations(&under(house, "n_b"), &PageRequest::default()).await.unwrap().items.len(), 1);
        assert_eq!(db.list_locations(&under(house, "0_ c"), &PageRequest::default()).await.unwrap().items.len(), 0);
        assert_eq!(db.list_locations(&under(0, "room"), &PageRequest::default()).await.unwrap().items.len(), 0);
        let top = |text: &str| LocationFilter { roots_only: true, name_contains: Some(text.into()), ..Default::default() };
        let tops = db.list_locations(&top("HOUSE"), &PageRequest::default()).await.unwrap().items;
        assert_eq!(ids(tops), vec![house]);
        assert!(db.list_locations(&top("room"), &PageRequest::default()).await.unwrap().items.is_empty());
        let both = LocationFilter { roots_only: true, parent_id: Some(house), name_contains: Some("room".into()), ..Default::default() };
        assert!(db.list_locations(&both, &PageRequest::default()).await.unwrap().items.is_empty());
        let mut names = Vec::new();
        let mut page = PageRequest::first(2);
        loop {
            let p = db.list_locations(&under(house, "room"), &page).await.unwrap();
            names.extend(p.items.into_iter().map(|l| l.name));
            match p.next_cursor {
                Some(c) => page.cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(names, (0..7).map(|i| format!("Room {i}")).collect::<Vec<_>>(), "by id, page by page");
        let bad = PageRequest { limit: 5, cursor: Some("nonsense".into()) };
        assert_eq!(db.list_locations(&rooms, &bad).await.unwrap_err().kind(), ErrorKind::Invalid);
    }

    async fn update_renames_and_rechecks_types(db: &Database) {
        let house = add(db, "My House", House, None).await;
        let room = add(db, "Kitchen", Room, Some(house)).await;
        let bin = add(db, "Bin", Container, Some(room)).await;
        let shelf = add(db, "Shelf", Shelf, Some(bin)).await;
        let renamed = db.update_location(room, &LocationChanges {
            name: Some("Cuisine".into()),
            description: Some(Some("where food is".into())),
            ..Default::default()
        }).await.unwrap();
        assert_eq!(renamed.full_path, "My House / Cuisine");
        assert_eq!(db.get_location(shelf).await.unwrap().location.full_path, "My House / Cuisine / Bin / Shelf");
        // A ROOM under a HOUSE cannot become a SHELF.
        let err = db.update_location(room, &LocationChanges { location_type: Some(Shelf), ..Default::default() }).await.unwrap_err();
        assert!(matches!(err, DbError::TypeRule { .. }), "{err}");
        // A CONTAINER holding a SHELF cannot become a SHELF (a SHELF may not hold a SHELF).
        let err = db.update_location(bin, &LocationChanges { location_type: Some(Shelf), ..Default::default() }).await.unwrap_err();
        assert!(matches!(err, DbError::TypeRule { .. }), "{err}");
        let cleared = db.update_location(room, &LocationChanges { description: Some(None), ..Default::default() }).await.unwrap();
        assert_eq!(cleared.description, None);
        let err = db.update_location(room, &LocationChanges { name: Some(" ".into()), ..Default::default() }).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid);
    }

    async fn every_change_moves_updated_at_forward(db: &Database) {
        let house = add(db, "My House", House, None).await;
        let kitchen = add(db, "Kitchen", Room, Some(house)).await;
        let garage = add(db, "Garage", Room, Some(house)).await;
        let bin = add(db, "Bin", Container, Some(kitchen)).await;
        let changes: [(&str, LocationChanges, Option<i64>); 4] = [
            ("rename", LocationChanges { name: Some("Big Bin".into()), ..Default::default() }, None),
            ("retype", LocationChanges { location_type: Some(Shelf), ..Default::default() }, None),
            ("description", LocationChanges { description: Some(Some("red lid".into())), ..Default::default() }, None),
            ("move", LocationChanges::default(), Some(garage)),
        ];
        for (what, change, new_parent) in changes {
            let before = db.get_location(bin).await.unwrap().location;
            // Timestamps have microseconds: make sure the clock has moved past `before`.
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            let after = match new_parent {
                Some(parent) => db.move_location(bin, Some(parent)).await.unwrap(),
                None => db.update_location(bin, &change).await.unwrap(),
            };
            assert!(after.updated_at > before.updated_at, "{what}: updated_at {} is not after {}", after.updated_at, before.updated_at);
            assert_eq!(after.created_at, before.created_at, "{what} changed created_at");
            let stored = db.get_location(bin).await.unwrap().location;
            assert_eq!(stored.updated_at, after.updated_at, "{what}: the stored updated_at differs from the returned one");
        }
        let bin = db.get_location(bin).await.unwrap().location;
        assert_eq!((bin.name.as_str(), bin.location_type, bin.description.as_deref()), ("Big Bin", Shelf, Some("red lid")));
        assert_eq!(bin.full_path, "My House / Garage / Big Bin");
    }

    async fn rename_to_a_sibling_name_is_refused(db: &Database) {
        let house = add(db, "My House", House, None).await;
        add(db, "Kitchen", Room, Some(house)).await;
        let hall = add(db, "Hall", Room, Some(house)).await;
        let err = db.update_location(hall, &LocationChanges { name: Some("kitchen".into()), ..Default::default() }).await.unwrap_err();
        assert!(matches!(err, DbError::DuplicateName { .. }), "{err}");
        // Changing only the case of its own name is allowed.
        let hall = db.update_location(hall, &LocationChanges { name: Some("HALL".into()), ..Default::default() }).await.unwrap();
        assert_eq!(hall.name, "HALL");
    }

    async fn move_reparents_and_updates_paths(db: &Database) {
        let house = add(db, "My House", House, None).await;
        let kitchen = add(db, "Kitchen", Room, Some(house)).await;
        let garage = add(db, "Garage", Room, Some(house)).await;
        let bin = add(db, "Bin", Container, Some(kitchen)).await;
        let inner = add(db, "Inner", Container, Some(bin)).await;
        let moved = db.move_location(bin, Some(garage)).await.unwrap();
        assert_eq!(moved.full_path, "My House / Garage / Bin");
        assert_eq!(db.get_location(inner).await.unwrap().location.full_path, "My House / Garage / Bin / Inner");
    }

    async fn move_under_itself_or_a_descendant_is_refused(db: &Database) {
        let house = add(db, "My House", House, None).await;
        let room = add(db, "Kitchen", Room, Some(house)).await;
        let a = add(db, "A", Container, Some(room)).await;
        let b = add(db, "B", Container, Some(a)).await;
        let c = add(db, "C", Container, Some(b)).await;
        let before = snapshot(db).await;
        for target in [a, b, c] {
            let err = db.move_location(a, Some(target)).await.unwrap_err();
            assert!(matches!(err, DbError::Move(MoveError::CycleDetected { .. })), "{err}");
            assert_eq!(err.kind(), ErrorKind::Conflict);
        }
        assert_eq!(snapshot(db).await, before);
    }

    async fn move_breaking_a_type_rule_is_refused(db: &Database) {
        let house = add(db, "My House", House, None).await;
        let cabin = add(db, "Cabin", House, None).await;
        let room = add(db, "Kitchen", Room, Some(house)).await;
        let before = snapshot(db).await;
        let err = db.move_location(cabin, Some(room)).await.unwrap_err();
        assert!(matches!(err, DbError::Move(MoveError::TypeRule { .. })), "{err}");
        let err = db.move_location(room, None).await.unwrap_err();
        assert!(matches!(err, DbError::Move(MoveError::TypeRule { .. })), "{err}");
        let err = db.move_location(room, Some(12345)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_eq!(snapshot(db).await, before);
    }

    async fn move_into_a_clashing_name_is_refused(db: &Database) {
        let house = add(db, "My House", House, None).await;
        let kitchen = add(db, "Kitchen", Room, Some(house)).await;
        let garage = add(db, "Garage", Room, Some(house)).await;
        add(db, "Box", Container, Some(kitchen)).await;
        let other = add(db, "box", Container, Some(garage)).await;
        let err = db.move_location(other, Some(kitchen)).await.unwrap_err();
        assert!(matches!(err, DbError::DuplicateName { .. }), "{err}");
    }

    async fn delete_removes_the_whole_subtree(db: &Database) {
        let house = add(db, "My House", House, None).await;
        let room = add(db, "Kitchen", Room, Some(house)).await;
        let bin = add(db, "Bin", Container, Some(room)).await;
        add(db, "Inner", Container, Some(bin)).await;
        let keep = add(db, "Hall", Room, Some(house)).await;
        let out = db.delete_location(room).await.unwrap();
        assert_eq!(out.locations_deleted, 3);
        let left: Vec<i64> = snapshot(db).await.into_iter().map(|r| r.0).collect();
        assert_eq!(left, [house, keep]);
        assert_eq!(db.delete_location(room).await.unwrap_err().kind(), ErrorKind::NotFound);
    }

    async fn tree_nests_children_by_name_with_depth_limit(db: &Database) {
        let house = add(db, "My House", House, None).await;
        let b = add(db, "b room", Room, Some(house)).await;
        add(db, "A room", Room, Some(house)).await;
        let bin = add(db, "Bin", Container, Some(b)).await;
        add(db, "Inner", Container, Some(bin)).await;
        add(db, "Cabin", House, None).await;
        let forest = db.location_tree(None, None).await.unwrap();
        let roots: Vec<_> = forest.iter().map(|n| n.location.name.as_str()).collect();
        assert_eq!(roots, ["Cabin", "My House"]);
        let rooms: Vec<_> = forest[1].children.iter().map(|n| n.location.name.as_str()).collect();
        assert_eq!(rooms, ["A room", "b room"]);
        assert_eq!(forest[1].count(), 5);
        let sub = db.location_tree(Some(b), Some(1)).await.unwrap();
        assert_eq!(sub.len(), 1);
        assert_eq!(sub[0].location.full_path, "My House / b room");
        assert_eq!(sub[0].children[0].location.full_path, "My House / b room / Bin");
        assert!(sub[0].children[0].children.is_empty(), "depth 1 stops below Bin");
        let json = serde_json::to_value(&sub).unwrap();
        assert_eq!(json[0]["children"][0]["name"], "Bin");
        // Every root's tree (a plain scan, ordered in core) and a shallow view of it (a
        // walk) agree on the order and depth of what both show.
        let all = db.location_outline(None, None).await.unwrap();
        let order = |o: &inventory_db::Outline| -> Vec<(String, usize)> {
            let mut v = Vec::new();
            o.for_each_with_path(|n, path| v.push((path.to_string(), n.depth)));
            v
        };
        let every = order(&all);
        assert_eq!(every.len(), 6);
        assert_eq!(every[0], ("Cabin".to_string(), 0));
        assert_eq!(every[5], ("My House / b room / Bin / Inner".to_string(), 3));
        for depth in 0..4u32 {
            let shallow = order(&db.location_outline(None, Some(depth)).await.unwrap());
            let expected: Vec<_> = every.iter().filter(|(_, d)| *d <= depth as usize).cloned().collect();
            assert_eq!(shallow, expected, "depth {depth}");
        }
        // A subtree (a walk from its root) holds what every root's tree holds under it, in
        // the same order, its root at depth 0.
        let under_b = order(&db.location_outline(Some(b), None).await.unwrap());
        let expected: Vec<_> = every
            .iter()
            .filter(|(path, _)| path.starts_with("My House / b room"))
            .map(|(path, d)| (path.clone(), d - 1))
            .collect();
        assert_eq!(expected.len(), 3);
        assert_eq!(under_b, expected);
    }

    async fn paths_resolve_case_insensitively_and_ids_work_as_references(db: &Database) {
        let house = add(db, "My House", House, None).await;
        let room = add(db, "Living Room", Room, Some(house)).await;
        assert_eq!(db.resolve_path("my house / LIVING ROOM").await.unwrap(), room);
        assert_eq!(db.resolve_location(&room.to_string()).await.unwrap(), room);
        assert_eq!(db.resolve_location("My House/Living Room").await.unwrap(), room);
        let err = db.resolve_location("My House / Atic").await.unwrap_err();
        assert_eq!(err.to_string(), "no location at path \"My House / Atic\"");
        assert_eq!(db.resolve_location("My House //").await.unwrap_err().kind(), ErrorKind::Invalid);
        assert_eq!(db.resolve_location("4242").await.unwrap_err().kind(), ErrorKind::NotFound);
    }

    async fn integrity_is_clean_on_valid_data(db: &Database) {
        let house = add(db, "My House", House, None).await;
        add(db, "Kitchen", Room, Some(house)).await;
        let outcome = db.integrity(true).await.unwrap();
        assert!(outcome.is_clean(), "{outcome:?}");
        assert_eq!(outcome.report.rows, 2);
        assert!(outcome.engine.len() >= 2);
    }

    async fn integrity_finds_planted_damage(db: &Database) {
        let house = add(db, "My House", House, None).await;
        let room = add(db, "Kitchen", Room, Some(house)).await;
        let a = add(db, "A", Container, Some(room)).await;
        let b = add(db, "B", Container, Some(room)).await;
        // Damage the library refuses to write: a cycle, an orphan and a type break.
        let sql = match db.backend() {
            inventory_db::Backend::Sqlite => format!(
                "PRAGMA foreign_keys = OFF; \
                 UPDATE locations SET parent_id = {b} WHERE id = {a}; \
                 UPDATE locations SET parent_id = {a} WHERE id = {b}; \
                 INSERT INTO locations (id, name, name_key, location_type, parent_id) VALUES (900, 'Lost', 'lost', 'CONTAINER', 777); \
                 UPDATE locations SET location_type = 'SHELF' WHERE id = {room}; \
                 PRAGMA foreign_keys = ON;"
            ),
            inventory_db::Backend::Postgres => format!(
                "ALTER TABLE locations DISABLE TRIGGER ALL; \
                 UPDATE locations SET parent_id = {b} WHERE id = {a}; \
                 UPDATE locations SET parent_id = {a} WHERE id = {b}; \
                 INSERT INTO locations (id, name, name_key, location_type, parent_id) VALUES (900, 'Lost', 'lost', 'CONTAINER', 777); \
                 UPDATE locations SET location_type = 'SHELF' WHERE id = {room}; \
                 ALTER TABLE locations ENABLE TRIGGER ALL;"
            ),
        };
        db.execute_raw_for_tests(&sql).await.unwrap();
        let outcome = db.integrity(false).await.unwrap();
        let r = &outcome.report;
        assert_eq!(r.cycles.len(), 1, "{r:?}");
        let mut members = r.cycles[0].members.clone();
        members.sort();
        assert_eq!(members, [a, b]);
        assert_eq!(r.orphans.len(), 1);
        assert_eq!(r.orphans[0].id, 900);
        assert_eq!(r.type_violations.len(), 1);
        assert_eq!(r.type_violations[0].id, room);
        assert!(outcome.paths.get(&900).is_some_and(|p| p.ends_with("Lost")));
        assert!(!outcome.is_clean());
        if db.backend() == inventory_db::Backend::Sqlite {
            let fk = outcome.engine.iter().find(|c| c.name == "foreign_key_check").unwrap();
            assert_eq!(fk.problems.len(), 1, "{fk:?}");
        }
        let health = db.health().await;
        assert!(!health.healthy());
    }

    async fn stats_count_rows_and_vacuum_runs(db: &Database) {
        let house = add(db, "My House", House, None).await;
        add(db, "Kitchen", Room, Some(house)).await;
        let stats = db.stats().await.unwrap();
        let locations = stats.tables.iter().find(|t| t.table == "locations").unwrap();
        assert_eq!(locations.rows, 2);
        assert!(stats.size_bytes > 0);
        assert_eq!(stats.page_size.is_some(), db.backend() == inventory_db::Backend::Sqlite);
        db.vacuum().await.unwrap();
        assert!(db.health().await.healthy());
        assert!(db.round_trip().await.is_ok());
        let after = db.stats().await.unwrap();
        let locations = after.tables.iter().find(|t| t.table == "locations").unwrap();
        assert_eq!(locations.rows, 2, "round trip leaves nothing");
    }
}

/// On SQLite, `db integrity`'s foreign-key check (one anti-join per declared key) finds
/// what `PRAGMA foreign_key_check` finds, line for line, locations aside (the tree analysis
/// reports those as orphans).
#[tokio::test(flavor = "multi_thread")]
async fn sqlite_foreign_key_check_finds_what_the_pragma_finds() {
    let t = inventory_db::testing::sqlite().await;
    let db = &t.db;
    let house = add(db, "My House", House, None).await;
    db.create_category("Tools", None).await.unwrap();
    let item = |name: &str| inventory_db::NewItem {
        category: Some("Tools".into()),
        ..inventory_db::NewItem::new(name, house)
    };
    let a = db.create_item(&item("Drill")).await.unwrap().id;
    let b = db.create_item(&item("Saw")).await.unwrap().id;
    db.execute_raw_for_tests(&format!(
        "PRAGMA foreign_keys = OFF; \
         UPDATE items SET location_id = 777 WHERE id = {a}; \
         UPDATE items SET category_id = 555 WHERE id = {b}; \
         INSERT INTO location_totals (location_id, currency, items, quantity, value_hi, value_lo) \
             VALUES (888, 'EUR', 1, 1, 0, 0); \
         PRAGMA foreign_keys = ON;"
    ))
    .await
    .unwrap();
    let outcome = db.integrity(false).await.unwrap();
    let fk = outcome
        .engine
        .iter()
        .find(|c| c.name == "foreign_key_check")
        .unwrap();
    let mut found = fk.problems.clone();
    found.sort();
    let mut pragma = db
        .query_text_for_tests(
            "SELECT 'table ' || f.\"table\" || ' row ' || coalesce(f.rowid, '?') || \
             ' refers to a missing row of ' || f.parent AS v \
             FROM sqlite_master m JOIN pragma_foreign_key_check(m.name) f \
             WHERE m.type = 'table' AND m.name <> 'locations'",
        )
        .await
        .unwrap();
    pragma.sort();
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found, pragma);
    assert!(!fk.ok);
    assert!(found.contains(&format!(
        "table items row {a} refers to a missing row of locations"
    )));
}

/// On SQLite, `db integrity` runs `quick_check` table by table: a damaged page of an index
/// of `items` is found by it, and by `integrity_check` with `full`, while the other checks
/// still answer and `db integrity` reports rather than fails.
#[tokio::test(flavor = "multi_thread")]
async fn sqlite_quick_check_finds_a_damaged_index_page() {
    let t = inventory_db::testing::sqlite().await;
    let db = &t.db;
    let house = add(db, "My House", House, None).await;
    for n in 0..50 {
        let item = inventory_db::NewItem {
            serial_number: Some(format!("SN-{n:04}")),
            ..inventory_db::NewItem::new(format!("Thing {n}"), house)
        };
        db.create_item(&item).await.unwrap();
    }
    assert!(db.integrity(false).await.unwrap().is_clean());
    let number = |sql: &str| {
        let sql = sql.to_string();
        async move {
            let v = db.query_text_for_tests(&sql).await.unwrap();
            v[0].parse::<u64>().unwrap()
        }
    };
    let root = number(
        "SELECT CAST(rootpage AS TEXT) AS v FROM sqlite_master \
         WHERE name = 'ix_items_serial_number'",
    )
    .await;
    let page_size = number("SELECT CAST(page_size AS TEXT) AS v FROM pragma_page_size").await;
    db.checkpoint().await.unwrap();
    let path = t.url.strip_prefix("sqlite://").unwrap();
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        // The page's type byte: no B-tree page has type 0xff.
        file.seek(SeekFrom::Start((root - 1) * page_size)).unwrap();
        file.write_all(&[0xff]).unwrap();
        file.sync_all().unwrap();
    }
    for full in [false, true] {
        let outcome = db.integrity(full).await.unwrap();
        let name = if full {
            "integrity_check"
        } else {
            "quick_check"
        };
        let check = outcome.engine.iter().find(|c| c.name == name).unwrap();
        assert!(!check.ok, "{full}: {check:?}");
        // quick_check names the page; integrity_check stops at it (its index probes meet
        // the damage), which is reported as its finding.
        let said = if full {
            "the check stopped: database disk image is malformed".to_string()
        } else {
            format!("page {root}: btreeInitPage()")
        };
        assert!(
            check.problems.iter().any(|p| p.contains(&said)),
            "{full}: {check:?}"
        );
        assert!(outcome.report.is_clean(), "{:?}", outcome.report);
        assert!(!outcome.is_clean());
    }
}
