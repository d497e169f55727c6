//! Client authentication at the token and revocation endpoints.

use axum::http::{header, HeaderMap};
use base64::{engine::general_purpose::STANDARD, Engine};

use super::TokenAuthMethod;
use crate::SandboxState;

/// Who is calling the token endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Client {
    /// The dashboard: a confidential web application (authorization code and refresh token grants).
    Dashboard,
    /// An environment's machine-to-machine client (client credentials grant).
    Machine {
        client_id: String,
        scopes: Vec<String>,
    },
}

/// `client_secret_basic` (Authorization: Basic, form-urlencoded id and secret as RFC 6749 2.3.1 says) or
/// `client_secret_post` (in the body); never both.
pub fn authenticate(
    state: &SandboxState,
    headers: &HeaderMap,
    body_id: Option<&str>,
    body_secret: Option<&str>,
) -> Result<Client, &'static str> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
        .map(decode_basic)
        .transpose()?;
    let (client_id, secret, method) = match (basic, body_secret) {
        (Some(_), Some(_)) => return Err("use one client authentication method, not two"),
        (Some((id, secret)), None) => {
            if body_id.is_some_and(|body_id| body_id != id) {
                return Err("client_id does not match the authenticated client");
            }
            (id, secret, TokenAuthMethod::ClientSecretBasic)
        }
        (None, Some(secret)) => (
            body_id.ok_or("client_id is required")?.to_owned(),
            secret.to_owned(),
            TokenAuthMethod::ClientSecretPost,
        ),
        (None, None) => return Err("client authentication is required"),
    };
    if client_id == state.config.dashboard_client_id {
        // Like an Auth0 application, the dashboard is registered with one method and held to it,
        // so a client that sends the other (whatever its setting says) is caught here.
        if method != state.config.dashboard_token_auth_method {
            return Err(match state.config.dashboard_token_auth_method {
                TokenAuthMethod::ClientSecretPost => {
                    "this application authenticates with client_secret_post, not client_secret_basic"
                }
                TokenAuthMethod::ClientSecretBasic => {
                    "this application authenticates with client_secret_basic, not client_secret_post"
                }
            });
        }
        return if secret == state.config.dashboard_client_secret {
            Ok(Client::Dashboard)
        } else {
            Err("wrong client secret")
        };
    }
    let machine = state.store.read(|data| {
        data.m2m_clients
            .iter()
            .find(|client| client.client_id == client_id)
            .cloned()
    });
    match machine {
        Some(machine) if machine.client_secret == secret => Ok(Client::Machine {
            client_id: machine.client_id,
            scopes: machine.scopes,
        }),
        Some(_) => Err("wrong client secret"),
        None => Err("unknown client"),
    }
}

fn decode_basic(encoded: &str) -> Result<(String, String), &'static str> {
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| "malformed Basic credentials")?;
    let decoded = String::from_utf8(decoded).map_err(|_| "malformed Basic credentials")?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or("malformed Basic credentials")?;
    let unescape = |part: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={part}"))
            .ok()
            .and_then(|mut pairs| pairs.pop())
            .map(|(_, value)| value)
            .ok_or("malformed Basic credentials")
    };
    Ok((unescape(id)?, unescape(secret)?))
}
