//! API tokens: everyone sees their own (admins everyone's, with `?all=1`); members and
//! admins create them — label, scope, expiry; the secret is shown once, on the page that
//! answers the creation, and never again — and revoke them. Viewers only look (they may
//! not write anything; an admin makes their tokens).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{TimeDelta, Utc};
use inventory_core::{Scope, UserId};
use inventory_db::{Entity, TokenSpec};
use serde::Deserialize;

use super::forms::{non_blank, WriteForm};
use super::items::NoFields;
use super::render::{
    field_error, flash, form_error, Chrome, ForUser, FormState, Html, Nav, WebError,
};
use super::session::WebUser;
use super::views::{paginate, when_naive, Choice, Pager};
use super::{parse_id, query};
use crate::AppState;

/// The longest lifetime a token may be given.
const MAX_DAYS: i64 = 3650;

/// A new token.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct NewTokenForm {
    pub label: String,
    pub scope: String,
    pub expires_days: String,
    /// Whose (admins only; blank: one's own).
    pub username: String,
}

#[derive(Debug)]
struct TokenRow {
    id: i64,
    owner: String,
    label: String,
    prefix: String,
    scope: &'static str,
    created_at: String,
    expires_at: String,
    last_used_at: String,
    revoked: Option<String>,
    is_this_session: bool,
}

/// A token just made: shown once.
#[derive(Debug)]
struct Fresh {
    label: String,
    secret: String,
    owner: String,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    chrome: Chrome,
    rows: Vec<TokenRow>,
    pager: Pager,
    all: bool,
    old: bool,
    hidden: usize,
    add: FormState<NewTokenForm>,
    scopes: Vec<Choice>,
    fresh: Option<Fresh>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokensQuery {
    all: Option<String>,
    old: Option<String>,
    done: Option<String>,
    page: Option<usize>,
}

/// Tokens per page.
const PER_PAGE: usize = 50;

/// Which tokens to list and where.
#[derive(Clone, Copy, Debug, Default)]
struct Listing {
    /// Everyone's (admins).
    all: bool,
    /// Revoked and expired ones too.
    old: bool,
    /// From 1.
    page: usize,
}

async fn tokens_page(
    state: &AppState,
    user: &WebUser,
    listing: Listing,
    add: FormState<NewTokenForm>,
    fresh: Option<Fresh>,
    flash_code: Option<&str>,
) -> Result<TokensPage, WebError> {
    let all = listing.all && user.is_admin();
    let owner = (!all).then_some(user.user_id);
    let tokens = state.db().list_tokens_of(owner).await.for_user(user)?;
    let now = Utc::now().naive_utc();
    let total = tokens.len();
    let tokens: Vec<_> = tokens
        .into_iter()
        .filter(|t| {
            listing.old || (t.revoked_at.is_none() && t.expires_at.is_none_or(|at| at > now))
        })
        .collect();
    let hidden = total - tokens.len();
    let base = match (all, listing.old) {
        (true, true) => "/tokens?all=1&old=1&",
        (true, false) => "/tokens?all=1&",
        (false, true) => "/tokens?old=1&",
        (false, false) => "/tokens?",
    };
    let (tokens, pager) = paginate(tokens, listing.page, PER_PAGE, base);
    let names: HashMap<UserId, String> = if all {
        state
            .db()
            .list_users()
            .await
            .for_user(user)?
            .into_iter()
            .map(|u| (u.id, u.username))
            .collect()
    } else {
        HashMap::from([(user.user_id, user.username.clone())])
    };
    let rows = tokens
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            owner: names.get(&t.user_id).cloned().unwrap_or_default(),
            label: t.label.unwrap_or_default(),
            prefix: t.prefix,
            scope: t.scope.as_str(),
            created_at: when_naive(t.created_at),
            expires_at: t.expires_at.map_or_else(|| "never".into(), when_naive),
            last_used_at: t.last_used_at.map_or_else(|| "never".into(), when_naive),
            revoked: t.revoked_at.map(when_naive),
            is_this_session: t.id == user.token_id,
        })
        .collect();
    let scope = if add.values.scope.is_empty() {
        "read".to_string()
    } else {
        add.values.scope.clone()
    };
    Ok(TokensPage {
        chrome: Chrome::new("Tokens", user, Nav::Tokens).with_flash(flash(flash_code)),
        rows,
        pager,
        all,
        old: listing.old,
        hidden,
        scopes: Choice::of(
            &[
                ("read", "Read: may only look"),
                ("write", "Write: may do what the account may"),
            ],
            &scope,
        ),
        add,
        fresh,
    })
}

/// `GET /tokens[?all=1]`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let q: TokensQuery = query(raw);
    let listing = Listing {
        all: q.all.as_deref() == Some("1"),
        old: q.old.as_deref() == Some("1"),
        page: q.page.unwrap_or(1),
    };
    let page = tokens_page(
        &state,
        &user,
        listing,
        FormState::default(),
        None,
        q.done.as_deref(),
    )
    .await?;
    Ok(super::render::ok(page))
}

/// `POST /tokens`: a new token; the answer is the page with its secret, shown this once.
pub(crate) async fn create(
    State(state): State<AppState>,
    WriteForm { user, form }: WriteForm<NewTokenForm>,
) -> Result<Response, WebError> {
    let scope = match form.scope.parse::<Scope>() {
        Ok(scope) => scope,
        Err(e) => {
            return failed(
                &state,
                &user,
                form,
                StatusCode::UNPROCESSABLE_ENTITY,
                field_error("scope", e.to_string()),
            )
            .await
        }
    };
    let expires_at = match non_blank(&form.expires_days) {
        None => None,
        Some(days) => match days.parse::<i64>() {
            Ok(d) if (1..=MAX_DAYS).contains(&d) => Some(Utc::now() + TimeDelta::days(d)),
            _ => {
                return failed(
                    &state,
                    &user,
                    form,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    field_error(
                        "expires_days",
                        format!(
                        "expiry must be a number of days from 1 to {MAX_DAYS}, or blank for never"
                    ),
                    ),
                )
                .await
            }
        },
    };
    let owner = match non_blank(&form.username) {
        Some(name) if name != user.username => {
            if !user.is_admin() {
                return Err(
                    WebError::forbidden("only admins may make tokens for other users")
                        .for_user(&user),
                );
            }
            match state.db().get_user(&name).await.map_err(form_error) {
                Ok(found) => found,
                Err(Err(e)) => return Err(e.for_user(&user)),
                Err(Ok((status, mut error))) => {
                    error.field = Some("username".into());
                    return failed(&state, &user, form, status, error).await;
                }
            }
            .id
        }
        _ => user.user_id,
    };
    let spec = TokenSpec {
        label: non_blank(&form.label),
        scope,
        expires_at,
    };
    let created = match state
        .db()
        .create_token_for_id(owner, &spec)
        .await
        .map_err(form_error)
    {
        Ok(created) => created,
        Err(Err(e)) => return Err(e.for_user(&user)),
        Err(Ok((status, error))) => return failed(&state, &user, form, status, error).await,
    };
    let owner_name = if owner == user.user_id {
        user.username.clone()
    } else {
        non_blank(&form.username).unwrap_or_default()
    };
    let fresh = Fresh {
        label: created.token.label.clone().unwrap_or_default(),
        secret: created.secret,
        owner: owner_name,
    };
    let page = tokens_page(
        &state,
        &user,
        Listing::default(),
        FormState::default(),
        Some(fresh),
        None,
    )
    .await?;
    Ok(Html(StatusCode::CREATED, page).into_response())
}

/// The page again with the creation form failed.
async fn failed(
    state: &AppState,
    user: &WebUser,
    form: NewTokenForm,
    status: StatusCode,
    error: super::render::FormError,
) -> Result<Response, WebError> {
    let page = tokens_page(
        state,
        user,
        Listing::default(),
        FormState::failed(form, error),
        None,
        None,
    )
    .await?;
    Ok(Html(status, page).into_response())
}

/// `POST /tokens/{id}/revoke`: one's own token, or (admins) anyone's.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    WriteForm { user, .. }: WriteForm<NoFields>,
) -> Result<Response, WebError> {
    let id = parse_id(&raw, "token").map_err(|e| e.for_user(&user))?;
    let token = state.db().get_token(id).await.for_user(&user)?;
    if token.user_id != user.user_id && !user.is_admin() {
        return Err(
            WebError::from(inventory_db::DbError::not_found(Entity::Token, id)).for_user(&user),
        );
    }
    state.db().revoke_token(id).await.for_user(&user)?;
    if id == user.token_id {
        // That was this session: it is over.
        return Ok(Redirect::to("/login?done=signed-out").into_response());
    }
    Ok(Redirect::to("/tokens?done=revoked").into_response())
}
