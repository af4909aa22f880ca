//! The web UI's authorization matrix: every route the UI mounts (`inventory_api::web::ROUTES`,
//! declared once with the router, so a route added there and not here fails the test) ×
//! {anonymous, viewer, member, admin}, each cell's exact answer. Anonymous visitors are sent
//! to the login page (pages, and posts without `next`), fragments answer 401; a viewer reads
//! every page but the admin's and every write is refused; a member is refused the admin's
//! pages and forms; an admin succeeds everywhere. Allowed writes run on fixtures of their
//! own, so that each one really succeeds.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{header, Method, StatusCode};
use inventory_core::Role;
use inventory_db::TokenSpec;
use serde_json::json;

use crate::browser::{csrf_of, encode, Browser, HOST, ORIGIN};
use crate::common::{request, Home, TestApp, TestResponse, PASSWORD};

/// What a route needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Needs {
    /// Nothing: the same answer for everyone.
    Public,
    /// The login form: shown to visitors, skipped by the signed in.
    LoginForm,
    /// A page for anyone signed in.
    Page,
    /// A fragment fetched by our script for anyone signed in (401 without a session).
    Fragment,
    /// A page for admins.
    AdminPage,
    /// A form post of anyone signed in (sign out).
    Session,
    /// A form post that changes the inventory (members and admins).
    Write,
    /// A form post that manages users (admins).
    Admin,
}

/// How a cell's request is sent.
#[derive(Clone, Debug)]
pub(crate) enum Via {
    Get,
    /// A urlencoded form post with the session's CSRF token.
    Form(Vec<(&'static str, String)>),
    /// The CSV upload (multipart) with this file.
    Upload(String),
    /// The login form fetched and posted with this user's name and [`PASSWORD`].
    Login(String),
}

/// What an allowed request answers.
#[derive(Clone, Debug)]
pub(crate) enum Success {
    Ok,
    Created,
    /// 303 to a location starting with this.
    Redirect(String),
}

/// One row of the matrix.
#[derive(Clone, Debug)]
pub(crate) struct Route {
    pub method: Method,
    /// The route as the router declares it.
    pub route: &'static str,
    /// The address requested.
    pub path: String,
    pub needs: Needs,
    pub send: Via,
    pub success: Success,
}

/// The callers, in the order they run.
const CALLERS: [&str; 4] = ["anonymous", "viewer", "member", "admin"];

/// What each caller's allowed writes work on: things of its own.
struct Fixture {
    container: i64,
    item: i64,
    category: i64,
    victim: i64,
    own_token: i64,
}

async fn fixture(t: &TestApp, api: &str, home: &Home, tag: &str, owner: &str) -> Fixture {
    let container = t
        .create(
            "/api/v1/locations",
            api,
            &json!({"name": format!("Box {tag}"), "location_type": "CONTAINER", "parent_id": home.garage}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let item = t
        .item(api, &format!("Hammer {tag}"), home.toolbox, json!({}))
        .await;
    let category = t
        .db()
        .create_category(&format!("Cat {tag}"), None)
        .await
        .unwrap()
        .id;
    let victim_name = format!("victim-{tag}");
    t.user(&victim_name, Role::Viewer).await;
    let victim = t.db().get_user(&victim_name).await.unwrap().id;
    let own_token = t
        .db()
        .create_token_for(owner, &TokenSpec::default())
        .await
        .unwrap()
        .token
        .id;
    Fixture {
        container,
        item,
        category,
        victim,
        own_token,
    }
}

/// Every route of the UI, with the fixture's ids in the addresses.
fn routes(
    home: &Home,
    base_item: i64,
    asset: &str,
    fx: &Fixture,
    tag: &str,
    login_as: &str,
) -> Vec<Route> {
    let s = |v: &str| v.to_string();
    let get = |route, path: String, needs, success| Route {
        method: Method::GET,
        route,
        path,
        needs,
        send: Via::Get,
        success,
    };
    let post = |route, path: String, needs, fields: Vec<(&'static str, String)>, success| Route {
        method: Method::POST,
        route,
        path,
        needs,
        send: Via::Form(fields),
        success,
    };
    let to = |prefix: String| Success::Redirect(prefix);
    let (c, i, cat, v) = (fx.container, fx.item, fx.category, fx.victim);
    vec![
        get("/", s("/"), Needs::Page, Success::Ok),
        get("/login", s("/login"), Needs::LoginForm, Success::Ok),
        Route {
            method: Method::POST,
            route: "/login",
            path: s("/login"),
            needs: Needs::Public,
            send: Via::Login(login_as.to_string()),
            success: to(s("/")),
        },
        get("/browse", s("/browse"), Needs::Page, Success::Ok),
        get(
            "/locations/{id}",
            format!("/locations/{}", home.garage),
            Needs::Page,
            Success::Ok,
        ),
        get("/items/new", s("/items/new"), Needs::Page, Success::Ok),
        get(
            "/items/{id}",
            format!("/items/{base_item}"),
            Needs::Page,
            Success::Ok,
        ),
        get("/categories", s("/categories"), Needs::Page, Success::Ok),
        get("/csv", s("/csv"), Needs::Page, Success::Ok),
        get("/csv/export", s("/csv/export"), Needs::Page, Success::Ok),
        get("/users", s("/users"), Needs::AdminPage, Success::Ok),
        get("/tokens", s("/tokens"), Needs::Page, Success::Ok),
        get(
            "/fragments/search",
            s("/fragments/search?q=dri"),
            Needs::Fragment,
            Success::Ok,
        ),
        get(
            "/fragments/children/{id}",
            format!("/fragments/children/{}", home.house),
            Needs::Fragment,
            Success::Ok,
        ),
        get(
            "/fragments/pick",
            s("/fragments/pick?q=kit"),
            Needs::Fragment,
            Success::Ok,
        ),
        get("/assets/{file}", s(asset), Needs::Public, Success::Ok),
        post(
            "/locations",
            s("/locations"),
            Needs::Write,
            vec![
                ("name", format!("Shed {tag}")),
                ("location_type", s("HOUSE")),
            ],
            to(s("/locations/")),
        ),
        post(
            "/locations/{id}/edit",
            format!("/locations/{c}/edit"),
            Needs::Write,
            vec![
                ("name", format!("Crate {tag}")),
                ("location_type", s("CONTAINER")),
            ],
            to(format!("/locations/{c}?done=saved")),
        ),
        post(
            "/locations/{id}/items",
            format!("/locations/{c}/items"),
            Needs::Write,
            vec![("name", format!("Pan {tag}"))],
            to(format!("/locations/{c}?done=created")),
        ),
        post(
            "/locations/{id}/move",
            format!("/locations/{c}/move"),
            Needs::Write,
            vec![("to", s("My House / Kitchen"))],
            to(format!("/locations/{c}?done=moved")),
        ),
        post(
            "/locations/{id}/delete",
            format!("/locations/{c}/delete"),
            Needs::Write,
            vec![("items", s("delete"))],
            to(format!("/locations/{}?done=deleted", home.kitchen)),
        ),
        post(
            "/items",
            s("/items"),
            Needs::Write,
            vec![
                ("location", s("My House / Kitchen")),
                ("name", format!("Pot {tag}")),
            ],
            to(s("/items/")),
        ),
        post(
            "/items/{id}/edit",
            format!("/items/{i}/edit"),
            Needs::Write,
            vec![("name", format!("Renamed {tag}"))],
            to(format!("/items/{i}?done=saved")),
        ),
        post(
            "/items/{id}/move",
            format!("/items/{i}/move"),
            Needs::Write,
            vec![("to", s("My House / Kitchen"))],
            to(format!("/items/{i}?done=moved")),
        ),
        post(
            "/items/{id}/delete",
            format!("/items/{i}/delete"),
            Needs::Write,
            vec![],
            to(format!("/locations/{}?done=deleted", home.kitchen)),
        ),
        post(
            "/categories",
            s("/categories"),
            Needs::Write,
            vec![("name", format!("Garden {tag}"))],
            to(s("/categories?done=created")),
        ),
        post(
            "/categories/{id}/edit",
            format!("/categories/{cat}/edit"),
            Needs::Write,
            vec![("name", format!("Renamed cat {tag}"))],
            to(s("/categories?done=saved")),
        ),
        post(
            "/categories/{id}/delete",
            format!("/categories/{cat}/delete"),
            Needs::Write,
            vec![],
            to(s("/categories?done=deleted")),
        ),
        Route {
            method: Method::POST,
            route: "/csv/import",
            path: s("/csv/import"),
            needs: Needs::Write,
            send: Via::Upload(format!("name,location\nMug {tag},My House / Kitchen\n")),
            success: Success::Ok,
        },
        post(
            "/tokens",
            s("/tokens"),
            Needs::Write,
            vec![("label", format!("mine {tag}")), ("scope", s("read"))],
            Success::Created,
        ),
        post(
            "/tokens/{id}/revoke",
            format!("/tokens/{}/revoke", fx.own_token),
            Needs::Write,
            vec![],
            to(s("/tokens?done=revoked")),
        ),
        post(
            "/users",
            s("/users"),
            Needs::Admin,
            vec![
                ("username", format!("eve-{tag}")),
                ("password", s("long enough secret")),
                ("role", s("viewer")),
            ],
            to(s("/users?done=created")),
        ),
        post(
            "/users/{id}/role",
            format!("/users/{v}/role"),
            Needs::Admin,
            vec![("role", s("member"))],
            to(s("/users?done=saved")),
        ),
        post(
            "/users/{id}/password",
            format!("/users/{v}/password"),
            Needs::Admin,
            vec![("password", s("another long secret"))],
            to(s("/users?done=saved")),
        ),
        post(
            "/users/{id}/delete",
            format!("/users/{v}/delete"),
            Needs::Admin,
            vec![],
            to(s("/users?done=deleted")),
        ),
        // Last: it ends the caller's session.
        post(
            "/logout",
            s("/logout"),
            Needs::Session,
            vec![],
            to(s("/login?done=signed-out")),
        ),
    ]
}

/// The answer a caller must get.
#[derive(Debug, PartialEq, Eq)]
enum Expect {
    Success,
    /// 303 to exactly this address.
    RedirectTo(String),
    Status(StatusCode),
}

fn expected(caller: &str, route: &Route) -> Expect {
    let signed_in = caller != "anonymous";
    match route.needs {
        Needs::Public => Expect::Success,
        Needs::LoginForm if signed_in => Expect::RedirectTo("/".into()),
        Needs::LoginForm => Expect::Success,
        Needs::Page | Needs::AdminPage if !signed_in => Expect::RedirectTo(if route.path == "/" {
            "/login".into()
        } else {
            format!("/login?next={}", route.path)
        }),
        Needs::Fragment if !signed_in => Expect::Status(StatusCode::UNAUTHORIZED),
        Needs::Session | Needs::Write | Needs::Admin if !signed_in => {
            Expect::RedirectTo("/login".into())
        }
        Needs::AdminPage | Needs::Admin if caller != "admin" => {
            Expect::Status(StatusCode::FORBIDDEN)
        }
        Needs::Write if caller == "viewer" => Expect::Status(StatusCode::FORBIDDEN),
        _ => Expect::Success,
    }
}

/// Fetches the login form and posts it with `cookie` (the caller's session, if any) beside
/// the form's own cookie, as a browser would.
pub(crate) async fn login_post(t: &TestApp, cookie: Option<&str>, username: &str) -> TestResponse {
    let form = t.page("/login").await;
    let pre = form
        .cookie_value("hinv_login")
        .expect("a login-form cookie");
    let cookies = match cookie {
        Some(c) => format!("{c}; hinv_login={pre}"),
        None => format!("hinv_login={pre}"),
    };
    t.send(
        request(Method::POST, "/login")
            .header(header::HOST, HOST)
            .header(header::ORIGIN, ORIGIN)
            .header("sec-fetch-site", "same-origin")
            .header(header::COOKIE, cookies)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(encode(&[
                ("_csrf", &csrf_of(&form.text())),
                ("username", username),
                ("password", PASSWORD),
                ("next", "/"),
            ])))
            .unwrap(),
    )
    .await
}

async fn send(t: &TestApp, b: &Browser<'_>, route: &Route) -> TestResponse {
    match &route.send {
        Via::Get => b.get(&route.path).await,
        Via::Form(fields) => {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            b.post(&route.path, &fields).await
        }
        Via::Upload(csv) => {
            b.post_multipart(&route.path, &[("_csrf", &b.csrf)], ("file", csv.as_bytes()))
                .await
        }
        Via::Login(user) => {
            let r = login_post(t, Some(b.cookie.as_str()), user).await;
            let fresh = r
                .cookie_value("hinv_session")
                .expect("login sets a session");
            assert_ne!(fresh, b.secret(), "login issues a new session");
            r
        }
    }
}

/// The `(METHOD, route)` pairs the UI's router mounts.
fn mounted() -> BTreeSet<(String, String)> {
    inventory_api::web::ROUTES
        .iter()
        .flat_map(|(path, methods)| {
            methods
                .split_whitespace()
                .map(|m| (m.to_ascii_uppercase(), path.to_string()))
        })
        .collect()
}

/// What the matrix's pages show: a home, an item, a category, and an admin's API token to
/// make each caller's fixtures with.
pub(crate) struct World {
    api: String,
    home: Home,
    base_item: i64,
    asset: &'static str,
}

/// Makes the [`World`]: users `ada` (admin, API token) and `walk-in` (member, for the
/// anonymous login cell), My House, a Drill, the Tools category.
pub(crate) async fn world(t: &TestApp) -> World {
    let api = t.token("ada", Role::Admin).await;
    let home = t.make_home(&api).await;
    let base_item = t.item(&api, "Drill", home.toolbox, json!({})).await;
    t.db().create_category("Tools", None).await.unwrap();
    t.user("walk-in", Role::Member).await;
    World {
        api,
        home,
        base_item,
        asset: inventory_api::web::asset_urls()[0].0,
    }
}

/// Every route of the UI for a caller: fixtures of its own (`tag` in their names, its own
/// token owned by `owner`), the login cell signing in as `login_as`.
pub(crate) async fn routes_for(
    t: &TestApp,
    w: &World,
    tag: &str,
    owner: &str,
    login_as: &str,
) -> Vec<Route> {
    let fx = fixture(t, &w.api, &w.home, tag, owner).await;
    routes(&w.home, w.base_item, w.asset, &fx, tag, login_as)
}

/// Sends one cell as `caller` through `b` and asserts its answer.
pub(crate) async fn check(t: &TestApp, b: &Browser<'_>, caller: &str, route: &Route) {
    let r = send(t, b, route).await;
    let what = format!(
        "{} {} as {caller}: {} {:?} {}",
        route.method,
        route.path,
        r.status,
        r.header("location"),
        r.text().chars().take(300).collect::<String>()
    );
    match expected(caller, route) {
        Expect::Success => match &route.success {
            Success::Ok => assert_eq!(r.status, StatusCode::OK, "{what}"),
            Success::Created => assert_eq!(r.status, StatusCode::CREATED, "{what}"),
            Success::Redirect(prefix) => {
                assert_eq!(r.status, StatusCode::SEE_OTHER, "{what}");
                assert!(
                    r.location().starts_with(prefix.as_str()),
                    "to {prefix}: {what}"
                );
            }
        },
        Expect::RedirectTo(to) => {
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{what}");
            assert_eq!(r.location(), to, "{what}");
        }
        Expect::Status(status) => {
            assert_eq!(r.status, status, "{what}");
            if status == StatusCode::FORBIDDEN {
                assert!(
                    r.header("content-type").unwrap().starts_with("text/html"),
                    "{what}"
                );
            }
        }
    }
}

api_tests! {
    async fn every_web_route_answers_every_caller_as_its_role_says(t: &TestApp) {
        let w = world(t).await;
        let viewer = t.browser("vi", Role::Viewer).await;
        let member = t.browser("mo", Role::Member).await;
        let admin = t.browser("ad", Role::Admin).await;
        let anonymous = Browser { t, cookie: "hinv_other=1".into(), csrf: "0".repeat(64) };

        let mut cells = 0;
        let mut covered = BTreeSet::new();
        for caller in CALLERS {
            let (b, user) = match caller {
                "anonymous" => (&anonymous, "walk-in"),
                "viewer" => (&viewer, "vi"),
                "member" => (&member, "mo"),
                _ => (&admin, "ad"),
            };
            let owner = if caller == "anonymous" { "ada" } else { user };
            for route in routes_for(t, &w, caller, owner, user).await {
                covered.insert((route.method.to_string(), route.route.to_string()));
                check(t, b, caller, &route).await;
                cells += 1;
            }
        }
        let mounted = mounted();
        assert_eq!(
            covered, mounted,
            "the matrix and the router differ: missing here {:?}, not mounted {:?}",
            mounted.difference(&covered).collect::<Vec<_>>(),
            covered.difference(&mounted).collect::<Vec<_>>()
        );
        assert_eq!(cells, mounted.len() * CALLERS.len());
        eprintln!("web authorization matrix: {} routes × {} callers = {cells} cells", mounted.len(), CALLERS.len());
    }
}
