//! Turning off what others depend on (an environment's M2M access, a webhook's deliveries) is
//! confirmed in the row's dialog; turning it back on is one click.

use leptos::{
    prelude::*,
    server_fn::{client::Client, codec::PostUrl, request::ClientReq, Http, ServerFn},
    web_sys::FormData,
};
use serde::de::DeserializeOwned;

use super::{Confirm, InlineDialog, InlineDialogs, SubmitButton};
use crate::{
    api::{ApiError, Warning},
    domain::encode_component,
};

/// The switch of one row. Its server function takes the row's `id` and `active`. It is given two
/// actions for that one function: the confirmed turn-off, whose success closes its dialog (see
/// `InlineDialogs::follow`), and the one-click turn-on, whose success must not close
/// the dialog another row has open.
#[component]
pub fn ActiveSwitch<S, OutputProtocol>(
    id: String,
    /// The row's name, read after both buttons' labels ("Deactivate", "Reactivate") by
    /// assistive technology: "Staging".
    #[prop(into)]
    row: String,
    is_active: bool,
    turn_off: ServerAction<S>,
    turn_on: ServerAction<S>,
    /// The dialog's button: "Deactivate"; its lowercase names the dialog.
    off: &'static str,
    /// The confirming button: "Yes, deactivate Staging" (its name differs from the dialog
    /// button's, which reads "Deactivate Staging").
    #[prop(into)]
    off_confirmed: String,
    /// "Deactivating…"
    off_busy: &'static str,
    /// What turning off does, confirmed (and checked again by the server).
    warnings: Vec<Warning>,
    /// The turn-on button: "Reactivate" (the row's name follows, for assistive technology).
    on: &'static str,
    /// "Reactivating…"
    on_busy: &'static str,
    #[prop(optional)] danger: bool,
    off_testid: &'static str,
    on_testid: &'static str,
) -> impl IntoView
where
    S: DeserializeOwned
        + ServerFn<Protocol = Http<PostUrl, OutputProtocol>, Error = ApiError>
        + Clone
        + Send
        + Sync
        + 'static,
    <<S::Client as Client<ApiError>>::Request as ClientReq<ApiError>>::FormData: From<FormData>,
    S::Output: Send + Sync + 'static,
    S::Client: Client<ApiError>,
    OutputProtocol: 'static,
{
    // Both halves answer to the dialog's key: the focus goes from one to the other as the row
    // is rebuilt after a change (from the turn-off dialog to the turn-on button and back).
    let key = format!("{}:{id}", off.to_lowercase());
    if is_active {
        view! {
            <InlineDialog key label=off.to_owned() hidden_label=row danger testid=off_testid>
                <ActionForm action=turn_off>
                    <input type="hidden" name="id" value=id />
                    <input type="hidden" name="active" value="false" />
                    <Confirm warnings />
                    <SubmitButton
                        label=off_confirmed
                        busy=off_busy
                        pending=turn_off.pending()
                        danger
                        small=true
                    />
                </ActionForm>
            </InlineDialog>
        }
        .into_any()
    } else {
        let dialogs = expect_context::<InlineDialogs>();
        let marker = encode_component(&key);
        #[cfg(not(feature = "ssr"))]
        dialogs.take_focus_back(&key, format!("[data-switch=\"{marker}\"] button"), None);
        view! {
            <ActionForm
                action=turn_on
                attr:class="inline-dialog"
                attr:data-switch=marker
                on:submit=move |_| dialogs.focus_back_to(&key)
            >
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="active" value="true" />
                <SubmitButton
                    label=on
                    hidden_label=row
                    busy=on_busy
                    pending=turn_on.pending()
                    small=true
                    testid=on_testid
                />
            </ActionForm>
        }
        .into_any()
    }
}
