//! One span per request, with a request id that is echoed to the browser and sent upstream, and
//! the request counted in the metrics.
//!
//! The span records the route template and never the query string: the callback's `code` and
//! `state` travel there. Headers are not recorded at all (cookies, and the upstream's bearer token).

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Instant,
};

use axum::{
    extract::{ConnectInfo, MatchedPath, Request, State},
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use rand::RngCore;
use tracing::Instrument;

use super::{
    forwarded::{ClientAddr, ProxyTrust},
    metrics::Metrics,
};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// When the request arrived: server functions of one page share a deadline counted from it.
#[derive(Clone, Copy, Debug)]
pub struct RequestStarted(pub Instant);

impl RequestStarted {
    /// When the request whose extensions these are arrived (now, outside [`observe`]).
    pub fn of(extensions: &axum::http::Extensions) -> Instant {
        extensions
            .get::<Self>()
            .map_or_else(Instant::now, |started| started.0)
    }
}

pub struct Telemetry {
    pub metrics: Arc<Metrics>,
    pub proxies: ProxyTrust,
}

/// The request id of this request: set by [`observe`] before anything else runs.
pub fn request_id(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
}

pub async fn observe(
    State(telemetry): State<Arc<Telemetry>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let client = telemetry.proxies.client_of(peer, request.headers());

    // A proxy's id joins our logs to its own; a browser's could be anything, so it is replaced.
    let request_id = request_id(request.headers())
        .filter(|id| telemetry.proxies.trusts(peer) && is_plain_id(id))
        .map(str::to_owned)
        .unwrap_or_else(new_request_id);
    let id_header =
        HeaderValue::from_str(&request_id).expect("checked or generated: visible ASCII");
    request.headers_mut().insert(REQUEST_ID, id_header.clone());
    request.extensions_mut().insert(ClientAddr(client));
    request.extensions_mut().insert(RequestStarted(started));

    let method = request.method().clone();
    let route = route_of(&request);
    let span = tracing::info_span!(
        "request",
        method = %method,
        route = %route,
        request_id = %request_id,
        client = %client,
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status();
    telemetry.metrics.http_request(
        method.as_str(),
        &route,
        status.as_u16(),
        elapsed.as_secs_f64(),
    );
    span.in_scope(|| {
        let latency_ms = elapsed.as_secs_f64() * 1000.0;
        if is_routine(&route) {
            tracing::debug!(status = status.as_u16(), latency_ms, "served");
        } else {
            tracing::info!(status = status.as_u16(), latency_ms, "served");
        }
    });
    response.headers_mut().insert(REQUEST_ID, id_header);
    response
}

/// The route template: axum's matched path, or a fixed label for files and unknown paths, so the
/// label set stays bounded whatever paths clients send.
fn route_of(request: &Request) -> String {
    if let Some(matched) = request.extensions().get::<MatchedPath>() {
        return matched.as_str().to_owned();
    }
    let path = request.uri().path();
    if path.starts_with("/pkg/") {
        "/pkg/{file}".to_owned()
    } else {
        "(unmatched)".to_owned()
    }
}

/// Static files and probes: logged at debug so they do not drown the log at info.
fn is_routine(route: &str) -> bool {
    route.starts_with("/pkg/") || matches!(route, "/healthz" | "/readyz" | "/metrics")
}

fn new_request_id() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Ids we pass on: short, and only characters no log or header parser treats specially.
fn is_plain_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_unique_and_plain() {
        let (a, b) = (new_request_id(), new_request_id());
        assert_ne!(a, b);
        assert!(is_plain_id(&a) && a.len() == 32);
        assert!(!is_plain_id("a b"));
        assert!(!is_plain_id("x\"y"));
        assert!(!is_plain_id(&"a".repeat(129)));
    }
}
