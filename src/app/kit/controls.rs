//! Small controls every page uses the same way.

use leptos::prelude::*;
use leptos_meta::Title;

/// A page's title (the document's too) and what the page is for, in one line.
#[component]
pub fn PageHeader(title: &'static str, summary: &'static str) -> impl IntoView {
    view! {
        <Title text=title />
        <header class="page-header">
            <h1>{title}</h1>
            <p class="muted">{summary}</p>
        </header>
    }
}

/// A labelled one-line text input bound to a draft signal (what was typed survives a failed save).
#[component]
pub fn TextField(
    id: &'static str,
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    #[prop(optional)] required: bool,
    #[prop(optional)] placeholder: Option<&'static str>,
    /// `numeric` brings up a number pad on phones.
    #[prop(optional)]
    inputmode: Option<&'static str>,
    #[prop(optional)] maxlength: Option<usize>,
    /// Off for identifiers and addresses.
    #[prop(optional)]
    no_spellcheck: bool,
    /// A secret: masked, never offered by autofill, never sent to a spelling service.
    #[prop(optional)]
    secret: bool,
) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <input
            id=id
            type="text"
            class=secret.then_some(SECRET_INPUT_CLASS)
            name=name
            required=required
            placeholder=placeholder
            inputmode=inputmode
            maxlength=maxlength
            // Masked by the stylesheet, not a password input: browsers fill saved passwords into
            // those, and offer generated ones, whatever `autocomplete` says, and either would
            // silently replace the secret. The password managers' own opt-outs besides.
            autocomplete=secret.then_some("off")
            data-1p-ignore=secret.then_some("")
            data-lpignore=secret.then_some("true")
            spellcheck=(no_spellcheck || secret).then_some("false")
            // `bind:value` sets the property only, which a server-rendered page has none of: the
            // attribute carries the value until the page is interactive, and without JavaScript.
            // Never a secret's: the attribute is in the page's HTML for anything that reads it.
            value=(!secret).then(|| value.get_untracked())
            bind:value=value
        />
    }
}

/// A labelled text input checked as it is typed: `problem` (None while the input is fine or
/// empty) replaces the `hint` below it and marks the input invalid for assistive technology.
#[component]
pub fn CheckedField(
    id: &'static str,
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    /// Why the typed value will be refused, if it will.
    #[prop(into)]
    problem: Signal<Option<String>>,
    /// What the field wants, shown while there is no problem.
    hint: &'static str,
    hint_testid: &'static str,
    #[prop(optional)] required: bool,
    #[prop(optional)] placeholder: Option<&'static str>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    view! {
        <label for=id>{label}</label>
        <input
            id=id
            type="text"
            name=name
            required=required
            placeholder=placeholder
            spellcheck="false"
            // As in `TextField`: the value in the server-rendered page.
            value=value.get_untracked()
            bind:value=value
            aria-invalid=move || problem.with(Option::is_some).to_string()
            aria-describedby=hint_id.clone()
        />
        <p
            id=hint_id
            class="hint"
            class:hint--error=move || problem.with(Option::is_some)
            data-testid=hint_testid
        >
            {move || problem.get().unwrap_or_else(|| hint.to_owned())}
        </p>
    }
}

/// A form's submit button: disabled while its action runs, saying so when it has a `busy` label.
/// The rows of a table share one action, so only the button that sent it says it is busy (the
/// others are disabled, but keep their label).
#[component]
pub fn SubmitButton(
    #[prop(into)] label: String,
    /// The action's `pending()`.
    #[prop(into)]
    pending: Signal<bool>,
    /// Shown while pending, e.g. "Adding…".
    #[prop(optional, into)]
    busy: Option<String>,
    #[prop(optional)] danger: bool,
    #[prop(optional)] small: bool,
    #[prop(optional, into)] disabled: Option<Signal<bool>>,
    #[prop(optional)] testid: Option<&'static str>,
    /// Read after the label by assistive technology only, for a button every row of a table has:
    /// "to https://ledger.acme.example/in" (see [`HiddenLabel`]).
    #[prop(optional, into)]
    hidden_label: Option<String>,
) -> impl IntoView {
    let class = match (danger, small) {
        (true, true) => "button button--danger button--small",
        (true, false) => "button button--danger",
        (false, true) => "button button--small",
        (false, false) => "button",
    };
    // Set by this button's click (Enter in a field clicks the form's first button too), cleared
    // once the action has ended.
    let sent_here = RwSignal::new(false);
    let button = NodeRef::<leptos::html::Button>::new();
    #[cfg(not(feature = "ssr"))]
    let dialogs = use_context::<super::InlineDialogs>();
    Effect::new(move |_| {
        if !pending.get() {
            #[cfg(not(feature = "ssr"))]
            if sent_here.get_untracked() {
                give_focus_back(button, dialogs);
            }
            sent_here.set(false);
        }
    });
    let text = move || match (&busy, pending.get() && sent_here.get()) {
        (Some(busy), true) => busy.clone(),
        _ => label.clone(),
    };
    view! {
        <button
            node_ref=button
            type="submit"
            class=class
            data-testid=testid
            on:click=move |_| sent_here.set(true)
            aria-busy=move || (pending.get() && sent_here.get()).then_some("true")
            disabled=move || pending.get() || disabled.is_some_and(|disabled| disabled.get())
        >
            {text}
            <HiddenLabel text=hidden_label />
        </button>
    }
}

/// Disabled while its action ran, a button that had the focus lost it to the page's body, and
/// the keyboard would start again from the top of the page. It goes back to the button once the
/// action has ended (and the button is enabled again), where the member left it; and while the
/// page's data reloads after the change and rebuilds the form (once or more, as its reads come
/// back), to the button standing in its place. Only while the member leaves it there: once they
/// move the focus, or click elsewhere while the button is still in the page, it is left alone.
/// Only to a button shown (a closed dialog's takes none), and not to one in a row dialog or switch
/// that puts it back itself (`InlineDialogs`), so it is not moved twice.
///
/// Called as the action ends, it takes the button's element and its place among the page's shown
/// buttons there and then, not a frame later: the reload after the change can come back before
/// the next frame (a fast API, a busy browser that draws late) and build the page's components
/// again, this one among them. Its node reference goes with the old component, though the rebuilt
/// view keeps the element where it can (or replaces it, and the button standing in its place
/// takes the focus).
#[cfg(not(feature = "ssr"))]
fn give_focus_back(button: NodeRef<leptos::html::Button>, dialogs: Option<super::InlineDialogs>) {
    let Some(button) = button.try_get_untracked().flatten() else {
        return;
    };
    let button: leptos::web_sys::Element = button.into();
    let in_row_dialog = button
        .closest(&format!(".{}", super::dialog::DIALOG_CLASS))
        .ok()
        .flatten()
        .is_some();
    let shown = shown_submits();
    let Some(place) = shown.iter().position(|shown| *shown == button) else {
        return;
    };
    let count = shown.len();
    request_animation_frame(move || {
        // A row dialog's button is the dialogs' to hand on: `take_focus_back` on its rebuilt
        // row, `refocus_if_the_row_goes` when the row went.
        let row_dialogs_own_it = in_row_dialog
            && (!button.is_connected()
                || dialogs.is_some_and(super::InlineDialogs::restores_focus));
        // Hidden since (a `<details>` or a dialog the member closed): it takes no focus.
        let hidden_since = button.is_connected() && !is_shown(&button);
        if row_dialogs_own_it || hidden_since {
            return;
        }
        // Whether the member moved on meanwhile is `follow_rebuild`'s first question.
        let until = now_ms() + FOLLOW_REBUILDS_FOR_MS;
        follow_rebuild(button, false, place, count, until);
    });
}

/// How long a page's reload after a change may take to rebuild the form the focus was in.
#[cfg(not(feature = "ssr"))]
const FOLLOW_REBUILDS_FOR_MS: f64 = 10_000.0;

/// Runs [`follow_rebuild`] at the next frame.
#[cfg(not(feature = "ssr"))]
fn follow_rebuilds(
    ours: leptos::web_sys::Element,
    had_it: bool,
    place: usize,
    count: usize,
    until: f64,
) {
    request_animation_frame(move || follow_rebuild(ours, had_it, place, count, until));
}

/// While `ours` has the focus, nothing to do. Until it has had it once, it is given it again (it
/// may still have been disabled). Once a rebuild has taken it out of the page (the focus fallen
/// to the body), the button at the same `place` among the page's shown submit buttons takes its
/// part, if the page shows as many as before (`count`; a rebuild under way may show fewer for a
/// while). Anything else means the member moved on: the focus elsewhere, or lost while `ours`,
/// having had it, is still in the page (a click on the page's background).
#[cfg(not(feature = "ssr"))]
fn follow_rebuild(
    ours: leptos::web_sys::Element,
    had_it: bool,
    place: usize,
    count: usize,
    until: f64,
) {
    use super::focus::{focus_is_lost, focus_quietly};
    if now_ms() > until {
        return;
    }
    if has_focus(&ours) {
        return follow_rebuilds(ours, true, place, count, until);
    }
    if !focus_is_lost() || (had_it && ours.is_connected()) {
        return;
    }
    if ours.is_connected() {
        focus_quietly(&ours);
        return follow_rebuilds(ours, false, place, count, until);
    }
    let shown = shown_submits();
    match shown.get(place) {
        Some(standing_in) if shown.len() == count => {
            focus_quietly(standing_in);
            follow_rebuilds(standing_in.clone(), false, place, count, until);
        }
        _ => follow_rebuilds(ours, had_it, place, count, until),
    }
}

#[cfg(not(feature = "ssr"))]
fn now_ms() -> f64 {
    leptos::web_sys::js_sys::Date::now()
}

#[cfg(not(feature = "ssr"))]
fn has_focus(element: &leptos::web_sys::Element) -> bool {
    document().active_element().as_ref() == Some(element)
}

/// The page's submit buttons a member can see ([`is_shown`]).
#[cfg(not(feature = "ssr"))]
fn shown_submits() -> Vec<leptos::web_sys::Element> {
    super::focus::elements("button[type=\"submit\"]")
        .into_iter()
        .filter(is_shown)
        .collect()
}

/// Laid out (not under `hidden`, as a closed row dialog's buttons are) and not in a closed
/// `<details>`, whose content keeps an offset parent.
#[cfg(not(feature = "ssr"))]
fn is_shown(element: &leptos::web_sys::Element) -> bool {
    use leptos::wasm_bindgen::JsCast;
    element
        .dyn_ref::<leptos::web_sys::HtmlElement>()
        .and_then(leptos::web_sys::HtmlElement::offset_parent)
        .is_some()
        && element
            .closest("details:not([open])")
            .ok()
            .flatten()
            .is_none()
}

/// What a control's visible label leaves out, for assistive technology: a table's rows each have
/// an "Edit" and a "Delete", and a list of buttons read out (or a voice command) must tell which
/// row each acts on: "Delete" then "10.0.0.0/8". The space between is a no-break space inside the
/// hidden part: an ordinary one at the start of a box laid out on its own is dropped, and the two
/// words would run together when read.
#[component]
pub fn HiddenLabel(text: Option<String>) -> impl IntoView {
    text.map(|text| view! { <span class="visually-hidden">{format!("\u{a0}{text}")}</span> })
}

/// Says that the member may look but not change, and which permission changing needs (named
/// by its constant in `api::permissions`, the one place the names live).
#[component]
pub fn ReadOnlyNotice(
    /// "You can view the team."
    can: &'static str,
    /// "Inviting and changing roles"
    changing: &'static str,
    permission: &'static str,
    /// "the Platform Manager role"
    held_by: &'static str,
) -> impl IntoView {
    view! {
        <p class="notice" data-testid="read-only">
            {format!("{can} {changing} needs the {permission} permission ({held_by}).")}
        </p>
    }
}

/// A table that scrolls sideways inside its panel when the screen is narrower than it, so the
/// page itself never does. Focusable, so the keyboard can scroll it too. Its children are typed,
/// not `Children`: erasing a view boxes it and walks it whole, and on the server a long table was
/// erased at every level it passed through (see docs/architecture.md, Speed).
#[component]
pub fn TableScroll<C: IntoView + 'static>(
    label: &'static str,
    children: TypedChildren<C>,
) -> impl IntoView {
    view! {
        <div class="table-scroll" role="region" aria-label=label tabindex="0">
            {children.into_inner()()}
        </div>
    }
}

/// A list as a table: its column headings, an unlabelled actions column when the member may
/// change rows, and the rows (typed, as in [`TableScroll`]); wider than the screen, it scrolls
/// inside its panel.
#[component]
pub fn DataTable<C: IntoView + 'static>(
    label: &'static str,
    testid: &'static str,
    columns: &'static [&'static str],
    /// Adds the (visually unlabelled) column of row actions.
    #[prop(optional)]
    actions: bool,
    children: TypedChildren<C>,
) -> impl IntoView {
    view! {
        <TableScroll label>
            <table class="table" data-testid=testid>
                <thead>
                    <tr>
                        {columns
                            .iter()
                            .map(|column| view! { <th scope="col">{*column}</th> })
                            .collect_view()}
                        {actions
                            .then(|| {
                                view! {
                                    <th scope="col">
                                        <span class="visually-hidden">"Actions"</span>
                                    </th>
                                }
                            })}
                    </tr>
                </thead>
                <tbody>{children.into_inner()()}</tbody>
            </table>
        </TableScroll>
    }
}

/// Copies `text` to the clipboard and says how it went; the field next to it is always there to
/// copy by hand (before hydration, or when the browser refuses clipboard access).
#[component]
pub fn CopyButton(
    text: String,
    /// The button's word before copying: "Copy link", "Copy".
    label: &'static str,
    /// What is copied, for screen readers: "invitation link for ada@acme.example".
    #[prop(into)]
    what: String,
    testid: &'static str,
) -> impl IntoView {
    let state = RwSignal::new(None::<bool>);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let promise = window().navigator().clipboard().write_text(&text);
            leptos::task::spawn_local(async move {
                state.set(Some(
                    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok(),
                ));
            });
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = &text;
            state.set(Some(false));
        }
    };
    view! {
        <button
            type="button"
            class="button button--secondary button--small"
            on:click=copy
            data-testid=testid
        >
            {move || match state.get() {
                None => label,
                Some(true) => "Copied",
                Some(false) => "Copy it from the field",
            }}
            // The visible words start the accessible name; this says what is copied.
            <span class="visually-hidden">{format!(" ({what})")}</span>
        </button>
    }
}

/// What a form's server function refused, field by field, under the form. An alert, so it is
/// read out when it appears. `every_error` lists failures other than invalid fields too (for a
/// form whose outcome is not announced elsewhere).
#[component]
pub fn FormErrors<S>(
    action: ServerAction<S>,
    #[prop(optional)] every_error: bool,
    /// The key of the row dialog the form is in: every row's dialog shares the action, and its
    /// refusal is shown only in the dialog it was sent from.
    #[prop(optional, into)]
    dialog: Option<String>,
) -> impl IntoView
where
    S: leptos::server_fn::ServerFn<Error = crate::api::ApiError> + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
{
    let sent_elsewhere = dialog.map(|key| {
        let dialogs = expect_context::<super::InlineDialogs>();
        move || !dialogs.was_sent_from(&key)
    });
    let messages = move || {
        if sent_elsewhere.as_ref().is_some_and(|elsewhere| elsewhere()) {
            return Vec::new();
        }
        action.value().with(|outcome| match outcome {
            Some(Err(crate::api::ApiError::Validation(fields))) => {
                fields.iter().map(|field| field.message.clone()).collect()
            }
            Some(Err(other)) if every_error => vec![other.to_string()],
            _ => Vec::new(),
        })
    };
    view! {
        <ul class="form-errors" role="alert">
            {move || {
                messages()
                    .into_iter()
                    .map(|message| view! { <li class="form-error">{message}</li> })
                    .collect_view()
            }}
        </ul>
    }
}

/// True once the page runs in the browser (effects run only after hydration). For what works
/// only with the WASM bundle: a reply shown in the page, which a plain form post would lose.
pub fn use_hydrated() -> Signal<bool> {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    hydrated.into()
}

/// The class of a secret's input: masked as it is typed (see `TextField`).
pub const SECRET_INPUT_CLASS: &str = "secret-input";

/// Runs `then` each time the member moves to another page (not on the first one): for what
/// belongs to the page it was shown on, such as an announcement or an open menu.
pub fn on_page_change(then: impl Fn() + 'static) {
    let path = leptos_router::hooks::use_location().pathname;
    Effect::new(move |before: Option<String>| {
        let now = path.get();
        if before.is_some_and(|before| before != now) {
            then();
        }
        now
    });
}

/// A value to copy (an invitation link, a secret shown once): in a read-only field, always there
/// to select by hand, with a [`CopyButton`] beside it. `what` names both for screen readers.
#[component]
pub fn CopyField(
    value: String,
    /// "invitation link for ada@acme.example"
    #[prop(into)]
    what: String,
    /// The button's word before copying.
    button: &'static str,
    field_testid: &'static str,
    button_testid: &'static str,
) -> impl IntoView {
    view! {
        <span class="copy-field">
            <input
                class="mono link-field"
                type="text"
                readonly=true
                aria-label=what.clone()
                value=value.clone()
                data-testid=field_testid
            />
            <CopyButton text=value label=button what testid=button_testid />
        </span>
    }
}
