//! The identity provider's HTML pages (sign-in, invitation, errors), rendered with maud (escaped by default).

use maud::{html, Markup, DOCTYPE};

const STYLE: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#eef1f6;color:#17202e;margin:0;
display:grid;place-items:center;min-height:100vh}
main{background:#fff;border-radius:12px;box-shadow:0 8px 30px rgb(16 24 40/12%);padding:32px;width:min(460px,92vw)}
h1{font-size:20px;margin:0 0 4px}p{margin:0 0 16px;color:#5b6576}
.badge{display:inline-block;font-size:11px;font-weight:700;letter-spacing:.05em;text-transform:uppercase;color:#9a6700;
background:#fff6db;border-radius:4px;padding:2px 6px;margin-bottom:12px}
ul{list-style:none;padding:0;margin:0;display:grid;gap:8px}
button{width:100%;text-align:left;font:inherit;border:1px solid #e3e6eb;background:#fff;border-radius:8px;padding:10px 12px;
cursor:pointer;display:grid;gap:2px}
button:hover,button:focus-visible{border-color:#1f3a8a;outline:none;box-shadow:0 0 0 3px #e8edfb}
.name{font-weight:600}.email{color:#5b6576;font-size:13px}.roles{font-size:12px;color:#1f3a8a}
.outsider .roles{color:#b42318}.error h1{color:#b42318}
.primary{background:#1f3a8a;color:#fff;text-align:center;font-weight:600}
"#;

fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // No icon to fetch: browsers would otherwise log a 404 for /favicon.ico.
                link rel="icon" href="data:,";
                title { (title) " · KeyStone sandbox" }
                style { (maud::PreEscaped(STYLE)) }
            }
            body { main { span.badge { "Sandbox identity provider" } (body) } }
        }
    }
}

/// One person the tester may sign in as.
pub struct Choice {
    pub user_id: String,
    pub name: String,
    pub email: String,
    /// Role names; empty for someone outside the platform.
    pub roles: Vec<String>,
}

/// `action` is where the choice is posted (the profile's decision path).
pub fn sign_in(
    action: &str,
    login_id: &str,
    organization_name: &str,
    choices: &[Choice],
) -> Markup {
    layout(
        "Sign in",
        html! {
            h1 { "Sign in to " (organization_name) }
            p { "Pick who you are. Each person signs in with the roles shown." }
            form method="post" action=(action) {
                input type="hidden" name="login" value=(login_id);
                ul {
                    @for choice in choices {
                        li class=[choice.roles.is_empty().then_some("outsider")] {
                            button type="submit" name="user_id" value=(choice.user_id) data-email=(choice.email) {
                                span.name { (choice.name) }
                                span.email { (choice.email) }
                                span.roles {
                                    @if choice.roles.is_empty() { "Not a member of " (organization_name) }
                                    @else { (choice.roles.join(", ")) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

pub fn accept_invitation(
    action: &str,
    login_id: &str,
    organization_name: &str,
    email: &str,
    roles: &[String],
) -> Markup {
    layout(
        "Accept invitation",
        html! {
            h1 { "Join " (organization_name) }
            p { "You were invited as " strong { (roles.join(", ")) } "." }
            form method="post" action=(action) {
                input type="hidden" name="login" value=(login_id);
                input type="hidden" name="accept_invitation" value="true";
                button.primary type="submit" { "Accept and sign in as " (email) }
            }
        },
    )
}

pub fn error(title: &str, message: &str) -> Markup {
    layout(
        title,
        html! { div.error { h1 { (title) } p { (message) } } },
    )
}

/// Auth0's logout confirmation: shown when a logout request names no current session.
pub fn confirm_logout(action: &str, fields: &[(&str, &str)]) -> Markup {
    layout(
        "Sign out?",
        html! {
            h1 { "Sign out of the KeyStone sandbox?" }
            p { "The application asked to end your session here." }
            form method="post" action=(action) {
                @for (name, value) in fields {
                    input type="hidden" name=(name) value=(value);
                }
                button.primary type="submit" { "Sign out" }
            }
        },
    )
}

pub fn message(title: &str, message: &str) -> Markup {
    layout(title, html! { h1 { (title) } p { (message) } })
}
