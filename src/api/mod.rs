//! What the browser and the server share: view models and the server functions that produce them.
//!
//! Server functions are the only way the WASM bundle reaches the BFF. They run on the server,
//! where the session and its tokens live; what they return is all the browser ever sees. Every
//! server function that changes something is a POST (the default), so the CSRF check covers it.

mod activity;
pub(crate) mod allowlist;
mod confirmation;
mod environments;
mod error;
mod members;
mod overview;
pub mod permissions;
mod resources;
mod settings;
mod shell;
mod upstream_check;
mod webhooks;

pub use activity::*;
pub use allowlist::*;
pub use confirmation::{confirmation_code, confirms, Warning};
pub use environments::*;
pub use error::{ApiError, FieldError};
pub use members::*;
pub use overview::*;
pub use permissions::{permission_label, permits, vocabulary_known};
pub use resources::*;
pub use settings::*;
pub use shell::*;
pub use upstream_check::*;
pub use webhooks::*;
