//! KeyStone API resources as the dashboard reads them (field names as on the wire). Fields the
//! dashboard does not use are left out; unknown fields are ignored, so API additions are harmless.

use serde::{Deserialize, Serialize};

use crate::domain::EnvironmentSlug;

/// One page of a list endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: u64,
    pub offset: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlatformRecord {
    pub id: String,
    pub name: String,
    pub slug: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub logo_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentRecord {
    pub id: String,
    pub name: String,
    pub slug: EnvironmentSlug,
    pub is_active: bool,
}
