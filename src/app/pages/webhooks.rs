//! Settings > Webhooks: the endpoints KeyStone notifies, each with its events, a test delivery,
//! an enable switch, a secret rotation, deletion and its delivery log. A new or rotated secret
//! is shown once, with a copy button, until the member says it is stored.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    api::permissions::WEBHOOKS_MANAGE,
    api::{
        check_endpoint_url, delete_warning, disable_warning, endpoint_name, load_deliveries,
        load_webhooks, rotate_warning, ApiError, CreateWebhook, DeleteWebhook, DeliveryLog, Listed,
        OddRecord, OneTimeSecret, RotateWebhookSecret, SetWebhookActive, TestWebhook,
        UpdateWebhook, WebhookDelivery, WebhookEndpoint, WebhooksView, DELIVERY_PAGE_SIZE,
        KNOWN_EVENTS,
    },
    app::kit::{
        focus_is_lost, focus_is_within, focus_row, use_hydrated, use_offset_query, ActiveSwitch,
        Announcement, Announcer, CheckedField, Confirm, CopyField, DataTable, DialogDraft,
        DraftDialog, FormErrors, HiddenLabel, InlineDialog, InlineDialogs, Loaded, PageHeader,
        PageWindow, Pager, RowField, RowInput, SubmitButton, TextField,
    },
};

#[derive(Clone, Copy)]
struct Actions {
    create: ServerAction<CreateWebhook>,
    update: ServerAction<UpdateWebhook>,
    /// The two halves of the rows' `ActiveSwitch`.
    disable: ServerAction<SetWebhookActive>,
    enable: ServerAction<SetWebhookActive>,
    delete: ServerAction<DeleteWebhook>,
    test: ServerAction<TestWebhook>,
    rotate: ServerAction<RotateWebhookSecret>,
}

/// What the member has typed but not saved; it outlives the list's reloads.
#[derive(Clone, Copy)]
struct Drafts {
    url: RwSignal<String>,
    description: RwSignal<String>,
    events: RwSignal<Vec<String>>,
    edit: DialogDraft<EndpointEdit>,
}

#[derive(Clone)]
struct EndpointEdit {
    url: String,
    description: String,
    events: Vec<String>,
}

impl EndpointEdit {
    fn saved(endpoint: &WebhookEndpoint) -> Self {
        Self {
            url: endpoint.url.clone(),
            description: endpoint.description.clone().unwrap_or_default(),
            events: endpoint.events.clone(),
        }
    }
}

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let actions = Actions {
        create: ServerAction::new(),
        update: ServerAction::new(),
        disable: ServerAction::new(),
        enable: ServerAction::new(),
        delete: ServerAction::new(),
        test: ServerAction::new(),
        rotate: ServerAction::new(),
    };
    let webhooks = Resource::new(
        move || {
            (
                actions.create.version().get(),
                actions.update.version().get(),
                actions.disable.version().get(),
                actions.enable.version().get(),
                actions.delete.version().get(),
                // The rotate dialog names the URL it confirms: read afresh, as after an edit.
                actions.rotate.version().get(),
            )
        },
        |_| load_webhooks(),
    );
    let dialog = InlineDialogs::provide();
    let drafts = Drafts {
        url: RwSignal::new(String::new()),
        description: RwSignal::new(String::new()),
        events: RwSignal::new(vec!["*".to_owned()]),
        edit: DialogDraft::new(dialog),
    };
    provide_context(drafts);
    // The secrets the API just showed, each kept on screen until the member says it is stored.
    let secrets = ShownSecrets::new([actions.create.value(), actions.rotate.value()]);
    Effect::new(move |_| {
        if let Some(Ok(created)) = actions.create.value().get() {
            drafts.url.set(String::new());
            drafts.description.set(String::new());
            drafts.events.set(vec!["*".to_owned()]);
            secrets.show(created);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(rotated)) = actions.rotate.value().get() {
            secrets.show(rotated);
        }
    });
    dialog.follow(actions.update);
    dialog.follow(actions.delete);
    dialog.follow(actions.disable);
    dialog.follow(actions.rotate);
    let announcer = Announcer::expect();
    announcer.follow(actions.create, |created| {
        Announcement::success(format!(
            "Added {}. Copy its secret now.",
            created.endpoint_url
        ))
    });
    announcer.follow(actions.update, |endpoint| {
        Announcement::success(format!("Saved {}.", endpoint.url))
    });
    announcer.follow(actions.disable, |endpoint| {
        Announcement::success(format!("{} is disabled.", endpoint.url))
    });
    announcer.follow(actions.enable, |endpoint| {
        Announcement::success(format!("{} is enabled.", endpoint.url))
    });
    announcer.follow(actions.delete, |url| {
        Announcement::success(format!("Deleted {url}."))
    });
    announcer.follow(actions.rotate, |rotated| {
        Announcement::success(format!(
            "Rotated the secret of {}. Copy the new one now.",
            rotated.endpoint_url
        ))
    });
    announcer.follow(actions.test, |result| {
        if result.success {
            Announcement::success(result.summary())
        } else {
            Announcement::problem(result.summary())
        }
    });

    view! {
        <PageHeader
            title="Webhooks"
            summary="Endpoints KeyStone notifies of settlement changes, each delivery signed with the endpoint's secret."
        />
        <SecretsOnce secrets />
        // Read by its changes alone: the address names the delivery log shown below.
        <Loaded
            resource=webhooks
            loading="Loading webhook endpoints…"
            reads_by=String::new()
            let:view
        >
            <WebhooksPanel view actions />
        </Loaded>
        <DeliveryLogPanel actions />
    }
}

/// The secrets shown this once, newest first. Each stays until the member says it is stored: a
/// second creation or rotation before that must not take the first secret off the screen, as it
/// cannot be read again (and a rotated one has already replaced the receiver's).
#[derive(Clone, Copy)]
struct ShownSecrets {
    shown: RwSignal<Vec<OneTimeSecret>>,
    /// How many were ever shown: the focus follows each new one, not a dismissal.
    arrivals: RwSignal<u32>,
    /// The replies that brought them (a creation's, a rotation's): each holds its secret too
    /// until the action runs again, and a stored secret is kept nowhere in the page.
    replies: [MappedSignal<Option<Result<OneTimeSecret, ApiError>>>; 2],
}

impl ShownSecrets {
    fn new(replies: [MappedSignal<Option<Result<OneTimeSecret, ApiError>>>; 2]) -> Self {
        Self {
            shown: RwSignal::new(Vec::new()),
            arrivals: RwSignal::new(0),
            replies,
        }
    }

    fn show(self, secret: OneTimeSecret) {
        self.shown.update(|shown| {
            // The endpoint's earlier secret, if still shown, is superseded by this one.
            shown.retain(|earlier| earlier.endpoint_id != secret.endpoint_id);
            shown.insert(0, secret);
        });
        self.arrivals.update(|count| *count += 1);
    }

    /// Forgets the secret of `endpoint_id`; the focus goes on to the next secret still shown, or
    /// to the endpoint's row (`url`) when none is left.
    fn stored(self, endpoint_id: &str, url: &str) {
        let mut place = 0;
        self.shown.update(|shown| {
            place = shown
                .iter()
                .position(|secret| secret.endpoint_id == endpoint_id)
                .unwrap_or(0);
            shown.retain(|secret| secret.endpoint_id != endpoint_id);
        });
        for reply in self.replies {
            let holds_it = reply.with_untracked(
                |reply| matches!(reply, Some(Ok(secret)) if secret.endpoint_id == endpoint_id),
            );
            if holds_it {
                // Every follower of these replies takes `None` as nothing to do.
                reply.set(None);
            }
        }
        // The next secret down, or the last one when the lowest went.
        match self.shown.with_untracked(Vec::len) {
            0 => focus_row("data-url", url),
            left => focus_secret(place.min(left - 1)),
        }
    }
}

/// Hands the focus to the Copy button of the secret shown at `place` (0: the newest), a frame
/// on, once the panels are in the page. Nothing on the server.
fn focus_secret(place: usize) {
    #[cfg(not(feature = "ssr"))]
    request_animation_frame(move || {
        use leptos::wasm_bindgen::JsCast;
        let copy = document()
            .query_selector_all(&format!("#{SECRETS_ID} [data-testid=\"copy-secret\"]"))
            .ok()
            .and_then(|buttons| buttons.item(place as u32))
            .and_then(|button| button.dyn_into::<leptos::web_sys::HtmlElement>().ok());
        if let Some(copy) = copy {
            let _ = copy.focus();
        }
    });
    #[cfg(feature = "ssr")]
    let _ = place;
}

/// The id of the secrets' panels' container.
const SECRETS_ID: &str = "one-time-secrets";

/// Each secret shown this once: copy it, or type it out; it is gone once dismissed.
#[component]
fn SecretsOnce(secrets: ShownSecrets) -> impl IntoView {
    // The member's next step is here, and a panel appears above the list, away from the form or
    // the row that asked for it: the focus goes to the newest one's Copy button (scrolled into
    // view).
    Effect::new(move |_| {
        if secrets.arrivals.get() > 0 {
            focus_secret(0);
        }
    });
    // Keyed by the secret itself: a new one is a new panel, and those shown already stay as they
    // are (a member selecting one by hand keeps selecting the same secret).
    view! {
        <div id=SECRETS_ID>
            <For
                each=move || secrets.shown.get()
                key=|shown| shown.secret.clone()
                children=move |shown| view! { <SecretOnce shown secrets /> }
            />
        </div>
    }
}

#[component]
fn SecretOnce(shown: OneTimeSecret, secrets: ShownSecrets) -> impl IntoView {
    let OneTimeSecret {
        endpoint_id,
        endpoint_url,
        secret,
        previous_valid_until,
    } = shown;
    let window = previous_valid_until.map(|until| {
        format!(
            "The previous secret keeps working until {}: update your receiver before then.",
            until.second_utc()
        )
    });
    let heading = format!("Signing secret for {endpoint_url}");
    let url = endpoint_url.clone();
    view! {
        <section
            class="panel panel--secret"
            role="status"
            data-testid="one-time-secret"
            data-url=url
        >
            <h2>{heading}</h2>
            <p>
                <strong>"Copy it now: you will not see it again."</strong>
                " Your receiver checks each delivery's X-Keystone-Signature (the hex HMAC-SHA256 of the body) with it."
            </p>
            <p>
                <CopyField
                    value=secret
                    what="signing secret"
                    button="Copy"
                    field_testid="secret-value"
                    button_testid="copy-secret"
                />
            </p>
            {window.map(|window| view! { <p class="muted">{window}</p> })}
            <button
                type="button"
                class="button button--secondary"
                data-testid="secret-stored"
                on:click=move |_| secrets.stored(&endpoint_id, &endpoint_url)
            >
                "I have stored it"
            </button>
        </section>
    }
}

#[component]
fn WebhooksPanel(view: WebhooksView, actions: Actions) -> impl IntoView {
    if !view.allowed {
        return view! {
            <section class="panel">
                <p class="notice" data-testid="read-only">
                    {format!(
                        "Webhooks are managed with the {WEBHOOKS_MANAGE} permission (the Developer or Platform Manager role), which you do not hold.",
                    )}
                </p>
            </section>
        }
        .into_any();
    }
    let empty = view.endpoints.is_empty();
    view! {
        <section class="panel">
            {if empty {
                view! {
                    <p class="muted" data-testid="no-webhooks">
                        "No endpoints yet. Add one below to receive settlement events."
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <DataTable
                        label="Webhook endpoints"
                        testid="webhooks-table"
                        columns=&["Endpoint", "Events", "State"]
                        actions=true
                    >
                        {view
                            .endpoints
                            .into_iter()
                            .map(|listed| match listed {
                                Listed::Parsed(endpoint) => {
                                    view! { <EndpointRow endpoint actions /> }.into_any()
                                }
                                Listed::AsStored(record) => {
                                    view! { <OddEndpointRow record actions /> }.into_any()
                                }
                            })
                            .collect_view()}
                    </DataTable>
                }
                    .into_any()
            }}
        </section>
        <CreateWebhookForm action=actions.create />
    }
    .into_any()
}

/// The label of an event name the dashboard knows, else the name itself.
fn event_label(name: &str) -> String {
    KNOWN_EVENTS
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, label)| (*label).to_owned())
        .unwrap_or_else(|| name.to_owned())
}

#[component]
fn EndpointRow(endpoint: WebhookEndpoint, actions: Actions) -> impl IntoView {
    let id = endpoint.id.clone();
    let url = endpoint.url.clone();
    let events = endpoint
        .events
        .iter()
        .map(|event| event_label(event))
        .collect::<Vec<_>>()
        .join(", ");
    let log_id = id.clone();
    let deliveries_href = format!(
        "/webhooks?endpoint={}",
        crate::domain::encode_component(&id)
    );
    let (state, badge) = if endpoint.is_active {
        ("Active", "badge badge--ok")
    } else {
        ("Disabled", "badge")
    };
    let (test_id, active_id, rotate_id) = (id.clone(), id.clone(), id.clone());
    let (row_url, shown_url, test_url, rotate_url, active_url) = (
        url.clone(),
        url.clone(),
        url.clone(),
        url.clone(),
        url.clone(),
    );
    // Every row has the same buttons: assistive technology hears which endpoint each acts on.
    let deliveries_which = format!("to {url}");
    let description = endpoint.description.clone().unwrap_or_default();
    let is_active = endpoint.is_active;
    let shown_result = {
        let url = url.clone();
        move || {
            actions
                .test
                .value()
                .get()
                .and_then(|outcome| match outcome {
                    Ok(result) if result.endpoint_url == url => Some(result.summary()),
                    _ => None,
                })
        }
    };
    view! {
        <tr data-testid="webhook-row" data-url=row_url>
            <td>
                <span class="mono">{shown_url}</span>
                <br />
                <span class="muted">{description}</span>
                <p class="muted" role="status" data-testid="test-result">
                    {shown_result}
                </p>
            </td>
            <td>{events}</td>
            <td>
                <span class=badge>{state}</span>
            </td>
            <td class="row-actions">
                <div class="action-group">
                    <SendTest id=test_id url=test_url action=actions.test />
                    // The log takes the focus once shown (`DeliveryLogPanel`): the router does
                    // not scroll to the page's top first. This endpoint's log already shown, the
                    // address does not change: its heading takes the focus at once.
                    <a
                        class=format!("button button--secondary button--small {LOG_LINK_CLASS}")
                        href=deliveries_href
                        data-noscroll=true
                        data-testid="show-deliveries"
                        on:click=move |_| focus_shown_log(&log_id)
                    >
                        "Deliveries"
                        <HiddenLabel text=Some(deliveries_which) />
                    </a>
                    <EditEndpoint endpoint action=actions.update />
                    <EndpointSwitch id=active_id url=active_url is_active actions />
                    <RotateSecret id=rotate_id url=rotate_url action=actions.rotate />
                    <DeleteEndpoint id url action=actions.delete />
                </div>
            </td>
        </tr>
    }
}

/// An endpoint stored in a form the dashboard does not read: shown as stored. What needs only its
/// id still works, so that pausing a receiver never takes deleting it: a test delivery, the
/// switch (when its state reads as true or false), deletion. Editing needs the fields it could
/// not read.
#[component]
fn OddEndpointRow(record: OddRecord, actions: Actions) -> impl IntoView {
    let url = endpoint_name(record.field("url"), record.field("id"));
    let id = record.field("id").to_owned();
    let is_active = match record.field("is_active") {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    let switch = is_active.map(|is_active| {
        view! { <EndpointSwitch id=id.clone() url=url.clone() is_active actions /> }
    });
    let (row_url, shown_url, test_url, test_id) =
        (url.clone(), url.clone(), url.clone(), id.clone());
    view! {
        <tr data-testid="webhook-row-as-stored" data-url=row_url>
            <td class="mono">{shown_url}</td>
            <td colspan="2">
                <span class="as-stored">{format!("Shown as stored: {}", record.reason)}</span>
            </td>
            <td class="row-actions">
                <div class="action-group">
                    <SendTest id=test_id url=test_url action=actions.test />
                    {switch}
                    <DeleteEndpoint id url action=actions.delete />
                </div>
            </td>
        </tr>
    }
}

/// A test delivery to one endpoint, its outcome announced.
#[component]
fn SendTest(id: String, url: String, action: ServerAction<TestWebhook>) -> impl IntoView {
    view! {
        <ActionForm action attr:class="inline-dialog">
            <input type="hidden" name="id" value=id />
            <SubmitButton
                label="Send test"
                hidden_label=format!("to {url}")
                busy="Sending…"
                pending=action.pending()
                small=true
                testid="send-test"
            />
        </ActionForm>
    }
}

/// Disabling an endpoint, confirmed (it silences a receiver), and enabling it again in one click.
#[component]
fn EndpointSwitch(id: String, url: String, is_active: bool, actions: Actions) -> impl IntoView {
    view! {
        <ActiveSwitch
            id
            row=url.clone()
            is_active
            turn_off=actions.disable
            turn_on=actions.enable
            off="Disable"
            off_confirmed=format!("Yes, disable {url}")
            off_busy="Disabling…"
            warnings=vec![disable_warning(&url)]
            on="Enable"
            on_busy="Enabling…"
            off_testid="toggle-active"
            on_testid="toggle-active"
        />
    }
}

/// The event checkboxes of a form, bound to `chosen`. A stored name the dashboard does not know
/// is offered too, ticked, so saving the form never drops it silently.
#[component]
fn EventChoices(
    chosen: Signal<Vec<String>>,
    set: impl Fn(String, bool) + Copy + Send + Sync + 'static,
    id_prefix: String,
) -> impl IntoView {
    let unknown = chosen
        .get_untracked()
        .into_iter()
        .filter(|name| !KNOWN_EVENTS.iter().any(|(known, _)| known == name))
        .map(|name| (name.clone(), name))
        .collect::<Vec<_>>();
    let choices = KNOWN_EVENTS
        .iter()
        .map(|(name, label)| ((*name).to_owned(), (*label).to_owned()))
        .chain(unknown)
        .collect::<Vec<_>>();
    view! {
        <fieldset class="choices">
            <legend>"Events"</legend>
            {choices
                .into_iter()
                .map(|(name, label)| {
                    let input_id = format!("{id_prefix}-{}", name.replace(['*', '.'], "_"));
                    let (checked_name, set_name, value) = (
                        name.clone(),
                        name.clone(),
                        name.clone(),
                    );
                    let label_for = input_id.clone();
                    view! {
                        <label class="checkbox" for=label_for>
                            <input
                                id=input_id
                                type="checkbox"
                                name="events[]"
                                value=value
                                prop:checked=move || {
                                    chosen.with(|chosen| chosen.contains(&checked_name))
                                }
                                on:change=move |event| set(
                                    set_name.clone(),
                                    event_target_checked(&event),
                                )
                            />
                            {label}
                            " "
                            <code class="muted">{name}</code>
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
    }
}

fn toggled(events: &mut Vec<String>, name: String, on: bool) {
    events.retain(|event| *event != name);
    if on {
        events.push(name);
    }
}

fn url_problem(typed: &str) -> Option<String> {
    (!typed.trim().is_empty())
        .then(|| check_endpoint_url(typed).err())
        .flatten()
}

#[component]
fn CreateWebhookForm(action: ServerAction<CreateWebhook>) -> impl IntoView {
    let drafts = expect_context::<Drafts>();
    // The secret comes back in the reply, which only the running page can show: a plain form
    // post (before the bundle has loaded) would create the endpoint and lose its secret.
    let hydrated = use_hydrated();
    let problem = Signal::derive(move || drafts.url.with(|typed| url_problem(typed)));
    view! {
        <section class="panel">
            <h2>"Add an endpoint"</h2>
            <ActionForm action attr:class="form" attr:data-testid="create-webhook-form">
                <CheckedField
                    id="webhook-url"
                    label="URL"
                    name="url"
                    value=drafts.url
                    problem
                    hint="An https:// address your backend receives POSTs on."
                    hint_testid="webhook-url-hint"
                    required=true
                    placeholder="https://example.com/keystone/webhooks"
                />
                <TextField
                    id="webhook-description"
                    label="Description (optional)"
                    name="description"
                    value=drafts.description
                    maxlength=255
                />
                <EventChoices
                    chosen=drafts.events.into()
                    set=move |name, on| drafts.events.update(|events| toggled(events, name, on))
                    id_prefix="new-event".to_owned()
                />
                <FormErrors action=action />
                <SubmitButton
                    label="Add endpoint"
                    busy="Adding…"
                    pending=action.pending()
                    disabled=Signal::derive(move || {
                        !hydrated.get() || problem.with(Option::is_some)
                    })
                    testid="create-webhook"
                />
            </ActionForm>
        </section>
    }
}

#[component]
fn EditEndpoint(endpoint: WebhookEndpoint, action: ServerAction<UpdateWebhook>) -> impl IntoView {
    let key = format!("edit:{}", endpoint.id);
    let which = endpoint.url.clone();
    let saved = EndpointEdit::saved(&endpoint);
    let edit_form = move |input: RowInput<EndpointEdit>| {
        let problem = move || url_problem(&input.get().url);
        let prefix = format!("edit-{}", endpoint.id);
        view! {
            <ActionForm action attr:class="form">
                <input type="hidden" name="id" value=endpoint.id.clone() />
                <RowField
                    input
                    label="URL"
                    name="url"
                    required=true
                    no_spellcheck=true
                    problem=Signal::derive(problem)
                    field=|edit: &mut EndpointEdit| &mut edit.url
                />
                <RowField
                    input
                    label="Description"
                    name="description"
                    maxlength=255
                    field=|edit: &mut EndpointEdit| &mut edit.description
                />
                <EventChoices
                    chosen=Signal::derive(move || input.get().events)
                    set=move |name, on| { input.update(|edit| toggled(&mut edit.events, name, on)) }
                    id_prefix=prefix
                />
                <FormErrors action=action dialog=input.dialog_key() />
                <SubmitButton label="Save" busy="Saving…" pending=action.pending() small=true />
            </ActionForm>
        }
    };
    let draft = expect_context::<Drafts>().edit;
    view! {
        <DraftDialog
            key
            label="Edit".to_owned()
            hidden_label=which
            draft
            saved
            testid="edit-webhook"
            form=edit_form
        />
    }
}

#[component]
fn RotateSecret(
    id: String,
    url: String,
    action: ServerAction<RotateWebhookSecret>,
) -> impl IntoView {
    // As for creating: the new secret is in the reply, which only the running page can show.
    let hydrated = use_hydrated();
    view! {
        <InlineDialog
            key=format!("rotate:{id}")
            label="Rotate secret".to_owned()
            hidden_label=format!("of {url}")
            testid="rotate-secret"
        >
            <ActionForm action>
                <input type="hidden" name="id" value=id />
                <Confirm warnings=vec![rotate_warning(&url)] />
                <SubmitButton
                    label="Rotate the secret"
                    busy="Rotating…"
                    pending=action.pending()
                    disabled=Signal::derive(move || !hydrated.get())
                    small=true
                />
            </ActionForm>
        </InlineDialog>
    }
}

#[component]
fn DeleteEndpoint(id: String, url: String, action: ServerAction<DeleteWebhook>) -> impl IntoView {
    view! {
        <InlineDialog
            key=format!("delete:{id}")
            label="Delete".to_owned()
            hidden_label=url.clone()
            danger=true
            testid="delete-webhook"
        >
            <ActionForm action>
                <input type="hidden" name="id" value=id />
                <Confirm warnings=vec![delete_warning(&url)] />
                <SubmitButton
                    label=format!("Yes, delete {url}")
                    pending=action.pending()
                    danger=true
                    small=true
                />
            </ActionForm>
        </InlineDialog>
    }
}

/// The delivery log of the endpoint the URL names (`?endpoint=<id>&offset=`), newest first.
#[component]
fn DeliveryLogPanel(actions: Actions) -> impl IntoView {
    let query = use_query_map();
    let endpoint = Memo::new(move |_| query.with(|query| query.get("endpoint")));
    let offset = use_offset_query();
    // Read again after a test (a new delivery), an edit (the heading names the URL) and a
    // deletion (the endpoint and its log are gone).
    let log = Resource::new(
        move || {
            (
                endpoint.get(),
                offset.get(),
                actions.test.version().get(),
                actions.update.version().get(),
                actions.delete.version().get(),
            )
        },
        |(endpoint, offset, ..)| async move {
            let Some(id) = endpoint else {
                return Ok(ShownLog::NoEndpoint);
            };
            match load_deliveries(id, offset).await {
                Ok(log) => Ok(ShownLog::Log(log)),
                // Deleted, here or elsewhere, or never there (a mistyped link): said in place,
                // not as a failure of the page.
                Err(ApiError::NotFound(_)) => Ok(ShownLog::Gone),
                Err(error) => Err(error),
            }
        },
    );
    // A row's "Deliveries" shows the log below the list and the form, out of view: once shown, its
    // heading takes the focus (and the view). A page loaded with the log in its address shows it
    // where it stands, the focus left alone.
    let picked = StoredValue::new(false);
    Effect::new(move |before: Option<Option<String>>| {
        let now = endpoint.get();
        if before.is_some_and(|before| before != now) && now.is_some() {
            picked.set_value(true);
        }
        now
    });
    view! {
        <Show when=move || endpoint.with(Option::is_some)>
            <Loaded resource=log loading="Loading deliveries…" let:shown>
                {match shown {
                    ShownLog::Log(log) => {
                        Some(view! { <DeliveryTable log endpoint picked /> }.into_any())
                    }
                    ShownLog::Gone => {
                        Some(
                            view! {
                                <p class="panel muted" data-testid="delivery-log-gone">
                                    "No endpoint has this id (it may have been deleted, and its delivery log with it)."
                                </p>
                            }
                                .into_any(),
                        )
                    }
                    ShownLog::NoEndpoint => None,
                }}
            </Loaded>
        </Show>
    }
}

/// What the delivery log panel shows for the endpoint the address names.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
enum ShownLog {
    /// The address names no endpoint.
    NoEndpoint,
    Log(DeliveryLog),
    /// The API knows no endpoint by that id.
    Gone,
}

#[component]
fn DeliveryTable(
    log: DeliveryLog,
    endpoint: Memo<Option<String>>,
    /// Set when the member picked this endpoint's log: the heading takes the focus once.
    picked: StoredValue<bool>,
) -> impl IntoView {
    let heading = NodeRef::<leptos::html::H2>::new();
    Effect::new(move |_| {
        if let Some(heading) = heading.get() {
            if picked.get_value() {
                picked.set_value(false);
                // Unless the member moved on while the log was read (the focus still on a
                // Deliveries link, or lost). A frame on: the transition puts the new table in the
                // page after its effects have run, and a heading not yet in the page takes no
                // focus.
                if focus_is_lost() || focus_is_within(LOG_LINK_CLASS) {
                    request_animation_frame(move || {
                        let _ = heading.focus();
                    });
                }
            }
        }
    });
    let window = PageWindow {
        offset: log.offset,
        shown: log.deliveries.len() as u64,
        total: log.total,
        page_size: DELIVERY_PAGE_SIZE,
    };
    let page_href = move |offset: u64| {
        let id = endpoint.get_untracked().unwrap_or_default();
        let id = crate::domain::encode_component(&id);
        match offset {
            0 => format!("/webhooks?endpoint={id}"),
            offset => format!("/webhooks?endpoint={id}&offset={offset}"),
        }
    };
    let empty = log.deliveries.is_empty();
    view! {
        <section
            class="panel"
            id=LOG_PANEL_ID
            data-endpoint=endpoint.get_untracked().unwrap_or_default()
            aria-labelledby="deliveries-heading"
            data-testid="delivery-log"
        >
            <h2 id="deliveries-heading" node_ref=heading tabindex="-1">
                {format!("Deliveries to {}", log.endpoint_url)}
            </h2>
            {if empty {
                view! { <p class="muted">"Nothing delivered yet. Send a test to see one here."</p> }
                    .into_any()
            } else {
                view! {
                    <DataTable
                        label="Deliveries"
                        testid="deliveries-table"
                        columns=&["Event", "Result", "Status", "Duration", "Error", "When"]
                        actions=false
                    >
                        {log
                            .deliveries
                            .into_iter()
                            .map(|listed| match listed {
                                Listed::Parsed(delivery) => {
                                    view! { <DeliveryRow delivery /> }.into_any()
                                }
                                Listed::AsStored(record) => {
                                    view! {
                                        <tr data-testid="delivery-row-as-stored">
                                            <td>{record.field("event").to_owned()}</td>
                                            <td colspan="5">
                                                <span class="as-stored">
                                                    {format!("Shown as stored: {}", record.reason)}
                                                </span>
                                            </td>
                                        </tr>
                                    }
                                        .into_any()
                                }
                            })
                            .collect_view()}
                    </DataTable>
                    <p class="muted">{window.range()}</p>
                    <Pager
                        window=Signal::stored(window)
                        href=page_href
                        previous="← Newer"
                        next="Older →"
                    />
                }
                    .into_any()
            }}
        </section>
    }
}

/// The class of the rows' Deliveries links.
const LOG_LINK_CLASS: &str = "deliveries-link";

/// When the log shown is already endpoint `id`'s, its heading takes the focus (and the view). A
/// click that changes the address is [`DeliveryLogPanel`]'s to follow. Nothing on the server.
fn focus_shown_log(id: &str) {
    #[cfg(not(feature = "ssr"))]
    {
        use leptos::wasm_bindgen::JsCast;
        let shown = document()
            .get_element_by_id(LOG_PANEL_ID)
            .filter(|panel| panel.get_attribute("data-endpoint").as_deref() == Some(id));
        if let Some(heading) = shown
            .and_then(|panel| panel.query_selector("h2").ok().flatten())
            .and_then(|heading| heading.dyn_into::<leptos::web_sys::HtmlElement>().ok())
        {
            let _ = heading.focus();
        }
    }
    #[cfg(feature = "ssr")]
    let _ = id;
}

/// The delivery log panel's id; it names its endpoint in `data-endpoint`.
const LOG_PANEL_ID: &str = "delivery-log";

#[component]
fn DeliveryRow(delivery: WebhookDelivery) -> impl IntoView {
    let (result, badge) = if delivery.success {
        ("Delivered", "badge badge--ok")
    } else {
        ("Failed", "badge badge--error")
    };
    view! {
        <tr data-testid="delivery-row" data-success=delivery.success.to_string()>
            <td class="mono">{delivery.event}</td>
            <td>
                <span class=badge>{result}</span>
            </td>
            <td>
                {delivery
                    .response_status
                    .map(|status| status.to_string())
                    .unwrap_or_else(|| "–".to_owned())}
            </td>
            <td>
                {delivery
                    .duration_ms
                    .map(|ms| format!("{ms} ms"))
                    .unwrap_or_else(|| "–".to_owned())}
            </td>
            <td>{delivery.error.unwrap_or_default()}</td>
            <td class="muted">{delivery.created_at.second_utc()}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticking_and_unticking_an_event_keeps_the_others() {
        let mut events = vec!["*".to_owned()];
        toggled(&mut events, "settlement.failed".to_owned(), true);
        toggled(&mut events, "*".to_owned(), false);
        assert_eq!(events, ["settlement.failed"]);
        toggled(&mut events, "settlement.failed".to_owned(), true);
        assert_eq!(events, ["settlement.failed"], "ticked twice, listed once");
    }

    #[test]
    fn known_events_read_as_words_and_others_as_stored() {
        assert_eq!(event_label("*"), "Every event");
        assert_eq!(event_label("settlement.refunded"), "settlement.refunded");
    }
}
