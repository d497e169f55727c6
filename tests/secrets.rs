//! Tokens and secrets stay on the server: not in any page, server-function reply or log line.

mod common;

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

use common::{TestApp, ADA};
use reqwest::StatusCode;

/// Every log line of this test binary, at debug level for every crate (ours, the sandbox's, hyper,
/// reqwest, sqlx, tower-sessions), as the process would write them.
fn capture_logs() -> Arc<Mutex<Vec<u8>>> {
    #[derive(Clone)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let writer = Buffer(buffer.clone());
    tracing_subscriber::fmt()
        .with_env_filter("debug")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    buffer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_or_secret_appears_in_pages_replies_or_logs() {
    let logs = capture_logs();
    let token_key = "Vb0aN0r7mJ3rP3yXz6Xk1qJ8cT5uW2eH9fD4sG7hK1o=";
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.access_token_ttl_seconds = 3)
        .config(|config| {
            config.token_refresh_margin_seconds = 1;
            config.token_encryption_key = Some(token_key.to_owned());
        })
        .spawn()
        .await;
    let browser = app.browser();
    let mut seen = Vec::<(String, String)>::new();

    let authorize_url = browser.start_login("?returnTo=/members").await;
    let anonymous_cookie = browser.session_cookie().unwrap();
    let callback = browser
        .sign_in_at_provider(&authorize_url, &[("user_id", ADA)])
        .await;
    let code = callback.param("code").unwrap();
    assert_eq!(
        browser.callback(&callback).await.status(),
        StatusCode::SEE_OTHER
    );
    let session_cookie = browser.session_cookie().unwrap();

    let mut visit = async |label: &str| {
        for path in ["/", "/members", "/roles", "/no/such/page"] {
            let html = browser.get(path).await.text().await.unwrap();
            seen.push((format!("{label} {path}"), html));
        }
        for (name, args) in [
            ("shell", vec![]),
            ("session", vec![]),
            ("environment", vec![("slug", "staging")]),
        ] {
            let (status, body) = browser.server_fn(name, &args).await;
            assert_eq!(status, StatusCode::OK, "{name}: {body}");
            seen.push((format!("{label} /api/{name}"), body.to_string()));
        }
    };
    visit("fresh token:").await;
    // Past the refresh margin: the next calls refresh (and rotate the refresh token).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    visit("after refresh:").await;
    let refresh_grants =
        common::sandbox_stats(&app.sandbox_url).await["grants"]["refresh_token"].clone();
    assert!(
        refresh_grants.as_u64().unwrap() >= 1,
        "a refresh happened: {refresh_grants}"
    );
    let logout = browser.post_form("/auth/logout", &[]).await;
    // Not even the ID token leaves: the provider's logout names its session by `logout_hint`
    // (the token's `sid`), and the whole redirect is checked like every other reply.
    let logout_url = reqwest::Url::parse(&common::location(&logout)).unwrap();
    assert!(
        logout_url
            .query_pairs()
            .any(|(name, _)| name == "logout_hint"),
        "{logout_url}"
    );
    seen.push(("logout redirect".into(), logout_url.to_string()));

    let refresh_tokens: Vec<String> = app
        .sandbox()
        .state
        .store
        .read(|data| data.refresh_tokens.keys().cloned().collect());
    assert!(refresh_tokens.len() >= 2, "issued and rotated");
    let mut secrets = vec![
        ("client secret".to_owned(), common::CLIENT_SECRET.to_owned()),
        ("token encryption key".to_owned(), token_key.to_owned()),
        ("authorization code".to_owned(), code),
        ("session id".to_owned(), session_cookie),
        ("pre-login session id".to_owned(), anonymous_cookie),
    ];
    secrets.extend(
        refresh_tokens
            .into_iter()
            .map(|token| ("refresh token".to_owned(), token)),
    );

    let logs = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("signed in"), "the log capture works");
    assert!(logs.contains("request_id="), "request spans carry their id");
    assert!(
        logs.contains("access token refreshed"),
        "the refresh was logged"
    );
    seen.push(("logs".into(), logs));
    for (where_, text) in &seen {
        for (what, secret) in &secrets {
            assert!(!text.contains(secret.as_str()), "{what} found in {where_}");
        }
        // Access and ID tokens are JWTs: none may appear anywhere, the logout redirect included.
        assert_eq!(common::find_jwt(text), None, "a JWT found in {where_}");
    }
}
