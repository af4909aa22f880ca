//! `GET /healthz` (the process is up) and `GET /readyz` (the database is reachable and its
//! schema current).

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Problem};
use crate::extract::Json;
use crate::AppState;

/// The health routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// A probe's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    /// `ok` (healthz) or `ready` (readyz).
    #[schema(example = "ok")]
    pub status: String,
}

/// The process is up (it does not look at the database).
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    operation_id = "healthz",
    responses((status = 200, description = "The process is up", body = Status))
)]
async fn healthz() -> Json<Status> {
    Json(Status {
        status: "ok".into(),
    })
}

/// The database is reachable and its schema is current: ready to serve.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    operation_id = "readyz",
    responses(
        (status = 200, description = "Ready to serve", body = Status),
        (status = 503, description = "The database is unreachable or its schema is not current",
            body = Problem, content_type = "application/problem+json")
    )
)]
async fn readyz(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    let db = state.db();
    let ready = match db.check().await {
        Ok(()) => db.ensure_schema_current().await,
        Err(e) => Err(e),
    };
    match ready {
        Ok(()) => Ok(Json(Status {
            status: "ready".into(),
        })),
        // Whatever is wrong with the database, this instance is not ready (never a 500).
        Err(e) => Err(match ApiError::from(e) {
            unavailable if unavailable.status() == StatusCode::SERVICE_UNAVAILABLE => unavailable,
            _ => ApiError::unavailable("the database is not usable"),
        }),
    }
}
