//! Extractors whose rejections are problems like every other error: [`Json`] (400 malformed,
//! 413 too large, 415 wrong content type, 422 unknown field or wrong type), [`Path`] and
//! [`Query`] (400). Handlers use these, never axum's own.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{ApiError, FieldError};
use crate::AppState;

/// A JSON request body (request types say `#[serde(deny_unknown_fields)]`), or a JSON response.
#[derive(Clone, Copy, Debug, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::unsupported_media_type(
                "this route takes a JSON body: send Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| body_rejection(e, state.settings().max_body))?;
        decode(&bytes).map(Json)
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// A `text/csv` request body, read whole (up to `--max-body`).
#[derive(Clone, Debug)]
pub struct CsvBody(pub Bytes);

impl FromRequest<AppState> for CsvBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        if media_type(req.headers()).as_deref() != Some("text/csv") {
            return Err(ApiError::unsupported_media_type(
                "this route takes a CSV file: send Content-Type: text/csv",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| body_rejection(e, state.settings().max_body))?;
        Ok(CsvBody(bytes))
    }
}

/// The media type of the body, lower-case, without parameters.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    Some(
        value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase(),
    )
}

/// `application/json` or any `application/*+json`, parameters (charset) allowed.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(essence) = media_type(headers) else {
        return false;
    };
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
}

/// A body that could not be read: too large (413), stalled past the body read timeout
/// (408) or broken off (400).
pub(crate) fn body_rejection(e: BytesRejection, limit: usize) -> ApiError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large(limit)
    } else if is_body_timeout(&e) {
        ApiError::body_timeout()
    } else {
        ApiError::bad_request(format!(
            "could not read the request body: {}",
            e.body_text()
        ))
    }
}

/// Whether reading the body stopped at the body read timeout.
pub(crate) fn is_body_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cause {
        if err.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = err.source();
    }
    false
}

/// Parses a JSON document: syntax errors are 400, well-formed JSON of the wrong shape 422
/// naming the field. Every request body is an object: serde would also take an array of
/// the fields in order (`[null, null]`), which the API does not document, so that is 422.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        shape_error(bytes, &path, &inner)
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return Err(ApiError::validation(vec![FieldError {
            field: "body".to_string(),
            message: "the body must be a JSON object".to_string(),
        }]));
    }
    Ok(value)
}

fn shape_error(bytes: &[u8], path: &str, e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Data => {
            let message = without_position(&e.to_string());
            ApiError::validation(vec![FieldError {
                field: field_name(path, &message),
                message,
            }])
        }
        // serde_json reports some values of the wrong type as syntax (`null` or a number
        // where an enum is expected): well-formed JSON makes it a field's problem.
        Category::Syntax if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() => {
            let field = field_name(path, "");
            ApiError::validation(vec![FieldError {
                message: format!("{field} has a value of the wrong type"),
                field,
            }])
        }
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::bad_request(format!("malformed JSON: {e}"))
        }
    }
}

/// serde_json appends ` at line L column C`; a field error does not need it.
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// The field a data error is about. serde names a missing field only in the message, with
/// the path at the enclosing object; an unknown field is in both.
fn field_name(path: &str, message: &str) -> String {
    let path = if path == "." { "" } else { path };
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    match named {
        Some(name) if path == name || path.ends_with(&format!(".{name}")) => path.to_string(),
        Some(name) if path.is_empty() => name.to_string(),
        Some(name) => format!("{path}.{name}"),
        None if path.is_empty() => "body".to_string(),
        None => path.to_string(),
    }
}

/// Path parameters; a value that does not parse is a 400 problem.
#[derive(Clone, Copy, Debug)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(e) if e.status().is_client_error() => Err(ApiError::bad_request(e.body_text())),
            Err(e) => Err(ApiError::internal(e.body_text())),
        }
    }
}

/// A query string; parameters that do not parse are a 400 problem.
#[derive(Clone, Copy, Debug, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// The client's address: the socket's peer. Requests that did not come over a socket (tests
/// calling the router directly) have the unspecified address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        Ok(ClientAddr(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Login {
        username: String,
        password: String,
    }

    fn problem(body: &str) -> crate::error::Problem {
        decode::<Login>(body.as_bytes()).unwrap_err().problem()
    }

    #[test]
    fn malformed_json_is_400() {
        assert_eq!(problem("{\"username\": ").status, 400);
        assert_eq!(problem("").status, 400);
        assert_eq!(
            problem(r#"{"username":"a","password":"b"} trailing"#).status,
            400
        );
    }

    #[test]
    fn an_unknown_field_is_422_naming_it() {
        let p = problem(r#"{"username":"a","password":"b","admin":true}"#);
        assert_eq!(p.status, 422);
        assert_eq!(p.errors[0].field, "admin");
        assert!(p.errors[0].message.starts_with("unknown field `admin`"));
    }

    #[test]
    fn a_missing_or_mistyped_field_is_422_naming_it() {
        let p = problem(r#"{"username":"a"}"#);
        assert_eq!((p.status, p.errors[0].field.as_str()), (422, "password"));
        let p = problem(r#"{"username":5,"password":"b"}"#);
        assert_eq!((p.status, p.errors[0].field.as_str()), (422, "username"));
        assert!(!p.errors[0].message.contains("line"));
        let p = problem("\"just a string\"");
        assert_eq!((p.status, p.errors[0].field.as_str()), (422, "body"));
    }

    #[test]
    fn a_null_or_number_for_an_enum_is_a_field_error() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct WithRole {
            role: inventory_core::Role,
        }
        for body in [r#"{"role": null}"#, r#"{"role": 5}"#] {
            let p = decode::<WithRole>(body.as_bytes()).unwrap_err().problem();
            assert_eq!(
                (p.status, p.errors[0].field.as_str()),
                (422, "role"),
                "{body}"
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let deep = "[".repeat(100_000);
        let e = decode::<serde_json::Value>(deep.as_bytes()).unwrap_err();
        assert_eq!(e.status(), 400);
    }

    #[test]
    fn json_content_types() {
        let with = |ct: &str| {
            let mut h = HeaderMap::new();
            h.insert(CONTENT_TYPE, ct.parse().unwrap());
            is_json(&h)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=utf-8"));
        assert!(with("application/merge-patch+json"));
        assert!(!with("text/plain"));
        assert!(!with("application/x-www-form-urlencoded"));
        assert!(!is_json(&HeaderMap::new()));
    }
}
