#![allow(clippy::unwrap_used)]
use inventory_core::LocationType;
use inventory_db::{backend_tests, NewLocation};

fn new(name: &str, t: LocationType, parent: Option<i64>) -> NewLocation {
    NewLocation { name: name.into(), description: None, location_type: t, parent_id: parent }
}

backend_tests! {
    async fn smoke(db: &Database) {
        let house = db.create_location(&new("My House", LocationType::House, None)).await.unwrap();
        let room = db.create_location(&new("Living Room", LocationType::Room, Some(house.id))).await.unwrap();
        assert_eq!(room.full_path, "My House / Living Room");
        let tree = db.location_tree(None, None).await.unwrap();
        assert_eq!(tree.len(), 1);
        assert_eq!(tree[0].children[0].location.full_path, "My House / Living Room");
        assert_eq!(db.resolve_path("my house/living room").await.unwrap(), room.id);
        let err = db.move_location(house.id, Some(room.id)).await.unwrap_err();
        println!("{err}");
        let stats = db.stats().await.unwrap();
        println!("{stats:?}");
        let h = db.health().await;
        println!("{h:?}");
        assert!(h.healthy());
    }
}
