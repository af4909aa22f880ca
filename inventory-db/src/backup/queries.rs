// Backup reads and restore writes shared by both backends. Included into `backup::pg` and
// `backup::sqlite`, which define `Conn`, `read_tx!`, `write_tx!`, `insert_batch!` and `RESET_SEQUENCES` first.

use diesel::prelude::*;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};

use crate::admin::TableCount;
use crate::backup::tables::{
    ApiTokenData, BackupRow, CategoryData, ItemData, LocationData, Snapshot, UserData,
};
use crate::backup::Progress;
use crate::error::DbError;
use crate::schema::api_tokens::dsl as t;
use crate::schema::categories::dsl as cat;
use crate::schema::items::dsl as i;
use crate::schema::locations::dsl as l;
use crate::schema::users::dsl as u;

/// Bind parameters per multi-row INSERT: under SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_BIND_PARAMS: usize = 30_000;

/// Rows per INSERT statement for a table.
fn batch_rows<R: BackupRow>() -> usize {
    (MAX_BIND_PARAMS / R::SPEC.columns.len()).max(1)
}

/// Every row of every table, each ordered by primary key, from one consistent snapshot.
pub(crate) async fn read_snapshot(conn: &mut Conn) -> Result<Snapshot, DbError> {
    read_tx!(conn, |c| {
        let locations: Vec<LocationData> = l::locations
            .select(LocationData::as_select())
            .order(l::id)
            .load(c)
            .await?;
        let categories: Vec<CategoryData> = cat::categories
            .select(CategoryData::as_select())
            .order(cat::id)
            .load(c)
            .await?;
        let items: Vec<ItemData> = i::items
            .select(ItemData::as_select())
            .order(i::id)
            .load(c)
            .await?;
        let users: Vec<UserData> = u::users
            .select(UserData::as_select())
            .order(u::id)
            .load(c)
            .await?;
        let api_tokens: Vec<ApiTokenData> = t::api_tokens
            .select(ApiTokenData::as_select())
            .order(t::id)
            .load(c)
            .await?;
        Ok::<_, DbError>(Snapshot {
            locations,
            categories,
            items,
            users,
            api_tokens,
        })
    })
}

/// Rows in each table a backup holds.
async fn row_counts(c: &mut Conn) -> Result<Vec<TableCount>, DbError> {
    let counts: [(&str, i64); 5] = [
        ("locations", l::locations.count().get_result(c).await?),
        ("categories", cat::categories.count().get_result(c).await?),
        ("items", i::items.count().get_result(c).await?),
        ("users", u::users.count().get_result(c).await?),
        ("api_tokens", t::api_tokens.count().get_result(c).await?),
    ];
    Ok(counts
        .into_iter()
        .map(|(table, rows)| TableCount {
            table: table.into(),
            rows,
        })
        .collect())
}

/// In one write transaction: (optionally) checks that every table is empty, deletes every
/// row (children's tables first), inserts `ordered` (parents before children, in
/// batches), and resets the id sequences. Any error rolls all of it back.
pub(crate) async fn replace_all(
    conn: &mut Conn,
    ordered: &Snapshot,
    require_empty: bool,
    progress: Progress<'_>,
) -> Result<(), DbError> {
    let total: u64 = ordered.counts().iter().map(|(_, n)| n).sum();
    write_tx!(conn, |c| {
        if require_empty {
            if let Some(t) = row_counts(c).await?.into_iter().find(|t| t.rows > 0) {
                return Err(DbError::Conflict(format!(
                    "the target database is not empty: table {} has {} row(s)",
                    t.table, t.rows
                )));
            }
        }
        // Children's tables first, so that no foreign key (items' RESTRICT on locations
        // included) ever sees a missing parent. On SQLite the search triggers drop the
        // deleted rows' entries and index the inserted ones.
        diesel::delete(t::api_tokens).execute(c).await?;
        diesel::delete(u::users).execute(c).await?;
        diesel::delete(i::items).execute(c).await?;
        diesel::delete(cat::categories).execute(c).await?;
        diesel::delete(l::locations).execute(c).await?;
        progress(0, total);
        let mut done = 0u64;
        for chunk in ordered.locations.chunks(batch_rows::<LocationData>()) {
            insert_batch!(c, l::locations, chunk)?;
            done += chunk.len() as u64;
            progress(done, total);
        }
        for chunk in ordered.categories.chunks(batch_rows::<CategoryData>()) {
            insert_batch!(c, cat::categories, chunk)?;
            done += chunk.len() as u64;
            progress(done, total);
        }
        for chunk in ordered.items.chunks(batch_rows::<ItemData>()) {
            insert_batch!(c, i::items, chunk)?;
            done += chunk.len() as u64;
            progress(done, total);
        }
        for chunk in ordered.users.chunks(batch_rows::<UserData>()) {
            insert_batch!(c, u::users, chunk)?;
            done += chunk.len() as u64;
            progress(done, total);
        }
        for chunk in ordered.api_tokens.chunks(batch_rows::<ApiTokenData>()) {
            insert_batch!(c, t::api_tokens, chunk)?;
            done += chunk.len() as u64;
            progress(done, total);
        }
        c.batch_execute(RESET_SEQUENCES).await?;
        Ok(())
    })
}
