//! The overview (home) page: the platform at a glance, from where the member stands.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{ActivityEntry, ApiError, Listed};
use crate::domain::EnvironmentSlug;

/// A part of a page that loads on its own: `None` when the member may not see it, else what was
/// read or why it could not be. One failing read never takes the rest of the page down.
pub type Section<T> = Option<Result<T, ApiError>>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentCard {
    pub name: String,
    pub slug: EnvironmentSlug,
    pub is_active: bool,
    pub api_version: Option<String>,
    /// Networks on the allowlist (0: open to all).
    pub allowlist_size: Section<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverviewView {
    pub platform_name: String,
    /// Only https logos are shown (the page's CSP allows no other remote images).
    pub platform_logo: Option<String>,
    pub member_name: String,
    pub roles: Section<Vec<String>>,
    pub permissions: Vec<String>,
    /// The token's permissions use names the dashboard knows (else every action is offered).
    pub vocabulary_known: bool,
    pub environments: Result<Vec<EnvironmentCard>, ApiError>,
    pub pending_invitations: Section<u64>,
    pub recent_activity: Section<Vec<Listed<ActivityEntry>>>,
}

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::server::member::respond;

    use super::*;
    use crate::{
        api::{permissions, permits, vocabulary_known, EnvironmentDetail, Lenient, Member, Page},
        server::{member::MemberRequest, upstream::paths},
    };

    /// Reads `section` only when the member holds `permission`.
    pub async fn section<T>(
        held: &[String],
        permission: &str,
        section: impl std::future::Future<Output = Result<T, ApiError>>,
    ) -> Section<T> {
        if permits(held, permission) {
            Some(section.await)
        } else {
            None
        }
    }

    pub async fn environment_cards(
        request: &MemberRequest,
        held: &[String],
    ) -> Result<Vec<EnvironmentCard>, ApiError> {
        let environments: Vec<EnvironmentDetail> = request
            .environment_listing::<EnvironmentDetail>()
            .await?
            .into_iter()
            .filter_map(crate::api::Listed::parsed)
            .collect();
        // One allowlist count per environment, all at once; each card fails on its own.
        let cards = environments.into_iter().map(|environment| async move {
            let allowlist_size = section(held, permissions::SECURITY_READ, async {
                let page: Page<serde_json::Value> = request
                    .get_in(
                        &environment.slug,
                        &paths::ip_allowlist(&paths::id_from_api(&environment.id)?),
                        &[("limit", "1".to_owned())],
                    )
                    .await?;
                Ok(page.total)
            })
            .await;
            EnvironmentCard {
                name: environment.name,
                slug: environment.slug,
                is_active: environment.is_active,
                api_version: environment.api_version,
                allowlist_size,
            }
        });
        Ok(futures::future::join_all(cards).await)
    }

    /// The member's own roles: their record, found by searching the members for their address.
    pub async fn own_roles(request: &MemberRequest) -> Result<Vec<String>, ApiError> {
        let member = request.member();
        let search = member.email.clone().unwrap_or_default();
        let members: Vec<Member> = request
            .get_all(paths::MEMBERS, &[("search", search)], 500)
            .await?;
        Ok(members
            .into_iter()
            .find(|found| found.user_id == member.user_id)
            .map(|found| found.roles.into_iter().map(|role| role.name).collect())
            .unwrap_or_default())
    }

    pub async fn pending_invitations(request: &MemberRequest) -> Result<u64, ApiError> {
        let page: Page<serde_json::Value> = request
            .get(paths::INVITATIONS, &[("limit", "1".to_owned())])
            .await?;
        Ok(page.total)
    }

    pub async fn recent_activity(
        request: &MemberRequest,
    ) -> Result<Vec<Listed<ActivityEntry>>, ApiError> {
        let page: Page<Lenient<ActivityEntry>> = request
            .get(paths::ACTIVITY, &[("limit", "5".to_owned())])
            .await?;
        Ok(page.items.into_iter().map(Listed::from).collect())
    }

    pub async fn load_overview() -> Result<OverviewView, ApiError> {
        let request = MemberRequest::current()?;
        let held = request.permissions().await?;
        let request = &request;
        let held = &held;
        // Independent reads, sent together; only the platform itself is needed for the page.
        let (platform, environments, roles, pending_invitations, recent_activity) = tokio::join!(
            request.platform(),
            ssr::environment_cards(request, held),
            section(held, permissions::MEMBERS_READ, ssr::own_roles(request)),
            section(
                held,
                permissions::MEMBERS_READ,
                ssr::pending_invitations(request)
            ),
            section(
                held,
                permissions::ACTIVITY_READ,
                ssr::recent_activity(request)
            ),
        );
        let platform = platform?;
        let member = request.member().clone();
        Ok(OverviewView {
            platform_logo: platform.logo_url.filter(|url| url.starts_with("https://")),
            platform_name: platform.name,
            member_name: member.name.or(member.email).unwrap_or(member.user_id),
            roles,
            vocabulary_known: vocabulary_known(held),
            permissions: held.clone(),
            environments,
            pending_invitations,
            recent_activity,
        })
    }
}

#[server(endpoint = "overview")]
pub async fn load_overview() -> Result<OverviewView, ApiError> {
    ssr::respond(ssr::load_overview().await)
}
