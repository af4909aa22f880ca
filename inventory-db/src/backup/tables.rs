//! The tables a backup holds: one typed row struct per table and the registry in dependency order.
//!
//! Adding a table: a row struct here implementing [`BackupRow`], its entry in [`TABLES`]
//! (after the tables it references), a field in [`Snapshot`] with a line in each of its
//! `match`es, its read/delete/insert lines in `backup/queries.rs`, and its sequence in
//! `sql/*/reset_sequences.sql`.

use chrono::{DateTime, NaiveDateTime, Timelike, Utc};
use diesel::prelude::*;

use crate::schema::locations;

/// A table as the backup format names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TableSpec {
    /// Table name.
    pub name: &'static str,
    /// Columns, in the order of the values on each row line.
    pub columns: &'static [&'static str],
}

/// Every table, parents before children: backups write them in this order, restores
/// insert in this order and delete in the reverse order.
pub(crate) const TABLES: &[TableSpec] = &[LocationData::SPEC];

/// A row type of the backup: one JSON array per line, values in [`TableSpec::columns`] order.
pub(crate) trait BackupRow: Sized {
    /// The table.
    const SPEC: TableSpec;
    /// The primary key (rows are written in its order).
    fn key(&self) -> i64;
    /// Appends the row's JSON array (no newline).
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error>;
    /// Parses one row line.
    fn decode(line: &str) -> Result<Self, String>;
}

/// Timestamps in one normalized form: RFC 3339, UTC, microseconds, `Z`.
pub(crate) fn format_timestamp(t: NaiveDateTime) -> String {
    t.and_utc().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Parses any RFC 3339 timestamp, converted to UTC and cut to microseconds (what both
/// backends store exactly).
pub(crate) fn parse_timestamp(column: &str, s: &str) -> Result<NaiveDateTime, String> {
    let t = DateTime::parse_from_rfc3339(s)
        .map_err(|e| format!("{column} \"{s}\" is not an RFC 3339 timestamp: {e}"))?
        .with_timezone(&Utc)
        .naive_utc();
    Ok(t.with_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t))
}

/// A full row of `locations`.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = locations, treat_none_as_default_value = false)]
pub(crate) struct LocationData {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub location_type: String,
    pub parent_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

type LocationTuple = (
    i64,
    String,
    Option<String>,
    String,
    Option<i64>,
    String,
    String,
);

impl BackupRow for LocationData {
    const SPEC: TableSpec = TableSpec {
        name: "locations",
        columns: &[
            "id",
            "name",
            "description",
            "location_type",
            "parent_id",
            "created_at",
            "updated_at",
        ],
    };

    fn key(&self) -> i64 {
        self.id
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        serde_json::to_writer(
            out,
            &(
                self.id,
                &self.name,
                &self.description,
                &self.location_type,
                self.parent_id,
                format_timestamp(self.created_at),
                format_timestamp(self.updated_at),
            ),
        )
    }

    fn decode(line: &str) -> Result<Self, String> {
        let (id, name, description, location_type, parent_id, created, updated): LocationTuple =
            serde_json::from_str(line).map_err(|e| format!("bad locations row: {e}"))?;
        Ok(LocationData {
            id,
            name,
            description,
            location_type,
            parent_id,
            created_at: parse_timestamp("created_at", &created)?,
            updated_at: parse_timestamp("updated_at", &updated)?,
        })
    }
}

/// Every row of every table, each table ordered by primary key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Snapshot {
    /// `locations` rows.
    pub locations: Vec<LocationData>,
}

impl Snapshot {
    /// Rows per table, in [`TABLES`] order.
    pub(crate) fn counts(&self) -> Vec<(&'static str, u64)> {
        TABLES
            .iter()
            .map(|t| {
                let n = match t.name {
                    "locations" => self.locations.len(),
                    _ => 0,
                };
                (t.name, n as u64)
            })
            .collect()
    }

    /// Every row's line of table `index` of [`TABLES`], in key order, each passed to `f`.
    pub(crate) fn for_each_line(
        &self,
        index: usize,
        mut f: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        fn each<R: BackupRow>(
            rows: &[R],
            f: &mut impl FnMut(&[u8]) -> std::io::Result<()>,
        ) -> std::io::Result<()> {
            let mut buf = Vec::with_capacity(256);
            for row in rows {
                buf.clear();
                row.encode(&mut buf)?;
                f(&buf)?;
            }
            Ok(())
        }
        match TABLES.get(index).map(|t| t.name) {
            Some("locations") => each(&self.locations, &mut f),
            _ => Ok(()),
        }
    }

    /// Parses one row line of table `index` of [`TABLES`] and appends it.
    pub(crate) fn push_line(&mut self, index: usize, line: &str) -> Result<(), String> {
        match TABLES.get(index).map(|t| t.name) {
            Some("locations") => self.locations.push(LocationData::decode(line)?),
            _ => return Err("row of an unknown table".into()),
        }
        Ok(())
    }

    /// The primary keys of table `index`, in stored order (for the order check).
    pub(crate) fn keys(&self, index: usize) -> Vec<i64> {
        match TABLES.get(index).map(|t| t.name) {
            Some("locations") => self.locations.iter().map(BackupRow::key).collect(),
            _ => Vec::new(),
        }
    }
}
