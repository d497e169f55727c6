//! What a server function works with: the signed-in member of this request, their session, and
//! calls to the KeyStone API made on their behalf.

use std::{sync::Arc, time::Instant};

use axum::http::{request::Parts, StatusCode};
use futures::StreamExt;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use reqwest::Method;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use tower_sessions::Session;

use super::{
    remembered::Ticket,
    session::{self, ChosenEnvironment, SignedIn, VaultError},
    telemetry,
    upstream::{paths, Caller},
    AppState, Bff,
};
use crate::{
    api::{
        confirmation_code, confirms, ApiError, EnvironmentRecord, Lenient, Listed, Page,
        PlatformRecord, Warning, LIST_LIMIT,
    },
    domain::EnvironmentSlug,
};

/// More environments than any platform has; a bound on the paging all the same.
const MAX_ENVIRONMENTS: usize = 1_000;
/// Pages of one list asked for at once, after the first: a 500-entry allowlist in two round
/// trips, without a burst of nine at the API for the longest list read whole (the environments,
/// up to 1,000).
const CONCURRENT_PAGES: usize = 4;

#[derive(Clone)]
pub struct MemberRequest {
    bff: Arc<Bff>,
    session: Session,
    member: SignedIn,
    /// This request's id, passed on to the KeyStone API.
    request_id: Option<String>,
    /// When this request must stop waiting for the KeyStone API (see [`Bff::request_budget`]).
    deadline: Instant,
    /// What this request has already resolved, shared by every server function of one page
    /// render (they run concurrently, each with its own `MemberRequest`).
    resolved: Arc<Resolved>,
}

/// Looked up at most once per request: the access token (one vault read, one decryption), the
/// environment list and the platform (one API call each), whichever server functions of the
/// request ask first (the overview and the settings show the platform, the shell when it has
/// not remembered it). Failures are not kept: the next caller tries again.
#[derive(Default)]
pub struct Resolved {
    access_token: tokio::sync::OnceCell<String>,
    environments: tokio::sync::OnceCell<Vec<serde_json::Value>>,
    platform: tokio::sync::OnceCell<PlatformRecord>,
    /// Where the shell's remembered platforms stood when the request arrived. Another server
    /// function of the request may have read the list before the shell asked for it, so what the
    /// shell read is remembered only if nothing was forgotten since the request began. `None`
    /// outside the sign-in gate: nothing is remembered then.
    shell_ticket: Option<Ticket>,
}

impl Resolved {
    pub fn with_shell_ticket(shell_ticket: Ticket) -> Self {
        Self {
            shell_ticket: Some(shell_ticket),
            ..Self::default()
        }
    }
}

impl MemberRequest {
    /// For plain axum handlers behind the sign-in gate; `started` is when the request arrived
    /// ([`telemetry::RequestStarted`]), which the budget counts from.
    pub fn new(
        bff: Arc<Bff>,
        session: Session,
        member: SignedIn,
        request_id: Option<String>,
        started: Instant,
        resolved: Arc<Resolved>,
    ) -> Self {
        let deadline = started + bff.request_budget;
        Self {
            bff,
            session,
            member,
            request_id,
            deadline,
            resolved,
        }
    }

    /// The member the sign-in gate let through. Outside a gated request there is none.
    pub fn current() -> Result<Self, ApiError> {
        let state = use_context::<AppState>().ok_or(ApiError::Internal)?;
        let parts = use_context::<Parts>().ok_or(ApiError::Internal)?;
        let session = parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or(ApiError::SignedOut)?;
        let member = parts
            .extensions
            .get::<SignedIn>()
            .cloned()
            .ok_or(ApiError::SignedOut)?;
        // Every server function of one page render shares the page's deadline and what the
        // render has resolved (the gate put one `Resolved` in the request; `Parts` clones share it).
        let resolved = parts
            .extensions
            .get::<Arc<Resolved>>()
            .cloned()
            .unwrap_or_default();
        Ok(Self::new(
            state.bff.clone(),
            session,
            member,
            telemetry::request_id(&parts.headers).map(str::to_owned),
            telemetry::RequestStarted::of(&parts.extensions),
            resolved,
        ))
    }

    pub fn member(&self) -> &SignedIn {
        &self.member
    }

    /// See [`Resolved::shell_ticket`].
    pub fn shell_ticket(&self) -> Option<Ticket> {
        self.resolved.shell_ticket
    }

    pub fn bff(&self) -> &Bff {
        &self.bff
    }

    /// A usable access token, within the request's deadline. When there is none any more
    /// (refresh refused), the session ends.
    pub async fn access_token(&self) -> Result<String, ApiError> {
        self.resolved
            .access_token
            .get_or_try_init(|| self.fetch_access_token())
            .await
            .cloned()
    }

    async fn fetch_access_token(&self) -> Result<String, ApiError> {
        // Giving up waiting cancels nothing: a refresh runs in a task of its own and stores its
        // result whoever still waits. Ending the session (below) stays outside the time limit, so
        // a sign-out is never cut short half-way.
        let deadline = tokio::time::Instant::from_std(self.deadline);
        let token =
            tokio::time::timeout_at(deadline, self.bff.vault.access_token(&self.member.tokens));
        let Ok(token) = Box::pin(token).await else {
            tracing::warn!("request budget spent waiting for a token refresh");
            return Err(ApiError::Unavailable {
                may_have_applied: false,
            });
        };
        match token {
            Ok(token) => Ok(token),
            Err(VaultError::SignedOut) => {
                self.bff.end_session(&self.session).await;
                Err(ApiError::SignedOut)
            }
            Err(VaultError::ProviderUnavailable) => Err(ApiError::ProviderUnavailable),
            Err(VaultError::Store(error)) => {
                tracing::error!(%error, "token store unavailable");
                Err(ApiError::Unavailable {
                    may_have_applied: false,
                })
            }
        }
    }

    /// The slug this session names in `X-Keystone-Environment`: the one chosen, else the configured
    /// bootstrap environment. No API call: listing the environments needs it first.
    async fn named_environment(&self) -> Result<EnvironmentSlug, ApiError> {
        Ok(session::environment(&self.session)
            .await
            .map_err(store_error)?
            .map(|chosen| chosen.slug().clone())
            .unwrap_or_else(|| self.bff.bootstrap_environment.clone()))
    }

    /// The environment this member works in: the one they chose, else the bootstrap environment
    /// when the platform has it active, else its first active environment.
    pub async fn environment(&self) -> Result<EnvironmentSlug, ApiError> {
        if let Some(chosen) = session::environment(&self.session)
            .await
            .map_err(store_error)?
        {
            return Ok(chosen.slug().clone());
        }
        let environments = self.environments().await?;
        let bootstrap = &self.bff.bootstrap_environment;
        let fallback = environments
            .iter()
            .filter(|environment| environment.is_active)
            .min_by_key(|environment| &environment.slug != bootstrap)
            .ok_or_else(|| {
                ApiError::NotFound("This platform has no active environment.".to_owned())
            })?;
        session::follow_environment(&self.session, fallback)
            .await
            .map_err(store_error)?;
        Ok(fallback.slug.clone())
    }

    /// The current environment's record (its id for paths, its name for the page), without an
    /// API call when the session already holds it.
    pub async fn environment_record(&self) -> Result<EnvironmentRecord, ApiError> {
        match session::environment(&self.session)
            .await
            .map_err(store_error)?
        {
            Some(ChosenEnvironment::Known(record)) => Ok(record),
            _ => self.listed_environment_record().await,
        }
    }

    /// The current environment's record as the environment list has it now (read once per
    /// request), kept in the session for the next requests: for a session that holds only the
    /// slug, or whose kept id the API no longer knows.
    pub async fn listed_environment_record(&self) -> Result<EnvironmentRecord, ApiError> {
        let slug = self.environment().await?;
        let record = self
            .environments()
            .await?
            .into_iter()
            .find(|environment| environment.slug == slug)
            .ok_or_else(|| {
                ApiError::NotFound(format!("This platform has no {slug} environment."))
            })?;
        session::follow_environment(&self.session, &record)
            .await
            .map_err(store_error)?;
        Ok(record)
    }

    /// The permissions the member's current access token grants. They shape the UI, and decide
    /// which reads remembered for the platform a member is given (only what the token names, so
    /// never more than the API would answer it); the KeyStone API verifies the token and enforces
    /// every permission itself.
    pub async fn permissions(&self) -> Result<Vec<String>, ApiError> {
        Ok(super::auth::permissions_of(&self.access_token().await?))
    }

    /// Whether the UI offers an action (see [`crate::api::permits`]: with a permission vocabulary
    /// the dashboard does not know, everything is offered and the API decides).
    pub async fn may(&self, permission: &str) -> Result<bool, ApiError> {
        Ok(crate::api::permits(&self.permissions().await?, permission))
    }

    /// Whether the member hid the getting-started checklist in this session.
    pub async fn checklist_dismissed(&self) -> Result<bool, ApiError> {
        session::checklist_dismissed(&self.session)
            .await
            .map_err(store_error)
    }

    pub async fn dismiss_checklist(&self) -> Result<(), ApiError> {
        session::dismiss_checklist(&self.session)
            .await
            .map_err(store_error)
    }

    /// Switches the environment every later call uses, after checking the platform has it, active.
    pub async fn switch_environment(&self, slug: &EnvironmentSlug) -> Result<(), ApiError> {
        let environments = self.environments().await?;
        match environments
            .iter()
            .find(|environment| &environment.slug == slug)
        {
            Some(environment) if environment.is_active => {
                session::choose_environment(&self.session, environment)
                    .await
                    .map_err(store_error)?;
                tracing::info!(environment = %slug, "environment switched");
                Ok(())
            }
            Some(_) => Err(ApiError::Conflict(format!(
                "The {slug} environment is deactivated."
            ))),
            None => Err(ApiError::NotFound(format!(
                "This platform has no {slug} environment."
            ))),
        }
    }

    /// The member's platform, read once per request.
    pub async fn platform(&self) -> Result<PlatformRecord, ApiError> {
        self.resolved
            .platform
            .get_or_try_init(|| self.get(paths::PLATFORM, &[]))
            .await
            .cloned()
    }

    /// The platform's environments the dashboard can work in (a record it cannot parse, such as
    /// a slug outside its grammar, is left out here; the Environments page shows it as stored).
    pub async fn environments(&self) -> Result<Vec<EnvironmentRecord>, ApiError> {
        Ok(self
            .environment_listing::<EnvironmentRecord>()
            .await?
            .into_iter()
            .filter_map(Listed::parsed)
            .collect())
    }

    /// The environment `id` names, from the same once-per-request listing. One the dashboard
    /// cannot read (shown as stored) is not found here either: nothing is changed through it.
    pub async fn environment_by_id(&self, id: &str) -> Result<EnvironmentRecord, ApiError> {
        self.environments()
            .await?
            .into_iter()
            .find(|environment| environment.id == id)
            .ok_or_else(|| {
                ApiError::NotFound(
                    "That environment is not among those the dashboard can work with: reload the page."
                        .to_owned(),
                )
            })
    }

    /// Every environment as listed, paged through, read once per request whoever asks. Named in
    /// the header is the session's environment, or the bootstrap one before it has any: the API
    /// wants the header here too.
    pub async fn environment_listing<T: DeserializeOwned + crate::api::ShownAsStored>(
        &self,
    ) -> Result<Vec<Listed<T>>, ApiError> {
        let items = self
            .resolved
            .environments
            .get_or_try_init(|| self.read_environments())
            .await?;
        // Read from the kept values by reference: no copy of the list per caller. An odd item
        // is kept as stored, never an error.
        Ok(items.iter().map(Lenient::<T>::from_tree).collect())
    }

    async fn read_environments(&self) -> Result<Vec<serde_json::Value>, ApiError> {
        let named = self.named_environment().await?;
        let items: Vec<serde_json::Value> = self
            .get_all_in(&named, paths::ENVIRONMENTS, &[], MAX_ENVIRONMENTS)
            .await?;
        let listed: Vec<EnvironmentRecord> = items
            .iter()
            .filter_map(|item| EnvironmentRecord::deserialize(item).ok())
            .collect();
        // Changed through another replica since this one remembered the shell's list: the shell
        // must not take the session's environment back to the older record, so it reads anew.
        let organization = &self.member.organization_id;
        let shell = &self.bff.shell_platforms;
        if shell
            .get(organization)
            .is_some_and(|remembered| remembered.environments != listed)
        {
            shell.forget(organization);
        }
        self.follow_listed_environment(listed).await?;
        Ok(items)
    }

    /// The record the session keeps of its environment follows the list (renamed, deactivated,
    /// or recreated under a new id since it was chosen): a fresh list, or the shell's remembered
    /// one, which every page reads, so that a member who never opens a page that lists the
    /// environments afresh still sees a rename.
    pub async fn follow_listed_environment(
        &self,
        listed: impl IntoIterator<Item = EnvironmentRecord>,
    ) -> Result<(), ApiError> {
        let Some(ChosenEnvironment::Known(kept)) = session::environment(&self.session)
            .await
            .map_err(store_error)?
        else {
            return Ok(());
        };
        let listed = listed.into_iter().find(|listed| listed.slug == kept.slug);
        if let Some(listed) = listed.filter(|listed| *listed != kept) {
            session::follow_environment(&self.session, &listed)
                .await
                .map_err(store_error)?;
        }
        Ok(())
    }

    /// Every item of a list in the member's current environment, paged through with the largest
    /// `limit` every list accepts (100), up to `cap` items. The API never promises one call
    /// returns everything: `total` says when the list ends.
    pub async fn get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        cap: usize,
    ) -> Result<Vec<T>, ApiError> {
        let environment = self.environment().await?;
        self.get_all_in(&environment, path, query, cap).await
    }

    /// [`MemberRequest::get_all`] in a given environment. The first page says how long the list
    /// is; the full pages after it are asked for together, a few at a time, so reading 500
    /// entries waits for two round trips to the API instead of five.
    pub async fn get_all_in<T: DeserializeOwned>(
        &self,
        environment: &EnvironmentSlug,
        path: &str,
        query: &[(&str, String)],
        cap: usize,
    ) -> Result<Vec<T>, ApiError> {
        let page_size = LIST_LIMIT as usize;
        let query_at = |offset: usize| {
            let mut paged = query.to_vec();
            paged.push(("limit", LIST_LIMIT.to_string()));
            paged.push(("offset", offset.to_string()));
            paged
        };
        let first: Page<T> = Box::pin(self.get_in(environment, path, &query_at(0))).await?;
        let (mut total, mut last_page) = (first.total as usize, first.items.len());
        let mut items = first.items;
        // Full pages reach `cap` in this many calls after the first; an API that overstates
        // `total` and answers short pages is not followed further.
        let mut calls_left = cap.div_ceil(page_size);
        // The first page was full: the offsets of the pages after it are known.
        if last_page == page_size && items.len() < total.min(cap) {
            let offsets: Vec<Vec<(&str, String)>> = (items.len()..total.min(cap))
                .step_by(page_size)
                .take(calls_left)
                .map(query_at)
                .collect();
            calls_left -= offsets.len();
            // Futures built in a loop, not by a closure: a closure here makes the server
            // function's future fail the compiler's `Send` proof (a higher-ranked lifetime).
            let mut requests = Vec::with_capacity(offsets.len());
            for paged in &offsets {
                requests.push(Box::pin(self.get_in::<Page<T>>(environment, path, paged)));
            }
            // Every call runs to its end before an error is returned: dropping the others
            // midway could cut short a sign-out one of them started (a 401 ends the session).
            let pages: Vec<Result<Page<T>, ApiError>> = futures::stream::iter(requests)
                .buffered(CONCURRENT_PAGES)
                .collect()
                .await;
            let asked = pages.len();
            let mut kept = 0;
            for page in pages {
                let page = page?;
                kept += 1;
                (total, last_page) = (page.total as usize, page.items.len());
                items.extend(page.items);
                // A short page: the list changed while it was read. The pages after it are
                // dropped and the rest read again, one at a time, from where this one ended
                // (their calls are given back, or the list would end short of `total`).
                if last_page < page_size {
                    break;
                }
            }
            calls_left += asked - kept;
        }
        // Shorter pages than asked for, or a list that changed meanwhile: one page at a time,
        // through `total`.
        while calls_left > 0 && last_page > 0 && items.len() < total.min(cap) {
            calls_left -= 1;
            let page: Page<T> =
                Box::pin(self.get_in(environment, path, &query_at(items.len()))).await?;
            (total, last_page) = (page.total as usize, page.items.len());
            items.extend(page.items);
        }
        if items.len() < total.min(cap) {
            // Every check made on this list (its size limit, overlaps, lockouts) sees fewer items
            // than the API counts: worth an operator's look. Counts only, never the items.
            tracing::warn!(
                read = items.len(),
                total,
                "a KeyStone API list ended short of its total"
            );
        }
        items.truncate(cap);
        Ok(items)
    }

    /// A read in the member's current environment.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        let environment = self.environment().await?;
        self.call(false, |token| async move {
            let caller = self.caller(&token, &environment);
            self.bff.upstream.get(&caller, path, query).await
        })
        .await
    }

    /// A read in a given environment (the overview looks at every environment at once).
    pub async fn get_in<T: DeserializeOwned>(
        &self,
        environment: &EnvironmentSlug,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        self.call(false, |token| async move {
            let caller = self.caller(&token, environment);
            self.bff.upstream.get(&caller, path, query).await
        })
        .await
    }

    /// One raw read for the upstream self-check, within the request's budget.
    pub async fn probe(
        &self,
        environment: &EnvironmentSlug,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<super::upstream::Probe, ApiError> {
        self.call(false, |token| async move {
            let caller = self.caller(&token, environment);
            Ok(self.bff.upstream.probe(&caller, path, query).await)
        })
        .await
    }

    /// A change in the member's current environment.
    pub async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<Option<T>, ApiError> {
        let environment = self.environment().await?;
        self.call(true, |token| async move {
            let caller = self.caller(&token, &environment);
            self.bff.upstream.send(&caller, method, path, body).await
        })
        .await
    }

    /// [`MemberRequest::send`] for a change whose reply is the changed record. A success with no
    /// body (204, or an empty 2xx) means the change was made and its record not returned: the
    /// member is told it may have been saved, never "something went wrong, try again", which
    /// would make a second webhook or invitation.
    pub async fn send_for<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ApiError> {
        self.send(method, path, body).await?.ok_or_else(|| {
            tracing::warn!(path, "a change answered success without its record");
            ApiError::UnexpectedReply {
                may_have_applied: true,
            }
        })
    }

    fn caller<'a>(&'a self, access_token: &'a str, environment: &'a EnvironmentSlug) -> Caller<'a> {
        Caller {
            access_token,
            environment,
            request_id: self.request_id.as_deref(),
        }
    }

    /// Runs `call` with a usable token, within the request's deadline: a slow API cannot hold a
    /// page (or a server function) longer than the budget, however many calls it makes.
    async fn call<T, F, Fut>(&self, is_write: bool, call: F) -> Result<T, ApiError>
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        if self.deadline <= Instant::now() {
            tracing::warn!("request budget spent: not calling the KeyStone API");
            return Err(ApiError::Unavailable {
                may_have_applied: false,
            });
        }
        // Both futures are boxed: a page joins several reads at once, and held inline their
        // states (token refresh, HTTP exchange) made one render's future deep enough to overflow a
        // worker thread's stack in debug builds. Both count against the one deadline.
        let token = Box::pin(self.access_token()).await?;
        let deadline = tokio::time::Instant::from_std(self.deadline);
        let result = match Box::pin(tokio::time::timeout_at(deadline, call(token))).await {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!(
                    is_write,
                    "request budget spent waiting for the KeyStone API"
                );
                // A write cut off mid-flight may have landed.
                Err(ApiError::Unavailable {
                    may_have_applied: is_write,
                })
            }
        };
        if matches!(result, Err(ApiError::SignedOut)) {
            // The API no longer accepts this session's token (revoked, or keys rotated): end the
            // session so the next sign-in starts clean instead of looping.
            self.bff.end_session(&self.session).await;
        }
        result
    }
}

fn store_error(error: tower_sessions::session::Error) -> ApiError {
    tracing::error!(%error, "session store unavailable");
    ApiError::Unavailable {
        may_have_applied: false,
    }
}

/// Refuses a change whose consequences (`warnings`, worked out from fresh reads) were not
/// confirmed: the form's `confirm` must carry the code of each of them. The page shows them
/// beside a `required` checkbox that carries their code; checking here makes a hand-made post
/// unable to skip them, and a page older than the state it changes unable to confirm consequences
/// it never showed (it is told the fresh ones).
pub fn require_confirmation(warnings: &[Warning], confirm: Option<&str>) -> Result<(), ApiError> {
    if warnings.is_empty() {
        return Ok(());
    }
    if confirm.is_some_and(|code| confirms(code, warnings)) {
        return Ok(());
    }
    let lead = match confirm {
        None => "Confirm to go ahead.",
        // A page loaded before the list or its callers changed, or a form sent before the page
        // could work out what the typed change does.
        Some(_) => {
            "This change does more than the page showed: read what it does and confirm again."
        }
    };
    let texts: Vec<&str> = warnings.iter().map(Warning::text).collect();
    Err(ApiError::NeedsConfirmation {
        message: format!("{lead} {}", texts.join(" ")),
        code: confirmation_code(warnings),
    })
}

/// Finishes a server function: an error sets the matching HTTP status (401, 403, 422, ...), so the
/// reply means the same to any client, not only to this app's WASM.
///
/// Only for a call to the function itself (`/api/…`). Inside a page render the page's status is
/// left alone: the failure is shown in place (a section fails alone, under a shell that loaded),
/// and a status set there would depend on whether the data arrived before the page's head was
/// sent, a race that made the same page 200 or 403 from one load to the next.
pub fn respond<T>(result: Result<T, ApiError>) -> Result<T, ApiError> {
    // The contexts are looked up on failure only: a lookup walks the reactive owner tree, and one
    // made while a finished render drops that tree can deadlock in reactive_graph (seen in a
    // test with a lookup on every success).
    if let Err(error) = &result {
        let is_call = use_context::<Parts>()
            .is_some_and(|parts| super::middleware::is_server_fn_path(parts.uri.path()));
        if let (true, Some(response)) = (is_call, use_context::<ResponseOptions>()) {
            response.set_status(
                StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            );
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use leptos::prelude::{provide_context, Owner};

    use super::*;

    /// The status `respond` gives a refusal in a request for `path`.
    fn status_after_refusal(path: &str) -> Option<StatusCode> {
        Owner::new().with(|| {
            let (parts, ()) = axum::http::Request::builder()
                .uri(path)
                .body(())
                .expect("a valid request")
                .into_parts();
            provide_context(parts);
            let response = ResponseOptions::default();
            provide_context(response.clone());
            let _ = respond::<()>(Err(ApiError::Forbidden("Missing permission".to_owned())));
            let status = response.0.read().expect("response options").status;
            status
        })
    }

    #[test]
    fn only_a_call_to_the_server_function_takes_the_refusals_status() {
        // A page render keeps its status whatever its data does: set there, it raced the head.
        assert_eq!(
            status_after_refusal("/api/activity"),
            Some(StatusCode::FORBIDDEN)
        );
        assert_eq!(status_after_refusal("/activity"), None);
    }
}
