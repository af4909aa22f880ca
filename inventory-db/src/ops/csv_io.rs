//! CSV export and import of items: one row per item, its location as a full path.
//!
//! Export → import into an empty database (with `create_locations`) → export gives the
//! same bytes. Import is all-or-nothing: the whole file is parsed and validated first (with
//! the same validators as every other write), then written in one tree-write transaction;
//! the first bad row rejects the file with its line number.
//!
//! Cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab
//! or a carriage return), and cells starting with `'`, are written with one `'` in front,
//! as spreadsheets expect; import removes one leading `'`, so the text comes back as it was.

mod limit;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;

use inventory_core::{
    format_price, name_key, parse_date, parse_path, parse_price, validate_location_name,
    LocationId, LocationType, TypeRules, PATH_SEPARATOR,
};
use serde::Serialize;

use crate::conn::{Conn, TxMode};
use crate::error::{DbError, FileKind};
use crate::files::{OutputFile, Overwrite};
use crate::models::category::Category;
use crate::models::item::{ItemFilter, ItemRecord, NewItem};
use crate::models::location::LocationRecord;
use crate::models::{now, PageRequest};
use crate::ops::backup::{insert_rows, reserve_ids, IdTable, INSERT_BATCH};
use crate::pool::Database;
pub use crate::Progress;

/// The columns, in the order export writes them. Import needs `name` and `location`; the
/// others may be missing or in any order.
pub const COLUMNS: [&str; 12] = [
    "name",
    "quantity",
    "location",
    "location_type",
    "category",
    "description",
    "serial_number",
    "purchase_date",
    "purchase_price",
    "currency",
    "warranty_expires",
    "notes",
];

/// How an import treats locations that do not exist.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Create missing locations: the type from the `location_type` column for a row's own
    /// location, else by depth (HOUSE, ROOM, then CONTAINER).
    pub create_locations: bool,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// Items created.
    pub items: u64,
    /// Locations created.
    pub locations_created: u64,
    /// Categories created.
    pub categories_created: u64,
}

/// One validated row of an import file.
#[derive(Clone, Debug)]
pub(crate) struct ImportRow {
    pub line: u64,
    /// Path segments, validated location names.
    pub path: Vec<String>,
    pub location_type: Option<LocationType>,
    pub item: NewItem,
}

fn invalid(line: u64, reason: impl std::fmt::Display) -> DbError {
    DbError::file(FileKind::Csv, Some(line), reason.to_string())
}

/// A cell as written: `'` in front of text a spreadsheet would take for a formula, and of
/// text starting with `'` itself.
fn escape_cell(value: &str) -> std::borrow::Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\'') => format!("'{value}").into(),
        _ => value.into(),
    }
}

/// A cell as read: trimmed, one leading `'` removed.
fn unescape_cell(raw: &str) -> &str {
    let v = raw.trim();
    v.strip_prefix('\'').unwrap_or(v)
}

/// Reads and validates a whole CSV file; nothing is written.
pub(crate) fn parse_csv(input: &mut dyn Read) -> Result<Vec<ImportRow>, DbError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(limit::RecordLimit::new(input));
    let headers = reader
        .headers()
        .map_err(|e| {
            too_long(&e).unwrap_or_else(|| invalid(1, format!("cannot read the header: {e}")))
        })?
        .clone();
    let mut index: HashMap<&'static str, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        let h = h.trim();
        let Some(known) = COLUMNS.iter().find(|c| **c == h) else {
            return Err(invalid(
                1,
                format!("unknown column \"{h}\" (columns: {})", COLUMNS.join(", ")),
            ));
        };
        if index.insert(known, i).is_some() {
            return Err(invalid(1, format!("column \"{h}\" appears twice")));
        }
    }
    for required in ["name", "location"] {
        if !index.contains_key(required) {
            return Err(invalid(
                1,
                format!("the header has no \"{required}\" column"),
            ));
        }
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            too_long(&e).unwrap_or_else(|| {
                let line = e.position().map_or(0, |p| p.line());
                invalid(line, format!("malformed CSV: {e}"))
            })
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let fields: Fields = index
            .iter()
            .filter_map(|(name, &i)| {
                let v = unescape_cell(record.get(i)?);
                (!v.is_empty()).then(|| (*name, v.to_string()))
            })
            .collect();
        let row = parse_row(line, &fields).map_err(|e| match e {
            e @ DbError::InvalidFile { .. } => e,
            other => invalid(line, other),
        })?;
        rows.push(row);
    }
    Ok(rows)
}

/// The refusal of a record longer than [`limit::MAX_RECORD_BYTES`], if `e` is that.
fn too_long(e: &csv::Error) -> Option<DbError> {
    match e.kind() {
        csv::ErrorKind::Io(io) => io
            .get_ref()?
            .downcast_ref::<limit::RecordTooLong>()
            .map(|t| invalid(t.line, t)),
        _ => None,
    }
}

/// A record's non-empty, trimmed, unescaped values by column name.
type Fields = HashMap<&'static str, String>;

fn parse_row(line: u64, fields: &Fields) -> Result<ImportRow, DbError> {
    let field = |name: &str| fields.get(name).map(String::as_str);
    let location = field("location").ok_or_else(|| invalid(line, "location is empty"))?;
    let path = parse_path(location)
        .map_err(|e| invalid(line, format!("location: {e}")))?
        .into_iter()
        .map(|segment| {
            validate_location_name(segment)
                .map_err(|e| invalid(line, format!("location \"{location}\": {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let location_type = field("location_type")
        .map(|t| t.parse::<LocationType>().map_err(|e| invalid(line, e)))
        .transpose()?;
    let quantity = match field("quantity") {
        None => 1,
        Some(q) => q
            .parse::<i64>()
            .map_err(|_| invalid(line, format!("quantity \"{q}\" is not a whole number")))?,
    };
    let date = |name: &str| field(name).map(|d| parse_date(name, d)).transpose();
    let item = NewItem {
        name: field("name").unwrap_or_default().to_string(),
        location_id: 0,
        quantity,
        category: field("category").map(str::to_string),
        description: field("description").map(str::to_string),
        notes: field("notes").map(str::to_string),
        serial_number: field("serial_number").map(str::to_string),
        purchase_date: date("purchase_date")?,
        purchase_price_cents: field("purchase_price").map(parse_price).transpose()?,
        currency: field("currency").map(str::to_string),
        warranty_expires: date("warranty_expires")?,
    }
    // Everything an item insert checks, checked now, before anything is written.
    .validated()?;
    Ok(ImportRow {
        line,
        path,
        location_type,
        item,
    })
}

/// The location type created at a depth when the file does not say.
fn type_for_depth(depth: usize) -> LocationType {
    match depth {
        0 => LocationType::House,
        1 => LocationType::Room,
        _ => LocationType::Container,
    }
}

/// The key of a full path for the `location_type` lookup: segment keys joined by `/`
/// (which no name holds).
fn path_key(path: &[String]) -> String {
    let mut key = String::new();
    for (i, segment) in path.iter().enumerate() {
        if i > 0 {
            key.push('/');
        }
        key.push_str(&name_key(segment));
    }
    key
}

/// Where an import puts something: an existing location, or the one at this index of
/// the locations the import creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Place {
    Existing(LocationId),
    New(usize),
}

/// A location the import creates (its id is drawn once all are known).
struct PlannedLocation {
    name: String,
    key: String,
    kind: LocationType,
    parent: Option<Place>,
}

/// Writes validated import rows: locations resolved (or created), categories resolved (or
/// created), items inserted. Run it in a [`TxMode::TreeWrite`] transaction: any error
/// rolls everything back.
///
/// Linear in the size of the file, and written in bulk: each distinct path segment is
/// resolved once, through a cache keyed by (parent, name key) — looked up in the database
/// only below a location that already exists, since nothing can stand below one that this
/// import creates. The new locations and the items then go in with the restore's bulk
/// INSERT (one statement per [`INSERT_BATCH`] rows), under ids drawn for them; the sibling
/// and foreign-key constraints still check every row.
pub(crate) async fn import_rows(
    conn: &mut Conn,
    rules: &TypeRules,
    rows: &[ImportRow],
    options: ImportOptions,
    progress: Progress<'_>,
) -> Result<ImportSummary, DbError> {
    let total = rows.len() as u64;
    progress(0, total);
    let mut summary = ImportSummary::default();
    // The type each full path should get if it is created, from the rows' own column.
    let mut wanted: HashMap<String, (LocationType, u64)> = HashMap::new();
    for row in rows {
        if let Some(t) = row.location_type {
            match wanted.get(&path_key(&row.path)) {
                Some((other, first)) if *other != t => {
                    return Err(invalid(
                        row.line,
                        format!(
                            "location \"{}\" is given as {t}, but line {first} gives it as {other}",
                            row.path.join(PATH_SEPARATOR)
                        ),
                    ))
                }
                Some(_) => {}
                None => {
                    wanted.insert(path_key(&row.path), (t, row.line));
                }
            }
        }
    }
    // Every row's place, and the locations to create (parents before their children).
    let mut resolved: HashMap<(Option<Place>, String), (Place, LocationType)> = HashMap::new();
    let mut planned: Vec<PlannedLocation> = Vec::new();
    let mut places: Vec<Place> = Vec::with_capacity(rows.len());
    for row in rows {
        let mut parent: Option<(Place, LocationType)> = None;
        for (depth, segment) in row.path.iter().enumerate() {
            let key = name_key(segment);
            let cache_key = (parent.map(|p| p.0), key);
            if let Some(found) = resolved.get(&cache_key) {
                parent = Some(*found);
                continue;
            }
            let existing = match cache_key.0 {
                Some(Place::New(_)) => None,
                Some(Place::Existing(id)) => {
                    LocationRecord::child_by_key(conn, Some(id), &cache_key.1).await?
                }
                None => LocationRecord::child_by_key(conn, None, &cache_key.1).await?,
            };
            let here = match existing {
                Some(record) => (Place::Existing(record.id), record.kind()?),
                None if options.create_locations => {
                    // The type, and the line that asked for it (or this row's, by depth).
                    let prefix = &row.path[..=depth];
                    let (kind, line) = wanted
                        .get(&path_key(prefix))
                        .copied()
                        .unwrap_or((type_for_depth(depth), row.line));
                    rules.check(parent.map(|p| p.1), kind).map_err(|v| {
                        invalid(
                            line,
                            format!(
                                "cannot create location \"{}\": {v}",
                                prefix.join(PATH_SEPARATOR)
                            ),
                        )
                    })?;
                    planned.push(PlannedLocation {
                        name: segment.clone(),
                        key: cache_key.1.clone(),
                        kind,
                        parent: cache_key.0,
                    });
                    (Place::New(planned.len() - 1), kind)
                }
                None => {
                    return Err(invalid(
                        row.line,
                        format!(
                        "no location at path \"{}\" (import with --create-locations to create it)",
                        row.path.join(PATH_SEPARATOR)
                    ),
                    ))
                }
            };
            resolved.insert(cache_key, here);
            parent = Some(here);
        }
        let place = parent
            .map(|p| p.0)
            .ok_or_else(|| invalid(row.line, "location is empty"))?;
        places.push(place);
    }
    let at = now();
    let mut categories: HashMap<String, i64> = HashMap::new();
    let mut category_ids: Vec<Option<i64>> = Vec::with_capacity(rows.len());
    for row in rows {
        let id = match &row.item.category {
            None => None,
            Some(name) => {
                let key = name_key(name);
                match categories.get(&key) {
                    Some(id) => Some(*id),
                    None => {
                        let id = match Category::by_key(conn, &key).await? {
                            Some(existing) => existing.id,
                            None => {
                                summary.categories_created += 1;
                                Category::insert(conn, name, None, at).await?.id
                            }
                        };
                        categories.insert(key, id);
                        Some(id)
                    }
                }
            }
        };
        category_ids.push(id);
    }
    let location_ids = reserve_ids(conn, IdTable::Locations, planned.len()).await?;
    let id_of = |place: Place| match place {
        Place::Existing(id) => id,
        Place::New(i) => location_ids[i],
    };
    let records: Vec<LocationRecord> = planned
        .into_iter()
        .zip(&location_ids)
        .map(|(p, &id)| LocationRecord {
            id,
            name: p.name,
            description: None,
            location_type: p.kind.as_str().to_string(),
            parent_id: p.parent.map(id_of),
            created_at: at,
            updated_at: at,
            name_key: p.key,
        })
        .collect();
    insert_rows(conn, &records).await?;
    summary.locations_created = records.len() as u64;
    let item_ids = reserve_ids(conn, IdTable::Items, rows.len()).await?;
    let mut done = 0;
    while done < rows.len() {
        let end = (done + INSERT_BATCH).min(rows.len());
        let batch: Vec<ItemRecord> = (done..end)
            .map(|i| {
                let item = &rows[i].item;
                ItemRecord {
                    id: item_ids[i],
                    name: item.name.clone(),
                    description: item.description.clone(),
                    quantity: item.quantity,
                    location_id: id_of(places[i]),
                    category_id: category_ids[i],
                    serial_number: item.serial_number.clone(),
                    purchase_date: item.purchase_date,
                    purchase_price_cents: item.purchase_price_cents,
                    currency: item.currency.clone(),
                    warranty_expires: item.warranty_expires,
                    notes: item.notes.clone(),
                    created_at: at,
                    updated_at: at,
                }
            })
            .collect();
        insert_rows(conn, &batch).await?;
        done = end;
        progress(done as u64, total);
    }
    // The new items' share of the kept totals, in one statement: this tree write keeps
    // every other item writer out, so the reserved range holds only this import's items.
    if let (Some(first), Some(last)) = (item_ids.iter().min(), item_ids.iter().max()) {
        crate::models::totals::add_items(conn, *first, *last).await?;
    }
    summary.items = rows.len() as u64;
    Ok(summary)
}

/// Writes every item as CSV (header first), ordered by location path, then name, from
/// one consistent snapshot.
pub async fn export(
    conn: &mut Conn,
    out: &mut (dyn Write + Send),
    progress: Progress<'_>,
) -> Result<u64, DbError> {
    let mut records = Vec::new();
    let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
    let filter = ItemFilter::default();
    loop {
        let limit = page.effective_limit()?;
        let mut got = ItemRecord::page(conn, &filter, None, page.after_id()?, limit + 1).await?;
        let next = PageRequest::cut(&mut got, limit, |r| r.id);
        records.append(&mut got);
        match next {
            Some(cursor) => page.cursor = Some(cursor),
            None => break,
        }
    }
    let mut location_ids: Vec<i64> = records.iter().map(|r| r.location_id).collect();
    location_ids.sort_unstable();
    location_ids.dedup();
    // Path and own type of every location that holds items, from one recursive query.
    let mut places: HashMap<LocationId, (String, String)> =
        HashMap::with_capacity(location_ids.len());
    for row in LocationRecord::chains(conn, &location_ids).await? {
        let entry = places.entry(row.seed).or_default();
        if !entry.0.is_empty() {
            entry.0.push_str(PATH_SEPARATOR);
        }
        entry.0.push_str(&row.name);
        if row.depth == 0 {
            entry.1 = row.location_type;
        }
    }
    let mut category_ids: Vec<i64> = records.iter().filter_map(|r| r.category_id).collect();
    category_ids.sort_unstable();
    category_ids.dedup();
    let mut category_names = HashMap::new();
    for chunk in category_ids.chunks(10_000) {
        category_names.extend(Category::names_of(conn, chunk).await?);
    }
    let no_place = (String::new(), String::new());
    let place = |id: &i64| places.get(id).unwrap_or(&no_place);
    records.sort_by(|a, b| {
        (place(&a.location_id).0.as_str(), a.name.as_str(), a.id).cmp(&(
            place(&b.location_id).0.as_str(),
            b.name.as_str(),
            b.id,
        ))
    });
    let total = records.len() as u64;
    let io = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(e) => DbError::io("cannot write CSV", e),
        other => DbError::internal(format!("cannot write CSV: {other:?}"), None),
    };
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out);
    writer.write_record(COLUMNS).map_err(io)?;
    for (n, item) in records.iter().enumerate() {
        let (path, kind) = place(&item.location_id);
        let quantity = item.quantity.to_string();
        let price = item
            .purchase_price_cents
            .map(format_price)
            .unwrap_or_default();
        let purchased = item
            .purchase_date
            .map(|d| d.to_string())
            .unwrap_or_default();
        let warranty = item
            .warranty_expires
            .map(|d| d.to_string())
            .unwrap_or_default();
        let category = item
            .category_id
            .and_then(|c| category_names.get(&c))
            .map(String::as_str)
            .unwrap_or_default();
        let cells = [
            item.name.as_str(),
            quantity.as_str(),
            path.as_str(),
            kind.as_str(),
            category,
            item.description.as_deref().unwrap_or_default(),
            item.serial_number.as_deref().unwrap_or_default(),
            purchased.as_str(),
            price.as_str(),
            item.currency.as_deref().unwrap_or_default(),
            warranty.as_str(),
            item.notes.as_deref().unwrap_or_default(),
        ];
        writer
            .write_record(
                cells
                    .iter()
                    .map(|c| escape_cell(c))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(|c| c.as_bytes()),
            )
            .map_err(io)?;
        progress(n as u64 + 1, total);
    }
    writer
        .flush()
        .map_err(|e| DbError::io("cannot write CSV", e))?;
    Ok(total)
}

impl Database {
    /// Writes every item as CSV (header first), ordered by location path, then name, from
    /// one consistent snapshot.
    pub async fn export_items_csv(
        &self,
        out: &mut (dyn Write + Send),
        progress: Progress<'_>,
    ) -> Result<u64, DbError> {
        self.transaction(TxMode::Snapshot, async |c| export(c, out, progress).await)
            .await
    }

    /// [`Database::export_items_csv`] into a file: created owner-only, complete or not at
    /// all; an existing file is replaced only with [`Overwrite::Replace`], and the database
    /// in use never.
    pub async fn export_items_csv_to_file(
        &self,
        path: &Path,
        overwrite: Overwrite,
        progress: Progress<'_>,
    ) -> Result<u64, DbError> {
        let mut file = OutputFile::create(self, path, overwrite, "CSV export")?;
        let rows = self.export_items_csv(&mut file, progress).await?;
        file.commit()?;
        Ok(rows)
    }

    /// Reads a CSV file of items and creates them all, or nothing: a bad row rejects the
    /// file with its line number.
    pub async fn import_items_csv(
        &self,
        input: &mut (dyn Read + Send),
        options: ImportOptions,
        progress: Progress<'_>,
    ) -> Result<ImportSummary, DbError> {
        let rows = parse_csv(input)?;
        let rules = &self.rules;
        self.transaction(TxMode::TreeWrite, async |c| {
            import_rows(c, rules, &rows, options, progress).await
        })
        .await
    }
}
