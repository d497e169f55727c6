//! `keystone-load`: load against a running dashboard (and its sandbox), on loopback.
//!
//! - `mixed`: N sessions sign in, then browse, read and change the IP allowlist for a set time
//!   against one or more replicas; every acknowledged write is checked afterwards.
//! - `overhead`: the same allowlist read straight from the API and through the dashboard's server
//!   function (and through a proxy, if given), same concurrency, alternating runs.
//! - `page`: one page, signed in, at a fixed concurrency (server-side render throughput).
//!
//! Each prints a table and, with `--json FILE`, writes the figures as JSON.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use keystone_sandbox::load::{self, http_client, MixedConfig, Samples, Summary, Visitor};
use serde_json::json;

// The benchmarks run the load beside the dashboard on the same cores: what the load tool spends
// in the allocator is CPU the figures charge to the dashboard. The dashboard's allocator, already
// in the tree (see the sandbox's `main.rs` for what glibc's cost the sandbox).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "keystone-load", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Write the figures as JSON to this file.
    #[arg(long, global = true)]
    json: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    Mixed(MixedArgs),
    Overhead(OverheadArgs),
    Page(PageArgs),
}

#[derive(Args)]
struct Common {
    /// The dashboard's public URL (the browsers' Origin).
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    origin: String,
    /// Who signs in.
    #[arg(long, default_value = "auth0|acme-ada")]
    user: String,
}

#[derive(Args)]
struct MixedArgs {
    #[command(flatten)]
    common: Common,
    /// A replica's base URL; repeat for several. Defaults to the origin.
    #[arg(long = "target")]
    targets: Vec<String>,
    #[arg(long, default_value_t = 20)]
    sessions: usize,
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Pause between one session's actions, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    think_ms: u64,
    #[arg(long)]
    sign_in_again: bool,
}

#[derive(Args)]
struct OverheadArgs {
    #[command(flatten)]
    common: Common,
    /// The sandbox (the KeyStone API) base URL.
    #[arg(long, default_value = "http://127.0.0.1:4010")]
    sandbox: String,
    /// A reverse proxy in front of the sandbox (nginx `proxy_pass`), measured as the floor.
    #[arg(long)]
    proxy: Option<String>,
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    #[arg(long, default_value_t = 3)]
    runs: usize,
}

#[derive(Args)]
struct PageArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long)]
    path: String,
    /// Switch the session to this environment first.
    #[arg(long)]
    environment: Option<String>,
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    #[arg(long, default_value_t = 3)]
    runs: usize,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Mixed(args) => mixed(args).await,
        Command::Overhead(args) => overhead(args).await,
        Command::Page(args) => page(args).await,
    };
    match result {
        Ok(figures) => {
            if let Some(path) = cli.json {
                let text = serde_json::to_string_pretty(&figures).expect("serialises");
                if let Err(error) = std::fs::write(&path, text) {
                    eprintln!("keystone-load: {}: {error}", path.display());
                    return std::process::ExitCode::FAILURE;
                }
            }
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("keystone-load: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn mixed(args: MixedArgs) -> Result<serde_json::Value, String> {
    let targets = if args.targets.is_empty() {
        vec![args.common.origin.clone()]
    } else {
        args.targets
    };
    let report = load::run_mixed(MixedConfig {
        targets,
        origin: args.common.origin,
        sessions: args.sessions,
        duration: Duration::from_secs(args.seconds),
        think_time: Duration::from_millis(args.think_ms),
        users: vec![args.common.user],
        sign_in_again: args.sign_in_again,
        request_timeout: Duration::from_secs(20),
        run_tag: std::process::id() as u16,
    })
    .await;
    println!(
        "{} of {} sessions signed in; {:.1} s",
        report.signed_in, report.sessions, report.seconds
    );
    print_header();
    print_row("sign-in", &report.sign_in);
    for (kind, summary) in &report.by_kind {
        print_row(kind, summary);
    }
    print_row("all", &report.overall);
    let writes = &report.writes;
    println!(
        "writes: {} adds and {} deletes acknowledged, {} verified present, {} verified absent, {} lost, {} with unknown outcome",
        writes.acknowledged_adds,
        writes.acknowledged_deletes,
        writes.verified_present,
        writes.verified_absent,
        writes.lost.len(),
        writes.unknown_outcome
    );
    for problem in &report.problems {
        println!("problem: {problem}");
    }
    Ok(serde_json::to_value(&report).expect("serialises"))
}

/// A signed-in visitor and the cookie it holds.
async fn signed_in(common: &Common, target: &str) -> Result<(Visitor, String), String> {
    let mut visitor = Visitor::new(
        http_client(Duration::from_secs(20)),
        vec![target.to_owned()],
        0,
        common.origin.clone(),
    );
    visitor
        .sign_in(&common.user, &mut Samples::default())
        .await?;
    let cookie = visitor.cookie().ok_or("no session cookie")?.to_owned();
    Ok((visitor, cookie))
}

async fn overhead(args: OverheadArgs) -> Result<serde_json::Value, String> {
    let (_, cookie) = signed_in(&args.common, &args.common.origin).await?;
    let http = http_client(Duration::from_secs(20));
    let token = json_of(
        http.post(format!("{}/_sandbox/user-token", args.sandbox))
            .json(&json!({ "user_id": args.common.user })),
    )
    .await?;
    let token = token["access_token"]
        .as_str()
        .ok_or("the sandbox gave no token")?
        .to_owned();
    let environments = json_of(
        http.get(format!("{}/v1/platforms/me/environments", args.sandbox))
            .bearer_auth(&token)
            // Required on every user call, this one included; every platform has `development`.
            .header("x-keystone-environment", "development"),
    )
    .await?;
    let development = environments["items"]
        .as_array()
        .and_then(|items| items.iter().find(|item| item["slug"] == "development"))
        .and_then(|item| item["id"].as_str())
        .ok_or("no development environment")?
        .to_owned();
    let path = format!("/v1/platforms/me/environments/{development}/ip-allowlist");

    // The API called as a client of it would: bearer token and environment header.
    let api_read = |base: &str| {
        let (http, url, token) = (http.clone(), format!("{base}{path}"), token.clone());
        move || {
            http.get(&url)
                .bearer_auth(&token)
                .header("x-keystone-environment", "development")
        }
    };
    let direct = api_read(&args.sandbox);
    let proxied = args.proxy.as_deref().map(api_read);
    let through_dashboard = {
        let http = http.clone();
        let url = format!("{}/api/allowlist", args.common.origin);
        let origin = args.common.origin.clone();
        move || {
            http.post(&url)
                .header("cookie", format!("{}={cookie}", load::SESSION_COOKIE))
                .header("sec-fetch-site", "same-origin")
                .header("origin", &origin)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("")
        }
    };

    let duration = Duration::from_secs(args.seconds);
    let mut runs: Vec<(&str, Vec<Summary>)> = vec![("direct", vec![]), ("dashboard", vec![])];
    if proxied.is_some() {
        runs.push(("nginx", vec![]));
    }
    // Warm-up: pools, caches and the first token refresh are not what is measured.
    load::run_fixed(args.concurrency, Duration::from_secs(1), direct.clone()).await;
    load::run_fixed(
        args.concurrency,
        Duration::from_secs(1),
        through_dashboard.clone(),
    )
    .await;
    for _ in 0..args.runs {
        // Alternating, so drift on a shared machine hits both sides alike.
        runs[0]
            .1
            .push(load::run_fixed(args.concurrency, duration, direct.clone()).await);
        runs[1]
            .1
            .push(load::run_fixed(args.concurrency, duration, through_dashboard.clone()).await);
        if let Some(proxied) = &proxied {
            runs[2]
                .1
                .push(load::run_fixed(args.concurrency, duration, proxied.clone()).await);
        }
    }
    print_header();
    let mut figures = serde_json::Map::new();
    for (name, summaries) in &runs {
        let median = median_summary(summaries);
        print_row(name, &median);
        figures.insert(
            (*name).to_owned(),
            serde_json::to_value(&median).expect("serialises"),
        );
    }
    let direct = median_summary(&runs[0].1);
    let dashboard = median_summary(&runs[1].1);
    let ratio = dashboard.per_second / direct.per_second.max(f64::EPSILON);
    let added_p50 = dashboard.p50_ms - direct.p50_ms;
    let added_p99 = dashboard.p99_ms - direct.p99_ms;
    println!(
        "dashboard keeps {:.0} % of the direct throughput; adds {:.2} ms at p50 and {:.2} ms at p99",
        ratio * 100.0,
        added_p50,
        added_p99
    );
    figures.insert("throughput_ratio".into(), json!(ratio));
    figures.insert("added_p50_ms".into(), json!(added_p50));
    figures.insert("added_p99_ms".into(), json!(added_p99));
    figures.insert("concurrency".into(), json!(args.concurrency));
    figures.insert("runs".into(), json!(args.runs));
    Ok(serde_json::Value::Object(figures))
}

async fn page(args: PageArgs) -> Result<serde_json::Value, String> {
    let (mut visitor, cookie) = signed_in(&args.common, &args.common.origin).await?;
    if let Some(environment) = &args.environment {
        match visitor
            .server_fn(
                "environment",
                &[("slug", environment)],
                &mut Samples::default(),
            )
            .await
        {
            load::Outcome::Reply { status, .. } if status.is_success() => {}
            _ => return Err(format!("could not switch to {environment}")),
        }
    }
    let http = http_client(Duration::from_secs(20));
    let url = format!("{}{}", args.common.origin, args.path);
    let request = move || {
        http.get(&url)
            .header("cookie", format!("{}={cookie}", load::SESSION_COOKIE))
            .header("sec-fetch-site", "same-origin")
    };
    load::run_fixed(args.concurrency, Duration::from_secs(1), request.clone()).await;
    let mut summaries = Vec::new();
    for _ in 0..args.runs {
        summaries.push(
            load::run_fixed(
                args.concurrency,
                Duration::from_secs(args.seconds),
                request.clone(),
            )
            .await,
        );
    }
    let median = median_summary(&summaries);
    print_header();
    print_row(&args.path, &median);
    Ok(
        json!({ "path": args.path, "concurrency": args.concurrency, "runs": args.runs, "median": median }),
    )
}

async fn json_of(request: reqwest::RequestBuilder) -> Result<serde_json::Value, String> {
    request
        .send()
        .await
        .map_err(|error| error.to_string())?
        .json()
        .await
        .map_err(|error| error.to_string())
}

/// The run with the median throughput (its latencies come with it, so the figures stay consistent).
fn median_summary(summaries: &[Summary]) -> Summary {
    let mut sorted: Vec<&Summary> = summaries.iter().collect();
    sorted.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    sorted[sorted.len() / 2].clone()
}

fn print_header() {
    println!(
        "{:<16} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7}",
        "", "requests", "req/s", "p50 ms", "p99 ms", "max ms", "5xx", "lost"
    );
}

fn print_row(name: &str, summary: &Summary) {
    println!(
        "{:<16} {:>9} {:>9.1} {:>9.2} {:>9.2} {:>9.1} {:>7} {:>7}",
        name,
        summary.requests,
        summary.per_second,
        summary.p50_ms,
        summary.p99_ms,
        summary.max_ms,
        summary.server_errors,
        summary.transport_errors
    );
}
