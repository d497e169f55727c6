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

/// Focus without scrolling: a member who scrolled away meanwhile is not taken back. Browser only.
#[cfg(not(feature = "ssr"))]
pub fn focus_quietly(element: &leptos::web_sys::Element) {
    use leptos::wasm_bindgen::JsCast;
    if let Some(element) = element.dyn_ref::<leptos::web_sys::HtmlElement>() {
        let options = leptos::web_sys::FocusOptions::new();
        options.set_prevent_scroll(true);
        let _ = element.focus_with_options(&options);
    }
}

/// The elements `selector` finds, in document order. Browser only.
#[cfg(not(feature = "ssr"))]
pub fn elements(selector: &str) -> Vec<leptos::web_sys::Element> {
    use leptos::wasm_bindgen::JsCast;
    let Ok(found) = document().query_selector_all(selector) else {
        return Vec::new();
    };
    (0..found.length())
        .filter_map(|index| found.item(index)?.dyn_into().ok())
        .collect()
}

/// The nearest element of class `class` around what has the focus. Browser only.
#[cfg(not(feature = "ssr"))]
fn focused_inside(class: &str) -> Option<leptos::web_sys::Element> {
    document()
        .active_element()?
        .closest(&format!(".{class}"))
        .ok()
        .flatten()
}

/// Whether the focus is inside the element of class `class`. False on the server.
pub fn focus_is_within(class: &str) -> bool {
    #[cfg(not(feature = "ssr"))]
    {
        focused_inside(class).is_some()
    }
    #[cfg(feature = "ssr")]
    {
        let _ = class;
        false
    }
}

/// Whether the focus is in the inline dialog whose button has `testid` (one kind of row dialog:
/// "resend"). False on the server.
pub fn focus_is_in_dialog(testid: &str) -> bool {
    #[cfg(not(feature = "ssr"))]
    {
        focused_inside(super::dialog::DIALOG_CLASS)
            .and_then(|dialog| {
                dialog
                    .query_selector(&format!("[data-testid=\"{testid}\"]"))
                    .ok()
                    .flatten()
            })
            .is_some()
    }
    #[cfg(feature = "ssr")]
    {
        let _ = testid;
        false
    }
}

/// [`focus_main`], unless the member moved on: only when the focus is lost or still inside the
/// element of class `class` (the part of the page that is going away).
pub fn focus_main_from(class: &str) {
    if focus_is_lost() || focus_is_within(class) {
        focus_main();
    }
}

/// Hands the focus to the page's main region (the skip link's target, which shows no ring): for a
/// control that went with what it acted on (a dismissed panel or announcement), so that the next
/// Tab starts from the page's content, not its top. Nothing on the server.
pub fn focus_main() {
    focus_field("main");
}

/// Hands the focus to the element `id`: a form field that a change put something back in (the
/// member's next step), the page's main region. Nothing on the server.
pub fn focus_field(id: &str) {
    #[cfg(not(feature = "ssr"))]
    {
        use leptos::wasm_bindgen::JsCast;
        if let Some(field) = document()
            .get_element_by_id(id)
            .and_then(|field| field.dyn_into::<leptos::web_sys::HtmlElement>().ok())
        {
            let _ = field.focus();
        }
    }
    #[cfg(feature = "ssr")]
    let _ = id;
}

/// Hands the focus to the first usable button of the table row whose `attribute` is `value`, or
/// to the page's main region when no row has it. For a control that takes itself off the page
/// (a panel's dismiss button): the focus would fall to the page's top, and the next Tab start
/// there. Scrolls to it, unlike [`focus_quietly`]: the member asked to move on. Nothing on the
/// server, where nothing is clicked.
pub fn focus_row(attribute: &str, value: &str) {
    #[cfg(not(feature = "ssr"))]
    {
        use leptos::wasm_bindgen::JsCast;
        let row = elements(&format!("tr[{attribute}]"))
            .into_iter()
            .find(|row| row.get_attribute(attribute).as_deref() == Some(value));
        let button = row
            .and_then(|row| row.query_selector("button:not([disabled])").ok().flatten())
            .and_then(|button| button.dyn_into::<leptos::web_sys::HtmlElement>().ok());
        match button {
            Some(button) => {
                let _ = button.focus();
            }
            None => focus_main(),
        }
    }
    #[cfg(feature = "ssr")]
    let _ = (attribute, value);
}

/// Runs `then` a frame after `element` has left the document, or now stands for something else
/// (the list holding it was rebuilt, and the rebuilt rows' effects have run), or never if it is
/// still there ten seconds on (a list that did not reload). `identity` is the attribute that says
/// what it stands for: a rebuilt list patches the elements it keeps in place, so the element of
/// a row that went may stay in the page as the row that moved up into its place. Browser only.
#[cfg(not(feature = "ssr"))]
pub fn once_gone(
    element: leptos::web_sys::Element,
    identity: &'static str,
    then: impl FnOnce() + 'static,
) {
    use std::{cell::Cell, rc::Rc};
    fn wait(
        element: leptos::web_sys::Element,
        gone: impl Fn(&leptos::web_sys::Element) -> bool + 'static,
        expired: Rc<Cell<bool>>,
        then: impl FnOnce() + 'static,
    ) {
        request_animation_frame(move || {
            if expired.get() {
                return;
            }
            if gone(&element) {
                request_animation_frame(then);
            } else {
                wait(element, gone, expired, then);
            }
        });
    }
    let was = element.get_attribute(identity);
    let gone = move |element: &leptos::web_sys::Element| {
        !element.is_connected() || element.get_attribute(identity) != was
    };
    let expired = Rc::new(Cell::new(false));
    set_timeout(
        {
            let expired = expired.clone();
            move || expired.set(true)
        },
        std::time::Duration::from_secs(10),
    );
    wait(element, gone, expired, then);
}
