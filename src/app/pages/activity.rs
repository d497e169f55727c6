//! The activity log: filters and pagination live in the URL, so a shared link shows the same view.

use leptos::prelude::*;
use leptos_router::{components::Form, hooks::use_query_map};

use crate::{
    api::{
        activity_in_words, load_activity, ActivityEntry, ActivityFilters, ActivityView, Listed,
        OddRecord, ACTIVITY_PAGE_SIZE,
    },
    app::kit::{Loaded, PageHeader, PageWindow, Pager, SectionFailed},
    domain::EnvironmentSlug,
};

/// The categories the filter offers: the team and settings ones the dashboard's own changes
/// write, `settlement` and `compliance`, which the docs name, and M2M requests (`api`, as the
/// sandbox logs them).
const CATEGORIES: [(&str, &str); 9] = [
    ("member", "Members"),
    ("invitation", "Invitations"),
    ("environment", "Environments"),
    ("ip_allowlist", "IP allowlist"),
    ("platform", "Platform"),
    ("webhook", "Webhooks"),
    ("api", "M2M requests"),
    ("settlement", "Settlements"),
    ("compliance", "Compliance"),
];

#[component]
pub fn ActivityPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        query.with(|query| {
            let text = |name: &str| query.get(name).filter(|value| !value.is_empty());
            ActivityFilters {
                // A slug outside the grammar cannot name an environment: no filter.
                environment: text("environment")
                    .and_then(|slug| EnvironmentSlug::parse(&slug).ok()),
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
    // A link whose environment is not a slug at all: said, not silently widened to everything.
    let unreadable_environment = Memo::new(move |_| {
        query.with(|query| {
            query
                .get("environment")
                .filter(|slug| !slug.is_empty() && EnvironmentSlug::parse(slug).is_err())
        })
    });

    view! {
        <PageHeader
            title="Activity"
            summary="Every change made to your platform, who made it and when. Newest first."
        />
        <Loaded resource=activity loading="Loading activity…" let:view>
            {unreadable_environment
                .get_untracked()
                .map(|slug| {
                    view! {
                        <p class="section-failed" role="status" data-testid="unknown-environment">
                            {format!(
                                "“{slug}” is not an environment of this platform, so the log is shown for all environments.",
                            )}
                        </p>
                    }
                })}
            <ActivityPanel view filters=filters.get_untracked() />
        </Loaded>
    }
}

#[component]
fn ActivityPanel(view: ActivityView, filters: ActivityFilters) -> impl IntoView {
    let ActivityView {
        entries,
        total,
        offset,
        environments,
        refused_filters,
    } = view;
    let filters_refused = !refused_filters.is_empty();
    // Without the environments the filter offers "All" alone, and says why beside it.
    let (listed, unlisted) = match environments {
        Ok(listed) => (listed, None),
        Err(error) => (Vec::new(), Some(error)),
    };
    // The chosen environment stays chosen when the list is missing: filtering again by another
    // field must not drop it, which would widen the log unsaid.
    let unlisted_choice = filters
        .environment
        .clone()
        .filter(|_| unlisted.is_some())
        .map(|slug| {
            view! {
                <option value=slug.to_string() selected=true>
                    {slug.to_string()}
                </option>
            }
        });
    // Entries do not say which environment they belong to; only the filter does.
    let scope = filters
        .environment
        .as_ref()
        .and_then(|slug| listed.iter().find(|environment| environment.slug == *slug))
        .map_or_else(
            || "all environments".to_owned(),
            |environment| environment.name.clone(),
        );
    let chosen = filters.clone();
    let window = PageWindow {
        offset,
        shown: entries.len() as u64,
        total,
        page_size: ACTIVITY_PAGE_SIZE,
    };
    let page_href = move |offset| format!("/activity?{}", filters.query(offset));
    view! {
        <section class="panel">
            <Form
                method="GET"
                action="/activity"
                attr:class="filters"
                attr:data-testid="activity-filters"
            >
                <label>
                    "Environment" <select name="environment" data-testid="activity-environment">
                        <option value="">"All"</option>
                        {unlisted_choice}
                        {listed
                            .into_iter()
                            .map(|environment| {
                                let selected = chosen.environment.as_ref()
                                    == Some(&environment.slug);
                                view! {
                                    <option value=environment.slug.to_string() selected=selected>
                                        {environment.name}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                {unlisted
                    .map(|error| {
                        view! { <SectionFailed what="the environments (to filter by one)" error /> }
                    })}
                <label>
                    "Category" <select name="category">
                        <option value="">"All"</option>
                        {CATEGORIES
                            .into_iter()
                            .map(|(value, label)| {
                                let selected = chosen.category.as_deref() == Some(value);
                                view! {
                                    <option value=value selected=selected>
                                        {label}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "Type"
                    <input
                        type="text"
                        name="type"
                        placeholder="environment.updated"
                        value=chosen.kind.clone().unwrap_or_default()
                    />
                </label>
                <label>
                    "From (UTC)"
                    <input type="date" name="from" value=chosen.from.clone().unwrap_or_default() />
                </label>
                <label>
                    "To (UTC)"
                    <input type="date" name="to" value=chosen.to.clone().unwrap_or_default() />
                </label>
                <label>
                    "Search"
                    <input
                        type="search"
                        name="search"
                        value=chosen.search.clone().unwrap_or_default()
                    />
                </label>
                <button type="submit" class="button">
                    "Filter"
                </button>
                <a href="/activity" class="button button--secondary">
                    "Clear"
                </a>
            </Form>
        </section>
        <section class="panel">
            {filters_refused
                .then(|| {
                    view! {
                        <div class="section-failed" role="alert" data-testid="refused-filters">
                            <p>"These filters cannot be applied, so no entries are shown:"</p>
                            <ul>
                                {refused_filters
                                    .into_iter()
                                    .map(|refused| view! { <li>{refused.message}</li> })
                                    .collect_view()}
                            </ul>
                        </div>
                    }
                })} <p class="muted" role="status" data-testid="activity-count">
                {if filters_refused {
                    String::new()
                } else if total == 0 {
                    "No activity matches these filters.".to_owned()
                } else {
                    format!("{} · {scope}", window.range())
                }}
            </p> <ol class="activity" data-testid="activity-list">
                {entries
                    .into_iter()
                    .map(|entry| match entry {
                        Listed::Parsed(entry) => view! { <ActivityItem entry /> }.into_any(),
                        Listed::AsStored(record) => view! { <OddActivityItem record /> }.into_any(),
                    })
                    .collect_view()}
            </ol> <Pager window href=page_href previous="← Newer" next="Older →" />
        </section>
    }
    .into_any()
}

/// "—" for what an entry leaves out (the docs allow `null` in most fields).
fn or_dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "—".to_owned())
}

#[component]
fn ActivityItem(entry: ActivityEntry) -> impl IntoView {
    let detail = (!entry.detail.is_null())
        .then(|| serde_json::to_string_pretty(&entry.detail).unwrap_or_default());
    let when = entry.created_at.second_utc();
    let who = match &entry.actor_id {
        Some(actor) => format!("{actor} ({})", entry.actor_type),
        None => entry.actor_type.clone(),
    };
    let request = entry.method.as_ref().map(|method| {
        let path = entry.path.clone().unwrap_or_default();
        match entry.status_code {
            Some(status) => format!("{method} {path} → {status}"),
            None => format!("{method} {path}"),
        }
    });
    let resource = match (&entry.resource_type, &entry.resource_id) {
        (None, None) => None,
        (kind, id) => Some(format!(
            "{} {}",
            kind.clone().unwrap_or_default(),
            id.clone().unwrap_or_default()
        )),
    };
    view! {
        <li class="activity__item" data-testid="activity-entry">
            <details>
                <summary>
                    <span class="activity__description">{entry.description.clone()}</span>
                    <span class="muted">
                        {format!(" · {} · {when}", activity_in_words(&entry.kind))}
                    </span>
                </summary>
                <dl class="activity__detail">
                    <dt>"Type"</dt>
                    <dd class="mono">{entry.kind.clone()}</dd>
                    <dt>"Who"</dt>
                    <dd>{who}</dd>
                    <dt>"Request"</dt>
                    <dd class="mono">{or_dash(request)}</dd>
                    <dt>"Resource"</dt>
                    <dd class="mono">{or_dash(resource)}</dd>
                    <dt>"From"</dt>
                    <dd>{or_dash(entry.ip_address.clone())}</dd>
                    {detail
                        .map(|detail| {
                            view! {
                                <dt>"Detail"</dt>
                                <dd>
                                    <pre class="mono">{detail}</pre>
                                </dd>
                            }
                        })}
                </dl>
            </details>
        </li>
    }
    .into_any()
}

/// An entry the dashboard could not read: shown as stored, marked, so the rest of the page stands.
#[component]
fn OddActivityItem(record: OddRecord) -> impl IntoView {
    let description = match record.field("description") {
        "" => "An entry the dashboard cannot read".to_owned(),
        text => text.to_owned(),
    };
    view! {
        <li class="activity__item activity__item--odd" data-testid="activity-entry-as-stored">
            <span class="activity__description">{description}</span>
            <span class="muted">
                {format!(" · {} · {}", record.field("type"), record.field("created_at"))}
            </span>
            <p class="muted">{format!("Shown as stored: {}", record.reason)}</p>
        </li>
    }
}
