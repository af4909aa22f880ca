//! Optimistic concurrency (`ETag`, `If-Match`, 412) and concurrent writers.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use inventory_core::Role;
use serde_json::{json, Value};

use crate::common::TestApp;

api_tests! {
    async fn two_clients_editing_one_item_cannot_lose_an_update(t: &TestApp) {
        let (ann, home) = t.home().await;
        let bob = t.token("bob", Role::Member).await;
        let id = t.item(&ann, "Drill", home.toolbox, json!({"quantity": 1})).await;
        let path = format!("/api/v1/items/{id}");
        // Both read the same version.
        let seen_by_ann = t.get_as(&path, &ann).await.header("etag").unwrap().to_string();
        let seen_by_bob = t.get_as(&path, &bob).await.header("etag").unwrap().to_string();
        assert_eq!(seen_by_ann, seen_by_bob);
        // Ann writes first.
        let r = t.call(Method::PATCH, &path, &ann, Some(&json!({"quantity": 2})), &[("if-match", &seen_by_ann)]).await;
        assert_eq!(r.status, StatusCode::OK);
        let after_ann = r.header("etag").unwrap().to_string();
        assert_ne!(after_ann, seen_by_ann);
        // Bob's write, based on what he saw, is refused and changes nothing.
        let r = t.call(Method::PATCH, &path, &bob, Some(&json!({"notes": "mine"})), &[("if-match", &seen_by_bob)]).await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
        let p = r.problem();
        assert_eq!(p.problem_type, "/problems/precondition-failed");
        assert!(p.detail.contains("changed since"), "{}", p.detail);
        let now = t.get_as(&path, &bob).await;
        assert_eq!(now.json()["notes"], Value::Null);
        assert_eq!(now.json()["quantity"], 2);
        // He reads again and writes on the current version.
        let current = now.header("etag").unwrap().to_string();
        assert_eq!(current, after_ann);
        let r = t.call(Method::PATCH, &path, &bob, Some(&json!({"notes": "mine"})), &[("if-match", &current)]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!((r.json()["quantity"].clone(), r.json()["notes"].clone()), (json!(2), json!("mine")));
    }

    async fn if_match_guards_every_write_of_every_resource(t: &TestApp) {
        let (token, home) = t.home().await;
        let admin = t.token("ada", Role::Admin).await;
        let item = t.item(&token, "Saw", home.garage, json!({})).await;
        let category = t.create("/api/v1/categories", &token, &json!({"name": "Tools"})).await["id"].as_i64().unwrap();
        let user = t.create("/api/v1/users", &admin, &json!({"username": "cy", "password": "a long password", "role": "member"})).await["id"].as_i64().unwrap();
        let stale = [("if-match", "\"1-1\"")];
        let writes: Vec<(Method, String, Option<Value>, &str)> = vec![
            (Method::PATCH, format!("/api/v1/items/{item}"), Some(json!({"quantity": 4})), &token),
            (Method::POST, format!("/api/v1/items/{item}/move"), Some(json!({"location_id": home.house})), &token),
            (Method::DELETE, format!("/api/v1/items/{item}"), None, &token),
            (Method::PATCH, format!("/api/v1/categories/{category}"), Some(json!({"name": "Hand tools"})), &token),
            (Method::DELETE, format!("/api/v1/categories/{category}"), None, &token),
            (Method::PATCH, format!("/api/v1/users/{user}"), Some(json!({"role": "viewer"})), &admin),
            (Method::DELETE, format!("/api/v1/users/{user}"), None, &admin),
            (Method::PATCH, format!("/api/v1/locations/{}", home.kitchen), Some(json!({"name": "Cuisine"})), &token),
            (Method::POST, format!("/api/v1/locations/{}/move", home.toolbox), Some(json!({"parent_id": home.kitchen})), &token),
            (Method::DELETE, format!("/api/v1/locations/{}", home.kitchen), None, &token),
        ];
        for (method, path, body, who) in &writes {
            let r = t.call(method.clone(), path, who, body.as_ref(), &stale).await;
            assert_eq!(r.status, StatusCode::PRECONDITION_FAILED, "{method} {path}");
            r.problem();
        }
        // Nothing changed: every write again, with the current version, succeeds.
        for (method, path, body, who) in &writes {
            let resource = path.trim_end_matches("/move");
            let current = t.get_as(resource, who).await;
            assert_eq!(current.status, StatusCode::OK, "{resource} is unchanged");
            let etag = current.header("etag").unwrap().to_string();
            let r = t.call(method.clone(), path, who, body.as_ref(), &[("if-match", &etag)]).await;
            assert!(r.status.is_success(), "{method} {path}: {}", String::from_utf8_lossy(&r.body));
        }
    }

    async fn if_match_star_weak_tags_and_malformed_headers(t: &TestApp) {
        let (token, home) = t.home().await;
        let path = format!("/api/v1/locations/{}", home.kitchen);
        let etag = t.get_as(&path, &token).await.header("etag").unwrap().to_string();
        let patch = json!({"description": "x"});
        let weak = format!("W/{etag}");
        let r = t.call(Method::PATCH, &path, &token, Some(&patch), &[("if-match", &weak)]).await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED, "weak tags never match");
        let list = format!("\"0-0\", {etag}");
        let r = t.call(Method::PATCH, &path, &token, Some(&patch), &[("if-match", &list)]).await;
        assert_eq!(r.status, StatusCode::OK);
        let r = t.call(Method::PATCH, &path, &token, Some(&json!({"description": "y"})), &[("if-match", "*")]).await;
        assert_eq!(r.status, StatusCode::OK);
        for bad in ["12-5", "\"open", "*, \"a\""] {
            let r = t.call(Method::PATCH, &path, &token, Some(&patch), &[("if-match", bad)]).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
            r.problem();
        }
        // A missing resource is 404 whatever the precondition.
        let r = t.call(Method::PATCH, "/api/v1/locations/424242", &token, Some(&patch), &[("if-match", "*")]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }

    async fn concurrent_opposing_moves_never_both_succeed(t: &TestApp) {
        let (token, home) = t.home().await;
        let token = Arc::new(token);
        let loc = |name: &str| json!({"name": name, "location_type": "CONTAINER", "parent_id": home.garage});
        let a = t.create("/api/v1/locations", &token, &loc("A")).await["id"].as_i64().unwrap();
        let b = t.create("/api/v1/locations", &token, &loc("B")).await["id"].as_i64().unwrap();
        let app = Arc::new(TestApp { test_db: t.test_db.clone(), router: t.router.clone() });
        for _ in 0..10 {
            let moves = [(a, b), (b, a)].map(|(moved, under)| {
                let (app, token) = (app.clone(), token.clone());
                tokio::spawn(async move {
                    app.post_body(&format!("/api/v1/locations/{moved}/move"), &token, &json!({"parent_id": under}))
                        .await
                        .status
                })
            });
            let mut statuses = Vec::new();
            for m in moves {
                statuses.push(m.await.unwrap());
            }
            let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
            assert!(ok <= 1, "both opposing moves succeeded: {statuses:?}");
            assert!(statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT), "{statuses:?}");
            for id in [a, b] {
                let r = t.post_body(&format!("/api/v1/locations/{id}/move"), &token, &json!({"parent_id": home.garage})).await;
                assert_eq!(r.status, StatusCode::OK);
            }
        }
        assert_eq!(t.ok("/api/v1/integrity", &token).await["clean"], true);
    }
}
