//! What operators rely on: metrics that count, readiness that fails when a dependency is down,
//! request ids that join our logs to the API's, and proxy headers believed only from proxies.

mod common;

use std::time::Duration;

use common::{
    fault_uses_left, reserve_port, reset_sandbox_stats, sandbox_stats, set_faults, spawn_app,
    spawn_sandbox, RedisServer, TestApp,
};
use keystone_dashboard::server::health::READINESS_CACHED_FOR;
use keystone_dashboard::server::SessionStoreKind;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn metrics_text(app: &TestApp) -> String {
    let reply = reqwest::get(format!("{}/metrics", app.addr_url))
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    assert!(reply.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    reply.text().await.unwrap()
}

/// The value of the sample whose line starts with `series` (name and labels, exactly).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

async fn readiness(app: &TestApp) -> (StatusCode, Value) {
    let reply = reqwest::get(format!("{}/readyz", app.addr_url))
        .await
        .unwrap();
    (reply.status(), reply.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_upstream_calls_refreshes_and_sessions() {
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.access_token_ttl_seconds = 3)
        .config(|config| config.token_refresh_margin_seconds = 1)
        .spawn()
        .await;
    let before = metrics_text(&app).await;
    assert_eq!(
        sample(&before, "keystone_dashboard_active_sessions"),
        Some(0.0)
    );

    let browser = app.browser();
    browser.sign_in().await;
    for _ in 0..3 {
        let page = browser.get("/members").await;
        assert_eq!(page.status(), StatusCode::OK);
        // The body streams after the head: read it all, so every upstream call has been made.
        page.text().await.unwrap();
    }
    let text = metrics_text(&app).await;
    assert_eq!(
        sample(
            &text,
            r#"keystone_dashboard_http_requests_total{method="GET",route="/members",status="200"}"#
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"keystone_dashboard_http_request_duration_seconds_count{route="/members"}"#
        ),
        Some(3.0)
    );
    let member_reads = sample(
        &text,
        r#"keystone_dashboard_upstream_requests_total{method="GET",route="/v1/platforms/me/members",outcome="ok"}"#,
    )
    .unwrap_or_default();
    assert!(member_reads >= 3.0, "{text}");
    assert_eq!(
        sample(&text, "keystone_dashboard_active_sessions"),
        Some(1.0)
    );

    // Past the refresh margin, the next page refreshes the token once.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let page = browser.get("/roles").await;
    assert_eq!(page.status(), StatusCode::OK);
    page.text().await.unwrap();
    let text = metrics_text(&app).await;
    assert_eq!(
        sample(
            &text,
            r#"keystone_dashboard_token_refreshes_total{outcome="refreshed"}"#
        ),
        Some(1.0),
        "{text}"
    );

    // An upstream failure is counted by outcome.
    common::set_faults(
        &app.sandbox_url,
        serde_json::json!({"rules": [{
            "method": "GET",
            "path_prefix": "/v1/platforms/me/roles",
            "action": {"kind": "status", "status": 500},
        }]}),
    )
    .await;
    browser.get("/roles").await.text().await.unwrap();
    let text = metrics_text(&app).await;
    assert!(
        sample(
            &text,
            r#"keystone_dashboard_upstream_requests_total{method="GET",route="/v1/platforms/me/roles",outcome="server_error"}"#
        )
        .unwrap_or_default()
            >= 1.0,
        "{text}"
    );

    browser.post_form("/auth/logout", &[]).await;
    let text = metrics_text(&app).await;
    assert_eq!(
        sample(&text, "keystone_dashboard_active_sessions"),
        Some(0.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_only_for_the_configured_scrapers() {
    let app = TestApp::builder()
        .config(|config| config.metrics_allowed_from = vec!["10.0.0.0/8".parse().unwrap()])
        .spawn()
        .await;
    let reply = reqwest::get(format!("{}/metrics", app.addr_url))
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::NOT_FOUND);

    // A forwarded address is believed only from a trusted proxy: here loopback is one, and the
    // client it names is not a scraper.
    let proxied = TestApp::builder()
        .config(|config| config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()])
        .spawn()
        .await;
    let http = reqwest::Client::new();
    let forwarded = |app: &TestApp| {
        http.get(format!("{}/metrics", app.addr_url))
            .header("x-forwarded-for", "203.0.113.5")
            .send()
    };
    assert_eq!(
        forwarded(&proxied).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    // Without trusted proxies the same header is ignored: the loopback peer is the client.
    let direct = common::spawn_app().await;
    assert_eq!(forwarded(&direct).await.unwrap().status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_has_a_request_id_that_reaches_the_api() {
    let app = TestApp::builder()
        .config(|config| config.trusted_proxies = vec!["127.0.0.2".parse().unwrap()])
        .spawn()
        .await;
    let browser = app.browser();
    browser.sign_in().await;
    reset_sandbox_stats(&app.sandbox_url).await;

    let page = browser.get("/members").await;
    let request_id = page.headers()["x-request-id"].to_str().unwrap().to_owned();
    page.text().await.unwrap();
    assert_eq!(request_id.len(), 32, "{request_id}");
    let stats = sandbox_stats(&app.sandbox_url).await;
    let upstream_ids: Vec<&str> = stats["recent_requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|request| request["request_id"].as_str().unwrap_or("(none)"))
        .collect();
    assert!(!upstream_ids.is_empty());
    assert!(
        upstream_ids.iter().all(|id| *id == request_id),
        "{request_id} vs {upstream_ids:?}"
    );

    // An id from a browser (not a trusted proxy) is replaced, never echoed or sent on.
    let reply = reqwest::Client::new()
        .get(format!("{}/healthz", app.addr_url))
        .header("x-request-id", "attacker-chosen")
        .send()
        .await
        .unwrap();
    let id = reply.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(id, "attacker-chosen");
    assert_eq!(id.len(), 32);

    // From a trusted proxy, a plain id is kept, so the proxy's logs join ours.
    let via_proxy = reqwest::Client::builder()
        .local_address(Some("127.0.0.2".parse().unwrap()))
        .build()
        .unwrap();
    let reply = via_proxy
        .get(format!("{}/healthz", app.addr_url))
        .header("x-request-id", "edge-7f3a")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.headers()["x-request-id"], "edge-7f3a");
}

/// Waits out the readiness cache, so the next probe asks the dependencies again.
async fn past_the_readiness_cache() {
    tokio::time::sleep(READINESS_CACHED_FOR + Duration::from_millis(100)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_when_the_api_and_provider_are_down_and_recovers() {
    let (listener, public_url) = reserve_port();
    let sandbox = spawn_sandbox(&public_url, |_| {}).await;
    let sandbox_addr = sandbox.addr;
    let app = TestApp::builder()
        .external_sandbox(&sandbox.base_url())
        .listener(listener)
        .config(|config| config.public_url = Some(public_url.clone()))
        .spawn()
        .await;
    let (status, body) = readiness(&app).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["checks"]["keystone_api"], "ok");

    sandbox.stop();
    drop(sandbox);
    past_the_readiness_cache().await;
    let (status, body) = readiness(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["ready"], false);
    assert_eq!(body["checks"]["keystone_api"], "failing");
    assert_eq!(body["checks"]["identity_provider"], "failing");
    assert_eq!(body["checks"]["session_store"], "ok");
    // Liveness is not readiness: the process itself is fine.
    let live = reqwest::get(format!("{}/healthz", app.addr_url))
        .await
        .unwrap();
    assert_eq!(live.status(), StatusCode::OK);

    // Both come back on the same address: readiness follows without a restart of the dashboard.
    let _back = spawn_sandbox(&public_url, |config| config.addr = sandbox_addr).await;
    past_the_readiness_cache().await;
    let (status, body) = readiness(&app).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["checks"]["identity_provider"], "ok");
    assert_eq!(body["checks"]["keystone_api"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_when_the_session_store_is_down_and_recovers() {
    let mut redis = RedisServer::start().await;
    let app = TestApp::builder()
        .config(|config| {
            config.session_store = SessionStoreKind::Redis;
            config.redis_url = Some(redis.url.clone());
            config.token_encryption_key =
                Some("Vb0aN0r7mJ3rP3yXz6Xk1qJ8cT5uW2eH9fD4sG7hK1o=".to_owned());
        })
        .spawn()
        .await;
    assert_eq!(readiness(&app).await.0, StatusCode::OK);
    redis.stop();
    past_the_readiness_cache().await;
    let (status, body) = readiness(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["checks"]["session_store"], "failing");
    assert_eq!(body["checks"]["keystone_api"], "ok");

    redis.restart().await;
    // The client reconnects with a back-off of up to 2 s.
    let mut recovered = None;
    for _ in 0..10 {
        past_the_readiness_cache().await;
        let (status, body) = readiness(&app).await;
        if status == StatusCode::OK {
            recovered = Some(body);
            break;
        }
    }
    let body = recovered.expect("readiness recovers once Redis is back");
    assert_eq!(body["checks"]["session_store"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_probes_never_make_the_dashboard_hammer_its_dependencies() {
    let app = spawn_app().await;
    // Every discovery fetch from now on uses up one of these (the delay itself is nothing).
    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "path_prefix": "/.well-known/openid-configuration",
                            "action": { "kind": "delay", "ms": 0 }, "times": 1000 }] }),
    )
    .await;
    reset_sandbox_stats(&app.sandbox_url).await;
    let probes = (0..20).map(|_| readiness(&app));
    for (status, body) in futures::future::join_all(probes).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    for _ in 0..20 {
        let (status, body) = readiness(&app).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let fetched = 1000 - fault_uses_left(&app.sandbox_url).await;
    let api_calls = sandbox_stats(&app.sandbox_url).await["api_requests"]
        .as_u64()
        .unwrap();
    assert!(
        fetched <= 1 && api_calls <= 1,
        "40 probes within one interval asked the provider {fetched} times and the API {api_calls} times"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_http_methods_do_not_grow_the_metrics() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let series = |text: &str| text.lines().filter(|line| !line.starts_with('#')).count();
    let send = |index: usize| {
        let method = reqwest::Method::from_bytes(format!("BREW{index}").as_bytes()).unwrap();
        http.request(method, format!("{}/", app.addr_url)).send()
    };
    // One made-up method and one scrape first, so their series exist before counting.
    send(0).await.unwrap();
    metrics_text(&app).await;
    let before = series(&metrics_text(&app).await);
    for chunk in (1..2_000).collect::<Vec<_>>().chunks(50) {
        for reply in futures::future::join_all(chunk.iter().map(|&index| send(index))).await {
            reply.unwrap();
        }
    }
    let text = metrics_text(&app).await;
    assert_eq!(series(&text), before, "2,000 made-up methods added series");
    assert!(!text.contains("BREW"), "{text}");
    assert!(text.contains(r#"method="other""#), "{text}");
}
