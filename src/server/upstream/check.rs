//! The upstream self-check behind `crate::api::check_upstream`: each read the dashboard makes,
//! decoded strictly into the dashboard's own types, in every environment the platform lists.
//!
//! Strict on purpose: the pages decode leniently (an odd record is shown as stored), which would
//! hide exactly the differences an operator runs this check to find.

use serde::de::DeserializeOwned;

use super::{decode_body, paths, refusal_detail, Probe, ShapeMismatch};
use crate::{
    api::{
        permissions, ActivityEntry, AllowlistEntry, ApiError, CheckOutcome, EnvironmentDetail,
        EnvironmentRecord, Invitation, Listed, Member, Page, PlatformRecord, Role, UpstreamCheck,
        UpstreamReport, LIST_LIMIT,
    },
    domain::EnvironmentSlug,
    server::member::MemberRequest,
};

/// One read of the dashboard: what it is for, where, and the type its reply must decode into.
struct Read {
    purpose: &'static str,
    /// The path, or (when the environment's id cannot go into one) how it is shown in the report.
    path: Result<String, String>,
    query: Vec<(&'static str, String)>,
    /// Decodes a reply into the dashboard's type and summarizes it.
    decode: fn(&[u8]) -> Result<String, ShapeMismatch>,
}

fn summary_of_page<T: DeserializeOwned>(body: &[u8]) -> Result<String, ShapeMismatch> {
    let page: Page<T> = decode_body(body)?;
    Ok(format!("{} of {} items", page.items.len(), page.total))
}

fn summary_of_platform(body: &[u8]) -> Result<String, ShapeMismatch> {
    let platform: PlatformRecord = decode_body(body)?;
    Ok(format!("platform {}", platform.slug))
}

/// Every read the pages make in one environment (`environment_id` is its id).
fn reads(environment_id: &str) -> Vec<Read> {
    let list = || vec![("limit", LIST_LIMIT.to_string())];
    vec![
        Read {
            purpose: "platform name and logo (every page)",
            path: Ok(paths::PLATFORM.to_owned()),
            query: Vec::new(),
            decode: summary_of_platform,
        },
        Read {
            purpose: "environment switcher, Environments page, overview cards",
            path: Ok(paths::ENVIRONMENTS.to_owned()),
            query: list(),
            decode: summary_of_page::<EnvironmentDetail>,
        },
        Read {
            purpose: "Members page, guardrails, role counts",
            path: Ok(paths::MEMBERS.to_owned()),
            query: list(),
            decode: summary_of_page::<Member>,
        },
        Read {
            purpose: "Roles page, role choices",
            path: Ok(paths::ROLES.to_owned()),
            query: list(),
            decode: summary_of_page::<Role>,
        },
        Read {
            purpose: "pending invitations",
            path: Ok(paths::INVITATIONS.to_owned()),
            query: list(),
            decode: summary_of_page::<Invitation>,
        },
        Read {
            purpose: "Security page (IP allowlist)",
            // An environment id that is no path segment fails this read alone, as the API would.
            // An environment id that is no id fails this read alone, and nothing is sent.
            path: crate::domain::ResourceId::parse(environment_id)
                .map(|id| paths::ip_allowlist(&id))
                .map_err(|_| format!("{}/{{id}}/ip-allowlist", paths::ENVIRONMENTS)),
            query: list(),
            decode: summary_of_page::<AllowlistEntry>,
        },
        Read {
            purpose: "Activity page and recent activity",
            path: Ok(paths::ACTIVITY.to_owned()),
            query: vec![
                ("limit", "25".to_owned()),
                ("environment_id", environment_id.to_owned()),
            ],
            decode: summary_of_page::<ActivityEntry>,
        },
    ]
}

pub async fn run(request: &MemberRequest) -> Result<UpstreamReport, ApiError> {
    // Every list in every environment, each counting against the API's rate limit, and the API's
    // raw refusals in the report: for those who run the platform, not for every viewer.
    if !request.may(permissions::PLATFORM_MANAGE).await? {
        return Err(ApiError::Forbidden(
            "The API check is for members who manage the platform (platform:manage).".to_owned(),
        ));
    }
    let asked_version = request.bff().upstream.api_version().to_owned();
    // The environments to check in: as the dashboard lists them (an odd record left out).
    let environments: Vec<EnvironmentRecord> = request
        .environment_listing::<EnvironmentRecord>()
        .await?
        .into_iter()
        .filter_map(Listed::parsed)
        .collect();
    let mut checks = Vec::new();
    for environment in &environments {
        let reads = reads(&environment.id);
        let outcomes = futures::future::join_all(
            reads
                .iter()
                .map(|read| check_one(request, &environment.slug, read, &asked_version)),
        )
        .await;
        for (read, outcome) in reads.iter().zip(outcomes) {
            let query = read
                .query
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("&");
            let path = read.path.as_ref().unwrap_or_else(|shown| shown);
            let call = if query.is_empty() {
                format!("GET {path}")
            } else {
                format!("GET {path}?{query}")
            };
            checks.push(UpstreamCheck {
                environment: environment.slug.to_string(),
                purpose: read.purpose.to_owned(),
                call,
                outcome,
            });
        }
    }
    tracing::info!(
        reads = checks.len(),
        failed = checks
            .iter()
            .filter(|check| !check.outcome.is_expected())
            .count(),
        "upstream self-check"
    );
    Ok(UpstreamReport {
        api_version: asked_version,
        checks,
    })
}

async fn check_one(
    request: &MemberRequest,
    environment: &EnvironmentSlug,
    read: &Read,
    asked_version: &str,
) -> CheckOutcome {
    let Ok(path) = &read.path else {
        return CheckOutcome::UnexpectedShape {
            field: "environment id".to_owned(),
            reason: "neither a UUID nor an Auth0 id, so no path was made and nothing was sent"
                .to_owned(),
        };
    };
    let probe = match request.probe(environment, path, &read.query).await {
        Ok(probe) => probe,
        Err(error) => return CheckOutcome::Unreachable(error.to_string()),
    };
    let (status, version, body) = match probe {
        Probe::Answered {
            status,
            version,
            body,
        } => (status, version, body),
        Probe::Unreachable(reason) => return CheckOutcome::Unreachable(reason),
    };
    if !(200..300).contains(&status) {
        return CheckOutcome::Refused {
            status,
            detail: refusal_detail(&body),
        };
    }
    match (read.decode)(&body) {
        Ok(summary) => CheckOutcome::AsExpected {
            summary,
            version_note: match version {
                Some(version) if version == asked_version => None,
                Some(version) => Some(format!(
                    "shaped for version {version}, not the {asked_version} asked for"
                )),
                None => Some("no Keystone-Version in the reply".to_owned()),
            },
        },
        Err(ShapeMismatch { field, reason, .. }) => CheckOutcome::UnexpectedShape { field, reason },
    }
}
