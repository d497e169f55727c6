//! Settings > General through its server functions against the sandbox over HTTP: the profile
//! read and saved with `PATCH /v1/platforms/me`, checked fields, kept input, read-only members,
//! a section that fails alone.

mod common;

use common::{set_faults, spawn_app, Browser, TestApp};
use keystone_dashboard::api::{ApiError, LoadGeneralSettings, UpdatePlatformProfile};
use reqwest::StatusCode;
use serde_json::json;

const VIEWER: &str = "auth0|acme-dmitri";

async fn manager(app: &TestApp) -> Browser {
    let browser = app.browser();
    browser.sign_in().await;
    browser
}

fn profile(name: &str, logo: &str, email: &str, url: &str) -> UpdatePlatformProfile {
    UpdatePlatformProfile {
        name: name.to_owned(),
        logo_url: logo.to_owned(),
        support_email: email.to_owned(),
        support_url: url.to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profile_is_saved_through_the_api_and_read_back() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let before = browser.call(LoadGeneralSettings {}).await.unwrap();
    assert!(before.can_manage);
    let stored_name = app
        .sandbox()
        .state
        .store
        .read(|data| data.platform.name.clone());
    assert_eq!(before.profile.name, stored_name);

    let saved = browser
        .call(profile(
            " Acme Settlements ",
            "https://cdn.acme.example/logo.svg",
            "Help@ACME.example",
            "https://acme.example/support",
        ))
        .await
        .unwrap();
    assert_eq!(saved.name, "Acme Settlements");
    let stored = app.sandbox().state.store.read(|data| data.platform.clone());
    // What the page shows after a save is what the API stored (the sandbox lower-cases emails).
    assert_eq!(saved.support_email, stored.support_email);
    assert_eq!(stored.support_email.as_deref(), Some("help@acme.example"));
    assert_eq!(stored.name, "Acme Settlements");
    assert_eq!(
        stored.logo_url.as_deref(),
        Some("https://cdn.acme.example/logo.svg")
    );
    assert_eq!(
        stored.support_url.as_deref(),
        Some("https://acme.example/support")
    );

    // Emptied fields are cleared, not left as they were.
    let cleared = browser
        .call(profile("Acme Settlements", "", "", ""))
        .await
        .unwrap();
    assert_eq!(
        (cleared.logo_url, cleared.support_email, cleared.support_url),
        (None, None, None)
    );
    let stored = app.sandbox().state.store.read(|data| data.platform.clone());
    assert_eq!(stored.logo_url, None);
    assert_eq!(stored.support_email, None);

    // The page shows the stored profile, and the overview the new name.
    let html = browser.get("/settings").await.text().await.unwrap();
    assert!(html.contains(r#"data-testid="profile-form""#));
    assert!(html.contains("Acme Settlements"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_fields_are_refused_before_the_api_each_named() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let before = app
        .sandbox()
        .state
        .store
        .read(|data| data.platform.updated_at);
    let refused = browser
        .call(profile(
            "",
            "http://cdn.acme.example/logo.svg",
            "help at acme",
            "acme.example",
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ApiError::Validation(fields) = refused.error else {
        panic!("{refused:?}");
    };
    let named: Vec<_> = fields.iter().map(|error| error.field.as_str()).collect();
    assert_eq!(named, ["name", "logo_url", "support_email", "support_url"]);
    assert!(fields[1].message.contains("https://"), "{:?}", fields[1]);
    assert_eq!(
        app.sandbox()
            .state
            .store
            .read(|data| data.platform.updated_at),
        before,
        "nothing reached the API"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_sees_the_profile_read_only_and_the_api_refuses_a_change() {
    let app = spawn_app().await;
    let viewer = app.browser();
    viewer.sign_in_as(VIEWER, "").await;
    let settings = viewer.call(LoadGeneralSettings {}).await.unwrap();
    assert!(!settings.can_manage);
    let html = viewer.get("/settings").await.text().await.unwrap();
    assert!(html.contains(r#"data-testid="profile-read-only""#));
    assert!(html.contains(r#"data-testid="read-only""#));
    assert!(!html.contains(r#"data-testid="profile-form""#));
    let refused = viewer
        .call(profile("Taken over", "", "", ""))
        .await
        .unwrap_err();
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_environments_client_id_is_shown_and_no_secret() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let settings = browser.call(LoadGeneralSettings {}).await.unwrap();
    let clients = settings.clients.unwrap();
    let stored: Vec<(String, String)> = app.sandbox().state.store.read(|data| {
        data.environments
            .iter()
            .map(|environment| {
                (
                    environment.slug.clone(),
                    environment.auth0_client_id.clone(),
                )
            })
            .collect()
    });
    assert_eq!(clients.len(), stored.len());
    for (slug, client_id) in &stored {
        assert!(
            clients
                .iter()
                .any(|client| client.slug.as_str() == slug && &client.client_id == client_id),
            "{slug}"
        );
    }
    let html = browser.get("/settings").await.text().await.unwrap();
    assert_eq!(
        html.matches(r#"data-testid="client-row""#).count(),
        stored.len()
    );
    assert!(html.contains("never shown here"));
    // No secret the platform holds reaches the page or the function's reply: neither an M2M
    // client's secret nor an environment's webhook secret.
    let secrets: Vec<String> = app.sandbox().state.store.read(|data| {
        data.m2m_clients
            .iter()
            .map(|client| client.client_secret.clone())
            .chain(
                data.environments
                    .iter()
                    .filter_map(|environment| environment.webhook_secret.clone()),
            )
            .collect()
    });
    assert!(secrets.len() > stored.len(), "both kinds are seeded");
    let reply =
        serde_json::to_string(&browser.call(LoadGeneralSettings {}).await.unwrap()).unwrap();
    for secret in &secrets {
        assert!(!html.contains(secret.as_str()), "the page shows {secret}");
        assert!(
            !reply.contains(secret.as_str()),
            "the reply carries {secret}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clients_fail_alone_when_the_environments_cannot_be_read() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    // The session's environment is resolved and kept by a first call (a server function: its
    // session change is saved before its reply, unlike a streamed page's).
    browser.call(LoadGeneralSettings {}).await.unwrap();
    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "path_prefix": "/v1/platforms/me/environments", "action": { "kind": "status", "status": 503 } }] }),
    )
    .await;
    let settings = browser.call(LoadGeneralSettings {}).await.unwrap();
    assert!(settings.clients.is_err(), "{:?}", settings.clients);
    assert!(!settings.profile.name.is_empty(), "the profile still loads");
    let html = browser.get("/settings").await.text().await.unwrap();
    assert!(html.contains(r#"data-testid="section-failed""#));
    assert!(html.contains(r#"data-testid="profile-form""#));
}

/// A browser without the WASM bundle posts the form itself: a refusal comes back as a page that
/// names the problem, in the refusal's status, with a link back to the form's page (never to
/// another site's), not as the error's JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_form_post_that_is_refused_gets_a_page_not_json() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    // The form as the server renders it carries the stored values: without JavaScript (and until
    // the page is interactive) its fields are not empty.
    let page = browser.get("/settings").await.text().await.unwrap();
    assert!(page.contains(r#"value="Acme Markets""#), "{page}");
    let form = [
        ("name", "Acme Markets"),
        ("logo_url", ""),
        ("support_email", "nope"),
        ("support_url", ""),
    ];
    let as_a_browser = |referer: String| {
        [
            ("sec-fetch-site", "same-origin".to_owned()),
            ("origin", app.base_url.clone()),
            (
                "accept",
                "text/html,application/xhtml+xml,*/*;q=0.8".to_owned(),
            ),
            ("referer", referer),
        ]
    };
    let post = |headers: [(&'static str, String); 4]| {
        let browser = &browser;
        let form = &form;
        async move {
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(name, value)| (*name, value.as_str()))
                .collect();
            browser
                .post_form_with("/api/settings/general/update", form, &headers)
                .await
        }
    };

    let response = post(as_a_browser(format!(
        "{}/settings?tab=general",
        app.base_url
    )))
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = response.text().await.unwrap();
    assert!(page.contains("Some fields need attention"), "{page}");
    assert!(
        page.to_lowercase().contains("email"),
        "names the field's problem: {page}"
    );
    assert!(!page.contains("Validation"), "no error JSON: {page}");
    assert!(page.contains(r#"href="/settings?tab=general""#), "{page}");

    // A Referer from elsewhere never becomes the link.
    let page = post(as_a_browser("https://evil.example/settings".to_owned()))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"href="/""#), "{page}");
    assert!(!page.contains("evil.example"), "{page}");
    let page = post(as_a_browser(format!("{}.evil.example/x", app.base_url)))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"href="/""#), "{page}");

    // The app's own calls (server_fn's client asks for its output's type) still get JSON.
    let response = browser
        .post_form_with(
            "/api/settings/general/update",
            &form,
            &[
                ("sec-fetch-site", "same-origin"),
                ("origin", &app.base_url),
                ("accept", "application/json"),
                ("referer", &format!("{}/settings", app.base_url)),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let reply: serde_json::Value = response.json().await.unwrap();
    assert!(reply["Validation"].is_array(), "{reply}");
}
