//! The accept loop. Hand-rolled on hyper (instead of `axum::serve`) for two things tests need:
//! the peer address on every request, and closing a connection without an answer (a "lost reply").

use std::net::SocketAddr;

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{header, HeaderValue, Request, Response, StatusCode},
    response::IntoResponse,
    Router,
};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rand::Rng;
use tokio::{net::TcpListener, sync::watch};
use tower::ServiceExt;

use crate::{faults::FaultAction, SharedState};

/// Returned instead of a response: hyper then closes the connection without answering.
#[derive(Debug)]
struct DroppedConnection;

impl std::fmt::Display for DroppedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by sandbox fault injection")
    }
}

impl std::error::Error for DroppedConnection {}

pub async fn serve(
    listener: TcpListener,
    router: Router,
    state: SharedState,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "sandbox accept failed");
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let router = router.clone();
        let state = state.clone();
        let mut connection_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                handle(router.clone(), state.clone(), peer, request.map(Body::new))
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            // Nagle off, as the dashboard's server has it: a reply in several small writes would
            // otherwise wait on the dashboard's delayed acknowledgement (40 ms) in every measure.
            let _ = stream.set_nodelay(true);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                // Dropping the connection closes the socket: a stopped sandbox answers nothing.
                _ = connection_shutdown.changed() => {}
            }
        });
    }
}

async fn handle(
    router: Router,
    state: SharedState,
    peer: SocketAddr,
    mut request: Request<Body>,
) -> Result<Response<Body>, DroppedConnection> {
    request.extensions_mut().insert(ConnectInfo(peer));
    let path = request.uri().path().to_owned();
    if path.starts_with("/_sandbox") || path == "/healthz" {
        return Ok(run(router, request).await);
    }

    let (latency_ms, fail, action) = {
        let mut faults = state.faults.lock().expect("faults lock");
        let fail =
            faults.failure_rate > 0.0 && rand::thread_rng().gen::<f64>() < faults.failure_rate;
        (
            faults.latency_ms,
            fail,
            // With its query: a rule can single out one read of a list among others.
            faults.take_action(
                request.method().as_str(),
                request
                    .uri()
                    .path_and_query()
                    .map_or(&path, |target| target.as_str()),
            ),
        )
    };
    if latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency_ms)).await;
    }
    if fail {
        return Ok(fault_reply(StatusCode::SERVICE_UNAVAILABLE, None));
    }
    match action {
        None => Ok(run(router, request).await),
        Some(FaultAction::Delay { ms }) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            Ok(run(router, request).await)
        }
        Some(FaultAction::DelayAfterApply { ms }) => {
            let response = run(router, request).await;
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            Ok(response)
        }
        Some(FaultAction::Status {
            status,
            retry_after_seconds,
        }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Ok(fault_reply(status, retry_after_seconds))
        }
        Some(FaultAction::DropBeforeApply) => Err(DroppedConnection),
        Some(FaultAction::DropAfterApply) => {
            let _applied = run(router, request).await;
            Err(DroppedConnection)
        }
        Some(FaultAction::MalformedBody) => {
            let (mut parts, _) = run(router, request).await.into_parts();
            parts.headers.remove(header::CONTENT_LENGTH);
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Ok(Response::from_parts(
                parts,
                Body::from("{\"items\": [truncated"),
            ))
        }
        Some(FaultAction::EmptyBody) => {
            let (mut parts, _) = run(router, request).await.into_parts();
            parts.headers.remove(header::CONTENT_TYPE);
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(0));
            Ok(Response::from_parts(parts, Body::empty()))
        }
        Some(FaultAction::EditBody { pointer, value }) => {
            let (mut parts, body) = run(router, request).await.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
                return Err(DroppedConnection);
            };
            let Ok(mut reply) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
                return Ok(Response::from_parts(parts, Body::from(bytes)));
            };
            if let Some(field) = reply.pointer_mut(&pointer) {
                *field = value;
            }
            parts.headers.remove(header::CONTENT_LENGTH);
            Ok(Response::from_parts(parts, Body::from(reply.to_string())))
        }
    }
}

/// Runs the handler to completion in a task of its own, as a real server commits a change (Auth0
/// a refresh token rotation) whether or not the caller is still there to read the reply: a caller
/// that hangs up must not be able to cancel half of a grant.
async fn run(router: Router, request: Request<Body>) -> Response<Body> {
    let handled = tokio::spawn(async move {
        router
            .oneshot(request)
            .await
            .unwrap_or_else(|never| match never {})
    });
    handled
        .await
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn fault_reply(status: StatusCode, retry_after_seconds: Option<u64>) -> Response<Body> {
    let detail = format!(
        "{} (sandbox fault injection)",
        status.canonical_reason().unwrap_or("error")
    );
    let mut response =
        (status, axum::Json(serde_json::json!({ "detail": detail }))).into_response();
    let retry_after =
        retry_after_seconds.or((status == StatusCode::TOO_MANY_REQUESTS).then_some(1));
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}
