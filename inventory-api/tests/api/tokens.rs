//! `/api/v1/tokens`: everyone's own tokens, admins anyone's; scopes and expiry.

use axum::http::{Method, StatusCode};
use inventory_core::{Role, Scope};
use serde_json::{json, Value};

use crate::common::TestApp;

const TOKENS: &str = "/api/v1/tokens";

api_tests! {
    async fn a_label_over_255_characters_is_a_422_problem_on_every_backend(t: &TestApp) {
        // PostgreSQL's VARCHAR(255) refused it with a 500; SQLite stored it.
        let token = t.token("ann", Role::Member).await;
        let r = t.post_body(TOKENS, &token, &json!({"label": "é".repeat(256)})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.problem().errors[0].field, "label");
        let made = t.create(TOKENS, &token, &json!({"label": "é".repeat(255)})).await;
        assert_eq!(made["label"].as_str().map(|l| l.chars().count()), Some(255));
    }

    async fn a_created_token_shows_its_secret_once_and_authenticates(t: &TestApp) {
        let token = t.token("mo", Role::Member).await;
        let r = t.post_body(TOKENS, &token, &json!({"label": "backup script", "scope": "read"})).await;
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(r.header("cache-control"), Some("no-store"));
        let created = r.json();
        let id = created["id"].as_i64().unwrap();
        assert_eq!(r.header("location"), Some(format!("{TOKENS}/{id}").as_str()));
        let secret = created["secret"].as_str().unwrap().to_string();
        assert!(secret.starts_with("hinv_") && secret.starts_with(created["prefix"].as_str().unwrap()));
        assert_eq!((created["scope"].as_str(), created["label"].as_str()), (Some("read"), Some("backup script")));
        assert_eq!(created["expires_at"], Value::Null);
        let me = t.ok("/api/v1/auth/me", &secret).await;
        assert_eq!((me["scope"].as_str(), me["permission"].as_str()), (Some("read"), Some("read")));
        let list = t.get_as(TOKENS, &token).await;
        assert_eq!(list.json()["items"].as_array().unwrap().len(), 2);
        assert!(!String::from_utf8_lossy(&list.body).contains(&secret), "secrets are never listed");
        let one = t.get_as(&format!("{TOKENS}/{id}"), &token).await;
        assert_eq!(one.status, StatusCode::OK);
        assert!(one.json().get("secret").is_none());
        assert_eq!(one.header("etag"), r.header("etag"));
        let one_json = one.json();
        let mut keys: Vec<&str> = one_json.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["created_at", "expires_at", "id", "label", "last_used_at", "prefix", "revoked_at", "scope", "user_id"]);
    }

    async fn a_token_may_expire(t: &TestApp) {
        let token = t.token("mo", Role::Member).await;
        let created = t.create(TOKENS, &token, &json!({"expires_in_days": 7})).await;
        // Stored like every timestamp: microseconds, on both backends.
        let fraction = created["expires_at"].as_str().unwrap().split('.').nth(1).unwrap_or("Z");
        assert!(fraction.len() <= 7, "{}", created["expires_at"]);
        assert_eq!(t.ok(&format!("{TOKENS}/{}", created["id"]), &token).await["expires_at"], created["expires_at"]);
        let expires: chrono::DateTime<chrono::Utc> = created["expires_at"].as_str().unwrap().parse().unwrap();
        let days = (expires - chrono::Utc::now()).num_minutes() as f64 / 1440.0;
        assert!((6.99..=7.0).contains(&days), "{days}");
        let secret = created["secret"].as_str().unwrap();
        let shown: chrono::DateTime<chrono::Utc> =
            t.ok("/api/v1/auth/me", secret).await["expires_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(shown.timestamp(), expires.timestamp());
        t.db()
            .execute_raw_for_tests(&format!("UPDATE api_tokens SET expires_at = '2000-01-01 00:00:00' WHERE id = {}", created["id"]))
            .await
            .unwrap();
        assert_eq!(t.get_as("/api/v1/auth/me", secret).await.status, StatusCode::UNAUTHORIZED);
        for days in [0, 3651] {
            let r = t.post_body(TOKENS, &token, &json!({"expires_in_days": days})).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{days}");
            assert_eq!(r.problem().errors[0].field, "expires_in_days");
        }
        for body in [json!({"scope": "admin"}), json!({"expires_in_days": -1}), json!({"expires_at": "2030-01-01T00:00:00Z"}), json!({"secret": "mine"})] {
            assert_eq!(t.post_body(TOKENS, &token, &body).await.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        }
    }

    async fn a_read_token_cannot_create_or_revoke_tokens(t: &TestApp) {
        let read = t.scoped_token("vera", Role::Admin, Scope::Read).await;
        let r = t.post_body(TOKENS, &read, &json!({"scope": "write"})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        r.problem();
        let id = t.ok(TOKENS, &read).await["items"][0]["id"].as_i64().unwrap();
        assert_eq!(t.delete_as(&format!("{TOKENS}/{id}"), &read).await.status, StatusCode::FORBIDDEN);
        assert_eq!(t.get_as("/api/v1/auth/me", &read).await.status, StatusCode::OK);
        // A viewer with a write-scoped token manages their own tokens (still only reading).
        let viewer = t.token("val", Role::Viewer).await;
        let created = t.create(TOKENS, &viewer, &json!({})).await;
        assert_eq!(t.ok("/api/v1/auth/me", created["secret"].as_str().unwrap()).await["permission"], "read");
    }

    async fn users_see_and_revoke_only_their_own_tokens(t: &TestApp) {
        let mo = t.token("mo", Role::Member).await;
        let vi = t.token("vi", Role::Member).await;
        let vis = t.ok(TOKENS, &vi).await["items"][0].clone();
        let vis_id = vis["id"].as_i64().unwrap();
        assert_eq!(t.get_as(&format!("{TOKENS}/{vis_id}"), &mo).await.status, StatusCode::NOT_FOUND);
        assert_eq!(t.delete_as(&format!("{TOKENS}/{vis_id}"), &mo).await.status, StatusCode::NOT_FOUND);
        assert_eq!(t.get_as(&format!("{TOKENS}?user_id={}", vis["user_id"]), &mo).await.status, StatusCode::FORBIDDEN);
        assert_eq!(t.get_as(&format!("{TOKENS}?all=true"), &mo).await.status, StatusCode::FORBIDDEN);
        let r = t.post_body(TOKENS, &mo, &json!({"user_id": vis["user_id"]})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(t.get_as("/api/v1/auth/me", &vi).await.status, StatusCode::OK);
        // Revoking one's own token.
        let extra = t.create(TOKENS, &mo, &json!({"label": "spare"})).await;
        let r = t.delete_as(&format!("{TOKENS}/{}", extra["id"]), &mo).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(t.get_as("/api/v1/auth/me", extra["secret"].as_str().unwrap()).await.status, StatusCode::UNAUTHORIZED);
        let listed = t.ok(&format!("{TOKENS}/{}", extra["id"]), &mo).await;
        assert!(listed["revoked_at"].is_string());
        assert_eq!(t.delete_as(&format!("{TOKENS}/424242"), &mo).await.status, StatusCode::NOT_FOUND);
        assert_eq!(t.get_as(&format!("{TOKENS}/abc"), &mo).await.status, StatusCode::BAD_REQUEST);
    }

    async fn admins_list_create_and_revoke_anyones_tokens(t: &TestApp) {
        let admin = t.token("ada", Role::Admin).await;
        let mo = t.token("mo", Role::Member).await;
        let mo_id = t.ok("/api/v1/auth/me", &mo).await["id"].as_i64().unwrap();
        assert_eq!(t.ok(TOKENS, &admin).await["items"].as_array().unwrap().len(), 1);
        assert_eq!(t.ok(&format!("{TOKENS}?all=true"), &admin).await["items"].as_array().unwrap().len(), 2);
        let mos = t.ok(&format!("{TOKENS}?user_id={mo_id}"), &admin).await;
        assert_eq!(mos["items"].as_array().unwrap().len(), 1);
        assert_eq!(t.get_as(&format!("{TOKENS}?user_id={mo_id}&all=true"), &admin).await.status, StatusCode::BAD_REQUEST);
        let made = t.create(TOKENS, &admin, &json!({"user_id": mo_id, "label": "for mo"})).await;
        assert_eq!(made["user_id"], mo_id);
        assert_eq!(t.ok("/api/v1/auth/me", made["secret"].as_str().unwrap()).await["username"], "mo");
        assert_eq!(t.post_body(TOKENS, &admin, &json!({"user_id": 424242})).await.status, StatusCode::NOT_FOUND);
        let r = t.delete_as(&format!("{TOKENS}/{}", mos["items"][0]["id"]), &admin).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(t.get_as("/api/v1/auth/me", &mo).await.status, StatusCode::UNAUTHORIZED);
    }

    async fn revoking_honours_if_match(t: &TestApp) {
        let mo = t.token("mo", Role::Member).await;
        let created = t.post_body(TOKENS, &mo, &json!({})).await;
        let etag = created.header("etag").unwrap().to_string();
        let id = created.json()["id"].as_i64().unwrap();
        let path = format!("{TOKENS}/{id}");
        let r = t.call(Method::DELETE, &path, &mo, None, &[("if-match", "\"1-0\"")]).await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
        let r = t.call(Method::DELETE, &path, &mo, None, &[("if-match", &etag)]).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        // Revoked: a new version.
        let r = t.call(Method::DELETE, &path, &mo, None, &[("if-match", &etag)]).await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
        assert_ne!(t.get_as(&path, &mo).await.header("etag"), Some(etag.as_str()));
    }
}
