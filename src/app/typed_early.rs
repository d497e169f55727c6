//! What a member typed before the page was interactive survives hydration.
//!
//! A server-rendered form takes typing from its first paint, seconds before its WASM has arrived
//! on a slow link (about 3 s on the bench's first visit). Hydrating a bound field (`bind:value`,
//! `bind:checked`) sets its property from the signal, which holds what the server rendered, so the
//! typing was wiped, silently. Instead, the fields' values are noted from the moment hydration
//! starts (those already edited, then every edit by a listener on the document, which hears
//! events before any field's own handler exists) and, once the page is hydrated, each field that
//! hydration put back to what the server rendered is given what was last typed into it, with the
//! event typing fires, so that the bound signals (and what derives from them: a field's live
//! check, say) learn it. A field that shows anything else was changed since by the page itself
//! (a "Use 198.51.100.0/24" button, say, live before the rest), and keeps it.

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
    time::Duration,
};

use leptos::prelude::{document, request_animation_frame, set_timeout};
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{
    Element, Event, EventInit, HtmlInputElement, HtmlOptionElement, HtmlSelectElement,
    HtmlTextAreaElement,
};

/// What the note-taking listens to: the events typing fires, and a form sent (after which what it
/// held is the page's business: a saved form is emptied, and must stay so).
const LISTENED_EVENTS: [&str; 3] = ["input", "change", "submit"];
/// How long after hydration a field's reset is looked for.
const RESTORE_FOR: Duration = Duration::from_secs(2);

#[derive(Clone, PartialEq)]
enum FieldValue {
    Text(String),
    Checked(bool),
}

/// A field's value now and as the server rendered it; `None` for what is not typed into.
fn field_value(element: &Element) -> Option<(FieldValue, FieldValue)> {
    if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
        return match input.type_().as_str() {
            "checkbox" | "radio" => Some((
                FieldValue::Checked(input.checked()),
                FieldValue::Checked(input.default_checked()),
            )),
            // Buttons and hidden fields are not typed into; a file cannot be set from script.
            "hidden" | "submit" | "button" | "reset" | "image" | "file" => None,
            _ => Some((
                FieldValue::Text(input.value()),
                FieldValue::Text(input.default_value()),
            )),
        };
    }
    if let Some(area) = element.dyn_ref::<HtmlTextAreaElement>() {
        return Some((
            FieldValue::Text(area.value()),
            FieldValue::Text(area.default_value().unwrap_or_default()),
        ));
    }
    // A multiple choice is not one value; none of the pages has one.
    let select = element
        .dyn_ref::<HtmlSelectElement>()
        .filter(|select| !select.multiple())?;
    let options = select.options();
    // The option marked selected, else the first, as a browser shows a fresh page.
    let options: Vec<HtmlOptionElement> = (0..options.length())
        .filter_map(|index| options.item(index)?.dyn_into().ok())
        .collect();
    let rendered = options
        .iter()
        .find(|option| option.default_selected())
        .or(options.first())
        .map(HtmlOptionElement::value)
        .unwrap_or_default();
    Some((FieldValue::Text(select.value()), FieldValue::Text(rendered)))
}

fn is_radio(element: &Element) -> bool {
    element
        .dyn_ref::<HtmlInputElement>()
        .is_some_and(|input| input.type_() == "radio")
}

fn set_field_value(element: &Element, value: &FieldValue) {
    match value {
        FieldValue::Checked(checked) => {
            if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
                input.set_checked(*checked);
            }
        }
        FieldValue::Text(text) => {
            if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
                input.set_value(text);
            } else if let Some(area) = element.dyn_ref::<HtmlTextAreaElement>() {
                area.set_value(text);
            } else if let Some(select) = element.dyn_ref::<HtmlSelectElement>() {
                select.set_value(text);
            }
        }
    }
}

type Typed = Rc<RefCell<Vec<(Element, FieldValue)>>>;

fn note(typed: &Typed, element: Element, value: FieldValue) {
    let mut typed = typed.borrow_mut();
    match typed.iter_mut().find(|(noted, _)| *noted == element) {
        Some((_, noted)) => *noted = value,
        None => typed.push((element, value)),
    }
}

/// Notes what is typed while the page hydrates; [`TypedEarly::restore`] once it has.
pub struct TypedEarly {
    typed: Typed,
    listener: Closure<dyn FnMut(Event)>,
}

impl TypedEarly {
    pub fn watch() -> Self {
        let typed = Typed::default();
        if let Ok(fields) = document().query_selector_all("input, textarea, select") {
            for index in 0..fields.length() {
                let Some(element) = fields.item(index).and_then(|node| node.dyn_into().ok()) else {
                    continue;
                };
                if let Some((now, rendered)) = field_value(&element) {
                    if now != rendered {
                        note(&typed, element, now);
                    }
                }
            }
        }
        let listener = Closure::<dyn FnMut(Event)>::new({
            let typed = typed.clone();
            move |event: Event| {
                let Some(element) = event
                    .target()
                    .and_then(|target| target.dyn_into::<Element>().ok())
                else {
                    return;
                };
                if event.type_() == "submit" {
                    typed
                        .borrow_mut()
                        .retain(|(field, _)| !element.contains(Some(field)));
                    return;
                }
                if let Some((now, _)) = field_value(&element) {
                    note(&typed, element, now);
                }
            }
        });
        for kind in LISTENED_EVENTS {
            // Capturing: heard before any handler of the field's, hydrated or not.
            let _ = document().add_event_listener_with_callback_and_bool(
                kind,
                listener.as_ref().unchecked_ref(),
                true,
            );
        }
        Self { typed, listener }
    }

    /// Once the page has hydrated: gives each field that hydration put back to its
    /// server-rendered value what was last typed into it, and tells its handlers as typing
    /// would (`input` for text, `change` for a box, a radio button turned on, or a choice).
    /// Looked at every frame for two seconds, not once: a page's suspended parts (its forms
    /// among them) hydrate a few frames after the rest, as their data resolves.
    pub fn restore(self) {
        let expired = Rc::new(Cell::new(false));
        set_timeout(
            {
                let expired = expired.clone();
                move || expired.set(true)
            },
            RESTORE_FOR,
        );
        self.each_frame(expired);
    }

    fn each_frame(self, expired: Rc<Cell<bool>>) {
        self.restore_reset_fields();
        if expired.get() || self.typed.borrow().is_empty() {
            for kind in LISTENED_EVENTS {
                let _ = document().remove_event_listener_with_callback_and_bool(
                    kind,
                    self.listener.as_ref().unchecked_ref(),
                    true,
                );
            }
            return;
        }
        request_animation_frame(move || self.each_frame(expired));
    }

    fn restore_reset_fields(&self) {
        let mut reset = Vec::new();
        // A field restored (or gone, or set by the page) is done with; one still showing what
        // was typed may yet be reset by its part's hydration.
        self.typed.borrow_mut().retain(|(element, typed)| {
            let Some((now, rendered)) = field_value(element).filter(|_| element.is_connected())
            else {
                return false;
            };
            if now == *typed {
                return true;
            }
            // A radio button turned off follows from the one turned on in its group.
            if now == rendered && !(*typed == FieldValue::Checked(false) && is_radio(element)) {
                reset.push((element.clone(), typed.clone()));
            }
            false
        });
        // Outside the borrow: the events reach the note-taking listener, still listening.
        for (element, typed) in reset {
            set_field_value(&element, &typed);
            let kind = match typed {
                FieldValue::Text(_) if element.is_instance_of::<HtmlSelectElement>() => "change",
                FieldValue::Text(_) => "input",
                FieldValue::Checked(_) => "change",
            };
            let init = EventInit::new();
            init.set_bubbles(true);
            if let Ok(event) = Event::new_with_event_init_dict(kind, &init) {
                let _ = element.dispatch_event(&event);
            }
        }
    }
}
