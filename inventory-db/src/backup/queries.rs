// Backup reads and restore writes shared by both backends. Included into `backup::pg` and
// `backup::sqlite`, which define `Conn`, `read_tx!`, `write_tx!`, `insert_batch!` and `RESET_SEQUENCES` first.

use diesel::prelude::*;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};

use crate::admin::TableCount;
use crate::backup::tables::{BackupRow, LocationData, Snapshot};
use crate::backup::Progress;
use crate::error::DbError;
use crate::schema::locations::dsl as l;

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
        Ok::<_, DbError>(Snapshot { locations })
    })
}

/// Rows in each table a backup holds.
async fn row_counts(c: &mut Conn) -> Result<Vec<TableCount>, DbError> {
    let locations: i64 = l::locations.count().get_result(c).await?;
    Ok(vec![TableCount {
        table: "locations".into(),
        rows: locations,
    }])
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
        diesel::delete(l::locations).execute(c).await?;
        progress(0, total);
        let mut done = 0u64;
        for chunk in ordered.locations.chunks(batch_rows::<LocationData>()) {
            insert_batch!(c, l::locations, chunk)?;
            done += chunk.len() as u64;
            progress(done, total);
        }
        c.batch_execute(RESET_SEQUENCES).await?;
        Ok(())
    })
}
