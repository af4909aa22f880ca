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
