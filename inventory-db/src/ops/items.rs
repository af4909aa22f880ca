//! Item and category operations: create, read, list, change, move (one or many), delete,
//! and a location's totals.
//!
//! Item writes run in [`TxMode::ItemWrite`] transactions, category writes in
//! [`TxMode::Write`]: they do not change the tree's shape, so they rely on the database's
//! row-level guarantees — the foreign keys (an item's location must exist; `ON DELETE
//! RESTRICT` keeps a location that holds items), the unique name-key index of categories,
//! the row locks of the items changed — instead of the tree lock. Each item write adds
//! what it changed to the kept location totals (`models::totals`) before it returns.

use std::collections::BTreeMap;

use inventory_core::{
    validate_category_name, validate_description, CategoryId, ItemId, LocationId,
};

use crate::conn::{Conn, TxMode};
use crate::error::{DbError, Entity};
use crate::models::category::{Category, CategoryWithCount};
use crate::models::item::{
    CurrencyTotal, Item, ItemChanges, ItemFilter, ItemRecord, ItemSummary, NewItem,
};
use crate::models::location::LocationRecord;
use crate::models::totals::{self, Changes};
use crate::models::{now, Page, PageRequest};
use crate::ops::locations::full_paths;
use crate::pool::Database;

/// Most items one bulk move may name.
pub const MAX_BULK_ITEMS: usize = 10_000;

/// Attaches location paths and category names (one query each for the whole batch).
pub(crate) async fn with_paths(
    conn: &mut Conn,
    records: Vec<ItemRecord>,
) -> Result<Vec<Item>, DbError> {
    let mut location_ids: Vec<i64> = records.iter().map(|r| r.location_id).collect();
    location_ids.sort_unstable();
    location_ids.dedup();
    let paths = full_paths(conn, &location_ids).await?;
    let mut category_ids: Vec<i64> = records.iter().filter_map(|r| r.category_id).collect();
    category_ids.sort_unstable();
    category_ids.dedup();
    let categories = Category::names_of(conn, &category_ids).await?;
    Ok(records
        .into_iter()
        .map(|r| {
            let path = paths.get(&r.location_id).cloned().unwrap_or_default();
            let category = r.category_id.and_then(|c| categories.get(&c).cloned());
            r.into_item(path, category)
        })
        .collect())
}

async fn with_path(conn: &mut Conn, record: ItemRecord) -> Result<Item, DbError> {
    let id = record.id;
    with_paths(conn, vec![record])
        .await?
        .pop()
        .ok_or_else(|| DbError::not_found(Entity::Item, id))
}

/// The id of the category named `name`; `None` for no (or blank) name.
async fn category_id(conn: &mut Conn, name: Option<&str>) -> Result<Option<CategoryId>, DbError> {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        None => Ok(None),
        Some(n) => Ok(Some(Category::get_by_name(conn, n).await?.id)),
    }
}

/// An item write that lost its location to a concurrent delete: the foreign key refused it.
fn location_gone(e: DbError, location: LocationId) -> DbError {
    e.foreign_key_means(|| DbError::location_not_found(location))
}

/// Creates an item in an existing location; a named category must exist.
pub async fn create(conn: &mut Conn, new: &NewItem) -> Result<Item, DbError> {
    let item = new.validated()?;
    LocationRecord::get(conn, item.location_id, Entity::Location).await?;
    let category = category_id(conn, item.category.as_deref()).await?;
    let record = ItemRecord::insert(conn, &item, category, now())
        .await
        .map_err(|e| location_gone(e, item.location_id))?;
    let mut changes = Changes::new();
    changes.item(record.location_id, &record, 1);
    totals::apply(conn, changes).await?;
    with_path(conn, record).await
}

/// One item with its location path and category.
pub async fn get(conn: &mut Conn, id: ItemId) -> Result<Item, DbError> {
    let record = ItemRecord::get(conn, id).await?;
    with_path(conn, record).await
}

/// Items matching the filter, by id, one page at a time.
pub async fn list(
    conn: &mut Conn,
    filter: &ItemFilter,
    page: &PageRequest,
) -> Result<Page<Item>, DbError> {
    let limit = page.effective_limit()?;
    let after = page.after_id()?;
    if let Some(location) = filter.location_id {
        LocationRecord::get(conn, location, Entity::Location).await?;
    }
    let category = category_id(conn, filter.category.as_deref()).await?;
    let mut records = ItemRecord::page(conn, filter, category, after, limit + 1).await?;
    let next_cursor = PageRequest::cut(&mut records, limit, |r| r.id);
    Ok(Page {
        items: with_paths(conn, records).await?,
        next_cursor,
    })
}

/// Changes an item's fields; the result is validated as a whole.
pub async fn update(conn: &mut Conn, id: ItemId, changes: &ItemChanges) -> Result<Item, DbError> {
    let current = locked(conn, id).await?;
    let before = current.clone();
    let category = match &changes.category {
        Some(name) => category_id(conn, name.as_deref()).await?,
        None => current.category_id,
    };
    let (price, currency) = match &changes.price {
        Some(Some((cents, cur))) => (Some(*cents), Some(cur.clone())),
        Some(None) => (None, None),
        None => (current.purchase_price_cents, current.currency.clone()),
    };
    let merged = NewItem {
        name: changes.name.clone().unwrap_or(current.name),
        location_id: current.location_id,
        quantity: changes.quantity.unwrap_or(current.quantity),
        category: None,
        description: changes.description.clone().unwrap_or(current.description),
        notes: changes.notes.clone().unwrap_or(current.notes),
        serial_number: changes
            .serial_number
            .clone()
            .unwrap_or(current.serial_number),
        purchase_date: changes.purchase_date.unwrap_or(current.purchase_date),
        purchase_price_cents: price,
        currency,
        warranty_expires: changes.warranty_expires.unwrap_or(current.warranty_expires),
    }
    .validated()?;
    let record = ItemRecord::update(conn, id, &merged, category, now()).await?;
    let mut changed = Changes::new();
    changed.item(before.location_id, &before, -1);
    changed.item(record.location_id, &record, 1);
    totals::apply(conn, changed).await?;
    with_path(conn, record).await
}

/// Moves items to another location, all or none: every id must exist.
pub async fn move_many(
    conn: &mut Conn,
    ids: &[ItemId],
    to: LocationId,
) -> Result<Vec<Item>, DbError> {
    if ids.len() > MAX_BULK_ITEMS {
        return Err(DbError::BadParameter {
            field: "ids",
            reason: format!(
                "names {} items; at most {MAX_BULK_ITEMS} move at once",
                ids.len()
            ),
        });
    }
    let mut wanted: Vec<ItemId> = ids.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    LocationRecord::get(conn, to, Entity::TargetLocation).await?;
    let existing = ItemRecord::lock(conn, &wanted).await?;
    if let Some(missing) = wanted
        .iter()
        .find(|id| existing.binary_search_by_key(*id, |r| r.id).is_err())
    {
        return Err(DbError::not_found(Entity::Item, *missing));
    }
    ItemRecord::set_location(conn, &wanted, to, now())
        .await
        .map_err(|e| location_gone(e, to))?;
    let mut changes = Changes::new();
    for record in &existing {
        changes.item(record.location_id, record, -1);
        changes.item(to, record, 1);
    }
    totals::apply(conn, changes).await?;
    let moved = ItemRecord::by_ids(conn, &wanted).await?;
    with_paths(conn, moved).await
}

/// Deletes an item; returns it as it was.
pub async fn delete(conn: &mut Conn, id: ItemId) -> Result<Item, DbError> {
    let record = locked(conn, id).await?;
    let item = with_path(conn, record.clone()).await?;
    if ItemRecord::delete(conn, id).await? == 0 {
        return Err(DbError::not_found(Entity::Item, id));
    }
    let mut changes = Changes::new();
    changes.item(record.location_id, &record, -1);
    totals::apply(conn, changes).await?;
    Ok(item)
}

/// The item's row, locked for the transaction (see [`ItemRecord::lock`]); `NotFound`
/// otherwise.
async fn locked(conn: &mut Conn, id: ItemId) -> Result<ItemRecord, DbError> {
    ItemRecord::lock(conn, &[id])
        .await?
        .pop()
        .ok_or_else(|| DbError::not_found(Entity::Item, id))
}

/// Count, quantity and value per currency of a location's items (and below it when
/// `recursive`), summed exactly in 128 bits.
pub async fn summary(
    conn: &mut Conn,
    location: LocationId,
    recursive: bool,
) -> Result<ItemSummary, DbError> {
    LocationRecord::get(conn, location, Entity::Location).await?;
    totals_of(conn, location, recursive).await
}

/// The summaries of a location's items here and in its whole subtree, as
/// [`summary`] gives each (the location is looked up once).
pub async fn summaries_here_and_below(
    conn: &mut Conn,
    location: LocationId,
) -> Result<(ItemSummary, ItemSummary), DbError> {
    LocationRecord::get(conn, location, Entity::Location).await?;
    let here = totals_of(conn, location, false).await?;
    let below = totals_of(conn, location, true).await?;
    Ok((here, below))
}

/// [`summary`] of a location known to exist.
async fn totals_of(
    conn: &mut Conn,
    location: LocationId,
    recursive: bool,
) -> Result<ItemSummary, DbError> {
    let rows = match ItemRecord::totals(conn, location, recursive).await {
        Ok(rows) => rows,
        // SQLite's sums are 64-bit: past that, add the rows up here.
        Err(DbError::Query(e)) if e.to_string().contains("overflow") => {
            return summary_by_rows(conn, location, recursive).await
        }
        Err(e) => return Err(e),
    };
    let mut summary = ItemSummary::default();
    let mut value: BTreeMap<String, i128> = BTreeMap::new();
    for row in rows {
        summary.items += row.items;
        summary.total_quantity += row.quantity;
        if let Some(currency) = row.currency {
            let (Ok(hi), Ok(lo)) = (row.hi.parse::<i128>(), row.lo.parse::<i128>()) else {
                // A kept total past 64 bits on SQLite: add the rows up here.
                return summary_by_rows(conn, location, recursive).await;
            };
            *value.entry(currency).or_default() += (hi << 20) + lo;
        }
    }
    summary.value = currency_totals(value);
    Ok(summary)
}

async fn summary_by_rows(
    conn: &mut Conn,
    location: LocationId,
    recursive: bool,
) -> Result<ItemSummary, DbError> {
    let counts = ItemRecord::totals(conn, location, recursive).await;
    let mut summary = ItemSummary::default();
    if let Ok(rows) = counts {
        for row in rows {
            summary.items += row.items;
            summary.total_quantity += row.quantity;
        }
    }
    let mut value: BTreeMap<String, i128> = BTreeMap::new();
    for (currency, quantity, price) in ItemRecord::priced(conn, location, recursive).await? {
        if let (Some(currency), Some(price)) = (currency, price) {
            *value.entry(currency).or_default() += i128::from(price) * i128::from(quantity);
        }
    }
    summary.value = currency_totals(value);
    Ok(summary)
}

fn currency_totals(value: BTreeMap<String, i128>) -> Vec<CurrencyTotal> {
    value
        .into_iter()
        .map(|(currency, cents)| CurrencyTotal {
            amount: inventory_core::format_amount(cents),
            currency,
            cents,
        })
        .collect()
}

/// Creates a category (names unique by name key).
pub async fn create_category(
    conn: &mut Conn,
    name: &str,
    description: Option<&str>,
) -> Result<Category, DbError> {
    let name = validate_category_name(name)?;
    let description = validate_description("description", description)?;
    if Category::by_key(conn, &inventory_core::name_key(&name))
        .await?
        .is_some()
    {
        return Err(DbError::duplicate(Entity::Category, &name));
    }
    Category::insert(conn, &name, description.as_deref(), now()).await
}

/// Renames a category or changes its description (`None` leaves a field; `Some(None)` clears the description).
pub async fn update_category(
    conn: &mut Conn,
    id: CategoryId,
    name: Option<&str>,
    description: Option<Option<&str>>,
) -> Result<Category, DbError> {
    let current = Category::find(conn, id)
        .await?
        .ok_or_else(|| DbError::not_found(Entity::Category, id))?;
    let name = match name {
        Some(n) => validate_category_name(n)?,
        None => current.name.clone(),
    };
    let description = match description {
        Some(d) => validate_description("description", d)?,
        None => current.description.clone(),
    };
    if let Some(other) = Category::by_key(conn, &inventory_core::name_key(&name)).await? {
        if other.id != id {
            return Err(DbError::duplicate(Entity::Category, &name));
        }
    }
    Category::update(conn, id, &name, description.as_deref(), now()).await
}

/// Deletes a category by id; its items stay, without a category.
pub async fn delete_category(conn: &mut Conn, id: CategoryId) -> Result<Category, DbError> {
    let category = Category::find(conn, id)
        .await?
        .ok_or_else(|| DbError::not_found(Entity::Category, id))?;
    Category::delete(conn, id).await?;
    Ok(category)
}

impl Database {
    /// Creates an item in an existing location; a named category must exist.
    pub async fn create_item(&self, new: &NewItem) -> Result<Item, DbError> {
        self.transaction(TxMode::ItemWrite, async |c| create(c, new).await)
            .await
    }

    /// One item with its location path and category.
    pub async fn get_item(&self, id: ItemId) -> Result<Item, DbError> {
        self.read(async |c| get(c, id).await).await
    }

    /// Items of a location (directly, or recursively below it) and/or of a category.
    pub async fn list_items(
        &self,
        filter: &ItemFilter,
        page: &PageRequest,
    ) -> Result<Page<Item>, DbError> {
        self.read(async |c| list(c, filter, page).await).await
    }

    /// Changes an item's fields (everything re-validated).
    pub async fn update_item(&self, id: ItemId, changes: &ItemChanges) -> Result<Item, DbError> {
        self.transaction(TxMode::ItemWrite, async |c| update(c, id, changes).await)
            .await
    }

    /// Moves an item to another location.
    pub async fn move_item(&self, id: ItemId, to: LocationId) -> Result<Item, DbError> {
        let mut moved = self.move_items(&[id], to).await?;
        moved
            .pop()
            .ok_or_else(|| DbError::not_found(Entity::Item, id))
    }

    /// Moves several items to one location, all or none.
    pub async fn move_items(&self, ids: &[ItemId], to: LocationId) -> Result<Vec<Item>, DbError> {
        self.transaction(TxMode::ItemWrite, async |c| move_many(c, ids, to).await)
            .await
    }

    /// Deletes an item; returns it as it was.
    pub async fn delete_item(&self, id: ItemId) -> Result<Item, DbError> {
        self.transaction(TxMode::ItemWrite, async |c| delete(c, id).await)
            .await
    }

    /// Count, total quantity and value per currency of a location's items.
    pub async fn item_summary(
        &self,
        location: LocationId,
        recursive: bool,
    ) -> Result<ItemSummary, DbError> {
        self.read(async |c| summary(c, location, recursive).await)
            .await
    }

    /// Creates a category (names unique by name key).
    pub async fn create_category(
        &self,
        name: &str,
        description: Option<&str>,
    ) -> Result<Category, DbError> {
        self.transaction(TxMode::Write, async |c| {
            create_category(c, name, description).await
        })
        .await
    }

    /// One category by id.
    pub async fn get_category(&self, id: CategoryId) -> Result<Category, DbError> {
        self.read(async |c| {
            Category::find(c, id)
                .await?
                .ok_or_else(|| DbError::not_found(Entity::Category, id))
        })
        .await
    }

    /// Renames a category or changes its description.
    pub async fn update_category(
        &self,
        id: CategoryId,
        name: Option<&str>,
        description: Option<Option<&str>>,
    ) -> Result<Category, DbError> {
        self.transaction(TxMode::Write, async |c| {
            update_category(c, id, name, description).await
        })
        .await
    }

    /// Every category, by name, with its item count.
    pub async fn list_categories(&self) -> Result<Vec<CategoryWithCount>, DbError> {
        self.read(async |c| Category::list_with_counts(c).await)
            .await
    }

    /// The first `limit` category names, by name key, without counts: what a form's
    /// suggestions need.
    pub async fn category_names(&self, limit: u32) -> Result<Vec<String>, DbError> {
        self.read(async |c| Category::names(c, i64::from(limit)).await)
            .await
    }

    /// Deletes a category by name; its items stay, without a category.
    pub async fn delete_category(&self, name: &str) -> Result<Category, DbError> {
        self.transaction(TxMode::Write, async |c| {
            let id = Category::get_by_name(c, name).await?.id;
            delete_category(c, id).await
        })
        .await
    }

    /// Deletes a category by id; its items stay, without a category.
    pub async fn delete_category_by_id(&self, id: CategoryId) -> Result<Category, DbError> {
        self.transaction(TxMode::Write, async |c| delete_category(c, id).await)
            .await
    }
}
