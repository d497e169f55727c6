//! Where to send someone after they sign in: a path on this dashboard and nothing else.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A local path such as `/members?page=2`, safe to put in a `Location` header.
///
/// Parsing is the open-redirect defence (OWASP ASVS 5 V3.7, RFC 9700 §4.11): only an absolute path
/// on this origin is accepted. `//evil` and `/\evil` are refused because browsers read both as
/// scheme-relative URLs to another host; anything with a scheme is refused; control characters are
/// refused because some browsers strip them before parsing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReturnTo(String);

/// Long enough for any real page URL, short enough to keep the session record small.
const MAX_LEN: usize = 2048;

impl ReturnTo {
    pub fn parse(candidate: &str) -> Option<Self> {
        let safe = candidate.starts_with('/')
            && !candidate.starts_with("//")
            && !candidate.contains('\\')
            && candidate.len() <= MAX_LEN
            && !candidate.chars().any(char::is_control)
            // Auth routes are never a destination: `/auth/logout?returnTo=/auth/logout` must not loop.
            && !candidate.starts_with("/auth/");
        safe.then(|| Self(candidate.to_owned()))
    }

    /// A return path, or the overview page when the candidate is missing or unsafe.
    pub fn or_home(candidate: Option<&str>) -> Self {
        candidate.and_then(Self::parse).unwrap_or_else(Self::home)
    }

    pub fn home() -> Self {
        Self("/".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The sign-in route that comes back here: the only place that link is written.
    pub fn sign_in_href(&self) -> String {
        format!("/auth/login?returnTo={}", super::encode_component(&self.0))
    }
}

impl TryFrom<String> for ReturnTo {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).ok_or_else(|| "not a local path".to_owned())
    }
}

impl From<ReturnTo> for String {
    fn from(value: ReturnTo) -> Self {
        value.0
    }
}

impl fmt::Display for ReturnTo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_are_kept() {
        for path in [
            "/",
            "/members",
            "/members?search=ada&page=2",
            "/security#production",
        ] {
            assert_eq!(ReturnTo::parse(path).unwrap().as_str(), path);
        }
    }

    #[test]
    fn anything_that_leaves_the_origin_is_refused() {
        for attempt in [
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "http:evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
            "/\tevil",
            "/\n/evil.example",
            "/auth/logout",
        ] {
            assert_eq!(
                ReturnTo::parse(attempt),
                None,
                "{attempt:?} must be refused"
            );
            assert_eq!(ReturnTo::or_home(Some(attempt)).as_str(), "/");
        }
        assert!(ReturnTo::parse(&format!("/{}", "a".repeat(MAX_LEN))).is_none());
    }

    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<ReturnTo>("\"//evil\"").is_err());
        assert_eq!(
            serde_json::from_str::<ReturnTo>("\"/roles\"").unwrap(),
            ReturnTo::parse("/roles").unwrap()
        );
    }
}
