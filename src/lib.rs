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
    leptos::mount::hydrate_body(app::App);
}
