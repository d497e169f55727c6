//! The platform's activity log: every change, who made it, where and when.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{ApiError, EnvironmentRecord, FieldError, Listed};
use crate::domain::{EnvironmentSlug, Timestamp};

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
    pub created_at: Timestamp,
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

/// An entry's type in words: `ip_allowlist.entry_created` reads "IP allowlist: entry created".
/// Any type reads this way, known or not; the raw type stays in the entry's detail.
pub fn activity_in_words(kind: &str) -> String {
    let words = |part: &str| part.replace('_', " ");
    let (subject, action) = kind.split_once('.').unwrap_or((kind, ""));
    let subject = match subject {
        "ip_allowlist" => "IP allowlist".to_owned(),
        "api" => "API".to_owned(),
        other => {
            let mut chars = words(other).chars().collect::<Vec<_>>();
            if let Some(first) = chars.first_mut() {
                *first = first.to_ascii_uppercase();
            }
            chars.into_iter().collect()
        }
    };
    match action {
        "" => subject,
        action => format!("{subject}: {}", words(action)),
    }
}

/// The filters of the activity page, as they stand in its URL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityFilters {
    #[serde(default)]
    pub environment: Option<EnvironmentSlug>,
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
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let offset = if offset > 0 {
            offset.to_string()
        } else {
            String::new()
        };
        crate::domain::query_string([
            (
                "environment",
                self.environment
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ),
            ("category", text(&self.category)),
            ("type", text(&self.kind)),
            ("from", text(&self.from)),
            ("to", text(&self.to)),
            ("search", text(&self.search)),
            ("offset", offset),
        ])
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityView {
    pub entries: Vec<Listed<ActivityEntry>>,
    pub total: u64,
    pub offset: u64,
    /// For the environment filter alone: the log is read without them when no environment is
    /// chosen, so a failure here is said beside the filter and the log still shows.
    pub environments: Result<Vec<EnvironmentRecord>, ApiError>,
    /// The filters of the address that cannot be applied (a day that is not a date, an
    /// environment the platform does not have), each with why. When there are any, the log is
    /// not read and the page shows the filters to correct, not an error in their place.
    #[serde(default)]
    pub refused_filters: Vec<FieldError>,
}

/// One page of the log, newest first, filtered as the URL says.
#[server(endpoint = "activity")]
pub async fn load_activity(filters: ActivityFilters) -> Result<ActivityView, ApiError> {
    ssr::respond(ssr::load_activity(filters).await)
}

/// Which end of the log's date range a day filter sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DayBound {
    From,
    To,
}

impl DayBound {
    /// The filter's name in the page's address (and in its refusal).
    fn field(self) -> &'static str {
        match self {
            Self::From => "from",
            Self::To => "to",
        }
    }

    /// The filter's day as the API's inclusive date-time bound, with its query name: "from" is
    /// the start of its day and "to" the end of its day (a bare date would mean its midnight, so
    /// "to today" would drop today). Days are UTC, as the log shows them. None when not given.
    pub fn query(
        self,
        value: &Option<String>,
    ) -> Result<Option<(&'static str, String)>, FieldError> {
        let Some(value) = value
            .as_deref()
            .map(str::trim)
            .filter(|value| !value.is_empty())
        else {
            return Ok(None);
        };
        let Some(day) = crate::domain::parse_day(value) else {
            return Err(FieldError {
                field: self.field().to_owned(),
                message: format!("\"{value}\" is not a date: use YYYY-MM-DD."),
            });
        };
        Ok(Some(match self {
            Self::From => ("date_from", format!("{day}T00:00:00Z")),
            Self::To => ("date_to", format!("{day}T23:59:59.999999Z")),
        }))
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::server::member::respond;

    use super::*;
    use crate::server::{member::MemberRequest, upstream::paths};

    pub async fn load_activity(filters: ActivityFilters) -> Result<ActivityView, ApiError> {
        let request = MemberRequest::current()?;
        let environments = match request.environments().await {
            // A session that ended (or that cannot be renewed) is said as such, not as a filter
            // that cannot be applied: a filtered page would never read the log, which says it.
            Err(error @ (ApiError::SignedOut | ApiError::ProviderUnavailable)) => {
                return Err(error)
            }
            listed => listed,
        };
        let mut query = vec![
            ("limit", ACTIVITY_PAGE_SIZE.to_string()),
            ("offset", filters.offset.to_string()),
        ];
        let mut refused_filters = Vec::new();
        if let Some(slug) = &filters.environment {
            let chosen = environments.as_ref().map(|environments| {
                environments
                    .iter()
                    .find(|environment| environment.slug == *slug)
            });
            match chosen {
                Ok(Some(environment)) => query.push(("environment_id", environment.id.clone())),
                Ok(None) => refused_filters.push(FieldError {
                    field: "environment".to_owned(),
                    message: format!("This platform has no {slug} environment."),
                }),
                // The filter needs the environment's id, which only the list gives.
                Err(error) => refused_filters.push(FieldError {
                    field: "environment".to_owned(),
                    message: format!(
                        "The environments could not be read, so the log cannot be narrowed to \
                         {slug}: {}.",
                        error.first_sentence()
                    ),
                }),
            }
        }
        for (bound, day) in [(DayBound::From, &filters.from), (DayBound::To, &filters.to)] {
            match bound.query(day) {
                Ok(Some(day)) => query.push(day),
                Ok(None) => {}
                Err(refused) => refused_filters.push(refused),
            }
        }
        // A filter dropped would widen the log without saying so; one sent would be refused.
        if !refused_filters.is_empty() {
            return Ok(ActivityView {
                entries: Vec::new(),
                total: 0,
                offset: 0,
                environments,
                refused_filters,
            });
        }
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
        let page: crate::api::Page<crate::api::Lenient<ActivityEntry>> =
            request.get(paths::ACTIVITY, &query).await?;
        Ok(ActivityView {
            entries: page.items.into_iter().map(Listed::from).collect(),
            total: page.total,
            offset: page.offset,
            environments,
            refused_filters: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_types_read_as_words() {
        assert_eq!(
            activity_in_words("ip_allowlist.entry_created"),
            "IP allowlist: entry created"
        );
        assert_eq!(
            activity_in_words("member.roles_updated"),
            "Member: roles updated"
        );
        assert_eq!(activity_in_words("custom"), "Custom");
        assert_eq!(activity_in_words(""), "");
    }

    #[test]
    fn the_to_day_is_included_whole() {
        let day = |value: &str| Some(value.to_owned());
        assert_eq!(
            DayBound::From.query(&day("2026-03-01")),
            Ok(Some(("date_from", "2026-03-01T00:00:00Z".to_owned())))
        );
        assert_eq!(
            DayBound::To.query(&day(" 2026-03-16 ")),
            Ok(Some(("date_to", "2026-03-16T23:59:59.999999Z".to_owned())))
        );
        assert_eq!(DayBound::To.query(&day("")), Ok(None));
        let refused = DayBound::To.query(&day("16/03/2026")).unwrap_err();
        assert_eq!(refused.field, "to");
        assert!(refused.message.contains("\"16/03/2026\""), "{refused:?}");
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
            environment: EnvironmentSlug::parse("staging").ok(),
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
