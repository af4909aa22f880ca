//! How the binary meets its user: the terminal prompt of every `rm`, progress bars only on
//! a terminal, and which database the flags and variables choose — on SQLite and PostgreSQL.

#[macro_use]
#[allow(dead_code, unused_macros)]
mod common;

use common::*;
use serde_json::Value;

const PASSWORD: &str = "correct horse battery";

/// Runs `args` on a terminal answering `answer`; returns what the terminal showed and the
/// exit code. Panics when `script` is missing: these tests are about the terminal.
fn answer(env: &Env, args: &str, answer: &str) -> (String, Option<i32>) {
    let out = on_terminal(env, args, answer)
        .expect("util-linux `script` runs commands on a terminal for these tests");
    (text(&out.stdout), out.status.code())
}

/// Everything a destructive command could change.
fn everything(env: &Env) -> Value {
    serde_json::json!({
        "locations": env.snapshot(),
        "items": env.items(),
        "categories": env.json(&["category", "list"]),
        "users": env.json(&["user", "list"]),
    })
}

/// `args` on a terminal: the prompt says what will happen; `n` (and a bare Enter) changes
/// nothing and exits 2; `y` does it and exits 0.
fn prompt_guards(env: &Env, args: &str, prompt: &str) {
    let before = everything(env);
    for no in ["n\n", "\n", "nope\n"] {
        let (shown, code) = answer(env, args, no);
        assert!(
            shown.contains(&format!("Really {prompt}? [y/N]")),
            "{args}: {shown}"
        );
        assert!(
            shown.contains(&format!("error: not confirmed; did not {prompt}")),
            "{args}: {shown}"
        );
        assert_eq!(code, Some(2), "{args} answered {no:?}: {shown}");
        assert_eq!(
            everything(env),
            before,
            "{args} answered {no:?} changed something"
        );
    }
    let (shown, code) = answer(env, args, "y\n");
    assert_eq!(code, Some(0), "{args} answered y: {shown}");
    assert!(
        shown.contains(&format!("Really {prompt}? [y/N]")),
        "{shown}"
    );
    assert!(!shown.contains("error:"), "{shown}");
    assert_ne!(everything(env), before, "{args} answered y changed nothing");
}

cli_tests! {
    migrated = true;

    fn location_rm_asks_on_a_terminal(env: &Env) {
        home(env);
        let garage = env.json(&["location", "show", "My House / Garage"])["id"].clone();
        prompt_guards(env, "location rm 'My House / Garage'",
            &format!("delete \"My House / Garage\" (#{garage}) and everything under it"));
        let paths: Vec<Value> = env.snapshot().as_array().expect("array").iter().map(|l| l["full_path"].clone()).collect();
        assert_eq!(paths, ["My House", "My House / Kitchen"]);
    }

    fn item_rm_asks_on_a_terminal(env: &Env) {
        home(env);
        let drill = env.add_item("Drill", TOOL_BOX, &[]);
        env.add_item("Pan", "My House / Kitchen", &[]);
        prompt_guards(env, &format!("item rm {drill}"),
            &format!("delete item #{drill} \"Drill\" (in {TOOL_BOX})"));
        let names: Vec<Value> = env.items().as_array().expect("array").iter().map(|i| i["name"].clone()).collect();
        assert_eq!(names, ["Pan"]);
    }

    fn category_rm_asks_on_a_terminal(env: &Env) {
        home(env);
        env.ok(&["category", "add", "Tools"]);
        env.ok(&["category", "add", "Kitchen"]);
        env.add_item("Drill", TOOL_BOX, &["--category", "Tools"]);
        prompt_guards(env, "category rm tools",
            "delete category \"Tools\" (1 item(s) keep existing, without a category)");
        let names: Vec<Value> = env.json(&["category", "list"]).as_array().expect("array").iter().map(|c| c["name"].clone()).collect();
        assert_eq!(names, ["Kitchen"]);
        assert_eq!(env.items()[0]["category"], Value::Null);
    }

    fn user_rm_asks_on_a_terminal(env: &Env) {
        for name in ["alice", "bob"] {
            let out = env.run_with_stdin(&["user", "add", name, "--role", "member"], &format!("{PASSWORD}\n"));
            assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        }
        env.ok(&["token", "create", "--user", "bob"]);
        prompt_guards(env, "user rm BOB", "delete user \"bob\" and their tokens");
        let names: Vec<Value> = env.json(&["user", "list"]).as_array().expect("array").iter().map(|u| u["username"].clone()).collect();
        assert_eq!(names, ["alice"]);
        assert_eq!(env.json(&["token", "list"]), Value::Array(vec![]));
    }

    fn long_operations_show_no_progress_when_piped(env: &Env) {
        home(env);
        let dir = tempfile::tempdir().expect("tempdir");
        let csv = dir.path().join("items.csv");
        let mut rows = String::from("name,location,notes\n");
        for i in 0..3000 {
            rows.push_str(&format!("Screw {i},{TOOL_BOX},\"box {i}, row {i}\"\n"));
        }
        std::fs::write(&csv, rows).expect("write csv");
        let backup = dir.path().join("home.backup.gz");
        let exported = dir.path().join("export.csv");
        let (csv, backup, exported) = (csv.display().to_string(), backup.display().to_string(), exported.display().to_string());
        for args in [
            vec!["import", csv.as_str()],
            vec!["export", exported.as_str()],
            vec!["export", "-"],
            vec!["db", "backup", backup.as_str()],
            vec!["db", "restore", backup.as_str(), "--yes"],
        ] {
            let out = env.run(&args);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
            assert!(!stderr.contains('\r'), "{args:?}: carriage return on piped stderr: {stderr:?}");
            assert!(!stderr.contains('\u{1b}'), "{args:?}: terminal escape on piped stderr: {stderr:?}");
            assert!(!stderr.contains("rows (") && !stderr.contains("[="), "{args:?}: a progress bar on piped stderr: {stderr:?}");
            // What stderr may say: nothing, or the one summary line of `export -`.
            let allowed = if args == ["export", "-"] { "Exported 3000 item(s)\n" } else { "" };
            assert_eq!(stderr, allowed, "{args:?}");
        }
        assert_eq!(env.items().as_array().map(Vec::len), Some(3000));
    }
}

/// The control for [`long_operations_show_no_progress_when_piped`]: on a terminal the same
/// import draws its bar (so the piped test would notice one).
#[test]
fn import_draws_a_progress_bar_on_a_terminal() {
    let env = Env::sqlite(true);
    home(&env);
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("items.csv");
    let mut rows = String::from("name,location\n");
    for i in 0..20_000 {
        rows.push_str(&format!("Screw {i},{TOOL_BOX}\n"));
    }
    std::fs::write(&csv, rows).expect("write csv");
    let (shown, code) = answer(&env, &format!("import '{}'", csv.display()), "");
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("Imported 20000 item(s)"), "{shown}");
    assert!(
        shown.contains("import [") && shown.contains("rows ("),
        "no progress bar on a terminal: {shown:?}"
    );
}

/// The name of the database in a PostgreSQL test URL.
fn database_name(url: &str) -> &str {
    url.rsplit('/').next().expect("database name")
}

/// `inventory location list` (JSON) with exactly `vars` set: the full paths it shows.
fn roots_with(vars: &[(&str, &str)], args: &[&str]) -> Vec<String> {
    let mut cmd = bare();
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd
        .args(args)
        .args(["--format", "json", "location", "list"])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{vars:?}: {}",
        text(&out.stderr)
    );
    let list: Value = serde_json::from_slice(&out.stdout).expect("json");
    list.as_array()
        .expect("array")
        .iter()
        .map(|l| l["full_path"].as_str().expect("path").to_string())
        .collect()
}

/// The POSTGRES_* variables of a test database on the local server.
fn postgres_vars(pg: &Env) -> Vec<(&'static str, String)> {
    let url = pg.url();
    let host_port = url
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("host:port");
    let (host, port) = host_port.rsplit_once(':').unwrap_or((host_port, "5432"));
    vec![
        ("POSTGRES_HOST", host.to_string()),
        ("POSTGRES_PORT", port.to_string()),
        ("POSTGRES_DB", database_name(url).to_string()),
        ("POSTGRES_USER", "postgres".to_string()),
    ]
}

#[test]
fn postgres_variables_build_the_url_when_database_url_is_unset() {
    let pg = Env::postgres(true);
    pg.add("Postgres House", "HOUSE", None);
    let vars = postgres_vars(&pg);
    let mut with_password: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The local server trusts the connection, so any password gets in: it must never show.
    with_password.push(("POSTGRES_PASSWORD", "pa55:w/rd@x"));
    assert_eq!(roots_with(&with_password, &[]), ["Postgres House"]);
    let mut cmd = bare();
    for (k, v) in &with_password {
        cmd.env(k, v);
    }
    let out = cmd.args(["db", "check"]).output().expect("run");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (host, port, db) = (&vars[0].1, &vars[1].1, &vars[2].1);
    assert_eq!(
        stdout,
        format!("Connected to postgres://postgres:***@{host}:{port}/{db} (postgres)\n")
    );
    assert!(!stdout.contains("pa55"), "{stdout}");
    // Written through the variables, read through the URL: the same database.
    let mut cmd = bare();
    for (k, v) in &vars {
        cmd.env(k, v);
    }
    let out = cmd
        .args(["location", "add", "Shed", "--type", "HOUSE"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let paths: Vec<Value> = pg
        .snapshot()
        .as_array()
        .expect("array")
        .iter()
        .map(|l| l["full_path"].clone())
        .collect();
    assert_eq!(paths, ["Postgres House", "Shed"]);
}

#[test]
fn database_url_flag_beats_the_variable_which_beats_postgres_variables() {
    let flag = Env::sqlite(true);
    flag.add("Flag House", "HOUSE", None);
    let variable = Env::sqlite(true);
    variable.add("Variable House", "HOUSE", None);
    let pg = Env::postgres(true);
    pg.add("Postgres House", "HOUSE", None);
    let pg_vars = postgres_vars(&pg);
    let mut all: Vec<(&str, &str)> = pg_vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        roots_with(&all, &[]),
        ["Postgres House"],
        "POSTGRES_* alone"
    );
    all.push(("DATABASE_URL", variable.url()));
    assert_eq!(
        roots_with(&all, &[]),
        ["Variable House"],
        "DATABASE_URL over POSTGRES_*"
    );
    assert_eq!(
        roots_with(&all, &["--database-url", flag.url()]),
        ["Flag House"],
        "--database-url over DATABASE_URL and POSTGRES_*"
    );
    // An empty DATABASE_URL counts as unset.
    let mut empty = all.clone();
    empty.retain(|(k, _)| *k != "DATABASE_URL");
    empty.push(("DATABASE_URL", ""));
    assert_eq!(
        roots_with(&empty, &[]),
        ["Postgres House"],
        "an empty DATABASE_URL is unset"
    );
}
