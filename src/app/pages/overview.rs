//! The overview: the platform, the member's roles and what they allow, one card per environment,
//! pending invitations and the latest activity, each linking to its page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::{
        activity_in_words, load_overview, permission_label, ChecklistStep, DismissGettingStarted,
        Listed, OverviewView,
    },
    app::kit::{
        count_of, focus_main_from, Announcement, Announcer, Loaded, SectionFailed, SubmitButton,
    },
};

#[component]
pub fn OverviewPage() -> impl IntoView {
    let dismiss = ServerAction::<DismissGettingStarted>::new();
    let overview = Resource::new(move || dismiss.version().get(), |_| load_overview());
    Announcer::expect().follow(dismiss, |_| {
        Announcement::success("The getting-started checklist is dismissed.")
    });
    // Its Dismiss button goes with the checklist: the focus goes on to the page, not its top
    // (unless the member moved on while it was sent).
    Effect::new(move |_| {
        if dismiss
            .value()
            .with(|outcome| matches!(outcome, Some(Ok(_))))
        {
            focus_main_from(CHECKLIST_CLASS);
        }
    });
    // The heading stands outside the loaded part: loading, failed or shown, the page says what it is.
    view! {
        <Title text="Overview" />
        <header class="page-header">
            <h1>"Overview"</h1>
        </header>
        <Loaded resource=overview loading="Loading the overview…" let:view>
            <OverviewContent view dismiss />
        </Loaded>
    }
}

#[component]
fn OverviewContent(
    view: OverviewView,
    dismiss: ServerAction<DismissGettingStarted>,
) -> impl IntoView {
    let OverviewView {
        platform_name,
        platform_logo,
        member_name,
        roles,
        permissions,
        vocabulary_known,
        environments,
        pending_invitations,
        recent_activity,
        getting_started,
    } = view;
    let roles = match roles {
        Some(Ok(roles)) if !roles.is_empty() => format!(" ({})", roles.join(", ")),
        Some(Ok(_)) => " (no role found)".to_owned(),
        Some(Err(_)) => " (your roles could not be loaded)".to_owned(),
        None => String::new(),
    };
    let cards = match environments {
        Ok(cards) => cards
            .into_iter()
            .map(|card| {
                let production = card.slug.is_production();
                let allowlist = match card.allowlist_size {
                    Some(Ok(0)) => "Allowlist: open to all addresses".to_owned(),
                    Some(Ok(size)) => format!(
                        "Allowlist: restricted to {}",
                        count_of(size, "network", "networks")
                    ),
                    Some(Err(error)) => format!("Allowlist: could not load ({error})"),
                    None => String::new(),
                };
                view! {
                    <a class="card" class:card--production=production class:card--inactive=!card.is_active href="/environments" data-testid="environment-card" data-slug=card.slug.to_string()>
                        <strong>{card.name}</strong>
                        <span class="muted">{if card.is_active { "Active" } else { "Deactivated" }}</span>
                        <span class="muted">{format!("API version {}", card.api_version.unwrap_or_else(|| "latest".to_owned()))}</span>
                        <span data-testid="card-allowlist">{allowlist}</span>
                    </a>
                }
            })
            .collect_view()
            .into_any(),
        Err(error) => view! { <SectionFailed what="the environments" error /> }.into_any(),
    };
    view! {
        <p class="page-header__who">
            {platform_logo
                .map(|src| {
                    view! { <img class="platform-logo" src=src alt="" width="40" height="40" /> }
                })}
            <span class="muted">
                {format!("{platform_name} · signed in as {member_name}{roles}")}
            </span>
        </p>
        {getting_started.map(|steps| view! { <GettingStarted steps dismiss /> })}
        <section class="cards" data-testid="environment-cards">
            {cards}
        </section>
        <div class="columns">
            <section class="panel">
                <h2>"What you can do"</h2>
                {(!vocabulary_known)
                    .then(|| {
                        view! {
                            <p class="muted" data-testid="unknown-vocabulary">
                                "Your sign-in carries permissions the dashboard does not know by name, so every action is offered; the KeyStone API decides, and says so when it refuses."
                            </p>
                        }
                    })}
                <ul class="permissions" data-testid="permissions">
                    {permissions
                        .iter()
                        .map(|permission| {
                            view! { <li>{permission_label(permission).to_owned()}</li> }
                        })
                        .collect_view()}
                </ul>
                {match pending_invitations {
                    Some(Ok(count)) => {
                        Some(
                            view! {
                                <p>
                                    <a href="/members">
                                        {count_of(
                                            count,
                                            "pending invitation",
                                            "pending invitations",
                                        )}
                                    </a>
                                </p>
                            }
                                .into_any(),
                        )
                    }
                    Some(Err(error)) => {
                        Some(view! { <SectionFailed what="the invitations" error /> }.into_any())
                    }
                    None => None,
                }}
            </section>
            <section class="panel">
                <h2>"Recent activity"</h2>
                {match recent_activity {
                    Some(Ok(entries)) => {
                        view! {
                            <ul class="activity" data-testid="recent-activity">
                                {entries
                                    .into_iter()
                                    .map(|entry| match entry {
                                        Listed::Parsed(entry) => {
                                            view! {
                                                <li>
                                                    {entry.description}
                                                    <span class="muted">
                                                        {format!(" · {}", activity_in_words(&entry.kind))}
                                                    </span>
                                                </li>
                                            }
                                                .into_any()
                                        }
                                        Listed::AsStored(record) => {
                                            view! {
                                                <li>
                                                    {record.field("description").to_owned()}
                                                    <span class="muted">" · shown as stored"</span>
                                                </li>
                                            }
                                                .into_any()
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any()
                    }
                    Some(Err(error)) => {
                        view! { <SectionFailed what="the recent activity" error /> }.into_any()
                    }
                    None => {
                        view! { <p class="muted">"You cannot read the activity log."</p> }
                            .into_any()
                    }
                }}
                <p>
                    <a href="/activity">"All activity →"</a>
                </p>
            </section>
        </div>
    }
    .into_any()
}

/// The checklist's class, by which its Dismiss hands the focus on.
const CHECKLIST_CLASS: &str = "checklist";

/// A new platform's first steps, each a link to where it is done, ticked from what the API holds.
#[component]
fn GettingStarted(
    steps: Vec<ChecklistStep>,
    dismiss: ServerAction<DismissGettingStarted>,
) -> impl IntoView {
    let done = steps.iter().filter(|step| step.done).count();
    let total = steps.len();
    view! {
        <section
            class=format!("panel {CHECKLIST_CLASS}")
            aria-labelledby="getting-started-heading"
            data-testid="getting-started"
        >
            <header class="panel__header">
                <h2 id="getting-started-heading">"Getting started"</h2>
                <ActionForm action=dismiss>
                    <SubmitButton
                        label="Dismiss"
                        pending=dismiss.pending()
                        small=true
                        testid="dismiss-getting-started"
                    />
                </ActionForm>
            </header>
            <p class="muted">{format!("{done} of {total} done.")}</p>
            <ol class="checklist__steps">
                {steps
                    .into_iter()
                    .map(|step| {
                        let state = if step.done { "Done" } else { "To do" };
                        view! {
                            <li
                                class:checklist__done=step.done
                                data-testid="checklist-step"
                                data-done=step.done.to_string()
                            >
                                <span class="checklist__mark" aria-hidden="true">
                                    {if step.done { "✓" } else { "○" }}
                                </span>
                                <a href=step.href>{step.title}</a>
                                <span class="visually-hidden">{format!(" ({state})")}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </section>
    }
}
