//! Test harness for the `inventory` binary: a fresh database per test on each backend, and
//! helpers that run the binary against it.

use std::process::Output;

use assert_cmd::Command;
use inventory_db::testing::{self, TestDb};
use serde_json::Value;

/// A test database plus the runtime its handle lives on.
pub struct Env {
    /// Dropped first: removes the database.
    pub test_db: TestDb,
    pub rt: tokio::runtime::Runtime,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

impl Env {
    /// A fresh SQLite file, migrated or not.
    pub fn sqlite(migrate: bool) -> Env {
        let rt = runtime();
        let test_db = rt.block_on(testing::sqlite_with(migrate));
        Env { test_db, rt }
    }

    /// A fresh PostgreSQL database, migrated or not (fails, saying how to run the test,
    /// when no server answers).
    pub fn postgres(migrate: bool) -> Env {
        let rt = runtime();
        let test_db = rt.block_on(testing::postgres_with(migrate));
        Env { test_db, rt }
    }

    pub fn url(&self) -> &str {
        &self.test_db.url
    }

    /// The binary with `--database-url` set and no database variables inherited.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = bare();
        cmd.arg("--database-url").arg(self.url()).args(args);
        cmd
    }

    /// Runs the binary with stdin piped (empty).
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args)
            .write_stdin("")
            .output()
            .expect("run inventory")
    }

    /// Runs and asserts exit 0; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "inventory {args:?} failed\nstdout: {}\nstderr: {}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Runs with `--format json`, asserts exit 0, parses stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        let out = self.ok(&all);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: bad JSON ({e}): {out}"))
    }

    /// Every location as JSON: what "nothing was written" compares.
    pub fn snapshot(&self) -> Value {
        self.json(&["location", "list"])
    }

    /// Asserts that `args` exits with `code`, says `needle` on stderr in one `error:` line
    /// and leaves the locations unchanged.
    pub fn fails(&self, args: &[&str], code: i32, needle: &str) -> String {
        let before = self.snapshot();
        let out = self.run(args);
        let stderr = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(code),
            "inventory {args:?}: expected exit {code}\nstdout: {}\nstderr: {stderr}",
            text(&out.stdout)
        );
        assert!(
            stderr.contains(needle),
            "inventory {args:?}: stderr lacks {needle:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "panic: {stderr}");
        assert_eq!(
            self.snapshot(),
            before,
            "inventory {args:?} changed the data"
        );
        stderr
    }

    /// Every item as JSON.
    pub fn items(&self) -> Value {
        self.json(&["item", "list"])
    }

    /// Like [`Env::fails`], and the items are unchanged too.
    pub fn fails_unchanged(&self, args: &[&str], code: i32, needle: &str) -> String {
        let before = self.items();
        let stderr = self.fails(args, code, needle);
        assert_eq!(self.items(), before, "inventory {args:?} changed the items");
        stderr
    }

    /// Runs with `stdin` piped in.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        self.cmd(args)
            .write_stdin(stdin.to_string())
            .output()
            .expect("run inventory")
    }

    /// Adds an item (`item add NAME --location REF EXTRA…`), returns its id.
    pub fn add_item(&self, name: &str, location: &str, extra: &[&str]) -> i64 {
        let mut args = vec!["item", "add", name, "--location", location];
        args.extend_from_slice(extra);
        self.json(&args)["id"].as_i64().expect("id")
    }

    /// Adds a location, returns its id.
    pub fn add(&self, name: &str, kind: &str, parent: Option<&str>) -> i64 {
        let mut args = vec!["location", "add", name, "--type", kind];
        if let Some(p) = parent {
            args.extend(["--parent", p]);
        }
        self.json(&args)["id"].as_i64().expect("id")
    }

    /// Row counts per table (`db stats`).
    pub fn row_counts(&self) -> Value {
        self.json(&["db", "stats"])["tables"].clone()
    }
}

/// The binary with no database variables from the environment.
pub fn bare() -> Command {
    let mut cmd = Command::cargo_bin("inventory").expect("inventory binary");
    for var in [
        "DATABASE_URL",
        "POSTGRES_HOST",
        "POSTGRES_PORT",
        "POSTGRES_DB",
        "POSTGRES_USER",
        "POSTGRES_PASSWORD",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs each `fn name(env: &Env) { … }` against a SQLite file and a PostgreSQL database,
/// migrated or not (`migrated = true;` first): a module `name` with tests `sqlite` and
/// `postgres`, the same body for both.
macro_rules! cli_tests {
    (migrated = $migrate:expr; $(
        $(#[$meta:meta])* fn $name:ident($env:ident: &Env) $body:block
    )*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                fn body($env: &Env) $body

                #[test]
                fn sqlite() {
                    body(&Env::sqlite($migrate));
                }

                #[test]
                fn postgres() {
                    body(&Env::postgres($migrate));
                }
            }
        )*
    };
}

/// The Tool Box of [`home`].
pub const TOOL_BOX: &str = "My House / Garage / Metal Shelf / Tool Box";

/// My House > Garage > Metal Shelf > Tool Box, and My House > Kitchen.
pub fn home(env: &Env) {
    env.add("My House", "HOUSE", None);
    env.add("Garage", "ROOM", Some("My House"));
    env.add("Metal Shelf", "SHELF", Some("My House / Garage"));
    env.add(
        "Tool Box",
        "CONTAINER",
        Some("My House / Garage / Metal Shelf"),
    );
    env.add("Kitchen", "ROOM", Some("My House"));
}

/// Runs `inventory ARGS` on a pseudo-terminal (util-linux `script`) with `typed` as the
/// keyboard; `None` when `script` is not installed.
pub fn on_terminal(env: &Env, args: &str, typed: &str) -> Option<std::process::Output> {
    use std::io::Write;
    let bin = assert_cmd::cargo::cargo_bin("inventory");
    let command = format!("{} --database-url '{}' {args}", bin.display(), env.url());
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("DATABASE_URL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(typed.as_bytes()).ok()?;
    child.wait_with_output().ok()
}
