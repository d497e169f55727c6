//! Team pages: members and their roles, invitations, and the roles themselves.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{ApiError, Warning};
use crate::domain::Timestamp;

/// Members per page.
pub const MEMBERS_PAGE_SIZE: u64 = 50;
/// Pending invitations read at most (a bound on the paging; the page says when it is reached).
pub const MAX_INVITATIONS: usize = 1_000;
/// The role whose last holder may not be removed or demoted.
pub const PLATFORM_MANAGER: &str = "Platform Manager";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Role {
    pub id: String,
    pub name: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub description: String,
    /// `None` when the API does not reveal what a role grants (Auth0 organization roles carry no
    /// permissions): the page then says so instead of showing an empty matrix. Also `None` for a
    /// list of another shape (Auth0's own API gives objects): the field is not published, and a
    /// role that cannot say what it grants must still be listed, held and given.
    #[serde(default, deserialize_with = "names_or_unknown")]
    pub permissions: Option<Vec<String>>,
}

fn names_or_unknown<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<String>>, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok().flatten())
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

/// A role as a member's record holds it. The API sends the whole Role there; the page names it
/// and ticks it by id, and what it allows comes from the role list. Read narrowly, the
/// description and permissions of each member's roles are neither kept nor sent to the browser
/// again in the page's data (on /members they were 40 % of it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeldRole {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub picture: Option<String>,
    pub roles: Vec<HeldRole>,
    #[serde(default)]
    pub joined_at: Option<Timestamp>,
    #[serde(default)]
    pub last_login_at: Option<Timestamp>,
}

/// A member's row shown as stored names the person; their roles are what did not parse, most likely.
impl super::ShownAsStored for Member {
    const FIELDS: &'static [&'static str] = &["user_id", "name", "email"];
}

impl Member {
    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.email.clone())
            .unwrap_or_else(|| self.user_id.clone())
    }

    pub fn is_platform_manager(&self) -> bool {
        self.roles.iter().any(|role| role.name == PLATFORM_MANAGER)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: String,
    pub invitee_email: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub inviter_name: String,
    /// As the API lists them: role ids or role names (which one is not published).
    pub roles: Vec<String>,
    /// Each of `roles` as a role name, matched against the role list by id, then by name; one that
    /// matches neither is shown as stored. Worked out on the server.
    #[serde(default)]
    pub role_names: Vec<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub invitation_url: String,
    /// "in 3 days", "in 2 hours", "expired": worked out on the server when the page is loaded.
    #[serde(default)]
    pub expires_label: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MembersView {
    /// A member the dashboard cannot read (a role without a name, say) is shown as stored,
    /// without actions, and the rest of the page stands.
    pub members: Vec<super::Listed<Member>>,
    pub total: u64,
    pub offset: u64,
    pub search: String,
    /// Each read on its own: the members table stands when the roles or invitations fail.
    pub roles: Result<Vec<Role>, ApiError>,
    pub invitations: Result<Vec<Invitation>, ApiError>,
    /// The signed-in member's user id (nobody may change or remove themselves).
    pub me: String,
    pub can_manage: bool,
    /// How many members hold the Platform Manager role: exact below two, possibly short of the
    /// total above (the guardrail only asks whether someone is the last one). Counted only for
    /// members who may manage, the only ones shown the guardrails; `Some(0)` otherwise. `None`
    /// when the count could not be read: the page stands, the controls stay offered, and the
    /// API (and the BFF's own check before a removal) still refuses to lose the last one.
    pub manager_count: Option<usize>,
}

/// Why an action on a member is not available, if it is not (shown before the API would refuse).
pub fn member_guardrail(member: &Member, me: &str, manager_count: Option<usize>) -> Option<String> {
    if member.user_id == me {
        return Some(
            "You cannot change or remove yourself; ask another Platform Manager.".to_owned(),
        );
    }
    if member.is_platform_manager() && manager_count.is_some_and(|count| count <= 1) {
        return Some("The last Platform Manager cannot be removed or demoted.".to_owned());
    }
    None
}

/// The outcome of inviting one address.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InviteOutcome {
    pub email: String,
    pub result: Result<(), String>,
    /// The invitation was sent and the API's answer is unknown: it may exist. Shown as such, never
    /// as "not invited".
    #[serde(default)]
    pub unconfirmed: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RolesView {
    pub roles: Vec<Role>,
    /// Members holding each role, in the order of `roles`; an error when the members could not be
    /// read (the roles are shown all the same).
    pub member_counts: Result<Vec<usize>, ApiError>,
    /// Every permission any role grants, in a stable order; `None` when the API reveals no
    /// role's permissions.
    pub permissions: Option<Vec<String>>,
}

/// The role an invitation's `roles` entry names: by id first, then by name (whether the API lists
/// ids or names is not published).
pub fn match_role<'a>(entry: &str, roles: &'a [Role]) -> Option<&'a Role> {
    roles
        .iter()
        .find(|role| role.id == entry)
        .or_else(|| roles.iter().find(|role| role.name == entry))
}

/// The role ids for an invitation's `roles`. The entries that match no role are the error:
/// re-inviting without them would quietly give less access than was meant.
pub fn invitation_role_ids(listed: &[String], roles: &[Role]) -> Result<Vec<String>, Vec<String>> {
    let mut ids = Vec::new();
    let mut unmatched = Vec::new();
    for entry in listed {
        match match_role(entry, roles) {
            Some(role) => ids.push(role.id.clone()),
            None => unmatched.push(entry.clone()),
        }
    }
    if unmatched.is_empty() {
        Ok(ids)
    } else {
        Err(unmatched)
    }
}

/// The names to show for an invitation's `roles` (an entry that matches no role, as stored).
pub fn invitation_role_names(listed: &[String], roles: &[Role]) -> Vec<String> {
    listed
        .iter()
        .map(|entry| {
            match_role(entry, roles).map_or_else(|| entry.clone(), |role| role.name.clone())
        })
        .collect()
}

/// Why an invitation list is refused as a whole: more entries (addresses, typos and repeats alike)
/// than one form takes. Shown beside the field as the list is typed, and said again by the server.
pub fn too_many_invites(entries: usize) -> Option<String> {
    (entries > crate::domain::MAX_INVITES_AT_ONCE).then(|| {
        format!(
            "Invite at most {} people at once; this list has {entries} entries.",
            crate::domain::MAX_INVITES_AT_ONCE
        )
    })
}

/// What removing a member means (the dialog names them).
pub fn removal_warning() -> Warning {
    Warning::new("They lose access to the platform at once; their activity stays in the log.")
}

/// What revoking an invitation means.
pub fn revocation_warning() -> Warning {
    Warning::new("The invitation link stops working at once.")
}

/// What resending means: the API has no resend, so it is a revoke and a new invitation, and the
/// link already sent (or copied from this page) is the one that stops working.
pub fn resend_warning(email: &str) -> Warning {
    Warning::new(format!(
        "The link sent to {email} stops working at once, and a new invitation is emailed to them."
    ))
}

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::server::member::respond;

    use super::*;
    use crate::api::FieldError;
    use crate::{
        api::Page,
        server::{member::MemberRequest, remembered::MembersRoles, upstream::paths},
    };
    use std::sync::Arc;

    /// More roles than any platform defines; a bound on the paging all the same.
    const MAX_ROLES: usize = 1_000;
    /// Pages of members read at most for counts (100 each: 50,000 members).
    const MAX_MEMBER_PAGES: usize = 500;

    pub async fn roles(request: &MemberRequest) -> Result<Vec<Role>, ApiError> {
        request.get_all(paths::ROLES, &[], MAX_ROLES).await
    }

    /// Which roles each member holds, from every member (paged through): the API gives no count
    /// of a role's members, and paging takes ten reads at 1,000 members. Remembered briefly per
    /// platform (see `crate::server::remembered` for why that is safe), and shared only with
    /// tokens that could read the members themselves.
    pub async fn members_roles(
        request: &MemberRequest,
        held_permissions: &[String],
    ) -> Result<MembersRoles, ApiError> {
        let read = async {
            let members = members_until(request, |_| false).await?;
            Ok(Arc::new(
                members.into_iter().map(|member| member.roles).collect(),
            ))
        };
        if !crate::api::permissions::shares_remembered(
            held_permissions,
            crate::api::permissions::MEMBERS_READ,
        ) {
            return read.await;
        }
        let platform = &request.member().organization_id;
        request
            .bff()
            .members_roles
            .get_or_read(platform, read)
            .await
    }

    /// Members holding the Platform Manager role, read only until a second one turns up: the
    /// guardrails only ask whether someone is the last one. Fewer than two means the whole list was
    /// read, so then the answer is exact.
    pub async fn platform_managers(request: &MemberRequest) -> Result<Vec<Member>, ApiError> {
        // Distinct people: an API that repeats a page must not make one manager count twice,
        // which would hide the "last Platform Manager" guardrail.
        let managers = |members: &[Member]| {
            let mut ids: Vec<&str> = members
                .iter()
                .filter(|member| member.is_platform_manager())
                .map(|member| member.user_id.as_str())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids.len()
        };
        let members = members_until(request, |members| managers(members) >= 2).await?;
        let mut managers: Vec<Member> = members
            .into_iter()
            .filter(Member::is_platform_manager)
            .collect();
        managers.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        managers.dedup_by(|a, b| a.user_id == b.user_id);
        Ok(managers)
    }

    /// How many Platform Managers the guardrails count with, remembered briefly per platform
    /// (see `crate::server::remembered` for why that is safe). Never used to allow a change.
    pub async fn manager_count(request: &MemberRequest) -> Result<usize, ApiError> {
        let platform = &request.member().organization_id;
        request
            .bff()
            .manager_counts
            .get_or_read(platform, async {
                Ok(platform_managers(request).await?.len())
            })
            .await
    }

    /// A change to a member: what this replica remembers of the list is out of date, whatever the
    /// change's outcome (see `forgetting_after`).
    pub async fn changing_members<T>(
        request: &MemberRequest,
        change: impl std::future::Future<Output = T>,
    ) -> T {
        crate::server::remembered::forgetting_after(change, || {
            let platform = &request.member().organization_id;
            request.bff().manager_counts.forget(platform);
            request.bff().members_roles.forget(platform);
            request.bff().member_names.forget(platform);
        })
        .await
    }

    /// Pages through the members until the list ends or `enough` says what was read suffices.
    async fn members_until(
        request: &MemberRequest,
        enough: impl Fn(&[Member]) -> bool,
    ) -> Result<Vec<Member>, ApiError> {
        let mut members = Vec::new();
        // Counted apart from `members`, which leaves out the odd ones.
        let mut read = 0;
        // A bound, as in `MemberRequest::get_all`: an API that overstates `total` is not
        // followed page after page.
        for _ in 0..MAX_MEMBER_PAGES {
            let page: Page<crate::api::Lenient<Member>> = request
                .get(
                    paths::MEMBERS,
                    &[
                        ("limit", crate::api::LIST_LIMIT.to_string()),
                        ("offset", read.to_string()),
                    ],
                )
                .await?;
            read += page.items.len();
            let done = page.items.is_empty() || read >= page.total as usize;
            // An odd member counts for nothing: the counts only shape guardrails and the roles
            // page's tallies, and the API decides what a change may do.
            members.extend(
                page.items
                    .into_iter()
                    .filter_map(crate::api::Lenient::parsed),
            );
            if done || enough(&members) {
                break;
            }
        }
        Ok(members)
    }

    /// The pending invitations (their `role_names` are filled in once the roles are known).
    pub async fn invitations(request: &MemberRequest) -> Result<Vec<Invitation>, ApiError> {
        let invitations: Vec<Invitation> = request
            .get_all(paths::INVITATIONS, &[], super::MAX_INVITATIONS)
            .await?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        Ok(invitations
            .into_iter()
            .map(|mut invitation| {
                invitation.expires_label = relative_expiry(&invitation.expires_at, now);
                invitation
            })
            .collect())
    }

    /// The roles a resend invites with: their ids, and their names to say them.
    pub struct Resent {
        pub ids: Vec<String>,
        pub names: Vec<String>,
    }

    /// A resend's create failed after its revoke went through: the member must hear that the old
    /// invitation is gone, whatever the create's own error says about "nothing changed".
    pub fn after_revoke(error: ApiError, email: &str, roles: Resent) -> ApiError {
        match error {
            ApiError::SignedOut => ApiError::SignedOut,
            ApiError::Unavailable {
                may_have_applied: true,
            }
            | ApiError::UnexpectedReply {
                may_have_applied: true,
            } => ApiError::Conflict(format!(
                "The old invitation of {email} was revoked; the new one may or may not have been sent. Reload to check before sending again."
            )),
            // The API's conflict: the address is a member, or has a pending invitation already
            // (another tab's resend, say). Inviting it again would be refused the same way.
            conflict @ ApiError::Conflict(_) => ApiError::Conflict(format!(
                "The old invitation of {email} was revoked; the new one was refused ({}). {email} may already be a member or invited: reload to check, and if the list shows neither, invite {email} again with the roles it had: {}.",
                conflict.first_sentence(),
                roles.names.join(", ")
            )),
            other => {
                let reason = other.first_sentence();
                let names = roles.names.join(", ");
                ApiError::NotResent {
                    message: format!(
                        "The old invitation of {email} was revoked, but the new one was not sent ({reason}). Invite {email} again with the roles it had: {names}."
                    ),
                    email: email.to_owned(),
                    role_ids: roles.ids,
                }
            }
        }
    }

    /// Refuses a change to yourself or to the last Platform Manager before the API is asked.
    pub async fn guard(
        request: &MemberRequest,
        user_id: &str,
        demoting: bool,
    ) -> Result<(), ApiError> {
        if user_id == request.member().user_id {
            return Err(ApiError::Forbidden(
                "You cannot change or remove yourself; ask another Platform Manager.".to_owned(),
            ));
        }
        if demoting {
            let managers = platform_managers(request).await?;
            if managers.len() <= 1 && managers.iter().any(|member| member.user_id == user_id) {
                return Err(ApiError::Conflict(
                    "The last Platform Manager cannot be removed or demoted.".to_owned(),
                ));
            }
        }
        Ok(())
    }

    pub async fn load_members(
        search: Option<String>,
        offset: Option<u64>,
    ) -> Result<MembersView, ApiError> {
        let request = MemberRequest::current()?;
        let search = search
            .map(|text| text.trim().to_owned())
            .unwrap_or_default();
        let offset = offset.unwrap_or(0);
        let mut query = vec![
            ("limit", MEMBERS_PAGE_SIZE.to_string()),
            ("offset", offset.to_string()),
        ];
        if !search.is_empty() {
            query.push(("search", search.clone()));
        }
        // Independent reads, sent together: the page waits for the slowest, not for the sum.
        // Only the members themselves are essential; the roles and the invitations each
        // fail on their own.
        let (page, can_manage, roles, invitations) = tokio::join!(
            request.get::<crate::api::Page<crate::api::Lenient<Member>>>(paths::MEMBERS, &query),
            request.may(crate::api::permissions::MEMBERS_MANAGE),
            ssr::roles(&request),
            ssr::invitations(&request),
        );
        let (mut page, can_manage) = (page?, can_manage?);
        // Asked past the end (the last member of the last page was just removed, an old link):
        // the last page instead.
        if page.items.is_empty() && page.total > 0 && offset >= page.total {
            let last = crate::api::page_start(offset, page.total, MEMBERS_PAGE_SIZE);
            query[1].1 = last.to_string();
            page = request.get(paths::MEMBERS, &query).await?;
        }
        let invitations = invitations.map(|invitations| {
            let roles = roles.as_deref().unwrap_or_default();
            invitations
                .into_iter()
                .map(|mut invitation| {
                    invitation.role_names = invitation_role_names(&invitation.roles, roles);
                    invitation
                })
                .collect()
        });
        // Only members who may manage are shown the guardrails.
        let manager_count = if can_manage {
            // Only a guardrail's hint: a failed count must not take the whole page down.
            ssr::manager_count(&request)
                .await
                .inspect_err(
                    |error| tracing::warn!(%error, "could not count the Platform Managers"),
                )
                .ok()
        } else {
            Some(0)
        };
        Ok(MembersView {
            members: page
                .items
                .into_iter()
                .map(crate::api::Listed::from)
                .collect(),
            total: page.total,
            offset: page.offset,
            search,
            roles,
            invitations,
            me: request.member().user_id.clone(),
            can_manage,
            manager_count,
        })
    }

    pub async fn invite_members(
        emails: String,
        role_ids: Vec<String>,
        send_email: bool,
    ) -> Result<Vec<InviteOutcome>, ApiError> {
        let listed = crate::domain::parse_email_list(&emails);
        let mut errors = Vec::new();
        if listed.is_empty() {
            errors.push(FieldError {
                field: "emails".to_owned(),
                message: "Enter at least one email address.".to_owned(),
            });
        }
        if let Some(message) = too_many_invites(listed.len()) {
            errors.push(FieldError {
                field: "emails".to_owned(),
                message,
            });
        }
        if role_ids.is_empty() {
            errors.push(FieldError {
                field: "role_ids".to_owned(),
                message: "Choose at least one role.".to_owned(),
            });
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let request = MemberRequest::current()?;
        let mut outcomes = Vec::new();
        for item in listed {
            let mut unconfirmed = false;
            let result = match item.outcome {
                Err(message) => Err(message),
                Ok(email) => request
                    .send::<_, serde_json::Value>(
                        reqwest::Method::POST,
                        paths::INVITATIONS,
                        Some(&serde_json::json!({ "email": email, "role_ids": role_ids, "send_email": send_email })),
                    )
                    .await
                    .map(|_| ())
                    .map_err(|error| {
                        unconfirmed = error.may_have_applied();
                        error.to_string()
                    }),
            };
            outcomes.push(InviteOutcome {
                email: item.text,
                result,
                unconfirmed,
            });
        }
        Ok(outcomes)
    }

    pub async fn change_member_roles(
        user_id: String,
        role_ids: Vec<String>,
    ) -> Result<Member, ApiError> {
        let member_id = crate::domain::ResourceId::parse(&user_id)?;
        if role_ids.is_empty() {
            return Err(ApiError::Validation(vec![FieldError {
                field: "role_ids".to_owned(),
                message: "A member needs at least one role; to take all access away, remove them."
                    .to_owned(),
            }]));
        }
        let request = MemberRequest::current()?;
        let roles = ssr::roles(&request).await?;
        let keeps_manager = roles
            .iter()
            .any(|role| role.name == PLATFORM_MANAGER && role_ids.contains(&role.id));
        ssr::guard(&request, &user_id, !keeps_manager).await?;
        ssr::changing_members(
            &request,
            request.send_for(
                reqwest::Method::PATCH,
                &paths::member(&member_id),
                Some(&serde_json::json!({ "role_ids": role_ids })),
            ),
        )
        .await
    }

    pub async fn remove_member(
        user_id: String,
        confirm: Option<String>,
    ) -> Result<String, ApiError> {
        let member_id = crate::domain::ResourceId::parse(&user_id)?;
        crate::server::member::require_confirmation(&[removal_warning()], confirm.as_deref())?;
        let request = MemberRequest::current()?;
        ssr::guard(&request, &user_id, true).await?;
        ssr::changing_members(
            &request,
            request.send::<(), serde_json::Value>(
                reqwest::Method::DELETE,
                &paths::member(&member_id),
                None,
            ),
        )
        .await?;
        Ok(user_id)
    }

    pub async fn revoke_invitation(
        id: String,
        confirm: Option<String>,
    ) -> Result<String, ApiError> {
        let invitation_id = crate::domain::ResourceId::parse(&id)?;
        crate::server::member::require_confirmation(&[revocation_warning()], confirm.as_deref())?;
        let request = MemberRequest::current()?;
        let path = paths::invitation(&invitation_id);
        request
            .send::<(), serde_json::Value>(reqwest::Method::DELETE, &path, None)
            .await?;
        Ok(id)
    }

    pub async fn resend_invitation(
        id: String,
        confirm: Option<String>,
    ) -> Result<Invitation, ApiError> {
        let invitation_id = crate::domain::ResourceId::parse(&id)?;
        let request = MemberRequest::current()?;
        let invitation = ssr::invitations(&request)
            .await?
            .into_iter()
            .find(|invitation| invitation.id == id)
            .ok_or_else(|| {
                ApiError::NotFound("That invitation is no longer pending.".to_owned())
            })?;
        let roles = ssr::roles(&request).await?;
        // Checked before the revoke: a resend that would drop a role is refused, and the
        // invitation stays as it is.
        let role_ids = invitation_role_ids(&invitation.roles, &roles).map_err(|unmatched| {
            ApiError::Conflict(format!(
                "Not resent: this invitation's role {} matches no role of the platform, so a new invitation would grant less. Nothing was changed; revoke it and invite again choosing the roles.",
                unmatched.join(", ")
            ))
        })?;
        if role_ids.is_empty() {
            return Err(ApiError::Conflict(
                "Not resent: this invitation names no role. Nothing was changed; revoke it and invite again choosing the roles.".to_owned(),
            ));
        }
        // Asked after the checks above: a resend that cannot happen asks for no yes.
        crate::server::member::require_confirmation(
            &[resend_warning(&invitation.invitee_email)],
            confirm.as_deref(),
        )?;
        let path = paths::invitation(&invitation_id);
        request
            .send::<(), serde_json::Value>(reqwest::Method::DELETE, &path, None)
            .await?;
        let email = invitation.invitee_email;
        let resent = ssr::Resent {
            names: roles
                .iter()
                .filter(|role| role_ids.contains(&role.id))
                .map(|role| role.name.clone())
                .collect(),
            ids: role_ids.clone(),
        };
        request
            .send_for(
                reqwest::Method::POST,
                paths::INVITATIONS,
                Some(&serde_json::json!({ "email": email, "role_ids": role_ids, "send_email": true })),
            )
            .await
            .map_err(|error| ssr::after_revoke(error, &email, resent))
    }

    pub async fn load_roles() -> Result<RolesView, ApiError> {
        let request = MemberRequest::current()?;
        let held = request.permissions().await?;
        let (roles, members_roles) =
            tokio::join!(ssr::roles(&request), ssr::members_roles(&request, &held));
        let roles = roles?;
        let member_counts = members_roles.map(|members_roles| {
            roles
                .iter()
                .map(|role| {
                    members_roles
                        .iter()
                        .filter(|held| {
                            held.iter()
                                .any(|held| held.id == role.id || held.name == role.name)
                        })
                        .count()
                })
                .collect()
        });
        let permissions = roles
            .iter()
            .any(|role| role.permissions.is_some())
            .then(|| {
                let mut permissions: Vec<String> = Vec::new();
                for granted in roles.iter().filter_map(|role| role.permissions.as_ref()) {
                    for permission in granted {
                        if !permissions.contains(permission) {
                            permissions.push(permission.clone());
                        }
                    }
                }
                permissions
            });
        Ok(RolesView {
            roles,
            member_counts,
            permissions,
        })
    }
}

#[server(endpoint = "members")]
pub async fn load_members(
    search: Option<String>,
    offset: Option<u64>,
) -> Result<MembersView, ApiError> {
    ssr::respond(ssr::load_members(search, offset).await)
}

/// Invites every address of a pasted list; each gets its own outcome, so one bad address never
/// costs the others.
#[server(endpoint = "members/invite")]
pub async fn invite_members(
    emails: String,
    #[server(default)] role_ids: Vec<String>,
    /// A ticked checkbox sends `true`; an unticked one sends nothing.
    #[server(default)]
    send_email: bool,
) -> Result<Vec<InviteOutcome>, ApiError> {
    ssr::respond(ssr::invite_members(emails, role_ids, send_email).await)
}

/// Replaces a member's roles. Takes effect at their next sign-in or token refresh.
#[server(endpoint = "members/roles")]
pub async fn change_member_roles(
    user_id: String,
    #[server(default)] role_ids: Vec<String>,
) -> Result<Member, ApiError> {
    ssr::respond(ssr::change_member_roles(user_id, role_ids).await)
}

#[server(endpoint = "members/remove")]
pub async fn remove_member(user_id: String, confirm: Option<String>) -> Result<String, ApiError> {
    ssr::respond(ssr::remove_member(user_id, confirm).await)
}

#[server(endpoint = "invitations/revoke")]
pub async fn revoke_invitation(id: String, confirm: Option<String>) -> Result<String, ApiError> {
    ssr::respond(ssr::revoke_invitation(id, confirm).await)
}

/// Resends an invitation the way Auth0 does: revoke it and create a new one with the same roles.
#[server(endpoint = "invitations/resend")]
pub async fn resend_invitation(
    id: String,
    confirm: Option<String>,
) -> Result<Invitation, ApiError> {
    ssr::respond(ssr::resend_invitation(id, confirm).await)
}

#[server(endpoint = "roles")]
pub async fn load_roles() -> Result<RolesView, ApiError> {
    ssr::respond(ssr::load_roles().await)
}

/// "in 3 days", "in 2 hours", "expired"; the value as sent when it could not be read.
pub fn relative_expiry(expires_at: &Timestamp, now: i64) -> String {
    let Some(expires) = expires_at.unix() else {
        return expires_at.to_string();
    };
    let left = expires - now;
    // Rounded to the nearest unit: an invitation sent a second ago expires "in 7 days", not 6.
    match left {
        ..=0 => "expired".to_owned(),
        1..=3599 => format!("in {} minutes", ((left + 30) / 60).max(1)),
        3600..=86_399 => format!("in {} hours", (left + 1800) / 3600),
        _ => format!("in {} days", (left + 43_200) / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_reads_as_people_say_it() {
        let at = |text: &str| Timestamp::parse(text);
        let now = at("2026-11-28T12:00:00Z").unix().unwrap();
        assert_eq!(
            relative_expiry(&at("2026-11-28T15:20:00Z"), now),
            "in 3 hours"
        );
        assert_eq!(
            relative_expiry(&at("2026-12-05T12:00:00Z"), now),
            "in 7 days"
        );
        assert_eq!(
            relative_expiry(&at("2026-11-28T12:10:00Z"), now),
            "in 10 minutes"
        );
        assert_eq!(relative_expiry(&at("2026-11-27T12:00:00Z"), now), "expired");
        assert_eq!(relative_expiry(&at("soon"), now), "soon");
        assert_eq!(
            relative_expiry(&at("2026-12-05T11:59:59Z"), now),
            "in 7 days",
            "rounded, not floored"
        );
    }

    fn member(user_id: &str, role: &str) -> Member {
        Member {
            user_id: user_id.to_owned(),
            email: None,
            name: None,
            picture: None,
            roles: vec![HeldRole {
                id: role.to_owned(),
                name: role.to_owned(),
            }],
            joined_at: None,
            last_login_at: None,
        }
    }

    #[test]
    fn guardrails_protect_yourself_and_the_last_manager() {
        assert!(member_guardrail(&member("me", "Viewer"), "me", Some(2))
            .unwrap()
            .contains("yourself"));
        assert!(
            member_guardrail(&member("ada", PLATFORM_MANAGER), "me", Some(1))
                .unwrap()
                .contains("last Platform Manager")
        );
        assert_eq!(
            member_guardrail(&member("ada", PLATFORM_MANAGER), "me", Some(2)),
            None
        );
        assert_eq!(
            member_guardrail(&member("ben", "Developer"), "me", Some(1)),
            None
        );
        // A count that could not be read blocks nothing: the API still guards the last one.
        assert_eq!(
            member_guardrail(&member("ada", PLATFORM_MANAGER), "me", None),
            None
        );
    }
}
