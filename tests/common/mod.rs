//! Test harness: the real dashboard on a free loopback port, talking HTTP to a real sandbox, and a
//! scripted "browser" that keeps the session cookie the way a browser would.
//!
//! Tests using it run on tokio's multi-thread runtime, as the server does in production: with the
//! server and the client sharing one current-thread test runtime, SSR of a page occasionally deadlocked.
#![allow(dead_code)] // each test binary uses a different part of the harness

use std::{
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use keystone_dashboard::{
    api::ApiError,
    server::{Application, Bff, Config},
};
use keystone_sandbox::{RunningSandbox, SandboxConfig};
use leptos::server_fn::ServerFn;
use reqwest::{header, StatusCode};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

pub const SESSION_COOKIE: &str = "__Host-keystone_session";
pub const CLIENT_SECRET: &str = "sandbox-dashboard-secret";
pub const ADA: &str = "auth0|acme-ada";
pub const ADA_NAME: &str = "Ada Okafor";
pub const OUTSIDER_ORG: &str = "org_globex";

/// A running dashboard. Dropping it stops the server (and an embedded sandbox).
pub struct TestApp {
    /// The public URL (where browsers go).
    pub base_url: String,
    /// Where this replica actually listens (differs from `base_url` for a second replica).
    pub addr_url: String,
    pub sandbox_url: String,
    pub bff: Arc<Bff>,
    pub config: Config,
    sandbox: Option<RunningSandbox>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

/// Builds a [`TestApp`]: `TestApp::builder().…​.spawn()`.
pub struct TestAppBuilder {
    config: Config,
    sandbox_config: SandboxConfig,
    external_sandbox: Option<String>,
    listener: Option<std::net::TcpListener>,
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            config: Config::for_tests(),
            sandbox_config: SandboxConfig::ephemeral(),
            external_sandbox: None,
            listener: None,
        }
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.base_url, &self.base_url)
    }

    /// The embedded sandbox (absent when the app uses an external one).
    pub fn sandbox(&self) -> &RunningSandbox {
        self.sandbox.as_ref().expect("this app embeds its sandbox")
    }

    /// Stops serving and waits until the server has let go of its port and store.
    pub async fn stop(mut self) -> Option<RunningSandbox> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stops cleanly");
        }
        self.sandbox.take()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TestAppBuilder {
    pub fn config(mut self, change: impl FnOnce(&mut Config)) -> Self {
        change(&mut self.config);
        self
    }

    /// Settings of the embedded sandbox.
    pub fn sandbox(mut self, change: impl FnOnce(&mut SandboxConfig)) -> Self {
        change(&mut self.sandbox_config);
        self
    }

    /// Uses a sandbox running elsewhere, as a deployed dashboard uses Auth0 and the API.
    pub fn external_sandbox(mut self, base_url: &str) -> Self {
        self.external_sandbox = Some(base_url.to_owned());
        self
    }

    /// Serves on this listener (to restart on the same address).
    pub fn listener(mut self, listener: std::net::TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    pub async fn spawn(self) -> TestApp {
        init_test_logging();
        let mut config = self.config;
        config.sandbox = SandboxConfig {
            dashboard_url: String::new(),
            ..self.sandbox_config
        };
        if let Some(base) = &self.external_sandbox {
            config.api_url = Some(base.clone());
            // Auth0's form (the sandbox's default profile) unless the test names the issuer.
            config.auth_issuer.get_or_insert_with(|| format!("{base}/"));
            config.auth_client_id = Some("keystone-dashboard".to_owned());
            config.auth_client_secret = Some(CLIENT_SECRET.to_owned());
            // Pinned to the seeded platform unless the test pins another.
            config
                .auth_organization
                .get_or_insert_with(|| keystone_sandbox::seed::ORG_ID.to_owned());
        }
        let listener = match self.listener {
            Some(listener) => {
                listener.set_nonblocking(true).unwrap();
                TcpListener::from_std(listener).unwrap()
            }
            None => TcpListener::bind("127.0.0.1:0").await.unwrap(),
        };
        let mut app = Application::build_with_listener(config.clone(), listener)
            .await
            .expect("dashboard starts");
        let base_url = app.public_url().to_owned();
        let addr_url = format!("http://{}", app.local_addr());
        let bff = app.bff();
        let sandbox = app.take_sandbox();
        let sandbox_url = match (&sandbox, &self.external_sandbox) {
            (Some(sandbox), _) => sandbox.base_url(),
            (None, Some(external)) => external.clone(),
            (None, None) => unreachable!("one of the two"),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        TestApp {
            base_url,
            addr_url,
            sandbox_url,
            bff,
            config,
            sandbox,
            stop: Some(stop),
            server: Some(server),
        }
    }
}

/// Server logs go to the test's captured output (shown for failing tests); `RUST_LOG` picks the level.
fn init_test_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

pub async fn spawn_app() -> TestApp {
    TestApp::builder().spawn().await
}

/// A sandbox of its own, for tests that run several dashboards (or restart one) against it.
/// `dashboard_url` is the one public URL the dashboards are reached at.
pub async fn spawn_sandbox(
    dashboard_url: &str,
    change: impl FnOnce(&mut SandboxConfig),
) -> RunningSandbox {
    let mut config = SandboxConfig {
        dashboard_url: dashboard_url.to_owned(),
        ..SandboxConfig::ephemeral()
    };
    change(&mut config);
    keystone_sandbox::start(config)
        .await
        .expect("sandbox starts")
}

/// A free loopback port, held until the dashboard takes it.
pub fn reserve_port() -> (std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

/// One browser: its own session cookie, sent only to the dashboard, and the headers a browser
/// adds to same-origin form posts.
pub struct Browser {
    pub base_url: String,
    origin: String,
    pub http: reqwest::Client,
    cookie: Mutex<Option<String>>,
}

/// What the sandbox's sign-in page hands back: the callback URL with code and state.
pub struct Callback {
    pub url: String,
}

impl Callback {
    pub fn param(&self, name: &str) -> Option<String> {
        query_param(&self.url, name)
    }
}

impl Browser {
    /// `base_url` is where requests go; `origin` is the page origin the browser reports.
    pub fn new(base_url: &str, origin: &str) -> Self {
        Self {
            base_url: base_url.to_owned(),
            origin: origin.to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookie: Mutex::new(None),
        }
    }

    /// The same browser (same cookie) talking to another replica behind the same public URL.
    pub fn via(&self, base_url: &str) -> Browser {
        Browser {
            base_url: base_url.to_owned(),
            origin: self.origin.clone(),
            http: self.http.clone(),
            cookie: Mutex::new(self.session_cookie()),
        }
    }

    pub fn session_cookie(&self) -> Option<String> {
        self.cookie.lock().unwrap().clone()
    }

    pub fn set_session_cookie(&self, value: Option<String>) {
        *self.cookie.lock().unwrap() = value;
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base_url)
        }
    }

    fn with_cookie(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self.session_cookie() {
            Some(value) => request.header(header::COOKIE, format!("{SESSION_COOKIE}={value}")),
            None => request,
        }
    }

    /// Keeps what the server set, as a browser would (an emptied or expired cookie is dropped; a
    /// `__Host-` one without `Secure` and `Path=/` is ignored, a removal too).
    fn remember(&self, response: &reqwest::Response) {
        for set_cookie in response.headers().get_all(header::SET_COOKIE) {
            let set_cookie = set_cookie.to_str().unwrap();
            let Some(rest) = set_cookie.strip_prefix(&format!("{SESSION_COOKIE}=")) else {
                continue;
            };
            let attributes: Vec<String> = rest
                .split(';')
                .skip(1)
                .map(|part| part.trim().to_ascii_lowercase())
                .collect();
            if !["secure", "path=/"]
                .iter()
                .all(|needed| attributes.iter().any(|attribute| attribute == needed))
            {
                continue;
            }
            let value = rest.split(';').next().unwrap_or_default();
            let removed = value.is_empty() || set_cookie.to_ascii_lowercase().contains("max-age=0");
            self.set_session_cookie((!removed).then(|| value.to_owned()));
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.get_from(path, "same-origin").await
    }

    /// A GET as the browser sends it when the page that asks is on `site` (`Sec-Fetch-Site`).
    pub async fn get_from(&self, path: &str, site: &str) -> reqwest::Response {
        let response = self
            .with_cookie(self.http.get(self.url(path)))
            .header("sec-fetch-site", site)
            .send()
            .await
            .expect("request reaches the dashboard");
        self.remember(&response);
        response
    }

    /// A same-origin POST of a form (server functions take url-encoded arguments).
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.post_form_with(
            path,
            form,
            &[("sec-fetch-site", "same-origin"), ("origin", &self.origin)],
        )
        .await
    }

    /// A POST with exactly these extra headers (for the CSRF tests).
    pub async fn post_form_with(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self.with_cookie(self.http.post(self.url(path))).form(form);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("request reaches the dashboard");
        self.remember(&response);
        response
    }

    /// `GET /auth/login?<query>`: returns the provider's authorize URL the dashboard redirects to.
    pub async fn start_login(&self, query: &str) -> String {
        let response = self.get(&format!("/auth/login{query}")).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "login redirects to the provider"
        );
        location(&response)
    }

    /// The sandbox's sign-in page: pick `user_id`, get the redirect back to the dashboard.
    pub async fn sign_in_at_provider(
        &self,
        authorize_url: &str,
        form: &[(&str, &str)],
    ) -> Callback {
        let page = self.http.get(authorize_url).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "the sign-in page opens");
        let html = page.text().await.unwrap();
        let marker = r#"name="login" value=""#;
        let start = html.find(marker).expect("the page carries a login id") + marker.len();
        let login = html[start..].split('"').next().unwrap().to_owned();
        // The form posts to a path on the provider's origin, which differs between its profiles.
        let action_marker = r#"method="post" action=""#;
        let start = html.find(action_marker).expect("the page has a form") + action_marker.len();
        let action = html[start..].split('"').next().unwrap();
        let after_scheme = authorize_url.find("://").expect("an absolute URL") + 3;
        let origin_end = authorize_url[after_scheme..]
            .find('/')
            .map_or(authorize_url.len(), |at| at + after_scheme);
        let provider_origin = &authorize_url[..origin_end];
        let mut fields = vec![("login", login.as_str())];
        fields.extend_from_slice(form);
        let decision = self
            .http
            .post(format!("{provider_origin}{action}"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert!(decision.status().is_redirection(), "{}", decision.status());
        Callback {
            url: location(&decision),
        }
    }

    pub async fn callback(&self, callback: &Callback) -> reqwest::Response {
        assert!(callback.url.starts_with(&self.origin), "{}", callback.url);
        self.get(&callback.url).await
    }

    /// The whole sign-in; returns the callback's reply (a redirect to the return path on success).
    pub async fn sign_in_as(&self, user_id: &str, query: &str) -> reqwest::Response {
        let callback = self.callback_as(user_id, query).await;
        self.callback(&callback).await
    }

    /// A login started here (`query` on `/auth/login`) and completed at the provider as
    /// `user_id`: the callback the provider sends back, not yet followed.
    pub async fn callback_as(&self, user_id: &str, query: &str) -> Callback {
        let authorize_url = self.start_login(query).await;
        self.sign_in_at_provider(&authorize_url, &[("user_id", user_id)])
            .await
    }

    /// Signs Ada (a Platform Manager) in and checks it worked.
    pub async fn sign_in(&self) {
        let response = self.sign_in_as(ADA, "").await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "{}",
            response.text().await.unwrap()
        );
        assert_eq!(location(&response), "/");
    }

    /// Calls a server function with its own argument struct, as the page's form or action does
    /// (POST, url-encoded the way server functions decode), and decodes the answer into the
    /// function's own output type, or its refusal into the dashboard's `ApiError`.
    pub async fn call<S>(&self, call: S) -> Result<S::Output, Refused>
    where
        S: ServerFn<Error = ApiError> + Serialize,
        S::Output: DeserializeOwned,
    {
        let encoded = serde_qs::to_string(&call).expect("server function arguments encode");
        let request = self
            .with_cookie(self.http.post(self.url(S::PATH)))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .header("origin", &self.origin)
            .body(encoded);
        let response = request.send().await.expect("request reaches the dashboard");
        self.remember(&response);
        let status = response.status();
        let body = response.text().await.unwrap();
        if status.is_success() {
            Ok(serde_json::from_str(&body)
                .unwrap_or_else(|error| panic!("{}: {error}: {body}", S::PATH)))
        } else {
            let error = serde_json::from_str(&body)
                .unwrap_or_else(|error| panic!("{} answered {status}: {error}: {body}", S::PATH));
            Err(Refused { status, error })
        }
    }

    /// Sends a server function's call whole over a connection of its own, then closes that
    /// connection once `leave` is ready, before any reply: as a browser does when the member
    /// leaves the page mid-request.
    pub async fn call_then_hang_up<S>(&self, call: S, leave: impl std::future::Future<Output = ()>)
    where
        S: ServerFn + Serialize,
    {
        use tokio::io::AsyncWriteExt;
        let body = serde_qs::to_string(&call).expect("server function arguments encode");
        let addr = self.base_url.trim_start_matches("http://");
        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {SESSION_COOKIE}={cookie}\r\n\
             Origin: {origin}\r\nSec-Fetch-Site: same-origin\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {length}\r\n\r\n\
             {body}",
            path = S::PATH,
            cookie = self.session_cookie().expect("signed in"),
            origin = self.origin,
            length = body.len(),
        );
        socket.write_all(request.as_bytes()).await.unwrap();
        leave.await;
        drop(socket);
    }

    /// Calls a server function by name with raw form fields; returns status and JSON as sent.
    /// For what the typed [`Browser::call`] cannot say: ill-formed arguments, the raw shape.
    pub async fn server_fn(&self, name: &str, args: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self.post_form(&format!("/api/{name}"), args).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&body).unwrap_or(Value::String(body)),
        )
    }
}

/// A server function that refused or failed: its status and the error the page would show.
#[derive(Debug)]
pub struct Refused {
    pub status: StatusCode,
    pub error: ApiError,
}

impl Refused {
    /// The warning an unconfirmed change came back with (428), for the test to read.
    pub fn needs_confirmation(&self) -> &str {
        assert_eq!(self.status, StatusCode::PRECONDITION_REQUIRED, "{self:?}");
        match &self.error {
            ApiError::NeedsConfirmation { message, .. } => message,
            other => panic!("not a confirmation: {other:?}"),
        }
    }
}

/// Waits (at most 5 s) until `condition` holds: timing by what happened, not by a sleep a loaded
/// machine may outrun.
pub async fn until(condition: impl Fn() -> bool) {
    for _ in 0..250 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("what the test waited for did not happen within 5 s");
}

/// The status a typed call answered with (200 for a success).
pub fn status<T>(reply: Result<T, Refused>) -> StatusCode {
    match reply {
        Ok(_) => StatusCode::OK,
        Err(refused) => refused.status,
    }
}

pub fn location(response: &reqwest::Response) -> String {
    response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

/// Sets the sandbox's faults (`/_sandbox/faults`).
pub async fn set_faults(sandbox_url: &str, faults: Value) {
    let response = reqwest::Client::new()
        .put(format!("{sandbox_url}/_sandbox/faults"))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// Uses left of the sandbox's (single) counted fault rule; 0 once it is used up. Faulted requests
/// never reach the API's request log, so this is how attempts are counted.
pub async fn fault_uses_left(sandbox_url: &str) -> u64 {
    let faults: Value = reqwest::get(format!("{sandbox_url}/_sandbox/faults"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    faults["rules"]
        .as_array()
        .unwrap()
        .first()
        .map_or(0, |rule| rule["times"].as_u64().unwrap())
}

/// The sandbox's counters (`/_sandbox/stats`).
pub async fn sandbox_stats(sandbox_url: &str) -> Value {
    reqwest::get(format!("{sandbox_url}/_sandbox/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Every page of the dashboard, for tests that visit them all.
pub const PAGES: [&str; 8] = [
    "/",
    "/members",
    "/roles",
    "/settings",
    "/environments",
    "/security",
    "/webhooks",
    "/activity",
];

impl TestApp {
    /// Stops the embedded sandbox and waits until its port refuses connections. Stopping is
    /// asynchronous: without the wait a request could still be accepted and then dropped (which
    /// rightly counts as "may have applied", not as "unreachable").
    pub async fn stop_sandbox(&self) {
        self.sandbox().stop();
        let addr = self.sandbox().addr;
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(addr).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the sandbox still accepts connections on {addr}");
    }
}

pub async fn reset_sandbox_stats(sandbox_url: &str) {
    reqwest::Client::new()
        .delete(format!("{sandbox_url}/_sandbox/stats"))
        .send()
        .await
        .unwrap();
}

/// The token key tests share when they run on Redis (every replica needs the same one).
pub const TEST_TOKEN_KEY: &str = "q1Xz0n7b3S0aUq5kqv8Yk0x9T3mW2bJH5o1vFh4sL6c=";

/// Points `config` at `redis` for sessions and tokens.
pub fn use_redis(config: &mut Config, redis: &RedisServer) {
    config.session_store = keystone_dashboard::server::SessionStoreKind::Redis;
    config.redis_url = Some(redis.url.clone());
    config.token_encryption_key = Some(TEST_TOKEN_KEY.to_owned());
}

/// Two replicas on `redis` behind one public URL, as behind a load balancer, both on `sandbox`
/// (started for that URL). The first answers at the public URL; reach the second with
/// [`Browser::via`] its `addr_url`. `change` adds each replica's own settings.
pub async fn two_replicas_on_redis(
    redis: &RedisServer,
    sandbox: &RunningSandbox,
    public: (std::net::TcpListener, String),
    change: impl Fn(&mut Config),
) -> (TestApp, TestApp) {
    let (listener, public_url) = public;
    let replica = |listener: Option<std::net::TcpListener>| {
        let mut builder = TestApp::builder()
            .external_sandbox(&sandbox.base_url())
            .config(|config| {
                use_redis(config, redis);
                config.public_url = Some(public_url.clone());
                change(config);
            });
        if let Some(listener) = listener {
            builder = builder.listener(listener);
        }
        builder.spawn()
    };
    let first = replica(Some(listener)).await;
    let second = replica(None).await;
    (first, second)
}

/// A real Redis on a free port, stopped when dropped. Needs `redis-server` (installed by
/// `scripts/bootstrap --test`).
pub struct RedisServer {
    child: Child,
    pub url: String,
}

impl RedisServer {
    /// Every key in the instance (`redis-cli --scan`, from the same package as the server).
    pub fn keys(&self) -> Vec<String> {
        self.cli(&["--scan"]).lines().map(str::to_owned).collect()
    }

    /// What `redis-cli` prints for `args` (a command, or options such as `--scan`).
    pub fn cli(&self, args: &[&str]) -> String {
        let output = std::process::Command::new("redis-cli")
            .args(["-u", &self.url])
            .args(args)
            .output()
            .expect("redis-cli runs");
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap()
    }

    pub async fn start() -> Self {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        Self {
            child: Self::spawn(port).await,
            url: format!("redis://127.0.0.1:{port}"),
        }
    }

    async fn spawn(port: u16) -> Child {
        let mut child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/bootstrap --test)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return child;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("redis-server did not start on port {port}");
    }

    /// A new, empty Redis on the same port (no persistence: every key is gone).
    pub async fn restart(&mut self) {
        self.stop();
        let port = self.url.rsplit(':').next().unwrap().parse().unwrap();
        self.child = Self::spawn(port).await;
    }
}

impl RedisServer {
    /// Freezes the server (SIGSTOP): connections stay open and commands time out, as in a network
    /// partition or a stalled instance, and nothing is lost.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a paused server (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Kills the server (an outage, not a clean shutdown).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The first JWT-looking run in `text`: `eyJ…` (the base64 of `{"`) with exactly three
/// dot-separated base64url segments. Random ciphertext may contain `eyJ`, never this shape.
pub fn find_jwt(text: &str) -> Option<&str> {
    text.match_indices("eyJ").find_map(|(at, _)| {
        let candidate = text[at..]
            .split(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
            .next()
            .unwrap_or_default();
        let segments: Vec<&str> = candidate.split('.').collect();
        (segments.len() == 3 && segments.iter().all(|segment| segment.len() >= 4))
            .then_some(candidate)
    })
}

/// An access token of the sandbox's M2M client for environment `slug` (client credentials), or
/// None when the sandbox refuses one.
pub async fn m2m_token(sandbox_url: &str, slug: &str) -> Option<String> {
    let reply = reqwest::Client::new()
        .post(format!("{sandbox_url}/oauth/token"))
        .json(&serde_json::json!({
            "client_id": format!("sandbox-m2m-{slug}"),
            "client_secret": format!("sandbox-m2m-secret-{slug}"),
            "audience": "https://api.keystoneos.xyz",
            "grant_type": "client_credentials",
        }))
        .send()
        .await
        .unwrap();
    let token: Value = reply.json().await.unwrap();
    token["access_token"].as_str().map(str::to_owned)
}

/// Status of an M2M call (client credentials of environment `slug`) from this machine, 127.0.0.1.
pub async fn m2m_status(sandbox_url: &str, slug: &str) -> StatusCode {
    let token = m2m_token(sandbox_url, slug).await;
    reqwest::Client::new()
        .get(format!("{sandbox_url}/v1/platforms/me/environments"))
        .bearer_auth(token.unwrap_or_default())
        .send()
        .await
        .unwrap()
        .status()
}

/// A change of the current environment's allowlist, as the Security page prepares it.
pub enum ListChange<'a> {
    /// One network typed into "Add a network".
    Add(&'a str),
    /// Lines pasted into "Add many".
    Bulk(&'a str),
    Delete(&'a str),
}

/// The Security page's view of the current environment: the list and the recent callers, the two
/// reads the page's server function (`allowlist/page`) makes, here through their own server
/// functions. The page's checks are built from the same whole list.
pub async fn allowlist_view(browser: &Browser) -> keystone_dashboard::api::AllowlistView {
    use keystone_dashboard::api::{AllowlistView, LoadAllowlist, LoadRecentCallers};
    let (allowlist, callers) = futures::join!(
        browser.call(LoadAllowlist {}),
        browser.call(LoadRecentCallers {})
    );
    AllowlistView::new(allowlist.unwrap(), callers.map_err(|refused| refused.error))
}

/// Adds `lines` through the bulk form's server function, confirmed as a member would confirm what
/// the page showed, and fails the test unless every line was added.
pub async fn add_confirmed_lines(browser: &Browser, lines: String) {
    use keystone_dashboard::api::AddAllowlistEntries;
    let confirm = Some(allowlist_confirmation(browser, ListChange::Bulk(&lines)).await);
    let added = browser
        .call(AddAllowlistEntries {
            lines,
            confirm,
            environment: None,
        })
        .await
        .unwrap();
    assert!(added.iter().all(|line| line.outcome.is_ok()), "{added:?}");
}

/// The code the Security page's confirmation carries for `change`: its warnings worked out, as
/// the page does in the browser, from the list as the page loads it. A test that confirms with it
/// confirms what a member would have read.
pub async fn allowlist_confirmation(browser: &Browser, change: ListChange<'_>) -> String {
    use keystone_dashboard::{api::confirmation_code, domain::Cidr};
    let view = allowlist_view(browser).await;
    let check = view.change_check();
    let warnings = match change {
        // What does not parse is not added: the page warns about what any addition means.
        ListChange::Add(typed) => match Cidr::parse(typed) {
            Ok(cidr) => check.adding(&[cidr]),
            Err(_) => check.any_addition(),
        },
        ListChange::Bulk(lines) => check.adding_lines(lines).1,
        ListChange::Delete(id) => check.deleting(
            view.allowlist
                .entries
                .iter()
                .find(|entry| entry.id == id)
                .map(|entry| entry.cidr),
        ),
    };
    confirmation_code(&warnings)
}

/// The types of the log entries the dashboard could read, newest first.
pub fn activity_kinds(view: &keystone_dashboard::api::ActivityView) -> Vec<String> {
    view.entries
        .iter()
        .filter_map(|listed| listed.clone().parsed())
        .map(|entry| entry.kind)
        .collect()
}
