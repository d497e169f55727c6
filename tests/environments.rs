//! Environments, the overview and the activity log, through the server functions against the
//! real sandbox.

mod common;

use common::{spawn_app, Browser, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn manager(app: &TestApp) -> Browser {
    let browser = app.browser();
    browser.sign_in().await;
    browser
}

async fn environment(browser: &Browser, slug: &str) -> Value {
    let (status, view) = browser.server_fn("environments", &[]).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    view["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|listed| &listed["Parsed"])
        .find(|environment| environment["slug"] == slug)
        .cloned()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environments_are_created_with_validated_fields() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let create = |slug: &'static str, timeout: &'static str| {
        let browser = &browser;
        async move {
            browser
                .server_fn(
                    "environments/create",
                    &[
                        ("name", "QA"),
                        ("slug", slug),
                        ("auth0_client_id", "qa-client"),
                        ("default_timeout_seconds", timeout),
                    ],
                )
                .await
        }
    };
    let (status, body) = create("QA env", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Validation"][0]["field"], "slug", "{body}");
    let (status, body) = create("qa", "59").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["Validation"][0]["message"]
        .as_str()
        .unwrap()
        .contains("60 to 604800"));

    let (status, body) = create("qa", "120").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["slug"], "qa");
    assert_eq!(body["default_timeout_seconds"], 120);
    let (status, body) = create("qa", "").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let id = environment(&browser, "qa").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = browser
        .server_fn(
            "environments/update",
            &[
                ("id", &id),
                ("name", "Quality"),
                ("default_timeout_seconds", "600"),
                ("rate_limit_rpm", "90"),
                ("webhook_url", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let qa = environment(&browser, "qa").await;
    assert_eq!(
        (qa["name"].clone(), qa["rate_limit_rpm"].clone()),
        (json!("Quality"), json!(90))
    );
    let (status, _) = browser
        .server_fn(
            "environments/update",
            &[("id", &id), ("name", "Quality"), ("rate_limit_rpm", "many")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_is_confirmed_refuses_m2m_and_shows_in_overview_and_activity() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let staging = environment(&browser, "staging").await;
    let id = staging["id"].as_str().unwrap();
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::OK
    );

    let (status, body) = browser
        .server_fn("environments/active", &[("id", id), ("active", "false")])
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    assert!(
        body["NeedsConfirmation"]
            .as_str()
            .unwrap()
            .contains("refuses its M2M credentials"),
        "{body}"
    );
    assert_eq!(environment(&browser, "staging").await["is_active"], true);

    let (status, body) = browser
        .server_fn(
            "environments/active",
            &[("id", id), ("active", "false"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["is_active"], false);
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::FORBIDDEN
    );

    let (_, overview) = browser.server_fn("overview", &[]).await;
    let card = |overview: &Value, slug: &str| {
        overview["environments"]["Ok"]
            .as_array()
            .unwrap()
            .iter()
            .find(|card| card["slug"] == slug)
            .cloned()
            .unwrap()
    };
    assert_eq!(card(&overview, "staging")["is_active"], false);
    assert_eq!(card(&overview, "production")["allowlist_size"]["Ok"], 3);
    assert_eq!(card(&overview, "staging")["allowlist_size"]["Ok"], 0);
    assert_eq!(overview["pending_invitations"]["Ok"], 2);
    assert_eq!(overview["roles"]["Ok"], json!(["Platform Manager"]));
    assert_eq!(
        overview["recent_activity"]["Ok"][0]["Parsed"]["type"],
        "environment.deactivated"
    );

    let (status, _) = browser
        .server_fn("environments/active", &[("id", id), ("active", "true")])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::OK
    );

    // The log lists both changes under staging, and not under production.
    let (status, staging_log) = browser
        .server_fn("activity", &[("filters[environment]", "staging")])
        .await;
    assert_eq!(status, StatusCode::OK, "{staging_log}");
    let kinds: Vec<&str> = staging_log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["Parsed"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        &kinds[..2],
        ["environment.reactivated", "environment.deactivated"],
        "newest first: {kinds:?}"
    );
    let (_, production_log) = browser
        .server_fn("activity", &[("filters[environment]", "production")])
        .await;
    assert!(production_log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|entry| !entry["Parsed"]["type"]
            .as_str()
            .unwrap()
            .starts_with("environment.")));
    let (_, searched) = browser
        .server_fn(
            "activity",
            &[
                ("filters[search]", "reactivated"),
                ("filters[category]", "environment"),
            ],
        )
        .await;
    assert_eq!(searched["total"], 1, "{searched}");
    let (status, _) = browser
        .server_fn("activity", &[("filters[environment]", "nowhere")])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_sees_environments_and_cannot_change_them() {
    let app = spawn_app().await;
    let viewer = app.browser();
    viewer.sign_in_as("auth0|acme-dmitri", "").await;
    let (status, view) = viewer.server_fn("environments", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["can_manage"], false);
    let html = viewer.get("/environments").await.text().await.unwrap();
    assert!(html.contains(r#"data-testid="read-only""#));
    assert!(!html.contains(r#"data-testid="create-environment-form""#));
    let (status, _) = viewer
        .server_fn(
            "environments/create",
            &[
                ("name", "QA"),
                ("slug", "qa"),
                ("auth0_client_id", "qa-client"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, overview) = viewer.server_fn("overview", &[]).await;
    assert_eq!(overview["roles"]["Ok"], json!(["Viewer"]));
}
