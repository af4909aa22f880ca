//! The authorization matrix: every route × {no token, bad token, expired, revoked, read
//! scope, viewer, member, admin}. The four callers without a valid token get 401 on every
//! route but the public ones; the others get 403 exactly where their permission (role ∩
//! scope) does not reach, and otherwise the success status the OpenAPI document gives the
//! route (200, 201 or 204): each caller works on resources of its own, so that every
//! allowed request really succeeds. The matrix holds every operation of the document but
//! login and the health probes.

use axum::body::Body;
use axum::http::{header, Method, StatusCode};
use inventory_core::{Role, Scope};
use inventory_db::TokenSpec;
use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::common::{request, TestApp, TestResponse};

/// What a route needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Needs {
    /// Nothing: anyone, with any token or none, gets the route's own answer.
    Public,
    /// Any valid token.
    Read,
    /// A write-scoped token of a member or an admin.
    Write,
    /// A write-scoped token of an admin.
    Admin,
    /// A write-scoped token of anyone (their own tokens).
    OwnWrite,
}

/// The callers, in the order each route is tried.
const CALLERS: [&str; 8] = [
    "no token",
    "bad token",
    "expired",
    "revoked",
    "read scope",
    "viewer",
    "member",
    "admin",
];

/// Whether `caller` may do what `needs` asks; `None` for callers without a valid token.
fn allowed(caller: &str, needs: Needs) -> Option<bool> {
    if needs == Needs::Public {
        return Some(true);
    }
    Some(match caller {
        "read scope" => needs == Needs::Read,
        "viewer" => matches!(needs, Needs::Read | Needs::OwnWrite),
        "member" => needs != Needs::Admin,
        "admin" => true,
        _ => return None,
    })
}

async fn send(
    t: &TestApp,
    method: &Method,
    path: &str,
    token: Option<&str>,
    body: &Option<Body2>,
) -> TestResponse {
    let mut builder = request(method.clone(), path);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some(Body2::Json(v)) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        Some(Body2::Csv(s)) => {
            builder = builder.header(header::CONTENT_TYPE, "text/csv");
            Body::from(s.clone())
        }
        None => Body::empty(),
    };
    t.send(builder.body(body).unwrap()).await
}

/// A request body.
#[derive(Clone, Debug)]
enum Body2 {
    Json(Value),
    Csv(String),
}

/// The user behind each caller's token (callers without a valid token borrow the admin's
/// name for their fixtures).
fn owner(caller: &str) -> &'static str {
    match caller {
        "read scope" => "rita",
        "viewer" => "vi",
        "member" => "mo",
        _ => "ada",
    }
}

/// The one 2xx status the OpenAPI document gives `method path`.
fn documented_success(spec: &Value, method: &Method, route: &str) -> StatusCode {
    let operation = &spec["paths"][route][method.as_str().to_ascii_lowercase()];
    let ok: Vec<u16> = operation["responses"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {route} is not in the OpenAPI document"))
        .keys()
        .filter_map(|k| k.parse::<u16>().ok())
        .filter(|s| (200..300).contains(s))
        .collect();
    assert_eq!(
        ok.len(),
        1,
        "{method} {route} documents one success: {ok:?}"
    );
    StatusCode::from_u16(ok[0]).unwrap()
}

/// Every `(METHOD, path)` of the OpenAPI document.
fn documented(spec: &Value) -> BTreeSet<(String, String)> {
    let mut all = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "patch", "put", "delete"].contains(&method.as_str()) {
                all.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    all
}

/// One row: method, the route as documented, the address, what it needs, the body.
type Row = (Method, &'static str, String, Needs, Option<Body2>);

/// Resources one caller's requests work on.
struct Fixture {
    spare: i64,
    item: i64,
    spare_item: i64,
    category: i64,
    victim: i64,
    own_token: i64,
}

async fn fixture(t: &TestApp, admin: &str, home: &crate::common::Home, caller: &str) -> Fixture {
    let tag = caller.replace(' ', "-");
    let spare = t.create("/api/v1/locations", admin, &json!({"name": format!("Spare {tag}"), "location_type": "CONTAINER", "parent_id": home.kitchen})).await["id"].as_i64().unwrap();
    let item = t
        .item(admin, &format!("Drill {tag}"), home.toolbox, json!({}))
        .await;
    let spare_item = t
        .item(admin, &format!("Old Saw {tag}"), home.toolbox, json!({}))
        .await;
    let category = t
        .create(
            "/api/v1/categories",
            admin,
            &json!({"name": format!("Tools {tag}")}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let victim_name = format!("victim-{tag}");
    t.user(&victim_name, Role::Viewer).await;
    let victim = t.db().get_user(&victim_name).await.unwrap().id;
    let own_token = t
        .db()
        .create_token_for(owner(caller), &TokenSpec::default())
        .await
        .unwrap()
        .token
        .id;
    Fixture {
        spare,
        item,
        spare_item,
        category,
        victim,
        own_token,
    }
}

fn rows(home: &crate::common::Home, fx: &Fixture, caller: &str) -> Vec<Row> {
    let tag = caller.replace(' ', "-");
    let j = |v: Value| Some(Body2::Json(v));
    let (house, garage, toolbox, kitchen) = (home.house, home.garage, home.toolbox, home.kitchen);
    let Fixture {
        spare,
        item,
        spare_item,
        category,
        victim,
        own_token,
    } = *fx;
    vec![
        (
            Method::GET,
            "/api/v1/auth/me",
            "/api/v1/auth/me".into(),
            Needs::Read,
            None,
        ),
        (
            Method::GET,
            "/api/v1/openapi.json",
            "/api/v1/openapi.json".into(),
            Needs::Public,
            None,
        ),
        (
            Method::GET,
            "/api/v1/locations",
            "/api/v1/locations".into(),
            Needs::Read,
            None,
        ),
        (
            Method::POST,
            "/api/v1/locations",
            "/api/v1/locations".into(),
            Needs::Write,
            j(json!({"name": format!("Shed {tag}"), "location_type": "ROOM", "parent_id": house})),
        ),
        (
            Method::GET,
            "/api/v1/locations/{id}",
            format!("/api/v1/locations/{garage}"),
            Needs::Read,
            None,
        ),
        (
            Method::PATCH,
            "/api/v1/locations/{id}",
            format!("/api/v1/locations/{garage}"),
            Needs::Write,
            j(json!({"description": format!("cold for {tag}")})),
        ),
        (
            Method::POST,
            "/api/v1/locations/{id}/move",
            format!("/api/v1/locations/{spare}/move"),
            Needs::Write,
            j(json!({"parent_id": garage})),
        ),
        (
            Method::GET,
            "/api/v1/locations/{id}/tree",
            format!("/api/v1/locations/{house}/tree"),
            Needs::Read,
            None,
        ),
        (
            Method::GET,
            "/api/v1/locations/{id}/items",
            format!("/api/v1/locations/{toolbox}/items"),
            Needs::Read,
            None,
        ),
        (
            Method::GET,
            "/api/v1/locations/resolve",
            "/api/v1/locations/resolve?path=My%20House".into(),
            Needs::Read,
            None,
        ),
        (
            Method::GET,
            "/api/v1/items",
            "/api/v1/items".into(),
            Needs::Read,
            None,
        ),
        (
            Method::POST,
            "/api/v1/items",
            "/api/v1/items".into(),
            Needs::Write,
            j(json!({"name": format!("Saw {tag}"), "location_id": garage})),
        ),
        (
            Method::GET,
            "/api/v1/items/{id}",
            format!("/api/v1/items/{item}"),
            Needs::Read,
            None,
        ),
        (
            Method::PATCH,
            "/api/v1/items/{id}",
            format!("/api/v1/items/{item}"),
            Needs::Write,
            j(json!({"notes": "sharp"})),
        ),
        (
            Method::POST,
            "/api/v1/items/{id}/move",
            format!("/api/v1/items/{item}/move"),
            Needs::Write,
            j(json!({"location_id": kitchen})),
        ),
        (
            Method::POST,
            "/api/v1/items/bulk-move",
            "/api/v1/items/bulk-move".into(),
            Needs::Write,
            j(json!({"ids": [item], "location_id": garage})),
        ),
        (
            Method::GET,
            "/api/v1/search",
            "/api/v1/search?q=drill".into(),
            Needs::Read,
            None,
        ),
        (
            Method::GET,
            "/api/v1/categories",
            "/api/v1/categories".into(),
            Needs::Read,
            None,
        ),
        (
            Method::POST,
            "/api/v1/categories",
            "/api/v1/categories".into(),
            Needs::Write,
            j(json!({"name": format!("Garden {tag}")})),
        ),
        (
            Method::GET,
            "/api/v1/categories/{id}",
            format!("/api/v1/categories/{category}"),
            Needs::Read,
            None,
        ),
        (
            Method::PATCH,
            "/api/v1/categories/{id}",
            format!("/api/v1/categories/{category}"),
            Needs::Write,
            j(json!({"description": "hand tools"})),
        ),
        (
            Method::GET,
            "/api/v1/integrity",
            "/api/v1/integrity".into(),
            Needs::Read,
            None,
        ),
        (
            Method::GET,
            "/api/v1/stats",
            "/api/v1/stats".into(),
            Needs::Read,
            None,
        ),
        (
            Method::GET,
            "/api/v1/export.csv",
            "/api/v1/export.csv".into(),
            Needs::Read,
            None,
        ),
        (
            Method::POST,
            "/api/v1/import",
            "/api/v1/import".into(),
            Needs::Write,
            Some(Body2::Csv(format!(
                "name,location\nMug {tag},My House / Kitchen\n"
            ))),
        ),
        (
            Method::GET,
            "/api/v1/users",
            "/api/v1/users".into(),
            Needs::Admin,
            None,
        ),
        (
            Method::POST,
            "/api/v1/users",
            "/api/v1/users".into(),
            Needs::Admin,
            j(
                json!({"username": format!("newbie-{tag}"), "password": "a long enough password", "role": "viewer"}),
            ),
        ),
        (
            Method::GET,
            "/api/v1/users/{id}",
            format!("/api/v1/users/{victim}"),
            Needs::Admin,
            None,
        ),
        (
            Method::PATCH,
            "/api/v1/users/{id}",
            format!("/api/v1/users/{victim}"),
            Needs::Admin,
            j(json!({"role": "member"})),
        ),
        (
            Method::GET,
            "/api/v1/tokens",
            "/api/v1/tokens".into(),
            Needs::Read,
            None,
        ),
        (
            Method::POST,
            "/api/v1/tokens",
            "/api/v1/tokens".into(),
            Needs::OwnWrite,
            j(json!({"label": "matrix"})),
        ),
        (
            Method::GET,
            "/api/v1/tokens/{id}",
            format!("/api/v1/tokens/{own_token}"),
            Needs::Read,
            None,
        ),
        (
            Method::DELETE,
            "/api/v1/tokens/{id}",
            format!("/api/v1/tokens/{own_token}"),
            Needs::OwnWrite,
            None,
        ),
        (
            Method::DELETE,
            "/api/v1/items/{id}",
            format!("/api/v1/items/{spare_item}"),
            Needs::Write,
            None,
        ),
        (
            Method::DELETE,
            "/api/v1/locations/{id}",
            format!("/api/v1/locations/{spare}"),
            Needs::Write,
            None,
        ),
        (
            Method::DELETE,
            "/api/v1/categories/{id}",
            format!("/api/v1/categories/{category}"),
            Needs::Write,
            None,
        ),
        (
            Method::DELETE,
            "/api/v1/users/{id}",
            format!("/api/v1/users/{victim}"),
            Needs::Admin,
            None,
        ),
        // Last: it revokes the caller's token.
        (
            Method::POST,
            "/api/v1/auth/logout",
            "/api/v1/auth/logout".into(),
            Needs::Read,
            None,
        ),
    ]
}

api_tests! {
    async fn every_route_answers_every_caller_as_its_permission_says(t: &TestApp) {
        let admin = t.token("ada", Role::Admin).await;
        let member = t.token("mo", Role::Member).await;
        let viewer = t.token("vi", Role::Viewer).await;
        let read = t.scoped_token("rita", Role::Member, Scope::Read).await;
        t.user("ex", Role::Admin).await;
        let expired = t
            .db()
            .create_token_for("ex", &TokenSpec { label: None, scope: Scope::Write, expires_at: Some(chrono::Utc::now() - chrono::Duration::days(1)) })
            .await
            .unwrap()
            .secret;
        t.user("rev", Role::Admin).await;
        let revoked_token = t.db().create_token_for("rev", &TokenSpec::default()).await.unwrap();
        t.db().revoke_token(revoked_token.token.id).await.unwrap();
        let revoked = revoked_token.secret;
        let bad = format!("{}x", &admin[..admin.len() - 1]);
        // The admin's own requests (the fixtures) must outlive its logout cell.
        let setup = t.db().create_token("ada", Some("setup")).await.unwrap().secret;
        let home = t.make_home(&setup).await;
        let spec = serde_json::to_value(inventory_api::openapi()).unwrap();

        let token_of = |caller: &str| -> Option<&str> {
            match caller {
                "no token" => None,
                "bad token" => Some(&bad),
                "expired" => Some(&expired),
                "revoked" => Some(&revoked),
                "read scope" => Some(&read),
                "viewer" => Some(&viewer),
                "member" => Some(&member),
                _ => Some(&admin),
            }
        };
        let mut cells = 0;
        let mut covered = BTreeSet::new();
        let mut route_count = 0;
        for caller in CALLERS {
            let fx = fixture(t, &setup, &home, caller).await;
            let routes = rows(&home, &fx, caller);
            route_count = routes.len();
            for (method, route, path, needs, body) in &routes {
                covered.insert((method.to_string(), route.to_string()));
                let r = send(t, method, path, token_of(caller), body).await;
                let what = format!("{method} {path} as {caller}: {} {}", r.status, String::from_utf8_lossy(&r.body).chars().take(300).collect::<String>());
                match allowed(caller, *needs) {
                    None => {
                        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}");
                        assert!(r.header("www-authenticate").is_some_and(|v| v.starts_with("Bearer")), "{what}");
                        r.problem();
                    }
                    Some(false) => {
                        assert_eq!(r.status, StatusCode::FORBIDDEN, "{what}");
                        r.problem();
                    }
                    Some(true) => assert_eq!(r.status, documented_success(&spec, method, route), "{what}"),
                }
                cells += 1;
            }
        }
        let mut expected = documented(&spec);
        for left_out in [("POST", "/api/v1/auth/login"), ("GET", "/healthz"), ("GET", "/readyz")] {
            assert!(expected.remove(&(left_out.0.to_string(), left_out.1.to_string())), "{left_out:?} is documented");
        }
        assert_eq!(
            covered, expected,
            "the matrix and the OpenAPI document differ: missing here {:?}, not documented {:?}",
            expected.difference(&covered).collect::<Vec<_>>(),
            covered.difference(&expected).collect::<Vec<_>>()
        );
        assert_eq!(cells, route_count * CALLERS.len());
        eprintln!("authorization matrix: {route_count} routes × {} callers = {cells} cells", CALLERS.len());
    }
}
