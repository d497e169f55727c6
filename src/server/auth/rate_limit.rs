//! A per-address limit on the sign-in routes. `/auth/login` and `/auth/callback` are the only
//! routes an anonymous client can make the BFF do real work on (pending logins in the store, a code
//! exchange and JWKS checks at the provider), so they are what a flood would aim at.

use std::{net::IpAddr, num::NonZeroU32, sync::Arc, time::Duration};

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::Response,
    Extension,
};
use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::server::forwarded::{rate_limit_key, ClientAddr};
use crate::server::pages::sign_in_problem;

pub struct SignInLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl SignInLimiter {
    /// `per_minute` requests per client address, all of which may come at once (a browser with a
    /// few tabs, a colleague behind the same NAT).
    pub fn new(per_minute: NonZeroU32) -> Arc<Self> {
        let limiter = Arc::new(Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
        });
        // Forget addresses whose allowance is full again, so the table cannot grow without bound.
        let weak = Arc::downgrade(&limiter);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let Some(limiter) = weak.upgrade() else { break };
                limiter.limiter.retain_recent();
            }
        });
        limiter
    }
}

pub async fn limit_sign_in(
    State(limiter): State<Arc<SignInLimiter>>,
    Extension(client): Extension<ClientAddr>,
    request: Request,
    next: Next,
) -> Response {
    match limiter.limiter.check_key(&rate_limit_key(client.0)) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            let seconds = wait.as_secs() + 1;
            tracing::warn!(client = %client.0, retry_after = seconds, "sign-in rate limit reached");
            let mut response = sign_in_problem(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many sign-in attempts",
                &format!(
                    "There have been too many sign-in attempts from your network. \
                     Wait {seconds} seconds, then sign in again."
                ),
                "/auth/login",
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_str(&seconds.to_string()).expect("digits"),
            );
            response
        }
    }
}
