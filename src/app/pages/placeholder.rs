use leptos::prelude::*;
use leptos_meta::Title;

/// The honest state of a page whose feature has not shipped yet: what it will hold, and that it is coming.
#[component]
pub fn NotBuiltYet(title: &'static str, summary: &'static str) -> impl IntoView {
    view! {
        <Title text=title />
        <header class="page-header">
            <h1>{title}</h1>
            <p class="muted">{summary}</p>
        </header>
        <section class="panel panel--empty" data-testid="not-built-yet">
            <h2>"Not built yet"</h2>
            <p>"This page is on its way. Nothing here reads or changes your platform yet."</p>
        </section>
    }
}
