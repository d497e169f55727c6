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

/// One step of a new platform's getting-started checklist, computed from what the API holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChecklistStep {
    pub title: String,
    /// Where the step is done.
    pub href: String,
    pub done: bool,
}

/// The checklist's steps, or `None` once every one is done. (The overview leaves it out also when
/// the member dismissed it, or when the platform finished onboarding.)
pub fn checklist(
    team_invited: bool,
    environments: usize,
    production_restricted: bool,
    webhook_receiving: bool,
) -> Option<Vec<ChecklistStep>> {
    let step = |title: &str, href: &str, done: bool| ChecklistStep {
        title: title.to_owned(),
        href: href.to_owned(),
        done,
    };
    let steps = vec![
        step("Invite your team", "/members", team_invited),
        step(
            "Add a second environment",
            "/environments",
            environments >= 2,
        ),
        step(
            "Restrict production's IP allowlist (switch to production first)",
            "/security",
            production_restricted,
        ),
        step(
            "Receive webhooks at an endpoint of yours",
            "/webhooks",
            webhook_receiving,
        ),
    ];
    (!steps.iter().all(|step| step.done)).then_some(steps)
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
    pub getting_started: Option<Vec<ChecklistStep>>,
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
        let members: Vec<crate::api::Lenient<Member>> = request
            .get_all(paths::MEMBERS, &[("search", search)], 500)
            .await?;
        Ok(members
            .into_iter()
            .filter_map(crate::api::Lenient::parsed)
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

    /// How many members the platform has (one call: the page's `total`).
    async fn members_total(request: &MemberRequest) -> Result<u64, ApiError> {
        let page: Page<serde_json::Value> = request
            .get(paths::MEMBERS, &[("limit", "1".to_owned())])
            .await?;
        Ok(page.total)
    }

    /// How many of an endpoint's deliveries the checklist reads to find its newest.
    const RECENT_DELIVERIES: u32 = 50;

    /// Whether an active endpoint's latest delivery arrived: the endpoints, then each active
    /// one's recent deliveries, all at once. The order of a deliveries page is unpublished, so
    /// the newest is the latest `created_at` of a page, not its first item (ties keep the API's
    /// order): right whichever way the API sorts, for an onboarding platform's few deliveries.
    async fn webhook_receiving(request: &MemberRequest) -> Result<bool, ApiError> {
        let endpoints: Vec<Lenient<crate::api::WebhookEndpoint>> =
            request.get_all(paths::WEBHOOKS, &[], 500).await?;
        let latest = endpoints
            .into_iter()
            .filter_map(|endpoint| Listed::from(endpoint).parsed())
            .filter(|endpoint| endpoint.is_active)
            .map(|endpoint| async move {
                let id = paths::id_from_api(&endpoint.id)?;
                let page: Page<Lenient<crate::api::WebhookDelivery>> = request
                    .get(
                        &paths::webhook_deliveries(&id),
                        &[("limit", RECENT_DELIVERIES.to_string())],
                    )
                    .await?;
                let newest = page
                    .items
                    .into_iter()
                    .filter_map(|item| Listed::from(item).parsed())
                    .enumerate()
                    .max_by_key(|(position, delivery)| {
                        (delivery.created_at.moment(), std::cmp::Reverse(*position))
                    });
                Ok::<_, ApiError>(newest.map(|(_, delivery)| delivery.success))
            });
        Ok(futures::future::join_all(latest)
            .await
            .into_iter()
            .any(|latest| matches!(latest, Ok(Some(true)))))
    }

    /// The checklist of a platform still onboarding, unless the member dismissed it. Its reads
    /// (members, webhooks) are made only then; the rest comes from what the overview read.
    async fn getting_started(
        request: &MemberRequest,
        held: &[String],
        cards: &Result<Vec<EnvironmentCard>, ApiError>,
        pending_invitations: &Section<u64>,
    ) -> Result<Option<Vec<ChecklistStep>>, ApiError> {
        if request.checklist_dismissed().await? {
            return Ok(None);
        }
        let (members, receiving) = tokio::join!(
            section(held, permissions::MEMBERS_READ, members_total(request)),
            section(
                held,
                permissions::WEBHOOKS_MANAGE,
                webhook_receiving(request)
            ),
        );
        let team_invited = matches!(members, Some(Ok(total)) if total > 1)
            || matches!(pending_invitations, Some(Ok(pending)) if *pending > 0);
        let cards = cards.as_deref().unwrap_or_default();
        let production_restricted = cards.iter().any(|card| {
            card.slug.is_production() && matches!(card.allowlist_size, Some(Ok(size)) if size > 0)
        });
        Ok(checklist(
            team_invited,
            cards.len(),
            production_restricted,
            matches!(receiving, Some(Ok(true))),
        ))
    }

    pub async fn dismiss_getting_started() -> Result<(), ApiError> {
        MemberRequest::current()?.dismiss_checklist().await
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
        let getting_started = if platform.onboarding_completed_at.is_none() {
            getting_started(request, held, &environments, &pending_invitations).await?
        } else {
            None
        };
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
            getting_started,
        })
    }
}

#[server(endpoint = "overview")]
pub async fn load_overview() -> Result<OverviewView, ApiError> {
    ssr::respond(ssr::load_overview().await)
}

/// Hides the getting-started checklist for the rest of the session.
#[server(endpoint = "overview/dismiss-getting-started")]
pub async fn dismiss_getting_started() -> Result<(), ApiError> {
    ssr::respond(ssr::dismiss_getting_started().await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checklist_shows_until_every_step_is_done() {
        let steps = checklist(true, 1, false, true).unwrap();
        let done: Vec<bool> = steps.iter().map(|step| step.done).collect();
        assert_eq!(done, [true, false, false, true]);
        assert_eq!(steps[1].href, "/environments");
        assert_eq!(checklist(true, 3, true, true), None);
    }
}
