//! Item, category and search operations on a [`Database`].

use inventory_core::{ItemId, LocationId};

use crate::error::DbError;
use crate::models::item::{
    Category, Item, ItemChanges, ItemFilter, ItemSummary, NewItem, SearchHit,
};
use crate::models::{Page, PageRequest};
use crate::pool::{db_run, Database};

/// A category with how many items use it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CategoryWithCount {
    /// The category.
    #[serde(flatten)]
    pub category: Category,
    /// Items in it.
    pub items: i64,
}

impl Database {
    /// Creates an item in an existing location; a named category must exist.
    pub async fn create_item(&self, new: &NewItem) -> Result<Item, DbError> {
        db_run!(self, |conn| store::create_item(conn, new).await)
    }

    /// One item with its location path and category.
    pub async fn get_item(&self, id: ItemId) -> Result<Item, DbError> {
        db_run!(self, |conn| store::get_item(conn, id).await)
    }

    /// Items of a location (directly, or recursively below it) and/or of a category.
    pub async fn list_items(
        &self,
        filter: &ItemFilter,
        page: &PageRequest,
    ) -> Result<Page<Item>, DbError> {
        db_run!(self, |conn| store::list_items(conn, filter, page).await)
    }

    /// Changes an item's fields (everything re-validated).
    pub async fn update_item(&self, id: ItemId, changes: &ItemChanges) -> Result<Item, DbError> {
        db_run!(self, |conn| store::update_item(conn, id, changes).await)
    }

    /// Moves an item to another location.
    pub async fn move_item(&self, id: ItemId, to: LocationId) -> Result<Item, DbError> {
        db_run!(self, |conn| store::move_item(conn, id, to).await)
    }

    /// Deletes an item; returns it as it was.
    pub async fn delete_item(&self, id: ItemId) -> Result<Item, DbError> {
        db_run!(self, |conn| store::delete_item(conn, id).await)
    }

    /// Count, total quantity and value per currency of a location's items.
    pub async fn item_summary(
        &self,
        location: LocationId,
        recursive: bool,
    ) -> Result<ItemSummary, DbError> {
        db_run!(self, |conn| store::item_summary(conn, location, recursive)
            .await)
    }

    /// Creates a category (names unique case-insensitively).
    pub async fn create_category(
        &self,
        name: &str,
        description: Option<&str>,
    ) -> Result<Category, DbError> {
        db_run!(self, |conn| store::create_category(conn, name, description)
            .await)
    }

    /// Every category, by name, with its item count.
    pub async fn list_categories(&self) -> Result<Vec<CategoryWithCount>, DbError> {
        let rows = db_run!(self, |conn| store::list_categories(conn).await)?;
        Ok(rows
            .into_iter()
            .map(|(category, items)| CategoryWithCount { category, items })
            .collect())
    }

    /// Deletes a category by name; its items stay, without a category.
    pub async fn delete_category(&self, name: &str) -> Result<Category, DbError> {
        db_run!(self, |conn| store::delete_category(conn, name).await)
    }

    /// "Where is my drill?": ranked hits over item and location names, descriptions,
    /// notes and serial numbers, each with its full location path. Every word must match
    /// (as a prefix).
    pub async fn search(&self, text: &str, limit: i64) -> Result<Vec<SearchHit>, DbError> {
        db_run!(self, |conn| store::search(conn, text, limit).await)
    }
}
