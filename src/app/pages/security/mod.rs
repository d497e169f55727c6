//! Settings > Security: the IP allowlist of the current environment.
//!
//! The documented rule is sharp (an empty list lets everyone in; the first entry restricts M2M
//! traffic at once), so every change that could lock traffic out or open it up carries its
//! consequence in words next to a required checkbox, enforced again by the server.

mod add;
mod check;

use add::{AddEntryForm, BulkAddForm};
use check::CheckAddress;

use leptos::{either::Either, prelude::*};

use crate::{
    api::permissions::SECURITY_MANAGE,
    api::{
        refused_callers, AddAllowlistEntries, AddAllowlistEntry, AllowlistEntry, AllowlistPage,
        CallerLog, ChangeCheck, DeleteAllowlistEntry, Listed, OddRecord, Section,
        UpdateAllowlistDescription, ALLOWLIST_PAGE_SIZE, CALLERS_LOOKBACK_DAYS, MAX_DESCRIPTION,
    },
    app::kit::{
        count_of, use_offset_query, Announcement, Announcer, Confirm, DataTable, DialogDraft,
        DraftDialog, FormErrors, InlineDialog, InlineDialogs, Loaded, PageHeader, PageWindow,
        Pager, ReadOnlyNotice, RowField, RowInput, SectionFailed, ShellRefresh, SubmitButton,
    },
    domain::{Cidr, Timestamp},
};

#[component]
pub fn SecurityPage() -> impl IntoView {
    let offset = use_offset_query();
    let add = ServerAction::<AddAllowlistEntry>::new();
    let bulk = ServerAction::<AddAllowlistEntries>::new();
    let describe = ServerAction::<UpdateAllowlistDescription>::new();
    let delete = ServerAction::<DeleteAllowlistEntry>::new();
    // An add is refused when another tab switched the session's environment; the list read again
    // then shows the session's environment, and the top bar follows.
    let shell = ShellRefresh::expect();
    shell.follow_refusals(add);
    shell.follow_refusals(bulk);
    // Every finished change reloads the list from the API: the page shows what was saved, not
    // what was meant. The table's page is in the URL; the whole list is read for each (every
    // check of a change needs all of it), and only the page's rows are kept.
    let allowlist = Resource::new(
        move || {
            (
                offset.get(),
                add.version().get(),
                bulk.version().get(),
                describe.version().get(),
                delete.version().get(),
            )
        },
        |(offset, ..)| crate::api::load_allowlist_page(offset),
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
        checked_address: RwSignal::default(),
    };
    provide_context(drafts);
    let announcer = Announcer::expect();
    announcer.follow(add, |entry| {
        Announcement::success(format!("Added {}.", entry.cidr))
    });
    announcer.follow(bulk, |lines| {
        let added = lines.iter().filter(|line| line.outcome.is_ok()).count();
        let unconfirmed = lines.iter().filter(|line| line.unconfirmed).count();
        let refused = lines.len() - added - unconfirmed;
        let unknown = match unconfirmed {
            0 => String::new(),
            unconfirmed => format!(
                "; {} may have been added (check the list before sending again)",
                count_of(unconfirmed as u64, "line", "lines")
            ),
        };
        let text = format!(
            "Added {}{unknown}; {} not added.",
            count_of(added as u64, "entry", "entries"),
            count_of(refused as u64, "line was", "lines were")
        );
        if refused == 0 && unconfirmed == 0 {
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
    dialog.follow(describe);
    dialog.follow(delete);
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
            // Not one that may have been added: its line in the results says to check first.
            let refused: Vec<String> = lines
                .iter()
                .filter(|line| line.outcome.is_err() && !line.unconfirmed)
                .map(|line| line.text.clone())
                .collect();
            drafts.bulk_lines.set(refused.join("\n"));
        }
    });

    view! {
        <PageHeader
            title="Security"
            summary="Which networks may call the KeyStone API with this environment's M2M credentials."
        />
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
    /// The address typed into "Check an address" (kept over a page turn, which rebuilds the
    /// panel).
    checked_address: RwSignal<String>,
}

#[derive(Clone, Copy)]
struct Actions {
    add: ServerAction<AddAllowlistEntry>,
    bulk: ServerAction<AddAllowlistEntries>,
    describe: ServerAction<UpdateAllowlistDescription>,
    delete: ServerAction<DeleteAllowlistEntry>,
}

#[component]
fn AllowlistPanel(view: AllowlistPage, actions: Actions) -> impl IntoView {
    // Every form's and row's confirmation asks this for its warnings, as the server does.
    let check = view.change_check();
    let AllowlistPage {
        environment,
        can_manage,
        rows,
        offset,
        total,
        networks,
        recent_callers,
    } = view;
    let is_production = environment.slug.is_production();
    // Entries stored in a form the dashboard cannot parse restrict traffic all the same.
    let count = total as usize;
    let unreadable = count.saturating_sub(networks.len());
    let window = PageWindow {
        offset,
        shown: rows.len() as u64,
        total,
        page_size: ALLOWLIST_PAGE_SIZE,
    };

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
                Either::Left(
                    view! {
                        <p class="empty-state" data-testid="allowlist-empty">
                            "No entries: " {environment.name.clone()}
                            " accepts M2M traffic from every address. The first entry you add restricts it to the listed networks at once."
                        </p>
                    },
                )
            } else {
                Either::Right(
                    view! {
                        <p class="muted">
                            {format!("{}. M2M traffic from any other address is refused.", count_of(count as u64, "network", "networks"))}
                        </p>
                        <EntriesTable rows window can_manage actions check=check.clone() />
                    },
                )
            }}
            {(!can_manage)
                .then(|| {
                    view! {
                        <ReadOnlyNotice can="You can view this list." changing="Changing it" permission=SECURITY_MANAGE held_by="the Developer or Platform Manager role" />
                    }
                })}
        </section>
        {can_manage
            .then(|| {
                view! {
                    <AddEntryForm action=actions.add check=check.clone() />
                    <BulkAddForm action=actions.bulk check=check.clone() />
                }
            })}
        <RecentCallers callers=recent_callers networks=networks.clone() entries=count />
        <CheckAddress networks unreadable />
    }
}

#[component]
fn EntriesTable(
    /// The page's rows.
    rows: Vec<Listed<AllowlistEntry>>,
    window: PageWindow,
    can_manage: bool,
    actions: Actions,
    /// What deleting a row means: it names the callers only that row lets in.
    check: ChangeCheck,
) -> impl IntoView {
    // Each row's own warnings (the callers only that row lets in are named in its confirmation)
    // are worked out when its confirmation is first opened, not for every row shown.
    let check = StoredValue::new(check);
    // Looked up once for the table, not by each row (see `InlineDialog`'s `dialogs`).
    let draft = expect_context::<Drafts>().row_description;
    let rows = rows
        .into_iter()
        .map(|row| match row {
            Listed::Parsed(entry) => {
                Either::Left(view! { <EntryRow entry check draft can_manage actions /> })
            }
            Listed::AsStored(record) => Either::Right(
                view! { <OddEntryRow record check dialogs=draft.dialogs() can_manage actions /> },
            ),
        })
        .collect_view();
    let page_href = |offset: u64| match offset {
        0 => "/security".to_owned(),
        offset => format!("/security?offset={offset}"),
    };
    view! {
        <DataTable
            label="Allowlist entries"
            testid="allowlist-table"
            columns=&["Network", "Family", "Addresses", "Description", "Added (UTC)"]
            actions=can_manage
        >
            {rows}
        </DataTable>
        {(window.total > ALLOWLIST_PAGE_SIZE)
            .then(|| {
                // Rebuilt with the table on every page turn; a status inserted anew is not
                // announced by every screen reader, so the range is in the pager's name too,
                // read with the link the focus returns to.
                view! {
                    <p class="muted" role="status" data-testid="allowlist-range">
                        {window.range()}
                    </p>
                    <Pager window href=page_href previous="← Previous" next="Next →" />
                }
            })}
    }
}

#[component]
fn EntryRow(
    entry: AllowlistEntry,
    check: StoredValue<ChangeCheck>,
    draft: DialogDraft<String>,
    can_manage: bool,
    actions: Actions,
) -> impl IntoView {
    view! {
        <tr data-testid="allowlist-row">
            <td class="mono">{entry.cidr.to_string()}</td>
            <td>{if entry.cidr.is_ipv4() { "IPv4" } else { "IPv6" }}</td>
            <td>{entry.cidr.size_label()}</td>
            <td>{entry.description.clone().unwrap_or_default()}</td>
            <td class="muted">{entry.added_by()} <br /> {entry.created_at.day()}</td>
            {can_manage.then(|| view! { <RowActions entry check draft actions /> })}
        </tr>
    }
}

/// An entry stored in a form the dashboard would not create (a network with host bits set, say):
/// shown exactly as stored and marked. It can be deleted; it restricts traffic like any other.
#[component]
fn OddEntryRow(
    record: OddRecord,
    check: StoredValue<ChangeCheck>,
    dialogs: InlineDialogs,
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
                            <DeleteEntry id network cidr=None check dialogs action=actions.delete />
                        </td>
                    }
                })}
        </tr>
    }
}

#[component]
fn RowActions(
    entry: AllowlistEntry,
    check: StoredValue<ChangeCheck>,
    draft: DialogDraft<String>,
    actions: Actions,
) -> impl IntoView {
    let network = entry.cidr.to_string();
    let key = format!("describe:{}", entry.id);
    let AllowlistEntry {
        id,
        cidr,
        description,
        ..
    } = entry;
    let edit_id = id.clone();
    let edit_label = network.clone();
    let describe_form = move |description: RowInput<String>| {
        view! {
            <ActionForm action=actions.describe>
                <input type="hidden" name="id" value=edit_id />
                <RowField
                    input=description
                    label=format!("Description of {edit_label}")
                    name="description"
                    maxlength=MAX_DESCRIPTION
                    field=|description: &mut String| description
                />
                <FormErrors action=actions.describe dialog=description.dialog_key() />
                <SubmitButton
                    label="Save"
                    busy="Saving…"
                    pending=actions.describe.pending()
                    small=true
                />
            </ActionForm>
        }
    };
    view! {
        <td class="row-actions">
            <DraftDialog
                key
                label="Edit".to_owned()
                hidden_label=format!("the description of {network}")
                draft
                saved=description.unwrap_or_default()
                form=describe_form
            />
            <DeleteEntry
                id
                network
                cidr=Some(cidr)
                check
                dialogs=draft.dialogs()
                action=actions.delete
            />
        </td>
    }
}

/// Deleting one entry, parsed or shown as stored: what it means, confirmed where it must be.
#[component]
fn DeleteEntry(
    id: String,
    network: String,
    /// The row's network; `None` for an entry shown as stored, which never let anyone in.
    cidr: Option<Cidr>,
    check: StoredValue<ChangeCheck>,
    dialogs: InlineDialogs,
    action: ServerAction<DeleteAllowlistEntry>,
) -> impl IntoView {
    view! {
        <InlineDialog
            dialogs
            key=format!("delete:{id}")
            label="Delete".to_owned()
            hidden_label=network.clone()
            danger=true
            testid="delete-entry"
        >
            <ActionForm action>
                <input type="hidden" name="id" value=id />
                <p>
                    "Delete " <strong>{network.clone()}</strong>
                    "? M2M calls from it will be refused."
                </p>
                <Confirm warnings=check.with_value(|check| check.deleting(cidr)) />
                <SubmitButton
                    label=format!("Yes, delete {network}")
                    pending=action.pending()
                    danger=true
                    small=true
                />
            </ActionForm>
        </InlineDialog>
    }
}

/// The M2M clients seen calling this environment lately, and whether the list lets each in now:
/// what every change's confirmation checks against (the lockout preview).
#[component]
fn RecentCallers(
    callers: Section<CallerLog>,
    networks: Vec<Cidr>,
    /// Entries on the list, parsed or not.
    entries: usize,
) -> impl IntoView {
    // What the log read covers: the whole period, or (a busy environment) its newest part only.
    let covered = match &callers {
        Some(Ok(log)) => log.covered(),
        _ => format!("in the last {CALLERS_LOOKBACK_DAYS} days"),
    };
    let callers = callers.map(|read| read.map(|log| log.callers));
    let body = match callers {
        None => view! {
            <p class="muted">
                "Recent M2M callers come from the activity log, which your role cannot read: changes are not checked against them."
            </p>
        }
        .into_any(),
        Some(Err(error)) => view! { <SectionFailed what="the recent M2M callers" error /> }.into_any(),
        Some(Ok(callers)) if callers.is_empty() => view! {
            <p class="muted" data-testid="no-recent-callers">
                {format!("No M2M calls {covered}.")}
            </p>
        }
        .into_any(),
        Some(Ok(callers)) => {
            let refused: Vec<(String, std::net::IpAddr)> = refused_callers(&networks, entries, &callers)
                .into_iter()
                .map(|caller| (caller.client_id.clone(), caller.address))
                .collect();
            view! {
                <DataTable
                    label="Recent M2M callers"
                    testid="recent-callers"
                    columns=&["Client", "Address", "Last call", "Now"]
                    actions=false
                >
                    {callers
                        .into_iter()
                        .map(|caller| {
                            let allowed = !refused
                                .iter()
                                .any(|(client, address)| {
                                    *client == caller.client_id && *address == caller.address
                                });
                            let (state, badge) = if allowed {
                                ("Allowed", "badge badge--ok")
                            } else {
                                ("Refused", "badge badge--error")
                            };
                            view! {
                                <tr
                                    data-testid="recent-caller"
                                    data-client=caller.client_id.clone()
                                >
                                    <td class="mono">{caller.client_id.clone()}</td>
                                    <td class="mono">{caller.address.to_string()}</td>
                                    <td class="muted">{caller.last_call.second_utc()}</td>
                                    <td>
                                        <span class=badge>{state}</span>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </DataTable>
            }
            .into_any()
        }
    };
    view! {
        <section class="panel" aria-labelledby="recent-callers-heading">
            <h2 id="recent-callers-heading">"Recent M2M callers"</h2>
            <p class="muted">
                {format!(
                    "Clients that called this environment {covered}, from the activity log. A change that would refuse one names it before it is saved.",
                )}
            </p>
            {body}
        </section>
    }
}
