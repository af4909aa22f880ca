//! Import and export: the export as a download, the import as a file upload (all or
//! nothing; a bad row is reported with its line and nothing is written), with the choice
//! to create missing locations. The file format is the CLI's and the API's.

use askama::Template;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use inventory_core::Permission;
use inventory_db::csv_io::{ImportOptions, ImportSummary};
use inventory_db::{DbError, ErrorKind};

use super::forms::{check_csrf, post_user};
use super::render::{Chrome, ForUser, Html, Nav, WebError};
use super::session::WebUser;
use crate::error::ApiError;
use crate::AppState;

#[derive(Template)]
#[template(path = "csv.html")]
struct CsvPage {
    chrome: Chrome,
    create_locations: bool,
    error: Option<String>,
    imported: Option<ImportSummary>,
}

fn csv_page(
    user: &WebUser,
    create_locations: bool,
    error: Option<String>,
    imported: Option<ImportSummary>,
) -> CsvPage {
    CsvPage {
        chrome: Chrome::new("Import and export", user, Nav::Csv),
        create_locations,
        error,
        imported,
    }
}

/// `GET /csv`.
pub(crate) async fn page(user: WebUser) -> Response {
    super::render::ok(csv_page(&user, false, None, None))
}

fn quiet(_: u64, _: u64) {}

/// `GET /csv/export`: every item as CSV, as a download.
pub(crate) async fn export(
    State(state): State<AppState>,
    user: WebUser,
) -> Result<Response, WebError> {
    let mut out = Vec::new();
    state
        .db()
        .export_items_csv(&mut out, &quiet)
        .await
        .for_user(&user)?;
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

/// What the upload form sent.
struct Upload {
    csrf: Option<String>,
    create_locations: bool,
    file: Option<Vec<u8>>,
}

async fn read_upload(mut multipart: Multipart, limit: usize) -> Result<Upload, WebError> {
    let mut upload = Upload {
        csrf: None,
        create_locations: false,
        file: None,
    };
    let broken = |e: axum::extract::multipart::MultipartError| -> WebError {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large(limit).into()
        } else if crate::extract::is_body_timeout(&e) {
            ApiError::body_timeout().into()
        } else {
            WebError::bad_request(format!("the upload could not be read: {}", e.body_text()))
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(broken)? {
        match field.name().unwrap_or_default() {
            "_csrf" => upload.csrf = Some(field.text().await.map_err(broken)?),
            "create_locations" => {
                upload.create_locations = field.text().await.map_err(broken)? == "1";
            }
            "file" => upload.file = Some(field.bytes().await.map_err(broken)?.to_vec()),
            _ => {}
        }
    }
    Ok(upload)
}

/// The message of a refused import: the failing line first, when the file is at fault.
fn import_message(e: &DbError) -> String {
    match e {
        DbError::InvalidFile {
            line: Some(line),
            reason,
            ..
        } => format!("Line {line}: {}", super::render::sentence(reason)),
        other => super::render::sentence(&other.to_string()),
    }
}

/// `POST /csv/import` (multipart: `_csrf`, `create_locations`, `file`).
pub(crate) async fn import(State(state): State<AppState>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let user = match post_user(&mut parts, &state, Permission::Write).await {
        Ok(user) => user,
        Err(refused) => return refused,
    };
    let req = Request::from_parts(parts, body);
    let multipart = match Multipart::from_request(req, &state).await {
        Ok(m) => m,
        Err(_) => {
            return WebError::bad_request("send the file with the form on the import page")
                .for_user(&user)
                .into_response()
        }
    };
    let upload = match read_upload(multipart, state.settings().max_body).await {
        Ok(u) => u,
        Err(e) => return e.for_user(&user).into_response(),
    };
    if let Err(refused) = check_csrf(&user, upload.csrf.as_deref()) {
        return refused;
    }
    let create = upload.create_locations;
    let Some(file) = upload.file.filter(|f| !f.is_empty()) else {
        let page = csv_page(
            &user,
            create,
            Some("Choose a CSV file to import.".into()),
            None,
        );
        return Html(StatusCode::UNPROCESSABLE_ENTITY, page).into_response();
    };
    let options = ImportOptions {
        create_locations: create,
    };
    let mut input: &[u8] = &file;
    match state
        .db()
        .import_items_csv(&mut input, options, &quiet)
        .await
    {
        Ok(summary) => super::render::ok(csv_page(&user, create, None, Some(summary))),
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::Invalid | ErrorKind::NotFound | ErrorKind::Conflict
            ) =>
        {
            let page = csv_page(&user, create, Some(import_message(&e)), None);
            Html(StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
        }
        Err(e) => WebError::from(e).for_user(&user).into_response(),
    }
}
