//! `inventory db backup | restore | copy` end to end, on both backends and across them.

#[macro_use]
#[allow(dead_code, unused_macros)]
mod common;

use common::*;
use serde_json::Value;

fn path(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).display().to_string()
}

cli_tests! {
    migrated = true;

    fn backup_restore_backup_gives_identical_files(env: &Env) {
        env.ok(&["demo"]);
        let original = env.snapshot();
        let original_items = env.items();
        let categories = env.json(&["category", "list"]);
        let dir = tempfile::tempdir().expect("tempdir");
        let (first, second) = (path(&dir, "first.backup"), path(&dir, "second.backup"));
        let out = env.ok(&["db", "backup", &first]);
        assert!(out.contains("row(s)"), "{out}");
        env.ok(&["location", "rm", "My House / Garage", "--yes", "--items", "delete"]);
        env.ok(&["location", "add", "Cottage", "--type", "HOUSE"]);
        env.fails(&["db", "restore", &first], 2, "pass --yes");
        let summary = env.json(&["db", "restore", &first, "--yes"]);
        let rows = [&original, &original_items, &categories]
            .iter()
            .map(|v| v.as_array().map_or(0, Vec::len) as u64)
            .sum::<u64>();
        assert_eq!(summary["total_rows"].as_u64(), Some(rows));
        assert_eq!(env.snapshot(), original);
        assert_eq!(env.items(), original_items);
        env.ok(&["db", "backup", &second]);
        assert_eq!(std::fs::read(&first).expect("first"), std::fs::read(&second).expect("second"));
    }

    fn compressed_backups_restore(env: &Env) {
        env.ok(&["demo"]);
        let original = env.snapshot();
        let dir = tempfile::tempdir().expect("tempdir");
        for name in ["home.backup.gz", "home.backup.zst"] {
            let file = path(&dir, name);
            env.ok(&["db", "backup", &file]);
            env.ok(&["db", "reset", "--yes"]);
            env.ok(&["db", "restore", &file, "--yes"]);
            assert_eq!(env.snapshot(), original, "{name}");
        }
    }

    fn bad_backup_files_are_refused_and_change_nothing(env: &Env) {
        env.add("My House", "HOUSE", None);
        let dir = tempfile::tempdir().expect("tempdir");
        let garbage = path(&dir, "garbage.backup");
        std::fs::write(&garbage, "this is not a backup\n").expect("write");
        env.fails(&["db", "restore", &garbage, "--yes"], 2, "error: not a Home Inventory backup (line 1)");
        env.fails(&["db", "restore", &path(&dir, "missing.backup"), "--yes"], 2, &format!("error: no backup file {}", path(&dir, "missing.backup")));
    }

    fn copy_refuses_a_target_that_is_not_empty(env: &Env) {
        env.add("My House", "HOUSE", None);
        let other = Env::sqlite(true);
        other.add("Other House", "HOUSE", None);
        env.fails(&["db", "copy", "--to", other.url()], 4, "the target database is not empty: table locations has 1 row(s)");
        env.fails(&["db", "copy", "--to", "mysql://x/y"], 2, "unsupported database scheme \"mysql\"");
        env.fails(&["db", "copy", "--to", "postgres://postgres@127.0.0.1:1/x"], 3, "error: target postgres://postgres@127.0.0.1:1/x: cannot connect");
    }
}

#[test]
fn sqlite_to_postgres_by_copy_and_by_backup() {
    let sqlite = Env::sqlite(true);
    let pg_copy = Env::postgres(false);
    let pg_restore = Env::postgres(false);
    sqlite.ok(&["demo"]);
    let original: Value = sqlite.snapshot();

    let out = sqlite.ok(&["db", "copy", "--to", pg_copy.url()]);
    assert!(out.contains("Copied"), "{out}");
    assert_eq!(pg_copy.snapshot(), original);

    let dir = tempfile::tempdir().expect("tempdir");
    let (from_sqlite, from_pg) = (path(&dir, "sqlite.backup"), path(&dir, "pg.backup"));
    sqlite.ok(&["db", "backup", &from_sqlite]);
    pg_restore.ok(&["db", "restore", &from_sqlite, "--yes"]);
    assert_eq!(pg_restore.snapshot(), original);
    pg_restore.ok(&["db", "backup", &from_pg]);
    assert_eq!(
        std::fs::read(&from_sqlite).expect("a"),
        std::fs::read(&from_pg).expect("b")
    );
    // New rows get fresh ids on PostgreSQL after a restore (sequences were moved on).
    let id = pg_restore.add("Cottage", "HOUSE", None);
    assert!(original
        .as_array()
        .expect("array")
        .iter()
        .all(|l| l["id"] != id));
}
