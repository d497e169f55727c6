use std::fmt;

/// The id of a KeyStone resource as it goes into an API path: a UUID (environments, allowlist
/// entries, invitations) or an Auth0 id (`auth0|…`, `google-oauth2|…`, `org_…`, `rol_…`), the
/// two forms the contract names.
///
/// Anything else is refused before a call is made. Percent-encoding alone is not enough: URL
/// parsers resolve `.` and `..` segments (even `%2e%2e`), so such an id would send a change to
/// another resource than the one the member confirmed, after the BFF's own checks ran against
/// the wrong target. Neither form can be empty, a dot segment, or hold `/`, `?`, `#` or `%`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResourceId(String);

/// Longest id accepted: Auth0 user ids are at most a few hundred characters.
const MAX_ID_LEN: usize = 255;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("that id is neither a UUID nor an Auth0 id")]
pub struct ResourceIdError;

impl ResourceId {
    pub fn parse(raw: &str) -> Result<Self, ResourceIdError> {
        if raw.len() <= MAX_ID_LEN && (is_uuid(raw) || is_auth0_id(raw)) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ResourceIdError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `8-4-4-4-12` hexadecimal digits, either case.
fn is_uuid(raw: &str) -> bool {
    let groups: Vec<&str> = raw.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `<connection>|<user id>` (the user id may itself hold `|`, as SAML and custom social
/// connections write it) or `<kind>_<key>` (organizations, roles).
fn is_auth0_id(raw: &str) -> bool {
    let word = |part: &str, extra: &[u8]| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
    };
    if let Some((connection, user)) = raw.split_once('|') {
        return word(connection, b"-_") && word(user, b"-_.@+:=|");
    }
    match raw.split_once('_') {
        Some((kind, key)) => {
            word(kind, b"") && kind.bytes().all(|b| b.is_ascii_lowercase()) && word(key, b"-_")
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_and_auth0_ids_are_ids() {
        for id in [
            "5f0c2a8e-3b1d-4c7e-9a2f-1e8d7c6b5a40",
            "5F0C2A8E-3B1D-4C7E-9A2F-1E8D7C6B5A40",
            "auth0|acme-ada",
            "auth0|64f1c2d3e4b5a6978899aabb",
            "google-oauth2|110169484474386276334",
            "samlp|Acme-Corp|jane.doe@acme.example",
            "org_acme_markets",
            "rol_platform_manager",
        ] {
            assert_eq!(ResourceId::parse(id).unwrap().as_str(), id);
        }
    }

    #[test]
    fn dot_segments_paths_and_anything_else_are_not() {
        for id in [
            "",
            ".",
            "..",
            "...",
            "%2e%2e",
            "../platforms",
            "a/b",
            "auth0|",
            "|x",
            "auth0|a/../b",
            "auth0|a?b",
            "auth0|a#b",
            "auth0|a%2fb",
            "auth0|a b",
            "ORG_x",
            "org_",
            "_x",
            "5f0c2a8e-3b1d-4c7e-9a2f-1e8d7c6b5a4",
            "5f0c2a8e-3b1d-4c7e-9a2f-1e8d7c6b5a40-",
            "plain",
        ] {
            assert!(ResourceId::parse(id).is_err(), "{id:?}");
        }
        assert!(ResourceId::parse(&format!("auth0|{}", "a".repeat(300))).is_err());
    }
}
