//! `categories`: the row (also the public shape) and its queries.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use inventory_core::CategoryId;
use serde::Serialize;

use crate::conn::{db_run, Conn};
use crate::error::{DbError, Entity, Key};
use crate::schema::categories::{self, dsl as cat};

/// A row of `categories`, as stored and as handed out.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = categories, treat_none_as_default_value = false)]
pub struct Category {
    /// Primary key.
    pub id: CategoryId,
    /// Unique name (by name key).
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// Created (UTC, naive).
    #[serde(serialize_with = "super::serialize_utc")]
    pub created_at: NaiveDateTime,
    /// Last changed (UTC, naive).
    #[serde(serialize_with = "super::serialize_utc")]
    pub updated_at: NaiveDateTime,
    /// `inventory_core::name_key(name)`, unique.
    #[serde(skip)]
    pub(crate) name_key: String,
}

/// A category with how many items use it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CategoryWithCount {
    /// The category.
    #[serde(flatten)]
    pub category: Category,
    /// Items in it.
    pub items: i64,
}

impl Category {
    /// The category with this id, if any.
    pub(crate) async fn find(conn: &mut Conn, id: CategoryId) -> Result<Option<Self>, DbError> {
        Ok(db_run!(conn, |c| {
            let query = cat::categories.find(id).select(Self::as_select());
            query.first(c).await.optional()
        })?)
    }

    /// The category whose name key is `key`, if any (one indexed lookup).
    pub(crate) async fn by_key(conn: &mut Conn, key: &str) -> Result<Option<Self>, DbError> {
        if !super::may_be_stored(key) {
            return Ok(None);
        }
        Ok(db_run!(conn, |c| {
            let query = cat::categories
                .filter(cat::name_key.eq(key))
                .select(Self::as_select());
            query.first(c).await.optional()
        })?)
    }

    /// The category named `name` (by name key); `NotFound` otherwise.
    pub(crate) async fn get_by_name(conn: &mut Conn, name: &str) -> Result<Self, DbError> {
        Self::by_key(conn, &inventory_core::name_key(name))
            .await?
            .ok_or_else(|| DbError::NotFound {
                entity: Entity::Category,
                key: Key::Name(name.trim().to_string()),
            })
    }

    /// Inserts a category (already validated); a clash on the name key is `DuplicateName`.
    pub(crate) async fn insert(
        conn: &mut Conn,
        name: &str,
        description: Option<&str>,
        at: NaiveDateTime,
    ) -> Result<Self, DbError> {
        db_run!(conn, |c| {
            let query = diesel::insert_into(cat::categories)
                .values((
                    cat::name.eq(name),
                    cat::name_key.eq(inventory_core::name_key(name)),
                    cat::description.eq(description),
                    cat::created_at.eq(at),
                    cat::updated_at.eq(at),
                ))
                .returning(Self::as_returning());
            query.get_result(c).await
        })
        .map_err(|e| DbError::from(e).unique_means(|| DbError::duplicate(Entity::Category, name)))
    }

    /// Sets name (with its key) and description.
    pub(crate) async fn update(
        conn: &mut Conn,
        id: CategoryId,
        name: &str,
        description: Option<&str>,
        at: NaiveDateTime,
    ) -> Result<Self, DbError> {
        db_run!(conn, |c| {
            let query = diesel::update(cat::categories.find(id))
                .set((
                    cat::name.eq(name),
                    cat::name_key.eq(inventory_core::name_key(name)),
                    cat::description.eq(description),
                    cat::updated_at.eq(at),
                ))
                .returning(Self::as_returning());
            query.get_result(c).await
        })
        .map_err(|e| DbError::from(e).unique_means(|| DbError::duplicate(Entity::Category, name)))
    }

    /// Every row's id, name and name key.
    pub(crate) async fn keys(conn: &mut Conn) -> Result<Vec<(i64, String, String)>, DbError> {
        Ok(db_run!(conn, |c| {
            let query = cat::categories
                .select((cat::id, cat::name, cat::name_key))
                .order(cat::id);
            query.load(c).await
        })?)
    }

    /// The first `limit` names, by name key (one indexed read; no counts).
    pub(crate) async fn names(conn: &mut Conn, limit: i64) -> Result<Vec<String>, DbError> {
        Ok(db_run!(conn, |c| {
            let query = cat::categories
                .select(cat::name)
                .order(cat::name_key)
                .limit(limit);
            query.load(c).await
        })?)
    }

    /// Deletes a category; its items keep existing, without one (`ON DELETE SET NULL`).
    pub(crate) async fn delete(conn: &mut Conn, id: CategoryId) -> Result<usize, DbError> {
        Ok(db_run!(conn, |c| {
            let query = diesel::delete(cat::categories.find(id));
            query.execute(c).await
        })?)
    }

    /// Every category by name, with the number of items in each (kept by triggers on
    /// items: no item is counted here).
    pub(crate) async fn list_with_counts(
        conn: &mut Conn,
    ) -> Result<Vec<CategoryWithCount>, DbError> {
        let all: Vec<(Self, i64)> = db_run!(conn, |c| {
            cat::categories
                .select((Self::as_select(), cat::item_count))
                .order(cat::name_key)
                .load(c)
                .await
        })?;
        Ok(all
            .into_iter()
            .map(|(category, items)| CategoryWithCount { category, items })
            .collect())
    }

    /// Names of the given categories (the ids of one page of items: bounded).
    pub(crate) async fn names_of(
        conn: &mut Conn,
        ids: &[CategoryId],
    ) -> Result<std::collections::HashMap<CategoryId, String>, DbError> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let rows: Vec<(i64, String)> = db_run!(conn, |c| {
            let query = cat::categories
                .filter(cat::id.eq_any(ids.to_vec()))
                .select((cat::id, cat::name));
            query.load(c).await
        })?;
        Ok(rows.into_iter().collect())
    }
}
