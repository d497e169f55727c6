//! Settings > Environments: the platform's environments, created, edited, deactivated and
//! reactivated through the KeyStone API.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{ApiError, FieldError, Listed, Warning};
use crate::domain::{EnvironmentSlug, Timestamp};

/// The API's bounds for `default_timeout_seconds`.
pub const TIMEOUT_RANGE: std::ops::RangeInclusive<i64> = 60..=604_800;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentDetail {
    pub id: String,
    pub name: String,
    pub slug: EnvironmentSlug,
    pub auth0_client_id: String,
    #[serde(default)]
    pub webhook_url: Option<String>,
    #[serde(default)]
    pub api_version: Option<String>,
    pub default_timeout_seconds: i64,
    pub is_active: bool,
    #[serde(default)]
    pub rate_limit_rpm: Option<u32>,
    pub created_at: Timestamp,
}

impl super::ShownAsStored for EnvironmentDetail {
    const FIELDS: &'static [&'static str] = &[
        "id",
        "name",
        "slug",
        "api_version",
        "default_timeout_seconds",
        "rate_limit_rpm",
        "auth0_client_id",
        "is_active",
    ];
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentsView {
    /// As listed; a record the dashboard cannot parse is shown as stored.
    pub environments: Vec<Listed<EnvironmentDetail>>,
    /// The member holds `environments:manage`.
    pub can_manage: bool,
}

/// What deactivating does, in words the confirmation shows.
pub fn deactivation_warning(slug: &EnvironmentSlug) -> Warning {
    let production = if slug.is_production() {
        " This is production: live integrations stop."
    } else {
        ""
    };
    Warning::new(format!(
        "Deactivating {slug} refuses its M2M credentials at once. Its data, allowlist and settings are kept, and it can be reactivated.{production}"
    ))
}

/// What saving an edit of `slug` means, when that needs a yes: production's name, timeout, rate
/// limit and webhook URL reach its live integrations the moment they are saved.
pub fn production_edit_warnings(slug: &EnvironmentSlug) -> Vec<Warning> {
    if slug.is_production() {
        vec![Warning::new(format!(
            "This changes {slug}: live integrations get the new settings at once."
        ))]
    } else {
        Vec::new()
    }
}

fn field(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Parses the optional numeric fields of the forms; empty means "not given".
pub fn parse_timeout(raw: Option<&str>) -> Result<Option<i64>, FieldError> {
    let Some(raw) = raw.map(str::trim).filter(|raw| !raw.is_empty()) else {
        return Ok(None);
    };
    match raw.parse::<i64>() {
        Ok(seconds) if TIMEOUT_RANGE.contains(&seconds) => Ok(Some(seconds)),
        _ => Err(field(
            "default_timeout_seconds",
            format!(
                "The default timeout is a whole number of seconds from {} to {}.",
                TIMEOUT_RANGE.start(),
                TIMEOUT_RANGE.end()
            ),
        )),
    }
}

pub fn parse_rate_limit(raw: Option<&str>) -> Result<Option<u32>, FieldError> {
    let Some(raw) = raw.map(str::trim).filter(|raw| !raw.is_empty()) else {
        return Ok(None);
    };
    raw.parse::<u32>()
        .ok()
        .filter(|rpm| *rpm > 0)
        .map(Some)
        .ok_or_else(|| {
            field(
                "rate_limit_rpm",
                "The rate limit is a whole number of requests per minute, at least 1.",
            )
        })
}

#[server(endpoint = "environments")]
pub async fn load_environments() -> Result<EnvironmentsView, ApiError> {
    ssr::respond(ssr::load_environments().await)
}

#[server(endpoint = "environments/create")]
pub async fn create_environment(
    name: String,
    slug: String,
    auth0_client_id: String,
    default_timeout_seconds: Option<String>,
    webhook_url: Option<String>,
    webhook_secret: Option<String>,
) -> Result<EnvironmentDetail, ApiError> {
    ssr::respond(
        ssr::create_environment(
            name,
            slug,
            auth0_client_id,
            default_timeout_seconds,
            ssr::WebhookFields {
                url: webhook_url,
                secret: webhook_secret,
            },
        )
        .await,
    )
}

#[server(endpoint = "environments/update")]
pub async fn update_environment(
    id: String,
    name: String,
    default_timeout_seconds: Option<String>,
    rate_limit_rpm: Option<String>,
    webhook_url: Option<String>,
    webhook_secret: Option<String>,
    confirm: Option<String>,
) -> Result<EnvironmentDetail, ApiError> {
    ssr::respond(
        ssr::update_environment(
            id,
            name,
            default_timeout_seconds,
            rate_limit_rpm,
            ssr::WebhookFields {
                url: webhook_url,
                secret: webhook_secret,
            },
            confirm,
        )
        .await,
    )
}

/// Deactivates (confirmation required: it cuts M2M traffic) or reactivates an environment.
#[server(endpoint = "environments/active")]
pub async fn set_environment_active(
    id: String,
    active: bool,
    confirm: Option<String>,
) -> Result<EnvironmentDetail, ApiError> {
    ssr::respond(ssr::set_environment_active(id, active, confirm).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::server::member::respond;

    use super::*;
    use crate::server::{member::MemberRequest, upstream::paths};

    /// An environment's webhook fields as the forms send them.
    pub struct WebhookFields {
        pub url: Option<String>,
        /// Write-only in the API [doc]: never read back, so the forms start it empty, and an empty
        /// one leaves the stored secret as it is.
        pub secret: Option<String>,
    }

    pub async fn load_environments() -> Result<EnvironmentsView, ApiError> {
        let request = MemberRequest::current()?;
        let environments = request.environment_listing::<EnvironmentDetail>().await?;
        let can_manage = request
            .may(crate::api::permissions::ENVIRONMENTS_MANAGE)
            .await?;
        Ok(EnvironmentsView {
            environments,
            can_manage,
        })
    }

    /// The problems found, in the order the forms show their fields.
    fn invalid(mut errors: Vec<FieldError>) -> ApiError {
        const FORM_ORDER: [&str; 7] = [
            "name",
            "slug",
            "auth0_client_id",
            "default_timeout_seconds",
            "rate_limit_rpm",
            "webhook_url",
            "webhook_secret",
        ];
        errors.sort_by_key(|error| FORM_ORDER.iter().position(|field| *field == error.field));
        ApiError::Validation(errors)
    }

    /// The fields both forms share (name, default timeout, webhook URL and secret), checked, as
    /// the body of the API call; each problem is added to `errors`, next to its field.
    fn shared_fields(
        name: &str,
        default_timeout_seconds: Option<&str>,
        webhook: WebhookFields,
        errors: &mut Vec<FieldError>,
    ) -> serde_json::Value {
        if name.trim().is_empty() {
            errors.push(field("name", "Give the environment a name."));
        }
        // A web address, said beside the field, before the API is asked: a `gopher://` or a typo
        // would otherwise come back as the API's generic refusal.
        let webhook_url = webhook
            .url
            .map(|url| url.trim().to_owned())
            .filter(|url| !url.is_empty())
            .and_then(|url| match crate::domain::WebUrl::parse(&url) {
                Ok(_) => Some(url),
                Err(message) => {
                    errors.push(field("webhook_url", message));
                    None
                }
            });
        let mut body = serde_json::json!({ "name": name.trim(), "webhook_url": webhook_url });
        // Sent only when one was typed: the API never says whether a secret is set, so an empty
        // field means "keep it", never "clear it". Sent as typed or refused, never trimmed: a
        // space at an end is more likely pasted than meant, but a receiver that kept it would
        // fail every signature against a trimmed copy.
        match webhook.secret.as_deref().filter(|secret| !secret.is_empty()) {
            Some(secret) if secret.trim() != secret => errors.push(field(
                "webhook_secret",
                "The signing secret starts or ends with a space or a line break: check what was pasted.",
            )),
            Some(secret) => body["webhook_secret"] = secret.into(),
            None => {}
        }
        // Not nullable in the API (an integer defaulting to 3600): left blank, it is left out.
        match parse_timeout(default_timeout_seconds) {
            Ok(Some(timeout)) => body["default_timeout_seconds"] = timeout.into(),
            Ok(None) => {}
            Err(error) => errors.push(error),
        }
        body
    }

    pub async fn create_environment(
        name: String,
        slug: String,
        auth0_client_id: String,
        default_timeout_seconds: Option<String>,
        webhook: WebhookFields,
    ) -> Result<EnvironmentDetail, ApiError> {
        let mut errors = Vec::new();
        if let Err(error) = EnvironmentSlug::parse(slug.trim()) {
            errors.push(field("slug", format!("The slug is not valid: {error}.")));
        }
        if auth0_client_id.trim().is_empty() {
            errors.push(field("auth0_client_id", "The M2M client id is required."));
        }
        let mut body = shared_fields(
            &name,
            default_timeout_seconds.as_deref(),
            webhook,
            &mut errors,
        );
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        body["slug"] = slug.trim().into();
        body["auth0_client_id"] = auth0_client_id.trim().into();
        let request = MemberRequest::current()?;
        change(
            &request,
            reqwest::Method::POST,
            paths::ENVIRONMENTS,
            Some(&body),
        )
        .await
    }

    pub async fn update_environment(
        id: String,
        name: String,
        default_timeout_seconds: Option<String>,
        rate_limit_rpm: Option<String>,
        webhook: WebhookFields,
        confirm: Option<String>,
    ) -> Result<EnvironmentDetail, ApiError> {
        let environment_id = crate::domain::ResourceId::parse(&id)?;
        let mut errors = Vec::new();
        let mut body = shared_fields(
            &name,
            default_timeout_seconds.as_deref(),
            webhook,
            &mut errors,
        );
        match parse_rate_limit(rate_limit_rpm.as_deref()) {
            // `null` clears the limit back to the default.
            Ok(rate_limit) => body["rate_limit_rpm"] = serde_json::json!(rate_limit),
            Err(error) => errors.push(error),
        }
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        let request = MemberRequest::current()?;
        // Which environment the id names is the API's word, not the form's: a hand-made post
        // cannot skip production's confirmation by leaving it out.
        let environment = request.environment_by_id(&id).await?;
        crate::server::member::require_confirmation(
            &production_edit_warnings(&environment.slug),
            confirm.as_deref(),
        )?;
        change(
            &request,
            reqwest::Method::PATCH,
            &paths::environment(&environment_id),
            Some(&body),
        )
        .await
    }

    pub async fn set_environment_active(
        id: String,
        active: bool,
        confirm: Option<String>,
    ) -> Result<EnvironmentDetail, ApiError> {
        let environment_id = crate::domain::ResourceId::parse(&id)?;
        let request = MemberRequest::current()?;
        if !active {
            let environment = request.environment_by_id(&id).await?;
            crate::server::member::require_confirmation(
                &[deactivation_warning(&environment.slug)],
                confirm.as_deref(),
            )?;
        }
        let path = paths::environment(&environment_id);
        if active {
            let body = serde_json::json!({ "is_active": true });
            change(&request, reqwest::Method::PATCH, &path, Some(&body)).await
        } else {
            change(&request, reqwest::Method::DELETE, &path, None).await
        }
    }

    /// Every change to an environment: the shell's switcher lists them (see `changing_platform`).
    async fn change(
        request: &MemberRequest,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<EnvironmentDetail, ApiError> {
        crate::api::changing_platform(request, request.send_for(method, path, body)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_fields_are_checked_with_clear_messages() {
        assert_eq!(parse_timeout(Some("")), Ok(None));
        assert_eq!(parse_timeout(Some(" 3600 ")), Ok(Some(3600)));
        assert!(parse_timeout(Some("59"))
            .unwrap_err()
            .message
            .contains("60 to 604800"));
        assert!(parse_timeout(Some("soon")).is_err());
        assert_eq!(parse_rate_limit(None), Ok(None));
        assert_eq!(parse_rate_limit(Some("1200")), Ok(Some(1200)));
        assert!(parse_rate_limit(Some("0")).is_err());
    }

    #[test]
    fn deactivating_production_says_so() {
        let production = EnvironmentSlug::parse("production").unwrap();
        assert!(deactivation_warning(&production)
            .text()
            .contains("This is production"));
        assert!(
            deactivation_warning(&EnvironmentSlug::parse("staging").unwrap())
                .text()
                .contains("M2M credentials")
        );
    }
}
