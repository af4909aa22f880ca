//! CSV export and import of items: one row per item, its location as a full path.
//!
//! Export → import into an empty database (with `create_locations`) → export gives the
//! same bytes. Import is all-or-nothing: the whole file is parsed and validated first, then
//! written in one transaction; the first bad row rejects the file with its line number.

use std::collections::HashMap;
use std::io::{Read, Write};

use inventory_core::{
    format_price, parse_date, parse_price, validate_category_name, validate_location_name,
    LocationType, PATH_SEPARATOR,
};
use serde::Serialize;

use crate::error::DbError;
use crate::models::item::{ItemFilter, NewItem};
use crate::models::PageRequest;
use crate::pool::{db_run, Database};

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

/// Called with (done, total) rows.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

/// One validated row of an import file.
#[derive(Clone, Debug)]
pub(crate) struct ImportRow {
    pub line: u64,
    /// Path segments, validated location names.
    pub path: Vec<String>,
    pub location_type: Option<LocationType>,
    pub category: Option<String>,
    pub item: NewItem,
}

fn invalid(line: u64, reason: impl std::fmt::Display) -> DbError {
    DbError::Invalid(format!("line {line}: {reason}"))
}

/// Reads and validates a whole CSV file; nothing is written.
pub(crate) fn parse_csv(input: &mut dyn Read) -> Result<Vec<ImportRow>, DbError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| invalid(1, format!("cannot read the header: {e}")))?
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
            let line = e.position().map_or(0, |p| p.line());
            invalid(line, format!("malformed CSV: {e}"))
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let fields: Fields = index
            .iter()
            .filter_map(|(name, &i)| {
                let v = record.get(i)?.trim();
                (!v.is_empty()).then(|| (*name, v.to_string()))
            })
            .collect();
        let row = parse_row(line, &fields).map_err(|e| match e {
            DbError::Invalid(m) if m.starts_with("line ") => DbError::Invalid(m),
            other => invalid(line, other),
        })?;
        rows.push(row);
    }
    Ok(rows)
}

/// A record's non-empty, trimmed values by column name.
type Fields = HashMap<&'static str, String>;

fn parse_row(line: u64, fields: &Fields) -> Result<ImportRow, DbError> {
    let field = |name: &str| fields.get(name).map(String::as_str);
    let location = field("location").ok_or_else(|| invalid(line, "location is empty"))?;
    let path = location
        .split('/')
        .map(|segment| {
            validate_location_name(segment)
                .map_err(|e| invalid(line, format!("location \"{location}\": {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let location_type = field("location_type")
        .map(|t| t.parse::<LocationType>().map_err(|e| invalid(line, e)))
        .transpose()?;
    let category = field("category")
        .map(|c| validate_category_name(c).map_err(|e| invalid(line, e)))
        .transpose()?;
    let quantity = match field("quantity") {
        None => 1,
        Some(q) => q
            .parse::<i64>()
            .map_err(|_| invalid(line, format!("quantity \"{q}\" is not a whole number")))?,
    };
    let date = |name: &str, label: &str| field(name).map(|d| parse_date(label, d)).transpose();
    let item = NewItem {
        name: field("name").unwrap_or_default().to_string(),
        location_id: 0,
        quantity,
        category: category.clone(),
        description: field("description").map(str::to_string),
        notes: field("notes").map(str::to_string),
        serial_number: field("serial_number").map(str::to_string),
        purchase_date: date("purchase_date", "purchase_date")?,
        purchase_price_cents: field("purchase_price").map(parse_price).transpose()?,
        currency: field("currency").map(str::to_string),
        warranty_expires: date("warranty_expires", "warranty_expires")?,
    };
    // Everything an item insert would check, checked now, before anything is written.
    crate::store::validate_new_item(&item)?;
    Ok(ImportRow {
        line,
        path,
        location_type,
        category,
        item,
    })
}

impl Database {
    /// Writes every item as CSV (header first), ordered by location path, then name.
    pub async fn export_items_csv(
        &self,
        out: &mut (dyn Write + Send),
        progress: Progress<'_>,
    ) -> Result<u64, DbError> {
        let mut items = Vec::new();
        let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
        loop {
            let p = self.list_items(&ItemFilter::default(), &page).await?;
            items.extend(p.items);
            match p.next_cursor {
                Some(c) => page.cursor = Some(c),
                None => break,
            }
        }
        let mut location_ids: Vec<i64> = items.iter().map(|i| i.location_id).collect();
        location_ids.sort_unstable();
        location_ids.dedup();
        let types: HashMap<i64, LocationType> =
            db_run!(self, |conn| store::location_types(conn, &location_ids)
                .await)?;
        items.sort_by(|a, b| {
            (a.location_path.as_str(), a.name.as_str(), a.id).cmp(&(
                b.location_path.as_str(),
                b.name.as_str(),
                b.id,
            ))
        });
        let total = items.len() as u64;
        let io = |e: csv::Error| DbError::Invalid(format!("cannot write CSV: {e}"));
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(out);
        writer.write_record(COLUMNS).map_err(io)?;
        for (n, item) in items.iter().enumerate() {
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
            let kind = types
                .get(&item.location_id)
                .map(|t| t.as_str())
                .unwrap_or_default();
            writer
                .write_record([
                    item.name.as_str(),
                    quantity.as_str(),
                    item.location_path.as_str(),
                    kind,
                    item.category.as_deref().unwrap_or_default(),
                    item.description.as_deref().unwrap_or_default(),
                    item.serial_number.as_deref().unwrap_or_default(),
                    purchased.as_str(),
                    price.as_str(),
                    item.currency.as_deref().unwrap_or_default(),
                    warranty.as_str(),
                    item.notes.as_deref().unwrap_or_default(),
                ])
                .map_err(io)?;
            progress(n as u64 + 1, total);
        }
        writer
            .flush()
            .map_err(|e| DbError::Invalid(format!("cannot write CSV: {e}")))?;
        Ok(total)
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
        let rules = self.rules.clone();
        db_run!(self, |conn| store::import_rows(
            conn, &rules, rows, options, progress
        )
        .await)
    }
}

/// The location type created at a depth when the file does not say.
pub(crate) fn type_for_depth(depth: usize) -> LocationType {
    match depth {
        0 => LocationType::House,
        1 => LocationType::Room,
        _ => LocationType::Container,
    }
}

/// A path as shown in messages.
pub(crate) fn show_path(path: &[String]) -> String {
    path.join(PATH_SEPARATOR)
}
