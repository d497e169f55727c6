//! The permission names the dashboard knows, what each allows in words, and how the UI decides
//! whether to offer an action.
//!
//! The names are the project's own [design] (KeyStone does not publish its user-token vocabulary):
//! this module is the one place to change when the real names are known.

pub const PLATFORM_READ: &str = "platform:read";
pub const PLATFORM_MANAGE: &str = "platform:manage";
pub const MEMBERS_READ: &str = "members:read";
pub const MEMBERS_MANAGE: &str = "members:manage";
pub const ENVIRONMENTS_MANAGE: &str = "environments:manage";
pub const SECURITY_READ: &str = "security:read";
pub const SECURITY_MANAGE: &str = "security:manage";
pub const ACTIVITY_READ: &str = "activity:read";
pub const SETTLEMENTS_READ: &str = "settlements:read";
pub const SETTLEMENTS_WRITE: &str = "settlements:write";
pub const TEMPLATES_READ: &str = "templates:read";
pub const WEBHOOKS_MANAGE: &str = "platform:webhooks:manage";

/// Every name above, with what it allows.
pub const KNOWN: [(&str, &str); 12] = [
    (PLATFORM_READ, "See the platform and its environments"),
    (PLATFORM_MANAGE, "Edit platform settings"),
    (MEMBERS_READ, "See members, roles and invitations"),
    (
        MEMBERS_MANAGE,
        "Invite people, change roles, remove members",
    ),
    (
        ENVIRONMENTS_MANAGE,
        "Create, edit and deactivate environments",
    ),
    (SECURITY_READ, "See IP allowlists"),
    (SECURITY_MANAGE, "Change IP allowlists"),
    (ACTIVITY_READ, "Read the activity log"),
    (SETTLEMENTS_READ, "See settlements"),
    (SETTLEMENTS_WRITE, "Create and decide settlements"),
    (TEMPLATES_READ, "See settlement templates"),
    (WEBHOOKS_MANAGE, "Manage webhooks"),
];

/// What a permission lets a member do, in words; an unknown name is shown as it is.
pub fn permission_label(permission: &str) -> &str {
    KNOWN
        .iter()
        .find(|(name, _)| *name == permission)
        .map(|(_, label)| *label)
        .unwrap_or(permission)
}

/// The four names KeyStone publishes, as M2M scopes [doc]. A user token in another vocabulary may
/// well carry them beside names of its own, so they do not tell which vocabulary a token uses.
pub const PUBLISHED: [&str; 4] = [
    SETTLEMENTS_READ,
    SETTLEMENTS_WRITE,
    TEMPLATES_READ,
    WEBHOOKS_MANAGE,
];

/// Whether the token's permissions use the vocabulary the dashboard knows: it holds one of the
/// names only this vocabulary has (one of [`KNOWN`] that is not [`PUBLISHED`]), or it holds names
/// and every one is known (a role of published scopes only, say a settlements role).
pub fn vocabulary_known(held: &[String]) -> bool {
    let is_known = |permission: &String| KNOWN.iter().any(|(name, _)| name == permission);
    held.iter()
        .any(|permission| !PUBLISHED.contains(&permission.as_str()) && is_known(permission))
        || (!held.is_empty() && held.iter().all(is_known))
}

/// Whether the UI offers an action needing `permission`. With a vocabulary the dashboard does not
/// know (see [`vocabulary_known`]), every action is offered and the API's 403
/// explains a refusal: hiding them would lock a Platform Manager out of their own dashboard. This
/// only shapes the UI; the API enforces every permission.
pub fn permits(held: &[String], permission: &str) -> bool {
    !vocabulary_known(held) || held.iter().any(|name| name == permission)
}

/// Whether what a replica remembers of a platform (its members' names and roles, which need
/// `members:read`; its name and environments, which need `platform:read`) may be given to this
/// token: only when it names `permission` itself. With a vocabulary the dashboard does not know,
/// the member's own read goes to the API, which decides.
pub fn shares_remembered(held: &[String], permission: &str) -> bool {
    vocabulary_known(held) && held.iter().any(|name| name == permission)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn known_names_decide_and_unknown_vocabularies_show_everything() {
        let viewer = held(&[PLATFORM_READ, MEMBERS_READ]);
        assert!(permits(&viewer, MEMBERS_READ));
        assert!(!permits(&viewer, MEMBERS_MANAGE));
        let other_vocabulary = held(&["read:members", "manage:members"]);
        assert!(permits(&other_vocabulary, MEMBERS_MANAGE));
        // Another vocabulary beside the published M2M scopes is still another vocabulary.
        let published_beside_others = held(&[SETTLEMENTS_READ, WEBHOOKS_MANAGE, "manage:members"]);
        assert!(!vocabulary_known(&published_beside_others));
        assert!(permits(&published_beside_others, MEMBERS_MANAGE));
        // Published names alone are ours too: a settlements role decides.
        let settlements_only = held(&[SETTLEMENTS_READ, SETTLEMENTS_WRITE]);
        assert!(vocabulary_known(&settlements_only));
        assert!(!permits(&settlements_only, MEMBERS_MANAGE));
        assert!(
            permits(&[], SECURITY_MANAGE),
            "no permissions at all: let the API decide"
        );
        assert_eq!(permission_label(SECURITY_READ), "See IP allowlists");
        assert_eq!(permission_label("read:members"), "read:members");
    }

    #[test]
    fn remembered_reads_go_only_to_tokens_that_name_their_permission() {
        assert!(shares_remembered(
            &held(&[PLATFORM_READ, MEMBERS_READ]),
            MEMBERS_READ
        ));
        assert!(!shares_remembered(
            &held(&[PLATFORM_READ, SECURITY_READ]),
            MEMBERS_READ
        ));
        assert!(shares_remembered(
            &held(&[SECURITY_READ, PLATFORM_READ]),
            PLATFORM_READ
        ));
        assert!(!shares_remembered(&held(&[MEMBERS_READ]), PLATFORM_READ));
        // An unknown vocabulary may or may not allow reading members: the API is asked.
        assert!(!shares_remembered(&held(&["read:members"]), MEMBERS_READ));
    }
}
