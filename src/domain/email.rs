//! Email addresses typed or pasted into the invite dialog.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An address that looks deliverable: one `@`, a non-empty local part, a domain with a dot, no
/// spaces, RFC 5321 lengths. The domain is lower-cased (it is case-insensitive); the local part
/// is kept as typed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, String> {
        let input = input.trim();
        let shown = if input.is_empty() { "(empty)" } else { input };
        let Some((local, domain)) = input.rsplit_once('@') else {
            return Err(format!("“{shown}” is not an email address: it has no @."));
        };
        let valid = !local.is_empty()
            && local.len() <= 64
            && input.len() <= 254
            && !local.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && input
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !"<>(),;:\\\"[]".contains(c));
        if !valid {
            return Err(format!("“{shown}” is not a valid email address."));
        }
        Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

/// One address of a pasted list, judged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedEmail {
    pub text: String,
    pub outcome: Result<Email, String>,
}

/// The most addresses one invitation form sends [design]: each is a call to the API, one after
/// another, within one request's time.
pub const MAX_INVITES_AT_ONCE: usize = 50;

/// Splits a pasted list (commas, semicolons, spaces or new lines; `Name <address>` accepted) into
/// addresses, each validated; a repeat of an earlier address (case-insensitively) is reported.
/// Linear in the text: the server splits whatever a signed-in member posts (up to the body limit)
/// before it can say the list is too long.
pub fn parse_email_list(text: &str) -> Vec<ListedEmail> {
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut listed = Vec::new();
    for chunk in text.split([',', ';', '\n']) {
        let chunk = chunk.trim();
        if chunk.is_empty() {
            continue;
        }
        // `Ada Okafor <ada@example.com>`: the address is between the angle brackets.
        let candidates: Vec<&str> = match (chunk.rfind('<'), chunk.rfind('>')) {
            (Some(open), Some(close)) if open < close => vec![&chunk[open + 1..close]],
            _ => chunk.split_whitespace().collect(),
        };
        for candidate in candidates {
            let outcome = Email::parse(candidate).and_then(|email| {
                let key = email.as_str().to_lowercase();
                if seen.insert(key) {
                    Ok(email)
                } else {
                    Err(format!("{email} is listed twice."))
                }
            });
            listed.push(ListedEmail {
                text: candidate.to_owned(),
                outcome,
            });
        }
    }
    listed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_validated_with_specific_messages() {
        assert_eq!(
            Email::parse(" Nora@Acme-Markets.EXAMPLE ")
                .unwrap()
                .as_str(),
            "Nora@acme-markets.example"
        );
        assert!(Email::parse("nora").unwrap_err().contains("no @"));
        for bad in [
            "@example.com",
            "nora@example",
            "nora@.example.com",
            "no ra@example.com",
            "nora@example..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pasted_lists_are_split_validated_and_deduplicated() {
        let listed = parse_email_list(
            "ada@example.com, Ben <ben@example.com>; nope\nADA@example.com  carl@example.com",
        );
        let summary: Vec<(&str, bool)> = listed
            .iter()
            .map(|item| (item.text.as_str(), item.outcome.is_ok()))
            .collect();
        assert_eq!(
            summary,
            [
                ("ada@example.com", true),
                ("ben@example.com", true),
                ("nope", false),
                ("ADA@example.com", false),
                ("carl@example.com", true)
            ]
        );
        assert!(listed[3]
            .outcome
            .as_ref()
            .unwrap_err()
            .contains("listed twice"));
    }
}
