//! Which identity provider the sandbox imitates: Auth0 (its paths, its issuer with a trailing
//! slash), an older Auth0 tenant that publishes no `end_session_endpoint`, or a generic certified
//! OpenID provider that serves its own paths. A client that follows the discovery document works
//! with all three; one that glues Auth0's paths onto the issuer works only with the first two.

use serde::Serialize;

/// `--sandbox-oidc-profile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
// The variants carry plain comments: clap would turn doc comments on them into a long `--help`
// for every flag of the dashboard and the sandbox.
pub enum OidcProfile {
    // Auth0: `/authorize`, `/oauth/token`, `/oauth/revoke`, `/.well-known/jwks.json`,
    // `/userinfo`, `/oidc/logout` (published as `end_session_endpoint`) and `/v2/logout`; the
    // issuer ends in `/`.
    #[default]
    Auth0,
    // Auth0 without RP-initiated logout published: discovery names no `end_session_endpoint`,
    // only `/v2/logout` signs out.
    Auth0Legacy,
    // A certified OpenID provider with its own paths under `/oidc/` (none of Auth0's), an issuer
    // without a trailing slash, and `iss` on every authorization response (RFC 9207).
    Generic,
}

/// The paths one profile serves, relative to the sandbox's base URL.
#[derive(Debug, Clone, Copy)]
pub struct Endpoints {
    pub authorization: &'static str,
    /// Where the sandbox's own sign-in page posts the tester's choice (not an OAuth endpoint).
    pub decision: &'static str,
    pub token: &'static str,
    pub revocation: &'static str,
    pub jwks: &'static str,
    pub userinfo: &'static str,
    /// OIDC RP-initiated logout, published as `end_session_endpoint` when present.
    pub end_session: Option<&'static str>,
    /// Auth0's own logout (`client_id`, `returnTo`), never published in discovery.
    pub auth0_logout: Option<&'static str>,
}

const AUTH0: Endpoints = Endpoints {
    authorization: "/authorize",
    decision: "/authorize/decision",
    token: "/oauth/token",
    revocation: "/oauth/revoke",
    jwks: "/.well-known/jwks.json",
    userinfo: "/userinfo",
    end_session: Some("/oidc/logout"),
    auth0_logout: Some("/v2/logout"),
};

impl OidcProfile {
    pub fn endpoints(self) -> Endpoints {
        match self {
            Self::Auth0 => AUTH0,
            Self::Auth0Legacy => Endpoints {
                end_session: None,
                ..AUTH0
            },
            Self::Generic => Endpoints {
                authorization: "/oidc/auth",
                decision: "/oidc/auth/decision",
                token: "/oidc/token",
                revocation: "/oidc/revoke",
                jwks: "/oidc/jwks",
                userinfo: "/oidc/userinfo",
                end_session: Some("/oidc/end-session"),
                auth0_logout: None,
            },
        }
    }

    /// The `iss` of every token and the discovery document's `issuer`: Auth0 writes its tenant URL
    /// with a trailing slash, many other providers without one. Clients must compare it exactly.
    pub fn issuer(self, base_url: &str) -> String {
        let base_url = base_url.trim_end_matches('/');
        match self {
            Self::Auth0 | Self::Auth0Legacy => format!("{base_url}/"),
            Self::Generic => base_url.to_owned(),
        }
    }

    /// Whether authorization responses carry `iss` (RFC 9207) and discovery says so. Auth0 does not.
    pub fn sends_iss(self) -> bool {
        self == Self::Generic
    }
}

/// `--sandbox-dashboard-token-auth-method`: how the dashboard's client is registered to
/// authenticate at the token and revocation endpoints. Like an Auth0 application, it is held to
/// that one method, so a client sending the other is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuthMethod {
    // `client_id` and `client_secret` in the request body (Auth0's default for a web application).
    #[default]
    #[value(name = "client_secret_post")]
    ClientSecretPost,
    // HTTP Basic with the form-urlencoded id and secret (RFC 6749 §2.3.1).
    #[value(name = "client_secret_basic")]
    ClientSecretBasic,
}

impl TokenAuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretPost => "client_secret_post",
            Self::ClientSecretBasic => "client_secret_basic",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_differ_only_by_the_trailing_slash() {
        assert_eq!(
            OidcProfile::Auth0.issuer("http://127.0.0.1:1/"),
            "http://127.0.0.1:1/"
        );
        assert_eq!(
            OidcProfile::Generic.issuer("http://127.0.0.1:1/"),
            "http://127.0.0.1:1"
        );
    }

    #[test]
    fn the_generic_profile_shares_no_path_with_auth0() {
        let auth0 = OidcProfile::Auth0.endpoints();
        let generic = OidcProfile::Generic.endpoints();
        let auth0_paths = [
            auth0.authorization,
            auth0.decision,
            auth0.token,
            auth0.revocation,
            auth0.jwks,
            auth0.userinfo,
        ];
        for path in [
            generic.authorization,
            generic.decision,
            generic.token,
            generic.revocation,
            generic.jwks,
            generic.userinfo,
            generic.end_session.unwrap(),
        ] {
            assert!(!auth0_paths.contains(&path), "{path}");
        }
    }
}
