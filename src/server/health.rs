//! Probes and metrics: `/healthz` (liveness), `/readyz` (the dependencies answer) and `/metrics`.

use std::{
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

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

/// How long one readiness verdict is repeated before the dependencies are asked again. Probes are
/// unauthenticated and can come in floods: without this, each one would reach the identity
/// provider (which rate-limits by address, our token calls included) and the KeyStone API.
pub const READINESS_CACHED_FOR: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug)]
struct Verdict {
    session_store: bool,
    identity_provider: bool,
    keystone_api: bool,
}

/// The last readiness verdict, and one check at a time.
#[derive(Default)]
pub struct ReadinessCache {
    /// Shared with the task that runs a check, which records its verdict here.
    last: Arc<Mutex<Option<(Instant, Verdict)>>>,
    checking: Arc<tokio::sync::Mutex<()>>,
}

impl ReadinessCache {
    fn fresh(&self) -> Option<Verdict> {
        let last = self.last.lock().expect("readiness lock");
        last.filter(|(at, _)| at.elapsed() < READINESS_CACHED_FOR)
            .map(|(_, verdict)| verdict)
    }

    /// The last verdict while a check is running, unless it is so old that the running check
    /// must be hanging on a dependency: then the probe waits for that check (at most the checks'
    /// own 3 s time limit) instead of repeating a stale "ready".
    fn previous(&self) -> Option<Verdict> {
        self.last
            .lock()
            .expect("readiness lock")
            .filter(|(at, _)| at.elapsed() < 2 * READINESS_CACHED_FOR)
            .map(|(_, verdict)| verdict)
    }

    /// The cached verdict while fresh; otherwise one caller starts a check while the others
    /// repeat the previous verdict (a slow dependency never queues probes), or wait for it.
    async fn verdict(&self, bff: &Arc<Bff>) -> Verdict {
        if let Some(verdict) = self.fresh() {
            return verdict;
        }
        let checking = match self.checking.clone().try_lock_owned() {
            Ok(guard) => guard,
            Err(_) => match self.previous() {
                Some(verdict) => return verdict,
                None => self.checking.clone().lock_owned().await,
            },
        };
        // Another caller may have finished a check while this one waited for the lock.
        if let Some(verdict) = self.fresh() {
            return verdict;
        }
        // The check runs in a task of its own: a probe with a shorter timeout than the checks'
        // (Kubernetes' default is 1 s) gives up waiting, but the verdict is still recorded.
        let task_bff = bff.clone();
        let last = self.last.clone();
        let task = tokio::spawn(async move {
            let _checking = checking;
            let bff = task_bff;
            let (session_store, identity_provider, keystone_api) = tokio::join!(
                check("session_store", bff.store.ping()),
                check("identity_provider", bff.provider.check_discovery()),
                check("keystone_api", bff.upstream.check_reachable()),
            );
            let verdict = Verdict {
                session_store,
                identity_provider,
                keystone_api,
            };
            *last.lock().expect("readiness lock") = Some((Instant::now(), verdict));
            verdict
        });
        task.await.unwrap_or(Verdict {
            session_store: false,
            identity_provider: false,
            keystone_api: false,
        })
    }
}

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
/// all answer (as of at most [`READINESS_CACHED_FOR`] ago). The reply names which check failed but
/// not why (that goes to the log): probes are unauthenticated.
async fn readyz(State(bff): State<Arc<Bff>>) -> Response {
    let verdict = bff.readiness.verdict(&bff).await;
    let ready = verdict.session_store && verdict.identity_provider && verdict.keystone_api;
    let word = |ok: bool| if ok { "ok" } else { "failing" };
    let body = json!({
        "ready": ready,
        "checks": {
            "session_store": word(verdict.session_store),
            "identity_provider": word(verdict.identity_provider),
            "keystone_api": word(verdict.keystone_api),
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
