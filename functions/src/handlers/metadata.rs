//! The `metadata` member of the PATCH bodies of an organization and of a membership.

use serde::Deserialize;
use serde_json::Value;

use orgs_shared::domain::MetadataPatch;
use orgs_shared::http::{ApiError, present};

/// `{"public": {…}, "private": {…}}`, each a JSON Merge Patch of that kind, each optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadataBody {
    #[serde(default, deserialize_with = "present")]
    public: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    private: Option<Value>,
}

/// The patch a body asks for; none when it has no `metadata`.
pub fn parse(body: Option<MetadataBody>) -> Result<MetadataPatch, ApiError> {
    match body {
        None => Ok(MetadataPatch::default()),
        Some(body) => Ok(MetadataPatch::parse(body.public, body.private)?),
    }
}
