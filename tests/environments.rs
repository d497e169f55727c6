//! Environments, the overview and the activity log, through the server functions against the
//! real sandbox, each call typed as the page makes it.

mod common;

use common::{activity_kinds, spawn_app, Browser, TestApp};
use keystone_dashboard::{
    api::{
        confirmation_code, deactivation_warning, production_edit_warnings, ActivityFilters,
        ActivityView, ApiError, CreateEnvironment, EnvironmentDetail, LoadActivity,
        LoadEnvironments, LoadOverview, SetEnvironmentActive, UpdateEnvironment,
    },
    domain::EnvironmentSlug,
};
use reqwest::StatusCode;

async fn manager(app: &TestApp) -> Browser {
    let browser = app.browser();
    browser.sign_in().await;
    browser
}

async fn environment(browser: &Browser, slug: &str) -> EnvironmentDetail {
    let view = browser.call(LoadEnvironments {}).await.unwrap();
    view.environments
        .into_iter()
        .filter_map(|listed| listed.parsed())
        .find(|environment| environment.slug.as_str() == slug)
        .unwrap()
}

fn create(slug: &str, timeout: &str) -> CreateEnvironment {
    CreateEnvironment {
        name: "QA".to_owned(),
        slug: slug.to_owned(),
        auth0_client_id: "qa-client".to_owned(),
        default_timeout_seconds: Some(timeout.to_owned()),
        webhook_url: None,
        webhook_secret: None,
    }
}

fn active(id: &str, active: bool, confirm: Option<&str>) -> SetEnvironmentActive {
    SetEnvironmentActive {
        id: id.to_owned(),
        active,
        confirm: confirm.map(str::to_owned),
    }
}

async fn activity(
    browser: &Browser,
    filters: ActivityFilters,
) -> Result<ActivityView, common::Refused> {
    browser.call(LoadActivity { filters }).await
}

fn in_environment(slug: &str) -> ActivityFilters {
    ActivityFilters {
        environment: Some(EnvironmentSlug::parse(slug).unwrap()),
        ..ActivityFilters::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environments_are_created_with_validated_fields() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let refused = browser.call(create("QA env", "")).await.unwrap_err();
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        matches!(&refused.error, ApiError::Validation(fields) if fields[0].field == "slug"),
        "{refused:?}"
    );
    let refused = browser.call(create("qa", "59")).await.unwrap_err();
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        matches!(&refused.error, ApiError::Validation(fields) if fields[0].message.contains("60 to 604800")),
        "{refused:?}"
    );
    // A webhook address that is no web address is said beside its field, before the API is asked.
    common::reset_sandbox_stats(&app.sandbox_url).await;
    let refused = browser
        .call(CreateEnvironment {
            webhook_url: Some("gopher://hooks.example/x".to_owned()),
            ..create("qa", "120")
        })
        .await
        .unwrap_err();
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        matches!(&refused.error, ApiError::Validation(fields) if fields[0].field == "webhook_url"),
        "{refused:?}"
    );
    assert_eq!(
        common::sandbox_stats(&app.sandbox_url).await["api_requests"],
        0
    );

    let created = browser.call(create("qa", "120")).await.unwrap();
    assert_eq!(
        (created.slug.as_str(), created.default_timeout_seconds),
        ("qa", 120)
    );
    let again = browser.call(create("qa", "")).await.unwrap_err();
    assert_eq!(again.status, StatusCode::CONFLICT, "{again:?}");

    let id = environment(&browser, "qa").await.id;
    let update = |rate: &str| UpdateEnvironment {
        id: id.clone(),
        name: "Quality".to_owned(),
        default_timeout_seconds: Some("600".to_owned()),
        rate_limit_rpm: Some(rate.to_owned()),
        webhook_url: Some(String::new()),
        webhook_secret: None,
        confirm: None,
    };
    browser.call(update("90")).await.unwrap();
    let qa = environment(&browser, "qa").await;
    assert_eq!((qa.name.as_str(), qa.rate_limit_rpm), ("Quality", Some(90)));
    let refused = browser.call(update("many")).await.unwrap_err();
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// What the sandbox stores as `slug`'s webhook secret (write-only in the API, so not readable
/// through it).
fn stored_secret(app: &TestApp, slug: &str) -> Option<String> {
    app.sandbox().state.store.read(|data| {
        data.environment_by_slug(slug)
            .unwrap()
            .webhook_secret
            .clone()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_secret_is_set_on_create_and_edit_kept_when_left_empty_and_refused_with_spaces() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let create = |secret: &'static str| {
        let browser = &browser;
        async move {
            browser
                .server_fn(
                    "environments/create",
                    &[
                        ("name", "QA"),
                        ("slug", "qa"),
                        ("auth0_client_id", "qa-client"),
                        ("webhook_secret", secret),
                    ],
                )
                .await
        }
    };
    // A space or line break at an end (a paste's) is said, not trimmed away unseen.
    for pasted in [" whsec_first", "whsec_first\n", "   "] {
        let (status, refused) = create(pasted).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert!(refused.to_string().contains("webhook_secret"), "{refused}");
    }
    let (status, created) = create("whsec_first").await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(stored_secret(&app, "qa").as_deref(), Some("whsec_first"));

    let id = created["id"].as_str().unwrap().to_owned();
    let edit = |secret: &str| {
        let id = id.clone();
        let secret = secret.to_owned();
        let browser = &browser;
        async move {
            browser
                .server_fn(
                    "environments/update",
                    &[("id", &id), ("name", "QA"), ("webhook_secret", &secret)],
                )
                .await
        }
    };
    // An edit that leaves the field empty keeps the secret: the form cannot show it.
    let (status, saved) = edit("").await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(stored_secret(&app, "qa").as_deref(), Some("whsec_first"));
    let (status, saved) = edit("whsec_second").await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(stored_secret(&app, "qa").as_deref(), Some("whsec_second"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_of_production_is_confirmed_and_nothing_changes_until_it_is() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let production = environment(&browser, "production").await;
    let rename = |confirm: Option<String>| UpdateEnvironment {
        id: production.id.clone(),
        name: "Live".to_owned(),
        default_timeout_seconds: None,
        rate_limit_rpm: Some("60".to_owned()),
        webhook_url: None,
        webhook_secret: None,
        confirm,
    };
    let unconfirmed = browser.call(rename(None)).await.unwrap_err();
    assert!(
        unconfirmed
            .needs_confirmation()
            .contains("This changes production"),
        "{unconfirmed:?}"
    );
    // A code for other consequences (production's deactivation) confirms nothing.
    let elsewhere = browser
        .call(rename(Some(confirmation_code(&[deactivation_warning(
            &production.slug,
        )]))))
        .await
        .unwrap_err();
    elsewhere.needs_confirmation();
    let unchanged = environment(&browser, "production").await;
    assert_eq!(
        (unchanged.name.as_str(), unchanged.rate_limit_rpm),
        (production.name.as_str(), production.rate_limit_rpm),
        "nothing was saved before the yes"
    );

    let code = confirmation_code(&production_edit_warnings(&production.slug));
    let saved = browser.call(rename(Some(code))).await.unwrap();
    assert_eq!(
        (saved.name.as_str(), saved.rate_limit_rpm),
        ("Live", Some(60))
    );

    // Other environments save without one, as before.
    let staging = environment(&browser, "staging").await;
    browser
        .call(UpdateEnvironment {
            id: staging.id,
            name: "Staging (EU)".to_owned(),
            default_timeout_seconds: None,
            rate_limit_rpm: None,
            webhook_url: None,
            webhook_secret: None,
            confirm: None,
        })
        .await
        .unwrap();
    assert_eq!(environment(&browser, "staging").await.name, "Staging (EU)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_is_confirmed_refuses_m2m_and_shows_in_overview_and_activity() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let id = environment(&browser, "staging").await.id;
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::OK
    );

    let unconfirmed = browser.call(active(&id, false, None)).await.unwrap_err();
    let warning = unconfirmed.needs_confirmation();
    assert!(warning.contains("refuses its M2M credentials"), "{warning}");
    assert!(environment(&browser, "staging").await.is_active);

    let deactivation_code = confirmation_code(&[deactivation_warning(
        &keystone_dashboard::domain::EnvironmentSlug::parse("staging").unwrap(),
    )]);
    let deactivated = browser
        .call(active(&id, false, Some(&deactivation_code)))
        .await
        .unwrap();
    assert!(!deactivated.is_active);
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::FORBIDDEN
    );

    let overview = browser.call(LoadOverview {}).await.unwrap();
    let cards = overview.environments.clone().unwrap();
    let card = |slug: &str| {
        cards
            .iter()
            .find(|card| card.slug.as_str() == slug)
            .unwrap()
    };
    assert!(!card("staging").is_active);
    assert_eq!(card("production").allowlist_size, Some(Ok(3)));
    assert_eq!(card("staging").allowlist_size, Some(Ok(0)));
    assert_eq!(overview.pending_invitations, Some(Ok(2)));
    assert_eq!(
        overview.roles,
        Some(Ok(vec!["Platform Manager".to_owned()]))
    );
    let latest = overview.recent_activity.unwrap().unwrap()[0]
        .clone()
        .parsed()
        .unwrap();
    assert_eq!(latest.kind, "environment.deactivated");

    browser.call(active(&id, true, None)).await.unwrap();
    assert_eq!(
        common::m2m_status(&app.sandbox_url, "staging").await,
        StatusCode::OK
    );

    // The log lists both changes under staging, and not under production.
    let staging_log = activity(&browser, in_environment("staging")).await.unwrap();
    let staging_kinds = activity_kinds(&staging_log);
    // The M2M call just made is logged too (the sandbox logs M2M requests).
    assert_eq!(staging_kinds[0], "api.request");
    let changes: Vec<&String> = staging_kinds
        .iter()
        .filter(|kind| *kind != "api.request")
        .collect();
    assert_eq!(
        &changes[..2],
        ["environment.reactivated", "environment.deactivated"],
        "newest first"
    );
    let production_log = activity(&browser, in_environment("production"))
        .await
        .unwrap();
    assert!(activity_kinds(&production_log)
        .iter()
        .all(|kind| !kind.starts_with("environment.")));
    let searched = activity(
        &browser,
        ActivityFilters {
            search: Some("reactivated".to_owned()),
            category: Some("environment".to_owned()),
            ..ActivityFilters::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(searched.total, 1);
    let nowhere = activity(&browser, in_environment("nowhere")).await.unwrap();
    assert!(nowhere.entries.is_empty());
    assert_eq!(nowhere.refused_filters[0].field, "environment");
    assert!(
        nowhere.refused_filters[0]
            .message
            .contains("no nowhere environment"),
        "{nowhere:?}"
    );
    // A slug outside the grammar never reaches the server function's body.
    let (status, _) = browser
        .server_fn("activity", &[("filters[environment]", "Not A Slug")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_sees_environments_and_cannot_change_them() {
    let app = spawn_app().await;
    let viewer = app.browser();
    viewer.sign_in_as("auth0|acme-dmitri", "").await;
    assert!(!viewer.call(LoadEnvironments {}).await.unwrap().can_manage);
    let html = viewer.get("/environments").await.text().await.unwrap();
    assert!(html.contains(r#"data-testid="read-only""#));
    assert!(!html.contains(r#"data-testid="create-environment-form""#));
    let refused = viewer.call(create("qa", "")).await.unwrap_err();
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let overview = viewer.call(LoadOverview {}).await.unwrap();
    assert_eq!(overview.roles, Some(Ok(vec!["Viewer".to_owned()])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_without_environments_is_told_so_and_offered_the_form() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    // The list answered empty, once: this page's one read of it.
    common::set_faults(
        &app.sandbox_url,
        serde_json::json!({ "rules": [{
            "method": "GET", "path_prefix": "/v1/platforms/me/environments",
            "action": { "kind": "edit_body", "pointer": "/items", "value": [] }, "times": 1 }] }),
    )
    .await;
    let html = browser.get("/environments").await.text().await.unwrap();
    assert!(html.contains(r#"data-testid="no-environments""#), "{html}");
    assert!(!html.contains(r#"data-testid="environments-table""#));
    assert!(html.contains(r#"data-testid="create-environment-form""#));
}
