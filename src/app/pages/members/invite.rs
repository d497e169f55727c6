//! The invitation form: many addresses at once, the roles they get, each address's outcome.

use leptos::prelude::*;

use super::Drafts;
use crate::{
    api::{InviteMembers, Role},
    app::kit::{FormErrors, SubmitButton},
};

pub(super) fn tick(selected: &mut Vec<String>, role: String, ticked: bool) {
    selected.retain(|held| *held != role);
    if ticked {
        selected.push(role);
    }
}

/// One checkbox per role, with what it grants; `selected` says which are ticked.
#[component]
pub(super) fn RoleChoices(
    roles: Vec<Role>,
    #[prop(into)] selected: Signal<Vec<String>>,
    toggle: Callback<(String, bool)>,
) -> impl IntoView {
    roles
        .into_iter()
        .map(|role| {
            // What the role grants, in words (the description alone can be vague).
            // Without published permissions, the role's own description says what it is for.
            let grants = match &role.permissions {
                Some(permissions) => permissions
                    .iter()
                    .map(|permission| crate::api::permission_label(permission))
                    .collect::<Vec<_>>()
                    .join(" · "),
                None => role.description.clone(),
            };
            let (id, shown_id, ticked_id) = (role.id.clone(), role.id.clone(), role.id.clone());
            // Rendered ticked on the server too, before the page is interactive.
            let initially = selected.with_untracked(|selected| selected.contains(&id));
            view! {
                <label class="checkbox role-choice">
                    <input
                        type="checkbox"
                        name="role_ids[]"
                        value=id
                        checked=initially
                        prop:checked=move || selected.with(|selected| selected.contains(&shown_id))
                        on:change=move |event| {
                            toggle.run((ticked_id.clone(), event_target_checked(&event)))
                        }
                    />
                    <span>
                        <strong>{role.name.clone()}</strong>
                        <br />
                        <span class="muted">{grants}</span>
                    </span>
                </label>
            }
        })
        .collect_view()
}

#[component]
pub(super) fn InviteForm(action: ServerAction<InviteMembers>, roles: Vec<Role>) -> impl IntoView {
    let drafts = expect_context::<Drafts>();
    let preview_text = drafts.invite_emails;
    let send_email = drafts.invite_send_email;
    let invite_roles = drafts.invite_roles;
    let toggle = Callback::new(move |(role, ticked): (String, bool)| {
        invite_roles.update(|selected| tick(selected, role, ticked));
    });
    let preview = Memo::new(move |_| crate::domain::parse_email_list(&preview_text.get()));
    view! {
        <section class="panel">
            <h2>"Invite people"</h2>
            <ActionForm action attr:class="form" attr:data-testid="invite-form">
                <label for="invite-emails">
                    "Email addresses (one or many: commas, spaces or new lines)"
                </label>
                <textarea
                    id="invite-emails"
                    name="emails"
                    rows="3"
                    required=true
                    bind:value=preview_text
                ></textarea>
                <ul class="bulk-preview">
                    {move || {
                        preview
                            .with(|listed| crate::api::too_many_invites(listed.len()))
                            .map(|error| view! { <li class="bulk-preview--error">{error}</li> })
                    }}
                    {move || {
                        preview
                            .get()
                            .into_iter()
                            .filter_map(|item| item.outcome.err())
                            .map(|error| view! { <li class="bulk-preview--error">{error}</li> })
                            .collect_view()
                    }}
                </ul>
                <fieldset>
                    <legend>"Roles"</legend>
                    <RoleChoices roles selected=invite_roles toggle />
                </fieldset>
                <label class="checkbox">
                    <input
                        type="checkbox"
                        name="send_email"
                        value="true"
                        // Ticked in the server-rendered page too, before it is interactive.
                        checked=true
                        bind:checked=send_email
                    />
                    "Send the invitation by email"
                </label>
                <FormErrors action=action every_error=true />
                <SubmitButton
                    label="Send invitations"
                    busy="Sending…"
                    pending=action.pending()
                    testid="send-invitations"
                />
            </ActionForm>
            <ul class="bulk-preview" data-testid="invite-results">
                {move || {
                    action
                        .value()
                        .get()
                        .and_then(Result::ok)
                        .map(|outcomes| {
                            outcomes
                                .into_iter()
                                .map(|outcome| {
                                    let ok = outcome.result.is_ok();
                                    let text = match outcome.result {
                                        Ok(()) => format!("{}: invited", outcome.email),
                                        Err(error) if outcome.unconfirmed => {
                                            format!(
                                                "{}: may have been invited — {error}",
                                                outcome.email,
                                            )
                                        }
                                        Err(error) => {
                                            format!("{}: not invited — {error}", outcome.email)
                                        }
                                    };
                                    view! {
                                        <li class:bulk-preview--error=!ok>{text}</li>
                                    }
                                })
                                .collect_view()
                        })
                }}
            </ul>
        </section>
    }
    .into_any()
}
