//! The upstream self-check: every read the dashboard makes, called in every environment, and
//! whether the KeyStone API answered as the dashboard expects. An operator runs it once against a
//! real deployment; the test suite runs it against the sandbox in each of its settings.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::ApiError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpstreamReport {
    /// The `Keystone-Version` the dashboard sends (its decoders' version).
    pub api_version: String,
    pub checks: Vec<UpstreamCheck>,
}

impl UpstreamReport {
    pub fn failures(&self) -> impl Iterator<Item = &UpstreamCheck> {
        self.checks
            .iter()
            .filter(|check| !check.outcome.is_expected())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpstreamCheck {
    /// The environment named in `X-Keystone-Environment`.
    pub environment: String,
    /// What the dashboard uses this read for, in words.
    pub purpose: String,
    /// `GET /v1/...?limit=100`, ids as sent.
    pub call: String,
    pub outcome: CheckOutcome,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CheckOutcome {
    /// Answered, decoded; a short summary (`3 of 3 items`). `version_note` is set when the reply
    /// was shaped for another version than the one asked.
    AsExpected {
        summary: String,
        version_note: Option<String>,
    },
    /// Answered with an error status and the API's `detail`.
    Refused { status: u16, detail: String },
    /// Answered 2xx, but a field is missing or of another type.
    UnexpectedShape { field: String, reason: String },
    /// No answer (connection refused, timeout, the request's time budget spent).
    Unreachable(String),
}

impl CheckOutcome {
    pub fn is_expected(&self) -> bool {
        matches!(self, Self::AsExpected { .. })
    }

    /// One line for a report.
    pub fn describe(&self) -> String {
        match self {
            Self::AsExpected {
                summary,
                version_note: None,
            } => format!("as expected: {summary}"),
            Self::AsExpected {
                summary,
                version_note: Some(note),
            } => format!("as expected: {summary} ({note})"),
            Self::Refused { status, detail } => format!("refused with {status}: {detail}"),
            Self::UnexpectedShape { field, reason } => {
                format!("answered in another shape: field `{field}`: {reason}")
            }
            Self::Unreachable(reason) => format!("no answer: {reason}"),
        }
    }
}

impl std::fmt::Display for UpstreamReport {
    /// The plain-text report (what the test suite prints, and what an operator can paste).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let failed = self.failures().count();
        writeln!(
            f,
            "KeyStone API check (Keystone-Version {}): {} reads, {} as expected, {} not",
            self.api_version,
            self.checks.len(),
            self.checks.len() - failed,
            failed
        )?;
        for check in &self.checks {
            let mark = if check.outcome.is_expected() {
                "ok "
            } else {
                "FAIL"
            };
            writeln!(
                f,
                "{mark} [{}] {} ({}): {}",
                check.environment,
                check.call,
                check.purpose,
                check.outcome.describe()
            )?;
        }
        Ok(())
    }
}

/// Runs the self-check as the signed-in member (reads only; nothing is changed).
#[server(endpoint = "upstream-check")]
pub async fn check_upstream() -> Result<UpstreamReport, ApiError> {
    ssr::respond(ssr::check_upstream().await)
}

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::server::member::respond;

    use super::*;
    use crate::server::{member::MemberRequest, upstream::check};

    pub async fn check_upstream() -> Result<UpstreamReport, ApiError> {
        check::run(&MemberRequest::current()?).await
    }
}
