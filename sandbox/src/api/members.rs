//! `/v1/platforms/me/members` and `/v1/platforms/me/roles`.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::{get, patch},
    Extension, Json, Router,
};
use serde::Deserialize;

use super::{
    error::{ApiError, ApiResult, FieldError},
    extract::{ApiJson, ApiQuery, Pagination, UNPUBLISHED_MAX_LIMIT},
    shape::Shape,
    Caller, Change,
};
use crate::{
    model::{MemberView, Page, RoleView},
    permissions, SharedState,
};

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/v1/platforms/me/members", get(list))
        .route(
            "/v1/platforms/me/members/{user_id}",
            patch(update_roles).delete(remove),
        )
        .route("/v1/platforms/me/roles", get(roles))
}

#[derive(Deserialize)]
struct MemberSearch {
    search: Option<String>,
}

async fn list(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<MemberSearch>,
    pagination: Pagination<UNPUBLISHED_MAX_LIMIT>,
) -> ApiResult<Json<Page<MemberView>>> {
    caller.require(permissions::MEMBERS_READ)?;
    let needle = query
        .search
        .map(|text| text.trim().to_lowercase())
        .filter(|text| !text.is_empty());
    let shape = Shape::of(&state.config);
    // Filtered by reference in the store's remembered order (by name, then user id: see
    // `Data::member_listing`, the one place that order is defined); only the page's members are
    // shaped into replies.
    let page = state.store.read_members(|data, mut members| {
        if let Some(needle) = needle.as_deref() {
            members.retain(|(_, person)| {
                person.is_some_and(|person| {
                    [&person.email, &person.name]
                        .into_iter()
                        .any(|text| text.to_lowercase().contains(needle))
                })
            });
        }
        pagination.page_of(&members, |(membership, person)| {
            shape.member(data.view_of(membership, *person))
        })
    });
    Ok(Json(page))
}

async fn roles(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    pagination: Pagination<UNPUBLISHED_MAX_LIMIT>,
) -> ApiResult<Json<Page<RoleView>>> {
    caller.require(permissions::MEMBERS_READ)?;
    let shape = Shape::of(&state.config);
    let roles: Vec<RoleView> = state.store.read(|data| {
        data.roles
            .iter()
            .cloned()
            .map(|role| shape.role(role))
            .collect()
    });
    Ok(Json(pagination.page(&roles)))
}

#[derive(Deserialize)]
struct RolesUpdate {
    role_ids: Vec<String>,
}

async fn update_roles(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    Path(user_id): Path<String>,
    ApiJson(body): ApiJson<RolesUpdate>,
) -> ApiResult<Json<MemberView>> {
    caller.require(permissions::MEMBERS_MANAGE)?;
    if caller.user_id() == Some(user_id.as_str()) {
        return Err(ApiError::Forbidden(
            "You cannot change your own roles".to_owned(),
        ));
    }
    // Keep the first of each role id, in the order given (`Vec::dedup` only drops adjacent repeats).
    let mut role_ids = body.role_ids;
    let mut seen = std::collections::HashSet::new();
    role_ids.retain(|id| seen.insert(id.clone()));
    state.store.write(|data| {
        let index = data
            .memberships
            .iter()
            .position(|membership| membership.user_id == user_id)
            .ok_or_else(|| ApiError::NotFound("Member not found".to_owned()))?;
        let errors: Vec<FieldError> = role_ids
            .iter()
            .enumerate()
            .filter(|(_, id)| data.role(id).is_none())
            .map(|(position, id)| FieldError {
                loc: vec!["body".into(), "role_ids".into(), position.into()],
                msg: format!("unknown role id '{id}'"),
                kind: "value_error".to_owned(),
            })
            .collect();
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        if role_ids.is_empty() {
            return Err(ApiError::invalid(
                "role_ids",
                "a member needs at least one role",
            ));
        }
        let was_manager = data.is_platform_manager(&data.memberships[index]);
        let stays_manager = role_ids.iter().any(|id| {
            data.role(id)
                .is_some_and(|role| role.name == permissions::PLATFORM_MANAGER)
        });
        if was_manager && !stays_manager && data.platform_manager_count() == 1 {
            return Err(ApiError::Conflict(
                "The last Platform Manager cannot lose that role".to_owned(),
            ));
        }
        let before = std::mem::replace(&mut data.memberships[index].role_ids, role_ids.clone());
        let member = Shape::of(&state.config).member(data.member_view(&data.memberships[index]));
        data.activity.push(caller.activity(Change {
            kind: "member.roles_updated",
            description: format!(
                "{} changed the roles of {}",
                caller.actor_name(),
                member.email.clone().unwrap_or_else(|| member.user_id.clone())
            ),
            resource_type: "member",
            resource_id: member.user_id.clone(),
            environment_id: None,
            status_code: 200,
            severity: None,
            detail: serde_json::json!({ "before": before, "after": role_ids }),
        }));
        Ok(Json(member))
    })
}

async fn remove(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    Path(user_id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(permissions::MEMBERS_MANAGE)?;
    if caller.user_id() == Some(user_id.as_str()) {
        return Err(ApiError::Forbidden("You cannot remove yourself".to_owned()));
    }
    state.store.write(|data| {
        let index = data
            .memberships
            .iter()
            .position(|membership| membership.user_id == user_id)
            .ok_or_else(|| ApiError::NotFound("Member not found".to_owned()))?;
        if data.is_platform_manager(&data.memberships[index]) && data.platform_manager_count() == 1 {
            return Err(ApiError::Conflict("The last Platform Manager cannot be removed".to_owned()));
        }
        let member = data.member_view(&data.memberships[index]);
        data.memberships.remove(index);
        data.activity.push(caller.activity(Change {
            kind: "member.removed",
            description: format!(
                "{} removed {} from the platform",
                caller.actor_name(),
                member.email.clone().unwrap_or_else(|| member.user_id.clone())
            ),
            resource_type: "member",
            resource_id: member.user_id,
            environment_id: None,
            status_code: 204,
            severity: Some("warning"),
            detail: serde_json::json!({ "roles": member.roles.iter().map(|role| &role.name).collect::<Vec<_>>() }),
        }));
        Ok(StatusCode::NO_CONTENT)
    })
}
