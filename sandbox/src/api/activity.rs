//! `/v1/activity`: the platform's activity log, newest first, with filters.

use axum::{
    extract::{Path, State},
    routing::get,
    Extension, Json, Router,
};
use serde::Deserialize;
use time::{format_description::well_known::Rfc3339, Date, OffsetDateTime};
use uuid::Uuid;

use super::{
    error::{ApiError, ApiResult, FieldError},
    extract::{ApiQuery, Pagination, ACTIVITY_MAX_LIMIT},
    Caller,
};
use crate::{
    model::{ActivityEntry, ActivityEntryView, Page},
    permissions, SharedState,
};

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/v1/activity", get(list))
        .route("/v1/activity/{log_id}", get(show))
}

#[derive(Debug, Default, Deserialize)]
struct ActivityFilter {
    environment_id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    category: Option<String>,
    date_from: Option<String>,
    date_to: Option<String>,
    search: Option<String>,
    resource_type: Option<String>,
    resource_id: Option<String>,
}

/// An RFC 3339 date-time, or a plain date meaning its midnight (UTC), as FastAPI parses a
/// `datetime` query parameter. Both bounds are inclusive, so "up to 16 March" is
/// `2026-03-16T23:59:59.999999Z`, not `2026-03-16`.
fn parse_bound(field: &str, raw: &str, errors: &mut Vec<FieldError>) -> Option<OffsetDateTime> {
    if let Ok(instant) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Some(instant);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    match Date::parse(raw, &format) {
        Ok(date) => Some(date.midnight().assume_utc()),
        Err(_) => {
            errors.push(FieldError::query_typed(
                field,
                "datetime_from_date_parsing",
                "Input should be a valid datetime or date (RFC 3339, or YYYY-MM-DD)",
            ));
            None
        }
    }
}

async fn list(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(filter): ApiQuery<ActivityFilter>,
    pagination: Pagination<ACTIVITY_MAX_LIMIT>,
) -> ApiResult<Json<Page<ActivityEntryView>>> {
    caller.require(permissions::ACTIVITY_READ)?;
    let mut errors = Vec::new();
    let environment_id = match filter
        .environment_id
        .as_deref()
        .filter(|raw| !raw.is_empty())
    {
        Some(raw) => match raw.parse::<Uuid>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(FieldError::query(
                    "environment_id",
                    "environment_id must be a UUID",
                ));
                None
            }
        },
        None => None,
    };
    let from = filter
        .date_from
        .as_deref()
        .filter(|raw| !raw.is_empty())
        .and_then(|raw| parse_bound("date_from", raw, &mut errors));
    let to = filter
        .date_to
        .as_deref()
        .filter(|raw| !raw.is_empty())
        .and_then(|raw| parse_bound("date_to", raw, &mut errors));
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let search = filter
        .search
        .as_deref()
        .map(str::to_lowercase)
        .filter(|text| !text.is_empty());
    let matches = |entry: &ActivityEntry| {
        environment_id.is_none_or(|id| entry.environment_id == Some(id))
            && filter
                .kind
                .as_deref()
                .is_none_or(|kind| kind.is_empty() || entry.kind == kind)
            && filter
                .category
                .as_deref()
                .is_none_or(|category| category.is_empty() || entry.category == category)
            && filter
                .resource_type
                .as_deref()
                .is_none_or(|kind| kind.is_empty() || entry.resource_type.as_deref() == Some(kind))
            && filter
                .resource_id
                .as_deref()
                .is_none_or(|id| id.is_empty() || entry.resource_id.as_deref() == Some(id))
            && from.is_none_or(|from| entry.created_at >= from)
            && to.is_none_or(|to| entry.created_at <= to)
            && search.as_deref().is_none_or(|needle| {
                entry.description.to_lowercase().contains(needle)
                    || entry.kind.contains(needle)
                    || entry
                        .actor_id
                        .as_deref()
                        .is_some_and(|actor| actor.to_lowercase().contains(needle))
            })
    };
    let page = state.store.read(|data| {
        let entries: Vec<_> = data
            .activity
            .iter()
            .rev()
            .filter(|entry| matches(entry))
            .collect();
        pagination.page_of(&entries, |entry| ActivityEntryView::from((*entry).clone()))
    });
    Ok(Json(page))
}

async fn show(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    Path(log_id): Path<String>,
) -> ApiResult<Json<ActivityEntryView>> {
    caller.require(permissions::ACTIVITY_READ)?;
    let id: Uuid = log_id
        .parse()
        .map_err(|_| ApiError::NotFound("Activity entry not found".to_owned()))?;
    state
        .store
        .read(|data| data.activity.iter().find(|entry| entry.id == id).cloned())
        .map(|entry| Json(entry.into()))
        .ok_or_else(|| ApiError::NotFound("Activity entry not found".to_owned()))
}
