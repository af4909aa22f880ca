//! `/api/v1/tokens`: everyone lists, creates, reads and revokes their own API tokens;
//! admins anyone's. A token with the `read` scope may only list and read.

use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{TimeDelta, Utc};
use inventory_core::{Scope, UserId};
use inventory_db::ops::users;
use inventory_db::{DbError, Entity, TokenSpec, TxMode, Versioned};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Caller, Reader};
use crate::error::ApiError;
use crate::etag::{precondition, Created, IfMatch, One};
use crate::extract::{Json, Path, Query};
use crate::model::{CreatedToken, NewToken, Page, Token};
use crate::AppState;

/// The token routes (mounted under `/api/v1`).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(get_token, revoke_token))
}

/// The longest a token may live: ten years.
const MAX_LIFETIME_DAYS: i64 = 3650;

/// Whose tokens to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// This user's tokens (admins; anyone may name themselves).
    pub user_id: Option<UserId>,
    /// Everyone's tokens (`true`; admins only).
    pub all: Option<bool>,
}

/// The caller's tokens, newest first (revoked ones included); admins may list anyone's.
#[utoipa::path(
    get,
    path = "/tokens",
    tag = "tokens",
    operation_id = "list_tokens",
    security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "The tokens (never their secrets)", body = Page<Token>))
)]
async fn list_tokens(
    State(state): State<AppState>,
    Reader(caller): Reader,
    Query(query): Query<ListQuery>,
) -> Result<Json<Page<Token>>, ApiError> {
    let owner = match (query.all.unwrap_or(false), query.user_id) {
        (true, Some(_)) => return Err(ApiError::bad_request("give user_id or all=true, not both")),
        (true, None) => None,
        (false, user) => Some(user.unwrap_or(caller.user_id)),
    };
    if owner != Some(caller.user_id) && !caller.is_admin() {
        return Err(ApiError::forbidden(
            "only admins may list other users' tokens",
        ));
    }
    let tokens = state.db().list_tokens_of(owner).await?;
    Ok(Json(Page::all(
        tokens.into_iter().map(Token::from).collect(),
    )))
}

/// Creates an API token and shows its secret, once. Its scope is `write` unless asked for
/// `read`; it never expires unless given `expires_in_days`. Admins may create one for
/// another user (`user_id`).
#[utoipa::path(
    post,
    path = "/tokens",
    tag = "tokens",
    operation_id = "create_token",
    security(("bearer" = [])),
    request_body = NewToken,
    responses(
        (status = 201, description = "Created: the only response that shows the secret", body = CreatedToken,
            headers(("ETag" = String, description = "Its version"),
                    ("Location" = String, description = "Its URL"))),
        (status = 404, description = "No such user")
    )
)]
async fn create_token(
    State(state): State<AppState>,
    Reader(caller): Reader,
    Json(new): Json<NewToken>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require_write_scope()?;
    let owner = new.user_id.unwrap_or(caller.user_id);
    if owner != caller.user_id && !caller.is_admin() {
        return Err(ApiError::forbidden(
            "only admins may create tokens for other users",
        ));
    }
    let expires_at = match new.expires_in_days {
        None => None,
        Some(days) if (1..=MAX_LIFETIME_DAYS).contains(&i64::from(days)) => {
            Some(Utc::now() + TimeDelta::days(i64::from(days)))
        }
        Some(_) => {
            return Err(ApiError::invalid_field(
                "expires_in_days",
                format!("expires_in_days must be from 1 to {MAX_LIFETIME_DAYS}"),
            ))
        }
    };
    let spec = TokenSpec {
        label: new.label,
        scope: new.scope.unwrap_or(Scope::Write),
        expires_at,
    };
    let created = state.db().create_token_for_id(owner, &spec).await?;
    Ok((
        [(CACHE_CONTROL, "no-store")],
        Created(CreatedToken {
            token: created.token.into(),
            secret: created.secret,
        }),
    ))
}

/// The token, when the caller may see it: their own, or (admins) anyone's. Others' tokens
/// are not found rather than forbidden, so that ids tell nothing.
fn visible(
    caller: &Caller,
    token: inventory_db::ApiToken,
) -> Result<inventory_db::ApiToken, DbError> {
    if token.user_id == caller.user_id || caller.is_admin() {
        Ok(token)
    } else {
        Err(DbError::not_found(Entity::Token, token.id))
    }
}

/// One token.
#[utoipa::path(
    get,
    path = "/tokens/{id}",
    tag = "tokens",
    operation_id = "get_token",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The token's id")),
    responses(
        (status = 200, description = "The token (never its secret)", body = Token,
            headers(("ETag" = String, description = "Its version")))
    )
)]
async fn get_token(
    State(state): State<AppState>,
    Reader(caller): Reader,
    Path(id): Path<i64>,
) -> Result<One<Token>, ApiError> {
    let token = visible(&caller, state.db().get_token(id).await?)?;
    Ok(One(token.into()))
}

/// Revokes a token: it authenticates nobody afterwards (it stays listed, with
/// `revoked_at`).
#[utoipa::path(
    delete,
    path = "/tokens/{id}",
    tag = "tokens",
    operation_id = "revoke_token",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The token's id"), IfMatch),
    responses((status = 204, description = "Revoked"))
)]
async fn revoke_token(
    State(state): State<AppState>,
    Reader(caller): Reader,
    Path(id): Path<i64>,
    if_match: IfMatch,
) -> Result<StatusCode, ApiError> {
    caller.require_write_scope()?;
    state
        .db()
        .transaction(TxMode::Write, async |c| {
            visible(&caller, users::get_token(c, id).await?)?;
            precondition(c, &if_match, Versioned::Token, id).await?;
            users::revoke_token(c, id).await
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
