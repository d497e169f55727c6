//! The confirmation every risky change carries: its consequences in words next to a required
//! checkbox. A native `required` input, so it holds without JavaScript; the server checks the same
//! warnings again and refuses a change that was not confirmed.

use leptos::prelude::*;

use crate::api::CONFIRMED;

/// Nothing when there is nothing to confirm.
#[component]
pub fn Confirm(#[prop(into)] warnings: Vec<String>) -> impl IntoView {
    (!warnings.is_empty()).then(|| {
        view! {
            <div class="warning" role="alert" data-testid="confirmation">
                <ul>
                    {warnings
                        .into_iter()
                        .map(|warning| view! { <li>{warning}</li> })
                        .collect_view()}
                </ul>
                <label class="checkbox">
                    <input type="checkbox" name="confirm" value=CONFIRMED required=true />
                    "I understand"
                </label>
            </div>
        }
    })
}
