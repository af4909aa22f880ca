//! A bound on the size of one CSV record while an import reads it. The csv reader holds a
//! whole record in memory before it returns it, so without a bound one endless quoted field
//! (or millions of empty ones) in a damaged file would be read into memory whole.

use std::io::Read;

/// The largest record an import reads: far above any valid row (a full path of 1,000 names
/// of 255 characters, a description and notes of 10,000 characters each, all quoted), small
/// enough that a damaged file cannot make the importer hold more than a few megabytes.
pub(crate) const MAX_RECORD_BYTES: usize = 4 << 20;

/// Why the read stopped: a record grew past [`MAX_RECORD_BYTES`] (carried inside the
/// `io::Error` that the csv reader reports).
#[derive(Debug)]
pub(crate) struct RecordTooLong {
    /// The line the record starts on (1-based).
    pub line: u64,
}

impl std::fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a record is longer than {MAX_RECORD_BYTES} bytes (an unclosed quote, or no line breaks?)"
        )
    }
}

impl std::error::Error for RecordTooLong {}

/// Where the scanner is, as the csv reader (RFC 4180 quoting, `""` inside quotes) sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: it closes the field, or a second one follows.
    QuoteInQuoted,
}

/// A reader that passes bytes through and fails once a record grows past the bound.
#[derive(Debug)]
pub(crate) struct RecordLimit<R> {
    inner: R,
    state: State,
    record_bytes: usize,
    line: u64,
    record_line: u64,
}

impl<R> RecordLimit<R> {
    pub(crate) fn new(inner: R) -> Self {
        RecordLimit {
            inner,
            state: State::FieldStart,
            record_bytes: 0,
            line: 1,
            record_line: 1,
        }
    }
}

impl<R: Read> Read for RecordLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            let ends_record = match (self.state, b) {
                (State::Quoted, b'"') => {
                    self.state = State::QuoteInQuoted;
                    false
                }
                (State::Quoted, _) => false,
                (State::QuoteInQuoted, b'"') => {
                    self.state = State::Quoted;
                    false
                }
                (State::FieldStart, b'"') => {
                    self.state = State::Quoted;
                    false
                }
                (_, b',') => {
                    self.state = State::FieldStart;
                    false
                }
                (_, b'\n' | b'\r') => {
                    self.state = State::FieldStart;
                    true
                }
                _ => {
                    self.state = State::Unquoted;
                    false
                }
            };
            if b == b'\n' {
                self.line += 1;
            }
            if ends_record {
                self.record_bytes = 0;
                self.record_line = self.line;
            } else {
                self.record_bytes += 1;
                if self.record_bytes > MAX_RECORD_BYTES {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        RecordTooLong {
                            line: self.record_line,
                        },
                    ));
                }
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        RecordLimit::new(input).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn records_up_to_the_bound_pass_through_unchanged() {
        let field = "x".repeat(MAX_RECORD_BYTES - 4);
        let text = format!("name,location\n\"{field}\",a\n\"a\"\"b\nc\",d\r\ne,f");
        assert_eq!(read_all(text.as_bytes()).unwrap(), text.as_bytes());
        // Many lines inside one quoted field count as one record; many records do not add up.
        let rows = "a,b\n".repeat(MAX_RECORD_BYTES);
        assert!(read_all(rows.as_bytes()).is_ok());
    }

    #[test]
    fn a_longer_record_stops_the_read_naming_its_first_line() {
        for text in [
            format!("h\nok\n\"{}", "y\n".repeat(MAX_RECORD_BYTES)),
            format!("h\nok\n{}", ",".repeat(MAX_RECORD_BYTES + 1)),
            format!("h\nok\n\"a\"\"{}", "z".repeat(MAX_RECORD_BYTES)),
        ] {
            let err = read_all(text.as_bytes()).unwrap_err();
            let inner = err
                .get_ref()
                .and_then(|e| e.downcast_ref::<RecordTooLong>());
            assert_eq!(inner.map(|t| t.line), Some(3), "{err}");
        }
    }
}
