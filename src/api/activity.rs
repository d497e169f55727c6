//! The platform's activity log: every change, who made it, where and when.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{ApiError, EnvironmentRecord};

/// Entries per page.
pub const ACTIVITY_PAGE_SIZE: u64 = 25;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityEntry {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub category: String,
    pub severity: String,
    pub description: String,
    pub actor_type: String,
    pub actor_id: String,
    pub resource_type: String,
    pub resource_id: String,
    #[serde(default)]
    pub environment_id: Option<String>,
    pub method: String,
    pub path: String,
    pub status_code: u16,
    #[serde(default)]
    pub ip_address: Option<String>,
    pub created_at: String,
    #[serde(default)]
    pub detail: serde_json::Value,
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
    pub entries: Vec<ActivityEntry>,
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
            for (name, value) in [
                ("category", &filters.category),
                ("type", &filters.kind),
                ("date_from", &filters.from),
                ("date_to", &filters.to),
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
            let page: super::Page<ActivityEntry> = request.get(paths::ACTIVITY, &query).await?;
            Ok(ActivityView {
                entries: page.items,
                total: page.total,
                offset: page.offset,
                environments,
            })
        }
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
