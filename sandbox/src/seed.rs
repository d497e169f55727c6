//! The believable demo the sandbox starts with: Acme Markets, its three environments, four roles,
//! a dozen members, two pending invitations, a production allowlist and a week of settlement,
//! compliance and system activity.

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    model::{
        ActivityEntry, AllowlistEntry, Environment, Invitation, M2mClient, Membership, Person,
        Platform, PlatformStatus, Role, StoredWebhook, WebhookDelivery, WebhookEndpoint,
    },
    permissions,
    world::Data,
};

pub const ORG_ID: &str = "org_acme_markets";
pub const ORG_NAME: &str = "Acme Markets";

/// Seeded ids are derived from names, so they are the same in every run (links and tests can name them).
fn stable_id(name: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!("keystone-sandbox:{name}").as_bytes(),
    )
}

/// The M2M client id of a seeded environment (`sandbox-m2m-production`, ...).
pub fn m2m_client_id(slug: &str) -> String {
    format!("sandbox-m2m-{slug}")
}

/// The M2M client secret of a seeded environment; printed at start, never a real secret.
pub fn m2m_client_secret(slug: &str) -> String {
    format!("sandbox-m2m-secret-{slug}")
}

/// The seeded people: (user id, name, email, role ids). The first is the platform's founder.
pub const PEOPLE: [(&str, &str, &str, &[&str]); 12] = [
    (
        "auth0|acme-ada",
        "Ada Okafor",
        "ada@acme-markets.example",
        &["rol_platform_manager"],
    ),
    (
        "auth0|acme-ben",
        "Ben Carter",
        "ben@acme-markets.example",
        &["rol_developer"],
    ),
    (
        "auth0|acme-chloe",
        "Chloé Martin",
        "chloe@acme-markets.example",
        &["rol_compliance_officer"],
    ),
    (
        "auth0|acme-dmitri",
        "Dmitri Volkov",
        "dmitri@acme-markets.example",
        &["rol_viewer"],
    ),
    (
        "auth0|acme-eve",
        "Eve Nakamura",
        "eve@acme-markets.example",
        &["rol_developer", "rol_viewer"],
    ),
    (
        "auth0|acme-farid",
        "Farid Haddad",
        "farid@acme-markets.example",
        &["rol_developer"],
    ),
    (
        "auth0|acme-grace",
        "Grace Lin",
        "grace@acme-markets.example",
        &["rol_platform_manager"],
    ),
    (
        "auth0|acme-hugo",
        "Hugo Silva",
        "hugo@acme-markets.example",
        &["rol_compliance_officer"],
    ),
    (
        "auth0|acme-ines",
        "Inès Dubois",
        "ines@acme-markets.example",
        &["rol_viewer"],
    ),
    (
        "auth0|acme-jonas",
        "Jonas Berg",
        "jonas@acme-markets.example",
        &["rol_developer"],
    ),
    (
        "auth0|acme-kemi",
        "Kemi Adeyemi",
        "kemi@acme-markets.example",
        &["rol_compliance_officer", "rol_viewer"],
    ),
    (
        "auth0|acme-liam",
        "Liam O'Brien",
        "liam@acme-markets.example",
        &["rol_viewer"],
    ),
];

/// A person outside the platform, to show what a non-member sees at sign-in.
pub const OUTSIDER: (&str, &str, &str) = (
    "auth0|outsider-olga",
    "Olga Petrova",
    "olga@elsewhere.example",
);

pub fn seed(now: OffsetDateTime, dashboard_url: &str, extra_members: usize) -> Data {
    let platform_id = stable_id("platform");
    let platform = Platform {
        id: platform_id,
        auth0_org_id: Some(ORG_ID.to_owned()),
        name: ORG_NAME.to_owned(),
        slug: "acme-markets".to_owned(),
        status: PlatformStatus::Active,
        logo_url: None,
        support_email: Some("support@acme-markets.example".to_owned()),
        support_url: Some("https://acme-markets.example/support".to_owned()),
        onboarding_completed_at: Some(now - Duration::days(90)),
        created_at: now - Duration::days(120),
        updated_at: now - Duration::days(30),
    };

    let environments: Vec<Environment> = [
        ("development", "Development", Some("0.1.0"), None),
        ("staging", "Staging", Some("0.1.0"), None),
        ("production", "Production", Some("0.1.0"), Some(1200)),
    ]
    .into_iter()
    .map(|(slug, name, api_version, rate_limit_rpm)| Environment {
        id: stable_id(&format!("environment:{slug}")),
        platform_id,
        name: name.to_owned(),
        slug: slug.to_owned(),
        auth0_client_id: m2m_client_id(slug),
        webhook_url: Some(format!(
            "https://hooks.acme-markets.example/keystone/{slug}"
        )),
        webhook_secret: Some(format!("whsec_sandbox_{slug}")),
        api_version: api_version.map(str::to_owned),
        default_timeout_seconds: 3600,
        is_active: true,
        rate_limit_rpm,
        created_at: now - Duration::days(120),
        updated_at: now - Duration::days(10),
    })
    .collect();

    let m2m_clients = environments
        .iter()
        .map(|environment| M2mClient {
            client_id: environment.auth0_client_id.clone(),
            client_secret: m2m_client_secret(&environment.slug),
            scopes: permissions::M2M_SCOPES
                .iter()
                .map(|scope| scope.to_string())
                .collect(),
        })
        .collect();

    let roles = permissions::seeded_roles()
        .into_iter()
        .map(|(id, name, description, granted)| Role {
            id: id.to_owned(),
            name: name.to_owned(),
            description: description.to_owned(),
            permissions: granted.into_iter().map(str::to_owned).collect(),
        })
        .collect();

    let mut people = Vec::new();
    let mut memberships = Vec::new();
    for (index, (user_id, name, email, role_ids)) in PEOPLE.iter().enumerate() {
        people.push(Person {
            user_id: user_id.to_string(),
            email: email.to_string(),
            name: name.to_string(),
            picture: None,
        });
        memberships.push(Membership {
            user_id: user_id.to_string(),
            role_ids: role_ids.iter().map(|id| id.to_string()).collect(),
            joined_at: now - Duration::days(100 - 7 * index as i64),
            last_login_at: (index % 3 != 2).then(|| now - Duration::hours(5 + 11 * index as i64)),
        });
    }
    for index in 0..extra_members {
        let user_id = format!("auth0|generated-{index:05}");
        people.push(Person {
            user_id: user_id.clone(),
            email: format!("member{index:05}@acme-markets.example"),
            name: format!("Generated Member {index:05}"),
            picture: None,
        });
        memberships.push(Membership {
            user_id,
            role_ids: vec!["rol_viewer".to_owned()],
            joined_at: now - Duration::days(60) + Duration::minutes(index as i64),
            last_login_at: None,
        });
    }
    let (outsider_id, outsider_name, outsider_email) = OUTSIDER;
    people.push(Person {
        user_id: outsider_id.to_owned(),
        email: outsider_email.to_owned(),
        name: outsider_name.to_owned(),
        picture: None,
    });

    let invitation = |id: &str, email: &str, role: &str, age: Duration| {
        let ticket = format!("sandbox-ticket-{id}");
        let created_at = now - age;
        Invitation {
            id: format!("uinv_{id}"),
            invitee_email: email.to_owned(),
            inviter_name: "Ada Okafor".to_owned(),
            role_ids: vec![role.to_owned()],
            send_email: true,
            invitation_url: invitation_url(dashboard_url, &ticket),
            ticket,
            created_at,
            expires_at: created_at + Duration::days(7),
        }
    };
    let invitations = vec![
        invitation(
            "seeded-nora",
            "nora@acme-markets.example",
            "rol_developer",
            Duration::days(2),
        ),
        // Created 6 days and 20 hours ago: expires within the next 4 hours.
        invitation(
            "seeded-omar",
            "omar@partner.example",
            "rol_viewer",
            Duration::days(6) + Duration::hours(20),
        ),
    ];

    let production = environments
        .iter()
        .find(|environment| environment.slug == "production")
        .expect("seeded");
    let allowlist = [
        ("203.0.113.0/24", "Head office"),
        ("198.51.100.17/32", "Settlement worker (eu-west)"),
        ("2001:db8:ac3e::/48", "Head office IPv6"),
    ]
    .into_iter()
    .map(|(cidr, description)| AllowlistEntry {
        id: stable_id(&format!("allowlist:{cidr}")),
        environment_id: production.id,
        cidr: cidr.parse().expect("seeded networks are valid"),
        description: Some(description.to_owned()),
        created_at: now - Duration::days(45),
        created_by: "auth0|acme-ada".to_owned(),
    })
    .collect();

    let activity = activity(now, &environments);
    Data {
        platform,
        environments,
        roles,
        people,
        memberships,
        invitations,
        allowlist,
        activity,
        m2m_clients,
        webhooks: vec![seeded_webhook(now)],
        webhook_deliveries: seeded_deliveries(now),
        refresh_tokens: Default::default(),
        provider_sessions: Default::default(),
    }
}

/// The endpoint the seeded platform's backend receives settlement events on. Its host does not
/// exist: a test sent from the dashboard fails, as it would for a receiver that is down.
fn seeded_webhook(now: OffsetDateTime) -> StoredWebhook {
    StoredWebhook {
        endpoint: WebhookEndpoint {
            id: stable_id("webhook-settlements"),
            url: "https://hooks.acme-markets.example/keystone/settlements".to_owned(),
            description: Some("Settlement state changes for the ledger service".to_owned()),
            events: vec!["settlement.*".to_owned()],
            is_active: true,
            created_at: now - Duration::days(60),
            updated_at: now - Duration::days(60),
        },
        secret: "whsec_sandbox_settlements".to_owned(),
        previous_secret: None,
        previous_secret_valid_until: None,
    }
}

/// Oldest first: two deliveries that arrived and one the receiver refused.
fn seeded_deliveries(now: OffsetDateTime) -> Vec<WebhookDelivery> {
    [
        ("settlement.completed", Some(200), Some(84), true, None, 3),
        (
            "settlement.failed",
            Some(500),
            Some(1_204),
            false,
            Some("The endpoint answered 500 Internal Server Error"),
            2,
        ),
        ("settlement.completed", Some(200), Some(91), true, None, 1),
    ]
    .into_iter()
    .enumerate()
    .map(
        |(index, (event, status, duration, success, error, days_ago))| WebhookDelivery {
            id: stable_id(&format!("webhook-delivery-{index}")),
            endpoint_id: stable_id("webhook-settlements"),
            event: event.to_owned(),
            response_status: status,
            duration_ms: duration,
            success,
            error: error.map(str::to_owned),
            created_at: now - Duration::days(days_ago),
        },
    )
    .collect()
}

/// Entries no person made: settlements, compliance screening and the platform's own events. Like the
/// real API's, they have no actor id and no request fields (method, path, status, address, agent,
/// duration), and some have no resource or detail either, so a client meets every nullable field
/// as `null` from the first page it opens. Oldest first, spread over the environments.
fn activity(now: OffsetDateTime, environments: &[Environment]) -> Vec<ActivityEntry> {
    let environment = |slug: &str| {
        environments
            .iter()
            .find(|environment| environment.slug == slug)
            .map(|environment| environment.id)
    };
    let settlement = |name: &str| {
        Some((
            "settlement",
            stable_id(&format!("settlement:{name}")).to_string(),
        ))
    };
    let entries = [
        (
            Duration::days(6),
            "system.maintenance_completed",
            "info",
            "Scheduled maintenance of the settlement engine completed without downtime",
            None,
            None,
            None,
        ),
        (
            Duration::days(5),
            "settlement.completed",
            "info",
            "Settlement of 250,000.00 USD completed (delivery versus payment)",
            environment("production"),
            settlement("acme-0001"),
            Some(serde_json::json!({ "amount": "250000.00", "currency": "USD" })),
        ),
        (
            Duration::days(4),
            "compliance.screening_flagged",
            "warning",
            "Sanctions screening flagged a counterparty; the settlement awaits a compliance decision",
            environment("production"),
            settlement("acme-0002"),
            Some(serde_json::json!({ "list": "sanctions", "match_score": 0.87 })),
        ),
        (
            Duration::days(3),
            "settlement.timed_out",
            "warning",
            "Settlement timed out after 3600 seconds without both legs funded",
            environment("staging"),
            settlement("acme-0003"),
            Some(serde_json::json!({ "timeout_seconds": 3600 })),
        ),
        (
            Duration::days(2),
            "system.webhook_delivery_failed",
            "error",
            "Webhook delivery failed: the endpoint answered 503",
            environment("development"),
            None,
            Some(serde_json::json!({ "response_status": 503 })),
        ),
        (
            Duration::days(1),
            "settlement.failed",
            "error",
            "Settlement failed: the counterparty rejected the instruction",
            environment("production"),
            settlement("acme-0004"),
            None,
        ),
        (
            Duration::hours(20),
            "compliance.review_required",
            "warning",
            "A compliance review is due for settlements above the reporting threshold",
            environment("staging"),
            None,
            None,
        ),
        (
            Duration::hours(6),
            "system.rate_limit_exceeded",
            "warning",
            "The environment exceeded its rate limit for one minute",
            environment("development"),
            None,
            None,
        ),
    ];
    entries
        .into_iter()
        .enumerate()
        .map(
            |(index, (age, kind, severity, description, environment_id, resource, detail))| {
                ActivityEntry {
                    id: stable_id(&format!("activity:{index}")),
                    kind: kind.to_owned(),
                    category: kind.split('.').next().unwrap_or("system").to_owned(),
                    severity: severity.to_owned(),
                    description: description.to_owned(),
                    actor_type: "system".to_owned(),
                    actor_id: None,
                    resource_type: resource.as_ref().map(|(kind, _)| kind.to_string()),
                    resource_id: resource.map(|(_, id)| id),
                    environment_id,
                    method: None,
                    path: None,
                    status_code: None,
                    ip_address: None,
                    user_agent: None,
                    duration_ms: None,
                    detail,
                    created_at: now - age,
                }
            },
        )
        .collect()
}

/// `<dashboard login route>?invitation=<ticket>&organization=<org_id>&organization_name=<name>`, as Auth0 builds it.
pub fn invitation_url(dashboard_url: &str, ticket: &str) -> String {
    let query = serde_urlencoded::to_string([
        ("invitation", ticket),
        ("organization", ORG_ID),
        ("organization_name", ORG_NAME),
    ])
    .expect("static query encodes");
    format!("{}/auth/login?{query}", dashboard_url.trim_end_matches('/'))
}
