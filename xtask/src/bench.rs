//! `cargo xtask bench`: the benchmark scenarios of the issues, measured in a release build.
//! Prints a table and writes `target/bench/<suite>.json`. Targets live here, not in tests.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use inventory_core::generate::{plant_damage, sample_forest_rows};
use inventory_core::{analyze, Forest, LocationType, TypeRules};
use inventory_db::{testing, Database, NewLocation};
use serde::Serialize;

use crate::pg;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Rows for the in-memory integrity analysis.
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Locations written to each database backend.
    #[arg(long, default_value_t = 3_000)]
    db_rows: usize,
    /// Skip the database scenarios.
    #[arg(long)]
    core_only: bool,
}

#[derive(Debug, Serialize)]
struct Measurement {
    scenario: String,
    value: f64,
    unit: &'static str,
    target: Option<String>,
    met: Option<bool>,
}

#[derive(Debug, Serialize)]
struct Suite {
    suite: String,
    measurements: Vec<Measurement>,
}

fn measure(
    out: &mut Vec<Measurement>,
    scenario: impl Into<String>,
    value: f64,
    unit: &'static str,
    target: Option<(f64, bool)>,
) {
    out.push(Measurement {
        scenario: scenario.into(),
        value,
        unit,
        target: target.map(|(t, lower_is_better)| {
            format!("{} {t} {unit}", if lower_is_better { "<" } else { ">" })
        }),
        met: target.map(|(t, lower)| if lower { value < t } else { value > t }),
    });
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let v = f();
        best = best.min(start.elapsed());
        last = Some(v);
    }
    (best, last.unwrap_or_else(f))
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        // Measure optimised code only: re-run this task from a release build.
        let mut cmd = Command::new(crate::cargo());
        cmd.current_dir(crate::project_root())
            .args(["run", "--quiet", "--release", "-p", "xtask", "--", "bench"])
            .args([
                "--rows",
                &args.rows.to_string(),
                "--db-rows",
                &args.db_rows.to_string(),
            ]);
        if args.core_only {
            cmd.arg("--core-only");
        }
        if !cmd.status()?.success() {
            bail!("benchmark failed");
        }
        return Ok(());
    }
    let dir = crate::project_root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let mut suites = vec![core_suite(args.rows)];
    if !args.core_only {
        let server = pg::find_or_start()?;
        if let Some(s) = &server {
            std::env::set_var("INVENTORY_TEST_PG", &s.url);
        }
        suites.push(db_suite("sqlite", &testing::sqlite().await.db, args.db_rows).await?);
        match &server {
            Some(_) => {
                let t = testing::postgres().await;
                suites.push(db_suite("postgres", &t.db, args.db_rows).await?);
            }
            None => eprintln!("bench: no PostgreSQL, database scenarios on PostgreSQL skipped"),
        }
    }
    println!(
        "{:<46} {:>14} {:<8} {:<16} met",
        "scenario", "value", "unit", "target"
    );
    for suite in &suites {
        for m in &suite.measurements {
            println!(
                "{:<46} {:>14.3} {:<8} {:<16} {}",
                format!("{}: {}", suite.suite, m.scenario),
                m.value,
                m.unit,
                m.target.as_deref().unwrap_or("-"),
                match m.met {
                    Some(true) => "yes",
                    Some(false) => "NO",
                    None => "-",
                }
            );
        }
        let path = dir.join(format!("{}.json", suite.suite));
        std::fs::write(&path, serde_json::to_string_pretty(suite)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!("wrote {}", dir.join("*.json").display());
    Ok(())
}

fn core_suite(rows: usize) -> Suite {
    let mut m = Vec::new();
    let rules = TypeRules::default();
    let (t, mut data) = best_of(1, || sample_forest_rows(rows, 42));
    measure(
        &mut m,
        format!("generate {rows} rows"),
        t.as_secs_f64() * 1e3,
        "ms",
        None,
    );
    let planted = plant_damage(&mut data, 10, 10, 7);
    let (t, report) = best_of(5, || analyze(&data, &rules));
    assert_eq!(report.orphans.len(), planted.orphans.len());
    assert_eq!(report.cycles.len(), planted.cycles.len());
    measure(
        &mut m,
        format!("integrity analyze, {rows} rows"),
        t.as_secs_f64() * 1e3,
        "ms",
        Some((1000.0, true)),
    );
    let clean = sample_forest_rows(rows, 43);
    let (t, forest) = best_of(1, || Forest::from_rows(clean.clone()));
    let forest = forest.ok();
    measure(
        &mut m,
        format!("Forest::from_rows, {rows} rows"),
        t.as_secs_f64() * 1e3,
        "ms",
        None,
    );
    drop(forest);
    measure(
        &mut m,
        "peak memory (core suite)",
        peak_rss_mib(),
        "MiB",
        None,
    );
    Suite {
        suite: "core".into(),
        measurements: m,
    }
}

async fn db_suite(name: &str, db: &Database, rows: usize) -> anyhow::Result<Suite> {
    let mut m = Vec::new();
    let new = |name: String, t: LocationType, parent: Option<i64>| NewLocation {
        name,
        description: None,
        location_type: t,
        parent_id: parent,
    };
    let start = Instant::now();
    let house = db
        .create_location(&new("House".into(), LocationType::House, None))
        .await?
        .id;
    let mut rooms = Vec::new();
    for i in 0..20 {
        rooms.push(
            db.create_location(&new(format!("Room {i}"), LocationType::Room, Some(house)))
                .await?
                .id,
        );
    }
    let mut containers = Vec::new();
    let mut created = 21;
    while created < rows {
        let parent = if containers.len() > 40 && created % 3 == 0 {
            containers[created * 7 % containers.len()]
        } else {
            rooms[created % rooms.len()]
        };
        let id = db
            .create_location(&new(
                format!("Box {created}"),
                LocationType::Container,
                Some(parent),
            ))
            .await?
            .id;
        containers.push(id);
        created += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    measure(
        &mut m,
        format!("create {rows} locations"),
        rows as f64 / secs,
        "ops/s",
        None,
    );

    let start = Instant::now();
    let probes = 500.min(containers.len());
    for i in 0..probes {
        db.get_location(containers[i * 13 % containers.len()])
            .await?;
    }
    measure(
        &mut m,
        "get with full path + ancestors",
        start.elapsed().as_secs_f64() * 1e3 / probes as f64,
        "ms",
        Some((5.0, true)),
    );

    let (t, _) = timed(db.location_tree(None, None)).await?;
    measure(
        &mut m,
        format!("tree of {rows} locations"),
        t * 1e3,
        "ms",
        None,
    );
    let (t, outcome) = timed(db.integrity(false)).await?;
    if !outcome.is_clean() {
        bail!("bench data should be clean: {:?}", outcome.report);
    }
    measure(
        &mut m,
        format!("db integrity, {rows} locations"),
        t * 1e3,
        "ms",
        None,
    );

    let start = Instant::now();
    let moves = 300.min(containers.len());
    for i in 0..moves {
        db.move_location(
            containers[containers.len() - 1 - i],
            Some(rooms[(i * 7) % rooms.len()]),
        )
        .await?;
    }
    measure(
        &mut m,
        "move (cycle + type check, locked)",
        moves as f64 / start.elapsed().as_secs_f64(),
        "ops/s",
        None,
    );
    Ok(Suite {
        suite: format!("db-{name}"),
        measurements: m,
    })
}

async fn timed<T, E>(f: impl std::future::Future<Output = Result<T, E>>) -> Result<(f64, T), E> {
    let start = Instant::now();
    let v = f.await?;
    Ok((start.elapsed().as_secs_f64(), v))
}
