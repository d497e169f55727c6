//! Every KeyStone API path the dashboard calls, in one place: several are the project's own
//! [design] choices (see `shared/keystone-api.md`) and must be cheap to change.

pub const PLATFORM: &str = "/v1/platforms/me";
pub const ENVIRONMENTS: &str = "/v1/platforms/me/environments";
pub const MEMBERS: &str = "/v1/platforms/me/members";
pub const ROLES: &str = "/v1/platforms/me/roles";
pub const INVITATIONS: &str = "/v1/platforms/me/invitations";
pub const ACTIVITY: &str = "/v1/activity";

/// Path segments taken from users are percent-encoded, so an id cannot add segments or a query.
pub fn segment(value: &str) -> String {
    oauth2::url::form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

pub fn environment(environment_id: &str) -> String {
    format!("{ENVIRONMENTS}/{}", segment(environment_id))
}

pub fn ip_allowlist(environment_id: &str) -> String {
    format!("{}/ip-allowlist", environment(environment_id))
}

pub fn ip_allowlist_entry(environment_id: &str, entry_id: &str) -> String {
    format!("{}/{}", ip_allowlist(environment_id), segment(entry_id))
}

pub fn invitation(invitation_id: &str) -> String {
    format!("{INVITATIONS}/{}", segment(invitation_id))
}

pub fn member(user_id: &str) -> String {
    format!("{MEMBERS}/{}", segment(user_id))
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
            template(&ip_allowlist_entry("env_1", "ipa_9")),
            "/v1/platforms/me/environments/{id}/ip-allowlist/{id}"
        );
        assert_eq!(template(MEMBERS), MEMBERS);
        assert_eq!(
            template(&member("auth0|x/y")),
            "/v1/platforms/me/members/{id}"
        );
    }

    #[test]
    fn ids_cannot_escape_their_segment() {
        assert_eq!(member("auth0|abc"), "/v1/platforms/me/members/auth0%7Cabc");
        assert_eq!(
            environment("../../x?y=1"),
            "/v1/platforms/me/environments/..%2F..%2Fx%3Fy%3D1"
        );
        assert_eq!(segment("a b"), "a%20b");
    }
}
