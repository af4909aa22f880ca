//! Deterministic sample data for benchmarks and tests: realistic location forests, planted
//! damage, and whole homes of locations and items ([`home_data`]).
//!
//! No `rand` dependency: a seeded xorshift generator, so the same `(n, seed)` always gives the same rows.

mod home;
mod words;

use std::collections::{HashMap, HashSet};

pub use home::{
    home_data, GenItem, GenLocation, HomeData, HomeSpec, COMMON_WORD, RARE_WORD, RARE_WORD_ITEMS,
};

use serde::{Deserialize, Serialize};

use crate::{Cycle, LocationId, LocationRow, LocationType, Orphan};

/// A small, fast, seedable pseudo-random generator (xorshift64*). Not for anything secret.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator for `seed` (any value, zero included).
    pub fn new(seed: u64) -> Self {
        // splitmix64 spreads nearby seeds apart and never leaves the state at zero.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        XorShift((z ^ (z >> 31)) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        // Modulo bias is negligible for the small ranges used here.
        (self.next_u64() % n as u64) as usize
    }
}

const ROOM_NAMES: [&str; 10] = [
    "Kitchen",
    "Living Room",
    "Bedroom",
    "Bathroom",
    "Garage",
    "Attic",
    "Basement",
    "Office",
    "Hallway",
    "Laundry",
];

const CONTAINER_NAMES: [&str; 6] = ["Box", "Drawer", "Bin", "Crate", "Cupboard", "Basket"];

/// How many levels of containers and shelves may stack below a room.
const MAX_HOLDER_DEPTH: u8 = 6;

/// How many of the most recent rooms, containers and shelves new ones are put under (locality).
const RECENT_PARENTS: usize = 64;

/// `n` rows of a realistic forest that satisfies the default [`crate::TypeRules`] and has unique
/// sibling names: houses (about one per thousand rows) with rooms, and containers and shelves
/// nested up to six levels below the rooms. Ids are `1..=n`, parents come before their children.
pub fn sample_forest_rows(n: usize, seed: u64) -> Vec<LocationRow> {
    let mut rng = XorShift::new(seed);
    let mut rows: Vec<LocationRow> = Vec::with_capacity(n);
    // Children so far, per id (index id - 1) and at the root; numbers names so that siblings differ.
    let mut child_count: Vec<u32> = Vec::with_capacity(n);
    let mut root_count = 0u32;
    let mut houses: Vec<LocationId> = Vec::new();
    // Candidate parents for containers and shelves: (id, type, depth below the room).
    let mut holders: Vec<(LocationId, LocationType, u8)> = Vec::new();

    for index in 0..n {
        let id = index as LocationId + 1;
        let roll = rng.below(1000);
        let (parent, location_type, depth) = if houses.is_empty() || roll < 1 {
            (None, LocationType::House, 0)
        } else if roll < 30 || holders.is_empty() {
            let recent = &houses[houses.len().saturating_sub(2)..];
            let house = recent[rng.below(recent.len())];
            (Some(house), LocationType::Room, 0)
        } else {
            let recent = &holders[holders.len().saturating_sub(RECENT_PARENTS)..];
            let (parent, parent_type, parent_depth) = recent[rng.below(recent.len())];
            let shelf_allowed = parent_type != LocationType::Shelf;
            let location_type = if shelf_allowed && rng.below(10) < 3 {
                LocationType::Shelf
            } else {
                LocationType::Container
            };
            (Some(parent), location_type, parent_depth + 1)
        };

        let k = match parent {
            None => {
                root_count += 1;
                root_count
            }
            Some(p) => {
                let slot = &mut child_count[(p - 1) as usize];
                *slot += 1;
                *slot
            }
        };
        let name = match location_type {
            LocationType::House => format!("House {k}"),
            LocationType::Room => {
                let base = ROOM_NAMES[(k as usize - 1) % ROOM_NAMES.len()];
                match (k as usize - 1) / ROOM_NAMES.len() {
                    0 => base.to_owned(),
                    round => format!("{base} {}", round + 1),
                }
            }
            LocationType::Container => {
                format!("{} {k}", CONTAINER_NAMES[rng.below(CONTAINER_NAMES.len())])
            }
            LocationType::Shelf => format!("Shelf {k}"),
        };

        match location_type {
            LocationType::House => houses.push(id),
            _ if depth < MAX_HOLDER_DEPTH => holders.push((id, location_type, depth)),
            _ => {}
        }
        child_count.push(0);
        rows.push(LocationRow {
            id,
            parent_id: parent,
            location_type,
            name,
        });
    }
    rows
}

/// The damage [`plant_damage`] put into rows: what [`crate::analyze`] should find.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlantedDamage {
    /// Rows given a parent id that no row has; sorted by id.
    pub orphans: Vec<Orphan>,
    /// Cycles made by putting a row under itself or one of its (up to three levels deep)
    /// descendants; in the same normal form and order as [`crate::IntegrityReport::cycles`].
    pub cycles: Vec<Cycle>,
}

/// Plants up to `orphans` orphans and `cycles` cycles, all disjoint, into rows that form a valid
/// forest with unique ids (fewer when the rows are too few to keep them apart).
pub fn plant_damage(
    rows: &mut [LocationRow],
    orphans: usize,
    cycles: usize,
    seed: u64,
) -> PlantedDamage {
    let mut rng = XorShift::new(seed);
    let index: HashMap<LocationId, usize> =
        rows.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    let mut used: HashSet<usize> = HashSet::new();
    let mut planted = PlantedDamage::default();
    if rows.is_empty() {
        return planted;
    }

    let mut attempts = 0;
    while planted.cycles.len() < cycles && attempts < 100 * cycles {
        attempts += 1;
        // Walk up to three steps from a random row; the top of the walk goes under the start.
        let start = rng.below(rows.len());
        let steps = rng.below(4);
        let mut chain = vec![start];
        let mut cur = start;
        for _ in 0..steps {
            match rows[cur].parent_id.and_then(|p| index.get(&p)) {
                Some(&p) => {
                    chain.push(p);
                    cur = p;
                }
                None => break,
            }
        }
        if chain.iter().any(|i| used.contains(i)) {
            continue;
        }
        rows[cur].parent_id = Some(rows[start].id);
        used.extend(chain.iter().copied());
        // Following parent links from `start`: start, its parent, ..., cur, back to start.
        let mut members: Vec<LocationId> = chain.iter().map(|&i| rows[i].id).collect();
        if let Some(smallest) = (0..members.len()).min_by_key(|&k| members[k]) {
            members.rotate_left(smallest);
        }
        planted.cycles.push(Cycle { members });
    }

    let max_id = rows.iter().map(|r| r.id).max().unwrap_or(0);
    let mut attempts = 0;
    while planted.orphans.len() < orphans && attempts < 100 * orphans {
        attempts += 1;
        let i = rng.below(rows.len());
        if !used.insert(i) {
            continue;
        }
        let missing_parent_id = max_id + 1 + planted.orphans.len() as LocationId;
        rows[i].parent_id = Some(missing_parent_id);
        planted.orphans.push(Orphan {
            id: rows[i].id,
            missing_parent_id,
        });
    }

    planted.orphans.sort_unstable_by_key(|o| o.id);
    planted
        .cycles
        .sort_unstable_by_key(|c| c.members.first().copied());
    planted
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{analyze, Forest, TypeRules};

    #[test]
    fn same_seed_gives_same_rows() {
        assert_eq!(sample_forest_rows(2000, 7), sample_forest_rows(2000, 7));
        assert_ne!(sample_forest_rows(2000, 7), sample_forest_rows(2000, 8));
    }

    #[test]
    fn sample_forest_is_clean_under_default_rules() {
        let rows = sample_forest_rows(20_000, 1);
        assert_eq!(rows.len(), 20_000);
        let report = analyze(&rows, &TypeRules::default());
        assert!(report.is_clean(), "{report:?}");
        assert!(Forest::from_rows(rows).is_ok());
    }

    #[test]
    fn sample_forest_has_every_type() {
        let rows = sample_forest_rows(5_000, 3);
        for t in LocationType::ALL {
            assert!(rows.iter().any(|r| r.location_type == t), "{t}");
        }
    }

    #[test]
    fn sample_forest_is_deeper_than_a_room() {
        let f = Forest::from_rows(sample_forest_rows(5_000, 3)).unwrap();
        let deepest = f.rows().filter_map(|r| f.depth(r.id)).max().unwrap();
        assert!(deepest >= 4, "deepest {deepest}");
    }

    #[test]
    fn planted_damage_is_exactly_what_analyze_finds() {
        let mut rows = sample_forest_rows(10_000, 5);
        let planted = plant_damage(&mut rows, 5, 5, 9);
        assert_eq!((planted.orphans.len(), planted.cycles.len()), (5, 5));
        let report = analyze(&rows, &TypeRules::default());
        assert_eq!(report.orphans, planted.orphans);
        assert_eq!(report.cycles, planted.cycles);
    }

    #[test]
    fn below_stays_in_range() {
        let mut rng = XorShift::new(0);
        assert!((0..1000).all(|_| rng.below(7) < 7));
        assert_eq!(rng.below(0), 0);
    }
}
