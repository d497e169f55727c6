//! The user interface: the HTML document, the router and the application shell.

mod kit;
mod layout;
mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use kit::{Announcer, Toasts};
use layout::{ErrorPanel, Sidebar, TopBar};
use pages::{
    ActivityPage, EnvironmentsPage, MembersPage, NotFoundPage, OverviewPage, RolesPage,
    SecurityPage, UpstreamCheckPage,
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
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
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
    mark_hydrated();

    view! {
        <Title formatter=|page: String| format!("{page} · KeyStone Dashboard") />
        <Router>
            <a class="skip-link" href="#main">
                "Skip to content"
            </a>
            <div class="app">
                <Sidebar />
                <div class="workspace">
                    <TopBar />
                    <main id="main" class="content" tabindex="-1">
                        <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors /> }>
                            <Routes fallback=NotFoundPage>
                                <Route path=path!("") view=OverviewPage ssr=SsrMode::InOrder />
                                <Route
                                    path=path!("members")
                                    view=MembersPage
                                    ssr=SsrMode::InOrder
                                />
                                <Route path=path!("roles") view=RolesPage ssr=SsrMode::InOrder />
                                <Route
                                    path=path!("environments")
                                    view=EnvironmentsPage
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("security")
                                    view=SecurityPage
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("activity")
                                    view=ActivityPage
                                    ssr=SsrMode::InOrder
                                />
                                <Route
                                    path=path!("upstream-check")
                                    view=UpstreamCheckPage
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

/// Marks the document once the WASM bundle has taken over, so browser tests (and curious humans in
/// the inspector) can tell a hydrated page from server-rendered HTML. Effects never run on the server.
fn mark_hydrated() {
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
}
