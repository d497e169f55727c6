//! Settings > Webhooks: the platform's endpoints, their one-time secrets, test deliveries,
//! rotations and delivery logs, through `/v1/platforms/me/webhooks` (`platform:webhooks:manage`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{ApiError, FieldError, Listed, Warning};
use crate::domain::{Timestamp, WebUrl};

/// The events the form offers, with what each means. `*` and `settlement.*` are published;
/// the single names are the settlement state changes the public event page lists [design: kept
/// here, the one place to change]. An endpoint stored with other names shows them as stored.
pub const KNOWN_EVENTS: [(&str, &str); 5] = [
    ("*", "Every event"),
    ("settlement.*", "Every settlement change"),
    ("settlement.completed", "A settlement completed"),
    ("settlement.failed", "A settlement failed"),
    ("settlement.timed_out", "A settlement timed out"),
];

/// Deliveries shown per page of an endpoint's log.
pub const DELIVERY_PAGE_SIZE: u64 = 20;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    #[serde(default)]
    pub description: Option<String>,
    pub events: Vec<String>,
    pub is_active: bool,
    pub created_at: Timestamp,
}

/// Never `secret`: a record that fails to parse must not carry one to the browser.
impl super::ShownAsStored for WebhookEndpoint {
    const FIELDS: &'static [&'static str] = &["id", "url", "description", "is_active"];
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhooksView {
    /// The member holds `platform:webhooks:manage` (or the dashboard cannot tell): without it the
    /// API refuses every webhook call, so none is made.
    pub allowed: bool,
    pub endpoints: Vec<Listed<WebhookEndpoint>>,
}

/// A secret the API shows once: at creation, or at a rotation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OneTimeSecret {
    /// The endpoint it signs for (its URL, should a creation's reply name no id): a newer secret
    /// of the same endpoint replaces this one on the page, another endpoint's never does.
    pub endpoint_id: String,
    pub endpoint_url: String,
    pub secret: String,
    /// After a rotation: until when deliveries are still signed with the previous secret too.
    pub previous_valid_until: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookTestResult {
    pub endpoint_url: String,
    pub success: bool,
    #[serde(default)]
    pub status_code: Option<u16>,
    #[serde(default)]
    pub duration_ms: Option<u64>,
    #[serde(default)]
    pub error: Option<String>,
}

impl WebhookTestResult {
    /// "Delivered: 200 in 84 ms", "Not delivered: Could not connect to the endpoint (12 ms)".
    pub fn summary(&self) -> String {
        let timing = self
            .duration_ms
            .map(|ms| format!("{ms} ms"))
            .unwrap_or_default();
        match (self.success, self.status_code) {
            (true, Some(status)) => {
                format!("Delivered to {}: {status} in {timing}.", self.endpoint_url)
            }
            (true, None) => format!("Delivered to {}.", self.endpoint_url),
            (false, status) => {
                let reason = self
                    .error
                    .clone()
                    .or_else(|| status.map(|status| format!("it answered {status}")))
                    .unwrap_or_else(|| "no reason given".to_owned());
                let timing = if timing.is_empty() {
                    timing
                } else {
                    format!(" ({timing})")
                };
                format!("Not delivered to {}: {reason}{timing}.", self.endpoint_url)
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    pub id: String,
    pub event: String,
    #[serde(default)]
    pub response_status: Option<u16>,
    #[serde(default)]
    pub duration_ms: Option<u64>,
    pub success: bool,
    #[serde(default)]
    pub error: Option<String>,
    pub created_at: Timestamp,
}

impl super::ShownAsStored for WebhookDelivery {
    const FIELDS: &'static [&'static str] = &[
        "id",
        "event",
        "response_status",
        "success",
        "error",
        "created_at",
    ];
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryLog {
    pub endpoint_url: String,
    pub deliveries: Vec<Listed<WebhookDelivery>>,
    pub total: u64,
    pub offset: u64,
}

fn field(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// An endpoint address as the API takes it: `https`. Plain `http` passes only to a loopback
/// listener (the sandbox accepts that for local receivers; KeyStone itself may refuse it, and
/// then its 422 is shown).
pub fn check_endpoint_url(raw: &str) -> Result<WebUrl, String> {
    let url = WebUrl::parse(raw)?;
    if url.is_https() || url.is_loopback() {
        Ok(url)
    } else {
        Err(format!(
            "“{url}” must use https:// (KeyStone delivers over https only)."
        ))
    }
}

/// The create and edit forms' fields, checked, as the body of the call.
pub fn endpoint_body(
    url: &str,
    description: &str,
    events: &[String],
) -> Result<serde_json::Value, Vec<FieldError>> {
    let mut errors = Vec::new();
    let url = check_endpoint_url(url)
        .map_err(|error| errors.push(field("url", format!("URL: {error}"))))
        .ok();
    let description = Some(description.trim()).filter(|text| !text.is_empty());
    if description.is_some_and(|text| text.chars().count() > 255) {
        errors.push(field(
            "description",
            "The description is at most 255 characters.",
        ));
    }
    if events.is_empty() {
        errors.push(field(
            "events",
            "Choose at least one event (or every event).",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(serde_json::json!({
        "url": url.map(String::from),
        "description": description,
        "events": events,
    }))
}

/// The edit form's fields as the body of an update, which never sends `null` (the contract: unset
/// fields are left out; the SDK drops `None`). A description left blank is sent as `""`, the way
/// a client of the SDK clears one; a `null` there is what the create takes, not the update.
pub fn endpoint_update_body(
    url: &str,
    description: &str,
    events: &[String],
) -> Result<serde_json::Value, Vec<FieldError>> {
    let mut body = endpoint_body(url, description, events)?;
    if body["description"].is_null() {
        body["description"] = serde_json::Value::from("");
    }
    Ok(body)
}

#[server(endpoint = "webhooks")]
pub async fn load_webhooks() -> Result<WebhooksView, ApiError> {
    ssr::respond(ssr::load_webhooks().await)
}

#[server(endpoint = "webhooks/create")]
pub async fn create_webhook(
    url: String,
    description: String,
    #[server(default)] events: Vec<String>,
) -> Result<OneTimeSecret, ApiError> {
    ssr::respond(ssr::create_webhook(url, description, events).await)
}

#[server(endpoint = "webhooks/update")]
pub async fn update_webhook(
    id: String,
    url: String,
    description: String,
    #[server(default)] events: Vec<String>,
) -> Result<WebhookEndpoint, ApiError> {
    ssr::respond(ssr::update_webhook(id, url, description, events).await)
}

/// Enables or disables an endpoint; disabling stops its deliveries, and is confirmed.
#[server(endpoint = "webhooks/active")]
pub async fn set_webhook_active(
    id: String,
    active: bool,
    confirm: Option<String>,
) -> Result<WebhookEndpoint, ApiError> {
    ssr::respond(ssr::set_webhook_active(id, active, confirm).await)
}

#[server(endpoint = "webhooks/delete")]
pub async fn delete_webhook(id: String, confirm: Option<String>) -> Result<String, ApiError> {
    ssr::respond(ssr::delete_webhook(id, confirm).await)
}

#[server(endpoint = "webhooks/test")]
pub async fn test_webhook(id: String) -> Result<WebhookTestResult, ApiError> {
    ssr::respond(ssr::test_webhook(id).await)
}

#[server(endpoint = "webhooks/rotate")]
pub async fn rotate_webhook_secret(
    id: String,
    confirm: Option<String>,
) -> Result<OneTimeSecret, ApiError> {
    ssr::respond(ssr::rotate_webhook_secret(id, confirm).await)
}

#[server(endpoint = "webhooks/deliveries")]
pub async fn load_deliveries(id: String, offset: u64) -> Result<DeliveryLog, ApiError> {
    ssr::respond(ssr::load_deliveries(id, offset).await)
}

/// What deleting an endpoint means, in the words its confirmation shows.
pub fn delete_warning(url: &str) -> Warning {
    Warning::new(format!(
        "{url} stops receiving events at once, and its delivery log is deleted with it."
    ))
}

/// What disabling an endpoint means. Whether KeyStone sends the events it held back once the
/// endpoint is enabled again is not published, so the words promise neither.
pub fn disable_warning(url: &str) -> Warning {
    Warning::new(format!(
        "KeyStone stops sending events to {url} until it is enabled again."
    ))
}

/// How an endpoint is named in messages and confirmations: its URL as stored (as text), or its id
/// when it has none. The page and the server name an endpoint shown as stored the same way, so
/// the confirmation of its deletion matches.
pub fn endpoint_name(url: &str, id: &str) -> String {
    if url.is_empty() { id } else { url }.to_owned()
}

/// What rotating a secret means. KeyStone publishes that the old secret keeps working for 24 h,
/// not how a receiver sees it (the sandbox's second signature header is its own [design]), so the
/// warning promises the window only.
pub fn rotate_warning(url: &str) -> Warning {
    Warning::new(format!(
        "A new secret for {url} is shown once. The old secret keeps working for 24 hours; update your receiver before then."
    ))
}

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::server::member::respond;

    use super::*;
    use crate::{
        api::{permissions, Lenient, Page},
        domain::ResourceId,
        server::{
            member::{require_confirmation, MemberRequest},
            upstream::paths,
        },
    };

    /// The most endpoints the page lists (the API allows 200 per page; a platform has a few).
    const MOST_ENDPOINTS: usize = 500;

    #[derive(Deserialize)]
    struct Rotation {
        new_secret: String,
        previous_secret_valid_until: Timestamp,
    }

    #[derive(Deserialize)]
    struct TestReply {
        success: bool,
        #[serde(default)]
        status_code: Option<u16>,
        #[serde(default)]
        duration_ms: Option<u64>,
        #[serde(default)]
        error: Option<String>,
    }

    /// The endpoint's URL as the API holds it now (it names the endpoint in messages and
    /// confirmations). Read leniently: an endpoint shown as stored can be tested and deleted too.
    async fn endpoint_url(request: &MemberRequest, id: &ResourceId) -> Result<String, ApiError> {
        let endpoint: serde_json::Value = request.get(&paths::webhook(id), &[]).await?;
        Ok(endpoint_name(
            &crate::api::resources::stored_text(&endpoint["url"]),
            id.as_str(),
        ))
    }

    pub async fn load_webhooks() -> Result<WebhooksView, ApiError> {
        let request = MemberRequest::current()?;
        if !request.may(permissions::WEBHOOKS_MANAGE).await? {
            return Ok(WebhooksView {
                allowed: false,
                endpoints: Vec::new(),
            });
        }
        let endpoints: Vec<Lenient<WebhookEndpoint>> = request
            .get_all(paths::WEBHOOKS, &[], MOST_ENDPOINTS)
            .await?;
        Ok(WebhooksView {
            allowed: true,
            endpoints: endpoints.into_iter().map(Listed::from).collect(),
        })
    }

    pub async fn create_webhook(
        url: String,
        description: String,
        events: Vec<String>,
    ) -> Result<OneTimeSecret, ApiError> {
        let body = endpoint_body(&url, &description, &events).map_err(ApiError::Validation)?;
        // Read leniently: the endpoint exists once this answers, and its secret must reach the
        // member even if another field of the reply is not what the dashboard expects.
        let created: serde_json::Value = MemberRequest::current()?
            .send_for(reqwest::Method::POST, paths::WEBHOOKS, Some(&body))
            .await?;
        let secret = created["secret"]
            .as_str()
            .ok_or(ApiError::UnexpectedReply {
                may_have_applied: true,
            })?;
        let endpoint_url = created["url"]
            .as_str()
            .map_or_else(|| url.trim().to_owned(), str::to_owned);
        Ok(OneTimeSecret {
            endpoint_id: created["id"]
                .as_str()
                .map_or_else(|| endpoint_url.clone(), str::to_owned),
            endpoint_url,
            secret: secret.to_owned(),
            previous_valid_until: None,
        })
    }

    pub async fn update_webhook(
        id: String,
        url: String,
        description: String,
        events: Vec<String>,
    ) -> Result<WebhookEndpoint, ApiError> {
        let id = ResourceId::parse(&id)?;
        let body =
            endpoint_update_body(&url, &description, &events).map_err(ApiError::Validation)?;
        MemberRequest::current()?
            .send_for(reqwest::Method::PATCH, &paths::webhook(&id), Some(&body))
            .await
    }

    pub async fn set_webhook_active(
        id: String,
        active: bool,
        confirm: Option<String>,
    ) -> Result<WebhookEndpoint, ApiError> {
        let id = ResourceId::parse(&id)?;
        let request = MemberRequest::current()?;
        // Disabling silences a receiver: confirmed, naming the endpoint as the API holds it.
        // Enabling it again needs no yes.
        if !active {
            let url = endpoint_url(&request, &id).await?;
            require_confirmation(&[disable_warning(&url)], confirm.as_deref())?;
        }
        request
            .send_for(
                reqwest::Method::PATCH,
                &paths::webhook(&id),
                Some(&serde_json::json!({ "is_active": active })),
            )
            .await
    }

    pub async fn delete_webhook(id: String, confirm: Option<String>) -> Result<String, ApiError> {
        let id = ResourceId::parse(&id)?;
        let request = MemberRequest::current()?;
        let url = endpoint_url(&request, &id).await?;
        require_confirmation(&[delete_warning(&url)], confirm.as_deref())?;
        request
            .send::<(), serde_json::Value>(reqwest::Method::DELETE, &paths::webhook(&id), None)
            .await?;
        Ok(url)
    }

    pub async fn test_webhook(id: String) -> Result<WebhookTestResult, ApiError> {
        let id = ResourceId::parse(&id)?;
        let request = MemberRequest::current()?;
        let endpoint_url = endpoint_url(&request, &id).await?;
        // A test delivery changes nothing: a reply without its result is only unreadable.
        let reply: TestReply = request
            .send::<(), _>(reqwest::Method::POST, &paths::webhook_test(&id), None)
            .await?
            .ok_or(ApiError::UnexpectedReply {
                may_have_applied: false,
            })?;
        Ok(WebhookTestResult {
            endpoint_url,
            success: reply.success,
            status_code: reply.status_code,
            duration_ms: reply.duration_ms,
            error: reply.error,
        })
    }

    pub async fn rotate_webhook_secret(
        id: String,
        confirm: Option<String>,
    ) -> Result<OneTimeSecret, ApiError> {
        let id = ResourceId::parse(&id)?;
        let request = MemberRequest::current()?;
        let endpoint_url = endpoint_url(&request, &id).await?;
        require_confirmation(&[rotate_warning(&endpoint_url)], confirm.as_deref())?;
        let rotation: Rotation = request
            .send_for::<(), _>(reqwest::Method::POST, &paths::webhook_rotation(&id), None)
            .await?;
        Ok(OneTimeSecret {
            endpoint_id: id.as_str().to_owned(),
            endpoint_url,
            secret: rotation.new_secret,
            previous_valid_until: Some(rotation.previous_secret_valid_until),
        })
    }

    pub async fn load_deliveries(id: String, offset: u64) -> Result<DeliveryLog, ApiError> {
        let id = ResourceId::parse(&id)?;
        let request = MemberRequest::current()?;
        let request = &request;
        let path = paths::webhook_deliveries(&id);
        let query = [
            ("limit", DELIVERY_PAGE_SIZE.to_string()),
            ("offset", offset.to_string()),
        ];
        // Independent reads, sent together.
        let (endpoint_url, page) = tokio::join!(
            endpoint_url(request, &id),
            request.get::<Page<Lenient<WebhookDelivery>>>(&path, &query),
        );
        let page = page?;
        Ok(DeliveryLog {
            endpoint_url: endpoint_url?,
            deliveries: page.items.into_iter().map(Listed::from).collect(),
            total: page.total,
            offset: page.offset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_take_https_or_a_loopback_listener() {
        assert!(check_endpoint_url("https://hooks.acme.example/in").is_ok());
        assert!(check_endpoint_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(check_endpoint_url("http://localhost:9000/hook").is_ok());
        let error = check_endpoint_url("http://hooks.acme.example/in").unwrap_err();
        assert!(error.contains("must use https://"), "{error}");
    }

    #[test]
    fn the_form_is_checked_whole() {
        let errors = endpoint_body("hooks.acme.example", &"d".repeat(256), &[]).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, ["url", "description", "events"]);
        let body = endpoint_body(
            " https://hooks.acme.example/in ",
            "  ",
            &["settlement.*".to_owned()],
        )
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "url": "https://hooks.acme.example/in",
                "description": null,
                "events": ["settlement.*"],
            })
        );
    }

    #[test]
    fn an_update_never_sends_null() {
        let events = ["*".to_owned()];
        let blank = endpoint_update_body("https://hooks.acme.example/in", " ", &events).unwrap();
        assert_eq!(
            blank,
            serde_json::json!({
                "url": "https://hooks.acme.example/in",
                "description": "",
                "events": ["*"],
            })
        );
        let described =
            endpoint_update_body("https://hooks.acme.example/in", " Ledger ", &events).unwrap();
        assert_eq!(described["description"], "Ledger");
    }

    #[test]
    fn a_test_result_reads_as_a_sentence() {
        let mut result = WebhookTestResult {
            endpoint_url: "https://hooks.acme.example/in".to_owned(),
            success: true,
            status_code: Some(200),
            duration_ms: Some(84),
            error: None,
        };
        assert_eq!(
            result.summary(),
            "Delivered to https://hooks.acme.example/in: 200 in 84 ms."
        );
        result.success = false;
        result.status_code = None;
        result.duration_ms = Some(12);
        result.error = Some("Could not connect to the endpoint".to_owned());
        assert_eq!(
            result.summary(),
            "Not delivered to https://hooks.acme.example/in: Could not connect to the endpoint (12 ms)."
        );
    }
}
