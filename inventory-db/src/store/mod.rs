//! Queries, written once in `queries.rs` and compiled for each backend.
//!
//! diesel-async has no multi-backend connection, and generic code over both would carry
//! every diesel trait bound. Instead `queries.rs` is included into `pg` and `sqlite`, each
//! of which first defines `Conn`, the backend's `tree_tx!` transaction macro and the few
//! queries whose SQL differs.

use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};
use diesel::QueryableByName;

/// One row of `chains.sql`: an ancestor of a seed location.
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

/// One row of `subtree.sql` / `forest.sql`.
#[derive(Debug, QueryableByName)]
pub(crate) struct SubtreeRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub description: Option<String>,
    #[diesel(sql_type = Text)]
    pub location_type: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub parent_id: Option<i64>,
    #[diesel(sql_type = Timestamp)]
    pub created_at: chrono::NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    pub updated_at: chrono::NaiveDateTime,
    #[diesel(sql_type = Integer)]
    pub depth: i32,
}

/// One row of `search.sql`.
#[derive(Debug, QueryableByName)]
pub(crate) struct SearchRow {
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub rank: f64,
}

/// The words of a search text: runs of letters and digits, lower-cased. Only these reach
/// the full-text query syntax of either backend.
pub(crate) fn search_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Checks a new item as an insert would (the same in both backends).
pub(crate) fn validate_new_item(item: &crate::models::item::NewItem) -> Result<(), crate::DbError> {
    sqlite::validate_item(item).map(drop)
}

diesel::define_sql_function! {
    /// SQL `lower()`.
    fn lower(x: Text) -> Text;
}

/// Key of the transaction-scoped advisory lock that serialises tree writes on PostgreSQL.
const TREE_LOCK_KEY: i64 = 0x0048_4f4d_4549_4e56; // "HOMEINV" in ASCII

pub(crate) mod pg {
    pub(crate) type Conn = diesel_async::AsyncPgConnection;

    /// A write transaction on the tree: READ COMMITTED plus a transaction-scoped advisory
    /// lock, so that concurrent moves are checked and applied one at a time.
    macro_rules! tree_tx {
        ($conn:expr, |$c:ident| $body:expr) => {
            diesel_async::AsyncConnection::transaction($conn, async |$c: &mut Conn| {
                diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                    .bind::<diesel::sql_types::BigInt, _>(super::TREE_LOCK_KEY)
                    .execute($c)
                    .await?;
                $body
            })
            .await
        };
    }

    pub(crate) async fn chains(
        conn: &mut Conn,
        ids: &[i64],
    ) -> diesel::QueryResult<Vec<super::ChainRow>> {
        diesel::sql_query(include_str!("../sql/postgres/chains.sql"))
            .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(ids)
            .load(conn)
            .await
    }

    /// Ranked hits; every word must match, each as a prefix.
    pub(crate) async fn search_hits(
        conn: &mut Conn,
        words: &[String],
        limit: i64,
    ) -> diesel::QueryResult<Vec<super::SearchRow>> {
        let query: Vec<String> = words.iter().map(|w| format!("{w}:*")).collect();
        diesel::sql_query(include_str!("../sql/postgres/search.sql"))
            .bind::<diesel::sql_types::Text, _>(query.join(" & "))
            .bind::<diesel::sql_types::BigInt, _>(limit)
            .load(conn)
            .await
    }

    include!("queries.rs");
    include!("items.rs");
}

pub(crate) mod sqlite {
    pub(crate) type Conn = crate::pool::SqliteConn;

    /// A write transaction on the tree: `BEGIN IMMEDIATE` takes SQLite's write lock up
    /// front, so checks and writes cannot interleave with another writer.
    macro_rules! tree_tx {
        ($conn:expr, |$c:ident| $body:expr) => {
            $conn
                .immediate_transaction(async |$c: &mut Conn| $body)
                .await
        };
    }

    pub(crate) async fn chains(
        conn: &mut Conn,
        ids: &[i64],
    ) -> diesel::QueryResult<Vec<super::ChainRow>> {
        let json = format!(
            "[{}]",
            ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        );
        diesel::sql_query(include_str!("../sql/sqlite/chains.sql"))
            .bind::<diesel::sql_types::Text, _>(json)
            .load(conn)
            .await
    }

    /// Ranked hits; every word must match, each as a prefix.
    pub(crate) async fn search_hits(
        conn: &mut Conn,
        words: &[String],
        limit: i64,
    ) -> diesel::QueryResult<Vec<super::SearchRow>> {
        let query: Vec<String> = words.iter().map(|w| format!("\"{w}\"*")).collect();
        diesel::sql_query(include_str!("../sql/sqlite/search.sql"))
            .bind::<diesel::sql_types::Text, _>(query.join(" "))
            .bind::<diesel::sql_types::BigInt, _>(limit)
            .load(conn)
            .await
    }

    include!("queries.rs");
    include!("items.rs");
}

/// The advisory lock key of tree writes, for other modules' PostgreSQL write transactions
/// (a restore takes it so that it serialises with moves and with other restores).
pub(crate) const TREE_WRITE_LOCK_KEY: i64 = TREE_LOCK_KEY;
