//! Inline dialogs whose state outlives the rows they sit in.
//!
//! A page's list reloads after every change, failed ones included, and that rebuilds its rows. If a
//! row's dialog kept its own open state and inputs, a refused or failed save would close it and
//! throw away what the member typed. So the page owns both: which dialog is open ([`InlineDialogs`])
//! and what has been typed in it ([`DialogDraft`]). Only a confirmed save closes a dialog.
//!
//! A dialog's form is built when it is first opened, not with its row: a page of 50 members carries
//! 100 of them, and building every one (on the server, then again while hydrating) was most of the
//! page's cost. Without JavaScript a dialog's button is a link to the same page with the dialog
//! named in `?open=`, which the server renders open.

use leptos::{prelude::*, wasm_bindgen::JsCast};
use leptos_router::hooks::use_query_map;
use std::sync::{Arc, Mutex};

use super::HiddenLabel;
use crate::domain::{encode_component, query_string};

/// The class of an inline dialog (its button and its body).
pub(super) const DIALOG_CLASS: &str = "inline-dialog";

/// The query parameter naming the dialog a page is rendered with open.
const OPEN_PARAMETER: &str = "open";

/// Which of the page's inline dialogs is open (at most one), by key.
#[derive(Clone, Copy)]
pub struct InlineDialogs {
    open: RwSignal<Option<String>>,
    /// The page's query without `open`, encoded: what every dialog's link keeps. Built once per
    /// address, not per row.
    kept_query: Memo<String>,
    /// The dialog whose form was sent last: an action's outcome is its, whichever dialog is open
    /// by the time the reply comes.
    sent_from: RwSignal<Option<String>>,
    /// Where the focus goes once the list has reloaded and rebuilt its rows (see
    /// [`InlineDialog`]): the list reloads after every change, failed ones included, and the
    /// element that had the focus goes with the old rows.
    refocus: RwSignal<Option<Refocus>>,
}

/// The element of a rebuilt dialog that takes the focus back.
#[derive(Clone, Debug, PartialEq)]
enum Refocus {
    /// A save closed the dialog: its button, where the keyboard opened it.
    Button(String),
    /// A save was refused: the dialog's submit button, next to what to correct.
    Submit(String),
}

impl InlineDialogs {
    /// A page's dialogs, given to every [`InlineDialog`] below it; the one named in the address is
    /// open from the start (the server and the hydrating browser read the same address).
    pub fn provide() -> Self {
        let query = use_query_map();
        let kept_query = Memo::new(move |_| {
            query.with(|query| {
                query_string(
                    query
                        .latest_values()
                        .filter(|(name, _)| name.as_ref() != OPEN_PARAMETER)
                        .map(|(name, value)| (name.as_ref(), value.to_owned())),
                )
            })
        });
        let open = query.with_untracked(|query| query.get(OPEN_PARAMETER));
        let dialog = Self {
            open: RwSignal::new(open),
            kept_query,
            sent_from: RwSignal::new(None),
            refocus: RwSignal::new(None),
        };
        provide_context(dialog);
        dialog
    }

    /// The button's link where there is no JavaScript: the page with the dialog open (its key
    /// given encoded, as its body's id has it), or, when it is open, the page with none open.
    fn href(self, encoded_key: &str, open: bool) -> String {
        self.kept_query.with(|kept| match (open, kept.is_empty()) {
            (true, _) => format!("?{kept}"),
            (false, true) => format!("?{OPEN_PARAMETER}={encoded_key}"),
            (false, false) => format!("?{kept}&{OPEN_PARAMETER}={encoded_key}"),
        })
    }

    pub fn is_open(self, key: &str) -> bool {
        self.open.with(|open| open.as_deref() == Some(key))
    }

    pub fn toggle(self, key: &str) {
        self.open.update(|open| {
            *open = match open.as_deref() {
                Some(current) if current == key => None,
                _ => Some(key.to_owned()),
            }
        });
    }

    pub fn close(self) {
        self.open.set(None);
    }

    /// Ties a row action to the dialogs. Its outcome belongs to the dialog its form was sent
    /// from, and only while that dialog is still the open one (the member may have opened another
    /// while the reply was on its way): a success closes it and gives the focus back to its
    /// button; a refusal leaves it open with its input, next to the errors (see [`FormErrors`]'s
    /// `dialog`), until another dialog opens or it closes.
    ///
    /// [`FormErrors`]: super::FormErrors
    pub fn follow<S>(self, action: ServerAction<S>)
    where
        S: leptos::server_fn::ServerFn<Error = crate::api::ApiError>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Output: Send + Sync + 'static,
    {
        Effect::new(move |_| {
            let Some(succeeded) = action
                .value()
                .with(|outcome| outcome.as_ref().map(Result::is_ok))
            else {
                return;
            };
            let open = self.open.get_untracked();
            let sent_from = self.sent_from.get_untracked();
            let Some(key) = open.filter(|open| sent_from.as_ref() == Some(open)) else {
                return;
            };
            // Either way the row may go with the reload (a refused resend whose old invitation
            // was revoked all the same).
            #[cfg(not(feature = "ssr"))]
            self.refocus_if_the_row_goes(&key);
            if succeeded {
                self.refocus.set(Some(Refocus::Button(key)));
                self.close();
            } else {
                self.refocus.set(Some(Refocus::Submit(key)));
            }
        });
        Effect::new(move |previous: Option<Option<String>>| {
            let open = self.open.get();
            if previous.is_some_and(|previous| previous != open)
                && action
                    .value()
                    .with_untracked(|outcome| matches!(outcome, Some(Err(_))))
            {
                action.value().set(None);
            }
            open
        });
    }

    /// Called as the row of dialog `key` is built: when a save of that dialog has just finished,
    /// the focus goes to `button` (the element that opens it, after a success) or `submit` (its
    /// submit button, after a refusal). Looked for a frame later, when the rebuilt rows are
    /// surely in the document; by a selector unique on the page, as the key is. Browser only.
    #[cfg(not(feature = "ssr"))]
    pub(super) fn take_focus_back(self, key: &str, button: String, submit: Option<String>) {
        let target = self.refocus.with_untracked(|refocus| match refocus {
            Some(Refocus::Button(sent)) if sent == key => Some(button),
            Some(Refocus::Submit(sent)) if sent == key => submit,
            _ => None,
        });
        let Some(target) = target else {
            return;
        };
        Effect::new(move |_| {
            self.refocus.set(None);
            let target = target.clone();
            request_animation_frame(move || {
                let found = document()
                    .query_selector(&target)
                    .ok()
                    .flatten()
                    .and_then(|found| found.dyn_into::<leptos::web_sys::HtmlElement>().ok());
                if let (true, Some(found)) = (super::focus::focus_is_lost(), found) {
                    let _ = found.focus();
                }
            });
        });
    }

    /// A save that removes its row (a deletion; a resend, whose invitation comes back under a
    /// new id), or a refusal that does (a resend that revoked the old invitation and could not
    /// send the new one), leaves no rebuilt dialog `key` to take the focus back. Once the old row has left the
    /// page and no rebuilt row has taken the focus, it goes to the same kind of dialog button at
    /// the same place in the list (the row that moved up into it), or the one before when the
    /// last row went, or the page's main region when none is left; never while the member has
    /// moved the focus elsewhere. Browser only.
    #[cfg(not(feature = "ssr"))]
    fn refocus_if_the_row_goes(self, key: &str) {
        use super::focus::{elements, focus_is_lost, focus_quietly, once_gone};
        let Some(old_button) = document()
            .query_selector(&button_selector(key))
            .ok()
            .flatten()
        else {
            return;
        };
        // Keys are `<kind>:<id>`: the dialogs of one kind share the start of their ids.
        let kind = key.split_once(':').map_or(key, |(kind, _)| kind);
        let same_kind = format!("[aria-controls^=\"dialog-{}%3A\"]", encode_component(kind));
        let place = elements(&same_kind)
            .iter()
            .position(|button| *button == old_button)
            .unwrap_or(0);
        let key = key.to_owned();
        once_gone(old_button, "aria-controls", move || {
            let still_pending = self
                .refocus
                .try_with_untracked(|refocus| {
                    matches!(
                        refocus,
                        Some(Refocus::Button(sent) | Refocus::Submit(sent)) if *sent == key
                    )
                })
                .unwrap_or(false);
            // A dialog opened meanwhile (its row rebuilt too) is where the member is now.
            let another_open = self
                .open
                .try_with_untracked(|open| open.as_ref().is_some_and(|open| *open != key))
                .unwrap_or(true);
            if !still_pending || another_open {
                return;
            }
            // The row is gone: nothing is left to take the focus back, and a refused dialog,
            // which stays open, is open no more.
            self.refocus.set(None);
            self.close();
            if !focus_is_lost() {
                return;
            }
            let buttons = elements(&same_kind);
            let target = buttons
                .get(place.min(buttons.len().saturating_sub(1)))
                .cloned()
                .or_else(|| document().get_element_by_id("main"));
            // Where the removed row was, so in view.
            if let Some(target) = target {
                focus_quietly(&target);
            }
        });
    }

    /// After a change made outside any dialog (the one-click half of an [`ActiveSwitch`]), the
    /// focus goes back to the dialog `key`'s button, or what stands in its place, once the list
    /// has reloaded.
    ///
    /// [`ActiveSwitch`]: super::ActiveSwitch
    pub(super) fn focus_back_to(self, key: &str) {
        self.refocus.set(Some(Refocus::Button(key.to_owned())));
    }

    /// Whether a dialog's save (or a switch's turn-on) will put the focus back itself, once its
    /// rows are rebuilt. Browser only.
    #[cfg(not(feature = "ssr"))]
    pub(super) fn restores_focus(self) -> bool {
        self.refocus.with_untracked(Option::is_some)
    }

    /// Whether the last form sent was the dialog `key`'s (tracked).
    pub(super) fn was_sent_from(self, key: &str) -> bool {
        self.sent_from
            .with(|sent_from| sent_from.as_deref() == Some(key))
    }

    fn track(self) {
        self.open.track();
    }
}

/// What has been typed into the open dialog of one row, over the saved value it started from.
pub struct DialogDraft<T: Send + Sync + 'static> {
    typed: RwSignal<Option<(String, T)>>,
    /// The page's dialogs, which the draft follows; handed on to the dialogs of the rows that
    /// edit it, the row's other dialogs included (see [`InlineDialog`]'s `dialogs`).
    dialogs: InlineDialogs,
}

impl<T: Send + Sync + 'static> Clone for DialogDraft<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for DialogDraft<T> {}

impl<T: Clone + Send + Sync + 'static> DialogDraft<T> {
    pub fn new(dialog: InlineDialogs) -> Self {
        let draft = RwSignal::new(None::<(String, T)>);
        // A draft belongs to the dialog it was typed in: closing that dialog (saved or dismissed)
        // or opening another one discards it, so a dialog opened later starts from the saved value.
        Effect::new(move |_| {
            dialog.track();
            draft.set(None);
        });
        Self {
            typed: draft,
            dialogs: dialog,
        }
    }

    /// The page's dialogs, for [`DraftDialog`] and the row's other dialogs: the table looks its
    /// draft up once, and its rows' dialogs need no context lookup of their own.
    pub fn dialogs(self) -> InlineDialogs {
        self.dialogs
    }

    /// The draft as one row's dialog sees it: `key` names the row, `saved` is what the API holds.
    /// Taken by [`DraftDialog`] when the dialog first opens.
    fn row(self, key: String, saved: T) -> RowInput<T> {
        RowInput {
            draft: self,
            row: StoredValue::new((key, saved)),
        }
    }
}

/// One row's view of a [`DialogDraft`]: what was typed in its dialog if anything, else the saved
/// value. `Copy`, so every closure of the row's inputs can hold it.
pub struct RowInput<T: Send + Sync + 'static> {
    draft: DialogDraft<T>,
    row: StoredValue<(String, T)>,
}

impl<T: Send + Sync + 'static> Clone for RowInput<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for RowInput<T> {}

impl<T: Clone + Send + Sync + 'static> RowInput<T> {
    /// The key of the dialog this row's input is typed in (for its form's [`FormErrors`]).
    ///
    /// [`FormErrors`]: super::FormErrors
    pub fn dialog_key(self) -> String {
        self.row.with_value(|(key, _)| key.clone())
    }

    /// What the API holds (for the server-rendered `value`, before any typing).
    pub fn saved(self) -> T {
        self.row.with_value(|(_, saved)| saved.clone())
    }

    /// What the row's inputs show (tracked).
    pub fn get(self) -> T {
        self.row.with_value(|(key, saved)| {
            self.draft.typed.with(|draft| match draft {
                Some((row, value)) if row == key => value.clone(),
                _ => saved.clone(),
            })
        })
    }

    /// Changes the row's draft, starting it from the saved value if this row had none.
    pub fn update(self, change: impl FnOnce(&mut T)) {
        self.row.with_value(|(key, saved)| {
            self.draft.typed.update(|draft| {
                if !matches!(draft, Some((row, _)) if row == key) {
                    *draft = Some((key.clone(), saved.clone()));
                }
                if let Some((_, value)) = draft {
                    change(value);
                }
            })
        });
    }
}

/// A disclosure dialog in a table row: its button opens and closes it, Escape closes it and
/// returns focus to the button. Its form is built at the first opening and kept (hidden) after,
/// so closing is cheap and the form's own state is not rebuilt; what was typed is the page's draft
/// (see [`DialogDraft`]). Without JavaScript the button is a link that renders the page with this
/// dialog open (or, when open, closed), and its form posts.
#[component]
pub fn InlineDialog(
    /// `<kind>:<row id>`, e.g. `edit:<id>`: unique on the page, and the kind names the same
    /// dialog on the other rows (where the focus goes when this row goes away).
    key: String,
    label: String,
    /// Read after the label by assistive technology only, when the label alone would be the same
    /// on every row: "the invitation of ada@acme.example" (see [`super::HiddenLabel`]).
    #[prop(optional, into)]
    hidden_label: Option<String>,
    #[prop(optional)] danger: bool,
    /// The button's `data-testid`; none when empty.
    #[prop(optional)]
    testid: &'static str,
    /// The page's dialogs, when the table has them at hand (a [`DialogDraft`] does): a context
    /// lookup walks up the owners, and a long table's hundred lookups were about 3 % of the
    /// server's CPU for its page (docs/architecture.md, Speed).
    #[prop(optional)]
    dialogs: Option<InlineDialogs>,
    children: Children,
) -> impl IntoView {
    let dialog = dialogs.unwrap_or_else(|| expect_context::<InlineDialogs>());
    // Encoded once for both the body's id and the link (a long table renders a hundred).
    let encoded_key = encode_component(&key);
    let body_id = body_id(&encoded_key);
    // A long table has two dialogs a row: what each costs is paid a hundred times a page. The
    // closures share the key (in the browser, the open state's through a stored value, `Copy`).
    let key: Arc<str> = key.into();
    // A save from this dialog finished and the list reloaded: the focus was in a form that is
    // gone (on the page's body now). It goes back where the keyboard left off in the rebuilt
    // row: this dialog's button after a success, its submit button after a refusal. (A row that
    // does not come back hands it to its neighbour: `InlineDialogs::refocus_if_the_row_goes`.)
    // Looked for a frame later, when the rebuilt rows are surely in the document; by the
    // dialog's id or `aria-controls`, unique as the key is.
    #[cfg(not(feature = "ssr"))]
    {
        let button = button_selector(&key);
        let submit = format!("[id=\"{body_id}\"] button[type=\"submit\"]");
        dialog.take_focus_back(&key, button, Some(submit));
    }
    // The server renders a page once and nothing opens a dialog meanwhile: its state is read
    // once, not by each part below (those reads were a tenth of a long table's render). In the
    // browser every part follows the open dialog.
    #[cfg(feature = "ssr")]
    let is_open = {
        let open = dialog.is_open(&key);
        move || open
    };
    #[cfg(not(feature = "ssr"))]
    let is_open = {
        let key = StoredValue::new(key.clone());
        move || key.with_value(|key| dialog.is_open(key))
    };
    let href = move || dialog.href(&encoded_key, is_open());
    // Once built, a form stays: in the browser, a memo that only ever turns true runs the body
    // below once. On the server, where the state does not change, the open state suffices (a
    // memo for each dialog was another tenth of the render).
    #[cfg(feature = "ssr")]
    let ever_opened = is_open;
    #[cfg(not(feature = "ssr"))]
    let ever_opened = {
        let ever_opened =
            Memo::new(move |was: Option<&bool>| was.copied().unwrap_or(false) || is_open());
        move || ever_opened.get()
    };
    // `Children` can be called once, and the body must be a closure the view may call again
    // (and send): the builder waits in a mutex and is taken at the first opening. Built
    // untracked, so a signal the children read cannot re-run the body and lose the form.
    let children = Mutex::new(Some(children));
    let body = move || {
        ever_opened().then(|| {
            children
                .lock()
                .expect("dialog body")
                .take()
                .map(|build| untrack(build))
        })
    };
    let sent_key = key.clone();
    let toggle = move || dialog.toggle(&key);
    let toggle_on_space = toggle.clone();
    let class = if danger {
        "button button--danger button--small"
    } else {
        "button button--secondary button--small"
    };
    view! {
        <span
            class=DIALOG_CLASS
            on:keydown=move |event| {
                if event.key() == "Escape" && is_open() {
                    dialog.close();
                    if let Some(button) = own_button(&event) {
                        let _ = button.focus();
                    }
                }
            }
            // After the form's own handler (the form is inside), which has dispatched its action.
            on:submit=move |_| dialog.sent_from.set(Some(sent_key.to_string()))
        >
            // On the element itself (a capture listener is not delegated to the window), so it
            // cancels the link before the router's click handler on the window would follow it.
            <a
                href=href
                role="button"
                class=class
                data-testid=(!testid.is_empty()).then_some(testid)
                aria-expanded=move || is_open().to_string()
                aria-controls=body_id.clone()
                on:click:capture=move |event| {
                    if event.button() == 0 && !event.ctrl_key() && !event.meta_key()
                        && !event.shift_key() && !event.alt_key()
                    {
                        event.prevent_default();
                        toggle();
                    }
                }
                on:keydown=move |event| {
                    if event.key() == " " && !event.repeat() {
                        event.prevent_default();
                        toggle_on_space();
                    }
                }
            >
                {label}
                <HiddenLabel text=hidden_label />
            </a>
            <div class="inline-dialog__body" id=body_id hidden=move || !is_open()>
                {body}
            </div>
        </span>
    }
}

/// The id of a dialog's body, from its key encoded: a key holds ids as the API sent them, and
/// `aria-controls` is a list split at spaces.
fn body_id(encoded_key: &str) -> String {
    format!("dialog-{encoded_key}")
}

/// Dialog `key`'s button, which names its body in `aria-controls`.
#[cfg(not(feature = "ssr"))]
fn button_selector(key: &str) -> String {
    format!("[aria-controls=\"{}\"]", body_id(&encode_component(key)))
}

/// The button of the dialog a key was pressed in, which the focus returns to on Escape. Found
/// from the event, not held: a node reference for each of a long table's dialogs cost the server a
/// twentieth of the render, and is never filled there. The keydown listener is delegated, so the
/// event has no `currentTarget`: the dialog is the nearest one around what has the focus (a page
/// search would find another row's button when two keys collide).
fn own_button(event: &leptos::ev::KeyboardEvent) -> Option<leptos::web_sys::HtmlElement> {
    event
        .target()?
        .dyn_into::<leptos::web_sys::Element>()
        .ok()?
        .closest(&format!(".{DIALOG_CLASS}"))
        .ok()??
        .query_selector(":scope > a")
        .ok()??
        .dyn_into()
        .ok()
}

/// An [`InlineDialog`] whose form edits one row's [`DialogDraft`]. The row's input is taken when
/// the dialog first opens, with its form, so a row whose dialog stays closed (most rows of a long
/// table) takes nothing.
#[component]
pub fn DraftDialog<T, F, V>(
    /// Unique on the page; also names the row in the draft.
    key: String,
    label: String,
    /// Which row, for assistive technology (see [`InlineDialog`]).
    hidden_label: String,
    draft: DialogDraft<T>,
    /// What the API holds for the row: the form's values until something is typed.
    saved: T,
    #[prop(optional)] testid: &'static str,
    /// The form, given the row's input.
    form: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    F: FnOnce(RowInput<T>) -> V + Send + 'static,
    V: IntoView + 'static,
{
    let row = key.clone();
    view! {
        <InlineDialog key label hidden_label testid dialogs=draft.dialogs()>
            {form(draft.row(row, saved))}
        </InlineDialog>
    }
}

/// A text input of a row's dialog, bound to one `field` of the row's draft: the saved value in the
/// server-rendered page (`prop:value` alone would leave it empty until hydration, and without
/// JavaScript), what was typed after. `problem`, when given, is checked as it is typed and shown
/// under the input.
#[component]
pub fn RowField<T>(
    input: RowInput<T>,
    #[prop(into)] label: String,
    name: &'static str,
    /// Which of the draft's fields this input shows and changes.
    field: fn(&mut T) -> &mut String,
    #[prop(optional)] required: bool,
    /// Brings up a number pad on phones.
    #[prop(optional)]
    numeric: bool,
    #[prop(optional)] maxlength: Option<usize>,
    /// Off for addresses and identifiers.
    #[prop(optional)]
    no_spellcheck: bool,
    /// A secret: masked, never offered by autofill, never sent to a spelling service.
    #[prop(optional)]
    secret: bool,
    #[prop(optional, into)] problem: Option<Signal<Option<String>>>,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
{
    let is_problem = move || problem.is_some_and(|problem| problem.with(Option::is_some));
    view! {
        <label>
            {label}
            <input
                type="text"
                class=secret.then_some(super::controls::SECRET_INPUT_CLASS)
                name=name
                value=field(&mut input.saved()).clone()
                required=required
                inputmode=numeric.then_some("numeric")
                maxlength=maxlength
                // As in `TextField`: masked, and nothing fills a secret in.
                autocomplete=secret.then_some("off")
                data-1p-ignore=secret.then_some("")
                data-lpignore=secret.then_some("true")
                spellcheck=(no_spellcheck || secret).then_some("false")
                aria-invalid=move || is_problem().to_string()
                prop:value=move || field(&mut input.get()).clone()
                on:input=move |event| {
                    let typed = event_target_value(&event);
                    input.update(|fields| *field(fields) = typed);
                }
            />
        </label>
        {problem
            .map(|problem| {
                view! {
                    <p class="hint hint--error" role="status">
                        {move || problem.get()}
                    </p>
                }
            })}
    }
}
