//! `cargo xtask soak [--secs N]`: load with writes. Starts `inventory-api` on a fresh SQLite
//! database, and two `inventory-api` processes on one fresh PostgreSQL database; 32
//! concurrent HTTP clients do mixed reads, creates, moves, bulk moves and deletes of their
//! own items for `--secs` seconds. Afterwards: no 5xx, no 409 or 412 (no client touches
//! another's items, so none is a real conflict), no request took more than 2 s, and the
//! integrity check is clean.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use inventory_core::Role;
use inventory_db::testing;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::pg;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// How long the clients run on each backend.
    #[arg(long, default_value_t = 30)]
    secs: u64,
}

const CLIENTS: usize = 32;
const SLOW: Duration = Duration::from_secs(2);

/// One answer: status and body.
struct Answer {
    status: u16,
    body: Value,
}

/// One HTTP/1.1 request on a fresh connection.
async fn call(
    addr: &str,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> anyhow::Result<Answer> {
    let mut stream = TcpStream::connect(addr).await?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Connection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    req.push_str("\r\n");
    req.push_str(&body);
    stream.write_all(req.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no status line in {text:.200}"))?;
    let body = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    Ok(Answer { status, body })
}

/// A running `inventory-api`, killed on drop.
struct Server {
    child: Child,
    addr: String,
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

async fn serve(url: &str, token: &str) -> anyhow::Result<Server> {
    let addr = format!("127.0.0.1:{}", free_port()?);
    let child = Command::new(crate::project_root().join("target/debug/inventory-api"))
        .args(["--database-url", url, "--bind", &addr, "--migrate"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    let server = Server { child, addr };
    for _ in 0..100 {
        if let Ok(a) = call(&server.addr, token, "GET", "/api/v1/auth/me", None).await {
            ensure!(a.status == 200, "auth/me: {}", a.status);
            return Ok(server);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("inventory-api on {} did not answer", server.addr)
}

/// What the clients saw.
#[derive(Debug, Default)]
struct Seen {
    requests: u64,
    bad: Vec<String>,
    slowest: Duration,
}

async fn client(
    n: usize,
    addrs: Arc<Vec<String>>,
    token: Arc<String>,
    rooms: Arc<Vec<i64>>,
    until: Instant,
) -> Seen {
    let mut seen = Seen::default();
    let mut rng = (n as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut mine: Vec<i64> = Vec::new();
    let mut made = 0;
    while Instant::now() < until {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let addr = &addrs[(rng % addrs.len() as u64) as usize];
        let room = rooms[(rng >> 8) as usize % rooms.len()];
        let pick = (rng >> 16) % 10;
        let (method, path, body) = match pick {
            0..=2 => ("GET", "/api/v1/items?limit=50".to_string(), None),
            3 => ("GET", format!("/api/v1/locations/{room}/items"), None),
            4..=5 => {
                made += 1;
                (
                    "POST",
                    "/api/v1/items".to_string(),
                    Some(json!({"name": format!("soak {n}-{made}"), "location_id": room})),
                )
            }
            6..=7 if !mine.is_empty() => {
                let id = mine[(rng >> 24) as usize % mine.len()];
                (
                    "POST",
                    format!("/api/v1/items/{id}/move"),
                    Some(json!({"location_id": room})),
                )
            }
            8 if !mine.is_empty() => (
                "POST",
                "/api/v1/items/bulk-move".to_string(),
                Some(json!({"ids": mine, "location_id": room})),
            ),
            9 if !mine.is_empty() => {
                let id = mine.swap_remove((rng >> 24) as usize % mine.len());
                ("DELETE", format!("/api/v1/items/{id}"), None)
            }
            _ => ("GET", "/api/v1/stats".to_string(), None),
        };
        let started = Instant::now();
        let answer = call(addr, &token, method, &path, body.as_ref()).await;
        let took = started.elapsed();
        seen.requests += 1;
        seen.slowest = seen.slowest.max(took);
        match answer {
            Ok(a) => {
                if a.status >= 500 || a.status == 409 || a.status == 412 || a.status == 404 {
                    seen.bad
                        .push(format!("{method} {path}: {} {}", a.status, a.body));
                }
                if method == "POST" && path == "/api/v1/items" && a.status == 201 {
                    if let Some(id) = a.body["id"].as_i64() {
                        mine.push(id);
                    }
                }
            }
            Err(e) => seen.bad.push(format!("{method} {path}: {e}")),
        }
        if took > SLOW {
            seen.bad.push(format!("{method} {path}: took {took:?}"));
        }
    }
    seen
}

async fn soak(
    name: &str,
    url: &str,
    db: &inventory_db::Database,
    servers: usize,
    secs: u64,
) -> anyhow::Result<u64> {
    db.create_user("soak", "soak password 1", Role::Member)
        .await?;
    let token = db.create_token("soak", Some("soak")).await?.secret;
    let mut running = Vec::new();
    for _ in 0..servers {
        running.push(serve(url, &token).await?);
    }
    let addrs: Vec<String> = running.iter().map(|s| s.addr.clone()).collect();
    let loc = |name: &str, kind: &str, parent: Option<i64>| json!({"name": name, "location_type": kind, "parent_id": parent});
    let house = call(
        &addrs[0],
        &token,
        "POST",
        "/api/v1/locations",
        Some(&loc("Soak House", "HOUSE", None)),
    )
    .await?;
    ensure!(house.status == 201, "house: {}", house.status);
    let house = house.body["id"].as_i64().context("house id")?;
    let mut rooms = Vec::new();
    for i in 0..8 {
        let r = call(
            &addrs[0],
            &token,
            "POST",
            "/api/v1/locations",
            Some(&loc(&format!("Room {i}"), "ROOM", Some(house))),
        )
        .await?;
        ensure!(r.status == 201, "room: {}", r.status);
        rooms.push(r.body["id"].as_i64().context("room id")?);
    }
    let (addrs, token, rooms) = (Arc::new(addrs), Arc::new(token), Arc::new(rooms));
    let until = Instant::now() + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|n| {
            tokio::spawn(client(
                n,
                addrs.clone(),
                token.clone(),
                rooms.clone(),
                until,
            ))
        })
        .collect();
    let mut requests = 0;
    let mut bad = Vec::new();
    let mut slowest = Duration::ZERO;
    for t in tasks {
        let seen = t.await?;
        requests += seen.requests;
        slowest = slowest.max(seen.slowest);
        bad.extend(seen.bad);
    }
    let integrity = call(&addrs[0], &token, "GET", "/api/v1/integrity", None).await?;
    println!(
        "soak: {name}: {requests} requests from {CLIENTS} clients on {servers} process(es) in {secs} s, slowest {slowest:?}, {} bad",
        bad.len()
    );
    for b in bad.iter().take(20) {
        println!("soak: {name}: {b}");
    }
    ensure!(bad.is_empty(), "{name}: {} bad answers", bad.len());
    ensure!(
        integrity.status == 200 && integrity.body["clean"] == true,
        "{name}: integrity after the soak: {} {}",
        integrity.status,
        integrity.body
    );
    Ok(requests)
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let server = pg::find_or_start()?.context("soak needs PostgreSQL")?;
    std::env::set_var("INVENTORY_TEST_PG", &server.url);
    let status = Command::new(crate::cargo())
        .current_dir(crate::project_root())
        .args(["build", "--quiet", "-p", "inventory-api"])
        .status()?;
    ensure!(status.success(), "building inventory-api failed");
    let sqlite = testing::sqlite().await;
    let a = soak("sqlite", &sqlite.url, &sqlite.db, 1, args.secs).await?;
    let postgres = testing::postgres().await;
    let b = soak("postgres", &postgres.url, &postgres.db, 2, args.secs).await?;
    println!(
        "soak: {} requests, no 5xx, no conflict, none slower than {SLOW:?}, integrity clean",
        a + b
    );
    Ok(())
}
