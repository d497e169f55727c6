//! The sandbox's settings: flags of `keystone-sandbox`, also readable from `KEYSTONE_SANDBOX_*` variables,
//! and a struct the dashboard fills in when it embeds the sandbox.

use std::{net::IpAddr, net::SocketAddr, path::PathBuf};

use crate::faults::RemovedRoute;

#[derive(Debug, Clone, clap::Args)]
pub struct SandboxConfig {
    /// Address to listen on (port 0 picks a free port).
    #[arg(
        long = "sandbox-addr",
        env = "KEYSTONE_SANDBOX_ADDR",
        default_value = "127.0.0.1:4010"
    )]
    pub addr: SocketAddr,

    /// The URL clients reach the sandbox at, when it differs from `http://<addr>` (in a container
    /// listening on 0.0.0.0, say). It is the issuer in every token.
    #[arg(
        id = "sandbox_public_url",
        long = "sandbox-public-url",
        env = "KEYSTONE_SANDBOX_PUBLIC_URL"
    )]
    pub public_url: Option<String>,

    /// The dashboard's public URL: its `/auth/callback` is the allowed redirect URI, its root the
    /// allowed logout return URL, and invitation links point at its `/auth/login`.
    #[arg(
        long = "sandbox-dashboard-url",
        env = "KEYSTONE_SANDBOX_DASHBOARD_URL",
        default_value = "http://127.0.0.1:3000"
    )]
    pub dashboard_url: String,

    /// Client id of the dashboard (a confidential "Regular Web Application").
    #[arg(
        long = "sandbox-dashboard-client-id",
        env = "KEYSTONE_SANDBOX_DASHBOARD_CLIENT_ID",
        default_value = "keystone-dashboard"
    )]
    pub dashboard_client_id: String,

    /// Client secret of the dashboard.
    #[arg(
        long = "sandbox-dashboard-client-secret",
        env = "KEYSTONE_SANDBOX_DASHBOARD_CLIENT_SECRET",
        default_value = "sandbox-dashboard-secret"
    )]
    pub dashboard_client_secret: String,

    /// How the dashboard's client authenticates at the token and revocation endpoints, and the only
    /// method accepted from it (an Auth0 application is set to one): `client_secret_post` or
    /// `client_secret_basic`.
    #[arg(
        long = "sandbox-dashboard-token-auth-method",
        env = "KEYSTONE_SANDBOX_DASHBOARD_TOKEN_AUTH_METHOD",
        value_enum,
        default_value_t = crate::idp::TokenAuthMethod::ClientSecretPost
    )]
    pub dashboard_token_auth_method: crate::idp::TokenAuthMethod,

    /// Which identity provider to imitate: `auth0` (Auth0's paths, issuer with a trailing slash),
    /// `auth0-legacy` (the same without a published `end_session_endpoint`) or `generic` (a
    /// certified OpenID provider: its own paths under `/oidc/`, issuer without a trailing slash,
    /// `iss` on authorization responses).
    #[arg(
        long = "sandbox-oidc-profile",
        env = "KEYSTONE_SANDBOX_OIDC_PROFILE",
        value_enum,
        default_value_t = crate::idp::OidcProfile::Auth0
    )]
    pub oidc_profile: crate::idp::OidcProfile,

    /// PEM file (PKCS#8) of the RS256 signing key; created when missing. Without it a key is generated
    /// at start and tokens do not survive a restart.
    #[arg(long = "sandbox-signing-key", env = "KEYSTONE_SANDBOX_SIGNING_KEY")]
    pub signing_key_file: Option<PathBuf>,

    /// JSON file the state is saved to after every change and loaded from at start.
    #[arg(long = "sandbox-state-file", env = "KEYSTONE_SANDBOX_STATE_FILE")]
    pub state_file: Option<PathBuf>,

    /// Lifetime of access tokens, in seconds (Auth0's default is 24 hours).
    #[arg(
        long = "sandbox-access-token-ttl",
        env = "KEYSTONE_SANDBOX_ACCESS_TOKEN_TTL",
        default_value_t = 86_400
    )]
    pub access_token_ttl_seconds: i64,

    /// Lifetime of ID tokens, in seconds.
    #[arg(
        long = "sandbox-id-token-ttl",
        env = "KEYSTONE_SANDBOX_ID_TOKEN_TTL",
        default_value_t = 36_000
    )]
    pub id_token_ttl_seconds: i64,

    /// Lifetime of authorization codes, in seconds.
    #[arg(
        long = "sandbox-code-ttl",
        env = "KEYSTONE_SANDBOX_CODE_TTL",
        default_value_t = 60
    )]
    pub code_ttl_seconds: i64,

    /// Seconds during which a just-rotated refresh token may be used again (Auth0's reuse interval);
    /// reuse after that revokes the whole token family.
    #[arg(
        long = "sandbox-refresh-reuse-interval",
        env = "KEYSTONE_SANDBOX_REFRESH_REUSE_INTERVAL",
        default_value_t = 0
    )]
    pub refresh_reuse_interval_seconds: i64,

    /// Requests per minute per environment when the environment sets no `rate_limit_rpm`.
    #[arg(
        long = "sandbox-rate-limit-rpm",
        env = "KEYSTONE_SANDBOX_RATE_LIMIT_RPM",
        default_value_t = 600
    )]
    pub default_rate_limit_rpm: u32,

    /// Extra generated members on top of the dozen seeded ones (for load and size tests).
    #[arg(
        long = "sandbox-seed-members",
        env = "KEYSTONE_SANDBOX_SEED_MEMBERS",
        default_value_t = 0
    )]
    pub seed_members: usize,

    /// Proxy addresses whose `X-Forwarded-For` is believed when checking IP allowlists.
    #[arg(
        long = "sandbox-trusted-proxy",
        env = "KEYSTONE_SANDBOX_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<IpAddr>,

    /// Latency added to every reply, in milliseconds (fault injection; also settable at run time).
    #[arg(
        long = "sandbox-latency-ms",
        env = "KEYSTONE_SANDBOX_LATENCY_MS",
        default_value_t = 0
    )]
    pub latency_ms: u64,

    /// Share of requests (0.0 to 1.0) answered with 503 (fault injection; also settable at run time).
    #[arg(
        long = "sandbox-failure-rate",
        env = "KEYSTONE_SANDBOX_FAILURE_RATE",
        default_value_t = 0.0
    )]
    pub failure_rate: f64,

    /// Roles on the wire (the roles list and the roles of each member) carry only `id`, `name` and
    /// `description`, no `permissions`, as Auth0 organization roles do.
    #[arg(
        long = "sandbox-roles-without-permissions",
        env = "KEYSTONE_SANDBOX_ROLES_WITHOUT_PERMISSIONS"
    )]
    pub roles_without_permissions: bool,

    /// Invitations list their `roles` as role ids instead of role names (the contract leaves it open).
    #[arg(
        long = "sandbox-invitation-roles-as-ids",
        env = "KEYSTONE_SANDBOX_INVITATION_ROLES_AS_IDS"
    )]
    pub invitation_roles_as_ids: bool,

    /// User tokens carry permission names in another vocabulary (`manage:members` for
    /// `members:manage`), which the API understands: the dashboard's names are not published, so
    /// it must work when the real ones differ.
    #[arg(
        long = "sandbox-foreign-permissions",
        env = "KEYSTONE_SANDBOX_FOREIGN_PERMISSIONS"
    )]
    pub foreign_permissions: bool,

    /// API routes to answer with 404 `{"detail": "Not Found"}`, as a deployment without them would,
    /// written `METHOD /path` (a path template such as `/v1/platforms/me/environments/{id}` matches
    /// any id); repeat the flag or separate with commas (fault injection; also settable at run time).
    #[arg(
        long = "sandbox-remove-route",
        value_name = "METHOD /PATH",
        env = "KEYSTONE_SANDBOX_REMOVE_ROUTES",
        value_delimiter = ','
    )]
    pub removed_routes: Vec<RemovedRoute>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        #[derive(clap::Parser)]
        struct Defaults {
            #[command(flatten)]
            sandbox: SandboxConfig,
        }
        <Defaults as clap::Parser>::parse_from(["keystone-sandbox"]).sandbox
    }
}

impl SandboxConfig {
    /// Settings for tests and for embedding: a free loopback port, everything else default.
    pub fn ephemeral() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        sandbox: SandboxConfig,
    }

    #[test]
    fn the_wire_switches_parse_from_flags() {
        let cli = <Cli as clap::Parser>::parse_from([
            "keystone-sandbox",
            "--sandbox-roles-without-permissions",
            "--sandbox-invitation-roles-as-ids",
            "--sandbox-remove-route",
            "GET /v1/platforms/me/roles,DELETE /v1/platforms/me/invitations/{invitation_id}",
            "--sandbox-remove-route",
            "GET /v1/activity",
        ]);
        let config = cli.sandbox;
        assert!(config.roles_without_permissions && config.invitation_roles_as_ids);
        let routes: Vec<String> = config
            .removed_routes
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            routes,
            [
                "GET /v1/platforms/me/roles",
                "DELETE /v1/platforms/me/invitations/{invitation_id}",
                "GET /v1/activity"
            ]
        );
        let defaults = SandboxConfig::default();
        assert!(!defaults.roles_without_permissions && !defaults.invitation_roles_as_ids);
        assert!(defaults.removed_routes.is_empty());
    }
}
