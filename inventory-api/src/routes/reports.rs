//! `GET /api/v1/integrity` and `GET /api/v1/stats`.

use axum::extract::State;
use inventory_core::Permission;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Reader;
use crate::error::ApiError;
use crate::extract::{Json, Query};
use crate::model::{Integrity, Stats};
use crate::AppState;

/// The report routes (mounted under `/api/v1`).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(integrity))
        .routes(routes!(stats))
}

/// How thorough an integrity check to run.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IntegrityQuery {
    /// Also the engine's full check (SQLite `integrity_check`) and every location's kept
    /// subtree totals recomputed: seconds on a large database; admins only.
    pub full: Option<bool>,
}

/// The integrity check: orphans, cycles, type-rule violations, duplicate sibling names and
/// the engine's own checks, each finding with its location ids and paths.
#[utoipa::path(
    get,
    path = "/integrity",
    tag = "reports",
    operation_id = "integrity",
    security(("bearer" = [])),
    params(IntegrityQuery),
    responses((status = 200, description = "What the check found (`clean` when nothing)", body = Integrity))
)]
async fn integrity(
    State(state): State<AppState>,
    Reader(caller): Reader,
    Query(query): Query<IntegrityQuery>,
) -> Result<Json<Integrity>, ApiError> {
    let full = query.full.unwrap_or(false);
    if full {
        caller.require(Permission::Admin)?;
    }
    Ok(Json(state.db().integrity(full).await?.into()))
}

/// Rows per table, and the items' count, quantity and value per currency overall, per
/// house (each root location) and per room (each location directly under a house).
#[utoipa::path(
    get,
    path = "/stats",
    tag = "reports",
    operation_id = "stats",
    security(("bearer" = [])),
    responses((status = 200, description = "The figures", body = Stats))
)]
async fn stats(State(state): State<AppState>, _: Reader) -> Result<Json<Stats>, ApiError> {
    Ok(Json(state.db().inventory_report().await?.into()))
}
