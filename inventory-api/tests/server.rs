//! The real `inventory-api` binary over a socket: start-up checks, exit codes, the access
//! log, and graceful shutdown on SIGTERM (in-flight requests finish, the SQLite WAL is
//! checkpointed so that the database file alone is complete).

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use inventory_core::Role;
use inventory_db::{Database, DatabaseUrl};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

const PASSWORD: &str = "correct horse battery";
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running server and everything it logged so far.
struct Server {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn terminate(&self) {
        let pid = self.child.id().expect("the server is running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    async fn wait(&mut self, within: Duration) -> ExitStatus {
        tokio::time::timeout(within, self.child.wait())
            .await
            .expect("the server exits in time")
            .expect("wait for the server")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_inventory-api"));
    cmd.args(args)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for var in [
        "DATABASE_URL",
        "POSTGRES_HOST",
        "INVENTORY_BIND",
        "INVENTORY_MIGRATE",
        "INVENTORY_MAX_BODY",
        "INVENTORY_SHUTDOWN_GRACE",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Starts the server on a free port; `Err` with its exit status and stderr when it stops
/// before listening.
async fn start(args: &[&str]) -> Result<Server, (ExitStatus, String)> {
    let mut all = vec!["--bind", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let mut child = command(&all).spawn().expect("spawn inventory-api");
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
    // The reader ends (and the channel closes) when the server's stderr does.
    let addr = tokio::time::timeout(START_TIMEOUT, addr_rx.recv())
        .await
        .unwrap_or_else(|_| panic!("inventory-api did not start: {}", log.lock().unwrap()));
    match addr {
        Some(addr) => Ok(Server { child, addr, log }),
        None => {
            let status = child.wait().await.expect("wait");
            let log = log.lock().unwrap().clone();
            Err((status, log))
        }
    }
}

/// A response read off the socket.
#[derive(Debug)]
struct Response {
    status: u16,
    head: String,
    body: String,
}

async fn read_response(stream: &mut TcpStream) -> Response {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read response");
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete response");
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

/// One request on a fresh connection (`Connection: close`).
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[&str],
    body: &str,
) -> Response {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.expect("send");
    read_response(&mut stream).await
}

fn sqlite_arg(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// A migrated SQLite file with one member, ann.
async fn database_with_user(dir: &Path) -> PathBuf {
    let path = dir.join("inventory.db");
    let db =
        Database::connect_or_create(&DatabaseUrl::SqliteFile(path.clone()), Default::default())
            .await
            .unwrap();
    db.migrate().await.unwrap();
    db.create_user("ann", PASSWORD, Role::Member).await.unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_on_a_fresh_sqlite_file_with_migrate_and_answers_healthz() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_arg(&dir.path().join("new/inventory.db"));
    let server = start(&["--database-url", &db, "--migrate"])
        .await
        .expect("starts");
    let r = http(server.addr, "GET", "/healthz", &[], "").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, r#"{"status":"ok"}"#);
    let r = http(server.addr, "GET", "/readyz", &[], "").await;
    assert_eq!(r.status, 200, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_database_file_without_migrate_is_refused_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inventory.db");
    let (status, log) = start(&["--database-url", &sqlite_arg(&path)])
        .await
        .err()
        .expect("refuses to start");
    assert_eq!(status.code(), Some(3), "{log}");
    assert!(
        log.contains("does not exist") && log.contains("--migrate"),
        "{log}"
    );
    assert!(!path.exists(), "nothing is created without --migrate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmigrated_database_without_migrate_is_refused_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inventory.db");
    drop(
        Database::connect_or_create(&DatabaseUrl::SqliteFile(path.clone()), Default::default())
            .await
            .unwrap(),
    );
    let (status, log) = start(&["--database-url", &sqlite_arg(&path)])
        .await
        .err()
        .expect("refuses to start");
    assert_eq!(status.code(), Some(3), "{log}");
    assert!(
        log.contains("schema is not current") && log.contains("--migrate"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_is_exit_3_without_showing_the_password() {
    let (status, log) = start(&[
        "--database-url",
        "postgres://app:s3cr3t-pw@127.0.0.1:1/inventory",
    ])
    .await
    .err()
    .expect("refuses to start");
    assert_eq!(status.code(), Some(3), "{log}");
    assert!(!log.contains("s3cr3t-pw"), "{log}");
    assert!(log.contains("127.0.0.1:1"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configuration_is_exit_2() {
    for args in [
        &["--database-url", "mysql://localhost/inventory"][..],
        &["--max-body", "0"][..],
        &["--max-body", "lots"][..],
        &["--session-days", "0"][..],
        &["--cors-origin", "*"][..],
        &["--bind", "not-an-address"][..],
    ] {
        let (status, log) = start(args).await.err().expect("refuses to start");
        assert_eq!(status.code(), Some(2), "{args:?}: {log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_is_one_log_line_without_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_arg(&dir.path().join("inventory.db"));
    let server = start(&["--database-url", &db, "--migrate"])
        .await
        .expect("starts");
    let secret = "hinv_4e6f7420612072656164792074";
    let password = "hunter2-hunter2";
    let r = http(
        server.addr,
        "GET",
        "/api/v1/auth/me",
        &[
            &format!("Authorization: Bearer {secret}"),
            "X-Request-Id: trace-me-1",
        ],
        "",
    )
    .await;
    assert_eq!(r.status, 401);
    assert!(r
        .head
        .to_ascii_lowercase()
        .contains("x-request-id: trace-me-1"));
    let body = format!(r#"{{"username":"ann","password":"{password}"}}"#);
    let r = http(
        server.addr,
        "POST",
        "/api/v1/auth/login",
        &["Content-Type: application/json", "Cookie: session=c00k1e"],
        &body,
    )
    .await;
    assert_eq!(r.status, 401);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = server.log();
    let access: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("inventory_api::access"))
        .collect();
    assert_eq!(access.len(), 2, "{log}");
    assert!(access[0].contains("method=GET") && access[0].contains("route=/api/v1/auth/me"));
    assert!(access[0].contains("status=401") && access[0].contains("request_id=trace-me-1"));
    assert!(access[0].contains("latency_ms="));
    assert!(access[1].contains("route=/api/v1/auth/login") && access[1].contains("status=401"));
    for secret in [secret, password, "c00k1e"] {
        assert!(!log.contains(secret), "{secret} in the log: {log}");
    }
}

/// Sends the head and the first half of a login; the rest comes later.
async fn start_slow_login(addr: SocketAddr) -> (TcpStream, String) {
    let body = format!(r#"{{"username":"ann","password":"{PASSWORD}"}}"#);
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let (first, rest) = body.split_at(body.len() / 2);
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(first.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    (stream, rest.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_slow_request_finish_then_checkpoints_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let path = database_with_user(dir.path()).await;
    let mut server = start(&["--database-url", &sqlite_arg(&path)])
        .await
        .expect("starts");
    let (mut stream, rest) = start_slow_login(server.addr).await;
    // Time for the server to accept the connection and start the handler.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    server.terminate();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "still serving the request"
    );
    assert!(
        TcpStream::connect(server.addr).await.is_err(),
        "no new connections once shutting down"
    );
    stream.write_all(rest.as_bytes()).await.unwrap();
    let r = read_response(&mut stream).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains("\"token\":\"hinv_"), "{r:?}");

    let status = server.wait(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(0), "{}", server.log());
    let wal = dir.path().join("inventory.db-wal");
    assert!(
        std::fs::metadata(&wal).map_or(true, |m| m.len() == 0),
        "the WAL is checkpointed: {}",
        server.log()
    );
    // A plain copy of the database file alone holds the login's token.
    let copy_dir = tempfile::tempdir().unwrap();
    let copy = copy_dir.path().join("copy.db");
    std::fs::copy(&path, &copy).unwrap();
    let db = Database::connect(&DatabaseUrl::SqliteFile(copy))
        .await
        .unwrap();
    let tokens = db.list_tokens(None).await.unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].label.as_deref(), Some("login"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_outlasts_the_grace_period_does_not_hold_up_the_exit() {
    let dir = tempfile::tempdir().unwrap();
    let path = database_with_user(dir.path()).await;
    let mut server = start(&[
        "--database-url",
        &sqlite_arg(&path),
        "--shutdown-grace",
        "1",
    ])
    .await
    .expect("starts");
    let (_stream, _never_sent) = start_slow_login(server.addr).await;
    // Time for the server to accept the connection and start the handler.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let asked = std::time::Instant::now();
    server.terminate();
    let status = server.wait(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(0));
    assert!(asked.elapsed() >= Duration::from_millis(900));
    assert!(
        server.log().contains("grace period over"),
        "{}",
        server.log()
    );
}

/// A move request's status.
async fn move_location(addr: SocketAddr, token: &str, id: i64, parent: i64) -> u16 {
    let auth = format!("Authorization: Bearer {token}");
    let body = format!(r#"{{"parent_id":{parent}}}"#);
    let r = http(
        addr,
        "POST",
        &format!("/api/v1/locations/{id}/move"),
        &[&auth, "Content-Type: application/json"],
        &body,
    )
    .await;
    assert!(r.status == 200 || r.status == 409, "{r:?}");
    r.status
}

/// Several API processes serve one PostgreSQL database: opposing moves sent at the same
/// moment through two processes never both succeed (one gets 409), and afterwards the tree
/// has no cycle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_database_never_commit_a_cycle_postgres() {
    use inventory_core::LocationType;
    let test_db = inventory_db::testing::postgres().await;
    let db = &test_db.db;
    db.create_user("ann", PASSWORD, Role::Member).await.unwrap();
    let token = db.create_token("ann", None).await.unwrap().secret;
    let add = |name: &'static str, kind: LocationType, parent: Option<i64>| async move {
        db.create_location(&inventory_db::NewLocation {
            name: name.into(),
            description: None,
            location_type: kind,
            parent_id: parent,
        })
        .await
        .unwrap()
        .id
    };
    let house = add("My House", LocationType::House, None).await;
    let room = add("Garage", LocationType::Room, Some(house)).await;
    let a = add("A", LocationType::Container, Some(room)).await;
    let b = add("B", LocationType::Container, Some(room)).await;
    let c = add("C", LocationType::Container, Some(room)).await;
    let one = start(&["--database-url", &test_db.url])
        .await
        .expect("starts");
    let two = start(&["--database-url", &test_db.url])
        .await
        .expect("starts");
    let (mut pairs, mut triples) = (0, 0);
    for round in 0..12 {
        // A under B through one server, B under A through the other.
        let (x, y) = if round % 2 == 0 {
            (&one, &two)
        } else {
            (&two, &one)
        };
        let (ab, ba) = tokio::join!(
            move_location(x.addr, &token, a, b),
            move_location(y.addr, &token, b, a)
        );
        assert!(
            !(ab == 200 && ba == 200),
            "round {round}: both opposing moves succeeded"
        );
        pairs += usize::from(ab == 200) + usize::from(ba == 200);
        // A three-way cycle: A under B, B under C, C under A, at once.
        for id in [a, b, c] {
            assert_eq!(move_location(one.addr, &token, id, room).await, 200);
        }
        let (ab, bc, ca) = tokio::join!(
            move_location(x.addr, &token, a, b),
            move_location(y.addr, &token, b, c),
            move_location(x.addr, &token, c, a)
        );
        let ok = [ab, bc, ca].iter().filter(|s| **s == 200).count();
        assert!(ok <= 2, "round {round}: a three-way cycle was committed");
        triples += ok;
        for id in [a, b, c] {
            assert_eq!(move_location(y.addr, &token, id, room).await, 200);
        }
    }
    assert!(
        pairs >= 12 && triples >= 24,
        "every round one move wins: {pairs} {triples}"
    );
    let auth = format!("Authorization: Bearer {token}");
    for server in [&one, &two] {
        let r = http(server.addr, "GET", "/api/v1/integrity", &[&auth], "").await;
        assert_eq!(r.status, 200, "{r:?}");
        let report: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(report["clean"], true, "{report}");
    }
    let outcome = db.integrity(false).await.unwrap();
    assert!(outcome.is_clean(), "{outcome:?}");
}
