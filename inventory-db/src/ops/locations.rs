//! Location operations: create, read, list, rename, move, delete, tree, path resolution.
//!
//! Each operation is an async function over a [`Conn`], so that callers can compose several
//! in one transaction; the `Database` methods below run one each in the transaction it
//! needs (tree writes in [`TxMode::TreeWrite`]). The rules themselves — type rules, the
//! move check, path syntax, sibling order — are inventory-core's.

use std::collections::HashMap;

use inventory_core::{
    name_key, parse_location_ref, path_keys, validate_description, validate_location_name,
    LocationId, LocationRef, LocationRow, LocationType, MoveTarget, TypeRules, PATH_SEPARATOR,
};

use crate::config::Backend;
use crate::conn::{Conn, TxMode};
use crate::error::{DbError, Entity, Key};
use crate::models::item::{ItemRecord, ItemsOnDelete};
use crate::models::location::{
    each_row, outline_page, ChainRow, DeleteOutcome, Halves, Location, LocationChanges,
    LocationDetail, LocationFilter, LocationRecord, LocationSummary, NewLocation, Outline,
    OutlineNode, OutlineRow, TreeNode,
};
use crate::models::totals::{self, Changes};
use crate::models::{now, Page, PageRequest};
use crate::pool::Database;

/// Full path and ancestors (root first) of each id, from one recursive query.
pub async fn lineages(
    conn: &mut Conn,
    ids: &[LocationId],
) -> Result<HashMap<LocationId, (String, Vec<LocationSummary>)>, DbError> {
    let mut out: HashMap<LocationId, (String, Vec<LocationSummary>)> = HashMap::new();
    for row in LocationRecord::chains(conn, ids).await? {
        let entry = out.entry(row.seed).or_default();
        if !entry.0.is_empty() {
            entry.0.push_str(PATH_SEPARATOR);
        }
        entry.0.push_str(&row.name);
        if row.depth > 0 {
            entry.1.push(LocationSummary {
                id: row.id,
                location_type: row.location_type.parse().map_err(|e| {
                    DbError::corrupt(format!("location {} has a bad type: {e}", row.id))
                })?,
                name: row.name,
            });
        }
    }
    Ok(out)
}

/// The full path of each id (one recursive query).
pub async fn full_paths(
    conn: &mut Conn,
    ids: &[LocationId],
) -> Result<HashMap<LocationId, String>, DbError> {
    Ok(lineages(conn, ids)
        .await?
        .into_iter()
        .map(|(id, (path, _))| (id, path))
        .collect())
}

/// Attaches full paths to rows (one query for all of them).
pub(crate) async fn with_paths(
    conn: &mut Conn,
    records: Vec<LocationRecord>,
) -> Result<Vec<Location>, DbError> {
    let ids: Vec<LocationId> = records.iter().map(|r| r.id).collect();
    let mut paths = full_paths(conn, &ids).await?;
    records
        .into_iter()
        .map(|r| {
            let path = paths.remove(&r.id).unwrap_or_else(|| r.name.clone());
            r.into_location(path)
        })
        .collect()
}

async fn with_path(conn: &mut Conn, record: LocationRecord) -> Result<Location, DbError> {
    let id = record.id;
    with_paths(conn, vec![record])
        .await?
        .pop()
        .ok_or_else(|| DbError::location_not_found(id))
}

/// The type of `parent` (or `None` for the root), or `NotFound` naming it as `entity`.
async fn parent_type(
    conn: &mut Conn,
    parent: Option<LocationId>,
    entity: Entity,
) -> Result<Option<LocationType>, DbError> {
    match parent {
        Some(p) => Ok(Some(LocationRecord::get(conn, p, entity).await?.kind()?)),
        None => Ok(None),
    }
}

/// Refuses a name whose key a sibling (other than `except`) already has.
async fn ensure_unique_sibling(
    conn: &mut Conn,
    parent: Option<LocationId>,
    name: &str,
    key: &str,
    except: Option<LocationId>,
) -> Result<(), DbError> {
    match LocationRecord::child_by_key(conn, parent, key).await? {
        Some(other) if Some(other.id) != except => Err(DbError::duplicate_location(name, parent)),
        _ => Ok(()),
    }
}

/// Maps the sibling-name index's violation (a concurrent writer won) to the domain error.
fn sibling_clash(e: DbError, name: &str, parent: Option<LocationId>) -> DbError {
    e.unique_means(|| DbError::duplicate_location(name, parent))
}

/// Creates a location after validating it and checking the type rules and sibling names.
/// Run it in a [`TxMode::TreeWrite`] transaction.
pub async fn create(
    conn: &mut Conn,
    rules: &TypeRules,
    new: &NewLocation,
) -> Result<Location, DbError> {
    let name = validate_location_name(&new.name)?;
    let description = validate_description("description", new.description.as_deref())?;
    let key = name_key(&name);
    let parent = new.parent_id;
    let parent_kind = parent_type(conn, parent, Entity::ParentLocation).await?;
    rules
        .check(parent_kind, new.location_type)
        .map_err(|violation| DbError::TypeRule {
            id: None,
            violation,
        })?;
    ensure_unique_sibling(conn, parent, &name, &key, None).await?;
    let record = LocationRecord::insert(
        conn,
        &name,
        &key,
        description.as_deref(),
        new.location_type,
        parent,
        now(),
    )
    .await
    .map_err(|e| sibling_clash(e, &name, parent))?;
    with_path(conn, record).await
}

/// One location with its full path, ancestors and child count.
pub async fn get(conn: &mut Conn, id: LocationId) -> Result<LocationDetail, DbError> {
    let (record, child_count) = LocationRecord::get_with_child_count(conn, id).await?;
    let (path, ancestors) = lineages(conn, &[id])
        .await?
        .remove(&id)
        .unwrap_or_else(|| (record.name.clone(), Vec::new()));
    Ok(LocationDetail {
        location: record.into_location(path)?,
        ancestors,
        child_count,
    })
}

/// Locations matching `filter`, by id, one page at a time.
pub async fn list(
    conn: &mut Conn,
    filter: &LocationFilter,
    page: &PageRequest,
) -> Result<Page<Location>, DbError> {
    let limit = page.effective_limit()?;
    let mut records = LocationRecord::page(conn, filter, page.after_id()?, limit + 1).await?;
    let next_cursor = PageRequest::cut(&mut records, limit, |r| r.id);
    Ok(Page {
        items: with_paths(conn, records).await?,
        next_cursor,
    })
}

/// Changes name, description or type; a new type is checked against parent and children.
/// Run it in a [`TxMode::TreeWrite`] transaction.
pub async fn update(
    conn: &mut Conn,
    rules: &TypeRules,
    id: LocationId,
    changes: &LocationChanges,
) -> Result<Location, DbError> {
    let name = changes
        .name
        .as_deref()
        .map(validate_location_name)
        .transpose()?;
    let description = match &changes.description {
        Some(d) => Some(validate_description("description", d.as_deref())?),
        None => None,
    };
    let current = LocationRecord::get(conn, id, Entity::Location).await?;
    let kind = match changes.location_type {
        Some(kind) => {
            let parent_kind = parent_type(conn, current.parent_id, Entity::ParentLocation).await?;
            let type_rule = |violation| DbError::TypeRule {
                id: Some(id),
                violation,
            };
            rules.check(parent_kind, kind).map_err(type_rule)?;
            for child in LocationRecord::child_types(conn, id).await? {
                let child: LocationType = child
                    .parse()
                    .map_err(|e| DbError::corrupt(format!("a child of location {id}: {e}")))?;
                rules.check(Some(kind), child).map_err(type_rule)?;
            }
            kind
        }
        None => current.kind()?,
    };
    let name = name.unwrap_or_else(|| current.name.clone());
    let key = name_key(&name);
    if key != current.name_key {
        ensure_unique_sibling(conn, current.parent_id, &name, &key, Some(id)).await?;
    }
    let description = match description {
        Some(d) => d,
        None => current.description.clone(),
    };
    let record = LocationRecord::update_attributes(
        conn,
        id,
        &name,
        &key,
        description.as_deref(),
        kind,
        now(),
    )
    .await
    .map_err(|e| sibling_clash(e, &name, current.parent_id))?;
    with_path(conn, record).await
}

/// Re-parents `id` under `new_parent` (or makes it a root): one row update. Refused with a
/// conflict when it would make a cycle or break a type rule (inventory-core's
/// `check_move`, over the new parent's ancestors read in one query). Run it in a
/// [`TxMode::TreeWrite`] transaction, so that two opposing moves can never both succeed.
pub async fn move_to(
    conn: &mut Conn,
    rules: &TypeRules,
    id: LocationId,
    new_parent: Option<LocationId>,
) -> Result<Location, DbError> {
    let current = LocationRecord::get(conn, id, Entity::Location).await?;
    let moved = (id, current.kind()?);
    // The chains of the new parent (for the cycle check) and the old one (for the totals).
    let mut ends: Vec<LocationId> = new_parent.into_iter().chain(current.parent_id).collect();
    ends.dedup();
    let chains = LocationRecord::chains(conn, &ends).await?;
    match new_parent {
        Some(p) => {
            let target = LocationRecord::get(conn, p, Entity::TargetLocation).await?;
            let ancestors: Vec<LocationId> = chains
                .iter()
                .filter(|row| row.seed == p && row.depth > 0)
                .map(|row| row.id)
                .collect();
            inventory_core::check_move(
                rules,
                moved,
                Some(MoveTarget {
                    id: p,
                    location_type: target.kind()?,
                    ancestors: &ancestors,
                }),
            )?;
        }
        None => inventory_core::check_move(rules, moved, None)?,
    }
    ensure_unique_sibling(conn, new_parent, &current.name, &current.name_key, Some(id)).await?;
    let record = LocationRecord::set_parent(conn, id, new_parent, now())
        .await
        .map_err(|e| sibling_clash(e, &current.name, new_parent))?;
    // The subtree's totals leave the old chain of ancestors and join the new one.
    if current.parent_id != new_parent
        && !move_totals(conn, id, current.parent_id, new_parent, &chains).await?
    {
        totals::refill(conn).await?;
    }
    with_path(conn, record).await
}

/// Takes the kept totals of the subtree of `id` off `from` and its ancestors and adds them
/// to `to` and its ancestors (either `None`: no chain). `false` when the kept totals are
/// not exact (SQLite past 64 bits) and nothing was changed: the caller computes them all
/// again with [`totals::refill`] once its write is done. `chains` holds the ancestor chains
/// of `from` and `to`.
async fn move_totals(
    conn: &mut Conn,
    id: LocationId,
    from: Option<LocationId>,
    to: Option<LocationId>,
    chains: &[ChainRow],
) -> Result<bool, DbError> {
    let Some(kept) = totals::kept(conn, id).await? else {
        return Ok(false);
    };
    let mut changes = Changes::new();
    if let Some(from) = from {
        changes.subtree(from, &kept, -1);
    }
    if let Some(to) = to {
        changes.subtree(to, &kept, 1);
    }
    totals::apply_along(conn, changes, chains).await?;
    Ok(true)
}

/// Deletes a location and its whole subtree (`ON DELETE CASCADE`). The items inside are
/// handled as `mode` says; by default their presence refuses the delete. Run it in a
/// [`TxMode::TreeWrite`] transaction.
pub async fn delete(
    conn: &mut Conn,
    id: LocationId,
    mode: ItemsOnDelete,
) -> Result<DeleteOutcome, DbError> {
    let record = LocationRecord::get(conn, id, Entity::Location).await?;
    // The kept totals count the subtree's items without walking it (kept by every item
    // write, none of which runs beside this tree write). Should they be wrong, no item is
    // lost: the items' RESTRICT key refuses to delete a location that still holds one.
    let held = totals::kept_items(conn, id).await?;
    let items_affected = if held == 0 {
        0
    } else {
        match mode {
            ItemsOnDelete::Refuse => {
                return Err(DbError::ItemsInside {
                    location: id,
                    items: held,
                })
            }
            ItemsOnDelete::MoveToParent => {
                let parent = record.parent_id.ok_or(DbError::NoParentForItems {
                    location: id,
                    items: held,
                })?;
                ItemRecord::move_subtree_items(conn, id, parent, now()).await?;
                held
            }
            ItemsOnDelete::Delete => held,
        }
    };
    // Deleted items' amounts leave the chain above (moved to the parent, they stay in
    // it); the subtree's own rows go with its locations, by the cascade.
    // A root has no chain above it.
    let exact = match record.parent_id {
        Some(parent) if mode == ItemsOnDelete::Delete && held > 0 => {
            let chains = LocationRecord::chains(conn, &[parent]).await?;
            move_totals(conn, id, Some(parent), None, &chains).await?
        }
        _ => true,
    };
    let locations_deleted = LocationRecord::subtree_size(conn, id).await?;
    let large = locations_deleted + items_affected >= LARGE_DELETE;
    let with_items = mode == ItemsOnDelete::Delete && held > 0;
    let outcome = if conn.backend() == Backend::Sqlite && large {
        delete_large_on_sqlite(conn, id, with_items, locations_deleted, items_affected).await?
    } else {
        if with_items {
            ItemRecord::delete_subtree_items(conn, id).await?;
        }
        // An item moved into the subtree by a concurrent writer: the RESTRICT key refuses.
        LocationRecord::delete(conn, id).await.map_err(|e| {
            e.foreign_key_means(|| DbError::ItemsInside {
                location: id,
                items: held.max(1),
            })
        })?;
        DeleteOutcome {
            id,
            locations_deleted,
            items_affected,
        }
    };
    if !exact {
        totals::refill(conn).await?;
    }
    Ok(outcome)
}

/// Rows (locations and items) from which a delete on SQLite takes the set-based path of
/// [`delete_large_on_sqlite`].
const LARGE_DELETE: u64 = 2_000;

/// Deletes the subtree of `id` on SQLite with the triggers dropped for the while: the
/// search entries, the kept totals and, `with_items`, the items and their share of the
/// category counts go one statement each (`delete_subtree.sql`), then the
/// locations by the cascade, and the triggers are created again, all in the caller's
/// transaction, with a larger page cache for the while. SQLite has one writer at a time,
/// so no other write sees the database without its triggers. An item left in the subtree
/// (the kept totals said there was none) makes the cascade refuse, as on the other path.
async fn delete_large_on_sqlite(
    conn: &mut Conn,
    id: LocationId,
    with_items: bool,
    locations_deleted: u64,
    items_affected: u64,
) -> Result<DeleteOutcome, DbError> {
    use crate::conn::{batch, create_triggers, drop_triggers, set_sqlite_settings};
    let reset =
        set_sqlite_settings(conn, &[("cache_size", crate::conn::LARGE_WRITE_CACHE)]).await?;
    let deleted = async {
        let triggers = drop_triggers(conn).await?;
        // The id is a number: it goes into the text as one.
        let mut sql =
            include_str!("../sql/sqlite/delete_subtree.sql").replace(":root", &id.to_string());
        if !with_items {
            if let (Some(begin), Some(end)) = (sql.find(ITEMS_BEGIN), sql.find(ITEMS_END)) {
                sql.replace_range(begin..end, "");
            }
        }
        batch(conn, &sql).await?;
        LocationRecord::delete(conn, id).await.map_err(|e| {
            e.foreign_key_means(|| DbError::ItemsInside {
                location: id,
                items: items_affected.max(1),
            })
        })?;
        create_triggers(conn, &triggers).await
    }
    .await;
    // The connection's cache back as it was, whatever happened.
    let reset = batch(conn, &reset).await;
    deleted?;
    reset?;
    Ok(DeleteOutcome {
        id,
        locations_deleted,
        items_affected,
    })
}

/// The markers around the item statements of `delete_subtree.sql`.
const ITEMS_BEGIN: &str = "-- items: begin";
const ITEMS_END: &str = "-- items: end";

/// The subtree under `root` (or every root's tree), `max_depth` levels deep, in pre-order
/// with siblings ordered by name key (the core's [`Forest`] order).
pub async fn outline(
    conn: &mut Conn,
    root: Option<LocationId>,
    max_depth: Option<u32>,
) -> Result<Outline, DbError> {
    let top_parent_path = match root {
        Some(id) => {
            let record = LocationRecord::get(conn, id, Entity::Location).await?;
            match record.parent_id {
                Some(parent) => full_paths(conn, &[parent]).await?.remove(&parent),
                None => None,
            }
        }
        None => None,
    };
    let rows = LocationRecord::subtree(conn, root, max_depth).await?;
    outline_of(rows, max_depth, top_parent_path)
}

/// The outline of `rows` (a subtree, or every root's tree, in any order), `max_depth`
/// levels deep; `top_parent_path` is the full path of the top's parent.
fn outline_of(
    rows: Vec<OutlineRow>,
    max_depth: Option<u32>,
    top_parent_path: Option<String>,
) -> Result<Outline, DbError> {
    let keys: Vec<(LocationId, Option<LocationId>, &str)> = rows
        .iter()
        .map(|r| (r.id, r.parent_id, r.name_key.as_str()))
        .collect();
    let order = inventory_core::preorder_of(&keys, max_depth.map(|d| d as usize));
    drop(keys);
    let mut slots: Vec<Option<OutlineRow>> = rows.into_iter().map(Some).collect();
    let mut nodes = Vec::with_capacity(order.len());
    for (i, depth) in order {
        let Some(r) = slots[i].take() else {
            continue;
        };
        let location_type = LocationRecord::checked_type(r.id, r.kind, r.odd_kind.as_deref())?;
        nodes.push(OutlineNode {
            depth,
            id: r.id,
            location_type,
            name: r.name,
            description: r.description,
            parent_id: r.parent_id,
            created_at: r.created_at.0.and_utc(),
            updated_at: r.updated_at.0.and_utc(),
        });
    }
    Ok(Outline {
        nodes,
        top_parent_path,
    })
}

/// Resolves `A / B / C` (each part compared by name key) to an id, one indexed lookup per level.
pub async fn resolve_path(conn: &mut Conn, path: &str) -> Result<LocationId, DbError> {
    let keys = path_keys(path)?;
    let mut parent = None;
    for key in &keys {
        match LocationRecord::child_by_key(conn, parent, key).await? {
            Some(record) => parent = Some(record.id),
            None => {
                return Err(DbError::NotFound {
                    entity: Entity::Location,
                    key: Key::Path(path.trim().to_string()),
                })
            }
        }
    }
    parent.ok_or_else(|| {
        DbError::from(inventory_core::TreeError::EmptyPath {
            path: path.to_string(),
        })
    })
}

/// Resolves a reference as users write it: `#12` is an id, `/2024` a path, a bare number
/// an id or a root's name — refused as ambiguous when it is both — and anything else a path.
pub async fn resolve(conn: &mut Conn, reference: &str) -> Result<LocationId, DbError> {
    match parse_location_ref(reference)? {
        LocationRef::Id(id) => Ok(LocationRecord::get(conn, id, Entity::Location).await?.id),
        LocationRef::Path(path) => resolve_path(conn, path).await,
        LocationRef::IdOrPath(id, text) => {
            let by_id = LocationRecord::find(conn, id).await?;
            let by_path = match resolve_path(conn, text).await {
                Ok(found) => Some(found),
                Err(DbError::NotFound { .. }) => None,
                Err(e) => return Err(e),
            };
            match (by_id, by_path) {
                (Some(record), Some(other)) if other != record.id => {
                    let id_path = full_paths(conn, &[record.id])
                        .await?
                        .remove(&record.id)
                        .unwrap_or(record.name);
                    Err(DbError::AmbiguousReference {
                        reference: text.to_string(),
                        id,
                        id_path,
                    })
                }
                (Some(record), _) => Ok(record.id),
                (None, Some(found)) => Ok(found),
                (None, None) => Err(DbError::location_not_found(id)),
            }
        }
    }
}

impl Database {
    /// Creates a location after validating it and checking the type rules and sibling names.
    pub async fn create_location(&self, new: &NewLocation) -> Result<Location, DbError> {
        let rules = &self.rules;
        self.transaction(TxMode::TreeWrite, async |c| create(c, rules, new).await)
            .await
    }

    /// One location with its full path, ancestors and child count.
    pub async fn get_location(&self, id: LocationId) -> Result<LocationDetail, DbError> {
        self.read(async |c| get(c, id).await).await
    }

    /// Lists locations matching `filter`, ordered by id, one page at a time.
    pub async fn list_locations(
        &self,
        filter: &LocationFilter,
        page: &PageRequest,
    ) -> Result<Page<Location>, DbError> {
        self.read(async |c| list(c, filter, page).await).await
    }

    /// Changes name, description or type; a new type is checked against parent and children.
    pub async fn update_location(
        &self,
        id: LocationId,
        changes: &LocationChanges,
    ) -> Result<Location, DbError> {
        let rules = &self.rules;
        self.transaction(TxMode::TreeWrite, async |c| {
            update(c, rules, id, changes).await
        })
        .await
    }

    /// Moves a location under `new_parent`, or to the root with `None`.
    pub async fn move_location(
        &self,
        id: LocationId,
        new_parent: Option<LocationId>,
    ) -> Result<Location, DbError> {
        let rules = &self.rules;
        self.transaction(TxMode::TreeWrite, async |c| {
            move_to(c, rules, id, new_parent).await
        })
        .await
    }

    /// Deletes a location and everything under it; refused (conflict) when items are inside.
    pub async fn delete_location(&self, id: LocationId) -> Result<DeleteOutcome, DbError> {
        self.delete_location_with(id, ItemsOnDelete::Refuse).await
    }

    /// Deletes a location and everything under it, handling the items inside as `mode`
    /// says, all in one transaction.
    pub async fn delete_location_with(
        &self,
        id: LocationId,
        mode: ItemsOnDelete,
    ) -> Result<DeleteOutcome, DbError> {
        self.transaction(TxMode::TreeWrite, async |c| delete(c, id, mode).await)
            .await
    }

    /// The tree under `root` (or every root's tree) in pre-order, at most `max_depth`
    /// levels below the top: linear in size however deep the tree is.
    pub async fn location_outline(
        &self,
        root: Option<LocationId>,
        max_depth: Option<u32>,
    ) -> Result<Outline, DbError> {
        if let (None, None) = (root, max_depth) {
            // Every row, read in two halves at once where it can (see `each_row`).
            let mut rows: Vec<OutlineRow> = Vec::new();
            each_row(self, Halves::Both, outline_page, Ok, |page| {
                rows.extend(page);
                Ok(())
            })
            .await?;
            return outline_of(rows, None, None);
        }
        self.transaction(TxMode::Snapshot, async |c| {
            outline(c, root, max_depth).await
        })
        .await
    }

    /// The tree under `root` (or every root's tree), at most `max_depth` levels below it,
    /// nested, every node with its full path.
    pub async fn location_tree(
        &self,
        root: Option<LocationId>,
        max_depth: Option<u32>,
    ) -> Result<Vec<TreeNode>, DbError> {
        Ok(self.location_outline(root, max_depth).await?.into_trees())
    }

    /// Resolves a full path such as `My House / Kitchen` (by name key) to an id.
    pub async fn resolve_path(&self, path: &str) -> Result<LocationId, DbError> {
        self.read(async |c| resolve_path(c, path).await).await
    }

    /// Resolves a reference as users write it: `#12` (an id), `/2024` (a path from the
    /// root), a bare number (an id, or a root's name; both at once is ambiguous), or a path.
    pub async fn resolve_location(&self, reference: &str) -> Result<LocationId, DbError> {
        self.read(async |c| resolve(c, reference).await).await
    }

    /// Every location as a core row (id, parent, type, name), in one read.
    pub async fn location_rows(&self) -> Result<Vec<LocationRow>, DbError> {
        let rows = self
            .read(async |c| LocationRecord::tree_columns(c).await)
            .await?;
        rows.into_iter()
            .map(|(id, parent_id, kind, name, _)| {
                Ok(LocationRow {
                    id,
                    parent_id,
                    location_type: kind.parse().map_err(|e| {
                        DbError::corrupt(format!("location {id} has a bad type: {e}"))
                    })?,
                    name,
                })
            })
            .collect()
    }
}
