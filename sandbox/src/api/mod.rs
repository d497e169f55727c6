//! The KeyStone API emulator (`/v1`): authentication, environment binding, permissions, rate limits
//! and the resources of the contract's section 3.

mod activity;
mod allowlist;
mod environments;
pub mod error;
mod extract;
mod invitations;
mod members;
mod platform;
mod shape;
mod validate;
pub mod webhooks;

use std::{
    net::{IpAddr, SocketAddr},
    time::Instant,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    control::RecordedRequest,
    idp::AccessClaims,
    model::{ActivityEntry, Environment, PlatformStatus},
    SandboxState, SharedState, API_AUDIENCE,
};
use error::{ApiError, ApiResult, FieldError};

/// The version every reply echoes unless the request or the environment pins another.
pub const DEFAULT_API_VERSION: &str = "0.1.0";
pub const ENVIRONMENT_HEADER: &str = "x-keystone-environment";
const VERSION_HEADER: &str = "keystone-version";

pub fn router(state: SharedState) -> Router<SharedState> {
    Router::new()
        .route(
            "/v1/platforms/me",
            get(platform::get).patch(platform::update),
        )
        .merge(environments::router())
        .merge(allowlist::router())
        .merge(members::router())
        .merge(invitations::router())
        .merge(activity::router())
        .merge(webhooks::router())
        .route_layer(middleware::from_fn_with_state(state, authenticate))
        .layer(middleware::map_response(method_not_allowed_body))
}

/// A path the API has, with a method it has not: axum's router answers 405 with an empty body
/// (past the caller's check, which stamps the headers every reply carries and records it).
/// FastAPI's 405 says so in the API's error body [doc: `{"detail": …}`].
async fn method_not_allowed_body(response: Response) -> Response {
    if response.status() != StatusCode::METHOD_NOT_ALLOWED {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(
        parts,
        axum::body::Body::from(r#"{"detail":"Method Not Allowed"}"#),
    )
}

/// Who is calling, from where, with which permissions, in which environment.
#[derive(Clone, Debug)]
pub struct Caller {
    pub actor: Actor,
    /// The environment of the request: the M2M client's own (by `azp`), or the one a user's
    /// `X-Keystone-Environment` names. Every call has one: users must send the header everywhere.
    pub environment: Environment,
    pub permissions: Vec<String>,
    pub ip: IpAddr,
    pub user_agent: Option<String>,
    pub method: String,
    pub path: String,
    pub started: Instant,
}

#[derive(Clone, Debug)]
pub enum Actor {
    User { user_id: String, name: String },
    Machine { client_id: String },
}

impl Caller {
    pub fn require(&self, permission: &str) -> ApiResult<()> {
        if self.permissions.iter().any(|granted| granted == permission) {
            Ok(())
        } else {
            Err(ApiError::missing_permission(permission))
        }
    }

    pub fn actor_id(&self) -> &str {
        match &self.actor {
            Actor::User { user_id, .. } => user_id,
            Actor::Machine { client_id } => client_id,
        }
    }

    pub fn actor_name(&self) -> &str {
        match &self.actor {
            Actor::User { name, .. } => name,
            Actor::Machine { client_id } => client_id,
        }
    }

    pub fn user_id(&self) -> Option<&str> {
        match &self.actor {
            Actor::User { user_id, .. } => Some(user_id),
            Actor::Machine { .. } => None,
        }
    }

    /// An activity entry for a change this caller made.
    pub fn activity(&self, change: Change) -> ActivityEntry {
        ActivityEntry {
            id: Uuid::new_v4(),
            kind: change.kind.to_owned(),
            category: change
                .kind
                .split('.')
                .next()
                .unwrap_or("platform")
                .to_owned(),
            severity: change.severity.unwrap_or("info").to_owned(),
            description: change.description,
            actor_type: match self.actor {
                Actor::User { .. } => "user",
                Actor::Machine { .. } => "m2m",
            }
            .to_owned(),
            actor_id: Some(self.actor_id().to_owned()),
            resource_type: Some(change.resource_type.to_owned()),
            resource_id: Some(change.resource_id),
            environment_id: change.environment_id,
            method: Some(self.method.clone()),
            path: Some(self.path.clone()),
            status_code: Some(change.status_code),
            ip_address: Some(self.ip.to_string()),
            user_agent: self.user_agent.clone(),
            duration_ms: Some(self.started.elapsed().as_millis() as u64),
            detail: Some(change.detail),
            created_at: OffsetDateTime::now_utc(),
        }
    }
}

/// What changed, for the activity log.
pub struct Change {
    pub kind: &'static str,
    pub description: String,
    pub resource_type: &'static str,
    pub resource_id: String,
    pub environment_id: Option<Uuid>,
    pub status_code: u16,
    pub severity: Option<&'static str>,
    pub detail: serde_json::Value,
}

fn recorded(request: &Request) -> RecordedRequest {
    let headers = request.headers();
    RecordedRequest {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
        query: request.uri().query().map(str::to_owned),
        environment_header: header_text(headers, ENVIRONMENT_HEADER),
        request_id: header_text(headers, "x-request-id"),
        has_cookie: headers.contains_key(header::COOKIE),
        header_names: headers.keys().map(|name| name.to_string()).collect(),
    }
}

/// Every request no route matched, recorded like the others so tests see what reached the API
/// (a dot-segment id resolved into another path, say), and answered as FastAPI does: a path with
/// a trailing slash is redirected (307) to the one without, anything else is its router's 404.
pub async fn unmatched(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    state.stats.record(recorded(&request));
    let path = request.uri().path();
    let reply = if path.len() > 1 && path.ends_with('/') {
        let location = path.trim_end_matches('/').to_owned();
        (
            StatusCode::TEMPORARY_REDIRECT,
            [(
                header::LOCATION,
                if location.is_empty() {
                    "/".to_owned()
                } else {
                    location
                },
            )],
        )
            .into_response()
    } else {
        ApiError::NotFound("Not Found".to_owned()).into_response()
    };
    if path == "/v1" || path.starts_with("/v1/") {
        api_reply(&state, &request, peer, reply)
    } else {
        reply
    }
}

/// A reply of the API that no handler gave (FastAPI's router's 404) still carries the headers
/// that "every reply" carries [doc], counted against the caller's environment when the request
/// names one: the rate limiter stands in front of the router, so past the limit it is a 429.
fn api_reply(
    state: &SandboxState,
    request: &Request,
    peer: SocketAddr,
    reply: Response,
) -> Response {
    let environment = resolve_caller(state, request, peer)
        .ok()
        .map(|caller| caller.environment);
    let rate = rate_limit(state, environment.as_ref());
    let reply = if rate.exceeded {
        ApiError::RateLimited {
            retry_after_seconds: retry_after_seconds(&rate),
        }
        .into_response()
    } else {
        reply
    };
    stamped(
        reply,
        header_text(request.headers(), VERSION_HEADER),
        environment.as_ref(),
        &rate,
    )
}

/// The reply with the version it is shaped for and the caller's rate-limit window [doc: every
/// reply carries both].
fn stamped(
    mut response: Response,
    requested_version: Option<String>,
    environment: Option<&Environment>,
    rate: &RateDecision,
) -> Response {
    let version = requested_version
        .or_else(|| environment.and_then(|environment| environment.api_version.clone()))
        .unwrap_or_else(|| DEFAULT_API_VERSION.to_owned());
    let reply_headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&version) {
        reply_headers.insert(VERSION_HEADER, value);
    }
    reply_headers.insert("x-ratelimit-limit", HeaderValue::from(rate.limit));
    reply_headers.insert("x-ratelimit-remaining", HeaderValue::from(rate.remaining));
    reply_headers.insert("x-ratelimit-reset", HeaderValue::from(rate.reset));
    response
}

async fn authenticate(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    state.stats.record(recorded(&request));
    let headers = request.headers();
    let requested_version = header_text(headers, VERSION_HEADER);
    // A route the API lacks is FastAPI's router's 404, answered before any authentication runs.
    let removed = state
        .faults
        .lock()
        .expect("faults lock")
        .removes_route(request.method().as_str(), request.uri().path());
    if removed {
        let not_found = ApiError::NotFound("Not Found".to_owned()).into_response();
        return api_reply(&state, &request, peer, not_found);
    }

    let caller = resolve_caller(&state, &request, peer);
    let environment = caller
        .as_ref()
        .ok()
        .map(|caller| caller.environment.clone());
    let rate = rate_limit(&state, environment.as_ref());
    let response = match (caller, &rate) {
        (Err(error), _) => error.into_response(),
        (Ok(_), RateDecision { exceeded: true, .. }) => ApiError::RateLimited {
            retry_after_seconds: retry_after_seconds(&rate),
        }
        .into_response(),
        (Ok(caller), _) => {
            let machine = matches!(caller.actor, Actor::Machine { .. }).then(|| caller.clone());
            request.extensions_mut().insert(caller);
            let response = next.run(request).await;
            if let Some(machine) = machine {
                record_machine_call(&state, &machine, response.status());
            }
            response
        }
    };

    stamped(response, requested_version, environment.as_ref(), &rate)
}

/// The most request entries the log keeps; past it the oldest are dropped a batch at a time.
const MAX_REQUEST_ENTRIES: usize = 20_000;

/// Logs an M2M client's call as the activity log's request fields suggest the real service does
/// (method, path, status, address, agent, duration) [design: the sandbox logs M2M calls, not a
/// member's page reads]. The allowlist's lockout preview reads who called from where in them.
fn record_machine_call(state: &SandboxState, caller: &Caller, status: StatusCode) {
    let mut entry = caller.activity(Change {
        kind: "api.request",
        description: format!(
            "{} called {} {}",
            caller.actor_name(),
            caller.method,
            caller.path
        ),
        resource_type: "environment",
        resource_id: caller.environment.id.to_string(),
        environment_id: Some(caller.environment.id),
        status_code: status.as_u16(),
        severity: (status.is_client_error() || status.is_server_error()).then_some("warning"),
        detail: serde_json::json!({}),
    });
    // A request is not a change of a resource: it names none (as system entries do).
    (entry.resource_type, entry.resource_id, entry.detail) = (None, None, None);
    state.store.note(|activity| {
        activity.push(entry);
        if activity.len() <= MAX_REQUEST_ENTRIES {
            return;
        }
        let requests = activity
            .iter()
            .filter(|entry| entry.kind == "api.request")
            .count();
        if requests > MAX_REQUEST_ENTRIES {
            let mut dropping = requests - MAX_REQUEST_ENTRIES * 3 / 4;
            activity.retain(|entry| {
                if dropping > 0 && entry.kind == "api.request" {
                    dropping -= 1;
                    false
                } else {
                    true
                }
            });
        }
    });
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

fn resolve_caller(state: &SandboxState, request: &Request, peer: SocketAddr) -> ApiResult<Caller> {
    let headers = request.headers();
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::Unauthorized("Not authenticated".to_owned()))?;
    let claims: AccessClaims = state
        .keys
        .verify(token, &state.issuer, API_AUDIENCE)
        .map_err(|reason| {
            if reason.contains("ExpiredSignature") {
                ApiError::Unauthorized("Token has expired".to_owned())
            } else {
                ApiError::Unauthorized("Invalid token".to_owned())
            }
        })?;
    let ip = client_ip(state, headers, peer.ip());
    let base = |actor, environment, permissions| Caller {
        actor,
        environment,
        permissions,
        ip,
        user_agent: header_text(headers, header::USER_AGENT.as_str()),
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
        started: Instant::now(),
    };

    state.store.read(|data| {
        if data.platform.status == PlatformStatus::Suspended {
            return Err(ApiError::Forbidden("Platform is suspended".to_owned()));
        }
        // Access tokens carry `org_id` [doc]: a member's token that names none is no platform's.
        // (An M2M token is bound to its platform through its client.)
        if !claims.is_m2m() && claims.org_id.is_none() {
            return Err(ApiError::Forbidden(
                "The token names no organization".to_owned(),
            ));
        }
        if claims.org_id.is_some() && claims.org_id != data.platform.auth0_org_id {
            return Err(ApiError::Forbidden(
                "The token's organization is not this platform".to_owned(),
            ));
        }
        if claims.is_m2m() {
            let environment = data.environment_by_client(&claims.azp).ok_or_else(|| {
                ApiError::Forbidden("No environment is bound to this client".to_owned())
            })?;
            if !environment.is_active {
                return Err(ApiError::Forbidden("Environment is deactivated".to_owned()));
            }
            let allowlist: Vec<_> = data
                .allowlist
                .iter()
                .filter(|entry| entry.environment_id == environment.id)
                .collect();
            // An empty list allows everyone; one entry restricts M2M traffic to the listed networks.
            if !allowlist.is_empty() && !allowlist.iter().any(|entry| entry.cidr.contains(&ip)) {
                return Err(ApiError::Forbidden("IP address not allowed".to_owned()));
            }
            let scopes = claims
                .scope
                .as_deref()
                .unwrap_or_default()
                .split(' ')
                .map(str::to_owned)
                .collect();
            return Ok(base(
                Actor::Machine {
                    client_id: claims.azp.clone(),
                },
                environment.public(),
                scopes,
            ));
        }

        let person = data.person(&claims.sub);
        if data.membership(&claims.sub).is_none() {
            return Err(ApiError::Forbidden(
                "Not a member of this platform".to_owned(),
            ));
        }
        let name = person
            .map(|person| person.name.clone())
            .unwrap_or_else(|| claims.sub.clone());
        // Required on every call, the environment list included (a client that knows no slug yet
        // asks with `development`, which every platform starts with). A deactivated environment is
        // still accepted: that is how a user reactivates it.
        let slug = headers
            .get(ENVIRONMENT_HEADER)
            .ok_or_else(|| {
                ApiError::Validation(vec![FieldError::missing_header(ENVIRONMENT_HEADER)])
            })?
            .to_str()
            .unwrap_or_default();
        let environment = data
            .environment_by_slug(slug)
            .ok_or_else(|| {
                ApiError::Forbidden("The environment is not one of this platform's".to_owned())
            })?
            .public();
        let actor = Actor::User {
            user_id: claims.sub.clone(),
            name,
        };
        let permissions = claims.permissions.clone().unwrap_or_default();
        // Under `--sandbox-foreign-permissions` the token speaks another vocabulary; the API
        // knows it and enforces the same rules.
        let permissions = if state.config.foreign_permissions {
            permissions
                .iter()
                .map(|name| crate::permissions::native_name(name))
                .collect()
        } else {
            permissions
        };
        Ok(base(actor, environment, permissions))
    })
}

/// The peer address, or the client `X-Forwarded-For` names when the peer is a trusted proxy
/// (the rightmost address that is not itself a trusted proxy).
fn client_ip(state: &SandboxState, headers: &HeaderMap, peer: IpAddr) -> IpAddr {
    let trusted = &state.config.trusted_proxies;
    if !trusted.contains(&peer) {
        return peer;
    }
    header_text(headers, "x-forwarded-for")
        .and_then(|chain| {
            chain
                .rsplit(',')
                .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
                .find(|hop| !trusted.contains(hop))
        })
        .unwrap_or(peer)
}

struct RateDecision {
    limit: u32,
    remaining: u32,
    /// Unix time at which the window resets.
    reset: i64,
    exceeded: bool,
}

/// Seconds until the caller's window resets (at least one).
fn retry_after_seconds(rate: &RateDecision) -> u64 {
    (rate.reset - OffsetDateTime::now_utc().unix_timestamp()).max(1) as u64
}

/// A fixed one-minute window per environment (per platform for calls without one).
fn rate_limit(state: &SandboxState, environment: Option<&Environment>) -> RateDecision {
    let limit = environment
        .and_then(|environment| environment.rate_limit_rpm)
        .unwrap_or(state.config.default_rate_limit_rpm);
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let window = now.div_euclid(60);
    let mut transient = state.transient.lock().expect("transient lock");
    let counter = transient
        .rate_windows
        .entry(environment.map(|environment| environment.id))
        .or_insert((window, 0));
    if counter.0 != window {
        *counter = (window, 0);
    }
    counter.1 = counter.1.saturating_add(1);
    RateDecision {
        limit,
        remaining: limit.saturating_sub(counter.1),
        reset: (window + 1) * 60,
        exceeded: counter.1 > limit,
    }
}
