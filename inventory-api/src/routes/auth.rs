//! `POST /api/v1/auth/login`, `POST /api/v1/auth/logout` and `GET /api/v1/auth/me`.

use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Permission, Reader, Scope};
use crate::error::{ApiError, Problem};
use crate::extract::{ClientAddr, Json};
use crate::model::{PermissionSchema, RoleSchema, ScopeSchema};
use crate::ratelimit::LimitKey;
use crate::AppState;

/// The auth routes (mounted under `/api/v1`).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

/// A login.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The user name (case-insensitive).
    #[schema(example = "ann")]
    pub username: String,
    /// The password.
    #[schema(format = Password)]
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A login token: send it as `Authorization: Bearer TOKEN`.
#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// The token; shown this once.
    pub token: String,
    /// When it stops working (RFC 3339, UTC).
    #[schema(format = DateTime, example = "2026-12-24T10:00:00Z")]
    pub expires_at: String,
}

impl std::fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginResponse")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Exchanges a user name and password for a login token valid for the server's
/// `--session-days`. An unknown user and a wrong password get the same answer.
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "auth",
    operation_id = "login",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 401, description = "Unknown user or wrong password (the same answer)",
            body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins for this user name or address",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again")))
    )
)]
async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Json(request): Json<LoginRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let keys = [LimitKey::user(&request.username), LimitKey::addr(addr)];
    let limiter = state.login_limiter();
    if let Err(wait) = limiter.begin(&keys) {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return Err(ApiError::too_many_requests(
            "too many failed logins; try again later",
            seconds,
        ));
    }
    let expires_at = Utc::now() + TimeDelta::days(i64::from(state.settings().session_days));
    let (user, created) = match state
        .db()
        .login(&request.username, &request.password, expires_at)
        .await
    {
        Ok(Some(found)) => found,
        Ok(None) => return Err(ApiError::unauthorized("unknown user or wrong password")),
        Err(e) => {
            // Not the caller's failure: it does not count against them.
            limiter.succeeded(&keys);
            return Err(e.into());
        }
    };
    limiter.succeeded(&keys);
    tracing::debug!(user_id = user.id, "login");
    let expires_at = created
        .token
        .expires_at
        .map_or(expires_at, |at| at.and_utc());
    Ok((
        [(CACHE_CONTROL, "no-store")],
        Json(LoginResponse {
            token: created.secret,
            expires_at: rfc3339(expires_at),
        }),
    ))
}

/// Revokes the token this request presents; it authenticates nobody afterwards.
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "auth",
    operation_id = "logout",
    security(("bearer" = [])),
    responses((status = 204, description = "Logged out: the token is revoked"))
)]
async fn logout(
    State(state): State<AppState>,
    Reader(caller): Reader,
) -> Result<StatusCode, ApiError> {
    state.db().revoke_token(caller.token_id).await?;
    tracing::debug!(user_id = caller.user_id, "logout");
    Ok(StatusCode::NO_CONTENT)
}

/// The caller and what this token allows.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The user's id.
    pub id: i64,
    /// The user's name.
    pub username: String,
    /// `admin`, `member` or `viewer`.
    #[schema(value_type = RoleSchema)]
    pub role: inventory_core::Role,
    /// The token's scope.
    #[schema(value_type = ScopeSchema)]
    pub scope: Scope,
    /// What requests with this token may do: role ∩ scope.
    #[schema(value_type = PermissionSchema)]
    pub permission: Permission,
    /// When the token expires (RFC 3339), or null.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

/// Who this token belongs to and what it may do.
#[utoipa::path(
    get,
    path = "/auth/me",
    tag = "auth",
    operation_id = "me",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller", body = Me))
)]
async fn me(Reader(caller): Reader) -> Json<Me> {
    Json(Me {
        id: caller.user_id,
        permission: caller.permission(),
        role: caller.role,
        scope: caller.scope,
        expires_at: caller.expires_at.map(rfc3339),
        username: caller.username,
    })
}
