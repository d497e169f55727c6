//! Sandbox-only control endpoints under `/_sandbox`: fault injection and counters that tests read.
//! The real services have nothing like them; the dashboard never calls them.

use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
};

use axum::{extract::State, http::StatusCode, routing::get, Json, Router};
use serde::Serialize;

use crate::{faults::Faults, SharedState};

const RECENT_REQUESTS_KEPT: usize = 500;

#[derive(Default)]
pub struct Stats {
    pub authorization_code_grants: AtomicU64,
    pub refresh_token_grants: AtomicU64,
    pub client_credentials_grants: AtomicU64,
    pub api_requests: AtomicU64,
    recent: Mutex<VecDeque<RecordedRequest>>,
}

/// What the API saw of one request: enough for tests to check what the dashboard sends upstream.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The query string as sent (percent-encoded), if any.
    pub query: Option<String>,
    pub environment_header: Option<String>,
    pub request_id: Option<String>,
    pub has_cookie: bool,
    pub header_names: Vec<String>,
}

impl Stats {
    pub fn record(&self, request: RecordedRequest) {
        self.api_requests.fetch_add(1, Ordering::Relaxed);
        let mut recent = self.recent.lock().expect("stats lock");
        if recent.len() == RECENT_REQUESTS_KEPT {
            recent.pop_front();
        }
        recent.push_back(request);
    }

    fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "grants": {
                "authorization_code": self.authorization_code_grants.load(Ordering::Relaxed),
                "refresh_token": self.refresh_token_grants.load(Ordering::Relaxed),
                "client_credentials": self.client_credentials_grants.load(Ordering::Relaxed),
            },
            "api_requests": self.api_requests.load(Ordering::Relaxed),
            "recent_requests": self.recent.lock().expect("stats lock").iter().cloned().collect::<Vec<_>>(),
        })
    }

    fn reset(&self) {
        for counter in [
            &self.authorization_code_grants,
            &self.refresh_token_grants,
            &self.client_credentials_grants,
            &self.api_requests,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        self.recent.lock().expect("stats lock").clear();
    }
}

pub fn router() -> Router<SharedState> {
    Router::new()
        .route(
            "/_sandbox/faults",
            get(get_faults).put(put_faults).delete(clear_faults),
        )
        .route("/_sandbox/stats", get(get_stats).delete(reset_stats))
        .route("/_sandbox/user-token", axum::routing::post(user_token))
        .route("/_sandbox/events", axum::routing::post(emit_event))
        .route("/_sandbox/onboarding", axum::routing::put(set_onboarding))
}

#[derive(serde::Deserialize)]
struct OnboardingRequest {
    completed: bool,
}

/// Marks the platform's onboarding complete (now) or not yet, as KeyStone's own onboarding flow
/// would; browser tests use it to see the overview a new platform sees. Sandbox-only.
async fn set_onboarding(
    State(state): State<SharedState>,
    Json(request): Json<OnboardingRequest>,
) -> StatusCode {
    state.store.write(|data| {
        data.platform.onboarding_completed_at =
            request.completed.then(time::OffsetDateTime::now_utc);
    });
    StatusCode::NO_CONTENT
}

#[derive(serde::Deserialize)]
struct EventRequest {
    event: String,
    #[serde(default)]
    data: serde_json::Value,
}

/// Emits a platform event (`settlement.completed`, say) to every subscribed webhook endpoint, as
/// a settlement changing state would; answers with the deliveries made. Sandbox-only.
async fn emit_event(
    State(state): State<SharedState>,
    Json(request): Json<EventRequest>,
) -> Json<Vec<crate::model::WebhookDelivery>> {
    Json(crate::api::webhooks::emit(&state, &request.event, request.data).await)
}

#[derive(serde::Deserialize)]
struct UserTokenRequest {
    user_id: String,
}

/// A member's access token without the browser sign-in, for load tools and benchmarks that call
/// the API directly (the real Auth0 has no such door; this is a sandbox-only control endpoint).
async fn user_token(
    State(state): State<SharedState>,
    Json(request): Json<UserTokenRequest>,
) -> Result<Json<serde_json::Value>, (StatusCode, String)> {
    crate::idp::token::user_tokens(&state, &request.user_id, "openid profile email", None, None)
        .map(Json)
        .map_err(|_| (StatusCode::NOT_FOUND, "no such member".to_owned()))
}

async fn get_faults(State(state): State<SharedState>) -> Json<Faults> {
    Json(state.faults.lock().expect("faults lock").clone())
}

async fn put_faults(State(state): State<SharedState>, Json(faults): Json<Faults>) -> Json<Faults> {
    *state.faults.lock().expect("faults lock") = faults.clone();
    Json(faults)
}

async fn clear_faults(State(state): State<SharedState>) -> StatusCode {
    *state.faults.lock().expect("faults lock") = Faults::default();
    StatusCode::NO_CONTENT
}

async fn get_stats(State(state): State<SharedState>) -> Json<serde_json::Value> {
    Json(state.stats.snapshot())
}

async fn reset_stats(State(state): State<SharedState>) -> StatusCode {
    state.stats.reset();
    StatusCode::NO_CONTENT
}
