//! Permission names, seeded roles and M2M scopes: the contract's section 4, kept in one place because
//! every name here is a [design] decision that the real API may spell differently.

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

/// Every permission, in the order the dashboard's permission matrix lists them.
pub const ALL: [&str; 12] = [
    PLATFORM_READ,
    PLATFORM_MANAGE,
    MEMBERS_READ,
    MEMBERS_MANAGE,
    ENVIRONMENTS_MANAGE,
    SECURITY_READ,
    SECURITY_MANAGE,
    ACTIVITY_READ,
    SETTLEMENTS_READ,
    SETTLEMENTS_WRITE,
    TEMPLATES_READ,
    WEBHOOKS_MANAGE,
];

/// The names KeyStone publishes, as its M2M scopes [doc]. A user token keeps their documented
/// meaning whatever the rest of its vocabulary is, so another vocabulary spells them the same.
pub const PUBLISHED: [&str; 4] = [
    SETTLEMENTS_READ,
    SETTLEMENTS_WRITE,
    TEMPLATES_READ,
    WEBHOOKS_MANAGE,
];

/// A permission as another vocabulary spells it, action first (`members:manage` becomes
/// `manage:members`), for `--sandbox-foreign-permissions`. The published scopes stay as they are,
/// so a Platform Manager's token mixes names a client knows with names it does not.
pub fn foreign_name(native: &str) -> String {
    if PUBLISHED.contains(&native) {
        return native.to_owned();
    }
    match native.rsplit_once(':') {
        Some((resource, action)) => format!("{action}:{resource}"),
        None => native.to_owned(),
    }
}

/// The inverse of [`foreign_name`].
pub fn native_name(foreign: &str) -> String {
    if PUBLISHED.contains(&foreign) {
        return foreign.to_owned();
    }
    match foreign.split_once(':') {
        Some((action, resource)) => format!("{resource}:{action}"),
        None => foreign.to_owned(),
    }
}

pub const PLATFORM_MANAGER: &str = "Platform Manager";

/// The four seeded roles: (id, name, description, permissions).
pub fn seeded_roles() -> Vec<(&'static str, &'static str, &'static str, Vec<&'static str>)> {
    vec![
        (
            "rol_platform_manager",
            PLATFORM_MANAGER,
            "Full control of the platform: settings, team, environments and security.",
            ALL.to_vec(),
        ),
        (
            "rol_developer",
            "Developer",
            "Builds the integration: manages environments, IP allowlists and webhooks.",
            vec![
                PLATFORM_READ,
                MEMBERS_READ,
                ENVIRONMENTS_MANAGE,
                SECURITY_READ,
                SECURITY_MANAGE,
                ACTIVITY_READ,
                SETTLEMENTS_READ,
                TEMPLATES_READ,
                WEBHOOKS_MANAGE,
            ],
        ),
        (
            "rol_compliance_officer",
            "Compliance Officer",
            "Reviews settlements and records compliance decisions.",
            vec![
                PLATFORM_READ,
                MEMBERS_READ,
                SETTLEMENTS_READ,
                SETTLEMENTS_WRITE,
                ACTIVITY_READ,
            ],
        ),
        (
            "rol_viewer",
            "Viewer",
            "Read-only access to the platform, its team and its security settings.",
            vec![
                PLATFORM_READ,
                MEMBERS_READ,
                SECURITY_READ,
                SETTLEMENTS_READ,
                TEMPLATES_READ,
            ],
        ),
    ]
}

/// Scopes granted to each environment's M2M client: the documented integration scopes plus what the
/// published SDK needs to manage environments.
pub const M2M_SCOPES: [&str; 7] = [
    SETTLEMENTS_READ,
    SETTLEMENTS_WRITE,
    TEMPLATES_READ,
    WEBHOOKS_MANAGE,
    PLATFORM_READ,
    ENVIRONMENTS_MANAGE,
    ACTIVITY_READ,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_names_map_back_and_the_published_ones_stay() {
        for native in ALL {
            assert_eq!(
                foreign_name(native) == native,
                PUBLISHED.contains(&native),
                "{native}"
            );
            assert_eq!(native_name(&foreign_name(native)), native);
        }
        assert_eq!(foreign_name(MEMBERS_MANAGE), "manage:members");
        assert_eq!(foreign_name(WEBHOOKS_MANAGE), WEBHOOKS_MANAGE);
    }
}
