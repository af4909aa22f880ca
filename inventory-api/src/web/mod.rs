//! The web UI: server-rendered pages at `/`, beside the JSON API under `/api/v1`, over the
//! same database, users and roles.
//!
//! Every page is an askama template (`templates/`, one per page, all extending
//! `base.html`) rendered by a thin handler: extract, call inventory-db, fill a view, render.
//! Every task works without JavaScript; `assets/app.js` only enhances (search as you type,
//! tree branches expanded in place, the location picker). Sessions and CSRF are in
//! [`session`] and [`forms`]; every state-changing form is a `POST` checked there.
//!
//! Lists are bounded: children and items come a page at a time (keyset cursors), search
//! and the location picker return a bounded number of hits, the tree is fetched one
//! level at a time.

// A page handler's error is a ready page (a `Response`, or a `WebError` that renders to
// one), returned once per request: boxing it would only add an allocation to each error.
#![allow(clippy::result_large_err)]

mod assets;
mod auth;
mod browse;
mod categories;
mod csv;
mod forms;
mod items;
mod locations;
mod picker;
mod render;
mod search;
pub(crate) mod session;
mod tokens;
mod users;
mod views;

use axum::extract::Request;
use axum::http::header::ACCEPT;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;

use crate::AppState;

pub use session::{COOKIE_NAME, SECURE_COOKIE_NAME};

/// Records per page of a list (children, items).
pub(crate) const PAGE_SIZE: u32 = 50;

/// Declares the UI's routes once: [`router`] mounts them and [`ROUTES`] lists them, so that
/// a test can hold every route of the UI to the authorization matrix.
macro_rules! ui_routes {
    ($($path:literal => $method:ident($handler:expr) $(.$more:ident($more_handler:expr))*;)*) => {
        /// The UI's routes.
        pub fn router() -> Router<AppState> {
            Router::new()$(.route($path, $method($handler)$(.$more($more_handler))*))*
        }

        /// Every route of [`router`]: its path and its methods (`"get"`, `"get post"`).
        pub const ROUTES: &[(&str, &str)] = &[
            $(($path, concat!(stringify!($method) $(, " ", stringify!($more))*)),)*
        ];
    };
}

ui_routes! {
    "/" => get(search::page);
    "/login" => get(auth::form).post(auth::login);
    "/logout" => post(auth::logout);
    "/browse" => get(browse::page);
    "/locations" => post(locations::create);
    "/locations/{id}" => get(locations::page);
    "/locations/{id}/edit" => post(locations::edit);
    "/locations/{id}/move" => post(locations::move_location);
    "/locations/{id}/delete" => post(locations::delete);
    "/locations/{id}/items" => post(locations::add_item);
    "/items" => post(items::create);
    "/items/new" => get(items::new_page);
    "/items/{id}" => get(items::page);
    "/items/{id}/edit" => post(items::edit);
    "/items/{id}/move" => post(items::move_item);
    "/items/{id}/delete" => post(items::delete);
    "/categories" => get(categories::page).post(categories::create);
    "/categories/{id}/edit" => post(categories::edit);
    "/categories/{id}/delete" => post(categories::delete);
    "/csv" => get(csv::page);
    "/csv/export" => get(csv::export);
    "/csv/import" => post(csv::import);
    "/users" => get(users::page).post(users::create);
    "/users/{id}/role" => post(users::set_role);
    "/users/{id}/password" => post(users::set_password);
    "/users/{id}/delete" => post(users::delete);
    "/tokens" => get(tokens::page).post(tokens::create);
    "/tokens/{id}/revoke" => post(tokens::revoke);
    "/fragments/search" => get(search::fragment);
    "/fragments/children/{id}" => get(browse::children);
    "/fragments/pick" => get(picker::fragment);
    "/assets/{file}" => get(assets::serve);
}

/// The fallback of unknown routes: an HTML page for browsers outside `/api`, the API's
/// problem otherwise.
pub async fn not_found(req: Request) -> Response {
    let wants_html = req
        .headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html && !req.uri().path().starts_with("/api/") {
        render::WebError::not_found("there is no page at this address").into_response()
    } else {
        crate::middleware::route_not_found().await.into_response()
    }
}

/// A query string read leniently: what does not parse is left at its default (pages never
/// fail on a mangled link).
pub(crate) fn query<T: DeserializeOwned + Default>(raw: Option<String>) -> T {
    raw.and_then(|q| serde_urlencoded::from_str(&q).ok())
        .unwrap_or_default()
}

/// A path id; anything but a positive number is "not found".
pub(crate) fn parse_id(raw: &str, what: &str) -> Result<i64, render::WebError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| render::WebError::not_found(format!("there is no {what} {raw}")))
}

/// The weight test's view of the assets: `(url, bytes)`.
#[doc(hidden)]
pub fn asset_urls() -> Vec<(&'static str, usize)> {
    assets::all()
        .iter()
        .map(|a| (a.url.as_str(), a.body.len()))
        .collect()
}
