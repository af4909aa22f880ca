//! `inventory location …`: add, list, show, tree, update, move, rm. A REF is an id or a
//! full path ("My House / Kitchen"), resolved by inventory-db.

use inventory_db::{
    Database, DbError, ItemSummary, ItemsOnDelete, Location, LocationChanges, LocationDetail,
    LocationFilter, NewLocation, PageRequest,
};
use std::io::Write;

use serde_json::json;

use super::{confirm, Ctx};
use crate::cli::{ItemsMode, LocationCommand};
use crate::error::{CliError, CmdResult, EXIT_CONFLICT, EXIT_OK};
use crate::output;

/// Runs one `location` subcommand.
pub async fn run(ctx: &Ctx, cmd: LocationCommand) -> CmdResult {
    let db = ctx.open_current().await?;
    match cmd {
        LocationCommand::Add {
            name,
            location_type,
            parent,
            description,
        } => {
            // Bad input is exit 2 even when the parent is wrong too.
            inventory_core::validate_location_name(&name).map_err(DbError::from)?;
            let parent_id = match parent {
                Some(r) => Some(db.resolve_location(&r).await?),
                None => None,
            };
            let new = NewLocation {
                name,
                description,
                location_type,
                parent_id,
            };
            let created = db.create_location(&new).await?;
            print_location(ctx, "Created", &created)
        }
        LocationCommand::List {
            location_type,
            roots,
            parent,
        } => {
            let parent_id = match parent {
                Some(r) => Some(db.resolve_location(&r).await?),
                None => None,
            };
            let filter = LocationFilter {
                location_type,
                roots_only: roots,
                parent_id,
                ..LocationFilter::default()
            };
            let all = list_all(&db, &filter).await?;
            if ctx.json() {
                output::json(&all)?;
            } else {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|l| {
                        vec![
                            l.id.to_string(),
                            l.location_type.to_string(),
                            l.parent_id.map_or_else(|| "-".into(), |p| p.to_string()),
                            l.full_path.clone(),
                        ]
                    })
                    .collect();
                output::table(&["ID", "TYPE", "PARENT", "PATH"], &rows)?;
            }
            Ok(EXIT_OK)
        }
        LocationCommand::Show { reference } => {
            let id = db.resolve_location(&reference).await?;
            let detail = db.get_location(id).await?;
            let direct = db.item_summary(id, false).await?;
            let below = db.item_summary(id, true).await?;
            if ctx.json() {
                // Written straight from the types: totals are i128, which a serde_json
                // `Value` cannot hold past 64 bits.
                output::json(&Shown {
                    detail: &detail,
                    items: ShownItems {
                        direct: &direct,
                        recursive: &below,
                    },
                })?;
                return Ok(EXIT_OK);
            }
            let l = &detail.location;
            let ancestors: Vec<String> = detail
                .ancestors
                .iter()
                .map(|a| format!("{} ({}) #{}", a.name, a.location_type, a.id))
                .collect();
            let parent = detail.ancestors.last().map_or_else(
                || "- (root)".to_string(),
                |p| format!("#{} {}", p.id, p.name),
            );
            println!("ID:          {}", l.id);
            println!("Name:        {}", l.name);
            println!("Type:        {}", l.location_type);
            println!("Path:        {}", l.full_path);
            println!("Parent:      {parent}");
            println!(
                "Ancestors:   {}",
                if ancestors.is_empty() {
                    "-".into()
                } else {
                    ancestors.join(" / ")
                }
            );
            println!("Children:    {}", detail.child_count);
            println!("Items here:  {}", super::item::summary_text(&direct));
            println!(
                "Items below: {} (this location included)",
                super::item::summary_text(&below)
            );
            println!("Description: {}", l.description.as_deref().unwrap_or("-"));
            println!("Created:     {}", l.created_at.to_rfc3339());
            println!("Updated:     {}", l.updated_at.to_rfc3339());
            Ok(EXIT_OK)
        }
        LocationCommand::Tree { reference, depth } => {
            let root = match &reference {
                Some(r) => Some(db.resolve_location(r).await?),
                None => None,
            };
            let outline = db.location_outline(root, depth).await?;
            if ctx.json() {
                // One location's tree is an object, every root's an array.
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                outline.write_json(root.is_none(), &mut out)?;
                writeln!(out)?;
                out.flush()?;
            } else if outline.is_empty() {
                println!("(no locations)");
            } else {
                output::text(&output::render_outline(&outline))?;
            }
            Ok(EXIT_OK)
        }
        LocationCommand::Update {
            reference,
            name,
            description,
            clear_description,
            location_type,
        } => {
            let changes = LocationChanges {
                name,
                description: if clear_description {
                    Some(None)
                } else {
                    description.map(Some)
                },
                location_type,
            };
            if changes.is_empty() {
                return Err(CliError::usage(
                    "nothing to change; pass --name, --description, --clear-description or --type",
                ));
            }
            let id = db.resolve_location(&reference).await?;
            let updated = db.update_location(id, &changes).await?;
            print_location(ctx, "Updated", &updated)
        }
        LocationCommand::Move {
            reference,
            to,
            root: _,
        } => {
            let id = db.resolve_location(&reference).await?;
            let new_parent = match to {
                Some(r) => Some(db.resolve_location(&r).await?),
                None => None,
            };
            let moved = db.move_location(id, new_parent).await?;
            print_location(ctx, "Moved", &moved)
        }
        LocationCommand::Rm {
            reference,
            yes,
            items,
        } => {
            let id = db.resolve_location(&reference).await?;
            let detail = db.get_location(id).await?;
            let path = detail.location.full_path;
            let parent_path = detail.ancestors.last().map(|_| {
                detail
                    .ancestors
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(inventory_core::PATH_SEPARATOR)
            });
            let held = db.item_summary(id, true).await?;
            let mode = match items {
                None => ItemsOnDelete::Refuse,
                Some(ItemsMode::MoveToParent) => ItemsOnDelete::MoveToParent,
                Some(ItemsMode::Delete) => ItemsOnDelete::Delete,
            };
            if held.items > 0 && mode == ItemsOnDelete::Refuse {
                return Err(CliError {
                    code: EXIT_CONFLICT,
                    message: format!(
                        "\"{path}\" holds {} item(s) in it or below it; nothing was deleted. \
                         Pass --items move-to-parent to move them to the parent, or \
                         --items delete to delete them too",
                        held.items
                    ),
                });
            }
            let what = match (mode, held.items) {
                (_, 0) | (ItemsOnDelete::Refuse, _) => String::new(),
                (ItemsOnDelete::MoveToParent, n) => format!(
                    ", moving its {n} item(s) to \"{}\"",
                    parent_path.as_deref().unwrap_or("-")
                ),
                (ItemsOnDelete::Delete, n) => format!(" and its {n} item(s)"),
            };
            confirm(
                yes,
                &format!("delete \"{path}\" (#{id}) and everything under it{what}"),
            )?;
            let outcome = db.delete_location_with(id, mode).await?;
            let items_moved = if mode == ItemsOnDelete::MoveToParent {
                outcome.items_affected
            } else {
                0
            };
            let items_deleted = if mode == ItemsOnDelete::Delete {
                outcome.items_affected
            } else {
                0
            };
            if ctx.json() {
                output::json(&json!({
                    "id": outcome.id,
                    "full_path": path,
                    "locations_deleted": outcome.locations_deleted,
                    "items_moved": items_moved,
                    "items_deleted": items_deleted,
                }))?;
            } else {
                println!(
                    "Removed {} location(s): \"{path}\" (#{id}) and everything under it",
                    outcome.locations_deleted
                );
                if items_moved > 0 {
                    println!(
                        "Moved {items_moved} item(s) to \"{}\"",
                        parent_path.as_deref().unwrap_or("-")
                    );
                }
                if items_deleted > 0 {
                    println!("Deleted {items_deleted} item(s)");
                }
            }
            Ok(EXIT_OK)
        }
    }
}

/// `location show` as JSON: the location's detail and its item totals.
#[derive(serde::Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    detail: &'a LocationDetail,
    items: ShownItems<'a>,
}

/// Item totals directly in a location and in its whole subtree.
#[derive(serde::Serialize)]
struct ShownItems<'a> {
    direct: &'a ItemSummary,
    recursive: &'a ItemSummary,
}

/// Locations fetched per page by `list`.
const LIST_PAGE: u32 = 1000;

/// Every location matching `filter`, following the pages to the end.
async fn list_all(db: &Database, filter: &LocationFilter) -> Result<Vec<Location>, CliError> {
    let mut all = Vec::new();
    let mut page = PageRequest::first(LIST_PAGE);
    loop {
        let got = db.list_locations(filter, &page).await?;
        all.extend(got.items);
        match got.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return Ok(all),
        }
    }
}

/// `Created #3 My House / Kitchen (ROOM)`, or the location as JSON.
fn print_location(ctx: &Ctx, verb: &str, l: &Location) -> CmdResult {
    if ctx.json() {
        output::json(l)?;
    } else {
        println!("{verb} #{} {} ({})", l.id, l.full_path, l.location_type);
    }
    Ok(EXIT_OK)
}
