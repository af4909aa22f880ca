//! The location picker: finds locations by what the user types of their path, never by
//! listing them all. `My House / Gar` lists the children of `My House` whose names contain
//! `Gar` (one indexed lookup per level, then one bounded page); a text without `/` looks at
//! roots by name and at the full-text index of location names (unranked: the nearest the
//! root first); `#12` is location 12. Without JavaScript the same candidates appear under a
//! move form whose text did not name one location.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use inventory_db::{Database, DbError, ErrorKind, LocationFilter, PageRequest};
use serde::Deserialize;

use super::query;
use super::render::{ok, ForUser, WebError};
use super::session::WebUser;
use crate::routes::MAX_FILTER_CHARS;
use crate::AppState;

/// Most candidates shown.
pub(crate) const LIMIT: u32 = 12;
/// Locations looked at whose name holds the typed words (nearest the root first).
const SEARCH_HITS: i64 = 100;

/// A location the user may pick.
#[derive(Clone, Debug)]
pub(crate) struct PickView {
    pub id: i64,
    pub path: String,
}

fn not_found_is_none<T>(r: Result<T, DbError>) -> Result<Option<T>, DbError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Invalid) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The locations matching `text`, at most [`LIMIT`].
pub(crate) async fn candidates(db: &Database, text: &str) -> Result<Vec<PickView>, DbError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_FILTER_CHARS * 4 {
        return Ok(Vec::new());
    }
    let page = PageRequest::first(LIMIT);
    if let Some(id) = text
        .strip_prefix('#')
        .and_then(|n| n.trim().parse::<i64>().ok())
    {
        return Ok(not_found_is_none(db.get_location(id).await)?
            .map(|d| PickView {
                id: d.location.id,
                path: d.location.full_path,
            })
            .into_iter()
            .collect());
    }
    if let Some((parent, last)) = text.rsplit_once('/') {
        let parent = parent.trim();
        let parent_id = if parent.is_empty() {
            None
        } else {
            match not_found_is_none(db.resolve_path(parent).await)? {
                Some(id) => Some(id),
                // Not a path from a root: the tail of one, such as `Wardrobe / Shoe`.
                None => return tail_candidates(db, parent, last.trim()).await,
            }
        };
        let last = last.trim();
        let filter = LocationFilter {
            parent_id,
            roots_only: parent_id.is_none(),
            name_contains: (!last.is_empty())
                .then(|| last.chars().take(MAX_FILTER_CHARS).collect()),
            ..LocationFilter::default()
        };
        let found = db.list_locations(&filter, &page).await?;
        return Ok(found
            .items
            .into_iter()
            .map(|l| PickView {
                id: l.id,
                path: l.full_path,
            })
            .collect());
    }
    let filter = LocationFilter {
        roots_only: true,
        name_contains: Some(text.chars().take(MAX_FILTER_CHARS).collect()),
        ..LocationFilter::default()
    };
    let mut out: Vec<PickView> = db
        .list_locations(&filter, &page)
        .await?
        .items
        .into_iter()
        .map(|l| PickView {
            id: l.id,
            path: l.full_path,
        })
        .collect();
    for (id, path) in db.locations_named(text, SEARCH_HITS).await? {
        if out.len() >= LIMIT as usize {
            break;
        }
        if !out.iter().any(|p| p.id == id) {
            out.push(PickView { id, path });
        }
    }
    Ok(out)
}

/// Locations found by the full-text index for `last` whose path holds `parent` as whole
/// segments, compared by name key (`wardrobe / shoe` finds `My House / Bedroom / Wardrobe /
/// Shoe Box`).
async fn tail_candidates(
    db: &Database,
    parent: &str,
    last: &str,
) -> Result<Vec<PickView>, DbError> {
    let word = if last.is_empty() {
        parent.rsplit('/').next().unwrap_or(parent).trim()
    } else {
        last
    };
    if word.is_empty() {
        return Ok(Vec::new());
    }
    let keys = |text: &str| -> Vec<String> {
        text.split('/')
            .map(|s| inventory_core::name_key(s.trim()))
            .collect()
    };
    let wanted = keys(parent);
    let named = db.locations_named(word, SEARCH_HITS).await?;
    Ok(named
        .into_iter()
        .filter(|(_, path)| {
            let have = keys(path);
            // The typed segments, in order, among the hit's ancestors.
            have.len() > wanted.len()
                && have[..have.len() - 1]
                    .windows(wanted.len())
                    .any(|w| w == wanted.as_slice())
        })
        .take(LIMIT as usize)
        .map(|(id, path)| PickView { id, path })
        .collect())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PickQuery {
    q: String,
    /// The id of the input the choices are for (`aria-controls` of the buttons).
    target: String,
}

#[derive(Template)]
#[template(path = "_picks.html")]
struct PicksFragment {
    picks: Vec<PickView>,
    q: String,
    target: String,
}

/// `GET /fragments/pick?q=&target=`: candidates as buttons that fill the picker's input.
pub(crate) async fn fragment(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let query: PickQuery = query(raw);
    let picks = candidates(state.db(), &query.q).await.for_user(&user)?;
    let target: String = query
        .target
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(40)
        .collect();
    Ok(ok(PicksFragment {
        picks,
        q: query.q,
        target,
    }))
}
