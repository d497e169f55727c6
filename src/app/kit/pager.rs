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

/// The links to the neighbouring pages; `href` builds the URL of the page at an offset. The window
/// may change in place (a list paged in the browser): a link that still applies stays the same
/// element with a new address, so the keyboard focus on "Next" survives pressing it.
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
    let link = move |offset: Memo<Option<u64>>, label: &'static str| {
        view! {
            <Show when=move || offset.get().is_some()>
                <a
                    href=move || { offset.get().map(|offset| href.with_value(|href| href(offset))) }
                    class="button button--secondary"
                >
                    {label}
                </a>
            </Show>
        }
    };
    view! {
        <nav class="pagination" aria-label="Pages">
            {link(previous_offset, previous)}
            {link(next_offset, next)}
        </nav>
    }
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
