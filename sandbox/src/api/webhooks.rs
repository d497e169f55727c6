//! `/v1/platforms/me/webhooks`: the platform's webhook endpoints, their signing secrets, test
//! deliveries and delivery log (contract section 3, paths and shapes from the Python SDK).
//!
//! Deliveries are real: the event is POSTed to the endpoint's URL with `X-Keystone-Signature`,
//! the hex HMAC-SHA256 of the raw body under the endpoint's secret [doc], and the outcome is
//! recorded. After a rotation the previous secret stays valid for 24 hours [doc]; how a receiver
//! still holding it verifies is unpublished: the sandbox adds `X-Keystone-Signature-Previous`,
//! the same digest under the previous secret, while the window lasts [design].

use std::time::{Duration, Instant};

use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
    Extension, Json, Router,
};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    error::{ApiError, ApiResult, FieldError},
    extract::{ApiJson, Pagination, ACTIVITY_MAX_LIMIT},
    validate, Caller, Change,
};
use crate::{
    model::{Page, StoredWebhook, WebhookDelivery, WebhookEndpoint},
    permissions, SharedState,
};

pub const SIGNATURE_HEADER: &str = "x-keystone-signature";
pub const PREVIOUS_SIGNATURE_HEADER: &str = "x-keystone-signature-previous";
/// The event a test delivery carries [design].
pub const TEST_EVENT: &str = "webhook.test";
/// How long the previous secret keeps signing after a rotation [doc].
pub const ROTATION_WINDOW: time::Duration = time::Duration::hours(24);
/// Webhook lists are bounded at 200, like the activity log [doc, Python SDK].
const WEBHOOKS_MAX_LIMIT: usize = ACTIVITY_MAX_LIMIT;
const MAX_DESCRIPTION: usize = 255;
/// How long a delivery waits for the receiver [design].
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/v1/platforms/me/webhooks", get(list).post(create))
        .route(
            "/v1/platforms/me/webhooks/{id}",
            get(read).patch(update).delete(remove),
        )
        .route("/v1/platforms/me/webhooks/{id}/test", post(test))
        .route(
            "/v1/platforms/me/webhooks/{id}/rotate-secret",
            post(rotate_secret),
        )
        .route("/v1/platforms/me/webhooks/{id}/deliveries", get(deliveries))
}

/// `https`, as the contract says; plain `http` only to a loopback address, so that a developer's
/// (or a test's) local listener can receive [design: the sandbox's one relaxation].
fn check_url(url: &str, errors: &mut Vec<FieldError>) -> String {
    let url = url.trim().to_owned();
    let before = errors.len();
    validate::url("url", &url, errors);
    if errors.len() == before && !url.starts_with("https://") && !is_loopback(&url) {
        errors.push(FieldError::body("url", "url must use https"));
    }
    url
}

fn is_loopback(url: &str) -> bool {
    url.parse::<axum::http::Uri>()
        .ok()
        .and_then(|uri| uri.host().map(str::to_owned))
        .is_some_and(|host| {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|address| address.is_loopback())
        })
}

/// `*`, or a dotted event name such as `settlement.completed`. The full list of names is
/// published on a page the sandbox cannot read, so any well-formed name is accepted.
fn check_events(events: Vec<String>, errors: &mut Vec<FieldError>) -> Vec<String> {
    if events.is_empty() {
        errors.push(FieldError::body("events", "events must not be empty"));
    }
    for event in &events {
        let well_formed = event == "*"
            || event.split('.').count() >= 2
                && event.split('.').all(|part| {
                    part == "*"
                        || !part.is_empty()
                            && part
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
                });
        if !well_formed {
            errors.push(FieldError::body(
                "events",
                format!("'{event}' is not an event name"),
            ));
        }
    }
    events
}

fn check_description(raw: Option<String>, errors: &mut Vec<FieldError>) -> Option<String> {
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

fn new_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

/// The hex HMAC-SHA256 of `body` under `secret`, as the SDK's `verify_signature` computes it.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn endpoint_id(raw: &str) -> ApiResult<Uuid> {
    raw.parse()
        .map_err(|_| ApiError::NotFound("Webhook endpoint not found".to_owned()))
}

fn find(state: &SharedState, id: Uuid) -> ApiResult<StoredWebhook> {
    state
        .store
        .read(|data| {
            data.webhooks
                .iter()
                .find(|webhook| webhook.endpoint.id == id)
                .cloned()
        })
        .ok_or_else(|| ApiError::NotFound("Webhook endpoint not found".to_owned()))
}

async fn list(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    pagination: Pagination<WEBHOOKS_MAX_LIMIT>,
) -> ApiResult<Json<Page<WebhookEndpoint>>> {
    caller.require(permissions::WEBHOOKS_MANAGE)?;
    let endpoints: Vec<WebhookEndpoint> = state.store.read(|data| {
        data.webhooks
            .iter()
            .map(|webhook| webhook.endpoint.clone())
            .collect()
    });
    Ok(Json(pagination.page(&endpoints)))
}

#[derive(Deserialize)]
struct EndpointCreate {
    url: String,
    description: Option<String>,
    secret: Option<String>,
    #[serde(default = "every_event")]
    events: Vec<String>,
}

fn every_event() -> Vec<String> {
    vec!["*".to_owned()]
}

#[derive(Serialize)]
struct CreatedEndpoint {
    #[serde(flatten)]
    endpoint: WebhookEndpoint,
    /// Returned this once only.
    secret: String,
}

async fn create(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<EndpointCreate>,
) -> ApiResult<(StatusCode, Json<CreatedEndpoint>)> {
    caller.require(permissions::WEBHOOKS_MANAGE)?;
    let mut errors = Vec::new();
    let url = check_url(&body.url, &mut errors);
    let description = check_description(body.description, &mut errors);
    let events = check_events(body.events, &mut errors);
    let secret = match body.secret.map(|secret| secret.trim().to_owned()) {
        Some(secret) if secret.is_empty() => {
            errors.push(FieldError::body("secret", "secret must not be empty"));
            String::new()
        }
        Some(secret) => secret,
        None => new_secret(),
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = OffsetDateTime::now_utc();
    let endpoint = WebhookEndpoint {
        id: Uuid::new_v4(),
        url,
        description,
        events,
        is_active: true,
        created_at: now,
        updated_at: now,
    };
    state.store.write(|data| {
        data.webhooks.push(StoredWebhook {
            endpoint: endpoint.clone(),
            secret: secret.clone(),
            previous_secret: None,
            previous_secret_valid_until: None,
        });
        data.activity.push(caller.activity(Change {
            kind: "webhook.endpoint_created",
            description: format!("{} added the webhook {}", caller.actor_name(), endpoint.url),
            resource_type: "webhook_endpoint",
            resource_id: endpoint.id.to_string(),
            environment_id: None,
            status_code: 201,
            severity: None,
            detail: serde_json::json!({ "url": endpoint.url, "events": endpoint.events }),
        }));
    });
    Ok((
        StatusCode::CREATED,
        Json(CreatedEndpoint { endpoint, secret }),
    ))
}

async fn read(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    Path(raw): Path<String>,
) -> ApiResult<Json<WebhookEndpoint>> {
    caller.require(permissions::WEBHOOKS_MANAGE)?;
    Ok(Json(find(&state, endpoint_id(&raw)?)?.endpoint))
}

#[derive(Deserialize)]
struct EndpointUpdate {
    url: Option<String>,
    #[serde(default, deserialize_with = "validate::nullable")]
    description: Option<Option<String>>,
    events: Option<Vec<String>>,
    is_active: Option<bool>,
}

async fn update(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<EndpointUpdate>,
) -> ApiResult<Json<WebhookEndpoint>> {
    caller.require(permissions::WEBHOOKS_MANAGE)?;
    let id = endpoint_id(&raw)?;
    let mut errors = Vec::new();
    let url = body.url.map(|url| check_url(&url, &mut errors));
    let description = body
        .description
        .map(|description| check_description(description, &mut errors));
    let events = body.events.map(|events| check_events(events, &mut errors));
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let endpoint = state.store.write(|data| {
        let webhook = data
            .webhooks
            .iter_mut()
            .find(|webhook| webhook.endpoint.id == id)
            .ok_or_else(|| ApiError::NotFound("Webhook endpoint not found".to_owned()))?;
        let endpoint = &mut webhook.endpoint;
        if let Some(url) = url {
            endpoint.url = url;
        }
        if let Some(description) = description {
            endpoint.description = description;
        }
        if let Some(events) = events {
            endpoint.events = events;
        }
        if let Some(is_active) = body.is_active {
            endpoint.is_active = is_active;
        }
        endpoint.updated_at = OffsetDateTime::now_utc();
        let endpoint = endpoint.clone();
        data.activity.push(caller.activity(Change {
            kind: "webhook.endpoint_updated",
            description: format!(
                "{} changed the webhook {}",
                caller.actor_name(),
                endpoint.url
            ),
            resource_type: "webhook_endpoint",
            resource_id: endpoint.id.to_string(),
            environment_id: None,
            status_code: 200,
            severity: None,
            detail: serde_json::json!({ "url": endpoint.url, "events": endpoint.events, "is_active": endpoint.is_active }),
        }));
        Ok(endpoint)
    })?;
    Ok(Json(endpoint))
}

async fn remove(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    Path(raw): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(permissions::WEBHOOKS_MANAGE)?;
    let id = endpoint_id(&raw)?;
    state.store.write(|data| {
        let index = data
            .webhooks
            .iter()
            .position(|webhook| webhook.endpoint.id == id)
            .ok_or_else(|| ApiError::NotFound("Webhook endpoint not found".to_owned()))?;
        let removed = data.webhooks.remove(index);
        data.webhook_deliveries
            .retain(|delivery| delivery.endpoint_id != id);
        data.activity.push(caller.activity(Change {
            kind: "webhook.endpoint_deleted",
            description: format!(
                "{} removed the webhook {}",
                caller.actor_name(),
                removed.endpoint.url
            ),
            resource_type: "webhook_endpoint",
            resource_id: id.to_string(),
            environment_id: None,
            status_code: 204,
            severity: Some("warning"),
            detail: serde_json::json!({ "url": removed.endpoint.url }),
        }));
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
struct TestResult {
    success: bool,
    status_code: Option<u16>,
    duration_ms: Option<u64>,
    error: Option<String>,
}

async fn test(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    Path(raw): Path<String>,
) -> ApiResult<Json<TestResult>> {
    caller.require(permissions::WEBHOOKS_MANAGE)?;
    let webhook = find(&state, endpoint_id(&raw)?)?;
    let data = serde_json::json!({
        "endpoint_id": webhook.endpoint.id,
        "message": "A test event from KeyStone.",
    });
    let delivery = deliver(&state, &webhook, TEST_EVENT, data).await;
    Ok(Json(TestResult {
        success: delivery.success,
        status_code: delivery.response_status,
        duration_ms: delivery.duration_ms,
        error: delivery.error,
    }))
}

#[derive(Serialize)]
struct Rotation {
    new_secret: String,
    #[serde(with = "time::serde::rfc3339")]
    previous_secret_valid_until: OffsetDateTime,
}

async fn rotate_secret(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    Path(raw): Path<String>,
) -> ApiResult<Json<Rotation>> {
    caller.require(permissions::WEBHOOKS_MANAGE)?;
    let id = endpoint_id(&raw)?;
    let new_secret = new_secret();
    let valid_until = OffsetDateTime::now_utc() + ROTATION_WINDOW;
    state.store.write(|data| {
        let webhook = data
            .webhooks
            .iter_mut()
            .find(|webhook| webhook.endpoint.id == id)
            .ok_or_else(|| ApiError::NotFound("Webhook endpoint not found".to_owned()))?;
        webhook.previous_secret = Some(std::mem::replace(&mut webhook.secret, new_secret.clone()));
        webhook.previous_secret_valid_until = Some(valid_until);
        webhook.endpoint.updated_at = OffsetDateTime::now_utc();
        let url = webhook.endpoint.url.clone();
        data.activity.push(caller.activity(Change {
            kind: "webhook.secret_rotated",
            description: format!(
                "{} rotated the secret of the webhook {url}",
                caller.actor_name()
            ),
            resource_type: "webhook_endpoint",
            resource_id: id.to_string(),
            environment_id: None,
            status_code: 200,
            severity: None,
            detail: serde_json::json!({ "url": url }),
        }));
        Ok::<_, ApiError>(())
    })?;
    Ok(Json(Rotation {
        new_secret,
        previous_secret_valid_until: valid_until,
    }))
}

async fn deliveries(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    Path(raw): Path<String>,
    pagination: Pagination<WEBHOOKS_MAX_LIMIT>,
) -> ApiResult<Json<Page<WebhookDelivery>>> {
    caller.require(permissions::WEBHOOKS_MANAGE)?;
    let id = find(&state, endpoint_id(&raw)?)?.endpoint.id;
    let deliveries: Vec<WebhookDelivery> = state.store.read(|data| {
        data.webhook_deliveries
            .iter()
            .rev()
            .filter(|delivery| delivery.endpoint_id == id)
            .cloned()
            .collect()
    });
    Ok(Json(pagination.page(&deliveries)))
}

/// Sends `event` to every active endpoint subscribed to it (`*`, the exact name, or `prefix.*`);
/// returns the deliveries made. The sandbox's control API uses it to emit events.
pub async fn emit(
    state: &SharedState,
    event: &str,
    data: serde_json::Value,
) -> Vec<WebhookDelivery> {
    let subscribed: Vec<StoredWebhook> = state.store.read(|stored| {
        stored
            .webhooks
            .iter()
            .filter(|webhook| {
                webhook.endpoint.is_active && subscribes(&webhook.endpoint.events, event)
            })
            .cloned()
            .collect()
    });
    let mut made = Vec::new();
    for webhook in subscribed {
        made.push(deliver(state, &webhook, event, data.clone()).await);
    }
    made
}

fn subscribes(events: &[String], event: &str) -> bool {
    events.iter().any(|subscribed| {
        subscribed == "*"
            || subscribed == event
            || subscribed.strip_suffix(".*").is_some_and(|prefix| {
                event
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('.'))
            })
    })
}

/// One client for every delivery. A redirect is not followed: the receiver answered, and its
/// answer is the outcome (a 3xx is not a delivery, and following it could carry the signed body
/// to another host, or from https to http).
fn delivery_client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the delivery client builds")
    })
}

/// POSTs one event to the endpoint, signed, and records the outcome.
async fn deliver(
    state: &SharedState,
    webhook: &StoredWebhook,
    event: &str,
    data: serde_json::Value,
) -> WebhookDelivery {
    let id = Uuid::new_v4();
    let created_at = OffsetDateTime::now_utc();
    let body = serde_json::to_vec(&serde_json::json!({
        "id": id,
        "event": event,
        "created_at": created_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "data": data,
    }))
    .expect("a JSON value serialises");
    let mut request = delivery_client()
        .post(&webhook.endpoint.url)
        .timeout(DELIVERY_TIMEOUT)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("x-keystone-event", event)
        .header("x-keystone-delivery", id.to_string())
        .header(SIGNATURE_HEADER, signature(&webhook.secret, &body));
    if let (Some(previous), Some(until)) = (
        &webhook.previous_secret,
        webhook.previous_secret_valid_until,
    ) {
        if created_at < until {
            request = request.header(PREVIOUS_SIGNATURE_HEADER, signature(previous, &body));
        }
    }
    let started = Instant::now();
    let outcome = request.body(body).send().await;
    let duration_ms = Some(started.elapsed().as_millis() as u64);
    let (response_status, success, error) = match outcome {
        Ok(reply) => {
            let status = reply.status();
            let error = (!status.is_success()).then(|| format!("The endpoint answered {status}"));
            (Some(status.as_u16()), status.is_success(), error)
        }
        Err(error) if error.is_timeout() => (
            None,
            false,
            Some(format!(
                "No answer within {} seconds",
                DELIVERY_TIMEOUT.as_secs()
            )),
        ),
        Err(error) if error.is_connect() => (
            None,
            false,
            Some("Could not connect to the endpoint".to_owned()),
        ),
        Err(_) => (None, false, Some("The delivery failed".to_owned())),
    };
    let delivery = WebhookDelivery {
        id,
        endpoint_id: webhook.endpoint.id,
        event: event.to_owned(),
        response_status,
        duration_ms,
        success,
        error,
        created_at,
    };
    state
        .store
        .write(|data| data.webhook_deliveries.push(delivery.clone()));
    delivery
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_the_hex_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn only_https_or_a_loopback_listener_is_accepted() {
        for (url, ok) in [
            ("https://hooks.acme.example/keystone", true),
            ("http://127.0.0.1:9000/hook", true),
            ("http://localhost:9000/hook", true),
            ("http://LOCALHOST:9000/hook", true),
            ("http://[::1]:9000/hook", true),
            ("http://hooks.acme.example/keystone", false),
            ("ftp://hooks.acme.example", false),
        ] {
            let mut errors = Vec::new();
            check_url(url, &mut errors);
            assert_eq!(errors.is_empty(), ok, "{url}: {errors:?}");
        }
    }

    #[test]
    fn subscriptions_match_exact_names_prefixes_and_everything() {
        let events = |names: &[&str]| {
            names
                .iter()
                .map(|name| (*name).to_owned())
                .collect::<Vec<_>>()
        };
        assert!(subscribes(&events(&["*"]), "settlement.completed"));
        assert!(subscribes(
            &events(&["settlement.*"]),
            "settlement.completed"
        ));
        assert!(!subscribes(
            &events(&["settlement.*"]),
            "settlements.completed"
        ));
        assert!(subscribes(
            &events(&["settlement.failed"]),
            "settlement.failed"
        ));
        assert!(!subscribes(
            &events(&["settlement.failed"]),
            "settlement.completed"
        ));
    }
}
