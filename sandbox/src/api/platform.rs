//! `GET` and `PATCH /v1/platforms/me`.

use axum::{Extension, Json};
use serde::Deserialize;
use time::OffsetDateTime;

use super::{
    error::{ApiError, ApiResult},
    extract::ApiJson,
    validate, Caller, Change,
};
use crate::{model::Platform, permissions, SharedState};
use axum::extract::State;

pub async fn get(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Platform>> {
    caller.require(permissions::PLATFORM_READ)?;
    Ok(Json(state.store.read(|data| data.platform.clone())))
}

#[derive(Deserialize)]
pub struct PlatformUpdate {
    name: Option<String>,
    #[serde(default, deserialize_with = "validate::nullable")]
    logo_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::nullable")]
    support_email: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::nullable")]
    support_url: Option<Option<String>>,
}

pub async fn update(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    ApiJson(update): ApiJson<PlatformUpdate>,
) -> ApiResult<Json<Platform>> {
    caller.require(permissions::PLATFORM_MANAGE)?;
    let mut errors = Vec::new();
    let name = update
        .name
        .as_deref()
        .map(|name| validate::name("name", name, &mut errors));
    for (field, value) in [
        ("logo_url", &update.logo_url),
        ("support_url", &update.support_url),
    ] {
        if let Some(Some(url)) = value {
            validate::url(field, url, &mut errors);
        }
    }
    let support_email = match &update.support_email {
        Some(Some(email)) => match validate::email("support_email", email) {
            Ok(email) => Some(Some(email)),
            Err(error) => {
                errors.push(error);
                None
            }
        },
        other => other.clone(),
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let platform = state.store.write(|data| {
        let platform = &mut data.platform;
        if let Some(name) = name {
            platform.name = name;
        }
        if let Some(logo_url) = update.logo_url {
            platform.logo_url = logo_url;
        }
        if let Some(support_email) = support_email {
            platform.support_email = support_email;
        }
        if let Some(support_url) = update.support_url {
            platform.support_url = support_url;
        }
        platform.updated_at = OffsetDateTime::now_utc();
        let platform = platform.clone();
        data.activity.push(caller.activity(Change {
            kind: "platform.updated",
            description: format!("{} updated the platform settings", caller.actor_name()),
            resource_type: "platform",
            resource_id: platform.id.to_string(),
            environment_id: None,
            status_code: 200,
            severity: None,
            detail: serde_json::json!({}),
        }));
        platform
    });
    Ok(Json(platform))
}
