//! The server's configuration: command-line flags, each with an environment variable (clap).

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::HeaderValue;
use clap::Parser;
use inventory_db::{DatabaseUrl, DbError};

/// Default `--max-body`: 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;
/// Largest `--max-body` accepted: bodies are held in memory while they are read.
pub const MAX_MAX_BODY: usize = 1024 * 1024 * 1024;
/// Default `--header-read-timeout`, in seconds: a client has this long to send a request's
/// headers, from its first byte (or, on an idle connection, from the end of the last
/// response) on; then the connection is closed.
pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
/// Default `--body-read-timeout`, in seconds: the longest a client may pause while it
/// sends a request's body (the clock restarts with every piece that arrives).
pub const DEFAULT_BODY_READ_TIMEOUT_SECS: u64 = 30;
/// Default `--max-connections`: connections open at once. Past it, new connections wait
/// in the kernel's queue until one closes.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 16_384;

/// `inventory-api`: the HTTP server of Home Inventory.
#[derive(Debug, Parser)]
#[command(name = "inventory-api", version, about, long_about = None)]
pub struct Config {
    /// Address and port to listen on.
    #[arg(long, env = "INVENTORY_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Database: postgres://…, sqlite://PATH or a file path. Unset: POSTGRES_HOST and
    /// friends, else ./data/inventory.db.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Apply pending migrations at start-up (otherwise an out-of-date schema is refused).
    #[arg(long, env = "INVENTORY_MIGRATE")]
    pub migrate: bool,

    /// How clients reach the server, e.g. https://inventory.example.org (https makes
    /// cookies Secure and turns on HSTS).
    #[arg(long, env = "INVENTORY_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<PublicUrl>,

    /// An origin allowed to call the API from a browser (repeatable; none by default).
    #[arg(
        long = "cors-origin",
        env = "INVENTORY_CORS_ORIGINS",
        value_delimiter = ',',
        value_parser = parse_origin
    )]
    pub cors_origins: Vec<HeaderValue>,

    /// Largest request body accepted: bytes, or with a unit (512KiB, 1MiB, 2MB).
    #[arg(long, env = "INVENTORY_MAX_BODY", default_value = "1MiB", value_parser = parse_size)]
    pub max_body: usize,

    /// Lifetime of a login token, in days.
    #[arg(
        long,
        env = "INVENTORY_SESSION_DAYS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u32).range(1..=3650)
    )]
    pub session_days: u32,

    /// Seconds to let in-flight requests finish after SIGTERM or SIGINT.
    #[arg(
        long,
        env = "INVENTORY_SHUTDOWN_GRACE",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(0..=3600)
    )]
    pub shutdown_grace: u64,

    /// Seconds a client has to send a request's headers (idle connections included); then
    /// the connection is closed. Holds off clients that trickle their headers (slow loris).
    #[arg(
        long,
        env = "INVENTORY_HEADER_READ_TIMEOUT",
        default_value_t = DEFAULT_HEADER_READ_TIMEOUT_SECS,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub header_read_timeout: u64,

    /// Seconds a client may pause while it sends a request's body; then the request is
    /// answered 408 and the connection closed. Holds off clients that trickle or stall
    /// their bodies; a slow but steady upload is not cut off.
    #[arg(
        long,
        env = "INVENTORY_BODY_READ_TIMEOUT",
        default_value_t = DEFAULT_BODY_READ_TIMEOUT_SECS,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub body_read_timeout: u64,

    /// Most connections open at once; further ones wait in the kernel's queue. Also capped
    /// by the open-files limit (raised to its hard limit at start).
    #[arg(
        long,
        env = "INVENTORY_MAX_CONNECTIONS",
        default_value_t = DEFAULT_MAX_CONNECTIONS,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000)
    )]
    pub max_connections: u32,
}

impl Config {
    /// The database to open, by the CLI's rules (PRODUCT §2).
    pub fn database(&self) -> Result<DatabaseUrl, DbError> {
        match self.database_url.as_deref() {
            Some(raw) => DatabaseUrl::parse(raw),
            None => DatabaseUrl::from_env(),
        }
    }

    /// The grace period for in-flight requests at shutdown.
    pub fn grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace)
    }

    /// How long a client may take to send a request's headers.
    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout)
    }

    /// What the request handlers need to know.
    pub fn settings(&self) -> crate::Settings {
        crate::Settings {
            max_body: self.max_body,
            session_days: self.session_days,
            public_url: self.public_url.clone(),
            cors_origins: self.cors_origins.clone(),
            body_timeout: Duration::from_secs(self.body_read_timeout),
            ..crate::Settings::default()
        }
    }
}

/// The URL clients use to reach the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl {
    url: String,
}

impl PublicUrl {
    /// The URL as given, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// Whether clients use https (cookies are then `Secure`, responses carry HSTS).
    pub fn is_https(&self) -> bool {
        self.url.starts_with("https://")
    }
}

impl std::str::FromStr for PublicUrl {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        parse_public_url(raw)
    }
}

fn parse_public_url(raw: &str) -> Result<PublicUrl, String> {
    let url = raw.trim().trim_end_matches('/');
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| format!("\"{url}\" must start with http:// or https://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.contains('@') || url.chars().any(char::is_whitespace) {
        return Err(format!("\"{url}\" is not a URL with a host"));
    }
    // The scheme in lower case, the rest as given.
    let scheme_len = url.len() - rest.len();
    Ok(PublicUrl {
        url: format!("{}{}", &lower[..scheme_len], &url[scheme_len..]),
    })
}

/// An origin is `scheme://host[:port]`, nothing after it.
fn parse_origin(raw: &str) -> Result<HeaderValue, String> {
    let origin = raw.trim().trim_end_matches('/');
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or_else(|| {
            format!("CORS origin \"{origin}\" must be scheme://host[:port], e.g. https://app.example.org")
        })?;
    if rest.is_empty()
        || rest.contains(['/', '?', '#', '@', '*'])
        || !rest.chars().all(|c| c.is_ascii_graphic())
    {
        return Err(format!(
            "CORS origin \"{origin}\" must be scheme://host[:port] without a path or wildcard"
        ));
    }
    HeaderValue::from_str(origin).map_err(|e| format!("CORS origin \"{origin}\": {e}"))
}

/// A size in bytes: `2000000`, `512KiB`, `1MiB`, `2MB`, `1 GiB` (units case-insensitive;
/// KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024).
pub fn parse_size(raw: &str) -> Result<usize, String> {
    let text = raw.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("\"{text}\" is not a size (examples: 2000000, 512KiB, 1MiB)"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1024,
        "m" | "mb" => 1000 * 1000,
        "mib" => 1024 * 1024,
        "g" | "gb" => 1000 * 1000 * 1000,
        "gib" => 1024 * 1024 * 1024,
        other => {
            return Err(format!(
                "unknown size unit \"{other}\" (use B, KB, KiB, MB, MiB, GB or GiB)"
            ))
        }
    };
    let bytes = number
        .checked_mul(factor)
        .and_then(|b| usize::try_from(b).ok())
        .filter(|b| *b <= MAX_MAX_BODY)
        .ok_or_else(|| format!("\"{text}\" is larger than the limit of 1GiB"))?;
    if bytes == 0 {
        return Err("the size must be at least 1 byte".into());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_accept_plain_bytes_and_binary_and_decimal_units() {
        assert_eq!(parse_size("2000000"), Ok(2_000_000));
        assert_eq!(parse_size("512KiB"), Ok(512 * 1024));
        assert_eq!(parse_size("1MiB"), Ok(DEFAULT_MAX_BODY));
        assert_eq!(parse_size("1 mib"), Ok(DEFAULT_MAX_BODY));
        assert_eq!(parse_size("2MB"), Ok(2_000_000));
        assert_eq!(parse_size("1GiB"), Ok(MAX_MAX_BODY));
    }

    #[test]
    fn sizes_refuse_nonsense_zero_and_huge_values() {
        assert!(parse_size("").is_err());
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("1.5MiB").is_err());
        assert!(parse_size("1 parsec").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("2GiB").is_err());
        assert!(parse_size("99999999999999999999999").is_err());
    }

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        assert_eq!(
            parse_origin("https://app.example.org/").unwrap(),
            "https://app.example.org"
        );
        assert!(parse_origin("http://localhost:5173").is_ok());
        assert!(parse_origin("app.example.org").is_err());
        assert!(parse_origin("https://app.example.org/path").is_err());
        assert!(parse_origin("*").is_err());
        assert!(parse_origin("https://*.example.org").is_err());
    }

    #[test]
    fn public_url_must_be_http_or_https_with_a_host() {
        let url = parse_public_url("HTTPS://Inventory.example.org/").unwrap();
        assert_eq!(url.as_str(), "https://Inventory.example.org");
        assert!(url.is_https());
        assert!(!parse_public_url("http://localhost:8080")
            .unwrap()
            .is_https());
        assert!(parse_public_url("ftp://x").is_err());
        assert!(parse_public_url("https://").is_err());
        assert!(parse_public_url("https://user@host").is_err());
    }

    #[test]
    fn defaults_match_the_product_contract() {
        let config = Config::try_parse_from(["inventory-api"]).unwrap();
        assert_eq!(config.bind, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.max_body, DEFAULT_MAX_BODY);
        assert_eq!(config.session_days, 30);
        assert_eq!(config.shutdown_grace, 10);
        assert_eq!(config.header_read_timeout, DEFAULT_HEADER_READ_TIMEOUT_SECS);
        assert_eq!(config.body_read_timeout, DEFAULT_BODY_READ_TIMEOUT_SECS);
        assert_eq!(config.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert!(config.cors_origins.is_empty());
        assert!(!config.migrate);
    }

    #[test]
    fn cors_origin_repeats() {
        let config = Config::try_parse_from([
            "inventory-api",
            "--cors-origin",
            "https://a.example",
            "--cors-origin",
            "https://b.example",
        ])
        .unwrap();
        assert_eq!(config.cors_origins.len(), 2);
    }
}
