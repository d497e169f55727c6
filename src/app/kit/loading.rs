//! Loading a page's data and saying, in place, what could not be loaded.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use leptos::{either::Either, prelude::*, server_fn::ServerFn};
use leptos_router::hooks::use_location;
use serde::{de::DeserializeOwned, Serialize};

use crate::{api::ApiError, domain::ReturnTo};

/// How many of the page's lists are being read, counted by each [`Loaded`] in the browser. The
/// shell provides it once and shows one [`ReadingBar`] for all of them.
#[derive(Clone, Copy)]
pub struct Reads(RwSignal<u32>);

impl Reads {
    pub fn provide() {
        provide_context(Self(RwSignal::new(0)));
    }

    /// `Transition`'s pending state, counted while it lasts (and no longer once its list is
    /// gone). A no-op on the server, which sends a page only when its reads are done.
    fn counted() -> SignalSetter<bool> {
        let reads = use_context::<Self>().filter(|_| !cfg!(feature = "ssr"));
        let Some(Self(count)) = reads else {
            return SignalSetter::map(|_| {});
        };
        let counted = Arc::new(AtomicBool::new(false));
        on_cleanup({
            let counted = counted.clone();
            move || {
                if counted.swap(false, Ordering::Relaxed) {
                    count.try_update(|count| *count = count.saturating_sub(1));
                }
            }
        });
        SignalSetter::map(move |pending: bool| {
            if counted.swap(pending, Ordering::Relaxed) != pending {
                count.update(|count| {
                    *count = if pending {
                        *count + 1
                    } else {
                        count.saturating_sub(1)
                    }
                });
            }
        })
    }
}

/// When the shell's top bar reads the platform again: its name and the environments to switch
/// between are changed on other pages (General settings, Environments), and a top bar that kept
/// the old name after a saved rename would say the save did not take. Provided once by the app;
/// a page follows each action that changes what the top bar shows.
#[derive(Clone, Copy)]
pub struct ShellRefresh(RwSignal<u32>);

impl ShellRefresh {
    pub fn provide() {
        provide_context(Self(RwSignal::new(0)));
    }

    pub fn expect() -> Self {
        expect_context()
    }

    /// Changes each time the top bar should read again (tracked).
    pub fn version(self) -> u32 {
        self.0.get()
    }

    /// Has the top bar read again after each change `action` saved. A refusal or failure leaves
    /// it as it is: nothing it shows changed.
    pub fn follow<S>(self, action: ServerAction<S>)
    where
        S: ServerFn<Error = ApiError> + Clone + Send + Sync + 'static,
        S::Output: Send + Sync + 'static,
    {
        self.after(action, true);
    }

    /// Has the top bar read again after each refusal or failure of `action`: for a change refused
    /// because the session moved on elsewhere (another tab switched environment), so that the bar
    /// shows where the session is now, as the page does once it reads again. A saved one changed
    /// nothing the bar shows, and costs no read.
    pub fn follow_refusals<S>(self, action: ServerAction<S>)
    where
        S: ServerFn<Error = ApiError> + Clone + Send + Sync + 'static,
        S::Output: Send + Sync + 'static,
    {
        self.after(action, false);
    }

    /// Has the top bar read again after each outcome of `action` that is a save (`saved`) or a
    /// refusal or failure (`!saved`).
    fn after<S>(self, action: ServerAction<S>, saved: bool)
    where
        S: ServerFn<Error = ApiError> + Clone + Send + Sync + 'static,
        S::Output: Send + Sync + 'static,
    {
        Effect::new(move |_| {
            let reads_again = action.value().with(|outcome| {
                outcome
                    .as_ref()
                    .is_some_and(|outcome| outcome.is_ok() == saved)
            });
            if reads_again {
                self.0.update(|version| *version += 1);
            }
        });
    }
}

/// A thin bar at the top of the window while any list is being read: a pager's link, a search,
/// the reload after a change, and a page's first read after a click in the sidebar. [`Loaded`]
/// keeps the old rows on screen until the new ones are ready, and without the bar a slow read
/// looks like a click that did nothing. It appears after a beat (the stylesheet's delay), so a
/// quick read does not flash. Screen readers hear the outcome instead (the pager's new range,
/// the announcement of a change), not the wait.
#[component]
pub fn ReadingBar() -> impl IntoView {
    let reads = use_context::<Reads>();
    let idle = move || reads.is_none_or(|Reads(count)| count.get() == 0);
    view! {
        <div
            class="reading-bar"
            role="progressbar"
            aria-label="Loading"
            data-testid="reading-bar"
            hidden=idle
        ></div>
    }
}

/// Renders `children` with the resource's value once it has loaded; a failure is shown where the
/// content would be (a way back in when the session ended, the reason and a retry otherwise).
/// A transition: after a change the old content stays on screen until the new one is ready, and
/// the shell's [`ReadingBar`] shows meanwhile.
///
/// A read of the same address that fails after one succeeded (the reload after a change, a retry)
/// keeps what was read last on screen, under a notice that says it may be out of date, with a
/// retry of the read alone: the page's forms, and what was typed in them, are not swapped for an
/// error, and the notice comes and goes without rebuilding the page under the focus. A failed
/// read of another address (a pager's link, a search) is shown as a failure: the old address's
/// rows would pass for the new one's.
#[component]
pub fn Loaded<T, V, F>(
    resource: Resource<Result<T, ApiError>>,
    /// "Loading members…"
    loading: &'static str,
    /// What the resource is read by, when not the page's address: the last good read is shown
    /// again only while this is the same (a list keyed by its changes alone, on a page whose
    /// address also names another panel's state, gives a constant).
    #[prop(optional, into)]
    reads_by: Option<Signal<String>>,
    children: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let set_pending = Reads::counted();
    // Kept in the browser only: the server renders each page once, and a copy there would cost
    // every render a clone of the whole list. With the address it was read for.
    let last_read = StoredValue::new(None::<(String, T)>);
    // Failed reads since the last good one: said in the notice, so that a retry that fails the
    // same way changes what it says (and is read out again).
    let failures = StoredValue::new(0u32);
    let location = use_location();
    let address = move || match reads_by {
        Some(key) => key.get_untracked(),
        None => path_and_query(
            &location.pathname.get_untracked(),
            &location.search.get_untracked(),
        ),
    };
    let shown = move || {
        let children = children.clone();
        Suspend::new(async move {
            // No arm is erased with `into_any`, which boxes the page and walks it whole on the
            // server (see `TableScroll`). The notice is an `Option` beside the content, so that
            // it comes and goes with the content patched in place.
            match resource.await {
                Ok(value) => {
                    if !cfg!(feature = "ssr") {
                        failures.set_value(0);
                        last_read.set_value(Some((address(), value.clone())));
                        // The notice's Try again holds the focus (the notice is still in the
                        // page) and goes with it: the focus goes on to the page. Any other
                        // recovery leaves the focus to whoever moves it (a dialog's save).
                        #[cfg(not(feature = "ssr"))]
                        if super::focus_is_within(READ_AGAIN_CLASS) {
                            request_animation_frame(|| {
                                if super::focus_is_lost() {
                                    super::focus_main();
                                }
                            });
                        }
                    }
                    Either::Left((None, children(value)))
                }
                // A session that ended is said as such: nothing on the page can be saved any more.
                Err(error) => {
                    let here = address();
                    let kept = last_read
                        .get_value()
                        .filter(|(read_for, _)| error != ApiError::SignedOut && *read_for == here);
                    match kept {
                        Some((_, value)) => {
                            failures.update_value(|failed| *failed += 1);
                            let notice = view! { <ReadAgainFailed error resource failures=failures.get_value() /> };
                            Either::Left((Some(notice), children(value)))
                        }
                        None => {
                            failures.set_value(0);
                            Either::Right(view! { <LoadFailed error /> })
                        }
                    }
                }
            }
        })
    };
    view! {
        <Transition
            set_pending
            fallback=move || {
                view! {
                    <p class="panel" aria-busy="true">
                        {loading}
                    </p>
                }
            }
        >
            {shown}
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

/// The class of [`ReadAgainFailed`]'s notice.
const READ_AGAIN_CLASS: &str = "read-again-failed";

/// Above content read earlier, when reading it again failed: why, in the error's first sentence
/// (its "nothing was changed" is about the read, and beside a change just saved it would say the
/// save did not happen), that what is shown may be out of date, and a retry of the read alone.
#[component]
fn ReadAgainFailed<T>(
    error: ApiError,
    resource: Resource<Result<T, ApiError>>,
    /// Failed reads in a row.
    failures: u32,
) -> impl IntoView
where
    T: Send + Sync + Serialize + DeserializeOwned + 'static,
{
    let said = match failures {
        0 | 1 => format!(
            "Could not refresh what is shown: {}.",
            error.first_sentence()
        ),
        tries => format!(
            "Still could not refresh what is shown ({tries} tries): {}.",
            error.first_sentence()
        ),
    };
    view! {
        <div
            class=format!("section-failed {READ_AGAIN_CLASS}")
            role="alert"
            data-testid="read-again-failed"
        >
            <p>
                {said}
                " It was read earlier, so it may be out of date, and may not show a change just made."
            </p>
            <button
                type="button"
                class="button button--secondary button--small"
                on:click=move |_| resource.refetch()
            >
                "Try again"
            </button>
        </div>
    }
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
