//! Members, invitations and roles through the server functions against the real sandbox.

mod common;

use common::{spawn_app, Browser, TestApp};
use reqwest::StatusCode;
use serde_json::Value;

async fn manager(app: &TestApp) -> Browser {
    let browser = app.browser();
    browser.sign_in().await;
    browser
}

async fn role_id(browser: &Browser, name: &str) -> String {
    let (_, view) = browser.server_fn("members", &[]).await;
    view["roles"]["Ok"]
        .as_array()
        .unwrap()
        .iter()
        .find(|role| role["name"] == name)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn member(browser: &Browser, email: &str) -> Option<Value> {
    let (status, view) = browser.server_fn("members", &[("search", email)]).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    view["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|member| member["email"] == email)
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_are_searched_and_paged_and_guardrails_are_known() {
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.seed_members = 988)
        .spawn()
        .await;
    let browser = manager(&app).await;
    let (status, view) = browser.server_fn("members", &[("offset", "950")]).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["total"], 1000, "12 seeded people plus 988 generated");
    assert_eq!(view["offset"], 950);
    let html = browser
        .get("/members?offset=950")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("951–1000 of 1000"),
        "the last page, server-rendered from the URL"
    );
    assert!(html.contains("← Previous") && !html.contains("Next →"));
    assert_eq!(view["members"].as_array().unwrap().len(), 50);
    assert_eq!(view["can_manage"], true);
    assert_eq!(view["me"], common::ADA);
    assert!(view["manager_count"].as_u64().unwrap() >= 2);
    assert_eq!(view["invitations"]["Ok"].as_array().unwrap().len(), 2);
    let (_, found) = browser.server_fn("members", &[("search", "grace")]).await;
    assert_eq!(found["total"], 1);
    let html = browser
        .get("/members?search=grace")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("grace@acme-markets.example"),
        "server-rendered from the URL"
    );
    let own_row = browser
        .get("/members?search=ada%40")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        own_row.contains("You cannot change or remove yourself"),
        "the guardrail is explained on Ada's own row"
    );
}

/// How many times the API was asked for a page of members since the counters were reset.
async fn member_list_reads(app: &TestApp) -> usize {
    let stats = common::sandbox_stats(&app.sandbox_url).await;
    stats["recent_requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|request| {
            request["method"] == "GET" && request["path"] == "/v1/platforms/me/members"
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manager_count_is_remembered_briefly_and_recounted_after_a_change() {
    // Sorted by name, Grace (the second Platform Manager) comes after the 988 generated members.
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.seed_members = 988)
        .spawn()
        .await;
    let browser = manager(&app).await;
    let developer = role_id(&browser, "Developer").await;
    let viewer = role_id(&browser, "Viewer").await;
    let ben = member(&browser, "ben@acme-markets.example").await.unwrap();

    // Counted already (above); the next renders reuse the count: one read, the page itself.
    common::reset_sandbox_stats(&app.sandbox_url).await;
    let (_, view) = browser.server_fn("members", &[]).await;
    assert_eq!(view["manager_count"], 2);
    assert_eq!(member_list_reads(&app).await, 1);

    // A role change through this replica makes the next render count again, through every page.
    let (status, body) = browser
        .server_fn(
            "members/roles",
            &[
                ("user_id", ben["user_id"].as_str().unwrap()),
                ("role_ids[]", &developer),
                ("role_ids[]", &viewer),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    common::reset_sandbox_stats(&app.sandbox_url).await;
    let (_, view) = browser.server_fn("members", &[]).await;
    assert_eq!(view["manager_count"], 2);
    let reads = member_list_reads(&app).await;
    assert_eq!(
        reads,
        1 + 10,
        "the page, then 1,000 members 100 at a time (the most the API is asked for): {reads}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_report_every_address_and_can_be_resent_and_revoked() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let viewer = role_id(&browser, "Viewer").await;
    let (status, body) = browser
        .server_fn(
            "members/invite",
            &[("emails", "new@example.com"), ("send_email", "true")],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no role chosen: {body}"
    );

    let (status, outcomes) = browser
        .server_fn(
            "members/invite",
            &[
                (
                    "emails",
                    "new@example.com, ben@acme-markets.example; not-an-email, NEW@example.com",
                ),
                ("role_ids[]", &viewer),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{outcomes}");
    let results: Vec<(String, bool)> = outcomes
        .as_array()
        .unwrap()
        .iter()
        .map(|outcome| {
            (
                outcome["email"].as_str().unwrap().to_owned(),
                outcome["result"].get("Ok").is_some(),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            ("new@example.com".to_owned(), true),
            ("ben@acme-markets.example".to_owned(), false),
            ("not-an-email".to_owned(), false),
            ("NEW@example.com".to_owned(), false)
        ]
    );
    let (_, view) = browser.server_fn("members", &[]).await;
    let pending = view["invitations"]["Ok"].as_array().unwrap();
    let invitation = pending
        .iter()
        .find(|invitation| invitation["invitee_email"] == "new@example.com")
        .unwrap();
    assert_eq!(invitation["roles"], serde_json::json!(["Viewer"]));
    assert_eq!(invitation["role_names"], serde_json::json!(["Viewer"]));
    assert_eq!(invitation["expires_label"], "in 7 days");
    assert!(
        pending.iter().any(|invitation| invitation["expires_label"]
            .as_str()
            .unwrap()
            .ends_with("hours")),
        "one expires within 4 hours"
    );

    let id = invitation["id"].as_str().unwrap().to_owned();
    let (status, resent) = browser
        .server_fn("invitations/resend", &[("id", &id)])
        .await;
    assert_eq!(status, StatusCode::OK, "{resent}");
    assert_ne!(resent["id"], id.as_str());
    assert_eq!(resent["roles"], serde_json::json!(["Viewer"]));
    let (status, _) = browser
        .server_fn(
            "invitations/revoke",
            &[("id", resent["id"].as_str().unwrap())],
        )
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    let (status, _) = browser
        .server_fn(
            "invitations/revoke",
            &[("id", resent["id"].as_str().unwrap()), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, view) = browser.server_fn("members", &[]).await;
    assert_eq!(
        view["invitations"]["Ok"].as_array().unwrap().len(),
        2,
        "back to the seeded two"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_change_and_members_leave_but_never_yourself_or_the_last_manager() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let developer = role_id(&browser, "Developer").await;
    let viewer = role_id(&browser, "Viewer").await;
    let ben = member(&browser, "ben@acme-markets.example").await.unwrap();
    let ben_id = ben["user_id"].as_str().unwrap().to_owned();

    let (status, changed) = browser
        .server_fn(
            "members/roles",
            &[
                ("user_id", &ben_id),
                ("role_ids[]", &viewer),
                ("role_ids[]", &developer),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    let names: Vec<&str> = changed["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|role| role["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Viewer") && names.contains(&"Developer"),
        "{names:?}"
    );
    let (status, _) = browser
        .server_fn("members/roles", &[("user_id", &ben_id)])
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "at least one role"
    );

    let (status, body) = browser
        .server_fn(
            "members/roles",
            &[("user_id", common::ADA), ("role_ids[]", &viewer)],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body["Forbidden"].as_str().unwrap().contains("yourself"));
    let (status, _) = browser
        .server_fn(
            "members/remove",
            &[("user_id", common::ADA), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, _) = browser
        .server_fn("members/remove", &[("user_id", &ben_id)])
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    let (status, _) = browser
        .server_fn(
            "members/remove",
            &[("user_id", &ben_id), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(member(&browser, "ben@acme-markets.example").await.is_none());

    // Grace is the other Platform Manager: demoting her would leave Ada as the last one, which is
    // fine; then Ada (signed in) cannot be touched anyway. Demote Grace, then a viewer cannot
    // manage anything.
    let grace = member(&browser, "grace@acme-markets.example")
        .await
        .unwrap();
    let (status, body) = browser
        .server_fn(
            "members/roles",
            &[
                ("user_id", grace["user_id"].as_str().unwrap()),
                ("role_ids[]", &viewer),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, view) = browser.server_fn("members", &[]).await;
    assert_eq!(
        view["manager_count"], 1,
        "Ada is the last Platform Manager now"
    );

    // Every change is in the activity log.
    let (_, log) = browser
        .server_fn("activity", &[("filters[category]", "member")])
        .await;
    let kinds: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["Parsed"]["type"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"member.roles_updated") && kinds.contains(&"member.removed"),
        "{kinds:?}"
    );

    let (_, roles) = browser.server_fn("roles", &[]).await;
    let names: Vec<&str> = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|role| role["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Platform Manager",
            "Developer",
            "Compliance Officer",
            "Viewer"
        ]
    );
    assert_eq!(roles["member_counts"]["Ok"][0], 1);
    assert!(roles["permissions"].as_array().unwrap().len() >= 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_sees_the_team_read_only() {
    let app = spawn_app().await;
    let viewer = app.browser();
    viewer.sign_in_as("auth0|acme-dmitri", "").await;
    let (_, view) = viewer.server_fn("members", &[]).await;
    assert_eq!(view["can_manage"], false);
    let html = viewer.get("/members").await.text().await.unwrap();
    assert!(html.contains(r#"data-testid="read-only""#));
    assert!(!html.contains(r#"data-testid="invite-form""#));
    // The BFF does not refuse on the viewer's behalf: the API does, per address, and nothing is
    // created (so a second try meets the same refusal, not a "duplicate").
    for attempt in 1..=2 {
        let (status, outcomes) = viewer
            .server_fn(
                "members/invite",
                &[("emails", "x@example.com"), ("role_ids[]", "rol_viewer")],
            )
            .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "the call returns per-address outcomes"
        );
        let refusal = outcomes[0]["result"]["Err"].as_str().unwrap_or_default();
        assert!(
            refusal.contains("Missing permission: members:manage"),
            "attempt {attempt}: the API's 403, not a conflict: {outcomes}"
        );
    }
    let invited = app.sandbox().state.store.read(|data| {
        data.invitations
            .iter()
            .any(|invitation| invitation.invitee_email == "x@example.com")
    });
    assert!(!invited, "no invitation was created");
}
