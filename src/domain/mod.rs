//! Domain newtypes: values parsed once at the edge and valid from then on (parse, don't validate).

mod environment;
mod return_to;

pub use environment::{EnvironmentSlug, EnvironmentSlugError};
pub use return_to::ReturnTo;
