//! `cargo xtask crash`: crash safety (PRODUCT §9). Starts `inventory db restore`,
//! `inventory import` and `inventory db copy` on a data set of `--rows` items, on SQLite and
//! on PostgreSQL, and SIGKILLs the process after a random delay spread over the operation's
//! measured duration. After each kill the target must hold exactly what it held before or
//! exactly what an uninterrupted run leaves (compared as a logical dump), and
//! `inventory db integrity` must be clean. On PostgreSQL the server side is cut as well:
//! `pg_terminate_backend` ends the writer's connection mid-write, and the target must again
//! be exactly as before or as after. A fourth operation is a burst of API writes
//! ([`burst`]): `inventory-api` on the target, concurrent clients writing through it, the
//! server SIGKILLed mid-burst; every acknowledged write must be there, every multi-row
//! write whole or absent, integrity clean, and the server must start again. The seed is
//! printed; `--seed N` replays the same delays and the same writes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use inventory_core::LocationType;
use inventory_db::{testing, NewLocation};

use crate::pg;

mod burst;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Seed of the kill delays (printed; the same seed gives the same delays).
    #[arg(long)]
    seed: Option<u64>,
    /// Kill points per operation and backend.
    #[arg(long, default_value_t = 20)]
    points: usize,
    /// Items in the data set.
    #[arg(long, default_value_t = 20_000)]
    rows: usize,
}

/// A small reproducible random source for the delays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A delay in `[0, max]`.
    fn delay(&mut self, max: Duration) -> Duration {
        let nanos = max.as_nanos().max(1) as u64;
        Duration::from_nanos(self.next() % (nanos + 1))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Restore,
    Import,
    Copy,
    ApiBurst,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Restore => "restore",
            Op::Import => "import",
            Op::Copy => "copy",
            Op::ApiBurst => "api-burst",
        }
    }
}

/// How one interrupted run ended.
#[derive(Debug, Default)]
struct Tally {
    before: usize,
    after: usize,
    /// Runs that failed (exit 3, one error line) because their connection was cut.
    cut: usize,
}

/// What the harness works with.
struct Env {
    bin: PathBuf,
    dir: PathBuf,
    csv: PathBuf,
    backup: PathBuf,
    pg_admin: String,
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    println!(
        "crash: seed {seed} (replay with `cargo xtask crash --seed {seed} --points {} --rows {}`)",
        args.points, args.rows
    );
    let mut rng = Rng(seed);
    let server = pg::find_or_start()?.context("crash needs PostgreSQL")?;
    std::env::set_var("INVENTORY_TEST_PG", &server.url);

    let status = Command::new(crate::cargo())
        .current_dir(crate::project_root())
        .args([
            "build",
            "--quiet",
            "-p",
            "inventory-cli",
            "-p",
            "inventory-api",
        ])
        .status()?;
    ensure!(
        status.success(),
        "building inventory-cli and inventory-api failed"
    );
    let bin = crate::project_root().join("target/debug/inventory");

    let tmp = tempfile_dir()?;
    let env = Env {
        bin,
        csv: tmp.join("items.csv"),
        backup: tmp.join("full.backup"),
        dir: tmp.clone(),
        pg_admin: server.url.clone(),
    };
    write_csv(&env.csv, args.rows)?;
    // The full data set, once: imported into SQLite, then backed up.
    let full_sqlite = testing::sqlite().await;
    cli(&env, &full_sqlite.url, &["import", "--create-locations"])
        .arg(&env.csv)
        .status_ok()?;
    cli(&env, &full_sqlite.url, &["db", "backup", "--force"])
        .arg(&env.backup)
        .status_ok()?;
    let full_pg = testing::postgres().await;
    cli(&env, &full_pg.url, &["db", "restore", "--yes"])
        .arg(&env.backup)
        .status_ok()?;
    let full_backup = std::fs::read(&env.backup)?;
    println!(
        "crash: data set of {} items, backup {} KiB",
        args.rows,
        full_backup.len() / 1024
    );

    let mut summary = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        for op in [Op::Restore, Op::Import, Op::Copy] {
            // Copy goes across backends: PostgreSQL → SQLite, SQLite → PostgreSQL.
            let source = match backend {
                Backend::Sqlite => &full_pg.url,
                Backend::Postgres => &full_sqlite.url,
            };
            let tally =
                kill_points(&env, backend, op, source, args.points, &mut rng, false).await?;
            summary.push(format!(
                "{backend:?} {}: {} SIGKILLs survived ({} before, {} after)",
                op.name(),
                tally.before + tally.after,
                tally.before,
                tally.after
            ));
        }
        let tally = burst::kill_points(&env, backend, args.points, args.rows, &mut rng).await?;
        summary.push(format!(
            "{backend:?} api-burst: {} SIGKILLs survived ({} acknowledged writes all there; {} \
             writes in flight, {} of them landed whole, the rest absent; the import in flight \
             {} times, {} of them landed whole)",
            tally.points,
            tally.acknowledged,
            tally.in_flight,
            tally.in_flight_landed,
            tally.import_in_flight,
            tally.import_landed
        ));
        if backend == Backend::Postgres {
            for op in [Op::Restore, Op::Import] {
                let points = args.points.div_ceil(2).max(3);
                let tally =
                    kill_points(&env, backend, op, &full_sqlite.url, points, &mut rng, true)
                        .await?;
                summary.push(format!(
                    "{backend:?} {}: {} pg_terminate_backend survived ({} before, {} after; \
                     {} cut mid-run, each exit 3 with one error line)",
                    op.name(),
                    tally.before + tally.after,
                    tally.before,
                    tally.after,
                    tally.cut
                ));
            }
        }
    }
    for line in &summary {
        println!("crash: {line}");
    }
    println!("crash: all kill points left the target as before or as after (seed {seed})");
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

/// A scratch directory under target/.
fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = crate::project_root()
        .join("target/crash")
        .join(std::process::id().to_string());
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// `rows` items in 20 rooms of boxes of 50, some with every column filled.
fn write_csv(path: &Path, rows: usize) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "name,quantity,location,description,notes")?;
    for i in 0..rows {
        writeln!(
            out,
            "Item {i},{},Crash House / Room {} / Box {},\"described, {i}\",note {i}",
            i % 7 + 1,
            i % 20,
            i / 50
        )?;
    }
    out.flush()?;
    Ok(())
}

/// `inventory --database-url URL ARGS…`, quiet.
fn cli(env: &Env, url: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(&env.bin);
    cmd.arg("--database-url")
        .arg(url)
        .args(args)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

trait StatusOk {
    fn status_ok(&mut self) -> anyhow::Result<()>;
}

impl StatusOk for Command {
    fn status_ok(&mut self) -> anyhow::Result<()> {
        let out = self.output()?;
        if !out.status.success() {
            bail!(
                "{:?} failed ({}): {}",
                self,
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }
}

/// A fresh target for `op`: empty for a copy (which refuses a target with rows), otherwise
/// holding a small home of its own, so that "before" is not "empty".
async fn target(backend: Backend, op: Op) -> anyhow::Result<testing::TestDb> {
    let t = match backend {
        Backend::Sqlite => testing::sqlite().await,
        Backend::Postgres => testing::postgres().await,
    };
    if op != Op::Copy {
        let house =
            t.db.create_location(&NewLocation {
                name: "Old House".into(),
                description: Some("here before".into()),
                location_type: LocationType::House,
                parent_id: None,
            })
            .await?;
        t.db.create_location(&NewLocation {
            name: "Old Room".into(),
            description: None,
            location_type: LocationType::Room,
            parent_id: Some(house.id),
        })
        .await?;
    }
    Ok(t)
}

/// The logical dump of a target: its backup, byte for byte (equal data gives equal bytes),
/// for restore and copy, which keep ids and times. An import stamps new times, so for it
/// the dump is the backup's header (every table's row count) and the export, sorted.
fn dump(env: &Env, url: &str, op: Op, n: usize) -> anyhow::Result<Vec<u8>> {
    let file = env.dir.join(format!("dump-{n}"));
    cli(env, url, &["db", "backup", "--force"])
        .arg(&file)
        .status_ok()?;
    let backup = std::fs::read(&file)?;
    if op != Op::Import {
        return Ok(backup);
    }
    let header = backup.split(|b| *b == b'\n').next().unwrap_or_default();
    cli(env, url, &["export", "--force"])
        .arg(&file)
        .status_ok()?;
    let export = std::fs::read_to_string(&file)?;
    let mut lines: Vec<&str> = export.lines().collect();
    lines.sort_unstable();
    let mut out = header.to_vec();
    out.push(b'\n');
    out.extend_from_slice(lines.join("\n").as_bytes());
    Ok(out)
}

/// Starts `op` against `url`; its stderr is kept when `keep_stderr`.
fn start(
    env: &Env,
    op: Op,
    url: &str,
    source: &str,
    keep_stderr: bool,
) -> anyhow::Result<std::process::Child> {
    let mut cmd = match op {
        Op::Restore => {
            let mut c = cli(env, url, &["db", "restore", "--yes"]);
            c.arg(&env.backup);
            c
        }
        Op::Import => {
            let mut c = cli(env, url, &["import", "--create-locations"]);
            c.arg(&env.csv);
            c
        }
        Op::Copy => cli(env, source, &["db", "copy", "--to", url]),
        Op::ApiBurst => bail!("the API burst is run by `burst::kill_points`"),
    };
    if !keep_stderr {
        cmd.stderr(Stdio::null());
    }
    Ok(cmd.spawn()?)
}

/// Ends every other connection to the target's database on the server.
fn terminate_backends(env: &Env, url: &str) -> anyhow::Result<()> {
    let name = url
        .rsplit('/')
        .next()
        .and_then(|s| s.split('?').next())
        .unwrap_or_default();
    let out = Command::new("psql")
        .arg(&env.pg_admin)
        .args(["-Atq", "-c"])
        .arg(format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .output()
        .context("running psql")?;
    ensure!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// Runs `op` once uninterrupted (its duration and the "after" dump), then `points` times
/// interrupted, checking each target.
async fn kill_points(
    env: &Env,
    backend: Backend,
    op: Op,
    source: &str,
    points: usize,
    rng: &mut Rng,
    server_side: bool,
) -> anyhow::Result<Tally> {
    let reference = target(backend, op).await?;
    let before = dump(env, &reference.url, op, 0)?;
    let started = Instant::now();
    let status = start(env, op, &reference.url, source, false)?.wait()?;
    let duration = started.elapsed();
    ensure!(
        status.success(),
        "{backend:?} {}: uninterrupted run failed",
        op.name()
    );
    let after = dump(env, &reference.url, op, 0)?;
    ensure!(
        before != after,
        "{backend:?} {}: the operation changed nothing",
        op.name()
    );
    drop(reference);
    let how = if server_side {
        "pg_terminate_backend"
    } else {
        "SIGKILL"
    };
    println!(
        "crash: {backend:?} {}: uninterrupted {:.2} s; {points} × {how}",
        op.name(),
        duration.as_secs_f64()
    );
    let mut tally = Tally::default();
    for point in 0..points {
        let t = target(backend, op).await?;
        // Each target is seeded afresh (its own times), so "before" is its own.
        let before = dump(env, &t.url, op, point + 1)?;
        // A tenth past the measured duration, so that some kills land after the commit.
        let delay = rng.delay(duration + duration / 10);
        let mut child = start(env, op, &t.url, source, server_side)?;
        tokio::time::sleep(delay).await;
        let finished = child.try_wait()?.is_some();
        if server_side {
            terminate_backends(env, &t.url)?;
        } else {
            let _ = child.kill();
        }
        let out = child.wait_with_output()?;
        let (status, stderr) = (out.status, String::from_utf8_lossy(&out.stderr));
        if server_side && !status.success() {
            // Its connection cut, the command fails cleanly: exit 3, one error line.
            ensure!(
                status.code() == Some(3)
                    && stderr.starts_with("error: ")
                    && stderr.trim_end().lines().count() == 1,
                "{backend:?} {}: {how} after {delay:?}: {status}, stderr: {stderr}",
                op.name()
            );
            tally.cut += 1;
        }
        let got = dump(env, &t.url, op, point + 1)?;
        let state = if got == before {
            tally.before += 1;
            "before"
        } else if got == after {
            tally.after += 1;
            "after"
        } else {
            let bad = env.dir.join(format!("bad-{}-{point}", op.name()));
            std::fs::write(&bad, &got)?;
            bail!(
                "{backend:?} {}: {how} after {delay:?} left the target neither as before nor \
                 as after (dump in {}; replay with --seed)",
                op.name(),
                bad.display()
            );
        };
        let integrity = cli(env, &t.url, &["db", "integrity", "--full"]).output()?;
        ensure!(
            integrity.status.success(),
            "{backend:?} {}: {how} after {delay:?}: db integrity is not clean: {}",
            op.name(),
            String::from_utf8_lossy(&integrity.stderr)
        );
        if state == "before" && status.success() && !finished {
            bail!(
                "{backend:?} {}: exit 0 after {how}, but the target is as before",
                op.name()
            );
        }
    }
    Ok(tally)
}
