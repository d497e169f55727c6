//! Every setting of the dashboard server: a command-line flag that can also come from a `KEYSTONE_*`
//! environment variable (flags win). `keystone-dashboard --help` is the reference.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Parser, ValueEnum};

use crate::domain::Cidr;

/// The longest time limit production mode accepts for one upstream call (seconds).
pub const MAX_UPSTREAM_TIMEOUT_SECONDS: u64 = 60;

/// The range of `--auth-jwks-max-age` production mode accepts (seconds): under a minute would
/// fetch the keys on nearly every sign-in, over a day would trust a withdrawn key for as long.
pub const JWKS_MAX_AGE_RANGE: std::ops::RangeInclusive<u64> = 60..=86_400;

/// The idle timeouts production mode accepts: a minute to a day.
pub const SESSION_IDLE_RANGE: std::ops::RangeInclusive<u64> = 60..=86_400;

/// The longest absolute session lifetime production mode accepts: a week.
pub const MAX_SESSION_LIFETIME_SECONDS: u64 = 7 * 86_400;

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

    /// The identity provider's issuer, exactly as its discovery document and its tokens write it
    /// (Auth0: `https://<domain>/`, with the trailing slash). Every endpoint is read from
    /// `<issuer>/.well-known/openid-configuration`.
    #[arg(long, env = "KEYSTONE_AUTH_ISSUER")]
    pub auth_issuer: Option<String>,

    /// The dashboard's Auth0 application (a confidential client).
    #[arg(long, env = "KEYSTONE_AUTH_CLIENT_ID")]
    pub auth_client_id: Option<String>,

    /// The dashboard's Auth0 client secret. Prefer the environment variable: flags show up in `ps`.
    #[arg(long, env = "KEYSTONE_AUTH_CLIENT_SECRET", hide_env_values = true)]
    pub auth_client_secret: Option<String>,

    /// The Auth0 organization (`org_…`) this deployment serves: every login goes to it, a link
    /// naming another organization is refused, and a session signed into another one ends at its
    /// next request. Unset, a login link's organization is followed (several platforms share the
    /// dashboard).
    #[arg(long, env = "KEYSTONE_AUTH_ORGANIZATION", value_parser = organization_id)]
    pub auth_organization: Option<String>,

    /// How the dashboard authenticates at the provider's token and revocation endpoints:
    /// `client_secret_post` (the secret in the request body; Auth0's default for a Regular Web
    /// Application) or `client_secret_basic` (HTTP Basic). Must match the application's setting
    /// at the provider. With the embedded sandbox, the sandbox's registration decides.
    #[arg(
        long,
        env = "KEYSTONE_AUTH_TOKEN_ENDPOINT_AUTH_METHOD",
        value_enum,
        default_value_t = TokenEndpointAuthMethod::ClientSecretPost
    )]
    pub auth_token_endpoint_auth_method: TokenEndpointAuthMethod,

    /// The API the access tokens are for: sent as `audience` when signing in (Auth0 issues a
    /// token for that API), and what the KeyStone API checks in `aud`.
    #[arg(
        long,
        env = "KEYSTONE_API_AUDIENCE",
        default_value = "https://api.keystoneos.xyz"
    )]
    pub api_audience: String,

    /// How long the provider's signing keys (its JWKS) are trusted before they are fetched again
    /// (seconds): a key the provider withdraws stops signing anyone in here within this.
    #[arg(long = "auth-jwks-max-age", env = "KEYSTONE_AUTH_JWKS_MAX_AGE", default_value_t = 10 * 60)]
    pub auth_jwks_max_age_seconds: u64,

    /// Where sessions and tokens live: `embedded` (SQLite in the data folder, survives restarts),
    /// `redis` (shared by several replicas) or `memory` (tests; lost at exit).
    #[arg(long, env = "KEYSTONE_SESSION_STORE", value_enum, default_value_t = SessionStoreKind::Embedded)]
    pub session_store: SessionStoreKind,

    /// Redis URL for `--session-store redis`, e.g. `redis://127.0.0.1:6379`.
    // It may carry the server's password: `--help` must not print it.
    #[arg(
        long,
        env = "KEYSTONE_REDIS_URL",
        hide_env_values = true,
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

    /// The environment a session names in `X-Keystone-Environment` until it has chosen one. The API
    /// wants the header on every call, the environment list included, so a fresh session needs a
    /// slug before it can learn the others; registering a platform creates `development`.
    #[arg(
        long,
        env = "KEYSTONE_BOOTSTRAP_ENVIRONMENT",
        default_value = "development"
    )]
    pub bootstrap_environment: crate::domain::EnvironmentSlug,

    /// The API version the dashboard's decoders were written for, sent as `Keystone-Version` on
    /// every call so that replies keep that shape whatever version an environment is pinned to.
    #[arg(
        long = "api-version",
        env = "KEYSTONE_API_VERSION",
        default_value = "0.1.0",
        value_parser = header_safe_version
    )]
    pub api_version: String,

    /// Requests to `/auth/login` and `/auth/callback` allowed per client address per minute (a
    /// sign-in takes one of each); more get a 429 page saying how long to wait.
    #[arg(long, env = "KEYSTONE_SIGN_IN_RATE_LIMIT", default_value = "60")]
    pub sign_in_rate_limit_per_minute: std::num::NonZeroU32,

    /// Settings of the embedded sandbox (used only when no `--api-url` is given).
    #[command(flatten)]
    pub sandbox: keystone_sandbox::SandboxConfig,

    /// Production mode: refuse to start with settings that are only safe on a developer machine
    /// (no `--api-url`, so the embedded sandbox; no token encryption key; the memory store; a public
    /// URL that is not https, unless `--allow-insecure-http`).
    #[arg(long, env = "KEYSTONE_PRODUCTION")]
    pub production: bool,

    /// In production mode, accept an `http://` public URL. Only sensible on localhost (the compose
    /// demo): the session cookie is always `Secure`, and browsers keep such cookies over plain HTTP
    /// for localhost alone.
    #[arg(long, env = "KEYSTONE_ALLOW_INSECURE_HTTP")]
    pub allow_insecure_http: bool,

    /// In production mode, accept `http://` for the API and the issuer and `redis://` (no TLS) for
    /// Redis. Only sensible when those run on a private network the dashboard shares (the compose
    /// demo): over any other network they would carry tokens in the clear.
    #[arg(long, env = "KEYSTONE_ALLOW_PLAINTEXT_UPSTREAMS")]
    pub allow_plaintext_upstreams: bool,

    /// Reverse proxies (IPs or CIDR ranges, comma-separated) whose `X-Forwarded-For` and
    /// `X-Request-Id` are believed. From any other peer these headers are ignored: the TCP peer is
    /// the client, and a fresh request id is made.
    #[arg(
        id = "dashboard_trusted_proxies",
        long = "trusted-proxies",
        value_name = "CIDRS",
        env = "KEYSTONE_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<Cidr>,

    /// Client addresses (IPs or CIDR ranges, comma-separated) allowed to read `/metrics`; everyone
    /// else gets a 404.
    #[arg(
        long,
        value_name = "CIDRS",
        env = "KEYSTONE_METRICS_ALLOWED_FROM",
        value_delimiter = ',',
        default_value = "127.0.0.0/8,::1"
    )]
    pub metrics_allowed_from: Vec<Cidr>,

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

/// Client authentication at the token endpoint (OIDC Core §9, RFC 8414's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenEndpointAuthMethod {
    #[value(name = "client_secret_post")]
    ClientSecretPost,
    #[value(name = "client_secret_basic")]
    ClientSecretBasic,
}

impl TokenEndpointAuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretPost => "client_secret_post",
            Self::ClientSecretBasic => "client_secret_basic",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// A version goes into a header on every call: visible ASCII only, so it can never split one.
fn header_safe_version(raw: &str) -> Result<String, String> {
    if !raw.is_empty() && raw.len() <= 32 && raw.bytes().all(|byte| byte.is_ascii_graphic()) {
        Ok(raw.to_owned())
    } else {
        Err("a version such as 0.1.0 (visible ASCII, at most 32 characters)".to_owned())
    }
}

/// An Auth0 organization id. Checked at start: a pinned value that is not one (left empty, say)
/// would end every member's session at its next request and let no one sign in.
fn organization_id(raw: &str) -> Result<String, String> {
    let id = raw.strip_prefix("org_").unwrap_or_default();
    if !id.is_empty()
        && raw.len() <= 64
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-'))
    {
        Ok(raw.to_owned())
    } else {
        Err("an Auth0 organization id: org_ followed by letters, digits, _ or -".to_owned())
    }
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

    /// The settings production mode refuses, each with what to do instead. Empty outside
    /// production mode, and for a safe configuration.
    pub fn production_problems(&self) -> Vec<String> {
        if !self.production {
            return Vec::new();
        }
        let mut problems = Vec::new();
        if self.api_url.is_none() {
            problems.push(
                "no --api-url (KEYSTONE_API_URL): production mode will not run the embedded sandbox; \
                 set the KeyStone API URL and the KEYSTONE_AUTH_* settings"
                    .to_owned(),
            );
        }
        if self.token_encryption_key.is_none() {
            problems.push(
                "no --token-encryption-key (KEYSTONE_TOKEN_ENCRYPTION_KEY): tokens at rest must be \
                 sealed with a managed key (32 random bytes, base64: `openssl rand -base64 32`)"
                    .to_owned(),
            );
        }
        if self.session_store == SessionStoreKind::Memory {
            problems.push(
                "--session-store memory loses every session at restart and cannot be shared; \
                 use embedded or redis"
                    .to_owned(),
            );
        }
        match self.public_url.as_deref() {
            None => problems.push(
                "no --public-url (KEYSTONE_PUBLIC_URL): the callback URL and the CSRF check need \
                 the URL browsers use"
                    .to_owned(),
            ),
            Some(url) if url.starts_with("https://") => {}
            Some(url) if url.starts_with("http://") && self.allow_insecure_http => {}
            Some(url) => problems.push(format!(
                "--public-url {url} is not https: session cookies would cross the network in the \
                 clear; use https, or --allow-insecure-http if TLS ends in front of the dashboard"
            )),
        }
        // The dashboard serves plain HTTP: with an https public URL, TLS ends in a proxy in front
        // of it, and unless that proxy is named, every client is seen as the proxy's address.
        // The sign-in routes' per-address limit would then be one bucket for everyone (one
        // client's attempts lock all members out of signing in), and `/metrics` would answer
        // everyone if the proxy sits on loopback.
        if self.trusted_proxies.is_empty()
            && self
                .public_url
                .as_deref()
                .is_some_and(|url| url.starts_with("https://"))
        {
            problems.push(
                "no --trusted-proxies (KEYSTONE_TRUSTED_PROXIES): TLS ends in front of the \
                 dashboard, so without naming that proxy every client is seen as its address \
                 and shares one sign-in rate limit; name the proxy's addresses"
                    .to_owned(),
            );
        }
        // An idle timeout of seconds signs members out mid-task; one of days, or an absolute
        // lifetime of weeks, keeps a stolen cookie good for as long.
        if !SESSION_IDLE_RANGE.contains(&self.session_idle_timeout_seconds) {
            problems.push(format!(
                "--session-idle-timeout-seconds {} is outside {}..={} seconds",
                self.session_idle_timeout_seconds,
                SESSION_IDLE_RANGE.start(),
                SESSION_IDLE_RANGE.end()
            ));
        }
        if !(self.session_idle_timeout_seconds..=MAX_SESSION_LIFETIME_SECONDS)
            .contains(&self.session_absolute_lifetime_seconds)
        {
            problems.push(format!(
                "--session-absolute-lifetime-seconds {} is outside the idle timeout ({})..={} seconds",
                self.session_absolute_lifetime_seconds,
                self.session_idle_timeout_seconds,
                MAX_SESSION_LIFETIME_SECONDS
            ));
        }
        // Access and refresh tokens, the client secret and the sealed sessions travel to these.
        let upstreams = [
            ("--api-url", self.api_url.as_deref(), "https://"),
            ("--auth-issuer", self.auth_issuer.as_deref(), "https://"),
            ("--redis-url", self.redis_url.as_deref(), "rediss://"),
        ];
        for (flag, url, secure_scheme) in upstreams {
            let Some(url) = url else { continue };
            if !url.to_ascii_lowercase().starts_with(secure_scheme)
                && !self.allow_plaintext_upstreams
            {
                // Only the scheme is repeated: a Redis URL may carry its password.
                let scheme = url.split("://").next().unwrap_or_default();
                problems.push(format!(
                    "{flag} is {scheme}://, not {secure_scheme}: tokens would cross the network in \
                     the clear; use TLS, or --allow-plaintext-upstreams on a private network"
                ));
            }
        }
        // The refresh lease is derived from this time limit: an unbounded one would let a stalled
        // provider call hold a session's refresh lock (and every page of that member) for as long.
        if !(1..=MAX_UPSTREAM_TIMEOUT_SECONDS).contains(&self.upstream_timeout_seconds) {
            problems.push(format!(
                "--upstream-timeout {} is outside 1..={MAX_UPSTREAM_TIMEOUT_SECONDS} seconds",
                self.upstream_timeout_seconds
            ));
        }
        if !JWKS_MAX_AGE_RANGE.contains(&self.auth_jwks_max_age_seconds) {
            problems.push(format!(
                "--auth-jwks-max-age {} is outside {}..={} seconds",
                self.auth_jwks_max_age_seconds,
                JWKS_MAX_AGE_RANGE.start(),
                JWKS_MAX_AGE_RANGE.end()
            ));
        }
        problems
    }

    pub fn upstream_timeout(&self) -> Duration {
        Duration::from_secs(self.upstream_timeout_seconds)
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

    #[test]
    fn client_authentication_defaults_to_post_and_takes_the_standard_names() {
        let config = Config::for_tests();
        assert_eq!(
            config.auth_token_endpoint_auth_method,
            TokenEndpointAuthMethod::ClientSecretPost
        );
        assert_eq!(config.api_audience, "https://api.keystoneos.xyz");
        let config = Config::parse_from([
            "keystone-dashboard",
            "--auth-token-endpoint-auth-method",
            "client_secret_basic",
            "--api-audience",
            "https://api.example",
        ]);
        assert_eq!(
            config.auth_token_endpoint_auth_method,
            TokenEndpointAuthMethod::ClientSecretBasic
        );
        assert_eq!(config.api_audience, "https://api.example");
        assert!(Config::try_parse_from([
            "keystone-dashboard",
            "--auth-token-endpoint-auth-method",
            "private_key_jwt",
        ])
        .is_err());
    }

    fn production(extra: &[&str]) -> Config {
        let mut args = vec![
            "keystone-dashboard",
            "--production",
            "--api-url",
            "https://api.keystoneos.xyz",
            "--auth-issuer",
            "https://auth.keystoneos.xyz/",
            "--auth-client-id",
            "dashboard",
            "--auth-client-secret",
            "secret",
            "--token-encryption-key",
            "Vb0aN0r7mJ3rP3yXz6Xk1qJ8cT5uW2eH9fD4sG7hK1o=",
            "--public-url",
            "https://dashboard.keystoneos.xyz",
            "--trusted-proxies",
            "10.0.0.0/8",
        ];
        args.extend_from_slice(extra);
        Config::parse_from(args)
    }

    #[test]
    fn a_complete_production_configuration_passes() {
        assert_eq!(production(&[]).production_problems(), Vec::<String>::new());
        let mut development = Config::for_tests();
        development.public_url = Some("http://127.0.0.1:3000".into());
        assert!(development.production_problems().is_empty());
    }

    #[test]
    fn production_refuses_each_unsafe_setting() {
        type Change = Box<dyn Fn(&mut Config)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|c| c.api_url = None), "--api-url"),
            (
                Box::new(|c| c.token_encryption_key = None),
                "--token-encryption-key",
            ),
            (
                Box::new(|c| c.session_store = SessionStoreKind::Memory),
                "memory",
            ),
            (Box::new(|c| c.public_url = None), "no --public-url"),
            (
                Box::new(|c| c.public_url = Some("http://dash.example".into())),
                "is not https",
            ),
            (
                Box::new(|c| c.public_url = Some("ftp://dash.example".into())),
                "is not https",
            ),
            (
                Box::new(|c| c.api_url = Some("http://api.example".into())),
                "--api-url is http://, not https://",
            ),
            (
                Box::new(|c| c.auth_issuer = Some("http://tenant.example/".into())),
                "--auth-issuer is http://, not https://",
            ),
            (
                Box::new(|c| c.redis_url = Some("redis://:hunter2@cache:6379".into())),
                "--redis-url is redis://, not rediss://",
            ),
            (
                Box::new(|c| c.auth_jwks_max_age_seconds = 0),
                "--auth-jwks-max-age 0 is outside",
            ),
            (
                Box::new(|c| c.upstream_timeout_seconds = 3600),
                "--upstream-timeout 3600 is outside",
            ),
            (
                Box::new(|c| c.upstream_timeout_seconds = 0),
                "--upstream-timeout 0 is outside",
            ),
            (
                Box::new(|c| c.trusted_proxies.clear()),
                "no --trusted-proxies",
            ),
            (
                Box::new(|c| c.session_idle_timeout_seconds = 0),
                "--session-idle-timeout-seconds 0 is outside",
            ),
            (
                Box::new(|c| c.session_absolute_lifetime_seconds = 1_000_000_000),
                "--session-absolute-lifetime-seconds 1000000000 is outside",
            ),
            (
                Box::new(|c| c.session_absolute_lifetime_seconds = 60),
                "--session-absolute-lifetime-seconds 60 is outside",
            ),
        ];
        for (change, expected) in cases {
            let mut config = production(&[]);
            change(&mut config);
            let problems = config.production_problems();
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(!problems[0].contains("hunter2"), "a password was repeated");
            assert!(
                problems[0].contains(expected),
                "{problems:?} lacks {expected}"
            );
        }
        let mut opted_in = production(&["--allow-insecure-http", "--allow-plaintext-upstreams"]);
        opted_in.public_url = Some("http://dash.internal".into());
        opted_in.api_url = Some("http://api.internal".into());
        opted_in.redis_url = Some("redis://cache:6379".into());
        // Plain HTTP all the way: no proxy in front is implied, so none need be named.
        opted_in.trusted_proxies.clear();
        assert!(opted_in.production_problems().is_empty());
    }

    #[test]
    fn a_pinned_organization_is_an_organization_id() {
        let pinned = |value: &str| {
            Config::try_parse_from(["keystone-dashboard", "--auth-organization", value])
                .map(|config| config.auth_organization)
        };
        assert_eq!(
            pinned("org_W0mFnZVeMyLqDu1C").unwrap().as_deref(),
            Some("org_W0mFnZVeMyLqDu1C")
        );
        assert_eq!(
            pinned("org_acme_markets").unwrap().as_deref(),
            Some("org_acme_markets")
        );
        for refused in ["", " ", "org_", "acme", "org_acme markets", "org_acme\n"] {
            assert!(pinned(refused).is_err(), "{refused:?} was taken");
        }
    }

    #[test]
    fn proxies_and_metrics_readers_are_networks() {
        let config = Config::parse_from([
            "keystone-dashboard",
            "--trusted-proxies",
            "10.0.0.0/8,192.0.2.1",
        ]);
        assert_eq!(config.trusted_proxies.len(), 2);
        assert!(config.metrics_allowed_from[0].contains("127.0.0.1".parse().unwrap()));
        assert!(
            Config::try_parse_from(["keystone-dashboard", "--trusted-proxies", "10.0.0.1/8"])
                .is_err()
        );
    }
}
