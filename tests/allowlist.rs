//! The IP allowlist server functions against the real sandbox: validation, the confirmations that
//! prevent lockouts, the effect on M2M traffic, bulk adds, export and read-only members.

mod common;

use common::{spawn_app, Browser, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

const VIEWER: &str = "auth0|acme-dmitri";

/// Ada, signed in and switched to staging (whose list starts empty).
async fn manager_on_staging(app: &TestApp) -> Browser {
    let browser = app.browser();
    browser.sign_in().await;
    let (status, _) = browser
        .server_fn("environment", &[("slug", "staging")])
        .await;
    assert_eq!(status, StatusCode::OK);
    browser
}

async fn entries(browser: &Browser) -> Vec<Value> {
    let (status, view) = browser.server_fn("allowlist", &[]).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    view["entries"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_entry_restricts_m2m_traffic_only_once_confirmed() {
    let app = spawn_app().await;
    let browser = manager_on_staging(&app).await;
    let (_, view) = browser.server_fn("allowlist", &[]).await;
    assert_eq!(view["environment"]["slug"], "staging");
    assert_eq!(view["can_manage"], true);
    assert_eq!(entries(&browser).await.len(), 0);
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::OK,
        "an empty list allows everyone"
    );

    let office = [("cidr", "198.51.100.0/24"), ("description", "office")];
    let (status, body) = browser.server_fn("allowlist/add", &office).await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED, "{body}");
    assert!(
        body["NeedsConfirmation"]
            .as_str()
            .unwrap()
            .contains("refused at once"),
        "{body}"
    );
    assert_eq!(entries(&browser).await.len(), 0, "nothing was added");

    let (status, body) = browser
        .server_fn("allowlist/add", &[office[0], office[1], ("confirm", "yes")])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["cidr"], "198.51.100.0/24");
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::FORBIDDEN,
        "127.0.0.1 is outside the list"
    );

    // A second entry needs no confirmation; it lets this machine in.
    let (status, body) = browser
        .server_fn(
            "allowlist/add",
            &[("cidr", "127.0.0.1"), ("description", "CI")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["cidr"], "127.0.0.1/32",
        "a bare address is stored as /32"
    );
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::OK,
        "inside the list"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_networks_are_refused_with_a_specific_message_before_the_api_is_called() {
    let app = spawn_app().await;
    let browser = manager_on_staging(&app).await;
    let (status, body) = browser
        .server_fn(
            "allowlist/add",
            &[("cidr", "10.1.2.3/8"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = body["Validation"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("host bits") && message.contains("10.0.0.0/8"),
        "{message}"
    );
    assert_eq!(body["Validation"][0]["field"], "cidr");

    let (status, body) = browser
        .server_fn(
            "allowlist/add",
            &[("cidr", "not-a-network"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let long = "x".repeat(300);
    let (status, body) = browser
        .server_fn(
            "allowlist/add",
            &[
                ("cidr", "10.0.0.0/8"),
                ("description", &long),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(entries(&browser).await.len(), 0);

    let (status, _) = browser
        .server_fn(
            "allowlist/add",
            &[("cidr", "10.0.0.0/8"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for (cidr, expected) in [
        ("10.0.0.0/8", "already on the list"),
        ("10.20.30.40", "already allowed by 10.0.0.0/8"),
    ] {
        let (status, body) = browser.server_fn("allowlist/add", &[("cidr", cidr)]).await;
        assert_eq!(status, StatusCode::CONFLICT, "{cidr}");
        assert!(
            body["Conflict"].as_str().unwrap().contains(expected),
            "{body}"
        );
    }
    // Allowing everyone is possible, but only said out loud.
    let (status, body) = browser
        .server_fn("allowlist/add", &[("cidr", "::/0")])
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    assert!(body["NeedsConfirmation"]
        .as_str()
        .unwrap()
        .contains("every IPv6 address"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_changes_and_deleting_the_last_entry_need_confirming() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.sign_in().await;
    browser
        .server_fn("environment", &[("slug", "production")])
        .await;
    let (status, body) = browser
        .server_fn("allowlist/add", &[("cidr", "192.0.2.0/24")])
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    assert!(
        body["NeedsConfirmation"]
            .as_str()
            .unwrap()
            .contains("production"),
        "{body}"
    );

    let browser = manager_on_staging(&app).await;
    browser
        .server_fn(
            "allowlist/add",
            &[("cidr", "198.51.100.0/24"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::FORBIDDEN
    );
    let id = entries(&browser).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = browser.server_fn("allowlist/delete", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    assert!(
        body["NeedsConfirmation"]
            .as_str()
            .unwrap()
            .contains("every address"),
        "{body}"
    );
    assert_eq!(entries(&browser).await.len(), 1, "still there");

    let (status, body) = browser
        .server_fn("allowlist/delete", &[("id", &id), ("confirm", "yes")])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!("198.51.100.0/24"));
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::OK,
        "open to all again"
    );
    let (status, _) = browser
        .server_fn("allowlist/delete", &[("id", &id), ("confirm", "yes")])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_adds_report_every_line_and_add_the_good_ones() {
    let app = spawn_app().await;
    let browser = manager_on_staging(&app).await;
    let lines = "192.0.2.10, office\n10.0.0.0/33\n2001:db8::/48 VPN\n192.0.2.10\n";
    let (status, _) = browser
        .server_fn("allowlist/bulk", &[("lines", lines)])
        .await;
    assert_eq!(
        status,
        StatusCode::PRECONDITION_REQUIRED,
        "the first entries restrict traffic"
    );
    let (status, results) = browser
        .server_fn("allowlist/bulk", &[("lines", lines), ("confirm", "yes")])
        .await;
    assert_eq!(status, StatusCode::OK, "{results}");
    let outcomes: Vec<(u64, bool)> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|line| {
            (
                line["line"].as_u64().unwrap(),
                line["outcome"].get("Ok").is_some(),
            )
        })
        .collect();
    assert_eq!(outcomes, [(1, true), (2, false), (3, true), (4, false)]);
    let stored: Vec<(String, String)> = entries(&browser)
        .await
        .iter()
        .map(|entry| {
            (
                entry["cidr"].as_str().unwrap().to_owned(),
                entry["description"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(stored.len(), 2);
    assert!(
        stored.contains(&("192.0.2.10/32".into(), "office".into())),
        "{stored:?}"
    );
    assert!(
        stored.contains(&("2001:db8::/48".into(), "VPN".into())),
        "{stored:?}"
    );

    // The description can be edited; the export lists the entries.
    let id = entries(&browser).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = browser
        .server_fn(
            "allowlist/describe",
            &[("id", &id), ("description", "=cmd, \"quoted\"")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let csv = browser.get("/security/allowlist.csv").await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("ip-allowlist-staging.csv"));
    let csv = csv.text().await.unwrap();
    assert!(
        csv.starts_with("network,description,created_by,created_at\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains("\"'=cmd, \"\"quoted\"\"\""),
        "formula neutralised and quoted: {csv}"
    );
    assert_eq!(csv.lines().count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_sees_the_list_and_cannot_change_it() {
    let app = spawn_app().await;
    let viewer = app.browser();
    let response = viewer.sign_in_as(VIEWER, "").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    viewer
        .server_fn("environment", &[("slug", "production")])
        .await;
    let (status, view) = viewer.server_fn("allowlist", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["can_manage"], false);
    assert_eq!(
        view["entries"].as_array().unwrap().len(),
        3,
        "the seeded production list"
    );
    let html = viewer.get("/security").await.text().await.unwrap();
    assert!(html.contains("203.0.113.0/24"));
    assert!(html.contains(r#"data-testid="read-only""#));
    assert!(!html.contains(r#"data-testid="add-entry-form""#));
    // The API is the guard: even a hand-made request is refused, and said so.
    let (status, body) = viewer
        .server_fn(
            "allowlist/add",
            &[("cidr", "192.0.2.0/24"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_name_who_added_them_and_keep_the_id_when_no_name_is_known() {
    use keystone_dashboard::api::{LoadAllowlist, SwitchEnvironment};
    let app = spawn_app().await;
    let browser = app.browser();
    browser.sign_in().await;
    browser
        .call(SwitchEnvironment {
            slug: "production".to_owned(),
        })
        .await
        .unwrap();
    let view = browser.call(LoadAllowlist {}).await.unwrap();
    assert!(!view.entries.is_empty());
    for entry in &view.entries {
        assert_eq!(entry.created_by.as_deref(), Some("auth0|acme-ada"));
        assert_eq!(entry.added_by(), "Ada Okafor");
    }

    // The member list failing costs the names, never the list.
    common::set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "path_prefix": "/v1/platforms/me/members", "action": { "kind": "status", "status": 503 } }] }),
    )
    .await;
    let view = browser.call(LoadAllowlist {}).await.unwrap();
    assert!(view
        .entries
        .iter()
        .all(|entry| entry.added_by() == "auth0|acme-ada"));
}
