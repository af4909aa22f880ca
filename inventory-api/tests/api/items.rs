//! `/api/v1/items` and `/api/v1/search`: every route and its error cases.

use axum::http::StatusCode;
use inventory_core::Role;
use serde_json::{json, Value};

use crate::common::TestApp;

const ITEMS: &str = "/api/v1/items";

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap().to_string())
        .collect()
}

api_tests! {
    async fn create_answers_201_with_the_product_shape(t: &TestApp) {
        let (token, home) = t.home().await;
        t.create("/api/v1/categories", &token, &json!({"name": "Tools"})).await;
        let r = t.post_body(ITEMS, &token, &json!({
            "name": "Drill", "location_id": home.toolbox, "category": "tools", "quantity": 2,
            "serial_number": "SN-1", "purchase_date": "2024-03-01", "purchase_price_cents": 8990,
            "currency": "eur", "warranty_expires": "2026-03-01", "notes": "18 V", "description": "Cordless"
        })).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let item = r.json();
        let id = item["id"].as_i64().unwrap();
        assert_eq!(r.header("location"), Some(format!("/api/v1/items/{id}").as_str()));
        assert!(r.header("etag").unwrap().starts_with(&format!("\"{id}-")));
        let mut keys: Vec<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, [
            "category", "created_at", "currency", "description", "id", "location_id", "location_path",
            "name", "notes", "purchase_date", "purchase_price_cents", "quantity", "serial_number",
            "updated_at", "warranty_expires"
        ]);
        assert_eq!(item["location_path"], "My House / Garage / Toolbox");
        assert_eq!(item["category"], "Tools");
        assert_eq!(item["currency"], "EUR");
        assert_eq!(item["purchase_date"], "2024-03-01");
        let db = serde_json::to_value(t.db().get_item(id).await.unwrap()).unwrap();
        assert_eq!(db, item);
        let plain = t.create(ITEMS, &token, &json!({"name": "Pan", "location_id": home.kitchen})).await;
        assert_eq!(plain["quantity"], 1);
        assert_eq!(plain["category"], Value::Null);
    }

    async fn create_refuses_bad_fields_naming_them(t: &TestApp) {
        let (token, home) = t.home().await;
        let at = home.garage;
        for (body, field) in [
            (json!({"name": "", "location_id": at}), "name"),
            (json!({"location_id": at}), "name"),
            (json!({"name": "Saw"}), "location_id"),
            (json!({"name": "Saw", "location_id": at, "quantity": -1}), "quantity"),
            (json!({"name": "Saw", "location_id": at, "quantity": 1.5}), "quantity"),
            (json!({"name": "Saw", "location_id": at, "purchase_price_cents": 100}), "currency"),
            (json!({"name": "Saw", "location_id": at, "currency": "EUR"}), "purchase_price_cents"),
            (json!({"name": "Saw", "location_id": at, "purchase_price_cents": 1, "currency": "EURO"}), "currency"),
            (json!({"name": "Saw", "location_id": at, "purchase_date": "2024-13-01"}), "purchase_date"),
            (json!({"name": "Saw", "location_id": at, "purchase_date": "2024-03-01", "warranty_expires": "2020-01-01"}), "warranty_expires"),
            (json!({"name": "Saw", "location_id": at, "serial_number": "a\u{1}b"}), "serial_number"),
            (json!({"name": "Saw", "location_id": at, "price": 5}), "price"),
        ] {
            let r = t.post_body(ITEMS, &token, &body).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {:?}", r.json());
            assert_eq!(r.problem().errors[0].field, field, "{body}");
        }
        let r = t.post_body(ITEMS, &token, &json!({"name": "Saw", "location_id": 424242})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = t.post_body(ITEMS, &token, &json!({"name": "Saw", "location_id": at, "category": "Nope"})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(r.problem().detail.contains("Nope"));
        assert_eq!(t.ok(ITEMS, &token).await["items"], json!([]));
        let viewer = t.token("vera", Role::Viewer).await;
        assert_eq!(t.post_body(ITEMS, &viewer, &json!({"name": "Saw", "location_id": at})).await.status, StatusCode::FORBIDDEN);
    }

    async fn get_answers_the_item_or_404(t: &TestApp) {
        let (token, home) = t.home().await;
        let id = t.item(&token, "Saw", home.garage, json!({})).await;
        let r = t.get_as(&format!("{ITEMS}/{id}"), &token).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["name"], "Saw");
        assert!(r.header("etag").is_some());
        assert_eq!(t.get_as(&format!("{ITEMS}/424242"), &token).await.status, StatusCode::NOT_FOUND);
        assert_eq!(t.get_as(&format!("{ITEMS}/saw"), &token).await.status, StatusCode::BAD_REQUEST);
    }

    async fn list_filters_by_location_category_name_and_time(t: &TestApp) {
        let (token, home) = t.home().await;
        t.create("/api/v1/categories", &token, &json!({"name": "Tools"})).await;
        t.item(&token, "Drill", home.toolbox, json!({"category": "Tools"})).await;
        t.item(&token, "Saw", home.garage, json!({"category": "Tools"})).await;
        t.item(&token, "Pan", home.kitchen, json!({})).await;
        assert_eq!(names(&t.ok(ITEMS, &token).await), ["Drill", "Saw", "Pan"]);
        assert_eq!(names(&t.ok(&format!("{ITEMS}?location_id={}", home.garage), &token).await), ["Saw"]);
        assert_eq!(names(&t.ok(&format!("{ITEMS}?location_id={}&recursive=true", home.garage), &token).await), ["Drill", "Saw"]);
        assert_eq!(names(&t.ok(&format!("{ITEMS}?category=tools"), &token).await), ["Drill", "Saw"]);
        assert_eq!(names(&t.ok(&format!("{ITEMS}?q=sa"), &token).await), ["Saw"]);
        assert_eq!(names(&t.ok(&format!("{ITEMS}?updated_since=2999-01-01T00:00:00Z"), &token).await).len(), 0);
        let first = t.ok(&format!("{ITEMS}?limit=2"), &token).await;
        assert_eq!(names(&first), ["Drill", "Saw"]);
        let next = first["next_cursor"].as_str().unwrap();
        assert_eq!(names(&t.ok(&format!("{ITEMS}?limit=2&cursor={next}"), &token).await), ["Pan"]);
        let r = t.get_as(&format!("{ITEMS}?recursive=true"), &token).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.problem().errors[0].field, "recursive");
        assert_eq!(t.get_as(&format!("{ITEMS}?category=Nope"), &token).await.status, StatusCode::NOT_FOUND);
        assert_eq!(t.get_as(&format!("{ITEMS}?location_id=424242"), &token).await.status, StatusCode::NOT_FOUND);
        assert_eq!(t.get_as(&format!("{ITEMS}?limit=501"), &token).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(t.get_as(&format!("{ITEMS}?cursor=zz"), &token).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(t.get_as(&format!("{ITEMS}?location=1"), &token).await.status, StatusCode::BAD_REQUEST);
    }

    async fn patch_changes_named_fields_and_clears_nulls(t: &TestApp) {
        let (token, home) = t.home().await;
        t.create("/api/v1/categories", &token, &json!({"name": "Tools"})).await;
        let id = t.item(&token, "Drill", home.toolbox, json!({
            "category": "Tools", "notes": "18 V", "purchase_price_cents": 8990, "currency": "EUR"
        })).await;
        let path = format!("{ITEMS}/{id}");
        let r = t.patch_body(&path, &token, &json!({"quantity": 3, "notes": null, "category": null})).await;
        assert_eq!(r.status, StatusCode::OK);
        let item = r.json();
        assert_eq!((item["quantity"].clone(), item["notes"].clone(), item["category"].clone()), (json!(3), Value::Null, Value::Null));
        assert_eq!(item["name"], "Drill");
        assert_eq!(item["purchase_price_cents"], 8990);
        // A new price keeps the currency; clearing the price clears the currency.
        let r = t.patch_body(&path, &token, &json!({"purchase_price_cents": 100})).await;
        assert_eq!((r.json()["purchase_price_cents"].clone(), r.json()["currency"].clone()), (json!(100), json!("EUR")));
        let r = t.patch_body(&path, &token, &json!({"currency": "usd"})).await;
        assert_eq!(r.json()["currency"], "USD");
        let r = t.patch_body(&path, &token, &json!({"purchase_price_cents": null})).await;
        assert_eq!((r.json()["purchase_price_cents"].clone(), r.json()["currency"].clone()), (Value::Null, Value::Null));
        let r = t.patch_body(&path, &token, &json!({"purchase_price_cents": 5})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.problem().errors[0].field, "currency");
        // Another location moves it.
        let r = t.patch_body(&path, &token, &json!({"location_id": home.kitchen, "name": "Hand drill"})).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!((r.json()["location_path"].as_str(), r.json()["name"].as_str()), (Some("My House / Kitchen"), Some("Hand drill")));
        for (body, status) in [
            (json!({"name": null}), 422),
            (json!({"quantity": null}), 422),
            (json!({"quantity": -3}), 422),
            (json!({"location_id": null}), 422),
            (json!({"colour": "red"}), 422),
            (json!({"category": "Nope"}), 404),
            (json!({"location_id": 424242}), 404),
        ] {
            let r = t.patch_body(&path, &token, &body).await;
            assert_eq!(r.status.as_u16(), status, "{body}");
            r.problem();
        }
        assert_eq!(t.patch_body(&format!("{ITEMS}/424242"), &token, &json!({"name": "x"})).await.status, StatusCode::NOT_FOUND);
        let empty = t.patch_body(&path, &token, &json!({})).await;
        assert_eq!(empty.header("etag"), t.get_as(&path, &token).await.header("etag"));
    }

    async fn delete_answers_204_then_404(t: &TestApp) {
        let (token, home) = t.home().await;
        let id = t.item(&token, "Saw", home.garage, json!({})).await;
        let viewer = t.token("vera", Role::Viewer).await;
        assert_eq!(t.delete_as(&format!("{ITEMS}/{id}"), &viewer).await.status, StatusCode::FORBIDDEN);
        let r = t.delete_as(&format!("{ITEMS}/{id}"), &token).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert!(r.body.is_empty());
        assert_eq!(t.get_as(&format!("{ITEMS}/{id}"), &token).await.status, StatusCode::NOT_FOUND);
        assert_eq!(t.delete_as(&format!("{ITEMS}/{id}"), &token).await.status, StatusCode::NOT_FOUND);
    }

    async fn move_puts_an_item_elsewhere(t: &TestApp) {
        let (token, home) = t.home().await;
        let id = t.item(&token, "Saw", home.garage, json!({})).await;
        let r = t.post_body(&format!("{ITEMS}/{id}/move"), &token, &json!({"location_id": home.toolbox})).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["location_path"], "My House / Garage / Toolbox");
        assert!(r.header("etag").is_some());
        let r = t.post_body(&format!("{ITEMS}/{id}/move"), &token, &json!({"location_id": 424242})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(r.problem().detail.contains("target location"));
        assert_eq!(t.post_body(&format!("{ITEMS}/424242/move"), &token, &json!({"location_id": home.house})).await.status, StatusCode::NOT_FOUND);
        assert_eq!(t.post_body(&format!("{ITEMS}/{id}/move"), &token, &json!({})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn bulk_move_moves_all_or_nothing(t: &TestApp) {
        let (token, home) = t.home().await;
        let a = t.item(&token, "Saw", home.garage, json!({})).await;
        let b = t.item(&token, "Pan", home.kitchen, json!({})).await;
        let bulk = "/api/v1/items/bulk-move";
        let r = t.post_body(bulk, &token, &json!({"ids": [a, b, 424242], "location_id": home.toolbox})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(r.problem().detail.contains("424242"));
        assert_eq!(t.ok(&format!("{ITEMS}/{a}"), &token).await["location_id"], home.garage);
        let r = t.post_body(bulk, &token, &json!({"ids": [a, b], "location_id": 424242})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = t.post_body(bulk, &token, &json!({"ids": [], "location_id": home.toolbox})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.problem().errors[0].field, "ids");
        let too_many: Vec<i64> = (1..=10_001).collect();
        let r = t.post_body(bulk, &token, &json!({"ids": too_many, "location_id": home.toolbox})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = t.post_body(bulk, &token, &json!({"ids": [b, a, a], "location_id": home.toolbox})).await;
        assert_eq!(r.status, StatusCode::OK);
        let moved = r.json();
        assert_eq!(names(&moved), ["Saw", "Pan"]);
        assert!(moved["items"].as_array().unwrap().iter().all(|i| i["location_id"] == home.toolbox));
        let viewer = t.token("vera", Role::Viewer).await;
        assert_eq!(t.post_body(bulk, &viewer, &json!({"ids": [a], "location_id": home.house})).await.status, StatusCode::FORBIDDEN);
    }

    async fn search_finds_items_and_locations_with_their_paths(t: &TestApp) {
        let (token, home) = t.home().await;
        t.item(&token, "Cordless drill", home.toolbox, json!({"notes": "in the blue case"})).await;
        let r = t.ok("/api/v1/search?q=drill", &token).await;
        let hits = r["items"].as_array().unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0]["kind"], "item");
        assert_eq!(hits[0]["path"], "My House / Garage / Toolbox");
        let mut keys: Vec<&str> = hits[0].as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["id", "kind", "name", "path", "rank"]);
        let r = t.ok("/api/v1/search?q=tool", &token).await;
        assert_eq!(r["items"][0]["kind"], "location");
        assert_eq!(r["items"][0]["path"], "My House / Garage / Toolbox");
        assert_eq!(t.ok("/api/v1/search?q=blue%20case", &token).await["items"].as_array().unwrap().len(), 1);
        assert_eq!(t.ok("/api/v1/search?q=drill&limit=1", &token).await["next_cursor"], Value::Null);
        for (query, status) in [("", 400), ("?q=", 422), ("?q=%21%21", 422), ("?q=x&limit=0", 422), ("?q=x&limit=501", 422), ("?q=x&page=2", 400)] {
            let r = t.get_as(&format!("/api/v1/search{query}"), &token).await;
            assert_eq!(r.status.as_u16(), status, "{query}");
            r.problem();
        }
    }
}
