//! The tables: one file per table, each with its row struct (what queries read, restores
//! insert and backups write), the queries on that table as inherent async functions taking
//! a [`crate::Conn`], and the public shapes the library hands out for it.

pub mod api_token;
pub mod category;
pub mod item;
pub mod location;
pub(crate) mod totals;
pub mod user;

use chrono::{DateTime, NaiveDateTime, Timelike, Utc};
use diesel::sql_types::Text;

use crate::error::DbError;

/// Depth bound for "no limit" in recursive queries: far deeper than any home, and it
/// stops a walk on damaged data that holds a cycle.
pub(crate) const UNLIMITED_DEPTH: i32 = 100_000;

diesel::define_sql_function! {
    /// SQL `lower()`.
    fn lower(x: Text) -> Text;
}

/// The current time in UTC at microsecond precision (what both backends store exactly).
pub(crate) fn now() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    now.with_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now)
}

/// A raw SQL statement of a fixed text, which the connection prepares once and then reuses
/// (keyed by its text and bind types), as it does for diesel's own queries. diesel
/// prepares every `sql_query` afresh, since it cannot know whether the text was built from
/// values; ours come from `sql/` or a small fixed set of variants, with every value bound,
/// so caching them is safe — and it saves PostgreSQL a parse, a plan and a round trip per
/// statement.
#[derive(Clone, Debug)]
pub(crate) struct Cached<Q>(pub Q);

impl<DB, Q> diesel::query_builder::QueryFragment<DB> for Cached<Q>
where
    DB: diesel::backend::Backend,
    Q: diesel::query_builder::QueryFragment<DB>,
{
    fn walk_ast<'b>(
        &'b self,
        pass: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> diesel::QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> diesel::query_builder::QueryId for Cached<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for Cached<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, C> diesel::RunQueryDsl<C> for Cached<Q> {}

/// A timestamp read by a whole-table or whole-subtree read. On SQLite the column is text
/// (`2026-12-02 04:05:46.123456`, as diesel writes it), and this reads that shape by hand:
/// diesel's own reading tries chrono's format parser, which costs more than the rest of
/// the row. Any other shape falls back to diesel's reading; PostgreSQL's binary timestamp
/// is diesel's reading.
#[derive(Clone, Copy, Debug, diesel::deserialize::FromSqlRow)]
pub(crate) struct Stamp(pub NaiveDateTime);

impl diesel::deserialize::FromSql<diesel::sql_types::Timestamp, diesel::sqlite::Sqlite> for Stamp {
    fn from_sql(
        mut value: diesel::sqlite::SqliteValue<'_, '_, '_>,
    ) -> diesel::deserialize::Result<Self> {
        let quick = match value.value_type() {
            Some(diesel::sqlite::SqliteType::Text) => parse_stamp(value.read_text()),
            _ => None,
        };
        match quick {
            Some(t) => Ok(Stamp(t)),
            None => <NaiveDateTime as diesel::deserialize::FromSql<
                diesel::sql_types::Timestamp,
                diesel::sqlite::Sqlite,
            >>::from_sql(value)
            .map(Stamp),
        }
    }
}

impl diesel::deserialize::FromSql<diesel::sql_types::Timestamp, diesel::pg::Pg> for Stamp {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
        <NaiveDateTime as diesel::deserialize::FromSql<
            diesel::sql_types::Timestamp,
            diesel::pg::Pg,
        >>::from_sql(value)
        .map(Stamp)
    }
}

/// `YYYY-MM-DD HH:MM:SS` with an optional fraction of 1 to 9 digits; `None` for anything else.
fn parse_stamp(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let date =
        chrono::NaiveDate::from_ymd_opt(i32::try_from(num(0..4)?).ok()?, num(5..7)?, num(8..10)?)?;
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let n = num(20..b.len())?;
            n * 10u32.pow(9 - u32::try_from(digits.len()).ok()?)
        }
        _ => return None,
    };
    let time =
        chrono::NaiveTime::from_hms_nano_opt(num(11..13)?, num(14..16)?, num(17..19)?, nanos)?;
    Some(date.and_time(time))
}

/// Ids as one JSON array bind (`[1,2,3]`): recursive and `IN` queries read them with
/// `json_each` (SQLite) or `jsonb_array_elements_text` (PostgreSQL), so no statement ever
/// binds an unbounded list of parameters.
pub(crate) fn id_list(ids: &[i64]) -> String {
    let mut out = String::with_capacity(ids.len() * 8 + 2);
    out.push('[');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&id.to_string());
    }
    out.push(']');
    out
}

/// Whether `text` could be (part of) a stored name or name key. No stored name holds a
/// control character, and PostgreSQL text cannot hold NUL at all: a lookup by text with a
/// NUL finds nothing, and is not sent (PostgreSQL would refuse the statement).
pub(crate) fn may_be_stored(text: &str) -> bool {
    !text.contains('\0')
}

/// `%text%` for a case-insensitive LIKE, with the wildcards in `text` escaped; `None` for
/// blank text.
pub(crate) fn like_pattern(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| {
        format!(
            "%{}%",
            text.to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    })
}

/// One nullable text column `v` (a setting, a check's finding, a schema line).
#[derive(Debug, diesel::QueryableByName)]
pub(crate) struct OneText {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub v: Option<String>,
}

/// One count `n`.
#[derive(Debug, diesel::QueryableByName)]
pub(crate) struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
}

/// A page of results and the cursor that continues it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Page<T> {
    /// The records of this page.
    pub items: Vec<T>,
    /// Pass this as the cursor to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Which page of a list to return: keyset pagination by id, with an opaque cursor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Most records on the page (1..=[`PageRequest::MAX_LIMIT`]; 0 means the default).
    pub limit: u32,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Cursors look like `c` followed by the last id in hex: opaque to clients, checked on the way in.
const CURSOR_PREFIX: char = 'c';

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

    pub(crate) fn effective_limit(&self) -> Result<i64, DbError> {
        match self.limit {
            0 => Ok(i64::from(Self::DEFAULT_LIMIT)),
            n if n > Self::MAX_LIMIT => Err(DbError::BadParameter {
                field: "limit",
                reason: format!("{n} is too large; at most {} are allowed", Self::MAX_LIMIT),
            }),
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
            records.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            records
                .last()
                .map(|r| format!("{CURSOR_PREFIX}{:x}", id_of(r)))
        } else {
            None
        }
    }

    pub(crate) fn after_id(&self) -> Result<i64, DbError> {
        let Some(cursor) = &self.cursor else {
            return Ok(0);
        };
        cursor
            .strip_prefix(CURSOR_PREFIX)
            .filter(|hex| !hex.is_empty() && hex.len() <= 16)
            .and_then(|hex| i64::from_str_radix(hex, 16).ok())
            .filter(|id| *id >= 0)
            .ok_or_else(|| DbError::BadParameter {
                field: "cursor",
                reason: format!("\"{cursor}\" is not a cursor of this list"),
            })
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

/// UTC `DateTime` of a stored timestamp.
pub(crate) fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

#[cfg(test)]
mod tests {
    use super::parse_stamp;

    #[test]
    fn stamps_read_by_hand_equal_chronos_reading() {
        for text in [
            "2026-12-02 04:05:46",
            "2026-12-02 04:05:46.5",
            "2026-12-02 04:05:46.123456",
            "2026-12-02 04:05:46.123456789",
            "1999-01-31 23:59:59.000001",
        ] {
            let chrono = chrono::NaiveDateTime::parse_from_str(text, "%F %T%.f").ok();
            assert_eq!(parse_stamp(text), chrono, "{text}");
        }
        for text in [
            "2026-02-30 04:05:46",
            "2026-12-02T04:05:46",
            "2026-12-02 04:05",
            "2026-12-02 24:00:00",
            "2026-12-02 04:05:46.",
            "2026-12-02 04:05:46.1234567890",
            "2026-12-02 04:05:46Z",
            "２026-12-02 04:05:46",
        ] {
            assert_eq!(parse_stamp(text), None, "{text}");
        }
    }
}
