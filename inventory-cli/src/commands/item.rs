//! `inventory item …` (add, list, show, update, move, rm), `category …` and `find`.

use std::collections::BTreeMap;

use inventory_core::{format_amount, format_price};
use inventory_db::{Database, Item, ItemChanges, ItemFilter, ItemSummary, NewItem, PageRequest};

use super::{confirm, Ctx};
use crate::cli::{CategoryCommand, ItemCommand};
use crate::error::{CliError, CmdResult, EXIT_OK};
use crate::output;

/// Runs one `item` subcommand.
pub async fn run(ctx: &Ctx, cmd: ItemCommand) -> CmdResult {
    let db = ctx.open_current().await?;
    match cmd {
        ItemCommand::Add {
            name,
            location,
            quantity,
            category,
            description,
            notes,
            serial,
            price,
            currency,
            purchased,
            warranty,
        } => {
            // Bad input is exit 2 even when the location is wrong too.
            inventory_core::validate_item_name(&name).map_err(inventory_db::DbError::from)?;
            let location_id = db.resolve_location(&location).await?;
            let new = NewItem {
                name,
                location_id,
                quantity: quantity.unwrap_or(1),
                category,
                description,
                notes,
                serial_number: serial,
                purchase_date: purchased,
                purchase_price_cents: price,
                currency,
                warranty_expires: warranty,
            };
            let item = db.create_item(&new).await?;
            print_item_line(ctx, "Added", &item)
        }
        ItemCommand::List {
            location,
            recursive,
            category,
        } => {
            let location_id = match location {
                Some(r) => Some(db.resolve_location(&r).await?),
                None => None,
            };
            let filter = ItemFilter {
                location_id,
                recursive,
                category,
                ..ItemFilter::default()
            };
            let items = list_all(&db, &filter).await?;
            if ctx.json() {
                output::json(&items)?;
                return Ok(EXIT_OK);
            }
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|i| {
                    vec![
                        i.id.to_string(),
                        i.name.clone(),
                        i.quantity.to_string(),
                        i.category.clone().unwrap_or_else(|| "-".into()),
                        i.location_path.clone(),
                    ]
                })
                .collect();
            if !rows.is_empty() {
                output::table(&["ID", "NAME", "QTY", "CATEGORY", "LOCATION"], &rows)?;
            }
            println!("{}", totals_line(&items));
            Ok(EXIT_OK)
        }
        ItemCommand::Show { id } => {
            let item = db.get_item(id).await?;
            if ctx.json() {
                output::json(&item)?;
                return Ok(EXIT_OK);
            }
            let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
            let date =
                |d: Option<chrono::NaiveDate>| d.map_or_else(|| "-".into(), |d| d.to_string());
            println!("ID:          {}", item.id);
            println!("Name:        {}", item.name);
            println!("Quantity:    {}", item.quantity);
            println!(
                "Location:    {} (#{})",
                item.location_path, item.location_id
            );
            println!("Category:    {}", opt(&item.category));
            println!("Description: {}", opt(&item.description));
            println!("Notes:       {}", opt(&item.notes));
            println!("Serial:      {}", opt(&item.serial_number));
            println!("Price:       {}", price_text(&item));
            println!("Purchased:   {}", date(item.purchase_date));
            println!("Warranty:    {}", date(item.warranty_expires));
            println!("Created:     {}", item.created_at.to_rfc3339());
            println!("Updated:     {}", item.updated_at.to_rfc3339());
            Ok(EXIT_OK)
        }
        ItemCommand::Update {
            id,
            name,
            quantity,
            category,
            no_category,
            description,
            clear_description,
            notes,
            clear_notes,
            serial,
            clear_serial,
            price,
            currency,
            clear_price,
            purchased,
            clear_purchased,
            warranty,
            clear_warranty,
        } => {
            let changes = ItemChanges {
                name,
                quantity,
                category: set_or_clear(category, no_category),
                description: set_or_clear(description, clear_description),
                notes: set_or_clear(notes, clear_notes),
                serial_number: set_or_clear(serial, clear_serial),
                purchase_date: set_or_clear(purchased, clear_purchased),
                price: set_or_clear(price.zip(currency), clear_price),
                warranty_expires: set_or_clear(warranty, clear_warranty),
            };
            if changes == ItemChanges::default() {
                return Err(CliError::usage(
                    "nothing to change; pass at least one of the options (see `inventory item update --help`)",
                ));
            }
            let item = db.update_item(id, &changes).await?;
            print_item_line(ctx, "Updated", &item)
        }
        ItemCommand::Move { id, to } => {
            let target = db.resolve_location(&to).await?;
            let item = db.move_item(id, target).await?;
            print_item_line(ctx, "Moved", &item)
        }
        ItemCommand::Rm { id, yes } => {
            let item = db.get_item(id).await?;
            confirm(
                yes,
                &format!(
                    "delete item #{id} \"{}\" (in {})",
                    item.name, item.location_path
                ),
            )?;
            let gone = db.delete_item(id).await?;
            print_item_line(ctx, "Removed", &gone)
        }
    }
}

/// `Some(Some(v))` to set, `Some(None)` to clear, `None` to leave alone.
fn set_or_clear<T>(value: Option<T>, clear: bool) -> Option<Option<T>> {
    if clear {
        Some(None)
    } else {
        value.map(Some)
    }
}

/// Items fetched per page by `list`.
const LIST_PAGE: u32 = 1000;

/// Every item matching `filter`, following the pages to the end.
async fn list_all(db: &Database, filter: &ItemFilter) -> Result<Vec<Item>, CliError> {
    let mut all = Vec::new();
    let mut page = PageRequest::first(LIST_PAGE);
    loop {
        let got = db.list_items(filter, &page).await?;
        all.extend(got.items);
        match got.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return Ok(all),
        }
    }
}

/// `12.34 EUR`, or `-`.
fn price_text(item: &Item) -> String {
    match (item.purchase_price_cents, &item.currency) {
        (Some(c), Some(cur)) => format!("{} {cur}", format_price(c)),
        (Some(c), None) => format_price(c),
        _ => "-".into(),
    }
}

/// `Added #7 Drill ×1 in My House / Garage`, or the item as JSON.
fn print_item_line(ctx: &Ctx, verb: &str, item: &Item) -> CmdResult {
    if ctx.json() {
        output::json(item)?;
    } else {
        println!(
            "{verb} #{} {} (quantity {}) in {}",
            item.id, item.name, item.quantity, item.location_path
        );
    }
    Ok(EXIT_OK)
}

/// `3 item(s), total quantity 5, value 12.34 EUR + 5.00 USD`, summed in 128 bits (exact).
fn totals_line(items: &[Item]) -> String {
    let mut value: BTreeMap<&str, i128> = BTreeMap::new();
    for i in items {
        if let (Some(c), Some(cur)) = (i.purchase_price_cents, i.currency.as_deref()) {
            *value.entry(cur).or_default() += i128::from(c) * i128::from(i.quantity);
        }
    }
    let quantity: i128 = items.iter().map(|i| i128::from(i.quantity)).sum();
    format!(
        "{} item(s), total quantity {quantity}, value {}",
        items.len(),
        value_text(value.iter().map(|(c, v)| (*c, *v)))
    )
}

/// `12.34 EUR + 5.00 USD`, or `-` when nothing has a price.
fn value_text<'a>(totals: impl Iterator<Item = (&'a str, i128)>) -> String {
    let parts: Vec<String> = totals
        .map(|(cur, cents)| format!("{} {cur}", format_amount(cents)))
        .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(" + ")
    }
}

/// `2 item(s), quantity 3, value 10.00 EUR` for `location show`.
pub fn summary_text(s: &ItemSummary) -> String {
    format!(
        "{} item(s), quantity {}, value {}",
        s.items,
        s.total_quantity,
        value_text(s.value.iter().map(|t| (t.currency.as_str(), t.cents)))
    )
}

/// Runs one `category` subcommand.
pub async fn category(ctx: &Ctx, cmd: CategoryCommand) -> CmdResult {
    let db = ctx.open_current().await?;
    match cmd {
        CategoryCommand::Add { name, description } => {
            let c = db.create_category(&name, description.as_deref()).await?;
            if ctx.json() {
                output::json(&c)?;
            } else {
                println!("Created category #{} {}", c.id, c.name);
            }
        }
        CategoryCommand::List => {
            let all = db.list_categories().await?;
            if ctx.json() {
                output::json(&all)?;
            } else if all.is_empty() {
                println!("(no categories; create one with `inventory category add NAME`)");
            } else {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|c| {
                        vec![
                            c.category.id.to_string(),
                            c.category.name.clone(),
                            c.items.to_string(),
                            c.category.description.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                output::table(&["ID", "NAME", "ITEMS", "DESCRIPTION"], &rows)?;
            }
        }
        CategoryCommand::Rm { name, yes } => {
            let existing = db.list_categories().await?.into_iter().find(|c| {
                inventory_core::name_key(&c.category.name) == inventory_core::name_key(&name)
            });
            let Some(existing) = existing else {
                return Err(inventory_db::DbError::NotFound {
                    entity: inventory_db::Entity::Category,
                    key: inventory_db::Key::Name(name.trim().to_string()),
                }
                .into());
            };
            confirm(
                yes,
                &format!(
                    "delete category \"{}\" ({} item(s) keep existing, without a category)",
                    existing.category.name, existing.items
                ),
            )?;
            let c = db.delete_category(&name).await?;
            if ctx.json() {
                output::json(&c)?;
            } else {
                println!(
                    "Removed category #{} {}; its {} item(s) now have no category",
                    c.id, c.name, existing.items
                );
            }
        }
    }
    Ok(EXIT_OK)
}

/// `inventory find TEXT…`: ranked hits with their full paths.
pub async fn find(ctx: &Ctx, text: &[String], limit: i64) -> CmdResult {
    if limit < 1 {
        return Err(CliError::usage("--limit must be at least 1"));
    }
    let db = ctx.open_current().await?;
    let query = text.join(" ");
    let hits = db.search(&query, limit).await?;
    if ctx.json() {
        output::json(&hits)?;
    } else if hits.is_empty() {
        println!("Nothing found for \"{}\".", query.trim());
    } else {
        let rows: Vec<Vec<String>> = hits
            .iter()
            .map(|h| {
                vec![
                    h.kind.to_string(),
                    h.name.clone(),
                    h.path.clone(),
                    h.id.to_string(),
                ]
            })
            .collect();
        output::table(&["KIND", "NAME", "PATH", "ID"], &rows)?;
    }
    Ok(EXIT_OK)
}
