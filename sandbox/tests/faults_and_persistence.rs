//! Fault injection through `/_sandbox/faults`, and state that survives a restart.

mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn a_chosen_status_for_a_chosen_route_then_back_to_normal() {
    let sandbox = spawn().await;
    let token = sandbox.user_token(ADA).await;
    sandbox
        .set_faults(json!({ "rules": [
            { "method": "GET", "path_prefix": "/v1/platforms/me/members", "action": { "kind": "status", "status": 502 }, "times": 1 },
            { "path_prefix": "/v1/platforms/me/roles", "action": { "kind": "status", "status": 429, "retry_after_seconds": 7 } }
        ] }))
        .await;
    let failed = sandbox
        .bearer(&token, Some("development"))
        .get("/v1/platforms/me/members")
        .await;
    assert_eq!(failed.status(), StatusCode::BAD_GATEWAY);
    assert!(failed.json::<Value>().await.unwrap()["detail"]
        .as_str()
        .unwrap()
        .contains("fault injection"));
    assert_eq!(
        sandbox
            .bearer(&token, Some("development"))
            .get("/v1/platforms/me/members")
            .await
            .status(),
        StatusCode::OK,
        "a counted rule expires"
    );

    let limited = sandbox
        .bearer(&token, Some("development"))
        .get("/v1/platforms/me/roles")
        .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["retry-after"], "7");

    let current: Value = sandbox
        .http
        .get(sandbox.url("/_sandbox/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(current["rules"].as_array().unwrap().len(), 1);
    assert_eq!(
        sandbox
            .http
            .delete(sandbox.url("/_sandbox/faults"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        sandbox
            .bearer(&token, Some("development"))
            .get("/v1/platforms/me/roles")
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn latency_and_failure_rate_apply_to_every_route() {
    let sandbox = spawn().await;
    let token = sandbox.m2m_token("development").await;
    sandbox.set_faults(json!({ "latency_ms": 300 })).await;
    let started = Instant::now();
    assert_eq!(
        sandbox
            .bearer(&token, None)
            .get("/v1/platforms/me/environments")
            .await
            .status(),
        StatusCode::OK
    );
    assert!(started.elapsed() >= Duration::from_millis(300));

    sandbox.set_faults(json!({ "failure_rate": 1.0 })).await;
    assert_eq!(
        sandbox
            .bearer(&token, None)
            .get("/v1/platforms/me/environments")
            .await
            .status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let token_endpoint = sandbox
        .http
        .post(sandbox.url("/oauth/token"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        token_endpoint.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "the identity provider can be made to fail too"
    );
    // The control endpoints never fail, or a test could not switch faults off again.
    assert_eq!(
        sandbox
            .http
            .delete(sandbox.url("/_sandbox/faults"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn dropped_connections_before_and_after_the_change_is_applied() {
    let sandbox = spawn().await;
    let ben = sandbox.user_token(BEN).await;
    let staging = sandbox.environment_id("staging");
    let path = format!("/v1/platforms/me/environments/{staging}/ip-allowlist");
    let count = || async {
        sandbox.bearer(&ben, Some("staging")).get_json(&path).await["total"]
            .as_u64()
            .unwrap()
    };

    sandbox.set_faults(json!({ "rules": [{ "method": "POST", "path_prefix": path, "action": { "kind": "drop_before_apply" }, "times": 1 }] })).await;
    let lost = sandbox
        .http
        .post(sandbox.url(&path))
        .bearer_auth(&ben)
        .header("X-Keystone-Environment", "staging")
        .json(&json!({ "cidr": "192.0.2.0/24" }))
        .send()
        .await;
    assert!(lost.is_err(), "no reply at all");
    assert_eq!(
        count().await,
        0,
        "dropped before the handler: nothing applied"
    );

    sandbox.set_faults(json!({ "rules": [{ "method": "POST", "path_prefix": path, "action": { "kind": "drop_after_apply" }, "times": 1 }] })).await;
    let lost = sandbox
        .http
        .post(sandbox.url(&path))
        .bearer_auth(&ben)
        .header("X-Keystone-Environment", "staging")
        .json(&json!({ "cidr": "192.0.2.0/24" }))
        .send()
        .await;
    assert!(lost.is_err(), "no reply at all");
    assert_eq!(
        count().await,
        1,
        "dropped after the handler: the change was applied"
    );
}

#[tokio::test]
async fn malformed_bodies_keep_their_status() {
    let sandbox = spawn().await;
    let token = sandbox.m2m_token("development").await;
    sandbox.set_faults(json!({ "rules": [{ "path_prefix": "/v1/platforms/me/environments", "action": { "kind": "malformed_body" } }] })).await;
    let response = sandbox
        .bearer(&token, None)
        .get("/v1/platforms/me/environments")
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(response.json::<Value>().await.is_err());
}

#[tokio::test]
async fn a_stopped_sandbox_refuses_connections_until_restarted() {
    let mut sandbox = spawn().await;
    let token = sandbox.m2m_token("development").await;
    sandbox.sandbox.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let refused = sandbox
        .http
        .get(sandbox.url("/v1/platforms/me/environments"))
        .bearer_auth(&token)
        .send()
        .await;
    assert!(refused.unwrap_err().is_connect());
    sandbox.sandbox.restart().await.unwrap();
    assert_eq!(
        sandbox
            .bearer(&token, None)
            .get("/v1/platforms/me/environments")
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn state_and_signing_key_survive_a_restart_when_files_are_given() {
    let directory =
        std::env::temp_dir().join(format!("keystone-sandbox-test-{}", uuid::Uuid::new_v4()));
    let config = |addr| keystone_sandbox::SandboxConfig {
        addr,
        state_file: Some(directory.join("state.json")),
        signing_key_file: Some(directory.join("key.pem")),
        ..common::config()
    };
    let first = spawn_with(config("127.0.0.1:0".parse().unwrap())).await;
    // Tokens name their issuer, the sandbox's URL: a restart serves the same address.
    let addr = first.sandbox.addr;
    let login = first.login(ADA).await;
    let token = login["access_token"].as_str().unwrap().to_owned();
    let created = first
        .bearer(&token, Some("development"))
        .post(
            "/v1/platforms/me/invitations",
            json!({ "email": "kept@acme.example", "role_ids": ["rol_viewer"] }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    drop(first);
    tokio::time::sleep(Duration::from_millis(100)).await;

    let second = spawn_with(config(addr)).await;
    let invitations = second
        .bearer(&token, Some("development"))
        .get_json("/v1/platforms/me/invitations")
        .await;
    assert!(
        invitations.to_string().contains("kept@acme.example"),
        "the change survived"
    );
    // The same key verifies the old token, and the refresh token still works.
    assert_eq!(
        second
            .refresh(login["refresh_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
    // Both hold secrets (refresh tokens and webhook secrets; the key signs any token): the
    // owner's alone, whatever the umask.
    #[cfg(unix)]
    for file in ["state.json", "key.pem"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(directory.join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{file}: {mode:o}");
    }
    std::fs::remove_dir_all(directory).ok();
}

#[tokio::test]
async fn an_m2m_request_is_logged_without_rewriting_the_state_file() {
    let directory =
        std::env::temp_dir().join(format!("keystone-sandbox-test-{}", uuid::Uuid::new_v4()));
    let state_file = directory.join("state.json");
    let sandbox = spawn_with(keystone_sandbox::SandboxConfig {
        state_file: Some(state_file.clone()),
        ..common::config()
    })
    .await;
    let saved = std::fs::read(&state_file).unwrap();
    let m2m = sandbox.m2m_token("staging").await;
    let called = sandbox
        .bearer(&m2m, None)
        .get("/v1/platforms/me/environments")
        .await;
    assert_eq!(called.status(), StatusCode::OK);
    assert_eq!(
        std::fs::read(&state_file).unwrap(),
        saved,
        "a logged request does not rewrite the state"
    );
    // It is in the log, and the next acknowledged change saves it with the rest.
    let ada = sandbox.user_token(ADA).await;
    let log = sandbox
        .bearer(&ada, Some("staging"))
        .get_json("/v1/activity?type=api.request")
        .await;
    assert_eq!(log["total"], 1, "{log}");
    let renamed = sandbox
        .bearer(&ada, Some("development"))
        .patch("/v1/platforms/me", json!({ "name": "Acme Markets Ltd" }))
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let state = String::from_utf8(std::fs::read(&state_file).unwrap()).unwrap();
    assert!(state.contains("api.request"));
    std::fs::remove_dir_all(directory).ok();
}
