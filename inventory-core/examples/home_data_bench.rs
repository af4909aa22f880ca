//! Times `generate::home_data` and prints the shape of what it made.
//!
//! Run with `cargo run --release -p inventory-core --example home_data_bench [LOCATIONS [ITEMS]]`
//! (both default to 10^6).

use std::time::Instant;

use inventory_core::generate::{home_data, HomeSpec, COMMON_WORD, RARE_WORD};
use inventory_core::{analyze, TypeRules};

/// Whether `text` holds `word` as a whole word, ignoring ASCII case.
fn has_word(text: &str, word: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric())
        .any(|w| w.eq_ignore_ascii_case(word))
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().ok());
    let locations = args.next().flatten().unwrap_or(1_000_000);
    let items = args.next().flatten().unwrap_or(1_000_000);
    let spec = HomeSpec {
        locations,
        items,
        seed: 42,
    };

    let start = Instant::now();
    let data = home_data(&spec);
    let elapsed = start.elapsed();
    println!("home_data: {locations} locations + {items} items in {elapsed:.2?}");

    let houses = data
        .locations
        .iter()
        .filter(|l| l.parent_id.is_none())
        .count();
    println!(
        "{houses} houses, {:.0} locations per house on average",
        locations as f64 / houses.max(1) as f64
    );
    if let Some((id, size)) = data.largest_house() {
        println!("largest house: #{id} with {size} locations");
    }
    for min in [1_000, 10_000, 100_000] {
        if let Some((id, size)) = data.subtree_root(min) {
            println!("smallest subtree of at least {min}: #{id} with {size} locations");
        }
    }
    if let Some((id, depth)) = data.deepest() {
        println!("deepest location: #{id} at depth {depth}");
    }
    for word in [COMMON_WORD, RARE_WORD] {
        let hits = data
            .items
            .iter()
            .filter(|i| {
                has_word(&i.name, word)
                    || i.notes.as_deref().is_some_and(|n| has_word(n, word))
                    || i.serial_number
                        .as_deref()
                        .is_some_and(|s| has_word(s, word))
            })
            .count();
        println!(
            "items matching {word:?}: {hits} ({:.2}%)",
            100.0 * hits as f64 / items.max(1) as f64
        );
    }
    let report = analyze(&data.location_rows(), &TypeRules::default());
    println!("integrity: {} findings", report.finding_count());
}
