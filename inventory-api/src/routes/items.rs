//! `/api/v1/items`: list, create, read, change, move (one, or many at once), delete, and
//! `/api/v1/search`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use inventory_core::{validate_price, ItemId, LocationId};
use inventory_db::ops::items;
use inventory_db::{Conn, DbError, ItemChanges, ItemFilter, TxMode, Versioned};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{page_request, text_filter, DEFAULT_LIMIT, MAX_LIMIT};
use crate::auth::{Reader, Writer};
use crate::error::ApiError;
use crate::etag::{precondition, Created, IfMatch, One};
use crate::extract::{Json, Path, Query};
use crate::model::{BulkMove, Item, ItemPatch, MoveItem, NewItem, Page, SearchHit};
use crate::AppState;

/// The item and search routes (mounted under `/api/v1`).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_items, create_item))
        .routes(routes!(bulk_move))
        .routes(routes!(get_item, update_item, delete_item))
        .routes(routes!(move_item))
        .routes(routes!(search))
}

/// Which items to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only the items in this location.
    pub location_id: Option<LocationId>,
    /// With `location_id`: also the items anywhere below it (`true`).
    pub recursive: Option<bool>,
    /// Only the items of this category (by name).
    #[param(max_length = 255)]
    pub category: Option<String>,
    /// Only names containing this text, ignoring case.
    #[param(max_length = 255)]
    pub q: Option<String>,
    /// Only items changed at or after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub updated_since: Option<DateTime<Utc>>,
    /// Records per page, 1–500 (50 when absent).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(max_length = 64)]
    pub cursor: Option<String>,
}

/// Lists items by id, a page at a time.
#[utoipa::path(
    get,
    path = "/items",
    tag = "items",
    operation_id = "list_items",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of items", body = Page<Item>),
        (status = 404, description = "No such location or category")
    )
)]
async fn list_items(
    State(state): State<AppState>,
    _: Reader,
    Query(query): Query<ListQuery>,
) -> Result<Json<Page<Item>>, ApiError> {
    let page = page_request(query.limit, query.cursor)?;
    let recursive = query.recursive.unwrap_or(false);
    if recursive && query.location_id.is_none() {
        return Err(ApiError::invalid_field(
            "recursive",
            "recursive needs a location_id to look below",
        ));
    }
    let filter = ItemFilter {
        location_id: query.location_id,
        recursive,
        category: text_filter("category", query.category)?,
        name_contains: text_filter("q", query.q)?,
        updated_since: query.updated_since,
    };
    let found = state.db().list_items(&filter, &page).await?;
    Ok(Json(Page::from_db(found)))
}

/// Creates an item in an existing location; a named category must exist.
#[utoipa::path(
    post,
    path = "/items",
    tag = "items",
    operation_id = "create_item",
    security(("bearer" = [])),
    request_body = NewItem,
    responses(
        (status = 201, description = "Created", body = Item,
            headers(("ETag" = String, description = "Its version"),
                    ("Location" = String, description = "Its URL"))),
        (status = 404, description = "No such location or category")
    )
)]
async fn create_item(
    State(state): State<AppState>,
    _: Writer,
    Json(new): Json<NewItem>,
) -> Result<Created<Item>, ApiError> {
    let created = state.db().create_item(&new.into()).await?;
    Ok(Created(created.into()))
}

/// One item.
#[utoipa::path(
    get,
    path = "/items/{id}",
    tag = "items",
    operation_id = "get_item",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The item's id")),
    responses(
        (status = 200, description = "The item", body = Item,
            headers(("ETag" = String, description = "Its version")))
    )
)]
async fn get_item(
    State(state): State<AppState>,
    _: Reader,
    Path(id): Path<ItemId>,
) -> Result<One<Item>, ApiError> {
    Ok(One(state.db().get_item(id).await?.into()))
}

/// The library's changes for a patch. A price and its currency go together: clearing one
/// clears both, setting one keeps the other as it is.
async fn changes_of(
    conn: &mut Conn,
    id: ItemId,
    patch: &ItemPatch,
) -> Result<ItemChanges, DbError> {
    let price = match (patch.purchase_price_cents, &patch.currency) {
        (None, None) => None,
        (Some(None), None) | (None, Some(None)) | (Some(None), Some(None)) => Some(None),
        (cents, currency) => {
            let current = items::get(conn, id).await?;
            let cents = cents.unwrap_or(current.purchase_price_cents);
            let currency = currency.clone().unwrap_or(current.currency);
            match validate_price(cents, currency.as_deref())? {
                (Some(cents), Some(currency)) => Some(Some((cents, currency))),
                _ => Some(None),
            }
        }
    };
    Ok(ItemChanges {
        name: patch.name.clone(),
        quantity: patch.quantity,
        category: patch.category.clone(),
        description: patch.description.clone(),
        notes: patch.notes.clone(),
        serial_number: patch.serial_number.clone(),
        purchase_date: patch.purchase_date,
        price,
        warranty_expires: patch.warranty_expires,
    })
}

/// Changes an item's fields (the result is validated as a whole); a `location_id` moves it.
#[utoipa::path(
    patch,
    path = "/items/{id}",
    tag = "items",
    operation_id = "update_item",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The item's id"), IfMatch),
    request_body = ItemPatch,
    responses(
        (status = 200, description = "The changed item", body = Item,
            headers(("ETag" = String, description = "Its new version")))
    )
)]
async fn update_item(
    State(state): State<AppState>,
    _: Writer,
    Path(id): Path<ItemId>,
    if_match: IfMatch,
    Json(patch): Json<ItemPatch>,
) -> Result<One<Item>, ApiError> {
    let changed = state
        .db()
        .transaction(TxMode::ItemWrite, async |c| {
            precondition(c, &if_match, Versioned::Item, id).await?;
            if let Some(to) = patch.location_id {
                items::move_many(c, &[id], to).await?;
            }
            let changes = changes_of(c, id, &patch).await?;
            if changes.is_empty() {
                items::get(c, id).await
            } else {
                items::update(c, id, &changes).await
            }
        })
        .await?;
    Ok(One(changed.into()))
}

/// Deletes an item.
#[utoipa::path(
    delete,
    path = "/items/{id}",
    tag = "items",
    operation_id = "delete_item",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The item's id"), IfMatch),
    responses((status = 204, description = "Deleted"))
)]
async fn delete_item(
    State(state): State<AppState>,
    _: Writer,
    Path(id): Path<ItemId>,
    if_match: IfMatch,
) -> Result<StatusCode, ApiError> {
    state
        .db()
        .transaction(TxMode::ItemWrite, async |c| {
            precondition(c, &if_match, Versioned::Item, id).await?;
            items::delete(c, id).await
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Moves an item to another location.
#[utoipa::path(
    post,
    path = "/items/{id}/move",
    tag = "items",
    operation_id = "move_item",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The item's id"), IfMatch),
    request_body = MoveItem,
    responses(
        (status = 200, description = "Moved", body = Item,
            headers(("ETag" = String, description = "Its new version")))
    )
)]
async fn move_item(
    State(state): State<AppState>,
    _: Writer,
    Path(id): Path<ItemId>,
    if_match: IfMatch,
    Json(target): Json<MoveItem>,
) -> Result<One<Item>, ApiError> {
    let mut moved = state
        .db()
        .transaction(TxMode::ItemWrite, async |c| {
            precondition(c, &if_match, Versioned::Item, id).await?;
            items::move_many(c, &[id], target.location_id).await
        })
        .await?;
    let item = moved
        .pop()
        .ok_or_else(|| ApiError::internal(format!("item {id} moved but not read back")))?;
    Ok(One(item.into()))
}

/// Moves several items to one location: all of them, or (when one does not exist, or the
/// location does not) none.
#[utoipa::path(
    post,
    path = "/items/bulk-move",
    tag = "items",
    operation_id = "bulk_move_items",
    security(("bearer" = [])),
    request_body = BulkMove,
    responses(
        (status = 200, description = "All moved", body = Page<Item>),
        (status = 404, description = "An item or the location does not exist; nothing moved")
    )
)]
async fn bulk_move(
    State(state): State<AppState>,
    _: Writer,
    Json(request): Json<BulkMove>,
) -> Result<Json<Page<Item>>, ApiError> {
    if request.ids.is_empty() {
        return Err(ApiError::invalid_field("ids", "name at least one item"));
    }
    let moved = state
        .db()
        .move_items(&request.ids, request.location_id)
        .await?;
    Ok(Json(Page::all(moved.into_iter().map(Item::from).collect())))
}

/// What to search for.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words; each must match the start of a word of a name, description, note or serial.
    #[param(min_length = 1, max_length = 255, example = "drill")]
    pub q: String,
    /// Most hits, 1–500 (50 when absent).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// "Where is my drill?": ranked hits over items and locations, each with its full path.
#[utoipa::path(
    get,
    path = "/search",
    tag = "items",
    operation_id = "search",
    security(("bearer" = [])),
    params(SearchQuery),
    responses((status = 200, description = "Hits, best first (one page)", body = Page<SearchHit>))
)]
async fn search(
    State(state): State<AppState>,
    _: Reader,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Page<SearchHit>>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid_field(
            "limit",
            format!("limit must be from 1 to {MAX_LIMIT}; it is {limit}"),
        ));
    }
    let q = text_filter("q", Some(query.q))?.unwrap_or_default();
    let hits = state.db().search(&q, i64::from(limit)).await?;
    Ok(Json(Page::all(
        hits.into_iter().map(SearchHit::from).collect(),
    )))
}
