//! The kept subtree totals (`location_totals`): after every kind of write, each location's
//! totals here-and-below equal its subtree's items added up one location at a time, and
//! `db integrity --full` is clean; a total changed around the program is reported. The same
//! bodies on both backends.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};

use inventory_core::generate::{home_data, HomeSpec};
use inventory_core::LocationType::{self, Container, House, Room, Shelf};
use inventory_db::backup::Progress;
use inventory_db::csv_io::ImportOptions;
use inventory_db::{
    backend_tests, Database, ItemChanges, ItemSummary, ItemsOnDelete, LocationFilter, NewItem,
    NewLocation, PageRequest,
};

fn quiet() -> Progress<'static> {
    &|_, _| {}
}

async fn add(db: &Database, name: &str, t: LocationType, parent: Option<i64>) -> i64 {
    let new = NewLocation {
        name: name.into(),
        description: None,
        location_type: t,
        parent_id: parent,
    };
    db.create_location(&new).await.unwrap().id
}

async fn item(
    db: &Database,
    name: &str,
    at: i64,
    quantity: i64,
    price: Option<(i64, &str)>,
) -> i64 {
    let new = NewItem {
        quantity,
        purchase_price_cents: price.map(|p| p.0),
        currency: price.map(|p| p.1.to_string()),
        ..NewItem::new(name, at)
    };
    db.create_item(&new).await.unwrap().id
}

/// A summary as plain numbers: items, quantity, cents per currency.
type Sums = (i64, i64, BTreeMap<String, i128>);

fn sums(summary: &ItemSummary) -> Sums {
    let value = summary
        .value
        .iter()
        .map(|v| (v.currency.clone(), v.cents))
        .collect();
    (summary.items, summary.total_quantity, value)
}

/// Every location's summary here-and-below is the sum of the direct summaries of the
/// locations in its subtree; the full integrity check (which checks the kept rows) is clean.
async fn assert_totals_true(db: &Database) {
    let rows = db.location_rows().await.unwrap();
    let parent: HashMap<i64, Option<i64>> = rows.iter().map(|r| (r.id, r.parent_id)).collect();
    let mut expected: HashMap<i64, Sums> = HashMap::new();
    for r in &rows {
        let (items, quantity, value) = sums(&db.item_summary(r.id, false).await.unwrap());
        let mut at = Some(r.id);
        while let Some(id) = at {
            let e = expected.entry(id).or_default();
            e.0 += items;
            e.1 += quantity;
            for (currency, cents) in &value {
                *e.2.entry(currency.clone()).or_default() += cents;
            }
            at = parent[&id];
        }
    }
    for r in &rows {
        let kept = sums(&db.item_summary(r.id, true).await.unwrap());
        let want = expected.remove(&r.id).unwrap_or_default();
        assert_eq!(kept, want, "location #{} {:?}", r.id, r.name);
    }
    let outcome = db.integrity(true).await.unwrap();
    assert!(outcome.is_clean(), "{outcome:?}");
}

async fn below(db: &Database, id: i64) -> Sums {
    sums(&db.item_summary(id, true).await.unwrap())
}

/// House > Garage > Toolbox > Drawer, House > Kitchen > Shelf, Cabin > Attic.
struct Home {
    house: i64,
    garage: i64,
    toolbox: i64,
    drawer: i64,
    kitchen: i64,
    shelf: i64,
    cabin: i64,
    attic: i64,
}

async fn home(db: &Database) -> Home {
    let house = add(db, "My House", House, None).await;
    let garage = add(db, "Garage", Room, Some(house)).await;
    let toolbox = add(db, "Toolbox", Container, Some(garage)).await;
    let drawer = add(db, "Drawer", Container, Some(toolbox)).await;
    let kitchen = add(db, "Kitchen", Room, Some(house)).await;
    let shelf = add(db, "Shelf", Shelf, Some(kitchen)).await;
    let cabin = add(db, "Cabin", House, None).await;
    let attic = add(db, "Attic", Room, Some(cabin)).await;
    Home {
        house,
        garage,
        toolbox,
        drawer,
        kitchen,
        shelf,
        cabin,
        attic,
    }
}

/// Deletes every house with its items.
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
}

fn noop(_: u64, _: u64) {}

backend_tests! {
    async fn totals_follow_every_item_write(db: &Database) {
        let h = home(db).await;
        assert_totals_true(db).await;
        let drill = item(db, "Drill", h.toolbox, 2, Some((8990, "EUR"))).await;
        let screws = item(db, "Screws", h.drawer, 100, Some((5, "EUR"))).await;
        let saw = item(db, "Saw", h.garage, 1, Some((1500, "USD"))).await;
        let pan = item(db, "Pan", h.shelf, 1, None).await;
        item(db, "Doormat", h.house, 1, Some((1000, "EUR"))).await;
        item(db, "Nothing", h.attic, 0, None).await;
        assert_totals_true(db).await;
        let eur = |c: i128| BTreeMap::from([("EUR".to_string(), c)]);
        assert_eq!(below(db, h.toolbox).await, (2, 102, eur(17980 + 500)));
        assert_eq!(below(db, h.attic).await, (1, 0, BTreeMap::new()));

        // Quantity, price, currency, no price, and back.
        db.update_item(drill, &ItemChanges { quantity: Some(3), ..Default::default() }).await.unwrap();
        assert_totals_true(db).await;
        let priced = |p: Option<(i64, &str)>| ItemChanges {
            price: Some(p.map(|(cents, c)| (cents, c.to_string()))),
            ..Default::default()
        };
        db.update_item(screws, &priced(Some((7, "USD")))).await.unwrap();
        db.update_item(saw, &priced(None)).await.unwrap();
        db.update_item(pan, &priced(Some((2500, "GBP")))).await.unwrap();
        assert_totals_true(db).await;
        // A change of anything else leaves the totals as they are.
        let before = below(db, h.house).await;
        db.update_item(pan, &ItemChanges { name: Some("Frying pan".into()), ..Default::default() }).await.unwrap();
        assert_eq!(below(db, h.house).await, before);

        // Moves: within the house, to the other house, many at once, onto the same place.
        db.move_item(screws, h.kitchen).await.unwrap();
        db.move_item(drill, h.attic).await.unwrap();
        db.move_items(&[pan, saw, screws], h.drawer).await.unwrap();
        db.move_items(&[pan, saw], h.drawer).await.unwrap();
        assert_totals_true(db).await;

        db.delete_item(saw).await.unwrap();
        db.delete_item(drill).await.unwrap();
        assert_totals_true(db).await;
        assert_eq!(below(db, h.cabin).await, (1, 0, BTreeMap::new()));
    }

    async fn totals_follow_location_moves_and_deletes(db: &Database) {
        let h = home(db).await;
        item(db, "Drill", h.toolbox, 2, Some((8990, "EUR"))).await;
        item(db, "Screws", h.drawer, 100, Some((5, "EUR"))).await;
        item(db, "Pan", h.shelf, 1, Some((2500, "GBP"))).await;
        item(db, "Rope", h.garage, 1, None).await;
        // A subtree with its items to the other house, into a shelf, and back.
        db.move_location(h.toolbox, Some(h.attic)).await.unwrap();
        assert_totals_true(db).await;
        db.move_location(h.toolbox, Some(h.shelf)).await.unwrap();
        db.move_location(h.drawer, Some(h.garage)).await.unwrap();
        assert_totals_true(db).await;
        // A whole room to the other house.
        db.move_location(h.kitchen, Some(h.cabin)).await.unwrap();
        assert_totals_true(db).await;
        // A refused move changes nothing.
        assert!(db.move_location(h.kitchen, Some(h.toolbox)).await.is_err());
        assert_totals_true(db).await;
        // A new empty location has nothing below it.
        let empty = add(db, "Bin", Container, Some(h.garage)).await;
        assert_eq!(below(db, empty).await, (0, 0, BTreeMap::new()));

        // Deleting with the items moved up, then with the items deleted.
        db.delete_location_with(h.toolbox, ItemsOnDelete::MoveToParent).await.unwrap();
        assert_totals_true(db).await;
        assert_eq!(below(db, h.shelf).await.0, 2, "drill and pan on the shelf now");
        db.delete_location_with(h.kitchen, ItemsOnDelete::Delete).await.unwrap();
        assert_totals_true(db).await;
        assert_eq!(below(db, h.cabin).await, (0, 0, BTreeMap::new()));
        assert_eq!(below(db, h.house).await.0, 2, "screws and rope are left");

        // Subtrees large enough for SQLite's set-based delete: 600 boxes with 1,200 items.
        let mut csv = String::from("name,location,quantity,purchase_price,currency\n");
        for i in 0..1200 {
            csv.push_str(&format!("Nail {i},My House / Garage / Box {},3,0.02,EUR\n", i % 600));
        }
        for i in 0..600 {
            csv.push_str(&format!("Cup {i},Cabin / Attic / Crate {i},1,,\n"));
        }
        let options = ImportOptions { create_locations: true };
        db.import_items_csv(&mut csv.as_bytes(), options, &noop).await.unwrap();
        assert_totals_true(db).await;
        let gone = db.delete_location_with(h.garage, ItemsOnDelete::Delete).await.unwrap();
        assert_eq!(gone.items_affected, 1202);
        let moved = db.delete_location_with(h.attic, ItemsOnDelete::MoveToParent).await.unwrap();
        assert_eq!(moved.items_affected, 600);
        assert_totals_true(db).await;
        assert_eq!(below(db, h.cabin).await, (600, 600, BTreeMap::new()));
        assert_eq!(below(db, h.house).await, (0, 0, BTreeMap::new()));
    }

    async fn totals_follow_import_restore_and_bulk_load(db: &Database) {
        let h = home(db).await;
        let csv = "name,location,quantity,purchase_price,currency\n\
                   Knife,My House / Kitchen,4,12.50,EUR\n\
                   Fork,My House / Kitchen / Shelf,6,3.00,EUR\n\
                   Lamp,Cabin / Attic / Chest,1,99.00,USD\n";
        let options = ImportOptions { create_locations: true };
        db.import_items_csv(&mut csv.as_bytes(), options, &noop).await.unwrap();
        assert_totals_true(db).await;
        assert_eq!(below(db, h.house).await, (2, 10, BTreeMap::from([("EUR".into(), 5000 + 1800)])));

        // Restore: the totals are those of the restored rows, not of what was there.
        let mut backup = Vec::new();
        db.write_backup(&mut backup, quiet()).await.unwrap();
        let kept = below(db, h.cabin).await;
        empty_out(db).await;
        let elsewhere = add(db, "Elsewhere", House, None).await;
        item(db, "Stray", elsewhere, 9, Some((1, "CHF"))).await;
        db.restore_backup(&mut std::io::Cursor::new(&backup), quiet()).await.unwrap();
        assert_eq!(below(db, h.cabin).await, kept);
        assert_totals_true(db).await;

        // The bulk path computes them once, after the rows.
        empty_out(db).await;
        let data = home_data(&HomeSpec { locations: 400, items: 1500, seed: 7 });
        db.bulk_load(&data, quiet()).await.unwrap();
        assert_totals_true(db).await;
        let total = below(db, data.locations[0].id).await;
        assert!(total.0 > 0, "the first house holds items: {total:?}");
    }

    async fn totals_beyond_64_bits_stay_exact(db: &Database) {
        let h = home(db).await;
        // 10^12 cents × 10^9, 20 times: 2·10^22 cents, far past what 64 bits hold.
        let mut bars = Vec::new();
        for n in 0..20 {
            bars.push(item(db, &format!("Bar {n}"), h.drawer, 1_000_000_000, Some((1_000_000_000_000, "CHF"))).await);
        }
        let each = 1_000_000_000_000i128 * 1_000_000_000;
        let chf = |n: i128| BTreeMap::from([("CHF".to_string(), n * each)]);
        assert_eq!(below(db, h.house).await, (20, 20_000_000_000, chf(20)));
        assert_totals_true(db).await;
        db.move_location(h.toolbox, Some(h.attic)).await.unwrap();
        db.delete_item(bars[0]).await.unwrap();
        db.move_items(&bars[1..3], h.kitchen).await.unwrap();
        assert_eq!(below(db, h.cabin).await, (17, 17_000_000_000, chf(17)));
        assert_eq!(below(db, h.house).await, (2, 2_000_000_000, chf(2)));
        assert_totals_true(db).await;
        // A restore computes them again from its rows, as exactly.
        let mut backup = Vec::new();
        db.write_backup(&mut backup, quiet()).await.unwrap();
        db.restore_backup(&mut std::io::Cursor::new(&backup), quiet()).await.unwrap();
        assert_eq!(below(db, h.cabin).await, (17, 17_000_000_000, chf(17)));
        assert_totals_true(db).await;
        db.delete_location_with(h.toolbox, ItemsOnDelete::Delete).await.unwrap();
        assert_eq!(below(db, h.cabin).await, (0, 0, BTreeMap::new()));
        assert_totals_true(db).await;
    }

    async fn a_delete_counts_items_by_the_kept_totals_and_wrong_ones_lose_nothing(db: &Database) {
        let h = home(db).await;
        item(db, "Drill", h.drawer, 2, Some((8990, "EUR"))).await;
        item(db, "Saw", h.toolbox, 1, None).await;
        let err = db.delete_location(h.garage).await.unwrap_err();
        assert!(matches!(err, inventory_db::DbError::ItemsInside { items: 2, .. }), "{err:?}");
        // Kept rows that went wrong (another program's SQL, say) say the garage is empty:
        // the items' key still refuses to delete it, whatever the caller asked for.
        db.execute_raw_for_tests(&format!(
            "DELETE FROM location_totals WHERE location_id = {}",
            h.garage
        ))
        .await
        .unwrap();
        for mode in [ItemsOnDelete::Refuse, ItemsOnDelete::Delete, ItemsOnDelete::MoveToParent] {
            let err = db.delete_location_with(h.garage, mode).await.unwrap_err();
            assert!(matches!(err, inventory_db::DbError::ItemsInside { .. }), "{mode:?}: {err:?}");
        }
        assert_eq!(db.item_summary(h.toolbox, true).await.unwrap().items, 2);
        assert!(db.get_location(h.drawer).await.is_ok());
    }

    async fn a_large_delete_with_wrong_kept_totals_loses_no_item(db: &Database) {
        // A house of 2,000 locations: the set-based path of a large delete on SQLite.
        let data = home_data(&HomeSpec { locations: 20_000, items: 2_000, seed: 11 });
        db.bulk_load(&data, quiet()).await.unwrap();
        let (house, size) = data.largest_house().unwrap();
        assert!(size >= 2_000, "{size}");
        let held = db.item_summary(house, true).await.unwrap().items;
        assert!(held > 0);
        db.execute_raw_for_tests(&format!("DELETE FROM location_totals WHERE location_id = {house}"))
            .await
            .unwrap();
        for mode in [ItemsOnDelete::Refuse, ItemsOnDelete::Delete] {
            let err = db.delete_location_with(house, mode).await.unwrap_err();
            assert!(matches!(err, inventory_db::DbError::ItemsInside { .. }), "{mode:?}: {err:?}");
        }
        let rows = db.stats().await.unwrap().tables;
        let count = |table: &str| rows.iter().find(|t| t.table == table).unwrap().rows as usize;
        assert_eq!((count("locations"), count("items")), (data.locations.len(), data.items.len()));
    }

    async fn integrity_reports_a_kept_total_that_went_wrong(db: &Database) {
        let h = home(db).await;
        item(db, "Drill", h.toolbox, 2, Some((8990, "EUR"))).await;
        assert_totals_true(db).await;
        // Writes around the program (another program's SQL, say).
        db.execute_raw_for_tests(&format!(
            "UPDATE location_totals SET items = 7 WHERE location_id = {}; \
             DELETE FROM location_totals WHERE location_id = {}",
            h.toolbox, h.house
        ))
        .await
        .unwrap();
        let outcome = db.integrity(true).await.unwrap();
        assert!(!outcome.is_clean());
        let check = outcome.engine.iter().find(|c| c.name == "location_totals").unwrap();
        assert_eq!(
            check.problems,
            [
                format!("location #{} (EUR) keeps 0 item(s) of quantity 0 but holds 1 of quantity 2 in its subtree, and the value differs", h.house),
                format!("location #{} (EUR) keeps 1 item(s) of quantity 2 but holds 7 of quantity 2 in its subtree", h.garage),
                format!("location #{} (EUR) keeps 7 item(s) of quantity 2 but holds 1 of quantity 2 in its subtree", h.toolbox),
            ]
        );
    }

    async fn totals_stay_true_under_concurrent_writers(db: &Database) {
        let h = home(db).await;
        let places = [h.garage, h.toolbox, h.drawer, h.kitchen, h.shelf, h.attic];
        // Eight item writers (creating, changing, moving and deleting items all over both
        // houses) beside two that move the toolbox and the shelf between rooms and houses.
        let mut tasks = Vec::new();
        for w in 0..8usize {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                for k in 0..8usize {
                    let at = places[(w + k) % places.len()];
                    let price = if k % 3 == 0 { None } else { Some((100 + k as i64, if w % 2 == 0 { "EUR" } else { "USD" })) };
                    let id = item(&db, &format!("W{w} {k}"), at, 1 + k as i64, price).await;
                    match k % 4 {
                        0 => {
                            db.update_item(id, &ItemChanges { quantity: Some(10), ..Default::default() }).await.unwrap();
                        }
                        1 => {
                            db.move_item(id, places[(w + k + 3) % places.len()]).await.unwrap();
                        }
                        2 => {
                            db.delete_item(id).await.unwrap();
                        }
                        _ => {}
                    }
                }
            }));
        }
        for mover in 0..2usize {
            let db = db.clone();
            let (what, to) = if mover == 0 {
                (h.toolbox, [h.kitchen, h.attic, h.garage])
            } else {
                (h.shelf, [h.garage, h.attic, h.kitchen])
            };
            tasks.push(tokio::spawn(async move {
                for k in 0..9 {
                    db.move_location(what, Some(to[k % to.len()])).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_totals_true(db).await;
        let house = below(db, h.house).await.0;
        let cabin = below(db, h.cabin).await.0;
        assert_eq!(house + cabin, 8 * 6, "two of eight items deleted per writer");
    }
}
