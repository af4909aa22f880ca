//! Full-text search over items and locations: "where is my drill?".
//!
//! PostgreSQL uses GIN expression indexes over `to_tsvector('simple', …)`; SQLite an FTS5
//! table kept in sync by triggers. Both see the same words: runs of letters and digits,
//! lower-cased, each matched as a prefix, every word required.

use std::collections::HashMap;

use crate::conn::Conn;
use crate::error::DbError;
use crate::models::item::{ItemRecord, SearchHit};
use crate::ops::locations::full_paths;
use crate::pool::Database;

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

impl Database {
    /// "Where is my drill?": ranked hits over item and location names, descriptions,
    /// notes and serial numbers, each with its full location path. Every word must match
    /// (as a prefix).
    pub async fn search(&self, text: &str, limit: i64) -> Result<Vec<SearchHit>, DbError> {
        self.read(async |c| search(c, text, limit).await).await
    }
}
