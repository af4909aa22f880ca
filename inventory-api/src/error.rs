//! The one error type of the API, [`ApiError`], and its wire form: `application/problem+json`
//! (RFC 9457) with `type`, `title`, `status`, `detail`, and `errors` for field validation.

use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use inventory_db::{redact_url, ConflictKind, DbError, ErrorKind};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem document, as every error response carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct Problem {
    /// Identifies the kind of problem: `/problems/not-found`, `/problems/validation`, …
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary, the same for every problem of this type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// For validation problems: each offending field and what is wrong with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For internal errors: the id under which the server logged the cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_id: Option<String>,
    /// For a rejected import: the line of the file that was refused (1 is the header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

/// One field that failed validation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct FieldError {
    /// The field, as named in the request (`username`, `items[2].quantity`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// Every error a handler, an extractor or the router answers with. (Boxed: results stay
/// small on the happy path.)
#[derive(Debug)]
pub struct ApiError(Box<Inner>);

#[derive(Debug)]
struct Inner {
    status: StatusCode,
    detail: String,
    errors: Vec<FieldError>,
    headers: HeaderMap,
    error_id: Option<String>,
    /// A more specific `type` slug and title than the status's (conflicts).
    kind: Option<(&'static str, &'static str)>,
    line: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        ApiError(Box::new(Inner {
            status,
            detail: detail.into(),
            errors: Vec::new(),
            headers: HeaderMap::new(),
            error_id: None,
            kind: None,
            line: None,
        }))
    }

    fn of_kind(mut self, slug: &'static str, title: &'static str) -> Self {
        self.0.kind = Some((slug, title));
        self
    }

    fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.0.headers.insert(name, value);
        self
    }

    /// 400: the request is malformed (bad JSON, bad path or query parameter).
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 401: no credentials, or credentials that authenticate nobody.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail).with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"inventory\""),
        )
    }

    /// 403: authenticated, but the permission is lacking.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    /// 404: no such resource (or route).
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    /// 405: the route exists, the method does not (the router adds `Allow`).
    pub fn method_not_allowed(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, detail)
    }

    /// 409: the request conflicts with the data.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }

    /// 412: `If-Match` names a version that is no longer current.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PRECONDITION_FAILED, detail)
    }

    /// 413: the body is larger than `--max-body`.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    }

    /// 408: the client stopped sending the body for longer than the body read timeout.
    pub fn body_timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "the request body stopped arriving: nothing came for longer than the body read timeout",
        )
    }

    /// 415: the body is not of a media type this route takes.
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, detail)
    }

    /// 422: well-formed, but fields are invalid.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => one.message.clone(),
            many => format!("{} fields are invalid", many.len()),
        };
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, detail);
        e.0.errors = errors;
        e
    }

    /// 422 for one field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// 429 with `Retry-After` (seconds).
    pub fn too_many_requests(detail: impl Into<String>, retry_after_secs: u64) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, detail).with_header(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after_secs.max(1)),
        )
    }

    /// 503: the database is unreachable or its schema is not current.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, detail)
    }

    /// 500: logs `cause` under a fresh error id; the client sees only the id.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let id = crate::middleware::random_id();
        tracing::error!(error_id = %id, error = %cause, "internal error");
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "an internal error occurred; it has been logged with the error id below",
        );
        e.0.error_id = Some(id);
        e
    }

    /// A problem for a status the framework produced (a rejection without our body).
    pub(crate) fn from_status(status: StatusCode) -> Self {
        if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
            return Self::internal(format!("response {status} without a problem body"));
        }
        let detail = status
            .canonical_reason()
            .unwrap_or("the request failed")
            .to_string();
        Self::new(status, detail)
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The problem document of this error.
    pub fn problem(&self) -> Problem {
        let (slug, title) = self.0.kind.unwrap_or_else(|| describe(self.0.status));
        Problem {
            problem_type: format!("/problems/{slug}"),
            title: title.to_string(),
            status: self.0.status.as_u16(),
            detail: self.0.detail.clone(),
            errors: self.0.errors.clone(),
            error_id: self.0.error_id.clone(),
            line: self.0.line,
        }
    }
}

/// The `type` slug and `title` of each status.
fn describe(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::BAD_REQUEST => ("bad-request", "Bad request"),
        StatusCode::UNAUTHORIZED => ("unauthorized", "Authentication required"),
        StatusCode::FORBIDDEN => ("forbidden", "Permission denied"),
        StatusCode::NOT_FOUND => ("not-found", "Not found"),
        StatusCode::METHOD_NOT_ALLOWED => ("method-not-allowed", "Method not allowed"),
        StatusCode::CONFLICT => ("conflict", "Conflict"),
        StatusCode::PRECONDITION_FAILED => ("precondition-failed", "Precondition failed"),
        StatusCode::REQUEST_TIMEOUT => ("request-timeout", "Request body timed out"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload-too-large", "Request body too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported-media-type", "Unsupported media type"),
        StatusCode::UNPROCESSABLE_ENTITY => ("validation", "Validation failed"),
        StatusCode::TOO_MANY_REQUESTS => ("rate-limited", "Too many requests"),
        StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "Service unavailable"),
        s if s.is_server_error() => ("internal", "Internal server error"),
        _ => ("http", "Request failed"),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match serde_json::to_vec(&self.problem()) {
            Ok(body) => body,
            // Serializing strings and numbers cannot fail; keep a body regardless.
            Err(_) => br#"{"type":"/problems/internal","title":"Internal server error","status":500,"detail":"error"}"#.to_vec(),
        };
        let mut response = (self.0.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.extend(self.0.headers);
        response
    }
}

/// The problem `type` slug and title of each kind of conflict.
fn conflict_kind(kind: Option<ConflictKind>) -> (&'static str, &'static str) {
    match kind {
        Some(ConflictKind::Cycle) => ("cycle", "The move would make a cycle"),
        Some(ConflictKind::TypeRule) => ("type-rule", "A location type rule forbids this"),
        Some(ConflictKind::DuplicateName) => ("duplicate-name", "The name is taken"),
        Some(ConflictKind::ItemsInside) => ("items-inside", "Items are inside"),
        Some(ConflictKind::NotEmpty) => ("not-empty", "The target is not empty"),
        Some(ConflictKind::Stale) | None => ("conflict", "Conflict"),
    }
}

/// The request's name of a field the core's validators name differently.
fn wire_field(field: &str) -> &str {
    match field {
        "price" => "purchase_price_cents",
        "warranty" => "warranty_expires",
        "serial number" => "serial_number",
        other => other,
    }
}

/// The one mapping of inventory-db's errors to HTTP: invalid input 400 (422 naming the
/// field), not found 404, conflicts 409 with a `type` per kind (a stale version 412),
/// unavailable, busy or read-only 503, failed file operations 503 when the storage is at fault and 500
/// otherwise, internal faults 500 with a logged error id. Nothing a client sends reaches
/// the last two.
impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e.kind() {
            ErrorKind::Invalid => {
                if let Some(field) = e.field() {
                    let message = match &e {
                        DbError::Validation(v) => v.to_string(),
                        other => other.to_string(),
                    };
                    return ApiError::invalid_field(wire_field(field), message);
                }
                let mut error = ApiError::bad_request(e.to_string());
                if let DbError::InvalidFile { line, .. } = &e {
                    error.0.line = *line;
                }
                error
            }
            ErrorKind::NotFound => ApiError::not_found(e.to_string()),
            ErrorKind::Conflict => match e.conflict_kind() {
                Some(ConflictKind::Stale) => ApiError::precondition_failed(e.to_string()),
                kind => {
                    let (slug, title) = conflict_kind(kind);
                    ApiError::conflict(e.to_string()).of_kind(slug, title)
                }
            },
            ErrorKind::Unavailable => {
                // The cause names hosts and driver messages: for the log, not the client.
                tracing::warn!(error = %redact_url(&e.to_string()), "database unavailable");
                match e {
                    DbError::SchemaNotCurrent { .. } | DbError::SchemaTooNew { .. } => {
                        ApiError::unavailable("the database schema is not current")
                    }
                    DbError::Busy { .. } => {
                        ApiError::unavailable("the database is busy with other writes; try again")
                            .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
                    }
                    _ => ApiError::unavailable("the database is not reachable; try again later"),
                }
            }
            ErrorKind::Io => match &e {
                DbError::Io { source, .. }
                    if matches!(
                        source.kind(),
                        std::io::ErrorKind::StorageFull
                            | std::io::ErrorKind::ReadOnlyFilesystem
                            | std::io::ErrorKind::QuotaExceeded
                    ) =>
                {
                    tracing::warn!(error = %e, "storage unavailable");
                    ApiError::unavailable("the server's storage is full or read-only")
                }
                _ => ApiError::internal(redact_url(&e.to_string())),
            },
            ErrorKind::Internal if is_read_only(&e) => {
                tracing::warn!(error = %redact_url(&e.to_string()), "database read-only");
                ApiError::unavailable(
                    "the database is read-only at the moment: nothing was changed; try again later",
                )
            }
            ErrorKind::Internal => ApiError::internal(redact_url(&e.to_string())),
        }
    }
}

/// Whether the engine refused a write because the database is read-only: a SQLite file the
/// server may not write, a PostgreSQL standby or read-only transaction. The server's
/// state, not a fault of the request or of the program.
fn is_read_only(e: &DbError) -> bool {
    let DbError::Query(source) = e else {
        return false;
    };
    let message = source.to_string();
    message.contains("attempt to write a readonly database")
        || message.contains("in a read-only transaction")
}

#[cfg(test)]
mod tests {
    use super::*;
    use inventory_core::{MoveError, ValidationError};
    use inventory_db::Entity;

    #[test]
    fn a_field_validation_error_is_422_with_the_field() {
        let e = ApiError::from(DbError::Validation(ValidationError::Empty {
            field: "name".into(),
        }));
        let p = e.problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.problem_type, "/problems/validation");
        assert_eq!(p.errors.len(), 1);
        assert_eq!(p.errors[0].field, "name");
        assert_eq!(p.detail, "name must not be empty");
    }

    #[test]
    fn db_error_kinds_map_to_statuses() {
        let status = |e: DbError| ApiError::from(e).status().as_u16();
        assert_eq!(
            status(DbError::BadParameter {
                field: "cursor",
                reason: "not a cursor".into()
            }),
            422
        );
        assert_eq!(
            status(DbError::InvalidFile {
                file: inventory_db::FileKind::Csv,
                line: Some(3),
                reason: "bad".into()
            }),
            400
        );
        assert_eq!(status(DbError::not_found(Entity::Location, 7)), 404);
        assert_eq!(status(DbError::SchemaNotCurrent { pending: 1 }), 503);
        assert_eq!(
            status(DbError::Internal {
                what: "syntax error at …".into(),
                source: None
            }),
            500
        );
    }

    #[test]
    fn conflicts_have_a_type_per_kind_and_stale_is_412() {
        let problem = |e: DbError| ApiError::from(e).problem();
        let cycle = problem(DbError::Move(MoveError::CycleDetected {
            moved: 1,
            new_parent: 2,
        }));
        assert_eq!(
            (cycle.status, cycle.problem_type.as_str()),
            (409, "/problems/cycle")
        );
        let items = problem(DbError::ItemsInside {
            location: 1,
            items: 3,
        });
        assert_eq!(items.problem_type, "/problems/items-inside");
        let stale = problem(DbError::Stale {
            entity: Entity::Item,
            id: 4,
        });
        assert_eq!(stale.status, 412);
        assert_eq!(stale.problem_type, "/problems/precondition-failed");
    }

    #[test]
    fn a_bad_import_line_is_in_the_problem() {
        let p = ApiError::from(DbError::InvalidFile {
            file: inventory_db::FileKind::Csv,
            line: Some(3),
            reason: "quantity \"x\" is not a whole number".into(),
        })
        .problem();
        assert_eq!(p.line, Some(3));
        assert!(p.detail.starts_with("line 3: "), "{}", p.detail);
    }

    #[test]
    fn core_field_names_become_the_request_field_names() {
        let p = ApiError::from(DbError::Validation(ValidationError::invalid(
            "price",
            "is required with a currency",
        )))
        .problem();
        assert_eq!(p.errors[0].field, "purchase_price_cents");
    }

    #[test]
    fn an_internal_error_shows_an_id_and_not_the_cause() {
        let p = ApiError::from(DbError::Internal {
            what: "relation secret_table is broken".into(),
            source: None,
        })
        .problem();
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("secret_table"));
        assert_eq!(p.error_id.as_deref().map(str::len), Some(16));
    }

    #[test]
    fn unavailable_hides_the_database_address() {
        let p = ApiError::from(DbError::Unavailable {
            url: "postgres://app:***@db.internal/inv".into(),
            reason: "connection refused".into(),
            source: None,
        })
        .problem();
        assert_eq!(p.status, 503);
        assert!(!p.detail.contains("db.internal"));
    }

    #[test]
    fn busy_is_503_with_retry_after() {
        let e = ApiError::from(DbError::Busy {
            what: "another writer holds the lock".into(),
            waited: std::time::Duration::from_secs(10),
        });
        assert_eq!(e.status(), 503);
        assert_eq!(e.into_response().headers()[header::RETRY_AFTER], "1");
    }
}
