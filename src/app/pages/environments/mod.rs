//! Settings > Environments: every environment of the platform, with create, edit, deactivate and
//! reactivate. Deactivating says what it does (M2M credentials refused, data kept) and needs a yes.

mod create;

use create::{CreateEnvironmentForm, NewEnvironment};

use leptos::prelude::*;

use crate::{
    api::permissions::ENVIRONMENTS_MANAGE,
    api::{
        deactivation_warning, load_environments, CreateEnvironment, EnvironmentDetail,
        EnvironmentsView, Listed, OddRecord, SetEnvironmentActive, UpdateEnvironment,
    },
    app::kit::{
        Announcement, Announcer, Confirm, DataTable, DialogDraft, DraftDialog, InlineDialog,
        InlineDialogs, Loaded, PageHeader, ReadOnlyNotice, RowInput, SubmitButton,
    },
};

#[derive(Clone, Copy)]
struct Actions {
    create: ServerAction<CreateEnvironment>,
    update: ServerAction<UpdateEnvironment>,
    active: ServerAction<SetEnvironmentActive>,
}

#[component]
pub fn EnvironmentsPage() -> impl IntoView {
    let actions = Actions {
        create: ServerAction::new(),
        update: ServerAction::new(),
        active: ServerAction::new(),
    };
    let environments = Resource::new(
        move || {
            (
                actions.create.version().get(),
                actions.update.version().get(),
                actions.active.version().get(),
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
    dialog.close_on_success(actions.update.value());
    dialog.close_on_success(actions.active.value());
    let announcer = Announcer::expect();
    announcer.follow(actions.create, |environment| {
        Announcement::success(format!("Created {}.", environment.name))
    });
    announcer.follow(actions.update, |environment| {
        Announcement::success(format!("Saved {}.", environment.name))
    });
    announcer.follow(actions.active, |environment| {
        let state = if environment.is_active {
            "reactivated"
        } else {
            "deactivated"
        };
        Announcement::success(format!("{} is {state}.", environment.name))
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
        }
    }
}

#[component]
fn EnvironmentsPanel(view: EnvironmentsView, actions: Actions) -> impl IntoView {
    let can_manage = view.can_manage;
    view! {
        <section class="panel">
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
                            view! { <EnvironmentRow environment can_manage actions /> }.into_any()
                        }
                        Listed::AsStored(record) => {
                            view! { <OddEnvironmentRow record can_manage /> }.into_any()
                        }
                    })
                    .collect_view()}
            </DataTable>
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
    let edit_form = move |edit: RowInput<EnvironmentEdit>| {
        view! {
            <ActionForm action=actions.update attr:class="form">
                <input type="hidden" name="id" value=edit_id />
                <label>
                    "Name"
                    <EditInput edit name="name" required=true field=|fields| &mut fields.name />
                </label>
                <label>
                    "Default timeout (seconds)"
                    <EditInput
                        edit
                        name="default_timeout_seconds"
                        numeric=true
                        field=|fields| &mut fields.timeout
                    />
                </label>
                <label>
                    "Rate limit (requests per minute; empty for the default)"
                    <EditInput
                        edit
                        name="rate_limit_rpm"
                        numeric=true
                        field=|fields| &mut fields.rate
                    />
                </label>
                <label>
                    "Webhook URL"
                    <EditInput edit name="webhook_url" field=|fields| &mut fields.webhook />
                </label>
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
            <DraftDialog key=edit_key label="Edit".to_owned() draft saved form=edit_form />
            {if is_active {
                view! {
                    <InlineDialog
                        key=format!("deactivate:{}", environment.id)
                        label="Deactivate".to_owned()
                        danger=true
                        testid="deactivate"
                    >
                        <ActionForm action=actions.active>
                            <input type="hidden" name="id" value=toggle_id />
                            <input type="hidden" name="active" value="false" />
                            <Confirm warnings=vec![warning] />
                            <SubmitButton
                                label=format!("Deactivate {label}")
                                pending=actions.active.pending()
                                danger=true
                                small=true
                            />
                        </ActionForm>
                    </InlineDialog>
                }
                    .into_any()
            } else {
                view! {
                    <ActionForm action=actions.active attr:class="inline-dialog">
                        <input type="hidden" name="id" value=toggle_id />
                        <input type="hidden" name="active" value="true" />
                        <SubmitButton
                            label=format!("Reactivate {label}")
                            pending=actions.active.pending()
                            small=true
                            testid="reactivate"
                        />
                    </ActionForm>
                }
                    .into_any()
            }}
        </td>
    }
    .into_any()
}

/// One input of the edit dialog; `field` picks which of the fields it shows and changes.
#[component]
fn EditInput(
    edit: RowInput<EnvironmentEdit>,
    name: &'static str,
    field: fn(&mut EnvironmentEdit) -> &mut String,
    #[prop(optional)] numeric: bool,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    view! {
        <input
            type="text"
            name=name
            value=field(&mut edit.saved()).clone()
            inputmode=numeric.then_some("numeric")
            required=required
            prop:value=move || field(&mut edit.get()).clone()
            on:input=move |event| {
                let value = event_target_value(&event);
                edit.update(|fields| *field(fields) = value);
            }
        />
    }
}
