//! Sign-in, sign-out and the session: the real BFF against the real sandbox over loopback.

mod common;

use common::{
    location, reserve_port, sandbox_stats, set_faults, spawn_app, spawn_sandbox, Browser, Callback,
    TestApp, ADA, ADA_NAME, SESSION_COOKIE,
};
use keystone_dashboard::server::{config::TokenEndpointAuthMethod, Application, Config};
use keystone_sandbox::idp::{OidcProfile, TokenAuthMethod};
use reqwest::{StatusCode, Url};
use serde_json::{json, Value};

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

/// Without a configured organization, a link's organization is followed (several platforms share
/// the dashboard); with one, the deployment serves that platform only, and a link naming another
/// organization of the tenant is refused before anyone reaches the provider.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboard_pinned_to_an_organization_refuses_links_for_another() {
    let shared = spawn_app().await;
    let authorize_url = shared
        .browser()
        .start_login(&format!("?organization={}", common::OUTSIDER_ORG))
        .await;
    assert_eq!(
        common::query_param(&authorize_url, "organization").as_deref(),
        Some(common::OUTSIDER_ORG)
    );

    let pinned = TestApp::builder()
        .config(|config| config.auth_organization = Some("org_acme_markets".to_owned()))
        .spawn()
        .await;
    let browser = pinned.browser();
    let response = browser
        .get(&format!(
            "/auth/login?organization={}",
            common::OUTSIDER_ORG
        ))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("location").is_none());
    let page = response.text().await.unwrap();
    assert!(page.contains("This link is for another platform"), "{page}");
    // Its own organization's links (invitations carry one) still work.
    let authorize_url = browser.start_login("?organization=org_acme_markets").await;
    assert_eq!(
        common::query_param(&authorize_url, "organization").as_deref(),
        Some("org_acme_markets")
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
    let attributes = host_cookie_attributes(&set_cookie);
    assert!(
        attributes
            .iter()
            .any(|attribute| attribute.starts_with("max-age=")),
        "idle expiry: {set_cookie}"
    );
}

/// The session cookie's attributes (lower case), checked for what a `__Host-` cookie needs and
/// what ours always has.
fn host_cookie_attributes(set_cookie: &str) -> Vec<String> {
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
    attributes
}

/// The cookie that removes a session (a sign-out, a session that ended) is one a browser takes:
/// it refuses a `__Host-` cookie without `Secure`, a removal too, and would keep the dead id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cookie_that_removes_a_session_is_one_a_browser_accepts() {
    let app = TestApp::builder()
        .config(|config| config.session_idle_timeout_seconds = 2)
        .spawn()
        .await;
    let removal = |response: &reqwest::Response| {
        let set_cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .find(|value| value.starts_with(&format!("{SESSION_COOKIE}=")))
            .expect("the session cookie is removed");
        let attributes = host_cookie_attributes(&set_cookie);
        assert!(
            attributes.iter().any(|attribute| attribute == "max-age=0"),
            "{set_cookie}"
        );
    };
    let signing_out = app.browser();
    signing_out.sign_in().await;
    removal(&signing_out.post_form("/auth/logout", &[]).await);
    assert_eq!(signing_out.session_cookie(), None);

    let idle = app.browser();
    idle.sign_in().await;
    tokio::time::sleep(std::time::Duration::from_millis(3000)).await;
    removal(&idle.get("/members").await);
    assert_eq!(idle.session_cookie(), None);
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
    let callback = browser.callback_as(ADA, "").await;
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
    let callback = browser.callback_as(ADA, "").await;
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
async fn a_state_is_spent_by_a_callback_that_fails_with_a_server_error() {
    let app = spawn_app().await;
    let browser = app.browser();
    let callback = browser.callback_as(ADA, "").await;
    // The token endpoint down: the callback fails with a 5xx, a reply after which the session
    // layer saves nothing on its own.
    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "method": "POST", "path_prefix": "/oauth/token", "action": { "kind": "status", "status": 503 } }] }),
    )
    .await;
    let failed = browser.callback(&callback).await;
    assert!(failed.status().is_server_error(), "{}", failed.status());

    // Back up, the same callback (its code still good at the provider) is refused.
    set_faults(&app.sandbox_url, json!({})).await;
    let replay = browser.callback(&callback).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    let stats = common::sandbox_stats(&app.sandbox_url).await;
    assert_eq!(
        stats["grants"]["authorization_code"], 0,
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
    // The provider issued a refresh token with the refused ID token; nothing will use it.
    let (live, revoked) = app.sandbox().state.store.read(|data| {
        let ada = || {
            data.refresh_tokens
                .values()
                .filter(|token| token.user_id == ADA)
        };
        (
            ada().filter(|token| !token.family_revoked).count(),
            ada().filter(|token| token.family_revoked).count(),
        )
    });
    assert_eq!(
        (live, revoked),
        (0, 1),
        "the refused sign-in's refresh token is revoked"
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
        // The sandbox's issuer without its trailing slash: compared exactly, not normalised.
        json!({ "iss": app.sandbox_url.clone() }),
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

/// Signs in with the sandbox's ID tokens shaped by `faults`; true when the dashboard let Ada in.
async fn signs_in_with(app: &TestApp, faults: Value) -> bool {
    set_faults(&app.sandbox_url, faults.clone()).await;
    let browser = app.browser();
    let response = browser.sign_in_as(ADA, "").await;
    let signed_in = browser.get("/").await.status() == StatusCode::OK;
    assert_eq!(
        response.status() == StatusCode::SEE_OTHER,
        signed_in,
        "{faults}: the callback's answer and the session disagree"
    );
    signed_in
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_ill_formed_id_tokens_are_refused() {
    let app = spawn_app().await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let several = json!(["keystone-dashboard", "another-client"]);
    for faults in [
        json!({ "id_token_claims": { "aud": several } }),
        json!({ "id_token_claims": { "aud": several, "azp": "another-client" } }),
        json!({ "id_token_claims": { "iat": null } }),
        json!({ "id_token_claims": { "iat": now + 3_600 } }),
        json!({ "id_token_claims": { "iat": now - 86_400 } }),
        json!({ "id_token_claims": { "nbf": now + 3_600 } }),
        json!({ "id_token_form": "alg_none" }),
        json!({ "id_token_form": "hs256_with_public_key" }),
        json!({ "id_token_form": "unknown_kid" }),
    ] {
        assert!(
            !signs_in_with(&app, faults.clone()).await,
            "accepted {faults}"
        );
    }
    // The controls: the same checks let the well-formed tokens through, several audiences included
    // when `azp` names the dashboard.
    assert!(signs_in_with(&app, json!({})).await);
    assert!(
        signs_in_with(
            &app,
            json!({ "id_token_claims": { "aud": several, "azp": "keystone-dashboard" } })
        )
        .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_withdrawn_from_the_jwks_stops_signing_anyone_in() {
    let app = TestApp::builder()
        .config(|config| config.auth_jwks_max_age_seconds = 1)
        .spawn()
        .await;
    assert!(
        signs_in_with(&app, json!({})).await,
        "the key is fetched and cached"
    );
    let past_max_age = || tokio::time::sleep(std::time::Duration::from_millis(1_200));
    past_max_age().await;
    // The provider withdraws the key; whoever still holds it keeps signing with it.
    assert!(
        !signs_in_with(&app, json!({ "jwks_omits_signing_key": true })).await,
        "a cached copy of a withdrawn key was trusted"
    );
    // Published again, it is trusted again once the short-lived cache of its absence expires.
    past_max_age().await;
    assert!(signs_in_with(&app, json!({})).await);
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

/// The invitee is asked on a page of ours before anything starts at the provider, signed in or
/// not: a link from anywhere must not make a browser accept an invitation unasked (the provider's
/// own session could sign its member in without a word).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_link_signs_the_invitee_in_as_a_new_member() {
    let app = spawn_app().await;
    let ticket = "sandbox-ticket-seeded-nora";
    let browser = app.browser();
    let link = format!(
        "/auth/login?invitation={ticket}&organization=org_acme_markets&organization_name=Acme%20Markets"
    );
    let asked = browser.get_from(&link, "cross-site").await;
    assert_eq!(asked.status(), StatusCode::OK, "asked first, not sent on");
    // Asking keeps nothing: no session, no login in flight until the member accepts.
    assert!(asked.headers().get("set-cookie").is_none());
    let html = asked.text().await.unwrap();
    assert!(html.contains("Accept the invitation?"), "{html}");
    assert!(html.contains("nothing has been accepted"), "{html}");
    let accepted = browser
        .post_form(
            "/auth/login",
            &[
                ("invitation", ticket),
                ("organization", "org_acme_markets"),
                ("returnTo", "/"),
            ],
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::SEE_OTHER);
    let authorize_url = common::location(&accepted);
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
    // The log files the acceptance with the other invitations' entries (its type's first word).
    let manager = app.browser();
    manager.sign_in().await;
    let invitations = manager
        .call(keystone_dashboard::api::LoadActivity {
            filters: keystone_dashboard::api::ActivityFilters {
                category: Some("invitation".to_owned()),
                ..Default::default()
            },
        })
        .await
        .unwrap();
    let kinds = common::activity_kinds(&invitations);
    assert!(
        kinds.iter().any(|kind| kind == "invitation.accepted"),
        "{kinds:?}"
    );
}

/// A signed-in member who follows an invitation link (from a mail, another site, or this one) is
/// asked first: accepting ends the session and may sign them into the platform that sent it. The
/// page's button is a same-origin POST, which goes on to the provider; another site's POST is
/// refused by the CSRF check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_link_does_not_replace_a_session_unasked() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.sign_in().await;
    let ticket = "sandbox-ticket-seeded-nora";
    let link = format!("/auth/login?invitation={ticket}&organization=org_acme_markets");
    let mut policies = Vec::new();
    for site in ["cross-site", "same-site", "none", "same-origin"] {
        let asked = browser.get_from(&link, site).await;
        assert_eq!(asked.status(), StatusCode::OK, "{site}");
        policies.push(
            asked.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
        let html = asked.text().await.unwrap();
        assert!(html.contains("Accept the invitation?"), "{html}");
        assert!(
            html.contains(&format!(
                r#"<form method="post" action="/auth/login"><input type="hidden" name="invitation" value="{ticket}"><input type="hidden" name="organization" value="org_acme_markets"><input type="hidden" name="returnTo" value="/">"#
            )),
            "{html}"
        );
        let (_, session) = browser.server_fn("session", &[]).await;
        assert!(
            session["email"].as_str().unwrap().starts_with("ada"),
            "still Ada: {session}"
        );
    }
    let form = [
        ("invitation", ticket),
        ("organization", "org_acme_markets"),
        ("returnTo", "/"),
    ];
    let forged = browser
        .post_form_with(
            "/auth/login",
            &form,
            &[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://evil.example"),
            ],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let accepted = browser.post_form("/auth/login", &form).await;
    assert_eq!(accepted.status(), StatusCode::SEE_OTHER);
    let authorize = reqwest::Url::parse(&common::location(&accepted)).unwrap();
    assert!(
        authorize.as_str().contains(&format!("invitation={ticket}")),
        "on to the provider"
    );
    // The page's policy lets its button's POST go on there: Chromium applies `form-action` to
    // the redirect that follows a form post, and would stop the acceptance on the page.
    let provider = authorize.origin().ascii_serialization();
    for policy in policies {
        let form_action = policy
            .split(';')
            .map(str::trim)
            .find_map(|directive| directive.strip_prefix("form-action "))
            .unwrap_or_else(|| panic!("{policy}"));
        assert!(
            form_action.split(' ').any(|source| source == provider),
            "{provider} in {policy}"
        );
    }
}

/// A deployment pinned to one organization refuses another's invitation before it asks anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_dashboard_refuses_another_organizations_invitation_before_asking() {
    let app = TestApp::builder()
        .config(|config| config.auth_organization = Some("org_acme_markets".into()))
        .spawn()
        .await;
    let browser = app.browser();
    browser.sign_in().await;
    let refused = browser
        .get_from(
            "/auth/login?invitation=sandbox-ticket-x&organization=org_someone_else",
            "cross-site",
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let html = refused.text().await.unwrap();
    assert!(html.contains("This link is for another platform"), "{html}");
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
    // Discovery publishes an end_session_endpoint (Auth0's `/oidc/logout`): OIDC RP-initiated
    // logout, naming the provider's session by its `sid` (`logout_hint`), never by the ID token:
    // this URL goes through the browser.
    assert!(
        provider_logout.starts_with(&format!("{}/oidc/logout?", app.sandbox_url)),
        "{provider_logout}"
    );
    assert_eq!(
        common::query_param(&provider_logout, "post_logout_redirect_uri"),
        Some(format!("{}/", app.base_url))
    );
    assert_eq!(
        common::query_param(&provider_logout, "client_id").as_deref(),
        Some("keystone-dashboard")
    );
    assert_eq!(common::query_param(&provider_logout, "id_token_hint"), None);
    assert!(
        !provider_logout.contains("eyJ"),
        "no token: {provider_logout}"
    );
    let provider_session =
        common::query_param(&provider_logout, "logout_hint").expect("a logout_hint");
    assert!(
        app.sandbox()
            .state
            .store
            .read(|data| data.provider_sessions.contains(&provider_session)),
        "the hint names the provider's session of this sign-in"
    );
    assert_eq!(browser.session_cookie(), None, "the cookie is cleared");
    // The provider accepts the return URL (it is the registered one) and ends its session.
    let provider = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let back = provider.get(&provider_logout).send().await.unwrap();
    assert_eq!(location(&back), format!("{}/", app.base_url));
    assert!(!app
        .sandbox()
        .state
        .store
        .read(|data| data.provider_sessions.contains(&provider_session)));
    let again = provider.get(&provider_logout).send().await.unwrap();
    assert_eq!(
        (again.status(), again.headers().get("location")),
        (StatusCode::OK, None),
        "an ended session is not a current one: the provider asks before it returns"
    );

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

/// A dashboard allowing three sign-in requests per client a minute, with loopback as its trusted
/// proxy (so X-Forwarded-For names the client), and a client that does not follow redirects.
async fn three_sign_ins_a_minute() -> (TestApp, reqwest::Client) {
    let app = TestApp::builder()
        .config(|config| {
            config.sign_in_rate_limit_per_minute = 3.try_into().unwrap();
            config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        })
        .spawn()
        .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (app, http)
}

/// A sign-in attempt from `client`, as the trusted proxy names it.
fn login_from(
    http: &reqwest::Client,
    app: &TestApp,
    client: &str,
) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> {
    http.get(format!("{}/auth/login", app.base_url))
        .header("x-forwarded-for", client)
        .send()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_routes_are_rate_limited_per_client_address_with_a_clear_page() {
    let (app, http) = three_sign_ins_a_minute().await;
    let login = |client: &str| login_from(&http, &app, client);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_limit_cannot_be_escaped_by_rotating_ipv6_addresses_ports_or_mapped_forms() {
    let (app, http) = three_sign_ins_a_minute().await;
    let login = |client: &str| login_from(&http, &app, client);
    // Four addresses of one IPv6 /64: one client.
    let statuses =
        futures::future::join_all((1..=4).map(|host| login(&format!("2001:db8:1:2::{host:x}"))))
            .await;
    let limited = statuses
        .iter()
        .filter(|reply| reply.as_ref().unwrap().status() == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(limited, 1, "a /64 counts as one client");
    // One IPv4 client written plainly, IPv4-mapped and with a port: one client.
    let forms = [
        "198.51.100.9",
        "::ffff:198.51.100.9",
        "198.51.100.9:51000",
        "[::ffff:198.51.100.9]:51001",
    ];
    let mut statuses = Vec::new();
    for form in forms {
        statuses.push(login(form).await.unwrap().status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::SEE_OTHER,
            StatusCode::SEE_OTHER,
            StatusCode::SEE_OTHER,
            StatusCode::TOO_MANY_REQUESTS
        ],
        "every form of one address shares its limit"
    );
    // Another /64 is another client.
    assert_eq!(
        login("2001:db8:1:3::1").await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
}

/// `url` with its `iss` query parameter replaced by `iss` (or removed, for `None`).
fn with_iss(url: &str, iss: Option<&str>) -> String {
    let mut url = Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| name != "iss")
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    {
        let mut query = url.query_pairs_mut();
        query.clear();
        for (name, value) in &pairs {
            query.append_pair(name, value);
        }
        if let Some(iss) = iss {
            query.append_pair("iss", iss);
        }
    }
    url.into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_signs_in_through_a_generic_openid_provider_and_can_call_the_api() {
    // A certified-provider-style sandbox: its own endpoint paths (none of Auth0's), an issuer
    // without a trailing slash, `iss` on the authorization response. Short-lived access tokens,
    // so the refresh through its token endpoint is exercised too.
    let app = TestApp::builder()
        .sandbox(|sandbox| {
            sandbox.oidc_profile = OidcProfile::Generic;
            sandbox.access_token_ttl_seconds = 2;
        })
        .config(|config| config.token_refresh_margin_seconds = 1)
        .spawn()
        .await;
    assert_eq!(app.sandbox().state.issuer, app.sandbox_url, "no slash");
    let browser = app.browser();
    let authorize_url = browser.start_login("?returnTo=/members").await;
    assert!(
        authorize_url.starts_with(&format!("{}/oidc/auth?", app.sandbox_url)),
        "the discovered authorization endpoint: {authorize_url}"
    );
    let callback = browser
        .sign_in_at_provider(&authorize_url, &[("user_id", ADA)])
        .await;
    assert_eq!(callback.param("iss"), Some(app.sandbox_url.clone()));
    let response = browser.callback(&callback).await;
    let status = response.status();
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap()
    );
    assert_eq!(location(&response), "/members");

    let page = browser.get("/members").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(ADA_NAME), "signed in: {html}");
    assert!(
        html.contains("Acme Markets"),
        "the API accepted the token: {html}"
    );
    // Past the refresh margin: the next page refreshes at the discovered token endpoint.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let page = browser.get("/members").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Acme Markets"));
    let stats = sandbox_stats(&app.sandbox_url).await;
    assert!(
        stats["grants"]["refresh_token"].as_u64().unwrap() >= 1,
        "{stats}"
    );

    // Sign-out goes to the discovered end-session endpoint, which sends the browser back.
    let response = browser.post_form("/auth/logout", &[]).await;
    let provider_logout = location(&response);
    assert!(
        provider_logout.starts_with(&format!("{}/oidc/end-session?", app.sandbox_url)),
        "{provider_logout}"
    );
    assert!(common::query_param(&provider_logout, "logout_hint").is_some());
    assert_eq!(common::query_param(&provider_logout, "id_token_hint"), None);
    let back = browser.http.get(&provider_logout).send().await.unwrap();
    assert_eq!(location(&back), format!("{}/", app.base_url));
    let revoked = app.sandbox().state.store.read(|data| {
        data.refresh_tokens
            .values()
            .all(|token| token.family_revoked)
    });
    assert!(revoked, "revoked at the discovered revocation endpoint");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authorization_response_naming_another_issuer_is_refused() {
    // RFC 9207, the mix-up defence. Auth0 sends no `iss`; one that is there must be ours.
    let app = spawn_app().await;
    let issuer = app.sandbox().state.issuer.clone();
    for (iss, accepted) in [
        (Some("https://evil.example/"), false),
        // Only an exact match counts: the slash matters.
        (Some(app.sandbox_url.as_str()), false),
        (Some(issuer.as_str()), true),
        (None, true),
    ] {
        let browser = app.browser();
        let authorize_url = browser.start_login("").await;
        let callback = browser
            .sign_in_at_provider(&authorize_url, &[("user_id", ADA)])
            .await;
        let callback = Callback {
            url: with_iss(&callback.url, iss),
        };
        let response = browser.callback(&callback).await;
        if accepted {
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{iss:?}");
            continue;
        }
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{iss:?}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains("did not come from this dashboard&#39;s identity provider"),
            "{html}"
        );
        assert_eq!(
            browser.get("/").await.status(),
            StatusCode::SEE_OTHER,
            "{iss:?}"
        );
    }
    let stats = sandbox_stats(&app.sandbox_url).await;
    assert_eq!(
        stats["grants"]["authorization_code"], 2,
        "refused responses never reached the token endpoint: {stats}"
    );

    // A provider that says it always sends `iss` (the generic profile): a response without it,
    // or with the issuer written differently, is refused too.
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.oidc_profile = OidcProfile::Generic)
        .spawn()
        .await;
    let slash_added = format!("{}/", app.sandbox_url);
    for iss in [None, Some(slash_added.as_str())] {
        let browser = app.browser();
        let callback = browser.callback_as(ADA, "").await;
        let callback = Callback {
            url: with_iss(&callback.url, iss),
        };
        let response = browser.callback(&callback).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{iss:?}");
        assert_eq!(browser.get("/").await.status(), StatusCode::SEE_OTHER);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_endpoint_authentication_method_is_a_setting() {
    // The provider holds the dashboard to client_secret_basic, as an Auth0 application set so.
    let (listener, public_url) = reserve_port();
    let sandbox = spawn_sandbox(&public_url, |sandbox| {
        sandbox.dashboard_token_auth_method = TokenAuthMethod::ClientSecretBasic;
    })
    .await;
    let app = TestApp::builder()
        .external_sandbox(&sandbox.base_url())
        .listener(listener)
        .config(|config| {
            config.auth_token_endpoint_auth_method = TokenEndpointAuthMethod::ClientSecretBasic;
        })
        .spawn()
        .await;
    let browser = app.browser();
    browser.sign_in().await;
    let (status, session) = browser.server_fn("session", &[]).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let response = browser.post_form("/auth/logout", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let revoked = sandbox.state.store.read(|data| {
        data.refresh_tokens
            .values()
            .all(|token| token.family_revoked)
    });
    assert!(revoked, "revocation authenticated with Basic too");

    // A replica left at the default (client_secret_post) is refused by that provider.
    let post = TestApp::builder()
        .external_sandbox(&sandbox.base_url())
        .config(|config| config.public_url = Some(public_url.clone()))
        .spawn()
        .await;
    let start = post
        .bff
        .provider
        .start_login(Some("org_acme_markets"), None)
        .await
        .unwrap();
    let callback = browser
        .sign_in_at_provider(&start.authorize_url, &[("user_id", ADA)])
        .await;
    let refused = post
        .bff
        .provider
        .exchange_code(&callback.param("code").unwrap(), &start.pkce_verifier)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("invalid_client"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_falls_back_to_auth0s_logout_when_no_end_session_endpoint_is_published() {
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.oidc_profile = OidcProfile::Auth0Legacy)
        .spawn()
        .await;
    let browser = app.browser();
    browser.sign_in().await;
    let response = browser.post_form("/auth/logout", &[]).await;
    let provider_logout = location(&response);
    assert!(
        provider_logout.starts_with(&format!("{}/v2/logout?", app.sandbox_url)),
        "{provider_logout}"
    );
    assert_eq!(
        common::query_param(&provider_logout, "returnTo"),
        Some(format!("{}/", app.base_url))
    );
    assert_eq!(
        common::query_param(&provider_logout, "client_id").as_deref(),
        Some("keystone-dashboard")
    );
    assert_eq!(common::query_param(&provider_logout, "id_token_hint"), None);
    let back = browser.http.get(&provider_logout).send().await.unwrap();
    assert_eq!(location(&back), format!("{}/", app.base_url));
}

/// Settings for a dashboard using the sandbox at `base` as its provider, with `issuer`.
fn external_config(base: &str, issuer: &str) -> Config {
    let mut config = Config::for_tests();
    config.api_url = Some(base.to_owned());
    config.auth_issuer = Some(issuer.to_owned());
    config.auth_client_id = Some("keystone-dashboard".to_owned());
    config.auth_client_secret = Some(common::CLIENT_SECRET.to_owned());
    config.auth_organization = Some("org_acme_markets".to_owned());
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discovery_document_naming_another_issuer_stops_the_start() {
    for (profile, written) in [
        // The generic provider's issuer has no trailing slash; the setting adds one.
        (OidcProfile::Generic, "{base}/"),
        // Auth0's has one; the setting drops it.
        (OidcProfile::Auth0, "{base}"),
    ] {
        let sandbox = spawn_sandbox("http://127.0.0.1:3000", |sandbox| {
            sandbox.oidc_profile = profile;
        })
        .await;
        let configured = written.replace("{base}", &sandbox.base_url());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let error = Application::build_with_listener(
            external_config(&sandbox.base_url(), &configured),
            listener,
        )
        .await
        .err()
        .unwrap_or_else(|| panic!("{profile:?}: started with the issuer {configured}"));
        let message = error.to_string();
        assert!(
            message.contains(&format!("{:?}", sandbox.state.issuer))
                && message.contains(&format!("{configured:?}")),
            "{message}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_unreachable_at_start_is_retried_when_needed() {
    let (listener, public_url) = reserve_port();
    let mut sandbox = spawn_sandbox(&public_url, |sandbox| {
        sandbox.oidc_profile = OidcProfile::Generic;
    })
    .await;
    let issuer = sandbox.state.issuer.clone();
    sandbox.stop();
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(sandbox.addr).await.is_err() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The dashboard starts all the same, and says it is not ready.
    let app = TestApp::builder()
        .external_sandbox(&sandbox.base_url())
        .listener(listener)
        .config(|config| config.auth_issuer = Some(issuer))
        .spawn()
        .await;
    let readiness = |app_url: String| async move {
        let reply = reqwest::get(format!("{app_url}/readyz")).await.unwrap();
        reply.json::<Value>().await.unwrap()["checks"]["identity_provider"].clone()
    };
    assert_eq!(readiness(app.addr_url.clone()).await, "failing");
    let browser = app.browser();
    let response = browser.get("/auth/login").await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Sign-in is unavailable"));

    // The provider comes back: the next sign-in (after the short retry pause) discovers it.
    sandbox.restart().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    browser.sign_in().await;
    let (status, session) = browser.server_fn("session", &[]).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    // Readiness repeats its verdict for a few seconds, then sees the provider back.
    tokio::time::sleep(
        keystone_dashboard::server::health::READINESS_CACHED_FOR
            + std::time::Duration::from_millis(100),
    )
    .await;
    assert_eq!(readiness(app.addr_url.clone()).await, "ok");
}
