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

/// `GET /security/allowlist.csv`: the current environment's allowlist (behind the sign-in gate).
pub async fn allowlist_csv(
    State(bff): State<Arc<Bff>>,
    Extension(member): Extension<SignedIn>,
    session: Session,
    parts: Parts,
) -> Response {
    let request_id = telemetry::request_id(&parts.headers).map(str::to_owned);
    let started = telemetry::RequestStarted::of(&parts.extensions);
    let request = MemberRequest::new(bff, session, member, request_id, started);
    match crate::api::allowlist_csv(request).await {
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
