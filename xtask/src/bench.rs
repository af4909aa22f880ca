//! `cargo xtask bench`: the benchmark scenarios, measured in a release build
//! on a generated home (`inventory_core::generate::home_data`) loaded into a fresh database
//! of each backend through the library's bulk path. Prints a table per backend and writes
//! `target/bench/<backend>-<scale>.json`. Targets live here, never in timed tests: figures
//! are recorded, not asserted (the command fails only when a scenario cannot run).

mod http;
mod measure;
mod scenarios;

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use inventory_core::generate::{home_data, HomeData, HomeSpec};
use inventory_db::{testing, Backend};
use serde::Serialize;

use crate::pg;
use measure::{fmt_value, ms_since, Row, Target, Unit};
use scenarios::{Bench, Probes, SCENARIOS};

/// Which backends to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Which {
    Sqlite,
    Postgres,
    Both,
}

/// How big the data set is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
pub(crate) enum Scale {
    /// 10^4 locations and 10^4 items (the CI smoke run).
    #[value(name = "10k")]
    #[serde(rename = "10k")]
    Small,
    /// 10^6 locations and 10^6 items (where the targets apply).
    #[value(name = "1m")]
    #[serde(rename = "1m")]
    Large,
    /// 10^3 + 10^3 with a few runs each, on the binaries of the build the task runs from:
    /// proof that every scenario runs (what CI does), not a measurement.
    #[value(name = "smoke")]
    #[serde(rename = "smoke")]
    Smoke,
}

impl Scale {
    fn name(self) -> &'static str {
        match self {
            Scale::Small => "10k",
            Scale::Large => "1m",
            Scale::Smoke => "smoke",
        }
    }

    fn spec(self) -> HomeSpec {
        let n = match self {
            Scale::Small => 10_000,
            Scale::Large => 1_000_000,
            Scale::Smoke => 1_000,
        };
        HomeSpec {
            locations: n,
            items: n,
            seed: 2026,
        }
    }

    /// Runs of an in-process scenario of milliseconds.
    pub(crate) fn runs_fast(self) -> usize {
        match self {
            Scale::Smoke => 10,
            _ => 200,
        }
    }

    /// Runs of a whole-process scenario of milliseconds.
    pub(crate) fn runs_process(self) -> usize {
        match self {
            Scale::Smoke => 3,
            _ => 30,
        }
    }

    /// Runs of a scenario of about a second.
    pub(crate) fn runs_heavy(self) -> usize {
        match self {
            Scale::Small => 20,
            Scale::Large => 7,
            Scale::Smoke => 2,
        }
    }

    /// Runs of a scenario over the whole database (load, import, backup, restore, delete).
    pub(crate) fn runs_bulk(self) -> usize {
        match self {
            Scale::Small => 3,
            Scale::Large | Scale::Smoke => 2,
        }
    }

    /// Seconds of each HTTP load run (and each pgbench run).
    pub(crate) fn http_secs(self) -> u64 {
        match self {
            Scale::Small => 2,
            Scale::Large => 10,
            Scale::Smoke => 1,
        }
    }

    /// How many rows of the exported CSV the import scenario reads (`None`: all).
    pub(crate) fn import_rows(self) -> Option<usize> {
        match self {
            Scale::Small | Scale::Smoke => None,
            Scale::Large => Some(50_000),
        }
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Which backends to measure.
    #[arg(long, value_enum, default_value = "both")]
    backend: Which,
    /// Data set size: 10k (10^4 locations + 10^4 items) or 1m (10^6 + 10^6).
    #[arg(long, value_enum, default_value = "1m")]
    scale: Scale,
    /// Only these scenarios (repeatable; the bulk load always runs, it makes the data).
    #[arg(long, value_name = "NAME")]
    only: Vec<String>,
    /// Instead of measuring, load the data set into this (empty) database and stop: a
    /// database to look at queries and plans with.
    #[arg(long, value_name = "URL")]
    load_into: Option<String>,
}

/// The JSON file of one backend and scale.
#[derive(Debug, Serialize)]
struct Report<'a> {
    backend: String,
    scale: Scale,
    locations: usize,
    items: usize,
    date: String,
    machine: String,
    rows: &'a [Row],
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    if let Some(unknown) = args
        .only
        .iter()
        .find(|n| !SCENARIOS.iter().any(|s| s.name == n.as_str()))
    {
        let names: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
        bail!("no scenario {unknown}; scenarios: {}", names.join(", "));
    }
    let inventory = if args.scale == Scale::Smoke {
        build_binaries_here()?
    } else if cfg!(debug_assertions) {
        return rerun_in_release(&args);
    } else {
        release_dir().join("inventory")
    };
    for binary in [&inventory, &inventory.with_file_name("inventory-api")] {
        if !binary.exists() {
            bail!(
                "{} is missing: build it with `cargo build --release -p inventory-cli -p inventory-api`",
                binary.display()
            );
        }
    }
    let start = Instant::now();
    let data = Arc::new(home_data(&args.scale.spec()));
    if let Some(url) = &args.load_into {
        let db = inventory_db::Database::connect_or_create(
            &inventory_db::DatabaseUrl::parse(url)?,
            Default::default(),
        )
        .await?;
        db.migrate().await?;
        let loaded = db.bulk_load(&data, &|_, _| {}).await?;
        println!(
            "loaded {} rows in {:.1} s",
            loaded.rows(),
            start.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let probes = Probes::pick(&data)?;
    eprintln!(
        "bench: generated {} locations and {} items in {:.0} ms; probes: {probes:?}",
        data.locations.len(),
        data.items.len(),
        ms_since(start)
    );
    let dir = crate::project_root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let server = match args.backend {
        Which::Sqlite => None,
        Which::Postgres | Which::Both => pg::find_or_start()?,
    };
    if let Some(s) = &server {
        std::env::set_var("INVENTORY_TEST_PG", &s.url);
    }
    let backends: &[Backend] = match args.backend {
        Which::Sqlite => &[Backend::Sqlite],
        Which::Postgres => &[Backend::Postgres],
        Which::Both => &[Backend::Sqlite, Backend::Postgres],
    };
    let machine = machine();
    let date = chrono::Utc::now().format("%Y-%m-%d").to_string();
    for &backend in backends {
        if backend == Backend::Postgres && server.is_none() {
            eprintln!("bench: no PostgreSQL on this machine; the PostgreSQL half is skipped");
            continue;
        }
        let rows = run_backend(backend, &args, &data, &probes, &inventory, &dir).await?;
        print_table(backend, args.scale, &rows);
        let report = Report {
            backend: backend.to_string(),
            scale: args.scale,
            locations: data.locations.len(),
            items: data.items.len(),
            date: date.clone(),
            machine: machine.clone(),
            rows: &rows,
        };
        let path = dir.join(format!("{backend}-{}.json", args.scale.name()));
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Loads the data into a fresh database of `backend` and runs the chosen scenarios on it.
async fn run_backend(
    backend: Backend,
    args: &Args,
    data: &Arc<HomeData>,
    probes: &Probes,
    inventory: &std::path::Path,
    dir: &std::path::Path,
) -> anyhow::Result<Vec<Row>> {
    let main = match backend {
        Backend::Sqlite => testing::sqlite().await,
        Backend::Postgres => testing::postgres().await,
    };
    let work = dir.join(format!("work-{backend}"));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let mut rows = Vec::new();
    eprintln!("bench: {backend}: bulk load");
    let start = Instant::now();
    let loaded = main.db.bulk_load(data, &|_, _| {}).await?;
    let mut samples = vec![loaded.rows() as f64 / start.elapsed().as_secs_f64()];
    // More runs into fresh databases where that is cheap.
    if args.scale == Scale::Small {
        for _ in 1..args.scale.runs_bulk() {
            let scratch = match backend {
                Backend::Sqlite => testing::sqlite().await,
                Backend::Postgres => testing::postgres().await,
            };
            let start = Instant::now();
            let n = scratch.db.bulk_load(data, &|_, _| {}).await?.rows();
            samples.push(n as f64 / start.elapsed().as_secs_f64());
        }
    }
    let target = match backend {
        Backend::Sqlite => 300_000.0,
        Backend::Postgres => 200_000.0,
    };
    rows.push(
        Row::new(
            "bulk load through the library",
            Unit::RowsPerSec,
            samples,
            Target::median(target),
        )
        .note(format!("{} rows", loaded.rows())),
    );
    if backend == Backend::Postgres {
        // Planner statistics, as autovacuum would gather them shortly after a load.
        main.db.vacuum().await?;
    }
    let mut bench = Bench {
        backend,
        scale: args.scale,
        data: Arc::clone(data),
        probes: probes.clone(),
        main,
        rows: loaded.rows(),
        work: work.clone(),
        inventory: inventory.to_path_buf(),
        api: inventory.with_file_name("inventory-api"),
    };
    for scenario in SCENARIOS {
        if !args.only.is_empty() && !args.only.iter().any(|n| n == scenario.name) {
            continue;
        }
        eprintln!("bench: {backend}: {}", scenario.name);
        let start = Instant::now();
        let got = (scenario.run)(&mut bench)
            .await
            .with_context(|| format!("scenario {} on {backend}", scenario.name))?;
        eprintln!(
            "bench: {backend}: {} took {:.1} s",
            scenario.name,
            ms_since(start) / 1e3
        );
        rows.extend(got);
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(rows)
}

fn print_table(backend: Backend, scale: Scale, rows: &[Row]) {
    let spec = scale.spec();
    println!();
    println!(
        "{backend}, {} locations + {} items",
        spec.locations, spec.items
    );
    println!(
        "| {:<56} | {:>4} | {:>10} | {:>10} | {:<6} | {:<20} | {:<3} | note",
        "scenario", "runs", "median", "p95", "unit", "target", "met"
    );
    println!(
        "|{:-<58}|{:->6}|{:->12}|{:->12}|{:-<8}|{:-<22}|{:-<5}|------",
        "", "", "", "", "", "", ""
    );
    for r in rows {
        println!(
            "| {:<56} | {:>4} | {:>10} | {:>10} | {:<6} | {:<20} | {:<3} | {}",
            r.scenario,
            r.runs,
            fmt_value(r.median),
            fmt_value(r.p95),
            r.unit_name(),
            r.target_text,
            match r.met {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "-",
            },
            r.note
        );
    }
}

/// The directory of release binaries (`CARGO_TARGET_DIR` or `target/`).
fn release_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| crate::project_root().join("target"))
        .join("release")
}

/// Builds `inventory` and `inventory-api` in the profile this task was built in (for the
/// smoke run) and returns the path of `inventory`, beside this task's own binary.
fn build_binaries_here() -> anyhow::Result<std::path::PathBuf> {
    let mut cmd = Command::new(crate::cargo());
    cmd.current_dir(crate::project_root()).args([
        "build",
        "--quiet",
        "-p",
        "inventory-cli",
        "-p",
        "inventory-api",
    ]);
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    if !cmd.status().context("building the binaries")?.success() {
        bail!("building inventory and inventory-api failed");
    }
    let exe = std::env::current_exe().context("finding this task's binary")?;
    Ok(exe.with_file_name("inventory"))
}

/// Builds the release binaries and runs this task from the release build: only optimised
/// code is measured.
fn rerun_in_release(args: &Args) -> anyhow::Result<()> {
    let status = Command::new(crate::cargo())
        .current_dir(crate::project_root())
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "inventory-cli",
            "-p",
            "inventory-api",
            "-p",
            "xtask",
        ])
        .status()
        .context("building the release binaries")?;
    if !status.success() {
        bail!("building the release binaries failed");
    }
    let mut cmd = Command::new(release_dir().join("xtask"));
    cmd.current_dir(crate::project_root()).args([
        "bench",
        "--scale",
        args.scale.name(),
        "--backend",
        match args.backend {
            Which::Sqlite => "sqlite",
            Which::Postgres => "postgres",
            Which::Both => "both",
        },
    ]);
    for name in &args.only {
        cmd.args(["--only", name]);
    }
    if let Some(url) = &args.load_into {
        cmd.args(["--load-into", url]);
    }
    if !cmd.status().context("running the release bench")?.success() {
        bail!("benchmark failed");
    }
    Ok(())
}

/// The machine, for the record: CPU model, cores, memory.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    format!("{cpu}, {cores} cores, {mem_gib:.0} GiB")
}
