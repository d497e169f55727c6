//! Every setting of the dashboard server: a command-line flag that can also come from a `KEYSTONE_*`
//! environment variable (flags win). `keystone-dashboard --help` is the reference.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Parser, ValueEnum};

/// The KeyStone Dashboard server (backend-for-frontend of the KeyStone admin console).
#[derive(Debug, Clone, Parser)]
#[command(name = "keystone-dashboard", version, about, long_about = None)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "KEYSTONE_LISTEN_ADDR", default_value = "127.0.0.1:3000")]
    pub listen_addr: SocketAddr,

    /// The URL browsers use to reach the dashboard (scheme, host and port; no path). Defaults to
    /// `http://<listen address>`. Used for the OAuth callback, the logout return and the CSRF check.
    #[arg(long, env = "KEYSTONE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Folder holding the built site (WASM, JS, CSS and public assets), as produced by cargo-leptos.
    #[arg(long, env = "KEYSTONE_SITE_ROOT", default_value = default_site_root())]
    pub site_root: PathBuf,

    /// Base URL of the KeyStone API (e.g. `https://api.keystoneos.xyz`). When absent, the embedded
    /// sandbox is started and used for the API and the identity provider alike.
    #[arg(long, env = "KEYSTONE_API_URL", requires_all = ["auth_issuer", "auth_client_id", "auth_client_secret"])]
    pub api_url: Option<String>,

    /// The Auth0 tenant's issuer URL (e.g. `https://auth.keystoneos.xyz/`).
    #[arg(long, env = "KEYSTONE_AUTH_ISSUER")]
    pub auth_issuer: Option<String>,

    /// The dashboard's Auth0 application (a confidential client).
    #[arg(long, env = "KEYSTONE_AUTH_CLIENT_ID")]
    pub auth_client_id: Option<String>,

    /// The dashboard's Auth0 client secret. Prefer the environment variable: flags show up in `ps`.
    #[arg(long, env = "KEYSTONE_AUTH_CLIENT_SECRET", hide_env_values = true)]
    pub auth_client_secret: Option<String>,

    /// The Auth0 organization (`org_…`) members sign in to when the login link names none.
    #[arg(long, env = "KEYSTONE_AUTH_ORGANIZATION")]
    pub auth_organization: Option<String>,

    /// Where sessions and tokens live: `embedded` (SQLite in the data folder, survives restarts),
    /// `redis` (shared by several replicas) or `memory` (tests; lost at exit).
    #[arg(long, env = "KEYSTONE_SESSION_STORE", value_enum, default_value_t = SessionStoreKind::Embedded)]
    pub session_store: SessionStoreKind,

    /// Redis URL for `--session-store redis`, e.g. `redis://127.0.0.1:6379`.
    #[arg(
        long,
        env = "KEYSTONE_REDIS_URL",
        required_if_eq("session_store", "redis")
    )]
    pub redis_url: Option<String>,

    /// Folder for the embedded store (and its generated encryption key when none is configured).
    #[arg(long, env = "KEYSTONE_DATA_DIR", default_value = ".keystone-dashboard")]
    pub data_dir: PathBuf,

    /// 32-byte key, base64, that encrypts tokens at rest. Required with Redis (every replica needs the
    /// same key); with the embedded store a key is generated into the data folder when absent.
    #[arg(long, env = "KEYSTONE_TOKEN_ENCRYPTION_KEY", hide_env_values = true)]
    pub token_encryption_key: Option<String>,

    /// A session ends after this long without a request (seconds).
    #[arg(long, env = "KEYSTONE_SESSION_IDLE_TIMEOUT", default_value_t = 30 * 60)]
    pub session_idle_timeout_seconds: u64,

    /// A session ends this long after sign-in however active it is (seconds).
    #[arg(long, env = "KEYSTONE_SESSION_ABSOLUTE_LIFETIME", default_value_t = 12 * 60 * 60)]
    pub session_absolute_lifetime_seconds: u64,

    /// Access tokens are refreshed when they have less than this left (seconds).
    #[arg(long, env = "KEYSTONE_TOKEN_REFRESH_MARGIN", default_value_t = 60)]
    pub token_refresh_margin_seconds: u64,

    /// Time limit for one call to the KeyStone API or the identity provider (seconds).
    #[arg(long, env = "KEYSTONE_UPSTREAM_TIMEOUT", default_value_t = 15)]
    pub upstream_timeout_seconds: u64,

    /// Settings of the embedded sandbox (used only when no `--api-url` is given).
    #[command(flatten)]
    pub sandbox: keystone_sandbox::SandboxConfig,

    /// Log output format.
    #[arg(long, env = "KEYSTONE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,

    /// Log filter, in `tracing_subscriber::EnvFilter` syntax.
    #[arg(long, env = "KEYSTONE_LOG", default_value = "info")]
    pub log_filter: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SessionStoreKind {
    Embedded,
    Redis,
    Memory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// cargo-leptos bakes its `site-root` into the build; a plain `cargo build` falls back to the default.
fn default_site_root() -> &'static str {
    option_env!("LEPTOS_SITE_ROOT").unwrap_or("target/site")
}

impl Config {
    /// Settings for tests: port 0, memory store, no site files needed for server-rendered HTML.
    pub fn for_tests() -> Self {
        Self::parse_from([
            "keystone-dashboard",
            "--listen-addr",
            "127.0.0.1:0",
            "--session-store",
            "memory",
            "--sandbox-addr",
            "127.0.0.1:0",
        ])
    }

    pub fn session_idle_timeout(&self) -> Duration {
        Duration::from_secs(self.session_idle_timeout_seconds)
    }

    pub fn session_absolute_lifetime(&self) -> Duration {
        Duration::from_secs(self.session_absolute_lifetime_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_definition_is_consistent() {
        <Config as clap::CommandFactory>::command().debug_assert();
    }

    #[test]
    fn flags_override_defaults() {
        let config = Config::parse_from([
            "keystone-dashboard",
            "--listen-addr",
            "0.0.0.0:8080",
            "--log-format",
            "json",
        ]);
        assert_eq!(config.listen_addr, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(config.log_format, LogFormat::Json);
    }
}
