//! `/oauth/token` (authorization code with PKCE, rotating refresh tokens, client credentials) and `/oauth/revoke`.

use std::sync::atomic::Ordering;

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::{
    authorize::random_token,
    clients::{self, Client},
    parse_body, AccessClaims, IdClaims,
};
use crate::{seed::ORG_ID, world::RefreshToken, SandboxState, SharedState, API_AUDIENCE};

#[derive(Debug, Default, Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    audience: Option<String>,
}

/// An OAuth error reply (`{"error", "error_description"}`).
pub(crate) struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }
    fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "invalid_grant", description)
    }
    fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body =
            serde_json::json!({ "error": self.error, "error_description": self.description });
        (self.status, [("cache-control", "no-store")], Json(body)).into_response()
    }
}

pub async fn token(State(state): State<SharedState>, headers: HeaderMap, body: Bytes) -> Response {
    match grant(&state, &headers, &body) {
        Ok(reply) => (StatusCode::OK, [("cache-control", "no-store")], Json(reply)).into_response(),
        Err(error) => error.into_response(),
    }
}

fn grant(
    state: &SandboxState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<serde_json::Value, OAuthError> {
    let request: TokenRequest = parse_body(headers, body).map_err(OAuthError::invalid_request)?;
    let client = clients::authenticate(
        state,
        headers,
        request.client_id.as_deref(),
        request.client_secret.as_deref(),
    )
    .map_err(|reason| OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", reason))?;
    match (request.grant_type.as_deref(), &client) {
        (Some("authorization_code"), Client::Dashboard) => {
            state
                .stats
                .authorization_code_grants
                .fetch_add(1, Ordering::Relaxed);
            authorization_code(state, &request)
        }
        (Some("refresh_token"), Client::Dashboard) => {
            state
                .stats
                .refresh_token_grants
                .fetch_add(1, Ordering::Relaxed);
            refresh(state, &request)
        }
        (Some("client_credentials"), Client::Machine { client_id, scopes }) => {
            state
                .stats
                .client_credentials_grants
                .fetch_add(1, Ordering::Relaxed);
            if request.audience.as_deref() != Some(API_AUDIENCE) {
                return Err(OAuthError::new(
                    StatusCode::FORBIDDEN,
                    "access_denied",
                    "Service not found: unknown audience",
                ));
            }
            let (access_token, expires_in) = issue_m2m_token(state, client_id, scopes);
            Ok(serde_json::json!({
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": expires_in,
                "scope": scopes.join(" "),
            }))
        }
        (Some("authorization_code" | "refresh_token" | "client_credentials"), _) => {
            Err(OAuthError::new(
                StatusCode::FORBIDDEN,
                "unauthorized_client",
                "this grant type is not allowed for this client",
            ))
        }
        _ => Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "unsupported grant_type",
        )),
    }
}

fn authorization_code(
    state: &SandboxState,
    request: &TokenRequest,
) -> Result<serde_json::Value, OAuthError> {
    let code = request
        .code
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    // Removed on first use, whatever happens next: a code never works twice.
    let grant = state
        .transient
        .lock()
        .expect("transient lock")
        .codes
        .remove(code);
    let grant = grant.ok_or_else(|| OAuthError::invalid_grant("Invalid authorization code"))?;
    if grant.expires_at <= OffsetDateTime::now_utc() {
        return Err(OAuthError::invalid_grant("Authorization code expired"));
    }
    if request.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    let verifier = request.code_verifier.as_deref().unwrap_or_default();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if verifier.is_empty() || challenge != grant.code_challenge {
        return Err(OAuthError::invalid_grant("Failed to verify code verifier"));
    }
    // One sign-in is one provider session here; its refresh tokens are one family, named alike.
    let family = random_token();
    state
        .store
        .write(|data| data.provider_sessions.insert(family.clone()));
    user_tokens(
        state,
        &grant.user_id,
        &grant.scope,
        grant.nonce.as_deref(),
        Some(family),
    )
}

fn refresh(state: &SandboxState, request: &TokenRequest) -> Result<serde_json::Value, OAuthError> {
    let presented = request
        .refresh_token
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let now = OffsetDateTime::now_utc();
    let reuse_interval = Duration::seconds(state.config.refresh_reuse_interval_seconds);
    let record = state
        .store
        .write(|data| -> Result<RefreshToken, OAuthError> {
            let record =
                data.refresh_tokens.get(presented).cloned().ok_or_else(|| {
                    OAuthError::invalid_grant("Unknown or invalid refresh token.")
                })?;
            if record.family_revoked {
                return Err(OAuthError::invalid_grant(
                    "Unknown or invalid refresh token.",
                ));
            }
            if let Some(used_at) = record.used_at {
                if now - used_at > reuse_interval {
                    // Reuse of a rotated token outside the interval means it leaked: revoke the whole family.
                    for token in data
                        .refresh_tokens
                        .values_mut()
                        .filter(|token| token.family == record.family)
                    {
                        token.family_revoked = true;
                    }
                    return Err(OAuthError::invalid_grant(
                        "Unknown or invalid refresh token.",
                    ));
                }
            } else if let Some(token) = data.refresh_tokens.get_mut(presented) {
                token.used_at = Some(now);
            }
            if data.membership(&record.user_id).is_none() {
                return Err(OAuthError::invalid_grant(
                    "The user is no longer a member of the organization.",
                ));
            }
            Ok(record)
        })?;
    user_tokens(
        state,
        &record.user_id,
        &record.scope,
        None,
        Some(record.family),
    )
}

/// Access token (permissions computed now, so a role change shows at the next token), ID token, and a
/// refresh token in `family` when `offline_access` was granted.
pub(crate) fn user_tokens(
    state: &SandboxState,
    user_id: &str,
    scope: &str,
    nonce: Option<&str>,
    family: Option<String>,
) -> Result<serde_json::Value, OAuthError> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let (person, permissions) = state
        .store
        .read(|data| (data.person(user_id).cloned(), data.permissions_of(user_id)));
    let person = person.ok_or_else(|| OAuthError::invalid_grant("unknown user"))?;
    let permissions = permissions.ok_or_else(|| {
        OAuthError::invalid_grant("The user is not a member of the organization.")
    })?;
    let ttl = state.config.access_token_ttl_seconds;
    let access = AccessClaims {
        iss: state.issuer.clone(),
        sub: user_id.to_owned(),
        // Auth0 adds its userinfo endpoint as a second audience when `openid` was asked for.
        aud: vec![
            API_AUDIENCE.to_owned(),
            super::endpoint_url(state, state.config.oidc_profile.endpoints().userinfo),
        ],
        azp: state.config.dashboard_client_id.clone(),
        iat: now,
        exp: now + ttl,
        jti: random_token(),
        org_id: Some(ORG_ID.to_owned()),
        scope: Some(scope.to_owned()),
        permissions: Some(if state.config.foreign_permissions {
            permissions
                .iter()
                .map(|name| crate::permissions::foreign_name(name))
                .collect()
        } else {
            permissions
        }),
        gty: None,
    };
    let id = IdClaims {
        iss: state.issuer.clone(),
        sub: user_id.to_owned(),
        aud: state.config.dashboard_client_id.clone(),
        iat: now,
        exp: now + state.config.id_token_ttl_seconds,
        nonce: nonce.map(str::to_owned),
        email: person.email.clone(),
        email_verified: true,
        name: person.name.clone(),
        picture: person.picture.clone(),
        org_id: Some(ORG_ID.to_owned()),
        sid: family.clone(),
    };
    let mut id = serde_json::to_value(&id).expect("claims serialize");
    let (overrides, form) = {
        let faults = state.faults.lock().expect("faults lock");
        (faults.id_token_claims.clone(), faults.id_token_form)
    };
    if let Some(claims) = id.as_object_mut() {
        for (name, value) in overrides {
            if value.is_null() {
                claims.remove(&name);
            } else {
                claims.insert(name, value);
            }
        }
    }
    let mut reply = serde_json::json!({
        "access_token": state.keys.sign(&access),
        "id_token": state.keys.sign_as(&id, form),
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": scope,
    });
    if let Some(family) = family.filter(|_| scope.split(' ').any(|part| part == "offline_access")) {
        let refresh_token = random_token();
        state.store.write(|data| {
            data.refresh_tokens.insert(
                refresh_token.clone(),
                RefreshToken {
                    family,
                    user_id: user_id.to_owned(),
                    client_id: state.config.dashboard_client_id.clone(),
                    scope: scope.to_owned(),
                    org_id: ORG_ID.to_owned(),
                    used_at: None,
                    family_revoked: false,
                },
            )
        });
        reply["refresh_token"] = serde_json::Value::String(refresh_token);
    }
    Ok(reply)
}

/// An M2M access token for `client_id` with its scopes; returns the token and its lifetime in seconds.
pub fn issue_m2m_token(state: &SandboxState, client_id: &str, scopes: &[String]) -> (String, i64) {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let ttl = state.config.access_token_ttl_seconds;
    let claims = AccessClaims {
        iss: state.issuer.clone(),
        sub: format!("{client_id}@clients"),
        aud: vec![API_AUDIENCE.to_owned()],
        azp: client_id.to_owned(),
        iat: now,
        exp: now + ttl,
        jti: random_token(),
        org_id: Some(ORG_ID.to_owned()),
        scope: Some(scopes.join(" ")),
        permissions: None,
        gty: Some("client-credentials".to_owned()),
    };
    (state.keys.sign(&claims), ttl)
}

#[derive(Debug, Deserialize)]
struct RevokeRequest {
    token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// Revokes a refresh token and its whole family (RFC 7009: unknown tokens are not an error).
pub async fn revoke(State(state): State<SharedState>, headers: HeaderMap, body: Bytes) -> Response {
    let request: RevokeRequest = match parse_body(&headers, &body) {
        Ok(request) => request,
        Err(error) => return OAuthError::invalid_request(error).into_response(),
    };
    match clients::authenticate(
        &state,
        &headers,
        request.client_id.as_deref(),
        request.client_secret.as_deref(),
    ) {
        Ok(Client::Dashboard) => {}
        Ok(_) => {
            return OAuthError::new(
                StatusCode::FORBIDDEN,
                "unauthorized_client",
                "not this client's token",
            )
            .into_response()
        }
        Err(reason) => {
            return OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", reason)
                .into_response()
        }
    }
    let Some(token) = request.token else {
        return OAuthError::invalid_request("token is required").into_response();
    };
    state.store.write(|data| {
        if let Some(family) = data
            .refresh_tokens
            .get(&token)
            .map(|record| record.family.clone())
        {
            for record in data
                .refresh_tokens
                .values_mut()
                .filter(|record| record.family == family)
            {
                record.family_revoked = true;
            }
        }
    });
    StatusCode::OK.into_response()
}
