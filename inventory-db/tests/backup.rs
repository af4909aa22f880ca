//! Backup, restore and copy: byte-identical round trips on and across both backends,
//! all-or-nothing refusal of damaged input, and concurrency.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use inventory_core::{LocationType, Role};
use inventory_db::backup::{Compression, Progress, FORMAT_NAME};
use inventory_db::testing::{postgres, postgres_with, sqlite, sqlite_with};
use inventory_db::{
    backend_tests, Conn, Database, DbError, ErrorKind, NewItem, NewLocation, Overwrite,
};

fn quiet() -> Progress<'static> {
    &|_, _| {}
}

fn new(name: &str, t: LocationType, parent: Option<i64>) -> NewLocation {
    NewLocation {
        name: name.into(),
        description: Some(format!("about {name} — ünïcødé \"quoted\"\ttab")),
        location_type: t,
        parent_id: parent,
    }
}

/// Rows of `locations` in the fixture.
const LOCATIONS: u64 = 24;
/// Rows of all tables in the fixture: 24 locations, 2 categories, 3 items, 2 users, 2 tokens.
const TOTAL: u64 = LOCATIONS + 2 + 3 + 2 + 2;
/// alice's password.
const ALICE_PASSWORD: &str = "correct horse \"battery\" staple ü";
/// Bob's password.
const BOB_PASSWORD: &str = "viewer password 123";

/// What [`seed`] made.
struct Fixture {
    /// Location ids (all but the Garage, the last one created).
    locations: Vec<i64>,
    /// Item ids: the Drill (every optional field set), the Kettle, the Pan.
    items: Vec<i64>,
    /// alice's live token (used once, so `last_used_at` is set).
    alice_token: String,
    /// Bob's revoked token.
    bob_token: String,
}

/// Every table filled: the locations of [`seed_locations`]; two categories; three items,
/// one with every optional field (unicode, quotes, a newline and a tab in its notes); an
/// admin and a viewer; a used live token and a revoked one.
async fn seed(db: &Database) -> Fixture {
    let locations = seed_locations(db).await;
    db.create_category("Tools", Some("Hand and power tools — ünïcødé"))
        .await
        .unwrap();
    db.create_category("Küche \"Kitchen\"", None).await.unwrap();
    let drill = db
        .create_item(&NewItem {
            quantity: 3,
            category: Some("Tools".into()),
            description: Some("Cordless, 18 V — \"heavy\"".into()),
            notes: Some(
                "Bought on sale — ünïcødé \"quoted\"\nsecond line\twith a tab; spare bits".into(),
            ),
            serial_number: Some("BX-7781".into()),
            purchase_date: Some(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()),
            purchase_price_cents: Some(12_345),
            currency: Some("EUR".into()),
            warranty_expires: Some(NaiveDate::from_ymd_opt(2027, 2, 28).unwrap()),
            ..NewItem::new("Drill", locations[2])
        })
        .await
        .unwrap();
    let kettle = db
        .create_item(&NewItem {
            quantity: 0,
            ..NewItem::new("Kettle", locations[1])
        })
        .await
        .unwrap();
    let pan = db
        .create_item(&NewItem {
            category: Some("Küche \"Kitchen\"".into()),
            ..NewItem::new("Pan", locations[1])
        })
        .await
        .unwrap();
    db.create_user("alice", ALICE_PASSWORD, Role::Admin)
        .await
        .unwrap();
    db.create_user("Bob", BOB_PASSWORD, Role::Viewer)
        .await
        .unwrap();
    let alice = db
        .create_token("alice", Some("laptop — \"main\""))
        .await
        .unwrap();
    assert!(db
        .authenticate_token(&alice.secret)
        .await
        .unwrap()
        .is_some());
    let bob = db.create_token("bob", None).await.unwrap();
    db.revoke_token(bob.token.id).await.unwrap();
    Fixture {
        locations,
        items: vec![drill.id, kettle.id, pan.id],
        alice_token: alice.secret,
        bob_token: bob.secret,
    }
}

/// Whether `search` finds the item `id` for `text`.
async fn finds_item(db: &Database, text: &str, id: i64) -> bool {
    db.search(text, 10)
        .await
        .unwrap()
        .iter()
        .any(|h| h.kind == "item" && h.id == id)
}

/// The restored users and tokens authenticate as before: alice with her password and her
/// token, Bob not with his revoked token, nobody with a wrong password.
async fn assert_logins_work(db: &Database, f: &Fixture) {
    let alice = db
        .authenticate_password("alice", ALICE_PASSWORD)
        .await
        .unwrap();
    assert_eq!(
        alice.map(|u| (u.username, u.role)),
        Some(("alice".into(), Role::Admin))
    );
    let bob = db.authenticate_password("BOB", BOB_PASSWORD).await.unwrap();
    assert_eq!(bob.map(|u| u.role), Some(Role::Viewer));
    assert!(db
        .authenticate_password("alice", BOB_PASSWORD)
        .await
        .unwrap()
        .is_none());
    let by_token = db.authenticate_token(&f.alice_token).await.unwrap();
    assert_eq!(by_token.map(|u| u.username), Some("alice".into()));
    assert!(
        db.authenticate_token(&f.bob_token).await.unwrap().is_none(),
        "revoked stays revoked"
    );
}

/// Removes every item, so that locations can be deleted.
async fn delete_items(db: &Database, f: &Fixture) {
    for id in &f.items {
        db.delete_item(*id).await.unwrap();
    }
}

/// A house with rooms, nested containers and shelves; one container is moved under a
/// container created after it, so id order is not parent-first order.
async fn seed_locations(db: &Database) -> Vec<i64> {
    use LocationType::*;
    let house = db
        .create_location(&new("My House", House, None))
        .await
        .unwrap();
    let mut ids = vec![house.id];
    let mut last_container = None;
    for r in 0..4 {
        let room = db
            .create_location(&new(&format!("Room {r}"), Room, Some(house.id)))
            .await
            .unwrap();
        ids.push(room.id);
        for c in 0..3 {
            let container = db
                .create_location(&new(&format!("Box {r}.{c}"), Container, Some(room.id)))
                .await
                .unwrap();
            ids.push(container.id);
            last_container = Some(container.id);
        }
        let shelf = db
            .create_location(&NewLocation {
                description: None,
                ..new(&format!("Shelf {r}"), Shelf, Some(room.id))
            })
            .await
            .unwrap();
        ids.push(shelf.id);
    }
    let a = db
        .create_location(&new("A", Container, last_container))
        .await
        .unwrap();
    let b = db
        .create_location(&new("B", Container, last_container))
        .await
        .unwrap();
    db.move_location(a.id, Some(b.id)).await.unwrap();
    ids.extend([a.id, b.id]);
    db.create_location(&new("Garage", House, None))
        .await
        .unwrap();
    ids
}

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

fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Applies `edit` to the lines before the trailer and writes a matching trailer, so that
/// only the edit (not the checksum) can be what a restore refuses.
fn reseal(bytes: &[u8], edit: impl FnOnce(&mut Vec<String>)) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let trailer: serde_json::Value = serde_json::from_str(&lines.pop().unwrap()).unwrap();
    edit(&mut lines);
    let mut body = lines.join("\n");
    body.push('\n');
    let trailer = format!(
        "{{\"total_rows\":{},\"fnv1a64\":\"{:016x}\"}}",
        trailer["total_rows"],
        fnv1a64(body.as_bytes())
    );
    body.push_str(&trailer);
    body.push('\n');
    body.into_bytes()
}

/// Restoring `bad` is refused as invalid input with a message containing `expected`, and
/// the database is unchanged.
async fn assert_refused(db: &Database, bad: &[u8], expected: &str) {
    let before = backup_bytes(db).await;
    let err = restore_bytes(db, bad).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert!(
        err.to_string().contains(expected),
        "message {err:?} lacks {expected:?}"
    );
    assert_eq!(
        backup_bytes(db).await,
        before,
        "database changed by a refused restore"
    );
}

/// The names in directory `dir`, sorted.
fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn decompress(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    match Compression::from_magic(bytes) {
        Compression::None => out.extend_from_slice(bytes),
        Compression::Gzip => {
            flate2::read::MultiGzDecoder::new(bytes)
                .read_to_end(&mut out)
                .unwrap();
        }
        Compression::Zstd => {
            zstd::stream::read::Decoder::new(bytes)
                .unwrap()
                .read_to_end(&mut out)
                .unwrap();
        }
    }
    out
}

backend_tests! {
    async fn backup_has_header_rows_and_trailer(db: &Database) {
        let f = seed(db).await;
        let mut out = Vec::new();
        let summary = db.write_backup(&mut out, quiet()).await.unwrap();
        assert_eq!(summary.total_rows, TOTAL);
        let tables: Vec<(&str, i64)> =
            summary.tables.iter().map(|t| (t.table.as_str(), t.rows)).collect();
        assert_eq!(
            tables,
            [("locations", 24), ("categories", 2), ("items", 3), ("users", 2), ("api_tokens", 2)]
        );
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let header: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(header["format"], FORMAT_NAME);
        assert_eq!(header["format_version"], 1);
        assert_eq!(header["tables"][0]["rows"], f.locations.len() + 1);
        assert_eq!(header["tables"][2]["name"], "items");
        assert_eq!(header["tables"][4]["columns"][3], "token_hash");
        assert_eq!(lines.len() as u64, TOTAL + 2);
        let drill = lines.iter().find(|l| l.contains("\"Drill\"")).unwrap();
        assert!(drill.contains(",\"2024-02-29\",12345,\"EUR\",\"2027-02-28\","), "dates normalized: {drill}");
        assert!(drill.contains("\\nsecond line\\twith"), "{drill}");
        let alice = lines.iter().find(|l| l.contains("\"alice\"")).unwrap();
        assert!(alice.contains("\"$argon2id$"), "{alice}");
        assert!(
            !text.contains(&f.alice_token) && !text.contains(&f.bob_token),
            "token secrets are never stored"
        );
        assert!(!text.contains("search_fts"), "derived search data is not backed up");
        assert!(lines[1].starts_with("[1,\"My House\""), "{}", lines[1]);
        assert!(lines[1].contains(".") && lines[1].ends_with("Z\"]"), "timestamps normalized: {}", lines[1]);
        assert!(lines.last().unwrap().contains("\"fnv1a64\""));
    }

    async fn round_trip_gives_identical_bytes(db: &Database) {
        seed(db).await;
        let first = backup_bytes(db).await;
        let summary = restore_bytes(db, &first).await.unwrap();
        assert_eq!(summary.total_rows, TOTAL);
        assert_eq!(backup_bytes(db).await, first);
    }

    async fn file_round_trips_identical_plain_gz_zst(db: &Database) {
        seed(db).await;
        let plain = backup_bytes(db).await;
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.jsonl", "b.jsonl.gz", "b.jsonl.zst"] {
            let path = dir.path().join(name);
            db.backup_to_file(&path, Overwrite::Refuse, quiet()).await.unwrap();
            let written = std::fs::read(&path).unwrap();
            assert_eq!(Compression::from_magic(&written), Compression::from_path(&path), "{name}");
            assert_eq!(decompress(&written), plain, "{name}");
            db.restore_from_file(&path, quiet()).await.unwrap();
            let again = dir.path().join(format!("again-{name}"));
            db.backup_to_file(&again, Overwrite::Refuse, quiet()).await.unwrap();
            assert_eq!(std::fs::read(&again).unwrap(), written, "{name}");
        }
        // Compression is detected by content, not by name.
        let disguised = dir.path().join("disguised.jsonl");
        std::fs::copy(dir.path().join("b.jsonl.zst"), &disguised).unwrap();
        db.restore_from_file(&disguised, quiet()).await.unwrap();
        assert_eq!(backup_bytes(db).await, plain);
        // Only the backups are there: no temporary file was left behind.
        assert_eq!(
            entries(dir.path()),
            ["again-b.jsonl", "again-b.jsonl.gz", "again-b.jsonl.zst", "b.jsonl", "b.jsonl.gz", "b.jsonl.zst", "disguised.jsonl"]
        );
    }

    async fn failed_backup_leaves_no_file(db: &Database) {
        seed(db).await;
        let dir = tempfile::tempdir().unwrap();
        // The target is a directory holding a file: the backup is written in full under a
        // temporary name beside it, and moving it into place fails.
        let target = dir.path().join("b.jsonl");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("keep"), b"keep").unwrap();
        let err = db.backup_to_file(&target, Overwrite::Replace, quiet()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io, "{err}");
        assert!(err.to_string().starts_with(&format!("cannot write backup {}: ", target.display())), "{err}");
        assert_eq!(entries(dir.path()), ["b.jsonl"], "a temporary file was left behind");
        assert_eq!(entries(&target), ["keep"]);
        assert_eq!(std::fs::read(target.join("keep")).unwrap(), b"keep");
        // Into a directory that does not exist: nothing is created.
        let missing = dir.path().join("missing-dir").join("b.jsonl");
        let err = db.backup_to_file(&missing, Overwrite::Refuse, quiet()).await.unwrap_err();
        assert!(err.to_string().starts_with(&format!("cannot write backup {}: ", missing.display())), "{err}");
        assert_eq!(entries(dir.path()), ["b.jsonl"]);
    }

    async fn progress_reaches_total(db: &Database) {
        seed(db).await;
        let seen = std::sync::Mutex::new(Vec::new());
        let record = |done: u64, total: u64| seen.lock().unwrap().push((done, total));
        let mut out = Vec::new();
        db.write_backup(&mut out, &record).await.unwrap();
        assert_eq!(seen.lock().unwrap().last(), Some(&(TOTAL, TOTAL)));
        seen.lock().unwrap().clear();
        let mut input = std::io::Cursor::new(&out[..]);
        db.restore_backup(&mut input, &record).await.unwrap();
        assert_eq!(seen.lock().unwrap().last(), Some(&(TOTAL, TOTAL)));
    }

    async fn restore_keeps_ids_and_resets_the_sequence(db: &Database) {
        let f = seed(db).await;
        let ids = &f.locations;
        let bytes = backup_bytes(db).await;
        let max = *ids.iter().max().unwrap() + 1; // the Garage
        delete_items(db, &f).await;
        let tree = db.location_tree(None, None).await.unwrap();
        for root in tree {
            db.delete_location(root.location.id).await.unwrap();
        }
        db.delete_category("Tools").await.unwrap();
        db.delete_user("alice").await.unwrap();
        let interim = db.create_location(&new("Interim", LocationType::House, None)).await.unwrap();
        db.create_category("Interim", None).await.unwrap();
        db.create_item(&NewItem::new("Interim", interim.id)).await.unwrap();
        db.create_user("interim", BOB_PASSWORD, Role::Member).await.unwrap();
        db.create_token("interim", None).await.unwrap();
        restore_bytes(db, &bytes).await.unwrap();
        for id in ids {
            db.get_location(*id).await.unwrap();
        }
        for id in &f.items {
            db.get_item(*id).await.unwrap();
        }
        let moved = db.resolve_path("My House / Room 3 / Box 3.2 / B / A").await.unwrap();
        assert_eq!(moved, ids[ids.len() - 2]);
        let fresh = db.create_location(&new("Shed", LocationType::House, None)).await.unwrap();
        assert_eq!(fresh.id, max + 1);
        // Every table's next id follows its largest restored id.
        assert_eq!(db.create_category("Garden", None).await.unwrap().id, 3);
        assert_eq!(db.create_item(&NewItem::new("Rake", fresh.id)).await.unwrap().id, 4);
        assert_eq!(db.create_user("carol", BOB_PASSWORD, Role::Member).await.unwrap().id, 3);
        assert_eq!(db.create_token("carol", None).await.unwrap().token.id, 3);
    }

    async fn restore_replaces_existing_data(db: &Database) {
        let flat = db.create_location(&new("Old Flat", LocationType::House, None)).await.unwrap();
        let gizmo = db.create_item(&NewItem::new("Gizmo", flat.id)).await.unwrap();
        db.create_user("olduser", BOB_PASSWORD, Role::Member).await.unwrap();
        let old = backup_bytes(db).await;
        db.delete_item(gizmo.id).await.unwrap();
        db.create_location(&new("Another", LocationType::House, None)).await.unwrap();
        let f = seed(db).await;
        let big = backup_bytes(db).await;
        // The database holds items in its locations (ON DELETE RESTRICT), users and tokens.
        restore_bytes(db, &old).await.unwrap();
        assert_eq!(db.location_tree(None, None).await.unwrap().len(), 1);
        assert!(db.resolve_path("My House").await.is_err());
        assert_eq!(backup_bytes(db).await, old);
        assert!(finds_item(db, "Gizmo", gizmo.id).await);
        assert!(db.search("Drill", 10).await.unwrap().is_empty(), "replaced items are not found");
        assert!(db.search("Room", 10).await.unwrap().is_empty(), "replaced locations are not found");
        assert!(db.authenticate_password("alice", ALICE_PASSWORD).await.unwrap().is_none());
        assert!(db.authenticate_token(&f.alice_token).await.unwrap().is_none());
        restore_bytes(db, &big).await.unwrap();
        assert_eq!(backup_bytes(db).await, big);
        assert!(db.search("Gizmo", 10).await.unwrap().is_empty(), "replaced items are not found");
        assert!(finds_item(db, "Drill", f.items[0]).await);
    }

    async fn empty_backup_round_trips(db: &Database) {
        let empty = backup_bytes(db).await;
        seed(db).await;
        restore_bytes(db, &empty).await.unwrap();
        assert!(db.location_tree(None, None).await.unwrap().is_empty());
        assert!(db.list_users().await.unwrap().is_empty());
        assert!(db.list_categories().await.unwrap().is_empty());
        assert!(db.search("Drill", 10).await.unwrap().is_empty());
        assert_eq!(backup_bytes(db).await, empty);
    }

    async fn truncated_backup_is_refused(db: &Database) {
        seed(db).await;
        let good = backup_bytes(db).await;
        let text = String::from_utf8(good.clone()).unwrap();
        let cut = text.find("\"Room 2\"").unwrap();
        assert_refused(db, &good[..cut], &format!("backup is truncated: expected {TOTAL} rows, found")).await;
        let without_trailer = text.rfind("{\"total_rows\"").unwrap();
        assert_refused(db, &good[..without_trailer], "trailer line is missing").await;
        assert_refused(db, &good[..good.len() - 3], "backup is truncated: its last line (the trailer) is cut off").await;
        assert_refused(db, &good[..10], "not a Home Inventory backup (line 1): expected a \"home-inventory-backup\" header").await;
        assert_refused(db, b"", "the input is empty").await;
    }

    async fn truncated_compressed_backup_is_refused(db: &Database) {
        seed(db).await;
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.gz", "b.zst"] {
            let path = dir.path().join(name);
            db.backup_to_file(&path, Overwrite::Refuse, quiet()).await.unwrap();
            let bytes = std::fs::read(&path).unwrap();
            assert_refused(db, &bytes[..bytes.len() * 2 / 3], "); the file is truncated or corrupt").await;
        }
    }

    async fn flipped_byte_is_refused(db: &Database) {
        seed(db).await;
        let good = backup_bytes(db).await;
        let at = String::from_utf8(good.clone()).unwrap().find("Box 1.1").unwrap();
        let mut bad = good.clone();
        bad[at] ^= 0x01; // "Box" → "Cox"
        assert_refused(db, &bad, "checksum mismatch").await;
        let mut bad = good.clone();
        bad[at + 100] ^= 0x80;
        assert_refused(db, &bad, "backup line 10: not valid UTF-8").await;
    }

    async fn wrong_header_is_refused(db: &Database) {
        seed(db).await;
        let good = backup_bytes(db).await;
        let mut bad = b"hello, world\n".to_vec();
        bad.extend_from_slice(&good);
        assert_refused(db, &bad, "not a Home Inventory backup (line 1)").await;
        let other = reseal(&good, |lines| lines[0] = lines[0].replace(FORMAT_NAME, "something-else"));
        assert_refused(db, &other, "not a Home Inventory backup (line 1)").await;
        assert_refused(db, &[0x89, b'P', b'N', b'G', 0, 0xff, 0xfe], "not a Home Inventory backup").await;
        assert_refused(db, &[0x1f, 0x8b, 0, 1, 2, 3], "backup line 1: cannot read (unexpected end of file); the file is truncated or corrupt").await;
        let unknown = reseal(&good, |lines| lines[0] = lines[0].replace("\"locations\"", "\"gadgets\""));
        assert_refused(db, &unknown, "table \"gadgets\", which this program does not know").await;
        let column = reseal(&good, |lines| lines[0] = lines[0].replace("\"parent_id\"", "\"mother_id\""));
        assert_refused(db, &column, "backup table \"locations\" has columns [id, name, description, location_type, mother_id, created_at, updated_at]; this program expects [id, name, description, location_type, parent_id, created_at, updated_at]").await;
    }

    async fn newer_format_version_is_refused(db: &Database) {
        seed(db).await;
        let good = backup_bytes(db).await;
        let bad = reseal(&good, |lines| lines[0] = lines[0].replace("\"format_version\":1", "\"format_version\":2"));
        assert_refused(db, &bad, "backup format version 2 is newer than this program supports (1)").await;
    }

    async fn newer_schema_version_is_refused(db: &Database) {
        seed(db).await;
        let good = backup_bytes(db).await;
        let header: serde_json::Value = serde_json::from_slice(good.split(|b| *b == b'\n').next().unwrap()).unwrap();
        let version = header["schema_version"].as_str().unwrap().to_string();
        let bad = reseal(&good, |lines| lines[0] = lines[0].replace(&version, "99991231000000"));
        assert_refused(db, &bad, "backup schema version 99991231000000 is newer than this program's latest migration").await;
    }

    async fn orphan_row_is_refused(db: &Database) {
        seed(db).await;
        let good = backup_bytes(db).await;
        let bad = reseal(&good, |lines| {
            let row: serde_json::Value = serde_json::from_str(&lines[3]).unwrap();
            let mut row = row.as_array().unwrap().clone();
            row[4] = serde_json::json!(9999);
            lines[3] = serde_json::to_string(&row).unwrap();
        });
        assert_refused(db, &bad, "is an orphan: its parent 9999 is not in the backup").await;
        // A root is written with a null parent; 0 would be stored as a parent that is not there.
        let zero = reseal(&good, |lines| {
            let mut root: Vec<serde_json::Value> = serde_json::from_str(&lines[1]).unwrap();
            root[4] = serde_json::json!(0);
            lines[1] = serde_json::to_string(&root).unwrap();
        });
        assert_refused(db, &zero, "backup line 2 (locations id 1): parent_id 0 is not a location id (a root's parent_id is null)").await;
    }

    async fn other_damage_is_refused(db: &Database) {
        seed(db).await;
        let good = backup_bytes(db).await;
        let cycle = reseal(&good, |lines| {
            let mut root: Vec<serde_json::Value> = serde_json::from_str(&lines[1]).unwrap();
            root[4] = serde_json::json!(2);
            lines[1] = serde_json::to_string(&root).unwrap();
        });
        assert_refused(db, &cycle, "backup locations form a cycle of parents: 1 → 2").await;
        let swapped = reseal(&good, |lines| lines.swap(2, 3));
        assert_refused(db, &swapped, "primary-key order").await;
        let bad_type = reseal(&good, |lines| lines[2] = lines[2].replace("\"ROOM\"", "\"CASTLE\""));
        assert_refused(db, &bad_type, "backup line 3 (locations id 2): unknown location type \"CASTLE\" (expected one of HOUSE, ROOM, CONTAINER, SHELF)").await;
        let bad_time = reseal(&good, |lines| lines[2] = lines[2].replacen("Z\"", "Q\"", 1));
        assert_refused(db, &bad_time, "backup line 3: created_at").await;
        let extra = reseal(&good, |lines| {
            let mut row: Vec<serde_json::Value> = serde_json::from_str(&lines[2]).unwrap();
            row.push(serde_json::json!(1));
            lines[2] = serde_json::to_string(&row).unwrap();
        });
        assert_refused(db, &extra, "backup line 3: bad locations row").await;
        let mut trailing = good.clone();
        trailing.extend_from_slice(b"[1]\n");
        assert_refused(db, &trailing, "after the trailer").await;
    }

    async fn copy_refuses_a_target_with_rows(db: &Database) {
        seed(db).await;
        let target = inventory_db::testing::sqlite().await;
        target.db.create_location(&new("Elsewhere", LocationType::House, None)).await.unwrap();
        let before = backup_bytes(&target.db).await;
        let err = db.copy_to(&target.db, quiet()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert!(err.to_string().contains("table locations has 1 row"), "{err}");
        assert_eq!(backup_bytes(&target.db).await, before);
        // Rows only in `users` make a target non-empty too.
        let target = inventory_db::testing::sqlite().await;
        target.db.create_user("someone", BOB_PASSWORD, Role::Viewer).await.unwrap();
        let before = backup_bytes(&target.db).await;
        let err = db.copy_to(&target.db, quiet()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert!(err.to_string().contains("table users has 1 row"), "{err}");
        assert_eq!(backup_bytes(&target.db).await, before);
    }

    async fn concurrent_restores_end_with_one_whole_backup(db: &Database) {
        let f = seed(db).await;
        let first = backup_bytes(db).await;
        delete_items(db, &f).await;
        let house = db.resolve_path("My House").await.unwrap();
        db.delete_location(house).await.unwrap();
        for i in 0..30 {
            db.create_location(&new(&format!("Flat {i}"), LocationType::House, None)).await.unwrap();
        }
        let second = backup_bytes(db).await;
        let counts = [24usize, 31];
        let reader = {
            let db = db.clone();
            tokio::spawn(async move {
                for _ in 0..20 {
                    let n = db.location_rows().await.unwrap().len();
                    assert!(counts.contains(&n), "a reader saw {n} rows, a mixture");
                }
            })
        };
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                let db = db.clone();
                let bytes = if i % 2 == 0 { first.clone() } else { second.clone() };
                tokio::spawn(async move { restore_bytes(&db, &bytes).await.unwrap() })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        reader.await.unwrap();
        let end = backup_bytes(db).await;
        assert!(end == first || end == second, "the database holds a mixture");
        assert!(db.integrity(false).await.unwrap().is_clean());
    }
}

/// A backup source that shows one backup until it is rewound, and another after: a file
/// replaced between the restore's check and its load.
struct Swapped {
    now: std::io::Cursor<Vec<u8>>,
    after_rewind: Option<Vec<u8>>,
}

impl std::io::Read for Swapped {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.now.read(buf)
    }
}

impl std::io::Seek for Swapped {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        if to == std::io::SeekFrom::Start(0) {
            if let Some(next) = self.after_rewind.take() {
                self.now = std::io::Cursor::new(next);
            }
        }
        self.now.seek(to)
    }
}

backend_tests! {
    async fn a_backup_changed_between_check_and_load_restores_nothing(db: &Database) {
        let f = seed(db).await;
        let checked = backup_bytes(db).await;
        delete_items(db, &f).await;
        db.create_location(&new("Shed", LocationType::House, None)).await.unwrap();
        // The same shape, other contents: damage the first pass never saw.
        let other = backup_bytes(db).await;
        let before = other.clone();
        let schema = db.schema_dump().await.unwrap();
        let mut source = Swapped { now: std::io::Cursor::new(checked), after_rewind: Some(other) };
        let err = db.restore_backup(&mut source, quiet()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
        assert!(backup_bytes(db).await == before, "a refused restore changed the database");
        // What the load set aside (PostgreSQL: indexes and keys) is back as it was.
        assert_eq!(db.schema_dump().await.unwrap(), schema);
        // The search index and what keeps it current are as they were.
        let shed = db.search("Shed", 5).await.unwrap();
        assert!(shed.iter().any(|h| h.kind == "location"), "{shed:?}");
        let gizmo = db.create_item(&NewItem::new("Gizmo", f.locations[0])).await.unwrap();
        assert!(finds_item(db, "Gizmo", gizmo.id).await, "a new item is indexed");
    }

    async fn a_large_backup_restores_in_many_batches_with_parents_after_children(db: &Database) {
        // 12,345 locations whose ids run against the tree (each child's id below its
        // parent's), and 7,000 items: several batches of each, every location inserted
        // before its parent.
        let at = "2026-01-01T00:00:00.000001Z";
        let n: i64 = 12_345;
        let mut lines = Vec::new();
        for id in 1..=n {
            let parent = if id == n { serde_json::Value::Null } else { (id + 1).into() };
            let kind = match n - id {
                0 => "HOUSE",
                1 => "ROOM",
                _ => "CONTAINER",
            };
            lines.push(serde_json::json!([id, format!("Level {id}"), null, kind, parent, at, at]).to_string());
        }
        let items = 7_000i64;
        for id in 1..=items {
            lines.push(serde_json::json!([id, format!("Thing {id}"), null, 1, 1 + id % n, null, null, null, null, null, null, null, at, at]).to_string());
        }
        let empty = backup_bytes(db).await;
        let header = String::from_utf8(empty.split(|b| *b == b'\n').next().unwrap().to_vec()).unwrap();
        // Locations are the first table, so the first row count is theirs.
        let header = header.replacen("\"rows\":0", &format!("\"rows\":{n}"), 1);
        let items_at = header.find("\"name\":\"items\"").unwrap();
        let (head, tail) = header.split_at(items_at);
        let header = format!("{head}{}", tail.replacen("\"rows\":0", &format!("\"rows\":{items}"), 1));
        let mut text = format!("{header}\n{}\n", lines.join("\n"));
        text.push_str(&format!("{{\"total_rows\":{},\"fnv1a64\":\"\"}}\n", n + items));
        let bytes = reseal(text.as_bytes(), |_| {});
        let schema = db.schema_dump().await.unwrap();
        let summary = restore_bytes(db, &bytes).await.unwrap();
        assert_eq!(summary.total_rows, (n + items) as u64);
        assert!(backup_bytes(db).await == bytes, "the backup differs from the restored file");
        // The indexes and keys a PostgreSQL load sets aside are all back, unchanged.
        assert_eq!(db.schema_dump().await.unwrap(), schema);
        assert_eq!(db.get_location(1).await.unwrap().ancestors.len() as i64, n - 1);
        let outcome = db.integrity(false).await.unwrap();
        assert!(outcome.is_clean(), "{:?}", outcome.report);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_to_postgres_and_back_is_byte_identical() {
    let s = sqlite().await;
    let f = seed(&s.db).await;
    let from_sqlite = backup_bytes(&s.db).await;
    let p = postgres_with(false).await;
    restore_bytes(&p.db, &from_sqlite).await.unwrap(); // migrates the empty database first
    let from_postgres = backup_bytes(&p.db).await;
    assert_eq!(
        String::from_utf8(from_postgres.clone()).unwrap(),
        String::from_utf8(from_sqlite.clone()).unwrap()
    );
    let s2 = sqlite_with(false).await;
    restore_bytes(&s2.db, &from_postgres).await.unwrap();
    assert_eq!(backup_bytes(&s2.db).await, from_sqlite);
    for db in [&p.db, &s2.db] {
        assert!(finds_item(db, "Drill", f.items[0]).await);
        assert!(
            finds_item(db, "spare", f.items[0]).await,
            "notes are searchable"
        );
        assert_logins_work(db, &f).await;
    }
    let fresh =
        p.db.create_location(&new("Shed", LocationType::House, None))
            .await
            .unwrap();
    let fresh2 = s2
        .db
        .create_location(&new("Shed", LocationType::House, None))
        .await
        .unwrap();
    assert_eq!(fresh.id, fresh2.id);
}

/// A reader that holds `items` and then asks for `locations`, which a restore has just
/// locked while it waits for `items`: PostgreSQL's deadlock detector ends the restore's
/// attempt at the locks, the reader finishes, and the restore takes them again and loads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_that_meets_a_reader_in_a_deadlock_takes_its_locks_again() {
    let t = postgres().await;
    let db = &t.db;
    seed(db).await;
    let bytes = backup_bytes(db).await;
    let (held, hold) = tokio::sync::oneshot::channel();
    let reader = {
        let db = db.clone();
        tokio::spawn(async move {
            db.transaction(inventory_db::TxMode::Snapshot, async move |c| {
                use diesel_async::SimpleAsyncConnection;
                let Conn::Postgres(pg) = c else {
                    unreachable!()
                };
                pg.batch_execute("SELECT count(*) FROM items").await?;
                let _ = held.send(());
                // Long enough for the restore to lock `locations` and wait for `items`.
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                pg.batch_execute("SELECT count(*) FROM locations").await?;
                Ok(())
            })
            .await
        })
    };
    hold.await.unwrap();
    let restored = restore_bytes(db, &bytes).await;
    reader.await.unwrap().unwrap();
    assert_eq!(restored.unwrap().total_rows, TOTAL);
    assert!(backup_bytes(db).await == bytes);
}

/// A role that may write the rows but does not own the tables cannot set their indexes
/// and keys aside: its restore keeps them and goes in row by row, a location that comes
/// before its parent (the fixture's A, moved under the newer B) as its own parent first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_that_does_not_own_the_tables_restores_with_the_keys_in_place() {
    let t = postgres().await;
    let db = &t.db;
    seed(db).await;
    let bytes = backup_bytes(db).await;
    let schema = db.schema_dump().await.unwrap();
    let role = format!("hinv_writer_{}", std::process::id());
    db.execute_raw_for_tests(&format!(
        "CREATE ROLE {role} LOGIN; \
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}; \
         GRANT SELECT, USAGE, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}"
    ))
    .await
    .unwrap();
    // The same database, as that role: the user part of the URL replaced.
    let (scheme, rest) = t.url.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let url = inventory_db::DatabaseUrl::parse(&format!("{scheme}://{role}@{host}")).unwrap();
    let writer = Database::connect(&url).await.unwrap();
    let restored = restore_bytes(&writer, &bytes).await;
    drop(writer);
    db.execute_raw_for_tests(&format!("DROP OWNED BY {role}; DROP ROLE {role}"))
        .await
        .unwrap();
    assert_eq!(restored.unwrap().total_rows, TOTAL);
    assert!(backup_bytes(db).await == bytes);
    assert_eq!(db.schema_dump().await.unwrap(), schema);
    assert!(db.integrity(true).await.unwrap().is_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_refuses_a_postgres_target_with_rows() {
    let s = sqlite().await;
    seed(&s.db).await;
    let target = postgres().await;
    target
        .db
        .create_user("someone", BOB_PASSWORD, Role::Viewer)
        .await
        .unwrap();
    let before = backup_bytes(&target.db).await;
    let err = s.db.copy_to(&target.db, quiet()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(
        err.to_string()
            .contains("the target database is not empty: table users has 1 row"),
        "{err}"
    );
    assert_eq!(backup_bytes(&target.db).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_between_sqlite_and_postgres_in_both_directions() {
    let s = sqlite().await;
    seed(&s.db).await;
    let original = backup_bytes(&s.db).await;
    let p = postgres_with(false).await;
    let summary = s.db.copy_to(&p.db, quiet()).await.unwrap();
    assert_eq!(summary.total_rows, TOTAL);
    assert_eq!(backup_bytes(&p.db).await, original);
    let s2 = sqlite_with(false).await;
    p.db.copy_to(&s2.db, quiet()).await.unwrap();
    assert_eq!(backup_bytes(&s2.db).await, original);
    let p2 = postgres().await;
    p.db.copy_to(&p2.db, quiet()).await.unwrap();
    assert_eq!(backup_bytes(&p2.db).await, original);
    let err = s.db.copy_to(&p.db, quiet()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_never_panics_on_mangled_input() {
    let s = sqlite().await;
    seed(&s.db).await;
    let good = backup_bytes(&s.db).await;
    let mut state: u64 = 0x1234_5678;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..300 {
        let mut bad = good.clone();
        for _ in 0..(next() % 4 + 1) {
            let i = (next() % bad.len() as u64) as usize;
            match next() % 3 {
                0 => bad[i] = next() as u8,
                1 => bad.truncate(i),
                _ => bad.insert(i, next() as u8),
            }
            if bad.is_empty() {
                break;
            }
        }
        if bad == good {
            continue;
        }
        match restore_bytes(&s.db, &bad).await {
            // A harmless change (say, a space inside the trailer's JSON) may still load.
            Ok(_) => assert_eq!(backup_bytes(&s.db).await, good),
            Err(err) => assert_eq!(err.kind(), ErrorKind::Invalid, "{err}"),
        }
    }
    assert_eq!(backup_bytes(&s.db).await, good);
}

/// A backup built by hand: `n` containers in one chain where every parent has a larger
/// id than its child (so id order is child-first), under a room under a house.
fn long_chain_backup(n: i64) -> Vec<u8> {
    let at = "2026-01-01T00:00:00.000001Z";
    let mut lines = vec![
        serde_json::json!([1, "House", null, "HOUSE", null, at, at]).to_string(),
        serde_json::json!([2, "Room", null, "ROOM", 1, at, at]).to_string(),
    ];
    for id in 3..3 + n {
        let parent = if id == 2 + n { 2 } else { id + 1 };
        lines.push(
            serde_json::json!([id, format!("Box {id}"), null, "CONTAINER", parent, at, at])
                .to_string(),
        );
    }
    // Keys in the order the program writes them (json! would sort them).
    let header = format!(
        "{{\"format\":\"{FORMAT_NAME}\",\"format_version\":1,\"schema_version\":\"x\",\
         \"tables\":[{{\"name\":\"locations\",\"columns\":[\"id\",\"name\",\"description\",\
         \"location_type\",\"parent_id\",\"created_at\",\"updated_at\"],\"rows\":{}}}]}}",
        n + 2
    );
    let mut text = format!("{header}\n{}\n", lines.join("\n"));
    text.push_str("{\"total_rows\":0,\"fnv1a64\":\"\"}\n");
    text.into_bytes()
}

backend_tests! {
    async fn large_deep_tree_in_many_batches_round_trips(db: &Database) {
        // The real header of this program (every table), taken from a backup of this database.
        let empty = backup_bytes(db).await;
        let real_header = String::from_utf8(empty.split(|b| *b == b'\n').next().unwrap().to_vec()).unwrap();
        let rows = 12_000;
        let bytes = reseal(&long_chain_backup(rows), |lines| {
            // Locations are the first table, so the first row count is theirs.
            lines[0] = real_header.replacen("\"rows\":0", &format!("\"rows\":{}", rows + 2), 1);
        });
        let bytes = {
            let text = String::from_utf8(bytes).unwrap();
            text.replace("\"total_rows\":0", &format!("\"total_rows\":{}", rows + 2)).into_bytes()
        };
        let summary = restore_bytes(db, &bytes).await.unwrap();
        assert_eq!(summary.total_rows, rows as u64 + 2);
        assert!(backup_bytes(db).await == bytes, "the backup differs from the restored file");
        let deepest = db.get_location(3).await.unwrap();
        assert_eq!(deepest.ancestors.len() as i64, rows + 1);
        assert_eq!(db.location_rows().await.unwrap().len() as i64, rows + 2);
    }
}

/// The real schema version of a database, from a backup of it.
async fn schema_version(db: &Database) -> String {
    let bytes = backup_bytes(db).await;
    let header: serde_json::Value =
        serde_json::from_slice(bytes.split(|b| *b == b'\n').next().unwrap()).unwrap();
    header["schema_version"].as_str().unwrap().to_string()
}

/// The 1-based line number of the first line containing `needle`, and that line's values.
fn find_row(bytes: &[u8], needle: &str) -> (usize, Vec<serde_json::Value>) {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let (index, line) = text
        .lines()
        .enumerate()
        .skip(1)
        .find(|(_, l)| l.contains(needle))
        .unwrap();
    (index + 1, serde_json::from_str(line).unwrap())
}

/// `good` with the row on line `number` (1-based) replaced by `row`, resealed.
fn with_row(good: &[u8], number: usize, row: &[serde_json::Value]) -> Vec<u8> {
    let row = serde_json::to_string(row).unwrap();
    reseal(good, |lines| lines[number - 1] = row)
}

backend_tests! {
    async fn restored_users_and_tokens_still_authenticate(db: &Database) {
        let f = seed(db).await;
        let bytes = backup_bytes(db).await;
        db.delete_user("alice").await.unwrap();
        db.set_password("bob", "another password").await.unwrap();
        assert!(db.authenticate_token(&f.alice_token).await.unwrap().is_none());
        restore_bytes(db, &bytes).await.unwrap();
        assert_eq!(backup_bytes(db).await, bytes);
        assert_logins_work(db, &f).await;
        let tokens = db.list_tokens(Some("alice")).await.unwrap();
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens[0].label.as_deref(), Some("laptop — \"main\""));
        assert!(tokens[0].last_used_at.is_some());
        let bob = db.list_tokens(Some("bob")).await.unwrap();
        assert!(bob[0].revoked_at.is_some() && bob[0].last_used_at.is_none());
    }

    async fn restored_items_keep_every_field_and_are_searchable(db: &Database) {
        let f = seed(db).await;
        let before = db.get_item(f.items[0]).await.unwrap();
        let bytes = backup_bytes(db).await;
        delete_items(db, &f).await;
        let other = db.create_item(&NewItem::new("Gizmo", f.locations[0])).await.unwrap();
        assert!(db.search("Drill", 10).await.unwrap().is_empty());
        restore_bytes(db, &bytes).await.unwrap();
        assert_eq!(db.get_item(f.items[0]).await.unwrap(), before);
        assert_eq!(before.purchase_date, NaiveDate::from_ymd_opt(2024, 2, 29));
        assert_eq!(before.category.as_deref(), Some("Tools"));
        assert!(before.notes.as_deref().unwrap().contains("\"quoted\"\nsecond line\twith"));
        assert!(finds_item(db, "Drill", f.items[0]).await);
        assert!(finds_item(db, "spare", f.items[0]).await, "notes are searchable");
        assert!(finds_item(db, "Kettle", f.items[1]).await);
        assert!(!finds_item(db, "Gizmo", other.id).await, "the replaced item is gone from search");
        assert!(db.search("Gizmo", 10).await.unwrap().is_empty());
        let room = db.search("Room 0", 10).await.unwrap();
        assert!(room.iter().any(|h| h.kind == "location" && h.id == f.locations[1]), "{room:?}");
        // Restoring the same backup again leaves one search entry per row.
        restore_bytes(db, &bytes).await.unwrap();
        let hits = db.search("Drill", 10).await.unwrap();
        assert_eq!(hits.iter().filter(|h| h.kind == "item").count(), 1, "{hits:?}");
        assert!(db.integrity(false).await.unwrap().is_clean());
    }

    async fn bad_references_and_values_are_refused(db: &Database) {
        seed(db).await;
        let good = backup_bytes(db).await;

        let (n, mut drill) = find_row(&good, "\"Drill\"");
        let id = drill[0].clone();
        drill[4] = serde_json::json!(9999);
        assert_refused(db, &with_row(&good, n, &drill),
            &format!("backup line {n} (items id {id}): its location 9999 is not in the backup")).await;

        let (_, mut drill) = find_row(&good, "\"Drill\"");
        drill[5] = serde_json::json!(77);
        assert_refused(db, &with_row(&good, n, &drill), "its category 77 is not in the backup").await;

        let (_, mut drill) = find_row(&good, "\"Drill\"");
        drill[3] = serde_json::json!(-1);
        assert_refused(db, &with_row(&good, n, &drill), "quantity must not be negative").await;

        let (_, mut drill) = find_row(&good, "\"Drill\"");
        drill[9] = serde_json::Value::Null;
        assert_refused(db, &with_row(&good, n, &drill), "currency is required with a price").await;

        let (_, mut drill) = find_row(&good, "\"Drill\"");
        drill[7] = serde_json::json!("29.02.2024");
        assert_refused(db, &with_row(&good, n, &drill), &format!("backup line {n}: purchase_date")).await;

        let (n, mut bob) = find_row(&good, "\"Bob\"");
        bob[1] = serde_json::json!("ALICE");
        assert_refused(db, &with_row(&good, n, &bob),
            &format!("backup line {n} (users id 2): username \"ALICE\" is already used by user 1")).await;

        let (_, mut bob) = find_row(&good, "\"Bob\"");
        bob[3] = serde_json::json!("superuser");
        assert_refused(db, &with_row(&good, n, &bob),
            &format!("backup line {n} (users id 2): role \"superuser\" is not one of admin, member, viewer")).await;

        let (n, mut kitchen) = find_row(&good, "\"Küche");
        kitchen[1] = serde_json::json!(" tOOLS");
        assert_refused(db, &with_row(&good, n, &kitchen), "category name \" tOOLS\" is already used by category 1").await;

        // The last line before the trailer is Bob's token; the one before it alice's.
        let lines = String::from_utf8(good.clone()).unwrap();
        let n = lines.lines().count() - 1;
        let (_, alice_token) = find_row(&good, "laptop");
        let mut token: Vec<serde_json::Value> = serde_json::from_str(lines.lines().nth(n - 1).unwrap()).unwrap();
        token[3] = alice_token[3].clone();
        assert_refused(db, &with_row(&good, n, &token), "token_hash is already used by token 1").await;
        let mut token: Vec<serde_json::Value> = serde_json::from_str(lines.lines().nth(n - 1).unwrap()).unwrap();
        token[1] = serde_json::json!(5);
        assert_refused(db, &with_row(&good, n, &token),
            &format!("backup line {n} (api_tokens id 2): its user 5 is not in the backup")).await;
    }

    async fn locations_only_backup_of_format_1_still_restores(db: &Database) {
        // A backup written before the other tables existed: the header lists only locations.
        let version = schema_version(db).await;
        let old = reseal(&long_chain_backup(3), |lines| {
            lines[0] = lines[0].replace("\"schema_version\":\"x\"", &format!("\"schema_version\":\"{version}\""));
        });
        let old = String::from_utf8(old).unwrap().replace("\"total_rows\":0", "\"total_rows\":5").into_bytes();
        let f = seed(db).await;
        let summary = restore_bytes(db, &old).await.unwrap();
        assert_eq!(summary.total_rows, 5);
        assert_eq!(summary.tables.len(), 5, "every table is reported: {summary:?}");
        assert_eq!(db.location_rows().await.unwrap().len(), 5);
        assert!(db.list_users().await.unwrap().is_empty());
        assert!(db.list_categories().await.unwrap().is_empty());
        assert!(db.search("Drill", 10).await.unwrap().is_empty());
        assert!(db.authenticate_token(&f.alice_token).await.unwrap().is_none());
        assert_eq!(db.search("Room", 10).await.unwrap().len(), 1);
        // Written back out, the same rows under the full header of this program.
        let again = String::from_utf8(backup_bytes(db).await).unwrap();
        let old = String::from_utf8(old).unwrap();
        let rows = |text: &str| text.lines().skip(1).filter(|l| l.starts_with('[')).map(String::from).collect::<Vec<_>>();
        assert_eq!(rows(&again), rows(&old));
        assert!(again.lines().next().unwrap().contains("\"name\":\"api_tokens\""));
        // Tables must come in this program's order.
        let swapped = reseal(&backup_bytes(db).await, |lines| {
            let mut header: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
            header["tables"].as_array_mut().unwrap().swap(0, 1);
            lines[0] = header.to_string();
        });
        assert_refused(db, &swapped, "each at most once, in that order").await;
    }
}

/// Every entry of SQLite's search index, as text, in rowid order.
const SEARCH_INDEX: &str = "SELECT rowid || '|' || kind || '|' || ref_id || '|' || name || '|' \
                            || body AS v FROM search_fts ORDER BY rowid";

/// A restore on SQLite loads with the search triggers dropped and rebuilds the index in one
/// pass: the index it builds is the one the triggers kept, entry for entry, and afterwards
/// the triggers and foreign keys are back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_restore_rebuilds_the_search_index_the_triggers_kept() {
    let t = inventory_db::testing::sqlite().await;
    let db = &t.db;
    let f = seed(db).await;
    let before = db.query_text_for_tests(SEARCH_INDEX).await.unwrap();
    assert_eq!(before.len(), 27, "24 locations and 3 items: {before:?}");
    assert!(
        before
            .iter()
            .any(|e| e.contains("|item|") && e.contains("spare")),
        "{before:?}"
    );
    let triggers = "SELECT name AS v FROM sqlite_master WHERE type = 'trigger' ORDER BY name";
    let kept = db.query_text_for_tests(triggers).await.unwrap();
    assert_eq!(
        kept.len(),
        9,
        "search and category count triggers: {kept:?}"
    );
    let bytes = backup_bytes(db).await;
    restore_bytes(db, &bytes).await.unwrap();
    assert_eq!(db.query_text_for_tests(SEARCH_INDEX).await.unwrap(), before);
    assert_eq!(db.query_text_for_tests(triggers).await.unwrap(), kept);
    let fk = "SELECT CAST(foreign_keys AS TEXT) AS v FROM pragma_foreign_keys";
    assert_eq!(
        db.query_text_for_tests(fk).await.unwrap(),
        ["1"],
        "foreign keys back on"
    );
    // The triggers work again: a rename is indexed, a delete leaves the index.
    db.update_item(
        f.items[1],
        &inventory_db::ItemChanges {
            name: Some("Teapot".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(finds_item(db, "Teapot", f.items[1]).await);
    assert!(!finds_item(db, "Kettle", f.items[1]).await);
    let err = db
        .execute_raw_for_tests(
            "DELETE FROM locations WHERE id = (SELECT location_id FROM items LIMIT 1)",
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().to_lowercase().contains("foreign key"),
        "{err}"
    );
}
