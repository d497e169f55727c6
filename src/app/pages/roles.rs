//! Team > Roles: each role, what it allows (a roles × permissions matrix) and who holds it.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::{load_roles, permission_label, RolesView},
    app::layout::LoadFailed,
};

#[component]
pub fn RolesPage() -> impl IntoView {
    let roles = Resource::new(|| (), |_| load_roles());
    view! {
        <Title text="Roles" />
        <header class="page-header">
            <h1>"Roles"</h1>
            <p class="muted">"Each role, what it allows, and how many members hold it."</p>
        </header>
        <Suspense fallback=|| view! { <p class="panel" aria-busy="true">"Loading roles…"</p> }>
            {move || Suspend::new(async move {
                match roles.await {
                    Ok(view) => view! { <RolesMatrix view /> }.into_any(),
                    Err(error) => view! { <LoadFailed error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn RolesMatrix(view: RolesView) -> impl IntoView {
    let RolesView {
        roles,
        member_counts,
        permissions,
    } = view;
    let columns = roles.clone();
    view! {
        <section class="cards">
            {roles.iter().zip(member_counts).map(|(role, count)| view! {
                <div class="card" data-testid="role-card">
                    <strong>{role.name.clone()}</strong>
                    <span class="muted">{role.description.clone()}</span>
                    <span>{format!("{count} members")}</span>
                </div>
            }).collect_view()}
        </section>
        <section class="panel">
            <table class="table matrix" data-testid="permission-matrix">
                <thead><tr>
                    <th scope="col">"Permission"</th>
                    {columns.iter().map(|role| view! { <th scope="col">{role.name.clone()}</th> }).collect_view()}
                </tr></thead>
                <tbody>
                    {permissions.into_iter().map(|permission| {
                        let cells = columns.iter().map(|role| {
                            let granted = role.permissions.contains(&permission);
                            view! {
                                <td class:granted=granted>
                                    {if granted { "✓" } else { "—" }}
                                    <span class="visually-hidden">{if granted { " granted" } else { " not granted" }}</span>
                                </td>
                            }
                        }).collect_view();
                        view! {
                            <tr>
                                <th scope="row">{permission_label(&permission).to_owned()}<br /><span class="mono muted">{permission.clone()}</span></th>
                                {cells}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}
