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
use leptos_router::LazyRoute;

/// Pages come in WASM chunks by section (`cargo leptos build --split`): the first load carries the
/// shell and the current page's section only. The other sections' chunks are fetched into the
/// browser's cache once the page is interactive (`app::hydration`; not where the browser asks to
/// save data), and loaded from there the first time the member goes to one of them. A section, not
/// a page: wasm-split gives the code that two or more chunks share a module of its own for each set
/// of chunks sharing it, and with a chunk per page a first load instantiated up to 76 modules,
/// which cost more blocking time than the bytes saved (figures in docs/architecture.md). The
/// sections are a choice: the sidebar's Team pages, its four Settings pages as two sections of
/// similar size, and the overview with Monitoring. On a page entered directly, the server names its
/// section's chunks in the head, and the loader fetches them beside the main module
/// (`app::hydration::name_route_chunks`). `data` is empty: each page starts its own reads
/// when it renders, so on a page entered directly the server has sent them with the HTML; a click
/// into a section loads its chunk (from the cache, or the network if it is not there yet) before
/// the page's reads start.
///
/// `#[lazy]` names a split function's preload `__preload_<function>`; `macro_rules!` cannot
/// build that name, so each section spells it out (a mismatch does not compile for the browser).
macro_rules! lazy_sections {
    ($(
        $section:ident, $preload_section:ident: $pages:ident {
            $($route:ident => $page:path),* $(,)?
        }
    )*) => {$(
        // Each variant is named after the route it stands for.
        #[allow(clippy::enum_variant_names)]
        #[derive(Clone, Copy)]
        enum $pages {
            $($route),*
        }

        /// One split point for the whole section: its pages' code is one chunk. Every section's
        /// split name carries the same hash (of this macro's call site): they are told apart by
        /// the function's name, so each section needs a name of its own.
        #[leptos::lazy]
        fn $section(page: $pages) -> AnyView {
            match page {
                $($pages::$route => $page().into_any()),*
            }
        }

        $(
            pub struct $route;

            // What `#[lazy_route]` writes, with the section's split point instead of the page's.
            impl LazyRoute for $route {
                fn data() -> Self {
                    Self
                }

                async fn view(_this: Self) -> AnyView {
                    #[cfg(feature = "ssr")]
                    crate::app::hydration::name_route_chunks(stringify!($section));
                    $section($pages::$route).await
                }

                // The router awaits this before it renders (or hydrates) the route.
                async fn preload() {
                    #[cfg(target_arch = "wasm32")]
                    $preload_section().await;
                }
            }
        )*
    )*};
}

lazy_sections! {
    overview_section, __preload_overview_section: OverviewPages {
        OverviewRoute => overview::OverviewPage,
        ActivityRoute => activity::ActivityPage,
        UpstreamCheckRoute => upstream_check::UpstreamCheckPage,
    }
    team_section, __preload_team_section: TeamPages {
        MembersRoute => members::MembersPage,
        RolesRoute => roles::RolesPage,
    }
    environments_section, __preload_environments_section: EnvironmentsPages {
        EnvironmentsRoute => environments::EnvironmentsPage,
        SecurityRoute => security::SecurityPage,
    }
    settings_section, __preload_settings_section: SettingsPages {
        SettingsRoute => settings::GeneralSettingsPage,
        WebhooksRoute => webhooks::WebhooksPage,
    }
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
