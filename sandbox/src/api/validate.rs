//! Field rules shared by the resources; each failure names the field and says what is expected.

use axum::http::Uri;
use serde::{Deserialize, Deserializer};

use super::error::FieldError;

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`) in a PATCH body.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// An integer field that may be omitted but is not nullable: its value when sent, `None` when
/// omitted; an explicit `null` is refused as pydantic refuses it for an `int`.
pub fn integer_not_null(
    field: &str,
    value: Option<Option<i64>>,
    errors: &mut Vec<FieldError>,
) -> Option<i64> {
    if let Some(None) = value {
        errors.push(FieldError {
            loc: vec!["body".into(), field.into()],
            msg: "Input should be a valid integer".to_owned(),
            kind: "int_type".to_owned(),
        });
    }
    value.flatten()
}

pub fn name(field: &str, value: &str, errors: &mut Vec<FieldError>) -> String {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        errors.push(FieldError::body(
            field,
            format!("{field} must not be empty"),
        ));
    } else if trimmed.chars().count() > 100 {
        errors.push(FieldError::body(
            field,
            format!("{field} must be at most 100 characters"),
        ));
    }
    trimmed.to_owned()
}

pub fn slug(value: &str, errors: &mut Vec<FieldError>) {
    let valid = !value.is_empty()
        && value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    // The grammar is the contract's ("lowercase letters, digits, hyphens"); the length bound is
    // ours, since none is published.
    if !valid {
        errors.push(FieldError::body(
            "slug",
            "slug must be 1 to 63 lowercase letters, digits and hyphens",
        ));
    }
}

pub fn url(field: &str, value: &str, errors: &mut Vec<FieldError>) {
    let valid = value.parse::<Uri>().ok().is_some_and(|uri| {
        matches!(uri.scheme_str(), Some("https" | "http"))
            && uri.host().is_some_and(|host| !host.is_empty())
    });
    if !valid || value.len() > 2048 {
        errors.push(FieldError::body(
            field,
            format!("{field} must be an http(s) URL"),
        ));
    }
}

/// A deliberately plain check (one `@`, a dotted domain, no spaces): the identity provider does the rest.
pub fn email(field: &str, value: &str) -> Result<String, FieldError> {
    let value = value.trim().to_lowercase();
    let valid = value.len() <= 254
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if valid {
        Ok(value)
    } else {
        Err(FieldError::body(field, "not a valid email address"))
    }
}

pub fn range(field: &str, value: i64, min: i64, max: i64, errors: &mut Vec<FieldError>) {
    if !(min..=max).contains(&value) {
        errors.push(FieldError::body(
            field,
            format!("{field} must be between {min} and {max}"),
        ));
    }
}
