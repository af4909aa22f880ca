//! The scenarios: one function each, listed in [`SCENARIOS`] in the order they run.
//!
//! Every scenario gets the [`Bench`] of one backend: the generated data set, a database
//! loaded with it (the same for all scenarios), probe locations picked from the data, a
//! work directory and the release `inventory` binary. Scenarios that write leave the
//! database as they found it (moves go back; deletes are followed by a restore) or write
//! into fresh databases of their own. Adding a scenario is adding a function here and a
//! line to [`SCENARIOS`].

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Instant;

use anyhow::{bail, Context};
use inventory_core::generate::{HomeData, COMMON_WORD, RARE_WORD};
use inventory_core::{name_key, LocationId, LocationType};
use inventory_db::{testing, Backend, ItemsOnDelete};

use super::http::{self, ApiServer};
use super::measure::{ms_since, run_process, time_runs, ProcessRun, Row, Target, Unit};
use super::Scale;

/// One backend's bench: the data, the loaded database and what scenarios need.
pub(crate) struct Bench {
    pub backend: Backend,
    pub scale: Scale,
    pub data: std::sync::Arc<HomeData>,
    pub probes: Probes,
    /// The database every scenario reads (loaded once).
    pub main: testing::TestDb,
    /// Rows the main database holds.
    pub rows: u64,
    /// Files scenarios write (CSV, backups).
    pub work: PathBuf,
    /// The release `inventory` binary.
    pub inventory: PathBuf,
    /// The release `inventory-api` binary.
    pub api: PathBuf,
}

impl Bench {
    /// A fresh, migrated, empty database of this backend.
    pub(crate) async fn fresh(&self) -> testing::TestDb {
        match self.backend {
            Backend::Sqlite => testing::sqlite().await,
            Backend::Postgres => testing::postgres().await,
        }
    }

    /// Runs `inventory --database-url URL args…` against the main database.
    fn cli(&self, args: &[&str], rss: bool) -> anyhow::Result<ProcessRun> {
        self.cli_on(&self.main.url, args, rss)
    }

    /// Runs `inventory --database-url URL args…`.
    fn cli_on(&self, url: &str, args: &[&str], rss: bool) -> anyhow::Result<ProcessRun> {
        let mut all = vec!["--database-url", url];
        all.extend_from_slice(args);
        run_process(&self.inventory, &all, rss, &[])
    }

    /// Timed runs of a CLI command against the main database, plus one run for its peak
    /// RSS: (milliseconds per run, peak MiB).
    fn cli_runs(&self, args: &[&str], runs: usize) -> anyhow::Result<(Vec<f64>, Option<f64>)> {
        // A first run warms the page cache and the engine's, as every later run finds them.
        let rss = self.cli(args, true)?.rss_mib;
        let mut samples = Vec::with_capacity(runs);
        for _ in 0..runs {
            samples.push(self.cli(args, false)?.ms);
        }
        Ok((samples, rss))
    }
}

/// Locations picked from the data set for the scenarios.
#[derive(Clone, Debug)]
pub(crate) struct Probes {
    /// The smallest subtree of at least a hundredth of all locations (a room of ~10^4
    /// locations at 10^6), and its size.
    pub subtree: (LocationId, usize),
    /// The largest house and its size (~10^5 at 10^6).
    pub house: (LocationId, usize),
    /// The house of median size and its size (~130 at any scale).
    pub typical_house: (LocationId, usize),
    /// The deepest location and its depth.
    pub deepest: (LocationId, usize),
    /// Locations to move (each with its subtree size, where it is and where it goes).
    pub moves: Vec<MoveProbe>,
}

/// A move there and back.
#[derive(Clone, Debug)]
pub(crate) struct MoveProbe {
    pub id: LocationId,
    pub size: usize,
    pub from: Option<LocationId>,
    pub to: Option<LocationId>,
}

impl Probes {
    /// Picks the probes; fails on a data set too small to have them.
    pub(crate) fn pick(data: &HomeData) -> anyhow::Result<Probes> {
        let n = data.locations.len();
        let sizes = data.subtree_sizes();
        let subtree = data
            .subtree_root((n / 100).max(2))
            .context("no subtree of a hundredth of the locations")?;
        let house = data.largest_house().context("no house")?;
        let typical_house = data.typical_house().context("no house")?;
        let deepest = data.deepest().context("no locations")?;
        let loc = |id: LocationId| &data.locations[(id - 1) as usize];
        // A target under which `id` can go: of an allowed type, not `id`'s parent, below
        // nothing of `id`'s subtree, and without a child of the same name.
        let fits = |id: LocationId, target: LocationId| {
            let moved = loc(id);
            let key = name_key(&moved.name);
            let mut up = Some(target);
            while let Some(a) = up {
                if a == id {
                    return false;
                }
                up = loc(a).parent_id;
            }
            let allowed = inventory_core::TypeRules::default()
                .check(Some(loc(target).location_type), moved.location_type)
                .is_ok();
            allowed
                && moved.parent_id != Some(target)
                && !data
                    .locations
                    .iter()
                    .any(|l| l.parent_id == Some(target) && name_key(&l.name) == key)
        };
        let target_for = |id: LocationId, kinds: &[LocationType]| {
            data.locations
                .iter()
                .filter(|t| kinds.contains(&t.location_type))
                .map(|t| t.id)
                .find(|&t| fits(id, t))
        };
        let mut moves = Vec::new();
        // A leaf (the end of the deepest chain) into the big room.
        let leaf = deepest.0;
        if let Some(to) = Some(subtree.0)
            .filter(|&t| fits(leaf, t))
            .or_else(|| target_for(leaf, &[LocationType::Room]))
        {
            moves.push(MoveProbe {
                id: leaf,
                size: 1,
                from: loc(leaf).parent_id,
                to: Some(to),
            });
        }
        // A shelf or container of about a hundred locations into another room.
        if let Some(mid) = data
            .locations
            .iter()
            .filter(|l| {
                matches!(
                    l.location_type,
                    LocationType::Shelf | LocationType::Container
                )
            })
            .filter(|l| sizes[(l.id - 1) as usize] >= 50)
            .min_by_key(|l| (sizes[(l.id - 1) as usize].abs_diff(100), l.id))
        {
            if let Some(to) = target_for(mid.id, &[LocationType::Room]) {
                moves.push(MoveProbe {
                    id: mid.id,
                    size: sizes[(mid.id - 1) as usize],
                    from: mid.parent_id,
                    to: Some(to),
                });
            }
        }
        // The big room into another house.
        if loc(subtree.0).location_type == LocationType::Room {
            if let Some(to) = target_for(subtree.0, &[LocationType::House]) {
                moves.push(MoveProbe {
                    id: subtree.0,
                    size: subtree.1,
                    from: loc(subtree.0).parent_id,
                    to: Some(to),
                });
            }
        }
        // The largest house, re-rooted (a house can only stand at the root).
        moves.push(MoveProbe {
            id: house.0,
            size: house.1,
            from: None,
            to: None,
        });
        Ok(Probes {
            subtree,
            house,
            typical_house,
            deepest,
            moves,
        })
    }
}

/// What a scenario function returns.
pub(crate) type Outcome<'a> = Pin<Box<dyn Future<Output = anyhow::Result<Vec<Row>>> + 'a>>;

/// A named scenario.
pub(crate) struct Scenario {
    /// Its name, for `--only`.
    pub name: &'static str,
    /// The function that measures it.
    pub run: for<'a> fn(&'a mut Bench) -> Outcome<'a>,
}

/// Every scenario, in the order they run: reads first, then the ones that write (which
/// put the database back as they found it, or write elsewhere).
pub(crate) const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "integrity",
        run: integrity,
    },
    Scenario {
        name: "full-paths",
        run: full_paths,
    },
    Scenario {
        name: "subtree",
        run: subtree,
    },
    Scenario {
        name: "tree",
        run: tree,
    },
    Scenario {
        name: "get",
        run: get,
    },
    Scenario {
        name: "show",
        run: show,
    },
    Scenario {
        name: "search",
        run: search,
    },
    Scenario {
        name: "find",
        run: find,
    },
    Scenario {
        name: "http",
        run: http_get_location,
    },
    Scenario {
        name: "web",
        run: web_pages,
    },
    Scenario {
        name: "move",
        run: moves,
    },
    Scenario {
        name: "import",
        run: import,
    },
    Scenario {
        name: "backup",
        run: backup,
    },
    Scenario {
        name: "delete-restore",
        run: delete_restore,
    },
];

/// `inventory db integrity` (engine checks included) as a whole process, and its peak RSS.
fn integrity(b: &mut Bench) -> Outcome<'_> {
    Box::pin(async move {
        let (samples, rss) = b.cli_runs(&["db", "integrity"], b.scale.runs_heavy())?;
        let (time, memory) = match (b.scale, b.backend) {
            (Scale::Small | Scale::Smoke, _) => (25.0, 200.0),
            (Scale::Large, Backend::Sqlite) => (1500.0, 200.0),
            (Scale::Large, Backend::Postgres) => (800.0, 200.0),
        };
        Ok(vec![
            Row::new(
                "inventory db integrity (process)",
                Unit::Ms,
                samples,
                Target::median(time),
            ),
            rss_row("inventory db integrity peak RSS", rss, Some(memory)),
        ])
    })
}

/// The larger of two peak RSS figures.
fn max_rss(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn rss_row(name: &str, rss: Option<f64>, limit: Option<f64>) -> Row {
    Row::new(
        name,
        Unit::MiB,
        rss.into_iter().collect(),
        limit.and_then(Target::worst),
    )
}

/// Every location with its full path, in process (`location_outline` of every root, each
/// path built).
fn full_paths(b: &mut Bench) -> Outcome<'_> {
    Box::pin(async move {
        let db = &b.main.db;
        let mut count = 0usize;
        let samples = time_runs(b.scale.runs_heavy(), async |_| {
            let outline = db.location_outline(None, None).await?;
            count = 0;
            outline.for_each_with_path(|_, path| count += usize::from(!path.is_empty()));
            Ok(())
        })
        .await?;
        if count != b.data.locations.len() {
            bail!(
                "full paths: {count} paths for {} locations",
                b.data.locations.len()
            );
        }
        Ok(vec![Row::new(
            "full paths of all locations",
            Unit::Ms,
            samples,
            Target::median(1500.0),
        )
        .note(format!("{count} paths"))])
    })
}

/// The subtree of the big room with full paths, in process.
fn subtree(b: &mut Bench) -> Outcome<'_> {
    Box::pin(async move {
        let db = &b.main.db;
        let (root, size) = b.probes.subtree;
        let mut count = 0usize;
        let samples = time_runs(b.scale.runs_fast(), async |_| {
            let outline = db.location_outline(Some(root), None).await?;
            count = 0;
            outline.for_each_with_path(|_, path| count += usize::from(!path.is_empty()));
            Ok(())
        })
        .await?;
        if count != size {
            bail!("subtree of #{root}: {count} nodes, expected {size}");
        }
        Ok(vec![Row::new(
            format!("subtree of {size} locations with paths"),
            Unit::Ms,
            samples,
            Target::p95(10.0),
        )])
    })
}

/// `inventory location tree #ID` as a whole process: of a house of median size (the
/// target: ≤ 10 ms on SQLite), and of the big room (recorded, with its peak RSS).
fn tree(b: &mut Bench) -> Outcome<'_> {
    Box::pin(async move {
        let runs = b.scale.runs_process();
        let (house, house_size) = b.probes.typical_house;
        let (house_ms, _) = b.cli_runs(&["location", "tree", &format!("#{house}")], runs)?;
        let (room, room_size) = b.probes.subtree;
        let (room_ms, rss) = b.cli_runs(&["location", "tree", &format!("#{room}")], runs)?;
        let house_target = match b.backend {
            Backend::Sqlite => Target::median(10.0),
            Backend::Postgres => None,
        };
        Ok(vec![
            Row::new(
                format!("inventory location tree of a house ({house_size} nodes, process)"),
                Unit::Ms,
                house_ms,
                house_target,
            ),
            Row::new(
                format!("inventory location tree ({room_size} nodes, process)"),
                Unit::Ms,
                room_ms,
                None,
            ),
            rss_row("inventory location tree peak RSS", rss, Some(200.0)),
        ])
    })
}

/// Locations `get` and `show` look at: the deepest, the big room, the largest house and a
/// spread of others.
fn get_probes(b: &Bench) -> Vec<LocationId> {
    let n = b.data.locations.len() as i64;
    let mut ids = vec![b.probes.deepest.0, b.probes.subtree.0, b.probes.house.0];
    ids.extend((1..=17).map(|k| (k * 7919 * n / 17 / 7919).clamp(1, n)));
    ids
}

/// One location with its full path, ancestors and child count, in process.
fn get(b: &mut Bench) -> Outcome<'_> {
    Box::pin(async move {
        let db = &b.main.db;
        let ids = get_probes(b);
        let samples = time_runs(b.scale.runs_fast(), async |i| {
            db.get_location(ids[i % ids.len()]).await?;
            Ok(())
        })
        .await?;
        Ok(vec![Row::new(
            "get one location with full path",
            Unit::Ms,
            samples,
            Target::p95(1.0),
        )])
    })
}

/// `inventory location show #ID` of the deepest location, as a whole process.
fn show(b: &mut Bench) -> Outcome<'_> {
    Box::pin(async move {
        let (id, depth) = b.probes.deepest;
        let reference = format!("#{id}");
        let (samples, rss) =
            b.cli_runs(&["location", "show", &reference], b.scale.runs_process())?;
        let target = match b.backend {
            Backend::Sqlite => 10.0,
            Backend::Postgres => 20.0,
        };
        Ok(vec![
            Row::new(
                "inventory location show (process)",
                Unit::Ms,
                samples,
                Target::median(target),
            )
            .note(format!("depth {depth}")),
            rss_row("inventory location show peak RSS", rss, Some(200.0)),
        ])
    })
}

/// `Database::search` for the rare and the common probe word.
fn search(b: &mut Bench) -> Outcome<'_> {
    Box::pin(async move {
        let db = &b.main.db;
        let mut rows = Vec::new();
        for (label, word) in [("rare", RARE_WORD), ("common", COMMON_WORD)] {
            let mut hits = 0;
            let samples = time_runs(b.scale.runs_fast(), async |_| {
                hits = db.search(word, 20).await?.len();
                Ok(())
            })
            .await?;
            if hits == 0 {
                bail!("search for {word} found nothing");
            }
            rows.push(
                Row::new(
                    format!("search, {label} word \"{word}\""),
                    Unit::Ms,
                    samples,
                    Target::p95(50.0),
                )
                .note(format!("{hits} hits shown")),
            );
        }
        Ok(rows)
    })
}

/// `inventory find cable` as a whole process.
fn find(b: &mut Bench) -> Outcome<'_> {
    Box::pin(async move {
        let (samples, _) = b.cli_runs(&["find", COMMON_WORD], b.scale.runs_process())?;
        Ok(vec![Row::new(
            format!("inventory find {COMMON_WORD} (process)"),
            Unit::Ms,
            samples,
            None,
        )])
    })
}

/// Moves there and back: a leaf, ~100 locations, the big room, the largest house.
fn moves(b: &mut Bench) -> Outcome<'_> {
    Box::pin(async move {
        let db = &b.main.db;
        let mut rows = Vec::new();
        for probe in b.probes.moves.clone() {
            let samples = time_runs(b.scale.runs_fast(), async |i| {
                let to = if i % 2 == 0 { probe.to } else { probe.from };
                db.move_location(probe.id, to).await?;
                Ok(())
            })
            .await?;
            if db.get_location(probe.id).await?.location.parent_id != probe.from {
                db.move_location(probe.id, probe.from).await?;
            }
            rows.push(Row::new(
                format!("move a location ({} nodes)", probe.size),
                Unit::Ms,
                samples,
                Target::p95(5.0),
            ));
        }
        Ok(rows)
    })
}

/// `inventory export` of every item, then `inventory import --create-locations` of that
/// file into fresh databases.
fn import(b: &mut Bench) -> Outcome<'_> {
    Box::pin(async move {
        let csv = b.work.join("items.csv");
        let _ = std::fs::remove_file(&csv);
        let csv_arg = csv.to_string_lossy().to_string();
        let items = b.data.items.len() as f64;
        let export = b.cli(&["export", &csv_arg], true)?;
        let mut rows = vec![Row::new(
            "inventory export (CSV, process)",
            Unit::RowsPerSec,
            vec![items / (export.ms / 1e3)],
            None,
        )
        .note(format!("{items} rows, {:.0} ms", export.ms))];
        // At 10^6 the import reads the first rows of the export only: a row-by-row import
        // of all of them would take most of an hour.
        let items = match b.scale.import_rows() {
            Some(keep) if (keep as f64) < items => {
                let text = std::fs::read_to_string(&csv)?;
                let cut: String = text.split_inclusive('\n').take(keep + 1).collect();
                std::fs::write(&csv, cut)?;
                keep as f64
            }
            _ => items,
        };
        let mut samples = Vec::new();
        let mut rss = None;
        for _ in 0..b.scale.runs_bulk() {
            let target = b.fresh().await;
            let run = b.cli_on(
                &target.url,
                &["import", &csv_arg, "--create-locations"],
                true,
            )?;
            samples.push(items / (run.ms / 1e3));
            rss = max_rss(rss, run.rss_mib);
        }
        rows.push(
            Row::new(
                "inventory import (CSV into an empty database, process)",
                Unit::RowsPerSec,
                samples,
                Target::median(100_000.0),
            )
            .note(format!("{items} rows, locations created")),
        );
        rows.push(rss_row("inventory import peak RSS", rss, None));
        Ok(rows)
    })
}

/// `inventory db backup` of the whole database, as a whole process, and its peak RSS.
fn backup(b: &mut Bench) -> Outcome<'_> {
    Box::pin(async move {
        let file = backup_file(b);
        let arg = file.to_string_lossy().to_string();
        let mut samples = Vec::new();
        let mut rss = None;
        for _ in 0..b.scale.runs_bulk() {
            let run = b.cli(&["db", "backup", &arg, "--force"], true)?;
            samples.push(b.rows as f64 / (run.ms / 1e3));
            rss = max_rss(rss, run.rss_mib);
        }
        let size = std::fs::metadata(&file).map_or(0, |m| m.len());
        Ok(vec![
            Row::new(
                "inventory db backup (process)",
                Unit::RowsPerSec,
                samples,
                Target::median(200_000.0),
            )
            .note(format!("{} rows, {} MB", b.rows, size / 1_000_000)),
            rss_row("inventory db backup peak RSS", rss, Some(200.0)),
        ])
    })
}

fn backup_file(b: &Bench) -> PathBuf {
    b.work.join("backup.jsonl")
}

/// Deletes the largest house with its items (in process), then restores the backup
/// (`inventory db restore`, a whole process), which brings the house back for the next run.
fn delete_restore(b: &mut Bench) -> Outcome<'_> {
    Box::pin(async move {
        let file = backup_file(b);
        if !file.exists() {
            let arg = file.to_string_lossy().to_string();
            b.cli(&["db", "backup", &arg, "--force"], false)?;
        }
        let arg = file.to_string_lossy().to_string();
        let (house, size) = b.probes.house;
        let mut deletes = Vec::new();
        let mut restores = Vec::new();
        let mut rss = None;
        let mut items = 0;
        for _ in 0..b.scale.runs_bulk() {
            let start = Instant::now();
            let outcome = b
                .main
                .db
                .delete_location_with(house, ItemsOnDelete::Delete)
                .await?;
            deletes.push(ms_since(start));
            items = outcome.items_affected;
            if outcome.locations_deleted as usize != size {
                bail!(
                    "deleting house #{house} removed {} locations, expected {size}",
                    outcome.locations_deleted
                );
            }
            let run = b.cli(&["db", "restore", &arg, "--yes"], true)?;
            restores.push(b.rows as f64 / (run.ms / 1e3));
            rss = max_rss(rss, run.rss_mib);
        }
        Ok(vec![
            Row::new(
                format!("delete a house of {size} locations with its items"),
                Unit::Ms,
                deletes,
                Target::median(2000.0),
            )
            .note(format!("{items} items")),
            Row::new(
                "inventory db restore (process)",
                Unit::RowsPerSec,
                restores,
                Target::median(200_000.0),
            )
            .note(format!("{} rows", b.rows)),
            rss_row("inventory db restore peak RSS", rss, Some(200.0)),
        ])
    })
}

/// Concurrent connections of the HTTP scenario, and pgbench's clients.
const HTTP_CONNECTIONS: usize = 16;

/// The statements `GET /api/v1/locations/{id}` runs on PostgreSQL, for pgbench: the token
/// check, then in one read-only snapshot the location, its child count, its ancestors and
/// the item totals here and below (`:id` drawn uniformly from every location, `:token` the
/// SHA-256 of the bench token).
const GET_LOCATION_PG: &str = include_str!("get_location.pgbench.sql");

/// `GET /api/v1/locations/{id}` over 16 keep-alive connections against the release
/// `inventory-api` on the bench database, ids spread over every location; the API's peak
/// RSS; on PostgreSQL, `pgbench -M prepared -c 16` on the same statements and the ratio.
fn http_get_location(b: &mut Bench) -> Outcome<'_> {
    Box::pin(async move {
        let user = "bench-reader";
        let _ = b.main.db.delete_user(user).await;
        b.main
            .db
            .create_user(user, "bench reader password", inventory_core::Role::Viewer)
            .await?;
        let spec = inventory_db::TokenSpec {
            label: Some("bench".into()),
            scope: inventory_core::Scope::Read,
            expires_at: None,
        };
        let token = b.main.db.create_token_for(user, &spec).await?.secret;
        let n = b.data.locations.len() as i64;
        // A fixed pseudo-random spread of ids (xorshift), the same every run.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let ids: Vec<i64> = (0..10_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                1 + (x % n as u64) as i64
            })
            .collect();
        let ids = std::sync::Arc::new(ids);
        let secs = b.scale.http_secs();
        let server = ApiServer::start(&b.api, &b.main.url).await?;
        // A short warm-up fills the pool and the caches.
        http::load(
            server.addr,
            &token,
            ids.clone(),
            HTTP_CONNECTIONS,
            std::time::Duration::from_secs(1),
        )
        .await?;
        let mut rates = Vec::new();
        let mut latencies = Vec::new();
        for _ in 0..3 {
            let run = http::load(
                server.addr,
                &token,
                ids.clone(),
                HTTP_CONNECTIONS,
                std::time::Duration::from_secs(secs),
            )
            .await?;
            rates.push(run.per_sec);
            latencies.extend(run.latencies);
        }
        let rss = server.peak_rss_mib()?;
        drop(server);
        let note = format!(
            "{} requests in 3 × {secs} s; p50 {:.2} ms, p99 {:.2} ms",
            latencies.len(),
            http::quantile(&latencies, 0.5),
            http::quantile(&latencies, 0.99)
        );
        let mut rows = vec![Row::new(
            "GET /api/v1/locations/{id}, 16 connections (HTTP)",
            Unit::PerSec,
            rates.clone(),
            None,
        )
        .note(note)];
        if b.backend == Backend::Postgres {
            let hash = inventory_db::ops::users::token_hash(&token);
            let script = GET_LOCATION_PG
                .replace("random(1, :n)", &format!("random(1, {n})"))
                .replace(":token", &format!("'{hash}'"));
            let mut tps = Vec::new();
            for _ in 0..3 {
                tps.push(http::pgbench(&b.main.url, &script, HTTP_CONNECTIONS, secs)?);
            }
            let pg = Row::new(
                "pgbench -M prepared -c 16 -j 2, the route's statements",
                Unit::PerSec,
                tps,
                None,
            );
            let http_row = &rows[0];
            let ratio = http_row.median / pg.median;
            rows.push(pg.note(format!("3 × {secs} s")));
            rows.push(
                Row::new(
                    "HTTP req/s ÷ pgbench transactions/s",
                    Unit::Ratio,
                    vec![ratio],
                    Target::median(0.5),
                )
                .note("medians of the two rows above"),
            );
        }
        rows.push(rss_row(
            "inventory-api peak RSS under that load",
            Some(rss),
            Some(50.0),
        ));
        b.main.db.delete_user(user).await?;
        Ok(rows)
    })
}

/// Requests per web page in the `web` scenario (after five of warm-up).
const WEB_RUNS: usize = 100;

/// Web UI pages with a session cookie, one request at a time over one keep-alive
/// connection, so that each latency is the server's time plus a loopback round trip:
/// the search page (empty, a rare word, a common word), location pages (the probes: the
/// deepest, the big room, the largest house, a spread), item pages (a spread), the browse
/// page and a branch of it, the location picker's answer, and the admin pages. Target:
/// p95 ≤ 50 ms each.
fn web_pages(b: &mut Bench) -> Outcome<'_> {
    Box::pin(async move {
        let user = "bench-web";
        let _ = b.main.db.delete_user(user).await;
        b.main
            .db
            .create_user(user, "bench web password", inventory_core::Role::Admin)
            .await?;
        let spec = inventory_db::TokenSpec {
            label: Some("bench web session".into()),
            scope: inventory_core::Scope::Write,
            expires_at: None,
        };
        let secret = b.main.db.create_token_for(user, &spec).await?.secret;
        // The web UI's session cookie over plain http (`inventory_api::web::session`).
        let cookie = format!("Cookie: hinv_session={secret}\r\n");
        let locations: Vec<String> = get_probes(b)
            .into_iter()
            .map(|id| format!("/locations/{id}"))
            .collect();
        let n_items = b.data.items.len().max(1);
        let items: Vec<String> = (0..20)
            .map(|k| format!("/items/{}", b.data.items[k * n_items / 20].id))
            .collect();
        // The picker asked for the tail of the deepest location's name, as a user types it.
        let deepest = &b.data.locations[(b.probes.deepest.0 - 1) as usize].name;
        let pick = format!("/fragments/pick?target=bench&q={}", percent_encode(deepest));
        let pages: Vec<(String, Vec<String>)> = vec![
            ("/ (search page)".into(), vec!["/".into()]),
            (format!("/?q={RARE_WORD}"), vec![format!("/?q={RARE_WORD}")]),
            (
                format!("/?q={COMMON_WORD}"),
                vec![format!("/?q={COMMON_WORD}")],
            ),
            (
                format!("/fragments/search?q={COMMON_WORD}"),
                vec![format!("/fragments/search?q={COMMON_WORD}")],
            ),
            ("/locations/{id} (a spread)".into(), locations),
            (
                format!("/locations/{{id}} (the house of {})", b.probes.house.1),
                vec![format!("/locations/{}", b.probes.house.0)],
            ),
            ("/items/{id} (a spread)".into(), items),
            ("/browse".into(), vec!["/browse".into()]),
            (
                "/fragments/children/{house}".into(),
                vec![format!("/fragments/children/{}", b.probes.house.0)],
            ),
            ("/fragments/pick (by path)".into(), vec![pick]),
            ("/items/new".into(), vec!["/items/new".into()]),
            ("/categories".into(), vec!["/categories".into()]),
            ("/csv".into(), vec!["/csv".into()]),
            ("/users".into(), vec!["/users".into()]),
            ("/tokens".into(), vec!["/tokens".into()]),
        ];
        let server = ApiServer::start(&b.api, &b.main.url).await?;
        let mut conn = http::Conn::open(server.addr).await?;
        let mut rows = Vec::new();
        for (label, paths) in pages {
            let mut samples = Vec::with_capacity(WEB_RUNS);
            let mut bytes = 0;
            for i in 0..WEB_RUNS + 5 {
                let path = &paths[i % paths.len()];
                let sent = Instant::now();
                let (status, length) = conn.get(path, &cookie).await?;
                if status != 200 {
                    bail!("GET {path} answered {status}");
                }
                if i >= 5 {
                    samples.push(ms_since(sent));
                    bytes = bytes.max(length);
                }
            }
            rows.push(
                Row::new(format!("web {label}"), Unit::Ms, samples, Target::p95(50.0))
                    .note(format!("largest {:.1} KB of HTML", bytes as f64 / 1024.0)),
            );
        }
        rows.push(rss_row(
            "inventory-api peak RSS after the web pages",
            Some(server.peak_rss_mib()?),
            Some(50.0),
        ));
        drop(server);
        b.main.db.delete_user(user).await?;
        Ok(rows)
    })
}

/// `text` as a URL query value: unreserved ASCII as is, every other byte as `%XX`.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
