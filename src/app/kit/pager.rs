//! Paging through a long list whose position lives in the URL (`offset=`), so a shared link opens
//! the same page.

use leptos::prelude::*;

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

/// The links to the neighbouring pages; `href` builds the URL of the page at an offset.
#[component]
pub fn Pager(
    window: PageWindow,
    href: impl Fn(u64) -> String,
    previous: &'static str,
    next: &'static str,
) -> impl IntoView {
    let previous_href = window.previous().map(&href);
    let next_href = window.next().map(&href);
    view! {
        <nav class="pagination" aria-label="Pages">
            {previous_href
                .map(|href| {
                    view! {
                        <a href=href class="button button--secondary">
                            {previous}
                        </a>
                    }
                })}
            {next_href
                .map(|href| {
                    view! {
                        <a href=href class="button button--secondary">
                            {next}
                        </a>
                    }
                })}
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
