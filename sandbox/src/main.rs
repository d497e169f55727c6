use clap::Parser;
use keystone_sandbox::SandboxConfig;

/// Auth0-compatible identity provider and KeyStone API emulator, for development and tests.
#[derive(Debug, Parser)]
#[command(name = "keystone-sandbox", version)]
struct Cli {
    #[command(flatten)]
    sandbox: SandboxConfig,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let mut cli = Cli::parse();
    if cli.sandbox.addr.port() == 0 {
        cli.sandbox.addr.set_port(4010);
    }
    let running = keystone_sandbox::start(&cli.sandbox).await?;
    println!("KeyStone sandbox listening on {}", running.base_url());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
