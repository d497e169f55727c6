//! The platform's activity log: every change, who made it, where and when.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{ApiError, EnvironmentRecord, Listed};

/// Entries per page.
pub const ACTIVITY_PAGE_SIZE: u64 = 25;

/// An entry of the log. The docs publish which fields are always set; every other one may be
/// `null` (settlement, compliance and system entries have no actor and no request). An entry does
/// not say which environment it belongs to: only the `environment_id` filter tells.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityEntry {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub category: String,
    pub severity: String,
    pub description: String,
    pub actor_type: String,
    pub created_at: String,
    #[serde(default)]
    pub actor_id: Option<String>,
    #[serde(default)]
    pub resource_type: Option<String>,
    #[serde(default)]
    pub resource_id: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub status_code: Option<u16>,
    #[serde(default)]
    pub ip_address: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
    #[serde(default)]
    pub duration_ms: Option<u64>,
    #[serde(default)]
    pub detail: serde_json::Value,
}

impl super::ShownAsStored for ActivityEntry {
    const FIELDS: &'static [&'static str] = &["id", "type", "description", "created_at"];
}

/// The filters of the activity page, as they stand in its URL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityFilters {
    /// An environment slug.
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    /// `YYYY-MM-DD`
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub search: Option<String>,
    #[serde(default)]
    pub offset: u64,
}

impl ActivityFilters {
    /// The URL query for these filters (empty ones left out), e.g. for pagination links.
    pub fn query(&self, offset: u64) -> String {
        let mut pairs: Vec<(&str, String)> = [
            ("environment", &self.environment),
            ("category", &self.category),
            ("type", &self.kind),
            ("from", &self.from),
            ("to", &self.to),
            ("search", &self.search),
        ]
        .into_iter()
        .filter_map(|(name, value)| {
            value
                .clone()
                .filter(|value| !value.is_empty())
                .map(|value| (name, value))
        })
        .collect();
        if offset > 0 {
            pairs.push(("offset", offset.to_string()));
        }
        pairs
            .into_iter()
            .map(|(name, value)| format!("{name}={}", crate::app::encode_component(&value)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityView {
    pub entries: Vec<Listed<ActivityEntry>>,
    pub total: u64,
    pub offset: u64,
    pub environments: Vec<EnvironmentRecord>,
}

/// One page of the log, newest first, filtered as the URL says.
#[server(endpoint = "activity")]
pub async fn load_activity(filters: ActivityFilters) -> Result<ActivityView, ApiError> {
    use crate::server::{
        member::{respond, MemberRequest},
        upstream::paths,
    };
    respond(
        async {
            let request = MemberRequest::current()?;
            let environments = request.environments().await?;
            let mut query = vec![
                ("limit", ACTIVITY_PAGE_SIZE.to_string()),
                ("offset", filters.offset.to_string()),
            ];
            if let Some(slug) = filters
                .environment
                .as_deref()
                .filter(|slug| !slug.is_empty())
            {
                let environment = environments
                    .iter()
                    .find(|environment| environment.slug.as_str() == slug)
                    .ok_or_else(|| {
                        ApiError::NotFound(format!("This platform has no {slug} environment."))
                    })?;
                query.push(("environment_id", environment.id.clone()));
            }
            let (date_from, date_to) = date_range(&filters)?;
            query.extend(date_from.map(|from| ("date_from", from)));
            query.extend(date_to.map(|to| ("date_to", to)));
            for (name, value) in [
                ("category", &filters.category),
                ("type", &filters.kind),
                ("search", &filters.search),
            ] {
                if let Some(value) = value
                    .as_deref()
                    .map(str::trim)
                    .filter(|value| !value.is_empty())
                {
                    query.push((name, value.to_owned()));
                }
            }
            let page: super::Page<super::Lenient<ActivityEntry>> =
                request.get(paths::ACTIVITY, &query).await?;
            Ok(ActivityView {
                entries: page.items.into_iter().map(Listed::from).collect(),
                total: page.total,
                offset: page.offset,
                environments,
            })
        }
        .await,
    )
}

/// The filter's days as the API's inclusive date-time bounds: "from" is the start of its day and
/// "to" the end of its day (a bare date would mean its midnight, so "to today" would drop today).
/// Days are UTC, as the log shows them.
pub fn date_range(filters: &ActivityFilters) -> Result<(Option<String>, Option<String>), ApiError> {
    let day = |field: &str, value: &Option<String>| -> Result<Option<String>, ApiError> {
        let Some(value) = value
            .as_deref()
            .map(str::trim)
            .filter(|value| !value.is_empty())
        else {
            return Ok(None);
        };
        let valid = value.len() == 10
            && value.char_indices().all(|(index, c)| match index {
                4 | 7 => c == '-',
                _ => c.is_ascii_digit(),
            })
            && is_calendar_day(&value[0..4], &value[5..7], &value[8..10]);
        if valid {
            Ok(Some(value.to_owned()))
        } else {
            Err(ApiError::Validation(vec![super::FieldError {
                field: field.to_owned(),
                message: format!("\"{value}\" is not a date: use YYYY-MM-DD."),
            }]))
        }
    };
    let from = day("from", &filters.from)?;
    let to = day("to", &filters.to)?;
    Ok((
        from.map(|day| format!("{day}T00:00:00Z")),
        to.map(|day| format!("{day}T23:59:59.999999Z")),
    ))
}

/// Whether year, month and day (digits) name a day of the Gregorian calendar.
fn is_calendar_day(year: &str, month: &str, day: &str) -> bool {
    let (Ok(year), Ok(month), Ok(day)) = (
        year.parse::<u32>(),
        month.parse::<u32>(),
        day.parse::<u32>(),
    ) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_calendar_days_are_dates() {
        assert!(is_calendar_day("2028", "02", "29"));
        assert!(!is_calendar_day("2026", "02", "29"));
        assert!(!is_calendar_day("2026", "02", "31"));
        assert!(!is_calendar_day("2026", "13", "01"));
        assert!(is_calendar_day("2000", "02", "29"));
        assert!(!is_calendar_day("1900", "02", "29"));
    }

    #[test]
    fn the_to_day_is_included_whole() {
        let filters = ActivityFilters {
            from: Some("2026-03-01".into()),
            to: Some("2026-03-16".into()),
            ..ActivityFilters::default()
        };
        assert_eq!(
            date_range(&filters).unwrap(),
            (
                Some("2026-03-01T00:00:00Z".to_owned()),
                Some("2026-03-16T23:59:59.999999Z".to_owned())
            )
        );
        let bad = ActivityFilters {
            to: Some("16/03/2026".into()),
            ..ActivityFilters::default()
        };
        assert!(matches!(date_range(&bad), Err(ApiError::Validation(_))));
    }

    #[test]
    fn entries_without_actor_or_request_decode() {
        let entry: ActivityEntry = serde_json::from_value(serde_json::json!({
            "id": "a1", "type": "settlement.completed", "category": "settlement",
            "severity": "info", "description": "Settlement completed", "actor_type": "system",
            "created_at": "2026-03-16T10:00:00Z", "actor_id": null, "resource_type": null,
            "resource_id": null, "method": null, "path": null, "status_code": null,
            "ip_address": null, "user_agent": null, "duration_ms": null, "detail": null
        }))
        .unwrap();
        assert_eq!(entry.actor_id, None);
        assert_eq!(entry.status_code, None);
    }

    #[test]
    fn filters_round_trip_through_the_url() {
        let filters = ActivityFilters {
            environment: Some("staging".into()),
            search: Some("a b".into()),
            kind: Some(String::new()),
            ..ActivityFilters::default()
        };
        assert_eq!(filters.query(0), "environment=staging&search=a%20b");
        assert_eq!(
            filters.query(25),
            "environment=staging&search=a%20b&offset=25"
        );
    }
}
