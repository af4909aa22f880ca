//! `inventory demo`: a small, realistic sample home, created once and then left alone.

use inventory_core::LocationType::{self, Container as C, House as H, Room as R, Shelf as S};
use inventory_db::{DbError, NewLocation};
use serde_json::json;

use super::Ctx;
use crate::error::{CliError, CmdResult, EXIT_CONFLICT, EXIT_OK};
use crate::output;

/// The sample home: (parent path, name, type, description), parents first.
const SAMPLE: &[(&str, &str, LocationType, &str)] = &[
    ("", "My House", H, "Sample home created by `inventory demo`"),
    ("My House", "Kitchen", R, ""),
    (
        "My House / Kitchen",
        "Pantry",
        C,
        "Tall cupboard next to the fridge",
    ),
    ("My House / Kitchen / Pantry", "Spice Rack", S, ""),
    ("My House / Kitchen", "Upper Cabinet", C, "Above the sink"),
    ("My House", "Living Room", R, "Main living area"),
    ("My House / Living Room", "Bookshelf", S, ""),
    ("My House / Living Room", "TV Stand", C, ""),
    (
        "My House / Living Room / TV Stand",
        "Left Drawer",
        C,
        "Cables and remotes",
    ),
    ("My House", "Bedroom", R, ""),
    ("My House / Bedroom", "Wardrobe", C, ""),
    ("My House / Bedroom / Wardrobe", "Top Shelf", S, ""),
    (
        "My House / Bedroom / Wardrobe / Top Shelf",
        "Shoe Box",
        C,
        "Old photos",
    ),
    ("My House / Bedroom", "Nightstand", C, ""),
    ("My House", "Office", R, ""),
    ("My House / Office", "Desk", C, ""),
    ("My House / Office / Desk", "Top Drawer", C, "Stationery"),
    ("My House / Office", "Wall Shelf", S, ""),
    (
        "My House / Office / Wall Shelf",
        "Archive Box 2023",
        C,
        "Tax papers",
    ),
    ("My House", "Garage", R, ""),
    ("My House / Garage", "Metal Shelf", S, ""),
    ("My House / Garage / Metal Shelf", "Tool Box", C, ""),
    (
        "My House / Garage / Metal Shelf / Tool Box",
        "Screw Organizer",
        C,
        "",
    ),
    (
        "My House / Garage / Metal Shelf",
        "Christmas Decorations",
        C,
        "",
    ),
];

/// Migrates if needed, creates whatever part of the sample home is missing, prints the tree.
pub async fn run(ctx: &Ctx) -> CmdResult {
    let db = ctx.open().await?;
    let migrations = db.migrate().await?;
    // Only ever fill in a house demo made: never add sample rooms to a user's own "My House".
    let (_, house_name, _, marker) = SAMPLE[0];
    match db.resolve_path(house_name).await {
        Ok(id) => {
            let existing = db.get_location(id).await?;
            if existing.location.description.as_deref() != Some(marker) {
                return Err(CliError {
                    code: EXIT_CONFLICT,
                    message: format!(
                        "a location \"{house_name}\" (#{id}) exists and was not made by demo; \
                         leaving it alone (rename it or use another database)"
                    ),
                });
            }
        }
        Err(DbError::NotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let mut created = 0usize;
    for (parent, name, kind, description) in SAMPLE {
        let path = if parent.is_empty() {
            (*name).to_string()
        } else {
            format!("{parent} / {name}")
        };
        match db.resolve_path(&path).await {
            Ok(_) => continue,
            Err(DbError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let parent_id = if parent.is_empty() {
            None
        } else {
            Some(db.resolve_path(parent).await?)
        };
        db.create_location(&NewLocation {
            name: (*name).to_string(),
            description: (!description.is_empty()).then(|| (*description).to_string()),
            location_type: *kind,
            parent_id,
        })
        .await?;
        created += 1;
    }
    let house = db.resolve_path(SAMPLE[0].1).await?;
    let tree = db.location_tree(Some(house), None).await?;
    if ctx.json() {
        output::json(&json!({
            "migrations_applied": migrations,
            "created": created,
            "tree": tree.first(),
        }))?;
        return Ok(EXIT_OK);
    }
    if !migrations.is_empty() {
        println!("Applied {} migration(s) to {}", migrations.len(), ctx.url);
    }
    if created == 0 {
        println!("The demo home is already there; nothing created.");
    } else {
        println!("Created {created} demo location(s) in {}:", ctx.url);
    }
    println!();
    output::text(&output::render_tree(&tree))?;
    println!();
    println!("Try: inventory location show \"My House / Garage / Metal Shelf / Tool Box\"");
    Ok(EXIT_OK)
}
