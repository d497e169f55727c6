//! Request extractors with the API's error shapes.

use axum::{
    extract::{rejection::JsonRejection, FromRequest, FromRequestParts, Query, Request},
    http::request::Parts,
};
use serde::{de::DeserializeOwned, Deserialize};

use super::error::{ApiError, FieldError};
use crate::model::Page;

/// A JSON body: malformed JSON is a 400, a body of the wrong shape a 422 (as the real API, FastAPI, does).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::JsonSyntaxError(error)) => Err(ApiError::BadRequest(format!(
                "Malformed JSON: {}",
                error.body_text()
            ))),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::BadRequest(
                "Expected Content-Type: application/json".to_owned(),
            )),
            Err(JsonRejection::JsonDataError(error)) => {
                Err(ApiError::Validation(vec![FieldError {
                    loc: vec!["body".into()],
                    msg: error.body_text(),
                    kind: "type_error".to_owned(),
                }]))
            }
            Err(other) => Err(ApiError::BadRequest(other.body_text())),
        }
    }
}

/// `limit` (1–200, default 50) and `offset` (≥ 0, default 0).
#[derive(Debug, Clone, Copy)]
pub struct Pagination {
    pub limit: usize,
    pub offset: usize,
}

#[derive(Deserialize)]
struct RawPagination {
    limit: Option<String>,
    offset: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Pagination {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(raw) = Query::<RawPagination>::from_request_parts(parts, state)
            .await
            .map_err(|error| ApiError::BadRequest(error.body_text()))?;
        let mut errors = Vec::new();
        let limit = match raw.limit.as_deref().map(str::parse::<i64>) {
            None => 50,
            Some(Ok(limit @ 1..=200)) => limit as usize,
            Some(_) => {
                errors.push(FieldError::query(
                    "limit",
                    "limit must be an integer from 1 to 200",
                ));
                0
            }
        };
        let offset = match raw.offset.as_deref().map(str::parse::<i64>) {
            None => 0,
            Some(Ok(offset @ 0..)) => offset as usize,
            Some(_) => {
                errors.push(FieldError::query(
                    "offset",
                    "offset must be a non-negative integer",
                ));
                0
            }
        };
        if errors.is_empty() {
            Ok(Self { limit, offset })
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

impl Pagination {
    pub fn page<T: Clone>(&self, items: &[T]) -> Page<T> {
        Page {
            items: items
                .iter()
                .skip(self.offset)
                .take(self.limit)
                .cloned()
                .collect(),
            total: items.len(),
            limit: self.limit,
            offset: self.offset,
        }
    }
}
