//! Starting the binary, speaking HTTP/1.1 to it, and a TCP proxy that can be cut.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::sync::watch;

const START_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest any one request may take, whatever state the database is in.
pub const REQUEST_BOUND: Duration = Duration::from_secs(15);

/// A running server and everything it logged so far.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Server {
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Whether this process runs as root (who may write any file whatever its mode).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// Starts the server on a free port with `RUST_LOG=log_level`; `unprivileged` drops every
/// capability first (util-linux `setpriv`), so that file modes hold even for root.
pub async fn start(args: &[&str], log_level: &str, unprivileged: bool) -> Server {
    let bin = env!("CARGO_BIN_EXE_inventory-api");
    let mut cmd = if unprivileged && is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--bounding-set=-all", "--inh-caps=-all", "--"])
            .arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(["--bind", "127.0.0.1:0"])
        .args(args)
        .env("RUST_LOG", log_level)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for var in [
        "DATABASE_URL",
        "POSTGRES_HOST",
        "POSTGRES_PASSWORD",
        "INVENTORY_BIND",
        "INVENTORY_MIGRATE",
        "INVENTORY_MAX_BODY",
        "INVENTORY_SHUTDOWN_GRACE",
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
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Response {
    /// The value of header `name` (the first one).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The value `Set-Cookie` gives cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            if !k.trim().eq_ignore_ascii_case("set-cookie") {
                return None;
            }
            let rest = v.trim().strip_prefix(name)?.strip_prefix('=')?;
            Some(rest.split(';').next().unwrap_or_default().to_string())
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }

    /// Asserts a problem document of this status; its JSON.
    #[track_caller]
    pub fn problem(&self, status: u16) -> serde_json::Value {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{self:?}"
        );
        let p = self.json();
        assert_eq!(p["status"], status, "{self:?}");
        p
    }
}

/// One request on a fresh connection (`Connection: close`); panics past [`REQUEST_BOUND`].
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[&str],
    body: &str,
) -> Response {
    let exchange = async {
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
    };
    tokio::time::timeout(REQUEST_BOUND, exchange)
        .await
        .unwrap_or_else(|_| panic!("{method} {path} took longer than {REQUEST_BOUND:?}"))
}

/// A TCP proxy in front of `upstream` that the test can cut (every open connection closed,
/// new ones closed as soon as they are accepted) and restore.
pub struct Proxy {
    pub addr: SocketAddr,
    up: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (up, _) = watch::channel(true);
        let state = up.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                let mut watcher = state.subscribe();
                if !*watcher.borrow() {
                    drop(client);
                    continue;
                }
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = watcher.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Proxy { addr, up, task }
    }

    /// Closes every connection and refuses new ones.
    pub fn cut(&self) {
        self.up.send_replace(false);
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.up.send_replace(true);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `url` (a PostgreSQL URL) with its host and port replaced by `addr`.
pub fn via(url: &str, addr: SocketAddr) -> String {
    let start = url.find("://").unwrap() + 3;
    let end = start + url[start..].find('/').unwrap_or(url.len() - start);
    let authority = &url[start..end];
    let userinfo = authority.rfind('@').map_or("", |at| &authority[..=at]);
    format!("{}{userinfo}{addr}{}", &url[..start], &url[end..])
}

/// The host and port of a PostgreSQL URL (default port 5432).
pub fn upstream_of(url: &str) -> SocketAddr {
    let start = url.find("://").unwrap() + 3;
    let end = start + url[start..].find(['/', '?']).unwrap_or(url.len() - start);
    let authority = &url[start..end];
    let host_port = authority.rsplit('@').next().unwrap();
    let host_port = if host_port.contains(':') {
        host_port.to_string()
    } else {
        format!("{host_port}:5432")
    };
    let host_port = host_port.replace("localhost", "127.0.0.1");
    host_port
        .parse()
        .expect("a numeric host in INVENTORY_TEST_PG")
}
