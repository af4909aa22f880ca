//! Property: `Forest` moves agree with a naive reference model (a plain parent map with a naive ancestor walk).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use inventory_core::{Forest, LocationId, LocationRow, LocationType, MoveError, TypeRules};
use proptest::prelude::*;

/// What the model says about a move; the same precedence as `Forest::check_move`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Verdict {
    Accepted,
    NotFound(LocationId),
    Cycle,
    TypeRule,
}

#[derive(Debug, Clone)]
struct Model {
    parent: BTreeMap<LocationId, Option<LocationId>>,
    types: BTreeMap<LocationId, LocationType>,
    names: BTreeMap<LocationId, String>,
    permissive: bool,
}

/// The product's default rules, written out independently of `TypeRules`.
fn default_rule_allows(parent: Option<LocationType>, child: LocationType) -> bool {
    use LocationType::{Container, House, Room, Shelf};
    matches!(
        (parent, child),
        (None, House)
            | (Some(House), Room)
            | (Some(Room | Container), Shelf)
            | (Some(Room | Shelf | Container), Container)
    )
}

impl Model {
    fn verdict(&self, id: LocationId, new_parent: Option<LocationId>) -> Verdict {
        if !self.parent.contains_key(&id) {
            return Verdict::NotFound(id);
        }
        if let Some(p) = new_parent {
            if !self.parent.contains_key(&p) {
                return Verdict::NotFound(p);
            }
            // Naive walk from the new parent up to its root: meeting `id` means a cycle.
            let mut cur = Some(p);
            while let Some(c) = cur {
                if c == id {
                    return Verdict::Cycle;
                }
                cur = self.parent[&c];
            }
        }
        let parent_type = new_parent.map(|p| self.types[&p]);
        if self.permissive || default_rule_allows(parent_type, self.types[&id]) {
            Verdict::Accepted
        } else {
            Verdict::TypeRule
        }
    }

    fn rows(&self) -> Vec<LocationRow> {
        self.parent
            .iter()
            .map(|(&id, &parent_id)| LocationRow {
                id,
                parent_id,
                location_type: self.types[&id],
                name: self.names[&id].clone(),
            })
            .collect()
    }

    /// Depth by a naive walk; `None` if the walk does not end within `len` steps (a cycle).
    fn depth(&self, id: LocationId) -> Option<usize> {
        let mut cur = self.parent[&id];
        let mut depth = 0;
        while let Some(c) = cur {
            depth += 1;
            if depth > self.parent.len() {
                return None;
            }
            cur = self.parent[&c];
        }
        Some(depth)
    }
}

fn verdict_of(result: Result<(), MoveError>) -> Verdict {
    match result {
        Ok(()) => Verdict::Accepted,
        Err(MoveError::NotFound { id }) => Verdict::NotFound(id),
        Err(MoveError::CycleDetected { .. }) => Verdict::Cycle,
        Err(MoveError::TypeRule { .. }) => Verdict::TypeRule,
    }
}

fn type_strategy() -> impl Strategy<Value = LocationType> {
    prop::sample::select(LocationType::ALL.to_vec())
}

/// A random forest (each node's parent is an earlier node or none), as model and shuffled rows.
fn forest_strategy() -> impl Strategy<Value = (Model, Vec<LocationRow>)> {
    (1usize..30, any::<bool>())
        .prop_flat_map(|(n, permissive)| {
            (
                prop::collection::vec(
                    (any::<bool>(), any::<u32>(), type_strategy(), any::<bool>()),
                    n,
                ),
                Just(permissive),
            )
        })
        .prop_flat_map(|(nodes, permissive)| {
            let mut model = Model {
                parent: BTreeMap::new(),
                types: BTreeMap::new(),
                names: BTreeMap::new(),
                permissive,
            };
            for (i, &(root, raw, t, upper)) in nodes.iter().enumerate() {
                let id = id_of(i);
                let parent = (i > 0 && !root).then(|| id_of(raw as usize % i));
                // Globally unique names (so sibling names are unique and paths unambiguous), in mixed case.
                let name = if upper {
                    format!("Node {i}")
                } else {
                    format!("node {i}")
                };
                model.parent.insert(id, parent);
                model.types.insert(id, t);
                model.names.insert(id, name);
            }
            let rows = model.rows();
            (Just(model), Just(rows).prop_shuffle())
        })
}

/// Sparse, non-sequential ids.
fn id_of(index: usize) -> LocationId {
    index as LocationId * 7 + 3
}

/// A move by node index; indices past the forest's size name ids that do not exist.
fn moves_strategy() -> impl Strategy<Value = Vec<(usize, Option<usize>)>> {
    prop::collection::vec(
        (0usize..32, prop::option::weighted(0.85, 0usize..32)),
        0..40,
    )
}

fn assert_matches_model(forest: &Forest, model: &Model) {
    assert_eq!(forest.len(), model.parent.len());
    for (&id, &parent) in &model.parent {
        assert_eq!(forest.parent(id), parent, "parent of {id}");
        // No cycle: the naive walk ends, and agrees with the forest's depth.
        let depth = model.depth(id).expect("model walk ends");
        assert_eq!(forest.depth(id), Some(depth));
        // Every full path resolves back to its id.
        let path = forest.full_path(id).unwrap();
        assert_eq!(forest.resolve_path(&path), Ok(id), "{path}");
        assert_eq!(forest.resolve_path(&path.to_uppercase()), Ok(id), "{path}");
    }
    // Incremental updates leave the same state as building from scratch (children sorted etc.).
    assert_eq!(Forest::from_rows(model.rows()).unwrap(), *forest);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn moves_agree_with_naive_model((mut model, rows) in forest_strategy(), moves in moves_strategy()) {
        let rules = if model.permissive { TypeRules::permissive() } else { TypeRules::default() };
        let mut forest = Forest::from_rows(rows).unwrap();
        assert_matches_model(&forest, &model);
        let n = model.parent.len();
        let index_to_id = |i: usize| if i < n { id_of(i) } else { 10_000 + i as LocationId };

        for (moved, new_parent) in moves {
            let id = index_to_id(moved);
            let new_parent = new_parent.map(index_to_id);
            let expected = model.verdict(id, new_parent);
            prop_assert_eq!(verdict_of(forest.check_move(&rules, id, new_parent)), expected.clone());

            let before = forest.clone();
            let applied = forest.apply_move(&rules, id, new_parent);
            prop_assert_eq!(verdict_of(applied), expected.clone());
            if expected == Verdict::Accepted {
                model.parent.insert(id, new_parent);
            } else {
                prop_assert_eq!(&forest, &before, "a refused move changed the forest");
            }
            assert_matches_model(&forest, &model);
        }
    }
}
