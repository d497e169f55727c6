//! `GET /auth/login`, `POST /auth/login` (an invitation, once accepted on our page),
//! `GET /auth/callback`, `POST /auth/logout`: plain axum routes reached by navigation (and form
//! posts), so they work before the WASM has loaded.

use std::sync::{Arc, Mutex};

use axum::{
    extract::{Query, Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Extension, Router,
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{provider::ResponseIssuerError, IssuedTokens, ProviderError};
use crate::server::pages::sign_in_problem;
use crate::{
    domain::ReturnTo,
    server::{
        session::{self, PendingLogin, SignedIn},
        AppState, Bff,
    },
};

use super::SignInLimiter;

const CALLBACK_PATH: &str = "/auth/callback";

/// A sign-in made by the callback and not yet kept: the member, and their refresh token, so that
/// it can be revoked without the store.
struct Unkept {
    member: SignedIn,
    refresh_token: Option<String>,
}

/// The sign-in a callback has made, held until the session layer has stored its record.
#[derive(Clone, Default)]
pub struct SignInCommit(Arc<Mutex<Option<Unkept>>>);

impl SignInCommit {
    fn record(&self, member: &SignedIn, refresh_token: Option<String>) {
        *self.0.lock().expect("never held across a panic") = Some(Unkept {
            member: member.clone(),
            refresh_token,
        });
    }
}

/// A sign-in that cannot be kept: its tokens leave the store, and its refresh token is revoked
/// from the copy the callback holds, not the store's: the store that could not keep the record
/// may not be able to hand the set back either, and the token must not stay live.
async fn abandon_sign_in(bff: &Bff, unkept: &Unkept) {
    if let Err(error) = Box::pin(bff.vault.remove(&unkept.member.tokens)).await {
        tracing::error!(%error, "could not remove the tokens of a sign-in that was not kept");
    }
    revoke_unkept(bff, unkept.refresh_token.as_deref()).await;
}

/// Nobody holds the refresh token of a sign-in that was not kept: it must not stay live.
async fn revoke_unkept(bff: &Bff, refresh_token: Option<&str>) {
    if let Some(refresh_token) = refresh_token {
        if let Err(error) = bff.provider.revoke(refresh_token).await {
            tracing::warn!(%error, "could not revoke the refresh token of a sign-in that was not kept");
        }
    }
}

/// Outside the session layer, around the callback. tower-sessions stores the new record after the
/// handler has answered, and a failure there is its bare 500, which the handler never sees: the
/// token set the handler stored would be left with no record to reach it, and its refresh token
/// live at the provider. Here they are removed and revoked, and the member gets the page. (Saving
/// the record in the handler instead would not do: the layer saves it again on the way out, and
/// that save can fail the same way.)
pub async fn commit_sign_in(
    State(bff): State<Arc<Bff>>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.uri().path() != CALLBACK_PATH {
        return next.run(request).await;
    }
    let commit = SignInCommit::default();
    request.extensions_mut().insert(commit.clone());
    let response = next.run(request).await;
    if !response.status().is_server_error() {
        return response;
    }
    let unkept = commit.0.lock().expect("never held across a panic").take();
    let Some(unkept) = unkept else {
        return response;
    };
    tracing::error!(user_id = %unkept.member.user_id, "the signed-in session's record was not stored");
    abandon_sign_in(&bff, &unkept).await;
    sessions_unstored()
}

/// The sign-in routes. Login and callback are rate limited per client address; logout is not
/// (it only ends the caller's own session, and must always work).
pub fn router(limiter: Arc<SignInLimiter>) -> Router<AppState> {
    Router::new()
        .route("/auth/login", get(login).post(login_confirmed))
        .route(CALLBACK_PATH, get(callback))
        .route_layer(axum::middleware::from_fn_with_state(
            limiter,
            super::rate_limit::limit_sign_in,
        ))
        .route("/auth/logout", post(logout))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginQuery {
    return_to: Option<String>,
    organization: Option<String>,
    invitation: Option<String>,
}

/// Auth0 ids and invitation tickets are short and URL-safe; anything else is not forwarded.
fn looks_like_identifier(value: &str) -> bool {
    (1..=256).contains(&value.len())
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.'))
}

async fn login(
    State(bff): State<Arc<Bff>>,
    session: Session,
    Query(query): Query<LoginQuery>,
) -> Result<Response, Response> {
    start_sign_in(&bff, &session, query, false).await
}

/// The interstitial's "Accept the invitation": a same-origin POST (the CSRF check refuses another
/// site's), so it goes on where the link stopped to ask.
async fn login_confirmed(
    State(bff): State<Arc<Bff>>,
    session: Session,
    axum::Form(query): axum::Form<LoginQuery>,
) -> Result<Response, Response> {
    start_sign_in(&bff, &session, query, true).await
}

async fn start_sign_in(
    bff: &Arc<Bff>,
    session: &Session,
    query: LoginQuery,
    confirmed: bool,
) -> Result<Response, Response> {
    let return_to = ReturnTo::or_home(query.return_to.as_deref());
    let invitation = query
        .invitation
        .filter(|ticket| looks_like_identifier(ticket));
    let named = query
        .organization
        .filter(|id| id.starts_with("org_") && looks_like_identifier(id));
    // A deployment pinned to one platform lets no one in through another organization of the
    // same tenant: the ID token's `org_id` is checked against the organization asked for, so
    // following the link's would admit that organization's members.
    // (Set by the operator, `KEYSTONE_AUTH_ORGANIZATION`; its sessions of other organizations
    // end at their next request, see `session::current_member`.)
    let pinned = bff.policy.organization.as_ref();
    if named
        .as_ref()
        .is_some_and(|named| pinned.is_some_and(|pinned| named != pinned))
    {
        tracing::warn!(organization = ?named, "login link for another organization refused");
        return Err(sign_in_problem(
            StatusCode::BAD_REQUEST,
            "This link is for another platform",
            "This dashboard serves one platform's team, and the link names another organization. \
             Ask whoever sent it for their platform's dashboard.",
            "/auth/login",
        ));
    }
    let signed_in = matches!(
        bff.current_member(session).await,
        Ok(session::SessionState::SignedIn { .. })
    );
    match &invitation {
        // Already signed in and not accepting an invitation: nothing to do at the provider.
        None if signed_in => return Ok(Redirect::to(return_to.as_str()).into_response()),
        // Accepting one signs in, possibly into the organization that sent it, and ends any
        // current session. A link (from a mail, another site, anywhere) must not do that unasked: a
        // manager of another platform of the tenant, who sees the invitations they send, could
        // have a member's browser accept one and move that member's next changes there, signed
        // in or not (the provider's own session may sign them in without a word). The member says
        // so on a page of ours, whose button is a same-origin POST.
        Some(ticket) if !confirmed => {
            let mut fields = vec![("invitation", ticket.as_str())];
            fields.extend(named.as_deref().map(|named| ("organization", named)));
            fields.push(("returnTo", return_to.as_str()));
            let paragraphs: &[&str] = if signed_in {
                &[
                    "You are signed in to the KeyStone Dashboard. Accepting this invitation signs \
                     you out and in again, possibly into another platform: what you do next \
                     would be done there.",
                    "If you did not expect an invitation, close this page: you stay signed in as \
                     you are.",
                ]
            } else {
                &[
                    "This link invites you to a platform's team on the KeyStone Dashboard. \
                     Accepting it signs you in as a member of that platform: what you do next \
                     would be done there.",
                    "If you did not expect an invitation, close this page: nothing has been \
                     accepted.",
                ]
            };
            return Ok(crate::server::pages::confirm_page(
                "Accept the invitation?",
                paragraphs,
                ("/auth/login", &fields),
                "Accept the invitation",
                &bff.provider.form_action_origins().await,
            ));
        }
        _ => {}
    }
    let organization = named.or_else(|| bff.default_organization.clone());
    let start = bff
        .provider
        .start_login(organization.as_deref(), invitation.as_deref())
        .await
        .map_err(|error| {
            // Discovery failed (the provider is down, or names another issuer): nothing to
            // redirect to. Retried lazily on the next attempt.
            tracing::warn!(%error, "cannot start a sign-in");
            provider_unavailable(&return_to.sign_in_href())
        })?;
    let pending = PendingLogin {
        nonce: start.nonce,
        pkce_verifier: start.pkce_verifier,
        organization,
        return_to,
        started_at: session::now(),
    };
    session::remember_login(session, &start.state, pending)
        .await
        .map_err(|error| store_unavailable(&error))?;
    Ok(Redirect::to(&start.authorize_url).into_response())
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    /// RFC 9207: the issuer of this authorization response.
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    State(bff): State<Arc<Bff>>,
    session: Session,
    commit: Option<Extension<SignInCommit>>,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let commit = commit.map(|Extension(commit)| commit).unwrap_or_default();
    match finish_login(&bff, &session, &commit, query).await {
        Ok(return_to) => Redirect::to(return_to.as_str()).into_response(),
        Err(problem) => problem,
    }
}

async fn finish_login(
    bff: &Bff,
    session: &Session,
    commit: &SignInCommit,
    query: CallbackQuery,
) -> Result<ReturnTo, Response> {
    let retry = "/auth/login";
    let unknown_attempt = || {
        sign_in_problem(
            StatusCode::BAD_REQUEST,
            "This sign-in link has expired",
            "It was already used, it belongs to another browser, or it is too old. Start again.",
            retry,
        )
    };
    let Some(state) = query.state.as_deref() else {
        return Err(unknown_attempt());
    };
    // Consumed (and stored so) before anything else, so a replayed callback finds nothing, even if
    // this one fails.
    let pending = session::take_login(session, &bff.store, state)
        .await
        .map_err(|error| store_unavailable(&error))?
        .ok_or_else(|| {
            tracing::warn!("callback with an unknown, spent or foreign state");
            unknown_attempt()
        })?;
    let retry = pending.return_to.sign_in_href();

    // Before anything else in the response, errors included (RFC 9207 §2.4): a response from
    // another provider (a mix-up attack) must not reach our token endpoint with its code.
    if let Err(error) = bff
        .provider
        .check_response_issuer(query.iss.as_deref())
        .await
    {
        tracing::warn!(%error, "authorization response refused");
        return Err(match error {
            ResponseIssuerError::Provider(_) => provider_unavailable(&retry),
            ResponseIssuerError::Mismatch(_) | ResponseIssuerError::Missing => sign_in_problem(
                StatusCode::BAD_REQUEST,
                "Sign-in failed",
                "The answer did not come from this dashboard's identity provider, so it was \
                 refused and you were not signed in. Start again.",
                &retry,
            ),
        });
    }

    if let Some(error) = query.error.as_deref() {
        tracing::info!(error, "the provider returned an error to the callback");
        let message = query
            .error_description
            .as_deref()
            .filter(|text| !text.is_empty())
            .unwrap_or(error);
        let title = match error {
            "access_denied" => "Access denied",
            _ => "Sign-in failed",
        };
        return Err(sign_in_problem(
            StatusCode::FORBIDDEN,
            title,
            message,
            &retry,
        ));
    }
    let Some(code) = query.code.as_deref() else {
        return Err(sign_in_problem(
            StatusCode::BAD_REQUEST,
            "Sign-in failed",
            "The identity provider sent no authorization code.",
            &retry,
        ));
    };

    let tokens = bff
        .provider
        .exchange_code(code, &pending.pkce_verifier)
        .await
        .map_err(|error| {
            tracing::warn!(%error, "code exchange failed");
            match error {
                ProviderError::Refused(_) => sign_in_problem(
                    StatusCode::BAD_REQUEST,
                    "Sign-in failed",
                    "The identity provider did not accept this sign-in. Start again.",
                    &retry,
                ),
                ProviderError::Unavailable(_) => provider_unavailable(&retry),
            }
        })?;
    let mut issued = IssuedTokens::from(&tokens);
    let refresh_token = issued.refresh_token.clone();
    // A pinned deployment admits its own organization whatever the login asked for: a login
    // started before the pin was set may still come back within its ten minutes.
    let organization = bff
        .policy
        .organization
        .as_deref()
        .or(pending.organization.as_deref());
    let claims = match bff
        .provider
        .validate_id_token(&tokens, &pending.nonce, organization)
        .await
    {
        Ok(claims) => claims,
        Err(error) => {
            tracing::warn!(%error, "ID token rejected");
            // The tokens came straight from the token endpoint, and nothing will use them: their
            // refresh token is revoked rather than left live at the provider.
            revoke_unkept(bff, refresh_token.as_deref()).await;
            return Err(sign_in_problem(
                StatusCode::BAD_REQUEST,
                "Sign-in failed",
                "The identity provider's answer did not pass our checks, so you were not signed in.",
                &retry,
            ));
        }
    };

    issued.provider_session = claims.sid.clone().filter(|sid| !sid.is_empty());

    // A sign-in over a live session replaces it: its refresh token is revoked, not orphaned.
    if let Ok(Some(previous)) = session::stored_member(session).await {
        Box::pin(bff.end_session_tokens(&previous)).await;
    }
    let now = session::now();
    let token_set = match bff
        .vault
        .create(issued, bff.policy.ends_unless_seen(now, now))
        .await
    {
        Ok(token_set) => token_set,
        Err(error) => {
            tracing::error!(%error, "could not store the session's tokens");
            revoke_unkept(bff, refresh_token.as_deref()).await;
            return Err(sign_in_problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is unavailable",
                "Your session could not be saved. Try again in a moment.",
                &retry,
            ));
        }
    };
    let member = SignedIn {
        user_id: claims.sub,
        name: claims.name,
        email: claims.email,
        picture: claims.picture,
        organization_id: claims
            .org_id
            .expect("validated: an organization is present"),
        tokens: token_set,
        signed_in_at: now,
        last_seen_at: now,
    };
    if let Err(error) = session::sign_in(session, &member).await {
        // Nobody can reach these tokens without the record: remove and revoke them.
        let unkept = Unkept {
            member,
            refresh_token,
        };
        abandon_sign_in(bff, &unkept).await;
        return Err(store_unavailable(&error));
    }
    commit.record(&member, refresh_token);
    tracing::info!(user_id = %member.user_id, organization = %member.organization_id, "signed in");
    Ok(pending.return_to)
}

/// Ends the session here and at the provider. Reached only through the CSRF check, so another
/// site cannot sign a member out.
async fn logout(State(bff): State<Arc<Bff>>, session: Session) -> Response {
    let mut provider_session = None;
    if let Ok(Some(member)) = session::stored_member(&session).await {
        provider_session = bff.end_session_tokens(&member).await;
        tracing::info!(user_id = %member.user_id, "signed out");
    }
    if let Err(error) = session.flush().await {
        tracing::error!(%error, "could not delete the session record");
    }
    let target = bff
        .provider
        .logout_url(&format!("{}/", bff.public_url), provider_session.as_deref())
        .await;
    Redirect::to(&target).into_response()
}

fn provider_unavailable(retry: &str) -> Response {
    sign_in_problem(
        StatusCode::BAD_GATEWAY,
        "Sign-in is unavailable",
        "The identity provider could not be reached. Try again in a moment.",
        retry,
    )
}

fn store_unavailable(error: &tower_sessions::session::Error) -> Response {
    tracing::error!(%error, "session store unavailable");
    sessions_unstored()
}

fn sessions_unstored() -> Response {
    sign_in_problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "Sign-in is unavailable",
        "Sessions cannot be stored right now. Try again in a moment.",
        "/auth/login",
    )
}
