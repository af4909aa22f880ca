//! The routes, one module per resource. Each module's `router()` declares its handlers once,
//! through utoipa-axum's `routes!`, so that the router and the OpenAPI document cannot
//! drift; adding a resource is adding a module and one line in [`api`].

use inventory_db::PageRequest;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::openapi::ApiDoc;
use crate::AppState;

pub mod auth;
pub mod categories;
pub mod csv;
pub mod docs;
pub mod health;
pub mod items;
pub mod locations;
pub mod reports;
pub mod tokens;
pub mod users;

/// Every documented route: the health probes at the root, the JSON API under `/api/v1`.
pub fn api() -> OpenApiRouter<AppState> {
    let v1 = OpenApiRouter::new()
        .merge(docs::router())
        .merge(auth::router())
        .merge(locations::router())
        .merge(items::router())
        .merge(categories::router())
        .merge(reports::router())
        .merge(csv::router())
        .merge(users::router())
        .merge(tokens::router());
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .nest("/api/v1", v1)
}

/// Records per page when a list is not told.
pub const DEFAULT_LIMIT: u32 = 50;
/// The most records a page holds.
pub const MAX_LIMIT: u32 = 500;
/// The longest text filter (`q`) accepted.
pub const MAX_FILTER_CHARS: usize = 255;

/// The page a list request asks for: `limit` 1–[`MAX_LIMIT`] ([`DEFAULT_LIMIT`] when
/// absent), the cursor as given (inventory-db checks it).
pub fn page_request(limit: Option<u32>, cursor: Option<String>) -> Result<PageRequest, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid_field(
            "limit",
            format!("limit must be from 1 to {MAX_LIMIT}; it is {limit}"),
        ));
    }
    Ok(PageRequest {
        limit,
        cursor: cursor.filter(|c| !c.is_empty()),
    })
}

/// A text filter: blank means none; longer than [`MAX_FILTER_CHARS`] is refused.
pub fn text_filter(field: &str, text: Option<String>) -> Result<Option<String>, ApiError> {
    match text {
        Some(t) if t.chars().count() > MAX_FILTER_CHARS => Err(ApiError::invalid_field(
            field,
            format!("{field} is longer than {MAX_FILTER_CHARS} characters"),
        )),
        Some(t) if t.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}
