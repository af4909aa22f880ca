//! `GET /api/v1/integrity` and `GET /api/v1/stats`.

use axum::http::StatusCode;
use inventory_core::Role;
use serde_json::json;

use crate::common::TestApp;

api_tests! {
    async fn integrity_of_a_sound_tree_is_clean(t: &TestApp) {
        let (token, _) = t.home().await;
        let r = t.ok("/api/v1/integrity", &token).await;
        assert_eq!(r["clean"], true);
        assert_eq!(r["findings"], 0);
        assert_eq!(r["report"]["rows"], 4);
        assert!(r["engine"].as_array().unwrap().iter().all(|c| c["ok"] == true));
        assert_eq!(t.get_as("/api/v1/integrity?full=yes", &token).await.status, StatusCode::BAD_REQUEST);
    }

    async fn integrity_reports_damage_with_ids_and_paths(t: &TestApp) {
        let (token, home) = t.home().await;
        // A type violation the library refuses to write: planted directly.
        t.db()
            .execute_raw_for_tests(&format!("UPDATE locations SET location_type = 'HOUSE' WHERE id = {}", home.kitchen))
            .await
            .unwrap();
        let r = t.ok("/api/v1/integrity", &token).await;
        assert_eq!(r["clean"], false);
        assert_eq!(r["findings"], 1);
        assert_eq!(r["report"]["type_violations"][0]["id"], home.kitchen);
        assert_eq!(r["paths"][home.kitchen.to_string()], "My House / Kitchen");
    }

    async fn the_full_check_is_for_admins(t: &TestApp) {
        let (member, _) = t.home().await;
        let r = t.get_as("/api/v1/integrity?full=true", &member).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        r.problem();
        let admin = t.token("ada", Role::Admin).await;
        let r = t.ok("/api/v1/integrity?full=true", &admin).await;
        assert_eq!(r["clean"], true);
    }

    async fn stats_count_rows_and_sum_items_per_house_and_room(t: &TestApp) {
        let (token, home) = t.home().await;
        t.item(&token, "Drill", home.toolbox, json!({"quantity": 2, "purchase_price_cents": 8990, "currency": "EUR"})).await;
        t.item(&token, "Pan", home.kitchen, json!({"purchase_price_cents": 2500, "currency": "EUR"})).await;
        t.item(&token, "Doormat", home.house, json!({})).await;
        let s = t.ok("/api/v1/stats", &token).await;
        let tables: Vec<(String, i64)> = s["tables"].as_array().unwrap().iter()
            .map(|t| (t["table"].as_str().unwrap().to_string(), t["rows"].as_i64().unwrap()))
            .collect();
        assert_eq!(tables, [
            ("api_tokens".into(), 1), ("categories".into(), 0), ("items".into(), 3),
            ("locations".into(), 4), ("users".into(), 1)
        ]);
        assert_eq!(s["items"], json!({"count": 3, "quantity": 4, "value": [{"currency": "EUR", "cents": 20480, "amount": "204.80"}]}));
        assert_eq!(s["houses"].as_array().unwrap().len(), 1);
        assert_eq!(s["houses"][0]["full_path"], "My House");
        assert_eq!(s["houses"][0]["items"]["count"], 3);
        let rooms: Vec<(String, i64, i64)> = s["rooms"].as_array().unwrap().iter()
            .map(|r| (r["full_path"].as_str().unwrap().to_string(), r["items"]["count"].as_i64().unwrap(), r["items"]["quantity"].as_i64().unwrap()))
            .collect();
        assert_eq!(rooms, [("My House / Garage".into(), 1, 2), ("My House / Kitchen".into(), 1, 1)]);
        assert_eq!(s["rooms"][0]["parent_id"], home.house);
        assert_eq!(s["rooms"][0]["location_type"], "ROOM");
        let viewer = t.token("vera", Role::Viewer).await;
        assert_eq!(t.get_as("/api/v1/stats", &viewer).await.status, StatusCode::OK);
        assert_eq!(t.get("/api/v1/stats").await.status, StatusCode::UNAUTHORIZED);
    }
}
