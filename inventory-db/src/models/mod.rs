//! Public record types returned by [`crate::Database`], one file per table.

pub mod item;
pub mod location;
pub mod user;

use chrono::{DateTime, NaiveDateTime, Timelike, Utc};

/// The current time in UTC at microsecond precision (what both backends store exactly).
pub(crate) fn now() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    now.with_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now)
}

pub(crate) fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// A page of results and the cursor that continues it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Page<T> {
    /// The records of this page.
    pub items: Vec<T>,
    /// Pass this as the cursor to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Which page of a list to return: keyset pagination by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Most records on the page (1..=[`PageRequest::MAX_LIMIT`]; 0 means the default).
    pub limit: u32,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageRequest {
    /// Records per page when none is asked for.
    pub const DEFAULT_LIMIT: u32 = 100;
    /// The largest page.
    pub const MAX_LIMIT: u32 = 10_000;

    /// A first page of `limit` records.
    pub fn first(limit: u32) -> Self {
        PageRequest {
            limit,
            cursor: None,
        }
    }

    pub(crate) fn effective_limit(&self) -> Result<i64, crate::DbError> {
        match self.limit {
            0 => Ok(i64::from(Self::DEFAULT_LIMIT)),
            n if n > Self::MAX_LIMIT => Err(crate::DbError::Invalid(format!(
                "limit {n} is too large; at most {} are allowed",
                Self::MAX_LIMIT
            ))),
            n => Ok(i64::from(n)),
        }
    }

    /// Cuts a result fetched with `limit + 1` rows to the page, and gives the cursor of the
    /// next page when there is one.
    pub(crate) fn cut<T>(
        records: &mut Vec<T>,
        limit: i64,
        id_of: impl Fn(&T) -> i64,
    ) -> Option<String> {
        if records.len() as i64 > limit {
            records.truncate(limit as usize);
            records.last().map(|r| id_of(r).to_string())
        } else {
            None
        }
    }

    pub(crate) fn after_id(&self) -> Result<i64, crate::DbError> {
        match &self.cursor {
            None => Ok(0),
            Some(c) => c
                .parse::<i64>()
                .ok()
                .filter(|v| *v >= 0)
                .ok_or_else(|| crate::DbError::Invalid(format!("invalid cursor \"{c}\""))),
        }
    }
}

pub(crate) fn serialize_utc<S: serde::Serializer>(
    t: &NaiveDateTime,
    s: S,
) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&t.and_utc(), s)
}

pub(crate) fn serialize_opt_utc<S: serde::Serializer>(
    t: &Option<NaiveDateTime>,
    s: S,
) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&t.map(|t| t.and_utc()), s)
}
