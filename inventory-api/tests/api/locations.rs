//! `/api/v1/locations`: every route and its error cases.

use axum::http::{Method, StatusCode};
use inventory_core::Role;
use serde_json::{json, Value};

use crate::common::TestApp;

const LOCATIONS: &str = "/api/v1/locations";

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap().to_string())
        .collect()
}

api_tests! {
    async fn create_answers_201_with_the_location_its_etag_and_url(t: &TestApp) {
        let token = t.token("mo", Role::Member).await;
        let r = t.post_body(LOCATIONS, &token, &json!({"name": "  My House ", "location_type": "HOUSE", "description": "Home"})).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let body = r.json();
        assert_eq!(
            keys(&body),
            ["created_at", "description", "full_path", "id", "location_type", "name", "parent_id", "updated_at"]
        );
        assert_eq!(body["name"], "My House");
        assert_eq!(body["full_path"], "My House");
        assert_eq!(body["location_type"], "HOUSE");
        assert_eq!(body["parent_id"], Value::Null);
        let id = body["id"].as_i64().unwrap();
        assert_eq!(r.header("location"), Some(format!("/api/v1/locations/{id}").as_str()));
        let etag = r.header("etag").unwrap().to_string();
        assert!(etag.starts_with(&format!("\"{id}-")) && etag.ends_with('"'), "{etag}");
        let again = t.get_as(&format!("{LOCATIONS}/{id}"), &token).await;
        assert_eq!(again.header("etag"), Some(etag.as_str()));
        // The same shape as the library's JSON (and so the CLI's).
        let db = serde_json::to_value(t.db().get_location(id).await.unwrap().location).unwrap();
        assert_eq!(db, body);
    }

    async fn create_refuses_bad_input_with_the_field_named(t: &TestApp) {
        let token = t.token("mo", Role::Member).await;
        for (body, field) in [
            (json!({"name": "  ", "location_type": "HOUSE"}), "name"),
            (json!({"name": "A/B", "location_type": "HOUSE"}), "name"),
            (json!({"name": "x".repeat(256), "location_type": "HOUSE"}), "name"),
            (json!({"name": "Shed", "location_type": "GARAGE"}), "location_type"),
            (json!({"name": "Shed"}), "location_type"),
            (json!({"name": "Shed", "location_type": "HOUSE", "colour": "red"}), "colour"),
            (json!({"name": "Shed", "location_type": "HOUSE", "description": "bell\u{7}"}), "description"),
        ] {
            let r = t.post_body(LOCATIONS, &token, &body).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            let p = r.problem();
            assert_eq!(p.errors[0].field, field, "{body}: {p:?}");
        }
        assert_eq!(t.ok(LOCATIONS, &token).await["items"], json!([]));
    }

    async fn create_checks_the_parent_the_type_rules_and_sibling_names(t: &TestApp) {
        let (token, home) = t.home().await;
        let r = t.post_body(LOCATIONS, &token, &json!({"name": "Hall", "location_type": "ROOM", "parent_id": 999_999})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(r.problem().detail.contains("parent location"), "{:?}", r.json());
        let r = t.post_body(LOCATIONS, &token, &json!({"name": "Hall", "location_type": "ROOM"})).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(r.problem().problem_type, "/problems/type-rule");
        let r = t.post_body(LOCATIONS, &token, &json!({"name": "GARAGE", "location_type": "ROOM", "parent_id": home.house})).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        let p = r.problem();
        assert_eq!(p.problem_type, "/problems/duplicate-name");
        assert!(p.detail.contains("GARAGE"), "{}", p.detail);
        // The same name elsewhere is fine.
        t.create(LOCATIONS, &token, &json!({"name": "Garage", "location_type": "CONTAINER", "parent_id": home.toolbox})).await;
    }

    async fn writing_needs_a_writer_and_reading_a_token(t: &TestApp) {
        let viewer = t.token("vera", Role::Viewer).await;
        let r = t.post_body(LOCATIONS, &viewer, &json!({"name": "My House", "location_type": "HOUSE"})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        r.problem();
        assert_eq!(t.get_as(LOCATIONS, &viewer).await.status, StatusCode::OK);
        let r = t.get(LOCATIONS).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        r.problem();
        let r = t.post_json(LOCATIONS, &json!({"name": "My House", "location_type": "HOUSE"})).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }

    async fn get_shows_ancestors_children_and_item_totals(t: &TestApp) {
        let (token, home) = t.home().await;
        t.item(&token, "Drill", home.toolbox, json!({"quantity": 2, "purchase_price_cents": 8990, "currency": "EUR"})).await;
        t.item(&token, "Saw", home.garage, json!({"purchase_price_cents": 1500, "currency": "USD"})).await;
        t.item(&token, "Rag", home.garage, json!({"quantity": 5})).await;
        let garage = t.ok(&format!("{LOCATIONS}/{}", home.garage), &token).await;
        assert_eq!(garage["full_path"], "My House / Garage");
        assert_eq!(garage["ancestors"], json!([{"id": home.house, "name": "My House", "location_type": "HOUSE"}]));
        assert_eq!(garage["children_count"], 1);
        assert_eq!(
            garage["items_here"],
            json!({"count": 2, "quantity": 6, "value": [{"currency": "USD", "cents": 1500, "amount": "15.00"}]})
        );
        assert_eq!(
            garage["items_below"],
            json!({"count": 3, "quantity": 8, "value": [
                {"currency": "EUR", "cents": 17980, "amount": "179.80"},
                {"currency": "USD", "cents": 1500, "amount": "15.00"}
            ]})
        );
        let house = t.ok(&format!("{LOCATIONS}/{}", home.house), &token).await;
        assert_eq!(house["ancestors"], json!([]));
        assert_eq!(house["children_count"], 2);
        assert_eq!(house["items_here"], json!({"count": 0, "quantity": 0, "value": []}));
        assert_eq!(house["items_below"]["count"], 3);
    }

    async fn an_unknown_location_is_404_and_a_bad_id_400(t: &TestApp) {
        let token = t.token("mo", Role::Member).await;
        let r = t.get_as(&format!("{LOCATIONS}/424242"), &token).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.problem().problem_type, "/problems/not-found");
        for bad in ["abc", "1.5", "99999999999999999999"] {
            let r = t.get_as(&format!("{LOCATIONS}/{bad}"), &token).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
            r.problem();
        }
        for path in ["/424242/tree", "/424242/items"] {
            assert_eq!(t.get_as(&format!("{LOCATIONS}{path}"), &token).await.status, StatusCode::NOT_FOUND);
        }
    }

    async fn list_filters_by_type_parent_root_name_and_time(t: &TestApp) {
        let (token, home) = t.home().await;
        let page = t.ok(LOCATIONS, &token).await;
        assert_eq!(names(&page), ["My House", "Garage", "Toolbox", "Kitchen"]);
        assert_eq!(page["next_cursor"], Value::Null);
        assert_eq!(names(&t.ok(&format!("{LOCATIONS}?type=ROOM"), &token).await), ["Garage", "Kitchen"]);
        assert_eq!(names(&t.ok(&format!("{LOCATIONS}?type=room"), &token).await), ["Garage", "Kitchen"]);
        assert_eq!(names(&t.ok(&format!("{LOCATIONS}?parent_id={}", home.house), &token).await), ["Garage", "Kitchen"]);
        assert_eq!(names(&t.ok(&format!("{LOCATIONS}?root=true"), &token).await), ["My House"]);
        assert_eq!(names(&t.ok(&format!("{LOCATIONS}?root=false&q=KIT"), &token).await), ["Kitchen"]);
        assert_eq!(names(&t.ok(&format!("{LOCATIONS}?q=%25"), &token).await), Vec::<String>::new());
        assert_eq!(names(&t.ok(&format!("{LOCATIONS}?updated_since=2000-01-01T00:00:00Z"), &token).await).len(), 4);
        assert_eq!(names(&t.ok(&format!("{LOCATIONS}?updated_since=2999-01-01T00:00:00Z"), &token).await).len(), 0);
    }

    async fn list_pages_with_an_opaque_cursor(t: &TestApp) {
        let (token, _) = t.home().await;
        let first = t.ok(&format!("{LOCATIONS}?limit=3"), &token).await;
        assert_eq!(names(&first), ["My House", "Garage", "Toolbox"]);
        let cursor = first["next_cursor"].as_str().unwrap();
        let second = t.ok(&format!("{LOCATIONS}?limit=3&cursor={cursor}"), &token).await;
        assert_eq!(names(&second), ["Kitchen"]);
        assert_eq!(second["next_cursor"], Value::Null);
    }

    async fn list_refuses_bad_parameters(t: &TestApp) {
        let token = t.token("mo", Role::Member).await;
        for (query, status, field) in [
            ("limit=0", 422, Some("limit")),
            ("limit=501", 422, Some("limit")),
            ("cursor=nonsense", 422, Some("cursor")),
            ("q=", 200, None),
            ("limit=many", 400, None),
            ("type=GARAGE", 400, None),
            ("parent_id=x", 400, None),
            ("root=maybe", 400, None),
            ("updated_since=yesterday", 400, None),
            ("colour=red", 400, None),
        ] {
            let r = t.get_as(&format!("{LOCATIONS}?{query}"), &token).await;
            assert_eq!(r.status.as_u16(), status, "{query}");
            if status != 200 {
                let p = r.problem();
                if let Some(field) = field {
                    assert_eq!(p.errors[0].field, field, "{query}");
                }
            }
        }
        let long = "x".repeat(300);
        let r = t.get_as(&format!("{LOCATIONS}?q={long}"), &token).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn patch_changes_what_it_names_and_clears_what_is_null(t: &TestApp) {
        let (token, home) = t.home().await;
        let path = format!("{LOCATIONS}/{}", home.kitchen);
        let r = t.patch_body(&path, &token, &json!({"description": "Tiles"})).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["description"], "Tiles");
        let r = t.patch_body(&path, &token, &json!({"name": "Cuisine"})).await;
        let body = r.json();
        assert_eq!((body["name"].as_str(), body["description"].as_str()), (Some("Cuisine"), Some("Tiles")));
        assert_eq!(body["full_path"], "My House / Cuisine");
        let r = t.patch_body(&path, &token, &json!({"description": null})).await;
        assert_eq!(r.json()["description"], Value::Null);
        assert_eq!(r.json()["name"], "Cuisine");
        // An empty patch changes nothing, not even the version.
        let before = t.get_as(&path, &token).await;
        let r = t.patch_body(&path, &token, &json!({})).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("etag"), before.header("etag"));
    }

    async fn patch_refuses_null_names_bad_types_and_clashes(t: &TestApp) {
        let (token, home) = t.home().await;
        let path = format!("{LOCATIONS}/{}", home.kitchen);
        let r = t.patch_body(&path, &token, &json!({"name": null})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.problem().errors[0].field, "name");
        let r = t.patch_body(&path, &token, &json!({"id": 5})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = t.patch_body(&path, &token, &json!({"name": "garage"})).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(r.problem().problem_type, "/problems/duplicate-name");
        // A HOUSE may not sit under a house.
        let r = t.patch_body(&path, &token, &json!({"location_type": "HOUSE"})).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(r.problem().problem_type, "/problems/type-rule");
        let r = t.patch_body(&format!("{LOCATIONS}/424242"), &token, &json!({"name": "x"})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(t.ok(&path, &token).await["name"], "Kitchen");
    }

    async fn patch_with_a_parent_moves(t: &TestApp) {
        let (token, home) = t.home().await;
        let r = t.patch_body(&format!("{LOCATIONS}/{}", home.toolbox), &token, &json!({"parent_id": home.kitchen, "name": "Box"})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.json());
        assert_eq!(r.json()["full_path"], "My House / Kitchen / Box");
        let r = t.patch_body(&format!("{LOCATIONS}/{}", home.kitchen), &token, &json!({"parent_id": home.toolbox})).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(r.problem().problem_type, "/problems/cycle");
    }

    async fn move_reparents_or_makes_a_root(t: &TestApp) {
        let (token, home) = t.home().await;
        let r = t.post_body(&format!("{LOCATIONS}/{}/move", home.toolbox), &token, &json!({"parent_id": home.kitchen})).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.header("etag").is_some());
        assert_eq!(r.json()["full_path"], "My House / Kitchen / Toolbox");
        assert_eq!(r.json()["parent_id"], home.kitchen);
        let other = t.create(LOCATIONS, &token, &json!({"name": "Cabin", "location_type": "HOUSE"})).await;
        let r = t.post_body(&format!("{LOCATIONS}/{}/move", other["id"]), &token, &json!({"parent_id": null})).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["full_path"], "Cabin");
    }

    async fn move_refuses_cycles_type_rules_and_missing_targets(t: &TestApp) {
        let (token, home) = t.home().await;
        let moving = |id: i64| format!("{LOCATIONS}/{id}/move");
        let r = t.post_body(&moving(home.garage), &token, &json!({"parent_id": home.toolbox})).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        let p = r.problem();
        assert_eq!(p.problem_type, "/problems/cycle");
        assert_eq!(p.title, "The move would make a cycle");
        let r = t.post_body(&moving(home.garage), &token, &json!({"parent_id": home.garage})).await;
        assert_eq!(r.problem().problem_type, "/problems/cycle");
        let r = t.post_body(&moving(home.garage), &token, &json!({"parent_id": null})).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(r.problem().problem_type, "/problems/type-rule");
        let r = t.post_body(&moving(home.garage), &token, &json!({"parent_id": 424242})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = t.post_body(&moving(424242), &token, &json!({"parent_id": home.house})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = t.post_body(&moving(home.garage), &token, &json!({})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.problem().errors[0].field, "parent_id");
        let r = t.post_body(&moving(home.garage), &token, &json!({"parent_id": "house"})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(t.ok(&format!("{LOCATIONS}/{}", home.garage), &token).await["full_path"], "My House / Garage");
    }

    async fn delete_with_items_inside_needs_a_choice(t: &TestApp) {
        let (token, home) = t.home().await;
        let drill = t.item(&token, "Drill", home.toolbox, json!({})).await;
        let path = format!("{LOCATIONS}/{}", home.garage);
        let r = t.delete_as(&path, &token).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        let p = r.problem();
        assert_eq!(p.problem_type, "/problems/items-inside");
        assert!(p.detail.contains("move-to-parent"), "{}", p.detail);
        let r = t.delete_as(&format!("{path}?items=keep"), &token).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = t.delete_as(&format!("{path}?items=move-to-parent"), &token).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json(), json!({"id": home.garage, "locations_deleted": 2, "items_affected": 1}));
        assert_eq!(t.ok(&format!("/api/v1/items/{drill}"), &token).await["location_path"], "My House");
        assert_eq!(t.get_as(&path, &token).await.status, StatusCode::NOT_FOUND);
        assert_eq!(t.get_as(&format!("{LOCATIONS}/{}", home.toolbox), &token).await.status, StatusCode::NOT_FOUND);
        // A root has no parent to take its items.
        let r = t.delete_as(&format!("{LOCATIONS}/{}?items=move-to-parent", home.house), &token).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(r.problem().problem_type, "/problems/items-inside");
        let r = t.delete_as(&format!("{LOCATIONS}/{}?items=delete", home.house), &token).await;
        assert_eq!(r.json(), json!({"id": home.house, "locations_deleted": 2, "items_affected": 1}));
        assert_eq!(t.get_as(&format!("/api/v1/items/{drill}"), &token).await.status, StatusCode::NOT_FOUND);
        assert_eq!(t.delete_as(&path, &token).await.status, StatusCode::NOT_FOUND);
    }

    async fn delete_of_an_empty_subtree_needs_no_choice(t: &TestApp) {
        let (token, home) = t.home().await;
        let r = t.delete_as(&format!("{LOCATIONS}/{}", home.kitchen), &token).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["locations_deleted"], 1);
        let viewer = t.token("vera", Role::Viewer).await;
        assert_eq!(t.delete_as(&format!("{LOCATIONS}/{}", home.garage), &viewer).await.status, StatusCode::FORBIDDEN);
    }

    async fn a_tree_depth_past_the_documented_int32_range_is_a_422_problem(t: &TestApp) {
        let (token, home) = t.home().await;
        let deepest = t.get_as(&format!("{LOCATIONS}/{}/tree?depth=2147483647", home.house), &token).await;
        assert_eq!(deepest.status, StatusCode::OK);
        let r = t.get_as(&format!("{LOCATIONS}/{}/tree?depth=2147483648", home.house), &token).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.problem().errors[0].field, "depth");
    }

    async fn tree_nests_children_by_name_down_to_a_depth(t: &TestApp) {
        let (token, home) = t.home().await;
        t.create(LOCATIONS, &token, &json!({"name": "Attic", "location_type": "ROOM", "parent_id": home.house})).await;
        let tree = t.ok(&format!("{LOCATIONS}/{}/tree", home.house), &token).await;
        assert_eq!(tree["full_path"], "My House");
        let children: Vec<&str> = tree["children"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(children, ["Attic", "Garage", "Kitchen"]);
        assert_eq!(tree["children"][1]["children"][0]["full_path"], "My House / Garage / Toolbox");
        assert_eq!(tree["children"][1]["children"][0]["children"], json!([]));
        let mut node = tree["children"][1]["children"][0].clone();
        node.as_object_mut().unwrap().remove("children");
        assert_eq!(keys(&node), ["created_at", "description", "full_path", "id", "location_type", "name", "parent_id", "updated_at"]);
        let shallow = t.ok(&format!("{LOCATIONS}/{}/tree?depth=1", home.house), &token).await;
        assert_eq!(shallow["children"][1]["children"], json!([]));
        let alone = t.ok(&format!("{LOCATIONS}/{}/tree?depth=0", home.garage), &token).await;
        assert_eq!((alone["full_path"].as_str(), alone["children"].clone()), (Some("My House / Garage"), json!([])));
        assert_eq!(t.get_as(&format!("{LOCATIONS}/{}/tree?depth=-1", home.house), &token).await.status, StatusCode::BAD_REQUEST);
    }

    async fn items_of_a_location_directly_or_below_with_totals(t: &TestApp) {
        let (token, home) = t.home().await;
        t.item(&token, "Drill", home.toolbox, json!({"purchase_price_cents": 100, "currency": "EUR", "quantity": 3})).await;
        t.item(&token, "Saw", home.garage, json!({})).await;
        t.item(&token, "Pan", home.kitchen, json!({})).await;
        let here = t.ok(&format!("{LOCATIONS}/{}/items", home.garage), &token).await;
        assert_eq!(names(&here), ["Saw"]);
        assert_eq!(here["totals"], json!({"count": 1, "quantity": 1, "value": []}));
        let below = t.ok(&format!("{LOCATIONS}/{}/items?recursive=true&limit=1", home.garage), &token).await;
        assert_eq!(names(&below), ["Drill"]);
        assert_eq!(below["totals"]["count"], 2);
        assert_eq!(below["totals"]["value"], json!([{"currency": "EUR", "cents": 300, "amount": "3.00"}]));
        let cursor = below["next_cursor"].as_str().unwrap();
        let rest = t.ok(&format!("{LOCATIONS}/{}/items?recursive=true&limit=1&cursor={cursor}", home.garage), &token).await;
        assert_eq!(names(&rest), ["Saw"]);
        assert_eq!(rest["next_cursor"], Value::Null);
        assert_eq!(t.get_as(&format!("{LOCATIONS}/{}/items?limit=0", home.garage), &token).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn resolve_finds_a_path_ignoring_case(t: &TestApp) {
        let (token, home) = t.home().await;
        let r = t.get_as(&format!("{LOCATIONS}/resolve?path=my%20house%20%2F%20GARAGE%20%2F%20toolbox"), &token).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["id"], home.toolbox);
        assert!(r.header("etag").is_some());
        let r = t.get_as(&format!("{LOCATIONS}/resolve?path=My%20House%20%2F%20Attic"), &token).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        r.problem();
        for bad in ["?path=", "?path=%20%2F%20", ""] {
            let r = t.get_as(&format!("{LOCATIONS}/resolve{bad}"), &token).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
            r.problem();
        }
    }

    async fn head_answers_like_get_without_a_body(t: &TestApp) {
        let (token, home) = t.home().await;
        let r = t.call(Method::HEAD, &format!("{LOCATIONS}/{}", home.house), &token, None, &[]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.is_empty());
        assert!(r.header("etag").is_some());
    }
}
