//! Optimistic concurrency: every single-resource response carries an `ETag` made of the
//! resource's id and version (its `updated_at`; see inventory-db's `ops::versions`), and
//! `PATCH`, `DELETE` and moves honour `If-Match`. The check runs inside the transaction
//! that writes ([`precondition`]), with the row locked, so that a version that was current
//! when checked is still current when written.

use axum::extract::FromRequestParts;
use axum::http::header::{ETAG, IF_MATCH, LOCATION};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use inventory_db::ops::versions;
use inventory_db::{Conn, DbError, Versioned};
use serde::Serialize;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::Required;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::extract::Json;
use crate::model;

/// The entity tag of version `at` of record `id` (without the quotes).
pub fn tag(id: i64, at: DateTime<Utc>) -> String {
    format!("{id}-{:x}", at.timestamp_micros())
}

/// A record that has a version: what its `ETag` and `Location` are made of.
pub trait Resource {
    /// Which kind of record.
    const KIND: Versioned;
    /// Where records of this kind live, under `/api/v1`.
    const COLLECTION: &'static str;
    /// Its id.
    fn id(&self) -> i64;
    /// Its version.
    fn version(&self) -> DateTime<Utc>;

    /// The value of its `ETag` header.
    fn etag(&self) -> HeaderValue {
        let tag = format!("\"{}\"", tag(self.id(), self.version()));
        HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("\"\""))
    }
}

impl Resource for model::Location {
    const KIND: Versioned = Versioned::Location;
    const COLLECTION: &'static str = "locations";
    fn id(&self) -> i64 {
        self.id
    }
    fn version(&self) -> DateTime<Utc> {
        self.updated_at
    }
}

impl Resource for model::LocationDetail {
    const KIND: Versioned = Versioned::Location;
    const COLLECTION: &'static str = "locations";
    fn id(&self) -> i64 {
        self.location.id
    }
    fn version(&self) -> DateTime<Utc> {
        self.location.updated_at
    }
}

impl Resource for model::Item {
    const KIND: Versioned = Versioned::Item;
    const COLLECTION: &'static str = "items";
    fn id(&self) -> i64 {
        self.id
    }
    fn version(&self) -> DateTime<Utc> {
        self.updated_at
    }
}

impl Resource for model::Category {
    const KIND: Versioned = Versioned::Category;
    const COLLECTION: &'static str = "categories";
    fn id(&self) -> i64 {
        self.id
    }
    fn version(&self) -> DateTime<Utc> {
        self.updated_at
    }
}

impl Resource for model::User {
    const KIND: Versioned = Versioned::User;
    const COLLECTION: &'static str = "users";
    fn id(&self) -> i64 {
        self.id
    }
    fn version(&self) -> DateTime<Utc> {
        self.updated_at
    }
}

impl Resource for model::Token {
    const KIND: Versioned = Versioned::Token;
    const COLLECTION: &'static str = "tokens";
    fn id(&self) -> i64 {
        self.id
    }
    fn version(&self) -> DateTime<Utc> {
        self.version()
    }
}

impl Resource for model::CreatedToken {
    const KIND: Versioned = Versioned::Token;
    const COLLECTION: &'static str = "tokens";
    fn id(&self) -> i64 {
        self.token.id
    }
    fn version(&self) -> DateTime<Utc> {
        self.token.version()
    }
}

/// One resource as a response: 200, its JSON and its `ETag`.
#[derive(Debug)]
pub struct One<T>(pub T);

impl<T: Resource + Serialize> IntoResponse for One<T> {
    fn into_response(self) -> Response {
        ([(ETAG, self.0.etag())], Json(self.0)).into_response()
    }
}

/// A resource just created: 201, its JSON, its `ETag` and its `Location`.
#[derive(Debug)]
pub struct Created<T>(pub T);

impl<T: Resource + Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        let location = format!("/api/v1/{}/{}", T::COLLECTION, self.0.id());
        let mut response =
            (StatusCode::CREATED, [(ETAG, self.0.etag())], Json(self.0)).into_response();
        if let Ok(value) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(LOCATION, value);
        }
        response
    }
}

/// The `If-Match` precondition of a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum IfMatch {
    /// No `If-Match`: the write happens whatever the version.
    #[default]
    Absent,
    /// `If-Match: *`: the resource must exist (it does when the write is reached).
    Any,
    /// The versions the client knows; weak tags (`W/"…"`) never match (RFC 9110 §13.1.1).
    Tags(Vec<String>),
}

/// Longest `If-Match` accepted: a client does not need more to name a few versions.
const MAX_IF_MATCH: usize = 4096;

/// What [`IfMatch::parse`] accepts, for the OpenAPI document: `*`, or a comma-separated
/// list of entity tags (`"12-5f3a"`, `W/"12-5f3a"`), empty list elements allowed.
pub const IF_MATCH_PATTERN: &str =
    r#"^(?:[ \t]*\*[ \t]*|[ \t,]*(?:W/)?"[^"]*"(?:[ \t]*,[ \t,]*(?:W/)?"[^"]*")*[ \t,]*)$"#;

impl IfMatch {
    /// Parses the `If-Match` header fields (`*`, or a list of entity tags).
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a HeaderValue>) -> Result<Self, String> {
        let mut text = String::new();
        let mut present = false;
        for value in values {
            present = true;
            let value = value
                .to_str()
                .map_err(|_| "If-Match is not visible ASCII".to_string())?;
            if !text.is_empty() {
                text.push(',');
            }
            text.push_str(value);
            if text.len() > MAX_IF_MATCH {
                return Err(format!("If-Match is longer than {MAX_IF_MATCH} bytes"));
            }
        }
        if !present {
            return Ok(IfMatch::Absent);
        }
        if text.trim() == "*" {
            return Ok(IfMatch::Any);
        }
        let mut tags = Vec::new();
        let mut rest = text.as_str();
        loop {
            rest = rest.trim_start_matches([' ', '\t', ',']);
            if rest.is_empty() {
                break;
            }
            let (weak, quoted) = match rest.strip_prefix("W/") {
                Some(after) => (true, after),
                None => (false, rest),
            };
            let body = quoted.strip_prefix('"').ok_or_else(|| {
                "If-Match must be * or a list of entity tags such as \"12-5f3a\"".to_string()
            })?;
            let end = body
                .find('"')
                .ok_or_else(|| "If-Match has an unterminated entity tag".to_string())?;
            if !weak {
                tags.push(body[..end].to_string());
            }
            rest = &body[end + 1..];
            let next = rest.trim_start_matches([' ', '\t']);
            if !(next.is_empty() || next.starts_with(',')) {
                return Err("If-Match entity tags are separated by commas".to_string());
            }
            rest = next;
        }
        if tags.is_empty() && !text.contains("W/") {
            return Err("If-Match names no entity tag".to_string());
        }
        Ok(IfMatch::Tags(tags))
    }

    /// Whether a resource whose current tag is `current` passes.
    pub fn allows(&self, current: &str) -> bool {
        match self {
            IfMatch::Absent | IfMatch::Any => true,
            IfMatch::Tags(tags) => tags.iter().any(|t| t == current),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        IfMatch::parse(parts.headers.get_all(IF_MATCH)).map_err(ApiError::bad_request)
    }
}

impl IntoParams for IfMatch {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![ParameterBuilder::new()
            .name("If-Match")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Only if the resource is still at this version: the `ETag` of an earlier \
                 response, or `*`. Otherwise 412.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(IF_MATCH_PATTERN))
                    .max_length(Some(MAX_IF_MATCH)),
            ))
            .build()]
    }
}

/// Locks the record's current version and checks the request's `If-Match` against it; run
/// it first inside the transaction that writes the record. `NotFound` when there is no such
/// record, `Stale` (412) when the client's version is no longer current.
pub async fn precondition(
    conn: &mut Conn,
    if_match: &IfMatch,
    kind: Versioned,
    id: i64,
) -> Result<(), DbError> {
    let current = versions::lock(conn, kind, id).await?;
    if if_match.allows(&tag(id, current)) {
        Ok(())
    } else {
        Err(DbError::Stale {
            entity: kind.entity(),
            id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(values: &[&str]) -> Result<IfMatch, String> {
        let values: Vec<HeaderValue> = values.iter().map(|v| v.parse().unwrap()).collect();
        IfMatch::parse(&values)
    }

    #[test]
    fn if_match_takes_a_star_or_a_list_of_tags() {
        assert_eq!(parse(&[]), Ok(IfMatch::Absent));
        assert_eq!(parse(&["*"]), Ok(IfMatch::Any));
        assert_eq!(
            parse(&["\"1-a\", \"2-b\"", "\"3-c\""]),
            Ok(IfMatch::Tags(vec![
                "1-a".into(),
                "2-b".into(),
                "3-c".into()
            ]))
        );
        assert_eq!(parse(&["\"a,b\""]), Ok(IfMatch::Tags(vec!["a,b".into()])));
    }

    #[test]
    fn weak_tags_never_match() {
        let m = parse(&["W/\"1-a\""]).unwrap();
        assert!(!m.allows("1-a"));
        let m = parse(&["W/\"1-a\", \"1-b\""]).unwrap();
        assert!(m.allows("1-b") && !m.allows("1-a"));
    }

    #[test]
    fn malformed_if_match_is_refused() {
        for bad in ["1-a", "\"1-a", "\"a\" \"b\"", ",", "**"] {
            assert!(parse(&[bad]).is_err(), "{bad}");
        }
        assert!(parse(&[&format!("\"{}\"", "a".repeat(5000))]).is_err());
    }

    #[test]
    fn tags_are_id_and_version() {
        let at = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap();
        assert_eq!(tag(12, at), "12-60a2418202240");
        assert_ne!(tag(12, at), tag(13, at));
    }
}
