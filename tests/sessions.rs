//! Tokens under load and across processes: single-flight refresh (one replica and two replicas on a
//! real Redis) and sessions that survive a dashboard restart.

mod common;

use std::time::{Duration, Instant};

use common::{
    reserve_port, reset_sandbox_stats, sandbox_stats, spawn_app, spawn_sandbox,
    two_replicas_on_redis, Browser, RedisServer, TestApp, TestAppBuilder, ADA, SESSION_COOKIE,
};
use futures::future::join_all;
use keystone_dashboard::{api::LoadShell, server::SessionStoreKind};
use reqwest::StatusCode;
use serde_json::json;

/// Access tokens last this long in these tests; the BFF refreshes when less than the margin is left.
const TOKEN_TTL: i64 = 6;
const REFRESH_MARGIN: u64 = 2;
const CONCURRENT_REQUESTS: usize = 100;

/// A data folder of this test's own (`keystone-<label>-<pid>` under the temp folder), emptied of
/// what an earlier run left.
fn fresh_dir(label: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("keystone-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Waits until the access token issued at `signed_in_at` is inside the refresh margin.
async fn until_refresh_is_due(signed_in_at: Instant) {
    let due = Duration::from_secs((TOKEN_TTL as u64) - REFRESH_MARGIN) + Duration::from_millis(500);
    tokio::time::sleep(due.saturating_sub(signed_in_at.elapsed())).await;
}

/// Makes the provider's token endpoint as slow as a real one far away, so the requests of the storm
/// overlap the refresh: without single flight, every one of them would refresh too.
async fn slow_token_endpoint(sandbox_url: &str) {
    common::set_faults(
        sandbox_url,
        serde_json::json!({ "rules": [{ "path_prefix": "/oauth/token", "action": { "kind": "delay", "ms": 400 } }] }),
    )
    .await;
}

/// Fires the general settings' server function (two KeyStone API calls each, never remembered:
/// the platform and the environments) from every browser at once.
async fn storm(browsers: &[Browser]) -> Vec<StatusCode> {
    let calls = (0..CONCURRENT_REQUESTS).map(|index| {
        let browser = &browsers[index % browsers.len()];
        async move { browser.server_fn("settings/general", &[]).await.0 }
    });
    join_all(calls).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_requests_at_expiry_cause_exactly_one_refresh() {
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.access_token_ttl_seconds = TOKEN_TTL)
        .config(|config| config.token_refresh_margin_seconds = REFRESH_MARGIN)
        .spawn()
        .await;
    let browser = app.browser();
    browser.sign_in().await;
    let signed_in_at = Instant::now();
    until_refresh_is_due(signed_in_at).await;
    reset_sandbox_stats(&app.sandbox_url).await;
    slow_token_endpoint(&app.sandbox_url).await;

    let statuses = storm(std::slice::from_ref(&browser)).await;
    assert!(
        statuses.iter().all(|status| *status == StatusCode::OK),
        "{statuses:?}"
    );
    let stats = sandbox_stats(&app.sandbox_url).await;
    assert_eq!(stats["grants"]["refresh_token"], 1, "{stats}");
    assert!(
        stats["api_requests"].as_u64().unwrap() >= 2 * CONCURRENT_REQUESTS as u64,
        "{stats}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_sharing_redis_refresh_once_and_share_the_session() {
    let redis = RedisServer::start().await;
    // Both replicas stand behind one public URL, as behind a load balancer.
    let public = reserve_port();
    let sandbox = spawn_sandbox(&public.1, |sandbox| {
        sandbox.access_token_ttl_seconds = TOKEN_TTL
    })
    .await;
    let (first, second) = two_replicas_on_redis(&redis, &sandbox, public, |config| {
        config.token_refresh_margin_seconds = REFRESH_MARGIN;
    })
    .await;
    let second_addr = second.addr_url.clone();

    let browser = first.browser();
    browser.sign_in().await;
    let signed_in_at = Instant::now();
    let cookie = browser.session_cookie().unwrap();
    let keys = redis.keys();
    assert!(!keys.is_empty());
    assert!(
        keys.iter().all(|key| !key.contains(&cookie)),
        "a session record is stored under the hash of its id, not the cookie's value: {keys:?}"
    );
    let via_second = browser.via(&second_addr);
    let (status, session) = via_second.server_fn("session", &[]).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the other replica knows the session: {session}"
    );

    until_refresh_is_due(signed_in_at).await;
    reset_sandbox_stats(&sandbox.base_url()).await;
    slow_token_endpoint(&sandbox.base_url()).await;
    let statuses = storm(&[browser.via(&first.base_url), browser.via(&second_addr)]).await;
    assert!(
        statuses.iter().all(|status| *status == StatusCode::OK),
        "{statuses:?}"
    );
    let stats = sandbox_stats(&sandbox.base_url()).await;
    assert_eq!(stats["grants"]["refresh_token"], 1, "{stats}");
}

/// A replayed callback on another replica that loaded the session before the first callback
/// saved (the replicas' saves do not take turns): the record it loaded still holds the login. The
/// state is claimed once across the replicas, so the replay is refused before the token endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_replayed_on_another_replica_at_once_is_refused() {
    let redis = RedisServer::start().await;
    let public = reserve_port();
    let public_url = public.1.clone();
    let sandbox = spawn_sandbox(&public.1, |_| {}).await;
    let (first, second) = two_replicas_on_redis(&redis, &sandbox, public, |_| {}).await;
    let browser = first.browser();
    let callback = browser.callback_as(ADA, "").await;
    let replay = browser.via(&second.addr_url);
    // The record as the other replica loads it before the first callback's save lands.
    let records: Vec<String> = redis
        .keys()
        .into_iter()
        .filter(|key| !key.starts_with("keystone-dashboard:"))
        .collect();
    let [record] = records.as_slice() else {
        panic!("one session record: {records:?}");
    };
    assert_eq!(redis.cli(&["COPY", record, "loaded-before"]).trim(), "1");

    let signed_in = browser.callback(&callback).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        redis
            .cli(&["COPY", "loaded-before", record, "REPLACE"])
            .trim(),
        "1"
    );
    let replayed = replay.get(&callback.url.replacen(&public_url, "", 1)).await;
    let status = replayed.status();
    let page = replayed.text().await.unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("This sign-in link has expired"), "{page}");
    let stats = sandbox_stats(&sandbox.base_url()).await;
    assert_eq!(
        stats["grants"]["authorization_code"], 1,
        "the replay reached the token endpoint: {stats}"
    );
}

/// A dashboard on `sandbox` whose embedded store lives in `data_dir`, serving on `listener` (the
/// same address again after a restart).
fn on_embedded_store(
    sandbox: &keystone_sandbox::RunningSandbox,
    data_dir: &std::path::Path,
    listener: std::net::TcpListener,
) -> TestAppBuilder {
    let data_dir = data_dir.to_owned();
    TestApp::builder()
        .external_sandbox(&sandbox.base_url())
        .listener(listener)
        .config(|config| {
            config.session_store = SessionStoreKind::Embedded;
            config.data_dir = data_dir;
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_browser_stays_signed_in_across_a_restart() {
    let data_dir = fresh_dir("restart");
    let (listener, public_url) = reserve_port();
    let sandbox = spawn_sandbox(&public_url, |_| {}).await;
    let start = |listener| on_embedded_store(&sandbox, &data_dir, listener).spawn();
    let app = start(listener).await;
    let browser = app.browser();
    browser.sign_in().await;
    assert_eq!(browser.get("/members").await.status(), StatusCode::OK);

    // The folder is this process's: a second dashboard on it is refused at start (its memory of
    // the sessions would go stale behind the first one's writes).
    let mut second = keystone_dashboard::server::Config::for_tests();
    second.session_store = SessionStoreKind::Embedded;
    second.data_dir = data_dir.clone();
    second.api_url = Some(sandbox.base_url());
    second.auth_issuer = Some(format!("{}/", sandbox.base_url()));
    second.auth_client_id = Some("keystone-dashboard".to_owned());
    second.auth_client_secret = Some(common::CLIENT_SECRET.to_owned());
    let refused = keystone_dashboard::server::Application::build(second)
        .await
        .err()
        .expect("a second dashboard on the same data folder is refused");
    assert!(
        refused.to_string().contains("in use by another dashboard"),
        "{refused}"
    );
    app.stop().await;

    let listener = std::net::TcpListener::bind(public_url.trim_start_matches("http://")).unwrap();
    let _app = start(listener).await;
    let page = browser.get("/members").await;
    assert_eq!(
        page.status(),
        StatusCode::OK,
        "still signed in after the restart"
    );
    assert!(page.text().await.unwrap().contains(common::ADA_NAME));
    let (status, _) = browser.server_fn("shell", &[]).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the stored tokens still open and work"
    );
    // Each write is read back at once (the store writes through its memory of the records).
    for slug in ["production", "staging"] {
        let (status, _) = browser.server_fn("environment", &[("slug", slug)]).await;
        assert_eq!(status, StatusCode::OK);
        let (_, shell) = browser.server_fn("shell", &[]).await;
        assert_eq!(shell["current_environment"], slug, "{shell}");
    }

    // Nothing in the store's files is a usable token.
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(&data_dir).unwrap() {
        stored.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let stored = String::from_utf8_lossy(&stored);
    assert_eq!(common::find_jwt(&stored), None, "no JWT in the store");
    let cookie = browser.session_cookie().unwrap();
    assert!(
        !stored.contains(&cookie),
        "the store holds the session id's hash, not the cookie's value"
    );
    let refresh_tokens: Vec<String> = sandbox
        .state
        .store
        .read(|data| data.refresh_tokens.keys().cloned().collect());
    assert!(!refresh_tokens.is_empty());
    for token in refresh_tokens {
        assert!(!stored.contains(&token), "no refresh token in the store");
    }
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// Pinning the deployment to one platform (`KEYSTONE_AUTH_ORGANIZATION`) ends the sessions it
/// had admitted into another organization of the tenant: at their next request, their tokens
/// removed and their refresh tokens revoked at the provider.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_of_an_organization_the_deployment_no_longer_serves_ends() {
    let data_dir = fresh_dir("repin");
    let (listener, public_url) = reserve_port();
    let sandbox = spawn_sandbox(&public_url, |_| {}).await;
    let start = |listener, organization: &str| {
        on_embedded_store(&sandbox, &data_dir, listener)
            .config(|config| config.auth_organization = Some(organization.to_owned()))
            .spawn()
    };
    let app = start(listener, keystone_sandbox::seed::ORG_ID).await;
    let browser = app.browser();
    browser.sign_in().await;
    assert_eq!(browser.get("/members").await.status(), StatusCode::OK);
    assert_eq!(families(&sandbox), (1, 0));
    app.stop().await;

    // The same store, now serving another platform of the tenant.
    let listener = std::net::TcpListener::bind(public_url.trim_start_matches("http://")).unwrap();
    let repinned = start(listener, common::OUTSIDER_ORG).await;
    let (status, body) = browser.server_fn("session", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        families(&sandbox),
        (0, 1),
        "the session's refresh token is revoked at the provider"
    );
    assert_eq!(repinned.bff.store.count_token_sets().await.unwrap(), 0);
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// A sign-in started before the deployment was pinned to another platform, and finished after
/// (within its ten minutes), is refused: the ID token is checked against the pinned organization,
/// not the one the login asked for, and the refresh token just issued is revoked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_started_before_the_pin_cannot_finish_into_another_organization() {
    let data_dir = fresh_dir("pin-race");
    let (listener, public_url) = reserve_port();
    let sandbox = spawn_sandbox(&public_url, |_| {}).await;
    let app = on_embedded_store(&sandbox, &data_dir, listener)
        .config(|config| config.auth_organization = Some(keystone_sandbox::seed::ORG_ID.to_owned()))
        .spawn()
        .await;
    let browser = app.browser();
    let callback = browser.callback_as(ADA, "").await;
    app.stop().await;

    let listener = std::net::TcpListener::bind(public_url.trim_start_matches("http://")).unwrap();
    let repinned = on_embedded_store(&sandbox, &data_dir, listener)
        .config(|config| config.auth_organization = Some(common::OUTSIDER_ORG.to_owned()))
        .spawn()
        .await;
    let response = browser.callback(&callback).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response.text().await.unwrap().contains("Sign-in failed"),
        "the sign-in page says so"
    );
    assert_eq!(
        families(&sandbox),
        (0, 1),
        "the refresh token issued to the refused sign-in is revoked"
    );
    assert_eq!(repinned.bff.store.count_token_sets().await.unwrap(), 0);
    assert_eq!(
        browser.server_fn("session", &[]).await.0,
        StatusCode::UNAUTHORIZED
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// Ada's refresh-token families at the provider: (live, revoked).
fn families(sandbox: &keystone_sandbox::RunningSandbox) -> (usize, usize) {
    sandbox.state.store.read(|data| {
        let mut live = std::collections::BTreeSet::new();
        let mut revoked = std::collections::BTreeSet::new();
        for token in data
            .refresh_tokens
            .values()
            .filter(|token| token.user_id == ADA)
        {
            if token.family_revoked {
                revoked.insert(token.family.clone());
            } else {
                live.insert(token.family.clone());
            }
        }
        (live.len(), revoked.len())
    })
}

/// The provider rotates at once and answers `ms` later, once: a caller gone by then has lost the
/// reply but not the rotation (Auth0 does not undo a grant because its caller hung up).
async fn slow_token_reply(sandbox_url: &str, ms: u64) {
    common::set_faults(
        sandbox_url,
        json!({ "rules": [{ "path_prefix": "/oauth/token", "times": 1,
                            "action": { "kind": "delay_after_apply", "ms": ms } }] }),
    )
    .await;
}

/// Waits (at most 5 s) until the provider has granted `count` refreshes since the stats were
/// reset: timing by the provider's own count, not by a sleep a loaded machine may outrun.
async fn until_refresh_granted(sandbox_url: &str, count: u64) {
    for _ in 0..250 {
        if sandbox_stats(sandbox_url).await["grants"]["refresh_token"].as_u64() >= Some(count) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the provider never granted refresh {count}");
}

fn short_lived_tokens(builder: TestAppBuilder) -> TestAppBuilder {
    builder
        .sandbox(|sandbox| sandbox.access_token_ttl_seconds = TOKEN_TTL)
        .config(|config| config.token_refresh_margin_seconds = REFRESH_MARGIN)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_that_hangs_up_mid_refresh_loses_nothing() {
    let app = short_lived_tokens(TestApp::builder()).spawn().await;
    let browser = app.browser();
    browser.sign_in().await;
    let signed_in_at = Instant::now();
    until_refresh_is_due(signed_in_at).await;
    reset_sandbox_stats(&app.sandbox_url).await;
    slow_token_reply(&app.sandbox_url, 1_000).await;

    // Hang up once the provider has rotated, while its reply is still on its way.
    browser
        .call_then_hang_up(LoadShell {}, until_refresh_granted(&app.sandbox_url, 1))
        .await;
    // Past the provider's late reply.
    tokio::time::sleep(Duration::from_millis(1_000)).await;

    let (status, body) = browser.server_fn("shell", &[]).await;
    assert_eq!(status, StatusCode::OK, "the session survives: {body}");
    let stats = sandbox_stats(&app.sandbox_url).await;
    assert_eq!(stats["grants"]["refresh_token"], 1, "one grant: {stats}");
    assert_eq!(
        families(app.sandbox()),
        (1, 0),
        "the family is intact: no spent token was presented"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_refresh_once_even_when_the_provider_is_slower_than_a_fixed_lease() {
    let redis = RedisServer::start().await;
    let public = reserve_port();
    let sandbox = spawn_sandbox(&public.1, |sandbox| {
        sandbox.access_token_ttl_seconds = TOKEN_TTL
    })
    .await;
    let (first, second) = two_replicas_on_redis(&redis, &sandbox, public, |config| {
        config.token_refresh_margin_seconds = REFRESH_MARGIN;
        // The provider may take up to this long: the lease must outlast it.
        config.upstream_timeout_seconds = 40;
    })
    .await;
    let browser = first.browser();
    browser.sign_in().await;
    until_refresh_is_due(Instant::now()).await;
    reset_sandbox_stats(&sandbox.base_url()).await;
    // Slower than the 20 s lease the vault used to take, well within the time limit.
    common::set_faults(
        &sandbox.base_url(),
        json!({ "rules": [{ "path_prefix": "/oauth/token", "times": 1,
                            "action": { "kind": "delay", "ms": 22_000 } }] }),
    )
    .await;
    let via_first = browser.via(&first.addr_url);
    let via_second = browser.via(&second.addr_url);
    let started = via_first.server_fn("shell", &[]);
    let (first_reply, second_reply) = tokio::join!(started, async {
        // The second replica asks while the first is still waiting for the provider.
        tokio::time::sleep(Duration::from_millis(500)).await;
        via_second.server_fn("shell", &[]).await
    });
    assert_eq!(first_reply.0, StatusCode::OK, "{}", first_reply.1);
    assert_eq!(second_reply.0, StatusCode::OK, "{}", second_reply.1);
    let stats = sandbox_stats(&sandbox.base_url()).await;
    assert_eq!(stats["grants"]["refresh_token"], 1, "{stats}");
    assert_eq!(families(&sandbox), (1, 0));
}

/// Points `config` at `store`: its data folder for the embedded one, `redis` for Redis, and the
/// tests' shared token key (every replica of a shared store needs the same one).
fn on_store(
    config: &mut keystone_dashboard::server::Config,
    store: SessionStoreKind,
    data_dir: &std::path::Path,
    redis: Option<&RedisServer>,
) {
    config.session_store = store;
    config.data_dir = data_dir.to_owned();
    config.redis_url = redis.map(|redis| redis.url.clone());
    config.token_encryption_key = Some(common::TEST_TOKEN_KEY.to_owned());
}

/// On `store`, with an idle timeout short enough (8 s) that a request in flight also rewrites its
/// session record: the "last seen" mark is written every 2 s, as a busy member's requests do.
fn marking_seen(
    builder: TestAppBuilder,
    store: SessionStoreKind,
    data_dir: &std::path::Path,
    redis: Option<&RedisServer>,
) -> TestAppBuilder {
    builder.config(|config| {
        on_store(config, store, data_dir, redis);
        config.session_idle_timeout_seconds = 8;
    })
}

/// Signs out while a refresh is at the provider, then checks that nothing of the session is left:
/// the old cookie is refused and no token set was written back.
async fn signing_out_during_a_refresh_is_final(
    store: SessionStoreKind,
    redis: Option<&RedisServer>,
) {
    let data_dir = fresh_dir(&format!("signout-race-{store:?}"));
    let app = marking_seen(
        short_lived_tokens(TestApp::builder()),
        store,
        &data_dir,
        redis,
    )
    .spawn()
    .await;
    let browser = app.browser();
    browser.sign_in().await;
    let cookie = browser.session_cookie().unwrap();
    until_refresh_is_due(Instant::now()).await;
    slow_token_reply(&app.sandbox_url, 1_500).await;

    let in_flight = browser.via(&app.base_url);
    let (refreshing, signed_out) = tokio::join!(in_flight.post_form("/api/shell", &[]), async {
        // Once the provider has rotated, while its reply is on the way.
        until_refresh_granted(&app.sandbox_url, 1).await;
        browser.post_form("/auth/logout", &[]).await
    });
    // The request in flight changed its record (the "last seen" mark): it must not write it back,
    // and once it has seen the session end it must not hand the browser the cookie again.
    let cookies_set: Vec<String> = refreshing
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .filter(|value| value.starts_with(SESSION_COOKIE))
        .collect();
    let refreshing_status = refreshing.status();
    let live_cookie = cookies_set.iter().any(|value| {
        !(value.contains("Max-Age=0") || value.starts_with(&format!("{SESSION_COOKIE}=;")))
    });
    // A reply that found the session ended clears the cookie; only one that finished before the
    // sign-out took effect may still carry it (and that cookie is refused, below).
    assert!(
        !live_cookie || refreshing_status == StatusCode::OK,
        "a {refreshing_status} reply set the session cookie again: {cookies_set:?}"
    );
    let refreshing = (refreshing_status, refreshing.text().await.unwrap());
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    // The sign-out waited for the refresh to be stored; the request in flight then either
    // finished its calls first or found its session ended between two of them. Nothing else.
    assert!(
        matches!(refreshing.0, StatusCode::OK | StatusCode::UNAUTHORIZED),
        "{} {}",
        refreshing.0,
        refreshing.1
    );

    let old = Browser::new(&app.base_url, &app.base_url);
    old.set_session_cookie(Some(cookie));
    let (status, body) = old.server_fn("shell", &[]).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old cookie is refused: {body}"
    );
    assert_eq!(old.get("/members").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.bff.store.count_token_sets().await.unwrap(),
        0,
        "no token set was written back after the sign-out"
    );
    assert_eq!(
        families(app.sandbox()).0,
        0,
        "every refresh token is revoked"
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_during_a_refresh_is_final_with_the_embedded_store() {
    signing_out_during_a_refresh_is_final(SessionStoreKind::Embedded, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_during_a_refresh_is_final_with_redis() {
    let redis = RedisServer::start().await;
    signing_out_during_a_refresh_is_final(SessionStoreKind::Redis, Some(&redis)).await;
}

/// Whether `reply` sets the session cookie: the session layer does so only when it saved a
/// changed record.
fn sets_session_cookie(reply: &reqwest::Response) -> bool {
    reply
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|value| value.to_str().unwrap().starts_with(SESSION_COOKIE))
}

/// What the slow request of the switch race writes to its record.
#[derive(Clone, Copy, Debug)]
enum SlowRequestWrites {
    /// The "last seen" mark, the environment chosen earlier being untouched.
    SeenMark,
    /// The member's first environment, which it fills in from the list before its slow call.
    FirstEnvironment,
}

/// A request in flight that changed its record writes back its own change alone: an environment
/// switched to while it ran stays chosen. (tower-sessions writes back the whole record a request
/// loaded, which switched the member back without a word, while the switcher showed the new
/// environment; an environment the request itself filled in is applied only if nobody chose one
/// meanwhile.)
async fn a_slow_request_keeps_an_environment_switch_made_while_it_ran(
    store: SessionStoreKind,
    redis: Option<&RedisServer>,
    writes: SlowRequestWrites,
) {
    let data_dir = fresh_dir(&format!("switch-race-{store:?}-{writes:?}"));
    let app = marking_seen(TestApp::builder(), store, &data_dir, redis)
        .spawn()
        .await;
    let browser = app.browser();
    browser.sign_in().await;
    let current = |shell: serde_json::Value| shell["current_environment"].clone();
    if let SlowRequestWrites::SeenMark = writes {
        let (_, shell) = browser.server_fn("shell", &[]).await;
        assert_eq!(current(shell), json!("development"));
        tokio::time::sleep(Duration::from_millis(2_200)).await;
    }
    common::set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "path_prefix": "/v1/platforms/me/members", "action": { "kind": "delay", "ms": 3_000 }, "times": 1 }] }),
    )
    .await;

    let (slow, switched) = tokio::join!(
        async {
            let reply = browser.post_form("/api/members", &[]).await;
            (reply, Instant::now())
        },
        async {
            // Once the slow request has changed its record and waits on the API.
            while common::fault_uses_left(&app.sandbox_url).await > 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let reply = browser
                .server_fn("environment", &[("slug", "staging")])
                .await;
            (reply, Instant::now())
        }
    );
    let ((slow, slow_ended), (switched, switch_ended)) = (slow, switched);
    // Otherwise the switch would win whatever the saves do, and the test would prove nothing.
    assert!(
        switch_ended < slow_ended,
        "the switch took longer than the slow request's delay"
    );
    // It saved its record (its change): the session layer sets the cookie only then.
    let saved = sets_session_cookie(&slow);
    assert_eq!(slow.status(), StatusCode::OK);
    assert!(saved, "the slow request saved no change ({writes:?})");
    assert_eq!(switched.0, StatusCode::OK, "{}", switched.1);

    let (_, shell) = browser.server_fn("shell", &[]).await;
    assert_eq!(
        current(shell),
        json!("staging"),
        "the slow request switched the member back"
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_request_keeps_an_environment_switch_made_while_it_ran_with_the_embedded_store() {
    a_slow_request_keeps_an_environment_switch_made_while_it_ran(
        SessionStoreKind::Embedded,
        None,
        SlowRequestWrites::SeenMark,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_request_keeps_an_environment_switch_made_while_it_ran_with_redis() {
    let redis = RedisServer::start().await;
    a_slow_request_keeps_an_environment_switch_made_while_it_ran(
        SessionStoreKind::Redis,
        Some(&redis),
        SlowRequestWrites::SeenMark,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_environment_a_slow_request_filled_in_does_not_undo_a_switch_made_meanwhile() {
    a_slow_request_keeps_an_environment_switch_made_while_it_ran(
        SessionStoreKind::Embedded,
        None,
        SlowRequestWrites::FirstEnvironment,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_environment_a_slow_request_filled_in_does_not_undo_a_switch_made_meanwhile_with_redis(
) {
    let redis = RedisServer::start().await;
    a_slow_request_keeps_an_environment_switch_made_while_it_ran(
        SessionStoreKind::Redis,
        Some(&redis),
        SlowRequestWrites::FirstEnvironment,
    )
    .await;
}

/// The other order: a switch waits on the API while a page fills in the member's first
/// environment and saves it. The switch answered that staging is current, so staging it is (a
/// switch saved as a derived value would give way to the page's, and the UI would be lying).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_switch_stands_over_a_first_environment_filled_in_meanwhile() {
    let data_dir = fresh_dir("slow-switch");
    let app = marking_seen(
        TestApp::builder(),
        SessionStoreKind::Embedded,
        &data_dir,
        None,
    )
    .spawn()
    .await;
    let browser = app.browser();
    browser.sign_in().await;
    common::set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "path_prefix": "/v1/platforms/me/environments", "action": { "kind": "delay", "ms": 2_000 }, "times": 1 }] }),
    )
    .await;
    let (switched, page) = tokio::join!(
        async {
            let reply = browser
                .server_fn("environment", &[("slug", "staging")])
                .await;
            (reply, Instant::now())
        },
        async {
            // Once the switch waits on the API for the list it checks the slug against.
            while common::fault_uses_left(&app.sandbox_url).await > 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let reply = browser.post_form("/api/members", &[]).await;
            let filled_in = sets_session_cookie(&reply);
            (reply.status(), filled_in, Instant::now())
        }
    );
    let ((switched, switch_ended), (page_status, filled_in, page_ended)) = (switched, page);
    assert_eq!(page_status, StatusCode::OK);
    assert!(filled_in, "the page saved no environment of its own");
    assert!(page_ended < switch_ended, "the page did not finish first");
    assert_eq!(switched.0, StatusCode::OK, "{}", switched.1);

    let (_, shell) = browser.server_fn("shell", &[]).await;
    assert_eq!(
        shell["current_environment"],
        json!("staging"),
        "the switch answered staging, and the member works in another environment"
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_over_a_live_session_revokes_the_session_it_replaces() {
    let app = spawn_app().await;
    let browser = app.browser();
    // Two tabs start a sign-in; the first finishes, then the second, over the live session.
    let first_tab = browser.start_login("").await;
    let second_tab = browser.start_login("?returnTo=/members").await;
    let callback = browser
        .sign_in_at_provider(&first_tab, &[("user_id", ADA)])
        .await;
    assert_eq!(
        browser.callback(&callback).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(families(app.sandbox()), (1, 0));
    let callback = browser
        .sign_in_at_provider(&second_tab, &[("user_id", ADA)])
        .await;
    let response = browser.callback(&callback).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(common::location(&response), "/members");
    assert_eq!(
        families(app.sandbox()),
        (1, 1),
        "the replaced session's refresh token is revoked, the new one lives"
    );
    assert_eq!(app.bff.store.count_token_sets().await.unwrap(), 1);
    assert_eq!(browser.server_fn("shell", &[]).await.0, StatusCode::OK);
}

/// The data folder holds the session records (names, addresses, logins in flight) in files SQLite
/// creates with the umask's modes: the folder itself is the owner's alone.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_folder_it_creates_is_its_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let parent = fresh_dir("private");
    let data_dir = parent.join("data");
    let app = TestApp::builder()
        .config(|config| {
            config.session_store = SessionStoreKind::Embedded;
            config.data_dir = data_dir.clone();
        })
        .spawn()
        .await;
    app.browser().sign_in().await;
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode(&data_dir) & 0o777, 0o700, "{:o}", mode(&data_dir));
    assert!(data_dir.join("sessions.sqlite3").exists());
    assert_eq!(mode(&data_dir.join("token-encryption.key")) & 0o077, 0);
    drop(app);
    let _ = std::fs::remove_dir_all(&parent);
}

/// The store refuses the signed-in record (a full disk, a queue past its timeout) after the
/// tokens were stored: the member gets the page that says so, and the tokens are not left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_whose_record_cannot_be_stored_answers_a_page_and_keeps_no_tokens() {
    let data_dir = fresh_dir("record-refused");
    let app = TestApp::builder()
        .config(|config| {
            config.session_store = SessionStoreKind::Embedded;
            config.data_dir = data_dir.clone();
        })
        .spawn()
        .await;
    let browser = app.browser();
    let attempt = browser.start_login("").await;
    let callback = browser
        .sign_in_at_provider(&attempt, &[("user_id", ADA)])
        .await;

    // The real store refuses: SQLite itself fails every write of a new session record from now
    // on (the signed-in one, under its renewed id), while the token set's table still takes its
    // row. The login's own record still takes the write that spends its state.
    let store = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        data_dir.join("sessions.sqlite3").display()
    ))
    .await
    .unwrap();
    sqlx::query(
        "CREATE TRIGGER refuse_records BEFORE INSERT ON tower_sessions \
         WHEN NOT EXISTS (SELECT 1 FROM tower_sessions WHERE id = NEW.id) \
         BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
    )
    .execute(&store)
    .await
    .unwrap();

    let response = browser.callback(&callback).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        response.headers().get("set-cookie").is_none(),
        "no cookie for a session that was not stored"
    );
    let page = response.text().await.unwrap();
    assert!(page.contains("Sign-in is unavailable"), "{page}");
    assert_eq!(
        app.bff.store.count_token_sets().await.unwrap(),
        0,
        "the stored tokens are removed"
    );
    assert_eq!(
        families(app.sandbox()),
        (0, 1),
        "their refresh token is revoked at the provider"
    );

    // The outage also keeps the store from deleting (or from storing) a token set: the refresh
    // token is revoked from the copy the callback holds, not from the store.
    sqlx::query("DROP TRIGGER refuse_records")
        .execute(&store)
        .await
        .unwrap();
    let refuse = |trigger: &str, event: &str| {
        // As above: a session record's write is refused for the signed-in record only.
        let when = if event.ends_with("tower_sessions") {
            "WHEN NOT EXISTS (SELECT 1 FROM tower_sessions WHERE id = NEW.id)"
        } else {
            ""
        };
        format!(
            "CREATE TRIGGER {trigger} BEFORE {event} {when} \
             BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
    };
    for triggers in [
        &[
            ("refuse_records", "INSERT ON tower_sessions"),
            ("refuse_token_deletes", "DELETE ON token_sets"),
        ][..],
        &[("refuse_token_sets", "INSERT ON token_sets")][..],
    ] {
        let revoked = families(app.sandbox()).1;
        let callback = browser.callback_as(ADA, "").await;
        for (trigger, event) in triggers {
            sqlx::query(&refuse(trigger, event))
                .execute(&store)
                .await
                .unwrap();
        }
        assert_eq!(
            browser.callback(&callback).await.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "{triggers:?}"
        );
        assert_eq!(
            families(app.sandbox()),
            (0, revoked + 1),
            "revoked although the store could not give it back: {triggers:?}"
        );
        // Once the store works again, the same browser signs in.
        for (trigger, _) in triggers {
            sqlx::query(&format!("DROP TRIGGER {trigger}"))
                .execute(&store)
                .await
                .unwrap();
        }
    }
    let callback = browser.callback_as(ADA, "").await;
    assert_eq!(
        browser.callback(&callback).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(browser.server_fn("shell", &[]).await.0, StatusCode::OK);
    store.close().await;
    drop(app);
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_kept_no_longer_than_the_absolute_lifetime_however_often_refreshed() {
    let app = short_lived_tokens(TestApp::builder())
        .config(|config| config.session_absolute_lifetime_seconds = 7)
        .spawn()
        .await;
    let browser = app.browser();
    browser.sign_in().await;
    let signed_in_at = Instant::now();
    until_refresh_is_due(signed_in_at).await;
    reset_sandbox_stats(&app.sandbox_url).await;
    assert_eq!(browser.server_fn("shell", &[]).await.0, StatusCode::OK);
    assert_eq!(
        sandbox_stats(&app.sandbox_url).await["grants"]["refresh_token"],
        1,
        "refreshed at about 4.5 s"
    );
    // Nobody visits: the dashboard's sweep of unseen sessions ends it, from its absolute end
    // (7 s): the refresh did not move the session's end.
    let ended = async {
        while app.bff.store.count_token_sets().await.unwrap() > 0 || families(app.sandbox()).0 > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    // Given until 20 s after sign-in, for a loaded machine: the store itself would keep the set
    // five minutes past the end.
    let deadline = Duration::from_secs(20).saturating_sub(signed_in_at.elapsed());
    assert!(
        tokio::time::timeout(deadline, ended).await.is_ok(),
        "the refreshed set was kept past the session's end, or its refresh token left live"
    );
    assert_eq!(families(app.sandbox()), (0, 1));
}

/// A session nobody comes back to is ended by the dashboard itself once its idle timeout has
/// passed: its refresh token is revoked (at the second try when the provider is down for the
/// first) and its tokens leave the store, while an active session beside it keeps both. (A visit
/// would end it too; this one never gets a visit.)
async fn a_session_nobody_comes_back_to_ends(store: SessionStoreKind, redis: Option<&RedisServer>) {
    let data_dir =
        std::env::temp_dir().join(format!("keystone-unseen-{}-{store:?}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let app = TestApp::builder()
        .config(|config| {
            on_store(config, store, &data_dir, redis);
            config.session_idle_timeout_seconds = 4;
            // A failed revocation is claimed again once a call to the provider has surely ended
            // (the refresh lease: this timeout plus eight seconds).
            config.upstream_timeout_seconds = 2;
        })
        .spawn()
        .await;
    let unseen = app.browser();
    unseen.sign_in().await;
    let active = app.browser();
    active.sign_in().await;
    assert_eq!(families(app.sandbox()), (2, 0));
    // The provider is down for the first revocation: the set stays claimed, and the next sweep
    // revokes it.
    common::set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "path_prefix": "/oauth/revoke", "times": 1,
                            "action": { "kind": "status", "status": 503 } }] }),
    )
    .await;
    // The active one is seen every half second (its mark moves at most every second); the unseen
    // one's 4 s run out, the sweep follows within a second, and its retry about ten seconds
    // after. Given 40 s, for a loaded machine.
    let deadline = Instant::now() + Duration::from_secs(40);
    let ended = || async {
        families(app.sandbox()) == (1, 1) && app.bff.store.count_token_sets().await.unwrap() == 1
    };
    while !ended().await && Instant::now() < deadline {
        let (status, body) = active.server_fn("session", &[]).await;
        assert_eq!(status, StatusCode::OK, "{store:?}: {body}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        families(app.sandbox()),
        (1, 1),
        "{store:?}: the unseen session's refresh token is revoked, the active one's is not"
    );
    assert_eq!(
        common::fault_uses_left(&app.sandbox_url).await,
        0,
        "{store:?}: the first revocation met the outage"
    );
    let (status, body) = active.server_fn("session", &[]).await;
    assert_eq!(status, StatusCode::OK, "{store:?}: {body}");
    assert_eq!(
        app.bff.store.count_token_sets().await.unwrap(),
        1,
        "{store:?}: the unseen session's tokens left the store"
    );
    assert_eq!(
        unseen.server_fn("session", &[]).await.0,
        StatusCode::UNAUTHORIZED
    );
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_nobody_comes_back_to_ends_with_the_memory_store() {
    a_session_nobody_comes_back_to_ends(SessionStoreKind::Memory, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_nobody_comes_back_to_ends_with_the_embedded_store() {
    a_session_nobody_comes_back_to_ends(SessionStoreKind::Embedded, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_nobody_comes_back_to_ends_with_redis() {
    let redis = RedisServer::start().await;
    a_session_nobody_comes_back_to_ends(SessionStoreKind::Redis, Some(&redis)).await;
}

/// The stores' side of it: a set whose session ended unseen is claimed (handed out for revoking,
/// and kept until removed) by one caller at a time, and again only at its retry time; a set whose
/// member was seen since is left; a signed-out set is not brought back by a late "seen"; a set
/// from before the sweep is given an end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_store_hands_out_an_unseen_set_once_and_keeps_a_seen_one() {
    use keystone_dashboard::server::{session::Backend, Config};
    let redis = RedisServer::start().await;
    let data_dir = std::env::temp_dir().join(format!("keystone-take-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let ttl = Duration::from_secs(600);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let retry_at = now + 60;
    let unseen = || vec![("unseen".to_owned(), "sealed-unseen".to_owned())];
    for kind in [
        SessionStoreKind::Memory,
        SessionStoreKind::Embedded,
        SessionStoreKind::Redis,
    ] {
        let mut config = Config::for_tests();
        config.session_store = kind;
        config.redis_url = Some(redis.url.clone());
        config.data_dir = data_dir.clone();
        let store = Backend::connect(&config).await.unwrap();
        for id in ["unseen", "seen", "signed-out"] {
            store
                .save_tokens(id, format!("sealed-{id}"), ttl, now - 1)
                .await
                .unwrap();
        }
        store.keep_tokens_until("seen", now + 600).await.unwrap();
        // An earlier end (another replica's clock) does not move it back.
        store.keep_tokens_until("seen", now - 5).await.unwrap();
        store.delete_tokens("signed-out").await.unwrap();
        store
            .keep_tokens_until("signed-out", now + 60)
            .await
            .unwrap();
        if kind == SessionStoreKind::Redis {
            // The late "seen" of the signed-out set left no entry behind. Looked at before any
            // claim, which drops an entry whose set is gone: only the index shows it.
            let ends = redis.cli(&["ZRANGE", "keystone-dashboard:token-unseen", "0", "-1"]);
            let mut ends: Vec<&str> = ends.lines().collect();
            ends.sort_unstable();
            assert_eq!(ends, ["seen", "unseen"], "{kind:?}");
        }

        let claim = |at: i64| store.claim_unseen_tokens(at, 100, retry_at);
        assert_eq!(claim(now).await.unwrap(), unseen(), "{kind:?}");
        assert_eq!(claim(now).await.unwrap(), vec![], "{kind:?}: claimed twice");
        // Kept until removed: a revocation that failed is tried again at the retry time.
        assert_eq!(
            store.load_tokens("unseen").await.unwrap().as_deref(),
            Some("sealed-unseen"),
            "{kind:?}"
        );
        assert_eq!(claim(retry_at).await.unwrap(), unseen(), "{kind:?}");
        store.delete_tokens("unseen").await.unwrap();
        assert_eq!(
            store.load_tokens("signed-out").await.unwrap(),
            None,
            "{kind:?}"
        );
        assert_eq!(
            store.load_tokens("seen").await.unwrap().as_deref(),
            Some("sealed-seen"),
            "{kind:?}"
        );
        assert_eq!(store.count_token_sets().await.unwrap(), 1, "{kind:?}");
        if kind == SessionStoreKind::Redis {
            // A set from before the sweep has no end until adopted.
            store
                .save_tokens("legacy", "sealed-legacy".into(), ttl, now - 1)
                .await
                .unwrap();
            redis.cli(&["ZREM", "keystone-dashboard:token-unseen", "legacy"]);
            assert_eq!(claim(now).await.unwrap(), vec![], "{kind:?}");
            assert_eq!(store.adopt_unmarked_tokens(now - 1).await.unwrap(), 1);
            assert_eq!(
                claim(now).await.unwrap(),
                vec![("legacy".to_owned(), "sealed-legacy".to_owned())]
            );
            store.delete_tokens("legacy").await.unwrap();
        }
        // Claimed in steps of `most`.
        store.keep_tokens_until("seen", now + 700).await.unwrap();
        for id in ["a", "b"] {
            store
                .save_tokens(id, "sealed".into(), ttl, now - 5)
                .await
                .unwrap();
        }
        for _ in 0..2 {
            let step = store.claim_unseen_tokens(now, 1, retry_at).await.unwrap();
            assert_eq!(step.len(), 1, "{kind:?}");
            store.delete_tokens(&step[0].0).await.unwrap();
        }
        assert_eq!(claim(now).await.unwrap(), vec![], "{kind:?}");
        store.delete_tokens("seen").await.unwrap();
        assert_eq!(store.count_token_sets().await.unwrap(), 0, "{kind:?}");
    }
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewed_tokens_whose_save_fails_are_kept_and_stored_when_the_store_answers_again() {
    let redis = RedisServer::start().await;
    let app = short_lived_tokens(TestApp::builder())
        .config(|config| {
            common::use_redis(config, &redis);
        })
        .spawn()
        .await;
    let browser = app.browser();
    browser.sign_in().await;
    until_refresh_is_due(Instant::now()).await;
    reset_sandbox_stats(&app.sandbox_url).await;
    common::set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "path_prefix": "/oauth/token", "times": 1,
                            "action": { "kind": "delay_after_apply", "ms": 800 } }] }),
    )
    .await;
    // The store stalls once the provider has rotated the refresh token (its reply still on the
    // way), and answers again later.
    let (during, ()) = tokio::join!(browser.server_fn("shell", &[]), async {
        until_refresh_granted(&app.sandbox_url, 1).await;
        redis.pause();
        tokio::time::sleep(Duration::from_secs(4)).await;
        redis.resume();
    });
    assert_eq!(
        during.0,
        StatusCode::OK,
        "the renewed token is used at once: {}",
        during.1
    );
    // The retried save lands once the store is back (its back-off tops out at 5 s).
    tokio::time::sleep(Duration::from_secs(6)).await;
    let (status, body) = browser.server_fn("shell", &[]).await;
    assert_eq!(status, StatusCode::OK, "the session survives: {body}");
    // By now the renewed 6-second token is due as well: the second refresh presented the refresh
    // token that was stored late, and the provider accepted it.
    let stats = sandbox_stats(&app.sandbox_url).await;
    assert_eq!(stats["grants"]["refresh_token"], 2, "{stats}");
    assert_eq!(
        families(app.sandbox()),
        (1, 0),
        "no spent token was presented"
    );
    assert!(
        !redis.keys().iter().any(|key| key.contains("refresh-lock")),
        "the refresh lock was released, not left to expire"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saves_of_renewed_tokens_are_fenced_and_never_recreate_a_set() {
    use keystone_dashboard::server::{
        session::{Backend, FencedSave},
        Config,
    };
    let redis = RedisServer::start().await;
    let data_dir = std::env::temp_dir().join(format!("keystone-fence-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let ttl = Duration::from_secs(60);
    let lease = Duration::from_secs(5);
    for kind in [
        SessionStoreKind::Memory,
        SessionStoreKind::Embedded,
        SessionStoreKind::Redis,
    ] {
        let mut config = Config::for_tests();
        config.session_store = kind;
        config.redis_url = Some(redis.url.clone());
        config.data_dir = data_dir.clone();
        let store = Backend::connect(&config).await.unwrap();
        let stored = || async { store.load_tokens("set").await.unwrap() };
        let save = |previous: &'static str, sealed: &'static str| {
            store.update_tokens_fenced("set", previous, sealed.to_owned(), ttl)
        };
        store
            .save_tokens("set", "v1".into(), ttl, i64::MAX)
            .await
            .unwrap();
        assert_eq!(
            save("v1", "v2").await.unwrap(),
            FencedSave::Stored,
            "{kind:?}"
        );
        assert_eq!(stored().await.as_deref(), Some("v2"), "{kind:?}");
        // A retry of a save whose reply was lost finds its own value: stored, not superseded.
        assert_eq!(
            save("v1", "v2").await.unwrap(),
            FencedSave::Stored,
            "{kind:?}"
        );
        // A writer that read v1 and comes late (another replica stored v2 meanwhile): v2 stands.
        assert_eq!(
            save("v1", "late").await.unwrap(),
            FencedSave::Superseded,
            "{kind:?}"
        );
        assert_eq!(
            stored().await.as_deref(),
            Some("v2"),
            "{kind:?}: a late writer wrote"
        );
        if kind == SessionStoreKind::Redis {
            // Only the holder extends its lease, and a lapsed lease is never taken back.
            assert!(store.try_lock("set", "first", lease).await.unwrap());
            assert!(!store.try_lock("set", "second", lease).await.unwrap());
            assert!(!store.extend_lock("set", "second", lease).await.unwrap());
            assert!(store.extend_lock("set", "first", lease).await.unwrap());
            store.unlock("set", "first").await.unwrap();
            assert!(!store.extend_lock("set", "first", lease).await.unwrap());
        }
        // Signed out: a save writes nothing back.
        store.delete_tokens("set").await.unwrap();
        assert_eq!(
            save("v2", "v3").await.unwrap(),
            FencedSave::Gone,
            "{kind:?}"
        );
        assert_eq!(stored().await, None, "{kind:?}: a save recreated the set");
    }
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewed_tokens_are_stored_even_when_the_store_stalls_past_the_lease() {
    let redis = RedisServer::start().await;
    let app = short_lived_tokens(TestApp::builder())
        .config(|config| {
            common::use_redis(config, &redis);
            // A lease of 1 + 3 × 2 + 2 = 9 s, shorter than the stall below.
            config.upstream_timeout_seconds = 1;
        })
        .spawn()
        .await;
    let browser = app.browser();
    browser.sign_in().await;
    until_refresh_is_due(Instant::now()).await;
    reset_sandbox_stats(&app.sandbox_url).await;
    common::set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "path_prefix": "/oauth/token", "times": 1,
                            "action": { "kind": "delay_after_apply", "ms": 500 } }] }),
    )
    .await;
    // The lock lapses while the store is frozen; nobody else wrote, so the rotated tokens must
    // still be stored when it thaws (a fence on the lock alone would drop them).
    let (during, ()) = tokio::join!(browser.server_fn("shell", &[]), async {
        until_refresh_granted(&app.sandbox_url, 1).await;
        redis.pause();
        tokio::time::sleep(Duration::from_secs(11)).await;
        redis.resume();
    });
    assert_ne!(during.0, StatusCode::INTERNAL_SERVER_ERROR, "{}", during.1);
    tokio::time::sleep(Duration::from_secs(6)).await;
    let (status, body) = browser.server_fn("shell", &[]).await;
    assert_eq!(status, StatusCode::OK, "the session survives: {body}");
    assert_eq!(
        families(app.sandbox()),
        (1, 0),
        "no spent token was presented"
    );
}
