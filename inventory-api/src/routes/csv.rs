//! `GET /api/v1/export.csv` and `POST /api/v1/import`: every item as CSV, its location as
//! a full path (the same file format as `inventory export` / `import`).

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use inventory_db::csv_io::ImportOptions;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Reader, Writer};
use crate::error::ApiError;
use crate::extract::{CsvBody, Json, Query};
use crate::model::ImportSummary;
use crate::AppState;

/// The CSV routes (mounted under `/api/v1`).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_csv))
        .routes(routes!(import_csv))
}

/// Ignores progress: a request has no progress bar.
fn quiet(_: u64, _: u64) {}

/// Every item as CSV (header first), ordered by location path, then name, from one
/// consistent snapshot.
#[utoipa::path(
    get,
    path = "/export.csv",
    tag = "csv",
    operation_id = "export_csv",
    security(("bearer" = [])),
    responses((status = 200, description = "The items", content_type = "text/csv", body = String,
        headers(("Content-Disposition" = String, description = "`attachment; filename=\"inventory.csv\"`"))))
)]
async fn export_csv(State(state): State<AppState>, _: Reader) -> Result<Response, ApiError> {
    let mut out = Vec::new();
    state.db().export_items_csv(&mut out, &quiet).await?;
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                CONTENT_DISPOSITION,
                "attachment; filename=\"inventory.csv\"",
            ),
            (CACHE_CONTROL, "no-store"),
        ],
        Body::from(out),
    )
        .into_response())
}

/// How to import.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Create the locations the file names that do not exist (`true`); otherwise such a
    /// row rejects the file.
    pub create_locations: Option<bool>,
}

/// Creates the items of a CSV file (the format `export.csv` writes): all of them or, when
/// any row is bad, none — the problem names the line (`line`).
#[utoipa::path(
    post,
    path = "/import",
    tag = "csv",
    operation_id = "import_csv",
    security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv",
        description = "CSV with a header; `name` and `location` (a full path) are required"),
    responses(
        (status = 200, description = "Imported", body = ImportSummary),
        (status = 400, description = "A bad row (the problem's `line` names it) or a malformed file; nothing imported"),
        (status = 415, description = "The body is not text/csv")
    )
)]
async fn import_csv(
    State(state): State<AppState>,
    _: Writer,
    Query(query): Query<ImportQuery>,
    CsvBody(body): CsvBody,
) -> Result<Json<ImportSummary>, ApiError> {
    let options = ImportOptions {
        create_locations: query.create_locations.unwrap_or(false),
    };
    let mut input: &[u8] = &body;
    let summary = state
        .db()
        .import_items_csv(&mut input, options, &quiet)
        .await?;
    Ok(Json(summary.into()))
}
