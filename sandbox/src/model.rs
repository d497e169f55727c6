//! The resources of the KeyStone API as the sandbox stores them (contract section 3).

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Platform {
    pub id: Uuid,
    pub auth0_org_id: Option<String>,
    pub name: String,
    pub slug: String,
    pub status: PlatformStatus,
    pub logo_url: Option<String>,
    pub support_email: Option<String>,
    pub support_url: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub onboarding_completed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlatformStatus {
    Active,
    Suspended,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Environment {
    pub id: Uuid,
    pub platform_id: Uuid,
    pub name: String,
    pub slug: String,
    pub auth0_client_id: String,
    pub webhook_url: Option<String>,
    /// Write-only on the API: stored, never returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
    pub api_version: Option<String>,
    pub default_timeout_seconds: i64,
    pub is_active: bool,
    pub rate_limit_rpm: Option<u32>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Environment {
    /// The API's view: everything but the write-only secret.
    pub fn public(&self) -> Environment {
        Environment {
            webhook_secret: None,
            ..self.clone()
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub description: String,
    pub permissions: Vec<String>,
}

/// A role as the API returns it. `permissions` is left out entirely where the API does not reveal
/// them (Auth0 organization roles carry none; `--sandbox-roles-without-permissions`).
#[derive(Clone, Debug, Serialize)]
pub struct RoleView {
    pub id: String,
    pub name: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
}

impl From<Role> for RoleView {
    fn from(role: Role) -> Self {
        Self {
            id: role.id,
            name: role.name,
            description: role.description,
            permissions: Some(role.permissions),
        }
    }
}

/// A person known to the identity provider; a member of the platform while `role_ids` is held there.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Person {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub picture: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Membership {
    pub user_id: String,
    pub role_ids: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub joined_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_login_at: Option<OffsetDateTime>,
}

/// A member as the API returns it.
#[derive(Clone, Debug, Serialize)]
pub struct MemberView {
    pub user_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub picture: Option<String>,
    pub roles: Vec<RoleView>,
    #[serde(with = "time::serde::rfc3339")]
    pub joined_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_login_at: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Invitation {
    pub id: String,
    pub invitee_email: String,
    pub inviter_name: String,
    pub role_ids: Vec<String>,
    pub send_email: bool,
    /// The secret part of the invitation link.
    pub ticket: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub invitation_url: String,
}

/// An invitation as the API returns it (`roles` are role names, or role ids under
/// `--sandbox-invitation-roles-as-ids`).
#[derive(Clone, Debug, Serialize)]
pub struct InvitationView {
    pub id: String,
    pub invitee_email: String,
    pub inviter_name: String,
    pub roles: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub invitation_url: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AllowlistEntry {
    pub id: Uuid,
    pub environment_id: Uuid,
    pub cidr: IpNet,
    pub description: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub created_by: String,
}

/// An activity entry as the sandbox stores it. System, settlement and compliance entries have no
/// actor id and no request fields, so those are optional.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ActivityEntry {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    pub category: String,
    pub severity: String,
    pub description: String,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    /// Kept for the `environment_id` filter; never on the wire (see [`ActivityEntryView`]).
    pub environment_id: Option<Uuid>,
    pub method: Option<String>,
    pub path: Option<String>,
    pub status_code: Option<u16>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub duration_ms: Option<u64>,
    pub detail: Option<serde_json::Value>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// An activity entry as the API returns it: every field of the stored entry but its environment,
/// which the published entry does not carry (only the staff-only admin variant does). Nullable
/// fields are sent as `null`, never left out.
#[derive(Clone, Debug, Serialize)]
pub struct ActivityEntryView {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    pub category: String,
    pub severity: String,
    pub description: String,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub method: Option<String>,
    pub path: Option<String>,
    pub status_code: Option<u16>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub duration_ms: Option<u64>,
    pub detail: Option<serde_json::Value>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<ActivityEntry> for ActivityEntryView {
    fn from(entry: ActivityEntry) -> Self {
        Self {
            id: entry.id,
            kind: entry.kind,
            category: entry.category,
            severity: entry.severity,
            description: entry.description,
            actor_type: entry.actor_type,
            actor_id: entry.actor_id,
            resource_type: entry.resource_type,
            resource_id: entry.resource_id,
            method: entry.method,
            path: entry.path,
            status_code: entry.status_code,
            ip_address: entry.ip_address,
            user_agent: entry.user_agent,
            duration_ms: entry.duration_ms,
            detail: entry.detail,
            created_at: entry.created_at,
        }
    }
}

/// A machine-to-machine client: one per environment, bound to it by `client_id == auth0_client_id`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct M2mClient {
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Vec<String>,
}

/// The `{"items": [...], "total", "limit", "offset"}` envelope of every list.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
}

/// A webhook endpoint as the API returns it (the secret is never part of it).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<String>,
    pub is_active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// An endpoint with its signing secrets, as the sandbox stores it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredWebhook {
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    pub secret: String,
    /// The secret before the last rotation, and until when deliveries are signed with it too.
    pub previous_secret: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub previous_secret_valid_until: Option<OffsetDateTime>,
}

/// One attempt to deliver an event to an endpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WebhookDelivery {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event: String,
    pub response_status: Option<u16>,
    pub duration_ms: Option<u64>,
    pub success: bool,
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}
