//! One module per page. Pages whose feature has not landed yet say so plainly and say what is coming.

mod activity;
mod environments;
mod members;
mod overview;
mod roles;
mod security;
mod settings;
mod upstream_check;
mod webhooks;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{lazy_route, LazyRoute};

/// Each page's code comes in its own WASM chunk (`cargo leptos build --split`): the first load
/// carries the shell and the current page's chunk only, and another page's chunk is fetched the
/// first time the member goes there. `data` is empty: each page starts its own reads when it
/// renders, so on a page entered directly the server has sent them with the HTML, but the first
/// click to a page fetches its chunk before its reads start (one round trip more than an unsplit
/// bundle, on that first visit only).
macro_rules! lazy_pages {
    ($($route:ident => $page:path),* $(,)?) => {$(
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                $page().into_any()
            }
        }
    )*};
}

lazy_pages! {
    OverviewRoute => overview::OverviewPage,
    MembersRoute => members::MembersPage,
    RolesRoute => roles::RolesPage,
    EnvironmentsRoute => environments::EnvironmentsPage,
    SecurityRoute => security::SecurityPage,
    SettingsRoute => settings::GeneralSettingsPage,
    WebhooksRoute => webhooks::WebhooksPage,
    ActivityRoute => activity::ActivityPage,
    UpstreamCheckRoute => upstream_check::UpstreamCheckPage,
}

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
