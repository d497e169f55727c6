//! Prometheus metrics of one dashboard process (`GET /metrics`).
//!
//! A registry per [`Metrics`] value rather than a process-wide recorder: tests run several
//! dashboards in one process and each must count only its own traffic.

use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

/// Seconds, from 2.5 ms to about 10 s: page renders sit at the low end, upstream time-outs at the top.
fn latency_buckets() -> Histogram {
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.0025, 2.0, 13,
    ))
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    /// The matched route template (`/members`, `/api/{*fn}`), never the raw path: ids and
    /// search terms would make the label set unbounded.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UpstreamLabels {
    pub method: String,
    pub route: String,
    pub outcome: UpstreamOutcome,
}

#[derive(
    Clone, Copy, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelValue,
)]
#[allow(non_camel_case_types)] // label values are snake case by Prometheus convention
pub enum UpstreamOutcome {
    ok,
    client_error,
    rate_limited,
    server_error,
    timeout,
    unreachable,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefreshLabels {
    pub outcome: RefreshOutcome,
}

#[derive(
    Clone, Copy, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelValue,
)]
#[allow(non_camel_case_types)]
pub enum RefreshOutcome {
    refreshed,
    /// The provider refused the refresh token: the session ended.
    refused,
    /// The provider was unreachable or failed.
    failed,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: HistogramFamily<RouteLabels>,
    upstream_requests: Family<UpstreamLabels, Counter>,
    upstream_duration: HistogramFamily<RouteLabels>,
    token_refreshes: Family<RefreshLabels, Counter>,
    active_sessions: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("keystone_dashboard");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Requests served, by route template, method and status",
            http_requests.clone(),
        );
        let http_duration: HistogramFamily<RouteLabels> =
            Family::new_with_constructor(latency_buckets);
        registry.register(
            "http_request_duration_seconds",
            "Time to the response head, by route template",
            http_duration.clone(),
        );
        let upstream_requests = Family::<UpstreamLabels, Counter>::default();
        registry.register(
            "upstream_requests",
            "Calls to the KeyStone API, by route template and outcome",
            upstream_requests.clone(),
        );
        let upstream_duration: HistogramFamily<RouteLabels> =
            Family::new_with_constructor(latency_buckets);
        registry.register(
            "upstream_request_duration_seconds",
            "Duration of calls to the KeyStone API, by route template",
            upstream_duration.clone(),
        );
        let token_refreshes = Family::<RefreshLabels, Counter>::default();
        registry.register(
            "token_refreshes",
            "Access-token refreshes at the identity provider, by outcome",
            token_refreshes.clone(),
        );
        let active_sessions = Gauge::default();
        registry.register(
            "active_sessions",
            "Signed-in sessions holding tokens in the store (all replicas when the store is shared)",
            active_sessions.clone(),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            upstream_requests,
            upstream_duration,
            token_refreshes,
            active_sessions,
        }
    }
}

/// A method as a label: the standard ones as they are, anything else `other`. Clients choose the
/// method, and every distinct label value is a new series kept for the process's life: made-up
/// methods must not grow `/metrics` and memory without bound (unauthenticated).
fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("other")
}

impl Metrics {
    pub fn http_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.http_requests
            .get_or_create(&HttpLabels {
                method: method_label(method).to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.http_duration
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    pub fn upstream_request(
        &self,
        method: &str,
        route: String,
        outcome: UpstreamOutcome,
        seconds: f64,
    ) {
        self.upstream_duration
            .get_or_create(&RouteLabels {
                route: route.clone(),
            })
            .observe(seconds);
        self.upstream_requests
            .get_or_create(&UpstreamLabels {
                method: method.to_owned(),
                route,
                outcome,
            })
            .inc();
    }

    pub fn token_refresh(&self, outcome: RefreshOutcome) {
        self.token_refreshes
            .get_or_create(&RefreshLabels { outcome })
            .inc();
    }

    /// The exposition text, with the session count read from the store just before.
    pub fn render(&self, active_sessions: Option<u64>) -> String {
        if let Some(count) = active_sessions {
            self.active_sessions
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_the_session_gauge() {
        let metrics = Metrics::default();
        metrics.http_request("GET", "/members", 200, 0.01);
        metrics.upstream_request(
            "GET",
            "/v1/platforms/me/members".into(),
            UpstreamOutcome::ok,
            0.004,
        );
        metrics.token_refresh(RefreshOutcome::refused);
        let text = metrics.render(Some(3));
        for expected in [
            r#"keystone_dashboard_http_requests_total{method="GET",route="/members",status="200"} 1"#,
            r#"keystone_dashboard_http_request_duration_seconds_count{route="/members"} 1"#,
            r#"keystone_dashboard_upstream_requests_total{method="GET",route="/v1/platforms/me/members",outcome="ok"} 1"#,
            r#"keystone_dashboard_token_refreshes_total{outcome="refused"} 1"#,
            "keystone_dashboard_active_sessions 3",
        ] {
            assert!(text.contains(expected), "{expected} missing from:\n{text}");
        }
    }

    #[test]
    fn made_up_methods_share_one_label() {
        let metrics = Metrics::default();
        for index in 0..50 {
            metrics.http_request(&format!("BREW{index}"), "/", 405, 0.001);
        }
        metrics.http_request("PATCH", "/", 405, 0.001);
        let text = metrics.render(None);
        assert!(
            text.contains(r#"keystone_dashboard_http_requests_total{method="other",route="/",status="405"} 50"#),
            "{text}"
        );
        assert!(text.contains(r#"method="PATCH""#));
        assert!(!text.contains("BREW"), "{text}");
    }
}
