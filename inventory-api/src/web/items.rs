//! The item page (every field, edit, move with the location picker, delete) and the
//! new-item page (every field, the location picked by path).

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use inventory_core::{parse_date, parse_price, validate_price, LocationId, ValidationError};
use inventory_db::{Item, ItemChanges, NewItem};
use serde::Deserialize;

use super::forms::{non_blank, WriteForm};
use super::locations::{category_names, move_target, MoveForm};
use super::picker::{candidates, PickView};
use super::render::{
    field_error, flash, form_error, sentence, Chrome, ForUser, FormError, FormState, Html, Nav,
    WebError,
};
use super::session::WebUser;
use super::views::{when, Crumb};
use super::{parse_id, query};
use crate::AppState;

/// The quick "add an item here" form of a location page.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct QuickItemForm {
    pub name: String,
    pub quantity: String,
    pub category: String,
}

/// Every field of an item, as typed.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ItemFields {
    pub name: String,
    pub quantity: String,
    pub category: String,
    pub description: String,
    pub notes: String,
    pub serial_number: String,
    pub purchase_date: String,
    pub price: String,
    pub currency: String,
    pub warranty_expires: String,
    /// The location (new items only): a full path or `#id`.
    pub location: String,
    /// A picked candidate location (new items only).
    pub pick: String,
}

impl ItemFields {
    fn of(item: &Item) -> Self {
        ItemFields {
            name: item.name.clone(),
            quantity: item.quantity.to_string(),
            category: item.category.clone().unwrap_or_default(),
            description: item.description.clone().unwrap_or_default(),
            notes: item.notes.clone().unwrap_or_default(),
            serial_number: item.serial_number.clone().unwrap_or_default(),
            purchase_date: item
                .purchase_date
                .map(|d| d.to_string())
                .unwrap_or_default(),
            price: item
                .purchase_price_cents
                .map(inventory_core::format_price)
                .unwrap_or_default(),
            currency: item.currency.clone().unwrap_or_default(),
            warranty_expires: item
                .warranty_expires
                .map(|d| d.to_string())
                .unwrap_or_default(),
            location: item.location_path.clone(),
            pick: String::new(),
        }
    }
}

fn invalid(e: ValidationError) -> FormError {
    let field = match e.field() {
        "price" => "price",
        "warranty" => "warranty_expires",
        "serial number" => "serial_number",
        other => other,
    }
    .to_string();
    FormError {
        field: Some(field),
        message: sentence(&e.to_string()),
    }
}

/// A quantity as typed: blank is 1.
pub(crate) fn parse_quantity(text: &str) -> Result<i64, FormError> {
    match text.trim() {
        "" => Ok(1),
        t => t
            .parse::<i64>()
            .map_err(|_| field_error("quantity", format!("quantity “{t}” is not a whole number"))),
    }
}

/// The typed fields as checked values: quantity, dates, price with currency.
struct Parsed {
    quantity: i64,
    purchase_date: Option<chrono::NaiveDate>,
    warranty_expires: Option<chrono::NaiveDate>,
    price: Option<(i64, String)>,
}

fn parse_fields(f: &ItemFields) -> Result<Parsed, FormError> {
    let quantity = parse_quantity(&f.quantity)?;
    let date = |field: &str, text: &str| match non_blank(text) {
        Some(t) => parse_date(field, &t).map(Some).map_err(invalid),
        None => Ok(None),
    };
    let purchase_date = date("purchase_date", &f.purchase_date)?;
    let warranty_expires = date("warranty_expires", &f.warranty_expires)?;
    let cents = match non_blank(&f.price) {
        Some(p) => Some(parse_price(&p).map_err(invalid)?),
        None => None,
    };
    let currency = non_blank(&f.currency);
    let (cents, currency) = validate_price(cents, currency.as_deref()).map_err(invalid)?;
    Ok(Parsed {
        quantity,
        purchase_date,
        warranty_expires,
        price: cents.zip(currency),
    })
}

#[derive(Template)]
#[template(path = "item.html")]
struct ItemPage {
    chrome: Chrome,
    item: ItemView,
    crumbs: Vec<Crumb>,
    edit: FormState<ItemFields>,
    move_to: FormState<MoveForm>,
    candidates: Vec<PickView>,
    categories: Vec<String>,
}

/// An item's fields as shown.
struct ItemView {
    id: i64,
    name: String,
    quantity: i64,
    category: Option<String>,
    description: Option<String>,
    notes: Option<String>,
    serial_number: Option<String>,
    purchase_date: Option<String>,
    price: Option<String>,
    warranty_expires: Option<String>,
    location_id: LocationId,
    location_path: String,
    created_at: String,
    updated_at: String,
}

impl From<&Item> for ItemView {
    fn from(i: &Item) -> Self {
        ItemView {
            id: i.id,
            name: i.name.clone(),
            quantity: i.quantity,
            category: i.category.clone(),
            description: i.description.clone(),
            notes: i.notes.clone(),
            serial_number: i.serial_number.clone(),
            purchase_date: i.purchase_date.map(|d| d.to_string()),
            price: i
                .purchase_price_cents
                .zip(i.currency.as_ref())
                .map(|(c, cur)| format!("{} {cur}", inventory_core::format_price(c))),
            warranty_expires: i.warranty_expires.map(|d| d.to_string()),
            location_id: i.location_id,
            location_path: i.location_path.clone(),
            created_at: when(i.created_at),
            updated_at: when(i.updated_at),
        }
    }
}

impl ItemPage {
    fn open(&self, form: &str) -> bool {
        match form {
            "edit" => self.edit.failed_now(),
            "move" => self.move_to.failed_now(),
            _ => false,
        }
    }
}

async fn item_page(
    state: &AppState,
    user: &WebUser,
    id: i64,
    edit: Option<FormState<ItemFields>>,
    move_to: FormState<MoveForm>,
    candidates: Vec<PickView>,
    flash_code: Option<&str>,
) -> Result<ItemPage, WebError> {
    let item = state.db().get_item(id).await.for_user(user)?;
    let location = state
        .db()
        .get_location(item.location_id)
        .await
        .for_user(user)?;
    let mut crumbs: Vec<Crumb> = location.ancestors.iter().map(Crumb::from).collect();
    crumbs.push(Crumb {
        href: format!("/locations/{}", location.location.id),
        name: location.location.name.clone(),
    });
    let categories = category_names(state).await.for_user(user)?;
    Ok(ItemPage {
        chrome: Chrome::new(item.name.clone(), user, Nav::Search).with_flash(flash(flash_code)),
        edit: edit.unwrap_or_else(|| FormState::with(ItemFields::of(&item))),
        item: ItemView::from(&item),
        crumbs,
        move_to,
        candidates,
        categories,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DoneQuery {
    done: Option<String>,
    location: Option<String>,
}

/// `GET /items/{id}`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: WebUser,
    Path(raw): Path<String>,
    RawQuery(raw_query): RawQuery,
) -> Result<Response, WebError> {
    let id = parse_id(&raw, "item").map_err(|e| e.for_user(&user))?;
    let q: DoneQuery = query(raw_query);
    let page = item_page(
        &state,
        &user,
        id,
        None,
        FormState::default(),
        Vec::new(),
        q.done.as_deref(),
    )
    .await?;
    Ok(super::render::ok(page))
}

/// `POST /items/{id}/edit`: every field at once.
pub(crate) async fn edit(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    WriteForm { user, form }: WriteForm<ItemFields>,
) -> Result<Response, WebError> {
    let id = parse_id(&raw, "item").map_err(|e| e.for_user(&user))?;
    let outcome = match parse_fields(&form) {
        Ok(p) => {
            let changes = ItemChanges {
                name: Some(form.name.clone()),
                quantity: Some(p.quantity),
                category: Some(non_blank(&form.category)),
                description: Some(non_blank(&form.description)),
                notes: Some(non_blank(&form.notes)),
                serial_number: Some(non_blank(&form.serial_number)),
                purchase_date: Some(p.purchase_date),
                price: Some(p.price),
                warranty_expires: Some(p.warranty_expires),
            };
            state
                .db()
                .update_item(id, &changes)
                .await
                .map_err(form_error)
        }
        Err(e) => Err(Ok((StatusCode::UNPROCESSABLE_ENTITY, e))),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/items/{id}?done=saved")).into_response()),
        Err(Err(e)) => Err(e.for_user(&user)),
        Err(Ok((status, error))) => {
            let page = item_page(
                &state,
                &user,
                id,
                Some(FormState::failed(form, error)),
                FormState::default(),
                Vec::new(),
                None,
            )
            .await?;
            Ok(Html(status, page).into_response())
        }
    }
}

/// `POST /items/{id}/move`: to the location picked or typed.
pub(crate) async fn move_item(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    WriteForm { user, form }: WriteForm<MoveForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&raw, "item").map_err(|e| e.for_user(&user))?;
    let outcome = match move_target(&state, &form, false).await {
        Ok(Some(to)) => state.db().move_item(id, to).await.map_err(form_error),
        Ok(None) => Err(Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            field_error("to", "an item must be in a location"),
        ))),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/items/{id}?done=moved")).into_response()),
        Err(Err(e)) => Err(e.for_user(&user)),
        Err(Ok((status, mut error))) => {
            error.field = Some("to".into());
            let candidates = candidates(state.db(), &form.to).await.for_user(&user)?;
            let page = item_page(
                &state,
                &user,
                id,
                None,
                FormState::failed(form, error),
                candidates,
                None,
            )
            .await?;
            Ok(Html(status, page).into_response())
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct NoFields {}

/// `POST /items/{id}/delete`: then back to where it was.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    WriteForm { user, .. }: WriteForm<NoFields>,
) -> Result<Response, WebError> {
    let id = parse_id(&raw, "item").map_err(|e| e.for_user(&user))?;
    let item = state.db().delete_item(id).await.for_user(&user)?;
    Ok(Redirect::to(&format!("/locations/{}?done=deleted", item.location_id)).into_response())
}

#[derive(Template)]
#[template(path = "item_new.html")]
struct NewItemPage {
    chrome: Chrome,
    form: FormState<ItemFields>,
    candidates: Vec<PickView>,
    categories: Vec<String>,
    back: Option<Crumb>,
}

async fn new_item_page(
    state: &AppState,
    user: &WebUser,
    form: FormState<ItemFields>,
    candidates: Vec<PickView>,
    back: Option<Crumb>,
) -> Result<NewItemPage, WebError> {
    Ok(NewItemPage {
        chrome: Chrome::new("New item", user, Nav::Search),
        categories: category_names(state).await.for_user(user)?,
        form,
        candidates,
        back,
    })
}

/// `GET /items/new[?location=ID]`.
pub(crate) async fn new_page(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw_query): RawQuery,
) -> Result<Response, WebError> {
    let q: DoneQuery = query(raw_query);
    let mut fields = ItemFields {
        quantity: "1".into(),
        ..ItemFields::default()
    };
    let mut back = None;
    if let Some(raw) = q.location.as_deref().filter(|s| !s.is_empty()) {
        let id = parse_id(raw, "location").map_err(|e| e.for_user(&user))?;
        let location = state.db().get_location(id).await.for_user(&user)?;
        fields.location = location.location.full_path.clone();
        back = Some(Crumb {
            href: format!("/locations/{id}"),
            name: location.location.name,
        });
    }
    let page = new_item_page(&state, &user, FormState::with(fields), Vec::new(), back).await?;
    Ok(super::render::ok(page))
}

/// `POST /items`: a new item in the location typed or picked.
pub(crate) async fn create(
    State(state): State<AppState>,
    WriteForm { user, form }: WriteForm<ItemFields>,
) -> Result<Response, WebError> {
    let target = MoveForm {
        to: form.location.clone(),
        pick: form.pick.clone(),
        root: String::new(),
    };
    let outcome = match move_target(&state, &target, false).await {
        Ok(Some(location)) => match parse_fields(&form) {
            Ok(p) => {
                let new = NewItem {
                    name: form.name.clone(),
                    location_id: location,
                    quantity: p.quantity,
                    category: non_blank(&form.category),
                    description: non_blank(&form.description),
                    notes: non_blank(&form.notes),
                    serial_number: non_blank(&form.serial_number),
                    purchase_date: p.purchase_date,
                    purchase_price_cents: p.price.as_ref().map(|(c, _)| *c),
                    currency: p.price.map(|(_, cur)| cur),
                    warranty_expires: p.warranty_expires,
                };
                state.db().create_item(&new).await.map_err(form_error)
            }
            Err(e) => Err(Ok((StatusCode::UNPROCESSABLE_ENTITY, e))),
        },
        Ok(None) => Err(Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            field_error("location", "an item must be in a location"),
        ))),
        Err(Ok((status, mut e))) => {
            if e.field.as_deref() == Some("to") {
                e.field = Some("location".into());
            }
            Err(Ok((status, e)))
        }
        Err(Err(e)) => Err(Err(e)),
    };
    match outcome {
        Ok(item) => Ok(Redirect::to(&format!("/items/{}?done=created", item.id)).into_response()),
        Err(Err(e)) => Err(e.for_user(&user)),
        Err(Ok((status, error))) => {
            let candidates = if error.field.as_deref() == Some("location") {
                candidates(state.db(), &form.location)
                    .await
                    .for_user(&user)?
            } else {
                Vec::new()
            };
            let page = new_item_page(
                &state,
                &user,
                FormState::failed(form, error),
                candidates,
                None,
            )
            .await?;
            Ok(Html(status, page).into_response())
        }
    }
}
