//! What the CLI writes (data-safety defects 6, 7 and 10), end to end on SQLite and
//! PostgreSQL: `export` and `db backup` never replace a file without `--force` nor ever
//! the database in use, create their files owner-only, as `db init` and `demo` do their
//! database; `location tree` of a deep chain stays one short line per location, and its
//! JSON well formed.

#[macro_use]
#[allow(dead_code, unused_macros)]
mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

/// The permission bits of `path`.
fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// Names in `dir`, sorted: no temporary file may be left behind.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `export FILE` and `db backup FILE`, with what their output starts with.
const OUTPUTS: [(&[&str], &str); 2] = [
    (&["export"], "name,quantity,location,"),
    (&["db", "backup"], "{\"format\":\"home-inventory-backup\""),
];

/// `command FILE` over an existing FILE: exit 2 naming it and `--force`, FILE unchanged
/// byte for byte, nothing else left in its directory.
fn assert_refuses_existing(env: &Env, command: &[&str]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("precious.txt");
    std::fs::write(&file, b"precious \x00\xff data\n").expect("write");
    let mut args = command.to_vec();
    args.push(file.to_str().expect("path"));
    let stderr = env.fails_unchanged(
        &args,
        2,
        &format!(
            "{} already exists; pass --force to replace it",
            file.display()
        ),
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(
        std::fs::read(&file).expect("read"),
        b"precious \x00\xff data\n"
    );
    assert_eq!(listing(dir.path()), ["precious.txt"]);
}

/// `command FILE --force` over an existing FILE replaces it with the output.
fn assert_replaces_with_force(env: &Env, command: &[&str], starts: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("old.out");
    std::fs::write(&file, "old contents\n").expect("write");
    let mut args = command.to_vec();
    args.extend([file.to_str().expect("path"), "--force"]);
    env.ok(&args);
    let written = std::fs::read_to_string(&file).expect("read");
    assert!(written.starts_with(starts), "{written}");
    assert_eq!(listing(dir.path()), ["old.out"]);
}

// 6. Outputs never replace a file without --force.

cli_tests! {
    migrated = true;

    fn export_refuses_an_existing_file_without_force(env: &Env) {
        home(env);
        env.add_item("Drill", TOOL_BOX, &[]);
        assert_refuses_existing(env, &["export"]);
    }

    fn backup_refuses_an_existing_file_without_force(env: &Env) {
        home(env);
        assert_refuses_existing(env, &["db", "backup"]);
    }

    fn export_with_force_replaces_an_existing_file(env: &Env) {
        home(env);
        env.add_item("Drill", TOOL_BOX, &[]);
        assert_replaces_with_force(env, &["export"], "name,quantity,location,");
    }

    fn backup_with_force_replaces_an_existing_file(env: &Env) {
        home(env);
        assert_replaces_with_force(env, &["db", "backup"], "{\"format\":\"home-inventory-backup\"");
    }
}

/// The SQLite file of `env`.
fn db_file(env: &Env) -> PathBuf {
    PathBuf::from(env.url().strip_prefix("sqlite://").expect("a SQLite URL"))
}

/// `path` with `suffix` appended to its file name (`x.db` → `x.db-wal`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

/// Every output command with and without `--force`, to `target` (run in `cwd` when given):
/// exit 2, "the database in use".
fn assert_never_written(env: &Env, target: &str, cwd: Option<&Path>) {
    for (command, _) in OUTPUTS {
        for force in [false, true] {
            let mut args = command.to_vec();
            args.push(target);
            if force {
                args.push("--force");
            }
            let mut cmd = env.cmd(&args);
            if let Some(dir) = cwd {
                cmd.current_dir(dir);
            }
            let out = cmd.write_stdin("").output().expect("run");
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(
                stderr
                    .contains("is the database in use (or one of its files); write somewhere else"),
                "{args:?}: {stderr}"
            );
        }
    }
}

/// The database still holds what it held, and its files are SQLite's.
fn assert_database_intact(env: &Env, locations: &Value, items: &Value) {
    let file = db_file(env);
    let head = std::fs::read(&file).expect("the database file");
    assert!(
        head.starts_with(b"SQLite format 3\0"),
        "the database file was replaced"
    );
    for suffix in ["-wal", "-shm"] {
        if let Ok(bytes) = std::fs::read(with_suffix(&file, suffix)) {
            for (_, starts) in OUTPUTS {
                assert!(
                    !bytes.starts_with(starts.as_bytes()),
                    "{suffix} was replaced"
                );
            }
        }
    }
    let out = env.run(&["db", "integrity", "--full"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("no findings"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(&env.snapshot(), locations);
    assert_eq!(&env.items(), items);
}

#[test]
fn outputs_never_write_over_the_live_sqlite_database_or_its_wal_and_shm_even_with_force() {
    let env = Env::sqlite(true);
    home(&env);
    env.add_item("Drill", TOOL_BOX, &[]);
    let (locations, items) = (env.snapshot(), env.items());
    let file = db_file(&env);
    // The test's own pool keeps connections open: the side files exist.
    assert!(with_suffix(&file, "-wal").exists() && with_suffix(&file, "-shm").exists());
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let target = with_suffix(&file, suffix);
        assert_never_written(&env, target.to_str().expect("path"), None);
        // The same file by a relative path.
        let name = target
            .file_name()
            .expect("name")
            .to_str()
            .expect("name")
            .to_string();
        assert_never_written(&env, &name, file.parent());
    }
    assert!(
        !with_suffix(&file, "-journal").exists(),
        "a -journal file was written"
    );
    assert_database_intact(&env, &locations, &items);
}

#[test]
fn a_symlink_to_the_live_sqlite_database_is_refused() {
    let env = Env::sqlite(true);
    home(&env);
    env.add_item("Drill", TOOL_BOX, &[]);
    let (locations, items) = (env.snapshot(), env.items());
    let file = db_file(&env);
    let links = tempfile::tempdir().expect("tempdir");
    let link = links.path().join("items.csv");
    std::os::unix::fs::symlink(&file, &link).expect("symlink");
    assert_never_written(&env, link.to_str().expect("path"), None);
    // A link to the database's directory.
    let alias = links.path().join("alias");
    std::os::unix::fs::symlink(file.parent().expect("dir"), &alias).expect("symlink");
    let through = alias.join(file.file_name().expect("name"));
    assert_never_written(&env, through.to_str().expect("path"), None);
    let wal = alias.join(format!(
        "{}-wal",
        file.file_name().expect("name").to_string_lossy()
    ));
    assert_never_written(&env, wal.to_str().expect("path"), None);
    assert!(std::fs::symlink_metadata(&link)
        .expect("link")
        .file_type()
        .is_symlink());
    assert_database_intact(&env, &locations, &items);
}

// 7. Owner-only files.

cli_tests! {
    migrated = true;

    fn new_exports_and_backups_are_created_0600(env: &Env) {
        home(env);
        env.add_item("Drill", TOOL_BOX, &[]);
        let dir = tempfile::tempdir().expect("tempdir");
        for (command, name) in [
            (&["export"][..], "items.csv"),
            (&["db", "backup"], "home.backup"),
            (&["db", "backup"], "home.backup.gz"),
            (&["db", "backup"], "home.backup.zst"),
        ] {
            let file = dir.path().join(name);
            let mut args = command.to_vec();
            args.push(file.to_str().expect("path"));
            env.ok(&args);
            assert_eq!(mode(&file), 0o600, "{name}: {:o}", mode(&file));
        }
    }

    fn replacing_a_0644_file_with_force_leaves_it_0600(env: &Env) {
        home(env);
        env.add_item("Drill", TOOL_BOX, &[]);
        let dir = tempfile::tempdir().expect("tempdir");
        for (command, _) in OUTPUTS {
            let file = dir.path().join("shared.out");
            std::fs::write(&file, "readable by all\n").expect("write");
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            assert_eq!(mode(&file), 0o644);
            let mut args = command.to_vec();
            args.extend([file.to_str().expect("path"), "--force"]);
            env.ok(&args);
            assert_eq!(mode(&file), 0o600, "{command:?}: {:o}", mode(&file));
        }
    }
}

#[test]
fn db_init_and_demo_create_the_sqlite_database_0600() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (command, path) in [
        (&["db", "init"][..], dir.path().join("a/init.db")),
        (&["demo"], dir.path().join("b/demo.db")),
    ] {
        let out = bare()
            .args(["--database-url", path.to_str().expect("path")])
            .args(command)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(mode(&path), 0o600, "{command:?}: {:o}", mode(&path));
    }
    // The write-ahead log and shared-memory files SQLite makes beside it get its mode.
    let path = dir.path().join("a/init.db");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let url = inventory_db::DatabaseUrl::parse(path.to_str().expect("path")).expect("url");
        let db = inventory_db::Database::connect(&url)
            .await
            .expect("connect");
        db.create_location(&inventory_db::NewLocation {
            name: "My House".into(),
            description: None,
            location_type: inventory_core::LocationType::House,
            parent_id: None,
        })
        .await
        .expect("write");
        for suffix in ["-wal", "-shm"] {
            let side = with_suffix(&path, suffix);
            assert_eq!(mode(&side), 0o600, "{suffix}: {:o}", mode(&side));
        }
    });
}

// 10. Deep trees on screen.

/// Loads a chain of `nodes` locations by `db restore`: `h` (HOUSE), `r` (ROOM), then
/// containers `b`, each under the one before (ids 1..=nodes). The backup's header is the
/// program's own, from a backup of the empty database.
fn plant_chain(env: &Env, nodes: i64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.backup");
    env.ok(&["db", "backup", empty.to_str().expect("path")]);
    let empty = std::fs::read_to_string(&empty).expect("read");
    let header = empty.lines().next().expect("header").replacen(
        "\"rows\":0",
        &format!("\"rows\":{nodes}"),
        1,
    );
    let at = "2026-01-01T00:00:00.000001Z";
    let mut body = format!("{header}\n");
    for id in 1..=nodes {
        let (name, kind, parent) = match id {
            1 => ("h", "HOUSE", "null".to_string()),
            2 => ("r", "ROOM", "1".to_string()),
            _ => ("b", "CONTAINER", (id - 1).to_string()),
        };
        body.push_str(&format!(
            "[{id},\"{name}\",null,\"{kind}\",{parent},\"{at}\",\"{at}\"]\n"
        ));
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in body.as_bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    body.push_str(&format!(
        "{{\"total_rows\":{nodes},\"fnv1a64\":\"{hash:016x}\"}}\n"
    ));
    let chain = dir.path().join("chain.backup");
    std::fs::write(&chain, body).expect("write");
    env.ok(&["db", "restore", chain.to_str().expect("path"), "--yes"]);
}

/// Objects and deepest nesting of well-formed JSON (brackets counted outside strings);
/// `None` when it is not balanced. serde_json cannot parse 5,000 levels (its recursion limit).
fn balanced_json(bytes: &[u8]) -> Option<(usize, usize)> {
    let (mut objects, mut depth, mut max_depth) = (0usize, 0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                objects += usize::from(b == b'{');
                depth += 1;
                max_depth = max_depth.max(depth);
            }
            b'}' | b']' => depth = depth.checked_sub(1)?,
            _ => {}
        }
    }
    (depth == 0 && !in_string).then_some((objects, max_depth))
}

cli_tests! {
    migrated = true;

    fn tree_of_a_5000_deep_chain_prints_one_short_line_per_location(env: &Env) {
        plant_chain(env, 5_000);
        let tree = env.ok(&["location", "tree"]);
        let lines: Vec<&str> = tree.lines().collect();
        assert_eq!(lines.len(), 5_000);
        assert_eq!(lines[0], "h (HOUSE) #1");
        assert_eq!(lines[1], "└── r (ROOM) #2");
        assert!(lines[4_999].ends_with("… (level 4999) └── b (CONTAINER) #5000"), "{}", lines[4_999]);
        // Indentation stops at a fixed number of levels; deeper lines say their level.
        let widest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        assert!(widest <= 200, "a line of {widest} characters");
    }

    fn tree_json_of_a_5000_deep_chain_is_well_formed(env: &Env) {
        plant_chain(env, 5_000);
        let out = env.cmd(&["--format", "json", "location", "tree"]).write_stdin("").output().expect("run");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let json = out.stdout;
        assert!(json.starts_with(b"[{\"id\":1,\"name\":\"h\","));
        assert!(json.ends_with(b"]}]\n"));
        // Every root's tree is an array; each location an object, nested one level deeper
        // (its `children`) than its parent's.
        assert_eq!(balanced_json(&json), Some((5_000, 1 + 2 * 5_000)));
        // One location's tree is an object; depth-limited, it is small enough to parse.
        let top = env.json(&["location", "tree", "h", "--depth", "10"]);
        assert_eq!(top["full_path"], "h");
        let mut node = &top;
        for level in 0..10 {
            assert_eq!(node["children"].as_array().map(Vec::len), Some(1), "level {level}");
            node = &node["children"][0];
        }
        assert_eq!(node["full_path"], format!("h / r{}", " / b".repeat(9)));
        assert_eq!(node["children"], Value::Array(vec![]));
    }
}
