//! Categories: the list with item counts, add, rename (and describe), delete (the items
//! stay, without a category).

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::forms::{non_blank, WriteForm};
use super::items::NoFields;
use super::render::{flash, form_error, Chrome, ForUser, FormState, Html, Nav, WebError};
use super::session::WebUser;
use super::views::{paginate, Pager};
use super::{parse_id, query};
use crate::AppState;

/// A category's fields.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CategoryForm {
    pub name: String,
    pub description: String,
}

/// A row of the list, with its rename form.
#[derive(Debug)]
struct CategoryRow {
    id: i64,
    name: String,
    description: Option<String>,
    items: i64,
    edit: FormState<CategoryForm>,
}

#[derive(Template)]
#[template(path = "categories.html")]
struct CategoriesPage {
    chrome: Chrome,
    rows: Vec<CategoryRow>,
    pager: Pager,
    add: FormState<CategoryForm>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DoneQuery {
    done: Option<String>,
    page: Option<usize>,
}

/// Categories per page.
const PER_PAGE: usize = 30;

/// The page, with the add form and one row's rename form as given.
async fn categories_page(
    state: &AppState,
    user: &WebUser,
    add: FormState<CategoryForm>,
    failed_edit: Option<(i64, FormState<CategoryForm>)>,
    page: usize,
    flash_code: Option<&str>,
) -> Result<CategoriesPage, WebError> {
    let all = state.db().list_categories().await.for_user(user)?;
    // A failed rename shows the page that holds its row.
    let page = match &failed_edit {
        Some((id, _)) => all
            .iter()
            .position(|c| c.category.id == *id)
            .map_or(page, |i| i / PER_PAGE + 1),
        None => page,
    };
    let (all, pager) = paginate(all, page, PER_PAGE, "/categories?");
    let mut failed_edit = failed_edit;
    let rows = all
        .into_iter()
        .map(|c| {
            let id = c.category.id;
            let edit = match failed_edit.take_if(|(failed, _)| *failed == id) {
                Some((_, form)) => form,
                None => FormState::with(CategoryForm {
                    name: c.category.name.clone(),
                    description: c.category.description.clone().unwrap_or_default(),
                }),
            };
            CategoryRow {
                id,
                name: c.category.name,
                description: c.category.description,
                items: c.items,
                edit,
            }
        })
        .collect();
    Ok(CategoriesPage {
        chrome: Chrome::new("Categories", user, Nav::Categories).with_flash(flash(flash_code)),
        rows,
        pager,
        add,
    })
}

/// `GET /categories`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let q: DoneQuery = query(raw);
    let page = categories_page(
        &state,
        &user,
        FormState::default(),
        None,
        q.page.unwrap_or(1),
        q.done.as_deref(),
    )
    .await?;
    Ok(super::render::ok(page))
}

/// `POST /categories`: a new category.
pub(crate) async fn create(
    State(state): State<AppState>,
    WriteForm { user, form }: WriteForm<CategoryForm>,
) -> Result<Response, WebError> {
    let description = non_blank(&form.description);
    match state
        .db()
        .create_category(&form.name, description.as_deref())
        .await
        .map_err(form_error)
    {
        Ok(_) => Ok(Redirect::to("/categories?done=created").into_response()),
        Err(Err(e)) => Err(e.for_user(&user)),
        Err(Ok((status, error))) => {
            let page =
                categories_page(&state, &user, FormState::failed(form, error), None, 1, None)
                    .await?;
            Ok(Html(status, page).into_response())
        }
    }
}

/// `POST /categories/{id}/edit`: a new name or description.
pub(crate) async fn edit(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    WriteForm { user, form }: WriteForm<CategoryForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&raw, "category").map_err(|e| e.for_user(&user))?;
    let description = non_blank(&form.description);
    match state
        .db()
        .update_category(id, Some(&form.name), Some(description.as_deref()))
        .await
        .map_err(form_error)
    {
        Ok(_) => Ok(Redirect::to("/categories?done=saved").into_response()),
        Err(Err(e)) => Err(e.for_user(&user)),
        Err(Ok((status, error))) if status != StatusCode::NOT_FOUND => {
            let failed = Some((id, FormState::failed(form, error)));
            let page =
                categories_page(&state, &user, FormState::default(), failed, 1, None).await?;
            Ok(Html(status, page).into_response())
        }
        Err(Ok((status, error))) => Err(WebError::new(status, error.message).for_user(&user)),
    }
}

/// `POST /categories/{id}/delete`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    WriteForm { user, .. }: WriteForm<NoFields>,
) -> Result<Response, WebError> {
    let id = parse_id(&raw, "category").map_err(|e| e.for_user(&user))?;
    state.db().delete_category_by_id(id).await.for_user(&user)?;
    Ok(Redirect::to("/categories?done=deleted").into_response())
}
