//! The KeyStone API emulator over real HTTP: authentication, environment binding, permissions,
//! every resource's success and error paths, the IP allowlist rule, rate limits and the activity log.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn detail(response: reqwest::Response) -> Value {
    response.json::<Value>().await.unwrap()["detail"].clone()
}

#[tokio::test]
async fn every_call_needs_a_valid_token() {
    let sandbox = spawn().await;
    let missing = sandbox
        .http
        .get(sandbox.url("/v1/platforms/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(detail(missing).await, "Not authenticated");

    let forged = sandbox
        .api(
            Method::GET,
            "/v1/platforms/me",
            "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
            Some("development"),
            None,
        )
        .await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);

    // A token signed by another sandbox's key (another issuer) is refused too.
    let other = spawn().await;
    let foreign = other.user_token(ADA).await;
    assert_eq!(
        sandbox
            .api(
                Method::GET,
                "/v1/platforms/me",
                &foreign,
                Some("development"),
                None
            )
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let sandbox = spawn_with(keystone_sandbox::SandboxConfig {
        access_token_ttl_seconds: 1,
        ..config()
    })
    .await;
    let token = sandbox.user_token(ADA).await;
    assert_eq!(
        sandbox
            .api(
                Method::GET,
                "/v1/platforms/me",
                &token,
                Some("development"),
                None
            )
            .await
            .status(),
        StatusCode::OK
    );
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let expired = sandbox
        .api(
            Method::GET,
            "/v1/platforms/me",
            &token,
            Some("development"),
            None,
        )
        .await;
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(detail(expired).await, "Token has expired");
}

#[tokio::test]
async fn user_tokens_name_an_environment_of_the_platform() {
    let sandbox = spawn().await;
    let token = sandbox.user_token(ADA).await;
    let missing = sandbox
        .api(Method::GET, "/v1/platforms/me", &token, None, None)
        .await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        sandbox
            .api(
                Method::GET,
                "/v1/platforms/me",
                &token,
                Some("moon-base"),
                None
            )
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // Listing environments is the one call that works without the header, so clients can discover slugs.
    let environments = sandbox
        .get_json("/v1/platforms/me/environments", &token, None)
        .await;
    assert_eq!(environments["total"], 3);
    let slugs: Vec<&str> = environments["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["development", "staging", "production"]);
    assert!(
        environments["items"][0].get("webhook_secret").is_none(),
        "webhook_secret is write-only"
    );
}

#[tokio::test]
async fn replies_carry_rate_limit_and_version_headers() {
    let sandbox = spawn().await;
    let token = sandbox.user_token(ADA).await;
    let response = sandbox
        .api(
            Method::GET,
            "/v1/platforms/me",
            &token,
            Some("production"),
            None,
        )
        .await;
    let headers = response.headers();
    assert_eq!(
        headers["x-ratelimit-limit"], "1200",
        "production's own rate_limit_rpm"
    );
    assert_eq!(headers["x-ratelimit-remaining"], "1199");
    assert!(
        headers["x-ratelimit-reset"]
            .to_str()
            .unwrap()
            .parse::<i64>()
            .unwrap()
            > time::OffsetDateTime::now_utc().unix_timestamp()
    );
    assert_eq!(headers["keystone-version"], "0.1.0");

    let pinned = sandbox
        .http
        .get(sandbox.url("/v1/platforms/me"))
        .bearer_auth(&token)
        .header("X-Keystone-Environment", "development")
        .header("Keystone-Version", "0.2.0")
        .send()
        .await
        .unwrap();
    assert_eq!(
        pinned.headers()["keystone-version"],
        "0.2.0",
        "the request's version is echoed"
    );
}

#[tokio::test]
async fn exceeding_the_rate_limit_gets_429_with_retry_after() {
    let sandbox = spawn_with(keystone_sandbox::SandboxConfig {
        default_rate_limit_rpm: 3,
        ..config()
    })
    .await;
    let token = sandbox.user_token(ADA).await;
    for _ in 0..3 {
        assert_eq!(
            sandbox
                .api(
                    Method::GET,
                    "/v1/platforms/me",
                    &token,
                    Some("staging"),
                    None
                )
                .await
                .status(),
            StatusCode::OK
        );
    }
    let limited = sandbox
        .api(
            Method::GET,
            "/v1/platforms/me",
            &token,
            Some("staging"),
            None,
        )
        .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(limited.headers()["x-ratelimit-remaining"], "0");
    // Limits are per environment.
    assert_eq!(
        sandbox
            .api(
                Method::GET,
                "/v1/platforms/me",
                &token,
                Some("development"),
                None
            )
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn permissions_are_enforced_per_route() {
    let sandbox = spawn().await;
    let viewer = sandbox.user_token(DMITRI).await;
    let developer = sandbox.user_token(BEN).await;
    let staging = sandbox.environment_id("staging");

    assert_eq!(
        sandbox
            .api(
                Method::GET,
                "/v1/platforms/me/members",
                &viewer,
                Some("staging"),
                None
            )
            .await
            .status(),
        StatusCode::OK
    );
    let refused = sandbox
        .api(
            Method::POST,
            "/v1/platforms/me/invitations",
            &viewer,
            Some("staging"),
            Some(json!({ "email": "x@y.example", "role_ids": ["rol_viewer"] })),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(detail(refused).await, "Missing permission: members:manage");

    let path = format!("/v1/platforms/me/environments/{staging}/ip-allowlist");
    assert_eq!(
        sandbox
            .api(Method::GET, &path, &viewer, Some("staging"), None)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        sandbox
            .api(
                Method::POST,
                &path,
                &viewer,
                Some("staging"),
                Some(json!({ "cidr": "10.0.0.0/8" }))
            )
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        sandbox
            .api(
                Method::POST,
                &path,
                &developer,
                Some("staging"),
                Some(json!({ "cidr": "10.0.0.0/8" }))
            )
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        sandbox
            .api(Method::GET, "/v1/activity", &viewer, Some("staging"), None)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        sandbox
            .api(
                Method::PATCH,
                "/v1/platforms/me",
                &developer,
                Some("staging"),
                Some(json!({ "name": "x" }))
            )
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_removed_member_is_refused_even_with_a_live_token() {
    let sandbox = spawn().await;
    let manager = sandbox.user_token(ADA).await;
    let ben = sandbox.user_token(BEN).await;
    let removed = sandbox
        .api(
            Method::DELETE,
            &format!("/v1/platforms/me/members/{BEN}"),
            &manager,
            Some("development"),
            None,
        )
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        sandbox
            .api(
                Method::GET,
                "/v1/platforms/me",
                &ben,
                Some("development"),
                None
            )
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn platform_can_be_read_and_updated_with_validation() {
    let sandbox = spawn().await;
    let manager = sandbox.user_token(ADA).await;
    let platform = sandbox
        .get_json("/v1/platforms/me", &manager, Some("development"))
        .await;
    assert_eq!(platform["name"], "Acme Markets");
    assert_eq!(platform["auth0_org_id"], "org_acme_markets");
    assert_eq!(platform["status"], "active");

    let invalid = sandbox
        .api(
            Method::PATCH,
            "/v1/platforms/me",
            &manager,
            Some("development"),
            Some(json!({ "name": " ", "support_email": "nope", "logo_url": "ftp://x" })),
        )
        .await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = detail(invalid)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["loc"][1].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["name", "logo_url", "support_email"]);

    let updated = sandbox
        .api(
            Method::PATCH,
            "/v1/platforms/me",
            &manager,
            Some("development"),
            Some(json!({ "name": "Acme Markets Ltd", "logo_url": null })),
        )
        .await;
    assert_eq!(updated.status(), StatusCode::OK);
    let updated: Value = updated.json().await.unwrap();
    assert_eq!(updated["name"], "Acme Markets Ltd");
    assert_eq!(
        updated["support_email"], "support@acme-markets.example",
        "absent fields are untouched"
    );
}

#[tokio::test]
async fn a_suspended_platform_answers_403_to_everything() {
    let sandbox = spawn().await;
    let token = sandbox.m2m_token("development").await;
    sandbox
        .sandbox
        .state
        .store
        .write(|data| data.platform.status = keystone_sandbox::model::PlatformStatus::Suspended);
    let response = sandbox
        .api(
            Method::GET,
            "/v1/platforms/me/environments",
            &token,
            None,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(detail(response).await, "Platform is suspended");
}

#[tokio::test]
async fn environments_are_created_updated_deactivated_and_reactivated() {
    let sandbox = spawn().await;
    let developer = sandbox.user_token(BEN).await;
    let create = |body: Value| {
        sandbox.api(
            Method::POST,
            "/v1/platforms/me/environments",
            &developer,
            Some("development"),
            Some(body),
        )
    };

    let invalid = create(json!({ "name": "", "slug": "QA Env", "auth0_client_id": "", "default_timeout_seconds": 5 })).await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(detail(invalid).await.as_array().unwrap().len(), 4);
    let missing = create(json!({ "name": "QA" })).await;
    assert_eq!(
        missing.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "missing required fields are a 422, not a 400"
    );
    let malformed = sandbox
        .http
        .post(sandbox.url("/v1/platforms/me/environments"))
        .bearer_auth(&developer)
        .header("X-Keystone-Environment", "development")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);

    let created = create(json!({ "name": "QA", "slug": "qa", "auth0_client_id": "sandbox-m2m-qa", "webhook_url": null, "webhook_secret": null })).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["default_timeout_seconds"], 3600);
    assert_eq!(created["is_active"], true);
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        create(json!({ "name": "QA again", "slug": "qa", "auth0_client_id": "another" }))
            .await
            .status(),
        StatusCode::CONFLICT
    );

    let path = format!("/v1/platforms/me/environments/{id}");
    let renamed = sandbox
        .api(
            Method::PATCH,
            &path,
            &developer,
            Some("development"),
            Some(json!({ "name": "Quality", "rate_limit_rpm": 60 })),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    assert_eq!(renamed.json::<Value>().await.unwrap()["rate_limit_rpm"], 60);
    let slug_change = sandbox
        .api(
            Method::PATCH,
            &path,
            &developer,
            Some("development"),
            Some(json!({ "slug": "other" })),
        )
        .await;
    assert_eq!(slug_change.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The new environment's M2M client works at once...
    let m2m = sandbox.m2m_token("qa").await;
    assert_eq!(
        sandbox
            .api(
                Method::GET,
                "/v1/platforms/me/environments",
                &m2m,
                None,
                None
            )
            .await
            .status(),
        StatusCode::OK
    );
    // ...until it is deactivated (data kept, credentials blocked)...
    let deactivated = sandbox
        .api(Method::DELETE, &path, &developer, Some("development"), None)
        .await;
    assert_eq!(deactivated.status(), StatusCode::OK);
    assert_eq!(
        deactivated.json::<Value>().await.unwrap()["is_active"],
        false
    );
    let blocked = sandbox
        .api(
            Method::GET,
            "/v1/platforms/me/environments",
            &m2m,
            None,
            None,
        )
        .await;
    assert_eq!(blocked.status(), StatusCode::FORBIDDEN);
    assert_eq!(detail(blocked).await, "Environment is deactivated");
    assert_eq!(
        sandbox
            .get_json(&path, &developer, Some("development"))
            .await["name"],
        "Quality"
    );
    // ...and works again once reactivated.
    let reactivated = sandbox
        .api(
            Method::PATCH,
            &path,
            &developer,
            Some("development"),
            Some(json!({ "is_active": true })),
        )
        .await;
    assert_eq!(reactivated.status(), StatusCode::OK);
    assert_eq!(
        sandbox
            .api(
                Method::GET,
                "/v1/platforms/me/environments",
                &m2m,
                None,
                None
            )
            .await
            .status(),
        StatusCode::OK
    );

    assert_eq!(
        sandbox
            .api(
                Method::GET,
                "/v1/platforms/me/environments/not-a-uuid",
                &developer,
                Some("development"),
                None
            )
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let kinds: Vec<String> = sandbox
        .get_json(
            &format!("/v1/activity?resource_id={id}"),
            &developer,
            Some("development"),
        )
        .await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        [
            "environment.reactivated",
            "environment.deactivated",
            "environment.updated",
            "environment.created"
        ]
    );
}

#[tokio::test]
async fn pagination_is_validated_and_applied() {
    let sandbox = spawn_with(keystone_sandbox::SandboxConfig {
        seed_members: 300,
        ..config()
    })
    .await;
    let token = sandbox.user_token(ADA).await;
    let page = sandbox
        .get_json(
            "/v1/platforms/me/members?limit=200&offset=100",
            &token,
            Some("development"),
        )
        .await;
    assert_eq!(page["total"], 312);
    assert_eq!(page["limit"], 200);
    assert_eq!(page["offset"], 100);
    assert_eq!(page["items"].as_array().unwrap().len(), 200);
    let default = sandbox
        .get_json("/v1/platforms/me/members", &token, Some("development"))
        .await;
    assert_eq!(default["items"].as_array().unwrap().len(), 50);

    for query in ["limit=0", "limit=201", "limit=abc", "offset=-1"] {
        let response = sandbox
            .api(
                Method::GET,
                &format!("/v1/platforms/me/members?{query}"),
                &token,
                Some("development"),
                None,
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}"
        );
        assert_eq!(detail(response).await[0]["loc"][0], "query");
    }
}

#[tokio::test]
async fn members_can_be_searched_changed_and_removed_within_the_guardrails() {
    let sandbox = spawn().await;
    let ada = sandbox.user_token(ADA).await;
    let env = Some("development");
    let member_path = |user: &str| format!("/v1/platforms/me/members/{user}");

    let found = sandbox
        .get_json("/v1/platforms/me/members?search=CHLO", &ada, env)
        .await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["email"], "chloe@acme-markets.example");
    assert_eq!(
        sandbox
            .get_json(
                "/v1/platforms/me/members?search=acme-markets.example",
                &ada,
                env
            )
            .await["total"],
        12
    );

    let own = sandbox
        .api(
            Method::PATCH,
            &member_path(ADA),
            &ada,
            env,
            Some(json!({ "role_ids": ["rol_viewer"] })),
        )
        .await;
    assert_eq!(own.status(), StatusCode::FORBIDDEN, "not your own roles");
    let unknown = sandbox
        .api(
            Method::PATCH,
            &member_path(BEN),
            &ada,
            env,
            Some(json!({ "role_ids": ["rol_developer", "rol_astronaut"] })),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        detail(unknown).await[0]["loc"],
        json!(["body", "role_ids", 1])
    );
    let nobody = sandbox
        .api(
            Method::PATCH,
            &member_path("auth0|nobody"),
            &ada,
            env,
            Some(json!({ "role_ids": ["rol_viewer"] })),
        )
        .await;
    assert_eq!(nobody.status(), StatusCode::NOT_FOUND);

    let changed = sandbox
        .api(
            Method::PATCH,
            &member_path(BEN),
            &ada,
            env,
            Some(json!({ "role_ids": ["rol_viewer", "rol_compliance_officer", "rol_viewer"] })),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let roles = changed.json::<Value>().await.unwrap()["roles"].clone();
    let names: Vec<&str> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|role| role["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Viewer", "Compliance Officer"]);

    // Grace is the other Platform Manager: demoting her leaves Ada as the last one.
    let demoted = sandbox
        .api(
            Method::PATCH,
            &member_path(GRACE),
            &ada,
            env,
            Some(json!({ "role_ids": ["rol_developer"] })),
        )
        .await;
    assert_eq!(demoted.status(), StatusCode::OK);
    // Let Developers manage members, so someone other than Ada can try to remove or demote her.
    sandbox.sandbox.state.store.write(|data| {
        data.roles
            .iter_mut()
            .find(|role| role.id == "rol_developer")
            .unwrap()
            .permissions
            .push("members:manage".into())
    });
    let grace = sandbox.user_token(GRACE).await;
    let remove_last = sandbox
        .api(Method::DELETE, &member_path(ADA), &grace, env, None)
        .await;
    assert_eq!(
        remove_last.status(),
        StatusCode::CONFLICT,
        "the last Platform Manager cannot be removed"
    );
    let demote_last = sandbox
        .api(
            Method::PATCH,
            &member_path(ADA),
            &grace,
            env,
            Some(json!({ "role_ids": ["rol_viewer"] })),
        )
        .await;
    assert_eq!(
        demote_last.status(),
        StatusCode::CONFLICT,
        "nor lose the role"
    );
    assert_eq!(
        sandbox
            .api(Method::DELETE, &member_path(GRACE), &grace, env, None)
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "not yourself"
    );

    assert_eq!(
        sandbox
            .api(Method::DELETE, &member_path(BEN), &grace, env, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        sandbox
            .api(Method::DELETE, &member_path(BEN), &grace, env, None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sandbox
            .get_json("/v1/platforms/me/members", &ada, env)
            .await["total"],
        11
    );

    let roles = sandbox.get_json("/v1/platforms/me/roles", &ada, env).await;
    assert_eq!(roles["total"], 4);
    assert_eq!(roles["items"][0]["name"], "Platform Manager");
    assert_eq!(
        roles["items"][0]["permissions"].as_array().unwrap().len(),
        12
    );
}

#[tokio::test]
async fn invitations_are_created_listed_and_revoked() {
    let sandbox = spawn().await;
    let ada = sandbox.user_token(ADA).await;
    let env = Some("staging");
    let invite = |body: Value| {
        sandbox.api(
            Method::POST,
            "/v1/platforms/me/invitations",
            &ada,
            env,
            Some(body),
        )
    };

    let seeded = sandbox
        .get_json("/v1/platforms/me/invitations", &ada, env)
        .await;
    assert_eq!(seeded["total"], 2);

    let created = invite(
        json!({ "email": "new@hire.example", "role_ids": ["rol_viewer"], "send_email": false }),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["invitee_email"], "new@hire.example");
    assert_eq!(created["inviter_name"], "Ada Okafor");
    assert_eq!(created["roles"], json!(["Viewer"]));
    let created_at = time::OffsetDateTime::parse(
        created["created_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let expires_at = time::OffsetDateTime::parse(
        created["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(expires_at - created_at, time::Duration::days(7));

    assert_eq!(
        invite(json!({ "email": "NEW@hire.example", "role_ids": ["rol_viewer"] }))
            .await
            .status(),
        StatusCode::CONFLICT,
        "pending"
    );
    let member =
        invite(json!({ "email": "ben@acme-markets.example", "role_ids": ["rol_viewer"] })).await;
    assert_eq!(member.status(), StatusCode::CONFLICT);
    assert!(detail(member)
        .await
        .as_str()
        .unwrap()
        .contains("already a member"));
    let invalid = invite(json!({ "email": "not an email", "role_ids": [] })).await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(detail(invalid).await.as_array().unwrap().len(), 2);

    let listed = sandbox
        .get_json("/v1/platforms/me/invitations", &ada, env)
        .await;
    assert_eq!(listed["total"], 3);
    assert_eq!(listed["items"][0]["id"], created["id"], "newest first");

    let path = format!(
        "/v1/platforms/me/invitations/{}",
        created["id"].as_str().unwrap()
    );
    assert_eq!(
        sandbox
            .api(Method::DELETE, &path, &ada, env, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        sandbox
            .api(Method::DELETE, &path, &ada, env, None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // Resend is revoke + create: the address can be invited again.
    assert_eq!(
        invite(json!({ "email": "new@hire.example", "role_ids": ["rol_viewer"] }))
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn the_allowlist_restricts_m2m_traffic_from_its_first_entry_until_its_last() {
    let sandbox = spawn().await;
    let ben = sandbox.user_token(BEN).await;
    let m2m = sandbox.m2m_token("staging").await;
    let staging = sandbox.environment_id("staging");
    let path = format!("/v1/platforms/me/environments/{staging}/ip-allowlist");
    let m2m_call = || {
        sandbox.api(
            Method::GET,
            "/v1/platforms/me/environments",
            &m2m,
            None,
            None,
        )
    };

    assert_eq!(
        m2m_call().await.status(),
        StatusCode::OK,
        "an empty list allows everyone"
    );

    let first = sandbox
        .api(
            Method::POST,
            &path,
            &ben,
            Some("staging"),
            Some(json!({ "cidr": "203.0.113.0/24", "description": "office" })),
        )
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["created_by"], BEN);
    let refused = m2m_call().await;
    assert_eq!(
        refused.status(),
        StatusCode::FORBIDDEN,
        "the first entry restricts at once"
    );
    assert_eq!(detail(refused).await, "IP address not allowed");
    // User traffic is not subject to the allowlist.
    assert_eq!(
        sandbox
            .api(Method::GET, "/v1/platforms/me", &ben, Some("staging"), None)
            .await
            .status(),
        StatusCode::OK
    );

    let loopback = sandbox
        .api(
            Method::POST,
            &path,
            &ben,
            Some("staging"),
            Some(json!({ "cidr": "127.0.0.1" })),
        )
        .await;
    assert_eq!(loopback.status(), StatusCode::CREATED);
    let loopback: Value = loopback.json().await.unwrap();
    assert_eq!(
        loopback["cidr"], "127.0.0.1/32",
        "a bare address is stored as /32"
    );
    assert_eq!(
        m2m_call().await.status(),
        StatusCode::OK,
        "an address inside the list is accepted"
    );

    for entry in [&first, &loopback] {
        let delete = sandbox
            .api(
                Method::DELETE,
                &format!("{path}/{}", entry["id"].as_str().unwrap()),
                &ben,
                Some("staging"),
                None,
            )
            .await;
        assert_eq!(delete.status(), StatusCode::NO_CONTENT);
    }
    sandbox
        .api(
            Method::POST,
            &path,
            &ben,
            Some("staging"),
            Some(json!({ "cidr": "198.51.100.0/24" })),
        )
        .await;
    assert_eq!(m2m_call().await.status(), StatusCode::FORBIDDEN);
    let remaining: Value = sandbox.get_json(&path, &ben, Some("staging")).await;
    let last = remaining["items"][0]["id"].as_str().unwrap();
    sandbox
        .api(
            Method::DELETE,
            &format!("{path}/{last}"),
            &ben,
            Some("staging"),
            None,
        )
        .await;
    assert_eq!(
        m2m_call().await.status(),
        StatusCode::OK,
        "removing the last entry opens the environment again"
    );

    // Other environments are unaffected by staging's list; production's seeded list excludes loopback.
    assert_eq!(
        sandbox
            .api(
                Method::GET,
                "/v1/platforms/me/environments",
                &sandbox.m2m_token("development").await,
                None,
                None
            )
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        sandbox
            .api(
                Method::GET,
                "/v1/platforms/me/environments",
                &sandbox.m2m_token("production").await,
                None,
                None
            )
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn allowlist_entries_are_validated() {
    let sandbox = spawn().await;
    let ben = sandbox.user_token(BEN).await;
    let production = sandbox.environment_id("production");
    let path = format!("/v1/platforms/me/environments/{production}/ip-allowlist");
    let add = |body: Value| sandbox.api(Method::POST, &path, &ben, Some("production"), Some(body));

    let seeded = sandbox.get_json(&path, &ben, Some("production")).await;
    assert_eq!(seeded["total"], 3);
    assert!(
        seeded.to_string().contains("2001:db8:ac3e::/48"),
        "IPv6 is seeded too"
    );

    let host_bits = add(json!({ "cidr": "203.0.113.77/24" })).await;
    assert_eq!(host_bits.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(detail(host_bits).await[0]["msg"]
        .as_str()
        .unwrap()
        .contains("203.0.113.0/24"));
    assert_eq!(
        add(json!({ "cidr": "203.0.113.0/24" })).await.status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        add(json!({ "cidr": "banana" })).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        add(json!({ "cidr": "10.0.0.0/8", "description": "x".repeat(256) }))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let v6 = add(json!({ "cidr": "2001:DB8:1::1" })).await;
    assert_eq!(
        v6.json::<Value>().await.unwrap()["cidr"],
        "2001:db8:1::1/128"
    );

    let entry = seeded["items"][0]["id"].as_str().unwrap();
    let renamed = sandbox
        .api(
            Method::PATCH,
            &format!("{path}/{entry}"),
            &ben,
            Some("production"),
            Some(json!({ "description": "HQ" })),
        )
        .await;
    assert_eq!(renamed.json::<Value>().await.unwrap()["description"], "HQ");
    let staging = sandbox.environment_id("staging");
    let elsewhere = sandbox
        .api(
            Method::DELETE,
            &format!("/v1/platforms/me/environments/{staging}/ip-allowlist/{entry}"),
            &ben,
            Some("production"),
            None,
        )
        .await;
    assert_eq!(
        elsewhere.status(),
        StatusCode::NOT_FOUND,
        "an entry of another environment is not found"
    );

    sandbox.sandbox.state.store.write(|data| {
        let template = data.allowlist[0].clone();
        for index in 0..(500 - 4) {
            data.allowlist
                .push(keystone_sandbox::model::AllowlistEntry {
                    id: uuid::Uuid::new_v4(),
                    cidr: format!("10.{}.{}.0/24", index / 256, index % 256)
                        .parse()
                        .unwrap(),
                    ..template.clone()
                });
        }
    });
    assert_eq!(
        add(json!({ "cidr": "192.0.2.0/24" })).await.status(),
        StatusCode::CONFLICT,
        "500 entries at most"
    );
}

#[tokio::test]
async fn trusted_proxies_forward_the_client_address() {
    let sandbox = spawn_with(keystone_sandbox::SandboxConfig {
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..config()
    })
    .await;
    let ben = sandbox.user_token(BEN).await;
    let m2m = sandbox.m2m_token("staging").await;
    let staging = sandbox.environment_id("staging");
    sandbox
        .api(
            Method::POST,
            &format!("/v1/platforms/me/environments/{staging}/ip-allowlist"),
            &ben,
            Some("staging"),
            Some(json!({ "cidr": "203.0.113.0/24" })),
        )
        .await;
    let call = |forwarded: &'static str| {
        sandbox
            .http
            .get(sandbox.url("/v1/platforms/me/environments"))
            .bearer_auth(&m2m)
            .header("x-forwarded-for", forwarded)
            .send()
    };
    assert_eq!(call("203.0.113.9").await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        call("198.51.100.1").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // A client cannot smuggle an allowed address in front of its own.
    assert_eq!(
        call("203.0.113.9, 198.51.100.1").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_activity_log_records_changes_and_filters_them() {
    let sandbox = spawn().await;
    let ada = sandbox.user_token(ADA).await;
    let staging = sandbox.environment_id("staging");
    let production = sandbox.environment_id("production");
    sandbox
        .api(
            Method::POST,
            &format!("/v1/platforms/me/environments/{staging}/ip-allowlist"),
            &ada,
            Some("staging"),
            Some(json!({ "cidr": "192.0.2.0/24" })),
        )
        .await;
    sandbox
        .api(
            Method::POST,
            &format!("/v1/platforms/me/environments/{production}/ip-allowlist"),
            &ada,
            Some("production"),
            Some(json!({ "cidr": "192.0.2.0/24" })),
        )
        .await;
    sandbox
        .api(
            Method::POST,
            "/v1/platforms/me/invitations",
            &ada,
            Some("staging"),
            Some(json!({ "email": "a@b.example", "role_ids": ["rol_viewer"] })),
        )
        .await;

    let all = sandbox
        .get_json("/v1/activity", &ada, Some("staging"))
        .await;
    assert_eq!(all["total"], 3);
    assert_eq!(
        all["items"][0]["type"], "invitation.created",
        "newest first"
    );
    let entry = &all["items"][2];
    assert_eq!(entry["type"], "ip_allowlist.entry_created");
    assert_eq!(entry["category"], "ip_allowlist");
    assert_eq!(entry["actor_id"], ADA);
    assert_eq!(entry["actor_type"], "user");
    assert_eq!(
        entry["severity"], "warning",
        "the first entry restricts traffic"
    );
    assert_eq!(entry["status_code"], 201);
    assert_eq!(entry["method"], "POST");
    assert_eq!(entry["ip_address"], "127.0.0.1");

    let filtered = sandbox
        .get_json(
            &format!("/v1/activity?environment_id={staging}"),
            &ada,
            Some("staging"),
        )
        .await;
    assert_eq!(filtered["total"], 1);
    assert_eq!(
        sandbox
            .get_json(
                "/v1/activity?type=invitation.created",
                &ada,
                Some("staging")
            )
            .await["total"],
        1
    );
    assert_eq!(
        sandbox
            .get_json(
                "/v1/activity?category=ip_allowlist&search=192.0.2",
                &ada,
                Some("staging")
            )
            .await["total"],
        2
    );
    let today = time::OffsetDateTime::now_utc().date();
    assert_eq!(
        sandbox
            .get_json(
                &format!("/v1/activity?date_from={today}&date_to={today}"),
                &ada,
                Some("staging")
            )
            .await["total"],
        3
    );
    assert_eq!(
        sandbox
            .get_json("/v1/activity?date_to=2020-01-01", &ada, Some("staging"))
            .await["total"],
        0
    );
    let bad_date = sandbox
        .api(
            Method::GET,
            "/v1/activity?date_from=yesterday",
            &ada,
            Some("staging"),
            None,
        )
        .await;
    assert_eq!(bad_date.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let id = entry["id"].as_str().unwrap();
    assert_eq!(
        sandbox
            .get_json(&format!("/v1/activity/{id}"), &ada, Some("staging"))
            .await["id"],
        id
    );
    assert_eq!(
        sandbox
            .api(
                Method::GET,
                &format!("/v1/activity/{}", uuid::Uuid::new_v4()),
                &ada,
                Some("staging"),
                None
            )
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}
