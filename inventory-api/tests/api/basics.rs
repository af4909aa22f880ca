//! The foundation in-process: errors, auth, rate limits, health, headers, CORS, docs.

use std::net::SocketAddr;

use crate::common::{request, TestApp, PASSWORD};
use axum::body::Body;
use axum::http::{header, Method, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use inventory_api::auth::{Admin, Reader, Writer};
use inventory_api::extract::{Path, Query};
use inventory_api::{AppState, LoginLimits, Settings};
use inventory_core::Role;
use serde_json::{json, Value};

api_tests! {
    async fn healthz_answers_ok(t: &TestApp) {
        let r = t.get("/healthz").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json(), json!({"status": "ok"}));
    }

    async fn readyz_answers_ready_on_a_current_schema(t: &TestApp) {
        let r = t.get("/readyz").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json(), json!({"status": "ready"}));
    }

    async fn malformed_json_is_a_400_problem(t: &TestApp) {
        let r = t
            .send(
                request(Method::POST, "/api/v1/auth/login")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(r#"{"username": "ann", "password": "#))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let p = r.problem();
        assert_eq!(p.problem_type, "/problems/bad-request");
        assert!(p.detail.starts_with("malformed JSON"), "{}", p.detail);
    }

    async fn a_body_that_is_not_json_is_a_415_problem(t: &TestApp) {
        let r = t
            .send(
                request(Method::POST, "/api/v1/auth/login")
                    .header(header::CONTENT_TYPE, "text/plain")
                    .body(Body::from(r#"{"username":"ann","password":"x"}"#))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(r.problem().problem_type, "/problems/unsupported-media-type");
    }

    async fn a_body_without_content_type_is_a_415_problem(t: &TestApp) {
        let r = t
            .send(
                request(Method::POST, "/api/v1/auth/login")
                    .body(Body::from(r#"{"username":"ann","password":"x"}"#))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        r.problem();
    }

    async fn an_unknown_field_is_a_422_problem_naming_it(t: &TestApp) {
        let r = t
            .post_json(
                "/api/v1/auth/login",
                &json!({"username": "ann", "password": "x", "role": "admin"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let p = r.problem();
        assert_eq!(p.problem_type, "/problems/validation");
        assert_eq!(p.errors.len(), 1);
        assert_eq!(p.errors[0].field, "role");
    }

    async fn a_field_of_the_wrong_type_is_a_422_problem_naming_it(t: &TestApp) {
        let r = t
            .post_json("/api/v1/auth/login", &json!({"username": ["ann"], "password": "x"}))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.problem().errors[0].field, "username");
        let r = t.post_json("/api/v1/auth/login", &json!({"username": "ann"})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.problem().errors[0].field, "password");
    }

    async fn a_json_array_in_place_of_the_object_is_a_422_problem_and_writes_nothing(t: &TestApp) {
        // serde takes a struct's fields in order from an array: `[null, null]` made a token.
        let token = t.token("ann", Role::Member).await;
        let before = t.ok("/api/v1/tokens", &token).await["items"].as_array().unwrap().len();
        for body in [json!([null, null]), json!(["label", "read"]), json!([])] {
            let r = t.post_body("/api/v1/tokens", &token, &body).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            let p = r.problem();
            assert_eq!((p.problem_type.as_str(), p.errors[0].field.as_str()), ("/problems/validation", "body"));
        }
        let r = t.post_body("/api/v1/categories", &token, &json!(["Tools"])).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let after = t.ok("/api/v1/tokens", &token).await["items"].as_array().unwrap().len();
        assert_eq!(after, before, "no token was made");
        assert_eq!(t.ok("/api/v1/categories", &token).await["items"], json!([]));
    }

    async fn a_body_over_the_limit_is_a_413_problem(t: &TestApp) {
        // Default limit, 1 MiB: a well-formed JSON body one byte over it.
        let padding = "x".repeat(1024 * 1024);
        let body = format!(r#"{{"username":"{padding}","password":"x"}}"#);
        let r = t
            .send(
                request(Method::POST, "/api/v1/auth/login")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        let p = r.problem();
        assert!(p.detail.contains("1048576"), "{}", p.detail);

        let small = t.with_settings(Settings { max_body: 64, ..Settings::default() });
        let r = small
            .post_json("/api/v1/auth/login", &json!({"username": "a".repeat(64), "password": "x"}))
            .await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        r.problem();
    }

    async fn an_unknown_route_is_a_404_problem(t: &TestApp) {
        for path in ["/nope", "/api/v1/nope", "/api/v2/auth/login", "/docs/no-such-asset.js"] {
            let r = t.get(path).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(r.problem().problem_type, "/problems/not-found");
        }
    }

    async fn a_wrong_method_is_a_405_problem_with_allow(t: &TestApp) {
        let r = t.send(request(Method::DELETE, "/healthz").body(Body::empty()).unwrap()).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.problem().problem_type, "/problems/method-not-allowed");
        let allow = r.header("allow").expect("Allow header");
        assert!(allow.contains("GET"), "{allow}");

        let r = t.get("/api/v1/auth/login").await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.header("allow"), Some("POST"));
        r.problem();
    }

    async fn login_returns_a_token_that_expires_after_the_session_days(t: &TestApp) {
        t.user("ann", Role::Member).await;
        let r = t.login_attempt("ann", PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("cache-control"), Some("no-store"));
        let body = r.json();
        let token = body["token"].as_str().unwrap();
        assert!(token.starts_with("hinv_"));
        let expires: chrono::DateTime<chrono::Utc> =
            body["expires_at"].as_str().unwrap().parse().unwrap();
        let days = (expires - chrono::Utc::now()).num_hours() as f64 / 24.0;
        assert!((29.9..=30.1).contains(&days), "{days}");

        let me = t.get_as("/api/v1/auth/me", token).await;
        assert_eq!(me.status, StatusCode::OK);
        let me = me.json();
        assert_eq!(me["username"], "ann");
        assert_eq!(me["role"], "member");
        assert_eq!(me["permission"], "write");
        assert_eq!(me["expires_at"], body["expires_at"]);
    }

    async fn user_names_at_login_are_case_insensitive(t: &TestApp) {
        t.user("Ann", Role::Viewer).await;
        assert_eq!(t.login_attempt("aNN", PASSWORD).await.status, StatusCode::OK);
    }

    async fn unknown_user_and_wrong_password_answer_identically(t: &TestApp) {
        t.user("ann", Role::Member).await;
        let wrong = t.login_attempt("ann", "not the password").await;
        let unknown = t.login_attempt("bob", "not the password").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert_eq!(unknown.status, wrong.status);
        assert_eq!(unknown.body, wrong.body);
        for name in ["content-type", "www-authenticate", "content-length"] {
            assert_eq!(unknown.header(name), wrong.header(name), "{name}");
        }
        assert_eq!(wrong.problem().problem_type, "/problems/unauthorized");
    }

    async fn repeated_failed_logins_are_429_with_retry_after(t: &TestApp) {
        let t = t.with_settings(Settings {
            login_limits: LoginLimits { max_failures: 3, ..LoginLimits::default() },
            ..Settings::default()
        });
        t.user("ann", Role::Member).await;
        for _ in 0..3 {
            assert_eq!(t.login_attempt("ann", "wrong password").await.status, StatusCode::UNAUTHORIZED);
        }
        let r = t.login_attempt("ann", PASSWORD).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        let retry: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
        assert!((1..=300).contains(&retry), "{retry}");
        assert_eq!(r.problem().problem_type, "/problems/rate-limited");
        // The same user name from another address is still limited (per user name) …
        let elsewhere: SocketAddr = ([198, 51, 100, 7], 1234).into();
        assert_eq!(t.login_from(elsewhere, "ANN", PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
        // … while another user from there is not.
        t.user("bob", Role::Member).await;
        assert_eq!(t.login_from(elsewhere, "bob", PASSWORD).await.status, StatusCode::OK);
    }

    async fn one_address_trying_many_user_names_is_429(t: &TestApp) {
        let t = t.with_settings(Settings {
            login_limits: LoginLimits { max_failures: 3, ..LoginLimits::default() },
            ..Settings::default()
        });
        for name in ["a1", "a2", "a3"] {
            assert_eq!(t.login_attempt(name, "guess").await.status, StatusCode::UNAUTHORIZED);
        }
        let r = t.login_attempt("a4", "guess").await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(r.header("retry-after").is_some());
    }

    async fn successful_logins_do_not_count_towards_the_limit(t: &TestApp) {
        let t = t.with_settings(Settings {
            login_limits: LoginLimits { max_failures: 2, ..LoginLimits::default() },
            ..Settings::default()
        });
        t.user("ann", Role::Member).await;
        for _ in 0..4 {
            assert_eq!(t.login_attempt("ann", PASSWORD).await.status, StatusCode::OK);
        }
        assert_eq!(t.login_attempt("ann", "wrong").await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(t.login_attempt("ann", PASSWORD).await.status, StatusCode::OK);
    }

    async fn logout_revokes_the_token(t: &TestApp) {
        let token = t.token_for("ann", Role::Viewer).await;
        let other = {
            let r = t.login_attempt("ann", PASSWORD).await;
            r.json()["token"].as_str().unwrap().to_string()
        };
        let r = t.post_as("/api/v1/auth/logout", &token).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert!(r.body.is_empty());
        let r = t.get_as("/api/v1/auth/me", &token).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
        r.problem();
        // Other sessions of the same user stay.
        assert_eq!(t.get_as("/api/v1/auth/me", &other).await.status, StatusCode::OK);
    }

    async fn a_missing_or_bad_token_is_a_401_problem_with_www_authenticate(t: &TestApp) {
        let r = t.get("/api/v1/auth/me").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"inventory\""));
        r.problem();
        for token in ["hinv_0000000000000000000000000000000000000000000000000000000000000000", "garbage"] {
            let r = t.get_as("/api/v1/auth/me", token).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{token}");
            assert!(r.header("www-authenticate").is_some());
        }
        let r = t
            .send(
                request(Method::GET, "/api/v1/auth/me")
                    .header(header::AUTHORIZATION, "Basic YW5uOnB3")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }

    async fn an_expired_login_token_is_401(t: &TestApp) {
        let token = t.token_for("ann", Role::Member).await;
        t.db()
            .execute_raw_for_tests("UPDATE api_tokens SET expires_at = '2000-01-01 00:00:00'")
            .await
            .unwrap();
        let r = t.get_as("/api/v1/auth/me", &token).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        r.problem();
    }

    async fn a_read_scoped_token_only_reads_whatever_the_role(t: &TestApp) {
        let token = t.scoped_token("ada", Role::Admin, inventory_core::Scope::Read).await;
        let me = t.ok("/api/v1/auth/me", &token).await;
        assert_eq!((me["role"].as_str(), me["scope"].as_str(), me["permission"].as_str()), (Some("admin"), Some("read"), Some("read")));
        assert_eq!(t.get_as("/api/v1/locations", &token).await.status, StatusCode::OK);
        let r = t.post_body("/api/v1/locations", &token, &json!({"name": "My House", "location_type": "HOUSE"})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(r.problem().problem_type, "/problems/forbidden");
        assert_eq!(t.get_as("/api/v1/users", &token).await.status, StatusCode::FORBIDDEN);
    }

    async fn api_tokens_made_by_the_cli_authenticate_and_do_not_expire(t: &TestApp) {
        t.user("ann", Role::Admin).await;
        let created = t.db().create_token("ann", Some("backup script")).await.unwrap();
        let r = t.get_as("/api/v1/auth/me", &created.secret).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["permission"], "admin");
        assert_eq!(r.json()["expires_at"], Value::Null);
        t.db().revoke_token(created.token.id).await.unwrap();
        assert_eq!(t.get_as("/api/v1/auth/me", &created.secret).await.status, StatusCode::UNAUTHORIZED);
    }

    async fn permissions_follow_the_role(t: &TestApp) {
        let guarded = guarded_routes(AppState::new(t.db().clone(), Settings::default()));
        let guarded = TestApp { test_db: t.test_db.clone(), router: guarded };
        let viewer = t.token_for("vera", Role::Viewer).await;
        let member = t.token_for("mo", Role::Member).await;
        let admin = t.token_for("ada", Role::Admin).await;
        let expect = [
            (&viewer, [StatusCode::OK, StatusCode::FORBIDDEN, StatusCode::FORBIDDEN]),
            (&member, [StatusCode::OK, StatusCode::OK, StatusCode::FORBIDDEN]),
            (&admin, [StatusCode::OK, StatusCode::OK, StatusCode::OK]),
        ];
        for (token, statuses) in expect {
            for (path, status) in ["/read", "/write", "/admin"].into_iter().zip(statuses) {
                let method = if path == "/read" { Method::GET } else { Method::POST };
                let r = guarded
                    .send(
                        request(method, path)
                            .header(header::AUTHORIZATION, format!("Bearer {token}"))
                            .body(Body::empty())
                            .unwrap(),
                    )
                    .await;
                assert_eq!(r.status, status, "{path}");
                if status == StatusCode::FORBIDDEN {
                    assert_eq!(r.problem().problem_type, "/problems/forbidden");
                }
            }
        }
        let r = guarded.send(request(Method::POST, "/write").body(Body::empty()).unwrap()).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }

    async fn a_viewer_reads_its_own_permission(t: &TestApp) {
        let token = t.token_for("vera", Role::Viewer).await;
        let me = t.get_as("/api/v1/auth/me", &token).await.json();
        assert_eq!(me["role"], "viewer");
        assert_eq!(me["scope"], "write");
        assert_eq!(me["permission"], "read");
    }

    async fn bad_path_and_query_parameters_are_400_problems(t: &TestApp) {
        let params = TestApp {
            test_db: t.test_db.clone(),
            router: parameter_routes(AppState::new(t.db().clone(), Settings::default())),
        };
        let r = params.get("/things/not-a-number").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.problem().problem_type, "/problems/bad-request");
        let r = params.get("/things/99999999999999999999999").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = params.get("/things?limit=many").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        r.problem();
        assert_eq!(params.get("/things/7").await.body, b"7");
        assert_eq!(params.get("/things?limit=5").await.body, b"5");
    }

    async fn the_request_id_is_echoed_or_made_up(t: &TestApp) {
        let r = t
            .send(request(Method::GET, "/healthz").header("x-request-id", "abc-123").body(Body::empty()).unwrap())
            .await;
        assert_eq!(r.header("x-request-id"), Some("abc-123"));
        let made_up = t.get("/healthz").await;
        let id = made_up.header("x-request-id").expect("a request id");
        assert_eq!(id.len(), 16);
        let r = t
            .send(request(Method::GET, "/nope").header("x-request-id", "<bad id>").body(Body::empty()).unwrap())
            .await;
        let id = r.header("x-request-id").unwrap();
        assert_ne!(id, "<bad id>");
        assert_eq!(id.len(), 16);
    }

    async fn every_response_carries_the_security_headers(t: &TestApp) {
        for path in ["/healthz", "/nope", "/api/v1/auth/me", "/api/v1/openapi.json", "/docs/"] {
            let r = t.get(path).await;
            assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{path}");
            assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{path}");
            assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
            let csp = r.header("content-security-policy").unwrap();
            assert!(csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
            assert_eq!(r.header("strict-transport-security"), None);
        }
        let https = t.with_settings(Settings {
            public_url: Some("https://inventory.example.org".parse().unwrap()),
            ..Settings::default()
        });
        assert!(https.get("/healthz").await.header("strict-transport-security").is_some());
    }

    async fn cors_answers_only_configured_origins(t: &TestApp) {
        let r = preflight(t, "https://app.example.org").await;
        assert_eq!(r.header("access-control-allow-origin"), None);

        let with_cors = t.with_settings(Settings {
            cors_origins: vec!["https://app.example.org".parse().unwrap()],
            ..Settings::default()
        });
        let r = preflight(&with_cors, "https://app.example.org").await;
        assert_eq!(r.header("access-control-allow-origin"), Some("https://app.example.org"));
        assert!(r.header("access-control-allow-headers").unwrap().contains("authorization"));
        let r = preflight(&with_cors, "https://evil.example").await;
        assert_eq!(r.header("access-control-allow-origin"), None);
        let r = with_cors
            .send(request(Method::GET, "/healthz").header("origin", "https://app.example.org").body(Body::empty()).unwrap())
            .await;
        assert_eq!(r.header("access-control-allow-origin"), Some("https://app.example.org"));
    }

    async fn the_docs_are_served_from_the_binary(t: &TestApp) {
        let r = t.get("/docs").await;
        assert!(r.status.is_redirection());
        let r = t.get("/docs/").await;
        assert_eq!(r.status, StatusCode::OK);
        let html = String::from_utf8_lossy(&r.body);
        assert!(html.contains("swagger-ui"), "{html}");
        assert!(!html.contains("https://"), "the page loads nothing from elsewhere");
        let r = t.get("/docs/swagger-initializer.js").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(String::from_utf8_lossy(&r.body).contains("/api/v1/openapi.json"));
        assert_eq!(t.get("/docs/swagger-ui-bundle.js").await.status, StatusCode::OK);
    }

}

/// A CORS preflight for `GET /api/v1/auth/me` from `origin`.
async fn preflight(app: &TestApp, origin: &str) -> crate::common::TestResponse {
    app.send(
        request(Method::OPTIONS, "/api/v1/auth/me")
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// A router whose routes need each permission (no inventory route exists yet to need them).
fn guarded_routes(state: AppState) -> Router {
    Router::new()
        .route("/read", get(|Reader(_): Reader| async { "read" }))
        .route("/write", post(|Writer(_): Writer| async { "written" }))
        .route("/admin", post(|Admin(_): Admin| async { "administered" }))
        .with_state(state)
}

#[derive(serde::Deserialize)]
struct ListQuery {
    limit: u32,
}

/// A router with a typed path parameter and a typed query string.
fn parameter_routes(state: AppState) -> Router {
    Router::new()
        .route(
            "/things/{id}",
            get(|Path(id): Path<i64>| async move { id.to_string() }),
        )
        .route(
            "/things",
            get(|Query(q): Query<ListQuery>| async move { q.limit.to_string() }),
        )
        .with_state(state)
}

/// readyz on a database whose schema was never migrated: 503, on both backends.
async fn readyz_is_503_without_the_schema(test_db: inventory_db::testing::TestDb) {
    let t = TestApp::new(test_db);
    let r = t.get("/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    let p = r.problem();
    assert_eq!(p.problem_type, "/problems/unavailable");
    assert!(p.detail.contains("schema"), "{}", p.detail);
    // The process itself is fine.
    assert_eq!(t.get("/healthz").await.status, StatusCode::OK);
}

mod readyz_without_schema {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        readyz_is_503_without_the_schema(inventory_db::testing::sqlite_with(false).await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        readyz_is_503_without_the_schema(inventory_db::testing::postgres_with(false).await).await;
    }
}
