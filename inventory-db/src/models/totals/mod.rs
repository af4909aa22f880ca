//! `location_totals`: each location's totals of the items in its whole subtree, per
//! currency (`''` for items without a price), kept by this crate on every write that
//! changes them, so that a location page reads one row per currency whatever the size of
//! the subtree.
//!
//! Every write that adds, removes or changes items, or moves or deletes a location, says
//! what changed as [`Changes`]: amounts added to (or taken from) a location *and each of its
//! ancestors*. [`apply`] reads the ancestor chains of the named locations in one query, adds
//! the amounts up per (location, currency), and writes them in upserts ordered by
//! location id, so that two writers lock the rows they share in the same order. Rows whose
//! subtree holds no item any more are deleted.
//!
//! The tree must not change under an item write between the chains' read and the commit:
//! item writes run in [`crate::TxMode::ItemWrite`] (on PostgreSQL the shared form of the tree
//! lock; on SQLite one writer at a time anyway), and the item rows they change are locked
//! first (see [`crate::models::item::ItemRecord::lock`]) so that the amounts taken off are
//! the ones stored.
//!
//! The value is kept in two parts (`value_hi` × 2^20 + `value_lo` cents), as
//! `item_totals.sql` sums it. On PostgreSQL the parts are `NUMERIC`; on SQLite a part too
//! large for 64 bits becomes a REAL, which [`kept`] reports as inexact, and the caller then
//! adds the items up itself.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use diesel::sql_types::BigInt;
use inventory_core::{ItemId, LocationId};

use crate::conn::{batch, db_load, db_run, Conn, Dialect};
use crate::error::DbError;
use crate::models::item::{ItemRecord, TotalsRow};
use crate::models::location::{ChainRow, LocationRecord};
use crate::models::{Cached, Count};

mod fill;

/// Rows per upsert statement.
const UPSERT_BATCH: usize = 500;

/// The price parts, as `item_totals.sql` cuts them (below 2^20 each after the cut).
const PRICE_CUT: u32 = 20;

/// Amounts of one currency: items, their quantity, their value in two parts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Amounts {
    items: i64,
    quantity: i64,
    hi: i128,
    lo: i128,
}

impl Amounts {
    fn add(&mut self, other: &Amounts, sign: i64) {
        self.items += sign * other.items;
        self.quantity += sign * other.quantity;
        self.hi += i128::from(sign) * other.hi;
        self.lo += i128::from(sign) * other.lo;
    }

    fn is_zero(&self) -> bool {
        *self == Amounts::default()
    }

    /// One item's amounts.
    fn of_item(quantity: i64, price: Option<i64>) -> Amounts {
        let (hi, lo) = price.map_or((0, 0), |p| {
            let q = i128::from(quantity);
            (
                i128::from(p >> PRICE_CUT) * q,
                i128::from(p & ((1 << PRICE_CUT) - 1)) * q,
            )
        });
        Amounts {
            items: 1,
            quantity,
            hi,
            lo,
        }
    }
}

/// What a write changes in the totals: amounts per (location, currency), each to be added
/// to that location and to every one of its ancestors.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    at: BTreeMap<(LocationId, String), Amounts>,
}

impl Changes {
    pub(crate) fn new() -> Self {
        Changes::default()
    }

    /// The item `record` arrives (`sign` 1) at, or leaves (`sign` -1) from, `location`.
    pub(crate) fn item(&mut self, location: LocationId, record: &ItemRecord, sign: i64) {
        let key = (location, record.currency.clone().unwrap_or_default());
        let amounts = Amounts::of_item(record.quantity, record.purchase_price_cents);
        self.at.entry(key).or_default().add(&amounts, sign);
    }

    /// The whole of `totals` (a subtree's kept rows) arrives at or leaves `location`.
    pub(crate) fn subtree(&mut self, location: LocationId, totals: &Kept, sign: i64) {
        for (currency, amounts) in &totals.rows {
            let key = (location, currency.clone());
            self.at.entry(key).or_default().add(amounts, sign);
        }
    }
}

/// Adds `changes` to the kept totals (see the module's doc).
pub(crate) async fn apply(conn: &mut Conn, changes: Changes) -> Result<(), DbError> {
    let mut bases: Vec<LocationId> = changes
        .at
        .iter()
        .filter(|(_, a)| !a.is_zero())
        .map(|((l, _), _)| *l)
        .collect();
    bases.dedup();
    if bases.is_empty() {
        return Ok(());
    }
    let chains = LocationRecord::chains(conn, &bases).await?;
    apply_along(conn, changes, &chains).await
}

/// [`apply`] with the ancestor chains of the changed locations already read (in the same
/// transaction, under the lock that keeps them): `chains` must hold each one's.
pub(crate) async fn apply_along(
    conn: &mut Conn,
    changes: Changes,
    chains: &[ChainRow],
) -> Result<(), DbError> {
    let mut ancestors: BTreeMap<LocationId, Vec<LocationId>> = BTreeMap::new();
    for row in chains {
        ancestors.entry(row.seed).or_default().push(row.id);
    }
    let mut rows: BTreeMap<(LocationId, String), Amounts> = BTreeMap::new();
    for ((base, currency), amounts) in &changes.at {
        for at in ancestors.get(base).into_iter().flatten() {
            let key = (*at, currency.clone());
            rows.entry(key).or_default().add(amounts, 1);
        }
    }
    rows.retain(|_, a| !a.is_zero());
    let rows: Vec<((LocationId, String), Amounts)> = rows.into_iter().collect();
    let mut emptied: Vec<LocationId> = Vec::new();
    for chunk in rows.chunks(UPSERT_BATCH) {
        let query = diesel::sql_query(upsert_sql(chunk));
        let returned: Vec<Count> = db_load!(conn, query)?;
        emptied.extend(returned.into_iter().map(|r| r.n).filter(|&id| id != 0));
    }
    // Only the rows the upserts left without items (the upsert says which): usually none.
    emptied.dedup();
    for chunk in emptied.chunks(UPSERT_BATCH) {
        let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
        let sql = format!(
            "DELETE FROM location_totals WHERE items = 0 AND location_id IN ({})",
            list.join(", ")
        );
        batch(conn, &sql).await?;
    }
    Ok(())
}

/// One upsert of `rows`, returning for each row the location id when the row holds no item
/// any more (to be deleted), else 0. Every value is a number this function formats, and every currency
/// is quoted as an SQL string literal: nothing else goes into the text. A value part beyond
/// 64 bits is a numeric literal on PostgreSQL and becomes a REAL on SQLite (see the module).
fn upsert_sql(rows: &[((LocationId, String), Amounts)]) -> String {
    let mut sql = String::from(
        "INSERT INTO location_totals (location_id, currency, items, quantity, value_hi, value_lo) VALUES ",
    );
    for (i, ((location, currency), a)) in rows.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        let currency = currency.replace('\'', "''");
        let _ = write!(
            sql,
            "({location}, '{currency}', {}, {}, {}, {})",
            a.items, a.quantity, a.hi, a.lo
        );
    }
    sql.push_str(
        " ON CONFLICT (location_id, currency) DO UPDATE SET \
         items = location_totals.items + excluded.items, \
         quantity = location_totals.quantity + excluded.quantity, \
         value_hi = location_totals.value_hi + excluded.value_hi, \
         value_lo = location_totals.value_lo + excluded.value_lo \
         RETURNING CASE WHEN items = 0 THEN location_id ELSE 0 END AS n",
    );
    sql
}

/// A location's kept rows: its subtree's amounts per currency.
#[derive(Debug, Default)]
pub(crate) struct Kept {
    rows: Vec<(String, Amounts)>,
}

/// The kept rows of `location` in the shape of `item_totals.sql`; a value part that is not
/// exact (SQLite past 64 bits) reads as `inexact`, which is not a number.
pub(crate) async fn kept_rows(
    conn: &mut Conn,
    location: LocationId,
) -> Result<Vec<TotalsRow>, DbError> {
    let sql = KEPT.sql(conn);
    Ok(db_run!(conn, |c| {
        let query = Cached(diesel::sql_query(sql).bind::<BigInt, _>(location));
        diesel_async::RunQueryDsl::load(query, c).await
    })?)
}

/// How many items the subtree of `location` holds, by its kept rows.
pub(crate) async fn kept_items(conn: &mut Conn, location: LocationId) -> Result<u64, DbError> {
    let row: Count = db_run!(conn, |c| {
        let query = Cached(
            diesel::sql_query(
                "SELECT CAST(coalesce(sum(items), 0) AS BIGINT) AS n \
                 FROM location_totals WHERE location_id = $1",
            )
            .bind::<BigInt, _>(location),
        );
        diesel_async::RunQueryDsl::get_result(query, c).await
    })?;
    Ok(u64::try_from(row.n).unwrap_or(0))
}

/// The kept totals of `location`, for moving them along with the subtree; `None` when a
/// value part is not exact (SQLite past 64 bits).
pub(crate) async fn kept(conn: &mut Conn, location: LocationId) -> Result<Option<Kept>, DbError> {
    let mut out = Kept::default();
    for row in kept_rows(conn, location).await? {
        let (Ok(hi), Ok(lo)) = (row.hi.parse::<i128>(), row.lo.parse::<i128>()) else {
            return Ok(None);
        };
        let amounts = Amounts {
            items: row.items,
            quantity: row.quantity,
            hi,
            lo,
        };
        out.rows.push((row.currency.unwrap_or_default(), amounts));
    }
    Ok(Some(out))
}

pub(crate) use fill::{fill, fill_from, LoadedRows};

/// Adds the items with ids `first..=last` to the kept totals in one statement: for a write
/// of many new items (an import) that no other writer can interleave with (a tree write).
pub(crate) async fn add_items(conn: &mut Conn, first: ItemId, last: ItemId) -> Result<(), DbError> {
    let sql = ADD_ITEMS.sql(conn);
    db_run!(conn, |c| {
        let query = diesel::sql_query(sql)
            .bind::<BigInt, _>(first)
            .bind::<BigInt, _>(last);
        diesel_async::RunQueryDsl::execute(query, c).await
    })?;
    Ok(())
}

/// Empties the table (before a load replaces the rows it derives from).
pub(crate) async fn clear(conn: &mut Conn) -> Result<(), DbError> {
    batch(conn, "DELETE FROM location_totals").await
}

/// Computes every row again from the items, for a write whose kept amounts cannot be
/// moved exactly (a value part past 64 bits on SQLite).
pub(crate) async fn refill(conn: &mut Conn) -> Result<(), DbError> {
    clear(conn).await?;
    fill(conn).await
}

const KEPT: Dialect = Dialect {
    postgres: "SELECT NULLIF(currency, '') AS currency, items, quantity, \
               CAST(value_hi AS TEXT) AS hi, CAST(value_lo AS TEXT) AS lo \
               FROM location_totals WHERE location_id = $1 ORDER BY currency",
    sqlite: "SELECT NULLIF(currency, '') AS currency, items, quantity, \
             CASE WHEN typeof(value_hi) = 'integer' THEN CAST(value_hi AS TEXT) ELSE 'inexact' END AS hi, \
             CASE WHEN typeof(value_lo) = 'integer' THEN CAST(value_lo AS TEXT) ELSE 'inexact' END AS lo \
             FROM location_totals WHERE location_id = $1 ORDER BY currency",
};

const ADD_ITEMS: Dialect = Dialect {
    postgres: include_str!("../../sql/postgres/add_location_totals.sql"),
    sqlite: include_str!("../../sql/sqlite/add_location_totals.sql"),
};
