use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::ApiError;
use crate::domain::EnvironmentSlug;

/// Everything the application shell (top bar, sidebar, environment switcher) needs to render.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShellView {
    pub platform_name: String,
    pub environments: Vec<EnvironmentChoice>,
    pub current_environment: EnvironmentSlug,
    pub member: MemberSummary,
    pub permissions: Vec<String>,
}

/// What a replica remembers of a platform for its shell (`crate::server::remembered`): its name
/// and its environments, with their ids, which the session's kept environment follows too.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, PartialEq)]
pub struct ShellPlatform {
    pub name: String,
    pub environments: Vec<super::EnvironmentRecord>,
}

/// One entry of the environment switcher.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentChoice {
    pub slug: EnvironmentSlug,
    pub name: String,
    pub is_active: bool,
}

/// The signed-in member as the user menu shows them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberSummary {
    pub name: String,
    pub email: String,
}

/// The session check: who is signed in, where, and what they may do. Never a token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    pub user_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub picture: Option<String>,
    pub organization_id: String,
    pub permissions: Vec<String>,
    pub environment: EnvironmentSlug,
}

/// Loads the shell's view model: the platform, its environments, the member and the current
/// environment, from the KeyStone API with the session's token.
#[server(endpoint = "shell")]
pub async fn load_shell() -> Result<ShellView, ApiError> {
    ssr::respond(ssr::load_shell().await)
}

/// The session check: the signed-in member's profile, organization, permissions and current
/// environment. Answers 401 when nobody is signed in.
#[server(endpoint = "session")]
pub async fn current_session() -> Result<SessionView, ApiError> {
    ssr::respond(ssr::current_session().await)
}

/// Switches the environment that every later call to the KeyStone API uses. A POST, so the CSRF
/// check applies; the slug is checked against the platform's active environments.
#[server(endpoint = "environment")]
pub async fn switch_environment(slug: String) -> Result<EnvironmentSlug, ApiError> {
    ssr::respond(ssr::switch_environment(slug).await)
}

#[cfg(feature = "ssr")]
pub use ssr::changing_platform;

#[cfg(feature = "ssr")]
mod ssr {
    use std::sync::Arc;

    pub use crate::server::member::respond;

    use super::*;
    use crate::server::member::MemberRequest;

    pub async fn load_shell() -> Result<ShellView, ApiError> {
        let request = MemberRequest::current()?;
        // The environment first: it is chosen (and remembered) once, then both calls use it.
        let current = request.environment().await?;
        let permissions = request.permissions().await?;
        let platform = platform(&request, &permissions, &current).await?;
        let member = request.member();
        Ok(ShellView {
            platform_name: platform.name.clone(),
            environments: platform
                .environments
                .iter()
                .map(|environment| EnvironmentChoice {
                    slug: environment.slug.clone(),
                    name: environment.name.clone(),
                    is_active: environment.is_active,
                })
                .collect(),
            current_environment: current,
            member: MemberSummary {
                name: member
                    .name
                    .clone()
                    .or_else(|| member.email.clone())
                    .unwrap_or_else(|| member.user_id.clone()),
                email: member.email.clone().unwrap_or_default(),
            },
            permissions,
        })
    }

    /// The platform's name and environments, remembered briefly per platform: every page's shell
    /// shows them, and they were two of a members page's five calls. Given only to a token that
    /// names `platform:read`, which lets it read both itself; anyone else's shell asks the API.
    async fn platform(
        request: &MemberRequest,
        held: &[String],
        current: &EnvironmentSlug,
    ) -> Result<Arc<ShellPlatform>, ApiError> {
        let organization = &request.member().organization_id;
        let remembered = &request.bff().shell_platforms;
        let shared = crate::api::permissions::shares_remembered(
            held,
            crate::api::permissions::PLATFORM_READ,
        );
        // A list without the session's environment predates it (created through another
        // replica, then switched to): read afresh rather than show another one as chosen.
        let kept = remembered.get(organization).filter(|platform| {
            shared
                && platform
                    .environments
                    .iter()
                    .any(|environment| &environment.slug == current)
        });
        if let Some(platform) = kept {
            request
                .follow_listed_environment(platform.environments.iter().cloned())
                .await?;
            return Ok(platform);
        }
        let (platform, environments) = tokio::join!(request.platform(), request.environments());
        let platform = Arc::new(ShellPlatform {
            name: platform?.name,
            environments: environments?,
        });
        if let Some(ticket) = request.shell_ticket().filter(|_| shared) {
            remembered.remember(organization, ticket, platform.clone());
        }
        Ok(platform)
    }

    /// A change to an environment or to the platform's profile: what this replica remembers for
    /// the shell is out of date, whatever the change's outcome (see `forgetting_after`).
    pub async fn changing_platform<T>(
        request: &MemberRequest,
        change: impl std::future::Future<Output = T>,
    ) -> T {
        crate::server::remembered::forgetting_after(change, || {
            request
                .bff()
                .shell_platforms
                .forget(&request.member().organization_id)
        })
        .await
    }

    pub async fn current_session() -> Result<SessionView, ApiError> {
        let request = MemberRequest::current()?;
        let permissions = request.permissions().await?;
        let environment = request.environment().await?;
        let member = request.member().clone();
        Ok(SessionView {
            user_id: member.user_id,
            name: member.name,
            email: member.email,
            picture: member.picture,
            organization_id: member.organization_id,
            permissions,
            environment,
        })
    }

    pub async fn switch_environment(slug: String) -> Result<EnvironmentSlug, ApiError> {
        let slug = EnvironmentSlug::parse(&slug)
            .map_err(|error| ApiError::BadRequest(format!("Unknown environment: {error}.")))?;
        let request = MemberRequest::current()?;
        request.switch_environment(&slug).await?;
        Ok(slug)
    }
}
