//! Users (admins only): the list, add a user with a role, change a role or a password,
//! delete. An admin cannot take away their own admin role or delete themselves (another
//! admin can), as in the API.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use inventory_core::{Role, UserId};
use serde::Deserialize;

use super::forms::AdminForm;
use super::items::NoFields;
use super::render::{
    field_error, flash, form_error, Chrome, ForUser, FormError, FormState, Html, Nav, WebError,
};
use super::session::WebUser;
use super::views::{paginate, when_naive, Choice, Pager};
use super::{parse_id, query};
use crate::AppState;

/// The roles as options.
fn roles(selected: &str) -> Vec<Choice> {
    Choice::of(
        &[
            ("viewer", "Viewer: may look"),
            ("member", "Member: may change the inventory"),
            ("admin", "Admin: may also manage users"),
        ],
        selected,
    )
}

/// A new user.
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct NewUserForm {
    pub username: String,
    pub password: String,
    pub role: String,
}

impl std::fmt::Debug for NewUserForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUserForm")
            .field("username", &self.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A role change.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RoleForm {
    pub role: String,
}

/// A new password.
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PasswordForm {
    pub password: String,
}

impl std::fmt::Debug for PasswordForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordForm(<redacted>)")
    }
}

/// A row of the list.
#[derive(Debug)]
struct UserRow {
    id: UserId,
    username: String,
    role: &'static str,
    created_at: String,
    is_me: bool,
    roles: Vec<Choice>,
    /// What went wrong with this row's forms.
    error: Option<FormError>,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    rows: Vec<UserRow>,
    pager: Pager,
    add: FormState<NewUserForm>,
    add_roles: Vec<Choice>,
}

async fn users_page(
    state: &AppState,
    user: &WebUser,
    add: FormState<NewUserForm>,
    row_error: Option<(UserId, FormError)>,
    page: usize,
    flash_code: Option<&str>,
) -> Result<UsersPage, WebError> {
    let all = state.db().list_users().await.for_user(user)?;
    let page = match &row_error {
        Some((id, _)) => all
            .iter()
            .position(|u| u.id == *id)
            .map_or(page, |i| i / PER_PAGE + 1),
        None => page,
    };
    let (all, pager) = paginate(all, page, PER_PAGE, "/users?");
    let mut row_error = row_error;
    let rows = all
        .into_iter()
        .map(|u| UserRow {
            error: row_error.take_if(|(id, _)| *id == u.id).map(|(_, e)| e),
            roles: roles(u.role.as_str()),
            id: u.id,
            role: u.role.as_str(),
            created_at: when_naive(u.created_at),
            is_me: u.id == user.user_id,
            username: u.username,
        })
        .collect();
    let selected = if add.values.role.is_empty() {
        "member".to_string()
    } else {
        add.values.role.clone()
    };
    let mut add = add;
    // A password is never sent back into a page.
    add.values.password.clear();
    Ok(UsersPage {
        chrome: Chrome::new("Users", user, Nav::Users).with_flash(flash(flash_code)),
        rows,
        pager,
        add,
        add_roles: roles(&selected),
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DoneQuery {
    done: Option<String>,
    page: Option<usize>,
}

/// Users per page.
const PER_PAGE: usize = 50;

/// `GET /users` (admins).
pub(crate) async fn page(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    if !user.is_admin() {
        return Err(WebError::forbidden("only admins may see and manage users").for_user(&user));
    }
    let q: DoneQuery = query(raw);
    let page = users_page(
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

fn parse_role(text: &str) -> Result<Role, FormError> {
    text.parse::<Role>()
        .map_err(|e| field_error("role", e.to_string()))
}

/// `POST /users`: a new user.
pub(crate) async fn create(
    State(state): State<AppState>,
    AdminForm { user, form }: AdminForm<NewUserForm>,
) -> Result<Response, WebError> {
    let outcome = match parse_role(&form.role) {
        Ok(role) => state
            .db()
            .create_user(&form.username, &form.password, role)
            .await
            .map_err(form_error),
        Err(e) => Err(Ok((StatusCode::UNPROCESSABLE_ENTITY, e))),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to("/users?done=created").into_response()),
        Err(Err(e)) => Err(e.for_user(&user)),
        Err(Ok((status, error))) => {
            let page =
                users_page(&state, &user, FormState::failed(form, error), None, 1, None).await?;
            Ok(Html(status, page).into_response())
        }
    }
}

/// A row's failed form shown again.
async fn row_failed(
    state: &AppState,
    user: &WebUser,
    id: UserId,
    status: StatusCode,
    error: FormError,
) -> Result<Response, WebError> {
    if status == StatusCode::NOT_FOUND {
        return Err(WebError::new(status, error.message).for_user(user));
    }
    let page = users_page(
        state,
        user,
        FormState::default(),
        Some((id, error)),
        1,
        None,
    )
    .await?;
    Ok(Html(status, page).into_response())
}

/// `POST /users/{id}/role`.
pub(crate) async fn set_role(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    AdminForm { user, form }: AdminForm<RoleForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&raw, "user").map_err(|e| e.for_user(&user))?;
    let outcome = match parse_role(&form.role) {
        Ok(role) if id == user.user_id && role != Role::Admin => Err(Ok((
            StatusCode::CONFLICT,
            field_error(
                "role",
                "you cannot take away your own admin role; another admin can",
            ),
        ))),
        Ok(role) => state
            .db()
            .update_user(id, Some(role), None)
            .await
            .map_err(form_error),
        Err(e) => Err(Ok((StatusCode::UNPROCESSABLE_ENTITY, e))),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to("/users?done=saved").into_response()),
        Err(Err(e)) => Err(e.for_user(&user)),
        Err(Ok((status, error))) => row_failed(&state, &user, id, status, error).await,
    }
}

/// `POST /users/{id}/password`.
pub(crate) async fn set_password(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    AdminForm { user, form }: AdminForm<PasswordForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&raw, "user").map_err(|e| e.for_user(&user))?;
    match state
        .db()
        .update_user(id, None, Some(&form.password))
        .await
        .map_err(form_error)
    {
        Ok(_) => Ok(Redirect::to("/users?done=saved").into_response()),
        Err(Err(e)) => Err(e.for_user(&user)),
        Err(Ok((status, error))) => row_failed(&state, &user, id, status, error).await,
    }
}

/// `POST /users/{id}/delete`: the user and their tokens.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    AdminForm { user, .. }: AdminForm<NoFields>,
) -> Result<Response, WebError> {
    let id = parse_id(&raw, "user").map_err(|e| e.for_user(&user))?;
    if id == user.user_id {
        let error = field_error(
            "delete",
            "you cannot delete your own account; another admin can",
        );
        return row_failed(&state, &user, id, StatusCode::CONFLICT, error).await;
    }
    state.db().delete_user_by_id(id).await.for_user(&user)?;
    Ok(Redirect::to("/users?done=deleted").into_response())
}
