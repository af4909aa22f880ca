//! `api_tokens`: the row (hash included, never leaves the crate), its queries, the shapes
//! handed out. A token is `hinv_` and 64 hex digits, shown once; only its SHA-256 is kept.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use inventory_core::{Scope, UserId};
use serde::Serialize;

use crate::conn::{db_run, Conn};
use crate::error::DbError;
use crate::models::user::UserRecord;
use crate::schema::api_tokens::{self, dsl as tok};
use crate::schema::users::dsl as u;
use crate::secret::Secret;

/// A row of `api_tokens`, hash included.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_tokens, treat_none_as_default_value = false)]
pub(crate) struct ApiTokenRecord {
    pub id: i64,
    pub user_id: i64,
    pub label: Option<String>,
    pub token_hash: String,
    pub prefix: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub scope: String,
    pub expires_at: Option<NaiveDateTime>,
}

/// A token to insert: its hash (never its secret), what it may do, until when.
#[derive(Debug, Insertable)]
#[diesel(table_name = api_tokens)]
pub(crate) struct NewApiToken {
    pub user_id: UserId,
    pub label: Option<String>,
    pub token_hash: Secret,
    pub prefix: String,
    pub scope: String,
    pub expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl ApiTokenRecord {
    /// The public shape (no hash).
    pub(crate) fn to_token(&self) -> Result<ApiToken, DbError> {
        Ok(ApiToken {
            id: self.id,
            user_id: self.user_id,
            label: self.label.clone(),
            prefix: self.prefix.clone(),
            scope: self
                .scope
                .parse()
                .map_err(|e| DbError::corrupt(format!("token {} has a bad scope: {e}", self.id)))?,
            created_at: self.created_at,
            expires_at: self.expires_at,
            last_used_at: self.last_used_at,
            revoked_at: self.revoked_at,
        })
    }

    /// Inserts a token.
    pub(crate) async fn insert(conn: &mut Conn, new: NewApiToken) -> Result<Self, DbError> {
        Ok(db_run!(conn, |c| {
            diesel::insert_into(tok::api_tokens)
                .values(&new)
                .returning(Self::as_returning())
                .get_result(c)
                .await
        })?)
    }

    /// The token with this id, if any.
    pub(crate) async fn find(conn: &mut Conn, id: i64) -> Result<Option<Self>, DbError> {
        Ok(db_run!(conn, |c| {
            let query = tok::api_tokens.find(id).select(Self::as_select());
            query.first(c).await.optional()
        })?)
    }

    /// The live token with this hash (not revoked, not expired at `at`) and its user.
    pub(crate) async fn live_by_hash(
        conn: &mut Conn,
        token_hash: String,
        at: NaiveDateTime,
    ) -> Result<Option<(Self, UserRecord)>, DbError> {
        Ok(db_run!(conn, |c| {
            let query = tok::api_tokens
                .inner_join(u::users)
                .filter(tok::token_hash.eq(Secret(token_hash)))
                .filter(tok::revoked_at.is_null())
                .filter(tok::expires_at.is_null().or(tok::expires_at.gt(at)))
                .select((Self::as_select(), UserRecord::as_select()));
            query.first(c).await.optional()
        })?)
    }

    /// Whether a use at `at` is to be recorded: the last one recorded is a minute old, or
    /// there is none (what [`ApiTokenRecord::touch`] checks again in the database).
    pub(crate) fn touch_due(&self, at: NaiveDateTime) -> bool {
        self.last_used_at.is_none_or(|last| last < touch_stale(at))
    }

    /// Records a use (at most once a minute per token, so that reads stay reads).
    pub(crate) async fn touch(conn: &mut Conn, id: i64, at: NaiveDateTime) -> Result<(), DbError> {
        let stale = touch_stale(at);
        db_run!(conn, |c| {
            let query = diesel::update(
                tok::api_tokens
                    .find(id)
                    .filter(tok::last_used_at.is_null().or(tok::last_used_at.lt(stale))),
            )
            .set(tok::last_used_at.eq(Some(at)));
            query.execute(c).await
        })?;
        Ok(())
    }

    /// Marks a token revoked (kept, so that listings show it); `None` when there is none.
    pub(crate) async fn revoke(
        conn: &mut Conn,
        id: i64,
        at: NaiveDateTime,
    ) -> Result<Option<Self>, DbError> {
        Ok(db_run!(conn, |c| {
            let query = diesel::update(tok::api_tokens.find(id))
                .set(tok::revoked_at.eq(Some(at)))
                .returning(Self::as_returning());
            query.get_result(c).await.optional()
        })?)
    }

    /// Tokens of one user, or of everyone, newest first.
    pub(crate) async fn list(conn: &mut Conn, owner: Option<UserId>) -> Result<Vec<Self>, DbError> {
        Ok(db_run!(conn, |c| {
            let mut query = tok::api_tokens.select(Self::as_select()).into_boxed();
            if let Some(id) = owner {
                query = query.filter(tok::user_id.eq(id));
            }
            query.order(tok::id.desc()).load(c).await
        })?)
    }
}

/// An API token as listed: its prefix identifies it; the secret is never stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    /// Primary key (what `token revoke` takes).
    pub id: i64,
    /// The owner.
    pub user_id: UserId,
    /// What the token is for.
    pub label: Option<String>,
    /// The token's first characters, to recognise it.
    pub prefix: String,
    /// What it may do (`read`: only read; `write`: what the owner's role allows).
    pub scope: Scope,
    /// Created (UTC).
    #[serde(serialize_with = "super::serialize_utc")]
    pub created_at: NaiveDateTime,
    /// When it stops working, if ever (UTC).
    #[serde(serialize_with = "super::serialize_opt_utc")]
    pub expires_at: Option<NaiveDateTime>,
    /// Last used to authenticate (UTC, updated at most once a minute).
    #[serde(serialize_with = "super::serialize_opt_utc")]
    pub last_used_at: Option<NaiveDateTime>,
    /// When it was revoked; revoked tokens authenticate nobody.
    #[serde(serialize_with = "super::serialize_opt_utc")]
    pub revoked_at: Option<NaiveDateTime>,
}

/// A token just created: the only time its secret is available. Its `Debug` hides the secret.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct CreatedToken {
    /// The stored record.
    #[serde(flatten)]
    pub token: ApiToken,
    /// The secret to hand to the client; shown once.
    pub secret: String,
}

impl std::fmt::Debug for CreatedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedToken")
            .field("token", &self.token)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Who a token authenticated, and the token itself (for its scope, and to revoke it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticated {
    /// The user.
    pub user: super::user::User,
    /// The token used.
    pub token: ApiToken,
}

/// Uses recorded before this are stale: a token's use is written at most once a minute.
fn touch_stale(at: NaiveDateTime) -> NaiveDateTime {
    at - chrono::Duration::seconds(60)
}
