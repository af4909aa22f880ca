//! Signing in and out: the form, the session cookie, redirects, rate limits, logout.

use std::time::Duration;

use axum::http::StatusCode;
use inventory_api::{LoginLimits, Settings};
use inventory_core::Role;

use crate::browser::{assert_redirect, csrf_of};
use crate::common::{TestApp, PASSWORD};

api_tests! {
    async fn the_login_form_has_username_and_password_fields(t: &TestApp) {
        let r = t.page("/login").await;
        assert_eq!(r.status, StatusCode::OK);
        let html = r.text();
        assert!(html.contains(r#"<label for="username">Username</label>"#), "{html}");
        assert!(html.contains(r#"<label for="password">Password</label>"#));
        assert!(html.contains(r#"type="password""#));
        let pre = r.set_cookies().into_iter().find(|c| c.starts_with("hinv_login=")).unwrap();
        assert!(pre.contains("HttpOnly") && pre.contains("SameSite=Strict"), "{pre}");
        assert!(!csrf_of(&html).is_empty());
    }

    async fn a_page_without_a_session_redirects_to_login_and_back(t: &TestApp) {
        assert_redirect(&t.page("/").await, "/login");
        let r = t.page("/locations/5?below=1").await;
        assert_redirect(&r, "/login?next=/locations/5%3Fbelow%3D1");
        t.user("ann", Role::Member).await;
        let r = t.web_login("ann", PASSWORD, "/locations/5?below=1").await;
        assert_redirect(&r, "/locations/5?below=1");
    }

    async fn login_sets_an_http_only_same_site_session_cookie(t: &TestApp) {
        t.user("ann", Role::Member).await;
        let r = t.web_login("ann", PASSWORD, "/browse").await;
        assert_redirect(&r, "/browse");
        let cookie = r.set_cookies().into_iter().find(|c| c.starts_with("hinv_session=")).unwrap();
        for part in ["HttpOnly", "SameSite=Lax", "Path=/", &format!("Max-Age={}", 30 * 86400)] {
            assert!(cookie.contains(part), "{part} missing: {cookie}");
        }
        assert!(!cookie.contains("Secure"), "plain http: {cookie}");
        let secret = r.cookie_value("hinv_session").unwrap();
        assert!(secret.starts_with("hinv_"));
        // The session is a login token of the user: it authenticates on the API too.
        let me = t.ok("/api/v1/auth/me", &secret).await;
        assert_eq!(me["username"], "ann");
    }

    async fn over_https_the_cookie_is_secure_and_host_prefixed(t: &TestApp) {
        let https = t.with_settings(Settings {
            public_url: Some("https://inventory.test".parse().unwrap()),
            ..Settings::default()
        });
        https.user("ann", Role::Member).await;
        // The origin check compares with the public URL, which the helper does not send:
        // log in with the https origin by hand.
        let form = https.page("/login").await;
        let pre = form.cookie_value("hinv_login").unwrap();
        assert!(form.set_cookies()[0].contains("Secure"));
        let body = crate::browser::encode(&[
            ("_csrf", &csrf_of(&form.text())),
            ("username", "ann"),
            ("password", PASSWORD),
            ("next", "/"),
        ]);
        let r = https
            .send(
                crate::common::request(axum::http::Method::POST, "/login")
                    .header("host", "inventory.test")
                    .header("origin", "https://inventory.test")
                    .header("cookie", format!("hinv_login={pre}"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(axum::body::Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_redirect(&r, "/");
        let cookie = r.set_cookies().into_iter().find(|c| c.starts_with("__Host-hinv_session=")).unwrap();
        assert!(cookie.contains("; Secure") && cookie.contains("Path=/"), "{cookie}");
    }

    async fn a_wrong_password_shows_the_form_again_with_the_name_kept(t: &TestApp) {
        t.user("ann", Role::Member).await;
        let r = t.web_login("ann", "not the password", "/").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let html = r.text();
        assert!(html.contains("Unknown user name or wrong password."), "{html}");
        assert!(html.contains(r#"value="ann""#));
        assert!(r.cookie_value("hinv_session").is_none());
        // An unknown user gets the same answer.
        let r = t.web_login("nobody", "not the password", "/").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.text().contains("Unknown user name or wrong password."));
    }

    async fn a_login_post_without_its_form_cookie_is_refused(t: &TestApp) {
        t.user("ann", Role::Member).await;
        let form = t.page("/login").await;
        let body = crate::browser::encode(&[
            ("_csrf", &csrf_of(&form.text())),
            ("username", "ann"),
            ("password", PASSWORD),
        ]);
        let r = t
            .send(
                crate::common::request(axum::http::Method::POST, "/login")
                    .header("host", "inventory.test")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(axum::body::Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.cookie_value("hinv_session").is_none());
    }

    async fn after_login_only_same_site_paths_are_followed(t: &TestApp) {
        t.user("ann", Role::Member).await;
        for next in ["https://evil.example/", "//evil.example/x", "/\\evil.example"] {
            let r = t.web_login("ann", PASSWORD, next).await;
            assert_redirect(&r, "/");
            assert_eq!(r.location(), "/", "{next}");
        }
    }

    async fn web_and_api_logins_share_the_rate_limit(t: &TestApp) {
        let t = t.with_settings(Settings {
            login_limits: LoginLimits {
                max_failures: 3,
                window: Duration::from_secs(300),
                capacity: 100,
            },
            ..Settings::default()
        });
        t.user("ann", Role::Member).await;
        for _ in 0..3 {
            assert_eq!(t.login_attempt("ann", "wrong password").await.status, 401);
        }
        let r = t.web_login("ann", PASSWORD, "/").await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(r.header("retry-after").is_some());
        assert!(r.text().contains("Too many failed logins"));
        assert!(r.cookie_value("hinv_session").is_none());
    }

    async fn logout_revokes_the_session(t: &TestApp) {
        let b = t.browser("ann", Role::Admin).await;
        let world = crate::matrix::world(t).await;
        let routes = crate::matrix::routes_for(t, &world, "after-logout", "ada", "walk-in").await;
        let r = b.post("/logout", &[]).await;
        assert_redirect(&r, "/login");
        let cleared = r.set_cookies().into_iter().find(|c| c.starts_with("hinv_session=")).unwrap();
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
        // The old cookie, kept by a browser that ignores the clearing, is nobody's: every
        // page and every form answers it as it answers a visitor without a session (the
        // web matrix's anonymous row), and nothing is written.
        let before = crate::security::snapshot(t).await;
        let mut tried = 0;
        for route in routes.iter().filter(|r| !matches!(r.send, crate::matrix::Via::Login(_))) {
            crate::matrix::check(t, &b, "anonymous", route).await;
            tried += 1;
        }
        assert_eq!(tried, routes.len() - 1);
        assert_eq!(crate::security::snapshot(t).await, before, "nothing was written");
        // The session was a token of the API too: it no longer reads or writes there.
        assert_eq!(t.get_as("/api/v1/auth/me", b.secret()).await.status, 401);
        assert_eq!(t.get_as("/api/v1/locations", b.secret()).await.status, 401);
        let shed = serde_json::json!({"name": "Shed", "location_type": "HOUSE"});
        assert_eq!(t.post_body("/api/v1/locations", b.secret(), &shed).await.status, 401);
    }

    async fn a_cookie_set_before_login_never_becomes_the_session(t: &TestApp) {
        t.user("ann", Role::Member).await;
        // A value planted in the browser (by a shared computer, or a sibling site), in the
        // shape of our cookies.
        let planted = format!("hinv_{}", "5a".repeat(32));
        let r = crate::matrix::login_post(t, Some(&format!("hinv_session={planted}")), "ann").await;
        assert_redirect(&r, "/");
        let issued = r.cookie_value("hinv_session").unwrap();
        assert_ne!(issued, planted, "login issues a fresh session id");
        assert_eq!(t.ok("/api/v1/auth/me", &issued).await["username"], "ann");
        let stale = crate::browser::Browser { t, cookie: format!("hinv_session={planted}"), csrf: String::new() };
        assert_redirect(&stale.get("/").await, "/login");
        assert_eq!(t.get_as("/api/v1/auth/me", &planted).await.status, 401);

        // A live session of another account, planted: signing in replaces it, and the
        // planted session stays its owner's, gaining nothing.
        let mallory = t.browser("mallory", Role::Viewer).await;
        let r = crate::matrix::login_post(t, Some(&mallory.cookie), "ann").await;
        assert_redirect(&r, "/");
        let issued = r.cookie_value("hinv_session").unwrap();
        assert_ne!(issued, mallory.secret());
        assert_eq!(t.ok("/api/v1/auth/me", &issued).await["username"], "ann");
        assert_eq!(t.ok("/api/v1/auth/me", mallory.secret()).await["username"], "mallory");
        assert_eq!(mallory.get("/users").await.status, StatusCode::FORBIDDEN);
    }

    async fn logout_needs_the_csrf_token(t: &TestApp) {
        let b = t.browser("ann", Role::Member).await;
        let r = b.post_raw("/logout", "", &[("origin", crate::browser::ORIGIN)]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(b.get("/").await.status, 200, "still signed in");
    }

    async fn signed_in_visitors_skip_the_login_form(t: &TestApp) {
        let b = t.browser("ann", Role::Member).await;
        assert_redirect(&b.get("/login?next=/browse").await, "/browse");
    }
}
