//! `/authorize`: validates the request, lets the tester pick who signs in (or accept an invitation),
//! then redirects back with a single-use authorization code.

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
    Form,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use super::pages;
use crate::{
    model::{ActivityEntry, Membership, Person},
    seed::{ORG_ID, ORG_NAME},
    world::{AuthorizationCode, PendingLogin},
    SandboxState, SharedState, API_AUDIENCE,
};

/// How long the tester may take on the sign-in page.
const LOGIN_PAGE_TTL: Duration = Duration::minutes(10);

#[derive(Debug, Deserialize)]
pub struct AuthorizeQuery {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    audience: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    organization: Option<String>,
    invitation: Option<String>,
}

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    (status, Html(pages::error(title, message).into_string())).into_response()
}

/// The `iss` an authorization response carries under this profile (RFC 9207 §2), if any.
fn response_issuer(state: &SandboxState) -> Option<&str> {
    state
        .config
        .oidc_profile
        .sends_iss()
        .then_some(state.issuer.as_str())
}

/// A redirect back to the client with `params`, plus `iss` where the profile sends it: on every
/// authorization response, errors included (RFC 9207 §2).
fn redirect_back(state: &SandboxState, redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let mut query = params.to_vec();
    if let Some(issuer) = response_issuer(state) {
        query.push(("iss", issuer));
    }
    let query = serde_urlencoded::to_string(query).expect("query encodes");
    Redirect::to(&format!("{redirect_uri}?{query}")).into_response()
}

/// Errors after the client and redirect URI are known go back to the client, as OAuth requires.
fn redirect_error(
    sandbox: &SandboxState,
    redirect_uri: &str,
    state: Option<&str>,
    error: &str,
    description: &str,
) -> Response {
    let mut query = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        query.push(("state", state));
    }
    redirect_back(sandbox, redirect_uri, &query)
}

pub async fn start(
    State(state): State<SharedState>,
    Query(query): Query<AuthorizeQuery>,
) -> Response {
    // An unknown client or an unregistered redirect URI is shown here and never redirected to:
    // redirecting would turn the provider into an open redirector.
    if query.client_id.as_deref() != Some(state.config.dashboard_client_id.as_str()) {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Unknown application",
            "The client_id is not registered.",
        );
    }
    let expected_redirect = format!(
        "{}/auth/callback",
        state.config.dashboard_url.trim_end_matches('/')
    );
    let Some(redirect_uri) = query
        .redirect_uri
        .clone()
        .filter(|uri| *uri == expected_redirect)
    else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Callback URL mismatch",
            "The redirect_uri is not one of this application's allowed callback URLs.",
        );
    };
    let reply_state = query.state.as_deref();
    let fail = |error: &str, description: &str| {
        redirect_error(&state, &redirect_uri, reply_state, error, description)
    };

    if query.response_type.as_deref() != Some("code") {
        return fail("unsupported_response_type", "response_type must be code");
    }
    let Some(client_state) = query.state.clone().filter(|value| !value.is_empty()) else {
        return fail("invalid_request", "state is required");
    };
    let Some(code_challenge) = query
        .code_challenge
        .clone()
        .filter(|value| value.len() >= 43)
    else {
        return fail(
            "invalid_request",
            "a PKCE code_challenge (S256) is required",
        );
    };
    if query.code_challenge_method.as_deref() != Some("S256") {
        return fail(
            "invalid_request",
            "code_challenge_method must be S256; plain is not allowed",
        );
    }
    let scope = query.scope.clone().unwrap_or_default();
    if scope.split(' ').any(|part| part == "openid")
        && query.nonce.as_deref().is_none_or(str::is_empty)
    {
        return fail("invalid_request", "nonce is required with the openid scope");
    }
    if query.audience.as_deref() != Some(API_AUDIENCE) {
        return fail(
            "access_denied",
            "Service not found: the audience must be the KeyStone API",
        );
    }
    if query
        .organization
        .as_deref()
        .is_some_and(|organization| organization != ORG_ID)
    {
        return fail(
            "invalid_request",
            "parameter organization is invalid: no such organization",
        );
    }
    if query.invitation.is_some() && query.organization.is_none() {
        return fail("invalid_request", "an invitation requires its organization");
    }

    let now = OffsetDateTime::now_utc();
    let login_id = random_token();
    let pending = PendingLogin {
        client_id: state.config.dashboard_client_id.clone(),
        redirect_uri,
        state: client_state,
        nonce: query.nonce.clone(),
        code_challenge,
        scope,
        invitation: query.invitation.clone(),
        created_at: now,
    };

    // The page posts to this profile's decision path, next to its authorization endpoint.
    let action = state.config.oidc_profile.endpoints().decision;
    let page = match &query.invitation {
        Some(ticket) => match valid_invitation(&state, ticket, now) {
            Ok((email, roles)) => {
                pages::accept_invitation(action, &login_id, ORG_NAME, &email, &roles)
            }
            Err(message) => {
                return error_page(StatusCode::BAD_REQUEST, "Invitation not valid", message)
            }
        },
        None => pages::sign_in(action, &login_id, ORG_NAME, &choices(&state)),
    };
    let mut transient = state.transient.lock().expect("transient lock");
    transient
        .pending_logins
        .retain(|_, login| now - login.created_at < LOGIN_PAGE_TTL);
    transient.pending_logins.insert(login_id, pending);
    Html(page.into_string()).into_response()
}

/// The ticket's invitee email and role names, or why it cannot be used.
fn valid_invitation(
    state: &SharedState,
    ticket: &str,
    now: OffsetDateTime,
) -> Result<(String, Vec<String>), &'static str> {
    state.store.read(|data| {
        let invitation = data
            .invitations
            .iter()
            .find(|invitation| invitation.ticket == ticket)
            .ok_or(
                "This invitation link is not valid: it may have been revoked or already used.",
            )?;
        if invitation.expires_at <= now {
            return Err("This invitation has expired. Ask a platform manager to send a new one.");
        }
        Ok((
            invitation.invitee_email.clone(),
            data.invitation_view(invitation).roles,
        ))
    })
}

fn choices(state: &SharedState) -> Vec<pages::Choice> {
    state.store.read(|data| {
        let mut choices: Vec<pages::Choice> = data
            .people
            .iter()
            .filter(|person| !person.user_id.starts_with("auth0|generated-"))
            .map(|person| pages::Choice {
                user_id: person.user_id.clone(),
                name: person.name.clone(),
                email: person.email.clone(),
                roles: data
                    .membership(&person.user_id)
                    .map(|membership| {
                        data.roles_of(&membership.role_ids)
                            .into_iter()
                            .map(|role| role.name)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
        // Members first, in seed order; outsiders last.
        choices.sort_by_key(|choice| choice.roles.is_empty());
        choices
    })
}

#[derive(Debug, Deserialize)]
pub struct Decision {
    login: String,
    user_id: Option<String>,
    accept_invitation: Option<String>,
}

pub async fn decide(State(state): State<SharedState>, Form(decision): Form<Decision>) -> Response {
    let now = OffsetDateTime::now_utc();
    // Single use: a login page cannot be submitted twice.
    let pending = state
        .transient
        .lock()
        .expect("transient lock")
        .pending_logins
        .remove(&decision.login);
    let Some(pending) = pending.filter(|login| now - login.created_at < LOGIN_PAGE_TTL) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Sign-in expired",
            "Go back to the application and sign in again.",
        );
    };

    let user_id = match (&pending.invitation, decision.accept_invitation.as_deref()) {
        (Some(ticket), Some("true")) => match accept_invitation(&state, ticket, now) {
            Ok(user_id) => user_id,
            Err(message) => {
                return error_page(StatusCode::BAD_REQUEST, "Invitation not valid", message)
            }
        },
        (None, _) => {
            let Some(user_id) = decision
                .user_id
                .filter(|id| state.store.read(|data| data.person(id).is_some()))
            else {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "Unknown person",
                    "Pick one of the people listed.",
                );
            };
            let is_member = state.store.write(|data| {
                let membership = data
                    .memberships
                    .iter_mut()
                    .find(|membership| membership.user_id == user_id);
                membership
                    .map(|membership| membership.last_login_at = Some(now))
                    .is_some()
            });
            if !is_member {
                return redirect_error(
                    &state,
                    &pending.redirect_uri,
                    Some(&pending.state),
                    "access_denied",
                    &format!("the user is not a member of {ORG_NAME}"),
                );
            }
            user_id
        }
        (Some(_), _) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Invitation not accepted",
                "Nothing was changed.",
            )
        }
    };

    let code = random_token();
    state
        .transient
        .lock()
        .expect("transient lock")
        .codes
        .insert(
            code.clone(),
            AuthorizationCode {
                client_id: pending.client_id,
                redirect_uri: pending.redirect_uri.clone(),
                code_challenge: pending.code_challenge,
                nonce: pending.nonce,
                user_id,
                scope: pending.scope,
                expires_at: now + Duration::seconds(state.config.code_ttl_seconds),
            },
        );
    redirect_back(
        &state,
        &pending.redirect_uri,
        &[("code", code.as_str()), ("state", pending.state.as_str())],
    )
}

/// The invitee becomes a member with the invited roles; the invitation is used up.
fn accept_invitation(
    state: &SharedState,
    ticket: &str,
    now: OffsetDateTime,
) -> Result<String, &'static str> {
    state.store.write(|data| {
        let index = data
            .invitations
            .iter()
            .position(|invitation| invitation.ticket == ticket)
            .ok_or("This invitation link is not valid: it may have been revoked or already used.")?;
        if data.invitations[index].expires_at <= now {
            return Err("This invitation has expired. Ask a platform manager to send a new one.");
        }
        let invitation = data.invitations.remove(index);
        let email = invitation.invitee_email.to_lowercase();
        let user_id = match data.people.iter().find(|person| person.email.to_lowercase() == email) {
            Some(person) => person.user_id.clone(),
            None => {
                let user_id = format!("auth0|invited-{}", uuid::Uuid::new_v4().simple());
                let local = email.split('@').next().unwrap_or(&email);
                data.people.push(Person { user_id: user_id.clone(), email: email.clone(), name: local.to_owned(), picture: None });
                user_id
            }
        };
        if data.membership(&user_id).is_none() {
            data.memberships.push(Membership {
                user_id: user_id.clone(),
                role_ids: invitation.role_ids.clone(),
                joined_at: now,
                last_login_at: Some(now),
            });
        }
        data.activity.push(ActivityEntry {
            id: uuid::Uuid::new_v4(),
            kind: "invitation.accepted".to_owned(),
            // The type's first word, as every other entry's (`Caller::activity`).
            category: "invitation".to_owned(),
            severity: "info".to_owned(),
            description: format!("{email} accepted the invitation and joined the platform"),
            actor_type: "user".to_owned(),
            actor_id: Some(user_id.clone()),
            resource_type: Some("member".to_owned()),
            resource_id: Some(user_id.clone()),
            environment_id: None,
            method: Some("POST".to_owned()),
            path: Some(state.config.oidc_profile.endpoints().decision.to_owned()),
            status_code: Some(302),
            ip_address: None,
            user_agent: None,
            duration_ms: Some(0),
            detail: Some(serde_json::json!({ "invitation_id": invitation.id, "role_ids": invitation.role_ids })),
            created_at: now,
        });
        Ok(user_id)
    })
}
