//! `inventory demo`: a small, realistic sample home, created once and then left alone.

use inventory_core::LocationType::{self, Container as C, House as H, Room as R, Shelf as S};
use inventory_db::{Database, DbError, ItemFilter, NewItem, NewLocation, PageRequest};
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

/// Sample categories: (name, description).
const CATEGORIES: &[(&str, &str)] = &[
    ("Tools", "Hand and power tools"),
    ("Electronics", "Gadgets, cables and remotes"),
];

/// A sample item: where it is, name, quantity, category, notes.
struct SampleItem {
    location: &'static str,
    name: &'static str,
    quantity: i64,
    category: Option<&'static str>,
    notes: &'static str,
}

/// Sample items, so that `inventory find drill` has something to find.
const ITEMS: &[SampleItem] = &[
    SampleItem {
        location: "My House / Garage / Metal Shelf / Tool Box",
        name: "Cordless Drill",
        quantity: 1,
        category: Some("Tools"),
        notes: "18 V drill with two batteries; the charger is in the same box",
    },
    SampleItem {
        location: "My House / Garage / Metal Shelf / Tool Box / Screw Organizer",
        name: "Drill Bit Set",
        quantity: 1,
        category: Some("Tools"),
        notes: "Wood and metal bits, 1–10 mm",
    },
    SampleItem {
        location: "My House / Garage / Metal Shelf / Tool Box",
        name: "Claw Hammer",
        quantity: 1,
        category: Some("Tools"),
        notes: "",
    },
    SampleItem {
        location: "My House / Living Room / TV Stand / Left Drawer",
        name: "HDMI Cable",
        quantity: 3,
        category: Some("Electronics"),
        notes: "2 m each",
    },
    SampleItem {
        location: "My House / Office / Desk / Top Drawer",
        name: "USB Stick",
        quantity: 2,
        category: Some("Electronics"),
        notes: "Backups of the family photos",
    },
    SampleItem {
        location: "My House / Kitchen / Pantry",
        name: "Flashlight",
        quantity: 1,
        category: None,
        notes: "Spare AA batteries next to it",
    },
];

/// Creates the sample categories and items that are missing (an item counts as there when
/// its location holds an item of that name).
async fn fill_items(db: &Database) -> Result<usize, CliError> {
    let existing: Vec<String> = db
        .list_categories()
        .await?
        .into_iter()
        .map(|c| inventory_core::name_key(&c.category.name))
        .collect();
    for (name, description) in CATEGORIES {
        if !existing.contains(&inventory_core::name_key(name)) {
            db.create_category(name, Some(description)).await?;
        }
    }
    let mut created = 0;
    for sample in ITEMS {
        let location_id = db.resolve_path(sample.location).await?;
        let filter = ItemFilter {
            location_id: Some(location_id),
            ..ItemFilter::default()
        };
        let here = db
            .list_items(&filter, &PageRequest::first(PageRequest::MAX_LIMIT))
            .await?;
        if here.items.iter().any(|i| i.name == sample.name) {
            continue;
        }
        let mut new = NewItem::new(sample.name, location_id);
        new.quantity = sample.quantity;
        new.category = sample.category.map(str::to_string);
        new.notes = (!sample.notes.is_empty()).then(|| sample.notes.to_string());
        db.create_item(&new).await?;
        created += 1;
    }
    Ok(created)
}

/// Creates the database if needed (it is the README's first command, on a new machine),
/// migrates it, creates whatever part of the sample home is missing, prints the tree.
pub async fn run(ctx: &Ctx) -> CmdResult {
    let db = ctx.open_or_create().await?;
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
    let items_created = fill_items(&db).await?;
    let house = db.resolve_path(SAMPLE[0].1).await?;
    let tree = db.location_tree(Some(house), None).await?;
    if ctx.json() {
        output::json(&json!({
            "migrations_applied": migrations,
            "created": created,
            "items_created": items_created,
            "tree": tree.first(),
        }))?;
        return Ok(EXIT_OK);
    }
    if !migrations.is_empty() {
        println!("Applied {} migration(s) to {}", migrations.len(), ctx.url);
    }
    if created == 0 && items_created == 0 {
        println!("The demo home is already there; nothing created.");
    } else {
        println!(
            "Created {created} demo location(s) and {items_created} item(s) in {}:",
            ctx.url
        );
    }
    println!();
    output::text(&output::render_outline(
        &db.location_outline(Some(house), None).await?,
    ))?;
    println!();
    println!("Try: inventory location show \"My House / Garage / Metal Shelf / Tool Box\"");
    println!("     inventory find drill");
    Ok(EXIT_OK)
}
