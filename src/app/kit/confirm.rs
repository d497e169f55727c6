//! The confirmation every risky change carries: its consequences in words next to a required
//! checkbox. A native `required` input, so it holds without JavaScript; the checkbox sends the code
//! of the warnings shown, and the server works them out again and refuses a change that was not
//! confirmed, or confirmed with other consequences than it now has. (Without JavaScript a form
//! can only show what it knew when the page was rendered: the allowlist's add form, for one, shows
//! what any first entry means; a change that does more is refused, naming it.)

use leptos::prelude::*;

use crate::api::{confirmation_code, Warning};

/// Nothing when there is nothing to confirm.
#[component]
pub fn Confirm(
    #[prop(into)] warnings: Vec<Warning>,
    /// What is being done to whom ("Remove Ada from the platform?"), read first with the
    /// warnings; the page's words, not part of what the server checks.
    #[prop(optional, into)]
    lead: Option<String>,
) -> impl IntoView {
    (!warnings.is_empty()).then(|| {
        let code = confirmation_code(&warnings);
        view! {
            <div class="warning" role="alert" data-testid="confirmation">
                {lead.map(|lead| view! { <p>{lead}</p> })}
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
