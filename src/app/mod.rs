//! The user interface: the HTML document, the router and the application shell.

mod hydration;
mod kit;
mod layout;
mod pages;
#[cfg(feature = "hydrate")]
pub mod typed_early;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, Lazy, SsrMode,
};

use hydration::HydrateAfterFirstPaint;
use kit::{Announcer, ReadingBar, Reads, ShellRefresh, Toasts};
use layout::{ErrorPanel, Sidebar, TopBar};
use pages::{
    ActivityRoute, EnvironmentsRoute, MembersRoute, NotFoundPage, OverviewRoute, RolesRoute,
    SecurityRoute, SettingsRoute, UpstreamCheckRoute, WebhooksRoute,
};

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::middleware::attach_page_csp();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                // Named with its content hash in a release build (see `server::assets`).
                <HashedStylesheet options id="leptos" />
                <HydrateAfterFirstPaint />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: shell layout around the routed page.
///
/// Every route renders in order (`SsrMode::InOrder`): the server waits for each page's data and sends
/// finished HTML, so pages read correctly before (or without) the WASM bundle.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    Announcer::provide();
    Reads::provide();
    ShellRefresh::provide();

    // Each page in its section's WASM chunk (see `pages`). Bound here rather than written inline:
    // leptosfmt strips the braces of `view={Lazy::<T>::new()}`, which leaves an attribute the
    // `view!` macro cannot parse.
    let overview_page = Lazy::<OverviewRoute>::new();
    let members_page = Lazy::<MembersRoute>::new();
    let roles_page = Lazy::<RolesRoute>::new();
    let environments_page = Lazy::<EnvironmentsRoute>::new();
    let security_page = Lazy::<SecurityRoute>::new();
    let settings_page = Lazy::<SettingsRoute>::new();
    let webhooks_page = Lazy::<WebhooksRoute>::new();
    let activity_page = Lazy::<ActivityRoute>::new();
    let upstream_check_page = Lazy::<UpstreamCheckRoute>::new();

    view! {
        <Title formatter=|page: String| format!("{page} · KeyStone Dashboard") />
        <Router>
            // Left to the browser (`rel="external"`: the router would take the click, scroll
            // and leave the focus where it was); its own jump to the fragment focuses <main>.
            <a class="skip-link" href="#main" rel="external">
                "Skip to content"
            </a>
            <div class="app">
                <Sidebar />
                <div class="workspace">
                    <ReadingBar />
                    <TopBar />
                    <main id="main" class="content" tabindex="-1">
                        <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors /> }>
                            <Routes fallback=NotFoundPage>
                                <Route path=path!("") view=overview_page ssr=SsrMode::InOrder />
                                <Route
                                    path=path!("members")
                                    view=members_page
                                    ssr=SsrMode::InOrder
                                />
                                <Route path=path!("roles") view=roles_page ssr=SsrMode::InOrder />
                                <Route
                                    path=path!("settings")
                                    view=settings_page
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("environments")
                                    view=environments_page
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("security")
                                    view=security_page
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("webhooks")
                                    view=webhooks_page
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("activity")
                                    view=activity_page
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("upstream-check")
                                    view=upstream_check_page
                                    ssr=SsrMode::InOrder
                                />
                            </Routes>
                        </ErrorBoundary>
                    </main>
                </div>
                <Toasts />
            </div>
        </Router>
    }
}
