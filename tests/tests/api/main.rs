//! Integration tests: every route through HTTP, the local API Gateway adapter, the handlers and
//! the AWS SDK, against moto.

mod common;
mod contract;
mod deletion;
mod expiry;
mod invitations;
mod me;
mod openapi;
mod orgs;
mod races;
