//! Adding networks, one at a time or pasted many to a line, each explained as it is typed.

use leptos::prelude::*;

use super::Drafts;
use crate::{
    api::{AddAllowlistEntries, AddAllowlistEntry, ChangeCheck, MAX_DESCRIPTION},
    app::kit::{count_of, Confirm, SubmitButton, TextField},
    domain::{overlap, Cidr, CidrError, Overlap},
};

/// What the typed network means, as you type: canonical form, problems, overlaps, warnings.
fn describe_input(input: &str, networks: &[Cidr]) -> (Option<Cidr>, Option<String>) {
    if input.trim().is_empty() {
        return (None, None);
    }
    match Cidr::parse(input) {
        Ok(cidr) => {
            let note = match overlap(&cidr, networks) {
                Overlap::Duplicate => Some(format!("{cidr} is already on the list.")),
                Overlap::CoveredBy(wider) => Some(format!("{cidr} is already allowed by {wider}.")),
                Overlap::Covers(narrower) => Some(format!(
                    "{cidr} includes {}.",
                    count_of(narrower.len() as u64, "existing entry", "existing entries")
                )),
                Overlap::None => Some(format!("{cidr}: {} addresses.", cidr.size_label())),
            };
            (Some(cidr), note)
        }
        Err(error) => (None, Some(error.to_string())),
    }
}

#[component]
pub(super) fn AddEntryForm(
    action: ServerAction<AddAllowlistEntry>,
    /// The list and recent callers this change is checked against (the lockout preview).
    check: ChangeCheck,
) -> impl IntoView {
    let drafts = expect_context::<Drafts>();
    let cidr_field = NodeRef::<leptos::html::Input>::new();
    // The change is made where this page shows it, or refused (another tab switched).
    let shown_environment = check.environment().to_string();
    let input = drafts.network;
    let description = drafts.description;
    let networks = check.networks().to_vec();
    let known = networks.clone();
    let analysis = Memo::new(move |_| describe_input(&input.get(), &known));
    let suggestion = move || match Cidr::parse(&input.get()) {
        Err(CidrError::HostBitsSet(_, canonical)) => Some(canonical),
        _ => None,
    };
    let warnings = Memo::new(move |_| {
        let adding: Vec<Cidr> = analysis.get().0.into_iter().collect();
        // Before anything valid is typed, show what any first entry (or production) would mean.
        if adding.is_empty() {
            check.any_addition()
        } else {
            check.adding(&adding)
        }
    });
    let is_problem = Memo::new(move |_| {
        let (cidr, _) = analysis.get();
        !input.get().trim().is_empty()
            && cidr.is_none_or(|cidr| {
                matches!(
                    overlap(&cidr, &networks),
                    Overlap::Duplicate | Overlap::CoveredBy(_)
                )
            })
    });

    view! {
        <section class="panel">
            <h2>"Add a network"</h2>
            <ActionForm action attr:class="form" attr:data-testid="add-entry-form">
                <input type="hidden" name="environment" value=shown_environment />
                <label for="allowlist-cidr">"IP address or CIDR network"</label>
                <input
                    id="allowlist-cidr"
                    node_ref=cidr_field
                    name="cidr"
                    type="text"
                    required=true
                    autocomplete="off"
                    spellcheck="false"
                    placeholder="203.0.113.0/24 or 2001:db8::/48"
                    bind:value=input
                    aria-describedby="allowlist-cidr-hint"
                    aria-invalid=move || is_problem.get().to_string()
                />
                <p id="allowlist-cidr-hint" class="hint" class:hint--error=move || is_problem.get() data-testid="cidr-hint">
                    {move || analysis.get().1}
                    {move || {
                        suggestion()
                            .map(|canonical| {
                                view! {
                                    " "
                                    <button
                                        type="button"
                                        class="button button--small button--secondary"
                                        on:click=move |_| {
                                            input.set(canonical.to_string());
                                            // The button goes once the network is right: the
                                            // focus goes to the field it changed.
                                            if let Some(field) = cidr_field.get_untracked() {
                                                let _ = field.focus();
                                            }
                                        }
                                    >
                                        {format!("Use {canonical}")}
                                    </button>
                                }
                            })
                    }}
                </p>
                <TextField id="allowlist-description" label="Description (optional)" name="description" value=description maxlength=MAX_DESCRIPTION placeholder="Office, VPN, CI runners…" />
                {move || view! { <Confirm warnings=warnings.get() /> }}
                <SubmitButton label="Add network" busy="Adding…" pending=action.pending() testid="add-entry" />
            </ActionForm>
        </section>
    }
    .into_any()
}

#[component]
pub(super) fn BulkAddForm(
    action: ServerAction<AddAllowlistEntries>,
    /// The list and recent callers the pasted lines are judged against.
    check: ChangeCheck,
) -> impl IntoView {
    let text = expect_context::<Drafts>().bulk_lines;
    let shown_environment = check.environment().to_string();
    let judged = Memo::new(move |_| check.adding_lines(&text.get()));
    let preview = Memo::new(move |_| judged.with(|(lines, _)| lines.clone()));
    let warnings = Memo::new(move |_| judged.with(|(_, warnings)| warnings.clone()));
    view! {
        <section class="panel">
            <h2>"Add many"</h2>
            <p class="muted">
                "One network per line, optionally followed by a comma or space and a description. Lines starting with # are skipped."
            </p>
            <ActionForm action attr:class="form" attr:data-testid="bulk-form">
                <input type="hidden" name="environment" value=shown_environment />
                <label for="allowlist-bulk" class="visually-hidden">
                    "Networks to add"
                </label>
                <textarea
                    id="allowlist-bulk"
                    name="lines"
                    rows="6"
                    spellcheck="false"
                    bind:value=text
                ></textarea>
                {move || {
                    text.with(|lines| crate::api::too_many_lines(lines))
                        .map(|refusal| {
                            view! {
                                <p class="form-error" role="alert" data-testid="bulk-too-long">
                                    {refusal}
                                </p>
                            }
                        })
                }}
                <ol class="bulk-preview" data-testid="bulk-preview">
                    {move || {
                        preview
                            .get()
                            .into_iter()
                            .map(|line| {
                                let (ok, note) = match &line.outcome {
                                    Ok((cidr, _)) => (true, format!("will add {cidr}")),
                                    Err(error) => (false, error.clone()),
                                };
                                view! {
                                    <li class:bulk-preview--error=!ok>
                                        <span class="mono">{format!("line {}: {}", line.line, line.text)}</span>
                                        " — "
                                        {note}
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ol>
                {move || view! { <Confirm warnings=warnings.get() /> }}
                <SubmitButton
                    label="Add these networks"
                    busy="Adding…"
                    pending=action.pending()
                    testid="bulk-add"
                />
            </ActionForm>
            {move || {
                action
                    .value()
                    .get()
                    .and_then(Result::ok)
                    .map(|lines| {
                        view! {
                            <ol class="bulk-preview" data-testid="bulk-results">
                                {lines
                                    .into_iter()
                                    .map(|line| {
                                        let ok = line.outcome.is_ok();
                                        let note = match line.outcome {
                                            Ok(cidr) => format!("added {cidr}"),
                                            Err(error) if line.unconfirmed => {
                                                format!("may have been added: {error}")
                                            }
                                            Err(error) => format!("not added: {error}"),
                                        };
                                        view! {
                                            <li class:bulk-preview--error=!ok>
                                                {format!("line {}: {} — {note}", line.line, line.text)}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ol>
                        }
                    })
            }}
        </section>
    }
    .into_any()
}
