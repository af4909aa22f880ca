//! Round trips as properties (PRODUCT §9): random homes — location trees with moves and
//! renames, categories, items with every field, users and tokens — written with hostile
//! text (combining marks, right-to-left scripts, emoji, case folds such as the Kelvin sign,
//! ß and final sigma, SQL-looking and CSV-hostile text) survive
//!
//! - backup → restore → backup byte for byte, on each backend, into a fresh database and
//!   over the data itself;
//! - backup SQLite → PostgreSQL → SQLite byte for byte;
//! - CSV export → import (creating locations, into an empty database) → export byte for
//!   byte, on each backend and from SQLite into PostgreSQL.
//!
//! Case counts are small (each case makes several databases); `PROPTEST_CASES` raises them.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::sync::LazyLock;

use chrono::NaiveDate;
use inventory_core::{name_key, validate_location_name, LocationType, Role};
use inventory_db::backup::Progress;
use inventory_db::csv_io::ImportOptions;
use inventory_db::testing::{postgres, sqlite, TestDb};
use inventory_db::{Database, ErrorKind, NewItem, NewLocation, TokenSpec, TxMode};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

static RT: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
});

fn quiet() -> Progress<'static> {
    &|_, _| {}
}

/// The password of every generated user.
const PASSWORD: &str = "correct horse battery staple";

/// One argon2 hash of [`PASSWORD`], made once: generated users are written with it through
/// the library's insert (hashing per user would make every case slow).
static HASH: LazyLock<String> = LazyLock::new(|| {
    // First used inside a test's `block_on`: make it on a runtime of its own.
    let make = || async {
        let t = sqlite().await;
        t.db.create_user("hash-source", PASSWORD, Role::Viewer)
            .await
            .unwrap();
        let bytes = backup(&t.db).await;
        let text = String::from_utf8(bytes).unwrap();
        let row = text
            .lines()
            .find(|l| l.contains("\"hash-source\""))
            .unwrap();
        let row: Vec<serde_json::Value> = serde_json::from_str(row).unwrap();
        row.iter()
            .find_map(|v| v.as_str().filter(|s| s.starts_with("$argon2")))
            .unwrap()
            .to_string()
    };
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
            .block_on(make())
    })
    .join()
    .unwrap()
});

// ---------------------------------------------------------------------------------------
// Text.

/// Pieces of text that break naive code: case folds that change length (ß, ﬃ), the
/// Kelvin and Ohm signs, final sigma, a dotted capital I, combining marks (alone, too),
/// right-to-left scripts and marks, emoji with modifiers and joiners, a byte-order mark,
/// a line separator, no-break spaces, SQL and CSV syntax, formula starters, quotes.
const PIECES: &[&str] = &[
    "Box",
    "a",
    "Z",
    "7",
    " ",
    "  ",
    "é",
    "e\u{301}",
    "\u{301}",
    "\u{212A}",
    "K",
    "ß",
    "ẞ",
    "SS",
    "ς",
    "σ",
    "Σ",
    "İ",
    "ﬃ",
    "\u{2126}",
    "ǅ",
    "שלום",
    "مرحبا",
    "\u{200F}",
    "\u{202E}",
    "👍🏽",
    "👨\u{200D}👩\u{200D}👧",
    "🏠",
    "日本語",
    "\u{FEFF}",
    "\u{2028}",
    "\u{A0}",
    "'; DROP TABLE locations; --",
    "\" OR 1=1 --",
    "\"",
    "'",
    ",",
    "=",
    "+",
    "-",
    "@",
    "=SUM(A1:A9)",
    "@cmd|' /C calc'!A0",
    "\\",
    "%",
    "_",
    "NULL",
    "#",
    "\\N",
    "${x}",
    "<b>",
];

/// What a description or note may hold on top: line breaks and tabs.
const MULTILINE: &[&str] = &["\n", "\r\n", "\t", "\r", "\n\n"];

fn text(max_pieces: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 1..=max_pieces).prop_map(|p| p.concat())
}

fn multiline(max_pieces: usize) -> impl Strategy<Value = String> {
    let all: Vec<&'static str> = PIECES.iter().chain(MULTILINE).copied().collect();
    prop::collection::vec(prop::sample::select(all), 1..=max_pieces).prop_map(|p| p.concat())
}

/// A name that passes the location-name validator (no `/`; at most 255 characters;
/// not blank): `raw` when it does, else a plain fallback.
fn location_name(raw: &str, fallback: usize) -> String {
    match validate_location_name(raw) {
        Ok(_) => raw.to_string(),
        Err(_) => format!("Place {fallback}"),
    }
}

/// `name`, made unique among `taken` (keys by `name_key`) by a suffix when needed.
fn unique(name: String, taken: &mut HashSet<String>, n: usize) -> String {
    let mut candidate = name;
    let mut round = 0;
    while !taken.insert(name_key(&candidate)) {
        round += 1;
        let stem: String = candidate.trim().chars().take(200).collect();
        candidate = format!("{stem} ~{n}.{round}");
    }
    candidate
}

// ---------------------------------------------------------------------------------------
// A home.

#[derive(Clone, Debug)]
struct PlannedLocation {
    parent: Option<usize>,
    name: String,
    description: Option<String>,
    /// Under a ROOM or CONTAINER: a SHELF rather than a CONTAINER.
    shelf: bool,
}

#[derive(Clone, Debug)]
struct PlannedItem {
    location: Index,
    name: String,
    quantity: i64,
    category: Option<Index>,
    description: Option<String>,
    notes: Option<String>,
    serial: Option<String>,
    price: Option<(i64, &'static str)>,
    purchased: Option<NaiveDate>,
    /// Days from the purchase (or from 2000-01-01) to the end of the warranty.
    warranty_days: Option<u16>,
}

#[derive(Clone, Debug)]
struct PlannedUser {
    name: String,
    role: Role,
    /// Label, read-only scope, expiry (microseconds after 2030-01-01).
    tokens: Vec<(Option<String>, bool, Option<i64>)>,
}

/// Everything a generated home holds, and what is done to it after creation.
#[derive(Clone, Debug)]
struct Home {
    locations: Vec<PlannedLocation>,
    categories: Vec<(String, Option<String>)>,
    items: Vec<PlannedItem>,
    users: Vec<PlannedUser>,
    /// Attempted moves (location, new parent); refused ones (cycle, type rule, name) are
    /// part of the story.
    moves: Vec<(Index, Index)>,
    /// Locations renamed after the moves.
    renames: Vec<(Index, String)>,
    /// Every n-th item is deleted again (so that ids have gaps).
    delete_every: usize,
}

fn date() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![
        8 => (1950i32..2100, 1u32..=12, 1u32..=28),
        1 => Just((1, 1, 1)),
        1 => Just((9999, 12, 31)),
        1 => (2000i32..2030, Just(2), Just(29)),
    ]
    .prop_map(|(y, m, d)| {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap_or_else(|| NaiveDate::from_ymd_opt(y, m, 28).unwrap())
    })
}

fn item() -> impl Strategy<Value = PlannedItem> {
    (
        any::<Index>(),
        text(6),
        prop_oneof![6 => 0i64..20, 1 => Just(0), 1 => Just(inventory_core::item::QUANTITY_MAX), 1 => 0i64..1_000_000_000],
        prop::option::of(any::<Index>()),
        prop::option::of(multiline(8)),
        prop::option::of(multiline(12)),
        prop::option::of(text(4)),
        prop::option::of((
            prop_oneof![4 => 0i64..100_000, 1 => Just(0), 1 => Just(inventory_core::item::PRICE_MAX_CENTS)],
            prop::sample::select(vec!["EUR", "USD", "CHF", "JPY"]),
        )),
        prop::option::of(date()),
        prop::option::of(0u16..4000),
    )
        .prop_map(
            |(location, name, quantity, category, description, notes, serial, price, purchased, warranty_days)| PlannedItem {
                location,
                name,
                quantity,
                category,
                description,
                notes,
                serial,
                price,
                purchased,
                warranty_days,
            },
        )
}

fn username() -> impl Strategy<Value = String> {
    let chars = prop::sample::select(vec![
        "a", "b", "Z", "0", ".", "_", "-", "ß", "\u{212A}", "é", "Σ", "ς", "日", "ǅ",
    ]);
    prop::collection::vec(chars, 1..12).prop_map(|c| c.concat())
}

fn home(max_locations: usize, max_items: usize) -> impl Strategy<Value = Home> {
    let locations = prop::collection::vec(
        (
            any::<Index>(),
            prop::bool::weighted(0.1),
            text(5),
            prop::option::of(multiline(6)),
            any::<bool>(),
        ),
        1..=max_locations,
    );
    let categories = prop::collection::vec((text(4), prop::option::of(multiline(5))), 0..4);
    let items = prop::collection::vec(item(), 0..=max_items);
    let users = prop::collection::vec(
        (
            username(),
            prop::sample::select(Role::ALL.to_vec()),
            prop::collection::vec(
                (
                    prop::option::of(multiline(4)),
                    any::<bool>(),
                    prop::option::of(0i64..10_000_000_000_000),
                ),
                0..3,
            ),
        ),
        0..3,
    );
    let moves = prop::collection::vec((any::<Index>(), any::<Index>()), 0..8);
    let renames = prop::collection::vec((any::<Index>(), text(4)), 0..4);
    (
        locations,
        categories,
        items,
        users,
        moves,
        renames,
        2usize..6,
    )
        .prop_map(
            |(raw_locations, raw_categories, items, raw_users, moves, renames, delete_every)| {
                let mut locations: Vec<PlannedLocation> = Vec::new();
                let mut taken: Vec<HashSet<String>> = Vec::new();
                let mut roots = HashSet::new();
                for (i, (parent, root, name, description, shelf)) in
                    raw_locations.into_iter().enumerate()
                {
                    let parent = (i > 0 && !root).then(|| parent.index(i));
                    let name = location_name(&name, i);
                    let siblings = match parent {
                        Some(p) => &mut taken[p],
                        None => &mut roots,
                    };
                    let name = unique(name, siblings, i);
                    taken.push(HashSet::new());
                    locations.push(PlannedLocation {
                        parent,
                        name,
                        description,
                        shelf,
                    });
                }
                let mut category_keys = HashSet::new();
                let categories = raw_categories
                    .into_iter()
                    .enumerate()
                    .filter_map(|(i, (name, description))| {
                        inventory_core::validate_category_name(&name).ok()?;
                        Some((unique(name, &mut category_keys, i), description))
                    })
                    .collect();
                let mut user_keys = HashSet::new();
                let users = raw_users
                    .into_iter()
                    .enumerate()
                    .filter_map(|(i, (name, role, tokens))| {
                        inventory_core::validate_username(&name).ok()?;
                        if !user_keys.insert(name_key(&name)) {
                            let name = format!("{name}{i}");
                            user_keys.insert(name_key(&name)).then_some(PlannedUser {
                                name,
                                role,
                                tokens,
                            })
                        } else {
                            Some(PlannedUser { name, role, tokens })
                        }
                    })
                    .collect();
                Home {
                    locations,
                    categories,
                    items,
                    users,
                    moves,
                    renames,
                    delete_every,
                }
            },
        )
}

/// The type a planned location gets under a parent of `parent` type.
fn type_under(parent: Option<LocationType>, shelf: bool) -> LocationType {
    match parent {
        None => LocationType::House,
        Some(LocationType::House) => LocationType::Room,
        Some(LocationType::Shelf) => LocationType::Container,
        Some(_) if shelf => LocationType::Shelf,
        Some(_) => LocationType::Container,
    }
}

/// Writes `home` into `db` through the library's write paths. Returns how many items are
/// left.
async fn fill(db: &Database, home: &Home) -> Result<usize, TestCaseError> {
    let mut ids = Vec::new();
    let mut types = Vec::new();
    for planned in &home.locations {
        let parent_type = planned.parent.map(|p| types[p]);
        let kind = type_under(parent_type, planned.shelf);
        let created = db
            .create_location(&NewLocation {
                name: planned.name.clone(),
                description: planned.description.clone(),
                location_type: kind,
                parent_id: planned.parent.map(|p| ids[p]),
            })
            .await
            .map_err(|e| TestCaseError::fail(format!("create location {planned:?}: {e}")))?;
        ids.push(created.id);
        types.push(kind);
    }
    for (moved, target) in &home.moves {
        let (moved, target) = (ids[moved.index(ids.len())], ids[target.index(ids.len())]);
        match db.move_location(moved, Some(target)).await {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Conflict => {}
            Err(e) => {
                return Err(TestCaseError::fail(format!(
                    "move {moved} under {target}: {e}"
                )))
            }
        }
    }
    for (i, (which, name)) in home.renames.iter().enumerate() {
        let id = ids[which.index(ids.len())];
        let changes = inventory_db::LocationChanges {
            name: Some(location_name(name, 1000 + i)),
            ..Default::default()
        };
        match db.update_location(id, &changes).await {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Conflict => {}
            Err(e) => return Err(TestCaseError::fail(format!("rename {id}: {e}"))),
        }
    }
    for (name, description) in &home.categories {
        db.create_category(name, description.as_deref())
            .await
            .map_err(|e| TestCaseError::fail(format!("create category {name:?}: {e}")))?;
    }
    let mut item_ids = Vec::new();
    for planned in &home.items {
        let category = match (planned.category, home.categories.is_empty()) {
            (Some(c), false) => Some(home.categories[c.index(home.categories.len())].0.clone()),
            _ => None,
        };
        let warranty = planned.warranty_days.map(|days| {
            let from = planned
                .purchased
                .unwrap_or(NaiveDate::from_ymd_opt(2000, 1, 1).unwrap());
            from.checked_add_days(chrono::Days::new(u64::from(days)))
                .unwrap_or(from)
        });
        let new = NewItem {
            quantity: planned.quantity,
            category,
            description: planned.description.clone(),
            notes: planned.notes.clone(),
            serial_number: planned.serial.clone(),
            purchase_date: planned.purchased,
            purchase_price_cents: planned.price.map(|p| p.0),
            currency: planned.price.map(|p| p.1.to_string()),
            warranty_expires: warranty,
            ..NewItem::new(planned.name.clone(), ids[planned.location.index(ids.len())])
        };
        match db.create_item(&new).await {
            Ok(item) => item_ids.push(item.id),
            // A generated name or serial that the validators refuse (a control character
            // cannot occur, but a blank one can): the item is simply not there.
            Err(e) if e.kind() == ErrorKind::Invalid => {}
            Err(e) => return Err(TestCaseError::fail(format!("create item {new:?}: {e}"))),
        }
    }
    let mut left = item_ids.len();
    for (i, id) in item_ids.iter().enumerate() {
        if i % home.delete_every == home.delete_every - 1 {
            db.delete_item(*id)
                .await
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            left -= 1;
        }
    }
    for user in &home.users {
        let hash = HASH.clone();
        let created = db
            .transaction(TxMode::Write, async |c| {
                inventory_db::ops::users::create_user(c, &user.name, hash, user.role).await
            })
            .await
            .map_err(|e| TestCaseError::fail(format!("create user {:?}: {e}", user.name)))?;
        for (label, read, expires) in &user.tokens {
            let base = NaiveDate::from_ymd_opt(2030, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc();
            let spec = TokenSpec {
                label: label.clone(),
                scope: if *read {
                    inventory_core::Scope::Read
                } else {
                    inventory_core::Scope::Write
                },
                expires_at: expires.map(|us| base + chrono::Duration::microseconds(us)),
            };
            db.create_token_for(&created.username, &spec)
                .await
                .map_err(|e| TestCaseError::fail(format!("create token: {e}")))?;
        }
    }
    Ok(left)
}

// ---------------------------------------------------------------------------------------
// The round trips.

async fn backup(db: &Database) -> Vec<u8> {
    let mut out = Vec::new();
    db.write_backup(&mut out, quiet()).await.unwrap();
    out
}

async fn restore(db: &Database, bytes: &[u8]) -> Result<(), TestCaseError> {
    let mut input = std::io::Cursor::new(bytes);
    db.restore_backup(&mut input, quiet())
        .await
        .map(drop)
        .map_err(|e| TestCaseError::fail(format!("restore refused its own backup: {e}")))
}

async fn export(db: &Database) -> Vec<u8> {
    let mut out = Vec::new();
    db.export_items_csv(&mut out, quiet()).await.unwrap();
    out
}

async fn import(db: &Database, csv: &[u8]) -> Result<u64, TestCaseError> {
    let mut input = csv;
    let options = ImportOptions {
        create_locations: true,
    };
    db.import_items_csv(&mut input, options, quiet())
        .await
        .map(|s| s.items)
        .map_err(|e| TestCaseError::fail(format!("import refused its own export: {e}")))
}

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn assert_clean(db: &Database, what: &str) -> Result<(), TestCaseError> {
    let outcome = db.integrity(false).await.unwrap();
    prop_assert!(outcome.is_clean(), "{what}: {outcome:?}");
    Ok(())
}

/// Empties `db` by restoring `empty` (the backup of an empty database), which also moves
/// every id sequence back to 1: the databases of a test serve all its cases.
async fn empty_out(db: &Database, empty: &[u8]) -> Result<(), TestCaseError> {
    restore(db, empty).await?;
    prop_assert_eq!(show(&backup(db).await), show(empty), "emptied");
    Ok(())
}

/// Three databases of one backend, reused by every case of a test.
struct Trio {
    source: TestDb,
    target: TestDb,
    imported: TestDb,
    empty: Vec<u8>,
}

impl Trio {
    fn new(fresh: impl AsyncFn() -> TestDb) -> Trio {
        RT.block_on(async {
            let (source, target, imported) = (fresh().await, fresh().await, fresh().await);
            let empty = backup(&source.db).await;
            Trio {
                source,
                target,
                imported,
                empty,
            }
        })
    }
}

/// Backup → restore → backup into another database of the same backend (which held the
/// previous case's data) and over the data itself; export → import → export into an empty
/// one.
async fn same_backend(dbs: &Trio, home: &Home) -> Result<(), TestCaseError> {
    for t in [&dbs.source, &dbs.target, &dbs.imported] {
        empty_out(&t.db, &dbs.empty).await?;
    }
    let source = &dbs.source.db;
    let items = fill(source, home).await?;
    assert_clean(source, "source").await?;
    let first = backup(source).await;

    restore(&dbs.target.db, &first).await?;
    prop_assert_eq!(
        show(&backup(&dbs.target.db).await),
        show(&first),
        "backup → restore → backup"
    );
    assert_clean(&dbs.target.db, "restored").await?;
    restore(source, &first).await?;
    prop_assert_eq!(
        show(&backup(source).await),
        show(&first),
        "restore over the same data"
    );

    let csv = export(source).await;
    prop_assert_eq!(import(&dbs.imported.db, &csv).await?, items as u64);
    prop_assert_eq!(
        show(&export(&dbs.imported.db).await),
        show(&csv),
        "export → import → export"
    );
    assert_clean(&dbs.imported.db, "imported").await?;
    Ok(())
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(cases),
        max_shrink_iters: 64,
        // Failing cases are saved beside this file, as the proptest! macro does.
        source_file: Some(file!()),
        ..ProptestConfig::default()
    }
}

/// Runs `check` on `cases` random homes (at most 30 locations and 25 items each).
fn for_random_homes(cases: u32, check: impl Fn(&Home) -> Result<(), TestCaseError>) {
    let mut runner = proptest::test_runner::TestRunner::new(config(cases));
    if let Err(e) = runner.run(&home(30, 25), |home| check(&home)) {
        panic!("{e}");
    }
}

#[test]
fn round_trips_on_sqlite() {
    let dbs = Trio::new(async || sqlite().await);
    for_random_homes(24, |home| RT.block_on(same_backend(&dbs, home)));
}

#[test]
fn round_trips_on_postgres() {
    let dbs = Trio::new(async || postgres().await);
    for_random_homes(16, |home| RT.block_on(same_backend(&dbs, home)));
}

/// SQLite → PostgreSQL → SQLite by backup, and CSV from SQLite into PostgreSQL; the
/// restored users still log in.
#[test]
fn round_trips_sqlite_to_postgres_to_sqlite() {
    let (sqlite_dbs, pg_dbs) = (
        Trio::new(async || sqlite().await),
        Trio::new(async || postgres().await),
    );
    for_random_homes(12, |home| {
        RT.block_on(async {
            for (t, empty) in [
                (&sqlite_dbs.source, &sqlite_dbs.empty),
                (&sqlite_dbs.target, &sqlite_dbs.empty),
                (&pg_dbs.target, &pg_dbs.empty),
                (&pg_dbs.imported, &pg_dbs.empty),
            ] {
                empty_out(&t.db, empty).await?;
            }
            let source = &sqlite_dbs.source.db;
            let items = fill(source, home).await?;
            let first = backup(source).await;
            let pg = &pg_dbs.target.db;
            restore(pg, &first).await?;
            let from_pg = backup(pg).await;
            prop_assert_eq!(show(&from_pg), show(&first), "SQLite → PostgreSQL");
            let back = &sqlite_dbs.target.db;
            restore(back, &from_pg).await?;
            prop_assert_eq!(
                show(&backup(back).await),
                show(&first),
                "PostgreSQL → SQLite"
            );
            assert_clean(pg, "PostgreSQL").await?;
            if let Some(user) = home.users.first() {
                let found = pg
                    .authenticate_password(&user.name, PASSWORD)
                    .await
                    .unwrap();
                prop_assert!(
                    found.is_some(),
                    "{} cannot log in after the restore",
                    user.name
                );
            }

            let csv = export(source).await;
            let imported = &pg_dbs.imported.db;
            prop_assert_eq!(import(imported, &csv).await?, items as u64);
            prop_assert_eq!(
                show(&export(imported).await),
                show(&csv),
                "CSV SQLite → PostgreSQL"
            );
            Ok(())
        })
    });
}

/// A pooled SQLite connection that last read the search index before another connection
/// restored over it must not make `integrity` report a malformed FTS5 index (the engine
/// checks once ran on such a connection and did, now and then).
#[test]
fn sqlite_integrity_after_restores_on_a_warm_pool_is_clean() {
    RT.block_on(async {
        let t = sqlite().await;
        let db = &t.db;
        let empty = backup(db).await;
        for round in 0..30 {
            for i in 0..(round % 7 + 3) {
                db.create_location(&NewLocation {
                    name: format!("House {round}.{i} é"),
                    description: Some(format!("Straße {i}")),
                    location_type: LocationType::House,
                    parent_id: None,
                })
                .await
                .unwrap();
            }
            let full = backup(db).await;
            // Every pooled connection reads the index once.
            let searches: Vec<_> = (0..8)
                .map(|_| {
                    let db = db.clone();
                    tokio::spawn(async move { db.search("house", 5).await.unwrap() })
                })
                .collect();
            for s in searches {
                s.await.unwrap();
            }
            restore(db, &empty).await.unwrap();
            restore(db, &full).await.unwrap();
            for _ in 0..4 {
                let outcome = db.integrity(false).await.unwrap();
                assert!(outcome.is_clean(), "round {round}: {:?}", outcome.engine);
            }
        }
    });
}
