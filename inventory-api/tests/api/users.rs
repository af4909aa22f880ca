//! `/api/v1/users` (admins only): every route and its error cases.

use axum::http::StatusCode;
use inventory_core::Role;
use serde_json::{json, Value};

use crate::common::{TestApp, PASSWORD};

const USERS: &str = "/api/v1/users";

api_tests! {
    async fn admins_create_list_read_change_and_delete_users(t: &TestApp) {
        let admin = t.token("ada", Role::Admin).await;
        let r = t.post_body(USERS, &admin, &json!({"username": "Ben", "password": "a long password", "role": "member"})).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let ben = r.json();
        let id = ben["id"].as_i64().unwrap();
        assert_eq!(r.header("location"), Some(format!("{USERS}/{id}").as_str()));
        let mut keys: Vec<&str> = ben.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["created_at", "id", "role", "updated_at", "username"]);
        assert!(!r.body.windows(8).any(|w| w == b"argon2id"), "no hash in the response");
        assert_eq!(t.login_attempt("ben", "a long password").await.status, StatusCode::OK);
        let list = t.ok(USERS, &admin).await;
        let mut names: Vec<&str> = list["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        names.sort_unstable();
        assert_eq!(names, ["Ben", "ada"]);
        let r = t.get_as(&format!("{USERS}/{id}"), &admin).await;
        assert_eq!(r.json(), ben);
        assert!(r.header("etag").is_some());
        let r = t.patch_body(&format!("{USERS}/{id}"), &admin, &json!({"role": "viewer", "password": "another password"})).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["role"], "viewer");
        assert_eq!(t.login_attempt("ben", "a long password").await.status, StatusCode::UNAUTHORIZED);
        let session = t.login_attempt("ben", "another password").await.json()["token"].as_str().unwrap().to_string();
        assert_eq!(t.ok("/api/v1/auth/me", &session).await["permission"], "read");
        let r = t.delete_as(&format!("{USERS}/{id}"), &admin).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        // Their tokens went with them.
        assert_eq!(t.get_as("/api/v1/auth/me", &session).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(t.get_as(&format!("{USERS}/{id}"), &admin).await.status, StatusCode::NOT_FOUND);
    }

    async fn only_admins_manage_users(t: &TestApp) {
        let member = t.token("mo", Role::Member).await;
        let viewer = t.token("vera", Role::Viewer).await;
        let admin = t.token("ada", Role::Admin).await;
        let ada = t.ok(USERS, &admin).await["items"][0]["id"].as_i64().unwrap();
        for token in [&member, &viewer] {
            assert_eq!(t.get_as(USERS, token).await.status, StatusCode::FORBIDDEN);
            assert_eq!(t.get_as(&format!("{USERS}/{ada}"), token).await.status, StatusCode::FORBIDDEN);
            let r = t.post_body(USERS, token, &json!({"username": "eve", "password": "a long password", "role": "admin"})).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN);
            assert_eq!(t.patch_body(&format!("{USERS}/{ada}"), token, &json!({"role": "viewer"})).await.status, StatusCode::FORBIDDEN);
            assert_eq!(t.delete_as(&format!("{USERS}/{ada}"), token).await.status, StatusCode::FORBIDDEN);
        }
        assert_eq!(t.get(USERS).await.status, StatusCode::UNAUTHORIZED);
    }

    async fn bad_users_are_refused_naming_the_field(t: &TestApp) {
        let admin = t.token("ada", Role::Admin).await;
        for (body, status, field) in [
            (json!({"username": "ADA", "password": "a long password", "role": "member"}), 409, None),
            (json!({"username": "bo b", "password": "a long password", "role": "member"}), 422, Some("username")),
            (json!({"username": "bob", "password": "short", "role": "member"}), 422, Some("password")),
            (json!({"username": "bob", "password": "a long password", "role": "boss"}), 422, Some("role")),
            (json!({"username": "bob", "password": "a long password"}), 422, Some("role")),
            (json!({"username": "bob", "password": "a long password", "role": "member", "id": 1}), 422, Some("id")),
        ] {
            let r = t.post_body(USERS, &admin, &body).await;
            assert_eq!(r.status.as_u16(), status, "{body}");
            let p = r.problem();
            if let Some(field) = field {
                assert_eq!(p.errors[0].field, field, "{body}");
            }
            assert!(!String::from_utf8_lossy(&r.body).contains("a long password"));
        }
        let ada = t.ok(USERS, &admin).await["items"][0]["id"].as_i64().unwrap();
        for body in [json!({"password": "short"}), json!({"role": null}), json!({"username": "x"})] {
            let r = t.patch_body(&format!("{USERS}/{ada}"), &admin, &body).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        }
        assert_eq!(t.patch_body(&format!("{USERS}/424242"), &admin, &json!({"role": "member"})).await.status, StatusCode::NOT_FOUND);
        assert_eq!(t.delete_as(&format!("{USERS}/424242"), &admin).await.status, StatusCode::NOT_FOUND);
    }

    async fn an_admin_keeps_their_own_admin_role_and_account(t: &TestApp) {
        let admin = t.token("ada", Role::Admin).await;
        let ada = t.ok(USERS, &admin).await["items"][0]["id"].as_i64().unwrap();
        let r = t.patch_body(&format!("{USERS}/{ada}"), &admin, &json!({"role": "member"})).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        r.problem();
        let r = t.delete_as(&format!("{USERS}/{ada}"), &admin).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        // Changing one's own password is fine.
        let r = t.patch_body(&format!("{USERS}/{ada}"), &admin, &json!({"password": "a new long password", "role": "admin"})).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(t.login_attempt("ada", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(t.ok(USERS, &admin).await["items"][0]["role"], Value::String("admin".into()));
    }
}
