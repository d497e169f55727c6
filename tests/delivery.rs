//! How pages and the bundle travel: compressed by what the browser accepts, and the bundle's
//! content-hashed files kept by browsers for a year while anything else is revalidated.

mod common;

use common::{spawn_app, TestApp};
use reqwest::{header, StatusCode};

/// A signed-in page, asked for with `accept_encoding` (none: the header left out) from `site`
/// (`Sec-Fetch-Site`).
async fn page_encoding(
    app: &TestApp,
    site: &str,
    accept_encoding: Option<&str>,
) -> (StatusCode, Option<String>) {
    let browser = app.browser();
    browser.sign_in().await;
    let cookie = browser.session_cookie().expect("signed in");
    let mut request = reqwest::Client::new()
        .get(format!("{}/members", app.addr_url))
        .header(header::COOKIE, format!("__Host-keystone_session={cookie}"))
        .header("sec-fetch-site", site);
    if let Some(accept_encoding) = accept_encoding {
        request = request.header(header::ACCEPT_ENCODING, accept_encoding);
    }
    let reply = request.send().await.unwrap();
    let (status, encoding) = (
        reply.status(),
        reply
            .headers()
            .get(header::CONTENT_ENCODING)
            .map(|value| value.to_str().unwrap().to_owned()),
    );
    // Read to the end, so that the page's render has finished before the test's runtime shuts
    // down. A render still streaming then was dropped mid-way, and once that hung the test for
    // good inside reactive_graph's context lookup (fixed in vendor/reactive_graph, held by
    // tests/reactive_owners.rs); a test that leaves renders running still races its shutdown.
    reply.bytes().await.unwrap();
    (status, encoding)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_compressed_as_the_browser_accepts() {
    let app = spawn_app().await;
    assert_eq!(
        page_encoding(&app, "same-origin", Some("gzip, deflate, br")).await,
        (StatusCode::OK, Some("br".to_owned()))
    );
    assert_eq!(
        page_encoding(&app, "none", Some("gzip")).await,
        (StatusCode::OK, Some("gzip".to_owned()))
    );
    assert_eq!(
        page_encoding(&app, "same-origin", None).await,
        (StatusCode::OK, None)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_another_site_sends_the_browser_to_is_not_compressed() {
    // BREACH: the size of a compressed page holding secrets beside a reflected search would
    // leak them to the site that chose the search.
    let app = spawn_app().await;
    for site in ["cross-site", "same-site"] {
        assert_eq!(
            page_encoding(&app, site, Some("gzip, deflate, br")).await,
            (StatusCode::OK, None),
            "{site}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashed_bundle_files_are_immutable_and_the_rest_revalidated() {
    let site = std::env::temp_dir().join(format!("keystone-site-{}", std::process::id()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    let hashed = "keystone-dashboard.Vt2t1ZzUe0FzXc5HvS1wqA.js";
    std::fs::write(site.join("pkg").join(hashed), "/* hashed */").unwrap();
    std::fs::write(site.join("pkg/keystone-dashboard.js"), "/* plain */").unwrap();
    let app = TestApp::builder()
        .config(|config| config.site_root = site.clone())
        .spawn()
        .await;
    assert_eq!(
        cache_control(&app, &format!("/pkg/{hashed}")).await,
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        cache_control(&app, "/pkg/keystone-dashboard.js").await,
        "no-cache"
    );
    std::fs::remove_dir_all(&site).ok();
}

async fn cache_control(app: &TestApp, path: &str) -> String {
    let reply = reqwest::get(format!("{}{path}", app.addr_url))
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK, "{path}");
    reply.headers()[header::CACHE_CONTROL]
        .to_str()
        .unwrap()
        .to_owned()
}

/// A static file served while a 404 page renders on the same worker keeps its own status and
/// headers, and the 404 page keeps its CSP. leptos_axum's file handler once read the response
/// options of whatever render was current on the thread: a bundle chunk went out as a 404 with
/// the page's nonce, and the 404 page, robbed of its CSP, got the locked-down one and never
/// hydrated (seen once in ten browser runs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_file_never_takes_the_status_or_headers_of_a_page_rendered_beside_it() {
    let site = std::env::temp_dir().join(format!("keystone-site-race-{}", std::process::id()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    let chunk = "chunk_1.Vt2t1ZzUe0FzXc5HvS1wqA.wasm";
    std::fs::write(site.join("pkg").join(chunk), [0u8, 97, 115, 109]).unwrap();
    let app = TestApp::builder()
        .config(|config| config.site_root = site.clone())
        .spawn()
        .await;
    let browser = app.browser();
    browser.sign_in().await;
    for round in 0..40 {
        let pages = (0..4).map(|_| async {
            let reply = browser.get("/no/such/page").await;
            let status = reply.status();
            let csp = reply.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .to_owned();
            let _ = reply.text().await;
            (status, csp)
        });
        let files = (0..8).map(|_| async {
            let reply = browser.get(&format!("/pkg/{chunk}")).await;
            let status = reply.status();
            let csp = reply.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .to_owned();
            let _ = reply.bytes().await;
            (status, csp)
        });
        let (pages, files) = tokio::join!(
            futures::future::join_all(pages),
            futures::future::join_all(files)
        );
        for (status, csp) in pages {
            assert_eq!(status, StatusCode::NOT_FOUND, "round {round}");
            assert!(
                csp.contains("'nonce-"),
                "round {round}: the 404 page lost its CSP: {csp}"
            );
        }
        for (status, csp) in files {
            assert_eq!(
                status,
                StatusCode::OK,
                "round {round}: the chunk took a page's status"
            );
            assert!(
                csp.starts_with("default-src 'none'"),
                "round {round}: the chunk took a page's CSP: {csp}"
            );
        }
    }
    std::fs::remove_dir_all(&site).ok();
}
