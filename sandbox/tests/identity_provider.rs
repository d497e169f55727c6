//! The identity provider over real HTTP: discovery, /authorize validation, the code flow with PKCE,
//! refresh-token rotation and reuse detection, client credentials, revocation, userinfo, logout, invitations.

mod common;

use base64::{engine::general_purpose::STANDARD, Engine};
use common::*;
use keystone_sandbox::{
    idp::{OidcProfile, TokenAuthMethod},
    SandboxConfig, API_AUDIENCE,
};
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn discovery_and_jwks_describe_the_signing_key() {
    let sandbox = spawn().await;
    let discovery: Value = sandbox
        .http
        .get(sandbox.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], format!("{}/", sandbox.base));
    assert_eq!(
        discovery["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(discovery["token_endpoint"], sandbox.url("/oauth/token"));

    let jwks: Value = sandbox
        .http
        .get(sandbox.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");

    let token = sandbox.m2m_token("development").await;
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "RS256");
    assert_eq!(
        header["kid"], key["kid"],
        "every token names the key that signed it"
    );
}

#[tokio::test]
async fn unknown_clients_and_redirect_uris_are_shown_an_error_page_never_redirected() {
    let sandbox = spawn().await;
    let (_, challenge) = pkce();
    for request in [
        AuthorizeRequest::new(&challenge).set("client_id", "someone-else"),
        AuthorizeRequest::new(&challenge).set("redirect_uri", "https://evil.example/callback"),
        AuthorizeRequest::new(&challenge).set("redirect_uri", &format!("{REDIRECT_URI}/extra")),
    ] {
        let response = sandbox.authorize(&request).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get("location").is_none());
    }
}

#[tokio::test]
async fn invalid_authorize_requests_go_back_to_the_client_with_an_oauth_error() {
    let sandbox = spawn().await;
    let (_, challenge) = pkce();
    let cases = [
        (
            AuthorizeRequest::new(&challenge).set("code_challenge_method", "plain"),
            "invalid_request",
        ),
        (
            AuthorizeRequest::new(&challenge).without("code_challenge"),
            "invalid_request",
        ),
        (
            AuthorizeRequest::new(&challenge).without("state"),
            "invalid_request",
        ),
        (
            AuthorizeRequest::new(&challenge).without("nonce"),
            "invalid_request",
        ),
        (
            AuthorizeRequest::new(&challenge).set("response_type", "token"),
            "unsupported_response_type",
        ),
        (
            AuthorizeRequest::new(&challenge).set("audience", "https://other.example"),
            "access_denied",
        ),
        (
            AuthorizeRequest::new(&challenge).set("organization", "org_other"),
            "invalid_request",
        ),
    ];
    for (request, error) in cases {
        let response = sandbox.authorize(&request).await;
        assert!(response.status().is_redirection(), "{:?}", request.params);
        let location = response.headers()["location"].to_str().unwrap();
        assert!(location.starts_with(REDIRECT_URI), "{location}");
        assert_eq!(
            query_param(location, "error").as_deref(),
            Some(error),
            "{:?}",
            request.params
        );
    }
}

#[tokio::test]
async fn the_sign_in_page_lists_people_with_their_roles_and_escapes_them() {
    let sandbox = spawn().await;
    sandbox.sandbox.state.store.write(|data| {
        data.people
            .iter_mut()
            .find(|person| person.user_id == BEN)
            .unwrap()
            .name = "<script>alert(1)</script>".into()
    });
    let (_, challenge) = pkce();
    let html = sandbox
        .authorize(&AuthorizeRequest::new(&challenge))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Ada Okafor")
            && html.contains("ada@acme-markets.example")
            && html.contains("Platform Manager")
    );
    assert!(
        html.contains("Not a member of Acme Markets"),
        "outsiders are marked"
    );
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&lt;script&gt;"));
}

#[tokio::test]
async fn the_code_flow_issues_tokens_with_the_members_permissions() {
    let sandbox = spawn().await;
    let reply = sandbox.login(BEN).await;
    assert_eq!(reply["token_type"], "Bearer");
    assert_eq!(reply["expires_in"], 86_400);
    assert!(
        reply["refresh_token"].is_string(),
        "offline_access grants a refresh token"
    );

    let access = claims(reply["access_token"].as_str().unwrap());
    assert_eq!(access["sub"], BEN);
    assert_eq!(access["org_id"], "org_acme_markets");
    assert_eq!(access["azp"], CLIENT_ID);
    assert!(access["aud"]
        .as_array()
        .unwrap()
        .contains(&Value::from(API_AUDIENCE)));
    let permissions = access["permissions"].as_array().unwrap();
    assert!(permissions.contains(&Value::from("security:manage")));
    assert!(
        !permissions.contains(&Value::from("members:manage")),
        "a Developer cannot manage members"
    );

    let id = claims(reply["id_token"].as_str().unwrap());
    assert_eq!(id["nonce"], "nonce-456");
    assert_eq!(id["aud"], CLIENT_ID);
    assert_eq!(id["email"], "ben@acme-markets.example");
    assert_eq!(id["org_id"], "org_acme_markets");
}

#[tokio::test]
async fn a_code_works_once_and_only_with_its_verifier_and_redirect_uri() {
    let sandbox = spawn().await;

    let (code, verifier) = sandbox.code_for(ADA).await;
    assert_eq!(
        sandbox
            .exchange(
                &code,
                "a-different-verifier-that-is-long-enough-to-look-real"
            )
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // The failed attempt used the code up: even the right verifier is refused now.
    assert_eq!(
        sandbox.exchange(&code, &verifier).await.status(),
        StatusCode::FORBIDDEN
    );

    let (code, verifier) = sandbox.code_for(ADA).await;
    assert_eq!(
        sandbox.exchange(&code, &verifier).await.status(),
        StatusCode::OK
    );
    let replay = sandbox.exchange(&code, &verifier).await;
    assert_eq!(replay.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        replay.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );

    let (code, verifier) = sandbox.code_for(ADA).await;
    let wrong_redirect = sandbox
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:3999/elsewhere"),
            ("code_verifier", &verifier),
        ])
        .await;
    assert_eq!(wrong_redirect.status(), StatusCode::FORBIDDEN);

    let (code, _) = sandbox.code_for(ADA).await;
    let missing_verifier = sandbox
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ])
        .await;
    assert_eq!(missing_verifier.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn codes_expire() {
    let sandbox = spawn_with(keystone_sandbox::SandboxConfig {
        code_ttl_seconds: 0,
        ..config()
    })
    .await;
    let (code, verifier) = sandbox.code_for(ADA).await;
    let response = sandbox.exchange(&code, &verifier).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("expired"));
}

/// An authorization-code exchange authenticated with HTTP Basic (`client_secret_basic`).
async fn exchange_with_basic(
    sandbox: &TestSandbox,
    code: &str,
    verifier: &str,
) -> reqwest::Response {
    let basic = STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    sandbox
        .http
        .post(sandbox.url(sandbox.endpoints().token))
        .header("authorization", format!("Basic {basic}"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_dashboard_client_is_held_to_its_registered_authentication_method() {
    // Registered for client_secret_post (the default): Basic is refused, the body works.
    let sandbox = spawn().await;
    let (code, verifier) = sandbox.code_for(ADA).await;
    let refused = exchange_with_basic(&sandbox, &code, &verifier).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("client_secret_post"),
        "{body}"
    );
    let (code, verifier) = sandbox.code_for(ADA).await;
    assert_eq!(
        sandbox.exchange(&code, &verifier).await.status(),
        StatusCode::OK
    );

    // Registered for client_secret_basic: the other way round, at the revocation endpoint too.
    let sandbox = spawn_with(SandboxConfig {
        dashboard_token_auth_method: TokenAuthMethod::ClientSecretBasic,
        ..config()
    })
    .await;
    let (code, verifier) = sandbox.code_for(ADA).await;
    let response = exchange_with_basic(&sandbox, &code, &verifier).await;
    assert_eq!(response.status(), StatusCode::OK, "client_secret_basic");
    let refresh = response.json::<Value>().await.unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, verifier) = sandbox.code_for(ADA).await;
    let refused = sandbox.exchange(&code, &verifier).await;
    assert_eq!(
        refused.status(),
        StatusCode::UNAUTHORIZED,
        "client_secret_post"
    );
    let revoke_in_body = sandbox
        .http
        .post(sandbox.url("/oauth/revoke"))
        .form(&[
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("token", &refresh),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke_in_body.status(), StatusCode::UNAUTHORIZED);
    let revoke_basic = sandbox
        .http
        .post(sandbox.url("/oauth/revoke"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[("token", &refresh)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke_basic.status(), StatusCode::OK);

    // M2M clients are not held to the dashboard's method: the SDK sends its secret in a JSON body.
    sandbox.m2m_token("development").await;
}

#[tokio::test]
async fn a_wrong_secret_or_grant_is_refused() {
    let sandbox = spawn().await;

    let (code, verifier) = sandbox.code_for(ADA).await;
    let wrong = sandbox
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", "not-the-secret"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &verifier),
        ])
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );

    let m2m_with_dashboard_grant = sandbox
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("audience", API_AUDIENCE),
        ])
        .await;
    assert_eq!(
        m2m_with_dashboard_grant.status(),
        StatusCode::FORBIDDEN,
        "the dashboard has no M2M grant"
    );
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let sandbox = spawn().await;
    let first = sandbox.login(ADA).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let rotated: Value = sandbox.refresh(&first).await.json().await.unwrap();
    let second = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second, "each use returns a new refresh token");
    assert!(rotated["access_token"].is_string());

    // Reusing the spent token (no overlap window configured) revokes the whole family...
    let reuse = sandbox.refresh(&first).await;
    assert_eq!(reuse.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        reuse.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    // ...including the legitimate newest token.
    assert_eq!(
        sandbox.refresh(&second).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(sandbox.stats().await["grants"]["refresh_token"], 3);
}

#[tokio::test]
async fn a_spent_refresh_token_may_be_reused_within_the_overlap_window() {
    let sandbox = spawn_with(keystone_sandbox::SandboxConfig {
        refresh_reuse_interval_seconds: 30,
        ..config()
    })
    .await;
    let first = sandbox.login(ADA).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let second: Value = sandbox.refresh(&first).await.json().await.unwrap();
    let again = sandbox.refresh(&first).await;
    assert_eq!(
        again.status(),
        StatusCode::OK,
        "concurrent tabs racing a rotation are not punished"
    );
    let latest = second["refresh_token"].as_str().unwrap();
    assert_eq!(sandbox.refresh(latest).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_role_change_shows_in_the_next_token() {
    let sandbox = spawn().await;
    let login = sandbox.login(DMITRI).await;
    let before = claims(login["access_token"].as_str().unwrap());
    assert!(!before["permissions"]
        .as_array()
        .unwrap()
        .contains(&Value::from("security:manage")));

    let manager = sandbox.user_token(ADA).await;
    let response = sandbox
        .bearer(&manager, Some("development"))
        .patch(
            &format!("/v1/platforms/me/members/{DMITRI}"),
            serde_json::json!({ "role_ids": ["rol_developer"] }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    let refreshed: Value = sandbox
        .refresh(login["refresh_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    let after = claims(refreshed["access_token"].as_str().unwrap());
    assert!(after["permissions"]
        .as_array()
        .unwrap()
        .contains(&Value::from("security:manage")));
}

#[tokio::test]
async fn revocation_ends_the_refresh_family() {
    let sandbox = spawn().await;
    let refresh = sandbox.login(ADA).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = sandbox
        .http
        .post(sandbox.url("/oauth/revoke"))
        .json(&serde_json::json!({ "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "token": refresh }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        sandbox.refresh(&refresh).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn client_credentials_bind_the_token_to_its_environment() {
    let sandbox = spawn().await;
    let token = sandbox.m2m_token("staging").await;
    let claims = claims(&token);
    assert_eq!(claims["azp"], "sandbox-m2m-staging");
    assert_eq!(claims["gty"], "client-credentials");
    assert!(claims["scope"]
        .as_str()
        .unwrap()
        .contains("settlements:read"));
    assert!(claims.get("permissions").is_none());

    let wrong_audience = sandbox
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", "sandbox-m2m-staging"),
            ("client_secret", "sandbox-m2m-secret-staging"),
            ("audience", "https://elsewhere.example"),
        ])
        .await;
    assert_eq!(wrong_audience.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn userinfo_describes_the_token_subject() {
    let sandbox = spawn().await;
    let token = sandbox.user_token(GRACE).await;
    let response = sandbox
        .http
        .get(sandbox.url("/userinfo"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let profile: Value = response.json().await.unwrap();
    assert_eq!(profile["email"], "grace@acme-markets.example");
    assert_eq!(
        sandbox
            .http
            .get(sandbox.url("/userinfo"))
            .bearer_auth("forged")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn logout_only_returns_to_allowed_urls() {
    let sandbox = spawn().await;
    let allowed = sandbox
        .http
        .get(sandbox.url("/v2/logout"))
        .query(&[("client_id", CLIENT_ID), ("returnTo", DASHBOARD_URL)])
        .send()
        .await
        .unwrap();
    assert!(allowed.status().is_redirection());
    assert_eq!(allowed.headers()["location"], DASHBOARD_URL);

    for return_to in [
        "https://evil.example",
        "http://127.0.0.1:3999.evil.example",
        "//evil.example",
    ] {
        let refused = sandbox
            .http
            .get(sandbox.url("/v2/logout"))
            .query(&[("client_id", CLIENT_ID), ("returnTo", return_to)])
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{return_to}");
    }
}

#[tokio::test]
async fn a_non_member_is_refused_back_at_the_client() {
    let sandbox = spawn().await;
    let (_, challenge) = pkce();
    let login = sandbox
        .sign_in_page(&AuthorizeRequest::new(&challenge))
        .await;
    let response = sandbox.pick(&login, &[("user_id", OUTSIDER)]).await;
    let location = response.headers()["location"].to_str().unwrap();
    assert_eq!(
        query_param(location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(location, "state").as_deref(), Some("state-123"));
}

#[tokio::test]
async fn a_sign_in_page_can_be_submitted_once() {
    let sandbox = spawn().await;
    let (_, challenge) = pkce();
    let login = sandbox
        .sign_in_page(&AuthorizeRequest::new(&challenge))
        .await;
    assert!(sandbox
        .pick(&login, &[("user_id", ADA)])
        .await
        .status()
        .is_redirection());
    assert_eq!(
        sandbox.pick(&login, &[("user_id", ADA)]).await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn accepting_an_invitation_makes_a_member_with_the_invited_roles() {
    let sandbox = spawn().await;
    let manager = sandbox.user_token(ADA).await;
    let invitation: Value = sandbox
        .bearer(&manager, Some("development")).post("/v1/platforms/me/invitations", serde_json::json!({ "email": "Zoe@New-Hire.example", "role_ids": ["rol_compliance_officer"] }))
        .await
        .json()
        .await
        .unwrap();
    let url = invitation["invitation_url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{DASHBOARD_URL}/auth/login?invitation=")),
        "{url}"
    );
    assert_eq!(
        query_param(url, "organization").as_deref(),
        Some("org_acme_markets")
    );
    assert_eq!(
        query_param(url, "organization_name").as_deref(),
        Some("Acme Markets")
    );
    let ticket = query_param(url, "invitation").unwrap();

    let (verifier, challenge) = pkce();
    let request = AuthorizeRequest::new(&challenge).set("invitation", &ticket);
    let page = sandbox.authorize(&request).await.text().await.unwrap();
    assert!(
        page.contains("zoe@new-hire.example") && page.contains("Compliance Officer"),
        "{page}"
    );
    let login = sandbox.sign_in_page(&request).await;
    let response = sandbox.pick(&login, &[("accept_invitation", "true")]).await;
    let code = query_param(response.headers()["location"].to_str().unwrap(), "code").unwrap();
    let tokens: Value = sandbox
        .exchange(&code, &verifier)
        .await
        .json()
        .await
        .unwrap();
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert!(access["permissions"]
        .as_array()
        .unwrap()
        .contains(&Value::from("settlements:write")));

    let members = sandbox
        .bearer(&manager, Some("development"))
        .get_json("/v1/platforms/me/members?search=zoe")
        .await;
    assert_eq!(members["total"], 1);
    assert_eq!(
        members["items"][0]["roles"][0]["name"],
        "Compliance Officer"
    );
    let invitations = sandbox
        .bearer(&manager, Some("development"))
        .get_json("/v1/platforms/me/invitations")
        .await;
    assert!(
        !invitations.to_string().contains("zoe@new-hire.example"),
        "an accepted invitation disappears"
    );

    // The ticket is used up.
    let reused = sandbox
        .authorize(&AuthorizeRequest::new(&challenge).set("invitation", &ticket))
        .await;
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn expired_and_unknown_invitation_tickets_get_a_clear_error_page() {
    let sandbox = spawn().await;
    sandbox.sandbox.state.store.write(|data| {
        for invitation in &mut data.invitations {
            invitation.expires_at = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
        }
    });
    let ticket = sandbox
        .sandbox
        .state
        .store
        .read(|data| data.invitations[0].ticket.clone());
    let (_, challenge) = pkce();
    let expired = sandbox
        .authorize(&AuthorizeRequest::new(&challenge).set("invitation", &ticket))
        .await;
    assert_eq!(expired.status(), StatusCode::BAD_REQUEST);
    assert!(expired.text().await.unwrap().contains("expired"));

    let unknown = sandbox
        .authorize(&AuthorizeRequest::new(&challenge).set("invitation", "no-such-ticket"))
        .await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert!(unknown.text().await.unwrap().contains("not valid"));
}

/// The status of `method path` with no credentials: anything but 404/405 means the path is served.
async fn served(sandbox: &TestSandbox, method: Method, url: &str) -> bool {
    let status = sandbox
        .http
        .request(method, url)
        .send()
        .await
        .unwrap()
        .status();
    status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED
}

#[tokio::test]
async fn discovery_names_every_endpoint_the_provider_serves() {
    let sandbox = spawn().await;
    let discovery = sandbox.discovery().await;
    for (field, path) in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("revocation_endpoint", "/oauth/revoke"),
        ("userinfo_endpoint", "/userinfo"),
        ("jwks_uri", "/.well-known/jwks.json"),
        ("end_session_endpoint", "/oidc/logout"),
    ] {
        assert_eq!(discovery[field], sandbox.url(path), "{field}");
    }
    assert_eq!(
        discovery["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post"])
    );
    assert!(
        discovery
            .get("authorization_response_iss_parameter_supported")
            .is_none(),
        "Auth0 sends no iss on the authorization response"
    );
    for (field, method) in [
        ("authorization_endpoint", Method::GET),
        ("token_endpoint", Method::POST),
        ("revocation_endpoint", Method::POST),
        ("userinfo_endpoint", Method::GET),
        ("jwks_uri", Method::GET),
        ("end_session_endpoint", Method::GET),
    ] {
        let url = discovery[field].as_str().unwrap();
        assert!(served(&sandbox, method, url).await, "{field} {url}");
    }
    // Auth0's own logout stays, unpublished.
    assert!(served(&sandbox, Method::GET, &sandbox.url("/v2/logout")).await);
}

#[tokio::test]
async fn the_generic_profile_serves_its_own_paths_and_an_issuer_without_a_trailing_slash() {
    let sandbox = spawn_with(SandboxConfig {
        oidc_profile: OidcProfile::Generic,
        ..config()
    })
    .await;
    let discovery = sandbox.discovery().await;
    assert_eq!(discovery["issuer"], sandbox.base, "no trailing slash");
    for (field, path, method) in [
        ("authorization_endpoint", "/oidc/auth", Method::GET),
        ("token_endpoint", "/oidc/token", Method::POST),
        ("revocation_endpoint", "/oidc/revoke", Method::POST),
        ("userinfo_endpoint", "/oidc/userinfo", Method::GET),
        ("jwks_uri", "/oidc/jwks", Method::GET),
        ("end_session_endpoint", "/oidc/end-session", Method::GET),
    ] {
        assert_eq!(discovery[field], sandbox.url(path), "{field}");
        assert!(served(&sandbox, method, &sandbox.url(path)).await, "{path}");
    }
    assert_eq!(
        discovery["authorization_response_iss_parameter_supported"],
        true
    );
    for (path, method) in [
        ("/authorize", Method::GET),
        ("/authorize/decision", Method::POST),
        ("/oauth/token", Method::POST),
        ("/oauth/revoke", Method::POST),
        ("/.well-known/jwks.json", Method::GET),
        ("/userinfo", Method::GET),
        ("/v2/logout", Method::GET),
        ("/oidc/logout", Method::GET),
    ] {
        assert!(
            !served(&sandbox, method, &sandbox.url(path)).await,
            "Auth0's {path} is not served"
        );
    }

    // The whole code flow at the generic paths: the redirect names the issuer (RFC 9207) ...
    let (verifier, challenge) = pkce();
    let login = sandbox
        .sign_in_page(&AuthorizeRequest::new(&challenge))
        .await;
    let response = sandbox.pick(&login, &[("user_id", ADA)]).await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(query_param(&location, "iss"), Some(sandbox.base.clone()));
    let code = query_param(&location, "code").unwrap();
    let tokens: Value = sandbox
        .exchange(&code, &verifier)
        .await
        .json()
        .await
        .unwrap();
    // ... every token carries it exactly ...
    let access_token = tokens["access_token"].as_str().unwrap();
    assert_eq!(claims(access_token)["iss"], sandbox.base);
    assert_eq!(
        claims(access_token)["aud"][1],
        sandbox.url("/oidc/userinfo")
    );
    assert_eq!(
        claims(tokens["id_token"].as_str().unwrap())["iss"],
        sandbox.base
    );
    // ... and the API, the userinfo endpoint and M2M clients accept them.
    let me = sandbox
        .bearer(access_token, Some("development"))
        .get_json("/v1/platforms/me")
        .await;
    assert_eq!(me["name"], "Acme Markets");
    let profile = sandbox
        .http
        .get(sandbox.url("/oidc/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(profile.status(), StatusCode::OK);
    let m2m = sandbox.m2m_token("staging").await;
    assert_eq!(claims(&m2m)["iss"], sandbox.base);
    assert_eq!(
        sandbox
            .bearer(&m2m, None)
            .get("/v1/platforms/me")
            .await
            .status(),
        StatusCode::OK
    );

    // Errors sent back to the client carry `iss` too.
    let login = sandbox
        .sign_in_page(&AuthorizeRequest::new(&challenge))
        .await;
    let refused = sandbox.pick(&login, &[("user_id", OUTSIDER)]).await;
    let location = refused.headers()["location"].to_str().unwrap();
    assert_eq!(
        query_param(location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(location, "iss"), Some(sandbox.base.clone()));
}

/// The dashboard's ID token for Ada, from a full sign-in.
async fn id_token(sandbox: &TestSandbox) -> String {
    sandbox.login(ADA).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The end-session endpoint the sandbox's discovery publishes.
async fn end_session_endpoint(sandbox: &TestSandbox) -> String {
    sandbox.discovery().await["end_session_endpoint"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A browser's GET of the end-session endpoint with these parameters (redirects not followed).
async fn logout_at(
    sandbox: &TestSandbox,
    end_session: &str,
    params: Vec<(&'static str, String)>,
) -> reqwest::Response {
    sandbox
        .http
        .get(end_session)
        .query(&params)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_end_session_endpoint_checks_the_id_token_hint_and_the_return_url() {
    let sandbox = spawn().await;
    let hint = id_token(&sandbox).await;
    let end_session = end_session_endpoint(&sandbox).await;
    let logout = |params| logout_at(&sandbox, &end_session, params);
    let return_to = format!("{DASHBOARD_URL}/");

    let back = logout(vec![
        ("id_token_hint", hint.clone()),
        ("post_logout_redirect_uri", return_to.clone()),
        ("client_id", CLIENT_ID.to_owned()),
        ("state", "s-1".to_owned()),
    ])
    .await;
    assert!(back.status().is_redirection(), "{}", back.status());
    assert_eq!(back.headers()["location"], format!("{return_to}?state=s-1"));
    // The hint alone names the client.
    let back = logout(vec![
        ("id_token_hint", hint.clone()),
        ("post_logout_redirect_uri", return_to.clone()),
    ])
    .await;
    assert_eq!(back.headers()["location"], return_to.as_str());

    let forged = format!("{}x", &hint[..hint.len() - 1]);
    for (params, why) in [
        (
            vec![
                ("id_token_hint", forged),
                ("post_logout_redirect_uri", return_to.clone()),
            ],
            "a hint with a bad signature",
        ),
        (
            vec![
                ("id_token_hint", hint.clone()),
                ("client_id", "someone-else".to_owned()),
                ("post_logout_redirect_uri", return_to.clone()),
            ],
            "a client_id the hint was not issued to",
        ),
        (
            vec![
                ("client_id", CLIENT_ID.to_owned()),
                (
                    "post_logout_redirect_uri",
                    "https://evil.example/".to_owned(),
                ),
            ],
            "an unregistered return URL",
        ),
        (
            vec![("post_logout_redirect_uri", return_to.clone())],
            "a return URL without a client",
        ),
    ] {
        let refused = logout(params).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{why}");
        assert!(refused.headers().get("location").is_none(), "{why}");
    }
    // Without a return URL the provider shows its own page.
    assert_eq!(logout(vec![]).await.status(), StatusCode::OK);
}

/// Auth0's `logout_hint`: the `sid` of a current session, with `client_id` (or beside an
/// `id_token_hint` whose `sid` it is). A session ends once; a value that is not a current session
/// gets Auth0's confirmation instead of a redirect, and one that names another session than the
/// hint is refused.
#[tokio::test]
async fn the_end_session_endpoint_takes_a_current_session_as_logout_hint() {
    let sandbox = spawn().await;
    let end_session = end_session_endpoint(&sandbox).await;
    let logout = |params| logout_at(&sandbox, &end_session, params);
    let return_to = format!("{DASHBOARD_URL}/");
    let session_of = |token: &str| claims(token)["sid"].as_str().unwrap().to_owned();
    let (first, second) = (id_token(&sandbox).await, id_token(&sandbox).await);
    let (first_session, second_session) = (session_of(&first), session_of(&second));
    assert_ne!(first_session, second_session, "a session per sign-in");

    for (params, why) in [
        (
            vec![
                ("logout_hint", first_session.clone()),
                ("post_logout_redirect_uri", return_to.clone()),
            ],
            "a logout_hint without client_id",
        ),
        (
            vec![
                ("id_token_hint", second.clone()),
                ("logout_hint", first_session.clone()),
                ("post_logout_redirect_uri", return_to.clone()),
            ],
            "a logout_hint that is not the hint's session",
        ),
    ] {
        let refused = logout(params).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{why}");
        assert!(refused.headers().get("location").is_none(), "{why}");
    }
    let ends = vec![
        ("logout_hint", first_session.clone()),
        ("client_id", CLIENT_ID.to_owned()),
        ("post_logout_redirect_uri", return_to.clone()),
    ];
    let back = logout(ends.clone()).await;
    assert_eq!(back.headers()["location"], return_to.as_str());
    // Ended once: asked again, or for no session at all, the member is asked to confirm, and the
    // confirmation (posted back) returns.
    for asked in [
        ends,
        vec![
            ("logout_hint", "not-a-session".to_owned()),
            ("client_id", CLIENT_ID.to_owned()),
            ("post_logout_redirect_uri", return_to.clone()),
        ],
        vec![
            ("client_id", CLIENT_ID.to_owned()),
            ("post_logout_redirect_uri", return_to.clone()),
        ],
    ] {
        let prompt = logout(asked).await;
        assert_eq!(prompt.status(), StatusCode::OK);
        assert!(prompt.headers().get("location").is_none());
        let page = prompt.text().await.unwrap();
        assert!(page.contains("Sign out of the KeyStone sandbox?"), "{page}");
        assert!(
            !page.contains("not-a-session"),
            "the hint is not carried on"
        );
    }
    let confirmed = sandbox
        .http
        .post(&end_session)
        .form(&[
            ("confirm", "yes"),
            ("client_id", CLIENT_ID),
            ("post_logout_redirect_uri", return_to.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.headers()["location"], return_to.as_str());
    // The other sign-in's session is still current.
    let back = logout(vec![
        ("id_token_hint", second),
        ("logout_hint", second_session),
        ("post_logout_redirect_uri", return_to.clone()),
    ])
    .await;
    assert_eq!(back.headers()["location"], return_to.as_str());
}

#[tokio::test]
async fn the_legacy_auth0_profile_publishes_no_end_session_endpoint() {
    let sandbox = spawn_with(SandboxConfig {
        oidc_profile: OidcProfile::Auth0Legacy,
        ..config()
    })
    .await;
    let discovery = sandbox.discovery().await;
    assert_eq!(discovery["issuer"], format!("{}/", sandbox.base));
    assert!(discovery.get("end_session_endpoint").is_none());
    assert!(!served(&sandbox, Method::GET, &sandbox.url("/oidc/logout")).await);
    let back = sandbox
        .http
        .get(sandbox.url("/v2/logout"))
        .query(&[("client_id", CLIENT_ID), ("returnTo", DASHBOARD_URL)])
        .send()
        .await
        .unwrap();
    assert_eq!(back.headers()["location"], DASHBOARD_URL);
}
