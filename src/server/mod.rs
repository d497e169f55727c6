//! The backend-for-frontend: serves the pages and server functions, and (in later modules) holds the
//! session, the tokens and the only client that talks to the KeyStone API.

pub mod config;
pub mod middleware;

use std::{io, net::SocketAddr};

use axum::{extract::FromRef, routing::get, Router};
use leptos::{config::LeptosOptions, nonce::provide_nonce};
use leptos_axum::{file_and_error_handler_with_context, generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::app::{shell, App};
pub use config::{Config, LogFormat};

/// State shared by every handler.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
}

/// A bound, ready-to-run dashboard server (the zero2prod `Application` shape: bind first, so tests can
/// use port 0 and read the real address before serving).
pub struct Application {
    listener: TcpListener,
    router: Router,
    sandbox: Option<keystone_sandbox::RunningSandbox>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("could not listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
    #[error("could not start the embedded sandbox: {0}")]
    Sandbox(#[from] keystone_sandbox::StartError),
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let sandbox = match config.api_url {
            Some(_) => None,
            // No upstream configured: serve the sandbox in-process so the dashboard works out of the box.
            None => {
                let sandbox_config = keystone_sandbox::SandboxConfig {
                    dashboard_url: config.public_url.clone(),
                    ..keystone_sandbox::SandboxConfig::ephemeral()
                };
                Some(keystone_sandbox::start(sandbox_config).await?)
            }
        };
        let listener = TcpListener::bind(config.listen_addr)
            .await
            .map_err(|source| StartupError::Bind {
                addr: config.listen_addr,
                source,
            })?;
        let router = router(&config);
        Ok(Self {
            listener,
            router,
            sandbox,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The embedded sandbox, when no upstream was configured.
    pub fn sandbox(&self) -> Option<&keystone_sandbox::RunningSandbox> {
        self.sandbox.as_ref()
    }

    pub async fn run_until_stopped(self) -> io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown_signal())
            .await
    }
}

/// All routes of the dashboard with their middleware.
pub fn router(config: &Config) -> Router {
    let leptos_options = LeptosOptions::builder()
        .output_name(env!("CARGO_PKG_NAME"))
        .site_root(config.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(config.listen_addr)
        .build();
    let state = AppState { leptos_options };
    let routes = generate_route_list(App);

    let mut router = Router::new()
        .route("/healthz", get(healthz))
        // A fresh CSP nonce per rendered page; `middleware::attach_page_csp` puts it in the header.
        .leptos_routes_with_context(&state, routes, provide_nonce, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            provide_nonce,
            shell,
        ))
        .with_state(state);
    for layer in middleware::security_headers(config.serves_https()) {
        router = router.layer(layer);
    }
    router.layer(TraceLayer::new_for_http())
}

/// Liveness: the process is up and serving. Readiness of dependencies is a separate check.
async fn healthz() -> &'static str {
    "ok"
}

async fn shutdown_signal() {
    // Without a signal handler (rare) the server simply runs until killed.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
