//! The overview (home) page: the platform at a glance, from where the member stands.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{ActivityEntry, ApiError};
use crate::domain::EnvironmentSlug;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentCard {
    pub name: String,
    pub slug: EnvironmentSlug,
    pub is_active: bool,
    pub api_version: Option<String>,
    /// Networks on the allowlist (0: open to all); `None` when the member may not see it.
    pub allowlist_size: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverviewView {
    pub platform_name: String,
    /// Only https logos are shown (the page's CSP allows no other remote images).
    pub platform_logo: Option<String>,
    pub member_name: String,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
    pub environments: Vec<EnvironmentCard>,
    /// `None` when the member may not see invitations.
    pub pending_invitations: Option<u64>,
    /// Empty when the member may not read the log.
    pub recent_activity: Vec<ActivityEntry>,
}

/// What each permission lets a member do, in words.
pub fn permission_label(permission: &str) -> &str {
    match permission {
        "platform:read" => "See the platform and its environments",
        "platform:manage" => "Edit platform settings",
        "members:read" => "See members, roles and invitations",
        "members:manage" => "Invite people, change roles, remove members",
        "environments:manage" => "Create, edit and deactivate environments",
        "security:read" => "See IP allowlists",
        "security:manage" => "Change IP allowlists",
        "activity:read" => "Read the activity log",
        "settlements:read" => "See settlements",
        "settlements:write" => "Create and decide settlements",
        "templates:read" => "See settlement templates",
        "platform:webhooks:manage" => "Manage webhooks",
        other => other,
    }
}

#[server(endpoint = "overview")]
pub async fn load_overview() -> Result<OverviewView, ApiError> {
    use crate::server::{
        member::{respond, MemberRequest},
        upstream::paths,
    };
    respond(
        async {
            let request = MemberRequest::current()?;
            let permissions = request.permissions().await?;
            let may = |permission: &str| permissions.iter().any(|held| held == permission);
            let platform: super::PlatformRecord = request.get(paths::PLATFORM, &[]).await?;
            let member = request.member().clone();

            let mut environments = Vec::new();
            let all: super::Page<super::EnvironmentDetail> = request
                .get_unscoped(paths::ENVIRONMENTS, &[("limit", "200".to_owned())])
                .await?;
            for environment in all.items {
                let allowlist_size = if may("security:read") {
                    let page: super::Page<serde_json::Value> = request
                        .get_in(
                            &environment.slug,
                            &paths::ip_allowlist(&environment.id),
                            &[("limit", "1".to_owned())],
                        )
                        .await?;
                    Some(page.total)
                } else {
                    None
                };
                environments.push(EnvironmentCard {
                    name: environment.name,
                    slug: environment.slug,
                    is_active: environment.is_active,
                    api_version: environment.api_version,
                    allowlist_size,
                });
            }
            let (roles, pending_invitations) = if may("members:read") {
                let search = member.email.clone().unwrap_or_default();
                let members: super::Page<serde_json::Value> = request
                    .get(
                        paths::MEMBERS,
                        &[("search", search), ("limit", "50".to_owned())],
                    )
                    .await?;
                let roles = members
                    .items
                    .iter()
                    .find(|item| item["user_id"] == member.user_id.as_str())
                    .and_then(|item| item["roles"].as_array().cloned())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|role| role["name"].as_str().map(str::to_owned))
                    .collect();
                let invitations: super::Page<serde_json::Value> = request
                    .get(paths::INVITATIONS, &[("limit", "1".to_owned())])
                    .await?;
                (roles, Some(invitations.total))
            } else {
                (Vec::new(), None)
            };
            let recent_activity = if may("activity:read") {
                let page: super::Page<ActivityEntry> = request
                    .get(paths::ACTIVITY, &[("limit", "5".to_owned())])
                    .await?;
                page.items
            } else {
                Vec::new()
            };
            Ok(OverviewView {
                platform_logo: platform.logo_url.filter(|url| url.starts_with("https://")),
                platform_name: platform.name,
                member_name: member.name.or(member.email).unwrap_or(member.user_id),
                roles,
                permissions,
                environments,
                pending_invitations,
                recent_activity,
            })
        }
        .await,
    )
}
