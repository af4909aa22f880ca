//! Browse: the location tree, expanded level by level. The page shows the roots and, with
//! `?open=ID`, the branches down to that location (each level one bounded page of
//! children); the script fetches a branch's children from `/fragments/children/{id}` and
//! expands it in place. Nothing ever loads the whole tree.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use inventory_core::{LocationId, LocationType};
use inventory_db::{Location, LocationFilter, Page, PageRequest};
use serde::Deserialize;

use super::locations::NewLocationForm;
use super::render::{flash, Chrome, ForUser, FormState, Nav, WebError};
use super::session::WebUser;
use super::views::{type_label, Choice};
use super::{parse_id, query};
use crate::AppState;

/// Children per branch.
const BRANCH_SIZE: u32 = 100;

/// One line of the tree as the template writes it: a node `<li>` (opening a nested list
/// when expanded) or a "more" link, and how many nested lists close after it.
#[derive(Clone, Debug)]
pub(crate) struct TreeLine {
    pub id: LocationId,
    pub name: String,
    pub kind: &'static str,
    /// Expanded with children following on the next lines.
    pub opens: bool,
    /// Expanded, with nothing inside.
    pub empty: bool,
    /// A "more…" line: links to the location of `id`.
    pub more: bool,
    /// Where the toggle's form goes without script: expand this node, or collapse it.
    pub toggle_open: Option<LocationId>,
    /// Nested lists closed after this line.
    pub closes: usize,
}

impl TreeLine {
    fn node(l: &Location, expanded: bool, parent: Option<LocationId>) -> Self {
        TreeLine {
            id: l.id,
            name: l.name.clone(),
            kind: type_label(l.location_type),
            opens: false,
            empty: false,
            more: false,
            toggle_open: if expanded { parent } else { Some(l.id) },
            closes: 0,
        }
    }

    fn more(parent: LocationId, name: &str) -> Self {
        TreeLine {
            id: parent,
            name: name.to_string(),
            kind: "",
            opens: false,
            empty: false,
            more: true,
            toggle_open: None,
            closes: 0,
        }
    }

    /// Whether the node is shown expanded (`aria-expanded`).
    pub fn expanded(&self) -> bool {
        self.opens || self.empty
    }
}

/// A page of a location's children (or of the roots), sorted by name within the page.
async fn branch(
    state: &AppState,
    parent: Option<LocationId>,
    cursor: Option<String>,
) -> Result<Page<Location>, WebError> {
    let filter = LocationFilter {
        parent_id: parent,
        roots_only: parent.is_none(),
        ..LocationFilter::default()
    };
    let page = PageRequest {
        limit: BRANCH_SIZE,
        cursor,
    };
    let mut found = state.db().list_locations(&filter, &page).await?;
    found
        .items
        .sort_by_cached_key(|l| inventory_core::name_key(&l.name));
    Ok(found)
}

/// The lines of `branch`, each child expanded (recursively, from `levels`) when it is the
/// next location on the open path.
fn lines_of(
    branch: &Page<Location>,
    parent: Option<LocationId>,
    parent_name: &str,
    levels: &mut std::collections::VecDeque<(LocationId, Page<Location>)>,
    out: &mut Vec<TreeLine>,
) {
    let open_here = levels.front().map(|(id, _)| *id);
    for l in &branch.items {
        if Some(l.id) == open_here {
            let Some((_, children)) = levels.pop_front() else {
                continue;
            };
            let mut line = TreeLine::node(l, true, parent);
            if children.items.is_empty() {
                line.empty = true;
                out.push(line);
            } else {
                line.opens = true;
                out.push(line);
                lines_of(&children, Some(l.id), &l.name, levels, out);
                if let Some(last) = out.last_mut() {
                    last.closes += 1;
                }
            }
        } else {
            out.push(TreeLine::node(l, false, parent));
        }
    }
    if branch.next_cursor.is_some() {
        if let Some(p) = parent {
            out.push(TreeLine::more(p, parent_name));
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BrowseQuery {
    open: Option<String>,
    cursor: Option<String>,
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "browse.html")]
pub(crate) struct BrowsePage {
    chrome: Chrome,
    lines: Vec<TreeLine>,
    roots_next: Option<String>,
    add_root: FormState<NewLocationForm>,
    root_types: Vec<Choice>,
}

/// The browse page, with the add-a-root form as given.
pub(crate) async fn browse_page(
    state: &AppState,
    user: &WebUser,
    open: Option<LocationId>,
    cursor: Option<String>,
    add_root: FormState<NewLocationForm>,
    flash_code: Option<&str>,
) -> Result<BrowsePage, WebError> {
    let roots = branch(state, None, cursor).await.for_user(user)?;
    // The open path: the open location's ancestors, then itself.
    let mut levels = std::collections::VecDeque::new();
    if let Some(id) = open {
        let detail = state.db().get_location(id).await.for_user(user)?;
        let mut path: Vec<LocationId> = detail.ancestors.iter().map(|a| a.id).collect();
        path.push(id);
        for step in path {
            let children = branch(state, Some(step), None).await.for_user(user)?;
            levels.push_back((step, children));
        }
    }
    let mut lines = Vec::new();
    lines_of(&roots, None, "", &mut levels, &mut lines);
    let kind = if add_root.values.location_type.is_empty() {
        LocationType::House.as_str().to_string()
    } else {
        add_root.values.location_type.clone()
    };
    let roots_allowed = state.db().rules().allowed_children(None);
    Ok(BrowsePage {
        chrome: Chrome::new("Browse", user, Nav::Browse).with_flash(flash(flash_code)),
        lines,
        roots_next: roots
            .next_cursor
            .map(|c| format!("/browse?cursor={}", super::render::url_encode(&c))),
        add_root,
        root_types: Choice::types(&roots_allowed, &kind),
    })
}

/// `GET /browse[?open=ID]`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let query: BrowseQuery = query(raw);
    let open = match query.open.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => Some(parse_id(raw, "location").map_err(|e| e.for_user(&user))?),
        None => None,
    };
    let page = browse_page(
        &state,
        &user,
        open,
        query.cursor,
        FormState::default(),
        query.done.as_deref(),
    )
    .await?;
    Ok(super::render::ok(page))
}

#[derive(Template)]
#[template(path = "_children.html")]
struct ChildrenFragment {
    lines: Vec<TreeLine>,
}

/// `GET /fragments/children/{id}`: one branch, for the script to insert.
pub(crate) async fn children(
    State(state): State<AppState>,
    user: WebUser,
    Path(raw): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_id(&raw, "location").map_err(|e| e.for_user(&user))?;
    let detail = state.db().get_location(id).await.for_user(&user)?;
    let children = branch(&state, Some(id), None).await.for_user(&user)?;
    let mut lines = Vec::new();
    let mut none = std::collections::VecDeque::new();
    lines_of(
        &children,
        Some(id),
        &detail.location.name,
        &mut none,
        &mut lines,
    );
    Ok(super::render::ok(ChildrenFragment { lines }))
}
