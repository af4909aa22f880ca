//! `/api/v1/categories`: list, create, read, rename, delete.

use axum::extract::State;
use axum::http::StatusCode;
use inventory_core::CategoryId;
use inventory_db::ops::items;
use inventory_db::{TxMode, Versioned};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Reader, Writer};
use crate::error::ApiError;
use crate::etag::{precondition, Created, IfMatch, One};
use crate::extract::{Json, Path};
use crate::model::{Category, CategoryPatch, CategoryWithCount, NewCategory, Page};
use crate::AppState;

/// The category routes (mounted under `/api/v1`).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_categories, create_category))
        .routes(routes!(get_category, update_category, delete_category))
}

/// Every category, by name, with how many items are in each (one page).
#[utoipa::path(
    get,
    path = "/categories",
    tag = "categories",
    operation_id = "list_categories",
    security(("bearer" = [])),
    responses((status = 200, description = "Every category", body = Page<CategoryWithCount>))
)]
async fn list_categories(
    State(state): State<AppState>,
    _: Reader,
) -> Result<Json<Page<CategoryWithCount>>, ApiError> {
    let all = state.db().list_categories().await?;
    Ok(Json(Page::all(
        all.into_iter().map(CategoryWithCount::from).collect(),
    )))
}

/// Creates a category; names are unique, ignoring case.
#[utoipa::path(
    post,
    path = "/categories",
    tag = "categories",
    operation_id = "create_category",
    security(("bearer" = [])),
    request_body = NewCategory,
    responses(
        (status = 201, description = "Created", body = Category,
            headers(("ETag" = String, description = "Its version"),
                    ("Location" = String, description = "Its URL"))),
        (status = 409, description = "A category has this name")
    )
)]
async fn create_category(
    State(state): State<AppState>,
    _: Writer,
    Json(new): Json<NewCategory>,
) -> Result<Created<Category>, ApiError> {
    let created = state
        .db()
        .create_category(&new.name, new.description.as_deref())
        .await?;
    Ok(Created(created.into()))
}

/// One category.
#[utoipa::path(
    get,
    path = "/categories/{id}",
    tag = "categories",
    operation_id = "get_category",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The category's id")),
    responses(
        (status = 200, description = "The category", body = Category,
            headers(("ETag" = String, description = "Its version")))
    )
)]
async fn get_category(
    State(state): State<AppState>,
    _: Reader,
    Path(id): Path<CategoryId>,
) -> Result<One<Category>, ApiError> {
    Ok(One(state.db().get_category(id).await?.into()))
}

/// Renames a category or changes its description.
#[utoipa::path(
    patch,
    path = "/categories/{id}",
    tag = "categories",
    operation_id = "update_category",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The category's id"), IfMatch),
    request_body = CategoryPatch,
    responses(
        (status = 200, description = "The changed category", body = Category,
            headers(("ETag" = String, description = "Its new version"))),
        (status = 409, description = "Another category has this name")
    )
)]
async fn update_category(
    State(state): State<AppState>,
    _: Writer,
    Path(id): Path<CategoryId>,
    if_match: IfMatch,
    Json(patch): Json<CategoryPatch>,
) -> Result<One<Category>, ApiError> {
    let description = patch.description.as_ref().map(|d| d.as_deref());
    let db = state.db();
    let changed = db
        .transaction(TxMode::Write, async |c| {
            precondition(c, &if_match, Versioned::Category, id).await?;
            if patch.name.is_none() && description.is_none() {
                // Nothing to change: the version stays as it is.
                return Ok(None);
            }
            items::update_category(c, id, patch.name.as_deref(), description)
                .await
                .map(Some)
        })
        .await?;
    let category = match changed {
        Some(category) => category,
        None => db.get_category(id).await?,
    };
    Ok(One(category.into()))
}

/// Deletes a category; its items stay, without a category.
#[utoipa::path(
    delete,
    path = "/categories/{id}",
    tag = "categories",
    operation_id = "delete_category",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The category's id"), IfMatch),
    responses((status = 204, description = "Deleted"))
)]
async fn delete_category(
    State(state): State<AppState>,
    _: Writer,
    Path(id): Path<CategoryId>,
    if_match: IfMatch,
) -> Result<StatusCode, ApiError> {
    state
        .db()
        .transaction(TxMode::Write, async |c| {
            precondition(c, &if_match, Versioned::Category, id).await?;
            items::delete_category(c, id).await
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
