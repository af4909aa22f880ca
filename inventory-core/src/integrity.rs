//! Integrity analysis of possibly damaged location rows (orphans, cycles, duplicate ids, type and name problems) in O(N).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::graph::{walk, Links, Reach, Up};
use crate::validate::FoldedKey;
use crate::{LocationId, LocationRow, RuleViolation, TypeRules, PATH_SEPARATOR};

/// Everything [`analyze`] found. All lists are sorted, so two reports of the same data are equal.
///
/// When an id occurs more than once, its first row (in input order) is the one analysed; the
/// others are only reported in [`IntegrityReport::duplicate_ids`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrityReport {
    /// Number of rows analysed (duplicates included).
    pub rows: usize,
    /// Ids that occur on more than one row, each once, sorted.
    pub duplicate_ids: Vec<LocationId>,
    /// Rows whose `parent_id` names no row, sorted by id.
    pub orphans: Vec<Orphan>,
    /// Each cycle of parent links once, sorted by its smallest id.
    pub cycles: Vec<Cycle>,
    /// Rows not in a cycle whose chain of ancestors runs into one (so they have no path to a root), sorted.
    pub unreachable: Vec<LocationId>,
    /// Rows whose type is not allowed under their (existing) parent's type, or at the root; sorted by id.
    pub type_violations: Vec<TypeViolation>,
    /// Groups of siblings (same `parent_id`, roots included) with the same name key; sorted by `(parent_id, name_key)`.
    pub duplicate_names: Vec<DuplicateName>,
}

/// A row whose parent does not exist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Orphan {
    /// The orphaned row.
    pub id: LocationId,
    /// The parent id it names.
    pub missing_parent_id: LocationId,
}

/// A cycle of parent links.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cycle {
    /// Smallest id first, then following parent links: the parent of `members[i]` is
    /// `members[i + 1]`, and the parent of the last member is `members[0]`.
    pub members: Vec<LocationId>,
}

/// A row placed where the type rules do not allow it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeViolation {
    /// The misplaced row.
    pub id: LocationId,
    /// Its parent (`None` = at the root).
    pub parent_id: Option<LocationId>,
    /// The rule it breaks.
    pub violation: RuleViolation,
}

/// Siblings that share a name, ignoring case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateName {
    /// The common parent (`None` = roots).
    pub parent_id: Option<LocationId>,
    /// The shared [`crate::name_key`].
    pub name_key: String,
    /// The siblings, sorted.
    pub ids: Vec<LocationId>,
}

impl IntegrityReport {
    /// Whether nothing at all was found.
    pub fn is_clean(&self) -> bool {
        self.finding_count() == 0
    }

    /// The number of findings: one per duplicate id, orphan, cycle, unreachable row, type violation and duplicate-name group.
    pub fn finding_count(&self) -> usize {
        self.duplicate_ids.len()
            + self.orphans.len()
            + self.cycles.len()
            + self.unreachable.len()
            + self.type_violations.len()
            + self.duplicate_names.len()
    }
}

/// Analyses rows that may be damaged, in O(N): hash maps and one iterative colouring walk.
pub fn analyze(rows: &[LocationRow], rules: &TypeRules) -> IntegrityReport {
    let links = Links::new(rows);
    let walked = walk(rows, &links);

    let mut orphans = Vec::new();
    let mut unreachable = Vec::new();
    let mut type_violations = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let parent_type = match links.up[i] {
            Up::Shadow => continue,
            Up::Missing(missing_parent_id) => {
                orphans.push(Orphan {
                    id: row.id,
                    missing_parent_id,
                });
                continue;
            }
            Up::Root => None,
            Up::Row(p) => Some(rows[p].location_type),
        };
        if walked.reach[i] == Reach::IntoCycle {
            unreachable.push(row.id);
        }
        if let Err(violation) = rules.check(parent_type, row.location_type) {
            type_violations.push(TypeViolation {
                id: row.id,
                parent_id: row.parent_id,
                violation,
            });
        }
    }
    orphans.sort_unstable_by_key(|o| o.id);
    unreachable.sort_unstable();
    type_violations.sort_unstable_by_key(|v| v.id);

    let cycles = walked
        .cycles
        .iter()
        .map(|c| Cycle {
            members: c.iter().map(|&i| rows[i].id).collect(),
        })
        .collect();

    let duplicate_names = duplicate_names(rows, &links);
    IntegrityReport {
        rows: rows.len(),
        duplicate_ids: links.duplicate_ids,
        orphans,
        cycles,
        unreachable,
        type_violations,
        duplicate_names,
    }
}

/// Sibling groups with equal name keys, in O(N): rows are bucketed by parent with a counting
/// sort, then each bucket is checked on its own (pairwise when small, with a hash set when large).
fn duplicate_names(rows: &[LocationRow], links: &Links) -> Vec<DuplicateName> {
    // Bucket 0 holds the roots, bucket p + 1 the children of row p. Children of a missing parent
    // are siblings too; they are few, so they are grouped through a map.
    let n = rows.len();
    let mut start = vec![0u32; n + 2];
    let mut by_missing: HashMap<LocationId, Vec<u32>> = HashMap::new();
    let bucket = |up: Up| match up {
        Up::Root => Some(0),
        Up::Row(p) => Some(p + 1),
        Up::Missing(_) | Up::Shadow => None,
    };
    for (i, &up) in links.up.iter().enumerate() {
        match (bucket(up), up) {
            (Some(b), _) => start[b + 1] += 1,
            (None, Up::Missing(p)) => by_missing.entry(p).or_default().push(i as u32),
            (None, _) => {}
        }
    }
    for b in 1..start.len() {
        start[b] += start[b - 1];
    }
    let mut members = vec![0u32; start[n + 1] as usize];
    let mut fill = start.clone();
    for (i, &up) in links.up.iter().enumerate() {
        if let Some(b) = bucket(up) {
            members[fill[b] as usize] = i as u32;
            fill[b] += 1;
        }
    }

    let mut groups = Vec::new();
    let (mut keys, mut first) = (Vec::new(), Vec::new());
    for b in 0..=n {
        let siblings = &members[start[b] as usize..start[b + 1] as usize];
        find_duplicates(rows, siblings, &mut keys, &mut first, &mut groups);
    }
    for siblings in by_missing.values() {
        find_duplicates(rows, siblings, &mut keys, &mut first, &mut groups);
    }
    groups.sort_unstable_by(|a, b| (a.parent_id, &a.name_key).cmp(&(b.parent_id, &b.name_key)));
    groups
}

/// Pushes one [`DuplicateName`] per name key shared by several of `siblings` (row indices).
/// `keys` and `first` are scratch buffers, reused across calls to save allocations.
fn find_duplicates<'a>(
    rows: &'a [LocationRow],
    siblings: &[u32],
    keys: &mut Vec<FoldedKey<'a>>,
    first: &mut Vec<usize>,
    groups: &mut Vec<DuplicateName>,
) {
    /// Up to this many siblings, comparing every pair is cheaper than hashing.
    const PAIRWISE_MAX: usize = 16;
    if siblings.len() < 2 {
        return;
    }
    keys.clear();
    keys.extend(
        siblings
            .iter()
            .map(|&i| FoldedKey::new(&rows[i as usize].name)),
    );
    // For each sibling, the position of the first sibling with the same key.
    first.clear();
    if keys.len() <= PAIRWISE_MAX {
        for (k, key) in keys.iter().enumerate() {
            first.push(keys[..k].iter().position(|other| other == key).unwrap_or(k));
        }
    } else {
        let mut seen: HashMap<&FoldedKey<'a>, usize> = HashMap::with_capacity(keys.len());
        for (k, key) in keys.iter().enumerate() {
            first.push(*seen.entry(key).or_insert(k));
        }
    }
    let mut group_of: HashMap<usize, usize> = HashMap::new();
    for (k, &f) in first.iter().enumerate() {
        if f == k {
            continue;
        }
        let row = &rows[siblings[k] as usize];
        let g = *group_of.entry(f).or_insert_with(|| {
            groups.push(DuplicateName {
                parent_id: row.parent_id,
                name_key: keys[f].to_key(),
                ids: vec![rows[siblings[f] as usize].id],
            });
            groups.len() - 1
        });
        groups[g].ids.push(row.id);
    }
    for &g in group_of.values() {
        groups[g].ids.sort_unstable();
    }
}

/// Full paths for reporting, even on damaged data, in O(N) walk steps (memoised, iterative).
///
/// Chains that end at an orphan start with `"? / "`. A cycle is cut just above its smallest
/// id, so its paths start with `"↻ / "` followed by that member and stop before a node would
/// repeat; rows hanging below a cycle extend those paths. Rows with a duplicate id get the
/// path of the id's first row. (The output itself is as long as the paths are: quadratic in
/// the depth of a chain.)
pub fn best_effort_paths(rows: &[LocationRow]) -> HashMap<LocationId, String> {
    let links = Links::new(rows);
    let walked = walk(rows, &links);
    let mut is_cycle_head = vec![false; rows.len()];
    for cycle in &walked.cycles {
        if let Some(&head) = cycle.first() {
            is_cycle_head[head] = true;
        }
    }

    let mut paths: Vec<Option<String>> = vec![None; rows.len()];
    let mut stack: Vec<usize> = Vec::new();
    for start in 0..rows.len() {
        if links.up[start] == Up::Shadow || paths[start].is_some() {
            continue;
        }
        // Climb until a memoised row or a top (root, orphan, cycle head); then fill in downwards.
        stack.clear();
        let mut cur = start;
        loop {
            stack.push(cur);
            match links.up[cur] {
                Up::Row(p) if !is_cycle_head[cur] && paths[p].is_none() => cur = p,
                _ => break,
            }
        }
        while let Some(i) = stack.pop() {
            let name = rows[i].name.as_str();
            let prefix: Option<&str> = if is_cycle_head[i] {
                Some("↻")
            } else {
                match links.up[i] {
                    Up::Missing(_) => Some("?"),
                    Up::Row(p) => paths[p].as_deref(),
                    Up::Root | Up::Shadow => None,
                }
            };
            let path = match prefix {
                Some(prefix) => [prefix, name].join(PATH_SEPARATOR),
                None => name.to_owned(),
            };
            paths[i] = Some(path);
        }
    }

    rows.iter()
        .zip(paths)
        .filter_map(|(row, path)| Some((row.id, path?)))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::LocationType::{self, Container, House, Room, Shelf};

    fn row(
        id: LocationId,
        parent_id: Option<LocationId>,
        t: LocationType,
        name: &str,
    ) -> LocationRow {
        LocationRow {
            id,
            parent_id,
            location_type: t,
            name: name.to_owned(),
        }
    }

    fn valid() -> Vec<LocationRow> {
        vec![
            row(1, None, House, "Home"),
            row(2, Some(1), Room, "Kitchen"),
            row(3, Some(2), Shelf, "Shelf"),
            row(4, Some(3), Container, "Jar"),
        ]
    }

    fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap()
    }

    #[test]
    fn valid_rows_are_clean() {
        let report = analyze(&valid(), &TypeRules::default());
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(report.rows, 4);
        assert_eq!(report.finding_count(), 0);
    }

    #[test]
    fn empty_input_is_clean() {
        assert!(analyze(&[], &TypeRules::default()).is_clean());
    }

    #[test]
    fn orphan_is_reported_with_its_missing_parent() {
        let mut rows = valid();
        rows.push(row(5, Some(42), Container, "Lost box"));
        let report = analyze(&rows, &TypeRules::default());
        assert_eq!(
            report.orphans,
            vec![Orphan {
                id: 5,
                missing_parent_id: 42
            }]
        );
        assert_eq!(report.finding_count(), 1);
    }

    #[test]
    fn descendants_of_an_orphan_are_not_orphans_themselves() {
        let rows = vec![
            row(5, Some(42), Container, "a"),
            row(6, Some(5), Container, "b"),
        ];
        let report = analyze(&rows, &TypeRules::default());
        assert_eq!(report.orphans.len(), 1);
        assert!(report.unreachable.is_empty());
    }

    #[test]
    fn cycle_is_reported_once_smallest_id_first_following_parents() {
        let mut rows = valid();
        rows.extend([
            row(12, Some(10), Container, "a"),
            row(10, Some(11), Container, "b"),
            row(11, Some(12), Container, "c"),
        ]);
        let report = analyze(&rows, &TypeRules::default());
        assert_eq!(
            report.cycles,
            vec![Cycle {
                members: vec![10, 11, 12]
            }]
        );
        assert!(report.unreachable.is_empty());
    }

    #[test]
    fn self_parent_is_a_cycle_of_one() {
        let report = analyze(&[row(7, Some(7), Container, "x")], &TypeRules::default());
        assert_eq!(report.cycles, vec![Cycle { members: vec![7] }]);
    }

    #[test]
    fn rows_hanging_below_a_cycle_are_unreachable() {
        let rows = vec![
            row(1, Some(2), Container, "a"),
            row(2, Some(1), Container, "b"),
            row(3, Some(1), Container, "c"),
            row(4, Some(3), Container, "d"),
        ];
        let report = analyze(&rows, &TypeRules::default());
        assert_eq!(report.cycles.len(), 1);
        assert_eq!(report.unreachable, vec![3, 4]);
    }

    #[test]
    fn separate_cycles_are_each_reported() {
        let rows = vec![
            row(5, Some(6), Container, "a"),
            row(6, Some(5), Container, "b"),
            row(1, Some(2), Container, "c"),
            row(2, Some(1), Container, "d"),
        ];
        let report = analyze(&rows, &TypeRules::default());
        assert_eq!(
            report.cycles,
            vec![
                Cycle {
                    members: vec![1, 2]
                },
                Cycle {
                    members: vec![5, 6]
                }
            ]
        );
    }

    #[test]
    fn duplicate_ids_are_reported_once_each() {
        let mut rows = valid();
        rows.push(row(2, None, House, "again"));
        rows.push(row(2, None, House, "and again"));
        let report = analyze(&rows, &TypeRules::default());
        assert_eq!(report.duplicate_ids, vec![2]);
        assert_eq!(report.finding_count(), 1, "{report:?}");
    }

    #[test]
    fn type_violation_under_existing_parent_is_reported() {
        let mut rows = valid();
        rows.push(row(5, Some(1), Shelf, "Shelf in the hall"));
        let report = analyze(&rows, &TypeRules::default());
        assert_eq!(report.type_violations.len(), 1);
        let v = &report.type_violations[0];
        assert_eq!((v.id, v.parent_id), (5, Some(1)));
        assert_eq!(
            v.violation.to_string(),
            "a SHELF cannot be under a HOUSE (allowed under: ROOM, CONTAINER)"
        );
    }

    #[test]
    fn type_violation_at_root_is_reported() {
        let report = analyze(&[row(1, None, Room, "Loose room")], &TypeRules::default());
        assert_eq!(report.type_violations[0].parent_id, None);
    }

    #[test]
    fn orphans_are_not_type_checked() {
        let report = analyze(&[row(1, Some(9), Room, "r")], &TypeRules::default());
        assert!(report.type_violations.is_empty());
    }

    #[test]
    fn duplicate_sibling_names_are_grouped_case_insensitively() {
        let mut rows = valid();
        rows.extend([
            row(5, Some(1), Room, "KITCHEN"),
            row(6, Some(1), Room, " kitchen "),
            row(7, None, House, "home"),
            row(8, Some(2), Shelf, "Kitchen"), // different parent: fine
        ]);
        let report = analyze(&rows, &TypeRules::default());
        assert_eq!(
            report.duplicate_names,
            vec![
                DuplicateName {
                    parent_id: None,
                    name_key: "home".into(),
                    ids: vec![1, 7]
                },
                DuplicateName {
                    parent_id: Some(1),
                    name_key: "kitchen".into(),
                    ids: vec![2, 5, 6]
                },
            ]
        );
    }

    #[test]
    fn duplicate_names_among_many_siblings_are_found() {
        let mut rows = vec![row(1, None, House, "Home"), row(2, Some(1), Room, "Hall")];
        rows.extend((0..100).map(|i| row(10 + i, Some(2), Container, &format!("Box {}", i % 40))));
        let report = analyze(&rows, &TypeRules::default());
        assert_eq!(report.duplicate_names.len(), 40);
        assert_eq!(
            report.duplicate_names[0],
            DuplicateName {
                parent_id: Some(2),
                name_key: "box 0".into(),
                ids: vec![10, 50, 90]
            }
        );
    }

    #[test]
    fn duplicate_names_under_a_missing_parent_are_found() {
        let rows = vec![row(1, Some(9), Shelf, "Top"), row(2, Some(9), Shelf, "top")];
        let report = analyze(&rows, &TypeRules::default());
        assert_eq!(report.duplicate_names[0].ids, vec![1, 2]);
        assert_eq!(report.duplicate_names[0].parent_id, Some(9));
    }

    #[test]
    fn sparse_and_extreme_ids_are_handled() {
        let rows = vec![
            row(i64::MIN, None, House, "a"),
            row(i64::MAX, Some(i64::MIN), Room, "b"),
            row(0, Some(i64::MAX - 1), Room, "c"),
        ];
        let report = analyze(&rows, &TypeRules::default());
        assert_eq!(
            report.orphans,
            vec![Orphan {
                id: 0,
                missing_parent_id: i64::MAX - 1
            }]
        );
        assert_eq!(report.finding_count(), 1);
    }

    #[test]
    fn unicode_names_are_compared_by_name_key() {
        let rows = vec![
            row(1, None, House, "ÄRMEL"),
            row(2, None, House, "a\u{308}rmel"),
            row(3, None, House, "Kiosk"),
            row(4, None, House, "\u{212A}IOSK"),
            row(5, None, House, "Straße"),
            row(6, None, House, "STRASSE"),
            row(7, None, House, "\u{131}"), // dotless i: not the same name as I
            row(8, None, House, "I"),
        ];
        let report = analyze(&rows, &TypeRules::default());
        let groups: Vec<(&str, &[LocationId])> = report
            .duplicate_names
            .iter()
            .map(|g| (g.name_key.as_str(), g.ids.as_slice()))
            .collect();
        assert_eq!(
            groups,
            vec![
                ("kiosk", &[3, 4][..]),
                ("strasse", &[5, 6][..]),
                ("\u{e4}rmel", &[1, 2][..]),
            ]
        );
    }

    #[test]
    fn duplicate_unicode_names_among_many_siblings_are_found() {
        // More than the pairwise limit, so the hashed path compares the keys.
        let mut rows = vec![row(1, None, House, "Home")];
        rows.extend((0..40).map(|i| row(10 + i, Some(1), Room, &format!("Zimmer {i}"))));
        rows.push(row(100, Some(1), Room, "Caf\u{e9}"));
        rows.push(row(101, Some(1), Room, "CAFE\u{301}"));
        let report = analyze(&rows, &TypeRules::default());
        assert_eq!(report.duplicate_names.len(), 1, "{report:?}");
        assert_eq!(report.duplicate_names[0].ids, vec![100, 101]);
        assert_eq!(report.duplicate_names[0].name_key, crate::name_key("café"));
    }

    #[test]
    fn report_round_trips_through_json() {
        let rows = vec![row(1, Some(1), Room, "x"), row(2, Some(9), House, "y")];
        let report = analyze(&rows, &TypeRules::default());
        let json = serde_json::to_string(&report).unwrap();
        assert_eq!(
            serde_json::from_str::<IntegrityReport>(&json).unwrap(),
            report
        );
    }

    #[test]
    fn best_effort_paths_of_valid_rows_are_full_paths() {
        let paths = best_effort_paths(&valid());
        assert_eq!(paths[&4], "Home / Kitchen / Shelf / Jar");
        assert_eq!(paths[&1], "Home");
    }

    #[test]
    fn best_effort_path_below_an_orphan_starts_with_question_mark() {
        let rows = vec![
            row(5, Some(42), Container, "Box"),
            row(6, Some(5), Container, "Tin"),
        ];
        let paths = best_effort_paths(&rows);
        assert_eq!(paths[&5], "? / Box");
        assert_eq!(paths[&6], "? / Box / Tin");
    }

    #[test]
    fn best_effort_paths_in_a_cycle_start_at_its_smallest_id() {
        // 1's parent is 2, 2's parent is 3, 3's parent is 1; 4 hangs below 2.
        let rows = vec![
            row(2, Some(3), Container, "B"),
            row(4, Some(2), Container, "D"),
            row(1, Some(2), Container, "A"),
            row(3, Some(1), Container, "C"),
        ];
        let paths = best_effort_paths(&rows);
        assert_eq!(paths[&1], "↻ / A");
        assert_eq!(paths[&3], "↻ / A / C");
        assert_eq!(paths[&2], "↻ / A / C / B");
        assert_eq!(paths[&4], "↻ / A / C / B / D");
    }

    #[test]
    fn best_effort_path_of_a_self_parent() {
        assert_eq!(
            best_effort_paths(&[row(7, Some(7), Container, "X")])[&7],
            "↻ / X"
        );
    }

    #[test]
    fn best_effort_paths_use_the_first_row_of_a_duplicate_id() {
        let rows = vec![row(1, None, House, "First"), row(1, None, House, "Second")];
        let paths = best_effort_paths(&rows);
        assert_eq!(paths.len(), 1);
        assert_eq!(paths[&1], "First");
    }

    fn chain(n: i64) -> Vec<LocationRow> {
        (1..=n)
            .map(|id| row(id, (id > 1).then(|| id - 1), Container, "c"))
            .collect()
    }

    #[test]
    fn analyze_handles_a_deep_chain_without_recursion() {
        const DEPTH: i64 = 100_000;
        on_small_stack(|| {
            let report = analyze(&chain(DEPTH), &TypeRules::permissive());
            assert!(report.is_clean());
            let mut rows = chain(DEPTH);
            rows[0].parent_id = Some(DEPTH); // one big cycle
            rows.push(row(DEPTH + 1, Some(DEPTH), Container, "d"));
            let report = analyze(&rows, &TypeRules::permissive());
            assert_eq!(report.cycles.len(), 1);
            assert_eq!(report.cycles[0].members.len(), DEPTH as usize);
            assert_eq!(report.unreachable, vec![DEPTH + 1]);
        });
    }

    #[test]
    fn analyze_of_a_deep_chain_below_an_orphan_reports_one_orphan() {
        const DEPTH: i64 = 100_000;
        on_small_stack(|| {
            let mut rows = chain(DEPTH);
            rows[0].parent_id = Some(0);
            let report = analyze(&rows, &TypeRules::permissive());
            assert_eq!(
                report.orphans,
                vec![Orphan {
                    id: 1,
                    missing_parent_id: 0
                }]
            );
            assert_eq!(report.finding_count(), 1);
        });
    }

    #[test]
    fn best_effort_paths_handle_a_deep_chain_without_recursion() {
        // The output is quadratic in depth (every path repeats its ancestors), so this uses a
        // depth whose paths fit in memory and a 256 KiB stack, on which recursion this deep
        // would overflow.
        const DEPTH: i64 = 5_000;
        on_small_stack(|| {
            let mut rows = chain(DEPTH);
            rows.reverse(); // deepest first: the memo is filled from the bottom
            let paths = best_effort_paths(&rows);
            assert_eq!(paths[&DEPTH].len(), DEPTH as usize * 4 - 3);
            rows.last_mut().unwrap().parent_id = Some(DEPTH);
            let paths = best_effort_paths(&rows);
            assert!(paths[&DEPTH].starts_with("↻ / c / c"));
        });
    }
}
