//! `inventory item …`, `category …`, `find` and `location rm --items` end to end, on
//! SQLite and PostgreSQL.

#[macro_use]
#[allow(dead_code, unused_macros)]
mod common;

use common::*;
use serde_json::Value;

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("array")
        .iter()
        .map(|i| i["name"].as_str().expect("name").to_string())
        .collect()
}

cli_tests! {
    migrated = true;

    fn item_add_show_has_the_product_shape(env: &Env) {
        home(env);
        env.ok(&["category", "add", "Tools", "--description", "Hand and power tools"]);
        let out = env.ok(&[
            "item", "add", "Drill", "--location", TOOL_BOX, "--quantity", "2",
            "--category", "tools", "--description", "Cordless", "--notes", "two batteries",
            "--serial", "SN-1", "--price", "89.90", "--currency", "eur",
            "--purchased", "2024-03-01", "--warranty", "2026-03-01",
        ]);
        assert!(out.contains("Drill") && out.contains(TOOL_BOX), "{out}");
        let list = env.items();
        let id = list[0]["id"].as_i64().expect("id");
        let item = env.json(&["item", "show", &id.to_string()]);
        let mut keys: Vec<&str> = item.as_object().expect("object").keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["category", "created_at", "currency", "description", "id", "location_id",
             "location_path", "name", "notes", "purchase_date", "purchase_price_cents",
             "quantity", "serial_number", "updated_at", "warranty_expires"]
        );
        assert_eq!(item["location_path"], TOOL_BOX);
        assert_eq!(item["category"], "Tools");
        assert_eq!(item["quantity"], 2);
        assert_eq!(item["purchase_price_cents"], 8990);
        assert_eq!(item["currency"], "EUR");
        assert_eq!(item["purchase_date"], "2024-03-01");
        assert_eq!(item["warranty_expires"], "2026-03-01");
        let text = env.ok(&["item", "show", &id.to_string()]);
        assert!(text.contains("Price:       89.90 EUR"), "{text}");
        assert!(text.contains(&format!("Location:    {TOOL_BOX}")), "{text}");
        // Defaults: quantity 1, no category.
        let plain = env.json(&["item", "add", "Hammer", "--location", TOOL_BOX]);
        assert_eq!(plain["quantity"], 1);
        assert_eq!(plain["category"], Value::Null);
    }

    fn item_add_refuses_bad_input_and_writes_nothing(env: &Env) {
        home(env);
        env.add_item("Drill", TOOL_BOX, &[]);
        let add = |extra: &[&str]| {
            let mut args = vec!["item", "add", "Saw", "--location", TOOL_BOX];
            args.extend_from_slice(extra);
            args.iter().map(|s| s.to_string()).collect::<Vec<String>>()
        };
        let cases: &[(&[&str], i32, &str)] = &[
            (&["--price", "abc", "--currency", "EUR"], 2, "price \"abc\" is not an amount like 12.34"),
            (&["--price", "1.234", "--currency", "EUR"], 2, "price has more than two decimals"),
            (&["--price", "-3", "--currency", "EUR"], 2, "price must not be negative"),
            (&["--price", "12.34", "--currency", "EURO"], 2, "currency \"EURO\" is not a 3-letter currency code"),
            (&["--price", "12.34"], 2, "required arguments were not provided:\n  --currency"),
            (&["--purchased", "2024-13-01"], 2, "purchased \"2024-13-01\" is not a date like 2024-05-31"),
            (&["--warranty", "tomorrow"], 2, "warranty \"tomorrow\" is not a date like 2024-05-31"),
            (&["--quantity", "-1"], 2, "quantity must not be negative"),
            (&["--quantity", "many"], 2, "quantity: \"many\" is not a whole number"),
            (&["--category", "Nope"], 4, "error: no category \"Nope\""),
        ];
        for (extra, code, needle) in cases {
            let args = add(extra);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            env.fails_unchanged(&args, *code, needle);
        }
        env.fails_unchanged(&["item", "add", "  ", "--location", TOOL_BOX], 2, "error: name must not be empty");
        env.fails_unchanged(&["item", "add", "Saw", "--location", "My House / Attic"], 4, "error: no location at path \"My House / Attic\"");
        env.fails_unchanged(
            &["item", "add", "Saw", "--location", TOOL_BOX, "--purchased", "2024-05-01", "--warranty", "2024-01-01"],
            2,
            "warranty expires (2024-01-01) before the purchase date (2024-05-01)",
        );
    }

    fn item_list_filters_and_ends_with_totals(env: &Env) {
        home(env);
        env.ok(&["category", "add", "Tools"]);
        env.add_item("Drill", TOOL_BOX, &["--category", "Tools", "--price", "10", "--currency", "EUR", "--quantity", "2"]);
        env.add_item("Saw", "My House / Garage", &["--category", "Tools", "--price", "5.50", "--currency", "USD"]);
        env.add_item("Pan", "My House / Kitchen", &["--quantity", "3"]);
        assert_eq!(names(&env.items()), ["Drill", "Saw", "Pan"]);
        assert_eq!(names(&env.json(&["item", "list", "--location", "My House / Garage"])), ["Saw"]);
        let mut below = names(&env.json(&["item", "list", "--location", "My House / Garage", "--recursive"]));
        below.sort();
        assert_eq!(below, ["Drill", "Saw"]);
        let mut tools = names(&env.json(&["item", "list", "--category", "tools"]));
        tools.sort();
        assert_eq!(tools, ["Drill", "Saw"]);
        let table = env.ok(&["item", "list"]);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("ID") && lines[0].contains("NAME") && lines[0].contains("QTY")
            && lines[0].contains("CATEGORY") && lines[0].contains("LOCATION"), "{table}");
        assert!(lines[1].contains("Drill") && lines[1].contains("Tools") && lines[1].contains(TOOL_BOX), "{table}");
        assert_eq!(
            lines.last().copied(),
            Some("3 item(s), total quantity 6, value 20.00 EUR + 5.50 USD"),
            "{table}"
        );
        let empty = env.ok(&["item", "list", "--location", "My House"]);
        assert_eq!(empty.trim(), "0 item(s), total quantity 0, value -");
        env.fails(&["item", "list", "--recursive"], 2, "--location");
    }

    fn item_update_sets_and_clears_fields(env: &Env) {
        home(env);
        env.ok(&["category", "add", "Tools"]);
        let id = env.add_item("Drill", TOOL_BOX, &["--notes", "old", "--serial", "S1", "--price", "10", "--currency", "EUR", "--category", "Tools"]).to_string();
        let updated = env.json(&["item", "update", &id, "--name", "Big Drill", "--quantity", "4", "--notes", "new notes", "--purchased", "2023-01-02"]);
        assert_eq!(updated["name"], "Big Drill");
        assert_eq!(updated["quantity"], 4);
        assert_eq!(updated["notes"], "new notes");
        assert_eq!(updated["serial_number"], "S1");
        assert_eq!(updated["purchase_date"], "2023-01-02");
        let cleared = env.json(&["item", "update", &id, "--clear-notes", "--clear-serial", "--clear-price", "--no-category", "--clear-purchased"]);
        for field in ["notes", "serial_number", "purchase_price_cents", "currency", "category", "purchase_date"] {
            assert_eq!(cleared[field], Value::Null, "{field}");
        }
        let priced = env.json(&["item", "update", &id, "--price", "1.5", "--currency", "usd"]);
        assert_eq!(priced["purchase_price_cents"], 150);
        assert_eq!(priced["currency"], "USD");
        env.fails_unchanged(&["item", "update", &id, "--quantity", "-1"], 2, "quantity must not be negative");
        env.fails_unchanged(&["item", "update", &id, "--price", "x", "--currency", "EUR"], 2, "price \"x\" is not an amount like 12.34");
        env.fails_unchanged(&["item", "update", &id, "--category", "Nope"], 4, "error: no category \"Nope\"");
        env.fails_unchanged(&["item", "update", &id], 2, "nothing to change");
        env.fails_unchanged(&["item", "update", "999999", "--name", "X"], 4, "error: no item with id 999999");
    }

    fn item_move_and_rm(env: &Env) {
        home(env);
        let id = env.add_item("Drill", TOOL_BOX, &[]).to_string();
        let moved = env.json(&["item", "move", &id, "--to", "My House / Kitchen"]);
        assert_eq!(moved["location_path"], "My House / Kitchen");
        env.fails_unchanged(&["item", "move", &id, "--to", "Nowhere"], 4, "error: no location at path \"Nowhere\"");
        env.fails_unchanged(&["item", "rm", &id], 2, "--yes");
        let out = env.ok(&["item", "rm", &id, "--yes"]);
        assert!(out.contains("Removed") && out.contains("Drill"), "{out}");
        assert_eq!(env.items(), Value::Array(vec![]));
        env.fails(&["item", "show", &id], 4, &format!("error: no item with id {id}"));
        env.fails(&["item", "rm", &id, "--yes"], 4, &format!("error: no item with id {id}"));
    }

    fn location_show_counts_items_direct_and_recursive(env: &Env) {
        home(env);
        env.add_item("Drill", TOOL_BOX, &["--price", "10", "--currency", "EUR", "--quantity", "2"]);
        env.add_item("Saw", "My House / Garage", &["--quantity", "3"]);
        let garage = env.json(&["location", "show", "My House / Garage"]);
        assert_eq!(garage["full_path"], "My House / Garage");
        assert_eq!(garage["items"]["direct"]["items"], 1);
        assert_eq!(garage["items"]["direct"]["total_quantity"], 3);
        assert_eq!(garage["items"]["recursive"]["items"], 2);
        assert_eq!(garage["items"]["recursive"]["total_quantity"], 5);
        assert_eq!(garage["items"]["recursive"]["value"][0]["currency"], "EUR");
        assert_eq!(garage["items"]["recursive"]["value"][0]["cents"], 2000);
        let text = env.ok(&["location", "show", "My House / Garage"]);
        assert!(text.contains("Items here:  1 item(s), quantity 3, value -"), "{text}");
        assert!(text.contains("Items below: 2 item(s), quantity 5, value 20.00 EUR"), "{text}");
    }

    fn location_rm_with_items_is_refused_then_moves_or_deletes(env: &Env) {
        home(env);
        env.add_item("Drill", TOOL_BOX, &[]);
        env.add_item("Saw", "My House / Garage / Metal Shelf", &[]);
        env.add_item("Pan", "My House / Kitchen", &[]);
        let stderr = env.fails_unchanged(&["location", "rm", "My House / Garage / Metal Shelf", "--yes"], 4, "2 item(s)");
        assert!(stderr.contains("--items move-to-parent") && stderr.contains("--items delete"), "{stderr}");
        // Move to parent: the shelf's items land in the Garage.
        let out = env.ok(&["location", "rm", "My House / Garage / Metal Shelf", "--yes", "--items", "move-to-parent"]);
        assert!(out.contains("Moved 2 item(s) to \"My House / Garage\""), "{out}");
        let garage: Vec<String> = env.items().as_array().expect("array").iter()
            .filter(|i| i["location_path"] == "My House / Garage")
            .map(|i| i["name"].as_str().unwrap_or_default().to_string()).collect();
        assert_eq!(garage.len(), 2, "{garage:?}");
        // Delete: the items go with the room.
        let json = env.json(&["location", "rm", "My House / Garage", "--yes", "--items", "delete"]);
        assert_eq!(json["items_deleted"], 2);
        assert_eq!(json["locations_deleted"], 1);
        assert_eq!(names(&env.items()), ["Pan"]);
        // A root has no parent to move items to.
        env.fails_unchanged(&["location", "rm", "My House", "--yes", "--items", "move-to-parent"], 4, "is a root: its 1 item(s) have no parent to move to");
        // An empty subtree needs no --items.
        env.add("Attic", "ROOM", Some("My House"));
        env.ok(&["location", "rm", "My House / Attic", "--yes"]);
    }

    fn find_drill_by_a_word_in_its_notes_with_the_full_path(env: &Env) {
        home(env);
        env.add_item("Makita", TOOL_BOX, &["--notes", "the cordless drill, 18 V"]);
        env.add_item("Pan", "My House / Kitchen", &[]);
        let hits = env.json(&["find", "drill"]);
        let hits = hits.as_array().expect("array");
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0]["kind"], "item");
        assert_eq!(hits[0]["name"], "Makita");
        assert_eq!(hits[0]["path"], TOOL_BOX);
        assert!(hits[0]["rank"].is_number());
        let table = env.ok(&["find", "cordless", "drill"]);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("KIND") && lines[0].contains("PATH"), "{table}");
        assert!(lines[1].starts_with("item") && lines[1].contains(TOOL_BOX), "{table}");
        // Locations are found too, with their own full path.
        let shelf = env.json(&["find", "metal"]);
        assert_eq!(shelf[0]["kind"], "location");
        assert_eq!(shelf[0]["path"], "My House / Garage / Metal Shelf");
        let none = env.ok(&["find", "unicorn"]);
        assert!(none.contains("Nothing found for \"unicorn\""), "{none}");
        assert_eq!(env.json(&["find", "unicorn"]), Value::Array(vec![]));
        env.fails(&["find", "drill", "--limit", "0"], 2, "error: --limit must be at least 1");
    }

    fn categories_add_list_rm(env: &Env) {
        home(env);
        env.ok(&["category", "add", "Tools", "--description", "Hand tools"]);
        env.ok(&["category", "add", "Kitchenware"]);
        env.fails(&["category", "add", "tools"], 4, "already exists");
        env.fails(&["category", "add", " "], 2, "category must not be empty");
        env.add_item("Drill", TOOL_BOX, &["--category", "Tools"]);
        let list = env.json(&["category", "list"]);
        assert_eq!(list[0]["name"], "Kitchenware");
        assert_eq!(list[0]["items"], 0);
        assert_eq!(list[1]["name"], "Tools");
        assert_eq!(list[1]["items"], 1);
        assert_eq!(list[1]["description"], "Hand tools");
        let table = env.ok(&["category", "list"]);
        assert!(table.lines().any(|l| l.starts_with(&format!("{}", list[1]["id"])) && l.contains("Tools") && l.contains(" 1 ")), "{table}");
        env.fails(&["category", "rm", "Tools"], 2, "--yes");
        env.fails(&["category", "rm", "Nope", "--yes"], 4, "error: no category \"Nope\"");
        env.ok(&["category", "rm", "tools", "--yes"]);
        assert_eq!(env.items()[0]["category"], Value::Null);
        assert_eq!(env.json(&["category", "list"]).as_array().map(Vec::len), Some(1));
    }

    fn demo_items_make_find_drill_work(env: &Env) {
        env.ok(&["demo"]);
        let count = env.items().as_array().map(Vec::len).expect("items");
        assert_eq!(count, 6, "the README promises six demo items");
        let hits = env.json(&["find", "drill"]);
        assert!(
            hits.as_array().expect("array").iter().any(|h| h["kind"] == "item"
                && h["path"].as_str().unwrap_or_default().starts_with("My House / Garage")),
            "{hits}"
        );
        env.ok(&["demo"]);
        assert_eq!(env.items().as_array().map(Vec::len), Some(count));
        assert_eq!(env.json(&["category", "list"]).as_array().map(Vec::len), Some(2));
    }
}

cli_tests! {
    migrated = false;

    fn new_commands_refuse_an_out_of_date_schema(env: &Env) {
        for args in [
            &["item", "list"][..],
            &["item", "add", "Drill", "--location", "1"],
            &["item", "show", "1"],
            &["item", "move", "1", "--to", "2"],
            &["item", "rm", "1", "--yes"],
            &["category", "list"],
            &["category", "add", "Tools"],
            &["find", "drill"],
            &["user", "list"],
            &["token", "list"],
            &["token", "create", "--user", "alice"],
            &["export", "-"],
            &["import", "-"],
        ] {
            let out = env.run(args);
            assert_eq!(out.status.code(), Some(3), "{args:?}: {}", text(&out.stderr));
            assert!(text(&out.stderr).contains("inventory db migrate"), "{args:?}");
        }
    }
}
