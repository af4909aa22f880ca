//! `GET /api/v1/openapi.json`, the OpenAPI 3.1 document of this server, and the interactive
//! documentation at `/docs` (Swagger UI, embedded in the binary).

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::{Extension, Router};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::AppState;

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

/// The document, serialized once when the router is built.
#[derive(Clone, Debug)]
pub struct OpenApiJson(pub Bytes);

/// The document's route (mounted under `/api/v1`).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openapi_json))
}

/// Swagger UI at `/docs`, reading [`OPENAPI_PATH`]; its assets are compiled in.
pub fn swagger_ui() -> Router<AppState> {
    Router::from(SwaggerUi::new("/docs").config(Config::new([OPENAPI_PATH])))
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
async fn openapi_json(Extension(OpenApiJson(json)): Extension<OpenApiJson>) -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], json)
}
