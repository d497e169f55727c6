//! The identity provider (Auth0, or the sandbox that speaks its protocol), seen from the BFF:
//! authorization URLs, the back-channel token calls, ID-token validation and logout.

use std::{
    sync::RwLock,
    time::{Duration, Instant},
};

use jsonwebtoken::{decode, decode_header, jwk::JwkSet, Algorithm, DecodingKey, Validation};
use oauth2::{
    basic::{
        BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
        BasicTokenType,
    },
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, StandardRevocableToken, StandardTokenResponse, TokenResponse,
    TokenUrl,
};
use serde::{Deserialize, Serialize};

/// The API the access tokens are for (Auth0's `audience`).
pub const API_AUDIENCE: &str = "https://api.keystoneos.xyz";

/// `offline_access` asks for a refresh token, so sessions outlive one access token.
const SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Allowed clock difference between us and the provider when checking `exp`/`iat`.
const CLOCK_SKEW: u64 = 60;

/// A JWKS is refetched for an unknown `kid` (key rotation), but not more often than this, so a
/// stream of tokens with made-up key ids cannot make us hammer the provider.
const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(30);

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
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    azp: Option<String>,
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
    #[error("could not fetch the provider's keys: {0}")]
    Keys(String),
}

pub struct IdentityProvider {
    issuer: String,
    client_id: String,
    /// oauth2's secret type: its `Debug` never prints the value.
    client_secret: ClientSecret,
    oauth: OAuthClient,
    /// Back-channel client. It never follows redirects (an attacker-influenced redirect must not
    /// carry our client secret elsewhere) and has a time limit.
    http: reqwest::Client,
    jwks: RwLock<Option<(JwkSet, Instant)>>,
}

impl IdentityProvider {
    /// `issuer` is the tenant URL with its trailing slash, as it appears in the tokens' `iss`.
    /// Endpoint paths are Auth0's, fixed and published, so no discovery round trip is needed.
    pub fn new(
        issuer: &str,
        client_id: &str,
        client_secret: &str,
        redirect_url: &str,
        timeout: Duration,
    ) -> Result<Self, oauth2::url::ParseError> {
        let issuer = format!("{}/", issuer.trim_end_matches('/'));
        let oauth = oauth2::Client::new(ClientId::new(client_id.to_owned()))
            .set_client_secret(ClientSecret::new(client_secret.to_owned()))
            .set_auth_uri(AuthUrl::new(format!("{issuer}authorize"))?)
            .set_token_uri(TokenUrl::new(format!("{issuer}oauth/token"))?)
            .set_redirect_uri(RedirectUrl::new(redirect_url.to_owned())?);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("the TLS backend initialises");
        Ok(Self {
            issuer,
            client_id: client_id.to_owned(),
            client_secret: ClientSecret::new(client_secret.to_owned()),
            oauth,
            http,
            jwks: RwLock::new(None),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The provider's origin (scheme, host, port), for the CSP's `form-action`.
    pub fn origin(&self) -> String {
        let url = oauth2::url::Url::parse(&self.issuer).expect("validated in new");
        url.origin().ascii_serialization()
    }

    /// A fresh authorization request: new `state`, `nonce` and PKCE S256 pair every time
    /// (RFC 9700 §2.1.1: PKCE with S256 for confidential clients too; OIDC Core §3.1.2.1 nonce;
    /// ASVS 5 V10.2).
    pub fn start_login(&self, organization: Option<&str>, invitation: Option<&str>) -> LoginStart {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let nonce = CsrfToken::new_random();
        let mut request = self
            .oauth
            .authorize_url(CsrfToken::new_random)
            .add_scopes(SCOPES.iter().map(|scope| Scope::new((*scope).to_owned())))
            .add_extra_param("audience", API_AUDIENCE)
            .add_extra_param("nonce", nonce.secret())
            .set_pkce_challenge(challenge);
        if let Some(organization) = organization {
            request = request.add_extra_param("organization", organization);
        }
        if let Some(invitation) = invitation {
            request = request.add_extra_param("invitation", invitation);
        }
        let (url, state) = request.url();
        LoginStart {
            authorize_url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        }
    }

    /// Exchanges the code as a confidential client, proving possession of the PKCE verifier.
    pub async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: &str,
    ) -> Result<ProviderTokens, ProviderError> {
        self.oauth
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(token_error)
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<ProviderTokens, ProviderError> {
        self.oauth
            .exchange_refresh_token(&RefreshToken::new(refresh_token.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(token_error)
    }

    /// Revokes a refresh token (and with Auth0, its whole rotation family) at logout (RFC 7009).
    ///
    /// Sent by hand rather than through oauth2's revocation support, which insists on an https
    /// endpoint and so cannot talk to the loopback sandbox; the request is the same.
    pub async fn revoke(&self, refresh_token: &str) -> Result<(), ProviderError> {
        let reply = self
            .http
            .post(format!("{}oauth/revoke", self.issuer))
            .form(&[
                ("token", refresh_token),
                ("token_type_hint", "refresh_token"),
                ("client_id", self.client_id.as_str()),
                ("client_secret", self.client_secret.secret().as_str()),
            ])
            .send()
            .await
            .map_err(|error| ProviderError::Unavailable(error.without_url().to_string()))?;
        match reply.status() {
            status if status.is_success() => Ok(()),
            status if status.is_client_error() => Err(ProviderError::Refused(status.to_string())),
            status => Err(ProviderError::Unavailable(status.to_string())),
        }
    }

    /// Readiness: the provider serves its OpenID discovery document.
    pub async fn check_discovery(&self) -> Result<(), ProviderError> {
        let reply = self
            .http
            .get(format!("{}.well-known/openid-configuration", self.issuer))
            .send()
            .await
            .map_err(|error| ProviderError::Unavailable(error.without_url().to_string()))?;
        if reply.status().is_success() {
            Ok(())
        } else {
            Err(ProviderError::Unavailable(reply.status().to_string()))
        }
    }

    /// The provider's logout URL, returning to `return_to` (which the provider only accepts if it is
    /// registered as an allowed logout URL).
    pub fn logout_url(&self, return_to: &str) -> String {
        let query = oauth2::url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.client_id)
            .append_pair("returnTo", return_to)
            .finish();
        format!("{}v2/logout?{query}", self.issuer)
    }

    /// Validates an ID token: RS256 signature by a published key, `iss`, `aud`, `exp` (OIDC Core
    /// §3.1.3.7), the `nonce` of this login (replay defence) and the organization asked for (so an
    /// invitation to one organization cannot sign someone into another; ASVS 5 V10.5).
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
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.client_id]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = CLOCK_SKEW;
        let key = self.key_for(header.kid.as_deref()).await?;
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

    async fn key_for(&self, kid: Option<&str>) -> Result<DecodingKey, IdTokenError> {
        let kid = kid.ok_or(IdTokenError::UnknownKey)?;
        if let Some(key) = self.cached_key(kid)? {
            return Ok(key);
        }
        let stale = self
            .jwks
            .read()
            .expect("jwks lock")
            .as_ref()
            .is_none_or(|(_, fetched)| fetched.elapsed() >= JWKS_REFETCH_INTERVAL);
        if !stale {
            return Err(IdTokenError::UnknownKey);
        }
        let keys: JwkSet = self
            .http
            .get(format!("{}.well-known/jwks.json", self.issuer))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|error| IdTokenError::Keys(error.to_string()))?
            .json()
            .await
            .map_err(|error| IdTokenError::Keys(error.to_string()))?;
        *self.jwks.write().expect("jwks lock") = Some((keys, Instant::now()));
        self.cached_key(kid)?.ok_or(IdTokenError::UnknownKey)
    }

    fn cached_key(&self, kid: &str) -> Result<Option<DecodingKey>, IdTokenError> {
        let jwks = self.jwks.read().expect("jwks lock");
        let Some(jwk) = jwks.as_ref().and_then(|(set, _)| set.find(kid)) else {
            return Ok(None);
        };
        Ok(Some(DecodingKey::from_jwk(jwk)?))
    }
}

/// The parts of a token response the dashboard keeps.
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: Duration,
}

impl From<&ProviderTokens> for IssuedTokens {
    fn from(tokens: &ProviderTokens) -> Self {
        Self {
            access_token: tokens.access_token().secret().clone(),
            refresh_token: tokens.refresh_token().map(|token| token.secret().clone()),
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
            .finish_non_exhaustive()
    }
}
