//! Settings > Environments: every environment of the platform, with create, edit, deactivate and
//! reactivate. Deactivating says what it does (M2M credentials refused, data kept) and needs a yes.

mod create;

use create::{CreateEnvironmentForm, NewEnvironment};

use leptos::prelude::*;

use crate::{
    api::permissions::ENVIRONMENTS_MANAGE,
    api::{
        deactivation_warning, load_environments, production_edit_warnings, CreateEnvironment,
        EnvironmentDetail, EnvironmentsView, Listed, OddRecord, SetEnvironmentActive,
        UpdateEnvironment,
    },
    app::kit::{
        ActiveSwitch, Announcement, Announcer, Confirm, DataTable, DialogDraft, DraftDialog,
        FormErrors, InlineDialogs, Loaded, PageHeader, ReadOnlyNotice, RowField, RowInput,
        ShellRefresh, SubmitButton,
    },
};

#[derive(Clone, Copy)]
struct Actions {
    create: ServerAction<CreateEnvironment>,
    update: ServerAction<UpdateEnvironment>,
    /// The two halves of the rows' `ActiveSwitch`.
    deactivate: ServerAction<SetEnvironmentActive>,
    reactivate: ServerAction<SetEnvironmentActive>,
}

#[component]
pub fn EnvironmentsPage() -> impl IntoView {
    let actions = Actions {
        create: ServerAction::new(),
        update: ServerAction::new(),
        deactivate: ServerAction::new(),
        reactivate: ServerAction::new(),
    };
    let environments = Resource::new(
        move || {
            (
                actions.create.version().get(),
                actions.update.version().get(),
                actions.deactivate.version().get(),
                actions.reactivate.version().get(),
            )
        },
        |_| load_environments(),
    );
    let dialog = InlineDialogs::provide();
    let drafts = Drafts {
        create: NewEnvironment::default(),
        edit: DialogDraft::new(dialog),
    };
    provide_context(drafts);
    // Only a confirmed change clears what was typed; a refused or failed one keeps it for a retry.
    Effect::new(move |_| {
        if let Some(Ok(_)) = actions.create.value().get() {
            drafts.create.clear();
        }
    });
    dialog.follow(actions.update);
    dialog.follow(actions.deactivate);
    // The top bar's switcher lists the environments by name, an inactive one as such.
    let shell = ShellRefresh::expect();
    shell.follow(actions.create);
    shell.follow(actions.update);
    shell.follow(actions.deactivate);
    shell.follow(actions.reactivate);
    let announcer = Announcer::expect();
    announcer.follow(actions.create, |environment| {
        Announcement::success(format!("Created {}.", environment.name))
    });
    announcer.follow(actions.update, |environment| {
        Announcement::success(format!("Saved {}.", environment.name))
    });
    announcer.follow(actions.deactivate, |environment| {
        Announcement::success(format!("{} is deactivated.", environment.name))
    });
    announcer.follow(actions.reactivate, |environment| {
        Announcement::success(format!("{} is reactivated.", environment.name))
    });

    view! {
        <PageHeader
            title="Environments"
            summary="Each environment has its own M2M client, limits, allowlist and data."
        />
        <Loaded resource=environments loading="Loading environments…" let:view>
            <EnvironmentsPanel view actions />
        </Loaded>
    }
}

/// What the member has typed but not yet saved. It lives with the page: the forms are rebuilt each
/// time the list reloads, after every change, failed ones included.
#[derive(Clone, Copy)]
struct Drafts {
    create: NewEnvironment,
    edit: DialogDraft<EnvironmentEdit>,
}

/// The edit dialog's fields, as typed.
#[derive(Clone)]
struct EnvironmentEdit {
    name: String,
    timeout: String,
    rate: String,
    webhook: String,
    /// Write-only: the API never shows the stored one, so the field starts empty and an empty
    /// field keeps it.
    webhook_secret: String,
}

impl EnvironmentEdit {
    fn saved(environment: &EnvironmentDetail) -> Self {
        Self {
            name: environment.name.clone(),
            timeout: environment.default_timeout_seconds.to_string(),
            rate: environment
                .rate_limit_rpm
                .map(|rpm| rpm.to_string())
                .unwrap_or_default(),
            webhook: environment.webhook_url.clone().unwrap_or_default(),
            webhook_secret: String::new(),
        }
    }
}

#[component]
fn EnvironmentsPanel(view: EnvironmentsView, actions: Actions) -> impl IntoView {
    let can_manage = view.can_manage;
    view! {
        <section class="panel">
            {if view.environments.is_empty() {
                view! {
                    <p class="empty-state" data-testid="no-environments">
                        {if can_manage {
                            "This platform has no environment yet. Create its first one below."
                        } else {
                            "This platform has no environment yet."
                        }}
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <DataTable
                        label="Environments"
                        testid="environments-table"
                        columns=&[
                            "Environment",
                            "API version",
                            "Default timeout",
                            "Rate limit",
                            "M2M client",
                            "State",
                        ]
                        actions=can_manage
                    >
                        {view
                            .environments
                            .into_iter()
                            .map(|environment| match environment {
                                Listed::Parsed(environment) => {
                                    view! { <EnvironmentRow environment can_manage actions /> }
                                        .into_any()
                                }
                                Listed::AsStored(record) => {
                                    view! { <OddEnvironmentRow record can_manage /> }.into_any()
                                }
                            })
                            .collect_view()}
                    </DataTable>
                }
                    .into_any()
            }}
            {(!can_manage)
                .then(|| {
                    view! {
                        <ReadOnlyNotice
                            can="You can view environments."
                            changing="Changing them"
                            permission=ENVIRONMENTS_MANAGE
                            held_by="the Developer or Platform Manager role"
                        />
                    }
                })}
        </section>
        {can_manage.then(|| view! { <CreateEnvironmentForm action=actions.create /> })}
    }
    .into_any()
}

#[component]
fn EnvironmentRow(
    environment: EnvironmentDetail,
    can_manage: bool,
    actions: Actions,
) -> impl IntoView {
    let production = environment.slug.is_production();
    let rate_limit = environment.rate_limit_rpm.map_or_else(
        || "600/min (default)".to_owned(),
        |rpm| format!("{rpm}/min"),
    );
    let slug = environment.slug.to_string();
    let slug_attr = slug.clone();
    let name = environment.name.clone();
    let api_version = environment
        .api_version
        .clone()
        .unwrap_or_else(|| "latest".to_owned());
    let timeout = format!("{} s", environment.default_timeout_seconds);
    let client = environment.auth0_client_id.clone();
    let state = if environment.is_active {
        "Active"
    } else {
        "Deactivated"
    };
    view! {
        <tr data-testid="environment-row" data-slug=slug_attr>
            <td>
                <strong>{name}</strong>
                " "
                {production
                    .then(|| {
                        view! { <span class="env-badge env-badge--production">"Production"</span> }
                    })}
                <br />
                <span class="mono muted">{slug}</span>
            </td>
            <td>{api_version}</td>
            <td>{timeout}</td>
            <td>{rate_limit}</td>
            <td class="mono">{client}</td>
            <td data-testid="environment-state">{state}</td>
            {can_manage.then(|| view! { <EnvironmentActions environment actions /> })}
        </tr>
    }
    .into_any()
}

/// An environment the dashboard cannot parse (say, a slug outside its grammar): shown as stored and
/// marked; it cannot be selected or changed from here, and the rest of the list stands.
#[component]
fn OddEnvironmentRow(record: OddRecord, can_manage: bool) -> impl IntoView {
    let state = match record.field("is_active") {
        "true" => "Active",
        "false" => "Deactivated",
        other => other,
    }
    .to_owned();
    view! {
        <tr data-testid="environment-row-as-stored">
            <td>
                <strong>{record.field("name").to_owned()}</strong>
                <br />
                <span class="mono muted">{record.field("slug").to_owned()}</span>
                <br />
                <span class="as-stored">
                    {format!(
                        "Shown as stored; the dashboard cannot work with it ({}).",
                        record.reason,
                    )}
                </span>
            </td>
            <td>{record.field("api_version").to_owned()}</td>
            <td>{record.field("default_timeout_seconds").to_owned()}</td>
            <td>{record.field("rate_limit_rpm").to_owned()}</td>
            <td class="mono">{record.field("auth0_client_id").to_owned()}</td>
            <td>{state}</td>
            {can_manage.then(|| view! { <td></td> })}
        </tr>
    }
}

#[component]
fn EnvironmentActions(environment: EnvironmentDetail, actions: Actions) -> impl IntoView {
    let (edit_id, toggle_id) = (environment.id.clone(), environment.id.clone());
    let warning = deactivation_warning(&environment.slug);
    let is_active = environment.is_active;
    let label = environment.name.clone();
    let edit_key = format!("edit:{}", environment.id);
    let saved = EnvironmentEdit::saved(&environment);
    // Production's settings reach live integrations at once: an edit is confirmed, as the
    // server requires.
    let production_warnings = production_edit_warnings(&environment.slug);
    let edit_form = move |edit: RowInput<EnvironmentEdit>| {
        view! {
            <ActionForm action=actions.update attr:class="form">
                <input type="hidden" name="id" value=edit_id />
                <RowField
                    input=edit
                    label="Name"
                    name="name"
                    required=true
                    field=|fields: &mut EnvironmentEdit| &mut fields.name
                />
                <RowField
                    input=edit
                    label="Default timeout (seconds)"
                    name="default_timeout_seconds"
                    numeric=true
                    field=|fields: &mut EnvironmentEdit| &mut fields.timeout
                />
                <RowField
                    input=edit
                    label="Rate limit (requests per minute; empty for the default)"
                    name="rate_limit_rpm"
                    numeric=true
                    field=|fields: &mut EnvironmentEdit| &mut fields.rate
                />
                <RowField
                    input=edit
                    label="Webhook URL"
                    name="webhook_url"
                    no_spellcheck=true
                    field=|fields: &mut EnvironmentEdit| &mut fields.webhook
                />
                <RowField
                    input=edit
                    label="New webhook signing secret (replaces the current one, if any, at once; empty keeps it)"
                    name="webhook_secret"
                    secret=true
                    field=|fields: &mut EnvironmentEdit| &mut fields.webhook_secret
                />
                <Confirm warnings=production_warnings />
                <FormErrors action=actions.update dialog=edit.dialog_key() />
                <SubmitButton
                    label="Save"
                    busy="Saving…"
                    pending=actions.update.pending()
                    small=true
                />
            </ActionForm>
        }
    };
    let draft = expect_context::<Drafts>().edit;
    view! {
        <td class="row-actions">
            <DraftDialog
                key=edit_key
                label="Edit".to_owned()
                hidden_label=label.clone()
                draft
                saved
                form=edit_form
            />
            <ActiveSwitch
                id=toggle_id
                row=label.clone()
                is_active
                turn_off=actions.deactivate
                turn_on=actions.reactivate
                off="Deactivate"
                off_confirmed=format!("Yes, deactivate {label}")
                off_busy="Deactivating…"
                warnings=vec![warning]
                on="Reactivate"
                on_busy="Reactivating…"
                danger=true
                off_testid="deactivate"
                on_testid="reactivate"
            />
        </td>
    }
    .into_any()
}
