//! `/api/v1/locations`: list, create, read (with ancestors and item totals), change, move,
//! delete, the subtree, the items, and path resolution.

use axum::body::Body;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use inventory_core::{LocationId, LocationType};
use inventory_db::ops::{items, locations};
use inventory_db::{ItemFilter, ItemsOnDelete, LocationChanges, LocationFilter, TxMode, Versioned};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{page_request, text_filter};
use crate::auth::{Reader, Writer};
use crate::error::{ApiError, FieldError};
use crate::etag::{precondition, Created, IfMatch, One};
use crate::extract::{Json, Path, Query};
use crate::model::{
    Ancestor, Location, LocationDeleted, LocationDetail, LocationItems, LocationPatch,
    LocationTypeSchema, MoveLocation, NewLocation, Page, TreeNode,
};
use crate::AppState;

/// The location routes (mounted under `/api/v1`).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_locations, create_location))
        .routes(routes!(resolve_location))
        .routes(routes!(get_location, update_location, delete_location))
        .routes(routes!(move_location))
        .routes(routes!(location_tree))
        .routes(routes!(location_items))
}

/// Which locations to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this type.
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<LocationTypeSchema>)]
    pub location_type: Option<LocationType>,
    /// Only the children of this location.
    pub parent_id: Option<LocationId>,
    /// Only roots (`true`).
    pub root: Option<bool>,
    /// Only names containing this text, ignoring case.
    #[param(max_length = 255)]
    pub q: Option<String>,
    /// Only locations changed at or after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub updated_since: Option<DateTime<Utc>>,
    /// Records per page, 1–500 (50 when absent).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(max_length = 64)]
    pub cursor: Option<String>,
}

/// Lists locations by id, a page at a time.
#[utoipa::path(
    get,
    path = "/locations",
    tag = "locations",
    operation_id = "list_locations",
    security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "A page of locations", body = Page<Location>))
)]
async fn list_locations(
    State(state): State<AppState>,
    _: Reader,
    Query(query): Query<ListQuery>,
) -> Result<Json<Page<Location>>, ApiError> {
    let page = page_request(query.limit, query.cursor)?;
    let filter = LocationFilter {
        location_type: query.location_type,
        roots_only: query.root.unwrap_or(false),
        parent_id: query.parent_id,
        name_contains: text_filter("q", query.q)?,
        updated_since: query.updated_since,
    };
    let found = state.db().list_locations(&filter, &page).await?;
    Ok(Json(Page::from_db(found)))
}

/// Creates a location. The parent's type must allow its type, and its name must be free
/// among its siblings (ignoring case).
#[utoipa::path(
    post,
    path = "/locations",
    tag = "locations",
    operation_id = "create_location",
    security(("bearer" = [])),
    request_body = NewLocation,
    responses(
        (status = 201, description = "Created", body = Location,
            headers(("ETag" = String, description = "Its version"),
                    ("Location" = String, description = "Its URL"))),
        (status = 404, description = "No such parent"),
        (status = 409, description = "A type rule forbids it, or a sibling has the name")
    )
)]
async fn create_location(
    State(state): State<AppState>,
    _: Writer,
    Json(new): Json<NewLocation>,
) -> Result<Created<Location>, ApiError> {
    let created = state
        .db()
        .create_location(&inventory_db::NewLocation {
            name: new.name,
            description: new.description,
            location_type: new.location_type,
            parent_id: new.parent_id,
        })
        .await?;
    Ok(Created(created.into()))
}

/// A full path.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ResolveQuery {
    /// Names from the root, separated by `/` (`My House / Kitchen`), compared ignoring case.
    #[param(min_length = 1, max_length = 4096, example = "My House / Kitchen")]
    pub path: String,
}

/// Finds a location by its full path.
#[utoipa::path(
    get,
    path = "/locations/resolve",
    tag = "locations",
    operation_id = "resolve_location",
    security(("bearer" = [])),
    params(ResolveQuery),
    responses(
        (status = 200, description = "The location at that path", body = Location,
            headers(("ETag" = String, description = "Its version"))),
        (status = 404, description = "No location at that path")
    )
)]
async fn resolve_location(
    State(state): State<AppState>,
    _: Reader,
    Query(query): Query<ResolveQuery>,
) -> Result<One<Location>, ApiError> {
    let path = query.path;
    let found = state
        .db()
        .read(async |c| {
            let id = locations::resolve_path(c, &path).await?;
            Ok(locations::get(c, id).await?.location)
        })
        .await?;
    Ok(One(found.into()))
}

/// A location, its ancestors, how many children it has, and the count, quantity and
/// value of the items in it (`items_here`) and in its whole subtree (`items_below`).
#[utoipa::path(
    get,
    path = "/locations/{id}",
    tag = "locations",
    operation_id = "get_location",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The location's id")),
    responses(
        (status = 200, description = "The location", body = LocationDetail,
            headers(("ETag" = String, description = "Its version")))
    )
)]
async fn get_location(
    State(state): State<AppState>,
    _: Reader,
    Path(id): Path<LocationId>,
) -> Result<One<LocationDetail>, ApiError> {
    let (detail, here, below) = state
        .db()
        .transaction(TxMode::Snapshot, async |c| {
            let detail = locations::get(c, id).await?;
            let (here, below) = items::summaries_here_and_below(c, id).await?;
            Ok((detail, here, below))
        })
        .await?;
    Ok(One(LocationDetail {
        location: detail.location.into(),
        ancestors: detail
            .ancestors
            .into_iter()
            .map(|a| Ancestor {
                id: a.id,
                name: a.name,
                location_type: a.location_type,
            })
            .collect(),
        children_count: detail.child_count,
        items_here: here.into(),
        items_below: below.into(),
    }))
}

/// Changes a location's name, description or type (checked against its parent and
/// children); a `parent_id` moves it as `POST /locations/{id}/move` does.
#[utoipa::path(
    patch,
    path = "/locations/{id}",
    tag = "locations",
    operation_id = "update_location",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The location's id"), IfMatch),
    request_body = LocationPatch,
    responses(
        (status = 200, description = "The changed location", body = Location,
            headers(("ETag" = String, description = "Its new version"))),
        (status = 409, description = "A type rule, a cycle, or a sibling with the name")
    )
)]
async fn update_location(
    State(state): State<AppState>,
    _: Writer,
    Path(id): Path<LocationId>,
    if_match: IfMatch,
    Json(patch): Json<LocationPatch>,
) -> Result<One<Location>, ApiError> {
    let changes = LocationChanges {
        name: patch.name,
        description: patch.description,
        location_type: patch.location_type,
    };
    let db = state.db();
    let rules = db.rules();
    let changed = db
        .transaction(TxMode::TreeWrite, async |c| {
            precondition(c, &if_match, Versioned::Location, id).await?;
            let mut changed = None;
            if !changes.is_empty() {
                changed = Some(locations::update(c, rules, id, &changes).await?);
            }
            if let Some(parent) = patch.parent_id {
                changed = Some(locations::move_to(c, rules, id, parent).await?);
            }
            match changed {
                Some(location) => Ok(location),
                None => Ok(locations::get(c, id).await?.location),
            }
        })
        .await?;
    Ok(One(changed.into()))
}

/// What happens to the items inside a deleted subtree.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ItemsChoice {
    /// Move them to the deleted location's parent.
    MoveToParent,
    /// Delete them too.
    Delete,
}

/// How to delete.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// What happens to the items in the subtree; without it, a subtree holding items is
    /// not deleted (409).
    #[param(inline)]
    pub items: Option<ItemsChoice>,
}

/// Deletes a location and everything under it. A subtree holding items is deleted only
/// with `items=move-to-parent` (a root has no parent: 409) or `items=delete`.
#[utoipa::path(
    delete,
    path = "/locations/{id}",
    tag = "locations",
    operation_id = "delete_location",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The location's id"), DeleteQuery, IfMatch),
    responses(
        (status = 200, description = "Deleted; what went with it", body = LocationDeleted),
        (status = 409, description = "Items are inside and no `items` choice was made")
    )
)]
async fn delete_location(
    State(state): State<AppState>,
    _: Writer,
    Path(id): Path<LocationId>,
    if_match: IfMatch,
    Query(query): Query<DeleteQuery>,
) -> Result<Json<LocationDeleted>, ApiError> {
    let mode = match query.items {
        None => ItemsOnDelete::Refuse,
        Some(ItemsChoice::MoveToParent) => ItemsOnDelete::MoveToParent,
        Some(ItemsChoice::Delete) => ItemsOnDelete::Delete,
    };
    let deleted = state
        .db()
        .transaction(TxMode::TreeWrite, async |c| {
            precondition(c, &if_match, Versioned::Location, id).await?;
            locations::delete(c, id, mode).await
        })
        .await?;
    Ok(Json(deleted.into()))
}

/// Moves a location (with its subtree) under another, or to the root with `null`. Refused
/// when it would put the location inside itself or break a type rule; two opposing moves
/// never both succeed.
#[utoipa::path(
    post,
    path = "/locations/{id}/move",
    tag = "locations",
    operation_id = "move_location",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The location's id"), IfMatch),
    request_body = MoveLocation,
    responses(
        (status = 200, description = "Moved", body = Location,
            headers(("ETag" = String, description = "Its new version"))),
        (status = 409, description = "A cycle, a type rule, or a sibling with the name")
    )
)]
async fn move_location(
    State(state): State<AppState>,
    _: Writer,
    Path(id): Path<LocationId>,
    if_match: IfMatch,
    Json(target): Json<MoveLocation>,
) -> Result<One<Location>, ApiError> {
    let db = state.db();
    let rules = db.rules();
    let moved = db
        .transaction(TxMode::TreeWrite, async |c| {
            precondition(c, &if_match, Versioned::Location, id).await?;
            locations::move_to(c, rules, id, target.parent_id).await
        })
        .await?;
    Ok(One(moved.into()))
}

/// Largest `depth` of a tree (the document's `int32` range; no tree is nearly as deep).
const MAX_TREE_DEPTH: u32 = i32::MAX as u32;

/// How deep a tree to show.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TreeQuery {
    /// Levels below the location (0: the location alone); every level when absent.
    #[param(minimum = 0, maximum = 2147483647)]
    pub depth: Option<u32>,
}

/// A location and its sub-locations, nested under `children`, siblings ordered by name.
#[utoipa::path(
    get,
    path = "/locations/{id}/tree",
    tag = "locations",
    operation_id = "location_tree",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The location's id"), TreeQuery),
    responses((status = 200, description = "The subtree", body = TreeNode))
)]
async fn location_tree(
    State(state): State<AppState>,
    _: Reader,
    Path(id): Path<LocationId>,
    Query(query): Query<TreeQuery>,
) -> Result<Response, ApiError> {
    if query.depth.is_some_and(|d| d > MAX_TREE_DEPTH) {
        return Err(ApiError::validation(vec![FieldError {
            field: "depth".to_string(),
            message: format!("depth is at most {MAX_TREE_DEPTH}"),
        }]));
    }
    let outline = state.db().location_outline(Some(id), query.depth).await?;
    // Written iteratively: a tree of any depth costs no stack.
    let mut body = Vec::with_capacity(outline.nodes().len() * 200);
    outline
        .write_json(false, &mut body)
        .map_err(ApiError::internal)?;
    Ok(([(CONTENT_TYPE, "application/json")], Body::from(body)).into_response())
}

/// Which of a location's items to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ItemsQuery {
    /// Also the items anywhere below it (`true`).
    pub recursive: Option<bool>,
    /// Records per page, 1–500 (50 when absent).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(max_length = 64)]
    pub cursor: Option<String>,
}

/// The items in a location (with `recursive=true`, also below it), a page at a time, with
/// the count, quantity and value of all of them.
#[utoipa::path(
    get,
    path = "/locations/{id}/items",
    tag = "locations",
    operation_id = "location_items",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The location's id"), ItemsQuery),
    responses((status = 200, description = "A page of the items", body = LocationItems))
)]
async fn location_items(
    State(state): State<AppState>,
    _: Reader,
    Path(id): Path<LocationId>,
    Query(query): Query<ItemsQuery>,
) -> Result<Json<LocationItems>, ApiError> {
    let page = page_request(query.limit, query.cursor)?;
    let recursive = query.recursive.unwrap_or(false);
    let filter = ItemFilter {
        location_id: Some(id),
        recursive,
        ..ItemFilter::default()
    };
    let (found, totals) = state
        .db()
        .transaction(TxMode::Snapshot, async |c| {
            let found = items::list(c, &filter, &page).await?;
            let totals = items::summary(c, id, recursive).await?;
            Ok((found, totals))
        })
        .await?;
    let page: Page<crate::model::Item> = Page::from_db(found);
    Ok(Json(LocationItems {
        items: page.items,
        next_cursor: page.next_cursor,
        totals: totals.into(),
    }))
}
