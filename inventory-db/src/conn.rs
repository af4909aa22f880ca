//! Connections and transactions: the one way code reaches a database.
//!
//! A [`Conn`] is one pooled connection of either backend. Queries are ordinary async
//! functions taking `&mut Conn`, written once; at the point where a statement runs,
//! [`db_run!`] matches the backend and compiles that expression for each, so the diesel
//! query inside is type-checked against both. SQL whose text differs by dialect is a
//! [`Dialect`] pair of `.sql` files. Operations made of several queries run inside
//! [`Database::transaction`], whose [`TxMode`] says how the transaction begins.

use std::future::Future;

use diesel::connection::AnsiTransactionManager as SyncTransactionManager;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::{
    AnsiTransactionManager, AsyncConnection, AsyncPgConnection, TransactionManager,
};

use crate::config::Backend;
use crate::error::DbError;
use crate::models::totals::LoadedRows;
use crate::pool::{Database, SqliteConn};

/// A pooled PostgreSQL connection.
pub type PgPooled = bb8::PooledConnection<'static, AsyncDieselConnectionManager<AsyncPgConnection>>;
/// A pooled SQLite connection.
pub type SqlitePooled = bb8::PooledConnection<'static, AsyncDieselConnectionManager<SqliteConn>>;

/// One connection, checked out of a [`Database`]'s pool, on either backend. Returned to the
/// pool when dropped; a connection dropped inside an unfinished transaction is discarded
/// (the server rolls the transaction back), so a cancelled operation never leaks one.
#[allow(clippy::large_enum_variant)] // one per operation, on its stack: not worth a box
pub enum Conn {
    /// PostgreSQL.
    Postgres(PgPooled),
    /// SQLite.
    Sqlite(SqlitePooled),
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Conn({})", self.backend())
    }
}

/// Runs `$body` with `$c` bound to the backend connection inside `$conn` (a `&mut Conn`).
/// The body is compiled once per backend: keep it to running a statement, and build
/// anything backend-neutral (values, non-boxed queries) outside it.
macro_rules! db_run {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::conn::Conn::Postgres(pooled) => {
                let $c: &mut diesel_async::AsyncPgConnection = &mut *pooled;
                $body
            }
            $crate::conn::Conn::Sqlite(pooled) => {
                let $c: &mut $crate::pool::SqliteConn = &mut *pooled;
                $body
            }
        }
    };
}
pub(crate) use db_run;

/// Loads every row of `$query` (a `'static` query: built of owned binds) as `Vec<T>`. On
/// SQLite the rows are read on the connection's own thread straight from the engine:
/// `db_run!` with diesel-async's `load` first copies every value of every row into owned
/// rows, which costs more than the read itself for whole-table and whole-subtree reads.
macro_rules! db_load {
    ($conn:expr, $query:expr) => {
        match $conn {
            $crate::conn::Conn::Postgres(pooled) => {
                let c: &mut diesel_async::AsyncPgConnection = &mut *pooled;
                diesel_async::RunQueryDsl::load($query, c).await
            }
            $crate::conn::Conn::Sqlite(pooled) => {
                let c: &mut $crate::pool::SqliteConn = &mut *pooled;
                let query = $query;
                c.spawn_blocking(move |c| diesel::RunQueryDsl::load(query, c))
                    .await
            }
        }
    };
}
pub(crate) use db_load;

/// SQL whose text differs between the two engines (kept in `sql/postgres` and `sql/sqlite`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dialect {
    pub postgres: &'static str,
    pub sqlite: &'static str,
}

impl Dialect {
    /// The text for `conn`'s engine.
    pub(crate) fn sql(&self, conn: &Conn) -> &'static str {
        match conn.backend() {
            Backend::Postgres => self.postgres,
            Backend::Sqlite => self.sqlite,
        }
    }
}

/// How a transaction begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxMode {
    /// Several reads that must see one state: PostgreSQL `REPEATABLE READ READ ONLY`;
    /// SQLite a deferred transaction (in WAL mode, one snapshot).
    Snapshot,
    /// Writes that rely on row-level guarantees (foreign keys, unique indexes, row locks):
    /// PostgreSQL `READ COMMITTED` with a bounded `lock_timeout`; SQLite `BEGIN IMMEDIATE`.
    Write,
    /// Writes that change the shape of the location tree (create, rename, move, delete,
    /// import, restore): [`TxMode::Write`] plus, on PostgreSQL, the transaction-scoped
    /// advisory lock [`TREE_LOCK_KEY`], so that the checks (cycle, type rule, sibling name)
    /// and the write of one such transaction never interleave with another's. SQLite's
    /// `BEGIN IMMEDIATE` already serialises every writer.
    TreeWrite,
    /// Writes of items, which keep each location's subtree totals along the tree's
    /// current shape: [`TxMode::Write`] plus, on PostgreSQL, the shared form of the tree
    /// lock, so that no tree write (a move) changes a chain of ancestors between an item
    /// write's read of it and its commit, while item writes still run side by side.
    ItemWrite,
}

/// Key of the transaction-scoped advisory lock that serialises tree writes on PostgreSQL
/// ("HOMEINV" in ASCII).
pub const TREE_LOCK_KEY: i64 = 0x0048_4f4d_4549_4e56;

/// An async closure run inside a transaction, whose future is `Send` (so that operations
/// can run in spawned tasks and HTTP handlers). Implemented for every fitting closure.
pub trait TxFn<'c, T>:
    AsyncFnOnce(&'c mut Conn) -> Result<T, DbError> + FnOnce(&'c mut Conn) -> <Self as TxFn<'c, T>>::Fut
{
    /// The closure's future.
    type Fut: Future<Output = Result<T, DbError>>;
}

impl<'c, T, F, Fut> TxFn<'c, T> for F
where
    F: AsyncFnOnce(&'c mut Conn) -> Result<T, DbError> + FnOnce(&'c mut Conn) -> Fut,
    Fut: Future<Output = Result<T, DbError>>,
{
    type Fut = Fut;
}

impl Conn {
    /// Which engine this connection speaks to.
    pub fn backend(&self) -> Backend {
        match self {
            Conn::Postgres(_) => Backend::Postgres,
            Conn::Sqlite(_) => Backend::Sqlite,
        }
    }

    async fn begin(&mut self, mode: TxMode, db: &Database) -> Result<(), DbError> {
        match self {
            Conn::Postgres(c) => {
                let c: &mut AsyncPgConnection = c;
                let begin = match mode {
                    TxMode::Snapshot => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                    TxMode::Write | TxMode::TreeWrite | TxMode::ItemWrite => "BEGIN",
                };
                AnsiTransactionManager::begin_transaction_sql(c, begin).await?;
                if mode != TxMode::Snapshot {
                    let millis = db.options.lock_timeout.as_millis().max(1);
                    diesel_async::SimpleAsyncConnection::batch_execute(
                        c,
                        &format!("SET LOCAL lock_timeout = {millis}"),
                    )
                    .await?;
                }
                let lock = match mode {
                    TxMode::TreeWrite => Some("SELECT pg_advisory_xact_lock($1)"),
                    TxMode::ItemWrite => Some("SELECT pg_advisory_xact_lock_shared($1)"),
                    TxMode::Snapshot | TxMode::Write => None,
                };
                if let Some(lock) = lock {
                    use diesel_async::RunQueryDsl;
                    crate::models::Cached(
                        diesel::sql_query(lock).bind::<diesel::sql_types::BigInt, _>(TREE_LOCK_KEY),
                    )
                    .execute(c)
                    .await?;
                }
            }
            Conn::Sqlite(c) => {
                let begin = match mode {
                    TxMode::Snapshot => "BEGIN",
                    TxMode::Write | TxMode::TreeWrite | TxMode::ItemWrite => "BEGIN IMMEDIATE",
                };
                let c: &mut SqliteConn = c;
                c.spawn_blocking(move |sync| {
                    SyncTransactionManager::begin_transaction_sql(sync, begin)
                })
                .await?;
            }
        }
        Ok(())
    }

    async fn commit(&mut self) -> Result<(), DbError> {
        db_run!(self, |c| commit_on(c).await)
    }

    async fn rollback(&mut self) -> Result<(), DbError> {
        db_run!(self, |c| rollback_on(c).await)
    }
}

async fn commit_on<C: AsyncConnection>(c: &mut C) -> Result<(), DbError> {
    Ok(C::TransactionManager::commit_transaction(c).await?)
}

async fn rollback_on<C: AsyncConnection>(c: &mut C) -> Result<(), DbError> {
    Ok(C::TransactionManager::rollback_transaction(c).await?)
}

impl Database {
    /// One connection from the pool (no transaction: each statement commits on its own).
    pub async fn conn(&self) -> Result<Conn, DbError> {
        let conn = match &self.pool {
            crate::pool::Pool::Postgres(pool) => Conn::Postgres(pool.get_owned().await?),
            crate::pool::Pool::Sqlite(pool) => Conn::Sqlite(pool.get_owned().await?),
        };
        Ok(conn)
    }

    /// Runs `f` on one connection, without a transaction (for reads of one statement, or
    /// several that need not agree).
    pub async fn read<T, F>(&self, f: F) -> Result<T, DbError>
    where
        for<'c> F: TxFn<'c, T, Fut: Send> + Send,
        T: Send,
    {
        let mut conn = self.conn().await?;
        f(&mut conn).await
    }

    /// Runs `f` inside one transaction begun as `mode` says: committed when `f` returns
    /// `Ok`, rolled back when it returns `Err` (and when the future is dropped).
    pub async fn transaction<T, F>(&self, mode: TxMode, f: F) -> Result<T, DbError>
    where
        for<'c> F: TxFn<'c, T, Fut: Send> + Send,
        T: Send,
    {
        let _turn = self.writer_turn(mode).await?;
        let mut conn = self.conn().await?;
        conn.begin(mode, self).await.map_err(|e| self.busy(e))?;
        match f(&mut conn).await {
            Ok(value) => {
                conn.commit().await.map_err(|e| self.busy(e))?;
                Ok(value)
            }
            Err(e) => Err(self.abandon(&mut conn, e).await),
        }
    }

    /// Two connections each in a [`TxMode::Snapshot`] transaction that see one and the
    /// same snapshot, for a read too large for one connection's thread; end both with
    /// [`Database::end_snapshot`]. On PostgreSQL the first exports its snapshot and the
    /// second imports it; on SQLite, which cannot share one, both begin while a third
    /// connection holds the write lock, so that no commit falls between their starts.
    /// `None` when the pool has no connection to spare at once, and when the server cannot
    /// share a snapshot or the write lock is not free (the caller then reads on one
    /// connection, which reports any failure of the server itself).
    pub(crate) async fn snapshot_pair(&self) -> Result<Option<(Conn, Conn)>, DbError> {
        let needed = match self.backend() {
            Backend::Postgres => 2,
            Backend::Sqlite => 3,
        };
        if self.options.max_size < needed {
            return Ok(None);
        }
        let mut first = self.conn().await?;
        let Ok(Ok(mut second)) = tokio::time::timeout(SPARE_WAIT, self.conn()).await else {
            return Ok(None);
        };
        let shared = match self.backend() {
            Backend::Postgres => share_snapshot(self, &mut first, &mut second).await,
            Backend::Sqlite => {
                let Ok(Ok(mut gate)) = tokio::time::timeout(SPARE_WAIT, self.conn()).await else {
                    return Ok(None);
                };
                begin_together(self, &mut gate, &mut first, &mut second).await
            }
        };
        // The two connections, left in their transactions on an error, are discarded.
        match shared {
            Ok(()) => Ok(Some((first, second))),
            Err(e) => {
                tracing::debug!(error = %e, "no shared snapshot; reading on one connection");
                Ok(None)
            }
        }
    }

    /// Ends a read transaction of [`Database::snapshot_pair`] (it wrote nothing).
    pub(crate) async fn end_snapshot(conn: &mut Conn) -> Result<(), DbError> {
        conn.commit().await
    }

    /// Runs `f` in a tree-write transaction made for filling emptied tables with many rows
    /// (restore, bulk load). On both engines the kept location totals are emptied first and
    /// computed from the loaded rows before the commit. On SQLite the connection also runs
    /// it with the settings of [`BULK_SETTINGS`] (foreign keys off among them) and without
    /// the search index and the triggers (search entries, category item counts), which are
    /// dropped first; before the commit the index and the counts are computed from the
    /// loaded rows in one pass, the triggers put back, and the foreign-key check (that of
    /// `db integrity`, of every table) must find nothing. On PostgreSQL the large tables are
    /// locked and their secondary indexes and foreign keys set aside while the rows go in
    /// (readers wait), then built and checked again ([`crate::set_aside`]). All of it is
    /// inside the one transaction, so an error leaves the database as it was. `f` hands back,
    /// beside its value, the rows it wrote as the totals need them.
    pub(crate) async fn bulk_transaction<T, F>(&self, f: F) -> Result<T, DbError>
    where
        for<'c> F: TxFn<'c, (T, LoadedRows), Fut: Send> + Send,
        T: Send,
    {
        let _turn = self.writer_turn(TxMode::TreeWrite).await?;
        let mut conn = self.conn().await?;
        if self.backend() != Backend::Sqlite {
            return self.bulk_on(&mut conn, f).await;
        }
        let reset = set_sqlite_settings(&mut conn, &BULK_SETTINGS).await?;
        let outcome = self.bulk_on(&mut conn, f).await;
        // The connection's settings back before it returns to the pool, whatever happened.
        let reset = batch(&mut conn, &reset).await;
        let value = outcome?;
        reset?;
        Ok(value)
    }

    /// The transaction of [`Database::bulk_transaction`], on `conn`.
    async fn bulk_on<T, F>(&self, conn: &mut Conn, f: F) -> Result<T, DbError>
    where
        for<'c> F: TxFn<'c, (T, LoadedRows), Fut: Send> + Send,
        T: Send,
    {
        conn.begin(TxMode::TreeWrite, self)
            .await
            .map_err(|e| self.busy(e))?;
        let aside = match prepare_bulk(conn).await {
            Ok(aside) => aside,
            Err(e) => return Err(self.abandon(conn, e).await),
        };
        let (value, loaded) = match f(&mut *conn).await {
            Ok(done) => done,
            Err(e) => return Err(self.abandon(conn, e).await),
        };
        if let Err(e) = finish_bulk(conn, &aside, loaded).await {
            return Err(self.abandon(conn, e).await);
        }
        conn.commit().await.map_err(|e| self.busy(e))?;
        Ok(value)
    }

    /// Rolls back `conn`'s transaction after `e`, and gives `e` back.
    async fn abandon(&self, conn: &mut Conn, e: DbError) -> DbError {
        // A failed rollback leaves the transaction open: the connection is then discarded
        // when dropped, which rolls back on the server.
        let _ = conn.rollback().await;
        self.busy(e)
    }

    /// On SQLite, a write transaction's turn among this process's writers (held until it
    /// ends), waited for at most the lock timeout; `None` otherwise. Writers of other
    /// processes still meet at SQLite's own lock.
    async fn writer_turn(
        &self,
        mode: TxMode,
    ) -> Result<Option<tokio::sync::OwnedMutexGuard<()>>, DbError> {
        if mode == TxMode::Snapshot || self.backend() != Backend::Sqlite {
            return Ok(None);
        }
        let waited = self.options.lock_timeout;
        match tokio::time::timeout(waited, self.writers.clone().lock_owned()).await {
            Ok(turn) => Ok(Some(turn)),
            Err(_) => Err(DbError::Busy {
                what: "the other writes of this process".into(),
                waited,
            }),
        }
    }

    /// A busy error says how long this handle waited.
    fn busy(&self, e: DbError) -> DbError {
        match e {
            DbError::Busy { what, .. } => DbError::Busy {
                what,
                waited: self.options.lock_timeout,
            },
            other => other,
        }
    }
}

/// The settings of a bulk transaction on SQLite, each put back as it was afterwards:
/// foreign keys off (checked once at the end instead, and a DELETE of a whole table is then
/// a truncation) and a page cache large enough for the tables being filled.
const BULK_SETTINGS: [(&str, &str); 2] =
    [("foreign_keys", "OFF"), ("cache_size", LARGE_WRITE_CACHE)];

/// The page cache (in KiB: a negative size) of a SQLite connection while it writes many
/// rows in one transaction: large enough that the changed pages of the indexes stay in
/// memory instead of spilling to the WAL before the commit (the default is 2 MiB).
pub(crate) const LARGE_WRITE_CACHE: &str = "-65536";

/// Begins a snapshot transaction on `first`, exports its snapshot, and begins `second` in
/// that same snapshot.
async fn share_snapshot(db: &Database, first: &mut Conn, second: &mut Conn) -> Result<(), DbError> {
    first.begin(TxMode::Snapshot, db).await?;
    let query = diesel::sql_query("SELECT pg_export_snapshot() AS v");
    let row: crate::models::OneText =
        db_run!(first, |c| diesel_async::RunQueryDsl::get_result(query, c)
            .await)?;
    let snapshot = row.v.unwrap_or_default();
    // The server's own identifier (hex digits and dashes), checked before it goes into the
    // statement's text.
    if snapshot.is_empty() || !snapshot.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(DbError::internal(
            format!("PostgreSQL exported an unexpected snapshot id {snapshot:?}"),
            None,
        ));
    }
    second.begin(TxMode::Snapshot, db).await?;
    batch(second, &format!("SET TRANSACTION SNAPSHOT '{snapshot}'")).await
}

/// On SQLite: begins a snapshot transaction on `first` and on `second` while `gate` holds
/// the write lock, so that both take their snapshot of one state. The lock (this process's
/// writer's turn, then SQLite's) is waited for no longer than [`SPARE_WAIT`]: a writer in
/// the way makes the read run on one connection rather than wait for it. A deferred
/// transaction takes its snapshot at its first read, hence the read of the schema table.
async fn begin_together(
    db: &Database,
    gate: &mut Conn,
    first: &mut Conn,
    second: &mut Conn,
) -> Result<(), DbError> {
    let Ok(turn) = tokio::time::timeout(SPARE_WAIT, db.writer_turn(TxMode::Write)).await else {
        return Err(DbError::internal(
            "no writer's turn for the snapshot pair",
            None,
        ));
    };
    let _turn = turn?;
    // The pool's setting back afterwards (as `Database` sets it on every connection).
    let usual = db.options.lock_timeout.as_millis().max(1);
    batch(
        gate,
        &format!("PRAGMA busy_timeout = {}", SPARE_WAIT.as_millis()),
    )
    .await?;
    let locked = gate.begin(TxMode::Write, db).await;
    let reset = batch(gate, &format!("PRAGMA busy_timeout = {usual}")).await;
    locked?;
    reset?;
    let begun = async {
        for conn in [first, second] {
            conn.begin(TxMode::Snapshot, db).await?;
            batch(conn, "SELECT count(*) FROM sqlite_schema").await?;
        }
        Ok::<_, DbError>(())
    }
    .await;
    let ended = gate.rollback().await;
    begun?;
    ended
}

/// How long [`Database::snapshot_pair`] waits for a second connection before the read
/// runs on one: long enough to open one to a server nearby, short next to the read.
const SPARE_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

/// Runs `sql` (statements without results) on `conn`.
pub(crate) async fn batch(conn: &mut Conn, sql: &str) -> Result<(), DbError> {
    use diesel_async::SimpleAsyncConnection;
    db_run!(conn, |c| c.batch_execute(sql).await)?;
    Ok(())
}

/// Sets each SQLite setting of `settings` (name, value: this crate's own text, not input)
/// on `conn`, and returns the statements that put them back as they were: run them before
/// the connection returns to the pool, whatever happened in between.
pub(crate) async fn set_sqlite_settings(
    conn: &mut Conn,
    settings: &[(&str, &str)],
) -> Result<String, DbError> {
    let mut set = String::new();
    let mut reset = String::new();
    for (name, value) in settings {
        let was = sqlite_setting(conn, name).await?;
        set.push_str(&format!("PRAGMA {name} = {value};"));
        reset.push_str(&format!("PRAGMA {name} = {was};"));
    }
    batch(conn, &set).await?;
    Ok(reset)
}

/// The value of the SQLite setting `name` (one of this crate's own names, not input).
async fn sqlite_setting(conn: &mut Conn, name: &str) -> Result<String, DbError> {
    use diesel_async::RunQueryDsl;
    let query = diesel::sql_query(format!(
        "SELECT CAST({name} AS TEXT) AS v FROM pragma_{name}"
    ));
    let row: crate::models::OneText = db_run!(conn, |c| query.get_result(c).await)?;
    row.v
        .ok_or_else(|| DbError::internal(format!("SQLite gave no {name}"), None))
}

/// The statements that create again what [`drop_derived`] dropped: the search index's
/// table and the triggers.
struct Derived {
    search_table: String,
    triggers: Vec<String>,
}

/// Drops what the rows of the tables derive — the search index — and every trigger (those
/// that keep the search index and the categories' item counts in step), and returns the
/// statements that create them again.
async fn drop_derived(conn: &mut Conn) -> Result<Derived, DbError> {
    let triggers = drop_triggers(conn).await?;
    let query = diesel::sql_query(
        "SELECT sql AS v FROM sqlite_master WHERE type = 'table' AND name = 'search_fts'",
    );
    let rows: Vec<crate::models::OneText> = db_load!(conn, query)?;
    let Some(search_table) = rows.into_iter().find_map(|r| r.v) else {
        return Err(DbError::internal(
            "the search index search_fts is missing",
            None,
        ));
    };
    batch(conn, "DROP TABLE search_fts").await?;
    Ok(Derived {
        search_table,
        triggers,
    })
}

/// Drops every trigger of the SQLite database `conn` (inside the caller's transaction),
/// and returns the statements that create them again: for writes of many rows that keep
/// what the triggers keep (the search index, the category item counts) with one statement
/// per table instead of one per row.
pub(crate) async fn drop_triggers(conn: &mut Conn) -> Result<Vec<String>, DbError> {
    let query = diesel::sql_query(
        "SELECT name || char(10) || sql AS v FROM sqlite_master \
         WHERE type = 'trigger' ORDER BY name",
    );
    let rows: Vec<crate::models::OneText> = db_load!(conn, query)?;
    let mut drop = String::new();
    let mut create = Vec::new();
    for (name, sql) in rows.iter().filter_map(|r| r.v.as_deref()?.split_once('\n')) {
        drop.push_str(&format!("DROP TRIGGER \"{name}\";"));
        create.push(format!("{sql};"));
    }
    batch(conn, &drop).await?;
    Ok(create)
}

/// Creates again the triggers [`drop_triggers`] dropped.
pub(crate) async fn create_triggers(conn: &mut Conn, triggers: &[String]) -> Result<(), DbError> {
    batch(conn, &triggers.concat()).await
}

/// What a bulk load sets aside before its rows and puts back after them.
enum BulkAside {
    /// SQLite: the search index and the triggers ([`drop_derived`]).
    Sqlite(Derived),
    /// PostgreSQL: the large tables' secondary indexes and foreign keys
    /// ([`crate::set_aside`]).
    Postgres(crate::set_aside::SetAside),
}

/// Before a bulk load: sets aside what [`BulkAside`] says, and empties the kept location
/// totals.
async fn prepare_bulk(conn: &mut Conn) -> Result<BulkAside, DbError> {
    let aside = match conn.backend() {
        Backend::Sqlite => BulkAside::Sqlite(drop_derived(conn).await?),
        Backend::Postgres => BulkAside::Postgres(crate::set_aside::set_aside(conn).await?),
    };
    crate::models::totals::clear(conn).await?;
    Ok(aside)
}

/// After a bulk load: computes the kept location totals from the loaded rows and puts back
/// what was set aside. On SQLite it creates the search index again, computes what the
/// rows derive in one pass (`rebuild_derived.sql`), creates the triggers again, and checks
/// every foreign key; on PostgreSQL it builds the indexes again, then adds the keys, each
/// foreign key checked against every row.
async fn finish_bulk(
    conn: &mut Conn,
    aside: &BulkAside,
    loaded: LoadedRows,
) -> Result<(), DbError> {
    crate::models::totals::fill_from(conn, loaded).await?;
    let derived = match aside {
        BulkAside::Sqlite(derived) => derived,
        BulkAside::Postgres(aside) => return crate::set_aside::put_back(conn, aside).await,
    };
    let mut create = format!("{};", derived.search_table);
    create.push_str(include_str!("sql/sqlite/rebuild_derived.sql"));
    batch(conn, &create).await?;
    create_triggers(conn, &derived.triggers).await?;
    // The check of `db integrity` (an anti-join per key: less than half the time of
    // `pragma_foreign_key_check`), of every table.
    let check = crate::ops::admin::sqlite_foreign_key_check(conn, "").await?;
    let query = diesel::sql_query(format!("SELECT v FROM ({check}) LIMIT 5"));
    let broken: Vec<crate::models::OneText> = db_load!(conn, query)?;
    if broken.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = broken.into_iter().filter_map(|r| r.v).collect();
    Err(DbError::internal(
        format!("the loaded rows break foreign keys: {}", lines.join("; ")),
        None,
    ))
}

#[cfg(all(test, feature = "testing"))]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    async fn locations(conn: &mut Conn) -> i64 {
        let query = diesel::sql_query("SELECT count(*) AS n FROM locations");
        let row: crate::models::Count =
            db_run!(conn, |c| diesel_async::RunQueryDsl::get_result(query, c)
                .await)
            .unwrap();
        row.n
    }

    /// Both connections of a pair see the state of the moment the pair began: a row
    /// committed after that is in neither (the second connection's first query comes after
    /// the commit, so without a shared snapshot it would see the row).
    async fn a_pair_sees_one_state(db: &Database) {
        let (mut first, mut second) = db.snapshot_pair().await.unwrap().expect("a pair");
        db.execute_raw_for_tests(
            "INSERT INTO locations (name, name_key, location_type) VALUES ('Late', 'late', 'HOUSE')",
        )
        .await
        .unwrap();
        assert_eq!(locations(&mut first).await, 0);
        assert_eq!(locations(&mut second).await, 0);
        Database::end_snapshot(&mut first).await.unwrap();
        Database::end_snapshot(&mut second).await.unwrap();
        assert_eq!(locations(&mut second).await, 1);
    }

    /// PostgreSQL: the first exports its snapshot, the second imports it.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_snapshot_pair_sees_one_state() {
        a_pair_sees_one_state(&crate::testing::postgres().await.db).await;
    }

    /// SQLite: the pair began while a third connection held the write lock.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_sqlite_snapshot_pair_sees_one_state() {
        a_pair_sees_one_state(&crate::testing::sqlite().await.db).await;
    }

    /// A SQLite writer that holds the lock: no pair (the read runs on one connection).
    #[tokio::test(flavor = "multi_thread")]
    async fn a_sqlite_write_in_progress_gives_no_snapshot_pair() {
        let test = crate::testing::sqlite().await;
        let db = &test.db;
        let mut writer = db.conn().await.unwrap();
        writer.begin(TxMode::Write, db).await.unwrap();
        assert!(db.snapshot_pair().await.unwrap().is_none());
        writer.rollback().await.unwrap();
        assert!(db.snapshot_pair().await.unwrap().is_some());
    }
}
