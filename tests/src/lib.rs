//! The local stack: moto as the local AWS, the table and sender provisioned from the SAM
//! template, dev tokens standing in for the JWT authorizer, an HTTP server that hands each
//! request to the same handler a Lambda function runs, in API Gateway's payload 2.0 shape, and a
//! reader of the table's stream that feeds the event publisher as Lambda would.

pub mod accept_page;
pub mod aws;
pub mod conflicts;
pub mod cors;
pub mod counting;
pub mod delivery;
pub mod dns;
pub mod faults;
pub mod gateway_path;
pub mod grants;
pub mod moto;
pub mod provision;
pub mod server;
pub mod stream;
pub mod timeouts;
pub mod token;

use std::path::PathBuf;

/// The workspace root, where `infra/` and `tests/` live.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}
