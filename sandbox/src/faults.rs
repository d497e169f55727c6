//! Fault injection: added latency, a failure rate, a chosen status for chosen routes, malformed bodies,
//! dropped connections and API routes taken away. Set at start (flags) or at run time through
//! `/_sandbox/faults`.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Added to every reply (except the control endpoints).
    pub latency_ms: u64,
    /// Share of requests answered with 503.
    pub failure_rate: f64,
    /// Route-specific faults, first match wins.
    pub rules: Vec<FaultRule>,
    /// Claims overwritten in every ID token issued while set (validly signed, so only the relying
    /// party's claim checks stand between it and a misbehaving or misconfigured provider). A
    /// `null` removes the claim.
    pub id_token_claims: serde_json::Map<String, serde_json::Value>,
    /// How ID tokens are signed while set: the forged forms a relying party must refuse.
    pub id_token_form: IdTokenForm,
    /// The JWKS stops listing the key that still signs the tokens: a withdrawn key in an
    /// attacker's hands.
    pub jwks_omits_signing_key: bool,
    /// API routes answered as if the API did not have them (404 `{"detail": "Not Found"}`), to show
    /// a client's upstream self-check a deployment that lacks a route.
    pub removed_routes: Vec<RemovedRoute>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdTokenForm {
    /// RS256 by the published key: what the provider really issues.
    #[default]
    Signed,
    /// `alg: none`, no signature.
    AlgNone,
    /// HS256 with the public key (its PEM) as the HMAC secret: the algorithm-confusion attack.
    Hs256WithPublicKey,
    /// A valid RS256 signature under a `kid` the JWKS does not list.
    UnknownKid,
}

/// A method and a route of the API, written `GET /v1/platforms/me/roles`. The route is a path or
/// a path template whose `{name}` segments match any one segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RemovedRoute {
    method: String,
    route: String,
}

impl RemovedRoute {
    pub fn matches(&self, method: &str, path: &str) -> bool {
        if !self.method.eq_ignore_ascii_case(method) {
            return false;
        }
        let mut wanted = self.route.split('/');
        let mut given = path.split('/');
        loop {
            match (wanted.next(), given.next()) {
                (None, None) => return true,
                (Some(template), Some(segment)) => {
                    let placeholder = template.starts_with('{') && template.ends_with('}');
                    if !(placeholder && !segment.is_empty() || template == segment) {
                        return false;
                    }
                }
                _ => return false,
            }
        }
    }
}

impl FromStr for RemovedRoute {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (method, route) = text
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("'{text}' is not 'METHOD /path'"))?;
        let route = route.trim();
        if method.is_empty() || !method.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(format!("'{method}' is not an HTTP method"));
        }
        if !route.starts_with('/') || route.contains(char::is_whitespace) {
            return Err(format!("'{route}' is not a path starting with '/'"));
        }
        Ok(Self {
            method: method.to_ascii_uppercase(),
            route: route.to_owned(),
        })
    }
}

impl TryFrom<String> for RemovedRoute {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<RemovedRoute> for String {
    fn from(route: RemovedRoute) -> Self {
        route.to_string()
    }
}

impl fmt::Display for RemovedRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.route)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// HTTP method to match; any when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// Prefix of the path and query to match, e.g. `/v1/platforms/me/members`, `/oauth/token`
    /// or `/v1/platforms/me/members?limit=100` (the query as the client sent it).
    pub path_prefix: String,
    pub action: FaultAction,
    /// How many requests the rule applies to before it expires; forever when absent.
    #[serde(default)]
    pub times: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultAction {
    /// Answer with this status without running the handler; 429 carries `Retry-After`.
    Status {
        status: u16,
        #[serde(default)]
        retry_after_seconds: Option<u64>,
    },
    /// Run the handler, then replace the body with text that is not JSON.
    MalformedBody,
    /// Run the handler (the change is applied), then answer its status with an empty body.
    EmptyBody,
    /// Run the handler, then set the value at `pointer` (RFC 6901) in its JSON reply: a record
    /// the API stored in a shape the dashboard does not expect. A pointer the reply lacks
    /// leaves it as it was.
    EditBody {
        pointer: String,
        value: serde_json::Value,
    },
    /// Close the connection without answering, before the handler runs (nothing applied).
    DropBeforeApply,
    /// Run the handler (the change is applied), then close the connection without answering.
    DropAfterApply,
    /// Wait this long before handling. A caller that hangs up meanwhile cancels the request.
    Delay { ms: u64 },
    /// Handle the request (the change is applied, a refresh token rotated), then wait this long
    /// before answering: a caller that hangs up meanwhile has lost the reply, not the change.
    DelayAfterApply { ms: u64 },
}

impl Faults {
    /// Whether this request's route has been taken away.
    pub fn removes_route(&self, method: &str, path: &str) -> bool {
        self.removed_routes
            .iter()
            .any(|route| route.matches(method, path))
    }

    /// The action for this request (`target`: its path and query), consuming one use of a
    /// counted rule.
    pub fn take_action(&mut self, method: &str, target: &str) -> Option<FaultAction> {
        let index = self.rules.iter().position(|rule| {
            target.starts_with(&rule.path_prefix)
                && rule
                    .method
                    .as_deref()
                    .is_none_or(|wanted| wanted.eq_ignore_ascii_case(method))
        })?;
        let rule = &mut self.rules[index];
        let action = rule.action.clone();
        if let Some(times) = rule.times.as_mut() {
            *times -= 1;
            if *times == 0 {
                self.rules.remove(index);
            }
        }
        Some(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(method: Option<&str>, prefix: &str, times: Option<u32>) -> FaultRule {
        FaultRule {
            method: method.map(str::to_owned),
            path_prefix: prefix.to_owned(),
            action: FaultAction::Status {
                status: 500,
                retry_after_seconds: None,
            },
            times,
        }
    }

    #[test]
    fn counted_rules_expire_and_methods_filter() {
        let mut faults = Faults {
            rules: vec![rule(Some("POST"), "/v1/x", Some(2))],
            ..Faults::default()
        };
        assert_eq!(faults.take_action("GET", "/v1/x"), None);
        assert!(faults.take_action("post", "/v1/x/1").is_some());
        assert!(faults.take_action("POST", "/v1/x").is_some());
        assert_eq!(
            faults.take_action("POST", "/v1/x"),
            None,
            "expired after two uses"
        );
        assert!(faults.rules.is_empty());
    }

    #[test]
    fn removed_routes_match_their_method_and_template_only() {
        let roles: RemovedRoute = "get /v1/platforms/me/roles".parse().unwrap();
        assert_eq!(roles.to_string(), "GET /v1/platforms/me/roles");
        assert!(roles.matches("GET", "/v1/platforms/me/roles"));
        assert!(!roles.matches("POST", "/v1/platforms/me/roles"));
        assert!(!roles.matches("GET", "/v1/platforms/me/roles/x"));
        assert!(!roles.matches("GET", "/v1/platforms/me"));

        let entries: RemovedRoute =
            "DELETE /v1/platforms/me/environments/{environment_id}/ip-allowlist/{entry_id}"
                .parse()
                .unwrap();
        assert!(entries.matches("DELETE", "/v1/platforms/me/environments/e1/ip-allowlist/a1"));
        assert!(!entries.matches("DELETE", "/v1/platforms/me/environments//ip-allowlist/a1"));
        assert!(!entries.matches("DELETE", "/v1/platforms/me/environments/e1/ip-allowlist"));

        for invalid in ["/v1/x", "GET", "GET v1/x", "G3T /v1/x"] {
            assert!(invalid.parse::<RemovedRoute>().is_err(), "{invalid}");
        }
    }

    #[test]
    fn uncounted_rules_stay() {
        let mut faults = Faults {
            rules: vec![rule(None, "/oauth/token", None)],
            ..Faults::default()
        };
        for _ in 0..5 {
            assert!(faults.take_action("POST", "/oauth/token").is_some());
        }
    }
}
