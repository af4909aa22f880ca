//! `items`: the row, its queries, and the shapes handed out (item, summary, search hit).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Double, Nullable, Text};
use diesel_async::RunQueryDsl;
use inventory_core::{CategoryId, ItemId, LocationId};
use serde::Serialize;

use crate::conn::{db_run, Conn, Dialect};
use crate::error::{DbError, Entity};
use crate::models::{lower, Cached};
use crate::ops::search::MAX_HITS;
use crate::schema::items::{self, dsl as it};

/// A row of `items` (what queries read, restores insert and backups write).
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = items, treat_none_as_default_value = false)]
pub(crate) struct ItemRecord {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub quantity: i64,
    pub location_id: i64,
    pub category_id: Option<i64>,
    pub serial_number: Option<String>,
    pub purchase_date: Option<NaiveDate>,
    pub purchase_price_cents: Option<i64>,
    pub currency: Option<String>,
    pub warranty_expires: Option<NaiveDate>,
    pub notes: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The start of a condition "`<column>` is a location in the subtree of the bound id":
/// `IN (…)` over a recursive walk down from it. Append the bound root id, then
/// [`SUBTREE_END`]. The text is the same on both engines.
const SUBTREE_START: &str =
    " IN (WITH RECURSIVE sub (id, depth) AS (SELECT id, 0 FROM locations WHERE id = ";
/// The end of [`SUBTREE_START`].
const SUBTREE_END: &str =
    " UNION ALL SELECT l.id, s.depth + 1 FROM locations l JOIN sub s ON l.parent_id = s.id \
     WHERE s.depth < 100000) SELECT id FROM sub)";

/// The type of [`location_filter`]'s condition.
type InLocation = diesel::expression::SqlLiteral<
    Bool,
    diesel::expression::UncheckedBind<
        diesel::expression::SqlLiteral<Bool>,
        <i64 as diesel::expression::AsExpression<BigInt>>::Expression,
    >,
>;

/// The condition "in `location`" (or "in its subtree") as a query filter.
fn location_filter(location: LocationId, recursive: bool) -> InLocation {
    let (start, end) = if recursive {
        (format!("items.location_id{SUBTREE_START}"), SUBTREE_END)
    } else {
        ("items.location_id = ".to_string(), "")
    };
    sql::<Bool>(&start).bind::<BigInt, _>(location).sql(end)
}

/// `location_id = $1`, or "in the subtree of $1", for statements written as text.
fn location_condition(recursive: bool) -> String {
    if recursive {
        format!("location_id{SUBTREE_START}$1{SUBTREE_END}")
    } else {
        "location_id = $1".to_string()
    }
}

/// One row of `search.sql`.
#[derive(Debug, QueryableByName)]
pub(crate) struct SearchRow {
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Double)]
    pub rank: f64,
}

/// How many rows matching a search are ranked at most, per hit asked for (per kind of row;
/// on SQLite as many more whose name matches): the bound that keeps a common word about as
/// fast as a rare one. Ranking costs some microseconds per candidate.
const SEARCH_CANDIDATES_PER_HIT: i64 = 10;
/// The fewest candidates ranked, however few hits are asked for.
const MIN_SEARCH_CANDIDATES: i64 = 100;

/// Search words as PostgreSQL's `to_tsquery('simple', …)` text: each a prefix, all required.
pub(crate) fn tsquery_text(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("{w}:*"))
        .collect::<Vec<_>>()
        .join(" & ")
}

/// Search words as FTS5 phrases: each a prefix, all required.
pub(crate) fn fts_phrases(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{w}\"*"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// FTS5 `phrases` (of [`fts_phrases`]) restricted to the name column.
pub(crate) fn fts_in_name(phrases: &str) -> String {
    format!("name : ({phrases})")
}

const SEARCH: Dialect = Dialect {
    postgres: include_str!("../sql/postgres/search.sql"),
    sqlite: include_str!("../sql/sqlite/search.sql"),
};

/// One row of `item_totals.sql`: one currency's count, quantity and value, the value in
/// two parts (`hi` × 2^20 + `lo` cents) so that no engine multiplies past 64 bits.
#[derive(Debug, QueryableByName)]
pub(crate) struct TotalsRow {
    #[diesel(sql_type = Nullable<Text>)]
    pub currency: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub items: i64,
    #[diesel(sql_type = BigInt)]
    pub quantity: i64,
    #[diesel(sql_type = Text)]
    pub hi: String,
    #[diesel(sql_type = Text)]
    pub lo: String,
}

const TOTALS: Dialect = Dialect {
    postgres: include_str!("../sql/postgres/item_totals.sql"),
    sqlite: include_str!("../sql/sqlite/item_totals.sql"),
};

impl ItemRecord {
    /// The public shape, given its location's path and its category's name.
    pub(crate) fn into_item(self, location_path: String, category: Option<String>) -> Item {
        Item {
            id: self.id,
            name: self.name,
            description: self.description,
            quantity: self.quantity,
            location_id: self.location_id,
            location_path,
            category,
            serial_number: self.serial_number,
            purchase_date: self.purchase_date,
            purchase_price_cents: self.purchase_price_cents,
            currency: self.currency,
            warranty_expires: self.warranty_expires,
            notes: self.notes,
            created_at: super::utc(self.created_at),
            updated_at: super::utc(self.updated_at),
        }
    }

    /// The row with this id, if any.
    pub(crate) async fn find(conn: &mut Conn, id: ItemId) -> Result<Option<Self>, DbError> {
        Ok(db_run!(conn, |c| {
            let query = it::items.find(id).select(Self::as_select());
            query.first(c).await.optional()
        })?)
    }

    /// The row with this id; `NotFound` otherwise.
    pub(crate) async fn get(conn: &mut Conn, id: ItemId) -> Result<Self, DbError> {
        Self::find(conn, id)
            .await?
            .ok_or_else(|| DbError::not_found(Entity::Item, id))
    }

    /// Inserts a validated item (see [`NewItem::validated`]).
    pub(crate) async fn insert(
        conn: &mut Conn,
        item: &NewItem,
        category_id: Option<CategoryId>,
        at: NaiveDateTime,
    ) -> Result<Self, DbError> {
        Ok(db_run!(conn, |c| {
            diesel::insert_into(it::items)
                .values((
                    item,
                    it::category_id.eq(category_id),
                    it::created_at.eq(at),
                    it::updated_at.eq(at),
                ))
                .returning(Self::as_returning())
                .get_result(c)
                .await
        })?)
    }

    /// Overwrites every field of an item with validated values (the location too: moves
    /// go through [`ItemRecord::set_location`], so pass the current one).
    pub(crate) async fn update(
        conn: &mut Conn,
        id: ItemId,
        item: &NewItem,
        category_id: Option<CategoryId>,
        at: NaiveDateTime,
    ) -> Result<Self, DbError> {
        Ok(db_run!(conn, |c| {
            diesel::update(it::items.find(id))
                .set((item, it::category_id.eq(category_id), it::updated_at.eq(at)))
                .returning(Self::as_returning())
                .get_result(c)
                .await
        })?)
    }

    /// Moves items to `to`; returns how many rows changed.
    pub(crate) async fn set_location(
        conn: &mut Conn,
        ids: &[ItemId],
        to: LocationId,
        at: NaiveDateTime,
    ) -> Result<usize, DbError> {
        Ok(db_run!(conn, |c| {
            let query = diesel::update(it::items.filter(it::id.eq_any(ids.to_vec())))
                .set((it::location_id.eq(to), it::updated_at.eq(at)));
            query.execute(c).await
        })?)
    }

    /// Deletes one item; returns rows deleted.
    pub(crate) async fn delete(conn: &mut Conn, id: ItemId) -> Result<usize, DbError> {
        Ok(db_run!(conn, |c| {
            let query = diesel::delete(it::items.find(id));
            query.execute(c).await
        })?)
    }

    /// The rows among `ids` that exist, by id (callers bound the list: a bulk move).
    pub(crate) async fn by_ids(conn: &mut Conn, ids: &[ItemId]) -> Result<Vec<Self>, DbError> {
        Ok(db_run!(conn, |c| {
            let query = it::items
                .filter(it::id.eq_any(ids.to_vec()))
                .select(Self::as_select())
                .order(it::id);
            query.load(c).await
        })?)
    }

    /// The rows among `ids` that exist, by id, locked for this transaction on PostgreSQL
    /// (`FOR UPDATE`, taken in id order): a write that changes them takes their amounts off
    /// the kept totals, which must be the amounts stored. SQLite has one writer at a time.
    pub(crate) async fn lock(conn: &mut Conn, ids: &[ItemId]) -> Result<Vec<Self>, DbError> {
        match conn {
            Conn::Postgres(c) => {
                let c: &mut diesel_async::AsyncPgConnection = c;
                let query = it::items
                    .filter(it::id.eq_any(ids.to_vec()))
                    .select(Self::as_select())
                    .order(it::id)
                    .for_update();
                Ok(query.load(c).await?)
            }
            Conn::Sqlite(_) => Self::by_ids(conn, ids).await,
        }
    }

    /// One page of items matching `filter` (the category resolved to its id), by id,
    /// after `after_id`.
    pub(crate) async fn page(
        conn: &mut Conn,
        filter: &ItemFilter,
        category_id: Option<CategoryId>,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<Self>, DbError> {
        let pattern = filter
            .name_contains
            .as_deref()
            .and_then(super::like_pattern);
        if pattern.as_deref().is_some_and(|p| !super::may_be_stored(p)) {
            return Ok(Vec::new());
        }
        let updated_since = filter.updated_since.map(|t| t.naive_utc());
        Ok(db_run!(conn, |c| {
            let mut query = it::items
                .select(Self::as_select())
                .filter(it::id.gt(after_id))
                .into_boxed();
            match (filter.location_id, filter.recursive) {
                (Some(loc), false) => query = query.filter(it::location_id.eq(loc)),
                (Some(loc), true) => query = query.filter(location_filter(loc, true)),
                (None, _) => {}
            }
            if filter.category.is_some() {
                query = query.filter(it::category_id.eq(category_id));
            }
            if let Some(pattern) = &pattern {
                query = query.filter(lower(it::name).like(pattern.clone()).escape('\\'));
            }
            if let Some(t) = updated_since {
                query = query.filter(it::updated_at.ge(t));
            }
            query.order(it::id).limit(limit).load(c).await
        })?)
    }

    /// Count, quantity and value per currency of the items in `location` (and below it
    /// when `recursive`), summed by the engine.
    pub(crate) async fn totals(
        conn: &mut Conn,
        location: LocationId,
        recursive: bool,
    ) -> Result<Vec<TotalsRow>, DbError> {
        if recursive {
            // The subtree's totals are kept (see `models::totals`).
            return crate::models::totals::kept_rows(conn, location).await;
        }
        let text = TOTALS
            .sql(conn)
            .replace("$CONDITION", &location_condition(recursive));
        Ok(db_run!(conn, |c| {
            // One of two texts (here, or the subtree).
            let query = Cached(diesel::sql_query(text).bind::<BigInt, _>(location));
            query.load(c).await
        })?)
    }

    /// `(currency, quantity, price)` of every priced item in `location` (and below it when
    /// `recursive`), for adding up totals that the engine cannot hold in 64 bits.
    pub(crate) async fn priced(
        conn: &mut Conn,
        location: LocationId,
        recursive: bool,
    ) -> Result<Vec<(Option<String>, i64, Option<i64>)>, DbError> {
        Ok(db_run!(conn, |c| {
            let query = it::items
                .filter(it::purchase_price_cents.is_not_null())
                .filter(location_filter(location, recursive))
                .select((it::currency, it::quantity, it::purchase_price_cents));
            query.load(c).await
        })?)
    }

    /// Moves every item of the subtree of `root` to `to`.
    pub(crate) async fn move_subtree_items(
        conn: &mut Conn,
        root: LocationId,
        to: LocationId,
        at: NaiveDateTime,
    ) -> Result<usize, DbError> {
        Ok(db_run!(conn, |c| {
            // The walk comes first, so that the parameters appear in the order they are
            // bound (SQLite numbers `$N` by order of appearance, whatever N is).
            let query = diesel::sql_query(
                "WITH RECURSIVE sub (id, depth) AS (SELECT id, 0 FROM locations WHERE id = $1 \
                 UNION ALL SELECT l.id, s.depth + 1 FROM locations l JOIN sub s ON l.parent_id = s.id \
                 WHERE s.depth < 100000) \
                 UPDATE items SET location_id = $2, updated_at = $3 WHERE location_id IN (SELECT id FROM sub)",
            )
            .bind::<BigInt, _>(root)
            .bind::<BigInt, _>(to)
            .bind::<diesel::sql_types::Timestamp, _>(at);
            query.execute(c).await
        })?)
    }

    /// Deletes every item of the subtree of `root`.
    pub(crate) async fn delete_subtree_items(
        conn: &mut Conn,
        root: LocationId,
    ) -> Result<usize, DbError> {
        Ok(db_run!(conn, |c| {
            let query = diesel::sql_query(format!(
                "DELETE FROM items WHERE location_id{SUBTREE_START}$1{SUBTREE_END}"
            ))
            .bind::<BigInt, _>(root);
            query.execute(c).await
        })?)
    }

    /// Ranked full-text hits over items and locations; every word must match, as a prefix.
    /// Hits are ranked within a bounded candidate set (ten per hit asked for, between 100 and
    /// [`MAX_HITS`], per kind of row, and on SQLite as many more whose name matches), so a word that matches a
    /// hundred thousand rows costs what a rare one does.
    pub(crate) async fn search_rows(
        conn: &mut Conn,
        words: &[String],
        limit: i64,
    ) -> Result<Vec<SearchRow>, DbError> {
        let candidates = (limit * SEARCH_CANDIDATES_PER_HIT).clamp(MIN_SEARCH_CANDIDATES, MAX_HITS);
        let sql = SEARCH.sql(conn);
        Ok(match conn.backend() {
            crate::Backend::Postgres => {
                let text = tsquery_text(words);
                db_run!(conn, |c| {
                    let query = Cached(
                        diesel::sql_query(sql)
                            .bind::<Text, _>(text)
                            .bind::<BigInt, _>(candidates)
                            .bind::<BigInt, _>(candidates)
                            .bind::<BigInt, _>(limit),
                    );
                    query.load(c).await
                })?
            }
            crate::Backend::Sqlite => {
                let phrases = fts_phrases(words);
                let in_name = fts_in_name(&phrases);
                db_run!(conn, |c| {
                    let query = Cached(
                        diesel::sql_query(sql)
                            .bind::<Text, _>(phrases)
                            .bind::<BigInt, _>(candidates)
                            .bind::<Text, _>(in_name)
                            .bind::<BigInt, _>(candidates)
                            .bind::<BigInt, _>(limit),
                    );
                    query.load(c).await
                })?
            }
        })
    }

    /// Name and location of each item among `ids` (one page of search hits: bounded).
    pub(crate) async fn names_and_locations(
        conn: &mut Conn,
        ids: &[ItemId],
    ) -> Result<Vec<(ItemId, String, LocationId)>, DbError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(db_run!(conn, |c| {
            let query = it::items.filter(it::id.eq_any(ids.to_vec())).select((
                it::id,
                it::name,
                it::location_id,
            ));
            query.load(c).await
        })?)
    }
}

/// An item with where it is: the JSON shape of PRODUCT §4.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Item {
    /// Primary key.
    pub id: ItemId,
    /// Name.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// How many (0 or more).
    pub quantity: i64,
    /// The location it is in.
    pub location_id: LocationId,
    /// That location's full path.
    pub location_path: String,
    /// Category name, if any.
    pub category: Option<String>,
    /// Serial number.
    pub serial_number: Option<String>,
    /// Purchase date.
    pub purchase_date: Option<NaiveDate>,
    /// Price paid for one, in cents of `currency`.
    pub purchase_price_cents: Option<i64>,
    /// ISO 4217 code of the price.
    pub currency: Option<String>,
    /// When the warranty ends.
    pub warranty_expires: Option<NaiveDate>,
    /// Free notes.
    pub notes: Option<String>,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

/// What to create (and, validated, what an insert or update writes). Text fields are
/// trimmed and validated; empty optional text means none.
#[derive(Clone, Debug, PartialEq, Eq, Insertable, AsChangeset)]
#[diesel(table_name = items, treat_none_as_default_value = false, treat_none_as_null = true)]
pub struct NewItem {
    /// Name.
    pub name: String,
    /// Where it is.
    pub location_id: LocationId,
    /// How many; 1 is the usual default.
    pub quantity: i64,
    /// Category name; it must exist (written as its id).
    #[diesel(skip_insertion, skip_update)]
    pub category: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// Serial number.
    pub serial_number: Option<String>,
    /// Purchase date.
    pub purchase_date: Option<NaiveDate>,
    /// Price of one in cents, with its currency (both or neither).
    pub purchase_price_cents: Option<i64>,
    /// Currency of the price.
    pub currency: Option<String>,
    /// Warranty end.
    pub warranty_expires: Option<NaiveDate>,
}

impl NewItem {
    /// An item with just a name and a place (quantity 1).
    pub fn new(name: impl Into<String>, location_id: LocationId) -> Self {
        NewItem {
            name: name.into(),
            location_id,
            quantity: 1,
            category: None,
            description: None,
            notes: None,
            serial_number: None,
            purchase_date: None,
            purchase_price_cents: None,
            currency: None,
            warranty_expires: None,
        }
    }

    /// The item as it would be stored: every field checked by the core's validators
    /// (the rules of every write path: create, update, import, restore), text trimmed,
    /// empty optional text dropped, the currency upper-cased. The category is checked as
    /// a name; whether it exists is the caller's business.
    pub fn validated(&self) -> Result<NewItem, DbError> {
        inventory_core::validate_dates(self.purchase_date, self.warranty_expires)?;
        let (purchase_price_cents, currency) =
            inventory_core::validate_price(self.purchase_price_cents, self.currency.as_deref())?;
        Ok(NewItem {
            name: inventory_core::validate_item_name(&self.name)?,
            location_id: self.location_id,
            quantity: inventory_core::validate_quantity(self.quantity)?,
            category: self
                .category
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(inventory_core::validate_category_name)
                .transpose()?,
            description: inventory_core::validate_description(
                "description",
                self.description.as_deref(),
            )?,
            notes: inventory_core::validate_description("notes", self.notes.as_deref())?,
            serial_number: inventory_core::validate_serial(self.serial_number.as_deref())?,
            purchase_date: self.purchase_date,
            purchase_price_cents,
            currency,
            warranty_expires: self.warranty_expires,
        })
    }
}

impl From<&ItemRecord> for NewItem {
    fn from(r: &ItemRecord) -> Self {
        NewItem {
            name: r.name.clone(),
            location_id: r.location_id,
            quantity: r.quantity,
            category: None,
            description: r.description.clone(),
            notes: r.notes.clone(),
            serial_number: r.serial_number.clone(),
            purchase_date: r.purchase_date,
            purchase_price_cents: r.purchase_price_cents,
            currency: r.currency.clone(),
            warranty_expires: r.warranty_expires,
        }
    }
}

/// What to change; `None` leaves a field, `Some(None)` clears an optional one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemChanges {
    /// New name.
    pub name: Option<String>,
    /// New quantity.
    pub quantity: Option<i64>,
    /// New category (by name) or none.
    pub category: Option<Option<String>>,
    /// New description.
    pub description: Option<Option<String>>,
    /// New notes.
    pub notes: Option<Option<String>>,
    /// New serial number.
    pub serial_number: Option<Option<String>>,
    /// New purchase date.
    pub purchase_date: Option<Option<NaiveDate>>,
    /// New price and currency, or none.
    pub price: Option<Option<(i64, String)>>,
    /// New warranty end.
    pub warranty_expires: Option<Option<NaiveDate>>,
}

impl ItemChanges {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        *self == ItemChanges::default()
    }
}

/// Which items to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemFilter {
    /// Only items in this location...
    pub location_id: Option<LocationId>,
    /// ...or anywhere below it too.
    pub recursive: bool,
    /// Only items of this category (by name).
    pub category: Option<String>,
    /// Only names containing this text (case-insensitive).
    pub name_contains: Option<String>,
    /// Only items changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
}

/// Total value in one currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CurrencyTotal {
    /// ISO 4217 code.
    pub currency: String,
    /// Sum of price × quantity, in cents; exact (128 bits), however large.
    pub cents: i128,
    /// The same as an amount, e.g. `"1234.50"`.
    pub amount: String,
}

/// Counts and value of the items in a location (and below, when recursive).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ItemSummary {
    /// Item rows.
    pub items: i64,
    /// Sum of quantities.
    pub total_quantity: i64,
    /// Value (price × quantity) per currency; items without a price count for nothing.
    pub value: Vec<CurrencyTotal>,
}

/// What happens to the items inside a location that is deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ItemsOnDelete {
    /// Refuse the delete when the subtree holds items (nothing is lost silently).
    #[default]
    Refuse,
    /// Move them to the deleted location's parent.
    MoveToParent,
    /// Delete them too.
    Delete,
}

/// A search hit: PRODUCT §4.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SearchHit {
    /// `item` or `location`.
    pub kind: &'static str,
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Where it is: an item's location path, or a location's own full path.
    pub path: String,
    /// Relevance, higher is better.
    pub rank: f64,
}
