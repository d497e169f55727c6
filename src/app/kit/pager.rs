//! Paging through a long list whose position lives in the URL (`offset=`), so a shared link opens
//! the same page.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The `offset=` of the current URL (0 when absent or not a number), tracked.
pub fn use_offset_query() -> Memo<u64> {
    let query = use_query_map();
    Memo::new(move |_| {
        query.with(|query| {
            query
                .get("offset")
                .and_then(|offset| offset.parse::<u64>().ok())
                .unwrap_or(0)
        })
    })
}

/// Where one page of a list sits in the whole.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PageWindow {
    pub offset: u64,
    /// Rows on this page.
    pub shown: u64,
    pub total: u64,
    pub page_size: u64,
}

impl PageWindow {
    /// "11–20 of 42" (or "0 of 0").
    pub fn range(&self) -> String {
        if self.total == 0 {
            return "0 of 0".to_owned();
        }
        let last = (self.offset + self.shown).min(self.total);
        format!("{}–{last} of {}", self.offset + 1, self.total)
    }

    pub fn previous(&self) -> Option<u64> {
        (self.offset > 0).then(|| self.offset.saturating_sub(self.page_size))
    }

    pub fn next(&self) -> Option<u64> {
        (self.offset + self.shown < self.total).then_some(self.offset + self.page_size)
    }
}

/// Which of a pager's links was followed, while the next page loads.
#[derive(Clone, Copy, PartialEq)]
enum Step {
    Previous,
    Next,
}

thread_local! {
    /// Set when a pager's link is followed (with the address it leads to), taken by the next
    /// pager to mount, wherever it is. The page's list is rebuilt from its new read, pager
    /// included, and the link that had the keyboard focus goes with it: if that pager is at the
    /// address followed, its link takes the focus back, so a keyboard user pressing "Next" again
    /// and again stays on it. (Browser only: no link is followed while rendering on the server.)
    static FOLLOWED: std::cell::RefCell<Option<(Step, String)>> = const { std::cell::RefCell::new(None) };
}

/// The links to the neighbouring pages; `href` builds the URL of the page at an offset. After a
/// link is followed, the new page's pager has the focus on the same link, or on the other one when
/// the list ends there; its name says which rows are shown, so a screen reader reads the new
/// range with the link.
#[component]
pub fn Pager(
    #[prop(into)] window: Signal<PageWindow>,
    href: impl Fn(u64) -> String + Send + Sync + 'static,
    previous: &'static str,
    next: &'static str,
) -> impl IntoView {
    let href = StoredValue::new(href);
    let previous_offset = Memo::new(move |_| window.get().previous());
    let next_offset = Memo::new(move |_| window.get().next());
    let previous_link = NodeRef::<leptos::html::A>::new();
    let next_link = NodeRef::<leptos::html::A>::new();
    // Effects run in the browser only, once the links are in the document.
    Effect::new(move |_| {
        let (previous, next) = (previous_link.get(), next_link.get());
        // The links are not in place on the effect's first run; it runs again when they are. (A
        // pager with no link at all has nothing to give the focus to, and leaves it be.)
        if previous.is_none() && next.is_none() {
            return;
        }
        // Taken whatever happens next: a later rebuild of the same page (after a change, say)
        // must not move the focus.
        let Some((step, target)) = FOLLOWED.take() else {
            return;
        };
        // Only on the page the link led to, and only if the focus went with the old link: a
        // member who moved on (to a form, say) while the page loaded keeps their place.
        let here = window_location_href();
        if here.as_deref() != Some(target.as_str()) || !super::focus::focus_is_lost() {
            return;
        }
        let link = match step {
            Step::Previous => previous.or(next),
            Step::Next => next.or(previous),
        };
        if let Some(link) = link {
            let _ = link.focus();
        }
    });
    let link = move |offset: Memo<Option<u64>>, label: &'static str, step: Step| {
        let node_ref = match step {
            Step::Previous => previous_link,
            Step::Next => next_link,
        };
        view! {
            <Show when=move || offset.get().is_some()>
                // Remembered on a plain click only: a link opened elsewhere (a new tab, say)
                // leaves this page as it is.
                <a
                    node_ref=node_ref
                    href=move || { offset.get().map(|offset| href.with_value(|href| href(offset))) }
                    class="button button--secondary"
                    on:click=move |event| {
                        if event.button() == 0 && !event.ctrl_key() && !event.meta_key()
                            && !event.shift_key() && !event.alt_key()
                        {
                            if let Some(link) = node_ref.get_untracked() {
                                FOLLOWED.set(Some((step, link.href())));
                            }
                        }
                    }
                >
                    {label}
                </a>
            </Show>
        }
    };
    view! {
        <nav class="pagination" aria-label=move || format!("Pages, {} shown", window.get().range())>
            {link(previous_offset, previous, Step::Previous)}
            {link(next_offset, next, Step::Next)}
        </nav>
    }
}

/// The document's address, resolved as a link's `href` is. (A function of its own: inside
/// `Pager`, the `window` prop hides `leptos::prelude::window`.)
fn window_location_href() -> Option<String> {
    window().location().href().ok()
}

#[cfg(test)]
mod tests {
    use super::PageWindow;

    #[test]
    fn a_window_knows_its_range_and_neighbours() {
        let middle = PageWindow {
            offset: 10,
            shown: 10,
            total: 42,
            page_size: 10,
        };
        assert_eq!(middle.range(), "11–20 of 42");
        assert_eq!((middle.previous(), middle.next()), (Some(0), Some(20)));
        let last = PageWindow {
            offset: 40,
            shown: 2,
            total: 42,
            page_size: 10,
        };
        assert_eq!((last.range().as_str(), last.next()), ("41–42 of 42", None));
        let empty = PageWindow {
            offset: 0,
            shown: 0,
            total: 0,
            page_size: 10,
        };
        assert_eq!(
            (empty.range().as_str(), empty.previous(), empty.next()),
            ("0 of 0", None, None)
        );
    }
}
