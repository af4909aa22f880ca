//! The OpenAPI 3.1 document: the base ([`ApiDoc`]), to which the routes add themselves
//! through utoipa-axum's `routes!`, and [`finish`], which adds to every operation the
//! error responses its extractors can produce, so that no status goes undeclared.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, OpenApi as Document, Ref, RefOr, Response, ResponseBuilder,
};
use utoipa::{Modify, OpenApi};

use crate::error::{Problem, PROBLEM_JSON};

/// The name of the bearer-token security scheme in the document.
pub const BEARER: &str = "bearer";

/// The base document: info, shared schemas, the security scheme, tags.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Home Inventory API",
        description = "Locations, items and what is where. Errors are `application/problem+json`.",
        license(name = "MIT OR Apache-2.0")
    ),
    components(schemas(Problem, crate::error::FieldError)),
    modifiers(&BearerScheme),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "Login, logout and the caller"),
        (name = "locations", description = "The tree of places: houses, rooms, containers, shelves"),
        (name = "items", description = "What is where, and search"),
        (name = "categories", description = "Kinds of item"),
        (name = "reports", description = "Integrity check and statistics"),
        (name = "csv", description = "Items as CSV, out and in"),
        (name = "users", description = "Accounts (admins only)"),
        (name = "tokens", description = "API tokens: your own; admins anyone's"),
        (name = "meta", description = "This document")
    )
)]
pub struct ApiDoc;

/// Adds the `bearer` security scheme that authenticated operations name.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The shared error responses, by component name: (name, status, description).
const COMMON: &[(&str, u16, &str)] = &[
    (
        "BadRequest",
        400,
        "Malformed request: bad JSON, path or query parameter",
    ),
    (
        "Unauthorized",
        401,
        "No bearer token, or one that is invalid, expired or revoked",
    ),
    (
        "Forbidden",
        403,
        "The token's permission (role ∩ scope) does not allow this",
    ),
    ("NotFound", 404, "No such resource"),
    (
        "PreconditionFailed",
        412,
        "`If-Match` names a version that is no longer current",
    ),
    (
        "PayloadTooLarge",
        413,
        "The body is larger than the server's limit",
    ),
    (
        "UnsupportedMediaType",
        415,
        "The body is not of the media type this route takes",
    ),
    (
        "Unprocessable",
        422,
        "Unknown field, wrong type or invalid value",
    ),
    ("TooManyRequests", 429, "Rate limited; see Retry-After"),
    (
        "Internal",
        500,
        "Internal error; the problem carries an error id",
    ),
    (
        "Unavailable",
        503,
        "The database is unreachable or its schema is not current",
    ),
];

fn problem_response(status: u16, description: &str) -> Response {
    let mut builder = ResponseBuilder::new().description(description).content(
        PROBLEM_JSON,
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    );
    let header = |ty: Type, text: &str| {
        HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(ty))
            .description(Some(text))
            .build()
    };
    match status {
        401 => {
            builder = builder.header(
                "WWW-Authenticate",
                header(Type::String, "`Bearer realm=\"inventory\"`"),
            )
        }
        429 => {
            builder = builder.header(
                "Retry-After",
                header(Type::Integer, "Seconds to wait before trying again"),
            )
        }
        503 => {
            builder = builder.header(
                "Retry-After",
                header(
                    Type::Integer,
                    "When the database is busy: seconds to wait before trying again",
                ),
            )
        }
        _ => {}
    }
    builder.build()
}

/// Declares on every operation the errors its inputs can produce: all may fail
/// internally (500); parameters or a body may be malformed (400); a body may be too large,
/// of the wrong type or shape (413, 415, 422), and so may query parameters (422); path
/// parameters may name nothing (404); an `If-Match` may be stale (412); authenticated
/// routes answer 401 and 403; whatever touches the database may find it unavailable (503).
/// Statuses a route declares itself are kept, and error responses it declares with only a
/// description get the problem body.
pub fn finish(mut doc: Document) -> Document {
    let components = doc.components.get_or_insert_with(Default::default);
    for (name, status, description) in COMMON {
        components.responses.insert(
            (*name).to_string(),
            RefOr::T(problem_response(*status, description)),
        );
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            add_common_responses(path, operation);
            add_problem_bodies(operation);
        }
    }
    doc
}

fn add_common_responses(path: &str, op: &mut Operation) {
    let params = op.parameters.as_deref().unwrap_or_default();
    let query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
    let if_match = params
        .iter()
        .any(|p| p.parameter_in == ParameterIn::Header && p.name == "If-Match");
    let has_path_params = path.contains('{');
    let body = op.request_body.is_some();
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut wanted = vec!["Internal"];
    if query || body || has_path_params || if_match {
        wanted.push("BadRequest");
    }
    if body {
        wanted.extend(["PayloadTooLarge", "UnsupportedMediaType"]);
    }
    if body || query {
        wanted.push("Unprocessable");
    }
    if has_path_params {
        wanted.push("NotFound");
    }
    if if_match {
        wanted.push("PreconditionFailed");
    }
    if secured {
        wanted.extend(["Unauthorized", "Forbidden"]);
    }
    if secured || body {
        wanted.push("Unavailable");
    }
    for name in wanted {
        let Some((_, status, _)) = COMMON.iter().find(|(n, _, _)| *n == name) else {
            continue;
        };
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
    }
}

/// An error response a route declared with a description only gets the problem body.
fn add_problem_bodies(op: &mut Operation) {
    for (status, response) in op.responses.responses.iter_mut() {
        let is_error = status.starts_with('4') || status.starts_with('5');
        if let RefOr::T(response) = response {
            if is_error && response.content.is_empty() {
                response.content.insert(
                    PROBLEM_JSON.to_string(),
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                );
            }
        }
    }
}
