// The CSV export's handler nests the allowlist read's paging futures deeper than rustc's default
// layout query depth (128) allows.
#![recursion_limit = "256"]

use clap::Parser;
use keystone_dashboard::server::{Application, Config, LogFormat};
use tracing_subscriber::EnvFilter;

// Rendering a page allocates many small, short-lived strings and nodes; glibc's allocator spent a
// third of a 500-row render in malloc and free (see `scripts/bench`, SSR figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = Config::parse();
    init_tracing(&config);

    let app = match Application::build(config.clone()).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("keystone-dashboard: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    if let Some(sandbox) = app.sandbox() {
        tracing::info!(url = %sandbox.base_url(), "no KeyStone API configured: using the embedded sandbox");
    }
    tracing::info!(url = %app.public_url(), addr = %app.local_addr(), "KeyStone Dashboard listening");
    match app.run_until_stopped().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("keystone-dashboard: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_tracing(config: &Config) {
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match config.log_format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
