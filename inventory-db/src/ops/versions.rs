//! Row versions for optimistic concurrency (the API's `ETag` and `If-Match`).
//!
//! The version of a row is its `updated_at`; API tokens, which are never edited, change
//! only when revoked, so theirs is `revoked_at`, else `created_at` (their `last_used_at`
//! is a record of use, not a change). [`lock`] reads it inside the transaction that is
//! about to write the row and, on PostgreSQL, locks the row (`SELECT … FOR UPDATE`), so that
//! no other transaction can change it between the caller's check and its write; on SQLite
//! the write transaction's `BEGIN IMMEDIATE` already keeps every other writer out.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::sql_types::{BigInt, Timestamp};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;

use crate::config::Backend;
use crate::conn::{db_run, Conn};
use crate::error::{DbError, Entity};

/// The kinds of row that have a version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Versioned {
    /// A location.
    Location,
    /// An item.
    Item,
    /// A category.
    Category,
    /// A user.
    User,
    /// An API token.
    Token,
}

impl Versioned {
    /// The entity named in errors about it.
    pub fn entity(self) -> Entity {
        match self {
            Versioned::Location => Entity::Location,
            Versioned::Item => Entity::Item,
            Versioned::Category => Entity::Category,
            Versioned::User => Entity::User,
            Versioned::Token => Entity::Token,
        }
    }

    /// The table and the expression of its version.
    fn source(self) -> (&'static str, &'static str) {
        match self {
            Versioned::Location => ("locations", "updated_at"),
            Versioned::Item => ("items", "updated_at"),
            Versioned::Category => ("categories", "updated_at"),
            Versioned::User => ("users", "updated_at"),
            Versioned::Token => ("api_tokens", "COALESCE(revoked_at, created_at)"),
        }
    }
}

#[derive(QueryableByName)]
struct VersionRow {
    #[diesel(sql_type = Timestamp)]
    v: NaiveDateTime,
}

/// The current version of a row, locked until the transaction ends on PostgreSQL; `NotFound`
/// when there is no such row. Run it inside the write transaction (of the mode the write
/// needs) before checking the caller's version and writing.
pub async fn lock(conn: &mut Conn, kind: Versioned, id: i64) -> Result<DateTime<Utc>, DbError> {
    let (table, version) = kind.source();
    let lock = match conn.backend() {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let sql = format!("SELECT {version} AS v FROM {table} WHERE id = $1{lock}");
    let row: Option<VersionRow> = db_run!(conn, |c| {
        let query = diesel::sql_query(sql).bind::<BigInt, _>(id);
        diesel::OptionalExtension::optional(query.get_result(c).await)
    })?;
    row.map(|r| r.v.and_utc())
        .ok_or_else(|| DbError::not_found(kind.entity(), id))
}
