//! Turning templates into responses: the layout's data ([`Chrome`]), the [`Html`] wrapper
//! that renders a template with its status, the error page ([`WebError`]), and the state
//! of a form shown again with the user's input and what was wrong with it ([`FormState`]).

use askama::Template;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use inventory_db::{DbError, ErrorKind};

use super::assets;
use super::session::WebUser;
use crate::error::ApiError;

/// The sections of the navigation, to mark the current one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Nav {
    Search,
    Browse,
    Categories,
    Csv,
    Tokens,
    Users,
    None,
}

/// What the layout needs: the title, the signed-in user, the CSRF token for the logout
/// form, the assets' hashed URLs and the current section.
#[derive(Clone, Debug)]
pub(crate) struct Chrome {
    pub title: String,
    pub user: Option<WebUser>,
    pub nav: Nav,
    pub css: &'static str,
    pub js: &'static str,
    pub flash: Option<&'static str>,
}

impl Chrome {
    /// The layout for a signed-in page.
    pub fn new(title: impl Into<String>, user: &WebUser, nav: Nav) -> Self {
        Chrome {
            title: title.into(),
            user: Some(user.clone()),
            nav,
            css: assets::css_url(),
            js: assets::js_url(),
            flash: None,
        }
    }

    /// The layout of a page without a signed-in user (login, errors before sign-in).
    pub fn anonymous(title: impl Into<String>) -> Self {
        Chrome {
            title: title.into(),
            user: None,
            nav: Nav::None,
            css: assets::css_url(),
            js: assets::js_url(),
            flash: None,
        }
    }

    /// With a message from the previous request (`?done=…` after a redirect).
    pub fn with_flash(mut self, flash: Option<&'static str>) -> Self {
        self.flash = flash;
        self
    }

    /// `aria-current="page"` on the current section's link.
    pub fn current(&self, nav: &str) -> &'static str {
        let is = match nav {
            "search" => self.nav == Nav::Search,
            "browse" => self.nav == Nav::Browse,
            "categories" => self.nav == Nav::Categories,
            "csv" => self.nav == Nav::Csv,
            "tokens" => self.nav == Nav::Tokens,
            "users" => self.nav == Nav::Users,
            _ => false,
        };
        if is {
            "page"
        } else {
            "false"
        }
    }

    /// Whether the signed-in session may write the inventory.
    pub fn can_write(&self) -> bool {
        self.user.as_ref().is_some_and(WebUser::can_write)
    }

    /// Whether the signed-in session may manage users.
    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(WebUser::is_admin)
    }

    /// The session's CSRF token (empty without a session).
    pub fn csrf(&self) -> &str {
        self.user.as_ref().map_or("", |u| u.csrf.as_str())
    }
}

/// A rendered template with its status: `text/html`, never cached (pages hold the
/// user's data, and one may sign out on a shared computer).
#[derive(Debug)]
pub(crate) struct Html<T>(pub StatusCode, pub T);

impl<T: Template> IntoResponse for Html<T> {
    fn into_response(self) -> Response {
        match self.1.render() {
            Ok(body) => html_response(self.0, body),
            Err(e) => WebError::internal(format!("template failed: {e}")).into_response(),
        }
    }
}

/// An HTML response of this status and body.
pub(crate) fn html_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// 200 with this template.
pub(crate) fn ok<T: Template>(template: T) -> Response {
    Html(StatusCode::OK, template).into_response()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    status: u16,
    heading: &'a str,
    message: &'a str,
    error_id: Option<&'a str>,
}

/// An error shown as a page: its status, a heading and what went wrong. The mapping from
/// inventory-db's errors is the API's ([`ApiError`]), so both answer alike.
#[derive(Debug)]
pub(crate) struct WebError {
    status: StatusCode,
    message: String,
    error_id: Option<String>,
    user: Option<WebUser>,
}

impl WebError {
    /// An error of this status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        WebError {
            status,
            message: message.into(),
            error_id: None,
            user: None,
        }
    }

    /// 403: the session may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 500, logged with an id that the page shows.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::internal(cause).into()
    }

    /// The page shows the navigation of this user.
    pub fn for_user(mut self, user: &WebUser) -> Self {
        self.user = Some(user.clone());
        self
    }
}

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> Self {
        let problem = e.problem();
        WebError {
            status: e.status(),
            message: problem.detail,
            error_id: problem.error_id,
            user: None,
        }
    }
}

impl From<DbError> for WebError {
    fn from(e: DbError) -> Self {
        ApiError::from(e).into()
    }
}

fn heading(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "That request was not understood",
        401 => "Please sign in",
        403 => "Not allowed",
        404 => "Not found",
        409 => "That conflicts with what is there",
        413 => "That is too large",
        422 => "Some input is not valid",
        429 => "Too many attempts",
        503 => "The database is not available",
        _ => "Something went wrong",
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let heading = heading(self.status);
        let chrome = match &self.user {
            Some(user) => Chrome::new(heading, user, Nav::None),
            None => Chrome::anonymous(heading),
        };
        let page = ErrorPage {
            chrome,
            status: self.status.as_u16(),
            heading,
            message: &sentence(&self.message),
            error_id: self.error_id.as_deref(),
        };
        match page.render() {
            Ok(body) => html_response(self.status, body),
            // The error page itself failed: plain text, still no 500 body from elsewhere.
            Err(_) => (self.status, self.message).into_response(),
        }
    }
}

/// `result.for_user(&user)?` in handlers: errors render with the user's navigation.
pub(crate) trait ForUser<T> {
    fn for_user(self, user: &WebUser) -> Result<T, WebError>;
}

impl<T, E: Into<WebError>> ForUser<T> for Result<T, E> {
    fn for_user(self, user: &WebUser) -> Result<T, WebError> {
        self.map_err(|e| e.into().for_user(user))
    }
}

/// What was wrong with a submitted form: a message and, when known, the field.
#[derive(Clone, Debug, Default)]
pub(crate) struct FormError {
    pub field: Option<String>,
    pub message: String,
}

/// A form as shown: the values to fill in (the user's, after a failed post) and the error.
#[derive(Clone, Debug, Default)]
pub(crate) struct FormState<T> {
    pub values: T,
    pub error: Option<FormError>,
}

impl<T: Default> FormState<T> {
    /// A fresh form with these values.
    pub fn with(values: T) -> Self {
        FormState {
            values,
            error: None,
        }
    }

    /// The form shown again with the user's values and what was wrong.
    pub fn failed(values: T, error: FormError) -> Self {
        FormState {
            values,
            error: Some(error),
        }
    }
}

impl<T> FormState<T> {
    /// Whether the form failed (it is then shown open).
    pub fn failed_now(&self) -> bool {
        self.error.is_some()
    }

    /// The message, or empty.
    pub fn message(&self) -> &str {
        self.error.as_ref().map_or("", |e| e.message.as_str())
    }

    /// Whether `field` is the one at fault (`aria-invalid`).
    pub fn invalid(&self, field: &str) -> bool {
        self.error
            .as_ref()
            .and_then(|e| e.field.as_deref())
            .is_some_and(|f| f == field)
    }

    /// `aria-invalid` value for `field`.
    pub fn aria_invalid(&self, field: &str) -> &'static str {
        if self.invalid(field) {
            "true"
        } else {
            "false"
        }
    }
}

/// The status and form error of a failed write: what the user can fix (invalid input,
/// a conflict, a missing target) is shown next to the form; anything else is an error page.
pub(crate) fn form_error(e: DbError) -> Result<(StatusCode, FormError), WebError> {
    let fixable = matches!(
        e.kind(),
        ErrorKind::Invalid | ErrorKind::Conflict | ErrorKind::NotFound
    );
    if !fixable {
        return Err(e.into());
    }
    let api = ApiError::from(e);
    let problem = api.problem();
    let field = problem.errors.first().map(|f| f.field.clone());
    let status = match api.status() {
        // A bad value the user typed is "unprocessable", however the API words it.
        StatusCode::BAD_REQUEST => StatusCode::UNPROCESSABLE_ENTITY,
        other => other,
    };
    Ok((
        status,
        FormError {
            field,
            message: sentence(&problem.detail),
        },
    ))
}

/// A form error that is not from the database (a field the web layer checks itself).
pub(crate) fn field_error(field: &str, message: impl Into<String>) -> FormError {
    FormError {
        field: Some(field.to_string()),
        message: sentence(&message.into()),
    }
}

/// Starts a message with a capital letter and ends it with a full stop.
pub(crate) fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// Percent-encodes a query parameter value.
pub(crate) fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A confirmation message of a redirect's `done=` code; unknown codes show nothing.
pub(crate) fn flash(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "created" => "Created.",
        "saved" => "Saved.",
        "moved" => "Moved.",
        "deleted" => "Deleted.",
        "revoked" => "Token revoked.",
        "signed-out" => "You are signed out.",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_are_capitalised_and_end_with_a_stop() {
        assert_eq!(
            sentence("name must not be empty"),
            "Name must not be empty."
        );
        assert_eq!(sentence("Done."), "Done.");
        assert_eq!(sentence(""), "");
    }

    #[test]
    fn url_encoding_keeps_paths_readable() {
        assert_eq!(url_encode("/locations/5?x=a b"), "/locations/5%3Fx%3Da%20b");
        assert_eq!(url_encode("Café"), "Caf%C3%A9");
    }
}
