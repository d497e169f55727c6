//! The identity provider: the part of Auth0's surface the dashboard and the SDK use.

mod authorize;
mod clients;
mod pages;
pub(crate) mod token;

use axum::{
    extract::{Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
    Json, Router,
};
use serde::{Deserialize, Serialize};

use crate::{SharedState, API_AUDIENCE};

pub use authorize::random_token;
pub use token::issue_m2m_token;

/// Claims of an access token (user and M2M alike; user tokens carry `permissions`, M2M tokens `gty`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Vec<String>,
    pub azp: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gty: Option<String>,
}

impl AccessClaims {
    pub fn is_m2m(&self) -> bool {
        self.gty.as_deref() == Some("client-credentials")
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
}

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/authorize", get(authorize::start))
        .route("/authorize/decision", post(authorize::decide))
        .route("/oauth/token", post(token::token))
        .route("/oauth/revoke", post(token::revoke))
        .route("/userinfo", get(userinfo))
        .route("/v2/logout", get(logout))
}

async fn discovery(State(state): State<SharedState>) -> Json<serde_json::Value> {
    let base = &state.base_url;
    Json(serde_json::json!({
        "issuer": state.issuer,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "end_session_endpoint": format!("{base}/v2/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "email", "email_verified", "picture", "org_id"],
    }))
}

async fn jwks(State(state): State<SharedState>) -> Json<serde_json::Value> {
    Json(state.keys.jwks())
}

async fn userinfo(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let Some(token) = token else {
        return (StatusCode::UNAUTHORIZED, "missing bearer token").into_response();
    };
    let claims: AccessClaims = match state.keys.verify(token, &state.issuer, API_AUDIENCE) {
        Ok(claims) => claims,
        Err(_) => return (StatusCode::UNAUTHORIZED, "invalid token").into_response(),
    };
    match state.store.read(|data| data.person(&claims.sub).cloned()) {
        Some(person) => Json(serde_json::json!({
            "sub": person.user_id,
            "name": person.name,
            "email": person.email,
            "email_verified": true,
            "picture": person.picture,
        }))
        .into_response(),
        None => (StatusCode::UNAUTHORIZED, "unknown user").into_response(),
    }
}

#[derive(Deserialize)]
struct LogoutQuery {
    client_id: Option<String>,
    #[serde(rename = "returnTo")]
    return_to: Option<String>,
}

/// Ends the provider's session. `returnTo` must be one of the dashboard's allowed logout URLs: never an
/// open redirect.
async fn logout(State(state): State<SharedState>, Query(query): Query<LogoutQuery>) -> Response {
    let Some(return_to) = query.return_to else {
        return Html(
            pages::message("Signed out", "You are signed out of the KeyStone sandbox.")
                .into_string(),
        )
        .into_response();
    };
    let dashboard = state.config.dashboard_url.trim_end_matches('/');
    let allowed = [dashboard.to_owned(), format!("{dashboard}/")];
    if query.client_id.as_deref() != Some(state.config.dashboard_client_id.as_str())
        || !allowed.contains(&return_to)
    {
        return (
            StatusCode::BAD_REQUEST,
            Html(
                pages::error(
                    "Sign-out not allowed",
                    "The returnTo URL is not one of this application's allowed logout URLs.",
                )
                .into_string(),
            ),
        )
            .into_response();
    }
    Redirect::to(&return_to).into_response()
}

/// Form or JSON body: Auth0 accepts both on `/oauth/token` and `/oauth/revoke`.
pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, String> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if is_json {
        serde_json::from_slice(body).map_err(|error| error.to_string())
    } else {
        serde_urlencoded::from_bytes(body).map_err(|error| error.to_string())
    }
}
