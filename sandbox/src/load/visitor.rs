//! One simulated browser: a session cookie, the sign-in through the sandbox's login page, page
//! loads and server-function calls, and a replica to talk to (switching on connection failure,
//! as a load balancer would).

use std::time::{Duration, Instant};

use reqwest::{header, StatusCode};

use super::stats::Samples;

pub const SESSION_COOKIE: &str = "__Host-keystone_session";

/// What one request came to.
pub enum Outcome {
    Reply {
        status: StatusCode,
        body: String,
    },
    /// No reply: refused, reset or timed out.
    Lost {
        connect: bool,
    },
}

pub struct Visitor {
    http: reqwest::Client,
    targets: Vec<String>,
    target: usize,
    /// The dashboard's public URL: the `Origin` a browser would send.
    origin: String,
    cookie: Option<String>,
}

impl Visitor {
    pub fn new(http: reqwest::Client, targets: Vec<String>, first: usize, origin: String) -> Self {
        let target = first % targets.len();
        Self {
            http,
            targets,
            target,
            origin,
            cookie: None,
        }
    }

    pub fn is_signed_in(&self) -> bool {
        self.cookie.is_some()
    }

    /// The session cookie's value (for tools that replay one request many times).
    pub fn cookie(&self) -> Option<&str> {
        self.cookie.as_deref()
    }

    fn base(&self) -> &str {
        &self.targets[self.target]
    }

    async fn send(&mut self, request: reqwest::RequestBuilder, samples: &mut Samples) -> Outcome {
        let request = match &self.cookie {
            Some(cookie) => request.header(header::COOKIE, format!("{SESSION_COOKIE}={cookie}")),
            None => request,
        };
        let started = Instant::now();
        let reply = match request.send().await {
            Ok(reply) => reply,
            Err(error) => {
                samples.record(started.elapsed(), None);
                let connect = error.is_connect();
                if connect && self.targets.len() > 1 {
                    // The replica is gone: the next request goes to another one, with the same
                    // cookie (the session is in the shared store).
                    self.target = (self.target + 1) % self.targets.len();
                }
                return Outcome::Lost { connect };
            }
        };
        let status = reply.status();
        for set_cookie in reply.headers().get_all(header::SET_COOKIE) {
            let Some(rest) = set_cookie
                .to_str()
                .ok()
                .and_then(|value| value.strip_prefix(&format!("{SESSION_COOKIE}=")))
            else {
                continue;
            };
            let value = rest.split(';').next().unwrap_or_default();
            let removed = value.is_empty() || rest.to_ascii_lowercase().contains("max-age=0");
            self.cookie = (!removed).then(|| value.to_owned());
        }
        let location = reply
            .headers()
            .get(header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        // The whole body is part of the time: SSR pages stream after the head.
        let body = reply.text().await;
        samples.record(started.elapsed(), Some(status.as_u16()));
        Outcome::Reply {
            status,
            body: location.unwrap_or_else(|| body.unwrap_or_default()),
        }
    }

    /// A page load (GET, same-origin navigation).
    pub async fn page(&mut self, path: &str, samples: &mut Samples) -> Outcome {
        let request = self
            .http
            .get(format!("{}{path}", self.base()))
            .header("sec-fetch-site", "same-origin");
        self.send(request, samples).await
    }

    /// A server function, called as the hydrated page does (POST, url-encoded, same origin).
    pub async fn server_fn(
        &mut self,
        name: &str,
        args: &[(&str, &str)],
        samples: &mut Samples,
    ) -> Outcome {
        let request = self
            .http
            .post(format!("{}/api/{name}", self.base()))
            .header("sec-fetch-site", "same-origin")
            .header(header::ORIGIN, &self.origin)
            .header(header::ACCEPT, "application/json")
            .form(args);
        self.send(request, samples).await
    }

    /// A change as a member makes it who agrees to whatever it asks them to confirm: sent as is,
    /// and when the dashboard answers 428 (consequences to confirm: the first or last entry of a
    /// list, say), sent once more with the code of the warnings that reply named.
    pub async fn confirmed_server_fn(
        &mut self,
        name: &str,
        args: &[(&str, &str)],
        samples: &mut Samples,
    ) -> Outcome {
        let outcome = self.server_fn(name, args, samples).await;
        let code = match &outcome {
            Outcome::Reply { status, body } if *status == StatusCode::PRECONDITION_REQUIRED => {
                serde_json::from_str::<serde_json::Value>(body)
                    .ok()
                    .and_then(|error| {
                        error["NeedsConfirmation"]["code"]
                            .as_str()
                            .map(str::to_owned)
                    })
            }
            _ => None,
        };
        let Some(code) = code else {
            return outcome;
        };
        let mut confirmed = args.to_vec();
        confirmed.push(("confirm", &code));
        self.server_fn(name, &confirmed, samples).await
    }

    /// Signs `user_id` in through the dashboard and the sandbox's sign-in page, as a browser
    /// follows the redirects. Each step is timed in `samples`.
    pub async fn sign_in(&mut self, user_id: &str, samples: &mut Samples) -> Result<(), String> {
        self.cookie = None;
        let authorize_url = match self.page("/auth/login", samples).await {
            Outcome::Reply { status, body } if status == StatusCode::SEE_OTHER => body,
            Outcome::Reply { status, .. } => return Err(format!("login answered {status}")),
            Outcome::Lost { .. } => return Err("login: no reply".into()),
        };
        let started = Instant::now();
        let page = self
            .http
            .get(&authorize_url)
            .send()
            .await
            .map_err(|error| format!("authorize: {error}"))?;
        let html = page.text().await.map_err(|error| error.to_string())?;
        samples.record(started.elapsed(), Some(200));
        let marker = r#"name="login" value=""#;
        let start = html
            .find(marker)
            .ok_or("the sign-in page has no login id")?
            + marker.len();
        let login = html[start..].split('"').next().unwrap_or_default();
        let issuer = authorize_url.split("/authorize").next().unwrap_or_default();
        let started = Instant::now();
        let decision = self
            .http
            .post(format!("{issuer}/authorize/decision"))
            .form(&[("login", login), ("user_id", user_id)])
            .send()
            .await
            .map_err(|error| format!("decision: {error}"))?;
        samples.record(started.elapsed(), Some(decision.status().as_u16()));
        let callback = decision
            .headers()
            .get(header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .ok_or("the sign-in page did not redirect")?
            .to_owned();
        // The callback names the public URL; this visitor talks to its replica directly.
        let path = callback
            .strip_prefix(&self.origin)
            .ok_or_else(|| format!("callback to another origin: {callback}"))?
            .to_owned();
        match self.page(&path, samples).await {
            Outcome::Reply { status, .. }
                if status == StatusCode::SEE_OTHER && self.is_signed_in() =>
            {
                Ok(())
            }
            Outcome::Reply { status, body } => Err(format!("callback answered {status}: {body}")),
            Outcome::Lost { .. } => Err("callback: no reply".into()),
        }
    }
}

/// A client shaped like many browsers: no redirects followed (the visitor reads them), keep-alive.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .pool_max_idle_per_host(256)
        .build()
        .expect("the TLS backend initialises")
}
