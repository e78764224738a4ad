//! The orgs library: the domain (pure rules), the store (the only code that knows the DynamoDB
//! key layout), mail, events, and the HTTP glue shared by every function.

pub mod app;
pub mod budget;
pub mod dns;
pub mod domain;
pub mod events;
pub mod http;
pub mod idempotency;
pub mod idp;
pub mod logs;
pub mod mail;
pub mod store;
