//! What a bulk load on PostgreSQL sets aside while it writes: every index and key of the
//! two large tables (`locations`, `items`) and of the kept totals, and the foreign keys
//! that touch them, dropped inside the load's transaction and created again from their
//! stored definitions before the commit.
//!
//! Kept during a load of 10^6 rows per table, each B-tree index costs 1.3–3.3 s of
//! row-by-row inserts and each search index (GIN) 7 s, against 0.4–1.3 s and 5–9 s to
//! build one from the loaded rows; each foreign key is a query per row instead of one
//! anti-join; a restore over existing rows pays its primary key most (each new id meets
//! the deleted row of the same id, 4 s of 6 s for 10^6 items). The tables are locked for
//! the whole transaction (`ACCESS EXCLUSIVE`): readers wait for the load and then see its
//! rows, and the definitions cannot change under it. Everything is transactional, so a
//! failed load leaves the indexes and keys as they were.
//!
//! Order: the foreign keys go first (they depend on the primary keys) and come back last,
//! each checked against every row with one query.

use diesel::sql_types::Text;

use crate::conn::{batch, db_load, db_run, Conn};
use crate::error::DbError;

/// The tables whose indexes and primary keys are set aside.
const LARGE_TABLES: &str = "'locations'::regclass, 'items'::regclass";

/// The tables locked for the load: the large ones and those whose foreign keys touch them.
const LOCK: &str =
    "LOCK TABLE locations, items, location_totals, categories IN ACCESS EXCLUSIVE MODE";

/// How often the lock is tried again when PostgreSQL's deadlock detector ends the attempt
/// (a reader holding one of the tables asked for another that the load already held).
const LOCK_ATTEMPTS: u32 = 5;

/// What is set aside, each with the statement that drops it and the one that creates it
/// again, and its stage: 0 the primary keys of the large tables and of the kept totals, 1
/// the large tables' other indexes (not one that backs a constraint), 2 the foreign keys
/// from or to the large tables. Dropped from the last stage to the first, created from the
/// first.
const DEFINITIONS: &str = "SELECT drop_sql, create_sql FROM ( \
     SELECT CASE WHEN c.contype = 'f' THEN 2 ELSE 0 END AS stage, \
            c.conrelid::regclass::text AS table_name, c.conname::text AS name, \
            'ALTER TABLE ' || c.conrelid::regclass::text || ' DROP CONSTRAINT ' || \
                quote_ident(c.conname) AS drop_sql, \
            'ALTER TABLE ' || c.conrelid::regclass::text || ' ADD CONSTRAINT ' || \
                quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid) AS create_sql \
     FROM pg_constraint c \
     WHERE (c.contype = 'f' AND (c.conrelid IN (LARGE) OR c.confrelid IN (LARGE))) \
        OR (c.contype = 'p' AND c.conrelid IN (LARGE, 'location_totals'::regclass)) \
     UNION ALL \
     SELECT 1, i.indrelid::regclass::text, i.indexrelid::regclass::text, \
            'DROP INDEX ' || i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) \
     FROM pg_index i \
     WHERE i.indrelid IN (LARGE) \
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid \
                       AND c.contype IN ('p', 'u', 'x')) \
 ) AS d ORDER BY stage, table_name, name";

/// Memory for building an index (at least; a larger server setting stays): the search
/// indexes of 10^6 rows build in 7.3 s with it, 9.2 s with the default 64 MB.
const BUILD_MEMORY: &str = "SELECT set_config('maintenance_work_mem', '256MB', true) AS v \
     WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes('256MB')";

#[derive(Debug, diesel::QueryableByName)]
struct Definition {
    #[diesel(sql_type = Text)]
    drop_sql: String,
    #[diesel(sql_type = Text)]
    create_sql: String,
}

/// What [`set_aside`] dropped, in the order it is created again.
#[derive(Debug)]
pub(crate) struct SetAside {
    definitions: Vec<Definition>,
}

/// Locks the tables and drops their keys and indexes (in the caller's transaction),
/// returning what creates them again. A role that may write the rows but does not own the
/// tables cannot drop their indexes: the load then keeps them (and the locks of its rows
/// only) and goes in row by row, as the database's owner set it up.
pub(crate) async fn set_aside(conn: &mut Conn) -> Result<SetAside, DbError> {
    batch(conn, "SAVEPOINT bulk_aside").await?;
    match lock_and_drop(conn).await {
        Ok(aside) => {
            batch(conn, "RELEASE SAVEPOINT bulk_aside").await?;
            Ok(aside)
        }
        Err(e) if is_not_owner(&e) => {
            batch(conn, "ROLLBACK TO SAVEPOINT bulk_aside").await?;
            tracing::info!("not the tables' owner: the load keeps their indexes and keys ({e})");
            Ok(SetAside {
                definitions: Vec::new(),
            })
        }
        Err(e) => Err(e),
    }
}

/// What [`set_aside`] does, when the role may.
async fn lock_and_drop(conn: &mut Conn) -> Result<SetAside, DbError> {
    lock_tables(conn).await?;
    let query = diesel::sql_query(DEFINITIONS.replace("LARGE", LARGE_TABLES));
    let definitions: Vec<Definition> = db_load!(conn, query)?;
    let drop: Vec<&str> = definitions
        .iter()
        .rev()
        .map(|d| d.drop_sql.as_str())
        .collect();
    if !drop.is_empty() {
        batch(conn, &format!("{};", drop.join(";"))).await?;
    }
    Ok(SetAside { definitions })
}

/// Builds the keys and indexes again from the loaded rows, in stage order: primary keys,
/// indexes, then the foreign keys, each checked against every row with one query.
pub(crate) async fn put_back(conn: &mut Conn, aside: &SetAside) -> Result<(), DbError> {
    let query = diesel::sql_query(BUILD_MEMORY);
    let _: Vec<crate::models::OneText> = db_load!(conn, query)?;
    for d in &aside.definitions {
        batch(conn, &d.create_sql).await?;
    }
    Ok(())
}

/// Takes the tables' locks, all in one statement. A deadlock (a reader that holds one of
/// them waits for one the statement already holds) ends the attempt: its locks are let go
/// (back to a savepoint) and the statement runs again.
async fn lock_tables(conn: &mut Conn) -> Result<(), DbError> {
    use diesel_async::SimpleAsyncConnection;
    let mut attempt = 1;
    loop {
        batch(conn, "SAVEPOINT bulk_lock").await?;
        let locked = db_run!(conn, |c| c.batch_execute(LOCK).await);
        match locked {
            Ok(()) => return batch(conn, "RELEASE SAVEPOINT bulk_lock").await,
            Err(e) if attempt < LOCK_ATTEMPTS && is_deadlock(&e) => {
                batch(conn, "ROLLBACK TO SAVEPOINT bulk_lock").await?;
                tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
                attempt += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Whether the foreign key from a location to its parent is in force in `conn`'s
/// transaction: on PostgreSQL when [`set_aside`] kept it; never in a SQLite bulk
/// transaction, which runs with foreign keys off.
pub(crate) async fn parent_key_is_live(conn: &mut Conn) -> Result<bool, DbError> {
    if conn.backend() == crate::config::Backend::Sqlite {
        return Ok(false);
    }
    let query = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_constraint \
         WHERE conrelid = 'locations'::regclass AND contype = 'f'",
    );
    let rows: Vec<crate::models::Count> = db_load!(conn, query)?;
    Ok(rows.first().is_some_and(|r| r.n > 0))
}

/// PostgreSQL's refusal to drop what another role owns.
fn is_not_owner(e: &DbError) -> bool {
    matches!(e, DbError::Query(diesel::result::Error::DatabaseError(_, info))
        if info.message().starts_with("must be owner of"))
}

fn is_deadlock(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(_, info)
        if info.message().starts_with("deadlock detected"))
}
