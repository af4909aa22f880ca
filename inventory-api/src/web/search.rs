//! The home page, "Where is…?": full-text search over items and locations, each hit with
//! its full path; `/fragments/search` answers the same search as a fragment for the
//! script's search as you type.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde::Deserialize;

use super::render::{ok, Chrome, ForUser, Nav, WebError};
use super::session::WebUser;
use super::{query, views::HitView};
use crate::routes::MAX_FILTER_CHARS;
use crate::AppState;

/// Most hits shown.
const LIMIT: i64 = 50;
/// Fewer letters and digits than this are not searched: every item would match.
const MIN_CHARS: usize = 2;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct SearchQuery {
    q: String,
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    q: String,
    results: Results,
}

#[derive(Template)]
#[template(path = "_hits.html")]
struct HitsFragment {
    results: Results,
}

/// What a search found, or why it did not look.
#[derive(Debug, Default)]
pub(crate) struct Results {
    pub hits: Vec<HitView>,
    pub hint: Option<String>,
    pub more: bool,
    pub searched: bool,
}

async fn find(state: &AppState, text: &str) -> Result<Results, WebError> {
    let q = text.trim();
    let mut results = Results::default();
    if q.is_empty() {
        return Ok(results);
    }
    if q.chars().count() > MAX_FILTER_CHARS {
        results.hint = Some(format!(
            "That is longer than {MAX_FILTER_CHARS} characters; try a few words."
        ));
        return Ok(results);
    }
    if q.chars().filter(|c| c.is_alphanumeric()).count() < MIN_CHARS {
        results.hint = Some("Type at least two letters or digits.".into());
        return Ok(results);
    }
    results.searched = true;
    match state.db().search(q, LIMIT).await {
        Ok(hits) => {
            results.more = hits.len() as i64 >= LIMIT;
            results.hits = hits.into_iter().map(HitView::from).collect();
            if results.hits.is_empty() {
                results.hint = Some(format!(
                    "Nothing matches “{q}”. Words match from their start: try fewer or shorter ones."
                ));
            }
            Ok(results)
        }
        Err(e) if e.kind() == inventory_db::ErrorKind::Invalid => {
            results.searched = false;
            results.hint =
                Some("Type a word of a name, a description, a note or a serial number.".into());
            Ok(results)
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /`: the search page, with the hits when `q` is given.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let query: SearchQuery = query(raw);
    let results = find(&state, &query.q).await.for_user(&user)?;
    Ok(ok(SearchPage {
        chrome: Chrome::new("Search", &user, Nav::Search)
            .with_flash(super::render::flash(query.done.as_deref())),
        q: query.q,
        results,
    }))
}

/// `GET /fragments/search?q=`: the hits alone.
pub(crate) async fn fragment(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let query: SearchQuery = query(raw);
    let results = find(&state, &query.q).await.for_user(&user)?;
    Ok(ok(HitsFragment { results }))
}
