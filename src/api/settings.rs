//! Settings > General: the platform's profile (name, logo, support contacts), edited with
//! `PATCH /v1/platforms/me`, and each environment's M2M client.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{ApiError, FieldError, PlatformRecord};
use crate::domain::{Email, EnvironmentSlug, WebUrl};

/// The API's bound on the platform's name.
pub const NAME_MAX_CHARS: usize = 100;

/// The profile as stored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PlatformProfile {
    pub name: String,
    pub slug: String,
    pub logo_url: Option<String>,
    pub support_email: Option<String>,
    pub support_url: Option<String>,
}

impl From<PlatformRecord> for PlatformProfile {
    fn from(platform: PlatformRecord) -> Self {
        Self {
            name: platform.name,
            slug: platform.slug,
            logo_url: platform.logo_url,
            support_email: platform.support_email,
            support_url: platform.support_url,
        }
    }
}

/// An environment's machine-to-machine client: its id is public, its secret never leaves Auth0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentClient {
    pub name: String,
    pub slug: EnvironmentSlug,
    pub client_id: String,
    pub is_active: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GeneralSettings {
    pub profile: PlatformProfile,
    /// A section of its own: the profile stands without it.
    pub clients: Result<Vec<EnvironmentClient>, ApiError>,
    /// The member holds `platform:manage`.
    pub can_manage: bool,
}

fn field(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// The profile form's fields, checked, as the body of the `PATCH`: an emptied optional field is
/// sent as `null` (cleared), never left out (which would keep the old value). Every problem is
/// reported at once, in the form's order.
pub fn profile_update(
    name: &str,
    logo_url: &str,
    support_email: &str,
    support_url: &str,
) -> Result<serde_json::Value, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = name.trim();
    if name.is_empty() {
        errors.push(field("name", "Give the platform a name."));
    } else if name.chars().count() > NAME_MAX_CHARS {
        errors.push(field(
            "name",
            format!("The name is at most {NAME_MAX_CHARS} characters."),
        ));
    }
    let optional = |raw: &str| {
        Some(raw.trim())
            .filter(|raw| !raw.is_empty())
            .map(str::to_owned)
    };
    let logo_url = match optional(logo_url).map(|raw| WebUrl::parse_https(&raw)) {
        Some(Err(error)) => {
            errors.push(field("logo_url", format!("Logo: {error}")));
            None
        }
        other => other.and_then(Result::ok).map(String::from),
    };
    let support_email = match optional(support_email).map(|raw| Email::parse(&raw)) {
        Some(Err(error)) => {
            errors.push(field("support_email", format!("Support email: {error}")));
            None
        }
        other => other.and_then(Result::ok).map(String::from),
    };
    let support_url = match optional(support_url).map(|raw| WebUrl::parse(&raw)) {
        Some(Err(error)) => {
            errors.push(field("support_url", format!("Support page: {error}")));
            None
        }
        other => other.and_then(Result::ok).map(String::from),
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(serde_json::json!({
        "name": name,
        "logo_url": logo_url,
        "support_email": support_email,
        "support_url": support_url,
    }))
}

#[server(endpoint = "settings/general")]
pub async fn load_general_settings() -> Result<GeneralSettings, ApiError> {
    ssr::respond(ssr::load_general_settings().await)
}

#[server(endpoint = "settings/general/update")]
pub async fn update_platform_profile(
    name: String,
    logo_url: String,
    support_email: String,
    support_url: String,
) -> Result<PlatformProfile, ApiError> {
    ssr::respond(ssr::update_platform_profile(name, logo_url, support_email, support_url).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::server::member::respond;

    use super::*;
    use crate::{
        api::{permissions, EnvironmentDetail, Listed},
        server::{member::MemberRequest, upstream::paths},
    };

    pub async fn load_general_settings() -> Result<GeneralSettings, ApiError> {
        let request = MemberRequest::current()?;
        let request = &request;
        // Independent reads, sent together.
        let (platform, clients, can_manage) = tokio::join!(
            request.platform(),
            async {
                let listed = request.environment_listing::<EnvironmentDetail>().await?;
                Ok(listed
                    .into_iter()
                    .filter_map(Listed::parsed)
                    .map(|environment| EnvironmentClient {
                        name: environment.name,
                        slug: environment.slug,
                        client_id: environment.auth0_client_id,
                        is_active: environment.is_active,
                    })
                    .collect())
            },
            request.may(permissions::PLATFORM_MANAGE),
        );
        Ok(GeneralSettings {
            profile: platform?.into(),
            clients,
            can_manage: can_manage?,
        })
    }

    pub async fn update_platform_profile(
        name: String,
        logo_url: String,
        support_email: String,
        support_url: String,
    ) -> Result<PlatformProfile, ApiError> {
        let body = profile_update(&name, &logo_url, &support_email, &support_url)
            .map_err(ApiError::Validation)?;
        let request = MemberRequest::current()?;
        let saved: PlatformRecord = crate::api::changing_platform(
            &request,
            request.send_for(reqwest::Method::PATCH, paths::PLATFORM, Some(&body)),
        )
        .await?;
        Ok(saved.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_profile_becomes_the_patch_body_with_emptied_fields_cleared() {
        let body = profile_update(" Acme Payments ", "", " ops@ACME.example ", "").unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "name": "Acme Payments",
                "logo_url": null,
                "support_email": "ops@acme.example",
                "support_url": null,
            })
        );
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let errors = profile_update(
            "  ",
            "http://cdn.acme.example/logo.png",
            "ops at acme",
            "acme.example/help",
        )
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, ["name", "logo_url", "support_email", "support_url"]);
        assert!(errors[1].message.contains("https://"), "{:?}", errors[1]);
        let long = "x".repeat(NAME_MAX_CHARS + 1);
        assert!(profile_update(&long, "", "", "").is_err());
    }
}
