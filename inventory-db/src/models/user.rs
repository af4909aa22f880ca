//! Users and API tokens. Password and token hashes never leave this crate.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use inventory_core::{Role, UserId};
use serde::Serialize;

use crate::error::DbError;
use crate::schema::{api_tokens, users};

/// A user row, hash included (internal).
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = users)]
pub(crate) struct UserRecord {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl UserRecord {
    pub(crate) fn into_user(self) -> Result<User, DbError> {
        Ok(User {
            role: self
                .role
                .parse()
                .map_err(|e| DbError::Query(format!("user {} has a bad role: {e}", self.id)))?,
            id: self.id,
            username: self.username,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A user as shown: no password hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    /// Primary key.
    pub id: UserId,
    /// Unique name (case-insensitively).
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

/// An API token as listed: its prefix identifies it; the secret is never stored.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Serialize)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    /// Primary key (what `token revoke` takes).
    pub id: i64,
    /// The owner.
    pub user_id: UserId,
    /// What the token is for.
    pub label: Option<String>,
    /// The token's first characters, to recognise it.
    pub prefix: String,
    /// Created (UTC).
    #[serde(serialize_with = "super::serialize_utc")]
    pub created_at: NaiveDateTime,
    /// Last used to authenticate (UTC).
    #[serde(serialize_with = "super::serialize_opt_utc")]
    pub last_used_at: Option<NaiveDateTime>,
    /// When it was revoked; revoked tokens authenticate nobody.
    #[serde(serialize_with = "super::serialize_opt_utc")]
    pub revoked_at: Option<NaiveDateTime>,
}

/// A token just created: the only time its secret is available.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CreatedToken {
    /// The stored record.
    #[serde(flatten)]
    pub token: ApiToken,
    /// The secret to hand to the client; shown once.
    pub secret: String,
}
