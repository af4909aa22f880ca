//! In-process test harness: `app(state)` over a fresh database of either backend, driven with
//! `tower::ServiceExt::oneshot`, and the `api_tests!` macro that runs one body on both.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use inventory_api::{app, AppState, Problem, Settings};
use inventory_core::Role;
use inventory_db::testing::TestDb;
use inventory_db::Database;
use serde_json::Value;
use tower::ServiceExt;

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery";

/// The application over one test database.
pub struct TestApp {
    pub test_db: Arc<TestDb>,
    pub router: Router,
}

/// A response, body read.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The problem document, after checking the media type and that its status matches.
    pub fn problem(&self) -> Problem {
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "status {}: {}",
            self.status,
            String::from_utf8_lossy(&self.body)
        );
        let problem: Problem = serde_json::from_slice(&self.body).expect("a problem document");
        assert_eq!(problem.status, self.status.as_u16());
        assert!(problem.problem_type.starts_with("/problems/"));
        assert!(!problem.title.is_empty() && !problem.detail.is_empty());
        problem
    }
}

impl TestApp {
    pub fn new(test_db: TestDb) -> Self {
        Self::with_db(Arc::new(test_db), Settings::default())
    }

    fn with_db(test_db: Arc<TestDb>, settings: Settings) -> Self {
        let router = app(AppState::new(test_db.db.clone(), settings));
        TestApp { test_db, router }
    }

    /// Another app over the same database, with other settings.
    pub fn with_settings(&self, settings: Settings) -> Self {
        Self::with_db(self.test_db.clone(), settings)
    }

    pub fn db(&self) -> &Database {
        &self.test_db.db
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .expect("read body")
            .to_vec();
        TestResponse {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(request(Method::GET, path).body(Body::empty()).unwrap())
            .await
    }

    pub async fn get_as(&self, path: &str, token: &str) -> TestResponse {
        self.send(
            request(Method::GET, path)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// A request with a bearer token, a JSON body (when given) and extra headers.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut builder =
            request(method, path).header(header::AUTHORIZATION, format!("Bearer {token}"));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let body = match body {
            Some(json) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.send(builder.body(body).unwrap()).await
    }

    pub async fn post_body(&self, path: &str, token: &str, body: &Value) -> TestResponse {
        self.call(Method::POST, path, token, Some(body), &[]).await
    }

    pub async fn patch_body(&self, path: &str, token: &str, body: &Value) -> TestResponse {
        self.call(Method::PATCH, path, token, Some(body), &[]).await
    }

    pub async fn delete_as(&self, path: &str, token: &str) -> TestResponse {
        self.call(Method::DELETE, path, token, None, &[]).await
    }

    /// `POST` that must answer 201; the created resource's JSON.
    pub async fn create(&self, path: &str, token: &str, body: &Value) -> Value {
        let r = self.post_body(path, token, body).await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "POST {path} {body}: {}",
            String::from_utf8_lossy(&r.body)
        );
        r.json()
    }

    /// `GET` that must answer 200; the JSON.
    pub async fn ok(&self, path: &str, token: &str) -> Value {
        let r = self.get_as(path, token).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "GET {path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        r.json()
    }

    /// Creates a user with [`PASSWORD`] and an API token for them (no login: quicker).
    pub async fn token(&self, name: &str, role: Role) -> String {
        self.user(name, role).await;
        self.db()
            .create_token(name, Some("test"))
            .await
            .expect("create test token")
            .secret
    }

    /// A token of a new user with this scope.
    pub async fn scoped_token(
        &self,
        name: &str,
        role: Role,
        scope: inventory_core::Scope,
    ) -> String {
        self.user(name, role).await;
        let spec = inventory_db::TokenSpec {
            label: None,
            scope,
            expires_at: None,
        };
        self.db()
            .create_token_for(name, &spec)
            .await
            .expect("create test token")
            .secret
    }

    /// A member's token and a home: My House > Garage > Toolbox, My House > Kitchen.
    pub async fn home(&self) -> (String, Home) {
        let token = self.token("mo", Role::Member).await;
        let home = self.make_home(&token).await;
        (token, home)
    }

    /// My House > Garage > Toolbox, My House > Kitchen, created through the API.
    pub async fn make_home(&self, token: &str) -> Home {
        let loc = |name: &str, kind: &str, parent: Option<i64>| serde_json::json!({"name": name, "location_type": kind, "parent_id": parent});
        let house = self
            .create("/api/v1/locations", token, &loc("My House", "HOUSE", None))
            .await["id"]
            .as_i64()
            .unwrap();
        let garage = self
            .create(
                "/api/v1/locations",
                token,
                &loc("Garage", "ROOM", Some(house)),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let toolbox = self
            .create(
                "/api/v1/locations",
                token,
                &loc("Toolbox", "CONTAINER", Some(garage)),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let kitchen = self
            .create(
                "/api/v1/locations",
                token,
                &loc("Kitchen", "ROOM", Some(house)),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        Home {
            house,
            garage,
            toolbox,
            kitchen,
        }
    }

    /// Creates an item through the API; its id.
    pub async fn item(&self, token: &str, name: &str, location: i64, extra: Value) -> i64 {
        let mut body = serde_json::json!({"name": name, "location_id": location});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        self.create("/api/v1/items", token, &body).await["id"]
            .as_i64()
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> TestResponse {
        self.send(
            request(Method::POST, path)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    pub async fn post_as(&self, path: &str, token: &str) -> TestResponse {
        self.send(
            request(Method::POST, path)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// A login attempt from a given client address.
    pub async fn login_from(
        &self,
        addr: SocketAddr,
        username: &str,
        password: &str,
    ) -> TestResponse {
        let mut req = request(Method::POST, "/api/v1/auth/login")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                serde_json::json!({"username": username, "password": password}).to_string(),
            ))
            .unwrap();
        req.extensions_mut().insert(ConnectInfo(addr));
        self.send(req).await
    }

    pub async fn login_attempt(&self, username: &str, password: &str) -> TestResponse {
        self.login_from(([192, 0, 2, 1], 40000).into(), username, password)
            .await
    }

    /// Creates a user with [`PASSWORD`].
    pub async fn user(&self, name: &str, role: Role) {
        self.db()
            .create_user(name, PASSWORD, role)
            .await
            .expect("create test user");
    }

    /// Creates a user and logs in; returns the token.
    pub async fn token_for(&self, name: &str, role: Role) -> String {
        self.user(name, role).await;
        let response = self.login_attempt(name, PASSWORD).await;
        assert_eq!(response.status, StatusCode::OK, "{:?}", response.json());
        response.json()["token"]
            .as_str()
            .expect("token in the login response")
            .to_string()
    }
}

/// The ids of the sample home.
#[derive(Clone, Copy, Debug)]
pub struct Home {
    pub house: i64,
    pub garage: i64,
    pub toolbox: i64,
    pub kitchen: i64,
}

pub fn request(method: Method, path: &str) -> axum::http::request::Builder {
    Request::builder().method(method).uri(path)
}

/// Runs the same async test body on SQLite and PostgreSQL: for each
/// `async fn name(t: &TestApp) { ... }` a module `name` with tests `sqlite` and `postgres`,
/// each on a fresh, migrated database.
#[macro_export]
macro_rules! api_tests {
    ($(
        $(#[$meta:meta])*
        async fn $name:ident($t:ident: &TestApp) $body:block
    )*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn body($t: &TestApp) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let t = $crate::common::TestApp::new(inventory_db::testing::sqlite().await);
                    body(&t).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let t = $crate::common::TestApp::new(inventory_db::testing::postgres().await);
                    body(&t).await;
                }
            }
        )*
    };
}
