//! Every KeyStone API path the dashboard calls, in one place: several are the project's own
//! [design] choices (see `shared/keystone-api.md`) and must be cheap to change.

pub const PLATFORM: &str = "/v1/platforms/me";
pub const ENVIRONMENTS: &str = "/v1/platforms/me/environments";
pub const MEMBERS: &str = "/v1/platforms/me/members";
pub const ROLES: &str = "/v1/platforms/me/roles";
pub const INVITATIONS: &str = "/v1/platforms/me/invitations";
pub const ACTIVITY: &str = "/v1/activity";

use crate::api::ApiError;

/// An id as one path segment: percent-encoded, so it cannot add segments or a query, and refused
/// when empty, `.` or `..`. URL parsers resolve dot segments (even `%2e%2e`), so such an id would
/// send the call to another resource than the one the member confirmed.
pub fn segment(value: &str) -> Result<String, ApiError> {
    if matches!(value, "" | "." | "..") {
        tracing::warn!("refused an id that is not a path segment");
        return Err(ApiError::BadRequest("That id is not valid.".to_owned()));
    }
    Ok(
        oauth2::url::form_urlencoded::byte_serialize(value.as_bytes())
            .collect::<String>()
            .replace('+', "%20"),
    )
}

pub fn environment(environment_id: &str) -> Result<String, ApiError> {
    Ok(format!("{ENVIRONMENTS}/{}", segment(environment_id)?))
}

pub fn ip_allowlist(environment_id: &str) -> Result<String, ApiError> {
    Ok(format!("{}/ip-allowlist", environment(environment_id)?))
}

pub fn ip_allowlist_entry(environment_id: &str, entry_id: &str) -> Result<String, ApiError> {
    Ok(format!(
        "{}/{}",
        ip_allowlist(environment_id)?,
        segment(entry_id)?
    ))
}

pub fn invitation(invitation_id: &str) -> Result<String, ApiError> {
    Ok(format!("{INVITATIONS}/{}", segment(invitation_id)?))
}

pub fn member(user_id: &str) -> Result<String, ApiError> {
    Ok(format!("{MEMBERS}/{}", segment(user_id)?))
}

/// The path with its ids replaced by `{id}`, for metric labels: a bounded set of routes.
pub fn template(path: &str) -> String {
    const WORDS: &[&str] = &[
        "v1",
        "platforms",
        "me",
        "environments",
        "members",
        "roles",
        "invitations",
        "ip-allowlist",
        "activity",
    ];
    path.split('/')
        .map(|segment| {
            if segment.is_empty() || WORDS.contains(&segment) {
                segment
            } else {
                "{id}"
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_hide_ids() {
        assert_eq!(
            template(&ip_allowlist_entry("env_1", "ipa_9").unwrap()),
            "/v1/platforms/me/environments/{id}/ip-allowlist/{id}"
        );
        assert_eq!(template(MEMBERS), MEMBERS);
        assert_eq!(
            template(&member("auth0|x/y").unwrap()),
            "/v1/platforms/me/members/{id}"
        );
    }

    #[test]
    fn ids_cannot_escape_their_segment() {
        assert_eq!(
            member("auth0|abc").unwrap(),
            "/v1/platforms/me/members/auth0%7Cabc"
        );
        assert_eq!(
            environment("../../x?y=1").unwrap(),
            "/v1/platforms/me/environments/..%2F..%2Fx%3Fy%3D1"
        );
        assert_eq!(segment("a b").unwrap(), "a%20b");
    }

    #[test]
    fn dot_and_empty_ids_are_refused() {
        for id in ["", ".", ".."] {
            assert!(segment(id).is_err(), "{id:?}");
            assert!(ip_allowlist_entry("env_1", id).is_err(), "{id:?}");
            assert!(invitation(id).is_err(), "{id:?}");
        }
        assert!(
            segment("...").is_ok(),
            "three dots are a name, not a dot segment"
        );
    }
}
