//! The database lost mid-run: every route that needs it answers 503 problem+json within a
//! bounded time (never 500, never a hang), `/readyz` says 503, `/healthz` stays 200, and
//! the server recovers by itself once the database is back. A read-only SQLite file keeps
//! serving reads and refuses writes with a 503 that says why, changing nothing.

use std::time::{Duration, Instant};

use inventory_core::Role;
use inventory_db::{Database, DatabaseUrl};
use serde_json::json;

use crate::harness::{http, start, upstream_of, via, Proxy, Response, REQUEST_BOUND};

const PASSWORD: &str = "correct horse battery";

/// The requests tried while the database is away, and what each answers once it is back.
fn script(location: i64) -> Vec<(&'static str, String, Option<String>, u16)> {
    vec![
        ("GET", "/api/v1/locations".into(), None, 200),
        ("GET", format!("/api/v1/locations/{location}"), None, 200),
        ("GET", "/api/v1/items".into(), None, 200),
        ("GET", "/api/v1/search?q=house".into(), None, 200),
        ("GET", "/api/v1/stats".into(), None, 200),
        (
            "POST",
            "/api/v1/locations".into(),
            Some(json!({"name": "Shed", "location_type": "HOUSE"}).to_string()),
            201,
        ),
        (
            "PATCH",
            format!("/api/v1/locations/{location}"),
            Some(json!({"description": "ours"}).to_string()),
            200,
        ),
    ]
}

async fn call(
    addr: std::net::SocketAddr,
    token: &str,
    (method, path, body): (&str, &str, Option<&str>),
) -> Response {
    let auth = format!("Authorization: Bearer {token}");
    let mut headers = vec![auth.as_str()];
    if body.is_some() {
        headers.push("Content-Type: application/json");
    }
    http(addr, method, path, &headers, body.unwrap_or("")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_the_database_mid_run_is_503_then_recovers_without_a_restart_postgres() {
    let test_db = inventory_db::testing::postgres().await;
    let db = &test_db.db;
    db.create_user("ann", PASSWORD, Role::Member).await.unwrap();
    let token = db.create_token("ann", None).await.unwrap().secret;
    let proxy = Proxy::start(upstream_of(&test_db.url)).await;
    let server = start(
        &["--database-url", &via(&test_db.url, proxy.addr)],
        "info",
        false,
    )
    .await;
    let addr = server.addr;
    let house = json!({"name": "My House", "location_type": "HOUSE"}).to_string();
    let r = call(addr, &token, ("POST", "/api/v1/locations", Some(&house))).await;
    assert_eq!(r.status, 201, "{r:?}");
    let location = r.json()["id"].as_i64().unwrap();
    assert_eq!(http(addr, "GET", "/readyz", &[], "").await.status, 200);
    let login = json!({"username": "ann", "password": PASSWORD}).to_string();
    let cookie = format!("Cookie: hinv_session={token}");

    proxy.cut();
    // Two rounds, each request sent at once (a request waits at most the pool's connection
    // timeout): the first meets the pool's dead connections, the second the refused
    // reconnections.
    let mut slowest = Duration::ZERO;
    for round in 0..2 {
        let mut tasks = Vec::new();
        for (method, path, body, _) in script(location) {
            let token = token.clone();
            tasks.push(tokio::spawn(async move {
                let started = Instant::now();
                let r = call(addr, &token, (method, &path, body.as_deref())).await;
                (started.elapsed(), format!("{method} {path}"), r)
            }));
        }
        let timed =
            |method: &'static str, path: &'static str, headers: Vec<String>, body: String| {
                tokio::spawn(async move {
                    let started = Instant::now();
                    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
                    let r = http(addr, method, path, &headers, &body).await;
                    (started.elapsed(), r)
                })
            };
        let ready = timed("GET", "/readyz", vec![], String::new());
        let login = timed(
            "POST",
            "/api/v1/auth/login",
            vec!["Content-Type: application/json".into()],
            login.clone(),
        );
        // A page of the web UI says so too, as a page.
        let page = timed(
            "GET",
            "/",
            vec![cookie.clone(), "Accept: text/html".into()],
            String::new(),
        );
        for task in tasks {
            let (took, what, r) = task.await.unwrap();
            slowest = slowest.max(took);
            let p = r.problem(503);
            assert_eq!(
                p["type"], "/problems/unavailable",
                "round {round}, {what}: {r:?}"
            );
            assert!(r.body.contains("not reachable"), "{what}: {r:?}");
        }
        let (ready, login, page) = (
            ready.await.unwrap(),
            login.await.unwrap(),
            page.await.unwrap(),
        );
        slowest = slowest.max(ready.0).max(login.0).max(page.0);
        ready.1.problem(503);
        login.1.problem(503);
        assert_eq!(page.1.status, 503, "{:?}", page.1);
        assert!(page
            .1
            .header("content-type")
            .unwrap()
            .starts_with("text/html"));
        assert_eq!(http(addr, "GET", "/healthz", &[], "").await.status, 200);
    }
    eprintln!("slowest answer while the database was away: {slowest:?}");
    assert!(slowest < REQUEST_BOUND);

    proxy.restore();
    let back = Instant::now();
    loop {
        if http(addr, "GET", "/readyz", &[], "").await.status == 200 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(30),
            "not ready again: {}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "ready again {:?} after the database came back",
        back.elapsed()
    );
    for (method, path, body, ok) in script(location) {
        let r = call(addr, &token, (method, &path, body.as_deref())).await;
        assert_eq!(
            r.status, ok,
            "{method} {path} once the database is back: {r:?}"
        );
    }
    let r = http(
        addr,
        "POST",
        "/api/v1/auth/login",
        &["Content-Type: application/json"],
        &login,
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    // Nothing the refused requests asked for was done: one Shed, made after the return.
    let r = call(addr, &token, ("GET", "/api/v1/locations?q=Shed", None)).await;
    assert_eq!(r.json()["items"].as_array().map(Vec::len), Some(1), "{r:?}");
    let log = server.log();
    assert!(
        !log.contains("status=500") && !log.contains("internal error"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_sqlite_file_serves_reads_and_refuses_writes_with_503() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inventory.db");
    let token = {
        let db =
            Database::connect_or_create(&DatabaseUrl::SqliteFile(path.clone()), Default::default())
                .await
                .unwrap();
        db.migrate().await.unwrap();
        db.create_user("ann", PASSWORD, Role::Member).await.unwrap();
        db.create_location(&inventory_db::NewLocation {
            name: "My House".into(),
            description: None,
            location_type: inventory_core::LocationType::House,
            parent_id: None,
        })
        .await
        .unwrap();
        let token = db.create_token("ann", None).await.unwrap().secret;
        db.checkpoint().await.unwrap();
        token
    };
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
    let before = std::fs::read(&path).unwrap();
    let url = format!("sqlite://{}", path.display());
    let server = start(&["--database-url", &url], "info", true).await;
    let addr = server.addr;

    assert_eq!(http(addr, "GET", "/readyz", &[], "").await.status, 200);
    let r = call(addr, &token, ("GET", "/api/v1/locations", None)).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["items"][0]["name"], "My House");
    let id = r.json()["items"][0]["id"].as_i64().unwrap();
    let shed = json!({"name": "Shed", "location_type": "HOUSE"}).to_string();
    let rename = json!({"name": "Our House"}).to_string();
    let writes = [
        ("POST", "/api/v1/locations".to_string(), Some(shed.as_str())),
        (
            "PATCH",
            format!("/api/v1/locations/{id}"),
            Some(rename.as_str()),
        ),
        ("DELETE", format!("/api/v1/locations/{id}"), None),
        ("POST", "/api/v1/tokens".to_string(), Some("{}")),
    ];
    for (method, path, body) in writes {
        let r = call(addr, &token, (method, &path, body)).await;
        let p = r.problem(503);
        assert!(
            p["detail"].as_str().unwrap().contains("read-only"),
            "{method} {path}: {r:?}"
        );
    }
    let login = json!({"username": "ann", "password": PASSWORD}).to_string();
    let r = http(
        addr,
        "POST",
        "/api/v1/auth/login",
        &["Content-Type: application/json"],
        &login,
    )
    .await;
    r.problem(503);
    let r = call(
        addr,
        &token,
        ("GET", &format!("/api/v1/locations/{id}"), None),
    )
    .await;
    assert_eq!(r.status, 200, "reads still work: {r:?}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the read-only file changed"
    );
    let log = server.log();
    assert!(
        !log.contains("status=500") && !log.contains("internal error"),
        "{log}"
    );
}
