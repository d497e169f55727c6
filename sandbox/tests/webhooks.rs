//! Webhook endpoints over HTTP: validation, the secret shown once, real signed deliveries to a
//! listener on loopback, the delivery log, rotation with the previous secret's window.

mod common;

use std::sync::{Arc, Mutex};

use axum::{body::Bytes, http::HeaderMap, routing::post, Router};
use common::{spawn, ADA, DMITRI};
use keystone_sandbox::api::webhooks::{signature, PREVIOUS_SIGNATURE_HEADER, SIGNATURE_HEADER};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A receiver on loopback that keeps what it was sent and answers `status`.
struct Listener {
    url: String,
    received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    status: Arc<Mutex<u16>>,
}

impl Listener {
    async fn start() -> Self {
        let received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>> = Arc::default();
        let status = Arc::new(Mutex::new(200));
        let app = Router::new().route(
            "/hook",
            post({
                let received = received.clone();
                let status = status.clone();
                move |headers: HeaderMap, body: Bytes| async move {
                    received.lock().unwrap().push((headers, body));
                    StatusCode::from_u16(*status.lock().unwrap()).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url,
            received,
            status,
        }
    }

    fn last(&self) -> (HeaderMap, Bytes) {
        self.received
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a delivery arrived")
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|value| value.to_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_are_validated_created_with_a_secret_shown_once_changed_and_deleted() {
    let sandbox = spawn().await;
    let token = sandbox.user_token(ADA).await;
    let ada = sandbox.bearer(&token, Some("development"));

    let refused = ada
        .post(
            "/v1/platforms/me/webhooks",
            json!({ "url": "http://hooks.acme.example/in", "events": ["not an event"] }),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = refused.json::<Value>().await.unwrap()["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["loc"][1].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["url", "events"]);

    let created = ada
        .post(
            "/v1/platforms/me/webhooks",
            json!({ "url": "https://hooks.acme.example/in", "description": "Ledger" }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["events"], json!(["*"]), "every event by default");
    assert_eq!(created["is_active"], true);
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.len() >= 32, "{secret}");
    let id = created["id"].as_str().unwrap();

    let read = ada
        .get_json(&format!("/v1/platforms/me/webhooks/{id}"))
        .await;
    assert!(
        read.get("secret").is_none(),
        "the secret is shown once only"
    );
    let listed = ada.get_json("/v1/platforms/me/webhooks?limit=200").await;
    assert_eq!(listed["total"], 2, "the seeded endpoint and this one");
    assert!(listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|item| item.get("secret").is_none()));
    let too_many = ada.get("/v1/platforms/me/webhooks?limit=201").await;
    assert_eq!(too_many.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Fields left out are left alone.
    let changed = ada
        .patch(
            &format!("/v1/platforms/me/webhooks/{id}"),
            json!({ "is_active": false, "events": ["settlement.*"] }),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["is_active"], false);
    assert_eq!(changed["events"], json!(["settlement.*"]));
    assert_eq!(changed["description"], "Ledger");
    assert_eq!(changed["url"], "https://hooks.acme.example/in");

    let deleted = ada.delete(&format!("/v1/platforms/me/webhooks/{id}")).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = ada.get(&format!("/v1/platforms/me/webhooks/{id}")).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_need_their_permission() {
    let sandbox = spawn().await;
    let token = sandbox.user_token(DMITRI).await;
    let viewer = sandbox.bearer(&token, Some("development"));
    assert_eq!(
        viewer.get("/v1/platforms/me/webhooks").await.status(),
        StatusCode::FORBIDDEN
    );
    let created = viewer
        .post(
            "/v1/platforms/me/webhooks",
            json!({ "url": "https://hooks.acme.example/in" }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_is_really_delivered_signed_and_logged() {
    let sandbox = spawn().await;
    let listener = Listener::start().await;
    let token = sandbox.user_token(ADA).await;
    let ada = sandbox.bearer(&token, Some("development"));
    let created: Value = ada
        .post_json(
            "/v1/platforms/me/webhooks",
            json!({ "url": listener.url, "secret": "whsec_chosen_by_the_test" }),
        )
        .await;
    assert_eq!(created["secret"], "whsec_chosen_by_the_test");
    let id = created["id"].as_str().unwrap();

    let result: Value = ada
        .post_json(&format!("/v1/platforms/me/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(result["success"], true, "{result}");
    assert_eq!(result["status_code"], 200);
    assert!(result["duration_ms"].is_u64());
    let (headers, body) = listener.last();
    assert_eq!(
        header(&headers, SIGNATURE_HEADER).unwrap(),
        signature("whsec_chosen_by_the_test", &body)
    );
    assert!(header(&headers, PREVIOUS_SIGNATURE_HEADER).is_none());
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(event["event"], "webhook.test");

    // The receiver fails: the test says so, and the log keeps both, newest first.
    *listener.status.lock().unwrap() = 503;
    let failed: Value = ada
        .post_json(&format!("/v1/platforms/me/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(failed["success"], false);
    assert_eq!(failed["status_code"], 503);
    assert!(failed["error"].as_str().unwrap().contains("503"));
    let log = ada
        .get_json(&format!(
            "/v1/platforms/me/webhooks/{id}/deliveries?limit=1"
        ))
        .await;
    assert_eq!(log["total"], 2);
    assert_eq!(log["items"][0]["success"], false, "newest first");
    assert_eq!(log["items"][0]["response_status"], 503);
    assert_eq!(log["items"][0]["endpoint_id"], id);

    // An unreachable receiver: no status, an error.
    let unreachable: Value = ada
        .post_json(
            "/v1/platforms/me/webhooks",
            json!({ "url": "http://127.0.0.1:9/nobody" }),
        )
        .await;
    let unreachable_id = unreachable["id"].as_str().unwrap();
    let result: Value = ada
        .post_json(
            &format!("/v1/platforms/me/webhooks/{unreachable_id}/test"),
            json!({}),
        )
        .await;
    assert_eq!(result["success"], false);
    assert!(result["status_code"].is_null());
    assert!(
        result["error"].as_str().unwrap().contains("connect"),
        "{result}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_rotation_the_previous_secret_still_verifies_for_its_window() {
    let sandbox = spawn().await;
    let listener = Listener::start().await;
    let token = sandbox.user_token(ADA).await;
    let ada = sandbox.bearer(&token, Some("development"));
    let created: Value = ada
        .post_json(
            "/v1/platforms/me/webhooks",
            json!({ "url": listener.url, "events": ["settlement.*"] }),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let old_secret = created["secret"].as_str().unwrap().to_owned();

    let rotation: Value = ada
        .post_json(
            &format!("/v1/platforms/me/webhooks/{id}/rotate-secret"),
            json!({}),
        )
        .await;
    let new_secret = rotation["new_secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, old_secret);
    let until = time::OffsetDateTime::parse(
        rotation["previous_secret_valid_until"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let window = until - time::OffsetDateTime::now_utc();
    assert!(
        window > time::Duration::hours(23) && window <= time::Duration::hours(24),
        "{window}"
    );

    // An event, as a settlement changing state would send it.
    let made: Value = sandbox
        .http
        .post(sandbox.url("/_sandbox/events"))
        .json(&json!({ "event": "settlement.completed", "data": { "settlement_id": "stl_1" } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The seeded endpoint subscribes to `settlement.*` too; the delivery here is this one's.
    let ours: Vec<&Value> = made
        .as_array()
        .unwrap()
        .iter()
        .filter(|delivery| delivery["endpoint_id"] == id.as_str())
        .collect();
    assert_eq!(ours.len(), 1, "{made}");
    assert_eq!(ours[0]["success"], true, "{made}");
    let (headers, body) = listener.last();
    assert_eq!(
        header(&headers, SIGNATURE_HEADER).unwrap(),
        signature(&new_secret, &body)
    );
    assert_eq!(
        header(&headers, PREVIOUS_SIGNATURE_HEADER).unwrap(),
        signature(&old_secret, &body),
        "a receiver still holding the old secret verifies"
    );

    // Once the window has passed, the old secret signs nothing.
    sandbox.sandbox.state.store.write(|data| {
        let webhook = data
            .webhooks
            .iter_mut()
            .find(|webhook| webhook.endpoint.id.to_string() == id)
            .unwrap();
        webhook.previous_secret_valid_until =
            Some(time::OffsetDateTime::now_utc() - time::Duration::seconds(1));
    });
    let result: Value = ada
        .post_json(&format!("/v1/platforms/me/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(result["success"], true);
    let (headers, body) = listener.last();
    assert_eq!(
        header(&headers, SIGNATURE_HEADER).unwrap(),
        signature(&new_secret, &body)
    );
    assert!(header(&headers, PREVIOUS_SIGNATURE_HEADER).is_none());
}
