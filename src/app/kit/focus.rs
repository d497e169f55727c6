//! Where the keyboard's focus goes when the page rebuilds under it.

use leptos::prelude::*;

/// True when nothing on the page has the focus (it fell back to `<body>`, as it does when the
/// element holding it is removed or hidden). Only then does a rebuilt page move it: a member who
/// moved on while the page loaded keeps their place. Browser only (effects).
pub fn focus_is_lost() -> bool {
    document()
        .active_element()
        .is_none_or(|element| element.tag_name().eq_ignore_ascii_case("body"))
}
