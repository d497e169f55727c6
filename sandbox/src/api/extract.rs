//! Request extractors with the API's error shapes.

use axum::{
    extract::{rejection::JsonRejection, FromRequest, FromRequestParts, Request},
    http::request::Parts,
};
use serde::{de::DeserializeOwned, Deserialize};

use super::error::{ApiError, FieldError};
use crate::model::Page;

/// A JSON body: malformed JSON is a 400, a body of the wrong shape a 422 naming the field that is
/// wrong, in pydantic's words (as the real API, FastAPI, does).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        // FastAPI reads an empty body as no body, whatever its type: the model is missing (422),
        // as for a `null` one, not malformed JSON. Read whole first: a chunked or HTTP/2 body
        // does not say its length.
        let (parts, body) = request.into_parts();
        let (headers, extensions) = (parts.headers.clone(), parts.extensions.clone());
        // Read as axum's own extractors read (`DefaultBodyLimit` holds), with their refusal.
        let bytes = axum::body::Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
        if bytes.is_empty() {
            return model(serde_json::Value::Null).map(Self);
        }
        let mut request = Request::new(axum::body::Body::from(bytes));
        *request.headers_mut() = headers;
        *request.extensions_mut() = extensions;
        match axum::Json::<serde_json::Value>::from_request(request, state).await {
            Ok(axum::Json(value)) => model(value).map(Self),
            Err(JsonRejection::JsonSyntaxError(error)) => Err(ApiError::BadRequest(format!(
                "Malformed JSON: {}",
                error.body_text()
            ))),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::BadRequest(
                "Expected Content-Type: application/json".to_owned(),
            )),
            Err(other) => Err(ApiError::BadRequest(other.body_text())),
        }
    }
}

/// A request model read from a body. Every body of the API is a model, so anything but an object
/// is refused as pydantic refuses it (serde would read an array as a struct's fields in order).
///
/// Two ways this is not FastAPI: it reports the first problem where FastAPI lists every one (a
/// client shows a list either way), and that first problem is a wrong type before a missing
/// field, fields in the order of their names (a JSON object is read sorted). And it is strict
/// where pydantic's default lax mode coerces (`"3600"` for an integer, `"yes"` for a boolean): a
/// client is held to the types the contract shows.
fn model<T: DeserializeOwned>(body: serde_json::Value) -> Result<T, ApiError> {
    let refused = |kind: &str, msg: &str| {
        ApiError::Validation(vec![FieldError {
            loc: vec!["body".into()],
            msg: msg.to_owned(),
            kind: kind.to_owned(),
        }])
    };
    match body {
        serde_json::Value::Object(_) => serde_path_to_error::deserialize(body)
            .map_err(|error| ApiError::Validation(vec![body_field_error(&error)])),
        serde_json::Value::Null => Err(refused("missing", "Field required")),
        _ => Err(refused(
            "model_attributes_type",
            "Input should be a valid dictionary or object to extract fields from",
        )),
    }
}

/// The error pydantic gives for what is wrong with a body, at the field it is wrong at.
fn body_field_error(error: &serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    use serde_path_to_error::Segment;
    let mut loc: Vec<serde_json::Value> = vec!["body".into()];
    for segment in error.path().iter() {
        match segment {
            Segment::Seq { index } => loc.push((*index).into()),
            Segment::Map { key } | Segment::Enum { variant: key } => loc.push(key.clone().into()),
            Segment::Unknown => {}
        }
    }
    let message = error.inner().to_string();
    let field = |kind: &str, msg: &str| FieldError {
        loc: loc.clone(),
        msg: msg.to_owned(),
        kind: kind.to_owned(),
    };
    if let Some(missing) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        let mut error = field("missing", "Field required");
        error.loc.push(missing.into());
        return error;
    }
    // serde's "invalid type: string \"x\", expected i64": what was sent, what the model wants.
    let Some((sent, expected)) = message
        .strip_prefix("invalid type: ")
        .and_then(|rest| rest.rsplit_once(", expected "))
    else {
        return field("value_error", &message);
    };
    let integer = matches!(
        expected,
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "isize" | "usize"
    );
    match expected {
        _ if integer && sent.starts_with("string") => field(
            "int_parsing",
            "Input should be a valid integer, unable to parse string as an integer",
        ),
        _ if integer && sent.starts_with("floating point") => field(
            "int_from_float",
            "Input should be a valid integer, got a number with a fractional part",
        ),
        _ if integer => field("int_type", "Input should be a valid integer"),
        "a string" => field("string_type", "Input should be a valid string"),
        "a boolean" if sent.starts_with("string") => field(
            "bool_parsing",
            "Input should be a valid boolean, unable to interpret input",
        ),
        "a boolean" => field("bool_type", "Input should be a valid boolean"),
        "a sequence" => field("list_type", "Input should be a valid list"),
        _ if expected.starts_with("struct") || expected == "a map" => field(
            "model_attributes_type",
            "Input should be a valid dictionary or object to extract fields from",
        ),
        _ => field("value_error", &message),
    }
}

/// Query parameters as FastAPI reads them: a name given twice takes its last value (Starlette's
/// `QueryParams`), where serde would refuse the duplicate; and a query that cannot be read at all
/// is answered in the API's error shape, never as axum's plain-text rejection.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|error| ApiError::BadRequest(format!("Malformed query string: {error}")))?;
        let last: std::collections::HashMap<String, String> = pairs.into_iter().collect();
        let reencoded = serde_urlencoded::to_string(&last).expect("pairs of strings encode");
        serde_urlencoded::from_str(&reencoded)
            .map(Self)
            .map_err(|error| ApiError::BadRequest(format!("Malformed query string: {error}")))
    }
}

/// The largest `limit` of the environment list, as the published Python SDK bounds it.
pub const ENVIRONMENTS_MAX_LIMIT: usize = 100;
/// The largest `limit` of the activity log, as the published Python SDK bounds it.
pub const ACTIVITY_MAX_LIMIT: usize = 200;
/// The largest `limit` of the lists whose bound is unpublished (members, roles, invitations,
/// allowlist entries): the contract's own choice, the smaller of the published ones.
pub const UNPUBLISHED_MAX_LIMIT: usize = 100;

const DEFAULT_LIMIT: usize = 50;

/// `limit` (1–`MAX`, default 50) and `offset` (≥ 0, default 0). The bound is per list, as in the
/// real API, so each route names its own; out of range is FastAPI's 422.
#[derive(Debug, Clone, Copy)]
pub struct Pagination<const MAX: usize> {
    pub limit: usize,
    pub offset: usize,
}

#[derive(Deserialize)]
struct RawPagination {
    limit: Option<String>,
    offset: Option<String>,
}

/// An integer query parameter within `min..=max`, or the error pydantic would give for it.
fn bounded(field: &str, raw: &str, min: i64, max: Option<i64>) -> Result<usize, FieldError> {
    let value = raw.parse::<i64>().map_err(|_| {
        FieldError::query_typed(
            field,
            "int_parsing",
            "Input should be a valid integer, unable to parse string as an integer",
        )
    })?;
    if value < min {
        return Err(FieldError::query_typed(
            field,
            "greater_than_equal",
            format!("Input should be greater than or equal to {min}"),
        ));
    }
    if let Some(max) = max.filter(|max| value > *max) {
        return Err(FieldError::query_typed(
            field,
            "less_than_equal",
            format!("Input should be less than or equal to {max}"),
        ));
    }
    Ok(value as usize)
}

impl<S: Send + Sync, const MAX: usize> FromRequestParts<S> for Pagination<MAX> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ApiQuery(raw) = ApiQuery::<RawPagination>::from_request_parts(parts, state).await?;
        let mut errors = Vec::new();
        let limit = raw
            .limit
            .as_deref()
            .map_or(Ok(DEFAULT_LIMIT), |raw| {
                bounded("limit", raw, 1, Some(MAX as i64))
            })
            .map_err(|error| errors.push(error))
            .unwrap_or_default();
        let offset = raw
            .offset
            .as_deref()
            .map_or(Ok(0), |raw| bounded("offset", raw, 0, None))
            .map_err(|error| errors.push(error))
            .unwrap_or_default();
        if errors.is_empty() {
            Ok(Self { limit, offset })
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

impl<const MAX: usize> Pagination<MAX> {
    pub fn page<T: Clone>(&self, items: &[T]) -> Page<T> {
        self.page_of(items, T::clone)
    }

    /// The page of `items`, each turned into its reply by `view`: only the page's records are
    /// shaped, so a list of a thousand costs its page, not the whole list, per call.
    pub fn page_of<T, V>(&self, items: &[T], view: impl FnMut(&T) -> V) -> Page<V> {
        Page {
            items: items
                .iter()
                .skip(self.offset)
                .take(self.limit)
                .map(view)
                .collect(),
            total: items.len(),
            limit: self.limit,
            offset: self.offset,
        }
    }
}
