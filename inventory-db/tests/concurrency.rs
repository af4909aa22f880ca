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

/// Runs every (moved, new_parent) pair at once; returns how many succeeded and refused.
async fn race(db: &Database, moves: &[(i64, i64)]) -> (usize, usize) {
    let tasks: Vec<_> = moves
        .iter()
        .map(|&(moved, target)| {
            let db = db.clone();
            tokio::spawn(async move { db.move_location(moved, Some(target)).await })
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

backend_tests! {
    async fn opposing_moves_never_commit_a_cycle(db: &Database) {
        let house = add(db, "House", LocationType::House, None).await;
        let room = add(db, "Room", LocationType::Room, Some(house)).await;
        let mut boxes = Vec::new();
        for name in ["A", "B", "C", "D", "E"] {
            boxes.push(add(db, name, LocationType::Container, Some(room)).await);
        }
        let (a, b, c, d, e) = (boxes[0], boxes[1], boxes[2], boxes[3], boxes[4]);
        let mut total = 0;
        let mut refused_total = 0;
        for round in 0..ROUNDS {
            for &x in &boxes {
                db.move_location(x, Some(room)).await.unwrap();
            }
            let moves: Vec<(i64, i64)> = match round % 3 {
                0 => vec![(a, b), (b, a)],
                1 => vec![(a, b), (b, c), (c, a)],
                _ => vec![(a, b), (b, c), (c, d), (d, e), (e, a), (b, a), (d, c)],
            };
            let (ok, refused) = race(db, &moves).await;
            total += moves.len();
            refused_total += refused;
            assert!(refused >= 1, "a full ring can never be accepted whole (round {round})");
            assert_eq!(ok + refused, moves.len());
            let report = db.integrity(false).await.unwrap().report;
            assert!(report.cycles.is_empty() && report.unreachable.is_empty(), "round {round}: {report:?}");
            for &x in &boxes {
                let path = db.get_location(x).await.unwrap().location.full_path;
                assert!(path.starts_with("House / Room / "), "{path}");
            }
        }
        assert!(total >= 150, "ran {total} opposing moves, {refused_total} refused");
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
