//! Data safety (PRODUCT §9) end to end: every defect of the data-safety issue that the
//! command line shows, pinned on SQLite and PostgreSQL. Sections are numbered as the issue
//! numbers its defects; files the CLI writes (defects 6 and 7) and deep trees (10) are in
//! `outputs.rs`.

#[macro_use]
#[allow(dead_code, unused_macros)]
mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use inventory_core::{LocationType, MAX_PATH_SEGMENTS};
use inventory_db::{Database, NewItem, NewLocation, TxMode};
use serde_json::Value;

const PASSWORD: &str = "correct horse battery";

/// Runs with `stdin` piped in; asserts exit `code`; returns (stdout, stderr).
fn piped(env: &Env, args: &[&str], stdin: &str, code: i32) -> (String, String) {
    let out = env.run_with_stdin(args, stdin);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    (stdout, stderr)
}

/// Everything that "nothing was written" compares: locations, items, rows per table and
/// the migration history.
fn state(env: &Env) -> Value {
    serde_json::json!({
        "locations": env.snapshot(),
        "items": env.items(),
        "rows": env.row_counts(),
        "history": env.json(&["db", "history"]),
    })
}

/// Asserts that `args` (stdin piped, empty) exits with `code`, says every needle on
/// stderr, and leaves [`state`] as it was; returns stderr.
fn refused(env: &Env, args: &[&str], code: i32, needles: &[&str]) -> String {
    let before = state(env);
    let (_, stderr) = piped(env, args, "", code);
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{args:?}: stderr lacks {needle:?}: {stderr}"
        );
    }
    assert_eq!(state(env), before, "{args:?} changed the data");
    stderr
}

/// A house with a garage (and its tool box) and a kitchen, a category, three items and a user.
fn filled(env: &Env) {
    home(env);
    env.ok(&["category", "add", "Tools"]);
    for name in ["Drill", "Saw", "Hammer"] {
        env.add_item(name, TOOL_BOX, &["--category", "Tools"]);
    }
    piped(
        env,
        &["user", "add", "alice", "--role", "admin"],
        &format!("{PASSWORD}\n"),
        0,
    );
}

/// Runs `inventory ARGS` on a terminal answering `typed`; asserts exit `code`; returns
/// what the terminal showed (stdout and stderr together).
fn asked(env: &Env, args: &str, typed: &str, code: i32) -> String {
    let out = on_terminal(env, args, typed).expect("util-linux `script` runs the terminal tests");
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(code), "{args}: {shown}");
    shown
}

// 1. Destructive database commands say what they drop, and ask.

cli_tests! {
    migrated = true;

    fn rollback_without_yes_when_piped_says_what_it_would_drop_and_drops_nothing(env: &Env) {
        filled(env);
        let stderr = refused(env, &["db", "rollback", "--steps", "5"], 2, &[
            "This will delete:",
            "table api_tokens with 0 row(s)",
            "table categories with 1 row(s)",
            "table items with 3 row(s)",
            "table users with 1 row(s)",
            "refusing to revert 5 migration(s) of",
            "without confirmation; pass --yes",
        ]);
        assert!(!stderr.contains("table locations"), "locations are not dropped: {stderr}");
    }

    fn rollback_of_the_token_migration_names_the_columns_it_deletes(env: &Env) {
        filled(env);
        refused(env, &["db", "rollback", "--steps", "4"], 2, &[
            "This will delete:",
            "column(s) scope, expires_at of table api_tokens, in 0 row(s)",
            "refusing to revert 4 migration(s) of",
        ]);
    }

    fn rollback_with_yes_reverts_and_drops(env: &Env) {
        filled(env);
        let out = env.ok(&["db", "rollback", "--steps", "5", "--yes"]);
        assert_eq!(
            out,
            "Reverted migration 20261202000006\nReverted migration 20261202000005\n\
             Reverted migration 20261202000004\n\
             Reverted migration 20261201000003\nReverted migration 20261124000002\n"
        );
        let history = env.json(&["db", "history"]);
        let pending = history.as_array().expect("array").iter().filter(|m| m["applied"] == false).count();
        assert_eq!(pending, 5, "{history}");
        let (_, stderr) = piped(env, &["item", "list"], "", 3);
        assert!(stderr.contains("run `inventory db migrate`"), "{stderr}");
    }

    fn rollback_on_a_terminal_lists_tables_and_counts_and_no_keeps_everything(env: &Env) {
        filled(env);
        let before = state(env);
        let shown = asked(env, "db rollback --steps 5", "n\n", 2);
        for needle in ["table items with 3 row(s)", "table categories with 1 row(s)", "table users with 1 row(s)", "[y/N]"] {
            assert!(shown.contains(needle), "lacks {needle:?}: {shown}");
        }
        assert!(shown.contains("not confirmed; did not revert 5 migration(s)"), "{shown}");
        assert_eq!(state(env), before);
    }

    fn reset_on_a_terminal_lists_tables_and_counts_and_no_keeps_everything(env: &Env) {
        filled(env);
        let before = state(env);
        let shown = asked(env, "db reset", "n\n", 2);
        for needle in ["table locations with 5 row(s)", "table items with 3 row(s)", "table users with 1 row(s)", "[y/N]"] {
            assert!(shown.contains(needle), "lacks {needle:?}: {shown}");
        }
        assert_eq!(state(env), before);
    }

    fn drop_on_a_terminal_lists_tables_and_counts_and_no_keeps_everything(env: &Env) {
        filled(env);
        let before = state(env);
        let shown = asked(env, "db drop", "n\n", 2);
        for needle in ["table locations with 5 row(s)", "table categories with 1 row(s)", "table items with 3 row(s)", "[y/N]"] {
            assert!(shown.contains(needle), "lacks {needle:?}: {shown}");
        }
        assert_eq!(state(env), before);
    }

    fn restore_on_a_terminal_lists_tables_and_counts_and_no_keeps_everything(env: &Env) {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("empty.backup");
        env.ok(&["db", "backup", file.to_str().expect("path")]);
        filled(env);
        let before = state(env);
        let shown = asked(env, &format!("db restore {}", file.display()), "n\n", 2);
        for needle in ["table locations with 5 row(s)", "table items with 3 row(s)", "[y/N]"] {
            assert!(shown.contains(needle), "lacks {needle:?}: {shown}");
        }
        assert_eq!(state(env), before);
        refused(env, &["db", "restore", file.to_str().expect("path")], 2, &["table items with 3 row(s)", "pass --yes"]);
    }
}

// 3. Users: one name key, one user.

cli_tests! {
    migrated = true;

    fn concurrent_user_adds_of_one_name_key_let_exactly_one_succeed(env: &Env) {
        let spawn = |name: &str| {
            let mut child = Command::new(assert_cmd::cargo::cargo_bin("inventory"))
                .args(["--database-url", env.url(), "user", "add", name, "--role", "member"])
                .env_remove("DATABASE_URL")
                .env_remove("RUST_LOG")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn inventory");
            child.stdin.take().expect("stdin").write_all(format!("{PASSWORD}\n").as_bytes()).expect("write");
            child
        };
        let children = [spawn("Ärger1"), spawn("ärger1")];
        let outs: Vec<Output> = children.into_iter().map(|c| c.wait_with_output().expect("wait")).collect();
        let mut codes: Vec<i32> = outs.iter().map(|o| o.status.code().unwrap_or(-1)).collect();
        codes.sort_unstable();
        assert_eq!(codes, [0, 4], "{:?}", outs.iter().map(|o| text(&o.stderr)).collect::<Vec<_>>());
        let loser = outs.iter().find(|o| o.status.code() == Some(4)).expect("a loser");
        let stderr = text(&loser.stderr);
        assert!(stderr.contains("rger1\" already exists"), "{stderr}");
        let users = env.json(&["user", "list"]);
        assert_eq!(users.as_array().map(Vec::len), Some(1), "{users}");
    }

    fn user_rm_removes_exactly_the_user_its_name_key_names(env: &Env) {
        for name in ["Ärger1", "Ärger10", "Ärger2"] {
            piped(env, &["user", "add", name, "--role", "member"], &format!("{PASSWORD}\n"), 0);
        }
        let out = env.ok(&["user", "rm", "ÄRGER1", "--yes"]);
        assert!(out.starts_with("Removed user #") && out.ends_with(" Ärger1 (member)\n"), "{out}");
        let mut left: Vec<String> = env.json(&["user", "list"]).as_array().expect("array").iter()
            .map(|u| u["username"].as_str().expect("name").to_string()).collect();
        left.sort();
        assert_eq!(left, ["Ärger10", "Ärger2"]);
    }

    fn user_rm_of_a_missing_name_is_exit_4_and_removes_nobody(env: &Env) {
        piped(env, &["user", "add", "Ärger1", "--role", "member"], &format!("{PASSWORD}\n"), 0);
        let before = env.json(&["user", "list"]);
        let (_, stderr) = piped(env, &["user", "rm", "Ärger", "--yes"], "", 4);
        assert_eq!(stderr, "error: no user \"Ärger\"\n");
        assert_eq!(env.json(&["user", "list"]), before);
    }
}

// 4. Database passwords never shown, whatever they hold.

#[test]
fn unreachable_database_with_special_characters_in_its_password_never_shows_it() {
    for password in [
        "sec/ret",
        "sec?ret",
        "sec#ret",
        "sec@ret",
        "sec:ret",
        "sec%ret",
        "s/e?c#r@e:t%ret",
        "sec%2Fret",
    ] {
        for verbose in [&[][..], &["-v"], &["-vv"]] {
            let url = format!("postgres://u:{password}@127.0.0.1:1/db");
            let out = bare()
                .args(verbose)
                .args(["--database-url", &url, "db", "check"])
                .output()
                .expect("run");
            let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
            assert_eq!(
                out.status.code(),
                Some(3),
                "{password} {verbose:?}: {stderr}"
            );
            assert!(
                stderr.contains("error: cannot connect to postgres://u:***@127.0.0.1:1/db"),
                "{stderr}"
            );
            for leak in [password, "sec/ret", "ret@", "%2F"] {
                assert!(
                    !stderr.contains(leak) && !stdout.contains(leak),
                    "{password} {verbose:?} shows {leak:?}: {stderr}"
                );
            }
        }
    }
}

// 5. `-v` logs SQL, never a hash or a token.

cli_tests! {
    migrated = true;

    fn verbose_user_add_logs_the_insert_with_the_hash_redacted(env: &Env) {
        for (verbose, name) in [("-v", "alice"), ("-vv", "bob")] {
            let (stdout, stderr) = piped(env, &[verbose, "user", "add", name, "--role", "admin"], &format!("{PASSWORD}\n"), 0);
            assert!(stdout.contains(&format!(" {name} (admin)")), "{stdout}");
            assert!(stderr.contains("INSERT INTO"), "{verbose}: no SQL logged: {stderr}");
            assert!(stderr.contains("<redacted>"), "{verbose}: {stderr}");
            for leak in ["$argon2", "argon2id", PASSWORD] {
                assert!(!stderr.contains(leak) && !stdout.contains(leak), "{verbose} shows {leak:?}: {stderr}");
            }
        }
    }

    fn verbose_token_create_never_logs_the_secret_or_its_hash(env: &Env) {
        piped(env, &["user", "add", "alice", "--role", "admin"], &format!("{PASSWORD}\n"), 0);
        for verbose in ["-v", "-vv"] {
            let (stdout, stderr) = piped(env, &[verbose, "token", "create", "--user", "alice"], "", 0);
            let secret = stdout.split_whitespace().find(|w| w.starts_with("hinv_")).expect("the secret is printed once").to_string();
            let hash = inventory_db::ops::users::token_hash(&secret);
            assert_eq!(hash.len(), 64);
            assert!(stderr.contains("INSERT INTO"), "{verbose}: no SQL logged: {stderr}");
            assert!(stderr.contains("<redacted>"), "{verbose}: {stderr}");
            assert!(!stderr.contains(&secret), "{verbose} logs the secret: {stderr}");
            assert!(!stderr.contains(&hash), "{verbose} logs the secret's hash: {stderr}");
            assert!(!stderr.contains(&secret[inventory_db::TOKEN_PREFIX.len() + 6..]), "{verbose} logs the secret's tail");
        }
    }
}

cli_tests! {
    migrated = true;

    fn verbose_restore_never_logs_password_or_token_hashes(env: &Env) {
        piped(env, &["user", "add", "alice", "--role", "admin"], &format!("{PASSWORD}\n"), 0);
        let (stdout, _) = piped(env, &["token", "create", "--user", "alice"], "", 0);
        let secret = stdout.split_whitespace().find(|w| w.starts_with("hinv_")).expect("secret").to_string();
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("home.backup");
        env.ok(&["db", "backup", file.to_str().expect("path")]);
        let backup = std::fs::read_to_string(&file).expect("read");
        let stored_hash = backup.split('"').find(|s| s.starts_with("$argon2")).expect("a hash in the backup").to_string();
        let token_hash = inventory_db::ops::users::token_hash(&secret);
        assert!(backup.contains(&token_hash));
        let (_, stderr) = piped(env, &["-v", "db", "restore", file.to_str().expect("path"), "--yes"], "", 0);
        assert!(stderr.contains("INSERT INTO"), "no SQL logged: {stderr}");
        for leak in ["$argon2", &stored_hash[20..], &token_hash, &secret] {
            assert!(!stderr.contains(leak), "the restore's log shows {leak:?}");
        }
    }
}

// 8. `db reset` and `db drop` touch only our own tables.

static PROBES: AtomicUsize = AtomicUsize::new(0);

/// Whether `SELECT count(*) FROM <from>` is `expected` (raw SQL that fails otherwise).
fn count_is(env: &Env, from: &str, expected: i64) -> bool {
    let n = PROBES.fetch_add(1, Ordering::Relaxed);
    env.rt
        .block_on(env.test_db.db.execute_raw_for_tests(&format!(
            "CREATE TEMP TABLE probe_{n} (n BIGINT CHECK (n = {expected})); \
             INSERT INTO probe_{n} SELECT count(*) FROM {from}; DROP TABLE probe_{n};"
        )))
        .is_ok()
}

/// Another program's table in the same database/schema, with one row.
fn plant_foreign_table(env: &Env) {
    env.rt
        .block_on(env.test_db.db.execute_raw_for_tests(
            "CREATE TABLE other_app_orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL, qty INTEGER NOT NULL); \
             INSERT INTO other_app_orders (id, item, qty) VALUES (1, 'Widget', 7);",
        ))
        .expect("plant another program's table");
}

const FOREIGN_ROW: &str = "other_app_orders WHERE id = 1 AND item = 'Widget' AND qty = 7";

cli_tests! {
    migrated = true;

    fn db_reset_keeps_another_programs_table_and_empties_ours(env: &Env) {
        plant_foreign_table(env);
        filled(env);
        env.ok(&["db", "reset", "--yes"]);
        assert!(count_is(env, FOREIGN_ROW, 1), "reset lost another program's row");
        assert!(count_is(env, "other_app_orders", 1));
        let rows = env.row_counts();
        let tables: Vec<(&str, i64)> = rows.as_array().expect("array").iter()
            .map(|t| (t["table"].as_str().expect("name"), t["rows"].as_i64().expect("rows"))).collect();
        assert_eq!(tables, [("api_tokens", 0), ("categories", 0), ("items", 0), ("locations", 0), ("users", 0)]);
    }

    fn db_drop_keeps_another_programs_table_and_drops_ours(env: &Env) {
        plant_foreign_table(env);
        filled(env);
        env.ok(&["db", "drop", "--yes"]);
        assert!(count_is(env, FOREIGN_ROW, 1), "drop lost another program's row");
        for ours in ["locations", "items", "categories", "users", "api_tokens", "__diesel_schema_migrations"] {
            assert!(!count_is(env, ours, 0), "{ours} is still there");
        }
        assert!(env.rt.block_on(env.test_db.db.table_names()).expect("tables").is_empty());
    }
}

// 9. Import paths of bounded depth.

/// `H / R / C3 / … / Cn`: a location path of `segments` parts.
fn path_of_depth(segments: usize) -> String {
    let mut parts = vec!["H".to_string(), "R".to_string()];
    parts.extend((3..=segments).map(|i| format!("C{i}")));
    parts.join(" / ")
}

cli_tests! {
    migrated = true;

    fn import_of_a_path_deeper_than_the_limit_is_refused_naming_line_and_limit(env: &Env) {
        filled(env);
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("deep.csv");
        let deep = path_of_depth(MAX_PATH_SEGMENTS + 1);
        std::fs::write(&file, format!("name,location\nPliers,{TOOL_BOX}\nDeep Thing,{deep}\n")).expect("write");
        let limit = format!("line 3: location: path has {} parts; at most {MAX_PATH_SEGMENTS} are allowed; nothing was imported", MAX_PATH_SEGMENTS + 1);
        refused(env, &["import", file.to_str().expect("path"), "--create-locations"], 2, &[&limit]);
    }

    fn import_of_a_path_at_the_limit_creates_every_level(env: &Env) {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("deep.csv");
        std::fs::write(&file, format!("name,location\nDeep Thing,{}\n", path_of_depth(MAX_PATH_SEGMENTS))).expect("write");
        let started = Instant::now();
        let out = env.ok(&["import", file.to_str().expect("path"), "--create-locations"]);
        assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
        assert!(out.contains(&format!("Imported 1 item(s) from {}; created {MAX_PATH_SEGMENTS} location(s)", file.display())), "{out}");
        let items = env.items();
        let path = items[0]["location_path"].as_str().expect("path");
        assert_eq!(path.split(" / ").count(), MAX_PATH_SEGMENTS);
    }
}

// 11. Item values past 64 bits.

cli_tests! {
    migrated = true;

    fn totals_past_64_bits_are_shown_exactly(env: &Env) {
        env.add("My House", "HOUSE", None);
        env.add("Vault", "ROOM", Some("My House"));
        for name in ["Gold", "Platinum"] {
            env.add_item(name, "My House / Vault", &["--quantity", "1000000000", "--price", "10000000000.00", "--currency", "EUR"]);
        }
        let list = env.ok(&["item", "list"]);
        assert!(list.ends_with("2 item(s), total quantity 2000000000, value 20000000000000000000.00 EUR\n"), "{list}");
        let show = env.ok(&["location", "show", "My House"]);
        assert!(show.contains("Items here:  0 item(s), quantity 0, value -\n"), "{show}");
        assert!(show.contains("Items below: 2 item(s), quantity 2000000000, value 20000000000000000000.00 EUR (this location included)\n"), "{show}");
        let json = env.ok(&["--format", "json", "location", "show", "My House / Vault"]);
        assert!(json.contains("\"cents\": 2000000000000000000000,"), "{json}");
        assert!(json.contains("\"amount\": \"20000000000000000000.00\""), "{json}");
    }
}

// 12. Recursive item lists over big subtrees.

cli_tests! {
    migrated = true;

    fn recursive_item_list_over_50000_locations_works(env: &Env) {
        env.rt
            .block_on(env.test_db.db.execute_raw_for_tests(
                "INSERT INTO locations (id, name, name_key, location_type, parent_id) VALUES (1, 'My House', 'my house', 'HOUSE', NULL); \
                 WITH RECURSIVE n (i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 49999) \
                 INSERT INTO locations (id, name, name_key, location_type, parent_id) \
                 SELECT i, 'Room ' || i, 'room ' || i, 'ROOM', 1 FROM n; \
                 INSERT INTO locations (id, name, name_key, location_type, parent_id) VALUES (50000, 'Box', 'box', 'CONTAINER', 49999);",
            ))
            .expect("plant 50,000 locations");
        env.add_item("Drill", "My House / Room 49999 / Box", &["--price", "10", "--currency", "EUR"]);
        env.add_item("Hammer", "My House", &[]);
        let list = env.ok(&["item", "list", "--location", "My House", "--recursive"]);
        assert!(list.contains("Drill") && list.contains("My House / Room 49999 / Box"), "{list}");
        assert!(list.ends_with("2 item(s), total quantity 2, value 10.00 EUR\n"), "{list}");
        let json = env.json(&["item", "list", "--location", "My House", "--recursive"]);
        assert_eq!(json.as_array().map(Vec::len), Some(2));
        let show = env.ok(&["location", "show", "My House"]);
        assert!(show.contains("Items below: 2 item(s), quantity 2, value 10.00 EUR"), "{show}");
        let direct = env.json(&["item", "list", "--location", "My House"]);
        assert_eq!(direct.as_array().map(Vec::len), Some(1));
    }
}

// 13. CSV cells that a spreadsheet would run as formulas.

/// Locations, categories and items whose text starts with each character a spreadsheet
/// treats specially, in every text column.
fn seed_formula_like(env: &Env) {
    env.rt.block_on(seed_formula_like_in(&env.test_db.db));
}

async fn add_location(db: &Database, name: &str, kind: LocationType, parent: Option<i64>) -> i64 {
    let new = NewLocation {
        name: name.into(),
        description: None,
        location_type: kind,
        parent_id: parent,
    };
    db.create_location(&new).await.expect("location").id
}

async fn seed_formula_like_in(db: &Database) {
    use LocationType::*;
    let house = add_location(db, "=House", House, None).await;
    let room = add_location(db, "+Room", Room, Some(house)).await;
    let attic = add_location(db, "'Attic", Room, Some(house)).await;
    let boxed = add_location(db, "-Box", Container, Some(room)).await;
    let shelf = add_location(db, "@Shelf", Shelf, Some(boxed)).await;
    for category in ["@Cat", "'Tools", "-Misc", "=Calc", "+Plus"] {
        db.create_category(category, None).await.expect("category");
    }
    let items = [
        (
            "=SUM(A1:A2)",
            boxed,
            "@Cat",
            "=HYPERLINK(\"http://x\")",
            "+desc",
            "-123",
        ),
        ("+1", shelf, "'Tools", "-notes", "@desc", "=serial"),
        ("-2", attic, "-Misc", "@notes", "'desc", "+serial"),
        ("@cmd", room, "=Calc", "'notes", "=desc", "@serial"),
        ("'apostrophe", house, "+Plus", "+notes", "-desc", "'serial"),
    ];
    for (name, location, category, notes, description, serial) in items {
        db.create_item(&NewItem {
            category: Some(category.into()),
            notes: Some(notes.into()),
            description: Some(description.into()),
            serial_number: Some(serial.into()),
            ..NewItem::new(name, location)
        })
        .await
        .expect("item");
    }
}

/// Every item's text fields, sorted.
fn item_texts(env: &Env) -> Vec<Vec<Value>> {
    let mut texts: Vec<Vec<Value>> = env
        .items()
        .as_array()
        .expect("array")
        .iter()
        .map(|i| {
            [
                "name",
                "location_path",
                "category",
                "description",
                "serial_number",
                "notes",
            ]
            .iter()
            .map(|k| i[*k].clone())
            .collect()
        })
        .collect();
    texts.sort_by_key(|t| t[0].to_string());
    texts
}

/// A fresh, migrated database of the same backend as `env`.
fn same_backend(env: &Env) -> Env {
    if env.url().starts_with("postgres") {
        Env::postgres(true)
    } else {
        Env::sqlite(true)
    }
}

cli_tests! {
    migrated = true;

    fn export_escapes_cells_a_spreadsheet_would_run(env: &Env) {
        seed_formula_like(env);
        let csv = env.ok(&["export", "-"]);
        assert_eq!(csv.lines().count(), 6, "{csv}");
        for line in csv.lines() {
            for c in ['=', '+', '-', '@'] {
                let starts = line.starts_with(c) || line.starts_with(&format!("\"{c}"));
                let inside = line.contains(&format!(",{c}")) || line.contains(&format!(",\"{c}"));
                assert!(!starts && !inside, "a cell starts with {c:?}: {line}");
            }
        }
        for cell in [
            "'=SUM(A1:A2)", "'=House / +Room / -Box", "'@Cat", "\"'=HYPERLINK(\"\"http://x\"\")\"",
            "'+desc", "'-123", "''Tools", "''apostrophe", "'=House / 'Attic", "''serial", "'-2",
        ] {
            assert!(csv.contains(cell), "no cell {cell:?} in:\n{csv}");
        }
    }

    fn export_import_export_of_formula_like_text_gives_it_back_byte_for_byte(env: &Env) {
        seed_formula_like(env);
        let dir = tempfile::tempdir().expect("tempdir");
        let (first, second) = (dir.path().join("first.csv"), dir.path().join("second.csv"));
        env.ok(&["export", first.to_str().expect("path")]);
        let other = same_backend(env);
        let out = other.ok(&["import", first.to_str().expect("path"), "--create-locations"]);
        assert!(out.contains("Imported 5 item(s)") && out.contains("created 5 location(s) and 5 category(ies)"), "{out}");
        assert_eq!(item_texts(&other), item_texts(env), "the text came back changed");
        other.ok(&["export", second.to_str().expect("path")]);
        assert_eq!(std::fs::read(&second).expect("second"), std::fs::read(&first).expect("first"));
    }
}

// 15. Read-only commands never create a database.

#[test]
fn read_only_commands_on_a_mistyped_sqlite_path_exit_3_and_create_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("missing/dir/x.db");
    for url in [
        path.display().to_string(),
        format!("sqlite://{}", path.display()),
    ] {
        for command in [
            &["db", "check"][..],
            &["location", "list"],
            &["db", "stats"],
            &["db", "health"],
        ] {
            let out = bare()
                .args(["--database-url", &url])
                .args(command)
                .output()
                .expect("run");
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(3), "{url} {command:?}: {stderr}");
            assert!(
                stderr.contains(&format!(
                    "the database file {} does not exist (create it with `inventory db init`)",
                    path.display()
                )),
                "{command:?}: {stderr}"
            );
            assert!(
                !dir.path().join("missing").exists(),
                "{command:?} created a directory"
            );
        }
    }
}

#[test]
fn db_init_on_a_new_sqlite_path_creates_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("missing/dir/x.db");
    let out = bare()
        .args(["--database-url", path.to_str().expect("path"), "db", "init"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(path.is_file());
    let out = bare()
        .args([
            "--database-url",
            path.to_str().expect("path"),
            "db",
            "check",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

// 16. A tree write behind a held lock gives up, busy.

cli_tests! {
    migrated = true;

    fn a_location_add_behind_a_held_tree_lock_exits_3_busy_and_writes_nothing(env: &Env) {
        env.add("My House", "HOUSE", None);
        let before = env.snapshot();
        // Another writer: a tree-write transaction (PostgreSQL: holding the advisory lock
        // TREE_LOCK_KEY; SQLite: BEGIN IMMEDIATE), held open until released.
        let (held_tx, held_rx) = tokio::sync::oneshot::channel::<()>();
        let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
        let db = env.test_db.db.clone();
        let holder = env.rt.spawn(async move {
            db.transaction(TxMode::TreeWrite, async move |_c| {
                let _ = held_tx.send(());
                // Let go after a while in any case: a writer that waited forever fails the
                // test on its time bound instead of hanging it.
                let _ = tokio::time::timeout(Duration::from_secs(20), release_rx).await;
                Ok(())
            })
            .await
        });
        env.rt.block_on(held_rx).expect("the lock is held");
        let started = Instant::now();
        let (_, stderr) = piped(env, &["--lock-timeout", "1", "location", "add", "Shed", "--type", "HOUSE"], "", 3);
        assert!(started.elapsed() < Duration::from_secs(8), "waited {:?}", started.elapsed());
        assert!(stderr.starts_with("error: the database is busy: "), "{stderr}");
        assert!(stderr.contains("(gave up after 1 s); try again"), "{stderr}");
        release_tx.send(()).expect("release");
        env.rt.block_on(holder).expect("join").expect("the holder commits");
        assert_eq!(env.snapshot(), before, "the refused write wrote");
        env.ok(&["--lock-timeout", "1", "location", "add", "Shed", "--type", "HOUSE"]);
    }
}

// 17. A number that is both an id and a root's name.

/// My House > Kitchen, and a root named after Kitchen's id; returns Kitchen's id.
fn id_and_name(env: &Env) -> i64 {
    env.add("My House", "HOUSE", None);
    let kitchen = env.add("Kitchen", "ROOM", Some("My House"));
    env.add(&kitchen.to_string(), "HOUSE", None);
    kitchen
}

cli_tests! {
    migrated = true;

    fn a_bare_number_that_is_an_id_and_a_roots_name_is_refused_as_ambiguous(env: &Env) {
        let k = id_and_name(env).to_string();
        let stderr = refused(env, &["location", "rm", &k, "--yes"], 2, &[
            &format!("\"{k}\" is ambiguous: it is the id of location #{k} (\"My House / Kitchen\")"),
            &format!("write #{k} for the first or /{k} for the second"),
        ]);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }

    fn hash_id_and_slash_path_each_name_one_location(env: &Env) {
        let kitchen = id_and_name(env);
        let k = kitchen.to_string();
        let by_id = env.json(&["location", "show", &format!("#{k}")]);
        assert_eq!(by_id["full_path"], "My House / Kitchen");
        let by_path = env.json(&["location", "show", &format!("/{k}")]);
        assert_eq!(by_path["full_path"], k.as_str());
        assert_ne!(by_path["id"], kitchen);
        let removed = env.json(&["location", "rm", &format!("#{k}"), "--yes"]);
        assert_eq!(removed["id"], kitchen);
        assert_eq!(removed["locations_deleted"], 1);
        let paths: Vec<Value> = env.snapshot().as_array().expect("array").iter().map(|l| l["full_path"].clone()).collect();
        assert_eq!(paths, [Value::from("My House"), Value::from(k.as_str())]);
    }

    fn a_bare_number_with_one_meaning_works_as_before(env: &Env) {
        let kitchen = id_and_name(env);
        let k = kitchen.to_string();
        // Only an id: the house's.
        let house = env.json(&["location", "show", "My House"])["id"].as_i64().expect("id");
        assert_eq!(env.json(&["location", "show", &house.to_string()])["full_path"], "My House");
        // Only a root's name, once the location with that id is gone.
        env.ok(&["location", "rm", &format!("#{k}"), "--yes"]);
        let root = env.json(&["location", "show", &k]);
        assert_eq!(root["full_path"], k.as_str());
        let removed = env.json(&["location", "rm", &k, "--yes"]);
        assert_eq!(removed["full_path"], k.as_str());
    }
}
