//! Samples, targets and timing: how one scenario's runs become a row of the table.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context};
use serde::Serialize;

/// What a figure counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub(crate) enum Unit {
    /// Milliseconds (lower is better).
    #[serde(rename = "ms")]
    Ms,
    /// Rows per second (higher is better).
    #[serde(rename = "rows/s")]
    RowsPerSec,
    /// Mebibytes of peak resident memory (lower is better).
    #[serde(rename = "MiB")]
    MiB,
    /// Requests (or transactions) per second (higher is better).
    #[serde(rename = "req/s")]
    PerSec,
    /// One rate over another (higher is better).
    #[serde(rename = "ratio")]
    Ratio,
}

impl Unit {
    fn higher_is_better(self) -> bool {
        matches!(self, Unit::RowsPerSec | Unit::PerSec | Unit::Ratio)
    }

    fn name(self) -> &'static str {
        match self {
            Unit::Ms => "ms",
            Unit::RowsPerSec => "rows/s",
            Unit::MiB => "MiB",
            Unit::PerSec => "req/s",
            Unit::Ratio => "ratio",
        }
    }
}

/// Which figure of the samples a target is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Stat {
    /// The median.
    Median,
    /// The 95th percentile, counted from the bad end (the slowest runs; for a rate, the
    /// lowest rates).
    P95,
    /// The worst sample.
    Worst,
}

/// A figure to meet.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub(crate) struct Target {
    pub stat: Stat,
    pub value: f64,
}

impl Target {
    /// The median at most (at least, for a rate) `value`.
    pub(crate) fn median(value: f64) -> Option<Target> {
        Some(Target {
            stat: Stat::Median,
            value,
        })
    }

    /// The 95th percentile at most `value`.
    pub(crate) fn p95(value: f64) -> Option<Target> {
        Some(Target {
            stat: Stat::P95,
            value,
        })
    }

    /// Every sample at most `value`.
    pub(crate) fn worst(value: f64) -> Option<Target> {
        Some(Target {
            stat: Stat::Worst,
            value,
        })
    }
}

/// One line of the table: a scenario's samples and its target.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Row {
    pub scenario: String,
    pub unit: Unit,
    pub runs: usize,
    pub median: f64,
    pub p95: f64,
    pub worst: f64,
    pub target: Option<Target>,
    pub target_text: String,
    pub met: Option<bool>,
    /// What else is worth knowing about the figure (sizes, the engine's own time).
    pub note: String,
    pub samples: Vec<f64>,
}

impl Row {
    /// A row from samples (at least one).
    pub(crate) fn new(
        scenario: impl Into<String>,
        unit: Unit,
        samples: Vec<f64>,
        target: Option<Target>,
    ) -> Row {
        let mut sorted = samples.clone();
        sorted.sort_by(f64::total_cmp);
        if unit.higher_is_better() {
            sorted.reverse();
        }
        // `sorted` runs from the best sample to the worst.
        let at = |q: f64| {
            if sorted.is_empty() {
                return f64::NAN;
            }
            let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
            sorted[i]
        };
        let (median, p95, worst) = (at(0.5), at(0.95), at(1.0));
        let met = target.map(|t| {
            let v = match t.stat {
                Stat::Median => median,
                Stat::P95 => p95,
                Stat::Worst => worst,
            };
            if unit.higher_is_better() {
                v >= t.value
            } else {
                v <= t.value
            }
        });
        let target_text = target.map_or_else(
            || "-".to_string(),
            |t| {
                let op = if unit.higher_is_better() {
                    "≥"
                } else {
                    "≤"
                };
                let stat = match t.stat {
                    Stat::Median => "",
                    Stat::P95 => "p95 ",
                    Stat::Worst => "max ",
                };
                format!("{stat}{op} {} {}", fmt_value(t.value), unit.name())
            },
        );
        Row {
            scenario: scenario.into(),
            unit,
            runs: samples.len(),
            median,
            p95,
            worst,
            target,
            target_text,
            met,
            note: String::new(),
            samples,
        }
    }

    /// The row with a note.
    pub(crate) fn note(mut self, note: impl Into<String>) -> Row {
        self.note = note.into();
        self
    }

    pub(crate) fn unit_name(&self) -> &'static str {
        self.unit.name()
    }
}

/// A figure as the table prints it: three significant digits or whole numbers.
pub(crate) fn fmt_value(v: f64) -> String {
    if !v.is_finite() {
        "-".into()
    } else if v >= 1000.0 {
        format!("{v:.0}")
    } else if v >= 100.0 {
        format!("{v:.1}")
    } else if v >= 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// Milliseconds since `start`.
pub(crate) fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

/// Runs an async step `runs` times; returns each run's milliseconds.
pub(crate) async fn time_runs<T>(
    runs: usize,
    mut step: impl AsyncFnMut(usize) -> anyhow::Result<T>,
) -> anyhow::Result<Vec<f64>> {
    let mut samples = Vec::with_capacity(runs);
    for i in 0..runs {
        let start = Instant::now();
        step(i).await?;
        samples.push(ms_since(start));
    }
    Ok(samples)
}

/// What one run of a program gave.
#[derive(Clone, Debug)]
pub(crate) struct ProcessRun {
    /// Wall time from spawn to exit, in milliseconds.
    pub ms: f64,
    /// Peak resident memory in MiB, when asked for and GNU time is there.
    pub rss_mib: Option<f64>,
}

/// GNU time, which reports a child's peak RSS as the kernel counts it (`wait4`).
const GNU_TIME: &str = "/usr/bin/time";

/// What GNU time prints last on standard error.
const RSS_MARK: &str = "bench-maxrss-kib=";

/// Runs `program args` to completion, its standard output sent to /dev/null, timed from
/// spawn to exit; an exit code other than 0 or one of `allowed` fails. With `rss`, the
/// program runs under GNU time, which adds about a millisecond and gives its peak
/// resident memory.
pub(crate) fn run_process(
    program: &Path,
    args: &[&str],
    rss: bool,
    allowed: &[i32],
) -> anyhow::Result<ProcessRun> {
    let under_time = rss && Path::new(GNU_TIME).exists();
    let mut cmd = if under_time {
        let mut cmd = Command::new(GNU_TIME);
        cmd.arg("-f").arg(format!("\n{RSS_MARK}%M")).arg(program);
        cmd
    } else {
        Command::new(program)
    };
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let out = cmd
        .output()
        .with_context(|| format!("running {}", program.display()))?;
    let ms = ms_since(start);
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if code != 0 && !allowed.contains(&code) {
        bail!(
            "{} {} exited with {code}: {}",
            program.display(),
            args.join(" "),
            stderr.trim()
        );
    }
    let rss_mib = stderr
        .lines()
        .filter_map(|l| l.strip_prefix(RSS_MARK))
        .next_back()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|kib| kib / 1024.0);
    Ok(ProcessRun { ms, rss_mib })
}
