//! Where the database is: URL parsing, the environment rules of PRODUCT §2, and redaction.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::DbError;

/// The embedded default used when neither `DATABASE_URL` nor `POSTGRES_HOST` is set.
pub const DEFAULT_SQLITE_PATH: &str = "./data/inventory.db";

/// Which engine a [`DatabaseUrl`] points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// PostgreSQL through `AsyncPgConnection`.
    Postgres,
    /// Embedded SQLite through `SyncConnectionWrapper<SqliteConnection>`.
    Sqlite,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        })
    }
}

/// A parsed database location. `Display` never shows a password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A `postgres://` or `postgresql://` URL, kept verbatim for the driver.
    Postgres(String),
    /// A SQLite database file.
    SqliteFile(PathBuf),
    /// `sqlite::memory:`: private to each connection, so the pool is limited to one.
    SqliteMemory,
}

impl DatabaseUrl {
    /// Parses a URL by scheme: `postgres://`/`postgresql://`, `sqlite://PATH`, `sqlite:PATH`,
    /// `sqlite::memory:`, or a plain file path.
    pub fn parse(raw: &str) -> Result<Self, DbError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(DbError::BadUrl("the database URL is empty".into()));
        }
        let lower = raw.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            let rest = &raw[raw.find("://").map_or(0, |i| i + 3)..];
            if rest.is_empty() || rest.starts_with('/') && !rest.contains("host=") {
                return Err(DbError::BadUrl(format!(
                    "PostgreSQL URL {} has no host",
                    redact_url(raw)
                )));
            }
            return Ok(DatabaseUrl::Postgres(raw.to_string()));
        }
        if lower == "sqlite::memory:" || lower == ":memory:" {
            return Ok(DatabaseUrl::SqliteMemory);
        }
        if let Some(path) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(DbError::BadUrl("sqlite URL has no file path".into()));
            }
            return Ok(DatabaseUrl::SqliteFile(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = raw.split_once("://") {
            return Err(DbError::BadUrl(format!(
                "unsupported database scheme \"{scheme}\" (use postgres://, sqlite:// or a file path)"
            )));
        }
        Ok(DatabaseUrl::SqliteFile(PathBuf::from(raw)))
    }

    /// PRODUCT §2: `DATABASE_URL`, else `POSTGRES_*` parts when `POSTGRES_HOST` is set,
    /// else the embedded default `./data/inventory.db`.
    pub fn from_env() -> Result<Self, DbError> {
        Self::from_lookup(|key| std::env::var(key).ok().filter(|v| !v.is_empty()))
    }

    /// [`DatabaseUrl::from_env`] over any variable lookup (testable without touching the process environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, DbError> {
        if let Some(url) = get("DATABASE_URL") {
            return Self::parse(&url);
        }
        if let Some(host) = get("POSTGRES_HOST") {
            let port = get("POSTGRES_PORT").unwrap_or_else(|| "5432".into());
            if port.parse::<u16>().is_err() {
                return Err(DbError::BadUrl(format!(
                    "POSTGRES_PORT \"{port}\" is not a port number"
                )));
            }
            let db = get("POSTGRES_DB").unwrap_or_else(|| "inventory_system".into());
            let user = get("POSTGRES_USER").unwrap_or_else(|| "postgres".into());
            let auth = match get("POSTGRES_PASSWORD") {
                Some(pw) => format!("{}:{}", percent_encode(&user), percent_encode(&pw)),
                None => percent_encode(&user),
            };
            let host = if host.contains(':') && !host.starts_with('[') {
                format!("[{host}]")
            } else {
                host
            };
            return Ok(DatabaseUrl::Postgres(format!(
                "postgres://{auth}@{host}:{port}/{}",
                percent_encode(&db)
            )));
        }
        Ok(DatabaseUrl::SqliteFile(PathBuf::from(DEFAULT_SQLITE_PATH)))
    }

    /// The backend this URL selects.
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Postgres(_) => Backend::Postgres,
            DatabaseUrl::SqliteFile(_) | DatabaseUrl::SqliteMemory => Backend::Sqlite,
        }
    }

    /// The string handed to the driver (contains the password, never print it).
    pub(crate) fn connection_string(&self) -> String {
        match self {
            DatabaseUrl::Postgres(url) => url.clone(),
            DatabaseUrl::SqliteFile(path) => path.to_string_lossy().into_owned(),
            DatabaseUrl::SqliteMemory => ":memory:".into(),
        }
    }

    /// `message` with every password of this URL redacted: the URL's own password (as
    /// written and percent-decoded) wherever it appears, then [`redact_url`].
    pub fn redact(&self, message: &str) -> String {
        let mut out = message.to_string();
        if let Some(password) = self.password() {
            for secret in [percent_decode(&password), password] {
                if secret.len() >= 3 {
                    out = out.replace(&secret, "***");
                }
            }
        }
        redact_url(&out)
    }

    /// The password written in a PostgreSQL URL (userinfo or `password=` parameter).
    fn password(&self) -> Option<String> {
        let DatabaseUrl::Postgres(url) = self else {
            return None;
        };
        let after_scheme = &url[url.find("://").map_or(0, |i| i + 3)..];
        if let Some(at) = after_scheme.rfind('@') {
            if let Some((_, password)) = after_scheme[..at].split_once(':') {
                return Some(password.to_string());
            }
        }
        let lower = url.to_ascii_lowercase();
        lower.find("password=").map(|pos| {
            let start = pos + "password=".len();
            let end = url[start..].find('&').map_or(url.len(), |i| start + i);
            url[start..end].to_string()
        })
    }

    /// The SQLite file, if this is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            DatabaseUrl::SqliteFile(p) => Some(p),
            _ => None,
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Postgres(url) => f.write_str(&redact_url(url)),
            DatabaseUrl::SqliteFile(p) => write!(f, "sqlite://{}", p.display()),
            DatabaseUrl::SqliteMemory => f.write_str("sqlite::memory:"),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// Replaces every password in `text` with `***`: the userinfo password of each
/// `scheme://user:password@host/...` URL in it, and the value of each `password=`
/// parameter. A password may hold any character the drivers accept (`/ ? # @ : %`
/// included): the userinfo is taken to end at the last `@` of the URL, so the whole
/// password is covered (a URL whose query holds an `@` is over-redacted, never under).
pub fn redact_url(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        // The URL runs to the next whitespace, or to the end.
        let end = tail.find(char::is_whitespace).unwrap_or(tail.len());
        let (url, after) = tail.split_at(end);
        out.push_str(&redact_userinfo(url));
        rest = after;
    }
    out.push_str(rest);
    redact_password_params(&out)
}

/// `user:password@host...` → `user:***@host...`, taking the last `@` as the end of the
/// userinfo — the last one before a `password=` parameter, whose value may hold an `@`
/// too (and is redacted as a parameter).
fn redact_userinfo(after_scheme: &str) -> String {
    let lower = after_scheme.to_ascii_lowercase();
    let limit = ["?password=", "&password="]
        .iter()
        .filter_map(|key| lower.find(key))
        .min()
        .unwrap_or(after_scheme.len());
    match after_scheme[..limit].rfind('@') {
        Some(at) => {
            let userinfo = &after_scheme[..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}:***{}", &userinfo[..colon], &after_scheme[at..]),
                None => after_scheme.to_string(),
            }
        }
        None => after_scheme.to_string(),
    }
}

/// Every `password=VALUE` (any case) with VALUE up to `&` or whitespace replaced.
fn redact_password_params(text: &str) -> String {
    const KEY: &str = "password=";
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    while let Some(found) = lower[pos..].find(KEY) {
        let value_start = pos + found + KEY.len();
        out.push_str(&text[pos..value_start]);
        out.push_str("***");
        let value_end = text[value_start..]
            .find(|c: char| c == '&' || c.is_whitespace())
            .map_or(text.len(), |i| value_start + i);
        pos = value_end;
    }
    out.push_str(&text[pos..]);
    out
}

/// Decodes `%XX` escapes (invalid escapes are kept as they are).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn scheme_picks_the_backend() {
        for (raw, backend) in [
            ("postgres://u@h/db", Backend::Postgres),
            ("postgresql://u@h:5433/db", Backend::Postgres),
            ("sqlite://data/x.db", Backend::Sqlite),
            ("sqlite::memory:", Backend::Sqlite),
            ("./inventory.db", Backend::Sqlite),
        ] {
            assert_eq!(
                DatabaseUrl::parse(raw).map(|u| u.backend()).ok(),
                Some(backend),
                "{raw}"
            );
        }
    }

    #[test]
    fn unknown_scheme_is_refused() {
        let err = DatabaseUrl::parse("mysql://root@localhost/x").unwrap_err();
        assert!(err.to_string().contains("mysql"), "{err}");
    }

    #[test]
    fn password_is_redacted_in_display() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db.local:5432/inv").unwrap();
        let shown = url.to_string();
        assert_eq!(shown, "postgres://app:***@db.local:5432/inv");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(
            redact_url("postgres://h/db?user=a&password=s3cret&sslmode=disable"),
            "postgres://h/db?user=a&password=***&sslmode=disable"
        );
    }

    #[test]
    fn database_url_wins_over_postgres_parts() {
        let url = DatabaseUrl::from_lookup(lookup(&[
            ("DATABASE_URL", "sqlite://x.db"),
            ("POSTGRES_HOST", "h"),
        ]))
        .unwrap();
        assert_eq!(url, DatabaseUrl::SqliteFile("x.db".into()));
    }

    #[test]
    fn postgres_parts_build_a_url_with_defaults() {
        let url = DatabaseUrl::from_lookup(lookup(&[
            ("POSTGRES_HOST", "127.0.0.1"),
            ("POSTGRES_USER", "inv"),
            ("POSTGRES_PASSWORD", "p@ss word"),
        ]))
        .unwrap();
        assert_eq!(
            url.connection_string(),
            "postgres://inv:p%40ss%20word@127.0.0.1:5432/inventory_system"
        );
        assert_eq!(
            url.to_string(),
            "postgres://inv:***@127.0.0.1:5432/inventory_system"
        );
    }

    /// Passwords holding each character that ends or splits a part of a URL, all of them
    /// at once, and percent-encoded ones. Each is `Xq7`, special characters, `Zk9`: neither
    /// half may show either, so a password cut short at its special character is caught.
    const SPECIAL_PASSWORDS: [&str; 9] = [
        "Xq7/Zk9",
        "Xq7?Zk9",
        "Xq7#Zk9",
        "Xq7@Zk9",
        "Xq7:Zk9",
        "Xq7%Zk9",
        "Xq7/?#@:%Zk9",
        "Xq7%2F%3F%23%40%3A%25Zk9",
        "Xq7%zzZk9",
    ];

    fn assert_hidden(shown: &str, password: &str) {
        for part in [password, "Xq7", "Zk9"] {
            assert!(
                !shown.contains(part),
                "password {password:?}: {part:?} shows in {shown:?}"
            );
        }
    }

    #[test]
    fn a_url_is_shown_without_a_password_of_any_characters() {
        for password in SPECIAL_PASSWORDS {
            let url = DatabaseUrl::parse(&format!("postgres://app:{password}@db.local:5432/inv"))
                .unwrap();
            assert_eq!(url.to_string(), "postgres://app:***@db.local:5432/inv");
            assert_hidden(&url.to_string(), password);
            assert_hidden(&format!("{url:?}"), password);
            let with_query = DatabaseUrl::parse(&format!(
                "postgresql://app:{password}@db.local/inv?sslmode=disable&application_name=x"
            ))
            .unwrap();
            assert_eq!(
                with_query.to_string(),
                "postgresql://app:***@db.local/inv?sslmode=disable&application_name=x"
            );
        }
    }

    #[test]
    fn redact_url_hides_such_passwords_in_a_message_holding_the_url() {
        for password in SPECIAL_PASSWORDS {
            let message = format!(
                "cannot connect to postgres://app:{password}@db.local:5432/inv: connection refused; \
                 retrying postgres://other:{password}@10.0.0.2/inv?password={password}&sslmode=disable"
            );
            let shown = redact_url(&message);
            assert_eq!(
                shown,
                "cannot connect to postgres://app:***@db.local:5432/inv: connection refused; \
                 retrying postgres://other:***@10.0.0.2/inv?password=***&sslmode=disable"
            );
            assert_hidden(&shown, password);
            let keywords = redact_url(&format!(
                "host=db.local user=app password={password} dbname=inv"
            ));
            assert_eq!(keywords, "host=db.local user=app password=*** dbname=inv");
        }
    }

    #[test]
    fn database_url_redact_hides_its_password_wherever_a_message_repeats_it() {
        for password in SPECIAL_PASSWORDS {
            let url = DatabaseUrl::parse(&format!("postgres://app:{password}@db.local:5432/inv"))
                .unwrap();
            let decoded = percent_decode(password);
            for message in [
                format!("password authentication failed for user \"app\" ({password})"),
                format!("error parsing {decoded} as a port"),
                format!("the URL postgres://app:{password}@db.local:5432/inv is unreachable"),
            ] {
                assert_hidden(&url.redact(&message), password);
                assert!(!url.redact(&message).contains(&decoded), "{message}");
            }
        }
    }

    #[test]
    fn nothing_set_means_the_embedded_default() {
        let url = DatabaseUrl::from_lookup(lookup(&[])).unwrap();
        assert_eq!(url, DatabaseUrl::SqliteFile(DEFAULT_SQLITE_PATH.into()));
    }
}
