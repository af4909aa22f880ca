//! `/api/v1/users` (admins only): list, create, read, change role or password, delete.

use axum::extract::State;
use axum::http::StatusCode;
use inventory_core::{Role, UserId};
use inventory_db::ops::users;
use inventory_db::{HashedPassword, TxMode, Versioned};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Admin;
use crate::error::ApiError;
use crate::etag::{precondition, Created, IfMatch, One};
use crate::extract::{Json, Path};
use crate::model::{NewUser, Page, User, UserPatch};
use crate::AppState;

/// The user routes (mounted under `/api/v1`).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user, delete_user))
}

/// Every user, by name (one page).
#[utoipa::path(
    get,
    path = "/users",
    tag = "users",
    operation_id = "list_users",
    security(("bearer" = [])),
    responses((status = 200, description = "Every user", body = Page<User>))
)]
async fn list_users(State(state): State<AppState>, _: Admin) -> Result<Json<Page<User>>, ApiError> {
    let all = state.db().list_users().await?;
    Ok(Json(Page::all(all.into_iter().map(User::from).collect())))
}

/// Creates a user; names are unique, ignoring case.
#[utoipa::path(
    post,
    path = "/users",
    tag = "users",
    operation_id = "create_user",
    security(("bearer" = [])),
    request_body = NewUser,
    responses(
        (status = 201, description = "Created", body = User,
            headers(("ETag" = String, description = "Its version"),
                    ("Location" = String, description = "Its URL"))),
        (status = 409, description = "A user has this name")
    )
)]
async fn create_user(
    State(state): State<AppState>,
    _: Admin,
    Json(new): Json<NewUser>,
) -> Result<Created<User>, ApiError> {
    let created = state
        .db()
        .create_user(&new.username, &new.password, new.role)
        .await?;
    Ok(Created(created.into()))
}

/// One user.
#[utoipa::path(
    get,
    path = "/users/{id}",
    tag = "users",
    operation_id = "get_user",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = User,
            headers(("ETag" = String, description = "Its version")))
    )
)]
async fn get_user(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<UserId>,
) -> Result<One<User>, ApiError> {
    Ok(One(state.db().get_user_by_id(id).await?.into()))
}

/// Changes a user's role or password. An admin cannot take their own admin role away (so
/// that the API always has someone to manage it).
#[utoipa::path(
    patch,
    path = "/users/{id}",
    tag = "users",
    operation_id = "update_user",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The user's id"), IfMatch),
    request_body = UserPatch,
    responses(
        (status = 200, description = "The changed user", body = User,
            headers(("ETag" = String, description = "Its new version"))),
        (status = 409, description = "An admin's own role")
    )
)]
async fn update_user(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<UserId>,
    if_match: IfMatch,
    Json(patch): Json<UserPatch>,
) -> Result<One<User>, ApiError> {
    if id == caller.user_id && patch.role.is_some_and(|r| r != Role::Admin) {
        return Err(ApiError::conflict(
            "you cannot take away your own admin role; another admin can",
        ));
    }
    // Hashing is slow by design: before the transaction, not inside it.
    let password = match &patch.password {
        Some(p) => Some(HashedPassword::new(p).await?),
        None => None,
    };
    let changed = state
        .db()
        .transaction(TxMode::Write, async |c| {
            precondition(c, &if_match, Versioned::User, id).await?;
            users::update_user(c, id, patch.role, password).await
        })
        .await?;
    Ok(One(changed.into()))
}

/// Deletes a user and their tokens. An admin cannot delete themselves.
#[utoipa::path(
    delete,
    path = "/users/{id}",
    tag = "users",
    operation_id = "delete_user",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The user's id"), IfMatch),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "The caller's own account")
    )
)]
async fn delete_user(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<UserId>,
    if_match: IfMatch,
) -> Result<StatusCode, ApiError> {
    if id == caller.user_id {
        return Err(ApiError::conflict(
            "you cannot delete your own account; another admin can",
        ));
    }
    state
        .db()
        .transaction(TxMode::Write, async |c| {
            precondition(c, &if_match, Versioned::User, id).await?;
            users::delete_user(c, id).await
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
