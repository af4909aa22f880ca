//! Sessions of the web UI: the session cookie (a login token of inventory-db, so the same
//! users, roles, expiry and revocation as the API), the signed-in [`WebUser`] extractor,
//! the per-session CSRF token and the same-origin check of state-changing requests.
//!
//! The cookie holds the token's secret and nothing else; it is `HttpOnly`, `SameSite=Lax`,
//! `Path=/`, and `Secure` (under the `__Host-` name) when the public URL is https. The CSRF
//! token is derived from the secret with SHA-256 under a label of its own, so a page that
//! shows it reveals nothing of the session, and it changes with every login.

use std::fmt::Write as _;

use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, HOST, ORIGIN, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use inventory_core::{Permission, Role, Scope, UserId};
use sha2::{Digest, Sha256};

use crate::AppState;

/// The session cookie's name over plain http.
pub const COOKIE_NAME: &str = "hinv_session";
/// The session cookie's name over https: the `__Host-` prefix makes browsers insist on
/// `Secure`, `Path=/` and no `Domain`.
pub const SECURE_COOKIE_NAME: &str = "__Host-hinv_session";
/// The cookie that ties a login form to the browser that fetched it (login CSRF).
pub(crate) const LOGIN_COOKIE_NAME: &str = "hinv_login";
/// Longest cookie value looked up (ours are 69 characters).
const MAX_SECRET_LEN: usize = 128;

/// The signed-in user of a page request, and what their session allows.
#[derive(Clone, Debug)]
pub(crate) struct WebUser {
    /// The user's id.
    pub user_id: UserId,
    /// The user's name.
    pub username: String,
    /// The user's role.
    pub role: Role,
    /// The session token's scope.
    pub scope: Scope,
    /// The session token's id (what logout revokes).
    pub token_id: i64,
    /// The CSRF token of this session (for hidden form fields).
    pub csrf: String,
}

impl WebUser {
    /// Role ∩ scope, as for API tokens.
    pub fn permission(&self) -> Permission {
        Permission::effective(self.role, self.scope)
    }

    /// Whether the session may change the inventory.
    pub fn can_write(&self) -> bool {
        self.permission().allows(Permission::Write)
    }

    /// Whether the session may manage users and everyone's tokens.
    pub fn is_admin(&self) -> bool {
        self.permission().allows(Permission::Admin)
    }
}

/// The cookie's name under these settings.
pub(crate) fn cookie_name(state: &AppState) -> &'static str {
    if secure(state) {
        SECURE_COOKIE_NAME
    } else {
        COOKIE_NAME
    }
}

/// Whether cookies carry `Secure` (the public URL is https).
pub(crate) fn secure(state: &AppState) -> bool {
    state
        .settings()
        .public_url
        .as_ref()
        .is_some_and(crate::PublicUrl::is_https)
}

/// The value of cookie `name`, if the request has it with a plausible value.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= MAX_SECRET_LEN
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
}

/// `Set-Cookie` for a value that lives `max_age` seconds (0 removes it).
pub(crate) fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    path: &str,
    same_site: &str,
    max_age: i64,
) -> (axum::http::HeaderName, HeaderValue) {
    let mut cookie =
        format!("{name}={value}; Path={path}; HttpOnly; SameSite={same_site}; Max-Age={max_age}");
    if secure(state) {
        cookie.push_str("; Secure");
    }
    // Names and values are ours: letters, digits, `_`, `/`, `=`, `;` and spaces.
    let value = HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""));
    (SET_COOKIE, value)
}

/// The CSRF token of a session (or of a login form), derived from its secret.
pub(crate) fn csrf_token(secret: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"home-inventory web csrf v1\n")
        .chain_update(secret.as_bytes())
        .finalize();
    let mut out = String::with_capacity(64);
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Compares two strings in time that depends on their lengths only.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether a state-changing request comes from our own pages: `Sec-Fetch-Site`, when sent,
/// must be `same-origin` (enough on its own) or `none` (typed by the user), and otherwise
/// `Origin`, when sent, must be
/// the public URL's origin (or, without one configured, name the host the request was sent
/// to). Browsers send at least one of them on every form post.
pub(crate) fn same_origin(headers: &HeaderMap, state: &AppState) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        match site.as_bytes() {
            // The browser's own word, which no page can forge. Under our
            // `Referrer-Policy: no-referrer` Chromium sends `Origin: null` with it.
            b"same-origin" => return true,
            b"none" => {}
            _ => return false,
        }
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim().to_ascii_lowercase();
    match &state.settings().public_url {
        Some(public) => {
            let public = public.as_str().to_ascii_lowercase();
            let scheme_end = public.find("://").map_or(0, |i| i + 3);
            let end = public[scheme_end..]
                .find('/')
                .map_or(public.len(), |i| scheme_end + i);
            origin == public[..end]
        }
        None => {
            let Some(host) = headers.get(HOST).and_then(|h| h.to_str().ok()) else {
                return false;
            };
            let host = host.trim().to_ascii_lowercase();
            origin == format!("http://{host}") || origin == format!("https://{host}")
        }
    }
}

/// Where an unauthenticated request is sent: the login page, then back to `next`. A form
/// post is not a page to come back to (the address only takes posts): it is refused, and
/// the visitor is sent to the login page alone.
pub(crate) fn login_redirect(parts: &Parts) -> Response {
    if !matches!(parts.method, Method::GET | Method::HEAD) {
        return Redirect::to("/login").into_response();
    }
    let next = parts
        .uri
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_string();
    let target = if next == "/" {
        "/login".to_string()
    } else {
        format!("/login?next={}", super::render::url_encode(&next))
    };
    Redirect::to(&target).into_response()
}

/// A same-site path to go back to after login: starts with one `/`, no scheme or host,
/// no backslash or control characters; anything else is the home page.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next.map(str::trim) {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control)
                && n.len() <= 2000
                && !n.starts_with("/login")
                && !n.starts_with("/logout") =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

/// Why a request has no user: not signed in, or the database failed.
#[derive(Debug)]
pub(crate) enum NoUser {
    /// No session, or one that is expired or revoked.
    SignedOut(Response),
    /// The session could not be checked.
    Failed(super::render::WebError),
}

impl IntoResponse for NoUser {
    fn into_response(self) -> Response {
        match self {
            NoUser::SignedOut(r) => r,
            NoUser::Failed(e) => e.into_response(),
        }
    }
}

/// Whether a request is one of our script's fragment fetches (they get a 401, not a
/// redirect, and the script reloads the page).
fn is_fragment(parts: &Parts) -> bool {
    parts.headers.contains_key("x-fragment") || parts.uri.path().starts_with("/fragments/")
}

/// The session's user, or `None` when the request has no live session.
pub(crate) async fn current_user(
    parts: &Parts,
    state: &AppState,
) -> Result<Option<WebUser>, super::render::WebError> {
    let Some(secret) = cookie(&parts.headers, cookie_name(state)) else {
        return Ok(None);
    };
    let Some(found) = state.db().authenticate(secret).await? else {
        return Ok(None);
    };
    Ok(Some(WebUser {
        user_id: found.user.id,
        username: found.user.username,
        role: found.user.role,
        scope: found.token.scope,
        token_id: found.token.id,
        csrf: csrf_token(secret),
    }))
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = NoUser;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, NoUser> {
        if let Some(user) = parts.extensions.get::<WebUser>() {
            return Ok(user.clone());
        }
        match current_user(parts, state).await {
            Ok(Some(user)) => {
                parts.extensions.insert(user.clone());
                Ok(user)
            }
            Ok(None) if is_fragment(parts) => Err(NoUser::SignedOut(
                (StatusCode::UNAUTHORIZED, "sign in again").into_response(),
            )),
            Ok(None) => Err(NoUser::SignedOut(login_redirect(parts))),
            Err(e) => Err(NoUser::Failed(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_differ_per_secret_and_do_not_reveal_it() {
        let a = csrf_token("hinv_aaaa");
        let b = csrf_token("hinv_aaab");
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(!a.contains("aaaa"));
        assert_eq!(a, csrf_token("hinv_aaaa"));
    }

    #[test]
    fn constant_time_comparison_compares() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
        assert!(constant_time_eq("", ""));
    }

    #[test]
    fn next_is_a_same_site_path_or_home() {
        assert_eq!(safe_next(Some("/locations/5?x=1")), "/locations/5?x=1");
        for bad in [
            None,
            Some(""),
            Some("https://evil.example/"),
            Some("//evil.example/"),
            Some("/\\evil.example"),
            Some("javascript:alert(1)"),
            Some("/login?next=/"),
            Some("/a\nb"),
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }

    #[test]
    fn cookies_are_found_by_exact_name_and_checked_for_form() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, "a=1; hinv_session=hinv_abc; b=2".parse().unwrap());
        assert_eq!(cookie(&h, COOKIE_NAME), Some("hinv_abc"));
        assert_eq!(cookie(&h, "session"), None);
        let mut h = HeaderMap::new();
        h.append(COOKIE, "hinv_session=bad value!".parse().unwrap());
        assert_eq!(cookie(&h, COOKIE_NAME), None);
    }
}
