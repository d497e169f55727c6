//! The activity log: filters and pagination live in the URL, so a shared link shows the same view.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map};

use crate::{
    api::{load_activity, ActivityEntry, ActivityFilters, ActivityView, ACTIVITY_PAGE_SIZE},
    app::layout::LoadFailed,
};

/// The categories the log uses (the first part of each entry's type).
const CATEGORIES: [(&str, &str); 5] = [
    ("member", "Members"),
    ("invitation", "Invitations"),
    ("environment", "Environments"),
    ("ip_allowlist", "IP allowlist"),
    ("platform", "Platform"),
];

#[component]
pub fn ActivityPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        query.with(|query| {
            let text = |name: &str| query.get(name).filter(|value| !value.is_empty());
            ActivityFilters {
                environment: text("environment"),
                category: text("category"),
                kind: text("type"),
                from: text("from"),
                to: text("to"),
                search: text("search"),
                offset: text("offset")
                    .and_then(|offset| offset.parse().ok())
                    .unwrap_or(0),
            }
        })
    });
    let activity = Resource::new(move || filters.get(), load_activity);

    view! {
        <Title text="Activity" />
        <header class="page-header">
            <h1>"Activity"</h1>
            <p class="muted">"Every change made to your platform, who made it and when. Newest first."</p>
        </header>
        <Transition fallback=|| view! { <p class="panel" aria-busy="true">"Loading activity…"</p> }>
            {move || Suspend::new(async move {
                match activity.await {
                    Ok(view) => view! { <ActivityPanel view filters=filters.get_untracked() /> }.into_any(),
                    Err(error) => view! { <LoadFailed error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ActivityPanel(view: ActivityView, filters: ActivityFilters) -> impl IntoView {
    let ActivityView {
        entries,
        total,
        offset,
        environments,
    } = view;
    let environment_name = {
        let environments = environments.clone();
        move |id: &Option<String>| {
            id.as_ref()
                .and_then(|id| {
                    environments
                        .iter()
                        .find(|environment| &environment.id == id)
                })
                .map_or_else(
                    || "Platform".to_owned(),
                    |environment| environment.name.clone(),
                )
        }
    };
    let chosen = filters.clone();
    let first = if total == 0 { 0 } else { offset + 1 };
    let last = (offset + entries.len() as u64).min(total);
    let newer = (offset > 0).then(|| {
        format!(
            "/activity?{}",
            filters.query(offset.saturating_sub(ACTIVITY_PAGE_SIZE))
        )
    });
    let older =
        (last < total).then(|| format!("/activity?{}", filters.query(offset + ACTIVITY_PAGE_SIZE)));
    view! {
        <section class="panel">
            <Form method="GET" action="/activity" attr:class="filters" attr:data-testid="activity-filters">
                <label>
                    "Environment"
                    <select name="environment" data-testid="activity-environment">
                        <option value="">"All"</option>
                        {environments
                            .into_iter()
                            .map(|environment| {
                                let selected = chosen.environment.as_deref() == Some(environment.slug.as_str());
                                view! { <option value=environment.slug.to_string() selected=selected>{environment.name}</option> }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "Category"
                    <select name="category">
                        <option value="">"All"</option>
                        {CATEGORIES
                            .into_iter()
                            .map(|(value, label)| {
                                let selected = chosen.category.as_deref() == Some(value);
                                view! { <option value=value selected=selected>{label}</option> }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label>"Type" <input type="text" name="type" placeholder="environment.updated" value=chosen.kind.clone().unwrap_or_default() /></label>
                <label>"From" <input type="date" name="from" value=chosen.from.clone().unwrap_or_default() /></label>
                <label>"To" <input type="date" name="to" value=chosen.to.clone().unwrap_or_default() /></label>
                <label>"Search" <input type="search" name="search" value=chosen.search.clone().unwrap_or_default() /></label>
                <button type="submit" class="button">"Filter"</button>
                <a href="/activity" class="button button--secondary">"Clear"</a>
            </Form>
        </section>
        <section class="panel">
            <p class="muted" data-testid="activity-count">
                {if total == 0 { "No activity matches these filters.".to_owned() } else { format!("{first}–{last} of {total}") }}
            </p>
            <ol class="activity" data-testid="activity-list">
                {entries
                    .into_iter()
                    .map(|entry| {
                        let environment = environment_name(&entry.environment_id);
                        view! { <ActivityItem entry environment /> }
                    })
                    .collect_view()}
            </ol>
            <nav class="pagination" aria-label="Pages">
                {newer.map(|href| view! { <a href=href class="button button--secondary">"← Newer"</a> })}
                {older.map(|href| view! { <a href=href class="button button--secondary">"Older →"</a> })}
            </nav>
        </section>
    }
    .into_any()
}

#[component]
fn ActivityItem(entry: ActivityEntry, environment: String) -> impl IntoView {
    let detail = serde_json::to_string_pretty(&entry.detail).unwrap_or_default();
    let when = entry
        .created_at
        .replace('T', " ")
        .chars()
        .take(19)
        .collect::<String>();
    view! {
        <li class="activity__item" data-testid="activity-entry">
            <details>
                <summary>
                    <span class="activity__description">{entry.description.clone()}</span>
                    <span class="muted">{format!(" · {} · {environment} · {when} UTC", entry.kind)}</span>
                </summary>
                <dl class="activity__detail">
                    <dt>"Who"</dt><dd>{format!("{} ({})", entry.actor_id, entry.actor_type)}</dd>
                    <dt>"Request"</dt><dd class="mono">{format!("{} {} → {}", entry.method, entry.path, entry.status_code)}</dd>
                    <dt>"Resource"</dt><dd class="mono">{format!("{} {}", entry.resource_type, entry.resource_id)}</dd>
                    <dt>"From"</dt><dd>{entry.ip_address.clone().unwrap_or_else(|| "—".to_owned())}</dd>
                    <dt>"Detail"</dt><dd><pre class="mono">{detail}</pre></dd>
                </dl>
            </details>
        </li>
    }
    .into_any()
}
