//! Opposing moves from many concurrent tasks never commit a cycle (both backends).
#![allow(clippy::unwrap_used)]

use inventory_core::{LocationType, MoveError};
use inventory_db::{backend_tests, Database, DbError, NewLocation};

const ROUNDS: usize = 40;

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

/// Runs every (moved, new_parent) pair at once: the tasks wait at a barrier, so that all
/// the moves of a round start together. Returns how many succeeded and were refused.
async fn race(db: &Database, moves: &[(i64, i64)]) -> (usize, usize) {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(moves.len()));
    let tasks: Vec<_> = moves
        .iter()
        .map(|&(moved, target)| {
            let db = db.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                db.move_location(moved, Some(target)).await
            })
        })
        .collect();
    let (mut ok, mut refused) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(DbError::Move(MoveError::CycleDetected { .. })) => refused += 1,
            Err(other) => panic!("a refused move must be the cycle error, got: {other}"),
        }
    }
    (ok, refused)
}

/// The moves of round `round` between the boxes `a`..`e` (all under one room before the
/// round), and how many of them must succeed, when that is fixed.
///
/// - `a → b, b → a`: a 2-ring; whichever runs first wins, the other closes the cycle.
/// - `a → b, b → c, c → a`: a 3-ring; any two edges make a chain, the third closes it.
/// - a 5-ring plus `b → a` and `d → c`: the outcome depends on the order; at least one
///   move succeeds (the first) and at least one is refused (the ring cannot be whole).
fn round_moves(round: usize, [a, b, c, d, e]: [i64; 5]) -> (Vec<(i64, i64)>, Option<usize>) {
    match round % 3 {
        0 => (vec![(a, b), (b, a)], Some(1)),
        1 => (vec![(a, b), (b, c), (c, a)], Some(2)),
        _ => (
            vec![(a, b), (b, c), (c, d), (d, e), (e, a), (b, a), (d, c)],
            None,
        ),
    }
}

backend_tests! {
    async fn opposing_moves_never_commit_a_cycle(db: &Database) {
        let house = add(db, "House", LocationType::House, None).await;
        let room = add(db, "Room", LocationType::Room, Some(house)).await;
        let mut boxes = Vec::new();
        for name in ["A", "B", "C", "D", "E"] {
            boxes.push(add(db, name, LocationType::Container, Some(room)).await);
        }
        let ring = [boxes[0], boxes[1], boxes[2], boxes[3], boxes[4]];
        let (mut total, mut ok_total, mut refused_total) = (0, 0, 0);
        for round in 0..ROUNDS {
            for &x in &boxes {
                db.move_location(x, Some(room)).await.unwrap();
            }
            let (moves, must_succeed) = round_moves(round, ring);
            let (ok, refused) = race(db, &moves).await;
            total += moves.len();
            ok_total += ok;
            refused_total += refused;
            assert_eq!(ok + refused, moves.len(), "round {round}");
            assert!(refused >= 1, "a full ring can never be accepted whole (round {round})");
            assert!(ok >= 1, "the first move of a round always succeeds (round {round})");
            if let Some(n) = must_succeed {
                assert_eq!(ok, n, "round {round}: {ok} of {} moves succeeded", moves.len());
            }
            let report = db.integrity(false).await.unwrap().report;
            assert!(report.cycles.is_empty() && report.unreachable.is_empty(), "round {round}: {report:?}");
            for &x in &boxes {
                let path = db.get_location(x).await.unwrap().location.full_path;
                assert!(path.starts_with("House / Room / "), "{path}");
            }
        }
        // 14 two-rings, 13 three-rings and 13 rounds of seven moves.
        assert_eq!(total, 14 * 2 + 13 * 3 + 13 * 7, "moves run");
        assert_eq!(ok_total + refused_total, total);
        assert!(ok_total >= 14 + 13 * 2 + 13, "{ok_total} of {total} succeeded");
        assert!(refused_total >= 14 + 13 + 13, "{refused_total} of {total} refused");
    }
}

/// Item moves into a box raced against deleting that box: item writes take no tree lock,
/// so the foreign keys decide. Either the delete wins (the move finds no box) or the move
/// wins (the delete is refused: items inside); an item is never lost and no other error
/// leaks.
async fn race_move_against_delete(db: &Database, round: usize, room: i64) -> (bool, bool) {
    let from = add(
        db,
        &format!("From {round}"),
        LocationType::Container,
        Some(room),
    )
    .await;
    let to = add(
        db,
        &format!("To {round}"),
        LocationType::Container,
        Some(room),
    )
    .await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            db.create_item(&inventory_db::NewItem::new(
                format!("Thing {round}.{i}"),
                from,
            ))
            .await
            .unwrap()
            .id,
        );
    }
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let (mover, deleter) = (db.clone(), db.clone());
    let (b1, b2) = (barrier.clone(), barrier.clone());
    let moved_ids = ids.clone();
    let moving = tokio::spawn(async move {
        b1.wait().await;
        mover.move_items(&moved_ids, to).await
    });
    let deleting = tokio::spawn(async move {
        b2.wait().await;
        deleter.delete_location(to).await
    });
    let moved = match moving.await.unwrap() {
        Ok(items) => {
            assert!(items.iter().all(|i| i.location_id == to));
            true
        }
        Err(DbError::NotFound { .. }) => false,
        Err(other) => {
            panic!("round {round}: a move lost to a delete must be not-found, got: {other}")
        }
    };
    let deleted = match deleting.await.unwrap() {
        Ok(_) => true,
        Err(DbError::ItemsInside { .. }) => false,
        Err(other) => {
            panic!("round {round}: a delete lost to a move must be items-inside, got: {other}")
        }
    };
    assert!(
        moved != deleted,
        "round {round}: exactly one of the two wins (moved {moved}, deleted {deleted})"
    );
    for id in &ids {
        let item = db.get_item(*id).await.unwrap();
        assert_eq!(
            item.location_id,
            if moved { to } else { from },
            "round {round}"
        );
        db.get_location(item.location_id).await.unwrap();
    }
    (moved, deleted)
}

backend_tests! {
    async fn item_moves_raced_against_location_deletes_never_lose_an_item(db: &Database) {
        let house = add(db, "House", LocationType::House, None).await;
        let room = add(db, "Room", LocationType::Room, Some(house)).await;
        let (mut moves_won, mut deletes_won) = (0, 0);
        for round in 0..30 {
            let (moved, deleted) = race_move_against_delete(db, round, room).await;
            moves_won += usize::from(moved);
            deletes_won += usize::from(deleted);
        }
        assert_eq!(moves_won + deletes_won, 30);
        let outcome = db.integrity(false).await.unwrap();
        assert!(outcome.is_clean(), "{outcome:?}");
    }
}

/// Spellings that share one name key (PRODUCT §3): ASCII case, the Kelvin sign, NFC and
/// NFD accents, ß against SS, Greek final sigma.
const SAME_NAME: [&[&str]; 5] = [
    &["Kiosk", "KIOSK", "kiosk", "\u{212A}iosk", " kIOSK "],
    &["Café", "Cafe\u{301}", "CAFÉ", "cafe\u{301}", "Cafe\u{301} "],
    &["Straße", "STRASSE", "strasse", "STRAẞE", "Strasse"],
    &["ΟΔΟΣ", "οδοσ", "οδος", "Οδος", "ΟΔΟς"],
    &["ǅemal", "ǄEMAL", "ǆemal", "ǅEMAL"],
];

/// Whether a create or rename lost to a sibling with the same name.
fn lost_on_name(result: &Result<inventory_db::Location, DbError>, what: &str) -> bool {
    match result {
        Ok(_) => false,
        Err(DbError::DuplicateName { .. }) => true,
        Err(other) => panic!("{what}: a losing write must be a duplicate name, got: {other}"),
    }
}

/// Runs `write(db, i)` for every `i` in `0..n` at once (the tasks start together).
async fn all_at_once<F, Fut>(
    db: &Database,
    n: usize,
    write: F,
) -> Vec<Result<inventory_db::Location, DbError>>
where
    F: Fn(Database, usize) -> Fut,
    Fut: std::future::Future<Output = Result<inventory_db::Location, DbError>> + Send + 'static,
{
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let barrier = barrier.clone();
            let write = write(db.clone(), i);
            tokio::spawn(async move {
                barrier.wait().await;
                write.await
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    results
}

/// Direct children of `parent` (or the roots) whose name key is `key`.
async fn named(db: &Database, parent: Option<i64>, key: &str) -> Vec<inventory_db::Location> {
    let filter = inventory_db::LocationFilter {
        parent_id: parent,
        roots_only: parent.is_none(),
        ..Default::default()
    };
    db.list_locations(&filter, &inventory_db::PageRequest::first(500))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|l| inventory_core::name_key(&l.name) == key)
        .collect()
}

backend_tests! {
    async fn concurrent_creates_of_one_sibling_name_let_exactly_one_win(db: &Database) {
        let house = add(db, "House", LocationType::House, None).await;
        let room = add(db, "Room", LocationType::Room, Some(house)).await;
        for spellings in SAME_NAME {
            let key = inventory_core::name_key(spellings[0]);
            assert!(spellings.iter().all(|s| inventory_core::name_key(s) == key), "{spellings:?}");
            for (parent, kind) in [(Some(room), LocationType::Container), (None, LocationType::House)] {
                let results = all_at_once(db, spellings.len(), |db, i| {
                    let name = spellings[i].to_string();
                    async move {
                        db.create_location(&NewLocation {
                            name,
                            description: None,
                            location_type: kind,
                            parent_id: parent,
                        })
                        .await
                    }
                })
                .await;
                let lost = results.iter().filter(|r| lost_on_name(r, spellings[0])).count();
                assert_eq!(lost, spellings.len() - 1, "{spellings:?} under {parent:?}: exactly one create wins");
                let stored = named(db, parent, &key).await;
                assert_eq!(stored.len(), 1, "{spellings:?}: {stored:?}");
                let winner = results.iter().find_map(|r| r.as_ref().ok()).unwrap();
                assert_eq!(stored[0].id, winner.id);
            }
        }
        let outcome = db.integrity(false).await.unwrap();
        assert!(outcome.is_clean(), "{outcome:?}");
    }

    async fn concurrent_renames_to_one_sibling_name_let_exactly_one_win(db: &Database) {
        let house = add(db, "House", LocationType::House, None).await;
        let room = add(db, "Room", LocationType::Room, Some(house)).await;
        for (round, spellings) in SAME_NAME.iter().enumerate() {
            let key = inventory_core::name_key(spellings[0]);
            let mut ids = Vec::new();
            for i in 0..spellings.len() {
                ids.push(add(db, &format!("Box {round}.{i}"), LocationType::Container, Some(room)).await);
            }
            let results = all_at_once(db, spellings.len(), |db, i| {
                let (id, name) = (ids[i], spellings[i].to_string());
                async move {
                    db.update_location(id, &inventory_db::LocationChanges {
                        name: Some(name),
                        ..Default::default()
                    })
                    .await
                }
            })
            .await;
            let lost = results.iter().filter(|r| lost_on_name(r, spellings[0])).count();
            assert_eq!(lost, spellings.len() - 1, "{spellings:?}: exactly one rename wins");
            let stored = named(db, Some(room), &key).await;
            assert_eq!(stored.len(), 1, "{spellings:?}: {stored:?}");
            // The losers kept their names.
            for (i, result) in results.iter().enumerate() {
                let name = db.get_location(ids[i]).await.unwrap().location.name;
                match result {
                    Ok(l) => assert_eq!(name, l.name),
                    Err(_) => assert_eq!(name, format!("Box {round}.{i}")),
                }
            }
        }
        let outcome = db.integrity(false).await.unwrap();
        assert!(outcome.is_clean(), "{outcome:?}");
    }
}

backend_tests! {
    async fn a_whole_tree_read_beside_deletes_sees_one_state(db: &Database) {
        // Houses made first (low ids), their rooms after all of them (high ids): a read of
        // every row in two halves, each half from a different moment, would show rooms
        // whose house is gone.
        let houses: Vec<i64> = create_many(db, 40, |i| format!("House {i}"), None).await;
        for (i, &house) in houses.iter().enumerate() {
            create_many(db, 3, |k| format!("Room {i}.{k}"), Some(house)).await;
        }
        let deleting = {
            let db = db.clone();
            let houses = houses.clone();
            tokio::spawn(async move {
                for house in houses {
                    db.delete_location(house).await.unwrap();
                }
            })
        };
        let mut reads = 0;
        while !deleting.is_finished() || reads == 0 {
            let outline = db.location_outline(None, None).await.unwrap();
            let ids: std::collections::HashSet<i64> = outline.nodes().iter().map(|n| n.id).collect();
            for node in outline.nodes() {
                if let Some(parent) = node.parent_id {
                    assert!(ids.contains(&parent), "#{} without its parent #{parent}", node.id);
                }
            }
            assert_eq!(outline.nodes().len() % 4, 0, "a house and its rooms go together");
            reads += 1;
        }
        deleting.await.unwrap();
        assert!(db.location_outline(None, None).await.unwrap().is_empty());
    }
}

/// Creates `n` locations named by `name` under `parent` (rooms) or at the root (houses),
/// one after another; returns their ids.
async fn create_many(
    db: &Database,
    n: usize,
    name: impl Fn(usize) -> String,
    parent: Option<i64>,
) -> Vec<i64> {
    let kind = if parent.is_some() {
        LocationType::Room
    } else {
        LocationType::House
    };
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(add(db, &name(i), kind, parent).await);
    }
    ids
}
