//! Team > Members: who is on the platform, with which roles; invitations sent and pending.
//! Search and page live in the URL, so a shared link opens the same view.

mod invitations;
mod invite;

use invitations::InvitationsPanel;
use invite::{tick, InviteForm, RoleChoices};

use leptos::{either::Either, prelude::*};
use leptos_router::{components::Form, hooks::use_query_map};

use crate::{
    api::permissions::MEMBERS_MANAGE,
    api::{
        load_members, member_guardrail, removal_warning, ApiError, ChangeMemberRoles,
        InviteMembers, Listed, Member, MembersView, OddRecord, RemoveMember, ResendInvitation,
        RevokeInvitation, Role, MEMBERS_PAGE_SIZE,
    },
    app::kit::{
        count_of, focus_field, focus_is_in_dialog, focus_is_lost, initials, use_offset_query,
        Announcement, Announcer, Confirm, DataTable, DialogDraft, DraftDialog, FormErrors,
        InlineDialog, InlineDialogs, Loaded, PageHeader, PageWindow, Pager, ReadOnlyNotice,
        RowInput, SectionFailed, SubmitButton,
    },
    domain::{query_string, Timestamp},
};

#[derive(Clone, Copy)]
struct Actions {
    invite: ServerAction<InviteMembers>,
    roles: ServerAction<ChangeMemberRoles>,
    remove: ServerAction<RemoveMember>,
    revoke: ServerAction<RevokeInvitation>,
    resend: ServerAction<ResendInvitation>,
}

impl Actions {
    fn versions(&self) -> (usize, usize, usize, usize, usize) {
        (
            self.invite.version().get(),
            self.roles.version().get(),
            self.remove.version().get(),
            self.revoke.version().get(),
            self.resend.version().get(),
        )
    }
}

/// What the member has typed or ticked but not yet saved. It lives with the page: the forms are
/// rebuilt each time the list reloads, after every change, failed ones included.
#[derive(Clone, Copy)]
struct Drafts {
    invite_emails: RwSignal<String>,
    invite_roles: RwSignal<Vec<String>>,
    invite_send_email: RwSignal<bool>,
    /// The roles ticked in a member's "Change roles" dialog.
    member_roles: DialogDraft<Vec<String>>,
}

#[component]
pub fn MembersPage() -> impl IntoView {
    let actions = Actions {
        invite: ServerAction::new(),
        roles: ServerAction::new(),
        remove: ServerAction::new(),
        revoke: ServerAction::new(),
        resend: ServerAction::new(),
    };
    let query = use_query_map();
    let search = Memo::new(move |_| query.with(|query| query.get("search").unwrap_or_default()));
    let offset = use_offset_query();
    let members = Resource::new(
        move || (search.get(), offset.get(), actions.versions()),
        |(search, offset, _)| load_members(Some(search), Some(offset)),
    );
    let dialog = InlineDialogs::provide();
    let drafts = Drafts {
        invite_emails: RwSignal::default(),
        invite_roles: RwSignal::default(),
        invite_send_email: RwSignal::new(true),
        member_roles: DialogDraft::new(dialog),
    };
    provide_context(drafts);
    // An invitation keeps the addresses that were not invited (with their roles) for a retry; a
    // refused or failed request keeps everything.
    Effect::new(move |_| {
        if let Some(Ok(outcomes)) = actions.invite.value().get() {
            // Not one that may have been made: its line below the form says to check first.
            let refused: Vec<String> = outcomes
                .into_iter()
                .filter(|outcome| outcome.result.is_err() && !outcome.unconfirmed)
                .map(|outcome| outcome.email)
                .collect();
            if refused.is_empty() {
                drafts.invite_roles.set(Vec::new());
                drafts.invite_send_email.set(true);
            }
            drafts.invite_emails.set(refused.join("\n"));
        }
    });
    // A resend that revoked the old invitation and could not send the new one: the address and
    // its roles go back in the invite form, unless the member is typing another there.
    Effect::new(move |_| {
        let not_resent = actions.resend.value().with(|outcome| match outcome {
            Some(Err(ApiError::NotResent {
                email, role_ids, ..
            })) => Some((email.clone(), role_ids.clone())),
            _ => None,
        });
        if let Some((email, role_ids)) = not_resent {
            let form_unused = drafts
                .invite_emails
                .with_untracked(|typed| typed.trim().is_empty())
                && drafts.invite_roles.with_untracked(Vec::is_empty);
            if form_unused {
                // Unless the member moved on while the resend ran.
                let focus_here = focus_is_lost() || focus_is_in_dialog("resend");
                drafts.invite_emails.set(email);
                drafts.invite_roles.set(role_ids);
                drafts.invite_send_email.set(true);
                if focus_here {
                    focus_field("invite-emails");
                }
            }
        }
    });
    dialog.follow(actions.roles);
    dialog.follow(actions.remove);
    dialog.follow(actions.revoke);
    dialog.follow(actions.resend);
    let announcer = Announcer::expect();
    announcer.follow(actions.invite, |outcomes| {
        let invited = outcomes
            .iter()
            .filter(|outcome| outcome.result.is_ok())
            .count();
        let unconfirmed = outcomes
            .iter()
            .filter(|outcome| outcome.unconfirmed)
            .count();
        let unknown = match unconfirmed {
            0 => String::new(),
            unconfirmed => format!(
                "; {unconfirmed} may have been invited (check the pending invitations before sending again)"
            ),
        };
        let text = format!(
            "Invited {invited} of {}{unknown}; see each one below the form.",
            count_of(outcomes.len() as u64, "address", "addresses")
        );
        if invited == outcomes.len() {
            Announcement::success(text)
        } else {
            Announcement::problem(text)
        }
    });
    announcer.follow(actions.roles, |member| {
        Announcement::success(format!(
            "Updated the roles of {}. They apply at their next sign-in or token refresh.",
            member.display_name()
        ))
    });
    announcer.follow(actions.remove, |_| Announcement::success("Member removed."));
    announcer.follow(actions.revoke, |_| {
        Announcement::success("Invitation revoked.")
    });
    announcer.follow(actions.resend, |invitation| {
        Announcement::success(format!(
            "Sent a new invitation to {}.",
            invitation.invitee_email
        ))
    });

    view! {
        <PageHeader
            title="Members"
            summary="Everyone on your platform's team, their roles, and the invitations still pending."
        />
        <Loaded resource=members loading="Loading members…" let:view>
            <MembersPanel view actions />
        </Loaded>
    }
}

#[component]
fn MembersPanel(view: MembersView, actions: Actions) -> impl IntoView {
    let MembersView {
        members,
        total,
        offset,
        search,
        roles,
        invitations,
        me,
        can_manage,
        manager_count,
    } = view;
    let window = PageWindow {
        offset,
        shown: members.len() as u64,
        total,
        page_size: MEMBERS_PAGE_SIZE,
    };
    let searched = search.clone();
    let page_href = move |offset: u64| {
        let offset = if offset == 0 {
            String::new()
        } else {
            offset.to_string()
        };
        format!(
            "/members?{}",
            query_string([("search", searched.clone()), ("offset", offset)])
        )
    };
    let empty = members.is_empty();
    // Without the roles nobody can be invited or given roles; the table stands all the same.
    let roles_failed = roles.as_ref().err().cloned();
    let roles = roles.unwrap_or_default();
    // Shared by the rows: a row's roles form is built only when it is opened.
    // `None` when they could not be read: no roles dialog is offered then.
    let row_roles = roles_failed
        .is_none()
        .then(|| std::sync::Arc::new(roles.clone()));
    // Looked up once for the table, not by each row (see `InlineDialog`'s `dialogs`).
    let draft = expect_context::<Drafts>().member_roles;
    view! {
        {roles_failed
            .map(|error| {
                view! {
                    <SectionFailed what="the roles (inviting and role changes need them)" error />
                }
            })}
        <section class="panel">
            <div class="panel__header">
                <Form method="GET" action="/members" attr:class="filters">
                    <label>
                        "Search by name or email"
                        <input
                            type="search"
                            name="search"
                            value=search.clone()
                            data-testid="member-search"
                        />
                    </label>
                    <button type="submit" class="button button--secondary">
                        "Search"
                    </button>
                </Form>
                <p class="muted" data-testid="member-count">
                    {window.range()}
                </p>
            </div>
            {if empty {
                Either::Left(view! { <p class="empty-state">"No member matches this search."</p> })
            } else {
                Either::Right(
                    view! {
                        <DataTable
                            label="Members"
                            testid="members-table"
                            columns=&["Member", "Roles", "Joined", "Last seen"]
                            actions=can_manage
                        >
                            {members
                                .into_iter()
                                .map(|listed| match listed {
                                    Listed::Parsed(member) => {
                                        let guard = member_guardrail(&member, &me, manager_count);
                                        Either::Left(
                                            view! {
                                                <MemberRow
                                                    member
                                                    guard
                                                    roles=row_roles.clone()
                                                    draft
                                                    can_manage
                                                    actions
                                                />
                                            },
                                        )
                                    }
                                    Listed::AsStored(record) => {
                                        Either::Right(view! { <OddMemberRow record can_manage /> })
                                    }
                                })
                                .collect_view()}
                        </DataTable>
                    },
                )
            }}
            <Pager window href=page_href previous="← Previous" next="Next →" />
            <p class="muted">
                "A role change takes effect at the member's next sign-in or token refresh."
            </p>
            {(!can_manage)
                .then(|| {
                    view! {
                        <ReadOnlyNotice
                            can="You can view the team."
                            changing="Inviting and changing roles"
                            permission=MEMBERS_MANAGE
                            held_by="the Platform Manager role"
                        />
                    }
                })}
        </section>
        {(can_manage && !roles.is_empty())
            .then(|| view! { <InviteForm action=actions.invite roles=roles.clone() /> })}
        <InvitationsPanel invitations can_manage actions />
    }
}

fn day(timestamp: &Option<Timestamp>) -> String {
    timestamp
        .as_ref()
        .map_or_else(|| "—".to_owned(), Timestamp::day)
}

/// Who a row is: avatar, name and address, the same for a member read and one shown as stored.
#[component]
fn MemberCell(name: String, email: String) -> impl IntoView {
    view! {
        <td>
            <span class="avatar" aria-hidden="true">
                {initials(&name)}
            </span>
            " "
            <strong>{name}</strong>
            <br />
            <span class="muted">{email}</span>
        </td>
    }
}

#[component]
fn MemberRow(
    member: Member,
    guard: Option<String>,
    /// `None`: the platform's roles could not be read.
    roles: Option<std::sync::Arc<Vec<Role>>>,
    draft: DialogDraft<Vec<String>>,
    can_manage: bool,
    actions: Actions,
) -> impl IntoView {
    let name = member.display_name();
    let email = member.email.clone().unwrap_or_default();
    let role_names = member
        .roles
        .iter()
        .map(|role| role.name.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let held: Vec<String> = member.roles.iter().map(|role| role.id.clone()).collect();
    let roles = role_choices(roles.as_ref(), &member.roles);
    let (joined, seen) = (day(&member.joined_at), day(&member.last_login_at));
    let user_id = member.user_id.clone();
    let email_attr = email.clone();
    view! {
        <tr data-testid="member-row" data-email=email_attr>
            <MemberCell name=name.clone() email />
            <td data-testid="member-roles">{role_names}</td>
            <td class="nowrap">{joined}</td>
            <td class="nowrap">{seen}</td>
            {can_manage
                .then(|| match guard {
                    Some(reason) => {
                        Either::Left(
                            view! {
                                <td class="muted" data-testid="guardrail">
                                    {reason}
                                </td>
                            },
                        )
                    }
                    None => {
                        Either::Right(
                            view! { <MemberActions user_id name held roles draft actions /> },
                        )
                    }
                })}
        </tr>
    }
}

/// A member the dashboard cannot read (their roles, most likely, in a shape it does not know):
/// named as stored and marked; their roles cannot be changed from here, and the rest of the
/// table stands.
#[component]
fn OddMemberRow(record: OddRecord, can_manage: bool) -> impl IntoView {
    let name = [
        record.field("name"),
        record.field("email"),
        record.field("user_id"),
    ]
    .into_iter()
    .find(|field| !field.is_empty())
    .unwrap_or_default()
    .to_owned();
    view! {
        <tr data-testid="member-row-as-stored" data-email=record.field("email").to_owned()>
            <MemberCell name email=record.field("email").to_owned() />
            <td colspan="3">
                <span class="as-stored">{format!("Shown as stored: {}", record.reason)}</span>
            </td>
            {can_manage.then(|| view! { <td></td> })}
        </tr>
    }
}

/// The roles a member's dialog offers: the platform's, and any the member holds that its list
/// does not name (retired, or the list is of another source), ticked. A save replaces the
/// member's roles whole, so a held role without a box would be dropped unseen. `None` when the
/// platform's roles could not be read: the dialog is not offered (the page says why), rather than
/// one with nothing to choose from.
fn role_choices(
    roles: Option<&std::sync::Arc<Vec<Role>>>,
    held: &[crate::api::HeldRole],
) -> Option<std::sync::Arc<Vec<Role>>> {
    let roles = roles?;
    let unlisted: Vec<Role> = held
        .iter()
        .filter(|held| !roles.iter().any(|role| role.id == held.id))
        .map(|held| Role {
            id: held.id.clone(),
            name: held.name.clone(),
            description: "Held, but not in the platform's role list: kept unless you untick it."
                .to_owned(),
            permissions: None,
        })
        .collect();
    Some(if unlisted.is_empty() {
        roles.clone()
    } else {
        std::sync::Arc::new(roles.iter().cloned().chain(unlisted).collect())
    })
}

#[component]
fn MemberActions(
    user_id: String,
    name: String,
    held: Vec<String>,
    /// `None`: the roles could not be read, and cannot be changed now.
    roles: Option<std::sync::Arc<Vec<Role>>>,
    draft: DialogDraft<Vec<String>>,
    actions: Actions,
) -> impl IntoView {
    let roles_key = format!("roles:{user_id}");
    let remove_key = format!("remove:{user_id}");
    let (roles_id, remove_id) = (user_id.clone(), user_id);
    let removal_question = format!("Remove {name} from the platform?");
    let confirm_label = format!("Yes, remove {name}");
    let (roles_name, remove_name) = (format!("for {name}"), name.clone());
    let legend = format!("Roles of {name}");
    let roles_dialog = roles.map(|roles| {
        let roles_form = move |input: RowInput<Vec<String>>| {
            let selected = Signal::derive(move || input.get());
            let toggle = Callback::new(move |(role, ticked): (String, bool)| {
                input.update(|selected| tick(selected, role, ticked));
            });
            view! {
                <ActionForm action=actions.roles attr:class="form">
                    <input type="hidden" name="user_id" value=roles_id.clone() />
                    <fieldset>
                        <legend>{legend.clone()}</legend>
                        <RoleChoices roles=roles.to_vec() selected toggle />
                    </fieldset>
                    <FormErrors action=actions.roles dialog=input.dialog_key() />
                    <SubmitButton
                        label="Save roles"
                        busy="Saving…"
                        pending=actions.roles.pending()
                        small=true
                    />
                </ActionForm>
            }
        };
        view! {
            <DraftDialog
                key=roles_key
                label="Change roles".to_owned()
                hidden_label=roles_name
                draft
                saved=held
                form=roles_form
            />
        }
    });
    view! {
        <td class="row-actions">
            {roles_dialog}
            <InlineDialog
                key=remove_key
                label="Remove".to_owned()
                hidden_label=remove_name
                danger=true
                dialogs=draft.dialogs()
            >
                <ActionForm action=actions.remove>
                    <input type="hidden" name="user_id" value=remove_id />
                    <Confirm lead=removal_question warnings=vec![removal_warning()] />
                    <SubmitButton
                        label=confirm_label
                        pending=actions.remove.pending()
                        danger=true
                        small=true
                    />
                </ActionForm>
            </InlineDialog>
        </td>
    }
}
