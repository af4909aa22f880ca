//! The one error type of the API, [`ApiError`], and its wire form: `application/problem+json`
//! (RFC 9457) with `type`, `title`, `status`, `detail`, and `errors` for field validation.

use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use inventory_db::{DbError, ErrorKind};
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
}

impl ApiError {
    fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        ApiError(Box::new(Inner {
            status,
            detail: detail.into(),
            errors: Vec::new(),
            headers: HeaderMap::new(),
            error_id: None,
        }))
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
        let (slug, title) = describe(self.0.status);
        Problem {
            problem_type: format!("/problems/{slug}"),
            title: title.to_string(),
            status: self.0.status.as_u16(),
            detail: self.0.detail.clone(),
            errors: self.0.errors.clone(),
            error_id: self.0.error_id.clone(),
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

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e.kind() {
            ErrorKind::Invalid => match &e {
                DbError::Validation(v) => ApiError::invalid_field(v.field(), v.to_string()),
                _ => ApiError::bad_request(e.to_string()),
            },
            ErrorKind::NotFound => ApiError::not_found(e.to_string()),
            ErrorKind::Conflict => ApiError::conflict(e.to_string()),
            ErrorKind::Unavailable => {
                // The cause names hosts and driver messages: for the log, not the client.
                tracing::warn!(error = %crate::store::redact(&e.to_string()), "database unavailable");
                ApiError::unavailable(match e {
                    DbError::SchemaNotCurrent { .. } | DbError::SchemaTooNew { .. } => {
                        "the database schema is not current"
                    }
                    _ => "the database is not reachable; try again later",
                })
            }
            ErrorKind::Internal => ApiError::internal(crate::store::redact(&e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use inventory_core::ValidationError;

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
        assert_eq!(status(DbError::Invalid("bad cursor".into())), 400);
        assert_eq!(
            status(DbError::NotFound {
                what: "location with id",
                key: "7".into()
            }),
            404
        );
        assert_eq!(status(DbError::Conflict("cycle".into())), 409);
        assert_eq!(status(DbError::SchemaNotCurrent { pending: 1 }), 503);
        assert_eq!(status(DbError::Query("syntax error at …".into())), 500);
    }

    #[test]
    fn an_internal_error_shows_an_id_and_not_the_cause() {
        let p = ApiError::from(DbError::Query("relation secret_table is broken".into())).problem();
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("secret_table"));
        assert_eq!(p.error_id.as_deref().map(str::len), Some(16));
    }

    #[test]
    fn unavailable_hides_the_database_address() {
        let p = ApiError::from(DbError::Unavailable {
            url: "postgres://app:***@db.internal/inv".into(),
            reason: "connection refused".into(),
        })
        .problem();
        assert_eq!(p.status, 503);
        assert!(!p.detail.contains("db.internal"));
    }
}
