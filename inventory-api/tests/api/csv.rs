//! `GET /api/v1/export.csv` and `POST /api/v1/import`.

use axum::body::Body;
use axum::http::{header, Method, StatusCode};
use inventory_api::Settings;
use inventory_core::Role;
use serde_json::json;

use crate::common::{request, TestApp, TestResponse};

async fn import(
    t: &TestApp,
    token: &str,
    query: &str,
    content_type: &str,
    body: &str,
) -> TestResponse {
    t.send(
        request(Method::POST, &format!("/api/v1/import{query}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

api_tests! {
    async fn export_then_import_elsewhere_round_trips(t: &TestApp) {
        let (token, home) = t.home().await;
        t.create("/api/v1/categories", &token, &json!({"name": "Tools"})).await;
        t.item(&token, "Drill", home.toolbox, json!({"category": "Tools", "notes": "=SUM(A1)", "purchase_price_cents": 8990, "currency": "EUR"})).await;
        t.item(&token, "Pan", home.kitchen, json!({})).await;
        let r = t.get_as("/api/v1/export.csv", &token).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
        assert!(r.header("content-disposition").unwrap().contains("inventory.csv"));
        let csv = String::from_utf8(r.body.clone()).unwrap();
        assert!(csv.starts_with("name,quantity,location,"), "{csv}");
        assert!(csv.contains("My House / Garage / Toolbox") && csv.contains("'=SUM(A1)"), "{csv}");

        let other = TestApp::new(match t.db().backend() {
            inventory_db::Backend::Sqlite => inventory_db::testing::sqlite().await,
            inventory_db::Backend::Postgres => inventory_db::testing::postgres().await,
        });
        let writer = other.token("mo", Role::Member).await;
        let r = import(&other, &writer, "", "text/csv", &csv).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "no locations there yet");
        assert_eq!(r.problem().line, Some(2));
        let r = import(&other, &writer, "?create_locations=true", "text/csv; charset=utf-8", &csv).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.json());
        assert_eq!(r.json(), json!({"items": 2, "locations_created": 4, "categories_created": 1}));
        let again = other.get_as("/api/v1/export.csv", &writer).await;
        assert_eq!(String::from_utf8(again.body).unwrap(), csv);
    }

    async fn a_bad_row_rejects_the_whole_file_naming_its_line(t: &TestApp) {
        let (token, _) = t.home().await;
        let csv = "name,quantity,location\nDrill,1,My House / Garage\nSaw,-1,My House / Garage\n";
        let r = import(t, &token, "", "text/csv", csv).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let p = r.problem();
        assert_eq!(p.line, Some(3));
        assert!(p.detail.starts_with("line 3:"), "{}", p.detail);
        assert_eq!(t.ok("/api/v1/items", &token).await["items"], json!([]));
        for bad in ["", "nonsense\n", "name,location\n\"unterminated,x\n", "name,location,colour\nA,B,C\n"] {
            let r = import(t, &token, "", "text/csv", bad).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad:?}");
            r.problem();
        }
        let r = import(t, &token, "", "text/csv", "name,location\nx,My House\n\u{0}\u{ff}").await;
        assert!(r.status.is_client_error());
        r.problem();
    }

    async fn import_takes_csv_only_and_within_the_body_limit(t: &TestApp) {
        let (token, _) = t.home().await;
        let csv = "name,location\nDrill,My House / Garage\n";
        for content_type in ["application/json", "text/plain", "multipart/form-data"] {
            let r = import(t, &token, "", content_type, csv).await;
            assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type}");
            assert_eq!(r.problem().problem_type, "/problems/unsupported-media-type");
        }
        let small = t.with_settings(Settings { max_body: 100, ..Settings::default() });
        let big = format!("name,location\n{}", "Drill,My House / Garage\n".repeat(10));
        let r = import(&small, &token, "", "text/csv", &big).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        r.problem();
        assert_eq!(t.ok("/api/v1/items", &token).await["items"], json!([]));
        let viewer = t.token("vera", Role::Viewer).await;
        assert_eq!(import(t, &viewer, "", "text/csv", csv).await.status, StatusCode::FORBIDDEN);
        assert_eq!(import(t, &token, "?create_locations=perhaps", "text/csv", csv).await.status, StatusCode::BAD_REQUEST);
        let r = import(t, &token, "", "text/csv", csv).await;
        assert_eq!(r.json()["items"], 1);
    }
}
