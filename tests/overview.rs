//! The overview's getting-started checklist, against the sandbox over HTTP: shown only while the
//! platform's onboarding is incomplete, each step ticked from what the API holds, gone once every
//! step is done or the member dismisses it.

mod common;

use common::{allowlist_confirmation, spawn_app, Browser, ListChange, TestApp};
use keystone_dashboard::api::{
    AddAllowlistEntry, DismissGettingStarted, LoadOverview, SwitchEnvironment,
};

/// The checklist's steps as (title start, done).
async fn steps(browser: &Browser) -> Option<Vec<(String, bool)>> {
    browser
        .call(LoadOverview {})
        .await
        .unwrap()
        .getting_started
        .map(|steps| {
            steps
                .into_iter()
                .map(|step| (step.href, step.done))
                .collect()
        })
}

fn production(data: &keystone_sandbox::world::Data) -> uuid::Uuid {
    data.environment_by_slug("production").unwrap().id
}

/// Ada on a platform still onboarding: production open to all, no webhook delivered yet.
async fn still_onboarding() -> (TestApp, Browser) {
    let app = spawn_app().await;
    app.sandbox().state.store.write(|data| {
        data.platform.onboarding_completed_at = None;
        let production = production(data);
        data.allowlist
            .retain(|entry| entry.environment_id != production);
        data.webhook_deliveries.clear();
    });
    let browser = app.browser();
    browser.sign_in().await;
    (app, browser)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_that_finished_onboarding_shows_no_checklist() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.sign_in().await;
    assert_eq!(steps(&browser).await, None);
    let html = browser.get("/").await.text().await.unwrap();
    assert!(!html.contains(r#"data-testid="getting-started""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_step_is_ticked_from_real_state_and_the_checklist_goes_when_dismissed() {
    let (_app, browser) = still_onboarding().await;
    assert_eq!(
        steps(&browser).await.unwrap(),
        [
            ("/members".to_owned(), true),
            ("/environments".to_owned(), true),
            ("/security".to_owned(), false),
            ("/webhooks".to_owned(), false),
        ]
    );
    let html = browser.get("/").await.text().await.unwrap();
    assert!(html.contains(r#"data-testid="getting-started""#));
    assert!(html.contains("2 of 4 done."));

    // Production restricted: that step is ticked.
    browser
        .call(SwitchEnvironment {
            slug: "production".to_owned(),
        })
        .await
        .unwrap();
    browser
        .call(AddAllowlistEntry {
            cidr: "203.0.113.0/24".to_owned(),
            description: Some("office".to_owned()),
            confirm: Some(
                allowlist_confirmation(&browser, ListChange::Add("203.0.113.0/24")).await,
            ),
            environment: None,
        })
        .await
        .unwrap();
    let after = steps(&browser).await.unwrap();
    assert!(after[2].1, "{after:?}");
    assert!(!after[3].1);

    // Dismissed: gone for the session.
    browser.call(DismissGettingStarted {}).await.unwrap();
    assert_eq!(steps(&browser).await, None);
    let html = browser.get("/").await.text().await.unwrap();
    assert!(!html.contains(r#"data-testid="getting-started""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_receiving_ticks_the_last_step_and_the_checklist_goes_when_all_are_done() {
    let (app, browser) = still_onboarding().await;
    app.sandbox().state.store.write(|data| {
        let production = production(data);
        data.allowlist
            .push(keystone_sandbox::model::AllowlistEntry {
                id: uuid::Uuid::new_v4(),
                environment_id: production,
                cidr: "203.0.113.0/24".parse().unwrap(),
                description: None,
                created_at: time::OffsetDateTime::now_utc(),
                created_by: "auth0|acme-ada".to_owned(),
            });
    });
    assert!(!steps(&browser).await.unwrap()[3].1);
    // The seeded endpoint's newest delivery arrived. The API lists an older, failed one first
    // (the order of deliveries is unpublished): the newest is read by its time, not its place.
    let now = time::OffsetDateTime::now_utc();
    app.sandbox().state.store.write(|data| {
        let endpoint = data.webhooks[0].endpoint.id;
        for (success, created_at) in [(true, now), (false, now - time::Duration::hours(1))] {
            data.webhook_deliveries
                .push(keystone_sandbox::model::WebhookDelivery {
                    id: uuid::Uuid::new_v4(),
                    endpoint_id: endpoint,
                    event: "settlement.completed".to_owned(),
                    response_status: Some(if success { 200 } else { 500 }),
                    duration_ms: Some(40),
                    success,
                    error: None,
                    created_at,
                });
        }
    });
    assert_eq!(steps(&browser).await, None, "every step done");
}
