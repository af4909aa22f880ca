//! Location operations on a [`Database`]: each takes a pooled connection and runs the
//! backend's query from `store`.

use inventory_core::LocationId;

use crate::error::DbError;
use crate::models::item::ItemsOnDelete;
use crate::models::location::{
    DeleteOutcome, Location, LocationChanges, LocationDetail, LocationFilter, NewLocation, TreeNode,
};
use crate::models::{Page, PageRequest};
use crate::pool::{db_run, Database};

impl Database {
    /// Creates a location after validating it and checking the type rules and sibling names.
    pub async fn create_location(&self, new: &NewLocation) -> Result<Location, DbError> {
        db_run!(self, |conn| store::create(conn, &self.rules, new).await)
    }

    /// One location with its full path, ancestors and child count.
    pub async fn get_location(&self, id: LocationId) -> Result<LocationDetail, DbError> {
        db_run!(self, |conn| store::get(conn, id).await)
    }

    /// Lists locations matching `filter`, ordered by id, one page at a time.
    pub async fn list_locations(
        &self,
        filter: &LocationFilter,
        page: &PageRequest,
    ) -> Result<Page<Location>, DbError> {
        db_run!(self, |conn| store::list(conn, filter, page).await)
    }

    /// Changes name, description or type; a new type is checked against parent and children.
    pub async fn update_location(
        &self,
        id: LocationId,
        changes: &LocationChanges,
    ) -> Result<Location, DbError> {
        db_run!(self, |conn| store::update(conn, &self.rules, id, changes)
            .await)
    }

    /// Moves a location under `new_parent`, or to the root with `None`.
    pub async fn move_location(
        &self,
        id: LocationId,
        new_parent: Option<LocationId>,
    ) -> Result<Location, DbError> {
        db_run!(self, |conn| store::move_to(
            conn,
            &self.rules,
            id,
            new_parent
        )
        .await)
    }

    /// Deletes a location and everything under it; refused (conflict) when items are inside.
    pub async fn delete_location(&self, id: LocationId) -> Result<DeleteOutcome, DbError> {
        self.delete_location_with(id, ItemsOnDelete::Refuse).await
    }

    /// Deletes a location and everything under it, handling the items inside as `mode` says,
    /// all in one transaction.
    pub async fn delete_location_with(
        &self,
        id: LocationId,
        mode: ItemsOnDelete,
    ) -> Result<DeleteOutcome, DbError> {
        db_run!(self, |conn| store::delete(conn, id, mode).await)
    }

    /// The tree under `root` (or every root's tree), at most `max_depth` levels below it.
    pub async fn location_tree(
        &self,
        root: Option<LocationId>,
        max_depth: Option<u32>,
    ) -> Result<Vec<TreeNode>, DbError> {
        db_run!(self, |conn| store::tree(conn, root, max_depth).await)
    }

    /// Resolves a full path such as `My House / Kitchen` (case-insensitive) to an id.
    pub async fn resolve_path(&self, path: &str) -> Result<LocationId, DbError> {
        db_run!(self, |conn| store::resolve_path(conn, path).await)
    }

    /// Resolves a reference as users write it: a numeric id that exists, else a full path.
    pub async fn resolve_location(&self, reference: &str) -> Result<LocationId, DbError> {
        let reference = reference.trim();
        if let Ok(id) = reference.parse::<LocationId>() {
            return db_run!(self, |conn| match store::find_record(conn, id).await? {
                Some(_) => Ok(id),
                None => match store::resolve_path(conn, reference).await {
                    Ok(found) => Ok(found),
                    Err(_) => Err(DbError::location_not_found(id)),
                },
            });
        }
        self.resolve_path(reference).await
    }

    /// Every location as a core row (id, parent, type, name), in one read.
    pub async fn location_rows(&self) -> Result<Vec<inventory_core::LocationRow>, DbError> {
        db_run!(self, |conn| store::all_rows(conn).await)
    }
}
