//! `/v1/platforms/me/environments`: list, get, create, update, deactivate (DELETE) and reactivate (PATCH).

use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::get,
    Extension, Json, Router,
};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    error::{ApiError, ApiResult, FieldError},
    extract::{ApiJson, Pagination, ENVIRONMENTS_MAX_LIMIT},
    validate, Caller, Change,
};
use crate::{
    model::{Environment, M2mClient, Page},
    permissions, seed, SharedState,
};

/// What an environment created without `default_timeout_seconds` gets.
const DEFAULT_TIMEOUT_SECONDS: i64 = 3600;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/v1/platforms/me/environments", get(list).post(create))
        .route(
            "/v1/platforms/me/environments/{environment_id}",
            get(show).patch(update).delete(deactivate),
        )
}

async fn list(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    pagination: Pagination<ENVIRONMENTS_MAX_LIMIT>,
) -> ApiResult<Json<Page<Environment>>> {
    caller.require(permissions::PLATFORM_READ)?;
    let environments: Vec<Environment> = state
        .store
        .read(|data| data.environments.iter().map(Environment::public).collect());
    Ok(Json(pagination.page(&environments)))
}

fn parse_id(raw: &str) -> ApiResult<Uuid> {
    raw.parse()
        .map_err(|_| ApiError::NotFound("Environment not found".to_owned()))
}

async fn show(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    Path(environment_id): Path<String>,
) -> ApiResult<Json<Environment>> {
    caller.require(permissions::PLATFORM_READ)?;
    let id = parse_id(&environment_id)?;
    state
        .store
        .read(|data| data.environment(id).map(Environment::public))
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("Environment not found".to_owned()))
}

#[derive(Deserialize)]
struct EnvironmentCreate {
    name: String,
    slug: String,
    auth0_client_id: String,
    webhook_url: Option<String>,
    webhook_secret: Option<String>,
    /// Omitted means 3600; an explicit `null` is refused (the field is an integer, not nullable).
    #[serde(default, deserialize_with = "validate::nullable")]
    default_timeout_seconds: Option<Option<i64>>,
}

async fn create(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<EnvironmentCreate>,
) -> ApiResult<(StatusCode, Json<Environment>)> {
    caller.require(permissions::ENVIRONMENTS_MANAGE)?;
    let mut errors = Vec::new();
    let name = validate::name("name", &body.name, &mut errors);
    validate::slug(&body.slug, &mut errors);
    let client_id = body.auth0_client_id.trim().to_owned();
    if client_id.is_empty() || client_id.len() > 128 {
        errors.push(FieldError::body(
            "auth0_client_id",
            "auth0_client_id must be 1 to 128 characters",
        ));
    }
    if let Some(url) = &body.webhook_url {
        validate::url("webhook_url", url, &mut errors);
    }
    let timeout = validate::integer_not_null(
        "default_timeout_seconds",
        body.default_timeout_seconds,
        &mut errors,
    )
    .unwrap_or(DEFAULT_TIMEOUT_SECONDS);
    validate::range("default_timeout_seconds", timeout, 60, 604_800, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let environment = state.store.write(|data| {
        if data.environment_by_slug(&body.slug).is_some() {
            return Err(ApiError::Conflict(format!(
                "An environment with slug '{}' already exists",
                body.slug
            )));
        }
        if data.environment_by_client(&client_id).is_some() {
            return Err(ApiError::Conflict(
                "That M2M client is already bound to another environment".to_owned(),
            ));
        }
        let now = OffsetDateTime::now_utc();
        let environment = Environment {
            id: Uuid::new_v4(),
            platform_id: data.platform.id,
            name,
            slug: body.slug.clone(),
            auth0_client_id: client_id.clone(),
            webhook_url: body.webhook_url.clone(),
            webhook_secret: body.webhook_secret.clone(),
            api_version: Some(super::DEFAULT_API_VERSION.to_owned()),
            default_timeout_seconds: timeout,
            is_active: true,
            rate_limit_rpm: None,
            created_at: now,
            updated_at: now,
        };
        // In Auth0 the M2M application exists before the environment names it; the sandbox registers it
        // here so the new environment can be called at once (secret: `sandbox-m2m-secret-<slug>`).
        if !data
            .m2m_clients
            .iter()
            .any(|client| client.client_id == client_id)
        {
            data.m2m_clients.push(M2mClient {
                client_id: client_id.clone(),
                client_secret: seed::m2m_client_secret(&environment.slug),
                scopes: permissions::M2M_SCOPES
                    .iter()
                    .map(|scope| scope.to_string())
                    .collect(),
            });
        }
        data.environments.push(environment.clone());
        data.activity.push(caller.activity(Change {
            kind: "environment.created",
            description: format!(
                "{} created the environment {}",
                caller.actor_name(),
                environment.slug
            ),
            resource_type: "environment",
            resource_id: environment.id.to_string(),
            environment_id: Some(environment.id),
            status_code: 201,
            severity: None,
            detail: serde_json::json!({ "slug": environment.slug, "name": environment.name }),
        }));
        Ok(environment.public())
    })?;
    Ok((StatusCode::CREATED, Json(environment)))
}

#[derive(Deserialize)]
struct EnvironmentUpdate {
    name: Option<String>,
    #[serde(default, deserialize_with = "validate::nullable")]
    webhook_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::nullable")]
    webhook_secret: Option<Option<String>>,
    /// Omitted leaves it unchanged; an explicit `null` is refused.
    #[serde(default, deserialize_with = "validate::nullable")]
    default_timeout_seconds: Option<Option<i64>>,
    is_active: Option<bool>,
    #[serde(default, deserialize_with = "validate::nullable")]
    rate_limit_rpm: Option<Option<i64>>,
    slug: Option<serde_json::Value>,
    auth0_client_id: Option<serde_json::Value>,
}

async fn update(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    Path(environment_id): Path<String>,
    ApiJson(body): ApiJson<EnvironmentUpdate>,
) -> ApiResult<Json<Environment>> {
    caller.require(permissions::ENVIRONMENTS_MANAGE)?;
    let id = parse_id(&environment_id)?;
    let mut errors = Vec::new();
    // The two fields never change [doc]; how the API answers an attempt is unpublished. A
    // change is refused [design: FastAPI would ignore a field its update model lacks, and a
    // silent 200 would hide a client's bug]; the value it already has is accepted, so that a
    // client sending the record back as it read it is not refused for it. An environment that
    // does not exist is the 404 below.
    let stored = state.store.read(|data| {
        data.environments
            .iter()
            .find(|environment| environment.id == id)
            .map(|environment| {
                (
                    environment.slug.clone(),
                    environment.auth0_client_id.clone(),
                )
            })
    });
    let changes = |sent: &Option<serde_json::Value>, stored: Option<&String>| {
        sent.as_ref()
            .is_some_and(|sent| stored.is_some_and(|stored| sent.as_str() != Some(stored)))
    };
    if changes(&body.slug, stored.as_ref().map(|(slug, _)| slug)) {
        errors.push(FieldError::body("slug", "slug cannot be changed"));
    }
    if changes(
        &body.auth0_client_id,
        stored.as_ref().map(|(_, client_id)| client_id),
    ) {
        errors.push(FieldError::body(
            "auth0_client_id",
            "auth0_client_id cannot be changed",
        ));
    }
    let name = body
        .name
        .as_deref()
        .map(|name| validate::name("name", name, &mut errors));
    if let Some(Some(url)) = &body.webhook_url {
        validate::url("webhook_url", url, &mut errors);
    }
    let timeout = validate::integer_not_null(
        "default_timeout_seconds",
        body.default_timeout_seconds,
        &mut errors,
    );
    if let Some(timeout) = timeout {
        validate::range("default_timeout_seconds", timeout, 60, 604_800, &mut errors);
    }
    if let Some(Some(rpm)) = body.rate_limit_rpm {
        validate::range("rate_limit_rpm", rpm, 1, 100_000, &mut errors);
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let environment = change_environment(&state, &caller, id, |environment| {
        if let Some(name) = name {
            environment.name = name;
        }
        if let Some(url) = body.webhook_url {
            environment.webhook_url = url;
        }
        if let Some(secret) = body.webhook_secret {
            environment.webhook_secret = secret;
        }
        if let Some(timeout) = timeout {
            environment.default_timeout_seconds = timeout;
        }
        if let Some(rpm) = body.rate_limit_rpm {
            environment.rate_limit_rpm = rpm.map(|rpm| rpm as u32);
        }
        if let Some(active) = body.is_active {
            environment.is_active = active;
        }
    })?;
    Ok(Json(environment))
}

/// Deactivation keeps the data and blocks the environment's M2M credentials.
async fn deactivate(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    Path(environment_id): Path<String>,
) -> ApiResult<Json<Environment>> {
    caller.require(permissions::ENVIRONMENTS_MANAGE)?;
    let id = parse_id(&environment_id)?;
    let current = state
        .store
        .read(|data| data.environment(id).map(Environment::public));
    let environment = match current {
        None => return Err(ApiError::NotFound("Environment not found".to_owned())),
        // Already inactive: nothing changes, so nothing is logged.
        Some(environment) if !environment.is_active => environment,
        Some(_) => change_environment(&state, &caller, id, |environment| {
            environment.is_active = false
        })?,
    };
    Ok(Json(environment))
}

/// Applies `apply` to one environment and logs the change; the activity type says whether the
/// change (de)activated it, since that is what blocks or unblocks its M2M credentials.
fn change_environment(
    state: &SharedState,
    caller: &Caller,
    id: Uuid,
    apply: impl FnOnce(&mut Environment),
) -> ApiResult<Environment> {
    state.store.write(|data| {
        let environment = data
            .environments
            .iter_mut()
            .find(|environment| environment.id == id)
            .ok_or_else(|| ApiError::NotFound("Environment not found".to_owned()))?;
        let was_active = environment.is_active;
        apply(environment);
        environment.updated_at = OffsetDateTime::now_utc();
        let environment = environment.clone();
        let (kind, verb) = match (was_active, environment.is_active) {
            (false, true) => ("environment.reactivated", "reactivated"),
            (true, false) => ("environment.deactivated", "deactivated"),
            _ => ("environment.updated", "updated"),
        };
        data.activity.push(caller.activity(Change {
            kind,
            description: format!(
                "{} {verb} the environment {}",
                caller.actor_name(),
                environment.slug
            ),
            resource_type: "environment",
            resource_id: environment.id.to_string(),
            environment_id: Some(environment.id),
            status_code: 200,
            severity: (kind != "environment.updated").then_some("warning"),
            detail: serde_json::json!({ "slug": environment.slug }),
        }));
        Ok(environment.public())
    })
}
