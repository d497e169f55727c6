//! Loading the WASM that hydrates the page: after the page's first paint, never before it.
//!
//! Leptos's `HydrationScripts` preloads the bundle from the `<head>` (and, when it finds the split
//! manifest, every chunk the route uses), at high priority. Those downloads then compete with the
//! stylesheet for a slow connection, and Lighthouse's mobile model counts every one of them before
//! the largest paint: 2.1 s with the main bundle alone, 4.1 s when the chunks were preloaded too,
//! for a page the server had already rendered in full. (Its `defer` option still preloads, at low
//! priority, and leaves the chunks' preloads as they are.) Pages read in full and their forms post
//! without WASM, so painting first costs little: the bundle's JS and WASM are fetched together
//! once the first contentful paint has been presented, and with them the chunks of the route's
//! section, which the server names in the head (`name_route_chunks`). The price is that the
//! fetches start later (a page's interactive controls, the webhooks page's buttons say, wait that
//! much longer); on loopback the time to interactive did not grow (Chromium, median of 20, same
//! machine, back to back, with a chunk per page then: /members 401 -> 311 ms, /security 369 -> 272
//! ms).
//!
//! The route's chunks go with the main module rather than when hydration reaches the route (the
//! split loader's own time to ask): on a throttled first visit (150 ms added to each request,
//! 1.6 Mbps), that waited for the main module's download and start, then paid another round trip.
//! Asked for with it, /members and /security became interactive about 145 ms sooner (3,170
//! instead of 3,318 ms, 3,345 instead of 3,503; A/B in docs/architecture.md), and warm loads,
//! which read the chunks from the cache, 10-20 ms sooner. They are preloads (`as="fetch"`, CORS
//! as the split loader's `fetch` asks), so the split loader's request takes the preloaded
//! response instead of asking again.
//!
//! "Presented" is the paint entry's report (Chromium reports it on the compositor's
//! presentation), not a frame callback and a timer after it: with a slow compositor (Lighthouse's
//! headless Chromium) those ran before the paint was presented, so its model counted the first
//! download toward the largest paint (/members 0.8-1.3 s with the JS alone, 2.4 s in two runs of
//! three once the WASM was fetched with it; 0.9 s in nine of nine now). Waiting for the report
//! costs a warm load a few milliseconds (Chromium, three pairs: /members 133 -> 141 ms median).
//!
//! Leptos's preloads of the chunks also depended on cargo-leptos's `hash.txt` naming the split
//! manifest right, which it did not in every build of an older cargo-leptos. (0.3.10 names it with
//! the hash its file carries; the server warns at start-up when the line or the file is missing.)
//! Nothing is preloaded from the head now; the route's chunks are preloaded by the loader, below.
//!
//! Once the page is interactive, the loader fetches every section's chunks (the split manifest
//! lists them) into the HTTP cache while the browser is idle, so that the first click into another
//! section waits for its data, not a download. Fetched on the click, a section's chunk (100-134
//! KiB, brotli) and the shared modules it needs stood between the click and the page: after a
//! first visit on the bench's throttled network (150 ms added to each request, 1.6 Mbps), the
//! first click from /members to /security took about 1.1 s (docs/architecture.md has the figures).
//! The files are immutable, so a browser downloads them once per build (a later page load reads
//! them from the cache again, at low priority, off the main thread). A browser that asks to save
//! data (Save-Data, or a 2G connection, as `navigator.connection` says) is left to fetch a section
//! on the first click into it.

use leptos::prelude::*;

/// The inline module (it runs once the document is parsed) that starts hydration; `script` and
/// `wasm` are the bundle's paths, `manifest` the split manifest's or `null`.
const LOADER: &str = r#"((script, wasm, manifest) => {
  let started = false;
  const hydrate = () => {
    if (started) return;
    started = true;
    // The WASM is fetched while the JS that instantiates it is imported, not once it has been:
    // one link fewer in the chain before the page is interactive. Awaited together, so that a
    // failure of either is reported once (the page stays as the server rendered it, and works).
    const loaded = Promise.all([import(script), fetch(wasm)]);
    preloadRouteChunks();
    loaded
      .then(([bundle, module]) => bundle.default({ module_or_path: module }).then(() => bundle.hydrate()))
      .then(() => whenHydrated(warmSections), (error) => console.error("The page could not be made interactive:", error));
  };
  // The chunks of the route's section, which the split loader asks for only once the main module
  // runs and reaches the route (see the module's comment). A preload, not a fetch: the split
  // loader's `fetch` (CORS, same-origin credentials, as `crossOrigin = "anonymous"` asks) takes
  // the preloaded response. A chunk that fails here is asked for again by the split loader.
  const preloadRouteChunks = () => {
    const named = document.querySelector('meta[name="keystone-route-chunks"]');
    for (const href of named?.content.split(" ").filter(Boolean) ?? []) {
      const link = document.createElement("link");
      link.rel = "preload";
      link.as = "fetch";
      link.crossOrigin = "anonymous";
      link.href = href;
      document.head.append(link);
    }
  };
  // Hydration ends asynchronously, when the app marks the document (src/lib.rs).
  const whenHydrated = (callback) => {
    const root = document.documentElement;
    if (root.dataset.hydrated === "true") return callback();
    new MutationObserver((_, observer) => {
      if (root.dataset.hydrated !== "true") return;
      observer.disconnect();
      callback();
    }).observe(root, { attributes: true, attributeFilter: ["data-hydrated"] });
  };
  // Every section's chunks into the HTTP cache (see the module's comment), at the browser's next
  // idle period and at low priority. The responses are read only to be cached: the split loader
  // still instantiates a section on the first click into it, so a fetch that fails here costs the
  // warm-up only, and that click fetches the chunk as it would have anyway.
  const warmSections = () => {
    const connection = navigator.connection;
    if (!manifest || connection?.saveData || /2g/.test(connection?.effectiveType ?? "")) return;
    const idle = window.requestIdleCallback ?? ((callback) => setTimeout(callback, 1000));
    const lowPriority = { priority: "low" };
    const ok = (response) => {
      if (!response.ok) throw new Error(`${response.url}: ${response.status}`);
      return response;
    };
    idle(() =>
      fetch(manifest, lowPriority)
        .then((response) => ok(response).json())
        .then((sections) => {
          const chunks = new Set(Object.values(sections).flat());
          // What the split loader asks for: `./<chunk>.wasm` beside the manifest, in /pkg/.
          const url = (chunk) => new URL(`${chunk}.wasm`, new URL(manifest, location.href));
          return Promise.all([...chunks].map((chunk) => fetch(url(chunk), lowPriority).then((response) => ok(response).arrayBuffer())));
        })
        .catch(() => {}));
  };
  // Whatever becomes of its frames and paints (an occluded window, a tab never shown, a browser
  // that never reports its first paint), a page hydrates within 5 s. Armed first, so that nothing
  // below can skip it.
  setTimeout(hydrate, 5000);
  const afterNextPaint = () => requestAnimationFrame(() => setTimeout(hydrate, 0));
  if (window.PerformanceObserver?.supportedEntryTypes?.includes("paint")) {
    // Chromium reports the first contentful paint's entry once that paint has been presented (in
    // a tab opened in the background, once it is shown). A frame callback and a timer after it
    // can run before that on a slow compositor, and Lighthouse's model then counts the bundle's
    // downloads toward the largest paint (see above).
    new PerformanceObserver((entries, observer) => {
      if (entries.getEntriesByName("first-contentful-paint").length > 0) {
        observer.disconnect();
        hydrate();
      }
    }).observe({ type: "paint", buffered: true });
  } else if (document.visibilityState === "hidden") {
    // A tab opened in the background paints nothing until it is shown: it starts then, or at the
    // timer above, whichever comes first.
    document.addEventListener("visibilitychange", afterNextPaint, { once: true });
  } else {
    // requestAnimationFrame runs just before the next paint; the timeout after it, once painted.
    afterNextPaint();
  }
})"#;

/// Names the chunks of the route's section in the page's head (`<meta name="keystone-route-chunks">`,
/// their paths space-separated), for the loader to fetch beside the main module. Called as the
/// server renders a route of `section` (the split function's name); a build that was not split
/// names none, and the split loader fetches the section when hydration reaches the route.
/// Leptos has its own form of this (`prefetch_lazy_fn_on_server`, which leptos_integration_utils
/// turns into `<link rel="preload">`s in the head when `HydrationScripts` provided the manifest):
/// those start before the first paint, which is what this loader avoids (see the module's comment).
#[cfg(feature = "ssr")]
pub fn name_route_chunks(section: &str) {
    let Some(section_chunks) = use_context::<crate::server::assets::SectionChunks>() else {
        return;
    };
    let Some(paths) = section_chunks.of(section) else {
        return;
    };
    // Rendered only to be registered: leptos_meta puts it in the head (`<MetaTags />`), as it
    // does a page's `<Title>` rendered at the same point.
    let _ = view! { <leptos_meta::Meta name="keystone-route-chunks" content=paths.to_owned() /> }
        .to_html();
}

/// The `<script>` that hydrates the page after its first paint (server-rendered into the head).
#[component]
pub fn HydrateAfterFirstPaint() -> impl IntoView {
    #[cfg(feature = "ssr")]
    let (script, wasm, manifest) = {
        let names = crate::server::assets::names();
        (
            names.script.as_str(),
            names.wasm.as_str(),
            names.split_manifest.as_deref(),
        )
    };
    // The document's head is rendered only on the server; the browser never builds this.
    #[cfg(not(feature = "ssr"))]
    let (script, wasm, manifest) = ("", "", None::<&str>);
    // The page's CSP trusts exactly this response's nonce (see `server::middleware::page_csp`).
    let nonce = use_nonce();
    // Rust's `Debug` quoting is not JavaScript or HTML escaping; it is enough because the names
    // are ours: constants and hashes `assets` has checked (22 base64url characters).
    let manifest = manifest.map_or_else(|| "null".to_owned(), |path| format!("{path:?}"));
    view! {
        <script type="module" nonce=nonce>
            {format!("{LOADER}({script:?}, {wasm:?}, {manifest});")}
        </script>
    }
}
