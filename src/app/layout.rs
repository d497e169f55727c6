//! The application shell: sidebar navigation, top bar, environment switcher and user menu.

use leptos::prelude::*;
use leptos_router::components::A;

use leptos_router::hooks::use_location;

use crate::api::{
    load_shell, ApiError, EnvironmentChoice, MemberSummary, ShellView, SwitchEnvironment,
};
use crate::domain::{EnvironmentSlug, ReturnTo};

/// Primary navigation. `A` marks the active link with `aria-current="page"`.
#[component]
pub fn Sidebar() -> impl IntoView {
    view! {
        <nav class="sidebar" aria-label="Primary">
            <A href="/" attr:class="brand">
                <span class="brand__mark" aria-hidden="true">"K"</span>
                <span class="brand__name">"KeyStone"</span>
            </A>
            <ul class="nav">
                <li><A href="/" exact=true>"Overview"</A></li>
                <li class="nav__heading">"Team"</li>
                <li><A href="/members">"Members"</A></li>
                <li><A href="/roles">"Roles"</A></li>
                <li class="nav__heading">"Settings"</li>
                <li><A href="/environments">"Environments"</A></li>
                <li><A href="/security">"Security"</A></li>
                <li><A href="/activity">"Activity"</A></li>
                <li><A href="/upstream-check">"API check"</A></li>
            </ul>
        </nav>
    }
}

/// Top bar: platform name, environment switcher and user menu, loaded from the BFF.
#[component]
pub fn TopBar() -> impl IntoView {
    let shell = Resource::new(|| (), |_| load_shell());
    view! {
        <Suspense fallback=|| {
            view! { <header class="topbar topbar--loading" aria-busy="true"></header> }
        }>
            {move || Suspend::new(async move {
                match shell.await {
                    Ok(shell) => view! { <TopBarContent shell /> }.into_any(),
                    Err(ApiError::SignedOut) => {
                        view! {
                            <header class="topbar">
                                <SignInAgain />
                            </header>
                        }
                            .into_any()
                    }
                    Err(error) => {
                        view! {
                            <header class="topbar">
                                <p class="topbar__error" role="alert">
                                    "The dashboard could not load your platform: " {error.to_string()}
                                </p>
                            </header>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn TopBarContent(shell: ShellView) -> impl IntoView {
    let ShellView {
        platform_name,
        environments,
        current_environment,
        member,
        permissions: _,
    } = shell;
    let current = RwSignal::new(current_environment);
    let is_production = move || current.with(EnvironmentSlug::is_production);

    view! {
        <header class="topbar" class:topbar--production=is_production>
            <span class="topbar__platform">{platform_name}</span>
            <EnvironmentSwitcher environments current />
            <UserMenu member />
        </header>
        <Show when=is_production>
            <div class="production-banner" role="status">
                <strong>"Production"</strong>
                " — changes here affect live traffic."
            </div>
        </Show>
    }
}

/// Chooses the environment every page works in. Production is coloured and labelled so it can
/// never be mistaken for a test environment (the "test/live trap").
///
/// A real form posting to the `switch_environment` server function: without WASM the "Switch"
/// button submits it and the server sends the browser back; with WASM a change submits at once.
/// Once the session has the new environment the page reloads, so every panel shows its data.
#[component]
fn EnvironmentSwitcher(
    environments: Vec<EnvironmentChoice>,
    current: RwSignal<EnvironmentSlug>,
) -> impl IntoView {
    let switch = ServerAction::<SwitchEnvironment>::new();
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let form = NodeRef::<leptos::html::Form>::new();
    let on_change = move |_| {
        if let Some(form) = form.get() {
            let _ = form.request_submit();
        }
    };
    Effect::new(move |_| {
        if let Some(Ok(slug)) = switch.value().get() {
            current.set(slug);
            let _ = window().location().reload();
        }
    });
    let failure = move || {
        switch
            .value()
            .get()
            .and_then(Result::err)
            .map(|error| error.to_string())
    };
    view! {
        <ActionForm action=switch node_ref=form attr:class="env-switcher-form">
            <label
                class="env-switcher"
                class:env-switcher--production=move || current.with(EnvironmentSlug::is_production)
            >
                <span class="env-switcher__label">"Environment"</span>
                <select
                    class="env-switcher__select"
                    name="slug"
                    on:change=on_change
                    disabled=move || switch.pending().get()
                    data-testid="environment-switcher"
                >
                    {environments
                        .into_iter()
                        .map(|choice| {
                            let selected = current.get_untracked() == choice.slug;
                            let label = if choice.is_active {
                                choice.name.clone()
                            } else {
                                format!("{} (inactive)", choice.name)
                            };
                            view! {
                                <option
                                    value=choice.slug.to_string()
                                    selected=selected
                                    disabled=!choice.is_active
                                >
                                    {label}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            // Needed only before the WASM takes over (a change then submits at once).
            <button type="submit" class="button button--small" hidden=hydrated>"Switch"</button>
            <Show when=move || switch.pending().get()>
                <span class="muted" role="status">"Switching…"</span>
            </Show>
            {move || failure().map(|message| view! { <span class="form-error" role="alert">{message}</span> })}
        </ActionForm>
    }
}

/// The member's menu; a native `<details>` so it opens with the keyboard and without WASM.
/// Signing out is a form post (never a link: a GET could be triggered by another site).
#[component]
fn UserMenu(member: MemberSummary) -> impl IntoView {
    let initials = initials_of(&member.name);
    view! {
        <details class="user-menu">
            <summary class="user-menu__button" aria-label="Account menu">
                <span class="avatar" aria-hidden="true">{initials}</span>
                <span class="user-menu__name" data-testid="member-name">{member.name.clone()}</span>
            </summary>
            <div class="user-menu__panel">
                <p class="user-menu__who">
                    <strong>{member.name}</strong>
                    <br />
                    <span class="muted" data-testid="member-email">{member.email}</span>
                </p>
                <form method="post" action="/auth/logout">
                    <button type="submit" class="button" data-testid="sign-out">"Sign out"</button>
                </form>
            </div>
        </details>
    }
}

/// Shown when the session has ended: a link back through the sign-in to this very page.
#[component]
pub fn SignInAgain() -> impl IntoView {
    let location = use_location();
    let href = move || {
        let here = path_and_query(&location.pathname.get(), &location.search.get());
        let return_to = ReturnTo::or_home(Some(&here));
        format!(
            "/auth/login?returnTo={}",
            encode_component(return_to.as_str())
        )
    };
    view! {
        <p class="session-ended" role="alert">
            "Your session has ended. "
            <a href=href data-testid="sign-in-again">"Sign in again"</a>
            " to continue where you were."
        </p>
    }
}

/// What a page shows when its data could not be loaded: a way back in when the session ended,
/// the reason (in the API's words) otherwise.
#[component]
pub fn LoadFailed(error: ApiError) -> impl IntoView {
    match error {
        ApiError::SignedOut => view! { <SignInAgain /> }.into_any(),
        error => {
            // A full load of the same URL: the server reads everything again, with or without
            // JavaScript (`rel="external"` keeps the router from treating it as a no-op).
            let location = use_location();
            let here = path_and_query(
                &location.pathname.get_untracked(),
                &location.search.get_untracked(),
            );
            let retryable = matches!(
                error,
                ApiError::Unavailable { .. } | ApiError::RateLimited { .. }
            );
            view! {
                <section class="panel panel--error" role="alert">
                    <p>{error.to_string()}</p>
                    {retryable.then(|| view! {
                        <p><a class="button" href=here rel="external">"Try again"</a></p>
                    })}
                </section>
            }
            .into_any()
        }
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

/// The page's own URL from the router's location (whose search may come with or without `?`).
fn path_and_query(path: &str, search: &str) -> String {
    let path = if path.is_empty() { "/" } else { path };
    match search.trim_start_matches('?') {
        "" => path.to_owned(),
        query => format!("{path}?{query}"),
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay as they are).
pub fn encode_component(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn initials_of(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .collect::<String>()
        .to_uppercase()
}

/// What the error boundary shows when a page fails to render.
#[component]
pub fn ErrorPanel(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <section class="panel panel--error" role="alert">
            <h1>"Something went wrong"</h1>
            <p>"This page could not be shown. Reload to try again; the rest of the dashboard still works."</p>
            <ul>
                {move || {
                    errors.get().into_iter().map(|(_, error)| view! { <li>{error.to_string()}</li> }).collect_view()
                }}
            </ul>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::{encode_component, initials_of};

    #[test]
    fn return_paths_are_encoded_for_the_query() {
        assert_eq!(
            encode_component("/members?search=a b&x=1"),
            "/members%3Fsearch%3Da%20b%26x%3D1"
        );
    }

    #[test]
    fn initials_take_the_first_letters_of_two_words() {
        assert_eq!(initials_of("ada lovelace"), "AL");
        assert_eq!(initials_of("Grace Brewster Hopper"), "GB");
        assert_eq!(initials_of("Linus"), "L");
        assert_eq!(initials_of(""), "");
    }
}
