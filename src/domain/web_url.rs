//! Web addresses a member types into the platform's profile (its logo, its support page).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest address the API stores.
const MAX_LENGTH: usize = 2048;

/// An absolute `http` or `https` address with a host, as the API accepts it. Parsed with the
/// `http` crate's URI grammar (no spaces, no control characters), not by hand.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WebUrl(String);

impl WebUrl {
    pub fn parse(input: &str) -> Result<Self, String> {
        let input = input.trim();
        if input.is_empty() {
            return Err("Enter an address, such as https://example.com.".to_owned());
        }
        if input.len() > MAX_LENGTH {
            return Err(format!(
                "The address is longer than {MAX_LENGTH} characters."
            ));
        }
        let uri = input
            .parse::<http::Uri>()
            .map_err(|_| format!("“{input}” is not a web address."))?;
        if !matches!(uri.scheme_str(), Some("https" | "http")) {
            return Err(format!(
                "“{input}” is not a web address: it must start with https://."
            ));
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(format!("“{input}” has no host name."));
        }
        Ok(Self(input.to_owned()))
    }

    /// An address a page may load from: `https` only. A logo over plain `http` would be blocked
    /// as mixed content (and by the page's CSP), and could be swapped on the way.
    pub fn parse_https(input: &str) -> Result<Self, String> {
        let url = Self::parse(input)?;
        if !url.is_https() {
            return Err(format!(
                "“{}” must use https:// (a page served over https cannot show it otherwise).",
                url.0
            ));
        }
        Ok(url)
    }

    /// The scheme is `https` (in any letter case, as URI schemes are).
    pub fn is_https(&self) -> bool {
        self.0
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    }

    /// A listener on this machine (`localhost`, `127.0.0.0/8`, `::1`).
    pub fn is_loopback(&self) -> bool {
        self.0.parse::<http::Uri>().ok().is_some_and(|uri| {
            uri.host().is_some_and(|host| {
                let host = host.trim_start_matches('[').trim_end_matches(']');
                host.eq_ignore_ascii_case("localhost")
                    || host
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|address| address.is_loopback())
            })
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WebUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for WebUrl {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<WebUrl> for String {
    fn from(url: WebUrl) -> Self {
        url.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_addresses_need_a_scheme_and_a_host() {
        assert_eq!(
            WebUrl::parse(" https://acme.example/help ")
                .unwrap()
                .as_str(),
            "https://acme.example/help"
        );
        assert!(WebUrl::parse("http://acme.example").is_ok());
        for (typed, says) in [
            ("", "Enter an address"),
            ("acme.example", "must start with https://"),
            ("ftp://acme.example", "must start with https://"),
            ("javascript:alert(1)", "not a web address"),
            ("https://acme example", "not a web address"),
            ("https://", "not a web address"),
        ] {
            let error = WebUrl::parse(typed).unwrap_err();
            assert!(error.contains(says), "{typed:?}: {error}");
        }
        assert!(WebUrl::parse(&format!("https://a.example/{}", "x".repeat(2048))).is_err());
    }

    #[test]
    fn loopback_listeners_are_recognised() {
        for (url, loopback) in [
            ("http://127.0.0.1:9000/hook", true),
            ("http://localhost/hook", true),
            ("http://[::1]:9000/hook", true),
            ("https://hooks.acme.example/in", false),
            ("http://10.0.0.1/hook", false),
        ] {
            assert_eq!(WebUrl::parse(url).unwrap().is_loopback(), loopback, "{url}");
        }
    }

    #[test]
    fn a_logo_must_come_over_https() {
        assert!(WebUrl::parse_https("https://cdn.acme.example/logo.svg").is_ok());
        assert!(WebUrl::parse_https("HTTPS://cdn.acme.example/logo.svg").is_ok());
        let error = WebUrl::parse_https("http://cdn.acme.example/logo.svg").unwrap_err();
        assert!(error.contains("must use https://"), "{error}");
    }
}
