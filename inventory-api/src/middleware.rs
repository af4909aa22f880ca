//! Cross-cutting request handling: request ids and the one access-log line per request
//! ([`observe`]), security headers, problem bodies for whatever the framework answered on
//! its own ([`problem_backstop`]), and panics turned into 500 problems.

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::error::{ApiError, PROBLEM_JSON};

/// `X-Request-Id`: taken from the request when it is sane, else made up; always echoed.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The Content-Security-Policy of every response: our own assets only, no inline scripts,
/// no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The id of a request, in its extensions for handlers that want it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(pub String);

/// 16 random hex digits (request and error ids).
pub fn random_id() -> String {
    static FALLBACK: AtomicU64 = AtomicU64::new(0);
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        // No randomness: still unique within this process.
        let n = FALLBACK.fetch_add(1, Ordering::Relaxed) ^ (u64::from(std::process::id()) << 40);
        bytes = n.to_be_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An incoming id is kept when it is 1–128 characters of `[A-Za-z0-9._:-]`.
fn sane_request_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(&X_REQUEST_ID)?.to_str().ok()?;
    let ok = (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
    ok.then(|| value.to_string())
}

/// Gives the request an id, runs it inside a span carrying that id, echoes the id on the
/// response and writes exactly one log line: method, route template, status, latency, id.
/// Never headers, bodies or the query string (credentials live there).
pub async fn observe(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = sane_request_id(req.headers()).unwrap_or_else(random_id);
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(no route)".to_string(), |p| p.as_str().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", id = %id);
    let mut response = next.run(req).instrument(span).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID.clone(), value);
    }
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    if response.status().is_server_error() {
        tracing::warn!(target: "inventory_api::access", %method, %route, status, latency_ms, request_id = %id, "request");
    } else {
        tracing::info!(target: "inventory_api::access", %method, %route, status, latency_ms, request_id = %id, "request");
    }
    response
}

/// Whether responses also say `Strict-Transport-Security` (the public URL is https).
#[derive(Clone, Copy, Debug)]
pub struct Hsts(pub bool);

/// Security headers on every response.
pub async fn security_headers(State(hsts): State<Hsts>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    if hsts.0 {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

/// Any error response that is not a problem yet (axum's own 405, a rejection of an
/// extractor we do not wrap, a layer's answer) becomes one, keeping its headers (`Allow`).
pub async fn problem_backstop(req: Request, next: Next) -> Response {
    let is_head = req.method() == Method::HEAD;
    let response = next.run(req).await;
    let status = response.status();
    // Problems, and the web UI's error pages, already say what went wrong.
    let has_body = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| {
            ct.as_bytes().starts_with(PROBLEM_JSON.as_bytes())
                || ct.as_bytes().starts_with(b"text/html")
        });
    if !(status.is_client_error() || status.is_server_error()) || has_body || is_head {
        return response;
    }
    let (parts, _body) = response.into_parts();
    let error = if status == StatusCode::METHOD_NOT_ALLOWED {
        method_not_allowed(&parts.headers)
    } else {
        ApiError::from_status(status)
    };
    let mut fresh = error.into_response();
    for name in parts.headers.keys() {
        if name == header::CONTENT_TYPE
            || name == header::CONTENT_LENGTH
            || fresh.headers().contains_key(name)
        {
            continue;
        }
        for value in parts.headers.get_all(name) {
            fresh.headers_mut().append(name.clone(), value.clone());
        }
    }
    fresh
}

/// The `--max-body` limit, for [`refuse_oversize_body`].
#[derive(Clone, Copy, Debug)]
pub struct MaxBody(pub usize);

/// A request whose `Content-Length` is larger than `--max-body` is refused (413) before any
/// of its body is read. A body without a length (chunked) is cut off at the limit by the
/// extractors that read it (`DefaultBodyLimit`).
pub async fn refuse_oversize_body(
    State(MaxBody(limit)): State<MaxBody>,
    req: Request,
    next: Next,
) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return ApiError::payload_too_large(limit).into_response();
    }
    next.run(req).await
}

fn method_not_allowed(headers: &HeaderMap) -> ApiError {
    match headers.get(header::ALLOW).and_then(|v| v.to_str().ok()) {
        Some(allow) if !allow.is_empty() => {
            ApiError::method_not_allowed(format!("this route answers {allow}"))
        }
        _ => ApiError::method_not_allowed("this route does not answer this method"),
    }
}

/// The fallback of unknown routes: 404 problem.
pub async fn route_not_found() -> ApiError {
    ApiError::not_found("no such route")
}

/// The fallback of known routes and unknown methods: 405 problem (the router adds `Allow`).
pub async fn route_method_not_allowed() -> ApiError {
    ApiError::method_not_allowed("this route does not answer this method")
}

/// A panicking handler answers 500 with an error id, like any internal error.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    ApiError::internal(format!("handler panicked: {message}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_16_hex_digits_and_differ() {
        let (a, b) = (random_id(), random_id());
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn only_sane_request_ids_are_kept() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(&X_REQUEST_ID, v.parse().unwrap());
            sane_request_id(&h)
        };
        assert_eq!(with("abc-123_x.y:z").as_deref(), Some("abc-123_x.y:z"));
        assert_eq!(with("a b"), None);
        assert_eq!(with("<script>"), None);
        assert_eq!(with(&"a".repeat(129)), None);
        assert_eq!(sane_request_id(&HeaderMap::new()), None);
    }
}
