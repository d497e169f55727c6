//! `GET /auth/callback?<anything>`, through the real router (session layer, sign-in gate, CSRF,
//! headers), with a live pending login whose `state` the fuzzer can use by writing `STATE`, and the
//! embedded sandbox as the provider. Whatever the query: never a 500, never a redirect off-site,
//! and no markup from the query reaches the page.
#![no_main]

use std::sync::OnceLock;

use axum::{body::Body, http::Request, Router};
use keystone_dashboard::server::{Application, Config};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

struct Harness {
    runtime: tokio::runtime::Runtime,
    router: Router,
    _app: Application,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let mut config = Config::for_tests();
        config.sign_in_rate_limit_per_minute = u32::MAX.try_into().unwrap();
        let app = runtime
            .block_on(Application::build(config))
            .expect("the dashboard starts");
        Harness {
            router: app.router(),
            runtime,
            _app: app,
        }
    })
}

/// Tags of the sign-in problem page: any other `<` in a reply came from the input.
const OUR_TAGS: &[&str] = &[
    "!DOCTYPE", "html", "head", "meta", "title", "link", "body", "main", "h1", "p", "a ", "/",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let harness = harness();
    harness.runtime.block_on(async {
        // A fresh pending login (state values are single use).
        let login = harness
            .router
            .clone()
            .oneshot(Request::get("/auth/login").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let cookie = login.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let authorize = login.headers()["location"].to_str().unwrap();
        let state = authorize
            .split(['?', '&'])
            .find_map(|pair| pair.strip_prefix("state="))
            .unwrap()
            .to_owned();

        let query = text.replace("STATE", &state);
        let Ok(request) = Request::get(format!("/auth/callback?{query}"))
            .header("cookie", &cookie)
            .body(Body::empty())
        else {
            return; // not a URI at all: the HTTP layer refuses it before us
        };
        let reply = harness.router.clone().oneshot(request).await.unwrap();
        let status = reply.status();
        assert!(
            !status.is_server_error() || status.as_u16() == 502 || status.as_u16() == 503,
            "{status} for {query:?}"
        );
        if status.is_redirection() {
            let location = reply.headers()["location"].to_str().unwrap();
            assert!(
                location.starts_with('/')
                    && !location.starts_with("//")
                    && !location.starts_with("/\\"),
                "redirect off-site to {location:?}"
            );
        }
        let body = axum::body::to_bytes(reply.into_body(), 1 << 20)
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&body);
        for (at, _) in body.match_indices('<') {
            let rest = &body[at + 1..];
            assert!(
                OUR_TAGS.iter().any(|tag| rest.starts_with(tag)),
                "markup from the query in the page: {:?}",
                &rest[..rest.len().min(40)]
            );
        }
    });
});
