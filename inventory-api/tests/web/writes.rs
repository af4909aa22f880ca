//! Every form: what it writes on success, and how a failure is shown (next to the form,
//! with the user's input kept, nothing written).

use axum::http::StatusCode;
use inventory_core::Role;
use inventory_db::{ItemFilter, LocationFilter, PageRequest};
use serde_json::json;

use crate::browser::assert_redirect;
use crate::common::TestApp;

async fn location_count(t: &TestApp) -> usize {
    t.db()
        .list_locations(&LocationFilter::default(), &PageRequest::first(1000))
        .await
        .unwrap()
        .items
        .len()
}

async fn items_in(t: &TestApp, location: i64) -> Vec<String> {
    let filter = ItemFilter {
        location_id: Some(location),
        ..ItemFilter::default()
    };
    t.db()
        .list_items(&filter, &PageRequest::first(1000))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|i| i.name)
        .collect()
}

api_tests! {
    async fn a_top_level_location_and_a_sub_location_are_added(t: &TestApp) {
        let b = t.browser("mo", Role::Member).await;
        let r = b.post("/locations", &[("name", "Cabin"), ("location_type", "HOUSE"), ("description", "")]).await;
        assert_redirect(&r, "/locations/");
        let cabin: i64 = r.location().trim_start_matches("/locations/").split('?').next().unwrap().parse().unwrap();
        let r = b.post("/locations", &[("parent_id", &cabin.to_string()), ("name", "Loft"), ("location_type", "ROOM")]).await;
        assert_redirect(&r, "/locations/");
        let html = b.html(r.location()).await;
        assert!(html.contains("Created.") && html.contains(">Cabin</a>") && html.contains("Loft"), "{html}");
        assert!(t.db().resolve_path("Cabin / Loft").await.is_ok());
    }

    async fn a_refused_location_is_shown_again_with_the_input_kept(t: &TestApp) {
        let (_, home) = t.home().await;
        let b = t.signed_in("mo").await;
        let before = location_count(t).await;
        let house = home.house.to_string();
        let r = b.post("/locations", &[("parent_id", &house), ("name", "garage"), ("location_type", "ROOM"), ("description", "my words")]).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        let html = r.text();
        assert!(html.contains(r#"role="alert""#) && html.contains("taken") || html.contains("already"), "{html}");
        assert!(html.contains(r#"value="garage""#) && html.contains("my words"));
        assert!(html.contains(r#"<details id="add-child" open>"#));
        let r = b.post("/locations", &[("parent_id", &house), ("name", "  "), ("location_type", "ROOM")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().contains(r#"aria-invalid="true""#));
        let r = b.post("/locations", &[("parent_id", &house), ("name", "Attic"), ("location_type", "HOUSE")]).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "a type rule");
        let r = b.post("/locations", &[("parent_id", &house), ("name", "Attic"), ("location_type", "CASTLE")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = b.post("/locations", &[("name", "My House"), ("location_type", "HOUSE")]).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "a root name is taken too");
        assert!(r.text().contains("Add a top-level location"));
        assert_eq!(location_count(t).await, before, "nothing written");
    }

    async fn a_location_is_renamed_and_moved(t: &TestApp) {
        let (_, home) = t.home().await;
        let b = t.signed_in("mo").await;
        let r = b.post(&format!("/locations/{}/edit", home.toolbox),
            &[("name", "Red toolbox"), ("location_type", "CONTAINER"), ("description", "on the left")]).await;
        assert_redirect(&r, &format!("/locations/{}?done=saved", home.toolbox));
        let r = b.post(&format!("/locations/{}/move", home.toolbox), &[("to", "my house / kitchen")]).await;
        assert_redirect(&r, &format!("/locations/{}?done=moved", home.toolbox));
        assert_eq!(t.db().resolve_path("My House / Kitchen / Red toolbox").await.unwrap(), home.toolbox);
        // Under itself: refused, shown on the page.
        let r = b.post(&format!("/locations/{}/move", home.house), &[("to", "My House / Kitchen")]).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.text().contains(r#"<details id="move" open>"#));
        // A room cannot be a root under the default rules.
        let r = b.post(&format!("/locations/{}/move", home.kitchen), &[("to", ""), ("root", "1")]).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
    }

    async fn a_move_whose_text_names_no_location_offers_candidates(t: &TestApp) {
        let (token, home) = t.home().await;
        let drill = t.item(&token, "Drill", home.toolbox, json!({})).await;
        let b = t.signed_in("mo").await;
        let r = b.post(&format!("/items/{drill}/move"), &[("to", "kitch")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text();
        assert!(html.contains(r#"value="kitch""#), "input kept");
        let pick = format!(r##"name="pick" value="#{}">My House / Kitchen"##, home.kitchen);
        assert!(html.contains(&pick), "{html}");
        let r = b.post(&format!("/items/{drill}/move"), &[("to", "kitch"), ("pick", &format!("#{}", home.kitchen))]).await;
        assert_redirect(&r, &format!("/items/{drill}?done=moved"));
        assert_eq!(items_in(t, home.kitchen).await, ["Drill"]);
    }

    async fn deleting_a_location_with_items_asks_what_happens_to_them(t: &TestApp) {
        let (token, home) = t.home().await;
        t.item(&token, "Hammer", home.toolbox, json!({})).await;
        t.item(&token, "Saw", home.toolbox, json!({})).await;
        let b = t.signed_in("mo").await;
        let html = b.html(&format!("/locations/{}", home.garage)).await;
        assert!(html.contains("2 items are inside") && html.contains("Move them to My House"), "{html}");
        let r = b.post(&format!("/locations/{}/delete", home.garage), &[("items", "refuse")]).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.text().contains(r#"<details id="delete" class="danger-zone" open>"#));
        assert!(t.db().get_location(home.garage).await.is_ok(), "refused: still there");
        let r = b.post(&format!("/locations/{}/delete", home.garage), &[("items", "move-to-parent")]).await;
        assert_redirect(&r, &format!("/locations/{}?done=deleted", home.house));
        assert!(t.db().get_location(home.toolbox).await.is_err(), "the subtree went too");
        let mut moved = items_in(t, home.house).await;
        moved.sort();
        assert_eq!(moved, ["Hammer", "Saw"]);
        let r = b.post(&format!("/locations/{}/delete", home.house), &[("items", "delete")]).await;
        assert_redirect(&r, "/browse?done=deleted");
        assert_eq!(location_count(t).await, 0);
    }

    async fn items_are_added_edited_moved_and_deleted(t: &TestApp) {
        let (_, home) = t.home().await;
        t.db().create_category("Tools", None).await.unwrap();
        let b = t.signed_in("mo").await;
        let r = b.post(&format!("/locations/{}/items", home.toolbox), &[("name", "Hammer"), ("quantity", "2"), ("category", "tools")]).await;
        assert_redirect(&r, &format!("/locations/{}?done=created", home.toolbox));
        let r = b.post("/items", &[("location", "My House / Garage"), ("name", "Ladder"), ("quantity", ""),
            ("price", "49.5"), ("currency", "eur"), ("purchase_date", "2023-05-01"), ("serial_number", "L-1")]).await;
        assert_redirect(&r, "/items/");
        let ladder: i64 = r.location().trim_start_matches("/items/").split('?').next().unwrap().parse().unwrap();
        let item = t.db().get_item(ladder).await.unwrap();
        assert_eq!((item.quantity, item.purchase_price_cents, item.currency.as_deref()), (1, Some(4950), Some("EUR")));
        let r = b.post(&format!("/items/{ladder}/edit"), &[("name", "Step ladder"), ("quantity", "1"), ("price", ""), ("currency", ""), ("notes", "folds flat")]).await;
        assert_redirect(&r, &format!("/items/{ladder}?done=saved"));
        let item = t.db().get_item(ladder).await.unwrap();
        assert_eq!((item.name.as_str(), item.purchase_price_cents, item.notes.as_deref(), item.serial_number.as_deref()), ("Step ladder", None, Some("folds flat"), None));
        let r = b.post(&format!("/items/{ladder}/move"), &[("to", "My House / Kitchen")]).await;
        assert_redirect(&r, &format!("/items/{ladder}?done=moved"));
        let r = b.post(&format!("/items/{ladder}/delete"), &[]).await;
        assert_redirect(&r, &format!("/locations/{}?done=deleted", home.kitchen));
        assert!(t.db().get_item(ladder).await.is_err());
    }

    async fn a_refused_item_keeps_the_input_and_names_the_field(t: &TestApp) {
        let (token, home) = t.home().await;
        let drill = t.item(&token, "Drill", home.toolbox, json!({})).await;
        let b = t.signed_in("mo").await;
        let r = b.post(&format!("/items/{drill}/edit"), &[("name", "Drill"), ("price", "12,50"), ("currency", "EUR"), ("notes", "kept words")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text();
        assert!(html.contains(r#"id="edit-price" name="price" value="12,50""#), "{html}");
        assert!(html.contains(r#"id="edit-price" name="price" value="12,50" inputmode="decimal" placeholder="12.34" aria-invalid="true""#));
        assert!(html.contains("kept words"));
        let r = b.post(&format!("/items/{drill}/edit"), &[("name", "Drill"), ("price", "12.50")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a price needs its currency");
        let r = b.post(&format!("/items/{drill}/edit"), &[("name", "Drill"), ("quantity", "-1")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = b.post(&format!("/items/{drill}/edit"), &[("name", "Drill"), ("purchase_date", "yesterday")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = b.post(&format!("/locations/{}/items", home.toolbox), &[("name", "Saw"), ("category", "No such")]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(r.text().contains(r#"<details id="add-item" open>"#));
        let r = b.post("/items", &[("location", "Nowhere / At all"), ("name", "Ghost")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().contains(r#"value="Ghost""#));
        assert_eq!(t.db().get_item(drill).await.unwrap().purchase_price_cents, None);
        assert_eq!(items_in(t, home.toolbox).await, ["Drill"]);
    }

    async fn categories_are_added_renamed_and_deleted(t: &TestApp) {
        let (token, home) = t.home().await;
        let b = t.signed_in("mo").await;
        assert_redirect(&b.post("/categories", &[("name", "Tools"), ("description", "")]).await, "/categories?done=created");
        let r = b.post("/categories", &[("name", "TOOLS")]).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.text().contains(r#"value="TOOLS""#));
        let id = t.db().list_categories().await.unwrap()[0].category.id;
        t.item(&token, "Drill", home.toolbox, json!({"category": "Tools"})).await;
        assert!(b.html("/categories").await.contains("1 item<"));
        assert_redirect(&b.post(&format!("/categories/{id}/edit"), &[("name", "Power tools"), ("description", "with a plug")]).await, "/categories?done=saved");
        assert_eq!(t.db().get_category(id).await.unwrap().name, "Power tools");
        let r = b.post(&format!("/categories/{id}/edit"), &[("name", "")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_redirect(&b.post(&format!("/categories/{id}/delete"), &[]).await, "/categories?done=deleted");
        assert!(t.db().list_categories().await.unwrap().is_empty());
    }

    async fn csv_is_exported_and_imported_all_or_nothing(t: &TestApp) {
        let (token, home) = t.home().await;
        t.item(&token, "Drill", home.toolbox, json!({})).await;
        let b = t.signed_in("mo").await;
        let r = b.get("/csv/export").await;
        assert_eq!(r.status, 200);
        assert!(r.header("content-type").unwrap().starts_with("text/csv"));
        assert!(r.header("content-disposition").unwrap().contains("attachment"));
        let csv = r.text();
        assert!(csv.starts_with("name,") && csv.contains("My House / Garage / Toolbox"), "{csv}");
        let bad = b"name,location,quantity\nLamp,My House / Kitchen,1\nVase,My House / Kitchen,many\n";
        let r = b.post_multipart("/csv/import", &[("_csrf", &b.csrf)], ("file", bad)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().contains("Line 3"), "{}", r.text());
        assert!(items_in(t, home.kitchen).await.is_empty(), "nothing imported");
        let new = b"name,location\nLamp,My House / Attic\n";
        let r = b.post_multipart("/csv/import", &[("_csrf", &b.csrf)], ("file", new)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "no such location");
        let r = b.post_multipart("/csv/import", &[("_csrf", &b.csrf), ("create_locations", "1")], ("file", new)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert!(r.text().contains("Imported 1 item; created 1 location"));
        let attic = t.db().resolve_path("My House / Attic").await.unwrap();
        assert_eq!(items_in(t, attic).await, ["Lamp"]);
        let r = b.post_multipart("/csv/import", &[("_csrf", "forged")], ("file", new)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }

    async fn admins_manage_users(t: &TestApp) {
        let admin = t.browser("root", Role::Admin).await;
        let r = admin.post("/users", &[("username", "bea"), ("password", "long enough secret"), ("role", "viewer")]).await;
        assert_redirect(&r, "/users?done=created");
        let bea = t.db().get_user("bea").await.unwrap();
        assert_eq!(bea.role, Role::Viewer);
        let r = admin.post("/users", &[("username", "BEA"), ("password", "long enough secret"), ("role", "viewer")]).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(!r.text().contains("long enough secret"), "a password never comes back");
        let r = admin.post("/users", &[("username", "cy"), ("password", "short"), ("role", "member")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_redirect(&admin.post(&format!("/users/{}/role", bea.id), &[("role", "member")]).await, "/users?done=saved");
        assert_eq!(t.db().get_user("bea").await.unwrap().role, Role::Member);
        assert_redirect(&admin.post(&format!("/users/{}/password", bea.id), &[("password", "another long one")]).await, "/users?done=saved");
        assert!(t.db().authenticate_password("bea", "another long one").await.unwrap().is_some());
        let me = t.db().get_user("root").await.unwrap();
        assert_eq!(admin.post(&format!("/users/{}/role", me.id), &[("role", "viewer")]).await.status, StatusCode::CONFLICT);
        assert_eq!(admin.post(&format!("/users/{}/delete", me.id), &[]).await.status, StatusCode::CONFLICT);
        assert_redirect(&admin.post(&format!("/users/{}/delete", bea.id), &[]).await, "/users?done=deleted");
        assert!(t.db().get_user("bea").await.is_err());
    }

    async fn a_token_is_shown_once_and_revoked(t: &TestApp) {
        let b = t.browser("mo", Role::Member).await;
        let r = b.post("/tokens", &[("label", "backup script"), ("scope", "read"), ("expires_days", "30")]).await;
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(r.header("cache-control"), Some("no-store"));
        let html = r.text();
        let start = html.find("value=\"hinv_").unwrap() + 7;
        let secret = &html[start..start + html[start..].find('"').unwrap()];
        let me = t.ok("/api/v1/auth/me", secret).await;
        assert_eq!(me["scope"], "read");
        let list = b.html("/tokens").await;
        assert!(list.contains("backup script") && !list.contains(secret), "shown once only");
        let token = t.db().list_tokens(Some("mo")).await.unwrap().into_iter().find(|t| t.label.as_deref() == Some("backup script")).unwrap();
        assert_redirect(&b.post(&format!("/tokens/{}/revoke", token.id), &[]).await, "/tokens?done=revoked");
        assert_eq!(t.get_as("/api/v1/auth/me", secret).await.status, 401);
        let r = b.post("/tokens", &[("label", "x"), ("scope", "read"), ("expires_days", "0")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        // Another user's token is not a member's to revoke.
        let other = t.token("ann", Role::Member).await;
        let theirs = t.db().list_tokens(Some("ann")).await.unwrap()[0].id;
        assert_eq!(b.post(&format!("/tokens/{theirs}/revoke"), &[]).await.status, StatusCode::NOT_FOUND);
        assert_eq!(t.get_as("/api/v1/auth/me", &other).await.status, 200);
        let r = b.post("/tokens", &[("label", "x"), ("scope", "read"), ("username", "ann")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }

    async fn admins_make_and_see_tokens_of_others(t: &TestApp) {
        t.user("ann", Role::Viewer).await;
        let admin = t.browser("root", Role::Admin).await;
        let r = admin.post("/tokens", &[("label", "for ann"), ("scope", "read"), ("username", "ann")]).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert!(r.text().contains("for ann"));
        let html = admin.html("/tokens?all=1").await;
        assert!(html.contains("ann ·") && html.contains("root ·"), "{html}");
    }
}
