use std::fmt;

use serde::{Deserialize, Serialize};

/// The slug of a KeyStone environment (`development`, `staging`, `production`, ...).
///
/// The contract allows lowercase ASCII letters, digits and hyphens [doc], in any order. Holding a
/// slug in this type is what makes it safe to put into the `X-Keystone-Environment` header and
/// into URLs: nothing else can be constructed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EnvironmentSlug(String);

/// Longest slug accepted; generous for a name, small enough for a header.
const MAX_SLUG_LEN: usize = 63;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnvironmentSlugError {
    #[error("the slug is empty")]
    Empty,
    #[error("the slug is longer than {MAX_SLUG_LEN} characters")]
    TooLong,
    #[error("the slug may contain only lowercase letters, digits and hyphens; found '{0}'")]
    InvalidCharacter(char),
}

impl EnvironmentSlug {
    pub fn parse(raw: &str) -> Result<Self, EnvironmentSlugError> {
        if raw.is_empty() {
            return Err(EnvironmentSlugError::Empty);
        }
        if raw.len() > MAX_SLUG_LEN {
            return Err(EnvironmentSlugError::TooLong);
        }
        if let Some(bad) = raw
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(EnvironmentSlugError::InvalidCharacter(bad));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Production is where mistakes cost money: the UI marks it everywhere and asks before changes.
    pub fn is_production(&self) -> bool {
        self.0 == "production"
    }
}

impl TryFrom<String> for EnvironmentSlug {
    type Error = EnvironmentSlugError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl std::str::FromStr for EnvironmentSlug {
    type Err = EnvironmentSlugError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl From<EnvironmentSlug> for String {
    fn from(slug: EnvironmentSlug) -> Self {
        slug.0
    }
}

impl fmt::Display for EnvironmentSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_seeded_slugs() {
        for raw in ["development", "staging", "production", "eu-west-2", "a"] {
            assert_eq!(EnvironmentSlug::parse(raw).unwrap().as_str(), raw);
        }
    }

    #[test]
    fn rejects_each_rule_with_its_own_error() {
        assert_eq!(EnvironmentSlug::parse(""), Err(EnvironmentSlugError::Empty));
        assert_eq!(
            EnvironmentSlug::parse(&"a".repeat(64)),
            Err(EnvironmentSlugError::TooLong)
        );
        assert_eq!(
            EnvironmentSlug::parse("Prod"),
            Err(EnvironmentSlugError::InvalidCharacter('P'))
        );
        assert_eq!(
            EnvironmentSlug::parse("dev\r\nx"),
            Err(EnvironmentSlugError::InvalidCharacter('\r'))
        );
        assert_eq!(
            EnvironmentSlug::parse("dev_1"),
            Err(EnvironmentSlugError::InvalidCharacter('_'))
        );
    }

    /// The contract's grammar is letters, digits and hyphens, nowhere restricted: an environment
    /// whose slug starts or ends with one is the API's, and must be selectable here.
    #[test]
    fn a_hyphen_at_either_end_is_the_contracts_grammar() {
        for raw in ["-dev", "dev-", "-"] {
            assert_eq!(EnvironmentSlug::parse(raw).unwrap().as_str(), raw);
        }
    }

    #[test]
    fn only_production_is_production() {
        assert!(EnvironmentSlug::parse("production")
            .unwrap()
            .is_production());
        assert!(!EnvironmentSlug::parse("production-eu")
            .unwrap()
            .is_production());
        assert!(!EnvironmentSlug::parse("staging").unwrap().is_production());
    }

    #[test]
    fn deserialising_validates() {
        let ok: EnvironmentSlug = serde_json::from_str("\"staging\"").unwrap();
        assert_eq!(ok.as_str(), "staging");
        assert!(serde_json::from_str::<EnvironmentSlug>("\"Staging\"").is_err());
    }
}
