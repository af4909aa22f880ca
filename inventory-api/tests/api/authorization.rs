//! The authorization matrix: every route × {no token, bad token, expired, revoked, read
//! scope, viewer, member, admin}. The four callers without a valid token get 401 on every
//! route but the public ones; the others get 403 exactly where their permission (role ∩ scope) does not reach,
//! and otherwise an answer of the route itself (not 401, not 403, never 5xx).

use axum::body::Body;
use axum::http::{header, Method, StatusCode};
use inventory_core::{Role, Scope};
use inventory_db::TokenSpec;
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

        let home = t.make_home(&admin).await;
        let spare = t.create("/api/v1/locations", &admin, &json!({"name": "Spare", "location_type": "CONTAINER", "parent_id": home.kitchen})).await["id"].as_i64().unwrap();
        let item = t.item(&admin, "Drill", home.toolbox, json!({})).await;
        let spare_item = t.item(&admin, "Old Saw", home.toolbox, json!({})).await;
        let category = t.create("/api/v1/categories", &admin, &json!({"name": "Tools"})).await["id"].as_i64().unwrap();
        t.user("victim", Role::Viewer).await;
        let victim = t.ok("/api/v1/users", &admin).await["items"].as_array().unwrap().iter().find(|u| u["username"] == "victim").unwrap()["id"].as_i64().unwrap();
        let victim_token = t.db().create_token_for("victim", &TokenSpec::default()).await.unwrap().token.id;

        let j = |v: Value| Some(Body2::Json(v));
        let (house, garage, toolbox, kitchen) = (home.house, home.garage, home.toolbox, home.kitchen);
        let routes: Vec<(Method, String, Needs, Option<Body2>)> = vec![
            (Method::GET, "/api/v1/auth/me".into(), Needs::Read, None),
            (Method::GET, "/api/v1/openapi.json".into(), Needs::Public, None),
            (Method::GET, "/api/v1/locations".into(), Needs::Read, None),
            (Method::POST, "/api/v1/locations".into(), Needs::Write, j(json!({"name": "Shed", "location_type": "ROOM", "parent_id": house}))),
            (Method::GET, format!("/api/v1/locations/{garage}"), Needs::Read, None),
            (Method::PATCH, format!("/api/v1/locations/{garage}"), Needs::Write, j(json!({"description": "cold"}))),
            (Method::POST, format!("/api/v1/locations/{toolbox}/move"), Needs::Write, j(json!({"parent_id": kitchen}))),
            (Method::GET, format!("/api/v1/locations/{house}/tree"), Needs::Read, None),
            (Method::GET, format!("/api/v1/locations/{toolbox}/items"), Needs::Read, None),
            (Method::GET, "/api/v1/locations/resolve?path=My%20House".into(), Needs::Read, None),
            (Method::GET, "/api/v1/items".into(), Needs::Read, None),
            (Method::POST, "/api/v1/items".into(), Needs::Write, j(json!({"name": "Saw", "location_id": garage}))),
            (Method::GET, format!("/api/v1/items/{item}"), Needs::Read, None),
            (Method::PATCH, format!("/api/v1/items/{item}"), Needs::Write, j(json!({"notes": "sharp"}))),
            (Method::POST, format!("/api/v1/items/{item}/move"), Needs::Write, j(json!({"location_id": kitchen}))),
            (Method::POST, "/api/v1/items/bulk-move".into(), Needs::Write, j(json!({"ids": [item], "location_id": garage}))),
            (Method::GET, "/api/v1/search?q=drill".into(), Needs::Read, None),
            (Method::GET, "/api/v1/categories".into(), Needs::Read, None),
            (Method::POST, "/api/v1/categories".into(), Needs::Write, j(json!({"name": "Garden"}))),
            (Method::GET, format!("/api/v1/categories/{category}"), Needs::Read, None),
            (Method::PATCH, format!("/api/v1/categories/{category}"), Needs::Write, j(json!({"description": "hand tools"}))),
            (Method::GET, "/api/v1/integrity".into(), Needs::Read, None),
            (Method::GET, "/api/v1/stats".into(), Needs::Read, None),
            (Method::GET, "/api/v1/export.csv".into(), Needs::Read, None),
            (Method::POST, "/api/v1/import".into(), Needs::Write, Some(Body2::Csv("name,location\nMug,My House / Kitchen\n".into()))),
            (Method::GET, "/api/v1/users".into(), Needs::Admin, None),
            (Method::POST, "/api/v1/users".into(), Needs::Admin, j(json!({"username": "newbie", "password": "a long enough password", "role": "viewer"}))),
            (Method::GET, format!("/api/v1/users/{victim}"), Needs::Admin, None),
            (Method::PATCH, format!("/api/v1/users/{victim}"), Needs::Admin, j(json!({"role": "member"}))),
            (Method::GET, "/api/v1/tokens".into(), Needs::Read, None),
            (Method::POST, "/api/v1/tokens".into(), Needs::OwnWrite, j(json!({"label": "matrix"}))),
            (Method::GET, format!("/api/v1/tokens/{victim_token}"), Needs::Read, None),
            (Method::DELETE, format!("/api/v1/tokens/{victim_token}"), Needs::OwnWrite, None),
            (Method::DELETE, format!("/api/v1/items/{spare_item}"), Needs::Write, None),
            (Method::DELETE, format!("/api/v1/locations/{spare}"), Needs::Write, None),
            (Method::DELETE, format!("/api/v1/categories/{category}"), Needs::Write, None),
            (Method::DELETE, format!("/api/v1/users/{victim}"), Needs::Admin, None),
            // Last: it revokes the caller's token.
            (Method::POST, "/api/v1/auth/logout".into(), Needs::Read, None),
        ];
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
        for (method, path, needs, body) in &routes {
            for caller in CALLERS {
                let r = send(t, method, path, token_of(caller), body).await;
                let what = format!("{method} {path} as {caller}: {} {}", r.status, String::from_utf8_lossy(&r.body).chars().take(300).collect::<String>());
                assert!(!r.status.is_server_error(), "{what}");
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
                    Some(true) => assert!(
                        r.status != StatusCode::UNAUTHORIZED && r.status != StatusCode::FORBIDDEN,
                        "{what}"
                    ),
                }
                cells += 1;
            }
        }
        assert_eq!(cells, routes.len() * CALLERS.len());
        eprintln!("authorization matrix: {} routes × {} callers = {cells} cells", routes.len(), CALLERS.len());
    }
}
