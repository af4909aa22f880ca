//! Bulk loading of a generated home (`inventory_core::generate::home_data`) into an empty
//! database: what `cargo xtask bench` measures the library's bulk path with, and a quick
//! way to fill a database for trying things out.
//!
//! The rows go in through the restore's bulk insert (one JSON bind per 5,000 rows), in one
//! tree-write transaction, with the validators of the live write paths applied to every
//! value first and the database's own constraints as the backstop: all or nothing.

use inventory_core::generate::HomeData;
use inventory_core::{name_key, validate_category_name, validate_location_name};

use crate::conn::Conn;
use crate::error::DbError;
use crate::models::category::Category;
use crate::models::item::{ItemRecord, NewItem};
use crate::models::location::LocationRecord;
use crate::models::now;
use crate::models::totals::LoadedRows;
use crate::ops::backup::{insert_rows, reset_sequences, INSERT_BATCH};
use crate::pool::Database;
use crate::Progress;

/// Rows written: locations, categories and items.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct BulkSummary {
    /// Locations inserted.
    pub locations: u64,
    /// Categories inserted.
    pub categories: u64,
    /// Items inserted.
    pub items: u64,
}

impl BulkSummary {
    /// Rows in all.
    pub fn rows(&self) -> u64 {
        self.locations + self.categories + self.items
    }
}

/// A generated value the validators refuse: the data set was not made by `home_data`.
fn invalid(what: String) -> DbError {
    DbError::BadParameter {
        field: "data",
        reason: what,
    }
}

/// Inserts `data` (ids kept) into empty tables, batch by batch, then moves the id
/// sequences past the largest ids; hands back what the kept totals need of the rows. Run
/// it in a bulk transaction.
pub(crate) async fn load(
    conn: &mut Conn,
    data: &HomeData,
    progress: Progress<'_>,
) -> Result<(BulkSummary, LoadedRows), DbError> {
    if let Some(t) = crate::ops::admin::row_counts(conn)
        .await?
        .into_iter()
        .find(|t| t.rows > 0)
    {
        return Err(DbError::NotEmpty {
            table: t.table,
            rows: t.rows,
        });
    }
    let at = now();
    let total = (data.locations.len() + data.categories.len() + data.items.len()) as u64;
    let mut done = 0u64;
    let mut loaded = LoadedRows::default();
    progress(0, total);
    for chunk in data.locations.chunks(INSERT_BATCH) {
        let rows = chunk
            .iter()
            .map(|l| {
                let name = validate_location_name(&l.name)
                    .map_err(|e| invalid(format!("location {}: {e}", l.id)))?;
                loaded.location(l.id, l.parent_id);
                Ok(LocationRecord {
                    id: l.id,
                    name_key: name_key(&name),
                    name,
                    description: l.description.clone(),
                    location_type: l.location_type.as_str().to_string(),
                    parent_id: l.parent_id,
                    created_at: at,
                    updated_at: at,
                })
            })
            .collect::<Result<Vec<_>, DbError>>()?;
        insert_rows(conn, &rows).await?;
        done += rows.len() as u64;
        progress(done, total);
    }
    let categories = data
        .categories
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let name = validate_category_name(c).map_err(|e| invalid(format!("category: {e}")))?;
            Ok(Category {
                id: i as i64 + 1,
                name_key: name_key(&name),
                name,
                description: None,
                created_at: at,
                updated_at: at,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    insert_rows(conn, &categories).await?;
    done += categories.len() as u64;
    for chunk in data.items.chunks(INSERT_BATCH) {
        let rows = chunk
            .iter()
            .map(|i| {
                let item = NewItem {
                    name: i.name.clone(),
                    location_id: i.location_id,
                    quantity: i.quantity,
                    category: None,
                    description: None,
                    notes: i.notes.clone(),
                    serial_number: i.serial_number.clone(),
                    purchase_date: None,
                    purchase_price_cents: i.purchase_price_cents,
                    currency: i.currency.clone(),
                    warranty_expires: None,
                }
                .validated()
                .map_err(|e| invalid(format!("item {}: {e}", i.id)))?;
                loaded.item(
                    i.id,
                    item.location_id,
                    item.currency.as_deref(),
                    item.quantity,
                    item.purchase_price_cents,
                );
                Ok(ItemRecord {
                    id: i.id,
                    name: item.name,
                    description: item.description,
                    quantity: item.quantity,
                    location_id: item.location_id,
                    category_id: i.category.map(|c| c as i64 + 1),
                    serial_number: item.serial_number,
                    purchase_date: None,
                    purchase_price_cents: item.purchase_price_cents,
                    currency: item.currency,
                    warranty_expires: None,
                    notes: item.notes,
                    created_at: at,
                    updated_at: at,
                })
            })
            .collect::<Result<Vec<_>, DbError>>()?;
        insert_rows(conn, &rows).await?;
        done += rows.len() as u64;
        progress(done, total);
    }
    reset_sequences(conn).await?;
    let summary = BulkSummary {
        locations: data.locations.len() as u64,
        categories: categories.len() as u64,
        items: data.items.len() as u64,
    };
    Ok((summary, loaded))
}

impl Database {
    /// Loads a generated home into this database, which must hold no rows
    /// (`DbError::NotEmpty` otherwise): every location, category and item with its id, in
    /// one transaction, through the bulk insert. For benchmarks and trying things out.
    pub async fn bulk_load(
        &self,
        data: &HomeData,
        progress: Progress<'_>,
    ) -> Result<BulkSummary, DbError> {
        self.bulk_transaction(async |c| load(c, data, progress).await)
            .await
    }
}
