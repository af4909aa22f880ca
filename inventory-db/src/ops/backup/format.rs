//! The backup file format: JSON Lines — a header, one line per row, a checksummed trailer.

use std::io::{BufRead, Read, Write};

use serde::{Deserialize, Serialize};

use super::tables::{Snapshot, TableSpec};
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

/// Writes the backup format as rows come: the header (which needs every table's row
/// count up front), one line per row, then the checksummed trailer. Nothing in it depends
/// on when or where it is written, so equal data gives equal bytes.
pub(crate) struct Encoder<'w> {
    out: std::io::BufWriter<&'w mut (dyn Write + Send)>,
    hash: Fnv1a64,
    done: u64,
    total: u64,
    progress: Progress<'w>,
}

impl<'w> Encoder<'w> {
    /// Writes the header for `tables` (each with the number of rows that will follow).
    pub(crate) fn start(
        out: &'w mut (dyn Write + Send),
        schema_version: &str,
        tables: &[(&TableSpec, u64)],
        progress: Progress<'w>,
    ) -> std::io::Result<Self> {
        let header = Header {
            format: FORMAT_NAME.to_string(),
            format_version: FORMAT_VERSION,
            schema_version: schema_version.to_string(),
            tables: tables
                .iter()
                .map(|(spec, rows)| HeaderTable {
                    name: spec.name.to_string(),
                    columns: spec
                        .backup_columns()
                        .iter()
                        .map(|c| (*c).to_string())
                        .collect(),
                    rows: *rows,
                })
                .collect(),
        };
        let total = tables.iter().map(|(_, n)| n).sum();
        let mut encoder = Encoder {
            out: std::io::BufWriter::with_capacity(1 << 16, out),
            hash: Fnv1a64::new(),
            done: 0,
            total,
            progress,
        };
        let mut line = serde_json::to_vec(&header)?;
        line.push(b'\n');
        encoder.hash.update(&line);
        encoder.out.write_all(&line)?;
        (encoder.progress)(0, total);
        Ok(encoder)
    }

    /// Writes one row's line (without its newline).
    pub(crate) fn line(&mut self, row: &[u8]) -> std::io::Result<()> {
        self.hash.update(row);
        self.hash.update(b"\n");
        self.out.write_all(row)?;
        self.out.write_all(b"\n")?;
        self.done += 1;
        if self.done % PROGRESS_EVERY == 0 {
            (self.progress)(self.done, self.total);
        }
        Ok(())
    }

    /// Writes the trailer and flushes; fails when the rows written are not the rows the
    /// header announced.
    pub(crate) fn finish(mut self) -> std::io::Result<()> {
        if self.done != self.total {
            return Err(std::io::Error::other(format!(
                "the header announced {} rows, {} were written",
                self.total, self.done
            )));
        }
        let trailer = Trailer {
            total_rows: self.total,
            fnv1a64: self.hash.hex(),
        };
        let mut line = serde_json::to_vec(&trailer)?;
        line.push(b'\n');
        self.out.write_all(&line)?;
        self.out.flush()?;
        (self.progress)(self.total, self.total);
        Ok(())
    }
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

/// One row line of a backup, as the [`Reader`] hands it out.
pub(crate) struct RowLine {
    /// The row's table, as an index into [`Snapshot::specs`].
    pub table: usize,
    /// How many columns the backup's header gives the table (the current or a legacy list).
    pub columns: usize,
    /// The line number (1-based, the header being line 1).
    pub number: u64,
    /// The line, without its newline.
    pub text: String,
}

/// Reads a backup one row at a time, checking every line's syntax, the row counts the
/// header announces and, once the rows are read, the trailer and the checksum of every
/// byte. Memory: one line, whatever the size of the backup. Never panics, whatever the
/// input bytes.
pub(crate) struct Reader<'r> {
    lines: Lines<std::io::BufReader<&'r mut (dyn Read + Send)>>,
    hash: Fnv1a64,
    header: Header,
    /// Index into the header's tables of the table being read, and its rows still to come.
    table: usize,
    left: u64,
    /// Each header table's index into [`Snapshot::specs`] (every name is known: the header
    /// was checked).
    spec_index: Vec<usize>,
    expected: u64,
    found: u64,
    finished: bool,
}

impl<'r> Reader<'r> {
    /// Reads and checks the header.
    pub(crate) fn open(input: &'r mut (dyn Read + Send)) -> Result<Self, DbError> {
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
        let left = header.tables.first().map_or(0, |t| t.rows);
        let specs = Snapshot::specs();
        let spec_index = header
            .tables
            .iter()
            .map(|t| {
                specs
                    .iter()
                    .position(|spec| spec.name == t.name)
                    .ok_or_else(|| whole_file(format!("backup has unknown table {}", t.name)))
            })
            .collect::<Result<_, _>>()?;
        Ok(Reader {
            lines,
            hash,
            header,
            table: 0,
            left,
            spec_index,
            expected,
            found: 0,
            finished: false,
        })
    }

    /// The latest migration of the schema the backup's data belongs to.
    pub(crate) fn schema_version(&self) -> &str {
        &self.header.schema_version
    }

    /// Rows per table the header announces, every table this program knows in backup
    /// order (a table the backup leaves out has none).
    pub(crate) fn counts(&self) -> Vec<(&'static str, u64)> {
        Snapshot::specs()
            .iter()
            .map(|spec| {
                let rows = self
                    .header
                    .tables
                    .iter()
                    .find(|t| t.name == spec.name)
                    .map_or(0, |t| t.rows);
                (spec.name, rows)
            })
            .collect()
    }

    /// The checksum of everything read so far (of the whole backup once [`Reader::next_row`]
    /// has returned `None`).
    pub(crate) fn checksum(&self) -> u64 {
        self.hash.0
    }

    /// The next row line, or `None` after the last one, once the trailer, the row count and
    /// the checksum have been checked.
    pub(crate) fn next_row(&mut self) -> Result<Option<RowLine>, DbError> {
        while self.left == 0 {
            if self.table + 1 >= self.header.tables.len() {
                if !self.finished {
                    self.finish()?;
                    self.finished = true;
                }
                return Ok(None);
            }
            self.table += 1;
            self.left = self.header.tables[self.table].rows;
        }
        let text = match self.lines.next()? {
            Next::Line(text) => text,
            Next::Cut(_) | Next::Eof => {
                return Err(whole_file(format!(
                    "backup is truncated: expected {} rows, found {}",
                    self.expected, self.found
                )))
            }
        };
        if text.starts_with('{') {
            return Err(self.lines.invalid(format!(
                "found the trailer after {} rows, but the header announces {}",
                self.found, self.expected
            )));
        }
        self.hash.update(text.as_bytes());
        self.hash.update(b"\n");
        self.found += 1;
        self.left -= 1;
        Ok(Some(RowLine {
            table: self.spec_index[self.table],
            columns: self.header.tables[self.table].columns.len(),
            number: self.lines.number,
            text,
        }))
    }

    /// Reads and checks the trailer, then that nothing follows it.
    fn finish(&mut self) -> Result<(), DbError> {
        let expected = self.expected;
        let lines = &mut self.lines;
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
        if trailer.fnv1a64 != self.hash.hex() {
            return Err(whole_file(format!(
                "backup checksum mismatch: the file is corrupt (trailer says {}, contents give {})",
                trailer.fnv1a64,
                self.hash.hex()
            )));
        }
        match lines.next()? {
            Next::Eof => Ok(()),
            Next::Line(_) | Next::Cut(_) => {
                Err(lines.invalid("unexpected data after the trailer".into()))
            }
        }
    }
}
