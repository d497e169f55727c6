//! Every page under every upstream fault the sandbox can inject: the page still renders (never a
//! blank or a 500), says specifically what is wrong, answers within the BFF's time limits, and
//! shows the data again once the fault is gone. (The browser side, with Try again and a lost
//! write, is end2end/tests/faults.spec.ts.)

mod common;

use std::time::{Duration, Instant};

use common::{set_faults, Browser, TestApp, PAGES};
use reqwest::StatusCode;
use serde_json::{json, Value};

const UPSTREAM_TIMEOUT: u64 = 1;

/// A page spends at most twice the upstream timeout on the API in all (the request budget), plus
/// its own rendering.
fn reply_bound() -> Duration {
    Duration::from_secs(2 * UPSTREAM_TIMEOUT) + Duration::from_millis(1_500)
}

async fn every_page_says(browser: &Browser, fault: &str, expected: &str) -> usize {
    let mut checked = 0;
    for path in PAGES {
        let started = Instant::now();
        let page = browser.get(path).await;
        let status = page.status();
        let html = page.text().await.unwrap();
        let elapsed = started.elapsed();
        // 503 (or 502 for a reply not understood) when the error is known before the head is
        // sent, else 200: never a 500.
        assert!(
            status == StatusCode::OK
                || status == StatusCode::SERVICE_UNAVAILABLE
                || status == StatusCode::BAD_GATEWAY
                || status.as_u16() == 429,
            "{fault}: {path} answered {status}"
        );
        assert!(
            html.contains("role=\"alert\""),
            "{fault}: {path} shows no error state"
        );
        assert!(
            html.contains(expected),
            "{fault}: {path} does not say {expected:?}"
        );
        assert!(
            elapsed <= reply_bound(),
            "{fault}: {path} took {elapsed:?}, beyond the BFF's time limits"
        );
        checked += 1;
    }
    checked
}

async fn every_page_recovers(browser: &Browser, fault: &str) {
    for path in PAGES {
        let html = browser.get(path).await.text().await.unwrap();
        assert!(
            !html.contains("panel--error"),
            "{fault}: {path} still shows an error once the API is back"
        );
    }
}

fn rule(action: Value) -> Value {
    json!({ "rules": [{ "path_prefix": "/v1/", "action": action }] })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_explains_each_upstream_fault_and_recovers() {
    let app = TestApp::builder()
        .config(|config| config.upstream_timeout_seconds = UPSTREAM_TIMEOUT)
        .spawn()
        .await;
    let browser = app.browser();
    browser.sign_in().await;
    let unreachable = "The KeyStone API is not reachable right now";
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "slow (beyond the time limit)",
            json!({ "latency_ms": 2_500 }),
            unreachable,
        ),
        (
            "503 on every call",
            json!({ "failure_rate": 1.0 }),
            unreachable,
        ),
        (
            "500 on every call",
            rule(json!({ "kind": "status", "status": 500 })),
            unreachable,
        ),
        (
            "429 with a long Retry-After",
            rule(json!({ "kind": "status", "status": 429, "retry_after_seconds": 30 })),
            "30",
        ),
        (
            "malformed JSON",
            rule(json!({ "kind": "malformed_body" })),
            // Answered, so reachable: the message says the reply was not understood.
            "shape the dashboard does not understand",
        ),
    ];
    let mut checked = 0;
    for (fault, faults, expected) in &cases {
        set_faults(&app.sandbox_url, faults.clone()).await;
        checked += every_page_says(&browser, fault, expected).await;
        set_faults(&app.sandbox_url, json!({})).await;
        every_page_recovers(&browser, fault).await;
    }

    // Down: connection refused.
    app.stop_sandbox().await;
    checked += every_page_says(&browser, "down", unreachable).await;
    eprintln!("{checked} page × fault combinations explained");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_identity_provider_down_at_refresh_is_explained_not_a_sign_out() {
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.access_token_ttl_seconds = 2)
        .config(|config| {
            config.token_refresh_margin_seconds = 1;
            config.upstream_timeout_seconds = UPSTREAM_TIMEOUT;
        })
        .spawn()
        .await;
    let browser = app.browser();
    browser.sign_in().await;
    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "path_prefix": "/oauth/token", "action": { "kind": "status", "status": 503 } }] }),
    )
    .await;
    // The access token has expired and cannot be refreshed.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let expected = "sign-in service";
    for path in PAGES {
        let page = browser.get(path).await;
        let status = page.status();
        assert!(
            status == StatusCode::OK || status == StatusCode::SERVICE_UNAVAILABLE,
            "{path}: {status}"
        );
        let html = page.text().await.unwrap();
        assert!(html.contains("role=\"alert\""), "{path}: no error state");
        assert!(html.contains(expected), "{path} does not say {expected:?}");
    }
    // Back up: the next page refreshes and shows its data; the member never had to sign in again.
    set_faults(&app.sandbox_url, json!({})).await;
    every_page_recovers(&browser, "provider down at refresh").await;
}
