//! CSRF, permissions, headers and assets: forged posts and viewers write nothing.

use axum::http::StatusCode;
use inventory_core::{Role, Scope};
use serde_json::json;

use crate::browser::{encode, Browser, ORIGIN};
use crate::common::{Home, TestApp};

/// Every state-changing route of the UI with fields that would succeed for an admin.
fn write_routes(
    home: &Home,
    item: i64,
    category: i64,
    user: i64,
    token: i64,
) -> Vec<(String, Vec<(&'static str, String)>)> {
    let s = |v: &str| v.to_string();
    vec![
        (
            s("/locations"),
            vec![("name", s("Shed")), ("location_type", s("HOUSE"))],
        ),
        (
            format!("/locations/{}/edit", home.kitchen),
            vec![("name", s("Galley")), ("location_type", s("ROOM"))],
        ),
        (
            format!("/locations/{}/move", home.toolbox),
            vec![("to", s("My House / Kitchen"))],
        ),
        (
            format!("/locations/{}/items", home.kitchen),
            vec![("name", s("Pan"))],
        ),
        (
            format!("/locations/{}/delete", home.toolbox),
            vec![("items", s("delete"))],
        ),
        (
            s("/items"),
            vec![("location", s("My House / Kitchen")), ("name", s("Pot"))],
        ),
        (format!("/items/{item}/edit"), vec![("name", s("Renamed"))]),
        (
            format!("/items/{item}/move"),
            vec![("to", s("My House / Kitchen"))],
        ),
        (format!("/items/{item}/delete"), vec![]),
        (s("/categories"), vec![("name", s("Kitchenware"))]),
        (
            format!("/categories/{category}/edit"),
            vec![("name", s("Renamed"))],
        ),
        (format!("/categories/{category}/delete"), vec![]),
        (
            s("/users"),
            vec![
                ("username", s("eve")),
                ("password", s("long enough secret")),
                ("role", s("admin")),
            ],
        ),
        (format!("/users/{user}/role"), vec![("role", s("admin"))]),
        (
            format!("/users/{user}/password"),
            vec![("password", s("taken over now"))],
        ),
        (format!("/users/{user}/delete"), vec![]),
        (
            s("/tokens"),
            vec![("label", s("mine")), ("scope", s("write"))],
        ),
        (format!("/tokens/{token}/revoke"), vec![]),
    ]
}

/// A snapshot of everything a write route could change.
pub(crate) async fn snapshot(t: &TestApp) -> String {
    let mut out = Vec::new();
    t.db().export_items_csv(&mut out, &|_, _| {}).await.unwrap();
    let tree = t.db().location_tree(None, None).await.unwrap();
    let users = t.db().list_users().await.unwrap();
    let tokens = t.db().list_tokens(None).await.unwrap();
    let cats = t.db().list_categories().await.unwrap();
    format!(
        "{}\n{tree:?}\n{users:?}\n{:?}\n{cats:?}",
        String::from_utf8(out).unwrap(),
        tokens
            .iter()
            .map(|t| (t.id, t.revoked_at))
            .collect::<Vec<_>>()
    )
}

/// A home with an item, a category, a member and one of the member's tokens.
async fn fixture(t: &TestApp) -> (Home, i64, i64, i64, i64) {
    let (token, home) = t.home().await;
    let item = t.item(&token, "Drill", home.toolbox, json!({})).await;
    let category = t.db().create_category("Tools", None).await.unwrap().id;
    let member = t.db().get_user("mo").await.unwrap().id;
    let member_token = t.db().list_tokens(Some("mo")).await.unwrap()[0].id;
    (home, item, category, member, member_token)
}

/// Sends every write route as `b`, with `body_of` making the body from the fields; each
/// must answer 403 and change nothing.
async fn refused_everywhere(
    t: &TestApp,
    b: &Browser<'_>,
    routes: &[(String, Vec<(&'static str, String)>)],
    body_of: impl Fn(&[(&str, &str)]) -> String,
    headers: &[(&str, &str)],
) {
    let before = snapshot(t).await;
    for (path, fields) in routes {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = b.post_raw(path, &body_of(&fields), headers).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "POST {path}: {}", r.text());
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
    }
    assert_eq!(snapshot(t).await, before, "nothing was written");
}

api_tests! {
    async fn a_post_without_the_csrf_token_writes_nothing(t: &TestApp) {
        let (home, item, category, member, token) = fixture(t).await;
        let admin = t.browser("root", Role::Admin).await;
        let routes = write_routes(&home, item, category, member, token);
        refused_everywhere(t, &admin, &routes, encode, &[("origin", ORIGIN)]).await;
        let wrong = |f: &[(&str, &str)]| {
            let mut all = vec![("_csrf", "0".repeat(64))];
            all.extend(f.iter().map(|(k, v)| (*k, v.to_string())));
            let all: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
            encode(&all)
        };
        refused_everywhere(t, &admin, &routes, wrong, &[("origin", ORIGIN)]).await;
        // The token of another session is no good either.
        let other = t.signed_in("root").await;
        let theirs = |f: &[(&str, &str)]| {
            let mut all = vec![("_csrf", other.csrf.as_str())];
            all.extend_from_slice(f);
            encode(&all)
        };
        refused_everywhere(t, &admin, &routes, theirs, &[("origin", ORIGIN)]).await;
    }

    async fn a_cross_site_post_is_refused_even_with_the_token(t: &TestApp) {
        let (home, item, category, member, token) = fixture(t).await;
        let admin = t.browser("root", Role::Admin).await;
        let routes = write_routes(&home, item, category, member, token);
        let csrf = admin.csrf.clone();
        let with_token = move |f: &[(&str, &str)]| {
            let mut all = vec![("_csrf", csrf.as_str())];
            all.extend_from_slice(f);
            encode(&all)
        };
        refused_everywhere(t, &admin, &routes, &with_token, &[("origin", "https://evil.example")]).await;
        refused_everywhere(t, &admin, &routes, &with_token, &[("sec-fetch-site", "cross-site")]).await;
        refused_everywhere(t, &admin, &routes, &with_token, &[("sec-fetch-site", "same-site")]).await;
        refused_everywhere(t, &admin, &routes, &with_token, &[("origin", "null")]).await;
        // The same post from our own pages goes through.
        let r = admin.post("/categories", &[("name", "Garden")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        // Chromium under `Referrer-Policy: no-referrer`: `Origin: null` with `same-origin`.
        let body = with_token(&[("name", "Shed")]);
        let r = admin
            .post_raw("/categories", &body, &[("origin", "null"), ("sec-fetch-site", "same-origin")])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    }

    async fn a_viewer_is_refused_on_every_write_route(t: &TestApp) {
        let (home, item, category, member, token) = fixture(t).await;
        let viewer = t.browser("vi", Role::Viewer).await;
        let routes = write_routes(&home, item, category, member, token);
        let csrf = viewer.csrf.clone();
        let with_token = move |f: &[(&str, &str)]| {
            let mut all = vec![("_csrf", csrf.as_str())];
            all.extend_from_slice(f);
            encode(&all)
        };
        refused_everywhere(t, &viewer, &routes, &with_token, &[("origin", ORIGIN), ("sec-fetch-site", "same-origin")]).await;
        let r = viewer.post_multipart("/csv/import", &[("_csrf", &viewer.csrf)], ("file", b"name,location\nX,My House\n")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }

    async fn a_member_is_refused_on_the_admin_routes(t: &TestApp) {
        let (home, item, category, member, token) = fixture(t).await;
        let other = t.browser("mia", Role::Member).await;
        let admin_only: Vec<_> = write_routes(&home, item, category, member, token)
            .into_iter()
            .filter(|(path, _)| path.starts_with("/users"))
            .collect();
        let csrf = other.csrf.clone();
        let with_token = move |f: &[(&str, &str)]| {
            let mut all = vec![("_csrf", csrf.as_str())];
            all.extend_from_slice(f);
            encode(&all)
        };
        refused_everywhere(t, &other, &admin_only, &with_token, &[("origin", ORIGIN)]).await;
    }

    async fn a_read_scope_session_is_refused_like_a_viewer(t: &TestApp) {
        let (home, item, category, member, token) = fixture(t).await;
        let secret = t.scoped_token("ro", Role::Admin, Scope::Read).await;
        let b = t.browser_with_secret(&secret).await;
        let routes = write_routes(&home, item, category, member, token);
        let csrf = b.csrf.clone();
        let with_token = move |f: &[(&str, &str)]| {
            let mut all = vec![("_csrf", csrf.as_str())];
            all.extend_from_slice(f);
            encode(&all)
        };
        refused_everywhere(t, &b, &routes, &with_token, &[("origin", ORIGIN)]).await;
        assert!(b.html("/").await.contains("read-only session"));
    }

    async fn a_viewer_sees_no_write_action(t: &TestApp) {
        let (home, item, _, _, _) = fixture(t).await;
        let viewer = t.browser("vi", Role::Viewer).await;
        for path in ["/".to_string(), "/?q=drill".into(), "/browse".into(),
                     format!("/browse?open={}", home.garage), format!("/locations/{}", home.garage),
                     format!("/items/{item}"), "/categories".into(), "/csv".into(), "/tokens".into()] {
            let html = viewer.html(&path).await;
            assert_eq!(html.matches("method=\"post\"").count(), 1, "only the logout form on {path}");
            assert!(html.contains(r#"action="/logout""#), "{path}");
            for word in ["Add ", "Delete", "Move", "Rename", "Import</button>", "Make token", "Revoke"] {
                assert!(!html.contains(word), "{word} on {path}");
            }
        }
        assert_eq!(viewer.get("/users").await.status, StatusCode::FORBIDDEN);
        // Reading is fine, the export included.
        assert_eq!(viewer.get("/csv/export").await.status, StatusCode::OK);
    }

    async fn pages_carry_the_security_headers(t: &TestApp) {
        let (home, _, _, _, _) = fixture(t).await;
        let b = t.signed_in("mo").await;
        for path in ["/".to_string(), format!("/locations/{}", home.garage), "/fragments/search?q=dr".into()] {
            let r = b.get(&path).await;
            let csp = r.header("content-security-policy").unwrap();
            for part in ["default-src 'self'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"] {
                assert!(csp.contains(part), "{part}: {csp}");
            }
            assert!(!csp.contains("unsafe-inline"));
            assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
            assert_eq!(r.header("x-frame-options"), Some("DENY"));
            assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
            assert_eq!(r.header("cache-control"), Some("no-store"), "{path}");
            assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        }
        let login = t.page("/login").await;
        assert!(login.header("content-security-policy").is_some());
    }

    async fn pages_hold_no_inline_script_no_other_host_and_no_secret(t: &TestApp) {
        let (home, item, _, _, _) = fixture(t).await;
        let b = t.signed_in("mo").await;
        for path in ["/".to_string(), "/browse".into(), format!("/locations/{}", home.garage),
                     format!("/items/{item}"), "/categories".into(), "/csv".into(), "/tokens".into(),
                     "/items/new".into()] {
            let html = b.html(&path).await;
            assert_eq!(html.matches("<script").count(), 1, "{path}");
            assert!(html.contains("<script src=\"/assets/app."), "{path}");
            assert!(!html.contains(" style="), "no inline style on {path}");
            assert!(!html.contains("http://") && !html.contains("https://"), "no other host on {path}");
            assert!(!html.contains(b.secret()), "the session secret on {path}");
            let lower = html.to_ascii_lowercase();
            for handler in ["onclick", "onload", "onsubmit", "onerror", "oninput", "onchange"] {
                assert!(!lower.contains(&format!("{handler}=")), "{handler} on {path}");
            }
        }
    }

    async fn assets_are_hashed_and_cached_for_a_year(t: &TestApp) {
        let b = t.browser("ann", Role::Member).await;
        let html = b.html("/").await;
        for (attr, kind) in [("href=\"/assets/", "text/css"), ("src=\"/assets/", "text/javascript")] {
            let start = html.find(attr).unwrap() + attr.len() - "/assets/".len();
            let url = &html[start..start + html[start..].find('"').unwrap()];
            let hash = url.split('.').nth(1).unwrap();
            assert!(hash.len() == 16 && hash.bytes().all(|c| c.is_ascii_hexdigit()), "{url} has a hash");
            let r = t.page(url).await;
            assert_eq!(r.status, 200, "{url}: assets need no session");
            assert!(r.header("content-type").unwrap().starts_with(kind));
            assert_eq!(r.header("cache-control"), Some("public, max-age=31536000, immutable"));
        }
        assert_eq!(t.page("/assets/app.css").await.status, 404);
    }
}
