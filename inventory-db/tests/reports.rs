//! The inventory report (rows per table, item totals per house and room) and row versions,
//! the same bodies on both backends.
#![allow(clippy::unwrap_used)]

use inventory_core::LocationType;
use inventory_db::ops::versions::{self, Versioned};
use inventory_db::{backend_tests, Database, DbError, NewItem, NewLocation, TxMode};

async fn add(db: &Database, name: &str, t: LocationType, parent: Option<i64>) -> i64 {
    db.create_location(&NewLocation {
        name: name.into(),
        description: None,
        location_type: t,
        parent_id: parent,
    })
    .await
    .unwrap()
    .id
}

async fn item(db: &Database, name: &str, at: i64, quantity: i64, price: Option<(i64, &str)>) {
    db.create_item(&NewItem {
        quantity,
        purchase_price_cents: price.map(|p| p.0),
        currency: price.map(|p| p.1.to_string()),
        ..NewItem::new(name, at)
    })
    .await
    .unwrap();
}

fn value(summary: &inventory_db::ItemSummary) -> Vec<(String, i128, String)> {
    summary
        .value
        .iter()
        .map(|v| (v.currency.clone(), v.cents, v.amount.clone()))
        .collect()
}

backend_tests! {
    async fn an_empty_inventory_reports_zeros_and_every_table(db: &Database) {
        let report = db.inventory_report().await.unwrap();
        assert_eq!(report.overall.items, 0);
        assert!(report.houses.is_empty() && report.rooms.is_empty());
        let tables: Vec<&str> = report.tables.iter().map(|t| t.table.as_str()).collect();
        assert_eq!(tables, ["api_tokens", "categories", "items", "locations", "users"]);
    }

    async fn totals_are_summed_per_house_and_room_and_overall(db: &Database) {
        let home = add(db, "My House", LocationType::House, None).await;
        let garage = add(db, "Garage", LocationType::Room, Some(home)).await;
        let toolbox = add(db, "Toolbox", LocationType::Container, Some(garage)).await;
        let drawer = add(db, "Drawer", LocationType::Container, Some(toolbox)).await;
        let kitchen = add(db, "Kitchen", LocationType::Room, Some(home)).await;
        let cabin = add(db, "Cabin", LocationType::House, None).await;
        let empty = add(db, "Attic", LocationType::Room, Some(cabin)).await;
        item(db, "Drill", toolbox, 2, Some((8990, "EUR"))).await;
        item(db, "Screws", drawer, 100, Some((5, "EUR"))).await;
        item(db, "Saw", garage, 1, Some((1500, "USD"))).await;
        item(db, "Pan", kitchen, 1, None).await;
        item(db, "Doormat", home, 1, Some((1000, "EUR"))).await;
        item(db, "Lamp", cabin, 3, None).await;

        let report = db.inventory_report().await.unwrap();
        assert_eq!(report.overall.items, 6);
        assert_eq!(report.overall.total_quantity, 108);
        assert_eq!(
            value(&report.overall),
            [("EUR".into(), 17980 + 500 + 1000, "194.80".into()), ("USD".into(), 1500, "15.00".into())]
        );
        let houses: Vec<(&str, i64, i64)> = report
            .houses
            .iter()
            .map(|h| (h.full_path.as_str(), h.totals.items, h.totals.total_quantity))
            .collect();
        assert_eq!(houses, [("Cabin", 1, 3), ("My House", 5, 105)]);
        assert_eq!(report.houses[0].location_type, LocationType::House);
        assert_eq!(report.houses[1].parent_id, None);
        let rooms: Vec<(&str, Option<i64>, i64, i64)> = report
            .rooms
            .iter()
            .map(|r| (r.full_path.as_str(), r.parent_id, r.totals.items, r.totals.total_quantity))
            .collect();
        assert_eq!(
            rooms,
            [
                ("Cabin / Attic", Some(cabin), 0, 0),
                ("My House / Garage", Some(home), 3, 103),
                ("My House / Kitchen", Some(home), 1, 1),
            ]
        );
        assert_eq!(report.rooms[0].id, empty);
        assert_eq!(
            value(&report.rooms[1].totals),
            [("EUR".into(), 18480, "184.80".into()), ("USD".into(), 1500, "15.00".into())]
        );
        assert!(report.rooms[2].totals.value.is_empty());
        let items = report.tables.iter().find(|t| t.table == "items").unwrap();
        assert_eq!(items.rows, 6);
    }

    async fn totals_beyond_64_bits_are_exact(db: &Database) {
        let home = add(db, "My House", LocationType::House, None).await;
        let room = add(db, "Vault", LocationType::Room, Some(home)).await;
        // 10^12 cents × 10^9, 20 times: 2·10^22 cents, far past i64.
        for n in 0..20 {
            item(db, &format!("Bar {n}"), room, 1_000_000_000, Some((1_000_000_000_000, "CHF"))).await;
        }
        let report = db.inventory_report().await.unwrap();
        let expected = 20 * 1_000_000_000_000i128 * 1_000_000_000;
        assert_eq!(report.overall.value[0].cents, expected);
        assert_eq!(report.houses[0].totals.value[0].cents, expected);
        assert_eq!(report.rooms[0].totals.value[0].cents, expected);
        assert_eq!(report.rooms[0].totals.value[0].amount, "200000000000000000000.00");
    }

    async fn a_version_is_the_rows_updated_at(db: &Database) {
        let home = add(db, "My House", LocationType::House, None).await;
        let location = db.get_location(home).await.unwrap().location;
        let v = db
            .transaction(TxMode::TreeWrite, async |c| versions::lock(c, Versioned::Location, home).await)
            .await
            .unwrap();
        assert_eq!(v, location.updated_at);
        let token_user = db.create_user("ann", "correct horse battery", inventory_core::Role::Member).await.unwrap();
        let token = db.create_token("ann", None).await.unwrap().token;
        let v = db
            .transaction(TxMode::Write, async |c| versions::lock(c, Versioned::Token, token.id).await)
            .await
            .unwrap();
        assert_eq!(v, token.created_at.and_utc());
        let revoked = db.revoke_token(token.id).await.unwrap();
        let v = db
            .transaction(TxMode::Write, async |c| versions::lock(c, Versioned::Token, token.id).await)
            .await
            .unwrap();
        assert_eq!(Some(v), revoked.revoked_at.map(|t| t.and_utc()));
        let user = db
            .transaction(TxMode::Write, async |c| versions::lock(c, Versioned::User, token_user.id).await)
            .await
            .unwrap();
        assert_eq!(user, token_user.updated_at.and_utc());
        let missing = db
            .transaction(TxMode::Write, async |c| versions::lock(c, Versioned::Item, 999).await)
            .await
            .unwrap_err();
        assert!(matches!(missing, DbError::NotFound { .. }), "{missing}");
    }
}
