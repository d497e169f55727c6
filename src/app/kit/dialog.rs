//! Inline dialogs whose state outlives the rows they sit in.
//!
//! A page's list reloads after every change, failed ones included, and that rebuilds its rows. If a
//! row's dialog kept its own open state and inputs, a refused or failed save would close it and
//! throw away what the member typed. So the page owns both: which dialog is open ([`InlineDialogs`])
//! and what has been typed in it ([`DialogDraft`]). Only a confirmed save closes a dialog.

use leptos::prelude::*;

/// Which of the page's inline dialogs is open (at most one), by key.
#[derive(Clone, Copy)]
pub struct InlineDialogs(RwSignal<Option<String>>);

impl InlineDialogs {
    /// A page's dialogs, given to every [`InlineDialog`] below it.
    pub fn provide() -> Self {
        let dialog = Self(RwSignal::new(None));
        provide_context(dialog);
        dialog
    }

    pub fn is_open(self, key: &str) -> bool {
        self.0.with(|open| open.as_deref() == Some(key))
    }

    pub fn toggle(self, key: &str) {
        self.0.update(|open| {
            *open = match open.as_deref() {
                Some(current) if current == key => None,
                _ => Some(key.to_owned()),
            }
        });
    }

    pub fn close(self) {
        self.0.set(None);
    }

    /// Closes the open dialog whenever an action's `outcome` is a success; a failed change leaves
    /// it open with its input, next to the error.
    pub fn close_on_success<T, E>(
        self,
        outcome: impl With<Value = Option<Result<T, E>>> + Send + Sync + 'static,
    ) {
        Effect::new(move |_| {
            if outcome.with(|result| matches!(result, Some(Ok(_)))) {
                self.close();
            }
        });
    }

    fn track(self) {
        self.0.track();
    }
}

/// What has been typed into the open dialog of one row, over the saved value it started from.
pub struct DialogDraft<T: Send + Sync + 'static>(RwSignal<Option<(String, T)>>);

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
        Self(draft)
    }

    /// The draft as one row's dialog sees it: `key` names the row, `saved` is what the API holds.
    pub fn row(self, key: String, saved: T) -> RowInput<T> {
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
    /// What the API holds (for the server-rendered `value`, before any typing).
    pub fn saved(self) -> T {
        self.row.with_value(|(_, saved)| saved.clone())
    }

    /// What the row's inputs show (tracked).
    pub fn get(self) -> T {
        self.row.with_value(|(key, saved)| {
            self.draft.0.with(|draft| match draft {
                Some((row, value)) if row == key => value.clone(),
                _ => saved.clone(),
            })
        })
    }

    /// Changes the row's draft, starting it from the saved value if this row had none.
    pub fn update(self, change: impl FnOnce(&mut T)) {
        self.row.with_value(|(key, saved)| {
            self.draft.0.update(|draft| {
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

/// A disclosure dialog in a table row: the summary opens and closes it, Escape closes it and
/// returns focus to the summary. Without JavaScript it still opens natively and its form posts.
#[component]
pub fn InlineDialog(
    /// Unique on the page, e.g. `edit:<id>`.
    key: String,
    label: String,
    #[prop(optional)] danger: bool,
    #[prop(optional)] testid: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let dialog = expect_context::<InlineDialogs>();
    let summary = NodeRef::<leptos::html::Summary>::new();
    let (open_key, toggle_key, escape_key) = (key.clone(), key.clone(), key);
    let class = if danger {
        "button button--danger button--small"
    } else {
        "button button--secondary button--small"
    };
    view! {
        <details
            class="inline-dialog"
            prop:open=move || dialog.is_open(&open_key)
            on:keydown=move |event| {
                if event.key() == "Escape" && dialog.is_open(&escape_key) {
                    dialog.close();
                    if let Some(summary) = summary.get() {
                        let _ = summary.focus();
                    }
                }
            }
        >
            <summary
                node_ref=summary
                class=class
                data-testid=testid
                on:click=move |event| {
                    event.prevent_default();
                    dialog.toggle(&toggle_key);
                }
            >
                {label}
            </summary>
            {children()}
        </details>
    }
}
