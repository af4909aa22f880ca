//! `cargo xtask soak [--secs N]`: load with writes and real conflicts. Starts
//! `inventory-api` on a fresh SQLite database, and two `inventory-api` processes on one
//! fresh PostgreSQL database; 32 concurrent HTTP clients run for `--secs` seconds, each
//! reading, and creating, moving, bulk-moving and deleting items of its own, and all of them
//! contending as a household does: editing the same shared items and locations with
//! `If-Match` (also with ETags they know to be stale), creating the same sibling names, and
//! moving shared boxes into each other's subtrees.
//!
//! Every 409 and 412 is classified against a log of what every client saw, with the moment
//! each request was sent and its answer received. A 412 is real when some acknowledged write
//! gave the resource another version at a moment that can lie after the sent ETag was seen
//! and before the refusal. A duplicate-name 409 is real when a location of that name was
//! there, by the windows of its create and delete, at a moment of the refused request. A
//! cycle 409 is real when the shared boxes' tree, replayed in the order the server committed
//! the moves (each move's new version is a timestamp taken under the tree lock), puts the
//! target inside the moved box in some state the refused request could have seen. An
//! unexplained 409 or 412, a stale `If-Match` that is accepted (a lost update), any 5xx, 404
//! or failed request, any request slower than 2 s, or an integrity check that is not clean
//! afterwards fails the run; so does a run in which no real conflict happened.

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use inventory_core::Role;
use inventory_db::testing;
use serde_json::{json, Value};

use crate::http::{call, Body, Server};
use crate::pg;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// How long the clients run on each backend.
    #[arg(long, default_value_t = 30)]
    secs: u64,
}

const CLIENTS: usize = 32;
const SLOW: Duration = Duration::from_secs(2);
/// Items every client edits.
const SHARED_ITEMS: usize = 8;
/// Boxes every client moves into each other.
const BOXES: usize = 6;
/// Names every client tries to create under one room.
const CRATE_NAMES: u64 = 5;

/// When a request was sent and its answer received.
#[derive(Clone, Copy, Debug)]
struct Window {
    sent: Instant,
    received: Instant,
}

/// Which shared resource.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
enum Res {
    Item(i64),
    Location(i64),
}

impl Res {
    fn path(self) -> String {
        match self {
            Res::Item(id) => format!("/api/v1/items/{id}"),
            Res::Location(id) => format!("/api/v1/locations/{id}"),
        }
    }
}

/// A version of a resource a client saw, and when.
#[derive(Clone, Debug)]
struct Seen {
    tag: String,
    at: Window,
}

/// What every client saw of the shared resources: the evidence the conflicts are judged by.
#[derive(Debug, Default)]
struct Log {
    /// Versions that acknowledged writes gave shared resources.
    versions: Vec<(Res, String, Window)>,
    /// 412s: the resource, the version sent (and when it was seen), the refused request.
    stale: Vec<(Res, Seen, Window, String)>,
    /// Acknowledged box moves: box, new parent, the server's version (µs), window.
    moves: Vec<(i64, i64, i64, Window)>,
    /// Moves refused as cycles: box, target, window.
    cycles: Vec<(i64, i64, Window)>,
    /// Crates created: name, create window, delete window once deleted.
    crates: HashMap<i64, (String, Window, Option<Window>)>,
    /// Crates not yet being deleted, for clients to pick.
    live_crates: Vec<i64>,
    /// Creates refused as a duplicate name: name, window.
    duplicates: Vec<(String, Window)>,
}

/// What one client counted.
#[derive(Debug, Default)]
struct Tally {
    requests: u64,
    bad: Vec<String>,
    slowest: (Duration, String),
    stale_sent: u64,
    server_errors: u64,
}

/// The shared setup every client works on.
#[derive(Debug)]
struct Shared {
    addrs: Vec<String>,
    token: String,
    rooms: Vec<i64>,
    items: Vec<i64>,
    tangle: i64,
    boxes: Vec<i64>,
    crate_room: i64,
    log: Mutex<Log>,
    until: Instant,
}

/// The version of a resource from the JSON of it (`updated_at` in µs), as its `ETag` is made.
fn version_of(row: &Value) -> Option<(i64, String)> {
    let id = row["id"].as_i64()?;
    let at = chrono::DateTime::parse_from_rfc3339(row["updated_at"].as_str()?).ok()?;
    let micros = at.timestamp_micros();
    Some((micros, format!("{id}-{micros:x}")))
}

/// A small xorshift generator per client.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<T: Copy>(&mut self, of: &[T]) -> T {
        of[self.next() as usize % of.len()]
    }
}

/// One client's knowledge of the shared resources: the latest version it saw of each, and
/// one it knows to be superseded.
#[derive(Default)]
struct Known {
    current: HashMap<Res, Seen>,
    superseded: HashMap<Res, Seen>,
}

impl Known {
    fn saw(&mut self, res: Res, tag: String, at: Window) {
        if let Some(old) = self.current.get(&res) {
            if old.tag == tag {
                return;
            }
            // Seen after the old one was: the old one is no longer current, and never will
            // be again (a version is the time of the write that made it).
            if at.sent > old.at.received {
                self.superseded.insert(res, old.clone());
            }
        }
        self.current.insert(res, Seen { tag, at });
    }
}

struct Client {
    n: usize,
    shared: Arc<Shared>,
    rng: Rng,
    tally: Tally,
    known: Known,
    mine: Vec<i64>,
    made: u64,
}

impl Client {
    /// Sends one request and counts it; `None` (counted as bad) when it failed.
    async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> Option<(crate::http::Answer, Window)> {
        let addr = self.shared.addrs[self.rng.next() as usize % self.shared.addrs.len()].clone();
        let body = body.as_ref().map_or(Body::None, Body::Json);
        let sent = Instant::now();
        let answer = call(&addr, &self.shared.token, method, path, body, if_match).await;
        let received = Instant::now();
        let took = received - sent;
        self.tally.requests += 1;
        if took > self.tally.slowest.0 {
            self.tally.slowest = (took, format!("{method} {path}"));
        }
        if took > SLOW {
            self.tally
                .bad
                .push(format!("{method} {path}: took {took:?}"));
        }
        match answer {
            Ok(a) => {
                if a.status >= 500 {
                    self.tally.server_errors += 1;
                }
                if a.status >= 500 || a.status == 404 {
                    self.tally
                        .bad
                        .push(format!("{method} {path}: {} {}", a.status, a.body));
                }
                Some((a, Window { sent, received }))
            }
            Err(e) => {
                self.tally.bad.push(format!("{method} {path}: {e}"));
                None
            }
        }
    }

    /// Requests that must never conflict (the client's own items, reads): a 409 or 412 is
    /// unexplained.
    async fn own(&mut self, method: &str, path: &str, body: Option<Value>) -> Option<Value> {
        let (a, _) = self.send(method, path, body, None).await?;
        if a.status == 409 || a.status == 412 {
            self.tally.bad.push(format!(
                "{method} {path}: {} {} (nobody else touches it)",
                a.status, a.body
            ));
        }
        (a.status < 300).then_some(a.body)
    }

    /// Records the versions an acknowledged write gave shared resources.
    fn wrote(&mut self, res: Res, row: &Value, at: Window) {
        if let Some((_, tag)) = version_of(row) {
            self.shared
                .log
                .lock()
                .expect("log")
                .versions
                .push((res, tag.clone(), at));
            self.known.saw(res, tag, at);
        }
    }

    /// A write with `If-Match` to a shared resource: the client's current version of it, or
    /// (`stale`) one it knows was superseded, which must be refused.
    async fn guarded(&mut self, res: Res, method: &str, path: String, body: Value, stale: bool) {
        let seen = if stale {
            self.known.superseded.get(&res).cloned()
        } else {
            self.known.current.get(&res).cloned()
        };
        let Some(seen) = seen else {
            return self.observe(res).await;
        };
        self.tally.stale_sent += u64::from(stale);
        let Some((a, at)) = self.send(method, &path, Some(body), Some(&seen.tag)).await else {
            return;
        };
        match a.status {
            200 if stale => self.tally.bad.push(format!(
                "{method} {path}: If-Match {} was superseded, yet it was accepted: a lost update",
                seen.tag
            )),
            200 => self.wrote(res, &a.body, at),
            412 => self.shared.log.lock().expect("log").stale.push((
                res,
                seen,
                at,
                format!("{method} {path}"),
            )),
            409 => self
                .tally
                .bad
                .push(format!("{method} {path}: 409 {}", a.body)),
            _ => {}
        }
    }

    async fn observe(&mut self, res: Res) {
        if let Some((a, at)) = self.send("GET", &res.path(), None, None).await {
            if a.status == 200 {
                if let Some((_, tag)) = version_of(&a.body) {
                    if a.etag.as_deref() != Some(tag.as_str()) {
                        self.tally.bad.push(format!(
                            "GET {}: ETag {:?} is not version {tag}",
                            res.path(),
                            a.etag
                        ));
                    }
                    self.known.saw(res, tag, at);
                }
            }
        }
    }

    async fn step(&mut self) {
        let s = self.shared.clone();
        let room = self.rng.pick(&s.rooms);
        let n = self.n;
        match self.rng.next() % 24 {
            0..=2 => {
                let _ = self.own("GET", "/api/v1/items?limit=50", None).await;
            }
            3 => {
                let _ = self
                    .own("GET", &format!("/api/v1/locations/{room}/items"), None)
                    .await;
            }
            4..=5 => {
                self.made += 1;
                let body = json!({"name": format!("soak {n}-{}", self.made), "location_id": room});
                if let Some(id) = self
                    .own("POST", "/api/v1/items", Some(body))
                    .await
                    .and_then(|b| b["id"].as_i64())
                {
                    self.mine.push(id);
                }
            }
            6 if !self.mine.is_empty() => {
                let id = self.rng.pick(&self.mine);
                let body = json!({"location_id": room});
                {
                    let _ = self
                        .own("POST", &format!("/api/v1/items/{id}/move"), Some(body))
                        .await;
                };
            }
            7 if !self.mine.is_empty() => {
                let body = json!({"ids": self.mine, "location_id": room});
                {
                    let _ = self
                        .own("POST", "/api/v1/items/bulk-move", Some(body))
                        .await;
                };
            }
            8 if !self.mine.is_empty() => {
                let id = self
                    .mine
                    .swap_remove(self.rng.next() as usize % self.mine.len());
                {
                    let _ = self
                        .own("DELETE", &format!("/api/v1/items/{id}"), None)
                        .await;
                };
            }
            9 => {
                let _ = self.own("GET", "/api/v1/stats", None).await;
            }
            // Shared items: read, edit and move with If-Match, sometimes with a stale ETag.
            10 => {
                let res = Res::Item(self.rng.pick(&s.items));
                self.observe(res).await;
            }
            11..=12 => {
                let res = Res::Item(self.rng.pick(&s.items));
                let body = json!({"notes": format!("edited by {n} at {}", self.tally.requests)});
                self.guarded(res, "PATCH", res.path(), body, false).await;
            }
            13 => {
                let res = Res::Item(self.rng.pick(&s.items));
                let path = format!("{}/move", res.path());
                self.guarded(res, "POST", path, json!({"location_id": room}), false)
                    .await;
            }
            14 => {
                let res = Res::Item(self.rng.pick(&s.items));
                let body = json!({"quantity": self.rng.next() % 9 + 1});
                self.guarded(res, "PATCH", res.path(), body, true).await;
            }
            15 => {
                let mut ids: Vec<i64> = (0..3).map(|_| self.rng.pick(&s.items)).collect();
                ids.sort_unstable();
                ids.dedup();
                let body = json!({"ids": ids, "location_id": room});
                if let Some((a, at)) = self
                    .send("POST", "/api/v1/items/bulk-move", Some(body), None)
                    .await
                {
                    match a.status {
                        200 => {
                            for row in a.body["items"].as_array().cloned().unwrap_or_default() {
                                if let Some(id) = row["id"].as_i64() {
                                    self.wrote(Res::Item(id), &row, at);
                                }
                            }
                        }
                        409 | 412 => self
                            .tally
                            .bad
                            .push(format!("bulk-move {ids:?}: {} {}", a.status, a.body)),
                        _ => {}
                    }
                }
            }
            // Shared boxes: edited with If-Match, moved into each other.
            16 => {
                let res = Res::Location(self.rng.pick(&s.boxes));
                let stale = self.rng.next() % 4 == 0;
                let body =
                    json!({"description": format!("box edited by {n} at {}", self.tally.requests)});
                self.guarded(res, "PATCH", res.path(), body, stale).await;
            }
            17..=19 => {
                let moved = self.rng.pick(&s.boxes);
                let to = if self.rng.next() % 4 == 0 {
                    s.tangle
                } else {
                    self.rng.pick(&s.boxes)
                };
                if to == moved {
                    return;
                }
                let path = format!("/api/v1/locations/{moved}/move");
                let Some((a, at)) = self
                    .send("POST", &path, Some(json!({"parent_id": to})), None)
                    .await
                else {
                    return;
                };
                match a.status {
                    200 => {
                        let version = version_of(&a.body).map(|v| v.0).unwrap_or_default();
                        s.log
                            .lock()
                            .expect("log")
                            .moves
                            .push((moved, to, version, at));
                        self.wrote(Res::Location(moved), &a.body, at);
                    }
                    409 if problem(&a.body) == "cycle" => {
                        s.log.lock().expect("log").cycles.push((moved, to, at));
                    }
                    409 | 412 => self
                        .tally
                        .bad
                        .push(format!("POST {path}: {} {}", a.status, a.body)),
                    _ => {}
                }
            }
            // The same sibling names, created and deleted by everyone.
            20..=21 => {
                let name = format!("Crate {}", self.rng.next() % CRATE_NAMES);
                let body =
                    json!({"name": name, "location_type": "CONTAINER", "parent_id": s.crate_room});
                let Some((a, at)) = self
                    .send("POST", "/api/v1/locations", Some(body), None)
                    .await
                else {
                    return;
                };
                let mut log = s.log.lock().expect("log");
                match a.status {
                    201 => {
                        if let Some(id) = a.body["id"].as_i64() {
                            log.crates.insert(id, (name, at, None));
                            log.live_crates.push(id);
                        }
                    }
                    409 if problem(&a.body) == "duplicate-name" => log.duplicates.push((name, at)),
                    409 | 412 => self
                        .tally
                        .bad
                        .push(format!("create {name}: {} {}", a.status, a.body)),
                    _ => {}
                }
            }
            22 => {
                let id = {
                    let mut log = s.log.lock().expect("log");
                    if log.live_crates.is_empty() {
                        return;
                    }
                    let i = self.rng.next() as usize % log.live_crates.len();
                    log.live_crates.swap_remove(i)
                };
                let Some((a, at)) = self
                    .send("DELETE", &format!("/api/v1/locations/{id}"), None, None)
                    .await
                else {
                    return;
                };
                if a.status == 200 {
                    if let Some(c) = s.log.lock().expect("log").crates.get_mut(&id) {
                        c.2 = Some(at);
                    }
                } else {
                    self.tally
                        .bad
                        .push(format!("DELETE crate {id}: {} {}", a.status, a.body));
                }
            }
            _ => {
                let _ = self.own("GET", "/api/v1/stats", None).await;
            }
        }
    }
}

/// The last segment of a problem's `type`.
fn problem(body: &Value) -> &str {
    body["type"]
        .as_str()
        .and_then(|t| t.rsplit('/').next())
        .unwrap_or_default()
}

async fn client(n: usize, shared: Arc<Shared>) -> Tally {
    let mut c = Client {
        n,
        rng: Rng((n as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        shared: shared.clone(),
        tally: Tally::default(),
        known: Known::default(),
        mine: Vec::new(),
        made: 0,
    };
    while Instant::now() < shared.until {
        c.step().await;
    }
    c.tally
}

/// How many 409s and 412s are real; every other one is listed in `bad`.
#[derive(Debug, Default)]
struct Verdict {
    stale: usize,
    cycles: usize,
    duplicates: usize,
}

/// Whether `under` lies in `moved`'s subtree (or is it) in the boxes' tree `parents`.
fn inside(parents: &HashMap<i64, i64>, moved: i64, under: i64) -> bool {
    let mut at = under;
    for _ in 0..=parents.len() {
        if at == moved {
            return true;
        }
        match parents.get(&at) {
            Some(&p) => at = p,
            None => return false,
        }
    }
    true
}

fn judge(log: &Log, shared: &Shared, bad: &mut Vec<String>) -> Verdict {
    let mut verdict = Verdict::default();
    // 412: some acknowledged write gave the resource another version after the sent one was
    // seen and before the refusal.
    for (res, seen, at, what) in &log.stale {
        let explained = log.versions.iter().any(|(r, tag, w)| {
            r == res && *tag != seen.tag && w.received > seen.at.sent && w.sent < at.received
        });
        if explained {
            verdict.stale += 1;
        } else {
            bad.push(format!(
                "{what}: 412 for If-Match {} though no write changed it since it was seen",
                seen.tag
            ));
        }
    }
    // Duplicate names: a crate of that name existed at a moment the request could see.
    for (name, at) in &log.duplicates {
        let explained = log.crates.values().any(|(n, created, deleted)| {
            n == name
                && created.sent.max(at.sent)
                    <= deleted.map_or(at.received, |d| d.received.min(at.received))
        });
        if explained {
            verdict.duplicates += 1;
        } else {
            bad.push(format!(
                "create {name}: 409 duplicate name, yet no {name} was there"
            ));
        }
    }
    // Cycles: replay the acknowledged moves in the order the server committed them.
    let mut moves: Vec<&(i64, i64, i64, Window)> = log.moves.iter().collect();
    moves.sort_by_key(|m| m.2);
    let mut parents: HashMap<i64, i64> = shared.boxes.iter().map(|&b| (b, shared.tangle)).collect();
    let mut states = vec![parents.clone()];
    for (moved, to, _, _) in &moves {
        parents.insert(*moved, *to);
        states.push(parents.clone());
    }
    for (moved, to, at) in &log.cycles {
        // States it could have seen: after every move acknowledged before it was sent, and
        // before every move sent after it was answered.
        let first = moves
            .iter()
            .rposition(|m| m.3.received < at.sent)
            .map_or(0, |i| i + 1);
        let last = moves
            .iter()
            .position(|m| m.3.sent > at.received)
            .unwrap_or(moves.len());
        let explained =
            first <= last && states[first..=last].iter().any(|s| inside(s, *moved, *to));
        if explained {
            verdict.cycles += 1;
        } else {
            bad.push(format!(
                "move box {moved} under {to}: 409 cycle, yet {to} was never inside {moved} then"
            ));
        }
    }
    verdict
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
        running.push(Server::start(url, &token, &["--migrate"]).await?);
    }
    let addrs: Vec<String> = running.iter().map(|s| s.addr.clone()).collect();
    let post = async |path: &str, body: Value| -> anyhow::Result<i64> {
        let a = call(&addrs[0], &token, "POST", path, Body::Json(&body), None).await?;
        ensure!(
            a.status == 201,
            "setup {path} {body}: {} {}",
            a.status,
            a.body
        );
        a.body["id"].as_i64().context("setup: no id")
    };
    let loc = |name: &str, kind: &str, parent: Option<i64>| json!({"name": name, "location_type": kind, "parent_id": parent});
    let house = post("/api/v1/locations", loc("Soak House", "HOUSE", None)).await?;
    let mut rooms = Vec::new();
    for i in 0..8 {
        rooms.push(
            post(
                "/api/v1/locations",
                loc(&format!("Room {i}"), "ROOM", Some(house)),
            )
            .await?,
        );
    }
    let mut items = Vec::new();
    for i in 0..SHARED_ITEMS {
        let body = json!({"name": format!("Shared thing {i}"), "location_id": rooms[0]});
        items.push(post("/api/v1/items", body).await?);
    }
    let tangle = post("/api/v1/locations", loc("Tangle Room", "ROOM", Some(house))).await?;
    let mut boxes = Vec::new();
    for i in 0..BOXES {
        boxes.push(
            post(
                "/api/v1/locations",
                loc(&format!("Box {i}"), "CONTAINER", Some(tangle)),
            )
            .await?,
        );
    }
    let crate_room = post("/api/v1/locations", loc("Crate Room", "ROOM", Some(house))).await?;
    let shared = Arc::new(Shared {
        addrs,
        token: token.clone(),
        rooms,
        items,
        tangle,
        boxes,
        crate_room,
        log: Mutex::new(Log::default()),
        until: Instant::now() + Duration::from_secs(secs),
    });
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|n| tokio::spawn(client(n, shared.clone())))
        .collect();
    let mut requests = 0;
    let mut bad = Vec::new();
    let mut slowest = (Duration::ZERO, String::new());
    let mut stale_sent = 0;
    let mut server_errors = 0;
    for t in tasks {
        let seen = t.await?;
        requests += seen.requests;
        stale_sent += seen.stale_sent;
        server_errors += seen.server_errors;
        if seen.slowest.0 > slowest.0 {
            slowest = seen.slowest;
        }
        bad.extend(seen.bad);
    }
    let verdict = judge(&shared.log.lock().expect("log"), &shared, &mut bad);
    let integrity = call(
        &shared.addrs[0],
        &token,
        "GET",
        "/api/v1/integrity",
        Body::None,
        None,
    )
    .await?;
    println!(
        "soak: {name}: {requests} requests served by {servers} process(es) to {CLIENTS} clients in {secs} s; \
         5xx: {server_errors}; real 409s: {} ({} cycles, {} duplicate names); real 412s: {} \
         ({stale_sent} sent with an ETag known stale); slowest: {} in {:?}; {} bad",
        verdict.cycles + verdict.duplicates,
        verdict.cycles,
        verdict.duplicates,
        verdict.stale,
        slowest.1,
        slowest.0,
        bad.len()
    );
    for b in bad.iter().take(20) {
        println!("soak: {name}: {b}");
    }
    ensure!(bad.is_empty(), "{name}: {} bad answers", bad.len());
    ensure!(
        verdict.stale > 0 && verdict.cycles > 0 && verdict.duplicates > 0,
        "{name}: the clients did not contend (real 412s {}, cycles {}, duplicate names {})",
        verdict.stale,
        verdict.cycles,
        verdict.duplicates
    );
    ensure!(
        integrity.status == 200 && integrity.body["clean"] == true,
        "{name}: integrity after the soak: {} {}",
        integrity.status,
        integrity.body
    );
    // The full check too (an admin's, so here in process): every location's kept subtree
    // totals against the items the clients left.
    let full = db.integrity(true).await?;
    ensure!(
        full.is_clean(),
        "{name}: full integrity after the soak: {full:?}"
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
        "soak: {} requests, no 5xx, every 409 and 412 a real conflict, none slower than {SLOW:?}, integrity clean",
        a + b
    );
    Ok(())
}
