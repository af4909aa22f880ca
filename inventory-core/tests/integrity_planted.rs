//! Property: `analyze` finds exactly the orphans and cycles planted in an otherwise valid random forest.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, HashMap, HashSet};

use inventory_core::{
    analyze, best_effort_paths, Cycle, LocationId, LocationRow, LocationType, Orphan, TypeRules,
};
use proptest::prelude::*;

/// A planted cycle: a start row index and how many steps up its top is (0 = the start itself).
type CycleSeed = (usize, usize);

#[derive(Debug, Clone)]
struct Case {
    rows: Vec<LocationRow>,
    orphans: Vec<Orphan>,
    cycles: Vec<Cycle>,
}

fn id_of(index: usize) -> LocationId {
    index as LocationId * 5 + 1
}

/// Builds the forest, plants disjoint cycles and then orphans, and records what was planted.
fn plant(parents: &[Option<usize>], cycle_seeds: &[CycleSeed], orphan_seeds: &[usize]) -> Case {
    let n = parents.len();
    let mut parent: Vec<Option<usize>> = parents.to_vec();
    let mut missing: Vec<Option<LocationId>> = vec![None; n];
    let mut used: HashSet<usize> = HashSet::new();
    let mut cycles = Vec::new();
    for &(start, steps) in cycle_seeds {
        let start = start % n;
        let mut chain = vec![start];
        let mut cur = start;
        for _ in 0..steps {
            match parent[cur] {
                Some(p) => {
                    chain.push(p);
                    cur = p;
                }
                None => break,
            }
        }
        if chain.iter().any(|i| used.contains(i)) {
            continue;
        }
        used.extend(chain.iter().copied());
        parent[cur] = Some(start);
        // Parent links from `start`: start → its parent → … → cur → start.
        let mut members: Vec<LocationId> = chain.iter().map(|&i| id_of(i)).collect();
        let smallest = (0..members.len()).min_by_key(|&k| members[k]).unwrap();
        members.rotate_left(smallest);
        cycles.push(Cycle { members });
    }
    let mut orphans = Vec::new();
    for (k, &o) in orphan_seeds.iter().enumerate() {
        let o = o % n;
        if !used.insert(o) {
            continue;
        }
        let missing_parent_id = -1 - k as LocationId; // ids are positive, so these never exist
        missing[o] = Some(missing_parent_id);
        parent[o] = None;
        orphans.push(Orphan {
            id: id_of(o),
            missing_parent_id,
        });
    }
    orphans.sort_by_key(|o| o.id);
    cycles.sort_by_key(|c| c.members[0]);
    let rows = (0..n)
        .map(|i| LocationRow {
            id: id_of(i),
            parent_id: missing[i].or(parent[i].map(id_of)),
            location_type: LocationType::Container,
            name: format!("Box {i}"),
        })
        .collect();
    Case {
        rows,
        orphans,
        cycles,
    }
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (1usize..60)
        .prop_flat_map(|n| {
            (
                prop::collection::vec((any::<bool>(), any::<u32>()), n),
                prop::collection::vec((any::<usize>(), 0usize..5), 0..5),
                prop::collection::vec(any::<usize>(), 0..5),
            )
        })
        .prop_flat_map(|(nodes, cycle_seeds, orphan_seeds)| {
            let parents: Vec<Option<usize>> = nodes
                .iter()
                .enumerate()
                .map(|(i, &(root, raw))| (i > 0 && !root).then(|| raw as usize % i))
                .collect();
            let case = plant(&parents, &cycle_seeds, &orphan_seeds);
            let rows = case.rows.clone();
            (Just(case), Just(rows).prop_shuffle())
        })
        .prop_map(|(case, rows)| Case { rows, ..case })
}

/// Where each row's chain ends, by a naive walk with a visited set.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum End {
    Root,
    Orphan,
    Cycle,
}

fn naive_ends(rows: &[LocationRow]) -> HashMap<LocationId, End> {
    let parent: HashMap<LocationId, Option<LocationId>> =
        rows.iter().map(|r| (r.id, r.parent_id)).collect();
    rows.iter()
        .map(|r| {
            let mut seen = BTreeSet::from([r.id]);
            let mut cur = r.parent_id;
            let end = loop {
                match cur {
                    None => break End::Root,
                    Some(c) if !parent.contains_key(&c) => break End::Orphan,
                    Some(c) if !seen.insert(c) => break End::Cycle,
                    Some(c) => cur = parent[&c],
                }
            };
            (r.id, end)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn analyze_finds_exactly_the_planted_orphans_and_cycles(case in case_strategy()) {
        let report = analyze(&case.rows, &TypeRules::permissive());
        prop_assert_eq!(&report.orphans, &case.orphans);
        // Equality with the planted list also means each cycle is reported once.
        prop_assert_eq!(&report.cycles, &case.cycles);
        prop_assert!(report.duplicate_ids.is_empty());
        prop_assert!(report.type_violations.is_empty());
        prop_assert!(report.duplicate_names.is_empty());
        prop_assert_eq!(report.rows, case.rows.len());

        // Unreachable: chains that run into a cycle, minus the cycle members themselves.
        let members: HashSet<LocationId> =
            case.cycles.iter().flat_map(|c| c.members.iter().copied()).collect();
        let ends = naive_ends(&case.rows);
        let mut expected_unreachable: Vec<LocationId> = ends
            .iter()
            .filter(|&(id, &end)| end == End::Cycle && !members.contains(id))
            .map(|(&id, _)| id)
            .collect();
        expected_unreachable.sort_unstable();
        prop_assert_eq!(&report.unreachable, &expected_unreachable);
        prop_assert_eq!(report.is_clean(), case.orphans.is_empty() && case.cycles.is_empty());
    }

    #[test]
    fn best_effort_paths_mark_how_each_chain_ends(case in case_strategy()) {
        let paths = best_effort_paths(&case.rows);
        prop_assert_eq!(paths.len(), case.rows.len());
        for (id, end) in naive_ends(&case.rows) {
            let path = &paths[&id];
            let expected_prefix = match end {
                End::Root => None,
                End::Orphan => Some("? / "),
                End::Cycle => Some("↻ / "),
            };
            match expected_prefix {
                Some(prefix) => prop_assert!(path.starts_with(prefix), "{} {}", id, path),
                None => prop_assert!(!path.starts_with("? / ") && !path.starts_with("↻ / "), "{} {}", id, path),
            }
            let own_name = case.rows.iter().find(|r| r.id == id).map(|r| r.name.clone()).unwrap();
            prop_assert!(path.ends_with(&own_name));
        }
    }
}
