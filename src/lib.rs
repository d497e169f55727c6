//! KeyStone Dashboard: the admin console of KeyStone OS.
//!
//! One crate, two builds:
//! - `ssr`: the axum backend-for-frontend (BFF) that renders pages, runs server functions and holds every token;
//! - `hydrate`: the WASM bundle that makes the server-rendered pages interactive in the browser.
//!
//! Layout: [`app`] is the UI, [`api`] the types and server functions shared by both builds,
//! [`domain`] the validated newtypes, and `server` (ssr only) the BFF itself.

// The CSV export's handler nests the allowlist read's paging futures deeper than rustc's default
// layout query depth (128) allows.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the WASM bundle: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // What `leptos::mount::hydrate_lazy` does, plus a mark once it is done. With lazy routes the
    // current page's section chunk is fetched before its part of the page hydrates, so hydration
    // ends asynchronously; `data-hydrated` (what the browser tests and the benchmark's time to
    // interactive wait for) is set only then, when every control on the page answers.
    let typed_early = app::typed_early::TypedEarly::watch();
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document()
            .body()
            .expect("a page has a body");
        let app = leptos::mount::hydrate_from_async(body, app::App).await;
        app.forget();
        typed_early.restore();
        if let Some(root) = leptos::prelude::document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
}
