//! Creating an environment: its name, a slug checked as it is typed, its M2M client and defaults.

use leptos::prelude::*;

use super::Drafts;
use crate::{
    api::CreateEnvironment,
    app::kit::{CheckedField, FormErrors, SubmitButton, TextField},
    domain::EnvironmentSlug,
};

#[derive(Clone, Copy, Default)]
pub(super) struct NewEnvironment {
    name: RwSignal<String>,
    slug: RwSignal<String>,
    client_id: RwSignal<String>,
    timeout: RwSignal<String>,
    webhook: RwSignal<String>,
    webhook_secret: RwSignal<String>,
}

impl NewEnvironment {
    pub(super) fn clear(self) {
        for field in [
            self.name,
            self.slug,
            self.client_id,
            self.timeout,
            self.webhook,
            self.webhook_secret,
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
    view! {
        <section class="panel">
            <h2>"Create an environment"</h2>
            <ActionForm action attr:class="form" attr:data-testid="create-environment-form">
                <TextField
                    id="environment-name"
                    label="Name"
                    name="name"
                    value=draft.name
                    required=true
                    placeholder="QA"
                />
                <CheckedField
                    id="environment-slug"
                    label="Slug"
                    name="slug"
                    value=slug
                    problem=Signal::derive(slug_problem)
                    hint="Lowercase letters, digits and hyphens. It never changes."
                    hint_testid="slug-hint"
                    required=true
                    placeholder="qa"
                />
                <TextField
                    id="environment-client"
                    label="M2M client id (Auth0)"
                    name="auth0_client_id"
                    value=draft.client_id
                    required=true
                    no_spellcheck=true
                />
                <TextField
                    id="environment-timeout"
                    label="Default timeout (seconds, 60 to 604800)"
                    name="default_timeout_seconds"
                    value=draft.timeout
                    inputmode="numeric"
                    placeholder="3600"
                />
                <TextField
                    id="environment-webhook"
                    label="Webhook URL (optional)"
                    name="webhook_url"
                    value=draft.webhook
                    no_spellcheck=true
                />
                <TextField
                    id="environment-webhook-secret"
                    label="Webhook signing secret (optional; it cannot be read back)"
                    name="webhook_secret"
                    value=draft.webhook_secret
                    secret=true
                />
                <FormErrors action=action />
                <SubmitButton
                    label="Create environment"
                    busy="Creating…"
                    pending=action.pending()
                    disabled=Signal::derive(move || slug_problem().is_some())
                    testid="create-environment"
                />
            </ActionForm>
        </section>
    }
    .into_any()
}
