//! A minimal HTTP/1.1 client and a running `inventory-api` for the harnesses that drive the
//! API over real sockets (`crash`, `soak`): one request per connection, so that a killed
//! server shows as a failed request and never as a stale pooled connection.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A request body.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Body<'a> {
    None,
    Json(&'a Value),
    Csv(&'a [u8]),
}

/// One answer: status, `ETag` (without quotes) and body (JSON, or `Null`).
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub etag: Option<String>,
    pub body: Value,
}

/// One HTTP/1.1 request on a fresh connection, read to its end. An error when the
/// connection fails or the answer is cut short (its body shorter than its
/// `Content-Length`), so that a caller never mistakes a half-sent answer for a whole one.
pub(crate) async fn call(
    addr: &str,
    token: &str,
    method: &str,
    path: &str,
    body: Body<'_>,
    if_match: Option<&str>,
) -> anyhow::Result<Answer> {
    let mut stream = TcpStream::connect(addr).await?;
    let (kind, bytes): (&str, Vec<u8>) = match body {
        Body::None => ("", Vec::new()),
        Body::Json(v) => ("application/json", v.to_string().into_bytes()),
        Body::Csv(b) => ("text/csv", b.to_vec()),
    };
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Connection: close\r\nContent-Length: {}\r\n",
        bytes.len()
    );
    if !kind.is_empty() {
        req.push_str(&format!("Content-Type: {kind}\r\n"));
    }
    if let Some(tag) = if_match {
        req.push_str(&format!("If-Match: \"{tag}\"\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await?;
    stream.write_all(&bytes).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .with_context(|| {
            format!(
                "no end of headers in {:.200}",
                String::from_utf8_lossy(&raw)
            )
        })?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let rest = &raw[split + 4..];
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no status line in {head:.200}"))?;
    let header = |name: &str| {
        head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    if let Some(len) = header("content-length").and_then(|l| l.parse::<usize>().ok()) {
        if rest.len() < len {
            bail!("answer cut short: {} of {len} body bytes", rest.len());
        }
    } else if header("transfer-encoding").is_some_and(|t| t.contains("chunked"))
        && !rest.ends_with(b"0\r\n\r\n")
    {
        bail!("chunked answer cut short");
    }
    let etag = header("etag").map(|t| t.trim_matches('"').to_string());
    let body = serde_json::from_slice(rest).unwrap_or(Value::Null);
    Ok(Answer { status, etag, body })
}

/// A running `inventory-api`, killed (SIGKILL) on drop.
pub(crate) struct Server {
    pub child: Child,
    pub addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Server {
    /// Starts `target/debug/inventory-api` on `url` with `extra` flags and waits until it
    /// answers `token` on `/api/v1/auth/me`.
    pub(crate) async fn start(url: &str, token: &str, extra: &[&str]) -> anyhow::Result<Server> {
        let addr = format!("127.0.0.1:{}", free_port()?);
        let child = Command::new(crate::project_root().join("target/debug/inventory-api"))
            .args(["--database-url", url, "--bind", &addr])
            .args(extra)
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting inventory-api")?;
        let mut server = Server { child, addr };
        for _ in 0..200 {
            if let Ok(a) = call(
                &server.addr,
                token,
                "GET",
                "/api/v1/auth/me",
                Body::None,
                None,
            )
            .await
            {
                anyhow::ensure!(a.status == 200, "auth/me: {}", a.status);
                return Ok(server);
            }
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "inventory-api on {} exited at start ({status})",
                    server.addr
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("inventory-api on {} did not answer", server.addr)
    }
}
