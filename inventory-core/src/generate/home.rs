//! A realistic, home-shaped data set of locations and items for benchmarks ([`home_data`]).

use std::fmt::Write;

use crate::generate::words;
use crate::generate::XorShift;
use crate::{ItemId, LocationId, LocationRow, LocationType};

/// A word in the names of about one item in ten (`USB-C cable`, `HDMI cable 2 m`...): the
/// search probe for a common word. It appears nowhere else, in no location either.
pub const COMMON_WORD: &str = "cable";

/// A word in the names of exactly [`RARE_WORD_ITEMS`] items (fewer only when there are fewer
/// items): the search probe for a rare word. It appears nowhere else.
pub const RARE_WORD: &str = "gramophone";

/// How many items [`RARE_WORD`] names.
pub const RARE_WORD_ITEMS: usize = 5;

/// How many locations and items [`home_data`] makes, from which seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HomeSpec {
    /// Number of locations; their ids are `1..=locations`.
    pub locations: usize,
    /// Number of items; their ids are `1..=items`. None are made without locations.
    pub items: usize,
    /// The same seed always gives the same data.
    pub seed: u64,
}

/// One generated location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenLocation {
    /// `1..=n`, always larger than the parent's.
    pub id: LocationId,
    /// The containing location; `None` for a house.
    pub parent_id: Option<LocationId>,
    /// HOUSE at the root, ROOM under a house, SHELF and CONTAINER below.
    pub location_type: LocationType,
    /// Unique among its siblings by [`crate::name_key`], e.g. `Kitchen`, `Attic 2`, `Box 17`.
    pub name: String,
    /// A short note on about one location in eight.
    pub description: Option<String>,
}

/// One generated item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenItem {
    /// `1..=n`.
    pub id: ItemId,
    /// Where it is; any location.
    pub location_id: LocationId,
    /// E.g. `Cordless Makita drill`, `USB-C cable 2 m`.
    pub name: String,
    /// Mostly 1, sometimes a handful, rarely hundreds.
    pub quantity: i64,
    /// An index into [`HomeData::categories`].
    pub category: Option<usize>,
    /// A short remark on about one item in three.
    pub notes: Option<String>,
    /// On some electronics and tools.
    pub serial_number: Option<String>,
    /// On a bit under half of the items, always with a currency.
    pub purchase_price_cents: Option<i64>,
    /// Mostly `EUR`, with some `USD`, `GBP`, `CHF` and `SEK`.
    pub currency: Option<String>,
}

/// What [`home_data`] makes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HomeData {
    /// In id order, so parents come before their children.
    pub locations: Vec<GenLocation>,
    /// In id order.
    pub items: Vec<GenItem>,
    /// Category names, unique by [`crate::name_key`].
    pub categories: Vec<String>,
}

impl HomeData {
    /// The locations as rows for [`crate::Forest`] and [`crate::analyze`].
    pub fn location_rows(&self) -> Vec<LocationRow> {
        self.locations
            .iter()
            .map(|l| LocationRow {
                id: l.id,
                parent_id: l.parent_id,
                location_type: l.location_type,
                name: l.name.clone(),
            })
            .collect()
    }

    /// The number of locations in each location's subtree (itself included), indexed by
    /// `id - 1`; linear, because parents come before their children.
    pub fn subtree_sizes(&self) -> Vec<usize> {
        let mut sizes = vec![1usize; self.locations.len()];
        for l in self.locations.iter().rev() {
            if let Some(p) = l.parent_id {
                sizes[index_of(p)] += sizes[index_of(l.id)];
            }
        }
        sizes
    }

    /// The location with the smallest subtree that still holds at least `min_nodes`
    /// locations (ties: the smallest id), with that subtree's size; `None` if no subtree is
    /// that big. At the 10^6 scale, `subtree_root(10_000)` is a room of about 10^4 locations.
    pub fn subtree_root(&self, min_nodes: usize) -> Option<(LocationId, usize)> {
        self.subtree_sizes()
            .into_iter()
            .enumerate()
            .filter(|&(_, size)| size >= min_nodes)
            .min_by_key(|&(i, size)| (size, i))
            .map(|(i, size)| (self.locations[i].id, size))
    }

    /// The house with the most locations (ties: the smallest id), with that count.
    pub fn largest_house(&self) -> Option<(LocationId, usize)> {
        let sizes = self.subtree_sizes();
        self.locations
            .iter()
            .filter(|l| l.parent_id.is_none())
            .map(|l| (l.id, sizes[index_of(l.id)]))
            .min_by_key(|&(id, size)| (std::cmp::Reverse(size), id))
    }

    /// The house of median size (ties: the smallest id), with its size: what most houses
    /// are like (~130 locations at any scale), unlike the largest.
    pub fn typical_house(&self) -> Option<(LocationId, usize)> {
        let sizes = self.subtree_sizes();
        let mut houses: Vec<(usize, LocationId)> = self
            .locations
            .iter()
            .filter(|l| l.parent_id.is_none())
            .map(|l| (sizes[index_of(l.id)], l.id))
            .collect();
        houses.sort_unstable();
        let &(size, id) = houses.get(houses.len() / 2)?;
        Some((id, size))
    }

    /// The deepest location (ties: the smallest id) and its depth (a house is 0): the end of
    /// one of the long chains.
    pub fn deepest(&self) -> Option<(LocationId, usize)> {
        let mut depth = vec![0usize; self.locations.len()];
        for l in &self.locations {
            if let Some(p) = l.parent_id {
                depth[index_of(l.id)] = depth[index_of(p)] + 1;
            }
        }
        depth
            .into_iter()
            .enumerate()
            .min_by_key(|&(i, d)| (std::cmp::Reverse(d), i))
            .map(|(i, d)| (self.locations[i].id, d))
    }
}

/// Position of a generated id in [`HomeData::locations`].
fn index_of(id: LocationId) -> usize {
    (id - 1) as usize
}

/// Most rooms in a house.
const MAX_ROOMS: usize = 40;
/// How many levels of containers and shelves stack below a room (outside the long chains).
const MAX_HOLDER_DEPTH: u8 = 5;
/// Average house size, in locations.
const HOUSE_SIZE: usize = 160;
/// One house in this many gets a long chain of nested containers (the first one always does).
const CHAIN_EVERY: usize = 500;

/// A realistic home-shaped data set, the same for the same spec.
///
/// **Locations.** Houses (about one per 160 locations) hold rooms (`Kitchen`, `Garage`,
/// `Attic 2`...), which hold shelves and containers nested up to five levels (`Shelf 3`,
/// `Box 17`), obeying [`crate::TypeRules::default`], with sibling names unique by
/// [`crate::name_key`]. Ids are `1..=n` and every parent's id is smaller than its children's,
/// so the rows can be inserted in order. A few houses are big: one holds a tenth of all
/// locations (~10^5 at the 10^6 scale, see [`HomeData::largest_house`]) and its first room a
/// hundredth (~10^4, see [`HomeData::subtree_root`]); two more hold a fortieth each and four
/// a two-hundredth (left out when that would be under 200 locations). One house in 500
/// (the first always) has a chain of eleven nested containers in a room, reaching depth 12
/// ([`HomeData::deepest`]).
///
/// **Items** lie in locations drawn uniformly from all of them. Names, notes and serial
/// numbers come from a household vocabulary (tools, kitchenware, electronics, documents,
/// toys...) drawn with a Zipf-like skew, so a few words are common and many are rare. Two
/// words are placed on purpose, as search probes: [`COMMON_WORD`] in about 10% of item names
/// and [`RARE_WORD`] in exactly [`RARE_WORD_ITEMS`]. Prices are on about 45% of items, in
/// cents with a currency (80% EUR, then USD, GBP, CHF, SEK).
///
/// Fast enough for 10^6 locations and 10^6 items in well under a second in release builds.
pub fn home_data(spec: &HomeSpec) -> HomeData {
    let mut rng = XorShift::new(spec.seed);
    let mut places = Places::new(spec.locations);
    for (index, plan) in plan_houses(spec.locations, &mut rng)
        .into_iter()
        .enumerate()
    {
        places.house(&mut rng, plan, index % CHAIN_EVERY == 0);
    }
    let items = if spec.locations == 0 {
        Vec::new()
    } else {
        Items::new().generate(&mut rng, spec.items, spec.locations)
    };
    HomeData {
        locations: places.locations,
        items,
        categories: words::CATEGORIES.iter().map(|c| (*c).to_owned()).collect(),
    }
}

/// How big one house is to be.
#[derive(Clone, Copy, Debug)]
struct HousePlan {
    /// Locations in the house, itself included; at least 1.
    size: usize,
    /// Locations to put in the first room (itself included), if it is to be a big one.
    first_room: Option<usize>,
}

/// Splits `n` locations into houses: the big ones spread among regular ones of random size.
fn plan_houses(n: usize, rng: &mut XorShift) -> Vec<HousePlan> {
    if n == 0 {
        return Vec::new();
    }
    let houses = (n + HOUSE_SIZE / 2) / HOUSE_SIZE;
    let big = [
        (n / 10, Some(n / 100)),
        (n / 40, None),
        (n / 40, None),
        (n / 200, None),
        (n / 200, None),
        (n / 200, None),
        (n / 200, None),
    ];
    let big: Vec<HousePlan> = big
        .into_iter()
        .filter(|&(size, _)| size >= 200)
        .take(houses.saturating_sub(1))
        .map(|(size, first_room)| HousePlan { size, first_room })
        .collect();
    let regular_count = houses.saturating_sub(big.len()).max(1);
    let regular_total = n - big.iter().map(|h| h.size).sum::<usize>();
    let weights: Vec<usize> = (0..regular_count).map(|_| 25 + rng.below(151)).collect();
    let mut plans: Vec<HousePlan> = split(regular_total, &weights)
        .into_iter()
        .filter(|&size| size > 0)
        .map(|size| HousePlan {
            size,
            first_room: None,
        })
        .collect();
    // Spread the big houses evenly through the id range.
    let gaps = big.len() + 1;
    for (k, plan) in big.into_iter().enumerate().rev() {
        let at = (k + 1) * plans.len() / gaps;
        plans.insert(at, plan);
    }
    plans
}

/// Splits `total` into parts proportional to `weights` that add up to exactly `total`.
fn split(total: usize, weights: &[usize]) -> Vec<usize> {
    let sum: usize = weights.iter().sum();
    if sum == 0 {
        return vec![0; weights.len()];
    }
    let mut parts = Vec::with_capacity(weights.len());
    let (mut acc, mut given) = (0usize, 0usize);
    for &w in weights {
        acc += w;
        let upto = ((total as u128 * acc as u128) / sum as u128) as usize;
        parts.push(upto - given);
        given = upto;
    }
    parts
}

/// The location being generated, and the per-parent child counters that number sibling names.
#[derive(Debug)]
struct Places {
    locations: Vec<GenLocation>,
    /// Children so far, by `id - 1`; numbers names so that siblings never collide.
    child_count: Vec<u32>,
    root_count: u32,
    /// Candidate parents inside the room being filled: (id, kind, levels below the room).
    holders: Vec<(LocationId, Holder, u8)>,
}

impl Places {
    fn new(n: usize) -> Self {
        Places {
            locations: Vec::with_capacity(n),
            child_count: Vec::with_capacity(n),
            root_count: 0,
            holders: Vec::new(),
        }
    }

    /// Adds a location and returns its id; `name` gets the location's ordinal among its siblings.
    fn add(
        &mut self,
        rng: &mut XorShift,
        parent_id: Option<LocationId>,
        location_type: LocationType,
        name: impl FnOnce(usize) -> String,
    ) -> LocationId {
        let ordinal = match parent_id {
            None => {
                self.root_count += 1;
                self.root_count
            }
            Some(p) => {
                let count = &mut self.child_count[index_of(p)];
                *count += 1;
                *count
            }
        };
        let id = self.locations.len() as LocationId + 1;
        let description = (rng.below(8) == 0).then(|| pick(rng, words::PLACE_NOTES).to_owned());
        self.locations.push(GenLocation {
            id,
            parent_id,
            location_type,
            name: name(ordinal as usize),
            description,
        });
        self.child_count.push(0);
        id
    }

    fn house(&mut self, rng: &mut XorShift, plan: HousePlan, with_chain: bool) {
        let house = self.add(rng, None, LocationType::House, |k| {
            cycled_name(words::HOUSES, k)
        });
        let inside = plan.size - 1;
        if inside == 0 {
            return;
        }
        let rooms = (2 + inside / 14 + rng.below(3))
            .clamp(1, MAX_ROOMS)
            .min(inside);
        let holders = inside - rooms;
        let mut budgets = match plan.first_room {
            Some(first) => {
                let first = first.saturating_sub(1).min(holders);
                let weights: Vec<usize> = (1..rooms).map(|_| 20 + rng.below(181)).collect();
                let mut budgets = vec![first];
                budgets.extend(split(holders - first, &weights));
                budgets
            }
            None => {
                let weights: Vec<usize> = (0..rooms).map(|_| 20 + rng.below(181)).collect();
                split(holders, &weights)
            }
        };
        let chain_room = with_chain
            .then(|| (0..rooms).max_by_key(|&r| (budgets[r], std::cmp::Reverse(r))))
            .flatten()
            .filter(|&r| budgets[r] >= words::CHAIN.len());
        for (r, budget) in budgets.iter_mut().enumerate() {
            let room = self.add(rng, Some(house), LocationType::Room, |k| {
                cycled_name(words::ROOMS, k)
            });
            if chain_room == Some(r) {
                self.chain(rng, room);
                *budget -= words::CHAIN.len();
            }
            self.fill_room(rng, room, *budget);
        }
    }

    /// Eleven containers, each inside the previous one, below `room`.
    fn chain(&mut self, rng: &mut XorShift, room: LocationId) {
        let mut parent = room;
        for base in words::CHAIN {
            parent = self.add(rng, Some(parent), LocationType::Container, |k| {
                format!("{base} {k}")
            });
        }
    }

    /// `count` shelves and containers below `room`, each under a random earlier one (or the
    /// room itself) that can hold it, at most [`MAX_HOLDER_DEPTH`] levels deep: furniture
    /// and shelves stand in the room, shelves are also inside furniture, boxes are anywhere.
    fn fill_room(&mut self, rng: &mut XorShift, room: LocationId, count: usize) {
        self.holders.clear();
        self.holders.push((room, Holder::Room, 0));
        for _ in 0..count {
            let (parent, parent_kind, level) = self.holders[rng.below(self.holders.len())];
            let kind = match (parent_kind, rng.below(10)) {
                (Holder::Room, 0..=2) | (Holder::Furniture, 0..=3) => Holder::Shelf,
                (Holder::Room, 3..=6) => Holder::Furniture,
                _ => Holder::Box,
            };
            let (location_type, base) = match kind {
                Holder::Shelf => (LocationType::Shelf, "Shelf"),
                Holder::Furniture => (LocationType::Container, pick(rng, words::FURNITURE)),
                _ => (LocationType::Container, pick(rng, words::BOXES)),
            };
            let id = self.add(rng, Some(parent), location_type, |k| format!("{base} {k}"));
            if level + 1 < MAX_HOLDER_DEPTH {
                self.holders.push((id, kind, level + 1));
            }
        }
    }
}

/// What a place inside a room is, for what it may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Holder {
    /// The room itself.
    Room,
    /// A cupboard, wardrobe...: a CONTAINER that may hold shelves.
    Furniture,
    /// A SHELF: holds boxes.
    Shelf,
    /// A box, bag, tin...: a CONTAINER that holds boxes.
    Box,
}

/// `Kitchen` for the first, `Kitchen 2` once the list has gone round once, and so on.
fn cycled_name(list: &[&str], ordinal: usize) -> String {
    let base = list[(ordinal - 1) % list.len()];
    match (ordinal - 1) / list.len() {
        0 => base.to_owned(),
        round => format!("{base} {}", round + 1),
    }
}

/// A uniformly random entry.
fn pick<'a>(rng: &mut XorShift, list: &[&'a str]) -> &'a str {
    list[rng.below(list.len())]
}

/// Draws indices `0..n` with probability proportional to `1 / (rank + 1)`.
#[derive(Debug)]
struct Zipf {
    /// Cumulative weights, scaled to integers.
    cumulative: Vec<u64>,
}

impl Zipf {
    fn new(n: usize) -> Self {
        const SCALE: u64 = 1 << 32;
        let mut total = 0u64;
        let cumulative = (1..=n as u64)
            .map(|rank| {
                total += SCALE / rank;
                total
            })
            .collect();
        Zipf { cumulative }
    }

    fn sample(&self, rng: &mut XorShift) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0);
        if total == 0 {
            return 0;
        }
        let r = rng.next_u64() % total;
        self.cumulative.partition_point(|&c| c <= r)
    }
}

/// A word list drawn from with a Zipf skew: its first entry is the most common.
#[derive(Debug)]
struct Skewed {
    list: &'static [&'static str],
    zipf: Zipf,
}

impl Skewed {
    fn new(list: &'static [&'static str]) -> Self {
        Skewed {
            list,
            zipf: Zipf::new(list.len()),
        }
    }

    fn pick(&self, rng: &mut XorShift) -> &'static str {
        self.list[self.zipf.sample(rng)]
    }
}

/// The skewed distributions items are drawn from.
#[derive(Debug)]
struct Items {
    categories: Zipf,
    nouns: Vec<Skewed>,
    adjectives: Skewed,
    /// Per category; empty where the category has no makers.
    brands: Vec<Skewed>,
    cable_kinds: Skewed,
    shops: Skewed,
    people: Skewed,
    occasions: Skewed,
    conditions: Skewed,
    /// Small numbers (set sizes, cable lengths): 1 most often.
    numbers: Zipf,
    /// Item indices that get [`RARE_WORD`], sorted.
    rare_at: Vec<usize>,
}

impl Items {
    fn new() -> Self {
        Items {
            categories: Zipf::new(words::CATEGORIES.len()),
            nouns: words::NOUNS.iter().map(|&n| Skewed::new(n)).collect(),
            adjectives: Skewed::new(words::ADJECTIVES),
            brands: words::BRANDS.iter().map(|&b| Skewed::new(b)).collect(),
            cable_kinds: Skewed::new(words::CABLE_KINDS),
            shops: Skewed::new(words::SHOPS),
            people: Skewed::new(words::PEOPLE),
            occasions: Skewed::new(words::OCCASIONS),
            conditions: Skewed::new(words::CONDITIONS),
            numbers: Zipf::new(10),
            rare_at: Vec::new(),
        }
    }

    fn generate(mut self, rng: &mut XorShift, count: usize, locations: usize) -> Vec<GenItem> {
        // The rare probe sits on items spread evenly through the id range.
        let rare = RARE_WORD_ITEMS.min(count);
        self.rare_at = (0..rare)
            .map(|k| (2 * k + 1) * count / (2 * rare))
            .collect();
        (0..count)
            .map(|index| self.item(rng, index, locations))
            .collect()
    }

    fn item(&self, rng: &mut XorShift, index: usize, locations: usize) -> GenItem {
        let location_id = rng.below(locations) as LocationId + 1;
        let (name, category) = if let Ok(k) = self.rare_at.binary_search(&index) {
            (
                words::RARE_NAMES[k % words::RARE_NAMES.len()].to_owned(),
                words::MUSIC,
            )
        } else if rng.below(10) == 0 {
            (self.cable_name(rng), words::ELECTRONICS)
        } else {
            let category = self.categories.sample(rng);
            (self.noun_name(rng, category), category)
        };
        let quantity = match rng.below(100) {
            0..=74 => 1,
            75..=89 => 2 + rng.below(3) as i64,
            90..=96 => 5 + rng.below(8) as i64,
            _ => 20 + rng.below(481) as i64,
        };
        let notes = (rng.below(3) == 0).then(|| self.note(rng));
        let serial_number = (matches!(category, words::TOOLS | words::ELECTRONICS)
            && rng.below(3) == 0)
            .then(|| serial(rng));
        let (purchase_price_cents, currency) = if rng.below(100) < 45 {
            (Some(price(rng)), Some(currency(rng).to_owned()))
        } else {
            (None, None)
        };
        GenItem {
            id: index as ItemId + 1,
            location_id,
            name,
            quantity,
            category: (rng.below(100) < 85).then_some(category),
            notes,
            serial_number,
            purchase_price_cents,
            currency,
        }
    }

    /// `Cordless Makita drill`, `Old cookbook`, `Mug (set of 4)`.
    fn noun_name(&self, rng: &mut XorShift, category: usize) -> String {
        let mut name = String::with_capacity(40);
        if rng.below(100) < 45 {
            name.push_str(self.adjectives.pick(rng));
            name.push(' ');
        }
        let brands = &self.brands[category];
        if !brands.list.is_empty() && rng.below(100) < 25 {
            name.push_str(brands.pick(rng));
            name.push(' ');
        }
        name.push_str(self.nouns[category].pick(rng));
        if rng.below(100) < 8 {
            let n = 2 + self.numbers.sample(rng);
            let _ = write!(name, " (set of {n})");
        }
        capitalize(name)
    }

    /// `USB-C cable`, `HDMI cable 2 m`.
    fn cable_name(&self, rng: &mut XorShift) -> String {
        let kind = self.cable_kinds.pick(rng);
        match rng.below(3) {
            0 => format!("{kind} {COMMON_WORD} {} m", 1 + self.numbers.sample(rng)),
            _ => format!("{kind} {COMMON_WORD}"),
        }
    }

    /// `Bought at the flea market in 2011`, `Gift from Grandma`, `Like new`.
    fn note(&self, rng: &mut XorShift) -> String {
        match rng.below(7) {
            0 | 1 => format!(
                "Bought at {} in {}",
                self.shops.pick(rng),
                1995 + rng.below(30)
            ),
            2 => format!("Gift from {}", self.people.pick(rng)),
            3 => format!(
                "Lent to {} before {}",
                self.people.pick(rng),
                self.occasions.pick(rng)
            ),
            4 => format!("Belongs to {}", self.people.pick(rng)),
            5 => format!("Keep for {}", self.occasions.pick(rng)),
            _ => self.conditions.pick(rng).to_owned(),
        }
    }
}

/// The text with its first letter in upper case.
fn capitalize(text: String) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) if first.is_lowercase() => first.to_uppercase().chain(chars).collect(),
        _ => text,
    }
}

/// `BSH-4F2K9Q1Z`: a prefix and eight random characters, practically unique.
fn serial(rng: &mut XorShift) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKLMNPQRSTUVWX";
    let mut s = String::with_capacity(12);
    s.push_str(pick(rng, words::SERIAL_PREFIXES));
    s.push('-');
    let mut bits = rng.next_u64();
    for _ in 0..8 {
        s.push(ALPHABET[(bits & 31) as usize] as char);
        bits >>= 5;
    }
    s
}

/// A price in cents, from 1.00 to 9,990.00, most under 100, often ending in .99.
fn price(rng: &mut XorShift) -> i64 {
    let scale = match rng.below(100) {
        0..=34 => 1,
        35..=69 => 10,
        70..=91 => 100,
        _ => 1000,
    };
    let cents = (100 + rng.below(900) as i64) * scale;
    if scale > 1 && rng.below(2) == 0 {
        cents - 1
    } else {
        cents
    }
}

fn currency(rng: &mut XorShift) -> &'static str {
    let mut r = rng.below(100) as u32;
    for &(code, weight) in words::CURRENCIES {
        if r < weight {
            return code;
        }
        r -= weight;
    }
    "EUR"
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::{HashMap, HashSet};

    use super::*;
    use crate::{
        analyze, name_key, validate_description, validate_item_name, validate_location_name,
        validate_price, validate_quantity, validate_serial, TypeRules,
    };

    fn home(locations: usize, items: usize) -> HomeData {
        home_data(&HomeSpec {
            locations,
            items,
            seed: 11,
        })
    }

    /// Whether `text` holds `word` as a whole word, ignoring case: what a word search finds.
    fn has_word(text: &str, word: &str) -> bool {
        text.split(|c: char| !c.is_alphanumeric())
            .any(|w| w.eq_ignore_ascii_case(word))
    }

    fn items_with(data: &HomeData, word: &str) -> usize {
        data.items
            .iter()
            .filter(|i| {
                [
                    Some(i.name.as_str()),
                    i.notes.as_deref(),
                    i.serial_number.as_deref(),
                ]
                .into_iter()
                .flatten()
                .any(|t| has_word(t, word))
            })
            .count()
    }

    #[test]
    fn home_is_clean_under_the_default_rules() {
        let data = home(30_000, 0);
        assert_eq!(data.locations.len(), 30_000);
        let report = analyze(&data.location_rows(), &TypeRules::default());
        assert!(report.is_clean(), "{report:?}");
    }

    #[test]
    fn sibling_names_are_unique_by_name_key() {
        let data = home(30_000, 0);
        let mut seen = HashSet::new();
        for l in &data.locations {
            assert!(seen.insert((l.parent_id, name_key(&l.name))), "{l:?}");
        }
    }

    #[test]
    fn ids_are_dense_and_parents_come_first() {
        let data = home(10_000, 1_000);
        for (i, l) in data.locations.iter().enumerate() {
            assert_eq!(l.id, i as LocationId + 1);
            assert!(l.parent_id.is_none_or(|p| p >= 1 && p < l.id), "{l:?}");
        }
        for (i, item) in data.items.iter().enumerate() {
            assert_eq!(item.id, i as ItemId + 1);
            assert!((1..=10_000).contains(&item.location_id));
        }
    }

    #[test]
    fn same_seed_gives_the_same_home() {
        let spec = HomeSpec {
            locations: 5_000,
            items: 5_000,
            seed: 3,
        };
        assert_eq!(home_data(&spec), home_data(&spec));
        assert_ne!(home_data(&spec), home_data(&HomeSpec { seed: 4, ..spec }));
    }

    #[test]
    fn common_word_is_in_about_a_tenth_of_the_items() {
        let data = home(10_000, 10_000);
        let hits = items_with(&data, COMMON_WORD);
        assert!((800..=1_200).contains(&hits), "{hits}");
    }

    #[test]
    fn rare_word_is_in_exactly_a_handful_of_items() {
        assert_eq!(
            items_with(&home(10_000, 10_000), RARE_WORD),
            RARE_WORD_ITEMS
        );
        assert_eq!(items_with(&home(100, 3), RARE_WORD), 3);
    }

    #[test]
    fn probe_words_are_in_no_location() {
        let data = home(30_000, 0);
        for l in &data.locations {
            for text in [Some(l.name.as_str()), l.description.as_deref()]
                .into_iter()
                .flatten()
            {
                assert!(
                    !has_word(text, COMMON_WORD) && !has_word(text, RARE_WORD),
                    "{l:?}"
                );
            }
        }
    }

    #[test]
    fn item_words_are_skewed() {
        let data = home(1_000, 20_000);
        let mut counts: HashMap<String, usize> = HashMap::new();
        for item in &data.items {
            for w in item.name.split(|c: char| !c.is_alphanumeric()) {
                if w.len() > 2 {
                    *counts.entry(w.to_lowercase()).or_default() += 1;
                }
            }
        }
        let mut freq: Vec<usize> = counts.into_values().collect();
        freq.sort_unstable_by(|a, b| b.cmp(a));
        let median = freq[freq.len() / 2];
        assert!(freq[0] >= 10 * median, "top {} median {median}", freq[0]);
        assert!(freq.len() > 150, "{} distinct words", freq.len());
    }

    #[test]
    fn houses_hold_about_160_locations_on_average() {
        let data = home(100_000, 0);
        let houses = data
            .locations
            .iter()
            .filter(|l| l.parent_id.is_none())
            .count();
        let average = 100_000 / houses;
        assert!((150..=170).contains(&average), "{average}");
    }

    #[test]
    fn one_house_holds_a_tenth_and_one_room_a_hundredth() {
        let data = home(100_000, 0);
        let (house, size) = data.largest_house().unwrap();
        assert_eq!(size, 10_000);
        let (room, size) = data.subtree_root(1_000).unwrap();
        assert_eq!(size, 1_000);
        let room = &data.locations[index_of(room)];
        assert_eq!(room.location_type, LocationType::Room);
        assert_eq!(room.parent_id, Some(house));
        let (typical, size) = data.typical_house().unwrap();
        assert_ne!(typical, house);
        assert!((100..=200).contains(&size), "{size}");
    }

    #[test]
    fn subtree_root_is_none_when_no_subtree_is_big_enough() {
        assert_eq!(home(500, 0).subtree_root(501), None);
        assert_eq!(home(500, 0).subtree_root(1).map(|(_, size)| size), Some(1));
    }

    #[test]
    fn long_chains_reach_depth_twelve() {
        let data = home(10_000, 0);
        let (deepest, depth) = data.deepest().unwrap();
        assert_eq!(depth, 12);
        let mut cur = data.locations[index_of(deepest)].parent_id;
        let mut chain = 0;
        while let Some(p) = cur {
            let l = &data.locations[index_of(p)];
            if l.location_type == LocationType::Container {
                chain += 1;
            }
            cur = l.parent_id;
        }
        assert_eq!(chain, 10);
    }

    #[test]
    fn every_field_passes_validation() {
        let data = home(5_000, 20_000);
        for l in &data.locations {
            assert_eq!(validate_location_name(&l.name).unwrap(), l.name);
            assert_eq!(
                validate_description("description", l.description.as_deref()).unwrap(),
                l.description
            );
        }
        for i in &data.items {
            assert_eq!(validate_item_name(&i.name).unwrap(), i.name);
            assert!(validate_quantity(i.quantity).is_ok());
            assert!(i.category.is_none_or(|c| c < data.categories.len()));
            assert_eq!(
                validate_description("notes", i.notes.as_deref()).unwrap(),
                i.notes
            );
            assert_eq!(
                validate_serial(i.serial_number.as_deref()).unwrap(),
                i.serial_number
            );
            assert_eq!(
                validate_price(i.purchase_price_cents, i.currency.as_deref()).unwrap(),
                (i.purchase_price_cents, i.currency.clone())
            );
        }
    }

    #[test]
    fn prices_are_mostly_in_euros() {
        let data = home(1_000, 20_000);
        let priced: Vec<&str> = data
            .items
            .iter()
            .filter_map(|i| i.currency.as_deref())
            .collect();
        let share = priced.len() * 100 / data.items.len();
        assert!((40..=50).contains(&share), "{share}% priced");
        let euros = priced.iter().filter(|&&c| c == "EUR").count() * 100 / priced.len();
        assert!((75..=85).contains(&euros), "{euros}% in EUR");
        assert!(priced.contains(&"USD") && priced.contains(&"GBP"));
    }

    #[test]
    fn categories_are_unique_by_name_key() {
        let data = home(10, 0);
        let keys: HashSet<String> = data.categories.iter().map(|c| name_key(c)).collect();
        assert_eq!(keys.len(), data.categories.len());
    }

    #[test]
    fn tiny_homes_are_made_too() {
        let empty = home(0, 10);
        assert!(empty.locations.is_empty() && empty.items.is_empty());
        assert_eq!(empty.largest_house(), None);
        assert_eq!(empty.typical_house(), None);
        assert_eq!(empty.deepest(), None);
        let one = home(1, 2);
        assert_eq!(one.locations.len(), 1);
        assert_eq!(one.locations[0].location_type, LocationType::House);
        assert!(one.items.iter().all(|i| i.location_id == 1));
        for n in [2, 3, 13, 79, 80, 81, 161, 999] {
            let data = home(n, 0);
            assert_eq!(data.locations.len(), n);
            assert!(analyze(&data.location_rows(), &TypeRules::default()).is_clean());
        }
    }

    #[test]
    fn split_adds_up_to_the_total() {
        assert_eq!(split(10, &[1, 1, 1]), vec![3, 3, 4]);
        assert_eq!(split(7, &[0, 5]), vec![0, 7]);
        assert_eq!(split(5, &[0, 0]), vec![0, 0]);
        assert!(split(0, &[]).is_empty());
    }
}
