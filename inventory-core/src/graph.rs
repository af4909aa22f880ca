//! Internal: parent links over raw (possibly damaged) rows and one iterative colouring walk that classifies every row.
//!
//! Shared by [`crate::Forest::from_rows`], [`crate::analyze`] and [`crate::best_effort_paths`] so that
//! all three agree on what a duplicate, an orphan and a cycle are.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use crate::{LocationId, LocationRow};

/// Where a row's parent link leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Up {
    /// `parent_id` is `None`.
    Root,
    /// `parent_id` names no row.
    Missing(LocationId),
    /// `parent_id` names the row at this index (its first occurrence).
    Row(usize),
    /// This row repeats an id seen earlier; it takes no part in the tree.
    Shadow,
}

/// The parent link of every row, resolved once through a hash map.
#[derive(Debug)]
pub(crate) struct Links {
    /// Ids seen more than once, sorted, each once.
    pub duplicate_ids: Vec<LocationId>,
    /// Per row index.
    pub up: Vec<Up>,
}

impl Links {
    pub fn new(rows: &[LocationRow]) -> Links {
        let mut index = IdIndex::for_rows(rows);
        let mut duplicate_ids = Vec::new();
        let mut shadow = vec![false; rows.len()];
        for (i, row) in rows.iter().enumerate() {
            if !index.insert(row.id, i) {
                shadow[i] = true;
                duplicate_ids.push(row.id);
            }
        }
        duplicate_ids.sort_unstable();
        duplicate_ids.dedup();
        let up = rows
            .iter()
            .zip(shadow)
            .map(|(row, shadow)| match (shadow, row.parent_id) {
                (true, _) => Up::Shadow,
                (false, None) => Up::Root,
                (false, Some(p)) => index.get(p).map_or(Up::Missing(p), Up::Row),
            })
            .collect();
        Links { duplicate_ids, up }
    }
}

/// Id → row index. Database ids are usually dense, so a plain table is used when the id range
/// is at most a few times the row count; otherwise a hash map.
enum IdIndex {
    Dense { min: LocationId, slots: Vec<usize> },
    Sparse(HashMap<LocationId, usize>),
}

impl IdIndex {
    const EMPTY: usize = usize::MAX;

    fn for_rows(rows: &[LocationRow]) -> IdIndex {
        let (min, max) = rows
            .iter()
            .fold((LocationId::MAX, LocationId::MIN), |(lo, hi), r| {
                (lo.min(r.id), hi.max(r.id))
            });
        let span = (max as i128) - (min as i128) + 1;
        if !rows.is_empty() && span <= 4 * rows.len() as i128 + 1024 {
            IdIndex::Dense {
                min,
                slots: vec![Self::EMPTY; span as usize],
            }
        } else {
            IdIndex::Sparse(HashMap::with_capacity(rows.len()))
        }
    }

    /// Inserts unless the id is already present; returns whether it was inserted.
    fn insert(&mut self, id: LocationId, row: usize) -> bool {
        match self {
            IdIndex::Dense { min, slots } => {
                let slot = &mut slots[(id - *min) as usize];
                let fresh = *slot == Self::EMPTY;
                if fresh {
                    *slot = row;
                }
                fresh
            }
            IdIndex::Sparse(map) => match map.entry(id) {
                Entry::Vacant(slot) => {
                    slot.insert(row);
                    true
                }
                Entry::Occupied(_) => false,
            },
        }
    }

    fn get(&self, id: LocationId) -> Option<usize> {
        match self {
            IdIndex::Dense { min, slots } => {
                let offset = usize::try_from(id.checked_sub(*min)?).ok()?;
                slots.get(offset).copied().filter(|&r| r != Self::EMPTY)
            }
            IdIndex::Sparse(map) => map.get(&id).copied(),
        }
    }
}

/// Where a row's chain of parents ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reach {
    /// At a root: the row has a full path.
    Root,
    /// At a row whose parent is missing (the row itself or an ancestor is an orphan).
    Orphan,
    /// The row is a member of a cycle.
    InCycle,
    /// The chain runs into a cycle without being part of it.
    IntoCycle,
    /// A duplicate row that takes no part in the tree.
    Shadow,
}

/// The outcome of [`walk`].
#[derive(Debug)]
pub(crate) struct Walk {
    /// Per row index.
    pub reach: Vec<Reach>,
    /// Each cycle once, as row indices: rotated so the smallest id comes first, then following
    /// parent links (`rows[c[i]].parent_id == Some(rows[c[i + 1]].id)`, the last links to the first).
    /// Sorted by that smallest id.
    pub cycles: Vec<Vec<usize>>,
}

/// Classifies every row in O(N): one upward walk per unvisited row, stopping at anything already seen.
pub(crate) fn walk(rows: &[LocationRow], links: &Links) -> Walk {
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let n = rows.len();
    let mut state = vec![NEW; n];
    let mut reach = vec![Reach::Root; n];
    let mut pos = vec![0usize; n];
    let mut cycles = Vec::new();
    let mut path: Vec<usize> = Vec::new();
    for start in 0..n {
        if links.up[start] == Up::Shadow {
            reach[start] = Reach::Shadow;
            state[start] = DONE;
        }
        if state[start] == DONE {
            continue;
        }
        path.clear();
        let mut cur = start;
        let outcome = loop {
            match state[cur] {
                DONE => {
                    break match reach[cur] {
                        Reach::InCycle => Reach::IntoCycle,
                        other => other,
                    }
                }
                ON_PATH => {
                    let from = pos[cur];
                    let mut cycle = path.split_off(from);
                    for &i in &cycle {
                        state[i] = DONE;
                        reach[i] = Reach::InCycle;
                    }
                    let smallest = (0..cycle.len())
                        .min_by_key(|&k| rows[cycle[k]].id)
                        .unwrap_or(0);
                    cycle.rotate_left(smallest);
                    cycles.push(cycle);
                    break Reach::IntoCycle;
                }
                _ => {}
            }
            state[cur] = ON_PATH;
            pos[cur] = path.len();
            path.push(cur);
            match links.up[cur] {
                Up::Root => break Reach::Root,
                Up::Missing(_) => break Reach::Orphan,
                Up::Row(parent) => cur = parent,
                // Parent links always lead to first occurrences, never to shadows.
                Up::Shadow => break Reach::Shadow,
            }
        };
        for &i in &path {
            state[i] = DONE;
            reach[i] = outcome;
        }
    }
    cycles.sort_unstable_by_key(|c| c.first().map(|&i| rows[i].id));
    Walk { reach, cycles }
}
