//! `locations`: the row, its queries, and the shapes the library hands out.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use diesel_async::RunQueryDsl;
use inventory_core::{LocationId, LocationType};
use serde::Serialize;

use crate::conn::{db_load, db_run, Conn, Dialect, TxMode};
use crate::error::{DbError, Entity};
use crate::models::{id_list, Cached, Count, Stamp, UNLIMITED_DEPTH};
use crate::pool::Database;
use crate::schema::locations::{self, dsl as l};

/// A row of `locations` (what queries read, restores insert and backups write).
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable, QueryableByName)]
#[diesel(table_name = locations, treat_none_as_default_value = false)]
pub(crate) struct LocationRecord {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub location_type: String,
    pub parent_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// `inventory_core::name_key(name)`; unique among siblings.
    pub name_key: String,
}

/// One row of `chains.sql`: an ancestor (or the seed itself, depth 0) of a seed location.
#[derive(Debug, QueryableByName)]
pub(crate) struct ChainRow {
    #[diesel(sql_type = BigInt)]
    pub seed: i64,
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub location_type: String,
    #[diesel(sql_type = Integer)]
    pub depth: i32,
}

const CHAINS: Dialect = Dialect {
    postgres: include_str!("../sql/postgres/chains.sql"),
    sqlite: include_str!("../sql/sqlite/chains.sql"),
};

/// A stored type's position in [`LocationType::ALL`] (`NULL` for any other text), as SQL
/// text (a macro, so that [`outline_walk!`] can build on it).
macro_rules! type_position_sql {
    () => {
        "CASE location_type WHEN 'HOUSE' THEN 0 WHEN 'ROOM' THEN 1 \
         WHEN 'CONTAINER' THEN 2 WHEN 'SHELF' THEN 3 END"
    };
}

/// A stored type that [`type_position_sql!`] does not know, as stored (`NULL` otherwise).
macro_rules! odd_type_sql {
    () => {
        "CASE WHEN location_type IN ('HOUSE', 'ROOM', 'CONTAINER', 'SHELF') \
         THEN NULL ELSE location_type END"
    };
}

/// The walk of the `.sql` file `$file` (a recursive `sub` carrying every column and the
/// depth) with the columns of an [`OutlineRow`] selected from it.
macro_rules! outline_walk {
    ($file:literal) => {
        concat!(
            include_str!($file),
            "\nSELECT id, name, description, ",
            type_position_sql!(),
            " AS kind, ",
            odd_type_sql!(),
            " AS odd_kind, parent_id, created_at, updated_at, name_key, depth FROM sub"
        )
    };
}

/// The sibling-name index's parent expression, written as in the index so that both
/// engines use it.
fn parent_key() -> diesel::expression::SqlLiteral<BigInt> {
    sql::<BigInt>("COALESCE(parent_id, 0)")
}

impl LocationRecord {
    /// The row's type.
    pub(crate) fn kind(&self) -> Result<LocationType, DbError> {
        self.location_type.parse().map_err(|e| {
            DbError::corrupt(format!(
                "location {} has a bad type in the database: {e}",
                self.id
            ))
        })
    }

    /// The public shape, given the full path.
    pub(crate) fn into_location(self, full_path: String) -> Result<Location, DbError> {
        Ok(Location {
            location_type: self.kind()?,
            id: self.id,
            name: self.name,
            description: self.description,
            parent_id: self.parent_id,
            full_path,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }

    /// The row with this id, if any.
    pub(crate) async fn find(conn: &mut Conn, id: LocationId) -> Result<Option<Self>, DbError> {
        Ok(db_run!(conn, |c| {
            let query = l::locations.find(id).select(Self::as_select());
            query.first(c).await.optional()
        })?)
    }

    /// The row with this id and how many children it has, from one statement;
    /// `NotFound` otherwise.
    pub(crate) async fn get_with_child_count(
        conn: &mut Conn,
        id: LocationId,
    ) -> Result<(Self, i64), DbError> {
        diesel::alias!(locations as children: Children);
        let found: Option<(Self, Option<i64>)> = db_run!(conn, |c| {
            let count = children
                .filter(children.field(l::parent_id).eq(id))
                .count()
                .single_value();
            let query = l::locations.find(id).select((Self::as_select(), count));
            query.first(c).await.optional()
        })?;
        found
            .map(|(record, count)| (record, count.unwrap_or(0)))
            .ok_or_else(|| DbError::not_found(Entity::Location, id))
    }

    /// The row with this id; `NotFound` naming it as `entity` otherwise.
    pub(crate) async fn get(
        conn: &mut Conn,
        id: LocationId,
        entity: Entity,
    ) -> Result<Self, DbError> {
        Self::find(conn, id)
            .await?
            .ok_or_else(|| DbError::not_found(entity, id))
    }

    /// The child of `parent` (`None`: the root) whose name key is `key`.
    pub(crate) async fn child_by_key(
        conn: &mut Conn,
        parent: Option<LocationId>,
        key: &str,
    ) -> Result<Option<Self>, DbError> {
        if !super::may_be_stored(key) {
            return Ok(None);
        }
        Ok(db_run!(conn, |c| {
            let query = l::locations
                .select(Self::as_select())
                .filter(parent_key().eq(parent.unwrap_or(0)))
                .filter(l::name_key.eq(key));
            query.first(c).await.optional()
        })?)
    }

    /// Inserts a new location; its id comes from the table's sequence.
    pub(crate) async fn insert(
        conn: &mut Conn,
        name: &str,
        name_key: &str,
        description: Option<&str>,
        kind: LocationType,
        parent: Option<LocationId>,
        at: NaiveDateTime,
    ) -> Result<Self, DbError> {
        Ok(db_run!(conn, |c| {
            let query = diesel::insert_into(l::locations)
                .values((
                    l::name.eq(name),
                    l::name_key.eq(name_key),
                    l::description.eq(description),
                    l::location_type.eq(kind.as_str()),
                    l::parent_id.eq(parent),
                    l::created_at.eq(at),
                    l::updated_at.eq(at),
                ))
                .returning(Self::as_returning());
            query.get_result(c).await
        })?)
    }

    /// Sets name (with its key), description and type.
    pub(crate) async fn update_attributes(
        conn: &mut Conn,
        id: LocationId,
        name: &str,
        name_key: &str,
        description: Option<&str>,
        kind: LocationType,
        at: NaiveDateTime,
    ) -> Result<Self, DbError> {
        Ok(db_run!(conn, |c| {
            let query = diesel::update(l::locations.find(id))
                .set((
                    l::name.eq(name),
                    l::name_key.eq(name_key),
                    l::description.eq(description),
                    l::location_type.eq(kind.as_str()),
                    l::updated_at.eq(at),
                ))
                .returning(Self::as_returning());
            query.get_result(c).await
        })?)
    }

    /// Re-parents one row.
    pub(crate) async fn set_parent(
        conn: &mut Conn,
        id: LocationId,
        parent: Option<LocationId>,
        at: NaiveDateTime,
    ) -> Result<Self, DbError> {
        Ok(db_run!(conn, |c| {
            let query = diesel::update(l::locations.find(id))
                .set((l::parent_id.eq(parent), l::updated_at.eq(at)))
                .returning(Self::as_returning());
            query.get_result(c).await
        })?)
    }

    /// Deletes a row and, by `ON DELETE CASCADE`, everything below it; returns rows deleted here.
    pub(crate) async fn delete(conn: &mut Conn, id: LocationId) -> Result<usize, DbError> {
        Ok(db_run!(conn, |c| {
            let query = diesel::delete(l::locations.find(id));
            query.execute(c).await
        })?)
    }

    /// How many locations the subtree of `id` holds, itself included.
    pub(crate) async fn subtree_size(conn: &mut Conn, id: LocationId) -> Result<u64, DbError> {
        let row: Count = db_run!(conn, |c| {
            let query = Cached(
                diesel::sql_query(include_str!("../sql/subtree_size.sql")).bind::<BigInt, _>(id),
            );
            query.get_result(c).await
        })?;
        Ok(u64::try_from(row.n).unwrap_or(0))
    }

    /// The distinct types of a location's children.
    pub(crate) async fn child_types(
        conn: &mut Conn,
        id: LocationId,
    ) -> Result<Vec<String>, DbError> {
        Ok(db_run!(conn, |c| {
            let query = l::locations
                .filter(l::parent_id.eq(id))
                .select(l::location_type)
                .distinct();
            query.load(c).await
        })?)
    }

    /// One page of rows matching `filter`, by id, after `after_id`; `limit` rows at most.
    pub(crate) async fn page(
        conn: &mut Conn,
        filter: &LocationFilter,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<Self>, DbError> {
        // Compared with the name key: case-insensitive for every script, and, with the
        // parent, answered from the sibling-name index (parent, name key) without reading
        // a row that does not match — a filter over thousands of top-level locations
        // would otherwise read one table page per location.
        let pattern = filter
            .name_contains
            .as_deref()
            .and_then(|text| super::like_pattern(&inventory_core::name_key(text)));
        if pattern.as_deref().is_some_and(|p| !super::may_be_stored(p)) {
            return Ok(Vec::new());
        }
        let updated_since = filter.updated_since.map(|t| t.naive_utc());
        Ok(db_run!(conn, |c| {
            let mut query = l::locations
                .select(Self::as_select())
                .filter(l::id.gt(after_id))
                .into_boxed();
            if let Some(t) = filter.location_type {
                query = query.filter(l::location_type.eq(t.as_str()));
            }
            // With a name, the parent goes as the sibling-name index's own expression (and
            // only so: with the plain column the planner walks the parent index instead),
            // so that the index (parent, name key) answers the whole filter. Ids start at
            // 1, so `COALESCE(parent_id, 0) = 0` is "a root".
            let indexed_parent = match (filter.roots_only, filter.parent_id) {
                (true, None) => Some(0),
                (false, Some(p)) if p > 0 => Some(p),
                _ => None,
            };
            match indexed_parent.filter(|_| pattern.is_some()) {
                Some(p) => {
                    query = query.filter(
                        diesel::dsl::sql::<diesel::sql_types::Bool>("COALESCE(parent_id, 0) = ")
                            .bind::<BigInt, _>(p),
                    );
                }
                None => {
                    if filter.roots_only {
                        query = query.filter(l::parent_id.is_null());
                    }
                    if let Some(p) = filter.parent_id {
                        query = query.filter(l::parent_id.eq(p));
                    }
                }
            }
            if let Some(pattern) = &pattern {
                query = query.filter(l::name_key.like(pattern.clone()).escape('\\'));
            }
            if let Some(t) = updated_since {
                query = query.filter(l::updated_at.ge(t));
            }
            query.order(l::id).limit(limit).load(c).await
        })?)
    }

    /// The ancestor chain of each id (itself at depth 0, then parent, ...), from one
    /// recursive query; the ids travel as one JSON bind, however many there are.
    pub(crate) async fn chains(
        conn: &mut Conn,
        ids: &[LocationId],
    ) -> Result<Vec<ChainRow>, DbError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = CHAINS.sql(conn);
        Ok(db_run!(conn, |c| {
            let query = Cached(diesel::sql_query(sql).bind::<Text, _>(id_list(ids)));
            query.load(c).await
        })?)
    }

    /// A location and its descendants down to `max_depth` levels (`None`: every root's
    /// tree), in no particular order. Every root's whole tree is every row of the table,
    /// read by id a page at a time without a walk: a plain scan is an order of magnitude
    /// faster than a recursive walk over the whole table, and the program orders the rows
    /// itself. A depth-limited view of every root is a walk, which reads only those levels.
    pub(crate) async fn subtree(
        conn: &mut Conn,
        root: Option<LocationId>,
        max_depth: Option<u32>,
    ) -> Result<Vec<OutlineRow>, DbError> {
        let depth = max_depth.map_or(UNLIMITED_DEPTH, |d| {
            i32::try_from(d).unwrap_or(i32::MAX).min(UNLIMITED_DEPTH)
        });
        if let (None, Some(_)) = (root, max_depth) {
            let query = Cached(
                diesel::sql_query(outline_walk!("../sql/forest.sql")).bind::<Integer, _>(depth),
            );
            return Ok(db_load!(conn, query)?);
        }
        let Some(id) = root else {
            let mut all: Vec<OutlineRow> = Vec::new();
            pages_of(conn, outline_page, i64::MIN, i64::MAX, &mut |page| {
                all.extend(page);
                Ok(())
            })
            .await?;
            return Ok(all);
        };
        let query = Cached(
            diesel::sql_query(outline_walk!("../sql/subtree.sql"))
                .bind::<BigInt, _>(id)
                .bind::<Integer, _>(depth),
        );
        Ok(db_load!(conn, query)?)
    }

    /// Every row's tree columns (id, parent, type, name, name key), by id, in one read.
    pub(crate) async fn tree_columns(conn: &mut Conn) -> Result<Vec<TreeColumns>, DbError> {
        let mut all = Vec::new();
        Self::each_tree_columns(conn, |page| {
            all.extend(page);
            Ok(())
        })
        .await?;
        Ok(all)
    }

    /// Every row's tree columns, by id, handed to `f` a page at a time: a whole-table read
    /// whose memory beyond what `f` keeps is one page (the engines' result buffers would
    /// otherwise hold the whole table at once, as text).
    pub(crate) async fn each_tree_columns(
        conn: &mut Conn,
        mut f: impl FnMut(Vec<TreeColumns>) -> Result<(), DbError> + Send,
    ) -> Result<(), DbError> {
        pages_of(conn, tree_columns_page, i64::MIN, i64::MAX, &mut f).await
    }
}

/// A row of a whole-table read, which pages by its id.
pub(crate) trait Keyed {
    /// The row's id.
    fn key(&self) -> i64;
}

impl Keyed for TreeColumns {
    fn key(&self) -> i64 {
        self.0
    }
}

impl Keyed for OutlineRow {
    fn key(&self) -> i64 {
        self.id
    }
}

/// The rows of one page of a whole-table read: ids in `(after, upto]`, by id,
/// [`TREE_PAGE`] at most.
pub(crate) type PageFn<R> = for<'c> fn(&'c mut Conn, i64, i64) -> PageFuture<'c, R>;

/// What a [`PageFn`] returns.
pub(crate) type PageFuture<'c, R> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<R>, DbError>> + Send + 'c>>;

/// [`PageFn`] of every column (`OutlineRow`). Columns by position (`Queryable`): a row
/// read by name looks every column up by its name, which costs a quarter of a whole-table
/// read; the type as its position, which needs no allocation.
pub(crate) fn outline_page(conn: &mut Conn, after: i64, upto: i64) -> PageFuture<'_, OutlineRow> {
    Box::pin(async move {
        let query = l::locations
            .select((
                l::id,
                l::name,
                l::description,
                sql::<diesel::sql_types::Nullable<Integer>>(TYPE_POSITION),
                sql::<diesel::sql_types::Nullable<Text>>(ODD_TYPE),
                l::parent_id,
                l::created_at,
                l::updated_at,
                l::name_key,
            ))
            .filter(l::id.gt(after))
            .filter(l::id.le(upto))
            .order(l::id)
            .limit(TREE_PAGE);
        Ok(db_load!(conn, query)?)
    })
}

/// [`PageFn`] of the tree columns ([`TreeColumns`]).
pub(crate) fn tree_columns_page(
    conn: &mut Conn,
    after: i64,
    upto: i64,
) -> PageFuture<'_, TreeColumns> {
    Box::pin(async move {
        let query = l::locations
            .select((l::id, l::parent_id, l::location_type, l::name, l::name_key))
            .filter(l::id.gt(after))
            .filter(l::id.le(upto))
            .order(l::id)
            .limit(TREE_PAGE);
        Ok(db_load!(conn, query)?)
    })
}

/// [`PageFn`] of the columns the integrity check reads ([`CheckedColumns`]). The type
/// comes as its position in [`LocationType::ALL`], and its text only when it is none of
/// those names; the stored name key comes only where it is not the name with its ASCII
/// letters lower-cased (which is the key of most names), and is compared with that where
/// it does not come. Decoding the rows is most of a whole-table read: a text column left
/// out is an allocation less per row.
pub(crate) fn checked_columns_page(
    conn: &mut Conn,
    after: i64,
    upto: i64,
) -> PageFuture<'_, CheckedColumns> {
    Box::pin(async move {
        let kind = sql::<diesel::sql_types::Nullable<Integer>>(TYPE_POSITION);
        let odd_kind = sql::<diesel::sql_types::Nullable<Text>>(ODD_TYPE);
        let key = sql::<diesel::sql_types::Nullable<Text>>(UNLIKE_KEY.sql(conn));
        let query = l::locations
            .select((l::id, l::parent_id, kind, odd_kind, l::name, key))
            .filter(l::id.gt(after))
            .filter(l::id.le(upto))
            .order(l::id)
            .limit(TREE_PAGE);
        Ok(db_load!(conn, query)?)
    })
}

/// [`type_position_sql!`] as a constant.
const TYPE_POSITION: &str = type_position_sql!();
/// [`odd_type_sql!`] as a constant.
const ODD_TYPE: &str = odd_type_sql!();

/// The stored name key where it differs from the name with only its ASCII letters
/// lower-cased: `lower` does exactly that on SQLite (built without ICU) and, under the "C"
/// collation, on PostgreSQL.
const UNLIKE_KEY: Dialect = Dialect {
    postgres: "NULLIF(name_key, lower(name COLLATE \"C\"))",
    sqlite: "NULLIF(name_key, lower(name))",
};

/// `(id, parent_id, type position, type text if it has none, name, name key unless it is
/// the ASCII lower case of the name)` of one row: see [`checked_columns_page`].
pub(crate) type CheckedColumns = (
    i64,
    Option<i64>,
    Option<i32>,
    Option<String>,
    String,
    Option<String>,
);

impl Keyed for CheckedColumns {
    fn key(&self) -> i64 {
        self.0
    }
}

impl LocationRecord {
    /// The type of a row of [`checked_columns_page`].
    pub(crate) fn checked_type(
        id: i64,
        position: Option<i32>,
        text: Option<&str>,
    ) -> Result<LocationType, DbError> {
        let known = position
            .and_then(|p| usize::try_from(p).ok())
            .and_then(|p| LocationType::ALL.get(p).copied());
        match (known, text) {
            (Some(kind), _) => Ok(kind),
            (None, text) => text
                .unwrap_or_default()
                .parse()
                .map_err(|e| DbError::corrupt(format!("location {id} has a bad type: {e}"))),
        }
    }
}

/// The rows with ids in `(after, upto]`, read on `conn` by `page` and handed to `f` a page
/// at a time, by id.
pub(crate) async fn pages_of<R: Keyed>(
    conn: &mut Conn,
    page: PageFn<R>,
    mut after: i64,
    upto: i64,
    f: &mut (impl FnMut(Vec<R>) -> Result<(), DbError> + Send),
) -> Result<(), DbError> {
    loop {
        let rows = page(conn, after, upto).await?;
        let done = (rows.len() as i64) < TREE_PAGE;
        if let Some(last) = rows.last() {
            after = last.key();
        }
        f(rows)?;
        if done {
            return Ok(());
        }
    }
}

/// Where [`each_row`] may read in two halves at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Halves {
    /// On both engines.
    Both,
    /// On PostgreSQL only: on SQLite the read runs beside work that already keeps both
    /// cores busy (`db integrity`'s page checks), where a third thread gained nothing and
    /// its rows waiting for the lower half took 45 MiB more at 10^6.
    PostgresOnly,
}

/// Every location row, by id, read by `page` in one snapshot, each page turned by `each`
/// into what `f` is handed, page by page. When the pool spares the connections (see
/// [`Database::snapshot_pair`]) and `halves` allows it, the ids are read in two halves at
/// once, the upper half in a task of its own (which also runs `each` on its pages) on a
/// connection that sees the first one's snapshot: the rows of a whole-table read cost more
/// to decode than the engine takes to find them, and so each half is decoded on its own
/// thread. Otherwise one connection reads them all.
pub(crate) async fn each_row<R: Keyed + Send + 'static, U: Send + 'static>(
    db: &Database,
    halves: Halves,
    page: PageFn<R>,
    each: fn(Vec<R>) -> Result<U, DbError>,
    mut f: impl FnMut(U) -> Result<(), DbError> + Send,
) -> Result<(), DbError> {
    let pair = match (halves, db.backend()) {
        (Halves::PostgresOnly, crate::config::Backend::Sqlite) => None,
        _ => db.snapshot_pair().await?,
    };
    let Some((mut low, mut high)) = pair else {
        return db
            .transaction(TxMode::Snapshot, async |c| {
                pages_of(c, page, i64::MIN, i64::MAX, &mut |rows| f(each(rows)?)).await
            })
            .await;
    };
    let (first, last) = id_bounds(&mut low).await?;
    // Halfway, without overflow whatever the ids.
    let middle = ((i128::from(first) + i128::from(last)) / 2) as i64;
    let mut upper = AbortOnDrop(tokio::spawn(async move {
        let mut pages = Vec::new();
        pages_of(&mut high, page, middle, i64::MAX, &mut |rows| {
            pages.push(each(rows)?);
            Ok(())
        })
        .await?;
        Database::end_snapshot(&mut high).await?;
        Ok::<_, DbError>(pages)
    }));
    pages_of(&mut low, page, i64::MIN, middle, &mut |rows| f(each(rows)?)).await?;
    Database::end_snapshot(&mut low).await?;
    let pages = (&mut upper.0).await.map_err(|e| {
        DbError::internal(
            "the read of the upper half of the locations stopped",
            Some(Box::new(e) as _),
        )
    })??;
    for done in pages {
        f(done)?;
    }
    Ok(())
}

/// The smallest and largest location id (0 and 0 when there is none).
async fn id_bounds(conn: &mut Conn) -> Result<(i64, i64), DbError> {
    let query = l::locations.select((diesel::dsl::min(l::id), diesel::dsl::max(l::id)));
    let (first, last): (Option<i64>, Option<i64>) = db_run!(conn, |c| query.get_result(c).await)?;
    Ok((first.unwrap_or(0), last.unwrap_or(0)))
}

/// A spawned task that is stopped when its handle is dropped (its caller gave up or
/// failed), instead of running on unobserved.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One row of an outline read: every column, the type as its position (as
/// [`checked_columns_page`] reads it), the timestamps read by [`Stamp`].
#[derive(Debug, Queryable, QueryableByName)]
pub(crate) struct OutlineRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub description: Option<String>,
    /// The type's position in [`LocationType::ALL`] (see [`LocationRecord::checked_type`]).
    #[diesel(sql_type = diesel::sql_types::Nullable<Integer>)]
    pub kind: Option<i32>,
    /// The stored type, where it has no position.
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub odd_kind: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    pub parent_id: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    pub created_at: Stamp,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    pub updated_at: Stamp,
    #[diesel(sql_type = Text)]
    pub name_key: String,
}

/// Rows per page of a whole-table read of the tree columns.
pub(crate) const TREE_PAGE: i64 = 50_000;

/// `(id, parent_id, location_type, name, name_key)` of one row.
pub(crate) type TreeColumns = (i64, Option<i64>, String, String, String);

/// A location with its full path: the JSON shape of PRODUCT §3.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Primary key.
    pub id: LocationId,
    /// Name, unique among its siblings (by name key).
    pub name: String,
    /// Optional free text.
    pub description: Option<String>,
    /// HOUSE, ROOM, CONTAINER or SHELF.
    pub location_type: LocationType,
    /// The parent, `None` for a root.
    pub parent_id: Option<LocationId>,
    /// Ancestor names and its own, joined by ` / `.
    pub full_path: String,
    /// When it was created (UTC).
    pub created_at: DateTime<Utc>,
    /// When it last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

/// An ancestor in a [`LocationDetail`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LocationSummary {
    /// Primary key.
    pub id: LocationId,
    /// Name.
    pub name: String,
    /// Type.
    pub location_type: LocationType,
}

/// A location with its ancestors (root first) and how many children it has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LocationDetail {
    /// The location itself.
    #[serde(flatten)]
    pub location: Location,
    /// From the root down to the parent.
    pub ancestors: Vec<LocationSummary>,
    /// Number of direct children.
    pub child_count: i64,
}

/// What to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewLocation {
    /// Name (trimmed and validated).
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// Type, checked against the parent's by the type rules.
    pub location_type: LocationType,
    /// Parent, or `None` for a root.
    pub parent_id: Option<LocationId>,
}

/// What to change; `None` leaves a field as it is. `description: Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocationChanges {
    /// New name.
    pub name: Option<String>,
    /// New description, or `Some(None)` to clear it.
    pub description: Option<Option<String>>,
    /// New type; re-checked against the parent and every child.
    pub location_type: Option<LocationType>,
}

impl LocationChanges {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.description.is_none() && self.location_type.is_none()
    }
}

/// Filters for listing locations; all given filters must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocationFilter {
    /// Only this type.
    pub location_type: Option<LocationType>,
    /// Only roots (no parent).
    pub roots_only: bool,
    /// Only direct children of this location.
    pub parent_id: Option<LocationId>,
    /// Only names containing this text (case-insensitive).
    pub name_contains: Option<String>,
    /// Only locations changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
}

/// A location and its children, nested: [`Outline::into_trees`].
///
/// Dropping a tree is iterative, however deep it is. Serialising it with serde recurses
/// once per level; to write trees of any depth use [`Outline::write_json`], which does not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TreeNode {
    /// The location.
    #[serde(flatten)]
    pub location: Location,
    /// Children, ordered by name key.
    pub children: Vec<TreeNode>,
}

impl TreeNode {
    /// Number of nodes in this subtree, itself included.
    pub fn count(&self) -> usize {
        let mut n = 0;
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            n += 1;
            stack.extend(node.children.iter());
        }
        n
    }
}

impl Drop for TreeNode {
    fn drop(&mut self) {
        // The default drop recurses once per level; a deep chain would overflow the stack.
        let mut stack = std::mem::take(&mut self.children);
        while let Some(mut node) = stack.pop() {
            stack.append(&mut node.children);
        }
    }
}

/// One location of an [`Outline`]: its fields and its depth below the outline's top.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutlineNode {
    /// 0 for a top node, 1 for its children, and so on.
    pub depth: usize,
    /// Primary key.
    pub id: LocationId,
    /// Name.
    pub name: String,
    /// Optional free text.
    pub description: Option<String>,
    /// Type.
    pub location_type: LocationType,
    /// The parent, `None` for a root.
    pub parent_id: Option<LocationId>,
    /// When it was created (UTC).
    pub created_at: DateTime<Utc>,
    /// When it last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

/// A subtree (or every root's tree) in depth-first pre-order, siblings ordered by name key:
/// what `tree` prints. Holds each location once, without full paths, so its size is linear
/// in the number of locations however deep the tree is; paths are built as it is written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outline {
    pub(crate) nodes: Vec<OutlineNode>,
    /// The full path of the top node's parent, when the outline is one location's subtree.
    pub(crate) top_parent_path: Option<String>,
}

impl Outline {
    /// An outline of these nodes (already in pre-order with their depths), for callers
    /// that build one themselves.
    pub fn from_nodes(nodes: Vec<OutlineNode>) -> Outline {
        Outline {
            nodes,
            top_parent_path: None,
        }
    }

    /// Every location, in pre-order.
    pub fn nodes(&self) -> &[OutlineNode] {
        &self.nodes
    }

    /// True when there is no location at all.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Calls `f` with each node and its full path, in pre-order; one path buffer is reused.
    pub fn for_each_with_path(&self, mut f: impl FnMut(&OutlineNode, &str)) {
        let mut path = String::new();
        // ends[d]: the length of `path` after the node at depth d.
        let mut ends: Vec<usize> = Vec::new();
        for node in &self.nodes {
            ends.truncate(node.depth);
            path.truncate(ends.last().copied().unwrap_or(0));
            if node.depth == 0 {
                if let Some(prefix) = &self.top_parent_path {
                    path.push_str(prefix);
                    path.push_str(inventory_core::PATH_SEPARATOR);
                }
            } else {
                path.push_str(inventory_core::PATH_SEPARATOR);
            }
            path.push_str(&node.name);
            ends.push(path.len());
            f(node, &path);
        }
    }

    /// Writes the outline as nested JSON — each location (PRODUCT §3 shape, with its full
    /// path) plus `children` — iteratively: stack and memory stay linear in the number of
    /// locations whatever the depth. One top node is written as an object unless `as_array`;
    /// several (or none) as an array.
    pub fn write_json(&self, as_array: bool, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let tops = self.nodes.iter().filter(|n| n.depth == 0).count();
        let array = as_array || tops != 1;
        if array {
            out.write_all(b"[")?;
        }
        let mut open = 0usize;
        let mut previous_depth: Option<usize> = None;
        let mut result: std::io::Result<()> = Ok(());
        self.for_each_with_path(|node, path| {
            if result.is_err() {
                return;
            }
            result = (|| -> std::io::Result<()> {
                match previous_depth {
                    Some(d) if node.depth > d => {}
                    Some(d) => {
                        for _ in node.depth..=d {
                            out.write_all(b"]}")?;
                            open -= 1;
                        }
                        out.write_all(b",")?;
                    }
                    None => {}
                }
                let fields = serde_json::to_vec(&Location {
                    id: node.id,
                    name: node.name.clone(),
                    description: node.description.clone(),
                    location_type: node.location_type,
                    parent_id: node.parent_id,
                    full_path: path.to_string(),
                    created_at: node.created_at,
                    updated_at: node.updated_at,
                })
                .map_err(std::io::Error::other)?;
                out.write_all(&fields[..fields.len().saturating_sub(1)])?;
                out.write_all(b",\"children\":[")?;
                open += 1;
                previous_depth = Some(node.depth);
                Ok(())
            })();
        });
        result?;
        for _ in 0..open {
            out.write_all(b"]}")?;
        }
        if array {
            out.write_all(b"]")?;
        }
        Ok(())
    }

    /// The outline as nested trees, every node with its full path.
    pub fn into_trees(self) -> Vec<TreeNode> {
        let mut tops: Vec<TreeNode> = Vec::new();
        let mut stack: Vec<TreeNode> = Vec::new();
        fn attach(stack: &mut [TreeNode], tops: &mut Vec<TreeNode>, node: TreeNode) {
            match stack.last_mut() {
                Some(parent) => parent.children.push(node),
                None => tops.push(node),
            }
        }
        self.for_each_with_path(|node, path| {
            while stack.len() > node.depth {
                if let Some(done) = stack.pop() {
                    attach(&mut stack, &mut tops, done);
                }
            }
            stack.push(TreeNode {
                location: Location {
                    id: node.id,
                    name: node.name.clone(),
                    description: node.description.clone(),
                    location_type: node.location_type,
                    parent_id: node.parent_id,
                    full_path: path.to_string(),
                    created_at: node.created_at,
                    updated_at: node.updated_at,
                },
                children: Vec::new(),
            });
        });
        while let Some(done) = stack.pop() {
            attach(&mut stack, &mut tops, done);
        }
        tops
    }
}

/// What a delete removed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeleteOutcome {
    /// The location removed (with everything under it).
    pub id: LocationId,
    /// How many locations were removed in all, itself included.
    pub locations_deleted: u64,
    /// How many items were moved to the parent or deleted with it.
    pub items_affected: u64,
}
