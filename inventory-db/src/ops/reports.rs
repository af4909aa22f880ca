//! Reports over the whole inventory: rows per table, and the items' count, quantity and
//! value per currency overall, per house (each root location) and per room (each location
//! directly under a root).
//!
//! The totals come from one recursive query that walks down from every root once, carrying
//! each location's house and room, and sums the items per (house, room, currency) in the
//! engine; a second, plain query names the houses and rooms. Nothing runs once per
//! location. Values are exact: summed in two parts as `item_totals.sql` does, joined in 128
//! bits, and added up here from the rows when SQLite's 64-bit sums overflow.

use std::collections::{BTreeMap, HashMap};

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use inventory_core::{LocationId, LocationType, PATH_SEPARATOR};
use serde::Serialize;

use crate::conn::{db_run, Conn, Dialect, TxMode};
use crate::error::DbError;
use crate::models::item::{CurrencyTotal, ItemSummary};
use crate::ops::admin::{row_counts, TableCount};
use crate::pool::Database;

/// The item totals of one house or room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlaceTotals {
    /// The location.
    pub id: LocationId,
    /// Its name.
    pub name: String,
    /// Its type (HOUSE and ROOM under the default rules).
    pub location_type: LocationType,
    /// Its parent: `None` for a house, the house for a room.
    pub parent_id: Option<LocationId>,
    /// Its full path.
    pub full_path: String,
    /// The items in it and anywhere below it.
    pub totals: ItemSummary,
}

/// What `GET /api/v1/stats` reports: rows per table and item totals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InventoryReport {
    /// Rows per table, by table name.
    pub tables: Vec<TableCount>,
    /// Every item.
    pub overall: ItemSummary,
    /// Per root location, ordered by name.
    pub houses: Vec<PlaceTotals>,
    /// Per location directly under a root, ordered by house, then name.
    pub rooms: Vec<PlaceTotals>,
}

/// One row of `place_totals.sql`.
#[derive(Debug, QueryableByName)]
struct PlaceTotalsRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    house_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    room_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    currency: Option<String>,
    #[diesel(sql_type = BigInt)]
    items: i64,
    #[diesel(sql_type = BigInt)]
    quantity: i64,
    #[diesel(sql_type = Text)]
    hi: String,
    #[diesel(sql_type = Text)]
    lo: String,
}

/// One row of `place_items.sql`.
#[derive(Debug, QueryableByName)]
struct PlaceItemRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    house_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    room_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    currency: Option<String>,
    #[diesel(sql_type = BigInt)]
    quantity: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    purchase_price_cents: Option<i64>,
}

/// One row of `places.sql`.
#[derive(Debug, QueryableByName)]
struct PlaceRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    location_type: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    parent_id: Option<i64>,
    #[diesel(sql_type = Text)]
    name_key: String,
}

const PLACE_TOTALS: Dialect = Dialect {
    postgres: concat!(
        include_str!("../sql/place_walk.sql"),
        include_str!("../sql/postgres/place_totals.sql")
    ),
    sqlite: concat!(
        include_str!("../sql/place_walk.sql"),
        include_str!("../sql/sqlite/place_totals.sql")
    ),
};

const PLACE_ITEMS: &str = concat!(
    include_str!("../sql/place_walk.sql"),
    include_str!("../sql/place_items.sql")
);

/// Count, quantity and value (in 128 bits) per currency, summed as rows come in.
#[derive(Debug, Default)]
struct Sum {
    items: i64,
    quantity: i64,
    value: BTreeMap<String, i128>,
}

impl Sum {
    fn add(&mut self, items: i64, quantity: i64, currency: Option<&str>, cents: i128) {
        self.items += items;
        self.quantity += quantity;
        if let Some(currency) = currency {
            *self.value.entry(currency.to_string()).or_default() += cents;
        }
    }

    fn summary(&self) -> ItemSummary {
        ItemSummary {
            items: self.items,
            total_quantity: self.quantity,
            value: self
                .value
                .iter()
                .map(|(currency, cents)| CurrencyTotal {
                    currency: currency.clone(),
                    cents: *cents,
                    amount: inventory_core::format_amount(*cents),
                })
                .collect(),
        }
    }
}

/// The sums per house and per room, and overall.
#[derive(Debug, Default)]
struct Sums {
    overall: Sum,
    houses: HashMap<LocationId, Sum>,
    rooms: HashMap<LocationId, Sum>,
}

impl Sums {
    fn add(
        &mut self,
        house: Option<LocationId>,
        room: Option<LocationId>,
        items: i64,
        quantity: i64,
        currency: Option<&str>,
        cents: i128,
    ) {
        self.overall.add(items, quantity, currency, cents);
        if let Some(house) = house {
            self.houses
                .entry(house)
                .or_default()
                .add(items, quantity, currency, cents);
        }
        if let Some(room) = room {
            self.rooms
                .entry(room)
                .or_default()
                .add(items, quantity, currency, cents);
        }
    }
}

/// The sums, from the engine's aggregate; from the item rows when SQLite overflows.
async fn sums(conn: &mut Conn) -> Result<Sums, DbError> {
    let sql = PLACE_TOTALS.sql(conn);
    let rows: Result<Vec<PlaceTotalsRow>, DbError> = db_run!(conn, |c| {
        let query = diesel::sql_query(sql);
        query.load(c).await
    })
    .map_err(DbError::from);
    let rows = match rows {
        Ok(rows) => rows,
        // SQLite's sums are 64-bit: past that, add the rows up here.
        Err(DbError::Query(e)) if e.to_string().contains("overflow") => {
            return sums_by_rows(conn).await
        }
        Err(e) => return Err(e),
    };
    let mut sums = Sums::default();
    for row in rows {
        let part = |s: &str| {
            s.parse::<i128>()
                .map_err(|e| DbError::corrupt(format!("a total is not a number ({s}): {e}")))
        };
        let cents = (part(&row.hi)? << 20) + part(&row.lo)?;
        sums.add(
            row.house_id,
            row.room_id,
            row.items,
            row.quantity,
            row.currency.as_deref(),
            cents,
        );
    }
    Ok(sums)
}

async fn sums_by_rows(conn: &mut Conn) -> Result<Sums, DbError> {
    let rows: Vec<PlaceItemRow> = db_run!(conn, |c| {
        let query = diesel::sql_query(PLACE_ITEMS);
        query.load(c).await
    })?;
    let mut sums = Sums::default();
    for row in rows {
        let cents = row
            .purchase_price_cents
            .map_or(0, |p| i128::from(p) * i128::from(row.quantity));
        sums.add(
            row.house_id,
            row.room_id,
            1,
            row.quantity,
            row.currency.as_deref(),
            cents,
        );
    }
    Ok(sums)
}

/// Item totals overall, per house and per room. Run it in a [`TxMode::Snapshot`]
/// transaction, so that the totals and the places agree.
pub async fn place_totals(
    conn: &mut Conn,
) -> Result<(ItemSummary, Vec<PlaceTotals>, Vec<PlaceTotals>), DbError> {
    let mut sums = sums(conn).await?;
    let places: Vec<PlaceRow> = db_run!(conn, |c| {
        let query = diesel::sql_query(include_str!("../sql/places.sql"));
        query.load(c).await
    })?;
    let kind = |row: &PlaceRow| {
        row.location_type
            .parse::<LocationType>()
            .map_err(|e| DbError::corrupt(format!("location {} has a bad type: {e}", row.id)))
    };
    let (mut house_rows, mut room_rows): (Vec<PlaceRow>, Vec<PlaceRow>) =
        places.into_iter().partition(|p| p.parent_id.is_none());
    house_rows.sort_by(|a, b| (&a.name_key, a.id).cmp(&(&b.name_key, b.id)));
    let mut house_names: HashMap<LocationId, (usize, String)> = HashMap::new();
    let mut houses = Vec::with_capacity(house_rows.len());
    for (position, row) in house_rows.into_iter().enumerate() {
        house_names.insert(row.id, (position, row.name.clone()));
        houses.push(PlaceTotals {
            location_type: kind(&row)?,
            totals: sums.houses.remove(&row.id).unwrap_or_default().summary(),
            id: row.id,
            full_path: row.name.clone(),
            name: row.name,
            parent_id: None,
        });
    }
    let house_of = |row: &PlaceRow| row.parent_id.and_then(|p| house_names.get(&p));
    room_rows.sort_by(|a, b| {
        let place = |r: &PlaceRow| house_of(r).map_or(usize::MAX, |(position, _)| *position);
        (place(a), &a.name_key, a.id).cmp(&(place(b), &b.name_key, b.id))
    });
    let mut rooms = Vec::with_capacity(room_rows.len());
    for row in &room_rows {
        let house_name = house_of(row).map_or("", |(_, name)| name.as_str());
        rooms.push(PlaceTotals {
            location_type: kind(row)?,
            totals: sums.rooms.remove(&row.id).unwrap_or_default().summary(),
            id: row.id,
            full_path: format!("{house_name}{PATH_SEPARATOR}{}", row.name),
            name: row.name.clone(),
            parent_id: row.parent_id,
        });
    }
    Ok((sums.overall.summary(), houses, rooms))
}

impl Database {
    /// Rows per table and item totals (count, quantity, value per currency) overall, per
    /// house and per room, from one consistent snapshot.
    pub async fn inventory_report(&self) -> Result<InventoryReport, DbError> {
        self.transaction(TxMode::Snapshot, async |c| {
            let mut tables = row_counts(c).await?;
            tables.sort_by(|a, b| a.table.cmp(&b.table));
            let (overall, houses, rooms) = place_totals(c).await?;
            Ok(InventoryReport {
                tables,
                overall,
                houses,
                rooms,
            })
        })
        .await
    }
}
