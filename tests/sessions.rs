//! Tokens under load and across processes: single-flight refresh (one replica and two replicas on a
//! real Redis) and sessions that survive a dashboard restart.

mod common;

use std::time::{Duration, Instant};

use common::{
    reserve_port, reset_sandbox_stats, sandbox_stats, spawn_sandbox, Browser, RedisServer, TestApp,
};
use futures::future::join_all;
use keystone_dashboard::server::SessionStoreKind;
use reqwest::StatusCode;

/// Access tokens last this long in these tests; the BFF refreshes when less than the margin is left.
const TOKEN_TTL: i64 = 6;
const REFRESH_MARGIN: u64 = 2;
const CONCURRENT_REQUESTS: usize = 100;

/// Waits until the access token issued at `signed_in_at` is inside the refresh margin.
async fn until_refresh_is_due(signed_in_at: Instant) {
    let due = Duration::from_secs((TOKEN_TTL as u64) - REFRESH_MARGIN) + Duration::from_millis(500);
    tokio::time::sleep(due.saturating_sub(signed_in_at.elapsed())).await;
}

/// Makes the provider's token endpoint as slow as a real one far away, so the requests of the storm
/// overlap the refresh: without single flight, every one of them would refresh too.
async fn slow_token_endpoint(sandbox_url: &str) {
    common::set_faults(
        sandbox_url,
        serde_json::json!({ "rules": [{ "path_prefix": "/oauth/token", "action": { "kind": "delay", "ms": 400 } }] }),
    )
    .await;
}

/// Fires the shell server function (two KeyStone API calls each) from every browser at once.
async fn storm(browsers: &[Browser]) -> Vec<StatusCode> {
    let calls = (0..CONCURRENT_REQUESTS).map(|index| {
        let browser = &browsers[index % browsers.len()];
        async move { browser.server_fn("shell", &[]).await.0 }
    });
    join_all(calls).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_requests_at_expiry_cause_exactly_one_refresh() {
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.access_token_ttl_seconds = TOKEN_TTL)
        .config(|config| config.token_refresh_margin_seconds = REFRESH_MARGIN)
        .spawn()
        .await;
    let browser = app.browser();
    browser.sign_in().await;
    let signed_in_at = Instant::now();
    until_refresh_is_due(signed_in_at).await;
    reset_sandbox_stats(&app.sandbox_url).await;
    slow_token_endpoint(&app.sandbox_url).await;

    let statuses = storm(std::slice::from_ref(&browser)).await;
    assert!(
        statuses.iter().all(|status| *status == StatusCode::OK),
        "{statuses:?}"
    );
    let stats = sandbox_stats(&app.sandbox_url).await;
    assert_eq!(stats["grants"]["refresh_token"], 1, "{stats}");
    assert!(
        stats["api_requests"].as_u64().unwrap() >= 2 * CONCURRENT_REQUESTS as u64,
        "{stats}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_sharing_redis_refresh_once_and_share_the_session() {
    let redis = RedisServer::start().await;
    // Both replicas stand behind one public URL, as behind a load balancer.
    let (listener, public_url) = reserve_port();
    let sandbox = spawn_sandbox(&public_url, |sandbox| {
        sandbox.access_token_ttl_seconds = TOKEN_TTL
    })
    .await;
    let key = "q1Xz0n7b3S0aUq5kqv8Yk0x9T3mW2bJH5o1vFh4sL6c=";
    let replica = |listener: Option<std::net::TcpListener>| {
        let mut builder = TestApp::builder()
            .external_sandbox(&sandbox.base_url())
            .config(|config| {
                config.session_store = SessionStoreKind::Redis;
                config.redis_url = Some(redis.url.clone());
                config.token_encryption_key = Some(key.to_owned());
                config.token_refresh_margin_seconds = REFRESH_MARGIN;
                config.public_url = Some(public_url.clone());
            });
        if let Some(listener) = listener {
            builder = builder.listener(listener);
        }
        builder.spawn()
    };
    let first = replica(Some(listener)).await;
    let second = replica(None).await;
    let second_addr = second.addr_url.clone();

    let browser = first.browser();
    browser.sign_in().await;
    let signed_in_at = Instant::now();
    let via_second = browser.via(&second_addr);
    let (status, session) = via_second.server_fn("session", &[]).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the other replica knows the session: {session}"
    );

    until_refresh_is_due(signed_in_at).await;
    reset_sandbox_stats(&sandbox.base_url()).await;
    slow_token_endpoint(&sandbox.base_url()).await;
    let statuses = storm(&[browser.via(&first.base_url), browser.via(&second_addr)]).await;
    assert!(
        statuses.iter().all(|status| *status == StatusCode::OK),
        "{statuses:?}"
    );
    let stats = sandbox_stats(&sandbox.base_url()).await;
    assert_eq!(stats["grants"]["refresh_token"], 1, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_browser_stays_signed_in_across_a_restart() {
    let data_dir = std::env::temp_dir().join(format!("keystone-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let (listener, public_url) = reserve_port();
    let sandbox = spawn_sandbox(&public_url, |_| {}).await;
    let start = |listener: std::net::TcpListener| {
        TestApp::builder()
            .external_sandbox(&sandbox.base_url())
            .listener(listener)
            .config(|config| {
                config.session_store = SessionStoreKind::Embedded;
                config.data_dir = data_dir.clone();
            })
            .spawn()
    };
    let app = start(listener).await;
    let browser = app.browser();
    browser.sign_in().await;
    assert_eq!(browser.get("/members").await.status(), StatusCode::OK);
    app.stop().await;

    let listener = std::net::TcpListener::bind(public_url.trim_start_matches("http://")).unwrap();
    let _app = start(listener).await;
    let page = browser.get("/members").await;
    assert_eq!(
        page.status(),
        StatusCode::OK,
        "still signed in after the restart"
    );
    assert!(page.text().await.unwrap().contains(common::ADA_NAME));
    let (status, _) = browser.server_fn("shell", &[]).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the stored tokens still open and work"
    );

    // Nothing in the store's files is a usable token.
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(&data_dir).unwrap() {
        stored.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let stored = String::from_utf8_lossy(&stored);
    assert_eq!(common::find_jwt(&stored), None, "no JWT in the store");
    let refresh_tokens: Vec<String> = sandbox
        .state
        .store
        .read(|data| data.refresh_tokens.keys().cloned().collect());
    assert!(!refresh_tokens.is_empty());
    for token in refresh_tokens {
        assert!(!stored.contains(&token), "no refresh token in the store");
    }
    let _ = std::fs::remove_dir_all(&data_dir);
}
