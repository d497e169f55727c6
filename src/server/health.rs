//! Probes and metrics: `/healthz` (liveness), `/readyz` (the dependencies answer) and `/metrics`.

use std::{future::Future, sync::Arc, time::Duration};

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Extension, Json, Router,
};
use serde_json::json;

use super::{forwarded::ClientAddr, AppState, Bff};

/// A dependency that does not answer within this is "failing": a probe must answer quickly.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// Liveness: the process is up and serving. Dependencies are `/readyz`'s business: a restart
/// would not bring Redis back.
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the session store, the identity provider's discovery document and the KeyStone API
/// all answer. The reply names which check failed but not why (that goes to the log): probes are
/// unauthenticated.
async fn readyz(State(bff): State<Arc<Bff>>) -> Response {
    let (store, provider, api) = tokio::join!(
        check("session_store", bff.store.ping()),
        check("identity_provider", bff.provider.check_discovery()),
        check("keystone_api", bff.upstream.check_reachable()),
    );
    let ready = store && provider && api;
    let verdict = |ok: bool| if ok { "ok" } else { "failing" };
    let body = json!({
        "ready": ready,
        "checks": {
            "session_store": verdict(store),
            "identity_provider": verdict(provider),
            "keystone_api": verdict(api),
        }
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

async fn check<E: std::fmt::Display>(
    name: &'static str,
    probe: impl Future<Output = Result<(), E>>,
) -> bool {
    match tokio::time::timeout(CHECK_TIMEOUT, probe).await {
        Ok(Ok(())) => true,
        Ok(Err(error)) => {
            tracing::warn!(check = name, %error, "readiness check failed");
            false
        }
        Err(_) => {
            tracing::warn!(check = name, "readiness check timed out");
            false
        }
    }
}

/// Prometheus exposition. Only for the configured scrapers (`--metrics-allowed-from`, loopback by
/// default): route names and traffic volumes are nobody else's business. Others get a 404, as if
/// there were no such page.
async fn metrics(
    State(bff): State<Arc<Bff>>,
    Extension(client): Extension<ClientAddr>,
) -> Response {
    if !bff
        .metrics_readers
        .iter()
        .any(|cidr| cidr.contains(client.0))
    {
        return StatusCode::NOT_FOUND.into_response();
    }
    let sessions = match bff.store.count_token_sets().await {
        Ok(count) => Some(count),
        Err(error) => {
            tracing::warn!(%error, "could not count sessions for the metrics");
            None
        }
    };
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        bff.metrics.render(sessions),
    )
        .into_response()
}
