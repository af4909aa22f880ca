//! The binary in a degraded environment: a server that never answers, read-only files and
//! directories, a full disk, an out-of-date schema, another writer holding the lock, a
//! reader that goes away. Each failure is one clear `error:` line with the documented exit
//! code, and the database is left as it was. A full disk is a small tmpfs where the tests
//! may mount one, otherwise a file size limit (`RLIMIT_FSIZE`); the `file_size_limit` tests
//! always use the limit, so that no way of filling the disk goes untested or is skipped.

#[macro_use]
#[allow(dead_code, unused_macros)]
mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use common::*;
use inventory_db::TxMode;
use serde_json::Value;

/// The binary with no database variables, on `url`.
fn on(url: &str, args: &[&str]) -> Output {
    bare()
        .arg("--database-url")
        .arg(url)
        .args(args)
        .write_stdin("")
        .output()
        .expect("run inventory")
}

/// Asserts exit `code` and one `error:` line on stderr containing `needle`; returns it.
fn one_error(out: &Output, code: i32, needle: &str, what: &str) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: expected exit {code}\nstdout: {}\nstderr: {stderr}",
        text(&out.stdout)
    );
    assert_eq!(stderr.lines().count(), 1, "{what}: one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{what}: {stderr}");
    assert!(
        stderr.contains(needle),
        "{what}: stderr lacks {needle:?}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    stderr
}

/// The names in `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// ---------------------------------------------------------------------------------------
// A server that accepts the connection and never answers.

#[test]
fn a_server_that_never_answers_is_unreachable_after_the_connect_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        // Accept every connection and keep it open without a word.
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let url = format!("postgres://postgres:n3ver-sh0wn@127.0.0.1:{port}/inventory_system");
    let started = Instant::now();
    let children: Vec<_> = [
        &["db", "check"][..],
        &["location", "add", "Shed", "--type", "HOUSE"],
    ]
    .iter()
    .map(|args| {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("inventory"));
        for var in ["DATABASE_URL", "POSTGRES_HOST", "RUST_LOG"] {
            cmd.env_remove(var);
        }
        cmd.arg("--database-url")
            .arg(&url)
            .args(*args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn")
    })
    .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        let waited = started.elapsed();
        let stderr = one_error(
            &out,
            3,
            &format!("error: cannot connect to postgres://postgres:***@127.0.0.1:{port}/inventory_system: "),
            "silent server",
        );
        assert!(!stderr.contains("n3ver-sh0wn"), "{stderr}");
        assert!(out.stdout.is_empty());
        // The documented connect timeout is 5 s: it waited for it, and not much longer.
        assert!(
            waited >= Duration::from_millis(4500),
            "gave up after {waited:?}: {stderr}"
        );
        assert!(waited < Duration::from_secs(9), "took {waited:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Read-only SQLite files and directories.

/// Runs the binary without the superuser's power to ignore file permissions (tests often run
/// as root, who could write a 0400 file anyway).
fn unprivileged(url: &str, args: &[&str]) -> Output {
    let bin = assert_cmd::cargo::cargo_bin("inventory");
    let root = std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false);
    let mut cmd = if root {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--bounding-set=-all", "--inh-caps=-all", "--"])
            .arg(&bin);
        c
    } else {
        std::process::Command::new(&bin)
    };
    for var in ["DATABASE_URL", "POSTGRES_HOST", "RUST_LOG"] {
        cmd.env_remove(var);
    }
    cmd.arg("--database-url")
        .arg(url)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run inventory (as root: through util-linux setpriv, to drop capabilities)")
}

/// A small SQLite home in its own directory, made by the binary (so that no connection
/// stays open and the WAL is folded back into the file): returns (directory, file, URL).
fn sqlite_home() -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("home.db");
    let url = format!("sqlite://{}", file.display());
    for args in [
        &["db", "init"][..],
        &["location", "add", "My House", "--type", "HOUSE"],
        &[
            "location", "add", "Kitchen", "--type", "ROOM", "--parent", "My House",
        ],
        &["item", "add", "Kettle", "--location", "My House / Kitchen"],
    ] {
        let out = on(&url, args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    (dir, file, url)
}

/// Commands that only read, and commands that write, against a home from [`sqlite_home`].
const READS: &[&[&str]] = &[
    &["location", "list"],
    &["location", "show", "My House / Kitchen"],
    &["location", "tree"],
    &["item", "list"],
    &["find", "kettle"],
    &["export", "-"],
    &["db", "check"],
    &["db", "integrity"],
];
const WRITES: &[&[&str]] = &[
    &["location", "add", "Shed", "--type", "HOUSE"],
    &["location", "update", "My House", "--name", "Our House"],
    &["item", "add", "Mug", "--location", "My House / Kitchen"],
    &["item", "update", "1", "--quantity", "4"],
    &["location", "rm", "My House", "--yes", "--items", "delete"],
    &["category", "add", "Tools"],
];

fn file_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    entries(dir)
        .into_iter()
        .map(|name| {
            let bytes = std::fs::read(dir.join(&name)).unwrap_or_default();
            (name, bytes)
        })
        .collect()
}

#[test]
fn sqlite_read_only_file_serves_reads_and_refuses_writes_untouched() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, file, url) = sqlite_home();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o400)).expect("chmod");
    let before = std::fs::read(&file).expect("read db");
    for args in READS {
        let out = unprivileged(&url, args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let listed = unprivileged(&url, &["--format", "json", "location", "list"]);
    let listed: Value = serde_json::from_slice(&listed.stdout).expect("json");
    assert_eq!(listed.as_array().map(Vec::len), Some(2));
    for args in WRITES {
        let out = unprivileged(&url, args);
        one_error(
            &out,
            3,
            "attempt to write a readonly database",
            &format!("{args:?}"),
        );
    }
    let csv = dir.path().join("in.csv");
    std::fs::write(&csv, "name,location\nMug,My House / Kitchen\n").expect("csv");
    let out = unprivileged(&url, &["import", csv.to_str().expect("path")]);
    one_error(
        &out,
        3,
        "attempt to write a readonly database; nothing was imported",
        "import",
    );
    assert_eq!(
        std::fs::read(&file).expect("read db"),
        before,
        "the read-only file changed"
    );
    // Writable again, it holds exactly what it held, and is sound.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    assert_eq!(
        on(&url, &["db", "integrity", "--full"]).status.code(),
        Some(0)
    );
    let out = on(&url, &["--format", "json", "item", "list"]);
    let items: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(items[0]["name"], "Kettle");
    assert_eq!(items[0]["quantity"], 1);
    assert_eq!(items.as_array().map(Vec::len), Some(1));
}

/// In a read-only directory SQLite cannot create the `-shm` file that reading a WAL
/// database needs, so even reads fail: every command exits 3 with one error line, and the
/// file is not touched.
#[test]
fn sqlite_read_only_directory_refuses_cleanly_and_leaves_the_file_alone() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, _file, url) = sqlite_home();
    assert_eq!(
        entries(dir.path()),
        ["home.db"],
        "the WAL is folded back after each command"
    );
    let before = file_bytes(dir.path());
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o500)).expect("chmod");
    for args in READS.iter().chain(WRITES) {
        let out = unprivileged(&url, args);
        one_error(
            &out,
            3,
            "attempt to write a readonly database",
            &format!("{args:?}"),
        );
    }
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    assert_eq!(
        file_bytes(dir.path()),
        before,
        "the directory's files changed"
    );
    assert_eq!(
        on(&url, &["db", "integrity", "--full"]).status.code(),
        Some(0)
    );
}

// ---------------------------------------------------------------------------------------
// A full disk.

/// A small tmpfs mounted on a fresh directory, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// A tmpfs of `size` (e.g. `1M`); the reason when this machine does not let the tests
    /// mount one (not root, or no mount permission in the sandbox).
    fn mount(size: &str) -> Result<SmallDisk, String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Ok(SmallDisk { dir }),
            Ok(o) => Err(text(&o.stderr).trim().to_string()),
            Err(e) => Err(format!("cannot run mount: {e}")),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

/// The size at which a [`FullDisk`] is full.
const FULL_AT: u64 = 1024 * 1024;

/// A place where writes fail for want of space, in one of two ways.
enum FullDisk {
    /// A 1 MiB tmpfs: writes past it fail with ENOSPC.
    Tmpfs(SmallDisk),
    /// A plain directory, and the binary runs with `RLIMIT_FSIZE` at 1 MiB (set by
    /// util-linux `prlimit`, with SIGXFSZ ignored as the shell's `trap '' XFSZ` leaves it
    /// across `exec`): writing a file past 1 MiB fails with EFBIG. The workspace forbids
    /// `unsafe`, so no `pre_exec` `setrlimit` of our own.
    SizeLimit(tempfile::TempDir),
}

impl FullDisk {
    /// A tmpfs when the test process may mount one, otherwise the file size limit; says
    /// which on stderr. Nothing is skipped: the size limit needs no privilege.
    fn best() -> FullDisk {
        match SmallDisk::mount("1M") {
            Ok(disk) => {
                eprintln!("full disk: a 1 MiB tmpfs");
                FullDisk::Tmpfs(disk)
            }
            Err(why) => {
                eprintln!("full disk: no tmpfs ({why}); RLIMIT_FSIZE of 1 MiB instead");
                FullDisk::size_limit()
            }
        }
    }

    fn size_limit() -> FullDisk {
        FullDisk::SizeLimit(tempfile::tempdir().expect("tempdir"))
    }

    fn path(&self) -> &Path {
        match self {
            FullDisk::Tmpfs(disk) => disk.path(),
            FullDisk::SizeLimit(dir) => dir.path(),
        }
    }

    /// What the operating system says when a write does not fit.
    fn os_message(&self) -> &'static str {
        match self {
            FullDisk::Tmpfs(_) => "No space left on device",
            FullDisk::SizeLimit(_) => "File too large",
        }
    }

    /// What SQLite says when its file cannot grow: ENOSPC is SQLITE_FULL; EFBIG, which it
    /// meets when it retries the rest of a short write, is a write I/O error.
    fn db_message(&self) -> &'static str {
        match self {
            FullDisk::Tmpfs(_) => "database or disk is full",
            FullDisk::SizeLimit(_) => "disk I/O error",
        }
    }

    /// The binary on `url` with no database variables, its writes limited by this disk.
    fn run(&self, url: &str, args: &[&str]) -> Output {
        match self {
            FullDisk::Tmpfs(_) => on(url, args),
            FullDisk::SizeLimit(_) => {
                let mut cmd = std::process::Command::new("bash");
                cmd.arg("-c")
                    .arg(format!(
                        "trap '' XFSZ; exec prlimit --fsize={FULL_AT} -- \"$@\""
                    ))
                    .arg("bash")
                    .arg(assert_cmd::cargo::cargo_bin("inventory"))
                    .arg("--database-url")
                    .arg(url)
                    .args(args)
                    .stdin(std::process::Stdio::null());
                for var in ["DATABASE_URL", "POSTGRES_HOST", "RUST_LOG"] {
                    cmd.env_remove(var);
                }
                cmd.output()
                    .expect("run inventory under RLIMIT_FSIZE (needs bash and util-linux prlimit)")
            }
        }
    }
}

/// A CSV of `rows` items with fat notes (about 600 bytes a row) in `location`.
fn fat_csv(rows: usize, location: &str) -> String {
    let mut csv = String::from("name,location,notes\n");
    let filler = "lorem ipsum dolor sit amet ".repeat(22);
    for i in 0..rows {
        csv.push_str(&format!("Thing {i},{location},\"{i}: {filler}\"\n"));
    }
    csv
}

/// Everything the CLI shows of a database: what "unchanged" compares.
fn state(env: &Env) -> (Value, Value, Value) {
    (env.snapshot(), env.items(), env.row_counts())
}

cli_tests! {
    migrated = true;

    fn full_disk_fails_backup_and_export_cleanly(env: &Env) {
        backup_and_export_on_a_full_disk(env, FullDisk::best());
    }

    fn file_size_limit_fails_backup_and_export_cleanly(env: &Env) {
        backup_and_export_on_a_full_disk(env, FullDisk::size_limit());
    }

    fn out_of_date_schema_is_exit_3_and_says_to_migrate(env: &Env) {
        home(env);
        env.add_item("Drill", TOOL_BOX, &[]);
        env.ok(&["db", "rollback", "--steps", "1", "--yes"]);
        let dir = tempfile::tempdir().expect("tempdir");
        let backup = dir.path().join("b.backup").display().to_string();
        for args in [
            &["location", "list"][..],
            &["location", "add", "Shed", "--type", "HOUSE"],
            &["item", "list"],
            &["find", "drill"],
            &["export", "-"],
            &["db", "backup", &backup],
            &["db", "integrity"],
            &["db", "stats"],
        ] {
            let out = env.run(args);
            one_error(&out, 3, "the database schema is not current (1 migration(s) pending); run `inventory db migrate`", &format!("{args:?}"));
        }
        assert_eq!(entries(dir.path()), Vec::<String>::new());
        env.ok(&["db", "migrate"]);
        let paths: Vec<Value> = env.snapshot().as_array().expect("array").iter().map(|l| l["full_path"].clone()).collect();
        assert_eq!(paths.len(), 5, "{paths:?}");
        assert_eq!(env.items()[0]["name"], "Drill");
        // A schema newer than the program: exit 3, and it says to upgrade.
        env.rt
            .block_on(env.test_db.db.execute_raw_for_tests(
                "INSERT INTO __diesel_schema_migrations (version) VALUES ('29990101000000')",
            ))
            .expect("plant a newer migration");
        let out = env.run(&["location", "list"]);
        one_error(&out, 3, "the database has migration 29990101000000, which this version of Home Inventory does not know; upgrade the program", "newer schema");
    }

    fn a_writer_holding_the_lock_makes_writes_busy_and_changes_nothing(env: &Env) {
        home(env);
        let id = env.add_item("Drill", TOOL_BOX, &[]);
        let before = state(env);
        // Another writer: a tree-write transaction (SQLite BEGIN IMMEDIATE; PostgreSQL the
        // tree advisory lock) that also updates the item (a row lock on PostgreSQL).
        let db = env.test_db.db.clone();
        let (locked_tx, locked) = std::sync::mpsc::channel();
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let holder = env.rt.spawn(async move {
            db.transaction(TxMode::TreeWrite, async move |c| {
                let changes = inventory_db::ItemChanges { quantity: Some(42), ..Default::default() };
                inventory_db::ops::items::update(c, id, &changes).await?;
                locked_tx.send(()).expect("signal");
                let _ = released.await;
                Ok(())
            })
            .await
        });
        locked.recv_timeout(Duration::from_secs(10)).expect("the lock is held");
        let id = id.to_string();
        for args in [
            &["location", "add", "Shed", "--type", "HOUSE", "--lock-timeout", "1"][..],
            &["item", "update", &id, "--quantity", "7", "--lock-timeout", "1"],
            &["location", "rm", "My House / Kitchen", "--yes", "--lock-timeout", "1"],
        ] {
            let started = Instant::now();
            let out = env.run(args);
            let waited = started.elapsed();
            one_error(&out, 3, "the database is busy", &format!("{args:?}"));
            assert!(waited >= Duration::from_millis(900), "{args:?} gave up after {waited:?}, before --lock-timeout");
            assert!(waited < Duration::from_secs(6), "{args:?} took {waited:?}");
        }
        // Readers are not blocked by a writer.
        let out = env.run(&["--format", "json", "item", "list"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let items: Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(items[0]["quantity"], 1, "a reader sees the committed state");
        release.send(()).expect("release");
        env.rt.block_on(holder).expect("join").expect("the holder commits");
        // Only the holder's change is there; nothing of the refused writes.
        let (locations, items, _) = state(env);
        assert_eq!(locations, before.0);
        assert_eq!(items[0]["quantity"], 42);
        assert_eq!(items.as_array().map(Vec::len), Some(1));
        assert_eq!(env.run(&["db", "integrity"]).status.code(), Some(0));
    }

    fn a_reader_that_goes_away_is_not_an_error(env: &Env) {
        home(env);
        let dir = tempfile::tempdir().expect("tempdir");
        let csv = dir.path().join("many.csv");
        std::fs::write(&csv, fat_csv(2000, TOOL_BOX)).expect("csv");
        env.ok(&["import", csv.to_str().expect("path")]);
        for args in [
            &["item", "list"][..],
            &["--format", "json", "item", "list"],
            &["export", "-"],
            &["location", "tree"],
        ] {
            let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("inventory"))
                .env_remove("DATABASE_URL")
                .env_remove("RUST_LOG")
                .arg("--database-url")
                .arg(env.url())
                .args(args)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn");
            // Read a little, then go away.
            let mut stdout = child.stdout.take().expect("stdout");
            let mut first = [0u8; 64];
            std::io::Read::read_exact(&mut stdout, &mut first).expect("some output");
            drop(stdout);
            let out = child.wait_with_output().expect("wait");
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
            assert!(!stderr.contains("error"), "{args:?}: {stderr}");
        }
    }
}

#[test]
fn sqlite_full_disk_fails_import_and_restore_cleanly() {
    import_and_restore_on_a_full_disk(FullDisk::best());
}

#[test]
fn sqlite_file_size_limit_fails_import_and_restore_cleanly() {
    import_and_restore_on_a_full_disk(FullDisk::size_limit());
}

/// A SQLite home on `disk`: an import and a restore that do not fit fail with one error
/// line, exit 3, and leave the database as it was and sound; small writes work afterwards.
fn import_and_restore_on_a_full_disk(disk: FullDisk) {
    let file = disk.path().join("home.db");
    let url = format!("sqlite://{}", file.display());
    for args in [
        &["db", "init"][..],
        &["location", "add", "My House", "--type", "HOUSE"],
        &[
            "location", "add", "Kitchen", "--type", "ROOM", "--parent", "My House",
        ],
        &["item", "add", "Kettle", "--location", "My House / Kitchen"],
    ] {
        let out = on(&url, args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let dump = |url: &str| {
        let out = on(url, &["--format", "json", "item", "list"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let before = dump(&url);
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("fat.csv");
    std::fs::write(&csv, fat_csv(3000, "My House / Kitchen")).expect("csv");
    let out = disk.run(&url, &["import", csv.to_str().expect("path")]);
    one_error(&out, 3, disk.db_message(), "import");
    assert!(
        text(&out.stderr).contains("nothing was imported"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(dump(&url), before);
    assert_eq!(
        on(&url, &["db", "integrity", "--full"]).status.code(),
        Some(0)
    );

    // A big backup, made elsewhere, does not fit either: the restore changes nothing.
    let elsewhere = dir.path().join("big.db");
    let big = format!("sqlite://{}", elsewhere.display());
    for args in [
        &["db", "init"][..],
        &["location", "add", "My House", "--type", "HOUSE"],
        &[
            "location", "add", "Kitchen", "--type", "ROOM", "--parent", "My House",
        ],
        &["import", csv.to_str().expect("path")],
    ] {
        let out = on(&big, args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let backup = dir.path().join("big.backup").display().to_string();
    assert_eq!(on(&big, &["db", "backup", &backup]).status.code(), Some(0));
    let out = disk.run(&url, &["db", "restore", &backup, "--yes"]);
    one_error(&out, 3, disk.db_message(), "restore");
    assert_eq!(dump(&url), before);
    assert_eq!(
        on(&url, &["db", "integrity", "--full"]).status.code(),
        Some(0)
    );

    // Once the large attempts are gone, the database takes small writes again.
    let out = disk.run(
        &url,
        &["item", "add", "Mug", "--location", "My House / Kitchen"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// Backup and export of about 2 MB onto `disk`: each fails with one error line naming the
/// operating system's reason, exit 3, leaves no file behind and the database as it was.
fn backup_and_export_on_a_full_disk(env: &Env, disk: FullDisk) {
    home(env);
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("fat.csv");
    std::fs::write(&csv, fat_csv(3000, TOOL_BOX)).expect("csv");
    env.ok(&["import", csv.to_str().expect("path")]);
    let before = state(env);
    for (args, needle) in [
        (vec!["db", "backup"], "cannot write backup"),
        (vec!["export"], "cannot write CSV"),
    ] {
        let target = disk.path().join("out.file").display().to_string();
        let mut all = args.clone();
        all.push(&target);
        let out = disk.run(env.url(), &all);
        let stderr = one_error(&out, 3, needle, &format!("{args:?}"));
        assert!(stderr.contains(disk.os_message()), "{stderr}");
        assert_eq!(
            entries(disk.path()),
            Vec::<String>::new(),
            "{args:?} left a file on the full disk"
        );
    }
    assert_eq!(state(env), before);
    assert_eq!(env.run(&["db", "integrity"]).status.code(), Some(0));
}
