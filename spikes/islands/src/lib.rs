//! A measurement, not product code: how large is a Leptos 0.8 *islands* bundle (the page rendered
//! on the server, WASM only for the interactive parts) whose islands are shaped like the
//! dashboard's: the allowlist editor (live CIDR check, add with a server function, a row's delete
//! confirmation, a pager), the invite form and the environment switcher. `measure` builds it four
//! ways (see the features in Cargo.toml) and prints each bundle's brotli size; the figures are in
//! docs/architecture.md ("Leptos islands, measured").
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub value: String,
    pub description: Option<String>,
    pub created_at: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub entries: Vec<Entry>,
    pub total: usize,
    pub offset: usize,
}

#[server(prefix = "/api", endpoint = "allowlist/add")]
pub async fn add_entry(
    value: String,
    description: String,
    confirm: Option<String>,
) -> Result<Entry, ServerFnError> {
    Ok(Entry {
        id: "x".into(),
        value,
        description: Some(description),
        created_at: String::new(),
    })
}

#[server(prefix = "/api", endpoint = "allowlist/delete")]
pub async fn delete_entry(id: String, confirm: Option<String>) -> Result<(), ServerFnError> {
    let _ = (id, confirm);
    Ok(())
}

#[server(prefix = "/api", endpoint = "allowlist/page")]
pub async fn allowlist_page(offset: usize) -> Result<Page, ServerFnError> {
    Ok(Page {
        entries: vec![],
        total: 0,
        offset,
    })
}

#[server(prefix = "/api", endpoint = "members/invite")]
pub async fn invite(email: String, roles: Vec<String>) -> Result<String, ServerFnError> {
    let _ = roles;
    Ok(email)
}

#[server(prefix = "/api", endpoint = "environment")]
pub async fn switch_environment(slug: String) -> Result<String, ServerFnError> {
    Ok(slug)
}

fn check_value(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("Enter an IP address or a CIDR range.".into());
    }
    if let Ok(net) = value.parse::<ipnet::IpNet>() {
        if net.trunc() != net {
            return Err(format!(
                "{value} has host bits set; did you mean {}?",
                net.trunc()
            ));
        }
        return Ok(net.to_string());
    }
    value
        .parse::<std::net::IpAddr>()
        .map(|ip| ip.to_string())
        .map_err(|_| format!("{value} is not an IP address or a CIDR range."))
}

#[cfg(not(any(feature = "baseline", feature = "one_island")))]
#[island]
pub fn AllowlistEditor(page: Page, production: bool) -> impl IntoView {
    let entries = RwSignal::new(page.entries);
    let total = RwSignal::new(page.total);
    let offset = RwSignal::new(page.offset);
    let value = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let confirming = RwSignal::new(None::<String>);
    let toast = RwSignal::new(None::<String>);
    let checked = Memo::new(move |_| {
        value.with(|v| {
            if v.is_empty() {
                None
            } else {
                Some(check_value(v))
            }
        })
    });
    let add = ServerAction::<AddEntry>::new();
    let delete = ServerAction::<DeleteEntry>::new();
    Effect::new(move |_| {
        if let Some(result) = add.value().get() {
            match result {
                Ok(entry) => {
                    toast.set(Some(format!("{} added", entry.value)));
                    entries.update(|list| list.insert(0, entry));
                    total.update(|t| *t += 1);
                    value.set(String::new());
                }
                Err(error) => toast.set(Some(error.to_string())),
            }
        }
    });
    let load = move |to: usize| {
        leptos::task::spawn_local(async move {
            match allowlist_page(to).await {
                Ok(page) => {
                    entries.set(page.entries);
                    total.set(page.total);
                    offset.set(page.offset);
                }
                Err(error) => toast.set(Some(error.to_string())),
            }
        })
    };
    view! {
        <form on:submit=move |ev| {
            ev.prevent_default();
            if let Some(Ok(v)) = checked.get_untracked() {
                add.dispatch(AddEntry { value: v, description: description.get_untracked(), confirm: production.then(|| "yes".into()) });
            }
        }>
            <label>"IP or CIDR" <input bind:value=value aria-invalid=move || matches!(checked.get(), Some(Err(_))).to_string() /></label>
            {move || checked.get().and_then(Result::err).map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
            <label>"Description" <input bind:value=description maxlength="255" /></label>
            <button type="submit" disabled=move || add.pending().get()>{move || if add.pending().get() { "Adding…" } else { "Add" }}</button>
        </form>
        <table>
            <tbody>
                <For each=move || entries.get() key=|e| e.id.clone() let:entry>
                    {
                        let id = entry.id.clone();
                        let shown = id.clone();
                        view! {
                            <tr>
                                <td>{entry.value.clone()}</td>
                                <td>{entry.description.clone().unwrap_or_default()}</td>
                                <td>{entry.created_at.clone()}</td>
                                <td>
                                    <button on:click=move |_| confirming.set(Some(id.clone()))>"Delete"</button>
                                    <Show when=move || confirming.get().as_deref() == Some(shown.as_str())>
                                        <div role="dialog" aria-modal="true">
                                            <p>"Delete this entry?"</p>
                                            <button on:click={
                                                let id = entry.id.clone();
                                                move |_| {
                                                    delete.dispatch(DeleteEntry { id: id.clone(), confirm: None });
                                                    entries.update(|l| l.retain(|e| e.id != id));
                                                    confirming.set(None);
                                                }
                                            }>"Delete"</button>
                                            <button on:click=move |_| confirming.set(None)>"Cancel"</button>
                                        </div>
                                    </Show>
                                </td>
                            </tr>
                        }
                    }
                </For>
            </tbody>
        </table>
        <nav>
            <button disabled=move || offset.get() == 0 on:click=move |_| load(offset.get_untracked().saturating_sub(100))>"Previous"</button>
            <span>{move || format!("{}–{} of {}", offset.get() + 1, (offset.get() + 100).min(total.get()), total.get())}</span>
            <button disabled=move || offset.get() + 100 >= total.get() on:click=move |_| load(offset.get_untracked() + 100)>"Next"</button>
        </nav>
        {move || toast.get().map(|t| view! { <div role="status" class="toast">{t}</div> })}
    }
}

#[cfg(not(any(feature = "baseline", feature = "one_island")))]
#[island]
pub fn InviteForm(roles: Vec<String>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<String>::new());
    let invite = ServerAction::<Invite>::new();
    let error = Memo::new(move |_| {
        email.with(|e| {
            (!e.is_empty() && !e.contains('@')).then(|| format!("{e} is not an email address."))
        })
    });
    view! {
        <form on:submit=move |ev| {
            ev.prevent_default();
            invite.dispatch(Invite { email: email.get_untracked(), roles: chosen.get_untracked() });
        }>
            <input type="email" bind:value=email />
            {move || error.get().map(|e| view! { <p role="alert">{e}</p> })}
            {roles.into_iter().map(|role| {
                let r = role.clone();
                view! { <label><input type="checkbox" on:change=move |_| chosen.update(|c| if let Some(i) = c.iter().position(|x| *x == r) { c.remove(i); } else { c.push(r.clone()) }) />{role}</label> }
            }).collect_view()}
            <button type="submit">"Invite"</button>
            {move || invite.value().get().map(|r| match r { Ok(e) => format!("Invited {e}"), Err(e) => e.to_string() })}
        </form>
    }
}

#[cfg(not(feature = "baseline"))]
#[island]
pub fn EnvironmentSwitcher(current: String, environments: Vec<String>) -> impl IntoView {
    #[cfg(not(feature = "no_server_function"))]
    let switch = ServerAction::<SwitchEnvironment>::new();
    let chosen = RwSignal::new(current.clone());
    view! {
        <p>{move || chosen.get()}</p>
        <select on:change=move |ev| { chosen.set(event_target_value(&ev)); #[cfg(not(feature = "no_server_function"))] switch.dispatch(SwitchEnvironment { slug: event_target_value(&ev) }); }>
            {environments.into_iter().map(|e| { let selected = e == current; view! { <option selected=selected>{e}</option> } }).collect_view()}
        </select>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
