//! Every KeyStone API path the dashboard calls, in one place: several are the project's own
//! [design] choices (see `shared/keystone-api.md`) and must be cheap to change.

pub const PLATFORM: &str = "/v1/platforms/me";
pub const ENVIRONMENTS: &str = "/v1/platforms/me/environments";
pub const MEMBERS: &str = "/v1/platforms/me/members";
pub const ROLES: &str = "/v1/platforms/me/roles";
pub const INVITATIONS: &str = "/v1/platforms/me/invitations";
pub const ACTIVITY: &str = "/v1/activity";
pub const WEBHOOKS: &str = "/v1/platforms/me/webhooks";

use crate::{api::ApiError, domain::ResourceId};

/// An id the API sent, before it goes into a path: an id outside the contract's grammar is an
/// unexpected reply (never a dot segment spliced into the next call).
pub fn id_from_api(raw: &str) -> Result<ResourceId, ApiError> {
    ResourceId::parse(raw).map_err(|_| {
        tracing::warn!("the API sent an id that cannot go into a path");
        ApiError::UnexpectedReply {
            may_have_applied: false,
        }
    })
}

/// An id as one path segment, percent-encoded (`auth0|…` holds a `|`). The id's grammar already
/// keeps out empty ids, dot segments and `/`, `?`, `#`, `%` (see [`ResourceId`]).
fn segment(id: &ResourceId) -> String {
    oauth2::url::form_urlencoded::byte_serialize(id.as_str().as_bytes()).collect()
}

pub fn environment(environment_id: &ResourceId) -> String {
    format!("{ENVIRONMENTS}/{}", segment(environment_id))
}

pub fn ip_allowlist(environment_id: &ResourceId) -> String {
    format!("{}/ip-allowlist", environment(environment_id))
}

pub fn ip_allowlist_entry(environment_id: &ResourceId, entry_id: &ResourceId) -> String {
    format!("{}/{}", ip_allowlist(environment_id), segment(entry_id))
}

pub fn invitation(invitation_id: &ResourceId) -> String {
    format!("{INVITATIONS}/{}", segment(invitation_id))
}

pub fn member(user_id: &ResourceId) -> String {
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
        "webhooks",
        "test",
        "rotate-secret",
        "deliveries",
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

pub fn webhook(endpoint_id: &ResourceId) -> String {
    format!("{WEBHOOKS}/{}", segment(endpoint_id))
}

pub fn webhook_test(endpoint_id: &ResourceId) -> String {
    format!("{}/test", webhook(endpoint_id))
}

pub fn webhook_rotation(endpoint_id: &ResourceId) -> String {
    format!("{}/rotate-secret", webhook(endpoint_id))
}

pub fn webhook_deliveries(endpoint_id: &ResourceId) -> String {
    format!("{}/deliveries", webhook(endpoint_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(raw: &str) -> ResourceId {
        ResourceId::parse(raw).unwrap()
    }

    #[test]
    fn templates_hide_ids() {
        let environment = id("5f0c2a8e-3b1d-4c7e-9a2f-1e8d7c6b5a40");
        let entry = id("0d7e9c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6");
        assert_eq!(
            template(&ip_allowlist_entry(&environment, &entry)),
            "/v1/platforms/me/environments/{id}/ip-allowlist/{id}"
        );
        assert_eq!(template(MEMBERS), MEMBERS);
        assert_eq!(
            template(&member(&id("samlp|Acme|jane@acme.example"))),
            "/v1/platforms/me/members/{id}"
        );
        assert_eq!(
            template(&webhook_rotation(&entry)),
            "/v1/platforms/me/webhooks/{id}/rotate-secret"
        );
        assert_eq!(
            template(&webhook_deliveries(&entry)),
            "/v1/platforms/me/webhooks/{id}/deliveries"
        );
    }

    #[test]
    fn auth0_ids_stay_one_segment() {
        assert_eq!(
            member(&id("auth0|abc")),
            "/v1/platforms/me/members/auth0%7Cabc"
        );
        assert_eq!(
            member(&id("samlp|Acme|jane+x@acme.example")),
            "/v1/platforms/me/members/samlp%7CAcme%7Cjane%2Bx%40acme.example"
        );
    }
}
