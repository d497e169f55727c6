//! One module per page. Pages whose feature has not landed yet say so plainly and say what is coming.

mod activity;
mod environments;
mod overview;
mod placeholder;
mod security;

use leptos::prelude::*;
use leptos_meta::Title;

pub use activity::ActivityPage;
pub use environments::EnvironmentsPage;
pub use overview::OverviewPage;
use placeholder::NotBuiltYet;
pub use security::SecurityPage;

#[component]
pub fn MembersPage() -> impl IntoView {
    view! {
        <NotBuiltYet
            title="Members"
            summary="Everyone on your platform's team, their roles, and the invitations still pending."
        />
    }
}

#[component]
pub fn RolesPage() -> impl IntoView {
    view! {
        <NotBuiltYet title="Roles" summary="Each role, what it allows, and how many members hold it." />
    }
}

/// Shown for any path no route matches; answers with HTTP 404 on the server.
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
            <p>"There is no page at this address. It may have moved, or the link may be mistyped."</p>
            <p>
                <a class="button" href="/">
                    "Go to the overview"
                </a>
            </p>
        </section>
    }
}
