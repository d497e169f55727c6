use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::EnvironmentSlug;

/// Everything the application shell (top bar, sidebar, environment switcher) needs to render.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShellView {
    pub platform_name: String,
    pub environments: Vec<EnvironmentChoice>,
    pub current_environment: EnvironmentSlug,
    /// `None` until someone has signed in.
    pub member: Option<MemberSummary>,
}

/// One entry of the environment switcher.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentChoice {
    pub slug: EnvironmentSlug,
    pub name: String,
    pub is_active: bool,
}

/// The signed-in member as the user menu shows them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberSummary {
    pub name: String,
    pub email: String,
}

/// Loads the shell's view model.
///
/// Until the BFF holds a session, the shell shows the three environments every platform is seeded
/// with and no signed-in member.
#[server]
pub async fn load_shell() -> Result<ShellView, ServerFnError> {
    let environment = |slug: &str, name: &str| EnvironmentChoice {
        slug: EnvironmentSlug::parse(slug).expect("static slug is valid"),
        name: name.to_owned(),
        is_active: true,
    };
    Ok(ShellView {
        platform_name: "KeyStone OS".to_owned(),
        environments: vec![
            environment("development", "Development"),
            environment("staging", "Staging"),
            environment("production", "Production"),
        ],
        current_environment: EnvironmentSlug::parse("development").expect("static slug is valid"),
        member: None,
    })
}
