//! `inventory db …`, `verify` and `demo` end to end, on SQLite and PostgreSQL.

#[macro_use]
#[allow(dead_code, unused_macros)]
mod common;

use common::*;
use serde_json::Value;

fn locations_rows(env: &Env) -> i64 {
    env.row_counts()
        .as_array()
        .and_then(|t| t.iter().find(|t| t["table"] == "locations"))
        .and_then(|t| t["rows"].as_i64())
        .expect("locations row count")
}

cli_tests! {
    migrated = false;

    fn init_creates_the_tables_of_a_new_database(env: &Env) {
        let out = env.ok(&["db", "init"]);
        assert!(out.contains("Applied migration"), "{out}");
        assert_eq!(env.snapshot(), Value::Array(vec![]));
        let again = env.ok(&["db", "init"]);
        assert!(again.contains("already initialized"), "{again}");
    }

    fn out_of_date_schema_is_refused_with_exit_3(env: &Env) {
        for args in [
            &["location", "list"][..],
            &["location", "add", "X", "--type", "HOUSE"],
            &["db", "stats"],
            &["db", "integrity"],
            &["db", "vacuum"],
            &["db", "rollback"],
            &["db", "backup", "/tmp/never-written.json"],
            &["verify"],
        ] {
            let out = env.run(args);
            assert_eq!(out.status.code(), Some(3), "{args:?}: {}", text(&out.stderr));
            assert!(text(&out.stderr).contains("run `inventory db migrate`"), "{args:?}: {}", text(&out.stderr));
        }
        let health = env.run(&["db", "health"]);
        assert_eq!(health.status.code(), Some(3));
        assert!(text(&health.stdout).contains("❌ migrations"), "{}", text(&health.stdout));
        // These work on an empty database.
        env.ok(&["db", "check"]);
        assert!(env.ok(&["db", "history"]).contains("pending"));
        env.ok(&["db", "migrate"]);
        assert!(env.ok(&["db", "history"]).contains("applied"));
        env.ok(&["location", "list"]);
    }

    fn demo_migrates_fills_and_is_idempotent(env: &Env) {
        let first = env.ok(&["demo"]);
        assert!(first.contains("My House (HOUSE) #"), "{first}");
        assert!(first.contains("└── "), "{first}");
        // The README: 24 locations, two categories, six items.
        let count = env.snapshot().as_array().map(Vec::len).expect("array");
        assert_eq!(count, 24, "demo locations");
        assert_eq!(env.items().as_array().map(Vec::len), Some(6), "demo items");
        let categories = env.json(&["category", "list"]);
        let names: Vec<&str> = categories.as_array().expect("array").iter().filter_map(|c| c["name"].as_str()).collect();
        assert_eq!(names, ["Electronics", "Tools"]);
        let second = env.ok(&["demo"]);
        assert!(second.contains("already there"), "{second}");
        assert_eq!(env.snapshot().as_array().map(Vec::len), Some(count));
        let types: Vec<String> = env.snapshot().as_array().expect("array").iter()
            .map(|l| l["location_type"].as_str().unwrap_or_default().to_string()).collect();
        for t in ["HOUSE", "ROOM", "SHELF", "CONTAINER"] {
            assert!(types.iter().any(|x| x == t), "no {t} in the demo");
        }
        assert_eq!(env.run(&["db", "integrity"]).status.code(), Some(0));
        // A missing part is filled in again.
        env.ok(&["location", "rm", "My House / Garage", "--yes", "--items", "delete"]);
        env.ok(&["demo"]);
        assert_eq!(env.snapshot().as_array().map(Vec::len), Some(24));
        assert_eq!(env.items().as_array().map(Vec::len), Some(6));
    }

    fn demo_leaves_a_users_own_my_house_alone(env: &Env) {
        env.ok(&["db", "init"]);
        env.add("My House", "HOUSE", None);
        env.fails(&["demo"], 4, "not made by demo");
    }
}

cli_tests! {
    migrated = true;

    fn check_health_stats_vacuum_history(env: &Env) {
        env.add("My House", "HOUSE", None);
        assert!(env.ok(&["db", "check"]).contains("Connected to"));
        assert_eq!(env.json(&["db", "check"])["ok"], true);
        let health = env.ok(&["db", "health"]);
        assert_eq!(health.matches("✅").count(), 4, "{health}");
        assert_eq!(env.json(&["db", "health"])["healthy"], true);
        assert_eq!(locations_rows(env), 1);
        let stats = env.ok(&["db", "stats"]);
        assert!(stats.contains("locations") && stats.contains("Size:"), "{stats}");
        env.ok(&["db", "vacuum"]);
        let history = env.json(&["db", "history"]);
        assert!(history.as_array().expect("array").iter().all(|m| m["applied"] == true));
        assert!(env.ok(&["db", "migrate"]).contains("up to date"));
    }

    fn rollback_then_migrate(env: &Env) {
        let out = env.ok(&["db", "rollback", "--steps", "1", "--yes"]);
        assert!(out.contains("Reverted migration"), "{out}");
        assert_eq!(env.run(&["location", "list"]).status.code(), Some(3));
        assert!(env.ok(&["db", "migrate"]).contains("Applied migration"));
        env.ok(&["location", "list"]);
    }

    fn integrity_is_clean_on_good_data(env: &Env) {
        env.add("My House", "HOUSE", None);
        env.add("Kitchen", "ROOM", Some("My House"));
        let out = env.ok(&["db", "integrity", "--full"]);
        assert!(out.contains("no findings"), "{out}");
        assert_eq!(env.json(&["db", "integrity"])["clean"], true);
    }

    fn integrity_lists_findings_with_ids_and_paths_and_exits_1(env: &Env) {
        let house = env.add("My House", "HOUSE", None);
        env.rt
            .block_on(env.test_db.db.execute_raw_for_tests(&format!(
                "INSERT INTO locations (name, name_key, location_type, parent_id, created_at, updated_at) \
                 VALUES ('Loose Room', 'loose room', 'ROOM', NULL, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), \
                        ('Inner House', 'inner house', 'HOUSE', {house}, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )))
            .expect("plant damage");
        let loose = env.json(&["location", "show", "Loose Room"])["id"].as_i64().expect("id");
        let out = env.run(&["db", "integrity"]);
        assert_eq!(out.status.code(), Some(1));
        let stdout = text(&out.stdout);
        assert!(stdout.contains(&format!("#{loose} \"Loose Room\"")), "{stdout}");
        assert!(stdout.contains("\"My House / Inner House\""), "{stdout}");
        assert!(stdout.contains("2 finding(s)"), "{stdout}");
        let json = env.cmd(&["--format", "json", "db", "integrity"]).output().expect("run");
        assert_eq!(json.status.code(), Some(1));
        let v: Value = serde_json::from_slice(&json.stdout).expect("json");
        assert_eq!(v["findings"], 2);
        assert_eq!(env.run(&["db", "health"]).status.code(), Some(1));
    }

    fn reset_and_drop_refuse_without_yes_when_piped(env: &Env) {
        env.add("My House", "HOUSE", None);
        env.fails(&["db", "reset"], 2, "pass --yes");
        env.fails(&["db", "drop"], 2, "pass --yes");
        env.ok(&["db", "reset", "--yes"]);
        assert_eq!(env.snapshot(), Value::Array(vec![]));
        env.add("My House", "HOUSE", None);
        env.ok(&["db", "drop", "--yes"]);
        assert_eq!(env.run(&["location", "list"]).status.code(), Some(3));
        assert!(env.ok(&["db", "history"]).contains("pending"));
        env.ok(&["db", "init"]);
    }

    fn reset_asks_on_a_terminal(env: &Env) {
        env.add("My House", "HOUSE", None);
        let before = env.snapshot();
        let Some(out) = on_terminal(env, "db reset", "n\n") else { return };
        let shown = text(&out.stdout);
        assert!(shown.contains("[y/N]"), "{shown}");
        assert_eq!(out.status.code(), Some(2), "{shown}");
        assert_eq!(env.snapshot(), before);
        let out = on_terminal(env, "location rm 'My House'", "y\n").expect("script ran before");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
        assert_eq!(env.snapshot(), Value::Array(vec![]));
    }

    fn verify_passes_all_six_and_leaves_nothing_behind(env: &Env) {
        env.add("My House", "HOUSE", None);
        let before = env.row_counts();
        let snapshot = env.snapshot();
        let out = env.ok(&["verify"]);
        for name in ["Database Connection", "Session Creation", "Table Operations",
                     "Database Configuration", "Base Functionality", "Async Operations"] {
            assert!(out.contains(&format!("✅ {name}\n")), "{out}");
        }
        assert!(out.contains("Results: 6/6 tests passed"), "{out}");
        assert!(out.contains("🎉 Database foundation is working correctly!"), "{out}");
        assert_eq!(env.row_counts(), before);
        assert_eq!(env.snapshot(), snapshot);
        let json = env.json(&["verify"]);
        assert_eq!(json["passed"], 6);
        assert_eq!(env.row_counts(), before);
    }

    fn verify_reports_a_failed_check_exits_1_and_still_cleans_up(env: &Env) {
        // Plant a trigger that refuses the concurrent inserts of "Async Operations"
        // (rooms named "Room 0".."Room 15") after its scratch house exists.
        let sql = if env.url().starts_with("postgres") {
            "CREATE FUNCTION planted() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'planted failure'; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER planted BEFORE INSERT ON locations FOR EACH ROW \
             WHEN (NEW.name LIKE 'Room %') EXECUTE FUNCTION planted();"
        } else {
            "CREATE TRIGGER planted BEFORE INSERT ON locations WHEN NEW.name LIKE 'Room %' \
             BEGIN SELECT RAISE(ABORT, 'planted failure'); END;"
        };
        env.rt.block_on(env.test_db.db.execute_raw_for_tests(sql)).expect("plant trigger");
        env.add("My House", "HOUSE", None);
        let before = env.row_counts();
        let snapshot = env.snapshot();
        let out = env.run(&["verify"]);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        assert!(stdout.contains("✅ Base Functionality\n"), "{stdout}");
        assert!(stdout.contains("❌ Async Operations: "), "{stdout}");
        assert!(stdout.contains("planted failure"), "{stdout}");
        assert!(stdout.contains("Results: 5/6 tests passed"), "{stdout}");
        assert!(!stdout.contains("🎉"), "{stdout}");
        assert_eq!(env.row_counts(), before);
        assert_eq!(env.snapshot(), snapshot);
    }
}

#[test]
fn verify_on_an_unreachable_database_prints_the_checklist_and_exits_3() {
    let out = bare()
        .args([
            "--database-url",
            "postgres://postgres@127.0.0.1:1/x",
            "verify",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("❌ Database Connection: cannot connect"),
        "{stdout}"
    );
    assert!(stdout.contains("Results: 0/6 tests passed"), "{stdout}");
}
