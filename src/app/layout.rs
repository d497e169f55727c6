//! The application shell: sidebar navigation, top bar, environment switcher and user menu.

use leptos::prelude::*;
use leptos_router::components::A;

use super::kit::{initials, on_page_change, use_hydrated, ShellRefresh, SignInAgain};
use crate::api::{
    load_shell, ApiError, EnvironmentChoice, MemberSummary, ShellView, SwitchEnvironment,
};
use crate::domain::EnvironmentSlug;

/// Primary navigation. `A` marks the active link with `aria-current="page"`.
#[component]
pub fn Sidebar() -> impl IntoView {
    view! {
        <nav class="sidebar" aria-label="Primary">
            <A href="/" attr:class="brand">
                <span class="brand__mark" aria-hidden="true">
                    "K"
                </span>
                <span class="brand__name">"KeyStone"</span>
            </A>
            <ul class="nav">
                <li>
                    <A href="/" exact=true>
                        "Overview"
                    </A>
                </li>
                <li class="nav__heading">"Team"</li>
                <li>
                    <A href="/members">"Members"</A>
                </li>
                <li>
                    <A href="/roles">"Roles"</A>
                </li>
                <li class="nav__heading">"Settings"</li>
                <li>
                    <A href="/settings">"General"</A>
                </li>
                <li>
                    <A href="/environments">"Environments"</A>
                </li>
                <li>
                    <A href="/security">"Security"</A>
                </li>
                <li>
                    <A href="/webhooks">"Webhooks"</A>
                </li>
                <li class="nav__heading">"Monitoring"</li>
                <li>
                    <A href="/activity">"Activity"</A>
                </li>
                <li>
                    <A href="/upstream-check">"API check"</A>
                </li>
            </ul>
        </nav>
    }
}

/// Top bar: platform name, environment switcher and user menu, loaded from the BFF, and read
/// again after a page saved a change to what it shows ([`ShellRefresh`]). A transition: the old bar
/// stays until the new one is ready, so it never blinks empty.
#[component]
pub fn TopBar() -> impl IntoView {
    let refresh = ShellRefresh::expect();
    let shell = Resource::new(move || refresh.version(), |_| load_shell());
    // A read again after a change that fails (an outage) keeps the bar it had: its switcher and
    // Sign out still work, and the change itself was announced. Only a first read's failure, or
    // a session that ended, takes the bar's place.
    let last_shown = StoredValue::new(None::<ShellView>);
    view! {
        <Transition fallback=|| {
            view! { <header class="topbar topbar--loading" aria-busy="true"></header> }
        }>
            {move || Suspend::new(async move {
                let shell = match shell.await {
                    Ok(shell) => {
                        last_shown.set_value(Some(shell.clone()));
                        Ok(shell)
                    }
                    Err(error) if error != ApiError::SignedOut => {
                        last_shown.get_value().ok_or(error)
                    }
                    Err(error) => Err(error),
                };
                match shell {
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
                                    "The dashboard could not load your platform: "
                                    {error.to_string()}
                                </p>
                            </header>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
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
            <span class="topbar__platform" data-testid="topbar-platform">
                {platform_name}
            </span>
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
/// button submits it and the server sends the browser back; with WASM a choice from the list
/// submits at once, and a choice made with the keyboard waits for Enter or the button (below).
/// Once the session has the new environment the page reloads, so every panel shows its data.
#[component]
fn EnvironmentSwitcher(
    environments: Vec<EnvironmentChoice>,
    current: RwSignal<EnvironmentSlug>,
) -> impl IntoView {
    let switch = ServerAction::<SwitchEnvironment>::new();
    let hydrated = use_hydrated();
    let form = NodeRef::<leptos::html::Form>::new();
    let select = NodeRef::<leptos::html::Select>::new();
    // On Windows and Linux, arrow keys, Home/End and type-ahead change a closed select's value,
    // each with a `change`: submitting on it would switch (and reload) at every keypress, through
    // production perhaps, before the member reaches the one they want (WCAG 3.2.2, On Input). A
    // choice made with the keyboard therefore waits for Enter or the Switch button, which shows
    // for it; one made with the pointer, from the open list, is taken at once.
    let keyed = RwSignal::new(false);
    let submit = move || {
        if let Some(form) = form.get_untracked() {
            let _ = form.request_submit();
        }
    };
    let on_change = move |_| {
        if !keyed.get_untracked() {
            submit();
        }
    };
    let on_keydown = move |event: leptos::ev::KeyboardEvent| match event.key().as_str() {
        "Enter" => {
            let chosen = select.get_untracked().map(|select| select.value());
            if chosen.is_some_and(|chosen| chosen != current.get_untracked().as_str()) {
                event.prevent_default();
                submit();
            }
        }
        "Tab" | "Shift" | "Control" | "Alt" | "Meta" | "Escape" => {}
        _ => keyed.set(true),
    };
    Effect::new(move |_| match switch.value().get() {
        Some(Ok(slug)) => {
            current.set(slug);
            let _ = window().location().reload();
        }
        // The reply was lost: the switch may have been made. The page is loaded again, from the
        // session, so the switcher names the environment changes go to.
        Some(Err(ApiError::Unreachable)) => {
            let _ = window().location().reload();
        }
        // Refused: the session is still in the environment it was in, and changes made next go
        // there. The switcher must name that one, not the one picked.
        Some(Err(_)) => {
            if let Some(select) = select.get_untracked() {
                select.set_value(current.get_untracked().as_str());
            }
        }
        None => {}
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
                    node_ref=select
                    name="slug"
                    on:change=on_change
                    on:keydown=on_keydown
                    on:pointerdown=move |_| keyed.set(false)
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
            // Needed before the WASM takes over, and for a choice made with the keyboard. Otherwise
            // the button keeps its place, invisible (so out of the tab order and the accessibility
            // tree): hiding it outright reflowed the top bar under the reader as the page hydrated,
            // a layout shift of 0.16 on a phone, where the bar wraps.
            <button
                type="submit"
                class="button button--small"
                class:env-switcher__submit--hydrated=move || hydrated.get() && !keyed.get()
                data-testid="environment-switch"
            >
                "Switch"
            </button>
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
    let menu = NodeRef::<leptos::html::Details>::new();
    // A `<details>` closes only from its summary; its panel floats over the page, so it also
    // closes as a menu does: on Escape (the focus back on its button), on a press elsewhere and
    // when the page changes.
    let close = move || {
        if let Some(menu) = menu.get_untracked() {
            menu.set_open(false);
        }
    };
    on_page_change(close);
    #[cfg(not(feature = "ssr"))]
    {
        use leptos::wasm_bindgen::JsCast;
        let pressed = window_event_listener(leptos::ev::pointerdown, move |event| {
            let Some(menu) = menu.get_untracked() else {
                return;
            };
            let on_menu = event
                .target()
                .and_then(|target| target.dyn_into::<leptos::web_sys::Node>().ok())
                .is_some_and(|target| menu.contains(Some(&target)));
            if !on_menu {
                menu.set_open(false);
            }
        });
        on_cleanup(move || pressed.remove());
    }
    let on_keydown = move |event: leptos::ev::KeyboardEvent| {
        let Some(menu) = menu.get_untracked() else {
            return;
        };
        if event.key() == "Escape" && menu.open() {
            event.prevent_default();
            menu.set_open(false);
            #[cfg(not(feature = "ssr"))]
            {
                use leptos::wasm_bindgen::JsCast;
                if let Some(button) = menu
                    .query_selector("summary")
                    .ok()
                    .flatten()
                    .and_then(|button| button.dyn_into::<leptos::web_sys::HtmlElement>().ok())
                {
                    let _ = button.focus();
                }
            }
        }
    };
    // The summary's name is its visible text (WCAG 2.5.3, label in name): the member's name,
    // after words only a screen reader hears.
    view! {
        <details class="user-menu" node_ref=menu on:keydown=on_keydown data-testid="user-menu">
            <summary class="user-menu__button">
                <span class="avatar" aria-hidden="true">
                    {initials(&member.name)}
                </span>
                <span class="visually-hidden">"Account menu: "</span>
                <span class="user-menu__name" data-testid="member-name">
                    {member.name.clone()}
                </span>
            </summary>
            <div class="user-menu__panel">
                <p class="user-menu__who">
                    <strong>{member.name}</strong>
                    <br />
                    <span class="muted" data-testid="member-email">
                        {member.email}
                    </span>
                </p>
                <form method="post" action="/auth/logout">
                    <button type="submit" class="button" data-testid="sign-out">
                        "Sign out"
                    </button>
                </form>
            </div>
        </details>
    }
}

/// What the error boundary shows when a page fails to render.
#[component]
pub fn ErrorPanel(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <section class="panel panel--error" role="alert">
            <h1>"Something went wrong"</h1>
            <p>
                "This page could not be shown. Reload to try again; the rest of the dashboard still works."
            </p>
            <ul>
                {move || {
                    errors
                        .get()
                        .into_iter()
                        .map(|(_, error)| view! { <li>{error.to_string()}</li> })
                        .collect_view()
                }}
            </ul>
        </section>
    }
}
