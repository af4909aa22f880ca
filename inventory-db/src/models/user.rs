//! `users`: the row (hash included, never leaves the crate), its queries, the public shape.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use inventory_core::{Role, UserId};
use serde::Serialize;

use crate::conn::{db_run, Conn};
use crate::error::{DbError, Entity, Key};
use crate::schema::users::{self, dsl as u};
use crate::secret::Secret;

/// A row of `users`, password hash included.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
pub(crate) struct UserRecord {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// `inventory_core::name_key(username)`, unique.
    pub username_key: String,
}

impl UserRecord {
    /// The public shape (no hash).
    pub(crate) fn to_user(&self) -> Result<User, DbError> {
        Ok(User {
            role: self
                .role
                .parse()
                .map_err(|e| DbError::corrupt(format!("user {} has a bad role: {e}", self.id)))?,
            id: self.id,
            username: self.username.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }

    /// The user whose name key is `key`, if any (one indexed lookup).
    pub(crate) async fn by_key(conn: &mut Conn, key: &str) -> Result<Option<Self>, DbError> {
        Ok(db_run!(conn, |c| {
            let query = u::users
                .filter(u::username_key.eq(key))
                .select(Self::as_select());
            query.first(c).await.optional()
        })?)
    }

    /// The user named `name` (by name key); `NotFound` otherwise.
    pub(crate) async fn get_by_name(conn: &mut Conn, name: &str) -> Result<Self, DbError> {
        Self::by_key(conn, &inventory_core::name_key(name))
            .await?
            .ok_or_else(|| DbError::NotFound {
                entity: Entity::User,
                key: Key::Name(name.trim().to_string()),
            })
    }

    /// The user with this id, if any.
    pub(crate) async fn find(conn: &mut Conn, id: UserId) -> Result<Option<Self>, DbError> {
        Ok(db_run!(conn, |c| {
            let query = u::users.find(id).select(Self::as_select());
            query.first(c).await.optional()
        })?)
    }

    /// Inserts a user (name validated, hash made); a clash on the name key is `DuplicateName`.
    pub(crate) async fn insert(
        conn: &mut Conn,
        username: &str,
        password_hash: String,
        role: Role,
        at: NaiveDateTime,
    ) -> Result<Self, DbError> {
        db_run!(conn, |c| {
            let query = diesel::insert_into(u::users)
                .values((
                    u::username.eq(username),
                    u::username_key.eq(inventory_core::name_key(username)),
                    u::password_hash.eq(Secret(password_hash)),
                    u::role.eq(role.as_str()),
                    u::created_at.eq(at),
                    u::updated_at.eq(at),
                ))
                .returning(Self::as_returning());
            query.get_result(c).await
        })
        .map_err(|e| DbError::from(e).unique_means(|| DbError::duplicate(Entity::User, username)))
    }

    /// Replaces the password hash.
    pub(crate) async fn set_password_hash(
        conn: &mut Conn,
        id: UserId,
        password_hash: String,
        at: NaiveDateTime,
    ) -> Result<Self, DbError> {
        Ok(db_run!(conn, |c| {
            let query = diesel::update(u::users.find(id))
                .set((
                    u::password_hash.eq(Secret(password_hash)),
                    u::updated_at.eq(at),
                ))
                .returning(Self::as_returning());
            query.get_result(c).await
        })?)
    }

    /// Changes the role.
    pub(crate) async fn set_role(
        conn: &mut Conn,
        id: UserId,
        role: Role,
        at: NaiveDateTime,
    ) -> Result<Self, DbError> {
        Ok(db_run!(conn, |c| {
            let query = diesel::update(u::users.find(id))
                .set((u::role.eq(role.as_str()), u::updated_at.eq(at)))
                .returning(Self::as_returning());
            query.get_result(c).await
        })?)
    }

    /// Every row's id, name and name key.
    pub(crate) async fn keys(conn: &mut Conn) -> Result<Vec<(i64, String, String)>, DbError> {
        Ok(db_run!(conn, |c| {
            let query = u::users
                .select((u::id, u::username, u::username_key))
                .order(u::id);
            query.load(c).await
        })?)
    }

    /// Deletes a user and, by `ON DELETE CASCADE`, their tokens.
    pub(crate) async fn delete(conn: &mut Conn, id: UserId) -> Result<usize, DbError> {
        Ok(db_run!(conn, |c| {
            let query = diesel::delete(u::users.find(id));
            query.execute(c).await
        })?)
    }

    /// Every user, by name.
    pub(crate) async fn all(conn: &mut Conn) -> Result<Vec<Self>, DbError> {
        Ok(db_run!(conn, |c| {
            let query = u::users.select(Self::as_select()).order(u::username);
            query.load(c).await
        })?)
    }
}

/// A user as shown: no password hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    /// Primary key.
    pub id: UserId,
    /// Unique name (by name key).
    pub username: String,
    /// What the user may do.
    pub role: Role,
    /// Created (UTC).
    #[serde(serialize_with = "super::serialize_utc")]
    pub created_at: NaiveDateTime,
    /// Last changed (UTC).
    #[serde(serialize_with = "super::serialize_utc")]
    pub updated_at: NaiveDateTime,
}
