//! Once a page is interactive, the other sections' code is fetched while the browser is idle, so
//! that the first click into another section waits for its data only.
//!
//! Pages come in one WASM chunk per section (`pages`). Fetched on the first click into a section,
//! that chunk (56-137 KiB, brotli) stood between the click and the page: on the bench's throttled
//! first visit (Lighthouse's slow-4G figures), the first click from /members to /security took
//! 1,135 ms, and 195 ms once the chunk had been fetched while idle (docs/architecture.md).
//! Frameworks that split by route prefetch the routes a page links to in the same way; every
//! section is linked from the sidebar.
//!
//! Never before hydration: the page's own bundle and chunk come first, and the warm-up waits for
//! the browser's next idle period after that. A browser that asks to save data (the Save-Data
//! preference, or a 2G connection) keeps fetching a section's code on the first click only.

use std::time::Duration;

/// Starts fetching the other sections' chunks once the browser is idle (or in a second, where it
/// has no idle callback).
pub fn after_hydration() {
    if saves_data() {
        return;
    }
    let warm = || leptos::task::spawn_local(super::pages::preload_every_section());
    if leptos::prelude::request_idle_callback_with_handle(warm).is_err() {
        leptos::prelude::set_timeout(warm, Duration::from_secs(1));
    }
}

/// Whether the browser asks pages to fetch no more than they need: `navigator.connection` (the
/// Network Information API, Chromium's) with `saveData` set or a 2G effective type. A browser
/// without the API is taken not to.
fn saves_data() -> bool {
    use leptos::web_sys::js_sys::Reflect;

    let navigator = leptos::prelude::window().navigator();
    let Ok(connection) = Reflect::get(&navigator, &"connection".into()) else {
        return false;
    };
    if !connection.is_object() {
        return false;
    }
    let field = |name: &str| Reflect::get(&connection, &name.into()).ok();
    let save_data = field("saveData").and_then(|value| value.as_bool()) == Some(true);
    let effective_type = field("effectiveType").and_then(|value| value.as_string());
    save_data || matches!(effective_type.as_deref(), Some("slow-2g" | "2g"))
}
