//! Signing in and out. `GET /login` shows the form and sets a short-lived cookie that ties
//! it to this browser (its CSRF token is derived from that cookie, so another site cannot
//! sign a visitor into an account of its choosing); `POST /login` checks name and password
//! under the API's login rate limits and sets the session cookie; `POST /logout` revokes
//! the session's token and clears the cookie.

use askama::Template;
use axum::extract::{FromRequest, Request, State};
use axum::http::header::{LOCATION, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{TimeDelta, Utc};
use inventory_db::TokenSpec;
use serde::Deserialize;

use super::forms::SessionForm;
use super::query;
use super::render::{Chrome, Html, WebError};
use super::session::{
    self, constant_time_eq, cookie, cookie_name, csrf_token, safe_next, same_origin, set_cookie,
    LOGIN_COOKIE_NAME,
};
use crate::extract::ClientAddr;
use crate::ratelimit::LimitKey;
use crate::AppState;

/// How long a login form stays valid.
const LOGIN_FORM_SECS: i64 = 3600;
/// The label of session tokens in the token list.
pub(crate) const SESSION_LABEL: &str = "web session";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LoginQuery {
    next: Option<String>,
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
}

/// A fresh login-form secret: 32 random hex digits.
fn form_secret() -> String {
    format!(
        "{}{}",
        crate::middleware::random_id(),
        crate::middleware::random_id()
    )
}

/// The login form with a fresh form cookie.
fn login_form(
    state: &AppState,
    status: StatusCode,
    next: String,
    username: String,
    error: Option<String>,
    flash: Option<&'static str>,
) -> Response {
    let secret = form_secret();
    let page = LoginPage {
        chrome: Chrome::anonymous("Log in").with_flash(flash),
        csrf: csrf_token(&secret),
        next,
        username,
        error,
    };
    let mut response = Html(status, page).into_response();
    let (name, value) = set_cookie(
        state,
        LOGIN_COOKIE_NAME,
        &secret,
        "/login",
        "Strict",
        LOGIN_FORM_SECS,
    );
    response.headers_mut().append(name, value);
    response
}

/// `GET /login`: the form (or, already signed in, straight on to `next`).
pub(crate) async fn form(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, WebError> {
    let (parts, _) = req.into_parts();
    let query: LoginQuery = query(parts.uri.query().map(str::to_string));
    let next = safe_next(query.next.as_deref());
    if session::current_user(&parts, &state).await?.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    Ok(login_form(
        &state,
        StatusCode::OK,
        next,
        String::new(),
        None,
        super::render::flash(query.done.as_deref()),
    ))
}

#[derive(Deserialize)]
#[serde(default)]
#[derive(Default)]
struct LoginForm {
    username: String,
    password: String,
    next: String,
    _csrf: String,
}

impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// `POST /login`: checks the form cookie, the rate limits and the password; on success
/// sets the session cookie and goes on to `next`.
pub(crate) async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    req: Request,
) -> Result<Response, WebError> {
    if !same_origin(req.headers(), &state) {
        return Err(WebError::forbidden(
            "this form was sent from another site, so it was refused",
        ));
    }
    let form_secret = cookie(req.headers(), LOGIN_COOKIE_NAME).map(str::to_string);
    let body = axum::body::Bytes::from_request(req, &state)
        .await
        .map_err(|e| {
            WebError::from(crate::extract::body_rejection(e, state.settings().max_body))
        })?;
    let form: LoginForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let next = safe_next(Some(&form.next));
    let fresh_form = |status, error: &str| {
        login_form(
            &state,
            status,
            next.clone(),
            form.username.clone(),
            Some(error.to_string()),
            None,
        )
    };
    let token_ok = form_secret
        .as_deref()
        .is_some_and(|s| constant_time_eq(&csrf_token(s), &form._csrf));
    if !token_ok {
        return Ok(fresh_form(
            StatusCode::FORBIDDEN,
            "This login form has expired. Please enter your name and password again.",
        ));
    }

    let keys = [LimitKey::user(&form.username), LimitKey::addr(addr)];
    let limiter = state.login_limiter();
    if let Err(wait) = limiter.begin(&keys) {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let minutes = seconds.div_ceil(60).max(1);
        let mut response = fresh_form(
            StatusCode::TOO_MANY_REQUESTS,
            &format!(
                "Too many failed logins. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            ),
        );
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        return Ok(response);
    }
    let user = match state
        .db()
        .authenticate_password(&form.username, &form.password)
        .await
    {
        Ok(Some(user)) => user,
        Ok(None) => {
            return Ok(fresh_form(
                StatusCode::UNAUTHORIZED,
                "Unknown user name or wrong password.",
            ))
        }
        Err(e) => {
            // Not the visitor's failure: it does not count against them.
            limiter.succeeded(&keys);
            return Err(e.into());
        }
    };
    limiter.succeeded(&keys);
    let days = i64::from(state.settings().session_days);
    let spec = TokenSpec {
        label: Some(SESSION_LABEL.into()),
        scope: inventory_core::Scope::Write,
        expires_at: Some(Utc::now() + TimeDelta::days(days)),
    };
    let created = state.db().create_token_for_id(user.id, &spec).await?;
    tracing::debug!(user_id = user.id, "web login");
    let mut response = (StatusCode::SEE_OTHER, [(LOCATION, next.as_str())]).into_response();
    let headers = response.headers_mut();
    let (name, value) = set_cookie(
        &state,
        cookie_name(&state),
        &created.secret,
        "/",
        "Lax",
        days * 24 * 3600,
    );
    headers.append(name, value);
    let (name, value) = set_cookie(&state, LOGIN_COOKIE_NAME, "", "/login", "Strict", 0);
    headers.append(name, value);
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Nothing {}

/// `POST /logout`: revokes the session's token and clears the cookie.
pub(crate) async fn logout(
    State(state): State<AppState>,
    SessionForm {
        user,
        form: Nothing {},
    }: SessionForm<Nothing>,
) -> Result<Response, WebError> {
    state
        .db()
        .revoke_token(user.token_id)
        .await
        .map_err(|e| WebError::from(e).for_user(&user))?;
    tracing::debug!(user_id = user.user_id, "web logout");
    let mut response = Redirect::to("/login?done=signed-out").into_response();
    let (name, value) = set_cookie(&state, cookie_name(&state), "", "/", "Lax", 0);
    response.headers_mut().append(name, value);
    Ok(response)
}
