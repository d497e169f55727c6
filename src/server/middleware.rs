//! Cross-cutting request checks and response hardening: the CSRF check, the sign-in gate and the
//! security headers.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{header, HeaderName, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use leptos::nonce::use_nonce;
use leptos::prelude::use_context;
use leptos::server_fn::error::FromServerFnError;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::Session;

use super::{pages::problem_page, session::SessionState, AppState, Bff};
use crate::{api::ApiError, domain::ReturnTo};

/// Policy for replies that are not app pages (server-function JSON, static files, errors): they never
/// need to run script or be framed, so they get the strictest policy there is.
const LOCKED_DOWN_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Content-Security-Policy of an app page, keyed to this response's nonce (ASVS 5 V3.4).
///
/// - Scripts: only the inline hydration script carrying this response's nonce, our own `/pkg` module
///   and WASM compilation (`wasm-unsafe-eval`); no `unsafe-inline`, so injected markup cannot run script.
/// - `frame-ancestors 'none'` stops clickjacking; `base-uri 'none'` stops `<base>` hijacking of relative URLs;
///   `object-src 'none'` rules out plugins.
/// - `form-action` names the identity provider too: Chromium applies it to the redirect that
///   follows a form post, and signing out posts to `/auth/logout`, which redirects there.
pub fn page_csp(nonce: &str, provider_origin: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data: https:; font-src 'self'; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'; form-action 'self' {provider_origin}"
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
    let provider_origin = use_context::<AppState>()
        .map(|state| state.bff.provider.origin())
        .unwrap_or_default();
    if let Ok(value) = HeaderValue::from_str(&page_csp(&nonce, &provider_origin)) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// CSRF defence for every state-changing request, server functions included (Leptos has none
/// built in; ASVS 5 V3.5, browser origin separation): anything but GET/HEAD/OPTIONS must come from
/// our own origin.
///
/// Browsers send `Sec-Fetch-Site` (Fetch Metadata, OWASP CSRF cheat sheet); only `same-origin` is
/// accepted: `same-site` would trust sibling subdomains, `none` is a typed URL, not a page's form.
/// Without it, `Origin` must equal the configured public URL. Without either, the request is
/// refused: every browser that could be tricked into a cross-site POST sends one of the two.
/// SameSite=Lax on the cookie is a second, independent layer.
/// The request's `Sec-Fetch-Site` (Fetch Metadata), when the browser sent one.
fn fetch_site(request: &Request) -> Option<&str> {
    request
        .headers()
        .get("sec-fetch-site")
        .and_then(|value| value.to_str().ok())
}

/// Whether a path is a server function's (they all live under `/api/`).
pub fn is_server_fn_path(path: &str) -> bool {
    path.starts_with("/api/")
}

pub async fn reject_cross_site(
    State(bff): State<Arc<Bff>>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let fetch_site = fetch_site(&request);
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok());
    let same_origin = match (fetch_site, origin) {
        (Some(site), _) => site == "same-origin",
        (None, Some(origin)) => origin == bff.public_url,
        (None, None) => false,
    };
    if same_origin {
        return next.run(request).await;
    }
    tracing::warn!(
        method = %request.method(),
        path = request.uri().path(),
        sec_fetch_site = fetch_site.unwrap_or("-"),
        origin = origin.unwrap_or("-"),
        "cross-site request refused"
    );
    (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response()
}

/// Paths anyone may reach: the sign-in routes, probes, metrics (which has its own address check)
/// and static assets.
pub(crate) fn is_public(path: &str) -> bool {
    path.starts_with("/auth/")
        || path.starts_with("/pkg/")
        || matches!(
            path,
            "/healthz" | "/readyz" | "/metrics" | "/favicon.svg" | "/favicon.ico" | "/robots.txt"
        )
}

/// The sign-in gate. Pages without a signed-in member redirect to the login (and back here after);
/// server functions answer 401 so the page can do the same. A session past its idle or absolute
/// limit, or signed into an organization a pinned deployment does not serve, is ended here, its
/// tokens removed and its refresh token revoked.
pub async fn require_member(
    State(bff): State<Arc<Bff>>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if is_public(&path) {
        return next.run(request).await;
    }
    let member = match bff.current_member(&session).await {
        Ok(member) => member,
        Err(error) => {
            tracing::error!(%error, "session store unavailable");
            return sessions_unavailable();
        }
    };
    let member = match member {
        SessionState::SignedIn { member, .. } => member,
        SessionState::Anonymous => return signed_out(&request),
        SessionState::Expired(reason) => {
            bff.end_session(&session).await;
            tracing::info!(reason = ?reason, "session expired");
            return signed_out(&request);
        }
    };
    // The tokens are the session: once they are gone (signed out, refresh refused) the record must
    // not let anyone in, even if a request that was in flight during the sign-out wrote it back.
    match bff.vault.held(&member.tokens).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::info!("session without tokens ended");
            bff.end_session(&session).await;
            return signed_out(&request);
        }
        Err(error) => {
            tracing::error!(%error, "session store unavailable");
            return sessions_unavailable();
        }
    }
    let tokens = member.tokens.clone();
    request.extensions_mut().insert(member);
    request.extensions_mut().insert(Arc::new(
        crate::server::member::Resolved::with_shell_ticket(bff.shell_platforms.ticket()),
    ));
    let mut response = next.run(request).await;
    // A sign-out that took effect while this request was in flight removed the tokens: the record
    // this request changed (its "last seen" mark) is not written back, and flushed, the session
    // layer answers with a removal cookie instead of the old one. Checked only when the record
    // changed, which is rare (see `SessionPolicy::touch_interval`).
    if session.is_modified() && matches!(bff.vault.exists(&tokens).await, Ok(false)) {
        tracing::info!("the session ended while this request was in flight");
        if let Err(error) = session.flush().await {
            tracing::error!(%error, "could not delete the session record");
        }
    }
    // Pages and data of a signed-in member are personal: no shared or browser cache keeps them.
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// The largest refusal a server function sends (an `ApiError` as JSON); a 500 whose body is larger,
/// or of unknown length, is not one and passes through untouched.
const MAX_REFUSAL_BYTES: usize = 64 * 1024;

/// Gives a server function's refusal its own status when the function's body never ran. Leptos
/// answers every server function error with 500; inside the body `member::respond` sets the status
/// of the `ApiError`, but arguments that do not decode (an environment filter outside the slug
/// grammar, a missing field) are refused before it, and would read as a server fault to clients,
/// proxies and the logs. They carry `ApiError::BadRequest`: this answers 400.
pub async fn server_fn_status(request: Request, next: Next) -> Response {
    let is_server_fn = is_server_fn_path(request.uri().path());
    let response = next.run(request).await;
    if !is_server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    match read_refusal(response).await {
        Ok((mut parts, error, bytes)) => {
            parts.status =
                StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Response::from_parts(parts, axum::body::Body::from(bytes))
        }
        Err(response) => response,
    }
}

/// A server function's reply read as its refusal (an `ApiError` as JSON, small and of known
/// length), or given back as it came when it is not one.
async fn read_refusal(
    response: Response,
) -> Result<(axum::http::response::Parts, ApiError, axum::body::Bytes), Response> {
    let size = axum::body::HttpBody::size_hint(response.body()).exact();
    if size.is_none_or(|size| size > MAX_REFUSAL_BYTES as u64) {
        return Err(response);
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_REFUSAL_BYTES).await else {
        // The body failed mid-way: what is left of the reply is its status and headers.
        return Err(Response::from_parts(parts, axum::body::Body::empty()));
    };
    match serde_json::from_slice::<ApiError>(&bytes) {
        Ok(error) => Ok((parts, error, bytes)),
        Err(_) => Err(Response::from_parts(parts, axum::body::Body::from(bytes))),
    }
}

/// A plain form post (a browser without the WASM bundle, or before it loaded) that a server
/// function refused. leptos_axum answers it with the refusal's status and the `ApiError` as JSON,
/// which the browser showed as raw text at `/api/…`; it gets a page instead that says what was
/// refused, in the refusal's status, with a way back to the page the form was on. The app's own
/// calls ask for JSON and pass through.
pub async fn plain_form_refusals(
    State(bff): State<Arc<Bff>>,
    request: Request,
    next: Next,
) -> Response {
    let is_plain_form_post = request.method() == Method::POST
        && is_server_fn_path(request.uri().path())
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
    if !is_plain_form_post {
        return next.run(request).await;
    }
    // Back to a page of this dashboard only: the Referer is the browser's word, and a link built
    // from another origin's would be an open redirect.
    let back = ReturnTo::or_home(
        request
            .headers()
            .get(header::REFERER)
            .and_then(|referer| referer.to_str().ok())
            .and_then(|referer| referer.strip_prefix(bff.public_url.as_str()))
            .filter(|path| path.starts_with('/')),
    );
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    match read_refusal(response).await {
        Ok((_, error, _)) => refusal_page(status, &error, &back),
        Err(response) => response,
    }
}

/// What a refused form post shows: what happened to the change first, then why.
fn refusal_page(status: StatusCode, error: &ApiError, back: &ReturnTo) -> Response {
    let back_link = (back.as_str(), "Back to the page");
    match error {
        ApiError::SignedOut => problem_page(
            status,
            "Your session has ended",
            &["Nothing was changed. Sign in again, then make the change again."],
            (&back.sign_in_href(), "Sign in again"),
        ),
        ApiError::Validation(fields) => {
            let mut paragraphs: Vec<&str> =
                fields.iter().map(|field| field.message.as_str()).collect();
            paragraphs.push("Nothing was saved. Go back to the form to correct it.");
            problem_page(status, "Some fields need attention", &paragraphs, back_link)
        }
        ApiError::Unavailable {
            may_have_applied: true,
        }
        | ApiError::UnexpectedReply {
            may_have_applied: true,
        } => problem_page(
            status,
            "This change may have been saved",
            &[&error.to_string()],
            back_link,
        ),
        other => problem_page(
            status,
            "The change could not be completed",
            &[&other.to_string()],
            back_link,
        ),
    }
}

fn sessions_unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "Sessions are unavailable; try again shortly.",
    )
        .into_response()
}

fn signed_out(request: &Request) -> Response {
    let is_page = request.method() == Method::GET && !is_server_fn_path(request.uri().path());
    if is_page {
        let here = request
            .uri()
            .path_and_query()
            .map(|path| path.as_str())
            .unwrap_or("/");
        return Redirect::to(&ReturnTo::or_home(Some(here)).sign_in_href()).into_response();
    }
    let body = ApiError::SignedOut.ser();
    (
        StatusCode::UNAUTHORIZED,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
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

/// Offers compression only to requests the dashboard's own pages make or the member starts
/// (`Sec-Fetch-Site: same-origin` or `none`), by hiding `Accept-Encoding` from the others.
///
/// BREACH: a cross-site page can send a member's browser to `/members?search=<guess>` (the Lax
/// cookie goes along on a top-level navigation) and watch the size of the compressed reply, which
/// holds secrets (pending invitation links) beside the reflected guess. Uncompressed, the size
/// tells nothing. A browser without Fetch Metadata gets pages uncompressed too. The bundle under
/// `/pkg/` holds no secret and keeps its precompressed files for everyone.
pub async fn compress_only_own_requests(mut request: Request, next: Next) -> Response {
    let own = matches!(fetch_site(&request), Some("same-origin" | "none"));
    if !own && !request.uri().path().starts_with("/pkg/") {
        request.headers_mut().remove(header::ACCEPT_ENCODING);
    }
    next.run(request).await
}
