//! The dashboard against what KeyStone publishes (issue 16): the sandbox enforces every published
//! fact, and where nothing is published the dashboard is tolerant. Each test names the finding it
//! covers; each fails on the dashboard as it was before (header missing on the environment list,
//! `limit=200`, required activity fields, `null` timeouts, one vocabulary, role names, whole pages
//! failing on one read, a bare `date_to`, "not reachable" for a reply of another shape).

mod common;

use common::*;
use keystone_dashboard::api::{
    confirmation_code, removal_warning, resend_warning, revocation_warning,
};

use reqwest::StatusCode;
use serde_json::{json, Value};

/// What the Resend dialog of `invitation` (as `/api/members` lists it) sends when confirmed.
fn resend_confirmed(invitation: &Value) -> String {
    confirmation_code(&[resend_warning(
        invitation["invitee_email"].as_str().unwrap(),
    )])
}

async fn signed_in(app: &TestApp) -> Browser {
    let browser = app.browser();
    browser.sign_in().await;
    browser
}

/// The API's recorded view of every request since the last reset.
async fn recorded_requests(app: &TestApp) -> Vec<Value> {
    sandbox_stats(&app.sandbox_url).await["recent_requests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The id of the sandbox's `development` environment.
fn development_id(data: &keystone_sandbox::world::Data) -> uuid::Uuid {
    data.environment_by_slug("development").unwrap().id
}

/// An allowlist entry as another client may have stored it (any text as the network), planted
/// straight into the sandbox's store, in development. Returns its id.
fn plant_allowlist_entry(app: &TestApp, network: &str) -> uuid::Uuid {
    let id = uuid::Uuid::new_v4();
    app.sandbox().state.store.write(|data| {
        let entry = serde_json::from_value(json!({
            "id": id, "environment_id": development_id(data),
            "cidr": network, "description": "stored by another client",
            "created_at": "2026-11-01T00:00:00Z", "created_by": "auth0|acme-ada"
        }))
        .unwrap();
        data.allowlist.push(entry);
    });
    id
}

fn ok<'a>(value: &'a Value, what: &str) -> &'a Value {
    value
        .get("Ok")
        .unwrap_or_else(|| panic!("{what} should have loaded: {value}"))
}

// 1. The header on every call, the environment list included, from a bootstrap environment.

#[tokio::test(flavor = "multi_thread")]
async fn every_page_names_the_environment_on_every_call_including_the_environment_list() {
    let app = spawn_app().await;
    let browser = signed_in(&app).await;
    reset_sandbox_stats(&app.sandbox_url).await;
    for page in PAGES {
        let response = browser.get(page).await;
        assert_eq!(response.status(), StatusCode::OK, "{page}");
        let html = response.text().await.unwrap();
        assert!(
            !html.contains("could not load your platform"),
            "{page} lost its shell"
        );
    }
    let requests = recorded_requests(&app).await;
    assert!(
        requests
            .iter()
            .any(|request| request["path"] == "/v1/platforms/me/environments"),
        "the environment list was read"
    );
    for request in &requests {
        assert!(
            request["environment_header"].is_string(),
            "sent without X-Keystone-Environment: {request}"
        );
        let headers = request["header_names"].as_array().unwrap();
        assert!(
            headers.iter().any(|name| name == "keystone-version"),
            "sent without Keystone-Version: {request}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fresh_session_names_the_configured_bootstrap_environment_first() {
    let app = TestApp::builder()
        .config(|config| config.bootstrap_environment = "staging".parse().unwrap())
        .spawn()
        .await;
    let browser = signed_in(&app).await;
    reset_sandbox_stats(&app.sandbox_url).await;
    let (status, shell) = browser.server_fn("shell", &[]).await;
    assert_eq!(status, StatusCode::OK, "{shell}");
    let requests = recorded_requests(&app).await;
    let first = &requests[0];
    assert_eq!(
        first["path"], "/v1/platforms/me/environments",
        "{requests:?}"
    );
    assert_eq!(first["environment_header"], "staging");
    assert_eq!(shell["current_environment"], "staging");
}

// 2. Lists asked at most 100 at a time, and paged through `total`.

#[tokio::test(flavor = "multi_thread")]
async fn lists_longer_than_one_call_are_paged_with_limits_the_api_accepts() {
    let app = spawn_app().await;
    let state = app.sandbox().state.clone();
    // 120 environments and 150 allowlist entries in development: more than one call each.
    state.store.write(|data| {
        let template = data.environments[0].clone();
        for index in 0..117 {
            let mut environment = template.clone();
            environment.id = uuid::Uuid::new_v4();
            environment.slug = format!("preview-{index}");
            environment.name = format!("Preview {index}");
            environment.auth0_client_id = format!("sandbox-m2m-preview-{index}");
            data.environments.push(environment);
        }
        let development = development_id(data);
        let model = data.allowlist.first().cloned();
        for index in 0..150u32 {
            let network = format!("10.{}.{}.0/24", index / 256, index % 256);
            let mut entry = model.clone().unwrap_or_else(|| {
                serde_json::from_value(json!({
                    "id": uuid::Uuid::new_v4(), "environment_id": development,
                    "cidr": network, "description": null,
                    "created_at": "2026-11-01T00:00:00Z", "created_by": "auth0|acme-ada"
                }))
                .unwrap()
            });
            entry.id = uuid::Uuid::new_v4();
            entry.environment_id = development;
            entry.cidr = network.parse().unwrap();
            data.allowlist.push(entry);
        }
    });
    let browser = signed_in(&app).await;
    let (status, shell) = browser.server_fn("shell", &[]).await;
    assert_eq!(status, StatusCode::OK, "{shell}");
    assert_eq!(shell["environments"].as_array().unwrap().len(), 120);
    let (status, allowlist) = browser.server_fn("allowlist", &[]).await;
    assert_eq!(status, StatusCode::OK, "{allowlist}");
    let entries = allowlist["entries"].as_array().unwrap().len();
    assert!(entries >= 150, "every entry was read: {entries}");
}

// 3. Activity entries with the nulls the docs allow, and no environment.

#[tokio::test(flavor = "multi_thread")]
async fn entries_without_actor_or_request_show_on_the_overview_and_the_activity_page() {
    let app = spawn_app().await;
    // The newest entry becomes one of the seeded system entries (no actor, no request fields).
    app.sandbox().state.store.write(|data| {
        let index = data
            .activity
            .iter()
            .position(|entry| serde_json::to_value(entry).unwrap()["actor_id"].is_null())
            .expect("the sandbox seeds entries without an actor");
        let entry = data.activity.remove(index);
        data.activity.push(entry);
    });
    let browser = signed_in(&app).await;
    let (status, overview) = browser.server_fn("overview", &[]).await;
    assert_eq!(status, StatusCode::OK, "{overview}");
    let recent = ok(&overview["recent_activity"], "recent activity");
    // Parsed, not merely shown as stored: the nullable fields are part of the type.
    assert!(recent[0]["Parsed"].is_object(), "{recent}");
    assert!(recent[0]["Parsed"]["actor_id"].is_null(), "{recent}");

    let (status, activity) = browser
        .server_fn("activity", &[("filters[category]", "settlement")])
        .await;
    assert_eq!(status, StatusCode::OK, "{activity}");
    let entries = activity["entries"].as_array().unwrap();
    assert!(!entries.is_empty(), "seeded settlement entries are listed");
    for entry in entries {
        let parsed = &entry["Parsed"];
        assert!(parsed.is_object(), "{entry}");
        assert!(
            parsed["method"].is_null() && parsed["actor_id"].is_null(),
            "{entry}"
        );
    }
    let page = browser.get("/activity?category=settlement").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"data-testid="activity-entry""#));
    assert!(!html.contains("activity-entry-as-stored"));
}

// 4. A blank timeout is left out, never sent as null.

#[tokio::test(flavor = "multi_thread")]
async fn an_environment_created_with_a_blank_timeout_gets_the_default() {
    let app = spawn_app().await;
    let browser = signed_in(&app).await;
    let (status, created) = browser
        .server_fn(
            "environments/create",
            &[
                ("name", "Sandbox two"),
                ("slug", "sandbox-two"),
                ("auth0_client_id", "sandbox-m2m-two"),
                ("default_timeout_seconds", ""),
                ("webhook_url", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["default_timeout_seconds"], 3600);
}

/// Slugs are "lowercase letters, digits, hyphens" [doc], with no rule about where the hyphens go:
/// one ending in a hyphen is created, listed as any other and can be switched to.
#[tokio::test(flavor = "multi_thread")]
async fn a_slug_ending_in_a_hyphen_is_an_environment_like_any_other() {
    let app = spawn_app().await;
    let browser = signed_in(&app).await;
    let (status, created) = browser
        .server_fn(
            "environments/create",
            &[
                ("name", "Legacy"),
                ("slug", "legacy-"),
                ("auth0_client_id", "sandbox-m2m-legacy"),
                ("default_timeout_seconds", ""),
                ("webhook_url", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let (status, shell) = browser.server_fn("shell", &[]).await;
    assert_eq!(status, StatusCode::OK, "{shell}");
    assert!(
        shell["environments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|choice| choice["slug"] == "legacy-"),
        "offered in the switcher: {shell}"
    );
    let (status, switched) = browser
        .server_fn("environment", &[("slug", "legacy-")])
        .await;
    assert_eq!(status, StatusCode::OK, "{switched}");
    let (_, shell) = browser.server_fn("shell", &[]).await;
    assert_eq!(shell["current_environment"], "legacy-");
}

// 5. Another permission vocabulary: actions stay offered, the API's 403 explains.

#[tokio::test(flavor = "multi_thread")]
async fn with_another_permission_vocabulary_actions_are_offered_and_work() {
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.foreign_permissions = true)
        .spawn()
        .await;
    // Ada, a Platform Manager whose token says `manage:members`, not `members:manage`.
    let browser = signed_in(&app).await;
    for name in ["members", "environments", "allowlist"] {
        let (status, view) = browser.server_fn(name, &[]).await;
        assert_eq!(status, StatusCode::OK, "{name}: {view}");
        assert_eq!(
            view["can_manage"], true,
            "{name} offers its actions: {view}"
        );
    }
    let (_, overview) = browser.server_fn("overview", &[]).await;
    assert_eq!(overview["vocabulary_known"], false, "{overview}");
    assert!(ok(&overview["roles"], "roles").as_array().is_some());
    let outcome = invite_as_viewer(&browser, "vocabulary@example.com").await;
    assert!(outcome.get("Ok").is_some(), "invited: {outcome}");
}

/// Invites `email` as a Viewer; the outcome for that one address.
async fn invite_as_viewer(browser: &Browser, email: &str) -> Value {
    let (status, outcomes) = browser
        .server_fn(
            "members/invite",
            &[("emails", email), ("role_ids[]", "rol_viewer")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{outcomes}");
    outcomes[0]["result"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn with_another_vocabulary_a_refused_action_is_explained_and_changes_nothing() {
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.foreign_permissions = true)
        .spawn()
        .await;
    // Dmitri, a Viewer: the dashboard cannot tell, so it offers the action; the API refuses.
    let viewer = app.browser();
    let signed_in = viewer.sign_in_as("auth0|acme-dmitri", "").await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let (status, view) = viewer.server_fn("members", &[]).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["can_manage"], true, "{view}");
    let outcome = invite_as_viewer(&viewer, "refused@example.com").await;
    let refusal = outcome["Err"].as_str().unwrap_or_default();
    assert!(refusal.contains("permission"), "{outcome}");
    assert!(refusal.contains("Nothing was changed"), "{outcome}");
    let invited = app.sandbox().state.store.read(|data| {
        data.invitations
            .iter()
            .any(|invitation| invitation.invitee_email == "refused@example.com")
    });
    assert!(!invited);
}

// 6. Invitation roles as ids; roles without permissions.

#[tokio::test(flavor = "multi_thread")]
async fn invitations_listing_role_ids_show_names_and_resend_keeps_every_role() {
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.invitation_roles_as_ids = true)
        .spawn()
        .await;
    let browser = signed_in(&app).await;
    let (status, view) = browser.server_fn("members", &[]).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let roles = ok(&view["roles"], "roles").as_array().unwrap().clone();
    let invitations = ok(&view["invitations"], "invitations")
        .as_array()
        .unwrap()
        .clone();
    let invitation = invitations.first().expect("a seeded invitation");
    let role_id = invitation["roles"][0].as_str().unwrap();
    let role = roles.iter().find(|role| role["id"] == role_id).unwrap();
    assert_eq!(invitation["role_names"][0], role["name"], "{invitation}");

    let (status, unconfirmed) = browser
        .server_fn(
            "invitations/resend",
            &[("id", invitation["id"].as_str().unwrap())],
        )
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED, "{unconfirmed}");
    let (status, resent) = browser
        .server_fn(
            "invitations/resend",
            &[
                ("id", invitation["id"].as_str().unwrap()),
                ("confirm", &resend_confirmed(invitation)),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{resent}");
    assert_eq!(resent["roles"], invitation["roles"], "no role was lost");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resend_that_would_lose_a_role_is_refused_and_changes_nothing() {
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.invitation_roles_as_ids = true)
        .spawn()
        .await;
    let id = app.sandbox().state.store.write(|data| {
        let invitation = data.invitations.first_mut().expect("a seeded invitation");
        invitation.role_ids.push("rol_retired".to_owned());
        invitation.id.clone()
    });
    let browser = signed_in(&app).await;
    let (status, refused) = browser
        .server_fn("invitations/resend", &[("id", &id)])
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert!(refused.to_string().contains("rol_retired"), "{refused}");
    let still_there = app.sandbox().state.store.read(|data| {
        data.invitations
            .iter()
            .any(|invitation| invitation.id == id)
    });
    assert!(still_there, "the invitation was not revoked");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resend_whose_new_invitation_fails_says_the_old_one_was_revoked() {
    let app = spawn_app().await;
    let browser = signed_in(&app).await;
    let (_, view) = browser.server_fn("members", &[]).await;
    let invitations = ok(&view["invitations"], "invitations").clone();
    // The API refuses the new invitation (503: not made) or finds it conflicts (409: the
    // address is a member or invited already, another tab's resend, say).
    let resend_refused = |invitation: Value, status: u16| {
        let browser = &browser;
        let sandbox_url = app.sandbox_url.clone();
        async move {
            set_faults(
                &sandbox_url,
                json!({ "rules": [{ "method": "POST", "path_prefix": "/v1/platforms/me/invitations",
                                    "action": { "kind": "status", "status": status } }] }),
            )
            .await;
            let (status, error) = browser
                .server_fn(
                    "invitations/resend",
                    &[
                        ("id", invitation["id"].as_str().unwrap()),
                        ("confirm", &resend_confirmed(&invitation)),
                    ],
                )
                .await;
            assert_eq!(status, StatusCode::CONFLICT, "{error}");
            let message = error.to_string();
            assert!(message.contains("was revoked"), "{message}");
            assert!(!message.contains("Nothing was changed"), "{message}");
            error
        }
    };

    // Not made: what to invite again with, for the page to put back in its form, and in words.
    let error = resend_refused(invitations[0].clone(), 503).await;
    let not_resent = &error["NotResent"];
    assert_eq!(
        not_resent["email"], invitations[0]["invitee_email"],
        "{error}"
    );
    assert!(
        !not_resent["role_ids"].as_array().unwrap().is_empty(),
        "{error}"
    );
    for name in invitations[0]["role_names"].as_array().unwrap() {
        assert!(
            error.to_string().contains(name.as_str().unwrap()),
            "{error}"
        );
    }

    // A conflict: inviting again would be refused the same way, so no form is filled.
    let error = resend_refused(invitations[1].clone(), 409).await;
    assert!(error.get("NotResent").is_none(), "{error}");
    assert!(
        error
            .to_string()
            .contains("may already be a member or invited"),
        "{error}"
    );
    // Should the list show neither, the roles to invite it again with are named.
    for name in invitations[1]["role_names"].as_array().unwrap() {
        assert!(
            error.to_string().contains(name.as_str().unwrap()),
            "{error}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_without_permissions_still_show_and_can_be_given() {
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.roles_without_permissions = true)
        .spawn()
        .await;
    let browser = signed_in(&app).await;
    let (status, roles) = browser.server_fn("roles", &[]).await;
    assert_eq!(status, StatusCode::OK, "{roles}");
    assert!(roles["roles"].as_array().unwrap().len() >= 4);
    assert!(roles["permissions"].is_null(), "no matrix: {roles}");
    let page = browser.get("/roles").await.text().await.unwrap();
    assert!(page.contains("permissions-unknown"));
    let (status, members) = browser.server_fn("members", &[]).await;
    assert_eq!(status, StatusCode::OK, "{members}");
    let roles = ok(&members["roles"], "roles").as_array().unwrap().clone();
    assert!(roles.len() >= 4);
    // Given to someone: Ben becomes a Viewer.
    let viewer = roles.iter().find(|role| role["name"] == "Viewer").unwrap();
    let ben = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|member| &member["Parsed"])
        .find(|member| member["email"] == "ben@acme-markets.example")
        .unwrap();
    let (status, changed) = browser
        .server_fn(
            "members/roles",
            &[
                ("user_id", ben["user_id"].as_str().unwrap()),
                ("role_ids[]", viewer["id"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["roles"][0]["name"], "Viewer");
}

// 7. A section fails alone; an odd record is shown as stored.

#[tokio::test(flavor = "multi_thread")]
async fn the_members_page_stands_when_roles_or_invitations_fail() {
    let app = spawn_app().await;
    let browser = signed_in(&app).await;
    for failing in ["/v1/platforms/me/roles", "/v1/platforms/me/invitations"] {
        set_faults(
            &app.sandbox_url,
            json!({ "rules": [{ "path_prefix": failing, "action": { "kind": "status", "status": 500 } }] }),
        )
        .await;
        let (status, view) = browser.server_fn("members", &[]).await;
        assert_eq!(status, StatusCode::OK, "{failing}: {view}");
        assert!(!view["members"].as_array().unwrap().is_empty());
        let section = if failing.ends_with("roles") {
            "roles"
        } else {
            "invitations"
        };
        assert!(view[section]["Err"].is_object(), "{section}: {view}");
        let page = browser.get("/members").await;
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.unwrap().contains("section-failed"));
    }
}

/// The Activity log's first page, in one environment or all.
async fn activity_in(
    browser: &Browser,
    environment: Option<&str>,
) -> Result<keystone_dashboard::api::ActivityView, Refused> {
    let filters = keystone_dashboard::api::ActivityFilters {
        environment: environment
            .map(|slug| keystone_dashboard::domain::EnvironmentSlug::parse(slug).unwrap()),
        ..Default::default()
    };
    browser
        .call(keystone_dashboard::api::LoadActivity { filters })
        .await
}

/// The Activity page needs the environments for its filter alone: when they cannot be read, the
/// log still shows, the filter says why it offers no environment, and a filter by one is refused
/// (never dropped, which would widen the log unsaid).
#[tokio::test(flavor = "multi_thread")]
async fn the_activity_log_stands_when_the_environments_cannot_be_read() {
    let app = spawn_app().await;
    let browser = signed_in(&app).await;
    // A first read settles the session's environment (a new session lists them to choose one).
    let first = activity_in(&browser, None).await.unwrap();
    assert!(first.environments.is_ok());
    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "method": "GET", "path_prefix": "/v1/platforms/me/environments?", "action": { "kind": "status", "status": 500 } }] }),
    )
    .await;
    let all = activity_in(&browser, None).await.unwrap();
    assert!(!all.entries.is_empty());
    assert!(all.environments.is_err(), "{:?}", all.environments);
    let narrowed = activity_in(&browser, Some("staging")).await.unwrap();
    assert!(narrowed.entries.is_empty());
    let refused: Vec<_> = narrowed
        .refused_filters
        .iter()
        .map(|refused| refused.message.as_str())
        .collect();
    assert!(
        refused.len() == 1 && refused[0].contains("environments could not be read"),
        "{refused:?}"
    );
    let page = browser.get("/activity").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Could not load the environments (to filter by one)"),
        "{html}"
    );
    assert!(html.contains("data-testid=\"activity-entry\""), "{html}");
    // The filter by an environment stays chosen in the form, so filtering again by another field
    // does not drop it unsaid.
    let filtered = browser.get("/activity?environment=staging").await;
    let html = filtered.text().await.unwrap();
    assert!(
        html.contains(r#"<option value="staging" selected"#),
        "{html}"
    );
    assert!(html.contains("data-testid=\"refused-filters\""), "{html}");

    // A session that ended is said as such, not as a filter that cannot be applied.
    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "method": "GET", "path_prefix": "/v1/platforms/me/environments?", "action": { "kind": "status", "status": 401 } }] }),
    )
    .await;
    let ended = activity_in(&browser, Some("staging")).await.unwrap_err();
    assert_eq!(ended.error, keystone_dashboard::api::ApiError::SignedOut);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_overview_stands_when_one_allowlist_count_fails() {
    let app = spawn_app().await;
    let browser = signed_in(&app).await;
    let staging = app
        .sandbox()
        .state
        .store
        .read(|data| data.environment_by_slug("staging").unwrap().id);
    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{
            "path_prefix": format!("/v1/platforms/me/environments/{staging}/ip-allowlist"),
            "action": { "kind": "status", "status": 500 }
        }] }),
    )
    .await;
    let (status, overview) = browser.server_fn("overview", &[]).await;
    assert_eq!(status, StatusCode::OK, "{overview}");
    let cards = ok(&overview["environments"], "cards").as_array().unwrap();
    for card in cards {
        let failed = card["allowlist_size"]["Err"].is_object();
        assert_eq!(failed, card["slug"] == "staging", "{card}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_network_with_host_bits_and_an_odd_slug_are_shown_as_stored() {
    let app = spawn_app().await;
    app.sandbox().state.store.write(|data| {
        let mut odd = data.environments[0].clone();
        odd.id = uuid::Uuid::new_v4();
        odd.slug = "EU_West".to_owned();
        odd.name = "EU West (legacy)".to_owned();
        odd.auth0_client_id = "sandbox-m2m-eu-west".to_owned();
        data.environments.push(odd);
    });
    plant_allowlist_entry(&app, "10.1.2.3/8");
    let browser = signed_in(&app).await;
    let (status, shell) = browser.server_fn("shell", &[]).await;
    assert_eq!(status, StatusCode::OK, "{shell}");
    let (status, environments) = browser.server_fn("environments", &[]).await;
    assert_eq!(status, StatusCode::OK, "{environments}");
    let listed = environments["environments"].as_array().unwrap();
    let odd = listed
        .iter()
        .find(|item| item["AsStored"].is_object())
        .expect("the odd environment is listed");
    assert!(odd.to_string().contains("EU_West"));
    assert!(
        listed
            .iter()
            .filter(|item| item["Parsed"].is_object())
            .count()
            >= 3
    );

    let (status, allowlist) = browser.server_fn("allowlist", &[]).await;
    assert_eq!(status, StatusCode::OK, "{allowlist}");
    let odd_entries = allowlist["entries_as_stored"].as_array().unwrap();
    assert_eq!(odd_entries.len(), 1, "{allowlist}");
    assert!(odd_entries[0].to_string().contains("10.1.2.3/8"));
    for page in ["/environments", "/security"] {
        let html = browser.get(page).await.text().await.unwrap();
        assert!(html.contains("as-stored"), "{page} marks the odd record");
    }

    // The odd entry can be deleted like any other (development holds only it: the last entry).
    let odd_id = odd_entries[0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|pair| pair[0] == "id")
        .unwrap()[1]
        .as_str()
        .unwrap()
        .to_owned();
    let confirm = allowlist_confirmation(&browser, ListChange::Delete(&odd_id)).await;
    let (status, deleted) = browser
        .server_fn(
            "allowlist/delete",
            &[("id", &odd_id), ("confirm", &confirm)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert_eq!(deleted, "10.1.2.3/8");
    let (_, allowlist) = browser.server_fn("allowlist", &[]).await;
    assert_eq!(allowlist["entries_as_stored"].as_array().unwrap().len(), 0);
}

/// Member: `roles` (Role[]) is published, a Role's fields are not: a member whose role the
/// dashboard cannot read is shown as stored, and neither the members page nor the roles page's
/// counts fail on them.
#[tokio::test(flavor = "multi_thread")]
async fn a_member_whose_role_is_odd_is_shown_as_stored() {
    let app = spawn_app().await;
    let browser = signed_in(&app).await;
    // Set before the first read of the members, so no count is remembered from before.
    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{
            "method": "GET",
            "path_prefix": "/v1/platforms/me/members",
            "action": { "kind": "edit_body", "pointer": "/items/1/roles/0/name", "value": null },
        }] }),
    )
    .await;

    let (status, view) = browser.server_fn("members", &[]).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let members = view["members"].as_array().unwrap();
    assert_eq!(
        members.len() as u64,
        view["total"].as_u64().unwrap(),
        "{view}"
    );
    assert!(members.len() >= 3, "{view}");
    assert!(
        members[1]["AsStored"]["reason"].is_string(),
        "the second member, whose role lost its name, is shown as stored: {view}"
    );
    let email = members[1]["AsStored"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|pair| pair[0] == "email")
        .unwrap()[1]
        .clone();
    assert!(
        email.as_str().is_some_and(|email| email.contains('@')),
        "{view}"
    );
    let parsed = members
        .iter()
        .filter(|item| item["Parsed"].is_object())
        .count();
    assert_eq!(
        parsed,
        members.len() - 1,
        "the others are read as always: {view}"
    );
    let html = browser.get("/members").await.text().await.unwrap();
    assert!(html.contains("member-row-as-stored"), "{html}");
    assert!(html.contains("Shown as stored"));
    assert_eq!(html.matches("data-testid=\"member-row\"").count(), parsed);

    // The roles page tallies each role's members from the whole list; the odd one counts for
    // nothing, and the page stands.
    let (status, roles) = browser.server_fn("roles", &[]).await;
    assert_eq!(status, StatusCode::OK, "{roles}");
}

/// Counting reads every member, a page of 100 at a time, by `offset`: an odd member left out of
/// the count is still a member read, so the next page starts after it, not one earlier.
#[tokio::test(flavor = "multi_thread")]
async fn an_odd_member_does_not_shift_the_pages_read_after_it() {
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.seed_members = 188)
        .spawn()
        .await;
    let browser = signed_in(&app).await;
    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{
            "method": "GET",
            "path_prefix": "/v1/platforms/me/members",
            "action": { "kind": "edit_body", "pointer": "/items/1/roles/0/name", "value": null },
        }] }),
    )
    .await;
    reset_sandbox_stats(&app.sandbox_url).await;
    let (status, roles) = browser.server_fn("roles", &[]).await;
    assert_eq!(status, StatusCode::OK, "{roles}");
    let mut offsets: Vec<String> = recorded_requests(&app)
        .await
        .iter()
        .filter(|request| request["path"] == "/v1/platforms/me/members")
        .map(|request| {
            let query = request["query"].as_str().unwrap_or_default();
            common::query_param(&format!("http://x/?{query}"), "offset").unwrap_or_default()
        })
        .collect();
    offsets.sort();
    assert_eq!(offsets, ["0", "100"], "200 members, two pages");
}

/// Role `permissions` are string[] "only where the API reveals them" [design]: a role whose list
/// has another shape (Auth0's own API gives objects) is a role that does not say what it grants.
/// It is listed and can be given; the roles page and the members page's role choices stand.
#[tokio::test(flavor = "multi_thread")]
async fn a_role_whose_permissions_have_another_shape_is_still_listed() {
    let app = spawn_app().await;
    let browser = signed_in(&app).await;
    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{
            "method": "GET",
            "path_prefix": "/v1/platforms/me/roles",
            "action": {
                "kind": "edit_body",
                "pointer": "/items/0/permissions",
                "value": [{ "permission_name": "platform:read", "resource_server_identifier": "https://api.keystoneos.xyz" }],
            },
        }] }),
    )
    .await;
    let (status, view) = browser.server_fn("roles", &[]).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let roles = view["roles"].as_array().unwrap();
    assert!(roles.len() >= 4, "{view}");
    assert!(roles[0]["permissions"].is_null(), "{view}");
    assert!(
        roles[1]["permissions"].is_array(),
        "the others say what they grant: {view}"
    );
    let page = browser.get("/roles").await.text().await.unwrap();
    assert!(
        page.contains("permission-matrix"),
        "the matrix stands: {page}"
    );
    assert!(
        page.contains(" not published"),
        "with the role's column unknown"
    );
    let (status, members) = browser.server_fn("members", &[]).await;
    assert_eq!(status, StatusCode::OK, "{members}");
    assert_eq!(
        ok(&members["roles"], "roles").as_array().unwrap().len(),
        roles.len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_odd_entry_alone_still_needs_the_last_entry_confirmation() {
    let app = spawn_app().await;
    app.sandbox().state.store.write(|data| {
        let development = development_id(data);
        data.allowlist
            .retain(|entry| entry.environment_id != development);
    });
    let entry_id = plant_allowlist_entry(&app, "10.1.2.3/8");
    let browser = signed_in(&app).await;
    let id = entry_id.to_string();
    let (status, refused) = browser.server_fn("allowlist/delete", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED, "{refused}");
    assert!(refused.to_string().contains("last entry"), "{refused}");
    // Adding a network is not a first entry: the list is not empty.
    let (status, added) = browser
        .server_fn("allowlist/add", &[("cidr", "192.0.2.0/24")])
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "no first-entry confirmation: {added}"
    );
}

/// Every server function that puts a member-supplied id into an API path.
/// Confirmed as the page confirms, so that only the id can be why a call is refused.
fn id_taking_functions<'a>(
    id: &'a str,
    codes: &'a Codes,
) -> Vec<(&'static str, Vec<(&'static str, &'a str)>)> {
    vec![
        (
            "invitations/revoke",
            vec![("id", id), ("confirm", &codes.revoke)],
        ),
        // Unconfirmed: its warning names the invitee, whom a bad id cannot name (the id is
        // refused before the invitation is looked up, confirmed or not).
        ("invitations/resend", vec![("id", id)]),
        (
            "members/remove",
            vec![("user_id", id), ("confirm", &codes.remove)],
        ),
        (
            "members/roles",
            vec![("user_id", id), ("role_ids[0]", "rol_viewer")],
        ),
        ("environments/update", vec![("id", id), ("name", "Renamed")]),
        ("environments/active", vec![("id", id), ("active", "true")]),
        ("allowlist/describe", vec![("id", id), ("description", "x")]),
        (
            "allowlist/delete",
            vec![("id", id), ("confirm", &codes.delete_entry)],
        ),
    ]
}

struct Codes {
    revoke: String,
    remove: String,
    delete_entry: String,
}

impl Codes {
    /// What the pages' confirmations carry (deleting an entry that is not on the list).
    async fn as_the_pages_confirm(browser: &Browser) -> Self {
        Self {
            revoke: confirmation_code(&[revocation_warning()]),
            remove: confirmation_code(&[removal_warning()]),
            delete_entry: allowlist_confirmation(browser, ListChange::Delete("")).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ids_that_are_not_ids_never_reach_the_api() {
    let app = spawn_app().await;
    let browser = signed_in(&app).await;
    let codes = Codes::as_the_pages_confirm(&browser).await;
    for id in [
        "..",
        ".",
        "",
        "%2e%2e",
        "../..",
        "a/b",
        "auth0|x/../..",
        "x?y=1",
        "x#y",
    ] {
        reset_sandbox_stats(&app.sandbox_url).await;
        for (function, args) in id_taking_functions(id, &codes) {
            let (status, body) = browser.server_fn(function, &args).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{function} with id {id:?}: {body}"
            );
        }
        // Refused before any call: the sandbox records every request, matched or not.
        let reached = recorded_requests(&app).await;
        assert!(reached.is_empty(), "id {id:?} reached the API: {reached:?}");
    }

    // The control: a well-formed id that names nothing does reach the API (and is recorded), so
    // the emptiness above means something.
    reset_sandbox_stats(&app.sandbox_url).await;
    let unknown = "00000000-0000-4000-8000-000000000000";
    let (status, body) = browser
        .server_fn(
            "invitations/revoke",
            &[("id", unknown), ("confirm", &codes.revoke)],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let reached = recorded_requests(&app).await;
    assert!(
        reached.iter().any(|request| request["method"] == "DELETE"
            && request["path"] == format!("/v1/platforms/me/invitations/{unknown}")),
        "{reached:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sandbox_answers_and_records_what_no_handler_takes_as_fastapi_does() {
    let app = spawn_app().await;
    reset_sandbox_stats(&app.sandbox_url).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let slash = http
        .patch(format!("{}/v1/platforms/me/", app.sandbox_url))
        .send()
        .await
        .unwrap();
    // FastAPI's answer, as the issue saw it from the real API.
    assert_eq!(slash.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(slash.headers()["location"], "/v1/platforms/me");
    // Every reply carries the rate-limit and version headers [doc], these two included.
    assert!(slash.headers().contains_key("x-ratelimit-limit"));
    assert_eq!(slash.headers()["keystone-version"], "0.1.0");
    let nowhere = http
        .delete(format!("{}/v1/nowhere", app.sandbox_url))
        .send()
        .await
        .unwrap();
    assert_eq!(nowhere.status(), StatusCode::NOT_FOUND);
    assert!(nowhere.headers().contains_key("x-ratelimit-limit"));
    assert_eq!(nowhere.headers()["keystone-version"], "0.1.0");
    // A path the API has, with a method it has not: FastAPI's 405, its body and headers.
    let token = m2m_token(&app.sandbox_url, "development").await.unwrap();
    let wrong_method = http
        .get(format!(
            "{}/v1/platforms/me/members/auth0|acme-ada",
            app.sandbox_url
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong_method.headers().contains_key("x-ratelimit-limit"));
    assert_eq!(wrong_method.headers()["keystone-version"], "0.1.0");
    assert!(wrong_method.headers().contains_key("allow"));
    assert_eq!(
        wrong_method.json::<Value>().await.unwrap(),
        json!({ "detail": "Method Not Allowed" })
    );
    // An empty body is no body to FastAPI: the model is missing (422), not malformed JSON (400).
    let empty = http
        .post(format!("{}/v1/platforms/me/environments", app.sandbox_url))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused: Value = empty.json().await.unwrap();
    assert_eq!(refused["detail"][0]["loc"], json!(["body"]), "{refused}");
    assert_eq!(refused["detail"][0]["type"], "missing", "{refused}");
    let reached = recorded_requests(&app).await;
    let seen: Vec<(String, String)> = reached
        .iter()
        .map(|request| {
            (
                request["method"].as_str().unwrap().to_owned(),
                request["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("PATCH".to_owned(), "/v1/platforms/me/".to_owned()),
            ("DELETE".to_owned(), "/v1/nowhere".to_owned()),
            (
                "GET".to_owned(),
                "/v1/platforms/me/members/auth0|acme-ada".to_owned()
            ),
            (
                "POST".to_owned(),
                "/v1/platforms/me/environments".to_owned()
            ),
        ]
    );
}

// 8. "To" a day includes that whole day.

#[tokio::test(flavor = "multi_thread")]
async fn filtering_activity_to_today_includes_today() {
    let app = spawn_app().await;
    let browser = signed_in(&app).await;
    // A change made now, so today has an entry.
    let confirm = allowlist_confirmation(&browser, ListChange::Add("192.0.2.0/24")).await;
    let (status, _) = browser
        .server_fn(
            "allowlist/add",
            &[("cidr", "192.0.2.0/24"), ("confirm", &confirm)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let (status, activity) = browser
        .server_fn(
            "activity",
            &[("filters[from]", &today), ("filters[to]", &today)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{activity}");
    assert!(
        activity["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["Parsed"]["type"] == "ip_allowlist.entry_created"),
        "{activity}"
    );
    // A day that is not a date is said next to the filters, and the log is not read with the
    // filter dropped (which would widen it silently).
    reset_sandbox_stats(&app.sandbox_url).await;
    let (status, refused) = browser
        .server_fn("activity", &[("filters[to]", "16/03/2026")])
        .await;
    assert_eq!(status, StatusCode::OK, "{refused}");
    assert_eq!(refused["entries"], json!([]), "{refused}");
    assert_eq!(refused["refused_filters"][0]["field"], "to", "{refused}");
    let read_the_log = |requests: Vec<Value>| {
        requests
            .iter()
            .any(|request| request["path"] == "/v1/activity")
    };
    assert!(
        !read_the_log(recorded_requests(&app).await),
        "the log was read without the refused filter"
    );
    // The control: a filter that can be applied does read the log (and is recorded).
    let (status, _) = browser
        .server_fn("activity", &[("filters[to]", &today)])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(read_the_log(recorded_requests(&app).await));

    let html = browser
        .get("/activity?to=16%2F03%2F2026&category=member")
        .await
        .text()
        .await
        .unwrap();
    let refusal = html
        .split(r#"data-testid="refused-filters""#)
        .nth(1)
        .unwrap_or_else(|| panic!("no refusal in {html}"));
    let refusal = &refusal[..refusal.find("</div>").unwrap()];
    assert!(
        refusal.contains("16/03/2026") && refusal.contains("is not a date: use YYYY-MM-DD"),
        "the refusal quotes what was typed: {refusal}"
    );
    assert!(
        html.contains(r#"data-testid="activity-filters""#),
        "the filters stay, to be corrected"
    );
}

// 10. Errors that tell the truth.

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_of_another_shape_is_not_called_unreachable() {
    let app = spawn_app().await;
    let browser = signed_in(&app).await;
    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "path_prefix": "/v1/platforms/me", "method": "GET", "action": { "kind": "malformed_body" } }] }),
    )
    .await;
    let (status, error) = browser.server_fn("overview", &[]).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{error}");
    let message = error.to_string();
    assert!(message.contains("UnexpectedReply"), "{message}");
    let html = browser.get("/").await.text().await.unwrap();
    assert!(html.contains("shape the dashboard does not understand"));
    assert!(!html.contains("not reachable"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_422_on_a_read_is_a_refusal_with_the_apis_detail_not_a_form_error() {
    let app = spawn_app().await;
    let browser = signed_in(&app).await;
    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "path_prefix": "/v1/activity", "action": { "kind": "status", "status": 422 } }] }),
    )
    .await;
    let html = browser.get("/activity").await.text().await.unwrap();
    assert!(html.contains("refused the request"), "{html}");
    assert!(!html.contains("Some fields need attention"));
    assert!(html.contains("Nothing was changed"));
}

// The upstream self-check, in every sandbox setting, and against a missing route.

/// Runs the check as Ada; prints the plain-text report an operator would read, and returns it
/// with the JSON.
async fn check_report(app: &TestApp) -> (Value, String) {
    let browser = signed_in(app).await;
    let (status, report) = browser.server_fn("upstream-check", &[]).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let text = serde_json::from_value::<keystone_dashboard::api::UpstreamReport>(report.clone())
        .expect("the report's own type")
        .to_string();
    eprintln!("{text}");
    (report, text)
}

fn failures(report: &Value) -> Vec<&Value> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|check| check["outcome"]["AsExpected"].is_null())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_upstream_check_is_clean_in_every_sandbox_setting() {
    type Setting = fn(&mut keystone_sandbox::SandboxConfig);
    let settings: [(&str, Setting); 4] = [
        ("strict default", |_| {}),
        ("another permission vocabulary", |sandbox| {
            sandbox.foreign_permissions = true
        }),
        ("roles without permissions", |sandbox| {
            sandbox.roles_without_permissions = true
        }),
        ("invitation roles as ids", |sandbox| {
            sandbox.invitation_roles_as_ids = true
        }),
    ];
    for (name, setting) in settings {
        let app = TestApp::builder().sandbox(setting).spawn().await;
        let (report, text) = check_report(&app).await;
        let checks = report["checks"].as_array().unwrap();
        assert_eq!(
            checks.len(),
            3 * 7,
            "{name}: every read in every environment"
        );
        assert!(failures(&report).is_empty(), "{name}: {text}");
        assert!(
            text.contains("21 reads, 21 as expected, 0 not"),
            "{name}: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_upstream_check_names_a_missing_route() {
    let app = TestApp::builder()
        .sandbox(|sandbox| {
            sandbox.removed_routes = vec!["GET /v1/platforms/me/roles".parse().unwrap()]
        })
        .spawn()
        .await;
    let (report, text) = check_report(&app).await;
    // Readable: the failing read, where, and what the API answered.
    assert!(text.contains("21 reads, 18 as expected, 3 not"), "{text}");
    assert!(
        text.contains(
            "FAIL [development] GET /v1/platforms/me/roles?limit=100 (Roles page, role choices): \
             refused with 404: Not Found"
        ),
        "{text}"
    );
    let failed = failures(&report);
    assert_eq!(
        failed.len(),
        3,
        "the roles read, once per environment: {report:#}"
    );
    for check in failed {
        assert!(check["call"].as_str().unwrap().contains("/roles"));
        assert_eq!(check["outcome"]["Refused"]["status"], 404, "{check}");
    }
    let page = app.browser();
    page.sign_in().await;
    let html = page.get("/upstream-check").await.text().await.unwrap();
    assert!(html.contains("Run the check"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_upstream_check_is_for_those_who_manage_the_platform() {
    let app = spawn_app().await;
    let viewer = app.browser();
    viewer.sign_in_as("auth0|acme-dmitri", "").await;
    reset_sandbox_stats(&app.sandbox_url).await;
    let (status, refused) = viewer.server_fn("upstream-check", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let reads = recorded_requests(&app).await.len();
    assert!(reads <= 2, "no list was read for the check: {reads}");
}

// 9. (The rest of the identity provider's findings are in tests/auth.rs.)

#[tokio::test(flavor = "multi_thread")]
async fn the_api_audience_is_a_setting_not_a_constant() {
    let app = TestApp::builder()
        .config(|config| config.api_audience = "https://api.eu.keystoneos.example".to_owned())
        .spawn()
        .await;
    let authorize_url = app.browser().start_login("").await;
    assert_eq!(
        query_param(&authorize_url, "audience").as_deref(),
        Some("https://api.eu.keystoneos.example")
    );
}
