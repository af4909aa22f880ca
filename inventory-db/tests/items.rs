//! Items, categories, search, users, tokens and CSV: the same bodies on both backends.
#![allow(clippy::unwrap_used)]

use inventory_core::{LocationType, Role};
use inventory_db::csv_io::ImportOptions;
use inventory_db::{
    backend_tests, Database, DbError, ErrorKind, ItemChanges, ItemFilter, ItemsOnDelete,
    LocationFilter, NewItem, NewLocation, PageRequest,
};

async fn add(db: &Database, name: &str, t: LocationType, parent: Option<i64>) -> i64 {
    db.create_location(&NewLocation {
        name: name.into(),
        description: None,
        location_type: t,
        parent_id: parent,
    })
    .await
    .unwrap()
    .id
}

/// House > Garage > Toolbox, House > Kitchen.
async fn home(db: &Database) -> (i64, i64, i64, i64) {
    let house = add(db, "My House", LocationType::House, None).await;
    let garage = add(db, "Garage", LocationType::Room, Some(house)).await;
    let toolbox = add(db, "Toolbox", LocationType::Container, Some(garage)).await;
    let kitchen = add(db, "Kitchen", LocationType::Room, Some(house)).await;
    (house, garage, toolbox, kitchen)
}

async fn all_items(db: &Database) -> Vec<(String, String)> {
    let page = db
        .list_items(&ItemFilter::default(), &PageRequest::first(10_000))
        .await
        .unwrap();
    page.items
        .into_iter()
        .map(|i| (i.name, i.location_path))
        .collect()
}

async fn location_count(db: &Database) -> usize {
    db.list_locations(&LocationFilter::default(), &PageRequest::first(10_000))
        .await
        .unwrap()
        .items
        .len()
}

fn noop(_: u64, _: u64) {}

backend_tests! {
    async fn item_is_created_with_its_location_path_and_category(db: &Database) {
        let (_, _, toolbox, _) = home(db).await;
        db.create_category("Tools", Some("things that fix things")).await.unwrap();
        let drill = db.create_item(&NewItem {
            quantity: 1,
            category: Some("tools".into()),
            serial_number: Some("SN-4711".into()),
            purchase_price_cents: Some(8999),
            currency: Some("eur".into()),
            purchase_date: Some("2024-03-01".parse().unwrap()),
            warranty_expires: Some("2026-03-01".parse().unwrap()),
            notes: Some("cordless, 18V battery".into()),
            ..NewItem::new("Drill", toolbox)
        }).await.unwrap();
        assert_eq!(drill.location_path, "My House / Garage / Toolbox");
        assert_eq!(drill.category.as_deref(), Some("Tools"));
        assert_eq!(drill.currency.as_deref(), Some("EUR"));
        let json = serde_json::to_value(&drill).unwrap();
        for key in ["id", "name", "description", "quantity", "location_id", "location_path", "category",
            "serial_number", "purchase_date", "purchase_price_cents", "currency", "warranty_expires",
            "notes", "created_at", "updated_at"] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        assert_eq!(json["purchase_date"], "2024-03-01");
        assert_eq!(db.get_item(drill.id).await.unwrap(), drill);
    }

    async fn invalid_items_are_refused_and_nothing_is_written(db: &Database) {
        let (_, garage, _, _) = home(db).await;
        let cases = [
            NewItem { quantity: -1, ..NewItem::new("Saw", garage) },
            NewItem::new("  ", garage),
            NewItem { purchase_price_cents: Some(100), ..NewItem::new("Saw", garage) },
            NewItem { purchase_price_cents: Some(100), currency: Some("EURO".into()), ..NewItem::new("Saw", garage) },
            NewItem {
                purchase_date: Some("2024-05-01".parse().unwrap()),
                warranty_expires: Some("2024-04-01".parse().unwrap()),
                ..NewItem::new("Saw", garage)
            },
        ];
        for case in cases {
            let err = db.create_item(&case).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Invalid, "{case:?}: {err}");
        }
        let err = db.create_item(&NewItem::new("Saw", 9999)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        let err = db.create_item(&NewItem { category: Some("Nope".into()), ..NewItem::new("Saw", garage) }).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(all_items(db).await.is_empty());
    }

    async fn items_list_directly_or_recursively_with_counts_and_value(db: &Database) {
        let (house, garage, toolbox, kitchen) = home(db).await;
        db.create_item(&NewItem { quantity: 2, purchase_price_cents: Some(1000), currency: Some("EUR".into()), ..NewItem::new("Hammer", toolbox) }).await.unwrap();
        db.create_item(&NewItem { quantity: 1, purchase_price_cents: Some(500), currency: Some("USD".into()), ..NewItem::new("Ladder", garage) }).await.unwrap();
        db.create_item(&NewItem::new("Kettle", kitchen)).await.unwrap();
        let direct = ItemFilter { location_id: Some(garage), ..Default::default() };
        let names: Vec<_> = db.list_items(&direct, &PageRequest::default()).await.unwrap().items.into_iter().map(|i| i.name).collect();
        assert_eq!(names, ["Ladder"]);
        let deep = ItemFilter { location_id: Some(garage), recursive: true, ..Default::default() };
        assert_eq!(db.list_items(&deep, &PageRequest::default()).await.unwrap().items.len(), 2);
        let summary = db.item_summary(house, true).await.unwrap();
        assert_eq!(summary.items, 3);
        assert_eq!(summary.total_quantity, 4);
        let eur = summary.value.iter().find(|v| v.currency == "EUR").unwrap();
        assert_eq!(eur.cents, 2000);
        assert_eq!(db.item_summary(house, false).await.unwrap().items, 0);
    }

    async fn items_move_update_and_delete(db: &Database) {
        let (_, garage, toolbox, kitchen) = home(db).await;
        let item = db.create_item(&NewItem::new("Tape", toolbox)).await.unwrap();
        let moved = db.move_item(item.id, kitchen).await.unwrap();
        assert_eq!(moved.location_path, "My House / Kitchen");
        assert_eq!(db.move_item(item.id, 9999).await.unwrap_err().kind(), ErrorKind::NotFound);
        db.create_category("Office", None).await.unwrap();
        let changed = db.update_item(item.id, &ItemChanges {
            quantity: Some(5),
            category: Some(Some("Office".into())),
            notes: Some(Some("duct tape".into())),
            price: Some(Some((250, "EUR".into()))),
            ..Default::default()
        }).await.unwrap();
        assert_eq!((changed.quantity, changed.category.as_deref()), (5, Some("Office")));
        let err = db.update_item(item.id, &ItemChanges { quantity: Some(-3), ..Default::default() }).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert_eq!(db.get_item(item.id).await.unwrap().quantity, 5, "refused update changed nothing");
        db.delete_item(item.id).await.unwrap();
        assert_eq!(db.get_item(item.id).await.unwrap_err().kind(), ErrorKind::NotFound);
        let _ = garage;
    }

    async fn deleting_a_location_with_items_is_refused_by_default(db: &Database) {
        let (_, garage, toolbox, _) = home(db).await;
        db.create_item(&NewItem::new("Drill", toolbox)).await.unwrap();
        let before = (location_count(db).await, all_items(db).await);
        let err = db.delete_location(garage).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
        assert!(err.to_string().contains("1 item"), "{err}");
        assert_eq!((location_count(db).await, all_items(db).await), before);
    }

    async fn deleting_with_move_to_parent_keeps_the_items(db: &Database) {
        let (_, garage, toolbox, _) = home(db).await;
        db.create_item(&NewItem::new("Drill", toolbox)).await.unwrap();
        db.create_item(&NewItem::new("Ladder", garage)).await.unwrap();
        let out = db.delete_location_with(garage, ItemsOnDelete::MoveToParent).await.unwrap();
        assert_eq!((out.locations_deleted, out.items_affected), (2, 2));
        let items = all_items(db).await;
        assert!(items.iter().all(|(_, path)| path == "My House"), "{items:?}");
    }

    async fn deleting_with_delete_removes_the_items(db: &Database) {
        let (house, garage, toolbox, kitchen) = home(db).await;
        db.create_item(&NewItem::new("Drill", toolbox)).await.unwrap();
        db.create_item(&NewItem::new("Kettle", kitchen)).await.unwrap();
        let out = db.delete_location_with(garage, ItemsOnDelete::Delete).await.unwrap();
        assert_eq!(out.items_affected, 1);
        assert_eq!(all_items(db).await, [("Kettle".to_string(), "My House / Kitchen".to_string())]);
        // A root has no parent to move items to: refused, nothing changes.
        let err = db.delete_location_with(house, ItemsOnDelete::MoveToParent).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert_eq!(all_items(db).await.len(), 1);
    }

    async fn search_finds_items_by_words_in_notes_serials_and_names(db: &Database) {
        let (_, _, toolbox, kitchen) = home(db).await;
        let drill = db.create_item(&NewItem { notes: Some("Bosch cordless, battery in the drawer".into()), serial_number: Some("BX-7781".into()), ..NewItem::new("Drill", toolbox) }).await.unwrap();
        db.create_item(&NewItem { description: Some("electric kettle".into()), ..NewItem::new("Kettle", kitchen) }).await.unwrap();
        let hits = db.search("cordless", 20).await.unwrap();
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!((hits[0].kind, hits[0].id), ("item", drill.id));
        assert_eq!(hits[0].path, "My House / Garage / Toolbox");
        assert_eq!(db.search("bx 7781", 20).await.unwrap()[0].id, drill.id, "serial number");
        assert_eq!(db.search("dri", 20).await.unwrap()[0].name, "Drill", "prefix");
        let hits = db.search("garage", 20).await.unwrap();
        assert_eq!((hits[0].kind, hits[0].path.as_str()), ("location", "My House / Garage"));
        assert!(db.search("submarine", 20).await.unwrap().is_empty());
        assert_eq!(db.search(" !! ", 20).await.unwrap_err().kind(), ErrorKind::Invalid);
        // The index follows renames and deletes.
        db.update_item(drill.id, &ItemChanges { name: Some("Impact driver".into()), ..Default::default() }).await.unwrap();
        assert_eq!(db.search("impact", 20).await.unwrap().len(), 1);
        db.delete_item(drill.id).await.unwrap();
        assert!(db.search("impact", 20).await.unwrap().is_empty());
    }

    async fn search_ranks_name_hits_first(db: &Database) {
        let (_, garage, _, _) = home(db).await;
        db.create_item(&NewItem { notes: Some("for the hammer drill".into()), ..NewItem::new("Bits", garage) }).await.unwrap();
        db.create_item(&NewItem::new("Hammer", garage)).await.unwrap();
        let hits = db.search("hammer", 20).await.unwrap();
        assert_eq!(hits[0].name, "Hammer");
        assert!(hits[0].rank > hits[1].rank);
        // Found by its name and anywhere, a row is still one hit.
        assert_eq!(hits.len(), 2, "{hits:?}");
    }

    async fn locations_named_finds_names_only_nearest_the_root_first(db: &Database) {
        let (house, garage, toolbox, kitchen) = home(db).await;
        let shelf = add(db, "Tool Shelf 1", LocationType::Shelf, Some(garage)).await;
        let deep = add(db, "Tool Box 12", LocationType::Container, Some(shelf)).await;
        let described = NewLocation {
            name: "Pantry".into(),
            description: Some("tool storage".into()),
            location_type: LocationType::Container,
            parent_id: Some(kitchen),
        };
        db.create_location(&described).await.unwrap();
        db.create_item(&NewItem::new("Toolbelt", house)).await.unwrap();
        let found = db.locations_named("tool", 100).await.unwrap();
        let ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
        // Names only (not the pantry's description, not the item), nearest the root first,
        // then by path.
        assert_eq!(ids, [shelf, toolbox, deep], "{found:?}");
        assert_eq!(found[2].1, "My House / Garage / Tool Shelf 1 / Tool Box 12");
        // Every word, each as a prefix, in any case; a short common word too.
        let found = db.locations_named("BOX 1", 100).await.unwrap();
        assert_eq!(found.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [deep]);
        assert_eq!(db.locations_named("tool", 1).await.unwrap().len(), 1);
        assert!(db.locations_named("  -- ", 10).await.unwrap().is_empty(), "no words, no hits");
        assert!(db.locations_named("drill", 10).await.unwrap().is_empty());
    }

    async fn categories_are_unique_and_deleting_one_keeps_its_items(db: &Database) {
        let (_, garage, _, _) = home(db).await;
        db.create_category("Tools", None).await.unwrap();
        assert_eq!(db.create_category("TOOLS", None).await.unwrap_err().kind(), ErrorKind::Conflict);
        db.create_item(&NewItem { category: Some("Tools".into()), ..NewItem::new("Saw", garage) }).await.unwrap();
        let listed = db.list_categories().await.unwrap();
        assert_eq!((listed[0].category.name.as_str(), listed[0].items), ("Tools", 1));
        db.delete_category("tools").await.unwrap();
        let items = db.list_items(&ItemFilter::default(), &PageRequest::default()).await.unwrap().items;
        assert_eq!(items[0].category, None);
        assert_eq!(db.delete_category("tools").await.unwrap_err().kind(), ErrorKind::NotFound);
    }

    async fn category_counts_follow_every_change_to_items(db: &Database) {
        let (_, garage, toolbox, kitchen) = home(db).await;
        for name in ["Tools", "Kitchenware", "Unused"] {
            db.create_category(name, None).await.unwrap();
        }
        let of = |c: &str| NewItem { category: Some(c.into()), ..NewItem::new(format!("{c} item"), toolbox) };
        let mut tools = Vec::new();
        for _ in 0..4 {
            tools.push(db.create_item(&of("Tools")).await.unwrap().id);
        }
        let pan = db.create_item(&NewItem { location_id: kitchen, ..of("Kitchenware") }).await.unwrap().id;
        db.create_item(&NewItem::new("Loose", garage)).await.unwrap();
        assert_counts(db, &[("Kitchenware", 1), ("Tools", 4), ("Unused", 0)]).await;
        // To another category, to none, and back from none.
        let to = |c: Option<&str>| ItemChanges { category: Some(c.map(Into::into)), ..Default::default() };
        db.update_item(tools[0], &to(Some("Kitchenware"))).await.unwrap();
        db.update_item(tools[1], &to(None)).await.unwrap();
        db.update_item(tools[1], &to(Some("Unused"))).await.unwrap();
        // A change of anything else, and moves, leave the counts.
        db.update_item(pan, &ItemChanges { name: Some("Pan".into()), ..Default::default() }).await.unwrap();
        db.move_items(&tools[2..], garage).await.unwrap();
        assert_counts(db, &[("Kitchenware", 2), ("Tools", 2), ("Unused", 1)]).await;
        db.delete_item(tools[3]).await.unwrap();
        assert_counts(db, &[("Kitchenware", 2), ("Tools", 1), ("Unused", 1)]).await;
        // Deleting the category leaves its items without one; the others keep their counts.
        db.delete_category("Unused").await.unwrap();
        assert_counts(db, &[("Kitchenware", 2), ("Tools", 1)]).await;
        // A location deleted with its items takes them off the counts.
        db.delete_location_with(garage, ItemsOnDelete::Delete).await.unwrap();
        assert_counts(db, &[("Kitchenware", 1), ("Tools", 0)]).await;
        // An import counts what it adds.
        let csv = "name,location,quantity,category\nKnife,My House / Kitchen,1,Kitchenware\nFork,My House / Kitchen,1,Cutlery\n";
        db.import_items_csv(&mut csv.as_bytes(), ImportOptions { create_locations: false }, &noop).await.unwrap();
        assert_counts(db, &[("Cutlery", 1), ("Kitchenware", 2), ("Tools", 0)]).await;
    }

    async fn deleting_a_large_subtree_keeps_search_and_counts_true(db: &Database) {
        let (house, garage, _, kitchen) = home(db).await;
        db.create_category("Tools", None).await.unwrap();
        let cabin = add(db, "Cabin", LocationType::House, None).await;
        let keeper = NewItem { category: Some("Tools".into()), ..NewItem::new("Keeper wrench", cabin) };
        let keeper = db.create_item(&keeper).await.unwrap().id;
        // 600 boxes in the garage with 1,500 wrenches, 1,000 drawers in the kitchen with a
        // spoon each: both subtrees large enough for the set-based delete on SQLite.
        let mut csv = String::from("name,location,quantity,category\n");
        for i in 0..1500 {
            csv.push_str(&format!("Wrench {i},My House / Garage / Box {},1,Tools\n", i % 600));
        }
        for i in 0..1000 {
            csv.push_str(&format!("Spoon {i},My House / Kitchen / Drawer {i},1,\n"));
        }
        let options = ImportOptions { create_locations: true };
        db.import_items_csv(&mut csv.as_bytes(), options, &noop).await.unwrap();
        assert_counts(db, &[("Tools", 1501)]).await;

        let gone = db.delete_location_with(garage, ItemsOnDelete::Delete).await.unwrap();
        assert_eq!((gone.locations_deleted, gone.items_affected), (602, 1500));
        assert_counts(db, &[("Tools", 1)]).await;
        let wrenches = db.search("wrench", 50).await.unwrap();
        assert_eq!(wrenches.iter().map(|h| h.id).collect::<Vec<_>>(), [keeper], "{wrenches:?}");
        assert!(db.search("box", 50).await.unwrap().is_empty(), "the boxes left the index");
        assert_search_index_has_no_stale_entries(db).await;

        let moved = db.delete_location_with(kitchen, ItemsOnDelete::MoveToParent).await.unwrap();
        assert_eq!((moved.locations_deleted, moved.items_affected), (1001, 1000));
        let spoon = db.search("spoon 999", 5).await.unwrap();
        assert_eq!(spoon.len(), 1, "{spoon:?}");
        assert_eq!(spoon[0].path, "My House", "the spoon moved up and is still found");
        assert!(db.search("drawer", 50).await.unwrap().is_empty());
        assert_search_index_has_no_stale_entries(db).await;
        let at_home = ItemFilter { location_id: Some(house), ..ItemFilter::default() };
        assert_eq!(db.list_items(&at_home, &PageRequest::first(2000)).await.unwrap().items.len(), 1000);

        // The triggers are back: a new item is found and counted, a rename is indexed.
        let spanner = NewItem { category: Some("Tools".into()), ..NewItem::new("Spanner", house) };
        let spanner = db.create_item(&spanner).await.unwrap().id;
        assert!(finds(db, "spanner", spanner).await);
        assert_counts(db, &[("Tools", 2)]).await;
        db.update_item(keeper, &ItemChanges { name: Some("Pliers".into()), ..Default::default() }).await.unwrap();
        assert!(finds(db, "pliers", keeper).await && !finds(db, "keeper", keeper).await);
        assert!(db.integrity(false).await.unwrap().is_clean());
    }

    async fn integrity_reports_a_category_count_that_went_wrong(db: &Database) {
        let (_, garage, _, _) = home(db).await;
        let tools = db.create_category("Tools", None).await.unwrap();
        db.create_category("Paint", None).await.unwrap();
        db.create_item(&NewItem { category: Some("Tools".into()), ..NewItem::new("Saw", garage) }).await.unwrap();
        let counts = |o: &inventory_db::ops::admin::IntegrityOutcome| {
            o.engine.iter().find(|c| c.name == "category_counts").cloned().unwrap()
        };
        let clean = db.integrity(false).await.unwrap();
        assert!(counts(&clean).ok && clean.is_clean(), "{clean:?}");
        // A write around the triggers (another program's SQL, say).
        db.execute_raw_for_tests(&format!("UPDATE categories SET item_count = 7 WHERE id = {}", tools.id))
            .await
            .unwrap();
        let outcome = db.integrity(false).await.unwrap();
        let found = counts(&outcome);
        assert_eq!(found.problems, [format!("category Tools (#{}) counts 7 item(s) but holds 1", tools.id)]);
        assert!(!outcome.is_clean());
    }

    async fn category_counts_stay_true_under_concurrent_writers(db: &Database) {
        let (_, garage, toolbox, _) = home(db).await;
        for name in ["Tools", "Paint"] {
            db.create_category(name, None).await.unwrap();
        }
        // Eight writers at once, each creating items in both categories in opposite orders,
        // swapping some between them, deleting others.
        let mut tasks = Vec::new();
        for w in 0..8i64 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let (first, second) = if w % 2 == 0 { ("Tools", "Paint") } else { ("Paint", "Tools") };
                for k in 0..6i64 {
                    let c = if k % 2 == 0 { first } else { second };
                    let at = if k % 3 == 0 { garage } else { toolbox };
                    let item = NewItem { category: Some(c.into()), ..NewItem::new(format!("W{w} {k}"), at) };
                    let id = db.create_item(&item).await.unwrap().id;
                    match k % 3 {
                        0 => {
                            let other = if c == "Tools" { "Paint" } else { "Tools" };
                            let change = ItemChanges { category: Some(Some(other.into())), ..Default::default() };
                            db.update_item(id, &change).await.unwrap();
                        }
                        1 => {
                            db.delete_item(id).await.unwrap();
                        }
                        _ => {}
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        for c in db.list_categories().await.unwrap() {
            assert_eq!(c.items, counted(db, &c.category.name).await, "{}", c.category.name);
        }
        let total: i64 = db.list_categories().await.unwrap().iter().map(|c| c.items).sum();
        assert_eq!(total, 8 * 4, "two of six items deleted per writer");
    }

    async fn users_have_hashed_passwords_and_unique_names(db: &Database) {
        let alice = db.create_user("alice", "correct horse battery", Role::Admin).await.unwrap();
        assert_eq!(alice.role, Role::Admin);
        assert_eq!(db.create_user("ALICE", "another password", Role::Viewer).await.unwrap_err().kind(), ErrorKind::Conflict);
        assert_eq!(db.create_user("bob", "short", Role::Member).await.unwrap_err().kind(), ErrorKind::Invalid);
        assert!(db.authenticate_password("alice", "correct horse battery").await.unwrap().is_some());
        assert!(db.authenticate_password("alice", "wrong").await.unwrap().is_none());
        assert!(db.authenticate_password("nobody", "whatever1").await.unwrap().is_none());
        db.set_password("Alice", "new secret phrase").await.unwrap();
        assert!(db.authenticate_password("alice", "new secret phrase").await.unwrap().is_some());
        let json = serde_json::to_string(&db.list_users().await.unwrap()).unwrap();
        assert!(!json.contains("argon2") && !json.contains("password"), "{json}");
    }

    async fn tokens_are_shown_once_stored_hashed_and_revocable(db: &Database) {
        db.create_user("alice", "correct horse battery", Role::Member).await.unwrap();
        let created = db.create_token("alice", Some("laptop")).await.unwrap();
        assert!(created.secret.starts_with("hinv_") && created.secret.len() > 40);
        let listed = db.list_tokens(None).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert!(!serde_json::to_string(&listed).unwrap().contains(&created.secret));
        let user = db.authenticate_token(&created.secret).await.unwrap().unwrap();
        assert_eq!(user.username, "alice");
        assert!(db.authenticate_token("hinv_forged").await.unwrap().is_none());
        db.revoke_token(created.token.id).await.unwrap();
        assert!(db.authenticate_token(&created.secret).await.unwrap().is_none());
        assert_eq!(db.revoke_token(424242).await.unwrap_err().kind(), ErrorKind::NotFound);
        db.delete_user("alice").await.unwrap();
        assert!(db.list_tokens(None).await.unwrap().is_empty(), "tokens go with their user");
    }

    async fn csv_export_import_into_an_empty_database_is_byte_identical(db: &Database) {
        let (_, garage, toolbox, kitchen) = home(db).await;
        let shelf = add(db, "Shelf 2", LocationType::Shelf, Some(kitchen)).await;
        db.create_category("Tools", None).await.unwrap();
        db.create_item(&NewItem {
            quantity: 3, category: Some("Tools".into()), description: Some("with a \"quoted\", comma".into()),
            notes: Some("line one\nline two".into()), serial_number: Some("S-1".into()),
            purchase_date: Some("2024-01-02".parse().unwrap()), purchase_price_cents: Some(1999),
            currency: Some("EUR".into()), warranty_expires: Some("2027-01-02".parse().unwrap()),
            ..NewItem::new("Screwdriver", toolbox)
        }).await.unwrap();
        db.create_item(&NewItem::new("Ladder", garage)).await.unwrap();
        db.create_item(&NewItem::new("Spices", shelf)).await.unwrap();
        let mut first = Vec::new();
        assert_eq!(db.export_items_csv(&mut first, &noop).await.unwrap(), 3);

        let fresh = inventory_db::testing::sqlite().await;
        let summary = fresh.db.import_items_csv(&mut first.as_slice(), ImportOptions { create_locations: true }, &noop).await.unwrap();
        assert_eq!((summary.items, summary.categories_created), (3, 1));
        let mut second = Vec::new();
        fresh.db.export_items_csv(&mut second, &noop).await.unwrap();
        assert_eq!(String::from_utf8(second).unwrap(), String::from_utf8(first.clone()).unwrap());
        let shelf_again = fresh.db.resolve_path("My House / Kitchen / Shelf 2").await.unwrap();
        assert_eq!(fresh.db.get_location(shelf_again).await.unwrap().location.location_type, LocationType::Shelf);
    }

    async fn a_bad_row_rejects_the_whole_import_with_its_line_number(db: &Database) {
        home(db).await;
        let csv = "name,quantity,location\nDrill,1,My House / Garage\nSaw,-2,My House / Garage\n";
        let err = db.import_items_csv(&mut csv.as_bytes(), ImportOptions::default(), &noop).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert!(err.to_string().starts_with("line 3:"), "{err}");
        assert!(all_items(db).await.is_empty());

        // A missing location is an error without --create-locations, found only while
        // writing: the rows before it are rolled back too.
        let csv = "name,location\nDrill,My House / Garage\nSaw,My House / Attic / Box\n";
        let before = location_count(db).await;
        let err = db.import_items_csv(&mut csv.as_bytes(), ImportOptions::default(), &noop).await.unwrap_err();
        assert!(err.to_string().contains("line 3") && err.to_string().contains("Attic"), "{err}");
        assert!(all_items(db).await.is_empty());
        assert_eq!(location_count(db).await, before);

        for (csv, expected) in [
            ("title,location\nx,y\n", "line 1: unknown column"),
            ("name\nx\n", "line 1: the header has no \"location\""),
            ("name,location,location_type\nx,My House,GARAGE\n", "line 2"),
            ("name,location,purchase_date\nx,My House,31.12.2024\n", "line 2"),
            ("name,location\nx,My House,extra\n", "line 2"),
        ] {
            let err = db.import_items_csv(&mut csv.as_bytes(), ImportOptions { create_locations: true }, &noop).await.unwrap_err();
            assert!(err.to_string().starts_with(expected), "{csv:?}: {err}");
        }
        assert!(all_items(db).await.is_empty());
        assert_eq!(location_count(db).await, before);
    }

    async fn import_creates_locations_by_depth_and_checks_type_rules(db: &Database) {
        let csv = "name,location,location_type\nBox of cables,Cabin / Loft / Crate / Bag,\nLamp,Cabin / Loft,SHELF\n";
        let err = db.import_items_csv(&mut csv.as_bytes(), ImportOptions { create_locations: true }, &noop).await.unwrap_err();
        assert!(err.to_string().contains("line 3"), "a SHELF at depth 1 breaks a rule: {err}");
        assert_eq!(location_count(db).await, 0);
        let csv = "name,location\nBox of cables,Cabin / Loft / Crate / Bag\n";
        let s = db.import_items_csv(&mut csv.as_bytes(), ImportOptions { create_locations: true }, &noop).await.unwrap();
        assert_eq!(s.locations_created, 4);
        let id = db.resolve_path("cabin/loft/crate/bag").await.unwrap();
        assert_eq!(db.get_location(id).await.unwrap().location.location_type, LocationType::Container);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn referential_errors_do_not_leak_as_internal() {
    let t = inventory_db::testing::sqlite().await;
    let err = t.db.delete_category("missing").await.unwrap_err();
    assert!(matches!(err, DbError::NotFound { .. }));
}

/// How many items `category` holds, counted item by item.
async fn counted(db: &Database, category: &str) -> i64 {
    let filter = ItemFilter {
        category: Some(category.into()),
        ..ItemFilter::default()
    };
    db.list_items(&filter, &PageRequest::first(10_000))
        .await
        .unwrap()
        .items
        .len() as i64
}

/// Every category's listed count is `expected`, and what its items, counted, say.
async fn assert_counts(db: &Database, expected: &[(&str, i64)]) {
    let listed = db.list_categories().await.unwrap();
    let got: Vec<(&str, i64)> = listed
        .iter()
        .map(|c| (c.category.name.as_str(), c.items))
        .collect();
    assert_eq!(got, expected);
    for c in &listed {
        assert_eq!(
            c.items,
            counted(db, &c.category.name).await,
            "{}",
            c.category.name
        );
    }
}

/// Whether `search` finds the item `id` for `text`.
async fn finds(db: &Database, text: &str, id: i64) -> bool {
    db.search(text, 10)
        .await
        .unwrap()
        .iter()
        .any(|h| h.kind == "item" && h.id == id)
}

/// On SQLite, the search index holds one entry per location and item, none of a deleted
/// row (search itself never shows such an entry: it joins the rows).
async fn assert_search_index_has_no_stale_entries(db: &Database) {
    if db.backend() != inventory_db::Backend::Sqlite {
        return;
    }
    let stale = db
        .query_text_for_tests(
            "SELECT CAST(count(*) AS TEXT) AS v FROM search_fts \
             WHERE (kind = 'item' AND ref_id NOT IN (SELECT id FROM items)) \
                OR (kind = 'location' AND ref_id NOT IN (SELECT id FROM locations))",
        )
        .await
        .unwrap();
    assert_eq!(
        stale,
        ["0"],
        "entries of deleted rows are left in the search index"
    );
}
