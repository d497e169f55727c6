//! Settings > API check: runs every read the dashboard makes against the configured KeyStone API,
//! in every environment, and shows which answered as the dashboard expects and which did not.

use leptos::prelude::*;

use crate::{
    api::{CheckUpstream, UpstreamCheck, UpstreamReport},
    app::kit::{LoadFailed, PageHeader, SubmitButton, TableScroll},
};

#[component]
pub fn UpstreamCheckPage() -> impl IntoView {
    let run = ServerAction::<CheckUpstream>::new();
    view! {
        <PageHeader
            title="API check"
            summary="Calls each read the dashboard makes, in each environment, and checks that the KeyStone API answers in the shape the dashboard expects. Nothing is changed. Run it once after pointing the dashboard at a new deployment."
        />
        <section class="panel">
            <ActionForm action=run>
                <SubmitButton
                    label="Run the check"
                    busy="Checking…"
                    pending=run.pending()
                    testid="run-check"
                />
            </ActionForm>
        </section>
        <div aria-live="polite">
            {move || match run.value().get() {
                None => None,
                Some(Ok(report)) => Some(view! { <Report report /> }.into_any()),
                Some(Err(error)) => Some(view! { <LoadFailed error /> }.into_any()),
            }}
        </div>
    }
}

#[component]
fn Report(report: UpstreamReport) -> impl IntoView {
    let failed = report.failures().count();
    let summary = if failed == 0 {
        format!(
            "All {} reads answered as expected (Keystone-Version {}).",
            report.checks.len(),
            report.api_version
        )
    } else {
        format!(
            "{failed} of {} reads did not answer as expected (Keystone-Version {}).",
            report.checks.len(),
            report.api_version
        )
    };
    view! {
        <section class="panel" data-testid="check-report">
            <p class:section-failed=failed != 0 data-testid="check-summary">
                <strong>{summary}</strong>
            </p>
            <TableScroll label="Outcome of each read">
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col">"Environment"</th>
                            <th scope="col">"Read"</th>
                            <th scope="col">"Outcome"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {report
                            .checks
                            .into_iter()
                            .map(|check| view! { <CheckRow check /> })
                            .collect_view()}
                    </tbody>
                </table>
            </TableScroll>
        </section>
    }
}

#[component]
fn CheckRow(check: UpstreamCheck) -> impl IntoView {
    let expected = check.outcome.is_expected();
    view! {
        <tr data-testid="check-row" data-ok=expected.to_string()>
            <td class="mono">{check.environment}</td>
            <td>
                <span class="mono">{check.call}</span>
                <br />
                <span class="muted">{check.purpose}</span>
            </td>
            <td class:as-stored=!expected>{check.outcome.describe()}</td>
        </tr>
    }
}
