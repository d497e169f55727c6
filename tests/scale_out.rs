//! Two dashboard processes behind one public URL, sharing a real Redis, under the load generator
//! (`keystone_sandbox::load`, the library of `keystone-load`):
//!
//! 1. 200 sessions for 60 s: no server error, no lost request, every acknowledged write verified;
//! 2. a replica is killed (SIGKILL) mid-run: its sessions carry on on the other one, signed in;
//! 3. Redis restarts empty: people are sent to sign in again (never a 500), and they can.
//!
//! Long (about two minutes): `#[ignore]`d in the plain test run; `scripts/test` runs it as its own
//! step with the figures printed. `KEYSTONE_SCALE_SESSIONS` and `KEYSTONE_SCALE_SECONDS` shrink it.

mod common;

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use common::{spawn_sandbox, RedisServer};
use keystone_sandbox::load::{run_mixed, MixedConfig, MixedReport};

struct Replica {
    child: Child,
    url: String,
}

impl Replica {
    /// A `keystone-dashboard` process on `port`, reached by browsers at `public_url`.
    async fn start(port: u16, public_url: &str, sandbox_url: &str, redis_url: &str) -> Self {
        // scripts/test points this at the release build: debug replicas would measure the compiler.
        let binary = std::env::var("KEYSTONE_DASHBOARD_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_keystone-dashboard").to_owned());
        let child = Command::new(binary)
            .args(["--listen-addr", &format!("127.0.0.1:{port}")])
            .args(["--public-url", public_url])
            .args(["--api-url", sandbox_url])
            .args(["--auth-issuer", &format!("{sandbox_url}/")])
            .args(["--auth-client-id", "keystone-dashboard"])
            .args(["--auth-organization", keystone_sandbox::seed::ORG_ID])
            .args(["--session-store", "redis", "--redis-url", redis_url])
            .args(["--log-filter", "warn"])
            // Every visitor signs in from 127.0.0.1: the per-address sign-in limit would stop them.
            .args(["--sign-in-rate-limit-per-minute", "1000000"])
            .env("KEYSTONE_AUTH_CLIENT_SECRET", common::CLIENT_SECRET)
            .env("KEYSTONE_TOKEN_ENCRYPTION_KEY", common::TEST_TOKEN_KEY)
            .stdout(Stdio::null())
            .spawn()
            .expect("the dashboard binary runs");
        // Owned from here on: a failed start still kills and reaps the process (Drop).
        let replica = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..200 {
            if let Ok(reply) = reqwest::get(format!("{}/healthz", replica.url)).await {
                if reply.status().is_success() {
                    return replica;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("replica on {port} did not start");
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn print(phase: &str, report: &MixedReport) {
    eprintln!(
        "\n== {phase}: {} of {} sessions signed in, {:.1} s",
        report.signed_in, report.sessions, report.seconds
    );
    eprintln!(
        "   sign-in: {} requests, p50 {:.1} ms, p99 {:.1} ms",
        report.sign_in.requests, report.sign_in.p50_ms, report.sign_in.p99_ms
    );
    for (kind, summary) in &report.by_kind {
        eprintln!(
            "   {kind:<14} {:>6} requests {:>7.1}/s  p50 {:>7.2} ms  p99 {:>8.2} ms  5xx {}  lost {}  {:?}",
            summary.requests,
            summary.per_second,
            summary.p50_ms,
            summary.p99_ms,
            summary.server_errors,
            summary.transport_errors,
            summary.statuses
        );
    }
    let all = &report.overall;
    eprintln!(
        "   all            {:>6} requests {:>7.1}/s  p50 {:>7.2} ms  p99 {:>8.2} ms  5xx {}  lost {}",
        all.requests, all.per_second, all.p50_ms, all.p99_ms, all.server_errors, all.transport_errors
    );
    eprintln!(
        "   writes: {} adds, {} deletes acknowledged; {} present and {} absent as acknowledged; {} lost; {} unknown",
        report.writes.acknowledged_adds,
        report.writes.acknowledged_deletes,
        report.writes.verified_present,
        report.writes.verified_absent,
        report.writes.lost.len(),
        report.writes.unknown_outcome
    );
    eprintln!(
        "   signed-out replies {}, signed in again {}, problems {:?}",
        report.signed_out_replies, report.signed_in_again, report.problems
    );
}

fn verified(report: &MixedReport) {
    assert!(report.writes.lost.is_empty(), "{:?}", report.writes.lost);
    assert!(report.writes.acknowledged_adds > 0, "writes happened");
    assert_eq!(
        report.writes.verified_present
            + report.writes.verified_absent
            + report.writes.unknown_deletes,
        report.writes.acknowledged_adds,
        "every acknowledged add is present, or deleted and absent (or its delete's outcome unknown)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "about two minutes: scripts/test runs it as its own step"]
async fn two_replicas_on_redis_survive_load_a_replica_loss_and_a_redis_restart() {
    let sessions = setting("KEYSTONE_SCALE_SESSIONS", 200) as usize;
    let seconds = setting("KEYSTONE_SCALE_SECONDS", 60);
    let mut redis = RedisServer::start().await;
    let (first_port, second_port) = (free_port(), free_port());
    let public_url = format!("http://127.0.0.1:{first_port}");
    let sandbox = spawn_sandbox(&public_url, |sandbox| {
        // The API's own per-environment limit is not what this test measures.
        sandbox.default_rate_limit_rpm = 1_000_000;
    })
    .await;
    let sandbox_url = sandbox.base_url();
    let mut first = Replica::start(first_port, &public_url, &sandbox_url, &redis.url).await;
    let second = Replica::start(second_port, &public_url, &sandbox_url, &redis.url).await;
    let config = |run_tag: u16, sessions: usize, seconds: u64, sign_in_again: bool| MixedConfig {
        targets: vec![first_url(first_port), second.url.clone()],
        origin: public_url.clone(),
        sessions,
        duration: Duration::from_secs(seconds),
        // About 200 requests per second at 200 sessions: busy for two cores running both
        // replicas (release builds, from scripts/test), the sandbox, Redis and the load itself.
        think_time: Duration::from_millis(1_000),
        users: vec![common::ADA.to_owned()],
        sign_in_again,
        request_timeout: Duration::from_secs(30),
        run_tag,
    };

    // 1. Steady load on both replicas.
    let steady = run_mixed(config(1, sessions, seconds, false)).await;
    print("steady load, two replicas", &steady);
    assert_eq!(steady.signed_in, sessions, "{:?}", steady.problems);
    assert_eq!(
        steady.overall.server_errors, 0,
        "{:?}",
        steady.overall.statuses
    );
    assert_eq!(steady.overall.transport_errors, 0);
    assert_eq!(steady.signed_out_replies, 0);
    assert!(steady.problems.is_empty(), "{:?}", steady.problems);
    verified(&steady);

    // 2. One replica dies mid-run; its visitors fail over to the other with the same cookie.
    let failover_seconds = (seconds / 3).max(10);
    let run = tokio::spawn(run_mixed(config(2, sessions / 2, failover_seconds, false)));
    tokio::time::sleep(Duration::from_secs(failover_seconds / 2)).await;
    first.kill();
    let failover = run.await.unwrap();
    print("a replica killed mid-run", &failover);
    assert_eq!(
        failover.overall.server_errors, 0,
        "{:?}",
        failover.overall.statuses
    );
    // Only requests in flight on the dead replica (or the first try after) see no reply.
    assert!(
        failover.overall.transport_errors <= failover.signed_in as u64,
        "{} lost requests",
        failover.overall.transport_errors
    );
    assert_eq!(
        failover.signed_out_replies, 0,
        "sessions continued on the other replica without signing in again"
    );
    verified(&failover);

    // 3. Redis restarts empty: everyone signs in again; nobody sees a 500.
    let restart_seconds = (seconds / 4).max(10);
    let run = tokio::spawn(run_mixed(MixedConfig {
        targets: vec![second.url.clone()],
        ..config(3, sessions / 4, restart_seconds, true)
    }));
    tokio::time::sleep(Duration::from_secs(restart_seconds / 3)).await;
    redis.restart().await;
    let restarted = run.await.unwrap();
    print("Redis restarted", &restarted);
    let statuses = &restarted.overall.statuses;
    assert_eq!(statuses.get("500"), None, "{statuses:?}");
    assert!(restarted.signed_out_replies > 0, "the sessions were gone");
    assert!(
        restarted.signed_in_again >= restarted.signed_in as u64,
        "every visitor signed in again: {} of {}",
        restarted.signed_in_again,
        restarted.signed_in
    );
    verified(&restarted);
}

fn first_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}
