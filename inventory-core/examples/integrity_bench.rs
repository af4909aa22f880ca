//! Times `analyze` (and friends) on a realistic forest of 10^6 rows with planted damage.
//!
//! Run with `cargo run --release -p inventory-core --example integrity_bench [ROWS]`.

use std::time::{Duration, Instant};

use inventory_core::generate::{plant_damage, sample_forest_rows};
use inventory_core::{analyze, best_effort_paths, Forest, TypeRules};

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs {
        let start = Instant::now();
        let value = f();
        best = best.min(start.elapsed());
        out = Some(value);
    }
    match out {
        Some(value) => (best, value),
        None => (Duration::ZERO, f()),
    }
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let rules = TypeRules::default();

    let (gen_time, mut rows) = time(1, || sample_forest_rows(n, 42));
    let planted = plant_damage(&mut rows, 10, 10, 7);
    println!("generated {n} rows in {gen_time:.2?}");

    let (analyze_time, report) = time(5, || analyze(&rows, &rules));
    println!(
        "analyze: {analyze_time:.2?} (best of 5) — {} findings: {} orphans, {} cycles, {} unreachable, {} type violations, {} duplicate names",
        report.finding_count(),
        report.orphans.len(),
        report.cycles.len(),
        report.unreachable.len(),
        report.type_violations.len(),
        report.duplicate_names.len(),
    );
    assert_eq!(
        report.orphans, planted.orphans,
        "planted orphans found exactly"
    );
    assert_eq!(
        report.cycles, planted.cycles,
        "planted cycles found exactly"
    );

    let (paths_time, paths) = time(3, || best_effort_paths(&rows));
    println!(
        "best_effort_paths: {paths_time:.2?} (best of 3) — {} paths",
        paths.len()
    );

    let clean = sample_forest_rows(n, 42);
    let (clone_time, _) = time(3, || clean.clone());
    let (forest_time, forest) = time(3, || Forest::from_rows(clean.clone()));
    match forest {
        Ok(forest) => println!(
            "Forest::from_rows: {:.2?} (best of 3, without the {clone_time:.2?} it takes to clone the rows) — {} locations",
            forest_time.saturating_sub(clone_time),
            forest.len()
        ),
        Err(e) => println!("Forest::from_rows failed: {e}"),
    }
}
