//! The UI's static files, compiled into the binary and served under content-hashed names
//! (`/assets/app.1a2b3c4d5e6f7a8b.css`) with a year-long, immutable cache lifetime: a new
//! build with changed files has new names, so browsers never see a stale one.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::render::WebError;

/// One embedded file.
#[derive(Debug)]
pub(crate) struct Asset {
    /// The URL it is served under, hash included.
    pub url: String,
    /// Its bytes.
    pub body: &'static [u8],
    /// Its media type.
    pub content_type: &'static str,
}

impl Asset {
    fn new(stem: &str, extension: &str, body: &'static [u8], content_type: &'static str) -> Self {
        let digest = Sha256::digest(body);
        let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Asset {
            url: format!("/assets/{stem}.{hash}.{extension}"),
            body,
            content_type,
        }
    }
}

static CSS: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "app",
        "css",
        include_bytes!("../../assets/app.css"),
        "text/css; charset=utf-8",
    )
});

static JS: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "app",
        "js",
        include_bytes!("../../assets/app.js"),
        "text/javascript; charset=utf-8",
    )
});

/// The stylesheet's URL.
pub(crate) fn css_url() -> &'static str {
    &CSS.url
}

/// The script's URL.
pub(crate) fn js_url() -> &'static str {
    &JS.url
}

/// Every asset (for the page-weight tests and the handler).
pub(crate) fn all() -> [&'static Asset; 2] {
    [&CSS, &JS]
}

/// `GET /assets/{file}`: the asset of that exact hashed name, or 404.
pub(crate) async fn serve(Path(file): Path<String>) -> Response {
    let wanted = format!("/assets/{file}");
    match all().into_iter().find(|a| a.url == wanted) {
        Some(asset) => (
            [
                (CONTENT_TYPE, asset.content_type),
                (CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            asset.body,
        )
            .into_response(),
        None => WebError::not_found("there is no such file").into_response(),
    }
}
