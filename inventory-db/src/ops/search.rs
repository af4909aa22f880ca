//! Full-text search over items and locations: "where is my drill?".
//!
//! PostgreSQL uses GIN expression indexes over `to_tsvector('simple', …)`; SQLite an FTS5
//! table kept in sync by triggers. Both see the same words: runs of letters and digits,
//! lower-cased, each matched as a prefix, every word required.

use std::collections::HashMap;

use diesel::sql_types::{BigInt, Text};
use inventory_core::LocationId;

use crate::conn::{db_run, Conn, Dialect};
use crate::error::DbError;
use crate::models::item::{fts_in_name, fts_phrases, tsquery_text, ItemRecord, SearchHit};
use crate::models::{Cached, Count};
use crate::ops::locations::full_paths;
use crate::pool::Database;
use crate::Backend;

/// Most hits one search returns.
pub const MAX_HITS: i64 = 1000;

/// The words of a search text: runs of letters and digits, lower-cased. Only these reach
/// the full-text query syntax of either backend.
pub(crate) fn search_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Ranked hits, best first, each with its full path (at most `limit`, clamped to 1..=[`MAX_HITS`]).
pub async fn search(conn: &mut Conn, text: &str, limit: i64) -> Result<Vec<SearchHit>, DbError> {
    let words = search_words(text);
    if words.is_empty() {
        return Err(DbError::BadParameter {
            field: "q",
            reason: format!("\"{}\" has no words to look for", text.trim()),
        });
    }
    let rows = ItemRecord::search_rows(conn, &words, limit.clamp(1, MAX_HITS)).await?;
    let item_ids: Vec<i64> = rows
        .iter()
        .filter(|r| r.kind == "item")
        .map(|r| r.id)
        .collect();
    let items: HashMap<i64, (String, i64)> = ItemRecord::names_and_locations(conn, &item_ids)
        .await?
        .into_iter()
        .map(|(id, name, location)| (id, (name, location)))
        .collect();
    let mut wanted: Vec<i64> = rows
        .iter()
        .filter(|r| r.kind == "location")
        .map(|r| r.id)
        .collect();
    wanted.extend(items.values().map(|(_, location)| *location));
    wanted.sort_unstable();
    wanted.dedup();
    let paths = full_paths(conn, &wanted).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| match r.kind.as_str() {
            "item" => items.get(&r.id).map(|(name, location)| SearchHit {
                kind: "item",
                id: r.id,
                name: name.clone(),
                path: paths.get(location).cloned().unwrap_or_default(),
                rank: r.rank,
            }),
            _ => paths.get(&r.id).map(|path| SearchHit {
                kind: "location",
                id: r.id,
                name: path
                    .rsplit(inventory_core::PATH_SEPARATOR)
                    .next()
                    .unwrap_or(path)
                    .to_string(),
                path: path.clone(),
                rank: r.rank,
            }),
        })
        .collect())
}

/// Ids of locations whose name holds every word (as a prefix), at most `$2`, unranked. On
/// SQLite a location's entry has an odd rowid (`2 * id + 1`), so items are skipped without
/// reading them; on PostgreSQL `ix_locations_search` finds the candidates (its expression
/// exactly) and the name is checked on the rows found.
const LOCATIONS_NAMED: Dialect = Dialect {
    postgres: "SELECT id AS n FROM locations \
               WHERE to_tsvector('simple', regexp_replace(name || ' ' || coalesce(description, ''), '[^[:alnum:]]+', ' ', 'g')) @@ to_tsquery('simple', $1) \
                 AND to_tsvector('simple', regexp_replace(name, '[^[:alnum:]]+', ' ', 'g')) @@ to_tsquery('simple', $1) \
               LIMIT $2",
    sqlite: "SELECT (rowid - 1) / 2 AS n FROM search_fts \
             WHERE search_fts MATCH $1 AND rowid % 2 = 1 LIMIT $2",
};

/// Locations whose name holds every word of `text`, each as a prefix (at most `limit`,
/// clamped to 1..=[`MAX_HITS`]), with their full paths, nearest the root first, then by
/// path: for a location picker, which wants names, not ranks. Unranked, so a short or
/// common word costs what a rare one does (SQLite's bm25 would count every entry that a
/// prefix such as `1` matches: half a million at 10^6 rows). No words: no locations.
pub async fn locations_named(
    conn: &mut Conn,
    text: &str,
    limit: i64,
) -> Result<Vec<(LocationId, String)>, DbError> {
    let words = search_words(text);
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let query_text = match conn.backend() {
        Backend::Postgres => tsquery_text(&words),
        Backend::Sqlite => fts_in_name(&fts_phrases(&words)),
    };
    let sql = LOCATIONS_NAMED.sql(conn);
    let limit = limit.clamp(1, MAX_HITS);
    let rows: Vec<Count> = db_run!(conn, |c| {
        let query = Cached(
            diesel::sql_query(sql)
                .bind::<Text, _>(query_text)
                .bind::<BigInt, _>(limit),
        );
        diesel_async::RunQueryDsl::load(query, c).await
    })?;
    let ids: Vec<LocationId> = rows.into_iter().map(|r| r.n).collect();
    let paths = full_paths(conn, &ids).await?;
    let mut found: Vec<(LocationId, String)> = ids
        .into_iter()
        .filter_map(|id| paths.get(&id).map(|p| (id, p.clone())))
        .collect();
    found.sort_by_cached_key(|(id, path)| {
        let depth = path.matches(inventory_core::PATH_SEPARATOR).count();
        (depth, inventory_core::name_key(path), *id)
    });
    Ok(found)
}

impl Database {
    /// "Where is my drill?": ranked hits over item and location names, descriptions,
    /// notes and serial numbers, each with its full location path. Every word must match
    /// (as a prefix).
    pub async fn search(&self, text: &str, limit: i64) -> Result<Vec<SearchHit>, DbError> {
        self.read(async |c| search(c, text, limit).await).await
    }

    /// Locations by the words of their name, with full paths (see [`locations_named`]).
    pub async fn locations_named(
        &self,
        text: &str,
        limit: i64,
    ) -> Result<Vec<(LocationId, String)>, DbError> {
        self.read(async |c| locations_named(c, text, limit).await)
            .await
    }
}
