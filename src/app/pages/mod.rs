//! One module per page. Pages whose feature has not landed yet say so plainly and say what is coming.

mod placeholder;
mod security;

use leptos::prelude::*;
use leptos_meta::Title;

use placeholder::NotBuiltYet;
pub use security::SecurityPage;

#[component]
pub fn OverviewPage() -> impl IntoView {
    view! {
        <NotBuiltYet
            title="Overview"
            summary="Your platform at a glance: its environments, who is on the team and what changed recently."
        />
    }
}

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

#[component]
pub fn EnvironmentsPage() -> impl IntoView {
    view! {
        <NotBuiltYet
            title="Environments"
            summary="Development, staging, production and any others: their API version, limits and M2M client."
        />
    }
}

#[component]
pub fn ActivityPage() -> impl IntoView {
    view! {
        <NotBuiltYet title="Activity" summary="Every change made to your platform, who made it and when." />
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
