//! Pending invitations: who was invited, with which roles, the link, resend and revoke.

use leptos::{either::Either, prelude::*};

use super::Actions;
use crate::{
    api::{resend_warning, revocation_warning, ApiError, Invitation, MAX_INVITATIONS},
    app::kit::{
        count_of, Confirm, CopyField, DataTable, InlineDialog, InlineDialogs, SectionFailed,
        SubmitButton,
    },
    domain::group_thousands,
};

#[component]
pub(super) fn InvitationsPanel(
    invitations: Result<Vec<Invitation>, ApiError>,
    can_manage: bool,
    actions: Actions,
) -> impl IntoView {
    let invitations = match invitations {
        Ok(invitations) => invitations,
        Err(error) => {
            return Either::Left(view! {
                <section class="panel">
                    <h2>"Pending invitations"</h2>
                    <SectionFailed what="the pending invitations" error />
                </section>
            });
        }
    };
    let empty = invitations.is_empty();
    // How many, so a long list is not read as all there is; past the bound the dashboard reads,
    // it says so rather than stopping silently.
    let shown = invitations.len();
    let how_many = if shown >= MAX_INVITATIONS {
        let bound = group_thousands(MAX_INVITATIONS as u64);
        format!("At least {bound} invitations are pending; the first {bound} are shown.")
    } else {
        format!(
            "{} pending.",
            count_of(shown as u64, "invitation", "invitations")
        )
    };
    // Looked up once for the table, not by each of its rows' dialogs (see `InlineDialog`'s
    // `dialogs`): the list is not paged, up to 1,000 rows.
    let dialogs = expect_context::<InlineDialogs>();
    Either::Right(view! {
        <section class="panel">
            <h2>"Pending invitations"</h2>
            {(!empty)
                .then(|| {
                    view! {
                        <p class="muted" data-testid="invitations-count">
                            {how_many}
                        </p>
                    }
                })}
            {if empty {
                Either::Left(view! { <p class="empty-state">"No invitation is pending."</p> })
            } else {
                Either::Right(
                    view! {
                        <DataTable
                            label="Pending invitations"
                            testid="invitations-table"
                            columns=&[
                                "Email",
                                "Roles",
                                "Invited by",
                                "Sent (UTC)",
                                "Expires",
                                "Link",
                            ]
                            actions=can_manage
                        >
                            {invitations
                                .into_iter()
                                .map(|invitation| {
                                    view! {
                                        <InvitationRow invitation dialogs can_manage actions />
                                    }
                                })
                                .collect_view()}
                        </DataTable>
                    },
                )
            }}
        </section>
    })
}

#[component]
fn InvitationRow(
    invitation: Invitation,
    dialogs: InlineDialogs,
    can_manage: bool,
    actions: Actions,
) -> impl IntoView {
    let (resend_id, revoke_id) = (invitation.id.clone(), invitation.id.clone());
    let email = invitation.invitee_email.clone();
    // The buttons say whose invitation, for assistive technology: every row has them. The
    // confirming ones say "Yes, …", so that they are not named as the buttons that open them.
    let whose = format!("the invitation of {email}");
    let (resend_whose, revoke_whose, resend_button_whose) =
        (whose.clone(), whose.clone(), whose.clone());
    let resend_warnings = vec![resend_warning(&email)];
    let email_attr = email.clone();
    view! {
        <tr data-testid="invitation-row" data-email=email_attr>
            <td>{email.clone()}</td>
            <td>{invitation.role_names.join(", ")}</td>
            <td>{invitation.inviter_name.clone()}</td>
            <td class="nowrap">{invitation.created_at.day()}</td>
            <td class:muted=invitation.expires_label
                == "expired">{invitation.expires_label.clone()}</td>
            <td>
                <CopyField
                    value=invitation.invitation_url.clone()
                    what=format!("invitation link for {email}")
                    button="Copy link"
                    field_testid="invitation-link"
                    button_testid="copy-link"
                />
            </td>
            {can_manage
                .then(|| {
                    view! {
                        <td class="row-actions">
                            <InlineDialog
                                dialogs
                                key=format!("resend:{}", invitation.id)
                                label="Resend".to_owned()
                                hidden_label=resend_button_whose
                                testid="resend"
                            >
                                <ActionForm action=actions.resend>
                                    <input type="hidden" name="id" value=resend_id />
                                    <Confirm warnings=resend_warnings />
                                    <SubmitButton
                                        label="Yes, resend"
                                        hidden_label=resend_whose
                                        busy="Resending…"
                                        pending=actions.resend.pending()
                                        small=true
                                    />
                                </ActionForm>
                            </InlineDialog>
                            <InlineDialog
                                dialogs
                                key=format!("revoke:{}", invitation.id)
                                label="Revoke".to_owned()
                                hidden_label=whose
                                danger=true
                                testid="revoke"
                            >
                                <ActionForm action=actions.revoke>
                                    <input type="hidden" name="id" value=revoke_id />
                                    <Confirm warnings=vec![revocation_warning()] />
                                    <SubmitButton
                                        label="Yes, revoke"
                                        hidden_label=revoke_whose
                                        pending=actions.revoke.pending()
                                        danger=true
                                        small=true
                                    />
                                </ActionForm>
                            </InlineDialog>
                        </td>
                    }
                })}
        </tr>
    }
}
