//! 50 MB of garbage — as a CSV import or as a backup — is refused with bounded memory on
//! both backends (PRODUCT §9). This binary holds one test, so that the process's peak
//! resident size (`VmHWM` in /proc/self/status) is this test's: it is read after each input
//! and must stay under [`LIMIT_MB`].
#![allow(clippy::unwrap_used)]

use std::io::{BufReader, Write};
use std::path::Path;
use std::time::Instant;

use inventory_db::csv_io::ImportOptions;
use inventory_db::{Database, ErrorKind};

/// How large each hostile input is.
const INPUT_BYTES: usize = 50 << 20;
/// The peak resident size the whole test may reach.
const LIMIT_MB: u64 = 300;

/// The process's peak resident set size so far, in MiB (Linux).
fn peak_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb / 1024
}

/// A fast, reproducible stream of pseudo-random bytes.
struct XorShift(u64);

impl XorShift {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            let bytes = self.0.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// Writes `prefix`, then `INPUT_BYTES` made by `chunk` (called with 1 MiB buffers), to
/// `path`, never holding more than a megabyte of it.
fn write_file(path: &Path, prefix: &[u8], mut chunk: impl FnMut(&mut [u8])) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    out.write_all(prefix).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    for _ in 0..INPUT_BYTES / buf.len() {
        chunk(&mut buf);
        out.write_all(&buf).unwrap();
    }
    out.flush().unwrap();
}

/// Runs one refusal and checks it: invalid input, quickly, the database unchanged, and the
/// peak memory still under the limit.
async fn refused(
    db: &Database,
    backend: &str,
    before: &[u8],
    what: &str,
    result: Result<(), inventory_db::DbError>,
    started: Instant,
) {
    let what = &format!("{backend}: {what}");
    let err = result.expect_err(what);
    assert_eq!(err.kind(), ErrorKind::Invalid, "{what}: {err}");
    let message = err.to_string();
    assert!(
        message.len() < 2000,
        "{what}: the message is {} bytes",
        message.len()
    );
    let mut after = Vec::new();
    db.write_backup(&mut after, &|_, _| {}).await.unwrap();
    assert!(
        after == before,
        "{what}: the refused input changed the database"
    );
    let peak = peak_mb();
    eprintln!(
        "{what}: refused in {:?}, peak {peak} MiB: {message}",
        started.elapsed()
    );
    assert!(peak < LIMIT_MB, "{what}: peak resident size {peak} MiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_megabytes_of_garbage_are_refused_in_bounded_memory() {
    let sqlite = inventory_db::testing::sqlite().await;
    all_refused(&sqlite.db, "sqlite").await;
    let postgres = inventory_db::testing::postgres().await;
    all_refused(&postgres.db, "postgres").await;
}

/// Every hostile input, against one backend.
async fn all_refused(db: &Database, backend: &str) {
    let mut before = Vec::new();
    db.write_backup(&mut before, &|_, _| {}).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input");
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    eprintln!("{backend}: start: peak {} MiB", peak_mb());

    let import = async |path: &Path| {
        let mut input = BufReader::new(std::fs::File::open(path).unwrap());
        db.import_items_csv(
            &mut input,
            ImportOptions {
                create_locations: true,
            },
            &|_, _| {},
        )
        .await
        .map(drop)
    };
    let restore = async |path: &Path| db.restore_from_file(path, &|_, _| {}).await.map(drop);

    // CSV: random bytes.
    write_file(&file, b"", |b| rng.fill(b));
    let started = Instant::now();
    refused(
        db,
        backend,
        &before,
        "CSV of random bytes",
        import(&file).await,
        started,
    )
    .await;

    // CSV: a header, then one quoted field that never ends.
    write_file(&file, b"name,location,notes\nDrill,My House,\"", |b| {
        b.fill(b'x')
    });
    let started = Instant::now();
    refused(
        db,
        backend,
        &before,
        "CSV with an endless quoted field",
        import(&file).await,
        started,
    )
    .await;

    // CSV: a header, then one line without a newline.
    write_file(&file, b"name,location\n", |b| b.fill(b'a'));
    let started = Instant::now();
    refused(
        db,
        backend,
        &before,
        "CSV with one endless line",
        import(&file).await,
        started,
    )
    .await;

    // CSV: a header, then a row with 50 MB of commas (millions of fields).
    write_file(&file, b"name,location\nDrill,My House", |b| b.fill(b','));
    let started = Instant::now();
    refused(
        db,
        backend,
        &before,
        "CSV with millions of fields",
        import(&file).await,
        started,
    )
    .await;

    // Backup: random bytes.
    write_file(&file, b"", |b| rng.fill(b));
    let started = Instant::now();
    refused(
        db,
        backend,
        &before,
        "backup of random bytes",
        restore(&file).await,
        started,
    )
    .await;

    // Backup: a real header, then one endless line.
    let header = before.split(|b| *b == b'\n').next().unwrap();
    let mut prefix = header.to_vec();
    prefix.extend_from_slice(b"\n[1,\"");
    write_file(&file, &prefix, |b| b.fill(b'y'));
    let started = Instant::now();
    refused(
        db,
        backend,
        &before,
        "backup with an endless row",
        restore(&file).await,
        started,
    )
    .await;

    // Backup: a header announcing 2^60 rows, then newlines.
    let mut prefix = String::from_utf8(header.to_vec())
        .unwrap()
        .replacen("\"rows\":0", "\"rows\":1152921504606846976", 1)
        .into_bytes();
    prefix.push(b'\n');
    write_file(&file, &prefix, |b| b.fill(b'\n'));
    let started = Instant::now();
    refused(
        db,
        backend,
        &before,
        "backup announcing 2^60 rows",
        restore(&file).await,
        started,
    )
    .await;

    // Backup: gzip of 50 MB random bytes, and gzip that inflates 256 MiB of zeros.
    {
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&file).unwrap(),
            flate2::Compression::fast(),
        );
        let mut buf = vec![0u8; 1 << 20];
        for _ in 0..INPUT_BYTES / buf.len() {
            rng.fill(&mut buf);
            enc.write_all(&buf).unwrap();
        }
        enc.finish().unwrap();
    }
    let started = Instant::now();
    refused(
        db,
        backend,
        &before,
        "gzip of random bytes",
        restore(&file).await,
        started,
    )
    .await;
    {
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&file).unwrap(),
            flate2::Compression::best(),
        );
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..256 {
            enc.write_all(&zeros).unwrap();
        }
        enc.finish().unwrap();
    }
    let started = Instant::now();
    refused(
        db,
        backend,
        &before,
        "gzip bomb (256 MiB of zeros)",
        restore(&file).await,
        started,
    )
    .await;
}
