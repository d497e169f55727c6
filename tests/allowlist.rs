//! The IP allowlist server functions against the real sandbox: validation, the confirmations that
//! prevent lockouts, the effect on M2M traffic, bulk adds, export and read-only members. Each call
//! is typed as the page makes it.

mod common;

use common::{
    add_confirmed_lines, allowlist_confirmation, spawn_app, status, Browser, ListChange, TestApp,
};
use keystone_dashboard::api::{
    AddAllowlistEntries, AddAllowlistEntry, AllowlistEntry, AllowlistPage, ApiError, CallerLog,
    DeleteAllowlistEntry, LoadAllowlist, LoadAllowlistPage, LoadRecentCallers, SwitchEnvironment,
    UpdateAllowlistDescription,
};
use reqwest::StatusCode;
use serde_json::json;

const VIEWER: &str = "auth0|acme-dmitri";

/// What the office's network, added unconfirmed as staging's first entry, is refused for.
async fn first_entry_warning(browser: &Browser) -> String {
    browser
        .call(add(browser, "198.51.100.0/24", Some("office"), false).await)
        .await
        .unwrap_err()
        .needs_confirmation()
        .to_owned()
}

/// The recent M2M callers as the Security page reads them, by a member who may read the log.
async fn caller_log(browser: &Browser) -> CallerLog {
    browser
        .call(LoadRecentCallers {})
        .await
        .unwrap()
        .expect("the member reads the log")
        .log
}

async fn switch_to(browser: &Browser, slug: &str) {
    browser
        .call(SwitchEnvironment {
            slug: slug.to_owned(),
        })
        .await
        .unwrap();
}

/// Ada, signed in and switched to staging (whose list starts empty).
async fn manager_on_staging(app: &TestApp) -> Browser {
    let browser = app.browser();
    browser.sign_in().await;
    switch_to(&browser, "staging").await;
    browser
}

async fn entries(browser: &Browser) -> Vec<AllowlistEntry> {
    browser.call(LoadAllowlist {}).await.unwrap().entries
}

/// Adding `cidr`, confirmed (or not) as the page would confirm it for `browser`.
async fn add(
    browser: &Browser,
    cidr: &str,
    description: Option<&str>,
    confirm: bool,
) -> AddAllowlistEntry {
    AddAllowlistEntry {
        cidr: cidr.to_owned(),
        description: description.map(str::to_owned),
        confirm: match confirm {
            true => Some(allowlist_confirmation(browser, ListChange::Add(cidr)).await),
            false => None,
        },
        environment: None,
    }
}

async fn delete(browser: &Browser, id: &str, confirm: bool) -> DeleteAllowlistEntry {
    DeleteAllowlistEntry {
        id: id.to_owned(),
        confirm: match confirm {
            true => Some(allowlist_confirmation(browser, ListChange::Delete(id)).await),
            false => None,
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_entry_restricts_m2m_traffic_only_once_confirmed() {
    let app = spawn_app().await;
    let browser = manager_on_staging(&app).await;
    let view = browser.call(LoadAllowlist {}).await.unwrap();
    assert_eq!(view.environment.slug.as_str(), "staging");
    assert!(view.can_manage);
    assert!(view.entries.is_empty());
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::OK,
        "an empty list allows everyone"
    );

    let refused = browser
        .call(add(&browser, "198.51.100.0/24", Some("office"), false).await)
        .await
        .unwrap_err();
    assert!(refused.needs_confirmation().contains("refused at once"));
    assert_eq!(entries(&browser).await.len(), 0, "nothing was added");

    let added = browser
        .call(add(&browser, "198.51.100.0/24", Some("office"), true).await)
        .await
        .unwrap();
    assert_eq!(added.cidr.to_string(), "198.51.100.0/24");
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::FORBIDDEN,
        "127.0.0.1 is outside the list"
    );

    // A second entry needs no confirmation; it lets this machine in.
    let added = browser
        .call(add(&browser, "127.0.0.1", Some("CI"), false).await)
        .await
        .unwrap();
    assert_eq!(
        added.cidr.to_string(),
        "127.0.0.1/32",
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
    let refused = browser
        .call(add(&browser, "10.1.2.3/8", None, true).await)
        .await
        .unwrap_err();
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ApiError::Validation(fields) = &refused.error else {
        panic!("{refused:?}")
    };
    assert_eq!(fields[0].field, "cidr");
    assert!(
        fields[0].message.contains("host bits") && fields[0].message.contains("10.0.0.0/8"),
        "{fields:?}"
    );

    let long = "x".repeat(300);
    for (cidr, description) in [("not-a-network", None), ("10.0.0.0/8", Some(long.as_str()))] {
        assert_eq!(
            status(
                browser
                    .call(add(&browser, cidr, description, true).await)
                    .await
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{cidr}"
        );
    }
    assert_eq!(entries(&browser).await.len(), 0);

    browser
        .call(add(&browser, "10.0.0.0/8", None, true).await)
        .await
        .unwrap();
    for (cidr, expected) in [
        ("10.0.0.0/8", "already on the list"),
        ("10.20.30.40", "already allowed by 10.0.0.0/8"),
    ] {
        let refused = browser
            .call(add(&browser, cidr, None, false).await)
            .await
            .unwrap_err();
        assert!(
            matches!(&refused.error, ApiError::Conflict(why) if why.contains(expected)),
            "{cidr}: {refused:?}"
        );
        assert_eq!(refused.status, StatusCode::CONFLICT);
    }
    // Allowing everyone is possible, but only said out loud.
    let refused = browser
        .call(add(&browser, "::/0", None, false).await)
        .await
        .unwrap_err();
    assert!(refused.needs_confirmation().contains("every IPv6 address"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_changes_and_deleting_the_last_entry_need_confirming() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.sign_in().await;
    switch_to(&browser, "production").await;
    let refused = browser
        .call(add(&browser, "192.0.2.0/24", None, false).await)
        .await
        .unwrap_err();
    assert!(refused.needs_confirmation().contains("production"));

    let browser = manager_on_staging(&app).await;
    browser
        .call(add(&browser, "198.51.100.0/24", None, true).await)
        .await
        .unwrap();
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::FORBIDDEN
    );
    let id = entries(&browser).await[0].id.clone();
    let refused = browser
        .call(delete(&browser, &id, false).await)
        .await
        .unwrap_err();
    assert!(refused.needs_confirmation().contains("every address"));
    assert_eq!(entries(&browser).await.len(), 1, "still there");

    let deleted = browser
        .call(delete(&browser, &id, true).await)
        .await
        .unwrap();
    assert_eq!(deleted, "198.51.100.0/24");
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::OK,
        "open to all again"
    );
    let gone = browser
        .call(delete(&browser, &id, true).await)
        .await
        .unwrap_err();
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_adds_report_every_line_and_add_the_good_ones() {
    let app = spawn_app().await;
    let browser = manager_on_staging(&app).await;
    let lines = "192.0.2.10, office\n10.0.0.0/33\n2001:db8::/48 VPN\n192.0.2.10\n";
    let bulk = |confirm: Option<String>| AddAllowlistEntries {
        lines: lines.to_owned(),
        confirm,
        environment: None,
    };
    let refused = browser.call(bulk(None)).await.unwrap_err();
    assert_eq!(
        refused.status,
        StatusCode::PRECONDITION_REQUIRED,
        "the first entries restrict traffic"
    );
    let code = allowlist_confirmation(&browser, ListChange::Bulk(lines)).await;
    let results = browser.call(bulk(Some(code))).await.unwrap();
    let outcomes: Vec<(usize, bool)> = results
        .iter()
        .map(|line| (line.line, line.outcome.is_ok()))
        .collect();
    assert_eq!(outcomes, [(1, true), (2, false), (3, true), (4, false)]);
    let stored: Vec<(String, String)> = entries(&browser)
        .await
        .iter()
        .map(|entry| {
            (
                entry.cidr.to_string(),
                entry.description.clone().unwrap_or_default(),
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
    let id = entries(&browser).await[0].id.clone();
    browser
        .call(UpdateAllowlistDescription {
            id,
            description: Some("=cmd, \"quoted\"".to_owned()),
        })
        .await
        .unwrap();
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

/// A paste of more lines than one add takes is refused before anything is read or judged: each
/// line is judged against every line before it, so 20,000 lines held a worker for many seconds
/// (and would have been refused anyway: an environment holds at most 500 entries).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paste_of_more_lines_than_one_add_takes_is_refused_before_anything_is_read() {
    let app = spawn_app().await;
    let browser = manager_on_staging(&app).await;
    for count in [501, 20_000] {
        let lines: String = (0..count)
            .map(|n| format!("10.{}.{}.1\n", n / 256, n % 256))
            .collect();
        common::reset_sandbox_stats(&app.sandbox_url).await;
        let refused = browser
            .call(AddAllowlistEntries {
                lines,
                confirm: None,
                environment: None,
            })
            .await
            .unwrap_err();
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{refused:?}");
        assert!(
            matches!(&refused.error, ApiError::BadRequest(why)
                if why.starts_with(&format!("One add takes at most 500 lines; this one has {count}."))),
            "{refused:?}"
        );
        assert_eq!(
            common::sandbox_stats(&app.sandbox_url).await["api_requests"],
            0,
            "nothing was read from the API"
        );
    }
}

/// Once KeyStone answers a bulk add's create with 429, or stops answering, the lines after are not
/// sent (each would be refused in the same window, spending the environment's budget its M2M
/// clients share, or wait out its timeout): they come back as not added, saying why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_add_stops_sending_at_the_rate_limit_or_an_outage() {
    let app = spawn_app().await;
    let browser = manager_on_staging(&app).await;
    let lines = "192.0.2.10\n192.0.2.11\n192.0.2.12\n192.0.2.13\n";
    for (fault, first, rest) in [
        (
            json!({ "kind": "status", "status": 429, "retry_after_seconds": 30 }),
            "Too many requests. Try again in 30 seconds.",
            "rate limit for this environment was reached before this line was sent",
        ),
        (
            json!({ "kind": "status", "status": 503 }),
            "The KeyStone API",
            "stopped answering before this line was sent",
        ),
    ] {
        let code = allowlist_confirmation(&browser, ListChange::Bulk(lines)).await;
        // Two uses: one is spent by the line that meets the fault; the other stays unless a
        // second line is sent (faulted requests never reach the API's log, so the rule counts).
        common::set_faults(
            &app.sandbox_url,
            json!({ "rules": [{ "method": "POST", "path_prefix": "/v1/platforms/me/environments/",
                                "times": 2, "action": fault }] }),
        )
        .await;
        let results = browser
            .call(AddAllowlistEntries {
                lines: lines.to_owned(),
                confirm: Some(code),
                environment: None,
            })
            .await
            .unwrap();
        let outcomes: Vec<String> = results
            .iter()
            .map(|line| line.outcome.clone().unwrap_err())
            .collect();
        assert!(outcomes[0].contains(first), "{outcomes:?}");
        for not_sent in &outcomes[1..] {
            assert!(not_sent.contains(rest), "{not_sent}");
        }
        assert_eq!(
            common::fault_uses_left(&app.sandbox_url).await,
            1,
            "no line was sent after the first failed: {outcomes:?}"
        );
        assert!(entries(&browser).await.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_sees_the_list_and_cannot_change_it() {
    let app = spawn_app().await;
    let viewer = app.browser();
    let response = viewer.sign_in_as(VIEWER, "").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    switch_to(&viewer, "production").await;
    let view = viewer.call(LoadAllowlist {}).await.unwrap();
    assert!(!view.can_manage);
    assert_eq!(view.entries.len(), 3, "the seeded production list");
    let html = viewer.get("/security").await.text().await.unwrap();
    assert!(html.contains("203.0.113.0/24"));
    assert!(html.contains(r#"data-testid="read-only""#));
    assert!(!html.contains(r#"data-testid="add-entry-form""#));
    // The API is the guard: even a hand-made request is refused, and said so.
    let refused = viewer
        .call(add(&viewer, "192.0.2.0/24", None, true).await)
        .await
        .unwrap_err();
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{refused:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_name_who_added_them_and_keep_the_id_when_no_name_is_known() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.sign_in().await;
    switch_to(&browser, "production").await;
    let shown_by_id = |view: &keystone_dashboard::api::Allowlist| {
        view.entries.len() == 3
            && view
                .entries
                .iter()
                .all(|entry| entry.added_by() == "auth0|acme-ada")
    };

    // The member list failing costs the names, never the list.
    common::set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "path_prefix": "/v1/platforms/me/members", "action": { "kind": "status", "status": 503 } }] }),
    )
    .await;
    let view = browser.call(LoadAllowlist {}).await.unwrap();
    assert!(shown_by_id(&view), "{view:?}");

    // Nor does a slow one make the list wait: the names get two seconds.
    common::set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "path_prefix": "/v1/platforms/me/members", "action": { "kind": "delay", "ms": 8000 } }] }),
    )
    .await;
    let started = std::time::Instant::now();
    let view = browser.call(LoadAllowlist {}).await.unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(6),
        "the list waited {:?} for the names",
        started.elapsed()
    );
    assert!(shown_by_id(&view), "{view:?}");

    // Read once, the names are remembered for the platform: the next reads make one call.
    common::set_faults(&app.sandbox_url, json!({ "rules": [] })).await;
    let view = browser.call(LoadAllowlist {}).await.unwrap();
    assert_eq!(view.entries.len(), 3, "the seeded production list");
    for entry in &view.entries {
        assert_eq!(entry.created_by.as_deref(), Some("auth0|acme-ada"));
        assert_eq!(entry.added_by(), "Ada Okafor");
    }
    common::set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "path_prefix": "/v1/platforms/me/members", "action": { "kind": "status", "status": 503 } }] }),
    )
    .await;
    let view = browser.call(LoadAllowlist {}).await.unwrap();
    assert!(view
        .entries
        .iter()
        .all(|entry| entry.added_by() == "Ada Okafor"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_list_is_shown_a_page_at_a_time() {
    let app = spawn_app().await;
    let browser = manager_on_staging(&app).await;
    let lines: String = (0..120)
        .map(|i| format!("10.0.{i}.0/24, entry {i}\n"))
        .collect();
    add_confirmed_lines(&browser, lines).await;
    let page = |path: &'static str| {
        let browser = &browser;
        async move { browser.get(path).await.text().await.unwrap() }
    };
    let rows = |html: &str| html.matches(r#"data-testid="allowlist-row""#).count();

    // The networks of the rows a page shows, in order.
    let networks = |html: &str| -> Vec<String> {
        html.split(r#"data-testid="allowlist-row""#)
            .skip(1)
            .map(|row| {
                let cell = &row[row.find(r#"<td class="mono">"#).unwrap() + 17..];
                cell[..cell.find('<').unwrap()].to_owned()
            })
            .collect()
    };

    let first = page("/security").await;
    assert_eq!(rows(&first), 50);
    assert!(first.contains("1–50 of 120"), "{first}");
    assert!(first.contains(r#"href="/security?offset=50""#), "{first}");
    let middle = page("/security?offset=50").await;
    let last = page("/security?offset=100").await;
    assert_eq!(rows(&last), 20);
    // Only the rows shown travel with the page (its data for hydrating included), but every
    // network does: the checks made in the browser are against the whole list.
    assert!(last.contains("entry 119"));
    assert!(
        !first.contains("entry 119"),
        "another page's row in the page"
    );
    assert!(
        first.contains("10.0.119.0/24"),
        "a network missing from the checks"
    );
    // And so on a page turn in the browser, through the page's server function.
    let turned = browser
        .call(LoadAllowlistPage { offset: 100 })
        .await
        .unwrap();
    assert_eq!((turned.offset, turned.rows.len()), (100, 20));
    assert_eq!((turned.total, turned.networks.len()), (120, 120));
    assert!(last.contains("101–120 of 120"));
    assert!(
        last.contains(r#"href="/security?offset=50""#),
        "the previous page"
    );
    // The three pages together show every entry once.
    let in_order: Vec<String> = [&first, &middle, &last]
        .into_iter()
        .flat_map(|html| networks(html))
        .collect();
    let mut distinct = in_order.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!((in_order.len(), distinct.len()), (120, 120), "{in_order:?}");
    // An old link past the end (rows deleted since) shows the last page, not an empty table.
    assert_eq!(
        networks(&page("/security?offset=5000").await),
        networks(&last)
    );
    // An offset inside a page shows that whole page.
    assert_eq!(
        networks(&page("/security?offset=73").await),
        networks(&middle)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_log_read_in_part_says_how_far_back_the_callers_are_known() {
    let app = spawn_app().await;
    let browser = manager_on_staging(&app).await;
    common::m2m_status(&app.sandbox_url, "staging").await;
    let read = || caller_log(&browser);
    let whole = read().await;
    assert_eq!(whole.callers.len(), 1);
    assert_eq!(whole.read_back_to, None, "the whole week was read");
    let page = browser.get("/security").await.text().await.unwrap();
    assert!(page.contains("called this environment in the last 7 days"));

    // A log that holds more entries in the week than one read brings.
    common::set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "method": "GET", "path_prefix": "/v1/activity?",
                            "action": { "kind": "edit_body", "pointer": "/total", "value": 5000 } }] }),
    )
    .await;
    let part = read().await;
    let oldest = part.read_back_to.expect("read in part");
    // The oldest of the entries read (the seeded ones, days before the call).
    assert!(
        oldest.moment() < part.callers[0].last_call.moment(),
        "{oldest:?}"
    );
    let page = browser.get("/security").await.text().await.unwrap();
    assert!(
        page.contains(&format!(
            "called this environment since {}",
            oldest.second_utc()
        )),
        "{page}"
    );
    assert!(!page.contains("called this environment in the last 7 days"));
    // Each change that could lock a caller out says what it was checked against.
    let warning = first_entry_warning(&browser).await;
    assert!(
        warning.contains(&format!(
            "checked against the newest entries of the activity log only: an M2M client seen only before them is not named (they go back to {})",
            oldest.second_utc()
        )),
        "{warning}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_would_lock_out_a_recent_m2m_caller_names_it_before_it_is_saved() {
    let app = spawn_app().await;
    let browser = manager_on_staging(&app).await;
    // An M2M client calls staging from this machine.
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::OK
    );
    let callers = caller_log(&browser).await.callers;
    assert_eq!(callers.len(), 1, "{callers:?}");
    assert_eq!(callers[0].client_id, "sandbox-m2m-staging");
    assert_eq!(callers[0].address.to_string(), "127.0.0.1");
    let page = browser.get("/security").await.text().await.unwrap();
    assert!(page.contains(r#"data-client="sandbox-m2m-staging""#));

    // A first entry that leaves this machine out: the confirmation names the client.
    let warning = first_entry_warning(&browser).await;
    assert!(
        warning.contains("sandbox-m2m-staging would be refused: it last called from 127.0.0.1"),
        "{warning}"
    );
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::OK,
        "nothing saved yet"
    );

    // Confirmed and saved: the client's next call is refused.
    browser
        .call(add(&browser, "198.51.100.0/24", Some("office"), true).await)
        .await
        .unwrap();
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::FORBIDDEN
    );

    // A network that lets it back in needs no confirmation; deleting that network names it again.
    let covering = browser
        .call(add(&browser, "127.0.0.0/8", Some("this machine"), false).await)
        .await
        .unwrap();
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::OK
    );
    let refused = browser
        .call(delete(&browser, &covering.id, false).await)
        .await
        .unwrap_err();
    assert!(
        refused
            .needs_confirmation()
            .contains("sandbox-m2m-staging would be refused"),
        "{refused:?}"
    );
    // The page names it in that row's delete confirmation, which is built when the dialog opens
    // (the address opens it without JavaScript), not with every row.
    let closed = browser.get("/security").await.text().await.unwrap();
    assert!(
        !closed.contains("would be refused"),
        "no row's confirmation is built"
    );
    let opened = browser
        .get(&format!(
            "/security?open={}",
            keystone_dashboard::domain::encode_component(&format!("delete:{}", covering.id))
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        opened.contains("sandbox-m2m-staging would be refused"),
        "the opened row's confirmation names the caller"
    );

    // Without the activity log (a Viewer), there is no preview, and the page says so.
    let viewer = app.browser();
    viewer.sign_in_as(VIEWER, "").await;
    switch_to(&viewer, "staging").await;
    common::reset_sandbox_stats(&app.sandbox_url).await;
    assert_eq!(viewer.call(LoadRecentCallers {}).await.unwrap(), None);
    let stats = common::sandbox_stats(&app.sandbox_url).await;
    assert!(
        !stats["recent_requests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|request| request["path"] == "/v1/activity"),
        "the log is not read for a member who may not read it: {stats}"
    );
}

/// KeyStone does not publish the values of `actor_type`: a log that spells its machine callers
/// otherwise than the sandbox (`client`) still names them, and a member's entries (`user`) are not
/// taken for callers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_logged_under_another_actor_type_is_still_named() {
    let app = spawn_app().await;
    let browser = manager_on_staging(&app).await;
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::OK
    );
    // The log's M2M entries, spelled `actor_type` as given; then the callers the preview names.
    let callers_when_logged_as = |actor_type: &'static str| {
        app.sandbox().state.store.write(|data| {
            for entry in &mut data.activity {
                if entry.kind == "api.request" {
                    entry.actor_type = actor_type.into();
                }
            }
        });
        async { caller_log(&browser).await.callers }
    };
    let callers = callers_when_logged_as("client").await;
    assert_eq!(callers.len(), 1, "{callers:?}");
    assert_eq!(callers[0].client_id, "sandbox-m2m-staging");
    // The same entries said to be a member's are not callers.
    let callers = callers_when_logged_as("user").await;
    assert!(callers.is_empty(), "{callers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmation_older_than_a_new_m2m_caller_is_refused_and_names_it() {
    let app = spawn_app().await;
    let browser = manager_on_staging(&app).await;
    // The page is loaded while nobody calls staging: adding the office warns only that it is the
    // first entry, and the member confirms that.
    let office = "198.51.100.0/24";
    let stale = allowlist_confirmation(&browser, ListChange::Add(office)).await;
    // Meanwhile an M2M client calls staging from this machine.
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::OK
    );
    let confirmed = |confirm: String| AddAllowlistEntry {
        cidr: office.to_owned(),
        description: None,
        confirm: Some(confirm),
        environment: None,
    };
    let refused = browser.call(confirmed(stale.clone())).await.unwrap_err();
    let warning = refused.needs_confirmation();
    assert!(
        warning.contains("does more than the page showed")
            && warning.contains("sandbox-m2m-staging would be refused"),
        "{warning}"
    );
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::OK,
        "nothing saved"
    );

    // The page, reloaded, names the client. The client calling again meanwhile (its last call
    // time moves on) does not void what the member read and confirmed.
    let fresh = allowlist_confirmation(&browser, ListChange::Add(office)).await;
    assert_ne!(fresh, stale);
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::OK
    );
    browser.call(confirmed(fresh)).await.unwrap();
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_tool_confirms_what_the_refusal_names_and_no_more() {
    use keystone_sandbox::load::{http_client, Outcome, Samples, Visitor};
    /// Its status and how many requests it took.
    async fn add(visitor: &mut Visitor, cidr: &str) -> (StatusCode, u64) {
        let mut samples = Samples::default();
        let outcome = visitor
            .confirmed_server_fn("allowlist/add", &[("cidr", cidr)], &mut samples)
            .await;
        let Outcome::Reply { status, .. } = outcome else {
            panic!("no reply");
        };
        let requests = samples.summary(std::time::Duration::from_secs(1)).requests;
        (status, requests)
    }
    let app = spawn_app().await;
    let mut visitor = Visitor::new(
        http_client(std::time::Duration::from_secs(10)),
        vec![app.base_url.clone()],
        0,
        app.base_url.clone(),
    );
    let mut samples = Samples::default();
    visitor.sign_in(common::ADA, &mut samples).await.unwrap();
    // Development's list is empty: the first entry is refused (428), then confirmed with the
    // code that refusal named.
    assert_eq!(add(&mut visitor, "192.0.2.0/24").await, (StatusCode::OK, 2));
    // A later one has nothing to confirm: one request.
    assert_eq!(
        add(&mut visitor, "198.51.100.0/24").await,
        (StatusCode::OK, 1)
    );
    // A bad one is not retried.
    assert_eq!(
        add(&mut visitor, "10.0.0.0/33").await,
        (StatusCode::UNPROCESSABLE_ENTITY, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_activity_log_fails_only_the_pages_callers_section() {
    // The page's server function reads the list and the callers together; the callers' failure
    // is a section of the page, not a failed reply.
    let app = spawn_app().await;
    let browser = manager_on_staging(&app).await;
    common::set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "path_prefix": "/v1/activity", "action": { "kind": "status", "status": 503 } }] }),
    )
    .await;
    let (reply, page) = browser
        .server_fn("allowlist/page", &[("offset", "0")])
        .await;
    common::set_faults(&app.sandbox_url, json!({ "rules": [] })).await;
    assert_eq!(reply, StatusCode::OK, "{page}");
    let page: AllowlistPage = serde_json::from_value(page).unwrap();
    assert!(
        matches!(page.recent_callers, Some(Err(ApiError::Unavailable { .. }))),
        "{:?}",
        page.recent_callers
    );
}

/// The add forms send the environment whose list their page showed. After a switch in another
/// tab, an add from the old page is refused, not made in an environment the member is not looking
/// at (and checked against a list they have not seen).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_add_from_a_page_of_another_environment_is_refused_and_nothing_is_added() {
    let app = spawn_app().await;
    let browser = manager_on_staging(&app).await;
    let page = browser.get("/security").await.text().await.unwrap();
    assert_eq!(
        page.matches(r#"name="environment" value="staging""#)
            .count(),
        2,
        "the add and the bulk forms name staging"
    );

    // Another tab switches the session to development; the staging page is still open.
    switch_to(&browser, "development").await;
    let development = entries(&browser).await;
    let from_staging = Some("staging".to_owned());
    let refused = browser
        .call(AddAllowlistEntry {
            cidr: "10.9.0.0/16".to_owned(),
            description: None,
            confirm: None,
            environment: from_staging.clone(),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&refused.error, ApiError::Conflict(why) if why.contains("switched to Development")),
        "{:?}",
        refused.error
    );
    let refused = browser
        .call(AddAllowlistEntries {
            lines: "10.9.0.0/16".to_owned(),
            confirm: None,
            environment: from_staging.clone(),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&refused.error, ApiError::Conflict(why) if why.contains("Nothing was added")),
        "{:?}",
        refused.error
    );
    assert_eq!(entries(&browser).await, development);
    switch_to(&browser, "staging").await;
    assert!(entries(&browser).await.is_empty());

    // From a page of the session's environment, the same add goes through.
    let confirm = allowlist_confirmation(&browser, ListChange::Add("10.9.0.0/16")).await;
    let added = browser
        .call(AddAllowlistEntry {
            cidr: "10.9.0.0/16".to_owned(),
            description: None,
            confirm: Some(confirm),
            environment: from_staging,
        })
        .await
        .unwrap();
    assert_eq!(added.cidr.to_string(), "10.9.0.0/16");
}

/// A bulk line sent whose answer never came may be on the list: it is reported as unconfirmed,
/// never as "not added". The lines after it are not sent (the API stopped answering), and are
/// not unconfirmed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_line_whose_answer_was_lost_is_unconfirmed_not_refused() {
    let app = spawn_app().await;
    let browser = manager_on_staging(&app).await;
    let lines = "10.1.0.0/16\n10.2.0.0/16".to_owned();
    let confirm = allowlist_confirmation(&browser, ListChange::Bulk(&lines)).await;
    common::set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "method": "POST", "path_prefix": "/v1/platforms/me/environments/",
                            "times": 1, "action": { "kind": "drop_after_apply" } }] }),
    )
    .await;
    let results = browser
        .call(AddAllowlistEntries {
            lines,
            confirm: Some(confirm),
            environment: None,
        })
        .await
        .unwrap();
    assert!(
        results[0].outcome.is_err() && results[0].unconfirmed,
        "{results:?}"
    );
    assert!(
        results[1].outcome.is_err() && !results[1].unconfirmed,
        "{results:?}"
    );
    let listed: Vec<String> = entries(&browser)
        .await
        .iter()
        .map(|entry| entry.cidr.to_string())
        .collect();
    assert_eq!(listed, ["10.1.0.0/16"], "the first was added after all");
}
