//! The application shell: sidebar navigation, top bar, environment switcher and user menu.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::{load_shell, EnvironmentChoice, MemberSummary, ShellView};
use crate::domain::EnvironmentSlug;

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
#[component]
fn EnvironmentSwitcher(
    environments: Vec<EnvironmentChoice>,
    current: RwSignal<EnvironmentSlug>,
) -> impl IntoView {
    let on_change = move |event| {
        if let Ok(slug) = EnvironmentSlug::parse(&event_target_value(&event)) {
            current.set(slug);
        }
    };
    view! {
        <label class="env-switcher" class:env-switcher--production=move || current.with(EnvironmentSlug::is_production)>
            <span class="env-switcher__label">"Environment"</span>
            <select class="env-switcher__select" on:change=on_change data-testid="environment-switcher">
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
                            <option value=choice.slug.to_string() selected=selected>
                                {label}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}

/// The member's menu; a native `<details>` so it opens with the keyboard and without WASM.
#[component]
fn UserMenu(member: Option<MemberSummary>) -> impl IntoView {
    let (initials, name, email) = match &member {
        Some(member) => (
            initials_of(&member.name),
            member.name.clone(),
            member.email.clone(),
        ),
        None => ("?".to_owned(), "Not signed in".to_owned(), String::new()),
    };
    view! {
        <details class="user-menu">
            <summary class="user-menu__button" aria-label="Account menu">
                <span class="avatar" aria-hidden="true">{initials}</span>
                <span class="user-menu__name">{name.clone()}</span>
            </summary>
            <div class="user-menu__panel">
                <p class="user-menu__who">
                    <strong>{name}</strong>
                    <br />
                    <span class="muted">{email}</span>
                </p>
            </div>
        </details>
    }
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
    use super::initials_of;

    #[test]
    fn initials_take_the_first_letters_of_two_words() {
        assert_eq!(initials_of("ada lovelace"), "AL");
        assert_eq!(initials_of("Grace Brewster Hopper"), "GB");
        assert_eq!(initials_of("Linus"), "L");
        assert_eq!(initials_of(""), "");
    }
}
