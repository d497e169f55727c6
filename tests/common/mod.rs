//! Test harness: the real dashboard server on a free loopback port.

use keystone_dashboard::server::{Application, Config};

pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base_url))
            .send()
            .await
            .expect("request reaches the dashboard")
    }
}

/// Starts the dashboard (and its embedded sandbox) on port 0 and returns once it is listening.
///
/// Tests using it run on tokio's multi-thread runtime, as the server does in production: with the
/// server and the client sharing one current-thread test runtime, SSR of a page occasionally deadlocked.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Config::for_tests()).await
}

pub async fn spawn_app_with(config: Config) -> TestApp {
    let app = Application::build(config).await.expect("dashboard starts");
    let base_url = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp { base_url, client }
}
