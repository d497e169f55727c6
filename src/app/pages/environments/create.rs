//! Creating an environment: its name, a slug checked as it is typed, its M2M client and defaults.

use leptos::prelude::*;

use super::Drafts;
use crate::{
    api::{ApiError, CreateEnvironment},
    app::kit::SubmitButton,
    domain::EnvironmentSlug,
};

#[derive(Clone, Copy, Default)]
pub(super) struct NewEnvironment {
    name: RwSignal<String>,
    slug: RwSignal<String>,
    client_id: RwSignal<String>,
    timeout: RwSignal<String>,
    webhook: RwSignal<String>,
}

impl NewEnvironment {
    pub(super) fn clear(self) {
        for field in [
            self.name,
            self.slug,
            self.client_id,
            self.timeout,
            self.webhook,
        ] {
            field.set(String::new());
        }
    }
}

#[component]
pub(super) fn CreateEnvironmentForm(action: ServerAction<CreateEnvironment>) -> impl IntoView {
    let draft = expect_context::<Drafts>().create;
    let slug = draft.slug;
    let slug_problem = move || {
        let typed = slug.get();
        (!typed.is_empty())
            .then(|| EnvironmentSlug::parse(typed.trim()).err())
            .flatten()
            .map(|error| format!("The slug is not valid: {error}."))
    };
    let field_errors = move || match action.value().get() {
        Some(Err(ApiError::Validation(fields))) => fields,
        _ => Vec::new(),
    };
    view! {
        <section class="panel">
            <h2>"Create an environment"</h2>
            <ActionForm action attr:class="form" attr:data-testid="create-environment-form">
                <label for="environment-name">"Name"</label>
                <input
                    id="environment-name"
                    type="text"
                    name="name"
                    required=true
                    placeholder="QA"
                    bind:value=draft.name
                />
                <label for="environment-slug">"Slug"</label>
                <input
                    id="environment-slug"
                    type="text"
                    name="slug"
                    required=true
                    placeholder="qa"
                    spellcheck="false"
                    bind:value=slug
                    aria-invalid=move || slug_problem().is_some().to_string()
                    aria-describedby="environment-slug-hint"
                />
                <p id="environment-slug-hint" class="hint" class:hint--error=move || slug_problem().is_some() data-testid="slug-hint">
                    {move || slug_problem().unwrap_or_else(|| "Lowercase letters, digits and hyphens. It never changes.".to_owned())}
                </p>
                <label for="environment-client">"M2M client id (Auth0)"</label>
                <input
                    id="environment-client"
                    type="text"
                    name="auth0_client_id"
                    required=true
                    spellcheck="false"
                    bind:value=draft.client_id
                />
                <label for="environment-timeout">"Default timeout (seconds, 60 to 604800)"</label>
                <input
                    id="environment-timeout"
                    type="text"
                    inputmode="numeric"
                    name="default_timeout_seconds"
                    placeholder="3600"
                    bind:value=draft.timeout
                />
                <label for="environment-webhook">"Webhook URL (optional)"</label>
                <input
                    id="environment-webhook"
                    type="text"
                    name="webhook_url"
                    bind:value=draft.webhook
                />
                <ul class="form-errors" role="alert">
                    {move || field_errors().into_iter().map(|error| view! { <li class="form-error">{error.message}</li> }).collect_view()}
                </ul>
                <SubmitButton label="Create environment" busy="Creating…" pending=action.pending() disabled=Signal::derive(move || slug_problem().is_some()) testid="create-environment" />
            </ActionForm>
        </section>
    }
    .into_any()
}
