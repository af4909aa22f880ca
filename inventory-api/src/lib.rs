#![doc = include_str!("../README.md")]

pub mod auth;
pub mod config;
pub mod error;
pub mod etag;
pub mod extract;
pub mod middleware;
pub mod model;
pub mod openapi;
pub mod ratelimit;
pub mod routes;
pub mod server;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::{Extension, Router};
use inventory_db::Database;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use config::{Config, PublicUrl};
pub use error::{ApiError, FieldError, Problem};
pub use ratelimit::LoginLimits;

/// What request handling is configured with (the part of [`Config`] that is not about
/// starting and stopping).
#[derive(Clone, Debug)]
pub struct Settings {
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Lifetime of login tokens, in days.
    pub session_days: u32,
    /// How clients reach the server.
    pub public_url: Option<PublicUrl>,
    /// Origins allowed to call from a browser (CORS).
    pub cors_origins: Vec<HeaderValue>,
    /// Login rate limits.
    pub login_limits: LoginLimits,
    /// Longest pause while a request's body arrives (then 408).
    pub body_timeout: std::time::Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_body: config::DEFAULT_MAX_BODY,
            session_days: 30,
            public_url: None,
            cors_origins: Vec::new(),
            login_limits: LoginLimits::default(),
            body_timeout: std::time::Duration::from_secs(config::DEFAULT_BODY_READ_TIMEOUT_SECS),
        }
    }
}

/// The state every handler shares: the database and the settings. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    db: Database,
    settings: Arc<Settings>,
    login_limiter: Arc<ratelimit::LoginLimiter>,
}

impl AppState {
    /// State over an open database.
    pub fn new(db: Database, settings: Settings) -> Self {
        AppState {
            login_limiter: Arc::new(ratelimit::LoginLimiter::new(settings.login_limits)),
            settings: Arc::new(settings),
            db,
        }
    }

    /// The database.
    pub fn db(&self) -> &Database {
        &self.db
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub(crate) fn login_limiter(&self) -> &ratelimit::LoginLimiter {
        &self.login_limiter
    }
}

/// The OpenAPI document of [`app`]'s routes.
pub fn openapi() -> utoipa::openapi::OpenApi {
    openapi::finish(routes::api().into_openapi())
}

/// The whole HTTP application: the documented routes, `/docs`, the web UI at `/`, the
/// fallbacks for unknown routes and methods, and the middleware every response goes through.
pub fn app(state: AppState) -> Router {
    let (api, document) = routes::api().split_for_parts();
    let document = openapi::finish(document);
    let json = serde_json::to_vec(&document).unwrap_or_default();
    let settings = state.settings().clone();
    let hsts = settings
        .public_url
        .as_ref()
        .is_some_and(PublicUrl::is_https);

    let router = api
        .merge(routes::docs::swagger_ui())
        .merge(web::router())
        .fallback(web::not_found)
        .method_not_allowed_fallback(middleware::route_method_not_allowed)
        .layer(Extension(routes::docs::OpenApiJson(json.into())))
        .layer(DefaultBodyLimit::max(settings.max_body))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            settings.body_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            middleware::MaxBody(settings.max_body),
            middleware::refuse_oversize_body,
        ))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(axum::middleware::from_fn(middleware::problem_backstop));
    let router = match cors(&settings.cors_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    };
    router
        .layer(axum::middleware::from_fn_with_state(
            middleware::Hsts(hsts),
            middleware::security_headers,
        ))
        .layer(axum::middleware::from_fn(middleware::observe))
        .with_state(state)
}

/// CORS for the configured origins only; none configured, no CORS headers at all.
fn cors(origins: &[HeaderValue]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let request_id = HeaderName::from_static("x-request-id");
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_MATCH,
                request_id.clone(),
            ])
            .expose_headers([
                header::ETAG,
                header::RETRY_AFTER,
                header::LOCATION,
                request_id,
            ])
            .max_age(Duration::from_secs(600)),
    )
}
