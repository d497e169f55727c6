//! Settings > Webhooks through its server functions against the sandbox over HTTP, with a real
//! receiver on loopback: the secret shown once verifies a test delivery; a rotation keeps the old
//! secret verifying for its window; confirmations, checked fields, paging and permissions.

mod common;

use std::sync::{Arc, Mutex};

use axum::{body::Bytes, http::HeaderMap, routing::post, Router};
use common::{reset_sandbox_stats, sandbox_stats, spawn_app, Browser, TestApp};
use hmac::{Hmac, Mac};
use keystone_dashboard::api::{
    confirmation_code, delete_warning, disable_warning, rotate_warning, ApiError, CreateWebhook,
    DeleteWebhook, LoadDeliveries, LoadWebhooks, RotateWebhookSecret, SetWebhookActive,
    TestWebhook, UpdateWebhook, WebhookEndpoint, DELIVERY_PAGE_SIZE,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

const VIEWER: &str = "auth0|acme-dmitri";

/// A receiver on loopback that keeps every delivery's headers and raw body.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
}

impl Receiver {
    async fn start() -> Self {
        let received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>> = Arc::default();
        let app = Router::new().route(
            "/hook",
            post({
                let received = received.clone();
                move |headers: HeaderMap, body: Bytes| async move {
                    received.lock().unwrap().push((headers, body));
                    StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, received }
    }

    fn last(&self) -> (HeaderMap, Bytes) {
        self.received
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a delivery arrived")
    }

    fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }
}

/// What a receiver does with the secret it was given: the hex HMAC-SHA256 of the raw body,
/// compared in constant time (computed here independently of the sandbox).
fn verifies(secret: &str, body: &[u8], signature: Option<&str>) -> bool {
    let Some(signature) = signature.and_then(|hex_digest| hex::decode(hex_digest).ok()) else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|value| value.to_str().unwrap())
}

async fn manager(app: &TestApp) -> Browser {
    let browser = app.browser();
    browser.sign_in().await;
    browser
}

fn create(url: &str, events: &[&str]) -> CreateWebhook {
    CreateWebhook {
        url: url.to_owned(),
        description: "Ledger service".to_owned(),
        events: events.iter().map(|event| (*event).to_owned()).collect(),
    }
}

async fn endpoint(browser: &Browser, url: &str) -> WebhookEndpoint {
    browser
        .call(LoadWebhooks {})
        .await
        .unwrap()
        .endpoints
        .into_iter()
        .filter_map(|listed| listed.parsed())
        .find(|endpoint| endpoint.url == url)
        .unwrap_or_else(|| panic!("{url} is listed"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_shown_at_creation_verifies_a_real_test_delivery_and_is_never_shown_again() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let receiver = Receiver::start().await;
    let created = browser.call(create(&receiver.url, &["*"])).await.unwrap();
    assert_eq!(created.endpoint_url, receiver.url);
    let secret = created.secret.clone();

    let listed = endpoint(&browser, &receiver.url).await;
    assert_eq!(listed.events, ["*"]);
    assert!(listed.is_active);
    let page = browser.get("/webhooks").await.text().await.unwrap();
    assert!(page.contains(&receiver.url));
    assert!(
        !page.contains(&secret),
        "the page never shows the secret again"
    );
    let view = serde_json::to_string(&browser.call(LoadWebhooks {}).await.unwrap()).unwrap();
    assert!(!view.contains(&secret));

    let result = browser
        .call(TestWebhook {
            id: listed.id.clone(),
        })
        .await
        .unwrap();
    assert!(result.success, "{result:?}");
    assert_eq!(result.status_code, Some(204));
    assert!(
        result.summary().starts_with("Delivered to"),
        "{}",
        result.summary()
    );
    let (headers, body) = receiver.last();
    assert!(verifies(
        &secret,
        &body,
        header(&headers, "x-keystone-signature")
    ));
    assert!(!verifies(
        "whsec_wrong",
        &body,
        header(&headers, "x-keystone-signature")
    ));

    let log = browser
        .call(LoadDeliveries {
            id: listed.id.clone(),
            offset: 0,
        })
        .await
        .unwrap();
    assert_eq!(log.total, 1);
    let delivery = log.deliveries[0].clone().parsed().unwrap();
    assert!(delivery.success);
    assert_eq!(delivery.response_status, Some(204));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_rotation_the_old_secret_still_verifies_until_its_window_ends() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let receiver = Receiver::start().await;
    let old_secret = browser
        .call(create(&receiver.url, &["settlement.*"]))
        .await
        .unwrap()
        .secret;
    let id = endpoint(&browser, &receiver.url).await.id;

    // Unconfirmed, nothing rotates: the warning comes back instead.
    let refused = browser
        .call(RotateWebhookSecret {
            id: id.clone(),
            confirm: None,
        })
        .await
        .unwrap_err();
    let warning = refused.needs_confirmation();
    assert!(warning.contains("24 hours"), "{warning}");
    // How a receiver sees the old secret is unpublished (the sandbox's header is its own).
    assert!(!warning.contains("Signature-Previous"), "{warning}");

    let rotated = browser
        .call(RotateWebhookSecret {
            id: id.clone(),
            confirm: Some(confirmation_code(&[rotate_warning(&receiver.url)])),
        })
        .await
        .unwrap();
    assert_ne!(rotated.secret, old_secret);
    let until = rotated
        .previous_valid_until
        .clone()
        .unwrap()
        .moment()
        .unwrap();
    let window = until - time::OffsetDateTime::now_utc();
    assert!(window > time::Duration::hours(23), "{window}");

    // A settlement event, as the platform sends it.
    reqwest::Client::new()
        .post(format!("{}/_sandbox/events", app.sandbox_url))
        .json(&json!({ "event": "settlement.completed", "data": {} }))
        .send()
        .await
        .unwrap();
    let (headers, body) = receiver.last();
    assert!(verifies(
        &rotated.secret,
        &body,
        header(&headers, "x-keystone-signature")
    ));
    assert!(
        verifies(
            &old_secret,
            &body,
            header(&headers, "x-keystone-signature-previous")
        ),
        "a receiver not yet updated still verifies"
    );

    // The window over, the old secret signs nothing.
    app.sandbox().state.store.write(|data| {
        for webhook in &mut data.webhooks {
            webhook.previous_secret_valid_until =
                Some(time::OffsetDateTime::now_utc() - time::Duration::seconds(1));
        }
    });
    browser.call(TestWebhook { id }).await.unwrap();
    let (headers, body) = receiver.last();
    assert!(verifies(
        &rotated.secret,
        &body,
        header(&headers, "x-keystone-signature")
    ));
    assert!(header(&headers, "x-keystone-signature-previous").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_before_the_api_each_field_named() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let before = app.sandbox().state.store.read(|data| data.webhooks.len());
    let refused = browser
        .call(CreateWebhook {
            url: "http://hooks.acme.example/in".to_owned(),
            description: String::new(),
            events: Vec::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ApiError::Validation(fields) = refused.error else {
        panic!("{refused:?}");
    };
    let named: Vec<_> = fields.iter().map(|error| error.field.as_str()).collect();
    assert_eq!(named, ["url", "events"]);
    assert_eq!(
        app.sandbox().state.store.read(|data| data.webhooks.len()),
        before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_is_edited_disabled_and_deleted_once_confirmed() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let receiver = Receiver::start().await;
    browser.call(create(&receiver.url, &["*"])).await.unwrap();
    let id = endpoint(&browser, &receiver.url).await.id;

    let edited = browser
        .call(UpdateWebhook {
            id: id.clone(),
            url: receiver.url.clone(),
            description: "Renamed".to_owned(),
            events: vec!["settlement.failed".to_owned()],
        })
        .await
        .unwrap();
    assert_eq!(edited.events, ["settlement.failed"]);
    assert_eq!(edited.description.as_deref(), Some("Renamed"));
    // A description left blank clears it (sent as "", never null: an update leaves out what it
    // does not set).
    let cleared = browser
        .call(UpdateWebhook {
            id: id.clone(),
            url: receiver.url.clone(),
            description: " ".to_owned(),
            events: vec!["settlement.failed".to_owned()],
        })
        .await
        .unwrap();
    assert_eq!(cleared.description, None);

    // Disabling is confirmed, naming the endpoint; unconfirmed, it stays active.
    let unconfirmed = browser
        .call(SetWebhookActive {
            id: id.clone(),
            active: false,
            confirm: None,
        })
        .await
        .unwrap_err();
    let warning = unconfirmed.needs_confirmation();
    assert!(
        warning.contains(&format!("stops sending events to {}", receiver.url)),
        "{warning}"
    );
    assert!(endpoint(&browser, &receiver.url).await.is_active);
    let disabled = browser
        .call(SetWebhookActive {
            id: id.clone(),
            active: false,
            confirm: Some(confirmation_code(&[disable_warning(&receiver.url)])),
        })
        .await
        .unwrap();
    assert!(!disabled.is_active);
    // A disabled endpoint receives no events.
    let made: Value = reqwest::Client::new()
        .post(format!("{}/_sandbox/events", app.sandbox_url))
        .json(&json!({ "event": "settlement.failed", "data": {} }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        made.as_array()
            .unwrap()
            .iter()
            .all(|delivery| delivery["endpoint_id"] != id.as_str()),
        "{made}"
    );
    assert_eq!(receiver.count(), 0);
    let enabled = browser
        .call(SetWebhookActive {
            id: id.clone(),
            active: true,
            confirm: None,
        })
        .await
        .unwrap();
    assert!(enabled.is_active, "enabling again needs no yes");

    let refused = browser
        .call(DeleteWebhook {
            id: id.clone(),
            confirm: None,
        })
        .await
        .unwrap_err();
    let warning = refused.needs_confirmation();
    assert!(warning.contains("stops receiving events"), "{warning}");
    let deleted = browser
        .call(DeleteWebhook {
            id: id.clone(),
            confirm: Some(confirmation_code(&[delete_warning(&receiver.url)])),
        })
        .await
        .unwrap();
    assert_eq!(deleted, receiver.url);
    assert!(browser
        .call(LoadWebhooks {})
        .await
        .unwrap()
        .endpoints
        .into_iter()
        .filter_map(|listed| listed.parsed())
        .all(|endpoint| endpoint.id != id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_delivery_log_is_paged_newest_first() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let receiver = Receiver::start().await;
    browser.call(create(&receiver.url, &["*"])).await.unwrap();
    let id = endpoint(&browser, &receiver.url).await.id;
    let sent = DELIVERY_PAGE_SIZE as usize + 5;
    for _ in 0..sent {
        assert!(
            browser
                .call(TestWebhook { id: id.clone() })
                .await
                .unwrap()
                .success
        );
    }
    let first = browser
        .call(LoadDeliveries {
            id: id.clone(),
            offset: 0,
        })
        .await
        .unwrap();
    assert_eq!(first.total, sent as u64);
    assert_eq!(first.deliveries.len(), DELIVERY_PAGE_SIZE as usize);
    let second = browser
        .call(LoadDeliveries {
            id: id.clone(),
            offset: DELIVERY_PAGE_SIZE,
        })
        .await
        .unwrap();
    assert_eq!(second.deliveries.len(), 5);
    let moments = |log: &keystone_dashboard::api::DeliveryLog| {
        log.deliveries
            .iter()
            .map(|listed| {
                listed
                    .clone()
                    .parsed()
                    .unwrap()
                    .created_at
                    .moment()
                    .unwrap()
            })
            .collect::<Vec<_>>()
    };
    let all: Vec<_> = moments(&first)
        .into_iter()
        .chain(moments(&second))
        .collect();
    assert!(
        all.windows(2).all(|pair| pair[0] >= pair[1]),
        "newest first"
    );
    let html = browser
        .get(&format!("/webhooks?endpoint={id}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        html.matches(r#"data-testid="delivery-row""#).count(),
        DELIVERY_PAGE_SIZE as usize
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_without_the_permission_is_told_why_and_no_call_is_made() {
    let app = spawn_app().await;
    let viewer = app.browser();
    viewer.sign_in_as(VIEWER, "").await;
    let _ = viewer.get("/").await.text().await;
    reset_sandbox_stats(&app.sandbox_url).await;
    let view = viewer.call(LoadWebhooks {}).await.unwrap();
    assert!(!view.allowed);
    let html = viewer.get("/webhooks").await.text().await.unwrap();
    assert!(html.contains("platform:webhooks:manage"));
    let stats = sandbox_stats(&app.sandbox_url).await;
    let webhook_calls = stats["recent_requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|request| request["path"].as_str().unwrap().contains("/webhooks"))
        .count();
    assert_eq!(webhook_calls, 0, "{stats}");
    // The API refuses anyway, should the page be bypassed.
    let refused = viewer
        .call(create("https://hooks.acme.example/in", &["*"]))
        .await
        .unwrap_err();
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forms_ticked_events_arrive_as_the_browser_posts_them() {
    // A form post, as a browser sends it before or without the WASM bundle: one `events[]` field
    // per ticked box.
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let (status, reply) = browser
        .server_fn(
            "webhooks/create",
            &[
                ("url", "https://hooks.acme.example/ticked"),
                ("description", ""),
                ("events[]", "settlement.failed"),
                ("events[]", "settlement.completed"),
            ],
        )
        .await;
    assert!(status.is_success(), "{status} {reply}");
    let stored = endpoint(&browser, "https://hooks.acme.example/ticked").await;
    assert_eq!(stored.events, ["settlement.failed", "settlement.completed"]);
    // Nothing ticked: the form says so, nothing is created.
    let (status, reply) = browser
        .server_fn(
            "webhooks/create",
            &[
                ("url", "https://hooks.acme.example/none"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{reply}");
    assert!(
        reply.to_string().contains("Choose at least one event"),
        "{reply}"
    );
}

/// A change that answers success without its record was made: the member is told it may have
/// been saved and to check, never "something went wrong, try again", which would create a second
/// endpoint (and lose the first one's secret).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_answered_without_its_record_says_it_may_have_been_saved() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    common::set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "method": "POST", "path_prefix": "/v1/platforms/me/webhooks", "action": { "kind": "empty_body" }, "times": 1 }] }),
    )
    .await;
    let (status, reply) = browser
        .server_fn(
            "webhooks/create",
            &[
                ("url", "https://hooks.acme.example/no-record"),
                ("description", ""),
                ("events[]", "settlement.failed"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{reply}");
    assert_eq!(
        reply,
        json!({ "UnexpectedReply": { "may_have_applied": true } })
    );
    // It was made.
    let stored = endpoint(&browser, "https://hooks.acme.example/no-record").await;
    assert_eq!(stored.events, ["settlement.failed"]);
}

/// An endpoint the dashboard cannot read whole (here its `created_at` comes back `null`) is shown
/// as stored, and what needs only its id is still offered: a test delivery and the switch, not
/// only deletion (pausing a receiver must not take deleting it, its log and its secret).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_shown_as_stored_can_still_be_tested_and_disabled() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let receiver = Receiver::start().await;
    browser.call(create(&receiver.url, &["*"])).await.unwrap();
    let listed = browser.call(LoadWebhooks {}).await.unwrap().endpoints;
    let index = listed
        .iter()
        .position(|listed| {
            listed
                .clone()
                .parsed()
                .is_some_and(|endpoint| endpoint.url == receiver.url)
        })
        .expect("the new endpoint is listed");
    common::set_faults(
        &app.sandbox_url,
        json!({ "rules": [{
            "method": "GET",
            "path_prefix": "/v1/platforms/me/webhooks",
            "action": { "kind": "edit_body", "pointer": format!("/items/{index}/created_at"), "value": null },
        }] }),
    )
    .await;

    let page = browser.get("/webhooks").await.text().await.unwrap();
    let start = page
        .find("data-testid=\"webhook-row-as-stored\"")
        .expect("the endpoint is shown as stored");
    let row = &page[start..start + page[start..].find("</tr>").unwrap()];
    assert!(row.contains(&receiver.url), "{row}");
    for control in ["send-test", "toggle-active", "delete-webhook"] {
        assert!(
            row.contains(&format!("data-testid=\"{control}\"")),
            "{control} in {row}"
        );
    }

    // The test it offers reaches the receiver.
    let view = browser.call(LoadWebhooks {}).await.unwrap();
    let odd = view.endpoints[index].clone();
    let id = match odd {
        keystone_dashboard::api::Listed::AsStored(record) => record.field("id").to_owned(),
        other => panic!("shown as stored: {other:?}"),
    };
    let result = browser.call(TestWebhook { id }).await.unwrap();
    assert!(result.success, "{result:?}");
    assert_eq!(receiver.count(), 1);
}
