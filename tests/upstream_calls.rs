//! What one read costs the KeyStone API: each server function makes one call per independent read
//! and never repeats one, and a page render (all its server functions in one request) lists the
//! environments at most once and reads the allowlist without looking its environment up first.
//! Counted from the sandbox's own log of the requests it received.

mod common;

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use common::{
    add_confirmed_lines, allowlist_confirmation, reserve_port, reset_sandbox_stats, sandbox_stats,
    set_faults, spawn_app, spawn_sandbox, two_replicas_on_redis, until, Browser, ListChange,
    RedisServer, TestApp, PAGES,
};
use keystone_dashboard::api::{
    AddAllowlistEntry, AllowlistView, ApiError, ChangeMemberRoles, LoadAllowlist, LoadEnvironments,
    LoadRecentCallers, LoadRoles, LoadShell, RolesView, SwitchEnvironment,
    UpdateAllowlistDescription, UpdateEnvironment, UpdatePlatformProfile,
};
use serde_json::{json, Value};

/// The calls the API received since the counters were reset, as `METHOD path?query`.
async fn calls(app: &TestApp) -> Vec<String> {
    sandbox_stats(&app.sandbox_url).await["recent_requests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|request: &Value| {
            let query = request["query"]
                .as_str()
                .map(|query| format!("?{query}"))
                .unwrap_or_default();
            format!(
                "{} {}{query}",
                request["method"].as_str().unwrap(),
                request["path"].as_str().unwrap()
            )
        })
        .collect()
}

/// Calls made more than once, with their count.
fn repeated(calls: &[String]) -> BTreeMap<&str, usize> {
    let mut counts = BTreeMap::new();
    for call in calls {
        *counts.entry(call.as_str()).or_insert(0) += 1;
    }
    counts.retain(|_, count| *count > 1);
    counts
}

fn is_environment_list(call: &str) -> bool {
    call.starts_with("GET /v1/platforms/me/environments?")
}

/// Ada on staging, with what is remembered between requests already in place (the session's
/// environment record, the members' names): what a member clicking around actually costs.
async fn warmed_up(app: &TestApp) -> Browser {
    let browser = app.browser();
    browser.sign_in().await;
    browser
        .call(SwitchEnvironment {
            slug: "staging".to_owned(),
        })
        .await
        .unwrap();
    browser.call(LoadAllowlist {}).await.unwrap();
    for page in PAGES {
        let reply = browser.get(page).await;
        assert!(reply.status().is_success(), "{page}");
        // Read to the end: a page still streaming would make its calls after the counters are
        // reset, and they would be counted against the next page.
        reply.text().await.unwrap();
    }
    browser
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_read_server_function_makes_one_call_per_independent_read() {
    let app = spawn_app().await;
    let browser = warmed_up(&app).await;
    let environments = browser.call(LoadShell {}).await.unwrap().environments.len();
    // Each function's independent reads: what the API offers no way to combine.
    let budgets: [(&str, usize); 11] = [
        // The list only: the session keeps the environment's id, the names are remembered.
        ("allowlist", 1),
        // The Security page: the list and the callers, together.
        ("allowlist/page", 2),
        // The recent M2M callers (the lockout preview), one page of the log by that id.
        ("allowlist/callers", 1),
        ("environments", 1),
        // None: the platform and the environments are remembered per platform (the first read's
        // two calls, and when they are read again, are in the test below).
        ("shell", 0),
        // A page of members, the roles, the invitations (the manager count is remembered).
        ("members", 3),
        // The roles (which roles each member holds is remembered).
        ("roles", 1),
        // The environments (for the filter) and a page of activity.
        ("activity", 2),
        // The platform, the environments and each one's allowlist size, the member's own
        // record, the pending invitations and the recent activity.
        ("overview", 5 + environments),
        // The platform (cached per request) and the environments with their client ids.
        ("settings/general", 2),
        // The endpoints only (the permission is in the token).
        ("webhooks", 1),
    ];
    for (function, budget) in budgets {
        // The activity log's filters, all empty, as the page sends them.
        let arguments: &[(&str, &str)] = match function {
            "activity" => &[("filters[offset]", "0")],
            "allowlist/page" => &[("offset", "0")],
            _ => &[],
        };
        reset_sandbox_stats(&app.sandbox_url).await;
        let (status, body) = browser.server_fn(function, arguments).await;
        assert!(status.is_success(), "{function}: {status} {body}");
        let made = calls(&app).await;
        assert_eq!(
            repeated(&made),
            BTreeMap::new(),
            "{function} repeated a call: {made:#?}"
        );
        assert_eq!(
            made.len(),
            budget,
            "{function} made {} calls for {budget} reads: {made:#?}",
            made.len()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_render_makes_each_read_once() {
    let app = spawn_app().await;
    let browser = warmed_up(&app).await;
    for page in PAGES {
        reset_sandbox_stats(&app.sandbox_url).await;
        let reply = browser.get(page).await;
        assert!(reply.status().is_success(), "{page}: {}", reply.status());
        reply.text().await.unwrap();
        let made = calls(&app).await;
        assert_eq!(
            repeated(&made),
            BTreeMap::new(),
            "{page} repeated a call: {made:#?}"
        );
        let listings = made.iter().filter(|call| is_environment_list(call)).count();
        assert!(
            listings <= 1,
            "{page} listed the environments {listings} times: {made:#?}"
        );
    }
    // The security page: the list straight by id and the recent callers (the shell's two reads
    // are remembered).
    reset_sandbox_stats(&app.sandbox_url).await;
    browser.get("/security").await.text().await.unwrap();
    let made = calls(&app).await;
    assert_eq!(made.len(), 2, "{made:#?}");
    assert_eq!(
        made.iter()
            .filter(|call| call.contains("/ip-allowlist?"))
            .count(),
        1,
        "{made:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_allowlist_follows_an_environment_recreated_under_a_new_id() {
    // The session keeps the environment's id; when the API no longer knows it (404), the list is
    // read again through a fresh environment list instead of failing.
    let app = spawn_app().await;
    let browser = warmed_up(&app).await;
    let before = browser.call(LoadAllowlist {}).await.unwrap();
    let new_id = uuid::Uuid::new_v4();
    app.sandbox().state.store.write(|data| {
        let staging = data
            .environments
            .iter_mut()
            .find(|environment| environment.slug == "staging")
            .unwrap();
        staging.id = new_id;
    });
    // The page's two reads, the callers' first: by the stale id they name the old environment,
    // and the page's view does not take them for the list's.
    let stale_callers = browser.call(LoadRecentCallers {}).await;
    reset_sandbox_stats(&app.sandbox_url).await;
    let after = browser.call(LoadAllowlist {}).await.unwrap();
    assert_eq!(
        stale_callers
            .as_ref()
            .unwrap()
            .as_ref()
            .unwrap()
            .environment_id,
        before.environment.id
    );
    let view = AllowlistView::new(
        after.clone(),
        stale_callers.map_err(|refused| refused.error),
    );
    assert!(
        matches!(view.recent_callers, Some(Err(ApiError::Conflict(_)))),
        "{:?}",
        view.recent_callers
    );
    assert_eq!(after.environment.id, new_id.to_string());
    assert_eq!(after.environment.slug, before.environment.slug);
    let made = calls(&app).await;
    // The list by the stale id, the environments, the list again by the new id.
    assert_eq!(made.len(), 3, "stale id, the list, the id again: {made:#?}");
    // And the session now keeps the new id: the list, straight away.
    reset_sandbox_stats(&app.sandbox_url).await;
    browser.call(LoadAllowlist {}).await.unwrap();
    assert_eq!(calls(&app).await.len(), 1);
    // And the callers, read again as the page does, are the new environment's.
    let callers = browser.call(LoadRecentCallers {}).await.unwrap().unwrap();
    assert_eq!(callers.environment_id, new_id.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_what_previews_a_change_reads_the_recent_callers() {
    // The activity log is read for the lockout preview: by the list's page and by adds and
    // deletes, not by a description edit or the CSV export, which change no one's access.
    let app = spawn_app().await;
    let browser = warmed_up(&app).await;
    let entry = browser
        .call(AddAllowlistEntry {
            cidr: "198.51.100.0/24".to_owned(),
            description: Some("office".to_owned()),
            confirm: Some(
                allowlist_confirmation(&browser, ListChange::Add("198.51.100.0/24")).await,
            ),
            environment: None,
        })
        .await
        .unwrap();
    let reads_log = |made: &[String]| made.iter().any(|call| call.starts_with("GET /v1/activity"));

    reset_sandbox_stats(&app.sandbox_url).await;
    browser
        .call(UpdateAllowlistDescription {
            id: entry.id.clone(),
            description: Some("head office".to_owned()),
        })
        .await
        .unwrap();
    let made = calls(&app).await;
    assert_eq!(made.len(), 2, "the list and the change: {made:#?}");
    assert!(!reads_log(&made), "{made:#?}");

    reset_sandbox_stats(&app.sandbox_url).await;
    let export = browser.get("/security/allowlist.csv").await;
    assert!(export.status().is_success());
    export.text().await.unwrap();
    assert!(!reads_log(&calls(&app).await));

    // Reading the list is one call; the page's preview reads the log on its own.
    reset_sandbox_stats(&app.sandbox_url).await;
    browser.call(LoadAllowlist {}).await.unwrap();
    assert!(!reads_log(&calls(&app).await));
    reset_sandbox_stats(&app.sandbox_url).await;
    browser.call(LoadRecentCallers {}).await.unwrap();
    assert!(
        reads_log(&calls(&app).await),
        "the page previews against the callers"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_roles_page_pages_through_the_members_once_and_again_after_a_role_change() {
    // Three pages of members. The API gives no count of a role's members, so the roles page reads
    // every member; which roles each holds is remembered briefly, and forgotten as soon as this
    // dashboard changes a member's roles.
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.seed_members = 250)
        .spawn()
        .await;
    let browser = warmed_up(&app).await;
    let is_member_page = |call: &&String| call.starts_with("GET /v1/platforms/me/members?");
    let count_of = |view: &RolesView, id: &str| {
        let index = view.roles.iter().position(|role| role.id == id).unwrap();
        view.member_counts.as_ref().unwrap()[index]
    };

    reset_sandbox_stats(&app.sandbox_url).await;
    browser.get("/roles").await.text().await.unwrap();
    let made = calls(&app).await;
    assert_eq!(
        made.len(),
        1,
        "the roles (the shell's two reads are remembered): {made:#?}"
    );
    assert_eq!(made.iter().filter(is_member_page).count(), 0, "{made:#?}");
    let before = browser.call(LoadRoles {}).await.unwrap();

    browser
        .call(ChangeMemberRoles {
            user_id: "auth0|generated-00249".to_owned(),
            role_ids: vec!["rol_developer".to_owned()],
        })
        .await
        .unwrap();
    reset_sandbox_stats(&app.sandbox_url).await;
    let after = browser.call(LoadRoles {}).await.unwrap();
    let made = calls(&app).await;
    assert_eq!(made.iter().filter(is_member_page).count(), 3, "{made:#?}");
    assert_eq!(
        count_of(&after, "rol_viewer"),
        count_of(&before, "rol_viewer") - 1
    );
    assert_eq!(
        count_of(&after, "rol_developer"),
        count_of(&before, "rol_developer") + 1
    );
}

/// A dashboard whose sandbox's tokens speak a permission vocabulary the dashboard does not know,
/// and Ada signed in to it.
async fn signed_in_in_a_foreign_vocabulary() -> (TestApp, Browser) {
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.foreign_permissions = true)
        .spawn()
        .await;
    let browser = app.browser();
    browser.sign_in().await;
    (app, browser)
}

/// The platform's profile renamed `name`, its other fields cleared.
fn profile_named(name: &str) -> UpdatePlatformProfile {
    UpdatePlatformProfile {
        name: name.to_owned(),
        logo_url: String::new(),
        support_email: String::new(),
        support_url: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_roles_held_are_not_shared_with_a_token_that_does_not_name_members_read() {
    // In a permission vocabulary the dashboard does not know, it cannot tell whether the token
    // may read the members: each roles page reads them itself and the API decides.
    let (app, browser) = signed_in_in_a_foreign_vocabulary().await;
    let is_member_page = |call: &&String| call.starts_with("GET /v1/platforms/me/members?");
    for _ in 0..2 {
        reset_sandbox_stats(&app.sandbox_url).await;
        let roles = browser.call(LoadRoles {}).await.unwrap();
        assert!(roles.member_counts.is_ok());
        let made = calls(&app).await;
        assert_eq!(made.iter().filter(is_member_page).count(), 1, "{made:#?}");
    }
}

/// The shell's reads that reached the API: the platform and the environment list.
fn shell_reads(made: &[String]) -> usize {
    made.iter()
        .filter(|call| call.as_str() == "GET /v1/platforms/me" || is_environment_list(call))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shell_remembers_the_platform_until_this_dashboard_changes_it() {
    let app = spawn_app().await;
    let ada = app.browser();
    ada.sign_in().await;
    reset_sandbox_stats(&app.sandbox_url).await;
    let first = ada.call(LoadShell {}).await.unwrap();
    let made = calls(&app).await;
    assert_eq!(
        (made.len(), shell_reads(&made)),
        (2, 2),
        "the platform and the environments, once each (the list also chose her environment): \
         {made:#?}"
    );

    // Again, and for a colleague on the same platform whose token names `platform:read`: the
    // API would give them the same answer.
    let dmitri = app.browser();
    dmitri.sign_in_as("auth0|acme-dmitri", "").await;
    // His session chooses its environment first (from a fresh list, as any first request does).
    dmitri
        .call(SwitchEnvironment {
            slug: "development".to_owned(),
        })
        .await
        .unwrap();
    reset_sandbox_stats(&app.sandbox_url).await;
    assert_eq!(ada.call(LoadShell {}).await.unwrap(), first);
    assert_eq!(
        dmitri.call(LoadShell {}).await.unwrap().environments,
        first.environments
    );
    assert_eq!(shell_reads(&calls(&app).await), 0, "remembered");

    // A change through this dashboard is shown at once: an environment renamed...
    let staging = first
        .environments
        .iter()
        .position(|environment| environment.slug.as_str() == "staging")
        .unwrap();
    let staging_id = ada
        .call(LoadEnvironments {})
        .await
        .unwrap()
        .environments
        .into_iter()
        .filter_map(|listed| listed.parsed())
        .find(|environment| environment.slug.as_str() == "staging")
        .unwrap()
        .id;
    ada.call(UpdateEnvironment {
        id: staging_id,
        name: "Staging (EU)".to_owned(),
        default_timeout_seconds: None,
        rate_limit_rpm: None,
        webhook_url: None,
        webhook_secret: None,
        confirm: None,
    })
    .await
    .unwrap();
    reset_sandbox_stats(&app.sandbox_url).await;
    let renamed = dmitri.call(LoadShell {}).await.unwrap();
    assert_eq!(renamed.environments[staging].name, "Staging (EU)");
    assert_eq!(shell_reads(&calls(&app).await), 2, "read again");

    // ...and the platform's profile.
    ada.call(profile_named("Acme Settlements")).await.unwrap();
    assert_eq!(
        dmitri.call(LoadShell {}).await.unwrap().platform_name,
        "Acme Settlements"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shell_is_not_shared_in_a_permission_vocabulary_the_dashboard_does_not_know() {
    // In a permission vocabulary the dashboard does not know, it cannot tell whether the token
    // may read the platform: each shell reads it itself and the API decides.
    let (app, browser) = signed_in_in_a_foreign_vocabulary().await;
    for _ in 0..2 {
        reset_sandbox_stats(&app.sandbox_url).await;
        browser.call(LoadShell {}).await.unwrap();
        assert_eq!(shell_reads(&calls(&app).await), 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_whose_browser_hung_up_still_has_the_shell_read_again() {
    // Ada renames the platform and leaves the page before the reply: the API has applied the
    // change, and her request ends with her connection, before its reply is read.
    let app = spawn_app().await;
    let ada = app.browser();
    ada.sign_in().await;
    ada.call(LoadShell {}).await.unwrap();
    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "method": "PATCH", "path_prefix": "/v1/platforms/me", "times": 1,
                            "action": { "kind": "delay_after_apply", "ms": 10_000 } }] }),
    )
    .await;
    let platform_name = || {
        app.sandbox()
            .state
            .store
            .read(|data| data.platform.name.clone())
    };
    let renamed = profile_named("Acme Renamed");
    // Once the API has applied the change, while its reply is still on its way.
    ada.call_then_hang_up(renamed, until(|| platform_name() == "Acme Renamed"))
        .await;
    // The server sees the connection closed at once; the API's reply would come after 10 s, and
    // without a forget the remembered shell keeps the old name for 30.
    let mut shown = String::new();
    for _ in 0..40 {
        shown = ada.call(LoadShell {}).await.unwrap().platform_name;
        if shown == "Acme Renamed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(shown, "Acme Renamed");
}

/// Dmitri on staging, his shell's list remembered; then staging is renamed "Staging (EU)" in
/// the sandbox, as through another replica.
async fn on_staging_then_renamed_elsewhere(app: &TestApp) -> Browser {
    let dmitri = app.browser();
    dmitri.sign_in_as("auth0|acme-dmitri", "").await;
    dmitri
        .call(SwitchEnvironment {
            slug: "staging".to_owned(),
        })
        .await
        .unwrap();
    dmitri.call(LoadShell {}).await.unwrap();
    app.sandbox().state.store.write(|data| {
        let staging = data
            .environments
            .iter_mut()
            .find(|environment| environment.slug == "staging")
            .unwrap();
        staging.name = "Staging (EU)".to_owned();
    });
    dmitri
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_kept_environment_follows_the_remembered_list() {
    // Dmitri works on staging and only opens pages that do not list the environments afresh; the
    // Security page names his environment from what his session keeps. A rename made elsewhere
    // reaches him through the shell's remembered list once someone's shell reads it again.
    let app = spawn_app().await;
    let dmitri = on_staging_then_renamed_elsewhere(&app).await;
    // What this replica remembered is forgotten by a change of its own (here, Ada's profile
    // edit), then read again by Ada's shell.
    let ada = app.browser();
    ada.sign_in().await;
    ada.call(profile_named("Acme Markets")).await.unwrap();
    ada.call(LoadShell {}).await.unwrap();

    reset_sandbox_stats(&app.sandbox_url).await;
    let shell = dmitri.call(LoadShell {}).await.unwrap();
    assert_eq!(shell_reads(&calls(&app).await), 0, "remembered");
    assert!(shell
        .environments
        .iter()
        .any(|environment| environment.name == "Staging (EU)"));
    let allowlist = dmitri.call(LoadAllowlist {}).await.unwrap();
    assert_eq!(allowlist.environment.name, "Staging (EU)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_list_that_differs_from_the_remembered_one_has_it_forgotten() {
    // Renamed through another replica: Dmitri's Environments page reads the list afresh and his
    // session's environment follows it. His next shell must not take it back to the remembered,
    // older list.
    let app = spawn_app().await;
    let dmitri = on_staging_then_renamed_elsewhere(&app).await;
    dmitri.call(LoadEnvironments {}).await.unwrap();
    let shell = dmitri.call(LoadShell {}).await.unwrap();
    assert!(
        shell
            .environments
            .iter()
            .any(|environment| environment.name == "Staging (EU)"),
        "{shell:?}"
    );
    let allowlist = dmitri.call(LoadAllowlist {}).await.unwrap();
    assert_eq!(allowlist.environment.name, "Staging (EU)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remembered_list_without_the_session_environment_is_read_again() {
    // An environment created since the first replica remembered the shell's list, and switched
    // to through the second (whose switch checks a fresh list there): the first replica's list
    // predates it and must not show another environment as chosen.
    let redis = RedisServer::start().await;
    let public = reserve_port();
    let sandbox = spawn_sandbox(&public.1, |_| {}).await;
    let (first, second) = two_replicas_on_redis(&redis, &sandbox, public, |_| {}).await;
    let ada = first.browser();
    ada.sign_in().await;
    ada.call(LoadShell {}).await.unwrap();
    sandbox.state.store.write(|data| {
        let mut qa = data.environments[0].clone();
        qa.id = uuid::Uuid::new_v4();
        qa.slug = "qa".to_owned();
        qa.name = "QA".to_owned();
        data.environments.push(qa);
    });
    ada.via(&second.addr_url)
        .call(SwitchEnvironment {
            slug: "qa".to_owned(),
        })
        .await
        .unwrap();
    reset_sandbox_stats(&first.sandbox_url).await;
    let shell = ada.call(LoadShell {}).await.unwrap();
    assert_eq!(shell_reads(&calls(&first).await), 2, "read again");
    assert_eq!(shell.current_environment.as_str(), "qa");
    assert!(
        shell
            .environments
            .iter()
            .any(|environment| environment.slug.as_str() == "qa"),
        "{shell:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shell_is_not_shared_with_a_token_that_does_not_name_platform_read() {
    // Chloé's role loses platform:read while she works: her renewed token speaks the dashboard's
    // vocabulary and no longer names it. The shell remembered for her platform must not answer
    // for her; the API does, and refuses.
    const TOKEN_TTL: u64 = 6;
    const REFRESH_MARGIN: u64 = 2;
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.access_token_ttl_seconds = TOKEN_TTL as i64)
        .config(|config| config.token_refresh_margin_seconds = REFRESH_MARGIN)
        .spawn()
        .await;
    let chloe = app.browser();
    chloe.sign_in_as("auth0|acme-chloe", "").await;
    let signed_in_at = Instant::now();
    chloe.call(LoadShell {}).await.unwrap();
    app.sandbox().state.store.write(|data| {
        let compliance = data
            .roles
            .iter_mut()
            .find(|role| role.id == "rol_compliance_officer")
            .unwrap();
        compliance
            .permissions
            .retain(|permission| permission != "platform:read");
    });
    let ada = app.browser();
    ada.sign_in().await;
    ada.call(LoadShell {}).await.unwrap();

    let refresh_due = Duration::from_secs(TOKEN_TTL - REFRESH_MARGIN) + Duration::from_millis(500);
    tokio::time::sleep(refresh_due.saturating_sub(signed_in_at.elapsed())).await;
    reset_sandbox_stats(&app.sandbox_url).await;
    let shell = chloe.call(LoadShell {}).await;
    let stats = sandbox_stats(&app.sandbox_url).await;
    assert_eq!(stats["grants"]["refresh_token"], 1, "her token was renewed");
    let made = calls(&app).await;
    assert!(shell_reads(&made) > 0, "asked the API: {made:?}");
    assert!(shell.is_err(), "the API refused her: {shell:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_of_a_long_list_after_the_first_are_read_together() {
    // 250 entries: three pages of 100. The first page says how many there are; the two after it
    // are asked for together, so the read waits for two round trips to the API, not three.
    let app = spawn_app().await;
    let browser = warmed_up(&app).await;
    let lines: String = (0..250)
        .map(|i| format!("10.{}.{}.0/24\n", i / 200, i % 200))
        .collect();
    add_confirmed_lines(&browser, lines).await;

    const LATENCY: std::time::Duration = std::time::Duration::from_millis(600);
    set_faults(
        &app.sandbox_url,
        json!({ "latency_ms": LATENCY.as_millis() as u64 }),
    )
    .await;
    reset_sandbox_stats(&app.sandbox_url).await;
    let started = std::time::Instant::now();
    let read = browser.call(LoadAllowlist {}).await;
    let took = started.elapsed();
    set_faults(&app.sandbox_url, json!({})).await;

    assert_eq!(read.unwrap().entries.len(), 250);
    let mut made = calls(&app).await;
    made.sort();
    assert_eq!(made.len(), 3, "{made:#?}");
    for offset in [0, 100, 200] {
        assert!(
            made.iter()
                .any(|call| call.contains(&format!("offset={offset}"))),
            "offset {offset}: {made:#?}"
        );
    }
    // One page after another takes three latencies at least; together, two and the work.
    assert!(
        took < LATENCY * 3 - LATENCY / 6,
        "read in {took:?}: the pages were asked for one after another"
    );
}
