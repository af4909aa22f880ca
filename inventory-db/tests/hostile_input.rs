//! Hostile input (PRODUCT §9: "bad input of any size gets a clear error with bounded memory
//! and time; no panic"): the CSV importer and the backup reader on arbitrary bytes and on
//! damaged valid files, and path and reference resolution on arbitrary, huge and
//! deeply-slashed strings. A refused import or restore writes nothing.
//!
//! Case counts are bounded; `PROPTEST_CASES` raises them. Memory bounds for 50 MB inputs
//! live in `bounded_memory.rs`, a test binary of its own (it reads the process's peak).
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use inventory_core::{LocationType, Role};
use inventory_db::backup::Progress;
use inventory_db::csv_io::ImportOptions;
use inventory_db::testing::{postgres, sqlite, TestDb};
use inventory_db::{Database, DbError, ErrorKind, NewItem, NewLocation};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};

static RT: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
});

fn quiet() -> Progress<'static> {
    &|_, _| {}
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(cases),
        max_shrink_iters: 200,
        source_file: Some(file!()),
        ..ProptestConfig::default()
    }
}

/// Runs `check` on `cases` values of `strategy`; panics with the minimal failing input.
fn for_all<S: Strategy>(
    cases: u32,
    strategy: S,
    check: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let mut runner = TestRunner::new(config(cases));
    if let Err(e) = runner.run(&strategy, check) {
        panic!("{e}");
    }
}

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn backup(db: &Database) -> Vec<u8> {
    let mut out = Vec::new();
    db.write_backup(&mut out, quiet()).await.unwrap();
    out
}

/// A small home with hostile text in every table, as the library writes it.
async fn seed(db: &Database) {
    let house = db
        .create_location(&NewLocation {
            name: "My House".into(),
            description: Some("'; DROP TABLE items; --".into()),
            location_type: LocationType::House,
            parent_id: None,
        })
        .await
        .unwrap();
    let room = db
        .create_location(&NewLocation {
            name: "Küche \u{212A}".into(),
            description: None,
            location_type: LocationType::Room,
            parent_id: Some(house.id),
        })
        .await
        .unwrap();
    let shelf = db
        .create_location(&NewLocation {
            name: "=HYPERLINK(\"x\")".into(),
            description: Some("line one\nline \"two\", with commas".into()),
            location_type: LocationType::Shelf,
            parent_id: Some(room.id),
        })
        .await
        .unwrap();
    db.create_category("Tools, \"good\" ones", Some("ß"))
        .await
        .unwrap();
    for (i, location) in [house.id, room.id, shelf.id].into_iter().enumerate() {
        db.create_item(&NewItem {
            quantity: i as i64 * 3,
            category: (i != 1).then(|| "Tools, \"good\" ones".to_string()),
            notes: Some(format!("+{i}\r\nsecond \"line\", 👍🏽")),
            serial_number: Some(format!("@SN-{i}")),
            purchase_date: chrono::NaiveDate::from_ymd_opt(2024, 2, 29),
            purchase_price_cents: Some(1999 + i as i64),
            currency: Some("EUR".into()),
            ..NewItem::new(format!("-Drill {i} שלום"), location)
        })
        .await
        .unwrap();
    }
    db.create_user("alice", "correct horse battery", Role::Admin)
        .await
        .unwrap();
    db.create_token("alice", Some("laptop, \"main\""))
        .await
        .unwrap();
}

/// A seeded database, its backup and its CSV export.
struct Seeded {
    t: TestDb,
    backup: Vec<u8>,
    csv: Vec<u8>,
}

fn seeded(fresh: impl AsyncFnOnce() -> TestDb) -> Seeded {
    RT.block_on(async {
        let t = fresh().await;
        seed(&t.db).await;
        let backup = backup(&t.db).await;
        let mut csv = Vec::new();
        t.db.export_items_csv(&mut csv, quiet()).await.unwrap();
        Seeded { t, backup, csv }
    })
}

/// How many inputs were accepted and refused (printed, so that a run shows both happen).
#[derive(Debug, Default)]
struct Tally {
    accepted: std::sync::atomic::AtomicUsize,
    refused: std::sync::atomic::AtomicUsize,
}

impl Tally {
    fn count(&self, accepted: bool) {
        let which = if accepted {
            &self.accepted
        } else {
            &self.refused
        };
        which.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn report(&self, test: &str) {
        let (a, r) = (
            self.accepted.load(std::sync::atomic::Ordering::Relaxed),
            self.refused.load(std::sync::atomic::Ordering::Relaxed),
        );
        eprintln!("{test}: {} inputs, {a} accepted, {r} refused", a + r);
        assert!(r > 0, "{test}: no input was refused");
    }
}

// ---------------------------------------------------------------------------------------
// Damage.

/// One way to damage bytes.
#[derive(Clone, Debug)]
enum Edit {
    Flip(prop::sample::Index, u8),
    Set(prop::sample::Index, u8),
    Insert(prop::sample::Index, Vec<u8>),
    Remove(prop::sample::Index, usize),
    Truncate(prop::sample::Index),
    SwapLines(prop::sample::Index, prop::sample::Index),
    DuplicateLine(prop::sample::Index),
}

/// Bytes that mean something to CSV, JSON or our formats.
fn meaningful() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 1..8),
        prop::sample::select(vec![
            &b","[..],
            b"\"",
            b"\n",
            b"\r\n",
            b"'",
            b"=",
            b"/",
            b" / ",
            b"\\",
            b"\\u0000",
            b"\xff",
            b"\xc3",
            b"\x00",
            b"null",
            b"[",
            b"]",
            b"{",
            b"}",
            b"-1",
            b"1e308",
            b"9223372036854775808",
            b"\"\"",
            b" ",
            b"#",
            b"99999999999999999999",
        ])
        .prop_map(<[u8]>::to_vec),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    use prop::sample::Index;
    prop_oneof![
        (any::<Index>(), 1u8..=255).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        (any::<Index>(), meaningful()).prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<Index>(), 1usize..64).prop_map(|(i, n)| Edit::Remove(i, n)),
        any::<Index>().prop_map(Edit::Truncate),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        any::<Index>().prop_map(Edit::DuplicateLine),
    ]
}

fn apply(bytes: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for edit in edits {
        if out.is_empty() {
            break;
        }
        match edit {
            Edit::Flip(i, b) => {
                let i = i.index(out.len());
                out[i] ^= b;
            }
            Edit::Set(i, b) => {
                let i = i.index(out.len());
                out[i] = *b;
            }
            Edit::Insert(i, b) => {
                let i = i.index(out.len() + 1);
                out.splice(i..i, b.iter().copied());
            }
            Edit::Remove(i, n) => {
                let i = i.index(out.len());
                let end = (i + n).min(out.len());
                out.drain(i..end);
            }
            Edit::Truncate(i) => out.truncate(i.index(out.len())),
            Edit::SwapLines(a, b) => {
                let mut lines: Vec<Vec<u8>> =
                    out.split(|c| *c == b'\n').map(<[u8]>::to_vec).collect();
                let (a, b) = (a.index(lines.len()), b.index(lines.len()));
                lines.swap(a, b);
                out = lines.join(&b'\n');
            }
            Edit::DuplicateLine(a) => {
                let mut lines: Vec<Vec<u8>> =
                    out.split(|c| *c == b'\n').map(<[u8]>::to_vec).collect();
                let a = a.index(lines.len());
                let line = lines[a].clone();
                lines.insert(a, line);
                out = lines.join(&b'\n');
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// The CSV importer.

/// Imports `input`; a refusal must be a clear, invalid-input error naming a line, and must
/// leave the database exactly as it was; a success leaves a sound database, which is then
/// put back as it was (so that every case starts from the seed).
async fn import_is_all_or_nothing(
    s: &Seeded,
    input: &[u8],
    create: bool,
    tally: &Tally,
) -> Result<(), TestCaseError> {
    let db = &s.t.db;
    let started = Instant::now();
    let mut reader = input;
    let result = db
        .import_items_csv(
            &mut reader,
            ImportOptions {
                create_locations: create,
            },
            quiet(),
        )
        .await;
    prop_assert!(
        started.elapsed() < Duration::from_secs(20),
        "import took {:?}",
        started.elapsed()
    );
    tally.count(result.is_ok());
    match result {
        Err(e) => {
            prop_assert_eq!(
                e.kind(),
                ErrorKind::Invalid,
                "a refused import is bad input: {}",
                e
            );
            let message = e.to_string();
            prop_assert!(
                matches!(e, DbError::InvalidFile { .. }),
                "not a file error: {message}"
            );
            prop_assert!(
                message.starts_with("line "),
                "the message names the line: {message}"
            );
            let line: u64 = message["line ".len()..]
                .split(':')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(u64::MAX);
            let lines = input.iter().filter(|b| **b == b'\n').count() as u64 + 1;
            prop_assert!(
                line >= 1 && line <= lines,
                "line {line} of {lines}: {message}"
            );
            prop_assert!(!message.contains("panicked"), "{message}");
            prop_assert_eq!(
                show(&backup(db).await),
                show(&s.backup),
                "a refused import wrote something"
            );
        }
        Ok(summary) => {
            let outcome = db.integrity(false).await.unwrap();
            let items = db
                .list_items(&Default::default(), &inventory_db::PageRequest::first(500))
                .await
                .unwrap();
            // Put the seed back first, so that a failure below does not spoil later cases.
            let mut bytes = std::io::Cursor::new(&s.backup[..]);
            db.restore_backup(&mut bytes, quiet()).await.unwrap();
            prop_assert!(outcome.is_clean(), "after an accepted import: {outcome:?}");
            prop_assert_eq!(items.items.len() as u64, 3 + summary.items);
        }
    }
    Ok(())
}

/// Cells a CSV row may hold: valid and invalid values of every column.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            "1",
            "0",
            "-1",
            "1000000000",
            "1000000001",
            "9223372036854775808",
            "1.5",
            "12.34",
            "12.345",
            "-0.01",
            "EUR",
            "eur",
            "EURO",
            "2024-02-29",
            "2023-02-29",
            "0000-01-01",
            "9999-12-31",
            "+10000-01-01",
            "HOUSE",
            "room",
            "Shelf",
            "CASTLE",
            "My House",
            "My House / Küche \u{212A}",
            "My House / Küche K / =HYPERLINK(\"x\")",
            "My House / Nowhere / Deeper",
            "/",
            " / ",
            "a //b",
            "#1",
            "12",
            "'=1+1",
            "'; DROP TABLE items; --",
            "\"quoted, text\"",
            "line\nbreak",
            "tab\there",
            "\u{0}",
            "\u{7}",
            "\u{202E}rtl",
            "e\u{301}",
            "👍🏽",
        ])
        .prop_map(str::to_string),
        "[ -~]{0,20}",
        any::<String>().prop_map(|s| s.chars().take(30).collect()),
        (1usize..1200).prop_map(|n| vec!["Box"; n].join(" / ")),
        (250usize..260).prop_map(|n| "x".repeat(n)),
    ]
}

/// A CSV built from a random header (known columns in any order, sometimes an unknown or
/// repeated one) and random rows (sometimes of the wrong width).
fn structured_csv() -> impl Strategy<Value = Vec<u8>> {
    let columns = prop::collection::vec(
        prop_oneof![
            9 => prop::sample::select(inventory_db::csv_io::COLUMNS.to_vec()).prop_map(str::to_string),
            1 => prop::sample::select(vec!["colour", "", " name ", "NAME"]).prop_map(str::to_string),
        ],
        1..14,
    );
    (
        columns,
        prop::collection::vec(prop::collection::vec(cell(), 0..14), 0..12),
    )
        .prop_map(|(header, rows)| {
            let mut w = csv::WriterBuilder::new()
                .flexible(true)
                .from_writer(Vec::new());
            w.write_record(&header).unwrap();
            for row in rows {
                w.write_record(&row).unwrap();
            }
            w.into_inner().unwrap()
        })
}

/// Text that passes the validators of names, notes and serials.
fn plausible_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "Box",
            "Drill",
            " ",
            "é",
            "e\u{301}",
            "\u{212A}",
            "ß",
            "ς",
            "שלום",
            "👍🏽",
            "=",
            "+",
            "-",
            "@",
            "'",
            "\"",
            ",",
            "'; DROP TABLE items; --",
            "=1+1",
            "7",
        ]),
        1..6,
    )
    .prop_map(|p| p.concat())
    .prop_filter("not blank", |t| !t.trim().is_empty())
}

/// A CSV that is mostly valid: the known columns, plausible values, existing and new
/// locations (new ones need --create-locations), now and then one bad cell.
fn plausible_csv() -> impl Strategy<Value = Vec<u8>> {
    let row = (
        plausible_text(),
        prop::sample::select(vec![
            "My House",
            "My House / Küche \u{212A}",
            "my house / KÜCHE K / =HYPERLINK(\"x\")",
            "My House / New Room",
            "New House / New Room / Box",
            "Other / Attic",
        ]),
        prop_oneof![
            4 => Just(String::new()),
            4 => (0i64..100).prop_map(|n| n.to_string()),
            1 => Just("-1".to_string()),
        ],
        prop::option::of(plausible_text()),
        prop::option::of(plausible_text()),
        prop::option::of(prop_oneof![
            8 => prop::sample::select(vec!["2024-02-29", "1999-12-31"]),
            1 => Just("2024-13-01"),
        ]),
        prop::option::of(prop_oneof![
            8 => prop::sample::select(vec!["12.34", "0", "1.5"]),
            1 => Just("x"),
        ]),
    );
    prop::collection::vec(row, 0..8).prop_map(|rows| {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "name",
            "location",
            "quantity",
            "category",
            "notes",
            "purchase_date",
            "purchase_price",
            "currency",
        ])
        .unwrap();
        for (name, location, quantity, category, notes, date, price) in rows {
            let currency = if price.is_some() { "EUR" } else { "" };
            w.write_record([
                name.as_str(),
                location,
                quantity.as_str(),
                category.as_deref().unwrap_or_default(),
                notes.as_deref().unwrap_or_default(),
                date.unwrap_or_default(),
                price.unwrap_or_default(),
                currency,
            ])
            .unwrap();
        }
        w.into_inner().unwrap()
    })
}

fn csv_inputs(valid: Vec<u8>) -> impl Strategy<Value = (Vec<u8>, bool)> {
    let damaged = prop::collection::vec(edit(), 1..6).prop_map(move |edits| apply(&valid, &edits));
    (
        prop_oneof![
            2 => prop::collection::vec(any::<u8>(), 0..600),
            4 => damaged,
            3 => structured_csv(),
            3 => plausible_csv(),
        ],
        any::<bool>(),
    )
}

#[test]
fn csv_import_of_hostile_input_is_all_or_nothing_on_sqlite() {
    let tally = Tally::default();
    let s = seeded(async || sqlite().await);
    for_all(300, csv_inputs(s.csv.clone()), |(input, create)| {
        RT.block_on(import_is_all_or_nothing(&s, &input, create, &tally))
    });
    tally.report("csv_import_of_hostile_input_is_all_or_nothing_on_sqlite");
}

#[test]
fn csv_import_of_hostile_input_is_all_or_nothing_on_postgres() {
    let tally = Tally::default();
    let s = seeded(async || postgres().await);
    for_all(60, csv_inputs(s.csv.clone()), |(input, create)| {
        RT.block_on(import_is_all_or_nothing(&s, &input, create, &tally))
    });
    tally.report("csv_import_of_hostile_input_is_all_or_nothing_on_postgres");
}

// ---------------------------------------------------------------------------------------
// The backup reader.

fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// `body` (every line before the trailer) with a trailer that matches it, so that the
/// checksum cannot be what refuses the edit.
fn reseal(body: &[String], total_rows: u64) -> Vec<u8> {
    let mut text = body.join("\n");
    text.push('\n');
    let trailer = format!(
        "{{\"total_rows\":{total_rows},\"fnv1a64\":\"{:016x}\"}}\n",
        fnv1a64(text.as_bytes())
    );
    text.push_str(&trailer);
    text.into_bytes()
}

/// JSON values that a row cell could be replaced by.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::json;
    prop_oneof![
        prop::sample::select(vec![
            json!(null),
            json!(true),
            json!(0),
            json!(-1),
            json!(1),
            json!(2),
            json!(9_007_199_254_740_992i64),
            json!(i64::MAX),
            json!(1.5),
            json!(1e308),
            json!(""),
            json!(" "),
            json!("x"),
            json!("HOUSE"),
            json!("ROOM"),
            json!("shelf"),
            json!("2026-01-01T00:00:00.000001Z"),
            json!("2026-01-01T00:00:00Z"),
            json!("0000-01-01T00:00:00.000000Z"),
            json!("2026-02-30"),
            json!("2024-02-29"),
            json!("admin"),
            json!("root"),
            json!("read"),
            json!("EUR"),
            json!("eur"),
            json!("a/b"),
            json!("\u{7}"),
            json!([]),
            json!([1]),
            json!({}),
            json!("$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA"),
            json!("0".repeat(64)),
            json!("x".repeat(300)),
        ]),
        any::<i64>().prop_map(|n| json!(n)),
        "\\PC{0,12}".prop_map(|s| json!(s)),
    ]
}

/// Edits that keep the file well-formed JSON Lines with a valid checksum: a cell replaced,
/// a row dropped, duplicated or moved, a header count changed.
#[derive(Clone, Debug)]
enum Resealed {
    Cell(prop::sample::Index, prop::sample::Index, serde_json::Value),
    DropRow(prop::sample::Index),
    DuplicateRow(prop::sample::Index),
    SwapRows(prop::sample::Index, prop::sample::Index),
    HeaderCount(prop::sample::Index, u64),
    /// A text cell replaced by other text (often still valid: the restore may accept it).
    Text(prop::sample::Index, prop::sample::Index, String),
}

fn resealed() -> impl Strategy<Value = Resealed> {
    use prop::sample::Index;
    prop_oneof![
        6 => (any::<Index>(), any::<Index>(), json_value()).prop_map(|(r, c, v)| Resealed::Cell(r, c, v)),
        1 => any::<Index>().prop_map(Resealed::DropRow),
        1 => any::<Index>().prop_map(Resealed::DuplicateRow),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Resealed::SwapRows(a, b)),
        1 => (any::<Index>(), 0u64..40).prop_map(|(t, n)| Resealed::HeaderCount(t, n)),
        4 => (any::<Index>(), any::<Index>(), plausible_text()).prop_map(|(r, c, t)| Resealed::Text(r, c, t)),
    ]
}

fn apply_resealed(valid: &[u8], edits: &[Resealed]) -> Vec<u8> {
    let text = String::from_utf8(valid.to_vec()).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let trailer: serde_json::Value = serde_json::from_str(&lines.pop().unwrap()).unwrap();
    let mut total = trailer["total_rows"].as_u64().unwrap();
    for edit in edits {
        let rows = lines.len() - 1;
        if rows == 0 {
            break;
        }
        match edit {
            Resealed::Cell(r, c, v) => {
                let r = 1 + r.index(rows);
                let mut row: Vec<serde_json::Value> = serde_json::from_str(&lines[r]).unwrap();
                let c = c.index(row.len());
                row[c] = v.clone();
                lines[r] = serde_json::to_string(&row).unwrap();
            }
            Resealed::Text(r, c, t) => {
                let r = 1 + r.index(rows);
                let mut row: Vec<serde_json::Value> = serde_json::from_str(&lines[r]).unwrap();
                let texts: Vec<usize> = (0..row.len()).filter(|i| row[*i].is_string()).collect();
                if !texts.is_empty() {
                    row[texts[c.index(texts.len())]] = serde_json::Value::String(t.clone());
                    lines[r] = serde_json::to_string(&row).unwrap();
                }
            }
            Resealed::DropRow(r) => {
                lines.remove(1 + r.index(rows));
            }
            Resealed::DuplicateRow(r) => {
                let r = 1 + r.index(rows);
                let line = lines[r].clone();
                lines.insert(r, line);
            }
            Resealed::SwapRows(a, b) => lines.swap(1 + a.index(rows), 1 + b.index(rows)),
            Resealed::HeaderCount(t, n) => {
                let header: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
                let tables = header["tables"].as_array().unwrap();
                let t = t.index(tables.len());
                let old = tables[t]["rows"].as_u64().unwrap();
                total = total - old + n;
                // The t-th `"rows":` of the line (edited as text, so that the keys keep
                // the program's order).
                let at = lines[0].match_indices("\"rows\":").nth(t).unwrap().0 + "\"rows\":".len();
                let end = at + lines[0][at..].find(|c: char| !c.is_ascii_digit()).unwrap();
                lines[0].replace_range(at..end, &n.to_string());
            }
        }
    }
    reseal(&lines, total)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn backup_inputs(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let (v1, v2, v3, v4) = (valid.clone(), valid.clone(), valid.clone(), valid);
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..800),
        1 => any::<prop::sample::Index>().prop_map(move |i| v1[..i.index(v1.len())].to_vec()),
        3 => prop::collection::vec(edit(), 1..5).prop_map(move |e| apply(&v2, &e)),
        4 => prop::collection::vec(resealed(), 1..4).prop_map(move |e| apply_resealed(&v3, &e)),
        1 => (prop::collection::vec(edit(), 0..3), any::<prop::sample::Index>()).prop_map(move |(e, cut)| {
            let z = gzip(&apply(&v4, &e));
            z[..cut.index(z.len() + 1).max(2)].to_vec()
        }),
    ]
}

/// Restores `input`; a refusal must be invalid input and leave the database as it was; an
/// accepted input (a harmless change) leaves a sound database whose own backup restores to
/// itself. The seed is put back after each case.
async fn restore_is_all_or_nothing(
    s: &Seeded,
    input: &[u8],
    tally: &Tally,
) -> Result<(), TestCaseError> {
    let db = &s.t.db;
    let started = Instant::now();
    let mut reader = std::io::Cursor::new(input);
    let result = db.restore_backup(&mut reader, quiet()).await;
    prop_assert!(
        started.elapsed() < Duration::from_secs(20),
        "restore took {:?}",
        started.elapsed()
    );
    tally.count(result.is_ok());
    match result {
        Err(e) => {
            prop_assert_eq!(
                e.kind(),
                ErrorKind::Invalid,
                "a refused restore is bad input: {}",
                e
            );
            prop_assert!(
                matches!(e, DbError::InvalidFile { .. }),
                "not a file error: {e}"
            );
            prop_assert!(!e.to_string().is_empty());
            prop_assert_eq!(
                show(&backup(db).await),
                show(&s.backup),
                "a refused restore changed the database"
            );
        }
        Ok(_) => {
            let mut outcome = db.integrity(false).await.unwrap();
            let again = backup(db).await;
            let mut bytes = std::io::Cursor::new(&again[..]);
            db.restore_backup(&mut bytes, quiet()).await.unwrap();
            let twice = backup(db).await;
            // Put the seed back first, so that a failure below does not spoil later cases.
            let mut bytes = std::io::Cursor::new(&s.backup[..]);
            db.restore_backup(&mut bytes, quiet()).await.unwrap();
            // A backup may break the type rules (a database can run with other rules);
            // nothing else may be wrong.
            outcome.report.type_violations.clear();
            prop_assert!(outcome.is_clean(), "after an accepted restore: {outcome:?}");
            prop_assert_eq!(
                show(&twice),
                show(&again),
                "an accepted backup does not round-trip"
            );
        }
    }
    Ok(())
}

#[test]
fn restore_of_hostile_input_is_all_or_nothing_on_sqlite() {
    let tally = Tally::default();
    let s = seeded(async || sqlite().await);
    for_all(300, backup_inputs(s.backup.clone()), |input| {
        RT.block_on(restore_is_all_or_nothing(&s, &input, &tally))
    });
    tally.report("restore_of_hostile_input_is_all_or_nothing_on_sqlite");
}

#[test]
fn restore_of_hostile_input_is_all_or_nothing_on_postgres() {
    let tally = Tally::default();
    let s = seeded(async || postgres().await);
    for_all(60, backup_inputs(s.backup.clone()), |input| {
        RT.block_on(restore_is_all_or_nothing(&s, &input, &tally))
    });
    tally.report("restore_of_hostile_input_is_all_or_nothing_on_postgres");
}

// ---------------------------------------------------------------------------------------
// Paths and references.

/// Strings that paths and references are made of, and some that break them.
fn reference() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ /#0-9a-zA-Z]{0,40}",
        prop::collection::vec(
            prop::sample::select(vec![
                "My House",
                "küche k",
                "KÜCHE \u{212A}",
                "=HYPERLINK(\"x\")",
                "/",
                " / ",
                "//",
                "#",
                "#0",
                "#1",
                "#3",
                "1",
                "2",
                "3",
                "0",
                "-1",
                "99999999999999999999",
                " ",
                "\u{A0}",
                "\u{0}",
                "e\u{301}",
                "\u{FEFF}",
                "\n",
            ]),
            0..12
        )
        .prop_map(|p| p.concat()),
        (0usize..3000).prop_map(|n| "/".repeat(n)),
        (0usize..3000).prop_map(|n| "a / ".repeat(n)),
    ]
}

#[test]
fn parsing_any_path_or_reference_never_panics_and_is_linear() {
    for_all(2000, reference(), |s| {
        let started = Instant::now();
        let parsed = inventory_core::parse_path(&s);
        let _ = inventory_core::parse_location_ref(&s);
        let _ = inventory_core::path_keys(&s);
        if let Ok(parts) = parsed {
            prop_assert!(parts.len() <= inventory_core::MAX_PATH_SEGMENTS);
            prop_assert!(parts.iter().all(|p| !p.is_empty() && !p.contains('/')));
        }
        prop_assert!(
            started.elapsed() < Duration::from_millis(500),
            "{:?}",
            started.elapsed()
        );
        Ok(())
    });
}

#[test]
fn huge_and_deeply_slashed_strings_parse_in_bounded_time() {
    let huge = [
        "/".repeat(10_000_000),
        "a/".repeat(5_000_000),
        "x".repeat(20_000_000),
        format!("#{}", "9".repeat(10_000_000)),
        " / ".repeat(3_000_000),
        format!("{}/", "é".repeat(5_000_000)),
    ];
    for s in &huge {
        let started = Instant::now();
        let parsed = inventory_core::parse_path(s);
        let reference = inventory_core::parse_location_ref(s);
        let keys = inventory_core::path_keys(s);
        assert!(
            parsed.is_err() || parsed.as_ref().is_ok_and(|p| p.len() == 1),
            "{} bytes",
            s.len()
        );
        assert!(keys.is_err() || keys.as_ref().is_ok_and(|k| k.len() == 1));
        if let Err(e) = reference {
            assert!(
                e.to_string().len() < 1000,
                "the error quotes a short part: {} bytes",
                e.to_string().len()
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{} bytes took {:?}",
            s.len(),
            started.elapsed()
        );
    }
}

/// Resolving a hostile reference answers a location, not-found or invalid input — quickly,
/// and never anything else.
async fn resolves_or_refuses(db: &Database, s: &str) -> Result<(), TestCaseError> {
    let started = Instant::now();
    for result in [db.resolve_path(s).await, db.resolve_location(s).await] {
        match result {
            Ok(id) => prop_assert!((1..=3).contains(&id), "{id}"),
            Err(e) => prop_assert!(
                matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Invalid),
                "{s:?}: {e} ({:?})",
                e.kind()
            ),
        }
    }
    prop_assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    Ok(())
}

#[test]
fn resolving_any_reference_answers_or_refuses_on_sqlite() {
    let s = seeded(async || sqlite().await);
    for_all(400, reference(), |r| {
        RT.block_on(resolves_or_refuses(&s.t.db, &r))
    });
    RT.block_on(async {
        for huge in [
            "/".repeat(5_000_000),
            "My House / ".repeat(1_000_000),
            "a / ".repeat(999),
        ] {
            resolves_or_refuses(&s.t.db, &huge).await.unwrap();
        }
        // The reference forms resolve as documented.
        assert_eq!(s.t.db.resolve_location("#1").await.unwrap(), 1);
        assert_eq!(
            s.t.db
                .resolve_location("/my house / küche K")
                .await
                .unwrap(),
            2
        );
        assert_eq!(s.t.db.resolve_location(" 3 ").await.unwrap(), 3);
    });
}

#[test]
fn resolving_any_reference_answers_or_refuses_on_postgres() {
    let s = seeded(async || postgres().await);
    for_all(100, reference(), |r| {
        RT.block_on(resolves_or_refuses(&s.t.db, &r))
    });
    RT.block_on(async {
        for huge in [
            "/".repeat(5_000_000),
            "My House / ".repeat(1_000_000),
            "a / ".repeat(999),
        ] {
            resolves_or_refuses(&s.t.db, &huge).await.unwrap();
        }
    });
}
