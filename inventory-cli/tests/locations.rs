//! `inventory location …` end to end, on SQLite and PostgreSQL.

#[macro_use]
#[allow(dead_code, unused_macros)]
mod common;

use common::*;
use serde_json::Value;

/// My House > Kitchen > Shelf > Box, returning their ids.
fn sample(env: &Env) -> [i64; 4] {
    let house = env.add("My House", "house", None);
    let kitchen = env.add("Kitchen", "ROOM", Some("My House"));
    let shelf = env.add("Shelf", "Shelf", Some("My House / Kitchen"));
    let boxed = env.add("Box", "container", Some(&shelf.to_string()));
    [house, kitchen, shelf, boxed]
}

fn paths(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("array")
        .iter()
        .map(|l| l["full_path"].as_str().expect("full_path").to_string())
        .collect()
}

cli_tests! {
    migrated = true;

    fn add_prints_the_new_location(env: &Env) {
        env.ok(&["location", "add", "My House", "--type", "HOUSE", "--description", "Home"]);
        let out = env.ok(&["location", "add", "Kitchen", "--type", "room", "--parent", "My House"]);
        assert!(out.contains("My House / Kitchen (ROOM)"), "{out}");
    }

    fn json_shape_is_the_product_one(env: &Env) {
        let [house, kitchen, ..] = sample(env);
        let l = env.json(&["location", "show", &kitchen.to_string()]);
        let mut keys: Vec<&str> = l.as_object().expect("object").keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["ancestors", "child_count", "created_at", "description", "full_path", "id",
             "items", "location_type", "name", "parent_id", "updated_at"]
        );
        assert_eq!(l["location_type"], "ROOM");
        assert_eq!(l["parent_id"], house);
        assert_eq!(l["full_path"], "My House / Kitchen");
        assert_eq!(l["child_count"], 1);
        assert_eq!(l["ancestors"][0]["name"], "My House");
        assert!(chrono::DateTime::parse_from_rfc3339(l["created_at"].as_str().expect("time")).is_ok());
        let listed = env.json(&["location", "list"]);
        assert_eq!(listed.as_array().map(Vec::len), Some(4));
        assert_eq!(listed[0].as_object().map(|o| o.len()), Some(8));
    }

    fn list_filters_by_type_roots_and_parent(env: &Env) {
        sample(env);
        env.add("Cottage", "HOUSE", None);
        assert_eq!(paths(&env.json(&["location", "list", "--type", "house"])), ["My House", "Cottage"]);
        assert_eq!(paths(&env.json(&["location", "list", "--roots"])), ["My House", "Cottage"]);
        assert_eq!(
            paths(&env.json(&["location", "list", "--parent", "My House / Kitchen"])),
            ["My House / Kitchen / Shelf"]
        );
        let table = env.ok(&["location", "list"]);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("ID") && lines[0].contains("PATH"), "{table}");
        assert_eq!(lines.len(), 6, "{table}");
        let column = lines[0].find("PATH").expect("PATH column");
        assert!(lines[1..].iter().all(|l| l[column..].starts_with("My House") || l[column..].starts_with("Cottage")), "{table}");
    }

    fn list_follows_every_page(env: &Env) {
        let house = env.add("Big House", "HOUSE", None).to_string();
        let values: Vec<String> = (0..1100)
            .map(|i| format!("('Room {i}', 'room {i}', 'ROOM', {house}, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            .collect();
        env.rt
            .block_on(env.test_db.db.execute_raw_for_tests(&format!(
                "INSERT INTO locations (name, name_key, location_type, parent_id, created_at, updated_at) VALUES {}",
                values.join(", ")
            )))
            .expect("insert rooms");
        let all = env.snapshot();
        assert_eq!(all.as_array().map(Vec::len), Some(1101));
        let ids: Vec<i64> = all.as_array().into_iter().flatten().filter_map(|l| l["id"].as_i64()).collect();
        assert_eq!(ids.len(), 1101);
        let distinct: std::collections::BTreeSet<i64> = ids.iter().copied().collect();
        assert_eq!(distinct.len(), 1101, "a location was listed twice (a page was repeated)");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "the list is in id order across pages");
        assert_eq!(env.ok(&["location", "list"]).lines().count(), 1102);
    }

    fn show_by_id_and_by_path(env: &Env) {
        let [_, _, _, boxed] = sample(env);
        let by_path = env.json(&["location", "show", "my house / KITCHEN / shelf / box"]);
        let by_id = env.json(&["location", "show", &boxed.to_string()]);
        assert_eq!(by_path, by_id);
        assert_eq!(by_id["ancestors"].as_array().map(Vec::len), Some(3));
        let text = env.ok(&["location", "show", "My House / Kitchen"]);
        assert!(text.contains("Path:        My House / Kitchen"), "{text}");
        assert!(text.contains("Children:    1"), "{text}");
    }

    fn tree_draws_branches(env: &Env) {
        let [house, kitchen, shelf, boxed] = sample(env);
        let office = env.add("Office", "ROOM", Some("My House"));
        let out = env.ok(&["location", "tree"]);
        assert_eq!(
            out,
            format!(
                "My House (HOUSE) #{house}\n├── Kitchen (ROOM) #{kitchen}\n│   └── Shelf (SHELF) #{shelf}\n│       └── Box (CONTAINER) #{boxed}\n└── Office (ROOM) #{office}\n"
            )
        );
        let shallow = env.ok(&["location", "tree", "My House", "--depth", "1"]);
        assert_eq!(
            shallow,
            format!("My House (HOUSE) #{house}\n├── Kitchen (ROOM) #{kitchen}\n└── Office (ROOM) #{office}\n")
        );
        let json = env.json(&["location", "tree", "My House / Kitchen"]);
        assert_eq!(json["name"], "Kitchen");
        assert_eq!(json["children"][0]["children"][0]["full_path"], "My House / Kitchen / Shelf / Box");
        let all = env.json(&["location", "tree"]);
        assert_eq!(all.as_array().map(Vec::len), Some(1));
    }

    fn update_changes_name_description_and_type(env: &Env) {
        let [_, kitchen, shelf, _] = sample(env);
        let l = env.json(&["location", "update", &kitchen.to_string(), "--name", "Cuisine", "--description", "Warm"]);
        assert_eq!(l["full_path"], "My House / Cuisine");
        assert_eq!(l["description"], "Warm");
        let l = env.json(&["location", "update", "My House / Cuisine", "--clear-description"]);
        assert_eq!(l["description"], Value::Null);
        let l = env.json(&["location", "update", &shelf.to_string(), "--type", "CONTAINER"]);
        assert_eq!(l["location_type"], "CONTAINER");
        env.fails(&["location", "update", "My House"], 2, "nothing to change");
    }

    fn move_to_another_parent_and_to_the_root(env: &Env) {
        let [_, _, _, boxed] = sample(env);
        env.add("Garage", "ROOM", Some("My House"));
        let l = env.json(&["location", "move", "My House / Kitchen / Shelf", "--to", "My House / Garage"]);
        assert_eq!(l["full_path"], "My House / Garage / Shelf");
        let b = env.json(&["location", "show", &boxed.to_string()]);
        assert_eq!(b["full_path"], "My House / Garage / Shelf / Box");
        env.add("Cottage", "HOUSE", None);
        env.ok(&["location", "move", "My House", "--root"]);
        let l = env.json(&["location", "move", "Cottage", "--root"]);
        assert_eq!(l["parent_id"], Value::Null);
    }

    fn rm_removes_the_subtree_and_says_how_much(env: &Env) {
        sample(env);
        env.add("Office", "ROOM", Some("My House"));
        let out = env.ok(&["location", "rm", "My House / Kitchen", "--yes"]);
        assert!(out.contains("Removed 3 location(s)"), "{out}");
        assert_eq!(paths(&env.snapshot()), ["My House", "My House / Office"]);
        let json = env.json(&["location", "rm", "My House", "--yes"]);
        assert_eq!(json["locations_deleted"], 2);
        assert_eq!(env.snapshot(), Value::Array(vec![]));
    }

    fn rm_without_yes_refuses_when_piped(env: &Env) {
        sample(env);
        env.fails(&["location", "rm", "My House"], 2, "--yes");
    }

    fn bad_input_is_refused_and_nothing_is_written(env: &Env) {
        let [_, kitchen, shelf, boxed] = sample(env);
        env.fails(&["location", "add", "Attic", "--type", "CELLAR", "--parent", "My House"], 2, "CELLAR");
        env.fails(&["location", "add", "", "--type", "ROOM", "--parent", "My House"], 2, "error: name must not be empty");
        env.fails(&["location", "add", "   ", "--type", "ROOM", "--parent", "My House"], 2, "error: name must not be empty");
        env.fails(&["location", "add", "", "--type", "ROOM", "--parent", "Nowhere"], 2, "error: name must not be empty");
        let long = "x".repeat(256);
        env.fails(&["location", "add", &long, "--type", "ROOM", "--parent", "My House"], 2, "255");
        env.ok(&["location", "add", &"y".repeat(255), "--type", "ROOM", "--parent", "My House"]);
        env.fails(&["location", "add", "Attic", "--type", "ROOM", "--parent", "My House / Atic"], 4,
            "error: no location at path \"My House / Atic\"");
        env.fails(&["location", "add", "Attic", "--type", "ROOM", "--parent", "9999"], 4, "error: no location with id 9999");
        env.fails(&["location", "add", "KITCHEN", "--type", "ROOM", "--parent", "My House"], 4, "already exists");
        env.fails(&["location", "add", "my house", "--type", "HOUSE"], 4, "already exists");
        env.fails(&["location", "add", "Loose Room", "--type", "ROOM"], 4, "type rule");
        env.fails(&["location", "add", "Nested House", "--type", "HOUSE", "--parent", "My House"], 4, "location type rule: a HOUSE cannot be under a HOUSE");
        env.fails(&["location", "move", &kitchen.to_string(), "--to", &boxed.to_string()], 4, "inside itself");
        env.fails(&["location", "move", &shelf.to_string(), "--to", &shelf.to_string()], 4, &format!("cannot move location {shelf} under {shelf}: it would be inside itself"));
        env.fails(&["location", "move", &kitchen.to_string(), "--root"], 4, &format!("cannot move location {kitchen}: a ROOM cannot be at the root"));
        env.fails(&["location", "move", &kitchen.to_string()], 2, "--to");
        env.fails(&["location", "update", &kitchen.to_string(), "--type", "HOUSE"], 4, "location type rule: a HOUSE cannot be under a HOUSE");
        env.fails(&["location", "update", &kitchen.to_string(), "--name", "a/b"], 2, "name must not contain \"/\"");
        env.fails(&["location", "show", "My House / Atic"], 4, "no location at path \"My House / Atic\"");
        env.fails(&["location", "rm", "12345", "--yes"], 4, "error: no location with id 12345");
        env.fails(&["location", "tree", "--depth", "x"], 2, "invalid value 'x' for '--depth <DEPTH>'");
    }
}
