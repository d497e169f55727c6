//! The one client of the KeyStone API: what it sends, what it never sends, how it retries and how
//! upstream errors reach the UI. Against the real sandbox, with its fault injection.

mod common;

use common::{
    fault_uses_left, reset_sandbox_stats, sandbox_stats, set_faults, spawn_app, TestApp, ADA,
};
use keystone_dashboard::{
    api::{ApiError, FieldError},
    domain::EnvironmentSlug,
    server::upstream::{paths, Caller, UpstreamClient},
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

/// Headers the dashboard may send upstream; anything else would be a leak from the browser.
const ALLOWED_HEADERS: [&str; 10] = [
    "host",
    "authorization",
    "x-keystone-environment",
    "keystone-version",
    "x-request-id",
    "accept",
    "user-agent",
    "content-type",
    "content-length",
    "accept-encoding",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_calls_carry_the_token_and_environment_but_nothing_from_the_browser() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.sign_in().await;
    reset_sandbox_stats(&app.sandbox_url).await;

    let (status, _) = browser.server_fn("shell", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = browser
        .server_fn("environment", &[("slug", "production")])
        .await;
    assert_eq!(status, StatusCode::OK);
    // The settings page reads the platform afresh (the shell's read is remembered).
    let (status, _) = browser.server_fn("settings/general", &[]).await;
    assert_eq!(status, StatusCode::OK);

    let stats = sandbox_stats(&app.sandbox_url).await;
    let requests = stats["recent_requests"].as_array().unwrap();
    assert!(requests.len() >= 4, "{stats}");
    for request in requests {
        assert_eq!(request["has_cookie"], false, "{request}");
        for name in request["header_names"].as_array().unwrap() {
            assert!(
                ALLOWED_HEADERS.contains(&name.as_str().unwrap()),
                "unexpected header {name} in {request}"
            );
        }
        assert!(request["header_names"]
            .as_array()
            .unwrap()
            .contains(&json!("authorization")));
    }
    // The platform read follows the session's environment: development, then production.
    let platform_reads: Vec<&Value> = requests
        .iter()
        .filter(|request| request["path"] == "/v1/platforms/me")
        .map(|request| &request["environment_header"])
        .collect();
    assert_eq!(
        platform_reads,
        [&json!("development"), &json!("production")]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_to_an_unknown_or_invalid_environment_is_refused() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.sign_in().await;
    let (status, body) = browser.server_fn("environment", &[("slug", "qa")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({ "NotFound": "This platform has no qa environment." })
    );
    let (status, _) = browser
        .server_fn("environment", &[("slug", "Prod; rm -rf")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, session) = browser.server_fn("session", &[]).await;
    assert_eq!(session["environment"], "development");
}

/// A signed-in member's access token, obtained through the BFF's own provider client.
async fn access_token(app: &TestApp) -> String {
    let browser = app.browser();
    let start = app
        .bff
        .provider
        .start_login(Some("org_acme_markets"), None)
        .await
        .unwrap();
    let callback = browser
        .sign_in_at_provider(&start.authorize_url, &[("user_id", ADA)])
        .await;
    let tokens = app
        .bff
        .provider
        .exchange_code(&callback.param("code").unwrap(), &start.pkce_verifier)
        .await
        .unwrap();
    keystone_dashboard::server::auth::IssuedTokens::from(&tokens).access_token
}

struct Upstream {
    client: UpstreamClient,
    token: String,
    environment: EnvironmentSlug,
}

impl Upstream {
    async fn new(app: &TestApp) -> Self {
        Self {
            client: UpstreamClient::new(
                &app.sandbox_url,
                "0.1.0",
                Duration::from_secs(5),
                Default::default(),
            ),
            token: access_token(app).await,
            environment: EnvironmentSlug::parse("development").unwrap(),
        }
    }

    fn caller(&self) -> Caller<'_> {
        Caller {
            access_token: &self.token,
            environment: &self.environment,
            request_id: None,
        }
    }

    async fn read(&self) -> Result<Value, ApiError> {
        self.client.get(&self.caller(), paths::ROLES, &[]).await
    }

    async fn invite(&self, email: &str) -> Result<Option<Value>, ApiError> {
        let roles: Value = self.read().await.unwrap();
        let viewer = roles["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|role| role["name"] == "Viewer")
            .unwrap()["id"]
            .clone();
        self.client
            .send(
                &self.caller(),
                Method::POST,
                paths::INVITATIONS,
                Some(&json!({ "email": email, "role_ids": [viewer], "send_email": false })),
            )
            .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_retried_on_gateway_errors_and_rate_limits() {
    let app = spawn_app().await;
    let upstream = Upstream::new(&app).await;
    for action in [
        json!({ "kind": "status", "status": 503 }),
        json!({ "kind": "status", "status": 502 }),
        json!({ "kind": "status", "status": 429, "retry_after_seconds": 1 }),
    ] {
        set_faults(
            &app.sandbox_url,
            json!({ "rules": [{ "path_prefix": paths::ROLES, "action": action, "times": 2 }] }),
        )
        .await;
        let roles = upstream.read().await;
        assert!(
            roles.is_ok(),
            "{action}: two failures, then success: {roles:?}"
        );
        assert_eq!(fault_uses_left(&app.sandbox_url).await, 0, "{action}");
    }

    // A read that keeps failing gives up after three attempts and says so.
    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "path_prefix": paths::ROLES, "action": { "kind": "status", "status": 504 }, "times": 10 }] }),
    )
    .await;
    assert_eq!(
        upstream.read().await,
        Err(ApiError::Unavailable {
            may_have_applied: false
        })
    );
    assert_eq!(fault_uses_left(&app.sandbox_url).await, 7, "three attempts");

    // A long Retry-After is shown to the member instead of being waited out.
    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "path_prefix": paths::ROLES, "action": { "kind": "status", "status": 429, "retry_after_seconds": 30 } }] }),
    )
    .await;
    assert_eq!(
        upstream.read().await,
        Err(ApiError::RateLimited {
            retry_after_seconds: 30
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_are_sent_once_and_say_whether_they_may_have_applied() {
    let app = spawn_app().await;
    let upstream = Upstream::new(&app).await;

    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "method": "POST", "path_prefix": paths::INVITATIONS, "action": { "kind": "status", "status": 503 }, "times": 5 }] }),
    )
    .await;
    assert_eq!(
        upstream.invite("first@example.com").await,
        Err(ApiError::Unavailable {
            may_have_applied: false
        })
    );
    assert_eq!(
        fault_uses_left(&app.sandbox_url).await,
        4,
        "a write is never retried"
    );
    set_faults(&app.sandbox_url, json!({})).await;

    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "method": "POST", "path_prefix": paths::INVITATIONS, "action": { "kind": "drop_after_apply" }, "times": 1 }] }),
    )
    .await;
    assert_eq!(
        upstream.invite("second@example.com").await,
        Err(ApiError::Unavailable { may_have_applied: true }),
        "the connection dropped after the API applied the change: the UI must not claim nothing happened"
    );
    // It was applied: inviting the same address again conflicts, with the API's own words.
    match upstream.invite("second@example.com").await {
        Err(ApiError::Conflict(detail)) => {
            assert!(detail.contains("second@example.com"), "{detail}")
        }
        other => panic!("expected a conflict, got {other:?}"),
    }

    match upstream.invite("not-an-email").await {
        Err(ApiError::Validation(fields)) => {
            assert_eq!(fields.len(), 1, "{fields:?}");
            let FieldError { field, message } = &fields[0];
            assert_eq!(field, "email");
            assert!(!message.is_empty());
        }
        other => panic!("expected a validation error, got {other:?}"),
    }

    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "path_prefix": paths::INVITATIONS, "action": { "kind": "malformed_body" }, "times": 1 }] }),
    )
    .await;
    // Answered, but not in the expected shape: the API is reachable, and the change was sent.
    assert_eq!(
        upstream.invite("third@example.com").await,
        Err(ApiError::UnexpectedReply {
            may_have_applied: true
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_api_means_nothing_was_sent() {
    let app = spawn_app().await;
    let upstream = Upstream::new(&app).await;
    app.stop_sandbox().await;
    assert_eq!(
        upstream.invite_without_roles("x@example.com").await,
        Err(ApiError::Unavailable {
            may_have_applied: false
        })
    );
    assert_eq!(
        upstream.read().await,
        Err(ApiError::Unavailable {
            may_have_applied: false
        })
    );
}

impl Upstream {
    async fn invite_without_roles(&self, email: &str) -> Result<Option<Value>, ApiError> {
        self.client
            .send(
                &self.caller(),
                Method::POST,
                paths::INVITATIONS,
                Some(&json!({ "email": email, "role_ids": [] })),
            )
            .await
    }
}
