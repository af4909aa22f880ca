//! Hostile connections against the real `inventory-api` binary: bodies over `--max-body`
//! (declared or chunked) are refused with 413 without being read, deeply nested JSON is a
//! 400 (no stack overflow), a client trickling its headers is cut off after
//! `--header-read-timeout` while others are served, 10,000 idle connections leave the
//! server answering promptly in bounded memory (peak RSS measured and printed), and
//! `--max-connections` holds further clients back.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use inventory_core::Role;
use inventory_db::{Database, DatabaseUrl};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How many idle connections the memory test holds open.
const IDLE_CONNECTIONS: usize = 10_000;
/// The bound the server's peak resident memory stays under with [`IDLE_CONNECTIONS`] open.
const PEAK_RSS_BOUND_MIB: u64 = 256;
/// How long a request may take while the server is under attack (a debug build on a
/// shared machine).
const PROMPT: Duration = Duration::from_secs(2);

/// A running server, killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id().expect("the server is running")
    }

    /// A field of /proc/PID/status in KiB (`VmHWM`, `VmRSS`).
    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc/PID/status"))
    }

    /// The server's open sockets: its listener and the connections it accepted.
    fn sockets(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .unwrap()
            .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
            .filter(|target| target.to_string_lossy().starts_with("socket:"))
            .count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// A SQLite database with one member and a token of theirs: (database URL, token).
async fn database(dir: &Path) -> (String, String) {
    let path = dir.join("inventory.db");
    let db =
        Database::connect_or_create(&DatabaseUrl::SqliteFile(path.clone()), Default::default())
            .await
            .unwrap();
    db.migrate().await.unwrap();
    db.create_user("ann", "correct horse battery", Role::Member)
        .await
        .unwrap();
    let token = db
        .create_token("ann", Some("hostile"))
        .await
        .unwrap()
        .secret;
    db.checkpoint().await.unwrap();
    (format!("sqlite://{}", path.display()), token)
}

async fn start(url: &str, args: &[&str]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_inventory-api"));
    cmd.args(["--bind", "127.0.0.1:0", "--database-url", url])
        .args(args)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for var in [
        "INVENTORY_MAX_BODY",
        "INVENTORY_HEADER_READ_TIMEOUT",
        "INVENTORY_MAX_CONNECTIONS",
    ] {
        cmd.env_remove(var);
    }
    let mut child = cmd.spawn().expect("spawn inventory-api");
    let stderr = child.stderr.take().expect("stderr");
    let log = Arc::new(Mutex::new(String::new()));
    let (addr_tx, mut addr_rx) = tokio::sync::mpsc::channel::<SocketAddr>(1);
    let sink = log.clone();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                if let Ok(addr) = rest.trim().parse() {
                    let _ = addr_tx.send(addr).await;
                }
            }
            let mut log = sink.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
    let addr = tokio::time::timeout(START_TIMEOUT, addr_rx.recv())
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("inventory-api did not start: {}", log.lock().unwrap()));
    Server { child, addr, log }
}

/// A response read off the socket.
#[derive(Debug)]
struct Response {
    status: u16,
    head: String,
    body: String,
}

impl Response {
    fn is_problem(&self) -> bool {
        self.head
            .to_ascii_lowercase()
            .contains("content-type: application/problem+json")
            && self.body.contains(&format!("\"status\":{}", self.status))
    }
}

/// Reads one response (the server closes the connection after it, or says its length).
async fn read_response<R: AsyncReadExt + Unpin>(stream: &mut R) -> Response {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = stream.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&raw);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            });
            if length.is_some_and(|len| body.len() >= len) {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not a complete response: {text:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    Response {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// One request on a fresh connection, answered within `within`.
async fn request(addr: SocketAddr, head: &str, body: &[u8], within: Duration) -> Response {
    tokio::time::timeout(within, async {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream.write_all(head.as_bytes()).await.expect("send head");
        stream.write_all(body).await.expect("send body");
        read_response(&mut stream).await
    })
    .await
    .unwrap_or_else(|_| panic!("no answer within {within:?} to {head}"))
}

async fn get(addr: SocketAddr, path: &str, token: &str, within: Duration) -> Response {
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Connection: close\r\n\r\n"
    );
    request(addr, &head, b"", within).await
}

/// Raises this process's soft open-files limit to the hard one; returns the new limit.
fn raise_open_files_limit() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    limit.current = limit.maximum;
    let _ = setrlimit(Resource::Nofile, limit);
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_body_over_max_body_is_refused_with_413_before_it_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (url, token) = database(dir.path()).await;
    let server = start(&url, &["--max-body", "64KiB"]).await;
    // 100 MiB announced, not one byte of it sent: the answer cannot wait for the body.
    let head = format!(
        "POST /api/v1/items HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        100 * 1024 * 1024
    );
    let r = request(server.addr, &head, b"", Duration::from_secs(5)).await;
    assert_eq!(r.status, 413, "{r:?}");
    assert!(r.is_problem(), "{r:?}");
    assert!(r.body.contains("65536 bytes"), "{r:?}");
    // Unauthenticated, the same: nothing is read first.
    let head = "POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\n\
                Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n";
    let r = request(server.addr, head, b"", Duration::from_secs(5)).await;
    assert_eq!(r.status, 413, "{r:?}");
    assert!(r.is_problem(), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_growing_past_max_body_is_cut_off_with_413() {
    const LIMIT: usize = 64 * 1024;
    const OFFERED: usize = 100 * 1024 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let (url, token) = database(dir.path()).await;
    let server = start(&url, &["--max-body", "64KiB"]).await;
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST /api/v1/items HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    writer.write_all(head.as_bytes()).await.unwrap();
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    // Up to 100 MiB of a JSON string, 8 KiB a chunk, until the server stops taking it.
    let sender = tokio::spawn(async move {
        let mut chunk = format!("{:x}\r\n", 8192).into_bytes();
        chunk.extend(std::iter::repeat_n(b' ', 8192));
        chunk.extend_from_slice(b"\r\n");
        let mut sent = 0;
        while sent < OFFERED {
            tokio::select! {
                _ = &mut stop_rx => break,
                written = writer.write_all(&chunk) => {
                    if written.is_err() {
                        break;
                    }
                    sent += 8192;
                }
            }
        }
        sent
    });
    let r = tokio::time::timeout(Duration::from_secs(20), read_response(&mut reader))
        .await
        .expect("an answer while the body is still coming");
    let _ = stop_tx.send(());
    let sent = sender.await.unwrap();
    println!("chunked body: 413 after {sent} bytes offered (limit {LIMIT})");
    assert_eq!(r.status, 413, "{r:?}");
    assert!(r.is_problem(), "{r:?}");
    // What was sent includes what the sockets' buffers took; the server read at most the
    // limit and one chunk, and the rest of the 100 MiB was never sent.
    assert!(sent < 32 * 1024 * 1024, "{sent} bytes went out");
    // The server is fine.
    let r = get(server.addr, "/healthz", "", PROMPT).await;
    assert_eq!(r.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_json_is_a_400_problem_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let (url, token) = database(dir.path()).await;
    let server = start(&url, &[]).await;
    let deep = "[".repeat(100_000);
    let in_a_field = format!("{{\"name\":{}", "[".repeat(100_000));
    let closed = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
    let objects = "{\"a\":".repeat(50_000);
    for (path, body) in [
        ("/api/v1/items", &deep),
        ("/api/v1/items", &in_a_field),
        ("/api/v1/locations", &closed),
        ("/api/v1/categories", &objects),
        ("/api/v1/auth/login", &deep),
    ] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let r = request(server.addr, &head, body.as_bytes(), Duration::from_secs(10)).await;
        assert!(
            r.status == 400 || r.status == 422,
            "{path} {}…: {r:?}",
            &body[..12]
        );
        assert!(r.is_problem(), "{r:?}");
    }
    let r = get(server.addr, "/healthz", "", PROMPT).await;
    assert_eq!(r.status, 200, "the server is still up");
    assert!(!server.log.lock().unwrap().contains("panicked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_loris_is_disconnected_after_the_header_read_timeout_while_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let (url, token) = database(dir.path()).await;
    let server = start(&url, &["--header-read-timeout", "2"]).await;
    let started = Instant::now();
    let mut loris = TcpStream::connect(server.addr).await.unwrap();
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    loris
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    // One header byte every 100 ms, for at most 20 s, watching for the server to hang up;
    // meanwhile others are served.
    let trickle = tokio::spawn(async move {
        let header = b"X-Slow: "
            .iter()
            .chain(b"a".repeat(1000).iter())
            .copied()
            .collect::<Vec<u8>>();
        for byte in header.iter().cycle().take(200) {
            if loris.write_all(&[*byte]).await.is_err() {
                break;
            }
            // Anything read (end of stream, an error, or an answer) means it was cut off.
            let mut probe = [0u8; 512];
            if tokio::time::timeout(Duration::from_millis(100), loris.read(&mut probe))
                .await
                .is_ok()
            {
                break;
            }
        }
        started.elapsed()
    });
    for _ in 0..5 {
        let t = Instant::now();
        let r = get(server.addr, "/api/v1/auth/me", &token, PROMPT).await;
        assert_eq!(r.status, 200, "{r:?}");
        assert!(t.elapsed() < PROMPT);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let cut_after = tokio::time::timeout(Duration::from_secs(25), trickle)
        .await
        .expect("the trickle ends")
        .unwrap();
    println!("slow loris: cut off after {cut_after:?} (header read timeout 2 s)");
    assert!(
        cut_after >= Duration::from_millis(1900) && cut_after < Duration::from_secs(6),
        "cut off after {cut_after:?}"
    );
    // A connection that sends nothing at all is closed on the same clock.
    let mut probe = [0u8; 64];
    let closed = tokio::time::timeout(Duration::from_secs(6), idle.read(&mut probe))
        .await
        .expect("the idle connection is closed");
    assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?}");
    assert!(started.elapsed() < Duration::from_secs(8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_a_408_after_the_body_read_timeout_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (url, token) = database(dir.path()).await;
    let server = start(&url, &["--body-read-timeout", "2"]).await;
    let before = get(server.addr, "/api/v1/locations", &token, PROMPT).await;
    assert_eq!(before.status, 200, "{before:?}");
    // A part of a JSON body, then nothing (twice, with two spellings of the media type).
    let body = r#"{"name":"Stalled","location_type":"HOUSE"}"#;
    for (path, kind) in [
        ("/api/v1/locations", "application/json"),
        ("/api/v1/locations", "application/json; charset=utf-8"),
    ] {
        let started = Instant::now();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: {kind}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let mut stalled = TcpStream::connect(server.addr).await.unwrap();
        stalled.write_all(head.as_bytes()).await.unwrap();
        stalled.write_all(&body.as_bytes()[..10]).await.unwrap();
        // Meanwhile others are served.
        let r = get(server.addr, "/api/v1/auth/me", &token, PROMPT).await;
        assert_eq!(r.status, 200, "{r:?}");
        let answer = tokio::time::timeout(Duration::from_secs(10), read_response(&mut stalled))
            .await
            .expect("an answer to the stalled body");
        let waited = started.elapsed();
        assert_eq!(answer.status, 408, "{answer:?}");
        assert!(answer.is_problem(), "{answer:?}");
        assert!(
            answer.body.contains("/problems/request-timeout"),
            "{answer:?}"
        );
        assert!(
            waited >= Duration::from_millis(1900) && waited < Duration::from_secs(6),
            "{waited:?}"
        );
        // The connection is closed: the rest of the body is never read as a request.
        let mut probe = [0u8; 64];
        let closed = tokio::time::timeout(Duration::from_secs(5), stalled.read(&mut probe))
            .await
            .expect("the connection is closed");
        assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?}");
    }
    // Nothing was written, and a body that arrives slowly but steadily still goes in.
    let after = get(server.addr, "/api/v1/locations", &token, PROMPT).await;
    assert_eq!(after.body, before.body, "a stalled request wrote something");
    let head = format!(
        "POST /api/v1/locations HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut steady = TcpStream::connect(server.addr).await.unwrap();
    steady.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    for chunk in body.as_bytes().chunks(8) {
        tokio::time::sleep(Duration::from_millis(700)).await;
        steady.write_all(chunk).await.unwrap();
    }
    assert!(
        started.elapsed() > Duration::from_secs(3),
        "longer in all than the timeout"
    );
    let created = tokio::time::timeout(Duration::from_secs(10), read_response(&mut steady))
        .await
        .expect("an answer to the steady body");
    assert_eq!(created.status, 201, "{created:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_idle_connections_leave_the_server_prompt_in_bounded_memory() {
    let files = raise_open_files_limit();
    assert!(
        files >= IDLE_CONNECTIONS as u64 + 200,
        "this test needs an open-files hard limit over {IDLE_CONNECTIONS} (it is {files}): \
         raise it with `ulimit -Hn`"
    );
    let dir = tempfile::tempdir().unwrap();
    let (url, token) = database(dir.path()).await;
    // Idle connections are closed after the header-read timeout: long enough to hold them.
    let server = start(&url, &["--header-read-timeout", "120"]).await;
    let r = get(server.addr, "/api/v1/locations", &token, PROMPT).await;
    assert_eq!(r.status, 200, "{r:?}");
    let baseline_kib = server.status_kib("VmHWM");

    // In batches, each taken by the server before the next: a larger burst than the
    // listen backlog would have handshakes dropped by the kernel, not held by the server.
    let opening = Instant::now();
    let mut idle = Vec::with_capacity(IDLE_CONNECTIONS);
    while idle.len() < IDLE_CONNECTIONS {
        let batch = (IDLE_CONNECTIONS - idle.len()).min(500);
        let connects: Vec<_> = (0..batch)
            .map(|_| tokio::spawn(TcpStream::connect(server.addr)))
            .collect();
        for c in connects {
            idle.push(c.await.unwrap().expect("connect"));
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.sockets() < 1 + idle.len() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // Less the listener.
    let held = server.sockets() - 1;
    let opened_in = opening.elapsed();
    assert!(
        held >= IDLE_CONNECTIONS,
        "the server holds {held} connections"
    );

    let t = Instant::now();
    let health = get(server.addr, "/healthz", "", PROMPT).await;
    let health_took = t.elapsed();
    let t = Instant::now();
    let list = get(server.addr, "/api/v1/locations", &token, PROMPT).await;
    let list_took = t.elapsed();
    assert_eq!(health.status, 200, "{health:?}");
    assert_eq!(list.status, 200, "{list:?}");

    let peak_kib = server.status_kib("VmHWM");
    let rss_kib = server.status_kib("VmRSS");
    println!(
        "{IDLE_CONNECTIONS} idle connections: held {held} after {opened_in:?}; /healthz in \
         {health_took:?}, /api/v1/locations in {list_took:?}; server VmHWM {} KiB before, \
         {peak_kib} KiB with them open (VmRSS {rss_kib} KiB), {:.1} KiB a connection",
        baseline_kib,
        (peak_kib.saturating_sub(baseline_kib)) as f64 / IDLE_CONNECTIONS as f64
    );
    assert!(health_took < PROMPT && list_took < PROMPT);
    assert!(
        peak_kib < PEAK_RSS_BOUND_MIB * 1024,
        "peak RSS {peak_kib} KiB is over {PEAK_RSS_BOUND_MIB} MiB"
    );
    drop(idle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_max_connections_a_new_client_waits_until_one_closes() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _token) = database(dir.path()).await;
    let server = start(
        &url,
        &["--max-connections", "2", "--header-read-timeout", "60"],
    )
    .await;
    let first = TcpStream::connect(server.addr).await.unwrap();
    let second = TcpStream::connect(server.addr).await.unwrap();
    // Let the server take both before the third arrives.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let addr = server.addr;
    let third = tokio::spawn(async move {
        let t = Instant::now();
        let r = get(addr, "/healthz", "", Duration::from_secs(10)).await;
        (r, t.elapsed())
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        !third.is_finished(),
        "the third client was served past the limit"
    );
    drop(first);
    let (r, waited) = third.await.unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    assert!(waited >= Duration::from_secs(1), "{waited:?}");
    assert!(waited < Duration::from_secs(4), "{waited:?}");
    drop(second);
    drop(server);
}
