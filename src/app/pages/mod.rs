//! One module per page. Pages whose feature has not landed yet say so plainly and say what is coming.

mod activity;
mod environments;
mod members;
mod overview;
mod roles;
mod security;
mod upstream_check;

use leptos::prelude::*;
use leptos_meta::Title;

pub use activity::ActivityPage;
pub use environments::EnvironmentsPage;
pub use members::MembersPage;
pub use overview::OverviewPage;
pub use roles::RolesPage;
pub use security::SecurityPage;
pub use upstream_check::UpstreamCheckPage;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <section class="panel panel--empty" data-testid="not-found">
            <h1>"Page not found"</h1>
            <p>
                "There is no page at this address. It may have moved, or the link may be mistyped."
            </p>
            <p>
                <a class="button" href="/">
                    "Go to the overview"
                </a>
            </p>
        </section>
    }
}
