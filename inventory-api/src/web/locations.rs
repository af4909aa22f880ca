//! The location page: breadcrumb, children, the items here (or here and below) with their
//! counts and value, and the forms to add a sub-location or an item, edit, move and delete
//! (with the choice of what happens to the items inside). A failed form is shown again on
//! the page, next to its fields, with what the user typed.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use inventory_core::{LocationId, LocationType};
use inventory_db::ops::{items as item_ops, locations as location_ops};
use inventory_db::{
    DbError, ItemFilter, ItemsOnDelete, LocationChanges, LocationFilter, PageRequest, TxMode,
};
use serde::Deserialize;

use super::browse::browse_page;
use super::forms::{non_blank, WriteForm};
use super::items::{parse_quantity, QuickItemForm};
use super::picker::{candidates, PickView};
use super::render::{
    field_error, flash, form_error, url_encode, Chrome, ForUser, FormError, FormState, Html, Nav,
    WebError,
};
use super::session::WebUser;
use super::views::{count, type_label, Choice, Crumb, TotalsView};
use super::{parse_id, query, PAGE_SIZE};
use crate::AppState;

/// The fields of a new location.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct NewLocationForm {
    pub parent_id: String,
    pub name: String,
    pub location_type: String,
    pub description: String,
}

/// The fields of a location's edit form.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct EditLocationForm {
    pub name: String,
    pub location_type: String,
    pub description: String,
}

/// A move: the target as typed (a path or `#id`), a picked candidate, or the top level.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct MoveForm {
    pub to: String,
    pub pick: String,
    pub root: String,
}

/// A delete and what happens to the items inside.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct DeleteForm {
    pub items: String,
}

/// The forms of the page, as shown (fresh, or one failed).
#[derive(Debug, Default)]
pub(crate) struct Forms {
    pub add_child: FormState<NewLocationForm>,
    pub add_item: FormState<QuickItemForm>,
    pub edit: Option<FormState<EditLocationForm>>,
    pub move_to: FormState<MoveForm>,
    pub candidates: Vec<PickView>,
    pub delete: FormState<DeleteForm>,
}

/// A child in the list.
#[derive(Debug)]
pub(crate) struct ChildView {
    pub id: LocationId,
    pub name: String,
    pub kind: &'static str,
}

/// An item in the list.
#[derive(Debug)]
pub(crate) struct ItemRow {
    pub id: i64,
    pub name: String,
    pub quantity: i64,
    pub category: Option<String>,
    /// Where it is, when the list reaches below this location.
    pub path: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LocationQuery {
    children: Option<String>,
    items: Option<String>,
    below: Option<String>,
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "location.html")]
pub(crate) struct LocationPage {
    chrome: Chrome,
    id: LocationId,
    name: String,
    kind: &'static str,
    description: Option<String>,
    parent: Option<Crumb>,
    crumbs: Vec<Crumb>,
    here: TotalsView,
    below: TotalsView,
    children_count: String,
    children: Vec<ChildView>,
    children_next: Option<String>,
    items: Vec<ItemRow>,
    items_next: Option<String>,
    below_mode: bool,
    child_types: Vec<Choice>,
    edit_types: Vec<Choice>,
    forms: Forms,
    edit: FormState<EditLocationForm>,
    items_below_count: i64,
    categories: Vec<String>,
}

impl LocationPage {
    /// Whether a details section starts open (its form just failed).
    pub fn open(&self, form: &str) -> bool {
        match form {
            "add_child" => self.forms.add_child.failed_now(),
            "add_item" => self.forms.add_item.failed_now(),
            "edit" => self.edit.failed_now(),
            "move" => self.forms.move_to.failed_now(),
            "delete" => self.forms.delete.failed_now(),
            _ => false,
        }
    }

    /// Whether the delete choice `value` is the one to check.
    pub fn delete_choice(&self, value: &str) -> bool {
        let chosen = self.forms.delete.values.items.as_str();
        if chosen.is_empty() {
            value == "refuse"
        } else {
            chosen == value
        }
    }
}

/// Builds the page of location `id`, its lists at the given cursors, its forms as given.
#[allow(clippy::too_many_arguments)] // the page, and what each of its forms sent back
pub(crate) async fn location_page(
    state: &AppState,
    user: &WebUser,
    id: LocationId,
    children_cursor: Option<String>,
    items_cursor: Option<String>,
    below_mode: bool,
    forms: Forms,
    flash_code: Option<&str>,
) -> Result<LocationPage, WebError> {
    let children_page = PageRequest {
        limit: PAGE_SIZE,
        cursor: children_cursor.clone(),
    };
    let items_page = PageRequest {
        limit: PAGE_SIZE,
        cursor: items_cursor.clone(),
    };
    let (detail, here, below, children, items) = state
        .db()
        .transaction(TxMode::Snapshot, async |c| {
            let detail = location_ops::get(c, id).await?;
            let (here, below) = item_ops::summaries_here_and_below(c, id).await?;
            let children = location_ops::list(
                c,
                &LocationFilter {
                    parent_id: Some(id),
                    ..LocationFilter::default()
                },
                &children_page,
            )
            .await?;
            let items = item_ops::list(
                c,
                &ItemFilter {
                    location_id: Some(id),
                    recursive: below_mode,
                    ..ItemFilter::default()
                },
                &items_page,
            )
            .await?;
            Ok((detail, here, below, children, items))
        })
        .await
        .for_user(user)?;
    let categories = category_names(state).await.for_user(user)?;
    let location = detail.location;
    let kind = location.location_type;
    let rules = state.db().rules();
    let mut child_kinds = rules.allowed_children(Some(kind));
    if child_kinds.is_empty() {
        child_kinds = LocationType::ALL.to_vec();
    }
    let default_child = child_kinds
        .first()
        .map_or("CONTAINER", |k| k.as_str())
        .to_string();
    let mut forms = forms;
    if forms.add_child.values.location_type.is_empty() {
        forms.add_child.values.location_type = default_child;
    }
    if forms.add_item.values.quantity.is_empty() {
        forms.add_item.values.quantity = "1".into();
    }
    let edit = forms.edit.take().unwrap_or_else(|| {
        FormState::with(EditLocationForm {
            name: location.name.clone(),
            location_type: kind.as_str().to_string(),
            description: location.description.clone().unwrap_or_default(),
        })
    });
    let parent_kind = detail.ancestors.last().map(|a| a.location_type);
    let mut edit_kinds: Vec<LocationType> = LocationType::ALL
        .into_iter()
        .filter(|k| rules.allows(parent_kind, *k) || *k == kind)
        .collect();
    edit_kinds.dedup();
    let base = format!("/locations/{id}");
    let with = |key: &str, cursor: &str| {
        let below = if below_mode { "below=1&" } else { "" };
        format!("{base}?{below}{key}={}", url_encode(cursor))
    };
    let children_next = children.next_cursor.as_deref().map(|c| with("children", c));
    let items_next = items.next_cursor.as_deref().map(|c| with("items", c));
    let mut children: Vec<ChildView> = children
        .items
        .into_iter()
        .map(|l| ChildView {
            id: l.id,
            name: l.name,
            kind: type_label(l.location_type),
        })
        .collect();
    children.sort_by_cached_key(|c| inventory_core::name_key(&c.name));
    let items = items
        .items
        .into_iter()
        .map(|i| ItemRow {
            path: (below_mode && i.location_id != id).then_some(i.location_path),
            id: i.id,
            name: i.name,
            quantity: i.quantity,
            category: i.category,
        })
        .collect();
    Ok(LocationPage {
        chrome: Chrome::new(location.name.clone(), user, Nav::Browse).with_flash(flash(flash_code)),
        id,
        kind: type_label(kind),
        description: location.description.clone(),
        parent: detail.ancestors.last().map(Crumb::from),
        crumbs: detail.ancestors.iter().map(Crumb::from).collect(),
        here: here.into(),
        items_below_count: below.items,
        below: below.into(),
        children_count: count(detail.child_count, "sub-location", "sub-locations"),
        children,
        children_next,
        items,
        items_next,
        below_mode,
        child_types: Choice::types(&child_kinds, &forms.add_child.values.location_type.clone()),
        edit_types: Choice::types(&edit_kinds, &edit.values.location_type),
        name: location.name,
        forms,
        edit,
        categories,
    })
}

/// Category names for the item forms' suggestions (at most 200).
pub(crate) async fn category_names(state: &AppState) -> Result<Vec<String>, DbError> {
    state.db().category_names(200).await
}

/// `GET /locations/{id}`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: WebUser,
    Path(raw): Path<String>,
    RawQuery(raw_query): RawQuery,
) -> Result<Response, WebError> {
    let id = parse_id(&raw, "location").map_err(|e| e.for_user(&user))?;
    let q: LocationQuery = query(raw_query);
    let below = q.below.as_deref() == Some("1");
    let page = location_page(
        &state,
        &user,
        id,
        q.children,
        q.items,
        below,
        Forms::default(),
        q.done.as_deref(),
    )
    .await?;
    Ok(super::render::ok(page))
}

/// The page again with one form failed: status from the error.
async fn failed(
    state: &AppState,
    user: &WebUser,
    id: LocationId,
    status: StatusCode,
    forms: Forms,
) -> Result<Response, WebError> {
    let page = location_page(state, user, id, None, None, false, forms, None).await?;
    Ok(Html(status, page).into_response())
}

fn parse_type(text: &str) -> Result<LocationType, FormError> {
    text.parse::<LocationType>()
        .map_err(|e| field_error("location_type", e.to_string()))
}

/// `POST /locations`: a new location, under `parent_id` or at the top level.
pub(crate) async fn create(
    State(state): State<AppState>,
    WriteForm { user, form }: WriteForm<NewLocationForm>,
) -> Result<Response, WebError> {
    let parent = match non_blank(&form.parent_id) {
        Some(p) => Some(parse_id(&p, "location").map_err(|e| e.for_user(&user))?),
        None => None,
    };
    let outcome = match parse_type(&form.location_type) {
        Ok(kind) => state
            .db()
            .create_location(&inventory_db::NewLocation {
                name: form.name.clone(),
                description: non_blank(&form.description),
                location_type: kind,
                parent_id: parent,
            })
            .await
            .map_err(form_error),
        Err(e) => Err(Ok((StatusCode::UNPROCESSABLE_ENTITY, e))),
    };
    match outcome {
        Ok(created) => {
            Ok(Redirect::to(&format!("/locations/{}?done=created", created.id)).into_response())
        }
        Err(Err(e)) => Err(e.for_user(&user)),
        Err(Ok((status, error))) => match parent {
            Some(parent) => {
                let forms = Forms {
                    add_child: FormState::failed(form, error),
                    ..Forms::default()
                };
                failed(&state, &user, parent, status, forms).await
            }
            None => {
                let page = browse_page(
                    &state,
                    &user,
                    None,
                    None,
                    FormState::failed(form, error),
                    None,
                )
                .await?;
                Ok(Html(status, page).into_response())
            }
        },
    }
}

/// `POST /locations/{id}/edit`: name, type, description.
pub(crate) async fn edit(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    WriteForm { user, form }: WriteForm<EditLocationForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&raw, "location").map_err(|e| e.for_user(&user))?;
    let outcome = match parse_type(&form.location_type) {
        Ok(kind) => state
            .db()
            .update_location(
                id,
                &LocationChanges {
                    name: Some(form.name.clone()),
                    description: Some(non_blank(&form.description)),
                    location_type: Some(kind),
                },
            )
            .await
            .map_err(form_error),
        Err(e) => Err(Ok((StatusCode::UNPROCESSABLE_ENTITY, e))),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/locations/{id}?done=saved")).into_response()),
        Err(Err(e)) => Err(e.for_user(&user)),
        Err(Ok((status, error))) => {
            let forms = Forms {
                edit: Some(FormState::failed(form, error)),
                ..Forms::default()
            };
            failed(&state, &user, id, status, forms).await
        }
    }
}

/// The target of a move form: `None` for the top level (when allowed), else the location
/// the picked candidate or the typed text names.
pub(crate) async fn move_target(
    state: &AppState,
    form: &MoveForm,
    allow_root: bool,
) -> Result<Option<LocationId>, Result<(StatusCode, FormError), WebError>> {
    if allow_root && form.root == "1" {
        return Ok(None);
    }
    let text = non_blank(&form.pick).or_else(|| non_blank(&form.to));
    let Some(text) = text else {
        return Err(Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            field_error(
                "to",
                "type where it goes: a full path such as My House / Garage",
            ),
        )));
    };
    match state.db().resolve_location(&text).await {
        Ok(id) => Ok(Some(id)),
        Err(e) if e.kind() == inventory_db::ErrorKind::NotFound => Err(Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            field_error(
                "to",
                format!("no location is called “{text}”; pick one below or type its full path"),
            ),
        ))),
        Err(e) => Err(form_error(e).map(|(s, mut fe)| {
            fe.field = Some("to".into());
            (s, fe)
        })),
    }
}

/// `POST /locations/{id}/move`: under the picked location, or to the top level.
pub(crate) async fn move_location(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    WriteForm { user, form }: WriteForm<MoveForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&raw, "location").map_err(|e| e.for_user(&user))?;
    let outcome = match move_target(&state, &form, true).await {
        Ok(target) => state
            .db()
            .move_location(id, target)
            .await
            .map_err(form_error),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/locations/{id}?done=moved")).into_response()),
        Err(Err(e)) => Err(e.for_user(&user)),
        Err(Ok((status, error))) => {
            let candidates = candidates(state.db(), &form.to).await.for_user(&user)?;
            let forms = Forms {
                move_to: FormState::failed(form, error),
                candidates,
                ..Forms::default()
            };
            failed(&state, &user, id, status, forms).await
        }
    }
}

/// `POST /locations/{id}/delete`: the location and everything under it; the items inside
/// refuse the delete, go to the parent, or go too, as chosen.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    WriteForm { user, form }: WriteForm<DeleteForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&raw, "location").map_err(|e| e.for_user(&user))?;
    let mode = match form.items.as_str() {
        "" | "refuse" => Ok(ItemsOnDelete::Refuse),
        "move-to-parent" => Ok(ItemsOnDelete::MoveToParent),
        "delete" => Ok(ItemsOnDelete::Delete),
        other => Err(field_error(
            "items",
            format!("“{other}” is not a choice for the items inside"),
        )),
    };
    // Where to go afterwards: the parent, or the tree for a root.
    let parent = state
        .db()
        .get_location(id)
        .await
        .for_user(&user)?
        .ancestors
        .last()
        .map(|a| a.id);
    let outcome = match mode {
        Ok(mode) => state
            .db()
            .delete_location_with(id, mode)
            .await
            .map_err(form_error),
        Err(e) => Err(Ok((StatusCode::UNPROCESSABLE_ENTITY, e))),
    };
    match outcome {
        Ok(_) => {
            let to = match parent {
                Some(p) => format!("/locations/{p}?done=deleted"),
                None => "/browse?done=deleted".to_string(),
            };
            Ok(Redirect::to(&to).into_response())
        }
        Err(Err(e)) => Err(e.for_user(&user)),
        Err(Ok((status, mut error))) => {
            error.field = Some("items".into());
            let forms = Forms {
                delete: FormState::failed(form, error),
                ..Forms::default()
            };
            failed(&state, &user, id, status, forms).await
        }
    }
}

/// `POST /locations/{id}/items`: the quick "add an item here" form.
pub(crate) async fn add_item(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    WriteForm { user, form }: WriteForm<QuickItemForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&raw, "location").map_err(|e| e.for_user(&user))?;
    let outcome = match parse_quantity(&form.quantity) {
        Ok(quantity) => {
            let mut new = inventory_db::NewItem::new(form.name.clone(), id);
            new.quantity = quantity;
            new.category = non_blank(&form.category);
            state.db().create_item(&new).await.map_err(form_error)
        }
        Err(e) => Err(Ok((StatusCode::UNPROCESSABLE_ENTITY, e))),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/locations/{id}?done=created#items")).into_response()),
        Err(Err(e)) => Err(e.for_user(&user)),
        Err(Ok((status, error))) => {
            let forms = Forms {
                add_item: FormState::failed(form, error),
                ..Forms::default()
            };
            failed(&state, &user, id, status, forms).await
        }
    }
}
