//! The fill: every location's kept totals computed from the items and the tree at once,
//! after a load that wrote the tables directly (a restore, a copy, a bulk load) or where
//! kept amounts cannot be moved exactly.
//!
//! The tree (ids and parents) and the items' amounts are read a page at a time into
//! compact arrays, then walked once from the leaves up: each location's amounts (its own
//! items plus its children's sums) are written, then added to its parent's. One statement
//! that carries every location's items up its chain of ancestors and sums the rows at each
//! does the same work once per (location, ancestor) pair, with a sort or a hash of all of
//! them: at 10^6 locations and items it took 17 s on SQLite and 19–44 s on PostgreSQL.
//!
//! Memory: about 20 bytes per location (32 while the tree is read) and 24 per item
//! while the fill runs.

use diesel::prelude::*;
use diesel::sql_types::Text;
use inventory_core::item::{PRICE_MAX_CENTS, QUANTITY_MAX};
use inventory_core::LocationId;

use super::Amounts;
use crate::config::Backend;
use crate::conn::{db_load, db_run, Conn};
use crate::error::DbError;
use crate::models::location::{pages_of, Keyed, PageFn, PageFuture, TREE_PAGE};
use crate::schema::items::dsl as i;
use crate::schema::locations::dsl as l;

/// Rows per INSERT of the fill (one JSON bind each).
const FILL_BATCH: usize = 5_000;

/// Computes every location's totals from the items and writes them into the table, which
/// must be empty ([`super::clear`]). Fails on a tree with a cycle.
pub(crate) async fn fill(conn: &mut Conn) -> Result<(), DbError> {
    let loaded = LoadedRows::read(conn).await?;
    fill_from(conn, loaded).await
}

/// [`fill`] from the rows a load wrote, as it saw them, instead of reading them back.
pub(crate) async fn fill_from(conn: &mut Conn, loaded: LoadedRows) -> Result<(), DbError> {
    let forest = loaded.into_forest()?;
    write(conn, &forest).await
}

/// Writes the totals of every location of `forest`.
async fn write(conn: &mut Conn, forest: &Forest) -> Result<(), DbError> {
    let mut walk = forest.walk();
    let mut rows = Vec::with_capacity(FILL_BATCH);
    loop {
        rows.clear();
        let more = walk.next_rows(&mut rows, FILL_BATCH);
        if !rows.is_empty() {
            insert(conn, forest, &rows).await?;
        }
        if !more {
            break;
        }
    }
    let unreached = forest.ids.len() - walk.reached;
    if unreached > 0 {
        return Err(DbError::corrupt(format!(
            "{unreached} location(s) are not below any root: their parents form a cycle"
        )));
    }
    Ok(())
}

/// The rows a load writes, as far as the kept totals need them (each location's parent,
/// each item's location and amounts), gathered as they go in, so that the totals are
/// computed without reading the tables back (on PostgreSQL that read of 2·10^6 rows took
/// 5–8 s of a load). Every location must come before the first item.
#[derive(Debug, Default)]
pub(crate) struct LoadedRows {
    locations: Vec<ParentRow>,
    builder: Option<ForestBuilder>,
    /// The first row the totals cannot take (reported by [`LoadedRows::into_forest`]).
    bad: Option<String>,
}

impl LoadedRows {
    /// A location written with its parent.
    pub(crate) fn location(&mut self, id: LocationId, parent: Option<LocationId>) {
        match self.builder {
            None => self.locations.push((id, parent)),
            Some(_) => {
                self.bad
                    .get_or_insert_with(|| format!("location {id} came after the items"));
            }
        }
    }

    /// An item written at `location`.
    pub(crate) fn item(
        &mut self,
        id: i64,
        location: LocationId,
        currency: Option<&str>,
        quantity: i64,
        price: Option<i64>,
    ) {
        let locations = &mut self.locations;
        let builder = self
            .builder
            .get_or_insert_with(|| ForestBuilder::new(std::mem::take(locations)));
        if let Err(e) = builder.item(location, currency, quantity, price) {
            self.bad.get_or_insert_with(|| format!("item {id}: {e}"));
        }
    }

    /// The rows of `conn`'s database, read a page at a time: every location, then every
    /// item.
    async fn read(conn: &mut Conn) -> Result<LoadedRows, DbError> {
        const PARENTS: PageFn<ParentRow> = parent_page;
        const ITEMS: PageFn<ItemRow> = item_page;
        let mut loaded = LoadedRows::default();
        pages_of(conn, PARENTS, i64::MIN, i64::MAX, &mut |page| {
            loaded.locations.extend(page);
            Ok(())
        })
        .await?;
        pages_of(conn, ITEMS, i64::MIN, i64::MAX, &mut |page| {
            for (id, location, currency, quantity, price) in page {
                loaded.item(id, location, currency.as_deref(), quantity, price);
            }
            Ok(())
        })
        .await?;
        Ok(loaded)
    }

    fn into_forest(self) -> Result<Forest, DbError> {
        if let Some(bad) = self.bad {
            return Err(DbError::corrupt(bad));
        }
        let builder = match self.builder {
            Some(builder) => builder,
            None => ForestBuilder::new(self.locations),
        };
        Ok(builder.finish())
    }
}

/// One item's part of the totals, 24 bytes: where it is (a position in [`Forest::ids`]),
/// its currency (an index into [`Forest::currencies`]), quantity and price (negative for
/// none; the validators keep prices at or above zero and quantities within 32 bits).
#[derive(Clone, Copy, Debug)]
struct ItemAmount {
    price: i64,
    at: u32,
    quantity: u32,
    currency: u16,
}

/// The tree as arrays indexed by a location's position in `ids`, with each location's
/// children and items.
#[derive(Debug, Default)]
pub(super) struct Forest {
    /// Every location id, ascending.
    ids: Vec<LocationId>,
    /// Positions of the locations without a parent (or whose parent does not exist).
    roots: Vec<u32>,
    /// `children[child_start[p]..child_start[p + 1]]`: the children of `p`.
    child_start: Vec<u32>,
    children: Vec<u32>,
    /// `items[item_start[p]..item_start[p + 1]]`: the items at `p` (the items sorted by
    /// position).
    item_start: Vec<u32>,
    items: Vec<ItemAmount>,
    /// The currencies met, `""` (no price) among them.
    currencies: Vec<String>,
}

/// `(id, parent_id)` of a location.
type ParentRow = (i64, Option<i64>);

impl Keyed for ParentRow {
    fn key(&self) -> i64 {
        self.0
    }
}

/// `(id, location_id, currency, quantity, purchase_price_cents)` of an item.
type ItemRow = (i64, i64, Option<String>, i64, Option<i64>);

impl Keyed for ItemRow {
    fn key(&self) -> i64 {
        self.0
    }
}

fn parent_page(conn: &mut Conn, after: i64, upto: i64) -> PageFuture<'_, ParentRow> {
    Box::pin(async move {
        let query = l::locations
            .select((l::id, l::parent_id))
            .filter(l::id.gt(after))
            .filter(l::id.le(upto))
            .order(l::id)
            .limit(TREE_PAGE);
        Ok(db_load!(conn, query)?)
    })
}

fn item_page(conn: &mut Conn, after: i64, upto: i64) -> PageFuture<'_, ItemRow> {
    Box::pin(async move {
        let query = i::items
            .select((
                i::id,
                i::location_id,
                i::currency,
                i::quantity,
                i::purchase_price_cents,
            ))
            .filter(i::id.gt(after))
            .filter(i::id.le(upto))
            .order(i::id)
            .limit(TREE_PAGE);
        Ok(db_load!(conn, query)?)
    })
}

impl Forest {
    /// The walk that yields every location's totals.
    pub(super) fn walk(&self) -> Walk<'_> {
        Walk {
            forest: self,
            stack: Vec::new(),
            next_root: 0,
            reached: 0,
        }
    }
}

/// Builds a [`Forest`]: the locations first, then the items one by one.
#[derive(Debug)]
pub(super) struct ForestBuilder {
    forest: Forest,
}

/// [`ForestBuilder::new`]'s mark of a location without a parent in the tree.
const NO_PARENT: u32 = u32::MAX;

impl ForestBuilder {
    /// The tree of `locations` (ids and parents, in any order).
    pub(super) fn new(mut locations: Vec<ParentRow>) -> ForestBuilder {
        locations.sort_unstable_by_key(|(id, _)| *id);
        locations.dedup_by_key(|(id, _)| *id);
        let ids: Vec<LocationId> = locations.iter().map(|(id, _)| *id).collect();
        let parents: Vec<u32> = locations
            .iter()
            .map(|(_, parent)| {
                parent
                    .and_then(|p| ids.binary_search(&p).ok())
                    .map_or(NO_PARENT, |at| at as u32)
            })
            .collect();
        drop(locations);
        let child_start = starts(ids.len(), parents.iter().filter(|&&p| p != NO_PARENT));
        let mut next = child_start.clone();
        let mut children = vec![0u32; child_start[ids.len()] as usize];
        let mut roots = Vec::new();
        for (at, &parent) in parents.iter().enumerate() {
            if parent == NO_PARENT {
                roots.push(at as u32);
            } else {
                children[next[parent as usize] as usize] = at as u32;
                next[parent as usize] += 1;
            }
        }
        ForestBuilder {
            forest: Forest {
                ids,
                roots,
                child_start,
                children,
                item_start: Vec::new(),
                items: Vec::new(),
                currencies: vec![String::new()],
            },
        }
    }

    /// Adds an item at `location`. Refuses one at a location that is not in the tree, and
    /// a quantity or price outside what the validators let through.
    pub(super) fn item(
        &mut self,
        location: LocationId,
        currency: Option<&str>,
        quantity: i64,
        price: Option<i64>,
    ) -> Result<(), String> {
        let Ok(at) = self.forest.ids.binary_search(&location) else {
            return Err(format!("its location {location} does not exist"));
        };
        let quantity = u32::try_from(quantity)
            .ok()
            .filter(|&q| i64::from(q) <= QUANTITY_MAX)
            .ok_or_else(|| format!("quantity {quantity} is out of range"))?;
        let price = match price {
            Some(p) if (0..=PRICE_MAX_CENTS).contains(&p) => p,
            Some(p) => return Err(format!("price {p} is out of range")),
            None => -1,
        };
        let currency = currency.unwrap_or_default();
        let code = match self.forest.currencies.iter().position(|c| c == currency) {
            Some(code) => code,
            None => {
                self.forest.currencies.push(currency.to_string());
                self.forest.currencies.len() - 1
            }
        };
        let currency = u16::try_from(code).map_err(|_| "too many currencies".to_string())?;
        self.forest.items.push(ItemAmount {
            price,
            at: at as u32,
            quantity,
            currency,
        });
        Ok(())
    }

    /// The forest, its items grouped by location (sorted in place).
    pub(super) fn finish(mut self) -> Forest {
        let forest = &mut self.forest;
        forest.items.sort_unstable_by_key(|item| item.at);
        forest.item_start = starts(forest.ids.len(), forest.items.iter().map(|item| &item.at));
        self.forest
    }
}

/// Where the elements of each of `n` positions begin in a list sorted by position, given
/// each element's position: `n + 1` offsets, the last one the list's length.
fn starts<'a>(n: usize, positions: impl Iterator<Item = &'a u32>) -> Vec<u32> {
    let mut start = vec![0u32; n + 1];
    for &p in positions {
        start[p as usize + 1] += 1;
    }
    for k in 1..start.len() {
        start[k] += start[k - 1];
    }
    start
}

/// A location's totals, one currency: what the fill writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct TotalRow {
    /// Position of the location in [`Forest::ids`].
    at: u32,
    /// Index into [`Forest::currencies`].
    currency: u16,
    amounts: Amounts,
}

/// A location on the walk's path from a root, with the sums of its children done so far.
#[derive(Debug)]
struct Frame {
    at: u32,
    next_child: u32,
    sums: Vec<(u16, Amounts)>,
}

/// A depth-first walk of a [`Forest`] that yields each location's totals once all of its
/// children's are done (post-order), with memory for one path from a root.
#[derive(Debug)]
pub(super) struct Walk<'f> {
    forest: &'f Forest,
    stack: Vec<Frame>,
    next_root: usize,
    /// Locations the walk has entered.
    pub(super) reached: usize,
}

impl Walk<'_> {
    /// Appends the next rows to `out` until it holds at least `max` (a location's rows are
    /// appended together); false once the walk is over.
    pub(super) fn next_rows(&mut self, out: &mut Vec<TotalRow>, max: usize) -> bool {
        let f = self.forest;
        while out.len() < max {
            let Some(top) = self.stack.last_mut() else {
                let Some(&root) = f.roots.get(self.next_root) else {
                    return false;
                };
                self.next_root += 1;
                self.enter(root);
                continue;
            };
            if top.next_child < f.child_start[top.at as usize + 1] {
                let child = f.children[top.next_child as usize];
                top.next_child += 1;
                self.enter(child);
                continue;
            }
            let Some(done) = self.stack.pop() else {
                break;
            };
            let mut sums = done.sums;
            let at = done.at as usize;
            for item in &f.items[f.item_start[at] as usize..f.item_start[at + 1] as usize] {
                let price = (item.price >= 0).then_some(item.price);
                add(
                    &mut sums,
                    item.currency,
                    &Amounts::of_item(i64::from(item.quantity), price),
                );
            }
            sums.sort_unstable_by(|a, b| {
                f.currencies[a.0 as usize].cmp(&f.currencies[b.0 as usize])
            });
            out.extend(sums.iter().map(|(currency, amounts)| TotalRow {
                at: done.at,
                currency: *currency,
                amounts: *amounts,
            }));
            if let Some(parent) = self.stack.last_mut() {
                for (currency, amounts) in &sums {
                    add(&mut parent.sums, *currency, amounts);
                }
            }
        }
        true
    }

    fn enter(&mut self, at: u32) {
        self.reached += 1;
        self.stack.push(Frame {
            at,
            next_child: self.forest.child_start[at as usize],
            sums: Vec::new(),
        });
    }
}

/// Adds `amounts` of `currency` to `sums`.
fn add(sums: &mut Vec<(u16, Amounts)>, currency: u16, amounts: &Amounts) {
    match sums.iter_mut().find(|(c, _)| *c == currency) {
        Some((_, sum)) => sum.add(amounts, 1),
        None => sums.push((currency, *amounts)),
    }
}

const INSERT: crate::conn::Dialect = crate::conn::Dialect {
    postgres:
        "INSERT INTO location_totals (location_id, currency, items, quantity, value_hi, value_lo) \
               SELECT (r ->> 0)::bigint, r ->> 1, (r ->> 2)::bigint, (r ->> 3)::bigint, \
                      (r ->> 4)::numeric, (r ->> 5)::numeric \
               FROM jsonb_array_elements($1::jsonb) AS rows (r)",
    sqlite:
        "INSERT INTO location_totals (location_id, currency, items, quantity, value_hi, value_lo) \
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 \
             FROM json_each($1)",
};

/// Inserts `rows` with one statement, their values as one JSON array bound to it.
async fn insert(conn: &mut Conn, forest: &Forest, rows: &[TotalRow]) -> Result<(), DbError> {
    let sqlite = conn.backend() == Backend::Sqlite;
    let json = rows_json(forest, rows, sqlite);
    let sql = INSERT.sql(conn);
    db_run!(conn, |c| {
        let query = crate::models::Cached(diesel::sql_query(sql).bind::<Text, _>(json));
        diesel_async::RunQueryDsl::execute(query, c).await
    })?;
    Ok(())
}

/// `rows` as a JSON array of `[location_id, currency, items, quantity, value_hi,
/// value_lo]`. A value part is an exact integer; on SQLite one past 64 bits is written as
/// a floating-point number, which SQLite stores as a REAL (read as inexact, see the module
/// of the kept totals).
fn rows_json(forest: &Forest, rows: &[TotalRow], sqlite: bool) -> String {
    use std::fmt::Write as _;
    let part = |v: i128| match i64::try_from(v) {
        Ok(v) => v.to_string(),
        Err(_) if sqlite => format!("{:e}", v as f64),
        Err(_) => v.to_string(),
    };
    let mut json = String::with_capacity(rows.len() * 48);
    json.push('[');
    for (k, row) in rows.iter().enumerate() {
        if k > 0 {
            json.push(',');
        }
        let a = &row.amounts;
        // Currencies are the stored codes: serde_json quotes them, whatever they hold.
        let currency = serde_json::Value::from(forest.currencies[row.currency as usize].as_str());
        let _ = write!(
            json,
            "[{},{currency},{},{},{},{}]",
            forest.ids[row.at as usize],
            a.items,
            a.quantity,
            part(a.hi),
            part(a.lo)
        );
    }
    json.push(']');
    json
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    /// An item of a test: its location, currency (`""`: no price), quantity and price.
    type ItemSpec = (LocationId, &'static str, i64, Option<i64>);

    /// Every location's totals by a walk up each item's chain of ancestors: the statement
    /// the fill replaces, as the model.
    fn naive(
        locations: &[ParentRow],
        items: &[ItemSpec],
    ) -> BTreeMap<(LocationId, String), Amounts> {
        let parent: BTreeMap<i64, Option<i64>> = locations.iter().copied().collect();
        let mut out: BTreeMap<(LocationId, String), Amounts> = BTreeMap::new();
        for (at, currency, quantity, price) in items {
            let mut up = Some(*at);
            while let Some(id) = up {
                out.entry((id, (*currency).to_string()))
                    .or_default()
                    .add(&Amounts::of_item(*quantity, *price), 1);
                up = parent
                    .get(&id)
                    .copied()
                    .flatten()
                    .filter(|p| parent.contains_key(p));
            }
        }
        out
    }

    fn walked(
        locations: Vec<ParentRow>,
        items: &[ItemSpec],
        batch: usize,
    ) -> (BTreeMap<(LocationId, String), Amounts>, usize, usize) {
        let n = locations.len();
        let mut builder = ForestBuilder::new(locations);
        for (at, currency, quantity, price) in items {
            let currency = Some(*currency).filter(|c| !c.is_empty());
            builder.item(*at, currency, *quantity, *price).unwrap();
        }
        let forest = builder.finish();
        let mut walk = forest.walk();
        let mut rows = Vec::new();
        let mut out = BTreeMap::new();
        let mut count = 0;
        loop {
            rows.clear();
            let more = walk.next_rows(&mut rows, batch);
            assert!(rows.len() < batch + forest.currencies.len());
            for row in &rows {
                count += 1;
                let key = (
                    forest.ids[row.at as usize],
                    forest.currencies[row.currency as usize].clone(),
                );
                assert!(
                    out.insert(key, row.amounts).is_none(),
                    "a row written twice"
                );
            }
            if !more {
                break;
            }
        }
        (out, count, n - walk.reached)
    }

    #[test]
    fn a_house_sums_its_rooms_and_boxes_per_currency() {
        let locations = vec![
            (1, None),
            (2, Some(1)),
            (3, Some(2)),
            (4, Some(1)),
            (9, None),
        ];
        let items = [
            (3, "EUR", 2, Some(1_000)),
            (3, "", 1, None),
            (2, "EUR", 1, Some(PRICE_MAX_CENTS)),
            (4, "USD", 5, Some(7)),
        ];
        let (rows, count, unreached) = walked(locations.clone(), &items, 2);
        assert_eq!(rows, naive(&locations, &items));
        assert_eq!(count, rows.len());
        assert_eq!(unreached, 0);
        let house = rows[&(1, "EUR".to_string())];
        assert_eq!((house.items, house.quantity), (2, 3));
        assert!(
            !rows.contains_key(&(9, String::new())),
            "an empty house has no row"
        );
    }

    #[test]
    fn locations_in_a_cycle_are_not_reached() {
        let locations = vec![(1, None), (2, Some(3)), (3, Some(2))];
        let (_, _, unreached) = walked(locations, &[(2, "", 1, None)], 10);
        assert_eq!(unreached, 2);
    }

    #[test]
    fn an_item_at_a_missing_location_is_refused() {
        let mut builder = ForestBuilder::new(vec![(1, None)]);
        let err = builder.item(5, None, 1, None).unwrap_err();
        assert!(err.contains("location 5 does not exist"), "{err}");
        assert!(builder.item(1, None, -1, None).is_err());
        assert!(builder.item(1, None, QUANTITY_MAX + 1, None).is_err());
        assert!(builder.item(1, Some("EUR"), 1, Some(-5)).is_err());
        assert!(builder
            .item(1, Some("EUR"), 1, Some(PRICE_MAX_CENTS + 1))
            .is_err());
        assert!(builder
            .item(1, Some("EUR"), QUANTITY_MAX, Some(PRICE_MAX_CENTS))
            .is_ok());
    }

    #[test]
    fn value_parts_past_64_bits_are_reals_on_sqlite_and_exact_on_postgres() {
        let mut builder = ForestBuilder::new(vec![(1, None)]);
        builder.item(1, Some("EUR"), 1, Some(1)).unwrap();
        let forest = builder.finish();
        let amounts = Amounts {
            items: 1,
            quantity: 1,
            hi: i128::from(i64::MAX) * 4,
            lo: 5,
        };
        let rows = [TotalRow {
            at: 0,
            currency: 1,
            amounts,
        }];
        assert_eq!(
            rows_json(&forest, &rows, false),
            "[[1,\"EUR\",1,1,36893488147419103228,5]]"
        );
        assert_eq!(
            rows_json(&forest, &rows, true),
            "[[1,\"EUR\",1,1,3.6893488147419103e19,5]]"
        );
    }

    /// A random forest: each location's parent is an earlier one or none, its ids a
    /// permutation that runs against the tree as often as with it.
    fn forests() -> impl Strategy<Value = (Vec<ParentRow>, Vec<ItemSpec>)> {
        (1usize..60)
            .prop_flat_map(|n| {
                (
                    proptest::collection::vec(proptest::option::weighted(0.8, 0usize..n), n),
                    proptest::collection::vec(
                        (
                            0usize..n,
                            prop_oneof![Just(""), Just("EUR"), Just("USD")],
                            0i64..1_000_000_000,
                            0i64..=PRICE_MAX_CENTS,
                        ),
                        0..80,
                    ),
                )
            })
            .prop_map(|(parents, items)| {
                let id = |k: usize| ((k * 7919) % 10_007) as i64 + 1;
                let locations = parents
                    .iter()
                    .enumerate()
                    .map(|(k, p)| (id(k), p.filter(|&p| p < k).map(id)))
                    .collect();
                let items = items
                    .into_iter()
                    .map(|(at, currency, quantity, price)| {
                        let price = (!currency.is_empty()).then_some(price);
                        (id(at), currency, quantity, price)
                    })
                    .collect();
                (locations, items)
            })
    }

    proptest! {
        #[test]
        fn the_walk_matches_the_chain_sums((locations, items) in forests(), batch in 1usize..7) {
            let (rows, count, unreached) = walked(locations.clone(), &items, batch);
            prop_assert_eq!(unreached, 0);
            prop_assert_eq!(count, rows.len());
            prop_assert_eq!(rows, naive(&locations, &items));
        }
    }
}
