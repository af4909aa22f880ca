// Location queries shared by both backends. Included into `store::pg` and `store::sqlite`,
// which define `Conn`, `tree_tx!` and `chains` before including this file.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use inventory_core::{
    name_key, validate_description, validate_location_name, LocationId, LocationRow, LocationType,
    MoveError, TypeRules, PATH_SEPARATOR,
};

use crate::error::DbError;
use crate::models::location::{
    DeleteOutcome, Location, LocationChanges, LocationDetail, LocationFilter, LocationInsert,
    LocationRecord, LocationSummary, NewLocation, TreeNode,
};
use crate::models::{now, Page, PageRequest};
use crate::schema::locations::dsl as l;
use crate::store::{lower, SubtreeRow};

/// Depth bound for "no limit": far deeper than any home, and it stops a walk on a cycle.
const UNLIMITED_DEPTH: i32 = 100_000;

pub(crate) async fn find_record(
    conn: &mut Conn,
    id: LocationId,
) -> Result<Option<LocationRecord>, DbError> {
    Ok(l::locations
        .find(id)
        .select(LocationRecord::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub(crate) async fn get_record(conn: &mut Conn, id: LocationId) -> Result<LocationRecord, DbError> {
    find_record(conn, id)
        .await?
        .ok_or_else(|| DbError::location_not_found(id))
}

/// Full path and ancestors (root first) of each id, from one recursive query.
pub(crate) async fn lineages(
    conn: &mut Conn,
    ids: &[LocationId],
) -> Result<HashMap<LocationId, (String, Vec<LocationSummary>)>, DbError> {
    let mut out: HashMap<LocationId, (String, Vec<LocationSummary>)> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for row in chains(conn, ids).await? {
        let entry = out.entry(row.seed).or_default();
        if !entry.0.is_empty() {
            entry.0.push_str(PATH_SEPARATOR);
        }
        entry.0.push_str(&row.name);
        if row.depth > 0 {
            entry.1.push(LocationSummary {
                id: row.id,
                location_type: row.location_type.parse().map_err(|e| {
                    DbError::Query(format!("location {} has a bad type: {e}", row.id))
                })?,
                name: row.name,
            });
        }
    }
    Ok(out)
}

/// Attaches full paths to records (one query for all of them).
pub(crate) async fn with_paths(
    conn: &mut Conn,
    records: Vec<LocationRecord>,
) -> Result<Vec<Location>, DbError> {
    let ids: Vec<LocationId> = records.iter().map(|r| r.id).collect();
    let mut paths = lineages(conn, &ids).await?;
    records
        .into_iter()
        .map(|r| {
            let path = paths
                .remove(&r.id)
                .map(|(p, _)| p)
                .unwrap_or_else(|| r.name.clone());
            r.into_location(path)
        })
        .collect()
}

async fn with_path(conn: &mut Conn, record: LocationRecord) -> Result<Location, DbError> {
    let mut v = with_paths(conn, vec![record]).await?;
    v.pop()
        .ok_or_else(|| DbError::Query("location vanished while reading its path".into()))
}

/// The child of `parent` (or root) whose name equals `name` case-insensitively.
/// SQL's `lower()` narrows the search; names outside ASCII are compared in Rust with
/// the core's Unicode folding, which SQLite's `lower()` lacks.
pub(crate) async fn child_named(
    conn: &mut Conn,
    parent: Option<LocationId>,
    name: &str,
    except: Option<LocationId>,
) -> Result<Option<LocationRecord>, DbError> {
    let mut query = l::locations
        .select(LocationRecord::as_select())
        .into_boxed();
    query = match parent {
        Some(p) => query.filter(l::parent_id.eq(p)),
        None => query.filter(l::parent_id.is_null()),
    };
    if name.is_ascii() {
        query = query.filter(lower(l::name).eq(name.to_ascii_lowercase()));
    }
    if let Some(id) = except {
        query = query.filter(l::id.ne(id));
    }
    let key = name_key(name);
    let candidates: Vec<LocationRecord> = query.order(l::id).load(conn).await?;
    Ok(candidates.into_iter().find(|r| name_key(&r.name) == key))
}

async fn ensure_unique_sibling(
    conn: &mut Conn,
    parent: Option<LocationId>,
    name: &str,
    except: Option<LocationId>,
) -> Result<(), DbError> {
    match child_named(conn, parent, name, except).await? {
        Some(_) => Err(DbError::duplicate(name, parent)),
        None => Ok(()),
    }
}

/// Maps a unique-index violation on sibling names to the domain error.
fn sibling_clash(e: diesel::result::Error, name: &str, parent: Option<LocationId>) -> DbError {
    match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => DbError::duplicate(name, parent),
        other => other.into(),
    }
}

pub(crate) async fn create(
    conn: &mut Conn,
    rules: &TypeRules,
    new: &NewLocation,
) -> Result<Location, DbError> {
    let name = validate_location_name(&new.name)?;
    let description = validate_description("description", new.description.as_deref())?;
    let kind = new.location_type;
    let parent = new.parent_id;
    let record: LocationRecord = tree_tx!(conn, |c| {
        let parent_type = match parent {
            Some(p) => Some(
                find_record(c, p)
                    .await?
                    .ok_or_else(|| DbError::NotFound {
                        what: "parent location with id",
                        key: p.to_string(),
                    })?
                    .kind()?,
            ),
            None => None,
        };
        rules
            .check(parent_type, kind)
            .map_err(|violation| DbError::TypeRule {
                id: None,
                violation,
            })?;
        ensure_unique_sibling(c, parent, &name, None).await?;
        let at = now();
        diesel::insert_into(l::locations)
            .values(LocationInsert {
                name: &name,
                description: description.as_deref(),
                location_type: kind.as_str(),
                parent_id: parent,
                created_at: at,
                updated_at: at,
            })
            .returning(LocationRecord::as_returning())
            .get_result(c)
            .await
            .map_err(|e| sibling_clash(e, &name, parent))
    })?;
    with_path(conn, record).await
}

pub(crate) async fn get(conn: &mut Conn, id: LocationId) -> Result<LocationDetail, DbError> {
    let record = get_record(conn, id).await?;
    let child_count: i64 = l::locations
        .filter(l::parent_id.eq(id))
        .count()
        .get_result(conn)
        .await?;
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

pub(crate) async fn list(
    conn: &mut Conn,
    filter: &LocationFilter,
    page: &PageRequest,
) -> Result<Page<Location>, DbError> {
    let limit = page.effective_limit()?;
    let mut query = l::locations
        .select(LocationRecord::as_select())
        .filter(l::id.gt(page.after_id()?))
        .into_boxed();
    if let Some(t) = filter.location_type {
        query = query.filter(l::location_type.eq(t.as_str()));
    }
    if filter.roots_only {
        query = query.filter(l::parent_id.is_null());
    }
    if let Some(p) = filter.parent_id {
        query = query.filter(l::parent_id.eq(p));
    }
    if let Some(text) = filter
        .name_contains
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        let pattern = format!(
            "%{}%",
            text.trim()
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        query = query.filter(lower(l::name).like(pattern).escape('\\'));
    }
    let mut records: Vec<LocationRecord> = query.order(l::id).limit(limit + 1).load(conn).await?;
    let next_cursor = PageRequest::cut(&mut records, limit, |r| r.id);
    Ok(Page {
        items: with_paths(conn, records).await?,
        next_cursor,
    })
}

pub(crate) async fn update(
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
    let new_type = changes.location_type;
    let record: LocationRecord = tree_tx!(conn, |c| {
        let current = get_record(c, id).await?;
        if let Some(kind) = new_type {
            let parent_type = match current.parent_id {
                Some(p) => Some(get_record(c, p).await?.kind()?),
                None => None,
            };
            rules
                .check(parent_type, kind)
                .map_err(|violation| DbError::TypeRule {
                    id: Some(id),
                    violation,
                })?;
            let child_types: Vec<String> = l::locations
                .filter(l::parent_id.eq(id))
                .select(l::location_type)
                .distinct()
                .load(c)
                .await?;
            for child in child_types {
                let child: LocationType = child
                    .parse()
                    .map_err(|e| DbError::Query(format!("bad child type: {e}")))?;
                rules
                    .check(Some(kind), child)
                    .map_err(|violation| DbError::TypeRule {
                        id: Some(id),
                        violation,
                    })?;
            }
        }
        if let Some(name) = &name {
            ensure_unique_sibling(c, current.parent_id, name, Some(id)).await?;
        }
        diesel::update(l::locations.find(id))
            .set((
                l::name.eq(name.as_deref().unwrap_or(&current.name)),
                l::description.eq(match &description {
                    Some(d) => d.as_deref(),
                    None => current.description.as_deref(),
                }),
                l::location_type
                    .eq(new_type.map_or(current.location_type.as_str(), |t| t.as_str())),
                l::updated_at.eq(now()),
            ))
            .returning(LocationRecord::as_returning())
            .get_result(c)
            .await
            .map_err(|e| {
                sibling_clash(
                    e,
                    name.as_deref().unwrap_or(&current.name),
                    current.parent_id,
                )
            })
    })?;
    with_path(conn, record).await
}

/// Re-parents `id` under `new_parent` (or makes it a root). Refused with a conflict when it
/// would create a cycle or break a type rule. The check and the update happen under the
/// tree write lock, so two opposing moves can never both succeed.
pub(crate) async fn move_to(
    conn: &mut Conn,
    rules: &TypeRules,
    id: LocationId,
    new_parent: Option<LocationId>,
) -> Result<Location, DbError> {
    let record: LocationRecord = tree_tx!(conn, |c| {
        let current = get_record(c, id).await?;
        let kind = current.kind()?;
        let parent_type = match new_parent {
            Some(p) => {
                if p == id {
                    return Err(MoveError::CycleDetected {
                        moved: id,
                        new_parent: p,
                    }
                    .into());
                }
                let parent = find_record(c, p).await?.ok_or_else(|| DbError::NotFound {
                    what: "target location with id",
                    key: p.to_string(),
                })?;
                let chain = chains(c, &[p]).await?;
                if chain.iter().any(|row| row.id == id) {
                    return Err(MoveError::CycleDetected {
                        moved: id,
                        new_parent: p,
                    }
                    .into());
                }
                Some(parent.kind()?)
            }
            None => None,
        };
        rules
            .check(parent_type, kind)
            .map_err(|violation| MoveError::TypeRule {
                moved: id,
                new_parent,
                violation,
            })?;
        ensure_unique_sibling(c, new_parent, &current.name, Some(id)).await?;
        diesel::update(l::locations.find(id))
            .set((l::parent_id.eq(new_parent), l::updated_at.eq(now())))
            .returning(LocationRecord::as_returning())
            .get_result(c)
            .await
            .map_err(|e| sibling_clash(e, &current.name, new_parent))
    })?;
    with_path(conn, record).await
}

/// Deletes a location and its whole subtree (ON DELETE CASCADE). Items inside are
/// handled as `mode` says; by default their presence refuses the delete.
pub(crate) async fn delete(
    conn: &mut Conn,
    id: LocationId,
    mode: crate::models::item::ItemsOnDelete,
) -> Result<DeleteOutcome, DbError> {
    tree_tx!(conn, |c| {
        let record = get_record(c, id).await?;
        let subtree = subtree_ids(c, id).await?;
        let items_affected = detach_items(c, id, record.parent_id, &subtree, mode).await?;
        diesel::delete(l::locations.find(id)).execute(c).await?;
        Ok(DeleteOutcome {
            id,
            locations_deleted: subtree.len() as u64,
            items_affected,
        })
    })
}

/// The subtree under `root` (or the whole forest), `max_depth` levels deep, nested.
pub(crate) async fn tree(
    conn: &mut Conn,
    root: Option<LocationId>,
    max_depth: Option<u32>,
) -> Result<Vec<TreeNode>, DbError> {
    let depth = max_depth.map_or(UNLIMITED_DEPTH, |d| d.min(UNLIMITED_DEPTH as u32) as i32);
    let rows: Vec<SubtreeRow> = match root {
        Some(id) => {
            get_record(conn, id).await?;
            diesel::sql_query(include_str!("../sql/subtree.sql"))
                .bind::<diesel::sql_types::BigInt, _>(id)
                .bind::<diesel::sql_types::Integer, _>(depth)
                .load(conn)
                .await?
        }
        None => {
            diesel::sql_query(include_str!("../sql/forest.sql"))
                .bind::<diesel::sql_types::Integer, _>(depth)
                .load(conn)
                .await?
        }
    };
    let top_paths = match root {
        Some(id) => lineages(conn, &[id]).await?,
        None => HashMap::new(),
    };
    assemble_tree(rows, top_paths)
}

/// Nests subtree rows; full paths are built top-down from the top node's path.
fn assemble_tree(
    mut rows: Vec<SubtreeRow>,
    top_paths: HashMap<LocationId, (String, Vec<LocationSummary>)>,
) -> Result<Vec<TreeNode>, DbError> {
    rows.sort_by_key(|r| r.depth);
    let mut paths: HashMap<LocationId, String> = HashMap::with_capacity(rows.len());
    for r in &rows {
        let path = match (r.depth, r.parent_id.and_then(|p| paths.get(&p))) {
            (0, _) | (_, None) => top_paths
                .get(&r.id)
                .map(|(p, _)| p.clone())
                .unwrap_or_else(|| r.name.clone()),
            (_, Some(parent_path)) => format!("{parent_path}{PATH_SEPARATOR}{}", r.name),
        };
        paths.insert(r.id, path);
    }
    let mut children: HashMap<LocationId, Vec<TreeNode>> = HashMap::new();
    let mut tops = Vec::new();
    while let Some(r) = rows.pop() {
        let mut kids = children.remove(&r.id).unwrap_or_default();
        kids.sort_by(|a, b| {
            (name_key(&a.location.name), a.location.id)
                .cmp(&(name_key(&b.location.name), b.location.id))
        });
        let depth = r.depth;
        let parent = r.parent_id;
        let record = LocationRecord {
            id: r.id,
            name: r.name,
            description: r.description,
            location_type: r.location_type,
            parent_id: r.parent_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        };
        let path = paths.remove(&record.id).unwrap_or_default();
        let node = TreeNode {
            location: record.into_location(path)?,
            children: kids,
        };
        match (depth, parent) {
            (0, _) | (_, None) => tops.push(node),
            (_, Some(p)) => children.entry(p).or_default().push(node),
        }
    }
    tops.sort_by(|a, b| {
        (name_key(&a.location.name), a.location.id)
            .cmp(&(name_key(&b.location.name), b.location.id))
    });
    Ok(tops)
}

/// Resolves `A / B / C` (case-insensitive per segment) to an id, one indexed lookup per level.
pub(crate) async fn resolve_path(conn: &mut Conn, path: &str) -> Result<LocationId, DbError> {
    let segments: Vec<&str> = path.split('/').map(str::trim).collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(DbError::Invalid(format!(
            "location path \"{}\" has an empty part",
            path.trim()
        )));
    }
    let mut parent = None;
    for segment in segments {
        match child_named(conn, parent, segment, None).await? {
            Some(record) => parent = Some(record.id),
            None => {
                return Err(DbError::NotFound {
                    what: "location at path",
                    key: format!("\"{}\"", path.trim()),
                })
            }
        }
    }
    parent.ok_or_else(|| DbError::Invalid("empty location path".into()))
}

/// Every location as a core row, in one read (for the integrity analysis).
pub(crate) async fn all_rows(conn: &mut Conn) -> Result<Vec<LocationRow>, DbError> {
    let rows: Vec<(i64, Option<i64>, String, String)> = l::locations
        .select((l::id, l::parent_id, l::location_type, l::name))
        .order(l::id)
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|(id, parent_id, kind, name)| {
            Ok(LocationRow {
                id,
                parent_id,
                location_type: kind
                    .parse()
                    .map_err(|e| DbError::Query(format!("location {id} has a bad type: {e}")))?,
                name,
            })
        })
        .collect()
}

/// Insert, read back, update and delete a scratch root location in one write transaction.
pub(crate) async fn round_trip(conn: &mut Conn) -> Result<(), DbError> {
    let name = format!("__round_trip_{}", std::process::id());
    tree_tx!(conn, |c| {
        let at = now();
        let record: LocationRecord = diesel::insert_into(l::locations)
            .values(LocationInsert {
                name: &name,
                description: None,
                location_type: LocationType::House.as_str(),
                parent_id: None,
                created_at: at,
                updated_at: at,
            })
            .returning(LocationRecord::as_returning())
            .get_result(c)
            .await?;
        let read = get_record(c, record.id).await?;
        if read.name != name {
            return Err(DbError::Query(
                "round trip read back a different name".into(),
            ));
        }
        diesel::update(l::locations.find(record.id))
            .set(l::description.eq(Some("round trip")))
            .execute(c)
            .await?;
        let deleted = diesel::delete(l::locations.find(record.id))
            .execute(c)
            .await?;
        if deleted != 1 {
            return Err(DbError::Query("round trip could not delete its row".into()));
        }
        Ok(())
    })
}
