//! The KeyStone API emulator over real HTTP: authentication, environment binding, permissions,
//! every resource's success and error paths, the IP allowlist rule, rate limits and the activity log.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn detail(response: reqwest::Response) -> Value {
    response.json::<Value>().await.unwrap()["detail"].clone()
}

fn rfc3339(instant: time::OffsetDateTime) -> String {
    instant
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
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
        .bearer("eyJhbGciOiJSUzI1NiJ9.e30.c2ln", Some("development"))
        .get("/v1/platforms/me")
        .await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);

    // A token signed by another sandbox's key (another issuer) is refused too.
    let other = spawn().await;
    let foreign = other.user_token(ADA).await;
    assert_eq!(
        sandbox
            .bearer(&foreign, Some("development"))
            .get("/v1/platforms/me")
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
            .bearer(&token, Some("development"))
            .get("/v1/platforms/me")
            .await
            .status(),
        StatusCode::OK
    );
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let expired = sandbox
        .bearer(&token, Some("development"))
        .get("/v1/platforms/me")
        .await;
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(detail(expired).await, "Token has expired");
}

#[tokio::test]
async fn user_tokens_name_an_environment_of_the_platform() {
    let sandbox = spawn().await;
    let token = sandbox.user_token(ADA).await;
    let missing = sandbox.bearer(&token, None).get("/v1/platforms/me").await;
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        sandbox
            .bearer(&token, Some("moon-base"))
            .get("/v1/platforms/me")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let environments = sandbox
        .bearer(&token, Some("development"))
        .get_json("/v1/platforms/me/environments")
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
        .bearer(&token, Some("production"))
        .get("/v1/platforms/me")
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
                .bearer(&token, Some("staging"))
                .get("/v1/platforms/me")
                .await
                .status(),
            StatusCode::OK
        );
    }
    let limited = sandbox
        .bearer(&token, Some("staging"))
        .get("/v1/platforms/me")
        .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(limited.headers()["x-ratelimit-remaining"], "0");
    // The limiter stands in front of the router: a path the API lacks is limited too.
    let nowhere = sandbox
        .bearer(&token, Some("staging"))
        .get("/v1/platforms/me/nowhere")
        .await;
    assert_eq!(nowhere.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(nowhere.headers().contains_key("retry-after"));
    // Limits are per environment.
    assert_eq!(
        sandbox
            .bearer(&token, Some("development"))
            .get("/v1/platforms/me")
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
            .bearer(&viewer, Some("staging"))
            .get("/v1/platforms/me/members")
            .await
            .status(),
        StatusCode::OK
    );
    let refused = sandbox
        .bearer(&viewer, Some("staging"))
        .post(
            "/v1/platforms/me/invitations",
            json!({ "email": "x@y.example", "role_ids": ["rol_viewer"] }),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(detail(refused).await, "Missing permission: members:manage");

    let path = format!("/v1/platforms/me/environments/{staging}/ip-allowlist");
    assert_eq!(
        sandbox
            .bearer(&viewer, Some("staging"))
            .get(&path)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        sandbox
            .bearer(&viewer, Some("staging"))
            .post(&path, json!({ "cidr": "10.0.0.0/8" }))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        sandbox
            .bearer(&developer, Some("staging"))
            .post(&path, json!({ "cidr": "10.0.0.0/8" }))
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        sandbox
            .bearer(&viewer, Some("staging"))
            .get("/v1/activity")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        sandbox
            .bearer(&developer, Some("staging"))
            .patch("/v1/platforms/me", json!({ "name": "x" }))
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
        .bearer(&manager, Some("development"))
        .delete(&format!("/v1/platforms/me/members/{BEN}"))
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        sandbox
            .bearer(&ben, Some("development"))
            .get("/v1/platforms/me")
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
        .bearer(&manager, Some("development"))
        .get_json("/v1/platforms/me")
        .await;
    assert_eq!(platform["name"], "Acme Markets");
    assert_eq!(platform["auth0_org_id"], "org_acme_markets");
    assert_eq!(platform["status"], "active");

    let invalid = sandbox
        .bearer(&manager, Some("development"))
        .patch(
            "/v1/platforms/me",
            json!({ "name": " ", "support_email": "nope", "logo_url": "ftp://x" }),
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
        .bearer(&manager, Some("development"))
        .patch(
            "/v1/platforms/me",
            json!({ "name": "Acme Markets Ltd", "logo_url": null }),
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
        .bearer(&token, None)
        .get("/v1/platforms/me/environments")
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(detail(response).await, "Platform is suspended");
}

/// Access tokens carry `org_id` [doc]: a member's token that names no organization belongs to no
/// platform, and one naming another organization is not this platform's.
#[tokio::test]
async fn a_members_token_must_name_this_platforms_organization() {
    let sandbox = spawn().await;
    let token = sandbox.user_token(BEN).await;
    let resigned = |change: &dyn Fn(&mut Value)| {
        let mut claims = claims(&token);
        change(&mut claims);
        sandbox.sandbox.state.keys.sign(&claims)
    };
    let status = |token: String| {
        let sandbox = &sandbox;
        async move {
            sandbox
                .bearer(&token, Some("development"))
                .get("/v1/platforms/me")
                .await
        }
    };
    let unchanged = status(resigned(&|_| {})).await;
    assert_eq!(
        unchanged.status(),
        StatusCode::OK,
        "the re-signed token is good"
    );

    let without = status(resigned(&|claims| {
        claims.as_object_mut().unwrap().remove("org_id");
    }))
    .await;
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    assert_eq!(detail(without).await, "The token names no organization");

    let other = status(resigned(&|claims| claims["org_id"] = json!("org_globex"))).await;
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn environments_are_created_updated_deactivated_and_reactivated() {
    let sandbox = spawn().await;
    let developer = sandbox.user_token(BEN).await;
    let in_development = sandbox.bearer(&developer, Some("development"));
    let create = |body: Value| in_development.post("/v1/platforms/me/environments", body);

    let invalid = create(json!({ "name": "", "slug": "QA Env", "auth0_client_id": "", "default_timeout_seconds": 5 })).await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(detail(invalid).await.as_array().unwrap().len(), 4);
    let missing = create(json!({ "name": "QA" })).await;
    assert_eq!(
        missing.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "missing required fields are a 422, not a 400"
    );
    // FastAPI's words for a field left out and a field of the wrong type: each names its field.
    assert_eq!(
        detail(missing).await[0],
        json!({ "loc": ["body", "slug"], "msg": "Field required", "type": "missing" })
    );
    let mistyped = create(json!({ "name": 5, "slug": "qa", "auth0_client_id": "x" })).await;
    assert_eq!(mistyped.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        detail(mistyped).await[0],
        json!({ "loc": ["body", "name"], "msg": "Input should be a valid string", "type": "string_type" })
    );
    let unparsable = create(json!({ "name": "QA", "slug": "qa", "auth0_client_id": "x", "default_timeout_seconds": "soon" })).await;
    assert_eq!(
        detail(unparsable).await[0],
        json!({ "loc": ["body", "default_timeout_seconds"], "msg": "Input should be a valid integer, unable to parse string as an integer", "type": "int_parsing" })
    );
    let fractional = create(json!({ "name": "QA", "slug": "qa", "auth0_client_id": "x", "default_timeout_seconds": 90.5 })).await;
    assert_eq!(detail(fractional).await[0]["type"], "int_from_float");
    // A body is a model: an array is not read as its fields in order, and null is no body.
    let fields_in_order = create(json!(["QA", "qa", "sandbox-m2m-qa", null, null])).await;
    assert_eq!(fields_in_order.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        detail(fields_in_order).await[0],
        json!({ "loc": ["body"], "msg": "Input should be a valid dictionary or object to extract fields from", "type": "model_attributes_type" })
    );
    let null = create(Value::Null).await;
    assert_eq!(null.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(detail(null).await[0]["type"], "missing");
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
    let renamed = in_development
        .patch(&path, json!({ "name": "Quality", "rate_limit_rpm": 60 }))
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    assert_eq!(renamed.json::<Value>().await.unwrap()["rate_limit_rpm"], 60);
    let slug_change = in_development
        .patch(&path, json!({ "slug": "other" }))
        .await;
    assert_eq!(slug_change.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(detail(slug_change).await[0]["loc"], json!(["body", "slug"]));
    // A client that sends the record back as it read it changes nothing it may not change:
    // the slug and client id it never changes are accepted unchanged.
    let sent_back = in_development
        .patch(
            &path,
            json!({ "slug": "qa", "auth0_client_id": "sandbox-m2m-qa", "name": "Quality" }),
        )
        .await;
    assert_eq!(sent_back.status(), StatusCode::OK);
    let client_change = in_development
        .patch(&path, json!({ "auth0_client_id": "another" }))
        .await;
    assert_eq!(client_change.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The new environment's M2M client works at once...
    let m2m = sandbox.m2m_token("qa").await;
    assert_eq!(
        sandbox
            .bearer(&m2m, None)
            .get("/v1/platforms/me/environments")
            .await
            .status(),
        StatusCode::OK
    );
    // ...until it is deactivated (data kept, credentials blocked)...
    let deactivated = in_development.delete(&path).await;
    assert_eq!(deactivated.status(), StatusCode::OK);
    assert_eq!(
        deactivated.json::<Value>().await.unwrap()["is_active"],
        false
    );
    let blocked = sandbox
        .bearer(&m2m, None)
        .get("/v1/platforms/me/environments")
        .await;
    assert_eq!(blocked.status(), StatusCode::FORBIDDEN);
    assert_eq!(detail(blocked).await, "Environment is deactivated");
    assert_eq!(in_development.get_json(&path).await["name"], "Quality");
    // ...and works again once reactivated.
    let reactivated = in_development
        .patch(&path, json!({ "is_active": true }))
        .await;
    assert_eq!(reactivated.status(), StatusCode::OK);
    assert_eq!(
        sandbox
            .bearer(&m2m, None)
            .get("/v1/platforms/me/environments")
            .await
            .status(),
        StatusCode::OK
    );

    assert_eq!(
        in_development
            .get("/v1/platforms/me/environments/not-a-uuid")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let kinds: Vec<String> = in_development
        .get_json(&format!("/v1/activity?resource_id={id}"))
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
        .bearer(&token, Some("development"))
        .get_json("/v1/platforms/me/members?limit=100&offset=250")
        .await;
    assert_eq!(page["total"], 312);
    assert_eq!(page["limit"], 100);
    assert_eq!(page["offset"], 250);
    assert_eq!(page["items"].as_array().unwrap().len(), 62);
    let default = sandbox
        .bearer(&token, Some("development"))
        .get_json("/v1/platforms/me/members")
        .await;
    assert_eq!(default["items"].as_array().unwrap().len(), 50);

    for query in ["limit=0", "limit=101", "limit=abc", "offset=-1"] {
        let response = sandbox
            .bearer(&token, Some("development"))
            .get(&format!("/v1/platforms/me/members?{query}"))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}"
        );
        assert_eq!(detail(response).await[0]["loc"][0], "query");
    }

    // A name given twice takes its last value, as FastAPI reads a query; never a plain-text 400.
    let twice = sandbox
        .bearer(&token, Some("development"))
        .get_json("/v1/platforms/me/members?limit=10&limit=20&search=a&search=o")
        .await;
    assert_eq!(twice["limit"], 20);
    let log = sandbox
        .bearer(&token, Some("development"))
        .get("/v1/activity?type=a&type=b&limit=5&limit=6")
        .await;
    assert_eq!(log.status(), StatusCode::OK);
    let log: serde_json::Value = log.json().await.unwrap();
    assert_eq!(log["limit"], 6);
}

#[tokio::test]
async fn members_can_be_searched_changed_and_removed_within_the_guardrails() {
    let sandbox = spawn().await;
    let ada = sandbox.user_token(ADA).await;
    let env = Some("development");
    let member_path = |user: &str| format!("/v1/platforms/me/members/{user}");

    let found = sandbox
        .bearer(&ada, env)
        .get_json("/v1/platforms/me/members?search=CHLO")
        .await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["email"], "chloe@acme-markets.example");
    assert_eq!(
        sandbox
            .bearer(&ada, env)
            .get_json("/v1/platforms/me/members?search=acme-markets.example")
            .await["total"],
        12
    );
    // A page of a search is that stretch of the whole search, in the list's order: the search's
    // matches ("o" in a name or address: seven of the twelve) lie between members it skips.
    let emails = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|member| member["email"].as_str().unwrap().to_owned())
            .collect()
    };
    let matches = sandbox
        .bearer(&ada, env)
        .get_json("/v1/platforms/me/members?search=o&limit=100")
        .await;
    assert_eq!(matches["total"], 7, "{matches}");
    let second_page = sandbox
        .bearer(&ada, env)
        .get_json("/v1/platforms/me/members?search=o&limit=2&offset=2")
        .await;
    assert_eq!(second_page["total"], 7);
    assert_eq!(emails(&second_page), emails(&matches)[2..4]);

    let own = sandbox
        .bearer(&ada, env)
        .patch(&member_path(ADA), json!({ "role_ids": ["rol_viewer"] }))
        .await;
    assert_eq!(own.status(), StatusCode::FORBIDDEN, "not your own roles");
    let unknown = sandbox
        .bearer(&ada, env)
        .patch(
            &member_path(BEN),
            json!({ "role_ids": ["rol_developer", "rol_astronaut"] }),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        detail(unknown).await[0]["loc"],
        json!(["body", "role_ids", 1])
    );
    let nobody = sandbox
        .bearer(&ada, env)
        .patch(
            &member_path("auth0|nobody"),
            json!({ "role_ids": ["rol_viewer"] }),
        )
        .await;
    assert_eq!(nobody.status(), StatusCode::NOT_FOUND);

    let changed = sandbox
        .bearer(&ada, env)
        .patch(
            &member_path(BEN),
            json!({ "role_ids": ["rol_viewer", "rol_compliance_officer", "rol_viewer"] }),
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
        .bearer(&ada, env)
        .patch(
            &member_path(GRACE),
            json!({ "role_ids": ["rol_developer"] }),
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
    let remove_last = sandbox.bearer(&grace, env).delete(&member_path(ADA)).await;
    assert_eq!(
        remove_last.status(),
        StatusCode::CONFLICT,
        "the last Platform Manager cannot be removed"
    );
    let demote_last = sandbox
        .bearer(&grace, env)
        .patch(&member_path(ADA), json!({ "role_ids": ["rol_viewer"] }))
        .await;
    assert_eq!(
        demote_last.status(),
        StatusCode::CONFLICT,
        "nor lose the role"
    );
    assert_eq!(
        sandbox
            .bearer(&grace, env)
            .delete(&member_path(GRACE))
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "not yourself"
    );

    assert_eq!(
        sandbox
            .bearer(&grace, env)
            .delete(&member_path(BEN))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        sandbox
            .bearer(&grace, env)
            .delete(&member_path(BEN))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sandbox
            .bearer(&ada, env)
            .get_json("/v1/platforms/me/members")
            .await["total"],
        11
    );

    let roles = sandbox
        .bearer(&ada, env)
        .get_json("/v1/platforms/me/roles")
        .await;
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
    let ada_in_staging = sandbox.bearer(&ada, env);
    let invite = |body: Value| ada_in_staging.post("/v1/platforms/me/invitations", body);

    let seeded = sandbox
        .bearer(&ada, env)
        .get_json("/v1/platforms/me/invitations")
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
        .bearer(&ada, env)
        .get_json("/v1/platforms/me/invitations")
        .await;
    assert_eq!(listed["total"], 3);
    assert_eq!(listed["items"][0]["id"], created["id"], "newest first");

    let path = format!(
        "/v1/platforms/me/invitations/{}",
        created["id"].as_str().unwrap()
    );
    assert_eq!(
        sandbox.bearer(&ada, env).delete(&path).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        sandbox.bearer(&ada, env).delete(&path).await.status(),
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
    let client = sandbox.bearer(&m2m, None);
    let m2m_call = || client.get("/v1/platforms/me/environments");

    assert_eq!(
        m2m_call().await.status(),
        StatusCode::OK,
        "an empty list allows everyone"
    );

    let first = sandbox
        .bearer(&ben, Some("staging"))
        .post(
            &path,
            json!({ "cidr": "203.0.113.0/24", "description": "office" }),
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
            .bearer(&ben, Some("staging"))
            .get("/v1/platforms/me")
            .await
            .status(),
        StatusCode::OK
    );

    let loopback = sandbox
        .bearer(&ben, Some("staging"))
        .post(&path, json!({ "cidr": "127.0.0.1" }))
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
            .bearer(&ben, Some("staging"))
            .delete(&format!("{path}/{}", entry["id"].as_str().unwrap()))
            .await;
        assert_eq!(delete.status(), StatusCode::NO_CONTENT);
    }
    sandbox
        .bearer(&ben, Some("staging"))
        .post(&path, json!({ "cidr": "198.51.100.0/24" }))
        .await;
    assert_eq!(m2m_call().await.status(), StatusCode::FORBIDDEN);
    let remaining: Value = sandbox.bearer(&ben, Some("staging")).get_json(&path).await;
    let last = remaining["items"][0]["id"].as_str().unwrap();
    sandbox
        .bearer(&ben, Some("staging"))
        .delete(&format!("{path}/{last}"))
        .await;
    assert_eq!(
        m2m_call().await.status(),
        StatusCode::OK,
        "removing the last entry opens the environment again"
    );

    // Other environments are unaffected by staging's list; production's seeded list excludes loopback.
    assert_eq!(
        sandbox
            .bearer(&sandbox.m2m_token("development").await, None)
            .get("/v1/platforms/me/environments")
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        sandbox
            .bearer(&sandbox.m2m_token("production").await, None)
            .get("/v1/platforms/me/environments")
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
    let ben_in_production = sandbox.bearer(&ben, Some("production"));
    let add = |body: Value| ben_in_production.post(&path, body);

    let seeded = sandbox
        .bearer(&ben, Some("production"))
        .get_json(&path)
        .await;
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
        .bearer(&ben, Some("production"))
        .patch(&format!("{path}/{entry}"), json!({ "description": "HQ" }))
        .await;
    assert_eq!(renamed.json::<Value>().await.unwrap()["description"], "HQ");
    let staging = sandbox.environment_id("staging");
    let elsewhere = sandbox
        .bearer(&ben, Some("production"))
        .delete(&format!(
            "/v1/platforms/me/environments/{staging}/ip-allowlist/{entry}"
        ))
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
        .bearer(&ben, Some("staging"))
        .post(
            &format!("/v1/platforms/me/environments/{staging}/ip-allowlist"),
            json!({ "cidr": "203.0.113.0/24" }),
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
    let seeded = sandbox.sandbox.state.store.read(|data| data.activity.len());
    // Only the changes made below, not the seeded system entries.
    let since = format!("date_from={}", rfc3339(time::OffsetDateTime::now_utc()));
    sandbox
        .bearer(&ada, Some("staging"))
        .post(
            &format!("/v1/platforms/me/environments/{staging}/ip-allowlist"),
            json!({ "cidr": "192.0.2.0/24" }),
        )
        .await;
    sandbox
        .bearer(&ada, Some("production"))
        .post(
            &format!("/v1/platforms/me/environments/{production}/ip-allowlist"),
            json!({ "cidr": "192.0.2.0/24" }),
        )
        .await;
    sandbox
        .bearer(&ada, Some("staging"))
        .post(
            "/v1/platforms/me/invitations",
            json!({ "email": "a@b.example", "role_ids": ["rol_viewer"] }),
        )
        .await;

    let all = sandbox
        .bearer(&ada, Some("staging"))
        .get_json("/v1/activity")
        .await;
    assert_eq!(all["total"], seeded + 3);
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
        .bearer(&ada, Some("staging"))
        .get_json(&format!("/v1/activity?environment_id={staging}&{since}"))
        .await;
    assert_eq!(filtered["total"], 1);
    assert_eq!(
        sandbox
            .bearer(&ada, Some("staging"))
            .get_json("/v1/activity?type=invitation.created")
            .await["total"],
        1
    );
    assert_eq!(
        sandbox
            .bearer(&ada, Some("staging"))
            .get_json("/v1/activity?category=ip_allowlist&search=192.0.2")
            .await["total"],
        2
    );
    let today = time::OffsetDateTime::now_utc().date();
    assert_eq!(
        sandbox
            .bearer(&ada, Some("staging"))
            .get_json(&format!(
                "/v1/activity?{since}&date_to={today}T23:59:59.999999Z"
            ))
            .await["total"],
        3
    );
    assert_eq!(
        sandbox
            .bearer(&ada, Some("staging"))
            .get_json("/v1/activity?date_to=2020-01-01")
            .await["total"],
        0
    );
    let bad_date = sandbox
        .bearer(&ada, Some("staging"))
        .get("/v1/activity?date_from=yesterday")
        .await;
    assert_eq!(bad_date.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let id = entry["id"].as_str().unwrap();
    assert_eq!(
        sandbox
            .bearer(&ada, Some("staging"))
            .get_json(&format!("/v1/activity/{id}"))
            .await["id"],
        id
    );
    assert_eq!(
        sandbox
            .bearer(&ada, Some("staging"))
            .get(&format!("/v1/activity/{}", uuid::Uuid::new_v4()))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

// --- The published facts the sandbox enforces, and the switches for what is unpublished. ---

#[tokio::test]
async fn the_environment_header_is_required_on_every_user_call_the_list_included() {
    let sandbox = spawn().await;
    let token = sandbox.user_token(ADA).await;
    let missing = sandbox
        .bearer(&token, None)
        .get("/v1/platforms/me/environments")
        .await;
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        missing.json::<Value>().await.unwrap(),
        json!({ "detail": [{ "loc": ["header", "x-keystone-environment"], "msg": "Field required", "type": "missing" }] }),
        "FastAPI's answer to a missing required header"
    );
    let unknown = sandbox
        .bearer(&token, Some("moon-base"))
        .get("/v1/platforms/me/environments")
        .await;
    assert_eq!(unknown.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        sandbox
            .bearer(&token, None)
            .get("/v1/activity")
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // A deactivated environment is still accepted from users: that is how it gets reactivated.
    let staging = sandbox.environment_id("staging");
    let path = format!("/v1/platforms/me/environments/{staging}");
    let deactivated = sandbox.bearer(&token, Some("staging")).delete(&path).await;
    assert_eq!(deactivated.status(), StatusCode::OK);
    let reactivated = sandbox
        .bearer(&token, Some("staging"))
        .patch(&path, json!({ "is_active": true }))
        .await;
    assert_eq!(reactivated.status(), StatusCode::OK);

    // M2M tokens name their environment by their client id and need no header.
    let m2m = sandbox.m2m_token("development").await;
    assert_eq!(
        sandbox
            .bearer(&m2m, None)
            .get("/v1/platforms/me/environments")
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn each_list_bounds_its_limit() {
    let sandbox = spawn().await;
    let token = sandbox.user_token(ADA).await;
    let production = sandbox.environment_id("production");
    let allowlist = format!("/v1/platforms/me/environments/{production}/ip-allowlist");
    let status = |path: String| {
        let token = token.clone();
        let sandbox = &sandbox;
        async move {
            let response = sandbox.bearer(&token, Some("production")).get(&path).await;
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    for list in [
        "/v1/platforms/me/environments",
        "/v1/platforms/me/members",
        "/v1/platforms/me/roles",
        "/v1/platforms/me/invitations",
        allowlist.as_str(),
    ] {
        let (ok, page) = status(format!("{list}?limit=100")).await;
        assert_eq!(ok, StatusCode::OK, "{list}");
        assert_eq!(page["limit"], 100);
        let (refused, body) = status(format!("{list}?limit=101")).await;
        assert_eq!(refused, StatusCode::UNPROCESSABLE_ENTITY, "{list}");
        assert_eq!(body["detail"][0]["loc"], json!(["query", "limit"]));
        assert_eq!(body["detail"][0]["type"], "less_than_equal");
    }
    let (ok, page) = status("/v1/activity?limit=200".to_owned()).await;
    assert_eq!(ok, StatusCode::OK);
    assert_eq!(page["limit"], 200);
    let (refused, body) = status("/v1/activity?limit=201".to_owned()).await;
    assert_eq!(refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"][0]["loc"], json!(["query", "limit"]));
    let (default, page) = status("/v1/platforms/me/members".to_owned()).await;
    assert_eq!(default, StatusCode::OK);
    assert_eq!(page["limit"], 50);
}

#[tokio::test]
async fn default_timeout_seconds_is_never_null() {
    let sandbox = spawn().await;
    let developer = sandbox.user_token(BEN).await;
    let call = |method: Method, path: String, body: Value| {
        let developer = developer.clone();
        let sandbox = &sandbox;
        async move {
            sandbox
                .bearer(&developer, Some("development"))
                .send(method, &path, Some(body))
                .await
        }
    };
    let environments = "/v1/platforms/me/environments".to_owned();

    let null_on_create = call(
        Method::POST,
        environments.clone(),
        json!({ "name": "QA", "slug": "qa", "auth0_client_id": "sandbox-m2m-qa", "default_timeout_seconds": null }),
    )
    .await;
    assert_eq!(null_on_create.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let errors = detail(null_on_create).await;
    assert_eq!(errors[0]["loc"], json!(["body", "default_timeout_seconds"]));
    assert_eq!(errors.as_array().unwrap().len(), 1);

    // Other nullable fields still take an explicit null on create, as the Python SDK sends them.
    let created = call(
        Method::POST,
        environments,
        json!({ "name": "QA", "slug": "qa", "auth0_client_id": "sandbox-m2m-qa", "webhook_url": null, "webhook_secret": null }),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(
        created["default_timeout_seconds"], 3600,
        "omitted means 3600"
    );
    let path = format!(
        "/v1/platforms/me/environments/{}",
        created["id"].as_str().unwrap()
    );

    let null_on_update = call(
        Method::PATCH,
        path.clone(),
        json!({ "default_timeout_seconds": null }),
    )
    .await;
    assert_eq!(null_on_update.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        detail(null_on_update).await[0]["loc"],
        json!(["body", "default_timeout_seconds"])
    );
    let changed = call(
        Method::PATCH,
        path.clone(),
        json!({ "default_timeout_seconds": 120 }),
    )
    .await;
    assert_eq!(
        changed.json::<Value>().await.unwrap()["default_timeout_seconds"],
        120
    );
    let untouched = call(Method::PATCH, path, json!({ "name": "Quality" })).await;
    assert_eq!(
        untouched.json::<Value>().await.unwrap()["default_timeout_seconds"],
        120,
        "omitted on update leaves it unchanged"
    );
}

#[tokio::test]
async fn seeded_system_entries_carry_nulls_and_no_entry_names_its_environment() {
    let sandbox = spawn().await;
    let ada = sandbox.user_token(ADA).await;
    // One entry made by a person, to check that user entries carry no environment either.
    sandbox
        .bearer(&ada, Some("development"))
        .patch("/v1/platforms/me", json!({ "name": "Acme Markets" }))
        .await;
    let page = sandbox
        .bearer(&ada, Some("development"))
        .get_json("/v1/activity?limit=200")
        .await;
    let entries = page["items"].as_array().unwrap();
    let system: Vec<&Value> = entries
        .iter()
        .filter(|entry| entry["actor_type"] == "system")
        .collect();
    assert!(system.len() >= 3, "{page}");
    let categories: Vec<&str> = system
        .iter()
        .map(|entry| entry["category"].as_str().unwrap())
        .collect();
    for category in ["settlement", "compliance", "system"] {
        assert!(categories.contains(&category), "{categories:?}");
    }
    for entry in &system {
        for field in [
            "actor_id",
            "method",
            "path",
            "status_code",
            "ip_address",
            "user_agent",
            "duration_ms",
        ] {
            assert!(
                entry.get(field).is_some_and(Value::is_null),
                "{field} is sent as null: {entry}"
            );
        }
        for field in [
            "id",
            "type",
            "category",
            "severity",
            "description",
            "created_at",
        ] {
            assert!(entry[field].is_string(), "{field} is always set: {entry}");
        }
    }
    assert!(
        system
            .iter()
            .any(|entry| entry["resource_type"].is_null() && entry["detail"].is_null()),
        "some have no resource and no detail either"
    );
    for entry in entries {
        assert!(
            entry.get("environment_id").is_none() && entry.get("environment").is_none(),
            "an entry does not say its environment: {entry}"
        );
    }

    // The environment is still known to the filter: the seeded entries are spread over them.
    for slug in ["development", "staging", "production"] {
        let id = sandbox.environment_id(slug);
        let filtered = sandbox
            .bearer(&ada, Some("development"))
            .get_json(&format!("/v1/activity?environment_id={id}"))
            .await;
        assert!(
            filtered["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|entry| entry["actor_type"] == "system"),
            "{slug} has system entries"
        );
    }
    let one = system[0]["id"].as_str().unwrap();
    let shown = sandbox
        .bearer(&ada, Some("development"))
        .get_json(&format!("/v1/activity/{one}"))
        .await;
    assert!(shown["actor_id"].is_null() && shown.get("environment_id").is_none());
}

#[tokio::test]
async fn activity_date_bounds_are_inclusive_date_times_or_dates_meaning_midnight() {
    let sandbox = spawn().await;
    let ada = sandbox.user_token(ADA).await;
    let since = rfc3339(time::OffsetDateTime::now_utc());
    sandbox
        .bearer(&ada, Some("development"))
        .post(
            "/v1/platforms/me/invitations",
            json!({ "email": "dates@example.com", "role_ids": ["rol_viewer"] }),
        )
        .await;
    let total = |query: String| {
        let ada = ada.clone();
        let sandbox = &sandbox;
        async move {
            sandbox
                .bearer(&ada, Some("development"))
                .get_json(&format!("/v1/activity?{query}"))
                .await["total"]
                .as_u64()
                .unwrap()
        }
    };
    let today = time::OffsetDateTime::now_utc().date();
    assert_eq!(
        total(format!(
            "date_from={since}&date_to={today}T23:59:59.999999Z"
        ))
        .await,
        1,
        "a date-time at the end of the day includes that day"
    );
    assert_eq!(
        total(format!("date_from={since}&date_to={today}")).await,
        0,
        "a plain date means its midnight"
    );
    assert_eq!(
        total(format!("date_from={today}&type=invitation.created")).await,
        1
    );

    // Both bounds are inclusive: an entry's own instant finds it.
    let newest = sandbox
        .bearer(&ada, Some("development"))
        .get_json("/v1/activity?limit=1")
        .await;
    let instant = newest["items"][0]["created_at"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        total(format!("date_from={instant}&date_to={instant}")).await,
        1
    );

    for invalid in [
        "yesterday",
        "2026-13-01",
        "16/03/2026",
        "2026-03-16T25:00:00Z",
    ] {
        let response = sandbox
            .bearer(&ada, Some("development"))
            .get(&format!("/v1/activity?date_to={invalid}"))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{invalid}"
        );
        assert_eq!(
            detail(response).await[0]["loc"],
            json!(["query", "date_to"])
        );
    }
}

#[tokio::test]
async fn roles_can_be_served_without_permissions_as_auth0_organization_roles_are() {
    let sandbox = spawn_with(keystone_sandbox::SandboxConfig {
        roles_without_permissions: true,
        ..config()
    })
    .await;
    let ada = sandbox.user_token(ADA).await;
    let env = Some("development");
    let only_id_name_description = |role: &Value| {
        let mut keys: Vec<&String> = role.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["description", "id", "name"], "{role}");
    };
    let roles = sandbox
        .bearer(&ada, env)
        .get_json("/v1/platforms/me/roles")
        .await;
    assert_eq!(roles["total"], 4);
    roles["items"]
        .as_array()
        .unwrap()
        .iter()
        .for_each(only_id_name_description);
    let members = sandbox
        .bearer(&ada, env)
        .get_json("/v1/platforms/me/members")
        .await;
    for member in members["items"].as_array().unwrap() {
        member["roles"]
            .as_array()
            .unwrap()
            .iter()
            .for_each(only_id_name_description);
    }
    let changed = sandbox
        .bearer(&ada, env)
        .patch(
            &format!("/v1/platforms/me/members/{BEN}"),
            json!({ "role_ids": ["rol_viewer"] }),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    only_id_name_description(&changed.json::<Value>().await.unwrap()["roles"][0]);

    // Permissions are still enforced: only the reply hides them.
    let viewer = sandbox.user_token(DMITRI).await;
    assert_eq!(
        sandbox
            .bearer(&viewer, env)
            .get("/v1/activity")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn invitation_roles_can_be_served_as_role_ids() {
    let sandbox = spawn_with(keystone_sandbox::SandboxConfig {
        invitation_roles_as_ids: true,
        ..config()
    })
    .await;
    let ada = sandbox.user_token(ADA).await;
    let env = Some("development");
    let listed = sandbox
        .bearer(&ada, env)
        .get_json("/v1/platforms/me/invitations")
        .await;
    let roles: Vec<&Value> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|invitation| &invitation["roles"])
        .collect();
    assert_eq!(roles, [&json!(["rol_viewer"]), &json!(["rol_developer"])]);
    let created = sandbox
        .bearer(&ada, env)
        .post(
            "/v1/platforms/me/invitations",
            json!({ "email": "ids@example.com", "role_ids": ["rol_developer", "rol_viewer"] }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(
        created.json::<Value>().await.unwrap()["roles"],
        json!(["rol_developer", "rol_viewer"])
    );
}

#[tokio::test]
async fn a_removed_route_answers_fastapis_not_found() {
    let sandbox = spawn_with(keystone_sandbox::SandboxConfig {
        removed_routes: vec![
            "GET /v1/platforms/me/roles".parse().unwrap(),
            "GET /v1/platforms/me/environments/{environment_id}/ip-allowlist"
                .parse()
                .unwrap(),
        ],
        ..config()
    })
    .await;
    let ada = sandbox.user_token(ADA).await;
    let env = Some("production");
    let production = sandbox.environment_id("production");
    let allowlist = format!("/v1/platforms/me/environments/{production}/ip-allowlist");
    // A path the API never had answers the same 404. Every one of them still carries the
    // headers that every reply carries [doc], counted against the caller's environment.
    let mut last_remaining = u32::MAX;
    for path in [
        "/v1/platforms/me/roles",
        allowlist.as_str(),
        "/v1/platforms/me/nowhere",
    ] {
        let removed = sandbox.bearer(&ada, env).get(path).await;
        assert_eq!(removed.status(), StatusCode::NOT_FOUND, "{path}");
        let headers = removed.headers();
        assert_eq!(headers["x-ratelimit-limit"], "1200", "{path}");
        let remaining: u32 = headers["x-ratelimit-remaining"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            remaining < last_remaining,
            "{path}: each call counts ({remaining})"
        );
        last_remaining = remaining;
        assert!(headers.contains_key("x-ratelimit-reset"), "{path}");
        assert_eq!(headers["keystone-version"], "0.1.0", "{path}");
        assert_eq!(
            removed.json::<Value>().await.unwrap(),
            json!({ "detail": "Not Found" })
        );
    }
    // Other methods and other routes are untouched.
    assert_eq!(
        sandbox
            .bearer(&ada, env)
            .post(&allowlist, json!({ "cidr": "192.0.2.0/24" }))
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        sandbox
            .bearer(&ada, env)
            .get("/v1/platforms/me/members")
            .await
            .status(),
        StatusCode::OK
    );

    // Also at run time, through the control endpoint.
    sandbox
        .set_faults(json!({ "removed_routes": ["GET /v1/platforms/me/members"] }))
        .await;
    assert_eq!(
        sandbox
            .bearer(&ada, env)
            .get("/v1/platforms/me/members")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sandbox
            .bearer(&ada, env)
            .get("/v1/platforms/me/roles")
            .await
            .status(),
        StatusCode::OK,
        "the run-time faults replace the start-time ones"
    );
    let invalid = sandbox
        .http
        .put(sandbox.url("/_sandbox/faults"))
        .json(&json!({ "removed_routes": ["members"] }))
        .send()
        .await
        .unwrap();
    assert!(invalid.status().is_client_error());
}

#[tokio::test]
async fn an_m2m_clients_calls_are_logged_with_their_address_in_their_environment() {
    let sandbox = spawn().await;
    let m2m = sandbox.m2m_token("staging").await;
    let staging = sandbox.environment_id("staging");
    let called = sandbox
        .bearer(&m2m, None)
        .get("/v1/platforms/me/environments")
        .await;
    assert_eq!(called.status(), StatusCode::OK);

    let ada = sandbox.user_token(ADA).await;
    let log = sandbox
        .bearer(&ada, Some("staging"))
        .get_json(&format!(
            "/v1/activity?environment_id={staging}&type=api.request"
        ))
        .await;
    let entry = &log["items"][0];
    assert_eq!(entry["actor_type"], "m2m");
    assert_eq!(entry["actor_id"], "sandbox-m2m-staging");
    assert_eq!(entry["ip_address"], "127.0.0.1");
    assert_eq!(entry["method"], "GET");
    assert_eq!(entry["path"], "/v1/platforms/me/environments");
    assert_eq!(entry["status_code"], 200);
    // A member's own reads are not logged, and the call belongs to staging only.
    let development = sandbox.environment_id("development");
    let elsewhere = sandbox
        .bearer(&ada, Some("development"))
        .get_json(&format!(
            "/v1/activity?environment_id={development}&type=api.request"
        ))
        .await;
    assert_eq!(elsewhere["total"], 0, "{elsewhere}");
}

#[tokio::test]
async fn the_onboarding_control_sets_what_the_platform_reports() {
    let sandbox = spawn().await;
    let ada = sandbox.as_user(ADA, "development").await;
    let completed = |platform: &Value| !platform["onboarding_completed_at"].is_null();
    assert!(
        completed(&ada.get_json("/v1/platforms/me").await),
        "seeded done"
    );
    for done in [false, true] {
        let reply = sandbox
            .http
            .put(sandbox.url("/_sandbox/onboarding"))
            .json(&json!({ "completed": done }))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::NO_CONTENT);
        assert_eq!(completed(&ada.get_json("/v1/platforms/me").await), done);
    }
}
