//! `inventory export FILE.csv` and `import FILE.csv`: items as CSV, `-` for stdout/stdin.
//! Export writes a temporary file next to FILE and moves it into place when complete, so a
//! failure leaves no half file; it never replaces a file without `--force`.

use std::io::{BufReader, BufWriter, ErrorKind, Write};
use std::path::Path;

use inventory_db::csv_io::ImportOptions;
use inventory_db::{DbError, Overwrite};
use serde_json::json;

use super::Ctx;
use crate::error::{CliError, CmdResult, EXIT_OK};
use crate::output;
use crate::progress::Progress;

/// Writes every item as CSV to `file` (or stdout for `-`). The file is created readable by
/// its owner only and appears complete or not at all; an existing file is replaced only
/// with `--force`, and the database in use never.
pub async fn export(ctx: &Ctx, file: &Path, force: bool) -> CmdResult {
    let db = ctx.open_current().await?;
    let bar = Progress::new("export");
    let to_stdout = file == Path::new("-");
    let rows = if to_stdout {
        let mut out = BufWriter::new(std::io::stdout());
        let result = db
            .export_items_csv(&mut out, &|d, t| bar.update(d, t))
            .await;
        bar.finish();
        let rows = match result {
            // The reader went away (`inventory export - | head`): not a failure.
            Err(DbError::Io { source, .. }) if source.kind() == ErrorKind::BrokenPipe => {
                return Err(source.into())
            }
            other => other?,
        };
        out.flush()?;
        rows
    } else {
        let overwrite = if force {
            Overwrite::Replace
        } else {
            Overwrite::Refuse
        };
        let result = db
            .export_items_csv_to_file(file, overwrite, &|d, t| bar.update(d, t))
            .await;
        bar.finish();
        result?
    };
    if ctx.json() && !to_stdout {
        output::json(&json!({ "file": file.display().to_string(), "items": rows }))?;
    } else if to_stdout {
        eprintln!("Exported {rows} item(s)");
    } else {
        println!("Exported {rows} item(s) to {}", file.display());
    }
    Ok(EXIT_OK)
}

/// Reads items from CSV `file` (or stdin for `-`), all or nothing.
pub async fn import(ctx: &Ctx, file: &Path, create_locations: bool) -> CmdResult {
    let db = ctx.open_current().await?;
    let from_stdin = file == Path::new("-");
    let mut input: Box<dyn std::io::Read + Send> = if from_stdin {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        let f = std::fs::File::open(file)
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", file.display())))?;
        Box::new(BufReader::new(f))
    };
    let bar = Progress::new("import");
    let result = db
        .import_items_csv(&mut input, ImportOptions { create_locations }, &|d, t| {
            bar.update(d, t)
        })
        .await;
    bar.finish();
    let summary = result.map_err(|e| {
        let mut err = CliError::from(e);
        if !from_stdin {
            err.message = format!("{}: {}; nothing was imported", file.display(), err.message);
        } else {
            err.message = format!("{}; nothing was imported", err.message);
        }
        err
    })?;
    if ctx.json() {
        output::json(&summary)?;
    } else {
        let source = if from_stdin {
            "stdin".to_string()
        } else {
            file.display().to_string()
        };
        println!(
            "Imported {} item(s) from {source}; created {} location(s) and {} category(ies)",
            summary.items, summary.locations_created, summary.categories_created
        );
    }
    Ok(EXIT_OK)
}
