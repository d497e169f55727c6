//! A load generator for the dashboard (the `keystone-load` binary, the scale-out test and the
//! benchmark): sessions that sign in through the sandbox and then browse, read and change the IP
//! allowlist as people do, against one or more replicas. Bounded by time; loopback only.

mod stats;
mod visitor;

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde::Serialize;
use tokio::sync::Semaphore;

pub use stats::{Samples, Summary};
pub use visitor::{http_client, Outcome, Visitor, SESSION_COOKIE};

#[derive(Debug, Clone)]
pub struct MixedConfig {
    /// Replica base URLs; sessions are spread over them round robin.
    pub targets: Vec<String>,
    /// The dashboard's public URL (the browsers' `Origin`).
    pub origin: String,
    pub sessions: usize,
    pub duration: Duration,
    /// Pause between one session's actions (jittered ±50 %).
    pub think_time: Duration,
    /// Members who sign in, in turn.
    pub users: Vec<String>,
    /// Sign in again when the dashboard says the session ended (after a store outage, say).
    pub sign_in_again: bool,
    pub request_timeout: Duration,
    /// Part of every network written, so runs against the same data never collide.
    pub run_tag: u16,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct WriteReport {
    pub acknowledged_adds: u64,
    pub acknowledged_deletes: u64,
    /// Writes that got no answer or a 5xx: they may or may not have applied, so they are left out
    /// of the verification (and counted here).
    pub unknown_outcome: u64,
    /// Of those, deletes of an acknowledged add (that add is then neither present nor absent for sure).
    pub unknown_deletes: u64,
    /// Acknowledged adds that are in the list afterwards (and not deleted since).
    pub verified_present: u64,
    /// Acknowledged deletes whose entry is gone afterwards.
    pub verified_absent: u64,
    /// Acknowledged, but the list says otherwise.
    pub lost: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MixedReport {
    pub sessions: usize,
    pub signed_in: usize,
    pub seconds: f64,
    pub sign_in: Summary,
    /// Every request of the timed phase.
    pub overall: Summary,
    pub by_kind: BTreeMap<String, Summary>,
    /// Replies saying the session had ended (a redirect to the login, or a 401).
    pub signed_out_replies: u64,
    pub signed_in_again: u64,
    pub writes: WriteReport,
    /// Up to 20 distinct unexpected answers, for the log.
    pub problems: Vec<String>,
}

/// What one session did.
#[derive(Default)]
struct SessionLog {
    samples: HashMap<&'static str, Samples>,
    /// cidr → entry id, for adds that were acknowledged; removed when the delete is acknowledged.
    live: HashMap<String, String>,
    deleted: Vec<String>,
    acknowledged_adds: u64,
    unknown_outcome: u64,
    unknown_deletes: u64,
    signed_out_replies: u64,
    signed_in_again: u64,
    problems: Vec<String>,
}

impl SessionLog {
    fn samples(&mut self, kind: &'static str) -> &mut Samples {
        self.samples.entry(kind).or_default()
    }

    fn problem(&mut self, text: String) {
        if self.problems.len() < 5 {
            self.problems.push(text);
        }
    }
}

const PAGES: [&str; 3] = ["/", "/members", "/security"];

/// Signs in `config.sessions` visitors, runs the mix for `config.duration`, then checks every
/// acknowledged write against the list.
pub async fn run_mixed(config: MixedConfig) -> MixedReport {
    assert!(!config.targets.is_empty() && !config.users.is_empty());
    let http = http_client(config.request_timeout);
    let config = Arc::new(config);

    // Sign-ins first, at most 32 at a time (a morning's logins, not a single instant).
    let gate = Arc::new(Semaphore::new(32));
    let mut sign_ins = Vec::new();
    for index in 0..config.sessions {
        let (http, config, gate) = (http.clone(), config.clone(), gate.clone());
        sign_ins.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.expect("never closed");
            let mut visitor =
                Visitor::new(http, config.targets.clone(), index, config.origin.clone());
            let mut samples = Samples::default();
            let user = &config.users[index % config.users.len()];
            let result = visitor.sign_in(user, &mut samples).await;
            (visitor, samples, result)
        }));
    }
    let mut visitors = Vec::new();
    let mut sign_in_samples = Samples::default();
    let mut problems = Vec::new();
    let sign_in_started = Instant::now();
    for handle in sign_ins {
        let (visitor, samples, result) = handle.await.expect("sign-in task");
        sign_in_samples.merge(&samples);
        match result {
            Ok(()) => visitors.push(visitor),
            Err(error) => {
                if problems.len() < 20 {
                    problems.push(format!("sign-in: {error}"));
                }
            }
        }
    }
    let sign_in = sign_in_samples.summary(sign_in_started.elapsed());
    let signed_in = visitors.len();

    let started = Instant::now();
    let deadline = started + config.duration;
    let mut tasks = Vec::new();
    for (index, visitor) in visitors.into_iter().enumerate() {
        let config = config.clone();
        tasks.push(tokio::spawn(session(index, visitor, config, deadline)));
    }
    let mut logs = Vec::new();
    for task in tasks {
        logs.push(task.await.expect("session task"));
    }
    let seconds = started.elapsed();

    let mut by_kind: BTreeMap<String, Samples> = BTreeMap::new();
    let mut overall = Samples::default();
    let mut writes = WriteReport::default();
    let (mut live, mut deleted) = (HashMap::new(), Vec::new());
    let (mut signed_out_replies, mut signed_in_again) = (0, 0);
    for log in logs {
        for (kind, samples) in &log.samples {
            overall.merge(samples);
            by_kind
                .entry((*kind).to_owned())
                .or_default()
                .merge(samples);
        }
        writes.acknowledged_adds += log.acknowledged_adds;
        writes.acknowledged_deletes += log.deleted.len() as u64;
        writes.unknown_outcome += log.unknown_outcome;
        writes.unknown_deletes += log.unknown_deletes;
        signed_out_replies += log.signed_out_replies;
        signed_in_again += log.signed_in_again;
        live.extend(log.live);
        deleted.extend(log.deleted);
        for problem in log.problems {
            if problems.len() < 20 && !problems.contains(&problem) {
                problems.push(problem);
            }
        }
    }
    match current_networks(&http, &config).await {
        Ok(networks) => {
            for cidr in live.keys() {
                if networks.contains(cidr) {
                    writes.verified_present += 1;
                } else {
                    writes.lost.push(format!("added {cidr} is missing"));
                }
            }
            for cidr in &deleted {
                if networks.contains(cidr) {
                    writes.lost.push(format!("deleted {cidr} is still there"));
                } else {
                    writes.verified_absent += 1;
                }
            }
        }
        Err(error) => problems.push(format!("verification: {error}")),
    }
    MixedReport {
        sessions: config.sessions,
        signed_in,
        seconds: seconds.as_secs_f64(),
        sign_in,
        overall: overall.summary(seconds),
        by_kind: by_kind
            .into_iter()
            .map(|(kind, samples)| (kind, samples.summary(seconds)))
            .collect(),
        signed_out_replies,
        signed_in_again,
        writes,
        problems,
    }
}

/// One session's loop: pages, reads and writes in a fixed rotation, with think time.
async fn session(
    index: usize,
    mut visitor: Visitor,
    config: Arc<MixedConfig>,
    deadline: Instant,
) -> SessionLog {
    let mut log = SessionLog::default();
    let mut jitter = Jitter(index as u64 * 2_654_435_761 + 1);
    let run = config.run_tag;
    // Spread the first requests over one think time, so sessions do not move in lockstep (but
    // never past the end of the run).
    let first = Instant::now() + config.think_time.mul_f64(jitter.next_unit());
    tokio::time::sleep_until(first.min(deadline).into()).await;
    let mut step = index;
    let mut serial = 0u32;
    while Instant::now() < deadline {
        let outcome = match step % 8 {
            0 | 3 | 7 => {
                let path = PAGES[(step / 8) % PAGES.len()];
                let outcome = visitor.page(path, log.samples("page")).await;
                expect_ok(&mut log, "page", path, outcome)
            }
            1 | 4 => {
                let outcome = visitor
                    .server_fn("allowlist", &[], log.samples("read"))
                    .await;
                expect_ok(&mut log, "read", "allowlist", outcome)
            }
            6 => {
                let outcome = visitor.server_fn("shell", &[], log.samples("read")).await;
                expect_ok(&mut log, "read", "shell", outcome)
            }
            _ => {
                serial += 1;
                write(&mut visitor, &mut log, run, index, serial).await
            }
        };
        if outcome == Step::SignedOut {
            log.signed_out_replies += 1;
            if config.sign_in_again {
                let user = &config.users[index % config.users.len()];
                match visitor.sign_in(user, log.samples("sign-in again")).await {
                    Ok(()) => log.signed_in_again += 1,
                    Err(error) => log.problem(format!("sign-in again: {error}")),
                }
            }
        }
        step += 1;
        let pause = config.think_time.mul_f64(0.5 + jitter.next_unit());
        if Instant::now() + pause >= deadline {
            break;
        }
        tokio::time::sleep(pause).await;
    }
    log
}

#[derive(PartialEq)]
enum Step {
    Done,
    SignedOut,
}

fn expect_ok(log: &mut SessionLog, kind: &str, what: &str, outcome: Outcome) -> Step {
    match outcome {
        Outcome::Reply { status, .. } if status.is_success() => Step::Done,
        Outcome::Reply { status, body } if is_signed_out(status, &body) => Step::SignedOut,
        Outcome::Reply { status, body } => {
            log.problem(format!("{kind} {what}: {status} {}", clip(&body)));
            Step::Done
        }
        Outcome::Lost { connect } => {
            log.problem(format!("{kind} {what}: no reply (connect: {connect})"));
            Step::Done
        }
    }
}

fn is_signed_out(status: StatusCode, body: &str) -> bool {
    status == StatusCode::UNAUTHORIZED
        || (status == StatusCode::SEE_OTHER && body.starts_with("/auth/login"))
}

/// Adds a network when the session holds none, deletes it otherwise: at most one live entry per
/// session keeps the list far below the API's 500-entry cap.
async fn write(
    visitor: &mut Visitor,
    log: &mut SessionLog,
    run: u16,
    index: usize,
    serial: u32,
) -> Step {
    if let Some((cidr, id)) = log.live.iter().next().map(|(c, i)| (c.clone(), i.clone())) {
        let outcome = visitor
            .confirmed_server_fn("allowlist/delete", &[("id", &id)], log.samples("write"))
            .await;
        match outcome {
            Outcome::Reply { status, .. } if status.is_success() => {
                log.live.remove(&cidr);
                log.deleted.push(cidr);
                Step::Done
            }
            Outcome::Reply { status, body } if is_signed_out(status, &body) => Step::SignedOut,
            Outcome::Reply { status, body } if status.is_client_error() => {
                log.problem(format!("delete {cidr}: {status} {}", clip(&body)));
                Step::Done
            }
            _ => {
                // Unknown: it may have applied. Stop tracking it either way.
                log.live.remove(&cidr);
                log.unknown_outcome += 1;
                log.unknown_deletes += 1;
                Step::Done
            }
        }
    } else {
        // A documentation prefix (RFC 3849), unique per run, session and write.
        let cidr = format!("2001:db8:{run:x}:{index:x}:{serial:x}::/80");
        let description = format!("load session {index} write {serial}");
        let outcome = visitor
            .confirmed_server_fn(
                "allowlist/add",
                &[("cidr", &cidr), ("description", &description)],
                log.samples("write"),
            )
            .await;
        match outcome {
            Outcome::Reply { status, body } if status.is_success() => {
                let id = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|entry| entry["id"].as_str().map(str::to_owned));
                match id {
                    Some(id) => {
                        log.acknowledged_adds += 1;
                        log.live.insert(cidr, id);
                    }
                    None => log.problem(format!("add {cidr}: a reply without an id")),
                }
                Step::Done
            }
            Outcome::Reply { status, body } if is_signed_out(status, &body) => Step::SignedOut,
            Outcome::Reply { status, body } if status.is_client_error() => {
                log.problem(format!("add {cidr}: {status} {}", clip(&body)));
                Step::Done
            }
            _ => {
                log.unknown_outcome += 1;
                Step::Done
            }
        }
    }
}

/// The allowlist as the dashboard shows it now, read by a fresh session.
async fn current_networks(
    http: &reqwest::Client,
    config: &MixedConfig,
) -> Result<Vec<String>, String> {
    let mut last_error = String::from("no replica answered");
    for first in 0..config.targets.len() {
        let mut visitor = Visitor::new(
            http.clone(),
            config.targets.clone(),
            first,
            config.origin.clone(),
        );
        let mut samples = Samples::default();
        if let Err(error) = visitor.sign_in(&config.users[0], &mut samples).await {
            last_error = error;
            continue;
        }
        match visitor.server_fn("allowlist", &[], &mut samples).await {
            Outcome::Reply { status, body } if status.is_success() => {
                let view: serde_json::Value =
                    serde_json::from_str(&body).map_err(|error| error.to_string())?;
                return Ok(view["entries"]
                    .as_array()
                    .map(|entries| {
                        entries
                            .iter()
                            .filter_map(|entry| entry["cidr"].as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default());
            }
            Outcome::Reply { status, body } => last_error = format!("{status} {}", clip(&body)),
            Outcome::Lost { .. } => last_error = "no reply".into(),
        }
    }
    Err(last_error)
}

fn clip(text: &str) -> String {
    text.chars().take(160).collect()
}

/// A tiny deterministic generator (xorshift): runs are repeatable and need no extra crate.
struct Jitter(u64);

impl Jitter {
    fn next_unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The same request again and again from `concurrency` workers for `duration`: throughput and
/// latency of one route (the benchmark's direct-versus-BFF comparison).
pub async fn run_fixed(
    concurrency: usize,
    duration: Duration,
    request: impl Fn() -> reqwest::RequestBuilder + Send + Sync + 'static,
) -> Summary {
    let request = Arc::new(request);
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let request = request.clone();
        workers.push(tokio::spawn(async move {
            let mut samples = Samples::default();
            while Instant::now() < deadline {
                let begun = Instant::now();
                match request().send().await {
                    Ok(reply) => {
                        let status = reply.status().as_u16();
                        let _ = reply.bytes().await;
                        samples.record(begun.elapsed(), Some(status));
                    }
                    Err(_) => samples.record(begun.elapsed(), None),
                }
            }
            samples
        }));
    }
    let mut all = Samples::default();
    for worker in workers {
        all.merge(&worker.await.expect("worker"));
    }
    all.summary(started.elapsed())
}
