//! Loading a page's data and saying, in place, what could not be loaded.

use leptos::prelude::*;
use leptos_router::hooks::use_location;
use serde::{de::DeserializeOwned, Serialize};

use crate::{api::ApiError, domain::ReturnTo};

/// Renders `children` with the resource's value once it has loaded; a failure is shown where the
/// content would be (a way back in when the session ended, the reason and a retry otherwise).
/// A transition: after a change the old content stays on screen until the new one is ready.
#[component]
pub fn Loaded<T, V, F>(
    resource: Resource<Result<T, ApiError>>,
    /// "Loading members…"
    loading: &'static str,
    children: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Transition fallback=move || {
            view! {
                <p class="panel" aria-busy="true">
                    {loading}
                </p>
            }
        }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(value) => children(value).into_any(),
                        Err(error) => view! { <LoadFailed error /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// What a page shows when its data could not be loaded: a way back in when the session ended,
/// the reason (in the API's words) otherwise, and a retry where one can help.
#[component]
pub fn LoadFailed(error: ApiError) -> impl IntoView {
    if error == ApiError::SignedOut {
        return view! { <SignInAgain /> }.into_any();
    }
    // A full load of the same URL: the server reads everything again, with or without
    // JavaScript (`rel="external"` keeps the router from treating it as a no-op).
    let here = current_path_untracked();
    let retryable = matches!(
        error,
        ApiError::Unavailable { .. } | ApiError::RateLimited { .. } | ApiError::Unreachable
    );
    view! {
        <section class="panel panel--error" role="alert">
            <p>{error.to_string()}</p>
            {retryable
                .then(|| {
                    view! {
                        <p>
                            <a class="button" href=here rel="external">
                                "Try again"
                            </a>
                        </p>
                    }
                })}
        </section>
    }
    .into_any()
}

/// A section that could not be read says so in place; the rest of the page stands.
#[component]
pub fn SectionFailed(what: &'static str, error: ApiError) -> impl IntoView {
    view! {
        <p class="section-failed" role="status" data-testid="section-failed">
            {format!("Could not load {what}: {error}")}
        </p>
    }
}

/// Shown when the session has ended: a link back through the sign-in to this very page.
#[component]
pub fn SignInAgain() -> impl IntoView {
    let location = use_location();
    let href = move || {
        let here = path_and_query(&location.pathname.get(), &location.search.get());
        ReturnTo::or_home(Some(&here)).sign_in_href()
    };
    view! {
        <p class="session-ended" role="alert">
            "Your session has ended. "
            <a href=href data-testid="sign-in-again">
                "Sign in again"
            </a>
            " to continue where you were."
        </p>
    }
}

fn current_path_untracked() -> String {
    let location = use_location();
    path_and_query(
        &location.pathname.get_untracked(),
        &location.search.get_untracked(),
    )
}

/// The page's own URL from the router's location (whose search may come with or without `?`).
fn path_and_query(path: &str, search: &str) -> String {
    let path = if path.is_empty() { "/" } else { path };
    match search.trim_start_matches('?') {
        "" => path.to_owned(),
        query => format!("{path}?{query}"),
    }
}
