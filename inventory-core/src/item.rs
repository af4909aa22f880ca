//! Items and categories: quantities, prices, currencies and dates, validated.

use chrono::{Datelike, NaiveDate};

use crate::validate::{validate_name, ValidationError};

/// The primary key of an item.
pub type ItemId = i64;
/// The primary key of a category.
pub type CategoryId = i64;

/// Most of any one thing an item row may count.
pub const QUANTITY_MAX: i64 = 1_000_000_000;
/// Largest price accepted, in cents (ten billion in any currency).
pub const PRICE_MAX_CENTS: i64 = 1_000_000_000_000;
/// Longest serial number.
pub const SERIAL_MAX_CHARS: usize = 255;

/// A quantity: a whole number from 0 to [`QUANTITY_MAX`].
pub fn validate_quantity(quantity: i64) -> Result<i64, ValidationError> {
    if quantity < 0 {
        return Err(ValidationError::invalid("quantity", "must not be negative"));
    }
    if quantity > QUANTITY_MAX {
        return Err(ValidationError::invalid(
            "quantity",
            format!("must be at most {QUANTITY_MAX}"),
        ));
    }
    Ok(quantity)
}

/// Parses a price as people write it (`12`, `12.3`, `12.34`, `1,234.50` is refused) into cents.
pub fn parse_price(text: &str) -> Result<i64, ValidationError> {
    let t = text.trim();
    let bad = || ValidationError::invalid("price", format!("\"{t}\" is not an amount like 12.34"));
    if t.starts_with('-') {
        return Err(ValidationError::invalid("price", "must not be negative"));
    }
    let (whole, frac) = match t.split_once('.') {
        Some((w, f)) => (w, f),
        None => (t, ""),
    };
    if whole.is_empty() && frac.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    if frac.len() > 2 {
        return Err(ValidationError::invalid(
            "price",
            "has more than two decimals",
        ));
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().map_err(|_| bad())? * 10,
        _ => frac.parse().map_err(|_| bad())?,
    };
    let cents = whole
        .checked_mul(100)
        .and_then(|c| c.checked_add(frac))
        .ok_or_else(bad)?;
    validate_price_cents(cents)
}

/// Cents as `12.34` (see [`format_amount`]).
pub fn format_price(cents: i64) -> String {
    format_amount(cents.into())
}

/// An amount in cents as `12.34`, `0.05` or `-3.50`, exactly, for any `i128`: totals of many
/// prices are summed in `i128` so that they cannot overflow.
pub fn format_amount(cents: i128) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// A price in cents: from 0 to [`PRICE_MAX_CENTS`].
pub fn validate_price_cents(cents: i64) -> Result<i64, ValidationError> {
    if cents < 0 {
        return Err(ValidationError::invalid("price", "must not be negative"));
    }
    if cents > PRICE_MAX_CENTS {
        return Err(ValidationError::invalid("price", "is too large"));
    }
    Ok(cents)
}

/// A currency: three ASCII letters (ISO 4217 form), returned upper-case.
pub fn validate_currency(code: &str) -> Result<String, ValidationError> {
    let c = code.trim();
    if c.len() != 3 || !c.chars().all(|ch| ch.is_ascii_alphabetic()) {
        return Err(ValidationError::invalid(
            "currency",
            format!("\"{c}\" is not a 3-letter currency code such as EUR or USD"),
        ));
    }
    Ok(c.to_ascii_uppercase())
}

/// A price and its currency come together: both or neither.
pub fn validate_price(
    cents: Option<i64>,
    currency: Option<&str>,
) -> Result<(Option<i64>, Option<String>), ValidationError> {
    match (cents, currency.map(str::trim).filter(|c| !c.is_empty())) {
        (None, None) => Ok((None, None)),
        (Some(c), Some(cur)) => Ok((
            Some(validate_price_cents(c)?),
            Some(validate_currency(cur)?),
        )),
        (Some(_), None) => Err(ValidationError::invalid(
            "currency",
            "is required with a price",
        )),
        (None, Some(_)) => Err(ValidationError::invalid(
            "price",
            "is required with a currency",
        )),
    }
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(field: &str, text: &str) -> Result<NaiveDate, ValidationError> {
    let t = text.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| {
        ValidationError::invalid(field, format!("\"{t}\" is not a date like 2024-05-31"))
    })
}

/// The years an item's dates may have: the range that both backends store and that
/// exports and backups write as `YYYY-MM-DD`.
pub const DATE_YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// Each date within [`DATE_YEARS`], and a warranty that does not end before the purchase.
pub fn validate_dates(
    purchase_date: Option<NaiveDate>,
    warranty_expires: Option<NaiveDate>,
) -> Result<(), ValidationError> {
    for (field, date) in [("purchased", purchase_date), ("warranty", warranty_expires)] {
        if let Some(d) = date.filter(|d| !DATE_YEARS.contains(&d.year())) {
            return Err(ValidationError::invalid(
                field,
                format!("{d} is outside the years 1 to 9999"),
            ));
        }
    }
    match (purchase_date, warranty_expires) {
        (Some(p), Some(w)) if w < p => Err(ValidationError::invalid(
            "warranty",
            format!("expires ({w}) before the purchase date ({p})"),
        )),
        _ => Ok(()),
    }
}

/// A serial number: trimmed, empty means none, at most [`SERIAL_MAX_CHARS`], no control characters.
pub fn validate_serial(raw: Option<&str>) -> Result<Option<String>, ValidationError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => validate_name("serial number", s).map(Some),
    }
}

/// An item's name (same rules as any name; `/` is allowed).
pub fn validate_item_name(raw: &str) -> Result<String, ValidationError> {
    validate_name("name", raw)
}

/// A category's name.
pub fn validate_category_name(raw: &str) -> Result<String, ValidationError> {
    validate_name("category", raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_parse_to_cents() {
        assert_eq!(parse_price("12.34"), Ok(1234));
        assert_eq!(parse_price("12.3"), Ok(1230));
        assert_eq!(parse_price("12"), Ok(1200));
        assert_eq!(parse_price(".5"), Ok(50));
        assert_eq!(parse_price(" 0 "), Ok(0));
    }

    #[test]
    fn malformed_or_negative_prices_are_refused() {
        for bad in [
            "",
            ".",
            "-1",
            "1.234",
            "12,50",
            "abc",
            "1e3",
            "99999999999999999999",
        ] {
            let err = parse_price(bad).unwrap_err();
            assert_eq!(err.field(), "price", "{bad}");
        }
    }

    #[test]
    fn price_formats_with_two_decimals() {
        assert_eq!(format_price(1234), "12.34");
        assert_eq!(format_price(5), "0.05");
        assert_eq!(format_price(0), "0.00");
    }

    #[test]
    fn negative_price_formats_with_a_leading_minus() {
        assert_eq!(format_price(-5), "-0.05");
        assert_eq!(format_price(-350), "-3.50");
        assert_eq!(format_price(i64::MIN), "-92233720368547758.08");
    }

    #[test]
    fn amount_formats_like_a_price() {
        assert_eq!(format_amount(1234), "12.34");
        assert_eq!(format_amount(5), "0.05");
        assert_eq!(format_amount(0), "0.00");
        assert_eq!(format_amount(-5), "-0.05");
        assert_eq!(format_amount(-1234), "-12.34");
        for cents in [0, 1, 99, 100, 101, -1, -100, i64::MAX, i64::MIN] {
            assert_eq!(format_amount(cents.into()), format_price(cents));
        }
    }

    #[test]
    fn amount_is_exact_over_the_whole_i128_range() {
        assert_eq!(
            format_amount(i128::MAX),
            "1701411834604692317316873037158841057.27"
        );
        assert_eq!(
            format_amount(i128::MIN),
            "-1701411834604692317316873037158841057.28"
        );
        assert_eq!(
            format_amount(i128::from(i64::MAX) * 1000 + 7),
            "92233720368547758070.07"
        );
    }

    #[test]
    fn negative_quantity_is_refused() {
        assert_eq!(validate_quantity(0), Ok(0));
        assert_eq!(
            validate_quantity(-1).unwrap_err().to_string(),
            "quantity must not be negative"
        );
    }

    #[test]
    fn currency_is_three_letters_upper_cased() {
        assert_eq!(validate_currency("eur"), Ok("EUR".into()));
        for bad in ["EU", "EURO", "E1R", "€€€"] {
            assert!(validate_currency(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn price_and_currency_come_together() {
        assert!(validate_price(Some(100), None).is_err());
        assert!(validate_price(None, Some("EUR")).is_err());
        assert_eq!(
            validate_price(Some(100), Some("usd")),
            Ok((Some(100), Some("USD".into())))
        );
        assert_eq!(validate_price(None, Some("  ")), Ok((None, None)));
    }

    #[test]
    fn dates_parse_and_warranty_cannot_end_before_purchase() {
        let p = parse_date("purchased", "2024-01-31").unwrap();
        assert!(parse_date("purchased", "2024-02-30").is_err());
        assert!(parse_date("purchased", "31.01.2024").is_err());
        let w = parse_date("warranty", "2023-12-31").unwrap();
        assert!(validate_dates(Some(p), Some(w)).is_err());
        assert!(validate_dates(Some(w), Some(p)).is_ok());
        let first = NaiveDate::from_ymd_opt(1, 1, 1).unwrap();
        let last = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
        assert!(validate_dates(Some(first), Some(last)).is_ok());
        for outside in [first.pred_opt().unwrap(), last.succ_opt().unwrap()] {
            assert!(validate_dates(Some(outside), None).is_err(), "{outside}");
            assert!(validate_dates(None, Some(outside)).is_err(), "{outside}");
        }
    }
}
