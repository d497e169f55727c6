//! The confirmation every risky change carries: its consequences in words next to a required
//! checkbox. A native `required` input, so it holds without JavaScript; the checkbox sends the code
//! of the warnings shown, and the server works them out again and refuses a change that was not
//! confirmed, or confirmed with other consequences than it now has.

use leptos::prelude::*;

use crate::api::{confirmation_code, Warning};

/// Nothing when there is nothing to confirm.
#[component]
pub fn Confirm(#[prop(into)] warnings: Vec<Warning>) -> impl IntoView {
    (!warnings.is_empty()).then(|| {
        let code = confirmation_code(&warnings);
        view! {
            <div class="warning" role="alert" data-testid="confirmation">
                <ul>
                    {warnings
                        .into_iter()
                        .map(|warning| view! { <li>{warning.text().to_owned()}</li> })
                        .collect_view()}
                </ul>
                <label class="checkbox">
                    <input type="checkbox" name="confirm" value=code required=true />
                    "I understand"
                </label>
            </div>
        }
    })
}
