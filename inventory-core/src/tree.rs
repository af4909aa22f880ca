//! The in-memory location tree ([`Forest`]): navigation, full paths, path resolution and checked moves.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::graph::{walk, Links, Up};
use crate::validate::name_key;
use crate::{LocationId, LocationType, RuleViolation, TypeRules};

/// The tree-relevant columns of one `locations` row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationRow {
    /// Primary key.
    pub id: LocationId,
    /// The containing location; `None` for a root.
    pub parent_id: Option<LocationId>,
    /// What kind of place this is.
    pub location_type: LocationType,
    /// The display name (already validated by whoever wrote it).
    pub name: String,
}

/// The depth-first pre-order of rows given as `(id, parent_id, name key)` — siblings by
/// `(name key, id)` — as `(row index, depth)` pairs, at most `max_depth` levels below the
/// tops. A top is a row whose parent is `None` or not among the rows; rows that no top
/// reaches (members of a parent cycle in damaged data) are left out. Linear memory, no
/// hashing: ids are looked up by binary search when the rows come sorted by id (as a
/// whole-table read returns them), through a sorted index otherwise.
pub fn preorder_of(
    rows: &[(LocationId, Option<LocationId>, &str)],
    max_depth: Option<usize>,
) -> Vec<(usize, usize)> {
    let n = rows.len();
    let sorted = rows.windows(2).all(|w| w[0].0 < w[1].0);
    let by_id: Vec<usize> = if sorted {
        Vec::new()
    } else {
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_unstable_by_key(|&i| rows[i].0);
        order
    };
    let index_of = |id: LocationId| -> Option<usize> {
        if sorted {
            rows.binary_search_by_key(&id, |r| r.0).ok()
        } else {
            by_id
                .binary_search_by_key(&id, |&i| rows[i].0)
                .ok()
                .map(|k| by_id[k])
        }
    };
    // Children as one array of row indexes grouped by parent (counting sort).
    let parents: Vec<Option<usize>> = rows.iter().map(|r| r.1.and_then(index_of)).collect();
    let mut start = vec![0usize; n + 1];
    for p in parents.iter().flatten() {
        start[p + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut children = vec![0usize; start[n]];
    let mut tops = Vec::new();
    for (i, p) in parents.iter().enumerate() {
        match p {
            Some(p) => {
                children[fill[*p]] = i;
                fill[*p] += 1;
            }
            None => tops.push(i),
        }
    }
    let by_key = |a: &usize, b: &usize| (rows[*a].2, rows[*a].0).cmp(&(rows[*b].2, rows[*b].0));
    for i in 0..n {
        children[start[i]..start[i + 1]].sort_unstable_by(by_key);
    }
    tops.sort_unstable_by(by_key);
    let mut out = Vec::with_capacity(n);
    let mut stack: Vec<(usize, usize)> = tops.iter().rev().map(|&t| (t, 0)).collect();
    while let Some((i, depth)) = stack.pop() {
        out.push((i, depth));
        if max_depth.is_none_or(|m| depth < m) {
            stack.extend(
                children[start[i]..start[i + 1]]
                    .iter()
                    .rev()
                    .map(|&c| (c, depth + 1)),
            );
        }
    }
    out
}

/// Separates the names in a full path: `My House / Living Room / Shelf 2`.
pub const PATH_SEPARATOR: &str = " / ";

/// The most parts a location path may have. Far deeper than any real home (a house, a room
/// and a dozen nested boxes is already a lot); it bounds the work that one path can cause.
pub const MAX_PATH_SEGMENTS: usize = 1000;

/// A node: its row, its cached name key and its children sorted by `(name_key, id)`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Node {
    row: LocationRow,
    key: String,
    children: Vec<LocationId>,
}

/// Whether rows whose parent is missing are refused or become roots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MissingParents {
    Refuse,
    AsRoots,
}

/// A valid location tree (acyclic, no orphans, unique ids) held in memory: the whole table
/// ([`Forest::from_rows`]) or one part of it ([`Forest::from_subtree_rows`]).
///
/// Children and roots are kept sorted by `(name_key, id)`, so every listing is stable and
/// path resolution is a binary search per level. Every operation is iterative, so the depth
/// of the tree is limited only by memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Forest {
    nodes: HashMap<LocationId, Node>,
    roots: Vec<LocationId>,
    /// Roots whose row names a parent that is not in the forest (see
    /// [`Forest::from_subtree_rows`]); empty for a whole table. Kept apart so that nodes stay
    /// small.
    detached: HashSet<LocationId>,
}

/// Why rows could not be made into a [`Forest`], or a path could not be resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum TreeError {
    /// Two rows share an id.
    #[error("duplicate location id {id}")]
    DuplicateId {
        /// The repeated id.
        id: LocationId,
    },
    /// A row names a parent that does not exist.
    #[error("location {id} has parent {parent_id}, which does not exist")]
    MissingParent {
        /// The orphaned location.
        id: LocationId,
        /// The parent it names.
        parent_id: LocationId,
    },
    /// Parent links go round in a circle.
    #[error("locations form a cycle: {}", CycleDisplay(members))]
    Cycle {
        /// The cycle, smallest id first, then following parent links (each member's parent is the next).
        members: Vec<LocationId>,
    },
    /// No location has this path.
    #[error("no location at path \"{path}\"")]
    PathNotFound {
        /// The path as given.
        path: String,
    },
    /// The path, or one of its parts, is empty.
    #[error("path \"{path}\" has an empty part")]
    EmptyPath {
        /// The path as given.
        path: String,
    },
    /// The path has more parts than [`MAX_PATH_SEGMENTS`].
    #[error("path has {segments} parts; at most {max} are allowed")]
    PathTooDeep {
        /// How many parts the path has.
        segments: usize,
        /// The limit, [`MAX_PATH_SEGMENTS`].
        max: usize,
    },
    /// A location reference that starts with `#` but is no location id.
    #[error("location reference \"{reference}\" {reason}")]
    InvalidReference {
        /// The reference as given (trimmed; cut short if very long).
        reference: String,
        /// What is wrong, phrased to follow the reference.
        reason: String,
    },
}

impl TreeError {
    /// Whether the error is about the form of what the caller wrote (an empty or too deep
    /// path, a malformed `#id`), as opposed to the data (not found, damaged rows).
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            TreeError::EmptyPath { .. }
                | TreeError::PathTooDeep { .. }
                | TreeError::InvalidReference { .. }
        )
    }
}

/// Splits a location path into its parts, trimmed: `My House / Kitchen` → `["My House",
/// "Kitchen"]`. One leading `/` is allowed and ignored; it marks a path from the root, so that
/// a root named like a number can be written unambiguously (`/2024`, see
/// [`parse_location_ref`]). An empty part (`""`, `"A //B"`, `"A /"`) is
/// [`TreeError::EmptyPath`]; more than [`MAX_PATH_SEGMENTS`] parts is
/// [`TreeError::PathTooDeep`], checked first. Linear in the length of `path`; allocates only
/// the list of parts.
pub fn parse_path(path: &str) -> Result<Vec<&str>, TreeError> {
    let body = path.trim_start();
    let body = body.strip_prefix('/').unwrap_or(body);
    let segments = body.bytes().filter(|&b| b == b'/').count() + 1;
    if segments > MAX_PATH_SEGMENTS {
        return Err(TreeError::PathTooDeep {
            segments,
            max: MAX_PATH_SEGMENTS,
        });
    }
    let mut parts = Vec::with_capacity(segments);
    for part in body.split('/').map(str::trim) {
        if part.is_empty() {
            return Err(TreeError::EmptyPath {
                path: path.to_owned(),
            });
        }
        parts.push(part);
    }
    Ok(parts)
}

/// [`parse_path`], then the [`name_key`] of each part: what a path is matched by, level by level.
pub fn path_keys(path: &str) -> Result<Vec<String>, TreeError> {
    Ok(parse_path(path)?.into_iter().map(name_key).collect())
}

/// How a user referred to a location (on the command line, in an import file, in a URL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocationRef<'a> {
    /// `#123`: the location with this id.
    Id(LocationId),
    /// A full path, resolved name by name from the roots (see [`parse_path`]).
    Path(&'a str),
    /// Plain digits (`123`): the id, or the root of that name. The caller decides; when a
    /// location with the id and a root with the name both exist, the reference is ambiguous
    /// (`#123` and `/123` say which is meant).
    IdOrPath(LocationId, &'a str),
}

/// Reads a location reference, trimmed: `#123` is an id (anything after `#` other than
/// digits for an id from 1 to `i64::MAX` is [`TreeError::InvalidReference`]); text starting
/// with `/` is a path; plain digits for such an id are [`LocationRef::IdOrPath`]; anything
/// else is a path. Blank text is [`TreeError::EmptyPath`]. Paths are not checked here: that
/// happens when they are resolved.
pub fn parse_location_ref(s: &str) -> Result<LocationRef<'_>, TreeError> {
    let text = s.trim();
    if text.is_empty() {
        return Err(TreeError::EmptyPath { path: s.to_owned() });
    }
    if let Some(digits) = text.strip_prefix('#') {
        let invalid = |reason: &str| TreeError::InvalidReference {
            reference: shorten(text),
            reason: reason.to_owned(),
        };
        if digits.is_empty() {
            return Err(invalid("has no id after \"#\""));
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                "is not a location id: only digits may follow \"#\" \
                 (a root whose name starts with \"#\" is written with a leading \"/\")",
            ));
        }
        return match digits.parse::<LocationId>() {
            Ok(id) if id >= 1 => Ok(LocationRef::Id(id)),
            Ok(_) => Err(invalid("is not a location id: ids start at 1")),
            Err(_) => Err(invalid("is not a location id: the number is too large")),
        };
    }
    if text.starts_with('/') {
        return Ok(LocationRef::Path(text));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(id) = text.parse::<LocationId>() {
            if id >= 1 {
                return Ok(LocationRef::IdOrPath(id, text));
            }
        }
    }
    Ok(LocationRef::Path(text))
}

/// User text for an error message, cut to a readable length.
fn shorten(text: &str) -> String {
    const MAX_CHARS: usize = 64;
    match text.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Shows cycle members as `1 → 2 → 3 → 1`.
struct CycleDisplay<'a>(&'a [LocationId]);

impl fmt::Display for CycleDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for id in self.0 {
            write!(f, "{id} → ")?;
        }
        match self.0.first() {
            Some(first) => write!(f, "{first}"),
            None => Ok(()),
        }
    }
}

/// Why a move was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum MoveError {
    /// The moved location or the new parent does not exist.
    #[error("no location with id {id}")]
    NotFound {
        /// The id that was not found.
        id: LocationId,
    },
    /// The new parent is the moved location itself or one of its descendants.
    #[error("cannot move location {moved} under {new_parent}: it would be inside itself")]
    CycleDetected {
        /// The location being moved.
        moved: LocationId,
        /// The refused new parent.
        new_parent: LocationId,
    },
    /// The moved location's type may not sit under the new parent's type (or at the root).
    #[error("cannot move location {moved}: {violation}")]
    TypeRule {
        /// The location being moved.
        moved: LocationId,
        /// The refused new parent (`None` = the root).
        new_parent: Option<LocationId>,
        /// Which rule was broken.
        violation: RuleViolation,
    },
}

/// Where a location is to be moved: the new parent, as far as the move rule needs to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MoveTarget<'a> {
    /// The new parent.
    pub id: LocationId,
    /// The new parent's type.
    pub location_type: LocationType,
    /// The new parent's ancestors, in any order, without the new parent itself.
    pub ancestors: &'a [LocationId],
}

/// The move rule: whether the location `moved` (its id and type) may go under `target`
/// (`None` = to the root). Refused, in this order, when the target is the moved location or
/// lies below it ([`MoveError::CycleDetected`]), then when the moved type may not sit under
/// the target's type ([`MoveError::TypeRule`]). Descendants keep their parent, so their
/// rules are unaffected and not rechecked. [`Forest::check_move`] and the database both use
/// this; whether both locations exist is the caller's business.
pub fn check_move(
    rules: &TypeRules,
    moved: (LocationId, LocationType),
    target: Option<MoveTarget<'_>>,
) -> Result<(), MoveError> {
    let (id, moved_type) = moved;
    if let Some(t) = target {
        if t.id == id || t.ancestors.contains(&id) {
            return Err(MoveError::CycleDetected {
                moved: id,
                new_parent: t.id,
            });
        }
    }
    rules
        .check(target.map(|t| t.location_type), moved_type)
        .map_err(|violation| MoveError::TypeRule {
            moved: id,
            new_parent: target.map(|t| t.id),
            violation,
        })
}

impl Forest {
    /// Builds the tree. Fails on a duplicate id, a missing parent (orphan) or a cycle — use
    /// [`crate::analyze`] to report on damaged data. The error names the first problem found:
    /// duplicates (smallest id), then orphans (first in input order), then cycles (smallest id).
    pub fn from_rows(rows: impl IntoIterator<Item = LocationRow>) -> Result<Forest, TreeError> {
        Forest::build(rows.into_iter().collect(), MissingParents::Refuse)
    }

    /// Builds the tree of a part of the table, e.g. a location and its descendants as one
    /// query reads them: a row whose parent is not among the rows becomes a root. Such a row
    /// keeps its `parent_id` in [`Forest::get`], but here it has no [`Forest::parent`], depth 0,
    /// and paths ([`Forest::full_path`], [`Forest::resolve_path`]) start at it. Duplicate ids
    /// and cycles are refused as by [`Forest::from_rows`].
    pub fn from_subtree_rows(
        rows: impl IntoIterator<Item = LocationRow>,
    ) -> Result<Forest, TreeError> {
        Forest::build(rows.into_iter().collect(), MissingParents::AsRoots)
    }

    fn build(rows: Vec<LocationRow>, missing: MissingParents) -> Result<Forest, TreeError> {
        let links = Links::new(&rows);
        if let Some(&id) = links.duplicate_ids.first() {
            return Err(TreeError::DuplicateId { id });
        }
        let first_orphan = rows.iter().zip(&links.up).find_map(|(row, up)| match up {
            Up::Missing(p) => Some((row, *p)),
            _ => None,
        });
        if let (MissingParents::Refuse, Some((row, parent_id))) = (missing, first_orphan) {
            return Err(TreeError::MissingParent {
                id: row.id,
                parent_id,
            });
        }
        let walked = walk(&rows, &links);
        if let Some(cycle) = walked.cycles.first() {
            return Err(TreeError::Cycle {
                members: cycle.iter().map(|&i| rows[i].id).collect(),
            });
        }

        // Bucket rows under their parents (by row index), then sort each bucket by (name key, id).
        let keys: Vec<String> = rows.iter().map(|r| name_key(&r.name)).collect();
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); rows.len()];
        let mut root_rows: Vec<usize> = Vec::new();
        for (i, up) in links.up.iter().enumerate() {
            match *up {
                Up::Row(p) => children[p].push(i),
                _ => root_rows.push(i),
            }
        }
        let sorted_ids = |mut list: Vec<usize>| -> Vec<LocationId> {
            list.sort_unstable_by(|&a, &b| (&keys[a], rows[a].id).cmp(&(&keys[b], rows[b].id)));
            list.into_iter().map(|i| rows[i].id).collect()
        };
        let roots = sorted_ids(root_rows);
        let children: Vec<Vec<LocationId>> = children.into_iter().map(sorted_ids).collect();
        let detached = match missing {
            MissingParents::Refuse => HashSet::new(),
            MissingParents::AsRoots => rows
                .iter()
                .zip(&links.up)
                .filter(|(_, up)| matches!(up, Up::Missing(_)))
                .map(|(row, _)| row.id)
                .collect(),
        };
        let mut nodes = HashMap::with_capacity(rows.len());
        for ((row, key), children) in rows.into_iter().zip(keys).zip(children) {
            nodes.insert(row.id, Node { row, key, children });
        }
        Ok(Forest {
            nodes,
            roots,
            detached,
        })
    }

    /// Number of locations.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are no locations.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The row of a location.
    pub fn get(&self, id: LocationId) -> Option<&LocationRow> {
        self.nodes.get(&id).map(|n| &n.row)
    }

    /// Whether a location exists.
    pub fn contains(&self, id: LocationId) -> bool {
        self.nodes.contains_key(&id)
    }

    /// Every row, in no particular order.
    pub fn rows(&self) -> impl Iterator<Item = &LocationRow> + '_ {
        self.nodes.values().map(|n| &n.row)
    }

    /// The roots, sorted by `(name_key, id)`.
    pub fn roots(&self) -> &[LocationId] {
        &self.roots
    }

    /// The children of a location, sorted by `(name_key, id)`; empty for an unknown id.
    pub fn children(&self, id: LocationId) -> &[LocationId] {
        self.nodes.get(&id).map_or(&[], |n| &n.children)
    }

    /// The parent of a location; `None` for a root or an unknown id.
    pub fn parent(&self, id: LocationId) -> Option<LocationId> {
        let parent = self.nodes.get(&id)?.row.parent_id;
        if self.detached.is_empty() || !self.detached.contains(&id) {
            parent
        } else {
            None
        }
    }

    /// The ancestors of a location, root first, excluding the location itself; empty for an unknown id.
    pub fn ancestors(&self, id: LocationId) -> Vec<LocationId> {
        let mut out = Vec::new();
        let mut cur = self.parent(id);
        while let Some(p) = cur {
            out.push(p);
            cur = self.parent(p);
        }
        out.reverse();
        out
    }

    /// Distance from the root (a root is 0); `None` for an unknown id.
    pub fn depth(&self, id: LocationId) -> Option<usize> {
        self.nodes.get(&id)?;
        let mut cur = self.parent(id);
        let mut depth = 0;
        while let Some(p) = cur {
            depth += 1;
            cur = self.parent(p);
        }
        Some(depth)
    }

    /// The location and its descendants in pre-order (children in sorted order). `max_depth`
    /// counts from `id` (0 = just `id`); `None` = no limit. Empty for an unknown id.
    pub fn subtree(&self, id: LocationId, max_depth: Option<usize>) -> Vec<LocationId> {
        let mut out = Vec::new();
        if !self.contains(id) {
            return out;
        }
        let mut stack = vec![(id, 0usize)];
        while let Some((cur, depth)) = stack.pop() {
            out.push(cur);
            if max_depth.is_some_and(|max| depth >= max) {
                continue;
            }
            stack.extend(self.children(cur).iter().rev().map(|&c| (c, depth + 1)));
        }
        out
    }

    /// Every location once, depth-first in pre-order, with its depth (roots are 0): roots and
    /// siblings in the forest's order, `(name_key, id)`. Iterative and linear, so it is the way
    /// to lay out a tree for display however deep it is.
    pub fn preorder(&self) -> Vec<(LocationId, usize)> {
        let mut out = Vec::with_capacity(self.len());
        let mut stack: Vec<(LocationId, usize)> =
            self.roots.iter().rev().map(|&r| (r, 0)).collect();
        while let Some((id, depth)) = stack.pop() {
            out.push((id, depth));
            stack.extend(self.children(id).iter().rev().map(|&c| (c, depth + 1)));
        }
        out
    }

    /// The names from the root down to the location, joined by [`PATH_SEPARATOR`]; `None` for an unknown id.
    pub fn full_path(&self, id: LocationId) -> Option<String> {
        let own = self.get(id)?;
        let mut names: Vec<&str> = self
            .ancestors(id)
            .into_iter()
            .filter_map(|a| self.get(a).map(|r| r.name.as_str()))
            .collect();
        names.push(&own.name);
        Some(names.join(PATH_SEPARATOR))
    }

    /// The full path of every location, in O(total path length) (one pre-order pass).
    pub fn full_paths(&self) -> HashMap<LocationId, String> {
        let mut out: HashMap<LocationId, String> = HashMap::with_capacity(self.len());
        let mut stack: Vec<LocationId> = self.roots.iter().rev().copied().collect();
        while let Some(id) = stack.pop() {
            let Some(node) = self.nodes.get(&id) else {
                continue;
            };
            // A detached root's parent is not in the forest, so it has no path here either.
            let path = match node.row.parent_id.and_then(|p| out.get(&p)) {
                Some(parent_path) => [parent_path.as_str(), &node.row.name].join(PATH_SEPARATOR),
                None => node.row.name.clone(),
            };
            out.insert(id, path);
            stack.extend(node.children.iter().rev());
        }
        out
    }

    /// The child of `parent` (`None` = among the roots) whose name has the same [`name_key`] as
    /// `name`. If several do (damaged data), the one with the smallest id.
    pub fn find_child(&self, parent: Option<LocationId>, name: &str) -> Option<LocationId> {
        let list = match parent {
            Some(p) => self.children(p),
            None => &self.roots,
        };
        let key = name_key(name);
        let at = list.partition_point(|c| self.key(*c) < key.as_str());
        list.get(at).copied().filter(|&c| self.key(c) == key)
    }

    /// Finds a location by full path: [`parse_path`], then each part matched by [`name_key`]
    /// level by level from the roots.
    pub fn resolve_path(&self, path: &str) -> Result<LocationId, TreeError> {
        let mut cur = None;
        for part in parse_path(path)? {
            cur = Some(
                self.find_child(cur, part)
                    .ok_or_else(|| TreeError::PathNotFound {
                        path: path.to_owned(),
                    })?,
            );
        }
        cur.ok_or_else(|| TreeError::EmptyPath {
            path: path.to_owned(),
        })
    }

    /// Whether `id` lies strictly below `ancestor` (a location is not its own descendant).
    pub fn is_descendant(&self, id: LocationId, ancestor: LocationId) -> bool {
        let mut cur = self.parent(id);
        while let Some(p) = cur {
            if p == ancestor {
                return true;
            }
            cur = self.parent(p);
        }
        false
    }

    /// Whether moving `id` under `new_parent` (`None` = to the root) is allowed: both must
    /// exist ([`MoveError::NotFound`], the moved one first), then the rule of [`check_move`].
    pub fn check_move(
        &self,
        rules: &TypeRules,
        id: LocationId,
        new_parent: Option<LocationId>,
    ) -> Result<(), MoveError> {
        let moved = self.get(id).ok_or(MoveError::NotFound { id })?;
        let ancestors;
        let target = match new_parent {
            None => None,
            Some(p) => {
                let parent = self.get(p).ok_or(MoveError::NotFound { id: p })?;
                ancestors = self.ancestors(p);
                Some(MoveTarget {
                    id: p,
                    location_type: parent.location_type,
                    ancestors: &ancestors,
                })
            }
        };
        check_move(rules, (id, moved.location_type), target)
    }

    /// [`Forest::check_move`], then re-parents `id`. On `Err` nothing changes.
    pub fn apply_move(
        &mut self,
        rules: &TypeRules,
        id: LocationId,
        new_parent: Option<LocationId>,
    ) -> Result<(), MoveError> {
        self.check_move(rules, id, new_parent)?;
        let old_parent = self.parent(id);
        if let Some(node) = self.nodes.get_mut(&id) {
            node.row.parent_id = new_parent;
        }
        self.detached.remove(&id);
        if old_parent != new_parent {
            self.unlink(old_parent, id);
            self.link(new_parent, id);
        }
        Ok(())
    }

    /// Adds a location under an existing parent (or as a root). Type rules and sibling-name
    /// uniqueness are the caller's business (see [`TypeRules::check`], [`Forest::find_child`]).
    pub fn insert(&mut self, row: LocationRow) -> Result<(), TreeError> {
        if self.contains(row.id) {
            return Err(TreeError::DuplicateId { id: row.id });
        }
        if let Some(p) = row.parent_id.filter(|p| !self.contains(*p)) {
            return Err(TreeError::MissingParent {
                id: row.id,
                parent_id: p,
            });
        }
        let (id, parent) = (row.id, row.parent_id);
        let node = Node {
            key: name_key(&row.name),
            row,
            children: Vec::new(),
        };
        self.nodes.insert(id, node);
        self.link(parent, id);
        Ok(())
    }

    /// The cached name key of a node ("" for an unknown id, which never happens for linked ids).
    fn key(&self, id: LocationId) -> &str {
        self.nodes.get(&id).map_or("", |n| n.key.as_str())
    }

    /// Where `id` belongs in a `(name_key, id)`-sorted list: `Ok` if present, `Err` for the insertion point.
    fn position(&self, list: &[LocationId], id: LocationId) -> Result<usize, usize> {
        let key = self.key(id);
        list.binary_search_by(|&c| (self.key(c), c).cmp(&(key, id)))
    }

    /// Takes a children list out of the forest (so it can be edited while keys are read).
    fn take_list(&mut self, parent: Option<LocationId>) -> Vec<LocationId> {
        match parent {
            None => std::mem::take(&mut self.roots),
            Some(p) => self
                .nodes
                .get_mut(&p)
                .map(|n| std::mem::take(&mut n.children))
                .unwrap_or_default(),
        }
    }

    fn put_list(&mut self, parent: Option<LocationId>, list: Vec<LocationId>) {
        match parent {
            None => self.roots = list,
            Some(p) => {
                if let Some(n) = self.nodes.get_mut(&p) {
                    n.children = list;
                }
            }
        }
    }

    fn link(&mut self, parent: Option<LocationId>, id: LocationId) {
        let mut list = self.take_list(parent);
        if let Err(at) = self.position(&list, id) {
            list.insert(at, id);
        }
        self.put_list(parent, list);
    }

    fn unlink(&mut self, parent: Option<LocationId>, id: LocationId) {
        let mut list = self.take_list(parent);
        if let Ok(at) = self.position(&list, id) {
            list.remove(at);
        }
        self.put_list(parent, list);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    #[test]
    fn preorder_of_matches_the_forest_and_skips_cycles() {
        let rows = [
            (5, None, "house"),
            (2, Some(5), "b room"),
            (9, Some(5), "a room"),
            (3, Some(9), "box"),
            (7, Some(11), "detached"),
            (1, None, "attic"),
            (20, Some(21), "loop a"),
            (21, Some(20), "loop b"),
        ];
        let order: Vec<(LocationId, usize)> = preorder_of(&rows, None)
            .into_iter()
            .map(|(i, d)| (rows[i].0, d))
            .collect();
        assert_eq!(order, vec![(1, 0), (7, 0), (5, 0), (9, 1), (3, 2), (2, 1)]);
        let shallow: Vec<LocationId> = preorder_of(&rows, Some(1))
            .into_iter()
            .map(|(i, _)| rows[i].0)
            .collect();
        assert_eq!(shallow, vec![1, 7, 5, 9, 2]);
        let mut sorted = rows.to_vec();
        sorted.sort_by_key(|r| r.0);
        let again: Vec<(LocationId, usize)> = preorder_of(&sorted, None)
            .into_iter()
            .map(|(i, d)| (sorted[i].0, d))
            .collect();
        assert_eq!(again, order);
    }

    use LocationType::{Container, House, Room, Shelf};

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

    /// ```text
    /// 1 My House
    /// ├── 2 Living Room
    /// │   ├── 4 shelf 2
    /// │   │   └── 6 Box
    /// │   └── 5 Shelf 1
    /// └── 3 Kitchen
    /// 7 Cabin
    /// ```
    fn sample() -> Forest {
        Forest::from_rows([
            row(5, Some(2), Shelf, "Shelf 1"),
            row(1, None, House, "My House"),
            row(2, Some(1), Room, "Living Room"),
            row(3, Some(1), Room, "Kitchen"),
            row(4, Some(2), Shelf, "shelf 2"),
            row(6, Some(4), Container, "Box"),
            row(7, None, House, "Cabin"),
        ])
        .unwrap()
    }

    fn chain(n: i64) -> Vec<LocationRow> {
        (1..=n)
            .map(|id| row(id, (id > 1).then(|| id - 1), Container, "c"))
            .collect()
    }

    /// Runs `f` on a thread with a small stack, so that recursion over depth would overflow.
    fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap()
    }

    #[test]
    fn roots_and_children_are_sorted_by_name_key_then_id() {
        let f = sample();
        assert_eq!(f.roots(), &[7, 1]);
        assert_eq!(f.children(1), &[3, 2]);
        assert_eq!(f.children(2), &[5, 4]);
    }

    #[test]
    fn siblings_with_equal_keys_are_ordered_by_id() {
        let f =
            Forest::from_rows([row(9, None, House, "home"), row(3, None, House, "Home")]).unwrap();
        assert_eq!(f.roots(), &[3, 9]);
    }

    #[test]
    fn children_of_unknown_id_is_empty() {
        assert!(sample().children(99).is_empty());
    }

    #[test]
    fn len_counts_locations() {
        assert_eq!(sample().len(), 7);
        assert!(!sample().is_empty());
        assert!(Forest::from_rows([]).unwrap().is_empty());
    }

    #[test]
    fn duplicate_id_is_refused() {
        let err =
            Forest::from_rows([row(1, None, House, "a"), row(1, None, House, "b")]).unwrap_err();
        assert_eq!(err, TreeError::DuplicateId { id: 1 });
    }

    #[test]
    fn orphan_is_refused() {
        let err =
            Forest::from_rows([row(1, None, House, "a"), row(2, Some(9), Room, "b")]).unwrap_err();
        assert_eq!(
            err,
            TreeError::MissingParent {
                id: 2,
                parent_id: 9
            }
        );
        assert_eq!(
            err.to_string(),
            "location 2 has parent 9, which does not exist"
        );
    }

    #[test]
    fn cycle_is_refused_with_its_members() {
        let err = Forest::from_rows([
            row(1, None, House, "h"),
            row(4, Some(2), Container, "a"),
            row(2, Some(3), Container, "b"),
            row(3, Some(4), Container, "c"),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            TreeError::Cycle {
                members: vec![2, 3, 4]
            }
        );
        assert_eq!(err.to_string(), "locations form a cycle: 2 → 3 → 4 → 2");
    }

    #[test]
    fn self_parent_is_a_cycle() {
        let err = Forest::from_rows([row(5, Some(5), Container, "me")]).unwrap_err();
        assert_eq!(err, TreeError::Cycle { members: vec![5] });
    }

    #[test]
    fn parent_and_ancestors_and_depth() {
        let f = sample();
        assert_eq!(f.parent(6), Some(4));
        assert_eq!(f.parent(1), None);
        assert_eq!(f.ancestors(6), vec![1, 2, 4]);
        assert!(f.ancestors(1).is_empty());
        assert_eq!(f.depth(1), Some(0));
        assert_eq!(f.depth(6), Some(3));
        assert_eq!(f.depth(99), None);
    }

    #[test]
    fn subtree_is_pre_order_in_sorted_child_order() {
        assert_eq!(sample().subtree(1, None), vec![1, 3, 2, 5, 4, 6]);
    }

    #[test]
    fn subtree_depth_is_relative_to_the_start() {
        let f = sample();
        assert_eq!(f.subtree(2, Some(0)), vec![2]);
        assert_eq!(f.subtree(2, Some(1)), vec![2, 5, 4]);
        assert_eq!(f.subtree(1, Some(2)), vec![1, 3, 2, 5, 4]);
    }

    #[test]
    fn subtree_of_unknown_id_is_empty() {
        assert!(sample().subtree(99, None).is_empty());
    }

    #[test]
    fn full_path_joins_names_from_the_root() {
        let f = sample();
        assert_eq!(
            f.full_path(6).unwrap(),
            "My House / Living Room / shelf 2 / Box"
        );
        assert_eq!(f.full_path(7).unwrap(), "Cabin");
        assert_eq!(f.full_path(99), None);
    }

    #[test]
    fn full_paths_agree_with_full_path() {
        let f = sample();
        let all = f.full_paths();
        assert_eq!(all.len(), f.len());
        for (id, path) in all {
            assert_eq!(Some(path), f.full_path(id));
        }
    }

    #[test]
    fn path_resolves_case_insensitively_with_loose_spacing() {
        let f = sample();
        assert_eq!(f.resolve_path("my house/LIVING ROOM /  Shelf 2/box"), Ok(6));
        assert_eq!(f.resolve_path("Cabin"), Ok(7));
    }

    #[test]
    fn full_path_resolves_back_to_its_id() {
        let f = sample();
        for id in f.subtree(1, None) {
            assert_eq!(f.resolve_path(&f.full_path(id).unwrap()), Ok(id));
        }
    }

    #[test]
    fn unknown_path_is_not_found() {
        let err = sample().resolve_path("My House / Atic").unwrap_err();
        assert_eq!(
            err,
            TreeError::PathNotFound {
                path: "My House / Atic".into()
            }
        );
        assert_eq!(err.to_string(), "no location at path \"My House / Atic\"");
    }

    #[test]
    fn path_with_empty_part_is_refused() {
        let f = sample();
        for path in [
            "",
            "  ",
            "/",
            "My House //Kitchen",
            "//My House",
            "My House /",
        ] {
            assert!(
                matches!(f.resolve_path(path), Err(TreeError::EmptyPath { .. })),
                "{path:?}"
            );
        }
    }

    #[test]
    fn path_parts_are_split_on_slash_and_trimmed() {
        assert_eq!(
            parse_path(" My House/ Living Room /Shelf 2 ").unwrap(),
            ["My House", "Living Room", "Shelf 2"]
        );
        assert_eq!(parse_path("Cabin").unwrap(), ["Cabin"]);
    }

    #[test]
    fn one_leading_slash_marks_a_path_from_the_root() {
        assert_eq!(
            parse_path("/My House / Kitchen").unwrap(),
            ["My House", "Kitchen"]
        );
        assert_eq!(parse_path("  / 2024").unwrap(), ["2024"]);
        assert_eq!(sample().resolve_path("/my house / kitchen"), Ok(3));
    }

    #[test]
    fn numeric_root_name_resolves_as_a_path() {
        let f =
            Forest::from_rows([row(1, None, House, "2024"), row(2, Some(1), Room, "7")]).unwrap();
        assert_eq!(f.resolve_path("/2024"), Ok(1));
        assert_eq!(f.resolve_path("2024 / 7"), Ok(2));
    }

    #[test]
    fn path_of_max_segments_is_accepted() {
        let path = vec!["c"; MAX_PATH_SEGMENTS].join(" / ");
        assert_eq!(parse_path(&path).unwrap().len(), MAX_PATH_SEGMENTS);
    }

    #[test]
    fn path_with_too_many_segments_is_refused() {
        let path = vec!["c"; MAX_PATH_SEGMENTS + 1].join("/");
        let err = parse_path(&path).unwrap_err();
        assert_eq!(
            err,
            TreeError::PathTooDeep {
                segments: 1001,
                max: 1000
            }
        );
        assert_eq!(
            err.to_string(),
            "path has 1001 parts; at most 1000 are allowed"
        );
        assert!(err.is_invalid_input());
        assert_eq!(sample().resolve_path(&path), Err(err));
    }

    #[test]
    fn huge_path_is_refused_without_splitting_it() {
        let path = "/".repeat(10_000_000);
        assert_eq!(
            parse_path(&path),
            Err(TreeError::PathTooDeep {
                segments: 10_000_000,
                max: MAX_PATH_SEGMENTS
            })
        );
    }

    #[test]
    fn too_deep_is_checked_before_empty_parts() {
        let path = format!("{}//", "a/".repeat(MAX_PATH_SEGMENTS));
        assert!(matches!(
            parse_path(&path),
            Err(TreeError::PathTooDeep { .. })
        ));
    }

    #[test]
    fn path_keys_are_the_name_keys_of_the_parts() {
        assert_eq!(
            path_keys("/Caf\u{e9} / \u{212A}ITCHEN/ Straße").unwrap(),
            ["café", "kitchen", "strasse"]
        );
        assert!(matches!(
            path_keys("a//b"),
            Err(TreeError::EmptyPath { .. })
        ));
    }

    #[test]
    fn hash_and_digits_is_an_id() {
        assert_eq!(parse_location_ref("#123"), Ok(LocationRef::Id(123)));
        assert_eq!(parse_location_ref("  #7 "), Ok(LocationRef::Id(7)));
        assert_eq!(
            parse_location_ref(&format!("#{}", i64::MAX)),
            Ok(LocationRef::Id(i64::MAX))
        );
    }

    #[test]
    fn hash_without_a_valid_id_is_refused_naming_the_problem() {
        let reason = |s: &str| match parse_location_ref(s) {
            Err(TreeError::InvalidReference { reason, .. }) => reason,
            other => panic!("{s:?}: expected an invalid reference, got {other:?}"),
        };
        assert_eq!(reason("#"), "has no id after \"#\"");
        assert!(reason("#abc").contains("only digits may follow \"#\""));
        assert!(reason("# 12").contains("only digits"));
        assert!(reason("#-1").contains("only digits"));
        assert!(reason("#12a").contains("only digits"));
        assert_eq!(reason("#0"), "is not a location id: ids start at 1");
        assert_eq!(
            reason("#9223372036854775808"),
            "is not a location id: the number is too large"
        );
        let err = parse_location_ref(" #0 ").unwrap_err();
        assert_eq!(
            err.to_string(),
            "location reference \"#0\" is not a location id: ids start at 1"
        );
        assert!(err.is_invalid_input());
    }

    #[test]
    fn invalid_reference_echoes_long_input_cut_short() {
        let long = format!("#{}", "x".repeat(100_000));
        match parse_location_ref(&long) {
            Err(TreeError::InvalidReference { reference, .. }) => {
                assert_eq!(reference.chars().count(), 65);
                assert!(reference.ends_with('…'));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn leading_slash_is_a_path() {
        assert_eq!(
            parse_location_ref(" /2024 "),
            Ok(LocationRef::Path("/2024"))
        );
        assert_eq!(parse_location_ref("/#1"), Ok(LocationRef::Path("/#1")));
    }

    #[test]
    fn plain_digits_are_an_id_or_a_path() {
        assert_eq!(
            parse_location_ref(" 2024"),
            Ok(LocationRef::IdOrPath(2024, "2024"))
        );
        assert_eq!(
            parse_location_ref("007"),
            Ok(LocationRef::IdOrPath(7, "007"))
        );
    }

    #[test]
    fn digits_that_are_no_id_are_a_path() {
        assert_eq!(parse_location_ref("0"), Ok(LocationRef::Path("0")));
        assert_eq!(
            parse_location_ref("99999999999999999999"),
            Ok(LocationRef::Path("99999999999999999999"))
        );
    }

    #[test]
    fn other_text_is_a_path() {
        assert_eq!(
            parse_location_ref(" My House / Kitchen "),
            Ok(LocationRef::Path("My House / Kitchen"))
        );
        assert_eq!(
            parse_location_ref("12 Oak Street"),
            Ok(LocationRef::Path("12 Oak Street"))
        );
        assert_eq!(
            parse_location_ref("Box #3"),
            Ok(LocationRef::Path("Box #3"))
        );
    }

    #[test]
    fn blank_reference_is_an_empty_path() {
        assert!(matches!(
            parse_location_ref("  "),
            Err(TreeError::EmptyPath { .. })
        ));
    }

    #[test]
    fn find_child_matches_name_key() {
        let f = sample();
        assert_eq!(f.find_child(Some(1), " kitchen "), Some(3));
        assert_eq!(f.find_child(None, "CABIN"), Some(7));
        assert_eq!(f.find_child(Some(1), "Attic"), None);
    }

    #[test]
    fn find_child_matches_unicode_names_by_name_key() {
        let f = Forest::from_rows([
            row(1, None, House, "Caf\u{e9}"),
            row(2, Some(1), Room, "\u{212A}itchen"),
            row(3, Some(1), Room, "Straße"),
        ])
        .unwrap();
        assert_eq!(f.find_child(None, "CAFE\u{301}"), Some(1));
        assert_eq!(f.find_child(Some(1), "kitchen"), Some(2));
        assert_eq!(f.find_child(Some(1), "STRASSE"), Some(3));
        assert_eq!(f.resolve_path("café / KITCHEN"), Ok(2));
    }

    #[test]
    fn is_descendant_is_strict() {
        let f = sample();
        assert!(f.is_descendant(6, 1));
        assert!(f.is_descendant(6, 4));
        assert!(!f.is_descendant(1, 6));
        assert!(!f.is_descendant(6, 6));
        assert!(!f.is_descendant(6, 7));
    }

    #[test]
    fn move_to_another_allowed_parent_is_applied() {
        let mut f = sample();
        let rules = TypeRules::default();
        f.apply_move(&rules, 6, Some(5)).unwrap();
        assert_eq!(f.parent(6), Some(5));
        assert_eq!(f.children(5), &[6]);
        assert!(f.children(4).is_empty());
        assert_eq!(
            f.full_path(6).unwrap(),
            "My House / Living Room / Shelf 1 / Box"
        );
    }

    #[test]
    fn move_keeps_children_sorted() {
        let mut f = sample();
        f.apply_move(&TypeRules::default(), 2, Some(7)).unwrap();
        f.apply_move(&TypeRules::default(), 3, Some(7)).unwrap();
        assert_eq!(f.children(7), &[3, 2]);
        assert!(f.children(1).is_empty());
    }

    #[test]
    fn move_to_the_root_is_checked_against_the_rules() {
        let mut f = sample();
        let err = f.apply_move(&TypeRules::default(), 2, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot move location 2: a ROOM cannot be at the root (allowed under: HOUSE)"
        );
        f.apply_move(&TypeRules::permissive(), 2, None).unwrap();
        assert_eq!(f.roots(), &[7, 2, 1]);
    }

    #[test]
    fn move_under_itself_is_refused() {
        let err = sample()
            .check_move(&TypeRules::permissive(), 4, Some(4))
            .unwrap_err();
        assert_eq!(
            err,
            MoveError::CycleDetected {
                moved: 4,
                new_parent: 4
            }
        );
    }

    #[test]
    fn move_under_own_descendant_is_refused() {
        let err = sample()
            .check_move(&TypeRules::permissive(), 2, Some(6))
            .unwrap_err();
        assert_eq!(
            err,
            MoveError::CycleDetected {
                moved: 2,
                new_parent: 6
            }
        );
        assert_eq!(
            err.to_string(),
            "cannot move location 2 under 6: it would be inside itself"
        );
    }

    #[test]
    fn move_breaking_a_type_rule_is_refused() {
        let err = sample()
            .check_move(&TypeRules::default(), 5, Some(1))
            .unwrap_err();
        assert_eq!(
            err,
            MoveError::TypeRule {
                moved: 5,
                new_parent: Some(1),
                violation: TypeRules::default().check(Some(House), Shelf).unwrap_err(),
            }
        );
    }

    #[test]
    fn move_checks_only_the_moved_type_not_its_children() {
        // A container holding a shelf moves under another shelf: only CONTAINER-under-SHELF is checked.
        let mut f = sample();
        f.apply_move(&TypeRules::default(), 6, Some(5)).unwrap();
        assert!(f.check_move(&TypeRules::default(), 6, Some(4)).is_ok());
    }

    #[test]
    fn check_move_refuses_the_target_itself() {
        let target = MoveTarget {
            id: 4,
            location_type: Shelf,
            ancestors: &[1, 2],
        };
        assert_eq!(
            check_move(&TypeRules::permissive(), (4, Shelf), Some(target)),
            Err(MoveError::CycleDetected {
                moved: 4,
                new_parent: 4
            })
        );
    }

    #[test]
    fn check_move_refuses_a_target_below_the_moved_location_in_any_ancestor_order() {
        let target = MoveTarget {
            id: 6,
            location_type: Container,
            ancestors: &[4, 1, 2],
        };
        assert_eq!(
            check_move(&TypeRules::default(), (2, Room), Some(target)),
            Err(MoveError::CycleDetected {
                moved: 2,
                new_parent: 6
            })
        );
    }

    #[test]
    fn check_move_reports_a_cycle_before_a_type_rule() {
        // A HOUSE under its own CONTAINER breaks both rules; the cycle is what is reported.
        let target = MoveTarget {
            id: 6,
            location_type: Container,
            ancestors: &[1, 2, 4],
        };
        assert!(matches!(
            check_move(&TypeRules::default(), (1, House), Some(target)),
            Err(MoveError::CycleDetected { .. })
        ));
    }

    #[test]
    fn check_move_applies_the_type_rule() {
        let target = MoveTarget {
            id: 1,
            location_type: House,
            ancestors: &[],
        };
        assert_eq!(
            check_move(&TypeRules::default(), (5, Shelf), Some(target)),
            Err(MoveError::TypeRule {
                moved: 5,
                new_parent: Some(1),
                violation: TypeRules::default().check(Some(House), Shelf).unwrap_err(),
            })
        );
        assert!(check_move(
            &TypeRules::default(),
            (5, Shelf),
            Some(MoveTarget {
                location_type: Room,
                ..target
            })
        )
        .is_ok());
    }

    #[test]
    fn check_move_to_the_root_applies_the_root_rule() {
        assert!(check_move(&TypeRules::default(), (7, House), None).is_ok());
        assert_eq!(
            check_move(&TypeRules::default(), (2, Room), None),
            Err(MoveError::TypeRule {
                moved: 2,
                new_parent: None,
                violation: TypeRules::default().check(None, Room).unwrap_err(),
            })
        );
    }

    #[test]
    fn move_of_unknown_location_is_not_found() {
        assert_eq!(
            sample().check_move(&TypeRules::default(), 99, None),
            Err(MoveError::NotFound { id: 99 })
        );
    }

    #[test]
    fn move_under_unknown_parent_is_not_found() {
        assert_eq!(
            sample().check_move(&TypeRules::default(), 6, Some(99)),
            Err(MoveError::NotFound { id: 99 })
        );
    }

    #[test]
    fn refused_move_changes_nothing() {
        let mut f = sample();
        let before = f.clone();
        assert!(f.apply_move(&TypeRules::permissive(), 1, Some(6)).is_err());
        assert!(f.apply_move(&TypeRules::default(), 6, Some(1)).is_err());
        assert_eq!(f, before);
    }

    #[test]
    fn move_to_current_parent_is_a_no_op() {
        let mut f = sample();
        let before = f.clone();
        f.apply_move(&TypeRules::default(), 6, Some(4)).unwrap();
        assert_eq!(f, before);
    }

    #[test]
    fn insert_links_under_the_parent_in_sorted_order() {
        let mut f = sample();
        f.insert(row(8, Some(1), Room, "Attic")).unwrap();
        assert_eq!(f.children(1), &[8, 3, 2]);
        assert_eq!(f.resolve_path("My House / attic"), Ok(8));
    }

    #[test]
    fn insert_with_existing_id_is_refused() {
        let mut f = sample();
        assert_eq!(
            f.insert(row(3, None, House, "x")),
            Err(TreeError::DuplicateId { id: 3 })
        );
    }

    #[test]
    fn insert_under_missing_parent_is_refused() {
        let mut f = sample();
        assert_eq!(
            f.insert(row(8, Some(99), Room, "x")),
            Err(TreeError::MissingParent {
                id: 8,
                parent_id: 99
            })
        );
        assert_eq!(f.len(), 7);
    }

    #[test]
    fn deep_chain_is_handled_without_recursion() {
        const DEPTH: i64 = 100_000;
        on_small_stack(|| {
            let f = Forest::from_rows(chain(DEPTH)).unwrap();
            assert_eq!(f.depth(DEPTH), Some(DEPTH as usize - 1));
            assert_eq!(f.ancestors(DEPTH).len(), DEPTH as usize - 1);
            assert_eq!(f.subtree(1, None).len(), DEPTH as usize);
            assert_eq!(f.subtree(1, Some(10)).len(), 11);
            let path = f.full_path(DEPTH).unwrap();
            assert_eq!(path.len(), DEPTH as usize * 4 - 3);
            assert!(f.is_descendant(DEPTH, 1));
            assert!(matches!(
                f.check_move(&TypeRules::permissive(), 1, Some(DEPTH)),
                Err(MoveError::CycleDetected { .. })
            ));
            let mut f = f;
            f.apply_move(&TypeRules::permissive(), DEPTH / 2, None)
                .unwrap();
            assert_eq!(f.depth(DEPTH), Some(DEPTH as usize / 2));
        });
    }

    /// The rows of [`sample`]'s Living Room subtree, as a subtree query returns them.
    fn living_room_rows() -> Vec<LocationRow> {
        vec![
            row(6, Some(4), Container, "Box"),
            row(2, Some(1), Room, "Living Room"),
            row(4, Some(2), Shelf, "shelf 2"),
            row(5, Some(2), Shelf, "Shelf 1"),
        ]
    }

    #[test]
    fn subtree_rows_whose_parent_is_absent_become_roots() {
        let f = Forest::from_subtree_rows(living_room_rows()).unwrap();
        assert_eq!(f.roots(), &[2]);
        assert_eq!(f.children(2), &[5, 4]);
        assert_eq!(f.parent(2), None);
        assert_eq!(f.depth(6), Some(2));
        assert_eq!(f.ancestors(6), vec![2, 4]);
        assert_eq!(f.full_path(6).unwrap(), "Living Room / shelf 2 / Box");
        assert_eq!(f.resolve_path("living room / shelf 2"), Ok(4));
    }

    #[test]
    fn subtree_root_keeps_its_parent_id_in_the_row() {
        let f = Forest::from_subtree_rows(living_room_rows()).unwrap();
        assert_eq!(f.get(2).unwrap().parent_id, Some(1));
    }

    #[test]
    fn several_subtree_roots_are_sorted_like_roots() {
        let f = Forest::from_subtree_rows([
            row(5, Some(2), Shelf, "Shelf 1"),
            row(3, Some(1), Room, "Kitchen"),
            row(6, Some(4), Container, "Box"),
        ])
        .unwrap();
        assert_eq!(f.roots(), &[6, 3, 5]);
    }

    #[test]
    fn complete_rows_build_the_same_forest_either_way() {
        let rows: Vec<LocationRow> = sample().rows().cloned().collect();
        assert_eq!(Forest::from_subtree_rows(rows).unwrap(), sample());
    }

    #[test]
    fn subtree_rows_with_a_duplicate_id_are_refused() {
        let mut rows = living_room_rows();
        rows.push(row(4, Some(2), Shelf, "again"));
        assert_eq!(
            Forest::from_subtree_rows(rows),
            Err(TreeError::DuplicateId { id: 4 })
        );
    }

    #[test]
    fn subtree_rows_with_a_cycle_are_refused() {
        let mut rows = living_room_rows();
        rows[1].parent_id = Some(6);
        assert_eq!(
            Forest::from_subtree_rows(rows),
            Err(TreeError::Cycle {
                members: vec![2, 6, 4]
            })
        );
    }

    #[test]
    fn moves_inside_a_subtree_relink_its_root() {
        let mut f = Forest::from_subtree_rows(living_room_rows()).unwrap();
        let rules = TypeRules::permissive();
        f.apply_move(&rules, 2, None).unwrap();
        assert_eq!(f.get(2).unwrap().parent_id, None);
        f.apply_move(&rules, 2, Some(5)).unwrap_err();
        f.apply_move(&rules, 4, None).unwrap();
        assert_eq!(f.roots(), &[2, 4]);
        f.apply_move(&rules, 4, Some(5)).unwrap();
        assert_eq!(f.roots(), &[2]);
        assert_eq!(
            f.full_path(6).unwrap(),
            "Living Room / Shelf 1 / shelf 2 / Box"
        );
    }

    #[test]
    fn preorder_visits_roots_and_siblings_in_sorted_order_with_depths() {
        assert_eq!(
            sample().preorder(),
            vec![(7, 0), (1, 0), (3, 1), (2, 1), (5, 2), (4, 2), (6, 3)]
        );
    }

    #[test]
    fn preorder_of_a_subtree_starts_at_depth_zero() {
        let f = Forest::from_subtree_rows(living_room_rows()).unwrap();
        assert_eq!(f.preorder(), vec![(2, 0), (5, 1), (4, 1), (6, 2)]);
    }

    #[test]
    fn preorder_agrees_with_subtree_and_depth() {
        let f = sample();
        let order = f.preorder();
        let expected: Vec<LocationId> =
            f.roots().iter().flat_map(|&r| f.subtree(r, None)).collect();
        assert_eq!(
            order.iter().map(|&(id, _)| id).collect::<Vec<_>>(),
            expected
        );
        for (id, depth) in order {
            assert_eq!(f.depth(id), Some(depth));
        }
    }

    #[test]
    fn preorder_of_an_empty_forest_is_empty() {
        assert!(Forest::default().preorder().is_empty());
    }

    #[test]
    fn deep_subtree_is_built_and_laid_out_without_recursion() {
        const DEPTH: i64 = 100_000;
        on_small_stack(|| {
            let mut rows = chain(DEPTH);
            rows[0].parent_id = Some(0); // the chain hangs below a location not read
            rows.reverse();
            let f = Forest::from_subtree_rows(rows).unwrap();
            assert_eq!(f.roots(), &[1]);
            let order = f.preorder();
            assert_eq!(order.len(), DEPTH as usize);
            assert!(order
                .iter()
                .enumerate()
                .all(|(i, &(id, depth))| id == i as i64 + 1 && depth == i));
        });
    }

    #[test]
    fn deep_cycle_is_found_without_recursion() {
        const DEPTH: i64 = 100_000;
        on_small_stack(|| {
            let mut rows = chain(DEPTH);
            rows[0].parent_id = Some(DEPTH);
            match Forest::from_rows(rows) {
                Err(TreeError::Cycle { members }) => {
                    assert_eq!(members.len(), DEPTH as usize);
                    assert_eq!(members[0], 1);
                    assert_eq!(members[1], DEPTH);
                }
                other => panic!("expected a cycle, got {other:?}"),
            }
        });
    }

    #[test]
    fn errors_round_trip_through_json() {
        let err = MoveError::CycleDetected {
            moved: 1,
            new_parent: 2,
        };
        let json = serde_json::to_string(&err).unwrap();
        assert_eq!(serde_json::from_str::<MoveError>(&json).unwrap(), err);
    }
}
