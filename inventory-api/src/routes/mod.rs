//! The routes, one module per resource. Each module's `router()` declares its handlers once,
//! through utoipa-axum's `routes!`, so that the router and the OpenAPI document cannot
//! drift; adding a resource is adding a module and one line in [`api`].

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::openapi::ApiDoc;
use crate::AppState;

pub mod auth;
pub mod docs;
pub mod health;

/// Every documented route: the health probes at the root, the JSON API under `/api/v1`.
pub fn api() -> OpenApiRouter<AppState> {
    let v1 = OpenApiRouter::new()
        .merge(docs::router())
        .merge(auth::router());
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .nest("/api/v1", v1)
}
