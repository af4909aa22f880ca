//! `inventory export`/`import`, `user …` and `token …` end to end, on SQLite and
//! PostgreSQL.

#[macro_use]
#[allow(dead_code, unused_macros)]
mod common;

use common::*;
use serde_json::Value;

const PASSWORD: &str = "correct horse battery";

/// The names in directory `dir`, sorted.
fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs with `stdin`, asserts exit `code`, returns (stdout, stderr).
fn piped(env: &Env, args: &[&str], stdin: &str, code: i32) -> (String, String) {
    let out = env.run_with_stdin(args, stdin);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    (stdout, stderr)
}

cli_tests! {
    migrated = true;

    fn user_add_on_a_terminal_asks_twice(env: &Env) {
        let Some(out) = on_terminal(env, "user add alice --role admin", &format!("{PASSWORD}\n{PASSWORD}\n")) else {
            eprintln!("`script` is not installed; terminal prompt not tested");
            return;
        };
        let shown = text(&out.stdout);
        assert!(shown.contains("Password for alice") && shown.contains("Again"), "{shown}");
        assert!(shown.contains("Created user"), "{shown}");
        let out = on_terminal(env, "user add bob --role admin", &format!("{PASSWORD}\nsomething else\n")).expect("script");
        assert!(text(&out.stdout).contains("differ"), "{}", text(&out.stdout));
        let users = env.json(&["user", "list"]);
        assert_eq!(users.as_array().map(Vec::len), Some(1), "{users}");
    }

    fn export_import_into_an_empty_database_round_trips_byte_for_byte(env: &Env) {
        home(env);
        env.ok(&["category", "add", "Tools"]);
        env.add_item("Drill", TOOL_BOX, &["--category", "Tools", "--notes", "18 V, \"two\" batteries\nand a charger", "--price", "89.90", "--currency", "EUR", "--purchased", "2024-03-01", "--warranty", "2026-03-01", "--serial", "SN-1", "--quantity", "2"]);
        env.add_item("Pan", "My House / Kitchen", &["--description", "Cast iron"]);
        let dir = tempfile::tempdir().expect("tempdir");
        let first = dir.path().join("first.csv");
        let out = env.ok(&["export", first.to_str().expect("path")]);
        assert!(out.contains("Exported 2 item(s)"), "{out}");
        let csv = std::fs::read_to_string(&first).expect("csv");
        assert!(csv.starts_with("name,quantity,location,"), "{csv}");

        let other = Env::sqlite(true);
        let (stdout, _) = piped(&other, &["import", first.to_str().expect("path")], "", 2);
        assert!(stdout.is_empty());
        assert_eq!(other.items(), Value::Array(vec![]));
        let out = other.ok(&["import", first.to_str().expect("path"), "--create-locations"]);
        assert!(out.contains("Imported 2 item(s)") && out.contains("created 5 location(s) and 1 category(ies)"), "{out}");
        let second = dir.path().join("second.csv");
        other.ok(&["export", second.to_str().expect("path")]);
        assert_eq!(std::fs::read(&second).expect("second"), std::fs::read(&first).expect("first"));
        // `-` is stdout.
        assert_eq!(other.ok(&["export", "-"]), csv);
        // Only the final files are left: no temp files behind.
        assert_eq!(entries(dir.path()), ["first.csv", "second.csv"]);
    }

    fn import_of_a_malformed_file_changes_nothing_and_names_the_line(env: &Env) {
        home(env);
        env.add_item("Hammer", TOOL_BOX, &[]);
        let dir = tempfile::tempdir().expect("tempdir");
        let bad = dir.path().join("bad.csv");
        std::fs::write(
            &bad,
            format!("name,quantity,location\nDrill,1,{TOOL_BOX}\nSaw,-1,{TOOL_BOX}\n"),
        )
        .expect("write");
        let path = bad.to_str().expect("path");
        env.fails_unchanged(&["import", path, "--create-locations"], 2, "line 3");
        std::fs::write(&bad, format!("name,location\nDrill,{TOOL_BOX}\nSaw,My House / Attic\n")).expect("write");
        env.fails_unchanged(&["import", path], 2, "line 3");
        std::fs::write(&bad, "name,colour\nDrill,red\n").expect("write");
        env.fails_unchanged(&["import", path], 2, "line 1");
        env.fails_unchanged(&["import", "/nonexistent/items.csv"], 2, "cannot read");
        // From stdin.
        let (out, _) = piped(env, &["import", "-"], &format!("name,location,notes\nSaw,{TOOL_BOX},sharp\n"), 0);
        assert!(out.contains("Imported 1 item(s) from stdin"), "{out}");
        assert_eq!(env.items().as_array().map(Vec::len), Some(2));
    }

    fn export_failure_leaves_no_file(env: &Env) {
        home(env);
        env.add_item("Drill", TOOL_BOX, &[]);
        let dir = tempfile::tempdir().expect("tempdir");
        // The target is a directory holding a file: the export is written in full under a
        // temporary name beside it, then moving it into place fails. That is an I/O
        // failure (exit 3), not bad input, and no temporary file stays behind.
        let target = dir.path().join("items.csv");
        std::fs::create_dir(&target).expect("mkdir");
        std::fs::write(target.join("keep"), "keep").expect("write");
        let shown = target.display().to_string();
        env.fails(&["export", &shown, "--force"], 3, &format!("error: cannot write CSV export {shown}: "));
        assert_eq!(entries(dir.path()), ["items.csv"]);
        assert_eq!(entries(&target), ["keep"]);
        // Without --force the existing name is refused before anything is written.
        env.fails(&["export", &shown], 2, &format!("error: {shown} already exists; pass --force to replace it"));
        assert_eq!(entries(dir.path()), ["items.csv"]);
        // A directory that does not exist: nothing is created.
        let missing = dir.path().join("missing").join("items.csv").display().to_string();
        env.fails(&["export", &missing], 3, &format!("error: cannot write CSV export {missing}: "));
        assert_eq!(entries(dir.path()), ["items.csv"]);
    }

    fn user_add_reads_the_password_from_stdin_and_never_prints_it(env: &Env) {
        let (out, err) = piped(env, &["user", "add", "alice", "--role", "admin"], &format!("{PASSWORD}\n"), 0);
        assert!(out.contains("alice") && out.contains("admin"), "{out}");
        assert!(!out.contains(PASSWORD) && !err.contains(PASSWORD));
        let (out, _) = piped(env, &["--format", "json", "user", "add", "bob", "--role", "viewer"], PASSWORD, 0);
        let bob: Value = serde_json::from_str(&out).expect("json");
        assert_eq!(bob["role"], "viewer");
        assert!(!out.contains(PASSWORD) && !out.contains("argon2") && !out.contains("hash"), "{out}");
        let users = env.json(&["user", "list"]);
        assert_eq!(users.as_array().map(Vec::len), Some(2));
        let listed = env.ok(&["user", "list"]);
        assert!(listed.contains("alice") && listed.contains("admin") && !listed.contains("argon2"), "{listed}");
        let db = &env.test_db.db;
        assert!(env.rt.block_on(db.authenticate_password("alice", PASSWORD)).expect("auth").is_some());
        // passwd, then the old password no longer works.
        let (out, err) = piped(env, &["user", "passwd", "alice"], "another long secret\n", 0);
        assert!(!out.contains("another long secret") && !err.contains("another long secret"));
        assert!(env.rt.block_on(db.authenticate_password("alice", PASSWORD)).expect("auth").is_none());
        assert!(env.rt.block_on(db.authenticate_password("alice", "another long secret")).expect("auth").is_some());
        // rm
        env.fails(&["user", "rm", "bob"], 2, "--yes");
        env.ok(&["user", "rm", "bob", "--yes"]);
        assert_eq!(env.json(&["user", "list"]).as_array().map(Vec::len), Some(1));
        env.fails(&["user", "rm", "bob", "--yes"], 4, "error: no user \"bob\"");
    }

    fn user_add_refuses_bad_passwords_names_and_roles(env: &Env) {
        let (_, err) = piped(env, &["user", "add", "alice", "--role", "member"], "short\n", 2);
        assert!(err.contains("password must be at least 8 characters long") && !err.contains("short\n"), "{err}");
        let (_, err) = piped(env, &["user", "add", "alice", "--role", "member"], "", 2);
        assert!(err.contains("no password: type it at the prompt, or pipe it as the first line of stdin"), "{err}");
        piped(env, &["user", "add", "alice", "--role", "boss"], &format!("{PASSWORD}\n"), 2);
        piped(env, &["user", "add", "al ice", "--role", "admin"], &format!("{PASSWORD}\n"), 2);
        assert_eq!(env.json(&["user", "list"]), Value::Array(vec![]));
        piped(env, &["user", "add", "alice", "--role", "admin"], &format!("{PASSWORD}\n"), 0);
        let (_, err) = piped(env, &["user", "add", "ALICE", "--role", "admin"], &format!("{PASSWORD}\n"), 4);
        assert!(err.contains("already exists"), "{err}");
        piped(env, &["user", "passwd", "alice"], "short\n", 2);
        piped(env, &["user", "passwd", "nobody"], &format!("{PASSWORD}\n"), 4);
        // No password on the command line: there is no such option.
        piped(env, &["user", "add", "carol", "--role", "admin", "--password", PASSWORD], "", 2);
    }

    fn token_create_prints_the_secret_once_and_list_never_does(env: &Env) {
        piped(env, &["user", "add", "alice", "--role", "member"], &format!("{PASSWORD}\n"), 0);
        let out = env.ok(&["token", "create", "--user", "alice", "--label", "laptop"]);
        assert!(out.contains("will not be shown again"), "{out}");
        let secret = out.split_whitespace().find(|w| w.starts_with("hinv_")).expect("secret").to_string();
        let created = env.json(&["token", "create", "--user", "alice"]);
        let secret2 = created["secret"].as_str().expect("secret").to_string();
        let db = &env.test_db.db;
        assert!(env.rt.block_on(db.authenticate_token(&secret)).expect("auth").is_some());
        let list = env.ok(&["token", "list"]);
        let json = env.json(&["token", "list", "--user", "alice"]).to_string();
        for s in [&secret, &secret2] {
            assert!(!list.contains(s.as_str()) && !json.contains(s.as_str()), "secret listed: {list} {json}");
        }
        assert!(list.contains("laptop") && list.contains("alice"), "{list}");
        assert!(!json.contains("secret") && !json.contains("hash"), "{json}");
        let id = created["id"].as_i64().expect("id").to_string();
        env.ok(&["token", "revoke", &id]);
        assert!(env.rt.block_on(db.authenticate_token(&secret2)).expect("auth").is_none());
        let listed = env.json(&["token", "list"]);
        let revoked = listed.as_array().expect("array").iter().find(|t| t["id"] == created["id"]).expect("token");
        assert!(revoked["revoked_at"].is_string());
        env.fails(&["token", "revoke", "999999"], 4, "999999");
        env.fails(&["token", "create", "--user", "nobody"], 4, "error: no user \"nobody\"");
        env.fails(&["token", "list", "--user", "nobody"], 4, "error: no user \"nobody\"");
    }
}
