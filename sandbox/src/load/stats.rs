//! Latency samples and their summary.

use std::{collections::BTreeMap, time::Duration};

use serde::Serialize;

/// Samples of one kind of request.
#[derive(Default, Clone)]
pub struct Samples {
    micros: Vec<u64>,
    statuses: BTreeMap<u16, u64>,
    transport_errors: u64,
}

impl Samples {
    pub fn record(&mut self, elapsed: Duration, status: Option<u16>) {
        self.micros.push(elapsed.as_micros() as u64);
        match status {
            Some(status) => *self.statuses.entry(status).or_default() += 1,
            None => self.transport_errors += 1,
        }
    }

    pub fn merge(&mut self, other: &Samples) {
        self.micros.extend_from_slice(&other.micros);
        for (status, count) in &other.statuses {
            *self.statuses.entry(*status).or_default() += count;
        }
        self.transport_errors += other.transport_errors;
    }

    pub fn summary(&self, elapsed: Duration) -> Summary {
        let mut sorted = self.micros.clone();
        sorted.sort_unstable();
        let server_errors = self
            .statuses
            .iter()
            .filter(|(status, _)| **status >= 500)
            .map(|(_, count)| count)
            .sum();
        Summary {
            requests: sorted.len() as u64,
            per_second: sorted.len() as f64 / elapsed.as_secs_f64().max(f64::EPSILON),
            p50_ms: percentile(&sorted, 0.50),
            p99_ms: percentile(&sorted, 0.99),
            max_ms: sorted.last().map_or(0.0, |max| *max as f64 / 1000.0),
            server_errors,
            transport_errors: self.transport_errors,
            statuses: self
                .statuses
                .iter()
                .map(|(status, count)| (status.to_string(), *count))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub requests: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Replies with a 5xx status.
    pub server_errors: u64,
    /// Requests that got no reply at all (refused, reset, timed out).
    pub transport_errors: u64,
    pub statuses: BTreeMap<String, u64>,
}

/// Nearest-rank percentile of sorted microsecond samples, in milliseconds.
fn percentile(sorted: &[u64], quantile: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((quantile * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut samples = Samples::default();
        for ms in 1..=100 {
            samples.record(
                Duration::from_millis(ms),
                Some(if ms == 100 { 503 } else { 200 }),
            );
        }
        samples.record(Duration::from_millis(1), None);
        let summary = samples.summary(Duration::from_secs(1));
        assert_eq!(summary.requests, 101);
        // 101 samples (1 ms twice, then 2..=100 ms): rank 51 is 50 ms, rank 100 is 99 ms.
        assert_eq!(summary.p50_ms, 50.0);
        assert_eq!(summary.p99_ms, 99.0);
        assert_eq!(summary.server_errors, 1);
        assert_eq!(summary.transport_errors, 1);
        assert_eq!(summary.statuses["200"], 99);
    }
}
