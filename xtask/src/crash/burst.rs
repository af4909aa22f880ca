//! The API write burst of `cargo xtask crash`: `inventory-api` on the target database,
//! several concurrent clients writing through it (creates, PATCHes, moves, bulk moves,
//! deletes, one CSV import of a tenth of the data set through `POST /api/v1/import`), and a SIGKILL
//! of the server at a random moment. Each client owns what it writes and sends one request
//! at a time, so its acknowledged writes are known exactly, with at most one write in
//! flight when the server dies. Afterwards every write answered 2xx must be in the
//! database, every write answered otherwise must not be, the write in flight must be whole
//! or absent (a bulk move all or nothing, the import all or nothing), `inventory db
//! integrity` must be clean, and the server must start again on the database.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use inventory_core::{LocationType, Role};
use inventory_db::NewLocation;
use serde_json::{json, Value};

use super::{cli, target, Backend, Env, Op, Rng};
use crate::http::{call, Body, Server};

/// Concurrent writing clients; the first one also sends the import.
const CLIENTS: usize = 6;
/// Writes per client.
const STEPS: usize = 30;
/// Rooms the clients write into (made before the server starts, never removed).
const ROOMS: usize = 4;

/// What the kill points of the burst showed.
#[derive(Debug, Default)]
pub(super) struct BurstTally {
    pub points: usize,
    /// Writes answered 2xx before the kill, each found in the database.
    pub acknowledged: usize,
    /// Writes in flight at the kill, each found whole or absent.
    pub in_flight: usize,
    /// Of those, how many had committed.
    pub in_flight_landed: usize,
    /// Kill points with the import in flight, and how many of those found it whole.
    pub import_in_flight: usize,
    pub import_landed: usize,
}

/// An item as a client last saw it acknowledged.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ItemState {
    location_id: i64,
    quantity: i64,
    notes: Option<String>,
}

/// One write a client sends.
#[derive(Clone, Debug)]
enum Write {
    CreateItem {
        name: String,
        room: i64,
    },
    Patch {
        id: i64,
        quantity: i64,
        notes: String,
    },
    Move {
        id: i64,
        to: i64,
    },
    BulkMove {
        ids: Vec<i64>,
        to: i64,
    },
    CreateBox {
        name: String,
        room: i64,
    },
    DeleteItem {
        id: i64,
    },
    DeleteBox {
        id: i64,
    },
    Import,
}

/// What one client knows: its acknowledged state and the write in flight when the server
/// went away.
#[derive(Debug, Default)]
struct Model {
    items: BTreeMap<i64, (String, ItemState)>,
    deleted_items: BTreeSet<i64>,
    boxes: BTreeMap<i64, String>,
    deleted_boxes: BTreeSet<i64>,
    imported: bool,
    acknowledged: usize,
    refused: Vec<String>,
    pending: Option<Write>,
}

/// What the database holds, read with the CLI.
struct Snapshot {
    items: BTreeMap<i64, Value>,
    locations: BTreeMap<i64, Value>,
}

fn snapshot(env: &Env, url: &str) -> anyhow::Result<Snapshot> {
    let list = |what: &str| -> anyhow::Result<BTreeMap<i64, Value>> {
        let out = cli(env, url, &["--format", "json", what, "list"])
            .stdout(std::process::Stdio::piped())
            .output()?;
        ensure!(
            out.status.success(),
            "{what} list: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows: Vec<Value> = serde_json::from_slice(&out.stdout).context("list JSON")?;
        Ok(rows
            .into_iter()
            .filter_map(|r| Some((r["id"].as_i64()?, r)))
            .collect())
    };
    Ok(Snapshot {
        items: list("item")?,
        locations: list("location")?,
    })
}

fn state_of(row: &Value) -> ItemState {
    ItemState {
        location_id: row["location_id"].as_i64().unwrap_or(-1),
        quantity: row["quantity"].as_i64().unwrap_or(-1),
        notes: row["notes"].as_str().map(str::to_string),
    }
}

/// The locations an import of the data set creates (see `write_csv`).
fn import_locations(rows: usize) -> usize {
    let rooms: BTreeSet<usize> = (0..rows).map(|i| i % 20).collect();
    let boxes: BTreeSet<(usize, usize)> = (0..rows).map(|i| (i % 20, i / 50)).collect();
    1 + rooms.len() + boxes.len()
}

fn pick(n: usize, k: usize, m: &Model, rooms: &[i64], rng: &mut Rng) -> Write {
    let room = rooms[rng.next() as usize % rooms.len()];
    let ids: Vec<i64> = m.items.keys().copied().collect();
    let any = |rng: &mut Rng| ids[rng.next() as usize % ids.len()];
    match rng.next() % 10 {
        _ if ids.len() < 3 => Write::CreateItem {
            name: format!("burst c{n}-{k}"),
            room,
        },
        0..=1 => Write::CreateItem {
            name: format!("burst c{n}-{k}"),
            room,
        },
        2 => Write::Patch {
            id: any(rng),
            quantity: k as i64 + 2,
            notes: format!("patched {k}"),
        },
        3 => Write::Move {
            id: any(rng),
            to: room,
        },
        4..=5 => {
            let want = 2 + rng.next() as usize % 4;
            let mut chosen = BTreeSet::new();
            for _ in 0..want * 2 {
                if chosen.len() < want {
                    chosen.insert(any(rng));
                }
            }
            Write::BulkMove {
                ids: chosen.into_iter().collect(),
                to: room,
            }
        }
        6 => Write::CreateBox {
            name: format!("burst box c{n}-{k}"),
            room,
        },
        7 => Write::DeleteItem { id: any(rng) },
        _ => match m.boxes.keys().next() {
            Some(&id) => Write::DeleteBox { id },
            None => Write::CreateBox {
                name: format!("burst box c{n}-{k}"),
                room,
            },
        },
    }
}

async fn send(
    addr: &str,
    token: &str,
    write: &Write,
    csv: &[u8],
) -> anyhow::Result<crate::http::Answer> {
    let (method, path, body) = match write {
        Write::CreateItem { name, room } => (
            "POST",
            "/api/v1/items".to_string(),
            Some(json!({"name": name, "location_id": room})),
        ),
        Write::Patch {
            id,
            quantity,
            notes,
        } => (
            "PATCH",
            format!("/api/v1/items/{id}"),
            Some(json!({"quantity": quantity, "notes": notes})),
        ),
        Write::Move { id, to } => (
            "POST",
            format!("/api/v1/items/{id}/move"),
            Some(json!({"location_id": to})),
        ),
        Write::BulkMove { ids, to } => (
            "POST",
            "/api/v1/items/bulk-move".to_string(),
            Some(json!({"ids": ids, "location_id": to})),
        ),
        Write::CreateBox { name, room } => (
            "POST",
            "/api/v1/locations".to_string(),
            Some(json!({"name": name, "location_type": "CONTAINER", "parent_id": room})),
        ),
        Write::DeleteItem { id } => ("DELETE", format!("/api/v1/items/{id}"), None),
        Write::DeleteBox { id } => ("DELETE", format!("/api/v1/locations/{id}"), None),
        Write::Import => {
            return call(
                addr,
                token,
                "POST",
                "/api/v1/import?create_locations=true",
                Body::Csv(csv),
                None,
            )
            .await
        }
    };
    let body = body.as_ref().map_or(Body::None, Body::Json);
    call(addr, token, method, &path, body, None).await
}

/// Records an acknowledged write in the model.
fn apply(m: &mut Model, write: Write, answer: &Value) -> anyhow::Result<()> {
    m.acknowledged += 1;
    match write {
        Write::CreateItem { name, room } => {
            let id = answer["id"].as_i64().context("created item without id")?;
            let state = ItemState {
                location_id: room,
                quantity: 1,
                notes: None,
            };
            m.items.insert(id, (name, state));
        }
        Write::Patch {
            id,
            quantity,
            notes,
        } => {
            if let Some((_, s)) = m.items.get_mut(&id) {
                s.quantity = quantity;
                s.notes = Some(notes);
            }
        }
        Write::Move { id, to } => {
            if let Some((_, s)) = m.items.get_mut(&id) {
                s.location_id = to;
            }
        }
        Write::BulkMove { ids, to } => {
            for id in ids {
                if let Some((_, s)) = m.items.get_mut(&id) {
                    s.location_id = to;
                }
            }
        }
        Write::CreateBox { name, .. } => {
            let id = answer["id"]
                .as_i64()
                .context("created location without id")?;
            m.boxes.insert(id, name);
        }
        Write::DeleteItem { id } => {
            m.items.remove(&id);
            m.deleted_items.insert(id);
        }
        Write::DeleteBox { id } => {
            m.boxes.remove(&id);
            m.deleted_boxes.insert(id);
        }
        Write::Import => m.imported = true,
    }
    Ok(())
}

/// One client: `STEPS` writes, one at a time, until done or the server is gone.
async fn client(
    n: usize,
    addr: Arc<String>,
    token: Arc<String>,
    rooms: Arc<Vec<i64>>,
    csv: Option<Arc<Vec<u8>>>,
    seed: u64,
) -> anyhow::Result<Model> {
    let mut m = Model::default();
    let mut rng = Rng(seed);
    for k in 0..STEPS {
        let write = match &csv {
            Some(_) if k == STEPS / 3 => Write::Import,
            _ => pick(n, k, &m, &rooms, &mut rng),
        };
        let bytes = csv.as_deref().map_or(&[][..], Vec::as_slice);
        match send(&addr, &token, &write, bytes).await {
            Err(_) => {
                // The server is gone: this write may or may not have committed.
                m.pending = Some(write);
                return Ok(m);
            }
            Ok(a) if (200..300).contains(&a.status) => apply(&mut m, write, &a.body)?,
            Ok(a) => m
                .refused
                .push(format!("{write:?}: {} {}", a.status, a.body)),
        }
    }
    Ok(m)
}

/// What client `n`'s writes must have left, against what the database holds.
fn check_client(n: usize, m: &Model, db: &Snapshot, problems: &mut Vec<String>) {
    let item = |id: i64| db.items.get(&id).map(state_of);
    for (id, (name, acked)) in &m.items {
        let got = item(*id);
        let mut allowed = vec![Some(acked.clone())];
        match &m.pending {
            Some(Write::Patch {
                id: p,
                quantity,
                notes,
            }) if p == id => allowed.push(Some(ItemState {
                quantity: *quantity,
                notes: Some(notes.clone()),
                ..acked.clone()
            })),
            Some(Write::Move { id: p, to }) if p == id => allowed.push(Some(ItemState {
                location_id: *to,
                ..acked.clone()
            })),
            Some(Write::BulkMove { ids, to }) if ids.contains(id) => {
                allowed.push(Some(ItemState {
                    location_id: *to,
                    ..acked.clone()
                }))
            }
            Some(Write::DeleteItem { id: p }) if p == id => allowed.push(None),
            _ => {}
        }
        if !allowed.contains(&got) {
            problems.push(format!(
                "client {n}: item {id} ({name}) acknowledged as {acked:?} is {got:?}"
            ));
        }
        if let Some(row) = db.items.get(id) {
            if row["name"] != name.as_str() {
                problems.push(format!("client {n}: item {id} is named {}", row["name"]));
            }
        }
    }
    if let Some(Write::BulkMove { ids, to }) = &m.pending {
        // All or nothing: of the items not already there, either all moved or none.
        let movable = movable(m, ids, *to);
        let moved = moved(db, &movable, *to);
        if moved != 0 && moved != movable.len() {
            problems.push(format!(
                "client {n}: bulk move of {ids:?} to {to} is half done ({moved} of {})",
                movable.len()
            ));
        }
    }
    for id in &m.deleted_items {
        if db.items.contains_key(id) {
            problems.push(format!(
                "client {n}: item {id} acknowledged deleted is there"
            ));
        }
    }
    let prefix = format!("burst c{n}-");
    for (id, row) in &db.items {
        let name = row["name"].as_str().unwrap_or_default();
        let pending = matches!(&m.pending, Some(Write::CreateItem { name: p, .. }) if p == name);
        if name.starts_with(&prefix) && !m.items.contains_key(id) && !pending {
            problems.push(format!(
                "client {n}: item {id} ({name}) is there though its create was not acknowledged"
            ));
        }
    }
    for (id, name) in &m.boxes {
        let pending_delete = matches!(&m.pending, Some(Write::DeleteBox { id: p }) if p == id);
        match db.locations.get(id) {
            Some(row) if row["name"] == name.as_str() => {}
            None if pending_delete => {}
            got => problems.push(format!(
                "client {n}: location {id} ({name}) acknowledged is {got:?}"
            )),
        }
    }
    for id in &m.deleted_boxes {
        if db.locations.contains_key(id) {
            problems.push(format!(
                "client {n}: location {id} acknowledged deleted is there"
            ));
        }
    }
    let prefix = format!("burst box c{n}-");
    for (id, row) in &db.locations {
        let name = row["name"].as_str().unwrap_or_default();
        let pending = matches!(&m.pending, Some(Write::CreateBox { name: p, .. }) if p == name);
        if name.starts_with(&prefix) && !m.boxes.contains_key(id) && !pending {
            problems.push(format!(
                "client {n}: location {id} ({name}) is there though its create was not acknowledged"
            ));
        }
    }
}

/// The items of a bulk move that were not at its target already.
fn movable(m: &Model, ids: &[i64], to: i64) -> Vec<i64> {
    ids.iter()
        .copied()
        .filter(|id| m.items.get(id).is_some_and(|(_, s)| s.location_id != to))
        .collect()
}

/// How many of `ids` are at `to`.
fn moved(db: &Snapshot, ids: &[i64], to: i64) -> usize {
    ids.iter()
        .filter(|id| db.items.get(id).is_some_and(|r| r["location_id"] == to))
        .count()
}

/// Whether the write in flight at the kill (not the import) had committed.
fn landed(m: &Model, db: &Snapshot) -> bool {
    let named = |rows: &BTreeMap<i64, Value>, name: &str| rows.values().any(|r| r["name"] == name);
    match &m.pending {
        Some(Write::CreateItem { name, .. }) => named(&db.items, name),
        Some(Write::CreateBox { name, .. }) => named(&db.locations, name),
        Some(Write::Patch { id, notes, .. }) => db
            .items
            .get(id)
            .is_some_and(|r| r["notes"] == notes.as_str()),
        Some(Write::Move { id, to }) => {
            !movable(m, &[*id], *to).is_empty() && moved(db, &[*id], *to) == 1
        }
        Some(Write::BulkMove { ids, to }) => moved(db, &movable(m, ids, *to), *to) > 0,
        Some(Write::DeleteItem { id }) => !db.items.contains_key(id),
        Some(Write::DeleteBox { id }) => !db.locations.contains_key(id),
        Some(Write::Import) | None => false,
    }
}

/// What the import left: `Some(true)` whole, `Some(false)` absent, `None` half.
fn import_state(db: &Snapshot, rows: usize) -> (Option<bool>, usize, usize) {
    let items = db
        .items
        .values()
        .filter(|r| {
            r["location_path"]
                .as_str()
                .is_some_and(|p| p.starts_with("Crash House / "))
        })
        .count();
    let locations = db
        .locations
        .values()
        .filter(|r| {
            r["full_path"]
                .as_str()
                .is_some_and(|p| p == "Crash House" || p.starts_with("Crash House / "))
        })
        .count();
    let whole = if items == rows && locations == import_locations(rows) {
        Some(true)
    } else if items == 0 && locations == 0 {
        Some(false)
    } else {
        None
    };
    (whole, items, locations)
}

/// A target with the clients' rooms and a member's token.
async fn prepare(
    backend: Backend,
) -> anyhow::Result<(inventory_db::testing::TestDb, Vec<i64>, String)> {
    let t = target(backend, Op::ApiBurst).await?;
    let house =
        t.db.create_location(&NewLocation {
            name: "Burst House".into(),
            description: None,
            location_type: LocationType::House,
            parent_id: None,
        })
        .await?;
    let mut rooms = Vec::new();
    for i in 0..ROOMS {
        let room =
            t.db.create_location(&NewLocation {
                name: format!("Burst Room {i}"),
                description: None,
                location_type: LocationType::Room,
                parent_id: Some(house.id),
            })
            .await?;
        rooms.push(room.id);
    }
    t.db.create_user("burst", "burst password 1", Role::Member)
        .await?;
    let token = t.db.create_token("burst", Some("burst")).await?.secret;
    Ok((t, rooms, token))
}

/// One burst against `url`: the clients' models after all of them stopped, the time they
/// ran, and whether the server was killed.
async fn burst(
    url: &str,
    token: &str,
    rooms: Vec<i64>,
    csv: Arc<Vec<u8>>,
    rng: &mut Rng,
    kill_after: Option<Duration>,
) -> anyhow::Result<(Vec<Model>, Duration)> {
    let max_body = format!("{}", csv.len() + 1024 * 1024);
    let mut server = Server::start(url, token, &["--max-body", &max_body]).await?;
    let (addr, token, rooms) = (
        Arc::new(server.addr.clone()),
        Arc::new(token.to_string()),
        Arc::new(rooms),
    );
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|n| {
            tokio::spawn(client(
                n,
                addr.clone(),
                token.clone(),
                rooms.clone(),
                (n == 0).then(|| csv.clone()),
                rng.next(),
            ))
        })
        .collect();
    if let Some(delay) = kill_after {
        tokio::time::sleep(delay).await;
        server.child.kill().context("SIGKILL inventory-api")?;
        server.child.wait()?;
    }
    let mut models = Vec::new();
    for t in tasks {
        models.push(t.await??);
    }
    Ok((models, started.elapsed()))
}

/// Checks a target after a burst; returns (acknowledged, in flight, of which landed, import
/// in flight, import landed).
async fn check(
    env: &Env,
    url: &str,
    token: &str,
    models: &[Model],
    rows: usize,
    what: &str,
) -> anyhow::Result<(usize, usize, usize, bool, bool)> {
    let integrity = cli(env, url, &["db", "integrity"]).output()?;
    ensure!(
        integrity.status.success(),
        "{what}: db integrity is not clean: {}",
        String::from_utf8_lossy(&integrity.stderr)
    );
    let db = snapshot(env, url)?;
    let mut problems = Vec::new();
    let (mut acknowledged, mut in_flight, mut landed_count) = (0, 0, 0);
    let mut import_pending = false;
    for (n, m) in models.iter().enumerate() {
        acknowledged += m.acknowledged;
        check_client(n, m, &db, &mut problems);
        match m.pending {
            Some(Write::Import) => import_pending = true,
            Some(_) => {
                in_flight += 1;
                landed_count += usize::from(landed(m, &db));
            }
            None => {}
        }
    }
    let imported = models.iter().any(|m| m.imported);
    let (whole, items, locations) = import_state(&db, rows);
    match whole {
        None => problems.push(format!(
            "the import is half done: {items} of {rows} items, {locations} of {} locations",
            import_locations(rows)
        )),
        Some(false) if imported => problems.push("the acknowledged import is not there".into()),
        Some(true) if !imported && !import_pending => {
            problems.push("the import is there though it was never acknowledged".into())
        }
        _ => {}
    }
    for p in problems.iter().take(20) {
        println!("crash: {what}: {p}");
    }
    ensure!(problems.is_empty(), "{what}: {} problems", problems.len());
    // The server starts again on what the kill left, and serves reads and writes.
    let server = Server::start(url, token, &[]).await?;
    let ready = call(&server.addr, token, "GET", "/readyz", Body::None, None).await?;
    ensure!(
        ready.status == 200,
        "{what}: readyz after restart: {}",
        ready.status
    );
    let again = call(
        &server.addr,
        token,
        "POST",
        "/api/v1/locations",
        Body::Json(&json!({"name": "After the burst", "location_type": "HOUSE"})),
        None,
    )
    .await?;
    ensure!(
        again.status == 201,
        "{what}: a write after restart: {} {}",
        again.status,
        again.body
    );
    drop(server);
    Ok((
        acknowledged,
        in_flight,
        landed_count,
        import_pending,
        import_pending && whole == Some(true),
    ))
}

/// The burst once uninterrupted (its duration, and every write acknowledged and there),
/// then `points` times SIGKILLed after a random delay.
pub(super) async fn kill_points(
    env: &Env,
    backend: Backend,
    points: usize,
    rows: usize,
    rng: &mut Rng,
) -> anyhow::Result<BurstTally> {
    // A tenth of the data set: the import shares the burst with the other writes rather
    // than outlasting them.
    let rows = (rows / 10).max(50);
    let file = env.dir.join("burst.csv");
    super::write_csv(&file, rows)?;
    let csv = Arc::new(std::fs::read(&file)?);
    let (reference, rooms, token) = prepare(backend).await?;
    let (models, duration) = burst(&reference.url, &token, rooms, csv.clone(), rng, None).await?;
    for (n, m) in models.iter().enumerate() {
        if let Some(r) = m.refused.first() {
            bail!("{backend:?} api-burst: uninterrupted, client {n} was refused: {r}");
        }
        ensure!(
            m.pending.is_none(),
            "{backend:?} api-burst: client {n} lost the server"
        );
    }
    let what = format!("{backend:?} api-burst uninterrupted");
    let (acknowledged, ..) = check(env, &reference.url, &token, &models, rows, &what).await?;
    ensure!(
        acknowledged == CLIENTS * STEPS,
        "{what}: {acknowledged} of {} writes acknowledged",
        CLIENTS * STEPS
    );
    drop(reference);
    println!(
        "crash: {backend:?} api-burst: uninterrupted {:.2} s ({} writes from {CLIENTS} clients, one an import of {rows} rows); {points} × SIGKILL",
        duration.as_secs_f64(),
        CLIENTS * STEPS
    );
    let mut tally = BurstTally::default();
    for point in 0..points {
        let (t, rooms, token) = prepare(backend).await?;
        let delay = rng.delay(duration + duration / 10);
        let (models, _) = burst(&t.url, &token, rooms, csv.clone(), rng, Some(delay)).await?;
        let what = format!(
            "{backend:?} api-burst: SIGKILL after {delay:?} (point {point}; replay with --seed)"
        );
        let (acknowledged, in_flight, landed, import_pending, import_landed) =
            check(env, &t.url, &token, &models, rows, &what).await?;
        tally.points += 1;
        tally.acknowledged += acknowledged;
        tally.in_flight += in_flight;
        tally.in_flight_landed += landed;
        tally.import_in_flight += usize::from(import_pending);
        tally.import_landed += usize::from(import_landed);
    }
    Ok(tally)
}
