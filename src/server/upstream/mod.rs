//! The one client of the KeyStone API. Every server function goes through it.
//!
//! - The destination is the configured base URL plus a path from [`paths`]: callers cannot choose
//!   a host (no SSRF).
//! - Requests are built from scratch: the browser's cookies and headers are never forwarded; only
//!   `Authorization`, `X-Keystone-Environment`, `Keystone-Version`, `Accept`, `Content-Type` and a
//!   request id go out.
//! - Errors become [`ApiError`]s the UI can show; reads are retried on 429/502/503/504 and
//!   connection failures, writes never (a retried write could apply twice).

pub mod check;
pub mod paths;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use reqwest::{header, Method, StatusCode};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::{
    metrics::{Metrics, UpstreamOutcome},
    telemetry::REQUEST_ID,
};
use crate::{
    api::{ApiError, FieldError},
    domain::EnvironmentSlug,
};

/// Attempts for a read, the first included.
const READ_ATTEMPTS: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(150);
/// A 429 asking to wait longer than this is shown to the member instead of waited out.
const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(2);

#[derive(Clone, Debug)]
pub struct UpstreamClient {
    http: reqwest::Client,
    base_url: String,
    /// Sent as `Keystone-Version`: the API shapes replies for the version asked, and this is the
    /// one our decoders were written for.
    api_version: reqwest::header::HeaderValue,
    metrics: Arc<Metrics>,
}

/// Who is calling: the access token and the environment (the API wants `X-Keystone-Environment`
/// on every call a user token makes, the environment list included); the request id joins the
/// API's logs to ours.
pub struct Caller<'a> {
    pub access_token: &'a str,
    pub environment: &'a EnvironmentSlug,
    pub request_id: Option<&'a str>,
}

impl UpstreamClient {
    /// `api_version` is checked by the configuration to be visible ASCII.
    pub fn new(
        base_url: &str,
        api_version: &str,
        timeout: Duration,
        metrics: Arc<Metrics>,
    ) -> Self {
        let http = reqwest::Client::builder()
            // Pooled keep-alive connections; a redirect from the API is never followed (it could
            // take the bearer token to another host).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("keystone-dashboard/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the TLS backend initialises");
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_version: reqwest::header::HeaderValue::from_str(api_version)
                .expect("the configuration accepts only header-safe versions"),
            metrics,
        }
    }

    /// The version sent as `Keystone-Version`.
    pub fn api_version(&self) -> &str {
        self.api_version.to_str().unwrap_or_default()
    }

    /// Readiness: the API answers at all. No token is sent, so a 401 is the expected "up".
    pub async fn check_reachable(&self) -> Result<(), String> {
        let reply = self
            .http
            .get(format!("{}{}", self.base_url, paths::PLATFORM))
            .header(header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|error| error.without_url().to_string())?;
        if reply.status().is_server_error() {
            Err(format!("answered {}", reply.status()))
        } else {
            Ok(())
        }
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        caller: &Caller<'_>,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=READ_ATTEMPTS {
            let request = self.request(caller, Method::GET, path).query(query);
            let last = attempt == READ_ATTEMPTS;
            match self.execute(request, &Method::GET, path, false).await {
                Ok(reply) => return decode(reply, path, false).await,
                Err(Failure::Retryable { error, wait }) if !last => {
                    let wait = wait.unwrap_or(backoff);
                    tracing::info!(path, attempt, wait_ms = wait.as_millis() as u64, %error, "retrying a read");
                    tokio::time::sleep(wait).await;
                    backoff *= 2;
                }
                Err(Failure::Retryable { error, .. } | Failure::Final(error)) => return Err(error),
            }
        }
        unreachable!("the last attempt returns")
    }

    /// A change (POST, PATCH, PUT, DELETE). Sent once. `None` for 204 No Content.
    pub async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        caller: &Caller<'_>,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<Option<T>, ApiError> {
        let mut request = self.request(caller, method.clone(), path);
        if let Some(body) = body {
            request = request.json(body);
        }
        match self.execute(request, &method, path, true).await {
            Ok(reply) if reply.status() == StatusCode::NO_CONTENT => Ok(None),
            // An empty 2xx (a 200 where our design says 204) is a success with nothing to read.
            Ok(reply) if reply.content_length() == Some(0) => Ok(None),
            Ok(reply) => decode(reply, path, true).await.map(Some),
            Err(Failure::Retryable { error, .. } | Failure::Final(error)) => Err(error),
        }
    }

    /// One read as it comes, for the upstream self-check: never retried, never mapped to an
    /// [`ApiError`], so the report can say exactly what the API answered.
    pub async fn probe(&self, caller: &Caller<'_>, path: &str, query: &[(&str, String)]) -> Probe {
        let request = self.request(caller, Method::GET, path).query(query);
        let reply = match request.send().await {
            Ok(reply) => reply,
            Err(error) => return Probe::Unreachable(error.without_url().to_string()),
        };
        let status = reply.status().as_u16();
        let version = reply
            .headers()
            .get("keystone-version")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        match reply.bytes().await {
            Ok(body) => Probe::Answered {
                status,
                version,
                body: body.to_vec(),
            },
            Err(error) => Probe::Unreachable(error.without_url().to_string()),
        }
    }

    fn request(&self, caller: &Caller<'_>, method: Method, path: &str) -> reqwest::RequestBuilder {
        debug_assert!(path.starts_with("/v1/"), "paths come from upstream::paths");
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(caller.access_token)
            .header(header::ACCEPT, "application/json")
            // An `EnvironmentSlug` holds only [a-z0-9-]: always a valid header value.
            .header("X-Keystone-Environment", caller.environment.as_str())
            .header("Keystone-Version", self.api_version.clone());
        if let Some(request_id) = caller.request_id {
            // Set by our own middleware: a generated or checked id, always a valid header value.
            request = request.header(REQUEST_ID, request_id);
        }
        request
    }

    async fn execute(
        &self,
        request: reqwest::RequestBuilder,
        method: &Method,
        path: &str,
        is_write: bool,
    ) -> Result<reqwest::Response, Failure> {
        let started = Instant::now();
        let (result, outcome) = self.execute_once(request, is_write).await;
        self.metrics.upstream_request(
            method.as_str(),
            paths::template(path),
            outcome,
            started.elapsed().as_secs_f64(),
        );
        result
    }

    async fn execute_once(
        &self,
        request: reqwest::RequestBuilder,
        is_write: bool,
    ) -> (Result<reqwest::Response, Failure>, UpstreamOutcome) {
        let reply = match request.send().await {
            Ok(reply) => reply,
            Err(error) => {
                // Connection refused means the request never left: nothing can have changed.
                let may_have_applied = is_write && !error.is_connect();
                let timed_out = error.is_timeout();
                // The URL is dropped from the log line out of habit: paths hold ids, never secrets.
                tracing::warn!(error = %error.without_url(), is_write, "KeyStone API unreachable");
                let outcome = if timed_out {
                    UpstreamOutcome::timeout
                } else {
                    UpstreamOutcome::unreachable
                };
                let failure = Failure::Retryable {
                    error: ApiError::Unavailable { may_have_applied },
                    wait: None,
                };
                return (Err(failure), outcome);
            }
        };
        let status = reply.status();
        if status.is_success() {
            return (Ok(reply), UpstreamOutcome::ok);
        }
        let outcome = match status {
            StatusCode::TOO_MANY_REQUESTS => UpstreamOutcome::rate_limited,
            status if status.is_server_error() => UpstreamOutcome::server_error,
            _ => UpstreamOutcome::client_error,
        };
        (self.refusal(reply, is_write).await, outcome)
    }

    /// The error for a reply that is not a success.
    async fn refusal(
        &self,
        reply: reqwest::Response,
        is_write: bool,
    ) -> Result<reqwest::Response, Failure> {
        let status = reply.status();
        let retry_after = reply
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok());
        let detail = read_detail(reply).await;
        tracing::info!(status = status.as_u16(), "KeyStone API refused a request");
        // A refused change was not applied: the member is told so, so nobody wonders whether to
        // check before trying again.
        let settled = |message: String| {
            if is_write {
                nothing_changed(message)
            } else {
                message
            }
        };
        let error = match status {
            StatusCode::UNAUTHORIZED => ApiError::SignedOut,
            StatusCode::FORBIDDEN => ApiError::Forbidden(settled(
                detail.message_or("You do not have permission to do this."),
            )),
            StatusCode::NOT_FOUND => ApiError::NotFound(settled(detail.message_or("Not found."))),
            StatusCode::CONFLICT => ApiError::Conflict(settled(
                detail.message_or("This conflicts with the current state."),
            )),
            // On a write, a 422 is about the values the member typed: shown beside the fields. On a
            // read there is no form: the API refused what the dashboard asked, and says why.
            StatusCode::UNPROCESSABLE_ENTITY if is_write => ApiError::Validation(detail.fields()),
            StatusCode::UNPROCESSABLE_ENTITY => ApiError::Refused(detail.summary()),
            StatusCode::TOO_MANY_REQUESTS => {
                let seconds = retry_after.unwrap_or(1);
                let error = ApiError::RateLimited {
                    retry_after_seconds: seconds,
                };
                let wait = Duration::from_secs(seconds);
                return Err(if wait <= LONGEST_RETRY_AFTER {
                    Failure::Retryable {
                        error,
                        wait: Some(wait),
                    }
                } else {
                    Failure::Final(error)
                });
            }
            StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT => {
                // A gateway error on a write may come after the API applied it.
                let may_have_applied = is_write && status != StatusCode::SERVICE_UNAVAILABLE;
                return Err(Failure::Retryable {
                    error: ApiError::Unavailable { may_have_applied },
                    wait: None,
                });
            }
            status if status.is_client_error() => ApiError::BadRequest(settled(
                detail.message_or("The KeyStone API rejected the request."),
            )),
            // A server error on a write may come after the change was applied.
            _ => ApiError::Unavailable {
                may_have_applied: is_write,
            },
        };
        Err(Failure::Final(error))
    }
}

/// What one self-check read met.
pub enum Probe {
    Answered {
        status: u16,
        /// The `Keystone-Version` the reply was shaped for.
        version: Option<String>,
        body: Vec<u8>,
    },
    Unreachable(String),
}

/// The API's own words, closed as a sentence, and that nothing was changed.
fn nothing_changed(message: String) -> String {
    let message = message.trim_end();
    let stop = if message.ends_with(['.', '!', '?']) {
        ""
    } else {
        "."
    };
    format!("{message}{stop} Nothing was changed.")
}

enum Failure {
    Retryable {
        error: ApiError,
        wait: Option<Duration>,
    },
    Final(ApiError),
}

async fn decode<T: DeserializeOwned>(
    reply: reqwest::Response,
    path: &str,
    is_write: bool,
) -> Result<T, ApiError> {
    let bytes = reply.bytes().await.map_err(|error| {
        tracing::warn!(error = %error.without_url(), "KeyStone API reply cut short");
        ApiError::Unavailable {
            may_have_applied: is_write,
        }
    })?;
    decode_body(&bytes).map_err(|mismatch| {
        // The API answered, so it is reachable: saying otherwise would send an operator looking
        // at the network. The log names the route, the field and the kind of mismatch, never the
        // values (they may be personal data).
        tracing::warn!(
            path = %paths::template(path),
            field = %mismatch.field,
            kind = %mismatch.kind,
            "KeyStone API reply is not in the shape the dashboard expects"
        );
        ApiError::UnexpectedReply {
            may_have_applied: is_write,
        }
    })
}

/// Where a reply differs from what the dashboard's types expect.
#[derive(Debug)]
pub struct ShapeMismatch {
    /// The path into the JSON, such as `items[3].actor_id` (`.` for the whole body).
    pub field: String,
    /// serde's message, e.g. `invalid type: null, expected a string`. It may quote the value, so
    /// it goes to the self-check's report (for the member, who may read the record anyway) and
    /// never to the log.
    pub reason: String,
    /// The kind of failure (`Data`, `Syntax`, `Eof`), for the log.
    pub kind: String,
}

/// Decodes a reply body, naming the field that did not fit when it fails.
pub fn decode_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ShapeMismatch> {
    // One strict pass first: nearly every reply parses whole. A list with a record that does not
    // is read again with each record on its own (`Lenient`), so that record alone is shown as
    // stored. The path-tracking decoder copies every key it passes; it is only needed to say
    // where a reply went wrong, so it runs only then (the same input fails the same way).
    if let Ok(decoded) = crate::api::strict_pass(|| serde_json::from_slice(bytes)) {
        return Ok(decoded);
    }
    if let Ok(decoded) = serde_json::from_slice(bytes) {
        return Ok(decoded);
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let field = error.path().to_string();
        let error = error.into_inner();
        let kind = format!("{:?}", error.classify());
        // serde_json's own message ends in "at line L column C", which means nothing to a reader
        // of the report; the path says where.
        let reason = error.to_string();
        let reason = reason
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_owned();
        ShapeMismatch {
            field,
            reason,
            kind,
        }
    })
}

/// The API's error body: `{"detail": "text"}` or, for 422, `{"detail": [{"loc", "msg", "type"}]}`.
#[derive(Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    detail: Option<Detail>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Detail {
    Message(String),
    Fields(Vec<ValidationItem>),
}

#[derive(Deserialize)]
struct ValidationItem {
    #[serde(default)]
    loc: Vec<serde_json::Value>,
    msg: String,
}

/// The `detail` of an error reply as one sentence (the self-check's report uses it too).
pub fn refusal_detail(body: &[u8]) -> String {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(parsed) => parsed.summary(),
        Err(_) => format!("a reply that is not JSON ({} bytes)", body.len()),
    }
}

async fn read_detail(reply: reqwest::Response) -> ErrorBody {
    let bytes = reply.bytes().await.unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or_default()
}

impl ErrorBody {
    /// The whole `detail` as one sentence, for a refusal that no form field can show.
    fn summary(self) -> String {
        match self.detail {
            Some(Detail::Message(message)) if !message.is_empty() => message,
            Some(Detail::Fields(items)) if !items.is_empty() => items
                .into_iter()
                .map(|item| {
                    let place = item
                        .loc
                        .iter()
                        .map(|part| match part {
                            serde_json::Value::String(text) => text.clone(),
                            other => other.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(".");
                    if place.is_empty() {
                        item.msg
                    } else {
                        format!("{place}: {}", item.msg)
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
            _ => "no reason given".to_owned(),
        }
    }

    fn message_or(self, fallback: &str) -> String {
        match self.detail {
            Some(Detail::Message(message)) if !message.is_empty() => message,
            _ => fallback.to_owned(),
        }
    }

    fn fields(self) -> Vec<FieldError> {
        match self.detail {
            Some(Detail::Fields(items)) => items
                .into_iter()
                .map(|item| {
                    let field = item
                        .loc
                        .iter()
                        .filter(|part| part.as_str() != Some("body"))
                        .map(|part| match part {
                            serde_json::Value::String(text) => text.clone(),
                            other => other.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(".");
                    FieldError {
                        message: naming_the_field(&field, item.msg),
                        field,
                    }
                })
                .collect(),
            Some(Detail::Message(message)) => vec![FieldError {
                field: String::new(),
                message,
            }],
            None => vec![FieldError {
                field: String::new(),
                message: "The KeyStone API rejected the values.".to_owned(),
            }],
        }
    }
}

/// A field's problem in words that say which field it is. FastAPI's own messages ("Field
/// required", "String should have at most 255 characters") do not name it, and a form lists its
/// problems together under it, where a bare "Field required" would leave the member guessing.
/// A message that already names its field is kept as it is.
fn naming_the_field(field: &str, message: String) -> String {
    // `role_ids.0` is about `role_ids`; a position names no field.
    let Some(name) = field
        .split('.')
        .rfind(|part| !part.is_empty() && part.parse::<u64>().is_err())
    else {
        return message;
    };
    let said = message.to_lowercase();
    let words: Vec<&str> = name.split('_').filter(|word| !word.is_empty()).collect();
    if said.contains(&name.to_lowercase()) || said.contains(&words.join(" ").to_lowercase()) {
        return message;
    }
    let label = words
        .iter()
        .enumerate()
        .map(|(position, word)| match word.to_lowercase().as_str() {
            "cidr" | "url" | "ip" | "id" | "rpm" => word.to_uppercase(),
            "ids" => "IDs".to_owned(),
            lower if position == 0 => {
                let mut letters = lower.chars();
                letters
                    .next()
                    .map(|first| first.to_uppercase().chain(letters).collect())
                    .unwrap_or_default()
            }
            lower => lower.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ");
    format!("{label}: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{EnvironmentRecord, Lenient, Listed, Page};

    fn refused(body: &[u8]) -> Vec<FieldError> {
        serde_json::from_slice::<ErrorBody>(body).unwrap().fields()
    }

    #[test]
    fn fastapis_messages_are_told_with_the_field_they_are_about() {
        let fields = refused(
            br#"{"detail": [
                {"loc": ["body", "description"], "msg": "String should have at most 255 characters", "type": "string_too_long"},
                {"loc": ["body", "role_ids", 0], "msg": "Field required", "type": "missing"},
                {"loc": ["body", "default_timeout_seconds"], "msg": "Input should be a valid integer", "type": "int_type"},
                {"loc": ["body", "cidr"], "msg": "cidr: host bits set", "type": "value_error"},
                {"loc": ["body", "webhook_url"], "msg": "webhook url must use https", "type": "value_error"},
                {"loc": ["body"], "msg": "Field required", "type": "missing"}
            ]}"#,
        );
        let messages: Vec<&str> = fields.iter().map(|field| field.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "Description: String should have at most 255 characters",
                "Role IDs: Field required",
                "Default timeout seconds: Input should be a valid integer",
                "cidr: host bits set",
                "webhook url must use https",
                "Field required",
            ]
        );
        assert_eq!(fields[1].field, "role_ids.0");
    }

    #[test]
    fn a_page_with_an_odd_record_keeps_the_others_and_shows_it_as_stored() {
        let body = br#"{"items": [
            {"id": "env_1", "name": "Staging", "slug": "staging", "is_active": true},
            {"id": "env_2", "name": "Odd", "slug": "odd", "is_active": "yes"}
        ], "total": 2, "limit": 100, "offset": 0}"#;
        let page: Page<Lenient<EnvironmentRecord>> = decode_body(body).unwrap();
        let items: Vec<Listed<EnvironmentRecord>> =
            page.items.into_iter().map(Listed::from).collect();
        assert!(matches!(&items[0], Listed::Parsed(record) if record.id == "env_1"));
        assert!(
            matches!(&items[1], Listed::AsStored(odd) if odd.reason.starts_with("is_active: "))
        );
    }

    #[test]
    fn a_reply_of_the_wrong_shape_names_the_field() {
        let mismatch =
            decode_body::<Page<EnvironmentRecord>>(br#"{"items": [{"id": 1}], "total": 1}"#)
                .err()
                .unwrap();
        assert_eq!(mismatch.field, "items[0].id");
    }
}
