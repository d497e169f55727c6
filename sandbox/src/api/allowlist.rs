//! `/v1/platforms/me/environments/{environment_id}/ip-allowlist`: the networks an environment's M2M
//! clients may call from. An empty list allows all; the first entry restricts at once.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::{get, patch},
    Extension, Json, Router,
};
use ipnet::IpNet;
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    error::{ApiError, ApiResult, FieldError},
    extract::{ApiJson, Pagination, UNPUBLISHED_MAX_LIMIT},
    Caller, Change,
};
use crate::{
    model::{AllowlistEntry, Page},
    permissions, SharedState,
};

pub const MAX_ENTRIES: usize = 500;
pub const MAX_DESCRIPTION: usize = 255;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route(
            "/v1/platforms/me/environments/{environment_id}/ip-allowlist",
            get(list).post(create),
        )
        .route(
            "/v1/platforms/me/environments/{environment_id}/ip-allowlist/{entry_id}",
            patch(update).delete(remove),
        )
}

/// A bare address becomes a /32 or /128; a prefix with host bits set is refused, naming the network meant.
pub fn parse_network(raw: &str) -> Result<IpNet, String> {
    let raw = raw.trim();
    if let Ok(network) = raw.parse::<IpNet>() {
        let canonical = network.trunc();
        if canonical != network {
            return Err(format!(
                "'{raw}' has host bits set; the network is {canonical}"
            ));
        }
        return Ok(network);
    }
    match raw.parse::<std::net::IpAddr>() {
        Ok(address) => Ok(IpNet::from(address)),
        Err(_) => Err(format!("'{raw}' is not an IP address or CIDR network")),
    }
}

fn environment_id(state: &SharedState, raw: &str) -> ApiResult<Uuid> {
    raw.parse::<Uuid>()
        .ok()
        .filter(|id| state.store.read(|data| data.environment(*id).is_some()))
        .ok_or_else(|| ApiError::NotFound("Environment not found".to_owned()))
}

fn description(raw: Option<String>, errors: &mut Vec<FieldError>) -> Option<String> {
    let description = raw
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty());
    if description
        .as_ref()
        .is_some_and(|text| text.chars().count() > MAX_DESCRIPTION)
    {
        errors.push(FieldError::body(
            "description",
            format!("description must be at most {MAX_DESCRIPTION} characters"),
        ));
    }
    description
}

async fn list(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    Path(raw_environment): Path<String>,
    pagination: Pagination<UNPUBLISHED_MAX_LIMIT>,
) -> ApiResult<Json<Page<AllowlistEntry>>> {
    caller.require(permissions::SECURITY_READ)?;
    let environment = environment_id(&state, &raw_environment)?;
    let page = state.store.read(|data| {
        let entries: Vec<&AllowlistEntry> = data
            .allowlist
            .iter()
            .filter(|entry| entry.environment_id == environment)
            .collect();
        pagination.page_of(&entries, |entry| (*entry).clone())
    });
    Ok(Json(page))
}

#[derive(Deserialize)]
struct EntryCreate {
    cidr: String,
    description: Option<String>,
}

async fn create(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    Path(raw_environment): Path<String>,
    ApiJson(body): ApiJson<EntryCreate>,
) -> ApiResult<(StatusCode, Json<AllowlistEntry>)> {
    caller.require(permissions::SECURITY_MANAGE)?;
    let environment_id = environment_id(&state, &raw_environment)?;
    let mut errors = Vec::new();
    let network = parse_network(&body.cidr)
        .map_err(|message| errors.push(FieldError::body("cidr", message)))
        .ok();
    let description = description(body.description, &mut errors);
    let Some(network) = network.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let entry = state.store.write(|data| {
        let existing: Vec<&AllowlistEntry> =
            data.allowlist.iter().filter(|entry| entry.environment_id == environment_id).collect();
        if existing.iter().any(|entry| entry.cidr == network) {
            return Err(ApiError::Conflict(format!("{network} is already on the allowlist")));
        }
        if existing.len() >= MAX_ENTRIES {
            return Err(ApiError::Conflict(format!("The allowlist already holds the maximum of {MAX_ENTRIES} entries")));
        }
        let first = existing.is_empty();
        let entry = AllowlistEntry {
            id: Uuid::new_v4(),
            environment_id,
            cidr: network,
            description,
            created_at: OffsetDateTime::now_utc(),
            created_by: caller.actor_id().to_owned(),
        };
        data.allowlist.push(entry.clone());
        let slug = data.environment(environment_id).map(|environment| environment.slug.clone()).unwrap_or_default();
        data.activity.push(caller.activity(Change {
            kind: "ip_allowlist.entry_created",
            description: format!("{} allowed {network} in {slug}", caller.actor_name()),
            resource_type: "ip_allowlist_entry",
            resource_id: entry.id.to_string(),
            environment_id: Some(environment_id),
            status_code: 201,
            // The first entry restricts the environment's M2M traffic at once.
            severity: first.then_some("warning"),
            detail: serde_json::json!({ "cidr": network, "description": entry.description, "first_entry": first }),
        }));
        Ok(entry)
    })?;
    Ok((StatusCode::CREATED, Json(entry)))
}

#[derive(Deserialize)]
struct EntryUpdate {
    description: Option<String>,
}

fn entry_id(raw: &str) -> ApiResult<Uuid> {
    raw.parse()
        .map_err(|_| ApiError::NotFound("Allowlist entry not found".to_owned()))
}

async fn update(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    Path((raw_environment, raw_entry)): Path<(String, String)>,
    ApiJson(body): ApiJson<EntryUpdate>,
) -> ApiResult<Json<AllowlistEntry>> {
    caller.require(permissions::SECURITY_MANAGE)?;
    let environment_id = environment_id(&state, &raw_environment)?;
    let id = entry_id(&raw_entry)?;
    let mut errors = Vec::new();
    let description = description(body.description, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let entry = state.store.write(|data| {
        let entry = data
            .allowlist
            .iter_mut()
            .find(|entry| entry.id == id && entry.environment_id == environment_id)
            .ok_or_else(|| ApiError::NotFound("Allowlist entry not found".to_owned()))?;
        entry.description = description;
        let entry = entry.clone();
        data.activity.push(caller.activity(Change {
            kind: "ip_allowlist.entry_updated",
            description: format!(
                "{} renamed the allowlist entry {}",
                caller.actor_name(),
                entry.cidr
            ),
            resource_type: "ip_allowlist_entry",
            resource_id: entry.id.to_string(),
            environment_id: Some(environment_id),
            status_code: 200,
            severity: None,
            detail: serde_json::json!({ "cidr": entry.cidr, "description": entry.description }),
        }));
        Ok(entry)
    })?;
    Ok(Json(entry))
}

async fn remove(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    Path((raw_environment, raw_entry)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.require(permissions::SECURITY_MANAGE)?;
    let environment_id = environment_id(&state, &raw_environment)?;
    let id = entry_id(&raw_entry)?;
    state.store.write(|data| {
        let index = data
            .allowlist
            .iter()
            .position(|entry| entry.id == id && entry.environment_id == environment_id)
            .ok_or_else(|| ApiError::NotFound("Allowlist entry not found".to_owned()))?;
        let entry = data.allowlist.remove(index);
        let last = !data
            .allowlist
            .iter()
            .any(|other| other.environment_id == environment_id);
        data.activity.push(caller.activity(Change {
            kind: "ip_allowlist.entry_deleted",
            description: format!(
                "{} removed {} from the allowlist",
                caller.actor_name(),
                entry.cidr
            ),
            resource_type: "ip_allowlist_entry",
            resource_id: entry.id.to_string(),
            environment_id: Some(environment_id),
            status_code: 204,
            // Removing the last entry opens the environment to every address.
            severity: last.then_some("warning"),
            detail: serde_json::json!({ "cidr": entry.cidr, "last_entry": last }),
        }));
        Ok(StatusCode::NO_CONTENT)
    })
}

#[cfg(test)]
mod tests {
    use super::parse_network;

    #[test]
    fn bare_addresses_become_host_networks() {
        assert_eq!(
            parse_network("192.0.2.7").unwrap().to_string(),
            "192.0.2.7/32"
        );
        assert_eq!(
            parse_network(" 2001:db8::1 ").unwrap().to_string(),
            "2001:db8::1/128"
        );
    }

    #[test]
    fn host_bits_name_the_canonical_network() {
        let error = parse_network("203.0.113.9/24").unwrap_err();
        assert!(error.contains("203.0.113.0/24"), "{error}");
        let error = parse_network("2001:db8::1/32").unwrap_err();
        assert!(error.contains("2001:db8::/32"), "{error}");
    }

    #[test]
    fn garbage_is_named() {
        assert!(parse_network("300.1.1.1")
            .unwrap_err()
            .contains("not an IP address"));
        assert!(parse_network("10.0.0.0/33").is_err());
        assert!(parse_network("").is_err());
    }
}
