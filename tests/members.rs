//! Members, invitations and roles through the server functions against the real sandbox.

mod common;

use std::time::Duration;

use common::{set_faults, spawn_app, status, until, Browser, TestApp};
use keystone_dashboard::api::{
    confirmation_code, removal_warning, resend_warning, revocation_warning, ActivityFilters,
    ApiError, ChangeMemberRoles, InviteMembers, InviteOutcome, Listed, LoadActivity, LoadMembers,
    LoadRoles, Member, MembersView, RemoveMember, ResendInvitation, RevokeInvitation,
    MAX_INVITATIONS,
};
use keystone_dashboard::domain::encode_component;
use reqwest::StatusCode;
use serde_json::json;

async fn manager(app: &TestApp) -> Browser {
    let browser = app.browser();
    browser.sign_in().await;
    browser
}

async fn members(browser: &Browser, search: Option<&str>, offset: Option<u64>) -> MembersView {
    browser
        .call(LoadMembers {
            search: search.map(str::to_owned),
            offset,
        })
        .await
        .unwrap()
}

async fn role_id(browser: &Browser, name: &str) -> String {
    let view = members(browser, None, None).await;
    view.roles
        .unwrap()
        .into_iter()
        .find(|role| role.name == name)
        .unwrap()
        .id
}

async fn member(browser: &Browser, email: &str) -> Option<Member> {
    members(browser, Some(email), None)
        .await
        .members
        .into_iter()
        .filter_map(Listed::parsed)
        .find(|member| member.email.as_deref() == Some(email))
}

fn change_roles(user_id: &str, role_ids: &[&str]) -> ChangeMemberRoles {
    ChangeMemberRoles {
        user_id: user_id.to_owned(),
        role_ids: role_ids.iter().map(|id| (*id).to_owned()).collect(),
    }
}

fn invite(emails: &str, role_ids: &[&str]) -> InviteMembers {
    InviteMembers {
        emails: emails.to_owned(),
        role_ids: role_ids.iter().map(|id| (*id).to_owned()).collect(),
        send_email: true,
    }
}

fn remove(user_id: &str, confirm: Option<&str>) -> RemoveMember {
    RemoveMember {
        user_id: user_id.to_owned(),
        confirm: confirm.map(str::to_owned),
    }
}

fn outcomes(outcomes: &[InviteOutcome]) -> Vec<(&str, bool)> {
    outcomes
        .iter()
        .map(|outcome| (outcome.email.as_str(), outcome.result.is_ok()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_are_searched_and_paged_and_guardrails_are_known() {
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.seed_members = 988)
        .spawn()
        .await;
    let browser = manager(&app).await;
    let view = members(&browser, None, Some(950)).await;
    assert_eq!(view.total, 1000, "12 seeded people plus 988 generated");
    assert_eq!(view.offset, 950);
    let html = browser
        .get("/members?offset=950")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("951–1000 of 1000"),
        "the last page, server-rendered from the URL"
    );
    assert!(html.contains("← Previous") && !html.contains("Next →"));
    assert_eq!(view.members.len(), 50);
    assert!(view.can_manage);
    assert_eq!(view.me, common::ADA);
    assert!(view.manager_count.unwrap() >= 2);
    assert_eq!(view.invitations.unwrap().len(), 2);
    assert_eq!(members(&browser, Some("grace"), None).await.total, 1);
    let html = browser
        .get("/members?search=grace")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("grace@acme-markets.example"),
        "server-rendered from the URL"
    );
    let own_row = browser
        .get("/members?search=ada%40")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        own_row.contains("You cannot change or remove yourself"),
        "the guardrail is explained on Ada's own row"
    );
}

/// How many times the API was asked for a page of members since the counters were reset.
async fn member_list_reads(app: &TestApp) -> usize {
    let stats = common::sandbox_stats(&app.sandbox_url).await;
    stats["recent_requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|request| {
            request["method"] == "GET" && request["path"] == "/v1/platforms/me/members"
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manager_count_is_remembered_briefly_and_recounted_after_a_change() {
    // Sorted by name, Grace (the second Platform Manager) comes after the 988 generated members.
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.seed_members = 988)
        .spawn()
        .await;
    let browser = manager(&app).await;
    let developer = role_id(&browser, "Developer").await;
    let viewer = role_id(&browser, "Viewer").await;
    let ben = member(&browser, "ben@acme-markets.example").await.unwrap();

    // Counted already (above); the next renders reuse the count: one read, the page itself.
    common::reset_sandbox_stats(&app.sandbox_url).await;
    assert_eq!(members(&browser, None, None).await.manager_count, Some(2));
    assert_eq!(member_list_reads(&app).await, 1);

    // A role change through this replica makes the next render count again, through every page.
    browser
        .call(change_roles(&ben.user_id, &[&developer, &viewer]))
        .await
        .unwrap();
    common::reset_sandbox_stats(&app.sandbox_url).await;
    assert_eq!(members(&browser, None, None).await.manager_count, Some(2));
    let reads = member_list_reads(&app).await;
    assert_eq!(
        reads,
        1 + 10,
        "the page, then 1,000 members 100 at a time (the most the API is asked for): {reads}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_members_page_stands_when_the_managers_cannot_be_counted() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    // The count's read of the list (100 at a time), not the page's own (50).
    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "path_prefix": "/v1/platforms/me/members?limit=100&offset=0",
                            "action": { "kind": "status", "status": 503 } }] }),
    )
    .await;
    let view = members(&browser, None, None).await;
    assert!(!view.members.is_empty());
    assert_eq!(view.manager_count, None, "not counted, and not guessed");
    let html = browser.get("/members").await.text().await.unwrap();
    assert!(html.contains("data-testid=\"members-table\""), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_change_whose_browser_hung_up_still_has_the_managers_counted_again() {
    // Ada makes Grace a Developer and leaves the page before the reply: the API has applied the
    // change, and her request ends with her connection. The guardrails must not go on counting
    // Grace among the managers.
    let app = spawn_app().await;
    let browser = manager(&app).await;
    assert_eq!(members(&browser, None, None).await.manager_count, Some(2));
    let developer = role_id(&browser, "Developer").await;
    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "method": "PATCH", "path_prefix": "/v1/platforms/me/members/",
                            "times": 1,
                            "action": { "kind": "delay_after_apply", "ms": 10_000 } }] }),
    )
    .await;
    let grace_roles = || {
        app.sandbox().state.store.read(|data| {
            data.memberships
                .iter()
                .find(|membership| membership.user_id == "auth0|acme-grace")
                .map(|membership| membership.role_ids.clone())
        })
    };
    // Once the API has applied the change, while its reply is still on its way.
    browser
        .call_then_hang_up(
            change_roles("auth0|acme-grace", &[&developer]),
            until(|| grace_roles() == Some(vec![developer.clone()])),
        )
        .await;
    // The server sees the connection closed at once; the API's reply would come after 10 s, and
    // without a forget the remembered count stays 2 for 30.
    let mut counted = None;
    for _ in 0..40 {
        counted = members(&browser, None, None).await.manager_count;
        if counted == Some(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(counted, Some(1));
}

/// Asked past the end (the last member of the last page was just removed, an old link), the list
/// shows its last page, not "51–50 of 50" and an empty table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_past_the_end_shows_the_last_page() {
    let app = TestApp::builder()
        .sandbox(|sandbox| sandbox.seed_members = 120)
        .spawn()
        .await;
    let browser = manager(&app).await;
    let first = members(&browser, None, None).await;
    let last_start = (first.total - 1) / 50 * 50;
    let past = members(&browser, None, Some(first.total + 50)).await;
    assert_eq!(past.offset, last_start);
    assert_eq!(past.members.len() as u64, first.total - last_start);
}

/// A list longer than one form sends is refused whole, before any invitation is sent; the split
/// of a paste as long as the body limit allows is linear (a repeat check that compared each
/// address with every earlier one held a worker for minutes on such a paste).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_of_more_people_than_one_form_invites_is_refused_and_sends_nothing() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let viewer = role_id(&browser, "Viewer").await;
    let invitations_before = app
        .sandbox()
        .state
        .store
        .read(|data| data.invitations.len());
    for count in [51, 20_000] {
        let emails: Vec<String> = (0..count).map(|n| format!("p{n}@ex.io")).collect();
        common::reset_sandbox_stats(&app.sandbox_url).await;
        let refused = browser
            .call(invite(&emails.join(","), &[&viewer]))
            .await
            .unwrap_err();
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{count}");
        let ApiError::Validation(fields) = &refused.error else {
            panic!("{refused:?}")
        };
        assert_eq!(fields[0].field, "emails");
        assert_eq!(
            fields[0].message,
            format!("Invite at most 50 people at once; this list has {count} entries.")
        );
        assert_eq!(
            common::sandbox_stats(&app.sandbox_url).await["api_requests"],
            0,
            "nothing was asked of the API"
        );
    }
    let invitations_after = app
        .sandbox()
        .state
        .store
        .read(|data| data.invitations.len());
    assert_eq!(invitations_before, invitations_after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_report_every_address_and_can_be_resent_and_revoked() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let viewer = role_id(&browser, "Viewer").await;
    let no_role = browser
        .call(invite("new@example.com", &[]))
        .await
        .unwrap_err();
    assert_eq!(
        no_role.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no role chosen: {no_role:?}"
    );

    let sent = browser
        .call(invite(
            "new@example.com, ben@acme-markets.example; not-an-email, NEW@example.com",
            &[&viewer],
        ))
        .await
        .unwrap();
    assert_eq!(
        outcomes(&sent),
        [
            ("new@example.com", true),
            ("ben@acme-markets.example", false),
            ("not-an-email", false),
            ("NEW@example.com", false)
        ]
    );
    let pending = members(&browser, None, None).await.invitations.unwrap();
    let invitation = pending
        .iter()
        .find(|invitation| invitation.invitee_email == "new@example.com")
        .unwrap();
    assert_eq!(invitation.roles, ["Viewer"]);
    assert_eq!(invitation.role_names, ["Viewer"]);
    assert_eq!(invitation.expires_label, "in 7 days");
    assert!(
        pending
            .iter()
            .any(|invitation| invitation.expires_label.ends_with("hours")),
        "one expires within 4 hours"
    );

    // Resending revokes the link already sent: confirmed first, and nothing changes until then.
    let resend = |confirm: Option<String>| ResendInvitation {
        id: invitation.id.clone(),
        confirm,
    };
    let unconfirmed = browser.call(resend(None)).await.unwrap_err();
    let warning = unconfirmed.needs_confirmation();
    assert!(
        warning.contains("The link sent to new@example.com stops working"),
        "{warning}"
    );
    let still = members(&browser, None, None).await.invitations.unwrap();
    assert!(still.iter().any(|pending| pending.id == invitation.id));
    let resent = browser
        .call(resend(Some(confirmation_code(&[resend_warning(
            "new@example.com",
        )]))))
        .await
        .unwrap();
    assert_ne!(resent.id, invitation.id);
    assert_eq!(resent.roles, ["Viewer"]);
    let revoke = |confirm: Option<&str>| RevokeInvitation {
        id: resent.id.clone(),
        confirm: confirm.map(str::to_owned),
    };
    let unconfirmed = browser.call(revoke(None)).await.unwrap_err();
    assert_eq!(unconfirmed.status, StatusCode::PRECONDITION_REQUIRED);
    browser
        .call(revoke(Some(&confirmation_code(&[revocation_warning()]))))
        .await
        .unwrap();
    assert_eq!(
        members(&browser, None, None)
            .await
            .invitations
            .unwrap()
            .len(),
        2,
        "back to the seeded two"
    );
    // The page says how many are pending, and when the column's days are counted (UTC).
    let page = browser.get("/members").await.text().await.unwrap();
    assert!(page.contains("2 invitations pending."), "{page}");
    assert!(page.contains("Sent (UTC)"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_of_invitations_past_the_bound_says_so() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    app.sandbox().state.store.write(|data| {
        let template = data.invitations[0].clone();
        data.invitations.extend((0..MAX_INVITATIONS).map(|n| {
            keystone_sandbox::model::Invitation {
                id: format!("inv_bound_{n}"),
                invitee_email: format!("bound{n}@example.com"),
                ticket: format!("bound{n}"),
                ..template.clone()
            }
        }));
    });
    let page = browser.get("/members").await.text().await.unwrap();
    assert!(
        page.contains("At least 1,000 invitations are pending; the first 1,000 are shown."),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_change_and_members_leave_but_never_yourself_or_the_last_manager() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let developer = role_id(&browser, "Developer").await;
    let viewer = role_id(&browser, "Viewer").await;
    let ben_id = member(&browser, "ben@acme-markets.example")
        .await
        .unwrap()
        .user_id;

    let changed = browser
        .call(change_roles(&ben_id, &[&viewer, &developer]))
        .await
        .unwrap();
    let names: Vec<&str> = changed
        .roles
        .iter()
        .map(|role| role.name.as_str())
        .collect();
    assert!(
        names.contains(&"Viewer") && names.contains(&"Developer"),
        "{names:?}"
    );
    assert_eq!(
        status(browser.call(change_roles(&ben_id, &[])).await),
        StatusCode::UNPROCESSABLE_ENTITY,
        "at least one role"
    );

    let yourself = browser
        .call(change_roles(common::ADA, &[&viewer]))
        .await
        .unwrap_err();
    assert_eq!(yourself.status, StatusCode::FORBIDDEN);
    assert!(
        matches!(&yourself.error, ApiError::Forbidden(why) if why.contains("yourself")),
        "{yourself:?}"
    );
    let removed = confirmation_code(&[removal_warning()]);
    assert_eq!(
        status(browser.call(remove(common::ADA, Some(&removed))).await),
        StatusCode::FORBIDDEN
    );

    assert_eq!(
        status(browser.call(remove(&ben_id, None)).await),
        StatusCode::PRECONDITION_REQUIRED
    );
    browser.call(remove(&ben_id, Some(&removed))).await.unwrap();
    assert!(member(&browser, "ben@acme-markets.example").await.is_none());

    // Grace is the other Platform Manager: demoting her would leave Ada as the last one, which is
    // fine; then Ada (signed in) cannot be touched anyway. Demote Grace, then a viewer cannot
    // manage anything.
    let grace = member(&browser, "grace@acme-markets.example")
        .await
        .unwrap();
    browser
        .call(change_roles(&grace.user_id, &[&viewer]))
        .await
        .unwrap();
    assert_eq!(
        members(&browser, None, None).await.manager_count,
        Some(1),
        "Ada is the last Platform Manager now"
    );

    // Every change is in the activity log.
    let log = browser
        .call(LoadActivity {
            filters: ActivityFilters {
                category: Some("member".to_owned()),
                ..ActivityFilters::default()
            },
        })
        .await
        .unwrap();
    let kinds = common::activity_kinds(&log);
    assert!(
        kinds.iter().any(|kind| kind == "member.roles_updated")
            && kinds.iter().any(|kind| kind == "member.removed"),
        "{kinds:?}"
    );

    let roles = browser.call(LoadRoles {}).await.unwrap();
    let names: Vec<&str> = roles.roles.iter().map(|role| role.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Platform Manager",
            "Developer",
            "Compliance Officer",
            "Viewer"
        ]
    );
    assert_eq!(roles.member_counts.unwrap()[0], 1);
    assert!(roles.permissions.unwrap().len() >= 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_sees_the_team_read_only() {
    let app = spawn_app().await;
    let viewer = app.browser();
    viewer.sign_in_as("auth0|acme-dmitri", "").await;
    assert!(!members(&viewer, None, None).await.can_manage);
    let html = viewer.get("/members").await.text().await.unwrap();
    assert!(html.contains(r#"data-testid="read-only""#));
    assert!(!html.contains(r#"data-testid="invite-form""#));
    // The BFF does not refuse on the viewer's behalf: the API does, per address, and nothing is
    // created (so a second try meets the same refusal, not a "duplicate").
    for attempt in 1..=2 {
        let outcomes = viewer
            .call(invite("x@example.com", &["rol_viewer"]))
            .await
            .expect("the call returns per-address outcomes");
        let refusal = outcomes[0].result.clone().unwrap_err();
        assert!(
            refusal.contains("Missing permission: members:manage"),
            "attempt {attempt}: the API's 403, not a conflict: {refusal}"
        );
    }
    let invited = app.sandbox().state.store.read(|data| {
        data.invitations
            .iter()
            .any(|invitation| invitation.invitee_email == "x@example.com")
    });
    assert!(!invited, "no invitation was created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rows_dialog_is_rendered_only_when_the_address_opens_it() {
    // A page of members carries two dialogs per row; their forms are built when one is opened,
    // and without JavaScript a dialog's button is a link to the page rendered with it open.
    let app = spawn_app().await;
    let browser = app.browser();
    browser.sign_in().await;
    let ben = member(&browser, "ben@acme-markets.example").await.unwrap();
    let key = encode_component(&format!("roles:{}", ben.user_id));

    let closed = browser
        .get("/members?search=ben")
        .await
        .text()
        .await
        .unwrap();
    assert!(!closed.contains("Save roles"), "no dialog is built closed");
    assert!(!closed.contains(r#"aria-expanded="true""#));
    assert!(closed.contains(&format!(r#"id="dialog-{key}" hidden"#)));
    assert!(
        closed.contains(&format!(r#"href="?search=ben&amp;open={key}""#)),
        "the link keeps the search and names the dialog"
    );

    let open = browser
        .get(&format!("/members?search=ben&open={key}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        open.matches("Save roles").count(),
        1,
        "only the named dialog"
    );
    assert!(open.contains(&format!(r#"name="user_id" value="{}""#, ben.user_id)));
    // Its button says so, links back to the page with none open, and its body is shown.
    assert_eq!(open.matches(r#"aria-expanded="true""#).count(), 1);
    assert!(open.contains(r#"href="?search=ben""#));
    assert!(open.contains(&format!(r#"id="dialog-{key}" class="#)));
}

#[tokio::test]
async fn a_members_roles_are_sent_by_name_not_with_what_each_allows() {
    // The page names a member's roles and ticks them by id; what a role allows comes from the
    // role list. Each member's copy of every role's description and permissions was 40 % of the
    // page's data (the same value the page embeds for hydration).
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let (status, view) = browser.server_fn("members", &[]).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let held: Vec<&serde_json::Value> = view["members"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|member| member["Parsed"]["roles"].as_array().unwrap())
        .collect();
    assert!(held.len() >= 4, "the seed's members hold roles: {view}");
    for role in held {
        let mut fields: Vec<&str> = role
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        assert_eq!(fields, ["id", "name"], "{role}");
    }
    // The role list keeps what each role is and allows.
    let roles = view["roles"]["Ok"].as_array().unwrap();
    assert!(roles.iter().all(|role| role["description"]
        .as_str()
        .is_some_and(|text| !text.is_empty())));
}

/// An invitation sent whose answer never came may exist: it is reported as unconfirmed, never as
/// "not invited" (which a member would take as safe to send again). One the API refused in so many
/// words (a 503) is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_whose_answer_was_lost_is_unconfirmed_not_refused() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "method": "POST", "path_prefix": "/v1/platforms/me/invitations",
                            "times": 1, "action": { "kind": "drop_after_apply" } }] }),
    )
    .await;
    let outcomes = browser
        .call(invite("lost@example.com", &["rol_viewer"]))
        .await
        .unwrap();
    assert!(outcomes[0].result.is_err(), "{outcomes:?}");
    assert!(outcomes[0].unconfirmed, "{outcomes:?}");
    let pending = app.sandbox().state.store.read(|data| {
        data.invitations
            .iter()
            .any(|invitation| invitation.invitee_email == "lost@example.com")
    });
    assert!(
        pending,
        "the API did make it: 'not invited' would have been untrue"
    );

    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "method": "POST", "path_prefix": "/v1/platforms/me/invitations",
                            "times": 1, "action": { "kind": "status", "status": 503 } }] }),
    )
    .await;
    let outcomes = browser
        .call(invite("refused@example.com", &["rol_viewer"]))
        .await
        .unwrap();
    assert!(outcomes[0].result.is_err(), "{outcomes:?}");
    assert!(!outcomes[0].unconfirmed, "{outcomes:?}");
}

/// A role Ben holds that the role list does not name is offered in his dialog, ticked, so that a
/// save (which replaces his roles whole) does not drop it unseen. Without the role list, no
/// roles dialog is offered at all (one with nothing to tick would only mislead); removing him
/// still is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_role_the_list_does_not_name_is_kept_and_no_dialog_without_the_list() {
    let app = spawn_app().await;
    let browser = manager(&app).await;
    let roles = browser.call(LoadRoles {}).await.unwrap().roles;
    let developer = roles
        .iter()
        .position(|role| role.id == "rol_developer")
        .expect("the seeded Developer role");
    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "method": "GET", "path_prefix": "/v1/platforms/me/roles",
                            "action": { "kind": "edit_body",
                                        "pointer": format!("/items/{developer}/id"),
                                        "value": "rol_developer_v2" } }] }),
    )
    .await;
    let open = keystone_dashboard::domain::encode_component("roles:auth0|acme-ben");
    let html = browser
        .get(&format!("/members?open={open}"))
        .await
        .text()
        .await
        .unwrap();
    let dialog = &html[html.find("Roles of ").expect("Ben's roles dialog is open")..];
    let dialog = &dialog[..dialog.find("</form>").unwrap()];
    assert!(
        dialog.contains(r#"value="rol_developer" checked"#),
        "the held role has its box, ticked: {dialog}"
    );
    assert!(dialog.contains("not in the platform"), "{dialog}");

    set_faults(
        &app.sandbox_url,
        json!({ "rules": [{ "method": "GET", "path_prefix": "/v1/platforms/me/roles",
                            "action": { "kind": "status", "status": 500 } }] }),
    )
    .await;
    let html = browser.get("/members").await.text().await.unwrap();
    assert!(
        html.contains("data-testid=\"member-row\""),
        "the table stands"
    );
    assert!(
        !html.contains(">Change roles<"),
        "no roles dialog without the roles"
    );
    assert!(html.contains(">Remove<"), "removing still works");
}
