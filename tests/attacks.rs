//! The attack suite: hostile requests against a real dashboard and sandbox, each a named case that
//! must be refused or neutralised. The sign-in protocol's own cases (PKCE, state and nonce, ID
//! token checks) are in `auth.rs`; this file replays the ones an outsider can try from a browser or
//! a script, plus XSS through every string the API can return, rendered on every page.

mod common;

use std::time::Duration;

use common::{location, TestApp, ADA, PAGES};
use keystone_dashboard::domain::encode_component;
use reqwest::StatusCode;

/// Markup planted in every user-controlled string the sandbox returns.
const PAYLOADS: [&str; 3] = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "\"><svg onload=alert(3)>",
];
/// What must never appear in a page as markup.
const RAW_MARKERS: [&str; 3] = ["<script>alert(1)", "<img src=x onerror", "<svg onload"];
/// The payloads as text in the markup. Looked for in the HTML itself: the hydration data (a
/// script holding JSON) escapes `<` as `\u003c` and would satisfy a looser control by itself.
const ESCAPED_MARKERS: [&str; 3] = [
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&lt;img src=x onerror=alert(2)&gt;",
    "&lt;svg onload=alert(3)&gt;",
];
/// A URL the API may hold in a field the pages render (an environment's webhook URL).
const SCRIPT_URL: &str = "javascript:alert(6)";

type Outcome = Result<(), String>;

fn check(condition: bool, message: impl FnOnce() -> String) -> Outcome {
    if condition {
        Ok(())
    } else {
        Err(message())
    }
}

struct Suite {
    passed: Vec<&'static str>,
    failed: Vec<(&'static str, String)>,
}

impl Suite {
    fn record(&mut self, name: &'static str, outcome: Outcome) {
        match outcome {
            Ok(()) => self.passed.push(name),
            Err(why) => self.failed.push((name, why)),
        }
    }
}

/// The page without its `<script>` elements (the hydration data, the bootstrap): what the browser
/// parses as markup.
fn markup(html: &str) -> String {
    let mut rest = html;
    let mut kept = String::with_capacity(html.len());
    while let Some(start) = rest.find("<script") {
        kept.push_str(&rest[..start]);
        match rest[start..].find("</script>") {
            Some(end) => rest = &rest[start + end + "</script>".len()..],
            None => {
                rest = "";
            }
        }
    }
    kept.push_str(rest);
    kept
}

/// Writes `request` on a fresh connection and returns the first line of the answer (or why there
/// was none).
async fn raw_status_line(addr: &str, request: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut socket = tokio::net::TcpStream::connect(addr).await?;
        // A refusal may come (and the server stop reading) before all of it is written.
        let _ = socket.write_all(request.as_bytes()).await;
        let mut reply = Vec::new();
        let mut buffer = [0u8; 4096];
        while !reply.windows(2).any(|pair| pair == b"\r\n") {
            let read = socket.read(&mut buffer).await?;
            if read == 0 {
                break;
            }
            reply.extend_from_slice(&buffer[..read]);
        }
        Ok::<_, std::io::Error>(reply)
    };
    match tokio::time::timeout(Duration::from_secs(10), exchange).await {
        Ok(Ok(reply)) => String::from_utf8_lossy(&reply)
            .lines()
            .next()
            .unwrap_or("(no answer)")
            .to_owned(),
        Ok(Err(error)) => format!("(no answer: {error})"),
        Err(_) => "(no answer within 10 s)".to_owned(),
    }
}

fn plant_payloads(app: &TestApp) {
    app.sandbox().state.store.write(|data| {
        data.platform.name = format!("Acme {}", PAYLOADS[0]);
        data.platform.logo_url = Some("javascript:alert(4)".into());
        for (index, person) in data.people.iter_mut().enumerate() {
            person.name = format!("{} {}", person.name, PAYLOADS[index % 3]);
            person.picture = Some("javascript:alert(5)".into());
        }
        for environment in &mut data.environments {
            environment.name = format!("{} {}", environment.name, PAYLOADS[1]);
            environment.webhook_url = Some(SCRIPT_URL.into());
        }
        for role in &mut data.roles {
            role.description = format!("{} {}", role.description, PAYLOADS[2]);
        }
        for invitation in &mut data.invitations {
            invitation.inviter_name = PAYLOADS[0].into();
            invitation.invitee_email = format!("x{}@example.com", PAYLOADS[2].replace(' ', ""));
        }
        for entry in &mut data.allowlist {
            entry.description = Some(PAYLOADS[1].into());
        }
        for entry in &mut data.activity {
            entry.description = format!("{} {}", entry.description, PAYLOADS[0]);
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_attack_suite() {
    let app = TestApp::builder()
        .config(|config| config.session_idle_timeout_seconds = 2)
        .spawn()
        .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut suite = Suite {
        passed: vec![],
        failed: vec![],
    };
    let browser = app.browser();
    browser.sign_in().await;

    // --- XSS: every planted string on every page is text, never markup.
    plant_payloads(&app);
    // Row dialogs are rendered only when the address opens one: each page plain, and the pages
    // whose dialogs show planted strings (a member's name, a stored webhook URL) with one open.
    let environment_id = app
        .sandbox()
        .state
        .store
        .read(|data| data.environments[0].id);
    let edit_environment = format!(
        "/environments?open={}",
        encode_component(&format!("edit:{environment_id}"))
    );
    let paths: Vec<String> = PAGES
        .iter()
        .map(|path| (*path).to_owned())
        .chain([
            edit_environment.clone(),
            format!(
                "/members?open={}",
                encode_component("remove:auth0|acme-ben")
            ),
            format!("/members?open={}", encode_component("roles:auth0|acme-ben")),
        ])
        .collect();
    // The overview names the environment in production: look at it from there too.
    for environment in ["development", "production"] {
        let (status, _) = browser
            .server_fn("environment", &[("slug", environment)])
            .await;
        assert_eq!(status, StatusCode::OK);
        for path in &paths {
            let page = browser.get(path).await;
            let status = page.status();
            let html = page.text().await.unwrap();
            let markup = markup(&html);
            let name: &'static str =
                Box::leak(format!("XSS: {path} in {environment}").into_boxed_str());
            suite.record(
                name,
                check(status == StatusCode::OK, || format!("status {status}")).and_then(|()| {
                    match RAW_MARKERS.iter().find(|marker| html.contains(**marker)) {
                        Some(marker) => Err(format!("{marker} rendered as markup")),
                        None => check(
                            ESCAPED_MARKERS.iter().any(|marker| markup.contains(marker)),
                            || "no planted string was rendered as text in the markup".into(),
                        ),
                    }
                }),
            );
            suite.record(
                "XSS: no javascript: URL in an attribute",
                check(
                    !html.contains("src=\"javascript:") && !html.contains("href=\"javascript:"),
                    || format!("{path}: javascript: URL rendered"),
                ),
            );
            if *path == edit_environment {
                // The control: the page does render the planted URL, as inert text.
                let shown = markup.contains(SCRIPT_URL);
                suite.record(
                    "XSS: the planted javascript: URL is rendered, as text",
                    check(shown, || "the webhook URL is not on the page".into()),
                );
            }
        }
    }

    // --- Clickjacking and the other response headers, on pages and server functions.
    let page = browser.get("/members").await;
    let headers = page.headers().clone();
    page.text().await.unwrap();
    suite.record(
        "clickjacking: X-Frame-Options DENY on pages",
        check(
            headers.get("x-frame-options").is_some_and(|v| v == "DENY"),
            || format!("{:?}", headers.get("x-frame-options")),
        ),
    );
    let csp = headers
        .get("content-security-policy")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    suite.record(
        "clickjacking: CSP frame-ancestors 'none' on pages",
        check(csp.contains("frame-ancestors 'none'"), || csp.clone()),
    );
    suite.record(
        "CSP: no unsafe-inline script",
        check(
            csp.contains("script-src") && !csp.contains("'unsafe-inline'"),
            || csp.clone(),
        ),
    );
    let (_, _) = browser.server_fn("session", &[]).await;
    let reply = browser.post_form("/api/session", &[]).await;
    suite.record(
        "clickjacking: server-function replies are locked down too",
        check(
            reply
                .headers()
                .get("content-security-policy")
                .is_some_and(|v| v.to_str().unwrap().contains("default-src 'none'")),
            || format!("{:?}", reply.headers().get("content-security-policy")),
        ),
    );

    // --- Header injection and unknown environments through the environment switch.
    for (name, slug) in [
        (
            "header injection: CRLF in the environment slug",
            "development\r\nX-Injected: 1",
        ),
        (
            "header injection: encoded CRLF",
            "development%0d%0ax-injected:1",
        ),
        ("path traversal in the environment slug", "../../platforms"),
        ("unknown environment", "no-such-environment"),
        ("oversized environment slug", &"a".repeat(10_000)),
    ] {
        let (status, body) = browser.server_fn("environment", &[("slug", slug)]).await;
        let (_, session) = browser.server_fn("session", &[]).await;
        suite.record(
            name,
            check(status.is_client_error(), || format!("{status} {body}")).and_then(|()| {
                check(session["environment"] == "production", || {
                    format!("the environment changed: {session}")
                })
            }),
        );
    }
    // The slugs above are refused before any call. A member's search text does reach the API: it
    // must arrive as data in the query, never as a header or a second request line.
    common::reset_sandbox_stats(&app.sandbox_url).await;
    let injected = "fee\r\nX-Injected: 1\r\n\r\nGET /v1/platforms/me HTTP/1.1";
    let (status, body) = browser
        .server_fn("activity", &[("filters[search]", injected)])
        .await;
    let reached = common::sandbox_stats(&app.sandbox_url).await["recent_requests"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let searches: Vec<&serde_json::Value> = reached
        .iter()
        .filter(|request| request["path"] == "/v1/activity")
        .collect();
    suite.record(
        "header injection: a search's CR LF reaches the API as data only",
        check(status == StatusCode::OK, || format!("{status} {body}"))
            .and_then(|()| {
                check(searches.len() == 1, || {
                    format!("expected one activity read: {reached:?}")
                })
            })
            .and_then(|()| {
                let query = searches[0]["query"].as_str().unwrap_or_default();
                check(query.contains("%0D%0AX-Injected"), || {
                    format!("the search was not sent encoded: {query}")
                })
            })
            .and_then(|()| {
                check(
                    reached.iter().all(|request| {
                        request["environment_header"] == "production"
                            && !request["header_names"]
                                .to_string()
                                .to_lowercase()
                                .contains("x-injected")
                    }),
                    || format!("a header was injected or the environment moved: {reached:?}"),
                )
            }),
    );

    // --- CSRF on a state-changing server function.
    let cookie = browser.session_cookie().unwrap();
    let forged = |headers: Vec<(&'static str, &'static str)>| {
        let mut request = http
            .post(format!("{}/api/environment", app.base_url))
            .header("cookie", format!("{}={cookie}", common::SESSION_COOKIE))
            .form(&[("slug", "development")]);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    for (name, headers) in [
        (
            "CSRF: cross-site fetch metadata",
            vec![("sec-fetch-site", "cross-site")],
        ),
        (
            "CSRF: same-site sibling",
            vec![("sec-fetch-site", "same-site")],
        ),
        (
            "CSRF: foreign Origin",
            vec![("origin", "https://evil.example")],
        ),
        ("CSRF: no Origin and no fetch metadata", vec![]),
    ] {
        let status = forged(headers).await.unwrap().status();
        suite.record(
            name,
            check(status == StatusCode::FORBIDDEN, || format!("{status}")),
        );
    }

    // --- Oversized bodies and headers, over a raw socket so that the answer itself is checked:
    // a client library may report the server's early refusal as a transport error, which would
    // hide a server that simply dropped the connection (or crashed).
    let addr = app.addr_url.trim_start_matches("http://").to_owned();
    let status_line = raw_status_line(
        &addr,
        format!(
            "POST /api/allowlist/bulk HTTP/1.1\r\nHost: {addr}\r\n\
             Cookie: {}={cookie}\r\nSec-Fetch-Site: same-origin\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
            common::SESSION_COOKIE,
            4 * 1024 * 1024
        ),
    )
    .await;
    suite.record(
        "oversized body (4 MiB announced to a server function) answers 413 before it is sent",
        check(status_line.starts_with("HTTP/1.1 413"), || {
            status_line.clone()
        }),
    );
    let many_headers: String = (0..200)
        .map(|index| format!("X-Filler-{index}: y\r\n"))
        .collect();
    let status_line = raw_status_line(
        &addr,
        format!("GET /members HTTP/1.1\r\nHost: {addr}\r\n{many_headers}\r\n"),
    )
    .await;
    suite.record(
        "too many headers (200) answer 431",
        check(status_line.starts_with("HTTP/1.1 431"), || {
            status_line.clone()
        }),
    );
    let status_line = raw_status_line(
        &addr,
        format!(
            "GET /members HTTP/1.1\r\nHost: {addr}\r\nX-Filler: {}\r\n\r\n",
            "y".repeat(512 * 1024)
        ),
    )
    .await;
    suite.record(
        "oversized header (512 KiB) answers 431",
        check(status_line.starts_with("HTTP/1.1 431"), || {
            status_line.clone()
        }),
    );
    let alive = http
        .get(format!("{}/healthz", app.base_url))
        .send()
        .await
        .map(|reply| reply.status());
    suite.record(
        "still serving after the oversized requests",
        check(matches!(alive, Ok(StatusCode::OK)), || format!("{alive:?}")),
    );

    // --- Forged and expired session cookies.
    for (name, value) in [
        ("forged session cookie", "AAAAAAAAAAAAAAAAAAAAAA".to_owned()),
        (
            "garbage session cookie",
            "'; DROP TABLE tower_sessions; --".to_owned(),
        ),
        ("oversized session cookie", "z".repeat(4096)),
    ] {
        let page = http
            .get(format!("{}/members", app.base_url))
            .header("cookie", format!("{}={value}", common::SESSION_COOKIE))
            .send()
            .await
            .unwrap();
        let status = page.status();
        let to = page
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        suite.record(
            name,
            check(
                status == StatusCode::SEE_OTHER && to.starts_with("/auth/login"),
                || format!("{status} -> {to}"),
            ),
        );
    }
    let api = http
        .post(format!("{}/api/session", app.base_url))
        .header("cookie", format!("{}=forged", common::SESSION_COOKIE))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    suite.record(
        "forged cookie on a server function answers 401",
        check(api.status() == StatusCode::UNAUTHORIZED, || {
            format!("{}", api.status())
        }),
    );

    // --- Open redirects through returnTo.
    for (name, return_to) in [
        ("open redirect: scheme-relative", "//evil.example/x"),
        ("open redirect: absolute URL", "https://evil.example/"),
        ("open redirect: backslash", "/\\evil.example"),
        ("open redirect: javascript:", "javascript:alert(1)"),
    ] {
        let fresh = app.browser();
        let query = format!(
            "?{}",
            serde_urlencoded::to_string([("returnTo", return_to)]).unwrap()
        );
        let reply = fresh.sign_in_as(ADA, &query).await;
        let to = location(&reply);
        suite.record(name, check(to == "/", || format!("went to {to}")));
    }

    // --- An idle session is over: its cookie no longer works.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let page = browser.get("/members").await;
    suite.record(
        "expired (idle) session cookie",
        check(
            page.status() == StatusCode::SEE_OTHER && location(&page).starts_with("/auth/login"),
            || format!("{}", page.status()),
        ),
    );

    let total = suite.passed.len() + suite.failed.len();
    eprintln!(
        "attack suite: {} of {total} cases passed",
        suite.passed.len()
    );
    assert!(
        suite.failed.is_empty(),
        "{} of {total} attack cases failed:\n{}",
        suite.failed.len(),
        suite
            .failed
            .iter()
            .map(|(name, why)| format!("  {name}: {why}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
