//! `/api/v1/categories`: every route and its error cases.

use axum::http::StatusCode;
use inventory_core::Role;
use serde_json::{json, Value};

use crate::common::TestApp;

const CATEGORIES: &str = "/api/v1/categories";

api_tests! {
    async fn create_list_get_rename_and_delete(t: &TestApp) {
        let (token, home) = t.home().await;
        let r = t.post_body(CATEGORIES, &token, &json!({"name": "Tools", "description": "Fix things"})).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let tools = r.json();
        let id = tools["id"].as_i64().unwrap();
        assert_eq!(r.header("location"), Some(format!("{CATEGORIES}/{id}").as_str()));
        let mut keys: Vec<&str> = tools.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["created_at", "description", "id", "name", "updated_at"]);
        t.create(CATEGORIES, &token, &json!({"name": "Kitchenware"})).await;
        t.item(&token, "Drill", home.toolbox, json!({"category": "Tools"})).await;
        let list = t.ok(CATEGORIES, &token).await;
        assert_eq!(list["next_cursor"], Value::Null);
        let rows: Vec<(String, i64)> = list["items"].as_array().unwrap().iter()
            .map(|c| (c["name"].as_str().unwrap().to_string(), c["item_count"].as_i64().unwrap()))
            .collect();
        assert_eq!(rows, [("Kitchenware".to_string(), 0), ("Tools".to_string(), 1)]);
        let r = t.get_as(&format!("{CATEGORIES}/{id}"), &token).await;
        assert_eq!(r.json(), tools);
        assert!(r.header("etag").is_some());
        let r = t.patch_body(&format!("{CATEGORIES}/{id}"), &token, &json!({"name": "Hand tools", "description": null})).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!((r.json()["name"].as_str(), r.json()["description"].clone()), (Some("Hand tools"), Value::Null));
        let items = t.ok("/api/v1/items", &token).await;
        assert_eq!(items["items"][0]["category"], "Hand tools");
        let r = t.delete_as(&format!("{CATEGORIES}/{id}"), &token).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        // Its items stay, without a category.
        let items = t.ok("/api/v1/items", &token).await;
        assert_eq!(items["items"][0]["category"], Value::Null);
        assert_eq!(t.get_as(&format!("{CATEGORIES}/{id}"), &token).await.status, StatusCode::NOT_FOUND);
    }

    async fn names_are_unique_ignoring_case_and_validated(t: &TestApp) {
        let token = t.token("mo", Role::Member).await;
        let tools = t.create(CATEGORIES, &token, &json!({"name": "Tools"})).await;
        let garden = t.create(CATEGORIES, &token, &json!({"name": "Garden"})).await;
        let r = t.post_body(CATEGORIES, &token, &json!({"name": "TOOLS"})).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(r.problem().problem_type, "/problems/duplicate-name");
        let r = t.patch_body(&format!("{CATEGORIES}/{}", garden["id"]), &token, &json!({"name": "tools"})).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        let r = t.patch_body(&format!("{CATEGORIES}/{}", tools["id"]), &token, &json!({"name": "tools"})).await;
        assert_eq!(r.status, StatusCode::OK, "renaming to itself in another case");
        for body in [json!({"name": " "}), json!({}), json!({"name": "x", "items": 3}), json!({"name": "a\u{0}"})] {
            let r = t.post_body(CATEGORIES, &token, &body).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            r.problem();
        }
        let r = t.patch_body(&format!("{CATEGORIES}/{}", tools["id"]), &token, &json!({"name": null})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        for path in ["/424242"] {
            assert_eq!(t.get_as(&format!("{CATEGORIES}{path}"), &token).await.status, StatusCode::NOT_FOUND);
            assert_eq!(t.patch_body(&format!("{CATEGORIES}{path}"), &token, &json!({"name": "x"})).await.status, StatusCode::NOT_FOUND);
            assert_eq!(t.delete_as(&format!("{CATEGORIES}{path}"), &token).await.status, StatusCode::NOT_FOUND);
        }
    }

    async fn viewers_read_categories_but_do_not_write_them(t: &TestApp) {
        let token = t.token("mo", Role::Member).await;
        let tools = t.create(CATEGORIES, &token, &json!({"name": "Tools"})).await;
        let viewer = t.token("vera", Role::Viewer).await;
        assert_eq!(t.get_as(CATEGORIES, &viewer).await.status, StatusCode::OK);
        assert_eq!(t.post_body(CATEGORIES, &viewer, &json!({"name": "X"})).await.status, StatusCode::FORBIDDEN);
        let one = format!("{CATEGORIES}/{}", tools["id"]);
        assert_eq!(t.patch_body(&one, &viewer, &json!({"name": "X"})).await.status, StatusCode::FORBIDDEN);
        assert_eq!(t.delete_as(&one, &viewer).await.status, StatusCode::FORBIDDEN);
        assert_eq!(t.get(CATEGORIES).await.status, StatusCode::UNAUTHORIZED);
    }
}
