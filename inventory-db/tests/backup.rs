//! Backup, restore and copy: byte-identical round trips on and across both backends,
//! all-or-nothing refusal of damaged input, and concurrency.
#![allow(clippy::unwrap_used)]

use inventory_core::LocationType;
use inventory_db::backup::{Compression, Progress, FORMAT_NAME};
use inventory_db::testing::{postgres, postgres_with, sqlite, sqlite_with};
use inventory_db::{backend_tests, Database, DbError, ErrorKind, NewLocation};

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

/// A house with rooms, nested containers and shelves; one container is moved under a
/// container created after it, so id order is not parent-first order.
async fn seed(db: &Database) -> Vec<i64> {
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
    let mut input = bytes;
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
        let ids = seed(db).await;
        let mut out = Vec::new();
        let summary = db.write_backup(&mut out, quiet()).await.unwrap();
        assert_eq!(summary.total_rows, ids.len() as u64 + 1);
        assert_eq!(summary.tables[0].table, "locations");
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let header: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(header["format"], FORMAT_NAME);
        assert_eq!(header["format_version"], 1);
        assert_eq!(header["tables"][0]["rows"], ids.len() + 1);
        assert_eq!(lines.len(), ids.len() + 3);
        assert!(lines[1].starts_with("[1,\"My House\""), "{}", lines[1]);
        assert!(lines[1].contains(".") && lines[1].ends_with("Z\"]"), "timestamps normalized: {}", lines[1]);
        assert!(lines.last().unwrap().contains("\"fnv1a64\""));
    }

    async fn round_trip_gives_identical_bytes(db: &Database) {
        seed(db).await;
        let first = backup_bytes(db).await;
        let summary = restore_bytes(db, &first).await.unwrap();
        assert_eq!(summary.total_rows, 24);
        assert_eq!(backup_bytes(db).await, first);
    }

    async fn file_round_trips_identical_plain_gz_zst(db: &Database) {
        seed(db).await;
        let plain = backup_bytes(db).await;
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.jsonl", "b.jsonl.gz", "b.jsonl.zst"] {
            let path = dir.path().join(name);
            db.backup_to_file(&path, quiet()).await.unwrap();
            let written = std::fs::read(&path).unwrap();
            assert_eq!(Compression::from_magic(&written), Compression::from_path(&path), "{name}");
            assert_eq!(decompress(&written), plain, "{name}");
            db.restore_from_file(&path, quiet()).await.unwrap();
            let again = dir.path().join(format!("again-{name}"));
            db.backup_to_file(&again, quiet()).await.unwrap();
            assert_eq!(std::fs::read(&again).unwrap(), written, "{name}");
        }
        // Compression is detected by content, not by name.
        let disguised = dir.path().join("disguised.jsonl");
        std::fs::copy(dir.path().join("b.jsonl.zst"), &disguised).unwrap();
        db.restore_from_file(&disguised, quiet()).await.unwrap();
        assert_eq!(backup_bytes(db).await, plain);
        // No temporary files are left behind.
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    async fn failed_backup_leaves_no_file(db: &Database) {
        seed(db).await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("b.jsonl");
        let err = db.backup_to_file(&path, quiet()).await.unwrap_err();
        assert!(err.to_string().contains("cannot write backup"), "{err}");
        assert!(!path.exists());
    }

    async fn progress_reaches_total(db: &Database) {
        seed(db).await;
        let seen = std::sync::Mutex::new(Vec::new());
        let record = |done: u64, total: u64| seen.lock().unwrap().push((done, total));
        let mut out = Vec::new();
        db.write_backup(&mut out, &record).await.unwrap();
        assert_eq!(seen.lock().unwrap().last(), Some(&(24, 24)));
        seen.lock().unwrap().clear();
        let mut input = &out[..];
        db.restore_backup(&mut input, &record).await.unwrap();
        assert_eq!(seen.lock().unwrap().last(), Some(&(24, 24)));
    }

    async fn restore_keeps_ids_and_resets_the_sequence(db: &Database) {
        let ids = seed(db).await;
        let bytes = backup_bytes(db).await;
        let max = *ids.iter().max().unwrap() + 1; // the Garage
        let tree = db.location_tree(None, None).await.unwrap();
        for root in tree {
            db.delete_location(root.location.id).await.unwrap();
        }
        db.create_location(&new("Interim", LocationType::House, None)).await.unwrap();
        restore_bytes(db, &bytes).await.unwrap();
        for id in &ids {
            db.get_location(*id).await.unwrap();
        }
        let moved = db.resolve_path("My House / Room 3 / Box 3.2 / B / A").await.unwrap();
        assert_eq!(moved, ids[ids.len() - 2]);
        let fresh = db.create_location(&new("Shed", LocationType::House, None)).await.unwrap();
        assert_eq!(fresh.id, max + 1);
    }

    async fn restore_replaces_existing_data(db: &Database) {
        db.create_location(&new("Old Flat", LocationType::House, None)).await.unwrap();
        let old = backup_bytes(db).await;
        db.create_location(&new("Another", LocationType::House, None)).await.unwrap();
        seed(db).await;
        let big = backup_bytes(db).await;
        restore_bytes(db, &old).await.unwrap();
        assert_eq!(db.location_tree(None, None).await.unwrap().len(), 1);
        assert!(db.resolve_path("My House").await.is_err());
        assert_eq!(backup_bytes(db).await, old);
        restore_bytes(db, &big).await.unwrap();
        assert_eq!(backup_bytes(db).await, big);
    }

    async fn empty_backup_round_trips(db: &Database) {
        let empty = backup_bytes(db).await;
        seed(db).await;
        restore_bytes(db, &empty).await.unwrap();
        assert!(db.location_tree(None, None).await.unwrap().is_empty());
        assert_eq!(backup_bytes(db).await, empty);
    }

    async fn truncated_backup_is_refused(db: &Database) {
        seed(db).await;
        let good = backup_bytes(db).await;
        let text = String::from_utf8(good.clone()).unwrap();
        let cut = text.find("\"Room 2\"").unwrap();
        assert_refused(db, &good[..cut], "backup is truncated: expected 24 rows, found").await;
        let without_trailer = text.rfind("{\"total_rows\"").unwrap();
        assert_refused(db, &good[..without_trailer], "trailer line is missing").await;
        assert_refused(db, &good[..good.len() - 3], "truncated").await;
        assert_refused(db, &good[..10], "not a Home Inventory backup").await;
        assert_refused(db, b"", "the input is empty").await;
    }

    async fn truncated_compressed_backup_is_refused(db: &Database) {
        seed(db).await;
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.gz", "b.zst"] {
            let path = dir.path().join(name);
            db.backup_to_file(&path, quiet()).await.unwrap();
            let bytes = std::fs::read(&path).unwrap();
            assert_refused(db, &bytes[..bytes.len() * 2 / 3], "backup").await;
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
        assert_refused(db, &bad, "backup line").await;
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
        assert_refused(db, &[0x1f, 0x8b, 0, 1, 2, 3], "backup").await;
        let unknown = reseal(&good, |lines| lines[0] = lines[0].replace("\"locations\"", "\"gadgets\""));
        assert_refused(db, &unknown, "table \"gadgets\", which this program does not know").await;
        let column = reseal(&good, |lines| lines[0] = lines[0].replace("\"parent_id\"", "\"mother_id\""));
        assert_refused(db, &column, "has columns").await;
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
    }

    async fn other_damage_is_refused(db: &Database) {
        seed(db).await;
        let good = backup_bytes(db).await;
        let cycle = reseal(&good, |lines| {
            let mut root: Vec<serde_json::Value> = serde_json::from_str(&lines[1]).unwrap();
            root[4] = serde_json::json!(2);
            lines[1] = serde_json::to_string(&root).unwrap();
        });
        assert_refused(db, &cycle, "cycle").await;
        let swapped = reseal(&good, |lines| lines.swap(2, 3));
        assert_refused(db, &swapped, "primary-key order").await;
        let bad_type = reseal(&good, |lines| lines[2] = lines[2].replace("\"ROOM\"", "\"CASTLE\""));
        assert_refused(db, &bad_type, "backup location 2").await;
        let bad_time = reseal(&good, |lines| lines[2] = lines[2].replacen("Z\"", "Q\"", 1));
        assert_refused(db, &bad_time, "backup line 3: created_at").await;
        let extra = reseal(&good, |lines| {
            let mut row: Vec<serde_json::Value> = serde_json::from_str(&lines[2]).unwrap();
            row.push(serde_json::json!(1));
            lines[2] = serde_json::to_string(&row).unwrap();
        });
        assert_refused(db, &extra, "backup line 3").await;
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
    }

    async fn concurrent_restores_end_with_one_whole_backup(db: &Database) {
        seed(db).await;
        let first = backup_bytes(db).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_to_postgres_and_back_is_byte_identical() {
    let s = sqlite().await;
    seed(&s.db).await;
    let from_sqlite = backup_bytes(&s.db).await;
    let Some(p) = postgres_with(false).await else {
        return;
    };
    restore_bytes(&p.db, &from_sqlite).await.unwrap(); // migrates the empty database first
    let from_postgres = backup_bytes(&p.db).await;
    assert_eq!(
        String::from_utf8(from_postgres.clone()).unwrap(),
        String::from_utf8(from_sqlite.clone()).unwrap()
    );
    let s2 = sqlite_with(false).await;
    restore_bytes(&s2.db, &from_postgres).await.unwrap();
    assert_eq!(backup_bytes(&s2.db).await, from_sqlite);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_between_backends_in_both_directions() {
    let s = sqlite().await;
    seed(&s.db).await;
    let original = backup_bytes(&s.db).await;
    let Some(p) = postgres_with(false).await else {
        return;
    };
    let summary = s.db.copy_to(&p.db, quiet()).await.unwrap();
    assert_eq!(summary.total_rows, 24);
    assert_eq!(backup_bytes(&p.db).await, original);
    let s2 = sqlite_with(false).await;
    p.db.copy_to(&s2.db, quiet()).await.unwrap();
    assert_eq!(backup_bytes(&s2.db).await, original);
    let p2 = postgres().await.unwrap();
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
        // The real schema version, taken from a backup of this database.
        let empty = backup_bytes(db).await;
        let header: serde_json::Value =
            serde_json::from_slice(empty.split(|b| *b == b'\n').next().unwrap()).unwrap();
        let version = header["schema_version"].as_str().unwrap().to_string();
        let rows = 12_000;
        let bytes = reseal(&long_chain_backup(rows), |lines| {
            lines[0] = lines[0].replace("\"schema_version\":\"x\"", &format!("\"schema_version\":\"{version}\""));
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
