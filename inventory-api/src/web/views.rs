//! What templates show, prepared from inventory-db's records: text already formatted
//! (types, amounts, dates), links already built, so that templates stay plain.

use chrono::{DateTime, NaiveDateTime, Utc};
use inventory_core::LocationType;
use inventory_db::{ItemSummary, LocationSummary, SearchHit};

/// A location type as people read it.
pub(crate) fn type_label(kind: LocationType) -> &'static str {
    match kind {
        LocationType::House => "House",
        LocationType::Room => "Room",
        LocationType::Container => "Container",
        LocationType::Shelf => "Shelf",
    }
}

/// One option of a `<select>`.
#[derive(Clone, Debug)]
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    /// The location types of `kinds`, `selected` marked.
    pub fn types(kinds: &[LocationType], selected: &str) -> Vec<Choice> {
        kinds
            .iter()
            .map(|k| Choice {
                value: k.as_str().to_string(),
                label: type_label(*k).to_string(),
                selected: k.as_str().eq_ignore_ascii_case(selected),
            })
            .collect()
    }

    /// Options from `(value, label)` pairs.
    pub fn of(pairs: &[(&str, &str)], selected: &str) -> Vec<Choice> {
        pairs
            .iter()
            .map(|(value, label)| Choice {
                value: (*value).to_string(),
                label: (*label).to_string(),
                selected: *value == selected,
            })
            .collect()
    }
}

/// One step of a breadcrumb.
#[derive(Clone, Debug)]
pub(crate) struct Crumb {
    pub href: String,
    pub name: String,
}

impl From<&LocationSummary> for Crumb {
    fn from(l: &LocationSummary) -> Self {
        Crumb {
            href: format!("/locations/{}", l.id),
            name: l.name.clone(),
        }
    }
}

/// A search hit with its link.
#[derive(Clone, Debug)]
pub(crate) struct HitView {
    pub href: String,
    pub name: String,
    pub kind: &'static str,
    pub path: String,
}

impl From<SearchHit> for HitView {
    fn from(hit: SearchHit) -> Self {
        let (href, kind) = if hit.kind == "item" {
            (format!("/items/{}", hit.id), "item")
        } else {
            (format!("/locations/{}", hit.id), "location")
        };
        HitView {
            href,
            name: hit.name,
            kind,
            path: hit.path,
        }
    }
}

/// Count, quantity and value of some items.
#[derive(Clone, Debug, Default)]
pub(crate) struct TotalsView {
    pub items: i64,
    pub quantity: i64,
    pub value: String,
}

impl From<ItemSummary> for TotalsView {
    fn from(s: ItemSummary) -> Self {
        let value = s
            .value
            .iter()
            .map(|v| format!("{} {}", v.amount, v.currency))
            .collect::<Vec<_>>()
            .join(", ");
        TotalsView {
            items: s.items,
            quantity: s.total_quantity,
            value,
        }
    }
}

/// A timestamp as shown: `2026-11-24 10:00 UTC`.
pub(crate) fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A stored (naive UTC) timestamp as shown.
pub(crate) fn when_naive(at: NaiveDateTime) -> String {
    when(at.and_utc())
}

/// "1 item", "3 items".
pub(crate) fn count(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Links to the previous and next page of a list cut into pages in memory (for the short
/// lists that inventory-db returns whole: categories, users, tokens).
#[derive(Clone, Debug, Default)]
pub(crate) struct Pager {
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// Page `page` (from 1) of `all`, `per` at a time; the links append `page=N` to `base`
/// (which ends in `?` or `&`).
pub(crate) fn paginate<T>(all: Vec<T>, page: usize, per: usize, base: &str) -> (Vec<T>, Pager) {
    let pages = all.len().div_ceil(per).max(1);
    let page = page.clamp(1, pages);
    let link = |n: usize| format!("{base}page={n}");
    let pager = Pager {
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
    };
    let shown = all.into_iter().skip((page - 1) * per).take(per).collect();
    (shown, pager)
}
