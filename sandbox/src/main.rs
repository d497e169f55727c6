use clap::Parser;
use keystone_sandbox::{seed, SandboxConfig};

/// Auth0-compatible identity provider and KeyStone API emulator, for development and tests.
///
/// Serves the identity provider at the root (`/.well-known/openid-configuration`, `/authorize`,
/// `/oauth/token`, ...), the KeyStone API under `/v1`, and fault injection under `/_sandbox/faults`.
#[derive(Debug, Parser)]
#[command(name = "keystone-sandbox", version, about)]
struct Cli {
    #[command(flatten)]
    sandbox: SandboxConfig,
}

// The benchmarks run this beside the dashboard on the same cores: glibc's allocator was a quarter
// of its CPU under a members page load (malloc, free and consolidation), CPU the figures then
// charged to the dashboard. The dashboard's allocator, already in the tree.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let sandbox = match keystone_sandbox::start(cli.sandbox).await {
        Ok(sandbox) => sandbox,
        Err(error) => {
            eprintln!("keystone-sandbox: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let config = &sandbox.state.config;
    let base = sandbox.base_url();
    println!("KeyStone sandbox is running");
    println!(
        "  identity provider  {}  ({:?} profile; discovery: {base}/.well-known/openid-configuration)",
        sandbox.state.issuer, config.oidc_profile
    );
    println!(
        "  KeyStone API       {base}/v1  (audience {})",
        keystone_sandbox::API_AUDIENCE
    );
    println!("  fault injection    {base}/_sandbox/faults");
    println!(
        "  dashboard client   id {}  secret {}",
        config.dashboard_client_id, config.dashboard_client_secret
    );
    println!(
        "                     redirect {}/auth/callback",
        config.dashboard_url.trim_end_matches('/')
    );
    println!("  organization       {} ({})", seed::ORG_ID, seed::ORG_NAME);
    for environment in sandbox.state.store.read(|data| data.environments.clone()) {
        println!(
            "  M2M {:<14} id {}  secret {}",
            environment.slug,
            environment.auth0_client_id,
            seed::m2m_client_secret(&environment.slug)
        );
    }
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
    std::process::ExitCode::SUCCESS
}
