//! Test harness: a real sandbox on a free loopback port, and clients that use it as the dashboard,
//! an M2M integration and a browser would.
#![allow(dead_code)]

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use keystone_sandbox::{RunningSandbox, SandboxConfig, API_AUDIENCE};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const DASHBOARD_URL: &str = "http://127.0.0.1:3999";
pub const REDIRECT_URI: &str = "http://127.0.0.1:3999/auth/callback";
pub const CLIENT_ID: &str = "keystone-dashboard";
pub const CLIENT_SECRET: &str = "sandbox-dashboard-secret";
pub const ADA: &str = "auth0|acme-ada"; // Platform Manager
pub const GRACE: &str = "auth0|acme-grace"; // Platform Manager
pub const BEN: &str = "auth0|acme-ben"; // Developer
pub const DMITRI: &str = "auth0|acme-dmitri"; // Viewer
pub const OUTSIDER: &str = "auth0|outsider-olga";

pub struct TestSandbox {
    pub sandbox: RunningSandbox,
    pub base: String,
    pub http: reqwest::Client,
}

pub fn config() -> SandboxConfig {
    SandboxConfig {
        dashboard_url: DASHBOARD_URL.to_owned(),
        ..SandboxConfig::ephemeral()
    }
}

pub async fn spawn() -> TestSandbox {
    spawn_with(config()).await
}

pub async fn spawn_with(config: SandboxConfig) -> TestSandbox {
    let sandbox = keystone_sandbox::start(config)
        .await
        .expect("sandbox starts");
    let base = sandbox.base_url();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestSandbox {
        sandbox,
        base,
        http,
    }
}

/// A PKCE pair: (verifier, S256 challenge).
pub fn pkce() -> (String, String) {
    let verifier = format!(
        "verifier-{}-0123456789abcdefghijklmnopqrstuvwxyz",
        uuid::Uuid::new_v4().simple()
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Reads the claims of a JWT without verifying it (the sandbox's own tests check signatures elsewhere).
pub fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

pub struct AuthorizeRequest {
    pub params: Vec<(&'static str, String)>,
}

impl AuthorizeRequest {
    pub fn new(challenge: &str) -> Self {
        Self {
            params: vec![
                ("response_type", "code".into()),
                ("client_id", CLIENT_ID.into()),
                ("redirect_uri", REDIRECT_URI.into()),
                ("scope", "openid profile email offline_access".into()),
                ("audience", API_AUDIENCE.into()),
                ("state", "state-123".into()),
                ("nonce", "nonce-456".into()),
                ("code_challenge", challenge.into()),
                ("code_challenge_method", "S256".into()),
                ("organization", "org_acme_markets".into()),
            ],
        }
    }

    pub fn set(mut self, name: &'static str, value: &str) -> Self {
        self.params.retain(|(key, _)| *key != name);
        self.params.push((name, value.to_owned()));
        self
    }

    pub fn without(mut self, name: &str) -> Self {
        self.params.retain(|(key, _)| *key != name);
        self
    }
}

impl TestSandbox {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The paths this sandbox's OIDC profile serves (Auth0's by default).
    pub fn endpoints(&self) -> keystone_sandbox::idp::Endpoints {
        self.sandbox.state.config.oidc_profile.endpoints()
    }

    /// The discovery document.
    pub async fn discovery(&self) -> Value {
        let response = self
            .http
            .get(self.url("/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    pub async fn authorize(&self, request: &AuthorizeRequest) -> reqwest::Response {
        self.http
            .get(self.url(self.endpoints().authorization))
            .query(&request.params)
            .send()
            .await
            .unwrap()
    }

    /// Opens the sign-in page and returns its login id.
    pub async fn sign_in_page(&self, request: &AuthorizeRequest) -> String {
        let response = self.authorize(request).await;
        assert_eq!(response.status(), StatusCode::OK);
        let html = response.text().await.unwrap();
        let marker = r#"name="login" value=""#;
        let start = html.find(marker).expect("the page carries a login id") + marker.len();
        html[start..].split('"').next().unwrap().to_owned()
    }

    /// Picks a person on the sign-in page; returns the redirect location.
    pub async fn pick(&self, login: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut fields = vec![("login", login)];
        fields.extend_from_slice(form);
        self.http
            .post(self.url(self.endpoints().decision))
            .form(&fields)
            .send()
            .await
            .unwrap()
    }

    /// The whole browser leg: authorize, pick `user_id`, return (code, verifier).
    pub async fn code_for(&self, user_id: &str) -> (String, String) {
        let (verifier, challenge) = pkce();
        let login = self.sign_in_page(&AuthorizeRequest::new(&challenge)).await;
        let response = self.pick(&login, &[("user_id", user_id)]).await;
        assert!(response.status().is_redirection(), "{}", response.status());
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(REDIRECT_URI), "{location}");
        assert_eq!(
            query_param(&location, "state").as_deref(),
            Some("state-123")
        );
        (
            query_param(&location, "code").expect("code in redirect"),
            verifier,
        )
    }

    pub async fn token(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url(self.endpoints().token))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn exchange(&self, code: &str, verifier: &str) -> reqwest::Response {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
        ])
        .await
    }

    /// Signs `user_id` in and returns the token reply.
    pub async fn login(&self, user_id: &str) -> Value {
        let (code, verifier) = self.code_for(user_id).await;
        let response = self.exchange(&code, &verifier).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    pub async fn user_token(&self, user_id: &str) -> String {
        self.login(user_id).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    pub async fn m2m_token(&self, slug: &str) -> String {
        let response = self
            .http
            .post(self.url(self.endpoints().token))
            .json(&serde_json::json!({
                "client_id": format!("sandbox-m2m-{slug}"),
                "client_secret": format!("sandbox-m2m-secret-{slug}"),
                "audience": API_AUDIENCE,
                "grant_type": "client_credentials",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A user of the seeded platform, working in `environment` (the `X-Keystone-Environment`
    /// header of every call).
    pub async fn as_user(&self, user_id: &str, environment: &str) -> Caller<'_> {
        let token = self.user_token(user_id).await;
        self.bearer(&token, Some(environment))
    }

    /// The M2M client of the environment `slug` (its token names the environment: no header).
    pub async fn as_client(&self, slug: &str) -> Caller<'_> {
        let token = self.m2m_token(slug).await;
        self.bearer(&token, None)
    }

    /// Any bearer token (forged, expired, another tenant's), with or without the header.
    pub fn bearer(&self, token: &str, environment: Option<&str>) -> Caller<'_> {
        Caller {
            sandbox: self,
            token: token.to_owned(),
            environment: environment.map(str::to_owned),
        }
    }

    pub fn environment_id(&self, slug: &str) -> String {
        self.sandbox
            .state
            .store
            .read(|data| data.environment_by_slug(slug).unwrap().id.to_string())
    }

    pub async fn set_faults(&self, faults: Value) {
        let response = self
            .http
            .put(self.url("/_sandbox/faults"))
            .json(&faults)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }

    pub async fn stats(&self) -> Value {
        self.http
            .get(self.url("/_sandbox/stats"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// One identity calling the API, as the Rust registry's `RequestHelper` does: the token and the
/// environment header are set once, each call names only what differs.
pub struct Caller<'a> {
    sandbox: &'a TestSandbox,
    token: String,
    environment: Option<String>,
}

impl Caller<'_> {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.send(Method::GET, path, None).await
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.send(Method::DELETE, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> reqwest::Response {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> reqwest::Response {
        self.send(Method::PUT, path, Some(body)).await
    }

    /// A GET that must answer 200; its JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }

    /// A POST that must succeed (2xx); its JSON.
    pub async fn post_json(&self, path: &str, body: Value) -> Value {
        let response = self.post(path, body).await;
        assert!(
            response.status().is_success(),
            "POST {path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
        let mut request = self
            .sandbox
            .http
            .request(method, self.sandbox.url(path))
            .bearer_auth(&self.token);
        if let Some(environment) = &self.environment {
            request = request.header("X-Keystone-Environment", environment);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }
}
