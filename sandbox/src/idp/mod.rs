//! The identity provider: the part of Auth0's surface the dashboard and the SDK use.

mod authorize;
mod clients;
mod pages;
mod profile;
pub(crate) mod token;

use axum::{
    extract::{Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Json, Router,
};
use serde::{Deserialize, Serialize};

use crate::{SandboxState, SharedState, API_AUDIENCE};

pub use authorize::random_token;
pub use profile::{Endpoints, OidcProfile, TokenAuthMethod};
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
    /// The provider's session, which `/oidc/logout` takes as `logout_hint` (Auth0 sends it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// The provider's routes for `profile`: only the paths that provider serves, so a client that
/// guesses Auth0's paths instead of reading discovery gets a 404 from the generic profile.
pub fn router(profile: OidcProfile) -> Router<SharedState> {
    let endpoints = profile.endpoints();
    let mut router = Router::new()
        // `<issuer>/.well-known/openid-configuration`: the same path with or without the slash.
        .route("/.well-known/openid-configuration", get(discovery))
        .route(endpoints.jwks, get(jwks))
        .route(endpoints.authorization, get(authorize::start))
        .route(endpoints.decision, post(authorize::decide))
        .route(endpoints.token, post(token::token))
        .route(endpoints.revocation, post(token::revoke))
        .route(endpoints.userinfo, get(userinfo));
    if let Some(path) = endpoints.end_session {
        // OIDC RP-Initiated Logout §2: the OP supports GET and POST.
        router = router.route(path, get(end_session).post(end_session_form));
    }
    if let Some(path) = endpoints.auth0_logout {
        router = router.route(path, get(logout));
    }
    router
}

/// The absolute URL of one of this sandbox's paths.
pub(crate) fn endpoint_url(state: &SandboxState, path: &str) -> String {
    format!("{}{path}", state.base_url)
}

/// The discovery document (OIDC Discovery §3): every endpoint the profile serves, by its URL.
async fn discovery(State(state): State<SharedState>) -> Json<serde_json::Value> {
    let profile = state.config.oidc_profile;
    let endpoints = profile.endpoints();
    let url = |path: &str| endpoint_url(&state, path);
    let client_auth = ["client_secret_basic", "client_secret_post"];
    let mut document = serde_json::json!({
        "issuer": state.issuer,
        "authorization_endpoint": url(endpoints.authorization),
        "token_endpoint": url(endpoints.token),
        "userinfo_endpoint": url(endpoints.userinfo),
        "jwks_uri": url(endpoints.jwks),
        "revocation_endpoint": url(endpoints.revocation),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": client_auth,
        "revocation_endpoint_auth_methods_supported": client_auth,
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "email", "email_verified", "picture", "org_id"],
    });
    if let Some(path) = endpoints.end_session {
        document["end_session_endpoint"] = url(path).into();
    }
    if profile.sends_iss() {
        document["authorization_response_iss_parameter_supported"] = true.into();
    }
    Json(document)
}

async fn jwks(State(state): State<SharedState>) -> Json<serde_json::Value> {
    if state
        .faults
        .lock()
        .expect("faults lock")
        .jwks_omits_signing_key
    {
        return Json(crate::keys::SigningKeys::jwks_without_signing_key());
    }
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

/// The dashboard's allowed logout URLs: its root, with or without the slash. Anything else is
/// refused, so neither logout endpoint is an open redirect.
fn is_allowed_logout_url(state: &SandboxState, url: &str) -> bool {
    let dashboard = state.config.dashboard_url.trim_end_matches('/');
    url == dashboard || url.strip_prefix(dashboard) == Some("/")
}

fn logout_refused(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(pages::error("Sign-out not allowed", message).into_string()),
    )
        .into_response()
}

fn signed_out_page() -> Response {
    Html(pages::message("Signed out", "You are signed out of the KeyStone sandbox.").into_string())
        .into_response()
}

/// Auth0's `/v2/logout`: ends the provider's session. `returnTo` must be one of the dashboard's
/// allowed logout URLs: never an open redirect.
async fn logout(State(state): State<SharedState>, Query(query): Query<LogoutQuery>) -> Response {
    let Some(return_to) = query.return_to else {
        return signed_out_page();
    };
    if query.client_id.as_deref() != Some(state.config.dashboard_client_id.as_str())
        || !is_allowed_logout_url(&state, &return_to)
    {
        return logout_refused(
            "The returnTo URL is not one of this application's allowed logout URLs.",
        );
    }
    Redirect::to(&return_to).into_response()
}

/// OIDC RP-Initiated Logout 1.0 parameters.
#[derive(Deserialize)]
struct EndSessionRequest {
    id_token_hint: Option<String>,
    /// Auth0's alternative to the hint, for clients that do not keep ID tokens: the `sid` of the
    /// session to end, with `client_id`.
    logout_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    client_id: Option<String>,
    state: Option<String>,
    /// "yes" from the confirmation page.
    confirm: Option<String>,
}

async fn end_session(
    State(state): State<SharedState>,
    Query(request): Query<EndSessionRequest>,
) -> Response {
    end_session_reply(&state, request)
}

async fn end_session_form(
    State(state): State<SharedState>,
    Form(request): Form<EndSessionRequest>,
) -> Response {
    end_session_reply(&state, request)
}

/// The `end_session_endpoint`: ends the provider's session, then returns to the client when it
/// names a registered `post_logout_redirect_uri`.
fn end_session_reply(state: &SandboxState, request: EndSessionRequest) -> Response {
    let dashboard = state.config.dashboard_client_id.as_str();
    // A hint must be an ID token this provider issued to the client (RP-Initiated Logout §2:
    // the OP validates that it was the issuer); expired ones are fine.
    let (hinted_client, hinted_session) = match request.id_token_hint.as_deref() {
        Some(hint) => {
            match state
                .keys
                .verify_allowing_expired::<IdClaims>(hint, &state.issuer, dashboard)
            {
                Ok(claims) => (Some(claims.aud), claims.sid),
                Err(_) => return logout_refused(
                    "The id_token_hint is not an ID token this provider issued to the application.",
                ),
            }
        }
        None => (None, None),
    };
    if let (Some(client_id), Some(hinted)) = (&request.client_id, &hinted_client) {
        if client_id != hinted {
            return logout_refused("The client_id is not the one the id_token_hint was issued to.");
        }
    }
    if let Some(session) = &request.logout_hint {
        // Auth0: with both hints, logout_hint must be the hint's `sid`; a logout_hint alone names
        // the application by client_id.
        if hinted_session.as_ref().is_some_and(|sid| sid != session) {
            return logout_refused("The logout_hint is not the session of the id_token_hint.");
        }
        if request.id_token_hint.is_none() && request.client_id.as_deref() != Some(dashboard) {
            return logout_refused("A logout_hint needs the application's client_id.");
        }
    }
    // Returning needs the client (by `client_id` or the hint) and one of its registered URLs.
    let client = request.client_id.clone().or(hinted_client);
    if let Some(redirect_uri) = &request.post_logout_redirect_uri {
        if client.as_deref() != Some(dashboard) || !is_allowed_logout_url(state, redirect_uri) {
            return logout_refused(
                "The post_logout_redirect_uri is not one of this application's allowed logout URLs.",
            );
        }
    }
    // Auth0 asks the member to confirm when the request names no session (neither hint) or a
    // logout_hint that is not a current one; the confirmation posts back here.
    let session = request.logout_hint.clone().or(hinted_session);
    let is_current = session.as_ref().is_some_and(|session| {
        state
            .store
            .read(|data| data.provider_sessions.contains(session))
    });
    let named = request.id_token_hint.is_some() || is_current;
    if !named && request.confirm.as_deref() != Some("yes") {
        return logout_prompt(state, client.as_deref(), &request);
    }
    if let Some(session) = session {
        state
            .store
            .write(|data| data.provider_sessions.remove(&session));
    }
    let Some(redirect_uri) = request.post_logout_redirect_uri else {
        return signed_out_page();
    };
    match request.state {
        Some(value) => {
            let query = serde_urlencoded::to_string([("state", value)]).expect("encodes");
            Redirect::to(&format!("{redirect_uri}?{query}")).into_response()
        }
        None => Redirect::to(&redirect_uri).into_response(),
    }
}

/// "Sign out?", posting the request back confirmed (without its hints, which named no session).
fn logout_prompt(
    state: &SandboxState,
    client: Option<&str>,
    request: &EndSessionRequest,
) -> Response {
    let action = endpoint_url(
        state,
        state
            .config
            .oidc_profile
            .endpoints()
            .end_session
            .unwrap_or("/oidc/logout"),
    );
    let mut fields = vec![("confirm", "yes")];
    fields.extend(client.map(|client| ("client_id", client)));
    fields.extend(
        request
            .post_logout_redirect_uri
            .as_deref()
            .map(|uri| ("post_logout_redirect_uri", uri)),
    );
    fields.extend(request.state.as_deref().map(|state| ("state", state)));
    Html(pages::confirm_logout(&action, &fields).into_string()).into_response()
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
