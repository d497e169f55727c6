//! Sign-in and sign-out: the authorization-code flow with PKCE, run entirely by the BFF
//! (OAuth 2.0 for Browser-Based Apps §6.1: the browser never sees a token).

mod provider;
mod rate_limit;
mod routes;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use serde::Deserialize;

pub use provider::{
    discovery_url, provider_session_of, DiscoveryError, IdentityProvider, IssuedTokens,
    ProviderError, ProviderSettings,
};
pub use rate_limit::SignInLimiter;
pub use routes::{commit_sign_in, router};

/// 256 bits from the OS generator, URL-safe: token-set ids and lock holders.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[derive(Deserialize)]
struct AccessTokenClaims {
    #[serde(default)]
    permissions: Vec<String>,
}

/// The permissions an access token grants, for showing or hiding actions.
///
/// Not verified here, deliberately: the token came straight from the provider's token endpoint
/// over TLS (OIDC Core §3.1.3.7 allows trusting that channel), and the KeyStone API verifies the
/// token and enforces every permission itself. The values shape the UI and pick which remembered
/// reads a member is given (`permissions::shares_remembered`: only those the token itself names).
pub fn permissions_of(access_token: &str) -> Vec<String> {
    jsonwebtoken::dangerous::insecure_decode::<AccessTokenClaims>(access_token)
        .map(|data| data.claims.permissions)
        .unwrap_or_default()
}
