//! The KeyStone sandbox: an Auth0-compatible identity provider and an emulator of the KeyStone API,
//! served on loopback so the dashboard can be run, demonstrated and tested without the real services.
//!
//! The library is what the dashboard embeds (`Sandbox::start`) and what tests spawn on port 0;
//! the `keystone-sandbox` binary is a thin command-line wrapper around it.

use std::net::SocketAddr;

use axum::{routing::get, Router};
use tokio::net::TcpListener;

/// Settings of one sandbox instance.
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxConfig {
    /// Address the sandbox listens on (port 0 picks a free port).
    #[arg(
        long = "sandbox-addr",
        env = "KEYSTONE_SANDBOX_ADDR",
        default_value = "127.0.0.1:0"
    )]
    pub addr: SocketAddr,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

/// A running sandbox; dropping the handle leaves the server running until the runtime stops.
#[derive(Debug)]
pub struct RunningSandbox {
    pub addr: SocketAddr,
}

impl RunningSandbox {
    /// Base URL, e.g. `http://127.0.0.1:4010`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// The sandbox's HTTP routes.
pub fn router() -> Router {
    Router::new().route("/healthz", get(|| async { "ok" }))
}

/// Binds the configured address and serves the sandbox in a background task.
pub async fn start(config: &SandboxConfig) -> std::io::Result<RunningSandbox> {
    let listener = TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router()).await {
            tracing::error!(%error, "sandbox server stopped");
        }
    });
    Ok(RunningSandbox { addr })
}
