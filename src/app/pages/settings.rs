//! Settings > General: the platform's profile (name, logo, support contacts) and each
//! environment's M2M client id. Members without `platform:manage` see the profile read-only.

use leptos::prelude::*;

use crate::{
    api::permissions::PLATFORM_MANAGE,
    api::{
        load_general_settings, ApiError, EnvironmentClient, GeneralSettings, PlatformProfile,
        UpdatePlatformProfile, NAME_MAX_CHARS,
    },
    app::kit::{
        Announcement, Announcer, CheckedField, CopyButton, DataTable, FormErrors, Loaded,
        PageHeader, ReadOnlyNotice, SectionFailed, ShellRefresh, SubmitButton, TextField,
    },
    domain::WebUrl,
};

#[component]
pub fn GeneralSettingsPage() -> impl IntoView {
    let save = ServerAction::<UpdatePlatformProfile>::new();
    let settings = Resource::new(move || save.version().get(), |_| load_general_settings());
    let draft = ProfileDraft::default();
    // A confirmed save shows what the API stored (it lower-cases an email's domain, trims);
    // a refused or failed one leaves what was typed for a retry.
    Effect::new(move |_| {
        if let Some(Ok(profile)) = save.value().get() {
            draft.fill(&profile);
        }
    });
    // The top bar names the platform.
    ShellRefresh::expect().follow(save);
    Announcer::expect().follow(save, |profile| {
        Announcement::success(format!("Saved the profile of {}.", profile.name))
    });

    view! {
        <PageHeader
            title="General"
            summary="How the platform presents itself, and the M2M client of each environment."
        />
        <Loaded resource=settings loading="Loading the platform's settings…" let:settings>
            <GeneralPanel settings draft save />
        </Loaded>
    }
}

/// The profile form as typed. It lives with the page: the form is rebuilt each time the
/// settings reload, after every save, failed ones included.
#[derive(Clone, Copy, Default)]
struct ProfileDraft {
    /// Filled from the stored profile once; from then on it is the member's.
    filled: RwSignal<bool>,
    name: RwSignal<String>,
    logo_url: RwSignal<String>,
    support_email: RwSignal<String>,
    support_url: RwSignal<String>,
}

impl ProfileDraft {
    fn fill(self, profile: &PlatformProfile) {
        self.name.set(profile.name.clone());
        self.logo_url
            .set(profile.logo_url.clone().unwrap_or_default());
        self.support_email
            .set(profile.support_email.clone().unwrap_or_default());
        self.support_url
            .set(profile.support_url.clone().unwrap_or_default());
        self.filled.set(true);
    }
}

#[component]
fn GeneralPanel(
    settings: GeneralSettings,
    draft: ProfileDraft,
    save: ServerAction<UpdatePlatformProfile>,
) -> impl IntoView {
    if !draft.filled.get_untracked() {
        draft.fill(&settings.profile);
    }
    let profile = if settings.can_manage {
        view! { <ProfileForm draft save /> }.into_any()
    } else {
        view! { <ProfileReadOnly profile=settings.profile /> }.into_any()
    };
    view! {
        {profile}
        <ClientsPanel clients=settings.clients />
    }
}

/// A logo address worth previewing: only `https`, as the form requires (and the page's CSP
/// allows no other remote image).
fn logo_preview(typed: &str) -> Option<String> {
    WebUrl::parse_https(typed).ok().map(String::from)
}

#[component]
fn ProfileForm(draft: ProfileDraft, save: ServerAction<UpdatePlatformProfile>) -> impl IntoView {
    let logo_problem = Signal::derive(move || {
        draft.logo_url.with(|typed| {
            (!typed.trim().is_empty())
                .then(|| WebUrl::parse_https(typed).err())
                .flatten()
        })
    });
    let preview = move || draft.logo_url.with(|typed| logo_preview(typed));
    view! {
        <section class="panel" aria-labelledby="profile-heading">
            <h2 id="profile-heading">"Platform profile"</h2>
            <ActionForm action=save attr:class="form" attr:data-testid="profile-form">
                <TextField
                    id="platform-name"
                    label="Name"
                    name="name"
                    value=draft.name
                    required=true
                    maxlength=NAME_MAX_CHARS
                />
                <CheckedField
                    id="platform-logo"
                    label="Logo URL (optional)"
                    name="logo_url"
                    value=draft.logo_url
                    problem=logo_problem
                    hint="An https:// address of a square image, shown on the overview."
                    hint_testid="logo-hint"
                    placeholder="https://cdn.example.com/logo.svg"
                />
                <div class="logo-preview" data-testid="logo-preview">
                    {move || match preview() {
                        Some(src) => {
                            view! { <img src=src alt="Logo preview" width="48" height="48" /> }
                                .into_any()
                        }
                        None => view! { <span class="muted">"No logo"</span> }.into_any(),
                    }}
                </div>
                <TextField
                    id="platform-support-email"
                    label="Support email (optional)"
                    name="support_email"
                    value=draft.support_email
                    no_spellcheck=true
                    placeholder="support@example.com"
                />
                <TextField
                    id="platform-support-url"
                    label="Support page URL (optional)"
                    name="support_url"
                    value=draft.support_url
                    no_spellcheck=true
                    placeholder="https://example.com/support"
                />
                <FormErrors action=save />
                <SubmitButton
                    label="Save profile"
                    busy="Saving…"
                    pending=save.pending()
                    disabled=Signal::derive(move || logo_problem.with(Option::is_some))
                    testid="save-profile"
                />
            </ActionForm>
        </section>
    }
}

#[component]
fn ProfileReadOnly(profile: PlatformProfile) -> impl IntoView {
    let shown = |value: Option<String>| value.unwrap_or_else(|| "Not set".to_owned());
    let logo = profile.logo_url.as_deref().and_then(logo_preview);
    view! {
        <section class="panel" aria-labelledby="profile-heading" data-testid="profile-read-only">
            <h2 id="profile-heading">"Platform profile"</h2>
            <dl class="details">
                <dt>"Name"</dt>
                <dd>{profile.name}</dd>
                <dt>"Logo"</dt>
                <dd>
                    {match logo {
                        Some(src) => {
                            view! { <img src=src alt="Platform logo" width="48" height="48" /> }
                                .into_any()
                        }
                        None => shown(profile.logo_url).into_any(),
                    }}
                </dd>
                <dt>"Support email"</dt>
                <dd>{shown(profile.support_email)}</dd>
                <dt>"Support page"</dt>
                <dd>{shown(profile.support_url)}</dd>
            </dl>
            <ReadOnlyNotice
                can="You can view the platform's profile."
                changing="Changing it"
                permission=PLATFORM_MANAGE
                held_by="the Platform Manager role"
            />
        </section>
    }
}

#[component]
fn ClientsPanel(clients: Result<Vec<EnvironmentClient>, ApiError>) -> impl IntoView {
    let body = match clients {
        Err(error) => view! { <SectionFailed what="the M2M clients" error /> }.into_any(),
        Ok(clients) if clients.is_empty() => {
            view! { <p class="muted">"No environments yet, so no M2M clients."</p> }.into_any()
        }
        Ok(clients) => view! {
            <DataTable
                label="M2M clients"
                testid="clients-table"
                columns=&["Environment", "Client id", "State"]
                actions=false
            >
                {clients.into_iter().map(|client| view! { <ClientRow client /> }).collect_view()}
            </DataTable>
        }
        .into_any(),
    };
    view! {
        <section class="panel" aria-labelledby="clients-heading">
            <h2 id="clients-heading">"M2M clients"</h2>
            <p class="muted">
                "Each environment's machine-to-machine application in Auth0: your backend signs in with its client id and secret. "
                "The secret is never shown here (the KeyStone API does not return it); it lives in your Auth0 tenant, under Applications, where it can be rotated."
            </p>
            {body}
        </section>
    }
}

#[component]
fn ClientRow(client: EnvironmentClient) -> impl IntoView {
    let what = format!("client id of {}", client.name);
    let state = if client.is_active {
        "Active"
    } else {
        "Deactivated"
    };
    view! {
        <tr data-testid="client-row" data-slug=client.slug.to_string()>
            <td>
                <strong>{client.name}</strong>
                <br />
                <span class="muted mono">{client.slug.to_string()}</span>
            </td>
            <td>
                <code class="mono" data-testid="client-id">
                    {client.client_id.clone()}
                </code>
                " "
                <CopyButton text=client.client_id label="Copy" what testid="copy-client-id" />
            </td>
            <td>{state}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_https_logo_is_previewed() {
        assert_eq!(
            logo_preview(" https://cdn.acme.example/logo.svg ").as_deref(),
            Some("https://cdn.acme.example/logo.svg")
        );
        assert_eq!(logo_preview("http://cdn.acme.example/logo.svg"), None);
        assert_eq!(logo_preview("javascript:alert(1)"), None);
        assert_eq!(logo_preview(""), None);
    }
}
