//! What the browser and the server share: view models and the server functions that produce them.
//!
//! Server functions are the only way the WASM bundle reaches the BFF. They run on the server,
//! where the session and its tokens live; what they return is all the browser ever sees.

mod shell;

pub use shell::*;
