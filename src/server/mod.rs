//! The backend-for-frontend: serves the pages and server functions, runs the sign-in, holds the
//! sessions and their tokens, and is the only client of the KeyStone API.

pub mod assets;
pub mod auth;
pub mod config;
pub mod export;
pub mod forwarded;
pub mod health;
pub mod member;
pub mod metrics;
pub mod middleware;
pub mod pages;
pub mod remembered;
pub mod session;
pub mod telemetry;
pub mod upstream;

use std::{io, net::SocketAddr, sync::Arc, time::Duration};

use axum::{extract::FromRef, middleware::from_fn_with_state, routing::get, Router};
use leptos::{config::LeptosOptions, nonce::provide_nonce};
use leptos_axum::{file_and_error_handler_with_context, generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::services::ServeDir;
use tower_sessions::Session;

use crate::app::{shell, App};
pub use config::{Config, LogFormat, SessionStoreKind};
use metrics::Metrics;
use session::{SessionPolicy, SessionState, SignedIn, TokenVault};
use upstream::UpstreamClient;

/// State shared by every handler. One `Arc`: axum clones the state for every handler call and
/// leptos_axum clones it again into each request's context, and a bare `LeptosOptions` clone
/// (and its drop) was 4 % of a server function's CPU.
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

pub struct AppStateInner {
    pub leptos_options: LeptosOptions,
    pub bff: Arc<Bff>,
}

impl std::ops::Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

/// Taken by the file fallback; a page render clones the options its shell closure holds.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Arc<Bff> {
    fn from_ref(state: &AppState) -> Self {
        state.bff.clone()
    }
}

/// The BFF's parts, built once at start.
pub struct Bff {
    pub provider: Arc<auth::IdentityProvider>,
    pub vault: TokenVault,
    pub upstream: UpstreamClient,
    pub policy: SessionPolicy,
    /// Scheme, host and port, without a trailing slash.
    pub public_url: String,
    /// The organization members sign in to when the login link names none.
    pub default_organization: Option<String>,
    /// The store behind sessions and tokens, for readiness and the session count.
    pub store: session::Backend,
    pub metrics: Arc<Metrics>,
    /// Who may read `/metrics`.
    pub metrics_readers: Vec<crate::domain::Cidr>,
    /// The most one request (a page render or a server function) waits on the KeyStone API in
    /// all, however many calls it makes: twice the per-call timeout.
    pub request_budget: Duration,
    pub manager_counts: remembered::Remembered<usize>,
    /// Which roles each member holds, per platform: the roles page's member counts.
    pub members_roles: remembered::Remembered<remembered::MembersRoles>,
    /// Members' names by user id, per platform: who added each allowlist entry.
    pub member_names: remembered::Remembered<Arc<std::collections::HashMap<String, String>>>,
    /// The platform's name and environments as every page's shell shows them, per platform.
    pub shell_platforms: remembered::Remembered<Arc<crate::api::ShellPlatform>>,
    /// `/readyz`'s last verdict.
    pub readiness: health::ReadinessCache,
    /// The environment a session names until it has chosen one (see `Config::bootstrap_environment`).
    pub bootstrap_environment: crate::domain::EnvironmentSlug,
}

impl Bff {
    /// Where the session stands (see [`session::current_member`]). A member seen now moves their
    /// token set's end too, so the sweep of unseen sessions leaves it alone.
    pub async fn current_member(
        &self,
        session: &Session,
    ) -> Result<SessionState, tower_sessions::session::Error> {
        let state = session::current_member(session, &self.policy).await?;
        if let SessionState::SignedIn {
            member,
            marked_seen: true,
        } = &state
        {
            let ends = self
                .policy
                .ends_unless_seen(member.signed_in_at, member.last_seen_at);
            // Not fatal: the record's own mark still keeps the session; a set whose end was not
            // moved is swept at its old end, and the session ends then (as a store that cannot
            // be written to would end it anyway).
            if let Err(error) = self.vault.seen(&member.tokens, ends).await {
                tracing::warn!(%error, "could not move the end of a session's tokens");
            }
        }
        Ok(state)
    }

    /// Ends a session: its tokens are removed (and the refresh token revoked), then its record.
    pub async fn end_session(&self, session: &Session) {
        if let Ok(Some(member)) = session::stored_member(session).await {
            self.end_session_tokens(&member).await;
        }
        if let Err(error) = session.flush().await {
            tracing::error!(%error, "could not delete the session record");
        }
    }

    /// Removes the member's tokens and revokes the refresh token at the provider, so a copy of it
    /// (say, from a backup of the store) is worthless. Returns the provider's session (the `sid`
    /// of the session's ID token), the `logout_hint` for the provider's logout.
    pub async fn end_session_tokens(&self, member: &SignedIn) -> Option<String> {
        // Boxed, like the other rare paths: held inline, the removal (locks, a bounded wait)
        // grew every request future that may end a session.
        match Box::pin(self.vault.remove(&member.tokens)).await {
            Ok(Some(set)) => {
                if let Some(refresh_token) = set.refresh_token {
                    if let Err(error) = self.provider.revoke(&refresh_token).await {
                        tracing::warn!(%error, "could not revoke the refresh token");
                    }
                }
                set.provider_session
                    .or_else(|| set.id_token.as_deref().and_then(auth::provider_session_of))
            }
            Ok(None) => None,
            Err(error) => {
                tracing::error!(%error, "could not remove the session's tokens");
                None
            }
        }
    }
}

/// A bound, ready-to-run dashboard server (the zero2prod `Application` shape: bind first, so tests can
/// use port 0 and read the real address before serving).
pub struct Application {
    /// Wrapped at build, so that nothing can serve a connection with Nagle on.
    listener: Accepting,
    router: Router,
    bff: Arc<Bff>,
    sandbox: Option<keystone_sandbox::RunningSandbox>,
    /// Held until the server stops (see [`session::claim_data_dir`]).
    data_dir: Option<session::DataDirLock>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("could not listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
    #[error("could not start the embedded sandbox: {0}")]
    Sandbox(#[from] keystone_sandbox::StartError),
    #[error("sessions: {0}")]
    Sessions(#[from] session::SetupError),
    #[error("sessions: {0}")]
    Store(#[from] session::StoreError),
    #[error("the identity provider settings are not valid URLs: {0}")]
    ProviderUrl(#[from] oauth2::url::ParseError),
    #[error("the identity provider: {0}")]
    Provider(#[from] auth::DiscoveryError),
    #[error("refusing to start in production mode:\n  - {}", .0.join("\n  - "))]
    Unsafe(Vec<String>),
}

/// Where the API and the identity provider are, and who the dashboard is to the provider.
struct Upstreams {
    api_url: String,
    /// Exactly as the provider writes it (no slash added or removed).
    issuer: String,
    client_id: String,
    client_secret: String,
    auth_method: config::TokenEndpointAuthMethod,
    organization: Option<String>,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        // Before binding anything: an unsafe production setting is reported, not half-started.
        let problems = config.production_problems();
        if !problems.is_empty() {
            return Err(StartupError::Unsafe(problems));
        }
        let listener = TcpListener::bind(config.listen_addr)
            .await
            .map_err(|source| StartupError::Bind {
                addr: config.listen_addr,
                source,
            })?;
        Self::build_with_listener(config, listener).await
    }

    /// Builds on an already bound listener: tests bind first to know the public URL before they
    /// start a sandbox that must know it.
    pub async fn build_with_listener(
        config: Config,
        listener: TcpListener,
    ) -> Result<Self, StartupError> {
        // Before any file in the folder is written (the sandbox's state and signing key, the token
        // key): a second dashboard refused at start has changed nothing of the first one's.
        let data_dir = session::claim_data_dir(&config)?;
        let addr = listener.local_addr().map_err(|source| StartupError::Bind {
            addr: config.listen_addr,
            source,
        })?;
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"))
            .trim_end_matches('/')
            .to_owned();

        let (sandbox, upstreams) = match &config.api_url {
            Some(api_url) => (
                None,
                Upstreams {
                    api_url: api_url.clone(),
                    issuer: config
                        .auth_issuer
                        .clone()
                        .expect("clap requires it with --api-url"),
                    client_id: config
                        .auth_client_id
                        .clone()
                        .expect("clap requires it with --api-url"),
                    client_secret: config
                        .auth_client_secret
                        .clone()
                        .expect("clap requires it with --api-url"),
                    auth_method: config.auth_token_endpoint_auth_method,
                    organization: config.auth_organization.clone(),
                },
            ),
            // No upstream configured: serve the sandbox in-process so the dashboard works out of the box.
            None => {
                let mut sandbox_config = keystone_sandbox::SandboxConfig {
                    dashboard_url: public_url.clone(),
                    ..config.sandbox.clone()
                };
                if config.session_store == SessionStoreKind::Embedded {
                    // Keys and data beside the sessions: after a restart the stored tokens are
                    // still signed by a key the sandbox knows, so people stay signed in.
                    sandbox_config
                        .signing_key_file
                        .get_or_insert_with(|| config.data_dir.join("sandbox-signing-key.pem"));
                    sandbox_config
                        .state_file
                        .get_or_insert_with(|| config.data_dir.join("sandbox-state.json"));
                }
                let sandbox = keystone_sandbox::start(sandbox_config).await?;
                // The sandbox's registration decides, as for the client id and secret.
                let auth_method = match config.sandbox.dashboard_token_auth_method {
                    keystone_sandbox::idp::TokenAuthMethod::ClientSecretPost => {
                        config::TokenEndpointAuthMethod::ClientSecretPost
                    }
                    keystone_sandbox::idp::TokenAuthMethod::ClientSecretBasic => {
                        config::TokenEndpointAuthMethod::ClientSecretBasic
                    }
                };
                let upstreams = Upstreams {
                    api_url: sandbox.base_url(),
                    issuer: sandbox.state.issuer.clone(),
                    client_id: config.sandbox.dashboard_client_id.clone(),
                    client_secret: config.sandbox.dashboard_client_secret.clone(),
                    auth_method,
                    organization: Some(
                        config
                            .auth_organization
                            .clone()
                            .unwrap_or_else(|| keystone_sandbox::seed::ORG_ID.to_owned()),
                    ),
                };
                (Some(sandbox), upstreams)
            }
        };

        let timeout = Duration::from_secs(config.upstream_timeout_seconds);
        let metrics = Arc::new(Metrics::default());
        let provider = Arc::new(auth::IdentityProvider::new(auth::ProviderSettings {
            issuer: &upstreams.issuer,
            client_id: &upstreams.client_id,
            client_secret: &upstreams.client_secret,
            redirect_url: &format!("{public_url}/auth/callback"),
            audience: &config.api_audience,
            auth_method: upstreams.auth_method,
            timeout,
            jwks_max_age: Duration::from_secs(config.auth_jwks_max_age_seconds),
        })?);
        discover_at_start(&provider).await?;
        let policy = SessionPolicy::from_config(&config);
        let (backend, cipher) = session::open(&config).await?;
        let vault = TokenVault::new(
            backend.clone(),
            cipher,
            provider.clone(),
            Duration::from_secs(config.token_refresh_margin_seconds),
            policy.absolute_lifetime,
            session::refresh_lease(timeout),
            metrics.clone(),
        );
        let now = session::now();
        vault.sweep_unseen_sessions(
            policy.unseen_sweep_interval(),
            policy.ends_unless_seen(now, now),
        );
        let bff = Arc::new(Bff {
            provider,
            vault,
            upstream: UpstreamClient::new(
                &upstreams.api_url,
                &config.api_version,
                timeout,
                metrics.clone(),
            ),
            bootstrap_environment: config.bootstrap_environment.clone(),
            policy,
            public_url,
            default_organization: upstreams.organization,
            store: backend.clone(),
            metrics,
            metrics_readers: config.metrics_allowed_from.clone(),
            request_budget: 2 * timeout,
            manager_counts: remembered::Remembered::new(remembered::MANAGER_COUNT_KEPT_FOR),
            member_names: remembered::Remembered::new(remembered::MEMBER_NAMES_KEPT_FOR),
            members_roles: remembered::Remembered::new(remembered::MEMBERS_ROLES_KEPT_FOR),
            shell_platforms: remembered::Remembered::new(remembered::SHELL_PLATFORM_KEPT_FOR),
            readiness: health::ReadinessCache::default(),
        });
        let router = router(&config, bff.clone(), &backend).await?;
        Ok(Self {
            listener: without_nagle(listener),
            router,
            bff,
            sandbox,
            data_dir,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        axum::serve::Listener::local_addr(&self.listener).expect("a bound listener has an address")
    }

    pub fn public_url(&self) -> &str {
        &self.bff.public_url
    }

    /// The whole router, for driving it in-process (the fuzz targets).
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// The BFF's parts, for tests that look inside the store.
    pub fn bff(&self) -> Arc<Bff> {
        self.bff.clone()
    }

    /// The embedded sandbox, when no upstream was configured.
    pub fn sandbox(&self) -> Option<&keystone_sandbox::RunningSandbox> {
        self.sandbox.as_ref()
    }

    /// Takes the embedded sandbox out, so it can outlive this server (tests restart the dashboard).
    pub fn take_sandbox(&mut self) -> Option<keystone_sandbox::RunningSandbox> {
        self.sandbox.take()
    }

    pub async fn run_until_stopped(self) -> io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` completes; the embedded sandbox (if any) stops with the server.
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let _sandbox = self.sandbox;
        let _data_dir = self.data_dir;
        // The peer address feeds the client address (`forwarded`), rate limits and the logs.
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(stop)
            .await
    }
}

/// The dashboard's listener: every connection it accepts has Nagle's algorithm off.
/// A named `fn` type, not `impl Listener`: axum gives `ConnectInfo` the peer address only for
/// `TapIo` itself.
type Accepting = axum::serve::TapIo<TcpListener, fn(&mut tokio::net::TcpStream)>;

/// A page is streamed in several small writes (the shell, then each resolved part). With Nagle on,
/// a write after the first waits until the client acknowledges the one before, and the client (a
/// browser, or the proxy in front of the dashboard) delays that acknowledgement: 40 ms on Linux,
/// up to about 200 ms elsewhere. Linux acknowledges at once at the start of a connection, so the
/// stall hit kept-alive connections: the overview took 44 ms instead of 2.
fn without_nagle(listener: TcpListener) -> Accepting {
    use axum::serve::ListenerExt;
    listener.tap_io(|connection| {
        // A client may have reset the connection already: nothing to act on, and not worth a
        // warning per connection that any client could trigger.
        if let Err(error) = connection.set_nodelay(true) {
            tracing::debug!(%error, "could not turn Nagle's algorithm off on a connection");
        }
    })
}

/// How long the start waits for the provider's discovery document before going on without it.
const DISCOVERY_AT_START: Duration = Duration::from_secs(5);

/// Reads the provider's discovery document before serving. A document naming another issuer is a
/// configuration mistake and stops the start, with what to change. A provider that cannot be
/// reached does not: the dashboard starts, `/readyz` says the provider is failing, and sign-in
/// retries discovery when needed, so an outage at deploy time heals by itself.
async fn discover_at_start(provider: &auth::IdentityProvider) -> Result<(), StartupError> {
    match tokio::time::timeout(DISCOVERY_AT_START, provider.discover()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error @ auth::DiscoveryError::IssuerMismatch { .. })) => Err(error.into()),
        Ok(Err(error)) => {
            tracing::error!(%error, "the identity provider's discovery document is unavailable; sign-in retries it when needed");
            Ok(())
        }
        Err(_) => {
            tracing::error!(
                url = %auth::discovery_url(provider.issuer()).map(|url| url.to_string()).unwrap_or_default(),
                "the identity provider did not answer in time; sign-in retries discovery when needed"
            );
            Ok(())
        }
    }
}

const MAX_BODY_BYTES: usize = 512 * 1024;

/// The app's routes, worked out once per process. Generating them runs the app with resource
/// loading suppressed through a process-global flag (leptos_server's `SuppressResourceLoad`): a
/// resource first polled by another server's render in that window never completes
/// (leptos-rs/leptos#4773). One process starts several servers in tests (and could in an
/// embedding), so the second and later starts reuse the list instead of generating it again.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// What a path that names no route and no file gets. Under the paths anyone may reach (assets,
/// sign-in) a plain 404: the app's 404 page is a full render, the costliest reply the server
/// makes, and these paths would hand it to anyone, signed in or not, as fast as they ask. Elsewhere
/// (behind the sign-in gate) the app's own 404 page.
fn not_found(state: AppState) -> Router {
    let page = file_and_error_handler_with_context::<AppState, _>(provide_nonce, shell);
    let handler = move |uri: axum::http::Uri,
                        state: axum::extract::State<AppState>,
                        request: axum::extract::Request| {
        let page = page.clone();
        async move {
            if middleware::is_public(uri.path()) {
                return axum::response::IntoResponse::into_response((
                    axum::http::StatusCode::NOT_FOUND,
                    "Not found.",
                ));
            }
            page(uri, state, request).await
        }
    };
    Router::new().fallback(handler).with_state(state)
}

/// All routes of the dashboard with their middleware, innermost first.
async fn router(
    config: &Config,
    bff: Arc<Bff>,
    backend: &session::Backend,
) -> Result<Router, session::StoreError> {
    let names = assets::names();
    let missing = names.missing_under(&config.site_root);
    if !missing.is_empty() {
        // Pages still render in full, but would not hydrate (or, without the split manifest,
        // would not fetch the other sections ahead): say so where an operator looks.
        tracing::warn!(site_root = %config.site_root.display(), ?missing, "the site lacks files its pages load");
    }
    if names.split && names.split_manifest.is_none() {
        tracing::warn!(
            "hash.txt names no split manifest: pages fetch another section's code on the first \
             click into it, not ahead"
        );
    }
    let leptos_options = LeptosOptions::builder()
        .output_name(assets::OUTPUT_NAME)
        .site_root(config.site_root.to_string_lossy().into_owned())
        .site_pkg_dir(assets::PKG_DIR)
        .site_addr(config.listen_addr)
        .hash_files(assets::names().hashed)
        .build();
    let state = AppState(Arc::new(AppStateInner {
        leptos_options,
        bff: bff.clone(),
    }));
    let routes = route_list();
    // Each render's context: its CSP nonce, and which chunks each section of pages needs (for the
    // page's loader, `app::hydration`).
    let page_context = {
        let section_chunks = assets::SectionChunks::read(&config.site_root, names);
        move || {
            provide_nonce();
            leptos::prelude::provide_context(section_chunks.clone());
        }
    };

    let app = Router::new()
        .merge(health::router())
        .route("/security/allowlist.csv", get(export::allowlist_csv))
        .merge(auth::router(auth::SignInLimiter::new(
            config.sign_in_rate_limit_per_minute,
        )))
        // A fresh CSP nonce per rendered page (`middleware::attach_page_csp` puts it in the
        // header), and the sections' chunks (`page_context` above).
        .leptos_routes_with_context(&state, routes, page_context, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        // Static files first, from a plain `ServeDir`; the app's 404 page only for a miss.
        // leptos_axum's file handler serves files inside `Owner::new()`, a child of whatever
        // render is current on the worker thread: a file then took that page's status and headers
        // (its CSP among them), and the page lost them (a 404 page that never hydrated).
        .fallback_service(
            ServeDir::new(&config.site_root)
                .precompressed_br()
                .precompressed_gzip()
                // A folder is not a page: no redirect to `<folder>/` (a path such as `//pkg`
                // would be sent to a protocol-relative `//pkg/`), the 404 page instead.
                .append_index_html_on_directories(false)
                .call_fallback_on_method_not_allowed(true)
                .fallback(not_found(state.clone())),
        )
        .layer(axum::middleware::from_fn(middleware::server_fn_status))
        .layer(from_fn_with_state(bff.clone(), middleware::require_member))
        .layer(from_fn_with_state(
            bff.clone(),
            middleware::plain_form_refusals,
        ))
        .with_state(state);
    let app = session::layer(app, backend, &bff.policy).await?;
    let app = app.layer(from_fn_with_state(bff.clone(), auth::commit_sign_in));
    // Outside the session layer: a cross-site request is refused before the store is touched.
    let mut app = app.layer(from_fn_with_state(
        bff.clone(),
        middleware::reject_cross_site,
    ));
    // The largest legitimate body is a bulk allowlist paste (500 lines); anything far beyond is
    // refused with 413 before a handler buffers it.
    app = app.layer(tower_http::limit::RequestBodyLimitLayer::new(
        MAX_BODY_BYTES,
    ));
    for layer in middleware::security_headers(bff.public_url.starts_with("https://")) {
        app = app.layer(layer);
    }
    // Hashed bundle files are immutable, the rest revalidated (see `assets`).
    app = app.layer(axum::middleware::from_fn(assets::cache_by_name));
    // Pages and server-function replies compressed by `Accept-Encoding` (brotli, else gzip).
    // Quality 4: brotli's top quality costs milliseconds per page, 4 most of the saving for a
    // fraction of it. Static assets arrive already compressed (`scripts/build`) and pass through.
    // Only the dashboard's own requests are offered it (BREACH, see the middleware).
    app = app.layer(
        tower_http::compression::CompressionLayer::new()
            .quality(tower_http::CompressionLevel::Precise(4)),
    );
    app = app.layer(axum::middleware::from_fn(
        middleware::compress_only_own_requests,
    ));
    // Outermost: the request id, client address, span and metrics cover every layer above.
    let telemetry = Arc::new(telemetry::Telemetry {
        metrics: bff.metrics.clone(),
        proxies: forwarded::ProxyTrust::new(config.trusted_proxies.clone()),
    });
    Ok(app.layer(from_fn_with_state(telemetry, telemetry::observe)))
}

async fn shutdown_signal() {
    // Without a signal handler (rare) the server simply runs until killed.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

#[cfg(test)]
mod tests {
    use axum::serve::Listener;

    use super::*;

    #[tokio::test]
    async fn accepted_connections_have_nagle_off() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut listener = without_nagle(listener);
        let _client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (connection, _) = listener.accept().await;
        assert!(connection.nodelay().unwrap());
    }
}
