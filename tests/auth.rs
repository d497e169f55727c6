//! Sign-in, sign-out and the session: the real BFF against the real sandbox over loopback.

mod common;

use common::{location, set_faults, spawn_app, Browser, TestApp, ADA, ADA_NAME, SESSION_COOKIE};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_signs_in_and_lands_on_the_page_asked_for() {
    let app = spawn_app().await;
    let browser = app.browser();

    // Not signed in: the page sends the browser to the login, remembering where it was going.
    let response = browser.get("/members?search=ada").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let login = location(&response);
    assert_eq!(login, "/auth/login?returnTo=%2Fmembers%3Fsearch%3Dada");

    let authorize_url = browser
        .start_login(login.trim_start_matches("/auth/login"))
        .await;
    assert!(authorize_url.starts_with(&format!("{}/authorize?", app.sandbox_url)));
    for (name, expected) in [
        ("response_type", Some("code")),
        ("client_id", Some("keystone-dashboard")),
        ("code_challenge_method", Some("S256")),
        ("audience", Some("https://api.keystoneos.xyz")),
        ("organization", Some("org_acme_markets")),
        ("scope", Some("openid profile email offline_access")),
    ] {
        assert_eq!(
            common::query_param(&authorize_url, name).as_deref(),
            expected,
            "{name}"
        );
    }
    for name in ["state", "nonce", "code_challenge"] {
        assert!(
            common::query_param(&authorize_url, name).is_some_and(|value| value.len() >= 22),
            "{name}"
        );
    }
    assert_eq!(
        common::query_param(&authorize_url, "redirect_uri"),
        Some(format!("{}/auth/callback", app.base_url))
    );

    let callback = browser
        .sign_in_at_provider(&authorize_url, &[("user_id", ADA)])
        .await;
    let response = browser.callback(&callback).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/members?search=ada");

    let page = browser.get("/members?search=ada").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(ADA_NAME),
        "the user menu names the member: {html}"
    );
    assert!(
        html.contains("Acme Markets"),
        "the platform name comes from the API"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_check_reports_the_member_and_never_a_token() {
    let app = spawn_app().await;
    let browser = app.browser();
    let (status, body) = browser.server_fn("session", &[]).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "server functions answer 401, not a redirect"
    );
    assert_eq!(body, json!("SignedOut"));

    browser.sign_in().await;
    let (status, session) = browser.server_fn("session", &[]).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["user_id"], ADA);
    assert_eq!(session["name"], ADA_NAME);
    assert_eq!(session["email"], "ada@acme-markets.example");
    assert_eq!(session["organization_id"], "org_acme_markets");
    assert_eq!(session["environment"], "development");
    let permissions = session["permissions"].as_array().unwrap();
    assert!(
        permissions.contains(&json!("members:manage")),
        "{permissions:?}"
    );
    let text = session.to_string();
    assert!(!text.contains("eyJ"), "no JWT in the reply: {text}");
    assert!(!text.contains("token"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cookie_is_host_only_secure_http_only_and_lax() {
    let app = spawn_app().await;
    let response = app.browser().get("/auth/login").await;
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set_cookie.starts_with(&format!("{SESSION_COOKIE}=")),
        "{set_cookie}"
    );
    let attributes: Vec<String> = set_cookie
        .split(';')
        .skip(1)
        .map(|part| part.trim().to_ascii_lowercase())
        .collect();
    for expected in ["secure", "httponly", "samesite=lax", "path=/"] {
        assert!(
            attributes.iter().any(|attribute| attribute == expected),
            "{expected} in {set_cookie}"
        );
    }
    assert!(
        !attributes
            .iter()
            .any(|attribute| attribute.starts_with("domain")),
        "{set_cookie}"
    );
    assert!(
        attributes
            .iter()
            .any(|attribute| attribute.starts_with("max-age=")),
        "idle expiry: {set_cookie}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_renews_the_session_id() {
    let app = spawn_app().await;
    let browser = app.browser();
    let authorize_url = browser.start_login("").await;
    let before = browser
        .session_cookie()
        .expect("the login started a session");
    let callback = browser
        .sign_in_at_provider(&authorize_url, &[("user_id", ADA)])
        .await;
    assert_eq!(
        browser.callback(&callback).await.status(),
        StatusCode::SEE_OTHER
    );
    let after = browser.session_cookie().unwrap();
    assert_ne!(before, after, "session fixation: the id changes at sign-in");

    // The id from before the sign-in is worth nothing now.
    let attacker = Browser::new(&app.base_url, &app.base_url);
    attacker.set_session_cookie(Some(before));
    assert_eq!(attacker.get("/").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(browser.get("/").await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_with_a_state_this_session_never_issued_is_refused() {
    let app = spawn_app().await;
    let browser = app.browser();
    let authorize_url = browser.start_login("").await;
    let callback = browser
        .sign_in_at_provider(&authorize_url, &[("user_id", ADA)])
        .await;
    let code = callback.param("code").unwrap();

    let forged = browser
        .get(&format!("/auth/callback?code={code}&state=forged-state"))
        .await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert!(forged
        .text()
        .await
        .unwrap()
        .contains("This sign-in link has expired"));
    assert_eq!(
        browser.get("/").await.status(),
        StatusCode::SEE_OTHER,
        "not signed in"
    );

    // The same callback in another browser (login CSRF: an attacker's code in a victim's browser).
    let victim = app.browser();
    let response = victim.callback(&callback).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(victim.get("/").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_is_good_for_one_callback_only() {
    let app = spawn_app().await;
    let browser = app.browser();
    let authorize_url = browser.start_login("").await;
    let callback = browser
        .sign_in_at_provider(&authorize_url, &[("user_id", ADA)])
        .await;
    assert_eq!(
        browser.callback(&callback).await.status(),
        StatusCode::SEE_OTHER
    );

    let replay = browser.callback(&callback).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    let stats = common::sandbox_stats(&app.sandbox_url).await;
    assert_eq!(
        stats["grants"]["authorization_code"], 1,
        "the replay never reached the provider"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_redeemed_with_another_logins_verifier_is_refused() {
    let app = spawn_app().await;
    let browser = app.browser();
    // Two tabs start logging in; tab one's code arrives with tab two's state, so the BFF sends
    // tab two's PKCE verifier: the provider must refuse the code.
    let first = browser.start_login("").await;
    let second = browser.start_login("").await;
    let first_callback = browser
        .sign_in_at_provider(&first, &[("user_id", ADA)])
        .await;
    let second_state = common::query_param(&second, "state").unwrap();
    let code = first_callback.param("code").unwrap();
    let swapped = browser
        .get(&format!("/auth/callback?code={code}&state={second_state}"))
        .await;
    assert_eq!(swapped.status(), StatusCode::BAD_REQUEST);
    assert!(swapped.text().await.unwrap().contains("did not accept"));
    assert_eq!(
        browser.get("/").await.status(),
        StatusCode::SEE_OTHER,
        "not signed in"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_tabs_can_sign_in_at_once() {
    let app = spawn_app().await;
    let browser = app.browser();
    let first = browser.start_login("?returnTo=/members").await;
    let second = browser.start_login("?returnTo=/roles").await;
    let second_callback = browser
        .sign_in_at_provider(&second, &[("user_id", ADA)])
        .await;
    let first_callback = browser
        .sign_in_at_provider(&first, &[("user_id", ADA)])
        .await;

    let response = browser.callback(&second_callback).await;
    assert_eq!(location(&response), "/roles");
    let response = browser.callback(&first_callback).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/members");
    assert_eq!(browser.get("/members").await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_token_with_another_nonce_is_refused() {
    let app = spawn_app().await;
    set_faults(
        &app.sandbox_url,
        json!({ "id_token_claims": { "nonce": "a-nonce-from-another-login" } }),
    )
    .await;
    let browser = app.browser();
    let response = browser.sign_in_as(ADA, "").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("did not pass our checks"));
    assert_eq!(
        browser.get("/").await.status(),
        StatusCode::SEE_OTHER,
        "not signed in"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_token_for_another_organization_is_refused() {
    let app = spawn_app().await;
    set_faults(
        &app.sandbox_url,
        json!({ "id_token_claims": { "org_id": common::OUTSIDER_ORG } }),
    )
    .await;
    let browser = app.browser();
    let response = browser.sign_in_as(ADA, "").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        browser.get("/").await.status(),
        StatusCode::SEE_OTHER,
        "not signed in"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_tokens_with_a_wrong_issuer_audience_or_expiry_are_refused() {
    let app = spawn_app().await;
    for claims in [
        json!({ "iss": "https://evil.example/" }),
        json!({ "aud": "another-client" }),
        json!({ "exp": 1_000_000_000 }),
    ] {
        set_faults(&app.sandbox_url, json!({ "id_token_claims": claims })).await;
        let browser = app.browser();
        let response = browser.sign_in_as(ADA, "").await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{claims}");
        assert_eq!(
            browser.get("/").await.status(),
            StatusCode::SEE_OTHER,
            "{claims}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn return_paths_that_leave_the_dashboard_are_replaced_by_the_overview() {
    let app = spawn_app().await;
    for attempt in [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "/%5Cevil.example",
        "%2F%2Fevil.example",
    ] {
        let browser = app.browser();
        let response = browser
            .sign_in_as(ADA, &format!("?returnTo={attempt}"))
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{attempt}");
        assert_eq!(location(&response), "/", "{attempt}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_from_the_provider_gets_a_readable_page() {
    let app = spawn_app().await;
    let browser = app.browser();
    let authorize_url = browser.start_login("?returnTo=/roles").await;
    // Olga is not a member of Acme Markets: the provider answers `access_denied`.
    let callback = browser
        .sign_in_at_provider(&authorize_url, &[("user_id", "auth0|outsider-olga")])
        .await;
    assert_eq!(callback.param("error").as_deref(), Some("access_denied"));
    let response = browser.callback(&callback).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    assert!(html.contains("Access denied"), "{html}");
    assert!(html.contains("not a member of Acme Markets"), "{html}");
    assert!(
        html.contains(r#"href="/auth/login?returnTo=%2Froles""#),
        "{html}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_link_signs_the_invitee_in_as_a_new_member() {
    let app = spawn_app().await;
    let ticket = "sandbox-ticket-seeded-nora";
    let browser = app.browser();
    let authorize_url = browser
        .start_login(&format!(
            "?invitation={ticket}&organization=org_acme_markets&organization_name=Acme%20Markets"
        ))
        .await;
    assert_eq!(
        common::query_param(&authorize_url, "invitation").as_deref(),
        Some(ticket)
    );
    let callback = browser
        .sign_in_at_provider(&authorize_url, &[("accept_invitation", "true")])
        .await;
    let response = browser.callback(&callback).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (status, session) = browser.server_fn("session", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        session["email"].as_str().unwrap().starts_with("nora"),
        "{session}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changing_requests_from_other_sites_are_refused() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.sign_in().await;
    let form = [("slug", "staging")];
    for headers in [
        vec![
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ],
        vec![("sec-fetch-site", "same-site")],
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![],
    ] {
        let response = browser
            .post_form_with("/api/environment", &form, &headers)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "server function with {headers:?}"
        );
        let response = browser.post_form_with("/auth/logout", &[], &headers).await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "logout with {headers:?}"
        );
    }
    let (_, session) = browser.server_fn("session", &[]).await;
    assert_eq!(
        session["environment"], "development",
        "nothing was switched"
    );
    assert_eq!(
        browser.get("/").await.status(),
        StatusCode::OK,
        "still signed in"
    );

    // Same origin, by either header, is accepted.
    let response = browser
        .post_form_with("/api/environment", &form, &[("origin", &app.base_url)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let (_, session) = browser.server_fn("session", &[]).await;
    assert_eq!(session["environment"], "staging");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_ends_the_session_and_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.sign_in().await;
    let refresh_tokens: Vec<String> = app.sandbox().state.store.read(|data| {
        data.refresh_tokens
            .iter()
            .filter(|(_, token)| token.user_id == ADA)
            .map(|(token, _)| token.clone())
            .collect()
    });
    assert_eq!(refresh_tokens.len(), 1);
    let cookie = browser.session_cookie().unwrap();

    let response = browser.post_form("/auth/logout", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let provider_logout = location(&response);
    assert!(
        provider_logout.starts_with(&format!("{}/v2/logout?", app.sandbox_url)),
        "{provider_logout}"
    );
    assert_eq!(
        common::query_param(&provider_logout, "returnTo"),
        Some(format!("{}/", app.base_url))
    );
    assert_eq!(browser.session_cookie(), None, "the cookie is cleared");
    // The provider accepts the return URL (it is the registered one).
    let provider = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let back = provider.get(&provider_logout).send().await.unwrap();
    assert_eq!(location(&back), format!("{}/", app.base_url));

    let old = Browser::new(&app.base_url, &app.base_url);
    old.set_session_cookie(Some(cookie));
    assert_eq!(
        old.get("/").await.status(),
        StatusCode::SEE_OTHER,
        "the old session id is dead"
    );
    let refreshed = provider
        .post(format!("{}/oauth/token", app.sandbox_url))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "keystone-dashboard"),
            ("client_secret", common::CLIENT_SECRET),
            ("refresh_token", &refresh_tokens[0]),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        refreshed.status().is_client_error(),
        "{}",
        refreshed.status()
    );
    let body: serde_json::Value = refreshed.json().await.unwrap();
    assert_eq!(
        body["error"], "invalid_grant",
        "the refresh token was revoked: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_ends_and_an_active_one_does_not() {
    let app = TestApp::builder()
        .config(|config| config.session_idle_timeout_seconds = 3)
        .spawn()
        .await;
    let active = app.browser();
    active.sign_in().await;
    let idle = app.browser();
    idle.sign_in().await;
    for _ in 0..4 {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert_eq!(active.get("/healthz").await.status(), StatusCode::OK);
        let (status, _) = active.server_fn("session", &[]).await;
        assert_eq!(status, StatusCode::OK, "activity keeps the session alive");
    }
    let response = idle.get("/members").await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "6 s idle > 3 s timeout"
    );
    assert_eq!(location(&response), "/auth/login?returnTo=%2Fmembers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_at_its_absolute_lifetime_however_active() {
    let app = TestApp::builder()
        .config(|config| config.session_absolute_lifetime_seconds = 3)
        .spawn()
        .await;
    let browser = app.browser();
    browser.sign_in().await;
    let mut ended = false;
    for _ in 0..8 {
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        let (status, _) = browser.server_fn("session", &[]).await;
        if status == StatusCode::UNAUTHORIZED {
            ended = true;
            break;
        }
        assert_eq!(status, StatusCode::OK);
    }
    assert!(ended, "the session outlived its absolute lifetime");
    assert_eq!(browser.get("/").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_refresh_ends_the_session_and_the_next_page_goes_to_login() {
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.access_token_ttl_seconds = 2)
        .config(|config| config.token_refresh_margin_seconds = 1)
        .spawn()
        .await;
    let browser = app.browser();
    browser.sign_in().await;
    // The provider stops honouring the session's refresh tokens (as when an admin revokes them).
    app.sandbox().state.store.write(|data| {
        for token in data.refresh_tokens.values_mut() {
            token.family_revoked = true;
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (status, body) = browser.server_fn("shell", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let response = browser.get("/roles").await;
    assert_eq!(location(&response), "/auth/login?returnTo=%2Froles");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_routes_are_rate_limited_per_client_address_with_a_clear_page() {
    let app = TestApp::builder()
        .config(|config| {
            config.sign_in_rate_limit_per_minute = 3.try_into().unwrap();
            // Loopback is a proxy here, so X-Forwarded-For names other clients.
            config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        })
        .spawn()
        .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = |client: &'static str| {
        http.get(format!("{}/auth/login", app.base_url))
            .header("x-forwarded-for", client)
            .send()
    };
    for _ in 0..3 {
        assert_eq!(
            login("198.51.100.1").await.unwrap().status(),
            StatusCode::SEE_OTHER
        );
    }
    let refused = login("198.51.100.1").await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=61).contains(&retry_after), "{retry_after}");
    let page = refused.text().await.unwrap();
    assert!(page.contains("Too many sign-in attempts"), "{page}");
    // The callback counts too: it is where a flood would make us call the provider.
    let callback = http
        .get(format!("{}/auth/callback?code=x&state=y", app.base_url))
        .header("x-forwarded-for", "198.51.100.1")
        .send()
        .await
        .unwrap();
    assert_eq!(callback.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another address is not affected, nor are the pages of people already signed in.
    assert_eq!(
        login("198.51.100.2").await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let healthz = http
        .get(format!("{}/healthz", app.base_url))
        .header("x-forwarded-for", "198.51.100.1")
        .send()
        .await
        .unwrap();
    assert_eq!(healthz.status(), StatusCode::OK);
}
