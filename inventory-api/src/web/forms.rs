//! Posted forms, checked before any handler sees them: the request must come from our own
//! pages (`Origin` / `Sec-Fetch-Site`), carry a live session and that session's CSRF token
//! in the `_csrf` field, and the session must have the permission the extractor names —
//! [`SessionForm`] (anyone signed in), [`WriteForm`] (may change the inventory),
//! [`AdminForm`] (may manage users). A refused post writes nothing and answers 403.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use inventory_core::Permission;
use serde::de::DeserializeOwned;

use super::render::WebError;
use super::session::{constant_time_eq, same_origin, WebUser};
use crate::AppState;

/// Checks origin and session, and the permission `needed`; the user on success.
pub(crate) async fn post_user(
    parts: &mut Parts,
    state: &AppState,
    needed: Permission,
) -> Result<WebUser, Response> {
    if !same_origin(&parts.headers, state) {
        return Err(
            WebError::forbidden("this form was sent from another site, so it was refused")
                .into_response(),
        );
    }
    let user = WebUser::from_request_parts(parts, state)
        .await
        .map_err(IntoResponse::into_response)?;
    if !user.permission().allows(needed) {
        let what = match needed {
            Permission::Admin => "manage users and everyone's tokens",
            _ => "change the inventory",
        };
        return Err(WebError::forbidden(format!(
            "your account ({}, {}) may look but not {what}",
            user.username, user.role
        ))
        .for_user(&user)
        .into_response());
    }
    Ok(user)
}

/// Refuses a post whose `_csrf` value is not the session's token.
pub(crate) fn check_csrf(user: &WebUser, sent: Option<&str>) -> Result<(), Response> {
    match sent {
        Some(token) if constant_time_eq(token, &user.csrf) => Ok(()),
        _ => Err(WebError::forbidden(
            "this form has expired or did not come from this site; reload the page and try again",
        )
        .for_user(user)
        .into_response()),
    }
}

/// The `_csrf` field of a urlencoded body.
fn csrf_field(body: &[u8]) -> Option<String> {
    form_urlencoded_pairs(body)
        .into_iter()
        .find(|(k, _)| k == "_csrf")
        .map(|(_, v)| v)
}

fn form_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default()
}

/// Reads and checks a urlencoded form post.
async fn read_form<T: DeserializeOwned>(
    req: Request,
    state: &AppState,
    needed: Permission,
) -> Result<(WebUser, T), Response> {
    let (mut parts, body) = req.into_parts();
    let user = post_user(&mut parts, state, needed).await?;
    let is_form = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if !is_form {
        return Err(WebError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "this address takes a form post",
        )
        .for_user(&user)
        .into_response());
    }
    let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
        .await
        .map_err(|e| {
            let limit = state.settings().max_body;
            let error: WebError = crate::extract::body_rejection(e, limit).into();
            error.for_user(&user).into_response()
        })?;
    check_csrf(&user, csrf_field(&bytes).as_deref())?;
    let form = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|e| {
        WebError::bad_request(format!("the form could not be read: {e}"))
            .for_user(&user)
            .into_response()
    })?;
    Ok((user, form))
}

macro_rules! form_extractor {
    ($(#[$doc:meta])* $name:ident, $needed:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub(crate) struct $name<T> {
            /// Who sent it.
            pub user: WebUser,
            /// The fields.
            pub form: T,
        }

        impl<T: DeserializeOwned> FromRequest<AppState> for $name<T> {
            type Rejection = Response;

            async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
                let (user, form) = read_form(req, state, $needed).await?;
                Ok($name { user, form })
            }
        }
    };
}

form_extractor!(
    /// A form post of any signed-in session (sign out, for one).
    SessionForm,
    Permission::Read
);
form_extractor!(
    /// A form post that changes the inventory: members and admins with a write session.
    WriteForm,
    Permission::Write
);
form_extractor!(
    /// A form post that manages users: admins with a write session.
    AdminForm,
    Permission::Admin
);

/// Blank text is no value.
pub(crate) fn non_blank(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csrf_field_is_found_among_others() {
        assert_eq!(
            csrf_field(b"name=Box&_csrf=abc123&x=1").as_deref(),
            Some("abc123")
        );
        assert_eq!(csrf_field(b"name=Box"), None);
        assert_eq!(csrf_field(b"%%%"), None);
    }
}
