//! The API's error replies: `{"detail": "..."}`, and 422 with a list of `{loc, msg, type}`.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct FieldError {
    pub loc: Vec<serde_json::Value>,
    pub msg: String,
    #[serde(rename = "type")]
    pub kind: String,
}

impl FieldError {
    /// An error about one field of the body.
    pub fn body(field: &str, msg: impl Into<String>) -> Self {
        Self {
            loc: vec!["body".into(), field.into()],
            msg: msg.into(),
            kind: "value_error".to_owned(),
        }
    }

    pub fn query(field: &str, msg: impl Into<String>) -> Self {
        Self::query_typed(field, "value_error", msg)
    }

    /// An error about one query parameter, with the pydantic error type FastAPI would report.
    pub fn query_typed(field: &str, kind: &str, msg: impl Into<String>) -> Self {
        Self {
            loc: vec!["query".into(), field.into()],
            msg: msg.into(),
            kind: kind.to_owned(),
        }
    }

    /// FastAPI's answer to a required header that was not sent.
    pub fn missing_header(name: &str) -> Self {
        Self {
            loc: vec!["header".into(), name.into()],
            msg: "Field required".to_owned(),
            kind: "missing".to_owned(),
        }
    }
}

#[derive(Debug)]
pub enum ApiError {
    BadRequest(String),
    Unauthorized(String),
    Forbidden(String),
    NotFound(String),
    Conflict(String),
    Validation(Vec<FieldError>),
    RateLimited { retry_after_seconds: u64 },
}

impl ApiError {
    pub fn missing_permission(permission: &str) -> Self {
        Self::Forbidden(format!("Missing permission: {permission}"))
    }

    pub fn invalid(field: &str, msg: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::body(field, msg)])
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, detail) = match self {
            ApiError::BadRequest(detail) => {
                (StatusCode::BAD_REQUEST, serde_json::Value::String(detail))
            }
            ApiError::Unauthorized(detail) => (StatusCode::UNAUTHORIZED, detail.into()),
            ApiError::Forbidden(detail) => (StatusCode::FORBIDDEN, detail.into()),
            ApiError::NotFound(detail) => (StatusCode::NOT_FOUND, detail.into()),
            ApiError::Conflict(detail) => (StatusCode::CONFLICT, detail.into()),
            ApiError::Validation(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                serde_json::to_value(errors).expect("errors serialise"),
            ),
            ApiError::RateLimited {
                retry_after_seconds,
            } => {
                let mut response = (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(serde_json::json!({ "detail": "Rate limit exceeded" })),
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
                return response;
            }
        };
        let mut response = (status, Json(serde_json::json!({ "detail": detail }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
