//! `cargo xtask fuzz-api [--examples N] [--backend sqlite|postgres|both]`: property-based
//! testing of the HTTP API from its own OpenAPI document with Schemathesis. Per backend:
//! a fresh database holding a small generated home and an admin with a bearer token, the
//! `inventory-api` binary on it, and `st run` against `/api/v1/openapi.json` with every
//! check Schemathesis has but one: no 5xx; response bodies, statuses, content types and
//! headers as documented; schema-violating input refused; auth not ignored; `Allow` on 405;
//! deleted resources gone. Left out is "schema-valid input accepted", as some rules are
//! not in the document (see [`fuzz`]). At most `--examples` test cases per operation and
//! phase. Schemathesis is pinned and installed from PyPI into a virtual
//! environment under `target/fuzz-api/venv`, made once and reused.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use inventory_core::generate::{home_data, HomeSpec};
use inventory_core::Role;
use inventory_db::testing;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::pg;

/// The Schemathesis release this task runs (a newer one may add checks that need review).
pub(crate) const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// The size of the home each run starts from: enough for every kind of location and list
/// pages, small enough to load in a blink.
const HOME: HomeSpec = HomeSpec {
    locations: 40,
    items: 300,
    seed: 7,
};

/// Users made before the fuzzing admin, so that the small ids Schemathesis likes to try
/// (`DELETE /users/1`, `DELETE /tokens/1`) hit these rather than the admin running the test.
const DECOYS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Which {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Most test cases per operation (and per phase).
    #[arg(long, default_value_t = 50)]
    examples: u32,
    /// Which backend to run against.
    #[arg(long, value_enum, default_value_t = Which::Both)]
    backend: Which,
    /// The random seed (the same seed generates the same test cases).
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// A running `inventory-api`, killed on drop.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The status of `GET path` on a fresh connection, `None` when nothing answers.
async fn status_of(addr: &str, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.ok()?;
    String::from_utf8_lossy(&raw)
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

async fn serve(url: &str, log: &Path) -> anyhow::Result<Server> {
    let addr = format!(
        "127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port()
    );
    let log_file =
        std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let child = Command::new(crate::project_root().join("target/debug/inventory-api"))
        .args(["--database-url", url, "--bind", &addr, "--migrate"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .context("starting target/debug/inventory-api")?;
    let server = Server { child, addr };
    for _ in 0..200 {
        if status_of(&server.addr, "/healthz").await == Some(200) {
            return Ok(server);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("inventory-api on {} did not answer", server.addr)
}

/// The virtual environment's `st`, installing Schemathesis first when it is missing or of
/// another version.
fn schemathesis(dir: &Path) -> anyhow::Result<PathBuf> {
    let venv = dir.join("venv");
    let st = venv.join("bin/st");
    let installed = Command::new(&st)
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(SCHEMATHESIS_VERSION));
    if installed {
        return Ok(st);
    }
    if !venv.join("bin/python").exists() {
        println!(
            "fuzz-api: making a Python virtual environment in {}",
            venv.display()
        );
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .context("running python3 -m venv (is python3 with venv installed?)")?;
        ensure!(
            status.success(),
            "python3 -m venv {} failed",
            venv.display()
        );
    }
    println!("fuzz-api: installing schemathesis {SCHEMATHESIS_VERSION} from PyPI");
    let status = Command::new(venv.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .arg(format!("schemathesis=={SCHEMATHESIS_VERSION}"))
        .status()
        .context("running pip install schemathesis")?;
    ensure!(status.success(), "pip install schemathesis failed");
    Ok(st)
}

/// What one backend's run did, from Schemathesis's JSON report.
#[derive(Debug, Default)]
struct Tally {
    operations: u64,
    test_cases: u64,
    failures: u64,
}

/// Counts the operations tested and the test cases run in the `--report json` file.
fn tally(report: &Path) -> anyhow::Result<Tally> {
    let text =
        std::fs::read_to_string(report).with_context(|| format!("reading {}", report.display()))?;
    let json: Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", report.display()))?;
    let count = |v: &Value| v.as_u64().unwrap_or_default();
    let failures = json["failures"]
        .as_array()
        .map(|all| all.iter().map(|f| count(&f["count"])).sum())
        .unwrap_or_default();
    Ok(Tally {
        operations: count(&json["operations"]["tested"]),
        test_cases: count(&json["test_cases"]["generated"]),
        failures,
    })
}

/// The ids Schemathesis reaches for first are decoys' (see [`DECOYS`]).
async fn fill(db: &inventory_db::Database) -> anyhow::Result<String> {
    db.bulk_load(&home_data(&HOME), &|_, _| {}).await?;
    for n in 0..DECOYS {
        let name = format!("decoy{n}");
        db.create_user(&name, "decoy password 1", Role::Member)
            .await?;
        db.create_token(&name, Some("decoy")).await?;
    }
    db.create_user("fuzzer", "fuzzer password 1", Role::Admin)
        .await?;
    Ok(db.create_token("fuzzer", Some("fuzz-api")).await?.secret)
}

async fn fuzz(
    name: &str,
    url: &str,
    db: &inventory_db::Database,
    args: &Args,
) -> anyhow::Result<Tally> {
    let dir = crate::project_root().join("target/fuzz-api");
    let st = schemathesis(&dir)?;
    let token = fill(db).await?;
    let server = serve(url, &dir.join(format!("{name}-server.log"))).await?;
    let report = dir.join(format!("{name}-report.json"));
    let _ = std::fs::remove_file(&report);
    let started = Instant::now();
    let status = Command::new(&st)
        .arg("--no-color")
        .arg("run")
        .arg(format!("http://{}/api/v1/openapi.json", server.addr))
        .args(["--checks", "all"])
        // Not every rule is in the document, so some schema-valid requests are rightly
        // refused: opaque cursors that must come from a list, `user_id` xor `all=true`, a
        // price with its currency, CSV content, entity tags that are not current (412),
        // integers written as `4.0`. Each answers a documented 4xx problem.
        .args(["--exclude-checks", "positive_data_acceptance"])
        .args(["--max-examples", &args.examples.to_string()])
        .args(["--seed", &args.seed.to_string()])
        // One worker: with two, one worker's `DELETE /users/{id}` can take the tokens of
        // that user (rightly) between the other's `POST /tokens` and its check that the
        // token is there (`ensure_resource_availability`), a failure of the run and not
        // of the server.
        .args(["--workers", "1"])
        // Logging out revokes the token every other request carries.
        .args(["--exclude-path", "/api/v1/auth/logout"])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--report", "json,vcr", "--report-json-path"])
        .arg(&report)
        .arg("--report-vcr-path")
        .arg(dir.join(format!("{name}-cassette.yaml")))
        .args(["--report-dir"])
        .arg(dir.join(format!("{name}-reports")))
        .current_dir(&dir)
        .stdin(Stdio::null())
        .status()
        .context("running schemathesis")?;
    let took = started.elapsed();
    drop(server);
    let tally = tally(&report).unwrap_or_default();
    println!(
        "fuzz-api: {name}: {} operations, {} test cases, {} failures in {:.0?} (at most {} examples per operation and phase, seed {})",
        tally.operations, tally.test_cases, tally.failures, took, args.examples, args.seed
    );
    ensure!(
        status.success(),
        "{name}: schemathesis found failures (server log: target/fuzz-api/{name}-server.log)"
    );
    ensure!(tally.operations > 0, "{name}: no operation was tested");
    Ok(tally)
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let status = Command::new(crate::cargo())
        .current_dir(crate::project_root())
        .args(["build", "--quiet", "-p", "inventory-api"])
        .status()?;
    ensure!(status.success(), "building inventory-api failed");
    std::fs::create_dir_all(crate::project_root().join("target/fuzz-api"))?;
    let mut total = Tally::default();
    if matches!(args.backend, Which::Sqlite | Which::Both) {
        let sqlite = testing::sqlite().await;
        let t = fuzz("sqlite", &sqlite.url, &sqlite.db, &args).await?;
        total.operations += t.operations;
        total.test_cases += t.test_cases;
    }
    if matches!(args.backend, Which::Postgres | Which::Both) {
        let server = pg::find_or_start()?.context("fuzz-api on PostgreSQL needs PostgreSQL")?;
        std::env::set_var("INVENTORY_TEST_PG", &server.url);
        let postgres = testing::postgres().await;
        let t = fuzz("postgres", &postgres.url, &postgres.db, &args).await?;
        total.operations += t.operations;
        total.test_cases += t.test_cases;
    }
    println!(
        "fuzz-api: {} operations and {} test cases in all, no failure",
        total.operations, total.test_cases
    );
    Ok(())
}
