//! Every page renders what it should, bounded, and within the weight budget.

use axum::http::StatusCode;
use inventory_core::Role;
use serde_json::json;

use crate::browser::Browser;
use crate::common::{Home, TestApp};

/// A member's session and the sample home with a drill in the toolbox; the drill's id.
async fn home_with_drill(t: &TestApp) -> (Browser<'_>, Home, i64) {
    let (token, home) = t.home().await;
    let drill = t
        .item(
            &token,
            "Cordless drill",
            home.toolbox,
            json!({"serial_number": "DR-1234", "purchase_price_cents": 8999, "currency": "EUR",
                   "purchase_date": "2024-03-01", "warranty_expires": "2027-03-01",
                   "notes": "Spare battery in the drawer", "quantity": 2}),
        )
        .await;
    let b = t.signed_in("mo").await;
    (b, home, drill)
}

api_tests! {
    async fn the_search_page_finds_items_and_locations_with_their_paths(t: &TestApp) {
        let (b, home, drill) = home_with_drill(t).await;
        let html = b.html("/").await;
        assert!(html.contains(r#"<label for="q">Search</label>"#), "{html}");
        assert!(html.contains(r#"<input type="search" id="q" name="q""#));
        assert!(html.contains(r#"aria-live="polite""#));
        let html = b.html("/?q=drill").await;
        assert!(html.contains(&format!(r#"href="/items/{drill}""#)), "{html}");
        assert!(html.contains("Cordless drill"));
        assert!(html.contains("in My House / Garage / Toolbox"));
        let html = b.html("/?q=toolbox").await;
        assert!(html.contains(&format!(r#"href="/locations/{}""#, home.toolbox)));
        assert!(html.contains("My House / Garage / Toolbox"));
    }

    async fn the_search_fragment_is_the_hits_alone(t: &TestApp) {
        let (b, _, drill) = home_with_drill(t).await;
        let html = b.html("/fragments/search?q=cordl").await;
        assert!(html.contains(&format!(r#"href="/items/{drill}""#)), "{html}");
        assert!(!html.contains("<html"));
        let html = b.html("/fragments/search?q=zzzz").await;
        assert!(html.contains("Nothing matches"));
        let html = b.html("/fragments/search?q=a").await;
        assert!(html.contains("at least two"));
    }

    async fn the_location_page_shows_path_children_items_and_totals(t: &TestApp) {
        let (b, home, drill) = home_with_drill(t).await;
        let html = b.html(&format!("/locations/{}", home.garage)).await;
        assert!(html.contains(r#"<nav class="crumbs" aria-label="Breadcrumb">"#));
        assert!(html.contains(&format!(r#"<a href="/locations/{}">My House</a>"#, home.house)));
        assert!(html.contains(r#"aria-current="page">Garage</a>"#));
        assert!(html.contains(&format!(r#"href="/locations/{}""#, home.toolbox)), "children");
        assert!(html.contains("No items directly here."), "nothing directly in the garage");
        assert!(html.contains("Also the items below (1)"));
        assert!(html.contains("179.98 EUR"), "value below: 2 × 89.99");
        let html = b.html(&format!("/locations/{}?below=1", home.garage)).await;
        assert!(html.contains(&format!(r#"href="/items/{drill}""#)));
        assert!(html.contains("in My House / Garage / Toolbox"));
        // Every write action, for a member.
        for action in ["/items\"", "/edit\"", "/move\"", "/delete\""] {
            assert!(html.contains(action), "{action}");
        }
    }

    async fn long_lists_come_a_page_at_a_time(t: &TestApp) {
        let (token, home) = t.home().await;
        for i in 0..55 {
            t.item(&token, &format!("Screw {i:02}"), home.kitchen, json!({})).await;
        }
        let b = t.signed_in("mo").await;
        let html = b.html(&format!("/locations/{}", home.kitchen)).await;
        assert_eq!(html.matches("class=\"rowlink\" href=\"/items/").count(), 50);
        let next = html.split("<p><a href=\"").find(|s| s.contains("More items")).unwrap();
        let next = next.split('"').next().unwrap().replace("&amp;", "&");
        let html = b.html(next.trim_end_matches("#items")).await;
        assert_eq!(html.matches("class=\"rowlink\" href=\"/items/").count(), 5);
    }

    async fn the_item_page_shows_every_field(t: &TestApp) {
        let (b, home, drill) = home_with_drill(t).await;
        let html = b.html(&format!("/items/{drill}")).await;
        for text in ["Cordless drill", "DR-1234", "89.99 EUR", "2024-03-01", "2027-03-01",
                     "Spare battery in the drawer", "× 2", "My House / Garage / Toolbox"] {
            assert!(html.contains(text), "{text} missing");
        }
        assert!(html.contains(&format!(r#"<a href="/locations/{}">Toolbox</a>"#, home.toolbox)));
        assert!(html.contains(r#"data-picker="/fragments/pick""#));
        assert!(!html.contains("<select id=\"move"), "the picker is never a dropdown");
    }

    async fn browse_shows_the_roots_and_expands_level_by_level(t: &TestApp) {
        let (b, home, _) = home_with_drill(t).await;
        let html = b.html("/browse").await;
        assert!(html.contains(&format!(r#"<a href="/locations/{}">My House</a>"#, home.house)));
        assert!(!html.contains("Garage"), "children wait until asked for");
        assert!(html.contains(r#"aria-expanded="false""#));
        let html = b.html(&format!("/browse?open={}", home.garage)).await;
        assert!(html.contains(">Garage</a>") && html.contains(">Kitchen</a>") && html.contains(">Toolbox</a>"), "{html}");
        assert_eq!(html.matches(r#"aria-expanded="true""#).count(), 2, "house and garage");
        let html = b.html(&format!("/fragments/children/{}", home.house)).await;
        assert!(html.starts_with("<ul class=\"tree\">"), "{html}");
        assert!(html.contains(">Garage</a>") && html.contains(">Kitchen</a>"));
        assert!(html.find(">Garage<").unwrap() < html.find(">Kitchen<").unwrap(), "by name");
        let html = b.html(&format!("/fragments/children/{}", home.kitchen)).await;
        assert!(html.contains("Nothing inside."));
    }

    async fn the_picker_finds_locations_by_path(t: &TestApp) {
        let (b, home, _) = home_with_drill(t).await;
        let html = b.html("/fragments/pick?q=My%20House%20%2F%20Gar&target=move-to").await;
        assert!(html.contains(r#"data-value="My House / Garage""#), "{html}");
        assert!(!html.contains("Kitchen"));
        let html = b.html("/fragments/pick?q=kitch").await;
        assert!(html.contains("My House / Kitchen"), "{html}");
        let html = b.html(&format!("/fragments/pick?q=%23{}", home.toolbox)).await;
        assert!(html.contains("My House / Garage / Toolbox"));
        let html = b.html("/fragments/pick?q=Nowhere%20%2F%20x").await;
        assert!(html.contains("No location matches"));
        // The tail of a path, in any case, finds the locations under it.
        let html = b.html("/fragments/pick?q=garage%20%2F%20toolbox").await;
        assert!(html.contains(r#"data-value="My House / Garage / Toolbox""#), "{html}");
        let html = b.html("/fragments/pick?q=Kitchen%20%2F%20Toolbox").await;
        assert!(html.contains("No location matches"), "{html}");
    }

    async fn categories_csv_and_tokens_pages_render(t: &TestApp) {
        let (b, _, _) = home_with_drill(t).await;
        t.db().create_category("Tools", Some("Hand and power tools")).await.unwrap();
        let html = b.html("/categories").await;
        assert!(html.contains("Tools") && html.contains("0 items"), "{html}");
        let html = b.html("/csv").await;
        assert!(html.contains(r#"href="/csv/export""#) && html.contains(r#"enctype="multipart/form-data""#));
        assert!(html.contains("Create locations that do not exist yet"));
        let html = b.html("/tokens").await;
        assert!(html.contains("web session") && html.contains("(this session)"), "{html}");
    }

    async fn the_users_page_is_for_admins(t: &TestApp) {
        let admin = t.browser("root", Role::Admin).await;
        let html = admin.html("/users").await;
        assert!(html.contains("root") && html.contains(r#"action="/users""#));
        assert!(html.contains(r#"href="/users""#), "admins see the link");
        let member = t.browser("mo", Role::Member).await;
        assert_eq!(member.get("/users").await.status, StatusCode::FORBIDDEN);
        assert!(!member.html("/").await.contains(r#"href="/users""#));
    }

    async fn bad_addresses_are_404_pages_not_errors(t: &TestApp) {
        let b = t.browser("ann", Role::Member).await;
        for path in ["/locations/abc", "/locations/999999", "/items/0", "/items/999999",
                     "/no/such/page", "/assets/app.0000000000000000.css", "/fragments/children/x"] {
            let r = b.get(path).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
            assert!(r.header("content-type").unwrap().starts_with("text/html"), "{path}");
        }
        // The API keeps its problems.
        let r = t.get("/api/v1/nothing").await;
        assert_eq!(r.status, 404);
        r.problem();
    }

    async fn a_mangled_cursor_or_query_is_not_a_500(t: &TestApp) {
        let (b, home, _) = home_with_drill(t).await;
        for path in [
            format!("/locations/{}?items=zzz", home.garage),
            format!("/locations/{}?children=%ff", home.garage),
            "/browse?open=-1".to_string(),
            "/browse?cursor=nope".to_string(),
            format!("/?q={}", "x".repeat(300)),
        ] {
            let r = b.get(&path).await;
            assert!(r.status.is_success() || r.status.is_client_error(), "{path}: {}", r.status);
        }
    }
}

/// Every page of a well-filled inventory, with the HTML plus the CSS and JS it references
/// at most 100 KB. Prints each page's weight.
mod weights {
    use super::*;

    /// The assets a page references (`href`/`src` under `/assets/`), fetched.
    async fn weigh(b: &Browser<'_>, path: &str) -> usize {
        let r = b.get(path).await;
        assert!(r.status.is_success(), "{path}: {}", r.status);
        let html = r.text();
        let mut total = html.len();
        for attr in ["href=\"/assets/", "src=\"/assets/"] {
            for part in html.split(attr).skip(1) {
                let url = format!("/assets/{}", part.split('"').next().unwrap());
                let asset = b.get(&url).await;
                assert_eq!(asset.status, 200, "{url}");
                total += asset.body.len();
            }
        }
        total
    }

    async fn body(t: &TestApp) {
        let (token, home) = t.home().await;
        let long = "a rather long name of a thing to make the lists heavy ".repeat(4);
        for i in 0..60 {
            t.create(
                "/api/v1/locations",
                &token,
                &json!({"name": format!("Box {i} {}", &long[..200]),
                "location_type": "CONTAINER", "parent_id": home.garage}),
            )
            .await;
        }
        let mut last = 0;
        for i in 0..60 {
            last = t
                .item(
                    &token,
                    &format!("Thing {i} {}", &long[..200]),
                    home.garage,
                    json!({"category": null, "description": long, "notes": long}),
                )
                .await;
        }
        for i in 0..50 {
            t.db()
                .create_category(&format!("Category {i} {}", &long[..100]), Some(&long))
                .await
                .unwrap();
            t.item(
                &token,
                &format!("Search hit {i} {}", &long[..150]),
                home.kitchen,
                json!({}),
            )
            .await;
        }
        let admin = t.browser("root", Role::Admin).await;
        for _ in 0..20 {
            admin
                .post(
                    "/tokens",
                    &[
                        ("label", &long[..100]),
                        ("scope", "read"),
                        ("expires_days", ""),
                    ],
                )
                .await;
        }
        let pages = [
            "/".to_string(),
            "/?q=search%20hit".to_string(),
            "/browse".to_string(),
            format!("/browse?open={}", home.garage),
            format!("/locations/{}", home.garage),
            format!("/locations/{}?below=1", home.house),
            format!("/items/{last}"),
            format!("/items/new?location={}", home.garage),
            "/categories".to_string(),
            "/csv".to_string(),
            "/users".to_string(),
            "/tokens?all=1".to_string(),
        ];
        let mut report = String::new();
        for path in &pages {
            let weight = weigh(&admin, path).await;
            report.push_str(&format!("{:>8} B  {path}\n", weight));
            assert!(weight <= 100 * 1024, "{path} weighs {weight} bytes");
        }
        let login = t.page("/login").await;
        let mut weight = login.body.len();
        for asset in [&admin.get("/").await.text()] {
            for attr in ["href=\"/assets/", "src=\"/assets/"] {
                for part in asset.split(attr).skip(1) {
                    weight += t
                        .page(&format!("/assets/{}", part.split('"').next().unwrap()))
                        .await
                        .body
                        .len();
                }
            }
        }
        report.push_str(&format!("{:>8} B  /login\n", weight));
        assert!(weight <= 100 * 1024);
        eprintln!("page weights (HTML + referenced CSS and JS):\n{report}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        body(&TestApp::new(inventory_db::testing::sqlite().await)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        body(&TestApp::new(inventory_db::testing::postgres().await)).await;
    }
}
