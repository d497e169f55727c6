//! Domain newtypes: values parsed once at the edge and valid from then on (parse, don't validate).

mod environment;

pub use environment::{EnvironmentSlug, EnvironmentSlugError};
