//! One announcement region for the whole dashboard: how the last change went, shown as a toast and
//! read out by screen readers (a polite live region). Pages never write their own: they say which
//! actions to follow and how to word a success; a failure speaks the API's own words.

use leptos::{prelude::*, server_fn::ServerFn};

use crate::api::ApiError;

/// What the region says, and whether it is good news.
#[derive(Clone, Debug, PartialEq)]
pub struct Announcement {
    pub ok: bool,
    pub text: String,
}

impl Announcement {
    pub fn success(text: impl Into<String>) -> Self {
        Self {
            ok: true,
            text: text.into(),
        }
    }

    /// Done in part, or not done: shown as a problem so it is not skimmed over.
    pub fn problem(text: impl Into<String>) -> Self {
        Self {
            ok: false,
            text: text.into(),
        }
    }
}

/// The dashboard's announcer, provided once by the shell: what the region shows, and how many
/// times it was changed (a repeat shown a beat later is dropped if anything changed it meanwhile).
#[derive(Clone, Copy)]
pub struct Announcer(RwSignal<Option<Announcement>>, StoredValue<u64>);

impl Announcer {
    pub fn provide() -> Self {
        let announcer = Self(RwSignal::new(None), StoredValue::new(0));
        provide_context(announcer);
        announcer
    }

    pub fn expect() -> Self {
        expect_context()
    }

    pub fn say(self, announcement: Announcement) {
        // The same words again (a retry that failed the same way) would leave the region as it
        // was: nothing for a screen reader to read, nothing new to see. Emptied first, it speaks
        // and shows them anew a beat later, unless something else was said (or the page changed)
        // meanwhile.
        if self
            .0
            .with_untracked(|shown| shown.as_ref() == Some(&announcement))
        {
            let this_one = self.show(None);
            set_timeout(
                move || {
                    if self.1.get_value() == this_one {
                        self.show(Some(announcement));
                    }
                },
                std::time::Duration::from_millis(REPEAT_AFTER_MS),
            );
            return;
        }
        self.show(Some(announcement));
    }

    /// Sets what the region shows; the count of changes after it.
    fn show(self, shown: Option<Announcement>) -> u64 {
        self.1.update_value(|changes| *changes += 1);
        self.0.set(shown);
        self.1.get_value()
    }

    /// Announces each outcome of `action`: `success` words what was done; a refusal or failure is
    /// announced in the error's words. Whichever followed action finished last speaks.
    pub fn follow<S>(
        self,
        action: ServerAction<S>,
        success: impl Fn(&S::Output) -> Announcement + 'static,
    ) where
        S: ServerFn<Error = ApiError> + Clone + Send + Sync + 'static,
        S::Output: Send + Sync + 'static,
    {
        Effect::new(move |_| {
            let said = action.value().with(|outcome| {
                outcome.as_ref().map(|result| match result {
                    Ok(value) => success(value),
                    Err(error) => Announcement::problem(error.to_string()),
                })
            });
            if let Some(announcement) = said {
                self.say(announcement);
            }
        });
    }
}

/// How long the region stays empty before the same announcement is made again: long enough for
/// the region's emptying to be drawn and seen by assistive technology.
const REPEAT_AFTER_MS: u64 = 150;

/// How long good news stays shown (it has been read out already). A problem stays until it is
/// dismissed or the member moves to another page: it may need reading twice.
const SUCCESS_SHOWN_FOR: std::time::Duration = std::time::Duration::from_secs(8);

/// The region itself. An announcement belongs to the page it was made on: moving to another page
/// clears it. Each can be dismissed; good news goes by itself.
#[component]
pub fn Toasts() -> impl IntoView {
    let announcer = Announcer::expect();
    super::on_page_change(move || {
        announcer.show(None);
    });
    // A timer set for one announcement never clears a later one: the announcer counts changes.
    Effect::new(move |_| {
        let good_news = announcer
            .0
            .with(|said| said.as_ref().is_some_and(|said| said.ok));
        if good_news {
            let this_one = announcer.1.get_value();
            set_timeout(
                move || {
                    if announcer.1.get_value() == this_one {
                        // Its Dismiss button may hold the focus: it goes on to the page.
                        let held = super::focus::focus_is_within(REGION_CLASS);
                        announcer.show(None);
                        if held {
                            super::focus_main();
                        }
                    }
                },
                SUCCESS_SHOWN_FOR,
            );
        }
    });
    // The button goes with the announcement: the focus goes on to the page, not to its top.
    let dismiss = move |_| {
        announcer.show(None);
        super::focus_main();
    };
    view! {
        <div class=REGION_CLASS role="status" aria-live="polite" data-testid="announcement">
            {move || {
                announcer
                    .0
                    .get()
                    .map(|said| {
                        view! {
                            <p class="toast" class:toast--error=!said.ok>
                                <span>{said.text}</span>
                                <button
                                    type="button"
                                    class="toast__dismiss"
                                    aria-label="Dismiss"
                                    data-testid="dismiss-announcement"
                                    on:click=dismiss
                                ></button>
                            </p>
                        }
                    })
            }}
        </div>
    }
}

/// The region's class: good news clearing itself hands the focus on if it is inside.
const REGION_CLASS: &str = "toast-region";
