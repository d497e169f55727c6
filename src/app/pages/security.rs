//! Settings > Security: the IP allowlist of the current environment.
//!
//! The documented rule is sharp (an empty list lets everyone in; the first entry restricts M2M
//! traffic at once), so every change that could lock traffic out or open it up carries its
//! consequence in words next to a required checkbox, enforced again by the server.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::{
        add_warnings, delete_warnings, AddAllowlistEntries, AddAllowlistEntry, AllowlistEntry,
        AllowlistView, DeleteAllowlistEntry, OddRecord, UpdateAllowlistDescription,
        MAX_DESCRIPTION,
    },
    app::kit::{
        count_of, Announcement, Announcer, Confirm, DataTable, DialogDraft, InlineDialog,
        InlineDialogs, Loaded, ReadOnlyNotice, SubmitButton,
    },
    domain::{
        check_address, overlap, parse_bulk, AddressCheck, Cidr, CidrError, Overlap, Timestamp,
    },
};

#[component]
pub fn SecurityPage() -> impl IntoView {
    let add = ServerAction::<AddAllowlistEntry>::new();
    let bulk = ServerAction::<AddAllowlistEntries>::new();
    let describe = ServerAction::<UpdateAllowlistDescription>::new();
    let delete = ServerAction::<DeleteAllowlistEntry>::new();
    // Every finished change reloads the list from the API: the page shows what was saved, not
    // what was meant.
    let allowlist = Resource::new(
        move || {
            (
                add.version().get(),
                bulk.version().get(),
                describe.version().get(),
                delete.version().get(),
            )
        },
        |_| crate::api::load_allowlist(),
    );
    let actions = Actions {
        add,
        bulk,
        describe,
        delete,
    };
    let dialog = InlineDialogs::provide();
    let drafts = Drafts {
        network: RwSignal::default(),
        description: RwSignal::default(),
        bulk_lines: RwSignal::default(),
        row_description: DialogDraft::new(dialog),
    };
    provide_context(drafts);
    let announcer = Announcer::expect();
    announcer.follow(add, |entry| {
        Announcement::success(format!("Added {}.", entry.cidr))
    });
    announcer.follow(bulk, |lines| {
        let added = lines.iter().filter(|line| line.outcome.is_ok()).count();
        let refused = lines.len() - added;
        let text = format!(
            "Added {}; {} not added.",
            count_of(added as u64, "entry", "entries"),
            count_of(refused as u64, "line was", "lines were")
        );
        if refused == 0 {
            Announcement::success(text)
        } else {
            Announcement::problem(text)
        }
    });
    announcer.follow(describe, |entry| {
        Announcement::success(format!("Saved the description of {}.", entry.cidr))
    });
    announcer.follow(delete, |cidr| {
        Announcement::success(format!("Deleted {cidr}."))
    });
    dialog.close_on_success(describe.value());
    dialog.close_on_success(delete.value());
    // Only a confirmed save clears a draft. A bulk add keeps the lines that were not added, so
    // they can be fixed and sent again.
    Effect::new(move |_| {
        if let Some(Ok(_)) = add.value().get() {
            drafts.network.set(String::new());
            drafts.description.set(String::new());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(lines)) = bulk.value().get() {
            let refused: Vec<String> = lines
                .iter()
                .filter(|line| line.outcome.is_err())
                .map(|line| line.text.clone())
                .collect();
            drafts.bulk_lines.set(refused.join("\n"));
        }
    });

    view! {
        <Title text="Security" />
        <header class="page-header">
            <h1>"Security"</h1>
            <p class="muted">
                "Which networks may call the KeyStone API with this environment's M2M credentials."
            </p>
        </header>
        <Loaded resource=allowlist loading="Loading the allowlist…" let:view>
            <AllowlistPanel view actions />
        </Loaded>
    }
}

/// What the member has typed but not yet saved. It lives with the page, not with the forms: the
/// forms are rebuilt each time the list reloads (after every change, failed ones included), and a
/// failed or unconfirmed save must not cost the member their input.
#[derive(Clone, Copy)]
struct Drafts {
    network: RwSignal<String>,
    description: RwSignal<String>,
    bulk_lines: RwSignal<String>,
    /// A description being edited in a row's dialog.
    row_description: DialogDraft<String>,
}

#[derive(Clone, Copy)]
struct Actions {
    add: ServerAction<AddAllowlistEntry>,
    bulk: ServerAction<AddAllowlistEntries>,
    describe: ServerAction<UpdateAllowlistDescription>,
    delete: ServerAction<DeleteAllowlistEntry>,
}

#[component]
fn AllowlistPanel(view: AllowlistView, actions: Actions) -> impl IntoView {
    let environment = view.environment.clone();
    let is_production = environment.slug.is_production();
    let networks = view.networks();
    // Entries stored in a form the dashboard cannot parse restrict traffic all the same.
    let count = view.entries.len() + view.entries_as_stored.len();
    let can_manage = view.can_manage;
    let entries = view.entries.clone();
    let entries_as_stored = view.entries_as_stored.clone();
    let view_parsed = view.entries.len();

    view! {
        <section class="panel" data-testid="allowlist">
            <header class="panel__header">
                <h2>
                    "IP allowlist · "
                    <span class="env-badge" class:env-badge--production=is_production data-testid="allowlist-environment">
                        {environment.name.clone()}
                    </span>
                </h2>
                <a class="button button--secondary" href="/security/allowlist.csv" download="allowlist.csv">
                    "Export CSV"
                </a>
            </header>
            {if count == 0 {
                view! {
                    <p class="empty-state" data-testid="allowlist-empty">
                        "No entries: " {environment.name.clone()}
                        " accepts M2M traffic from every address. The first entry you add restricts it to the listed networks at once."
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <p class="muted">
                        {format!("{}. M2M traffic from any other address is refused.", count_of(count as u64, "network", "networks"))}
                    </p>
                    <EntriesTable entries entries_as_stored count can_manage actions environment=environment.slug.clone() />
                }
                    .into_any()
            }}
            {(!can_manage)
                .then(|| {
                    view! {
                        <ReadOnlyNotice>
                            "You can view this list. Changing it needs the security:manage permission (the Developer or Platform Manager role)."
                        </ReadOnlyNotice>
                    }
                })}
        </section>
        {can_manage
            .then(|| {
                view! {
                    <AddEntryForm action=actions.add networks=networks.clone() count environment=environment.slug.clone() />
                    <BulkAddForm action=actions.bulk networks=networks.clone() count environment=environment.slug.clone() />
                }
            })}
        <CheckAddress networks unreadable=count - view_parsed />
    }
    .into_any()
}

#[component]
fn EntriesTable(
    entries: Vec<AllowlistEntry>,
    entries_as_stored: Vec<OddRecord>,
    /// Every entry, parsed or not.
    count: usize,
    can_manage: bool,
    actions: Actions,
    environment: crate::domain::EnvironmentSlug,
) -> impl IntoView {
    let delete_warnings = delete_warnings(count, &environment);
    let odd_warnings = delete_warnings.clone();
    view! {
        <DataTable
            label="Allowlist entries"
            testid="allowlist-table"
            columns=&["Network", "Family", "Addresses", "Description", "Added"]
            actions=can_manage
        >
            {entries
                .into_iter()
                .map(|entry| {
                    let warnings = delete_warnings.clone();
                    view! {
                        <tr data-testid="allowlist-row">
                            <td class="mono">{entry.cidr.to_string()}</td>
                            <td>{if entry.cidr.is_ipv4() { "IPv4" } else { "IPv6" }}</td>
                            <td>{entry.cidr.size_label()}</td>
                            <td>{entry.description.clone().unwrap_or_default()}</td>
                            <td class="muted">
                                {entry.created_by.clone().unwrap_or_default()} <br />
                                {entry.created_at.day()}
                            </td>
                            {can_manage.then(|| view! { <RowActions entry warnings actions /> })}
                        </tr>
                    }
                })
                .collect_view()}
            {entries_as_stored
                .into_iter()
                .map(|record| {
                    let warnings = odd_warnings.clone();
                    view! { <OddEntryRow record warnings can_manage actions /> }
                })
                .collect_view()}
        </DataTable>
    }
    .into_any()
}

/// An entry stored in a form the dashboard would not create (a network with host bits set, say):
/// shown exactly as stored and marked. It can be deleted; it restricts traffic like any other.
#[component]
fn OddEntryRow(
    record: OddRecord,
    warnings: Vec<String>,
    can_manage: bool,
    actions: Actions,
) -> impl IntoView {
    let network = record.field("cidr").to_owned();
    let id = record.field("id").to_owned();
    view! {
        <tr data-testid="allowlist-row-as-stored">
            <td class="mono">{network.clone()}</td>
            <td colspan="2">
                <span class="as-stored">{format!("Shown as stored: {}", record.reason)}</span>
            </td>
            <td>{record.field("description").to_owned()}</td>
            <td class="muted">
                {record.field("created_by").to_owned()} <br />
                {Timestamp::parse(record.field("created_at")).day()}
            </td>
            {can_manage
                .then(|| {
                    view! {
                        <td class="row-actions">
                            <DeleteEntry id network warnings action=actions.delete />
                        </td>
                    }
                })}
        </tr>
    }
}

#[component]
fn RowActions(entry: AllowlistEntry, warnings: Vec<String>, actions: Actions) -> impl IntoView {
    let cidr = entry.cidr.to_string();
    let (edit_id, delete_id) = (entry.id.clone(), entry.id.clone());
    let edit_label = cidr.clone();
    let key = format!("describe:{}", entry.id);
    let description = expect_context::<Drafts>()
        .row_description
        .row(key.clone(), entry.description.clone().unwrap_or_default());
    view! {
        <td class="row-actions">
            <InlineDialog key label="Edit".to_owned()>
                <ActionForm action=actions.describe>
                    <input type="hidden" name="id" value=edit_id />
                    <label>
                        "Description of " {edit_label}
                        <input
                            type="text"
                            name="description"
                            maxlength=MAX_DESCRIPTION
                            value=description.saved()
                            prop:value=move || description.get()
                            on:input=move |event| {
                                let typed = event_target_value(&event);
                                description.update(|value| *value = typed);
                            }
                        />
                    </label>
                    <SubmitButton
                        label="Save"
                        busy="Saving…"
                        pending=actions.describe.pending()
                        small=true
                    />
                </ActionForm>
            </InlineDialog>
            <DeleteEntry id=delete_id network=cidr warnings action=actions.delete />
        </td>
    }
    .into_any()
}

/// Deleting one entry, parsed or shown as stored: what it means, confirmed where it must be.
#[component]
fn DeleteEntry(
    id: String,
    network: String,
    warnings: Vec<String>,
    action: ServerAction<DeleteAllowlistEntry>,
) -> impl IntoView {
    view! {
        <InlineDialog
            key=format!("delete:{id}")
            label="Delete".to_owned()
            danger=true
            testid="delete-entry"
        >
            <ActionForm action>
                <input type="hidden" name="id" value=id />
                <p>
                    "Delete " <strong>{network.clone()}</strong>
                    "? M2M calls from it will be refused."
                </p>
                <Confirm warnings />
                <SubmitButton
                    label=format!("Delete {network}")
                    pending=action.pending()
                    danger=true
                    small=true
                />
            </ActionForm>
        </InlineDialog>
    }
}

/// What the typed network means, as you type: canonical form, problems, overlaps, warnings.
fn describe_input(input: &str, networks: &[Cidr]) -> (Option<Cidr>, Option<String>) {
    if input.trim().is_empty() {
        return (None, None);
    }
    match Cidr::parse(input) {
        Ok(cidr) => {
            let note = match overlap(&cidr, networks) {
                Overlap::Duplicate => Some(format!("{cidr} is already on the list.")),
                Overlap::CoveredBy(wider) => Some(format!("{cidr} is already allowed by {wider}.")),
                Overlap::Covers(narrower) => Some(format!(
                    "{cidr} includes {}.",
                    count_of(narrower.len() as u64, "existing entry", "existing entries")
                )),
                Overlap::None => Some(format!("{cidr}: {} addresses.", cidr.size_label())),
            };
            (Some(cidr), note)
        }
        Err(error) => (None, Some(error.to_string())),
    }
}

#[component]
fn AddEntryForm(
    action: ServerAction<AddAllowlistEntry>,
    networks: Vec<Cidr>,
    /// Entries on the list, parsed or not (the first-entry warning depends on it).
    count: usize,
    environment: crate::domain::EnvironmentSlug,
) -> impl IntoView {
    let drafts = expect_context::<Drafts>();
    let input = drafts.network;
    let description = drafts.description;
    let known = networks.clone();
    let analysis = Memo::new(move |_| describe_input(&input.get(), &known));
    let suggestion = move || match Cidr::parse(&input.get()) {
        Err(CidrError::HostBitsSet(_, canonical)) => Some(canonical),
        _ => None,
    };
    let warnings = Memo::new(move |_| {
        let adding: Vec<Cidr> = analysis.get().0.into_iter().collect();
        // Before anything valid is typed, show what any first entry (or production) would mean.
        if adding.is_empty() {
            add_warnings(
                count,
                &[Cidr::parse("192.0.2.0/24").expect("valid")],
                &environment,
            )
        } else {
            add_warnings(count, &adding, &environment)
        }
    });
    let is_problem = Memo::new(move |_| {
        let (cidr, _) = analysis.get();
        !input.get().trim().is_empty()
            && cidr.is_none_or(|cidr| {
                matches!(
                    overlap(&cidr, &networks),
                    Overlap::Duplicate | Overlap::CoveredBy(_)
                )
            })
    });

    view! {
        <section class="panel">
            <h2>"Add a network"</h2>
            <ActionForm action attr:class="form" attr:data-testid="add-entry-form">
                <label for="allowlist-cidr">"IP address or CIDR network"</label>
                <input
                    id="allowlist-cidr"
                    name="cidr"
                    type="text"
                    required=true
                    autocomplete="off"
                    spellcheck="false"
                    placeholder="203.0.113.0/24 or 2001:db8::/48"
                    bind:value=input
                    aria-describedby="allowlist-cidr-hint"
                    aria-invalid=move || is_problem.get().to_string()
                />
                <p id="allowlist-cidr-hint" class="hint" class:hint--error=move || is_problem.get() data-testid="cidr-hint">
                    {move || analysis.get().1}
                    {move || {
                        suggestion()
                            .map(|canonical| {
                                view! {
                                    " "
                                    <button
                                        type="button"
                                        class="button button--small button--secondary"
                                        on:click=move |_| input.set(canonical.to_string())
                                    >
                                        {format!("Use {canonical}")}
                                    </button>
                                }
                            })
                    }}
                </p>
                <label for="allowlist-description">"Description (optional)"</label>
                <input
                    id="allowlist-description"
                    name="description"
                    type="text"
                    maxlength=MAX_DESCRIPTION
                    placeholder="Office, VPN, CI runners…"
                    bind:value=description
                />
                {move || view! { <Confirm warnings=warnings.get() /> }}
                <SubmitButton label="Add network" busy="Adding…" pending=action.pending() testid="add-entry" />
            </ActionForm>
        </section>
    }
    .into_any()
}

#[component]
fn BulkAddForm(
    action: ServerAction<AddAllowlistEntries>,
    networks: Vec<Cidr>,
    count: usize,
    environment: crate::domain::EnvironmentSlug,
) -> impl IntoView {
    let text = expect_context::<Drafts>().bulk_lines;
    let preview = Memo::new(move |_| parse_bulk(&text.get(), &networks));
    let warnings = Memo::new(move |_| {
        let adding: Vec<Cidr> = preview
            .get()
            .iter()
            .filter_map(|line| line.outcome.as_ref().ok().map(|(cidr, _)| *cidr))
            .collect();
        add_warnings(count, &adding, &environment)
    });
    view! {
        <section class="panel">
            <h2>"Add many"</h2>
            <p class="muted">
                "One network per line, optionally followed by a comma or space and a description. Lines starting with # are skipped."
            </p>
            <ActionForm action attr:class="form" attr:data-testid="bulk-form">
                <label for="allowlist-bulk" class="visually-hidden">
                    "Networks to add"
                </label>
                <textarea
                    id="allowlist-bulk"
                    name="lines"
                    rows="6"
                    spellcheck="false"
                    bind:value=text
                ></textarea>
                <ol class="bulk-preview" data-testid="bulk-preview">
                    {move || {
                        preview
                            .get()
                            .into_iter()
                            .map(|line| {
                                let (ok, note) = match &line.outcome {
                                    Ok((cidr, _)) => (true, format!("will add {cidr}")),
                                    Err(error) => (false, error.clone()),
                                };
                                view! {
                                    <li class:bulk-preview--error=!ok>
                                        <span class="mono">{format!("line {}: {}", line.line, line.text)}</span>
                                        " — "
                                        {note}
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ol>
                {move || view! { <Confirm warnings=warnings.get() /> }}
                <SubmitButton
                    label="Add these networks"
                    busy="Adding…"
                    pending=action.pending()
                    testid="bulk-add"
                />
            </ActionForm>
            {move || {
                action
                    .value()
                    .get()
                    .and_then(Result::ok)
                    .map(|lines| {
                        view! {
                            <ol class="bulk-preview" data-testid="bulk-results">
                                {lines
                                    .into_iter()
                                    .map(|line| {
                                        let ok = line.outcome.is_ok();
                                        let note = match line.outcome {
                                            Ok(cidr) => format!("added {cidr}"),
                                            Err(error) => format!("not added: {error}"),
                                        };
                                        view! {
                                            <li class:bulk-preview--error=!ok>
                                                {format!("line {}: {} — {note}", line.line, line.text)}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ol>
                        }
                    })
            }}
        </section>
    }
    .into_any()
}

/// "Check an address": evaluated in the browser against the list shown.
#[component]
fn CheckAddress(
    networks: Vec<Cidr>,
    /// Entries stored in a form the dashboard cannot read: they may allow the address.
    unreadable: usize,
) -> impl IntoView {
    let address = RwSignal::new(String::new());
    let verdict = move || {
        let typed = address.get();
        let typed = typed.trim();
        if typed.is_empty() {
            return None;
        }
        Some(match typed.parse::<std::net::IpAddr>() {
            Err(_) => (false, format!("“{typed}” is not an IP address.")),
            Ok(ip) => match (check_address(ip, &networks), unreadable) {
                (AddressCheck::AllowedBy(entry), _) => {
                    (true, format!("{ip} is allowed by {entry}."))
                }
                (AddressCheck::OpenToAll, 0) => (
                    true,
                    format!("{ip} is allowed: the list is empty, so every address is."),
                ),
                (AddressCheck::Refused, 0) => (
                    false,
                    format!("{ip} would be refused: no entry contains it."),
                ),
                // The list is not empty, and an entry the dashboard cannot read may contain it.
                (_, unreadable) => (
                    false,
                    format!(
                        "{ip} is in no entry the dashboard can read, but {} stored in a form it cannot read: whether the API allows {ip} is not certain.",
                        count_of(unreadable as u64, "entry is", "entries are")
                    ),
                ),
            },
        })
    };
    view! {
        <section class="panel">
            <h2>"Check an address"</h2>
            <label for="allowlist-check">"IP address"</label>
            <input
                id="allowlist-check"
                type="text"
                autocomplete="off"
                placeholder="198.51.100.17"
                bind:value=address
            />
            <p class="hint" role="status" data-testid="check-result">
                {move || {
                    verdict()
                        .map(|(ok, text)| {
                            view! {
                                <span class:hint--error=!ok>{text}</span>
                            }
                        })
                }}
            </p>
        </section>
    }
    .into_any()
}
