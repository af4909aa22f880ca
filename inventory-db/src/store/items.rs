// Item, category and search queries shared by both backends. Included after `queries.rs`
// into `store::pg` and `store::sqlite` (its imports are visible here).

use crate::models::item::{
    Category, CurrencyTotal, Item, ItemChanges, ItemFilter, ItemInsert, ItemRecord, ItemSummary,
    ItemsOnDelete, NewItem, SearchHit,
};
use crate::schema::categories::dsl as cat;
use crate::schema::items::dsl as it;

/// Bind parameters per `IN (...)` list: below SQLite's and PostgreSQL's limits.
const ID_CHUNK: usize = 10_000;

#[derive(diesel::QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// A location and every location below it (one recursive query).
pub(crate) async fn subtree_ids(
    conn: &mut Conn,
    root: LocationId,
) -> Result<Vec<LocationId>, DbError> {
    let rows: Vec<IdRow> = diesel::sql_query(include_str!("../sql/subtree_ids.sql"))
        .bind::<diesel::sql_types::BigInt, _>(root)
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

async fn items_in(conn: &mut Conn, locations: &[LocationId]) -> Result<Vec<ItemRecord>, DbError> {
    let mut out = Vec::new();
    for chunk in locations.chunks(ID_CHUNK) {
        let mut part: Vec<ItemRecord> = it::items
            .filter(it::location_id.eq_any(chunk))
            .select(ItemRecord::as_select())
            .load(conn)
            .await?;
        out.append(&mut part);
    }
    out.sort_by_key(|r| r.id);
    Ok(out)
}

/// What happens to the items below a location that is being deleted; refuses by default.
pub(crate) async fn detach_items(
    conn: &mut Conn,
    location: LocationId,
    parent: Option<LocationId>,
    subtree: &[LocationId],
    mode: ItemsOnDelete,
) -> Result<u64, DbError> {
    let mut held = 0i64;
    for chunk in subtree.chunks(ID_CHUNK) {
        let n: i64 = it::items
            .filter(it::location_id.eq_any(chunk))
            .count()
            .get_result(conn)
            .await?;
        held += n;
    }
    if held == 0 {
        return Ok(0);
    }
    match mode {
        ItemsOnDelete::Refuse => Err(DbError::Conflict(format!(
            "location {location} holds {held} item(s) in it or below it; say what happens to them \
             (items: move-to-parent or delete)"
        ))),
        ItemsOnDelete::MoveToParent => {
            let parent = parent.ok_or_else(|| {
                DbError::Conflict(format!(
                    "location {location} is a root: its {held} item(s) have no parent to move to"
                ))
            })?;
            let at = now();
            for chunk in subtree.chunks(ID_CHUNK) {
                diesel::update(it::items.filter(it::location_id.eq_any(chunk)))
                    .set((it::location_id.eq(parent), it::updated_at.eq(at)))
                    .execute(conn)
                    .await?;
            }
            Ok(held as u64)
        }
        ItemsOnDelete::Delete => {
            for chunk in subtree.chunks(ID_CHUNK) {
                diesel::delete(it::items.filter(it::location_id.eq_any(chunk)))
                    .execute(conn)
                    .await?;
            }
            Ok(held as u64)
        }
    }
}

async fn category_names(
    conn: &mut Conn,
    ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, String>, DbError> {
    let mut ids: Vec<i64> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = HashMap::new();
    for chunk in ids.chunks(ID_CHUNK) {
        let rows: Vec<(i64, String)> = cat::categories
            .filter(cat::id.eq_any(chunk))
            .select((cat::id, cat::name))
            .load(conn)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Attaches location paths and category names (one query each for the whole batch).
pub(crate) async fn items_with_paths(
    conn: &mut Conn,
    records: Vec<ItemRecord>,
) -> Result<Vec<Item>, DbError> {
    let mut location_ids: Vec<i64> = records.iter().map(|r| r.location_id).collect();
    location_ids.sort_unstable();
    location_ids.dedup();
    let mut paths = HashMap::new();
    for chunk in location_ids.chunks(ID_CHUNK) {
        paths.extend(
            lineages(conn, chunk)
                .await?
                .into_iter()
                .map(|(id, (p, _))| (id, p)),
        );
    }
    let categories = category_names(conn, records.iter().filter_map(|r| r.category_id)).await?;
    Ok(records
        .into_iter()
        .map(|r| {
            let path = paths.get(&r.location_id).cloned().unwrap_or_default();
            let category = r.category_id.and_then(|c| categories.get(&c).cloned());
            r.into_item(path, category)
        })
        .collect())
}

/// The category with this name (case-insensitively).
pub(crate) async fn find_category(
    conn: &mut Conn,
    name: &str,
) -> Result<Option<Category>, DbError> {
    let key = name_key(name);
    let mut query = cat::categories.select(Category::as_select()).into_boxed();
    if name.is_ascii() {
        query = query.filter(lower(cat::name).eq(name.to_ascii_lowercase()));
    }
    let found: Vec<Category> = query.load(conn).await?;
    Ok(found.into_iter().find(|c| name_key(&c.name) == key))
}

async fn category_id_of(conn: &mut Conn, name: Option<&str>) -> Result<Option<i64>, DbError> {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        None => Ok(None),
        Some(n) => find_category(conn, n)
            .await?
            .map(|c| Some(c.id))
            .ok_or_else(|| DbError::NotFound {
                what: "category",
                key: format!("\"{n}\" (create it with `inventory category add`)"),
            }),
    }
}

pub(crate) async fn create_category(
    conn: &mut Conn,
    name: &str,
    description: Option<&str>,
) -> Result<Category, DbError> {
    let name = inventory_core::validate_category_name(name)?;
    let description = validate_description("description", description)?;
    tree_tx!(conn, |c| {
        if find_category(c, &name).await?.is_some() {
            return Err(DbError::Conflict(format!(
                "a category named \"{name}\" already exists"
            )));
        }
        let at = now();
        diesel::insert_into(cat::categories)
            .values((
                cat::name.eq(&name),
                cat::description.eq(description.as_deref()),
                cat::created_at.eq(at),
                cat::updated_at.eq(at),
            ))
            .returning(Category::as_returning())
            .get_result(c)
            .await
            .map_err(|e| match e {
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                ) => DbError::Conflict(format!("a category named \"{name}\" already exists")),
                other => other.into(),
            })
    })
}

pub(crate) async fn list_categories(conn: &mut Conn) -> Result<Vec<(Category, i64)>, DbError> {
    let all: Vec<Category> = cat::categories
        .select(Category::as_select())
        .order(cat::name)
        .load(conn)
        .await?;
    let counts: Vec<(Option<i64>, i64)> = it::items
        .group_by(it::category_id)
        .select((it::category_id, diesel::dsl::count_star()))
        .load(conn)
        .await?;
    let counts: HashMap<i64, i64> = counts
        .into_iter()
        .filter_map(|(c, n)| c.map(|c| (c, n)))
        .collect();
    Ok(all
        .into_iter()
        .map(|c| {
            let n = counts.get(&c.id).copied().unwrap_or(0);
            (c, n)
        })
        .collect())
}

/// Deletes a category; its items keep existing, without a category (ON DELETE SET NULL).
pub(crate) async fn delete_category(conn: &mut Conn, name: &str) -> Result<Category, DbError> {
    tree_tx!(conn, |c| {
        let category = find_category(c, name)
            .await?
            .ok_or_else(|| DbError::NotFound {
                what: "category",
                key: format!("\"{}\"", name.trim()),
            })?;
        diesel::delete(cat::categories.find(category.id))
            .execute(c)
            .await?;
        Ok(category)
    })
}

pub(crate) struct ValidItem {
    name: String,
    description: Option<String>,
    notes: Option<String>,
    serial_number: Option<String>,
    quantity: i64,
    price: (Option<i64>, Option<String>),
}

pub(crate) fn validate_item(new: &NewItem) -> Result<ValidItem, DbError> {
    inventory_core::validate_dates(new.purchase_date, new.warranty_expires)?;
    Ok(ValidItem {
        name: inventory_core::validate_item_name(&new.name)?,
        description: validate_description("description", new.description.as_deref())?,
        notes: validate_description("notes", new.notes.as_deref())?,
        serial_number: inventory_core::validate_serial(new.serial_number.as_deref())?,
        quantity: inventory_core::validate_quantity(new.quantity)?,
        price: inventory_core::validate_price(new.purchase_price_cents, new.currency.as_deref())?,
    })
}

async fn insert_item(
    conn: &mut Conn,
    new: &NewItem,
    valid: ValidItem,
    category_id: Option<i64>,
) -> Result<ItemRecord, DbError> {
    let at = now();
    Ok(diesel::insert_into(it::items)
        .values(ItemInsert {
            name: valid.name,
            description: valid.description,
            quantity: valid.quantity,
            location_id: new.location_id,
            category_id,
            serial_number: valid.serial_number,
            purchase_date: new.purchase_date,
            purchase_price_cents: valid.price.0,
            currency: valid.price.1,
            warranty_expires: new.warranty_expires,
            notes: valid.notes,
            created_at: at,
            updated_at: at,
        })
        .returning(ItemRecord::as_returning())
        .get_result(conn)
        .await?)
}

pub(crate) async fn create_item(conn: &mut Conn, new: &NewItem) -> Result<Item, DbError> {
    let valid = validate_item(new)?;
    let record = tree_tx!(conn, |c| {
        get_location_for_item(c, new.location_id).await?;
        let category_id = category_id_of(c, new.category.as_deref()).await?;
        insert_item(c, new, valid, category_id).await
    })?;
    one_item(conn, record).await
}

async fn get_location_for_item(conn: &mut Conn, id: LocationId) -> Result<(), DbError> {
    find_record(conn, id)
        .await?
        .map(|_| ())
        .ok_or_else(|| DbError::NotFound {
            what: "location with id",
            key: id.to_string(),
        })
}

async fn one_item(conn: &mut Conn, record: ItemRecord) -> Result<Item, DbError> {
    items_with_paths(conn, vec![record])
        .await?
        .pop()
        .ok_or_else(|| DbError::Query("item vanished while reading it".into()))
}

pub(crate) async fn get_item_record(conn: &mut Conn, id: i64) -> Result<ItemRecord, DbError> {
    it::items
        .find(id)
        .select(ItemRecord::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| DbError::NotFound {
            what: "item with id",
            key: id.to_string(),
        })
}

pub(crate) async fn get_item(conn: &mut Conn, id: i64) -> Result<Item, DbError> {
    let record = get_item_record(conn, id).await?;
    one_item(conn, record).await
}

pub(crate) async fn update_item(
    conn: &mut Conn,
    id: i64,
    changes: &ItemChanges,
) -> Result<Item, DbError> {
    let record = tree_tx!(conn, |c| {
        let current = get_item_record(c, id).await?;
        let category_id = match &changes.category {
            Some(name) => category_id_of(c, name.as_deref()).await?,
            None => current.category_id,
        };
        let (price, currency) = match &changes.price {
            Some(Some((cents, cur))) => (Some(*cents), Some(cur.clone())),
            Some(None) => (None, None),
            None => (current.purchase_price_cents, current.currency.clone()),
        };
        let merged = NewItem {
            name: changes.name.clone().unwrap_or(current.name),
            location_id: current.location_id,
            quantity: changes.quantity.unwrap_or(current.quantity),
            category: None,
            description: changes.description.clone().unwrap_or(current.description),
            notes: changes.notes.clone().unwrap_or(current.notes),
            serial_number: changes
                .serial_number
                .clone()
                .unwrap_or(current.serial_number),
            purchase_date: changes.purchase_date.unwrap_or(current.purchase_date),
            purchase_price_cents: price,
            currency,
            warranty_expires: changes.warranty_expires.unwrap_or(current.warranty_expires),
        };
        let valid = validate_item(&merged)?;
        Ok::<ItemRecord, DbError>(
            diesel::update(it::items.find(id))
                .set((
                    it::name.eq(valid.name),
                    it::description.eq(valid.description),
                    it::quantity.eq(valid.quantity),
                    it::category_id.eq(category_id),
                    it::serial_number.eq(valid.serial_number),
                    it::purchase_date.eq(merged.purchase_date),
                    it::purchase_price_cents.eq(valid.price.0),
                    it::currency.eq(valid.price.1),
                    it::warranty_expires.eq(merged.warranty_expires),
                    it::notes.eq(valid.notes),
                    it::updated_at.eq(now()),
                ))
                .returning(ItemRecord::as_returning())
                .get_result(c)
                .await?,
        )
    })?;
    one_item(conn, record).await
}

pub(crate) async fn move_item(conn: &mut Conn, id: i64, to: LocationId) -> Result<Item, DbError> {
    let record = tree_tx!(conn, |c| {
        get_item_record(c, id).await?;
        get_location_for_item(c, to).await?;
        Ok::<ItemRecord, DbError>(
            diesel::update(it::items.find(id))
                .set((it::location_id.eq(to), it::updated_at.eq(now())))
                .returning(ItemRecord::as_returning())
                .get_result(c)
                .await?,
        )
    })?;
    one_item(conn, record).await
}

pub(crate) async fn delete_item(conn: &mut Conn, id: i64) -> Result<Item, DbError> {
    let item = get_item(conn, id).await?;
    let deleted = diesel::delete(it::items.find(id)).execute(conn).await?;
    if deleted == 0 {
        return Err(DbError::NotFound {
            what: "item with id",
            key: id.to_string(),
        });
    }
    Ok(item)
}

/// Items matching the filter, by id, one page at a time.
pub(crate) async fn list_items(
    conn: &mut Conn,
    filter: &ItemFilter,
    page: &PageRequest,
) -> Result<Page<Item>, DbError> {
    let limit = page.effective_limit()?;
    let mut query = it::items
        .select(ItemRecord::as_select())
        .filter(it::id.gt(page.after_id()?))
        .into_boxed();
    if let Some(loc) = filter.location_id {
        get_location_for_item(conn, loc).await?;
        let ids = if filter.recursive {
            subtree_ids(conn, loc).await?
        } else {
            vec![loc]
        };
        query = query.filter(it::location_id.eq_any(ids));
    }
    if let Some(name) = &filter.category {
        let id = category_id_of(conn, Some(name)).await?;
        query = query.filter(it::category_id.eq(id));
    }
    let mut records: Vec<ItemRecord> = query.order(it::id).limit(limit + 1).load(conn).await?;
    let next_cursor = PageRequest::cut(&mut records, limit, |r| r.id);
    Ok(Page {
        items: items_with_paths(conn, records).await?,
        next_cursor,
    })
}

/// Count, quantity and value of the items in a location (and below it when `recursive`).
pub(crate) async fn item_summary(
    conn: &mut Conn,
    location: LocationId,
    recursive: bool,
) -> Result<ItemSummary, DbError> {
    get_location_for_item(conn, location).await?;
    let ids = if recursive {
        subtree_ids(conn, location).await?
    } else {
        vec![location]
    };
    let records = items_in(conn, &ids).await?;
    let mut summary = ItemSummary::default();
    let mut totals: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for r in &records {
        summary.items += 1;
        summary.total_quantity += r.quantity;
        if let (Some(cents), Some(cur)) = (r.purchase_price_cents, &r.currency) {
            *totals.entry(cur.clone()).or_default() += cents.saturating_mul(r.quantity);
        }
    }
    summary.value = totals
        .into_iter()
        .map(|(currency, cents)| CurrencyTotal { currency, cents })
        .collect();
    Ok(summary)
}

/// Ranked search over items and locations, each hit with its full path.
pub(crate) async fn search(
    conn: &mut Conn,
    text: &str,
    limit: i64,
) -> Result<Vec<SearchHit>, DbError> {
    let words = crate::store::search_words(text);
    if words.is_empty() {
        return Err(DbError::Invalid(format!(
            "search text \"{}\" has no words to look for",
            text.trim()
        )));
    }
    let rows = search_hits(conn, &words, limit.clamp(1, 1000)).await?;
    let item_ids: Vec<i64> = rows
        .iter()
        .filter(|r| r.kind == "item")
        .map(|r| r.id)
        .collect();
    let location_ids: Vec<i64> = rows
        .iter()
        .filter(|r| r.kind == "location")
        .map(|r| r.id)
        .collect();
    let items: HashMap<i64, (String, i64)> = it::items
        .filter(it::id.eq_any(&item_ids))
        .select((it::id, it::name, it::location_id))
        .load::<(i64, String, i64)>(conn)
        .await?
        .into_iter()
        .map(|(id, name, loc)| (id, (name, loc)))
        .collect();
    let mut wanted: Vec<i64> = location_ids.clone();
    wanted.extend(items.values().map(|(_, loc)| *loc));
    let paths = lineages(conn, &wanted).await?;
    let path_of = |id: i64| paths.get(&id).map(|(p, _)| p.clone()).unwrap_or_default();
    Ok(rows
        .into_iter()
        .filter_map(|r| match r.kind.as_str() {
            "item" => items.get(&r.id).map(|(name, loc)| SearchHit {
                kind: "item",
                id: r.id,
                name: name.clone(),
                path: path_of(*loc),
                rank: r.rank,
            }),
            _ => paths.get(&r.id).map(|(p, _)| SearchHit {
                kind: "location",
                id: r.id,
                name: p.rsplit(PATH_SEPARATOR).next().unwrap_or(p).to_string(),
                path: p.clone(),
                rank: r.rank,
            }),
        })
        .collect())
}

/// The types of the given locations.
pub(crate) async fn location_types(
    conn: &mut Conn,
    ids: &[LocationId],
) -> Result<HashMap<LocationId, LocationType>, DbError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(ID_CHUNK) {
        let rows: Vec<(i64, String)> = l::locations
            .filter(l::id.eq_any(chunk))
            .select((l::id, l::location_type))
            .load(conn)
            .await?;
        for (id, t) in rows {
            let t = t
                .parse()
                .map_err(|e| DbError::Query(format!("location {id}: {e}")))?;
            out.insert(id, t);
        }
    }
    Ok(out)
}

/// Writes validated import rows in one tree transaction: locations resolved (or created),
/// categories resolved (or created), items inserted. Any error rolls everything back.
pub(crate) async fn import_rows(
    conn: &mut Conn,
    rules: &TypeRules,
    rows: Vec<crate::csv_io::ImportRow>,
    options: crate::csv_io::ImportOptions,
    progress: crate::csv_io::Progress<'_>,
) -> Result<crate::csv_io::ImportSummary, DbError> {
    use crate::csv_io::{show_path, type_for_depth, ImportSummary};
    let total = rows.len() as u64;
    tree_tx!(conn, |c| {
        let mut summary = ImportSummary::default();
        // The type each full path should get if it is created, from the rows' own column.
        let mut wanted: HashMap<Vec<String>, (LocationType, u64)> = HashMap::new();
        for row in &rows {
            if let Some(t) = row.location_type {
                let key: Vec<String> = row.path.iter().map(|s| name_key(s)).collect();
                match wanted.get(&key) {
                    Some((other, first)) if *other != t => {
                        return Err(DbError::Invalid(format!(
                            "line {}: location \"{}\" is given as {t}, but line {first} gives it as {other}",
                            row.line,
                            show_path(&row.path)
                        )))
                    }
                    Some(_) => {}
                    None => {
                        wanted.insert(key, (t, row.line));
                    }
                }
            }
        }
        let mut resolved: HashMap<Vec<String>, (LocationId, LocationType)> = HashMap::new();
        let mut categories: HashMap<String, i64> = HashMap::new();
        for (n, row) in rows.iter().enumerate() {
            let mut parent: Option<(LocationId, LocationType)> = None;
            let mut key: Vec<String> = Vec::with_capacity(row.path.len());
            for (depth, segment) in row.path.iter().enumerate() {
                key.push(name_key(segment));
                if let Some(found) = resolved.get(&key) {
                    parent = Some(*found);
                    continue;
                }
                let here = match child_named(c, parent.map(|p| p.0), segment, None).await? {
                    Some(record) => (record.id, record.kind()?),
                    None if options.create_locations => {
                        // The type, and the line that asked for it (or this row's, by depth).
                        let (kind, line) = wanted
                            .get(&key)
                            .copied()
                            .unwrap_or((type_for_depth(depth), row.line));
                        rules.check(parent.map(|p| p.1), kind).map_err(|v| {
                            DbError::Invalid(format!(
                                "line {line}: cannot create location \"{}\": {v}",
                                show_path(&row.path[..=depth])
                            ))
                        })?;
                        let at = now();
                        let id: i64 = diesel::insert_into(l::locations)
                            .values(LocationInsert {
                                name: segment,
                                description: None,
                                location_type: kind.as_str(),
                                parent_id: parent.map(|p| p.0),
                                created_at: at,
                                updated_at: at,
                            })
                            .returning(l::id)
                            .get_result(c)
                            .await?;
                        summary.locations_created += 1;
                        (id, kind)
                    }
                    None => {
                        return Err(DbError::Invalid(format!(
                            "line {}: no location at path \"{}\" (import with --create-locations to create it)",
                            row.line,
                            show_path(&row.path)
                        )))
                    }
                };
                resolved.insert(key.clone(), here);
                parent = Some(here);
            }
            let location_id = parent
                .map(|p| p.0)
                .ok_or_else(|| DbError::Invalid(format!("line {}: location is empty", row.line)))?;
            let category_id = match &row.category {
                None => None,
                Some(name) => {
                    let k = name_key(name);
                    match categories.get(&k) {
                        Some(id) => Some(*id),
                        None => {
                            let id = match find_category(c, name).await? {
                                Some(existing) => existing.id,
                                None => {
                                    let at = now();
                                    summary.categories_created += 1;
                                    diesel::insert_into(cat::categories)
                                        .values((
                                            cat::name.eq(name),
                                            cat::created_at.eq(at),
                                            cat::updated_at.eq(at),
                                        ))
                                        .returning(cat::id)
                                        .get_result(c)
                                        .await?
                                }
                            };
                            categories.insert(k, id);
                            Some(id)
                        }
                    }
                }
            };
            let item = NewItem {
                location_id,
                ..row.item.clone()
            };
            let valid = validate_item(&item)
                .map_err(|e| DbError::Invalid(format!("line {}: {e}", row.line)))?;
            insert_item(c, &item, valid, category_id).await?;
            summary.items += 1;
            progress(n as u64 + 1, total);
        }
        Ok(summary)
    })
}
