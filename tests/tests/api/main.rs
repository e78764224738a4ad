//! Integration tests: every route through HTTP, the local API Gateway adapter, the handlers and
//! the AWS SDK, against moto.

mod audit;
mod bus;
mod common;
mod contract;
mod deletion;
mod events;
mod me;
mod openapi;
mod orgs;
mod races;
