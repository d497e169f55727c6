//! The KeyStone sandbox: an Auth0-compatible identity provider and an emulator of the KeyStone API,
//! served on loopback so the dashboard can be run, demonstrated and tested without the real services.
//!
//! One port serves both faces: the identity provider at the root (`/.well-known/…`, `/authorize`,
//! `/oauth/token`, … as Auth0 names them, or other paths under `--sandbox-oidc-profile generic`),
//! the KeyStone API under `/v1`, and the sandbox's own control endpoints under
//! `/_sandbox`. The library is what the dashboard embeds and what tests spawn on port 0; the
//! `keystone-sandbox` binary is a thin wrapper around it.

pub mod api;
pub mod config;
pub mod control;
pub mod faults;
pub mod idp;
pub mod keys;
pub mod load;
pub mod model;
pub mod permissions;
pub mod seed;
mod serve;
pub mod world;

use std::{net::SocketAddr, sync::Arc, sync::Mutex};

use axum::{routing::get, Router};
use time::OffsetDateTime;
use tokio::{net::TcpListener, sync::watch};

pub use config::SandboxConfig;
use control::Stats;
use faults::Faults;
use keys::SigningKeys;
use world::{Store, Transient};

/// The audience of KeyStone API access tokens.
pub const API_AUDIENCE: &str = "https://api.keystoneos.xyz";

/// Everything a request handler can reach.
pub struct SandboxState {
    pub config: SandboxConfig,
    /// `http://127.0.0.1:<port>` (no trailing slash).
    pub base_url: String,
    /// The `iss` of every token, the discovery document's `issuer` and what the API's token check
    /// expects: the base URL with a trailing slash as Auth0 writes it, or without one in the
    /// `generic` OIDC profile.
    pub issuer: String,
    pub keys: SigningKeys,
    pub store: Store,
    pub transient: Mutex<Transient>,
    pub faults: Mutex<Faults>,
    pub stats: Stats,
}

pub type SharedState = Arc<SandboxState>;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("could not listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    #[error("could not load the sandbox state: {0}")]
    State(std::io::Error),
}

/// A running sandbox. Dropping it stops the server and closes its connections.
pub struct RunningSandbox {
    pub addr: SocketAddr,
    pub state: SharedState,
    shutdown: watch::Sender<bool>,
}

impl RunningSandbox {
    /// Base URL of both the identity provider and the API, e.g. `http://127.0.0.1:4010`.
    pub fn base_url(&self) -> String {
        self.state.base_url.clone()
    }

    /// Stops listening and closes every open connection: callers then get "connection refused".
    pub fn stop(&self) {
        let _ = self.shutdown.send(true);
    }

    /// Serves the same state on the same address again after [`RunningSandbox::stop`].
    pub async fn restart(&mut self) -> Result<(), StartError> {
        self.stop();
        let listener = bind(self.addr).await?;
        let (shutdown, receiver) = watch::channel(false);
        tokio::spawn(serve::serve(
            listener,
            router(self.state.clone()),
            self.state.clone(),
            receiver,
        ));
        self.shutdown = shutdown;
        Ok(())
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Every route of the sandbox.
pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(idp::router(state.config.oidc_profile))
        .merge(api::router(state.clone()))
        .merge(control::router())
        .fallback(api::unmatched)
        .with_state(state)
}

/// Binds the configured address, seeds (or loads) the state and serves it in a background task.
pub async fn start(config: SandboxConfig) -> Result<RunningSandbox, StartError> {
    let listener = bind(config.addr).await?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.addr,
        source,
    })?;
    let base_url = config
        .public_url
        .as_deref()
        .map(|url| url.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| format!("http://{addr}"));
    let keys = SigningKeys::load_or_generate(config.signing_key_file.as_deref())?;
    let store = Store::open(config.state_file.clone(), || {
        seed::seed(
            OffsetDateTime::now_utc(),
            &config.dashboard_url,
            config.seed_members,
        )
    })
    .map_err(StartError::State)?;
    let faults = Faults {
        latency_ms: config.latency_ms,
        failure_rate: config.failure_rate,
        removed_routes: config.removed_routes.clone(),
        ..Faults::default()
    };
    let state = Arc::new(SandboxState {
        issuer: config.oidc_profile.issuer(&base_url),
        base_url,
        keys,
        store,
        transient: Mutex::new(Transient::default()),
        faults: Mutex::new(faults),
        stats: Stats::default(),
        config,
    });
    let (shutdown, receiver) = watch::channel(false);
    tokio::spawn(serve::serve(
        listener,
        router(state.clone()),
        state.clone(),
        receiver,
    ));
    Ok(RunningSandbox {
        addr,
        state,
        shutdown,
    })
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })
}
