//! Team > Roles: each role, what it allows (a roles × permissions matrix) and who holds it.

use leptos::prelude::*;

use crate::{
    api::{load_roles, permission_label, Role, RolesView},
    app::kit::{count_of, Loaded, PageHeader, SectionFailed, TableScroll},
};

#[component]
pub fn RolesPage() -> impl IntoView {
    let roles = Resource::new(|| (), |_| load_roles());
    view! {
        <PageHeader
            title="Roles"
            summary="Each role, what it allows, and how many members hold it."
        />
        <Loaded resource=roles loading="Loading roles…" let:view>
            <RolesMatrix view />
        </Loaded>
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
    let (counts, counts_failed) = match member_counts {
        Ok(counts) => (counts.into_iter().map(Some).collect(), None),
        Err(error) => (vec![None; roles.len()], Some(error)),
    };
    let matrix = match permissions {
        Some(permissions) => view! { <PermissionMatrix columns permissions /> }.into_any(),
        None => view! {
            <section class="panel">
                <p class="muted" data-testid="permissions-unknown">
                    "The KeyStone API does not say what these roles grant, so there is no permission matrix. Each role's description says what it is for; the API decides what each action needs."
                </p>
            </section>
        }
        .into_any(),
    };
    view! {
        {counts_failed
            .map(|error| {
                view! {
                    <SectionFailed
                        what="the members, so the roles are shown without counts"
                        error
                    />
                }
            })}
        <section class="cards">
            {roles
                .iter()
                .zip(counts)
                .map(|(role, count)| {
                    view! {
                        <div class="card" data-testid="role-card">
                            <strong>{role.name.clone()}</strong>
                            <span class="muted">{role.description.clone()}</span>
                            {count
                                .map(|count| {
                                    view! {
                                        <span>{count_of(count as u64, "member", "members")}</span>
                                    }
                                })}
                        </div>
                    }
                })
                .collect_view()}
        </section>
        {matrix}
    }
    .into_any()
}

#[component]
fn PermissionMatrix(columns: Vec<Role>, permissions: Vec<String>) -> impl IntoView {
    view! {
        <section class="panel">
            <TableScroll label="Permissions of each role">
                <table class="table matrix" data-testid="permission-matrix">
                    <thead>
                        <tr>
                            <th scope="col">"Permission"</th>
                            {columns
                                .iter()
                                .map(|role| view! { <th scope="col">{role.name.clone()}</th> })
                                .collect_view()}
                        </tr>
                    </thead>
                    <tbody>
                        {permissions
                            .into_iter()
                            .map(|permission| {
                                let cells = columns
                                    .iter()
                                    .map(|role| {
                                        let granted = role
                                            .permissions
                                            .as_ref()
                                            .map(|granted| granted.contains(&permission));
                                        let (mark, said) = match granted {
                                            Some(true) => ("✓", " granted"),
                                            Some(false) => ("—", " not granted"),
                                            None => ("?", " not published"),
                                        };
                                        view! {
                                            <td class:granted=granted
                                                == Some(
                                                    true,
                                                )>{mark} <span class="visually-hidden">{said}</span></td>
                                        }
                                    })
                                    .collect_view();
                                view! {
                                    <tr>
                                        <th scope="row">
                                            {permission_label(&permission).to_owned()}<br />
                                            <span class="mono muted">{permission.clone()}</span>
                                        </th>
                                        {cells}
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </TableScroll>
        </section>
    }
}
