//! Downloads that are plain HTTP, not server functions: the allowlist as CSV.

use std::sync::Arc;

use axum::{
    extract::State,
    http::{header, request::Parts, StatusCode},
    response::{IntoResponse, Response},
    Extension,
};
use tower_sessions::Session;

use super::{member::MemberRequest, session::SignedIn, telemetry, Bff};
use crate::api::{
    allowlist::ssr::{current_for, Callers},
    ApiError,
};

/// `GET /security/allowlist.csv`: the current environment's allowlist (behind the sign-in gate).
pub async fn allowlist_csv(
    State(bff): State<Arc<Bff>>,
    Extension(member): Extension<SignedIn>,
    session: Session,
    parts: Parts,
) -> Response {
    let request_id = telemetry::request_id(&parts.headers).map(str::to_owned);
    let started = telemetry::RequestStarted::of(&parts.extensions);
    let request = MemberRequest::new(
        bff,
        session,
        member,
        request_id,
        started,
        Default::default(),
    );
    match allowlist_as_csv(request).await {
        Ok((environment, csv)) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"ip-allowlist-{environment}.csv\""),
                ),
            ],
            csv,
        )
            .into_response(),
        Err(error) => (
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            error.to_string(),
        )
            .into_response(),
    }
}

/// The current environment's list as CSV (`network,description,created_by,created_at`), entries
/// the dashboard cannot parse included as stored.
async fn allowlist_as_csv(request: MemberRequest) -> Result<(String, String), ApiError> {
    let current = current_for(request, Callers::Skip).await?;
    let mut csv = String::from("network,description,created_by,created_at\r\n");
    let parsed = current.entries.iter().map(|entry| {
        [
            entry.cidr.to_string(),
            entry.description.clone().unwrap_or_default(),
            entry.created_by.clone().unwrap_or_default(),
            entry.created_at.to_string(),
        ]
    });
    let as_stored = current.entries_as_stored.iter().map(|record| {
        ["cidr", "description", "created_by", "created_at"]
            .map(|name| record.field(name).to_owned())
    });
    for cells in parsed.chain(as_stored) {
        let row: Vec<String> = cells.iter().map(|cell| csv_cell(cell)).collect();
        csv.push_str(&row.join(","));
        csv.push_str("\r\n");
    }
    Ok((current.environment.slug.to_string(), csv))
}

/// One cell, quoted as RFC 4180 asks, and neutralised when a spreadsheet would run it as a
/// formula (CSV injection: `=`, `+`, `-`, `@`, tab and carriage return lead a formula).
pub fn csv_cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn csv_cells_are_quoted_and_never_formulas() {
        assert_eq!(csv_cell("office"), "office");
        assert_eq!(csv_cell("a, b"), "\"a, b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    }
}
