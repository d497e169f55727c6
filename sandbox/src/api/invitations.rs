//! `/v1/platforms/me/invitations`: list, create (201) and revoke (204). Resend is revoke + create.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::{delete, get},
    Extension, Json, Router,
};
use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use super::{
    error::{ApiError, ApiResult, FieldError},
    extract::{ApiJson, Pagination, UNPUBLISHED_MAX_LIMIT},
    shape::Shape,
    validate, Caller, Change,
};
use crate::{
    idp::random_token,
    model::{Invitation, InvitationView, Page},
    permissions, seed, SharedState,
};

/// Auth0's default invitation lifetime.
pub const INVITATION_LIFETIME: Duration = Duration::days(7);

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/v1/platforms/me/invitations", get(list).post(create))
        .route(
            "/v1/platforms/me/invitations/{invitation_id}",
            delete(revoke),
        )
}

async fn list(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    pagination: Pagination<UNPUBLISHED_MAX_LIMIT>,
) -> ApiResult<Json<Page<InvitationView>>> {
    caller.require(permissions::MEMBERS_READ)?;
    let shape = Shape::of(&state.config);
    let invitations: Vec<InvitationView> = state.store.read(|data| {
        data.invitations
            .iter()
            .rev()
            .map(|invitation| shape.invitation(data, invitation))
            .collect()
    });
    Ok(Json(pagination.page(&invitations)))
}

#[derive(Deserialize)]
struct InvitationCreate {
    email: String,
    role_ids: Vec<String>,
    send_email: Option<bool>,
}

async fn create(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<InvitationCreate>,
) -> ApiResult<(StatusCode, Json<InvitationView>)> {
    caller.require(permissions::MEMBERS_MANAGE)?;
    let mut errors = Vec::new();
    let email = validate::email("email", &body.email)
        .map_err(|error| errors.push(error))
        .ok();
    if body.role_ids.is_empty() {
        errors.push(FieldError::body("role_ids", "choose at least one role"));
    }
    let now = OffsetDateTime::now_utc();
    let view = state.store.write(|data| {
        for (position, id) in body.role_ids.iter().enumerate() {
            if data.role(id).is_none() {
                errors.push(FieldError {
                    loc: vec!["body".into(), "role_ids".into(), position.into()],
                    msg: format!("unknown role id '{id}'"),
                    kind: "value_error".to_owned(),
                });
            }
        }
        let Some(email) = email.filter(|_| errors.is_empty()) else {
            return Err(ApiError::Validation(errors));
        };
        let is_member = data.memberships.iter().any(|membership| {
            data.person(&membership.user_id).is_some_and(|person| person.email.eq_ignore_ascii_case(&email))
        });
        if is_member {
            return Err(ApiError::Conflict(format!("{email} is already a member of the platform")));
        }
        let pending = data
            .invitations
            .iter()
            .any(|invitation| invitation.invitee_email.eq_ignore_ascii_case(&email) && invitation.expires_at > now);
        if pending {
            return Err(ApiError::Conflict(format!("{email} already has a pending invitation")));
        }
        let ticket = random_token();
        let invitation = Invitation {
            id: format!("uinv_{}", uuid::Uuid::new_v4().simple()),
            invitee_email: email.clone(),
            inviter_name: caller.actor_name().to_owned(),
            role_ids: body.role_ids.clone(),
            send_email: body.send_email.unwrap_or(true),
            invitation_url: seed::invitation_url(&state.config.dashboard_url, &ticket),
            ticket,
            created_at: now,
            expires_at: now + INVITATION_LIFETIME,
        };
        data.invitations.push(invitation.clone());
        let view = Shape::of(&state.config).invitation(data, &invitation);
        let role_names = data.invitation_view(&invitation).roles;
        data.activity.push(caller.activity(Change {
            kind: "invitation.created",
            description: format!("{} invited {email}", caller.actor_name()),
            resource_type: "invitation",
            resource_id: invitation.id.clone(),
            environment_id: None,
            status_code: 201,
            severity: None,
            detail: serde_json::json!({ "email": email, "roles": role_names, "send_email": invitation.send_email }),
        }));
        Ok(view)
    })?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn revoke(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    Path(invitation_id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(permissions::MEMBERS_MANAGE)?;
    state.store.write(|data| {
        let index = data
            .invitations
            .iter()
            .position(|invitation| invitation.id == invitation_id)
            .ok_or_else(|| ApiError::NotFound("Invitation not found".to_owned()))?;
        let invitation = data.invitations.remove(index);
        data.activity.push(caller.activity(Change {
            kind: "invitation.revoked",
            description: format!(
                "{} revoked the invitation of {}",
                caller.actor_name(),
                invitation.invitee_email
            ),
            resource_type: "invitation",
            resource_id: invitation.id,
            environment_id: None,
            status_code: 204,
            severity: None,
            detail: serde_json::json!({ "email": invitation.invitee_email }),
        }));
        Ok(StatusCode::NO_CONTENT)
    })
}
