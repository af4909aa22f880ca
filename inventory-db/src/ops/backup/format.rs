//! The backup file format: JSON Lines — a header, one line per row, a checksummed trailer.

use std::io::{BufRead, Read, Write};

use serde::{Deserialize, Serialize};

use super::tables::Snapshot;
use super::{Progress, FORMAT_NAME, FORMAT_VERSION};
use crate::error::{DbError, FileKind};

/// The longest line a reader accepts: far above any real row, small enough that a
/// damaged file cannot make the reader hold gigabytes for one line.
const MAX_LINE_BYTES: u64 = 4 << 20;

/// How often (in rows) progress is reported while encoding.
const PROGRESS_EVERY: u64 = 1024;

/// FNV-1a, 64 bits: a small, dependency-free checksum that catches truncation and
/// corruption (not a defence against deliberate tampering).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fnv1a64(u64);

impl Fnv1a64 {
    pub(crate) fn new() -> Self {
        Fnv1a64(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    pub(crate) fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// Line 1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    format_version: u32,
    schema_version: String,
    tables: Vec<HeaderTable>,
}

/// A table in the header: its columns and how many row lines follow for it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderTable {
    name: String,
    columns: Vec<String>,
    rows: u64,
}

/// The last line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Trailer {
    total_rows: u64,
    fnv1a64: String,
}

/// Writes `snapshot` in the backup format. Nothing in it depends on when or where it is
/// written, so equal data gives equal bytes.
pub(crate) fn encode(
    snapshot: &Snapshot,
    schema_version: &str,
    out: &mut dyn Write,
    progress: Progress<'_>,
) -> std::io::Result<()> {
    let counts = snapshot.counts();
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    let header = Header {
        format: FORMAT_NAME.to_string(),
        format_version: FORMAT_VERSION,
        schema_version: schema_version.to_string(),
        tables: snapshot
            .tables()
            .iter()
            .map(|t| HeaderTable {
                name: t.spec().name.to_string(),
                columns: t
                    .spec()
                    .backup_columns()
                    .iter()
                    .map(|c| (*c).to_string())
                    .collect(),
                rows: t.len() as u64,
            })
            .collect(),
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    let mut hash = Fnv1a64::new();
    let mut line = serde_json::to_vec(&header)?;
    line.push(b'\n');
    hash.update(&line);
    out.write_all(&line)?;
    progress(0, total);
    let mut done = 0u64;
    for table in snapshot.tables() {
        table.for_each_line(&mut |row| {
            hash.update(row);
            hash.update(b"\n");
            out.write_all(row)?;
            out.write_all(b"\n")?;
            done += 1;
            if done % PROGRESS_EVERY == 0 {
                progress(done, total);
            }
            Ok(())
        })?;
    }
    let trailer = Trailer {
        total_rows: total,
        fnv1a64: hash.hex(),
    };
    let mut line = serde_json::to_vec(&trailer)?;
    line.push(b'\n');
    out.write_all(&line)?;
    out.flush()?;
    progress(total, total);
    Ok(())
}

/// A backup read and checked for syntax, counts and checksum (not yet for meaning).
#[derive(Debug)]
pub(crate) struct Decoded {
    pub schema_version: String,
    pub snapshot: Snapshot,
}

/// What one read of a line gave.
enum Next {
    /// A whole line, newline removed.
    Line(String),
    /// The input ended inside a line (no newline): the file was cut off.
    Cut(String),
    /// The input ended.
    Eof,
}

struct Lines<R> {
    inner: R,
    number: u64,
    buf: Vec<u8>,
}

impl<R: BufRead> Lines<R> {
    fn next(&mut self) -> Result<Next, DbError> {
        self.buf.clear();
        self.number += 1;
        let n = (&mut self.inner)
            .take(MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| {
                DbError::file(
                    FileKind::Backup,
                    Some(self.number),
                    format!("cannot read ({e}); the file is truncated or corrupt"),
                )
            })?;
        if n == 0 {
            return Ok(Next::Eof);
        }
        let complete = self.buf.last() == Some(&b'\n');
        if complete {
            self.buf.pop();
        } else if self.buf.len() as u64 > MAX_LINE_BYTES {
            return Err(self.unreadable(format!("longer than {MAX_LINE_BYTES} bytes")));
        }
        let text = match std::str::from_utf8(&self.buf) {
            Ok(text) => text.to_string(),
            Err(_) => return Err(self.unreadable("not valid UTF-8".into())),
        };
        Ok(if complete {
            Next::Line(text)
        } else {
            Next::Cut(text)
        })
    }

    /// A line that cannot be text of ours; on line 1 that means "not a backup".
    fn unreadable(&self, what: String) -> DbError {
        if self.number == 1 {
            not_ours()
        } else {
            self.invalid(what)
        }
    }

    fn invalid(&self, what: String) -> DbError {
        DbError::file(FileKind::Backup, Some(self.number), what)
    }
}

/// A problem with the backup as a whole (its message names the line where it has one).
fn whole_file(reason: impl Into<String>) -> DbError {
    DbError::file(FileKind::Backup, None, reason)
}

fn not_ours() -> DbError {
    whole_file(format!(
        "not a Home Inventory backup (line 1): expected a \"{FORMAT_NAME}\" header"
    ))
}

/// Reads and checks the header line: ours, a format version we read, tables we know.
fn parse_header(text: &str) -> Result<Header, DbError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|_| not_ours())?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT_NAME) {
        return Err(not_ours());
    }
    let version = value
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| {
            DbError::file(
                FileKind::Backup,
                Some(1),
                "format_version is missing or not a number",
            )
        })?;
    if version > u64::from(FORMAT_VERSION) {
        return Err(whole_file(format!(
            "backup format version {version} is newer than this program supports ({FORMAT_VERSION}); upgrade Home Inventory"
        )));
    }
    if version != u64::from(FORMAT_VERSION) {
        return Err(whole_file(format!(
            "backup format version {version} is not supported (this program reads version {FORMAT_VERSION})"
        )));
    }
    let header: Header = serde_json::from_value(value)
        .map_err(|e| DbError::file(FileKind::Backup, Some(1), format!("bad header: {e}")))?;
    let specs = Snapshot::specs();
    for table in &header.tables {
        let Some(known) = specs.iter().find(|t| t.name == table.name) else {
            return Err(whole_file(format!(
                "backup has table \"{}\", which this program does not know",
                table.name
            )));
        };
        let accepted = |columns: &[&str]| {
            table
                .columns
                .iter()
                .map(String::as_str)
                .eq(columns.iter().copied())
        };
        let columns = known.backup_columns();
        if !accepted(&columns) && !known.legacy_columns.iter().any(|c| accepted(c)) {
            return Err(whole_file(format!(
                "backup table \"{}\" has columns [{}]; this program expects [{}]",
                table.name,
                table.columns.join(", "),
                columns.join(", ")
            )));
        }
    }
    // Every table this program knows, in its order; a table left out holds no rows (a
    // backup written before the table existed lists fewer tables).
    let names: Vec<&str> = header.tables.iter().map(|t| t.name.as_str()).collect();
    let expected: Vec<&str> = specs.iter().map(|t| t.name).collect();
    let mut known = expected.iter();
    if !names.iter().all(|n| known.any(|k| k == n)) {
        return Err(whole_file(format!(
            "backup lists tables [{}]; this program expects tables of [{}], each at most once, in that order",
            names.join(", "),
            expected.join(", ")
        )));
    }
    Ok(header)
}

/// Reads a whole backup, checking every line, the row counts and the checksum.
/// Never panics, whatever the input bytes.
pub(crate) fn decode(input: &mut dyn Read) -> Result<Decoded, DbError> {
    let mut lines = Lines {
        inner: std::io::BufReader::with_capacity(1 << 16, input),
        number: 0,
        buf: Vec::new(),
    };
    let mut hash = Fnv1a64::new();
    let header = match lines.next()? {
        Next::Line(text) => {
            let header = parse_header(&text)?;
            hash.update(text.as_bytes());
            hash.update(b"\n");
            header
        }
        Next::Cut(text) => {
            parse_header(&text)?;
            return Err(whole_file("backup is truncated: it ends inside its header"));
        }
        Next::Eof => {
            return Err(whole_file(
                "not a Home Inventory backup (line 1): the input is empty",
            ))
        }
    };
    let expected: u64 = header
        .tables
        .iter()
        .try_fold(0u64, |sum, t| sum.checked_add(t.rows))
        .ok_or_else(|| DbError::file(FileKind::Backup, Some(1), "impossible row counts"))?;
    let truncated = |found: u64| {
        whole_file(format!(
            "backup is truncated: expected {expected} rows, found {found}"
        ))
    };
    let mut snapshot = Snapshot::default();
    let mut found = 0u64;
    let specs = Snapshot::specs();
    for table in &header.tables {
        let index = specs
            .iter()
            .position(|t| t.name == table.name)
            .ok_or_else(|| whole_file(format!("backup has unknown table {}", table.name)))?;
        let columns = table.columns.len();
        for _ in 0..table.rows {
            let text = match lines.next()? {
                Next::Line(text) => text,
                Next::Cut(_) | Next::Eof => return Err(truncated(found)),
            };
            if text.starts_with('{') {
                return Err(lines.invalid(format!(
                    "found the trailer after {found} rows, but the header announces {expected}"
                )));
            }
            snapshot.tables_mut()[index]
                .push_line(columns, &text)
                .map_err(|e| lines.invalid(e))?;
            hash.update(text.as_bytes());
            hash.update(b"\n");
            found += 1;
        }
    }
    let trailer_text = match lines.next()? {
        Next::Line(text) => text,
        Next::Cut(_) => {
            return Err(whole_file(
                "backup is truncated: its last line (the trailer) is cut off",
            ))
        }
        Next::Eof => {
            return Err(whole_file(format!(
                "backup is truncated: all {expected} rows are there but the trailer line is missing"
            )))
        }
    };
    if trailer_text.starts_with('[') {
        return Err(lines.invalid(format!(
            "more rows than the {expected} the header announces"
        )));
    }
    let trailer: Trailer = serde_json::from_str(&trailer_text)
        .map_err(|e| lines.invalid(format!("bad trailer: {e}")))?;
    if trailer.total_rows != expected {
        return Err(lines.invalid(format!(
            "the trailer counts {} rows, the header {expected}",
            trailer.total_rows
        )));
    }
    if trailer.fnv1a64 != hash.hex() {
        return Err(whole_file(format!(
            "backup checksum mismatch: the file is corrupt (trailer says {}, contents give {})",
            trailer.fnv1a64,
            hash.hex()
        )));
    }
    match lines.next()? {
        Next::Eof => {}
        Next::Line(_) | Next::Cut(_) => {
            return Err(lines.invalid("unexpected data after the trailer".into()))
        }
    }
    Ok(Decoded {
        schema_version: header.schema_version,
        snapshot,
    })
}
