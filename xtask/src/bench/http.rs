//! The HTTP side of the bench: the release `inventory-api` as a child process, a load
//! generator of raw HTTP/1.1 over keep-alive connections, and `pgbench` for the engine's
//! own rate on the same statements.
//!
//! The load generator is a few lines of tokio rather than a dependency: it writes one
//! `GET` at a time per connection and reads the answer by its `Content-Length`, which is
//! all the API's JSON answers need.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A running `inventory-api`, killed on drop.
pub(crate) struct ApiServer {
    child: Child,
    pub addr: SocketAddr,
}

impl ApiServer {
    /// Starts `binary --database-url URL --bind 127.0.0.1:PORT` on a free port and waits
    /// until `/readyz` answers 200. Request logging is turned down to warnings: one line
    /// per request on stderr is not what is being measured.
    pub(crate) async fn start(binary: &Path, url: &str) -> anyhow::Result<ApiServer> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let child = Command::new(binary)
            .args(["--database-url", url, "--bind", &addr.to_string()])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut server = ApiServer { child, addr };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!("inventory-api exited at start-up: {status}");
            }
            if let Ok(mut conn) = Conn::open(addr).await {
                if let Ok((200, _)) = conn.get("/readyz", "").await {
                    return Ok(server);
                }
            }
            if Instant::now() > deadline {
                bail!("inventory-api did not become ready on {addr} within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The process's peak resident memory so far, in MiB (`VmHWM`).
    pub(crate) fn peak_rss_mib(&self) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .context("no VmHWM in /proc/PID/status")?;
        Ok(kib / 1024.0)
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One keep-alive HTTP/1.1 connection.
pub(crate) struct Conn {
    stream: TcpStream,
    host: String,
    buf: Vec<u8>,
}

impl Conn {
    pub(crate) async fn open(addr: SocketAddr) -> anyhow::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            host: addr.to_string(),
            buf: Vec::with_capacity(16 * 1024),
        })
    }

    /// `GET path` with `headers` (each line ending in CRLF, e.g. from [`bearer`]):
    /// (status, body length).
    pub(crate) async fn get(&mut self, path: &str, headers: &str) -> anyhow::Result<(u16, usize)> {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\n{headers}\r\n",
            self.host
        );
        self.stream.write_all(request.as_bytes()).await?;
        self.buf.clear();
        // Headers, then as much body as Content-Length says.
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            self.read_more().await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end]).context("response head")?;
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("no status in the response")?;
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .context("a response without Content-Length")?;
        while self.buf.len() < head_end + length {
            self.read_more().await?;
        }
        Ok((status, length))
    }

    async fn read_more(&mut self) -> anyhow::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("the server closed the connection");
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

/// The header line that presents an API token.
pub(crate) fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}\r\n")
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// What a load run measured.
pub(crate) struct Load {
    /// Answers received (all 200) per second.
    pub per_sec: f64,
    /// Latencies of every request, in milliseconds.
    pub latencies: Vec<f64>,
}

/// `connections` keep-alive connections, each sending `GET /api/v1/locations/{id}` one
/// after the other for `duration`, the ids taken in turn from `ids` (each connection from
/// its own offset). Any answer other than 200 fails the run.
pub(crate) async fn load(
    addr: SocketAddr,
    token: &str,
    ids: Arc<Vec<i64>>,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<Load> {
    let auth: Arc<str> = bearer(token).into();
    let start = Instant::now();
    let end = start + duration;
    let mut tasks = Vec::with_capacity(connections);
    for c in 0..connections {
        let (ids, auth) = (Arc::clone(&ids), Arc::clone(&auth));
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await?;
            let mut latencies = Vec::new();
            let mut i = c * ids.len() / connections.max(1);
            while Instant::now() < end {
                let path = format!("/api/v1/locations/{}", ids[i % ids.len()]);
                let sent = Instant::now();
                let (status, _) = conn.get(&path, &auth).await?;
                if status != 200 {
                    bail!("GET {path} answered {status}");
                }
                latencies.push(sent.elapsed().as_secs_f64() * 1e3);
                i += 1;
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(Load {
        per_sec: latencies.len() as f64 / secs,
        latencies,
    })
}

/// The `q`-quantile (0 to 1) of `samples`.
pub(crate) fn quantile(samples: &[f64], q: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Runs `pgbench -n -M prepared -c clients -j 2 -T secs -f script` against `url` and
/// returns its transactions per second (the figure without connection time).
pub(crate) fn pgbench(url: &str, script: &str, clients: usize, secs: u64) -> anyhow::Result<f64> {
    let file = std::env::temp_dir().join(format!("bench-pgbench-{}.sql", std::process::id()));
    std::fs::write(&file, script)?;
    let out = Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-j", "2"])
        .args(["-c", &clients.to_string(), "-T", &secs.to_string()])
        .arg("-f")
        .arg(&file)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .context("running pgbench (postgresql-client)")?;
    let _ = std::fs::remove_file(&file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "pgbench failed: {}{}",
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // "tps = 12345.678901 (without initial connection time)"
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("tps = "))
        .filter_map(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .next_back()
        .with_context(|| format!("no tps in pgbench's output: {stdout}"))
}
