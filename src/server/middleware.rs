//! Response hardening applied to every reply of the dashboard.

use axum::http::{header, HeaderName, HeaderValue};
use leptos::nonce::use_nonce;
use leptos::prelude::use_context;
use tower_http::set_header::SetResponseHeaderLayer;

/// Policy for replies that are not app pages (server-function JSON, static files, errors): they never
/// need to run script or be framed, so they get the strictest policy there is.
const LOCKED_DOWN_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Content-Security-Policy of an app page, keyed to this response's nonce.
///
/// - Scripts: only the inline hydration script carrying this response's nonce, our own `/pkg` module
///   and WASM compilation (`wasm-unsafe-eval`); no `unsafe-inline`, so injected markup cannot run script.
/// - `frame-ancestors 'none'` stops clickjacking; `base-uri 'none'` stops `<base>` hijacking of relative URLs;
///   `object-src 'none'` rules out plugins.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data: https:; font-src 'self'; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
}

/// Called while rendering a page on the server: gives the page a CSP that trusts exactly this
/// response's nonce (the one Leptos stamps on its inline scripts).
pub fn attach_page_csp() {
    let (Some(nonce), Some(response)) =
        (use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&page_csp(&nonce)) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Headers every reply carries. `if_not_present` lets a page's own CSP stand.
pub fn security_headers(serves_https: bool) -> Vec<SetResponseHeaderLayer<HeaderValue>> {
    let mut layers = vec![
        SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(LOCKED_DOWN_CSP),
        ),
        SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        // For browsers that predate CSP's frame-ancestors.
        SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ),
        // URLs of an admin console can carry ids and search terms: never leak them to other sites.
        SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
        SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
        SetResponseHeaderLayer::overriding(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(
                "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
            ),
        ),
    ];
    if serves_https {
        // HSTS only makes sense (and is only honoured) over https.
        layers.push(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        ));
    }
    layers
}
