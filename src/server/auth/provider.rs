//! The identity provider (Auth0, or any OpenID provider; the sandbox imitates both), seen from the
//! BFF: its discovery document, authorization URLs, the back-channel token calls, ID-token
//! validation and logout.
//!
//! Every endpoint comes from the discovery document at `<issuer>/.well-known/openid-configuration`
//! (OIDC Discovery 1.0), never from paths glued onto the issuer: a certified provider serves its
//! own paths. What stays Auth0-specific is layered on top: the `audience`, `organization` and
//! `invitation` authorize parameters, and `/v2/logout` when no `end_session_endpoint` is published.

use std::{
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use base64::{engine::general_purpose::STANDARD, Engine};
use jsonwebtoken::{decode, decode_header, jwk::JwkSet, Algorithm, DecodingKey, Validation};
use oauth2::{
    basic::{
        BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
        BasicTokenType,
    },
    url::{form_urlencoded, Url},
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, StandardRevocableToken, StandardTokenResponse, TokenResponse,
    TokenUrl,
};
use serde::{Deserialize, Serialize};

use crate::server::config::TokenEndpointAuthMethod;

/// `offline_access` asks for a refresh token, so sessions outlive one access token.
const SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Allowed clock difference between us and the provider when checking `exp`/`iat`.
const CLOCK_SKEW: u64 = 60;

/// A JWKS is refetched for an unknown `kid` (key rotation), but not more often than this, so a
/// stream of tokens with made-up key ids cannot make us hammer the provider.
const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(30);

/// After a failed JWKS fetch the next attempt waits this long, whatever asks for it.
const JWKS_RETRY_AFTER_FAILURE: Duration = Duration::from_secs(2);

/// An ID token comes straight from the token endpoint: one issued longer ago than this (plus the
/// clock skew) is a replay, not a fresh answer.
const MAX_ID_TOKEN_AGE: i64 = 10 * 60;

/// A discovery document is used this long before it is fetched again: a provider that moves an
/// endpoint or publishes a new one is followed without a restart.
const DISCOVERY_MAX_AGE: Duration = Duration::from_secs(60 * 60);

/// After a failed discovery fetch the next attempt waits this long, so a provider that is down is
/// not asked again by every sign-in and token refresh (sign-in retries lazily, never in a loop),
/// yet one that comes back is used within seconds.
const DISCOVERY_RETRY_INTERVAL: Duration = Duration::from_secs(2);

/// The path OIDC Discovery §4 appends to the issuer.
const DISCOVERY_PATH: &str = ".well-known/openid-configuration";

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct IdTokenField {
    pub id_token: Option<String>,
}
impl ExtraTokenFields for IdTokenField {}

pub type ProviderTokens = StandardTokenResponse<IdTokenField, BasicTokenType>;

type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    ProviderTokens,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The claims of a validated ID token that the dashboard keeps.
#[derive(Clone, Debug, Deserialize)]
pub struct IdentityClaims {
    pub sub: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub picture: Option<String>,
    #[serde(default)]
    pub org_id: Option<String>,
    /// The provider's session (Auth0 sends it), the logout's `logout_hint`.
    #[serde(default)]
    pub sid: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    aud: Audience,
    #[serde(default)]
    iat: Option<i64>,
}

/// The provider's session an ID token names (its `sid`), for the logout's `logout_hint`: read from
/// the ID token a set sealed by an earlier version kept. Without checking the signature: the set
/// was sealed in our store, and the value only goes back to the provider, which checks it.
pub fn provider_session_of(id_token: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Session {
        sid: Option<String>,
    }
    jsonwebtoken::dangerous::insecure_decode::<Session>(id_token)
        .ok()?
        .claims
        .sid
        .filter(|sid| !sid.is_empty())
}

/// What the browser is sent to, and what must be remembered to finish the login.
pub struct LoginStart {
    pub authorize_url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider answered and said no (`invalid_grant`, `access_denied`, ...).
    #[error("the identity provider refused: {0}")]
    Refused(String),
    /// The provider could not be reached, or its answer was not understood.
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
}

/// Why the discovery document could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("could not fetch {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error(
        "the discovery document names the issuer {found:?}, not the configured {expected:?}; they \
         must be identical, trailing slash included (set --auth-issuer to the document's issuer)"
    )]
    IssuerMismatch { expected: String, found: String },
    #[error("the discovery document at {url} cannot be used: {reason}")]
    Invalid { url: String, reason: String },
}

impl From<DiscoveryError> for ProviderError {
    fn from(error: DiscoveryError) -> Self {
        ProviderError::Unavailable(error.to_string())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IdTokenError {
    #[error("no ID token in the token response")]
    Missing,
    #[error("signature, issuer, audience or expiry check failed: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    #[error("the ID token is signed with a key the provider does not publish")]
    UnknownKey,
    #[error("the ID token's nonce does not match this login")]
    NonceMismatch,
    #[error("the ID token is for organization {found:?}, not the requested {expected:?}")]
    WrongOrganization {
        expected: Option<String>,
        found: Option<String>,
    },
    #[error("the ID token's authorized party is another client")]
    WrongAuthorizedParty,
    #[error("the ID token has several audiences and no authorized party naming this client")]
    SeveralAudiencesWithoutAzp,
    #[error("the ID token's issue time is {0}")]
    IssuedAt(&'static str),
    #[error("the provider's key {0}")]
    UnusableKey(&'static str),
    #[error("could not fetch the provider's keys: {0}")]
    Keys(String),
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

/// Why an authorization response's issuer (RFC 9207) was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum ResponseIssuerError {
    #[error("the authorization response names the issuer {0:?}, not ours")]
    Mismatch(String),
    #[error("the authorization response carries no iss, which this provider always sends")]
    Missing,
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

/// The fields of a discovery document (OIDC Discovery §3, RFC 8414 §2) the dashboard reads.
#[derive(Debug, Deserialize)]
struct DiscoveryDocument {
    issuer: String,
    authorization_endpoint: String,
    #[serde(default)]
    token_endpoint: Option<String>,
    jwks_uri: String,
    #[serde(default)]
    userinfo_endpoint: Option<String>,
    #[serde(default)]
    revocation_endpoint: Option<String>,
    #[serde(default)]
    end_session_endpoint: Option<String>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    code_challenge_methods_supported: Option<Vec<String>>,
}

/// A checked discovery document, and the OAuth client built on its endpoints.
struct Discovered {
    oauth: OAuthClient,
    jwks_uri: Url,
    /// Read by nothing yet (the ID token carries the profile), kept so every published endpoint
    /// is known in one place.
    #[allow(dead_code)]
    userinfo_endpoint: Option<Url>,
    revocation_endpoint: Option<Url>,
    end_session_endpoint: Option<Url>,
    /// RFC 9207 §3: the provider sends `iss` on every authorization response.
    requires_iss: bool,
}

#[derive(Default)]
struct DiscoveryCache {
    current: Option<(Arc<Discovered>, Instant)>,
    /// Set when a call to an endpoint failed as if it had moved: fetch the document again.
    stale: bool,
    last_failure: Option<Instant>,
}

/// Who the dashboard is to the provider, and how to reach it.
pub struct ProviderSettings<'a> {
    /// Exactly as the provider writes it in `iss` and in its discovery document.
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a str,
    pub redirect_url: &'a str,
    /// The API the access tokens are for (Auth0's `audience`).
    pub audience: &'a str,
    pub auth_method: TokenEndpointAuthMethod,
    pub timeout: Duration,
    /// How long fetched signing keys are trusted before the JWKS is fetched again: a key the
    /// provider withdrew (rotated out, compromised) stops being accepted within this.
    pub jwks_max_age: Duration,
}

pub struct IdentityProvider {
    /// Compared exactly, never normalised: with the discovery document's `issuer` (OIDC Discovery
    /// §4.3), the ID token's `iss` (OIDC Core §3.1.3.7) and the callback's `iss` (RFC 9207 §2.4).
    issuer: String,
    issuer_url: Url,
    discovery_url: Url,
    client_id: String,
    /// oauth2's secret type: its `Debug` never prints the value.
    client_secret: ClientSecret,
    redirect_url: RedirectUrl,
    audience: String,
    auth_method: TokenEndpointAuthMethod,
    /// Back-channel client. It never follows redirects (an attacker-influenced redirect must not
    /// carry our client secret or a code elsewhere) and has a time limit.
    http: reqwest::Client,
    discovery: RwLock<DiscoveryCache>,
    /// One discovery fetch at a time: a burst of sign-ins after a restart asks once.
    discovery_fetch: tokio::sync::Mutex<()>,
    jwks: RwLock<JwksCache>,
    /// One JWKS fetch at a time: sign-ins arriving as the keys expire ask once.
    jwks_fetch: tokio::sync::Mutex<()>,
    jwks_max_age: Duration,
}

#[derive(Default)]
struct JwksCache {
    keys: Option<(JwkSet, Instant)>,
    last_failure: Option<Instant>,
}

/// ID token `aud`: one audience or several (OIDC Core §2).
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    Several(Vec<String>),
    /// Its value was checked by jsonwebtoken's audience validation (it must be our client id).
    One(serde::de::IgnoredAny),
}

impl Default for Audience {
    fn default() -> Self {
        Self::Several(Vec::new())
    }
}

/// `<issuer>/.well-known/openid-configuration`, joined with exactly one slash (OIDC Discovery §4:
/// a terminating `/` of the issuer is removed before appending).
pub fn discovery_url(issuer: &str) -> Result<Url, oauth2::url::ParseError> {
    Url::parse(&format!(
        "{}/{DISCOVERY_PATH}",
        issuer.trim_end_matches('/')
    ))
}

impl IdentityProvider {
    /// Checks the settings; the discovery document is fetched by [`IdentityProvider::discover`]
    /// (at start) or on first use.
    pub fn new(settings: ProviderSettings<'_>) -> Result<Self, oauth2::url::ParseError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("the TLS backend initialises");
        Ok(Self {
            issuer: settings.issuer.to_owned(),
            issuer_url: Url::parse(settings.issuer)?,
            discovery_url: discovery_url(settings.issuer)?,
            client_id: settings.client_id.to_owned(),
            client_secret: ClientSecret::new(settings.client_secret.to_owned()),
            redirect_url: RedirectUrl::new(settings.redirect_url.to_owned())?,
            audience: settings.audience.to_owned(),
            auth_method: settings.auth_method,
            http,
            discovery: RwLock::new(DiscoveryCache::default()),
            discovery_fetch: tokio::sync::Mutex::new(()),
            jwks: RwLock::new(JwksCache::default()),
            jwks_fetch: tokio::sync::Mutex::new(()),
            jwks_max_age: settings.jwks_max_age,
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The provider's origins (scheme, host, port; space-separated), for the CSP's `form-action`:
    /// the issuer's, and those of the authorization and end-session endpoints when they live
    /// elsewhere. Accepting an invitation posts to `/auth/login`, which redirects to the first;
    /// signing out posts to `/auth/logout`, which redirects to the second.
    pub fn origin(&self) -> String {
        let mut origins = vec![self.issuer_url.origin().ascii_serialization()];
        let discovered = self.cached();
        let endpoints = discovered.iter().flat_map(|discovered| {
            [
                Some(discovered.oauth.auth_uri().url()),
                discovered.end_session_endpoint.as_ref(),
            ]
        });
        // Only a plain host name or address goes into the policy: the URL standard admits hosts
        // such as `*` or `a;b`, which in a CSP would widen `form-action` or add a directive.
        for endpoint in endpoints
            .flatten()
            .filter(|endpoint| match endpoint.host() {
                Some(oauth2::url::Host::Domain(domain)) => domain
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'.' || byte == b'-'),
                Some(_) => true,
                None => false,
            })
        {
            let origin = endpoint.origin().ascii_serialization();
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        origins.join(" ")
    }

    /// [`Self::origin`] once the discovery document is known (fetched now if no copy is held,
    /// as the sign-in it leads to would; an old copy serves as it is): for a page whose form goes
    /// on to the authorization endpoint, which may live on another origin than the issuer.
    /// Without the document, the issuer's.
    pub async fn form_action_origins(&self) -> String {
        if self.cached().is_none() {
            if let Err(error) = self.discovered().await {
                tracing::warn!(%error, "the provider's endpoints are unknown for a page's form-action");
            }
        }
        self.origin()
    }

    /// Fetches the discovery document now (at start, and for readiness), whatever the cache holds.
    pub async fn discover(&self) -> Result<(), DiscoveryError> {
        let _one_at_a_time = self.discovery_fetch.lock().await;
        self.fetch_and_store().await.map(|_| ())
    }

    /// Readiness: the provider serves a discovery document for our issuer. Asked rarely: `/readyz`
    /// repeats its last verdict for a few seconds.
    pub async fn check_discovery(&self) -> Result<(), ProviderError> {
        self.discover()
            .await
            .map_err(|error| ProviderError::Unavailable(error.to_string()))
    }

    fn cached(&self) -> Option<Arc<Discovered>> {
        let cache = self.discovery.read().expect("discovery lock");
        cache
            .current
            .as_ref()
            .map(|(discovered, _)| discovered.clone())
    }

    fn fresh(&self) -> Option<Arc<Discovered>> {
        let cache = self.discovery.read().expect("discovery lock");
        match &cache.current {
            Some((discovered, fetched))
                if !cache.stale && fetched.elapsed() < DISCOVERY_MAX_AGE =>
            {
                Some(discovered.clone())
            }
            _ => None,
        }
    }

    /// After a back-channel call failed as if the endpoint had moved (unreachable, 404, 5xx):
    /// the next use fetches the document again.
    fn mark_stale(&self) {
        self.discovery.write().expect("discovery lock").stale = true;
    }

    /// The current discovery document: the cached one while fresh, otherwise fetched again. A
    /// provider unreachable at start (or now) is retried here, lazily, at most every few seconds;
    /// meanwhile an older document keeps working, as endpoints seldom move.
    async fn discovered(&self) -> Result<Arc<Discovered>, ProviderError> {
        if let Some(discovered) = self.fresh() {
            return Ok(discovered);
        }
        // While another request refreshes the document, an older copy serves: endpoints seldom
        // move, and a hanging provider must not stall every sign-in and refresh behind one fetch.
        let _one_at_a_time = match self.discovery_fetch.try_lock() {
            Ok(guard) => guard,
            Err(_) => match self.cached() {
                Some(discovered) => return Ok(discovered),
                None => self.discovery_fetch.lock().await,
            },
        };
        // Someone else may have fetched it while we waited.
        if let Some(discovered) = self.fresh() {
            return Ok(discovered);
        }
        let last_failure = self.discovery.read().expect("discovery lock").last_failure;
        if last_failure.is_some_and(|failed| failed.elapsed() < DISCOVERY_RETRY_INTERVAL) {
            return self.cached().ok_or_else(|| {
                ProviderError::Unavailable(
                    "the discovery document could not be fetched; retrying shortly".to_owned(),
                )
            });
        }
        // Boxed: every handler that needs a token may await this, and the rare fetch's nested
        // futures need not be inlined into each of theirs (they neared rustc's depth limit).
        let fetch: std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send + '_>> =
            Box::pin(self.fetch_and_store());
        match fetch.await {
            Ok(discovered) => Ok(discovered),
            Err(error) => match self.cached() {
                Some(discovered) => {
                    tracing::warn!(%error, "could not refresh the discovery document; using the one fetched before");
                    Ok(discovered)
                }
                None => Err(error.into()),
            },
        }
    }

    /// Fetches, checks and caches the document; the caller holds `discovery_fetch`.
    async fn fetch_and_store(&self) -> Result<Arc<Discovered>, DiscoveryError> {
        match self.fetch_discovery().await {
            Ok(discovered) => {
                let discovered = Arc::new(discovered);
                let mut cache = self.discovery.write().expect("discovery lock");
                *cache = DiscoveryCache {
                    current: Some((discovered.clone(), Instant::now())),
                    stale: false,
                    last_failure: None,
                };
                Ok(discovered)
            }
            Err(error) => {
                self.discovery.write().expect("discovery lock").last_failure = Some(Instant::now());
                Err(error)
            }
        }
    }

    async fn fetch_discovery(&self) -> Result<Discovered, DiscoveryError> {
        let url = self.discovery_url.to_string();
        let unreachable = |reason: String| DiscoveryError::Unreachable {
            url: url.clone(),
            reason,
        };
        let reply = self
            .http
            .get(self.discovery_url.clone())
            .send()
            .await
            .map_err(|error| unreachable(error.without_url().to_string()))?;
        if !reply.status().is_success() {
            return Err(unreachable(reply.status().to_string()));
        }
        let document: DiscoveryDocument =
            reply
                .json()
                .await
                .map_err(|error| DiscoveryError::Invalid {
                    url: url.clone(),
                    reason: error.without_url().to_string(),
                })?;
        // OIDC Discovery §4.3: the document must name exactly the issuer it was fetched for, or a
        // document served at one address could speak for another provider. No slash is added or
        // removed: the ID token's `iss` is compared with this same string just as strictly.
        if document.issuer != self.issuer {
            return Err(DiscoveryError::IssuerMismatch {
                expected: self.issuer.clone(),
                found: document.issuer,
            });
        }
        self.build(document)
            .map_err(|reason| DiscoveryError::Invalid { url, reason })
    }

    fn build(&self, document: DiscoveryDocument) -> Result<Discovered, String> {
        let authorization =
            self.endpoint("authorization_endpoint", &document.authorization_endpoint)?;
        let token = self.endpoint(
            "token_endpoint",
            document
                .token_endpoint
                .as_deref()
                .ok_or("it names no token_endpoint")?,
        )?;
        let optional = |name: &str, value: &Option<String>| {
            value
                .as_deref()
                .map(|value| self.endpoint(name, value))
                .transpose()
        };
        if let Some(methods) = &document.code_challenge_methods_supported {
            if !methods.iter().any(|method| method == "S256") {
                // We send S256 regardless (never `plain`); a provider that ignores PKCE still
                // gets state and nonce checked, but this is worth an operator's attention.
                tracing::warn!(
                    ?methods,
                    "the provider does not list PKCE S256 as supported"
                );
            }
        }
        // RFC 8414 §2: an absent list means client_secret_basic only.
        let methods = document
            .token_endpoint_auth_methods_supported
            .clone()
            .unwrap_or_else(|| vec!["client_secret_basic".to_owned()]);
        if !methods
            .iter()
            .any(|method| method == self.auth_method.as_str())
        {
            tracing::warn!(
                configured = self.auth_method.as_str(),
                ?methods,
                "the provider does not list the configured token endpoint authentication method"
            );
        }
        let oauth = oauth2::Client::new(ClientId::new(self.client_id.clone()))
            .set_client_secret(self.client_secret.clone())
            .set_auth_uri(AuthUrl::from_url(authorization))
            .set_token_uri(TokenUrl::from_url(token))
            .set_redirect_uri(self.redirect_url.clone())
            .set_auth_type(match self.auth_method {
                TokenEndpointAuthMethod::ClientSecretPost => AuthType::RequestBody,
                TokenEndpointAuthMethod::ClientSecretBasic => AuthType::BasicAuth,
            });
        Ok(Discovered {
            oauth,
            jwks_uri: self.endpoint("jwks_uri", &document.jwks_uri)?,
            userinfo_endpoint: optional("userinfo_endpoint", &document.userinfo_endpoint)?,
            revocation_endpoint: optional("revocation_endpoint", &document.revocation_endpoint)?,
            end_session_endpoint: optional("end_session_endpoint", &document.end_session_endpoint)?,
            requires_iss: document.authorization_response_iss_parameter_supported,
        })
    }

    /// An endpoint URL from the document. It must be https, or http only when the issuer itself
    /// is (a sandbox on loopback): a document must not downgrade the client secret, codes or
    /// tokens to plain HTTP.
    fn endpoint(&self, name: &str, value: &str) -> Result<Url, String> {
        let url = Url::parse(value).map_err(|error| format!("{name} {value:?}: {error}"))?;
        let allowed = url.scheme() == "https"
            || (url.scheme() == "http" && self.issuer_url.scheme() == "http");
        if !allowed {
            return Err(format!("{name} {value:?} is not https"));
        }
        Ok(url)
    }

    /// A fresh authorization request at the discovered `authorization_endpoint`: new `state`,
    /// `nonce` and PKCE S256 pair every time (RFC 9700 §2.1.1: PKCE with S256 for confidential
    /// clients too; OIDC Core §3.1.2.1 nonce; ASVS 5 V10.2). `organization` and `invitation` are
    /// Auth0's, and `audience` names the API the access token is for.
    pub async fn start_login(
        &self,
        organization: Option<&str>,
        invitation: Option<&str>,
    ) -> Result<LoginStart, ProviderError> {
        let discovered = self.discovered().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let nonce = CsrfToken::new_random();
        let mut request = discovered
            .oauth
            .authorize_url(CsrfToken::new_random)
            .add_scopes(SCOPES.iter().map(|scope| Scope::new((*scope).to_owned())))
            .add_extra_param("audience", self.audience.as_str())
            .add_extra_param("nonce", nonce.secret())
            .set_pkce_challenge(challenge);
        if let Some(organization) = organization {
            request = request.add_extra_param("organization", organization);
        }
        if let Some(invitation) = invitation {
            request = request.add_extra_param("invitation", invitation);
        }
        let (url, state) = request.url();
        Ok(LoginStart {
            authorize_url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// RFC 9207 (the mix-up defence): an authorization response that names an issuer must name
    /// ours, compared as plain strings (§2.4); and when our provider says it always sends `iss`,
    /// a response without one is refused, as an attacker relaying another provider's response
    /// would strip it.
    pub async fn check_response_issuer(
        &self,
        iss: Option<&str>,
    ) -> Result<(), ResponseIssuerError> {
        match iss {
            Some(iss) if iss == self.issuer => Ok(()),
            Some(iss) => Err(ResponseIssuerError::Mismatch(iss.to_owned())),
            None if self.discovered().await?.requires_iss => Err(ResponseIssuerError::Missing),
            None => Ok(()),
        }
    }

    /// Exchanges the code as a confidential client (by the configured authentication method),
    /// proving possession of the PKCE verifier.
    pub async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: &str,
    ) -> Result<ProviderTokens, ProviderError> {
        let discovered = self.discovered().await?;
        let result = discovered
            .oauth
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(token_error);
        self.note_failure(result)
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<ProviderTokens, ProviderError> {
        let discovered = self.discovered().await?;
        let result = discovered
            .oauth
            .exchange_refresh_token(&RefreshToken::new(refresh_token.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(token_error);
        self.note_failure(result)
    }

    /// A back-channel call that failed for want of the provider may have used an endpoint that
    /// moved: the document is fetched again before the next call.
    fn note_failure<T>(&self, result: Result<T, ProviderError>) -> Result<T, ProviderError> {
        if let Err(ProviderError::Unavailable(_)) = &result {
            self.mark_stale();
        }
        result
    }

    /// Revokes a refresh token (and with Auth0, its whole rotation family) at logout (RFC 7009),
    /// at the discovered `revocation_endpoint`. A provider that publishes none is left alone.
    ///
    /// Sent by hand rather than through oauth2's revocation support, which insists on an https
    /// endpoint and so cannot talk to the loopback sandbox; the request is the same.
    pub async fn revoke(&self, refresh_token: &str) -> Result<(), ProviderError> {
        let discovered = self.discovered().await?;
        let Some(endpoint) = discovered.revocation_endpoint.clone() else {
            tracing::debug!("the provider publishes no revocation endpoint");
            return Ok(());
        };
        let mut form = vec![
            ("token", refresh_token),
            ("token_type_hint", "refresh_token"),
        ];
        let mut request = self.http.post(endpoint);
        // The same client authentication as at the token endpoint: a provider holds a client to
        // the one method it is registered with.
        match self.auth_method {
            TokenEndpointAuthMethod::ClientSecretPost => {
                form.push(("client_id", self.client_id.as_str()));
                form.push(("client_secret", self.client_secret.secret().as_str()));
            }
            TokenEndpointAuthMethod::ClientSecretBasic => {
                request = request.header(
                    reqwest::header::AUTHORIZATION,
                    basic_credentials(&self.client_id, self.client_secret.secret()),
                );
            }
        }
        let reply = request
            .form(&form)
            .send()
            .await
            .map_err(|error| ProviderError::Unavailable(error.without_url().to_string()));
        let result = match reply {
            Ok(reply) => match reply.status() {
                status if status.is_success() => Ok(()),
                // A 429 refuses the call, not the token: the revocation is still owed.
                status
                    if status.is_client_error()
                        && status != reqwest::StatusCode::NOT_FOUND
                        && status != reqwest::StatusCode::TOO_MANY_REQUESTS =>
                {
                    Err(ProviderError::Refused(status.to_string()))
                }
                status => Err(ProviderError::Unavailable(status.to_string())),
            },
            Err(error) => Err(error),
        };
        self.note_failure(result)
    }

    /// Where the browser goes to sign out at the provider, to come back to `return_to` (which the
    /// provider only accepts if it is registered as an allowed logout URL).
    ///
    /// With a published `end_session_endpoint`, OIDC RP-Initiated Logout: `logout_hint` (the
    /// provider's session, the `sid` of the session's ID token), `post_logout_redirect_uri` and
    /// `client_id`. Not `id_token_hint`: this URL goes through the browser (its history, the
    /// provider's access logs), and no token reaches the browser; Auth0 takes `logout_hint` with
    /// `client_id` for clients that do not hand out ID tokens. A provider whose ID tokens carry no
    /// `sid` gets no hint, and may ask the member to confirm. Without an end-session endpoint,
    /// Auth0's own `/v2/logout` (`client_id`, `returnTo`). When the provider cannot be reached, the
    /// session has ended here and the browser goes straight back.
    pub async fn logout_url(&self, return_to: &str, provider_session: Option<&str>) -> String {
        let discovered = match self.discovered().await {
            Ok(discovered) => discovered,
            Err(error) => {
                tracing::warn!(%error, "signed out here only: the provider's logout is unknown");
                return return_to.to_owned();
            }
        };
        match &discovered.end_session_endpoint {
            Some(endpoint) => {
                let mut url = endpoint.clone();
                {
                    let mut query = url.query_pairs_mut();
                    if let Some(session) = provider_session {
                        query.append_pair("logout_hint", session);
                    }
                    query
                        .append_pair("post_logout_redirect_uri", return_to)
                        .append_pair("client_id", &self.client_id);
                }
                url.into()
            }
            None => {
                let query = form_urlencoded::Serializer::new(String::new())
                    .append_pair("client_id", &self.client_id)
                    .append_pair("returnTo", return_to)
                    .finish();
                format!("{}/v2/logout?{query}", self.issuer.trim_end_matches('/'))
            }
        }
    }

    /// Validates an ID token: RS256 signature by a key published at the discovered `jwks_uri`,
    /// `iss` (exactly our issuer), `aud`, `exp` (OIDC Core §3.1.3.7), the `nonce` of this login
    /// (replay defence), `azp` when present, and the organization asked for (so an invitation to
    /// one organization cannot sign someone into another; ASVS 5 V10.5).
    pub async fn validate_id_token(
        &self,
        tokens: &ProviderTokens,
        expected_nonce: &str,
        expected_organization: Option<&str>,
    ) -> Result<IdentityClaims, IdTokenError> {
        let id_token = tokens
            .extra_fields()
            .id_token
            .as_deref()
            .ok_or(IdTokenError::Missing)?;
        let header = decode_header(id_token)?;
        // Only RS256: never `none`, never an HMAC algorithm keyed with a public key.
        let mut validation = Validation::new(Algorithm::RS256);
        // A plain string comparison: `https://tenant/` and `https://tenant` are different issuers.
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.client_id]);
        // jsonwebtoken checks the presence of exp, iss, aud and sub only; `iat` is checked below.
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = CLOCK_SKEW;
        // Boxed: fetching keys is rare, and inline it deepened the sign-in callback's future.
        let key = Box::pin(self.key_for(header.kid.as_deref())).await?;
        let claims = decode::<IdentityClaims>(id_token, &key, &validation)?.claims;

        if claims.nonce.as_deref() != Some(expected_nonce) {
            return Err(IdTokenError::NonceMismatch);
        }
        if claims
            .azp
            .as_deref()
            .is_some_and(|azp| azp != self.client_id)
        {
            return Err(IdTokenError::WrongAuthorizedParty);
        }
        // Several audiences: the token was issued to whoever `azp` names, which must be us (OIDC
        // Core §3.1.3.7 items 4-5); otherwise another client's token could sign a member in here.
        if matches!(&claims.aud, Audience::Several(audiences) if audiences.len() != 1)
            && claims.azp.is_none()
        {
            return Err(IdTokenError::SeveralAudiencesWithoutAzp);
        }
        check_issued_at(claims.iat, time::OffsetDateTime::now_utc().unix_timestamp())?;
        let organization_ok = match expected_organization {
            Some(expected) => claims.org_id.as_deref() == Some(expected),
            // Without a requested organization the member must still belong to one: the
            // dashboard has nothing to show to someone outside every organization.
            None => claims.org_id.is_some(),
        };
        if !organization_ok {
            return Err(IdTokenError::WrongOrganization {
                expected: expected_organization.map(str::to_owned),
                found: claims.org_id,
            });
        }
        Ok(claims)
    }

    /// The provider's key `kid`, from a JWKS fetched at most `jwks_max_age` ago. Fetched again
    /// when older, or for an unknown `kid` (a rotation) at most once per [`JWKS_REFETCH_INTERVAL`],
    /// and never sooner than [`JWKS_RETRY_AFTER_FAILURE`] after a failed fetch: made-up key ids
    /// and a provider that is down cannot make every sign-in ask again.
    async fn key_for(&self, kid: Option<&str>) -> Result<DecodingKey, IdTokenError> {
        let kid = kid.ok_or(IdTokenError::UnknownKey)?;
        if let Some(decided) = self.key_from_cache(kid) {
            return decided;
        }
        // One fetch at a time; whoever waited finds its result in the cache.
        let _one_at_a_time = self.jwks_fetch.lock().await;
        if let Some(decided) = self.key_from_cache(kid) {
            return decided;
        }
        let keys = match self.fetch_jwks().await {
            Ok(keys) => keys,
            Err(error) => {
                self.jwks.write().expect("jwks lock").last_failure = Some(Instant::now());
                return Err(error);
            }
        };
        let key = keys.find(kid).map(usable_key);
        self.jwks.write().expect("jwks lock").keys = Some((keys, Instant::now()));
        key.unwrap_or(Err(IdTokenError::UnknownKey))
    }

    /// The answer the cached keys give for `kid`, or `None` when the JWKS should be fetched.
    fn key_from_cache(&self, kid: &str) -> Option<Result<DecodingKey, IdTokenError>> {
        let cache = self.jwks.read().expect("jwks lock");
        let recently_failed = cache
            .last_failure
            .is_some_and(|at| at.elapsed() < JWKS_RETRY_AFTER_FAILURE);
        match &cache.keys {
            Some((keys, fetched)) if fetched.elapsed() < self.jwks_max_age => {
                if let Some(jwk) = keys.find(kid) {
                    return Some(usable_key(jwk));
                }
                let may_refetch = fetched.elapsed() >= JWKS_REFETCH_INTERVAL && !recently_failed;
                (!may_refetch).then_some(Err(IdTokenError::UnknownKey))
            }
            // Never fetched, or too old to trust.
            _ => recently_failed.then_some(Err(IdTokenError::UnknownKey)),
        }
    }

    async fn fetch_jwks(&self) -> Result<JwkSet, IdTokenError> {
        let jwks_uri = self.discovered().await?.jwks_uri.clone();
        let reply = self
            .http
            .get(jwks_uri)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status);
        match reply {
            Ok(reply) => reply
                .json()
                .await
                .map_err(|error| IdTokenError::Keys(error.to_string())),
            Err(error) => {
                self.mark_stale();
                Err(IdTokenError::Keys(error.to_string()))
            }
        }
    }
}

/// A JWK fit to check an RS256 signature: an RSA key, published for signatures (`use`) and for
/// RS256 (`alg`) when it says so. An encryption key or one meant for another algorithm is refused
/// even when its `kid` matches (RFC 7517 §4.2, §4.4).
fn usable_key(jwk: &jsonwebtoken::jwk::Jwk) -> Result<DecodingKey, IdTokenError> {
    use jsonwebtoken::jwk::{AlgorithmParameters, KeyAlgorithm, PublicKeyUse};
    if !matches!(
        jwk.common.public_key_use,
        None | Some(PublicKeyUse::Signature)
    ) {
        return Err(IdTokenError::UnusableKey("is not published for signatures"));
    }
    if !matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::RS256)) {
        return Err(IdTokenError::UnusableKey(
            "is published for another algorithm",
        ));
    }
    if !matches!(jwk.algorithm, AlgorithmParameters::RSA(_)) {
        return Err(IdTokenError::UnusableKey("is not an RSA key"));
    }
    Ok(DecodingKey::from_jwk(jwk)?)
}

/// `iat` must be there (OIDC Core §2), not in the future and not old: the token was just issued.
fn check_issued_at(iat: Option<i64>, now: i64) -> Result<(), IdTokenError> {
    let skew = CLOCK_SKEW as i64;
    match iat {
        None => Err(IdTokenError::IssuedAt("missing")),
        Some(iat) if iat > now + skew => Err(IdTokenError::IssuedAt("in the future")),
        Some(iat) if iat < now - MAX_ID_TOKEN_AGE - skew => {
            Err(IdTokenError::IssuedAt("too long ago"))
        }
        Some(_) => Ok(()),
    }
}

/// `Authorization: Basic` as RFC 6749 §2.3.1 wants it: id and secret each form-urlencoded first.
fn basic_credentials(client_id: &str, secret: &str) -> String {
    let encode =
        |value: &str| form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret)))
    )
}

/// The parts of a token response the dashboard keeps.
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// The provider's session, the `sid` of the ID token: set at sign-in once the token is checked
    /// (`validate_id_token`), for the logout's `logout_hint`; none from a refresh.
    pub provider_session: Option<String>,
    pub expires_in: Duration,
}

impl From<&ProviderTokens> for IssuedTokens {
    fn from(tokens: &ProviderTokens) -> Self {
        Self {
            access_token: tokens.access_token().secret().clone(),
            refresh_token: tokens.refresh_token().map(|token| token.secret().clone()),
            provider_session: None,
            // Auth0 always sends expires_in; a provider that does not gets a conservative minute.
            expires_in: tokens.expires_in().unwrap_or(Duration::from_secs(60)),
        }
    }
}

fn token_error<RE: std::error::Error + 'static>(
    error: RequestTokenError<RE, BasicErrorResponse>,
) -> ProviderError {
    match error {
        RequestTokenError::ServerResponse(response) => {
            ProviderError::Refused(match response.error_description() {
                Some(description) => format!("{}: {description}", response.error()),
                None => response.error().to_string(),
            })
        }
        // Parse errors carry the body; only the message is kept, as bodies may hold tokens.
        RequestTokenError::Parse(error, _) => ProviderError::Unavailable(error.to_string()),
        other => ProviderError::Unavailable(other.to_string()),
    }
}

impl std::fmt::Debug for IdentityProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityProvider")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("auth_method", &self.auth_method)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A set sealed before `provider_session` was kept holds the whole ID token: its `sid` is still
    /// found for the logout; a token without one (or an empty one) gives no hint.
    #[test]
    fn an_old_sets_id_token_still_names_the_providers_session() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let token = |claims: &str| {
            format!(
                "{}.{}.c2ln",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
                URL_SAFE_NO_PAD.encode(claims)
            )
        };
        assert_eq!(
            provider_session_of(&token(r#"{"sub":"auth0|ada","sid":"s-1"}"#)).as_deref(),
            Some("s-1")
        );
        assert_eq!(provider_session_of(&token(r#"{"sub":"auth0|ada"}"#)), None);
        assert_eq!(provider_session_of(&token(r#"{"sid":""}"#)), None);
        assert_eq!(provider_session_of("not a token"), None);
    }

    fn provider(issuer: &str) -> IdentityProvider {
        IdentityProvider::new(ProviderSettings {
            issuer,
            client_id: "dashboard",
            client_secret: "s3cret:&",
            redirect_url: "https://dashboard.example/auth/callback",
            audience: "https://api.keystoneos.xyz",
            auth_method: TokenEndpointAuthMethod::ClientSecretPost,
            timeout: Duration::from_secs(1),
            jwks_max_age: Duration::from_secs(600),
        })
        .unwrap()
    }

    #[test]
    fn an_id_token_must_say_when_it_was_issued_and_it_must_be_now() {
        let now = 1_800_000_000;
        assert!(check_issued_at(Some(now), now).is_ok());
        assert!(
            check_issued_at(Some(now + 30), now).is_ok(),
            "within the skew"
        );
        assert!(check_issued_at(None, now).is_err());
        assert!(check_issued_at(Some(now + 3_600), now).is_err());
        assert!(check_issued_at(Some(now - 86_400), now).is_err());
    }

    #[test]
    fn only_rsa_signature_keys_for_rs256_are_used() {
        let jwk = |extra: serde_json::Value| -> jsonwebtoken::jwk::Jwk {
            let mut value = serde_json::json!({
                "kty": "RSA", "kid": "k",
                "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw",
                "e": "AQAB"
            });
            value
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            serde_json::from_value(value).unwrap()
        };
        assert!(usable_key(&jwk(serde_json::json!({}))).is_ok());
        assert!(usable_key(&jwk(serde_json::json!({ "use": "sig", "alg": "RS256" }))).is_ok());
        assert!(usable_key(&jwk(serde_json::json!({ "use": "enc" }))).is_err());
        assert!(usable_key(&jwk(serde_json::json!({ "alg": "RS512" }))).is_err());
        let octet: jsonwebtoken::jwk::Jwk = serde_json::from_value(
            serde_json::json!({ "kty": "oct", "kid": "k", "k": "c2VjcmV0" }),
        )
        .unwrap();
        assert!(usable_key(&octet).is_err());
    }

    #[test]
    fn the_discovery_url_joins_the_issuer_with_exactly_one_slash() {
        for (issuer, expected) in [
            (
                "https://tenant.auth0.com/",
                "https://tenant.auth0.com/.well-known/openid-configuration",
            ),
            (
                "https://idp.example",
                "https://idp.example/.well-known/openid-configuration",
            ),
            (
                "https://idp.example/realms/keystone",
                "https://idp.example/realms/keystone/.well-known/openid-configuration",
            ),
            (
                "https://idp.example/realms/keystone/",
                "https://idp.example/realms/keystone/.well-known/openid-configuration",
            ),
        ] {
            assert_eq!(discovery_url(issuer).unwrap().as_str(), expected);
        }
    }

    #[test]
    fn the_issuer_is_kept_exactly_as_configured() {
        assert_eq!(
            provider("https://idp.example").issuer(),
            "https://idp.example"
        );
        assert_eq!(
            provider("https://idp.example/").issuer(),
            "https://idp.example/"
        );
    }

    #[test]
    fn endpoints_must_not_downgrade_to_plain_http() {
        let secure = provider("https://idp.example/");
        assert!(secure
            .endpoint("token_endpoint", "https://idp.example/token")
            .is_ok());
        assert!(secure
            .endpoint("token_endpoint", "http://idp.example/token")
            .unwrap_err()
            .contains("not https"));
        assert!(secure.endpoint("token_endpoint", "/token").is_err());
        let sandbox = provider("http://127.0.0.1:4010/");
        assert!(sandbox
            .endpoint("token_endpoint", "http://127.0.0.1:4010/oauth/token")
            .is_ok());
    }

    #[test]
    fn basic_credentials_are_form_urlencoded_first() {
        let header = basic_credentials("dashboard", "s3cret:&");
        let decoded = STANDARD
            .decode(header.strip_prefix("Basic ").unwrap())
            .unwrap();
        assert_eq!(
            String::from_utf8(decoded).unwrap(),
            "dashboard:s3cret%3A%26"
        );
    }
}
